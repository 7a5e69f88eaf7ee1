//! `report check`: validates the whole project without data and without network.
//!
//! Reads `report.toml`, plans every `queries/*.sql` with DataFusion against empty tables that
//! have the warehouse's schemas (derived from the attribute schemas, never from data), finds
//! dependency cycles, and checks every `reports/*.toml` and `queries/*.expect.toml`: keys,
//! chart kinds, the queries they name, the columns they read (present in the planned result,
//! with a type that fits the chart) and the expectations. Every problem is collected, each
//! with its file and, where there is one, its line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use datafusion::common::config::Dialect;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use regex::Regex;
use serde::Deserialize;

use crate::chart::Need;
use crate::config::{Overrides, Settings};
use crate::definition;
use crate::expect::{Expectation, FILE_SUFFIX, QueryExpectations};
use crate::query::{Kind, Table};
use crate::warehouse::tables::AbacusSchemas;

/// One thing wrong with the project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line, where the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// What `report check` found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Sorted by file, then line.
    pub problems: Vec<Problem>,
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

/// Checks the project of the config file `config`.
pub async fn check(config: &Path, overrides: &Overrides) -> Checked {
    let mut problems = Vec::new();
    let root = match config.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (queries_dir, reports_dir, schemas) = match std::fs::read_to_string(config) {
        Err(e) => {
            problems.push(Problem {
                file: config.to_path_buf(),
                line: None,
                message: format!("cannot read the config file: {e}"),
            });
            (
                root.join("queries"),
                root.join("reports"),
                AbacusSchemas::batect(),
            )
        }
        Ok(_) => match Settings::load(config, overrides) {
            Ok(s) => {
                let schemas = match crate::pipeline::schemas(&s) {
                    Ok(schemas) => schemas,
                    Err(e) => {
                        problems.push(Problem {
                            file: config.to_path_buf(),
                            line: None,
                            message: format!("{e:#}"),
                        });
                        AbacusSchemas::batect()
                    }
                };
                (s.queries, s.reports, schemas)
            }
            Err(e) => {
                let text = std::fs::read_to_string(config).unwrap_or_default();
                problems.push(toml_problem(config, &text, &e));
                (
                    root.join("queries"),
                    root.join("reports"),
                    AbacusSchemas::batect(),
                )
            }
        },
    };
    let mut checked = Checked::default();
    let project = Project::plan(&queries_dir, &schemas, &mut problems).await;
    checked.queries = project.files.len();
    for path in files(&reports_dir, ".toml", &mut problems) {
        checked.reports += 1;
        let (panels, expectations) = project.check_report(&path, &mut problems).await;
        checked.panels += panels;
        checked.expectations += expectations;
    }
    for path in files(&queries_dir, FILE_SUFFIX, &mut problems) {
        checked.expectations += project.check_expect_file(&path, &mut problems).await;
    }
    for p in &mut problems {
        if let Ok(rest) = p.file.strip_prefix(".") {
            p.file = rest.to_path_buf();
        }
        p.message = p.message.trim().replace(" ./", " ");
    }
    problems.sort();
    problems.dedup();
    checked.problems = problems;
    checked
}

/// Files of `dir` whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut out: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
                })
                .collect();
            out.sort();
            out
        }
        Err(e) => {
            problems.push(Problem {
                file: dir.to_path_buf(),
                line: None,
                message: format!("cannot read the folder: {e}"),
            });
            Vec::new()
        }
    }
}

/// A problem from an error whose chain may hold a TOML error with a position.
fn toml_problem(file: &Path, text: &str, err: &anyhow::Error) -> Problem {
    let toml_err = err
        .chain()
        .find_map(|c| c.downcast_ref::<toml::de::Error>());
    match toml_err {
        Some(t) => Problem {
            file: file.to_path_buf(),
            line: t.span().map(|s| line_of(text, s.start)),
            message: t.message().trim().to_string(),
        },
        None => Problem {
            file: file.to_path_buf(),
            line: None,
            message: strip_file(&format!("{err:#}"), file),
        },
    }
}

/// Messages from the loaders start with the file's name; the problem already says it.
fn strip_file(message: &str, file: &Path) -> String {
    let prefix = format!("{}: ", file.display());
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

static POSITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?: at)? Line: (\d+), Column: (\d+)").expect("valid regex"));
static UNKNOWN_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"unknown field `([^`]+)`").expect("valid regex"));
static BACKTICKED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`([A-Za-z_][A-Za-z0-9_]*)`").expect("valid regex"));

/// The line of a DataFusion error: its diagnostic's span, else a parser position.
fn sql_line(err: &DataFusionError) -> Option<usize> {
    if let Some(span) = err.diagnostic().and_then(|d| d.span)
        && span.start.line > 0
    {
        return Some(span.start.line as usize);
    }
    POSITION
        .captures(&err.to_string())
        .and_then(|c| c[1].parse().ok())
}

/// One line of a DataFusion error, without the parser's position (the line says it).
fn sql_message(err: &DataFusionError) -> String {
    let text = err.to_string();
    let text = POSITION.replace_all(&text, "");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn new_context() -> SessionContext {
    let config = SessionConfig::new()
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        .set_bool("datafusion.sql_parser.collect_spans", true)
        .with_information_schema(false);
    SessionContext::new_with_config(config)
}

/// The queries, planned: their result columns, or why they have none.
struct Project {
    ctx: SessionContext,
    /// Query name → file.
    files: BTreeMap<String, PathBuf>,
    /// Query name → planned result (no rows), for queries that plan.
    planned: BTreeMap<String, Table>,
}

impl Project {
    async fn plan(dir: &Path, schemas: &AbacusSchemas, problems: &mut Vec<Problem>) -> Project {
        let ctx = new_context();
        if let Err(e) = crate::query::register_empty_warehouse(&ctx, schemas) {
            problems.push(Problem {
                file: dir.to_path_buf(),
                line: None,
                message: format!("cannot register the warehouse tables: {e:#}"),
            });
        }
        let mut files_by_name = BTreeMap::new();
        let mut sql = BTreeMap::new();
        for path in files(dir, ".sql", problems) {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
                continue;
            };
            if !is_identifier(&name) {
                problems.push(Problem {
                    file: path.clone(),
                    line: None,
                    message: "a query's file name is its view name, so it must be lower-case letters, digits and '_', starting with a letter".into(),
                });
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    sql.insert(name.clone(), text);
                }
                Err(e) => problems.push(Problem {
                    file: path.clone(),
                    line: None,
                    message: format!("cannot read: {e}"),
                }),
            }
            files_by_name.insert(name, path);
        }
        // Parse and find each query's dependencies on other queries.
        let state = ctx.state();
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut broken: BTreeSet<String> = BTreeSet::new();
        for (name, text) in &sql {
            let file = files_by_name[name].clone();
            let statement = match state.sql_to_statement(text, &Dialect::Generic) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(Problem {
                        file,
                        line: sql_line(&e),
                        message: format!("SQL does not parse: {}", sql_message(&e)),
                    });
                    broken.insert(name.clone());
                    continue;
                }
            };
            match state.resolve_table_references(&statement) {
                Ok(refs) => {
                    deps.insert(
                        name.clone(),
                        refs.iter()
                            .map(|r| r.table().to_string())
                            .filter(|t| files_by_name.contains_key(t))
                            .collect(),
                    );
                }
                Err(e) => {
                    problems.push(Problem {
                        file,
                        line: sql_line(&e),
                        message: format!("cannot resolve its tables: {}", sql_message(&e)),
                    });
                    broken.insert(name.clone());
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
                .map(|n| files_by_name[n].display().to_string())
                .collect();
            for m in &members {
                problems.push(Problem {
                    file: files_by_name[m].clone(),
                    line: None,
                    message: format!("queries read each other in a cycle: {}", shown.join(" → ")),
                });
            }
            in_cycle.extend(members);
        }
        broken.extend(in_cycle);
        // Plan in dependency order; a query reading a broken one is not planned.
        let mut planned: BTreeMap<String, Table> = BTreeMap::new();
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
                let file = files_by_name[&name].clone();
                let bad: Vec<&String> =
                    deps[&name].iter().filter(|d| broken.contains(*d)).collect();
                if !bad.is_empty() {
                    let names: Vec<String> = bad
                        .iter()
                        .map(|d| files_by_name[*d].display().to_string())
                        .collect();
                    problems.push(Problem {
                        file,
                        line: None,
                        message: format!(
                            "not planned: it reads {}, which has a problem",
                            names.join(", ")
                        ),
                    });
                    broken.insert(name);
                    continue;
                }
                match ctx.sql(&sql[&name]).await {
                    Ok(df) => {
                        let schema = df.schema().inner().clone();
                        let table = Table::from_batches(&schema, &[]).unwrap_or_default();
                        if let Err(e) = ctx.register_table(name.as_str(), df.into_view()) {
                            problems.push(Problem {
                                file,
                                line: None,
                                message: format!("cannot register the view: {e}"),
                            });
                        }
                        planned.insert(name, table);
                    }
                    Err(e) => {
                        problems.push(Problem {
                            file,
                            line: sql_line(&e),
                            message: format!("query does not plan: {}", sql_message(&e)),
                        });
                        broken.insert(name);
                    }
                }
            }
        }
        Project {
            ctx,
            files: files_by_name,
            planned,
        }
    }

    /// Checks a report file; returns (panels, expectations) seen.
    async fn check_report(&self, path: &Path, problems: &mut Vec<Problem>) -> (usize, usize) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem {
                    file: path.to_path_buf(),
                    line: None,
                    message: format!("cannot read: {e}"),
                });
                return (0, 0);
            }
        };
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Top {
            title: String,
            #[serde(default)]
            description: String,
            #[serde(default)]
            panel: Vec<toml::Table>,
        }
        let top: Top = match toml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                problems.push(toml_problem(path, &text, &anyhow::Error::new(e)));
                return (0, 0);
            }
        };
        let before = problems.len();
        let headers = header_lines(&text, "panel");
        let (mut panels, mut expectations) = (0, 0);
        for (i, table) in top.panel.into_iter().enumerate() {
            panels += 1;
            let start = headers.get(i).copied().unwrap_or(1);
            let end = headers.get(i + 1).copied().unwrap_or(usize::MAX);
            let at = |key: &str| key_line(&text, key, start, end).or(Some(start));
            let title = table
                .get("title")
                .and_then(|t| t.as_str())
                .unwrap_or("")
                .to_string();
            let label = format!("panel {} ({title:?})", i + 1);
            let panel = match definition::parse_panel(table) {
                Ok(p) => p,
                Err(e) => {
                    let message = format!("{e:#}");
                    let key = UNKNOWN_FIELD
                        .captures(&message)
                        .map(|c| c[1].to_string())
                        .or_else(|| {
                            if message.contains("unknown chart kind") {
                                Some("chart".into())
                            } else {
                                BACKTICKED.captures(&message).map(|c| c[1].to_string())
                            }
                        });
                    problems.push(Problem {
                        file: path.to_path_buf(),
                        line: key.and_then(|k| at(&k)).or(Some(start)),
                        message: format!("panel {}: {message}", i + 1),
                    });
                    continue;
                }
            };
            expectations += panel.expect.len();
            let Some(table) = self.result_of(&panel.query, path, at("query"), &label, problems)
            else {
                continue;
            };
            for (key, column) in panel.chart.columns() {
                let line = at(key);
                let need = panel.chart.needs(key);
                if let Some(message) = column_problem(table, &panel.query, key, column, need) {
                    problems.push(Problem {
                        file: path.to_path_buf(),
                        line,
                        message: format!("{label}: {message}"),
                    });
                }
            }
            let expect_lines = header_lines_between(&text, "panel.expect", start, end);
            for (j, e) in panel.expect.iter().enumerate() {
                let line = expect_lines.get(j).copied().or(Some(start));
                let label = format!("{label}: expectation {} ({e})", j + 1);
                self.check_expectation(e, &panel.query, table, path, line, &label, problems)
                    .await;
            }
        }
        if problems.len() == before
            && let Err(e) = definition::Report::parse(&text, path)
        {
            problems.push(toml_problem(path, &text, &e));
        }
        (panels, expectations)
    }

    /// The planned result of `query`, or a problem saying why there is none.
    fn result_of(
        &self,
        query: &str,
        file: &Path,
        line: Option<usize>,
        label: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<&Table> {
        if let Some(t) = self.planned.get(query) {
            return Some(t);
        }
        if !self.files.contains_key(query) {
            problems.push(Problem {
                file: file.to_path_buf(),
                line,
                message: format!("{label}: no query named {query:?} (queries/{query}.sql)"),
            });
        }
        // A query with problems of its own: they are listed with its file.
        None
    }

    #[allow(clippy::too_many_arguments)]
    async fn check_expectation(
        &self,
        e: &Expectation,
        query: &str,
        table: &Table,
        file: &Path,
        line: Option<usize>,
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
                problems.push(Problem {
                    file: file.to_path_buf(),
                    line,
                    message: format!("{label}: {message}"),
                });
            }
        }
        if let crate::expect::Rule::Sql { sql } = &e.rule
            && let Err(err) = self.ctx.sql(sql).await
        {
            problems.push(Problem {
                file: file.to_path_buf(),
                line,
                message: format!("{label}: the SQL does not plan: {}", sql_message(&err)),
            });
        }
    }

    /// Checks a `queries/NAME.expect.toml`; returns the expectations seen.
    async fn check_expect_file(&self, path: &Path, problems: &mut Vec<Problem>) -> usize {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem {
                    file: path.to_path_buf(),
                    line: None,
                    message: format!("cannot read: {e}"),
                });
                return 0;
            }
        };
        let file = match QueryExpectations::parse(&text, path) {
            Ok(f) => f,
            Err(e) => {
                let mut p = toml_problem(path, &text, &e);
                if p.line.is_none() {
                    p.line = UNKNOWN_FIELD
                        .captures(&p.message)
                        .and_then(|c| key_line(&text, &c[1], 1, usize::MAX));
                }
                problems.push(p);
                return 0;
            }
        };
        let Some(table) = self.result_of(&file.query, path, None, "expectations", problems) else {
            return file.expect.len();
        };
        let lines = header_lines(&text, "expect");
        for (j, e) in file.expect.iter().enumerate() {
            let label = format!("expectation {} ({e})", j + 1);
            let line = lines.get(j).copied();
            self.check_expectation(e, &file.query, table, path, line, &label, problems)
                .await;
        }
        file.expect.len()
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

/// Lines (1-based) of the `[[name]]` headers of `text`, in order.
fn header_lines(text: &str, name: &str) -> Vec<usize> {
    header_lines_between(text, name, 1, usize::MAX)
}

fn header_lines_between(text: &str, name: &str, start: usize, end: usize) -> Vec<usize> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(n, l)| {
            *n >= start
                && *n < end
                && l.strip_prefix("[[")
                    .and_then(|l| l.split("]]").next())
                    .is_some_and(|h| h.trim() == name)
        })
        .map(|(n, _)| n)
        .collect()
}

/// The line of `key = …` between lines `start` (inclusive) and `end` (exclusive).
fn key_line(text: &str, key: &str, start: usize, end: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start()))
        .filter(|(n, _)| *n >= start && *n < end)
        .find(|(_, l)| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(n, _)| n)
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

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_headers_and_keys() {
        let text = "title = 't'\n[[panel]]\ntitle = 'a'\ny = 'x'\n[[panel.expect]]\nrows = { min = 1 }\n[[panel]]\ny='z'\n";
        assert_eq!(header_lines(text, "panel"), vec![2, 7]);
        assert_eq!(header_lines_between(text, "panel.expect", 2, 7), vec![5]);
        assert_eq!(key_line(text, "y", 2, 7), Some(4));
        assert_eq!(key_line(text, "y", 7, usize::MAX), Some(8));
        assert_eq!(key_line(text, "title", 2, 7), Some(3));
    }

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
        let ctx = new_context();
        let state = ctx.state();
        let err = state
            .sql_to_statement("SELECT 1\nFROM t\nWHERE x = = 2", &Dialect::Generic)
            .expect_err("parse error");
        assert_eq!(sql_line(&err), Some(3), "{err}");
        crate::query::register_empty_warehouse(&ctx, &AbacusSchemas::batect()).expect("tables");
        let err = ctx
            .sql("SELECT date,\n  nope\nFROM sessions")
            .await
            .expect_err("unknown column");
        assert_eq!(sql_line(&err), Some(2), "{err}");
        assert!(sql_message(&err).contains("nope"), "{}", sql_message(&err));
    }
}
