//! Pulls from real object-store servers on loopback: S3 (moto, s3rver), Azure Blob (Azurite),
//! and S3 behind a proxy that fails about 10 % of requests. Each test uploads the fixtures under
//! a prefix of its own, pulls them through `report`'s own store construction (URL + options, as
//! a user writes them in report.toml), and checks that the warehouse equals the one pulled from
//! the local folder.
//!
//! The servers are started by `tests/servers/start.sh STATE` (`.ci/run` does it), which writes
//! the `REPORT_TEST_*` endpoints to `STATE/env`; hence `#[ignore]` here, and
//! `cargo test -- --include-ignored` after sourcing that file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path as FsPath;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use report::config::{Overrides, Settings};
use report::pull::Summary;
use report::warehouse::Warehouse;

use crate::common::{files, fixtures};

const IGNORED: &str = "needs the loopback servers .ci/run starts";

/// Azurite's well-known development account (public, documented by Microsoft).
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: {IGNORED} (tests/servers/start.sh STATE && . STATE/env), \
             then cargo test -- --include-ignored"
        )
    })
}

/// A prefix no other test or earlier run uses.
fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// Puts every fixture object under `prefix`, 16 at a time.
async fn upload(store: &Arc<dyn ObjectStore>, prefix: &str) {
    let root = fixtures();
    let uploads = files(&root).into_iter().map(|rel| {
        let store = store.clone();
        let bytes = std::fs::read(root.join(&rel)).expect("fixture readable");
        let key = format!("{prefix}/{}", rel.to_string_lossy());
        async move {
            store
                .put(&Path::from(key.as_str()), PutPayload::from(bytes))
                .await
                .map(|_| ())
                .map_err(|e| format!("upload {key}: {e}"))
        }
    });
    futures::stream::iter(uploads)
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .expect("fixtures uploaded");
}

/// Settings of a project whose one source is `url` with `options`, warehouse in `dir`.
fn settings(dir: &FsPath, url: &str, options: &[(&str, &str)]) -> Settings {
    let options: Vec<String> = options
        .iter()
        .map(|(k, v)| format!("{k} = {v:?}"))
        .collect();
    let text = format!(
        "warehouse = {:?}\n[pull]\nbatch_size = 700\nconcurrency = 16\n\
         [[source]]\nname = \"batect\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {url:?}\noptions = {{ {} }}\n",
        dir.join("warehouse"),
        options.join(", ")
    );
    Settings::parse(
        &text,
        &dir.join("report.toml"),
        &BTreeMap::new(),
        &Overrides::default(),
    )
    .expect("test config parses")
}

/// What must be equal between two warehouses: session ids with their object keys (relative to
/// the source's prefix), and row counts per table.
#[derive(Debug, PartialEq)]
struct Contents {
    sessions: BTreeSet<(String, String)>,
    rows: BTreeMap<String, u64>,
}

async fn contents(wh: &Warehouse, prefix: &str) -> Contents {
    let mut sessions = BTreeSet::new();
    let rows = wh
        .read_strings("sessions", &["session_id", "object_key"])
        .await
        .expect("sessions readable");
    for r in rows {
        let key = r[1]
            .strip_prefix(prefix)
            .map(|k| k.trim_start_matches('/'))
            .unwrap_or(&r[1]);
        let fresh = sessions.insert((r[0].to_string(), key.to_string()));
        assert!(fresh, "session {} twice", r[0]);
    }
    let mut rows = BTreeMap::new();
    for table in ["sessions", "events", "spans", "objects"] {
        rows.insert(
            table.to_string(),
            wh.files(table).iter().map(|f| f.rows).sum(),
        );
    }
    Contents { sessions, rows }
}

/// The warehouse a pull of the local fixture folder gives.
async fn local_contents() -> Contents {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(tmp.path(), &fixtures().to_string_lossy(), &[]);
    let summary = report::pipeline::pull_only(&s).await.expect("local pull");
    assert!(summary.is_clean(), "{summary}");
    contents(&crate::common::open(&s).await, "").await
}

/// Pulls `s` and checks the result equals the local folder's pull.
async fn pull_equals_local(s: &Settings, prefix: &str) -> Summary {
    let summary = report::pipeline::pull_only(s)
        .await
        .unwrap_or_else(|e| panic!("pull from {}: {e:#}", s.sources[0].url));
    let n = files(&fixtures()).len() as u64;
    assert!(
        summary.failed.is_empty(),
        "failed objects: {:?}",
        summary.failed
    );
    assert_eq!((summary.listed, summary.sessions), (n, n), "{summary}");
    let got = contents(&crate::common::open(s).await, prefix).await;
    let want = local_contents().await;
    assert_eq!(got.rows, want.rows);
    assert!(got.sessions == want.sessions, "session ids or keys differ");
    summary
}

fn s3_store(endpoint: &str, key: &str, secret: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_bucket_name("telemetry")
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .build()
            .expect("s3 store"),
    )
}

async fn s3_round_trip(endpoint_var: &str, key: &str, secret: &str) {
    let endpoint = endpoint(endpoint_var);
    let prefix = unique_prefix("s3");
    upload(&s3_store(&endpoint, key, secret), &prefix).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(
        tmp.path(),
        &format!("s3://telemetry/{prefix}"),
        &[
            ("aws_endpoint", &endpoint),
            ("aws_region", "us-east-1"),
            ("allow_http", "true"),
            ("aws_access_key_id", key),
            ("aws_secret_access_key", secret),
        ],
    );
    pull_equals_local(&s, &prefix).await;
    // Incremental: the second pull lists everything and fetches nothing.
    let again = report::pipeline::pull_only(&s).await.expect("second pull");
    let n = files(&fixtures()).len() as u64;
    assert_eq!((again.already_ingested, again.fetched), (n, 0), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn s3_moto_pull_equals_the_local_pull() {
    s3_round_trip("REPORT_TEST_S3_ENDPOINT", "testing", "testing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn s3rver_pull_equals_the_local_pull() {
    s3_round_trip("REPORT_TEST_S3RVER_ENDPOINT", "S3RVER", "S3RVER").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn azurite_pull_equals_the_local_pull() {
    let endpoint = endpoint("REPORT_TEST_AZURITE_ENDPOINT");
    let prefix = unique_prefix("az");
    let options = [
        ("azure_storage_account_name", AZURITE_ACCOUNT),
        ("azure_storage_account_key", AZURITE_KEY),
        ("azure_storage_endpoint", endpoint.as_str()),
        ("allow_http", "true"),
    ];
    let mut builder = MicrosoftAzureBuilder::new().with_container_name("telemetry");
    for (k, v) in options {
        builder = builder.with_config(k.parse().expect("azure key"), v);
    }
    let store: Arc<dyn ObjectStore> = Arc::new(builder.build().expect("azure store"));
    upload(&store, &prefix).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(tmp.path(), &format!("az://telemetry/{prefix}"), &options);
    pull_equals_local(&s, &prefix).await;
}

/// Counts the faulty proxy has injected so far (its stats page is never faulted).
fn faults(endpoint: &str) -> u64 {
    let addr = endpoint.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).expect("proxy reachable");
    write!(
        conn,
        "GET /__faulty_proxy/stats HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .expect("request sent");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("stats read");
    let body = answer.split("\r\n\r\n").nth(1).expect("stats body");
    let counts: BTreeMap<String, u64> = serde_json::from_str(body).expect("stats are JSON");
    counts
        .iter()
        .filter(|(k, _)| k.as_str() != "pass")
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn a_pull_through_a_faulty_proxy_still_gets_every_session_once() {
    let direct = endpoint("REPORT_TEST_S3_ENDPOINT");
    let faulty = endpoint("REPORT_TEST_FAULTY_S3_ENDPOINT");
    let prefix = unique_prefix("faulty");
    upload(&s3_store(&direct, "testing", "testing"), &prefix).await;
    let before = faults(&faulty);
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(
        tmp.path(),
        &format!("s3://telemetry/{prefix}"),
        &[
            ("aws_endpoint", &faulty),
            ("aws_region", "us-east-1"),
            ("allow_http", "true"),
            ("aws_access_key_id", "testing"),
            ("aws_secret_access_key", "testing"),
        ],
    );
    // One run is enough: every fault is retried (object_store per request, the pull per object).
    pull_equals_local(&s, &prefix).await;
    let injected = faults(&faulty) - before;
    let n = files(&fixtures()).len() as u64;
    assert!(
        injected >= n / 20,
        "only {injected} faults injected for {n} objects: the proxy is not in the path"
    );
}

/// Needs no server: nothing listens on the port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_with_the_source_named_and_no_credentials() {
    // A port nobody listens on (bound, then closed).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(
        tmp.path(),
        "s3://telemetry/none",
        &[
            ("aws_endpoint", &format!("http://127.0.0.1:{port}")),
            ("allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "AKIDEXAMPLE"),
            ("aws_secret_access_key", "hunter2-secret-value"),
        ],
    );
    let mut s = s;
    s.pull.retries = 1;
    let err = report::pipeline::pull_only(&s)
        .await
        .expect_err("nothing listens there");
    let text = format!("{err:#}");
    assert!(text.contains("source \"batect\""), "{text}");
    assert!(text.contains("s3://telemetry/none"), "{text}");
    assert!(!text.contains("hunter2-secret-value"), "{text}");
}

/// The repository's fixture project (all four sources from their local folders) with its
/// warehouse at `url` (store `options`), its site in `site`.
fn project_on(url: &str, options: &[(&str, &str)], site: &FsPath) -> Settings {
    let config = crate::common::repo().join("report.toml");
    let text = std::fs::read_to_string(&config).expect("report.toml");
    let options: Vec<String> = options
        .iter()
        .map(|(k, v)| format!("{k} = {v:?}"))
        .collect();
    let text = text.replacen(
        "warehouse = \"warehouse\"",
        &format!(
            "warehouse = {url:?}\nwarehouse_options = {{ {} }}",
            options.join(", ")
        ),
        1,
    );
    let text = text.replacen("[pull]\n", "[pull]\ngrace_minutes = 0\n", 1);
    let overrides = Overrides {
        output: Some(site.to_path_buf()),
        ..Overrides::default()
    };
    Settings::parse(&text, &config, &BTreeMap::new(), &overrides).expect("project parses")
}

/// The site the fixture project builds with its warehouse in `dir`.
async fn local_site(dir: &FsPath) -> std::path::PathBuf {
    let site = dir.join("site");
    let mut s = project_on(&dir.join("warehouse").to_string_lossy(), &[], &site);
    s.warehouse_options = Default::default();
    let defs = crate::common::defs(&s);
    report::pipeline::build(&s, &defs, true)
        .await
        .expect("local build");
    site
}

/// Builds the fixture project with its warehouse in a bucket: the site equals the local
/// build's byte for byte; a runner with an empty disk pulls again from the same bucket and
/// fetches nothing; pyarrow reads the committed files and counts every session.
async fn bucket_warehouse_builds_the_local_site(url: &str, options: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().expect("tmp");
    let want = local_site(&tmp.path().join("local")).await;
    let site = tmp.path().join("bucket-site");
    let s = project_on(url, options, &site);
    let defs = crate::common::defs(&s);
    let built = report::pipeline::build(&s, &defs, true)
        .await
        .unwrap_or_else(|e| panic!("build with the warehouse at {url}: {e:#}"));
    assert!(built.pull.is_clean(), "{}", built.pull);
    assert_eq!(files(&site), files(&want));
    for f in files(&want) {
        let same = std::fs::read(site.join(&f)).ok() == std::fs::read(want.join(&f)).ok();
        assert!(same, "{} differs from the local build's", f.display());
    }
    // A new runner: nothing on its disk but the project; the bucket says what was pulled.
    let runner = tempfile::tempdir().expect("tmp");
    let fresh = project_on(url, options, &runner.path().join("site"));
    let again = report::pipeline::pull_only(&fresh)
        .await
        .expect("pull again");
    assert_eq!(again.fetched, 0, "{again}");
    assert_eq!(again.listed, again.already_ingested, "{again}");
    // Compacted: one file per table and day.
    let wh = report::pipeline::open_warehouse(&fresh, false)
        .await
        .expect("open");
    let mut per_day = BTreeSet::new();
    for f in wh.all_files() {
        assert!(
            per_day.insert((f.table.clone(), f.date().map(str::to_string))),
            "{} is not the only file of its table and day",
            f.path
        );
    }
}

fn s3_options<'a>(endpoint: &'a str, key: &'a str, secret: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("aws_endpoint", endpoint),
        ("aws_region", "us-east-1"),
        ("allow_http", "true"),
        ("aws_access_key_id", key),
        ("aws_secret_access_key", secret),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn a_warehouse_on_s3rver_builds_the_local_site_and_pyarrow_reads_it() {
    let endpoint = endpoint("REPORT_TEST_S3RVER_ENDPOINT");
    let prefix = unique_prefix("wh");
    let url = format!("s3://telemetry/{prefix}");
    bucket_warehouse_builds_the_local_site(&url, &s3_options(&endpoint, "S3RVER", "S3RVER")).await;
    let script = crate::common::repo().join("tests/interop/pyarrow_reads_the_bucket.py");
    let sessions = files(&fixtures()).len().to_string();
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([
            endpoint.as_str(),
            "telemetry",
            prefix.as_str(),
            sessions.as_str(),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn a_warehouse_on_azurite_builds_the_local_site() {
    let endpoint = endpoint("REPORT_TEST_AZURITE_ENDPOINT");
    let url = format!("az://telemetry/{}", unique_prefix("wh"));
    let options = [
        ("azure_storage_account_name", AZURITE_ACCOUNT),
        ("azure_storage_account_key", AZURITE_KEY),
        ("azure_storage_endpoint", endpoint.as_str()),
        ("allow_http", "true"),
    ];
    bucket_warehouse_builds_the_local_site(&url, &options).await;
}

/// Two pulls started at once into one warehouse on moto (which refuses a second create-only
/// put): one commit wins each time, the other pull stops saying so; pulled again, the
/// warehouse holds exactly a clean pull's sessions, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn two_pulls_at_once_into_one_bucket_warehouse_equal_one_clean_pull() {
    let endpoint = endpoint("REPORT_TEST_S3_ENDPOINT");
    let url = format!("s3://telemetry/{}", unique_prefix("two"));
    let tmp = tempfile::tempdir().expect("tmp");
    let mut s = settings(tmp.path(), &fixtures().to_string_lossy(), &[]);
    s.warehouse = url;
    s.warehouse_options = report::config::StoreOptions(
        s3_options(&endpoint, "testing", "testing")
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    s.pull.batch_size = 300;
    let (a, b) = tokio::join!(
        report::pipeline::pull_only(&s),
        report::pipeline::pull_only(&s)
    );
    let failed: Vec<String> = [&a, &b]
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| format!("{e:#}")))
        .collect();
    for e in &failed {
        assert!(e.contains("another pull"), "{e}");
        assert!(e.contains("s3://telemetry/"), "names the warehouse: {e}");
    }
    assert!(failed.len() < 2, "both pulls failed: {failed:?}");
    let last = report::pipeline::pull_only(&s).await.expect("pull again");
    assert!(last.failed.is_empty(), "{last}");
    let got = contents(&crate::common::open(&s).await, "").await;
    assert_eq!(got, local_contents().await);
}

/// The warehouse behind the faulty proxy (about 10 % of requests fail): every session once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the loopback servers .ci/run starts"]
async fn a_warehouse_behind_a_faulty_proxy_gets_every_session_once() {
    let faulty = endpoint("REPORT_TEST_FAULTY_S3_ENDPOINT");
    let tmp = tempfile::tempdir().expect("tmp");
    let mut s = settings(tmp.path(), &fixtures().to_string_lossy(), &[]);
    s.warehouse = format!("s3://telemetry/{}", unique_prefix("fwh"));
    s.warehouse_options = report::config::StoreOptions(
        s3_options(&faulty, "testing", "testing")
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let before = faults(&faulty);
    let summary = report::pipeline::pull_only(&s).await.expect("pull");
    assert!(summary.failed.is_empty(), "{summary}");
    assert!(faults(&faulty) > before, "the proxy injected no fault");
    let got = contents(&crate::common::open(&s).await, "").await;
    assert_eq!(got, local_contents().await);
}
