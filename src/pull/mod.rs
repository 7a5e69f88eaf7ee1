//! Pull: list a source's objects, fetch the ones not yet ingested, decode and validate them,
//! and commit them to the warehouse in batches.
//!
//! A bad object never stops a pull: it is quarantined (a row in the `objects` table with the
//! rule it broke, and a raw copy under `quarantine/`). An object that cannot be fetched is
//! reported and left out of the commit, so the next pull tries it again. Sessions are
//! deduplicated by session id, first object (in key order) wins, across pulls too.

pub mod abacus;
pub mod store;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use anyhow::{Context, Result};
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::config::{Format, Settings, Source};
use crate::warehouse::tables::{self, AbacusSchemas, AttributeSchema, Located};
use crate::warehouse::{Commit, DataFile, Warehouse};

/// Why an object was quarantined: the rule (stable, for grouping) and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub rule: String,
    pub message: String,
}

/// Decompressed objects larger than this are refused (a gzip bomb is not a session).
const MAX_OBJECT_BYTES: u64 = 64 << 20;

/// Gunzips when the bytes start with the gzip magic number; otherwise returns them as they are.
pub fn gunzip(bytes: &[u8]) -> Result<Cow<'_, [u8]>, Rejection> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_OBJECT_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Rejection {
            rule: "gzip".into(),
            message: format!("broken gzip: {e}"),
        })?;
    if out.len() as u64 > MAX_OBJECT_BYTES {
        return Err(Rejection {
            rule: "size".into(),
            message: format!("more than {MAX_OBJECT_BYTES} bytes when decompressed"),
        });
    }
    Ok(Cow::Owned(out))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub source: String,
    pub key: String,
    pub rule: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub source: String,
    pub key: String,
    pub error: String,
}

/// What a pull did. `quarantined` and `failed` make the exit code non-zero.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub listed: u64,
    pub already_ingested: u64,
    pub fetched: u64,
    pub bytes: u64,
    pub sessions: u64,
    pub duplicates: u64,
    pub quarantined: Vec<Quarantined>,
    pub failed: Vec<Failed>,
}

impl Summary {
    pub fn is_clean(&self) -> bool {
        self.quarantined.is_empty() && self.failed.is_empty()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pull: {} objects listed, {} already ingested, {} fetched ({} bytes), {} new sessions, {} duplicates, {} quarantined, {} failed",
            self.listed,
            self.already_ingested,
            self.fetched,
            self.bytes,
            self.sessions,
            self.duplicates,
            self.quarantined.len(),
            self.failed.len()
        )
    }
}

/// Per-source decoding settings.
struct Decoder {
    format: Format,
    application_ids: Arc<Vec<String>>,
}

enum Outcome {
    Session(Box<abacus::Session>),
    Rejected(Rejection, bytes::Bytes),
    Failed(String),
}

/// Pulls every source of `settings` into the warehouse.
pub async fn pull(settings: &Settings, warehouse: &mut Warehouse) -> Result<Summary> {
    let mut summary = Summary::default();
    for source in &settings.sources {
        let (store, prefix) = store::open(source, &settings.pull)?;
        pull_source(store, &prefix, source, settings, warehouse, &mut summary).await?;
    }
    Ok(summary)
}

/// Attribute schemas of a source: its files, or the bundled Batect ones.
pub fn schemas(source: &Source) -> Result<AbacusSchemas> {
    let batect = AbacusSchemas::batect();
    let pick = |p: &Option<std::path::PathBuf>, default: AttributeSchema| match p {
        Some(p) => AttributeSchema::load(p),
        None => Ok(default),
    };
    Ok(AbacusSchemas {
        session: pick(&source.session_attributes, batect.session)?,
        event: pick(&source.event_attributes, batect.event)?,
        span: pick(&source.span_attributes, batect.span)?,
    })
}

/// Pulls one source from `store` (passed in, so tests can hand over a wrapped or in-memory store).
pub async fn pull_source(
    store: Arc<dyn ObjectStore>,
    prefix: &Path,
    source: &Source,
    settings: &Settings,
    warehouse: &mut Warehouse,
    summary: &mut Summary,
) -> Result<()> {
    let schemas = schemas(source)?;
    let decoder = Arc::new(Decoder {
        format: source.format,
        application_ids: Arc::new(source.application_ids.clone()),
    });

    // What earlier pulls already looked at, and which sessions they kept.
    let mut seen_keys = HashSet::new();
    warehouse.read_strings("objects", &["source", "key"], |r| {
        if r[0] == source.name {
            seen_keys.insert(r[1].to_string());
        }
    })?;
    let mut seen_ids = HashSet::new();
    warehouse.read_strings("sessions", &["session_id"], |r| {
        seen_ids.insert(r[0].to_string());
    })?;

    let progress = spinner(&format!("listing {}", source.name));
    let mut todo: Vec<(Path, u64)> = Vec::new();
    let mut listing = store.list(Some(prefix));
    while let Some(meta) = listing.try_next().await.map_err(|e| {
        anyhow::anyhow!(
            "source {:?}: cannot list {}: {}",
            source.name,
            store::redact(&source.url),
            store::scrub(&e.to_string(), source)
        )
    })? {
        summary.listed += 1;
        if summary.listed.is_multiple_of(1024) {
            progress.set_message(format!("{} objects listed", summary.listed));
        }
        if seen_keys.contains(meta.location.as_ref()) {
            summary.already_ingested += 1;
        } else {
            todo.push((meta.location, meta.size));
        }
    }
    drop(seen_keys);
    // Listing order differs between stores; key order makes every run the same.
    todo.sort();
    progress.finish_and_clear();

    let progress = bar(&source.name);
    progress.set_length(todo.len() as u64);
    let listed = summary.listed;
    let pull = warehouse.next_pull();
    for (batch_no, chunk) in todo.chunks(settings.pull.batch_size).enumerate() {
        let fetches = chunk.iter().map(|(location, _)| {
            let store = store.clone();
            let location = location.clone();
            let decoder = decoder.clone();
            tokio::spawn(fetch(store, location, decoder))
        });
        let mut results = futures::stream::iter(fetches).buffered(settings.pull.concurrency);
        let mut sessions: Vec<(String, abacus::Session)> = Vec::new();
        let mut objects = ObjectRows::default();
        let mut index = 0;
        while let Some(joined) = results.next().await {
            let (location, size) = &chunk[index];
            index += 1;
            let key = location.as_ref().to_string();
            let outcome = joined.context("fetch task panicked")?;
            progress.inc(1);
            match outcome {
                Outcome::Failed(error) => summary.failed.push(Failed {
                    source: source.name.clone(),
                    key,
                    error: store::scrub(&error, source),
                }),
                Outcome::Rejected(r, raw) => {
                    summary.fetched += 1;
                    summary.bytes += size;
                    let copy = warehouse
                        .root()
                        .join("quarantine")
                        .join(&source.name)
                        .join(location.as_ref());
                    crate::warehouse::write_atomic(&copy, &raw)?;
                    objects.push(pull, source, &key, *size, "quarantined", Some(&r), None);
                    summary.quarantined.push(Quarantined {
                        source: source.name.clone(),
                        key,
                        rule: r.rule,
                        message: r.message,
                    });
                }
                Outcome::Session(s) => {
                    summary.fetched += 1;
                    summary.bytes += size;
                    if seen_ids.insert(s.session_id.clone()) {
                        summary.sessions += 1;
                        objects.push(pull, source, &key, *size, "ingested", None, Some(&s));
                        sessions.push((key, *s));
                    } else {
                        summary.duplicates += 1;
                        objects.push(pull, source, &key, *size, "duplicate", None, Some(&s));
                    }
                }
            }
            if index.is_multiple_of(64) || index == chunk.len() {
                progress.set_message(progress_message(listed, summary));
            }
        }
        let batch = batch_no as u64 + 1;
        let mut files = write_sessions(warehouse, &schemas, source, &sessions, pull, batch)?;
        if !objects.is_empty() {
            let rel = format!("objects/part-{pull:05}-{batch:05}.parquet");
            files.push(warehouse.write("objects", &rel, &objects.finish()?)?);
        }
        if !files.is_empty() {
            warehouse.commit(Commit { pull, batch, files })?;
        }
    }
    progress.finish_and_clear();
    Ok(())
}

/// Whole-object attempts: object_store already retries each request on 5xx, timeouts and
/// resets (see [`store::retry_config`]); this outer loop also covers what it does not retry,
/// such as a body cut off mid-way by a server that sends no ETag, or a local read error.
const FETCH_ATTEMPTS: u32 = 3;

/// Errors worth another attempt: transport and server trouble, not a missing object or a
/// refused credential (those would fail the same way again).
fn is_transient(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::Generic { .. } | object_store::Error::JoinError { .. }
    )
}

/// GETs one object (with retries) and decodes it. Decoding runs here, on the runtime's worker
/// threads: at a few tens of microseconds per object it is cheaper than a hand-off to the
/// blocking pool, and the workers are as many as the cores.
async fn fetch(store: Arc<dyn ObjectStore>, location: Path, decoder: Arc<Decoder>) -> Outcome {
    let mut attempt = 1;
    let raw = loop {
        let bytes = match store.get(&location).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        match bytes {
            Ok(b) => break b,
            Err(e) if attempt < FETCH_ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt)).await;
                attempt += 1;
            }
            Err(e) if attempt > 1 => {
                return Outcome::Failed(format!("{e} (gave up after {attempt} attempts)"));
            }
            Err(e) => return Outcome::Failed(e.to_string()),
        }
    };
    let decoded = gunzip(&raw).and_then(|json| match decoder.format {
        Format::Abacus => abacus::decode(&json, &decoder.application_ids),
    });
    match decoded {
        Ok(s) => Outcome::Session(Box::new(s)),
        Err(r) => Outcome::Rejected(r, raw),
    }
}

/// The progress bar's message: what was listed, fetched (objects, bytes), kept and refused.
fn progress_message(listed: u64, summary: &Summary) -> String {
    format!(
        "{listed} listed, {} fetched ({}), {} sessions, {} quarantined, {} failed",
        summary.fetched,
        indicatif::HumanBytes(summary.bytes),
        summary.sessions,
        summary.quarantined.len(),
        summary.failed.len()
    )
}

fn date_of(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

type BatchBuilder = fn(&AbacusSchemas, &[Located]) -> Result<RecordBatch>;

/// Writes one file per table and date for the sessions of a batch.
fn write_sessions(
    warehouse: &Warehouse,
    schemas: &AbacusSchemas,
    source: &Source,
    sessions: &[(String, abacus::Session)],
    pull: u64,
    batch: u64,
) -> Result<Vec<DataFile>> {
    let mut by_date: BTreeMap<String, Vec<Located>> = BTreeMap::new();
    for (key, s) in sessions {
        by_date.entry(date_of(s.start)).or_default().push(Located {
            source: &source.name,
            key,
            session: s,
        });
    }
    let mut files = Vec::new();
    for (date, rows) in &by_date {
        let name = format!("date={date}/part-{pull:05}-{batch:05}.parquet");
        let builders: [(&str, BatchBuilder); 3] = [
            ("sessions", tables::sessions_batch),
            ("events", tables::events_batch),
            ("spans", tables::spans_batch),
        ];
        for (table, build) in builders {
            let batch =
                build(schemas, rows).with_context(|| format!("cannot build {table} for {date}"))?;
            if batch.num_rows() > 0 {
                files.push(warehouse.write(table, &format!("{table}/{name}"), &batch)?);
            }
        }
    }
    Ok(files)
}

/// Rows of the `objects` table for one batch.
#[derive(Default)]
struct ObjectRows {
    pull: Vec<i64>,
    source: Vec<String>,
    key: Vec<String>,
    size: Vec<i64>,
    status: Vec<&'static str>,
    rule: Vec<Option<String>>,
    reason: Vec<Option<String>>,
    session_id: Vec<Option<String>>,
    date: Vec<Option<String>>,
}

impl ObjectRows {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        pull: u64,
        source: &Source,
        key: &str,
        size: u64,
        status: &'static str,
        rejection: Option<&Rejection>,
        session: Option<&abacus::Session>,
    ) {
        self.pull.push(pull as i64);
        self.source.push(source.name.clone());
        self.key.push(key.to_string());
        self.size.push(size as i64);
        self.status.push(status);
        self.rule.push(rejection.map(|r| r.rule.clone()));
        self.reason.push(rejection.map(|r| r.message.clone()));
        self.session_id.push(session.map(|s| s.session_id.clone()));
        self.date.push(session.map(|s| date_of(s.start)));
    }

    fn is_empty(&self) -> bool {
        self.key.is_empty()
    }

    fn finish(self) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.pull)),
            Arc::new(StringArray::from(self.source)),
            Arc::new(StringArray::from(self.key)),
            Arc::new(Int64Array::from(self.size)),
            Arc::new(StringArray::from(self.status)),
            Arc::new(StringArray::from(self.rule)),
            Arc::new(StringArray::from(self.reason)),
            Arc::new(StringArray::from(self.session_id)),
            Arc::new(StringArray::from(self.date)),
        ];
        Ok(RecordBatch::try_new(tables::objects_schema(), columns)?)
    }
}

/// A spinner on stderr for work of unknown length (listing); hidden when not a terminal.
fn spinner(message: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_prefix(message.to_string());
    if !pb.is_hidden() {
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    pb
}

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
pub fn bar(message: &str) -> ProgressBar {
    let pb = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:30}] {pos}/{len} objects, {per_sec}, eta {eta} · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(message.to_string());
    pb
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_from_the_bytes() {
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
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..65 {
            enc.write_all(&zeros).expect("write");
        }
        let gz = enc.finish().expect("finish");
        assert_eq!(gunzip(&gz).expect_err("bomb").rule, "size");
    }
}
