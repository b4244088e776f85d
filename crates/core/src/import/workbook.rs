//! Workbooks (`.xlsx`, legacy `.xls`) read from bytes into sparse sheets
//! by our own streaming readers (`xlsx`, `biff`), with every size checked
//! against the caps and every allocation that grows with the file charged
//! against a memory budget before it is made.
//!
//! Formula cells carry their cached value (we never evaluate formulas),
//! errors such as `#N/A` are values. A shared string is stored once and
//! every cell showing it holds a pointer to it, so one long string shown
//! by a million cells costs its length plus a million pointers.

use std::borrow::Cow;
use std::io::{Cursor, Read};
use std::rc::Rc;

use chrono::NaiveDateTime;

use crate::config::Limits;
use crate::error::{FileError, FileErrorKind};
use crate::model::{CellRef, Text};
use crate::timestamp::excel_serial;

use super::{biff, cfb, xlsx};

/// A workbook container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkbookFormat {
    Xlsx,
    Xls,
}

/// One cell's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(Rc<str>),
    Number(f64),
    /// A number whose cell format is a date or time format.
    Date(f64),
    Bool(bool),
    /// An error value as Excel shows it (`#N/A`).
    Error(&'static str),
    /// An ISO 8601 date cell (`t="d"` in an `.xlsx`).
    IsoDate(Rc<str>),
}

/// A sheet's cells as read: (row, column, value), 0-based.
pub(crate) type Cells = Vec<(u32, u32, Cell)>;

/// What one stored cell costs as the budget counts it: its position and
/// value three times over, for the vector's growth while a sheet is read
/// and the buffer of the stable sort that orders it.
pub(crate) const CELL_BYTES: u64 = 3 * std::mem::size_of::<(u32, u32, Cell)>() as u64;

/// The memory a workbook's reading may still use. Charged before each
/// allocation that grows with the file's content or claims.
pub(crate) struct Budget {
    used: u64,
    limit: u64,
    /// The file's whole budget (`limit` plus the working room), as told.
    whole: u64,
    file_bytes: u64,
}

impl Budget {
    pub(crate) fn new(limits: &Limits, file_bytes: usize) -> Budget {
        // What is kept is charged; the working copies around it are not
        // (the XML reader's buffer, a text being joined and its final copy,
        // the importer's look at a cell), so they are set aside first: a
        // few cell texts at their cap, plus room for buffers.
        let working = (limits.max_field_bytes as u64)
            .saturating_mul(4)
            .saturating_add(2 << 20);
        let whole = limits.memory_budget(file_bytes as u64);
        Budget {
            used: 0,
            limit: whole.saturating_sub(working),
            whole,
            file_bytes: file_bytes as u64,
        }
    }

    pub(crate) fn charge(&mut self, bytes: u64) -> Result<(), FileError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(FileError::new(FileErrorKind::TooLarge {
                what: format!(
                    "the memory needed to read this workbook (its cells, strings or styles repeat far beyond its size of {} bytes)",
                    self.file_bytes
                ),
                limit: self.whole,
            }));
        }
        Ok(())
    }

    /// A string of `len` bytes kept behind an `Rc`, with its pointer.
    pub(crate) fn charge_text(&mut self, len: usize) -> Result<(), FileError> {
        self.charge((len as u64).saturating_add(32))
    }
}

/// One worksheet: its cells from row 1 / column A on, so `get(r, c)`
/// takes 0-based positions exactly as Excel numbers them minus one.
pub struct Sheet {
    pub name: Text,
    /// Non-empty cells sorted by row, then column.
    cells: Vec<(u32, u32, Cell)>,
    rows: u32,
    cols: u32,
    is_1904: bool,
    /// Whether each long text is blank, by its address (the cells keep
    /// every text alive, so an address names one text): trimming a long run
    /// of spaces costs its length, and a few shared strings may fill
    /// thousands of cells, in runs or in turn, which the header search
    /// looks at again for every row and layout.
    long_blank: std::cell::RefCell<std::collections::HashMap<usize, bool>>,
}

/// Texts longer than this (bytes) have their blankness remembered.
const LONG_TEXT: usize = 256;

const EMPTY: &Cell = &Cell::Empty;

/// Excel serial days from 1950-01-01 to 9999-12-31.
const PLAUSIBLE_SERIALS: std::ops::Range<f64> = 18_264.0..2_958_466.0;

impl Sheet {
    /// `cells` in any order; a position given twice keeps its last value,
    /// as Excel does when it opens such a file.
    pub(crate) fn new(name: &str, mut cells: Vec<(u32, u32, Cell)>, is_1904: bool) -> Sheet {
        // Stable, so among equal positions the last stays last; then in
        // place, so no second copy of the cells is ever made.
        cells.sort_by_key(|(r, c, _)| (*r, *c));
        cells.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                std::mem::swap(&mut later.2, &mut kept.2);
            }
            same
        });
        cells.retain(|(_, _, v)| !matches!(v, Cell::Empty));
        let kept = cells;
        let rows = kept.last().map_or(0, |(r, _, _)| r + 1);
        let cols = kept.iter().map(|(_, c, _)| c + 1).max().unwrap_or(0);
        Sheet {
            name: name.into(),
            cells: kept,
            rows,
            cols,
            is_1904,
            long_blank: Default::default(),
        }
    }

    /// [`blank`], each long text's answer worked out once.
    fn blank(&self, v: &Cell) -> bool {
        match v {
            Cell::Text(s) if s.len() > LONG_TEXT => *self
                .long_blank
                .borrow_mut()
                .entry(s.as_ptr() as usize)
                .or_insert_with(|| blank(v)),
            _ => blank(v),
        }
    }

    /// Rows from 1 to the last used row (what the row account counts).
    pub fn rows(&self) -> u32 {
        self.rows
    }

    pub fn cols(&self) -> u32 {
        self.cols
    }

    pub fn get(&self, row: u32, col: u32) -> &Cell {
        match self
            .cells
            .binary_search_by_key(&(row, col), |(r, c, _)| (*r, *c))
        {
            Ok(i) => self.cells.get(i).map_or(EMPTY, |(_, _, v)| v),
            Err(_) => EMPTY,
        }
    }

    /// The stored cells of one row, in column order.
    fn row_cells(&self, row: u32) -> &[(u32, u32, Cell)] {
        let start = self.cells.partition_point(|(r, _, _)| *r < row);
        let end = self.cells.partition_point(|(r, _, _)| *r <= row);
        self.cells.get(start..end).unwrap_or(&[])
    }

    /// The cell as text: strings as written, numbers in shortest form,
    /// dates as ISO, errors as Excel shows them, blank as "".
    pub fn text(&self, row: u32, col: u32) -> Cow<'_, str> {
        cell_text(self.get(row, col), self.is_1904)
    }

    pub fn is_blank(&self, row: u32, col: u32) -> bool {
        self.blank(self.get(row, col))
    }

    pub fn row_is_blank(&self, row: u32) -> bool {
        self.row_cells(row).iter().all(|(_, _, v)| self.blank(v))
    }

    /// Columns holding something in this row.
    pub fn filled(&self, row: u32) -> impl Iterator<Item = u32> + '_ {
        self.row_cells(row)
            .iter()
            .filter(|(_, _, v)| !self.blank(v))
            .map(|(_, c, _)| *c)
    }

    /// A cell as a date-time when it is one (an Excel date, a serial day
    /// number, or date text).
    pub fn datetime(&self, row: u32, col: u32) -> Option<NaiveDateTime> {
        match self.get(row, col) {
            Cell::Date(d) => serial(*d, self.is_1904),
            // A bare number is a date only in a plausible serial range, so a
            // stray count in a date column is not read as 1900-01-05.
            Cell::Number(f) if (PLAUSIBLE_SERIALS).contains(f) => serial(*f, self.is_1904),
            Cell::Text(s) | Cell::IsoDate(s) => crate::timestamp::parse_datetime(s),
            _ => None,
        }
    }

    pub fn at(&self, row: u32, col: u32) -> CellRef {
        CellRef::cell(Some(&self.name), row + 1, col)
    }
}

fn blank(v: &Cell) -> bool {
    #[cfg(test)]
    if matches!(v, Cell::Text(s) if s.len() > LONG_TEXT) {
        tests::LONG_SCANS.with(|n| n.set(n.get() + 1));
    }
    match v {
        Cell::Empty => true,
        Cell::Text(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn serial(v: f64, is_1904: bool) -> Option<NaiveDateTime> {
    excel_serial(if is_1904 { v + 1462.0 } else { v })
}

/// Shortest text for a cell (see [`Sheet::text`]).
pub fn cell_text(d: &Cell, is_1904: bool) -> Cow<'_, str> {
    match d {
        Cell::Empty => Cow::Borrowed(""),
        Cell::Text(s) | Cell::IsoDate(s) => Cow::Borrowed(s),
        Cell::Number(f) => Cow::Owned(format!("{f}")),
        Cell::Bool(b) => Cow::Borrowed(if *b { "TRUE" } else { "FALSE" }),
        Cell::Date(v) => match serial(*v, is_1904) {
            Some(t) if t.time() == chrono::NaiveTime::MIN => {
                Cow::Owned(t.format("%Y-%m-%d").to_string())
            }
            Some(t) => Cow::Owned(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            None => Cow::Owned(format!("{v}")),
        },
        Cell::Error(e) => Cow::Borrowed(e),
    }
}

/// Whether an Excel number format shows a date or a time: the built-in
/// date and time formats, or a custom code whose first section uses a
/// date or time token outside quotes, escapes and brackets (`[h]`-style
/// elapsed times count too).
pub(crate) fn builtin_is_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

pub(crate) fn format_is_date(code: &str) -> bool {
    // The rules Excel readers (calamine among them) apply, so a cell reads
    // as a date exactly when it did before our own reader.
    let mut escaped = false;
    let mut quoted = false;
    let mut depth = 0u32;
    let mut prev = ' ';
    // Inside `[...]`: a run of one elapsed-time letter (`[hh]`, `[mm]`).
    let mut elapsed = false;
    let mut am_pm = false;
    for ch in code.chars() {
        let l = ch.to_ascii_lowercase();
        if escaped {
            escaped = false;
        } else if matches!(ch, '\\' | '_' | '*') {
            escaped = true;
        } else if quoted {
            quoted = ch != '"';
        } else if ch == '"' {
            quoted = true;
        } else if ch == ';' {
            return false;
        } else if ch == '[' {
            depth = depth.saturating_add(1);
        } else if ch == ']' {
            if depth == 1 && elapsed {
                return true;
            }
            depth = depth.saturating_sub(1);
        } else if depth == 0 && !am_pm && l == 'a' {
            am_pm = true;
        } else if depth == 0
            && (if am_pm {
                matches!(l, 'p' | 'm' | '/')
            } else {
                matches!(l, 'd' | 'm' | 'h' | 'y' | 's')
            })
        {
            return true;
        } else if !(elapsed && prev.eq_ignore_ascii_case(&ch)) {
            elapsed = prev == '[' && matches!(l, 'h' | 'm' | 's');
        }
        prev = ch;
    }
    false
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
    let mut budget = Budget::new(limits, bytes.len());
    let book = xlsx::read(bytes, limits, &mut budget)?;
    let mut sheets = Vec::with_capacity(book.sheets.len());
    let mut total = 0u64;
    for (name, cells) in book.sheets {
        let sheet = Sheet::new(&name, cells, book.is_1904);
        total = add_area(total, &sheet, limits)?;
        sheets.push(sheet);
    }
    Ok(Workbook {
        format: WorkbookFormat::Xlsx,
        sheets,
        notes: Vec::new(),
    })
}

/// What the early size checks look at in a workbook part, judged from its
/// name (the reader itself finds parts through relationships and bounds
/// every part it reads, whatever its name).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Its strings are counted and measured.
    SharedStrings,
    /// Its longest text is measured.
    Worksheet,
    /// Capped by its declared size (styles, workbook, relationships,
    /// theme): a user-settable cap on the parts read at open.
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

/// Early refusals that can name exact sizes: before the cells are read,
/// the parts read at open are checked against their cap by their declared
/// sizes, and the string table and the sheets (as usually named) are
/// streamed through once: the claim, the real number of strings and the
/// longest text are checked against the caps. The reader (`xlsx`) holds
/// the same caps and the memory budget by construction for every part
/// however it is named or spelled; this pass only says more precisely
/// what was too large in the common cases.
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
            Part::SharedStrings | Part::Worksheet => {
                // No text in a part can be longer than the part, nor can it
                // hold more strings than bytes: a part within the text cap
                // (any ordinary one) has nothing to find here, and the
                // reader checks the same caps as it goes. A part that
                // inflates past its declared size is refused while read.
                let size = archive
                    .by_index_raw(i)
                    .map(|f| f.size())
                    .unwrap_or(u64::MAX);
                if size <= limits.max_field_bytes as u64 && size <= limits.max_sheet_cells {
                    continue;
                }
            }
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

fn open_xls(bytes: &[u8], limits: &Limits) -> Result<Workbook, FileError> {
    let mut notes = Vec::new();
    let len = bytes.len();
    if len < 512 || !(len - 512).is_multiple_of(512) {
        notes.push(format!(
            "the legacy .xls container is non-standard (file size {len} bytes is not 512 + a multiple of 512); read anyway"
        ));
    }
    // The Workbook stream is read by our checked container reader and its
    // records by our checked BIFF reader (see `cfb`, `biff`).
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
    let mut budget = Budget::new(limits, bytes.len());
    let book = biff::read(&stream, limits, &mut budget)?;
    drop(stream);
    notes.extend(book.notes);
    let mut sheets = Vec::with_capacity(book.sheets.len());
    let mut total = 0u64;
    for (name, cells) in book.sheets {
        let sheet = Sheet::new(&name, cells, book.is_1904);
        total = add_area(total, &sheet, limits)?;
        sheets.push(sheet);
    }
    Ok(Workbook {
        format: WorkbookFormat::Xls,
        sheets,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats_are_told_apart_as_excel_readers_do() {
        for code in [
            "yyyy-mm-dd",
            "DD/MM/YY",
            "H:MM:SS;@",
            "[h]:mm:ss",
            "[mm]",
            "[$-409]d-mmm-yy",
            "h:mm AM/PM",
            "ddd\\-dd",
        ] {
            assert!(format_is_date(code), "{code}");
        }
        for code in [
            "0.00",
            "General",
            "#,##0\\ [$\\u20bd-46D]",
            "\"Y: \"0.00\"m\";@",
            "[Red]0.0",
            "\\Y000000",
            "0_ ;[Red]\\-0\\ ",
            "",
        ] {
            assert!(!format_is_date(code), "{code}");
        }
        assert!(builtin_is_date(14) && builtin_is_date(22) && builtin_is_date(46));
        assert!(!builtin_is_date(0) && !builtin_is_date(49) && !builtin_is_date(164));
    }

    /// Long texts are blank or not as short ones are, each shared string
    /// answered for every cell it fills and told apart from another of the
    /// same length.
    #[test]
    fn long_texts_are_blank_when_only_whitespace() {
        let spaces: Rc<str> = Rc::from(" \u{3000}\t".repeat(200).as_str());
        let led: Rc<str> = Rc::from(format!("{}x", " ".repeat(599)).as_str());
        let word: Rc<str> = Rc::from("y".repeat(600).as_str());
        assert_eq!(
            (spaces.len() > LONG_TEXT, led.len(), word.len()),
            (true, 600, 600)
        );
        let mut cells = Vec::new();
        for c in 0..30u32 {
            let s = [&spaces, &led, &word][c as usize % 3];
            cells.push((0, c, Cell::Text(Rc::clone(s))));
            cells.push((1, c, Cell::Text(Rc::from(&*spaces))));
        }
        cells.push((2, 0, Cell::Text(Rc::from(" "))));
        cells.push((2, 1, Cell::Number(1.0)));
        let sheet = Sheet::new("S", cells, false);
        let filled: Vec<u32> = sheet.filled(0).collect();
        let expected: Vec<u32> = (0..30).filter(|c| c % 3 != 0).collect();
        assert_eq!(filled, expected);
        assert!(sheet.row_is_blank(1));
        assert!(sheet.is_blank(0, 0) && !sheet.is_blank(0, 1) && !sheet.is_blank(0, 2));
        assert_eq!(sheet.filled(2).collect::<Vec<_>>(), [1]);
        assert_eq!((sheet.rows(), sheet.cols()), (3, 30));
    }

    thread_local! {
        /// How many times a long text's blankness was worked out from its
        /// characters (this thread's: tests run side by side).
        pub(super) static LONG_SCANS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// Long shared strings that fill a row in turn (not in runs) are each
    /// trimmed once, however often the header search asks: a few KB of
    /// workbook may fan a 32 KB string of spaces out to thousands of cells.
    #[test]
    fn long_texts_in_turn_are_trimmed_once_each() {
        let texts: Vec<Rc<str>> = (0..5)
            .map(|i| Rc::from(format!("{}{}", " ".repeat(1000 + i), ["", "x"][i % 2]).as_str()))
            .collect();
        let cells = (0..3u32)
            .flat_map(|r| (0..200u32).map(move |c| (r, c)))
            .map(|(r, c)| (r, c, Cell::Text(Rc::clone(&texts[c as usize % 5]))))
            .collect();
        let sheet = Sheet::new("S", cells, false);
        LONG_SCANS.with(|n| n.set(0));
        for _ in 0..10 {
            for r in 0..3 {
                let filled: Vec<u32> = sheet.filled(r).collect();
                assert_eq!(
                    filled,
                    (0..200).filter(|c| c % 5 % 2 == 1).collect::<Vec<_>>()
                );
                assert!(!sheet.row_is_blank(r) && sheet.is_blank(r, 0) && !sheet.is_blank(r, 1));
            }
        }
        assert_eq!(LONG_SCANS.with(|n| n.get()), texts.len());
    }

    #[test]
    fn a_position_given_twice_keeps_its_last_value_and_blanks_are_dropped() {
        let t = |s: &str| Cell::Text(Rc::from(s));
        let sheet = Sheet::new(
            "S",
            vec![
                (2, 1, t("first")),
                (0, 0, t("a1")),
                (2, 1, t("second")),
                (5, 3, Cell::Empty),
            ],
            false,
        );
        assert_eq!((sheet.rows(), sheet.cols()), (3, 2));
        assert_eq!(sheet.text(2, 1), "second");
        assert_eq!(sheet.text(5, 3), "");
        assert_eq!(sheet.filled(2).collect::<Vec<_>>(), [1]);
        assert!(sheet.row_is_blank(1));
    }

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
