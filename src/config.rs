//! `report.toml`: where the objects come from, where the warehouse lives, where the site goes.
//!
//! The file is read once and resolved, together with `REPORT_*` environment variables and
//! command-line overrides, into [`Settings`]: the plain struct every later stage sees.
//! Relative paths are resolved against the folder that holds `report.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The file as written. Unknown keys are errors (`deny_unknown_fields` on every table).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Folder of Hive-partitioned Parquet tables plus `manifest.json`.
    #[serde(default = "default_warehouse")]
    warehouse: String,
    /// Folder the static site is written to.
    #[serde(default = "default_output")]
    output: String,
    /// Folder of `*.sql` files, one view each.
    #[serde(default = "default_queries")]
    queries: String,
    /// Folder of `*.toml` report definitions.
    #[serde(default = "default_reports")]
    reports: String,
    #[serde(default)]
    pull: PullFile,
    #[serde(default, rename = "source")]
    sources: Vec<SourceFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PullFile {
    concurrency: Option<usize>,
    batch_size: Option<usize>,
    retries: Option<usize>,
    keys_in_memory: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    name: String,
    format: Format,
    url: String,
    #[serde(default)]
    prefix: Option<String>,
    /// Application ids the Abacus server accepts; anything else is quarantined.
    #[serde(default)]
    application_ids: Option<Vec<String>>,
    /// BigQuery-style attribute schema files (`[{"name":…,"type":…}]`).
    #[serde(default)]
    session_attributes: Option<String>,
    #[serde(default)]
    event_attributes: Option<String>,
    #[serde(default)]
    span_attributes: Option<String>,
    /// `go-telemetry`: the upload config reports are checked against (the real one by default).
    #[serde(default)]
    upload_config: Option<String>,
    /// `pace`: where a snapshot's write time comes from: `last_modified` (the store's, by
    /// default) or `key` (a `YYYYMMDDTHHMMSSZ` stamp in the object key).
    #[serde(default)]
    written_at: Option<WrittenAt>,
    /// Options handed to object_store's builder (`aws_endpoint`, `aws_region`, `allow_http`, …).
    #[serde(default)]
    options: BTreeMap<String, String>,
}

fn default_warehouse() -> String {
    "warehouse".into()
}
fn default_output() -> String {
    "site".into()
}
fn default_queries() -> String {
    "queries".into()
}
fn default_reports() -> String {
    "reports".into()
}

/// Telemetry formats a source can hold. Each has a decoder in `pull/`, registered in `pull::pull_source` and `pull::all_tables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Batect/Abacus session objects (`v1/<app>/<version>/<sessionId>.json`).
    Abacus,
    /// Go telemetry upload reports (`<Week>/<X>.json`) and merged days (NDJSON).
    GoTelemetry,
    /// PACE CLI cumulative per-install snapshots (JSON as uploaded, YAML as stored locally).
    Pace,
    /// Open edX devstack Segment track events (NDJSON or one event per object).
    Devstack,
}

impl Format {
    /// Every format, in the order their tables are registered.
    pub const ALL: [Format; 4] = [
        Format::Abacus,
        Format::GoTelemetry,
        Format::Pace,
        Format::Devstack,
    ];

    /// The format named `name` (as in `report.toml`).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The name used in `report.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Abacus => "abacus",
            Format::GoTelemetry => "go-telemetry",
            Format::Pace => "pace",
            Format::Devstack => "devstack",
        }
    }
}

/// Where a PACE snapshot's write time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrittenAt {
    /// The object's `last_modified`, as the store reports it.
    #[default]
    LastModified,
    /// A `YYYYMMDDTHHMMSSZ` stamp in the object key (for stores that name objects by time,
    /// and for fixtures kept in git, whose file times are those of the checkout).
    Key,
}

/// Everything the pipeline needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Folder that holds `report.toml`; relative paths start here.
    pub root: PathBuf,
    pub warehouse: PathBuf,
    pub output: PathBuf,
    pub queries: PathBuf,
    pub reports: PathBuf,
    pub sources: Vec<Source>,
    pub pull: PullSettings,
}

#[derive(Debug, Clone)]
pub struct PullSettings {
    /// Object GETs in flight at once.
    pub concurrency: usize,
    /// Sessions held in memory before they are written out as Parquet.
    pub batch_size: usize,
    /// Times one request is retried (exponential backoff) on 5xx, 429, timeouts and resets.
    pub retries: usize,
    /// Listed keys sorted in memory; a longer listing is sorted in runs written under the
    /// warehouse folder.
    pub keys_in_memory: usize,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            concurrency: 32,
            batch_size: 10_000,
            retries: 5,
            keys_in_memory: 500_000,
        }
    }
}

#[derive(Clone)]
pub struct Source {
    pub name: String,
    pub format: Format,
    /// A URL (`s3://…`, `gs://…`, `az://…`, `https://…`, `file://…`) or a local path,
    /// resolved against the project root.
    pub url: String,
    pub prefix: Option<String>,
    pub application_ids: Vec<String>,
    pub session_attributes: Option<PathBuf>,
    pub event_attributes: Option<PathBuf>,
    pub span_attributes: Option<PathBuf>,
    pub upload_config: Option<PathBuf>,
    pub written_at: WrittenAt,
    pub options: BTreeMap<String, String>,
}

impl Source {
    /// A source of `format` with every optional setting at its default.
    pub fn new(name: &str, format: Format, url: &str) -> Source {
        Source {
            name: name.to_string(),
            format,
            url: url.to_string(),
            prefix: None,
            application_ids: ABACUS_APPLICATION_IDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            session_attributes: None,
            event_attributes: None,
            span_attributes: None,
            upload_config: None,
            written_at: WrittenAt::default(),
            options: BTreeMap::new(),
        }
    }
}

/// Shows option values only for keys that cannot hold a credential.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: BTreeMap<&str, &str> = self
            .options
            .iter()
            .map(|(k, v)| {
                let shown = if crate::pull::store::is_secret_option(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("url", &crate::pull::store::redact(&self.url))
            .field("prefix", &self.prefix)
            .field("application_ids", &self.application_ids)
            .field("session_attributes", &self.session_attributes)
            .field("event_attributes", &self.event_attributes)
            .field("span_attributes", &self.span_attributes)
            .field("upload_config", &self.upload_config)
            .field("written_at", &self.written_at)
            .field("options", &options)
            .finish()
    }
}

/// Overrides from the command line; `None` leaves the file's (or environment's) value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub warehouse: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub source: Option<String>,
}

/// The default Abacus allow-list (`server/types/session.go`).
pub const ABACUS_APPLICATION_IDS: [&str; 3] = ["batect", "test-app", "smoke-test-app"];

impl Settings {
    /// Reads `path` and resolves it with the process environment and `overrides`.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("REPORT_"))
            .collect();
        Settings::parse(&text, path, &env, overrides)
    }

    /// Parses config text; `env` holds the `REPORT_*` variables (so tests pass their own).
    pub fn parse(
        text: &str,
        path: &Path,
        env: &BTreeMap<String, String>,
        overrides: &Overrides,
    ) -> Result<Settings> {
        let file: File =
            toml::from_str(text).with_context(|| format!("invalid config {}", path.display()))?;
        let root = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let pick = |flag: &Option<PathBuf>, var: &str, file_value: &str| -> PathBuf {
            match (flag, env.get(var)) {
                (Some(p), _) => p.clone(),
                (None, Some(v)) => PathBuf::from(v),
                (None, None) => root.join(file_value),
            }
        };
        let mut names = std::collections::BTreeSet::new();
        let mut sources = Vec::new();
        for s in file.sources {
            if !names.insert(s.name.clone()) {
                bail!(
                    "{}: two sources are named {:?}; names must be unique",
                    path.display(),
                    s.name
                );
            }
            if s.name.is_empty()
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!(
                    "{}: source name {:?} must be letters, digits, '-' or '_'",
                    path.display(),
                    s.name
                );
            }
            let env_url = format!(
                "REPORT_SOURCE_{}_URL",
                s.name.to_uppercase().replace('-', "_")
            );
            let url = env.get(&env_url).cloned().unwrap_or(s.url);
            let url = resolve_url(&root, &url);
            let rel = |p: Option<String>| p.map(|p| root.join(p));
            let only_for = |set: bool, key: &str, format: Format| -> Result<()> {
                if set && s.format != format {
                    bail!(
                        "{}: source {:?}: `{key}` applies to format {:?} only, not {:?}",
                        path.display(),
                        s.name,
                        format.name(),
                        s.format.name()
                    );
                }
                Ok(())
            };
            for (set, key) in [
                (s.application_ids.is_some(), "application_ids"),
                (s.session_attributes.is_some(), "session_attributes"),
                (s.event_attributes.is_some(), "event_attributes"),
                (s.span_attributes.is_some(), "span_attributes"),
            ] {
                only_for(set, key, Format::Abacus)?;
            }
            only_for(
                s.upload_config.is_some(),
                "upload_config",
                Format::GoTelemetry,
            )?;
            only_for(s.written_at.is_some(), "written_at", Format::Pace)?;
            sources.push(Source {
                name: s.name,
                format: s.format,
                url,
                prefix: s.prefix,
                application_ids: s.application_ids.unwrap_or_else(|| {
                    ABACUS_APPLICATION_IDS
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                }),
                session_attributes: rel(s.session_attributes),
                event_attributes: rel(s.event_attributes),
                span_attributes: rel(s.span_attributes),
                upload_config: rel(s.upload_config),
                written_at: s.written_at.unwrap_or_default(),
                options: s.options,
            });
        }
        if let Some(url) = overrides.source.as_ref().or(env.get("REPORT_SOURCE_URL")) {
            match sources.as_mut_slice() {
                [one] => one.url = url.clone(),
                _ => bail!(
                    "--source (or REPORT_SOURCE_URL) replaces the URL of the only source, but {} names {} sources",
                    path.display(),
                    sources.len()
                ),
            }
        }
        let defaults = PullSettings::default();
        let pull = PullSettings {
            concurrency: file.pull.concurrency.unwrap_or(defaults.concurrency).max(1),
            batch_size: file.pull.batch_size.unwrap_or(defaults.batch_size).max(1),
            retries: file.pull.retries.unwrap_or(defaults.retries),
            keys_in_memory: file
                .pull
                .keys_in_memory
                .unwrap_or(defaults.keys_in_memory)
                .max(1),
        };
        Ok(Settings {
            warehouse: pick(&overrides.warehouse, "REPORT_WAREHOUSE", &file.warehouse),
            output: pick(&overrides.output, "REPORT_OUTPUT", &file.output),
            queries: root.join(&file.queries),
            reports: root.join(&file.reports),
            root,
            sources,
            pull,
        })
    }
}

/// URLs with a scheme are kept; anything else is a local path relative to `root`.
fn resolve_url(root: &Path, url: &str) -> String {
    if url.contains("://") {
        url.to_string()
    } else {
        root.join(url).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings> {
        Settings::parse(
            text,
            Path::new("proj/report.toml"),
            &BTreeMap::new(),
            &Overrides::default(),
        )
    }

    #[test]
    fn resolves_paths_against_the_config_folder() {
        let s = parse(
            r#"
            warehouse = "wh"
            [[source]]
            name = "batect"
            format = "abacus"
            url = "fixtures/abacus"
            "#,
        )
        .expect("valid");
        assert_eq!(s.warehouse, PathBuf::from("proj/wh"));
        assert_eq!(s.output, PathBuf::from("proj/site"));
        assert_eq!(s.sources[0].url, "proj/fixtures/abacus");
        assert_eq!(s.sources[0].application_ids.len(), 3);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let err = parse("warehose = 'x'").expect_err("unknown key");
        let text = format!("{err:#}");
        assert!(text.contains("warehose"), "{text}");
        assert!(text.contains("proj/report.toml"), "{text}");
        let err = parse("[[source]]\nname='a'\nformat='abacus'\nurl='x'\nbucket='y'")
            .expect_err("unknown source key");
        assert!(format!("{err:#}").contains("bucket"));
    }

    #[test]
    fn unknown_format_is_an_error() {
        let err = parse("[[source]]\nname='a'\nformat='csv'\nurl='x'").expect_err("unknown format");
        assert!(format!("{err:#}").contains("csv"));
    }

    #[test]
    fn environment_and_flags_override_the_file() {
        let env = BTreeMap::from([
            ("REPORT_WAREHOUSE".to_string(), "/tmp/wh".to_string()),
            (
                "REPORT_SOURCE_BATECT_URL".to_string(),
                "s3://bucket/x".to_string(),
            ),
        ]);
        let text = "[[source]]\nname='batect'\nformat='abacus'\nurl='local'";
        let s = Settings::parse(text, Path::new("report.toml"), &env, &Overrides::default())
            .expect("valid");
        assert_eq!(s.warehouse, PathBuf::from("/tmp/wh"));
        assert_eq!(s.sources[0].url, "s3://bucket/x");
        let flags = Overrides {
            warehouse: Some(PathBuf::from("flag")),
            ..Overrides::default()
        };
        let s = Settings::parse(text, Path::new("report.toml"), &env, &flags).expect("valid");
        assert_eq!(s.warehouse, PathBuf::from("flag"));
    }

    #[test]
    fn pull_settings_and_store_options_are_read_and_secrets_never_shown() {
        let s = parse(
            r#"
            [pull]
            concurrency = 8
            batch_size = 500
            retries = 2
            [[source]]
            name = "batect"
            format = "abacus"
            url = "s3://user:pw@telemetry/raw?token=abc"
            options = { aws_endpoint = "http://127.0.0.1:9000", aws_secret_access_key = "hunter2-secret" }
            "#,
        )
        .expect("valid");
        assert_eq!(
            (s.pull.concurrency, s.pull.batch_size, s.pull.retries),
            (8, 500, 2)
        );
        assert_eq!(
            s.sources[0].options["aws_endpoint"],
            "http://127.0.0.1:9000"
        );
        let shown = format!("{s:?}");
        assert!(shown.contains("http://127.0.0.1:9000"), "{shown}");
        for secret in ["hunter2-secret", "user:pw", "token=abc"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn sources_of_several_formats_live_side_by_side() {
        let s = parse(
            r#"
            [[source]]
            name = "batect"
            format = "abacus"
            url = "fixtures/abacus"
            [[source]]
            name = "go"
            format = "go-telemetry"
            url = "fixtures/go-telemetry"
            upload_config = "go/upload_config.json"
            [[source]]
            name = "pace"
            format = "pace"
            url = "fixtures/pace"
            written_at = "key"
            [[source]]
            name = "devstack"
            format = "devstack"
            url = "fixtures/devstack"
            "#,
        )
        .expect("valid");
        let formats: Vec<Format> = s.sources.iter().map(|s| s.format).collect();
        assert_eq!(formats, Format::ALL);
        assert_eq!(
            s.sources[1].upload_config,
            Some(PathBuf::from("proj/go/upload_config.json"))
        );
        assert_eq!(s.sources[2].written_at, WrittenAt::Key);
        assert_eq!(s.sources[3].written_at, WrittenAt::LastModified);
    }

    #[test]
    fn format_specific_keys_on_another_format_are_errors() {
        let err = parse("[[source]]\nname='p'\nformat='pace'\nurl='x'\nupload_config='c.json'")
            .expect_err("wrong format");
        let text = format!("{err:#}");
        assert!(
            text.contains("upload_config") && text.contains("go-telemetry"),
            "{text}"
        );
        let err =
            parse("[[source]]\nname='g'\nformat='go-telemetry'\nurl='x'\napplication_ids=['a']")
                .expect_err("wrong format");
        assert!(format!("{err:#}").contains("application_ids"));
    }

    #[test]
    fn duplicate_source_names_are_errors() {
        let one = "[[source]]\nname='a'\nformat='abacus'\nurl='x'\n";
        let err = parse(&format!("{one}{one}")).expect_err("duplicate");
        assert!(format!("{err:#}").contains("\"a\""));
    }
}
