//! A [`Diff`] as `summary.md` (GitHub-flavoured Markdown for a PR comment), `index.html`
//! (side-by-side charts and result diffs) and JSON. Pure: strings in, strings out.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use askama::Template;

use super::{Diff, PanelDiff, QueryDiff, ReportDiff, Status};
use crate::expect::Failure;
use crate::output::Page;

/// A PR comment holds 65,536 characters; the summary stays under this.
pub const SUMMARY_LIMIT: usize = 60_000;
/// Rows of each list shown in the summary.
const SUMMARY_ROWS: usize = 10;

const CSS: &str = include_str!("../site/style.css");
const DIFF_CSS: &str = "\
.sides{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}\
.sides figure{margin:0}.added{color:#1a7f37}.removed{color:#cf222e}\
.status{font-weight:600}td.num,th.num{text-align:right}";

/// The output files: `index.html` and `summary.md`.
pub fn pages(diff: &Diff) -> Result<Vec<Page>> {
    Ok(vec![
        Page {
            path: PathBuf::from("index.html"),
            bytes: html(diff)?.into_bytes(),
        },
        Page {
            path: PathBuf::from("summary.md"),
            bytes: markdown(diff).into_bytes(),
        },
    ])
}

pub fn json(diff: &Diff) -> Result<String> {
    serde_json::to_string_pretty(diff).context("cannot write the diff as JSON")
}

/// Escapes text for a Markdown table cell or line: no markup, no HTML, one line.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace(['\n', '\r'], " "))
}

/// The size of a change in the column's unit: `+3 (+60 %)`, `−7.1 pp`.
pub fn change(c: &super::CellChange) -> String {
    c.change.clone()
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line saying what changed, first in every output.
pub fn headline(diff: &Diff) -> String {
    let q = |s: Status| diff.queries.iter().filter(|q| q.status == s).count();
    let p = |s: Status| diff.panels.iter().filter(|p| p.status == s).count();
    if !diff.has_changes() {
        return format!(
            "No change: {} and {} panels give the same results and charts.",
            count(diff.queries.len(), "query", "queries"),
            diff.panels.len()
        );
    }
    let mut line = format!(
        "{} changed, {} added, {} removed; {} changed, {} added, {} removed",
        count(q(Status::Changed), "query", "queries"),
        q(Status::Added),
        q(Status::Removed),
        count(p(Status::Changed), "panel", "panels"),
        p(Status::Added),
        p(Status::Removed),
    );
    let reports: Vec<&ReportDiff> = changed_reports(diff).collect();
    if !reports.is_empty() {
        let _ = write!(
            line,
            "; {}",
            count(reports.len(), "report file", "report files")
        );
        line.push_str(if reports.len() == 1 {
            " changes"
        } else {
            " change"
        });
    }
    if !diff.config.is_empty() {
        line.push_str("; the configuration changed");
    }
    line.push('.');
    line
}

fn changed_reports(diff: &Diff) -> impl Iterator<Item = &ReportDiff> {
    diff.reports
        .iter()
        .filter(|r| r.status != Status::Unchanged)
}

/// A changed report file as a row: its file (the head's), its title, what happened to it.
fn report_row(r: &ReportDiff) -> [String; 3] {
    [
        r.after.clone().or(r.before.clone()).unwrap_or_default(),
        r.title.clone(),
        report_change(r),
    ]
}

/// What happened to a report file: `renamed from reports/a.toml`, `added`, ….
fn report_change(r: &ReportDiff) -> String {
    match (r.status, &r.before) {
        (Status::Renamed, Some(before)) => format!("renamed from {before}"),
        (Status::Changed, _) => "title or description changed".to_string(),
        (s, _) => s.as_str().to_string(),
    }
}

fn why(q: &QueryDiff) -> String {
    let mut parts = Vec::new();
    if q.sql_changed && q.status == Status::Changed {
        parts.push("SQL changed".to_string());
    }
    if !q.reads_changed.is_empty() {
        parts.push(format!("reads changed {}", q.reads_changed.join(", ")));
    }
    if q.order_changed {
        parts.push("row order changed".into());
    }
    parts.join("; ")
}

fn md_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(
        out,
        "| {} |",
        header.iter().map(|h| md(h)).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(out, "|{}", " --- |".repeat(header.len().max(1)));
    for r in rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | ")
        );
    }
}

fn md_failures(out: &mut String, title: &str, failures: &[Failure]) {
    if failures.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### {title}\n");
    for f in failures {
        let _ = writeln!(
            out,
            "- {}: expectation {} on {}: {}: {}",
            md(&f.origin.to_string()),
            f.index,
            code(&f.query),
            md(&f.expectation),
            md(&f.violation.message)
        );
        if !f.violation.rows.is_empty() {
            out.push('\n');
            md_table(out, &f.violation.columns, &f.violation.rows);
            out.push('\n');
        }
    }
}

/// `summary.md`: the headline, expectation failures, a table of changed queries and panels,
/// then the row changes of each changed query; cut with a note past [`SUMMARY_LIMIT`].
pub fn markdown(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## report diff\n");
    let _ = writeln!(
        out,
        "Base {} → head {}\n",
        code(&diff.base),
        code(&diff.head)
    );
    let _ = writeln!(out, "**{}**", headline(diff));
    if let Some(link) = &diff.link {
        let _ = writeln!(
            out,
            "\n[The whole diff: charts before and after, every changed row](<{link}>)"
        );
    }
    if !diff.config.is_empty() {
        let _ = writeln!(out, "\n### Configuration\n");
        for c in &diff.config {
            let _ = writeln!(out, "- {}", md(c));
        }
    }
    let reports: Vec<&ReportDiff> = changed_reports(diff).collect();
    if !reports.is_empty() {
        let _ = writeln!(out, "\n### Reports\n");
        let rows: Vec<Vec<String>> = reports.iter().map(|r| report_row(r).to_vec()).collect();
        md_table(
            &mut out,
            &["report", "title", "change"].map(String::from),
            &rows,
        );
    }
    let new_failures: Vec<Failure> = diff
        .head_failures
        .iter()
        .filter(|f| !diff.base_failures.iter().any(|b| super::same_failure(b, f)))
        .cloned()
        .collect();
    md_failures(
        &mut out,
        "Expectations not met on head",
        &diff.head_failures,
    );
    let fixed: Vec<Failure> = diff
        .base_failures
        .iter()
        .filter(|f| !diff.head_failures.iter().any(|h| super::same_failure(h, f)))
        .cloned()
        .collect();
    md_failures(&mut out, "Expectations no longer broken", &fixed);
    let _ = new_failures;
    let changed: Vec<&QueryDiff> = diff
        .queries
        .iter()
        .filter(|q| q.status != Status::Unchanged)
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "\n### Queries\n");
        let rows: Vec<Vec<String>> = changed
            .iter()
            .map(|q| {
                vec![
                    q.name.clone(),
                    q.status.as_str().to_string(),
                    format!("{} → {}", q.rows_before, q.rows_after),
                    q.added_count.to_string(),
                    q.removed_count.to_string(),
                    q.changed_count.to_string(),
                    why(q),
                ]
            })
            .collect();
        md_table(
            &mut out,
            &[
                "query", "status", "rows", "added", "removed", "changed", "why",
            ]
            .map(String::from),
            &rows,
        );
    }
    let panels: Vec<&PanelDiff> = diff
        .panels
        .iter()
        .filter(|p| p.status != Status::Unchanged)
        .collect();
    if !panels.is_empty() {
        let _ = writeln!(out, "\n### Panels\n");
        let rows: Vec<Vec<String>> = panels
            .iter()
            .map(|p| {
                let mut note = Vec::new();
                if p.definition_changed && p.status == Status::Changed {
                    note.push("definition changed".to_string());
                }
                if let Some(e) = &p.after_error {
                    note.push(format!("chart fails: {e}"));
                }
                vec![
                    p.report.clone(),
                    format!("{} {}", p.panel, p.title),
                    p.query.clone(),
                    p.status.as_str().to_string(),
                    note.join("; "),
                ]
            })
            .collect();
        md_table(
            &mut out,
            &["report", "panel", "query", "status", "note"].map(String::from),
            &rows,
        );
        if diff.link.is_none() {
            let _ = writeln!(
                out,
                "\nThe charts before and after are side by side in `diff/index.html`."
            );
        } else {
            let _ = writeln!(
                out,
                "\nThe charts before and after are side by side in the whole diff (linked above)."
            );
        }
    }
    for q in &changed {
        md_query(&mut out, q);
    }
    let unchanged = diff.queries.len() - changed.len();
    if unchanged > 0 {
        blank(&mut out);
        let _ = writeln!(out, "{} unchanged.", count(unchanged, "query", "queries"));
    }
    cut(out)
}

/// Ends `out` with one blank line, so a heading or paragraph can follow.
fn blank(out: &mut String) {
    while !out.ends_with("\n\n") {
        out.push('\n');
    }
}

fn md_query(out: &mut String, q: &QueryDiff) {
    blank(out);
    let _ = writeln!(out, "#### {} ({})\n", code(&q.name), q.status.as_str());
    let w = why(q);
    if !w.is_empty() {
        let _ = writeln!(out, "{}\n", md(&w));
    }
    for note in q.privacy.iter().chain(&q.withheld) {
        let _ = writeln!(out, "{}\n", md(note));
    }
    if q.columns_before != q.columns_after && q.status == Status::Changed {
        let gone: Vec<&String> = q
            .columns_before
            .iter()
            .filter(|c| !q.columns_after.contains(c))
            .collect();
        let new: Vec<&String> = q
            .columns_after
            .iter()
            .filter(|c| !q.columns_before.contains(c))
            .collect();
        let list = |v: &[&String]| v.iter().map(|c| code(c)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            out,
            "Columns: {} → {}{}{}\n",
            q.columns_before
                .iter()
                .map(|c| code(c))
                .collect::<Vec<_>>()
                .join(", "),
            q.columns_after
                .iter()
                .map(|c| code(c))
                .collect::<Vec<_>>()
                .join(", "),
            if new.is_empty() {
                String::new()
            } else {
                format!("; added {}", list(&new))
            },
            if gone.is_empty() {
                String::new()
            } else {
                format!("; removed {}", list(&gone))
            },
        );
    }
    if q.withheld.is_some() {
        return;
    }
    if !q.key.is_empty() && q.status == Status::Changed {
        let _ = writeln!(
            out,
            "Rows matched by {}.\n",
            q.key.iter().map(|c| code(c)).collect::<Vec<_>>().join(", ")
        );
    }
    if q.changed_count > 0 {
        let _ = writeln!(out, "Changed rows ({}):\n", q.changed_count);
        let mut header = q.key.clone();
        header.extend(["column", "before", "after", "change"].map(String::from));
        let rows: Vec<Vec<String>> = q
            .changed
            .iter()
            .flat_map(|r| {
                r.cells.iter().map(move |c| {
                    let mut row = r.key.clone();
                    row.extend([
                        c.column.clone(),
                        c.before.clone(),
                        c.after.clone(),
                        change(c),
                    ]);
                    row
                })
            })
            .take(SUMMARY_ROWS)
            .collect();
        md_table(out, &header, &rows);
        more(
            out,
            q.changed.iter().map(|r| r.cells.len()).sum(),
            rows.len(),
        );
    }
    for (label, n, rows, header) in [
        ("Added rows", q.added_count, &q.added, &q.columns_after),
        (
            "Removed rows",
            q.removed_count,
            &q.removed,
            &q.columns_before,
        ),
    ] {
        if n == 0 {
            continue;
        }
        blank(out);
        let _ = writeln!(out, "{label} ({n}):\n");
        let shown: Vec<Vec<String>> = rows.iter().take(SUMMARY_ROWS).cloned().collect();
        md_table(out, header, &shown);
        more(out, n, shown.len());
    }
}

fn more(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "\n… and {} more.", total - shown);
    }
}

/// Cuts `text` at a line end under the limit, with a note saying so.
fn cut(text: String) -> String {
    if text.len() <= SUMMARY_LIMIT {
        return text;
    }
    let note = format!(
        "\n\n**The summary is cut here: it has {} characters, more than a comment holds. The whole diff is in `diff/index.html`.**\n",
        text.len()
    );
    let mut at = SUMMARY_LIMIT - note.len();
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let at = text[..at].rfind('\n').unwrap_or(at);
    format!("{}{note}", &text[..at])
}

struct CellView {
    text: String,
    num: bool,
}

struct ListView {
    label: String,
    class: &'static str,
    total: usize,
    header: Vec<String>,
    rows: Vec<Vec<CellView>>,
}

struct QueryView {
    name: String,
    status: &'static str,
    why: String,
    columns_before: String,
    columns_after: String,
    columns_changed: bool,
    key: String,
    /// What the privacy guard held back.
    notes: Vec<String>,
    lists: Vec<ListView>,
}

struct PanelView {
    id: String,
    report: String,
    panel: usize,
    title: String,
    query: String,
    status: &'static str,
    definition_changed: bool,
    before: Option<String>,
    after: Option<String>,
    before_note: String,
    after_note: String,
}

struct FailureView {
    side: &'static str,
    text: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>report diff</title>
<style>{{ css|safe }}{{ diff_css|safe }}</style>
</head>
<body>
<main>
<h1>report diff</h1>
<p>Base <code>{{ base }}</code> → head <code>{{ head }}</code></p>
<p class="status">{{ headline }}</p>
{% if !config.is_empty() %}<h2>Configuration</h2>
<ul>{% for c in config %}<li>{{ c }}</li>{% endfor %}</ul>
{% endif %}{% if !reports.is_empty() %}<h2>Reports</h2>
<div class="scroll"><table>
<thead><tr><th scope="col">report</th><th scope="col">title</th><th scope="col">change</th></tr></thead>
<tbody>{% for r in reports %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% endif %}{% if !failures.is_empty() %}<h2>Expectations not met</h2>
{% for f in failures %}<section class="panel">
<p><strong>{{ f.side }}</strong>: {{ f.text }}</p>
{% if !f.rows.is_empty() %}<div class="scroll"><table>
<thead><tr>{% for h in f.header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in f.rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>{% endif %}
</section>
{% endfor %}{% endif %}
<h2>Queries</h2>
<div class="scroll"><table>
<thead><tr><th scope="col">query</th><th scope="col">status</th><th scope="col" class="num">rows before</th><th scope="col" class="num">rows after</th><th scope="col">why</th></tr></thead>
<tbody>
{% for q in all_queries %}<tr><td>{% if q.4 %}<a href="#q-{{ q.0 }}">{{ q.0 }}</a>{% else %}{{ q.0 }}{% endif %}</td><td>{{ q.1 }}</td><td class="num">{{ q.2 }}</td><td class="num">{{ q.3 }}</td><td>{{ q.5 }}</td></tr>
{% endfor %}</tbody>
</table></div>
{% if !panels.is_empty() %}<h2>Panels</h2>
{% for p in panels %}<section class="panel" id="{{ p.id }}" aria-labelledby="{{ p.id }}-h">
<h3 id="{{ p.id }}-h">{{ p.report }}: panel {{ p.panel }}, {{ p.title }} ({{ p.status }})</h3>
<p>Query <code>{{ p.query }}</code>{% if p.definition_changed %}; the panel's definition changed{% endif %}.</p>
<div class="sides">
<figure>{% match p.before %}{% when Some with (svg) %}{{ svg|safe }}{% when None %}<p class="note">{{ p.before_note }}</p>{% endmatch %}<figcaption>Before</figcaption></figure>
<figure>{% match p.after %}{% when Some with (svg) %}{{ svg|safe }}{% when None %}<p class="note">{{ p.after_note }}</p>{% endmatch %}<figcaption>After</figcaption></figure>
</div>
</section>
{% endfor %}{% endif %}
{% for q in queries %}<section class="panel" id="q-{{ q.name }}" aria-labelledby="q-{{ q.name }}-h">
<h2 id="q-{{ q.name }}-h">Query {{ q.name }} ({{ q.status }})</h2>
{% if !q.why.is_empty() %}<p>{{ q.why }}</p>{% endif %}
{% if q.columns_changed %}<p>Columns: {{ q.columns_before }} → {{ q.columns_after }}</p>{% endif %}
{% if !q.key.is_empty() %}<p>Rows matched by {{ q.key }}.</p>{% endif %}
{% for n in q.notes %}<p class="note">{{ n }}</p>
{% endfor %}{% for l in q.lists %}<h3 class="{{ l.class }}">{{ l.label }} ({{ l.total }})</h3>
<div class="scroll"><table>
<thead><tr>{% for h in l.header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in l.rows %}<tr>{% for c in r %}<td{% if c.num %} class="num"{% endif %}>{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table></div>
{% if l.total > l.rows.len() %}<p class="note">The first {{ l.rows.len() }} of {{ l.total }}.</p>{% endif %}
{% endfor %}</section>
{% endfor %}</main>
</body>
</html>
"##
)]
struct DiffPage<'a> {
    css: &'a str,
    diff_css: &'a str,
    base: &'a str,
    head: &'a str,
    headline: String,
    config: &'a [String],
    /// [file, title, change]
    reports: Vec<[String; 3]>,
    failures: Vec<FailureView>,
    /// (name, status, rows before, rows after, has a section, why)
    all_queries: Vec<(String, &'static str, usize, usize, bool, String)>,
    panels: Vec<PanelView>,
    queries: Vec<QueryView>,
}

/// A cell that holds a number as the diff writes it (`1,260`, `−7.1 pp`, `1.2 s`).
fn is_num(s: &str) -> bool {
    let rest = s.trim_start_matches(['+', '-', '−']);
    rest.starts_with(|c: char| c.is_ascii_digit())
        && rest
            .chars()
            .take_while(|c| !c.is_whitespace())
            .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | 'e' | '-' | '+'))
}

fn cells(row: &[String]) -> Vec<CellView> {
    row.iter()
        .map(|c| CellView {
            text: c.clone(),
            num: is_num(c),
        })
        .collect()
}

/// `index.html`: the charts side by side and every changed query's rows.
pub fn html(diff: &Diff) -> Result<String> {
    let failures = diff
        .base_failures
        .iter()
        .map(|f| ("base", f))
        .chain(diff.head_failures.iter().map(|f| ("head", f)))
        .map(|(side, f)| FailureView {
            side,
            text: format!(
                "{}: expectation {} on query {}: {}: {}",
                f.origin, f.index, f.query, f.expectation, f.violation.message
            ),
            header: f.violation.columns.clone(),
            rows: f.violation.rows.clone(),
        })
        .collect();
    let changed: Vec<&QueryDiff> = diff
        .queries
        .iter()
        .filter(|q| q.status != Status::Unchanged)
        .collect();
    let queries = changed
        .iter()
        .map(|q| {
            let mut lists = Vec::new();
            let mut notes = q.privacy.clone();
            if let Some(why) = &q.withheld {
                notes.push(why.clone());
                notes.push(format!(
                    "{} added, {} removed, {} changed.",
                    count(q.added_count, "row", "rows"),
                    q.removed_count,
                    q.changed_count
                ));
            }
            if q.changed_count > 0 && q.withheld.is_none() {
                let mut header = q.key.clone();
                header.extend(["column", "before", "after", "change"].map(String::from));
                let rows = q
                    .changed
                    .iter()
                    .flat_map(|r| {
                        r.cells.iter().map(move |c| {
                            let mut row = r.key.clone();
                            row.extend([
                                c.column.clone(),
                                c.before.clone(),
                                c.after.clone(),
                                change(c),
                            ]);
                            cells(&row)
                        })
                    })
                    .collect();
                lists.push(ListView {
                    label: "Changed rows".into(),
                    class: "changed",
                    total: q.changed_count,
                    header,
                    rows,
                });
            }
            for (label, class, total, rows, header) in [
                (
                    "Added rows",
                    "added",
                    q.added_count,
                    &q.added,
                    &q.columns_after,
                ),
                (
                    "Removed rows",
                    "removed",
                    q.removed_count,
                    &q.removed,
                    &q.columns_before,
                ),
            ] {
                if total > 0 && q.withheld.is_none() {
                    lists.push(ListView {
                        label: label.into(),
                        class,
                        total,
                        header: header.clone(),
                        rows: rows.iter().map(|r| cells(r)).collect(),
                    });
                }
            }
            QueryView {
                name: q.name.clone(),
                status: q.status.as_str(),
                why: why(q),
                columns_before: q.columns_before.join(", "),
                columns_after: q.columns_after.join(", "),
                columns_changed: q.columns_before != q.columns_after,
                key: if q.withheld.is_none() {
                    q.key.join(", ")
                } else {
                    String::new()
                },
                notes,
                lists,
            }
        })
        .collect();
    let panels = diff
        .panels
        .iter()
        .filter(|p| p.status != Status::Unchanged)
        .map(|p| {
            let stem = std::path::Path::new(&p.report)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("report")
                .to_string();
            let note = |svg: &Option<String>, err: &Option<String>, gone: bool| -> String {
                match (svg, err) {
                    (_, Some(e)) => format!("The chart cannot be drawn: {e}"),
                    (None, None) if gone => "No such panel on this side.".into(),
                    _ => "A table panel: its rows are under the query.".into(),
                }
            };
            PanelView {
                id: format!("panel-{stem}-{}", super::html_id(&p.id)),
                report: p.report.clone(),
                panel: p.panel,
                title: p.title.clone(),
                query: p.query.clone(),
                status: p.status.as_str(),
                definition_changed: p.definition_changed && p.status == Status::Changed,
                before_note: note(&p.before_svg, &p.before_error, p.status == Status::Added),
                after_note: note(&p.after_svg, &p.after_error, p.status == Status::Removed),
                before: p.before_svg.clone(),
                after: p.after_svg.clone(),
            }
        })
        .collect();
    DiffPage {
        css: CSS,
        diff_css: DIFF_CSS,
        base: &diff.base,
        head: &diff.head,
        headline: headline(diff),
        config: &diff.config,
        reports: changed_reports(diff).map(report_row).collect(),
        failures,
        all_queries: diff
            .queries
            .iter()
            .map(|q| {
                (
                    q.name.clone(),
                    q.status.as_str(),
                    q.rows_before,
                    q.rows_after,
                    q.status != Status::Unchanged,
                    why(q),
                )
            })
            .collect(),
        panels,
        queries,
    }
    .render()
    .context("cannot render diff/index.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_carry_no_markup() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(md("[x](http://e)"), "\\[x\\]\\(http://e\\)");
        assert_eq!(md("two\nlines"), "two lines");
    }

    #[test]
    fn long_summaries_are_cut_with_a_note() {
        let long = "| row |\n".repeat(20_000);
        let cut = cut(long);
        assert!(cut.len() <= SUMMARY_LIMIT, "{}", cut.len());
        assert!(cut.contains("The summary is cut here"));
        assert!(cut.contains("| row |\n\n**The summary"));
    }
}
