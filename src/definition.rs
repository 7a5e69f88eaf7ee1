//! Report definitions: `reports/NAME.toml`, a title, a description and panels.
//!
//! ```toml
//! title = "Overview"
//! description = "How Batect is used."
//!
//! [[panel]]
//! title = "Sessions per day"
//! query = "sessions_per_day"
//! chart = "line"
//! x = "date"
//! y = "sessions"
//! ```
//! Common panel keys are `title`, `description`, `query`, `chart` and `expect` (a list of
//! expectations, `[[panel.expect]]`, see [`crate::expect`]); the other keys belong
//! to the chart kind and are checked by its spec. Unknown keys are errors naming the file and
//! the panel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::chart::Meta;
use crate::chart::area::Area;
use crate::chart::bar::Bar;
use crate::chart::boxplot::BoxPlot;
use crate::chart::calendar::Calendar;
use crate::chart::heatmap::Heatmap;
use crate::chart::histogram::Histogram;
use crate::chart::line::Line;
use crate::chart::number::Number;
use crate::config::AtSpan;
use crate::expect::Expectation;
use crate::problem::{
    Problem, chain_message, error_line, from_spanned, line_of, table_value, take,
};
use crate::query::Table;

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// File stem: the page is `NAME.html`.
    pub name: String,
    pub path: PathBuf,
    pub title: String,
    pub description: String,
    pub panels: Vec<Panel>,
    /// Where each panel is in the file, one per panel.
    pub lines: Vec<PanelLines>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub description: String,
    pub query: String,
    pub chart: Chart,
    /// What must hold of the query's result (`[[panel.expect]]`, see [`crate::expect`]).
    pub expect: Vec<Expectation>,
}

/// A panel's chart kind with its keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Line(Line),
    Bar(Bar),
    Area(Area),
    Histogram(Histogram),
    Heatmap(Heatmap),
    Calendar(Calendar),
    Box(BoxPlot),
    Number(Number),
    Table(TableSpec),
}

/// `table`: the result as an HTML table (every panel also has one, collapsed; this one is open).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Columns to show, in this order; all when absent.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// Rows to show at most (the CSV keeps them all).
    #[serde(default)]
    pub limit: Option<usize>,
}

pub const CHART_KINDS: [&str; 9] = [
    "line",
    "bar",
    "area",
    "histogram",
    "heatmap",
    "calendar",
    "box",
    "number",
    "table",
];

impl Chart {
    pub fn kind(&self) -> &'static str {
        match self {
            Chart::Line(_) => "line",
            Chart::Bar(_) => "bar",
            Chart::Area(_) => "area",
            Chart::Histogram(_) => "histogram",
            Chart::Heatmap(_) => "heatmap",
            Chart::Calendar(_) => "calendar",
            Chart::Box(_) => "box",
            Chart::Number(_) => "number",
            Chart::Table(_) => "table",
        }
    }

    /// Columns the chart reads, as (key, column) pairs.
    pub fn columns(&self) -> Vec<(&str, &str)> {
        match self {
            Chart::Line(c) => c.columns(),
            Chart::Bar(c) => c.columns(),
            Chart::Area(c) => c.columns(),
            Chart::Histogram(c) => c.columns(),
            Chart::Heatmap(c) => c.columns(),
            Chart::Calendar(c) => c.columns(),
            Chart::Box(c) => c.columns(),
            Chart::Number(c) => c.columns(),
            Chart::Table(t) => t
                .columns
                .iter()
                .flatten()
                .map(|c| ("columns", c.as_str()))
                .collect(),
        }
    }

    /// The chart's SVG; `None` for `table`, whose HTML table is the panel.
    pub fn render(&self, table: &Table, meta: &Meta) -> anyhow::Result<Option<String>> {
        // Each chart kind checks its own columns; a table checks the ones it lists here.
        Ok(Some(match self {
            Chart::Line(c) => c.render(table, meta)?,
            Chart::Bar(c) => c.render(table, meta)?,
            Chart::Area(c) => c.render(table, meta)?,
            Chart::Histogram(c) => c.render(table, meta)?,
            Chart::Heatmap(c) => c.render(table, meta)?,
            Chart::Calendar(c) => c.render(table, meta)?,
            Chart::Box(c) => c.render(table, meta)?,
            Chart::Number(c) => c.render(table, meta)?,
            Chart::Table(_) => {
                crate::chart::require_columns(table, &self.columns())?;
                return Ok(None);
            }
        }))
    }
}

/// The top-level keys of a report file (checked first, with spans); panels are parsed one by
/// one after it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct File {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    panel: Option<toml::Value>,
}

/// Where a panel's parts are in its file, for the problems `report check` finds in them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PanelLines {
    /// 1-based position of the panel in its file.
    pub number: usize,
    /// The line of its `[[panel]]`.
    pub header: usize,
    /// The line of each key.
    pub keys: BTreeMap<String, usize>,
    /// The line of each `[[panel.expect]]`.
    pub expect: Vec<usize>,
}

impl PanelLines {
    /// The line of `key`, or the panel's own.
    pub fn of(&self, key: &str) -> usize {
        self.keys.get(key).copied().unwrap_or(self.header)
    }
}

/// A report file as far as it parses: the panels that parse, and a problem for each part
/// that does not.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// `None` when the file's own keys (or its name) are wrong.
    pub report: Option<Report>,
    pub problems: Vec<Problem>,
}

impl Report {
    /// Parses a report file, stopping at its first problem.
    pub fn parse(text: &str, path: &Path) -> Result<Report> {
        let parsed = Report::parse_all(text, path);
        match (parsed.report, parsed.problems.first()) {
            (Some(report), None) => Ok(report),
            (_, Some(p)) => bail!("{p}"),
            (None, None) => bail!("{}: invalid report", path.display()),
        }
    }

    /// Parses a report file, collecting every problem; the report keeps the panels that parse
    /// (with their lines in [`Report::lines`]).
    pub fn parse_all(text: &str, path: &Path) -> Parsed {
        let fail = |problem: Problem| Parsed {
            report: None,
            problems: vec![problem],
        };
        let name = match path.file_stem().and_then(|s| s.to_str()) {
            Some(n) => n.to_string(),
            None => return fail(Problem::new(path, None, "file name is not UTF-8")),
        };
        let doc = match DeTable::parse(text) {
            Ok(d) => d,
            Err(e) => return fail(Problem::from_error(path, text, &e.into())),
        };
        let file: File = match from_spanned(table_value(doc.clone())) {
            Ok(f) => f,
            Err(e) => return fail(Problem::from_error(path, text, &e.into())),
        };
        let mut problems = Vec::new();
        let mut panels = Vec::new();
        let mut lines = Vec::new();
        if let Some(list) = take(&mut doc.into_inner(), "panel") {
            let DeValue::Array(items) = list.into_inner() else {
                return fail(Problem::new(
                    path,
                    None,
                    "`panel` must be a list of tables ([[panel]])",
                ));
            };
            for (i, item) in items.into_iter().enumerate() {
                let header = line_of(text, item.span().start);
                match parse_panel(item, text) {
                    Ok((panel, mut at)) => {
                        at.number = i + 1;
                        at.header = header;
                        panels.push(panel);
                        lines.push(at);
                    }
                    Err(e) => problems.push(Problem::new(
                        path,
                        error_line(text, &e).or(Some(header)),
                        format!("panel {}: {}", i + 1, chain_message(&e)),
                    )),
                }
            }
        }
        if problems.is_empty()
            && (name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return fail(Problem::new(
                path,
                None,
                "report file names are letters, digits, '-' and '_'",
            ));
        }
        Parsed {
            report: Some(Report {
                name,
                path: path.to_path_buf(),
                title: file.title,
                description: file.description,
                panels,
                lines,
            }),
            problems,
        }
    }
}

/// Takes a string key out of a panel; errors say where the key is.
fn take_string(
    table: &mut DeTable<'_>,
    key: &str,
    required: bool,
) -> Result<(String, Option<std::ops::Range<usize>>)> {
    match take(table, key) {
        Some(v) => {
            let span = v.span();
            match v.get_ref().as_str() {
                Some(s) => Ok((s.to_string(), Some(span))),
                None => Err(AtSpan {
                    span: v.span(),
                    message: format!("`{key}` must be a string, not {}", v.get_ref().type_str()),
                }
                .into()),
            }
        }
        None if required => bail!("`{key}` is required"),
        None => Ok((String::new(), None)),
    }
}

/// Parses one `[[panel]]` table (errors name the panel's title, not the file); also gives the
/// line of each of its keys and expectations.
pub fn parse_panel(value: Spanned<DeValue<'_>>, text: &str) -> Result<(Panel, PanelLines)> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        bail!("a panel must be a table ([[panel]])");
    };
    let mut lines = PanelLines {
        keys: table
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), line_of(text, v.span().start)))
            .collect(),
        ..PanelLines::default()
    };
    let (title, _) = take_string(&mut table, "title", true)?;
    let (description, _) = take_string(&mut table, "description", false)?;
    let (query, _) =
        take_string(&mut table, "query", true).with_context(|| format!("{title:?}"))?;
    let (kind, kind_span) =
        take_string(&mut table, "chart", true).with_context(|| format!("{title:?}"))?;
    let expect = match take(&mut table, "expect") {
        Some(v) => Expectation::parse_list(v).with_context(|| format!("{title:?}"))?,
        None => Vec::new(),
    };
    lines.expect = expect.iter().map(|(_, at)| line_of(text, *at)).collect();
    let expect = expect.into_iter().map(|(e, _)| e).collect();
    let rest = Spanned::new(span, DeValue::Table(table));
    let chart = match kind.as_str() {
        "line" => from_spanned(rest).map(Chart::Line),
        "bar" => from_spanned(rest).map(Chart::Bar),
        "area" => from_spanned(rest).map(Chart::Area),
        "histogram" => from_spanned(rest).map(Chart::Histogram),
        "heatmap" => from_spanned(rest).map(Chart::Heatmap),
        "calendar" => from_spanned(rest).map(Chart::Calendar),
        "box" => from_spanned(rest).map(Chart::Box),
        "number" => from_spanned(rest).map(Chart::Number),
        "table" => from_spanned(rest).map(Chart::Table),
        other => {
            let message = format!(
                "{title:?}: unknown chart kind {other:?} (one of: {})",
                CHART_KINDS.join(", ")
            );
            return Err(match kind_span {
                Some(span) => AtSpan { span, message }.into(),
                None => anyhow::anyhow!(message),
            });
        }
    }
    .with_context(|| format!("{title:?} ({kind})"))?;
    if let Chart::Histogram(h) = &chart {
        h.validate()
            .with_context(|| format!("{title:?} ({kind})"))?;
    }
    Ok((
        Panel {
            title,
            description,
            query,
            chart,
            expect,
        },
        lines,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Report> {
        Report::parse(text, Path::new("reports/overview.toml"))
    }

    #[test]
    fn panels_parse_by_kind() {
        let r = parse(
            r#"
            title = "Overview"
            [[panel]]
            title = "Sessions"
            query = "sessions_per_day"
            chart = "line"
            x = "date"
            y = "sessions"
            y_format = "percent"
            order = "semver"
            [[panel]]
            title = "Shells"
            query = "shells"
            chart = "bar"
            x = "shell"
            y = "sessions"
            order = ["zsh", "bash"]
            "#,
        )
        .expect("valid");
        assert_eq!(r.name, "overview");
        assert_eq!(r.panels.len(), 2);
        assert_eq!(r.panels[0].chart.kind(), "line");
        let Chart::Bar(b) = &r.panels[1].chart else {
            panic!("bar")
        };
        assert_eq!(
            b.order,
            crate::chart::Order::List(vec!["zsh".into(), "bash".into()])
        );
    }

    #[test]
    fn unknown_keys_name_file_panel_and_key() {
        let err = parse("title='t'\n[[panel]]\ntitle='Shells'\nquery='q'\nchart='bar'\nx='a'\ny='b'\ncolour='red'")
            .expect_err("unknown key");
        let text = format!("{err:#}");
        assert!(text.contains("reports/overview.toml"), "{text}");
        assert!(text.contains("panel 1"), "{text}");
        assert!(text.contains("Shells"), "{text}");
        assert!(text.contains("colour"), "{text}");
    }

    #[test]
    fn unknown_kinds_and_top_level_keys_are_errors() {
        let err =
            parse("title='t'\n[[panel]]\ntitle='P'\nquery='q'\nchart='pie'").expect_err("kind");
        assert!(format!("{err:#}").contains("pie"));
        let err = parse("title='t'\nsubtitle='x'").expect_err("top-level key");
        assert!(format!("{err:#}").contains("subtitle"));
        let err = parse("title='t'\n[[panel]]\ntitle='P'\nchart='line'").expect_err("no query");
        assert!(format!("{err:#}").contains("query"));
    }
}
