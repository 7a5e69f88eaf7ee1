//! The PACE CLI format (getstrm/cli `pkg/entity/metrics`): one cumulative telemetry record per
//! install, uploaded as JSON (`POST /telemetry`) and kept locally as YAML
//! (`~/.config/pace/telemetry.yaml`); both are read. Rules are those of the client's Go types
//! (FORMATS.md §3): `id` is a `uuid.New()` (lowercase v4), `cli_version` a version,
//! `operating_system` a `runtime.GOOS`, `metric_points` maps a cobra command path (`pace …`)
//! to exit codes (0 or 1, as `err != nil`) to `{cumulative_count: uint32}`.
//!
//! Every upload is a snapshot of counts that only grow: queries take the **latest snapshot per
//! id** (or deltas between an id's snapshots), never a sum of uploads. The payload carries no
//! time, so a snapshot's `written_at` is when the store last wrote the object (`last_modified`
//! as the store reports it) or, with `written_at = "key"`, a `YYYYMMDDTHHMMSSZ` stamp in its key.
//! That time must be plausible: not before PACE's telemetry began, and not more than
//! `ahead_hours` after `last_modified` (`written_at.plausible`).
//! A snapshot is identified by its id and its total count (the total grows with every command,
//! so two different snapshots of one install never share it).

pub mod generate;

use std::path::Path;
use std::sync::{Arc, LazyLock};

use anyhow::{Result, bail};
use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use regex::Regex;
use serde_json::{Map, Value};

use serde::Deserialize;

use super::plausible::Window;
use super::{
    FormatSpec, Located, ObjectInfo, Rejection, TableDef, day, reject, shown, timestamp_type,
};

/// The PACE format in the registry.
pub struct Pace;

/// Where a PACE snapshot's write time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrittenAt {
    /// The object's `last_modified`, as the store reports it.
    #[default]
    LastModified,
    /// A `YYYYMMDDTHHMMSSZ` stamp in the object key (for stores that name objects by time,
    /// and for fixtures kept in git, whose file times are those of the checkout).
    Key,
}

/// A PACE source's own keys in `report.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    /// `last_modified` (the store's, by default) or `key` (a `YYYYMMDDTHHMMSSZ` stamp in the
    /// object key).
    #[serde(default)]
    written_at: WrittenAt,
    /// The window of plausible times (`not_before`, `ahead_hours`).
    #[serde(default)]
    plausible: Option<super::plausible::Keys>,
}

/// The day the PACE CLI began to send telemetry: getstrm/cli v1.17.0 of 2024-01-05 (commit
/// 525d152, "add cli telemetry"; v1.16.0 of 2023-12-29 sent none). No genuine snapshot was
/// written earlier.
pub const FIRST_RELEASE: &str = "2024-01-01";

impl super::Format for Pace {
    fn name(&self) -> &'static str {
        "pace"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["written_at", "plausible"]
    }

    fn configure(&self, keys: toml::Table, _: &Path) -> Result<Arc<dyn super::Spec>> {
        let keys: Keys = super::keys(self.name(), keys)?;
        Ok(Arc::new(Spec {
            written_at: keys.written_at,
            window: Window::configure(keys.plausible, FIRST_RELEASE)?,
        }))
    }

    fn setting_for(&self, rule: &str) -> Option<&'static str> {
        rule.starts_with("written_at.").then_some("written_at")
    }

    fn id_column(&self) -> (&'static str, &'static str) {
        ("pace_snapshots", "snapshot")
    }

    fn generate(&self, opts: &super::generate::Options) -> Vec<super::generate::Object> {
        generate::generate(opts)
    }
}

static UUID4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        .expect("valid regex")
});
static KEY_STAMP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{8}T\d{6}Z)").expect("valid regex"));

/// `runtime.GOOS` values (go tool dist list).
const GOOS: [&str; 17] = [
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// One valid snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: String,
    pub cli_version: String,
    pub operating_system: String,
    /// (command, exit code, cumulative count), sorted.
    pub points: Vec<(String, i64, i64)>,
    /// Sum of every cumulative count.
    pub total: i64,
    /// When the object was written, nanoseconds since the epoch (UTC).
    pub written_at: i64,
}

fn required_string(obj: &Map<String, Value>, key: &str) -> Result<String, Rejection> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => Err(reject(
            format!("{key}.required"),
            format!("{key} is required"),
        )),
        Some(_) => Err(reject(
            format!("{key}.type"),
            format!("{key} must be a string"),
        )),
    }
}

/// YAML → JSON value; mapping keys become strings (YAML has `0:` where JSON has `"0":`).
fn yaml_to_json(v: serde_norway::Value) -> Result<Value, Rejection> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => return Err(reject("yaml", "a mapping key is not a scalar")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
}

/// The document as a JSON object: JSON when it starts with `{`, YAML otherwise.
fn document(bytes: &[u8]) -> Result<Map<String, Value>, Rejection> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let value = if first == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(|e| reject("json", format!("not valid JSON: {e}")))?
    } else {
        let y: serde_norway::Value = serde_norway::from_slice(bytes)
            .map_err(|e| reject("yaml", format!("not valid YAML: {e}")))?;
        yaml_to_json(y)?
    };
    match value {
        Value::Object(o) => Ok(o),
        _ => Err(reject("json", "the document is not an object")),
    }
}

fn is_version(v: &str) -> bool {
    semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).is_ok()
}

/// Decodes one snapshot written at `written_at` and applies the client's rules.
pub fn decode(bytes: &[u8], written_at: i64) -> Result<Snapshot, Rejection> {
    let obj = document(bytes)?;
    let id = required_string(&obj, "id")?;
    if !UUID4.is_match(&id) {
        return Err(reject(
            "id.uuid4",
            format!("id must be a lowercase version 4 UUID (got {})", shown(&id)),
        ));
    }
    let cli_version = required_string(&obj, "cli_version")?;
    if !is_version(&cli_version) {
        return Err(reject(
            "cli_version.semver",
            format!(
                "cli_version must be a version like v1.16.0 (got {})",
                shown(&cli_version)
            ),
        ));
    }
    let operating_system = required_string(&obj, "operating_system")?;
    if !GOOS.contains(&operating_system.as_str()) {
        return Err(reject(
            "operating_system.goos",
            format!(
                "operating_system must be a Go GOOS such as darwin, linux or windows (got {})",
                shown(&operating_system)
            ),
        ));
    }
    let points_map = match obj.get("metric_points") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(reject(
                "metric_points.type",
                "metric_points must be a mapping",
            ));
        }
    };
    let mut points = Vec::new();
    for (command, codes) in &points_map {
        let words: Vec<&str> = command.split(' ').collect();
        if words.len() < 2
            || words[0] != "pace"
            || words.iter().any(|w| w.is_empty() || w.starts_with('-'))
        {
            return Err(reject(
                "metric_points.command",
                format!(
                    "{} is not a command path like \"pace list tables\"",
                    shown(command)
                ),
            ));
        }
        let Value::Object(codes) = codes else {
            return Err(reject(
                "metric_points.type",
                format!(
                    "metric_points[{}] must map exit codes to counts",
                    shown(command)
                ),
            ));
        };
        for (code, metric) in codes {
            let exit_code = match code.as_str() {
                "0" => 0,
                "1" => 1,
                _ => {
                    return Err(reject(
                        "metric_points.exit_code",
                        format!(
                            "metric_points[{}]: exit code {} is not 0 or 1 (the CLI records err != nil)",
                            shown(command),
                            shown(code)
                        ),
                    ));
                }
            };
            let count = metric
                .as_object()
                .and_then(|m| m.get("cumulative_count"))
                .and_then(Value::as_u64)
                .filter(|c| *c <= u64::from(u32::MAX));
            let Some(count) = count else {
                return Err(reject(
                    "metric_points.cumulative_count",
                    format!(
                        "metric_points[{}][{code}] must be {{cumulative_count: <uint32>}}",
                        shown(command)
                    ),
                ));
            };
            points.push((command.clone(), exit_code, count as i64));
        }
    }
    points.sort();
    let total = points.iter().map(|p| p.2).sum();
    Ok(Snapshot {
        id,
        cli_version,
        operating_system,
        points,
        total,
        written_at,
    })
}

/// A `YYYYMMDDTHHMMSSZ` stamp in `key`, as nanoseconds.
pub fn key_time(key: &str) -> Option<i64> {
    let stamp = KEY_STAMP.captures(key)?.get(1)?.as_str();
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()?
        .and_utc()
        .timestamp_nanos_opt()
}

#[derive(Debug)]
pub struct Spec {
    pub written_at: WrittenAt,
    pub window: Window,
}

pub fn snapshots_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("cli_version", DataType::Utf8, false),
        Field::new("operating_system", DataType::Utf8, false),
        Field::new("command", DataType::Utf8, true),
        Field::new("exit_code", DataType::Int64, true),
        Field::new("cumulative_count", DataType::Int64, true),
        Field::new("total_count", DataType::Int64, false),
        Field::new("written_at", timestamp_type(), false),
        Field::new("snapshot", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("object_key", DataType::Utf8, false),
    ]))
}

pub fn tables() -> Vec<TableDef> {
    vec![TableDef {
        name: "pace_snapshots",
        schema: snapshots_schema(),
        partitioned: true,
    }]
}

fn snapshot_id(s: &Snapshot) -> String {
    format!("{}@{}", s.id, s.total)
}

impl FormatSpec for Spec {
    type Record = Snapshot;

    fn tables(&self) -> Vec<TableDef> {
        tables()
    }

    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Snapshot>, Rejection> {
        let written_at = match self.written_at {
            WrittenAt::LastModified => object.last_modified.ok_or_else(|| {
                reject(
                    "written_at.last_modified",
                    "the store gave no usable last-modified time",
                )
            })?,
            WrittenAt::Key => key_time(object.key).ok_or_else(|| {
                reject(
                    "written_at.key",
                    format!(
                        "the key {} has no YYYYMMDDTHHMMSSZ time stamp (written_at = \"key\")",
                        shown(object.key)
                    ),
                )
            })?,
        };
        // The payload holds no time of its own: the write time is the one to check, against
        // the store's (itself, when it is the write time: then only the lower bound holds).
        self.window
            .check("written_at", written_at, object.last_modified)
            .map_err(|r| match self.written_at {
                WrittenAt::LastModified => r,
                WrittenAt::Key => Rejection {
                    message: format!("{} (the stamp in the key {})", r.message, shown(object.key)),
                    ..r
                },
            })?;
        decode(bytes, written_at).map(|s| vec![s])
    }

    fn id(&self, s: &Snapshot) -> String {
        snapshot_id(s)
    }

    fn date(&self, s: &Snapshot) -> String {
        day(s.written_at)
    }

    fn batch(&self, table: &str, rows: &[Located<Snapshot>]) -> Result<RecordBatch> {
        if table != "pace_snapshots" {
            bail!("the pace format has no table {table}");
        }
        let mut id = StringBuilder::new();
        let mut version = StringBuilder::new();
        let mut os = StringBuilder::new();
        let mut command = StringBuilder::new();
        let mut exit = Int64Builder::new();
        let mut count = Int64Builder::new();
        let mut total = Int64Builder::new();
        let mut written = TimestampNanosecondBuilder::new().with_timezone("UTC");
        let mut snapshot = StringBuilder::new();
        let mut source = StringBuilder::new();
        let mut key = StringBuilder::new();
        for row in rows {
            let s = row.record;
            // A snapshot with no commands yet (the first upload) still shows the install.
            let points: Vec<Option<&(String, i64, i64)>> = if s.points.is_empty() {
                vec![None]
            } else {
                s.points.iter().map(Some).collect()
            };
            for p in points {
                id.append_value(&s.id);
                version.append_value(&s.cli_version);
                os.append_value(&s.operating_system);
                command.append_option(p.map(|p| &p.0));
                exit.append_option(p.map(|p| p.1));
                count.append_option(p.map(|p| p.2));
                total.append_value(s.total);
                written.append_value(s.written_at);
                snapshot.append_value(snapshot_id(s));
                source.append_value(row.source);
                key.append_value(row.key);
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(version.finish()),
            Arc::new(os.finish()),
            Arc::new(command.finish()),
            Arc::new(exit.finish()),
            Arc::new(count.finish()),
            Arc::new(total.finish()),
            Arc::new(written.finish()),
            Arc::new(snapshot.finish()),
            Arc::new(source.finish()),
            Arc::new(key.finish()),
        ];
        Ok(RecordBatch::try_new(snapshots_schema(), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = include_str!("../../../fixtures/reference/pace/telemetry.example.yaml");
    const JSON: &str = include_str!("../../../fixtures/reference/pace/telemetry.upload.json");

    #[test]
    fn the_yaml_file_and_its_upload_decode_alike() {
        let y = decode(YAML.as_bytes(), 0).expect("yaml");
        let j = decode(JSON.as_bytes(), 0).expect("json");
        assert_eq!(y, j);
        assert_eq!(y.total, 23);
        assert_eq!(y.points[0], ("pace get data-policy".to_string(), 0, 2));
    }

    const HOUR: i64 = 3_600_000_000_000;

    fn spec(written_at: WrittenAt) -> Spec {
        Spec {
            written_at,
            window: Window::configure(None, FIRST_RELEASE).expect("window"),
        }
    }

    /// When the store wrote the objects of these tests (after their key stamps).
    fn stored() -> Option<i64> {
        crate::formats::plausible::midnight("2024-10-01")
    }

    #[test]
    fn every_rule_rejects() {
        let by_key = spec(WrittenAt::Key);
        crate::formats::rules::pace::table().check(
            include_str!("mod.rs"),
            &["written_at.last_modified"],
            |o| {
                let info = ObjectInfo {
                    key: &o.key,
                    last_modified: stored(),
                };
                by_key.decode(&info, &o.bytes)
            },
        );
        // A store that gives no time (a rule about the store, not the object).
        let by_time = spec(WrittenAt::LastModified);
        let info = ObjectInfo {
            key: "x.json",
            last_modified: None,
        };
        assert_eq!(
            by_time
                .decode(&info, JSON.as_bytes())
                .expect_err("no time")
                .rule,
            "written_at.last_modified"
        );
    }

    #[test]
    fn a_write_time_minutes_ahead_of_the_store_is_kept_a_day_ahead_or_before_pace_is_not() {
        let key = "upload/20240305T102231Z-abc.json";
        let written = key_time(key).expect("stamp");
        let decode = |spec: &Spec, key, last_modified| {
            spec.decode(&ObjectInfo { key, last_modified }, JSON.as_bytes())
        };
        let by_key = spec(WrittenAt::Key);
        // The clock that named the object a few minutes fast.
        let stamp = Some(written - 5 * 60 * 1_000_000_000);
        let s = decode(&by_key, key, stamp).expect("minutes ahead");
        assert_eq!(s[0].written_at, written);
        let r = decode(&by_key, key, Some(written - 25 * HOUR)).expect_err("a day ahead");
        assert_eq!(r.rule, "written_at.plausible");
        assert!(r.message.contains("more than 24 h after"), "{}", r.message);
        assert!(r.message.contains("20240305T102231Z"), "{}", r.message);
        let r = decode(&by_key, "20231231T235959Z.json", stored()).expect_err("before PACE");
        assert_eq!(r.rule, "written_at.plausible");
        assert!(r.message.contains("before 2024-01-01"), "{}", r.message);
        // Without a time from the store only the lower bound holds.
        assert!(decode(&by_key, "20990101T000000Z.json", None).is_ok());
        // The store's own time is the write time: a store (or a copy) that gives 1970 is no
        // write time of a snapshot.
        let by_time = spec(WrittenAt::LastModified);
        assert!(decode(&by_time, key, stored()).is_ok());
        let r = decode(&by_time, key, Some(0)).expect_err("1970");
        assert_eq!(r.rule, "written_at.plausible");
    }

    #[test]
    fn the_window_is_configured_per_source() {
        use crate::formats::Format;
        let spec = |keys: &str| {
            let table: toml::Table = toml::from_str(keys).expect("toml");
            Pace.configure(table, Path::new("."))
        };
        let key = "upload/20240305T102231Z-abc.json";
        let written = key_time(key).expect("stamp");
        let info = |last_modified| ObjectInfo { key, last_modified };
        let later = spec("written_at = \"key\"\nplausible = { not_before = \"2024-04-01\" }")
            .expect("spec");
        let r = later
            .decode(&info(stored()), JSON.as_bytes())
            .expect_err("before not_before");
        assert_eq!(r.rule, "written_at.plausible");
        let close = spec("written_at = \"key\"\nplausible = { ahead_hours = 1 }").expect("spec");
        assert!(
            close
                .decode(&info(Some(written - HOUR)), JSON.as_bytes())
                .is_ok()
        );
        let r = close
            .decode(&info(Some(written - 2 * HOUR)), JSON.as_bytes())
            .expect_err("2 h ahead");
        assert_eq!(r.rule, "written_at.plausible");
        let defaults = spec("written_at = \"key\"").expect("spec");
        assert!(defaults.decode(&info(stored()), JSON.as_bytes()).is_ok());
        let e = spec("plausible = { not_before = \"2024-1-1x\" }").expect_err("bad day");
        assert!(format!("{e:#}").contains("plausible.not_before"), "{e:#}");
    }

    #[test]
    fn key_stamps_give_the_write_time() {
        assert_eq!(
            key_time("pace/20240305T102231Z-abc.json"),
            Some(1_709_634_151_000_000_000)
        );
        assert_eq!(key_time("pace/20241305T102231Z.json"), None);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        for bytes in [
            &b"\xff\xfe"[..],
            b"",
            b"null",
            b"!!binary x",
            b"{\"metric_points\":{\"pace a\":[1]}}",
        ] {
            assert!(decode(bytes, 0).is_err());
        }
    }
}
