//! Site: report definitions + query results → pages, as `(path, bytes)` pairs.
//!
//! Nothing here touches the disk; [`write`] is the one writer. Each panel is a title, an
//! inline SVG chart, its data as an HTML table (collapsed) and a link to the same data as
//! CSV under `data/`. Every string from the data is escaped by askama in HTML; CSV cells
//! that a spreadsheet would run as a formula are neutralised.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use anyhow::{Context, Result, bail};
use askama::Template;
use regex::Regex;

use crate::chart::{Chart, Meta};
use crate::definition::{Panel, Report};
use crate::query::{Table, Value};

const CSS: &str = include_str!("style.css");
/// Rows of the HTML data table at most; the CSV has them all.
const HTML_ROWS: usize = 500;

/// One output file, its path relative to the site folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

struct ReportLink {
    href: String,
    title: String,
    description: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    css: &'a str,
    reports: Vec<ReportLink>,
    range: Option<(String, String)>,
}

struct TableView {
    headers: Vec<String>,
    /// (text, is numeric)
    rows: Vec<Vec<(String, bool)>>,
    total: usize,
}

struct PanelView {
    id: String,
    title: String,
    description: String,
    svg: Option<String>,
    notes: Vec<String>,
    table: TableView,
    csv: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    css: &'a str,
    title: &'a str,
    description: &'a str,
    panels: Vec<PanelView>,
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("valid regex")
});

/// Builds every page: the index and one page per report, plus a CSV per panel.
pub fn render(
    reports: &[Report],
    results: &BTreeMap<String, Table>,
    range: Option<(String, String)>,
) -> Result<Vec<Page>> {
    let mut pages = Vec::new();
    for report in reports {
        let mut panels = Vec::new();
        for (i, panel) in report.panels.iter().enumerate() {
            let ctx = || {
                format!(
                    "{}: panel {} ({:?})",
                    report.path.display(),
                    i + 1,
                    panel.title
                )
            };
            let table = results.get(&panel.query).with_context(|| {
                format!(
                    "{}: no query named {:?} (queries/{}.sql)",
                    ctx(),
                    panel.query,
                    panel.query
                )
            })?;
            refuse_ids(table).with_context(ctx)?;
            let id = format!("p{}", i + 1);
            let csv = format!("data/{}/{}.csv", report.name, id);
            let (view, page) =
                render_panel(panel, table, &id, &report.name, &csv).with_context(ctx)?;
            panels.push(view);
            pages.push(page);
        }
        let html = ReportPage {
            css: CSS,
            title: &report.title,
            description: &report.description,
            panels,
        }
        .render()
        .with_context(|| format!("{}: cannot render page", report.path.display()))?;
        pages.push(Page {
            path: PathBuf::from(format!("{}.html", report.name)),
            bytes: html.into_bytes(),
        });
    }
    let index = IndexPage {
        css: CSS,
        reports: reports
            .iter()
            .map(|r| ReportLink {
                href: format!("{}.html", r.name),
                title: r.title.clone(),
                description: r.description.clone(),
            })
            .collect(),
        range,
    }
    .render()
    .context("cannot render index page")?;
    pages.push(Page {
        path: PathBuf::from("index.html"),
        bytes: index.into_bytes(),
    });
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(pages)
}

fn render_panel(
    panel: &Panel,
    table: &Table,
    id: &str,
    report: &str,
    csv: &str,
) -> Result<(PanelView, Page)> {
    let meta = Meta {
        id: format!("{report}-{id}"),
        title: panel.title.clone(),
        description: if panel.description.is_empty() {
            format!("{} chart of query {}", panel.chart.kind(), panel.query)
        } else {
            panel.description.clone()
        },
    };
    let svg = panel.chart.render(table, &meta)?;
    let mut notes = Vec::new();
    let (shown, limit) = match &panel.chart {
        Chart::Table(spec) => (spec.columns.clone(), spec.limit.unwrap_or(HTML_ROWS)),
        _ => (None, HTML_ROWS),
    };
    let open = svg.is_none();
    let gaps = rows_with_gaps(panel, table);
    if gaps > 0 {
        notes.push(format!(
            "{gaps} rows have an empty value in a column the chart reads and are left out of it."
        ));
    }
    if table.rows.is_empty() && svg.is_none() {
        notes.push("No data for this period.".into());
    }
    let cols: Vec<usize> = match &shown {
        Some(names) => names.iter().filter_map(|n| table.index_of(n)).collect(),
        None => (0..table.columns.len()).collect(),
    };
    let view = TableView {
        headers: cols
            .iter()
            .map(|&c| table.columns[c].name.clone())
            .collect(),
        rows: table
            .rows
            .iter()
            .take(limit)
            .map(|r| {
                cols.iter()
                    .map(|&c| {
                        (
                            r[c].to_string(),
                            matches!(r[c], Value::Int(_) | Value::Float(_)),
                        )
                    })
                    .collect()
            })
            .collect(),
        total: table.rows.len(),
    };
    let page = Page {
        path: PathBuf::from(csv),
        bytes: to_csv(table).into_bytes(),
    };
    Ok((
        PanelView {
            id: id.to_string(),
            title: panel.title.clone(),
            description: panel.description.clone(),
            svg,
            notes,
            table: view,
            csv: csv.to_string(),
            open,
        },
        page,
    ))
}

/// Rows with an empty (null or NaN) value in a column the chart reads.
fn rows_with_gaps(panel: &Panel, table: &Table) -> usize {
    if matches!(panel.chart, Chart::Table(_)) {
        return 0;
    }
    let cols: Vec<usize> = panel
        .chart
        .columns()
        .iter()
        .filter_map(|(_, c)| table.index_of(c))
        .collect();
    table
        .rows
        .iter()
        .filter(|r| cols.iter().any(|&c| r[c].is_null()))
        .count()
}

/// A published page must not carry a session or user id: refuse results that hold one.
fn refuse_ids(table: &Table) -> Result<()> {
    for c in &table.columns {
        if c.name == "session_id" || c.name == "user_id" {
            bail!(
                "the result has a column {:?}; ids are never published (aggregate them, e.g. count(DISTINCT {}))",
                c.name,
                c.name
            );
        }
    }
    for row in &table.rows {
        for v in row {
            if let Value::Text(s) = v
                && UUID.is_match(s)
            {
                bail!(
                    "the result holds a UUID-like value; session and user ids are never published"
                );
            }
        }
    }
    Ok(())
}

/// `s` with every UUID-like part replaced by `‹id›`.
pub fn mask_ids(s: &str) -> String {
    UUID.replace_all(s, "‹id›").into_owned()
}

/// RFC 4180 CSV. Text cells a spreadsheet would treat as a formula get a leading `'`.
pub fn to_csv(table: &Table) -> String {
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(
        table
            .columns
            .iter()
            .map(|c| csv_cell(&c.name, true))
            .collect(),
        &mut out,
    );
    for row in &table.rows {
        line(
            row.iter()
                .map(|v| csv_cell(&v.to_string(), matches!(v, Value::Text(_))))
                .collect(),
            &mut out,
        );
    }
    out
}

fn csv_cell(s: &str, text: bool) -> String {
    let mut s = s.to_string();
    if text && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The one writer: puts `pages` under `dir` and removes pages and CSVs an earlier build left
/// that this one did not write (a renamed report, a removed panel).
pub fn write(dir: &Path, pages: &[Page]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let wanted: BTreeSet<PathBuf> = pages.iter().map(|p| p.path.clone()).collect();
    for stale in owned_files(dir)? {
        let rel = stale.strip_prefix(dir).unwrap_or(&stale).to_path_buf();
        if !wanted.contains(&rel) {
            std::fs::remove_file(&stale)
                .with_context(|| format!("cannot remove stale {}", stale.display()))?;
        }
    }
    for p in pages {
        let path = dir.join(&p.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &p.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Files of the kinds this writer makes: `*.html` at the top, `data/**/*.csv`.
fn owned_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let path = e?.path();
            if path.is_dir() {
                if path.starts_with(dir.join("data")) {
                    stack.push(path);
                }
            } else if (d == dir && path.extension().is_some_and(|x| x == "html"))
                || (d != dir && path.extension().is_some_and(|x| x == "csv"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Column, Kind};

    fn table(rows: Vec<Vec<Value>>) -> Table {
        Table {
            columns: vec![
                Column {
                    name: "shell".into(),
                    kind: Kind::Text,
                },
                Column {
                    name: "sessions".into(),
                    kind: Kind::Int,
                },
            ],
            rows,
        }
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        let t = table(vec![
            vec![Value::Text("=cmd|' /C calc'!A0".into()), Value::Int(-3)],
            vec![Value::Text("a,\"b\"".into()), Value::Int(1)],
            vec![Value::Null, Value::Int(2)],
        ]);
        assert_eq!(
            to_csv(&t),
            "shell,sessions\r\n'=cmd|' /C calc'!A0,-3\r\n\"a,\"\"b\"\"\",1\r\n,2\r\n"
        );
    }

    #[test]
    fn ids_are_masked() {
        assert_eq!(
            mask_ids("a 3F0C5E52-8a0e-4c6b-9d0b-2f7c6a1e9b41 b"),
            "a ‹id› b"
        );
        assert_eq!(mask_ids("bash"), "bash");
    }

    #[test]
    fn ids_are_never_published() {
        let t = table(vec![vec![
            Value::Text("3f0c5e52-8a0e-4c6b-9d0b-2f7c6a1e9b41".into()),
            Value::Int(1),
        ]]);
        assert!(refuse_ids(&t).is_err());
        let mut t = table(vec![]);
        t.columns[0].name = "user_id".into();
        assert!(refuse_ids(&t).is_err());
        assert!(
            refuse_ids(&table(vec![vec![
                Value::Text("bash".into()),
                Value::Int(1)
            ]]))
            .is_ok()
        );
    }
}
