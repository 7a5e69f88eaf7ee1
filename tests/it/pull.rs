use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use report::config::Source;
use report::pull::{self, Summary};
use report::warehouse::Warehouse;

use crate::common::{files, fixtures, invalid_fixtures, repo, same_warehouse, settings};

/// A store that counts the GETs it serves.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn ObjectStore>,
    gets: AtomicUsize,
}

impl fmt::Display for Counting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Counting {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get_opts(location, options).await
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// Copies `names` (relative to `from`) into `to`, keeping their folders.
fn copy(from: &std::path::Path, names: &[std::path::PathBuf], to: &std::path::Path) {
    for f in names {
        let dest = to.join(f);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(f), &dest).expect("copy");
    }
}

async fn pull_counted(s: &report::config::Settings, store: Arc<Counting>) -> Summary {
    let mut wh = Warehouse::open(&s.warehouse).expect("open");
    let mut summary = Summary::default();
    pull::pull_source(
        &pull::store::Bucket::new(store, Path::default()),
        &s.sources[0],
        s,
        &mut wh,
        &mut summary,
    )
    .await
    .expect("pull");
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pull_gets_no_object_twice() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(tmp.path(), &[("batect", &fixtures())]);
    let local: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(fixtures()).expect("store"));
    let n = files(&fixtures()).len();

    let first = Arc::new(Counting {
        inner: local.clone(),
        gets: AtomicUsize::new(0),
    });
    let summary = pull_counted(&s, first.clone()).await;
    assert_eq!(first.gets.load(Ordering::SeqCst), n);
    assert_eq!(summary.sessions as usize, n);

    let second = Arc::new(Counting {
        inner: local,
        gets: AtomicUsize::new(0),
    });
    let summary = pull_counted(&s, second.clone()).await;
    assert_eq!(
        second.gets.load(Ordering::SeqCst),
        0,
        "objects fetched again"
    );
    assert_eq!(summary.already_ingested as usize, n);
    assert_eq!(summary.sessions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_objects_are_quarantined_with_their_rule_and_valid_ones_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Valid and invalid objects side by side in one bucket.
    let bucket = tmp.path().join("bucket");
    for dir in [fixtures(), invalid_fixtures()] {
        copy(&dir, &files(&dir), &bucket);
    }
    let s = settings(tmp.path(), &[("batect", &bucket)]);
    let summary = report::pipeline::pull_only(&s).await.expect("pull");
    let invalid = files(&invalid_fixtures());
    assert!(invalid.len() >= 20);
    assert_eq!(summary.quarantined.len(), invalid.len());
    assert_eq!(summary.sessions as usize, files(&fixtures()).len());
    for q in &summary.quarantined {
        let expected = q
            .key
            .rsplit('/')
            .next()
            .and_then(|f| f.split("--").next())
            .expect("rule in key");
        assert_eq!(q.rule, expected, "{}: {}", q.key, q.message);
        // The raw object is kept for inspection.
        assert!(s.warehouse.join("quarantine/batect").join(&q.key).exists());
    }
    // The objects table says the same, and a second pull does not look at them again.
    let wh = Warehouse::open(&s.warehouse).expect("open");
    let mut quarantined = 0;
    wh.read_strings("objects", &["status"], |r| {
        quarantined += usize::from(r[0] == "quarantined")
    })
    .expect("read");
    assert_eq!(quarantined, invalid.len());
    let again = report::pipeline::pull_only(&s).await.expect("pull");
    assert!(again.is_clean());
    assert_eq!(again.fetched, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_under_two_keys_is_kept_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let some: Vec<_> = files(&fixtures()).into_iter().take(5).collect();
    for f in &some {
        for copy in ["a", "b"] {
            let to = bucket.join(copy).join(f);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(fixtures().join(f), &to).expect("copy");
        }
    }
    let s = settings(tmp.path(), &[("batect", &bucket)]);
    let summary = report::pipeline::pull_only(&s).await.expect("pull");
    assert_eq!(summary.sessions, 5);
    assert_eq!(summary.duplicates, 5);
    // Also across pulls: a third copy arriving later is a duplicate too.
    let to = bucket.join("c").join(&some[0]);
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(fixtures().join(&some[0]), &to).expect("copy");
    let later = report::pipeline::pull_only(&s).await.expect("pull");
    assert_eq!((later.sessions, later.duplicates, later.fetched), (0, 1, 1));
}

/// A local folder is listed and read without object_store's `LocalFileSystem` (see
/// `pull/folder.rs`); the warehouse must be the one a pull through it gives, byte for byte:
/// same keys, sizes, modification times (PACE snapshots are timed by them), quarantined copies
/// and manifest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_folder_pulls_exactly_as_through_local_file_system() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    for dir in [fixtures(), invalid_fixtures()] {
        copy(&dir, &files(&dir), &bucket);
    }
    let pace = repo().join("fixtures/pace");
    for (name, format, folder) in [("batect", "abacus", &bucket), ("pace", "pace", &pace)] {
        let configure = |dir: &str| {
            let mut s = settings(&tmp.path().join(name).join(dir), &[]);
            let url = folder.to_string_lossy();
            let format = report::formats::by_name(format).expect("format");
            s.sources = vec![Source::new(name, format, &url).expect("source")];
            s
        };
        let through_store = configure("store");
        let store = Arc::new(Counting {
            inner: Arc::new(LocalFileSystem::new_with_prefix(folder).expect("store")),
            gets: AtomicUsize::new(0),
        });
        let a = pull_counted(&through_store, store.clone()).await;
        assert_eq!(store.gets.load(Ordering::SeqCst), files(folder).len());

        let direct = configure("folder");
        let b = report::pipeline::pull_only(&direct).await.expect("pull");
        assert_eq!(
            (a.listed, a.sessions, a.bytes, a.quarantined.len()),
            (b.listed, b.sessions, b.bytes, b.quarantined.len()),
            "{name}"
        );
        assert!(b.sessions > 0, "{name}: {b}");
        same_warehouse(&through_store, &direct);
    }
}

/// A file whose name object_store cannot hold is reported as failed (so the exit code says so
/// and the next pull tries it again); the other objects are pulled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_name_object_store_cannot_hold_fails_alone() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let some: Vec<_> = files(&fixtures()).into_iter().take(5).collect();
    copy(&fixtures(), &some, &bucket);
    std::fs::copy(fixtures().join(&some[0]), bucket.join("bell\u{7}.json")).expect("copy");
    let s = settings(tmp.path(), &[("batect", &bucket)]);
    let summary = report::pipeline::pull_only(&s).await.expect("pull");
    assert_eq!(summary.sessions, 5, "{summary}");
    assert_eq!(summary.failed.len(), 1, "{summary}");
    assert_eq!(summary.failed[0].key, "bell\u{7}.json");
    assert!(!summary.is_clean());
}

/// A folder of a local bucket that a pull read whole is not read again while it is unchanged:
/// the next pull counts its objects as listed and already ingested. A folder with an object
/// that failed is read again, and the object reported again, until it no longer fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_unchanged_since_a_pull_read_them_are_not_read_again() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let all = files(&fixtures());
    let n = all.len() as u64;
    let last = all.last().expect("fixtures").clone();
    assert!(last.starts_with("v1/batect/0.84.0"), "{}", last.display());
    copy(&fixtures(), &all[..all.len() - 1], &bucket);
    let s = settings(tmp.path(), &[("batect", &bucket)]);
    // Stamps are trusted on the file systems tests run on here; elsewhere, every folder is read.
    let trusted = pull::folder::local_times(&bucket);
    // A folder is recorded only when it last changed in an earlier second than the pull's start.
    let next_second = || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        let left = 1_000_000_000 - u64::from(now.subsec_nanos());
        std::thread::sleep(std::time::Duration::from_nanos(left + 20_000_000));
    };
    let pull = || async {
        next_second();
        report::pipeline::pull_only(&s).await.expect("pull")
    };
    let first = pull().await;
    assert_eq!(
        (first.sessions, first.unchanged_folders),
        (n - 1, 0),
        "{first}"
    );

    // One object more in 0.84.0, one that cannot be fetched in 0.77.0; the other six folders
    // are not read.
    copy(&fixtures(), std::slice::from_ref(&last), &bucket);
    let old = bucket.join("v1/batect/0.77.0");
    let bad = old.join("bell\u{7}.json");
    std::fs::write(&bad, "{}").expect("write");
    let unchanged = |k: u64| if trusted { k } else { 0 };
    let second = pull().await;
    assert_eq!(
        (second.listed, second.already_ingested, second.sessions),
        (n + 1, n - 1, 1),
        "{second}"
    );
    assert_eq!(second.failed_count(), 1, "{second}");
    assert_eq!(second.unchanged_folders, unchanged(6), "{second}");

    // 0.84.0 is now recorded; 0.77.0 is read again, and its object fails again.
    let third = pull().await;
    assert_eq!(
        (third.listed, third.already_ingested, third.fetched),
        (n + 1, n, 0),
        "{third}"
    );
    assert_eq!(third.failed[0].key, "v1/batect/0.77.0/bell\u{7}.json");
    assert_eq!(third.unchanged_folders, unchanged(7), "{third}");

    std::fs::remove_file(&bad).expect("rm");
    let fourth = pull().await;
    assert!(fourth.is_clean(), "{fourth}");
    assert_eq!(fourth.unchanged_folders, unchanged(7), "{fourth}");
    let fifth = pull().await;
    assert_eq!(
        (
            fifth.listed,
            fifth.already_ingested,
            fifth.unchanged_folders
        ),
        (n, n, unchanged(8)),
        "{fifth}"
    );
    if !trusted {
        eprintln!("folder stamps are not trusted where the tests run: no folder was skipped");
    }
}

/// A listing longer than `keys_in_memory` is sorted in runs written to disk (and so are the
/// keys left to fetch): the warehouse is the one a pull sorting in memory gives, byte for byte,
/// on a first pull and on an incremental one, and no run file is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_sorted_in_runs_on_disk_pulls_as_one_sorted_in_memory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let all: Vec<_> = [fixtures(), invalid_fixtures()]
        .iter()
        .flat_map(|dir| files(dir).into_iter().map(move |f| (dir.clone(), f)))
        .collect();
    let (first, later) = all.split_at(all.len() * 2 / 3);
    let mut runs = settings(&tmp.path().join("runs"), &[("batect", &bucket)]);
    runs.pull.keys_in_memory = 7;
    let memory = settings(&tmp.path().join("memory"), &[("batect", &bucket)]);
    for (round, objects) in [first, later].into_iter().enumerate() {
        for (dir, f) in objects {
            copy(dir, std::slice::from_ref(f), &bucket);
        }
        let a = report::pipeline::pull_only(&runs).await.expect("pull");
        let b = report::pipeline::pull_only(&memory).await.expect("pull");
        assert_eq!(format!("{a}"), format!("{b}"));
        let known = if round == 0 { 0 } else { first.len() as u64 };
        assert!(a.sessions > 0 && a.already_ingested == known, "{a}");
    }
    same_warehouse(&runs, &memory);
    let left: Vec<_> = std::fs::read_dir(&runs.warehouse)
        .expect("warehouse")
        .map(|e| e.expect("entry").file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
