//! What a telemetry format is to the pull: the [`FormatSpec`] trait.
//!
//! A format owns its record type, how an object's bytes become records (decoding and the
//! validation rules of its system), each record's dedup key and `date` partition, the tables it
//! fills and how a batch of records becomes their Arrow batches. The pull itself (listing,
//! bounded concurrent GETs, gunzip, dedup, quarantine, batched commits) is the same for all.
//! Adding a format means a module implementing this trait and a line in each match of
//! [`super::registry`](super) — nothing else.

use anyhow::Result;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use serde_json::Value;

use super::Rejection;

/// One warehouse table a format fills.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: &'static str,
    /// Columns of the data files (the `date` partition column lives in the path).
    pub schema: SchemaRef,
    /// Hive-partitioned by `date=YYYY-MM-DD`.
    pub partitioned: bool,
}

/// What the listing says about the object being decoded.
#[derive(Debug, Clone, Copy)]
pub struct ObjectInfo<'a> {
    pub key: &'a str,
    /// When the store last wrote the object, nanoseconds since the epoch (UTC); `None` when
    /// the store gave a time nanoseconds cannot hold.
    pub last_modified: Option<i64>,
}

/// A record together with where it came from.
pub struct Located<'a, R> {
    pub source: &'a str,
    pub key: &'a str,
    pub record: &'a R,
}

pub trait FormatSpec: Send + Sync + 'static {
    /// One decoded, valid unit of the format (a session, a report, a snapshot, an event).
    type Record: Send + Sync + 'static;

    /// The tables this format fills, each with its schema.
    fn tables(&self) -> Vec<TableDef>;

    /// The table and string column that hold every kept record's dedup key (one row per
    /// record): the warehouse's index holds its values, so a record already in the warehouse
    /// is not counted twice.
    const ID_COLUMN: (&'static str, &'static str);

    /// Decodes one object (already gunzipped) into its records, or says which rule it broke.
    /// An object holds one record or, for line-delimited formats, several; it is kept or
    /// quarantined whole.
    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Self::Record>, Rejection>;

    /// The dedup key: records with the same key are kept once, the first in key order.
    fn id(&self, record: &Self::Record) -> String;

    /// The record's `date` partition, `YYYY-MM-DD`.
    fn date(&self, record: &Self::Record) -> String;

    /// The batch of `table` for records of one date (possibly with no rows).
    fn batch(&self, table: &str, rows: &[Located<Self::Record>]) -> Result<RecordBatch>;
}

/// A [`Rejection`] from a rule name and a message.
pub fn reject(rule: impl Into<String>, message: impl Into<String>) -> Rejection {
    Rejection {
        rule: rule.into(),
        message: message.into(),
    }
}

/// Shortens and quotes hostile values before they go into a reason.
pub fn shown(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

/// Splits a line-delimited body into its non-blank lines, numbered from 1.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| l.iter().any(|b| !b.is_ascii_whitespace()))
}

/// Prefixes a rejection's message with the line it came from (rules stay stable).
pub fn at_line(line: usize, r: Rejection) -> Rejection {
    Rejection {
        rule: r.rule,
        message: format!("line {line}: {}", r.message),
    }
}

/// Parses JSON, refusing what is not an object.
pub fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, Rejection> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| reject("json", format!("not valid JSON: {e}")))?;
    match value {
        Value::Object(o) => Ok(o),
        _ => Err(reject("json", "the document is not a JSON object")),
    }
}

/// The UTC day of `ns` nanoseconds since the epoch.
pub fn day(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_keep_their_numbers() {
        let got: Vec<(usize, &[u8])> = lines(b"a\r\n\n  \nb\n").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (4, &b"b"[..])]);
    }

    #[test]
    fn hostile_values_are_shortened() {
        let long = "x".repeat(200);
        assert!(shown(&long).ends_with('…'));
        assert_eq!(shown("a\"b"), "\"a\\\"b\"");
    }
}
