//! The warehouse: a folder of Hive-partitioned Parquet tables and the manifest that says
//! which files are data.
//!
//! ```text
//! warehouse/
//!   manifest.json                                  written last, atomically, per committed batch
//!   sessions/date=2023-08-14/part-00001-00001.parquet
//!   events/date=…/…   spans/date=…/…
//!   objects/part-00001-00001.parquet               one row per object a pull looked at
//!   quarantine/<source>/<key>                      raw copies of rejected objects
//!   index.redb                                     keys and ids pulls look up (see [`index`])
//! ```
//! Only files named by the manifest are data. A file that is not (left by a run killed before
//! its commit) is debris: [`Warehouse::open`] removes it, so queries never read half a pull.
//!
//! A pull leaves a `pulling` marker from its start until its files are on disk, and holds a
//! lock on it meanwhile (a second pull on the same warehouse is refused). Only a warehouse with
//! an unlocked marker (a pull killed, failed, or cut off by a power loss) is walked and checked
//! when it opens: opening after a clean pull reads the manifest alone, and opening during
//! another process's pull reads what it has committed and touches nothing.

pub mod index;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

pub const MANIFEST: &str = "manifest.json";
/// Present from the start of a pull until everything it wrote is on disk.
const PULLING: &str = "pulling";
const MANIFEST_FORMAT: u32 = 1;

/// Every table folder the warehouse holds.
pub const TABLES: [&str; 4] = ["sessions", "events", "spans", "objects"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// One entry per committed batch of a pull, in commit order.
    pub commits: Vec<Commit>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    pub pull: u64,
    pub batch: u64,
    pub files: Vec<DataFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    pub table: String,
    /// Path relative to the warehouse root, `/`-separated.
    pub path: String,
    pub rows: u64,
    /// Size in bytes: a file that is shorter after a power cut is caught when the warehouse opens.
    #[serde(default)]
    pub bytes: u64,
}

pub struct Warehouse {
    root: PathBuf,
    manifest: Manifest,
    /// The locked marker, while this process pulls.
    pulling: Option<fs::File>,
    /// The pull's index, once a pull asked for it; every commit updates it.
    index: Option<index::Index>,
}

impl Warehouse {
    /// Opens (creating if needed) the warehouse at `root` and reads its manifest; after an
    /// interrupted pull, also drops commits whose files did not reach the disk and removes
    /// debris.
    pub fn open(root: &Path) -> Result<Warehouse> {
        for t in TABLES {
            fs::create_dir_all(root.join(t)).with_context(|| {
                format!("cannot create warehouse folder {}", root.join(t).display())
            })?;
        }
        let manifest_path = root.join(MANIFEST);
        let manifest = match fs::read(&manifest_path) {
            Ok(bytes) => {
                let m: Manifest = serde_json::from_slice(&bytes)
                    .with_context(|| format!("corrupt manifest {}", manifest_path.display()))?;
                if m.format != MANIFEST_FORMAT {
                    bail!(
                        "{}: manifest format {} is not the {} this version reads",
                        manifest_path.display(),
                        m.format,
                        MANIFEST_FORMAT
                    );
                }
                m
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest {
                format: MANIFEST_FORMAT,
                commits: Vec::new(),
            },
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", manifest_path.display()));
            }
        };
        let mut w = Warehouse {
            root: root.to_path_buf(),
            manifest,
            pulling: None,
            index: None,
        };
        let marker = root.join(PULLING);
        if marker.exists() {
            // Locked: another process is pulling; its uncommitted files are not debris.
            if let Some(lock) = lock(&marker, false)? {
                w.pulling = Some(lock);
                let on_disk = w.files_on_disk()?;
                w.drop_incomplete_commits(&on_disk)?;
                w.sweep(&on_disk)?;
                w.end_pull()?;
            }
        }
        Ok(w)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Data files of `table`, in commit order.
    pub fn files(&self, table: &str) -> Vec<&DataFile> {
        self.manifest
            .commits
            .iter()
            .flat_map(|c| &c.files)
            .filter(|f| f.table == table)
            .collect()
    }

    /// The number the next pull gets.
    pub fn next_pull(&self) -> u64 {
        self.manifest
            .commits
            .iter()
            .map(|c| c.pull)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Marks a pull as started, durably, before it writes anything: until
    /// [`Warehouse::end_pull`], the next open checks the warehouse. Refused while another
    /// process pulls into it.
    pub fn begin_pull(&mut self) -> Result<()> {
        let marker = self.root.join(PULLING);
        let Some(mut f) = lock(&marker, true)? else {
            bail!(
                "another pull is writing to the warehouse {} (it holds {})",
                self.root.display(),
                marker.display()
            );
        };
        f.set_len(0)
            .and_then(|_| f.write_all(b"a pull started and has not finished\n"))
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", marker.display()))?;
        sync_dir(&self.root)?;
        self.pulling = Some(f);
        Ok(())
    }

    /// The marker a pull writes as it starts (see [`Warehouse::begin_pull`]).
    pub fn pull_marker(&self) -> PathBuf {
        self.root.join(PULLING)
    }

    /// The index a pull looks keys and ids up in (see [`index`]), opened and brought up to date
    /// with the manifest on first use; `id_columns` names the table and column of each
    /// format's record ids.
    pub fn index(&mut self, id_columns: &[(&str, &str)]) -> Result<&index::Index> {
        if self.index.is_none() {
            self.index = Some(index::Index::open(self, id_columns)?);
        }
        Ok(self.index.as_ref().expect("opened above"))
    }

    /// Ends a pull: flushes what it wrote to disk, then removes the marker and its lock.
    pub fn end_pull(&mut self) -> Result<()> {
        // Closes the index (each commit was durable), and its lock.
        self.index = None;
        flush(&self.root, &self.last_pull_files())?;
        remove_if_present(&self.root.join(PULLING))?;
        self.pulling = None;
        Ok(())
    }

    /// Data files of the most recent pull.
    fn last_pull_files(&self) -> Vec<&DataFile> {
        let last = self.next_pull() - 1;
        self.manifest
            .commits
            .iter()
            .filter(|c| c.pull == last)
            .flat_map(|c| &c.files)
            .collect()
    }

    /// Data files are not flushed to disk one by one (that cost most of a pull's time) but
    /// once, when the pull ends; the manifest is flushed per commit. A process killed at any
    /// point loses nothing, as the page cache survives it; after a power cut mid-pull a
    /// committed file may come back short or missing. Such a commit, and every later one, is
    /// dropped here, so their objects are pulled again.
    fn drop_incomplete_commits(&mut self, on_disk: &BTreeMap<String, u64>) -> Result<()> {
        let intact = |f: &DataFile| match on_disk.get(&f.path) {
            Some(&len) => f.bytes == 0 || len == f.bytes,
            None => false,
        };
        let Some(first_bad) = self
            .manifest
            .commits
            .iter()
            .position(|c| !c.files.iter().all(intact))
        else {
            return Ok(());
        };
        let dropped = self.manifest.commits.len() - first_bad;
        crate::messages::warn(format_args!(
            "warehouse: {} commit(s) from pull {} on have missing or short files (a power cut?); dropping them, the next pull fetches their objects again",
            dropped, self.manifest.commits[first_bad].pull
        ));
        // The index covers the dropped commits: removed first, so that it cannot outlive them
        // (a later pull could commit others the same size under the same names).
        remove_if_present(&self.root.join(index::INDEX))?;
        sync_dir(&self.root)?;
        let mut kept = self.manifest.clone();
        kept.commits.truncate(first_bad);
        self.save(kept)
    }

    fn save(&mut self, manifest: Manifest) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(&manifest)?;
        bytes.push(b'\n');
        write_atomic(&self.root.join(MANIFEST), &bytes, true)?;
        self.manifest = manifest;
        Ok(())
    }

    /// Every file under the table folders (whichever format wrote them; `quarantine/` holds
    /// no data files), by path relative to the root, with its size.
    fn files_on_disk(&self) -> Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for entry in fs::read_dir(&self.root)
            .with_context(|| format!("cannot list {}", self.root.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_dir() && entry.file_name() != "quarantine" {
                let name = entry.file_name().to_string_lossy().into_owned();
                walk(&entry.path(), &name, &mut out)?;
            }
        }
        Ok(out)
    }

    /// Removes every file of `on_disk` that the manifest does not name.
    fn sweep(&self, on_disk: &BTreeMap<String, u64>) -> Result<()> {
        let known: HashSet<&str> = self
            .manifest
            .commits
            .iter()
            .flat_map(|c| c.files.iter().map(|f| f.path.as_str()))
            .collect();
        for rel in on_disk.keys().filter(|rel| !known.contains(rel.as_str())) {
            let path = self.root.join(rel);
            fs::remove_file(&path)
                .with_context(|| format!("cannot remove debris {}", path.display()))?;
        }
        Ok(())
    }

    /// Writes `batch` as Parquet at `rel` (atomically: temporary file, then rename).
    /// The file is not data until [`Warehouse::commit`] names it.
    pub fn write(&self, table: &str, rel: &str, batch: &RecordBatch) -> Result<DataFile> {
        let props = WriterProperties::builder()
            // Snappy: a pull writes many small files, and zstd spent more time creating its
            // contexts than compressing (perf: 8 % of a 100,000-object pull).
            .set_compression(Compression::SNAPPY)
            .set_created_by(concat!("report ", env!("CARGO_PKG_VERSION")).to_string())
            .build();
        let mut buf = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
        writer.write(batch)?;
        writer.close()?;
        let path = self.root.join(rel);
        write_atomic(&path, &buf, false)?;
        Ok(DataFile {
            table: table.to_string(),
            path: rel.to_string(),
            rows: batch.num_rows() as u64,
            bytes: buf.len() as u64,
        })
    }

    /// Makes `files` data: rewrites the manifest with them added, atomically; then adds
    /// `keys_and_ids` (what the commit's files hold) to the index, when it is open.
    pub fn commit(&mut self, commit: Commit, keys_and_ids: index::Batch) -> Result<()> {
        let mut next = self.manifest.clone();
        next.commits.push(commit);
        self.save(next)?;
        if let Some(index) = &mut self.index {
            index.commit(keys_and_ids, &self.manifest.commits)?;
        }
        Ok(())
    }

    /// Records the folders of `source`'s bucket that need not be read again (see
    /// `pull::folder`), in the index; they hold only while every key they name is in it.
    pub fn set_folders(&mut self, source: &str, folders: &BTreeMap<String, Vec<u8>>) -> Result<()> {
        let index = self
            .index
            .as_mut()
            .context("the index is not open: its folders cannot be recorded")?;
        index.set_folders(source, folders)
    }

    /// Reads string columns from every data file of `table`, one call per row (null as "").
    pub fn read_strings(
        &self,
        table: &str,
        columns: &[&str],
        mut each: impl FnMut(&[&str]),
    ) -> Result<()> {
        for f in self.files(table) {
            self.read_file_strings(f, columns, &mut each)?;
        }
        Ok(())
    }

    /// Reads string columns of one data file, one call per row (null as ""), a record batch
    /// at a time.
    pub fn read_file_strings(
        &self,
        f: &DataFile,
        columns: &[&str],
        mut each: impl FnMut(&[&str]),
    ) -> Result<()> {
        let path = self.root.join(&f.path);
        let file = fs::File::open(&path)
            .with_context(|| format!("cannot open warehouse file {}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(|| format!("cannot read Parquet {}", path.display()))?;
        let mut indices = Vec::with_capacity(columns.len());
        for c in columns {
            indices.push(
                builder
                    .schema()
                    .index_of(c)
                    .with_context(|| format!("{}: no column {c}", path.display()))?,
            );
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
        for batch in builder.with_projection(mask).build()? {
            let batch = batch.with_context(|| format!("cannot read Parquet {}", path.display()))?;
            // The projection keeps file order; map each asked column to its place.
            let cols: Vec<&StringArray> = columns
                .iter()
                .map(|c| Ok(batch.column(batch.schema().index_of(c)?).as_string::<i32>()))
                .collect::<Result<_>>()?;
            let mut row = vec![""; columns.len()];
            for r in 0..batch.num_rows() {
                for (slot, col) in row.iter_mut().zip(&cols) {
                    *slot = if col.is_null(r) { "" } else { col.value(r) };
                }
                each(&row);
            }
        }
        Ok(())
    }

    /// First and last `date` partition holding sessions, if any.
    pub fn date_range(&self) -> Option<(String, String)> {
        let dates: BTreeSet<&str> = self
            .files("sessions")
            .into_iter()
            .filter_map(|f| f.path.split('/').nth(1)?.strip_prefix("date="))
            .collect();
        Some((dates.first()?.to_string(), dates.last()?.to_string()))
    }
}

/// Writes via a temporary file in the same folder and a rename, so readers see all or nothing;
/// `durable` also flushes the file to disk before the rename (the manifest, the commit point).
pub fn write_atomic(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().context("path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .context("path has no file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f =
        fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| if durable { f.sync_all() } else { Ok(()) })
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot rename into {}", path.display()))?;
    Ok(())
}

/// Removes the file at `path`, if there is one.
pub(crate) fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Flushes the folder `dir` (the names in it) to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot flush {}", dir.display()))
}

/// Opens the pull marker (creating it if `create`) and locks it; `None` when another process
/// holds the lock.
fn lock(marker: &Path, create: bool) -> Result<Option<fs::File>> {
    let f = match fs::OpenOptions::new()
        .create(create)
        .truncate(false)
        .write(true)
        .open(marker)
    {
        Ok(f) => f,
        // Removed by the pull that held it, since it was seen.
        Err(e) if !create && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", marker.display())),
    };
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", marker.display()))
        }
    }
}

/// Gets `files` (under `root`) to disk. On Linux, one `syncfs` of the warehouse's file system
/// (87 ms after a pull of 102,000 objects, where an fsync per file took most of its time);
/// elsewhere, an fsync per file.
fn flush(root: &Path, files: &[&DataFile]) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        let dir =
            fs::File::open(root).with_context(|| format!("cannot open {}", root.display()))?;
        rustix::fs::syncfs(&dir).with_context(|| format!("cannot flush {}", root.display()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        for f in files {
            let path = root.join(&f.path);
            fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot flush {}", path.display()))?;
        }
        Ok(())
    }
}

/// Adds the files below `dir` (whose path relative to the root is `rel`) to `out`, with
/// their sizes (a `stat` relative to the open folder, not a path walk from `/` per file).
fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, u64>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let path = format!("{rel}/{}", entry.file_name().to_string_lossy());
        let meta = entry
            .metadata()
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        if meta.is_dir() {
            walk(&entry.path(), &path, out)?;
        } else {
            out.insert(path, meta.len());
        }
    }
    Ok(())
}

/// One row per object the pulls have looked at: what became of it and why.
pub fn objects_schema() -> SchemaRef {
    std::sync::Arc::new(Schema::new(vec![
        Field::new("pull", DataType::Int64, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, false),
        Field::new("size", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, true),
        Field::new("session_id", DataType::Utf8, true),
        Field::new("date", DataType::Utf8, true),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debris_is_removed_and_committed_files_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = Warehouse::open(dir.path()).expect("open");
        let batch = RecordBatch::try_from_iter([(
            "key",
            std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["a", "b"]))
                as datafusion::arrow::array::ArrayRef,
        )])
        .expect("batch");
        w.begin_pull().expect("begin");
        let kept = w
            .write("objects", "objects/part-1.parquet", &batch)
            .expect("write");
        w.write("objects", "objects/part-2.parquet", &batch)
            .expect("write");
        w.commit(
            Commit {
                pull: 1,
                batch: 1,
                files: vec![kept],
            },
            index::Batch::default(),
        )
        .expect("commit");
        // A run killed now leaves part-2 behind (and its lock goes with it); the next open
        // removes it.
        drop(w);
        let w = Warehouse::open(dir.path()).expect("reopen");
        assert!(dir.path().join("objects/part-1.parquet").exists());
        assert!(!dir.path().join("objects/part-2.parquet").exists());
        assert!(!dir.path().join(PULLING).exists(), "recovered");
        // After a pull that ended, opening reads the manifest alone: nothing is walked, and a
        // file that is not data is left alone (and not read).
        let stray = dir.path().join("objects/stray.parquet");
        fs::write(&stray, "not parquet").expect("write");
        let w2 = Warehouse::open(dir.path()).expect("reopen");
        assert!(stray.exists());
        assert_eq!(w2.files("objects").len(), 1);
        let mut keys = Vec::new();
        w.read_strings("objects", &["key"], |r| keys.push(r[0].to_string()))
            .expect("read");
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(w.next_pull(), 2);
    }

    #[test]
    fn a_commit_with_a_short_file_is_dropped_with_all_later_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = Warehouse::open(dir.path()).expect("open");
        let batch = RecordBatch::try_from_iter([(
            "key",
            std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["a"]))
                as datafusion::arrow::array::ArrayRef,
        )])
        .expect("batch");
        w.begin_pull().expect("begin");
        for n in 1..=3 {
            let f = w
                .write("objects", &format!("objects/part-{n}.parquet"), &batch)
                .expect("write");
            w.commit(
                Commit {
                    pull: 1,
                    batch: n,
                    files: vec![f],
                },
                index::Batch::default(),
            )
            .expect("commit");
        }
        // A power cut before the pull ended left the second commit's file short.
        let second = dir.path().join("objects/part-2.parquet");
        let len = fs::metadata(&second).expect("meta").len();
        fs::OpenOptions::new()
            .write(true)
            .open(&second)
            .expect("open")
            .set_len(len / 2)
            .expect("truncate");
        drop(w);
        let w = Warehouse::open(dir.path()).expect("reopen");
        assert_eq!(w.manifest().commits.len(), 1);
        assert!(!second.exists() && !dir.path().join("objects/part-3.parquet").exists());
        let w = Warehouse::open(dir.path()).expect("stable");
        assert_eq!(w.manifest().commits.len(), 1);
    }

    #[test]
    fn a_pull_marks_the_warehouse_until_it_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = Warehouse::open(dir.path()).expect("open");
        w.begin_pull().expect("begin");
        assert!(dir.path().join(PULLING).exists());
        w.end_pull().expect("end");
        assert!(!dir.path().join(PULLING).exists());
        w.end_pull().expect("ending twice is harmless");
    }

    #[test]
    fn a_second_pull_is_refused_and_a_reader_leaves_a_running_pull_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut pulling = Warehouse::open(dir.path()).expect("open");
        pulling.begin_pull().expect("begin");
        let batch = RecordBatch::try_from_iter([(
            "key",
            std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["a"]))
                as datafusion::arrow::array::ArrayRef,
        )])
        .expect("batch");
        let uncommitted = pulling
            .write("objects", "objects/part-1.parquet", &batch)
            .expect("write");
        // Another process (here: another handle) opens meanwhile: not debris, not recovered.
        let mut other = Warehouse::open(dir.path()).expect("open while pulling");
        assert!(dir.path().join(&uncommitted.path).exists());
        assert!(dir.path().join(PULLING).exists());
        let err = other.begin_pull().expect_err("second pull");
        assert!(format!("{err:#}").contains("another pull"), "{err:#}");
        pulling
            .commit(
                Commit {
                    pull: 1,
                    batch: 1,
                    files: vec![uncommitted],
                },
                index::Batch::default(),
            )
            .expect("commit");
        pulling.end_pull().expect("end");
        other.begin_pull().expect("the first pull ended");
    }

    #[test]
    fn a_corrupt_manifest_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(MANIFEST), "{not json").expect("write");
        let err = Warehouse::open(dir.path()).err().expect("corrupt");
        assert!(format!("{err:#}").contains("manifest.json"));
    }
}
