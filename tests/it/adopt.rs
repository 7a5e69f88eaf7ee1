//! A maintainer of another tool adopting `report`: `report init` for every format, the
//! workflows' `run:` steps in this repository and in an init-made one (the install step replaced
//! by the binary just built), and the release's packaging and installer, offline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::report;
use crate::common::text;
use crate::common::{files, repo};

/// `report init` then `report generate` shaped like it, in `dir`: a project with made-up data.
fn init_with_data(dir: &Path, format: &str, sessions: &str) {
    let mut args = vec!["init", "--format", format, "--source", "fixtures/data"];
    let mut generate = vec!["generate", "--sessions", sessions, "--out", "fixtures/data"];
    if format == "abacus" {
        args.extend(["--application-id", "acme-cli"]);
        generate.extend(["--application-id", "acme-cli"]);
    } else {
        generate.extend(["--format", format, "--days", "40"]);
    }
    let o = report(&args, dir);
    assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
    assert!(text(&o).contains("next: `report generate"), "{}", text(&o));
    let o = report(&generate, dir);
    assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
}

#[test]
fn init_makes_a_project_that_checks_and_builds_for_every_format() {
    for format in report::formats::names() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        init_with_data(dir, format, if format == "abacus" { "300" } else { "60" });
        let made = files(dir);
        for f in [
            "report.toml",
            ".gitignore",
            ".github/workflows/nightly.yml",
            ".github/workflows/pr.yml",
        ] {
            assert!(made.contains(&PathBuf::from(f)), "{format}: no {f}");
        }
        for (f, text) in report::init::WORKFLOWS {
            assert_eq!(std::fs::read_to_string(dir.join(f)).expect("read"), text);
        }
        let o = report(&["check"], dir);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        let o = report(&["build"], dir);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        let t = text(&o);
        let last = t.lines().last().unwrap_or_default();
        assert!(last.ends_with("open ./site/index.html"), "{format}: {last}");
        assert!(dir.join("site/index.html").is_file());
        if format == "abacus" {
            assert!(t.contains("300 new records"), "{t}");
            for page in ["overview", "adoption", "reliability", "health"] {
                assert!(dir.join(format!("site/{page}.html")).is_file(), "no {page}");
            }
            let o = report(&["query", "sessions_last_7_days"], dir);
            assert!(o.status.success(), "{}", text(&o));
        }
        // A second init in the same folder writes nothing over the first.
        let o = report(&["init", "--format", format], dir);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("exists"), "{}", text(&o));
    }
}

#[test]
fn init_without_its_flags_and_no_terminal_names_the_flag() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = report(&["init"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--format is required"), "{}", text(&o));
    let o = report(&["init", "--format", "abacus"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--application-id"), "{}", text(&o));
    assert!(files(tmp.path()).is_empty(), "a failed init wrote files");
}

#[test]
fn a_first_pull_with_the_wrong_application_ids_names_the_rule_and_the_setting() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    init_with_data(dir, "abacus", "40");
    let config = std::fs::read_to_string(dir.join("report.toml")).expect("read");
    let wrong = config.replace("[\"acme-cli\"]", "[\"batect\"]");
    assert_ne!(config, wrong);
    std::fs::write(dir.join("report.toml"), wrong).expect("write");
    let o = report(&["pull"], dir);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = text(&o);
    let hint = t
        .lines()
        .find(|l| l.contains("quarantined by rule"))
        .unwrap_or_else(|| panic!("no hint: {t}"));
    assert!(
        hint.contains("40 of the 40") && hint.contains("applicationId.oneof"),
        "{hint}"
    );
    assert!(
        hint.contains("`application_ids` of source \"acme-cli\""),
        "{hint}"
    );
    // A source that lists nothing says which settings to check, and the exit code says so.
    std::fs::create_dir_all(dir.join("empty")).expect("mkdir");
    let o = report(&["pull", "--source", "empty"], dir);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("listed no object under empty: check its url and prefix"),
        "{}",
        text(&o)
    );
}

/// One workflow file's jobs, as `(job, env, steps)`; a step is `(name, run)`, with `uses:`
/// steps left out but for their name.
type Job = (
    String,
    BTreeMap<String, String>,
    Vec<(String, Option<String>)>,
);

fn jobs(workflow: &str) -> Vec<Job> {
    let yaml: serde_norway::Value = serde_norway::from_str(workflow).expect("the workflow is YAML");
    let string_map = |v: &serde_norway::Value| -> BTreeMap<String, String> {
        v.as_mapping()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let value = match v {
                            serde_norway::Value::String(s) => s.clone(),
                            other => serde_norway::to_string(other).expect("yaml").trim().into(),
                        };
                        (k.as_str().expect("key").to_string(), value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (name, job) in yaml["jobs"].as_mapping().expect("jobs") {
        let mut env = string_map(&yaml["env"]);
        env.extend(string_map(&job["env"]));
        let steps = job["steps"]
            .as_sequence()
            .expect("steps")
            .iter()
            .map(|s| {
                let name = s["name"]
                    .as_str()
                    .or(s["uses"].as_str())
                    .unwrap_or("")
                    .to_string();
                (name, s["run"].as_str().map(String::from))
            })
            .collect();
        out.push((name.as_str().expect("job name").to_string(), env, steps));
    }
    out
}

/// `${{ vars.X }}`, `${{ secrets.X }}` and `${{ github.base_ref }}` (and the run page's
/// `server_url`, `repository`, `run_id`) as the runner would put them: `vars` from `vars` (an undefined one is empty, as on GitHub), secrets empty. Any other
/// expression fails the test: the workflows keep expressions out of scripts.
fn expand(value: &str, vars: &BTreeMap<&str, String>) -> String {
    let expr = regex::Regex::new(r"\$\{\{\s*([a-z_]+)\.([A-Za-z_]+)\s*\}\}").expect("regex");
    let out = expr.replace_all(value, |c: &regex::Captures| match (&c[1], &c[2]) {
        ("vars", name) => vars.get(name).cloned().unwrap_or_default(),
        ("secrets", _) => String::new(),
        ("github", "base_ref") => "main".to_string(),
        ("github", "server_url") => "https://github.example".to_string(),
        ("github", "repository") => "acme/acme-cli".to_string(),
        ("github", "run_id") => "42".to_string(),
        (ctx, name) => panic!("unexpected expression {ctx}.{name} in {value:?}"),
    });
    assert!(!out.contains("${{"), "an expression left in {value:?}");
    out.into_owned()
}

/// Runs every `run:` step of `workflow`'s jobs in `dir` as the runner would (bash with `-e` and
/// `pipefail`, `$GITHUB_ENV` and `$GITHUB_PATH` honoured), with the step named "Install report"
/// replaced by the binary under test. Returns the combined output.
fn run_workflow(workflow: &str, dir: &Path, vars: &BTreeMap<&str, String>) -> String {
    let runner = tempfile::tempdir().expect("runner temp");
    let bin = Path::new(env!("CARGO_BIN_EXE_report"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let mut log = String::new();
    for (job, env, steps) in jobs(workflow) {
        let mut env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.clone(), expand(v, vars)))
            .collect();
        let github_env = runner.path().join(format!("{job}.env"));
        let github_path = runner.path().join(format!("{job}.path"));
        let mut path = vec![bin.clone()];
        for (name, run) in steps {
            if name == "Install report" {
                assert!(
                    run.as_deref()
                        .is_some_and(|r| r.contains("report-installer.sh"))
                );
                continue;
            }
            let Some(script) = run else { continue };
            let script = expand(&script, vars);
            let path_var = std::env::join_paths(path.iter().cloned().chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )))
            .expect("PATH");
            let o = Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
                .current_dir(dir)
                .env_clear()
                .env("PATH", path_var)
                .env("HOME", std::env::var_os("HOME").unwrap_or_default())
                .env("RUNNER_TEMP", runner.path())
                .env("GITHUB_ENV", &github_env)
                .env("GITHUB_PATH", &github_path)
                .envs(&env)
                .output()
                .expect("bash runs");
            let t = text(&o);
            log.push_str(&format!("== {job}: {name}\n{t}"));
            assert!(
                o.status.success(),
                "step {name:?} of job {job} failed in {}:\n{log}",
                dir.display()
            );
            for line in std::fs::read_to_string(&github_env)
                .unwrap_or_default()
                .lines()
            {
                if let Some((k, v)) = line.split_once('=') {
                    env.insert(k.to_string(), v.to_string());
                }
            }
            path.extend(
                std::fs::read_to_string(&github_path)
                    .unwrap_or_default()
                    .lines()
                    .map(PathBuf::from),
            );
        }
    }
    log
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
}

/// A git repository of `dir` whose `origin/main` is its first commit, and a branch that adds
/// the query `query` (the pull request).
fn as_pull_request(dir: &Path, query: &str) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    git(dir, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    git(dir, &["checkout", "-q", "-b", "change"]);
    let path = dir.join("queries").join(format!("{query}.sql"));
    std::fs::write(&path, "SELECT count(*) AS sessions FROM sessions\n").expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "change"]);
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files(from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(&f), target).expect("copy");
    }
}

fn workflow(name: &str) -> String {
    std::fs::read_to_string(repo().join(".github/workflows").join(name)).expect("workflow")
}

#[test]
fn the_workflows_run_unchanged_here_and_in_an_init_made_project() {
    let no_vars = BTreeMap::new();
    // This repository: four sources, no REPORT_SOURCE_URL (it arrives empty).
    let here = tempfile::tempdir().expect("tmp");
    for part in ["report.toml", "queries", "reports", "fixtures", ".github"] {
        let from = repo().join(part);
        if from.is_dir() {
            copy_dir(&from, &here.path().join(part));
        } else {
            std::fs::copy(&from, here.path().join(part)).expect("copy");
        }
    }
    as_pull_request(here.path(), "pr_sessions");
    let log = run_workflow(&workflow("pr.yml"), here.path(), &no_vars);
    assert!(log.contains("| pr\\_sessions | added |"), "{log}");
    assert!(here.path().join("diff/summary.md").is_file(), "{log}");
    let log = run_workflow(&workflow("nightly.yml"), here.path(), &no_vars);
    assert!(here.path().join("site/index.html").is_file(), "{log}");
    assert!(here.path().join("site/go.html").is_file(), "{log}");

    // A project made by `report init`, its source a folder of generated sessions.
    let made = tempfile::tempdir().expect("tmp");
    init_with_data(made.path(), "abacus", "200");
    as_pull_request(made.path(), "pr_sessions");
    let log = run_workflow(&workflow("pr.yml"), made.path(), &no_vars);
    assert!(log.contains("| pr\\_sessions | added |"), "{log}");
    assert!(made.path().join("diff/summary.md").is_file(), "{log}");
    // Nightly with its variables set: REPORT_SOURCE_URL replaces the only source's url and
    // the warehouse lives elsewhere.
    let elsewhere = tempfile::tempdir().expect("tmp");
    let vars = BTreeMap::from([
        (
            "REPORT_SOURCE_URL",
            made.path().join("fixtures/data").display().to_string(),
        ),
        (
            "REPORT_WAREHOUSE",
            elsewhere.path().join("wh").display().to_string(),
        ),
    ]);
    let log = run_workflow(&workflow("nightly.yml"), made.path(), &vars);
    assert!(log.contains("200 new records"), "{log}");
    assert!(made.path().join("site/overview.html").is_file(), "{log}");
    assert!(elsewhere.path().join("wh/_commits").is_dir(), "{log}");
}

#[test]
fn the_pr_workflow_triggers_on_every_file_report_toml_refers_to() {
    let yaml: serde_norway::Value = serde_norway::from_str(&workflow("pr.yml")).expect("yaml");
    let paths: Vec<String> = yaml["on"]["pull_request"]["paths"]
        .as_sequence()
        .expect("paths")
        .iter()
        .map(|p| p.as_str().expect("a path").to_string())
        .collect();
    let watched = |file: &str| {
        paths.iter().any(|p| match p.strip_suffix("/**") {
            Some(folder) => file.starts_with(&format!("{folder}/")),
            None => p == file,
        })
    };
    let config: toml::Table = std::fs::read_to_string(repo().join("report.toml"))
        .expect("read")
        .parse()
        .expect("toml");
    let mut referred = vec![
        "report.toml".to_string(),
        "queries/x.sql".into(),
        "reports/x.toml".into(),
    ];
    for source in config["source"].as_array().expect("sources") {
        for key in [
            "session_attributes",
            "event_attributes",
            "span_attributes",
            "upload_config",
        ] {
            if let Some(file) = source.get(key).and_then(|v| v.as_str()) {
                referred.push(file.to_string());
            }
        }
    }
    // Where `report init`'s report.toml and the README keep one's own schemas.
    referred.push("schemas/session_attributes.json".into());
    for file in &referred {
        assert!(
            watched(file),
            "pr.yml does not trigger on {file}: {paths:?}"
        );
    }
}

/// The release workflow's targets, in the order of its matrix.
fn release_targets() -> Vec<String> {
    let yaml: serde_norway::Value = serde_norway::from_str(&workflow("release.yml")).expect("yaml");
    yaml["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("matrix")
        .iter()
        .map(|m| m["target"].as_str().expect("target").to_string())
        .collect()
}

fn host_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-gnu",
        ("linux", "aarch64") => "aarch64-unknown-linux-gnu",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

#[test]
fn the_release_packages_every_target_and_its_installer_installs_offline() {
    let targets = release_targets();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "aarch64-apple-darwin",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );
    let installer =
        std::fs::read_to_string(repo().join(".github/release/install.sh")).expect("installer");
    for t in &targets {
        assert!(
            installer.contains(t.as_str()),
            "the installer does not know {t}"
        );
    }
    // The dry run: package the binary just built as the release job does, then install it from
    // the folder as the workflows do from the release.
    let tmp = tempfile::tempdir().expect("tmp");
    let bin = Path::new(env!("CARGO_BIN_EXE_report"))
        .parent()
        .expect("bin dir");
    let dist = tmp.path().join("dist");
    let o = Command::new(repo().join(".github/release/package.sh"))
        .args([
            host_target(),
            bin.to_str().expect("utf-8"),
            dist.to_str().expect("utf-8"),
        ])
        .output()
        .expect("package.sh runs");
    assert!(o.status.success(), "{}", text(&o));
    let archive = format!("report-{}.tar.gz", host_target());
    assert!(dist.join(&archive).is_file() && dist.join(format!("{archive}.sha256")).is_file());
    let install = |into: &Path| {
        Command::new("sh")
            .arg(repo().join(".github/release/install.sh"))
            .env("REPORT_DOWNLOAD_URL", format!("file://{}", dist.display()))
            .env("REPORT_INSTALL_DIR", into)
            .env("GITHUB_PATH", tmp.path().join("github_path"))
            .output()
            .expect("install.sh runs")
    };
    let into = tmp.path().join("bin");
    let o = install(&into);
    assert!(o.status.success(), "{}", text(&o));
    let version = Command::new(into.join("report"))
        .arg("--version")
        .output()
        .expect("the installed binary runs");
    let shown = String::from_utf8_lossy(&version.stdout).to_string();
    assert!(
        shown.starts_with(&format!("report {} (", env!("CARGO_PKG_VERSION"))),
        "{shown}"
    );
    assert!(!shown.contains("unknown commit"), "{shown}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("github_path")).expect("GITHUB_PATH"),
        format!("{}\n", into.display())
    );
    // A damaged archive is not installed.
    let sums = dist.join(format!("{archive}.sha256"));
    let sum = std::fs::read_to_string(&sums).expect("sum");
    std::fs::write(&sums, format!("{}{}", "0".repeat(64), &sum[64..])).expect("write");
    let o = install(&tmp.path().join("bin2"));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("not installed"), "{}", text(&o));
    assert!(!tmp.path().join("bin2/report").exists());
}

#[test]
fn the_workflows_and_the_installer_name_cargos_repository() {
    let repository = env!("CARGO_PKG_REPOSITORY");
    assert!(
        repository.starts_with("https://github.com/"),
        "{repository}"
    );
    for file in [
        ".github/workflows/nightly.yml",
        ".github/workflows/pr.yml",
        ".github/release/install.sh",
    ] {
        let text = std::fs::read_to_string(repo().join(file)).expect("read");
        assert!(
            text.contains(&format!("{repository}/releases")),
            "{file} does not install from {repository}"
        );
    }
}
