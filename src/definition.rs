//! Report definitions: `reports/NAME.toml`, a title, a description and panels.
//!
//! ```toml
//! title = "Overview"
//! description = "How Batect is used."
//! order = 1
//!
//! [[panel]]
//! title = "Sessions per day"
//! query = "sessions_per_day"
//! chart = "line"
//! x = "date"
//! y = "sessions"
//! ```
//! `order` (an integer, optional) places the report in the site's lists: reports are listed by
//! it, those without one after those with one, then by file name ([`Report::listing`]).
//! Common panel keys are `id`, `title`, `description`, `query`, `chart` and `expect` (a list
//! of expectations, `[[panel.expect]]`, see [`crate::expect`]); the other keys belong
//! to the chart kind and are checked by its spec. Unknown keys are errors naming the file and
//! the panel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::chart::{self, Chart};
use crate::config::AtSpan;
use crate::expect::Expectation;
use crate::problem::{
    Problem, chain_message, error_line, from_spanned, line_of, table_value, take,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// File stem: the page is `NAME.html`.
    pub name: String,
    pub path: PathBuf,
    pub title: String,
    pub description: String,
    /// Where the report stands in the site's lists (`order = N`); see [`Report::listing`].
    pub order: Option<i64>,
    pub panels: Vec<Panel>,
    /// Where each panel is in the file, one per panel.
    pub lines: Vec<PanelLines>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The panel's identity within its report, never its position: the `id` key, or
    /// [`default_id`] of its query and title. `report diff` matches panels by it.
    pub id: String,
    pub title: String,
    pub description: String,
    pub query: String,
    pub chart: Chart,
    /// What must hold of the query's result (`[[panel.expect]]`, see [`crate::expect`]).
    pub expect: Vec<Expectation>,
    /// Why the panel may be published without counting installations (`privacy = "public:
    /// <reason>"`, read by the privacy guard); `None` for every other panel.
    pub privacy: Option<String>,
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
    #[serde(default, deserialize_with = "order")]
    order: Option<i64>,
    #[serde(default)]
    panel: Option<toml::Value>,
}

/// `order = N`, an integer; errors name the key.
fn order<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    i64::deserialize(d).map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "`order` must be an integer (the report's place in the site's lists): {e}"
        ))
    })
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
    /// The reports in the order the site lists them: by `order`, those without one after
    /// those with one, then by file name.
    pub fn listing(reports: &[Report]) -> Vec<&Report> {
        let mut listed: Vec<&Report> = reports.iter().collect();
        listed.sort_by(|a, b| {
            (a.order.is_none(), a.order, &a.name).cmp(&(b.order.is_none(), b.order, &b.name))
        });
        listed
    }

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
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for (panel, at) in panels.iter().zip(&lines) {
            if let Some(first) = ids.insert(&panel.id, at.number) {
                problems.push(Problem::new(
                    path,
                    Some(at.of("id")),
                    format!(
                        "panel {} ({:?}): its id {:?} is panel {first}'s too; give one of them another `id`",
                        at.number, panel.title, panel.id
                    ),
                ));
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
                order: file.order,
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

/// The reason of a panel's `privacy = "public: <reason>"`, which the privacy guard reads.
fn public_reason(value: &str) -> Result<String> {
    match value.strip_prefix("public:").map(str::trim) {
        Some(reason) if !reason.is_empty() => Ok(reason.to_string()),
        _ => bail!(
            "privacy = {value:?}: the only value is \"public: <reason>\", e.g. \"public: total over all installations\""
        ),
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
    let id = match take_string(&mut table, "id", false).with_context(|| format!("{title:?}"))? {
        (id, Some(span)) => {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
            {
                return Err(AtSpan {
                    span,
                    message: format!(
                        "{title:?}: id {id:?} must be letters, digits, '-', '_', '.' and '/'"
                    ),
                }
                .into());
            }
            id
        }
        (_, None) => default_id(&query, &title),
    };
    let (kind, kind_span) =
        take_string(&mut table, "chart", true).with_context(|| format!("{title:?}"))?;
    let privacy = match take_string(&mut table, "privacy", false)? {
        (v, _) if v.is_empty() => None,
        (v, _) => Some(public_reason(&v).with_context(|| format!("{title:?}"))?),
    };
    let expect = match take(&mut table, "expect") {
        Some(v) => Expectation::parse_list(v).with_context(|| format!("{title:?}"))?,
        None => Vec::new(),
    };
    lines.expect = expect.iter().map(|(_, at)| line_of(text, *at)).collect();
    let expect = expect.into_iter().map(|(e, _)| e).collect();
    // The other keys are the chart kind's.
    let rest = Spanned::new(span, DeValue::Table(table));
    let chart = match Chart::parse(&kind, rest) {
        Some(chart) => chart.with_context(|| format!("{title:?} ({kind})"))?,
        None => {
            let message = format!(
                "{title:?}: unknown chart kind {kind:?} (one of: {})",
                chart::KINDS.join(", ")
            );
            return Err(match kind_span {
                Some(span) => AtSpan { span, message }.into(),
                None => anyhow::anyhow!(message),
            });
        }
    };
    Ok((
        Panel {
            id,
            title,
            description,
            query,
            chart,
            expect,
            privacy,
        },
        lines,
    ))
}

/// A panel's id when it names none: its query and its title in lower case, words joined by
/// `-` (`top_shells/top-shells`). Moving a panel keeps it; retitling it makes another.
pub fn default_id(query: &str, title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.extend(word.chars().flat_map(char::to_lowercase));
    }
    format!("{query}/{slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_are_known_by_their_id_not_their_place() {
        let r = parse(
            "title='t'\n[[panel]]\ntitle='Top shells (all)'\nquery='top_shells'\nchart='table'\n[[panel]]\nid='shells'\ntitle='Shells'\nquery='top_shells'\nchart='table'",
        )
        .expect("valid");
        assert_eq!(r.panels[0].id, "top_shells/top-shells-all");
        assert_eq!(r.panels[1].id, "shells");
        let err = parse(
            "title='t'\n[[panel]]\ntitle='A'\nquery='q'\nchart='table'\n[[panel]]\ntitle='A'\nquery='q'\nchart='table'",
        )
        .expect_err("same id twice");
        assert!(
            format!("{err:#}").contains("panel 2 (\"A\"): its id \"q/a\" is panel 1's too"),
            "{err:#}"
        );
        let err = parse("title='t'\n[[panel]]\nid='a b'\ntitle='A'\nquery='q'\nchart='table'")
            .expect_err("bad id");
        assert!(format!("{err:#}").contains("id \"a b\" must be"), "{err:#}");
    }

    fn parse(text: &str) -> Result<Report> {
        Report::parse(text, Path::new("reports/overview.toml"))
    }

    #[test]
    fn reports_are_listed_by_order_then_file_name() {
        let report = |name: &str, order: &str| {
            Report::parse(
                &format!("title='{name}'\n{order}"),
                Path::new(&format!("reports/{name}.toml")),
            )
            .expect("valid")
        };
        let reports = [
            report("adoption", ""),
            report("devstack", "order = 30"),
            report("overview", "order = 1"),
            report("activity", ""),
            report("go", "order = 30"),
            report("environment", "order = -2"),
        ];
        assert_eq!(reports[2].order, Some(1));
        assert_eq!(reports[0].order, None);
        let names: Vec<&str> = Report::listing(&reports)
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "environment",
                "overview",
                "devstack",
                "go",
                "activity",
                "adoption"
            ]
        );
        for wrong in ["order='first'", "order=1.5"] {
            let err = parse(&format!("title='t'\n{wrong}")).expect_err("order is an integer");
            assert!(
                format!("{err:#}")
                    .starts_with("reports/overview.toml:2: `order` must be an integer"),
                "{err:#}"
            );
        }
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
        assert!(
            format!("{err:#}").ends_with(
                "\"P\": unknown chart kind \"pie\" (one of: line, bar, area, histogram, heatmap, calendar, box, number, table)"
            ),
            "{err:#}"
        );
        let err = parse("title='t'\nsubtitle='x'").expect_err("top-level key");
        assert!(format!("{err:#}").contains("subtitle"));
        let err = parse("title='t'\n[[panel]]\ntitle='P'\nchart='line'").expect_err("no query");
        assert!(format!("{err:#}").contains("query"));
    }
}
