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
pub mod profile_reader;
mod reviews_csv;
mod sheet_rows;
pub mod workbook;
mod xlsx;

use std::collections::HashSet;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use account::{RecordRange, RowAccount, SkipRange, SkipReason, MAX_SKIP_RANGES};
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
#[doc(hidden)]
pub use ph_csv::pieces::JOINED as PIECES_JOINED;
pub use ph_csv::MAX_SERIES_IN_FILE;

use crate::config::Config;
use crate::error::{FileError, FileErrorKind};
use crate::model::{FileIdx, LabReading, OpsRow, SensorReading, SensorSeries, Severity, Text};
use crate::profile::{glob_matches, Layout, Profile};
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
    /// A plant profile (PROFILES.md).
    PlantProfile,
    /// Operations data read by a plant profile's layout.
    PlantOps,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::CalciumLab => "calcium_lab",
            FileKind::PhSensor => "ph_sensor",
            FileKind::PlantAOps => "plant_a_ops",
            FileKind::PlantBReport => "plant_b_report",
            FileKind::ExpertReviews => "expert_reviews",
            FileKind::PlantProfile => "plant_profile",
            FileKind::PlantOps => "plant_ops",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            FileKind::CalciumLab => "Calcium lab results",
            FileKind::PhSensor => "pH sensor log",
            FileKind::PlantAOps => "Plant A operator data",
            FileKind::PlantBReport => "Plant B monthly report",
            FileKind::ExpertReviews => "Expert review decisions",
            FileKind::PlantProfile => "Plant profile",
            FileKind::PlantOps => "Plant operations data",
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
    /// A plant profile file's profile (at most one).
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

impl Records {
    /// How many records: the row account's `records` for the file.
    pub fn count(&self) -> usize {
        self.lab.len()
            + self.sensor.len()
            + self.ops.len()
            + self.reviews.len()
            + self.profiles.len()
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
    /// The plant profile and layout that read this operations file.
    #[serde(default)]
    pub profile: Option<Text>,
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
    /// Set by the reader: the profile layout that read the file.
    pub profile: Option<String>,
    strings: HashSet<Text>,
    /// Where a large CSV's pieces are read (one thread unless the edge
    /// gives more).
    pub spread: &'a dyn crate::spread::Spread,
}

impl<'a> Ctx<'a> {
    fn new(name: &str, config: &'a Config) -> Ctx<'a> {
        let name: Text = name.into();
        Ctx {
            findings: FileFindings::new(&name),
            name,
            config,
            account: RowAccount::default(),
            profile: None,
            strings: HashSet::new(),
            spread: &crate::spread::OneThread,
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
    import_file_with(name, bytes, config, &crate::spread::OneThread)
}

/// Rows of each synthetic log [`warm_up`] reads.
pub const WARM_UP_ROWS: u32 = 20_000;

/// Read two small synthetic pH logs (ISO times with `\n` lines, US times
/// with AM/PM and `\r\n` lines) and answer the readings kept. For the
/// browser's workers, at start: WebAssembly has no on-stack replacement,
/// so a function first compiled by the engine's baseline tier stays in
/// that code for the whole call it is hot in; a year's first sensor log
/// was read 3-4x slower than the next ones. Reading a few thousand rows of
/// each form first makes the engine optimise the parser's functions
/// before a user's file arrives.
pub fn warm_up() -> usize {
    let config = Config::default();
    let mut iso = String::from("Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id,Process value,Location,Status\n");
    let mut us = String::from("sensor_id,plant_id,unit_type_id,Timestamp,Process value,Measurement value,Unit,Quality\r\n");
    for i in 0..WARM_UP_ROWS {
        let (day, minute) = (1 + i / 1440, i % 1440);
        let (h, m) = (minute / 60, minute % 60);
        let value = 6.5 + f64::from(i % 100) / 100.0;
        iso.push_str(&format!(
            "2025-01-{:02} {h:02}:{m:02}:00,{value},pH,WU1,secondary_clarifier,PLANT_W,pH,Warm-up,Good\n",
            day.min(28)
        ));
        let (h12, half) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        us.push_str(&format!(
            "WU2,PLANT_W,secondary_clarifier,1/{}/2025 {h12}:{m:02} {half},pH,{value},pH,Good\r\n",
            day.min(28)
        ));
    }
    [("warm-up-iso.csv", iso), ("warm-up-us.csv", us)]
        .iter()
        .map(|(name, text)| {
            import_file(name, text.as_bytes(), &config)
                .records
                .sensor
                .len()
        })
        .sum()
}

/// [`import_file`], a large pH log read in pieces handed to `spread`.
pub fn import_file_with(
    name: &str,
    bytes: &[u8],
    config: &Config,
    spread: &dyn crate::spread::Spread,
) -> FileImport {
    let mut ctx = Ctx::new(name, config);
    ctx.spread = spread;
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
            profile: None,
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
    out.profile = ctx.profile.map(Text::from);
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
    if crate::profile::looks_like_profile(&utf8) {
        let parsed = read_profile(ctx, &utf8);
        ctx.account.lines = delimited::total_lines(&utf8);
        return parsed;
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
            let (sheet, rows, lines_in_fields) =
                profile_reader::csv_sheet(&ctx.name, utf8, delimiter);
            let sheets = [sheet];
            let config = ctx.config;
            let name = ctx.name.clone();
            match choose(config, &name, &sheets) {
                Ok(Some(Chosen {
                    profile: p,
                    layout: l,
                    found,
                    ..
                })) => {
                    ctx.account.lines_in_fields += lines_in_fields;
                    let is_row = |r: u32| rows.get(r as usize).copied().unwrap_or(false);
                    let [sheet] = &sheets;
                    let read = profile_reader::read(ctx, sheet, p, l, &found, None, &is_row);
                    // The sheet ends at its last filled row; blank lines
                    // after it are lines of the file all the same (rejected
                    // with the rest when the file is not read).
                    let reason = if read.is_ok() {
                        SkipReason::Blank
                    } else {
                        SkipReason::FileRejected
                    };
                    let end = rows.len().min(u32::MAX as usize) as u32;
                    for r in sheet.rows()..end {
                        if is_row(r) {
                            ctx.account.skip(None, r + 1, reason);
                        }
                    }
                    return read.map_err(|e| (Some(profile_reader::kind_of(l)), e));
                }
                Ok(_) => {}
                Err(e) => {
                    reject_lines(ctx, utf8);
                    return Err((Some(FileKind::PlantOps), e));
                }
            }
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
                FileError::new(FileErrorKind::UnrecognisedCsv {
                    header: first,
                    named_as: workbook_extension(&ctx.name),
                }),
            ))
        }
    }
}

/// The workbook extension (`.xlsx`, `.xls`, `.xlsm`, `.ods`) a file's name
/// ends with, as written: text behind such a name was renamed or
/// mis-exported, and the user should hear that rather than "this CSV".
fn workbook_extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    ["xlsx", "xls", "xlsm", "ods"]
        .iter()
        .any(|w| ext.eq_ignore_ascii_case(w))
        .then(|| format!(".{ext}"))
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
            let h = columns::Header::from_record(&record);
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
                header = Some(columns::Header::from_record(&record));
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
    f: impl FnMut(&mut Ctx<'_>, u32, &delimited::Fields<'_>),
) {
    walk_data_piece(
        ctx,
        text,
        delimiter,
        header_line,
        delimited::Piece::WHOLE,
        f,
    );
}

/// [`walk_data_rows`] over one piece of the text; where it stopped (see
/// [`delimited::walk_piece`]).
fn walk_data_piece(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
    piece: delimited::Piece,
    mut f: impl FnMut(&mut Ctx<'_>, u32, &delimited::Fields<'_>),
) -> Option<usize> {
    let limits = ctx.config.limits.clone();
    delimited::walk_piece(text, delimiter, piece, |row| {
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
            if !skip_before_data(ctx, line, header_line, &record, &limits) {
                f(ctx, line, &record);
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
        ControlFlow::Continue(())
    })
}

/// [`walk_data_rows`], with blank rows and repeats of `header` (files
/// pasted together) accounted here too.
fn walk_table_rows(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
    header: &columns::Header,
    mut f: impl FnMut(&mut Ctx<'_>, u32, &delimited::Fields<'_>),
) {
    walk_data_rows(ctx, text, delimiter, header_line, |ctx, line, rec| {
        if delimited::is_blank(rec) {
            ctx.account.skip(None, line, SkipReason::Blank);
        } else if header.is_repeated_by(rec) {
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
    rec: &delimited::Fields<'_>,
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

/// The layout that reads a file, with the sheet it reads (index) and
/// that sheet's header.
pub(crate) struct Chosen<'p> {
    profile: &'p Profile,
    layout: &'p Layout,
    sheet: usize,
    found: profile_reader::HeaderFound,
}

fn builtin_profiles() -> &'static [Profile] {
    static BUILTIN: OnceLock<Vec<Profile>> = OnceLock::new();
    BUILTIN.get_or_init(crate::profile::builtins)
}

/// The layouts in force: every dropped profile's, then each built-in
/// layout that no dropped profile replaces (same `plant_id` and name).
pub fn active_layouts(config: &Config) -> Vec<(&Profile, &Layout)> {
    let dropped = config
        .profiles
        .iter()
        .flat_map(|p| p.operations.iter().map(move |l| (p, l)));
    let builtin = builtin_profiles()
        .iter()
        .flat_map(|p| p.operations.iter().map(move |l| (p, l)))
        .filter(|(p, l)| {
            !config
                .profiles
                .iter()
                .any(|d| d.plant_id == p.plant_id && d.operations.iter().any(|x| x.name == l.name))
        });
    dropped.chain(builtin).collect()
}

/// Which layout reads these sheets (PROFILES.md "Which files a layout
/// reads"): `None` when none does, an error when two profiles claim the
/// file and neither names it with a `file_name` glob.
pub(crate) fn choose<'p>(
    config: &'p Config,
    file_name: &str,
    sheets: &[workbook::Sheet],
) -> Result<Option<Chosen<'p>>, FileError> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let mut found: Vec<Chosen<'p>> = Vec::new();
    for (p, l) in active_layouts(config) {
        if l.file_name.as_ref().is_some_and(|g| !glob_matches(g, base)) {
            continue;
        }
        // A version 2 layout claims a sheet only when it can read it (its
        // date and effluent columns are there), as the hand-written Plant
        // A and B importers the built-ins replaced recognised their sheets.
        let mut hits = sheets.iter().enumerate().filter_map(|(i, s)| {
            if l.sheet.as_ref().is_some_and(|g| !glob_matches(g, &s.name)) {
                return None;
            }
            profile_reader::find_header(s, l)
                .filter(|f| p.version < 2 || profile_reader::resolve(l, f).is_ok())
                .map(|f| (i, f))
        });
        // `prefer_sheet` (version 2): any sheet may be read, the named one
        // first, else the last that matches.
        let hit = match &l.rules.prefer_sheet {
            None => hits.next(),
            Some(g) => {
                hits.max_by_key(|(i, _)| sheets.get(*i).is_some_and(|s| glob_matches(g, &s.name)))
            }
        };
        if let Some((i, f)) = hit {
            found.push(Chosen {
                profile: p,
                layout: l,
                sheet: i,
                found: f,
            });
        }
    }
    if found.len() <= 1 {
        return Ok(found.pop());
    }
    let names: Vec<String> = found
        .iter()
        .map(|c| profile_reader::label(c.profile, c.layout))
        .collect();
    let mut globbed: Vec<Chosen<'p>> = found
        .into_iter()
        .filter(|c| c.layout.file_name.is_some())
        .collect();
    if globbed.len() == 1 {
        return Ok(globbed.pop());
    }
    Err(FileError::new(FileErrorKind::ProfileLayout {
        detail: format!(
            "more than one plant profile matches this file ({}), and file_name globs do not tell them apart; the file is not read. Give the right layout a file_name glob, or drop only one of the profiles.",
            names.join(" and ")
        ),
    }))
}

fn read_workbook(ctx: &mut Ctx<'_>, wb: &workbook::Workbook) -> Result<Parsed, Failure> {
    let config = ctx.config;
    let name = ctx.name.clone();
    let chosen = match choose(config, &name, &wb.sheets) {
        Ok(c) => c,
        Err(e) => {
            for s in &wb.sheets {
                ctx.account
                    .skip_rows(Some(&s.name), 1, s.rows(), SkipReason::FileRejected);
            }
            return Err((Some(FileKind::PlantOps), e));
        }
    };
    let (used, parsed) = match chosen {
        Some(Chosen {
            profile: p,
            layout: l,
            sheet: i,
            found,
        }) => {
            let sheet = &wb.sheets[i];
            (
                i,
                profile_reader::read(ctx, sheet, p, l, &found, Some(&sheet.name), &|_| true)
                    .map_err(|e| (Some(profile_reader::kind_of(l)), e)),
            )
        }
        None => {
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

/// A plant profile file: its profile as a record, or every error as a
/// level 1 finding naming its line (the profile is then not used).
fn read_profile(ctx: &mut Ctx<'_>, utf8: &[u8]) -> Result<Parsed, Failure> {
    let text = String::from_utf8_lossy(utf8);
    let lines = delimited::total_lines(utf8);
    let name = ctx.name.to_string();
    match crate::profile::parse(&name, &text) {
        Ok(p) => {
            for l in &p.operations {
                let replaced = builtin_profiles().iter().any(|b| {
                    b.plant_id == p.plant_id && b.operations.iter().any(|x| x.name == l.name)
                });
                if replaced {
                    ctx.findings.push(qa::FILE_RECOGNISED.finding(
                        Severity::Info,
                        format!(
                            "This profile's layout '{}' replaces the built-in one of {} for this run.",
                            clip_quote(&l.name),
                            p.plant_id
                        ),
                    ));
                }
            }
            // One record: the profile, spanning every line of the file.
            ctx.account.record(None, 1);
            ctx.account.lines_in_fields = lines.saturating_sub(1);
            let plant: Text = ctx.intern(&p.plant_id);
            Ok(Parsed {
                kind: FileKind::PlantProfile,
                plant_id: Some(plant),
                period: None,
                generated_at: None,
                records: Records {
                    profiles: vec![p],
                    ..Records::default()
                },
            })
        }
        Err(errors) => {
            for e in &errors {
                ctx.findings.push(
                    qa::FILE_UNREADABLE
                        .finding(Severity::Error, e.to_string())
                        .at(crate::model::CellRef::row(None, e.line)),
                );
            }
            reject_lines(ctx, utf8);
            Err((
                Some(FileKind::PlantProfile),
                FileError::new(FileErrorKind::InvalidProfile {
                    errors: errors
                        .iter()
                        .map(|e| format!("line {}: {}", e.line, e.message))
                        .collect(),
                }),
            ))
        }
    }
}

fn clip_quote(s: &str) -> String {
    crate::text::clip(s, crate::text::QUOTE_CHARS).into_owned()
}

#[cfg(test)]
mod warm_up_tests {
    /// Every synthetic row is a reading: the warm-up goes through the
    /// parser's whole row path, not an early rejection.
    #[test]
    fn the_warm_up_reads_every_row() {
        assert_eq!(super::warm_up(), 2 * super::WARM_UP_ROWS as usize);
    }
}
