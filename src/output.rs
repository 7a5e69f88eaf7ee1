//! Output: what leaves the program as files. Pages and CSVs as `(path, bytes)` pairs, the id
//! guard and id masking that keep session and user ids out of them, and the one writer that
//! puts files on disk (the site, `report diff`'s pages, `report generate`'s objects).
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

/// A published page must not carry a session or user id: refuse results that hold one.
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
