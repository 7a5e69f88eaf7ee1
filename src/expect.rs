//! Expectations: what must hold of a query's result, stated beside the panel that shows it
//! (`[[panel.expect]]` in `reports/NAME.toml`) or beside the query (`[[expect]]` in
//! `queries/NAME.expect.toml`). `report build` fails when one does not hold; `report diff`
//! shows them for both sides.
//!
//! ```toml
//! [[panel.expect]]
//! not_null = ["version"]                  # no null (or NaN) in these columns
//! [[panel.expect]]
//! rows = { min = 1, max = 500 }           # row count in [min, max]; either bound optional
//! [[panel.expect]]
//! column = "failed_share"                 # every non-null value in [min, max]
//! min = 0.0
//! max = 1.0
//! [[panel.expect]]
//! sum = "share"                           # the column sums to `equals` per group
//! per = ["date"]                          # (the whole result when `per` is absent)
//! equals = 1.0
//! tolerance = 1e-6                        # default 1e-6
//! [[panel.expect]]
//! unique = ["date", "version"]            # no two rows share these values
//! [[panel.expect]]
//! sql = "SELECT * FROM top_shells WHERE sessions < 0"   # must return no rows
//! ```
//! Each table may also have `name`, shown in messages. Unknown keys are errors.
//!
//! Evaluation is pure over [`Table`]: a `sql` expectation is evaluated on the result of its
//! assertion query, which the caller runs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::problem::{from_spanned, line_of, table_value, take};
use crate::query::{Table, Value};

/// Offending rows shown in a message at most.
pub const SHOWN_ROWS: usize = 5;

/// One expectation: a rule and an optional name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expectation {
    pub name: Option<String>,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Rule {
    NotNull {
        columns: Vec<String>,
    },
    Rows {
        min: Option<u64>,
        max: Option<u64>,
    },
    Range {
        column: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    Sum {
        column: String,
        per: Vec<String>,
        equals: f64,
        tolerance: f64,
    },
    Unique {
        columns: Vec<String>,
    },
    Sql {
        sql: String,
    },
}

/// The keys that choose a rule; exactly one must be present.
pub const RULE_KEYS: [&str; 6] = ["not_null", "rows", "column", "sum", "unique", "sql"];

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotNullKeys {
    not_null: OneOrMany,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bounds {
    min: Option<u64>,
    max: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RowsKeys {
    rows: Bounds,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeKeys {
    column: String,
    min: Option<f64>,
    max: Option<f64>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SumKeys {
    sum: String,
    #[serde(default)]
    per: Option<OneOrMany>,
    equals: f64,
    tolerance: Option<f64>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UniqueKeys {
    unique: OneOrMany,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlKeys {
    sql: String,
    name: Option<String>,
}

impl Expectation {
    /// Parses one `[[expect]]` table (parsed with its spans, so a bad key's error says where).
    pub fn parse(value: Spanned<DeValue<'_>>) -> Result<Expectation> {
        let Some(table) = value.get_ref().as_table() else {
            bail!(
                "an expectation must be a table, not {}",
                value.get_ref().type_str()
            );
        };
        let keys: Vec<&str> = table.keys().map(|k| k.get_ref().as_ref()).collect();
        let present: Vec<&str> = RULE_KEYS
            .iter()
            .copied()
            .filter(|k| keys.contains(k))
            .collect();
        let kind = match present.as_slice() {
            [one] => *one,
            [] => bail!(
                "an expectation needs one of the keys {} (it has: {})",
                RULE_KEYS.join(", "),
                keys.join(", ")
            ),
            many => bail!(
                "an expectation has one rule, but this one has {}",
                many.join(" and ")
            ),
        };
        let (name, rule) = match kind {
            "not_null" => {
                let k: NotNullKeys = from_spanned(value)?;
                (
                    k.name,
                    Rule::NotNull {
                        columns: k.not_null.into_vec(),
                    },
                )
            }
            "rows" => {
                let k: RowsKeys = from_spanned(value)?;
                if k.rows.min.is_none() && k.rows.max.is_none() {
                    bail!("`rows` needs `min`, `max` or both");
                }
                (
                    k.name,
                    Rule::Rows {
                        min: k.rows.min,
                        max: k.rows.max,
                    },
                )
            }
            "column" => {
                let k: RangeKeys = from_spanned(value)?;
                if k.min.is_none() && k.max.is_none() {
                    bail!("`column = {:?}` needs `min`, `max` or both", k.column);
                }
                (
                    k.name,
                    Rule::Range {
                        column: k.column,
                        min: k.min,
                        max: k.max,
                    },
                )
            }
            "sum" => {
                let k: SumKeys = from_spanned(value)?;
                let tolerance = k.tolerance.unwrap_or(1e-6);
                if tolerance.is_nan() || tolerance < 0.0 {
                    bail!("`tolerance` must be 0 or more");
                }
                (
                    k.name,
                    Rule::Sum {
                        column: k.sum,
                        per: k.per.map(OneOrMany::into_vec).unwrap_or_default(),
                        equals: k.equals,
                        tolerance,
                    },
                )
            }
            "unique" => {
                let k: UniqueKeys = from_spanned(value)?;
                (
                    k.name,
                    Rule::Unique {
                        columns: k.unique.into_vec(),
                    },
                )
            }
            _ => {
                let k: SqlKeys = from_spanned(value)?;
                (k.name, Rule::Sql { sql: k.sql })
            }
        };
        Ok(Expectation { name, rule })
    }

    /// Parses a list of `[[expect]]` tables, naming the failing one (1-based); also gives the
    /// byte offset where each starts.
    pub fn parse_list(value: Spanned<DeValue<'_>>) -> Result<Vec<(Expectation, usize)>> {
        let DeValue::Array(items) = value.into_inner() else {
            bail!("`expect` must be a list of tables ([[expect]])");
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let at = item.span().start;
                if !item.get_ref().is_table() {
                    bail!(
                        "expectation {} must be a table, not {}",
                        i + 1,
                        item.get_ref().type_str()
                    );
                }
                let e =
                    Expectation::parse(item).with_context(|| format!("expectation {}", i + 1))?;
                Ok((e, at))
            })
            .collect()
    }

    /// Columns of the result the expectation reads, as (key, column) pairs.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        match &self.rule {
            Rule::NotNull { columns } => columns.iter().map(|c| ("not_null", c.as_str())).collect(),
            Rule::Rows { .. } | Rule::Sql { .. } => Vec::new(),
            Rule::Range { column, .. } => vec![("column", column.as_str())],
            Rule::Sum { column, per, .. } => std::iter::once(("sum", column.as_str()))
                .chain(per.iter().map(|p| ("per", p.as_str())))
                .collect(),
            Rule::Unique { columns } => columns.iter().map(|c| ("unique", c.as_str())).collect(),
        }
    }

    /// Columns that must be numeric.
    pub fn numeric_columns(&self) -> Vec<(&'static str, &str)> {
        match &self.rule {
            Rule::Range { column, .. } => vec![("column", column.as_str())],
            Rule::Sum { column, .. } => vec![("sum", column.as_str())],
            _ => Vec::new(),
        }
    }

    /// Checks `table` (for `sql`, the assertion query's result); `None` when it holds.
    pub fn evaluate(&self, table: &Table) -> Option<Violation> {
        let missing: Vec<&str> = self
            .columns()
            .into_iter()
            .map(|(_, c)| c)
            .filter(|c| table.index_of(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Some(Violation {
                message: format!(
                    "the result has no column {} (it has: {})",
                    missing.join(", "),
                    names(table).join(", ")
                ),
                ..Violation::default()
            });
        }
        let idx = |c: &str| table.index_of(c).unwrap_or(0);
        match &self.rule {
            Rule::NotNull { columns } => {
                let cols: Vec<usize> = columns.iter().map(|c| idx(c)).collect();
                let bad: Vec<&Vec<Value>> = table
                    .rows
                    .iter()
                    .filter(|r| cols.iter().any(|&c| r[c].is_null()))
                    .collect();
                rows_violation(
                    table,
                    &bad,
                    format!("{} of {} rows have a null", bad.len(), table.rows.len()),
                )
            }
            Rule::Rows { min, max } => {
                let n = table.rows.len() as u64;
                let low = min.is_some_and(|m| n < m);
                let high = max.is_some_and(|m| n > m);
                (low || high).then(|| Violation {
                    message: format!("the result has {n} rows"),
                    ..Violation::default()
                })
            }
            Rule::Range { column, min, max } => {
                let c = idx(column);
                let bad: Vec<&Vec<Value>> = table
                    .rows
                    .iter()
                    .filter(|r| {
                        if r[c].is_null() {
                            return false;
                        }
                        match r[c].as_f64() {
                            Some(v) => min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m),
                            None => true,
                        }
                    })
                    .collect();
                rows_violation(
                    table,
                    &bad,
                    format!(
                        "{} of {} rows are out of range",
                        bad.len(),
                        table.rows.len()
                    ),
                )
            }
            Rule::Sum {
                column,
                per,
                equals,
                tolerance,
            } => {
                let c = idx(column);
                let keys: Vec<usize> = per.iter().map(|p| idx(p)).collect();
                // Group key (as text) → (key values, sum), in first-seen order.
                let mut groups: BTreeMap<Vec<String>, (usize, Vec<Value>, f64)> = BTreeMap::new();
                for r in &table.rows {
                    let key: Vec<String> = keys.iter().map(|&k| r[k].to_string()).collect();
                    let n = groups.len();
                    let e = groups
                        .entry(key)
                        .or_insert_with(|| (n, keys.iter().map(|&k| r[k].clone()).collect(), 0.0));
                    e.2 += r[c].as_f64().unwrap_or(0.0);
                }
                let mut bad: Vec<(usize, Vec<String>)> = groups
                    .into_values()
                    .filter(|(_, _, sum)| (sum - equals).abs() > *tolerance)
                    .map(|(order, vals, sum)| {
                        let mut row: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
                        row.push(fmt_f64(sum));
                        (order, row)
                    })
                    .collect();
                bad.sort_by_key(|(order, _)| *order);
                if bad.is_empty() {
                    return None;
                }
                let mut columns: Vec<String> = per.clone();
                columns.push(format!("sum({column})"));
                Some(Violation {
                    message: if per.is_empty() {
                        "the sum is off".to_string()
                    } else {
                        format!("{} groups are off", bad.len())
                    },
                    total: bad.len(),
                    columns,
                    rows: bad.into_iter().take(SHOWN_ROWS).map(|(_, r)| r).collect(),
                })
            }
            Rule::Unique { columns } => {
                let cols: Vec<usize> = columns.iter().map(|c| idx(c)).collect();
                let mut count: BTreeMap<Vec<String>, usize> = BTreeMap::new();
                for r in &table.rows {
                    *count
                        .entry(cols.iter().map(|&c| r[c].to_string()).collect())
                        .or_default() += 1;
                }
                let bad: Vec<&Vec<Value>> = table
                    .rows
                    .iter()
                    .filter(|r| {
                        let k: Vec<String> = cols.iter().map(|&c| r[c].to_string()).collect();
                        count.get(&k).copied().unwrap_or(0) > 1
                    })
                    .collect();
                rows_violation(
                    table,
                    &bad,
                    format!("{} rows share their key with another", bad.len()),
                )
            }
            Rule::Sql { .. } => {
                let all: Vec<&Vec<Value>> = table.rows.iter().collect();
                rows_violation(
                    table,
                    &all,
                    format!("the assertion query returned {} rows", all.len()),
                )
            }
        }
    }
}

fn names(table: &Table) -> Vec<&str> {
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

fn rows_violation(table: &Table, bad: &[&Vec<Value>], message: String) -> Option<Violation> {
    if bad.is_empty() {
        return None;
    }
    Some(Violation {
        message,
        columns: table.columns.iter().map(|c| c.name.clone()).collect(),
        rows: bad
            .iter()
            .take(SHOWN_ROWS)
            .map(|r| r.iter().map(|v| v.to_string()).collect())
            .collect(),
        total: bad.len(),
    })
}

fn fmt_f64(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn bound(v: f64) -> String {
    fmt_f64(v)
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = &self.name {
            write!(f, "{n:?}: ")?;
        }
        match &self.rule {
            Rule::NotNull { columns } => write!(f, "no null in {}", columns.join(", ")),
            Rule::Rows { min, max } => match (min, max) {
                (Some(a), Some(b)) => write!(f, "between {a} and {b} rows"),
                (Some(a), None) => write!(f, "at least {a} rows"),
                (None, Some(b)) => write!(f, "at most {b} rows"),
                (None, None) => write!(f, "any number of rows"),
            },
            Rule::Range { column, min, max } => match (min, max) {
                (Some(a), Some(b)) => write!(f, "{column} between {} and {}", bound(*a), bound(*b)),
                (Some(a), None) => write!(f, "{column} ≥ {}", bound(*a)),
                (None, Some(b)) => write!(f, "{column} ≤ {}", bound(*b)),
                (None, None) => write!(f, "{column} in any range"),
            },
            Rule::Sum {
                column,
                per,
                equals,
                tolerance,
            } => {
                write!(f, "sum of {column}")?;
                if !per.is_empty() {
                    write!(f, " per {}", per.join(", "))?;
                }
                write!(f, " = {} (± {})", bound(*equals), bound(*tolerance))
            }
            Rule::Unique { columns } => write!(f, "one row per {}", columns.join(", ")),
            Rule::Sql { sql } => write!(f, "no rows from `{}`", one_line(sql)),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why an expectation does not hold, with the first few offending rows.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Violation {
    pub message: String,
    /// Header of `rows`.
    pub columns: Vec<String>,
    /// The first [`SHOWN_ROWS`] offending rows, as text.
    pub rows: Vec<Vec<String>>,
    /// Offending rows (or groups) in all.
    pub total: usize,
}

/// Where an expectation was stated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Origin {
    Panel {
        report: PathBuf,
        panel: usize,
        title: String,
    },
    Query {
        path: PathBuf,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Panel {
                report,
                panel,
                title,
            } => write!(f, "{}: panel {} ({title:?})", report.display(), panel),
            Origin::Query { path } => write!(f, "{}", path.display()),
        }
    }
}

/// An expectation that does not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub origin: Origin,
    pub query: String,
    /// 1-based position among the expectations of its panel or file.
    pub index: usize,
    pub expectation: String,
    pub violation: Violation,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expectation {} on query {}: {}: {}",
            self.origin, self.index, self.query, self.expectation, self.violation.message
        )?;
        let v = &self.violation;
        if !v.rows.is_empty() {
            write!(f, "\n    {}", v.columns.join(" | "))?;
            for r in &v.rows {
                write!(f, "\n    {}", r.join(" | "))?;
            }
            if v.total > v.rows.len() {
                write!(f, "\n    … and {} more", v.total - v.rows.len())?;
            }
        }
        Ok(())
    }
}

/// The expectations of one `queries/NAME.expect.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryExpectations {
    pub query: String,
    pub path: PathBuf,
    pub expect: Vec<Expectation>,
    /// The line of each expectation's `[[expect]]`.
    pub lines: Vec<usize>,
}

/// The keys an expectation file has (only `expect`): checked first, with spans.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExpectFile {
    #[serde(default)]
    expect: Option<toml::Value>,
}

/// Suffix of a query's expectation file.
pub const FILE_SUFFIX: &str = ".expect.toml";

impl QueryExpectations {
    pub fn parse(text: &str, path: &Path) -> Result<QueryExpectations> {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{}: file name is not UTF-8", path.display()))?;
        let query = file_name
            .strip_suffix(FILE_SUFFIX)
            .with_context(|| format!("{}: not a {FILE_SUFFIX} file", path.display()))?
            .to_string();
        let invalid = || format!("{}: invalid expectations", path.display());
        let doc = DeTable::parse(text).with_context(invalid)?;
        let _: ExpectFile = from_spanned(table_value(doc.clone())).with_context(invalid)?;
        let expect = match take(&mut doc.into_inner(), "expect") {
            Some(v) => Expectation::parse_list(v).with_context(|| path.display().to_string())?,
            None => Vec::new(),
        };
        let (expect, lines) = expect
            .into_iter()
            .map(|(e, at)| (e, line_of(text, at)))
            .unzip();
        Ok(QueryExpectations {
            query,
            path: path.to_path_buf(),
            expect,
            lines,
        })
    }

    /// Every `*.expect.toml` of the queries folder `dir`, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<QueryExpectations>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read queries folder {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(FILE_SUFFIX))
            })
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                QueryExpectations::parse(&text, p)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Column, Kind};

    fn table() -> Table {
        let col = |name: &str, kind| Column {
            name: name.into(),
            kind,
        };
        let row = |d: &str, v: Option<&str>, s: f64| {
            vec![
                Value::Text(d.into()),
                v.map_or(Value::Null, |v| Value::Text(v.into())),
                Value::Float(s),
            ]
        };
        Table {
            columns: vec![
                col("date", Kind::Text),
                col("version", Kind::Text),
                col("share", Kind::Float),
            ],
            rows: vec![
                row("d1", Some("1.0"), 0.25),
                row("d1", Some("1.1"), 0.75),
                row("d2", Some("1.0"), 0.5),
                row("d2", None, 0.4),
            ],
        }
    }

    fn parse(text: &str) -> Result<Expectation> {
        Expectation::parse(table_value(DeTable::parse(text)?))
    }

    #[test]
    fn each_rule_parses_and_describes_itself() {
        let cases = [
            ("not_null = 'version'", "no null in version"),
            ("rows = { min = 1, max = 500 }", "between 1 and 500 rows"),
            ("column = 'share'\nmin = 0.0", "share ≥ 0"),
            (
                "sum = 'share'\nper = ['date']\nequals = 1.0",
                "sum of share per date = 1 (± 0.000001)",
            ),
            ("unique = ['date', 'version']", "one row per date, version"),
            (
                "sql = '''SELECT 1\n WHERE false'''\nname = 'none'",
                "\"none\": no rows from `SELECT 1 WHERE false`",
            ),
        ];
        for (text, shown) in cases {
            assert_eq!(parse(text).expect(text).to_string(), shown);
        }
    }

    #[test]
    fn unknown_keys_and_ambiguous_rules_are_errors() {
        let err = format!(
            "{:#}",
            parse("not_null = 'a'\ncolour = 'red'").expect_err("key")
        );
        assert!(err.contains("colour"), "{err}");
        let err = format!(
            "{:#}",
            parse("not_null = 'a'\nunique = 'b'").expect_err("two")
        );
        assert!(err.contains("not_null and unique"), "{err}");
        let err = format!("{:#}", parse("name = 'x'").expect_err("none"));
        assert!(err.contains("one of the keys"), "{err}");
        assert!(parse("rows = {}").is_err());
        assert!(parse("column = 'a'").is_err());
    }

    #[test]
    fn violations_name_the_offending_rows() {
        let t = table();
        let v = parse("not_null = 'version'")
            .expect("parse")
            .evaluate(&t)
            .expect("fails");
        assert_eq!(v.total, 1);
        assert_eq!(v.rows, vec![vec!["d2", "", "0.4"]]);

        let v = parse("sum = 'share'\nper = 'date'\nequals = 1.0")
            .expect("parse")
            .evaluate(&t)
            .expect("fails");
        assert_eq!(v.columns, vec!["date", "sum(share)"]);
        assert_eq!(v.rows, vec![vec!["d2", "0.9"]]);
        assert!(
            parse("sum = 'share'\nper = 'date'\nequals = 1.0\ntolerance = 0.2")
                .expect("parse")
                .evaluate(&t)
                .is_none()
        );

        let v = parse("column = 'share'\nmax = 0.45")
            .expect("parse")
            .evaluate(&t)
            .expect("fails");
        assert_eq!(v.total, 2);
        assert!(
            parse("rows = { max = 3 }")
                .expect("p")
                .evaluate(&t)
                .is_some()
        );
        assert!(
            parse("rows = { min = 4 }")
                .expect("p")
                .evaluate(&t)
                .is_none()
        );
        let v = parse("unique = 'date'")
            .expect("p")
            .evaluate(&t)
            .expect("fails");
        assert_eq!(v.total, 4);
        assert!(
            parse("unique = ['date', 'version']")
                .expect("p")
                .evaluate(&t)
                .is_none()
        );
        let v = parse("not_null = 'missing'")
            .expect("p")
            .evaluate(&t)
            .expect("fails");
        assert!(v.message.contains("no column missing"), "{}", v.message);
    }

    #[test]
    fn query_expectation_files_are_named_after_their_query() {
        let q = QueryExpectations::parse(
            "[[expect]]\nnot_null = 'date'\n[[expect]]\nrows = { min = 1 }\n",
            Path::new("queries/sessions_per_day.expect.toml"),
        )
        .expect("parse");
        assert_eq!(q.query, "sessions_per_day");
        assert_eq!(q.expect.len(), 2);
        let err = QueryExpectations::parse(
            "[[expect]]\nrows = { min = 1, most = 2 }\n",
            Path::new("queries/a.expect.toml"),
        )
        .expect_err("unknown key");
        let err = format!("{err:#}");
        assert!(
            err.contains("queries/a.expect.toml") && err.contains("most"),
            "{err}"
        );
        assert!(QueryExpectations::parse("other = 1", Path::new("queries/a.expect.toml")).is_err());
    }
}
