//! `report diff` on the real binary, in a throwaway git repository made from the fixture
//! project: a commit, then a change to queries (a filter, a renamed column, an added series,
//! a changed upstream query, an added query) and to a report; the exact summary is a golden.

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
chart = "line"
x = "date"
y = "sessions"

[[panel]]
title = "Top shells"
query = "top_shells"
chart = "bar"
x = "shell"
y = "sessions"

[[panel]]
title = "Failures by command"
query = "failures_by_command"
chart = "table"

[[panel]]
title = "Popular versions"
query = "popular_versions"
chart = "bar"
x = "version"
y = "sessions"
"#;

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
        + "\n[[panel]]\ntitle = \"Operating systems\"\nquery = \"top_os\"\nchart = \"bar\"\nx = \"os\"\ny = \"sessions\"\n";
    write(dir, "reports/overview.toml", &report);
}

#[test]
fn diff_shows_what_a_change_does_to_results_and_charts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    base_project(dir);
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let o = report(&["pull"], dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Nothing changed yet.
    let o = report(&["diff", "--fail-on-change"], dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("**No change: 5 queries and 4 panels"));

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
    // Four panels changed and one was added: before and after side by side.
    assert_eq!(html.matches("<figcaption>Before</figcaption>").count(), 5);
    assert_eq!(html.matches("<svg ").count(), 7, "{html}");
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
