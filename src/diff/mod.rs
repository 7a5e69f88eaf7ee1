//! `report diff`: what a change to the definitions does to the results and the charts.
//!
//! Reads the project at a git revision (default: the merge base with the default branch):
//! its own `report.toml`, the files it names (attribute schemas, upload configs), its
//! `queries/` and `reports/`; and the same of the working tree (or a second revision). Runs
//! both over the same warehouse with [`pipeline::evaluate`], and compares: the configuration
//! (sources, table schemas), the results query by query (rows added, removed and changed, by
//! key columns, as multisets unless the query's order is total), reports (a renamed file is
//! a rename) and panels by their id (chart before and after, on shared axes).
//! [`render`] turns the comparison into `index.html`, `summary.md` and JSON.
//!
//! Git is run as a program (`git ls-tree`, `git cat-file`); nothing here writes outside a
//! temporary folder, and [`crate::output::write`] writes the output.

pub mod compare;
pub mod format;
pub mod git;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::chart::{Bounds, Meta};
use crate::config::{Overrides, Settings};
use crate::definition::{Panel, Report};
use crate::expect::Failure;
use crate::formats::TableDef;
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
    Renamed,
    Unchanged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Renamed => "renamed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// One report file, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct ReportDiff {
    /// Its file at the base and at the head (both, unless added or removed).
    pub before: Option<String>,
    pub after: Option<String>,
    pub title: String,
    /// `renamed` for a file that moved (matched by its title or its panels), `changed` when
    /// its title or description changed; its panels are compared on their own.
    pub status: Status,
}

/// One panel, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct PanelDiff {
    /// Its report file (the head's, for a renamed report).
    pub report: String,
    /// Its id (the head's when it was retitled).
    pub id: String,
    /// 1-based position in its report (the head's, or the base's for a removed panel).
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
    /// What changed in `report.toml` and the files it names: sources, table schemas.
    pub config: Vec<String>,
    /// Every query of either side, by name.
    pub queries: Vec<QueryDiff>,
    /// Every report file of either side.
    pub reports: Vec<ReportDiff>,
    /// Every panel of either side, by report and id.
    pub panels: Vec<PanelDiff>,
    /// Expectations that do not hold, per side.
    pub base_failures: Vec<Failure>,
    pub head_failures: Vec<Failure>,
    /// Where the whole diff (`index.html`) is published, for the summary to link to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Diff {
    /// Anything added, removed or changed: configuration, queries, reports, panels or
    /// expectations.
    pub fn has_changes(&self) -> bool {
        !self.config.is_empty()
            || self.queries.iter().any(|q| q.status != Status::Unchanged)
            || self.reports.iter().any(|r| r.status != Status::Unchanged)
            || self.panels.iter().any(|p| p.status != Status::Unchanged)
            || self.base_failures.len() != self.head_failures.len()
            || self
                .head_failures
                .iter()
                .any(|f| !self.base_failures.iter().any(|b| same_failure(b, f)))
    }
}

/// The same expectation failing the same way; which offending rows it shows first may differ
/// (a query without a total order lists them in any order).
pub fn same_failure(a: &Failure, b: &Failure) -> bool {
    a.origin == b.origin
        && a.query == b.query
        && a.index == b.index
        && a.expectation == b.expectation
        && a.violation.message == b.violation.message
        && a.violation.total == b.violation.total
}

/// Which definitions to compare.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The config file (`report.toml`) the settings were read from; the same file is read at
    /// each revision.
    pub config: PathBuf,
    /// Base revision; the merge base with the default branch when absent.
    pub base: Option<String>,
    /// Head revision; the working tree when absent.
    pub head: Option<String>,
    /// An http(s) URL where the whole diff is published, linked from `summary.md`.
    pub link: Option<String>,
}

/// One side of the comparison: its settings (its own catalog) and definitions.
struct Side {
    settings: Settings,
    defs: Definitions,
    /// Query name → whether its order is total.
    ordered: BTreeMap<String, bool>,
}

/// Runs the comparison for the project of `settings` (the working tree's, whose warehouse
/// both sides read).
pub async fn diff(settings: &Settings, options: &Options) -> Result<Diff> {
    let root = &settings.root;
    if let Some(link) = &options.link {
        check_link(link)?;
    }
    let config_name = options
        .config
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("report.toml"));
    let (base_rev, base_commit) = match &options.base {
        Some(b) => (b.clone(), git::commit_of(root, b)?),
        None => git::default_base(root, options.head.as_deref())?,
    };
    let tmp = tempfile::Builder::new()
        .prefix("report-diff-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let base = at_revision(root, &config_name, &base_commit, &tmp.path().join("base"))
        .await
        .with_context(|| format!("the project at {base_rev} ({})", short(&base_commit)))?;
    let (head, head_label) = match &options.head {
        Some(h) => {
            let commit = git::commit_of(root, h)?;
            let side = at_revision(root, &config_name, &commit, &tmp.path().join("head"))
                .await
                .with_context(|| format!("the project at {h} ({})", short(&commit)))?;
            (side, format!("{h} ({})", short(&commit)))
        }
        None => {
            let defs = definitions(settings, root).context("the project in the working tree")?;
            let ordered = crate::check::orders(&defs.queries, &settings.catalog).await;
            let side = Side {
                settings: settings.clone(),
                defs,
                ordered,
            };
            (side, "working tree".to_string())
        }
    };
    let warehouse = pipeline::open_warehouse(settings, false)
        .await
        .context("report diff reads a warehouse a pull has filled (run `report pull` first)")?;
    if warehouse.all_files().next().is_none() {
        bail!(
            "the warehouse {} holds no data (no commit names a file): run `report pull` first; over empty tables every query gives nothing, whatever changed",
            warehouse.shown()
        );
    }
    let before = pipeline::evaluate(&base.defs, &warehouse, &base.settings.catalog)
        .await
        .with_context(|| format!("cannot run the queries at {base_rev}"))?;
    let after = pipeline::evaluate(&head.defs, &warehouse, &head.settings.catalog)
        .await
        .with_context(|| format!("cannot run the queries of {head_label}"))?;
    let mut diff = compare_sides(
        format!("{base_rev} ({})", short(&base_commit)),
        head_label,
        (&base, &before.results, before.failures),
        (&head, &after.results, after.failures),
    );
    diff.link = options.link.clone();
    Ok(diff)
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// A link the summary can carry as it is: an http(s) URL with nothing Markdown would read.
fn check_link(link: &str) -> Result<()> {
    let ok = (link.starts_with("https://") || link.starts_with("http://"))
        && url::Url::parse(link).is_ok()
        && !link
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`'));
    if !ok {
        bail!("--link {link:?} is not an http(s) URL");
    }
    Ok(())
}

/// The project at `commit`: its own `report.toml` (the file `config` names), the files that
/// names (schemas, upload configs: every string in it that is a file at the commit), its
/// queries and reports, written under `dir` and loaded from there.
async fn at_revision(root: &Path, config: &Path, commit: &str, dir: &Path) -> Result<Side> {
    let files = git::files_at(root, commit)?;
    let config_key = config.to_string_lossy().to_string();
    let Some(id) = files.get(&config_key) else {
        bail!(
            "{} does not exist there: a revision without a project cannot be compared",
            config.display()
        );
    };
    git::write_files(root, &[(config_key.as_str(), id.as_str())], dir)?;
    let path = dir.join(config);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("invalid config {}", config.display()))?;
    let folder = |key: &str| -> String {
        let named = table.get(key).and_then(|v| v.as_str()).unwrap_or(key);
        normal(named)
    };
    let folders = [folder("queries"), folder("reports")];
    let mut named = BTreeSet::new();
    strings(&toml::Value::Table(table.clone()), &mut |s| {
        named.insert(normal(s));
    });
    let wanted: Vec<(&str, &str)> = files
        .iter()
        .filter(|(p, _)| {
            named.contains(p.as_str())
                || folders.iter().any(|f| {
                    p.strip_prefix(f.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                })
        })
        .map(|(p, id)| (p.as_str(), id.as_str()))
        .collect();
    git::write_files(root, &wanted, dir)?;
    let settings = Settings::parse(&text, &path, &BTreeMap::new(), &Overrides::default())?;
    let defs = definitions(&settings, dir)?;
    let ordered = crate::check::orders(&defs.queries, &settings.catalog).await;
    Ok(Side {
        settings,
        defs,
        ordered,
    })
}

/// Every string in a TOML value, at any depth.
fn strings(v: &toml::Value, f: &mut impl FnMut(&str)) {
    match v {
        toml::Value::String(s) => f(s),
        toml::Value::Array(a) => {
            for v in a {
                strings(v, &mut *f);
            }
        }
        toml::Value::Table(t) => {
            for v in t.values() {
                strings(v, &mut *f);
            }
        }
        _ => {}
    }
}

/// A relative path as git lists it: `./a/../b/` → `b`.
fn normal(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// The definitions `settings` names, with paths shown relative to `dir` (`queries/NAME.sql`).
fn definitions(settings: &Settings, dir: &Path) -> Result<Definitions> {
    let abs_dir = std::path::absolute(dir)?;
    for (folder, what) in [
        (&settings.queries, "queries"),
        (&settings.reports, "reports"),
    ] {
        let abs = std::path::absolute(folder)?;
        if !abs.starts_with(&abs_dir) {
            bail!(
                "the {what} folder {} is not inside the project {}, so git cannot show it at a revision",
                folder.display(),
                dir.display()
            );
        }
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let (mut defs, problems) =
        crate::project::load_definitions(&settings.queries, &settings.reports);
    if !problems.is_empty() {
        return Err(crate::problem::error(&problems));
    }
    let relative = |p: &Path| -> PathBuf {
        std::path::absolute(p)
            .ok()
            .and_then(|a| a.strip_prefix(&abs_dir).ok().map(Path::to_path_buf))
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

/// What changed between two configurations: sources (by name) and table schemas (by
/// column, nested fields as `attributes.shell`).
fn config_changes(base: &Settings, head: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    let sources = |s: &Settings| -> BTreeMap<String, (String, String)> {
        let root = s.root.to_string_lossy().to_string();
        s.sources
            .iter()
            .map(|src| {
                let url = src
                    .url
                    .strip_prefix(&root)
                    .map(|u| u.trim_start_matches('/').to_string())
                    .unwrap_or_else(|| src.url.clone());
                let what = format!(
                    "{} {url} {:?} {:?} {}",
                    src.format.name(),
                    src.prefix,
                    src.options,
                    src.spec.fingerprint()
                );
                (src.name.clone(), (src.format.name().to_string(), what))
            })
            .collect()
    };
    let (bs, hs) = (sources(base), sources(head));
    for name in bs.keys().chain(hs.keys()).collect::<BTreeSet<_>>() {
        match (bs.get(name), hs.get(name)) {
            (None, Some((f, _))) => out.push(format!("source {name:?} ({f}) added")),
            (Some((f, _)), None) => out.push(format!("source {name:?} ({f}) removed")),
            (Some(b), Some(h)) if b != h => out.push(format!(
                "source {name:?}: its settings changed (URL, prefix, options or what it accepts)"
            )),
            _ => {}
        }
    }
    let (bt, ht) = (columns(&base.catalog), columns(&head.catalog));
    for table in bt.keys().chain(ht.keys()).collect::<BTreeSet<_>>() {
        match (bt.get(table), ht.get(table)) {
            (None, Some(_)) => out.push(format!("table {table} added")),
            (Some(_), None) => out.push(format!("table {table} removed")),
            (Some(b), Some(h)) => {
                for column in b.keys().chain(h.keys()).collect::<BTreeSet<_>>() {
                    match (b.get(column), h.get(column)) {
                        (None, Some(t)) => {
                            out.push(format!("table {table}: column {column} ({t}) added"))
                        }
                        (Some(t), None) => {
                            out.push(format!("table {table}: column {column} ({t}) removed"))
                        }
                        (Some(x), Some(y)) if x != y => {
                            out.push(format!("table {table}: column {column} is {y}, was {x}"))
                        }
                        _ => {}
                    }
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Every table's columns with their types; a struct's fields as `column.field`.
fn columns(catalog: &[TableDef]) -> BTreeMap<String, BTreeMap<String, String>> {
    fn walk(
        prefix: &str,
        field: &datafusion::arrow::datatypes::Field,
        out: &mut BTreeMap<String, String>,
    ) {
        let name = format!("{prefix}{}", field.name());
        match field.data_type() {
            datafusion::arrow::datatypes::DataType::Struct(fields) => {
                for f in fields {
                    walk(&format!("{name}."), f, out);
                }
            }
            t => {
                out.insert(name, t.to_string());
            }
        }
    }
    catalog
        .iter()
        .map(|t| {
            let mut cols = BTreeMap::new();
            for f in t.schema.fields() {
                walk("", f, &mut cols);
            }
            (t.name.to_string(), cols)
        })
        .collect()
}

type Evaluated<'a> = (&'a Side, &'a BTreeMap<String, Table>, Vec<Failure>);

/// How each query's columns are written: the value format of every panel that shows them
/// (the head's first).
fn formats(sides: [&Definitions; 2]) -> BTreeMap<String, compare::Formats> {
    let mut out: BTreeMap<String, compare::Formats> = BTreeMap::new();
    for defs in sides {
        for p in defs.reports.iter().flat_map(|r| &r.panels) {
            let of = out.entry(p.query.clone()).or_default();
            for (column, f) in p.chart.value_formats() {
                of.entry(column.to_string()).or_insert(f);
            }
        }
    }
    out
}

/// Compares two evaluated sides (pure: no I/O).
fn compare_sides(base_label: String, head_label: String, base: Evaluated, head: Evaluated) -> Diff {
    let (bside, bres, bfail) = base;
    let (hside, hres, hfail) = head;
    let (bdefs, hdefs) = (&bside.defs, &hside.defs);
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
    let formats = formats([hdefs, bdefs]);
    // Both sides guarded with the stricter minimum: a pull request that lowers it shows
    // nothing more in its own comment.
    let policy = crate::config::PrivacySettings {
        min_installations: bside
            .settings
            .privacy
            .min_installations
            .max(hside.settings.privacy.min_installations),
    };
    let empty = Table::default();
    let queries: Vec<QueryDiff> = names
        .iter()
        .map(|&n| {
            let (b, h) = (bres.get(n), hres.get(n));
            let how = compare::Compare {
                sql_changed: sql_changed.contains(n),
                ordered: bside.ordered.get(n) == Some(&true) && hside.ordered.get(n) == Some(&true),
                formats: formats.get(n),
            };
            let mut d = compare::tables(n, b.unwrap_or(&empty), h.unwrap_or(&empty), &how);
            if d.status != Status::Unchanged {
                d = guarded(
                    n,
                    [(b, &bdefs.reports), (h, &hdefs.reports)],
                    policy,
                    &how,
                    d,
                );
            }
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
    let pairs = pair_reports(&bdefs.reports, &hdefs.reports);
    let reports = pairs
        .iter()
        .map(|&(b, h)| {
            let status = match (b, h) {
                (None, _) => Status::Added,
                (_, None) => Status::Removed,
                (Some(b), Some(h)) if b.name != h.name => Status::Renamed,
                (Some(b), Some(h))
                    if b.title != h.title
                        || b.description != h.description
                        || b.order != h.order =>
                {
                    Status::Changed
                }
                _ => Status::Unchanged,
            };
            let shown = |r: Option<&Report>| r.map(|r| r.path.display().to_string());
            ReportDiff {
                before: shown(b),
                after: shown(h),
                title: h.or(b).map(|r| r.title.clone()).unwrap_or_default(),
                status,
            }
        })
        .collect();
    let sides = Sides {
        base: bres,
        head: hres,
        status_of: &status_of,
        privacy: policy,
    };
    let panels = pairs
        .iter()
        .flat_map(|&(b, h)| compare_panels(b, h, &sides))
        .collect();
    Diff {
        base: base_label,
        head: head_label,
        config: config_changes(&bside.settings, &hside.settings),
        queries,
        reports,
        panels,
        base_failures: bfail,
        head_failures: hfail,
        link: None,
    }
}

/// What `report diff` may print of query `name`, whose raw results (before, after) compare
/// as `raw`: the rows its first panel publishes on each side's site (the privacy guard, then
/// ids masked), compared; the counts only when a side that has the query has no panel for it
/// or cannot be guarded. Its status stays the raw one: a change only in cells the guard holds
/// back is a change, said without its values.
fn guarded(
    name: &str,
    sides: [(Option<&Table>, &[Report]); 2],
    policy: crate::config::PrivacySettings,
    how: &compare::Compare,
    raw: QueryDiff,
) -> QueryDiff {
    type Printable = Result<(Table, Vec<String>), String>;
    let printable = |(table, reports): (Option<&Table>, &[Report])| -> Printable {
        // A side without the query shows no rows.
        let Some(table) = table else {
            return Ok((Table::default(), Vec::new()));
        };
        let Some(panel) = reports
            .iter()
            .flat_map(|r| &r.panels)
            .find(|p| p.query == name)
        else {
            return Err("No panel publishes this query".to_string());
        };
        match crate::privacy::publish(panel, table, policy) {
            Ok((g, held)) => {
                let mut notes = g.notes;
                if !held.is_empty() {
                    notes.push(format!("{held}."));
                }
                Ok((g.published, notes))
            }
            Err(e) => Err(format!("Panel {:?} cannot be guarded: {e:#}", panel.title)),
        }
    };
    let (before, after) = match (printable(sides[0]), printable(sides[1])) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(why), _) | (_, Err(why)) => {
            let mut d = raw;
            d.withhold(format!("{why}: only its row counts are shown."));
            return d;
        }
    };
    let mut d = compare::tables(name, &before.0, &after.0, how);
    let mut notes = after.1;
    for n in before.1 {
        if !notes.contains(&n) {
            notes.push(format!("Before: {n}"));
        }
    }
    if d.status == Status::Unchanged {
        notes.push("What changed is only in cells the privacy guard holds back.".to_string());
    }
    d.status = raw.status;
    d.order_changed = raw.order_changed;
    d.privacy = notes;
    d
}

/// Report files of both sides, paired: by name, then a file only one side has with one only
/// the other has, by title or by most panels in common (a rename). In head order, removed
/// files last.
fn pair_reports<'a>(
    base: &'a [Report],
    head: &'a [Report],
) -> Vec<(Option<&'a Report>, Option<&'a Report>)> {
    let mut left: Vec<&Report> = base
        .iter()
        .filter(|b| !head.iter().any(|h| h.name == b.name))
        .collect();
    let ids = |r: &Report| -> BTreeSet<String> { r.panels.iter().map(|p| p.id.clone()).collect() };
    let mut out = Vec::new();
    for h in head {
        if let Some(b) = base.iter().find(|b| b.name == h.name) {
            out.push((Some(b), Some(h)));
            continue;
        }
        let hid = ids(h);
        let shared = |b: &Report| ids(b).intersection(&hid).count();
        let renamed = left.iter().position(|b| b.title == h.title).or_else(|| {
            let best = (0..left.len()).max_by_key(|&i| (shared(left[i]), std::cmp::Reverse(i)))?;
            let (n, least) = (shared(left[best]), hid.len().min(left[best].panels.len()));
            (n > 0 && 2 * n >= least).then_some(best)
        });
        match renamed {
            Some(i) => out.push((Some(left.remove(i)), Some(h))),
            None => out.push((None, Some(h))),
        }
    }
    out.extend(left.into_iter().map(|b| (Some(b), None)));
    out
}

/// Both sides' results and how each query compared.
struct Sides<'a> {
    base: &'a BTreeMap<String, Table>,
    head: &'a BTreeMap<String, Table>,
    status_of: &'a BTreeMap<&'a str, Status>,
    /// The stricter privacy settings of the two sides: charts are drawn from what the guard
    /// publishes with them.
    privacy: crate::config::PrivacySettings,
}

/// A panel and its 0-based position in its report.
type Placed<'a> = (usize, &'a Panel);

/// The panels of one report, paired by id; then a panel left on each side with the same
/// query, when it is the only one left with it on both (a retitled panel). Where a panel is
/// in its report is not part of what is compared.
fn pair_panels<'a>(
    base: &'a [Panel],
    head: &'a [Panel],
) -> Vec<(Option<Placed<'a>>, Option<Placed<'a>>)> {
    let mut base_of: Vec<Option<usize>> = head
        .iter()
        .map(|h| base.iter().position(|b| b.id == h.id))
        .collect();
    let mut taken: BTreeSet<usize> = base_of.iter().flatten().copied().collect();
    for h in 0..head.len() {
        if base_of[h].is_some() {
            continue;
        }
        let query = &head[h].query;
        let in_base: Vec<usize> = (0..base.len())
            .filter(|i| !taken.contains(i) && base[*i].query == *query)
            .collect();
        let in_head = (0..head.len())
            .filter(|&i| base_of[i].is_none() && head[i].query == *query)
            .count();
        if let ([b], 1) = (in_base.as_slice(), in_head) {
            base_of[h] = Some(*b);
            taken.insert(*b);
        }
    }
    let mut out: Vec<_> = base_of
        .into_iter()
        .enumerate()
        .map(|(h, b)| (b.map(|b| (b, &base[b])), Some((h, &head[h]))))
        .collect();
    out.extend(
        (0..base.len())
            .filter(|i| !taken.contains(i))
            .map(|b| (Some((b, &base[b])), None)),
    );
    out
}

fn compare_panels(b: Option<&Report>, h: Option<&Report>, sides: &Sides) -> Vec<PanelDiff> {
    let none: [Panel; 0] = [];
    let bpanels = b.map_or(&none[..], |r| r.panels.as_slice());
    let hpanels = h.map_or(&none[..], |r| r.panels.as_slice());
    let report = h
        .or(b)
        .map(|r| r.path.display().to_string())
        .unwrap_or_default();
    let stem = h.or(b).map(|r| r.name.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for (bp, hp) in pair_panels(bpanels, hpanels) {
        let Some((position, any)) = hp.or(bp) else {
            continue;
        };
        let draw = |side: &str,
                    p: Option<Placed>,
                    res: &BTreeMap<String, Table>,
                    shared: Bounds|
         -> (Option<String>, Option<String>, Bounds) {
            let Some((_, p)) = p else {
                return (None, None, Bounds::default());
            };
            let Some(table) = res.get(&p.query) else {
                return (
                    None,
                    Some(format!("no query named {:?}", p.query)),
                    Bounds::default(),
                );
            };
            let meta = Meta {
                id: format!("{side}-{stem}-{}", html_id(&p.id)),
                title: p.title.clone(),
                description: if p.description.is_empty() {
                    format!("{} chart of query {}", p.chart.kind(), p.query)
                } else {
                    p.description.clone()
                },
                // Periods are judged partial on the site, which knows the data's range.
                data_range: None,
                canvas: crate::chart::style::WIDE,
            };
            // Drawn from what the site would publish: the privacy guard, then ids masked and
            // long labels cut.
            let drawn = crate::privacy::publish(p, table, sides.privacy)
                .and_then(|(g, _)| g.chart.render_within(&g.drawn, &meta, shared));
            match drawn {
                Ok((svg, bounds)) => (svg, None, bounds),
                Err(e) => (None, Some(format!("{e:#}")), Bounds::default()),
            }
        };
        let (_, before_error, before_bounds) = draw("base", bp, sides.base, Bounds::default());
        let (_, after_error, after_bounds) = draw("head", hp, sides.head, Bounds::default());
        let definition_changed = bp.map(|(_, p)| p) != hp.map(|(_, p)| p);
        let status = match (bp, hp) {
            (None, _) => Status::Added,
            (_, None) => Status::Removed,
            (Some((_, bp)), Some((_, hp))) => {
                let results_changed = sides
                    .status_of
                    .get(hp.query.as_str())
                    .is_some_and(|s| *s != Status::Unchanged)
                    || bp.query != hp.query;
                if definition_changed || results_changed || before_error != after_error {
                    Status::Changed
                } else {
                    Status::Unchanged
                }
            }
        };
        // Drawn again on the axes both sides' data need, each side with ids of its own.
        let (before_svg, after_svg) = if status == Status::Unchanged {
            (None, None)
        } else {
            let shared = before_bounds.union(after_bounds);
            (
                draw("base", bp, sides.base, shared).0,
                draw("head", hp, sides.head, shared).0,
            )
        };
        out.push(PanelDiff {
            report: report.clone(),
            id: any.id.clone(),
            panel: position + 1,
            title: any.title.clone(),
            query: any.query.clone(),
            status,
            definition_changed,
            before_svg,
            after_svg,
            before_error,
            after_error,
        });
    }
    out
}

/// A panel id as part of an HTML id (no spaces; `/` and `.` as `-`).
pub fn html_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
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
