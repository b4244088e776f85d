//! Calendar helpers shared by the generators.
//!
//! Options are validated up front (see `SampleOptions::validate`), so the
//! date arithmetic here saturates instead of failing: it never reaches the
//! ends of chrono's range.

use chrono::{Datelike, Months, NaiveDate, TimeDelta, Weekday};

/// `d` plus `k` days (negative goes back).
pub(crate) fn plus_days(d: NaiveDate, k: i64) -> NaiveDate {
    TimeDelta::try_days(k)
        .and_then(|t| d.checked_add_signed(t))
        .unwrap_or(d)
}

/// The first day of the month `n` months after the month of `d`.
pub(crate) fn month_start(d: NaiveDate, n: u32) -> NaiveDate {
    let first = d.with_day(1).unwrap_or(d);
    first.checked_add_months(Months::new(n)).unwrap_or(first)
}

/// The days from `from` up to and including `to`.
pub(crate) fn days_between(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// Number of days in the month of `d`.
pub(crate) fn days_in_month(d: NaiveDate) -> u32 {
    let first = d.with_day(1).unwrap_or(d);
    let next = month_start(first, 1);
    u32::try_from((next - first).num_days()).unwrap_or(30)
}

pub(crate) fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// `M/D/YYYY`, the US date form of the plant exports.
pub(crate) fn us_date(d: NaiveDate) -> String {
    format!("{}/{}/{}", d.month(), d.day(), d.year())
}

/// Excel's serial day number (1900 date system; 1899-12-30 is day 0).
pub(crate) fn excel_serial(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or(d);
    (d - epoch).num_days() as f64
}

/// `h:mm:ss AM|PM` for a time of day given in seconds since midnight.
pub(crate) fn us_time_12h(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!("{h12}:{m:02}:{s:02} {ampm}")
}

/// A document timestamp for rust_xlsxwriter (whose chrono feature is off).
pub(crate) fn xlsx_datetime(
    dt: chrono::NaiveDateTime,
) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::Timelike;
    let year = u16::try_from(dt.year()).unwrap_or(2000);
    rust_xlsxwriter::ExcelDateTime::from_ymd(year, dt.month() as u8, dt.day() as u8)?.and_hms(
        dt.hour() as u16,
        dt.minute() as u8,
        dt.second(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn serials_match_excel() {
        assert_eq!(excel_serial(d(2025, 4, 4)), 45751.0);
        assert_eq!(excel_serial(d(1900, 3, 1)), 61.0);
    }

    #[test]
    fn us_forms() {
        assert_eq!(us_date(d(2025, 4, 1)), "4/1/2025");
        assert_eq!(us_time_12h(17 * 3600 + 11 * 60 + 2), "5:11:02 PM");
        assert_eq!(us_time_12h(0), "12:00:00 AM");
        assert_eq!(us_time_12h(12 * 3600), "12:00:00 PM");
    }

    #[test]
    fn months() {
        assert_eq!(month_start(d(2025, 4, 17), 2), d(2025, 6, 1));
        assert_eq!(days_in_month(d(2025, 2, 10)), 28);
        assert_eq!(days_between(d(2025, 4, 1), d(2025, 6, 30)).count(), 91);
    }
}
