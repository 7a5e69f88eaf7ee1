//! What `report serve` keeps between rebuilds, and the rebuild after an edit.
//!
//! A [`Built`] is the last build that succeeded: the settings and definitions it was made
//! from, one DataFusion session with the warehouse and every query registered as a view, every
//! query's result and every page, in memory. [`Built::update`] reloads the definitions and
//! compares them with what it has: the queries whose SQL changed, appeared or went, and every
//! query that reads one of them through any chain of views, are registered again and run; the
//! pages of the reports that show one of them, or whose file changed, are rendered again with
//! the index. Everything else is kept. An update that fails leaves the last good build as it
//! was (only the session's views are ahead of it, and [`Built::registered`] says so).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use datafusion::prelude::SessionContext;

use crate::config::{Overrides, Settings};
use crate::definition::Report;
use crate::expect::Rule;
use crate::messages;
use crate::pipeline;
use crate::project::{self, Definitions};
use crate::pull;
use crate::query::{self, Query, Table};
use crate::site::{self, Provenance};

/// The last good build.
pub struct Built {
    pub settings: Settings,
    pub defs: Definitions,
    ctx: SessionContext,
    /// The SQL of every view the session holds now (ahead of `defs` after a failed update).
    registered: BTreeMap<String, String>,
    results: BTreeMap<String, Table>,
    provenance: Provenance,
    /// Every file of the site by its path (`index.html`, `data/NAME/p1.csv`).
    pub pages: BTreeMap<String, Vec<u8>>,
}

/// What a build or an update did.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// Queries run, of how many the project has.
    pub queries: usize,
    pub of_queries: usize,
    /// HTML pages rendered (reports and the index), of how many the site has.
    pub pages: usize,
    pub of_pages: usize,
    /// How long each stage of an update took, for the log (seconds).
    pub stages: Vec<(&'static str, f64)>,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} queries and {} of {} pages",
            self.queries, self.of_queries, self.pages, self.of_pages
        )?;
        if !self.stages.is_empty() {
            let parts: Vec<String> = self
                .stages
                .iter()
                .map(|(name, s)| format!("{name} {s:.2} s"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl Built {
    /// Loads the project of `config` and builds it whole: pulls first when `pull`, then every
    /// query and every page.
    pub async fn full(config: &Path, overrides: &Overrides, pull: bool) -> Result<(Built, Counts)> {
        let (settings, defs) = project::load(config, overrides).ready()?;
        let mut warehouse = pipeline::open_warehouse(&settings, true).await?;
        if pull {
            let summary = pull::pull(&settings, &mut warehouse, pull::Options::default()).await?;
            messages::status(format_args!("serve: {summary}"));
        }
        let ctx = query::new_context();
        query::register_warehouse(&ctx, &warehouse, &settings.catalog)?;
        query::register_views(&ctx, &defs.queries).await?;
        let registered = defs
            .queries
            .iter()
            .map(|q| (q.name.clone(), q.sql.clone()))
            .collect();
        let results = query::run_all(&ctx, &defs.queries).await?;
        expectations_hold(&ctx, &defs, &results).await?;
        let provenance = pipeline::provenance(&settings, &defs, &warehouse).await?;
        let site = site::render(
            &defs.reports,
            &defs.queries,
            &results,
            &provenance,
            settings.privacy,
        )?;
        let counts = Counts {
            queries: defs.queries.len(),
            of_queries: defs.queries.len(),
            pages: defs.reports.len() + 1,
            of_pages: defs.reports.len() + 1,
            stages: Vec::new(),
        };
        let pages = site
            .pages
            .into_iter()
            .map(|p| (p.path.to_string_lossy().replace('\\', "/"), p.bytes))
            .collect();
        let built = Built {
            settings,
            defs,
            ctx,
            registered,
            results,
            provenance,
            pages,
        };
        Ok((built, counts))
    }

    /// Reloads `queries/` and `reports/` and rebuilds what changed since the last good build;
    /// `None` when nothing did (a file saved as it was). On an error nothing of the last good
    /// build changes.
    pub async fn update(&mut self) -> Result<Option<Counts>> {
        let mut clock = Clock::start();
        let (defs, problems) =
            project::load_definitions(&self.settings.queries, &self.settings.reports);
        if !problems.is_empty() {
            return Err(crate::problem::error(&problems));
        }
        let before: BTreeMap<&str, &str> = self
            .defs
            .queries
            .iter()
            .map(|q| (q.name.as_str(), q.sql.as_str()))
            .collect();
        let now: BTreeMap<&str, &Query> =
            defs.queries.iter().map(|q| (q.name.as_str(), q)).collect();
        // What changed against the last good build or against what the session holds.
        let mut changed: BTreeSet<String> = BTreeSet::new();
        for q in &defs.queries {
            if before.get(q.name.as_str()) != Some(&q.sql.as_str())
                || self.registered.get(&q.name) != Some(&q.sql)
            {
                changed.insert(q.name.clone());
            }
        }
        let gone: Vec<String> = before
            .keys()
            .map(|n| n.to_string())
            .chain(self.registered.keys().cloned())
            .filter(|n| !now.contains_key(n.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        changed.extend(gone.iter().cloned());
        if changed.is_empty()
            && defs.queries == self.defs.queries
            && defs.reports == self.defs.reports
            && defs.expectations == self.defs.expectations
        {
            return Ok(None);
        }
        let dirty = downstream(&self.ctx, &defs.queries, &changed)?;
        clock.mark("load");

        // Views: the gone ones dropped, the dirty ones registered again in dependency order.
        for name in &gone {
            self.ctx.deregister_table(name.as_str())?;
            self.registered.remove(name);
        }
        let order = query::dependency_order(&self.ctx, &defs.queries)?;
        let rerun: Vec<Query> = order
            .iter()
            .map(|&i| &defs.queries[i])
            .filter(|q| dirty.contains(&q.name))
            .cloned()
            .collect();
        for q in &rerun {
            self.ctx.deregister_table(q.name.as_str())?;
            self.registered.remove(&q.name);
            let df = self
                .ctx
                .sql(&q.sql)
                .await
                .with_context(|| format!("{}: query does not plan", q.path.display()))?;
            self.ctx
                .register_table(q.name.as_str(), df.into_view())
                .with_context(|| {
                    format!("{}: cannot register view {}", q.path.display(), q.name)
                })?;
            self.registered.insert(q.name.clone(), q.sql.clone());
        }
        clock.mark("plan");
        let fresh = query::run_all(&self.ctx, &rerun).await?;
        clock.mark("run");
        let mut results = self.results.clone();
        results.retain(|name, _| now.contains_key(name.as_str()));
        results.extend(fresh);

        // Expectations: of the queries run again, of changed files, and the `sql` ones that
        // read a query run again.
        let old_reports: BTreeMap<&str, &Report> = self
            .defs
            .reports
            .iter()
            .map(|r| (r.name.as_str(), r))
            .collect();
        let report_changed =
            |r: &Report| old_reports.get(r.name.as_str()).is_none_or(|old| *old != r);
        let reads_dirty = |e: &crate::expect::Expectation| match &e.rule {
            Rule::Sql { sql } => query::reads(&self.ctx, sql)
                .map(|names| names.iter().any(|n| dirty.contains(n)))
                .unwrap_or(true),
            _ => false,
        };
        let checked = Definitions {
            queries: Vec::new(),
            reports: defs
                .reports
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if !report_changed(&r) {
                        for p in &mut r.panels {
                            p.expect
                                .retain(|e| dirty.contains(&p.query) || reads_dirty(e));
                        }
                    }
                    r
                })
                .collect(),
            expectations: defs
                .expectations
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    let same = self.defs.expectations.contains(&f);
                    if same && !dirty.contains(&f.query) {
                        f.expect.retain(|e| reads_dirty(e));
                    }
                    f
                })
                .collect(),
        };
        expectations_hold(&self.ctx, &checked, &results).await?;
        clock.mark("expectations");

        // Pages: all when the nav bar changes, else the reports that show a query run again,
        // whose file changed or whose sources changed.
        // The sources' ranges and the commit stay: nothing is pulled between full builds.
        let provenance = Provenance {
            reads: pipeline::report_sources(&self.settings, &defs, &self.ctx)?,
            ..self.provenance.clone()
        };
        let listing = |reports: &[Report]| -> Vec<(String, String)> {
            Report::listing(reports)
                .iter()
                .map(|r| (r.name.clone(), r.title.clone()))
                .collect()
        };
        let all = listing(&defs.reports) != listing(&self.defs.reports);
        let render: BTreeSet<String> = defs
            .reports
            .iter()
            .filter(|r| {
                all || report_changed(r)
                    || r.panels.iter().any(|p| dirty.contains(&p.query))
                    || provenance.reads.get(&r.name) != self.provenance.reads.get(&r.name)
            })
            .map(|r| r.name.clone())
            .collect();
        let site = site::render_some(
            &defs.reports,
            &defs.queries,
            &results,
            &provenance,
            self.settings.privacy,
            &|r| render.contains(&r.name),
        )?;
        clock.mark("render");

        // Everything held: now the new build is the last good one.
        let names: BTreeSet<&str> = defs.reports.iter().map(|r| r.name.as_str()).collect();
        self.pages.retain(|path, _| {
            let report = path
                .strip_prefix("data/")
                .and_then(|p| p.split('/').next())
                .or_else(|| path.strip_suffix(".html"))
                .unwrap_or(path);
            path != "index.html" && names.contains(report) && !render.contains(report)
        });
        for p in site.pages {
            self.pages
                .insert(p.path.to_string_lossy().replace('\\', "/"), p.bytes);
        }
        let counts = Counts {
            queries: rerun.len(),
            of_queries: defs.queries.len(),
            pages: render.len() + 1,
            of_pages: defs.reports.len() + 1,
            stages: clock.stages,
        };
        self.defs = defs;
        self.results = results;
        self.provenance = provenance;
        Ok(Some(counts))
    }
}

/// The time each stage of an update took (the log's, never the site's).
struct Clock {
    last: std::time::Instant,
    stages: Vec<(&'static str, f64)>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            last: std::time::Instant::now(),
            stages: Vec::new(),
        }
    }

    fn mark(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.stages
            .push((stage, now.duration_since(self.last).as_secs_f64()));
        self.last = now;
    }
}

/// Fails listing every expectation of `defs` that does not hold, as `report build` does.
async fn expectations_hold(
    ctx: &SessionContext,
    defs: &Definitions,
    results: &BTreeMap<String, Table>,
) -> Result<()> {
    pipeline::all_met(&pipeline::check_expectations(ctx, defs, results).await?)
}

/// `changed` and every query that reads one of them, through any chain of queries.
fn downstream(
    ctx: &SessionContext,
    queries: &[Query],
    changed: &BTreeSet<String>,
) -> Result<BTreeSet<String>> {
    let mut readers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for q in queries {
        let reads = query::reads(ctx, &q.sql)
            .with_context(|| format!("{}: SQL does not parse", q.path.display()))?;
        for name in reads {
            readers.entry(name).or_default().push(q.name.as_str());
        }
    }
    let mut out = changed.clone();
    let mut todo: Vec<String> = changed.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        for r in readers.get(&name).into_iter().flatten() {
            if out.insert(r.to_string()) {
                todo.push(r.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn q(name: &str, sql: &str) -> Query {
        Query {
            name: name.into(),
            path: PathBuf::from(format!("queries/{name}.sql")),
            sql: sql.into(),
        }
    }

    #[test]
    fn downstream_follows_views_and_nothing_else() {
        let ctx = query::new_context();
        let queries = [
            q("base", "SELECT 1 AS x"),
            q("mid", "SELECT x FROM base"),
            q("top", "SELECT * FROM mid JOIN other ON true"),
            q("other", "SELECT 2 AS y"),
            q("alone", "SELECT 3 AS z"),
        ];
        let changed = BTreeSet::from(["base".to_string()]);
        let got = downstream(&ctx, &queries, &changed).expect("parses");
        assert_eq!(
            got,
            BTreeSet::from(["base".into(), "mid".into(), "top".into()])
        );
        let changed = BTreeSet::from(["other".to_string()]);
        let got = downstream(&ctx, &queries, &changed).expect("parses");
        assert_eq!(got, BTreeSet::from(["other".into(), "top".into()]));
    }
}
