//! Walking a delimited text file row by row while accounting for every
//! line, blank ones included.
//!
//! The csv crate skips empty lines silently; the row account must not, so
//! blank lines are recovered from the gaps between records' line numbers.
//! Rows are numbered as a text editor (or Excel opening the CSV) shows them.

use std::ops::ControlFlow;

use csv::{ByteRecord, ReaderBuilder};

use super::SkipReason;
use crate::config::Limits;

/// What the walker hands to the importer for each row.
pub enum Row<'r> {
    /// `count` consecutive empty lines starting at `line`.
    Blank { line: u32, count: u32 },
    /// A record starting at `line`.
    Record { line: u32, record: &'r ByteRecord },
}

/// Walk `text` (UTF-8) calling `f` for every row in order.
pub fn walk(text: &[u8], delimiter: u8, mut f: impl FnMut(Row<'_>)) {
    walk_until(text, delimiter, |row| {
        f(row);
        ControlFlow::Continue(())
    });
}

/// Like [`walk`], stopping as soon as `f` says so: finding a header must
/// not parse the rest of a 40 MB file.
pub fn walk_until(text: &[u8], delimiter: u8, mut f: impl FnMut(Row<'_>) -> ControlFlow<()>) {
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text);
    let mut rec = ByteRecord::new();
    // Where the last record ended: the failed read at EOF moves the
    // reader past trailing empty lines, which must still be counted.
    let (mut end_line, mut end_byte) = (1u64, 0u64);
    // With `flexible` and byte records the reader only fails on I/O, which
    // a slice cannot produce; an error ends the walk rather than loop.
    while let Ok(true) = rdr.read_byte_record(&mut rec) {
        // A record's position is where the reader started looking, before
        // the empty lines it skipped; count those from the bytes.
        let (line, byte) = rec
            .position()
            .map(|p| (p.line(), p.byte()))
            .unwrap_or((1, 0));
        let (crlf, blank) = leading_line_breaks(text, byte as usize);
        let line = line + crlf;
        if blank > 0 {
            let row = Row::Blank {
                line: clamp(line),
                count: clamp(blank),
            };
            if f(row).is_break() {
                return;
            }
        }
        let row = Row::Record {
            line: clamp(line + blank),
            record: &rec,
        };
        if f(row).is_break() {
            return;
        }
        end_line = rdr.position().line();
        end_byte = rdr.position().byte();
    }
    let (crlf, trailing) = leading_line_breaks(text, end_byte as usize);
    if trailing > 0 {
        let _ = f(Row::Blank {
            line: clamp(end_line + crlf),
            count: clamp(trailing),
        });
    }
}

/// Empty lines starting at `from`: line breaks (`\n`, `\r\n` or a lone
/// `\r`) before any other byte. The reader stops a record after the `\r`
/// of a `\r\n`, so a `\n` right after a `\r` ends no new line, but the
/// reader's line counter (which counts `\n`) has not passed it yet: the
/// first value returned is that one line to add.
fn leading_line_breaks(text: &[u8], from: usize) -> (u64, u64) {
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
    (crlf, n)
}

#[cfg(test)]
/// Lines as an editor counts them: a final line break does not open a new
/// line. `\r\n` and a lone `\r` end a line like `\n`.
pub fn total_lines(text: &[u8]) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let breaks = text
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && text.get(i + 1) != Some(&b'\n')))
        .count() as u64;
    if matches!(text.last(), Some(b'\n' | b'\r')) {
        breaks
    } else {
        breaks + 1
    }
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A field as trimmed UTF-8 (invalid bytes cannot occur: the text was
/// decoded first; fall back to "" rather than panic).
pub fn field(rec: &ByteRecord, idx: Option<usize>) -> &str {
    idx.and_then(|i| rec.get(i))
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(str::trim)
        .unwrap_or("")
}

/// Why a row is over the caps: too many fields, or one field too large
/// (with its 0-based column).
pub struct Oversized {
    pub reason: SkipReason,
    pub col: Option<u32>,
    pub message: String,
}

/// The caps on one row, checked before any field is looked at.
pub fn oversized(rec: &ByteRecord, limits: &Limits) -> Option<Oversized> {
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
pub fn is_blank(rec: &ByteRecord) -> bool {
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
            Row::Record { line, record } => out.push(format!("rec {line} {}", record.len())),
        });
        out.push(format!("lines {total}"));
        out
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
            ["rec 1 2", "rec 2 2", "rec 4 2", "lines 4"]
        );
    }

    #[test]
    fn every_line_is_counted_once() {
        for text in ["", "\n", "\n\n", "a\n\nb", "a,\"q\n\n\"\n\nb\n", "x"] {
            let mut n = 0u64;
            let mut extra = 0u64;
            let total = total_lines(text.as_bytes());
            walk(text.as_bytes(), b',', |r| match r {
                Row::Blank { count, .. } => n += u64::from(count),
                Row::Record { record, .. } => {
                    n += 1;
                    extra += record
                        .iter()
                        .map(|f| f.iter().filter(|b| **b == b'\n').count() as u64)
                        .sum::<u64>();
                }
            });
            assert_eq!(n + extra, total, "{text:?}");
        }
    }
}
