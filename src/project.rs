//! The project loader: `report.toml`, `queries/*.sql`, `reports/*.toml` and
//! `queries/*.expect.toml`, read once into [`Settings`] and [`Definitions`]. It collects every
//! [`Problem`] instead of stopping at the first; `report build` and `report diff` refuse a
//! project with problems, `report check` lists them and goes on to plan what loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::{Overrides, Settings};
use crate::definition::Report;
use crate::expect::{FILE_SUFFIX, QueryExpectations};
use crate::problem::{self, Problem};
use crate::query::{self, Query};

/// The project's definitions: queries, reports and the queries' expectation files.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    pub queries: Vec<Query>,
    pub reports: Vec<Report>,
    pub expectations: Vec<QueryExpectations>,
}

/// A loaded project: what loaded, and what did not.
#[derive(Debug)]
pub struct Project {
    /// `None` when `report.toml` has a problem.
    pub settings: Option<Settings>,
    pub definitions: Definitions,
    /// Sorted by file, then line.
    pub problems: Vec<Problem>,
}

impl Project {
    /// The settings and definitions, or an error listing every problem.
    pub fn ready(self) -> Result<(Settings, Definitions)> {
        match self.settings {
            Some(settings) if self.problems.is_empty() => Ok((settings, self.definitions)),
            _ => Err(problem::error(&self.problems)),
        }
    }
}

/// Loads the project of the config file `config`.
pub fn load(config: &Path, overrides: &Overrides) -> Project {
    let mut problems = Vec::new();
    let root = match config.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let settings = match std::fs::read_to_string(config) {
        Err(e) => {
            problems.push(Problem::new(
                config,
                None,
                format!("cannot read the config file: {e}"),
            ));
            None
        }
        Ok(text) => match Settings::parse(&text, config, &crate::config::report_env(), overrides) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(Problem::from_error(config, &text, &e));
                None
            }
        },
    };
    let (queries, reports) = match &settings {
        Some(s) => (s.queries.clone(), s.reports.clone()),
        None => (root.join("queries"), root.join("reports")),
    };
    let (definitions, more) = load_definitions(&queries, &reports);
    problems.extend(more);
    problems.sort();
    problems.dedup();
    Project {
        settings,
        definitions,
        problems,
    }
}

/// Loads the definitions of the `queries` and `reports` folders.
pub fn load_definitions(queries: &Path, reports: &Path) -> (Definitions, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut defs = Definitions::default();
    for path in files(queries, ".sql", &mut problems) {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
            problems.push(Problem::new(&path, None, "file name is not UTF-8"));
            continue;
        };
        if !query::is_identifier(&name) {
            problems.push(Problem::new(
                &path,
                None,
                "a query's file name is its view name, so it must be lower-case letters, digits and '_', starting with a letter",
            ));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(sql) => defs.queries.push(Query { name, path, sql }),
            Err(e) => problems.push(Problem::new(&path, None, format!("cannot read: {e}"))),
        }
    }
    for path in files(reports, ".toml", &mut problems) {
        let Some(text) = read(&path, &mut problems) else {
            continue;
        };
        let parsed = Report::parse_all(&text, &path);
        problems.extend(parsed.problems);
        defs.reports.extend(parsed.report);
    }
    let names: BTreeMap<&str, ()> = defs.queries.iter().map(|q| (q.name.as_str(), ())).collect();
    for path in files(queries, FILE_SUFFIX, &mut problems) {
        let Some(text) = read(&path, &mut problems) else {
            continue;
        };
        match QueryExpectations::parse(&text, &path) {
            Ok(e) => {
                if !names.contains_key(e.query.as_str()) {
                    problems.push(Problem::new(
                        &path,
                        None,
                        format!(
                            "expectations: no query named {:?} (queries/{}.sql)",
                            e.query, e.query
                        ),
                    ));
                }
                defs.expectations.push(e);
            }
            Err(e) => problems.push(Problem::from_error(&path, &text, &e)),
        }
    }
    (defs, problems)
}

fn read(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(Problem::new(path, None, format!("cannot read: {e}")));
            None
        }
    }
}

/// Files of `dir` whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut out: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
                })
                .collect();
            out.sort();
            out
        }
        Err(e) => {
            problems.push(Problem::new(
                dir,
                None,
                format!("cannot read the folder: {e}"),
            ));
            Vec::new()
        }
    }
}
