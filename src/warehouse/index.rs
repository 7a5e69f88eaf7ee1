//! The pull's index, `index.redb` beside the manifest: the key of every object each source's
//! pulls looked at, and the record ids each id table holds. A pull reads them from disk (keys
//! in one sorted scan, ids one lookup per new record) rather than holding those of every
//! ingested object in memory.
//!
//! Each set is two redb tables: the main one and a small one of recent additions, which a
//! commit writes to and which is merged into the main one once it holds a fair share of it.
//! Inserting a few new keys and ids straight into large trees would rewrite a page per entry
//! (a nightly pull of 1,000 objects into an index of 100,000 wrote 10 MB); into the small
//! table, a few pages, and a merge rewrites the main table once for many entries.
//!
//! The main table holds the set's values in blocks of a page: each block under its first value,
//! the others front-coded (each as the bytes it shares with the one before and the rest). Keys
//! of one bucket share long prefixes, so this is half the size of a tree of whole values, and
//! a pull reads the whole set of keys, from a disk when it runs cold.
//!
//! The index is derived from the manifest's files, never the other way round. It records how
//! many commits it covers and a fingerprint of them; opening it replays the commits it lacks
//! (a pull killed between the manifest's commit and the index's), and rebuilds it from the
//! files when it is missing, unreadable, or does not match the manifest (commits dropped after
//! a power cut).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableHandle,
};

use super::{Commit, Warehouse};

pub const INDEX: &str = "index.redb";

/// What the index covers: `version`, `commits` and `fingerprint`; and `size <set>`, the
/// number of values in each set's main table.
const STATE: TableDefinition<&str, u64> = TableDefinition::new("state");
/// Bumped when what the index holds changes: an index of another version is rebuilt.
const VERSION: u64 = 2;
/// Pages redb keeps in memory (the file itself is left to the page cache).
const CACHE_BYTES: usize = 32 << 20;

/// The recent additions to a set: a table of keys with no values.
fn set(name: &str) -> TableDefinition<'_, &'static str, ()> {
    TableDefinition::new(name)
}

/// A table of byte strings by key: the main table of a set (blocks of values, each under its
/// first value), or a source's folders.
fn bytes(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

fn size_key(name: &str) -> String {
    format!("size {name}")
}

/// The table of recent additions to the set `name`.
fn recent(name: &str) -> String {
    format!("{name}+")
}

/// Recent additions are merged into the main table once they outnumber an eighth of it plus
/// this many (a merge rewrites the main table: each value is rewritten a few times in all).
const MERGE_AFTER: u64 = if cfg!(test) { 2 } else { 4_096 };

fn keys_table(source: &str) -> String {
    format!("keys/{source}")
}

fn ids_table(table: &str) -> String {
    format!("ids/{table}")
}

/// The folders of a local bucket that `source`'s pulls read whole, by key, each with what
/// identifies its entries (`pull::folder`): a pull need not read them again while that holds.
/// Kept here because it is only true of the keys the index holds: a rebuilt index has none.
fn folders_table(source: &str) -> String {
    format!("folders/{source}")
}

/// Keys and ids of one batch of a pull, added to the index with its commit.
#[derive(Default)]
pub struct Batch {
    keys: BTreeMap<String, Vec<String>>,
    ids: BTreeMap<String, Vec<String>>,
}

impl Batch {
    /// An object of `source` looked at (ingested, duplicate or quarantined).
    pub fn add_key(&mut self, source: &str, key: &str) {
        push(&mut self.keys, source, key.to_string());
    }

    /// A record id the commit's files hold in `table`.
    pub fn add_id(&mut self, table: &str, id: String) {
        push(&mut self.ids, table, id);
    }
}

fn push(sets: &mut BTreeMap<String, Vec<String>>, name: &str, value: String) {
    match sets.get_mut(name) {
        Some(values) => values.push(value),
        None => {
            sets.insert(name.to_string(), vec![value]);
        }
    }
}

pub struct Index {
    db: Database,
    path: PathBuf,
    /// Table and column that hold each format's record ids.
    id_columns: Vec<(String, String)>,
    /// Commits of the manifest the index covers, and their fingerprint.
    covered: usize,
    fingerprint: u64,
}

impl Index {
    /// Opens the index of `warehouse` and brings it up to date with its manifest.
    pub(super) fn open(warehouse: &Warehouse, id_columns: &[(&str, &str)]) -> Result<Index> {
        let path = warehouse.root().join(INDEX);
        let id_columns: Vec<_> = id_columns
            .iter()
            .map(|(t, c)| (t.to_string(), c.to_string()))
            .collect();
        let commits = &warehouse.manifest().commits;
        read_ahead(&path);
        let reason = match Index::existing(&path, &id_columns, commits) {
            Ok(Some(mut index)) => {
                index.replay(warehouse)?;
                return Ok(index);
            }
            Ok(None) => "it does not match the manifest".to_string(),
            Err(e) => format!("it cannot be read: {e:#}"),
        };
        if path.exists() {
            crate::messages::warn(format_args!(
                "warehouse: rebuilding {} ({reason})",
                path.display()
            ));
            super::remove_if_present(&path)?;
        } else if !commits.is_empty() {
            crate::messages::status(format_args!(
                "warehouse: building {} from {} commit(s)",
                path.display(),
                commits.len()
            ));
        }
        let mut index = Index {
            db: builder()
                .create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?,
            path,
            id_columns,
            covered: 0,
            fingerprint: FNV_OFFSET,
        };
        // The state first, so that even an empty warehouse's index says what it covers.
        index.write(Batch::default(), &[])?;
        index.replay(warehouse)?;
        // Built in one go: every set merged, for the smallest file.
        let recent: Vec<String> = index
            .db
            .begin_read()?
            .list_tables()?
            .filter_map(|t| t.name().strip_suffix('+').map(str::to_string))
            .collect();
        index.merge(&recent)?;
        Ok(index)
    }

    /// The index at `path` when it exists and covers a prefix of `commits`.
    fn existing(
        path: &Path,
        id_columns: &[(String, String)],
        commits: &[Commit],
    ) -> Result<Option<Index>> {
        let db = builder()
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let (version, covered, fingerprint) = {
            let read = db.begin_read()?;
            let state = read.open_table(STATE)?;
            let get = |name| -> Result<u64> {
                Ok(state
                    .get(name)?
                    .with_context(|| format!("no {name} in its state"))?
                    .value())
            };
            (
                get("version")?,
                get("commits")? as usize,
                get("fingerprint")?,
            )
        };
        anyhow::ensure!(version == VERSION, "index version {version}, not {VERSION}");
        if covered > commits.len() {
            return Ok(None);
        }
        if fingerprint_of(FNV_OFFSET, &commits[..covered])? != fingerprint {
            return Ok(None);
        }
        Ok(Some(Index {
            db,
            path: path.to_path_buf(),
            id_columns: id_columns.to_vec(),
            covered,
            fingerprint,
        }))
    }

    /// Adds the keys and ids of the manifest's commits the index does not cover, read from
    /// their files, one commit per transaction.
    fn replay(&mut self, warehouse: &Warehouse) -> Result<()> {
        let commits = &warehouse.manifest().commits;
        for commit in &commits[self.covered..] {
            let mut batch = Batch::default();
            for f in &commit.files {
                let column = self
                    .id_columns
                    .iter()
                    .find(|(t, _)| *t == f.table)
                    .map(|(_, c)| c.as_str());
                if f.table == "objects" {
                    warehouse.read_file_strings(f, &["source", "key"], |row| {
                        batch.add_key(row[0], row[1])
                    })?;
                } else if let Some(column) = column {
                    warehouse.read_file_strings(f, &[column], |row| {
                        batch.add_id(&f.table, row[0].to_string());
                    })?;
                }
            }
            self.write(batch, std::slice::from_ref(commit))?;
        }
        Ok(())
    }

    /// Keys of the objects `source`'s pulls looked at, in byte order.
    pub fn keys(&self, source: &str) -> Result<impl Iterator<Item = Result<String>> + use<>> {
        self.strings(&keys_table(source))
    }

    /// Record ids `table` holds, in byte order.
    pub fn ids(&self, table: &str) -> Result<impl Iterator<Item = Result<String>> + use<>> {
        self.strings(&ids_table(table))
    }

    /// The strings of the set `name` as of now, main and recent merged (none when it does not
    /// exist yet).
    fn strings(&self, name: &str) -> Result<impl Iterator<Item = Result<String>> + use<>> {
        let tables = Set::open(&self.db.begin_read()?, name)?;
        let main = tables.main.map(|t| t.range::<&str>(..)).transpose()?;
        let recent = tables.recent.map(|t| t.range::<&str>(..)).transpose()?;
        let path = self.path.clone();
        let recent = recent.into_iter().flatten().map(move |entry| {
            entry
                .map(|(k, _)| k.value().to_string())
                .with_context(|| format!("cannot read {}", path.display()))
        });
        Ok(union(
            unblock(main.into_iter().flatten(), &self.path),
            recent,
        ))
    }

    /// The folders `source`'s pulls recorded (none when it has no such table yet).
    pub fn folders(&self, source: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        let read = self.db.begin_read()?;
        let mut folders = BTreeMap::new();
        if let Some(table) = optional(read.open_table(bytes(&folders_table(source))))? {
            for entry in table.range::<&str>(..)? {
                let (key, value) = entry?;
                folders.insert(key.value().to_string(), value.value().to_vec());
            }
        }
        Ok(folders)
    }

    /// Replaces the folders recorded for `source` with `folders`, durably.
    pub(super) fn set_folders(
        &mut self,
        source: &str,
        folders: &BTreeMap<String, Vec<u8>>,
    ) -> Result<()> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        let name = folders_table(source);
        tx.delete_table(bytes(&name))?;
        {
            let mut table = tx.open_table(bytes(&name))?;
            for (key, value) in folders {
                table.insert(key.as_str(), value.as_slice())?;
            }
        }
        tx.commit()
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// A view of the ids as of now, for the lookups of one batch.
    pub fn lookup(&self) -> Result<Ids> {
        let read = self.db.begin_read()?;
        let mut tables = BTreeMap::new();
        for (table, _) in &self.id_columns {
            tables.insert(table.clone(), Set::open(&read, &ids_table(table))?);
        }
        Ok(Ids {
            tables,
            path: self.path.clone(),
        })
    }

    /// Adds `batch`, the keys and ids of the last of `commits` (the manifest's), durably.
    pub(super) fn commit(&mut self, batch: Batch, commits: &[Commit]) -> Result<()> {
        let new = &commits[self.covered.min(commits.len())..];
        // The warehouse passes every commit it makes while its index is open.
        anyhow::ensure!(
            new.len() == 1,
            "{} covers {} of {} commits, not all but the last",
            self.path.display(),
            self.covered,
            commits.len()
        );
        self.write(batch, new)
    }

    fn write(&mut self, batch: Batch, commits: &[Commit]) -> Result<()> {
        let fingerprint = fingerprint_of(self.fingerprint, commits)?;
        let covered = self.covered + commits.len();
        let mut sets: Vec<(String, Vec<&String>)> = Vec::new();
        for (source, keys) in &batch.keys {
            sets.push((keys_table(source), keys.iter().collect()));
        }
        for (table, ids) in &batch.ids {
            sets.push((ids_table(table), ids.iter().collect()));
        }
        let mut full = Vec::new();
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        {
            for (name, values) in &mut sets {
                values.sort_unstable();
                values.dedup();
                let mut table = tx.open_table(set(&recent(name)))?;
                for value in values.iter() {
                    table.insert(value.as_str(), ())?;
                }
                let main = tx
                    .open_table(STATE)?
                    .get(size_key(name).as_str())?
                    .map_or(0, |v| v.value());
                if table.len()? > main / 8 + MERGE_AFTER {
                    full.push(name.clone());
                }
            }
            let mut state = tx.open_table(STATE)?;
            state.insert("version", VERSION)?;
            state.insert("commits", covered as u64)?;
            state.insert("fingerprint", fingerprint)?;
        }
        tx.commit()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.covered = covered;
        self.fingerprint = fingerprint;
        self.merge(&full)
    }

    /// Merges the sets `names`, then gives the pages the merges freed back to the file system:
    /// the file is read whole, ahead, by the next pull.
    fn merge(&mut self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        for name in names {
            self.merge_set(name)?;
        }
        match self.db.compact() {
            // A view still open (none is, in a pull): the pages stay free in the file, for
            // later writes and the next merge to reuse.
            Ok(_) | Err(redb::CompactionError::TransactionInProgress) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot compact {}", self.path.display())),
        }
    }

    /// Moves the recent additions of the set `name` into its main table: writes the union of
    /// both as a new main table, in one transaction (redb writes what exceeds its cache to the
    /// file as it goes, so memory stays bounded).
    fn merge_set(&mut self, name: &str) -> Result<()> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        let next = format!("{name}~");
        let mut count = 0u64;
        {
            let main = tx.open_table(bytes(name))?;
            let recent = tx.open_table(set(&recent(name)))?;
            let mut out = tx.open_table(bytes(&next))?;
            let recent = recent
                .range::<&str>(..)?
                .map(|entry| Ok(entry?.0.value().to_string()));
            let mut writer = BlockWriter::default();
            for value in union(unblock(main.range::<&str>(..)?, &self.path), recent) {
                count += 1;
                if let Some((first, body)) = writer.push(&value?) {
                    out.insert(first.as_str(), body.as_slice())?;
                }
            }
            if let Some((first, body)) = writer.finish() {
                out.insert(first.as_str(), body.as_slice())?;
            }
        }
        tx.delete_table(bytes(name))?;
        tx.rename_table(bytes(&next), bytes(name))?;
        tx.delete_table(set(&recent(name)))?;
        tx.open_table(STATE)?
            .insert(size_key(name).as_str(), count)?;
        tx.commit()
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// The union of two sorted iterators, each value once.
fn union(
    a: impl Iterator<Item = Result<String>>,
    b: impl Iterator<Item = Result<String>>,
) -> impl Iterator<Item = Result<String>> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return None,
            (Some(_), None) | (Some(Err(_)), _) => std::cmp::Ordering::Less,
            (None, Some(_)) | (_, Some(Err(_))) => std::cmp::Ordering::Greater,
            (Some(Ok(x)), Some(Ok(y))) => x.cmp(y),
        };
        match order {
            std::cmp::Ordering::Less => a.next(),
            std::cmp::Ordering::Greater => b.next(),
            std::cmp::Ordering::Equal => {
                b.next();
                a.next()
            }
        }
    })
}

/// The ids of every id table as of one moment (main and recent tables).
pub struct Ids {
    tables: BTreeMap<String, Set>,
    path: PathBuf,
}

impl Ids {
    pub fn contains(&self, table: &str, id: &str) -> Result<bool> {
        let Some(set) = self.tables.get(table) else {
            return Ok(false);
        };
        if let Some(recent) = &set.recent
            && recent.get(id)?.is_some()
        {
            return Ok(true);
        }
        // The block that would hold `id`: the last whose first value is not after it.
        let Some(main) = &set.main else {
            return Ok(false);
        };
        let Some(block) = main.range::<&str>(..=id)?.next_back() else {
            return Ok(false);
        };
        let (first, body) = block?;
        block_holds(first.value(), body.value(), id)
            .with_context(|| format!("cannot read {}", self.path.display()))
    }
}

/// A table that may not exist yet: `None` then.
fn optional<T>(table: Result<T, redb::TableError>) -> Result<Option<T>> {
    match table {
        Ok(table) => Ok(Some(table)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The tables of a set that exist as of one read transaction.
struct Set {
    main: Option<ReadOnlyTable<&'static str, &'static [u8]>>,
    recent: Option<ReadOnlyTable<&'static str, ()>>,
}

impl Set {
    fn open(read: &ReadTransaction, name: &str) -> Result<Set> {
        Ok(Set {
            main: optional(read.open_table(bytes(name)))?,
            recent: optional(read.open_table(set(&recent(name))))?,
        })
    }
}

/// A block holds values until the next would take it past this many bytes (with redb's
/// header, a block fills one 4 KB page).
const BLOCK_BYTES: usize = if cfg!(test) { 24 } else { 3_900 };

/// Cuts values, given in order, into blocks: the first value, and the body that front-codes
/// the others (each as a varint of the bytes it shares with the value before, a varint of the
/// length of the rest, and the rest).
#[derive(Default)]
struct BlockWriter {
    first: Option<String>,
    last: String,
    body: Vec<u8>,
}

impl BlockWriter {
    /// Adds `value` (after every value added before); gives the block it completes, if any.
    fn push(&mut self, value: &str) -> Option<(String, Vec<u8>)> {
        let mut done = None;
        if let Some(first) = &self.first {
            let shared = self
                .last
                .bytes()
                .zip(value.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            let rest = &value.as_bytes()[shared..];
            let before = self.body.len();
            put_varint(&mut self.body, shared);
            put_varint(&mut self.body, rest.len());
            self.body.extend_from_slice(rest);
            if first.len() + self.body.len() > BLOCK_BYTES {
                self.body.truncate(before);
                done = self.finish();
            }
        }
        if self.first.is_none() {
            self.first = Some(value.to_string());
        }
        value.clone_into(&mut self.last);
        done
    }

    /// The block in progress, if it holds any value.
    fn finish(&mut self) -> Option<(String, Vec<u8>)> {
        let first = self.first.take()?;
        Some((first, std::mem::take(&mut self.body)))
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Result<usize> {
    let mut n = 0usize;
    for shift in (0..usize::BITS).step_by(7) {
        let (&b, rest) = bytes
            .split_first()
            .context("a block ends inside a length")?;
        *bytes = rest;
        n |= usize::from(b & 0x7f)
            .checked_shl(shift)
            .context("a length in a block overflows")?;
        if b < 0x80 {
            return Ok(n);
        }
    }
    anyhow::bail!("a length in a block overflows")
}

/// Rebuilds the values of the block `first`, `body` one by one, in order, handing each to
/// `visit` until it says to stop.
fn walk_block(first: &str, body: &[u8], mut visit: impl FnMut(&[u8]) -> bool) -> Result<()> {
    let mut value = first.as_bytes().to_vec();
    let mut rest = body;
    while visit(&value) && !rest.is_empty() {
        let shared = take_varint(&mut rest)?;
        let len = take_varint(&mut rest)?;
        anyhow::ensure!(
            shared <= value.len() && len <= rest.len(),
            "a block is damaged"
        );
        value.truncate(shared);
        value.extend_from_slice(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(())
}

/// The values of the block `first`, `body`, in order.
fn decode(first: &str, body: &[u8]) -> Result<Vec<String>> {
    let mut values = Vec::new();
    let mut utf8 = true;
    walk_block(first, body, |v| match std::str::from_utf8(v) {
        Ok(v) => {
            values.push(v.to_string());
            true
        }
        Err(_) => {
            utf8 = false;
            false
        }
    })?;
    anyhow::ensure!(utf8, "a block holds a value that is not UTF-8");
    Ok(values)
}

/// Whether the block `first`, `body` holds `value`.
fn block_holds(first: &str, body: &[u8], value: &str) -> Result<bool> {
    let mut order = std::cmp::Ordering::Less;
    walk_block(first, body, |v| {
        order = v.cmp(value.as_bytes());
        order.is_lt()
    })?;
    Ok(order.is_eq())
}

type BlockEntry<'a> = Result<
    (
        redb::AccessGuard<'a, &'static str>,
        redb::AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

/// The values of a main table's blocks, in order.
fn unblock<'a, I: Iterator<Item = BlockEntry<'a>> + 'a>(
    blocks: I,
    path: &Path,
) -> impl Iterator<Item = Result<String>> + use<'a, I> {
    let path = path.to_path_buf();
    blocks.flat_map(move |block| {
        let values = block
            .map_err(anyhow::Error::from)
            .and_then(|(first, body)| decode(first.value(), body.value()))
            .with_context(|| format!("cannot read {}", path.display()));
        let (values, error) = match values {
            Ok(values) => (values, None),
            Err(e) => (Vec::new(), Some(Err(e))),
        };
        values.into_iter().map(Ok).chain(error)
    })
}

/// Asks the kernel to read the index file into the page cache, in the background: a pull scans
/// its keys and looks ids up page by page, and the pages of a tree lie scattered in the file,
/// so reading them one at a time from a disk (as a nightly run finds them) is a request each;
/// one sequential read-ahead is cheaper.
fn read_ahead(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(file) = std::fs::File::open(path) {
        std::thread::spawn(move || {
            let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::WillNeed);
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

fn builder() -> redb::Builder {
    let mut b = Database::builder();
    b.set_cache_size(CACHE_BYTES);
    b
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over the JSON of `commits`, continuing from `from`: stable across versions and
/// platforms, unlike the standard library's hashers.
fn fingerprint_of(from: u64, commits: &[Commit]) -> Result<u64> {
    let mut h = from;
    for c in commits {
        for b in serde_json::to_vec(c)? {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::{Commit, PULLING};
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use std::fs;
    use std::sync::Arc;

    const IDS: [(&str, &str); 1] = [("sessions", "session_id")];

    fn strings(columns: &[(&str, &[&str])]) -> RecordBatch {
        RecordBatch::try_from_iter(columns.iter().map(|(name, values)| {
            (
                *name,
                Arc::new(StringArray::from(values.to_vec())) as ArrayRef,
            )
        }))
        .expect("batch")
    }

    /// Commits `keys` of source `s` and `ids` as pull `n`'s only batch; through the index
    /// when it is open.
    fn commit(w: &mut Warehouse, n: u64, keys: &[&str], ids: &[&str]) {
        let sources = vec!["s"; keys.len()];
        let objects = strings(&[("source", &sources), ("key", keys)]);
        let sessions = strings(&[("session_id", ids)]);
        let files = vec![
            w.write("objects", &format!("objects/part-{n}.parquet"), &objects)
                .expect("write"),
            w.write("sessions", &format!("sessions/part-{n}.parquet"), &sessions)
                .expect("write"),
        ];
        let mut batch = Batch::default();
        for k in keys {
            batch.add_key("s", k);
        }
        for id in ids {
            batch.add_id("sessions", id.to_string());
        }
        w.commit(
            Commit {
                pull: n,
                batch: 1,
                files,
            },
            batch,
        )
        .expect("commit");
    }

    /// The index's keys of `s` and session ids.
    fn content(w: &mut Warehouse) -> (Vec<String>, Vec<String>) {
        let index = w.index(&IDS).expect("index");
        let all = |it: Result<Box<dyn Iterator<Item = Result<String>>>>| {
            it.expect("set").collect::<Result<Vec<_>>>().expect("read")
        };
        (
            all(index
                .keys("s")
                .map(|i| Box::new(i) as Box<dyn Iterator<Item = _>>)),
            all(index
                .ids("sessions")
                .map(|i| Box::new(i) as Box<dyn Iterator<Item = _>>)),
        )
    }

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_index_follows_the_manifest_through_commits_made_without_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = Warehouse::open(dir.path()).expect("open");
        assert_eq!(content(&mut w), (vec![], vec![]));
        commit(&mut w, 1, &["b", "a"], &["id1"]);
        let lookup = w.index(&IDS).expect("index").lookup().expect("lookup");
        assert!(lookup.contains("sessions", "id1").expect("get"));
        assert!(!lookup.contains("sessions", "id2").expect("get"));
        assert!(!lookup.contains("other", "id1").expect("get"));
        drop(w);

        // Committed by a handle whose index is not open (a pull killed between the manifest's
        // commit and the index's leaves the same): the next opening replays it.
        let mut w = Warehouse::open(dir.path()).expect("open");
        commit(&mut w, 2, &["c"], &["id2", "id3"]);
        assert_eq!(
            content(&mut w),
            (owned(&["a", "b", "c"]), owned(&["id1", "id2", "id3"]))
        );
        commit(&mut w, 3, &["0"], &[]);
        let live = content(&mut w);
        drop(w);

        // Built from the files alone, it holds what the pulls added as they went.
        fs::remove_file(dir.path().join(INDEX)).expect("remove");
        let mut w = Warehouse::open(dir.path()).expect("open");
        assert_eq!(content(&mut w), live);
    }

    #[test]
    fn an_index_that_does_not_match_the_manifest_is_rebuilt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = Warehouse::open(dir.path()).expect("open");
        w.begin_pull().expect("begin");
        w.index(&IDS).expect("index");
        commit(&mut w, 1, &["a"], &["id1"]);
        commit(&mut w, 2, &["b"], &["id2"]);
        // A power cut before the pull ended left the second commit's file short: opening drops
        // that commit and the index, which had it.
        let second = dir.path().join("objects/part-2.parquet");
        fs::write(&second, "short").expect("cut");
        drop(w);
        assert!(dir.path().join(PULLING).exists());
        let mut w = Warehouse::open(dir.path()).expect("reopen");
        assert_eq!(w.manifest().commits.len(), 1);
        assert!(!dir.path().join(INDEX).exists());
        // Pull 2 again, with other objects, committed before the index is opened: as many
        // commits as the dropped index covered, with the same names and sizes.
        commit(&mut w, 2, &["c"], &["id3"]);
        assert_eq!(
            content(&mut w),
            (owned(&["a", "c"]), owned(&["id1", "id3"]))
        );
        drop(w);

        // A manifest that is not the one the index followed (restored from a copy, edited):
        // its fingerprint differs.
        let mut w = Warehouse::open(dir.path()).expect("reopen");
        let other = strings(&[("source", &["s"]), ("key", &["d"])]);
        let other = w
            .write("objects", "objects/part-9.parquet", &other)
            .expect("write");
        let mut manifest = w.manifest().clone();
        manifest.commits[1].files[0] = other;
        w.save(manifest).expect("save");
        drop(w);
        let mut w = Warehouse::open(dir.path()).expect("reopen");
        assert_eq!(
            content(&mut w),
            (owned(&["a", "d"]), owned(&["id1", "id3"]))
        );
        drop(w);

        // An index file that is not one is rebuilt too.
        fs::write(dir.path().join(INDEX), "not an index").expect("write");
        let mut w = Warehouse::open(dir.path()).expect("reopen");
        assert_eq!(
            content(&mut w),
            (owned(&["a", "d"]), owned(&["id1", "id3"]))
        );
    }

    #[test]
    fn recent_additions_are_merged_into_the_main_table_and_read_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = Warehouse::open(dir.path()).expect("open");
        let mut keys = Vec::new();
        for n in 1..=6u64 {
            let batch = [format!("k{n}a"), format!("k{}b", 10 - n)];
            let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
            let ids = [format!("id{n}")];
            commit(&mut w, n, &batch, &[ids[0].as_str()]);
            keys.extend(batch.iter().map(|k| k.to_string()));
        }
        keys.sort();
        let (got, ids) = content(&mut w);
        assert_eq!(got, keys);
        assert_eq!(ids.len(), 6);
        let index = w.index(&IDS).expect("index");
        let read = index.db.begin_read().expect("read");
        let name = keys_table("s");
        let state = read.open_table(STATE).expect("state");
        let main = state
            .get(size_key(&name).as_str())
            .expect("get")
            .map_or(0, |v| v.value());
        let blocks = read
            .open_table(bytes(&name))
            .map(|t| t.len().expect("len"))
            .unwrap_or(0);
        let recent = read
            .open_table(set(&recent(&name)))
            .map(|t| t.len().expect("len"))
            .unwrap_or(0);
        assert!(main >= 6, "merged: {main}");
        assert!(blocks > 1, "several blocks: {blocks}");
        assert!(recent <= main / 8 + MERGE_AFTER);
        assert_eq!(main + recent, 12);
        let lookup = index.lookup().expect("lookup");
        for n in 1..=6 {
            assert!(lookup.contains("sessions", &format!("id{n}")).expect("get"));
        }
        for absent in ["", "id", "id0", "id10", "id7", "~"] {
            assert!(
                !lookup.contains("sessions", absent).expect("get"),
                "{absent}"
            );
        }
    }

    #[test]
    fn blocks_give_back_their_values_in_order() {
        let mut values = vec![
            "",
            "a",
            "ab",
            "abc",
            "abd",
            "b",
            "é",
            "éa",
            "ê",
            "日本",
            "日本語",
        ];
        let long = "x".repeat(3 * BLOCK_BYTES);
        values.push(&long);
        values.push("y");
        let mut writer = BlockWriter::default();
        let mut blocks: Vec<(String, Vec<u8>)> =
            values.iter().filter_map(|v| writer.push(v)).collect();
        blocks.extend(writer.finish());
        assert!(blocks.len() > 2, "{}", blocks.len());
        let back: Vec<String> = blocks
            .iter()
            .flat_map(|(first, body)| decode(first, body).expect("decode"))
            .collect();
        assert_eq!(back, values);
        for (first, body) in &blocks {
            for v in decode(first, body).expect("decode") {
                assert!(block_holds(first, body, &v).expect("holds"), "{v}");
                let after = format!("{v}\0");
                assert!(!block_holds(first, body, &after).expect("holds"), "{after}");
            }
        }
        for (first, body) in &blocks {
            assert!(first.len() + body.len() <= BLOCK_BYTES || body.is_empty());
        }
    }

    #[test]
    fn a_damaged_block_is_an_error_not_a_panic() {
        // Cut short, lengths past the end or the value before, too long a varint, a value
        // that is not UTF-8, and bytes of every kind.
        for body in [
            &[1u8][..],
            &[0, 5, b'a'],
            &[9, 1, b'a'],
            &[0xff; 11],
            &[0, 1, 0xff],
            &[1, 1, 0x80],
        ] {
            assert!(decode("ab", body).is_err(), "{body:?}");
        }
        let mut seed = 7u64;
        for _ in 0..2_000 {
            let body: Vec<u8> = (0..(seed % 40))
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (seed >> 56) as u8
                })
                .collect();
            let _ = decode("é", &body);
            let _ = block_holds("é", &body, "ê");
        }
    }

    #[test]
    fn a_union_gives_each_value_once_in_order() {
        let ok = |v: &[&str]| v.iter().map(|s| Ok(s.to_string())).collect::<Vec<_>>();
        let got: Vec<String> = union(
            ok(&["a", "c", "d"]).into_iter(),
            ok(&["b", "c", "e"]).into_iter(),
        )
        .collect::<Result<_>>()
        .expect("union");
        assert_eq!(got, ["a", "b", "c", "d", "e"]);
        let failing = vec![Err(anyhow::anyhow!("unreadable page"))];
        let err = union(ok(&["a"]).into_iter(), failing.into_iter())
            .collect::<Result<Vec<_>>>()
            .expect_err("error");
        assert!(err.to_string().contains("unreadable page"));
    }
}
