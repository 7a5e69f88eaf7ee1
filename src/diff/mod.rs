//! `report diff`: what a change to the definitions does to the results and the charts.
//!
//! Reads `queries/` and `reports/` at a git revision (default: the merge base with the
//! default branch) and at the working tree (or a second revision), runs both over the same
//! warehouse with [`pipeline::evaluate`], and compares the results query by query (rows
//! added, removed and changed, by key columns) and panel by panel (chart before and after).
//! [`render`] turns the comparison into `index.html`, `summary.md` and JSON.
//!
//! Git is run as a program (`git ls-tree`, `git show`); nothing here writes outside a
//! temporary folder, and [`crate::output::write`] writes the output.

pub mod compare;
pub mod git;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::chart::Meta;
use crate::config::Settings;
use crate::definition::Report;
use crate::expect::Failure;
use crate::pipeline;
use crate::project::Definitions;
use crate::query::{Query, Table};

pub use compare::{CellChange, QueryDiff, RowChange};

/// Whether something differs between base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Changed,
    Added,
    Removed,
    Unchanged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// One panel, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct PanelDiff {
    pub report: String,
    /// 1-based position in its report.
    pub panel: usize,
    pub title: String,
    pub query: String,
    pub status: Status,
    /// The panel's definition (kind, keys, title, expectations) changed.
    pub definition_changed: bool,
    #[serde(skip)]
    pub before_svg: Option<String>,
    #[serde(skip)]
    pub after_svg: Option<String>,
    /// Why a chart could not be drawn, per side.
    pub before_error: Option<String>,
    pub after_error: Option<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The base revision as given (or the merge base), and its commit.
    pub base: String,
    /// `working tree` or the head revision.
    pub head: String,
    /// Every query of either side, by name.
    pub queries: Vec<QueryDiff>,
    /// Every panel of either side, by report file and position.
    pub panels: Vec<PanelDiff>,
    /// Expectations that do not hold, per side.
    pub base_failures: Vec<Failure>,
    pub head_failures: Vec<Failure>,
}

impl Diff {
    /// Anything added, removed or changed, in queries, panels or expectations.
    pub fn has_changes(&self) -> bool {
        self.queries.iter().any(|q| q.status != Status::Unchanged)
            || self.panels.iter().any(|p| p.status != Status::Unchanged)
            || self.base_failures != self.head_failures
    }
}

/// Which definitions to compare.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Base revision; the merge base with the default branch when absent.
    pub base: Option<String>,
    /// Head revision; the working tree when absent.
    pub head: Option<String>,
}

/// Runs the comparison for the project of `settings`.
pub async fn diff(settings: &Settings, options: &Options) -> Result<Diff> {
    let root = &settings.root;
    let rel = |p: &Path, what: &str| -> Result<PathBuf> {
        let abs_root = std::path::absolute(root)?;
        let abs = std::path::absolute(p)?;
        abs.strip_prefix(&abs_root).map(Path::to_path_buf).with_context(|| {
            format!(
                "the {what} folder {} is not inside the project {}, so git cannot show it at a revision",
                p.display(),
                root.display()
            )
        })
    };
    let queries_rel = rel(&settings.queries, "queries")?;
    let reports_rel = rel(&settings.reports, "reports")?;
    let (base_rev, base_commit) = match &options.base {
        Some(b) => (b.clone(), git::commit_of(root, b)?),
        None => git::default_base(root, options.head.as_deref())?,
    };
    let tmp = tempfile::Builder::new()
        .prefix("report-diff-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let base_dir = tmp.path().join("base");
    git::materialise(root, &base_commit, &[&queries_rel, &reports_rel], &base_dir)?;
    let base = load_side(&base_dir, &queries_rel, &reports_rel)
        .with_context(|| format!("the definitions at {base_rev}"))?;
    let (head, head_label) = match &options.head {
        Some(h) => {
            let commit = git::commit_of(root, h)?;
            let dir = tmp.path().join("head");
            git::materialise(root, &commit, &[&queries_rel, &reports_rel], &dir)?;
            let defs = load_side(&dir, &queries_rel, &reports_rel)
                .with_context(|| format!("the definitions at {h}"))?;
            (defs, format!("{h} ({})", short(&commit)))
        }
        None => (
            load_side(root, &queries_rel, &reports_rel)
                .context("the definitions in the working tree")?,
            "working tree".to_string(),
        ),
    };
    let warehouse = pipeline::open_warehouse(settings, true).await?;
    if warehouse.version() == 0 {
        crate::messages::warn(format_args!(
            "diff: the warehouse {} holds no data yet (run `report pull` first); both sides run over empty tables",
            warehouse.shown()
        ));
    }
    let before = pipeline::evaluate(&base, &warehouse, &settings.catalog)
        .await
        .with_context(|| format!("cannot run the queries at {base_rev}"))?;
    let after = pipeline::evaluate(&head, &warehouse, &settings.catalog)
        .await
        .with_context(|| format!("cannot run the queries of {head_label}"))?;
    Ok(compare_sides(
        format!("{base_rev} ({})", short(&base_commit)),
        head_label,
        (&base, &before.results, before.failures),
        (&head, &after.results, after.failures),
    ))
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Loads the definitions under `dir`, with paths shown relative to it (`queries/NAME.sql`).
fn load_side(dir: &Path, queries: &Path, reports: &Path) -> Result<Definitions> {
    let (qdir, rdir) = (dir.join(queries), dir.join(reports));
    for d in [&qdir, &rdir] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let (mut defs, problems) = crate::project::load_definitions(&qdir, &rdir);
    if !problems.is_empty() {
        return Err(crate::problem::error(&problems));
    }
    let relative = |p: &Path| {
        p.strip_prefix(dir)
            .map(Path::to_path_buf)
            .unwrap_or(p.to_path_buf())
    };
    for q in &mut defs.queries {
        q.path = relative(&q.path);
    }
    for r in &mut defs.reports {
        r.path = relative(&r.path);
    }
    for e in &mut defs.expectations {
        e.path = relative(&e.path);
    }
    Ok(defs)
}

/// The queries each query reads (directly).
fn reads(queries: &[Query]) -> BTreeMap<String, BTreeSet<String>> {
    let names: BTreeSet<&str> = queries.iter().map(|q| q.name.as_str()).collect();
    let ctx = crate::query::new_context();
    queries
        .iter()
        .map(|q| {
            let refs = crate::query::reads(&ctx, &q.sql)
                .map(|refs| {
                    refs.into_iter()
                        .filter(|t| names.contains(t.as_str()) && *t != q.name)
                        .collect()
                })
                .unwrap_or_default();
            (q.name.clone(), refs)
        })
        .collect()
}

type Side<'a> = (&'a Definitions, &'a BTreeMap<String, Table>, Vec<Failure>);

/// Compares two evaluated sides (pure: no I/O).
pub fn compare_sides(base_label: String, head_label: String, base: Side, head: Side) -> Diff {
    let (bdefs, bres, bfail) = base;
    let (hdefs, hres, hfail) = head;
    let bsql: BTreeMap<&str, &str> = bdefs
        .queries
        .iter()
        .map(|q| (q.name.as_str(), q.sql.as_str()))
        .collect();
    let hsql: BTreeMap<&str, &str> = hdefs
        .queries
        .iter()
        .map(|q| (q.name.as_str(), q.sql.as_str()))
        .collect();
    let names: BTreeSet<&str> = bsql.keys().chain(hsql.keys()).copied().collect();
    let sql_changed: BTreeSet<&str> = names
        .iter()
        .copied()
        .filter(|n| bsql.get(n) != hsql.get(n))
        .collect();
    // Upstream queries whose SQL changed, transitively, for each head query.
    let head_reads = reads(&hdefs.queries);
    let upstream = |name: &str| -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![name.to_string()];
        while let Some(n) = stack.pop() {
            for d in head_reads.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen.into_iter()
            .filter(|d| sql_changed.contains(d.as_str()))
            .collect()
    };
    let empty = Table::default();
    let queries: Vec<QueryDiff> = names
        .iter()
        .map(|&n| {
            let (b, h) = (bres.get(n), hres.get(n));
            let mut d = compare::tables(
                n,
                b.unwrap_or(&empty),
                h.unwrap_or(&empty),
                sql_changed.contains(n),
            );
            d.status = match (bsql.contains_key(n), hsql.contains_key(n)) {
                (false, _) => Status::Added,
                (_, false) => Status::Removed,
                _ => d.status,
            };
            d.reads_changed = upstream(n);
            d
        })
        .collect();
    let status_of: BTreeMap<&str, Status> = queries
        .iter()
        .map(|q| (q.name.as_str(), q.status))
        .collect();
    let panels = compare_panels(bdefs, bres, hdefs, hres, &status_of);
    Diff {
        base: base_label,
        head: head_label,
        queries,
        panels,
        base_failures: bfail,
        head_failures: hfail,
    }
}

fn compare_panels(
    bdefs: &Definitions,
    bres: &BTreeMap<String, Table>,
    hdefs: &Definitions,
    hres: &BTreeMap<String, Table>,
    status_of: &BTreeMap<&str, Status>,
) -> Vec<PanelDiff> {
    let by_name = |defs: &Definitions| -> BTreeMap<String, Report> {
        defs.reports
            .iter()
            .map(|r| (r.name.clone(), r.clone()))
            .collect()
    };
    let (breps, hreps) = (by_name(bdefs), by_name(hdefs));
    let names: BTreeSet<&String> = breps.keys().chain(hreps.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let (b, h) = (breps.get(name), hreps.get(name));
        let count = b
            .map_or(0, |r| r.panels.len())
            .max(h.map_or(0, |r| r.panels.len()));
        for i in 0..count {
            let bp = b.and_then(|r| r.panels.get(i));
            let hp = h.and_then(|r| r.panels.get(i));
            let Some(any) = hp.or(bp) else { continue };
            let draw = |side: &str,
                        p: Option<&crate::definition::Panel>,
                        res: &BTreeMap<String, Table>|
             -> (Option<String>, Option<String>) {
                let Some(p) = p else { return (None, None) };
                let Some(table) = res.get(&p.query) else {
                    return (None, Some(format!("no query named {:?}", p.query)));
                };
                let meta = Meta {
                    id: format!("{side}-{name}-p{}", i + 1),
                    title: p.title.clone(),
                    description: if p.description.is_empty() {
                        format!("{} chart of query {}", p.chart.kind(), p.query)
                    } else {
                        p.description.clone()
                    },
                };
                // Drawn from what the site would publish: ids masked, long labels cut.
                let drawn = crate::output::publishable(table)
                    .and_then(|(table, _)| p.chart.render(&table, &meta));
                match drawn {
                    Ok(svg) => (svg, None),
                    Err(e) => (None, Some(format!("{e:#}"))),
                }
            };
            // Drawn with the same ids first, so only what a reader sees is compared.
            let (before_svg, before_error) = draw("chart", bp, bres);
            let (after_svg, after_error) = draw("chart", hp, hres);
            let definition_changed = bp != hp;
            let status = match (bp, hp) {
                (None, _) => Status::Added,
                (_, None) => Status::Removed,
                (Some(bp), Some(hp)) => {
                    let results_changed = status_of
                        .get(hp.query.as_str())
                        .is_some_and(|s| *s != Status::Unchanged)
                        || bp.query != hp.query;
                    if definition_changed
                        || results_changed
                        || before_svg != after_svg
                        || before_error != after_error
                    {
                        Status::Changed
                    } else {
                        Status::Unchanged
                    }
                }
            };
            let keep = status != Status::Unchanged;
            // Both on one page: each side's ids of its own.
            let (before_svg, after_svg) = if keep {
                (draw("base", bp, bres).0, draw("head", hp, hres).0)
            } else {
                (None, None)
            };
            out.push(PanelDiff {
                report: h
                    .or(b)
                    .map(|r| r.path.display().to_string())
                    .unwrap_or_default(),
                panel: i + 1,
                title: any.title.clone(),
                query: any.query.clone(),
                status,
                definition_changed,
                before_svg: before_svg.filter(|_| keep),
                after_svg: after_svg.filter(|_| keep),
                before_error,
                after_error,
            });
        }
    }
    out
}

/// Exit code of `report diff --fail-on-change` when something changed.
pub const EXIT_CHANGED: u8 = 4;

/// Checks that a revision name cannot be taken for an option by git.
pub(crate) fn check_rev(rev: &str) -> Result<()> {
    if rev.is_empty() || rev.starts_with('-') {
        bail!("{rev:?} is not a revision");
    }
    Ok(())
}
