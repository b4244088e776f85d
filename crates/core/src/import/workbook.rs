//! Workbooks (`.xlsx`, legacy `.xls`) read from bytes into dense sheets,
//! with every size checked against the caps before anything big is
//! allocated.
//!
//! Cells keep calamine's model (`Data`): formula cells carry their cached
//! value (we never evaluate formulas), errors such as `#N/A` are values.

use std::borrow::Cow;
use std::io::{Cursor, Read, Seek};

use calamine::{Data, Range, Reader, Xls, Xlsx};
use chrono::NaiveDateTime;

use crate::config::Limits;
use crate::error::{FileError, FileErrorKind};
use crate::model::{CellRef, Text};
use crate::timestamp::excel_serial;

use super::{biff, cfb};

/// A workbook container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkbookFormat {
    Xlsx,
    Xls,
}

/// One worksheet: its used range from row 1 / column A on, so `get(r, c)`
/// takes 0-based positions exactly as Excel numbers them minus one.
pub struct Sheet {
    pub name: Text,
    range: Range<Data>,
    rows: u32,
    cols: u32,
    is_1904: bool,
}

static EMPTY: Data = Data::Empty;

/// Excel serial days from 1950-01-01 to 9999-12-31.
const PLAUSIBLE_SERIALS: std::ops::Range<f64> = 18_264.0..2_958_466.0;

impl Sheet {
    fn new(name: &str, range: Range<Data>, is_1904: bool) -> Sheet {
        let (rows, cols) = match range.end() {
            Some((r, c)) if !range.is_empty() => (r + 1, c + 1),
            _ => (0, 0),
        };
        Sheet {
            name: name.into(),
            range,
            rows,
            cols,
            is_1904,
        }
    }

    /// Rows from 1 to the last used row (what the row account counts).
    pub fn rows(&self) -> u32 {
        self.rows
    }

    pub fn cols(&self) -> u32 {
        self.cols
    }

    pub fn get(&self, row: u32, col: u32) -> &Data {
        self.range.get_value((row, col)).unwrap_or(&EMPTY)
    }

    /// The cell as text: strings as written, numbers in shortest form,
    /// dates as ISO, errors as Excel shows them, blank as "".
    pub fn text(&self, row: u32, col: u32) -> Cow<'_, str> {
        cell_text(self.get(row, col), self.is_1904)
    }

    pub fn is_blank(&self, row: u32, col: u32) -> bool {
        match self.get(row, col) {
            Data::Empty => true,
            Data::String(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    pub fn row_is_blank(&self, row: u32) -> bool {
        (0..self.cols).all(|c| self.is_blank(row, c))
    }

    /// Columns holding something in this row.
    pub fn filled(&self, row: u32) -> impl Iterator<Item = u32> + '_ {
        (0..self.cols).filter(move |c| !self.is_blank(row, *c))
    }

    /// A cell as a date-time when it is one (an Excel date, a serial day
    /// number, or date text).
    pub fn datetime(&self, row: u32, col: u32) -> Option<NaiveDateTime> {
        match self.get(row, col) {
            Data::DateTime(d) => serial(d.as_f64(), self.is_1904),
            // A bare number is a date only in a plausible serial range, so a
            // stray count in a date column is not read as 1900-01-05.
            Data::Float(f) if (PLAUSIBLE_SERIALS).contains(f) => serial(*f, self.is_1904),
            Data::Int(i) if (PLAUSIBLE_SERIALS).contains(&(*i as f64)) => {
                serial(*i as f64, self.is_1904)
            }
            Data::String(s) => crate::timestamp::parse_datetime(s),
            Data::DateTimeIso(s) => crate::timestamp::parse_datetime(s),
            _ => None,
        }
    }

    pub fn at(&self, row: u32, col: u32) -> CellRef {
        CellRef::cell(Some(&self.name), row + 1, col)
    }
}

fn serial(v: f64, is_1904: bool) -> Option<NaiveDateTime> {
    excel_serial(if is_1904 { v + 1462.0 } else { v })
}

/// Shortest text for a cell (see [`Sheet::text`]).
pub fn cell_text(d: &Data, is_1904: bool) -> Cow<'_, str> {
    match d {
        Data::Empty => Cow::Borrowed(""),
        Data::String(s) => Cow::Borrowed(s.as_str()),
        Data::Float(f) => Cow::Owned(format!("{f}")),
        Data::Int(i) => Cow::Owned(i.to_string()),
        Data::Bool(b) => Cow::Borrowed(if *b { "TRUE" } else { "FALSE" }),
        Data::DateTime(dt) => match serial(dt.as_f64(), is_1904) {
            Some(t) if t.time() == chrono::NaiveTime::MIN => {
                Cow::Owned(t.format("%Y-%m-%d").to_string())
            }
            Some(t) => Cow::Owned(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            None => Cow::Owned(format!("{}", dt.as_f64())),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cow::Borrowed(s.as_str()),
        Data::Error(e) => Cow::Owned(e.to_string()),
    }
}

/// An opened workbook: its sheets in workbook order, plus notes about the
/// container worth telling the user (QA level 1 info).
pub struct Workbook {
    pub format: WorkbookFormat,
    pub sheets: Vec<Sheet>,
    pub notes: Vec<String>,
}

const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

pub fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(OLE_MAGIC)
}

pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Open a workbook from its bytes.
pub fn open(bytes: &[u8], limits: &Limits) -> Result<Workbook, FileError> {
    if is_zip(bytes) {
        open_xlsx(bytes, limits)
    } else if is_ole(bytes) {
        open_xls(bytes, limits)
    } else {
        Err(FileError::new(FileErrorKind::NotTabular {
            looks_like: "an unknown binary format".into(),
        }))
    }
}

/// What a zip archive holds, judged from its entry names.
#[derive(Debug, PartialEq, Eq)]
pub enum ZipKind {
    Xlsx,
    Xlsb,
    Ods,
    Other,
}

fn corrupt(format: &'static str, detail: impl ToString) -> FileError {
    FileError::new(FileErrorKind::Corrupt {
        format: format.into(),
        detail: detail.to_string(),
    })
}

/// Look inside the zip's central directory (no decompression): what it is
/// and how large it claims to be once unpacked, refusing zip bombs before
/// any part is inflated.
pub fn inspect_zip(bytes: &[u8], limits: &Limits) -> Result<ZipKind, FileError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt("zip", e))?;
    let mut total: u64 = 0;
    let mut kind = ZipKind::Other;
    for i in 0..archive.len() {
        let Some(Ok(name)) = archive.name_for_index(i) else {
            continue;
        };
        match &*name {
            "xl/workbook.xml" => kind = ZipKind::Xlsx,
            "xl/workbook.bin" => kind = ZipKind::Xlsb,
            "content.xml" if kind == ZipKind::Other => kind = ZipKind::Ods,
            _ => {}
        }
    }
    // Declared sizes come from the central directory; a lying header is
    // caught again while inflating by the reader's own checks.
    let mut archive = archive;
    for i in 0..archive.len() {
        if let Ok(f) = archive.by_index_raw(i) {
            total = total.saturating_add(f.size());
        }
    }
    if total > limits.max_uncompressed_bytes {
        return Err(FileError::new(FileErrorKind::TooLarge {
            what: format!("the workbook's unpacked size ({total} bytes)"),
            limit: limits.max_uncompressed_bytes,
        }));
    }
    Ok(kind)
}

fn open_xlsx(bytes: &[u8], limits: &Limits) -> Result<Workbook, FileError> {
    match inspect_zip(bytes, limits)? {
        ZipKind::Xlsx => {}
        ZipKind::Xlsb => {
            return Err(FileError::new(FileErrorKind::Unsupported {
                format: "Excel binary (.xlsb)".into(),
            }))
        }
        ZipKind::Ods => {
            return Err(FileError::new(FileErrorKind::Unsupported {
                format: "OpenDocument spreadsheet (.ods)".into(),
            }))
        }
        ZipKind::Other => {
            return Err(FileError::new(FileErrorKind::NotTabular {
                looks_like: "a zip archive that is not an Excel workbook".into(),
            }))
        }
    }
    check_parts(bytes, limits)?;
    let file = Budgeted {
        inner: Cursor::new(bytes),
        left: (bytes.len() as u64)
            .saturating_mul(4)
            .saturating_add(1 << 20),
    };
    let mut wb: Xlsx<_> = Xlsx::new(file).map_err(|e| corrupt("xlsx", e))?;
    let is_1904 = wb.has_1904_epoch();
    let names = wb.sheet_names();
    let mut sheets = Vec::with_capacity(names.len());
    let mut total = 0u64;
    for name in names {
        let range = read_xlsx_sheet(&mut wb, &name, limits)?;
        let sheet = Sheet::new(&name, range, is_1904);
        total = add_area(total, &sheet, limits)?;
        sheets.push(sheet);
    }
    Ok(Workbook {
        format: WorkbookFormat::Xlsx,
        sheets,
        notes: Vec::new(),
    })
}

/// How calamine treats a workbook part, judged from its name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Read whole at open, reserving what its `uniqueCount` claims.
    SharedStrings,
    /// Streamed cell by cell, but each text value is built whole.
    Worksheet,
    /// Parsed whole at open into structures many times the XML's size
    /// (every `<xf/>` of the styles becomes a full style record).
    ReadAtOpen,
    /// Not read (images, drawings, printer settings ...).
    Other,
}

fn part_kind(name: &str) -> Part {
    let n = name.to_ascii_lowercase();
    if n.ends_with("sharedstrings.xml") {
        Part::SharedStrings
    } else if n.contains("worksheets/") && n.ends_with(".xml") {
        Part::Worksheet
    } else if n.ends_with("styles.xml")
        || n.ends_with("workbook.xml")
        || n.ends_with(".rels")
        || (n.contains("theme/") && n.ends_with(".xml"))
    {
        Part::ReadAtOpen
    } else {
        Part::Other
    }
}

/// calamine reads the whole shared string table when it opens a workbook,
/// and first reserves room for as many strings as the table's
/// `uniqueCount` claims: a 1 KB file claiming a billion strings aborts the
/// app. It turns the styles into structures far larger than their XML, and
/// builds each text value whole before we see it. So before calamine opens
/// anything, the parts it reads at open are checked against their cap by
/// their declared sizes, and the string table and the sheets are streamed
/// through once (their sizes are already capped): the claim, the real
/// number of strings and the longest text are checked against the caps.
fn check_parts(bytes: &[u8], limits: &Limits) -> Result<(), FileError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt("zip", e))?;
    for i in 0..archive.len() {
        let (name, kind) = match archive.name_for_index(i) {
            Some(Ok(n)) => (n.to_string(), part_kind(&n)),
            _ => continue,
        };
        match kind {
            Part::Other => continue,
            Part::ReadAtOpen => {
                let size = archive.by_index_raw(i).map(|f| f.size()).unwrap_or(0);
                if size > limits.max_open_part_bytes {
                    return Err(FileError::new(FileErrorKind::TooLarge {
                        what: format!("the workbook part {name} ({size} bytes)"),
                        limit: limits.max_open_part_bytes,
                    }));
                }
                continue;
            }
            Part::SharedStrings | Part::Worksheet => {}
        }
        let mut part = archive
            .by_index(i)
            .map_err(|e| corrupt("xlsx", format!("{name}: {e}")))?;
        let mut scan = StringsScan::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(corrupt("xlsx", format!("{name}: {e}"))),
            };
            scan.feed(&buf[..n]);
            // Read on to the end of the long text, to say how long it is.
            if scan.longest_text > limits.max_field_bytes as u64 && scan.text < scan.longest_text {
                return Err(FileError::new(FileErrorKind::TooLarge {
                    what: format!("a text cell of {} bytes", scan.longest_text),
                    limit: limits.max_field_bytes as u64,
                }));
            }
            if kind == Part::SharedStrings && scan.strings > limits.max_sheet_cells {
                return Err(FileError::new(FileErrorKind::TooLarge {
                    what: format!(
                        "the shared string table (more than {} strings)",
                        limits.max_sheet_cells
                    ),
                    limit: limits.max_sheet_cells,
                }));
            }
        }
        if scan.longest_text > limits.max_field_bytes as u64 {
            return Err(FileError::new(FileErrorKind::TooLarge {
                what: format!("a text cell of {} bytes", scan.longest_text),
                limit: limits.max_field_bytes as u64,
            }));
        }
        // A writer may round its claim; a claim beyond the real count that
        // would cost real memory is a lie.
        if let Some(claim) = scan.claimed.filter(|_| kind == Part::SharedStrings) {
            if claim > scan.strings.max(10_000) {
                return Err(corrupt(
                    "xlsx",
                    format!("{name} claims {claim} strings but holds {}", scan.strings),
                ));
            }
        }
    }
    Ok(())
}

/// Running counts over a shared string table's XML, fed in pieces.
#[derive(Default)]
struct StringsScan {
    /// `uniqueCount` of the `<sst>` element, once seen.
    claimed: Option<u64>,
    /// `<si>` elements (with or without a namespace prefix).
    strings: u64,
    /// The longest run of bytes between two `<`, and the current one.
    longest_text: u64,
    text: u64,
    /// The start of a tag cut off at the end of the previous piece.
    tag: Option<Vec<u8>>,
    head: Vec<u8>,
}

impl StringsScan {
    fn feed(&mut self, piece: &[u8]) {
        if self.claimed.is_none() && self.head.len() < 4096 {
            self.head.extend_from_slice(&piece[..piece.len().min(4096)]);
            self.claimed = unique_count(&self.head);
        }
        let mut segments = piece.split(|b| *b == b'<');
        // The first segment continues the previous piece's last one.
        if let Some(first) = segments.next() {
            self.text += first.len() as u64;
            if let Some(mut tag) = self.tag.take() {
                tag.extend_from_slice(&first[..first.len().min(16)]);
                self.tag_or_carry(&tag);
            }
        }
        for seg in segments {
            self.longest_text = self.longest_text.max(self.text);
            self.text = seg.len() as u64;
            self.tag_or_carry(seg);
        }
        self.longest_text = self.longest_text.max(self.text);
    }

    /// Count a tag's start, or keep it for the next piece while its name
    /// may still go on there.
    fn tag_or_carry(&mut self, tag: &[u8]) {
        if tag.len() < 16 && !tag.iter().any(|b| is_tag_end(*b)) {
            self.tag = Some(tag.to_vec());
        } else {
            self.count_tag(tag);
        }
    }

    /// `seg` starts right after a `<`: count it when it opens a string.
    fn count_tag(&mut self, seg: &[u8]) {
        let name = seg.split(|b| is_tag_end(*b)).next().unwrap_or(&[]);
        let local = name.rsplit(|b| *b == b':').next().unwrap_or(&[]);
        if local == b"si" && name.len() < seg.len() {
            self.strings += 1;
        }
    }
}

fn is_tag_end(b: u8) -> bool {
    matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r')
}

/// `uniqueCount="N"` in the opening of a shared string table.
fn unique_count(head: &[u8]) -> Option<u64> {
    let key = b"uniqueCount=";
    let at = head.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = head.get(at + 1..)?;
    let digits: Vec<u8> = rest
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    if digits.is_empty() {
        return None;
    }
    // More digits than a u64 holds is a claim past any cap.
    Some(
        std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(u64::MAX),
    )
}

/// The file's bytes for calamine, with a budget on how much of them may be
/// read in all: many sheet entries pointing at one large part would
/// otherwise have it inflated again for each. A normal workbook reads
/// each part once.
struct Budgeted<'a> {
    inner: Cursor<&'a [u8]>,
    left: u64,
}

impl Read for Budgeted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "its parts are read over and over (several sheets share one part)",
            )
        })?;
        Ok(n)
    }
}

impl Seek for Budgeted<'_> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// All sheets of a workbook together may span twice the per-sheet cap, so
/// a thousand sheets at the cap cannot add up to gigabytes.
fn add_area(total: u64, sheet: &Sheet, limits: &Limits) -> Result<u64, FileError> {
    let total = total.saturating_add(u64::from(sheet.rows()) * u64::from(sheet.cols()));
    let limit = limits.max_sheet_cells.saturating_mul(2);
    if total > limit {
        return Err(FileError::new(FileErrorKind::TooLarge {
            what: format!(
                "the workbook's sheets together ({total} cells up to '{}')",
                sheet.name
            ),
            limit,
        }));
    }
    Ok(total)
}

/// Stream one sheet's cells, refusing it as soon as its cells or extent
/// pass the caps: a single cell at XFD1048576 must not allocate 17 billion.
fn read_xlsx_sheet<RS: Read + Seek>(
    wb: &mut Xlsx<RS>,
    name: &str,
    limits: &Limits,
) -> Result<Range<Data>, FileError> {
    let mut reader = match wb.worksheet_cells_reader(name) {
        Ok(r) => r,
        // Chart sheets and the like hold no cells.
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok(Range::empty()),
        Err(e) => return Err(corrupt("xlsx", e)),
    };
    let sheet_at = |row: u32, col: u32| CellRef {
        sheet: Some(name.into()),
        row: Some(row + 1),
        col: Some(col),
    };
    let mut cells = Vec::new();
    let (mut max_r, mut max_c) = (0u32, 0u32);
    loop {
        let cell = match reader.next_cell() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(corrupt("xlsx", format!("sheet '{name}': {e}"))),
        };
        let (r, c) = cell.get_position();
        let value: Data = cell.get_value().clone().into();
        if matches!(value, Data::Empty) {
            continue;
        }
        if r >= limits.max_sheet_rows || c >= limits.max_sheet_cols {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!(
                        "a cell at row {}, column {}",
                        r + 1,
                        crate::model::col_letters(c)
                    ),
                    limit: u64::from(limits.max_sheet_rows) * u64::from(limits.max_sheet_cols),
                },
                sheet_at(r, c),
            ));
        }
        if let Data::String(s) = &value {
            if s.len() > limits.max_field_bytes {
                return Err(FileError::at(
                    FileErrorKind::TooLarge {
                        what: format!("a cell of {} bytes", s.len()),
                        limit: limits.max_field_bytes as u64,
                    },
                    sheet_at(r, c),
                ));
            }
        }
        max_r = max_r.max(r);
        max_c = max_c.max(c);
        let area = (u64::from(max_r) + 1) * (u64::from(max_c) + 1);
        if area > limits.max_sheet_cells || cells.len() as u64 >= limits.max_sheet_cells {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!(
                        "sheet '{name}' spanning A1:{}{} ({area} cells)",
                        crate::model::col_letters(max_c),
                        max_r + 1
                    ),
                    limit: limits.max_sheet_cells,
                },
                sheet_at(r, c),
            ));
        }
        cells.push(calamine::Cell::new((r, c), value));
    }
    if cells.is_empty() {
        return Ok(Range::empty());
    }
    // Anchor at A1 so absolute and relative positions agree.
    if !cells.iter().any(|c| c.get_position() == (0, 0)) {
        cells.push(calamine::Cell::new((0, 0), Data::Empty));
    }
    Ok(Range::from_sparse(cells))
}

fn open_xls(bytes: &[u8], limits: &Limits) -> Result<Workbook, FileError> {
    let mut notes = Vec::new();
    let len = bytes.len();
    if len < 512 || !(len - 512).is_multiple_of(512) {
        notes.push(format!(
            "the legacy .xls container is non-standard (file size {len} bytes is not 512 + a multiple of 512); read anyway"
        ));
    }
    // calamine never sees the file itself: the Workbook stream is read by
    // our checked container reader, checked and rewritten record by record
    // (see `biff`), and handed over in a fresh container.
    let compound = cfb::Compound::open(bytes).map_err(|e| corrupt("xls", e))?;
    // A password-protected .xlsx is an OLE2 file holding the encrypted zip.
    if compound.has_stream("EncryptedPackage") || compound.has_stream("EncryptionInfo") {
        return Err(FileError::new(FileErrorKind::Encrypted));
    }
    let stream = match compound.stream("Workbook") {
        Some(s) => s.map_err(|e| corrupt("xls", e))?,
        None if compound.has_stream("Book") => {
            return Err(FileError::new(FileErrorKind::Unsupported {
                format: "Excel 5.0/95 and older .xls".into(),
            }))
        }
        None => {
            let what = if compound.has_stream("WordDocument") {
                "a Word document"
            } else if compound.has_stream("PowerPoint Document") {
                "a PowerPoint presentation"
            } else {
                "an Office file that holds no Excel workbook"
            };
            return Err(FileError::new(FileErrorKind::NotTabular {
                looks_like: what.into(),
            }));
        }
    };
    let normalized = biff::normalize(&stream, limits)?;
    drop(stream);
    notes.extend(normalized.notes);
    let clean = cfb::write_single_stream("Workbook", &normalized.stream);
    drop(normalized.stream);
    let mut wb: Xls<_> = Xls::new(Cursor::new(clean)).map_err(|e| match e {
        calamine::XlsError::Password => FileError::new(FileErrorKind::Encrypted),
        e => corrupt("xls", e),
    })?;
    let names = wb.sheet_names();
    let mut sheets = Vec::with_capacity(names.len());
    let mut total = 0u64;
    for name in names {
        let range = match wb.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => return Err(corrupt("xls", format!("sheet '{name}': {e}"))),
        };
        let sheet = Sheet::new(&name, anchor_a1(range), false);
        total = add_area(total, &sheet, limits)?;
        sheets.push(sheet);
    }
    Ok(Workbook {
        format: WorkbookFormat::Xls,
        sheets,
        notes,
    })
}

/// calamine's ranges start at the first used cell; re-anchor at A1 so
/// positions are absolute.
fn anchor_a1(range: Range<Data>) -> Range<Data> {
    match range.start() {
        Some((0, 0)) | None => range,
        Some(_) => {
            let mut cells: Vec<calamine::Cell<Data>> = range
                .used_cells()
                .map(|(r, c, v)| {
                    let (r0, c0) = range.start().unwrap_or((0, 0));
                    calamine::Cell::new((r as u32 + r0, c as u32 + c0), v.clone())
                })
                .collect();
            cells.push(calamine::Cell::new((0, 0), Data::Empty));
            Range::from_sparse(cells)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_string_scan_counts_across_piece_boundaries() {
        let xml = b"<?xml?><sst count=\"9\" uniqueCount=\"3\"><si><t>ab</t></si><x:si>\
                    <t>cdefgh</t></x:si><si/><sis>no</sis></sst>";
        for size in 1..xml.len() {
            let mut s = StringsScan::default();
            for piece in xml.chunks(size) {
                s.feed(piece);
            }
            assert_eq!(
                (s.strings, s.claimed, s.longest_text),
                (3, Some(3), 30),
                "pieces of {size}"
            );
        }
    }
}
