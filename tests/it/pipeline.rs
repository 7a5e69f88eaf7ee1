use report::pipeline;
use report::query;

use crate::common::{self, files, fixtures, settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_builds_give_a_byte_identical_site() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    for t in [&a, &b] {
        let s = settings(t.path(), &[("batect", &fixtures())]);
        pipeline::build(&s, &common::defs(&s), true)
            .await
            .expect("build");
    }
    // And a second build over the same warehouse (nothing new to pull) changes nothing.
    let s = settings(b.path(), &[("batect", &fixtures())]);
    pipeline::build(&s, &common::defs(&s), true)
        .await
        .expect("rebuild");
    let (sa, sb) = (a.path().join("site"), b.path().join("site"));
    assert_eq!(files(&sa), files(&sb));
    for f in files(&sa) {
        assert!(
            std::fs::read(sa.join(&f)).expect("a") == std::fs::read(sb.join(&f)).expect("b"),
            "{} differs",
            f.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_read_as_they_did_against_bigquery() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = settings(tmp.path(), &[("batect", &fixtures())]);
    pipeline::pull_only(&s).await.expect("pull");
    let wh = crate::common::open(&s).await;
    let ctx = query::new_context();
    query::register_warehouse(&ctx, &wh, &s.catalog).expect("register");
    let q = query::Query {
        name: "failing_shells".into(),
        path: "failing_shells.sql".into(),
        sql: "SELECT attributes.shell, count(*) FROM sessions WHERE attributes.exitCode <> 0 GROUP BY 1".into(),
    };
    query::register_views(&ctx, std::slice::from_ref(&q))
        .await
        .expect("plans");
    let out = query::run_all(&ctx, &[q]).await.expect("runs");
    let total: i64 = out["failing_shells"]
        .rows
        .iter()
        .map(|r| match r[1] {
            query::Value::Int(n) => n,
            _ => 0,
        })
        .sum();
    let check = query::Query {
        name: "all_failed".into(),
        path: "all_failed.sql".into(),
        sql: "SELECT count(*) AS n FROM sessions s JOIN spans p ON s.session_id = p.session_id AND p.type = 'LoadConfiguration' WHERE s.attributes.exitCode <> 0 AND s.date = p.date".into(),
    };
    query::register_views(&ctx, std::slice::from_ref(&check))
        .await
        .expect("plans");
    assert!(
        total > 0 && total < files(&fixtures()).len() as i64 / 5,
        "failed sessions: {total}"
    );
    let n = query::run_all(&ctx, &[check]).await.expect("runs");
    assert!(matches!(n["all_failed"].rows[0][0], query::Value::Int(k) if k > 0 && k <= total));
}
