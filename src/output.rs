//! Output: what leaves the program as files. Pages and CSVs as `(path, bytes)` pairs, the id
//! guard and id masking that keep session and user ids out of them, what a published cell may
//! hold ([`publishable`]: ids masked, control characters replaced, long values cut), and the
//! one writer that puts files on disk (the site, `report diff`'s pages, `report generate`'s
//! objects).
//!
//! CSV cells that a spreadsheet would run as a formula are neutralised.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use anyhow::{Context, Result, bail};
use regex::Regex;

use crate::query::{Table, Value};

/// One output file, its path relative to the site folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("valid regex")
});

/// Text a published cell holds at most, in characters; a longer value is cut and ends in `…`
/// (one 50 MB attribute must not make a site of hundreds of megabytes).
pub const MAX_CELL_CHARS: usize = 200;

/// What [`publishable`] held back of one result: cells whose UUID-like parts were masked, whose
/// control characters were replaced, or that were cut to [`MAX_CELL_CHARS`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub ids: usize,
    pub controls: usize,
    pub cut: usize,
}

impl Held {
    pub fn is_empty(&self) -> bool {
        *self == Held::default()
    }
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut parts = Vec::new();
        if self.ids > 0 {
            parts.push(format!(
                "{} value{} with a UUID-like part masked",
                self.ids,
                plural(self.ids)
            ));
        }
        if self.controls > 0 {
            parts.push(format!(
                "{} value{} with control characters replaced",
                self.controls,
                plural(self.controls)
            ));
        }
        if self.cut > 0 {
            parts.push(format!(
                "{} value{} cut to {MAX_CELL_CHARS} characters",
                self.cut,
                plural(self.cut)
            ));
        }
        f.write_str(&parts.join(", "))
    }
}

/// A published page must not carry a session or user id. A column named `session_id` or
/// `user_id` is the query's doing, and refused; a UUID-like value is one client's data (a
/// `commandType` of `zsh-0d3f9c2e-…`), and masked by [`publishable`].
pub fn refuse_ids(table: &Table) -> Result<()> {
    for c in &table.columns {
        if c.name == "session_id" || c.name == "user_id" {
            bail!(
                "the result has a column {:?}; ids are never published (aggregate them, e.g. count(DISTINCT {}))",
                c.name,
                c.name
            );
        }
    }
    Ok(())
}

/// `s` with every UUID-like part replaced by `‹id›`.
pub fn mask_ids(s: &str) -> String {
    UUID.replace_all(s, "‹id›").into_owned()
}

/// The result as a page may show it: refused when it has an id column ([`refuse_ids`]); every
/// text cell with its UUID-like parts masked, its control characters (which no XML page may
/// hold, and which a terminal would run) replaced by `�`, and cut to [`MAX_CELL_CHARS`].
/// Numbers, dates and times pass as they are. What was changed is counted in [`Held`].
pub fn publishable(table: &Table) -> Result<(Table, Held)> {
    refuse_ids(table)?;
    let mut held = Held::default();
    let rows = table
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Value::Text(s) => Value::Text(published_text(s, &mut held)),
                    other => other.clone(),
                })
                .collect()
        })
        .collect();
    let table = Table {
        columns: table.columns.clone(),
        rows,
    };
    Ok((table, held))
}

fn published_text(s: &str, held: &mut Held) -> String {
    let mut out = if UUID.is_match(s) {
        held.ids += 1;
        mask_ids(s)
    } else {
        s.to_string()
    };
    if out.chars().any(not_xml_text) {
        held.controls += 1;
        out = out
            .chars()
            .map(|c| if not_xml_text(c) { '\u{fffd}' } else { c })
            .collect();
    }
    if let Some((end, _)) = out.char_indices().nth(MAX_CELL_CHARS) {
        held.cut += 1;
        out.truncate(end);
        out.push('…');
    }
    out
}

/// A character XML 1.0 does not allow in text (NUL, most C0 controls, U+FFFE, U+FFFF), or a
/// C1 control (ESC-like sequences a terminal would run).
pub fn not_xml_text(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
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

/// `table` aligned in columns for a terminal: a header, a rule, numbers right-aligned, nulls
/// empty, control characters written as escapes (a value never runs in the terminal).
pub fn aligned(table: &Table) -> String {
    let shown = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let header: Vec<String> = table.columns.iter().map(|c| shown(&c.name)).collect();
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| r.iter().map(|v| shown(&v.to_string())).collect())
        .collect();
    let width: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String], out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(width[i] - c.chars().count());
                if table.columns[i].kind.is_numeric() {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    let mut out = String::new();
    line(&header, &mut out);
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for r in &rows {
        line(r, &mut out);
    }
    out
}

/// Characters that make a spreadsheet read a cell as a formula, full-width forms included
/// (spreadsheets fold `＝` to `=`).
const FORMULA: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// Whether a spreadsheet could run the text cell `s`: it starts with a formula character, or
/// with a tab, a line break or another control character, or with spaces before a formula
/// character (spreadsheets trim them).
fn runs_as_formula(s: &str) -> bool {
    let first = s.chars().next();
    let first_shown = s.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
    first.is_some_and(|c| c.is_control() || FORMULA.contains(&c))
        || first_shown.starts_with(FORMULA)
}

fn csv_cell(s: &str, text: bool) -> String {
    let mut s = s.to_string();
    if text && runs_as_formula(&s) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The site's writer: puts `pages` under `dir` and removes pages and CSVs an earlier build
/// left that this one did not write (a renamed report, a removed panel).
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
    write_files(
        dir,
        pages.iter().map(|p| (p.path.as_path(), p.bytes.as_slice())),
    )
}

/// Writes each `(path, bytes)` under `dir`, creating folders as needed (generated objects go
/// out this way, by key).
pub fn write_files<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a Path, &'a [u8])>,
) -> Result<()> {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
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
    fn csv_neutralises_what_a_spreadsheet_would_run() {
        for cell in [
            " =1+1",
            "  @SUM(A1)",
            "＝1+1",
            "＋1",
            "\n=1+1",
            "\r=1",
            "\t1",
            "\u{1}x",
        ] {
            let t = table(vec![vec![Value::Text(cell.into()), Value::Int(1)]]);
            let csv = to_csv(&t);
            let row = csv.split("\r\n").skip(1).collect::<Vec<_>>().join("\r\n");
            assert!(
                row.starts_with('\'') || row.starts_with("\"'"),
                "{cell:?} gave {row:?}"
            );
        }
        for cell in ["bash", "a = b", " zsh", "0.84.0"] {
            let t = table(vec![vec![Value::Text(cell.into()), Value::Int(1)]]);
            assert!(to_csv(&t).contains(&format!("\r\n{cell},1")), "{cell:?}");
        }
    }

    #[test]
    fn id_columns_are_never_published() {
        let mut t = table(vec![]);
        t.columns[0].name = "user_id".into();
        assert!(refuse_ids(&t).is_err());
        assert!(publishable(&t).is_err());
        assert!(
            refuse_ids(&table(vec![vec![
                Value::Text("bash".into()),
                Value::Int(1)
            ]]))
            .is_ok()
        );
    }

    #[test]
    fn one_clients_values_are_masked_cleaned_and_cut_not_refused() {
        let long = "x".repeat(50_000);
        let t = table(vec![
            vec![
                Value::Text("zsh-3f0c5e52-8a0e-4c6b-9d0b-2f7c6a1e9b41".into()),
                Value::Int(1),
            ],
            vec![Value::Text("a\0b\u{1b}[31m".into()), Value::Int(2)],
            vec![Value::Text(long), Value::Int(3)],
            vec![Value::Text("bash\tzsh".into()), Value::Int(4)],
        ]);
        let (shown, held) = publishable(&t).expect("publishable");
        assert_eq!(
            held,
            Held {
                ids: 1,
                controls: 1,
                cut: 1
            }
        );
        let text = |r: usize| shown.rows[r][0].to_string();
        assert_eq!(text(0), "zsh-‹id›");
        assert_eq!(text(1), "a\u{fffd}b\u{fffd}[31m");
        assert_eq!(text(2).chars().count(), MAX_CELL_CHARS + 1);
        assert!(text(2).ends_with('…'));
        assert_eq!(text(3), "bash\tzsh");
        assert_eq!(shown.rows[3][1], Value::Int(4));
        assert_eq!(
            held.to_string(),
            "1 value with a UUID-like part masked, 1 value with control characters replaced, 1 value cut to 200 characters"
        );
        assert!(publishable(&table(vec![])).expect("empty").1.is_empty());
    }
}
