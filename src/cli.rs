//! Command-line arguments. clap types stop here: each subcommand resolves its arguments into
//! [`Settings`] (or generator options) and calls one library entry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::{Overrides, Settings};
use crate::formats::{self, generate};
use crate::messages;
use crate::{pipeline, project};

/// Exit code of a run that failed (bad config, unreadable warehouse, a query error…).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of a run that finished but quarantined objects or could not fetch some.
pub const EXIT_QUARANTINED: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "report",
    version,
    about = "Turn CLI telemetry sessions in object storage into reviewed, reproducible static reports",
    long_about = "Turn CLI telemetry sessions in object storage into reviewed, reproducible static reports.\n\n\
        `report build` pulls new session objects from the sources in report.toml into a Parquet \
        warehouse, runs the SQL in queries/*.sql with DataFusion, and renders reports/*.toml as \
        static HTML with SVG charts.",
    after_help = "Examples:\n  report build                 pull, query and render into site/\n  report pull                  only ingest new objects (for CI jobs)\n  report generate --sessions 2400 --seed 1 --out fixtures/abacus\n\nExit codes: 0 success, 1 error, 2 usage error, 3 finished but objects were quarantined or failed to fetch."
)]
pub struct Cli {
    /// Project config file; relative paths in it start from its folder.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "REPORT_CONFIG",
        default_value = "report.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pull new objects, run every query and render every report into the output folder.
    #[command(
        after_help = "Examples:\n  report build\n  report build --no-pull --output /tmp/site\n  REPORT_WAREHOUSE=/data/wh report build"
    )]
    Build {
        #[command(flatten)]
        locations: Locations,
        /// Skip the pull: render from what the warehouse already holds.
        #[arg(long)]
        no_pull: bool,
    },
    /// Only pull: fetch objects not yet ingested into the warehouse.
    #[command(
        after_help = "Examples:\n  report pull\n  report pull --source s3://telemetry-sessions/v1/batect/\n\nLists the source and fetches the objects no pull has looked at (the warehouse's objects table\nsays which: a runner with an empty disk pulls incrementally from a warehouse in a bucket).\nObjects quarantined under another configuration are looked at again. Ends with a compaction.\nPrints a one-line summary; exit code 3 when objects were quarantined or could not be fetched."
    )]
    Pull {
        #[command(flatten)]
        locations: Locations,
        /// Look again at every object an earlier pull quarantined (objects quarantined under
        /// another configuration or schema are looked at again anyway).
        #[arg(long)]
        retry_quarantined: bool,
        /// Re-derive every table: one commit removes all data files, then every object is
        /// pulled again, typed as report.toml says now.
        #[arg(long)]
        rebuild: bool,
    },
    /// Merge the warehouse's small files (one per day and table) and delete files no commit names.
    #[command(
        after_help = "Examples:\n  report compact\n  report compact --warehouse s3://telemetry-warehouse/batect\n\nA pull compacts at its end too; this does it on demand. The merge is one commit (the merged\nfiles added, the small ones removed); removed files are deleted once [pull] grace_minutes have\npassed since, so a query that started before still finds them."
    )]
    Compact {
        #[command(flatten)]
        locations: Locations,
        /// Delete removed files this long after their removal [default: [pull] grace_minutes, 60].
        #[arg(long, value_name = "MINUTES")]
        grace_minutes: Option<u64>,
    },
    /// Validate report.toml, every query, report and expectation without data or network.
    #[command(
        after_help = "Examples:\n  report check\n  report --config other/report.toml check\n\nPlans every queries/*.sql against empty tables with the warehouse's schemas, checks every\nreports/*.toml and queries/*.expect.toml (keys, chart kinds, queries, columns and their types),\nand finds cycles between queries. Lists every problem as FILE:LINE: MESSAGE on stdout.\nExit code 0 when clean, 1 when there is a problem."
    )]
    Check,
    /// Compare query results and charts between a git revision and the working tree.
    #[command(
        after_help = "Examples:\n  report diff                      against the merge base with origin/main (or main)\n  report diff origin/main\n  report diff v1.2 --head v1.3 --format json\n  report diff --fail-on-change     exit 4 when a result or chart changed\n\nRuns the queries and reports of both sides over the same warehouse (no pull; run\n`report pull` first). Writes diff/index.html and diff/summary.md and prints the summary\n(or JSON with --format json) on stdout."
    )]
    Diff {
        /// Base revision [default: the merge base of HEAD with origin/HEAD, origin/main, main…].
        base: Option<String>,
        /// Head revision instead of the working tree.
        #[arg(long)]
        head: Option<String>,
        /// What to print on stdout.
        #[arg(long, value_enum, default_value = "markdown")]
        format: DiffFormat,
        /// Exit with code 4 when a query result, a chart or an expectation changed.
        #[arg(long)]
        fail_on_change: bool,
        /// Folder for index.html and summary.md [default: diff beside report.toml].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Warehouse: a bucket URL or a folder [env: REPORT_WAREHOUSE].
        #[arg(long, value_name = "URL")]
        warehouse: Option<String>,
    },
    /// Run one query over the warehouse (no pull) and print its result as CSV on stdout.
    #[command(
        after_help = "Examples:\n  report query sessions_per_day\n  report query top_shells > shells.csv\n\nThe query may read other queries; ids in the result are printed (this is your terminal, not the site)."
    )]
    Query {
        /// Name of the query: queries/NAME.sql.
        name: String,
        #[command(flatten)]
        locations: Locations,
    },
    /// Write realistic telemetry objects (Batect sessions, or --format) in the real bucket layout (fixtures, demos, benchmarks).
    #[command(
        after_help = "Examples:\n  report generate --sessions 2400 --seed 1 --out fixtures/abacus\n  report generate --invalid --out fixtures/invalid\n  report generate --format go-telemetry --sessions 300 --start 2024-08-01 --days 84 --out fixtures/go-telemetry\n\nWith --format, --sessions counts reports (go-telemetry), installs (pace) or runs (devstack).\nThe same options and seed always give the same bytes."
    )]
    Generate {
        /// Number of sessions.
        #[arg(long, default_value_t = 2400)]
        sessions: usize,
        /// Seed of the random generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of days the sessions spread over.
        #[arg(long, default_value_t = 120)]
        days: i64,
        /// First day (YYYY-MM-DD, UTC).
        #[arg(long, default_value = "2023-05-01")]
        start: String,
        /// Share of objects stored as plain JSON rather than gzip (0–1).
        #[arg(long, default_value_t = 0.1)]
        plain_share: f64,
        /// Write objects that each break one validation rule instead (the rule is in the key).
        #[arg(long)]
        invalid: bool,
        /// Source format of the objects.
        #[arg(long, default_value = "abacus", value_parser = clap::builder::PossibleValuesParser::new(formats::names()))]
        format: String,
        /// Folder to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Output of `report diff` on stdout.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DiffFormat {
    Markdown,
    Json,
}

/// Where things are, overriding report.toml and `REPORT_*` variables.
#[derive(Debug, Args)]
pub struct Locations {
    /// Warehouse: a bucket URL (s3://bucket/prefix, gs://…, az://…) or a folder [env: REPORT_WAREHOUSE].
    #[arg(long, value_name = "URL")]
    warehouse: Option<String>,
    /// Output folder of the site [env: REPORT_OUTPUT].
    #[arg(long)]
    output: Option<PathBuf>,
    /// URL or path replacing the URL of the only source [env: REPORT_SOURCE_URL].
    #[arg(long)]
    source: Option<String>,
}

impl Locations {
    fn overrides(&self) -> Overrides {
        Overrides {
            warehouse: self.warehouse.clone(),
            output: self.output.clone(),
            source: self.source.clone(),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Parses the process arguments and runs the command.
pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Build { locations, no_pull } => {
            let (settings, defs) = project::load(&cli.config, &locations.overrides()).ready()?;
            let built = runtime()?.block_on(pipeline::build(&settings, &defs, !no_pull))?;
            if !no_pull {
                report_pull(&built.pull);
            }
            for line in &built.held {
                messages::warn(format_args!("site: held back in {line}"));
            }
            messages::status(format_args!(
                "site: {} files written to {}",
                built.pages,
                settings.output.display()
            ));
            Ok(exit_code(&built.pull))
        }
        Command::Pull {
            locations,
            retry_quarantined,
            rebuild,
        } => {
            let settings = Settings::load(&cli.config, &locations.overrides())?;
            let options = crate::pull::Options {
                retry_quarantined,
                rebuild,
            };
            let summary = runtime()?.block_on(pipeline::pull_with(&settings, options))?;
            report_pull(&summary);
            Ok(exit_code(&summary))
        }
        Command::Compact {
            locations,
            grace_minutes,
        } => {
            let mut settings = Settings::load(&cli.config, &locations.overrides())?;
            if let Some(m) = grace_minutes {
                settings.pull.grace_seconds = m * 60;
            }
            let (compacted, swept) = runtime()?.block_on(pipeline::compact(&settings))?;
            messages::status(format_args!(
                "compact: {} small files merged into {}, {} files no commit names deleted",
                compacted.removed, compacted.added, swept
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let checked =
                runtime()?.block_on(crate::check::check(&cli.config, &Overrides::default()));
            for p in &checked.problems {
                println!("{p}");
            }
            if checked.is_clean() {
                messages::status(format_args!(
                    "check: ok ({} queries, {} reports with {} panels, {} expectations)",
                    checked.queries, checked.reports, checked.panels, checked.expectations
                ));
                Ok(ExitCode::SUCCESS)
            } else {
                messages::status(format_args!(
                    "check: {} problem{} in {} file{}",
                    checked.problems.len(),
                    if checked.problems.len() == 1 { "" } else { "s" },
                    checked.files(),
                    if checked.files() == 1 { "" } else { "s" }
                ));
                Ok(ExitCode::from(EXIT_ERROR))
            }
        }
        Command::Diff {
            base,
            head,
            format,
            fail_on_change,
            out,
            warehouse,
        } => {
            let overrides = Overrides {
                warehouse,
                ..Overrides::default()
            };
            let settings = Settings::load(&cli.config, &overrides)?;
            let options = crate::diff::Options { base, head };
            let diff = runtime()?.block_on(crate::diff::diff(&settings, &options))?;
            let out = out.unwrap_or_else(|| settings.root.join("diff"));
            crate::output::write(&out, &crate::diff::render::pages(&diff)?)?;
            match format {
                DiffFormat::Markdown => print!("{}", crate::diff::render::markdown(&diff)),
                DiffFormat::Json => println!("{}", crate::diff::render::json(&diff)?),
            }
            messages::status(format_args!(
                "diff: {} (index.html and summary.md written to {})",
                crate::diff::render::headline(&diff),
                out.display()
            ));
            if fail_on_change && diff.has_changes() {
                Ok(ExitCode::from(crate::diff::EXIT_CHANGED))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Query { name, locations } => {
            let (settings, defs) = project::load(&cli.config, &locations.overrides()).ready()?;
            let table = runtime()?.block_on(pipeline::query_one(&settings, &defs, &name))?;
            print!("{}", crate::output::to_csv(&table));
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            sessions,
            seed,
            days,
            start,
            plain_share,
            invalid,
            format,
            out,
        } => {
            let start_day = chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")
                .with_context(|| format!("--start {start:?} is not a date like 2023-05-01"))?
                .signed_duration_since(chrono::NaiveDate::default())
                .num_days();
            let format = formats::by_name(&format)
                .with_context(|| format!("--format {format:?} is not a known format"))?;
            let write = |o: &generate::Object| {
                crate::output::write_files(
                    &out,
                    std::iter::once((std::path::Path::new(&o.key), o.bytes.as_slice())),
                )
            };
            let progress = crate::pull::bar("generate");
            progress.set_length(sessions as u64);
            let mut written = 0u64;
            if invalid {
                anyhow::ensure!(
                    format.name() == "abacus",
                    "--invalid writes Abacus objects only; the other formats' rule cases are in their unit tests"
                );
                for o in formats::abacus::generate::invalid(seed) {
                    write(&o)?;
                    written += 1;
                }
            } else {
                let opts = generate::Options {
                    sessions,
                    seed,
                    start_day,
                    days: days.max(1),
                    plain_share: plain_share.clamp(0.0, 1.0),
                };
                format.generate_each(&opts, &mut |o| {
                    write(&o)?;
                    written += 1;
                    progress.inc(1);
                    Ok(())
                })?;
            }
            progress.finish_and_clear();
            messages::status(format_args!(
                "generate: {written} objects written under {}",
                out.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report_pull(summary: &crate::pull::Summary) {
    for q in &summary.quarantined {
        messages::status(format_args!(
            "quarantined {}:{}: {}: {}",
            q.source, q.key, q.rule, q.message
        ));
    }
    if summary.more_quarantined > 0 {
        messages::status(format_args!(
            "quarantined: {} more (the objects table lists them all, with status 'quarantined')",
            summary.more_quarantined
        ));
    }
    for f in &summary.failed {
        messages::status(format_args!(
            "failed {}:{}: {} (retried on the next pull)",
            f.source, f.key, f.error
        ));
    }
    if summary.more_failed > 0 {
        messages::status(format_args!(
            "failed: {} more (retried on the next pull)",
            summary.more_failed
        ));
    }
    messages::status(format_args!("{summary}"));
}

fn exit_code(summary: &crate::pull::Summary) -> ExitCode {
    if summary.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_QUARANTINED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
