//! Importers: one per source kind, behind one entry point.
//!
//! `import_file` takes a file's name and bytes, recognises its kind by
//! content (the name is only a hint: users rename files), and returns the
//! normalized records of METHOD §1 with the file's row account and its
//! findings. It never fails as a whole: a file that cannot be read comes
//! back with an error and the rest of the run goes on.

mod account;
mod biff;
pub mod cfb;
mod columns;
mod day_order;
mod delimited;
mod lab_csv;
mod names;
mod ph_csv;
mod plant_a;
mod plant_b;
mod reviews_csv;
mod sheet_rows;
pub mod workbook;
mod xlsx;

use std::collections::HashSet;
use std::fmt;
use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use account::{RowAccount, SkipRange, SkipReason, MAX_SKIP_RANGES};
pub use ph_csv::MAX_SERIES_IN_FILE;

use crate::config::Config;
use crate::error::{FileError, FileErrorKind};
use crate::model::{FileIdx, LabReading, OpsRow, SensorReading, SensorSeries, Severity, Text};
use crate::qa::Finding;
use crate::qa::{self, FileFindings};
use crate::text::{self, TextEncoding};

/// The four source kinds (FORMATS.md), and the reviewers' decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    CalciumLab,
    PhSensor,
    PlantAOps,
    PlantBReport,
    ExpertReviews,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::CalciumLab => "calcium_lab",
            FileKind::PhSensor => "ph_sensor",
            FileKind::PlantAOps => "plant_a_ops",
            FileKind::PlantBReport => "plant_b_report",
            FileKind::ExpertReviews => "expert_reviews",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            FileKind::CalciumLab => "Calcium lab results",
            FileKind::PhSensor => "pH sensor log",
            FileKind::PlantAOps => "Plant A operator data",
            FileKind::PlantBReport => "Plant B monthly report",
            FileKind::ExpertReviews => "Expert review decisions",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Records read from one file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Records {
    pub lab: Vec<LabReading>,
    pub series: Vec<SensorSeries>,
    pub sensor: Vec<SensorReading>,
    pub ops: Vec<OpsRow>,
    pub reviews: Vec<crate::config::Review>,
}

impl Records {
    /// How many records: the row account's `records` for the file.
    pub fn count(&self) -> usize {
        self.lab.len() + self.sensor.len() + self.ops.len() + self.reviews.len()
    }
}

/// What a run knows about one input file, without its records: what the
/// report lists, the *Files* tab shows and `files.csv` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileSummary {
    pub name: Text,
    pub sha256: String,
    pub bytes: u64,
    pub kind: Option<FileKind>,
    pub plant_id: Option<Text>,
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// The report's own generation time (Plant B preamble).
    pub generated_at: Option<NaiveDateTime>,
    pub encoding: Option<TextEncoding>,
    pub sheets: Vec<Text>,
    pub account: RowAccount,
    pub error: Option<FileError>,
    /// Set when another file with the same bytes comes first in the run:
    /// this one then contributes nothing (see [`FileSummary::account_in_run`]).
    pub duplicate_of: Option<Text>,
}

impl FileSummary {
    /// The row account as the run counts it: a duplicate's rows are all
    /// skipped as such.
    pub fn account_in_run(&self) -> RowAccount {
        match self.duplicate_of {
            Some(_) => self.account.restated_as(SkipReason::DuplicateFile),
            None => self.account.clone(),
        }
    }
}

/// One file as read: its summary, its records and the findings of reading
/// it. Imports live in an [`crate::ImportStore`]; a report keeps only the
/// summaries.
#[derive(Debug, Serialize, Deserialize)]
pub struct FileImport {
    pub file: FileSummary,
    pub records: Records,
    pub findings: Vec<Finding>,
}

// An import reads as its summary (`f.name`, `f.account`): the records are
// what it adds, not a different file.
impl std::ops::Deref for FileImport {
    type Target = FileSummary;
    fn deref(&self) -> &FileSummary {
        &self.file
    }
}

impl std::ops::DerefMut for FileImport {
    fn deref_mut(&mut self) -> &mut FileSummary {
        &mut self.file
    }
}

/// What an importer hands back for a file it recognised.
pub(crate) struct Parsed {
    pub kind: FileKind,
    pub plant_id: Option<Text>,
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub generated_at: Option<NaiveDateTime>,
    pub records: Records,
}

/// Shared state of one file's import.
pub(crate) struct Ctx<'a> {
    pub name: Text,
    pub config: &'a Config,
    pub account: RowAccount,
    pub findings: FileFindings,
    strings: HashSet<Text>,
}

impl<'a> Ctx<'a> {
    fn new(name: &str, config: &'a Config) -> Ctx<'a> {
        let name: Text = name.into();
        Ctx {
            findings: FileFindings::new(&name),
            name,
            config,
            account: RowAccount::default(),
            strings: HashSet::new(),
        }
    }

    /// One shared copy per distinct text, so a million rows of `PLANT_A`
    /// cost one allocation.
    pub fn intern(&mut self, s: &str) -> Text {
        if let Some(t) = self.strings.get(s) {
            return t.clone();
        }
        let t: Text = s.into();
        self.strings.insert(t.clone());
        t
    }
}

/// The records' `file` index until `assemble` numbers the run's files.
pub(crate) const UNNUMBERED: FileIdx = 0;

/// Read one file. Its identity is the caller's to attach: `sha256` is
/// left empty (the pipeline hashes natively, the worker with WebCrypto
/// while this runs), and the records' `file` index is set when `assemble`
/// orders the run's files.
pub fn import_file(name: &str, bytes: &[u8], config: &Config) -> FileImport {
    let mut ctx = Ctx::new(name, config);
    let mut encoding = None;
    let mut sheets = Vec::new();
    let result = dispatch(&mut ctx, bytes, &mut encoding, &mut sheets);
    finish(ctx, bytes.len() as u64, result, encoding, sheets)
}

/// The file `import_file` would give for a file of `size` bytes over
/// `max_file_bytes`, known from its size alone (a browser `File`'s `size`,
/// a path's metadata), so such a file is never read into memory; `None`
/// when the size is within the limit and the file must be read. Its
/// `sha256` stays empty: it was never read to be hashed.
pub fn import_unread(name: &str, size: u64, config: &Config) -> Option<FileImport> {
    let e = too_large(size, &config.limits)?;
    Some(finish(
        Ctx::new(name, config),
        size,
        Err((None, e)),
        None,
        Vec::new(),
    ))
}

/// The error for a file of `size` bytes when it passes `max_file_bytes`.
fn too_large(size: u64, limits: &crate::config::Limits) -> Option<FileError> {
    (size > limits.max_file_bytes).then(|| {
        FileError::new(FileErrorKind::TooLarge {
            what: format!("the file ({size} bytes)"),
            limit: limits.max_file_bytes,
        })
    })
}

/// A file's import from what reading it gave.
fn finish(
    mut ctx: Ctx<'_>,
    size: u64,
    result: Result<Parsed, Failure>,
    encoding: Option<TextEncoding>,
    sheets: Vec<Text>,
) -> FileImport {
    let name = ctx.name.clone();
    let mut out = FileImport {
        file: FileSummary {
            name: name.clone(),
            sha256: String::new(),
            bytes: size,
            kind: None,
            plant_id: None,
            period: None,
            generated_at: None,
            encoding,
            sheets,
            account: RowAccount::default(),
            error: None,
            duplicate_of: None,
        },
        records: Records::default(),
        findings: Vec::new(),
    };
    match result {
        Ok(p) => {
            ctx.findings.push(
                qa::FILE_RECOGNISED
                    .finding(
                        Severity::Info,
                        format!(
                            "Read as {}{}{}: {} ({}).",
                            p.kind.describe(),
                            p.plant_id
                                .as_deref()
                                .map(|p| format!(" for {p}"))
                                .unwrap_or_default(),
                            p.period
                                .map(|(a, b)| format!(", {a} to {b}"))
                                .unwrap_or_default(),
                            ctx.account.summary_line(),
                            ctx.account.reasons_line()
                        ),
                    )
                    .plant_opt(p.plant_id.as_ref()),
            );
            if ctx.account.records == 0 {
                ctx.findings.push(
                    qa::FILE_RECOGNISED
                        .finding(
                            Severity::Warning,
                            format!(
                                "No row of this file could be used ({}). Check that it is the complete export, not just its header.",
                                if ctx.account.rows_in == 0 {
                                    "it has no rows".to_string()
                                } else {
                                    ctx.account.reasons_line()
                                }
                            ),
                        )
                        .plant_opt(p.plant_id.as_ref()),
                );
            }
            out.kind = Some(p.kind);
            out.plant_id = p.plant_id;
            out.period = p.period;
            out.generated_at = p.generated_at;
            out.records = p.records;
        }
        Err((kind, e)) => {
            out.kind = kind;
            ctx.findings.push(
                qa::FILE_UNREADABLE
                    .finding(Severity::Error, format!("{name}: {e}"))
                    .at(e.at.clone()),
            );
            out.error = Some(e);
        }
    }
    out.account = ctx.account;
    out.findings = ctx.findings.finish();
    out
}

type Failure = (Option<FileKind>, FileError);

fn dispatch(
    ctx: &mut Ctx<'_>,
    bytes: &[u8],
    encoding: &mut Option<TextEncoding>,
    sheets: &mut Vec<Text>,
) -> Result<Parsed, Failure> {
    let limits = &ctx.config.limits;
    if let Some(e) = too_large(bytes.len() as u64, limits) {
        return Err((None, e));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err((None, FileError::new(FileErrorKind::Empty)));
    }
    if let Some(looks_like) = foreign_binary(bytes) {
        return Err((
            None,
            FileError::new(FileErrorKind::NotTabular {
                looks_like: looks_like.into(),
            }),
        ));
    }
    if workbook::is_zip(bytes) || workbook::is_ole(bytes) {
        let wb = workbook::open(bytes, limits).map_err(|e| (None, e))?;
        *sheets = wb.sheets.iter().map(|s| s.name.clone()).collect();
        for note in &wb.notes {
            ctx.findings
                .push(qa::CONTAINER.finding(Severity::Info, note.clone()));
        }
        return read_workbook(ctx, &wb);
    }
    let (utf8, enc) = text::decode(bytes);
    let utf8 = text::normalize_lone_cr(utf8);
    *encoding = Some(enc);
    if !text::looks_like_text(&utf8) {
        return Err((
            None,
            FileError::new(FileErrorKind::NotTabular {
                looks_like: "binary data".into(),
            }),
        ));
    }
    match enc {
        TextEncoding::Windows1252 => ctx.findings.push(qa::ENCODING.finding(
            Severity::Warning,
            "The file is not valid UTF-8; it was read as Windows-1252. Check accented \
             characters; export as UTF-8 to be sure.",
        )),
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => ctx.findings.push(qa::ENCODING.finding(
            Severity::Info,
            format!("The file is {}; it was converted to UTF-8.", enc.as_str()),
        )),
        _ => {}
    }
    let delimiter = text::sniff_delimiter(&utf8);
    if delimiter != b',' {
        ctx.findings.push(qa::ENCODING.finding(
            Severity::Info,
            format!(
                "Fields are separated by {} instead of commas.",
                if delimiter == b';' {
                    "semicolons"
                } else {
                    "tabs"
                }
            ),
        ));
    }
    let parsed = read_csv(ctx, &utf8, delimiter);
    ctx.account.lines = delimited::total_lines(&utf8);
    parsed
}

fn read_csv(ctx: &mut Ctx<'_>, utf8: &[u8], delimiter: u8) -> Result<Parsed, Failure> {
    match detect_csv(utf8, delimiter) {
        Some((CsvKind::Lab, header_line)) => lab_csv::read(ctx, utf8, delimiter, header_line)
            .map_err(|e| (Some(FileKind::CalciumLab), e)),
        Some((CsvKind::Ph, header_line)) => ph_csv::read(ctx, utf8, delimiter, header_line)
            .map_err(|e| (Some(FileKind::PhSensor), e)),
        Some((CsvKind::Reviews, header_line)) => {
            reviews_csv::read(ctx, utf8, delimiter, header_line)
                .map_err(|e| (Some(FileKind::ExpertReviews), e))
        }
        None => {
            let first = utf8
                .split(|b| *b == b'\n')
                .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
                .map(|l| {
                    // Only the start is quoted: the line may be 100 MB.
                    let head = &l[..l.len().min(4 * crate::text::QUOTE_CHARS)];
                    String::from_utf8_lossy(head).trim().to_string()
                })
                .unwrap_or_default();
            reject_lines(ctx, utf8);
            Err((
                None,
                FileError::new(FileErrorKind::UnrecognisedCsv { header: first }),
            ))
        }
    }
}

/// Well-known binary signatures that are certainly not plant exports.
fn foreign_binary(bytes: &[u8]) -> Option<&'static str> {
    const SIGS: &[(&[u8], &str)] = &[
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xBC\xAF", "a 7-Zip archive"),
    ];
    SIGS.iter()
        .find(|(sig, _)| bytes.starts_with(sig))
        .map(|(_, what)| *what)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsvKind {
    Lab,
    Ph,
    Reviews,
}

/// Which CSV kind this is, and the 1-based line of its header: the first
/// of the first 20 lines whose fields name the kind's key columns.
fn detect_csv(utf8: &[u8], delimiter: u8) -> Option<(CsvKind, u32)> {
    let mut found = None;
    let mut seen = 0;
    delimited::walk_until(utf8, delimiter, |row| {
        if let delimited::Row::Record { line, record, .. } = row {
            seen += 1;
            let h = columns::Header::from_record(record);
            if lab_csv::is_header(&h) {
                found = Some((CsvKind::Lab, line));
            } else if ph_csv::is_header(&h) {
                found = Some((CsvKind::Ph, line));
            } else if reviews_csv::is_header(&h) {
                found = Some((CsvKind::Reviews, line));
            }
        }
        if found.is_some() || seen >= 20 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

/// The header row of a delimited file (1-based `header_line`, found by
/// detection), read without parsing the rest and checked against the caps.
/// On failure every line is accounted as rejected.
fn read_header(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
) -> Result<columns::Header, FileError> {
    let mut header = None;
    delimited::walk_until(text, delimiter, |row| match row {
        delimited::Row::Record { line, record, .. } if line >= header_line => {
            if line == header_line {
                header = Some(columns::Header::from_record(record));
            }
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    let checked = match header {
        None => Err(FileError::new(FileErrorKind::Empty)),
        Some(h) => h.within(&ctx.config.limits, header_line).map(|()| h),
    };
    if checked.is_err() {
        reject_lines(ctx, text);
    }
    checked
}

/// Walk a CSV's rows below its header, calling `f` with each record that
/// may be data; blank lines, the preamble, the header and rows over the
/// field caps are accounted for here.
fn walk_data_rows(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
    mut f: impl FnMut(&mut Ctx<'_>, u32, &csv::ByteRecord),
) {
    let limits = ctx.config.limits.clone();
    delimited::walk(text, delimiter, |row| {
        match row {
        delimited::Row::Blank { line, count } => {
            ctx.account
                .skip_rows(None, line, line + count - 1, SkipReason::Blank)
        }
        delimited::Row::Record {
            line,
            lines,
            record,
        } => {
            ctx.account.lines_in_fields += u64::from(lines.saturating_sub(1));
            if !skip_before_data(ctx, line, header_line, record, &limits) {
                f(ctx, line, record);
            }
        }
        delimited::Row::RunawayQuote {
            line,
            last_line,
            delimiters,
        } => ctx.findings.push(
            qa::STRAY_QUOTE
                .finding(
                    Severity::Warning,
                    format!(
                        "A quote opens a field on line {line} and is not closed until line {last_line}, taking in {} lines and {delimiters} field separators: it is read as a stray quote character, and lines {} to {last_line} are read as rows.",
                        last_line - line + 1,
                        line + 1
                    ),
                )
                .at(crate::model::CellRef::row(None, line)),
        ),
    }
    });
}

/// [`walk_data_rows`], with blank rows and repeats of `header` (files
/// pasted together) accounted here too.
fn walk_table_rows(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
    header: &columns::Header,
    mut f: impl FnMut(&mut Ctx<'_>, u32, &csv::ByteRecord),
) {
    walk_data_rows(ctx, text, delimiter, header_line, |ctx, line, rec| {
        if delimited::is_blank(rec) {
            ctx.account.skip(None, line, SkipReason::Blank);
        } else if columns::Header::from_record(rec).names == header.names {
            ctx.account.skip(None, line, SkipReason::Header);
        } else {
            f(ctx, line, rec);
        }
    });
}

/// Account for a CSV row that cannot be data: above or on the header line,
/// or over the field caps (with a finding). True when the row was skipped.
fn skip_before_data(
    ctx: &mut Ctx<'_>,
    line: u32,
    header_line: u32,
    rec: &csv::ByteRecord,
    limits: &crate::config::Limits,
) -> bool {
    let reason = if line < header_line {
        SkipReason::Preamble
    } else if line == header_line {
        SkipReason::Header
    } else if let Some(o) = delimited::oversized(rec, limits) {
        ctx.findings.row(
            qa::UNRECOGNISED_ROW
                .finding(Severity::Warning, o.message)
                .at(crate::model::CellRef {
                    sheet: None,
                    row: Some(line),
                    col: o.col,
                }),
        );
        o.reason
    } else {
        return false;
    };
    ctx.account.skip(None, line, reason);
    true
}

/// `result`, with every line of the file accounted as rejected when it is
/// an error (a CSV header lacking a required column).
fn or_reject<T>(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    result: Result<T, FileError>,
) -> Result<T, FileError> {
    if result.is_err() {
        reject_lines(ctx, text);
    }
    result
}

/// Count every line of a rejected text file as skipped.
fn reject_lines(ctx: &mut Ctx<'_>, utf8: &[u8]) {
    let mut account = RowAccount::default();
    delimited::walk(utf8, b'\x1f', |row| match row {
        delimited::Row::Blank { line, count } => {
            account.skip_rows(None, line, line + count - 1, SkipReason::Blank)
        }
        delimited::Row::Record { line, lines, .. } => {
            account.lines_in_fields += u64::from(lines.saturating_sub(1));
            account.skip(None, line, SkipReason::FileRejected)
        }
        delimited::Row::RunawayQuote { .. } => {}
    });
    ctx.account = account;
}

fn read_workbook(ctx: &mut Ctx<'_>, wb: &workbook::Workbook) -> Result<Parsed, Failure> {
    // The layout is recognised by content; a sheet name that matches the
    // usual one is preferred when several sheets would do.
    let b = wb
        .sheets
        .iter()
        .enumerate()
        .filter_map(|(i, s)| plant_b::detect(s).map(|l| (i, l)))
        .max_by_key(|(i, _)| wb.sheets[*i].name.eq_ignore_ascii_case(plant_b::SHEET_NAME));
    let a = wb
        .sheets
        .iter()
        .enumerate()
        .filter_map(|(i, s)| plant_a::detect(s).map(|l| (i, l)))
        .max_by_key(|(i, _)| wb.sheets[*i].name.eq_ignore_ascii_case(plant_a::SHEET_NAME));
    let (used, parsed) = match (b, a) {
        (Some((i, layout)), _) => (
            i,
            plant_b::read(ctx, &wb.sheets[i], layout)
                .map_err(|e| (Some(FileKind::PlantBReport), e)),
        ),
        (None, Some((i, layout))) => (
            i,
            plant_a::read(ctx, &wb.sheets[i], layout).map_err(|e| (Some(FileKind::PlantAOps), e)),
        ),
        (None, None) => {
            for s in &wb.sheets {
                ctx.account
                    .skip_rows(Some(&s.name), 1, s.rows(), SkipReason::FileRejected);
            }
            return Err((
                None,
                FileError::new(FileErrorKind::UnrecognisedWorkbook {
                    sheets: wb.sheets.iter().map(|s| s.name.to_string()).collect(),
                }),
            ));
        }
    };
    for (i, s) in wb.sheets.iter().enumerate() {
        if i != used && s.rows() > 0 {
            ctx.account
                .skip_rows(Some(&s.name), 1, s.rows(), SkipReason::UnusedSheet);
        }
    }
    parsed
}
