//! The `crew-mrv` command line: the same core as the browser app, for data
//! engineers and scheduled jobs. Native only; on wasm32 this is empty.

#[cfg(not(target_arch = "wasm32"))]
mod args;
#[cfg(not(target_arch = "wasm32"))]
mod load;
#[cfg(not(target_arch = "wasm32"))]
mod parallel;
#[cfg(not(target_arch = "wasm32"))]
mod progress;
#[cfg(not(target_arch = "wasm32"))]
mod terminal;

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::collections::BTreeSet;
    use std::fs;
    use std::io::{BufWriter, Write};
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use clap::error::ErrorKind;
    use clap::{CommandFactory, Parser};
    use crew_mrv_core::export::{output_bytes, write_output, Output};
    use crew_mrv_core::method::{sensitivity, uncertainty};
    use crew_mrv_core::{assemble, read_file_with, Config, Filter, ImportStore, Kpis, Report, Run};

    use crate::args::{Cli, Command, ExplainArgs, ReportArgs, RunArgs, SampleArgs, VerifyArgs};
    use crate::parallel;
    pub(crate) use crate::progress::Progress;
    use crate::terminal::{shown, shown_path};
    use crew_mrv_core::bundle;
    use crew_mrv_core::Source;

    /// A usage error found after parsing (one clap cannot see, such as two
    /// dates in the wrong order), printed the way clap prints its own:
    /// message, usage, pointer to `--help`; exit status 2.
    fn usage(kind: ErrorKind, msg: &str) -> ExitCode {
        let mut cmd = Cli::command();
        // Built, the subcommand knows its full name for the usage line.
        cmd.build();
        let _ = match cmd.find_subcommand_mut("run") {
            Some(run) => run.error(kind, msg),
            None => cmd.error(kind, msg),
        }
        .print();
        ExitCode::from(2)
    }

    pub fn main() -> ExitCode {
        let cli = match Cli::try_parse() {
            Ok(cli) => cli,
            Err(e) => {
                // Help and version go to stdout with status 0; every other
                // outcome is a usage error (2), whatever clap's own code.
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
        match cli.command {
            None => {
                let _ = Cli::command().print_help();
                ExitCode::SUCCESS
            }
            Some(Command::Run(a)) => run_cmd(a),
            Some(Command::Report(a)) => report_cmd(a),
            Some(Command::Sample(a)) => sample_cmd(a),
            Some(Command::Verify(a)) => verify_cmd(a),
            Some(Command::Explain(a)) => explain_cmd(a),
            Some(Command::Load(a)) => crate::load::load_cmd(a),
            Some(Command::Profile(c)) => profile_cmd(c),
            Some(Command::Completions { shell }) => {
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "crew-mrv",
                    &mut std::io::stdout(),
                );
                ExitCode::SUCCESS
            }
        }
    }

    fn is_input_file(p: &Path) -> bool {
        matches!(
            p.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("csv" | "xlsx" | "xls" | "txt" | "tsv" | "toml")
        )
    }

    /// Files named directly are always read; directories contribute the
    /// files that look like inputs, recursively, hidden ones excluded. A
    /// symbolic link inside a directory is followed only to a place inside
    /// that directory: one pointing elsewhere (`/etc`, a home folder) is
    /// skipped and named in `notes`.
    pub(crate) fn collect(
        path: &Path,
        out: &mut Vec<PathBuf>,
        errors: &mut Vec<String>,
        notes: &mut Vec<String>,
    ) {
        if path.is_dir() {
            let root = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let mut seen = BTreeSet::new();
            collect_dir(path, &root, out, errors, notes, &mut seen);
        } else if path.exists() {
            out.push(path.to_path_buf());
        } else {
            errors.push(format!("{}: no such file or directory", shown_path(path)));
        }
    }

    fn collect_dir(
        dir: &Path,
        root: &Path,
        out: &mut Vec<PathBuf>,
        errors: &mut Vec<String>,
        notes: &mut Vec<String>,
        seen: &mut BTreeSet<PathBuf>,
    ) {
        // A link back to a folder already walked would loop forever.
        if !seen.insert(fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
            return;
        }
        let mut entries: Vec<PathBuf> = match fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push(format!("{}: {e}", shown_path(dir)));
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
            let is_link = fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
            if is_link {
                match fs::canonicalize(&p) {
                    Ok(target) if target.starts_with(root) => {}
                    Ok(target) => {
                        notes.push(format!(
                            "{}: skipped, a symbolic link to {}, outside {}",
                            shown_path(&p),
                            shown_path(&target),
                            shown_path(root)
                        ));
                        continue;
                    }
                    Err(e) => {
                        notes.push(format!(
                            "{}: skipped, a symbolic link that cannot be followed ({e})",
                            shown_path(&p)
                        ));
                        continue;
                    }
                }
            }
            if p.is_dir() {
                collect_dir(&p, root, out, errors, notes, seen);
            } else if is_input_file(&p) {
                out.push(p);
            }
        }
    }

    /// The files the command line names, directories searched; a missing
    /// path is a usage error (exit status 2), named on stderr, and so is a
    /// set of files larger together than the run's budget (checked from
    /// their sizes, before any is read).
    pub(crate) fn input_paths(
        inputs: &[PathBuf],
        config: &Config,
    ) -> Result<Vec<PathBuf>, ExitCode> {
        let mut paths = Vec::new();
        let mut missing = Vec::new();
        let mut notes = Vec::new();
        for p in inputs {
            collect(p, &mut paths, &mut missing, &mut notes);
        }
        for n in &notes {
            eprintln!("crew-mrv: {n}");
        }
        if !missing.is_empty() {
            for m in &missing {
                eprintln!("crew-mrv: {m}");
            }
            return Err(ExitCode::from(2));
        }
        let total: u64 = paths
            .iter()
            .filter_map(|p| fs::metadata(p).ok())
            .map(|m| m.len())
            .fold(0, u64::saturating_add);
        let budget = config.limits.max_run_bytes;
        if total > budget {
            eprintln!(
                "crew-mrv: the {} input files total {total} bytes, more than this run may read ({budget} bytes); nothing was read. Split the inputs into several runs or raise --max-run-bytes.",
                paths.len()
            );
            return Err(ExitCode::from(2));
        }
        Ok(paths)
    }

    /// Each file is read, imported and dropped by one of `jobs` threads,
    /// so a run holds at most `jobs` files' bytes at a time (a file that
    /// is most of the set is read in pieces on its share of the threads,
    /// `parallel::share`); the imports
    /// come back in the order of `paths` and `assemble` then orders them
    /// exactly as the core's `run` would, so the outputs are the same
    /// bytes whatever `jobs` is. The flag says some file could not be read
    /// from disk (named on stderr, in the order of `paths`).
    pub(crate) fn import_all(
        paths: &[PathBuf],
        config: &Config,
        progress: &Progress,
        jobs: usize,
    ) -> (Run, bool) {
        let mut files = Vec::with_capacity(paths.len());
        let mut unreadable = false;
        // Plant profiles first (recognised by content, as the core's `run`
        // does): they read the operations files beside them.
        let (profiles, data): (Vec<&PathBuf>, Vec<&PathBuf>) =
            paths.iter().partition(|p| starts_like_profile(p));
        let mut config = config.clone();
        for (pass, paths) in [profiles, data].into_iter().enumerate() {
            if pass == 1 {
                config = crew_mrv_core::with_profiles(&config, &files);
            }
            let config = &config;
            let sizes: Vec<u64> = paths
                .iter()
                .map(|p| fs::metadata(p).map_or(0, |m| m.len()))
                .collect();
            let total = sizes.iter().sum();
            let read = parallel::map_ordered(&parallel::largest_first(&sizes), jobs, |i| {
                let p = paths.get(i)?;
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string());
                progress.file(&shown(&name));
                let spread = parallel::Threads {
                    width: parallel::share(jobs, sizes.get(i).copied().unwrap_or(0), total),
                };
                Some(fs::read(p).map(|bytes| read_file_with(&name, &bytes, config, &spread)))
            });
            for (p, r) in paths.iter().zip(read) {
                match r {
                    Some(Ok(f)) => files.push(f),
                    Some(Err(e)) => {
                        progress.suspend(|| eprintln!("crew-mrv: {}: {e}", shown_path(p)));
                        unreadable = true;
                    }
                    None => {}
                }
            }
        }
        progress.stage("applying the method");
        let mut store = ImportStore::new(files);
        let report = assemble(&mut store, &config);
        (Run { report, store }, unreadable)
    }

    /// Whether a file starts as a plant profile does, from its first
    /// 64 KB (the `profile` key comes first, after comments at most).
    fn starts_like_profile(p: &Path) -> bool {
        use std::io::Read;
        let mut head = Vec::new();
        fs::File::open(p)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
            .is_ok_and(|_| crew_mrv_core::profile::looks_like_profile(&head))
    }

    fn run_cmd(a: RunArgs) -> ExitCode {
        if a.inputs.is_empty() {
            return usage(
                ErrorKind::MissingRequiredArgument,
                "run needs at least one input file or directory",
            );
        }
        if let (Some(f), Some(t)) = (a.from, a.to) {
            if f > t {
                return usage(
                    ErrorKind::ArgumentConflict,
                    &format!("--from {f} is after --to {t}"),
                );
            }
        }
        let filter = Filter {
            plant: a.plant.clone(),
            from: a.from,
            to: a.to,
            flags: (!a.flags.is_empty()).then(|| a.flags.iter().copied().collect::<BTreeSet<_>>()),
        };
        let config = a.settings.config();
        let paths = match input_paths(&a.inputs, &config) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let progress = Progress::start(paths.len() as u64, !a.quiet && !a.json);
        let (mut run, unreadable) = import_all(&paths, &config, &progress, a.jobs.threads());
        if a.certified {
            run.report.retain_certified();
        }
        let report = &run.report;
        progress.stage("writing the outputs");
        let written = write_all(&run, &filter, &a.out, a.jobs.threads())
            .and_then(|()| match &a.sql {
                Some(path) => crate::load::write_sql(&run, path),
                None => Ok(()),
            })
            .and_then(|()| match &a.parquet {
                Some(dir) => crate::load::write_parquet(&run, dir),
                None => Ok(()),
            })
            .and_then(|()| match &a.bundle {
                Some(path) => write_bundle(&run, &config, &filter, &paths, a.bundle_inputs, path),
                None => Ok(()),
            });
        progress.finish();
        if let Err(e) = written {
            eprintln!("crew-mrv: cannot write to {}: {e}", shown_path(&a.out));
            return ExitCode::from(2);
        }
        if a.json {
            let mut out = std::io::stdout().lock();
            let _ = out
                .write_all(&output_bytes(Output::Summary, &run, &filter))
                .and_then(|()| out.flush());
        } else if !a.quiet {
            print_summary(report, &filter, &a.out);
        }
        exit_status(report, unreadable)
    }

    /// Each file that could not be read, named on stderr; the exit status
    /// says whether any was (1) or all were read (0). `run` and `load`
    /// end the same way.
    pub(crate) fn exit_status(report: &Report, unreadable: bool) -> ExitCode {
        for f in &report.files {
            if let Some(e) = &f.error {
                eprintln!("crew-mrv: {}: {}", shown(&f.name), shown(&e.to_string()));
            }
        }
        if unreadable || !report.all_files_read() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// The files as (name, bytes), read again for the bundle: the run
    /// itself held one file at a time.
    fn read_sources(paths: &[PathBuf]) -> std::io::Result<Vec<Source>> {
        paths
            .iter()
            .map(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string());
                fs::read(p).map(|b| Source::new(name, b))
            })
            .collect()
    }

    fn write_bundle(
        run: &Run,
        config: &Config,
        filter: &Filter,
        paths: &[PathBuf],
        with_inputs: bool,
        path: &Path,
    ) -> std::io::Result<()> {
        let sources = if with_inputs {
            Some(read_sources(paths)?)
        } else {
            None
        };
        let bytes = bundle::bundle(
            run,
            &bundle::BundleSettings {
                tool_version: bundle::TOOL_VERSION,
                config,
                filter,
                inputs: sources.as_deref(),
            },
        );
        fs::write(path, bytes)
    }

    fn report_cmd(a: ReportArgs) -> ExitCode {
        use crew_mrv_core::model::Flag;
        use crew_mrv_core::period::period_report;
        if let (Some(f), Some(t)) = (a.from, a.to) {
            if f > t {
                return usage(
                    ErrorKind::ArgumentConflict,
                    &format!("--from {f} is after --to {t}"),
                );
            }
        }
        let filter = Filter {
            plant: a.plant.clone(),
            from: a.from,
            to: a.to,
            flags: None,
        };
        let config = a.settings.config();
        let paths = match input_paths(&a.inputs, &config) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let (run, unreadable) = import_all(
            &paths,
            &config,
            &Progress::start(0, false),
            a.jobs.threads(),
        );
        let report = &run.report;
        if let Some(path) = &a.csv {
            let bytes = output_bytes(Output::PeriodReport(a.by), &run, &filter);
            if let Err(e) = fs::write(path, bytes) {
                eprintln!("crew-mrv: cannot write {}: {e}", shown_path(path));
                return ExitCode::from(2);
            }
        }
        let table = period_report(report, &filter, a.by);
        if a.json {
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &table)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            return exit_status(report, unreadable);
        }
        let range = match (table.from, table.to) {
            (Some(f), Some(t)) => format!("{f} to {t}"),
            _ => "no days".to_string(),
        };
        let plants: Vec<String> = table.plants.iter().map(|p| shown(p).into_owned()).collect();
        println!(
            "CREW MRV period report by {} — method {}\n{range}, {} plant(s): {}\n",
            a.by,
            table.method_version,
            plants.len(),
            plants.join(", ")
        );
        println!(
            "{:<7}  {:<10} {:>12} {:>12} {:>14} {:>10} {:>6} {:>7} {:>8} {:>8} {:>6} {:>9} {:>9}",
            "period",
            "plant",
            "CO2 VALID t",
            "certified t",
            "conservative t",
            "plant-days",
            "VALID",
            "INVALID",
            "MISS_CA",
            "BAD_FLOW",
            "NO_OPS",
            "coverage",
            "reviewed"
        );
        for r in &table.rows {
            let n = |f: Flag| r.days_by_flag.get(&f).copied().unwrap_or(0);
            println!(
                "{:<7}  {:<10} {:>12.3} {:>12.3} {:>14.3} {:>10} {:>6} {:>7} {:>8} {:>8} {:>6} {:>8.1}% {:>8.1}%",
                r.period,
                shown(&r.plant_id),
                r.co2_valid_t,
                r.co2_certified_t,
                r.co2_conservative_t,
                r.plant_days,
                n(Flag::Valid),
                n(Flag::Invalid),
                n(Flag::MissingCaReadings),
                n(Flag::InvalidFlow),
                n(Flag::NoOpsData),
                r.coverage_percent,
                r.reviewed_percent
            );
        }
        println!("\nInputs (SHA-256):");
        for (name, sha) in &table.inputs {
            println!("  {sha}  {}", shown(name));
        }
        if let Some(path) = &a.csv {
            println!("\nWrote {}", shown_path(path));
        }
        exit_status(report, unreadable)
    }

    fn explain_cmd(a: ExplainArgs) -> ExitCode {
        let config = a.settings.config();
        let paths = match input_paths(&a.inputs, &config) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let (run, _) = import_all(
            &paths,
            &config,
            &Progress::start(0, false),
            a.jobs.threads(),
        );
        match crew_mrv_core::explain::explain(&run, &a.plant, a.date) {
            Some(sheet) => {
                // The sheet quotes file names and cells: each line is shown
                // like any other text from a file.
                for line in sheet.to_string().lines() {
                    println!("{}", shown(line));
                }
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "crew-mrv: no day {} {} in these files",
                    shown(&a.plant),
                    a.date
                );
                ExitCode::from(1)
            }
        }
    }

    fn verify_cmd(a: VerifyArgs) -> ExitCode {
        let bytes = match fs::read(&a.bundle) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("crew-mrv: {}: {e}", shown_path(&a.bundle));
                return ExitCode::from(2);
            }
        };
        let opened = match bundle::open(&bytes) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("crew-mrv: {}: {e}", shown_path(&a.bundle));
                return ExitCode::from(2);
            }
        };
        let sources = if a.inputs.is_empty() {
            if !opened.manifest.inputs_included {
                eprintln!(
                    "crew-mrv: {} holds no input files (written without --bundle-inputs): give the files to verify against",
                    shown_path(&a.bundle)
                );
                return ExitCode::from(2);
            }
            opened.inputs()
        } else {
            let paths = match input_paths(&a.inputs, &opened.manifest.config) {
                Ok(p) => p,
                Err(code) => return code,
            };
            match read_sources(&paths) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("crew-mrv: {e}");
                    return ExitCode::from(2);
                }
            }
        };
        let v = bundle::verify(&opened, &sources);
        let m = &opened.manifest;
        println!(
            "Bundle {}: tool {}, method {}, {} inputs, {} outputs",
            shown_path(&a.bundle),
            m.tool_version,
            m.method_version,
            m.inputs.len(),
            m.outputs.len()
        );
        for name in &v.matching_outputs {
            println!("  ok      {}", shown(name));
        }
        let problems = v.problems();
        for p in &problems {
            println!("  FAILED  {}", shown(&p.to_string()));
        }
        if v.ok() {
            println!("Verified: every output matches byte for byte.");
            ExitCode::SUCCESS
        } else {
            println!("Not verified: {} problem(s).", problems.len());
            ExitCode::from(1)
        }
    }

    /// Every output into `dir`. `lab_readings.csv` (nearly all of the
    /// bytes: a row per sensor reading) is formatted in parts on `jobs`
    /// threads and written in order while one more thread writes the
    /// other, small files; each file's bytes are those of a one-thread run.
    fn write_all(run: &Run, filter: &Filter, dir: &Path, jobs: usize) -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        let small = || -> std::io::Result<()> {
            for output in Output::ALL {
                if output == Output::LabReadings {
                    continue;
                }
                let mut w = BufWriter::new(fs::File::create(dir.join(output.file_name()))?);
                write_output(output, run, filter, &mut w)?;
                w.flush()?;
            }
            let mut w = BufWriter::new(fs::File::create(
                dir.join(crew_mrv_core::export::PROVENANCE_FILE),
            )?);
            crew_mrv_core::export::write_provenance(run, filter, &mut w)?;
            w.flush()
        };
        let lab = || -> std::io::Result<()> {
            let path = dir.join(Output::LabReadings.file_name());
            write_lab_readings(run, &path, jobs)
        };
        if jobs <= 1 {
            return small().and_then(|()| lab());
        }
        std::thread::scope(|s| {
            let other = s.spawn(small);
            let lab = lab();
            let other = other
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("an output thread failed")));
            lab.and(other)
        })
    }

    /// `lab_readings.csv`: `jobs` parts formatted at a time, each into its
    /// own buffer, then written in order, so at most `jobs` parts (about
    /// 10 MB each) are held besides the records.
    fn write_lab_readings(run: &Run, path: &Path, jobs: usize) -> std::io::Result<()> {
        let parts = crew_mrv_core::export::LabReadingsCsv::new(&run.report, &run.store);
        let mut file = fs::File::create(path)?;
        let all: Vec<usize> = (0..parts.len()).collect();
        for window in all.chunks(jobs.max(1)) {
            let order: Vec<usize> = (0..window.len()).collect();
            let bufs = parallel::map_ordered(&order, jobs, |k| {
                let mut buf = Vec::new();
                window
                    .get(k)
                    .map_or(Ok(()), |i| parts.write_part(*i, &mut buf))
                    .map(|()| buf)
            });
            for buf in bufs {
                file.write_all(&buf?)?;
            }
        }
        file.flush()
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
                (Some(o), _) => format!("DUPLICATE of {}", shown(o)),
                (None, Some(e)) => format!("NOT READ ({})", e.code()),
                (None, None) => "ok".to_string(),
            };
            println!(
                "  {:<48} {:<15} {:<8} {:<23} rows {:>7} = records {:>7} + skipped {:>5}  {}",
                shown(&f.name),
                f.kind.map(|k| k.as_str()).unwrap_or("-"),
                shown(f.plant_id.as_deref().unwrap_or("-")),
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
                shown(&p),
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
        println!("\nCertified CO2 (VALID and approved by a reviewer):");
        let certified = |name: &str, k: &Kpis| {
            let reviews: Vec<String> = k
                .days_by_review
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| format!("{} {n}", s.as_str()))
                .collect();
            println!(
                "  {:<10} {:>10.3} t over {:>3} certified days ({})",
                shown(name),
                k.co2_certified_t,
                k.certified_days,
                reviews.join(", ")
            );
        };
        for p in report.plants() {
            let k = Kpis::of(days.iter().copied().filter(|d| d.plant_id == p));
            if k.days > 0 {
                certified(&p, &k);
            }
        }
        certified("all", &all);
        print_uncertainty(report, filter);
        let sev = report.findings_by_severity();
        println!(
            "\nQA findings: {} errors, {} warnings, {} info",
            sev.get(&crew_mrv_core::model::Severity::Error)
                .unwrap_or(&0),
            sev.get(&crew_mrv_core::model::Severity::Warning)
                .unwrap_or(&0),
            sev.get(&crew_mrv_core::model::Severity::Info).unwrap_or(&0)
        );
        let mut names: Vec<&str> = Output::ALL.iter().map(|o| o.file_name()).collect();
        names.push(crew_mrv_core::export::PROVENANCE_FILE);
        println!("\nWrote {} to {}", names.join(", "), shown_path(out));
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
            line(&shown(p), u, sensitive);
        }
        line("all", &period.all, String::new());
    }

    fn profile_cmd(c: crate::args::ProfileCommand) -> ExitCode {
        use crate::args::ProfileCommand;
        use crew_mrv_core::import::profile_reader;
        use crew_mrv_core::profile;
        let config = Config::default();
        let file_name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string())
        };
        match c {
            ProfileCommand::Show { plant_id } => match profile::builtin_text(&plant_id) {
                Some(t) => {
                    print!("{t}");
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!(
                        "crew-mrv: no built-in profile for {}; the built-in ones are {}",
                        shown(&plant_id),
                        profile::BUILTIN_SOURCES.map(|(id, _)| id).join(", ")
                    );
                    ExitCode::from(2)
                }
            },
            ProfileCommand::Suggest { file } => {
                let bytes = match fs::read(&file) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("crew-mrv: {}: {e}", shown_path(&file));
                        return ExitCode::from(2);
                    }
                };
                match profile_reader::suggest(&file_name(&file), &bytes, &config) {
                    Ok(s) => {
                        print!("{}", profile::to_toml(&s.profile));
                        let has_effluent = s
                            .profile
                            .operations
                            .iter()
                            .any(|l| l.columns.contains_key(&profile::Field::EffluentFlow));
                        if has_effluent {
                            return ExitCode::SUCCESS;
                        }
                        // A profile without its one required field reads
                        // nothing: say which columns there are to pick from,
                        // in the printed text itself, and fail the command.
                        println!(
                            "# effluent_flow is required, and no column header says effluent flow."
                        );
                        println!(
                            "# Add it under [operations.columns], naming one of these columns:"
                        );
                        for (c, h) in s.headers.iter().enumerate() {
                            if !h.is_empty() {
                                println!(
                                    "#   {}: {}",
                                    crew_mrv_core::model::col_letters(c as u32),
                                    shown(h)
                                );
                            }
                        }
                        println!("# effluent_flow = {{ header = \"...\", unit = \"m3/d\" }}");
                        eprintln!(
                            "crew-mrv: {}: no column was recognised as the effluent flow; the printed profile says how to add it",
                            shown_path(&file)
                        );
                        ExitCode::from(1)
                    }
                    Err(e) => {
                        eprintln!("crew-mrv: {}: {}", shown_path(&file), shown(&e.to_string()));
                        ExitCode::from(1)
                    }
                }
            }
            ProfileCommand::Check {
                profile: path,
                files,
            } => {
                let text = match fs::read(&path) {
                    Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                    Err(e) => {
                        eprintln!("crew-mrv: {}: {e}", shown_path(&path));
                        return ExitCode::from(2);
                    }
                };
                let p = match profile::parse(&file_name(&path), &text) {
                    Ok(p) => p,
                    Err(errors) => {
                        for e in errors {
                            eprintln!("crew-mrv: {}", shown(&e.to_string()));
                        }
                        return ExitCode::from(1);
                    }
                };
                let mut failed = false;
                for f in &files {
                    let bytes = match fs::read(f) {
                        Ok(b) => b,
                        Err(e) => {
                            eprintln!("crew-mrv: {}: {e}", shown_path(f));
                            failed = true;
                            continue;
                        }
                    };
                    let read = profile_reader::check(&p, &file_name(f), &bytes, &config);
                    failed |= read.error.is_some() || read.profile.is_none();
                    print_check(&read);
                }
                if failed {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            }
        }
    }

    /// What `profile check` shows of one file.
    fn print_check(f: &crew_mrv_core::FileImport) {
        println!("{}", shown(&f.name));
        match (&f.profile, &f.error) {
            (_, Some(e)) => println!("  not read: {}", shown(&e.to_string())),
            (Some(p), None) => println!("  read by {}", shown(p)),
            (None, None) => println!(
                "  not read by this profile (read as {})",
                f.kind.map_or("nothing", |k| k.describe())
            ),
        }
        if let Some((a, b)) = f.period {
            println!("  days {a} to {b}");
        }
        println!(
            "  rows: {} ({})",
            f.account.summary_line(),
            f.account.reasons_line()
        );
        let days = &f.records.ops;
        if !days.is_empty() {
            // Flows in MGD as the outputs' `*_mgd` columns hold them, then
            // the effluent as read in the plant's unit and in m³/day.
            let unit = days.first().and_then(|o| o.flow_unit);
            println!(
                "  first days (flows in MGD, precipitation in inches; effluent also as read{}):",
                unit.map(|u| format!(", in {}", u.as_str()))
                    .unwrap_or_default()
            );
            println!(
                "    {:<10} {:>5} {:>12} {:>12} {:>12} {:>8} {:>8} {:>14} {:>12}",
                "date",
                "row",
                "effluent",
                "influent",
                "bypass",
                "bypass h",
                "precip",
                format!("eff {}", unit.map_or("MGD", |u| u.as_str())),
                "eff m3/d"
            );
            let n = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
            for o in days.iter().take(10) {
                println!(
                    "    {:<10} {:>5} {:>12} {:>12} {:>12} {:>8} {:>8} {:>14} {:>12}",
                    o.date.to_string(),
                    o.row,
                    n(o.actual_eff_flow_mgd),
                    n(o.actual_inf_flow_mgd),
                    n(o.bypass_flow_mgd),
                    n(o.bypass_hours_per_day),
                    n(o.precip_in),
                    n(o.actual_eff_flow_mgd
                        .map(|v| crew_mrv_core::mapping::in_unit(
                            v,
                            o.flow_unit.unwrap_or(crew_mrv_core::profile::Unit::Mgd)
                        ))),
                    n(o.actual_eff_flow_m3_per_day)
                );
            }
            if days.len() > 10 {
                println!("    ... {} days in all", days.len());
            }
        }
        for x in &f.findings {
            let at = x.at.to_string();
            println!(
                "  level {} {}: {}{}",
                x.level,
                x.check,
                shown(&x.message),
                if at.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", shown(&at))
                }
            );
        }
    }

    fn sample_cmd(a: SampleArgs) -> ExitCode {
        use crew_mrv_samples::{write_dir, SampleOptions};
        let opts = match (a.sensors, a.year, a.minute) {
            (Some(n), _, _) => SampleOptions::year(usize::from(n)),
            (None, true, _) => SampleOptions::year(8),
            (None, false, true) => SampleOptions::minute(),
            (None, false, false) => SampleOptions::committed(),
        };
        let out: PathBuf = a.out;
        match write_dir(&opts, &out) {
            Ok(names) => {
                println!("Wrote {} files to {}", names.len(), shown_path(&out));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("crew-mrv: {}", shown(&e.to_string()));
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
