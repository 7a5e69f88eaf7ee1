//! Go telemetry upload reports as the server stores them: `uploaded/<Week>/<X>.json` (compact,
//! trailing newline, `<`/`>`/`&` escaped as Go does) and merged days `merged/<date>.json`
//! (NDJSON). Some reports are in both places, as on the real server, and some are uploaded
//! twice with the same `X`: the pull keeps each `X` once.
//!
//! Programs, versions, counters and stacks come from the upload config the fixture source uses
//! (`fixtures/go-telemetry.upload_config.json`: the real config plus a gopls completion-latency
//! histogram counter). `--sessions` is the number of distinct reports.

use serde_json::{Map, Value, json};

use crate::formats::generate::{Object, Options, Rng, go_json};

/// The config the generated reports satisfy (kept beside the fixtures).
pub const UPLOAD_CONFIG: &str = include_str!("../../../fixtures/go-telemetry.upload_config.json");

/// Latency buckets of the histogram counter, upper bounds in ms.
const LATENCY: [(&str, f64); 8] = [
    ("<10ms", 10.0),
    ("<50ms", 50.0),
    ("<100ms", 100.0),
    ("<200ms", 200.0),
    ("<500ms", 500.0),
    ("<1s", 1000.0),
    ("<5s", 5000.0),
    ("<24h", f64::INFINITY),
];

/// Go toolchains by week index: newer ones take over.
const GO_VERSIONS: [(&str, i64); 5] = [
    ("go1.22.6", -40),
    ("go1.22.7", -5),
    ("go1.23.0", -20),
    ("go1.23.1", 10),
    ("go1.23.2", 45),
];
const GOPLS_VERSIONS: [(&str, i64); 5] = [
    ("v0.15.3", -90),
    ("v0.16.0", -40),
    ("v0.16.1", -10),
    ("v0.16.2", 20),
    ("v0.17.0", 60),
];
const PLATFORMS: [((&str, &str), f64); 5] = [
    (("linux", "amd64"), 0.45),
    (("darwin", "arm64"), 0.3),
    (("windows", "amd64"), 0.15),
    (("darwin", "amd64"), 0.08),
    (("linux", "arm64"), 0.02),
];

/// A version released `day` days after the start, adopted by a share growing over ~3 weeks.
fn pick_version(rng: &mut Rng, versions: &[(&'static str, i64)], day: i64) -> &'static str {
    let weights: Vec<(&str, f64)> = versions
        .iter()
        .filter(|(_, released)| *released <= day)
        .map(|(v, released)| (*v, (1.0 + (day - released) as f64 / 7.0).min(4.0)))
        .collect();
    // The newest gets the boost of being current; older ones fade.
    let n = weights.len();
    let weights: Vec<(&str, f64)> = weights
        .into_iter()
        .enumerate()
        .map(|(i, (v, w))| (v, w * 0.45f64.powi((n - 1 - i) as i32)))
        .collect();
    rng.pick(&weights)
}

/// Buckets of a configured counter expression.
fn buckets(expr: &str) -> (String, Vec<String>) {
    match expr.split_once('{') {
        Some((prefix, rest)) => (
            prefix.to_string(),
            rest.trim_end_matches('}')
                .split(',')
                .map(|b| b.trim().to_string())
                .collect(),
        ),
        None => (expr.to_string(), vec![]),
    }
}

fn counters_for(rng: &mut Rng, exprs: &[String], day: i64) -> Map<String, Value> {
    let mut out = Map::new();
    for expr in exprs {
        let (prefix, options) = buckets(expr);
        if options.is_empty() {
            if rng.chance(0.7) {
                out.insert(prefix, json!(rng.range(1, 400)));
            }
            continue;
        }
        if options.iter().any(|b| b.starts_with('<')) {
            // A histogram: completions with log-normal latency, faster in later weeks.
            if rng.chance(0.8) {
                let median = 45.0 * (1.0 - day as f64 / 300.0);
                for _ in 0..rng.range(5, 120) {
                    let ms = rng.lognormal(median, 1.1);
                    let b = LATENCY
                        .iter()
                        .find(|(_, hi)| ms < *hi)
                        .map(|(b, _)| *b)
                        .unwrap_or("<24h");
                    let key = format!("{prefix}{b}");
                    let n = out.get(&key).and_then(Value::as_i64).unwrap_or(0);
                    out.insert(key, json!(n + 1));
                }
            }
            continue;
        }
        if !rng.chance(0.55) {
            continue;
        }
        // Earlier buckets are more common (a skewed partition), one or two per report.
        let weights: Vec<(usize, f64)> = (0..options.len())
            .map(|i| (i, 1.0 / (1.0 + i as f64).powf(1.3)))
            .collect();
        for _ in 0..rng.range(1, 2) {
            let b = &options[rng.pick(&weights)];
            out.insert(format!("{prefix}{b}"), json!(rng.range(1, 60)));
        }
    }
    out
}

fn program_config(config: &Value, name: &str) -> (Vec<String>, Vec<String>) {
    let programs = config["Programs"].as_array().cloned().unwrap_or_default();
    let p = programs
        .iter()
        .find(|p| p["Name"] == name)
        .cloned()
        .unwrap_or(Value::Null);
    let names = |key: &str| -> Vec<String> {
        p[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["Name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    (names("Counters"), names("Stacks"))
}

fn stack(rng: &mut Rng, prefix: &str) -> String {
    let frames = [
        "golang.org/x/tools/gopls/internal/util/bug.report:+35,+0x1f4",
        "golang.org/x/tools/gopls/internal/cache.(*Snapshot).PackageDiagnostics:+22,+0x3d0",
        "golang.org/x/tools/gopls/internal/golang.Hover:+170,+0x9a4",
        "runtime.sigpanic:+19,+0x2c4",
        "github.com/go-delve/delve/pkg/proc.(*Target).Continue:+88,+0x61c",
    ];
    let mut s = prefix.to_string();
    for _ in 0..rng.range(2, 4) {
        s.push('\n');
        s.push_str(frames[rng.below(frames.len() as u64) as usize]);
    }
    s.push_str("\nruntime.goexit:+0,+0x4");
    s
}

fn report(rng: &mut Rng, config: &Value, week: &str, day: i64, last_week: &str) -> Value {
    let (goos, goarch) = rng.pick(&PLATFORMS);
    let go = pick_version(rng, &GO_VERSIONS, day);
    let mut programs = Vec::new();
    let mut add = |rng: &mut Rng, name: &str, version: &str| {
        let (counters, stacks) = program_config(config, name);
        let mut stack_map = Map::new();
        for s in &stacks {
            if rng.chance(0.04) {
                stack_map.insert(stack(rng, s), json!(1));
            }
        }
        programs.push(json!({
            "Program": name, "Version": version, "GoVersion": go, "GOOS": goos, "GOARCH": goarch,
            "Counters": counters_for(rng, &counters, day), "Stacks": stack_map,
        }));
    };
    if rng.chance(0.5) {
        let v = pick_version(rng, &GOPLS_VERSIONS, day);
        add(rng, "golang.org/x/tools/gopls", v);
    }
    // The config lists toolchain programs from go1.23rc1 on; the client leaves older out.
    let toolchain_listed = !go.starts_with("go1.22");
    if toolchain_listed && rng.chance(0.9) {
        add(rng, "cmd/go", go);
    }
    if toolchain_listed && rng.chance(0.6) {
        add(rng, "cmd/compile", go);
    }
    if rng.chance(0.15) {
        let v = ["v1.1.2", "v1.1.3"][rng.below(2) as usize];
        add(rng, "golang.org/x/vuln/cmd/govulncheck", v);
    }
    if rng.chance(0.2) {
        let v = ["v0.47.0", "v0.47.1"][rng.below(2) as usize];
        add(rng, "github.com/golang/vscode-go/vscgo", v);
    }
    if rng.chance(0.08) {
        add(rng, "github.com/go-delve/delve/cmd/dlv", "v1.24.2");
    }
    // X: 52 random bits in (0, 1), as the client draws it.
    let x = ((rng.next_u64() >> 12).max(1)) as f64 / (1u64 << 52) as f64;
    json!({"Week": week, "LastWeek": last_week, "X": x, "Programs": programs, "Config": "v0.31.0"})
}

fn date(day: i64) -> String {
    (chrono::NaiveDate::default() + chrono::Duration::days(day))
        .format("%Y-%m-%d")
        .to_string()
}

pub fn generate(opts: &Options) -> Vec<Object> {
    let config: Value = serde_json::from_str(UPLOAD_CONFIG).unwrap_or(Value::Null);
    let mut rng = Rng::new(opts.seed);
    let weeks = (opts.days / 7).max(1);
    let mut uploaded = Vec::new();
    let mut merged: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for i in 0..opts.sessions {
        let w = (i as i64 * weeks) / opts.sessions.max(1) as i64;
        let day = w * 7 + 6;
        let week = date(opts.start_day + day);
        let last_week = if rng.chance(0.7) && w > 0 {
            date(opts.start_day + day - 7)
        } else {
            String::new()
        };
        let r = report(&mut rng, &config, &week, day, &last_week);
        let x = super::go_g(r["X"].as_f64().unwrap_or(0.5));
        let line = go_json(&r);
        // 20 % only in a merged day; 15 % also in one; 3 % uploaded twice under two keys.
        let roll = rng.f64();
        if roll < 0.2 {
            merged.entry(week.clone()).or_default().push(line);
            continue;
        }
        if roll < 0.35 {
            merged.entry(week.clone()).or_default().push(line.clone());
        }
        if rng.chance(0.03) {
            uploaded.push(Object {
                key: format!("uploaded/{}/{x}.json", date(opts.start_day + day + 1)),
                bytes: format!("{line}\n").into_bytes(),
            });
        }
        uploaded.push(Object {
            key: format!("uploaded/{week}/{x}.json"),
            bytes: format!("{line}\n").into_bytes(),
        });
    }
    for (day, lines) in merged {
        let mut body = lines.join("\n");
        body.push('\n');
        uploaded.push(Object {
            key: format!("merged/{day}.json"),
            bytes: body.into_bytes(),
        });
    }
    uploaded.sort_by(|a, b| a.key.cmp(&b.key));
    uploaded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::go_telemetry::{FIRST_RELEASE, UploadConfig, decode};
    use crate::formats::plausible::Window;

    #[test]
    fn generated_reports_pass_validation_and_repeat_for_a_seed() {
        let opts = Options {
            sessions: 120,
            start_day: 19_936,
            days: 56,
            ..Options::default()
        };
        let objects = generate(&opts);
        assert_eq!(objects, generate(&opts));
        let config = UploadConfig::parse(UPLOAD_CONFIG, "fixture config").expect("config");
        let window = Window::configure(None, FIRST_RELEASE).expect("window");
        let mut reports = 0;
        for o in &objects {
            let r = decode(&o.bytes, &config, &window, None)
                .unwrap_or_else(|r| panic!("{}: {r:?}", o.key));
            reports += r.len();
        }
        assert!(reports >= 120, "{reports}");
    }
}
