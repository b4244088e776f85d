//! Telling the rows of a plant sheet apart once the days are known: what
//! is not a day is a summary, a footnote, a tag row, blank, or something
//! the layout does not explain (which is reported, not guessed at).

use calamine::Data;

use super::workbook::Sheet;
use super::SkipReason;

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
        .filter(|c| matches!(sheet.get(row, **c), Data::String(s) if is_tag_code(s)))
        .count();
    if tags >= 2 && tags * 2 >= filled.len() {
        return Some(SkipReason::TagRow);
    }
    // Free text in the label column with little else: a footnote.
    if let Data::String(s) = sheet.get(row, label_col) {
        let words = s.split_whitespace().count();
        if (words >= 3 || s.trim().len() >= 25) && filled.len() <= 2 {
            return Some(SkipReason::Footnote);
        }
    }
    None
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
