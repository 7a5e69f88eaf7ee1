//! The warehouse: Hive-partitioned Parquet files and the commits that say which files are
//! data, in a bucket (`s3://`, `gs://`, `az://`) or a local folder, laid out alike on every
//! store.
//!
//! ```text
//! <warehouse>/
//!   _commits/00000000000000000001.json           immutable, written create-only, numbered
//!   sessions/date=2023-08-14/c000001-b0001.parquet
//!   events/date=…/…   spans/date=…/…   (each format's tables)
//!   objects/c000001-b0001.parquet               one row per object a pull looked at
//!   quarantine/<source>/<key>                   raw copies of rejected objects
//! ```
//! The warehouse is its highest commit: each commit names the files it adds and removes, and
//! is written with a create-only put (`PutMode::Create`), so of two writers at the same
//! commit one wins and the other is told. Data files are written create-only too, before the
//! commit that names them: a file no commit names is invisible, and [`Warehouse::sweep`]
//! deletes it once it is older than the grace period (as it deletes files a compaction
//! removed, so a reader that started before still finds them).
//!
//! Readers never list data folders: [`view::Committed`] answers DataFusion's listings from
//! the commits, so a query reads exactly the committed files.

pub mod view;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::store::Bucket;

/// The folder of the commit log.
pub const COMMITS: &str = "_commits";
/// Attempts at a put beyond the first, after a failure in transit (object_store does not retry
/// a create-only put itself).
const PUT_ATTEMPTS: u32 = 5;
/// The version of the commit format this program writes and reads.
const COMMIT_FORMAT: u32 = 1;

/// One commit: the files it adds and removes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    pub format: u32,
    /// Its number: one more than the commit it was made on top of.
    pub commit: u64,
    /// `pull` or `compact`.
    pub kind: String,
    /// The fingerprint of the table schemas the added files were typed with.
    #[serde(default)]
    pub schemas: String,
    pub add: Vec<DataFile>,
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    pub table: String,
    /// Path relative to the warehouse root, `/`-separated.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
}

impl DataFile {
    /// The `date=` partition of the file, if its table has one.
    pub fn date(&self) -> Option<&str> {
        self.path.split('/').nth(1)?.strip_prefix("date=")
    }
}

/// Another writer committed first: the commit (or a data file) this one meant to write
/// exists. The caller re-reads the commits and tries again, or gives up saying so.
#[derive(Debug)]
pub struct Conflict {
    pub path: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} exists: another pull or compaction committed to the warehouse meanwhile",
            self.path
        )
    }
}

impl std::error::Error for Conflict {}

/// A committed file that is not as its commit says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The commit that added the file.
    pub commit: u64,
    pub table: String,
    pub path: String,
    /// `is missing`, `is N bytes, not the M its commit says`.
    pub problem: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "commit {}: {} (table {}) {}",
            self.commit, self.path, self.table, self.problem
        )
    }
}

pub struct Warehouse {
    bucket: Bucket,
    /// What the warehouse is, for messages (its URL without credentials).
    shown: String,
    version: u64,
    /// Committed files by path.
    files: BTreeMap<String, DataFile>,
    /// The commit that added each committed file.
    added_by: BTreeMap<String, u64>,
    /// Files a commit removed, with when that commit was written (the store's clock).
    removed: BTreeMap<String, DateTime<Utc>>,
    /// When the newest commit was written (the store's clock).
    newest: Option<DateTime<Utc>>,
    /// The schemas fingerprint of the newest commit that added files.
    schemas: String,
}

impl Warehouse {
    /// Opens the warehouse in `bucket` and reads its commits; `shown` names it in messages.
    pub async fn open(bucket: Bucket, shown: &str) -> Result<Warehouse> {
        let mut w = Warehouse {
            bucket,
            shown: shown.to_string(),
            version: 0,
            files: BTreeMap::new(),
            added_by: BTreeMap::new(),
            removed: BTreeMap::new(),
            newest: None,
            schemas: String::new(),
        };
        w.refresh().await?;
        Ok(w)
    }

    /// Reads the commits written since this warehouse was opened or last refreshed.
    pub async fn refresh(&mut self) -> Result<()> {
        let dir = self.bucket.path(COMMITS);
        let mut listed: Vec<(u64, Path, DateTime<Utc>)> = Vec::new();
        let metas = list_all(self.bucket.store.as_ref(), &dir)
            .await
            .with_context(|| format!("{}: cannot list the commits", self.shown))?;
        for meta in metas {
            let Some(n) = meta
                .location
                .filename()
                .and_then(|f| f.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if n > self.version {
                listed.push((n, meta.location, meta.last_modified));
            }
        }
        listed.sort_by_key(|(n, _, _)| *n);
        let highest = listed.last().map_or(0, |(n, _, _)| *n);
        let store = self.bucket.store.clone();
        let mut commits = futures::stream::iter(listed.into_iter().map(|(n, path, when)| {
            let store = store.clone();
            async move {
                let read = async {
                    ObjectStoreExt::get(store.as_ref(), &path)
                        .await?
                        .bytes()
                        .await
                };
                let bytes = read.await.map_err(|e| (n, e))?;
                Ok::<_, (u64, object_store::Error)>((n, path, when, bytes))
            }
        }))
        .buffered(16);
        while let Some(got) = commits.next().await {
            let (n, path, when, bytes) = got.map_err(|(n, e)| {
                anyhow::Error::new(e).context(format!(
                    "{}: cannot read commit {}",
                    self.shown,
                    commit_name(n)
                ))
            })?;
            // What to do about a commit that does not read as one.
            let recover = if n == highest {
                format!(
                    "it is the newest commit: delete {path} and pull again (its batch is pulled again, and the files it named are swept)"
                )
            } else {
                format!(
                    "restore {path} from a backup, or delete the commits from {n} on and pull again (the batches they held are pulled again)"
                )
            };
            if n != self.version + 1 {
                bail!(
                    "{}: commit {} is missing before {n} (the commit log is damaged; restore {} from a backup, or remove the commits from {n} on and pull again)",
                    self.shown,
                    self.version + 1,
                    commit_name(self.version + 1)
                );
            }
            let commit: Commit = serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{}: {path} is not a commit (the commit log is damaged; {recover})",
                    self.shown
                )
            })?;
            if commit.format != COMMIT_FORMAT || commit.commit != n {
                bail!(
                    "{}: {path} is commit {} of format {}, not commit {n} of format {COMMIT_FORMAT} (the commit log is damaged; {recover})",
                    self.shown,
                    commit.commit,
                    commit.format
                );
            }
            self.apply(&commit, when);
        }
        Ok(())
    }

    fn apply(&mut self, commit: &Commit, when: DateTime<Utc>) {
        for path in &commit.remove {
            self.files.remove(path);
            self.added_by.remove(path);
            self.removed.insert(path.clone(), when);
        }
        for f in &commit.add {
            self.removed.remove(&f.path);
            self.files.insert(f.path.clone(), f.clone());
            self.added_by.insert(f.path.clone(), commit.commit);
        }
        if !commit.add.is_empty() && commit.kind == "pull" {
            self.schemas = commit.schemas.clone();
        }
        self.version = commit.commit;
        self.newest = Some(self.newest.map_or(when, |n| n.max(when)));
    }

    /// The number of the highest commit (0: nothing committed yet).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// Sends every later request through `store` (the same bucket, bounded: see
    /// [`crate::store::Deadline`]); returns the store used until now.
    pub fn replace_store(&mut self, store: Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore> {
        std::mem::replace(&mut self.bucket.store, store)
    }

    /// The warehouse's URL without credentials, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The schemas fingerprint the newest pull typed its files with ("" before any).
    pub fn schemas(&self) -> &str {
        &self.schemas
    }

    /// Committed data files of `table`, in path order.
    pub fn files(&self, table: &str) -> Vec<&DataFile> {
        self.files.values().filter(|f| f.table == table).collect()
    }

    /// Every committed data file, in path order.
    pub fn all_files(&self) -> impl Iterator<Item = &DataFile> {
        self.files.values()
    }

    /// The store DataFusion reads the warehouse through: listings answered from the commits.
    pub fn view(&self) -> Arc<dyn ObjectStore> {
        Arc::new(view::Committed::new(
            self.bucket.store.clone(),
            self.files.values().map(|f| {
                let file = view::File {
                    size: f.bytes,
                    table: f.table.clone(),
                    path: f.path.clone(),
                };
                (self.bucket.path(&f.path), file)
            }),
            &self.shown,
        ))
    }

    /// Every committed file that is missing, or not of the size its commit says, with the
    /// commit that added it: what `report verify` prints. Files are looked at with a HEAD, 16
    /// at a time.
    pub async fn verify(&self) -> Result<Vec<Damage>> {
        let store = self.bucket.store.clone();
        let mut heads = futures::stream::iter(self.files.values().map(|f| {
            let (store, location) = (store.clone(), self.bucket.path(&f.path));
            async move { (f, store.head(&location).await) }
        }))
        .buffered(16);
        let mut damaged = Vec::new();
        while let Some((f, head)) = heads.next().await {
            let problem = match head {
                Ok(meta) if meta.size == f.bytes => continue,
                Ok(meta) => format!(
                    "is {} bytes, not the {} its commit says",
                    meta.size, f.bytes
                ),
                Err(object_store::Error::NotFound { .. }) => "is missing".to_string(),
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("{}: cannot look at {}", self.shown, f.path));
                }
            };
            damaged.push(Damage {
                commit: self.added_by.get(&f.path).copied().unwrap_or_default(),
                table: f.table.clone(),
                path: f.path.clone(),
                problem,
            });
        }
        damaged.sort_by(|a, b| (a.commit, &a.path).cmp(&(b.commit, &b.path)));
        Ok(damaged)
    }

    /// The URL of `table`'s folder, as DataFusion registers it.
    pub fn table_url(&self, table: &str) -> String {
        let base = self.bucket.url.as_str().trim_end_matches('/');
        let path = self.bucket.path(table);
        format!("{base}/{path}/")
    }

    /// Writes `batch` as Parquet at `rel`, create-only. The file is not data until a commit
    /// names it. When `rel` exists (left by a writer that stopped before its commit, or being
    /// written by one at the same commit), the file goes to `rel` with `-2`, `-3`, … before
    /// its extension instead: nothing another writer wrote is ever replaced.
    pub async fn write(&self, table: &str, rel: &str, batch: &RecordBatch) -> Result<DataFile> {
        self.write_batches(table, rel, batch.schema(), std::slice::from_ref(batch))
            .await
    }

    async fn write_batches(
        &self,
        table: &str,
        rel: &str,
        schema: SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<DataFile> {
        let props = WriterProperties::builder()
            // Snappy: a pull writes many small files, and zstd spent more time creating its
            // contexts than compressing.
            .set_compression(Compression::SNAPPY)
            .set_created_by(concat!("report ", env!("CARGO_PKG_VERSION")).to_string())
            .build();
        let mut buf = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut buf, schema, Some(props))?;
        let mut rows = 0;
        for b in batches {
            writer.write(b)?;
            rows += b.num_rows() as u64;
        }
        writer.close()?;
        let bytes = buf.len() as u64;
        let buf = bytes::Bytes::from(buf);
        let (stem, ext) = rel.rsplit_once('.').unwrap_or((rel, ""));
        for attempt in 1..=1000u32 {
            let name = match attempt {
                1 => rel.to_string(),
                n => format!("{stem}-{n}.{ext}"),
            };
            match self.put_create(&name, buf.clone()).await {
                Ok(()) => {
                    return Ok(DataFile {
                        table: table.to_string(),
                        path: name,
                        rows,
                        bytes,
                    });
                }
                Err(e) if e.downcast_ref::<Conflict>().is_some() => continue,
                Err(e) => return Err(e),
            }
        }
        bail!("{}: {rel} and 999 names after it exist", self.shown)
    }

    /// Puts `bytes` at `rel` unless something is there already ([`Conflict`]). A put that
    /// fails in transit is tried again; when the retry finds the object there, it is this
    /// put's if it holds the same bytes (the first try landed, its answer did not).
    async fn put_create(&self, rel: &str, bytes: impl Into<bytes::Bytes>) -> Result<()> {
        let bytes: bytes::Bytes = bytes.into();
        let path = self.bucket.path(rel);
        let mut attempt = 0u32;
        loop {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            match self
                .bucket
                .store
                .put_opts(&path, PutPayload::from(bytes.clone()), opts)
                .await
            {
                Ok(_) => return Ok(()),
                Err(
                    object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. },
                ) => {
                    if attempt > 0 {
                        let there = ObjectStoreExt::get(self.bucket.store.as_ref(), &path)
                            .await
                            .map(|r| r.bytes());
                        if let Ok(got) = there
                            && got.await.is_ok_and(|b| b == bytes)
                        {
                            return Ok(());
                        }
                    }
                    return Err(Conflict {
                        path: rel.to_string(),
                    }
                    .into());
                }
                Err(object_store::Error::Generic { .. }) if attempt < PUT_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("{}: cannot write {rel}", self.shown));
                }
            }
        }
    }

    /// Commits `add` and `remove` as the next commit, create-only: a [`Conflict`] when another
    /// writer committed first (nothing of this commit is then data).
    pub async fn commit(
        &mut self,
        kind: &str,
        schemas: &str,
        add: Vec<DataFile>,
        remove: Vec<String>,
    ) -> Result<u64> {
        let commit = Commit {
            format: COMMIT_FORMAT,
            commit: self.version + 1,
            kind: kind.to_string(),
            schemas: schemas.to_string(),
            add,
            remove,
        };
        let mut bytes = serde_json::to_vec_pretty(&commit)?;
        bytes.push(b'\n');
        let rel = format!("{COMMITS}/{}", commit_name(commit.commit));
        self.put_create(&rel, bytes).await?;
        let when = self
            .bucket
            .store
            .head(&self.bucket.path(&rel))
            .await
            .map(|m| m.last_modified)
            .with_context(|| format!("{}: cannot read back {rel}", self.shown))?;
        self.apply(&commit, when);
        Ok(commit.commit)
    }

    /// Puts the raw bytes of a quarantined object under `quarantine/<source>/<key>`.
    pub async fn quarantine(&self, source: &str, key: &str, bytes: bytes::Bytes) -> Result<()> {
        let rel = format!("quarantine/{source}/{key}");
        self.bucket
            .store
            .put(&self.bucket.path(&rel), PutPayload::from(bytes))
            .await
            .with_context(|| format!("{}: cannot write {rel}", self.shown))?;
        Ok(())
    }

    /// Reads every row of one committed file.
    pub async fn read(&self, f: &DataFile) -> Result<Vec<RecordBatch>> {
        let bytes = self
            .bucket
            .store
            .get(&self.bucket.path(&f.path))
            .await
            .with_context(|| format!("{}: committed file {} is missing", self.shown, f.path))?
            .bytes()
            .await
            .with_context(|| format!("{}: cannot read {}", self.shown, f.path))?;
        if bytes.len() as u64 != f.bytes {
            bail!(
                "{}: committed file {} of table {} is {} bytes, not the {} its commit says",
                self.shown,
                f.path,
                f.table,
                bytes.len(),
                f.bytes
            );
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .with_context(|| format!("{}: {} is not Parquet", self.shown, f.path))?
            .build()?;
        reader
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{}: cannot read {}", self.shown, f.path))
    }

    /// String columns of every committed file of `table`, row by row (null as "").
    pub async fn read_strings(&self, table: &str, columns: &[&str]) -> Result<Vec<Vec<String>>> {
        let mut rows = Vec::new();
        for f in self.files(table) {
            for b in self.read(f).await? {
                let cols = columns
                    .iter()
                    .map(|c| {
                        let col = b.column_by_name(c).with_context(|| {
                            format!("{}: {} has no column {c}", self.shown, f.path)
                        })?;
                        Ok(datafusion::arrow::compute::cast(col, &DataType::Utf8)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                for i in 0..b.num_rows() {
                    rows.push(
                        cols.iter()
                            .map(|c| {
                                use datafusion::arrow::array::AsArray;
                                let a = c.as_string::<i32>();
                                if a.is_null(i) {
                                    String::new()
                                } else {
                                    a.value(i).to_string()
                                }
                            })
                            .collect(),
                    );
                }
            }
        }
        Ok(rows)
    }

    /// Merges the small files of each partition (day) of each table into files of about
    /// `target_bytes`, in one commit that adds the merged files and removes the small ones.
    pub async fn compact(&mut self, target_bytes: u64) -> Result<Compacted> {
        let mut groups: BTreeMap<(String, String), Vec<DataFile>> = BTreeMap::new();
        for f in self.files.values() {
            if f.bytes < target_bytes {
                let part = f.date().unwrap_or("").to_string();
                groups
                    .entry((f.table.clone(), part))
                    .or_default()
                    .push(f.clone());
            }
        }
        let next = self.version + 1;
        let (mut add, mut remove) = (Vec::new(), Vec::new());
        for ((table, date), small) in groups.into_iter().filter(|(_, g)| g.len() > 1) {
            let mut batches = Vec::new();
            for f in &small {
                batches.extend(self.read(f).await?);
            }
            let Some(schema) = batches.first().map(|b| b.schema()) else {
                continue;
            };
            // Split where the merged data passes the target (by the small files' sizes).
            let total: u64 = small.iter().map(|f| f.bytes).sum();
            let parts = total.div_ceil(target_bytes).max(1) as usize;
            let per_part = batches
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>()
                .div_ceil(parts)
                .max(1);
            let mut merged = datafusion::arrow::compute::concat_batches(&schema, &batches)?;
            // The read batches are not needed once merged: freed before `newest_per_object`
            // copies the rows again (not measured to lower the peak: bench/BENCHMARKS.md, (e)).
            drop(batches);
            if table == "objects" {
                merged = newest_per_object(&merged)?;
            }
            let rows = merged.num_rows();
            for (i, start) in (0..rows).step_by(per_part).enumerate() {
                let slice = merged.slice(start, per_part.min(rows - start));
                let rel = match date.as_str() {
                    "" => format!("{table}/c{next:06}-m{:04}.parquet", i + 1),
                    d => format!("{table}/date={d}/c{next:06}-m{:04}.parquet", i + 1),
                };
                add.push(
                    self.write_batches(&table, &rel, schema.clone(), &[slice])
                        .await?,
                );
            }
            remove.extend(small.into_iter().map(|f| f.path));
        }
        let out = Compacted {
            added: add.len(),
            removed: remove.len(),
        };
        if !remove.is_empty() {
            let schemas = self.schemas.clone();
            self.commit("compact", &schemas, add, remove).await?;
        }
        Ok(out)
    }

    /// Deletes data files no commit names: those a commit removed more than `grace` before
    /// the newest commit, and those no commit ever named (left by a writer that stopped before
    /// its commit) written more than `grace` before it. Both clocks are the store's.
    pub async fn sweep(&self, grace: chrono::Duration) -> Result<usize> {
        let Some(newest) = self.newest else {
            return Ok(0);
        };
        let cutoff = newest - grace;
        let mut doomed = Vec::new();
        let metas = list_all(self.bucket.store.as_ref(), &self.bucket.prefix)
            .await
            .with_context(|| format!("{}: cannot list its files", self.shown))?;
        for meta in metas {
            let Some(rel) = self.bucket.rel(&meta.location) else {
                continue;
            };
            // Data files and what a writer stopped mid-put left beside them (object_store's
            // local staging files); commits themselves and quarantined objects stay.
            let a_commit = rel.strip_prefix(&format!("{COMMITS}/")).is_some_and(|n| {
                n.strip_suffix(".json")
                    .is_some_and(|n| n.parse::<u64>().is_ok())
            });
            if a_commit || rel.starts_with("quarantine/") || self.files.contains_key(rel) {
                continue;
            }
            let since = self.removed.get(rel).copied().unwrap_or(meta.last_modified);
            if since <= cutoff {
                doomed.push(meta.location);
            }
        }
        let staging = self.local_staging(cutoff);
        let n = doomed.len() + staging;
        let store = self.bucket.store.clone();
        futures::stream::iter(doomed)
            .map(|p| {
                let store = store.clone();
                async move { store.delete(&p).await.map(|_| p) }
            })
            .buffer_unordered(16)
            .try_collect::<Vec<_>>()
            .await
            .with_context(|| format!("{}: cannot delete a file no commit names", self.shown))?;
        Ok(n)
    }

    /// A local warehouse only: deletes what object_store's `LocalFileSystem` left of a put that
    /// was stopped (`NAME#N` staging files, which its listings leave out), written before
    /// `cutoff`. Gives how many.
    fn local_staging(&self, cutoff: DateTime<Utc>) -> usize {
        let Some(folder) = &self.bucket.folder else {
            return 0;
        };
        let mut n = 0;
        let mut stack = vec![folder.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_dir() {
                    if !path.ends_with("quarantine") {
                        stack.push(path);
                    }
                    continue;
                }
                let staged = e.file_name().to_str().is_some_and(|n| n.contains('#'));
                let old = meta
                    .modified()
                    .is_ok_and(|m| DateTime::<Utc>::from(m) <= cutoff);
                if staged && old && std::fs::remove_file(&path).is_ok() {
                    n += 1;
                }
            }
        }
        n
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compacted {
    pub added: usize,
    pub removed: usize,
}

/// Every object under `prefix`; a listing cut off in transit is started again, a few times.
async fn list_all(
    store: &dyn ObjectStore,
    prefix: &Path,
) -> object_store::Result<Vec<object_store::ObjectMeta>> {
    let mut attempt = 0u32;
    loop {
        match store.list(Some(prefix)).try_collect::<Vec<_>>().await {
            Err(object_store::Error::Generic { .. }) if attempt < PUT_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// The rows of `objects` less those an object's newer row (a higher `pull`) replaces.
fn newest_per_object(batch: &RecordBatch) -> Result<RecordBatch> {
    use datafusion::arrow::array::{AsArray, BooleanArray};
    use datafusion::arrow::datatypes::Int64Type;
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .with_context(|| format!("objects has no {name} column"))
    };
    let pull = column("pull")?.as_primitive::<Int64Type>().clone();
    let source = datafusion::arrow::compute::cast(column("source")?, &DataType::Utf8)?;
    let key = datafusion::arrow::compute::cast(column("key")?, &DataType::Utf8)?;
    let (source, key) = (source.as_string::<i32>(), key.as_string::<i32>());
    let mut newest: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::new();
    for i in 0..batch.num_rows() {
        let id = (source.value(i), key.value(i));
        match newest.get(&id) {
            Some(&j) if pull.value(j) > pull.value(i) => {}
            _ => {
                newest.insert(id, i);
            }
        }
    }
    if newest.len() == batch.num_rows() {
        return Ok(batch.clone());
    }
    let mut keep = vec![false; batch.num_rows()];
    for i in newest.into_values() {
        keep[i] = true;
    }
    Ok(datafusion::arrow::compute::filter_record_batch(
        batch,
        &BooleanArray::from(keep),
    )?)
}

fn commit_name(n: u64) -> String {
    format!("{n:020}.json")
}

/// One row per object the pulls have looked at: what became of it and why, and the
/// fingerprint of the source's configuration that looked at it (a quarantined object is
/// looked at again when the configuration changes). Looked at again, an object's newest row
/// replaces its older ones when the table is compacted.
pub fn objects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("pull", DataType::Int64, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, false),
        Field::new("size", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, true),
        Field::new("session_id", DataType::Utf8, true),
        Field::new("date", DataType::Utf8, true),
        Field::new("config", DataType::Utf8, true),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, StringArray};
    use object_store::memory::InMemory;

    fn bucket(store: &Arc<InMemory>) -> Bucket {
        let mut b = Bucket::new(store.clone(), Path::from("wh"));
        b.root = Path::from("wh");
        b
    }

    fn batch(values: &[&str]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(values.to_vec()))])
            .expect("batch")
    }

    async fn values(w: &Warehouse, table: &str) -> Vec<String> {
        let mut out: Vec<String> = w
            .read_strings(table, &["v"])
            .await
            .expect("read")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        out.sort();
        out
    }

    #[tokio::test]
    async fn of_two_writers_at_one_commit_one_wins_and_the_other_is_told() {
        let store = Arc::new(InMemory::new());
        let mut a = Warehouse::open(bucket(&store), "wh").await.expect("open");
        let mut b = Warehouse::open(bucket(&store), "wh").await.expect("open");
        let fa = a
            .write("t", "t/a.parquet", &batch(&["a"]))
            .await
            .expect("write");
        let fb = b
            .write("t", "t/b.parquet", &batch(&["b"]))
            .await
            .expect("write");
        assert_eq!(a.commit("pull", "", vec![fa], vec![]).await.expect("a"), 1);
        let err = b
            .commit("pull", "", vec![fb.clone()], vec![])
            .await
            .expect_err("b loses");
        assert!(err.downcast_ref::<Conflict>().is_some(), "{err:#}");
        // A data file is create-only too: a second writer's goes beside it.
        let beside = b
            .write("t", "t/a.parquet", &batch(&["x"]))
            .await
            .expect("write");
        assert_eq!(beside.path, "t/a-2.parquet");
        // On top of what won, b commits as the next number.
        b.refresh().await.expect("refresh");
        assert_eq!(b.commit("pull", "", vec![fb], vec![]).await.expect("b"), 2);
        let reader = Warehouse::open(bucket(&store), "wh").await.expect("open");
        assert_eq!(reader.version(), 2);
        assert_eq!(values(&reader, "t").await, ["a", "b"]);
    }

    #[tokio::test]
    async fn a_file_no_commit_names_is_not_data_and_is_swept_after_the_grace_period() {
        let store = Arc::new(InMemory::new());
        let mut w = Warehouse::open(bucket(&store), "wh").await.expect("open");
        let kept = w
            .write("t", "t/kept.parquet", &batch(&["k"]))
            .await
            .expect("write");
        w.write("t", "t/stray.parquet", &batch(&["s"]))
            .await
            .expect("write");
        w.commit("pull", "", vec![kept], vec![])
            .await
            .expect("commit");
        let listed: Vec<String> =
            futures::TryStreamExt::try_collect::<Vec<_>>(w.view().list(Some(&Path::from("wh/t"))))
                .await
                .expect("list")
                .into_iter()
                .map(|m| m.location.to_string())
                .collect();
        assert_eq!(listed, ["wh/t/kept.parquet"]);
        assert_eq!(w.sweep(chrono::Duration::hours(1)).await.expect("sweep"), 0);
        assert_eq!(w.sweep(chrono::Duration::zero()).await.expect("sweep"), 1);
        assert!(store.head(&Path::from("wh/t/stray.parquet")).await.is_err());
        assert!(store.head(&Path::from("wh/t/kept.parquet")).await.is_ok());
    }

    #[tokio::test]
    async fn compaction_merges_a_days_small_files_in_one_commit() {
        let store = Arc::new(InMemory::new());
        let mut w = Warehouse::open(bucket(&store), "wh").await.expect("open");
        let mut files = Vec::new();
        for (i, v) in ["a", "b", "c"].iter().enumerate() {
            let rel = format!("t/date=2023-06-01/c{i}.parquet");
            files.push(w.write("t", &rel, &batch(&[v])).await.expect("write"));
        }
        files.push(
            w.write("t", "t/date=2023-06-02/c9.parquet", &batch(&["d"]))
                .await
                .expect("write"),
        );
        w.commit("pull", "s1", files, vec![]).await.expect("commit");
        let done = w.compact(64 << 20).await.expect("compact");
        assert_eq!((done.added, done.removed), (1, 3));
        let day: Vec<&str> = w.files("t").iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            day,
            [
                "t/date=2023-06-01/c000002-m0001.parquet",
                "t/date=2023-06-02/c9.parquet"
            ]
        );
        assert_eq!(values(&w, "t").await, ["a", "b", "c", "d"]);
        // Nothing left to merge: no commit.
        assert_eq!(
            w.compact(64 << 20).await.expect("again"),
            Compacted::default()
        );
        assert_eq!(w.version(), 2);
        // A reader of the old commit still finds its files until the grace period is over.
        assert_eq!(w.sweep(chrono::Duration::hours(1)).await.expect("sweep"), 0);
        assert_eq!(w.sweep(chrono::Duration::zero()).await.expect("sweep"), 3);
        let fresh = Warehouse::open(bucket(&store), "wh").await.expect("open");
        assert_eq!(values(&fresh, "t").await, ["a", "b", "c", "d"]);
        assert_eq!(fresh.schemas(), "s1");
        let b = fresh.read(fresh.files("t")[0]).await.expect("read");
        assert_eq!(b[0].column(0).as_string::<i32>().value(0), "a");
    }

    #[tokio::test]
    async fn a_gap_in_the_commits_is_an_error_naming_the_missing_one() {
        let store = Arc::new(InMemory::new());
        let mut w = Warehouse::open(bucket(&store), "wh").await.expect("open");
        for _ in 0..3 {
            w.commit("pull", "", vec![], vec![]).await.expect("commit");
        }
        store
            .delete(&Path::from("wh/_commits/00000000000000000002.json"))
            .await
            .expect("delete");
        let err = Warehouse::open(bucket(&store), "wh")
            .await
            .err()
            .expect("a gap");
        let text = format!("{err:#}");
        assert!(text.contains("commit 2 is missing"), "{text}");
    }
}
