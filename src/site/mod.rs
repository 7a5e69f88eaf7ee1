//! Site: report definitions + query results → pages, as `(path, bytes)` pairs.
//!
//! Nothing here touches the disk; [`output::write`] is the one writer. Each panel is a title, an
//! inline SVG chart, its data as an HTML table (collapsed), a link to the same data as CSV
//! under `data/` (made by [`output::to_csv`]) and its query's file and SQL (collapsed). Every
//! page has a nav bar linking the index and every report ([`Report::listing`] order), and
//! says where its data comes from ([`Provenance`]: each source's range and the warehouse
//! commit, read from the warehouse by the caller, never from the clock). Every string from
//! the data, and every query's SQL, is escaped by askama in HTML.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use askama::Template;

use crate::chart::{Chart, Meta};
use crate::config::PrivacySettings;
use crate::definition::{Panel, Report};
use crate::output::{self, Page};
use crate::privacy::{self, Guarded};
use crate::query::{Query, Table, Value};

const CSS: &str = include_str!("style.css");
/// Rows of the HTML data table at most; the CSV has them all.
const HTML_ROWS: usize = 500;

/// Where the site's data comes from, as the warehouse says: what each page shows of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    /// The warehouse commit the site was built from (0: nothing committed yet).
    pub commit: u64,
    /// Every configured source, in `report.toml` order.
    pub sources: Vec<SourceRange>,
    /// For each report (by file stem), the positions in `sources` of the sources its panels
    /// read; a report not named here shows every source.
    pub reads: BTreeMap<String, Vec<usize>>,
}

/// One source and the first and last day its data has (`None`: none yet).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRange {
    pub name: String,
    pub format: String,
    pub range: Option<(String, String)>,
}

/// A link of the nav bar.
struct NavLink {
    href: String,
    title: String,
    /// The page it links is the one shown (`aria-current="page"`).
    current: bool,
}

/// What a page shows of [`Provenance`].
struct ProvenanceView<'a> {
    commit: u64,
    sources: Vec<&'a SourceRange>,
}

impl ProvenanceView<'_> {
    /// The first and last day of the page's sources' data together (days since 1970-01-01).
    fn data_range(&self) -> Option<(i32, i32)> {
        let day = |s: &str| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| (d - chrono::NaiveDate::default()).num_days() as i32)
        };
        let days: Vec<(i32, i32)> = self
            .sources
            .iter()
            .filter_map(|s| s.range.as_ref())
            .filter_map(|(a, b)| Some((day(a)?, day(b)?)))
            .collect();
        let first = days.iter().map(|d| d.0).min()?;
        let last = days.iter().map(|d| d.1).max()?;
        Some((first, last))
    }
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
    nav: Vec<NavLink>,
    reports: Vec<ReportLink>,
    provenance: ProvenanceView<'a>,
}

/// A panel's query: its file and its SQL.
struct QueryView {
    file: String,
    sql: String,
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
    /// The chart drawn wide (for a desktop), and narrow (for a phone) when its kind has a
    /// narrow layout; the page shows the one that fits unscaled.
    svg: Option<String>,
    narrow: Option<String>,
    notes: Vec<String>,
    table: TableView,
    csv: String,
    open: bool,
    query: QueryView,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    css: &'a str,
    nav: Vec<NavLink>,
    provenance: ProvenanceView<'a>,
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
/// return is drawn and published. `queries` are the definitions the `results` came from.
pub fn render(
    reports: &[Report],
    queries: &[Query],
    results: &BTreeMap<String, Table>,
    provenance: &Provenance,
    policy: PrivacySettings,
) -> Result<Site> {
    render_some(reports, queries, results, provenance, policy, &|_| true)
}

/// [`render`], but only the pages of the reports `only` picks (and the index; the nav bar
/// still links every report): what `report serve` re-renders after an edit.
pub fn render_some(
    reports: &[Report],
    queries: &[Query],
    results: &BTreeMap<String, Table>,
    provenance: &Provenance,
    policy: PrivacySettings,
    only: &dyn Fn(&Report) -> bool,
) -> Result<Site> {
    let mut pages = Vec::new();
    let mut held_back = Vec::new();
    let listed = Report::listing(reports);
    let nav = |current: &str| -> Vec<NavLink> {
        let index = NavLink {
            href: "index.html".to_string(),
            title: "Reports".to_string(),
            current: current == "index.html",
        };
        let pages = listed.iter().map(|r| {
            let href = format!("{}.html", r.name);
            NavLink {
                current: href == current,
                href,
                title: r.title.clone(),
            }
        });
        std::iter::once(index).chain(pages).collect()
    };
    let queries: BTreeMap<&str, &Query> = queries.iter().map(|q| (q.name.as_str(), q)).collect();
    for report in reports.iter().filter(|r| only(r)) {
        let shown = provenance.of(Some(&report.name));
        let range = shown.data_range();
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
            let (guarded, held) = privacy::publish(panel, table, policy).with_context(ctx)?;
            if !held.is_empty() {
                held_back.push(format!("{}: {held}", ctx()));
            }
            let id = format!("p{}", i + 1);
            let csv = format!("data/{}/{}.csv", report.name, id);
            let query = match queries.get(panel.query.as_str()) {
                Some(q) => query_view(q),
                None => bail!("{}: no query file for {:?}", ctx(), panel.query),
            };
            let (view, page) = render_panel(panel, &guarded, &id, &report.name, &csv, query, range)
                .with_context(ctx)?;
            panels.push(view);
            pages.push(page);
        }
        let html = ReportPage {
            css: CSS,
            nav: nav(&format!("{}.html", report.name)),
            provenance: shown,
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
        nav: nav("index.html"),
        reports: listed
            .iter()
            .map(|r| ReportLink {
                href: format!("{}.html", r.name),
                title: r.title.clone(),
                description: r.description.clone(),
            })
            .collect(),
        provenance: provenance.of(None),
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
    query: QueryView,
    range: Option<(i32, i32)>,
) -> Result<(PanelView, Page)> {
    let meta = Meta {
        id: format!("{report}-{id}"),
        title: panel.title.clone(),
        description: if panel.description.is_empty() {
            format!("{} chart of query {}", panel.chart.kind(), panel.query)
        } else {
            panel.description.clone()
        },
        data_range: range,
        canvas: crate::chart::style::WIDE,
    };
    let svg = guarded.chart.render(&guarded.drawn, &meta)?;
    let narrow = if guarded.chart.has_narrow_layout() {
        let meta = Meta {
            id: format!("{}-narrow", meta.id),
            canvas: crate::chart::style::NARROW,
            ..meta.clone()
        };
        guarded.chart.render(&guarded.drawn, &meta)?
    } else {
        None
    };
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
    notes.extend(partial_periods(&guarded.chart, &guarded.drawn, range));
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
            narrow,
            notes,
            table: view,
            csv: csv.to_string(),
            open,
            query,
        },
        page,
    ))
}

/// What a line chart over periods says of its first and last period when the data's `range`
/// does not cover it whole: `The last week (from 2023-08-28) holds 1 of its 7 days of data,
/// drawn dashed.`
fn partial_periods(chart: &Chart, drawn: &Table, range: Option<(i32, i32)>) -> Vec<String> {
    let (Some((period, x, drawn_as)), Some(range)) = (chart.period(), range) else {
        return Vec::new();
    };
    let Some(x) = drawn.index_of(x) else {
        return Vec::new();
    };
    let days: BTreeSet<i32> = drawn
        .rows
        .iter()
        .filter_map(|r| match r[x] {
            Value::Date(d) => Some(d),
            _ => None,
        })
        .collect();
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return Vec::new();
    };
    let mut ends = vec![("first", first)];
    if last != first {
        ends.push(("last", last));
    }
    ends.into_iter()
        .filter_map(|(which, day)| {
            let (held, of) = period.partial(day, range)?;
            Some(format!(
                "The {which} {} (from {}) holds {held} of its {of} days of data, {drawn_as}.",
                period.name(),
                Value::Date(day)
            ))
        })
        .collect()
}

impl Provenance {
    /// What the page of `report` shows (the index: `None`, every source).
    fn of(&self, report: Option<&str>) -> ProvenanceView<'_> {
        let sources = match report.and_then(|r| self.reads.get(r)) {
            Some(read) => read.iter().filter_map(|&i| self.sources.get(i)).collect(),
            None => self.sources.iter().collect(),
        };
        ProvenanceView {
            commit: self.commit,
            sources,
        }
    }
}

/// A query as its panel shows it: the file under its folder's name (`queries/NAME.sql`, never
/// the full path, which differs between machines) and the SQL without surrounding blank lines.
fn query_view(q: &Query) -> QueryView {
    let file = match (
        q.path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str()),
        q.path.file_name().and_then(|n| n.to_str()),
    ) {
        (Some(dir), Some(file)) => format!("{dir}/{file}"),
        _ => format!("queries/{}.sql", q.name),
    };
    QueryView {
        file,
        sql: q
            .sql
            .trim_end()
            .trim_start_matches(['\n', '\r'])
            .to_string(),
    }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::query::{Column, Kind};

    fn report(name: &str, order: &str, query: &str) -> Report {
        let text = format!(
            "title = '{name} page'\n{order}\n[[panel]]\ntitle = 'Shells'\nquery = '{query}'\nchart = 'table'\nprivacy = 'public: a test'\n"
        );
        Report::parse(&text, Path::new(&format!("reports/{name}.toml"))).expect("valid")
    }

    fn query(name: &str, sql: &str) -> Query {
        Query {
            name: name.to_string(),
            path: PathBuf::from(format!("/somewhere/project/queries/{name}.sql")),
            sql: sql.to_string(),
        }
    }

    fn table() -> Table {
        Table {
            columns: vec![Column {
                name: "shell".into(),
                kind: Kind::Text,
            }],
            rows: vec![vec![Value::Text("zsh".into())]],
        }
    }

    fn provenance() -> Provenance {
        Provenance {
            commit: 7,
            sources: vec![
                SourceRange {
                    name: "batect".into(),
                    format: "abacus".into(),
                    range: Some(("2023-08-14".into(), "2023-09-02".into())),
                },
                SourceRange {
                    name: "go".into(),
                    format: "go-telemetry".into(),
                    range: Some(("2024-01-01".into(), "2024-02-05".into())),
                },
                SourceRange {
                    name: "pace".into(),
                    format: "pace".into(),
                    range: None,
                },
            ],
            reads: BTreeMap::from([("go".to_string(), vec![1])]),
        }
    }

    /// The site of three reports (`go` reads only the `go` source), as page path → text.
    fn site(sql: &str) -> BTreeMap<String, String> {
        let reports = [
            report("adoption", "", "shells"),
            report("go", "order = 2", "shells"),
            report("overview", "order = 1", "shells"),
        ];
        let results = BTreeMap::from([("shells".to_string(), table())]);
        let built = render(
            &reports,
            &[query("shells", sql)],
            &results,
            &provenance(),
            PrivacySettings::default(),
        )
        .expect("renders");
        built
            .pages
            .into_iter()
            .map(|p| {
                (
                    p.path.display().to_string(),
                    String::from_utf8(p.bytes).expect("utf-8"),
                )
            })
            .collect()
    }

    fn nav_of(page: &str) -> &str {
        let start = page.find("<nav").expect("a nav");
        let end = page.find("</nav>").expect("a nav");
        &page[start..end]
    }

    #[test]
    fn every_page_links_every_report_in_order_and_marks_itself() {
        let pages = site("SELECT 'zsh' AS shell");
        let htmls: Vec<&String> = pages.keys().filter(|p| p.ends_with(".html")).collect();
        assert_eq!(
            htmls,
            ["adoption.html", "go.html", "index.html", "overview.html"]
        );
        for (path, page) in pages.iter().filter(|(p, _)| p.ends_with(".html")) {
            let nav = nav_of(page);
            let links: Vec<&str> = nav
                .match_indices("href=\"")
                .map(|(i, _)| {
                    let rest = &nav[i + 6..];
                    &rest[..rest.find('"').expect("closed")]
                })
                .collect();
            assert_eq!(
                links,
                ["index.html", "overview.html", "go.html", "adoption.html"],
                "{path}"
            );
            let body = &page[page.find("<body>").expect("a body")..];
            assert_eq!(body.matches("aria-current").count(), 1, "{path}");
            assert!(
                nav.contains(&format!("<a href=\"{path}\" aria-current=\"page\">")),
                "{path}: {nav}"
            );
        }
        let index = &pages["index.html"];
        let listed = |title: &str| index.rfind(&format!(">{title}</a>")).expect(title);
        assert!(listed("overview page") < listed("go page"));
        assert!(listed("go page") < listed("adoption page"));
    }

    #[test]
    fn a_panel_shows_its_query_file_and_its_sql_escaped() {
        let pages = site("\n-- <script>alert(1)</script> & co\nSELECT 'zsh' AS shell\n\n");
        let page = &pages["overview.html"];
        assert!(
            page.contains(
                "<summary>Query · <code>queries/shells.sql</code></summary>\n<pre><code>-- &#60;script&#62;alert(1)&#60;/script&#62; &#38; co\nSELECT &#39;zsh&#39; AS shell</code></pre>"
            ),
            "{page}"
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("/somewhere"), "{page}");
    }

    #[test]
    fn pages_say_each_sources_range_and_the_commit() {
        let pages = site("SELECT 'zsh' AS shell");
        let index = &pages["index.html"];
        assert!(
            index.contains("<p class=\"provenance\">Built from warehouse commit 7.</p>"),
            "{index}"
        );
        for row in [
            "<tr><th scope=\"row\">batect</th><td>abacus</td><td><time datetime=\"2023-08-14\">2023-08-14</time></td><td><time datetime=\"2023-09-02\">2023-09-02</time></td></tr>",
            "<tr><th scope=\"row\">go</th><td>go-telemetry</td><td><time datetime=\"2024-01-01\">2024-01-01</time></td><td><time datetime=\"2024-02-05\">2024-02-05</time></td></tr>",
            "<tr><th scope=\"row\">pace</th><td>pace</td><td colspan=\"2\">no data yet</td></tr>",
        ] {
            assert!(index.contains(row), "{row}\n{index}");
        }
        assert_eq!(
            line_of(&pages["overview.html"], "<p class=\"provenance\">"),
            "<p class=\"provenance\">Data of batect (abacus) from <time datetime=\"2023-08-14\">2023-08-14</time> to <time datetime=\"2023-09-02\">2023-09-02</time>; of go (go-telemetry) from <time datetime=\"2024-01-01\">2024-01-01</time> to <time datetime=\"2024-02-05\">2024-02-05</time>; of pace (pace) none yet. Built from warehouse commit 7.</p>"
        );
        assert_eq!(
            line_of(&pages["go.html"], "<p class=\"provenance\">"),
            "<p class=\"provenance\">Data of go (go-telemetry) from <time datetime=\"2024-01-01\">2024-01-01</time> to <time datetime=\"2024-02-05\">2024-02-05</time>. Built from warehouse commit 7.</p>"
        );
    }

    fn line_of<'a>(page: &'a str, start: &str) -> &'a str {
        page.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start}: {page}"))
    }
}
