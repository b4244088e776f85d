//! Legacy `.xls` (BIFF8) Workbook streams read into cells by our own
//! record walker.
//!
//! Every record length is checked, sheet offsets are not trusted, the
//! DIMENSIONS record is ignored and sheets are built from the cells really
//! there: each cell is checked against the caps and charged against the
//! file's memory budget before it is stored, and a shared string is stored
//! once however many cells show it. Formula cells become their cached
//! values; number formats tell dates apart as Excel does; the workbook's
//! 1904 date system (DATEMODE) is honoured.

use std::rc::Rc;

use super::workbook::{builtin_is_date, format_is_date, Budget, Cell, Cells, CELL_BYTES};
use crate::config::Limits;
use crate::error::{FileError, FileErrorKind};
use crate::model::{col_letters, CellRef};

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const CONTINUE: u16 = 0x003C;
const FILEPASS: u16 = 0x002F;
const DATEMODE: u16 = 0x0022;
const FORMAT: u16 = 0x041E;
const XF: u16 = 0x00E0;
const BOUNDSHEET: u16 = 0x0085;
const SST: u16 = 0x00FC;
const NUMBER: u16 = 0x0203;
const LABEL: u16 = 0x0204;
const RSTRING: u16 = 0x00D6;
const BOOLERR: u16 = 0x0205;
const STRING: u16 = 0x0207;
const RK: u16 = 0x027E;
const MULRK: u16 = 0x00BD;
const LABELSST: u16 = 0x00FD;
const FORMULA: u16 = 0x0006;

/// BIFF8 records carry at most this many data bytes.
const MAX_RECORD: usize = 8224;

/// Excel itself writes at most a few thousand of each; more are ignored
/// (cell styles) or refuse the file (sheets).
const MAX_XFS: usize = 65_536;
const MAX_SHEETS: usize = 4_096;

/// Error codes a BOOLERR cell may hold, as Excel shows them; other codes
/// make the cell damaged.
fn error_text(code: u8) -> Option<&'static str> {
    Some(match code {
        0x00 => "#NULL!",
        0x07 => "#DIV/0!",
        0x0F => "#VALUE!",
        0x17 => "#REF!",
        0x1D => "#NAME?",
        0x24 => "#NUM!",
        0x2A => "#N/A",
        0x2B => "#DATA!",
        _ => return None,
    })
}

fn corrupt(detail: impl Into<String>) -> FileError {
    FileError::new(FileErrorKind::Corrupt {
        format: "xls".into(),
        detail: detail.into(),
    })
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// One record with the CONTINUE records that follow it.
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
    cont: Vec<&'a [u8]>,
}

/// Records from `pos` on; `None` at the end of the stream, an error when a
/// record runs past it.
struct Records<'a> {
    stream: &'a [u8],
    pos: usize,
}

impl<'a> Records<'a> {
    fn raw(&mut self) -> Option<Result<(u16, &'a [u8]), FileError>> {
        let rest = self.stream.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (Some(typ), Some(len)) = (u16_at(rest, 0), u16_at(rest, 2)) else {
            return Some(Err(corrupt(format!(
                "a record header at byte {} is cut off",
                self.pos
            ))));
        };
        let Some(data) = rest.get(4..4 + len as usize) else {
            return Some(Err(corrupt(format!(
                "a record at byte {} runs past the end of the Workbook stream",
                self.pos
            ))));
        };
        self.pos += 4 + len as usize;
        Some(Ok((typ, data)))
    }

    fn next_record(&mut self) -> Option<Result<Record<'a>, FileError>> {
        let (typ, data) = match self.raw()? {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let mut cont = Vec::new();
        while self
            .stream
            .get(self.pos..)
            .and_then(|r| u16_at(r, 0))
            .is_some_and(|t| t == CONTINUE)
        {
            match self.raw() {
                Some(Ok((_, d))) => cont.push(d),
                Some(Err(e)) => return Some(Err(e)),
                None => break,
            }
        }
        Some(Ok(Record { typ, data, cont }))
    }
}

/// Reads strings that may run on into CONTINUE records (where each
/// continued piece starts with a fresh flags byte).
struct Reader<'r, 'a> {
    data: &'a [u8],
    cont: std::slice::Iter<'r, &'a [u8]>,
}

impl<'a> Reader<'_, 'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(..n)?;
        self.data = &self.data[n..];
        Some(s)
    }

    fn next_piece(&mut self) -> bool {
        match self.cont.next() {
            Some(d) => {
                self.data = d;
                true
            }
            None => false,
        }
    }

    /// Skip `n` bytes, across pieces.
    fn skip(&mut self, mut n: usize) -> Option<()> {
        while n > 0 {
            if self.data.is_empty() && !self.next_piece() {
                return None;
            }
            let k = n.min(self.data.len());
            self.data = &self.data[k..];
            n -= k;
        }
        Some(())
    }

    /// `cch` characters, 1 or 2 bytes each as the flags say.
    fn chars(&mut self, mut cch: usize, mut wide: bool) -> Option<String> {
        let mut units: Vec<u16> = Vec::with_capacity(cch);
        while cch > 0 {
            if self.data.is_empty() {
                if !self.next_piece() {
                    return None;
                }
                let flags = *self.take(1)?.first()?;
                wide = flags & 1 != 0;
            }
            let avail = if wide {
                self.data.len() / 2
            } else {
                self.data.len()
            };
            let k = avail.min(cch);
            if k == 0 {
                // An odd trailing byte of a wide piece: skip to the next.
                self.data = &[];
                continue;
            }
            if wide {
                let b = self.take(2 * k)?;
                units.extend(b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])));
            } else {
                units.extend(self.take(k)?.iter().map(|b| u16::from(*b)));
            }
            cch -= k;
        }
        Some(String::from_utf16_lossy(&units))
    }

    /// `XLUnicodeRichExtendedString` (SST entries).
    fn rich_string(&mut self) -> Option<String> {
        if self.data.is_empty() && !self.next_piece() {
            return None;
        }
        let head = self.take(3)?;
        let cch = usize::from(u16::from_le_bytes([head[0], head[1]]));
        let flags = head[2];
        let runs = if flags & 0x8 != 0 {
            usize::from(u16_at(self.take(2)?, 0)?)
        } else {
            0
        };
        let ext = if flags & 0x4 != 0 {
            u32_at(self.take(4)?, 0)? as usize
        } else {
            0
        };
        let s = self.chars(cch, flags & 1 != 0)?;
        self.skip(runs * 4)?;
        self.skip(ext)?;
        Some(s)
    }
}

/// `XLUnicodeString` at the start of `data` (LABEL, STRING, FORMAT).
fn unicode_string(data: &[u8], cont: &[&[u8]]) -> Option<String> {
    let mut r = Reader {
        data,
        cont: cont.iter(),
    };
    let head = r.take(3)?;
    let cch = usize::from(u16::from_le_bytes([head[0], head[1]]));
    r.chars(cch, head[2] & 1 != 0)
}

/// `ShortXLUnicodeString` (sheet names).
fn short_string(data: &[u8]) -> Option<String> {
    let cch = usize::from(*data.first()?);
    let wide = data.get(1)? & 1 != 0;
    let body = data.get(2..)?;
    let units: Vec<u16> = if wide {
        body.chunks_exact(2)
            .take(cch)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    } else {
        body.iter().take(cch).map(|b| u16::from(*b)).collect()
    };
    Some(String::from_utf16_lossy(&units))
}

/// An `.xls` workbook's cells, sheet by sheet in workbook order.
pub(crate) struct Book {
    pub sheets: Vec<(String, Cells)>,
    pub is_1904: bool,
    /// What was dropped, for the user.
    pub notes: Vec<String>,
}

/// Whether each cell format (XF) shows dates.
struct Formats {
    xf_dates: Vec<bool>,
}

impl Formats {
    fn is_date(&self, xf: u16) -> bool {
        self.xf_dates.get(usize::from(xf)).copied().unwrap_or(false)
    }

    fn number(&self, xf: u16, v: f64) -> Cell {
        if self.is_date(xf) {
            Cell::Date(v)
        } else {
            Cell::Number(v)
        }
    }
}

/// An RK number (MULRK, RK): a 30-bit integer or the top of a double,
/// possibly hundredths.
fn rk(v: u32) -> f64 {
    let n = if v & 2 != 0 {
        f64::from((v as i32) >> 2)
    } else {
        f64::from_bits(u64::from(v & 0xFFFF_FFFC) << 32)
    };
    if v & 1 != 0 {
        n / 100.0
    } else {
        n
    }
}

/// Read `stream` (the Workbook stream of an `.xls`) into cells, checked
/// against `limits` and charged against `budget`.
pub(crate) fn read(stream: &[u8], limits: &Limits, budget: &mut Budget) -> Result<Book, FileError> {
    let mut recs = Records { stream, pos: 0 };
    let first = match recs.next_record() {
        Some(r) => r?,
        None => return Err(corrupt("the Workbook stream is empty")),
    };
    if first.typ != BOF {
        return Err(corrupt(
            "the Workbook stream does not start with a BOF record",
        ));
    }
    match u16_at(first.data, 0) {
        Some(0x0600) => {}
        Some(0x0002 | 0x0007 | 0x0200 | 0x0300 | 0x0400 | 0x0500) => {
            return Err(FileError::new(FileErrorKind::Unsupported {
                format: "Excel 5.0/95 and older .xls".into(),
            }))
        }
        Some(v) => return Err(corrupt(format!("unknown BIFF version {v:#06x}"))),
        None => return Err(corrupt("the first BOF record is cut off")),
    }

    let mut is_1904 = false;
    let mut custom: std::collections::HashMap<u16, bool> = std::collections::HashMap::new();
    let mut xfs: Vec<u16> = Vec::new();
    let mut bound: Vec<(usize, String)> = Vec::new();
    let mut sst: Vec<Rc<str>> = Vec::new();
    let mut notes = Vec::new();
    let max_strings = usize::try_from(limits.max_sheet_cells).unwrap_or(usize::MAX);
    while let Some(r) = recs.next_record() {
        let r = r?;
        match r.typ {
            EOF => break,
            FILEPASS => return Err(FileError::new(FileErrorKind::Encrypted)),
            DATEMODE => is_1904 = u16_at(r.data, 0) == Some(1),
            FORMAT => {
                // Only whether it shows dates is kept, so however long or
                // however many the format texts, they cost a flag each.
                if let (Some(id), Some(s)) = (
                    u16_at(r.data, 0),
                    r.data.get(2..).and_then(|d| unicode_string(d, &r.cont)),
                ) {
                    budget.charge(8)?;
                    custom.insert(id, format_is_date(&s));
                }
            }
            XF if xfs.len() < MAX_XFS => {
                budget.charge(3)?;
                xfs.push(u16_at(r.data, 2).unwrap_or(0));
            }
            BOUNDSHEET => {
                if bound.len() >= MAX_SHEETS {
                    return Err(FileError::new(FileErrorKind::TooLarge {
                        what: format!("a workbook of more than {MAX_SHEETS} sheets"),
                        limit: MAX_SHEETS as u64,
                    }));
                }
                let pos = u32_at(r.data, 0).ok_or_else(|| corrupt("a sheet record is cut off"))?;
                let name = r
                    .data
                    .get(6..)
                    .and_then(short_string)
                    .map(|n| n.replace('\0', ""))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("Sheet{}", bound.len() + 1));
                budget.charge_text(name.len() + 8)?;
                bound.push((pos as usize, name));
            }
            SST => {
                // A second SST replaces the first.
                sst.clear();
                let mut rd = Reader {
                    data: r.data.get(8..).unwrap_or(&[]),
                    cont: r.cont.iter(),
                };
                loop {
                    if rd.data.is_empty() && !rd.next_piece() {
                        break;
                    }
                    if sst.len() >= max_strings {
                        return Err(FileError::new(FileErrorKind::TooLarge {
                            what: format!("the shared string table (over {max_strings} strings)"),
                            limit: limits.max_sheet_cells,
                        }));
                    }
                    match rd.rich_string() {
                        Some(s) => {
                            budget.charge_text(s.len())?;
                            sst.push(Rc::from(s));
                        }
                        None => {
                            notes.push(format!(
                                "the shared string table is cut short after {} strings; cells that refer past it are left blank",
                                sst.len()
                            ));
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let formats = Formats {
        xf_dates: xfs
            .iter()
            .map(|f| {
                custom
                    .get(f)
                    .copied()
                    .unwrap_or_else(|| builtin_is_date(u32::from(*f)))
            })
            .collect(),
    };
    drop(xfs);

    // Sheets may not overlap: otherwise a few thousand sheet records
    // pointing at one big sheet would read it a few thousand times.
    let mut order: Vec<usize> = (0..bound.len()).collect();
    order.sort_by_key(|i| bound.get(*i).map_or(0, |b| b.0));
    let mut cells: Vec<Vec<(u32, u32, Cell)>> = (0..bound.len()).map(|_| Vec::new()).collect();
    let mut skipped = 0u64;
    let mut end = 0usize;
    // The workbook-wide cell cap holds while the sheets are read, before
    // any sheet's cells are stored.
    let mut workbook_cells = 0u64;
    for i in order {
        let Some((pos, name)) = bound.get(i) else {
            continue;
        };
        if *pos < end {
            return Err(corrupt(format!(
                "sheet '{name}' overlaps the sheet before it in the Workbook stream"
            )));
        }
        let mut sheet = SheetCells {
            ext: Extent {
                name,
                limits,
                cells: 0,
                max_r: 0,
                max_c: 0,
            },
            cells: Vec::new(),
            workbook_cells: &mut workbook_cells,
            budget,
        };
        let e = sheet_cells(stream, *pos, &mut sheet, &sst, &formats, &mut skipped)?;
        if let Some(slot) = cells.get_mut(i) {
            *slot = sheet.cells;
        }
        end = e;
    }
    let sheets = bound
        .into_iter()
        .zip(cells)
        .map(|((_, name), cells)| (name, cells))
        .collect();
    if skipped > 0 {
        notes.push(format!(
            "{skipped} damaged cell records in the legacy .xls were skipped"
        ));
    }
    Ok(Book {
        sheets,
        is_1904,
        notes,
    })
}

/// Extent and count of one sheet's cells, checked as they arrive.
struct Extent<'a> {
    name: &'a str,
    limits: &'a Limits,
    cells: u64,
    max_r: u32,
    max_c: u32,
}

impl Extent<'_> {
    fn add(&mut self, row: u16, col: u16) -> Result<(), FileError> {
        let (r, c) = (u32::from(row), u32::from(col));
        let at = CellRef {
            sheet: Some(self.name.into()),
            row: Some(r + 1),
            col: Some(c),
        };
        if r >= self.limits.max_sheet_rows || c >= self.limits.max_sheet_cols {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!("a cell at row {}, column {}", r + 1, col_letters(c)),
                    limit: u64::from(self.limits.max_sheet_rows)
                        * u64::from(self.limits.max_sheet_cols),
                },
                at,
            ));
        }
        self.cells += 1;
        self.max_r = self.max_r.max(r);
        self.max_c = self.max_c.max(c);
        let area = (u64::from(self.max_r) + 1) * (u64::from(self.max_c) + 1);
        if area > self.limits.max_sheet_cells || self.cells > self.limits.max_sheet_cells {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!(
                        "sheet '{}' spanning A1:{}{} ({area} cells)",
                        self.name,
                        col_letters(self.max_c),
                        self.max_r + 1
                    ),
                    limit: self.limits.max_sheet_cells,
                },
                at,
            ));
        }
        Ok(())
    }
}

/// One sheet's cells as they are read.
struct SheetCells<'a, 'b> {
    ext: Extent<'a>,
    cells: Vec<(u32, u32, Cell)>,
    workbook_cells: &'b mut u64,
    budget: &'b mut Budget,
}

impl SheetCells<'_, '_> {
    fn push(&mut self, row: u16, col: u16, value: Cell) -> Result<(), FileError> {
        self.ext.add(row, col)?;
        *self.workbook_cells += 1;
        let limit = self.ext.limits.max_sheet_cells.saturating_mul(2);
        if *self.workbook_cells > limit {
            return Err(FileError::new(FileErrorKind::TooLarge {
                what: format!(
                    "the workbook's sheets together (more than {limit} cells up to '{}')",
                    self.ext.name
                ),
                limit,
            }));
        }
        let own = match &value {
            Cell::Text(s) if Rc::strong_count(s) == 1 => s.len(),
            _ => 0,
        };
        self.budget.charge(CELL_BYTES.saturating_add(own as u64))?;
        self.cells.push((u32::from(row), u32::from(col), value));
        Ok(())
    }
}

/// The cell records of the sheet whose BOF is at `pos`, checked and
/// stored; returns where the sheet ends.
fn sheet_cells(
    stream: &[u8],
    pos: usize,
    out: &mut SheetCells<'_, '_>,
    sst: &[Rc<str>],
    formats: &Formats,
    skipped: &mut u64,
) -> Result<usize, FileError> {
    let name = out.ext.name;
    if pos >= stream.len() {
        return Err(corrupt(format!(
            "sheet '{name}' is said to start at byte {pos}, past the end of the Workbook stream"
        )));
    }
    let mut recs = Records { stream, pos };
    match recs.next_record() {
        Some(Ok(r)) if r.typ == BOF => {}
        _ => {
            return Err(corrupt(format!(
                "sheet '{name}' does not start with a BOF record"
            )))
        }
    }
    let mut depth = 0usize;
    // A formula whose cached value is a string: the STRING record after it.
    let mut pending: Option<(u16, u16)> = None;
    while let Some(r) = recs.next_record() {
        let r = r?;
        // Embedded charts are substreams of their own; their records are
        // not cells of this sheet.
        match r.typ {
            BOF => {
                depth += 1;
                continue;
            }
            EOF if depth > 0 => {
                depth -= 1;
                continue;
            }
            EOF => break,
            _ if depth > 0 => continue,
            // A STRING record carries no position: it belongs to the
            // formula just before it.
            STRING => {
                if let Some((row, col)) = pending.take() {
                    match unicode_string(r.data, &r.cont) {
                        Some(s) => out.push(row, col, Cell::Text(Rc::from(s)))?,
                        None => *skipped += 1,
                    }
                }
                continue;
            }
            _ => {}
        }
        let d = r.data;
        let (Some(row), Some(col), Some(xf)) = (u16_at(d, 0), u16_at(d, 2), u16_at(d, 4)) else {
            if matches!(
                r.typ,
                NUMBER | LABEL | RSTRING | BOOLERR | RK | MULRK | LABELSST | FORMULA
            ) {
                *skipped += 1;
            }
            continue;
        };
        match r.typ {
            NUMBER => match d.get(6..14).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                Some(b) => out.push(row, col, formats.number(xf, f64::from_le_bytes(b)))?,
                None => *skipped += 1,
            },
            RK => match u32_at(d, 6) {
                Some(v) => out.push(row, col, formats.number(xf, rk(v)))?,
                None => *skipped += 1,
            },
            MULRK => {
                let last = d.len().checked_sub(2).and_then(|i| u16_at(d, i));
                let ok = match last {
                    Some(last) if last >= col => {
                        d.len() == 6 + 6 * (usize::from(last - col) + 1)
                            && 6 + 6 * (usize::from(last - col) + 1) <= MAX_RECORD
                    }
                    _ => false,
                };
                if !ok {
                    *skipped += 1;
                    continue;
                }
                for (k, c) in (col..=last.unwrap_or(col)).enumerate() {
                    let at = 4 + 6 * k;
                    let (Some(xf), Some(v)) = (u16_at(d, at), u32_at(d, at + 2)) else {
                        *skipped += 1;
                        continue;
                    };
                    out.push(row, c, formats.number(xf, rk(v)))?;
                }
            }
            LABELSST => match u32_at(d, 6).and_then(|i| sst.get(i as usize)) {
                Some(s) => out.push(row, col, Cell::Text(Rc::clone(s)))?,
                None => *skipped += 1,
            },
            LABEL | RSTRING => match d.get(6..).and_then(|s| unicode_string(s, &r.cont)) {
                Some(s) => out.push(row, col, Cell::Text(Rc::from(s)))?,
                None => *skipped += 1,
            },
            BOOLERR => match (d.get(6), d.get(7)) {
                (Some(v), Some(0)) => out.push(row, col, Cell::Bool(*v != 0))?,
                (Some(v), Some(1)) => match error_text(*v) {
                    Some(e) => out.push(row, col, Cell::Error(e))?,
                    None => *skipped += 1,
                },
                _ => *skipped += 1,
            },
            FORMULA => {
                pending = None;
                let Some(val) = d.get(6..14) else {
                    *skipped += 1;
                    continue;
                };
                if val.get(6..8) != Some(&[0xFF, 0xFF][..]) {
                    let b = <[u8; 8]>::try_from(val).unwrap_or([0; 8]);
                    out.push(row, col, formats.number(xf, f64::from_le_bytes(b)))?;
                    continue;
                }
                match (val.first(), val.get(2)) {
                    (Some(0), _) => pending = Some((row, col)),
                    (Some(1), Some(v)) => out.push(row, col, Cell::Bool(*v != 0))?,
                    (Some(2), Some(v)) => match error_text(*v) {
                        Some(e) => out.push(row, col, Cell::Error(e))?,
                        None => *skipped += 1,
                    },
                    (Some(3), _) => out.push(row, col, Cell::Text(Rc::from("")))?,
                    _ => *skipped += 1,
                }
            }
            _ => {}
        }
    }
    Ok(recs.pos)
}
