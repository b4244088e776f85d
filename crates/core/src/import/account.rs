//! The row account: every row of every sheet is a record or a skipped row
//! with a reason. `rows_in == records + skipped` always holds; the tests
//! check it for every file they read.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Text;

/// Why a row produced no record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Report title, plant id, month, generation time above the header.
    Preamble,
    /// A header row (including repeated headers and multi-row header blocks).
    Header,
    /// Nothing in any cell.
    Blank,
    /// `Sum`, `Avg`, `TOTAL`, `MAX` ... rows after the days.
    Summary,
    /// Free text below the table.
    Footnote,
    /// The row of tag codes (`AB_FNEQ` ...) closing a Plant B report.
    TagRow,
    /// The value the row exists for is blank (e.g. a sensor dropout).
    MissingValue,
    /// The value is not a number (`Bad`, `#N/A`, `NaN`).
    UnparseableValue,
    /// The date or timestamp cannot be read.
    UnparseableDate,
    /// The value's unit is one it cannot be converted from.
    UnknownUnit,
    /// A required identifier (plant, unit) is blank.
    MissingKey,
    /// More fields than the configured cap.
    TooManyFields,
    /// A field larger than the configured cap.
    FieldTooLarge,
    /// A sensor log row that would start a series past the file's cap.
    TooManySeries,
    /// A row that fits no part of the layout.
    Unrecognised,
    /// A profile-read row whose date cell holds no date.
    NoDate,
    /// A profile-read day before 2000 or after the report's generation.
    ImplausibleDate,
    /// A sheet the layout does not use.
    UnusedSheet,
    /// The whole file repeats another file.
    DuplicateFile,
    /// The file was rejected (see its error).
    FileRejected,
    /// Adjacent rows skipped for different reasons in a file that has
    /// more separate skipped ranges than the account keeps one by one.
    Various,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Preamble => "preamble",
            SkipReason::Header => "header",
            SkipReason::Blank => "blank",
            SkipReason::Summary => "summary",
            SkipReason::Footnote => "footnote",
            SkipReason::TagRow => "tag_row",
            SkipReason::MissingValue => "missing_value",
            SkipReason::UnparseableValue => "unparseable_value",
            SkipReason::UnparseableDate => "unparseable_date",
            SkipReason::UnknownUnit => "unknown_unit",
            SkipReason::MissingKey => "missing_key",
            SkipReason::TooManyFields => "too_many_fields",
            SkipReason::FieldTooLarge => "field_too_large",
            SkipReason::TooManySeries => "too_many_series",
            SkipReason::Unrecognised => "unrecognised",
            SkipReason::NoDate => "no_date",
            SkipReason::ImplausibleDate => "implausible_date",
            SkipReason::UnusedSheet => "unused_sheet",
            SkipReason::DuplicateFile => "duplicate_file",
            SkipReason::FileRejected => "file_rejected",
            SkipReason::Various => "various",
        }
    }

    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Preamble => "report preamble",
            SkipReason::Header => "header",
            SkipReason::Blank => "blank",
            SkipReason::Summary => "summary row (Sum/Avg/TOTAL…)",
            SkipReason::Footnote => "footnote",
            SkipReason::TagRow => "tag-code row",
            SkipReason::MissingValue => "value blank",
            SkipReason::UnparseableValue => "value not a number",
            SkipReason::UnparseableDate => "date unreadable",
            SkipReason::UnknownUnit => "unit not convertible",
            SkipReason::MissingKey => "plant or unit blank",
            SkipReason::TooManyFields => "too many fields",
            SkipReason::FieldTooLarge => "field too large",
            SkipReason::TooManySeries => "too many series in the file",
            SkipReason::Unrecognised => "unrecognised row",
            SkipReason::NoDate => "no date",
            SkipReason::ImplausibleDate => "implausible date",
            SkipReason::UnusedSheet => "sheet not used",
            SkipReason::DuplicateFile => "duplicate file",
            SkipReason::FileRejected => "file rejected",
            SkipReason::Various => "various reasons (too many runs to list)",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Consecutive skipped rows of one sheet with one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipRange {
    pub sheet: Option<Text>,
    pub first_row: u32,
    pub last_row: u32,
    pub reason: SkipReason,
}

impl SkipRange {
    pub fn len(&self) -> u64 {
        u64::from(self.last_row - self.first_row) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Consecutive rows of one sheet that all became records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRange {
    pub sheet: Option<Text>,
    pub first_row: u32,
    pub last_row: u32,
}

/// Separate skipped ranges kept one by one per file. A file whose rows
/// alternate between skip reasons (`x`, blank, `x`, blank ...) would
/// otherwise cost a range of ~32 bytes for every 2 bytes of input; past
/// this many, adjacent skipped rows share one range (reason `Various`).
pub const MAX_SKIP_RANGES: usize = 100_000;

/// Per-file row account.
///
/// A text file's rows are its records, and a quoted field may hold line
/// breaks, so counting records alone would let a field that swallowed the
/// rest of the file balance; its physical lines are counted as well:
/// `lines == rows_in + lines_in_fields`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowAccount {
    /// Physical lines of a text file, as an editor counts them (0 for a
    /// workbook, whose rows are its lines).
    #[serde(default)]
    pub lines: u64,
    /// Lines that continue a row inside a quoted field.
    #[serde(default)]
    pub lines_in_fields: u64,
    pub rows_in: u64,
    pub records: u64,
    pub skipped: Vec<SkipRange>,
    /// Where the records came from, as ranges (so the account can be
    /// re-stated, e.g. when the whole file turns out to be a duplicate).
    pub record_rows: Vec<RecordRange>,
}

impl RowAccount {
    /// A row that became a record.
    pub fn record(&mut self, sheet: Option<&Text>, row: u32) {
        self.rows_in += 1;
        self.records += 1;
        if let Some(prev) = self.record_rows.last_mut() {
            if prev.sheet.as_deref() == sheet.map(|s| &**s)
                && prev.last_row.checked_add(1) == Some(row)
            {
                prev.last_row = row;
                return;
            }
        }
        self.record_rows.push(RecordRange {
            sheet: sheet.cloned(),
            first_row: row,
            last_row: row,
        });
    }

    /// The account of the next piece of the same file (read on its own),
    /// as if this one had gone on reading. Exact while the skipped ranges
    /// together stay under [`MAX_SKIP_RANGES`] (past it, rows of different
    /// reasons merge, which depends on where the pieces start): the caller
    /// checks [`RowAccount::skip_ranges_left`] first.
    pub fn append(&mut self, next: RowAccount) {
        self.lines += next.lines;
        self.lines_in_fields += next.lines_in_fields;
        for r in next.skipped {
            self.skip_rows(r.sheet.as_ref(), r.first_row, r.last_row, r.reason);
        }
        for r in next.record_rows {
            let joins = self.record_rows.last_mut().filter(|prev| {
                prev.sheet == r.sheet && prev.last_row.checked_add(1) == Some(r.first_row)
            });
            match joins {
                Some(prev) => prev.last_row = r.last_row,
                None => self.record_rows.push(r),
            }
        }
        self.records += next.records;
        // `skip_rows` counted the skipped rows in.
        self.rows_in += next.records;
    }

    /// Skipped ranges this account may still open before they merge.
    pub fn skip_ranges_left(&self) -> usize {
        MAX_SKIP_RANGES.saturating_sub(self.skipped.len())
    }

    /// The same rows, every one skipped for `reason` (a duplicate file).
    pub fn restated_as(&self, reason: SkipReason) -> RowAccount {
        let mut ranges: Vec<(Option<Text>, u32, u32)> = self
            .skipped
            .iter()
            .map(|s| (s.sheet.clone(), s.first_row, s.last_row))
            .chain(
                self.record_rows
                    .iter()
                    .map(|r| (r.sheet.clone(), r.first_row, r.last_row)),
            )
            .collect();
        ranges.sort_by(|a, b| (a.0.as_deref(), a.1).cmp(&(b.0.as_deref(), b.1)));
        let mut out = RowAccount {
            lines: self.lines,
            lines_in_fields: self.lines_in_fields,
            ..RowAccount::default()
        };
        for (sheet, first, last) in ranges {
            out.skip_rows(sheet.as_ref(), first, last, reason);
        }
        out
    }

    /// A row that did not.
    pub fn skip(&mut self, sheet: Option<&Text>, row: u32, reason: SkipReason) {
        self.skip_rows(sheet, row, row, reason);
    }

    /// Rows `first..=last` that did not.
    pub fn skip_rows(&mut self, sheet: Option<&Text>, first: u32, last: u32, reason: SkipReason) {
        if last < first {
            return;
        }
        self.rows_in += u64::from(last - first) + 1;
        let full = self.skipped.len() >= MAX_SKIP_RANGES;
        if let Some(prev) = self.skipped.last_mut() {
            if prev.sheet.as_deref() == sheet.map(|s| &**s)
                && prev.last_row.checked_add(1) == Some(first)
                && (prev.reason == reason || full)
            {
                if prev.reason != reason {
                    prev.reason = SkipReason::Various;
                }
                prev.last_row = last;
                return;
            }
        }
        self.skipped.push(SkipRange {
            sheet: sheet.cloned(),
            first_row: first,
            last_row: last,
            reason,
        });
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().map(SkipRange::len).sum()
    }

    pub fn by_reason(&self) -> BTreeMap<SkipReason, u64> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason).or_insert(0) += s.len();
        }
        m
    }

    /// `rows_in == records + skipped`.
    pub fn balances(&self) -> bool {
        self.rows_in == self.records + self.skipped_total()
    }

    /// Every physical line of a text file is a row or inside one (true for
    /// a workbook, which counts no lines).
    pub fn lines_balance(&self) -> bool {
        self.lines == 0 || self.lines == self.rows_in + self.lines_in_fields
    }

    /// The account in words: `412 lines (2 inside quoted fields), 410
    /// rows = 400 records + 10 skipped`; a workbook has rows only.
    pub fn summary_line(&self) -> String {
        let rows = format!(
            "{} rows = {} records + {} skipped",
            self.rows_in,
            self.records,
            self.skipped_total()
        );
        match (self.lines, self.lines_in_fields) {
            (0, _) => rows,
            (l, 0) => format!("{l} lines, {rows}"),
            (l, q) => format!("{l} lines ({q} inside quoted fields), {rows}"),
        }
    }

    /// `blank:3; header:1` — for one-line summaries and `files.csv`.
    pub fn reasons_line(&self) -> String {
        self.by_reason()
            .iter()
            .map(|(r, n)| format!("{r}:{n}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_skip_reasons_stop_growing_the_account() {
        let mut a = RowAccount::default();
        for row in 1..=(3 * MAX_SKIP_RANGES as u32) {
            let reason = if row % 2 == 0 {
                SkipReason::Blank
            } else {
                SkipReason::UnparseableDate
            };
            a.skip(None, row, reason);
        }
        assert_eq!(a.skipped.len(), MAX_SKIP_RANGES);
        assert_eq!(a.rows_in, 3 * MAX_SKIP_RANGES as u64);
        assert!(a.balances());
        assert_eq!(
            a.skipped.last().map(|s| s.reason),
            Some(SkipReason::Various)
        );
    }

    #[test]
    fn consecutive_skips_merge_and_balance() {
        let s: Text = "S".into();
        let mut a = RowAccount::default();
        a.skip(Some(&s), 1, SkipReason::Header);
        a.record(Some(&s), 2);
        a.skip(Some(&s), 3, SkipReason::Blank);
        a.skip(Some(&s), 4, SkipReason::Blank);
        a.skip_rows(Some(&s), 5, 100, SkipReason::Blank);
        a.skip(Some(&s), 101, SkipReason::Summary);
        a.skip(None, 102, SkipReason::Summary);
        assert_eq!(a.skipped.len(), 4);
        assert_eq!(a.rows_in, 102);
        assert!(a.balances());
        assert_eq!(a.reasons_line(), "header:1; blank:98; summary:2");
        let d = a.restated_as(SkipReason::DuplicateFile);
        assert_eq!(d.rows_in, 102);
        assert_eq!(d.records, 0);
        assert!(d.balances());
        assert_eq!(d.reasons_line(), "duplicate_file:102");
    }
}
