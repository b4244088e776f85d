//! Legacy `.xls` (BIFF8) workbooks, written by Python's xlwt.
//!
//! No maintained Rust crate writes BIFF8, and the real Plant A months come
//! as `.xls`, so the generator drives xlwt 1.3.0 through a committed script
//! (`write_xls.py`, embedded here) and then gives the OLE2 container the
//! quirks of the real files (see `ole.rs`). `CREW_MRV_PYTHON` overrides the
//! interpreter (default `python3`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use super::SampleError;

const SCRIPT: &str = include_str!("write_xls.py");

/// One sheet of text cells, as xlwt will write it.
#[derive(serde::Serialize)]
pub(crate) struct Grid {
    pub(crate) sheet: String,
    pub(crate) rows: Vec<Vec<Option<String>>>,
    /// Rows written bold and wrapped (headers).
    pub(crate) bold_rows: Vec<usize>,
    /// Column widths in 1/256 of a character.
    pub(crate) widths: Vec<u32>,
    /// Row heights in twips, keyed by row.
    pub(crate) row_heights: BTreeMap<String, u32>,
}

/// Runs the xlwt script on `grid` and returns the workbook's bytes.
pub(crate) fn write(file: &str, grid: &Grid) -> Result<Vec<u8>, SampleError> {
    let json = serde_json::to_vec(grid).map_err(|e| SampleError::Encode {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let python = std::env::var_os("CREW_MRV_PYTHON").unwrap_or_else(|| "python3".into());
    let mut child = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        // Hash seeds only affect set and dict order in xlwt's internals, but
        // pinning them removes any doubt about reproducible bytes.
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(SampleError::PythonMissing)?;
    // Feed stdin from a thread: a grid larger than the pipe buffer would
    // otherwise deadlock against the script's output.
    let feeder = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&json);
        })
    });
    let output = child
        .wait_with_output()
        .map_err(SampleError::PythonMissing)?;
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    match output.status.code() {
        Some(0) => Ok(output.stdout),
        Some(3) => Err(SampleError::XlwtMissing),
        Some(4) => Err(SampleError::XlwtVersion(stderr)),
        _ => Err(SampleError::Python {
            file: file.to_string(),
            message: if stderr.is_empty() {
                format!("python3 exited with {}", output.status)
            } else {
                stderr
            },
        }),
    }
}
