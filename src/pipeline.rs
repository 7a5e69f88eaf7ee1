//! Runs the stages in order: pull → warehouse → query → chart/site → write.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use datafusion::prelude::SessionContext;

use crate::config::Settings;
use crate::expect::{self, Failure, Origin};
use crate::formats::TableDef;
use crate::output;
use crate::project::Definitions;
use crate::pull::{self, Summary};
use crate::query::{self, Table};
use crate::site;
use crate::warehouse::Warehouse;

/// What `report build` did.
#[derive(Debug)]
pub struct Built {
    pub pull: Summary,
    pub pages: usize,
    /// What the site held back of the data, one line per panel (see `site::Site::held`).
    pub held: Vec<String>,
    pub timings: Timings,
}

/// How long a build's stages took, and each query: what `report build --timings` prints.
#[derive(Debug, Default)]
pub struct Timings {
    pub stages: Vec<(&'static str, Duration)>,
    pub queries: Vec<(String, Duration)>,
}

impl Timings {
    /// Times `f` as the stage `name`.
    async fn stage<T>(&mut self, name: &'static str, f: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.await;
        self.stages.push((name, started.elapsed()));
        out
    }
}

/// Opens the warehouse of `settings` (creating a local folder when `create`).
pub async fn open_warehouse(settings: &Settings, create: bool) -> Result<Warehouse> {
    let bucket = crate::store::open_place(
        &crate::store::Place {
            what: "warehouse".to_string(),
            url: &settings.warehouse,
            options: &settings.warehouse_options,
            prefix: None,
            warehouse: true,
            create,
        },
        settings.pull.retries,
    )?;
    Warehouse::open(bucket, &crate::config::redact(&settings.warehouse)).await
}

/// Opens a warehouse to read: one that does not exist, or holds no commit yet, is an error
/// naming it (a query over it would answer an empty result), and nothing is created.
pub async fn open_existing_warehouse(settings: &Settings) -> Result<Warehouse> {
    let warehouse = open_warehouse(settings, false).await.context(
        "nothing to read: run `report pull` first, or name another warehouse with --warehouse",
    )?;
    if warehouse.version() == 0 {
        bail!(
            "the warehouse {} holds nothing yet (no commit in its _commits/): run `report pull` first, or name another with --warehouse",
            warehouse.shown()
        );
    }
    Ok(warehouse)
}

/// `report compact`: merges small files into one per day and table, then deletes files no
/// commit names that are past the grace period.
pub async fn compact(settings: &Settings) -> Result<(crate::warehouse::Compacted, usize)> {
    let mut warehouse = open_warehouse(settings, false).await?;
    let compacted = warehouse.compact(settings.pull.target_file_bytes).await?;
    let swept = warehouse
        .sweep(chrono::Duration::seconds(
            settings.pull.grace_seconds as i64,
        ))
        .await?;
    Ok((compacted, swept))
}

/// `report verify`: the committed files that are missing or of another size than their commit
/// says; with how many files and commits were looked at.
pub async fn verify(settings: &Settings) -> Result<(usize, u64, Vec<crate::warehouse::Damage>)> {
    let warehouse = open_warehouse(settings, false).await?;
    let damaged = warehouse.verify().await?;
    Ok((warehouse.all_files().count(), warehouse.version(), damaged))
}

/// `report build`: pull (unless `pull` is false), query, render, write.
pub async fn build(settings: &Settings, defs: &Definitions, pull_first: bool) -> Result<Built> {
    build_with(settings, defs, pull_first, |_| {}).await
}

/// [`build`], handing the pull's summary to `pulled` as soon as the pull ends (the CLI prints
/// it, timed, before the queries run), over one opened warehouse.
pub async fn build_with(
    settings: &Settings,
    defs: &Definitions,
    pull_first: bool,
    pulled: impl FnOnce(&Summary),
) -> Result<Built> {
    let mut timings = Timings::default();
    let mut warehouse = timings
        .stage("open the warehouse", open_warehouse(settings, true))
        .await?;
    let summary = if pull_first {
        let summary = timings
            .stage(
                "pull",
                pull::pull(settings, &mut warehouse, pull::Options::default()),
            )
            .await?;
        pulled(&summary);
        summary
    } else {
        Summary::default()
    };
    let site = render(settings, defs, &warehouse, &mut timings).await?;
    timings
        .stage("write", async {
            output::write(&settings.output, &site.pages)
        })
        .await?;
    Ok(Built {
        pull: summary,
        pages: site.pages.len(),
        held: site.held,
        timings,
    })
}

/// `report pull`: only the ingest.
pub async fn pull_only(settings: &Settings) -> Result<Summary> {
    pull_with(settings, pull::Options::default()).await
}

/// `report pull` with its options (`--retry-quarantined`, `--rebuild`).
pub async fn pull_with(settings: &Settings, options: pull::Options) -> Result<Summary> {
    let mut warehouse = open_warehouse(settings, true).await?;
    pull::pull(settings, &mut warehouse, options).await
}

/// `report query NAME`: one query's result over the warehouse as it is.
pub async fn query_one(
    settings: &Settings,
    defs: &Definitions,
    name: &str,
) -> Result<query::Table> {
    let queries = &defs.queries;
    let Some(q) = queries.iter().find(|q| q.name == name) else {
        let names: Vec<&str> = queries.iter().map(|q| q.name.as_str()).collect();
        anyhow::bail!(
            "no query {name:?} in {} (there are: {})",
            settings.queries.display(),
            names.join(", ")
        );
    };
    let ctx = session(settings, defs).await?;
    let mut out = query::run_all(&ctx, std::slice::from_ref(q)).await?;
    Ok(out.remove(name).unwrap_or_default())
}

/// `report query --sql` or `report query FILE.sql`: ad-hoc SQL over the warehouse and the
/// project's queries (each a view by its name); `origin` names the SQL in errors.
pub async fn query_adhoc(
    settings: &Settings,
    defs: &Definitions,
    sql: &str,
    origin: &str,
) -> Result<query::Table> {
    let ctx = session(settings, defs).await?;
    query::run_sql(&ctx, sql, origin).await
}

/// A query session over the existing warehouse with every query of `defs` as a view.
async fn session(settings: &Settings, defs: &Definitions) -> Result<SessionContext> {
    let ctx = warehouse_session(settings).await?;
    query::register_views(&ctx, &defs.queries).await?;
    Ok(ctx)
}

/// A query session over the existing warehouse's tables.
async fn warehouse_session(settings: &Settings) -> Result<SessionContext> {
    let warehouse = open_existing_warehouse(settings).await?;
    let ctx = query::new_context();
    query::register_warehouse(&ctx, &warehouse, &settings.catalog)?;
    Ok(ctx)
}

/// Queries and reports over the warehouse, rendered to pages in memory. Fails, listing every
/// expectation that does not hold with its offending rows, before anything is rendered.
pub async fn render(
    settings: &Settings,
    defs: &Definitions,
    warehouse: &Warehouse,
    timings: &mut Timings,
) -> Result<site::Site> {
    let mut evaluated = timings
        .stage(
            "queries and expectations",
            evaluate(defs, warehouse, &settings.catalog),
        )
        .await?;
    timings.queries = std::mem::take(&mut evaluated.times);
    all_met(&evaluated.failures)?;
    let provenance = timings
        .stage("provenance", provenance(settings, defs, warehouse))
        .await?;
    timings
        .stage("privacy guard and pages", async {
            site::render(
                &defs.reports,
                &defs.queries,
                &evaluated.results,
                &provenance,
                settings.privacy,
            )
        })
        .await
}

/// Fails listing every expectation that does not hold with its offending rows, when one does
/// not: what stops `report build` (and `report serve`) before anything is rendered.
pub fn all_met(failures: &[Failure]) -> Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    bail!(
        "{} expectation{} not met:\n{}",
        list.len(),
        if list.len() == 1 { " is" } else { "s are" },
        list.join("\n")
    )
}

/// Where the site's data comes from, as the warehouse says (never the clock, so the same
/// warehouse gives the same pages): its highest commit; each source's first and last `date`
/// in its format's id table (whose rows name their source); and, for each report, the sources
/// whose tables its panels read through any chain of queries (`objects` belongs to every
/// source).
pub async fn provenance(
    settings: &Settings,
    defs: &Definitions,
    warehouse: &Warehouse,
) -> Result<site::Provenance> {
    let ctx = query::new_context();
    query::register_warehouse(&ctx, warehouse, &settings.catalog)?;
    let mut ranges: BTreeMap<(&str, String), (String, String)> = BTreeMap::new();
    let tables: BTreeSet<&str> = settings
        .sources
        .iter()
        .map(|s| s.format.id_column().0)
        .collect();
    for table in tables {
        if warehouse.files(table).is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT source, min(date) AS first, max(date) AS last FROM {table} GROUP BY source"
        );
        let origin = format!("the range of table {table}");
        for row in query::run_sql(&ctx, &sql, &origin).await?.rows {
            if let [source, first, last] = row.as_slice()
                && !first.is_null()
            {
                ranges.insert(
                    (table, source.to_string()),
                    (first.to_string(), last.to_string()),
                );
            }
        }
    }
    let sources: Vec<site::SourceRange> = settings
        .sources
        .iter()
        .map(|s| site::SourceRange {
            name: s.name.clone(),
            format: s.format.name().to_string(),
            range: ranges
                .get(&(s.format.id_column().0, s.name.clone()))
                .cloned(),
        })
        .collect();
    Ok(site::Provenance {
        commit: warehouse.version(),
        sources,
        reads: report_sources(settings, defs, &ctx)?,
    })
}

/// For each report (by name), the positions in `settings.sources` of the sources whose tables
/// its panels read through any chain of queries (`objects` belongs to every source); a
/// report that reads none is left out. `ctx` only parses.
pub fn report_sources(
    settings: &Settings,
    defs: &Definitions,
    ctx: &SessionContext,
) -> Result<BTreeMap<String, Vec<usize>>> {
    // What each query reads directly: tables and other queries.
    let mut reads: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for q in &defs.queries {
        let names = query::reads(ctx, &q.sql)
            .with_context(|| format!("{}: the SQL does not parse", q.path.display()))?;
        reads.insert(q.name.as_str(), names);
    }
    let mut by_report = BTreeMap::new();
    for r in &defs.reports {
        let mut seen = BTreeSet::new();
        let mut read = BTreeSet::new();
        let mut todo: Vec<&str> = r.panels.iter().map(|p| p.query.as_str()).collect();
        while let Some(q) = todo.pop() {
            if !seen.insert(q) {
                continue;
            }
            for name in reads.get(q).into_iter().flatten() {
                match reads.get_key_value(name.as_str()) {
                    Some((view, _)) => todo.push(view),
                    None => {
                        read.insert(name.as_str());
                    }
                }
            }
        }
        let of: Vec<usize> = settings
            .sources
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                read.contains("objects") || s.spec.tables().iter().any(|t| read.contains(t.name))
            })
            .map(|(i, _)| i)
            .collect();
        if !of.is_empty() {
            by_report.insert(r.name.clone(), of);
        }
    }
    Ok(by_report)
}

/// Every query's result and the expectations that do not hold.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub results: BTreeMap<String, Table>,
    pub failures: Vec<Failure>,
    /// How long each query took, in the order run.
    pub times: Vec<(String, Duration)>,
}

/// Runs every query over the warehouse and checks every expectation.
pub async fn evaluate(
    defs: &Definitions,
    warehouse: &Warehouse,
    catalog: &[TableDef],
) -> Result<Evaluated> {
    let ctx = query::new_context();
    query::register_warehouse(&ctx, warehouse, catalog)?;
    query::register_views(&ctx, &defs.queries).await?;
    let (results, times) = query::run_timed(&ctx, &defs.queries).await?;
    let failures = check_expectations(&ctx, defs, &results).await?;
    Ok(Evaluated {
        results,
        failures,
        times,
    })
}

/// Checks the expectations of every query file and panel against `results`; `sql`
/// expectations run in `ctx`, where every query is a view.
pub async fn check_expectations(
    ctx: &SessionContext,
    defs: &Definitions,
    results: &BTreeMap<String, Table>,
) -> Result<Vec<Failure>> {
    let mut stated: Vec<(Origin, &str, usize, &expect::Expectation)> = Vec::new();
    for q in &defs.expectations {
        for (i, e) in q.expect.iter().enumerate() {
            let origin = Origin::Query {
                path: q.path.clone(),
            };
            stated.push((origin, q.query.as_str(), i + 1, e));
        }
    }
    for r in &defs.reports {
        for (p, panel) in r.panels.iter().enumerate() {
            for (i, e) in panel.expect.iter().enumerate() {
                let origin = Origin::Panel {
                    report: r.path.clone(),
                    panel: p + 1,
                    title: panel.title.clone(),
                };
                stated.push((origin, panel.query.as_str(), i + 1, e));
            }
        }
    }
    let mut failures = Vec::new();
    for (origin, query, index, e) in stated {
        let assertion;
        let table = match &e.rule {
            expect::Rule::Sql { sql } => {
                let what = format!("{origin}: expectation {index}");
                assertion = query::run_sql(ctx, sql, &what).await?;
                &assertion
            }
            _ => match results.get(query) {
                Some(t) => t,
                // A panel naming no query: site::render reports it with the panel.
                None => continue,
            },
        };
        if let Some(violation) = e.evaluate(table) {
            failures.push(Failure {
                origin,
                query: query.to_string(),
                index,
                expectation: e.to_string(),
                violation,
            });
        }
    }
    Ok(failures)
}

/// `report tables`: every table of the warehouse and its columns, with how many rows carry a
/// value in each: a struct's fields one by one (`attributes.shell`), a map's keys as they come
/// (`extra_attributes['…']`: the attributes no schema knows), the `date` partition.
pub async fn tables(settings: &Settings) -> Result<Table> {
    use datafusion::arrow::datatypes::DataType;
    let ctx = warehouse_session(settings).await?;
    let mut rows = Vec::new();
    let text = |s: &str| query::Value::Text(s.to_string());
    for t in query::warehouse_tables(&settings.catalog) {
        let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        let literal = |name: &str| format!("'{}'", name.replace('\'', "''"));
        // (column as shown, type, the expression counted)
        let mut columns: Vec<(String, String, String)> = Vec::new();
        let mut maps = Vec::new();
        for f in t.schema.fields() {
            match f.data_type() {
                DataType::Struct(children) => {
                    for c in children {
                        columns.push((
                            format!("{}.{}", f.name(), c.name()),
                            c.data_type().to_string(),
                            format!("get_field({}, {})", quoted(f.name()), literal(c.name())),
                        ));
                    }
                }
                DataType::Map(..) => maps.push(f.name().clone()),
                other => columns.push((f.name().clone(), other.to_string(), quoted(f.name()))),
            }
        }
        if t.partitioned {
            columns.push(("date".into(), "Date32 (partition)".into(), quoted("date")));
        }
        let counts = columns
            .iter()
            .map(|(_, _, e)| format!("count({e})"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT count(*), {counts} FROM {}", quoted(t.name));
        let origin = format!("the column counts of table {}", t.name);
        let counted = query::run_sql(&ctx, &sql, &origin).await?;
        let counts = counted.rows.first().cloned().unwrap_or_default();
        rows.push(vec![
            text(t.name),
            text(""),
            text("(rows)"),
            counts.first().cloned().unwrap_or(query::Value::Int(0)),
        ]);
        for ((name, kind, _), n) in columns.iter().zip(counts.iter().skip(1)) {
            rows.push(vec![text(t.name), text(name), text(kind), n.clone()]);
        }
        for m in maps {
            let sql = format!(
                "SELECT k, count(*) AS n FROM (SELECT unnest(map_keys({})) AS k FROM {}) GROUP BY k ORDER BY k",
                quoted(&m),
                quoted(t.name)
            );
            let origin = format!("the keys of {m} in table {}", t.name);
            for k in query::run_sql(&ctx, &sql, &origin).await?.rows {
                rows.push(vec![
                    text(t.name),
                    text(&format!("{m}['{}']", k[0])),
                    text("JSON text"),
                    k[1].clone(),
                ]);
            }
        }
    }
    let column = |name: &str, kind| query::Column {
        name: name.into(),
        kind,
    };
    Ok(Table {
        columns: vec![
            column("table", query::Kind::Text),
            column("column", query::Kind::Text),
            column("type", query::Kind::Text),
            column("rows", query::Kind::Int),
        ],
        rows,
    })
}
