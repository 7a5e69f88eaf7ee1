//! A local folder as a source: listed by walking its folders, its files read directly.
//!
//! object_store's `LocalFileSystem` lists a folder with three `stat`s per file (a broken-symlink
//! check, an is-file check and the metadata), each resolving the absolute path from `/`: on a
//! folder of 100,000 objects that is most of an incremental pull. A pull needs only the keys
//! (an object's size comes with its GET), so this walk reads the directory entries' types (a
//! `stat` only for symlinks) and yields exactly the keys `LocalFileSystem` lists; the pull then
//! reads the files those keys name, as `LocalFileSystem` would GET them, many per blocking task.

use std::io::ErrorKind;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use object_store::path::Path;

/// The keys under `prefix` of the `LocalFileSystem` rooted at `root`, in no particular order,
/// handed to `send` a chunk at a time (a listing is never held whole). A missing folder lists
/// nothing, as it does through `LocalFileSystem`. Keys are the file names joined by `/`, not
/// checked against object_store's path rules (`LocalFileSystem` refuses the whole listing for
/// one bad name; the pull reports that object alone).
///
/// The subfolders of the first level that has several (an Abacus bucket's application
/// versions) are walked on several threads.
pub fn list(
    root: &FsPath,
    prefix: &Path,
    send: &(dyn Fn(Vec<String>) + Sync),
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
        walk(&dir, &key, &mut keys, Some(&mut subfolders), send)?;
    }
    send(keys);
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
                            send(keys);
                            return Ok(());
                        };
                        walk(dir, key, &mut keys, None, send)?;
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
/// an error.
fn walk(
    dir: &FsPath,
    key: &str,
    keys: &mut Vec<String>,
    mut subfolders: Option<&mut Vec<(PathBuf, String)>>,
    send: &(dyn Fn(Vec<String>) + Sync),
) -> Result<(), object_store::Error> {
    // Folders still to read, with their keys.
    let mut pending = vec![(dir.to_path_buf(), key.to_string())];
    while let Some((dir, key)) = pending.pop() {
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
                keys.push(child);
                if keys.len() >= CHUNK {
                    send(std::mem::take(keys));
                }
            }
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
        let keys = std::sync::Mutex::new(Vec::new());
        list(root, prefix, &|chunk| {
            keys.lock().expect("lock").extend(chunk)
        })?;
        let mut keys = keys.into_inner().expect("lock");
        keys.sort();
        Ok(keys)
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
