//! A local folder as a source: listed by walking its folders, its files read directly.
//!
//! object_store's `LocalFileSystem` lists a folder with three `stat`s per file (a broken-symlink
//! check, an is-file check and the metadata), each resolving the absolute path from `/`: on a
//! folder of 100,000 objects that is most of an incremental pull. A pull needs only the keys
//! (an object's size comes with its GET), so this walk reads the directory entries' types (a
//! `stat` only for symlinks) and yields exactly the keys `LocalFileSystem` lists; the pull then
//! reads the files those keys name, as `LocalFileSystem` would GET them, many per blocking task.
//!
//! A folder that holds only objects (no subfolders, no symlinks) and that a pull read whole is
//! remembered by its stamp: device, inode, modification and change times. Creating, removing
//! or renaming an entry changes the folder's times, so a later pull that finds the same stamp
//! does not read the folder again: all its objects were ingested (the pull records a folder
//! only when none of its objects failed). Old application versions' folders of an Abacus
//! bucket never change again; a nightly pull reads only the folders that did. A stamp is
//! trusted only where times come from this machine's clock (ext4, XFS, btrfs, tmpfs), and only
//! when the folder last changed in an earlier second than the one the pull started in: a change
//! in the same tick of the clock as the stamp, after the folder was read, would leave the stamp
//! as it was (and some file systems keep times in whole seconds: ext4 with small inodes).

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use object_store::path::Path;

/// What identifies a folder's entries: any change to them changes the stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    /// Modification and change times, seconds and nanoseconds.
    modified: (i64, i64),
    changed: (i64, i64),
}

/// A folder a pull read whole: its stamp then, and how many objects it held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folder {
    stamp: Stamp,
    pub objects: u64,
}

const FOLDER_BYTES: usize = 56;

impl Folder {
    /// The folder as stored in the index: seven little-endian 64-bit numbers.
    pub fn to_bytes(&self) -> Vec<u8> {
        let s = &self.stamp;
        [
            s.device,
            s.inode,
            s.modified.0 as u64,
            s.modified.1 as u64,
            s.changed.0 as u64,
            s.changed.1 as u64,
            self.objects,
        ]
        .iter()
        .flat_map(|n| n.to_le_bytes())
        .collect()
    }

    /// A folder as stored by [`Folder::to_bytes`]; `None` for anything else (the folder is
    /// then read, as if it were not remembered).
    pub fn from_bytes(bytes: &[u8]) -> Option<Folder> {
        if bytes.len() != FOLDER_BYTES {
            return None;
        }
        let n = |i: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            u64::from_le_bytes(word)
        };
        Some(Folder {
            stamp: Stamp {
                device: n(0),
                inode: n(1),
                modified: (n(2) as i64, n(3) as i64),
                changed: (n(4) as i64, n(5) as i64),
            },
            objects: n(6),
        })
    }
}

/// The folders earlier pulls read whole, by key, and whether this listing may skip them and
/// record new ones.
pub struct Known {
    folders: BTreeMap<String, Folder>,
    /// When the pull started (the change time of a file it wrote then): a folder is recorded
    /// only when it last changed in an earlier second. `None` where stamps are not trusted:
    /// every folder is read, none recorded.
    before: Option<(i64, i64)>,
}

impl Known {
    /// Folders of the bucket at `root` recorded by earlier pulls; `started` is a file written
    /// when this pull started. Stamps are trusted when `root` and `started` lie on file systems
    /// that take their times from this machine's clock.
    pub fn new(root: &FsPath, folders: BTreeMap<String, Folder>, started: &FsPath) -> Known {
        let before = (local_times(root) && local_times(started))
            .then(|| std::fs::metadata(started).ok().and_then(|m| changed(&m)))
            .flatten();
        Known { folders, before }
    }

    /// Nothing known, nothing recorded: every folder is read.
    pub fn nothing() -> Known {
        Known {
            folders: BTreeMap::new(),
            before: None,
        }
    }
}

/// Whether the file system holding `path` takes its times from this machine's clock: ext2/3/4,
/// XFS, btrfs, tmpfs. Not network or FUSE file systems (another machine's clock, or none), nor
/// overlays (an entry can change in a lower layer).
#[cfg(target_os = "linux")]
pub fn local_times(path: &FsPath) -> bool {
    const EXT4: u32 = 0xEF53;
    const XFS: u32 = 0x5846_5342;
    const BTRFS: u32 = 0x9123_683E;
    const TMPFS: u32 = 0x0102_1994;
    rustix::fs::statfs(path).is_ok_and(|s| {
        // The field's type differs between targets; the magic numbers fit in 32 bits.
        #[allow(clippy::unnecessary_cast)]
        let kind = s.f_type as u32;
        matches!(kind, EXT4 | XFS | BTRFS | TMPFS)
    })
}

#[cfg(not(target_os = "linux"))]
pub fn local_times(_: &FsPath) -> bool {
    false
}

#[cfg(unix)]
fn changed(m: &std::fs::Metadata) -> Option<(i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.ctime(), m.ctime_nsec()))
}

#[cfg(not(unix))]
fn changed(_: &std::fs::Metadata) -> Option<(i64, i64)> {
    None
}

/// The stamp of the folder `dir` (symlinks followed), if it can be read.
#[cfg(unix)]
fn stamp(dir: &FsPath) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir).ok()?;
    Some(Stamp {
        device: m.dev(),
        inode: m.ino(),
        modified: (m.mtime(), m.mtime_nsec()),
        changed: (m.ctime(), m.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn stamp(_: &FsPath) -> Option<Stamp> {
    None
}

/// What a listing finds.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// Keys of objects, a chunk at a time.
    Keys(Vec<String>),
    /// A folder (by key) with the stamp an earlier pull recorded: not read, its objects all
    /// ingested.
    Unchanged(String, Folder),
    /// A folder read whole that holds only objects and last changed in an earlier second than
    /// the pull started in: worth recording once its objects are ingested.
    Read(String, Folder),
}

/// The keys under `prefix` of the `LocalFileSystem` rooted at `root`, in no particular order,
/// handed to `send` a chunk at a time (a listing is never held whole), with the folders
/// `known` lets it skip or record. A missing folder lists nothing, as it does through
/// `LocalFileSystem`. Keys are the file names joined by `/`, not checked against
/// object_store's path rules (`LocalFileSystem` refuses the whole listing for one bad name; the
/// pull reports that object alone).
///
/// The subfolders of the first level that has several (an Abacus bucket's application
/// versions) are walked on several threads.
pub fn list(
    root: &FsPath,
    prefix: &Path,
    known: &Known,
    send: &(dyn Fn(Found) + Sync),
) -> Result<(), object_store::Error> {
    let mut keys = Vec::new();
    let mut subfolders = vec![(file(root, prefix), prefix.as_ref().to_string())];
    // Down a chain of single folders (`v1/batect/`) to the first level with several; a few
    // levels at most (a symlink to its own folder would make the chain endless: below this
    // level, the walk finds such loops).
    for _ in 0..8 {
        let [(dir, key)] = &subfolders[..] else {
            break;
        };
        let (dir, key) = (dir.clone(), key.clone());
        subfolders.clear();
        walk(&dir, &key, known, &mut keys, Some(&mut subfolders), send)?;
    }
    send(Found::Keys(keys));
    // More threads than cores: a folder not in the page cache is read from disk, and the disk
    // serves several reads at once.
    let threads = 4 * std::thread::available_parallelism().map_or(2, usize::from);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..threads.min(subfolders.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut keys = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((dir, key)) = subfolders.get(i) else {
                            send(Found::Keys(keys));
                            return Ok(());
                        };
                        walk(dir, key, known, &mut keys, None, send)?;
                    }
                })
            })
            .collect();
        threads.into_iter().try_for_each(|t| {
            t.join()
                .unwrap_or_else(|_| Err(failed("a listing thread panicked".into())))
        })
    })
}

/// Keys handed over at once.
const CHUNK: usize = 1024;

/// Adds the keys of the files below `dir` (whose key is `key`) to `keys`, sending each full
/// chunk; with `subfolders`, only `dir`'s own files, and its folders (path and key) to
/// `subfolders`. Symlinks are followed, as `LocalFileSystem` follows them; a broken one, or a
/// file removed while walking, is not an object; a symlink to a folder that holds it is a loop,
/// an error. A folder `known` has with the same stamp is not read.
fn walk(
    dir: &FsPath,
    key: &str,
    known: &Known,
    keys: &mut Vec<String>,
    mut subfolders: Option<&mut Vec<(PathBuf, String)>>,
    send: &(dyn Fn(Found) + Sync),
) -> Result<(), object_store::Error> {
    // Folders still to read, with their keys.
    let mut pending = vec![(dir.to_path_buf(), key.to_string())];
    while let Some((dir, key)) = pending.pop() {
        let stamp = known.before.and_then(|_| stamp(&dir));
        if let Some(stamp) = stamp
            && let Some(folder) = known.folders.get(&key)
            && folder.stamp == stamp
        {
            send(Found::Unchanged(key, *folder));
            continue;
        }
        // Whether the folder holds only objects (and other files), and how many.
        let (mut only_files, mut objects) = (true, 0);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // A folder removed while walking, or a prefix that names a file: nothing listed.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                continue;
            }
            Err(e) => return Err(failed(format!("cannot list {}: {e}", dir.display()))),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(failed(format!("cannot list {}: {e}", dir.display()))),
            };
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                failed(format!(
                    "{} is not a UTF-8 file name",
                    entry.path().display()
                ))
            })?;
            // The entry's type comes with it; only a symlink needs a `stat`.
            let own = entry.file_type();
            let link = own.as_ref().is_ok_and(|k| k.is_symlink());
            only_files &= !link;
            let kind = if link {
                std::fs::metadata(entry.path()).map(|m| m.file_type())
            } else {
                own
            };
            let kind = match kind {
                Ok(kind) => kind,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(failed(format!("{}: {e}", entry.path().display()))),
            };
            let mut child = String::with_capacity(key.len() + 1 + name.len());
            if !key.is_empty() {
                child.push_str(&key);
                child.push('/');
            }
            child.push_str(name);
            if kind.is_dir() {
                only_files = false;
                let path = entry.path();
                if link && holds(&path, &dir)? {
                    return Err(failed(format!(
                        "File system loop found: {} points to a folder that holds it",
                        path.display()
                    )));
                }
                match subfolders.as_mut() {
                    Some(found) => found.push((path, child)),
                    None => pending.push((path, child)),
                }
            } else if kind.is_file() && is_object(name) {
                objects += 1;
                keys.push(child);
                if keys.len() >= CHUNK {
                    send(Found::Keys(std::mem::take(keys)));
                }
            }
        }
        if let (Some(stamp), Some(before)) = (stamp, known.before)
            && only_files
            && stamp.changed.0 < before.0
        {
            send(Found::Read(key, Folder { stamp, objects }));
        }
    }
    Ok(())
}

/// Whether the folder `link` resolves to holds `dir` (or is `dir`): walking it would reach
/// `link` again.
fn holds(link: &FsPath, dir: &FsPath) -> Result<bool, object_store::Error> {
    let resolve =
        |p: &FsPath| std::fs::canonicalize(p).map_err(|e| failed(format!("{}: {e}", p.display())));
    Ok(resolve(dir)?.starts_with(resolve(link)?))
}

/// The file (or folder) a key names under `root`, as `LocalFileSystem` maps it.
pub fn file(root: &FsPath, key: &Path) -> PathBuf {
    key.parts()
        .fold(root.to_path_buf(), |d, part| d.join(part.as_ref()))
}

/// `LocalFileSystem` keeps an upload's parts as `NAME#N` files; they are not objects.
fn is_object(name: &str) -> bool {
    match name.split_once('#') {
        Some((_, suffix)) => suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    }
}

fn failed(message: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "LocalFileSystem",
        source: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    use object_store::local::LocalFileSystem;

    fn through_object_store(root: &FsPath, prefix: &Path) -> Vec<String> {
        let store = LocalFileSystem::new_with_prefix(root).expect("store");
        let metas: Vec<_> =
            futures::executor::block_on(store.list(Some(prefix)).try_collect()).expect("list");
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        keys
    }

    /// Every key `list` sends.
    fn listed(root: &FsPath, prefix: &Path) -> Result<Vec<String>, object_store::Error> {
        Ok(listing(root, prefix, &Known::nothing())?.0)
    }

    /// Every key `list` sends, and the folders it skips and would record (by key).
    #[allow(clippy::type_complexity)]
    fn listing(
        root: &FsPath,
        prefix: &Path,
        known: &Known,
    ) -> Result<(Vec<String>, Vec<(String, u64)>, BTreeMap<String, Folder>), object_store::Error>
    {
        let found = std::sync::Mutex::new((Vec::new(), Vec::new(), BTreeMap::new()));
        list(root, prefix, known, &|f| {
            let mut found = found.lock().expect("lock");
            match f {
                Found::Keys(chunk) => found.0.extend(chunk),
                Found::Unchanged(key, folder) => found.1.push((key, folder.objects)),
                Found::Read(key, folder) => {
                    found.2.insert(key, folder);
                }
            }
        })?;
        let (mut keys, mut unchanged, read) = found.into_inner().expect("lock");
        keys.sort();
        unchanged.sort();
        Ok((keys, unchanged, read))
    }

    /// Stamps trusted, every folder older than now recorded.
    fn knowing(folders: &BTreeMap<String, Folder>) -> Known {
        Known {
            folders: folders.clone(),
            before: Some((i64::MAX, 0)),
        }
    }

    /// Sleeps into the next second of the clock.
    fn next_second() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        let left = 1_000_000_000 - u64::from(now.subsec_nanos());
        std::thread::sleep(std::time::Duration::from_nanos(left + 20_000_000));
    }

    fn put(root: &FsPath, name: &str) {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, name).expect("write");
    }

    #[test]
    fn a_folder_of_objects_read_whole_is_skipped_until_its_entries_change() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for name in [
            "v1/a/1.json",
            "v1/a/2.json",
            "v1/a/upload#1",
            "v1/b/3.json",
            "v1/c/4.json",
            "v1/c/d/5.json",
            "v1/e/6.json",
        ] {
            put(root, name);
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("v1/a/1.json"), root.join("v1/e/7.json")).expect("ln");
        let all = walked(root, &Path::default());
        let (keys, unchanged, read) =
            listing(root, &Path::default(), &knowing(&BTreeMap::new())).expect("list");
        assert_eq!(keys, all);
        assert!(unchanged.is_empty());
        // Folders of objects only: not `v1/c` (a subfolder), not `v1/e` (a symlink), not `v1`.
        let objects: Vec<(&str, u64)> = read.iter().map(|(k, f)| (k.as_str(), f.objects)).collect();
        let mut expected = vec![("v1/a", 2), ("v1/b", 1), ("v1/c/d", 1)];
        if cfg!(not(unix)) {
            expected.clear();
        }
        assert_eq!(objects, expected);

        // The next listing skips them and sends the other keys.
        let (keys, unchanged, again) =
            listing(root, &Path::default(), &knowing(&read)).expect("list");
        if cfg!(not(unix)) {
            return;
        }
        assert_eq!(keys, ["v1/c/4.json", "v1/e/6.json", "v1/e/7.json"]);
        assert_eq!(
            unchanged,
            [("v1/a".into(), 2), ("v1/b".into(), 1), ("v1/c/d".into(), 1)]
        );
        assert!(again.is_empty(), "{again:?}");
        // Untrusted stamps: everything is read, nothing recorded.
        let untrusted = Known {
            folders: read.clone(),
            before: None,
        };
        let (keys, unchanged, none) = listing(root, &Path::default(), &untrusted).expect("list");
        assert_eq!((keys, unchanged.len(), none.len()), (all, 0, 0));

        // A file added, a file removed, a folder replaced: each read again. (In the second of a
        // stamp, a change could keep it: a pull records only folders changed in an earlier
        // second than its start.)
        next_second();
        put(root, "v1/a/8.json");
        std::fs::remove_file(root.join("v1/b/3.json")).expect("rm");
        std::fs::rename(root.join("v1/c/d"), root.join("v1/c/old")).expect("mv");
        put(root, "v1/c/d/5.json");
        let (keys, unchanged, read) =
            listing(root, &Path::default(), &knowing(&read)).expect("list");
        assert_eq!(
            keys,
            [
                "v1/a/1.json",
                "v1/a/2.json",
                "v1/a/8.json",
                "v1/c/4.json",
                "v1/c/d/5.json",
                "v1/c/old/5.json",
                "v1/e/6.json",
                "v1/e/7.json"
            ]
        );
        assert!(unchanged.is_empty(), "{unchanged:?}");
        let objects: Vec<(&str, u64)> = read.iter().map(|(k, f)| (k.as_str(), f.objects)).collect();
        assert_eq!(
            objects,
            [("v1/a", 3), ("v1/b", 0), ("v1/c/d", 1), ("v1/c/old", 1)]
        );
        // A folder's own stamp is not one from another folder.
        let swapped: BTreeMap<String, Folder> = [("v1/c/d".to_string(), read["v1/c/old"])].into();
        let (_, unchanged, _) = listing(root, &Path::default(), &knowing(&swapped)).expect("list");
        assert!(unchanged.is_empty(), "{unchanged:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_changed_since_the_pull_started_is_not_recorded() {
        let tmp = tempfile::tempdir().expect("tmp");
        put(tmp.path(), "v1/a/1.json");
        let dir = tmp.path().join("v1/a");
        let changed = changed(&std::fs::metadata(&dir).expect("stat")).expect("ctime");
        // Changed in the second the pull started in, before or after its start: a later change
        // could keep the stamp.
        for before in [changed, (changed.0, 999_999_999), (changed.0 - 1, 0)] {
            let known = Known {
                folders: BTreeMap::new(),
                before: Some(before),
            };
            let (keys, _, read) = listing(tmp.path(), &Path::default(), &known).expect("list");
            assert_eq!(keys, ["v1/a/1.json"]);
            assert!(read.is_empty(), "{before:?}: {read:?}");
        }
        let known = Known {
            folders: BTreeMap::new(),
            before: Some((changed.0 + 1, 0)),
        };
        let (_, _, read) = listing(tmp.path(), &Path::default(), &known).expect("list");
        assert_eq!(read.keys().collect::<Vec<_>>(), ["v1/a"]);
    }

    #[test]
    fn stamps_are_trusted_only_on_file_systems_with_this_machines_clock() {
        let tmp = tempfile::tempdir().expect("tmp");
        let started = tmp.path().join("pulling");
        std::fs::write(&started, "").expect("write");
        // Not the place the tests run in, but never procfs.
        let proc = Known::new(FsPath::new("/proc/self"), BTreeMap::new(), &started);
        assert_eq!(proc.before, None);
        let missing = Known::new(tmp.path(), BTreeMap::new(), &tmp.path().join("nowhere"));
        assert_eq!(missing.before, None);
        if cfg!(target_os = "linux") && local_times(tmp.path()) {
            let known = Known::new(tmp.path(), BTreeMap::new(), &started);
            assert_eq!(
                known.before,
                changed(&std::fs::metadata(&started).expect("stat"))
            );
        }
    }

    #[test]
    fn folders_come_back_from_their_bytes_and_nothing_else() {
        let folder = Folder {
            stamp: Stamp {
                device: 2049,
                inode: u64::MAX,
                modified: (-1, 999_999_999),
                changed: (1_700_000_000, 0),
            },
            objects: 12_345,
        };
        let bytes = folder.to_bytes();
        assert_eq!(bytes.len(), FOLDER_BYTES);
        assert_eq!(Folder::from_bytes(&bytes), Some(folder));
        for bad in [
            &bytes[..55],
            &[bytes.as_slice(), &[0]].concat()[..],
            &[][..],
        ] {
            assert_eq!(Folder::from_bytes(bad), None);
        }
    }

    fn walked(root: &FsPath, prefix: &Path) -> Vec<String> {
        listed(root, prefix).expect("list")
    }

    #[test]
    fn lists_the_keys_local_file_system_lists() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        let names = [
            "v1/batect/0.80.0/a.json",
            "v1/batect/0.80.0/b c.json",
            "v1/batect/0.80.0/100%.json",
            "v1/batect/0.80.0/ünïcødé {x}.json",
            "v1/batect/0.81.0/deep/er/c.json",
            "v1/batect/0.81.0/upload#1",
            "v1/batect/0.81.0/upload#",
            "v1/batect/0.81.0/not#part",
            "v1/batect/0.81.0/.hidden",
            "v1/other/d.json",
            "top.json",
        ];
        for n in names {
            let p = root.join(n);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, n).expect("write");
        }
        std::fs::create_dir_all(root.join("v1/batect/empty")).expect("mkdir");
        #[cfg(unix)]
        {
            let at = root.join("v1/batect");
            std::os::unix::fs::symlink(root.join("top.json"), at.join("link.json")).expect("ln");
            std::os::unix::fs::symlink(root.join("nowhere"), at.join("broken.json")).expect("ln");
            std::os::unix::fs::symlink(root.join("v1/other"), at.join("linked")).expect("ln");
        }
        for prefix in [
            Path::default(),
            Path::from("v1/batect"),
            Path::from("v1/batect/0.81.0"),
            Path::from("missing"),
        ] {
            let expected = through_object_store(root, &prefix);
            assert_eq!(walked(root, &prefix), expected, "prefix {prefix}");
        }
        // The walk saw something worth comparing.
        assert!(walked(root, &Path::from("v1/batect")).len() >= 9);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_an_error_as_through_local_file_system() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("v1/batect");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::os::unix::fs::symlink(&dir, dir.join("again")).expect("ln");
        let err = listed(tmp.path(), &Path::default()).expect_err("a loop");
        assert!(err.to_string().contains("loop"), "{err}");
        // Deeper: a folder's symlink to a folder above it, found by a walking thread.
        std::fs::remove_file(dir.join("again")).expect("rm");
        std::fs::create_dir_all(dir.join("0.81.0/deep")).expect("mkdir");
        std::fs::create_dir_all(dir.join("0.80.0")).expect("mkdir");
        std::os::unix::fs::symlink(tmp.path().join("v1"), dir.join("0.81.0/deep/up")).expect("ln");
        let err = listed(tmp.path(), &Path::default()).expect_err("a deeper loop");
        assert!(err.to_string().contains("up"), "{err}");
        let store = LocalFileSystem::new_with_prefix(tmp.path()).expect("store");
        let listed: Result<Vec<_>, _> = futures::executor::block_on(store.list(None).try_collect());
        assert!(listed.is_err(), "LocalFileSystem listed it: {listed:?}");
    }

    #[test]
    fn a_name_object_store_cannot_hold_is_listed_for_the_pull_to_report() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::write(tmp.path().join("bell\u{7}.json"), "{}").expect("write");
        std::fs::write(tmp.path().join("fine.json"), "{}").expect("write");
        let keys = walked(tmp.path(), &Path::default());
        assert_eq!(keys, ["bell\u{7}.json", "fine.json"]);
        assert!(Path::parse(&keys[0]).is_err());
        // LocalFileSystem refuses the whole listing.
        let store = LocalFileSystem::new_with_prefix(tmp.path()).expect("store");
        let listed: Result<Vec<_>, _> = futures::executor::block_on(store.list(None).try_collect());
        assert!(listed.is_err(), "LocalFileSystem listed it: {listed:?}");
    }
}
