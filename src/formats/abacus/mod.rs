//! The Abacus session format (Batect's telemetry server): decoding and validation.
//!
//! Rules are those of `server/types/session.go` and its validator tags (FORMATS.md §1.2):
//! unknown fields anywhere are rejected, ids are lowercase v4 UUIDs, times are RFC 3339,
//! end ≥ start, the application id is on an allow-list, the version matches Abacus'
//! regex, attribute keys are camelCase and values are scalars. Each broken rule gives a
//! [`Rejection`] whose `rule` names it (`sessionId.uuid4`, `spans[2].endTime.gtefield`, …).

pub mod generate;
pub mod tables;

use std::path::Path;
use std::sync::{Arc, LazyLock};

use chrono::DateTime;
use regex::Regex;
use serde_json::{Map, Value};

use datafusion::arrow::array::RecordBatch;

use serde::Deserialize;

use super::plausible::Window;
use super::{FormatSpec, Located, ObjectInfo, Rejection, TableDef, reject, shown};
use tables::{AbacusSchemas, AttributeSchema};

/// Batect's allow-list (`server/types/session.go`): what Batect's own project configures. A
/// source without `application_ids` accepts every application id.
pub const APPLICATION_IDS: [&str; 3] = ["batect", "test-app", "smoke-test-app"];

/// The Abacus format in the registry.
pub struct Abacus;

/// An Abacus source's own keys in `report.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    /// Application ids to keep; anything else is quarantined. Every id when left out.
    #[serde(default)]
    application_ids: Option<Vec<String>>,
    /// BigQuery-style attribute schema files (`[{"name":…,"type":…}]`); Batect's by default.
    #[serde(default)]
    session_attributes: Option<String>,
    #[serde(default)]
    event_attributes: Option<String>,
    #[serde(default)]
    span_attributes: Option<String>,
    /// The window of plausible times (`not_before`, `ahead_hours`).
    #[serde(default)]
    plausible: Option<super::plausible::Keys>,
}

/// The day Batect's telemetry started (0.58.0, upload added 2020-08-10; Abacus stored sessions
/// in Cloud Storage from 2020-08-06): no genuine session is older.
pub const FIRST_RELEASE: &str = "2020-08-01";

impl super::Format for Abacus {
    fn name(&self) -> &'static str {
        "abacus"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[
            "application_ids",
            "session_attributes",
            "event_attributes",
            "span_attributes",
            "plausible",
        ]
    }

    fn configure(&self, keys: toml::Table, root: &Path) -> anyhow::Result<Arc<dyn super::Spec>> {
        let keys: Keys = super::keys(self.name(), keys)?;
        let batect = AbacusSchemas::batect();
        let pick = |p: &Option<String>, default: AttributeSchema| match p {
            Some(p) => AttributeSchema::load(&root.join(p)),
            None => Ok(default),
        };
        Ok(Arc::new(Spec {
            application_ids: keys.application_ids,
            schemas: AbacusSchemas {
                session: pick(&keys.session_attributes, batect.session)?,
                event: pick(&keys.event_attributes, batect.event)?,
                span: pick(&keys.span_attributes, batect.span)?,
            },
            window: Window::configure(keys.plausible, FIRST_RELEASE)?,
        }))
    }

    fn setting_for(&self, rule: &str) -> Option<&'static str> {
        match rule {
            "applicationId.oneof" => Some("application_ids"),
            _ => None,
        }
    }

    fn id_column(&self) -> (&'static str, &'static str) {
        ("sessions", "session_id")
    }

    fn generate(&self, opts: &super::generate::Options) -> Vec<super::generate::Object> {
        generate::generate(opts)
    }

    fn generate_each(
        &self,
        opts: &super::generate::Options,
        each: &mut dyn FnMut(super::generate::Object) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        generate::generate_each(opts, each)
    }
}

/// A scalar attribute value as sent. Numbers keep their JSON text (Go's `json.Number`).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

/// Attributes sorted by key (the JSON object's order does not matter).
pub type Attributes = Vec<(String, AttrValue)>;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: String,
    /// Nanoseconds since the Unix epoch, UTC.
    pub time: i64,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub kind: String,
    pub start: i64,
    pub end: i64,
    pub attributes: Attributes,
}

/// One valid session, times in UTC nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub session_id: String,
    pub user_id: String,
    pub application_id: String,
    pub application_version: String,
    pub start: i64,
    pub end: i64,
    /// Absent in objects as the client uploads them; set by the server when it stores one.
    pub ingestion: Option<i64>,
    pub attributes: Attributes,
    pub events: Vec<Event>,
    pub spans: Vec<Span>,
}

static UUID4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        .expect("valid regex")
});
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d+)(\.(\d+)(\.(\d+)(-([a-zA-Z0-9-.]+))?(\+([a-zA-Z0-9-.]+))?)?)?$")
        .expect("valid regex")
});
/// RFC 3339 as Go's `time.Time` reads it: a `T`, seconds, an optional fraction, `Z` or an
/// offset. chrono alone also takes a space for the `T` and a leap second (`23:59:60Z`).
static RFC3339: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
        .expect("valid regex")
});
static ATTRIBUTE_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z][a-zA-Z0-9]*$").expect("valid regex"));

const SESSION_FIELDS: [&str; 10] = [
    "sessionId",
    "userId",
    "sessionStartTime",
    "sessionEndTime",
    "ingestionTime",
    "applicationId",
    "applicationVersion",
    "attributes",
    "events",
    "spans",
];
const EVENT_FIELDS: [&str; 3] = ["type", "time", "attributes"];
const SPAN_FIELDS: [&str; 4] = ["type", "startTime", "endTime", "attributes"];

/// Decodes one JSON document (already gunzipped) and applies every Abacus rule.
/// `application_ids` is the allow-list; `None` accepts every id.
pub fn decode(bytes: &[u8], application_ids: Option<&[String]>) -> Result<Session, Rejection> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| reject("json", format!("not valid JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(reject("json", "the document is not a JSON object"));
    };
    no_unknown_fields(&obj, &SESSION_FIELDS, "")?;

    let session_id = uuid4(&obj, "sessionId")?;
    let user_id = uuid4(&obj, "userId")?;
    let start = required_time(&obj, "sessionStartTime", "sessionStartTime")?;
    let end = required_time(&obj, "sessionEndTime", "sessionEndTime")?;
    if end < start {
        return Err(reject(
            "sessionEndTime.gtefield",
            "sessionEndTime must be greater than or equal to sessionStartTime",
        ));
    }
    let ingestion = match obj.get("ingestionTime") {
        None | Some(Value::Null) => None,
        Some(_) => Some(required_time(&obj, "ingestionTime", "ingestionTime")?),
    };
    let application_id = required_string(&obj, "applicationId", "applicationId")?;
    if let Some(application_ids) = application_ids
        && !application_ids.iter().any(|a| a == &application_id)
    {
        return Err(reject(
            "applicationId.oneof",
            format!(
                "applicationId must be one of [{}] (got {})",
                application_ids.join(" "),
                shown(&application_id)
            ),
        ));
    }
    let application_version = required_string(&obj, "applicationVersion", "applicationVersion")?;
    if !VERSION.is_match(&application_version) {
        return Err(reject(
            "applicationVersion.version",
            format!(
                "applicationVersion must be a version like 1.2.3-pre+build (got {})",
                shown(&application_version)
            ),
        ));
    }
    let session_attributes = attributes(obj.get("attributes"), "attributes")?;

    let mut events = Vec::new();
    for (i, item) in array(obj.get("events"), "events")?.iter().enumerate() {
        let path = format!("events[{i}]");
        let Value::Object(e) = item else {
            return Err(reject(
                format!("{path}.type"),
                format!("{path} must be an object"),
            ));
        };
        no_unknown_fields(e, &EVENT_FIELDS, &path)?;
        events.push(Event {
            kind: required_string(e, "type", &format!("{path}.type"))?,
            time: required_time(e, "time", &format!("{path}.time"))?,
            attributes: attributes(e.get("attributes"), &format!("{path}.attributes"))?,
        });
    }
    let mut spans = Vec::new();
    for (i, item) in array(obj.get("spans"), "spans")?.iter().enumerate() {
        let path = format!("spans[{i}]");
        let Value::Object(s) = item else {
            return Err(reject(
                format!("{path}.type"),
                format!("{path} must be an object"),
            ));
        };
        no_unknown_fields(s, &SPAN_FIELDS, &path)?;
        let kind = required_string(s, "type", &format!("{path}.type"))?;
        let start = required_time(s, "startTime", &format!("{path}.startTime"))?;
        let end = required_time(s, "endTime", &format!("{path}.endTime"))?;
        if end < start {
            return Err(reject(
                format!("{path}.endTime.gtefield"),
                format!("{path}.endTime must be greater than or equal to {path}.startTime"),
            ));
        }
        spans.push(Span {
            kind,
            start,
            end,
            attributes: attributes(s.get("attributes"), &format!("{path}.attributes"))?,
        });
    }

    Ok(Session {
        session_id,
        user_id,
        application_id,
        application_version,
        start,
        end,
        ingestion,
        attributes: session_attributes,
        events,
        spans,
    })
}

/// Checks every time of `s` against `window` (FORMATS.md §1.6: sessions reach the server
/// seconds to weeks after they end, so only the ends are bounded). The server's stamp is the
/// earlier of `ingestionTime` and the store's `last_modified`, which is itself checked.
pub fn plausible(
    s: &Session,
    window: &Window,
    last_modified: Option<i64>,
) -> Result<(), Rejection> {
    if let Some(ingestion) = s.ingestion {
        window.check("ingestionTime", ingestion, last_modified)?;
    }
    let stamp = match (s.ingestion, last_modified) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    window.check("sessionStartTime", s.start, stamp)?;
    window.check("sessionEndTime", s.end, stamp)?;
    for (i, e) in s.events.iter().enumerate() {
        window.check(&format!("events[{i}].time"), e.time, stamp)?;
    }
    for (i, span) in s.spans.iter().enumerate() {
        window.check(&format!("spans[{i}].startTime"), span.start, stamp)?;
        window.check(&format!("spans[{i}].endTime"), span.end, stamp)?;
    }
    Ok(())
}

fn no_unknown_fields(
    obj: &Map<String, Value>,
    known: &[&str],
    path: &str,
) -> Result<(), Rejection> {
    // Sorted so the reason is the same whatever the key order in the object.
    let mut unknown: Vec<&String> = obj
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(k) => {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" in {path}")
            };
            Err(reject(
                "unknown_field",
                format!("unknown field {}{at}", shown(k)),
            ))
        }
    }
}

fn required_string(obj: &Map<String, Value>, key: &str, path: &str) -> Result<String, Rejection> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => Err(reject(
            format!("{path}.required"),
            format!("{path} is required"),
        )),
        Some(_) => Err(reject(
            format!("{path}.type"),
            format!("{path} must be a string"),
        )),
    }
}

fn uuid4(obj: &Map<String, Value>, key: &str) -> Result<String, Rejection> {
    let s = required_string(obj, key, key)?;
    if UUID4.is_match(&s) {
        Ok(s)
    } else {
        Err(reject(
            format!("{key}.uuid4"),
            format!("{key} must be a valid version 4 UUID (got {})", shown(&s)),
        ))
    }
}

/// An RFC 3339 time with any offset, as nanoseconds since the epoch in UTC, read as strictly as
/// Abacus's Go server reads it.
fn required_time(obj: &Map<String, Value>, key: &str, path: &str) -> Result<i64, Rejection> {
    let s = required_string(obj, key, path)?;
    let strict = if RFC3339.is_match(&s) {
        Ok(())
    } else {
        Err("not the form 2006-01-02T15:04:05Z07:00".to_string())
    };
    let t = strict
        .and_then(|()| DateTime::parse_from_rfc3339(&s).map_err(|e| e.to_string()))
        .map_err(|e| {
            reject(
                format!("{path}.format"),
                format!("{path} must be an RFC 3339 time (got {}: {e})", shown(&s)),
            )
        })?;
    // Go's zero time counts as missing; times outside what nanoseconds hold are refused.
    t.timestamp_nanos_opt().ok_or_else(|| {
        reject(
            format!("{path}.required"),
            format!("{path} is out of range (got {})", shown(&s)),
        )
    })
}

fn array<'a>(value: Option<&'a Value>, path: &str) -> Result<&'a [Value], Rejection> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(reject(
            format!("{path}.type"),
            format!("{path} must be an array"),
        )),
    }
}

fn attributes(value: Option<&Value>, path: &str) -> Result<Attributes, Rejection> {
    let obj = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(obj)) => obj,
        Some(_) => {
            return Err(reject(
                format!("{path}.type"),
                format!("{path} must be an object"),
            ));
        }
    };
    let mut out = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        if !ATTRIBUTE_KEY.is_match(k) {
            return Err(reject(
                format!("{path}.key"),
                format!("{path} key {} must match ^[a-zA-Z][a-zA-Z0-9]*$", shown(k)),
            ));
        }
        let value = match v {
            Value::Null => AttrValue::Null,
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Number(n) => AttrValue::Number(n.clone()),
            Value::String(s) => AttrValue::String(s.clone()),
            Value::Array(_) | Value::Object(_) => {
                return Err(reject(
                    format!("{path}.value"),
                    format!("{path}.{k} must be a string, number, boolean or null"),
                ));
            }
        };
        out.push((k.clone(), value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The Abacus format as the pull sees it: one session per object, deduplicated by session id,
/// partitioned by the UTC day of its start, filling `sessions`, `events` and `spans`.
#[derive(Debug)]
pub struct Spec {
    /// The allow-list; `None` (no `application_ids` in report.toml) accepts every id.
    pub application_ids: Option<Vec<String>>,
    pub schemas: AbacusSchemas,
    pub window: Window,
}

impl FormatSpec for Spec {
    type Record = Session;

    fn tables(&self) -> Vec<TableDef> {
        tables::abacus_tables(&self.schemas)
    }

    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Session>, Rejection> {
        let session = decode(bytes, self.application_ids.as_deref())?;
        plausible(&session, &self.window, object.last_modified)?;
        Ok(vec![session])
    }

    fn id(&self, s: &Session) -> String {
        s.session_id.clone()
    }

    fn date(&self, s: &Session) -> String {
        super::day(s.start)
    }

    fn batch(&self, table: &str, rows: &[Located<Session>]) -> anyhow::Result<RecordBatch> {
        let rows: Vec<tables::Located> = rows
            .iter()
            .map(|r| tables::Located {
                source: r.source,
                key: r.key,
                session: r.record,
            })
            .collect();
        match table {
            "sessions" => tables::sessions_batch(&self.schemas, &rows),
            "events" => tables::events_batch(&self.schemas, &rows),
            "spans" => tables::spans_batch(&self.schemas, &rows),
            other => anyhow::bail!("the abacus format has no table {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str =
        include_str!("../../../fixtures/reference/session_macos_task_failed.stored.min.json");

    fn ids() -> Vec<String> {
        APPLICATION_IDS.iter().map(|s| s.to_string()).collect()
    }

    fn with(edit: impl FnOnce(&mut Map<String, Value>)) -> Result<Session, Rejection> {
        let mut v: Value = serde_json::from_str(EXAMPLE).expect("example parses");
        edit(v.as_object_mut().expect("object"));
        decode(v.to_string().as_bytes(), Some(&ids()))
    }

    #[test]
    fn the_reference_example_decodes() {
        let s = decode(EXAMPLE.as_bytes(), Some(&ids())).expect("valid");
        assert_eq!(s.session_id, "b2d6e0f4-59c1-4f7a-8e3b-0a9c4d2f6e18");
        assert_eq!(s.application_version, "0.83.9");
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.spans.len(), 3);
        assert_eq!(s.spans[1].kind, "LoadConfiguration");
        // 2023-06-30T01:02:12.05561Z
        assert_eq!(s.start, 1_688_086_932_055_610_000);
        assert!(s.attributes.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            s.attributes
                .iter()
                .find(|(k, _)| k == "shell")
                .map(|(_, v)| v.clone()),
            Some(AttrValue::String("zsh".into()))
        );
    }

    #[test]
    fn numbers_keep_their_text_even_where_no_float_holds_them() {
        // Abacus keeps numbers as `json.Number`: `1e400` and `1.50` are valid JSON, and one
        // client sending them is no reason to lose its session.
        let text = EXAMPLE.replacen(
            "\"attributes\":{",
            "\"attributes\":{\"huge\":1e400,\"price\":1.50,\"small\":-1e-400,",
            1,
        );
        assert_ne!(text, EXAMPLE, "the example has attributes");
        let s = decode(text.as_bytes(), Some(&ids())).expect("valid");
        let get = |k: &str| {
            s.attributes
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| match v {
                    AttrValue::Number(n) => n.to_string(),
                    other => panic!("{k} is {other:?}"),
                })
        };
        // serde_json writes an exponent with its sign.
        assert_eq!(get("huge").as_deref(), Some("1e+400"));
        assert_eq!(get("price").as_deref(), Some("1.50"));
        assert_eq!(get("small").as_deref(), Some("-1e-400"));
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let s = with(|o| {
            o.insert(
                "sessionStartTime".into(),
                "2023-06-30T03:02:12.05561+02:00".into(),
            );
        })
        .expect("valid");
        assert_eq!(s.start, 1_688_086_932_055_610_000);
    }

    #[test]
    fn every_rule_rejects() {
        let window = Window::configure(None, FIRST_RELEASE).expect("window");
        crate::formats::rules::abacus::table().check(include_str!("mod.rs"), &[], |o| {
            let s = decode(&o.bytes, Some(&ids()))?;
            plausible(&s, &window, None)
        });
    }

    #[test]
    fn a_store_stamp_bounds_sessions_without_ingestion_time() {
        let window = Window::configure(None, FIRST_RELEASE).expect("window");
        let s = with(|o| {
            o.remove("ingestionTime");
        })
        .expect("valid");
        // 2023-06-30T01:02:12Z starts the session; the object was written a day later.
        let written = 1_688_086_932_000_000_000 + 86_400_000_000_000;
        assert_eq!(plausible(&s, &window, Some(written)), Ok(()));
        let early = 1_688_086_932_000_000_000 - 25 * 3_600_000_000_000;
        let r = plausible(&s, &window, Some(early)).expect_err("ahead of the store");
        assert_eq!(r.rule, "sessionStartTime.plausible");
    }

    #[test]
    fn valid_versions_pass() {
        for good in ["1", "1.0", "1.0.0-abc-def.12+ghi-jkl.34", "01.02.03"] {
            with(|o| {
                o.insert("applicationVersion".into(), good.into());
            })
            .unwrap_or_else(|e| panic!("{good}: {e:?}"));
        }
    }

    #[test]
    fn hostile_bytes_never_panic() {
        for doc in [
            &b""[..],
            b"[]",
            b"null",
            b"{\"sessionId\":",
            b"\xff\xfe\x00",
            b"{\"events\":[null]}",
            b"{\"attributes\":{\"\":1}}",
        ] {
            assert!(decode(doc, Some(&ids())).is_err());
        }
    }

    #[test]
    fn long_hostile_values_are_cut_in_reasons() {
        let long = "<script>".repeat(100);
        let err = with(|o| {
            o.insert("applicationId".into(), long.clone().into());
        })
        .expect_err("rejected");
        assert!(err.message.len() < 300, "{}", err.message);
    }
}
