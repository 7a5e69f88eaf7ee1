//! Pull: list a source's objects, fetch the ones not yet ingested, decode and validate them,
//! and commit them to the warehouse in batches.
//!
//! A bad object never stops a pull: it is quarantined (a row in the `objects` table with the
//! rule it broke, and a raw copy under `quarantine/`). An object that cannot be fetched is
//! reported and left out of the commit, so the next pull tries it again. Sessions are
//! deduplicated by session id, first object (in key order) wins, across pulls too.

pub mod folder;
mod sorted;
pub mod store;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use anyhow::{Context, Result};
use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::config::{Settings, Source};
use crate::formats::{self, Located, ObjectInfo, Record, Rejection, Spec, gunzip};
use crate::warehouse::{Commit, DataFile, Warehouse};

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
    /// Objects listed, counting those of the folders not read again (below).
    pub listed: u64,
    /// Folders of a local bucket not read again: unchanged since a pull read them whole.
    pub unchanged_folders: u64,
    pub already_ingested: u64,
    pub fetched: u64,
    pub bytes: u64,
    pub sessions: u64,
    pub duplicates: u64,
    /// The first [`LISTED_PROBLEMS`] quarantined objects (the `objects` table has them all).
    pub quarantined: Vec<Quarantined>,
    /// The first [`LISTED_PROBLEMS`] objects that could not be fetched.
    pub failed: Vec<Failed>,
    /// Quarantined and failed objects beyond those listed.
    pub more_quarantined: u64,
    pub more_failed: u64,
}

/// Quarantined (and failed) objects a summary names one by one: a bucket that is all bad, or a
/// store that refuses every GET, must not fill the memory with messages.
pub const LISTED_PROBLEMS: usize = 1000;

impl Summary {
    pub fn is_clean(&self) -> bool {
        self.quarantined_count() == 0 && self.failed_count() == 0
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
            "pull: {} objects listed, {} already ingested, {} fetched ({} bytes), {} new records, {} duplicates, {} quarantined, {} failed",
            self.listed,
            self.already_ingested,
            self.fetched,
            self.bytes,
            self.sessions,
            self.duplicates,
            self.quarantined_count(),
            self.failed_count()
        )
    }
}

enum Outcome {
    Records(Vec<Record>),
    Rejected(Rejection, bytes::Bytes),
    Failed(String),
}

/// Pulls every source of `settings` into the warehouse.
pub async fn pull(settings: &Settings, warehouse: &mut Warehouse) -> Result<Summary> {
    let mut summary = Summary::default();
    warehouse.begin_pull()?;
    for source in &settings.sources {
        let bucket = store::open(source, &settings.pull)?;
        pull_source(&bucket, source, settings, warehouse, &mut summary).await?;
    }
    warehouse.end_pull()?;
    Ok(summary)
}

/// Pulls one source from `bucket` (passed in, so tests can hand over a wrapped or in-memory
/// store) with the decoder of its format.
pub async fn pull_source(
    bucket: &store::Bucket,
    source: &Source,
    settings: &Settings,
    warehouse: &mut Warehouse,
    summary: &mut Summary,
) -> Result<()> {
    let ctx = Pull {
        bucket,
        source,
        settings,
    };
    ctx.run(source.spec.clone(), warehouse, summary).await
}

/// One source's pull, whatever its format.
struct Pull<'a> {
    bucket: &'a store::Bucket,
    source: &'a Source,
    settings: &'a Settings,
}

impl Pull<'_> {
    async fn run(
        &self,
        spec: Arc<dyn Spec>,
        warehouse: &mut Warehouse,
        summary: &mut Summary,
    ) -> Result<()> {
        let Pull {
            bucket,
            source,
            settings,
        } = self;

        // The index first (its file is read ahead while the source is listed), then the
        // listing, sorted: in memory up to `keys_in_memory` keys, in run files under the
        // warehouse past that. A local bucket's folders that earlier pulls read whole and that
        // have not changed since are not read again (see `folder`).
        let recorded = warehouse.index(&id_columns())?.folders(&source.name)?;
        let known = match bucket.folder() {
            Some(root) => {
                let folders = recorded
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), folder::Folder::from_bytes(v)?)))
                    .collect();
                folder::Known::new(root, folders, &warehouse.pull_marker())
            }
            None => folder::Known::nothing(),
        };
        let progress = spinner(&format!("listing {}", source.name));
        let spill = |name: &str| warehouse.root().join(format!(".{name}-{}", source.name));
        let (listing_runs, todo_runs) = (spill("listing"), spill("todo"));
        let mut listed = sorted::Sorter::new(listing_runs, settings.pull.keys_in_memory);
        let mut keys = bucket.keys(known);
        // The folders to record at the end: those found unchanged and those read whole, less
        // any with an object this pull could not fetch.
        let mut folders = BTreeMap::new();
        let mut count = 0u64;
        loop {
            let found = keys.try_next().await.map_err(|e| {
                anyhow::anyhow!(
                    "source {:?}: cannot list {}: {}",
                    source.name,
                    crate::config::redact(&source.url),
                    store::scrub(&e.to_string(), source)
                )
            })?;
            match found {
                None => break,
                Some(folder::Found::Keys(chunk)) => {
                    for key in chunk {
                        listed.push(key)?;
                        count += 1;
                        if count.is_multiple_of(1024) {
                            progress.set_message(format!("{count} objects listed"));
                        }
                    }
                }
                Some(folder::Found::Unchanged(key, found)) => {
                    // Its objects: all looked at before.
                    summary.unchanged_folders += 1;
                    summary.listed += found.objects;
                    summary.already_ingested += found.objects;
                    count += found.objects;
                    folders.insert(key, found.to_bytes());
                }
                Some(folder::Found::Read(key, found)) => {
                    folders.insert(key, found.to_bytes());
                }
            }
        }
        drop(keys);
        progress.finish_and_clear();

        // The keys not yet looked at: the listing merged with the index's keys of the source
        // (both sorted), in key order, which makes every run the same.
        let known = warehouse.index(&id_columns())?.keys(&source.name)?;
        let mut todo = sorted::Sorter::new(todo_runs, settings.pull.keys_in_memory);
        let mut new = 0;
        for key in sorted::diff(listed.finish()?, known) {
            summary.listed += 1;
            match key? {
                sorted::Listed::New(key) => {
                    todo.push(key)?;
                    new += 1;
                }
                sorted::Listed::Known => summary.already_ingested += 1,
            }
        }
        let mut todo = todo.finish()?;

        let progress = bar(&source.name);
        progress.set_length(new);
        let listed = summary.listed;
        let pull = warehouse.next_pull();
        let (id_table, _) = source.format.id_column();
        for batch in 1.. {
            let mut chunk = Vec::with_capacity(settings.pull.batch_size.min(new as usize));
            for key in todo.by_ref() {
                let key = key?;
                // A local file whose name object_store cannot hold (a control character,
                // `..`): reported, like an object that cannot be fetched.
                match Path::parse(&key) {
                    Ok(path) => chunk.push(path),
                    Err(e) => {
                        progress.inc(1);
                        folders.remove(folder_of(&key));
                        summary.fail(Failed {
                            source: source.name.clone(),
                            error: format!("not a valid object name: {e}"),
                            key,
                        });
                    }
                }
                if chunk.len() == settings.pull.batch_size {
                    break;
                }
            }
            if chunk.is_empty() {
                break;
            }
            // Ids as of the batch's start (the earlier batches' included), and the batch's own.
            let ids = warehouse.index(&id_columns())?.lookup()?;
            let mut seen = foldhash::HashSet::<String>::default();
            let mut added = crate::warehouse::index::Batch::default();
            let (fetches, parallel) = fetches(bucket, &chunk, &spec, settings.pull.concurrency);
            let mut results = futures::stream::iter(fetches)
                .buffered(parallel)
                .map_ok(|group| futures::stream::iter(group.into_iter().map(JoinResult::Ok)))
                .try_flatten();
            let mut records: Vec<(String, Record)> = Vec::new();
            let mut objects = ObjectRows::default();
            let mut index = 0;
            while let Some(fetched) = results.next().await {
                let location = &chunk[index];
                index += 1;
                let key = location.as_ref().to_string();
                let (outcome, size) = fetched.context("fetch task panicked")?;
                progress.inc(1);
                match outcome {
                    Outcome::Failed(error) => {
                        folders.remove(folder_of(&key));
                        summary.fail(Failed {
                            source: source.name.clone(),
                            key,
                            error: store::scrub(&error, source),
                        });
                    }
                    Outcome::Rejected(r, raw) => {
                        summary.fetched += 1;
                        summary.bytes += size;
                        let copy = warehouse
                            .root()
                            .join("quarantine")
                            .join(&source.name)
                            .join(location.as_ref());
                        crate::warehouse::write_atomic(&copy, &raw, false)?;
                        objects.push(pull, source, &key, size, "quarantined", Some(&r), None);
                        added.add_key(&source.name, &key);
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
                        let mut kept = 0;
                        let total = decoded.len();
                        for r in decoded {
                            let id = spec.id(&r);
                            if !ids.contains(id_table, &id)? && seen.insert(id) {
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
                        objects.push(pull, source, &key, size, status, None, single);
                        added.add_key(&source.name, &key);
                    }
                }
                if index.is_multiple_of(64) || index == chunk.len() {
                    progress.set_message(progress_message(listed, summary));
                }
            }
            drop((ids, seen));
            let (mut files, written) =
                write_records(warehouse, spec.as_ref(), source, &records, pull, batch)?;
            // The ids the id table now holds: what rebuilding the index from the files reads.
            for id in written {
                added.add_id(id_table, id);
            }
            if !objects.is_empty() {
                let rel = format!("objects/part-{pull:05}-{batch:05}.parquet");
                files.push(warehouse.write("objects", &rel, &objects.finish()?)?);
            }
            if !files.is_empty() {
                warehouse.commit(Commit { pull, batch, files }, added)?;
            }
        }
        progress.finish_and_clear();
        if folders != recorded {
            warehouse.set_folders(&source.name, &folders)?;
        }
        Ok(())
    }
}

/// The key of the folder that holds the object `key`.
fn folder_of(key: &str) -> &str {
    key.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// The table and column of each format's record ids, for the warehouse's index.
pub fn id_columns() -> Vec<(&'static str, &'static str)> {
    formats::FORMATS.iter().map(|f| f.id_column()).collect()
}

/// Fetched objects (outcome and size as stored), per task.
type Fetched = tokio::task::JoinHandle<Vec<(Outcome, u64)>>;
type JoinResult<T> = Result<T, tokio::task::JoinError>;

/// Objects of a local folder read and decoded per blocking task: a hand-off to the blocking
/// pool per object (as `LocalFileSystem::get` does) cost more than reading and decoding it
/// (perf: a fifth of a full pull was thread wake-ups).
const FOLDER_GROUP: usize = 64;

/// The tasks that fetch and decode `keys`, in order, and how many of them may run at once:
/// a store's objects one task each, `concurrency` at a time; a local folder's in groups, about
/// two groups per core (reading cached files is work for the CPU, not waiting).
fn fetches(
    bucket: &store::Bucket,
    keys: &[Path],
    spec: &Arc<dyn Spec>,
    concurrency: usize,
) -> (Box<dyn Iterator<Item = Fetched> + Send>, usize) {
    let spec = spec.clone();
    match bucket.folder() {
        None => {
            let store = bucket.store.clone();
            let keys = keys.to_vec();
            let tasks = keys.into_iter().map(move |key| {
                let (store, spec) = (store.clone(), spec.clone());
                tokio::spawn(async move { vec![fetch(store, key, spec).await] })
            });
            (Box::new(tasks), concurrency)
        }
        Some(root) => {
            let root = root.to_path_buf();
            let groups: Vec<Vec<Path>> = keys.chunks(FOLDER_GROUP).map(<[_]>::to_vec).collect();
            let tasks = groups.into_iter().map(move |group| {
                let (root, spec) = (root.clone(), spec.clone());
                tokio::task::spawn_blocking(move || {
                    group
                        .iter()
                        .map(|key| read_file(&root, key, spec.as_ref()))
                        .collect()
                })
            });
            let cores = std::thread::available_parallelism().map_or(2, usize::from);
            (Box::new(tasks), concurrency.min(2 * cores))
        }
    }
}

/// Reads one object of a local folder, as `LocalFileSystem` would GET it, and decodes it.
fn read_file(root: &std::path::Path, key: &Path, spec: &dyn Spec) -> (Outcome, u64) {
    let path = folder::file(root, key);
    let read = std::fs::File::open(&path).and_then(|mut f| {
        let meta = f.metadata()?;
        let mut raw = Vec::with_capacity(meta.len() as usize);
        f.read_to_end(&mut raw)?;
        let modified = meta
            .modified()
            .ok()
            .map(chrono::DateTime::<chrono::Utc>::from);
        Ok((raw, modified.and_then(|m| m.timestamp_nanos_opt())))
    });
    match read {
        Ok((raw, modified)) => {
            let size = raw.len() as u64;
            (decode(key, raw.into(), modified, spec), size)
        }
        Err(e) => (
            Outcome::Failed(format!("cannot read {}: {e}", path.display())),
            0,
        ),
    }
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
async fn fetch(store: Arc<dyn ObjectStore>, location: Path, spec: Arc<dyn Spec>) -> (Outcome, u64) {
    let mut attempt = 1;
    let (raw, last_modified) = loop {
        let got = match store.get(&location).await {
            Ok(r) => {
                let modified = r.meta.last_modified.timestamp_nanos_opt();
                r.bytes().await.map(|b| (b, modified))
            }
            Err(e) => Err(e),
        };
        match got {
            Ok(got) => break got,
            Err(e) if attempt < FETCH_ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt)).await;
                attempt += 1;
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

/// Gunzips and decodes one object's bytes; a rejected object keeps them for the quarantine.
fn decode(key: &Path, raw: bytes::Bytes, last_modified: Option<i64>, spec: &dyn Spec) -> Outcome {
    let info = ObjectInfo {
        key: key.as_ref(),
        last_modified,
    };
    match gunzip(&raw).and_then(|bytes| spec.decode(&info, &bytes)) {
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
        summary.quarantined_count(),
        summary.failed_count()
    )
}

/// Writes one file per table and date for the records of a batch, in date then table order;
/// also gives the ids written to the format's id table.
fn write_records(
    warehouse: &Warehouse,
    spec: &dyn Spec,
    source: &Source,
    records: &[(String, Record)],
    pull: u64,
    batch: u64,
) -> Result<(Vec<DataFile>, Vec<String>)> {
    let mut by_date: BTreeMap<String, Vec<Located<Record>>> = BTreeMap::new();
    for (key, r) in records {
        by_date.entry(spec.date(r)).or_default().push(Located {
            source: &source.name,
            key,
            record: r,
        });
    }
    let tables = spec.tables();
    let files: Vec<_> = by_date
        .iter()
        .flat_map(|(date, rows)| tables.iter().map(move |table| (date, rows, table)))
        .collect();
    // Encoding and writing a file is work for a core: one thread per core, each with a run
    // of the files, and the files listed in their order whichever thread wrote them.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let run = files.len().div_ceil(cores).max(1);
    let written = std::thread::scope(|scope| {
        let threads: Vec<_> = files
            .chunks(run)
            .map(|files| {
                scope.spawn(move || {
                    let (mut out, mut ids) = (Vec::new(), Vec::new());
                    for (date, rows, table) in files {
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
                            out.push(warehouse.write(table.name, &name, &batch)?);
                        }
                        let (id_table, id_column) = source.format.id_column();
                        if table.name == id_table {
                            let column = batch
                                .column_by_name(id_column)
                                .and_then(|c| c.as_string_opt::<i32>())
                                .with_context(|| {
                                    format!("{id_table} has no {id_column} strings")
                                })?;
                            ids.extend(column.iter().flatten().map(str::to_string));
                        }
                    }
                    Ok::<_, anyhow::Error>((out, ids))
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a writer panicked")))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let (files, ids): (Vec<_>, Vec<_>) = written.into_iter().unzip();
    Ok((
        files.into_iter().flatten().collect(),
        ids.into_iter().flatten().collect(),
    ))
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
            line.contains(&format!("{n} quarantined, {n} failed")),
            "{line}"
        );
        assert!(!summary.is_clean());
    }
}
