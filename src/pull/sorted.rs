//! Keys in byte order with bounded memory. A listing comes in whatever order its store gives;
//! a pull needs it sorted (key order makes every run the same, and the listing is compared with
//! the index's sorted keys in one pass). Up to a set number of keys are sorted in memory; past
//! that, each full run is sorted and written to a file, and reading merges the runs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::iter::Peekable;
use std::path::PathBuf;

use anyhow::{Context, Result};

/// Gathers keys; [`Sorter::finish`] gives them sorted, without repeats.
pub struct Sorter {
    /// Folder for the run files, created with the first.
    dir: PathBuf,
    /// Keys held in memory before a run is written.
    limit: usize,
    held: Vec<String>,
    runs: Vec<PathBuf>,
}

impl Sorter {
    pub fn new(dir: PathBuf, limit: usize) -> Sorter {
        Sorter {
            dir,
            limit: limit.max(1),
            held: Vec::new(),
            runs: Vec::new(),
        }
    }

    pub fn push(&mut self, key: String) -> Result<()> {
        self.held.push(key);
        if self.held.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes the held keys, sorted, as a run file: each key as its length (u32, little
    /// endian) and its bytes.
    fn spill(&mut self) -> Result<()> {
        sort_dedup(&mut self.held);
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let path = self.dir.join(format!("run-{:05}", self.runs.len() + 1));
        let file =
            fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        for key in self.held.drain(..) {
            let len = u32::try_from(key.len()).context("a key longer than 4 GB")?;
            out.write_all(&len.to_le_bytes())
                .and_then(|_| out.write_all(key.as_bytes()))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.runs.push(path);
        Ok(())
    }

    /// The keys in byte order, each once: the runs on disk merged with the keys held. Reading a
    /// run file can fail; the files are removed when the merge is dropped.
    pub fn finish(mut self) -> Result<Merged> {
        sort_dedup(&mut self.held);
        let mut merged = Merged {
            sources: Vec::new(),
            heap: BinaryHeap::new(),
            dir: std::mem::take(&mut self.dir),
            runs: std::mem::take(&mut self.runs),
        };
        for path in &merged.runs {
            let file =
                fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            merged.sources.push(Box::new(Run {
                path: path.clone(),
                reader: BufReader::with_capacity(1 << 16, file),
            }));
        }
        let held = std::mem::take(&mut self.held);
        merged.sources.push(Box::new(held.into_iter().map(Ok)));
        if merged.sources.len() > 1 {
            for i in 0..merged.sources.len() {
                merged.advance(i)?;
            }
        }
        Ok(merged)
    }
}

/// Sorts `keys` in byte order and removes repeats. The keys of a listing share long prefixes
/// and lie scattered in memory: sorting the strings themselves reads a key from memory at each
/// of the n log n comparisons. This sorts the 16 bytes that follow the prefix all keys share,
/// held inline, and compares whole keys only where those are equal.
fn sort_dedup(keys: &mut Vec<String>) {
    let Some(first) = keys.first() else {
        return;
    };
    let shared = keys.iter().fold(first.len(), |shared, k| {
        first.as_bytes()[..shared]
            .iter()
            .zip(k.as_bytes())
            .take_while(|(a, b)| a == b)
            .count()
    });
    // Zero, the least byte, pads a key that ends inside the window: the order of two windows
    // is that of their keys, or they are equal.
    let window = |k: &String| {
        let mut bytes = [0u8; 16];
        let rest = &k.as_bytes()[shared..];
        let n = rest.len().min(16);
        bytes[..n].copy_from_slice(&rest[..n]);
        u128::from_be_bytes(bytes)
    };
    let mut order: Vec<(u128, usize)> = keys.iter().map(window).zip(0..).collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| keys[a.1].cmp(&keys[b.1])));
    let mut sorted = Vec::with_capacity(keys.len());
    for (_, i) in order {
        sorted.push(std::mem::take(&mut keys[i]));
    }
    sorted.dedup();
    *keys = sorted;
}

impl Drop for Sorter {
    fn drop(&mut self) {
        remove_runs(&self.dir, &self.runs);
    }
}

fn remove_runs(dir: &std::path::Path, runs: &[PathBuf]) {
    if runs.is_empty() {
        return;
    }
    for run in runs {
        let _ = fs::remove_file(run);
    }
    let _ = fs::remove_dir(dir);
}

/// The keys of one run file.
struct Run {
    path: PathBuf,
    reader: BufReader<fs::File>,
}

impl Iterator for Run {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        let mut len = [0u8; 4];
        match self.reader.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
            Err(e) => return Some(Err(e).context(format!("cannot read {}", self.path.display()))),
        }
        let mut key = vec![0; u32::from_le_bytes(len) as usize];
        let read = self
            .reader
            .read_exact(&mut key)
            .context("the file ends inside a key")
            .and_then(|_| String::from_utf8(key).context("a key is not UTF-8"));
        Some(read.with_context(|| format!("cannot read {}", self.path.display())))
    }
}

/// The merge of sorted runs, without repeats (a run repeats no key).
pub struct Merged {
    sources: Vec<Box<dyn Iterator<Item = Result<String>> + Send>>,
    heap: BinaryHeap<Reverse<(String, usize)>>,
    /// The run files and their folder, removed when the merge is dropped.
    dir: PathBuf,
    runs: Vec<PathBuf>,
}

impl Drop for Merged {
    fn drop(&mut self) {
        remove_runs(&self.dir, &self.runs);
    }
}

impl Merged {
    /// Puts the next key of source `i` on the heap.
    fn advance(&mut self, i: usize) -> Result<()> {
        if let Some(next) = self.sources[i].next() {
            self.heap.push(Reverse((next?, i)));
        }
        Ok(())
    }
}

impl Iterator for Merged {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        // Everything in memory: no merge to do.
        if let [held] = &mut self.sources[..] {
            return held.next();
        }
        let Reverse((key, i)) = self.heap.pop()?;
        if let Err(e) = self.advance(i) {
            return Some(Err(e));
        }
        // The same key at the head of other runs.
        while let Some(Reverse((next, j))) = self.heap.peek() {
            if *next != key {
                break;
            }
            let j = *j;
            self.heap.pop();
            if let Err(e) = self.advance(j) {
                return Some(Err(e));
            }
        }
        Some(Ok(key))
    }
}

/// A listed key compared with the keys already looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum Listed {
    New(String),
    Known,
}

/// Each key of `listed` (sorted, no repeats), new or found in `known` (sorted).
pub fn diff<L, K>(listed: L, known: K) -> impl Iterator<Item = Result<Listed>>
where
    L: Iterator<Item = Result<String>>,
    K: Iterator<Item = Result<String>>,
{
    let mut known: Peekable<K> = known.peekable();
    listed.map(move |key| {
        let key = key?;
        loop {
            match known.peek() {
                Some(Ok(k)) if k.as_str() < key.as_str() => {
                    known.next();
                }
                Some(Ok(k)) if *k == key => return Ok(Listed::Known),
                Some(Err(_)) => {
                    return Err(known.next().expect("peeked").expect_err("peeked an error"));
                }
                _ => return Ok(Listed::New(key)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str], limit: usize) -> (Vec<String>, usize, PathBuf, tempfile::TempDir) {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("runs");
        let mut s = Sorter::new(dir.clone(), limit);
        for k in keys {
            s.push(k.to_string()).expect("push");
        }
        let runs = s.runs.len();
        let out = s
            .finish()
            .expect("merge")
            .collect::<Result<Vec<_>>>()
            .expect("read");
        (out, runs, dir, tmp)
    }

    #[test]
    fn keys_come_out_in_byte_order_once_whether_or_not_runs_spill() {
        // Byte order, not path order: `a.b` before `a/b`, and `é` after every ASCII key.
        let keys = [
            "v1/b/2", "a/b", "é", "a.b", "v1/b/1", "a/b", "Z", "a-", "", "v1/b/1", "\n",
        ];
        // Past the 16 bytes after a long shared prefix, keys that end inside that window, a
        // zero byte (the padding's value), repeats.
        let long: Vec<String> = [
            "0123456789abcdef-x",
            "0123456789abcdef-y",
            "0123456789abcdef",
            "0123456789abcdef\0",
            "0123456789abcde",
            "0123456789abcdef-y",
            "0123",
            "0123456789abcdef\0\0",
        ]
        .iter()
        .map(|k| format!("bucket/v1/batect/{k}"))
        .collect();
        for limit in [1, 3, 100] {
            let keys: Vec<&str> = long.iter().map(String::as_str).collect();
            let mut want = long.clone();
            want.sort();
            want.dedup();
            assert_eq!(sorted(&keys, limit).0, want, "limit {limit}");
        }
        let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        want.sort();
        want.dedup();
        for limit in [1, 2, 3, 100] {
            let (got, runs, dir, _tmp) = sorted(&keys, limit);
            assert_eq!(got, want, "limit {limit}");
            assert_eq!(runs, keys.len() / limit, "limit {limit}");
            assert!(!dir.exists(), "run files removed (limit {limit})");
        }
    }

    #[test]
    fn a_cut_off_run_file_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("runs");
        let mut s = Sorter::new(dir.clone(), 2);
        for k in ["a", "bb", "c"] {
            s.push(k.to_string()).expect("push");
        }
        let run = dir.join("run-00001");
        let len = fs::metadata(&run).expect("run").len();
        fs::OpenOptions::new()
            .write(true)
            .open(&run)
            .expect("open")
            .set_len(len - 1)
            .expect("cut");
        let err = s
            .finish()
            .expect("merge")
            .collect::<Result<Vec<_>>>()
            .expect_err("cut off");
        assert!(format!("{err:#}").contains("run-00001"), "{err:#}");
    }

    #[test]
    fn diff_says_which_listed_keys_are_new() {
        let ok = |v: &[&str]| v.iter().map(|s| Ok(s.to_string())).collect::<Vec<_>>();
        let got: Vec<Listed> = diff(
            ok(&["a", "b", "d", "e", "g"]).into_iter(),
            ok(&["0", "b", "c", "e", "f"]).into_iter(),
        )
        .collect::<Result<_>>()
        .expect("diff");
        let new = |s: &str| Listed::New(s.to_string());
        assert_eq!(
            got,
            [new("a"), Listed::Known, new("d"), Listed::Known, new("g")]
        );
        let failing = vec![
            Ok("a".to_string()),
            Err(anyhow::anyhow!("index unreadable")),
        ];
        let err = diff(ok(&["b"]).into_iter(), failing.into_iter())
            .collect::<Result<Vec<_>>>()
            .expect_err("error");
        assert!(err.to_string().contains("index unreadable"));
    }
}
