//! Which of a slashed date's first two numbers is the day, decided per file.
//!
//! `04/05/2025` is April 5th in a US export and May 4th in a European one;
//! read the wrong way, every reading lands on another day without a word.
//! One date with a first part above 12 (`25/04/2025`) settles a file as
//! day-first, one with a second part above 12 as month-first. A file whose
//! dates never settle it is read in the configured order, and says so.

use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveDateTime};

use super::delimited::{self, field};
use super::Ctx;
use crate::config::DayOrder;
use crate::model::{CellRef, Severity};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};
use crate::timestamp::{
    parse_date_in, slash_parts, slash_parts_trimmed, timestamp_after_date, timestamp_date, Zone,
};

/// Dates looked at before a file with no slashed date among them is taken
/// to have none: the scan must not parse a whole ISO-dated log twice.
const NO_SLASH_SCAN: u32 = 1000;

/// What settled the order, for the finding that says so.
#[derive(Clone, Copy)]
struct Evidence {
    line: u32,
    first: u32,
    second: u32,
}

/// A file's date column read in the order its own dates decide.
#[derive(Clone)]
pub struct DateReader {
    order: DayOrder,
    col: u32,
    evidence: Option<Evidence>,
    /// Slashed dates read while nothing decided the order.
    assumed: u64,
    first_assumed: Option<u32>,
    /// The last timestamp's date and its text: a minute log repeats one
    /// date on 1,440 rows.
    day: Option<(NaiveDate, Vec<u8>)>,
}

impl DateReader {
    /// Scan column `col` below the header for a date that settles the
    /// order; stop at the first one.
    pub fn scan(ctx: &Ctx<'_>, text: &[u8], delimiter: u8, header_line: u32, col: usize) -> Self {
        let mut evidence = None;
        let mut order = ctx.config.ambiguous_dates;
        let mut seen_without_slash = 0u32;
        let mut any_slash = false;
        delimited::walk_until(text, delimiter, |row| {
            let delimited::Row::Record { line, record, .. } = row else {
                return ControlFlow::Continue(());
            };
            if line <= header_line {
                return ControlFlow::Continue(());
            }
            let s = field(&record, Some(col));
            match slash_parts(s) {
                Some((first, second)) => {
                    any_slash = true;
                    let decided = if first > 12 && second <= 12 {
                        Some(DayOrder::DayFirst)
                    } else if second > 12 && first <= 12 {
                        Some(DayOrder::MonthFirst)
                    } else {
                        None
                    };
                    if let Some(o) = decided {
                        order = o;
                        evidence = Some(Evidence {
                            line,
                            first,
                            second,
                        });
                        return ControlFlow::Break(());
                    }
                }
                None if !s.is_empty() => seen_without_slash += 1,
                None => {}
            }
            if !any_slash && seen_without_slash >= NO_SLASH_SCAN {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        DateReader {
            order,
            col: u32::try_from(col).unwrap_or(u32::MAX),
            evidence,
            assumed: 0,
            first_assumed: None,
            day: None,
        }
    }

    /// What a reader of the next piece of the same file noted, as if this
    /// one had read on (both start from the same scan).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub fn absorb(&mut self, next: &DateReader) {
        self.assumed += next.assumed;
        if self.first_assumed.is_none() {
            self.first_assumed = next.first_assumed;
        }
    }

    fn note(&mut self, s: &str, line: u32) {
        self.note_trimmed(s.trim().as_bytes(), line);
    }

    /// [`DateReader::note`] of text with nothing to trim at either end.
    fn note_trimmed(&mut self, b: &[u8], line: u32) {
        if self.evidence.is_none() && slash_parts_trimmed(b).is_some() {
            self.assumed += 1;
            self.first_assumed.get_or_insert(line);
        }
    }

    /// The date and length of the day `b` starts with, when it is the
    /// day of the timestamp before (and not the start of a longer number).
    fn known_day(&self, b: &[u8]) -> Option<(NaiveDate, usize)> {
        let (d, text) = self.day.as_ref()?;
        let day = b.get(..text.len())?;
        let same = crate::text::same_bytes(day, text)
            && !b.get(text.len()).is_some_and(u8::is_ascii_digit);
        same.then_some((*d, text.len()))
    }

    /// [`DateReader::timestamp`] of a field's bytes as they lie in the
    /// file, for a sensor log's usual row only: nothing `str::trim` would
    /// take at either end, and the day of the row before. `None` otherwise
    /// (or when the time does not parse), having noted nothing: the caller
    /// then asks [`DateReader::timestamp`], whose answer this is wherever
    /// this one gives one, without making a `str` of the field first.
    pub fn timestamp_on_known_day(&mut self, b: &[u8], line: u32) -> Option<(NaiveDateTime, Zone)> {
        let plain = |c: Option<&u8>| c.is_some_and(u8::is_ascii_graphic);
        if !plain(b.first()) || !plain(b.last()) {
            return None;
        }
        let (d, len) = self.known_day(b)?;
        let t = timestamp_after_date(d, b.get(len..).unwrap_or(&[]))?;
        self.note_trimmed(b, line);
        Some(t)
    }

    pub fn date(&mut self, s: &str, line: u32) -> Option<NaiveDate> {
        let d = parse_date_in(s, self.order)?;
        self.note(s, line);
        Some(d)
    }

    pub fn timestamp(&mut self, s: &str, line: u32) -> Option<(NaiveDateTime, Zone)> {
        let b = s.trim().as_bytes();
        let (d, len) = match self.known_day(b) {
            Some(k) => k,
            None => {
                let (d, len) = timestamp_date(s, self.order)?;
                let text = self.day.get_or_insert_with(|| (d, Vec::new()));
                text.0 = d;
                text.1.clear();
                text.1.extend_from_slice(b.get(..len).unwrap_or(&[]));
                (d, len)
            }
        };
        let t = timestamp_after_date(d, b.get(len..).unwrap_or(&[]))?;
        self.note_trimmed(b, line);
        Some(t)
    }

    /// Say how the file's slashed dates were read: a day-first file is
    /// told (the app's default is month-first), a file that never decided
    /// is warned about with the setting that changes the assumption.
    pub fn report(&self, ctx: &mut Ctx<'_>, column: &str) {
        let column = clip(column, QUOTE_CHARS);
        match (self.evidence, self.order) {
            (Some(e), DayOrder::DayFirst) => ctx.findings.push(
                qa::AMBIGUOUS_DATE
                    .finding(
                        Severity::Info,
                        format!(
                            "Dates in column '{column}' are read as DD/MM/YYYY: row {} starts with {}, which cannot be a month.",
                            e.line, e.first
                        ),
                    )
                    .at(CellRef::cell(None, e.line, self.col)),
            ),
            (Some(e), DayOrder::MonthFirst) if e.second > 12 => {}
            _ if self.assumed > 0 => ctx.findings.push(
                qa::AMBIGUOUS_DATE
                    .finding(
                        Severity::Warning,
                        format!(
                            "All {} slashed dates in column '{column}' could be day/month or month/day (no part is above 12); they are read as {}. If they are {}, change the setting 'ambiguous_dates' (CLI --ambiguous-dates {}).",
                            self.assumed,
                            self.order.pattern(),
                            other(self.order).pattern(),
                            other(self.order).as_str()
                        ),
                    )
                    .at(CellRef::cell(None, self.first_assumed.unwrap_or(0), self.col)),
            ),
            _ => {}
        }
    }
}

fn other(o: DayOrder) -> DayOrder {
    match o {
        DayOrder::MonthFirst => DayOrder::DayFirst,
        DayOrder::DayFirst => DayOrder::MonthFirst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short way answers as the long way does wherever it answers, and
    /// notes the same assumed slashed dates: timestamps in every shape a
    /// log might hold (spaces around, slashed or ISO, zones, a date alone,
    /// a day that runs on into more digits, bad times), in random order.
    #[test]
    fn a_timestamp_on_a_known_day_reads_as_the_long_way_reads() {
        let shapes = [
            "2025-01-01 00:00:00",
            "2025-01-01 00:01:00",
            "2025-01-01T00:02:00Z",
            "2025-01-01 00:03:00+05:00",
            " 2025-01-01 00:04:00",
            "2025-01-01 00:05:00 ",
            "2025-01-01",
            "2025-01-011 00:00:00",
            "2025-01-01 25:00:00",
            "2025-01-01 7:5",
            "2025-01-02 00:00:00",
            "01/02/2025 10:00",
            "01/02/2025 10:00:30.5",
            "13/02/2025 10:00",
            "1/2/2025 9:00",
            "01/02/2025 10:00 PM",
            "1/2/2025 9:05:00 AM",
            "2025-01-01 12:00:00 am",
            "01/02/2025\u{a0}",
            "x",
            "",
        ];
        let mut next = crate::xorshift(0x5EED_DA7E);
        for evidence in [
            None,
            Some(Evidence {
                line: 1,
                first: 13,
                second: 2,
            }),
        ] {
            for order in [DayOrder::MonthFirst, DayOrder::DayFirst] {
                let reader = DateReader {
                    order,
                    col: 0,
                    evidence,
                    assumed: 0,
                    first_assumed: None,
                    day: None,
                };
                let (mut long, mut short) = (reader.clone(), reader);
                let mut quick = 0;
                for line in 2..20_000u32 {
                    let raw = shapes[(next() % shapes.len() as u64) as usize];
                    let field = raw.trim();
                    let expected = long.timestamp(field, line);
                    let known = short.timestamp_on_known_day(raw.as_bytes(), line);
                    quick += usize::from(known.is_some());
                    let got = known.or_else(|| short.timestamp(field, line));
                    assert_eq!(got, expected, "{raw:?} on line {line}");
                    assert_eq!(
                        (short.assumed, short.first_assumed),
                        (long.assumed, long.first_assumed),
                        "{raw:?} on line {line}"
                    );
                }
                assert!(long.assumed > 0 || evidence.is_some());
                assert!(quick > 1000, "{quick} rows read the short way");
            }
        }
    }
}
