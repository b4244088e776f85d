//! Why a whole file could not be read.
//!
//! Defects inside a readable file are QA findings (see `qa::Finding`);
//! a `FileError` means only that this file contributes nothing, and says
//! where and what to do. The other files are processed regardless.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::CellRef;

/// A file that could not be read, with the place the problem was found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileError {
    pub kind: FileErrorKind,
    pub at: CellRef,
}

/// What went wrong. Each variant's message tells the user what to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FileErrorKind {
    /// Zero bytes, or only whitespace.
    Empty,
    /// Text that is not one of the known CSV kinds. `named_as`: the
    /// workbook extension its name claims (`.xlsx`), when it has one, so the
    /// message does not call what the user thinks is a workbook a CSV.
    UnrecognisedCsv {
        header: String,
        #[serde(default)]
        named_as: Option<String>,
    },
    /// A workbook whose sheets match no known layout.
    UnrecognisedWorkbook { sheets: Vec<String> },
    /// A plant profile with errors (each also a finding naming its line).
    InvalidProfile { errors: Vec<String> },
    /// A file a plant profile's layout matched but cannot read (a required
    /// field matches no column, or two profiles claim the file).
    ProfileLayout { detail: String },
    /// Bytes that are neither text nor a workbook (e.g. a PDF or an image).
    NotTabular { looks_like: Cow<'static, str> },
    /// A header lacks a column the kind needs.
    MissingColumn {
        kind: Cow<'static, str>,
        column: Cow<'static, str>,
    },
    /// The workbook container or its XML is damaged.
    Corrupt {
        format: Cow<'static, str>,
        detail: String,
    },
    /// A password-protected workbook.
    Encrypted,
    /// A format we recognise but do not read.
    Unsupported { format: Cow<'static, str> },
    /// Over a configured cap (checked before allocating).
    TooLarge { what: String, limit: u64 },
    /// Same bytes as another file already loaded.
    Duplicate { of: String },
}

impl FileError {
    pub fn new(kind: FileErrorKind) -> Self {
        FileError {
            kind,
            at: CellRef::default(),
        }
    }

    pub fn at(kind: FileErrorKind, at: CellRef) -> Self {
        FileError { kind, at }
    }

    /// A short machine-friendly name for exports and tests.
    pub fn code(&self) -> &'static str {
        match self.kind {
            FileErrorKind::Empty => "empty",
            FileErrorKind::UnrecognisedCsv { .. } => "unrecognised_csv",
            FileErrorKind::UnrecognisedWorkbook { .. } => "unrecognised_workbook",
            FileErrorKind::InvalidProfile { .. } => "invalid_profile",
            FileErrorKind::ProfileLayout { .. } => "profile_layout",
            FileErrorKind::NotTabular { .. } => "not_tabular",
            FileErrorKind::MissingColumn { .. } => "missing_column",
            FileErrorKind::Corrupt { .. } => "corrupt",
            FileErrorKind::Encrypted => "encrypted",
            FileErrorKind::Unsupported { .. } => "unsupported",
            FileErrorKind::TooLarge { .. } => "too_large",
            FileErrorKind::Duplicate { .. } => "duplicate",
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.to_string();
        if !at.is_empty() {
            write!(f, "{at}: ")?;
        }
        match &self.kind {
            FileErrorKind::Empty => f.write_str(
                "the file is empty. Export it again from its source system and drop the new file.",
            ),
            FileErrorKind::UnrecognisedCsv { header, named_as } => write!(
                f,
                "{} neither a calcium lab export (expected columns such as unique_id, \
                 date, plant_id, unit_type_id, parameter_name, value), a pH sensor log \
                 (expected Timestamp and Measurement value) nor expert review decisions \
                 (plant_id, date, review_status, note). Its first line is: {}",
                match named_as {
                    Some(ext) => format!(
                        "this file is named {} but holds plain text, not a workbook; as text it is",
                        shorten(ext, 16)
                    ),
                    None => "this CSV is".to_string(),
                },
                shorten(header, 160)
            ),
            FileErrorKind::UnrecognisedWorkbook { sheets } => write!(
                f,
                "this workbook matches no known plant layout (expected a Plant A operator sheet \
                 whose row 1 starts 'OPERATOR DATA' with a 'Plnt Ef … FLOW MGD' column, or a \
                 Plant B monthly report with a 'DATE' header row and EFF/FLOW/MGD column). \
                 Sheets found: {}",
                {
                    // A hostile workbook may name thousands of sheets, or
                    // very long ones.
                    let shown: Vec<_> = sheets
                        .iter()
                        .take(10)
                        .map(|s| crate::text::clip(s, crate::text::QUOTE_CHARS))
                        .collect();
                    match sheets.len() {
                        0 => "none".to_string(),
                        n if n > 10 => format!("{} and {} more", shown.join(", "), n - 10),
                        _ => shown.join(", "),
                    }
                }
            ),
            FileErrorKind::NotTabular { looks_like } => write!(
                f,
                "this is not a CSV or Excel file (it looks like {looks_like}). Drop the plant's \
                 .csv, .xlsx or .xls export instead."
            ),
            FileErrorKind::InvalidProfile { errors } => write!(
                f,
                "this plant profile has {} error{} and is not used: {}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                errors
                    .iter()
                    .take(5)
                    .map(|e| shorten(e, 200))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            FileErrorKind::ProfileLayout { detail } => f.write_str(&shorten(detail, 2000)),
            FileErrorKind::MissingColumn { kind, column } => write!(
                f,
                "the {kind} has no '{column}' column, which is required. Check that the header \
                 row is intact."
            ),
            FileErrorKind::Corrupt { format, detail } => write!(
                f,
                "the {format} file is damaged and cannot be read ({detail}). It may be \
                 truncated: download or export it again."
            ),
            FileErrorKind::Encrypted => f.write_str(
                "the workbook is password-protected. Open it in Excel, remove the password \
                 (File > Info > Protect Workbook) and save a copy.",
            ),
            FileErrorKind::Unsupported { format } => write!(
                f,
                "{format} files are not supported. Save the workbook as .xlsx in Excel or \
                 LibreOffice and drop that file."
            ),
            FileErrorKind::TooLarge { what, limit } => write!(
                f,
                "{what} exceeds the limit of {limit}; the file was not read. Split it into \
                 smaller exports (e.g. one per month)."
            ),
            FileErrorKind::Duplicate { of } => write!(
                f,
                "this file has the same content as '{of}', which is already loaded; it was \
                 ignored so nothing is counted twice."
            ),
        }
    }
}

impl std::error::Error for FileError {}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}
