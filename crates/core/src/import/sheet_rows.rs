//! Telling the rows of a plant sheet apart once the days are known: what
//! is not a day is a summary, a footnote, a tag row, blank, or something
//! the layout does not explain (which is reported, not guessed at).

use chrono::NaiveDate;

use super::workbook::{Cell, Sheet};
use super::{Ctx, SkipReason};
use crate::model::{Severity, Text};
use crate::number::{parse_num, Commas};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};

const SUMMARY_WORDS: &[&str] = &[
    "SUM",
    "TOTAL",
    "TOTALS",
    "AVG",
    "AVERAGE",
    "MEAN",
    "MAX",
    "MAXIMUM",
    "MIN",
    "MINIMUM",
    "COUNT",
    "FORMULA",
    "STD",
    "STDEV",
    "MEDIAN",
    "GEOMEAN",
    "GEO MEAN",
    "MO AVG",
    "MONTHLY AVG",
    "WEEKLY AVG",
    "7 DAY AVG",
    "30 DAY AVG",
];

/// `Sum`, `TOTAL`, `Avg:` ... in the label column.
pub fn is_summary_label(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches(':')
        .trim()
        .to_ascii_uppercase();
    SUMMARY_WORDS.contains(&t.as_str())
}

/// A tag code such as `AB_FNEQ`: upper-case letters and digits joined by
/// underscores, no spaces.
pub fn is_tag_code(text: &str) -> bool {
    let t = text.trim();
    t.len() >= 3
        && t.contains('_')
        && !t.starts_with('_')
        && t.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && t.bytes().any(|b| b.is_ascii_uppercase())
}

/// Why a row that holds no day is skipped, or `None` when the layout has no
/// explanation for it (the caller reports it).
pub fn classify(sheet: &Sheet, row: u32, label_col: u32) -> Option<SkipReason> {
    let filled: Vec<u32> = sheet.filled(row).collect();
    if filled.is_empty() {
        return Some(SkipReason::Blank);
    }
    let label = sheet.text(row, label_col);
    if is_summary_label(&label) {
        return Some(SkipReason::Summary);
    }
    let tags = filled
        .iter()
        .filter(|c| matches!(sheet.get(row, **c), Cell::Text(s) if is_tag_code(s)))
        .count();
    if tags >= 2 && tags * 2 >= filled.len() {
        return Some(SkipReason::TagRow);
    }
    // Free text in the label column with little else: a footnote.
    if let Cell::Text(s) = sheet.get(row, label_col) {
        let words = s.split_whitespace().count();
        if (words >= 3 || s.trim().len() >= 25) && filled.len() <= 2 {
            return Some(SkipReason::Footnote);
        }
    }
    None
}

/// How a layout stores its numbers (a profile's `numbers`, version 2),
/// which decides what text in a number cell means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// `numbers = "text"` (Plant A): every number is text (`'36.8'`); only
    /// qualified text (`<2`, `311*`) is worth a finding.
    AsText,
    /// `numbers = "cells"` (Plant B's flows): real numbers; any text there
    /// is reported.
    AsNumbers,
}

/// A number cell of a day row: `None` when blank; text read with its
/// qualifiers and thousands separators; anything unreadable (an error
/// value, a word) is `None` plus a finding naming the cell. `what` names
/// the column for people.
#[allow(clippy::too_many_arguments)]
pub fn number_cell(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    row: u32,
    col: u32,
    plant: &Text,
    date: NaiveDate,
    what: &str,
    stored: Stored,
) -> Option<f64> {
    let unreadable = |ctx: &mut Ctx<'_>, message: String| {
        ctx.findings.row(
            qa::UNPARSEABLE_NUMBER
                .finding(Severity::Warning, message)
                .plant(plant)
                .on(date)
                .at(sheet.at(row, col)),
        );
        None
    };
    match sheet.get(row, col) {
        Cell::Number(f) if f.is_finite() => Some(*f),
        Cell::Empty => None,
        Cell::Error(e) => unreadable(
            ctx,
            format!("{what} shows the error {e}; treated as blank."),
        ),
        _ => {
            let text = sheet.text(row, col);
            let shown = clip(text.trim(), QUOTE_CHARS);
            match parse_num(&text, Commas::Thousands) {
                Ok(Some(n)) => {
                    let qualified = n.below_detection || n.footnoted;
                    let message = match stored {
                        Stored::AsText if qualified => Some(format!(
                            "{what} '{shown}' is qualified; {} is used.",
                            n.value
                        )),
                        Stored::AsText => None,
                        Stored::AsNumbers => Some(format!(
                            "{what} is text '{shown}' in a number column; {} is used.",
                            n.value
                        )),
                    };
                    if let Some(message) = message {
                        ctx.findings.row(
                            qa::QUALIFIED_VALUE
                                .finding(Severity::Warning, message)
                                .plant(plant)
                                .on(date)
                                .at(sheet.at(row, col)),
                        );
                    }
                    Some(n.value)
                }
                Ok(None) => None,
                Err(e) => unreadable(ctx, format!("{what} '{shown}' is {e}; treated as blank.")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for s in [
            "Sum", "Avg", "Max", "Min", "Count", "Formula", "TOTAL", "AVG", "Total:",
        ] {
            assert!(is_summary_label(s), "{s}");
        }
        assert!(!is_summary_label("4/1/2025"));
        assert!(is_tag_code("AB_FNEQ"));
        assert!(is_tag_code("AB_RAWIPH"));
        assert!(!is_tag_code("PLANT B"));
        assert!(!is_tag_code("_X"));
        assert!(!is_tag_code("Ab_x"));
    }
}
