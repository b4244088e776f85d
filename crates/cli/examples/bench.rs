//! `make bench`: times the native core on the sample set and on a generated
//! year (see README "Performance"). Not part of `make test`.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use crew_mrv_core::export::{output_bytes, Output};
    use crew_mrv_core::{assemble, read_file, Config, Filter, ImportStore, Run, Source};

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

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let Some(dir) = args.first() else {
            eprintln!("usage: bench DIR [label]");
            std::process::exit(2);
        };
        let label = args.get(1).cloned().unwrap_or_else(|| dir.clone());
        let sources = load(Path::new(dir));
        let bytes: usize = sources.iter().map(|s| s.bytes.len()).sum();
        let rss_before = peak_rss_kb().unwrap_or(0);
        let config = Config::default();
        let t0 = Instant::now();
        let files: Vec<_> = sources
            .iter()
            .map(|s| read_file(&s.name, &s.bytes, &config))
            .collect();
        let t_import = t0.elapsed();
        let rows: u64 = files.iter().map(|f| f.account.rows_in).sum();
        let t1 = Instant::now();
        let mut store = ImportStore::new(files);
        let report = assemble(&mut store, &config);
        let run = Run { report, store };
        let t_method = t1.elapsed();
        let total = t0.elapsed();
        let peak = peak_rss_kb().unwrap_or(0);
        let t2 = Instant::now();
        let mut out_bytes = 0;
        for output in Output::ALL {
            out_bytes += output_bytes(output, &run, &Filter::default()).len();
        }
        let t_export = t2.elapsed();
        let mb = bytes as f64 / 1e6;
        println!(
            "| native | {label} | {} | {:.1} | {:.3} s (import {:.3} s, method {:.3} s) | {:.0} MB/s | {:.2} M rows/s | peak RSS {:.0} MB ({:.2}x input; inputs loaded first) | all {} outputs ({:.0} MB) written in {:.3} s |",
            sources.len(),
            mb,
            total.as_secs_f64(),
            t_import.as_secs_f64(),
            t_method.as_secs_f64(),
            mb / total.as_secs_f64(),
            rows as f64 / 1e6 / total.as_secs_f64(),
            peak as f64 / 1024.0,
            peak as f64 / 1024.0 / mb.max(1e-9),
            Output::ALL.len(),
            out_bytes as f64 / 1e6,
            t_export.as_secs_f64(),
        );
        // The data platform's formats: the psql script and the Parquet
        // datasets, built in memory (loading into a server is not timed).
        let t3 = Instant::now();
        let sql = crew_mrv_core::sql::sql_script(&run).len();
        let t_sql = t3.elapsed();
        let t4 = Instant::now();
        let parquet: usize = crew_mrv_core::dataset::parquet_dataset(&run)
            .map(|files| files.iter().map(|(_, b)| b.len()).sum())
            .unwrap_or(0);
        let t_parquet = t4.elapsed();
        println!(
            "| native | {label} | | | SQL {:.3} s, Parquet {:.3} s | | | | psql script {:.1} MB; Parquet datasets {:.1} MB |",
            t_sql.as_secs_f64(),
            t_parquet.as_secs_f64(),
            sql as f64 / 1e6,
            parquet as f64 / 1e6,
        );
        let _ = rss_before;
    }
}
