//! One session never blocks publishing (issue 23): the fixture sessions pulled beside sessions
//! an anonymous client could send — a clock minutes fast, a UUID in a published attribute, a
//! trace that starts with a tab, control characters, a very long attribute, formulas for a
//! spreadsheet — and sessions dated where no clock should be
//! (2030, 1900, 2262, a leap second). `report build` publishes the site the fixtures alone give,
//! holding back (masking, cleaning, cutting) what it must, and quarantines the implausible.
//!
//! Every published value comes from twelve installations, so a guard on small groups between
//! query and site leaves the rows in place.

use std::collections::BTreeMap;
use std::path::Path;

use report::pipeline;
use serde_json::{Value, json};

use crate::common::{self, files, fixtures, repo, settings};

const EXAMPLE: &str =
    include_str!("../../fixtures/reference/session_macos_task_failed.stored.min.json");

/// Installations behind each published hostile value.
const USERS: usize = 12;

const UUID_LABEL: &str = "zsh-0d3f9c2e-8a0e-4c6b-9d0b-2f7c6a1e9b41";

fn id(kind: u32, n: usize) -> String {
    format!("{n:08x}-{kind:04x}-4000-8000-{n:012x}")
}

/// `count` sessions (one installation each) of the reference session with `edit` applied,
/// written under `dir` in the bucket layout; `n` numbers them across calls.
fn sessions(dir: &Path, n: &mut usize, count: usize, edit: impl Fn(&mut Value)) {
    for _ in 0..count {
        *n += 1;
        let mut v: Value = serde_json::from_str(EXAMPLE).expect("the reference session parses");
        v["sessionId"] = json!(id(0xa, *n));
        v["userId"] = json!(id(0xb, *n));
        edit(&mut v);
        let key = format!("v1/batect/0.83.9/{}.json", id(0xa, *n));
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, v.to_string()).expect("write");
    }
}

fn command(v: &mut Value, name: &str) {
    v["attributes"]["commandType"] = json!(name);
}

/// The hostile sessions, and how many of them the pull must quarantine, by rule.
fn hostile(dir: &Path) -> BTreeMap<&'static str, usize> {
    let mut n = 0;
    // A client clock 5 minutes fast: the session ends after the server stored it. Kept.
    sessions(dir, &mut n, USERS, |v| {
        v["sessionEndTime"] = json!("2023-07-02T22:19:09Z");
    });
    // A UUID-like part in a published attribute.
    sessions(dir, &mut n, USERS, |v| command(v, UUID_LABEL));
    // A trace that starts with a tab (and a blank line before the class).
    sessions(dir, &mut n, USERS, |v| {
        v["events"] = json!([{
            "type": "UnhandledException",
            "time": "2023-06-30T01:03:00Z",
            "attributes": {
                "exception": "\tat com.example.Main.run(Main.kt:3)\n\tat com.example.Main.main(Main.kt:1)",
                "exceptionCaughtAt": "com.example.Main.main",
                "isUserFacingException": true
            }
        }]);
    });
    // Control characters: a NUL, an escape sequence, a bell.
    sessions(dir, &mut n, USERS, |v| {
        command(v, "Run\u{0}Task\u{1b}[2J\u{7}")
    });
    // One long attribute (the site must not carry it whole).
    sessions(dir, &mut n, USERS, |v| command(v, &"L".repeat(300_000)));
    // Formulas a spreadsheet would run.
    for formula in [" =1+1", "＝1+1", "\n=1+1"] {
        sessions(dir, &mut n, USERS, |v| command(v, formula));
    }
    // Dated where no clock should be, or written as Abacus's parser refuses.
    sessions(dir, &mut n, 1, |v| {
        v["sessionStartTime"] = json!("2030-01-01T00:00:00Z");
        v["sessionEndTime"] = json!("2030-01-01T00:01:00Z");
    });
    sessions(dir, &mut n, 1, |v| {
        v["sessionStartTime"] = json!("1900-01-01T00:00:00Z");
    });
    sessions(dir, &mut n, 1, |v| {
        v["sessionStartTime"] = json!("2262-01-01T00:00:00Z");
        v["sessionEndTime"] = json!("2262-01-01T00:00:01Z");
    });
    sessions(dir, &mut n, 1, |v| {
        v["sessionEndTime"] = json!("2023-06-30T23:59:60Z");
    });
    sessions(dir, &mut n, 1, |v| {
        v["sessionStartTime"] = json!("2023-06-30 01:02:12Z");
    });
    BTreeMap::from([
        ("sessionStartTime.plausible", 3),
        ("sessionEndTime.format", 1),
        ("sessionStartTime.format", 1),
    ])
}

fn read(site: &Path, file: &Path) -> String {
    String::from_utf8(std::fs::read(site.join(file)).expect("read")).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_never_blocks_publishing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("hostile");
    let rules = hostile(&dir);
    let s = settings(tmp.path(), &[("batect", &fixtures()), ("hostile", &dir)]);
    let built = pipeline::build(&s, &common::defs(&s), true)
        .await
        .expect("the build publishes");

    // The implausible and the badly written are quarantined, each with its rule.
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for q in &built.pull.quarantined {
        assert_eq!(q.source, "hostile", "{q:?}");
        *got.entry(q.rule.as_str()).or_default() += 1;
    }
    assert_eq!(got, rules, "{:?}", built.pull.quarantined);
    let fixture_sessions = files(&fixtures()).len();
    let kept = 8 * USERS;
    assert_eq!(
        built.pull.sessions as usize,
        fixture_sessions + kept,
        "{}",
        built.pull
    );

    // What the site held back, per panel.
    let held = built.held.join("\n");
    // The UUID-like label is masked before the minimum applies (the privacy guard's free-text
    // rules, then `publishable`); the CSVs below show it published masked.
    for what in ["with control characters replaced", "cut to 200 characters"] {
        assert!(held.contains(what), "{what:?} not in:\n{held}");
    }
    assert!(held.contains("reports/reliability.toml: panel"), "{held}");

    let site = tmp.path().join("site");
    let all = files(&site);
    let long = "L".repeat(201);
    for f in &all {
        let text = read(&site, f);
        let name = f.display();
        assert!(!text.contains("0d3f9c2e-8a0e"), "{name} holds the UUID");
        assert!(
            !text.contains(&long),
            "{name} holds the long attribute whole"
        );
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
            "{name} holds a control character"
        );
    }
    let csv: String = all
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "csv"))
        .map(|f| read(&site, f))
        .collect();
    // Published as the privacy guard's free-text rules, then the id mask, make it.
    let masked = report::output::mask_ids(&report::privacy::scrub(UUID_LABEL));
    assert!(!masked.contains("0d3f9c2e"), "{masked}");
    assert!(
        csv.contains(&masked),
        "the masked label {masked:?} is published"
    );
    // The other two formula cells may be folded or cut to their first line by the privacy
    // guard; output's unit tests neutralise each, and none reaches a CSV raw.
    assert!(
        csv.contains("' =1+1,"),
        "the neutralised formula is not in the CSVs"
    );
    for raw in ["\r\n =1+1,", "\r\n＝1+1,", "\r\n\"\n=1+1\","] {
        assert!(!csv.contains(raw), "{raw:?} reaches a spreadsheet");
    }

    // "Now" is the newest plausible session: the figures and range the fixtures alone give.
    let golden = |p: &str| std::fs::read_to_string(repo().join("tests/expected/site").join(p));
    assert_eq!(
        read(&site, Path::new("data/adoption/p1.csv")),
        golden("data/adoption/p1.csv").expect("golden")
    );
    let index = read(&site, Path::new("index.html"));
    assert!(index.contains("2023-08-28"), "{index}");
    for year in ["2030", "2262", "1900"] {
        assert!(!index.contains(year), "the range reaches {year}");
    }
    // The class of the tab-led trace is its first line with text.
    let classes = pipeline::query_one(&s, &common::defs(&s), "exception_classes")
        .await
        .expect("exception_classes");
    assert!(
        classes
            .rows
            .iter()
            .any(|r| r[0].to_string() == "at com.example.Main.run(Main.kt"),
        "{classes:?}"
    );
}
