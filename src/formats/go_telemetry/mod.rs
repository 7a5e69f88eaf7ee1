//! The Go telemetry format (golang.org/x/telemetry): upload reports as the server stores them
//! (`<Week>/<X>.json`, one report per object) and merged days (`<date>.json`, NDJSON, one
//! report per line), decoded and validated as `godev/cmd/telemetrygodev` validates an upload
//! (FORMATS.md §2.3): `Week` is a date, `Config` is semver, `X` is not 0, and every program
//! build, counter and stack prefix is in the upload config.
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
}

impl super::Format for GoTelemetry {
    fn name(&self) -> &'static str {
        "go-telemetry"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["upload_config"]
    }

    fn configure(&self, keys: toml::Table, root: &Path) -> Result<Arc<dyn super::Spec>> {
        let keys: Keys = super::keys(self.name(), keys)?;
        let config = match keys.upload_config {
            Some(p) => UploadConfig::load(&root.join(p)).context("upload_config")?,
            None => UploadConfig::golang(),
        };
        Ok(Arc::new(Spec { config }))
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

/// Decodes an object: one report (pretty-printed or compact), or a merged day of one report per
/// line. A broken line quarantines the whole object (the reason names the line).
pub fn decode(bytes: &[u8], config: &UploadConfig) -> Result<Vec<Report>, Rejection> {
    // A whole document first: stored reports are one (possibly indented) JSON object.
    if let Ok(Value::Object(_)) = serde_json::from_slice::<Value>(bytes) {
        return decode_report(bytes, config).map(|r| vec![r]);
    }
    let mut out = Vec::new();
    for (n, line) in lines(bytes) {
        out.push(decode_report(line, config).map_err(|r| at_line(n, r))?);
    }
    if out.is_empty() {
        return Err(reject("empty", "the object holds no report"));
    }
    Ok(out)
}

#[derive(Debug)]
pub struct Spec {
    config: UploadConfig,
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

    fn decode(&self, _: &ObjectInfo, bytes: &[u8]) -> Result<Vec<Report>, Rejection> {
        decode(bytes, &self.config)
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
    use super::*;

    const REPORT: &str =
        include_str!("../../../fixtures/reference/go-telemetry/2024-09-26.upload-report.json");
    const MERGED: &str =
        include_str!("../../../fixtures/reference/go-telemetry/2024-09-26.merged.ndjson");

    #[test]
    fn the_reference_report_and_merged_day_decode() {
        let config = UploadConfig::golang();
        let one = decode(REPORT.as_bytes(), &config).expect("report");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].x, "0.8839212453520185");
        assert_eq!(one[0].programs.len(), 3);
        let day = decode(MERGED.as_bytes(), &config).expect("merged");
        assert_eq!(day.len(), 2);
        assert_eq!(day[0], one[0]);
    }

    #[test]
    fn every_rule_rejects() {
        let config = UploadConfig::golang();
        crate::formats::rules::go_telemetry::table()
            .check(include_str!("mod.rs"), &[], |o| decode(&o.bytes, &config));
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
        let config = UploadConfig::golang();
        for bytes in [
            &b"\xff\xfe"[..],
            b"{",
            b"null",
            b"{\"X\":1e999}",
            b"{\"Programs\":[null]}",
        ] {
            assert!(decode(bytes, &config).is_err());
        }
    }
}
