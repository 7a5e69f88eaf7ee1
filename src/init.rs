//! `report init`: a new project for one format, as files in memory for `output` to write.
//!
//! The project is `report.toml` with one source, the format's starter dashboards (the
//! repository's own `queries/` and `reports/`, embedded at build time, those that read only the
//! format's tables), a `.gitignore` and the two GitHub workflows, byte for byte those of this
//! repository: they run unchanged in both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::definition::Report;
use crate::expect::{QueryExpectations, Rule};
use crate::formats::Format;

mod starter {
    include!(concat!(env!("OUT_DIR"), "/starter.rs"));
}

/// The workflows `report init` writes: this repository's own.
pub const WORKFLOWS: [(&str, &str); 2] = [
    (
        ".github/workflows/nightly.yml",
        include_str!("../.github/workflows/nightly.yml"),
    ),
    (
        ".github/workflows/pr.yml",
        include_str!("../.github/workflows/pr.yml"),
    ),
];

/// The Go upload config the starter dashboards and `report generate --format go-telemetry`
/// are written for (the real one plus the completion-latency counter), as this repository's
/// own `report.toml` names it.
const GO_UPLOAD_CONFIG: (&str, &str) = (
    "schemas/upload_config.json",
    include_str!("../fixtures/go-telemetry.upload_config.json"),
);

const GITIGNORE: &str = "# Made by `report build`, `report pull` and `report diff`; CI rebuilds them.\n/warehouse/\n/site/\n/diff/\n";

/// What the new project is.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: &'static dyn Format,
    /// Abacus: the `applicationId` the tool sends.
    pub application_id: Option<String>,
    /// The source's URL or folder; `fixtures/<name>` when `None`.
    pub source: Option<String>,
}

/// The project's files, paths relative to its folder, in path order.
pub fn files(opts: &Options) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let name = source_name(opts)?;
    let mut out: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    out.insert("report.toml".into(), config(opts, &name).into_bytes());
    out.insert(".gitignore".into(), GITIGNORE.as_bytes().to_vec());
    for (path, text) in WORKFLOWS {
        out.insert(path.into(), text.as_bytes().to_vec());
    }
    if opts.format.name() == "go-telemetry" {
        let (path, text) = GO_UPLOAD_CONFIG;
        out.insert(path.into(), text.as_bytes().to_vec());
    }
    for (path, text) in dashboards(opts.format)? {
        out.insert(path.into(), text.as_bytes().to_vec());
    }
    Ok(out.into_iter().collect())
}

/// The source's name: the application id (Abacus) or the format's name.
fn source_name(opts: &Options) -> Result<String> {
    match (opts.format.name(), &opts.application_id) {
        ("abacus", Some(id)) => {
            let name: String = id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if id.is_empty() {
                bail!("--application-id is empty");
            }
            Ok(name)
        }
        ("abacus", None) => bail!(
            "--application-id is required for format abacus: the applicationId your tool sends (sessions with another are quarantined)"
        ),
        (other, Some(_)) => {
            bail!("--application-id applies to format abacus only, not {other:?}")
        }
        (other, None) => Ok(other.to_string()),
    }
}

fn config(opts: &Options, name: &str) -> String {
    let format = opts.format.name();
    let url = opts
        .source
        .clone()
        .unwrap_or_else(|| format!("fixtures/{name}"));
    let mut text = format!(
        "# report.toml, made by `report init --format {format}`. Relative paths start from this\n\
         # file's folder; unknown keys are errors. REPORT_WAREHOUSE, REPORT_OUTPUT and\n\
         # REPORT_SOURCE_URL (or REPORT_SOURCE_<NAME>_URL) override the values here.\n\
         \n\
         warehouse = \"warehouse\"   # a folder, or s3://bucket/prefix, gs://…, az://… (CI: REPORT_WAREHOUSE)\n\
         output = \"site\"           # the static site\n\
         queries = \"queries\"       # one view per *.sql\n\
         reports = \"reports\"       # one page per *.toml\n\
         \n\
         [[source]]\n\
         name = {name:?}\n\
         format = {format:?}\n\
         url = {url:?}   # a folder, or s3://bucket/prefix, gs://…, az://…, https://… (CI: REPORT_SOURCE_URL)\n"
    );
    match format {
        "abacus" => {
            let id = opts.application_id.as_deref().unwrap_or_default();
            text.push_str(&format!(
                "# prefix = \"v1/{id}\"      # only objects under this prefix (Abacus keys are v1/<applicationId>/…)\n\
                 application_ids = [{id:?}]  # sessions with another applicationId are quarantined\n\
                 # session_attributes = \"schemas/session_attributes.json\"  # your BigQuery schema; Batect's by default\n"
            ));
        }
        "go-telemetry" => text.push_str(&format!(
            "upload_config = {:?}  # the real Go upload config when left out\n",
            GO_UPLOAD_CONFIG.0
        )),
        "pace" => text.push_str(
            "# written_at = \"key\"      # the write time from a YYYYMMDDTHHMMSSZ stamp in the key; default last_modified\n",
        ),
        _ => {}
    }
    text
}

/// The starter dashboards of `format`: every embedded report whose panels read only the
/// format's tables (through any number of queries), with the queries they read and those
/// queries' expectations.
pub fn dashboards(format: &'static dyn Format) -> Result<Vec<(&'static str, &'static str)>> {
    let tables: BTreeSet<String> = format
        .configure(toml::Table::new(), Path::new("."))?
        .tables()
        .iter()
        .map(|t| t.name.to_string())
        .chain(["objects".to_string()])
        .collect();
    let ctx = crate::query::new_context();
    let file = |path: &str| starter::FILES.iter().find(|(p, _)| *p == path);
    // What each query reads, and its expectation file's SQL assertions read.
    let mut reads: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (path, sql) in starter::FILES {
        let Some(name) = path
            .strip_prefix("queries/")
            .and_then(|p| p.strip_suffix(".sql"))
        else {
            continue;
        };
        let mut names = crate::query::reads(&ctx, sql)
            .with_context(|| format!("starter query {path} does not parse"))?;
        if let Some((expect_path, text)) = file(&format!("queries/{name}.expect.toml")) {
            let parsed = QueryExpectations::parse(text, Path::new(expect_path))?;
            for e in &parsed.expect {
                if let Rule::Sql { sql } = &e.rule {
                    names.extend(crate::query::reads(&ctx, sql)?);
                }
            }
        }
        reads.insert(name, names);
    }
    let mut chosen: Vec<(&str, &str)> = Vec::new();
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    for (path, text) in starter::FILES {
        if !path.starts_with("reports/") {
            continue;
        }
        let report = Report::parse(text, Path::new(path))?;
        let mut closure = BTreeSet::new();
        let mut todo: Vec<&str> = report.panels.iter().map(|p| p.query.as_str()).collect();
        let mut fits = true;
        while let Some(q) = todo.pop() {
            let Some((name, names)) = reads.get_key_value(q) else {
                fits = false;
                break;
            };
            if !closure.insert(*name) {
                continue;
            }
            for n in names {
                if reads.contains_key(n.as_str()) {
                    todo.push(n);
                } else if !tables.contains(n) {
                    fits = false;
                }
            }
        }
        if fits {
            chosen.push((path, text));
            needed.extend(closure);
        }
    }
    if chosen.is_empty() {
        bail!(
            "no starter report reads only the tables of format {:?}",
            format.name()
        );
    }
    for name in needed {
        for path in [
            format!("queries/{name}.sql"),
            format!("queries/{name}.expect.toml"),
        ] {
            if let Some(&(p, text)) = file(&path) {
                chosen.push((p, text));
            }
        }
    }
    chosen.sort();
    Ok(chosen)
}

/// Refuses to write over an existing project: the first of `paths` that exists in `dir`.
pub fn refuse_existing<'a>(dir: &Path, paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    if let Some(path) = paths.into_iter().find(|p| dir.join(p).exists()) {
        bail!(
            "{} exists: `report init` writes a new project into a folder without one (--dir names another folder)",
            dir.join(path).display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(format: &str) -> Vec<&'static str> {
        let format = crate::formats::by_name(format).expect("format");
        dashboards(format)
            .expect("dashboards")
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with("reports/"))
            .collect()
    }

    #[test]
    fn each_format_gets_the_reports_that_read_its_tables() {
        assert_eq!(names("go-telemetry"), ["reports/go.toml"]);
        assert_eq!(names("pace"), ["reports/pace.toml"]);
        assert_eq!(names("devstack"), ["reports/devstack.toml"]);
        let abacus = names("abacus");
        assert!(abacus.contains(&"reports/overview.toml"), "{abacus:?}");
        assert!(abacus.contains(&"reports/health.toml"), "{abacus:?}");
        assert!(!abacus.contains(&"reports/go.toml"), "{abacus:?}");
    }

    #[test]
    fn abacus_needs_an_application_id_and_the_others_take_none() {
        let abacus = crate::formats::by_name("abacus").expect("abacus");
        let opts = Options {
            format: abacus,
            application_id: None,
            source: None,
        };
        let err = files(&opts).expect_err("no id");
        assert!(format!("{err}").contains("--application-id"), "{err}");
        let opts = Options {
            application_id: Some("acme-cli".into()),
            source: Some("gs://bucket/prefix".into()),
            ..opts
        };
        let made = files(&opts).expect("files");
        let config = &made
            .iter()
            .find(|(p, _)| p == Path::new("report.toml"))
            .expect("report.toml")
            .1;
        let settings = crate::config::Settings::parse(
            std::str::from_utf8(config).expect("utf-8"),
            Path::new("report.toml"),
            &BTreeMap::new(),
            &crate::config::Overrides::default(),
        )
        .expect("report.toml parses");
        assert_eq!(settings.sources[0].name, "acme-cli");
        assert_eq!(settings.sources[0].url, "gs://bucket/prefix");
        assert!(format!("{:?}", settings.sources[0].spec).contains("[\"acme-cli\"]"));
        let pace = Options {
            format: crate::formats::by_name("pace").expect("pace"),
            application_id: Some("x".into()),
            source: None,
        };
        assert!(files(&pace).is_err());
    }
}
