//! Pull: list a source's objects, fetch the ones not yet ingested, decode and validate them,
//! and commit them to the warehouse in batches.
//!
//! A bad object never stops a pull: it is quarantined (a row in the `objects` table with the
//! rule it broke, and a raw copy under `quarantine/`). An object that cannot be fetched is
//! reported and left out of the commit, so the next pull tries it again. Sessions are
//! deduplicated by session id, first object (in key order) wins, across pulls too.

pub mod abacus;
pub mod devstack;
pub mod format;
pub mod go_telemetry;
pub mod pace;
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
use crate::warehouse::tables::{self, AbacusSchemas, AttributeSchema};
use crate::warehouse::{Commit, DataFile, Warehouse};
use format::{FormatSpec, Located, ObjectInfo, TableDef};

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
            "pull: {} objects listed, {} already ingested, {} fetched ({} bytes), {} new records, {} duplicates, {} quarantined, {} failed",
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

enum Outcome<R> {
    Records(Vec<R>),
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

/// Pulls one source from `store` (passed in, so tests can hand over a wrapped or in-memory store)
/// with the decoder of its format.
pub async fn pull_source(
    store: Arc<dyn ObjectStore>,
    prefix: &Path,
    source: &Source,
    settings: &Settings,
    warehouse: &mut Warehouse,
    summary: &mut Summary,
) -> Result<()> {
    let ctx = Pull {
        store,
        prefix,
        source,
        settings,
    };
    match source.format {
        Format::Abacus => {
            ctx.run(abacus::Spec::new(source)?, warehouse, summary)
                .await
        }
        Format::GoTelemetry => {
            ctx.run(go_telemetry::Spec::new(source)?, warehouse, summary)
                .await
        }
        Format::Pace => ctx.run(pace::Spec::new(source)?, warehouse, summary).await,
        Format::Devstack => {
            ctx.run(devstack::Spec::new(source)?, warehouse, summary)
                .await
        }
    }
}

/// Every table of every format, for the query stage (Abacus' typed by `abacus`): a query can
/// read a format's tables even when no source of that format has been pulled yet.
pub fn all_tables(abacus: &AbacusSchemas) -> Vec<TableDef> {
    let mut out = Vec::new();
    for format in Format::ALL {
        out.extend(match format {
            Format::Abacus => tables::abacus_tables(abacus),
            Format::GoTelemetry => go_telemetry::tables(),
            Format::Pace => pace::tables(),
            Format::Devstack => devstack::tables(),
        });
    }
    out
}

/// One source's pull, whatever its format.
struct Pull<'a> {
    store: Arc<dyn ObjectStore>,
    prefix: &'a Path,
    source: &'a Source,
    settings: &'a Settings,
}

impl Pull<'_> {
    async fn run<S: FormatSpec>(
        &self,
        spec: S,
        warehouse: &mut Warehouse,
        summary: &mut Summary,
    ) -> Result<()> {
        let Pull {
            store,
            prefix,
            source,
            settings,
        } = self;
        let spec = Arc::new(spec);

        // What earlier pulls already looked at, and which records they kept: one pass over the
        // objects table gives both when each object holds one record.
        let ids_in_objects = spec.one_record_per_object();
        // Rows of sources of other formats hold other kinds of ids: leave them out.
        let other: HashSet<&str> = settings
            .sources
            .iter()
            .filter(|s| s.format != source.format)
            .map(|s| s.name.as_str())
            .collect();
        let mut seen_keys = HashSet::new();
        let mut seen_ids = HashSet::new();
        warehouse.read_strings("objects", &["source", "key", "status", "session_id"], |r| {
            if r[0] == source.name {
                seen_keys.insert(r[1].to_string());
            }
            if ids_in_objects && r[2] == "ingested" && !other.contains(r[0]) {
                seen_ids.insert(r[3].to_string());
            }
        })?;
        if !ids_in_objects {
            let (id_table, id_column) = spec.id_column();
            warehouse.read_strings(id_table, &[id_column], |r| {
                seen_ids.insert(r[0].to_string());
            })?;
        }

        let progress = spinner(&format!("listing {}", source.name));
        let mut todo: Vec<(Path, u64, Option<i64>)> = Vec::new();
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
                let modified = meta.last_modified.timestamp_nanos_opt();
                todo.push((meta.location, meta.size, modified));
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
            let fetches = chunk.iter().map(|(location, _, modified)| {
                let store = store.clone();
                let location = location.clone();
                let spec = spec.clone();
                tokio::spawn(fetch(store, location, *modified, spec))
            });
            let mut results = futures::stream::iter(fetches).buffered(settings.pull.concurrency);
            let mut records: Vec<(String, S::Record)> = Vec::new();
            let mut objects = ObjectRows::default();
            let mut index = 0;
            while let Some(joined) = results.next().await {
                let (location, size, _) = &chunk[index];
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
                        crate::warehouse::write_atomic(&copy, &raw, false)?;
                        objects.push(pull, source, &key, *size, "quarantined", Some(&r), None);
                        summary.quarantined.push(Quarantined {
                            source: source.name.clone(),
                            key,
                            rule: r.rule,
                            message: r.message,
                        });
                    }
                    Outcome::Records(decoded) => {
                        summary.fetched += 1;
                        summary.bytes += size;
                        // The object's record id and date, when it holds exactly one record.
                        let single = match decoded.as_slice() {
                            [one] => Some((spec.id(one), spec.date(one))),
                            _ => None,
                        };
                        let mut kept = 0;
                        let total = decoded.len();
                        for r in decoded {
                            if seen_ids.insert(spec.id(&r)) {
                                kept += 1;
                                records.push((key.clone(), r));
                            }
                        }
                        summary.sessions += kept;
                        summary.duplicates += total as u64 - kept;
                        let status = if kept == 0 && total > 0 {
                            "duplicate"
                        } else {
                            "ingested"
                        };
                        objects.push(pull, source, &key, *size, status, None, single);
                    }
                }
                if index.is_multiple_of(64) || index == chunk.len() {
                    progress.set_message(progress_message(listed, summary));
                }
            }
            let batch = batch_no as u64 + 1;
            let mut files = write_records(warehouse, spec.as_ref(), source, &records, pull, batch)?;
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
async fn fetch<S: FormatSpec>(
    store: Arc<dyn ObjectStore>,
    location: Path,
    last_modified: Option<i64>,
    spec: Arc<S>,
) -> Outcome<S::Record> {
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
    let info = ObjectInfo {
        key: location.as_ref(),
        last_modified,
    };
    let decoded = gunzip(&raw).and_then(|bytes| spec.decode(&info, &bytes));
    match decoded {
        Ok(records) => Outcome::Records(records),
        Err(r) => Outcome::Rejected(r, raw),
    }
}

/// The progress bar's message: what was listed, fetched (objects, bytes), kept and refused.
fn progress_message(listed: u64, summary: &Summary) -> String {
    format!(
        "{listed} listed, {} fetched ({}), {} records, {} quarantined, {} failed",
        summary.fetched,
        indicatif::HumanBytes(summary.bytes),
        summary.sessions,
        summary.quarantined.len(),
        summary.failed.len()
    )
}

/// Writes one file per table and date for the records of a batch.
fn write_records<S: FormatSpec>(
    warehouse: &Warehouse,
    spec: &S,
    source: &Source,
    records: &[(String, S::Record)],
    pull: u64,
    batch: u64,
) -> Result<Vec<DataFile>> {
    let mut by_date: BTreeMap<String, Vec<Located<S::Record>>> = BTreeMap::new();
    for (key, r) in records {
        by_date.entry(spec.date(r)).or_default().push(Located {
            source: &source.name,
            key,
            record: r,
        });
    }
    let tables = spec.tables();
    let mut files = Vec::new();
    for (date, rows) in &by_date {
        for table in &tables {
            let name = if table.partitioned {
                format!(
                    "{}/date={date}/part-{pull:05}-{batch:05}.parquet",
                    table.name
                )
            } else {
                format!("{}/part-{pull:05}-{batch:05}-{date}.parquet", table.name)
            };
            let batch = spec
                .batch(table.name, rows)
                .with_context(|| format!("cannot build {} for {date}", table.name))?;
            if batch.num_rows() > 0 {
                files.push(warehouse.write(table.name, &name, &batch)?);
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
        record: Option<(String, String)>,
    ) {
        self.pull.push(pull as i64);
        self.source.push(source.name.clone());
        self.key.push(key.to_string());
        self.size.push(size as i64);
        self.status.push(status);
        self.rule.push(rejection.map(|r| r.rule.clone()));
        self.reason.push(rejection.map(|r| r.message.clone()));
        let (id, date) = record.unzip();
        self.session_id.push(id);
        self.date.push(date);
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
