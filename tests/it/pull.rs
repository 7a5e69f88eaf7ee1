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
    let mut wh = crate::common::open(s).await;
    let mut summary = Summary::default();
    pull::pull_source(
        &report::store::Bucket::new(store, Path::default()),
        &s.sources[0],
        s,
        &mut wh,
        &mut summary,
        pull::Options::default(),
    )
    .await
    .expect("pull");
    // A pull compacts at its end, as `report pull` does.
    wh.compact(s.pull.target_file_bytes).await.expect("compact");
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
        assert!(
            crate::common::warehouse_dir(&s)
                .join("quarantine/batect")
                .join(&q.key)
                .exists()
        );
    }
    // The objects table says the same, and a second pull does not look at them again.
    let wh = crate::common::open(&s).await;
    let statuses = wh.read_strings("objects", &["status"]).await.expect("read");
    let quarantined = statuses.iter().filter(|r| r[0] == "quarantined").count();
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

/// A source handed over as a wrapped store (keys relative to its root) and the same folder
/// named in report.toml give the same warehouse, byte for byte: same keys, sizes, modification
/// times (PACE snapshots are timed by them), quarantined copies and commits.
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

/// A file whose name object_store cannot hold is quarantined (so the exit code says so), once:
/// the next pull counts it as quarantined before; the other objects are pulled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_name_object_store_cannot_hold_is_quarantined_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let some: Vec<_> = files(&fixtures()).into_iter().take(5).collect();
    copy(&fixtures(), &some, &bucket);
    std::fs::copy(fixtures().join(&some[0]), bucket.join("bell\u{7}.json")).expect("copy");
    let s = settings(tmp.path(), &[("batect", &bucket)]);
    let summary = report::pipeline::pull_only(&s).await.expect("pull");
    assert_eq!(summary.sessions, 5, "{summary}");
    assert_eq!(summary.quarantined.len(), 1, "{summary}");
    assert_eq!(summary.quarantined[0].key, "bell\u{7}.json");
    assert_eq!(summary.quarantined[0].rule, "listing.name");
    assert!(!summary.is_clean());
    let again = report::pipeline::pull_only(&s).await.expect("pull");
    assert!(again.is_clean(), "{again}");
    assert_eq!(again.quarantined_before, 1, "{again}");
}

/// Settings of `tmp` pulling the fixtures with `extra` keys on the Abacus source.
fn abacus_with(tmp: &std::path::Path, extra: &str) -> report::config::Settings {
    let text = format!(
        "warehouse = {:?}\n[pull]\nbatch_size = 700\ngrace_minutes = 0\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\nurl = {:?}\n{extra}\n",
        tmp.join("warehouse"),
        fixtures()
    );
    report::config::Settings::parse(
        &text,
        &tmp.join("report.toml"),
        &std::collections::BTreeMap::new(),
        &report::config::Overrides::default(),
    )
    .expect("config parses")
}

/// A first pull with the wrong application ids quarantines every session; once report.toml
/// is fixed, the next pull looks at them again (they were quarantined under another
/// configuration) and keeps every one, and the objects table keeps each object's newest row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_quarantined_under_a_wrong_configuration_are_kept_once_it_is_fixed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let n = files(&fixtures()).len() as u64;
    let wrong = abacus_with(tmp.path(), "application_ids = [\"acme-cli\"]");
    let first = report::pipeline::pull_only(&wrong).await.expect("pull");
    assert_eq!(
        (first.sessions, first.quarantined_count()),
        (0, n),
        "{first}"
    );
    assert!(
        first
            .quarantined
            .iter()
            .all(|q| q.rule == "applicationId.oneof")
    );
    // The same configuration again: they stay quarantined, and are said to be.
    let again = report::pipeline::pull_only(&wrong).await.expect("pull");
    assert_eq!((again.fetched, again.quarantined_before), (0, n), "{again}");

    let fixed = abacus_with(tmp.path(), "");
    let after = report::pipeline::pull_only(&fixed).await.expect("pull");
    assert_eq!(
        (after.sessions, after.quarantined_count()),
        (n, 0),
        "{after}"
    );
    let wh = crate::common::open(&fixed).await;
    let statuses = wh
        .read_strings("objects", &["status"])
        .await
        .expect("objects");
    assert_eq!(statuses.len() as u64, n, "one row per object");
    assert!(statuses.iter().all(|r| r[0] == "ingested"));
    let last = report::pipeline::pull_only(&fixed).await.expect("pull");
    assert_eq!((last.already_ingested, last.fetched), (n, 0), "{last}");
}

/// `--retry-quarantined` looks again at objects quarantined under the same configuration;
/// `--rebuild` re-derives the tables as a fresh pull with today's schema would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_types_the_tables_as_a_fresh_pull_does() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let some: Vec<_> = files(&fixtures()).into_iter().take(200).collect();
    copy(&fixtures(), &some, &bucket);
    copy(&invalid_fixtures(), &files(&invalid_fixtures()), &bucket);
    let with_schema = |dir: &std::path::Path, schema: Option<&str>| {
        let extra = match schema {
            Some(s) => {
                let path = dir.join("session_schema.json");
                std::fs::create_dir_all(dir).expect("mkdir");
                std::fs::write(&path, s).expect("schema");
                format!("session_attributes = {path:?}")
            }
            None => String::new(),
        };
        let text = format!(
            "warehouse = {:?}\n[pull]\ngrace_minutes = 0\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\nurl = {:?}\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\n{extra}\n",
            dir.join("warehouse"),
            bucket
        );
        report::config::Settings::parse(
            &text,
            &dir.join("report.toml"),
            &std::collections::BTreeMap::new(),
            &report::config::Overrides::default(),
        )
        .expect("config parses")
    };
    let old = with_schema(&tmp.path().join("w"), None);
    let first = report::pipeline::pull_only(&old).await.expect("pull");
    let invalid = files(&invalid_fixtures()).len() as u64;
    assert_eq!(first.quarantined_count(), invalid);
    let retry = report::pull::Options {
        retry_quarantined: true,
        ..Default::default()
    };
    let retried = report::pipeline::pull_with(&old, retry)
        .await
        .expect("pull");
    assert_eq!(
        (retried.fetched, retried.quarantined_count()),
        (invalid, invalid)
    );

    // Only `shell` is typed now: every other attribute goes to extra_attributes.
    let narrow = r#"[{"name": "shell", "type": "STRING", "mode": "NULLABLE"}]"#;
    let new = with_schema(&tmp.path().join("w"), Some(narrow));
    let rebuild = report::pull::Options {
        rebuild: true,
        ..Default::default()
    };
    let rebuilt = report::pipeline::pull_with(&new, rebuild)
        .await
        .expect("rebuild");
    assert_eq!(rebuilt.sessions, 200, "{rebuilt}");
    let fresh = with_schema(&tmp.path().join("fresh"), Some(narrow));
    report::pipeline::pull_only(&fresh)
        .await
        .expect("fresh pull");
    let extras = |s: &report::config::Settings| {
        let s = s.clone();
        async move {
            let wh = crate::common::open(&s).await;
            let ctx = report::query::new_context();
            report::query::register_warehouse(&ctx, &wh, &s.catalog).expect("tables");
            let t = ctx
                .sql("SELECT count(*) AS n FROM sessions WHERE cardinality(extra_attributes) > 0")
                .await
                .expect("plans")
                .collect()
                .await
                .expect("runs");
            let n = datafusion::arrow::compute::cast(
                t[0].column(0),
                &datafusion::arrow::datatypes::DataType::Int64,
            )
            .expect("cast");
            n.as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .expect("int")
                .value(0)
        }
    };
    let (a, b) = (extras(&new).await, extras(&fresh).await);
    assert_eq!(a, b, "rebuilt and fresh warehouses differ");
    assert_eq!(
        a, 200,
        "every session has attributes the narrow schema does not type"
    );
}
