//! `report check`: validates the whole project without data and without network.
//!
//! Reads `report.toml`, plans every `queries/*.sql` with DataFusion against empty tables that
//! have the warehouse's schemas (derived from the attribute schemas, never from data), finds
//! dependency cycles, and checks every `reports/*.toml` and `queries/*.expect.toml`: keys,
//! chart kinds, the queries they name, the columns they read (present in the planned result,
//! with a type that fits the chart) and the expectations. Every problem is collected, each
//! with its file and, where there is one, its line.
//!
//! It also warns about every published query (one a panel shows) whose order is not total:
//! no `ORDER BY`, or one that leaves rows with equal keys in any order ([`unordered`]). Such a
//! result's CSV and table order can differ between builds, and `report diff` compares it as
//! a multiset ([`orders`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;

use crate::chart::Need;
use crate::config::Overrides;
use crate::definition::PanelLines;
use crate::expect::Expectation;
use crate::formats::TableDef;
use crate::project::{self, Definitions};
use crate::query::{self, Kind, Query, Table};

pub use crate::problem::Problem;

/// What `report check` found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Sorted by file, then line.
    pub problems: Vec<Problem>,
    /// What does not stop a build but makes it less than reproducible: published queries
    /// whose order is not total. Sorted by file.
    pub warnings: Vec<Problem>,
    pub queries: usize,
    pub reports: usize,
    pub panels: usize,
    pub expectations: usize,
}

impl Checked {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Files with at least one problem.
    pub fn files(&self) -> usize {
        self.problems
            .iter()
            .map(|p| &p.file)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// Checks the project of the config file `config`: the project loader's problems, then every
/// query planned against empty tables and every panel and expectation against the planned
/// results.
pub async fn check(config: &Path, overrides: &Overrides) -> Checked {
    let loaded = project::load(config, overrides);
    let mut problems = loaded.problems;
    let catalog = match &loaded.settings {
        Some(s) => s.catalog.clone(),
        None => crate::formats::default_catalog(),
    };
    let defs = &loaded.definitions;
    let planned = Planned::plan(&defs.queries, &catalog, &mut problems).await;
    let mut checked = Checked {
        queries: defs.queries.len(),
        reports: defs.reports.len(),
        ..Checked::default()
    };
    checked.panels += planned.check_reports(defs, &mut problems).await;
    checked.expectations += defs
        .reports
        .iter()
        .flat_map(|r| &r.panels)
        .map(|p| p.expect.len())
        .sum::<usize>();
    for file in &defs.expectations {
        checked.expectations += file.expect.len();
        let Some(table) = planned.planned.get(&file.query) else {
            // No such query (the loader says so), or one with problems of its own.
            continue;
        };
        for (j, e) in file.expect.iter().enumerate() {
            let label = format!("expectation {} ({e})", j + 1);
            let line = file.lines.get(j).copied();
            let at = (file.path.as_path(), line);
            planned
                .check_expectation(e, &file.query, table, at, &label, &mut problems)
                .await;
        }
    }
    let published: BTreeSet<&str> = defs
        .reports
        .iter()
        .flat_map(|r| &r.panels)
        .map(|p| p.query.as_str())
        .collect();
    let mut warnings: Vec<Problem> = defs
        .queries
        .iter()
        .filter(|q| published.contains(q.name.as_str()))
        .filter_map(|q| {
            let why = planned.unordered.get(&q.name)?.as_ref()?;
            Some(Problem::new(
                &q.path,
                Some(order_line(&q.sql)),
                format!(
                    "warning: {why}, so its CSV and table can list them in another order on every build; order by columns that identify a row"
                ),
            ))
        })
        .collect();
    for list in [&mut problems, &mut warnings] {
        for p in list.iter_mut() {
            if let Ok(rest) = p.file.strip_prefix(".") {
                p.file = rest.to_path_buf();
            }
            p.message = p.message.trim().replace(" ./", " ");
        }
        list.sort();
        list.dedup();
    }
    checked.problems = problems;
    checked.warnings = warnings;
    checked
}

/// For every query that plans (against empty tables of `catalog`), whether its order is total:
/// `report diff` compares the others as multisets.
pub async fn orders(queries: &[Query], catalog: &[TableDef]) -> BTreeMap<String, bool> {
    let planned = Planned::plan(queries, catalog, &mut Vec::new()).await;
    planned
        .unordered
        .into_iter()
        .map(|(name, why)| (name, why.is_none()))
        .collect()
}

/// Why the rows of `plan`'s result have no one order, or `None` when they have: its top
/// `ORDER BY` keys, with what they determine (DataFusion's functional dependencies: a
/// `GROUP BY`'s keys determine the row), identify a row, or cover every column (rows equal in
/// them are equal), or the result is at most one row (an aggregate without `GROUP BY`).
pub fn unordered(plan: &LogicalPlan) -> Option<String> {
    match plan {
        LogicalPlan::Projection(p) => unordered(&p.input),
        LogicalPlan::SubqueryAlias(a) => unordered(&a.input),
        LogicalPlan::Limit(l) => unordered(&l.input),
        LogicalPlan::Aggregate(a) if a.group_expr.is_empty() => None,
        LogicalPlan::Sort(sort) => {
            let schema = sort.input.schema();
            let n = schema.fields().len();
            let mut known: BTreeSet<usize> = sort
                .expr
                .iter()
                .filter_map(|e| match &e.expr {
                    datafusion::prelude::Expr::Column(c) => schema.index_of_column(c).ok(),
                    _ => None,
                })
                .collect();
            let deps = schema.functional_dependencies();
            loop {
                if known.len() >= n
                    || deps.iter().any(|d| {
                        d.mode == datafusion::common::Dependency::Single
                            && d.source_indices.iter().all(|i| known.contains(i))
                    })
                {
                    return None;
                }
                let before = known.len();
                for d in deps.iter() {
                    if d.source_indices.iter().all(|i| known.contains(i)) {
                        known.extend(d.target_indices.iter().copied());
                    }
                }
                if known.len() == before {
                    break;
                }
            }
            let keys: Vec<String> = sort.expr.iter().map(|e| e.expr.to_string()).collect();
            Some(format!(
                "its ORDER BY {} leaves rows equal in them in no fixed order",
                keys.join(", ")
            ))
        }
        _ => Some("its rows come in no fixed order (no ORDER BY)".to_string()),
    }
}

/// The line of a query's last `ORDER BY`, or its last line of SQL (where one would go).
fn order_line(sql: &str) -> usize {
    let code = |l: &str| l.split("--").next().unwrap_or("").to_ascii_uppercase();
    let lines: Vec<String> = sql.lines().map(code).collect();
    let words = |l: &String| l.split_whitespace().collect::<Vec<_>>().join(" ");
    lines
        .iter()
        .rposition(|l| words(l).contains("ORDER BY"))
        .or_else(|| lines.iter().rposition(|l| !l.trim().is_empty()))
        .map_or(1, |i| i + 1)
}

/// The queries, planned: their result columns, or why they have none.
struct Planned {
    ctx: SessionContext,
    /// Query name → file.
    files: BTreeMap<String, std::path::PathBuf>,
    /// Query name → planned result (no rows), for queries that plan.
    planned: BTreeMap<String, Table>,
    /// Query name → why its order is not total ([`unordered`]), for queries that plan.
    unordered: BTreeMap<String, Option<String>>,
}

impl Planned {
    async fn plan(queries: &[Query], catalog: &[TableDef], problems: &mut Vec<Problem>) -> Planned {
        let ctx = query::new_context();
        if let Err(e) = query::register_empty_warehouse(&ctx, catalog) {
            let file = queries.first().map_or(Path::new("queries"), |q| &q.path);
            problems.push(Problem::new(
                file,
                None,
                format!("cannot register the warehouse tables: {e:#}"),
            ));
        }
        let files: BTreeMap<String, std::path::PathBuf> = queries
            .iter()
            .map(|q| (q.name.clone(), q.path.clone()))
            .collect();
        let sql: BTreeMap<&str, &Query> = queries.iter().map(|q| (q.name.as_str(), q)).collect();
        // Each query's dependencies on other queries.
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut broken: BTreeSet<String> = BTreeSet::new();
        for q in queries {
            match query::reads(&ctx, &q.sql) {
                Ok(refs) => {
                    deps.insert(
                        q.name.clone(),
                        refs.into_iter().filter(|t| files.contains_key(t)).collect(),
                    );
                }
                Err(e) => {
                    problems.push(Problem::new(
                        &q.path,
                        query::error_line(&e, &q.sql),
                        format!("SQL does not parse: {}", query::error_message(&e)),
                    ));
                    broken.insert(q.name.clone());
                }
            }
        }
        // Cycles: strongly connected groups of more than one query, or a query reading itself.
        let reach = |from: &str| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_string()];
            while let Some(n) = stack.pop() {
                for d in deps.get(&n).into_iter().flatten() {
                    if seen.insert(d.clone()) {
                        stack.push(d.clone());
                    }
                }
            }
            seen
        };
        let reachable: BTreeMap<&String, BTreeSet<String>> =
            deps.keys().map(|n| (n, reach(n))).collect();
        let mut in_cycle: BTreeSet<String> = BTreeSet::new();
        for (name, r) in &reachable {
            if !r.contains(*name) || in_cycle.contains(*name) {
                continue;
            }
            let members: BTreeSet<String> = r
                .iter()
                .filter(|m| reachable.get(m).is_some_and(|rm| rm.contains(*name)))
                .cloned()
                .collect();
            let path = cycle_path(name, &members, &deps);
            let shown: Vec<String> = path
                .iter()
                .map(|n| files[n].display().to_string())
                .collect();
            for m in &members {
                problems.push(Problem::new(
                    &files[m],
                    None,
                    format!("queries read each other in a cycle: {}", shown.join(" → ")),
                ));
            }
            in_cycle.extend(members);
        }
        broken.extend(in_cycle);
        // Plan in dependency order; a query reading a broken one is not planned.
        let mut planned: BTreeMap<String, Table> = BTreeMap::new();
        let mut unordered: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut done: BTreeSet<String> = broken.clone();
        loop {
            let ready: Vec<String> = deps
                .iter()
                .filter(|(n, d)| !done.contains(*n) && d.iter().all(|x| done.contains(x)))
                .map(|(n, _)| n.clone())
                .collect();
            if ready.is_empty() {
                break;
            }
            for name in ready {
                done.insert(name.clone());
                let q = sql[name.as_str()];
                let bad: Vec<String> = deps[&name]
                    .iter()
                    .filter(|d| broken.contains(*d))
                    .map(|d| files[d].display().to_string())
                    .collect();
                if !bad.is_empty() {
                    problems.push(Problem::new(
                        &q.path,
                        None,
                        format!(
                            "not planned: it reads {}, which has a problem",
                            bad.join(", ")
                        ),
                    ));
                    broken.insert(name);
                    continue;
                }
                match ctx.sql(&q.sql).await {
                    Ok(df) => {
                        let schema = df.schema().inner().clone();
                        let table = Table::from_batches(&schema, &[]).unwrap_or_default();
                        // When its own plan does not show the order total, optimised: the
                        // views it reads are inlined with what they know.
                        let why = self::unordered(df.logical_plan()).and_then(|why| {
                            match df.clone().into_optimized_plan() {
                                Ok(plan) => self::unordered(&plan),
                                Err(_) => Some(why),
                            }
                        });
                        unordered.insert(name.clone(), why);
                        if let Err(e) = ctx.register_table(name.as_str(), df.into_view()) {
                            problems.push(Problem::new(
                                &q.path,
                                None,
                                format!("cannot register the view: {e}"),
                            ));
                        }
                        planned.insert(name, table);
                    }
                    Err(e) => {
                        problems.push(Problem::new(
                            &q.path,
                            query::error_line(&e, &q.sql),
                            format!("query does not plan: {}", query::error_message(&e)),
                        ));
                        broken.insert(name);
                    }
                }
            }
        }
        Planned {
            ctx,
            files,
            planned,
            unordered,
        }
    }

    /// Checks every panel of every report against the planned results; returns the panels.
    async fn check_reports(&self, defs: &Definitions, problems: &mut Vec<Problem>) -> usize {
        let mut panels = 0;
        for report in &defs.reports {
            let path = report.path.as_path();
            for (panel, lines) in report.panels.iter().zip(&report.lines) {
                panels += 1;
                let label = format!("panel {} ({:?})", lines.number, panel.title);
                let Some(table) = self.result_of(&panel.query, path, lines, &label, problems)
                else {
                    continue;
                };
                for (key, column) in panel.chart.columns() {
                    let need = panel.chart.needs(key);
                    if let Some(message) = column_problem(table, &panel.query, key, column, need) {
                        problems.push(Problem::new(
                            path,
                            Some(lines.of(key)),
                            format!("{label}: {message}"),
                        ));
                    }
                }
                if let Some(message) = crate::privacy::requirement(panel, &table.columns) {
                    problems.push(Problem::new(
                        path,
                        Some(lines.of("query")),
                        format!("{label}: {message}"),
                    ));
                }
                for (j, e) in panel.expect.iter().enumerate() {
                    let line = lines.expect.get(j).copied().unwrap_or(lines.header);
                    let label = format!("{label}: expectation {} ({e})", j + 1);
                    self.check_expectation(
                        e,
                        &panel.query,
                        table,
                        (path, Some(line)),
                        &label,
                        problems,
                    )
                    .await;
                }
            }
        }
        panels
    }

    /// The planned result of `query`, or a problem saying why there is none.
    fn result_of(
        &self,
        query: &str,
        file: &Path,
        lines: &PanelLines,
        label: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<&Table> {
        if let Some(t) = self.planned.get(query) {
            return Some(t);
        }
        if !self.files.contains_key(query) {
            problems.push(Problem::new(
                file,
                Some(lines.of("query")),
                format!("{label}: no query named {query:?} (queries/{query}.sql)"),
            ));
        }
        // A query with problems of its own: they are listed with its file.
        None
    }

    async fn check_expectation(
        &self,
        e: &Expectation,
        query: &str,
        table: &Table,
        (file, line): (&Path, Option<usize>),
        label: &str,
        problems: &mut Vec<Problem>,
    ) {
        let numeric: BTreeSet<&str> = e.numeric_columns().iter().map(|(_, c)| *c).collect();
        for (key, column) in e.columns() {
            let need = if numeric.contains(column) {
                Need::Numeric
            } else {
                Need::Any
            };
            if let Some(message) = column_problem(table, query, key, column, need) {
                problems.push(Problem::new(file, line, format!("{label}: {message}")));
            }
        }
        if let crate::expect::Rule::Sql { sql } = &e.rule
            && let Err(err) = self.ctx.sql(sql).await
        {
            problems.push(Problem::new(
                file,
                line,
                format!(
                    "{label}: the SQL does not plan: {}",
                    query::error_message(&err)
                ),
            ));
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "an integer",
        Kind::Float => "a number",
        Kind::Bool => "a boolean",
        Kind::Text => "text",
        Kind::Date => "a date",
        Kind::Time => "a timestamp",
    }
}

fn column_problem(
    table: &Table,
    query: &str,
    key: &str,
    column: &str,
    need: Need,
) -> Option<String> {
    let Some(i) = table.index_of(column) else {
        let have: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        return Some(format!(
            "{key} = {column:?} is not a column of query {query} (it has: {})",
            have.join(", ")
        ));
    };
    let kind = table.columns[i].kind;
    let fits = match need {
        Need::Any => true,
        Need::Numeric => kind.is_numeric(),
        Need::Temporal => kind.is_temporal(),
    };
    (!fits).then(|| {
        format!(
            "{key} = {column:?} is {} in query {query}, but {key} must be {}",
            kind_name(kind),
            match need {
                Need::Temporal => "a date or timestamp",
                _ => "numeric",
            }
        )
    })
}

/// The shortest path `start → … → start` through `members`, by name order on ties.
fn cycle_path(
    start: &str,
    members: &BTreeSet<String>,
    deps: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for d in deps.get(n).into_iter().flatten() {
            if d == start {
                let mut back = Vec::new();
                let mut at = n;
                while at != start {
                    back.push(at.to_string());
                    at = previous.get(at).copied().unwrap_or(start);
                }
                back.reverse();
                let mut path = vec![start.to_string()];
                path.extend(back);
                path.push(start.to_string());
                return path;
            }
            if members.contains(d) && !previous.contains_key(d.as_str()) {
                previous.insert(d, n);
                queue.push_back(d);
            }
        }
    }
    vec![start.to_string(), start.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_shown_as_a_path() {
        let deps: BTreeMap<String, BTreeSet<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a", "d"]),
            ("d", vec![]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        let members = ["a", "b", "c"].into_iter().map(String::from).collect();
        assert_eq!(cycle_path("a", &members, &deps), vec!["a", "b", "c", "a"]);
    }

    #[tokio::test]
    async fn sql_errors_carry_their_line() {
        let ctx = query::new_context();
        let sql = "SELECT 1\nFROM t\nWHERE x = = 2";
        let err = query::reads(&ctx, sql).expect_err("parse error");
        assert_eq!(query::error_line(&err, sql), Some(3), "{err}");
        let message = query::error_message(&err);
        assert!(!message.contains("Line:"), "{message}");
        query::register_empty_warehouse(&ctx, &crate::formats::default_catalog()).expect("tables");
        let sql = "SELECT date,\n  nope\nFROM sessions";
        let err = ctx.sql(sql).await.expect_err("unknown column");
        assert_eq!(query::error_line(&err, sql), Some(2), "{err}");
        assert!(query::error_message(&err).contains("nope"));
    }
}
