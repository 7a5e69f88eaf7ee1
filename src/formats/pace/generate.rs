//! PACE CLI telemetry snapshots: each install uploads its cumulative record now and then
//! (at most hourly, at the start of a command, counted before that command), as JSON under
//! `upload/<YYYYMMDDTHHMMSSZ>-<id>.json`; a few installs' local `telemetry.yaml` files are
//! collected too, as `local/<YYYYMMDDTHHMMSSZ>-<id>.yaml`. The time stamp in the key is when the
//! object was written (the fixture source reads it with `written_at = "key"`).
//! `--sessions` is the number of installs.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::formats::generate::{Object, Options, Rng};

/// Command paths with their weight and failure rate.
const COMMANDS: [(&str, f64, f64); 12] = [
    ("pace list data-policies", 18.0, 0.02),
    ("pace get data-policy", 14.0, 0.06),
    ("pace apply data-policy", 9.0, 0.14),
    ("pace upsert data-policy", 7.0, 0.10),
    ("pace evaluate data-policy", 5.0, 0.09),
    ("pace list tables", 8.0, 0.03),
    ("pace list processing-platforms", 5.0, 0.01),
    ("pace transpile data-policy", 3.0, 0.12),
    ("pace list global-transforms", 2.0, 0.02),
    ("pace version", 6.0, 0.0),
    ("pace completion zsh", 1.0, 0.0),
    ("pace invoke plugin", 1.5, 0.2),
];
/// CLI releases by day offset.
const VERSIONS: [(&str, i64); 5] = [
    ("v1.13.0", -60),
    ("v1.14.0", -20),
    ("v1.15.0", 20),
    ("v1.16.0", 50),
    ("v1.17.0", 80),
];
const OS: [(&str, f64); 3] = [("darwin", 0.55), ("linux", 0.35), ("windows", 0.1)];

struct Install {
    id: String,
    os: &'static str,
    version: usize,
    counts: BTreeMap<(usize, u32), u64>,
}

fn stamp(ns_day: i64, seconds: i64) -> String {
    let t = chrono::DateTime::from_timestamp(ns_day * 86_400 + seconds, 0).unwrap_or_default();
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn snapshot(i: &Install) -> Value {
    let mut points: Map<String, Value> = Map::new();
    for ((c, code), n) in &i.counts {
        let entry = points
            .entry(COMMANDS[*c].0.to_string())
            .or_insert_with(|| json!({}));
        entry[code.to_string()] = json!({ "cumulative_count": n });
    }
    json!({
        "metric_points": points,
        "cli_version": VERSIONS[i.version].0,
        "operating_system": i.os,
        "id": i.id,
    })
}

/// The YAML the CLI keeps locally (exit codes as integer keys).
fn yaml(i: &Install) -> String {
    let mut out = String::from("metric_points:\n");
    let mut last = None;
    for ((c, code), n) in &i.counts {
        if last != Some(*c) {
            out.push_str(&format!("    {}:\n", COMMANDS[*c].0));
            last = Some(*c);
        }
        out.push_str(&format!(
            "        {code}:\n            cumulative_count: {n}\n"
        ));
    }
    if i.counts.is_empty() {
        out = String::from("metric_points: {}\n");
    }
    out.push_str(&format!(
        "cli_version: {}\noperating_system: {}\nid: {}\n",
        VERSIONS[i.version].0, i.os, i.id
    ));
    out
}

pub fn generate(opts: &Options) -> Vec<Object> {
    let mut rng = Rng::new(opts.seed);
    let weights: Vec<(usize, f64)> = COMMANDS.iter().enumerate().map(|(i, c)| (i, c.1)).collect();
    let mut out = Vec::new();
    for _ in 0..opts.sessions {
        let mut install = Install {
            id: rng.uuid4(),
            os: rng.pick(&OS),
            version: 0,
            counts: BTreeMap::new(),
        };
        let mut day = rng.range(0, opts.days * 2 / 3);
        // Users differ a lot in how often they run the CLI.
        let activity = rng.lognormal(6.0, 0.8);
        let uploads = rng.range(1, 8);
        let local_file = rng.chance(0.1);
        for n in 0..uploads {
            if day >= opts.days {
                break;
            }
            // Upgrades once a release is out, after a personal lag.
            while install.version + 1 < VERSIONS.len()
                && VERSIONS[install.version + 1].1 + rng.range(0, 20) <= day
            {
                install.version += 1;
            }
            // The first upload comes before any command is counted.
            if n > 0 {
                for _ in 0..(rng.exp(activity) as u64 + 1) {
                    let c = rng.pick(&weights);
                    let code = u32::from(rng.chance(COMMANDS[c].2));
                    *install.counts.entry((c, code)).or_insert(0) += 1;
                }
            }
            let seconds = rng.range(7 * 3600, 19 * 3600);
            let when = stamp(opts.start_day + day, seconds);
            if local_file && n + 1 == uploads {
                out.push(Object {
                    key: format!("local/{when}-{}.yaml", install.id),
                    bytes: yaml(&install).into_bytes(),
                });
            } else {
                out.push(Object {
                    key: format!("upload/{when}-{}.json", install.id),
                    bytes: serde_json::to_vec(&snapshot(&install)).unwrap_or_default(),
                });
            }
            day += rng.exp(10.0) as i64 + 1;
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pace::{decode, key_time};

    #[test]
    fn generated_snapshots_pass_validation_and_only_grow() {
        let opts = Options {
            sessions: 100,
            days: 90,
            ..Options::default()
        };
        let objects = generate(&opts);
        assert_eq!(objects, generate(&opts));
        let mut snapshots: Vec<_> = objects
            .iter()
            .map(|o| {
                let t = key_time(&o.key).expect("stamp");
                decode(&o.bytes, t).unwrap_or_else(|r| panic!("{}: {r:?}", o.key))
            })
            .collect();
        snapshots.sort_by_key(|s| s.written_at);
        let mut last: BTreeMap<String, i64> = BTreeMap::new();
        for s in &snapshots {
            if let Some(total) = last.get(&s.id) {
                assert!(s.total > *total, "{} shrank", s.id);
            }
            last.insert(s.id.clone(), s.total);
        }
        assert!(objects.iter().any(|o| o.key.ends_with(".yaml")));
    }
}
