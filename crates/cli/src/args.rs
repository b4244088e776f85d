//! What the command line accepts, declared with clap's derive API: the
//! help of `crew-mrv --help` and of each subcommand, suggestions for
//! mistyped flags and subcommands, and the value checks. Every usage error
//! ends with exit status 2 (clap's own code for errors), so scheduled jobs
//! can tell a wrong command line from a file that could not be read (1).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;
use crew_mrv_core::config::{Confidence, DayOrder, Limits, DEFAULT_LAB_RELATIVE};
use crew_mrv_core::model::Flag;
use crew_mrv_core::period::Period;
use crew_mrv_core::{Config, ReplicatePolicy};

/// The six outputs and the exit status, shown after the options: a data
/// engineer setting up a job reads what lands in DIR and what the exit
/// status means without opening the README.
const OUTPUTS: &str = "\
OUTPUTS (written into DIR)
    co2_removal.csv       one row per plant and day: Ca, flow, CO2, flag
    lab_readings.csv      every accepted lab and sensor reading
    plant_operations.csv  one row per plant and day after merging reports
    qa_findings.csv       every QA/QC finding (levels 1-5)
    files.csv             each input: kind, plant, period, SHA-256, rows
    summary.json          key figures per plant, method version, inputs,
                          uncertainty (METHOD §7) and the settings
    sensitivity.csv       per plant, the VALID total with each input
                          scaled by 0.8 and 1.2 (and the other replicate
                          policy), and whether it moves by more than 1 %
    provenance.csv        per plant-day, each input row used: role, file,
                          sheet, row, column, value";

const EXIT_STATUS: &str = "\
EXIT STATUS
    0  every file was recognised and read
    1  some file could not be read (the others were processed and written)
    2  usage error, or the outputs could not be written";

/// The top-level help also describes `run` and its options and values:
/// most people type `crew-mrv --help` first, and `run` is what they came
/// for.
const RUN_AND_SAMPLE: &str = "\
run
    Reads every file given (directories are searched recursively for .csv,
    .xlsx and .xls files), recognises each by its content (calcium lab CSV,
    pH sensor CSV, Plant A operator workbook, Plant B monthly report, and
    expert review decisions: a CSV with columns plant_id, date,
    review_status = approved|rejected|unreviewed, note, reviewer,
    inputs_sha256; they never change a daily number, they decide which VALID
    days enter the certified total), applies the MRV method and writes the
    outputs below into DIR.
    Options:
        -o, --out DIR                  where to write (created if missing)
        --replicate-policy mean|first  the day's calcium from several samples:
                                       mean (default) or the first row (legacy)
        --confidence p16|p5            the conservative (creditable) total:
                                       total - 1 σ (p16, default) or
                                       total - 1.645 σ (p5)
        --lab-uncertainty 0.02         relative σ of a calcium sample whose
                                       rows state no uncertainty (default 0.02)
        --meter-uncertainty PLANT=PCT  a plant's effluent meter σ in percent
                                       (default 5); repeat for several plants
        --plant ID                     only this plant in co2_removal.csv,
                                       sensitivity.csv and the summary's
                                       key figures
        --from YYYY-MM-DD              first day (inclusive), same scope
        --to YYYY-MM-DD                last day (inclusive), same scope
        --flag FLAG                    only days with this quality flag; repeat
                                       for several (VALID, INVALID,
                                       MISSING_CA_READINGS, INVALID_FLOW,
                                       NO_OPS_DATA)
        --certified                    only certified days: VALID and approved
                                       by a reviewer on their current inputs
        -j, --jobs N                   files read at the same time (default:
                                       one per core); the outputs are the
                                       same bytes whatever N is
        -q, --quiet                    print nothing but errors
        --json                         print summary.json on stdout instead of
                                       the human summary (for scheduled jobs)
        --bundle FILE.zip              also an evidence bundle (deterministic zip:
                                       manifest.json, outputs, decisions)
        --bundle-inputs                put the input files into the bundle too
        --sql FILE                     also a psql script of the whole batch
                                       (schema if missing, COPY, one transaction)
        --parquet DIR                  also Hive-partitioned Parquet datasets
                                       (DIR/co2_removal/plant_id=…/year=…/)

report
    crew-mrv report [--by month|quarter] FILE_OR_DIR... prints one row per
    month (or quarter) and plant: CO2 over VALID days, certified and
    conservative (METHOD §7), plant-days by flag, coverage (VALID days with
    a figure over calendar days) and the share reviewed. --from, --to,
    --plant and run's settings apply; --csv FILE writes the table as the
    app's Report view downloads it, --json prints it for scripts.

explain
    crew-mrv explain PLANT YYYY-MM-DD FILE_OR_DIR... prints the day's
    calculation sheet: each calcium sample used (file, row, unique_id, value,
    uncertainty, duplicates collapsed into it), the operations row chosen
    (file, sheet, effluent-flow cell, generation time) and those it
    superseded, METHOD §4 step by step to the tonnes, findings and review.

verify
    crew-mrv verify BUNDLE.zip [FILE_OR_DIR...] re-runs the bundle's settings
    on the files given (or the inputs inside it) and exits 0 when every
    output matches byte for byte, 1 naming each missing, extra or changed
    input and each differing output with its first differing row.

load
    Loads the batch read from FILE_OR_DIR... into PostgreSQL with the same
    statements as run --sql: --database-url URL (postgresql://user@host:port/db),
    and run's --replicate-policy, --confidence, --lab-uncertainty and
    --meter-uncertainty. One transaction: a failure leaves nothing loaded.

sample
    Writes the deterministic sample data set (both plants, Q2 2025, every
    quirk of the real files) into DIR. --minute writes pH at minute cadence;
    --year writes a year of minute pH for N sensors (default 8) and a year of
    workbooks, for benchmarks. Legacy .xls files need python3 with xlwt 1.3.0.";

/// crew-mrv: turn wastewater plants' raw files into audited daily CO2 removal
#[derive(Debug, Parser)]
#[command(
    name = "crew-mrv",
    version = version(),
    after_help = format!("{RUN_AND_SAMPLE}\n\n{OUTPUTS}\n\n{EXIT_STATUS}")
)]
pub struct Cli {
    /// Without a command, the help is printed (exit status 0).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The version line names the method too: two runs are comparable only
/// when both are the same.
fn version() -> String {
    format!(
        "{} (method {})",
        env!("CARGO_PKG_VERSION"),
        crew_mrv_core::METHOD_VERSION
    )
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read plant and lab files, apply the MRV method, write the six outputs.
    #[command(after_help = format!("{OUTPUTS}\n\n{EXIT_STATUS}"))]
    Run(RunArgs),
    /// Print a plant-day's calculation sheet: the samples and operations
    /// rows it used (file, sheet, row, cell), METHOD §4 step by step, its
    /// findings and review.
    Explain(ExplainArgs),
    /// Re-run an evidence bundle's settings on the given files (or the ones
    /// inside it) and check every output byte for byte: exit 0 when all
    /// match, 1 naming each missing, extra or changed input and each
    /// differing output with its first differing row.
    Verify(VerifyArgs),
    /// Print the period report: per month (or quarter) and plant, CO2 over
    /// VALID days, certified and conservative, days by flag, coverage and
    /// reviewed share; --csv writes it as the app's "Download CSV" does.
    #[command(after_help = EXIT_STATUS)]
    Report(ReportArgs),
    /// Write the deterministic sample data set.
    #[command(after_help = EXIT_STATUS)]
    Sample(SampleArgs),
    /// Load the batch into PostgreSQL (schema created if missing; the same
    /// statements as `run --sql`), in one transaction.
    Load(crate::load::LoadArgs),
    /// Plant profiles (PROFILES.md): propose one for a new plant's
    /// operations file, check what one reads, print a built-in one.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to write the script for.
        shell: Shell,
    },
}

/// The settings that change numbers, shared by `run` and `load`: a batch
/// loaded into the database is the batch `run` would write, and both name
/// it by these.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// The day's calcium from several samples: mean (the method's default)
    /// or the first row (the legacy pipeline's choice).
    #[arg(long, value_name = "mean|first", default_value = "mean", value_parser = policy)]
    pub replicate_policy: ReplicatePolicy,
    /// The conservative (creditable) total: total - 1 σ (p16, the default)
    /// or total - 1.645 σ (p5).
    #[arg(long, value_name = "p16|p5", default_value = "p16", value_parser = confidence)]
    pub confidence: Confidence,
    /// Relative σ of a calcium sample whose rows state no uncertainty.
    #[arg(long, value_name = "FRACTION", default_value_t = DEFAULT_LAB_RELATIVE, value_parser = fraction, allow_hyphen_values = true)]
    pub lab_uncertainty: f64,
    /// A plant's effluent meter σ in percent (default 5); repeat for
    /// several plants.
    #[arg(long, value_name = "PLANT=PERCENT", value_parser = meter)]
    pub meter_uncertainty: Vec<(String, f64)>,
    /// How a slashed date such as 04/05/2025 is read when no date of its
    /// file has a part above 12: mdy (April 5) or dmy (4 May).
    #[arg(long, value_name = "mdy|dmy", default_value = "mdy", value_parser = day_order)]
    pub ambiguous_dates: DayOrder,
    /// The most bytes one run reads, all input files together; a run over
    /// it stops before reading anything.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_run_bytes)]
    pub max_run_bytes: u64,
}

impl SettingsArgs {
    /// The core's settings.
    pub fn config(&self) -> Config {
        let mut config = Config {
            replicate_policy: self.replicate_policy,
            confidence: self.confidence,
            lab_default_relative: self.lab_uncertainty,
            ambiguous_dates: self.ambiguous_dates,
            ..Config::default()
        };
        config.limits.max_run_bytes = self.max_run_bytes;
        for (plant, pct) in &self.meter_uncertainty {
            config.meter_uncertainty_percent.insert(plant.clone(), *pct);
        }
        config
    }
}

/// How many threads read the input files (`run`, `report`, `explain`,
/// `load`). The outputs are the same bytes whatever the number: only the
/// reading is spread; the merge and the method run on one thread, in input
/// order.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Files read at the same time, one per thread; by default one per
    /// core. The outputs are the same whatever N is.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

impl JobsArgs {
    /// The threads to use: `--jobs`, else every core.
    pub fn threads(&self) -> usize {
        self.jobs
            .map_or_else(crate::parallel::all_cores, usize::from)
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Where to write (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
    /// Only this plant in co2_removal.csv, sensitivity.csv and the
    /// summary's key figures.
    #[arg(long, value_name = "ID")]
    pub plant: Option<String>,
    /// First day (inclusive), same scope as --plant.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), same scope as --plant.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub to: Option<NaiveDate>,
    /// Only days with this quality flag; repeat for several (VALID, INVALID,
    /// MISSING_CA_READINGS, INVALID_FLOW, NO_OPS_DATA).
    #[arg(long = "flag", value_name = "FLAG", value_parser = flag)]
    pub flags: Vec<Flag>,
    /// Only certified days (VALID and approved on their current inputs),
    /// same scope as --plant.
    #[arg(long)]
    pub certified: bool,
    /// Print nothing but errors.
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    /// Print summary.json on stdout instead of the human summary (for
    /// scheduled jobs; errors still go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Also write the whole batch as a psql script (schema, then COPY in
    /// one transaction): `psql -f FILE`.
    #[arg(long, value_name = "FILE")]
    pub sql: Option<PathBuf>,
    /// Also write the whole batch as Hive-partitioned Parquet datasets
    /// (co2_removal/plant_id=.../year=.../part-0.parquet, and lab_readings,
    /// plant_operations, qa_findings) into DIR.
    #[arg(long, value_name = "DIR")]
    pub parquet: Option<PathBuf>,
    /// Also write an evidence bundle: a deterministic zip with
    /// manifest.json (versions, settings, each input's and output's
    /// SHA-256), the outputs and the decisions applied; `crew-mrv verify`
    /// re-runs it.
    #[arg(long, value_name = "FILE.zip")]
    pub bundle: Option<PathBuf>,
    /// Put the input files themselves into the bundle (off by default: they
    /// may be large or confidential).
    #[arg(long, requires = "bundle")]
    pub bundle_inputs: bool,
    /// Files (read whatever their extension) and directories (searched
    /// recursively for .csv, .xlsx and .xls files); at least one.
    #[arg(value_name = "FILE_OR_DIR")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Rows per calendar month or per quarter.
    #[arg(long, value_name = "month|quarter", default_value = "month", value_parser = period)]
    pub by: Period,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
    /// Only this plant.
    #[arg(long, value_name = "ID")]
    pub plant: Option<String>,
    /// First day (inclusive); without it, the first day of data.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); without it, the last day of data.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub to: Option<NaiveDate>,
    /// Also write the table as CSV (the bytes the app's "Download CSV"
    /// gives) to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Print the table, its range, plants and inputs as JSON instead of
    /// text.
    #[arg(long)]
    pub json: bool,
    /// Files and directories, as for run; at least one.
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The plant id, as in co2_removal.csv.
    #[arg(value_name = "PLANT")]
    pub plant: String,
    /// The day.
    #[arg(value_name = "YYYY-MM-DD", value_parser = date)]
    pub date: NaiveDate,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
    /// The run's input files and directories.
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The evidence bundle written by `run --bundle` (or the app).
    #[arg(value_name = "BUNDLE.zip")]
    pub bundle: PathBuf,
    /// The input files and directories to re-run on; without them, the
    /// inputs inside the bundle (`run --bundle-inputs`).
    #[arg(value_name = "FILE_OR_DIR")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print a proposed profile (TOML) for an operations file (.xlsx,
    /// .xls, .csv) no profile reads yet; save it, edit it, then `check` it.
    Suggest {
        /// The operations file.
        file: PathBuf,
    },
    /// Read files with a profile and print what it reads: the first days,
    /// the row account and the findings. Exit 1 when the profile has an
    /// error or a file is not read.
    Check {
        /// The profile (.toml).
        profile: PathBuf,
        /// Operations files to read with it.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a built-in profile (PLANT_A or PLANT_B) as TOML.
    Show {
        /// The plant id.
        plant_id: String,
    },
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Where to write (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// pH at minute cadence (the real loggers' rate) instead of the
    /// committed set's coarser one.
    #[arg(long, conflicts_with = "year")]
    pub minute: bool,
    /// A year of minute pH and workbooks, for benchmarks.
    #[arg(long)]
    pub year: bool,
    /// pH sensors for --year (implies it), 1 to 64; 8 by default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=64), conflicts_with = "minute")]
    pub sensors: Option<u8>,
}

fn period(s: &str) -> Result<Period, String> {
    Period::parse(s).ok_or_else(|| "it is month or quarter".to_string())
}

fn policy(s: &str) -> Result<ReplicatePolicy, String> {
    ReplicatePolicy::parse(s).ok_or_else(|| "it is mean or first".to_string())
}

pub(crate) fn day_order(s: &str) -> Result<DayOrder, String> {
    DayOrder::parse(s).ok_or_else(|| "it is mdy or dmy".to_string())
}

pub(crate) fn confidence(s: &str) -> Result<Confidence, String> {
    Confidence::parse(s).ok_or_else(|| "it is p16 or p5".to_string())
}

fn fraction(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| "--lab-uncertainty takes a fraction such as 0.02".to_string())
}

fn meter(s: &str) -> Result<(String, f64), String> {
    s.split_once('=')
        .and_then(|(p, x)| {
            let x = x.trim().parse::<f64>().ok()?;
            (!p.trim().is_empty() && x.is_finite() && x >= 0.0).then(|| (p.trim().to_string(), x))
        })
        .ok_or_else(|| "it takes PLANT=PERCENT such as PLANT_A=5".to_string())
}

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "a date is written YYYY-MM-DD".to_string())
}

fn flag(s: &str) -> Result<Flag, String> {
    Flag::parse(s).ok_or_else(|| "the quality flags are VALID, INVALID, MISSING_CA_READINGS, INVALID_FLOW and NO_OPS_DATA".to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// clap checks the declarations (duplicate flags, conflicts naming
    /// arguments that do not exist) only when asked; a mistake there would
    /// otherwise surface as a panic at a user's first run.
    #[test]
    fn the_declarations_are_consistent() {
        Cli::command().debug_assert();
    }
}
