//! `report serve` on the real binary, watched in headless Chromium: an edited query's new
//! number reaches the open page by itself, a broken query's problem shows in it (as `report
//! check` lists it) over the last good page, the fix reloads it, and the page says when the
//! server has gone away. And the rebuild after an edit runs the queries downstream of it only.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use report::config::Overrides;
use report::serve::build::Built;

use crate::common::{self, files, repo};

/// The fixture project copied into `dir`: report.toml, queries, reports and fixtures.
fn copy_project(dir: &Path) {
    std::fs::copy(repo().join("report.toml"), dir.join("report.toml")).expect("copy report.toml");
    for folder in ["queries", "reports", "fixtures"] {
        let from = repo().join(folder);
        for f in files(&from) {
            let to = dir.join(folder).join(&f);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(from.join(&f), &to).expect("copy");
        }
    }
}

/// A running `report serve` and the lines of its log, as they come.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_report"))
            .arg("serve")
            .args(args)
            .current_dir(dir)
            .env_remove("REPORT_CONFIG")
            .env_remove("REPORT_WAREHOUSE")
            .env_remove("REPORT_OUTPUT")
            .env_remove("REPORT_SOURCE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("report serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The first log line from now on that contains `part`.
    fn wait_for(&mut self, part: &str, within: Duration) -> String {
        let until = Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(part) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "report serve did not log {part:?} within {within:?}; its log:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    /// The URL it serves, from its log, once the first build is done.
    fn url(&mut self) -> String {
        let line = self.wait_for("serve: http://", Duration::from_secs(30));
        let start = line.find("http://").expect("a URL");
        let rest = &line[start..];
        let url = rest[..rest.find(' ').unwrap_or(rest.len())].to_string();
        self.wait_for("serve: built", Duration::from_secs(180));
        url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One page in headless Chromium, driven by tests/pages/live_page.py.
struct Page {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Page {
    fn open(url: &str) -> Page {
        let found = ["chromium", "chromium-browser"].iter().any(|b| {
            Command::new("sh")
                .args(["-c", &format!("command -v {b}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        assert!(
            found,
            "chromium is not installed: this test loads the served page in headless Chromium (apt-get install chromium; CI installs it)"
        );
        let mut child = Command::new("python3")
            .arg(repo().join("tests/pages/live_page.py"))
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs tests/pages/live_page.py");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut ready = String::new();
        stdout.read_line(&mut ready).expect("live_page.py answers");
        assert!(
            ready.contains("\"ready\""),
            "live_page.py did not start: {ready:?}"
        );
        Page {
            child,
            stdin,
            stdout,
        }
    }

    /// The value of a JavaScript expression in the page (`None` while it has no context).
    fn eval(&mut self, expression: &str) -> Option<serde_json::Value> {
        writeln!(self.stdin, "{}", expression.replace('\n', " ")).expect("write to live_page.py");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("live_page.py answers");
        let answer: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        answer.get("value").cloned()
    }

    /// Waits until `expression` is a string containing `part`, giving how long it took.
    fn wait_for(&mut self, expression: &str, part: &str, within: Duration) -> Duration {
        let start = Instant::now();
        let mut last = None;
        while start.elapsed() < within {
            last = self.eval(expression);
            if last
                .as_ref()
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.contains(part))
            {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the page did not show {part:?} within {within:?}; {expression} is {last:?}");
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const QUERY: &str = "queries/sessions_last_7_days.sql";
/// The first cell of the panel showing it, in brackets, and the banner `report serve` adds.
const CELL: &str = "'[' + ((document.querySelector('#p1 td.num') || {}).textContent || '') + ']'";
const LOADED: &str =
    "document.readyState === 'complete' && document.querySelector('#p1 td.num') ? 'loaded' : ''";
const BANNER: &str = "(document.getElementById('report-serve') || {}).textContent || ''";
const BANNER_SHOWN: &str = "(() => { const b = document.getElementById('report-serve'); return b && b.style.display !== 'none' ? b.textContent : ''; })()";

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join(QUERY);
    let sql = std::fs::read_to_string(&path).expect("read the query");
    assert!(sql.contains(from), "{from:?} not in {sql}");
    std::fs::write(&path, sql.replace(from, to)).expect("save the query");
}

/// Saves by rename, as vi and emacs do: a new file moved over the old one.
fn edit_by_rename(dir: &Path, from: &str, to: &str) {
    let path = dir.join(QUERY);
    let sql = std::fs::read_to_string(&path).expect("read the query");
    assert!(sql.contains(from), "{from:?} not in {sql}");
    let new = dir.join("queries/.sessions_last_7_days.sql.swp");
    std::fs::write(&new, sql.replace(from, to)).expect("write the new file");
    std::fs::rename(&new, &path).expect("move it over the query");
}

#[test]
fn an_edited_query_reaches_the_open_page_and_a_broken_one_shows_its_problem() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    copy_project(dir);
    let mut server = Server::start(dir, &["--port", "0", "--pull"]);
    let url = server.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut page = Page::open(&format!("{url}adoption.html"));
    page.wait_for(LOADED, "loaded", Duration::from_secs(10));
    let before = page
        .eval(CELL)
        .and_then(|v| v.as_str().map(String::from))
        .expect("the panel's first cell");
    let n: i64 = before
        .trim_matches(['[', ']'])
        .parse()
        .expect("a number of sessions");
    assert!(n > 0, "{before}");

    // A change of the number: the open page shows it by itself.
    let saved = Instant::now();
    edit(
        dir,
        "THEN 1 ELSE 0 END) AS sessions",
        "THEN 1000 ELSE 0 END) AS sessions",
    );
    page.wait_for(CELL, &format!("[{}]", n * 1000), Duration::from_secs(10));
    let reached = saved.elapsed();
    let log = server.wait_for("changed: rebuilt", Duration::from_secs(5));
    eprintln!(
        "serve: from saving {QUERY} to the reloaded page: {:.2} s; {log}",
        reached.as_secs_f64()
    );
    let reloads = server.wait_for("open page", Duration::from_secs(5));
    assert!(
        reloads.contains("1 HTML page changed; reloading 1 of 1 open page (adoption.html)"),
        "the index has the same bytes, so only adoption.html changed: {reloads}"
    );
    let only_it = |log: &str| log.contains("rebuilt 1 of ") && log.contains(" queries and 2 of ");
    assert!(
        only_it(&log),
        "only the query and the pages showing it (its report and the index): {log}"
    );

    // A burst of saves: one rebuild.
    for i in 0..5 {
        edit(dir, "AS previous", &format!("AS previous -- {i}\n"));
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = server.wait_for("changed: rebuilt", Duration::from_secs(10));
    assert!(only_it(&log), "{log}");
    std::thread::sleep(Duration::from_millis(1000));
    while let Ok(line) = server.lines.try_recv() {
        assert!(!line.contains("changed:"), "a second rebuild: {line}");
        server.log.push(line);
    }
    page.wait_for(LOADED, "loaded", Duration::from_secs(10));

    // A broken query: its problem as `report check` says it, over the last good page.
    let sql = std::fs::read_to_string(dir.join(QUERY)).expect("read");
    let line = 1 + sql
        .lines()
        .position(|l| l.contains("CROSS JOIN last l"))
        .expect("the line to break");
    edit(
        dir,
        "CROSS JOIN last l",
        "CROSS JOIN last l WHERE s.nosuch = 1",
    );
    page.wait_for(BANNER_SHOWN, "does not build", Duration::from_secs(10));
    let banner = page.eval(BANNER).expect("a banner");
    let banner = banner.as_str().expect("text");
    assert!(
        banner.contains(&format!("{QUERY}:{line}: query does not plan"))
            && banner.contains("nosuch"),
        "{banner}"
    );
    assert_eq!(
        page.eval(CELL).and_then(|v| v.as_str().map(String::from)),
        Some(format!("[{}]", n * 1000)),
        "the last good page stays"
    );
    let check = crate::cli::report(&["check"], dir);
    let listed = String::from_utf8_lossy(&check.stdout);
    let first = banner.lines().nth(2).expect("a problem line");
    assert!(listed.contains(first), "{first:?} not in:\n{listed}");

    // The fix, saved by rename: the banner goes and the page has the fixed query's number.
    edit_by_rename(
        dir,
        "CROSS JOIN last l WHERE s.nosuch = 1",
        "CROSS JOIN last l",
    );
    edit_by_rename(dir, "THEN 1000 ELSE 0", "THEN 10 ELSE 0");
    page.wait_for(CELL, &format!("[{}]", n * 10), Duration::from_secs(10));
    assert_eq!(page.eval(BANNER_SHOWN), Some(serde_json::json!("")));

    // The server goes away: the page says so.
    drop(server);
    page.wait_for(BANNER_SHOWN, "has stopped", Duration::from_secs(10));
}

#[test]
fn polling_sees_a_change_where_watching_is_not_to_be_had() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    copy_project(dir);
    let mut server = Server::start(dir, &["--port", "0", "--pull", "--poll"]);
    server.url();
    let line = server.log.iter().find(|l| l.contains("serve: http://"));
    assert!(line.is_some_and(|l| l.contains("(polling ")), "{line:?}");
    edit_by_rename(dir, "AS previous", "AS previous -- edited");
    let log = server.wait_for("changed: rebuilt", Duration::from_secs(10));
    assert!(log.contains("rebuilt 1 of "), "{log}");
}

/// `report build` twice, with serve's code in the binary: the same bytes, and no script.
#[test]
fn report_build_twice_gives_the_same_site_without_a_script() {
    let tmp = tempfile::tempdir().expect("tmp");
    copy_project(tmp.path());
    let sites = ["site-a", "site-b"].map(|site| {
        let o = crate::cli::report(&["build", "--output", site], tmp.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        tmp.path().join(site)
    });
    let names = files(&sites[0]);
    assert_eq!(names, files(&sites[1]));
    for f in &names {
        let (a, b) = (
            std::fs::read(sites[0].join(f)).expect("a"),
            std::fs::read(sites[1].join(f)).expect("b"),
        );
        assert!(a == b, "{} differs", f.display());
        assert!(
            !String::from_utf8_lossy(&a).contains("<script"),
            "{}",
            f.display()
        );
    }
}

/// A project of two queries, one reading the other, and a third alone; a report of each.
fn chained_project(dir: &Path) -> PathBuf {
    let s = common::settings(dir, &[("batect", &common::fixtures())]);
    common::block_on(report::pipeline::pull_only(&s)).expect("pull");
    let queries = dir.join("queries");
    let reports = dir.join("reports");
    std::fs::create_dir_all(&queries).expect("mkdir");
    std::fs::create_dir_all(&reports).expect("mkdir");
    let write = |p: PathBuf, text: &str| std::fs::write(p, text).expect("write");
    write(
        queries.join("base.sql"),
        "SELECT count(*) AS n FROM sessions",
    );
    write(queries.join("twice.sql"), "SELECT n * 2 AS n FROM base");
    write(queries.join("alone.sql"), "SELECT 7 AS n");
    for (name, q) in [("a", "twice"), ("b", "alone")] {
        write(
            reports.join(format!("{name}.toml")),
            &format!(
                "title = '{name}'\n[[panel]]\ntitle = 'N'\nquery = '{q}'\nchart = 'table'\nprivacy = 'public: a test'\n"
            ),
        );
    }
    let config = dir.join("report.toml");
    write(
        config.clone(),
        &format!(
            "warehouse = {:?}\n[[source]]\nname = \"batect\"\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {:?}\n",
            dir.join("warehouse"),
            common::fixtures()
        ),
    );
    config
}

#[test]
fn an_edit_reruns_the_queries_downstream_of_it_and_renders_the_pages_showing_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = chained_project(tmp.path());
    let overrides = Overrides::default();
    common::block_on(async {
        let (mut built, counts) = Built::full(&config, &overrides, false)
            .await
            .expect("builds");
        assert_eq!((counts.queries, counts.pages), (3, 3));
        let cell = |built: &Built, page: &str| {
            let html = String::from_utf8_lossy(&built.pages[page]).to_string();
            let at = html.find("<td class=\"num\">").expect("a cell") + 16;
            html[at..at + html[at..].find('<').expect("end")].to_string()
        };
        let n: i64 = cell(&built, "a.html").parse().expect("a number");
        let b_before = built.pages["b.html"].clone();

        let base = tmp.path().join("queries/base.sql");
        std::fs::write(&base, "SELECT count(*) + 1 AS n FROM sessions").expect("edit");
        let counts = built.update().await.expect("rebuilds").expect("a change");
        assert_eq!(
            (counts.queries, counts.pages),
            (2, 2),
            "base and twice, which reads it; a.html and the index"
        );
        assert_eq!(cell(&built, "a.html"), format!("{}", n + 2));
        assert_eq!(built.pages["b.html"], b_before);

        // A broken edit changes nothing of the last good build; its fix rebuilds.
        std::fs::write(&base, "SELECT nosuch AS n FROM sessions").expect("edit");
        let err = built.update().await.expect_err("does not plan");
        assert!(format!("{err:#}").contains("base.sql"), "{err:#}");
        assert_eq!(cell(&built, "a.html"), format!("{}", n + 2));
        std::fs::write(&base, "SELECT count(*) AS n FROM sessions").expect("edit");
        let counts = built.update().await.expect("rebuilds").expect("a change");
        assert_eq!(counts.queries, 2);
        assert_eq!(cell(&built, "a.html"), format!("{n}"));

        // A broken report: its file and line, and the last good pages stay.
        let b = tmp.path().join("reports/b.toml");
        let good = std::fs::read_to_string(&b).expect("read");
        std::fs::write(&b, format!("{good}colour = 'red'\n")).expect("edit");
        let err = format!("{:#}", built.update().await.expect_err("an unknown key"));
        assert!(err.contains("b.toml:7:") && err.contains("colour"), "{err}");
        assert_eq!(built.pages["b.html"], b_before);
        std::fs::write(&b, good.replace("title = 'N'", "title = 'Seven'")).expect("edit");
        let counts = built.update().await.expect("rebuilds").expect("a change");
        assert_eq!(
            (counts.queries, counts.pages),
            (0, 2),
            "b.html and the index"
        );
        assert!(String::from_utf8_lossy(&built.pages["b.html"]).contains("Seven"));

        // Saved as it was: nothing to do.
        std::fs::write(&base, "SELECT count(*) AS n FROM sessions").expect("edit");
        assert!(built.update().await.expect("loads").is_none());
    });
}
