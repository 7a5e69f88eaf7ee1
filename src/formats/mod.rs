//! Telemetry formats: one module per system (Abacus, Go telemetry, PACE, devstack), each owning
//! its decoding and validation rules, its tables and schemas, its batch building and (in its
//! `generate` submodule) its generator.
//!
//! [`FORMATS`] is the one registry: `config` resolves a source's `format = "…"` through it,
//! `pull` decodes through the [`Spec`] a format configures, and `query` registers the tables it
//! declares. Adding a format is a module here and a line in [`FORMATS`] (ARCHITECTURE.md,
//! "Adding a format").
//!
//! A format implements [`Format`] (its name, its own `[[source]]` keys, its id column, its
//! generator) and, for the pull, [`FormatSpec`]: its record type, how an object's bytes become
//! records, each record's dedup key and `date` partition, and how records become Arrow batches.
//! The pull sees a configured format through [`Spec`], the same methods with the record type
//! erased.

pub mod abacus;
pub mod devstack;
pub mod generate;
pub mod go_telemetry;
pub mod pace;
pub mod plausible;
#[cfg(test)]
pub(crate) mod rules;

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use serde_json::Value;

/// Every format `report` reads, in the order their tables are registered.
pub static FORMATS: [&dyn Format; 4] = [
    &abacus::Abacus,
    &go_telemetry::GoTelemetry,
    &pace::Pace,
    &devstack::Devstack,
];

/// The format named `name` (as in `report.toml`).
pub fn by_name(name: &str) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// Every format's tables as its defaults type them (what `report check` plans against when
/// `report.toml` cannot be read).
pub fn default_catalog() -> Vec<TableDef> {
    FORMATS
        .iter()
        .filter_map(|f| f.configure(toml::Table::new(), Path::new(".")).ok())
        .flat_map(|spec| spec.tables())
        .collect()
}

/// The names of every format, for messages and `--help`.
pub fn names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.name()).collect()
}

/// A telemetry system, as the rest of the program sees it.
pub trait Format: Sync + 'static {
    /// Its name in `report.toml` (`format = "abacus"`).
    fn name(&self) -> &'static str;

    /// The keys of a `[[source]]` table that belong to this format (beyond `name`, `format`,
    /// `url`, `prefix` and `options`, which every source has).
    fn keys(&self) -> &'static [&'static str];

    /// Resolves a source's own keys into the configured format, loading the files they name
    /// (paths relative to `root`). An empty table gives the format's defaults.
    fn configure(&self, keys: toml::Table, root: &Path) -> Result<Arc<dyn Spec>>;

    /// The `[[source]]` key to check when most objects break `rule` (Abacus's
    /// `applicationId.oneof` → `application_ids`): the summary names it.
    fn setting_for(&self, _rule: &str) -> Option<&'static str> {
        None
    }

    /// The table and string column that hold every kept record's dedup key (one row per
    /// record).
    fn id_column(&self) -> (&'static str, &'static str);

    /// Valid objects in the real bucket layout; `opts.sessions` counts sessions, reports,
    /// installs or runs.
    fn generate(&self, opts: &generate::Options) -> Vec<generate::Object>;

    /// The same objects, handed to `each` as they are made; formats whose objects are made
    /// whole at once (days of NDJSON) hand them over at the end.
    fn generate_each(
        &self,
        opts: &generate::Options,
        each: &mut dyn FnMut(generate::Object) -> Result<()>,
    ) -> Result<()> {
        self.generate(opts).into_iter().try_for_each(each)
    }
}

impl fmt::Debug for dyn Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for dyn Format {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

/// Why an object was quarantined: the rule (stable, for grouping) and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub rule: String,
    pub message: String,
}

#[cfg(test)]
impl From<Rejection> for (String, String) {
    /// A rejection as the rule tables compare it (`rules::Outcome`).
    fn from(r: Rejection) -> (String, String) {
        (r.rule, r.message)
    }
}

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

pub trait FormatSpec: fmt::Debug + Send + Sync + 'static {
    /// One decoded, valid unit of the format (a session, a report, a snapshot, an event).
    type Record: Send + Sync + 'static;

    /// The tables this format fills, each with its schema.
    fn tables(&self) -> Vec<TableDef>;

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

/// A record of some format, its type erased (see [`Spec`]).
pub type Record = Box<dyn Any + Send + Sync>;

/// A configured format as the pull sees it: [`FormatSpec`] with the record type erased, so one
/// pull serves every format of the registry.
pub trait Spec: fmt::Debug + Send + Sync {
    /// What decides which objects this configuration accepts (its `Debug`, hashed): an object
    /// quarantined under another one is looked at again.
    fn fingerprint(&self) -> String {
        fingerprint(&format!("{self:?}"))
    }
    fn tables(&self) -> Vec<TableDef>;
    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Record>, Rejection>;
    fn id(&self, record: &Record) -> String;
    fn date(&self, record: &Record) -> String;
    fn batch(&self, table: &str, rows: &[Located<Record>]) -> Result<RecordBatch>;
}

/// The record of a format, back from a [`Record`] that the same format decoded.
fn typed<R: 'static>(record: &Record) -> &R {
    record
        .downcast_ref::<R>()
        .expect("records reach the format that decoded them")
}

impl<S: FormatSpec> Spec for S {
    fn tables(&self) -> Vec<TableDef> {
        FormatSpec::tables(self)
    }

    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Record>, Rejection> {
        let records = FormatSpec::decode(self, object, bytes)?;
        Ok(records.into_iter().map(|r| Box::new(r) as Record).collect())
    }

    fn id(&self, record: &Record) -> String {
        FormatSpec::id(self, typed(record))
    }

    fn date(&self, record: &Record) -> String {
        FormatSpec::date(self, typed(record))
    }

    fn batch(&self, table: &str, rows: &[Located<Record>]) -> Result<RecordBatch> {
        let rows: Vec<Located<S::Record>> = rows
            .iter()
            .map(|r| Located {
                source: r.source,
                key: r.key,
                record: typed(r.record),
            })
            .collect();
        FormatSpec::batch(self, table, &rows)
    }
}

/// A short stable hash of `text` (FNV-1a, 64 bits, in hex).
pub fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Reads a format's own `[[source]]` keys into its settings type (`deny_unknown_fields`).
pub fn keys<T: serde::de::DeserializeOwned>(format: &str, keys: toml::Table) -> Result<T> {
    toml::Value::Table(keys)
        .try_into()
        .map_err(|e| anyhow::anyhow!("format {format:?}: {}", e.message().trim()))
}

/// The timestamp type of every time column: nanoseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// Objects larger than this, as stored or decompressed, are refused (a gzip bomb, or a plain
/// object of a gigabyte, is not a session): the pull reads no more of an object than this.
pub const MAX_OBJECT_BYTES: u64 = 64 << 20;

/// The rejection of an object of `size` bytes as stored, over [`MAX_OBJECT_BYTES`].
pub fn too_large(size: u64) -> Rejection {
    reject(
        "size",
        format!(
            "{size} bytes or more as stored, more than the {MAX_OBJECT_BYTES} an object may hold"
        ),
    )
}

/// Gunzips when the bytes start with the gzip magic number; otherwise returns them as they are.
/// Either way, more than [`MAX_OBJECT_BYTES`] is refused.
pub fn gunzip(bytes: &[u8]) -> Result<Cow<'_, [u8]>, Rejection> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        if bytes.len() as u64 > MAX_OBJECT_BYTES {
            return Err(too_large(bytes.len() as u64));
        }
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_OBJECT_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| reject("gzip", format!("broken gzip: {e}")))?;
    if out.len() as u64 > MAX_OBJECT_BYTES {
        return Err(reject(
            "size",
            format!("more than {MAX_OBJECT_BYTES} bytes when decompressed"),
        ));
    }
    Ok(Cow::Owned(out))
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
    fn gzip_is_detected_from_the_bytes() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"{\"a\":1}").expect("write");
        let gz = enc.finish().expect("finish");
        assert_eq!(&*gunzip(&gz).expect("gunzip"), b"{\"a\":1}");
        assert_eq!(&*gunzip(b"{}").expect("plain"), b"{}");
        let broken = &gz[..gz.len() / 2];
        assert_eq!(gunzip(broken).expect_err("broken").rule, "gzip");
    }

    #[test]
    fn gzip_bombs_are_refused() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..65 {
            enc.write_all(&zeros).expect("write");
        }
        let gz = enc.finish().expect("finish");
        assert_eq!(gunzip(&gz).expect_err("bomb").rule, "size");
    }

    #[test]
    fn every_format_is_found_by_its_name_and_configures_with_defaults() {
        let mut seen = std::collections::BTreeSet::new();
        for f in FORMATS {
            assert!(seen.insert(f.name()), "{} registered twice", f.name());
            assert_eq!(by_name(f.name()).map(|g| g.name()), Some(f.name()));
            let spec = f
                .configure(toml::Table::new(), Path::new("."))
                .expect("defaults");
            let (table, column) = f.id_column();
            let tables = spec.tables();
            let id_table = tables.iter().find(|t| t.name == table).expect("id table");
            assert!(
                id_table.schema.field_with_name(column).is_ok(),
                "{table}.{column}"
            );
        }
        assert!(by_name("csv").is_none());
    }

    #[test]
    fn hostile_values_are_shortened() {
        let long = "x".repeat(200);
        assert!(shown(&long).ends_with('…'));
        assert_eq!(shown("a\"b"), "\"a\\\"b\"");
    }
}
