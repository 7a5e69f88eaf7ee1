//! The Go telemetry format (golang.org/x/telemetry): upload reports as the server stores them
//! (`<Week>/<X>.json`, one report per object) and merged days (`<date>.json`, NDJSON, one
//! report per line), decoded and validated as `godev/cmd/telemetrygodev` validates an upload
//! (FORMATS.md §2.3): `Week` is a date, `Config` is semver, `X` is not 0, and every program
//! build, counter and stack prefix is in the upload config. `Week` and `LastWeek` must also be
//! plausible (see [`plausible`]).
//!
//! A report is identified by `X` (the server stores it as `<X>.json`): a re-upload with the
//! same `X` is kept once. Tables, all partitioned by `date` = the report's `Week`:
//! `reports` (one row per report × program), `counters` (report × program × counter, the name
//! split at the first `:` into chart and bucket) and `stacks` (report × program × stack).

pub mod generate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::plausible::{Window, midnight};
use super::{
    FormatSpec, Located, ObjectInfo, Rejection, TableDef, at_line, json_object, lines, reject,
    shown,
};

/// The Go telemetry format in the registry.
pub struct GoTelemetry;

/// A Go telemetry source's own keys in `report.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    /// The upload config reports are checked against (the real one by default).
    #[serde(default)]
    upload_config: Option<String>,
    /// The window of plausible times (`not_before`, `ahead_hours`).
    #[serde(default)]
    plausible: Option<super::plausible::Keys>,
}

/// The day Go telemetry's code began: golang.org/x/telemetry's first commit is of 2023-05-04
/// and the telemetry.go.dev server's of 2023-05-17; gopls v0.14 shipped the first uploads to
/// users in October 2023 (the Go blog, "Telemetry in Go 1.23 and beyond"). No genuine report's
/// `Week` is older.
pub const FIRST_RELEASE: &str = "2023-05-01";

impl super::Format for GoTelemetry {
    fn name(&self) -> &'static str {
        "go-telemetry"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["upload_config", "plausible"]
    }

    fn configure(&self, keys: toml::Table, root: &Path) -> Result<Arc<dyn super::Spec>> {
        let keys: Keys = super::keys(self.name(), keys)?;
        let config = match keys.upload_config {
            Some(p) => UploadConfig::load(&root.join(p)).context("upload_config")?,
            None => UploadConfig::golang(),
        };
        Ok(Arc::new(Spec {
            config,
            window: Window::configure(keys.plausible, FIRST_RELEASE)?,
        }))
    }

    fn setting_for(&self, rule: &str) -> Option<&'static str> {
        rule.ends_with(".config").then_some("upload_config")
    }

    fn id_column(&self) -> (&'static str, &'static str) {
        ("reports", "x")
    }

    fn generate(&self, opts: &super::generate::Options) -> Vec<super::generate::Object> {
        generate::generate(opts)
    }
}

/// The server's largest accepted upload (`telemetrygodev`: 100 KiB).
const MAX_REPORT_BYTES: usize = 100 << 10;

/// The upload config (`golang.org/x/telemetry/config`), as far as validation needs it.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    goos: BTreeSet<String>,
    goarch: BTreeSet<String>,
    go_versions: BTreeSet<String>,
    programs: BTreeMap<String, ProgramConfig>,
}

#[derive(Debug, Clone, Default)]
struct ProgramConfig {
    versions: BTreeSet<String>,
    /// Every counter name, `{…}` expanded.
    counters: BTreeSet<String>,
    /// Stack counter names (the first line of a stack).
    stacks: BTreeSet<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(rename = "GOOS", default)]
    goos: Option<Vec<String>>,
    #[serde(rename = "GOARCH", default)]
    goarch: Option<Vec<String>>,
    #[serde(default)]
    go_version: Option<Vec<String>>,
    #[serde(default)]
    programs: Option<Vec<RawProgram>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawProgram {
    name: String,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    counters: Option<Vec<RawCounter>>,
    #[serde(default)]
    stacks: Option<Vec<RawCounter>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCounter {
    name: String,
}

/// `chart:{a,b}` → `chart:a`, `chart:b`; a name without `{` is itself (x/telemetry's `Expand`).
pub fn expand(counter: &str) -> Vec<String> {
    match counter.split_once('{') {
        Some((prefix, rest)) => rest
            .trim()
            .trim_end_matches('}')
            .split(',')
            .map(|b| format!("{prefix}{}", b.trim()))
            .collect(),
        None => vec![counter.to_string()],
    }
}

impl UploadConfig {
    pub fn parse(json: &str, origin: &str) -> Result<UploadConfig> {
        let raw: RawConfig = serde_json::from_str(json)
            .with_context(|| format!("{origin}: not a Go telemetry upload config"))?;
        let set = |v: Option<Vec<String>>| v.unwrap_or_default().into_iter().collect();
        let mut programs = BTreeMap::new();
        for p in raw.programs.unwrap_or_default() {
            let config = ProgramConfig {
                versions: set(p.versions),
                counters: p
                    .counters
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|c| expand(&c.name))
                    .collect(),
                stacks: p
                    .stacks
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.name)
                    .collect(),
            };
            if programs.insert(p.name.clone(), config).is_some() {
                bail!("{origin}: program {:?} is listed twice", p.name);
            }
        }
        Ok(UploadConfig {
            goos: set(raw.goos),
            goarch: set(raw.goarch),
            go_versions: set(raw.go_version),
            programs,
        })
    }

    pub fn load(path: &Path) -> Result<UploadConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read upload config {}", path.display()))?;
        UploadConfig::parse(&text, &path.display().to_string())
    }

    /// The real config (golang/telemetry `config/config.json`, see FORMATS.md §2.5).
    pub fn golang() -> UploadConfig {
        UploadConfig::parse(
            include_str!("upload_config.json"),
            "bundled Go upload config",
        )
        .expect("bundled upload config parses")
    }
}

/// One program's part of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramReport {
    pub program: String,
    pub version: String,
    pub go_version: String,
    pub goos: String,
    pub goarch: String,
    /// Sorted by name.
    pub counters: Vec<(String, i64)>,
    /// Sorted by name.
    pub stacks: Vec<(String, i64)>,
}

/// One valid report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub week: String,
    pub last_week: String,
    /// `X` as Go's `%g` writes it (the stored object's name): the report's id.
    pub x: String,
    pub config: String,
    pub programs: Vec<ProgramReport>,
}

/// Go's `%g` for a float64 in shortest form: plain decimals, an exponent below 1e-4.
pub fn go_g(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e21) {
        let e = format!("{x:e}");
        match e.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => e,
        }
    } else {
        format!("{x}")
    }
}

/// Go's `semver.IsValid`: `v` then MAJOR[.MINOR[.PATCH[-pre][+build]]].
fn is_go_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let number = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let parts: Vec<&str> = rest.splitn(3, '.').collect();
    match parts.as_slice() {
        [major] => number(major),
        [major, minor] => number(major) && number(minor),
        _ => semver::Version::parse(rest).is_ok(),
    }
}

fn string_field(obj: &Map<String, Value>, key: &str, required: bool) -> Result<String, Rejection> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) if !required => Ok(String::new()),
        None | Some(Value::Null) => Err(reject(
            format!("{key}.required"),
            format!("{key} is required"),
        )),
        Some(_) => Err(reject(
            format!("{key}.type"),
            format!("{key} must be a string"),
        )),
    }
}

fn counts(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Vec<(String, i64)>, Rejection> {
    let map = match obj.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(reject(
                format!("Programs.{key}.type"),
                format!("{path}.{key} must be an object"),
            ));
        }
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, v) in map {
        let n = v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
            reject(
                format!("Programs.{key}.value"),
                format!(
                    "{path}.{key}[{}] must be a non-negative integer (got {})",
                    shown(name),
                    shown(&v.to_string())
                ),
            )
        })?;
        out.push((name.clone(), n));
    }
    out.sort();
    Ok(out)
}

/// Decodes one report (one JSON document) and applies the server's rules.
pub fn decode_report(bytes: &[u8], config: &UploadConfig) -> Result<Report, Rejection> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(reject(
            "body.size",
            format!(
                "a report of {} bytes is over the server's {MAX_REPORT_BYTES}",
                bytes.len()
            ),
        ));
    }
    let obj = json_object(bytes)?;
    let week = string_field(&obj, "Week", true)?;
    if chrono::NaiveDate::parse_from_str(&week, "%Y-%m-%d").is_err() || week.len() != 10 {
        return Err(reject(
            "Week.date",
            format!("Week must be a date like 2024-09-26 (got {})", shown(&week)),
        ));
    }
    let last_week = string_field(&obj, "LastWeek", false)?;
    let config_version = string_field(&obj, "Config", false)?;
    if !is_go_semver(&config_version) {
        return Err(reject(
            "Config.semver",
            format!(
                "Config must be a semantic version like v0.31.0 (got {})",
                shown(&config_version)
            ),
        ));
    }
    let x = match obj.get("X") {
        None | Some(Value::Null) => 0.0,
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(_) => return Err(reject("X.type", "X must be a number")),
    };
    if x == 0.0 {
        return Err(reject("X.nonzero", "X must not be 0"));
    }
    if !(0.0..=1.0).contains(&x) {
        return Err(reject(
            "X.range",
            format!("X must be in [0, 1] (got {})", go_g(x)),
        ));
    }
    let items = match obj.get("Programs") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(reject("Programs.type", "Programs must be an array")),
    };
    let mut programs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("Programs[{i}]");
        let Value::Object(p) = item else {
            return Err(reject("Programs.type", format!("{path} must be an object")));
        };
        let field = |key: &str| {
            string_field(p, key, false).map_err(|r| Rejection {
                rule: format!("Programs.{}", r.rule),
                message: format!("{path}.{}", r.message),
            })
        };
        let program = ProgramReport {
            program: field("Program")?,
            version: field("Version")?,
            go_version: field("GoVersion")?,
            goos: field("GOOS")?,
            goarch: field("GOARCH")?,
            counters: counts(p, "Counters", &path)?,
            stacks: counts(p, "Stacks", &path)?,
        };
        let known = config.programs.get(&program.program);
        let checks = [
            ("GOOS", &program.goos, config.goos.contains(&program.goos)),
            (
                "GOARCH",
                &program.goarch,
                config.goarch.contains(&program.goarch),
            ),
            (
                "GoVersion",
                &program.go_version,
                config.go_versions.contains(&program.go_version),
            ),
            ("Program", &program.program, known.is_some()),
            (
                "Version",
                &program.version,
                known.is_some_and(|k| k.versions.contains(&program.version)),
            ),
        ];
        for (key, value, ok) in checks {
            if !ok {
                return Err(reject(
                    format!("Programs.{key}.config"),
                    format!("{path}.{key} {} is not in the upload config", shown(value)),
                ));
            }
        }
        let known = known.cloned().unwrap_or_default();
        if let Some((c, _)) = program
            .counters
            .iter()
            .find(|(c, _)| !known.counters.contains(c))
        {
            return Err(reject(
                "Programs.Counters.config",
                format!(
                    "{path}: counter {} is not in the upload config for {}",
                    shown(c),
                    shown(&program.program)
                ),
            ));
        }
        if let Some((s, _)) = program.stacks.iter().find(|(s, _)| {
            let prefix = s.split('\n').next().unwrap_or("");
            !known.stacks.contains(prefix)
        }) {
            return Err(reject(
                "Programs.Stacks.config",
                format!(
                    "{path}: stack {} is not in the upload config for {}",
                    shown(s.split('\n').next().unwrap_or("")),
                    shown(&program.program)
                ),
            ));
        }
        programs.push(program);
    }
    Ok(Report {
        week,
        last_week,
        x: go_g(x),
        config: config_version,
        programs,
    })
}

/// Checks the report's weeks against `window`; `stamp` is when the server stored the object
/// (its `last_modified`). `Week` is the day the counter files it sums expired, so the client
/// uploads it on that day or later; `LastWeek` is an earlier report's `Week`, checked when it
/// is a date (the server takes any text there, and so do we).
pub fn plausible(r: &Report, window: &Window, stamp: Option<i64>) -> Result<(), Rejection> {
    for (field, week) in [("Week", &r.week), ("LastWeek", &r.last_week)] {
        if let Some(t) = midnight(week).filter(|_| week.len() == 10) {
            window.check(field, t, stamp)?;
        }
    }
    Ok(())
}

/// Decodes an object: one report (pretty-printed or compact), or a merged day of one report per
/// line, and checks each report's weeks against `window` (`stamp`: the object's
/// `last_modified`). A broken or implausible line quarantines the whole object (the reason
/// names the line).
pub fn decode(
    bytes: &[u8],
    config: &UploadConfig,
    window: &Window,
    stamp: Option<i64>,
) -> Result<Vec<Report>, Rejection> {
    let one = |bytes: &[u8]| {
        let r = decode_report(bytes, config)?;
        plausible(&r, window, stamp)?;
        Ok(r)
    };
    // A whole document first: stored reports are one (possibly indented) JSON object.
    if let Ok(Value::Object(_)) = serde_json::from_slice::<Value>(bytes) {
        return one(bytes).map(|r| vec![r]);
    }
    let mut out = Vec::new();
    for (n, line) in lines(bytes) {
        out.push(one(line).map_err(|r| at_line(n, r))?);
    }
    if out.is_empty() {
        return Err(reject("empty", "the object holds no report"));
    }
    Ok(out)
}

#[derive(Debug)]
pub struct Spec {
    config: UploadConfig,
    window: Window,
}

fn s(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn build_columns() -> Vec<Field> {
    vec![
        s("week"),
        s("x"),
        s("program"),
        s("version"),
        s("go_version"),
        s("goos"),
        s("goarch"),
    ]
}

pub fn reports_schema() -> SchemaRef {
    let mut f = vec![s("week"), s("last_week"), s("x"), s("config")];
    f.extend(build_columns().into_iter().skip(2));
    f.extend([s("source"), s("object_key")]);
    Arc::new(Schema::new(f))
}

pub fn counters_schema() -> SchemaRef {
    let mut f = build_columns();
    f.extend([
        s("counter"),
        s("chart"),
        Field::new("bucket", DataType::Utf8, true),
        Field::new("value", DataType::Int64, false),
    ]);
    Arc::new(Schema::new(f))
}

pub fn stacks_schema() -> SchemaRef {
    let mut f = build_columns();
    f.extend([
        s("stack"),
        s("chart"),
        Field::new("bucket", DataType::Utf8, true),
        s("frames"),
        Field::new("value", DataType::Int64, false),
    ]);
    Arc::new(Schema::new(f))
}

pub fn tables() -> Vec<TableDef> {
    [
        ("reports", reports_schema()),
        ("counters", counters_schema()),
        ("stacks", stacks_schema()),
    ]
    .into_iter()
    .map(|(name, schema)| TableDef {
        name,
        schema,
        partitioned: true,
    })
    .collect()
}

/// `chart:bucket` split at the first `:`; a name without one is its own chart, bucket null.
pub fn split_counter(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((c, b)) => (c, Some(b)),
        None => (name, None),
    }
}

/// Columns every table repeats: the report and program that a row belongs to.
#[derive(Default)]
struct BuildCols {
    week: StringBuilder,
    x: StringBuilder,
    program: StringBuilder,
    version: StringBuilder,
    go_version: StringBuilder,
    goos: StringBuilder,
    goarch: StringBuilder,
}

impl BuildCols {
    fn push(&mut self, r: &Report, p: &ProgramReport) {
        self.week.append_value(&r.week);
        self.x.append_value(&r.x);
        self.program.append_value(&p.program);
        self.version.append_value(&p.version);
        self.go_version.append_value(&p.go_version);
        self.goos.append_value(&p.goos);
        self.goarch.append_value(&p.goarch);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.week.finish()),
            Arc::new(self.x.finish()),
            Arc::new(self.program.finish()),
            Arc::new(self.version.finish()),
            Arc::new(self.go_version.finish()),
            Arc::new(self.goos.finish()),
            Arc::new(self.goarch.finish()),
        ]
    }
}

fn reports_batch(rows: &[Located<Report>]) -> Result<RecordBatch> {
    let mut last_week = StringBuilder::new();
    let mut config = StringBuilder::new();
    let mut source = StringBuilder::new();
    let mut key = StringBuilder::new();
    let mut cols = BuildCols::default();
    for row in rows {
        for p in &row.record.programs {
            cols.push(row.record, p);
            last_week.append_value(&row.record.last_week);
            config.append_value(&row.record.config);
            source.append_value(row.source);
            key.append_value(row.key);
        }
    }
    let mut build = cols.finish().into_iter();
    let mut columns: Vec<ArrayRef> = Vec::new();
    columns.extend(build.next()); // week
    columns.push(Arc::new(last_week.finish()));
    columns.extend(build.next()); // x
    columns.push(Arc::new(config.finish()));
    columns.extend(build);
    columns.push(Arc::new(source.finish()));
    columns.push(Arc::new(key.finish()));
    Ok(RecordBatch::try_new(reports_schema(), columns)?)
}

fn counts_batch(rows: &[Located<Report>], stacks: bool) -> Result<RecordBatch> {
    let mut cols = BuildCols::default();
    let mut name = StringBuilder::new();
    let mut chart = StringBuilder::new();
    let mut bucket = StringBuilder::new();
    let mut frames = StringBuilder::new();
    let mut value = Int64Builder::new();
    for row in rows {
        for p in &row.record.programs {
            let entries = if stacks { &p.stacks } else { &p.counters };
            for (n, v) in entries {
                cols.push(row.record, p);
                name.append_value(n);
                let (first, rest) = n.split_once('\n').unwrap_or((n, ""));
                let (c, b) = split_counter(if stacks { first } else { n });
                chart.append_value(c);
                bucket.append_option(b);
                if stacks {
                    frames.append_value(rest);
                }
                value.append_value(*v);
            }
        }
    }
    let mut columns = cols.finish();
    columns.push(Arc::new(name.finish()));
    columns.push(Arc::new(chart.finish()));
    columns.push(Arc::new(bucket.finish()));
    if stacks {
        columns.push(Arc::new(frames.finish()));
    }
    columns.push(Arc::new(value.finish()));
    let schema = if stacks {
        stacks_schema()
    } else {
        counters_schema()
    };
    Ok(RecordBatch::try_new(schema, columns)?)
}

impl FormatSpec for Spec {
    type Record = Report;

    fn tables(&self) -> Vec<TableDef> {
        tables()
    }

    fn decode(&self, object: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Report>, Rejection> {
        decode(bytes, &self.config, &self.window, object.last_modified)
    }

    fn id(&self, r: &Report) -> String {
        r.x.clone()
    }

    fn date(&self, r: &Report) -> String {
        r.week.clone()
    }

    fn batch(&self, table: &str, rows: &[Located<Report>]) -> Result<RecordBatch> {
        match table {
            "reports" => reports_batch(rows),
            "counters" => counts_batch(rows, false),
            "stacks" => counts_batch(rows, true),
            other => bail!("the go-telemetry format has no table {other}"),
        }
    }
}

/// Counter names of a config, expanded, by program (for generators and tests).
pub fn configured_counters(config_json: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let raw: RawConfig = serde_json::from_str(config_json).context("not an upload config")?;
    Ok(raw
        .programs
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let names = p.counters.unwrap_or_default().into_iter().map(|c| c.name);
            (p.name, names.collect())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const REPORT: &str =
        include_str!("../../../fixtures/reference/go-telemetry/2024-09-26.upload-report.json");
    const MERGED: &str =
        include_str!("../../../fixtures/reference/go-telemetry/2024-09-26.merged.ndjson");
    const HOUR: i64 = 3_600_000_000_000;

    fn window() -> Window {
        Window::configure(None, FIRST_RELEASE).expect("window")
    }

    /// When the server stored the reference objects in these tests (after their weeks).
    fn stored() -> Option<i64> {
        midnight("2024-10-01")
    }

    fn with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(REPORT).expect("reference");
        edit(&mut v);
        v.to_string().into_bytes()
    }

    #[test]
    fn the_reference_report_and_merged_day_decode() {
        let config = UploadConfig::golang();
        let one = decode(REPORT.as_bytes(), &config, &window(), stored()).expect("report");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].x, "0.8839212453520185");
        assert_eq!(one[0].programs.len(), 3);
        let day = decode(MERGED.as_bytes(), &config, &window(), stored()).expect("merged");
        assert_eq!(day.len(), 2);
        assert_eq!(day[0], one[0]);
    }

    #[test]
    fn every_rule_rejects() {
        let (config, window) = (UploadConfig::golang(), window());
        crate::formats::rules::go_telemetry::table().check(include_str!("mod.rs"), &[], |o| {
            decode(&o.bytes, &config, &window, stored())
        });
    }

    #[test]
    fn a_week_minutes_ahead_of_the_store_is_kept_a_day_ahead_or_before_go_telemetry_is_not() {
        let (config, window) = (UploadConfig::golang(), window());
        let week = midnight("2024-09-26").expect("day");
        // A client clock a few minutes fast: the report's week starts after the store wrote it.
        let stamp = Some(week - 5 * 60 * 1_000_000_000);
        assert!(decode(REPORT.as_bytes(), &config, &window, stamp).is_ok());
        let r = decode(REPORT.as_bytes(), &config, &window, Some(week - 25 * HOUR))
            .expect_err("a day ahead of the store");
        assert_eq!(r.rule, "Week.plausible");
        assert!(r.message.contains("more than 24 h after"), "{}", r.message);
        let early = with(|v| v["Week"] = json!("2023-04-30"));
        let r = decode(&early, &config, &window, stored()).expect_err("before Go telemetry");
        assert_eq!(r.rule, "Week.plausible");
        assert!(r.message.contains("before 2023-05-01"), "{}", r.message);
        let last = with(|v| v["LastWeek"] = json!("2031-01-01"));
        let r = decode(&last, &config, &window, stored()).expect_err("LastWeek ahead");
        assert_eq!(r.rule, "LastWeek.plausible");
        // LastWeek is any text to the server; only a date is checked.
        let text = with(|v| v["LastWeek"] = json!("soon"));
        assert!(decode(&text, &config, &window, stored()).is_ok());
        // Without a time from the store only the lower bound holds.
        let late = with(|v| v["Week"] = json!("2031-01-01"));
        assert!(decode(&late, &config, &window, None).is_ok());
        // One implausible report quarantines its merged day, the reason naming the line.
        let day = format!(
            "{}\n{}\n",
            MERGED.lines().next().expect("a line"),
            String::from_utf8(late).expect("utf-8")
        );
        let r = decode(day.as_bytes(), &config, &window, stored()).expect_err("merged day");
        assert_eq!(r.rule, "Week.plausible");
        assert!(r.message.starts_with("line 2: Week "), "{}", r.message);
    }

    #[test]
    fn the_window_is_configured_per_source() {
        use crate::formats::Format;
        let spec = |keys: &str| {
            let table: toml::Table = toml::from_str(keys).expect("toml");
            GoTelemetry.configure(table, Path::new("."))
        };
        let info = |last_modified| ObjectInfo {
            key: "2024-09-26/0.8839212453520185.json",
            last_modified,
        };
        let week = midnight("2024-09-26").expect("day");
        let later = spec("plausible = { not_before = \"2024-09-27\" }").expect("spec");
        let r = later
            .decode(&info(stored()), REPORT.as_bytes())
            .expect_err("before not_before");
        assert_eq!(r.rule, "Week.plausible");
        let close = spec("plausible = { ahead_hours = 1 }").expect("spec");
        assert!(
            close
                .decode(&info(Some(week - HOUR)), REPORT.as_bytes())
                .is_ok()
        );
        let r = close
            .decode(&info(Some(week - 2 * HOUR)), REPORT.as_bytes())
            .expect_err("2 h ahead");
        assert_eq!(r.rule, "Week.plausible");
        let defaults = spec("").expect("spec");
        assert!(defaults.decode(&info(stored()), REPORT.as_bytes()).is_ok());
        let e = spec("plausible = { not_before = \"2024-13-01\" }").expect_err("bad day");
        assert!(format!("{e:#}").contains("plausible.not_before"), "{e:#}");
        let e = spec("plausible = { after = 1 }").expect_err("unknown key");
        assert!(format!("{e:#}").contains("after"), "{e:#}");
    }

    #[test]
    fn x_is_written_as_go_does() {
        assert_eq!(go_g(0.8839212453520185), "0.8839212453520185");
        assert_eq!(go_g(0.00001234), "1.234e-05");
        assert_eq!(go_g(1.0), "1");
    }

    #[test]
    fn counters_split_at_the_first_colon_and_configs_expand() {
        assert_eq!(split_counter("a/b:<50ms"), ("a/b", Some("<50ms")));
        assert_eq!(split_counter("go/invocations"), ("go/invocations", None));
        assert_eq!(expand("c:{a,b}"), ["c:a", "c:b"]);
        assert!(is_go_semver("v1") && is_go_semver("v0.31.0") && is_go_semver("v1.2.3-pre+b"));
        assert!(!is_go_semver("1.2.3") && !is_go_semver("v01.2") && !is_go_semver(""));
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let (config, window) = (UploadConfig::golang(), window());
        for bytes in [
            &b"\xff\xfe"[..],
            b"{",
            b"null",
            b"{\"X\":1e999}",
            b"{\"Programs\":[null]}",
        ] {
            assert!(decode(bytes, &config, &window, stored()).is_err());
        }
    }
}
