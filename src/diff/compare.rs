//! Compares two results of one query: columns, then rows by key columns (the columns that
//! are not numeric), or as whole rows when there is no key or it is not unique. Rows are
//! matched as multisets: where they are, and whether they moved, counts only for a query whose
//! order is total on both sides (see [`crate::check::unordered`]). Numbers equal to 1e-9 of
//! their size are equal (a sum over partitions in another order changes the last bits).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Status;
use super::format;
use crate::chart::ValueFormat;
use crate::query::{Table, Value};

/// Rows kept per list (added, removed, changed); the counts are always exact.
pub const KEPT_ROWS: usize = 100;

/// A changed value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellChange {
    pub column: String,
    pub before: String,
    pub after: String,
    /// after − before, when both are numbers.
    pub delta: Option<f64>,
    /// delta / |before|, when both are numbers and before is not 0.
    pub relative: Option<f64>,
    /// The change as the panel writes the column (`−24 (−8.1 %)`, `−7.1 pp`); empty when the
    /// values are not numbers.
    pub change: String,
}

/// A row present on both sides (same key) with different values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowChange {
    pub key: Vec<String>,
    pub cells: Vec<CellChange>,
}

/// One query, before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryDiff {
    pub name: String,
    pub status: Status,
    /// The query's own SQL changed.
    pub sql_changed: bool,
    /// Queries it reads (directly or not) whose SQL changed.
    pub reads_changed: Vec<String>,
    pub columns_before: Vec<String>,
    pub columns_after: Vec<String>,
    /// Key columns rows were matched by; empty when whole rows were compared.
    pub key: Vec<String>,
    pub rows_before: usize,
    pub rows_after: usize,
    pub added_count: usize,
    pub removed_count: usize,
    pub changed_count: usize,
    /// Same rows, in another order.
    pub order_changed: bool,
    /// Added rows (head's columns), the first [`KEPT_ROWS`].
    pub added: Vec<Vec<String>>,
    /// Removed rows (base's columns), the first [`KEPT_ROWS`].
    pub removed: Vec<Vec<String>>,
    pub changed: Vec<RowChange>,
    /// What the privacy guard did to the rows shown (folded, left out), as the site says it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub privacy: Vec<String>,
    /// Why no row of this query is shown (only its counts): no panel publishes it, or it
    /// cannot say how many installations stand behind its rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

impl QueryDiff {
    /// The counts only: every row and value taken out.
    pub fn withhold(&mut self, why: String) {
        self.added.clear();
        self.removed.clear();
        self.changed.clear();
        self.withheld = Some(why);
    }
}

/// How a query's columns are written: by column, the format a panel that shows it names.
pub type Formats = BTreeMap<String, ValueFormat>;

fn texts(t: &Table, row: &[Value], formats: &Formats) -> Vec<String> {
    row.iter()
        .zip(&t.columns)
        .map(|(v, c)| format::value(v, formats.get(&c.name).copied()))
        .collect()
}

/// A value's text for matching rows: floats to 10 significant digits, so values that differ
/// in their last bits match.
fn canonical(v: &Value) -> String {
    match v {
        Value::Float(f) if f.is_finite() && *f != 0.0 => format!("{f:.9e}"),
        v => v.to_string(),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (format::number(a), format::number(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a.to_string() == b.to_string() && a.is_null() == b.is_null(),
    }
}

fn numeric(v: &Value) -> Option<f64> {
    format::number(v)
}

/// How to compare one query's two results.
#[derive(Debug, Clone, Default)]
pub struct Compare<'a> {
    /// Its SQL changed.
    pub sql_changed: bool,
    /// Its order is total on both sides, so a row that moved is a change.
    pub ordered: bool,
    /// How its columns are written.
    pub formats: Option<&'a Formats>,
}

/// Compares `before` and `after` of query `name`.
///
/// Values that look like session or user ids are masked: the counts stay exact, but a diff,
/// which is posted on pull requests, never shows an id.
pub fn tables(name: &str, before: &Table, after: &Table, how: &Compare) -> QueryDiff {
    let mut d = tables_unmasked(name, before, after, how);
    let mask = |v: &mut String| *v = crate::output::mask_ids(v);
    d.added
        .iter_mut()
        .chain(d.removed.iter_mut())
        .flatten()
        .for_each(mask);
    for c in &mut d.changed {
        c.key.iter_mut().for_each(mask);
        for cell in &mut c.cells {
            mask(&mut cell.before);
            mask(&mut cell.after);
        }
    }
    d
}

fn tables_unmasked(name: &str, before: &Table, after: &Table, how: &Compare) -> QueryDiff {
    let no_formats = Formats::new();
    let formats = how.formats.unwrap_or(&no_formats);
    let sql_changed = how.sql_changed;
    let names = |t: &Table| -> Vec<String> { t.columns.iter().map(|c| c.name.clone()).collect() };
    let (cb, ca) = (names(before), names(after));
    // Columns on both sides, in head's order, as (index before, index after).
    let common: Vec<(usize, usize)> = after
        .columns
        .iter()
        .enumerate()
        .filter_map(|(ia, c)| before.index_of(&c.name).map(|ib| (ib, ia)))
        .collect();
    let key: Vec<(usize, usize)> = common
        .iter()
        .copied()
        .filter(|&(ib, ia)| {
            !before.columns[ib].kind.is_numeric() && !after.columns[ia].kind.is_numeric()
        })
        .collect();
    let key_of = |row: &[Value], side: usize| -> Vec<String> {
        key.iter()
            .map(|&(ib, ia)| row[if side == 0 { ib } else { ia }].to_string())
            .collect()
    };
    let unique = |t: &Table, side: usize| -> Option<BTreeMap<Vec<String>, usize>> {
        let mut m = BTreeMap::new();
        for (i, r) in t.rows.iter().enumerate() {
            if m.insert(key_of(r, side), i).is_some() {
                return None;
            }
        }
        Some(m)
    };
    let mut d = QueryDiff {
        name: name.to_string(),
        status: Status::Unchanged,
        sql_changed,
        reads_changed: Vec::new(),
        columns_before: cb.clone(),
        columns_after: ca.clone(),
        key: Vec::new(),
        rows_before: before.rows.len(),
        rows_after: after.rows.len(),
        added_count: 0,
        removed_count: 0,
        changed_count: 0,
        order_changed: false,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        privacy: Vec::new(),
        withheld: None,
    };
    let keyed = if key.is_empty() {
        None
    } else {
        unique(before, 0).zip(unique(after, 1))
    };
    match keyed {
        Some((kb, ka)) => {
            d.key = key.iter().map(|&(_, ia)| ca[ia].clone()).collect();
            for (k, &ia) in &ka {
                let Some(&ib) = kb.get(k) else { continue };
                let (rb, ra) = (&before.rows[ib], &after.rows[ia]);
                let cells: Vec<CellChange> = common
                    .iter()
                    .filter(|c| !key.contains(c))
                    .filter_map(|&(cib, cia)| {
                        let (vb, va) = (&rb[cib], &ra[cia]);
                        if same(vb, va) {
                            return None;
                        }
                        let f = formats.get(&ca[cia]).copied();
                        let delta = numeric(vb).zip(numeric(va)).map(|(b, a)| a - b);
                        let relative = numeric(vb)
                            .filter(|b| *b != 0.0)
                            .zip(delta)
                            .map(|(b, dl)| dl / b.abs());
                        let change = numeric(vb)
                            .zip(numeric(va))
                            .map(|(b, a)| format::change(b, a, f))
                            .unwrap_or_default();
                        Some(CellChange {
                            column: ca[cia].clone(),
                            before: format::value(vb, f),
                            after: format::value(va, f),
                            delta,
                            relative,
                            change,
                        })
                    })
                    .collect();
                if !cells.is_empty() {
                    d.changed_count += 1;
                    d.changed.push(RowChange {
                        key: k.clone(),
                        cells,
                    });
                }
            }
            // Added and removed rows in their side's order.
            for r in &after.rows {
                if !kb.contains_key(&key_of(r, 1)) {
                    d.added_count += 1;
                    d.added.push(texts(after, r, formats));
                }
            }
            for r in &before.rows {
                if !ka.contains_key(&key_of(r, 0)) {
                    d.removed_count += 1;
                    d.removed.push(texts(before, r, formats));
                }
            }
            // Changed rows in head's order.
            let pos: BTreeMap<&Vec<String>, usize> = ka.iter().map(|(k, &i)| (k, i)).collect();
            d.changed
                .sort_by_key(|c| pos.get(&c.key).copied().unwrap_or(usize::MAX));
        }
        None => {
            // Whole rows over the common columns, as multisets.
            let common_b = |r: &[Value]| -> Vec<String> {
                common.iter().map(|&(ib, _)| canonical(&r[ib])).collect()
            };
            let common_a = |r: &[Value]| -> Vec<String> {
                common.iter().map(|&(_, ia)| canonical(&r[ia])).collect()
            };
            let mut left: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            for r in &before.rows {
                *left.entry(common_b(r)).or_default() += 1;
            }
            for r in &after.rows {
                match left.get_mut(&common_a(r)) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        d.added_count += 1;
                        d.added.push(texts(after, r, formats));
                    }
                }
            }
            let mut right: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            for r in &after.rows {
                *right.entry(common_a(r)).or_default() += 1;
            }
            for r in &before.rows {
                match right.get_mut(&common_b(r)) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        d.removed_count += 1;
                        d.removed.push(texts(before, r, formats));
                    }
                }
            }
        }
    }
    d.added.truncate(KEPT_ROWS);
    d.removed.truncate(KEPT_ROWS);
    d.changed.truncate(KEPT_ROWS);
    let rows_differ = d.added_count + d.removed_count + d.changed_count > 0;
    let rows = |t: &Table| -> Vec<Vec<String>> {
        t.rows
            .iter()
            .map(|r| r.iter().map(canonical).collect())
            .collect()
    };
    d.order_changed = how.ordered && !rows_differ && cb == ca && rows(before) != rows(after);
    if rows_differ || cb != ca || d.order_changed {
        d.status = Status::Changed;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Column, Kind};

    #[test]
    fn ids_never_show_but_are_counted() {
        let id = |s: &str| Value::Text(s.to_string());
        let before = table(
            &[("session_id", Kind::Text)],
            vec![vec![id("3f0c5e52-8a0e-4c6b-9d0b-2f7c6a1e9b41")]],
        );
        let after = table(
            &[("session_id", Kind::Text)],
            vec![
                vec![id("3f0c5e52-8a0e-4c6b-9d0b-2f7c6a1e9b41")],
                vec![id("b2d6e0f4-59c1-4f7a-8e3b-0a9c4d2f6e18")],
            ],
        );
        let d = tables("ids", &before, &after, &changed());
        assert_eq!(d.added_count, 1);
        assert_eq!(d.added, vec![vec!["‹id›".to_string()]]);
    }

    fn changed() -> Compare<'static> {
        Compare {
            sql_changed: true,
            ordered: true,
            formats: None,
        }
    }

    fn table(cols: &[(&str, Kind)], rows: Vec<Vec<Value>>) -> Table {
        Table {
            columns: cols
                .iter()
                .map(|(n, k)| Column {
                    name: n.to_string(),
                    kind: *k,
                })
                .collect(),
            rows,
        }
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn rows_are_matched_by_their_text_columns() {
        let cols = [("shell", Kind::Text), ("sessions", Kind::Int)];
        let before = table(
            &cols,
            vec![
                vec![t("bash"), Value::Int(10)],
                vec![t("zsh"), Value::Int(5)],
                vec![t("fish"), Value::Int(1)],
            ],
        );
        let after = table(
            &cols,
            vec![
                vec![t("zsh"), Value::Int(8)],
                vec![t("bash"), Value::Int(10)],
                vec![t("nu"), Value::Int(2)],
            ],
        );
        let formats = Formats::from([("sessions".to_string(), ValueFormat::Number)]);
        let how = Compare {
            formats: Some(&formats),
            ..changed()
        };
        let d = tables("top_shells", &before, &after, &how);
        assert_eq!(d.status, Status::Changed);
        assert_eq!(d.key, vec!["shell"]);
        assert_eq!(d.added, vec![vec!["nu", "2"]]);
        assert_eq!(d.removed, vec![vec!["fish", "1"]]);
        assert_eq!(
            d.changed,
            vec![RowChange {
                key: vec!["zsh".into()],
                cells: vec![CellChange {
                    column: "sessions".into(),
                    before: "5".into(),
                    after: "8".into(),
                    delta: Some(3.0),
                    relative: Some(0.6),
                    change: "+3 (+60 %)".into(),
                }],
            }]
        );
        let same = tables("top_shells", &before, &before, &Compare::default());
        assert_eq!(same.status, Status::Unchanged);
    }

    #[test]
    fn without_a_unique_key_whole_rows_are_compared() {
        let cols = [("n", Kind::Int)];
        let before = table(&cols, vec![vec![Value::Int(1)], vec![Value::Int(1)]]);
        let after = table(&cols, vec![vec![Value::Int(1)], vec![Value::Int(2)]]);
        let ordered = Compare {
            ordered: true,
            ..Compare::default()
        };
        let d = tables("q", &before, &after, &ordered);
        assert!(d.key.is_empty());
        assert_eq!((d.added_count, d.removed_count), (1, 1));
        let reordered = table(&cols, vec![vec![Value::Int(2)], vec![Value::Int(1)]]);
        let d = tables("q", &after, &reordered, &ordered);
        assert!(d.order_changed);
        assert_eq!(d.status, Status::Changed);
        // Without a total order, rows in another order are the same rows.
        let d = tables("q", &after, &reordered, &Compare::default());
        assert!(!d.order_changed);
        assert_eq!(d.status, Status::Unchanged);
    }

    #[test]
    fn sums_that_differ_in_their_last_bits_are_equal() {
        let cols = [("shell", Kind::Text), ("share", Kind::Float)];
        let before = table(&cols, vec![vec![t("bash"), Value::Float(0.1 + 0.2)]]);
        let after = table(&cols, vec![vec![t("bash"), Value::Float(0.3)]]);
        let d = tables("q", &before, &after, &Compare::default());
        assert_eq!(d.status, Status::Unchanged, "{d:?}");
        let whole = [("share", Kind::Float)];
        let before = table(&whole, vec![vec![Value::Float(0.1 + 0.2)]]);
        let after = table(&whole, vec![vec![Value::Float(0.3)]]);
        let d = tables("q", &before, &after, &Compare::default());
        assert_eq!(d.status, Status::Unchanged, "{d:?}");
    }

    #[test]
    fn a_renamed_column_changes_the_columns() {
        let before = table(
            &[("shell", Kind::Text), ("n", Kind::Int)],
            vec![vec![t("bash"), Value::Int(1)]],
        );
        let after = table(
            &[("shell", Kind::Text), ("sessions", Kind::Int)],
            vec![vec![t("bash"), Value::Int(1)]],
        );
        let d = tables("q", &before, &after, &changed());
        assert_eq!(d.status, Status::Changed);
        assert_eq!(d.changed_count + d.added_count + d.removed_count, 0);
        assert_eq!(d.columns_before, vec!["shell", "n"]);
    }
}
