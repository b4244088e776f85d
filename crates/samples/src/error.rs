//! The one error type of the sample generator.
//!
//! Generating sample data only fails for environmental reasons (no Python,
//! no xlwt, a full disk) or because an options value is out of range; each
//! variant says which, and for which file, so the CLI can print it as is.

use std::fmt;

/// What went wrong while generating or writing sample files.
#[derive(Debug)]
#[non_exhaustive]
pub enum SampleError {
    /// An options value the generator cannot honour.
    InvalidOptions(String),
    /// `python3` could not be started (needed for the legacy `.xls` files).
    PythonMissing(std::io::Error),
    /// `python3` runs but has no `xlwt` module.
    XlwtMissing,
    /// `xlwt` is installed in another version, whose output may differ.
    XlwtVersion(String),
    /// The `.xls` writer script failed.
    Python {
        /// The file being written.
        file: String,
        /// What the script printed on stderr.
        message: String,
    },
    /// rust_xlsxwriter refused a cell or could not pack a workbook.
    Xlsx {
        /// The file being written.
        file: String,
        /// rust_xlsxwriter's own message.
        message: String,
    },
    /// The OLE2 container written by xlwt did not have the expected layout,
    /// so its quirks could not be added.
    Ole {
        /// The file being post-processed.
        file: String,
        /// What was unexpected.
        message: String,
    },
    /// A CSV or JSON file could not be serialised.
    Encode {
        /// The file being written.
        file: String,
        /// The serialiser's message.
        message: String,
    },
    /// Writing to disk failed.
    Io {
        /// The path being written.
        path: std::path::PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleError::InvalidOptions(m) => write!(f, "invalid sample options: {m}"),
            SampleError::PythonMissing(e) => write!(
                f,
                "cannot run python3 ({e}); the legacy .xls samples are written by \
                 Python's xlwt: install Python 3 and `pip install xlwt==1.3.0`"
            ),
            SampleError::XlwtMissing => write!(
                f,
                "python3 has no xlwt module; the legacy .xls samples need it: \
                 `pip install xlwt==1.3.0`"
            ),
            SampleError::XlwtVersion(v) => write!(
                f,
                "xlwt {v} is installed but the samples are pinned to 1.3.0 \
                 (byte-identical output): `pip install xlwt==1.3.0`"
            ),
            SampleError::Python { file, message } => {
                write!(f, "{file}: the xlwt writer script failed: {message}")
            }
            SampleError::Xlsx { file, message } => write!(f, "{file}: {message}"),
            SampleError::Ole { file, message } => {
                write!(f, "{file}: unexpected OLE2 layout from xlwt: {message}")
            }
            SampleError::Encode { file, message } => write!(f, "{file}: {message}"),
            SampleError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for SampleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SampleError::PythonMissing(e) => Some(e),
            SampleError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Wraps a rust_xlsxwriter error with the file it concerns.
pub(crate) fn xlsx_err(file: &str) -> impl Fn(rust_xlsxwriter::XlsxError) -> SampleError + '_ {
    move |e| SampleError::Xlsx {
        file: file.to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_xlwt_says_how_to_install_it() {
        for e in [
            SampleError::XlwtMissing,
            SampleError::XlwtVersion("1.2.0".into()),
            SampleError::PythonMissing(std::io::Error::from(std::io::ErrorKind::NotFound)),
        ] {
            assert!(e.to_string().contains("pip install xlwt==1.3.0"), "{e}");
        }
    }
}
