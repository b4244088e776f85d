//! `crew-mrv load` and `run --sql`: the batch into PostgreSQL, directly
//! through the `postgres` client or as a psql script. Both send the
//! statements and COPY data of `crew_mrv_core::sql::load_steps`, so the
//! two paths load the same rows.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::Args;
use crew_mrv_core::sql::{batch_id, load_steps, write_sql_script, Step};
use crew_mrv_core::Run;

use crate::args::SettingsArgs;
use crate::terminal::shown;

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The database, as a libpq URL or key=value string, such as
    /// postgresql://user@127.0.0.1:5432/mrv.
    #[arg(long, value_name = "URL")]
    pub database_url: String,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub jobs: crate::args::JobsArgs,
    /// Files and directories, as for `run`; at least one.
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    pub inputs: Vec<PathBuf>,
}

/// `run --sql FILE`.
pub fn write_sql(report: &Run, path: &Path) -> std::io::Result<()> {
    let mut w = BufWriter::new(fs::File::create(path)?);
    write_sql_script(report, &mut w)?;
    w.flush()
}

/// `run --parquet DIR`: the datasets' files under DIR.
pub fn write_parquet(report: &Run, dir: &Path) -> std::io::Result<()> {
    let files = crew_mrv_core::dataset::parquet_dataset(report).map_err(std::io::Error::other)?;
    // A partition left from an earlier run would be read as part of this
    // batch: each dataset folder is replaced whole.
    for name in crew_mrv_core::dataset::DATASET_NAMES {
        match fs::remove_dir_all(dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    for (path, bytes) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, bytes)?;
    }
    Ok(())
}

/// Where the URL points, for error messages: the first host and port.
fn target(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("host {host}, port {port}")
}

/// The error with its causes: the client's top-level message alone ("error
/// connecting to server") does not say what went wrong.
fn explain(e: &postgres::Error) -> String {
    let mut s = e.to_string();
    if let Some(db) = e.as_db_error() {
        let _ = write!(s, ": {}", db.message());
        return s;
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(s, ": {cause}");
        source = cause.source();
    }
    s
}

/// Bytes of COPY text gathered before they are sent.
const COPY_CHUNK: usize = 1 << 16;

fn load(report: &Run, config: &postgres::Config) -> Result<(), String> {
    let at = target(config);
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| format!("cannot connect to PostgreSQL at {at}: {}", explain(&e)))?;
    // Dropped without commit on any error, the transaction is rolled
    // back: nothing of the batch stays.
    let mut tx = client
        .transaction()
        .map_err(|e| format!("PostgreSQL at {at}: {}", explain(&e)))?;
    let pg = |e: postgres::Error| std::io::Error::other(explain(&e));
    load_steps(report, &mut |step| match step {
        Step::Sql(sql) => tx.batch_execute(&sql).map_err(pg),
        Step::Copy { statement, rows } => {
            // Rows stream to the server as they are built, in buffered
            // chunks: the load holds a chunk of text, not a table.
            let mut w = BufWriter::with_capacity(COPY_CHUNK, tx.copy_in(&statement).map_err(pg)?);
            rows(&mut w)?;
            let w = w.into_inner().map_err(|e| e.into_error())?;
            w.finish().map(|_| ()).map_err(pg)
        }
    })
    .map_err(|e| format!("loading into PostgreSQL at {at} failed, nothing was loaded: {e}"))?;
    tx.commit()
        .map_err(|e| format!("PostgreSQL at {at}: commit failed: {}", explain(&e)))
}

pub fn load_cmd(a: LoadArgs) -> ExitCode {
    let config = match postgres::Config::from_str(&a.database_url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("crew-mrv: --database-url: {}", shown(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let settings = a.settings.config();
    let paths = match crate::cli::input_paths(&a.inputs, &settings) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // No progress bar: a load prints one line when it is done.
    let progress = crate::cli::Progress::start(paths.len() as u64, false);
    let (report, unreadable) =
        crate::cli::import_all(&paths, &settings, &progress, a.jobs.threads());
    progress.finish();
    if let Err(e) = load(&report, &config) {
        eprintln!("crew-mrv: {}", shown(&e));
        return ExitCode::from(2);
    }
    println!("crew-mrv: loaded batch {}", batch_id(&report));
    crate::cli::exit_status(&report, unreadable)
}
