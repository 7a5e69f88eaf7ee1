//! `report.toml`: where the objects come from, where the warehouse lives, where the site goes.
//!
//! The file is read once and resolved, together with `REPORT_*` environment variables and
//! command-line overrides, into [`Settings`]: the plain struct every later stage sees.
//! Relative paths are resolved against the folder that holds `report.toml`. What the settings
//! point at is resolved here too: each source's format is configured (its attribute schemas or
//! upload config loaded), and the table catalog is derived once, so stages take data, not paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use url::Url;

use crate::formats::{self, Format, Spec, TableDef};

/// The file as written. Unknown keys are errors (`deny_unknown_fields` on every table).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Where the warehouse lives: a bucket URL (`s3://bucket/prefix`, `gs://…`, `az://…`) or
    /// a local folder.
    #[serde(default = "default_warehouse")]
    warehouse: String,
    /// Options of the warehouse's store, as a source's `options`.
    #[serde(default)]
    warehouse_options: StoreOptions,
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
    #[serde(default)]
    privacy: PrivacyFile,
    #[serde(default, rename = "source")]
    sources: Vec<toml::Spanned<toml::Table>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PullFile {
    concurrency: Option<usize>,
    batch_size: Option<usize>,
    retries: Option<usize>,
    target_file_mb: Option<u64>,
    grace_minutes: Option<u64>,
    deadline_minutes: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyFile {
    min_installations: Option<u64>,
}

/// The keys every `[[source]]` has; the rest belong to its format (see [`formats::Format`]).
#[derive(Debug, Deserialize)]
struct SourceFile {
    name: String,
    format: String,
    url: String,
    #[serde(default)]
    prefix: Option<String>,
    /// Options handed to object_store's builder (`aws_endpoint`, `aws_region`, `allow_http`, …).
    #[serde(default)]
    options: BTreeMap<String, String>,
}

const SOURCE_KEYS: [&str; 5] = ["name", "format", "url", "prefix", "options"];

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

/// Options handed to object_store's builder; `Debug` never shows a credential's value.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct StoreOptions(pub BTreeMap<String, String>);

impl std::ops::Deref for StoreOptions {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = if is_secret_option(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k, shown)
            }))
            .finish()
    }
}

/// Everything the pipeline needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Folder that holds `report.toml`; relative paths start here.
    pub root: PathBuf,
    /// The warehouse's URL, or a local folder (resolved against the root).
    pub warehouse: String,
    pub warehouse_options: StoreOptions,
    pub output: PathBuf,
    pub queries: PathBuf,
    pub reports: PathBuf,
    pub sources: Vec<Source>,
    pub pull: PullSettings,
    /// `[privacy]`: what the guard publishes.
    pub privacy: PrivacySettings,
    /// Every format's tables, typed as its sources configure them (or by its defaults when no
    /// source has the format): what a query can read.
    pub catalog: Vec<TableDef>,
}

/// `[privacy]`: what the privacy guard publishes (see `privacy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacySettings {
    /// A published cell stands for at least this many distinct installations.
    pub min_installations: u64,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            min_installations: 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PullSettings {
    /// Object GETs in flight at once.
    pub concurrency: usize,
    /// Sessions held in memory before they are written out as Parquet.
    pub batch_size: usize,
    /// Times one request is retried (exponential backoff) on 5xx, 429, timeouts and resets.
    pub retries: usize,
    /// A compaction merges a day's small files into files of about this size.
    pub target_file_bytes: u64,
    /// Files a commit removed (or no commit named) are deleted this long after.
    pub grace_seconds: u64,
    /// How long a pull waits on its sources at most: objects not fetched by then are
    /// reported as failed (and tried again by the next pull).
    pub deadline: std::time::Duration,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            concurrency: 32,
            batch_size: 10_000,
            retries: 5,
            target_file_bytes: 64 << 20,
            grace_seconds: 3600,
            deadline: std::time::Duration::from_secs(2 * 3600),
        }
    }
}

#[derive(Clone)]
pub struct Source {
    pub name: String,
    pub format: &'static dyn Format,
    /// A URL (`s3://…`, `gs://…`, `az://…`, `https://…`, `file://…`) or a local path,
    /// resolved against the project root.
    pub url: String,
    pub prefix: Option<String>,
    pub options: BTreeMap<String, String>,
    /// The format as this source configures it (its rules and tables, the files its keys
    /// name already loaded).
    pub spec: Arc<dyn Spec>,
}

impl Source {
    /// A source of `format` with every optional setting at its default.
    pub fn new(name: &str, format: &'static dyn Format, url: &str) -> Result<Source> {
        Ok(Source {
            name: name.to_string(),
            format,
            url: url.to_string(),
            prefix: None,
            options: BTreeMap::new(),
            spec: format.configure(toml::Table::new(), Path::new("."))?,
        })
    }
}

/// Shows option values only for keys that cannot hold a credential.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: BTreeMap<&str, &str> = self
            .options
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_option(k) {
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
            .field("url", &redact(&self.url))
            .field("prefix", &self.prefix)
            .field("options", &options)
            .field("spec", &self.spec)
            .finish()
    }
}

/// Overrides from the command line; `None` leaves the file's (or environment's) value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub warehouse: Option<String>,
    pub output: Option<PathBuf>,
    pub source: Option<String>,
}

impl Settings {
    /// Reads `path` and resolves it with the process environment and `overrides`.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Settings::parse(&text, path, &report_env(), overrides)
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
        for spanned in file.sources {
            let span = spanned.span();
            let at = |message: String| AtSpan {
                span: span.clone(),
                message,
            };
            let mut table = spanned.into_inner();
            let own: toml::Table = SOURCE_KEYS
                .iter()
                .filter_map(|k| table.remove(*k).map(|v| (k.to_string(), v)))
                .collect();
            let s: SourceFile = toml::Value::Table(own)
                .try_into()
                .map_err(|e| at(format!("{}: {}", path.display(), e.message().trim())))?;
            if !names.insert(s.name.clone()) {
                bail!(at(format!(
                    "{}: two sources are named {:?}; names must be unique",
                    path.display(),
                    s.name
                )));
            }
            if s.name.is_empty()
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!(at(format!(
                    "{}: source name {:?} must be letters, digits, '-' or '_'",
                    path.display(),
                    s.name
                )));
            }
            let Some(format) = formats::by_name(&s.format) else {
                bail!(at(format!(
                    "{}: source {:?}: unknown format {:?} (one of: {})",
                    path.display(),
                    s.name,
                    s.format,
                    formats::names().join(", ")
                )));
            };
            for key in table.keys() {
                if let Some(owner) = formats::FORMATS
                    .iter()
                    .find(|f| f.name() != format.name() && f.keys().contains(&key.as_str()))
                {
                    bail!(at(format!(
                        "{}: source {:?}: `{key}` applies to format {:?} only, not {:?}",
                        path.display(),
                        s.name,
                        owner.name(),
                        format.name()
                    )));
                }
            }
            let spec = format
                .configure(table, &root)
                .map_err(|e| at(format!("{}: source {:?}: {e:#}", path.display(), s.name)))?;
            let env_url = format!(
                "REPORT_SOURCE_{}_URL",
                s.name.to_uppercase().replace('-', "_")
            );
            let url = env.get(&env_url).cloned().unwrap_or(s.url);
            sources.push(Source {
                url: resolve_url(&root, &url),
                name: s.name,
                format,
                prefix: s.prefix,
                options: s.options,
                spec,
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
            target_file_bytes: file
                .pull
                .target_file_mb
                .map_or(defaults.target_file_bytes, |mb| mb.max(1) << 20),
            grace_seconds: file
                .pull
                .grace_minutes
                .map_or(defaults.grace_seconds, |m| m * 60),
            deadline: match file.pull.deadline_minutes {
                None => defaults.deadline,
                Some(m) if m.is_finite() && m > 0.0 && m < 1e9 => {
                    std::time::Duration::from_secs_f64(m * 60.0)
                }
                Some(m) => bail!(
                    "{}: [pull] deadline_minutes must be a positive number of minutes, not {m}",
                    path.display()
                ),
            },
        };
        let privacy = match file.privacy.min_installations {
            None => PrivacySettings::default(),
            Some(0) => bail!(
                "{}: [privacy] min_installations must be at least 1 (1 publishes every group)",
                path.display()
            ),
            Some(n) => PrivacySettings {
                min_installations: n,
            },
        };
        let catalog = catalog(&sources, &root, path)?;
        Ok(Settings {
            warehouse: match (&overrides.warehouse, env.get("REPORT_WAREHOUSE")) {
                (Some(w), _) => w.clone(),
                (None, Some(w)) => w.clone(),
                (None, None) => resolve_url(&root, &file.warehouse),
            },
            warehouse_options: file.warehouse_options,
            output: pick(&overrides.output, "REPORT_OUTPUT", &file.output),
            queries: root.join(&file.queries),
            reports: root.join(&file.reports),
            root,
            sources,
            pull,
            privacy,
            catalog,
        })
    }
}

/// Every format's tables: those of its first source, or its defaults when no source has it.
/// Sources of one format share its tables, so they must type them alike.
fn catalog(sources: &[Source], root: &Path, path: &Path) -> Result<Vec<TableDef>> {
    let mut out = Vec::new();
    for format in formats::FORMATS {
        let mut of_format = sources.iter().filter(|s| s.format == format);
        let tables = match of_format.next() {
            Some(first) => {
                let tables = first.spec.tables();
                for other in of_format {
                    if !same_tables(&tables, &other.spec.tables()) {
                        bail!(
                            "{}: sources {:?} and {:?} are both {:?} but type its tables differently (their attribute schemas differ); they share the tables, so give them the same schemas",
                            path.display(),
                            first.name,
                            other.name,
                            format.name()
                        );
                    }
                }
                tables
            }
            None => format
                .configure(toml::Table::new(), root)
                .with_context(|| format!("the defaults of format {:?}", format.name()))?
                .tables(),
        };
        out.extend(tables);
    }
    Ok(out)
}

fn same_tables(a: &[TableDef], b: &[TableDef]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.name == y.name && x.schema == y.schema)
}

/// An error at a place in `report.toml` (a byte span of its text), so `report check` can say
/// the line.
#[derive(Debug)]
pub struct AtSpan {
    pub span: std::ops::Range<usize>,
    pub message: String,
}

impl std::fmt::Display for AtSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AtSpan {}
/// The URL without user info, query string or fragment, which may hold credentials. A text
/// with a scheme that does not parse as a URL loses the same parts by its text: everything
/// before the last `@` of its authority, and everything from the first `?` or `#`.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        _ => match url.split_once("://") {
            Some((scheme, rest)) => {
                let rest = rest.split(['?', '#']).next().unwrap_or_default();
                // The authority ends at the first `/` after its last `@` (a password may hold
                // a `/`, a path rarely holds an `@` before a `/`).
                let rest = match rest.rfind('@') {
                    Some(at) => &rest[at + 1..],
                    None => rest,
                };
                format!("{scheme}://{rest}")
            }
            None => url.to_string(),
        },
    }
}

/// Whether an option key names a credential (its value is never shown).
pub fn is_secret_option(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "key",
        "token",
        "password",
        "sas",
        "sig",
        "credential",
        "account",
    ]
    .iter()
    .any(|s| k.contains(s))
        && !k.ends_with("_name")
        && !k.contains("endpoint")
}

/// The process's `REPORT_*` variables. An empty one counts as unset, so a workflow can pass
/// `${{ vars.X }}` whether or not the repository defines `X`.
pub fn report_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, v)| k.starts_with("REPORT_") && !v.is_empty())
        .collect()
}

/// The name of the project file.
pub const FILE_NAME: &str = "report.toml";

/// The project file: `explicit` (`--config`), else `REPORT_CONFIG` (unless empty), as given;
/// else `report.toml` in the current folder or the nearest folder above it, as cargo and git
/// find theirs.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("REPORT_CONFIG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    find_upwards(&cwd).with_context(|| {
        format!(
            "no {FILE_NAME} in {} or any folder above it (`report init` makes one; --config names another)",
            cwd.display()
        )
    })
}

/// `report.toml` in `start` or its nearest ancestor, as a path relative to `start`
/// (`report.toml`, `../report.toml`, …), so messages name files as the user sees them.
fn find_upwards(start: &Path) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for dir in start.ancestors() {
        if dir.join(FILE_NAME).is_file() {
            return Some(relative.join(FILE_NAME));
        }
        relative.push("..");
    }
    None
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
        assert_eq!(s.warehouse, "proj/wh");
        assert_eq!(s.output, PathBuf::from("proj/site"));
        assert_eq!(s.sources[0].url, "proj/fixtures/abacus");
        let spec = format!("{:?}", s.sources[0].spec);
        assert!(spec.contains("application_ids: None"), "{spec}");
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
        assert_eq!(s.warehouse, "/tmp/wh");
        assert_eq!(s.sources[0].url, "s3://bucket/x");
        let flags = Overrides {
            warehouse: Some("flag".into()),
            ..Overrides::default()
        };
        let s = Settings::parse(text, Path::new("report.toml"), &env, &flags).expect("valid");
        assert_eq!(s.warehouse, "flag");
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
            &r#"
            [[source]]
            name = "batect"
            format = "abacus"
            url = "fixtures/abacus"
            [[source]]
            name = "go"
            format = "go-telemetry"
            url = "fixtures/go-telemetry"
            upload_config = "UPLOAD_CONFIG"
            [[source]]
            name = "pace"
            format = "pace"
            url = "fixtures/pace"
            written_at = "key"
            [[source]]
            name = "devstack"
            format = "devstack"
            url = "fixtures/devstack"
            "#
            .replace(
                "UPLOAD_CONFIG",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/fixtures/go-telemetry.upload_config.json"
                ),
            ),
        )
        .expect("valid");
        let names: Vec<&str> = s.sources.iter().map(|s| s.format.name()).collect();
        assert_eq!(names, formats::names());
        assert!(format!("{:?}", s.sources[2].spec).contains("Key"));
        assert!(format!("{:?}", s.sources[3].spec).contains("Spec"));
        let tables: Vec<&str> = s.catalog.iter().map(|t| t.name).collect();
        assert_eq!(
            tables,
            [
                "sessions",
                "events",
                "spans",
                "reports",
                "counters",
                "stacks",
                "pace_snapshots",
                "devstack_runs"
            ]
        );
    }

    #[test]
    fn files_a_source_names_are_loaded_with_the_settings() {
        let err = parse(
            "[[source]]\nname='g'\nformat='go-telemetry'\nurl='x'\nupload_config='missing.json'",
        )
        .expect_err("missing file");
        let text = format!("{err:#}");
        assert!(
            text.contains("proj/missing.json") && text.contains("\"g\""),
            "{text}"
        );
        let err =
            parse("[[source]]\nname='a'\nformat='abacus'\nurl='x'\nsession_attributes='nope.json'")
                .expect_err("missing schema");
        assert!(format!("{err:#}").contains("proj/nope.json"));
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
    fn the_project_file_is_found_in_the_nearest_folder_above() {
        let tmp = tempfile::tempdir().expect("tmp");
        let deep = tmp.path().join("queries/more");
        std::fs::create_dir_all(&deep).expect("mkdir");
        assert_eq!(find_upwards(&deep), None);
        std::fs::write(tmp.path().join(FILE_NAME), "").expect("write");
        assert_eq!(
            find_upwards(&deep),
            Some(PathBuf::from("../../report.toml"))
        );
        assert_eq!(find_upwards(tmp.path()), Some(PathBuf::from(FILE_NAME)));
        assert_eq!(
            locate(Some(Path::new("other.toml"))).expect("explicit"),
            PathBuf::from("other.toml")
        );
    }

    #[test]
    fn duplicate_source_names_are_errors() {
        let one = "[[source]]\nname='a'\nformat='abacus'\nurl='x'\n";
        let err = parse(&format!("{one}{one}")).expect_err("duplicate");
        assert!(format!("{err:#}").contains("\"a\""));
    }
}
