//! Batect sessions as Abacus stores them, for fixtures,
//! demos and benchmarks.
//!
//! Objects are what Abacus stores (FORMATS.md §1.4): key `v1/<app>/<version>/<sessionId>.json`,
//! a gzipped compact JSON line in Go's field order, attribute keys sorted, `<`, `>` and `&`
//! escaped as Go escapes them. The population behind them is built so reports have something
//! to find: users on Linux, macOS and Windows with their shells; CI runs (about a third, each
//! CI system its share); new releases that overtake the old within weeks (each user upgrades
//! after a personal lag); update nudges while a user is behind; config-load times that grow
//! with project size; BuildKit builds faster than legacy ones; a few percent of failed runs,
//! "task not found" failures 30 % rarer for users of shell tab completion; background exceptions;
//! and, in the newest release, one attribute the schema does not know (`shellCompletionInstalled`).
//!
//! The same options and seed give the same bytes: a SplitMix64 generator, no clock.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::formats::abacus::tables::{AttrType, AttributeSchema};
use crate::formats::generate::{Object, Options, Rng, go_json, gzip};

/// The knobs the fixture reports are checked against.
pub mod truth {
    /// Share of sessions that are a `RunTaskCommand` failing before any task ran, for users
    /// without shell tab completion.
    pub const TASK_NOT_FOUND: f64 = 0.029;
    /// How much rarer those failures are for users of tab completion.
    pub const COMPLETION_FACTOR: f64 = 0.7;
    /// Share of task runs that fail in the task itself (exit code 1).
    pub const TASK_FAILED: f64 = 0.035;
    /// Share of users that run on CI.
    pub const CI_USERS: f64 = 0.3;
    /// Mean days a user waits before upgrading to a new release.
    pub const UPGRADE_LAG_DAYS: f64 = 9.0;
}

/// Releases: version and day offset from the start (negative: released before the data begins).
const RELEASES: [(&str, i64); 8] = [
    ("0.77.0", -60),
    ("0.78.0", -25),
    ("0.79.0", 5),
    ("0.80.0", 22),
    ("0.81.0", 40),
    ("0.82.0", 61),
    ("0.83.0", 80),
    ("0.84.0", 101),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Os {
    Linux,
    Mac,
    Windows,
}

const DOCKER_VERSIONS: [(&str, f64); 5] = [
    ("24.0.5", 30.0),
    ("24.0.2", 20.0),
    ("23.0.6", 20.0),
    ("20.10.24", 20.0),
    ("19.03.8", 10.0),
];

/// One installation: a person on a laptop, or a CI pipeline of one project.
struct User {
    id: String,
    ci: Option<Option<&'static str>>,
    os: Os,
    shell: Option<&'static str>,
    terminal: Option<&'static str>,
    lag_days: f64,
    completion: bool,
    buildkit: bool,
    docker: &'static str,
    jvm: (&'static str, &'static str),
    git: Option<&'static str>,
    tasks: i64,
    containers: i64,
    config_vars: i64,
    file_includes: i64,
    git_includes: i64,
    /// Relative activity (sessions per day).
    activity: f64,
}

fn new_user(rng: &mut Rng) -> User {
    let ci = if rng.chance(truth::CI_USERS) {
        Some(rng.pick(&[
            (Some("GitHub Actions"), 45.0),
            (Some("GitLab CI"), 20.0),
            (Some("CircleCI"), 12.0),
            (Some("Jenkins"), 10.0),
            (Some("Buildkite"), 8.0),
            (None, 5.0),
        ]))
    } else {
        None
    };
    let os = if ci.is_some() {
        rng.pick(&[(Os::Linux, 95.0), (Os::Windows, 5.0)])
    } else {
        rng.pick(&[(Os::Mac, 46.0), (Os::Linux, 44.0), (Os::Windows, 10.0)])
    };
    let shell = match (os, ci.is_some()) {
        (Os::Windows, _) => None,
        (_, true) => Some(rng.pick(&[("bash", 90.0), ("sh", 10.0)])),
        (Os::Mac, false) => Some(rng.pick(&[("zsh", 80.0), ("bash", 14.0), ("fish", 6.0)])),
        (Os::Linux, false) => Some(rng.pick(&[("bash", 68.0), ("zsh", 22.0), ("fish", 10.0)])),
    };
    let terminal = if ci.is_some() {
        None
    } else {
        Some(rng.pick(&[
            ("xterm-256color", 80.0),
            ("screen-256color", 8.0),
            ("alacritty", 6.0),
            ("xterm", 6.0),
        ]))
    };
    let tasks = (rng.lognormal(12.0, 0.7).round() as i64).clamp(1, 240);
    User {
        id: rng.uuid4(),
        lag_days: rng.exp(if ci.is_some() {
            truth::UPGRADE_LAG_DAYS * 1.5
        } else {
            truth::UPGRADE_LAG_DAYS
        }),
        completion: ci.is_none() && os != Os::Windows && rng.chance(0.35),
        buildkit: rng.chance(0.6),
        docker: rng.pick(&DOCKER_VERSIONS),
        jvm: rng.pick(&[
            (("Eclipse Adoptium", "17.0.8"), 40.0),
            (("Homebrew", "20.0.1"), 20.0),
            (("Oracle Corporation", "11.0.20"), 20.0),
            (("Amazon.com Inc.", "17.0.7"), 20.0),
        ]),
        git: rng.pick(&[
            (Some("2.41.0"), 40.0),
            (Some("2.39.2 (Apple Git-143)"), 25.0),
            (Some("2.34.1"), 30.0),
            (None, 5.0),
        ]),
        tasks,
        containers: (rng.lognormal(3.0, 0.6).round() as i64).clamp(1, 40),
        config_vars: (rng.exp(2.0).round() as i64).min(30),
        file_includes: if rng.chance(0.3) { rng.range(1, 6) } else { 0 },
        git_includes: if rng.chance(0.15) { rng.range(1, 3) } else { 0 },
        activity: rng.lognormal(1.0, 0.9),
        ci,
        os,
        shell,
        terminal,
    }
}

const NS_PER_DAY: i64 = 86_400_000_000_000;

/// RFC 3339 in UTC with `digits` fractional digits, trailing zeros dropped (Go's RFC3339Nano).
fn time(ns: i64, digits: u32) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000) / 10i64.pow(9 - digits);
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    let mut f = format!("{:0width$}", frac, width = digits as usize);
    while f.ends_with('0') {
        f.pop();
    }
    if f.is_empty() {
        format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
    } else {
        format!("{}.{f}Z", t.format("%Y-%m-%dT%H:%M:%S"))
    }
}

/// The version a user runs on `day` (days from the start).
fn version_on(user: &User, day: f64) -> usize {
    let mut v = 0;
    for (i, (_, released)) in RELEASES.iter().enumerate() {
        if *released as f64 + user.lag_days <= day {
            v = i;
        }
    }
    v
}

fn latest_on(day: f64) -> usize {
    RELEASES
        .iter()
        .rposition(|(_, r)| *r as f64 <= day)
        .unwrap_or(0)
}

const EXCEPTIONS: [(&str, &str); 4] = [
    (
        "java.net.UnknownHostException\n\tat java.base/java.net.InetAddress$CachedAddresses.get(InetAddress.java:801)\n\tat okhttp3.Dns$Companion$DnsSystem.lookup(Dns.kt:49)\n\t... 3 more\n",
        "batect.updates.UpdateInfoUpdater.updateCachedInfo$lambda$0",
    ),
    (
        "java.net.SocketTimeoutException: timeout\n\tat okio.SocketAsyncTimeout.newTimeoutException(JvmOkio.kt:146)\n\t... 12 more\n",
        "batect.telemetry.TelemetryUploadTask.upload",
    ),
    (
        "java.nio.file.AccessDeniedException\n\tat java.base/sun.nio.fs.UnixException.translateToIOException(UnixException.java:90)\n\tat batect.wrapper.WrapperCache.<init>(WrapperCache.kt:41)\n\t... 4 more\n",
        "batect.wrapper.WrapperCacheCleanupTask.start$lambda$0",
    ),
    (
        "kotlinx.serialization.json.internal.JsonDecodingException\n\tat kotlinx.serialization.json.internal.JsonExceptionsKt.JsonDecodingException(JsonExceptions.kt:24)\n\t... 9 more\n",
        "batect.updates.UpdateInfoStorage.read",
    ),
];

fn span(kind: &str, start: i64, end: i64, attrs: Value) -> Value {
    json!({"type": kind, "startTime": time(start, 6), "endTime": time(end, 6), "attributes": attrs})
}

fn event(kind: &str, at: i64, attrs: Value) -> Value {
    json!({"type": kind, "time": time(at, 6), "attributes": attrs})
}

/// Generates the objects, in key order.
pub fn generate(opts: &Options) -> Vec<Object> {
    let mut out = Vec::with_capacity(opts.sessions);
    generate_each(opts, &mut |o| {
        out.push(o);
        Ok(())
    })
    .expect("collecting cannot fail");
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Generates the objects one at a time, handing each to `each` as it is made (the same
/// objects as [`generate`], in the order they are made): memory does not grow with them.
pub fn generate_each(
    opts: &Options,
    each: &mut dyn FnMut(Object) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut rng = Rng::new(opts.seed);
    let user_count = (opts.sessions / 12).max(20);
    let users: Vec<User> = (0..user_count).map(|_| new_user(&mut rng)).collect();
    let weights: Vec<(usize, f64)> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (i, u.activity))
        .collect();
    let day_weights: Vec<(i64, f64)> = (0..opts.days)
        .map(|d| {
            let weekday = (opts.start_day + d + 3).rem_euclid(7); // 0 = Monday
            (d, if weekday >= 5 { 0.35 } else { 1.0 })
        })
        .collect();
    for _ in 0..opts.sessions {
        let user = &users[rng.pick(&weights)];
        let day = rng.pick(&day_weights);
        let seconds = if user.ci.is_some() {
            rng.f64() * 86_400.0
        } else {
            ((14.0 + 3.5 * rng.normal()) * 3600.0).clamp(0.0, 86_399.0)
        };
        let start = (opts.start_day + day) * NS_PER_DAY + (seconds * 1e9) as i64;
        each(session(
            &mut rng,
            user,
            start,
            day as f64 + seconds / 86_400.0,
            opts,
        ))?;
    }
    Ok(())
}

fn session(rng: &mut Rng, user: &User, start: i64, day: f64, opts: &Options) -> Object {
    let session_id = rng.uuid4();
    let v = version_on(user, day);
    let version = RELEASES[v].0;
    let behind = v < latest_on(day);
    let command = if user.completion && rng.chance(0.12) {
        "GenerateShellTabCompletionTaskInformationCommand"
    } else {
        rng.pick(&[
            ("RunTaskCommand", 84.0),
            (
                "ListTasksCommand",
                if user.ci.is_some() { 1.0 } else { 6.0 },
            ),
            ("HelpCommand", 1.5),
            ("VersionInfoCommand", 1.5),
            (
                "UpgradeCommand",
                if behind && user.ci.is_none() {
                    3.0
                } else {
                    0.0
                },
            ),
            ("CleanupCachesCommand", 1.0),
            (
                "GenerateShellTabCompletionScriptCommand",
                if user.completion { 0.5 } else { 0.0 },
            ),
        ])
    };
    let run_task = command == "RunTaskCommand";
    let mut t = start + (rng.lognormal(400.0, 0.3) * 1e6) as i64; // JVM start-up
    let mut spans = Vec::new();
    let mut events = Vec::new();
    let mut exit_code = 0;

    if user.ci.is_none() && rng.chance(0.5) {
        let upload = (rng.lognormal(450.0, 0.4) * 1e6) as i64;
        spans.push(span("UploadTelemetrySession", t, t + upload, json!({})));
    }
    if behind && rng.chance(0.3) {
        events.push(event(
            "UpdateAvailableNotificationShown",
            t + 300_000_000,
            json!({"currentVersion": version, "newVersion": RELEASES[latest_on(day)].0}),
        ));
    }
    let mut total_tasks = 0;
    if run_task
        || command == "ListTasksCommand"
        || command.starts_with("GenerateShellTabCompletionTask")
    {
        let median =
            90.0 * (1.0 + user.tasks as f64 / 25.0) * (1.0 + user.file_includes as f64 * 0.15);
        let load = (rng.lognormal(median, 0.35) * 1e6) as i64;
        spans.push(span(
            "LoadConfiguration",
            t,
            t + load,
            json!({
                "configVariableCount": user.config_vars,
                "containerCount": user.containers,
                "fileIncludeCount": user.file_includes,
                "gitIncludeCount": user.git_includes,
                "taskCount": user.tasks,
            }),
        ));
        t += load;
    }
    if command.starts_with("GenerateShellTabCompletion") {
        let kind = if command.contains("TaskInformation") {
            "GeneratedShellTabCompletionTaskInformation"
        } else {
            "GeneratedShellTabCompletionScript"
        };
        let shell = match user.shell {
            Some("zsh") => "Zsh",
            Some("fish") => "Fish",
            _ => "Bash",
        };
        events.push(event(
            kind,
            t + 5_000_000,
            json!({"shell": shell, "proxyCompletionScriptVersion": "0.2.0"}),
        ));
    }
    if run_task {
        let not_found = truth::TASK_NOT_FOUND
            * if user.completion {
                truth::COMPLETION_FACTOR
            } else {
                1.0
            };
        if rng.chance(not_found) {
            exit_code = 1; // the task named on the command line does not exist: no task ran
        } else {
            total_tasks = 1 + rng.below(3) as i64;
            let builds = if rng.chance(if user.ci.is_some() { 0.6 } else { 0.3 }) {
                1 + rng.below(2)
            } else {
                0
            };
            for _ in 0..builds {
                let median = if user.buildkit { 18_000.0 } else { 32_000.0 };
                let d = (rng.lognormal(median, 0.6) * 1e6) as i64;
                spans.push(span("BuildImage", t, t + d, json!({})));
                t += d;
            }
            for i in 0..total_tasks {
                let only_prereqs = i + 1 == total_tasks && rng.chance(0.05);
                let d = if only_prereqs {
                    2_000_000
                } else {
                    (rng.lognormal(25_000.0, 0.9) * 1e6) as i64
                };
                let mut attrs = Map::new();
                if !only_prereqs {
                    attrs.insert(
                        "containersInTask".into(),
                        json!(1 + rng.below(user.containers.max(1) as u64)),
                    );
                }
                attrs.insert("taskOnlyHasPrerequisites".into(), json!(only_prereqs));
                spans.push(span("RunTask", t, t + d, Value::Object(attrs)));
                t += d;
            }
            if rng.chance(truth::TASK_FAILED) {
                exit_code = 1;
            }
        }
    } else {
        t += (rng.lognormal(300.0, 0.5) * 1e6) as i64;
    }
    if rng.chance(0.004) {
        exit_code = -1;
        let (exception, at) = EXCEPTIONS[rng.below(EXCEPTIONS.len() as u64) as usize];
        events.push(event(
            "UnhandledException",
            t,
            json!({"exception": exception, "exceptionCaughtAt": at, "isUserFacingException": true}),
        ));
    } else if rng.chance(0.012) {
        let (exception, at) = EXCEPTIONS[rng.below(EXCEPTIONS.len() as u64) as usize];
        events.push(event(
            "UnhandledException",
            t - 1_000_000,
            json!({"exception": exception, "exceptionCaughtAt": at, "isUserFacingException": false}),
        ));
    }
    let end = t + (rng.lognormal(150.0, 0.3) * 1e6) as i64;
    let ingestion = match user.ci {
        Some(_) => end + rng.range(800, 4000) * 1_000_000 + rng.below(1_000_000) as i64,
        None => {
            end + (rng.exp(1.5).min(30.0) * NS_PER_DAY as f64) as i64 + rng.below(1_000_000) as i64
        }
    };

    let mut attrs: BTreeMap<&str, Value> = BTreeMap::new();
    attrs.insert(
        "additionalTaskCommandArgumentCount",
        json!(if rng.chance(0.1) { rng.range(1, 3) } else { 0 }),
    );
    attrs.insert("colorOutputDisabled", json!(false));
    attrs.insert("commandLineConfigVariableOverrideCount", json!(0));
    attrs.insert(
        "commandLineImageOverrideCount",
        json!(if rng.chance(0.03) { 1 } else { 0 }),
    );
    attrs.insert("commandType", json!(command));
    attrs.insert("consoleSupportsInteractivity", json!(user.ci.is_none()));
    attrs.insert("exitCode", json!(exit_code));
    attrs.insert("gitVersion", json!(user.git));
    attrs.insert("jvmName", json!("OpenJDK 64-Bit Server VM"));
    attrs.insert("jvmStartTime", json!(time(start - 400_000_000, 3)));
    attrs.insert("jvmVendor", json!(user.jvm.0));
    attrs.insert("jvmVersion", json!(user.jvm.1));
    attrs.insert("maximumLevelOfParallelism", json!(null));
    let (os_name, os_version, details, arch) = match user.os {
        Os::Linux => ("Linux", "5.15.0-1041-azure", "Ubuntu Linux 22.04", "amd64"),
        Os::Mac => (
            "Mac OS X",
            "13.4.1",
            "macOS 13.4.1",
            if user.buildkit { "aarch64" } else { "x86_64" },
        ),
        Os::Windows => ("Windows 10", "10.0", "Windows 10 Pro", "amd64"),
    };
    attrs.insert("osArchitecture", json!(arch));
    attrs.insert("osDetails", json!(details));
    attrs.insert("osName", json!(os_name));
    attrs.insert("osVersion", json!(os_version));
    attrs.insert("proxyEnvironmentVariablePropagationDisabled", json!(false));
    attrs.insert(
        "requestedOutputStyle",
        if user.ci.is_some() {
            json!(null)
        } else {
            json!(rng.pick(&[
                (None, 60.0),
                (Some("fancy"), 25.0),
                (Some("simple"), 10.0),
                (Some("quiet"), 5.0)
            ]))
        },
    );
    attrs.insert("shell", json!(user.shell));
    attrs.insert("skippingPrerequisites", json!(false));
    attrs.insert("stdinIsTTY", json!(user.ci.is_none()));
    attrs.insert("stdoutIsTTY", json!(user.ci.is_none()));
    attrs.insert("suspectRunningOnCI", json!(user.ci.is_some()));
    attrs.insert("suspectedCISystem", json!(user.ci.flatten()));
    attrs.insert("terminal", json!(user.terminal));
    attrs.insert("updateNotificationsDisabled", json!(false));
    attrs.insert("usingConfigVariablesFile", json!(user.config_vars > 2));
    attrs.insert("usingExistingDockerNetwork", json!(false));
    attrs.insert("usingNonDefaultConfigurationFileName", json!(false));
    attrs.insert("wrapperCacheCleanupDisabled", json!(false));
    attrs.insert("wrapperDidDownload", json!(rng.chance(0.05)));
    if v + 1 == RELEASES.len() {
        // The newest release sends an attribute the BigQuery schema does not have yet: drift
        // that the warehouse keeps in extra_attributes and the data-health report shows.
        attrs.insert("shellCompletionInstalled", json!(user.completion));
    }
    if run_task || command == "CleanupCachesCommand" {
        attrs.insert("cacheType", json!("Volume"));
        attrs.insert("cleanupAfterFailureDisabled", json!(false));
        attrs.insert("cleanupAfterSuccessDisabled", json!(false));
        let builder = if user.buildkit { "BuildKit" } else { "Legacy" };
        attrs.insert("dockerBuilderVersionInUse", json!(builder));
        attrs.insert(
            "dockerContainerType",
            json!(if user.os == Os::Windows && rng.chance(0.2) {
                "Windows"
            } else {
                "Linux"
            }),
        );
        attrs.insert("dockerDaemonExperimentalFeaturesEnabled", json!(false));
        attrs.insert("dockerDaemonPreferredBuilderVersion", json!(builder));
        attrs.insert("dockerVersion", json!(user.docker));
    }
    if run_task {
        attrs.insert("totalTasksToExecute", json!(total_tasks.max(1)));
    }

    let attrs = match &opts.session_attributes {
        Some(schema) => shaped_like(schema, attrs, rng, start),
        None => attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    };
    let application_id = opts.application_id.as_deref().unwrap_or("batect");

    let mut doc = Map::new();
    doc.insert("sessionId".into(), json!(session_id));
    doc.insert("userId".into(), json!(user.id));
    doc.insert("sessionStartTime".into(), json!(time(start, 6)));
    doc.insert("sessionEndTime".into(), json!(time(end, 6)));
    doc.insert("ingestionTime".into(), json!(time(ingestion, 9)));
    doc.insert("applicationId".into(), json!(application_id));
    doc.insert("applicationVersion".into(), json!(version));
    doc.insert("attributes".into(), Value::Object(attrs));
    // Go sorts nothing inside arrays: events and spans keep the client's order (by time).
    doc.insert("events".into(), Value::Array(events));
    doc.insert("spans".into(), Value::Array(spans));
    let text = go_json(&Value::Object(doc));
    let bytes = if rng.chance(opts.plain_share) {
        text.into_bytes()
    } else {
        gzip(text.as_bytes())
    };
    Object {
        key: format!("v1/{application_id}/{version}/{session_id}.json"),
        bytes,
    }
}

/// The session attributes `schema` names, in its types: the value Batect's model gave a name
/// when it has one of that type, else one made up for the type (a few strings per attribute,
/// small integers, …). Attributes the schema does not name are not sent.
fn shaped_like(
    schema: &AttributeSchema,
    model: BTreeMap<&str, Value>,
    rng: &mut Rng,
    start: i64,
) -> Map<String, Value> {
    schema
        .fields
        .iter()
        .map(|(name, kind)| {
            let modelled = model.get(name.as_str()).filter(|v| match kind {
                AttrType::String => v.is_string(),
                AttrType::Integer => v.is_i64() || v.is_u64(),
                AttrType::Float => v.is_number(),
                AttrType::Boolean => v.is_boolean(),
                AttrType::Timestamp => false,
            });
            let value = match (modelled, kind) {
                (Some(v), _) => v.clone(),
                (None, AttrType::String) => json!(format!("{name}-{}", rng.below(4) + 1)),
                (None, AttrType::Integer) => json!(rng.below(10)),
                (None, AttrType::Float) => json!((rng.f64() * 1000.0).round() / 10.0),
                (None, AttrType::Boolean) => json!(rng.chance(0.5)),
                (None, AttrType::Timestamp) => json!(time(start, 6)),
            };
            (name.clone(), value)
        })
        .collect()
}

/// Objects that break one rule each (the rule is in the key), for quarantine tests.
pub fn invalid(seed: u64) -> Vec<Object> {
    let mut rng = Rng::new(seed);
    let opts = Options {
        sessions: 1,
        plain_share: 1.0,
        ..Options::default()
    };
    let base = generate(&Options { seed, ..opts });
    let good: Value = serde_json::from_slice(&base[0].bytes).expect("generated JSON parses");
    let edit = |f: &dyn Fn(&mut Map<String, Value>)| -> Vec<u8> {
        let mut v = good.clone();
        if let Value::Object(o) = &mut v {
            f(o);
        }
        go_json(&v).into_bytes()
    };
    let set = |k: &'static str, val: Value| {
        move |o: &mut Map<String, Value>| {
            o.insert(k.into(), val.clone());
        }
    };
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("unknown_field", edit(&set("colour", json!("red")))),
        (
            "sessionId.required",
            edit(&|o| {
                o.remove("sessionId");
            }),
        ),
        ("sessionId.uuid4", edit(&set("sessionId", json!("abc123")))),
        ("sessionId.type", edit(&set("sessionId", json!(42)))),
        (
            "userId.uuid4",
            edit(&set(
                "userId",
                json!("11111111-2222-3333-4444-555555555555"),
            )),
        ),
        (
            "sessionStartTime.required",
            edit(&|o| {
                o.remove("sessionStartTime");
            }),
        ),
        (
            "sessionStartTime.format",
            edit(&set("sessionStartTime", json!("2023-13-45 25:00"))),
        ),
        (
            "sessionEndTime.gtefield",
            edit(&set("sessionEndTime", json!("2000-01-01T00:00:00Z"))),
        ),
        (
            "ingestionTime.format",
            edit(&set("ingestionTime", json!("soon"))),
        ),
        (
            "applicationId.oneof",
            edit(&set("applicationId", json!("<script>alert(1)</script>"))),
        ),
        (
            "applicationVersion.version",
            edit(&set("applicationVersion", json!("1.2.3.4"))),
        ),
        (
            "attributes.key",
            edit(&|o| {
                o["attributes"]["bad_key"] = json!(1);
            }),
        ),
        (
            "attributes.value",
            edit(&|o| {
                o["attributes"]["shell"] = json!(["bash"]);
            }),
        ),
        (
            "attributes.type",
            edit(&set("attributes", json!("shell=bash"))),
        ),
        ("events.type", edit(&set("events", json!({"type": "x"})))),
        (
            "events[0].type.required",
            edit(&set("events", json!([{"time": "2023-06-01T00:00:00Z"}]))),
        ),
        (
            "events[0].time.required",
            edit(&set("events", json!([{"type": "X"}]))),
        ),
        (
            "spans[0].endTime.gtefield",
            edit(&set(
                "spans",
                json!([{"type": "X", "startTime": "2023-06-01T00:00:01Z", "endTime": "2023-06-01T00:00:00Z"}]),
            )),
        ),
        (
            "spans[0].startTime.required",
            edit(&set(
                "spans",
                json!([{"type": "X", "endTime": "2023-06-01T00:00:00Z"}]),
            )),
        ),
        (
            "json",
            b"{\"sessionId\": \"3f0c5e52-8a0e-4c6b-9d0b-2f7c6a1e9b41\", ".to_vec(),
        ),
        ("json", b"[1, 2, 3]".to_vec()),
    ];
    let mut broken = gzip(&edit(&|_| {}));
    let n = broken.len();
    broken.truncate(n / 2);
    cases.push(("gzip", broken));
    let mut n = 0;
    cases
        .into_iter()
        .map(|(rule, bytes)| {
            n += 1;
            let id = rng.uuid4();
            Object {
                key: format!("v1/batect/0.84.0/{rule}--{n:02}-{id}.json"),
                bytes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let opts = Options {
            sessions: 50,
            ..Options::default()
        };
        assert_eq!(generate(&opts), generate(&opts));
        assert_ne!(generate(&opts), generate(&Options { seed: 2, ..opts }));
    }

    #[test]
    fn generated_sessions_pass_validation() {
        let ids: Vec<String> = crate::formats::abacus::APPLICATION_IDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        for o in generate(&Options {
            sessions: 300,
            ..Options::default()
        }) {
            let json = crate::formats::gunzip(&o.bytes).expect("gzip");
            let s = crate::formats::abacus::decode(&json, Some(&ids))
                .unwrap_or_else(|e| panic!("{}: {e:?}", o.key));
            assert_eq!(
                o.key,
                format!("v1/batect/{}/{}.json", s.application_version, s.session_id)
            );
        }
    }

    #[test]
    fn sessions_take_the_application_id_and_attribute_schema_given() {
        let schema = AttributeSchema::parse(
            r#"[{"name": "shell", "type": "STRING"}, {"name": "exitCode", "type": "INTEGER"},
                {"name": "region", "type": "STRING"}, {"name": "fast", "type": "BOOLEAN"}]"#,
            "test schema",
        )
        .expect("schema");
        let opts = Options {
            sessions: 50,
            application_id: Some("acme-cli".into()),
            session_attributes: Some(schema.clone()),
            ..Options::default()
        };
        let ids = vec!["acme-cli".to_string()];
        for o in generate(&opts) {
            assert!(o.key.starts_with("v1/acme-cli/"), "{}", o.key);
            let json = crate::formats::gunzip(&o.bytes).expect("gzip");
            let s = crate::formats::abacus::decode(&json, Some(&ids))
                .unwrap_or_else(|e| panic!("{}: {e:?}", o.key));
            let names: Vec<&str> = s.attributes.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names, ["exitCode", "fast", "region", "shell"], "{}", o.key);
        }
        assert_eq!(generate(&opts), generate(&opts));
    }

    #[test]
    fn invalid_objects_break_the_rule_their_key_names() {
        let ids: Vec<String> = crate::formats::abacus::APPLICATION_IDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        for o in invalid(7) {
            let rule = o
                .key
                .rsplit('/')
                .next()
                .and_then(|f| f.split("--").next())
                .expect("rule in key");
            let got = crate::formats::gunzip(&o.bytes)
                .and_then(|j| crate::formats::abacus::decode(&j, Some(&ids)));
            assert_eq!(got.expect_err(&o.key).rule, rule, "{}", o.key);
        }
    }

    #[test]
    fn times_drop_trailing_zeros_like_go() {
        assert_eq!(
            time(1_692_004_863_874_512_000, 6),
            "2023-08-14T09:21:03.874512Z"
        );
        assert_eq!(time(1_692_004_863_000_000_000, 6), "2023-08-14T09:21:03Z");
        assert_eq!(time(1_692_004_863_100_000_000, 9), "2023-08-14T09:21:03.1Z");
    }
}
