//! Site: report definitions + query results → pages, as `(path, bytes)` pairs.
//!
//! Nothing here touches the disk; [`output::write`] is the one writer. Each panel is a title, an
//! inline SVG chart, its data as an HTML table (collapsed) and a link to the same data as
//! CSV under `data/` (made by [`output::to_csv`]). Every string from the data is escaped by
//! askama in HTML.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use askama::Template;

use crate::chart::{Chart, Meta};
use crate::config::PrivacySettings;
use crate::definition::{Panel, Report};
use crate::output::{self, Page};
use crate::privacy::{self, Guarded};
use crate::query::{Table, Value};

const CSS: &str = include_str!("style.css");
/// Rows of the HTML data table at most; the CSV has them all.
const HTML_ROWS: usize = 500;

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

/// Every page the site has, and what was held back of the data to publish it.
#[derive(Debug, Default)]
pub struct Site {
    pub pages: Vec<Page>,
    /// One line per panel whose result had values masked, cleaned or cut
    /// ([`output::publishable`]), naming the report and the panel.
    pub held: Vec<String>,
}

/// Builds every page: the index and one page per report, plus a CSV per panel. Every panel's
/// result goes through the privacy guard first, then [`output::publishable`]; only what they
/// return is drawn and published.
pub fn render(
    reports: &[Report],
    results: &BTreeMap<String, Table>,
    range: Option<(String, String)>,
    policy: PrivacySettings,
) -> Result<Site> {
    let mut pages = Vec::new();
    let mut held_back = Vec::new();
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
            let mut guarded = privacy::guard(panel, table, policy).with_context(ctx)?;
            let (drawn, _) = output::publishable(&guarded.drawn).with_context(ctx)?;
            let (published, held) = output::publishable(&guarded.published).with_context(ctx)?;
            if !held.is_empty() {
                held_back.push(format!("{}: {held}", ctx()));
            }
            guarded.drawn = drawn;
            guarded.published = published;
            let id = format!("p{}", i + 1);
            let csv = format!("data/{}/{}.csv", report.name, id);
            let (view, page) =
                render_panel(panel, &guarded, &id, &report.name, &csv).with_context(ctx)?;
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
    Ok(Site {
        pages,
        held: held_back,
    })
}

fn render_panel(
    panel: &Panel,
    guarded: &Guarded,
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
    let svg = guarded.chart.render(&guarded.drawn, &meta)?;
    let table = &guarded.published;
    let mut notes = guarded.notes.clone();
    let (shown, limit) = match &panel.chart {
        Chart::Table(spec) => (spec.columns.clone(), spec.limit.unwrap_or(HTML_ROWS)),
        _ => (None, HTML_ROWS),
    };
    let open = svg.is_none();
    let gaps = rows_with_gaps(&guarded.chart, &guarded.drawn);
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
        bytes: output::to_csv(table).into_bytes(),
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
fn rows_with_gaps(chart: &Chart, table: &Table) -> usize {
    if matches!(chart, Chart::Table(_)) {
        return 0;
    }
    let cols: Vec<usize> = chart
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
