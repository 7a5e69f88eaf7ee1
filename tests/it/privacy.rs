//! The privacy guard end to end: one installation whose every attribute is a unique string
//! (and whose exception names a home path) leaves no trace of them in the built site, on any
//! page, chart or CSV; a panel whose query counts no installations fails `report check`.

use report::pipeline;

use crate::common::{self, files, fixtures, settings};

/// The marker every unique value carries.
pub(crate) const MARK: &str = "qx7";

/// Three sessions of one installation: a run with two builds that failed with an exception
/// naming a home path, a run on CI, a list of tasks.
pub(crate) fn lonely_sessions() -> Vec<(String, String)> {
    let user = "7d3c5e0a-1b2c-4d3e-8f40-5a6b7c8d9e0f";
    let ids = [
        "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "c1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    ];
    let attributes = |command: &str, exit: i32, ci: bool| {
        format!(
            r#"{{"commandType":"{command}","exitCode":{exit},"shell":"zsh-{MARK}","terminal":"term-{MARK}",
            "osName":"Plan9-{MARK}","osVersion":"9.9.9-{MARK}","osArchitecture":"arch-{MARK}",
            "osDetails":"Plan9 {MARK}","jvmVendor":"Vendor {MARK}","jvmName":"VM {MARK}",
            "jvmVersion":"99.0.0-{MARK}","gitVersion":"9.99.0 ({MARK})","dockerVersion":"99.0.1-{MARK}",
            "dockerBuilderVersionInUse":"Builder-{MARK}","dockerContainerType":"Linux",
            "suspectRunningOnCI":{ci},"suspectedCISystem":{},"stdinIsTTY":true,"stdoutIsTTY":true,
            "consoleSupportsInteractivity":true,"totalTasksToExecute":1}}"#,
            if ci {
                format!("\"UniqueCI-{MARK}\"")
            } else {
                "null".into()
            }
        )
    };
    let exception = format!(
        "io.{MARK}.SecretException: cannot read /home/alice-{MARK}/work/batect.yml\\n\\tat io.{MARK}.Main.main(Main.kt:1)"
    );
    let span = |kind: &str, start: &str, end: &str| {
        format!(r#"{{"type":"{kind}","startTime":"{start}","endTime":"{end}","attributes":{{}}}}"#)
    };
    let load = r#"{"type":"LoadConfiguration","startTime":"2023-08-20T10:00:01Z","endTime":"2023-08-20T10:00:09Z","attributes":{"configVariableCount":977,"containerCount":988,"fileIncludeCount":3,"gitIncludeCount":2,"taskCount":999}}"#;
    let sessions = [
        (
            ids[0],
            "2023-08-20T10:00:00Z",
            "2023-08-20T10:30:00Z",
            attributes("RunTaskCommand", 1, false),
            format!(
                r#"[{{"type":"UnhandledException","time":"2023-08-20T10:29:00Z","attributes":{{"exception":"{exception}","exceptionCaughtAt":"io.{MARK}.Main.run","isUserFacingException":true}}}}]"#
            ),
            format!(
                "[{load},{},{}]",
                span("BuildImage", "2023-08-20T10:00:10Z", "2023-08-20T10:25:00Z"),
                span("BuildImage", "2023-08-20T10:25:00Z", "2023-08-20T10:29:00Z")
            ),
        ),
        (
            ids[1],
            "2023-08-21T03:00:00Z",
            "2023-08-21T03:00:05Z",
            attributes("RunTaskCommand", 0, true),
            "[]".to_string(),
            format!("[{load}]"),
        ),
        (
            ids[2],
            "2023-08-22T23:00:00Z",
            "2023-08-22T23:00:01Z",
            attributes("ListTasksCommand", 0, false),
            "[]".to_string(),
            "[]".to_string(),
        ),
    ];
    sessions
        .into_iter()
        .map(|(id, start, end, attributes, events, spans)| {
            let attributes: String = attributes.split_whitespace().collect::<Vec<_>>().join(" ");
            (
                format!("v1/batect/0.84.0/{id}.json"),
                format!(
                    r#"{{"sessionId":"{id}","userId":"{user}","sessionStartTime":"{start}","sessionEndTime":"{end}","ingestionTime":"2023-08-28T00:00:00Z","applicationId":"batect","applicationVersion":"0.84.0","attributes":{attributes},"events":{events},"spans":{spans}}}"#
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_installation_leaves_no_trace_in_the_site() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lonely = tmp.path().join("lonely");
    for (key, json) in lonely_sessions() {
        let path = lonely.join(key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, json).expect("write session");
    }
    let s = settings(
        tmp.path(),
        &[("batect", &fixtures()), ("lonely", lonely.as_path())],
    );
    let built = pipeline::build(&s, &common::defs(&s), true)
        .await
        .expect("build");
    assert_eq!(built.pull.sessions, 2403, "{:?}", built.pull);
    // The sessions are in the warehouse: the queries see them …
    let raw = pipeline::query_one(&s, &common::defs(&s), "environment_terminal")
        .await
        .expect("query");
    assert!(
        raw.rows.iter().any(|r| r[0].to_string().contains(MARK)),
        "{raw:?}"
    );
    // … and nothing of them is published: no page, chart or CSV holds a marked string.
    let site = tmp.path().join("site");
    for f in files(&site) {
        let text =
            String::from_utf8_lossy(&std::fs::read(site.join(&f)).expect("read")).into_owned();
        for found in [MARK, "alice", "/home/", "SecretException"] {
            assert!(!text.contains(found), "{} holds {found:?}", f.display());
        }
    }
    let csvs = files(&site)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "csv"))
        .count();
    assert_eq!(csvs, 94);
    // The terminal panel says what it folded.
    let environment = std::fs::read_to_string(site.join("environment.html")).expect("page");
    assert!(environment.contains("folded into “Other”"), "no fold note");
}
