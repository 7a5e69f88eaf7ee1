//! Open edX devstack Segment track events: daily NDJSON exports `segment/<date>.ndjson` and a
//! few single events `events/<date>/<user>-<n>.json`. Users opt in first, then run the wrapped
//! make targets; events before 2021-06-21 carry the old `duration` (ms modulo s) instead of
//! `duration_ms`; Ctrl-C gives `exit_status` -2, a failed make 2. `--sessions` is the number of
//! command runs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::formats::generate::{Object, Options, Rng};

/// The day `duration` became `duration_ms` (2021-06-21), days since 1970-01-01.
const DURATION_MS_SINCE: i64 = 18_799;

/// Target, weight, median duration (s), failure rate, Ctrl-C rate.
const TARGETS: [(&str, f64, f64, f64, f64); 9] = [
    ("dev.up.lms+redis", 20.0, 40.0, 0.04, 0.02),
    ("dev.up.studio", 8.0, 35.0, 0.04, 0.02),
    ("dev.up.attach.lms", 4.0, 600.0, 0.02, 0.35),
    ("dev.pull.lms", 12.0, 95.0, 0.08, 0.04),
    ("dev.pull.without-deps.ecommerce", 3.0, 60.0, 0.06, 0.03),
    ("dev.provision", 5.0, 1500.0, 0.18, 0.08),
    ("dev.provision.lms+studio", 4.0, 900.0, 0.15, 0.07),
    ("dev.clone.ssh", 3.0, 120.0, 0.1, 0.02),
    ("dev.clone.https", 1.5, 140.0, 0.07, 0.02),
];

fn iso(ns: i64, offset: &str) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(ns);
    match offset {
        "+00:00" => t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        _ => (t - chrono::Duration::hours(4))
            .format("%Y-%m-%dT%H:%M:%S-04:00")
            .to_string(),
    }
}

pub fn generate(opts: &Options) -> Vec<Object> {
    let mut rng = Rng::new(opts.seed);
    let users: Vec<(String, i64, bool)> = (0..(opts.sessions / 8).max(5))
        .map(|_| (rng.uuid4(), rng.range(0, opts.days / 2), rng.chance(0.07)))
        .collect();
    let weights: Vec<(usize, f64)> = TARGETS.iter().enumerate().map(|(i, t)| (i, t.1)).collect();
    let mut by_day: BTreeMap<i64, Vec<(i64, Value)>> = BTreeMap::new();
    let commit = iso(
        (opts.start_day * 86_400 - 3 * 86_400 + 45_000) * 1_000_000_000,
        "-04:00",
    );
    let mut event = |rng: &mut Rng, user: &str, is_test: &str, start: i64, props: Value| {
        let mut props = props;
        props["start_time"] = json!(iso(start, "+00:00"));
        props["is_test"] = json!(is_test);
        let sent = start
            + props["duration_ms"].as_i64().unwrap_or(500) * 1_000_000
            + rng.range(50, 900) * 1_000_000;
        let e = json!({"event": "devstack.command.run", "userId": user, "properties": props, "sentAt": iso(sent, "+00:00")});
        by_day
            .entry(start.div_euclid(86_400 * 1_000_000_000))
            .or_default()
            .push((start, e));
    };
    // Opt-ins first.
    for (user, first, ci) in &users {
        let start = ((opts.start_day + first) * 86_400 + rng.range(30_000, 60_000)) * 1_000_000_000;
        let is_test = if *ci { "ci" } else { "no" };
        let p = json!({"command_type": "make", "command": "metrics-opt-in", "choice": "accept",
            "git_commit_time": commit, "git_checked_out_master": true});
        event(&mut rng, user, is_test, start, p);
    }
    for _ in 0..opts.sessions {
        let (user, first, ci) = &users[rng.below(users.len() as u64) as usize];
        let day = opts.start_day + rng.range(*first, opts.days - 1);
        let start = (day * 86_400 + rng.range(28_000, 70_000)) * 1_000_000_000
            + rng.range(0, 999_999) * 1000;
        let (target, _, median, fail, interrupt) = TARGETS[rng.pick(&weights)];
        let mut ms = (rng.lognormal(median, 0.5) * 1000.0) as i64;
        let exit = if rng.chance(interrupt) {
            ms = (ms as f64 * rng.f64()) as i64;
            -2
        } else if rng.chance(fail) {
            2
        } else {
            0
        };
        let mut p = json!({"command_type": "make", "command": target, "exit_status": exit,
            "git_commit_time": commit, "git_checked_out_master": rng.chance(0.8)});
        if day < DURATION_MS_SINCE {
            p["duration"] = json!(ms % 1000);
        } else {
            p["duration_ms"] = json!(ms);
        }
        event(&mut rng, user, if *ci { "ci" } else { "no" }, start, p);
    }
    // A few users opt out again.
    for (user, _, _) in users.iter().take(3) {
        let start = ((opts.start_day + opts.days - 1) * 86_400 + 50_000) * 1_000_000_000;
        let p = json!({"command_type": "make", "command": "metrics-opt-out", "previous_consent": "yes"});
        event(&mut rng, user, "no", start, p);
    }
    let mut out = Vec::new();
    let mut n = 0;
    for (day, mut events) in by_day {
        events.sort_by_key(|e| e.0);
        let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
            .unwrap_or_default()
            .format("%Y-%m-%d")
            .to_string();
        let mut lines = Vec::new();
        for (_, e) in events {
            // One event in ten arrives as its own object (a per-event export).
            if rng.chance(0.1) {
                n += 1;
                let user = e["userId"].as_str().unwrap_or("user").to_string();
                out.push(Object {
                    key: format!("events/{date}/{user}-{n:04}.json"),
                    bytes: serde_json::to_vec(&e).unwrap_or_default(),
                });
            } else {
                lines.push(serde_json::to_string(&e).unwrap_or_default());
            }
        }
        if !lines.is_empty() {
            out.push(Object {
                key: format!("segment/{date}.ndjson"),
                bytes: format!("{}\n", lines.join("\n")).into_bytes(),
            });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::devstack::{FIRST_RELEASE, decode};
    use crate::formats::plausible::Window;

    #[test]
    fn generated_events_pass_validation() {
        let opts = Options {
            sessions: 200,
            start_day: 18_779,
            days: 60,
            ..Options::default()
        };
        let objects = generate(&opts);
        assert_eq!(objects, generate(&opts));
        let window = Window::configure(None, FIRST_RELEASE).expect("window");
        let runs: Vec<_> = objects
            .iter()
            .flat_map(|o| {
                decode(&o.bytes, &window, None).unwrap_or_else(|r| panic!("{}: {r:?}", o.key))
            })
            .collect();
        assert!(runs.len() > 200);
        assert!(runs.iter().any(|r| r.legacy_duration.is_some()));
        assert!(runs.iter().any(|r| r.signal == Some(2)));
    }
}
