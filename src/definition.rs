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
//! expectations, `[[panel.expect]]`, see [`crate::expect`]); the other keys belong to the
//! chart kind and are read by its spec ([`Chart::parse`]). Unknown keys are errors naming the
//! file and the panel.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::chart::{self, Chart};
use crate::expect::Expectation;

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// File stem: the page is `NAME.html`.
    pub name: String,
    pub path: PathBuf,
    pub title: String,
    pub description: String,
    pub panels: Vec<Panel>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "panel")]
    panels: Vec<toml::Table>,
}

impl Report {
    pub fn parse(text: &str, path: &Path) -> Result<Report> {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: file name is not UTF-8", path.display()))?
            .to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "{}: report file names are letters, digits, '-' and '_'",
                path.display()
            );
        }
        let file: File =
            toml::from_str(text).with_context(|| format!("{}: invalid report", path.display()))?;
        let mut panels = Vec::new();
        for (i, table) in file.panels.into_iter().enumerate() {
            let panel = parse_panel(table)
                .with_context(|| format!("{}: panel {}", path.display(), i + 1))?;
            panels.push(panel);
        }
        Ok(Report {
            name,
            path: path.to_path_buf(),
            title: file.title,
            description: file.description,
            panels,
        })
    }

    pub fn load(path: &Path) -> Result<Report> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Report::parse(&text, path)
    }

    /// Every `*.toml` of `dir`, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Report>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read reports folder {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| Report::load(p)).collect()
    }
}

fn take_string(table: &mut toml::Table, key: &str, required: bool) -> Result<String> {
    match table.remove(key) {
        Some(toml::Value::String(s)) => Ok(s),
        Some(other) => bail!("`{key}` must be a string, not {}", other.type_str()),
        None if required => bail!("`{key}` is required"),
        None => Ok(String::new()),
    }
}

/// Parses one `[[panel]]` table (errors name the panel's title, not the file).
pub fn parse_panel(mut table: toml::Table) -> Result<Panel> {
    let title = take_string(&mut table, "title", true)?;
    let description = take_string(&mut table, "description", false)?;
    let query = take_string(&mut table, "query", true).with_context(|| format!("{title:?}"))?;
    let kind = take_string(&mut table, "chart", true).with_context(|| format!("{title:?}"))?;
    let expect = match table.remove("expect") {
        Some(v) => Expectation::parse_list(v).with_context(|| format!("{title:?}"))?,
        None => Vec::new(),
    };
    // The other keys are the chart kind's.
    let chart = match Chart::parse(&kind, table) {
        Some(chart) => chart.with_context(|| format!("{title:?} ({kind})"))?,
        None => bail!(
            "{title:?}: unknown chart kind {kind:?} (one of: {})",
            chart::KINDS.join(", ")
        ),
    };
    Ok(Panel {
        title,
        description,
        query,
        chart,
        expect,
    })
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
