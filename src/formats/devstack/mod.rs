//! The Open edX devstack format: Segment track events sent by `scripts/send_metrics.py`
//! (FORMATS.md §4), one per object or many per object (NDJSON, as Segment exports them).
//!
//! Every event is `{"event": "devstack.command.run", "userId": <uuid4>, "properties": {…},
//! "sentAt": …}`. Wrapped make targets carry `duration_ms` and `exit_status`; events from before
//! 2021-06-21 carry `duration` instead, which was milliseconds modulo seconds — not a duration —
//! so it is kept as `legacy_duration` and `duration_ms` is null. `exit_status` is the child's
//! return code, negative for a signal (`-2` on Ctrl-C); a status above 128 is the shell's
//! 128 + signal. Both give `signal`. Opt-in/opt-out events (`metrics-opt-in`, `metrics-opt-out`)
//! have no duration or exit status.
//!
//! An event is identified by user, command and start time. Its times (`start_time`, `sentAt`
//! and `git_commit_time`) must be plausible (see [`plausible`]).

pub mod generate;

use std::path::Path;
use std::sync::{Arc, LazyLock};

use anyhow::{Result, bail};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use regex::Regex;
use serde_json::{Map, Value};

use super::plausible::Window;
use super::{
    FormatSpec, Located, ObjectInfo, Rejection, TableDef, at_line, day, json_object, lines, reject,
    shown, timestamp_type,
};

/// The devstack format in the registry.
pub struct Devstack;

/// A devstack source's own keys in `report.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    /// The window of plausible times (`not_before`, `ahead_hours`).
    #[serde(default)]
    plausible: Option<super::plausible::Keys>,
}

/// The day devstack's metrics began: `scripts/send-metrics.py` was added to edx/devstack on
/// 2021-05-03 (#732) and sent its first events to Segment from 2021-05-07 (#735). No genuine
/// event is older, and neither is the commit it was run from (its `git_commit_time`), which
/// holds the script.
pub const FIRST_RELEASE: &str = "2021-05-01";

impl super::Format for Devstack {
    fn name(&self) -> &'static str {
        "devstack"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["plausible"]
    }

    fn configure(&self, keys: toml::Table, _: &Path) -> Result<Arc<dyn super::Spec>> {
        let keys: Keys = super::keys(self.name(), keys)?;
        Ok(Arc::new(Spec {
            window: Window::configure(keys.plausible, FIRST_RELEASE)?,
        }))
    }

    fn id_column(&self) -> (&'static str, &'static str) {
        ("devstack_runs", "event_id")
    }

    fn generate(&self, opts: &super::generate::Options) -> Vec<super::generate::Object> {
        generate::generate(opts)
    }
}

static UUID4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        .expect("valid regex")
});

/// The event name send_metrics.py sends.
pub const EVENT: &str = "devstack.command.run";
/// The client truncates `command` to this many characters.
const MAX_COMMAND: usize = 50;

/// One valid event.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub user: String,
    pub command: String,
    pub command_type: Option<String>,
    /// Nanoseconds since the epoch, UTC.
    pub start_time: i64,
    pub duration_ms: Option<i64>,
    /// The pre-2021-06-21 `duration` (ms modulo s), kept as sent.
    pub legacy_duration: Option<i64>,
    pub exit_status: Option<i64>,
    pub signal: Option<i64>,
    pub git_commit_time: Option<i64>,
    pub git_checked_out_master: Option<bool>,
    pub is_test: Option<String>,
    pub sent_at: Option<i64>,
    start_text: String,
}

fn time(value: &str, path: &str) -> Result<i64, Rejection> {
    chrono::DateTime::parse_from_rfc3339(value)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .ok_or_else(|| {
            reject(
                format!("{path}.format"),
                format!(
                    "{path} must be an ISO 8601 time with an offset (got {})",
                    shown(value)
                ),
            )
        })
}

fn optional_time(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<i64>, Rejection> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => time(s, path).map(Some),
        Some(_) => Err(reject(
            format!("{path}.format"),
            format!("{path} must be a string"),
        )),
    }
}

fn optional_int(obj: &Map<String, Value>, key: &str, min: i64) -> Result<Option<i64>, Rejection> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= min => Ok(Some(n)),
            _ => Err(reject(
                format!("properties.{key}.type"),
                format!(
                    "properties.{key} must be an integer{} (got {})",
                    if min == 0 { " ≥ 0" } else { "" },
                    shown(&v.to_string())
                ),
            )),
        },
    }
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, Rejection> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(reject(
            format!("properties.{key}.type"),
            format!("properties.{key} must be a string"),
        )),
    }
}

/// The signal behind an exit status: `-N` from Python's subprocess, or the shell's `128 + N`.
pub fn signal_of(exit_status: i64) -> Option<i64> {
    match exit_status {
        s if s < 0 => Some(-s),
        s if (129..=128 + 64).contains(&s) => Some(s - 128),
        _ => None,
    }
}

/// Decodes one event and applies the client's rules.
pub fn decode_event(bytes: &[u8]) -> Result<Run, Rejection> {
    let obj = json_object(bytes)?;
    match obj.get("event") {
        Some(Value::String(e)) if e == EVENT => {}
        None | Some(Value::Null) => return Err(reject("event.required", "event is required")),
        Some(other) => {
            return Err(reject(
                "event.value",
                format!(
                    "event must be {EVENT:?} (got {})",
                    shown(&other.to_string())
                ),
            ));
        }
    }
    let user = match obj.get("userId") {
        Some(Value::String(u)) if UUID4.is_match(u) => u.clone(),
        Some(Value::String(u)) if !u.is_empty() => {
            return Err(reject(
                "userId.uuid4",
                format!(
                    "userId must be a lowercase version 4 UUID (got {})",
                    shown(u)
                ),
            ));
        }
        _ => return Err(reject("userId.required", "userId is required")),
    };
    let Some(Value::Object(props)) = obj.get("properties") else {
        return Err(reject(
            "properties.required",
            "properties must be an object",
        ));
    };
    let command = match props.get("command") {
        Some(Value::String(c)) if !c.is_empty() => c.clone(),
        _ => {
            return Err(reject(
                "properties.command.required",
                "properties.command is required",
            ));
        }
    };
    if command.chars().count() > MAX_COMMAND {
        return Err(reject(
            "properties.command.length",
            format!(
                "properties.command is longer than the {MAX_COMMAND} characters the client sends (got {})",
                shown(&command)
            ),
        ));
    }
    let start_text = match props.get("start_time") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(reject(
                "properties.start_time.required",
                "properties.start_time is required",
            ));
        }
    };
    let start_time = time(&start_text, "properties.start_time")?;
    let duration_ms = optional_int(props, "duration_ms", 0)?;
    let legacy_duration = optional_int(props, "duration", 0)?;
    let exit_status = optional_int(props, "exit_status", i64::MIN)?;
    let opt_event = command == "metrics-opt-in" || command == "metrics-opt-out";
    if !opt_event && exit_status.is_none() {
        return Err(reject(
            "properties.exit_status.required",
            format!(
                "properties.exit_status is required for a wrapped command ({})",
                shown(&command)
            ),
        ));
    }
    let git_checked_out_master = match props.get("git_checked_out_master") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(reject(
                "properties.git_checked_out_master.type",
                "properties.git_checked_out_master must be a boolean",
            ));
        }
    };
    Ok(Run {
        user,
        command_type: optional_string(props, "command_type")?,
        start_time,
        duration_ms,
        legacy_duration: if duration_ms.is_none() {
            legacy_duration
        } else {
            None
        },
        exit_status,
        signal: exit_status.and_then(signal_of),
        git_commit_time: optional_time(props, "git_commit_time", "properties.git_commit_time")?,
        git_checked_out_master,
        is_test: optional_string(props, "is_test")?,
        sent_at: optional_time(&obj, "sentAt", "sentAt")?,
        command,
        start_text,
    })
}

/// Checks the event's times against `window`; `stamp` is when the store wrote the object (its
/// `last_modified`: the events as sent carry no time of Segment's). All three are the client's
/// clock: `start_time` and `sentAt` its `datetime.now`, `git_commit_time` the commit's.
pub fn plausible(r: &Run, window: &Window, stamp: Option<i64>) -> Result<(), Rejection> {
    window.check("properties.start_time", r.start_time, stamp)?;
    if let Some(t) = r.git_commit_time {
        window.check("properties.git_commit_time", t, stamp)?;
    }
    if let Some(t) = r.sent_at {
        window.check("sentAt", t, stamp)?;
    }
    Ok(())
}

/// Decodes an object: one event, or one per line, and checks each event's times against
/// `window` (`stamp`: the object's `last_modified`). A broken or implausible line quarantines
/// the whole object (the reason names the line).
pub fn decode(bytes: &[u8], window: &Window, stamp: Option<i64>) -> Result<Vec<Run>, Rejection> {
    let one = |bytes: &[u8]| {
        let r = decode_event(bytes)?;
        plausible(&r, window, stamp)?;
        Ok(r)
    };
    if let Ok(Value::Object(_)) = serde_json::from_slice::<Value>(bytes) {
        return one(bytes).map(|r| vec![r]);
    }
    let mut out = Vec::new();
    for (n, line) in lines(bytes) {
        out.push(one(line).map_err(|r| at_line(n, r))?);
    }
    if out.is_empty() {
        return Err(reject("empty", "the object holds no event"));
    }
    Ok(out)
}

#[derive(Debug)]
pub struct Spec {
    pub window: Window,
}

pub fn runs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("command", DataType::Utf8, false),
        Field::new("command_type", DataType::Utf8, true),
        Field::new("start_time", timestamp_type(), false),
        Field::new("duration_ms", DataType::Int64, true),
        Field::new("legacy_duration", DataType::Int64, true),
        Field::new("exit_status", DataType::Int64, true),
        Field::new("signal", DataType::Int64, true),
        Field::new("git_commit_time", timestamp_type(), true),
        Field::new("git_checked_out_master", DataType::Boolean, true),
        Field::new("is_test", DataType::Utf8, true),
        Field::new("sent_at", timestamp_type(), true),
        Field::new("event_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("object_key", DataType::Utf8, false),
    ]))
}

pub fn tables() -> Vec<TableDef> {
    vec![TableDef {
        name: "devstack_runs",
        schema: runs_schema(),
        partitioned: true,
    }]
}

fn event_id(r: &Run) -> String {
    format!("{}|{}|{}", r.user, r.command, r.start_text)
}

impl FormatSpec for Spec {
    type Record = Run;

    fn tables(&self) -> Vec<TableDef> {
        tables()
    }

    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Run>, Rejection> {
        decode(bytes, &self.window, object.last_modified)
    }

    fn id(&self, r: &Run) -> String {
        event_id(r)
    }

    fn date(&self, r: &Run) -> String {
        day(r.start_time)
    }

    fn batch(&self, table: &str, rows: &[Located<Run>]) -> Result<RecordBatch> {
        if table != "devstack_runs" {
            bail!("the devstack format has no table {table}");
        }
        let ts = || TimestampNanosecondBuilder::new().with_timezone("UTC");
        let (mut user, mut command, mut command_type) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let (mut start, mut commit_time, mut sent) = (ts(), ts(), ts());
        let (mut duration, mut legacy, mut exit, mut signal) = (
            Int64Builder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
        );
        let mut master = BooleanBuilder::new();
        let (mut is_test, mut id, mut source, mut key) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        for row in rows {
            let r = row.record;
            user.append_value(&r.user);
            command.append_value(&r.command);
            command_type.append_option(r.command_type.as_deref());
            start.append_value(r.start_time);
            duration.append_option(r.duration_ms);
            legacy.append_option(r.legacy_duration);
            exit.append_option(r.exit_status);
            signal.append_option(r.signal);
            commit_time.append_option(r.git_commit_time);
            master.append_option(r.git_checked_out_master);
            is_test.append_option(r.is_test.as_deref());
            sent.append_option(r.sent_at);
            id.append_value(event_id(r));
            source.append_value(row.source);
            key.append_value(row.key);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(user.finish()),
            Arc::new(command.finish()),
            Arc::new(command_type.finish()),
            Arc::new(start.finish()),
            Arc::new(duration.finish()),
            Arc::new(legacy.finish()),
            Arc::new(exit.finish()),
            Arc::new(signal.finish()),
            Arc::new(commit_time.finish()),
            Arc::new(master.finish()),
            Arc::new(is_test.finish()),
            Arc::new(sent.finish()),
            Arc::new(id.finish()),
            Arc::new(source.finish()),
            Arc::new(key.finish()),
        ];
        Ok(RecordBatch::try_new(runs_schema(), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const EVENTS: &str =
        include_str!("../../../fixtures/reference/devstack/segment_track_events.ndjson");
    const HOUR: i64 = 3_600_000_000_000;

    fn window() -> Window {
        Window::configure(None, FIRST_RELEASE).expect("window")
    }

    /// When the store wrote the objects of these tests (after their events).
    fn stored() -> Option<i64> {
        crate::formats::plausible::midnight("2021-10-01")
    }

    fn decode(bytes: &[u8]) -> Result<Vec<Run>, Rejection> {
        super::decode(bytes, &window(), stored())
    }

    /// The first reference event, changed by `edit`.
    fn with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let first = EVENTS.lines().next().expect("an event");
        let mut v: Value = serde_json::from_str(first).expect("reference");
        edit(&mut v);
        v.to_string().into_bytes()
    }

    #[test]
    fn the_reference_events_decode() {
        let runs = decode(EVENTS.as_bytes()).expect("events");
        assert_eq!(runs.len(), 4);
        assert_eq!(runs[0].duration_ms, Some(48211));
        assert_eq!(runs[1].signal, Some(2));
        assert_eq!(runs[2].exit_status, None);
        assert_eq!(runs[3].command, "metrics-opt-out");
    }

    #[test]
    fn old_durations_and_signals_are_read_as_documented() {
        let old = br#"{"event":"devstack.command.run","userId":"5b0e6c2a-3f1d-4a8e-9c7b-2d4f6a8e0b13","properties":{"command":"dev.pull","start_time":"2021-06-01T10:00:00+00:00","duration":512,"exit_status":-2}}"#;
        let r = decode(old).expect("old event");
        assert_eq!((r[0].duration_ms, r[0].legacy_duration), (None, Some(512)));
        assert_eq!((r[0].exit_status, r[0].signal), (Some(-2), Some(2)));
        assert_eq!(signal_of(2), None);
        assert_eq!(signal_of(143), Some(15));
    }

    #[test]
    fn every_rule_rejects() {
        crate::formats::rules::devstack::table()
            .check(include_str!("mod.rs"), &[], |o| decode(&o.bytes));
    }

    #[test]
    fn a_time_minutes_ahead_of_the_store_is_kept_a_day_ahead_or_before_devstack_is_not() {
        let window = window();
        let first = EVENTS.lines().next().expect("an event").as_bytes();
        let start = decode(first).expect("event")[0].start_time;
        let sent = decode(first).expect("event")[0].sent_at.expect("sentAt");
        // The clock a few minutes fast: the store wrote the event before it was sent.
        let stamp = Some(sent - 5 * 60 * 1_000_000_000);
        assert!(super::decode(first, &window, stamp).is_ok());
        let r = super::decode(first, &window, Some(start - 25 * HOUR)).expect_err("a day ahead");
        assert_eq!(r.rule, "properties.start_time.plausible");
        assert!(r.message.contains("more than 24 h after"), "{}", r.message);
        let early = with(|v| v["properties"]["start_time"] = json!("2021-04-30T23:59:59+00:00"));
        let r = decode(&early).expect_err("before devstack's metrics");
        assert_eq!(r.rule, "properties.start_time.plausible");
        assert!(r.message.contains("before 2021-05-01"), "{}", r.message);
        let commit = with(|v| v["properties"]["git_commit_time"] = json!("2016-01-01T00:00:00Z"));
        assert_eq!(
            decode(&commit).expect_err("commit").rule,
            "properties.git_commit_time.plausible"
        );
        let sent_late = with(|v| v["sentAt"] = json!("2031-01-01T00:00:00+00:00"));
        assert_eq!(
            decode(&sent_late).expect_err("sentAt").rule,
            "sentAt.plausible"
        );
        // Without a time from the store only the lower bound holds.
        assert!(super::decode(&sent_late, &window, None).is_ok());
        // One implausible event quarantines its batch, the reason naming the line.
        let batch = format!("{EVENTS}{}\n", String::from_utf8(sent_late).expect("utf-8"));
        let r = decode(batch.as_bytes()).expect_err("batch");
        assert_eq!(r.rule, "sentAt.plausible");
        assert!(r.message.starts_with("line 5: sentAt "), "{}", r.message);
    }

    #[test]
    fn the_window_is_configured_per_source() {
        use crate::formats::Format;
        let spec = |keys: &str| {
            let table: toml::Table = toml::from_str(keys).expect("toml");
            Devstack.configure(table, Path::new("."))
        };
        let first = EVENTS.lines().next().expect("an event").as_bytes();
        let sent = decode(first).expect("event")[0].sent_at.expect("sentAt");
        let info = |last_modified| ObjectInfo {
            key: "events/2021-06-22.json",
            last_modified,
        };
        let later = spec("plausible = { not_before = \"2021-06-23\" }").expect("spec");
        let r = later
            .decode(&info(stored()), first)
            .expect_err("before not_before");
        assert_eq!(r.rule, "properties.start_time.plausible");
        let close = spec("plausible = { ahead_hours = 1 }").expect("spec");
        assert!(close.decode(&info(Some(sent - HOUR)), first).is_ok());
        let r = close
            .decode(&info(Some(sent - 2 * HOUR)), first)
            .expect_err("2 h ahead");
        assert_eq!(r.rule, "properties.start_time.plausible");
        assert!(
            spec("")
                .expect("spec")
                .decode(&info(stored()), first)
                .is_ok()
        );
        let e = spec("plausible = { not_before = \"June 2021\" }").expect_err("bad day");
        assert!(format!("{e:#}").contains("plausible.not_before"), "{e:#}");
        let e = spec("plausible = 3").expect_err("not a table");
        assert!(format!("{e:#}").contains("devstack"), "{e:#}");
    }

    #[test]
    fn hostile_bytes_never_panic() {
        for bytes in [
            &b"\xff\xfe"[..],
            b"{",
            b"null\nnull",
            b"{\"event\":\"devstack.command.run\",\"userId\":\"\"}",
        ] {
            assert!(decode(bytes).is_err());
        }
    }
}
