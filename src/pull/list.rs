//! Listing a source's keys, in key order.
//!
//! A cloud bucket is listed in disjoint parts at once, so a million keys are not a thousand
//! round trips in a row: the first level of several folders under the prefix (found with
//! delimiter listings, following single folders down: `v1/` → `v1/batect/`), and each of those
//! folders in ranges of its keys' first character (Abacus keys below a version start with a hex
//! digit), each range listed from its start with `list_with_offset` until it reaches the next. A local folder is walked once (`LocalFileSystem` has no cheaper
//! ranges). Either way the keys come back sorted, as object stores promise for one listing.

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use crate::store::Bucket;

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
/// and the entries the store could not name (a local file whose name is not a valid key), each
/// with its error.
#[derive(Debug, Default)]
pub struct Listed {
    pub keys: Vec<String>,
    pub unnamed: Vec<(String, String)>,
}

/// Lists the bucket (see the module's doc).
pub async fn keys(bucket: &Bucket, concurrency: usize, progress: &ProgressBar) -> Result<Listed> {
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
                        listed.map(|l| (p, l))
                    }
                })
                .buffered(parallel)
                .try_collect()
                .await?;
            let mut next = Vec::new();
            for (folder, l) in listed {
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
            async move { list_range(store.as_ref(), &folder, from.as_ref(), until.as_ref()).await }
        })
        .buffered(parallel);
    let mut unnamed = Vec::new();
    while let Some(part) = parts.next().await {
        let (paths, errors) = part?;
        found.extend(paths);
        unnamed.extend(errors.into_iter().map(|e| (unnamed_key(bucket, &e), e)));
        progress.set_message(format!("{} objects listed", found.len()));
    }
    let mut keys: Vec<String> = found
        .iter()
        .filter_map(|p| bucket.rel(p).map(str::to_string))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    Ok(Listed { keys, unnamed })
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
/// An entry the store cannot name (an invalid path) is given back as an error of its own; any
/// other error ends the listing.
async fn list_range(
    store: &dyn ObjectStore,
    folder: &Path,
    from: Option<&Path>,
    until: Option<&Path>,
) -> object_store::Result<(Vec<Path>, Vec<String>)> {
    let (mut out, mut unnamed) = (Vec::new(), Vec::new());
    let mut attempt = 0;
    // A listing cut off by the server (a body that ends mid-way, a reset) goes on after the
    // last key it gave; a local folder's, which has no order to go on from, starts again.
    let mut after: Option<Path> = from.cloned();
    'listing: loop {
        let mut stream = match &after {
            Some(offset) => store.list_with_offset(Some(folder), offset),
            None => store.list(Some(folder)),
        };
        while let Some(meta) = stream.next().await {
            let location = match meta {
                Ok(ObjectMeta { location, .. }) => location,
                Err(e @ object_store::Error::InvalidPath { .. }) => {
                    unnamed.push(e.to_string());
                    continue;
                }
                Err(e)
                    if is_transient(&e)
                        && attempt < LIST_ATTEMPTS
                        && (from.is_some() || until.is_some()) =>
                {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    after = out.last().cloned().or_else(|| from.cloned());
                    continue 'listing;
                }
                Err(e) if is_transient(&e) && attempt < LIST_ATTEMPTS && out.is_empty() => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    continue 'listing;
                }
                Err(e) => return Err(e),
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
            assert!(listed.unnamed.is_empty());
        }
    }
}
