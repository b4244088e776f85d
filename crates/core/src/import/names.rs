//! What file names say. Names are hints: content decides the kind, but a
//! Plant A workbook carries its plant and month only in its name, and a
//! Plant B report its period.

use chrono::NaiveDate;

use crate::timestamp::{month_end, month_number};

/// The file name without any folder part.
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// A `PLANT_X` token (letters/digits after `PLANT_`), upper-cased.
pub fn plant_token(name: &str) -> Option<String> {
    let up = base_name(name).to_ascii_uppercase();
    let start = up.find("PLANT_")?;
    let rest = &up[start + 6..];
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    (len > 0).then(|| format!("PLANT_{}", &rest[..len]))
}

/// `...-APR25.xlsx`, `...-JUNE25.xls` → the month's first and last day.
pub fn month_period(name: &str) -> Option<(NaiveDate, NaiveDate)> {
    let base = base_name(name);
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .rev()
        .find_map(|tok| {
            let letters: String = tok
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let digits = &tok[letters.len()..];
            if letters.len() < 3 || !(digits.len() == 2 || digits.len() == 4) {
                return None;
            }
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let m = month_number(&letters)?;
            let y: i32 = digits.parse().ok()?;
            let y = if digits.len() == 2 { 2000 + y } else { y };
            let first = NaiveDate::from_ymd_opt(y, m, 1)?;
            Some((first, month_end(first)))
        })
}

/// `..._03212025to04112025.xlsx` → the report period.
pub fn report_period(name: &str) -> Option<(NaiveDate, NaiveDate)> {
    // Bytes, not `str` slices: the eight bytes before a "to" may start in
    // the middle of a multi-byte character of a non-ASCII name.
    let bytes = base_name(name).as_bytes();
    (8..bytes.len().saturating_sub(9)).find_map(|i| {
        if !bytes[i..i + 2].eq_ignore_ascii_case(b"to") {
            return None;
        }
        let a = mmddyyyy(&bytes[i - 8..i])?;
        let b = mmddyyyy(&bytes[i + 2..i + 10])?;
        (a <= b).then_some((a, b))
    })
}

fn mmddyyyy(s: &[u8]) -> Option<NaiveDate> {
    if s.len() != 8 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| {
        s[r].iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(n(4..8) as i32, n(0..2), n(2..4))
}

/// `WB0038_PH_2025_sanitized.csv` → `WB0038`.
pub fn sensor_prefix(name: &str) -> Option<String> {
    let base = base_name(name);
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    let tok = stem.split(['_', ' ', '-']).next()?.trim();
    (!tok.is_empty()).then(|| tok.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_period_of_a_non_ascii_name_does_not_panic() {
        // "to" eight bytes after the middle of a two-byte character.
        assert_eq!(report_period("é1234567to12345678.xlsx"), None);
        assert_eq!(report_period("a03212025toé4112025"), None);
        assert_eq!(
            report_period("ü_03212025to04112025.xlsx"),
            Some((d(2025, 3, 21), d(2025, 4, 11)))
        );
    }

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default()
    }

    #[test]
    fn names() {
        assert_eq!(
            plant_token("PLANT_A-OPS DATA-APR25.xlsx").as_deref(),
            Some("PLANT_A")
        );
        assert_eq!(
            plant_token("dir/plant_b-MPOR.xlsx").as_deref(),
            Some("PLANT_B")
        );
        assert_eq!(plant_token("ops.xlsx"), None);
        assert_eq!(
            month_period("PLANT_A-OPS DATA-APR25.xlsx"),
            Some((d(2025, 4, 1), d(2025, 4, 30)))
        );
        assert_eq!(
            month_period("PLANT_A-OPS DATA-JUNE25.xls"),
            Some((d(2025, 6, 1), d(2025, 6, 30)))
        );
        assert_eq!(
            month_period("PLANT_A-OPS DATA-FEB2024.xls"),
            Some((d(2024, 2, 1), d(2024, 2, 29)))
        );
        assert_eq!(month_period("ops.xlsx"), None);
        assert_eq!(
            report_period("PLANT_B-MPOR_Crew_03212025to04112025.xlsx"),
            Some((d(2025, 3, 21), d(2025, 4, 11)))
        );
        assert_eq!(report_period("report.xlsx"), None);
        assert_eq!(
            report_period("X_03212025TO04112025"),
            Some((d(2025, 3, 21), d(2025, 4, 11)))
        );
        assert_eq!(
            sensor_prefix("WB0038_PH_2025_sanitized.csv").as_deref(),
            Some("WB0038")
        );
    }
}
