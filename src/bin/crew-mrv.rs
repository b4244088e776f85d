//! The `crew-mrv` command line: the same core as the browser app, for data
//! engineers and scheduled jobs. Native only; on wasm32 this is empty.

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::collections::BTreeSet;
    use std::fs;
    use std::io::{BufWriter, Write};
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use chrono::NaiveDate;
    use crew_mrv::config::Confidence;
    use crew_mrv::export::{write_output, OUTPUT_FILES};
    use crew_mrv::method::{sensitivity, uncertainty};
    use crew_mrv::model::Flag;
    use crew_mrv::{run, Config, Filter, Kpis, ReplicatePolicy, Report, Source};

    const HELP: &str = "\
crew-mrv — turn wastewater plants' raw files into audited daily CO2 removal

USAGE:
    crew-mrv run [OPTIONS] --out DIR FILE_OR_DIR...
    crew-mrv sample --out DIR [--minute | --year [--sensors N]]
    crew-mrv --help | --version

run
    Reads every file given (directories are searched recursively for .csv,
    .xlsx and .xls files), recognises each by its content (calcium lab CSV,
    pH sensor CSV, Plant A operator workbook, Plant B monthly report, and
    expert review decisions: a CSV with columns plant_id, date,
    review_status = approved|rejected|unreviewed, note, reviewer; they
    become level-5 findings and never change a number), applies the MRV
    method and writes into DIR:
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
    Options:
        --out DIR                      where to write (created if missing)
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
        -q, --quiet                    print nothing but errors

sample
    Writes the deterministic sample data set (both plants, Q2 2025, every
    quirk of the real files) into DIR. --minute writes pH at minute cadence;
    --year writes a year of minute pH for N sensors (default 8) and a year of
    workbooks, for benchmarks. Legacy .xls files need python3 with xlwt 1.3.0.

EXIT STATUS
    0  every file was recognised and read
    1  some file could not be read (the others were processed and written)
    2  usage error, or the outputs could not be written
";

    struct RunArgs {
        out: PathBuf,
        inputs: Vec<PathBuf>,
        policy: ReplicatePolicy,
        filter: Filter,
        quiet: bool,
        /// METHOD §7's settings (the rest of `Config` stays default).
        uncertainty: Config,
    }

    fn usage(msg: &str) -> ExitCode {
        eprintln!("crew-mrv: {msg}\nTry 'crew-mrv --help'.");
        ExitCode::from(2)
    }

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match args.first().map(String::as_str) {
            None | Some("-h" | "--help" | "help") => {
                print!("{HELP}");
                ExitCode::SUCCESS
            }
            Some("-V" | "--version") => {
                println!(
                    "crew-mrv {} (method {})",
                    env!("CARGO_PKG_VERSION"),
                    crew_mrv::METHOD_VERSION
                );
                ExitCode::SUCCESS
            }
            Some("run") if args[1..].iter().any(|a| a == "-h" || a == "--help") => {
                print!("{HELP}");
                ExitCode::SUCCESS
            }
            Some("run") => match parse_run(&args[1..]) {
                Ok(a) => run_cmd(a),
                Err(e) => usage(&e),
            },
            Some("sample") => sample_cmd(&args[1..]),
            Some(other) => usage(&format!("unknown command '{other}'")),
        }
    }

    fn value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str, String> {
        *i += 1;
        args.get(*i)
            .map(String::as_str)
            .ok_or_else(|| format!("{flag} needs a value"))
    }

    fn date(s: &str, flag: &str) -> Result<NaiveDate, String> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("{flag} takes a date as YYYY-MM-DD, not '{s}'"))
    }

    fn parse_run(args: &[String]) -> Result<RunArgs, String> {
        let mut out = None;
        let mut inputs = Vec::new();
        let mut policy = ReplicatePolicy::Mean;
        let mut filter = Filter::default();
        let mut quiet = false;
        let mut uncertainty = Config::default();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v)),
                _ => (a, None),
            };
            let val = |i: &mut usize| -> Result<String, String> {
                match inline {
                    Some(v) => Ok(v.to_string()),
                    None => value(args, i, flag).map(str::to_string),
                }
            };
            match flag {
                "--out" | "-o" => out = Some(PathBuf::from(val(&mut i)?)),
                "--replicate-policy" => {
                    let v = val(&mut i)?;
                    policy = ReplicatePolicy::parse(&v)
                        .ok_or_else(|| format!("--replicate-policy is mean or first, not '{v}'"))?;
                }
                "--plant" => filter.plant = Some(val(&mut i)?),
                "--from" => filter.from = Some(date(&val(&mut i)?, "--from")?),
                "--to" => filter.to = Some(date(&val(&mut i)?, "--to")?),
                "--flag" => {
                    let v = val(&mut i)?;
                    let f = Flag::parse(&v).ok_or_else(|| format!("unknown quality flag '{v}'"))?;
                    filter.flags.get_or_insert_with(BTreeSet::new).insert(f);
                }
                "--confidence" => {
                    let v = val(&mut i)?;
                    uncertainty.confidence = Confidence::parse(&v)
                        .ok_or_else(|| format!("--confidence is p16 or p5, not '{v}'"))?;
                }
                "--lab-uncertainty" => {
                    let v = val(&mut i)?;
                    uncertainty.lab_default_relative = v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x >= 0.0)
                        .ok_or_else(|| {
                            format!("--lab-uncertainty takes a fraction such as 0.02, not '{v}'")
                        })?;
                }
                "--meter-uncertainty" => {
                    let v = val(&mut i)?;
                    let (plant, pct) = v
                        .split_once('=')
                        .and_then(|(p, x)| {
                            let x = x.trim().parse::<f64>().ok()?;
                            (!p.trim().is_empty() && x.is_finite() && x >= 0.0)
                                .then(|| (p.trim().to_string(), x))
                        })
                        .ok_or_else(|| {
                            format!("--meter-uncertainty takes PLANT=PERCENT such as PLANT_A=5, not '{v}'")
                        })?;
                    uncertainty.meter_uncertainty_percent.insert(plant, pct);
                }
                "-q" | "--quiet" => quiet = true,
                s if s.starts_with('-') && s.len() > 1 => {
                    return Err(format!("unknown option '{s}'"))
                }
                _ => inputs.push(PathBuf::from(a)),
            }
            i += 1;
        }
        let out = out.ok_or("run needs --out DIR")?;
        if inputs.is_empty() {
            return Err("run needs at least one input file or directory".into());
        }
        if let (Some(f), Some(t)) = (filter.from, filter.to) {
            if f > t {
                return Err(format!("--from {f} is after --to {t}"));
            }
        }
        Ok(RunArgs {
            out,
            inputs,
            policy,
            filter,
            quiet,
            uncertainty,
        })
    }

    fn is_input_file(p: &Path) -> bool {
        matches!(
            p.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("csv" | "xlsx" | "xls" | "txt" | "tsv")
        )
    }

    /// Files named directly are always read; directories contribute the
    /// files that look like inputs, recursively, hidden ones excluded.
    fn collect(path: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    errors.push(format!("{}: {e}", path.display()));
                    return;
                }
            };
            entries.sort();
            for p in entries {
                let hidden = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'));
                if hidden {
                    continue;
                }
                if p.is_dir() {
                    collect(&p, out, errors);
                } else if is_input_file(&p) {
                    out.push(p);
                }
            }
        } else if path.exists() {
            out.push(path.to_path_buf());
        } else {
            errors.push(format!("{}: no such file or directory", path.display()));
        }
    }

    fn run_cmd(a: RunArgs) -> ExitCode {
        let mut paths = Vec::new();
        let mut missing = Vec::new();
        for p in &a.inputs {
            collect(p, &mut paths, &mut missing);
        }
        if !missing.is_empty() {
            for m in &missing {
                eprintln!("crew-mrv: {m}");
            }
            return ExitCode::from(2);
        }
        let mut sources = Vec::with_capacity(paths.len());
        let mut unreadable = false;
        for p in &paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string());
            match fs::read(p) {
                Ok(bytes) => sources.push(Source::new(name, bytes)),
                Err(e) => {
                    eprintln!("crew-mrv: {}: {e}", p.display());
                    unreadable = true;
                }
            }
        }
        let config = Config {
            replicate_policy: a.policy,
            ..a.uncertainty.clone()
        };
        let report = run(&sources, &config);
        if let Err(e) = write_all(&report, &a.filter, &a.out) {
            eprintln!("crew-mrv: cannot write to {}: {e}", a.out.display());
            return ExitCode::from(2);
        }
        if !a.quiet {
            print_summary(&report, &a.filter, &a.out);
        }
        for f in report.files.iter().filter(|f| f.error.is_some()) {
            if let Some(e) = &f.error {
                eprintln!("crew-mrv: {}: {e}", f.name);
            }
        }
        if unreadable || !report.all_files_read() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    fn write_all(report: &Report, filter: &Filter, dir: &Path) -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        for name in OUTPUT_FILES {
            let mut w = BufWriter::new(fs::File::create(dir.join(name))?);
            write_output(name, report, filter, &mut w)?;
            w.flush()?;
        }
        Ok(())
    }

    fn print_summary(report: &Report, filter: &Filter, out: &Path) {
        println!(
            "CREW MRV — method {}, replicate policy {}",
            report.method_version, report.replicate_policy
        );
        println!("\nFiles ({}):", report.files.len());
        for f in &report.files {
            let acc = f.account_in_run();
            let status = match (&f.duplicate_of, &f.error) {
                (Some(o), _) => format!("DUPLICATE of {o}"),
                (None, Some(e)) => format!("NOT READ ({})", e.code()),
                (None, None) => "ok".to_string(),
            };
            println!(
                "  {:<48} {:<15} {:<8} {:<23} rows {:>7} = records {:>7} + skipped {:>5}  {}",
                f.name,
                f.kind.map(|k| k.as_str()).unwrap_or("-"),
                f.plant_id.as_deref().unwrap_or("-"),
                f.period
                    .map(|(a, b)| format!("{a}..{b}"))
                    .unwrap_or_else(|| "-".into()),
                acc.rows_in,
                acc.records,
                acc.skipped_total(),
                status
            );
        }
        let days: Vec<_> = report.days(filter).collect();
        println!("\nCO2 removal (VALID days only):");
        for p in report.plants() {
            let k = Kpis::of(days.iter().copied().filter(|d| d.plant_id == p));
            if k.days == 0 {
                continue;
            }
            let flags: Vec<String> = k
                .days_by_flag
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(f, n)| format!("{f} {n}"))
                .collect();
            println!(
                "  {:<10} {:>10.3} t over {:>3} valid of {:>3} days ({}), {} to {}",
                p,
                k.co2_removed_t,
                k.valid_days,
                k.days,
                flags.join(", "),
                k.first_date.map(|d| d.to_string()).unwrap_or_default(),
                k.last_date.map(|d| d.to_string()).unwrap_or_default()
            );
        }
        let all = Kpis::of(days.iter().copied());
        println!(
            "  {:<10} {:>10.3} t over {:>3} valid of {:>3} days",
            "all", all.co2_removed_t, all.valid_days, all.days
        );
        print_uncertainty(report, filter);
        let sev = report.findings_by_severity();
        println!(
            "\nQA findings: {} errors, {} warnings, {} info",
            sev.get(&crew_mrv::model::Severity::Error).unwrap_or(&0),
            sev.get(&crew_mrv::model::Severity::Warning).unwrap_or(&0),
            sev.get(&crew_mrv::model::Severity::Info).unwrap_or(&0)
        );
        println!("\nWrote {} to {}", OUTPUT_FILES.join(", "), out.display());
    }

    /// METHOD §7 per plant: total ± σ, the conservative total, the
    /// discount, and the inputs the total is sensitive to.
    fn print_uncertainty(report: &Report, filter: &Filter) {
        let period = uncertainty::period(report, filter);
        let table = sensitivity::table(report, filter);
        println!(
            "\nCreditable CO2 (METHOD §7, confidence {}, z = {}):",
            period.all.confidence, period.all.z
        );
        let line = |name: &str, u: &uncertainty::PeriodUncertainty, sensitive: String| {
            println!(
                "  {:<10} {:>10.3} ± {:.3} t, conservative {:>10.3} t, discount {:.3} t{}",
                name, u.total_t, u.sigma_t, u.conservative_t, u.uncertainty_discount_t, sensitive
            );
        };
        for (p, u) in &period.plants {
            let mut inputs: Vec<&str> = table
                .iter()
                .filter(|r| r.plant_id == *p && r.sensitive)
                .map(|r| r.input.as_str())
                .collect();
            inputs.dedup();
            let sensitive = if inputs.is_empty() {
                ", sensitive to no input".to_string()
            } else {
                format!(", sensitive to {}", inputs.join(", "))
            };
            line(p, u, sensitive);
        }
        line("all", &period.all, String::new());
    }

    fn sample_cmd(args: &[String]) -> ExitCode {
        use crew_mrv::sample::{write_dir, SampleOptions};
        let mut out = None;
        let mut opts = SampleOptions::committed();
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--out" | "-o" => match value(args, &mut i, "--out") {
                    Ok(v) => out = Some(PathBuf::from(v)),
                    Err(e) => return usage(&e),
                },
                "--minute" => opts = SampleOptions::minute(),
                "--year" => opts = SampleOptions::year(8),
                "--sensors" => match value(args, &mut i, "--sensors").map(str::parse::<usize>) {
                    Ok(Ok(n)) if (1..=64).contains(&n) => opts = SampleOptions::year(n),
                    _ => {
                        return usage("--sensors takes a number from 1 to 64 (and implies --year)")
                    }
                },
                other => return usage(&format!("unknown option '{other}' for sample")),
            }
            i += 1;
        }
        let Some(out) = out else {
            return usage("sample needs --out DIR");
        };
        match write_dir(&opts, &out) {
            Ok(names) => {
                println!("Wrote {} files to {}", names.len(), out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("crew-mrv: {e}");
                ExitCode::from(2)
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
