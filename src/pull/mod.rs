//! Pull: list a source's objects, fetch the ones not yet ingested, decode and validate them,
//! and commit them to the warehouse in batches.
//!
//! A bad object never stops a pull: it is quarantined (a row in the `objects` table with the
//! rule it broke, and a raw copy under `quarantine/`). An object that cannot be fetched is
//! reported and left out of the commit, so the next pull tries it again. Sessions are
//! deduplicated by session id, first object (in key order) wins, across pulls too.

pub mod list;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use anyhow::{Context, Result};
use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::config::{Settings, Source};
use crate::formats::{
    Located, MAX_OBJECT_BYTES, ObjectInfo, Record, Rejection, Spec, gunzip, reject, too_large,
};
use crate::messages::count;
use crate::store::{self, Bucket, scrub};
use crate::warehouse::{DataFile, Warehouse};

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

/// What a pull did. Quarantined and failed objects make the exit code non-zero.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub listed: u64,
    pub already_ingested: u64,
    /// Objects an earlier pull quarantined, not looked at again.
    pub quarantined_before: u64,
    pub fetched: u64,
    pub bytes: u64,
    pub sessions: u64,
    pub duplicates: u64,
    /// Small files a compaction merged at the end of the pull.
    pub compacted: u64,
    /// The first [`LISTED_PROBLEMS`] quarantined objects (the `objects` table has them all).
    pub quarantined: Vec<Quarantined>,
    /// The first [`LISTED_PROBLEMS`] objects that could not be fetched.
    pub failed: Vec<Failed>,
    /// Quarantined and failed objects beyond those listed.
    pub more_quarantined: u64,
    pub more_failed: u64,
    /// What looks like a setting to check, one line each: a source that listed no object, or
    /// one whose pull was mostly quarantined by one rule (see [`hint`]).
    pub hints: Vec<String>,
}

/// Quarantined (and failed) objects a summary names one by one: a bucket that is all bad, or a
/// store that refuses every GET, must not fill the memory with messages.
pub const LISTED_PROBLEMS: usize = 1000;

impl Summary {
    pub fn is_clean(&self) -> bool {
        self.quarantined_count() == 0 && self.failed_count() == 0 && self.hints.is_empty()
    }

    pub fn quarantined_count(&self) -> u64 {
        self.quarantined.len() as u64 + self.more_quarantined
    }

    pub fn failed_count(&self) -> u64 {
        self.failed.len() as u64 + self.more_failed
    }

    fn quarantine(&mut self, q: Quarantined) {
        name_or_count(&mut self.quarantined, &mut self.more_quarantined, q);
    }

    fn fail(&mut self, f: Failed) {
        name_or_count(&mut self.failed, &mut self.more_failed, f);
    }
}

/// Adds `problem` to `listed` while it holds fewer than [`LISTED_PROBLEMS`]; counts it in
/// `more` after that.
fn name_or_count<T>(listed: &mut Vec<T>, more: &mut u64, problem: T) {
    if listed.len() < LISTED_PROBLEMS {
        listed.push(problem);
    } else {
        *more += 1;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pull: {} objects listed, {} already ingested, {} quarantined before, {} fetched ({}), {} new records, {} duplicates, {} quarantined, {} failed",
            count(self.listed),
            count(self.already_ingested),
            count(self.quarantined_before),
            count(self.fetched),
            crate::messages::bytes(self.bytes),
            count(self.sessions),
            count(self.duplicates),
            count(self.quarantined_count()),
            count(self.failed_count())
        )
    }
}

enum Outcome {
    Records(Vec<Record>),
    /// Quarantined, with the object's bytes for the raw copy when they were read whole (not
    /// for an object over the size limit, nor for one the listing named but a GET cannot).
    Rejected(Rejection, Option<bytes::Bytes>),
    Failed(String),
}

/// How a pull treats what earlier pulls did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Look again at every object an earlier pull quarantined (not only at those quarantined
    /// under another configuration than the source's now).
    pub retry_quarantined: bool,
    /// Start the tables afresh: one commit removes every data file, then every object is
    /// pulled again, typed as `report.toml` says now.
    pub rebuild: bool,
    /// When the pull gives up waiting on its sources (`[pull] deadline_minutes` after it
    /// started, set by [`pull`] when not given): objects not fetched by then are reported as
    /// failed, each by name, and what was fetched is committed.
    pub deadline: Option<tokio::time::Instant>,
}

/// Pulls every source of `settings` into the warehouse, then compacts the days it touched and
/// deletes files no commit names any more.
pub async fn pull(
    settings: &Settings,
    warehouse: &mut Warehouse,
    mut options: Options,
) -> Result<Summary> {
    let deadline = *options
        .deadline
        .get_or_insert_with(|| tokio::time::Instant::now() + settings.pull.deadline);
    // The warehouse's store gets a tenth more, to commit what was fetched by the deadline.
    let minutes = settings.pull.deadline.as_secs_f64() / 60.0;
    let why = format!(
        "the warehouse {} did not answer within the pull's deadline ([pull] deadline_minutes = {minutes}, and a tenth more to commit what was fetched): the store stopped answering",
        warehouse.shown()
    );
    let inner = warehouse.bucket().store.clone();
    warehouse.replace_store(Arc::new(crate::store::Deadline::new(
        inner.clone(),
        deadline + settings.pull.deadline / 10,
        why,
    )));
    let pulled = pull_within(settings, warehouse, options, deadline).await;
    warehouse.replace_store(inner);
    pulled
}

/// [`pull`], its warehouse bounded.
async fn pull_within(
    settings: &Settings,
    warehouse: &mut Warehouse,
    options: Options,
    deadline: tokio::time::Instant,
) -> Result<Summary> {
    let mut summary = Summary::default();
    let schemas = schemas_fingerprint(settings);
    if options.rebuild {
        let all: Vec<String> = warehouse.all_files().map(|f| f.path.clone()).collect();
        if !all.is_empty() {
            warehouse
                .commit("rebuild", &schemas, Vec::new(), all)
                .await?;
        }
    } else if !warehouse.schemas().is_empty() && warehouse.schemas() != schemas {
        crate::messages::warn(format_args!(
            "pull: the warehouse {} was typed with other attribute schemas than report.toml's now; its older files keep their types (`report pull --rebuild` re-derives every table from the objects)",
            warehouse.shown()
        ));
    }
    for source in &settings.sources {
        let bucket = store::open(source, &settings.pull)?;
        pull_source(&bucket, source, settings, warehouse, &mut summary, options).await?;
    }
    if tokio::time::Instant::now() >= deadline {
        crate::messages::warn(format_args!(
            "pull: compaction and the sweep skipped: the pull's deadline passed ([pull] deadline_minutes); the next pull or `report compact` does them"
        ));
        return Ok(summary);
    }
    let compacted = warehouse.compact(settings.pull.target_file_bytes).await?;
    summary.compacted = compacted.removed as u64;
    warehouse
        .sweep(chrono::Duration::seconds(
            settings.pull.grace_seconds as i64,
        ))
        .await?;
    Ok(summary)
}

/// Pulls one source from `bucket` (passed in, so tests can hand over a wrapped or in-memory
/// store) with the decoder of its format.
pub async fn pull_source(
    bucket: &Bucket,
    source: &Source,
    settings: &Settings,
    warehouse: &mut Warehouse,
    summary: &mut Summary,
    options: Options,
) -> Result<()> {
    let spec = source.spec.clone();
    let config = spec.fingerprint();
    let (id_table, id_column) = source.format.id_column();
    let schemas = schemas_fingerprint(settings);

    // The keys not yet looked at: the listing (in key order) less the keys the objects table
    // holds for the source.
    let deadline = options
        .deadline
        .unwrap_or_else(|| tokio::time::Instant::now() + settings.pull.deadline);
    let listed_before = summary.listed;
    let progress = spinner(&format!("listing {}", source.name));
    let listing = list::keys(bucket, settings.pull.concurrency, &progress);
    let listed = match tokio::time::timeout_at(deadline, listing).await {
        Ok(listed) => listed.map_err(|e| {
            anyhow::anyhow!(
                "source {:?}: cannot list {}: {}",
                source.name,
                crate::config::redact(&source.url),
                scrub(&format!("{e:#}"), &source.options)
            )
        })?,
        Err(_) => anyhow::bail!(
            "source {:?}: the listing of {} did not end within the pull's deadline ([pull] deadline_minutes = {}): the store stopped answering; nothing of this source was fetched",
            source.name,
            crate::config::redact(&source.url),
            settings.pull.deadline.as_secs_f64() / 60.0
        ),
    };
    progress.finish_and_clear();
    if progress.is_hidden() {
        crate::messages::status(format_args!(
            "pull {}: {} objects listed",
            source.name,
            listed.keys.len() + listed.unreadable.len()
        ));
    }
    let known = known_keys(warehouse, settings, &source.name, &config).await?;
    let is_known_quarantined = |key: &str| {
        known
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .is_ok_and(|i| known[i].1 == Known::Quarantined)
    };
    // Entries a GET cannot read: each quarantined once (a row in `objects`, no raw copy), or
    // failed when it may read another time; then counted as quarantined before.
    let mut entries = ObjectRows {
        fingerprint: config.clone(),
        ..ObjectRows::default()
    };
    for entry in listed.unreadable {
        summary.listed += 1;
        match entry.rule {
            None => summary.fail(Failed {
                source: source.name.clone(),
                key: entry.key,
                error: entry.reason,
            }),
            Some(_) if is_known_quarantined(&entry.key) && !options.retry_quarantined => {
                summary.quarantined_before += 1;
            }
            Some(rule) => {
                let r = crate::formats::reject(rule, entry.reason);
                let pull = warehouse.version() + 1;
                entries.push(pull, source, &entry.key, 0, "quarantined", Some(&r), None);
                summary.quarantine(Quarantined {
                    source: source.name.clone(),
                    key: entry.key,
                    rule: r.rule,
                    message: r.message,
                });
            }
        }
    }
    if !entries.is_empty() {
        let pull = warehouse.version() + 1;
        let rel = format!("objects/c{pull:06}-b0000.parquet");
        let file = warehouse.write("objects", &rel, &entries.finish()?).await?;
        warehouse
            .commit("pull", &schemas, vec![file], Vec::new())
            .await
            .with_context(|| {
                format!(
                    "{}: the pull of source {:?} stopped before recording its unreadable entries (pull again)",
                    warehouse.shown(),
                    source.name
                )
            })?;
    }
    let mut todo = Vec::new();
    let mut known_iter = known.iter().peekable();
    for key in listed.keys {
        summary.listed += 1;
        while known_iter
            .peek()
            .is_some_and(|(k, _)| k.as_str() < key.as_str())
        {
            known_iter.next();
        }
        match known_iter.peek() {
            Some((k, Known::Ingested)) if *k == key => summary.already_ingested += 1,
            Some((k, Known::Quarantined)) if *k == key && !options.retry_quarantined => {
                summary.quarantined_before += 1;
            }
            // Not looked at yet, or quarantined under another configuration: looked at now.
            _ => todo.push(key),
        }
    }
    drop(known);
    let listed_here = summary.listed - listed_before;
    let fetched_before = summary.fetched;
    let mut by_rule: BTreeMap<String, (u64, String)> = BTreeMap::new();

    let progress = bar(&source.name);
    progress.set_length(todo.len() as u64);
    let listed = summary.listed;
    for (batch, keys) in (1u64..).zip(todo.chunks(settings.pull.batch_size.max(1))) {
        let pull = warehouse.version() + 1;
        let mut locations = Vec::with_capacity(keys.len());
        for key in keys {
            match Path::parse(bucket.path(key).as_ref()) {
                Ok(location) => locations.push((key.clone(), location)),
                Err(e) => {
                    progress.inc(1);
                    summary.fail(Failed {
                        source: source.name.clone(),
                        error: format!("not a valid object name: {e}"),
                        key: key.clone(),
                    });
                }
            }
        }
        let store = bucket.store.clone();
        let minutes = settings.pull.deadline.as_secs_f64() / 60.0;
        let mut results = futures::stream::iter(locations.into_iter().map(|(key, location)| {
            let (store, spec) = (store.clone(), spec.clone());
            async move {
                let late = || {
                    let error = format!(
                        "not fetched: the pull's deadline passed ([pull] deadline_minutes = {minutes}); the store did not answer in time"
                    );
                    Ok((Outcome::Failed(error), 0))
                };
                if tokio::time::Instant::now() >= deadline {
                    return (key, late());
                }
                let task = tokio::spawn(fetch(store, location, spec));
                let abort = task.abort_handle();
                match tokio::time::timeout_at(deadline, task).await {
                    Ok(got) => (key, got),
                    Err(_) => {
                        abort.abort();
                        (key, late())
                    }
                }
            }
        }))
        .buffered(settings.pull.concurrency.max(1));
        let mut records: Vec<(String, Record)> = Vec::new();
        let mut objects = ObjectRows {
            fingerprint: config.clone(),
            ..ObjectRows::default()
        };
        let mut seen = HashSet::<String>::new();
        let mut index = 0usize;
        while let Some((key, fetched)) = results.next().await {
            index += 1;
            let (outcome, size) = fetched.context("fetch task panicked")?;
            progress.inc(1);
            match outcome {
                Outcome::Failed(error) => {
                    summary.fail(Failed {
                        source: source.name.clone(),
                        key,
                        error: scrub(&error, &source.options),
                    });
                }
                Outcome::Rejected(mut r, raw) => {
                    summary.fetched += 1;
                    summary.bytes += size;
                    if let Some(raw) = raw {
                        // A copy that cannot be written (a name too long for the warehouse's
                        // file system, a folder in its way) is said in the reason; the object
                        // stays quarantined.
                        if let Err(e) = warehouse.quarantine(&source.name, &key, raw).await {
                            r.message = format!("{} (no raw copy kept: {e:#})", r.message);
                        }
                    }
                    objects.push(pull, source, &key, size, "quarantined", Some(&r), None);
                    let seen = by_rule
                        .entry(r.rule.clone())
                        .or_insert((0, r.message.clone()));
                    seen.0 += 1;
                    summary.quarantine(Quarantined {
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
                    let start = records.len();
                    let total = decoded.len();
                    for r in decoded {
                        if seen.insert(spec.id(&r)) {
                            records.push((key.clone(), r));
                        } else {
                            summary.duplicates += 1;
                        }
                    }
                    let range = (start, records.len(), total);
                    objects.push_pending(pull, source, &key, size, single, range);
                }
            }
            if index.is_multiple_of(64) {
                progress.set_message(progress_message(listed, summary));
            }
        }
        // Ids the warehouse holds already: the first object (in key order) won, earlier.
        let ids: Vec<String> = records.iter().map(|(_, r)| spec.id(r)).collect();
        let kept_before = known_ids(warehouse, settings, id_table, id_column, &ids).await?;
        let before = records.len();
        let mut keep = Vec::with_capacity(before);
        let mut fresh = Vec::with_capacity(before);
        for (i, (key, r)) in records.into_iter().enumerate() {
            fresh.push(!kept_before.contains(&ids[i]));
            if fresh[i] {
                keep.push((key, r));
            }
        }
        objects.settle(&fresh);
        summary.duplicates += (before - keep.len()) as u64;
        summary.sessions += keep.len() as u64;
        progress.set_message(progress_message(listed, summary));
        let mut files = write_records(warehouse, spec.as_ref(), source, &keep, pull, batch).await?;
        if !objects.is_empty() {
            let rel = format!("objects/c{pull:06}-b{batch:04}.parquet");
            files.push(warehouse.write("objects", &rel, &objects.finish()?).await?);
        }
        if !files.is_empty() {
            warehouse
                .commit("pull", &schemas, files, Vec::new())
                .await
                .with_context(|| {
                    format!(
                        "{}: the pull of source {:?} stopped before its batch {batch} (nothing of that batch is data; pull again)",
                        warehouse.shown(),
                        source.name
                    )
                })?;
        }
        if progress.is_hidden() {
            progress_line(
                &source.name,
                progress.position(),
                todo.len(),
                listed,
                summary,
            );
        }
    }
    progress.finish_and_clear();
    summary.hints.extend(hint(
        source,
        listed_here,
        summary.fetched - fetched_before,
        &by_rule,
    ));
    Ok(())
}

/// A progress line for stderr that is not a terminal (a CI log), one per committed batch.
fn progress_line(source: &str, done: u64, todo: usize, listed: u64, summary: &Summary) {
    crate::messages::status(format_args!(
        "pull {source}: {done} of {todo} objects looked at; {}",
        progress_message(listed, summary)
    ));
}

/// The line that names the setting to check when a source's pull looks misconfigured: it
/// listed no object (its `url` or `prefix`), or one rule quarantined most of the objects it
/// looked at (the setting the format names for the rule, such as Abacus's `application_ids`).
pub fn hint(
    source: &Source,
    listed: u64,
    fetched: u64,
    by_rule: &BTreeMap<String, (u64, String)>,
) -> Option<String> {
    let at = match &source.prefix {
        Some(prefix) => format!("{} (prefix {prefix:?})", crate::config::redact(&source.url)),
        None => crate::config::redact(&source.url),
    };
    if listed == 0 {
        return Some(format!(
            "pull: source {:?} listed no object under {at}: check its url and prefix in report.toml",
            source.name
        ));
    }
    let (rule, (n, example)) = by_rule.iter().max_by_key(|(_, (n, _))| *n)?;
    if *n < 2 || *n * 2 <= fetched {
        return None;
    }
    let setting = match source.format.setting_for(rule) {
        Some(key) => format!("`{key}` of source {:?} in report.toml", source.name),
        None => format!(
            "that source {:?} (format {:?}, {at}) holds objects of that format",
            source.name,
            source.format.name()
        ),
    };
    Some(format!(
        "pull: source {:?}: {} of the {} objects fetched were quarantined by rule {rule} (e.g. {example}): check {setting}",
        source.name,
        count(*n),
        count(fetched)
    ))
}

/// A fingerprint of every table's schema: a commit records what its files were typed with.
pub fn schemas_fingerprint(settings: &Settings) -> String {
    let mut text = String::new();
    for t in &settings.catalog {
        text.push_str(t.name);
        for f in t.schema.fields() {
            text.push_str(&format!("|{}:{}", f.name(), f.data_type()));
        }
        text.push('\n');
    }
    crate::formats::fingerprint(&text)
}

/// What an earlier pull made of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Ingested,
    /// Quarantined under the source's configuration as it is now.
    Quarantined,
    /// Quarantined under another configuration (or one not recorded).
    QuarantinedElsewise,
}

/// The keys the objects table holds for `source`, in key order, each with what became of it.
async fn known_keys(
    warehouse: &Warehouse,
    settings: &Settings,
    source: &str,
    config: &str,
) -> Result<Vec<(String, Known)>> {
    if warehouse.files("objects").is_empty() {
        return Ok(Vec::new());
    }
    let ctx = warehouse_context(warehouse, settings)?;
    let sql = format!(
        "SELECT key, max(CASE WHEN status <> 'quarantined' THEN 2 WHEN config = '{config}' THEN 1 ELSE 0 END) AS state \
         FROM objects WHERE source = '{}' GROUP BY key ORDER BY key",
        source.replace('\'', "''")
    );
    let batches = ctx
        .sql(&sql)
        .await?
        .collect()
        .await
        .with_context(|| format!("{}: cannot read the objects table", warehouse.shown()))?;
    let mut out = Vec::new();
    for b in &batches {
        let keys = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let keys = keys.as_string::<i32>();
        let state = datafusion::arrow::compute::cast(b.column(1), &DataType::Int64)?;
        let state = state.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for (i, k) in keys.iter().enumerate() {
            let k = k.unwrap_or_default().to_string();
            let known = match state.value(i) {
                2 => Known::Ingested,
                1 => Known::Quarantined,
                _ => Known::QuarantinedElsewise,
            };
            out.push((k, known));
        }
    }
    Ok(out)
}

/// A query session over the warehouse's committed files.
fn warehouse_context(
    warehouse: &Warehouse,
    settings: &Settings,
) -> Result<datafusion::prelude::SessionContext> {
    let ctx = crate::query::lean_context()?;
    crate::query::register_warehouse(&ctx, warehouse, &settings.catalog)?;
    Ok(ctx)
}

/// Which of `ids` the id table already holds.
async fn known_ids(
    warehouse: &Warehouse,
    settings: &Settings,
    table: &str,
    column: &str,
    ids: &[String],
) -> Result<HashSet<String>> {
    if ids.is_empty() || warehouse.files(table).is_empty() {
        return Ok(HashSet::new());
    }
    let ctx = warehouse_context(warehouse, settings)?;
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from_iter_values(ids.iter()))],
    )?;
    ctx.register_table(
        "batch_ids",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    // The batch's ids on the left: a hash join builds its table from the left side unless
    // statistics tell it to swap, and this session collects none for the warehouse's tables.
    let sql = format!("SELECT DISTINCT b.id FROM batch_ids b JOIN {table} t ON t.{column} = b.id");
    let batches = ctx
        .sql(&sql)
        .await?
        .collect()
        .await
        .with_context(|| format!("{}: cannot read {table}", warehouse.shown()))?;
    let mut out = HashSet::new();
    for b in &batches {
        let col = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        out.extend(col.as_string::<i32>().iter().flatten().map(str::to_string));
    }
    Ok(out)
}

/// The table and column of each format's record ids.
pub fn id_columns() -> Vec<(&'static str, &'static str)> {
    crate::formats::FORMATS
        .iter()
        .map(|f| f.id_column())
        .collect()
}

/// Whole-object attempts: object_store already retries each request on 5xx, timeouts and
/// resets (see [`store::retry_config`]); this outer loop also covers what it does not retry,
/// such as a body cut off mid-way by a server that sends no ETag.
const FETCH_ATTEMPTS: u32 = 3;

/// Errors worth another attempt: transport and server trouble, not a missing object or a
/// refused credential (those would fail the same way again).
fn is_transient(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::Generic { .. } | object_store::Error::JoinError { .. }
    )
}

/// GETs one object (with retries) and decodes it; also gives its size as stored. Decoding runs
/// here, on the runtime's worker threads: at a few tens of microseconds per object it is cheaper
/// than a hand-off to the blocking pool, and the workers are as many as the cores.
///
/// No more than [`MAX_OBJECT_BYTES`] of an object is read: a larger one (by the size the store
/// gives, or by its body) is quarantined without a raw copy. An object the listing named but a
/// GET cannot find (an S3 folder marker `x/`, a key with a leading `/`, one deleted since) is
/// quarantined too, so it is reported once, not as a failure on every pull.
async fn fetch(store: Arc<dyn ObjectStore>, location: Path, spec: Arc<dyn Spec>) -> (Outcome, u64) {
    let mut attempt = 1;
    let (raw, last_modified) = loop {
        let got = match store.get(&location).await {
            Ok(r) => {
                let modified = r.meta.last_modified.timestamp_nanos_opt();
                let size = r.meta.size;
                if size > MAX_OBJECT_BYTES {
                    return (Outcome::Rejected(too_large(size), None), size);
                }
                read_at_most(r.into_stream(), MAX_OBJECT_BYTES)
                    .await
                    .map(|b| (b, modified))
            }
            Err(e) => Err(e),
        };
        match got {
            Ok((Some(raw), modified)) => break (raw, modified),
            Ok((None, _)) => {
                let over = MAX_OBJECT_BYTES + 1;
                return (Outcome::Rejected(too_large(over), None), over);
            }
            Err(e) if attempt < FETCH_ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt)).await;
                attempt += 1;
            }
            Err(object_store::Error::NotFound { .. }) => {
                let r = reject(
                    "listing.not_found",
                    "listed, but a GET finds no object of that name (a folder marker, a key a path cannot hold as it is, or an object deleted since)",
                );
                return (Outcome::Rejected(r, None), 0);
            }
            Err(e @ object_store::Error::InvalidPath { .. }) => {
                let r = reject("listing.name", format!("not a valid object name: {e}"));
                return (Outcome::Rejected(r, None), 0);
            }
            Err(e) if attempt > 1 => {
                let error = format!("{e} (gave up after {attempt} attempts)");
                return (Outcome::Failed(error), 0);
            }
            Err(e) => return (Outcome::Failed(e.to_string()), 0),
        }
    };
    let size = raw.len() as u64;
    (decode(&location, raw, last_modified, spec.as_ref()), size)
}

/// The body, whole, or `None` once it passes `limit` bytes (the rest is not read).
async fn read_at_most(
    mut body: futures::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
    limit: u64,
) -> object_store::Result<Option<bytes::Bytes>> {
    let mut chunks = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        total += chunk.len() as u64;
        if total > limit {
            return Ok(None);
        }
        chunks.push(chunk);
    }
    Ok(Some(match chunks.len() {
        1 => chunks.swap_remove(0),
        _ => bytes::Bytes::from(chunks.concat()),
    }))
}

/// Gunzips and decodes one object's bytes; a rejected object keeps them for the quarantine.
fn decode(key: &Path, raw: bytes::Bytes, last_modified: Option<i64>, spec: &dyn Spec) -> Outcome {
    let info = ObjectInfo {
        key: key.as_ref(),
        last_modified,
    };
    match gunzip(&raw).and_then(|bytes| spec.decode(&info, &bytes)) {
        Ok(records) => Outcome::Records(records),
        Err(r) => Outcome::Rejected(r, Some(raw)),
    }
}

/// The progress bar's message: what was listed, fetched (objects, bytes), kept and refused.
fn progress_message(listed: u64, summary: &Summary) -> String {
    format!(
        "{listed} listed, {} fetched ({}), {} records, {} quarantined, {} failed",
        summary.fetched,
        indicatif::HumanBytes(summary.bytes),
        summary.sessions,
        summary.quarantined_count(),
        summary.failed_count()
    )
}

/// Writes one file per table and date for the records of a batch, in date then table order.
async fn write_records(
    warehouse: &Warehouse,
    spec: &dyn Spec,
    source: &Source,
    records: &[(String, Record)],
    pull: u64,
    batch: u64,
) -> Result<Vec<DataFile>> {
    let mut by_date: BTreeMap<String, Vec<Located<Record>>> = BTreeMap::new();
    for (key, r) in records {
        by_date.entry(spec.date(r)).or_default().push(Located {
            source: &source.name,
            key,
            record: r,
        });
    }
    let tables = spec.tables();
    let mut out = Vec::new();
    for (date, rows) in &by_date {
        for table in &tables {
            let name = if table.partitioned {
                format!("{}/date={date}/c{pull:06}-b{batch:04}.parquet", table.name)
            } else {
                format!("{}/c{pull:06}-b{batch:04}-{date}.parquet", table.name)
            };
            let built = spec
                .batch(table.name, rows)
                .with_context(|| format!("cannot build {} for {date}", table.name))?;
            if built.num_rows() > 0 {
                out.push(warehouse.write(table.name, &name, &built).await?);
            }
        }
    }
    Ok(out)
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
    config: Vec<String>,
    /// The source's configuration fingerprint, written in every row's `config`.
    fingerprint: String,
    /// Rows of objects that decoded, waiting for the dedup: (row, first record, end, records
    /// the object held).
    pending: Vec<(usize, usize, usize, usize)>,
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
        self.config.push(self.fingerprint.clone());
    }

    /// An object that decoded to the batch's records `start..end` of `total` it held; its
    /// status is settled once the dedup knows which were kept.
    fn push_pending(
        &mut self,
        pull: u64,
        source: &Source,
        key: &str,
        size: u64,
        record: Option<(String, String)>,
        (start, end, total): (usize, usize, usize),
    ) {
        self.pending.push((self.key.len(), start, end, total));
        self.push(pull, source, key, size, "ingested", None, record);
    }

    /// `fresh[i]`: whether the batch's record `i` was kept. An object none of whose records
    /// was kept is a duplicate.
    fn settle(&mut self, fresh: &[bool]) {
        for &(row, start, end, total) in &self.pending {
            let kept = fresh[start..end].iter().filter(|f| **f).count();
            if kept == 0 && total > 0 {
                self.status[row] = "duplicate";
            }
        }
        self.pending.clear();
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
            Arc::new(StringArray::from(self.config)),
        ];
        Ok(RecordBatch::try_new(
            crate::warehouse::objects_schema(),
            columns,
        )?)
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

    #[test]
    fn a_summary_names_the_first_problems_and_counts_them_all() {
        let mut summary = Summary::default();
        let n = LISTED_PROBLEMS as u64 + 5;
        for i in 0..n {
            summary.quarantine(Quarantined {
                source: "s".into(),
                key: format!("q{i}"),
                rule: "json".into(),
                message: "not JSON".into(),
            });
            summary.fail(Failed {
                source: "s".into(),
                key: format!("f{i}"),
                error: "refused".into(),
            });
        }
        assert_eq!(summary.quarantined.len(), LISTED_PROBLEMS);
        assert_eq!(summary.failed.len(), LISTED_PROBLEMS);
        assert_eq!(
            (summary.quarantined_count(), summary.failed_count()),
            (n, n)
        );
        assert_eq!(summary.failed.last().map(|f| f.key.as_str()), Some("f999"));
        let line = summary.to_string();
        assert!(
            line.contains(&format!("{} quarantined, {} failed", count(n), count(n))),
            "{line}"
        );
        assert!(!summary.is_clean());
    }
}
