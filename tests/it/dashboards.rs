//! The default dashboards answer the questions the generator was built to contain, within
//! tolerance, and no published page carries a session or user id.

use std::collections::BTreeMap;

use report::formats::abacus::generate::{generate, truth};
use report::formats::generate::Options;
use report::pipeline;
use report::query::{Table, Value};

use crate::common::{files, fixtures, settings};

fn number(t: &Table, row: usize, col: &str) -> f64 {
    let c = t.index_of(col).unwrap_or_else(|| panic!("no column {col}"));
    t.rows[row][c].as_f64().unwrap_or(f64::NAN)
}

fn row_where<'a>(t: &'a Table, col: &str, value: &str) -> &'a [Value] {
    let c = t.index_of(col).unwrap_or_else(|| panic!("no column {col}"));
    t.rows
        .iter()
        .find(|r| r[c].to_string() == value)
        .unwrap_or_else(|| panic!("no row {col} = {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboards_find_what_the_generator_put_in() {
    // A larger population than the fixtures, so the rates are not lost in noise.
    let tmp = tempfile::tempdir().expect("tmp");
    let bucket = tmp.path().join("bucket");
    let opts = Options {
        sessions: 24_000,
        seed: 7,
        ..Options::default()
    };
    crate::common::write_objects(&bucket, &generate(&opts));
    let s = settings(tmp.path(), &[("batect", &bucket)]);
    pipeline::pull_only(&s).await.expect("pull");
    let defs = crate::common::defs(&s);
    let mut results = BTreeMap::new();
    for q in [
        "task_not_found_share",
        "task_not_found_by_completion",
        "failed_share_by_command",
        "adoption_days_to_40_percent",
        "health_unknown_attributes",
        "environment_ci_share_by_week",
    ] {
        results.insert(q, pipeline::query_one(&s, &defs, q).await.expect(q));
    }

    // "Task not found": about 2.6 % of all sessions, as the seed post reports.
    let share = number(&results["task_not_found_share"], 0, "share");
    assert!(
        (0.020..=0.032).contains(&share),
        "task-not-found share {share}"
    );

    // 30 % fewer such failures among completion users (per RunTaskCommand session).
    let t = &results["task_not_found_by_completion"];
    let rate = |who: &str| {
        row_where(t, "users", who)[t.index_of("task_not_found_share").expect("col")]
            .as_f64()
            .expect("rate")
    };
    let ratio = rate("with tab completion") / rate("without tab completion");
    assert!(
        (truth::COMPLETION_FACTOR - 0.15..=truth::COMPLETION_FACTOR + 0.15).contains(&ratio),
        "completion users fail {ratio:.2}× as often; the generator says {}",
        truth::COMPLETION_FACTOR
    );

    // Failed task runs: task failures plus task-not-found ones.
    let t = &results["failed_share_by_command"];
    let run_task = row_where(t, "command", "RunTaskCommand")
        [t.index_of("failed_share").expect("col")]
    .as_f64()
    .expect("share");
    let expected =
        truth::TASK_NOT_FOUND * 0.93 + truth::TASK_FAILED * (1.0 - truth::TASK_NOT_FOUND);
    assert!(
        (run_task - expected).abs() < 0.012,
        "RunTaskCommand failed share {run_task}, expected about {expected:.3}"
    );

    // Adoption: with a mean upgrade lag of about nine days a release passes 40 % within weeks.
    let t = &results["adoption_days_to_40_percent"];
    let days: Vec<f64> = t
        .rows
        .iter()
        .filter_map(|r| r[t.index_of("days_to_40").expect("col")].as_f64())
        .collect();
    assert!(days.len() >= 5, "releases reaching 40 %: {days:?}");
    assert!(
        days.iter().all(|d| (2.0..=21.0).contains(d)),
        "days to 40 %: {days:?}"
    );

    // Drift: the newest release's attribute the schema lacks is reported, not dropped.
    let t = &results["health_unknown_attributes"];
    assert_eq!(t.rows[0][0], Value::Text("shellCompletionInstalled".into()));

    // CI share: about a third of installations run on CI.
    let t = &results["environment_ci_share_by_week"];
    let (mut ci, mut all) = (0.0, 0.0);
    for r in &t.rows {
        let n = r[2].as_f64().expect("sessions");
        all += n;
        if r[1] == Value::Text("CI".into()) {
            ci += n;
        }
    }
    assert!((0.15..=0.5).contains(&(ci / all)), "CI share {}", ci / all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_published_page_carries_an_id() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(tmp.path(), &[("batect", &fixtures())]);
    pipeline::build(&s, &crate::common::defs(&s), true)
        .await
        .expect("build");
    let uuid =
        regex::Regex::new(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .expect("regex");
    let site = tmp.path().join("site");
    let pages = files(&site);
    assert!(pages.len() > 20, "{pages:?}");
    for f in pages {
        let text =
            String::from_utf8_lossy(&std::fs::read(site.join(&f)).expect("read")).into_owned();
        assert!(!uuid.is_match(&text), "{} holds a UUID", f.display());
    }
    // The fixtures do hold ids: the scan would find them if a query published one.
    let one = files(&fixtures()).remove(0);
    assert!(uuid.is_match(&one.to_string_lossy()));
}
