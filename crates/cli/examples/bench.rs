//! `make bench`: times the native core on the sample set and on a generated
//! year (see README "Performance"). Not part of `make test`.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}

// The CLI's own scheduler, so the core rows spread the files over
// threads exactly as `crew-mrv run --jobs N` does.
#[cfg(not(target_arch = "wasm32"))]
#[path = "../src/parallel.rs"]
#[allow(dead_code)]
mod parallel;

// The tests' throwaway PostgreSQL server, so the bench starts it exactly
// as they do.
#[cfg(not(target_arch = "wasm32"))]
#[path = "../../../tests/pg_server.rs"]
#[allow(dead_code)]
mod pg_server;

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use crate::pg_server::Server;

    use crew_mrv_core::export::{output_bytes, Output};
    use crew_mrv_core::{assemble, read_file_with, Config, Filter, ImportStore, Run, Source};

    fn peak_rss_kb() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        s.lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    fn load(dir: &Path) -> Vec<Source> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.sort();
        paths
            .into_iter()
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("csv" | "xlsx" | "xls")
                )
            })
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                std::fs::read(&p).ok().map(|b| Source::new(name, b))
            })
            .collect()
    }

    /// CPU time (user + system) this process has used so far, every
    /// thread counted: unlike wall time, not inflated by waiting for a
    /// core another process holds.
    fn cpu_time() -> Duration {
        // SAFETY: an all-zero rusage is a valid value for getrusage to fill.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return Duration::ZERO;
        }
        timeval(usage.ru_utime) + timeval(usage.ru_stime)
    }

    fn timeval(t: libc::timeval) -> Duration {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    }

    /// Import and method on `jobs` threads, inputs in memory.
    fn core_run(sources: &[Source], config: &Config, jobs: usize) -> (Run, Duration, Duration) {
        let t0 = Instant::now();
        let sizes: Vec<u64> = sources.iter().map(|s| s.bytes.len() as u64).collect();
        let total = sizes.iter().sum();
        let files =
            crate::parallel::map_ordered(&crate::parallel::largest_first(&sizes), jobs, |i| {
                let spread = crate::parallel::Threads {
                    width: crate::parallel::share(jobs, sizes.get(i).copied().unwrap_or(0), total),
                };
                sources
                    .get(i)
                    .map(|s| read_file_with(&s.name, &s.bytes, config, &spread))
            });
        let t_import = t0.elapsed();
        let mut store = ImportStore::new(files.into_iter().flatten().collect());
        let report = assemble(&mut store, config);
        (Run { report, store }, t_import, t0.elapsed())
    }

    /// The single-core CSV limit: the csv crate splitting every CSV input
    /// into records on one thread, nothing else (no numbers, no dates).
    fn csv_limit(sources: &[Source]) -> (Duration, usize) {
        let t = cpu_time();
        let mut bytes = 0;
        let mut fields = 0usize;
        for s in sources
            .iter()
            .filter(|s| s.name.to_ascii_lowercase().ends_with(".csv"))
        {
            bytes += s.bytes.len();
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(s.bytes.as_slice());
            let mut rec = csv::ByteRecord::new();
            while r.read_byte_record(&mut rec).unwrap_or(false) {
                fields += rec.len();
            }
        }
        std::hint::black_box(fields);
        // CPU time: on one thread it is the time the parse took, without
        // the waits of a shared machine.
        (cpu_time().saturating_sub(t), bytes)
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let Some(dir) = args.first() else {
            eprintln!("usage: bench DIR [label]");
            std::process::exit(2);
        };
        let label = args.get(1).cloned().unwrap_or_else(|| dir.clone());
        let sources = load(Path::new(dir));
        let bytes: usize = sources.iter().map(|s| s.bytes.len()).sum();
        let config = Config::default();
        let mb = bytes as f64 / 1e6;
        let cores = crate::parallel::all_cores();
        let (limit, csv_bytes) = csv_limit(&sources);
        let limit_note = format!(
            "single-core CSV limit {:.3} s CPU ({:.0} MB of CSV at {:.0} MB/s, csv crate, records only)",
            limit.as_secs_f64(),
            csv_bytes as f64 / 1e6,
            csv_bytes as f64 / 1e6 / limit.as_secs_f64().max(1e-9)
        );
        let mut jobs_list = vec![1, 2];
        if cores > 2 {
            jobs_list.push(cores);
        }
        let mut first: Option<Run> = None;
        for jobs in jobs_list {
            let cpu0 = cpu_time();
            let (run, t_import, total) = core_run(&sources, &config, jobs);
            let cpu = cpu_time().saturating_sub(cpu0);
            let rows: u64 = run.store.files().iter().map(|f| f.account.rows_in).sum();
            let peak = peak_rss_kb().unwrap_or(0);
            let t2 = Instant::now();
            let mut out_bytes = 0;
            if first.is_none() {
                for output in Output::ALL {
                    out_bytes += output_bytes(output, &run, &Filter::default()).len();
                }
            }
            let t_export = t2.elapsed();
            let threads = if jobs == cores {
                format!("{jobs} threads (all cores)")
            } else if jobs == 1 {
                "1 thread".to_string()
            } else {
                format!("{jobs} threads")
            };
            println!(
                "| native | {label}, {threads} | {} | {:.1} | {:.3} s (import {:.3} s, method {:.3} s; CPU {:.3} s) | {:.0} MB/s | {:.2} M rows/s | {} | {:.2}× the {limit_note}{} |",
                sources.len(),
                mb,
                total.as_secs_f64(),
                t_import.as_secs_f64(),
                (total - t_import).as_secs_f64(),
                cpu.as_secs_f64(),
                mb / total.as_secs_f64(),
                rows as f64 / 1e6 / total.as_secs_f64(),
                if first.is_none() {
                    format!("peak RSS {:.0} MB ({:.2}x input; inputs loaded first)", peak as f64 / 1024.0, peak as f64 / 1024.0 / mb.max(1e-9))
                } else {
                    String::new()
                },
                limit.as_secs_f64() / total.as_secs_f64().max(1e-9),
                if first.is_none() {
                    format!("; all {} outputs ({:.0} MB) formatted in memory in {:.3} s", Output::ALL.len(), out_bytes as f64 / 1e6, t_export.as_secs_f64())
                } else {
                    String::new()
                },
            );
            if first.is_none() {
                first = Some(run);
            }
        }
        largest_alone(&sources, &config, &label, cores);
        // The core's rows alone, for a quick look while changing the import.
        if std::env::var_os("BENCH_CORE_ONLY").is_some() {
            return;
        }
        let Some(run) = first else { return };
        process_rows(&label, dir, sources.len(), mb, cores);
        drop(sources);
        platform(&run, &label, dir, run.report.files.len(), mb);
    }

    /// The largest file of the set read alone, whole on one thread and in
    /// pieces on 2 and all threads (`crew_mrv_core::spread`): how a set
    /// that is one big log scales.
    fn largest_alone(sources: &[Source], config: &Config, label: &str, cores: usize) {
        let Some(big) = sources.iter().max_by_key(|s| s.bytes.len()) else {
            return;
        };
        if big.bytes.len() < 2 * crew_mrv_core::spread::MIN_PIECE_BYTES {
            return;
        }
        let mut widths = vec![1, 2];
        if cores > 2 {
            widths.push(cores);
        }
        let mut one = None;
        for width in widths {
            let (t, cpu0) = (Instant::now(), cpu_time());
            let f = read_file_with(
                &big.name,
                &big.bytes,
                config,
                &crate::parallel::Threads { width },
            );
            let (took, cpu) = (t.elapsed(), cpu_time().saturating_sub(cpu0));
            let base = *one.get_or_insert(took);
            println!(
                "| native | {label}: largest file alone, {width} thread(s) | 1 | {:.1} | {:.3} s (CPU {:.3} s) | {:.0} MB/s | {:.2} M rows | | {} read {}; {:.2}× one thread |",
                big.bytes.len() as f64 / 1e6,
                took.as_secs_f64(),
                cpu.as_secs_f64(),
                big.bytes.len() as f64 / 1e6 / took.as_secs_f64().max(1e-9),
                f.account.rows_in as f64 / 1e6,
                big.name,
                if width == 1 { "whole" } else { "in pieces" },
                base.as_secs_f64() / took.as_secs_f64().max(1e-9),
            );
        }
    }

    /// What a process cost: wall time, CPU time (user + system, which
    /// waiting for a busy core does not inflate) and peak RSS, from the
    /// kernel's own account of the child (`wait4`).
    struct Cost {
        wall: Duration,
        cpu: Duration,
        peak_kb: u64,
    }

    /// The child's own peak RSS comes from its `/proc` status, sampled
    /// until it exits: `ru_maxrss` would report the bench's own peak, which
    /// a spawned child inherits until it executes.
    fn run_measured(cmd: &mut Command) -> Result<Cost, String> {
        let t = Instant::now();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let pid = child.id() as libc::pid_t;
        let status_file = format!("/proc/{pid}/status");
        let mut status = 0;
        let mut peak_kb = 0;
        // SAFETY: an all-zero rusage is a valid value; wait4 fills it for
        // the child spawned above, which nothing else waits for.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            if let Some(kb) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            }) {
                peak_kb = peak_kb.max(kb);
            }
            let got = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            if got == pid {
                break;
            }
            if got < 0 {
                return Err(io::Error::last_os_error().to_string());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let wall = t.elapsed();
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            return Err(format!("exit status {status}"));
        }
        Ok(Cost {
            wall,
            cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
            peak_kb,
        })
    }

    fn dir_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The whole command line as a user runs it (every output written to
    /// disk) at 1, 2 and all threads, beside pandas merely reading the
    /// same files (crates/cli/examples/pandas_read.py, with the Python of
    /// `BENCH_PYTHON`: `make bench` makes a venv with pandas, openpyxl and
    /// xlrd).
    fn process_rows(label: &str, dir: &str, files: usize, mb: f64, cores: usize) {
        let Some(crew) = std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.parent()?.parent()?.join("crew-mrv")))
            .filter(|p| p.is_file())
        else {
            println!("| process | {label}: crew-mrv run | | | | | | | skipped: build the crew-mrv binary (make bench does) |");
            return;
        };
        let pandas = std::env::var("BENCH_PYTHON").ok().map(|py| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pandas_read.py");
            run_measured(Command::new(py).arg(script).arg(dir))
        });
        match &pandas {
            Some(Ok(p)) => println!(
                "| process | {label}: pandas read_csv / read_excel | {files} | {mb:.1} | {:.3} s (CPU {:.3} s) | {:.0} MB/s | | peak RSS {:.0} MB ({:.2}x input) | reading only: DataFrames, no method, no output |",
                p.wall.as_secs_f64(),
                p.cpu.as_secs_f64(),
                mb / p.wall.as_secs_f64().max(1e-9),
                p.peak_kb as f64 / 1024.0,
                p.peak_kb as f64 / 1024.0 / mb.max(1e-9),
            ),
            Some(Err(e)) => println!("| process | {label}: pandas | | | | | | | failed: {} |", e.trim()),
            None => println!("| process | {label}: pandas | | | | | | | skipped: set BENCH_PYTHON to a Python with pandas (make bench does) |"),
        }
        let mut jobs_list = vec![1, 2];
        if cores > 2 {
            jobs_list.push(cores);
        }
        for jobs in jobs_list {
            let out =
                std::env::temp_dir().join(format!("crew-mrv-bench-run-{}", std::process::id()));
            let cost = run_measured(
                Command::new(&crew)
                    .args(["run", "-q", "--jobs", &jobs.to_string(), "-o"])
                    .arg(&out)
                    .arg(dir),
            );
            let written = dir_bytes(&out);
            let _ = std::fs::remove_dir_all(&out);
            match cost {
                Ok(c) => println!(
                    "| process | {label}: crew-mrv run --jobs {jobs} | {files} | {mb:.1} | {:.3} s (CPU {:.3} s) | {:.0} MB/s | | peak RSS {:.0} MB ({:.2}x input) | every output written ({:.0} MB){} |",
                    c.wall.as_secs_f64(),
                    c.cpu.as_secs_f64(),
                    mb / c.wall.as_secs_f64().max(1e-9),
                    c.peak_kb as f64 / 1024.0,
                    c.peak_kb as f64 / 1024.0 / mb.max(1e-9),
                    written as f64 / 1e6,
                    match &pandas {
                        Some(Ok(p)) => format!(
                            "; {:.1}× pandas by wall time, {:.1}× by CPU time",
                            p.wall.as_secs_f64() / c.wall.as_secs_f64().max(1e-9),
                            p.cpu.as_secs_f64() / c.cpu.as_secs_f64().max(1e-9)
                        ),
                        _ => String::new(),
                    }
                ),
                Err(e) => println!("| process | {label}: crew-mrv run --jobs {jobs} | | | | | | | failed: {} |", e.trim()),
            }
        }
    }

    /// Counts what is written and drops it: the script's size without
    /// holding it.
    struct Counter(u64);

    impl Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A child process's wall time and peak RSS (its VmHWM, sampled until
    /// it exits), or why it failed.
    fn measure(cmd: &mut Command) -> Result<(Duration, u64), String> {
        let t = Instant::now();
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let status = format!("/proc/{}/status", child.id());
        let mut peak_kb = 0;
        loop {
            if let Some(kb) = std::fs::read_to_string(&status).ok().and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            }) {
                peak_kb = peak_kb.max(kb);
            }
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(e.to_string()),
            }
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok((t.elapsed(), peak_kb))
    }

    /// The data platform's rows: the psql script (streamed into a counter),
    /// the Parquet datasets (built in memory, as `run --parquet` does), and
    /// `crew-mrv load` into a throwaway PostgreSQL, beside `crew-mrv run`'s
    /// own peak memory for the same inputs.
    fn platform(run: &Run, label: &str, dir: &str, files: usize, mb: f64) {
        let t = Instant::now();
        let mut script = Counter(0);
        let sql = crew_mrv_core::sql::write_sql_script(run, &mut script);
        let t_sql = t.elapsed();
        let t = Instant::now();
        let parquet = crew_mrv_core::dataset::parquet_dataset(run);
        let t_parquet = t.elapsed();
        let lab = run.store.lab_readings().count() + run.store.sensor_readings().count();
        println!(
            "| native | {label}: psql script | {files} | {mb:.1} | {:.3} s | | {:.2} M lab rows | streamed | {} |",
            t_sql.as_secs_f64(),
            lab as f64 / 1e6,
            match sql {
                Ok(()) => format!("{:.1} MB", script.0 as f64 / 1e6),
                Err(e) => format!("failed: {e}"),
            }
        );
        println!(
            "| native | {label}: Parquet | {files} | {mb:.1} | {:.3} s | | | datasets in memory | {} |",
            t_parquet.as_secs_f64(),
            match &parquet {
                Ok(p) => format!(
                    "{:.1} MB in {} files",
                    p.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1e6,
                    p.len()
                ),
                Err(e) => format!("failed: {e}"),
            }
        );
        drop(parquet);

        // The CLI beside this example in target/release.
        let Some(crew) = std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.parent()?.parent()?.join("crew-mrv")))
            .filter(|p| p.is_file())
        else {
            println!("| PostgreSQL | {label}: crew-mrv load | | | | | | | skipped: build the crew-mrv binary (make bench does) |");
            return;
        };
        let Some(pg) = Server::start_if_installed(&format!("bench-{}", std::process::id())) else {
            println!("| PostgreSQL | {label}: crew-mrv load | | | | | | | skipped: no PostgreSQL server binaries (apt-get install postgresql) |");
            return;
        };
        let version = pg.query("postgres", "SHOW server_version");
        let version = version.split_whitespace().next().unwrap_or("");
        pg.query("postgres", "CREATE DATABASE bench");
        let out = std::env::temp_dir().join(format!("crew-mrv-bench-{}", std::process::id()));
        let reference = measure(
            Command::new(&crew)
                .arg("run")
                .arg("-q")
                .arg("-o")
                .arg(&out)
                .arg(dir),
        );
        let _ = std::fs::remove_dir_all(&out);
        let loaded = measure(
            Command::new(&crew)
                .args(["load", "--database-url", &pg.url("bench")])
                .arg(dir),
        );
        match loaded {
            Ok((time, peak)) => {
                let size = pg.query("bench", "SELECT pg_database_size('bench')");
                let rows = pg.query("bench", "SELECT count(*) FROM crewcarbon_lab_reading");
                println!(
                    "| PostgreSQL {version} | {label}: crew-mrv load | {files} | {mb:.1} | {:.1} s (read, method and load) | | {rows} lab rows | peak RSS {:.0} MB (crew-mrv run: {}) | {:.0} MB in the database |",
                    time.as_secs_f64(),
                    peak as f64 / 1024.0,
                    match reference {
                        Ok((t, kb)) => format!("{:.0} MB, {:.1} s", kb as f64 / 1024.0, t.as_secs_f64()),
                        Err(e) => format!("failed: {e}"),
                    },
                    size.parse::<f64>().unwrap_or(0.0) / 1e6,
                );
            }
            Err(e) => println!(
                "| PostgreSQL {version} | {label}: crew-mrv load | | | | | | | failed: {} |",
                e.trim()
            ),
        }
    }
}
