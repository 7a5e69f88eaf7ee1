//! Crash safety of the real binary: `report pull` killed with SIGKILL at seeded random points,
//! then rerun to completion, ends with exactly the sessions of a clean run: none lost, none
//! duplicated, and no file no commit names left once the last pull swept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::common::{block_on, files, open_dir};

/// The tables of an Abacus warehouse, and `objects`.
const TABLES: [&str; 4] = ["sessions", "events", "spans", "objects"];

fn report() -> Command {
    Command::new(env!("CARGO_BIN_EXE_report"))
}

/// A tiny seeded generator (xorshift64*): the kill points are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn write_config(dir: &Path, bucket: &Path) -> std::path::PathBuf {
    let path = dir.join("report.toml");
    std::fs::write(
        &path,
        format!(
            "warehouse = \"warehouse\"\n[pull]\nbatch_size = 100\nconcurrency = 8\ngrace_minutes = 0\n\
             [[source]]\nname = \"batect\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {:?}\n",
            bucket
        ),
    )
    .expect("config written");
    path
}

/// Session ids (each must appear once) and rows per table, read through the commits.
fn contents(warehouse: &Path) -> (BTreeSet<String>, BTreeMap<&'static str, u64>) {
    block_on(async {
        let wh = open_dir(warehouse).await;
        let mut ids = BTreeSet::new();
        for r in wh
            .read_strings("sessions", &["session_id"])
            .await
            .expect("sessions")
        {
            assert!(ids.insert(r[0].clone()), "session {} twice", r[0]);
        }
        let mut objects = BTreeSet::new();
        for r in wh.read_strings("objects", &["key"]).await.expect("objects") {
            assert!(objects.insert(r[0].clone()), "object {} twice", r[0]);
        }
        let rows = TABLES
            .iter()
            .map(|t| (*t, wh.files(t).iter().map(|f| f.rows).sum()))
            .collect();
        (ids, rows)
    })
}

fn pull(config: &Path) -> std::process::ExitStatus {
    report()
        .args(["pull", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("report runs")
}

#[test]
fn a_pull_killed_at_random_points_and_rerun_equals_a_clean_pull() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let status = report()
        .args([
            "generate",
            "--sessions",
            "3000",
            "--seed",
            "11",
            "--days",
            "3",
            "--out",
        ])
        .arg(&bucket)
        .stdout(Stdio::null())
        .status()
        .expect("generate runs");
    assert!(status.success());
    // One session under a second key: dedup must hold across the kills too.
    let first = files(&bucket)[0].clone();
    let copy = bucket
        .join("v1/batect/copy")
        .join(first.file_name().expect("name"));
    std::fs::create_dir_all(copy.parent().expect("parent")).expect("mkdir");
    std::fs::copy(bucket.join(&first), &copy).expect("copy");

    let clean_dir = tmp.path().join("clean");
    std::fs::create_dir_all(&clean_dir).expect("mkdir");
    let clean_config = write_config(&clean_dir, &bucket);
    let started = Instant::now();
    assert!(pull(&clean_config).success());
    let clean_time = started.elapsed();
    let clean = contents(&clean_dir.join("warehouse"));
    assert_eq!(clean.0.len(), 3000);

    let dir = tmp.path().join("killed");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let config = write_config(&dir, &bucket);
    let mut rng = Rng(0x5EED_0004);
    let (mut kills, mut runs, mut partial) = (0, 0, 0);
    // Each run resumes where the last commit left off, so each kill lands somewhere in the
    // first tenth of a clean run's time: 20 of them spread over opening, listing, fetching,
    // writing and committing, and the pull is not over before the last one.
    while kills < 20 && runs < 60 {
        runs += 1;
        let delay = clean_time.mul_f64(0.1 * rng.unit());
        let mut child = report()
            .args(["pull", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("report starts");
        std::thread::sleep(delay);
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
        // Whatever the kill left, what the commits name is consistent: no session twice.
        let (ids, _) = contents(&dir.join("warehouse"));
        partial += usize::from(!ids.is_empty() && ids.len() < clean.0.len());
        // And what a query sees (the warehouse opened, as `report build` does) is the same.
        let (rows, distinct) = query_sessions(&dir.join("warehouse"));
        assert_eq!(rows, distinct, "a query reads a session twice after a kill");
        assert_eq!(
            rows,
            committed_rows(&dir.join("warehouse")),
            "a query reads a file no commit names"
        );
    }
    assert!(kills >= 20, "only {kills} kills landed in {runs} runs");
    // The kills must have hit the pull itself, not only its start or an already full warehouse.
    assert!(
        partial >= 5,
        "only {partial} of {kills} kills left a partly pulled warehouse"
    );

    assert!(pull(&config).success(), "the run after the kills fails");
    let after = contents(&dir.join("warehouse"));
    assert_eq!(after.0, clean.0, "sessions differ from a clean pull");
    assert_eq!(after.1, clean.1, "rows per table differ from a clean pull");

    // No debris: every file under a table folder is named by a commit (the last pull swept
    // what the kills left, the grace period being 0 here).
    let wh = block_on(open_dir(&dir.join("warehouse")));
    let named: BTreeSet<String> = TABLES
        .iter()
        .flat_map(|t| wh.files(t).into_iter().map(|f| f.path.clone()))
        .collect();
    for t in TABLES {
        for f in files(&dir.join("warehouse").join(t)) {
            let rel = format!("{t}/{}", f.to_string_lossy());
            assert!(named.contains(&rel), "debris left: {rel}");
        }
    }
    // And a last pull finds nothing new.
    assert!(pull(&config).success());
    assert_eq!(contents(&dir.join("warehouse")).1, clean.1);
}

fn committed_rows(warehouse: &Path) -> u64 {
    let wh = block_on(open_dir(warehouse));
    wh.files("sessions").iter().map(|f| f.rows).sum()
}

/// `count(*)` and `count(DISTINCT session_id)` of `sessions` through the query stage.
fn query_sessions(warehouse: &Path) -> (u64, u64) {
    block_on(async {
        let wh = open_dir(warehouse).await;
        let ctx = report::query::new_context();
        report::query::register_warehouse(&ctx, &wh, &report::formats::default_catalog())
            .expect("registered");
        let batches = ctx
            .sql("SELECT count(*) AS n, count(DISTINCT session_id) AS d FROM sessions")
            .await
            .expect("plans")
            .collect()
            .await
            .expect("runs");
        let b = &batches[0];
        let col = |i: usize| {
            b.column(i)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .expect("int64")
                .value(0) as u64
        };
        (col(0), col(1))
    })
}

/// A warehouse in a bucket (moto) through the same kills: `report pull` and `report compact`
/// killed at seeded random points, then run to the end, give the sessions and rows of a clean
/// pull into another prefix, every committed file is there, and no file no commit names is
/// left once the last pull swept. The warehouse is read as `report query`, `compact`, `verify`
/// and `diff` open it (not to create), below its URL's prefix.
#[test]
#[ignore = "needs the loopback servers .ci/run starts"]
fn pulls_and_compactions_killed_into_a_bucket_warehouse_equal_a_clean_pull() {
    use futures::TryStreamExt;
    let endpoint = std::env::var("REPORT_TEST_S3_ENDPOINT")
        .expect("REPORT_TEST_S3_ENDPOINT (tests/servers/start.sh STATE && . STATE/env)");
    let run = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let status = report()
        .args([
            "generate",
            "--sessions",
            "1200",
            "--seed",
            "12",
            "--days",
            "4",
            "--out",
        ])
        .arg(&bucket)
        .stdout(Stdio::null())
        .status()
        .expect("generate runs");
    assert!(status.success());
    let config = |name: &str| -> (std::path::PathBuf, report::config::Settings) {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let text = format!(
            "warehouse = \"s3://telemetry/crash-{name}-{run}\"\nwarehouse_options = {{ aws_endpoint = \"{endpoint}\", aws_region = \"us-east-1\", allow_http = \"true\", aws_access_key_id = \"testing\", aws_secret_access_key = \"testing\" }}\n\
             [pull]\nbatch_size = 100\nconcurrency = 8\ngrace_minutes = 0\n\
             [[source]]\nname = \"batect\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {bucket:?}\n"
        );
        let path = dir.join("report.toml");
        std::fs::write(&path, &text).expect("config");
        let settings = report::config::Settings::parse(
            &text,
            &path,
            &BTreeMap::new(),
            &report::config::Overrides::default(),
        )
        .expect("config parses");
        (path, settings)
    };
    let contents = |s: &report::config::Settings| {
        block_on(async {
            let wh = report::pipeline::open_warehouse(s, false)
                .await
                .expect("warehouse opens");
            let mut ids = BTreeSet::new();
            for r in wh
                .read_strings("sessions", &["session_id"])
                .await
                .expect("every committed file reads")
            {
                assert!(ids.insert(r[0].clone()), "session {} twice", r[0]);
            }
            let rows: BTreeMap<&str, u64> = TABLES
                .iter()
                .map(|t| (*t, wh.files(t).iter().map(|f| f.rows).sum()))
                .collect();
            (ids, rows)
        })
    };
    let (clean_config, clean_settings) = config("clean");
    let started = Instant::now();
    assert!(pull(&clean_config).success());
    let clean_time = started.elapsed();
    let clean = contents(&clean_settings);
    assert_eq!(clean.0.len(), 1200);

    let (killed_config, killed) = config("killed");
    let mut rng = Rng(0x5EED_0021);
    let (mut kills, mut runs, mut partial) = (0, 0, 0);
    while kills < 12 && runs < 40 {
        runs += 1;
        // Every third run is a compaction of what the pulls so far committed.
        let compact = runs % 3 == 0;
        let mut cmd = report();
        if compact {
            cmd.args(["compact", "--grace-minutes", "0", "--config"]);
        } else {
            cmd.args(["pull", "--config"]);
        }
        let mut child = cmd
            .arg(&killed_config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("report starts");
        std::thread::sleep(clean_time.mul_f64(0.15 * rng.unit()));
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
        let (ids, _) = contents(&killed);
        partial += usize::from(!ids.is_empty() && ids.len() < clean.0.len());
    }
    assert!(kills >= 12, "only {kills} kills landed in {runs} runs");
    assert!(
        partial >= 3,
        "only {partial} of {kills} kills left a partly pulled warehouse"
    );

    assert!(
        pull(&killed_config).success(),
        "the run after the kills fails"
    );
    let after = contents(&killed);
    assert_eq!(after.0, clean.0, "sessions differ from a clean pull");
    // Compaction may merge differently after the kills: the rows are the same.
    assert_eq!(after.1, clean.1, "rows per table differ from a clean pull");

    // No debris in the bucket: every object under a table's prefix is named by a commit.
    block_on(async {
        let wh = report::pipeline::open_warehouse(&killed, false)
            .await
            .expect("warehouse opens");
        let named: BTreeSet<String> = TABLES
            .iter()
            .flat_map(|t| wh.files(t).into_iter().map(|f| f.path.clone()))
            .collect();
        let bucket = wh.bucket();
        for t in TABLES {
            let prefix = bucket.path(t);
            let listed: Vec<_> = bucket
                .store
                .list(Some(&prefix))
                .try_collect()
                .await
                .expect("lists");
            for meta in listed {
                let rel = bucket
                    .rel(&meta.location)
                    .expect("below the root")
                    .to_string();
                assert!(named.contains(&rel), "debris left: {rel}");
            }
        }
    });
}
