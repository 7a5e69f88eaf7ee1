//! The Go telemetry, PACE and devstack formats end to end: the reference objects decode to the
//! expected rows, every validation rule quarantines, re-uploads and repeated snapshots count
//! once, and the repository's report.toml builds a site of all four systems.

use std::collections::BTreeMap;
use std::path::Path;

use report::config::{Overrides, Settings};
use report::pipeline;
use report::query::{self, Table};
use serde_json::json;

use crate::common::{files, golden, repo};

/// The formats' rule tables, written once for the library's unit tests (which alone compile
/// them) and included here by path. Abacus's table and `Table::check` serve the unit tests only.
#[allow(dead_code)]
#[path = "../../src/formats/rules/mod.rs"]
mod rules;

/// Settings with the warehouse and site in `tmp`, the repo's queries and reports, and `sources`
/// given as TOML `[[source]]` tables.
fn settings(tmp: &Path, sources: &str) -> Settings {
    let text = format!(
        "warehouse = {:?}\noutput = {:?}\nqueries = {:?}\nreports = {:?}\n[pull]\nbatch_size = 50\n{sources}",
        tmp.join("warehouse"),
        tmp.join("site"),
        repo().join("queries"),
        repo().join("reports"),
    );
    Settings::parse(
        &text,
        &tmp.join("report.toml"),
        &BTreeMap::new(),
        &Overrides::default(),
    )
    .expect("test config parses")
}

fn source(name: &str, format: &str, dir: &Path, extra: &str) -> String {
    format!("[[source]]\nname = {name:?}\nformat = {format:?}\nurl = {dir:?}\n{extra}\n")
}

/// Runs `sql` over the warehouse with every repo query registered as a view.
async fn run(s: &Settings, sql: &str) -> Table {
    let wh = crate::common::open(s).await;
    let ctx = query::new_context();
    query::register_warehouse(&ctx, &wh, &s.catalog).expect("register");
    let queries = crate::common::defs(s).queries;
    query::register_views(&ctx, &queries)
        .await
        .expect("views plan");
    let q = query::Query {
        name: "under_test".into(),
        path: "under_test.sql".into(),
        sql: sql.into(),
    };
    query::register_views(&ctx, std::slice::from_ref(&q))
        .await
        .expect("plans");
    query::run_all(&ctx, &[q])
        .await
        .expect("runs")
        .remove("under_test")
        .expect("result")
}

fn csv(t: &Table) -> String {
    let mut out = t
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in &t.rows {
        let cells: Vec<String> = r.iter().map(|v| format!("{:?}", v.to_string())).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn int(t: &Table) -> i64 {
    match t.rows.first().and_then(|r| r.first()) {
        Some(query::Value::Int(n)) => *n,
        other => panic!("expected one integer, got {other:?}"),
    }
}

fn write(dir: &Path, key: &str, bytes: &[u8]) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write");
}

/// Copies a reference folder, giving each file a fixed modification time (a checkout's are not)
/// after the times its records hold, as a store's is (a client uploads a Go report on its
/// `Week` or later: 2024-09-26 for the reference, stored here on 2024-09-27). A PACE
/// snapshot's `written_at` is this time.
fn reference_copy(format: &str, to: &Path) {
    let from = repo().join("fixtures/reference").join(format);
    let seconds = match format {
        "go-telemetry" => 1_727_395_200,
        _ => 1_727_000_000,
    };
    for f in files(&from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(&f), &target).expect("copy");
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        std::fs::File::options()
            .write(true)
            .open(&target)
            .and_then(|file| file.set_modified(when))
            .expect("set time");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_objects_decode_to_the_expected_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut sources = String::new();
    for (name, format) in [
        ("go", "go-telemetry"),
        ("pace", "pace"),
        ("devstack", "devstack"),
    ] {
        let dir = tmp.path().join("in").join(name);
        reference_copy(format, &dir);
        sources.push_str(&source(name, format, &dir, ""));
    }
    let s = settings(tmp.path(), &sources);
    let summary = pipeline::pull_only(&s).await.expect("pull");
    // Not reports or events: the chart file and the consent file.
    let rules: Vec<(&str, &str)> = summary
        .quarantined
        .iter()
        .map(|q| (q.key.as_str(), q.rule.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("2024-09-20_2024-09-26.chart.json", "Week.required"),
            ("metrics.json", "event.required"),
        ]
    );
    // The merged day repeats the upload report (same X); the YAML file and its upload are one
    // snapshot.
    assert_eq!(summary.duplicates, 2, "{summary}");
    for (table, order) in [
        ("reports", "x, program"),
        ("counters", "x, program, counter"),
        ("stacks", "x, program, stack"),
        ("pace_snapshots", "id, command, exit_code"),
        ("devstack_runs", "start_time"),
        ("objects", "source, key"),
    ] {
        let t = run(&s, &format!("SELECT * FROM {table} ORDER BY {order}")).await;
        let text = csv(&t).replace(&tmp.path().display().to_string(), "TMP");
        golden(&format!("formats/reference_{table}.csv"), text.as_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_validation_rule_quarantines_and_good_objects_are_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut sources = String::new();
    // One object per case of the formats' rule tables, the ones their unit tests decode.
    let mut cases = Vec::new();
    for (name, table, extra) in [
        ("go", rules::go_telemetry::table(), ""),
        ("pace", rules::pace::table(), "written_at = \"key\""),
        ("devstack", rules::devstack::table(), ""),
    ] {
        let dir = tmp.path().join("in").join(name);
        let objects = table.objects();
        for o in &objects {
            write(&dir, &o.key, &o.bytes);
        }
        sources.push_str(&source(name, table.format, &dir, extra));
        cases.push((name, table.format, objects));
    }
    // One good object each, kept beside the bad ones.
    for (name, key, reference) in [
        (
            "go",
            "2024-09-26/0.8839212453520185.json",
            "go-telemetry/2024-09-26.upload-report.json",
        ),
        (
            "pace",
            "20240902T080000Z-local.yaml",
            "pace/telemetry.example.yaml",
        ),
        (
            "devstack",
            "segment/2021-06-22.ndjson",
            "devstack/segment_track_events.ndjson",
        ),
    ] {
        let bytes = std::fs::read(repo().join("fixtures/reference").join(reference)).expect("read");
        write(&tmp.path().join("in").join(name), key, &bytes);
    }

    let s = settings(tmp.path(), &sources);
    let summary = pipeline::pull_only(&s).await.expect("pull");
    let mut quarantined: BTreeMap<(String, String), (String, String)> = summary
        .quarantined
        .iter()
        .map(|q| {
            let why = (q.rule.clone(), q.message.clone());
            ((q.source.clone(), q.key.clone()), why)
        })
        .collect();
    let mut problems = Vec::new();
    for (name, format, objects) in &cases {
        problems.extend(rules::mismatches(format, objects, |o| {
            match quarantined.remove(&(name.to_string(), o.key.clone())) {
                Some(why) => Err(why),
                None => Ok(()),
            }
        }));
    }
    problems.extend(quarantined.iter().map(|((source, key), (rule, _))| {
        format!("{source} {key}: quarantined ({rule}), not a case")
    }));
    rules::assert_none(&problems);
    assert_eq!(summary.sessions, 1 + 1 + 4, "{summary}");
    // The quarantine keeps the raw bytes, and the objects table says why.
    let raw = crate::common::warehouse_dir(&s).join("quarantine/pace/no-stamp.json");
    assert!(raw.exists());
    let t = run(
        &s,
        "SELECT count(*) FROM objects WHERE status = 'quarantined' AND rule IS NOT NULL AND reason IS NOT NULL",
    )
    .await;
    let objects: usize = cases.iter().map(|(_, _, objects)| objects.len()).sum();
    assert_eq!(int(&t) as usize, objects);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_uploaded_go_report_and_five_pace_snapshots_count_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let go = tmp.path().join("go");
    let report =
        std::fs::read(repo().join("fixtures/reference/go-telemetry/2024-09-26.upload-report.json"))
            .expect("reference");
    let merged =
        std::fs::read(repo().join("fixtures/reference/go-telemetry/2024-09-26.merged.ndjson"))
            .expect("reference");
    // The same report under its upload key, again a day later, and in the merged day.
    write(&go, "uploaded/2024-09-26/0.8839212453520185.json", &report);
    write(&go, "uploaded/2024-09-27/0.8839212453520185.json", &report);
    write(&go, "merged/2024-09-26.json", &merged);

    // One install, five uploads, each holding all the counts before it.
    let pace = tmp.path().join("pace");
    for (i, n) in [1u32, 3, 6, 10, 15].into_iter().enumerate() {
        let snapshot = json!({
            "metric_points": {"pace version": {"0": {"cumulative_count": n}},
                              "pace apply data-policy": {"0": {"cumulative_count": n}, "1": {"cumulative_count": 1}}},
            "cli_version": if i < 3 { "v1.15.0" } else { "v1.16.0" },
            "operating_system": "linux",
            "id": "36be4c46-4e1b-431d-b9db-1b315f537a85",
        });
        let key = format!("upload/2024090{}T120000Z.json", i + 1);
        write(&pace, &key, &serde_json::to_vec(&snapshot).expect("json"));
    }
    let sources = source("go", "go-telemetry", &go, "")
        + &source("pace", "pace", &pace, "written_at = \"key\"");
    let s = settings(tmp.path(), &sources);
    let summary = pipeline::pull_only(&s).await.expect("pull");
    assert!(summary.is_clean(), "{:?}", summary.quarantined);
    assert_eq!(
        (summary.sessions, summary.duplicates),
        (2 + 5, 2),
        "{summary}"
    );
    // A second pull finds nothing new.
    let again = pipeline::pull_only(&s).await.expect("pull again");
    assert_eq!((again.sessions, again.fetched), (0, 0));

    assert_eq!(
        int(&run(&s, "SELECT sum(reports) FROM go_reports_per_week").await),
        2
    );
    let vscode = run(
        &s,
        "SELECT reports FROM go_counter_gopls_client WHERE bucket = 'vscode'",
    )
    .await;
    assert_eq!(int(&vscode), 1);
    assert_eq!(
        int(&run(&s, "SELECT reports FROM go_counter_go_invocations").await),
        2
    );
    // PACE: one install; its commands are those of its latest snapshot, not a sum of uploads.
    assert_eq!(
        int(&run(&s, "SELECT sum(installs) FROM pace_installs_by_version").await),
        1
    );
    let v = run(&s, "SELECT cli_version FROM pace_installs_by_version").await;
    assert_eq!(v.rows, vec![vec![query::Value::Text("v1.16.0".into())]]);
    let runs = run(&s, "SELECT CAST(sum(runs) AS BIGINT) FROM pace_commands").await;
    assert_eq!(int(&runs), 15 + 15 + 1);
    let weekly = run(&s, "SELECT CAST(sum(commands) AS BIGINT) FROM pace_weekly").await;
    assert_eq!(
        int(&weekly),
        15 + 15 + 1,
        "deltas add up to the latest total"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_project_builds_a_site_of_all_four_systems_and_matches_its_goldens() {
    let config = repo().join("report.toml");
    let tmp = tempfile::tempdir().expect("tmp");
    let overrides = Overrides {
        warehouse: Some(tmp.path().join("warehouse").to_string_lossy().into_owned()),
        output: Some(tmp.path().join("site")),
        source: None,
    };
    let text = std::fs::read_to_string(&config).expect("report.toml");
    let s = Settings::parse(&text, &config, &BTreeMap::new(), &overrides).expect("parses");
    let formats: Vec<&str> = s.sources.iter().map(|s| s.format.name()).collect();
    assert_eq!(
        formats,
        report::formats::names(),
        "one source of each format"
    );
    let defs = crate::common::defs(&s);
    let built = pipeline::build(&s, &defs, true).await.expect("build");
    assert!(built.pull.is_clean(), "{:?}", built.pull.quarantined);

    // The whole site, every page and CSV, is its golden set.
    let site = tmp.path().join("site");
    crate::common::golden_site("site", &site);

    // Every chart panel has its SVG (and its narrow one for a phone), every panel its CSV.
    for report in &defs.reports {
        let page =
            std::fs::read_to_string(site.join(format!("{}.html", report.name))).expect("page");
        let charts: usize = report
            .panels
            .iter()
            .filter(|p| p.chart.kind() != "table")
            .map(|p| 1 + usize::from(p.chart.has_narrow_layout()))
            .sum();
        assert_eq!(page.matches("<svg ").count(), charts, "{}", report.name);
        // Each chart is legible where the page shows it, and each of its marks titled.
        for (i, svg) in page.split("<svg ").skip(1).enumerate() {
            let end = svg.find("</svg>").expect("a closed <svg>") + "</svg>".len();
            let svg = format!("<svg {}", &svg[..end]);
            crate::charts::check_legible_and_titled(&format!("{} chart {i}", report.name), &svg);
        }
        assert_eq!(
            page.matches("<title id=").count(),
            charts,
            "{}",
            report.name
        );
        for i in 1..=report.panels.len() {
            let csv = site.join(format!("data/{}/p{i}.csv", report.name));
            assert!(csv.exists(), "{}", csv.display());
        }
    }
    // Every Abacus fixture is one session.
    let sessions = run(&s, "SELECT count(*) FROM sessions").await;
    assert_eq!(
        int(&sessions) as usize,
        files(&repo().join("fixtures/abacus")).len()
    );

    // Every configured Go counter has its panel, and the config view lists its buckets.
    let go_config =
        std::fs::read_to_string(repo().join("fixtures/go-telemetry.upload_config.json"))
            .expect("config");
    let counters =
        report::formats::go_telemetry::configured_counters(&go_config).expect("counters");
    let go_report = std::fs::read_to_string(repo().join("reports/go.toml")).expect("go.toml");
    let listed = run(
        &s,
        "SELECT program, chart, bucket FROM go_counter_config ORDER BY program, chart, position",
    )
    .await;
    let mut expanded = 0;
    for (program, names) in &counters {
        for name in names {
            let full = report::formats::go_telemetry::expand(name);
            expanded += full.len();
            let chart = report::formats::go_telemetry::split_counter(&full[0]).0;
            assert!(
                go_report.contains(&format!("title = {chart:?}")),
                "no panel for {chart}"
            );
            for f in &full {
                let (c, b) = report::formats::go_telemetry::split_counter(f);
                let row = vec![
                    query::Value::Text(program.clone()),
                    query::Value::Text(c.to_string()),
                    query::Value::Text(b.unwrap_or(c).to_string()),
                ];
                assert!(
                    listed.rows.contains(&row),
                    "{f} of {program} missing in go_counter_config"
                );
            }
        }
    }
    assert_eq!(listed.rows.len(), expanded);

    for page in ["go.html", "pace.html", "devstack.html"] {
        let html = std::fs::read_to_string(tmp.path().join("site").join(page)).expect("page");
        assert!(
            !html.contains("no data for this period"),
            "an empty panel on {page}"
        );
    }

    // Each source's range is the first and last day of its format's id table, the commit the
    // warehouse's highest; a page names the sources its panels read, the health page all.
    let warehouse = pipeline::open_existing_warehouse(&s).await.expect("open");
    let provenance = pipeline::provenance(&s, &defs, &warehouse)
        .await
        .expect("provenance");
    assert_eq!(provenance.commit, warehouse.version());
    let index = std::fs::read_to_string(site.join("index.html")).expect("index");
    assert!(index.contains(&format!(
        "Built from warehouse commit {}.",
        warehouse.version()
    )));
    for (source, shown) in s.sources.iter().zip(&provenance.sources) {
        let dates: Vec<&str> = warehouse
            .files(source.format.id_column().0)
            .into_iter()
            .filter_map(|f| f.date())
            .collect();
        let (first, last) = (
            dates.iter().min().expect("data"),
            dates.iter().max().expect("data"),
        );
        assert_eq!(shown.name, source.name);
        assert_eq!(
            shown.range,
            Some((first.to_string(), last.to_string())),
            "{}",
            source.name
        );
        assert!(
            index.contains(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td><time datetime=\"{first}\">{first}</time></td><td><time datetime=\"{last}\">{last}</time></td></tr>",
                source.name,
                source.format.name()
            )),
            "{}: {index}",
            source.name
        );
    }
    let named = |page: &str| -> Vec<String> {
        let html = std::fs::read_to_string(site.join(page)).expect("page");
        s.sources
            .iter()
            .filter(|src| html.contains(&format!("of {} ({})", src.name, src.format.name())))
            .map(|src| src.name.clone())
            .collect()
    };
    assert_eq!(named("overview.html"), ["batect"]);
    assert_eq!(named("go.html"), ["go"]);
    assert_eq!(named("pace.html"), ["pace"]);
    assert_eq!(named("devstack.html"), ["devstack"]);
    assert_eq!(named("health.html"), ["batect", "go", "pace", "devstack"]);
}

#[test]
fn the_committed_fixtures_are_what_the_documented_commands_generate() {
    // The commands in the README's "Fixtures" section.
    for (format, dir, sessions, start, days) in [
        ("go-telemetry", "go-telemetry", 300, "2024-08-01", 56),
        ("pace", "pace", 60, "2024-03-01", 120),
        ("devstack", "devstack", 600, "2021-06-01", 90),
    ] {
        let start_day = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d")
            .expect("date")
            .signed_duration_since(chrono::NaiveDate::default())
            .num_days();
        let format = report::formats::by_name(format).expect("format");
        let objects = format.generate(&report::formats::generate::Options {
            sessions,
            seed: 1,
            start_day,
            days,
            plain_share: 0.1,
            ..Default::default()
        });
        let committed = repo().join("fixtures").join(dir);
        let keys: Vec<String> = objects.iter().map(|o| o.key.clone()).collect();
        let on_disk: Vec<String> = files(&committed)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(keys, on_disk, "fixtures/{dir}: keys differ");
        for o in &objects {
            let bytes = std::fs::read(committed.join(&o.key)).expect("read");
            assert!(bytes == o.bytes, "fixtures/{dir}/{} differs", o.key);
        }
    }
}
