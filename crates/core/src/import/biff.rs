//! Legacy `.xls` (BIFF8) Workbook streams, checked and rewritten before
//! calamine parses them.
//!
//! calamine's `.xls` parser indexes record bodies without checking their
//! length, trusts sheet offsets, reserves whatever a DIMENSIONS record
//! declares and builds every sheet densely at open, so a damaged or
//! hostile file can panic it (which aborts the browser app) or make it
//! allocate gigabytes before our caps are looked at. This module walks the
//! records itself, with every length checked, applies the caps to the
//! cells that are really there, and writes a fresh stream holding only
//! what the importers use: sheet names, number formats and cell values
//! (formula cells become their cached values). calamine then reads that
//! stream, which is well-formed by construction, and still does what it
//! is good at: number formats, dates and RK numbers.

use crate::config::Limits;
use crate::error::{FileError, FileErrorKind};
use crate::model::{col_letters, CellRef};

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const CONTINUE: u16 = 0x003C;
const FILEPASS: u16 = 0x002F;
const CODEPAGE: u16 = 0x0042;
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
/// (formats, cell styles) or refuse the file (sheets), so a stream of tiny
/// records cannot grow into a much larger rewritten one.
const MAX_XFS: usize = 65_536;
const MAX_FORMATS: usize = 65_536;
const MAX_SHEETS: usize = 4_096;

/// Error codes a BOOLERR cell may hold (calamine refuses others).
const ERROR_CODES: [u8; 8] = [0x00, 0x07, 0x0F, 0x17, 0x1D, 0x24, 0x2A, 0x2B];

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

/// What the rewritten stream holds for one sheet.
struct SheetOut {
    name: String,
    cells: Vec<u8>,
}

/// A checked, rewritten Workbook stream, and notes for the user about what
/// was dropped.
pub struct Normalized {
    pub stream: Vec<u8>,
    pub notes: Vec<String>,
}

/// Check `stream` (the Workbook stream of an `.xls`) against `limits` and
/// rewrite it for calamine.
pub fn normalize(stream: &[u8], limits: &Limits) -> Result<Normalized, FileError> {
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
    let mut formats: Vec<(u16, String)> = Vec::new();
    let mut xfs: Vec<u16> = Vec::new();
    let mut bound: Vec<(usize, String)> = Vec::new();
    let mut sst: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    let max_strings = usize::try_from(limits.max_sheet_cells).unwrap_or(usize::MAX);
    while let Some(r) = recs.next_record() {
        let r = r?;
        match r.typ {
            EOF => break,
            FILEPASS => return Err(FileError::new(FileErrorKind::Encrypted)),
            DATEMODE => is_1904 = u16_at(r.data, 0) == Some(1),
            FORMAT => {
                // A format calamine could not read is one it would ignore.
                if let (Some(id), Some(s)) = (
                    u16_at(r.data, 0),
                    r.data.get(2..).and_then(|d| unicode_string(d, &r.cont)),
                ) {
                    if formats.len() < MAX_FORMATS {
                        formats.push((id, s));
                    }
                }
            }
            XF if xfs.len() < MAX_XFS => xfs.push(u16_at(r.data, 2).unwrap_or(0)),
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
                bound.push((pos as usize, name));
            }
            SST => {
                // A second SST replaces the first, as in calamine.
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
                        Some(s) => sst.push(s),
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

    // Sheets may not overlap: otherwise a few thousand sheet records
    // pointing at one big sheet would read (and copy) it a few thousand
    // times.
    let mut order: Vec<usize> = (0..bound.len()).collect();
    order.sort_by_key(|i| bound[*i].0);
    let mut cells: Vec<Vec<u8>> = vec![Vec::new(); bound.len()];
    let mut skipped = 0u64;
    let mut end = 0usize;
    let original = sst.len();
    for i in order {
        let (pos, name) = &bound[i];
        if *pos < end {
            return Err(corrupt(format!(
                "sheet '{name}' overlaps the sheet before it in the Workbook stream"
            )));
        }
        let (c, e) = sheet_cells(stream, *pos, name, &mut sst, original, limits, &mut skipped)?;
        cells[i] = c;
        end = e;
    }
    let sheets: Vec<SheetOut> = bound
        .into_iter()
        .zip(cells)
        .map(|((_, name), cells)| SheetOut { name, cells })
        .collect();
    if skipped > 0 {
        notes.push(format!(
            "{skipped} damaged cell records in the legacy .xls were skipped"
        ));
    }
    Ok(Normalized {
        stream: write_stream(is_1904, &formats, &xfs, &sst, &sheets),
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

fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&typ.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

/// A string cell: its text goes to the shared string table and the cell
/// refers to it, so no string is ever too long for its record.
fn string_cell(out: &mut Vec<u8>, sst: &mut Vec<String>, row: u16, col: u16, xf: u16, s: String) {
    let idx = sst.len() as u32;
    sst.push(s);
    let mut d = Vec::with_capacity(10);
    d.extend_from_slice(&row.to_le_bytes());
    d.extend_from_slice(&col.to_le_bytes());
    d.extend_from_slice(&xf.to_le_bytes());
    d.extend_from_slice(&idx.to_le_bytes());
    record(out, LABELSST, &d);
}

/// The cell records of the sheet whose BOF is at `pos`, checked and
/// rewritten.
fn sheet_cells(
    stream: &[u8],
    pos: usize,
    name: &str,
    sst: &mut Vec<String>,
    sst_len: usize,
    limits: &Limits,
    skipped: &mut u64,
) -> Result<(Vec<u8>, usize), FileError> {
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
    let mut ext = Extent {
        name,
        limits,
        cells: 0,
        max_r: 0,
        max_c: 0,
    };
    let mut out = Vec::new();
    let mut depth = 0usize;
    // A formula whose cached value is a string: the STRING record after it.
    let mut pending: Option<(u16, u16, u16)> = None;
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
                if let Some((row, col, xf)) = pending.take() {
                    match unicode_string(r.data, &r.cont) {
                        Some(s) => {
                            ext.add(row, col)?;
                            string_cell(&mut out, sst, row, col, xf, s);
                        }
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
            NUMBER | RK => {
                let need = if r.typ == NUMBER { 14 } else { 10 };
                match d.get(..need) {
                    Some(body) => {
                        ext.add(row, col)?;
                        record(&mut out, r.typ, body);
                    }
                    None => *skipped += 1,
                }
            }
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
                for c in col..=last.unwrap_or(col) {
                    ext.add(row, c)?;
                }
                record(&mut out, MULRK, d);
            }
            LABELSST => match u32_at(d, 6) {
                Some(i) if (i as usize) < sst_len => {
                    ext.add(row, col)?;
                    record(&mut out, LABELSST, &d[..10]);
                }
                _ => *skipped += 1,
            },
            LABEL | RSTRING => match d.get(6..).and_then(|s| unicode_string(s, &r.cont)) {
                Some(s) => {
                    ext.add(row, col)?;
                    string_cell(&mut out, sst, row, col, xf, s);
                }
                None => *skipped += 1,
            },
            BOOLERR => match (d.get(6), d.get(7)) {
                (Some(v), Some(0)) => {
                    ext.add(row, col)?;
                    record(
                        &mut out,
                        BOOLERR,
                        &[&d[..6], &[u8::from(*v != 0), 0]].concat(),
                    );
                }
                (Some(v), Some(1)) if ERROR_CODES.contains(v) => {
                    ext.add(row, col)?;
                    record(&mut out, BOOLERR, &d[..8]);
                }
                _ => *skipped += 1,
            },
            FORMULA => {
                pending = None;
                let Some(val) = d.get(6..14) else {
                    *skipped += 1;
                    continue;
                };
                if val[6..8] != [0xFF, 0xFF] {
                    ext.add(row, col)?;
                    record(&mut out, NUMBER, &[&d[..6], val].concat());
                    continue;
                }
                match val[0] {
                    0 => pending = Some((row, col, xf)),
                    1 => {
                        ext.add(row, col)?;
                        record(
                            &mut out,
                            BOOLERR,
                            &[&d[..6], &[u8::from(val[2] != 0), 0]].concat(),
                        );
                    }
                    2 if ERROR_CODES.contains(&val[2]) => {
                        ext.add(row, col)?;
                        record(&mut out, BOOLERR, &[&d[..6], &[val[2], 1]].concat());
                    }
                    3 => {
                        ext.add(row, col)?;
                        string_cell(&mut out, sst, row, col, xf, String::new());
                    }
                    _ => *skipped += 1,
                }
            }
            _ => {}
        }
    }
    Ok((out, recs.pos))
}

/// Write the rewritten Workbook stream.
fn write_stream(
    is_1904: bool,
    formats: &[(u16, String)],
    xfs: &[u16],
    sst: &[String],
    sheets: &[SheetOut],
) -> Vec<u8> {
    let mut g = Vec::new();
    record(&mut g, BOF, &bof_body(0x0005));
    record(&mut g, CODEPAGE, &1200u16.to_le_bytes());
    if is_1904 {
        record(&mut g, DATEMODE, &1u16.to_le_bytes());
    }
    for (id, s) in formats {
        let mut d = id.to_le_bytes().to_vec();
        d.extend(xl_unicode_string(s, MAX_RECORD - 2));
        record(&mut g, FORMAT, &d);
    }
    for ifmt in xfs {
        let mut d = vec![0u8; 20];
        d[2..4].copy_from_slice(&ifmt.to_le_bytes());
        record(&mut g, XF, &d);
    }
    let mut patch = Vec::with_capacity(sheets.len());
    for s in sheets {
        patch.push(g.len() + 4);
        let mut d = vec![0u8; 6];
        d.extend(short_name(&s.name));
        record(&mut g, BOUNDSHEET, &d);
    }
    write_sst(&mut g, sst);
    record(&mut g, EOF, &[]);
    let mut out = g;
    for (s, at) in sheets.iter().zip(patch) {
        let pos = out.len() as u32;
        out[at..at + 4].copy_from_slice(&pos.to_le_bytes());
        record(&mut out, BOF, &bof_body(0x0010));
        out.extend_from_slice(&s.cells);
        record(&mut out, EOF, &[]);
    }
    out
}

fn bof_body(dt: u16) -> Vec<u8> {
    let mut d = Vec::with_capacity(16);
    d.extend_from_slice(&0x0600u16.to_le_bytes());
    d.extend_from_slice(&dt.to_le_bytes());
    d.extend_from_slice(&[0u8; 12]);
    d
}

/// UTF-16 units of `s`, and whether one byte per character suffices.
fn units(s: &str) -> (Vec<u16>, bool) {
    let u: Vec<u16> = s.encode_utf16().take(usize::from(u16::MAX)).collect();
    let narrow = u.iter().all(|c| *c <= 0xFF);
    (u, narrow)
}

/// `XLUnicodeString` of at most `max` bytes (FORMAT strings are short;
/// a longer one is cut rather than split).
fn xl_unicode_string(s: &str, max: usize) -> Vec<u8> {
    let (mut u, narrow) = units(s);
    let per = if narrow { 1 } else { 2 };
    u.truncate(max.saturating_sub(3) / per);
    let mut d = Vec::with_capacity(3 + u.len() * per);
    d.extend_from_slice(&(u.len() as u16).to_le_bytes());
    d.push(u8::from(!narrow));
    push_units(&mut d, &u, narrow);
    d
}

fn short_name(s: &str) -> Vec<u8> {
    let (mut u, narrow) = units(s);
    u.truncate(255);
    let mut d = vec![u.len() as u8, u8::from(!narrow)];
    push_units(&mut d, &u, narrow);
    d
}

fn push_units(d: &mut Vec<u8>, u: &[u16], narrow: bool) {
    for c in u {
        if narrow {
            d.push(*c as u8);
        } else {
            d.extend_from_slice(&c.to_le_bytes());
        }
    }
}

/// The SST record and its CONTINUE records. A string's header never splits;
/// its characters may, each continued piece starting with a flags byte, and
/// never between the two halves of a surrogate pair.
fn write_sst(out: &mut Vec<u8>, sst: &[String]) {
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let n = sst.len() as u32;
    let mut cur = Vec::with_capacity(MAX_RECORD);
    cur.extend_from_slice(&n.to_le_bytes());
    cur.extend_from_slice(&n.to_le_bytes());
    for s in sst {
        let (u, narrow) = units(s);
        if cur.len() + 3 > MAX_RECORD {
            pieces.push(std::mem::replace(&mut cur, Vec::with_capacity(MAX_RECORD)));
        }
        cur.extend_from_slice(&(u.len() as u16).to_le_bytes());
        cur.push(u8::from(!narrow));
        let per = if narrow { 1 } else { 2 };
        let mut i = 0;
        while i < u.len() {
            let room = (MAX_RECORD - cur.len()) / per;
            let mut k = room.min(u.len() - i);
            // Keep a surrogate pair together.
            if k > 0 && i + k < u.len() && (0xD800..0xDC00).contains(&u[i + k - 1]) {
                k -= 1;
            }
            if k == 0 {
                pieces.push(std::mem::replace(&mut cur, Vec::with_capacity(MAX_RECORD)));
                cur.push(u8::from(!narrow));
                continue;
            }
            push_units(&mut cur, &u[i..i + k], narrow);
            i += k;
        }
    }
    pieces.push(cur);
    for (i, p) in pieces.iter().enumerate() {
        record(out, if i == 0 { SST } else { CONTINUE }, p);
    }
}
