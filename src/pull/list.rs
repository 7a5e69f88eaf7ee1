//! Listing a source's keys, in key order.
//!
//! A cloud bucket is listed in disjoint parts at once, so a million keys are not a thousand
//! round trips in a row: the first level of several folders under the prefix (found with
//! delimiter listings, following single folders down: `v1/` → `v1/batect/`), and each of those
//! folders in ranges of its keys' first character (Abacus keys below a version start with a hex
//! digit), each range listed from its start with `list_with_offset` until it reaches the next. A local folder is walked once (`LocalFileSystem` has no cheaper
//! ranges). Either way the keys come back sorted, as object stores promise for one listing.

use anyhow::Result;
use futures::StreamExt;
use indicatif::ProgressBar;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use crate::store::Bucket;
use crate::store::s3_list::Lister;

/// Attempts at one listing request beyond object_store's own retries (which do not cover a
/// body cut off mid-way).
const LIST_ATTEMPTS: u32 = 5;

/// Errors worth another attempt: transport and server trouble.
fn is_transient(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::Generic { .. })
}

fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis(100 << attempt.min(6))
}

/// `f` again after a transient error, a few times.
async fn retried<T, F, Fut>(f: F) -> object_store::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = object_store::Result<T>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if is_transient(&e) && attempt < LIST_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}

/// How many levels of single folders below the prefix are followed down.
const DEPTH: usize = 3;
/// Where a folder's keys are split: before each of these first characters.
const SPLITS: &str = "0123456789abcdef";

/// What a listing found: every key under the bucket's prefix, relative to its root, sorted;
/// and the entries that are not objects a GET can read, each reported once.
#[derive(Debug, Default)]
pub struct Listed {
    pub keys: Vec<String>,
    pub unreadable: Vec<Unreadable>,
}

/// A listing entry that is not an object a GET can read: a file name that is not UTF-8 or not
/// a valid key, a symlink that cannot be resolved or leads out of the source's folder, a
/// folder that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The entry's name relative to the bucket's root, bytes that are not UTF-8 as `\xNN`.
    pub key: String,
    /// The rule it is quarantined with (`listing.name`, `listing.symlink`), or `None` when it
    /// may read another time (an unreadable folder): then it is a failed object, not recorded.
    pub rule: Option<&'static str>,
    pub reason: String,
}

/// Lists the bucket (see the module's doc).
pub async fn keys(bucket: &Bucket, concurrency: usize, progress: &ProgressBar) -> Result<Listed> {
    if let Some(folder) = &bucket.folder {
        let start = bucket.rel(&bucket.prefix).unwrap_or_default().to_string();
        let (folder, progress) = (folder.clone(), progress.clone());
        return tokio::task::spawn_blocking(move || walk(&folder, &start, &progress))
            .await
            .map_err(|e| anyhow::anyhow!("the listing stopped: {e}"));
    }
    let store = bucket.store.clone();
    let parallel = concurrency.max(1);
    let mut found: Vec<Path> = Vec::new();
    let mut folders = vec![bucket.prefix.clone()];
    let mut leaves = Vec::new();
    if bucket.ordered {
        // Down the folders while there is only one (`v1/` → `v1/batect/`), to the first level
        // with several: those are listed in ranges. A folder's delimiter listing also gives
        // the objects right in it.
        for _ in 0..DEPTH {
            let listed: Vec<_> = futures::stream::iter(folders.iter().cloned())
                .map(|p| {
                    let store = store.clone();
                    async move {
                        let listed = retried(|| store.list_with_delimiter(Some(&p))).await;
                        (p, listed)
                    }
                })
                .buffered(parallel)
                .collect()
                .await;
            let mut next = Vec::new();
            for (folder, l) in listed {
                let l = match l {
                    Ok(l) => l,
                    // A name object_store cannot hold below it: listed whole, where the
                    // bucket's own list client can read past it.
                    Err(object_store::Error::InvalidPath { .. }) if bucket.lister.is_some() => {
                        leaves.push(folder);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                if l.objects.is_empty() && l.common_prefixes.is_empty() {
                    // Empty, or a server that leaves out prefixes more than one level deep
                    // (s3rver 3.7): listed in ranges, which finds the keys either way.
                    leaves.push(folder);
                    continue;
                }
                found.extend(l.objects.into_iter().map(|m| m.location));
                next.extend(l.common_prefixes);
            }
            folders = next;
            if folders.len() != 1 {
                break;
            }
        }
    }
    leaves.extend(folders);
    let folders = leaves;
    // Each folder whole (a local one; or when there are enough folders to keep the
    // listings busy), or in ranges of keys (a cloud bucket with few folders). Ranges cost the
    // server more: s3rver and moto read a folder whole for every request, so on them ranges
    // of a folder were slower than the folder listed whole (bench/BENCHMARKS.md, (g)).
    let whole = !bucket.ordered || folders.len() * 4 >= parallel;
    let ranges: Vec<(Path, Option<Path>, Option<Path>)> = folders
        .into_iter()
        .flat_map(|folder| {
            if whole {
                return vec![(folder, None, None)];
            }
            let bounds: Vec<Path> = SPLITS
                .chars()
                .map(|c| folder.clone().join(c.to_string()))
                .collect();
            let mut parts = Vec::with_capacity(bounds.len() + 1);
            parts.push((folder.clone(), None, bounds.first().cloned()));
            for (i, start) in bounds.iter().enumerate() {
                parts.push((
                    folder.clone(),
                    Some(start.clone()),
                    bounds.get(i + 1).cloned(),
                ));
            }
            parts
        })
        .collect();
    let mut parts = futures::stream::iter(ranges)
        .map(|(folder, from, until)| {
            let store = store.clone();
            let lister = bucket.lister.clone();
            let ordered = bucket.ordered;
            async move {
                let (from, until) = (from.as_ref(), until.as_ref());
                let range = Range {
                    folder: &folder,
                    from,
                    until,
                };
                list_range(store.as_ref(), lister.as_deref(), &range, ordered).await
            }
        })
        .buffered(parallel);
    let mut unreadable = Vec::new();
    while let Some(part) = parts.next().await {
        let (paths, errors) = part?;
        found.extend(paths);
        unreadable.extend(errors.into_iter().map(|e| Unreadable {
            key: unnamed_key(bucket, &e),
            rule: Some("listing.name"),
            reason: format!("not a valid object name: {e}"),
        }));
        progress.set_message(format!("{} objects listed", found.len()));
    }
    let mut keys: Vec<String> = found
        .iter()
        .filter_map(|p| bucket.rel(p).map(str::to_string))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    // Ranges that meet at a split point may both see an entry there.
    unreadable.sort_by(|a, b| a.key.cmp(&b.key));
    unreadable.dedup_by(|a, b| a.key == b.key);
    Ok(Listed { keys, unreadable })
}

/// Lists a local folder: the files below `root/start`, as keys relative to `root`, sorted.
/// Symlinks are resolved: one to a file inside `root` is listed under its own name, one to a
/// folder is not followed (its target is listed where it is, and no loop is walked), and one
/// that leads out of `root`, to itself, round a loop or nowhere is an entry of its own, as is a
/// name that is not UTF-8. A folder that cannot be read is reported and the walk goes on.
fn walk(root: &std::path::Path, start: &str, progress: &ProgressBar) -> Listed {
    let mut listed = Listed::default();
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut folders = vec![start.trim_matches('/').to_string()];
    while let Some(rel) = folders.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let unreadable = |e: std::io::Error| Unreadable {
            key: format!("{rel}/"),
            rule: None,
            reason: format!("cannot read the folder: {e}"),
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e)
                if rel == start.trim_matches('/') && e.kind() == std::io::ErrorKind::NotFound =>
            {
                continue; // a prefix with nothing under it
            }
            Err(e) => {
                listed.unreadable.push(unreadable(e));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    listed.unreadable.push(unreadable(e));
                    break;
                }
            };
            let name = entry.file_name();
            let key = match rel.as_str() {
                "" => escaped(name.as_encoded_bytes()),
                _ => format!("{rel}/{}", escaped(name.as_encoded_bytes())),
            };
            let Some(text) = name.to_str() else {
                listed.unreadable.push(Unreadable {
                    key,
                    rule: Some("listing.name"),
                    reason: "the file name is not UTF-8".into(),
                });
                continue;
            };
            if let Err(e) = object_store::path::PathPart::parse(text) {
                listed.unreadable.push(Unreadable {
                    key,
                    rule: Some("listing.name"),
                    reason: format!("not a valid object name: {e}"),
                });
                continue;
            }
            let path = entry.path();
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(e) => {
                    listed.unreadable.push(Unreadable {
                        key,
                        rule: None,
                        reason: format!("cannot read the entry: {e}"),
                    });
                    continue;
                }
            };
            if kind.is_dir() {
                folders.push(key);
            } else if kind.is_symlink() {
                let symlink = |reason: String| Unreadable {
                    key: key.clone(),
                    rule: Some("listing.symlink"),
                    reason,
                };
                match std::fs::canonicalize(&path) {
                    Err(e) => listed
                        .unreadable
                        .push(symlink(format!("a symlink that does not resolve: {e}"))),
                    Ok(target) if !target.starts_with(&real_root) => listed.unreadable.push(
                        symlink("a symlink out of the source's folder, not followed".into()),
                    ),
                    Ok(target) if target.is_dir() => listed.unreadable.push(symlink(
                        "a symlink to a folder, not followed (the folder is listed where it is)"
                            .into(),
                    )),
                    Ok(_) => listed.keys.push(key),
                }
            } else {
                listed.keys.push(key);
            }
        }
        progress.set_message(format!("{} objects listed", listed.keys.len()));
    }
    listed.keys.sort_unstable();
    listed.unreadable.sort_by(|a, b| a.key.cmp(&b.key));
    listed
}

/// A file name's bytes as text, each byte that is not part of valid UTF-8 as `\xNN`.
fn escaped(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The key an entry the store could not name would have: the path its error quotes, relative
/// to the bucket's root (object_store says `Error parsing Path "…"`), or the error itself.
fn unnamed_key(bucket: &Bucket, error: &str) -> String {
    let quoted = error
        .split_once("Path \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(path, _)| path);
    match quoted {
        Some(path) => {
            let root = bucket.root.as_ref();
            path.strip_prefix(root)
                .map(|p| p.trim_start_matches('/'))
                .unwrap_or(path)
                .to_string()
        }
        None => error.to_string(),
    }
}

/// The keys of `folder` after `from` (the start when `None`) up to `until` (inclusive: an
/// object named exactly as a split point belongs to the range before it; the end when
/// `None`).
struct Range<'a> {
    folder: &'a Path,
    from: Option<&'a Path>,
    until: Option<&'a Path>,
}

/// Lists `range`. An entry the store cannot name (an invalid path) is given back as an error
/// of its own; where object_store fails a whole S3 page for one (see [`s3_list`]), the rest of
/// the range is listed with `lister`. Any other error ends the listing, unless it is one in
/// transit: a listing cut off by the server (a body that ends mid-way, a reset), whole or a
/// range, goes on after the last key it gave when the store lists in key order, and starts
/// again when it does not.
///
/// [`s3_list`]: crate::store::s3_list
async fn list_range(
    store: &dyn ObjectStore,
    lister: Option<&Lister>,
    range: &Range<'_>,
    ordered: bool,
) -> Result<(Vec<Path>, Vec<String>)> {
    let Range {
        folder,
        from,
        until,
    } = *range;
    let (mut out, mut unnamed) = (Vec::new(), Vec::new());
    let mut attempt = 0;
    let mut after: Option<Path> = from.cloned();
    'listing: loop {
        let mut stream = match &after {
            Some(offset) => store.list_with_offset(Some(folder), offset),
            None => store.list(Some(folder)),
        };
        while let Some(meta) = stream.next().await {
            let location = match meta {
                Ok(ObjectMeta { location, .. }) => location,
                Err(object_store::Error::InvalidPath { .. })
                    if ordered && let Some(lister) = lister =>
                {
                    let after = out.last().or(from).map(|p: &Path| p.as_ref().to_string());
                    let (more, bad) = list_raw(lister, folder, after, until).await?;
                    out.extend(more);
                    unnamed.extend(bad);
                    break 'listing;
                }
                Err(e @ object_store::Error::InvalidPath { .. }) => {
                    unnamed.push(e.to_string());
                    continue;
                }
                Err(e) if is_transient(&e) && attempt < LIST_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    if ordered {
                        after = out.last().cloned().or_else(|| from.cloned());
                    } else {
                        out.clear();
                        unnamed.clear();
                    }
                    continue 'listing;
                }
                Err(e) => return Err(e.into()),
            };
            // Ranges are only made of cloud listings, which come in key order.
            if until.is_some_and(|u| location.as_ref() > u.as_ref()) {
                break 'listing;
            }
            out.push(location);
        }
        break;
    }
    Ok((out, unnamed))
}

/// The keys of `folder` after `after` up to `until`, with the bucket's own list client: those
/// a path can hold, and the errors of those it cannot (as object_store words them).
async fn list_raw(
    lister: &Lister,
    folder: &Path,
    mut after: Option<String>,
    until: Option<&Path>,
) -> Result<(Vec<Path>, Vec<String>)> {
    let prefix = match folder.as_ref() {
        "" => String::new(),
        f => format!("{f}/"),
    };
    let (mut out, mut unnamed) = (Vec::new(), Vec::new());
    loop {
        let mut attempt = 0;
        let page = loop {
            match lister.page(&prefix, after.as_deref()).await {
                Ok(page) => break page,
                Err(_) if attempt < LIST_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        };
        for key in &page.keys {
            if until.is_some_and(|u| key.as_str() > u.as_ref()) {
                return Ok((out, unnamed));
            }
            match Path::parse(key) {
                Ok(p) => out.push(p),
                Err(e) => unnamed.push(e.to_string()),
            }
        }
        match page.keys.last() {
            Some(last) if page.truncated => after = Some(last.clone()),
            _ => return Ok((out, unnamed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_listing_split_in_ranges_gives_every_key_once_in_order() {
        let store = Arc::new(InMemory::new());
        let names = [
            "p/v1/0abc.json",
            "p/v1/a",
            "p/v1/a0.json",
            "p/v1/f99.json",
            "p/v1/zz.json",
            "p/v1/-x.json",
            "p/v1/sub/deep/x.json",
            "p/v2/3.json",
            "p/top.json",
            "q/other.json",
        ];
        for n in names {
            store.put(&Path::from(n), "x".into()).await.expect("put");
        }
        let mut bucket = Bucket::new(store, Path::from("p"));
        bucket.ordered = true;
        for parallel in [1, 3, 64] {
            let listed = keys(&bucket, parallel, &ProgressBar::hidden())
                .await
                .expect("listed");
            let mut want: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| n.starts_with("p/"))
                .collect();
            want.sort_unstable();
            assert_eq!(listed.keys, want, "{parallel} at once");
            assert!(listed.unreadable.is_empty());
        }
    }
}
