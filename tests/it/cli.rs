//! The real binary: help, errors and exit codes.

use std::process::{Command, Output};

use crate::common::{fixtures, invalid_fixtures, repo, text};

/// The real binary run in `dir`, none of the `REPORT_*` variables of the test's environment set.
pub fn report(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_report"))
        .args(args)
        .current_dir(dir)
        .env_remove("REPORT_CONFIG")
        .env_remove("REPORT_WAREHOUSE")
        .env_remove("REPORT_OUTPUT")
        .env_remove("REPORT_SOURCE_URL")
        .output()
        .expect("binary runs")
}

#[test]
fn help_explains_every_command_with_an_example() {
    let o = report(&["--help"], &repo());
    assert!(o.status.success());
    let t = text(&o);
    for word in ["build", "pull", "generate", "Examples:", "Exit codes"] {
        assert!(t.contains(word), "--help lacks {word}: {t}");
    }
    for cmd in ["build", "pull", "generate"] {
        let o = report(&[cmd, "--help"], &repo());
        assert!(o.status.success());
        assert!(
            text(&o).contains(&format!("report {cmd}")),
            "{cmd} --help has no example"
        );
    }
}

#[test]
fn a_missing_config_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = report(&["build"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("report.toml"), "{}", text(&o));
}

#[test]
fn an_unknown_config_key_is_an_error_naming_file_and_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("report.toml"),
        "warehouse = 'w'\nouptut = 'site'\n",
    )
    .expect("write");
    let o = report(&["pull"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("report.toml") && t.contains("ouptut"), "{t}");
}

#[test]
fn usage_errors_exit_2() {
    let o = report(&["build", "--no-such-flag"], &repo());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn quarantine_sets_exit_code_3_and_names_each_object() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = format!(
        "[[source]]\nname = \"bad\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {:?}\n",
        invalid_fixtures()
    );
    std::fs::write(tmp.path().join("report.toml"), config).expect("write");
    let o = report(&["pull"], tmp.path());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("quarantined bad:v1/batect/0.84.0/sessionId.uuid4--"),
        "{t}"
    );
    assert!(
        t.contains("sessionId must be a valid version 4 UUID"),
        "{t}"
    );
    assert!(t.lines().last().unwrap_or("").starts_with("pull: "), "{t}");
}

#[test]
fn a_source_that_is_not_there_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("report.toml"),
        "[[source]]\nname = \"gone\"\nformat = \"abacus\"\nurl = \"nowhere\"\n",
    )
    .expect("write");
    let o = report(&["pull"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("\"gone\""), "{}", text(&o));
}

#[test]
fn generate_is_deterministic() {
    let tmp = tempfile::tempdir().expect("tmp");
    for out in ["a", "b"] {
        let o = report(
            &["generate", "--sessions", "40", "--seed", "9", "--out", out],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let a = crate::common::files(&tmp.path().join("a"));
    assert_eq!(a.len(), 40);
    for f in &a {
        assert_eq!(
            std::fs::read(tmp.path().join("a").join(f)).expect("a"),
            std::fs::read(tmp.path().join("b").join(f)).expect("b")
        );
    }
}

#[test]
fn the_committed_fixtures_are_what_the_documented_command_generates() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = report(
        &[
            "generate",
            "--sessions",
            "2400",
            "--seed",
            "1",
            "--out",
            "abacus",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = report(
        &["generate", "--invalid", "--seed", "1", "--out", "invalid"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    for (made, committed) in [("abacus", fixtures()), ("invalid", invalid_fixtures())] {
        let made = tmp.path().join(made);
        assert_eq!(
            crate::common::files(&made),
            crate::common::files(&committed)
        );
        for f in crate::common::files(&made) {
            assert!(
                std::fs::read(made.join(&f)).expect("made")
                    == std::fs::read(committed.join(&f)).expect("committed"),
                "{} differs from the generator's output",
                f.display()
            );
        }
    }
}

/// A project in `dir` over the repository's queries and reports, with one Abacus source of
/// `sessions` generated sessions, pulled.
fn pulled_project(dir: &std::path::Path, sessions: &str) {
    let o = report(
        &[
            "generate",
            "--sessions",
            sessions,
            "--days",
            "20",
            "--out",
            "fx",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let config = format!(
        "queries = {:?}\nreports = {:?}\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\nurl = \"fx\"\napplication_ids = [\"batect\"]\n",
        repo().join("queries"),
        repo().join("reports")
    );
    std::fs::write(dir.join("report.toml"), config).expect("write");
    let o = report(&["pull"], dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let tmp = tempfile::tempdir().expect("tmp");
    pulled_project(tmp.path(), "60");
    // `report query sessions_per_day | head -0`: the pipe is closed before anything is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["query", "sessions_per_day"])
        .current_dir(tmp.path())
        .env_remove("REPORT_CONFIG")
        .env_remove("REPORT_WAREHOUSE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("waits");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // The same through a shell: `| head -1` and `2>&1 | head -1`.
    let bin = env!("CARGO_BIN_EXE_report");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {bin:?} query sessions_per_day | head -1 && {bin:?} pull --retry-quarantined 2>&1 | head -1 >/dev/null"
        ))
        .current_dir(tmp.path())
        .env_remove("REPORT_CONFIG")
        .env_remove("REPORT_WAREHOUSE")
        .output()
        .expect("bash runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim_end(),
        "date,sessions"
    );
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
}

#[test]
fn query_over_a_missing_or_empty_warehouse_is_an_error_that_creates_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = format!(
        "queries = {:?}\nreports = {:?}\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\nurl = \"fx\"\n",
        repo().join("queries"),
        repo().join("reports")
    );
    std::fs::write(tmp.path().join("report.toml"), config).expect("write");
    let o = report(&["query", "sessions_per_day"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("warehouse"), "{}", text(&o));
    assert!(text(&o).contains("report pull"), "{}", text(&o));
    assert!(
        !tmp.path().join("warehouse").exists(),
        "the query made the warehouse"
    );
    std::fs::create_dir(tmp.path().join("warehouse")).expect("mkdir");
    let o = report(&["query", "sessions_per_day"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("holds nothing yet"), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
}

#[test]
fn commands_find_report_toml_in_a_folder_above() {
    let o = report(&["check"], &repo().join("queries"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("check: ok"), "{}", text(&o));
}

#[test]
fn empty_variables_count_as_unset() {
    // A workflow passes `${{ vars.REPORT_SOURCE_URL }}` whether or not it is defined; the
    // repository has four sources, so a set REPORT_SOURCE_URL would be an error.
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("check")
        .current_dir(repo())
        .env("REPORT_CONFIG", "")
        .env("REPORT_WAREHOUSE", "")
        .env("REPORT_OUTPUT", "")
        .env("REPORT_SOURCE_URL", "")
        .env("REPORT_SOURCE_BATECT_URL", "")
        .env("AWS_REGION", "")
        .output()
        .expect("binary runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("check")
        .current_dir(repo())
        .env("REPORT_SOURCE_URL", "s3://bucket/x")
        .output()
        .expect("binary runs");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn the_pull_summary_reads_as_people_write_figures() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = report(
        &["generate", "--sessions", "1200", "--out", "fx"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(
        tmp.path().join("report.toml"),
        "[[source]]\nname = \"batect\"\nformat = \"abacus\"\nurl = \"fx\"\napplication_ids = [\"batect\"]\n",
    )
    .expect("write");
    let o = report(&["pull"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let last = text(&o).lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("pull: 1,200 objects listed"), "{last}");
    let size = regex::Regex::new(r"1,200 fetched \(\d+(\.\d)? [kM]B\)").expect("regex");
    assert!(size.is_match(&last), "{last}");
    let rate = regex::Regex::new(r" in \d+\.\d s \([\d,]+ objects/s, \d+(\.\d)? [kMG]?B/s\)$")
        .expect("regex");
    assert!(rate.is_match(&last), "{last}");
}

/// Exploring the warehouse: `report tables` lists every table with its columns, a struct's
/// fields one by one and the attributes no schema knows by their key, each with the rows that
/// carry it; `report query --sql` and `report query FILE.sql` run SQL over the tables and the
/// project's queries, as CSV when piped and aligned with `--format table`.
#[test]
fn tables_and_ad_hoc_queries_show_the_warehouse() {
    let tmp = tempfile::tempdir().expect("tmp");
    pulled_project(tmp.path(), "60");
    // One session with an attribute the schema does not know.
    let fx = tmp.path().join("fx");
    let mut v: serde_json::Value = serde_json::from_str(include_str!(
        "../../fixtures/reference/session_macos_task_failed.stored.min.json"
    ))
    .expect("json");
    v["sessionId"] = serde_json::json!("00000000-0000-4000-8000-00000000abcd");
    v["attributes"]["brandNewFlag"] = serde_json::json!(true);
    std::fs::write(fx.join("new.json"), v.to_string()).expect("write");
    let o = report(&["pull"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let o = report(&["tables"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout).into_owned();
    let row = |prefix: &str| {
        csv.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{csv}"))
            .to_string()
    };
    assert_eq!(csv.lines().next(), Some("table,column,type,rows"));
    assert_eq!(row("sessions,,(rows),"), "sessions,,(rows),61");
    assert_eq!(row("sessions,session_id,"), "sessions,session_id,Utf8,61");
    // A field a session may leave out: carried by some, at most all.
    let shells: u64 = row("sessions,attributes.shell,Utf8,")
        .rsplit(',')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!((1..=61).contains(&shells), "{shells}");
    assert_eq!(
        row("sessions,extra_attributes['brandNewFlag']"),
        "sessions,extra_attributes['brandNewFlag'],JSON text,1"
    );
    for table in ["events", "spans", "objects"] {
        assert!(
            csv.contains(&format!("\n{table},,(rows),")),
            "{table}: {csv}"
        );
    }

    // Ad-hoc SQL over a table and over a query of the project.
    let o = report(
        &[
            "query",
            "--sql",
            "SELECT count(*) AS n FROM sessions WHERE extra_attributes['brandNewFlag'] = 'true'",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "n\r\n1\r\n");
    std::fs::write(
        tmp.path().join("try.sql"),
        "SELECT sum(sessions) AS total FROM sessions_per_day",
    )
    .expect("write");
    let o = report(&["query", "try.sql", "--format", "table"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "total\n-----\n   61\n");
    // Errors name the SQL's origin; a name and --sql together are a usage error.
    let o = report(&["query", "--sql", "SELEC 1"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("--sql: the SQL does not plan"),
        "{}",
        text(&o)
    );
    let o = report(&["query", "x", "--sql", "SELECT 1"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Completions for every shell clap_complete knows name every subcommand; `report man`
/// writes a page for report and for each subcommand.
#[test]
fn completions_and_man_pages_cover_every_subcommand() {
    use clap::CommandFactory;
    let subcommands: Vec<String> = report::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(subcommands.len() >= 12, "{subcommands:?}");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = report(&["completions", shell], &repo());
        assert!(o.status.success(), "{shell}: {}", text(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        for sub in &subcommands {
            assert!(
                script.contains(sub.as_str()),
                "{shell} completion lacks {sub}"
            );
        }
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let o = report(&["man", "--out-dir", "pages"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let page = std::fs::read_to_string(tmp.path().join("pages/report.1")).expect("report.1");
    assert!(
        page.starts_with(".ie") || page.contains(".TH report 1"),
        "{page:.200}"
    );
    for sub in &subcommands {
        let sub_page = tmp.path().join(format!("pages/report-{sub}.1"));
        assert!(sub_page.is_file(), "no {}", sub_page.display());
        assert!(page.contains(sub.as_str()), "report.1 lacks {sub}");
    }
}

/// `report build --timings` names each stage with its time and the ten slowest queries, each
/// a query of the project; without it the build prints none of that. Both sites are the same.
#[test]
fn build_timings_name_the_stages_and_the_slowest_queries() {
    let tmp = tempfile::tempdir().expect("tmp");
    pulled_project(tmp.path(), "200");
    let o = report(&["build", "--no-pull", "--timings"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let stages = err
        .lines()
        .find(|l| l.starts_with("timings: open the warehouse"))
        .unwrap_or_else(|| panic!("no stage line:\n{err}"));
    for stage in [
        "queries and expectations",
        "privacy guard and pages",
        "write",
    ] {
        assert!(stages.contains(stage), "{stage} missing: {stages}");
    }
    assert!(
        !stages.contains("pull"),
        "--no-pull does not pull: {stages}"
    );
    let queries: Vec<String> = std::fs::read_dir(repo().join("queries"))
        .expect("queries")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension()? == "sql").then_some(stem)
        })
        .collect();
    let slowest: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.contains("slowest queries"))
        .skip(1)
        .filter_map(|l| l.strip_prefix("timings:"))
        .collect();
    assert_eq!(slowest.len(), 10, "{err}");
    let mut secs = Vec::new();
    for line in &slowest {
        let (time, name) = line.trim().split_once(" s  ").expect("time and name");
        assert!(
            queries.iter().any(|q| q == name.trim()),
            "{name} is no query"
        );
        secs.push(time.trim().parse::<f64>().expect("seconds"));
    }
    // Slowest first: the slowest query takes more than the 5 ms a time rounds to 0.00 s.
    assert!(
        secs[0] > 0.0 && secs.windows(2).all(|w| w[0] >= w[1]),
        "slowest first: {secs:?}"
    );
    let first = std::fs::read(tmp.path().join("site/index.html")).expect("site");
    let o = report(&["build", "--no-pull"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("timings:"));
    assert_eq!(
        std::fs::read(tmp.path().join("site/index.html")).expect("site"),
        first
    );
}
