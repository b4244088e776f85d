//! Walking a delimited text file row by row while accounting for every
//! line, blank ones included.
//!
//! The csv crate skips empty lines silently; the row account must not, so
//! blank lines are recovered from the gaps between records' line numbers.
//! Rows are numbered as a text editor (or Excel opening the CSV) shows them.

use std::io::Read as _;
use std::ops::ControlFlow;

use csv::{ByteRecord, ReaderBuilder};

use super::SkipReason;
use crate::config::Limits;

/// What the walker hands to the importer for each row.
pub enum Row<'r> {
    /// `count` consecutive empty lines starting at `line`.
    Blank { line: u32, count: u32 },
    /// A record starting at `line` and spanning `lines` physical lines
    /// (more than one when a quoted field holds line breaks).
    Record {
        line: u32,
        lines: u32,
        record: Fields<'r>,
    },
    /// A quoted field opened on `line` would have run to `last_line`,
    /// swallowing `delimiters` separators: a stray `"`, not a field. The
    /// line is handed on as a [`Row::Record`] read with its quotes as
    /// plain characters, and the walk goes on from the next line.
    RunawayQuote {
        line: u32,
        last_line: u32,
        delimiters: u64,
    },
}

/// One row's fields, where they already are: the bytes they sit in and
/// where each ends. Field `i` starts `gap` bytes after field `i - 1` ends:
/// the delimiter of a plain line (read where it lies in the file, no copy),
/// nothing in a record the CSV reader unquoted into its own buffer.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    gap: usize,
}

impl<'a> Fields<'a> {
    /// A record of the CSV reader; `ends` is filled with its field ends.
    pub fn of_record(rec: &'a ByteRecord, ends: &'a mut Vec<usize>) -> Fields<'a> {
        ends.clear();
        let mut at = 0;
        for f in rec.iter() {
            at += f.len();
            ends.push(at);
        }
        Fields {
            bytes: rec.as_slice(),
            ends,
            gap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            None => 0,
            Some(before) => self.ends.get(before)? + self.gap,
        };
        self.bytes.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let fields = *self;
        (0..fields.len()).filter_map(move |i| fields.get(i))
    }

    /// Field `from` and every one after it as the line holds them, their
    /// delimiters between: two rows with the same tail have the same fields
    /// from `from` on. `None` for a record the CSV reader unquoted (its
    /// fields lie side by side with nothing between) or one that ends
    /// before field `from`.
    pub fn tail(&self, from: usize) -> Option<&'a [u8]> {
        if self.gap == 0 || from >= self.len() {
            return None;
        }
        let start = match from.checked_sub(1) {
            None => 0,
            Some(before) => self.ends.get(before)? + self.gap,
        };
        self.bytes.get(start..)
    }

    /// The bytes of all the fields together.
    pub fn field_bytes(&self) -> usize {
        let gaps = self.gap * self.len().saturating_sub(1);
        self.ends.last().map_or(0, |end| end.saturating_sub(gaps))
    }
}

/// Lines a quoted field may span before it is taken for a stray quote:
/// a note of a few lines is a field, a field of a thousand lines is the
/// rest of the file.
pub const MAX_QUOTED_FIELD_LINES: u64 = 4;

/// Walk `text` (UTF-8) calling `f` for every row in order.
pub fn walk(text: &[u8], delimiter: u8, mut f: impl FnMut(Row<'_>)) {
    walk_until(text, delimiter, |row| {
        f(row);
        ControlFlow::Continue(())
    });
}

fn reader<R: std::io::Read>(delimiter: u8, quoting: bool, bytes: R) -> csv::Reader<R> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(quoting)
        .delimiter(delimiter)
        .from_reader(bytes)
}

/// Like [`walk`], stopping as soon as `f` says so: finding a header must
/// not parse the rest of a 40 MB file.
pub fn walk_until(text: &[u8], delimiter: u8, f: impl FnMut(Row<'_>) -> ControlFlow<()>) {
    walk_piece(text, delimiter, Piece::WHOLE, f);
}

/// Where a walk starts and stops, for reading a file in pieces. Between
/// two records the walk is in one state only (a new reader at a byte
/// offset, the line breaks before it counted), so a walk started at a
/// record's offset with the `\n` bytes before it as `line` rows exactly
/// as the walk from the top does from there on, provided the file has no
/// lone `\r` (the reader does not count those as lines) and no line there
/// starts with a byte order mark (a new reader drops it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The byte offset of a record as the reader reaches it (after the
    /// line break that ends the record before; for `\r\n`, at its `\n`).
    pub from: usize,
    /// `\n` bytes before `from`.
    pub line: u64,
    /// Stop before the first record the reader reaches at or past this
    /// offset (nothing of it handed on).
    pub stop: Option<usize>,
}

impl Piece {
    pub const WHOLE: Piece = Piece {
        from: 0,
        line: 0,
        stop: None,
    };
}

/// Walk one [`Piece`]: the offset it stopped at (that of the next piece,
/// when the pieces join), or `None` at the end of the text or when `f`
/// stopped it.
pub fn walk_piece(
    text: &[u8],
    delimiter: u8,
    piece: Piece,
    mut f: impl FnMut(Row<'_>) -> ControlFlow<()>,
) -> Option<usize> {
    let mut ends = Vec::new();
    match walk_plain(text, delimiter, piece, &mut ends, &mut f) {
        Plain::Done(stopped) => stopped,
        Plain::From(rest) => walk_csv(text, delimiter, rest, ends, f),
    }
}

/// Where the walk of plain lines ended: done (with [`walk_piece`]'s
/// answer), or at a record the CSV reader must read, from `Piece`.
enum Plain {
    Done(Option<usize>),
    From(Piece),
}

/// The walk over lines that hold no `"` and no lone `\r`, which is what a
/// sensor log is: such a line is one record whose fields are the bytes
/// between delimiters (a `\r\n`'s `\r` not included), exactly as the CSV
/// reader splits it, found by a vector search for the line break instead
/// of the reader's byte-by-byte state machine. The first line that is not
/// plain (and a byte order mark at the very start, which the reader drops)
/// hands the rest to [`walk_csv`] from where the reader would have started
/// looking for that record: rows, line numbers and stop offsets are the
/// reader's throughout (a test compares the two walks on every kind of text).
fn walk_plain(
    text: &[u8],
    delimiter: u8,
    piece: Piece,
    ends: &mut Vec<usize>,
    f: &mut impl FnMut(Row<'_>) -> ControlFlow<()>,
) -> Plain {
    // `q` is where the reader would start looking for the next record (past
    // the last one's `\r` in a `\r\n`, past its `\n` otherwise), `q_line`
    // the `\n` bytes before it; `p` is the start of the line at hand,
    // `line` its 1-based number.
    let (mut q, mut q_line) = (piece.from, piece.line);
    let (mut p, mut line) = (piece.from, piece.line + 1);
    if p > 0 && text.get(p) == Some(&b'\n') && text.get(p - 1) == Some(&b'\r') {
        p += 1;
        line += 1;
    }
    // Empty lines since the last record, told once the next record is
    // known to be this walk's (a stop comes first).
    let mut blank: Option<(u64, u64)> = None;
    while let Some(rest) = text.get(p..).filter(|r| !r.is_empty()) {
        let nl = memchr::memchr(b'\n', rest);
        let end = p + nl.unwrap_or(rest.len());
        let crlf = nl.is_some() && end > p && text.get(end - 1) == Some(&b'\r');
        let content = text.get(p..end - usize::from(crlf)).unwrap_or(&[]);
        if memchr::memchr2(b'"', b'\r', content).is_some() || (p == 0 && content.starts_with(BOM)) {
            return Plain::From(Piece {
                from: q,
                line: q_line,
                stop: piece.stop,
            });
        }
        if content.is_empty() {
            blank = Some(blank.map_or((line, 1), |(first, n)| (first, n + 1)));
        } else {
            if piece.stop.is_some_and(|stop| q >= stop) {
                return Plain::Done(Some(q));
            }
            if let Some((first, count)) = blank.take() {
                let row = Row::Blank {
                    line: clamp(first),
                    count: clamp(count),
                };
                if f(row).is_break() {
                    return Plain::Done(None);
                }
            }
            ends.clear();
            delimiters_in(content, delimiter, ends);
            ends.push(content.len());
            let row = Row::Record {
                line: clamp(line),
                lines: 1,
                record: Fields {
                    bytes: content,
                    ends,
                    gap: 1,
                },
            };
            if f(row).is_break() {
                return Plain::Done(None);
            }
            (q, q_line) = match nl {
                None => (text.len(), line - 1),
                Some(_) if crlf => (end, line - 1),
                Some(_) => (end + 1, line),
            };
        }
        p = end + 1;
        line += 1;
    }
    if let Some((first, count)) = blank {
        let _ = f(Row::Blank {
            line: clamp(first),
            count: clamp(count),
        });
    }
    Plain::Done(None)
}

/// The offsets of `delimiter` in `line`, appended to `out`. Eight bytes
/// at a time: a word whose bytes equal the delimiter are zero after an
/// XOR, and the exact zero-byte test marks each with its top bit, so a
/// line of nine short fields costs a dozen word operations rather than a
/// search started per field (which, natively and in the browser's
/// size-built workers alike, cost more than the fields are long).
fn delimiters_in(line: &[u8], delimiter: u8, out: &mut Vec<usize>) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    // Offsets gather here and go to `out` a batch at a time: the browser's
    // size-built workers call `Vec::push` rather than inline it.
    let mut found = [0usize; 32];
    let mut n = 0;
    let spread = u64::from_le_bytes([delimiter; 8]);
    let mut words = line.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ spread;
        let mut hits = !(((x & LOW7) + LOW7) | x | LOW7);
        while hits != 0 {
            if n == found.len() {
                out.extend_from_slice(&found);
                n = 0;
            }
            if let Some(slot) = found.get_mut(n) {
                *slot = base + (hits.trailing_zeros() / 8) as usize;
            }
            n += 1;
            hits &= hits - 1;
        }
        base += 8;
    }
    out.extend_from_slice(found.get(..n).unwrap_or_default());
    for (i, b) in words.remainder().iter().enumerate() {
        if *b == delimiter {
            out.push(base + i);
        }
    }
}

/// A UTF-8 byte order mark: the CSV reader drops one at the start of what
/// it reads, and only there.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The walk by the CSV reader: quoted fields, line breaks inside them,
/// stray quotes, lone `\r` line ends.
fn walk_csv(
    text: &[u8],
    delimiter: u8,
    piece: Piece,
    mut ends: Vec<usize>,
    mut f: impl FnMut(Row<'_>) -> ControlFlow<()>,
) -> Option<usize> {
    let mut rec = ByteRecord::new();
    // After a stray quote the walk restarts on the next line with a new
    // reader: `base` is where it starts, `base_line` the lines before it.
    let (mut base, mut base_line) = (piece.from, piece.line);
    // A quote left open to the end takes the file's final line break too;
    // its last line is the file's, counted once and only if needed.
    let mut lines_total: Option<u64> = None;
    // The csv crate counts lines by `\n` alone, so after a lone `\r` its
    // line numbers fall behind and two rows would share a number; such a
    // file (rare: a lone `\r` among `\n` lines) is numbered from its bytes.
    let mut by_bytes = has_lone_cr(text).then(LineCounter::default);
    'restart: loop {
        // The reader drops a byte order mark where it starts; one at a
        // line start inside the text is the line's own (as a walk from the
        // top reads it), so the reader is then started on an empty line
        // put before it, and its positions are taken back by that line.
        let input = text.get(base..).unwrap_or(&[]);
        let shim = usize::from(base > 0 && input.starts_with(BOM));
        let mut rdr = reader(delimiter, true, (&b"\n"[..shim]).chain(input));
        let unshim = |line: u64, byte: u64| {
            if shim == 0 {
                (line, byte)
            } else {
                (line.saturating_sub(1).max(1), byte.saturating_sub(1))
            }
        };
        // Where the last record ended: the failed read at EOF moves the
        // reader past trailing empty lines, which must still be counted.
        let (mut end_line, mut end_byte) = (base_line + 1, base as u64);
        // With `flexible` and byte records the reader only fails on I/O,
        // which a slice cannot produce; an error ends the walk rather
        // than loop.
        while let Ok(true) = rdr.read_byte_record(&mut rec) {
            // A record's position is where the reader started looking,
            // before the empty lines it skipped; count those from the bytes.
            let (line, byte) = rec
                .position()
                .map(|p| unshim(p.line(), p.byte()))
                .unwrap_or((1, 0));
            let at = base + byte as usize;
            if piece.stop.is_some_and(|stop| at >= stop) {
                return Some(at);
            }
            let (crlf, blank, blank_bytes) = leading_line_breaks(text, at);
            let line = match by_bytes.as_mut() {
                Some(c) => c.line_at(text, at) + crlf,
                None => base_line + line + crlf,
            };
            if blank > 0 {
                let row = Row::Blank {
                    line: clamp(line),
                    count: clamp(blank),
                };
                if f(row).is_break() {
                    return None;
                }
            }
            let first = line + blank;
            let mut breaks = line_breaks_in(&rec, by_bytes.is_some());
            if breaks > 0 {
                let total = *lines_total.get_or_insert_with(|| total_lines(text));
                breaks = breaks.min(total.saturating_sub(first));
            }
            if let Some(delimiters) = runaway(&rec, delimiter, breaks) {
                let row = Row::RunawayQuote {
                    line: clamp(first),
                    last_line: clamp(first + breaks),
                    delimiters,
                };
                if f(row).is_break() {
                    return None;
                }
                let start = at + blank_bytes;
                let rest = text.get(start..).unwrap_or(&[]);
                // The line ends at its break, a lone `\r` included.
                let eol = rest.iter().position(|b| *b == b'\n' || *b == b'\r');
                let own = &rest[..eol.unwrap_or(rest.len())];
                let eol = eol.map(|i| match (rest.get(i), rest.get(i + 1)) {
                    (Some(b'\r'), Some(b'\n')) => i + 1,
                    _ => i,
                });
                let mut literal = ByteRecord::new();
                let _ = reader(delimiter, false, own).read_byte_record(&mut literal);
                let row = Row::Record {
                    line: clamp(first),
                    lines: 1,
                    record: Fields::of_record(&literal, &mut ends),
                };
                if f(row).is_break() {
                    return None;
                }
                match eol {
                    Some(i) => {
                        base = start + i + 1;
                        base_line = first;
                        continue 'restart;
                    }
                    None => return None,
                }
            }
            let row = Row::Record {
                line: clamp(first),
                lines: clamp(breaks + 1),
                record: Fields::of_record(&rec, &mut ends),
            };
            if f(row).is_break() {
                return None;
            }
            let (line_after, byte_after) = unshim(rdr.position().line(), rdr.position().byte());
            end_byte = base as u64 + byte_after;
            end_line = match by_bytes.as_mut() {
                Some(c) => c.line_at(text, end_byte as usize),
                None => base_line + line_after,
            };
        }
        let (crlf, trailing, _) = leading_line_breaks(text, end_byte as usize);
        if trailing > 0 {
            let _ = f(Row::Blank {
                line: clamp(end_line + crlf),
                count: clamp(trailing),
            });
        }
        return None;
    }
}

/// Line breaks inside a record's fields (only a quoted field holds any):
/// its `\n`s, and its lone `\r`s in a file that has them.
fn line_breaks_in(rec: &ByteRecord, lone_cr: bool) -> u64 {
    // Almost every record has none: one fast search over its bytes first.
    let bytes = rec.as_slice();
    let any = bytes.contains(&b'\n') || (lone_cr && bytes.contains(&b'\r'));
    if !any {
        return 0;
    }
    rec.iter().map(|f| breaks(f, lone_cr)).sum()
}

/// `\n`s in `bytes`, and lone `\r`s (not before a `\n`) when asked.
fn breaks(bytes: &[u8], lone_cr: bool) -> u64 {
    bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| {
            **b == b'\n' || (lone_cr && **b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
        })
        .count() as u64
}

/// A `\r` that is not the first half of a `\r\n`.
pub fn has_lone_cr(text: &[u8]) -> bool {
    memchr::memchr(b'\r', text).is_some() && lone_crs(text) > 0
}

/// Line numbers from byte offsets, counted forward from the last offset
/// asked (offsets only grow during a walk, so the whole count is linear).
#[derive(Default)]
struct LineCounter {
    at: usize,
    breaks: u64,
}

impl LineCounter {
    /// The line `offset` is on: one more than the breaks before it (the
    /// `\r` of a `\r\n` split at `offset` is left to the caller).
    fn line_at(&mut self, text: &[u8], offset: usize) -> u64 {
        let offset = offset.min(text.len());
        if offset < self.at {
            *self = Self::default();
        }
        let seen = text.get(self.at..offset).unwrap_or(&[]);
        self.breaks += seen
            .iter()
            .enumerate()
            .filter(|(i, b)| {
                **b == b'\n' || (**b == b'\r' && text.get(self.at + i + 1) != Some(&b'\n'))
            })
            .count() as u64;
        self.at = offset;
        self.breaks + 1
    }
}

/// A quoted field that is really a stray `"` swallowing the lines after
/// it: it spans more than [`MAX_QUOTED_FIELD_LINES`], or a line it
/// swallowed holds the delimiter (a row, not a note). The delimiters it
/// swallowed, when it is one.
fn runaway(rec: &ByteRecord, delimiter: u8, breaks: u64) -> Option<u64> {
    if breaks == 0 {
        return None;
    }
    let delimiters = rec
        .iter()
        .filter_map(|f| {
            let nl = f.iter().position(|b| *b == b'\n' || *b == b'\r')?;
            Some(f[nl..].iter().filter(|b| **b == delimiter).count() as u64)
        })
        .sum::<u64>();
    (breaks + 1 > MAX_QUOTED_FIELD_LINES || delimiters > 0).then_some(delimiters)
}

/// Empty lines starting at `from`: line breaks (`\n`, `\r\n` or a lone
/// `\r`) before any other byte, and the bytes they take. The reader stops
/// a record after the `\r` of a `\r\n`, so a `\n` right after a `\r`
/// ends no new line, but the reader's line counter (which counts `\n`)
/// has not passed it yet: the first value returned is that one line to add.
fn leading_line_breaks(text: &[u8], from: usize) -> (u64, u64, usize) {
    let rest = text.get(from..).unwrap_or(&[]);
    let mut n = 0;
    let crlf =
        u64::from(from > 0 && text.get(from - 1) == Some(&b'\r') && rest.first() == Some(&b'\n'));
    let mut i = crlf as usize;
    while i < rest.len() {
        match rest[i] {
            b'\n' => n += 1,
            b'\r' if rest.get(i + 1) != Some(&b'\n') => n += 1,
            b'\r' => {}
            _ => break,
        }
        i += 1;
    }
    (crlf, n, i)
}

/// Lines as an editor counts them: a final line break does not open a new
/// line. `\r\n` and a lone `\r` end a line like `\n`.
pub fn total_lines(text: &[u8]) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let breaks = count_byte(text, b'\n') + lone_crs(text);
    if matches!(text.last(), Some(b'\n' | b'\r')) {
        breaks
    } else {
        breaks + 1
    }
}

/// `\r` bytes not followed by `\n` (a final `\r` included): one search
/// per `\r`, so a `\r\n` file costs a search per line, not a test of
/// every byte's successor.
fn lone_crs(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\r', text)
        .filter(|i| text.get(i + 1) != Some(&b'\n'))
        .count() as u64
}

/// How many times `needle` occurs in `text`, counted by the memchr crate's
/// vector code (AVX2 natively, simd128 in the browser): a plain
/// `filter().count()` took 12 % of a year's import natively, and the
/// browser's workers are built for size, which leaves loops unvectorised.
pub fn count_byte(text: &[u8], needle: u8) -> u64 {
    memchr::memchr_iter(needle, text).count() as u64
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A field as trimmed UTF-8 (invalid bytes cannot occur: the text was
/// decoded first; fall back to "" rather than panic).
pub fn field<'a>(rec: &Fields<'a>, idx: Option<usize>) -> &'a str {
    let Some(bytes) = idx.and_then(|i| rec.get(i)) else {
        return "";
    };
    // ASCII spaces off the bytes first (`str::trim` decodes characters
    // from both ends); what `str::trim` takes besides them, a vertical tab
    // or a non-ASCII space, sends the field to it.
    let t = bytes.trim_ascii();
    let unusual = |b: Option<&u8>| b.is_some_and(|b| *b == 0x0B || *b >= 0x80);
    if unusual(t.first()) || unusual(t.last()) {
        std::str::from_utf8(bytes).map(str::trim).unwrap_or("")
    } else {
        std::str::from_utf8(t).unwrap_or("")
    }
}

/// Why a row is over the caps: too many fields, or one field too large
/// (with its 0-based column).
pub struct Oversized {
    pub reason: SkipReason,
    pub col: Option<u32>,
    pub message: String,
}

/// The caps on one row, checked before any field is looked at.
pub fn oversized(rec: &Fields<'_>, limits: &Limits) -> Option<Oversized> {
    // No field is longer than the whole row: one comparison for almost
    // every row.
    if rec.len() <= limits.max_csv_fields && rec.field_bytes() <= limits.max_field_bytes {
        return None;
    }
    if rec.len() > limits.max_csv_fields {
        return Some(Oversized {
            reason: SkipReason::TooManyFields,
            col: None,
            message: format!(
                "Row has {} fields, more than the limit of {}; skipped.",
                rec.len(),
                limits.max_csv_fields
            ),
        });
    }
    let (col, f) = rec
        .iter()
        .enumerate()
        .find(|(_, f)| f.len() > limits.max_field_bytes)?;
    Some(Oversized {
        reason: SkipReason::FieldTooLarge,
        col: u32::try_from(col).ok(),
        message: format!(
            "A field of {} bytes is larger than the limit of {} bytes; row skipped.",
            f.len(),
            limits.max_field_bytes
        ),
    })
}

/// True when every field is empty or whitespace.
pub fn is_blank(rec: &Fields<'_>) -> bool {
    rec.iter()
        .all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let total = total_lines(text.as_bytes());
        walk(text.as_bytes(), b',', |r| match r {
            Row::Blank { line, count } => out.push(format!("blank {line}+{count}")),
            Row::Record {
                line,
                lines,
                record,
            } => {
                let l = if lines > 1 {
                    format!("+{lines}")
                } else {
                    String::new()
                };
                out.push(format!("rec {line}{l} {}", record.len()))
            }
            Row::RunawayQuote {
                line, last_line, ..
            } => out.push(format!("runaway {line}-{last_line}")),
        });
        out.push(format!("lines {total}"));
        out
    }

    /// Lines as an editor counts them, by the definition (each `\n`, each
    /// `\r` not followed by `\n`, one more unless the text ends in a
    /// break) against the counting `total_lines` does.
    #[test]
    fn total_lines_counts_every_kind_of_line_break() {
        let by_definition = |t: &[u8]| -> u64 {
            if t.is_empty() {
                return 0;
            }
            let breaks = t
                .iter()
                .enumerate()
                .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && t.get(i + 1) != Some(&b'\n')))
                .count() as u64;
            breaks + u64::from(!matches!(t.last(), Some(b'\n' | b'\r')))
        };
        for t in [
            "", "a", "a\n", "a\r", "a\r\n", "\r", "\n", "\r\r\n", "a\rb\nc", "a\r\nb\r",
            "\r\n\r\n", "x\n\ny", "\r\rx",
        ] {
            assert_eq!(
                total_lines(t.as_bytes()),
                by_definition(t.as_bytes()),
                "{t:?}"
            );
        }
    }

    #[test]
    fn blank_lines_are_accounted() {
        assert_eq!(rows("a,b\n1,2\n"), ["rec 1 2", "rec 2 2", "lines 2"]);
        assert_eq!(rows("a,b\n1,2"), ["rec 1 2", "rec 2 2", "lines 2"]);
        assert_eq!(
            rows("a,b\n\n\n1,2\n\n"),
            ["rec 1 2", "blank 2+2", "rec 4 2", "blank 5+1", "lines 5"]
        );
        assert_eq!(
            rows("\r\na,b\r\n1,2\r\n"),
            ["blank 1+1", "rec 2 2", "rec 3 2", "lines 3"]
        );
    }

    #[test]
    fn quoted_newlines_stay_one_row() {
        assert_eq!(
            rows("a,b\n\"x\ny\",2\n3,4\n"),
            ["rec 1 2", "rec 2+2 2", "rec 4 2", "lines 4"]
        );
    }

    /// Issue 12: a lone `"` opening a field took every line after it as
    /// one field. The line it opens on is read with the quote as a plain
    /// character and the rows after it are read as rows.
    #[test]
    fn a_stray_quote_is_recovered_at_the_line_boundary() {
        let text = "t,v\n1,\"2\n3,4\n5,6\n\n7,8\n";
        assert_eq!(
            rows(text),
            [
                "rec 1 2",
                "runaway 2-6",
                "rec 2 2",
                "rec 3 2",
                "rec 4 2",
                "blank 5+1",
                "rec 6 2",
                "lines 6"
            ]
        );
        // A field of a few lines without delimiters is a note, not a stray quote.
        assert_eq!(
            rows("t,v\n1,\"a\nb\nc\"\n2,3\n"),
            ["rec 1 2", "rec 2+3 2", "rec 5 2", "lines 5"]
        );
        // Too many lines, even without a delimiter.
        assert_eq!(rows("t\n\"a\nb\nc\nd\ne\n")[1], "runaway 2-6");
        // CRLF lines; the stray quote's field closes at the next quote,
        // which is itself a quote opening a field on the last line.
        assert_eq!(
            rows("t,v\r\n1,\"2\r\n3,4\r\n5,\"6"),
            [
                "rec 1 2",
                "runaway 2-4",
                "rec 2 2",
                "rec 3 2",
                "rec 4 2",
                "lines 4"
            ]
        );
    }

    /// Found by the profile fuzz target: a lone `\r` among `\n` lines
    /// ended a row, but the rows after it took the number of the row
    /// before (the csv crate counts `\n` only), so two rows shared a line.
    #[test]
    fn a_lone_cr_among_newlines_ends_a_line() {
        assert_eq!(
            rows("a,b\n1,2\r3,4\n\"x\ny\",5\n6,7"),
            [
                "rec 1 2",
                "rec 2 2",
                "rec 3 2",
                "rec 4+2 2",
                "rec 6 2",
                "lines 6"
            ]
        );
        assert_eq!(
            rows("a\n\"x\ry\",1\r\r\nz\r"),
            ["rec 1 1", "rec 2+2 2", "blank 4+1", "rec 5 1", "lines 5"]
        );
        // A stray quote on a line ended by a lone `\r`.
        assert_eq!(
            rows("t,v\r1,\"2\n3,4\r5,6\n7,8\n"),
            [
                "rec 1 2",
                "runaway 2-5",
                "rec 2 2",
                "rec 3 2",
                "rec 4 2",
                "rec 5 2",
                "lines 5"
            ]
        );
    }

    /// Rows, their numbers and fields, and where the walk stopped.
    fn trace(
        text: &[u8],
        piece: Piece,
        walk: impl FnOnce(&[u8], Piece, &mut dyn FnMut(Row<'_>) -> ControlFlow<()>) -> Option<usize>,
    ) -> (Vec<String>, Option<usize>) {
        let mut out = Vec::new();
        let stopped = walk(text, piece, &mut |r| {
            out.push(match r {
                Row::Blank { line, count } => format!("blank {line}+{count}"),
                Row::Record {
                    line,
                    lines,
                    record,
                } => format!("rec {line}+{lines} {:?}", record.iter().collect::<Vec<_>>()),
                Row::RunawayQuote {
                    line,
                    last_line,
                    delimiters,
                } => format!("runaway {line}-{last_line} {delimiters}"),
            });
            ControlFlow::Continue(())
        });
        (out, stopped)
    }

    /// The walk over plain lines gives what the CSV reader's walk gives,
    /// row for row and stop for stop, on random texts of the bytes that
    /// matter (quotes, `\r`, `\n`, byte order marks, delimiters), whole,
    /// stopped at every offset and started at every record boundary.
    #[test]
    fn plain_lines_walk_as_the_csv_reader_walks() {
        let tokens: [&[u8]; 10] = [
            b"a", b"bc", b",", b"\"", b"\r", b"\n", b"\r\n", BOM, b" ", b"\n\n",
        ];
        let mut next = crate::xorshift(0x2545_F491_4F6C_DD1D);
        let fast = |t: &[u8], p: Piece, f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>| {
            walk_piece(t, b',', p, f)
        };
        let reader = |t: &[u8], p: Piece, f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>| {
            walk_csv(t, b',', p, Vec::new(), f)
        };
        let mut plain_texts = 0;
        for round in 0..1200 {
            // Mostly plain lines, sometimes anything.
            let wild = round % 3 == 0;
            let mut text = Vec::new();
            for _ in 0..(next() % 24) {
                let k = (next() % tokens.len() as u64) as usize;
                let t = tokens[k];
                if !wild && (t == b"\"" || t == b"\r" || t == BOM) && !next().is_multiple_of(8) {
                    continue;
                }
                text.extend_from_slice(t);
            }
            let whole = trace(&text, Piece::WHOLE, fast);
            assert_eq!(
                whole,
                trace(&text, Piece::WHOLE, reader),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
            let mut starts = Vec::new();
            for stop in 0..=text.len() + 1 {
                let piece = Piece {
                    stop: Some(stop),
                    ..Piece::WHOLE
                };
                let a = trace(&text, piece, fast);
                assert_eq!(
                    a,
                    trace(&text, piece, reader),
                    "{:?} stop {stop}",
                    String::from_utf8_lossy(&text)
                );
                starts.extend(a.1);
            }
            starts.sort_unstable();
            starts.dedup();
            // A piece is counted by `\n` bytes: only a text without lone
            // `\r` is read in pieces.
            if has_lone_cr(&text) {
                starts.clear();
            }
            for from in starts {
                let piece = Piece {
                    from,
                    line: count_byte(&text[..from], b'\n'),
                    stop: None,
                };
                assert_eq!(
                    trace(&text, piece, fast),
                    trace(&text, piece, reader),
                    "{:?} from {from}",
                    String::from_utf8_lossy(&text)
                );
            }
            let plain = !text.contains(&b'"') && !has_lone_cr(&text) && !text.starts_with(BOM);
            if plain {
                plain_texts += 1;
                let went = walk_plain(&text, b',', Piece::WHOLE, &mut Vec::new(), &mut |_| {
                    ControlFlow::Continue(())
                });
                assert!(
                    matches!(went, Plain::Done(None)),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert!(plain_texts > 400, "{plain_texts}");
    }

    #[test]
    fn lone_crs_are_counted_across_blocks() {
        let mut text: Vec<u8> = (0..40_000u32)
            .flat_map(|i| match i % 5 {
                0 => b"\r\n".to_vec(),
                1 => b"\r".to_vec(),
                _ => b"x".to_vec(),
            })
            .collect();
        text.push(b'\r');
        for end in [0, 1, 2, 63, 64, 65, 66, 16_320, 16_321, 16_322, text.len()] {
            let slice = &text[..end];
            let want = (0..slice.len())
                .filter(|i| slice[*i] == b'\r' && slice.get(i + 1) != Some(&b'\n'))
                .count() as u64;
            assert_eq!(lone_crs(slice), want, "{end}");
            assert_eq!(has_lone_cr(slice), want > 0, "{end}");
        }
    }

    /// The word-at-a-time search against a plain one, on every byte value
    /// around the delimiter and lengths across the word size.
    #[test]
    fn delimiters_are_found_eight_bytes_at_a_time() {
        let mut next = crate::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let state = next();
            // Past 32 delimiters too, where the offsets go out in batches.
            let len = (state % 130) as usize;
            let line: Vec<u8> = (0..len)
                .map(|i| {
                    let r = (state >> (i % 60)) as u8;
                    // Mostly the delimiter and its neighbours in value
                    // (and the high bytes the zero test must not confuse).
                    [b',', b'+', b'-', 0, 0x80, 0xAC, b'a', r][(r % 8) as usize]
                })
                .collect();
            for delimiter in [b',', b';', b'\t'] {
                let mut got = Vec::new();
                delimiters_in(&line, delimiter, &mut got);
                let want: Vec<usize> = (0..line.len()).filter(|i| line[*i] == delimiter).collect();
                assert_eq!(got, want, "{line:?}");
            }
        }
        for len in 0..100 {
            let mut got = vec![7];
            delimiters_in(&vec![b','; len], b',', &mut got);
            assert_eq!(got, std::iter::once(7).chain(0..len).collect::<Vec<_>>());
        }
    }

    /// A field trimmed as `str::trim` trims it, whatever spaces surround
    /// it (ASCII, vertical tab, no-break and other Unicode spaces).
    #[test]
    fn fields_are_trimmed_as_str_trim_trims() {
        let pads = [
            "", " ", "\t", "\x0B", "\x0C", "\r", "\u{a0}", "\u{2003}", "\u{85}", " \x0B ",
            "\u{a0} ",
        ];
        let cores = ["", "7.01", "a b", "é", "x\u{a0}y", "\x0B"];
        for l in pads {
            for c in cores {
                for r in pads {
                    let text = format!("{l}{c}{r}");
                    let mut ends = vec![text.len()];
                    let rec = Fields {
                        bytes: text.as_bytes(),
                        ends: &ends,
                        gap: 1,
                    };
                    assert_eq!(field(&rec, Some(0)), text.trim(), "{text:?}");
                    assert_eq!(field(&rec, Some(1)), "");
                    ends.clear();
                }
            }
        }
    }

    #[test]
    fn count_byte_counts_across_blocks() {
        let text: Vec<u8> = (0..100_000u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { b'x' })
            .collect();
        for end in [0, 1, 63, 64, 65, 16_320, 16_321, 100_000] {
            let slice = &text[..end];
            assert_eq!(
                count_byte(slice, b'\n'),
                slice.iter().filter(|b| **b == b'\n').count() as u64
            );
        }
    }

    #[test]
    fn every_line_is_counted_once() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a\n\nb",
            "a,\"q\n\n\"\n\nb\n",
            "x",
            "a,\"b\nc,d\n\ne\n",
            "\"\n\n\n\n\n\nz",
            "a\n\"x\ny\n",
            "a\r\n\"x\r\ny\r\n",
            "a\r\"x\ny\"\r\n\rb\n",
            "\r\n\r\"\r\r\r\r\r\n",
            "x\n\r",
        ] {
            let mut n = 0u64;
            let total = total_lines(text.as_bytes());
            walk(text.as_bytes(), b',', |r| match r {
                Row::Blank { count, .. } => n += u64::from(count),
                Row::RunawayQuote { .. } => {}
                Row::Record { lines, .. } => n += u64::from(lines),
            });
            assert_eq!(n, total, "{text:?}");
        }
    }
}
