//! `report check` on the real binary: a clean project, and a broken one whose every problem is
//! listed in one run with its file (and line where there is one).

use std::path::Path;
use std::process::{Command, Output};

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

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A small project that checks clean.
fn clean_project(dir: &Path) {
    write(dir, "report.toml", "warehouse = \"w\"\n");
    write(
        dir,
        "queries/per_day.sql",
        "SELECT date,\n  count(*) AS sessions, count(DISTINCT user_id) AS installations\nFROM sessions\nGROUP BY date\nORDER BY date\n",
    );
    write(
        dir,
        "queries/busy_days.sql",
        "SELECT date, sessions, installations FROM per_day WHERE sessions > 10 ORDER BY date\n",
    );
    write(
        dir,
        "queries/per_day.expect.toml",
        "[[expect]]\nnot_null = \"date\"\n[[expect]]\nsql = \"SELECT * FROM per_day WHERE sessions < 0\"\n",
    );
    write(
        dir,
        "reports/r.toml",
        "title = \"R\"\n\n[[panel]]\ntitle = \"Per day\"\nquery = \"busy_days\"\nchart = \"line\"\nx = \"date\"\ny = \"sessions\"\n[[panel.expect]]\ncolumn = \"sessions\"\nmin = 0.0\n",
    );
}

#[test]
fn a_clean_project_checks_clean() {
    let tmp = tempfile::tempdir().expect("tmp");
    clean_project(tmp.path());
    let o = report(&["check"], tmp.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.contains("2 queries, 1 reports with 1 panels, 3 expectations"),
        "{err}"
    );
    // Nothing was written: check needs no warehouse.
    assert!(!tmp.path().join("w").exists());
}

#[test]
fn a_broken_project_lists_every_problem_with_its_file_and_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    clean_project(dir);
    write(
        dir,
        "queries/bad_sql.sql",
        "SELECT date\nFROM sessions\nWHERE x = = 1\n",
    );
    write(
        dir,
        "queries/unknown_column.sql",
        "SELECT date,\n  nope\nFROM sessions\n",
    );
    write(dir, "queries/cycle_a.sql", "SELECT * FROM cycle_b\n");
    write(dir, "queries/cycle_b.sql", "SELECT * FROM cycle_a\n");
    write(dir, "queries/reads_cycle.sql", "SELECT * FROM cycle_a\n");
    write(
        dir,
        "queries/per_day.expect.toml",
        "[[expect]]\nnot_null = \"date\"\nnull_ok = true\n",
    );
    write(
        dir,
        "reports/broken.toml",
        r#"title = "Broken"

[[panel]]
title = "Y is a date"
query = "per_day"
chart = "line"
x = "date"
y = "date"

[[panel]]
title = "Colour"
query = "per_day"
chart = "bar"
x = "date"
y = "sessions"
colour = "red"

[[panel]]
title = "No such query"
query = "nothing_here"
chart = "table"

[[panel]]
title = "No such column"
query = "per_day"
chart = "line"
x = "day"
y = "sessions"
[[panel.expect]]
not_null = "version"

[[panel]]
title = "Counts no one"
query = "no_count"
chart = "line"
x = "date"
y = "sessions"

[[panel]]
title = "Declared public"
query = "no_count"
privacy = "public: a total over all installations"
chart = "line"
x = "date"
y = "sessions"
"#,
    );
    write(
        dir,
        "queries/no_count.sql",
        "SELECT date, count(*) AS sessions FROM sessions GROUP BY date ORDER BY date\n",
    );
    let o = report(&["check"], dir);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let expected = [
        "queries/bad_sql.sql:3: SQL does not parse",
        "queries/cycle_a.sql: queries read each other in a cycle: queries/cycle_a.sql → queries/cycle_b.sql → queries/cycle_a.sql",
        "queries/cycle_b.sql: queries read each other in a cycle",
        "queries/per_day.expect.toml:3: unknown field `null_ok`",
        "queries/reads_cycle.sql: not planned: it reads queries/cycle_a.sql, which has a problem",
        "queries/unknown_column.sql:2: query does not plan: Schema error: No field named nope",
        "reports/broken.toml:8: panel 1 (\"Y is a date\"): y = \"date\" is a date in query per_day, but y must be numeric",
        "reports/broken.toml:16: panel 2: \"Colour\" (bar): unknown field `colour`",
        "reports/broken.toml:20: panel 3 (\"No such query\"): no query named \"nothing_here\" (queries/nothing_here.sql)",
        "reports/broken.toml:27: panel 4 (\"No such column\"): x = \"day\" is not a column of query per_day (it has: date, sessions, installations)",
        "reports/broken.toml:29: panel 4 (\"No such column\"): expectation 1 (no null in version): not_null = \"version\" is not a column",
        "reports/broken.toml:34: panel 5 (\"Counts no one\"): query no_count does not say how many installations stand behind each row: add a column `count(DISTINCT user_id) AS installations`",
    ];
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{out}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(want),
            "expected {want:?}, got {line:?}\n{out}"
        );
    }
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("12 problems in 7 files"), "{err}");
}

#[test]
fn a_bad_config_is_a_problem_with_its_line_and_the_rest_is_still_checked() {
    let tmp = tempfile::tempdir().expect("tmp");
    clean_project(tmp.path());
    write(
        tmp.path(),
        "report.toml",
        "warehouse = \"w\"\nouptut = \"site\"\n",
    );
    write(tmp.path(), "queries/bad.sql", "SELEC 1\n");
    let o = report(&["check"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("report.toml:2: unknown field `ouptut`"),
        "{out}"
    );
    assert!(
        out.contains("queries/bad.sql:1: SQL does not parse"),
        "{out}"
    );
}

#[test]
fn the_repository_itself_checks_clean_and_fast() {
    let repo = crate::common::repo();
    let start = std::time::Instant::now();
    let o = report(&["check"], &repo);
    let took = start.elapsed();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(took.as_secs_f64() < 5.0, "report check took {took:?}");
}

#[test]
fn published_queries_without_a_total_order_are_warned_about() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    clean_project(dir);
    // No ORDER BY; an ORDER BY that leaves ties; one whose keys identify a row; a single row.
    write(
        dir,
        "queries/shells.sql",
        "-- Every shell.\nSELECT attributes.shell AS shell, count(*) AS sessions\nFROM sessions\nGROUP BY 1\n",
    );
    write(
        dir,
        "queries/by_count.sql",
        "SELECT attributes.shell AS shell, count(*) AS sessions\nFROM sessions\nGROUP BY 1\nORDER BY sessions DESC\n",
    );
    write(
        dir,
        "queries/by_count_then_shell.sql",
        "SELECT attributes.shell AS shell, count(*) AS sessions\nFROM sessions\nGROUP BY 1\nORDER BY sessions DESC, shell\n",
    );
    write(
        dir,
        "queries/total.sql",
        "SELECT count(*) AS sessions FROM sessions\n",
    );
    write(
        dir,
        "queries/unpublished.sql",
        "SELECT session_id FROM sessions\n",
    );
    let mut panels = String::new();
    for q in ["shells", "by_count", "by_count_then_shell"] {
        panels.push_str(&format!(
            "\n[[panel]]\ntitle = \"{q}\"\nquery = \"{q}\"\nchart = \"bar\"\nx = \"shell\"\ny = \"sessions\"\nprivacy = \"public: a test of orders\"\n"
        ));
    }
    panels.push_str("\n[[panel]]\ntitle = \"Total\"\nquery = \"total\"\nchart = \"number\"\nvalue = \"sessions\"\nprivacy = \"public: a test of orders\"\n");
    write(dir, "reports/s.toml", &format!("title = \"S\"\n{panels}"));
    let o = report(&["check"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "warnings do not fail: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            "queries/by_count.sql:4: warning: its ORDER BY sessions leaves rows equal in them in no fixed order, so its CSV and table can list them in another order on every build; order by columns that identify a row",
            "queries/shells.sql:4: warning: its rows come in no fixed order (no ORDER BY), so its CSV and table can list them in another order on every build; order by columns that identify a row",
        ],
        "{out}"
    );
}
