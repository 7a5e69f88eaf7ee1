//! A local folder as a source: listed with one directory walk, its files read directly.
//!
//! object_store's `LocalFileSystem` lists a folder with three `stat`s per file (a broken-symlink
//! check, an is-file check and the metadata), each resolving the absolute path from `/`: on a
//! folder of 100,000 objects that is most of an incremental pull. A pull needs only the keys
//! (an object's size comes with its GET), so this walk reads the directory entries' types (a
//! `stat` only for symlinks) and yields exactly the keys `LocalFileSystem` lists; the pull then
//! reads the files those keys name, as `LocalFileSystem` would GET them, many per blocking task.

use std::path::{Path as FsPath, PathBuf};

use object_store::path::Path;

/// The keys under `prefix` of the `LocalFileSystem` rooted at `root`, in no particular order.
/// A missing folder lists nothing, as it does through `LocalFileSystem`.
pub fn list(root: &FsPath, prefix: &Path) -> Result<Vec<Path>, object_store::Error> {
    let dir = prefix
        .parts()
        .fold(root.to_path_buf(), |d, part| d.join(part.as_ref()));
    let walk = walkdir::WalkDir::new(&dir).min_depth(1).follow_links(true);
    let mut keys = Vec::new();
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            // Broken symlinks and files removed while walking are not objects.
            Err(e) if e.io_error().map(|io| io.kind()) == Some(std::io::ErrorKind::NotFound) => {
                continue;
            }
            Err(e) => return Err(failed(e.to_string())),
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let mut key = prefix.as_ref().to_string();
        let relative = entry.path().strip_prefix(&dir).unwrap_or(entry.path());
        for part in relative.components() {
            let part = part.as_os_str().to_str().ok_or_else(|| {
                failed(format!(
                    "{} is not a UTF-8 file name",
                    entry.path().display()
                ))
            })?;
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(part);
        }
        let key =
            Path::parse(&key).map_err(|e| failed(format!("{}: {e}", entry.path().display())))?;
        if is_object(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The file (or folder) a key names under `root`, as `LocalFileSystem` maps it.
pub fn file(root: &FsPath, key: &Path) -> PathBuf {
    key.parts()
        .fold(root.to_path_buf(), |d, part| d.join(part.as_ref()))
}

/// `LocalFileSystem` keeps an upload's parts as `NAME#N` files; they are not objects.
fn is_object(key: &Path) -> bool {
    match key.filename().and_then(|f| f.split_once('#')) {
        Some((_, suffix)) => suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()),
        None => key.filename().is_some(),
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

    fn walked(root: &FsPath, prefix: &Path) -> Vec<String> {
        let mut keys: Vec<String> = list(root, prefix)
            .expect("list")
            .into_iter()
            .map(|k| k.to_string())
            .collect();
        keys.sort();
        keys
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

    #[test]
    fn a_name_object_store_cannot_hold_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::write(tmp.path().join("bell\u{7}.json"), "{}").expect("write");
        let err = list(tmp.path(), &Path::default()).expect_err("control character");
        assert!(err.to_string().contains("bell"), "{err}");
        through_object_store_fails(tmp.path());
    }

    fn through_object_store_fails(root: &FsPath) {
        let store = LocalFileSystem::new_with_prefix(root).expect("store");
        let listed: Result<Vec<_>, _> = futures::executor::block_on(store.list(None).try_collect());
        assert!(listed.is_err(), "LocalFileSystem listed it: {listed:?}");
    }
}
