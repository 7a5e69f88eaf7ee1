//! `report diff` on the real binary, in a throwaway git repository made from the fixture
//! project: a commit, then a change to queries (a filter, a renamed column, an added series,
//! a changed upstream query, an added query, a share that moves) and to a report; the exact
//! summary is a golden. Then what must not read as a change (a no-op on the whole fixture
//! project, panels reordered), what must read as exactly one (a panel inserted, a report
//! renamed, a schema changed), and what must fail (no warehouse, no such base, a broken base).

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{fixtures, golden};

fn report(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_report"))
        .args(args)
        .current_dir(dir)
        .env_remove("REPORT_CONFIG")
        .env_remove("REPORT_WAREHOUSE")
        .env_remove("REPORT_OUTPUT")
        .output()
        .expect("binary runs")
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

const REPORT: &str = r#"title = "Overview"

[[panel]]
title = "Sessions per day"
query = "sessions_per_day"
privacy = "public: a test of the diff"
chart = "line"
x = "date"
y = "sessions"

[[panel]]
title = "Top shells"
query = "top_shells"
privacy = "public: a test of the diff"
chart = "bar"
x = "shell"
y = "sessions"

[[panel]]
title = "Failures by command"
query = "failures_by_command"
privacy = "public: a test of the diff"
chart = "table"

[[panel]]
title = "Popular versions"
query = "popular_versions"
privacy = "public: a test of the diff"
chart = "bar"
x = "version"
y = "sessions"

[[panel]]
title = "Failed share by shell"
query = "failed_share_by_shell"
privacy = "public: a test of the diff"
chart = "bar"
x = "shell"
y = "failed_share"
y_format = "percent"
"#;

const FAILED_SHARE_BY_SHELL: &str = "SELECT coalesce(attributes.shell, '(none)') AS shell,\n  round(avg(CASE WHEN attributes.exitCode <> 0 THEN 1.0 ELSE 0.0 END), 4) AS failed_share\nFROM sessions\nGROUP BY 1\nORDER BY shell\n";

/// The project at its first commit: the fixtures, four queries and a report.
fn base_project(dir: &Path) {
    write(
        dir,
        "report.toml",
        &format!(
            "warehouse = \"warehouse\"\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {:?}\n",
            fixtures()
        ),
    );
    write(dir, ".gitignore", "/warehouse\n/diff\n/site\n");
    write(
        dir,
        "queries/sessions_per_day.sql",
        "SELECT date, count(*) AS sessions FROM sessions GROUP BY date ORDER BY date\n",
    );
    write(
        dir,
        "queries/top_shells.sql",
        "SELECT coalesce(attributes.shell, '(none)') AS shell, count(*) AS sessions\nFROM sessions\nGROUP BY 1\nORDER BY sessions DESC, shell\n",
    );
    write(
        dir,
        "queries/failures_by_command.sql",
        "SELECT attributes.commandType AS command, count(*) AS sessions,\n  round(avg(CASE WHEN attributes.exitCode <> 0 THEN 1.0 ELSE 0.0 END), 4) AS failed_share\nFROM sessions GROUP BY 1 ORDER BY sessions DESC, command\n",
    );
    write(
        dir,
        "queries/versions.sql",
        "SELECT application_version AS version, count(*) AS sessions FROM sessions GROUP BY 1 ORDER BY 1\n",
    );
    write(
        dir,
        "queries/popular_versions.sql",
        "SELECT version, sessions FROM versions WHERE sessions >= 100 ORDER BY version\n",
    );
    write(
        dir,
        "queries/failed_share_by_shell.sql",
        FAILED_SHARE_BY_SHELL,
    );
    write(dir, "reports/overview.toml", REPORT);
}

/// The change under review.
fn change(dir: &Path) {
    // A filter.
    write(
        dir,
        "queries/top_shells.sql",
        "SELECT coalesce(attributes.shell, '(none)') AS shell, count(*) AS sessions\nFROM sessions\nWHERE attributes.shell IS NULL OR attributes.shell <> 'fish'\nGROUP BY 1\nORDER BY sessions DESC, shell\n",
    );
    // A renamed column.
    write(
        dir,
        "queries/failures_by_command.sql",
        "SELECT attributes.commandType AS command, count(*) AS sessions,\n  round(avg(CASE WHEN attributes.exitCode <> 0 THEN 1.0 ELSE 0.0 END), 4) AS failure_share\nFROM sessions GROUP BY 1 ORDER BY sessions DESC, command\n",
    );
    // An added series.
    write(
        dir,
        "queries/sessions_per_day.sql",
        "SELECT date, CASE WHEN attributes.osName = 'Linux' THEN 'Linux' ELSE 'other' END AS os, count(*) AS sessions\nFROM sessions GROUP BY 1, 2 ORDER BY date, os\n",
    );
    // An upstream change: popular_versions is untouched but reads versions.
    write(
        dir,
        "queries/versions.sql",
        "SELECT application_version AS version, count(*) AS sessions FROM sessions WHERE application_version <> '0.80.0' AND attributes.osName <> 'Windows 10' GROUP BY 1 ORDER BY 1\n",
    );
    // Shares that move: the newest release left out.
    write(
        dir,
        "queries/failed_share_by_shell.sql",
        &FAILED_SHARE_BY_SHELL.replace(
            "FROM sessions\n",
            "FROM sessions\nWHERE application_version <> '0.84.0'\n",
        ),
    );
    // An added query, and the report: a series, a new title, a new panel.
    write(
        dir,
        "queries/top_os.sql",
        "SELECT coalesce(attributes.osName, '(unknown)') AS os, count(*) AS sessions FROM sessions GROUP BY 1 ORDER BY sessions DESC, os\n",
    );
    let report = REPORT
        .replace(
            "y = \"sessions\"\n\n[[panel]]\ntitle = \"Top shells\"",
            "y = \"sessions\"\nseries = \"os\"\n\n[[panel]]\ntitle = \"Top shells\"",
        )
        .replace(
            "title = \"Top shells\"",
            "title = \"Top shells (without fish)\"",
        )
        + "\n[[panel]]\ntitle = \"Operating systems\"\nquery = \"top_os\"\nprivacy = \"public: a test of the diff\"\nchart = \"bar\"\nx = \"os\"\ny = \"sessions\"\n";
    write(dir, "reports/overview.toml", &report);
}

#[test]
fn diff_shows_what_a_change_does_to_results_and_charts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    pulled_project(dir);

    // Nothing changed yet.
    let o = report(&["diff", "--fail-on-change"], dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("**No change: 6 queries and 5 panels"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    change(dir);
    // The default base is the merge base with main: the commit above.
    let o = report(&["diff"], dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = std::fs::read_to_string(dir.join("diff/summary.md")).expect("summary.md");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        summary,
        "stdout is the summary"
    );
    // The commit's id depends on the temporary folder named in report.toml.
    let commit = &summary[summary.find("main (").expect("base label") + 6..][..12];
    golden(
        "diff/summary.md",
        summary.replace(commit, "<commit>").as_bytes(),
    );

    let html = std::fs::read_to_string(dir.join("diff/index.html")).expect("index.html");
    // Five panels changed and one was added: before and after side by side.
    assert_eq!(html.matches("<figcaption>Before</figcaption>").count(), 6);
    assert_eq!(html.matches("<svg ").count(), 9, "{html}");
    assert!(html.contains("No such panel on this side."));
    assert!(html.contains("id=\"q-failures_by_command\""));
    assert!(html.contains("failed_share") && html.contains("failure_share"));
    assert!(!html.contains("<script"));
    nu_html_check(&dir.join("diff"));

    // JSON for machines, and --fail-on-change.
    let o = report(
        &["diff", "main", "--format", "json", "--fail-on-change"],
        dir,
    );
    assert_eq!(o.status.code(), Some(4));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let queries = json["queries"].as_array().expect("queries");
    let status = |name: &str| {
        queries
            .iter()
            .find(|q| q["name"] == name)
            .map(|q| q["status"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(status("top_os").as_deref(), Some("added"));
    assert_eq!(status("popular_versions").as_deref(), Some("changed"));
    let popular = queries
        .iter()
        .find(|q| q["name"] == "popular_versions")
        .expect("popular_versions");
    assert_eq!(popular["sql_changed"], false);
    assert_eq!(popular["reads_changed"][0], "versions");

    // Committed on a branch, --head compares two revisions and ignores the working tree.
    git(dir, &["checkout", "-q", "-b", "change"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "change"]);
    std::fs::remove_dir_all(dir.join("queries")).expect("rm");
    let o = report(&["diff", "main", "--head", "change", "--out", "diff2"], dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = std::fs::read_to_string(dir.join("diff2/summary.md")).expect("summary");
    assert_eq!(
        again.lines().skip(3).collect::<Vec<_>>(),
        summary.lines().skip(3).collect::<Vec<_>>(),
        "same comparison, other head label:\n{again}"
    );
}

/// The Nu HTML checker over `dir`, when .ci/run has installed it on this machine.
fn nu_html_check(dir: &Path) {
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    let jar = Path::new(&home).join(".cache/report-tools/node_modules/vnu-jar/build/dist/vnu.jar");
    if !jar.exists() {
        eprintln!("Nu HTML checker not installed ({}); skipped", jar.display());
        return;
    }
    let o = Command::new("java")
        .args(["-jar"])
        .arg(&jar)
        .args(["--errors-only", "--skip-non-html"])
        .arg(dir)
        .output()
        .expect("java runs");
    assert!(
        o.status.success(),
        "the Nu HTML checker finds errors: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_failing_expectation_fails_the_build_naming_report_expectation_and_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    base_project(dir);
    let report_text = REPORT.replace(
        "x = \"shell\"\ny = \"sessions\"\n",
        "x = \"shell\"\ny = \"sessions\"\n\n[[panel.expect]]\nname = \"no shell dominates\"\ncolumn = \"sessions\"\nmax = 500.0\n",
    );
    write(dir, "reports/overview.toml", &report_text);
    let o = report(&["build"], dir);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("reports/overview.toml: panel 2 (\"Top shells\"): expectation 1 on query top_shells: \"no shell dominates\": sessions ≤ 500"),
        "{err}"
    );
    assert!(err.contains("shell | sessions"), "{err}");
    assert!(err.contains("bash | "), "{err}");
    assert!(
        !dir.join("site/overview.html").exists(),
        "nothing was written"
    );
}

/// A git repository of `base_project`, committed, with its warehouse pulled.
fn pulled_project(dir: &Path) {
    base_project(dir);
    commit_and_pull(dir, true);
}

/// Makes `dir` a git repository on `main` with one commit of everything, and pulls.
fn commit_and_pull(dir: &Path, pull: bool) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    if pull {
        let o = report(&["pull"], dir);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// `report diff main --format json` and its exit code with `--fail-on-change`.
fn diff_json(dir: &Path) -> (Option<i32>, serde_json::Value) {
    let o = report(
        &["diff", "main", "--format", "json", "--fail-on-change"],
        dir,
    );
    let json = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code(), json)
}

/// The (status, id) of every panel that is not unchanged, and every query's status that is not.
fn changes(json: &serde_json::Value) -> (Vec<(String, String)>, Vec<String>) {
    let list = |key: &str| json[key].as_array().cloned().unwrap_or_default();
    let panels = list("panels")
        .iter()
        .filter(|p| p["status"] != "unchanged")
        .map(|p| {
            (
                p["status"].as_str().unwrap_or("").to_string(),
                p["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let queries = list("queries")
        .iter()
        .filter(|q| q["status"] != "unchanged")
        .map(|q| q["name"].as_str().unwrap_or("").to_string())
        .collect();
    (panels, queries)
}

fn reset(dir: &Path) {
    git(dir, &["reset", "-q", "--hard"]);
    git(dir, &["clean", "-q", "-fd"]);
}

#[test]
fn panels_keep_their_identity_when_moved_inserted_or_their_report_renamed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    pulled_project(dir);
    let panels: Vec<&str> = REPORT.split("\n[[panel]]\n").collect();
    let (head, rest) = (panels[0], &panels[1..]);

    // Reordered: the same panels, the same results.
    let mut moved = rest.to_vec();
    moved.reverse();
    write(
        dir,
        "reports/overview.toml",
        &format!("{head}\n[[panel]]\n{}", moved.join("\n[[panel]]\n")),
    );
    let (code, json) = diff_json(dir);
    assert_eq!(changes(&json), (vec![], vec![]), "{json:#}");
    assert_eq!(code, Some(0));

    // A panel inserted in the middle: one added, nothing else.
    let inserted = "title = \"All versions\"\nquery = \"versions\"\nchart = \"bar\"\nx = \"version\"\ny = \"sessions\"\n";
    let mut with = rest.to_vec();
    with.insert(2, inserted);
    write(
        dir,
        "reports/overview.toml",
        &format!("{head}\n[[panel]]\n{}", with.join("\n[[panel]]\n")),
    );
    let (code, json) = diff_json(dir);
    assert_eq!(
        changes(&json),
        (
            vec![("added".to_string(), "versions/all-versions".to_string())],
            vec![]
        ),
        "{json:#}"
    );
    assert_eq!(code, Some(4));
    let added = json["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .find(|p| p["status"] == "added")
        .expect("added");
    assert_eq!(added["panel"], 3, "shown where it was inserted");

    // A report renamed: a rename, its panels unchanged.
    reset(dir);
    git(
        dir,
        &["mv", "reports/overview.toml", "reports/summary.toml"],
    );
    let (code, json) = diff_json(dir);
    assert_eq!(changes(&json), (vec![], vec![]), "{json:#}");
    let reports = json["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 1, "{json:#}");
    assert_eq!(reports[0]["status"], "renamed");
    assert_eq!(reports[0]["before"], "reports/overview.toml");
    assert_eq!(reports[0]["after"], "reports/summary.toml");
    assert_eq!(code, Some(4), "a page that moves is a change");
    let o = report(&["diff", "main"], dir);
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary
            .contains("| reports/summary.toml | Overview | renamed from reports/overview.toml |"),
        "{summary}"
    );
    assert!(summary.contains("0 panels changed, 0 added, 0 removed; 1 report file changes."));

    // The summary links to where CI publishes the whole diff.
    let o = report(
        &[
            "diff",
            "main",
            "--link",
            "https://ci.example/runs/7?tab=artifacts",
        ],
        dir,
    );
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains(
            "\n[The whole diff: charts before and after, every changed row](<https://ci.example/runs/7?tab=artifacts>)\n"
        ),
        "{summary}"
    );
}

#[test]
fn the_base_is_read_with_its_own_config_and_schemas() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    pulled_project(dir);
    // The base names an attribute schema of its own.
    let schema = std::fs::read_to_string(
        crate::common::repo()
            .join("src/formats/abacus/batect_sessions_session_attributes_schema.json"),
    )
    .expect("schema");
    write(dir, "schemas/session_attributes.json", &schema);
    let config = std::fs::read_to_string(dir.join("report.toml")).expect("config")
        + "session_attributes = \"schemas/session_attributes.json\"\n";
    write(dir, "report.toml", &config);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "own schema"]);
    let o = report(&["diff", "HEAD", "--fail-on-change"], dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // The head's schema knows one attribute more.
    let more = schema
        .trim_end()
        .trim_end_matches(']')
        .trim_end()
        .to_string()
        + ",\n  {\"name\": \"shellCompletionInstalled\", \"type\": \"BOOLEAN\", \"mode\": \"NULLABLE\"}\n]\n";
    write(dir, "schemas/session_attributes.json", &more);
    let o = report(&["diff", "HEAD", "--fail-on-change"], dir);
    let summary = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(4), "{summary}");
    assert!(summary.contains("the configuration changed"), "{summary}");
    assert!(
        summary.contains(
            "- table sessions: column attributes.shellCompletionInstalled \\(Boolean\\) added"
        ),
        "{summary}"
    );

    // The base as it was: its report.toml named another source URL and no schema file.
    let o = report(&["diff", "main", "--format", "json"], dir);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let config: Vec<&str> = json["config"]
        .as_array()
        .expect("config")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        config.contains(
            &"table sessions: column attributes.shellCompletionInstalled (Boolean) added"
        ),
        "{config:?}"
    );
}

#[test]
fn diff_fails_loud_on_no_warehouse_no_base_and_a_base_that_does_not_build() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    base_project(dir);
    commit_and_pull(dir, false);
    let failure = |args: &[&str], says: &[&str]| {
        let o = report(args, dir);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}: no summary on a failure");
        for s in says {
            assert!(err.contains(s), "{args:?}: {s:?} not in {err}");
        }
    };
    // No warehouse yet: nothing was pulled.
    failure(
        &["diff", "--fail-on-change"],
        &["is not a folder", "run `report pull` first"],
    );
    assert!(!dir.join("warehouse").exists(), "diff creates no warehouse");
    std::fs::create_dir(dir.join("warehouse")).expect("mkdir");
    failure(&["diff", "--fail-on-change"], &["holds no data"]);
    let o = report(&["pull"], dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    failure(
        &["diff", "no-such-branch"],
        &["\"no-such-branch\" is not a commit"],
    );
    failure(
        &["diff", "--link", "javascript:alert(1)"],
        &["--link \"javascript:alert(1)\" is not an http(s) URL"],
    );
    // A base whose report does not load.
    write(
        dir,
        "reports/overview.toml",
        &format!(
            "{REPORT}\n[[panel]]\ntitle = \"Broken\"\nquery = \"versions\"\nchart = \"pie\"\n"
        ),
    );
    git(dir, &["commit", "-q", "-am", "broken"]);
    reset(dir);
    git(dir, &["checkout", "-q", "HEAD~1", "--", "reports"]);
    failure(
        &["diff", "HEAD"],
        &[
            "the project at HEAD",
            "reports/overview.toml",
            "unknown chart kind \"pie\"",
        ],
    );
}

/// The fixture project of this repository (its report.toml, queries and reports, reading the
/// fixtures where they are), committed in a throwaway repository and pulled.
fn fixture_project(dir: &Path) {
    let repo = crate::common::repo();
    let config = std::fs::read_to_string(repo.join("report.toml"))
        .expect("report.toml")
        .replace("\"fixtures/", &format!("\"{}/fixtures/", repo.display()));
    write(dir, "report.toml", &config);
    write(dir, ".gitignore", "/warehouse\n/diff\n/site\n");
    for folder in ["queries", "reports"] {
        for e in std::fs::read_dir(repo.join(folder)).expect("folder") {
            let p = e.expect("entry").path();
            let name = p.file_name().expect("name").to_string_lossy().to_string();
            std::fs::create_dir_all(dir.join(folder)).expect("mkdir");
            std::fs::copy(&p, dir.join(folder).join(name)).expect("copy");
        }
    }
    commit_and_pull(dir, true);
}

#[test]
fn a_no_op_diff_of_the_fixture_project_says_no_change_every_time() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    fixture_project(dir);
    for run in 1..=5 {
        let o = report(&["diff", "HEAD", "--fail-on-change"], dir);
        let summary = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "run {run}: {summary}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(summary.contains("**No change: "), "run {run}: {summary}");
    }
}

/// `report diff` prints what the site would publish, no more: one installation's unique
/// values (a shell, a terminal) are in the warehouse and in rows the change touches, yet
/// appear nowhere in summary.md, index.html or the JSON; a query no panel publishes shows its
/// counts only; and a head that lowers `min_installations` is diffed with the base's minimum.
#[test]
fn diff_prints_only_what_the_privacy_guard_publishes() {
    use crate::privacy::{MARK, lonely_sessions};
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lonely = dir.join("lonely");
    for (key, json) in lonely_sessions() {
        write(&lonely, &key, &json);
    }
    let config = format!(
        "warehouse = \"warehouse\"\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {:?}\n\n[[source]]\nname = \"lonely\"\nformat = \"abacus\"\nurl = {:?}\n",
        fixtures(),
        lonely
    );
    write(dir, "report.toml", &config);
    write(dir, ".gitignore", "/warehouse\n/diff\n/site\n/lonely\n");
    let shells = "SELECT coalesce(attributes.shell, '(none)') AS shell, count(*) AS sessions,\n  count(DISTINCT user_id) AS installations\nFROM sessions GROUP BY 1 ORDER BY sessions DESC, shell\n";
    write(dir, "queries/shells.sql", shells);
    // A query no panel shows: one row per installation.
    write(
        dir,
        "queries/terminals_of_users.sql",
        "SELECT DISTINCT user_id AS installation, attributes.terminal AS terminal FROM sessions ORDER BY 1, 2\n",
    );
    write(
        dir,
        "reports/overview.toml",
        "title = \"Overview\"\n\n[[panel]]\ntitle = \"Shells\"\nquery = \"shells\"\nchart = \"bar\"\nx = \"shell\"\ny = \"sessions\"\n",
    );
    commit_and_pull(dir, true);

    // Every row changes (the lonely shell's too); a panel of terminals is added; the
    // unpublished query changes; the head asks for groups of one.
    write(
        dir,
        "queries/shells.sql",
        &shells.replace("count(*) AS sessions", "2 * count(*) AS sessions"),
    );
    write(
        dir,
        "queries/terminals.sql",
        "SELECT coalesce(attributes.terminal, '(none)') AS terminal, count(*) AS sessions,\n  count(DISTINCT user_id) AS installations\nFROM sessions GROUP BY 1 ORDER BY sessions DESC, terminal\n",
    );
    write(
        dir,
        "queries/terminals_of_users.sql",
        "SELECT DISTINCT user_id AS installation, upper(attributes.terminal) AS terminal FROM sessions ORDER BY 1, 2\n",
    );
    write(
        dir,
        "reports/overview.toml",
        "title = \"Overview\"\n\n[[panel]]\ntitle = \"Shells\"\nquery = \"shells\"\nchart = \"bar\"\nx = \"shell\"\ny = \"sessions\"\n\n[[panel]]\ntitle = \"Terminals\"\nquery = \"terminals\"\nchart = \"bar\"\nx = \"terminal\"\ny = \"sessions\"\n",
    );
    write(
        dir,
        "report.toml",
        &format!("{config}\n[privacy]\nmin_installations = 1\n"),
    );

    let o = report(&["diff"], dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = std::fs::read_to_string(dir.join("diff/summary.md")).expect("summary.md");
    let html = std::fs::read_to_string(dir.join("diff/index.html")).expect("index.html");
    let (_, json) = diff_json(dir);
    let json = json.to_string();
    for (name, text) in [
        ("summary.md", &summary),
        ("index.html", &html),
        ("json", &json),
    ] {
        let found: Vec<&str> = text
            .lines()
            .filter(|l| l.to_lowercase().contains(MARK))
            .collect();
        assert!(found.is_empty(), "{name} shows a unique value:\n{found:#?}");
    }
    // The changed rows are there, the lonely one folded into Other.
    assert!(summary.contains("#### `shells` (changed)"), "{summary}");
    assert!(summary.contains("| Other |"), "{summary}");
    assert!(
        summary.contains("fewer than 10 installations are folded into “Other”"),
        "{summary}"
    );
    assert!(summary.contains("#### `terminals` (added)"), "{summary}");
    // The unpublished query: its counts, no rows.
    assert!(
        summary.contains("No panel publishes this query: only its row counts are shown."),
        "{summary}"
    );
    let section = &summary[summary.find("#### `terminals_of_users`").expect("section")..];
    let section = &section[..section[1..].find("####").map_or(section.len(), |i| i + 1)];
    assert!(
        !section.contains("Changed rows") && !section.contains("Added rows"),
        "{section}"
    );
    assert!(html.contains("No panel publishes this query"), "{html}");
    nu_html_check(&dir.join("diff"));
}
