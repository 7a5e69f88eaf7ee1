//! The real binary: help, errors and exit codes.

use std::process::{Command, Output};

use crate::common::{fixtures, invalid_fixtures, repo, text};

fn report(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_report"))
        .args(args)
        .current_dir(dir)
        .env_remove("REPORT_CONFIG")
        .env_remove("REPORT_WAREHOUSE")
        .env_remove("REPORT_OUTPUT")
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
        "[[source]]\nname = \"bad\"\nformat = \"abacus\"\nurl = {:?}\n",
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
