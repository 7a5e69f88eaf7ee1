//! Command-line arguments. clap types stop here: each subcommand resolves its arguments into
//! [`Settings`] (or generator options) and calls one library entry.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};

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
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("REPORT_COMMIT"), ")"),
    about = "Turn CLI telemetry sessions in object storage into reviewed, reproducible static reports",
    long_about = "Turn CLI telemetry sessions in object storage into reviewed, reproducible static reports.\n\n\
        `report build` pulls new session objects from the sources in report.toml into a Parquet \
        warehouse, runs the SQL in queries/*.sql with DataFusion, and renders reports/*.toml as \
        static HTML with SVG charts.",
    after_help = "Examples:\n  report init --format abacus --application-id acme-cli --source gs://bucket/prefix\n  report build                 pull, query and render into site/\n  report pull                  only ingest new objects (for CI jobs)\n  report generate --sessions 2400 --seed 1 --out fixtures/abacus\n\nExit codes: 0 success, 1 error, 2 usage error, 3 finished but objects were quarantined or failed to fetch."
)]
pub struct Cli {
    /// Project config file; relative paths in it start from its folder [env: REPORT_CONFIG]
    /// [default: report.toml in this folder or the nearest folder above it].
    #[arg(long, short = 'c', global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new project for your tool: report.toml, starter queries and reports, .gitignore and the CI workflows.
    #[command(
        after_help = "Examples:\n  report init --format abacus --application-id acme-cli --source gs://acme-telemetry/v1/acme-cli\n  report init --format abacus --application-id acme-cli --source fixtures/acme-cli\n  report init --format go-telemetry --dir dashboards\n\nWrites report.toml (one [[source]]), queries/ and reports/ with the format's starter\ndashboards, .gitignore (warehouse, site, diff) and .github/workflows/{nightly,pr}.yml.\nPrompts for what is missing when stdin is a terminal, and prompts nothing when the flags are\ngiven. Refuses to write over a file that exists. Then, with no network:\n  report generate --application-id acme-cli --sessions 300 --out fixtures/acme-cli && report build"
    )]
    Init {
        /// Format of your telemetry objects.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(formats::names()))]
        format: Option<String>,
        /// Abacus: the applicationId your tool sends (others are quarantined).
        #[arg(long, value_name = "ID")]
        application_id: Option<String>,
        /// Where the objects are: s3://bucket/prefix, gs://…, az://…, https://… or a folder
        /// [default: fixtures/<name>, for `report generate`].
        #[arg(long, value_name = "URL")]
        source: Option<String>,
        /// Folder of the new project (created if needed).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
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
        /// Print how long each stage took and the ten slowest queries (to stderr), to find
        /// what makes a nightly build slow.
        #[arg(long)]
        timings: bool,
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
    /// Check that every file the warehouse's commits name is there, at the size its commit says.
    #[command(
        after_help = "Examples:\n  report verify\n  report verify --warehouse s3://telemetry-warehouse/batect\n\nLooks at every committed data file (a HEAD each, no data read) and lists each one that is\nmissing or of another size than its commit says, with the commit that added it and its table.\nExit code 0 when every file is as committed, 1 when one is not."
    )]
    Verify {
        #[command(flatten)]
        locations: Locations,
    },
    /// Validate report.toml, every query, report and expectation without data or network.
    #[command(
        after_help = "Examples:\n  report check\n  report --config other/report.toml check\n\nPlans every queries/*.sql against empty tables with the warehouse's schemas, checks every\nreports/*.toml and queries/*.expect.toml (keys, chart kinds, queries, columns and their types),\nand finds cycles between queries. Lists every problem as FILE:LINE: MESSAGE on stdout.\nExit code 0 when clean, 1 when there is a problem."
    )]
    Check,
    /// Serve the site from memory on 127.0.0.1, rebuilding what an edit touches and reloading the open pages.
    #[command(
        after_help = "Examples:\n  report serve\n  report serve --port 8080 --open\n  report serve --pull\n\nBuilds into memory (nothing is written to the output folder) over the warehouse as it is\n(no pull unless --pull) and serves on 127.0.0.1 only. Watches report.toml, the files it\nnames, queries/ and reports/; after a save it runs the queries downstream of an edited .sql\nand renders the pages that show them, then the open pages reload. A change that does not\nbuild keeps the last good pages and shows its problems in them (FILE:LINE, as `report check`\nlists them). Ctrl-C stops."
    )]
    Serve {
        /// Port on 127.0.0.1 (0: any free one; the log says which).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Open the index in the default browser.
        #[arg(long)]
        open: bool,
        /// Pull the sources first (and again after a change to report.toml).
        #[arg(long)]
        pull: bool,
        /// Warehouse: a bucket URL or a folder [env: REPORT_WAREHOUSE].
        #[arg(long, value_name = "URL")]
        warehouse: Option<String>,
        /// Poll the files instead of the system's file watching (network file systems).
        #[arg(long)]
        poll: bool,
    },
    /// Compare query results and charts between a git revision and the working tree.
    #[command(
        after_help = "Examples:\n  report diff                      against the merge base with origin/main (or main)\n  report diff origin/main\n  report diff v1.2 --head v1.3 --format json\n  report diff --fail-on-change     exit 4 when a result or chart changed\n\nReads each side with its own report.toml, schemas, queries and reports, and runs both\nover the same warehouse (no pull; run `report pull` first: a missing or empty warehouse is\nan error). Writes diff/index.html and diff/summary.md and prints the summary (or JSON with\n--format json) on stdout; --link URL makes the summary link to where index.html is published."
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
        /// Link summary.md to the whole diff published at URL (a CI artifact or a preview).
        #[arg(long, value_name = "URL")]
        link: Option<String>,
    },
    /// Run a query of the project, a .sql file or --sql text over the warehouse (no pull) and print its result.
    #[command(
        after_help = "Examples:\n  report query sessions_per_day\n  report query top_shells > shells.csv\n  report query --sql \"SELECT attributes.shell, count(*) FROM sessions GROUP BY 1\"\n  report query scratch/try.sql\n\nThe SQL may read the warehouse's tables (`report tables` lists them) and every query of the\nproject by its name. Printed as an aligned table on a terminal and as CSV otherwise (--format).\nIds in the result are printed: this is your terminal, not the site."
    )]
    Query {
        /// A query of the project (queries/NAME.sql), or a path to a .sql file.
        #[arg(required_unless_present = "sql", conflicts_with = "sql")]
        name: Option<String>,
        /// SQL to run, instead of a query's name.
        #[arg(long, value_name = "SQL")]
        sql: Option<String>,
        #[arg(long, value_enum, default_value_t = Shown::Auto)]
        format: Shown,
        #[command(flatten)]
        locations: Locations,
    },
    /// List the warehouse's tables and columns, with how many rows carry a value in each.
    #[command(
        after_help = "Examples:\n  report tables\n  report tables --format csv | grep attributes\n\nA struct's fields are listed one by one (attributes.shell), and the attributes no schema\nknows by their keys in extra_attributes, with the rows (sessions, events, spans) that carry\neach: what a query can read."
    )]
    Tables {
        #[arg(long, value_enum, default_value_t = Shown::Auto)]
        format: Shown,
        #[command(flatten)]
        locations: Locations,
    },
    /// Print a shell completion script for report.
    #[command(
        after_help = "Examples:\n  report completions bash > ~/.local/share/bash-completion/completions/report\n  report completions zsh > \"${fpath[1]}/_report\"\n  report completions fish > ~/.config/fish/completions/report.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages of report and its subcommands (report.1, report-build.1, …).
    #[command(
        after_help = "Examples:\n  report man --out-dir /usr/local/share/man/man1\n  report man && man ./report.1"
    )]
    Man {
        /// Folder to write the pages into (created if needed).
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
    },
    /// Write realistic telemetry objects (Batect sessions, or --format) in the real bucket layout (fixtures, demos, benchmarks).
    #[command(
        after_help = "Examples:\n  report generate --sessions 2400 --seed 1 --out fixtures/abacus\n  report generate --invalid --out fixtures/invalid\n  report generate --application-id acme-cli --attributes schemas/session_attributes.json --sessions 300 --out fixtures/acme-cli\n  report generate --format go-telemetry --sessions 300 --start 2024-08-01 --days 84 --out fixtures/go-telemetry\n\nWith --format, --sessions counts reports (go-telemetry), installs (pace) or runs (devstack).\nThe same options and seed always give the same bytes."
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
        /// Abacus: the applicationId of the sessions (and their keys' v1/<ID>/) [default: batect].
        #[arg(long, value_name = "ID")]
        application_id: Option<String>,
        /// Abacus: a BigQuery-style schema of your session attributes; the sessions send
        /// exactly these, typed as it says [default: Batect's].
        #[arg(long, value_name = "FILE")]
        attributes: Option<PathBuf>,
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

/// How `report query` and `report tables` print a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shown {
    /// An aligned table on a terminal, CSV otherwise.
    Auto,
    Csv,
    Table,
}

impl Shown {
    fn show(self, table: &crate::query::Table) -> String {
        use std::io::IsTerminal;
        let aligned = match self {
            Shown::Auto => std::io::stdout().is_terminal(),
            Shown::Csv => false,
            Shown::Table => true,
        };
        if aligned {
            crate::output::aligned(table)
        } else {
            crate::output::to_csv(table)
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
    let config = || crate::config::locate(cli.config.as_deref());
    match cli.command {
        Command::Init {
            format,
            application_id,
            source,
            dir,
        } => {
            crate::init::refuse_existing(&dir, [Path::new(crate::config::FILE_NAME)])?;
            let format = match format {
                Some(f) => f,
                None => ask("format", &formats::names().join(", "))?,
            };
            let format = formats::by_name(&format).with_context(|| {
                format!(
                    "format {format:?} is not one of {}",
                    formats::names().join(", ")
                )
            })?;
            let application_id = match application_id {
                None if format.name() == "abacus" => {
                    Some(ask("application-id", "the applicationId your tool sends")?)
                }
                given => given,
            };
            let opts = crate::init::Options {
                format,
                application_id,
                source,
            };
            let files = crate::init::files(&opts)?;
            crate::init::refuse_existing(&dir, files.iter().map(|(p, _)| p.as_path()))?;
            crate::output::write_files(
                &dir,
                files.iter().map(|(p, b)| (p.as_path(), b.as_slice())),
            )?;
            let config = dir.join(crate::config::FILE_NAME);
            messages::status(format_args!(
                "init: {} files written to {} ({}, queries/, reports/, .gitignore, .github/workflows/)",
                files.len(),
                dir.display(),
                config.display()
            ));
            let settings = Settings::load(&config, &Overrides::default())?;
            let source = &settings.sources[0];
            let generate = match &opts.application_id {
                Some(id) => format!("--application-id {id} "),
                None => format!("--format {} ", format.name()),
            };
            messages::status(format_args!(
                "next: `report generate {generate}--sessions 300 --out {}` and `report build` make a site from made-up data; then point url in {} at your bucket (README, \"Your own project\")",
                source.url,
                config.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Build {
            locations,
            no_pull,
            timings,
        } => {
            let (settings, defs) = project::load(&config()?, &locations.overrides()).ready()?;
            let started = std::time::Instant::now();
            let built = runtime()?.block_on(pipeline::build_with(
                &settings,
                &defs,
                !no_pull,
                |summary| report_pull(summary, started.elapsed()),
            ))?;
            for line in &built.held {
                messages::warn(format_args!("site: held back in {line}"));
            }
            if timings {
                for line in timing_lines(&built.timings) {
                    messages::status(format_args!("{line}"));
                }
            }
            messages::status(format_args!(
                "site: {} files written to {}; open {}",
                built.pages,
                settings.output.display(),
                settings.output.join("index.html").display()
            ));
            Ok(exit_code(&built.pull))
        }
        Command::Pull {
            locations,
            retry_quarantined,
            rebuild,
        } => {
            let settings = Settings::load(&config()?, &locations.overrides())?;
            let options = crate::pull::Options {
                retry_quarantined,
                rebuild,
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let summary = runtime()?.block_on(pipeline::pull_with(&settings, options))?;
            report_pull(&summary, started.elapsed());
            Ok(exit_code(&summary))
        }
        Command::Compact {
            locations,
            grace_minutes,
        } => {
            let mut settings = Settings::load(&config()?, &locations.overrides())?;
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
        Command::Verify { locations } => {
            let settings = Settings::load(&config()?, &locations.overrides())?;
            let (files, commits, damaged) = runtime()?.block_on(pipeline::verify(&settings))?;
            for d in &damaged {
                messages::warn(format_args!("verify: {d}"));
            }
            let mut bad: Vec<u64> = damaged.iter().map(|d| d.commit).collect();
            bad.dedup();
            messages::status(format_args!(
                "verify: {files} committed files of {commits} commits looked at, {} damaged{}",
                damaged.len(),
                if bad.is_empty() {
                    String::new()
                } else {
                    let list: Vec<String> = bad.iter().map(u64::to_string).collect();
                    format!(
                        " (commits {}; pull with --rebuild to derive the tables again from the sources)",
                        list.join(", ")
                    )
                }
            ));
            Ok(if damaged.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Check => {
            let checked =
                runtime()?.block_on(crate::check::check(&config()?, &Overrides::default()));
            let listed: String = checked
                .problems
                .iter()
                .chain(&checked.warnings)
                .map(|p| format!("{p}\n"))
                .collect();
            stdout(&listed)?;
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
        Command::Serve {
            port,
            open,
            pull,
            warehouse,
            poll,
        } => {
            let overrides = Overrides {
                warehouse,
                ..Overrides::default()
            };
            let options = crate::serve::Options {
                port,
                open,
                pull,
                poll,
            };
            runtime()?.block_on(crate::serve::serve(&config()?, &overrides, &options))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            base,
            head,
            format,
            fail_on_change,
            out,
            warehouse,
            link,
        } => {
            let overrides = Overrides {
                warehouse,
                ..Overrides::default()
            };
            let config = config()?;
            let settings = Settings::load(&config, &overrides)?;
            let options = crate::diff::Options {
                config,
                base,
                head,
                link,
            };
            let diff = runtime()?.block_on(crate::diff::diff(&settings, &options))?;
            let out = out.unwrap_or_else(|| settings.root.join("diff"));
            crate::output::write(&out, &crate::diff::render::pages(&diff)?)?;
            match format {
                DiffFormat::Markdown => stdout(&crate::diff::render::markdown(&diff))?,
                DiffFormat::Json => stdout(&format!("{}\n", crate::diff::render::json(&diff)?))?,
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
        Command::Query {
            name,
            sql,
            format,
            locations,
        } => {
            let (settings, defs) = project::load(&config()?, &locations.overrides()).ready()?;
            let rt = runtime()?;
            let table = match (name, sql) {
                (_, Some(sql)) => {
                    rt.block_on(pipeline::query_adhoc(&settings, &defs, &sql, "--sql"))?
                }
                (Some(file), None) if file.ends_with(".sql") => {
                    let sql = std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {file}"))?;
                    rt.block_on(pipeline::query_adhoc(&settings, &defs, &sql, &file))?
                }
                (Some(name), None) => rt.block_on(pipeline::query_one(&settings, &defs, &name))?,
                (None, None) => unreachable!("clap requires a name or --sql"),
            };
            stdout(&format.show(&table))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tables { format, locations } => {
            let (settings, _) = project::load(&config()?, &locations.overrides()).ready()?;
            let table = runtime()?.block_on(pipeline::tables(&settings))?;
            stdout(&format.show(&table))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "report", &mut script);
            stdout(&String::from_utf8_lossy(&script))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { out_dir } => {
            std::fs::create_dir_all(&out_dir)
                .with_context(|| format!("cannot create {}", out_dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &out_dir)
                .with_context(|| format!("cannot write the man pages to {}", out_dir.display()))?;
            messages::status(format_args!(
                "man: pages written to {} (report.1 and one per subcommand)",
                out_dir.display()
            ));
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
            application_id,
            attributes,
            out,
        } => {
            let start_day = chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")
                .with_context(|| format!("--start {start:?} is not a date like 2023-05-01"))?
                .signed_duration_since(chrono::NaiveDate::default())
                .num_days();
            let format = formats::by_name(&format)
                .with_context(|| format!("--format {format:?} is not a known format"))?;
            anyhow::ensure!(
                format.name() == "abacus" || (application_id.is_none() && attributes.is_none()),
                "--application-id and --attributes shape Abacus sessions; format {:?} has neither",
                format.name()
            );
            let session_attributes = attributes
                .map(|p| formats::abacus::tables::AttributeSchema::load(&p))
                .transpose()?;
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
                    application_id,
                    session_attributes,
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

/// Asks for a missing flag on a terminal (`--NAME`); without one it is an error naming the flag,
/// so CI and tests never wait for an answer.
fn ask(name: &str, what: &str) -> Result<String> {
    use std::io::IsTerminal;
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "--{name} is required ({what})"
    );
    messages::status(format_args!("{name} ({what}):"));
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .with_context(|| format!("cannot read --{name} from stdin"))?;
    let answer = answer.trim().to_string();
    anyhow::ensure!(!answer.is_empty(), "--{name} is required ({what})");
    Ok(answer)
}

/// Writes a command's result to stdout. A reader that went away (`report query NAME | head -1`)
/// ends the command quietly: [`is_broken_pipe`] tells `main` to exit 0.
fn stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

/// Whether `err` is a write to a closed pipe: the reader of the output has all it wanted.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `report build --timings`: one line of stage times, then the slowest queries.
fn timing_lines(t: &pipeline::Timings) -> Vec<String> {
    let secs = |d: &std::time::Duration| format!("{:.2} s", d.as_secs_f64());
    let stages: Vec<String> = t
        .stages
        .iter()
        .map(|(name, d)| format!("{name} {}", secs(d)))
        .collect();
    let mut lines = vec![format!("timings: {}", stages.join(" · "))];
    let mut slowest: Vec<&(String, std::time::Duration)> = t.queries.iter().collect();
    slowest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total: std::time::Duration = t.queries.iter().map(|(_, d)| *d).sum();
    lines.push(format!(
        "timings: slowest queries (of {}, {} in all, each with the views it reads):",
        t.queries.len(),
        secs(&total)
    ));
    for (name, d) in slowest.into_iter().take(10) {
        lines.push(format!("timings: {:>9}  {name}", secs(d)));
    }
    lines
}

/// Prints what a pull did: its quarantined and failed objects, then the one-line summary with
/// how fast it fetched (the time is this command's, read here: no stage reads the clock).
fn report_pull(summary: &crate::pull::Summary, took: std::time::Duration) {
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
    for hint in &summary.hints {
        messages::warn(hint);
    }
    let seconds = took.as_secs_f64();
    messages::status(format_args!(
        "{summary} in {seconds:.1} s ({} objects/s, {}/s)",
        messages::count(messages::per_second(summary.fetched, seconds)),
        messages::bytes(messages::per_second(summary.bytes, seconds))
    ));
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
