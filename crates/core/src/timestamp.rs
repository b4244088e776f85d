//! Dates and times as they appear in plant files.
//!
//! Sensor logs write `2025-04-01 00:00:00`, `2025-04-01T00:00:00Z`,
//! `2025-04-01T00:00:00-05:00` or `4/1/2025 12:00 AM`; workbooks write
//! `4/1/2025` as text or store Excel serial days. A hand-written parser keeps
//! a year of minute data fast; chrono only validates the calendar.
//!
//! A UTC offset or `Z` is accepted and reported with the wall-clock time as
//! written ([`Zone`]); the sensor importer turns UTC times into the plant's
//! local time when the file itself states the plant's offset.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

pub use crate::config::DayOrder;

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            b: s.trim().as_bytes(),
            i: 0,
        }
    }

    /// 1..=max digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            v = v * 10 + u32::from(self.b[self.i] - b'0');
            self.i += 1;
        }
        (self.i - start >= min).then_some(v)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) -> usize {
        let s = self.i;
        while self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
        self.i - s
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }

    fn rest(&self) -> &[u8] {
        &self.b[self.i..]
    }
}

/// `YYYY-MM-DD`, or `M/D/YYYY` (`D/M/YYYY` when `order` says so) at the
/// cursor.
fn date_part(c: &mut Cursor<'_>, order: DayOrder) -> Option<NaiveDate> {
    let start = c.i;
    let a = c.digits(1, 4)?;
    if c.i - start == 4 && (c.eat(b'-') || c.eat(b'/')) {
        let m = c.digits(1, 2)?;
        if !(c.eat(b'-') || c.eat(b'/')) {
            return None;
        }
        let d = c.digits(1, 2)?;
        return NaiveDate::from_ymd_opt(a as i32, m, d);
    }
    if c.i - start <= 2 && c.eat(b'/') {
        let d = c.digits(1, 2)?;
        if !c.eat(b'/') {
            return None;
        }
        let ystart = c.i;
        let y = c.digits(2, 4)?;
        let y = match c.i - ystart {
            4 => y as i32,
            2 => 2000 + y as i32,
            _ => return None,
        };
        return match order {
            DayOrder::MonthFirst => NaiveDate::from_ymd_opt(y, a, d),
            DayOrder::DayFirst => NaiveDate::from_ymd_opt(y, d, a),
        };
    }
    None
}

/// The two leading numbers of a slashed date (`25/04/2025` → (25, 4)),
/// which alone cannot say which is the day: the caller weighs them over a
/// whole file.
pub fn slash_parts(s: &str) -> Option<(u32, u32)> {
    slash_parts_trimmed(s.trim().as_bytes())
}

/// [`slash_parts`] of text with nothing to trim at either end.
pub fn slash_parts_trimmed(b: &[u8]) -> Option<(u32, u32)> {
    let mut c = Cursor { b, i: 0 };
    let a = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let b = c.digits(1, 2)?;
    c.eat(b'/').then_some((a, b))
}

/// What a timestamp said about its time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// No zone: the plant's local wall clock.
    Local,
    /// `Z` or `+00:00`.
    Utc,
    /// A UTC offset in minutes (`-05:00` → -300): local time with its offset.
    Offset(i32),
}

/// `H:MM[:SS[.fff]]` then optional ` AM|PM`, `Z` or `±HH[:]MM`.
fn time_part(c: &mut Cursor<'_>) -> Option<NaiveTime> {
    time_and_zone(c).map(|(t, _)| t)
}

fn time_and_zone(c: &mut Cursor<'_>) -> Option<(NaiveTime, Zone)> {
    let mut zone = Zone::Local;
    let mut h = c.digits(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let m = c.digits(2, 2)?;
    let mut s = 0;
    let mut nanos = 0;
    if c.eat(b':') {
        s = c.digits(2, 2)?;
        if c.eat(b'.') {
            let start = c.i;
            let frac = c.digits(1, 9)?;
            let len = (c.i - start) as u32;
            nanos = frac * 10u32.pow(9 - len);
        }
    }
    let spaces = c.skip_spaces();
    let rest = c.rest();
    let ampm = if rest.len() >= 2 {
        let t = [rest[0].to_ascii_uppercase(), rest[1].to_ascii_uppercase()];
        match &t {
            b"AM" => Some(false),
            b"PM" => Some(true),
            _ => None,
        }
    } else {
        None
    };
    if let Some(pm) = ampm {
        c.i += 2;
        if !(1..=12).contains(&h) {
            return None;
        }
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    } else if spaces == 0 && !c.done() {
        // A zone: `Z`, `+05:00`, `-0500`.
        if c.eat(b'Z') || c.eat(b'z') {
            zone = Zone::Utc;
        } else {
            let sign = if c.eat(b'+') {
                1
            } else if c.eat(b'-') {
                -1
            } else {
                return None;
            };
            let oh = c.digits(2, 2)?;
            c.eat(b':');
            let om = c.digits(2, 2)?;
            if oh > 14 || om > 59 {
                return None;
            }
            let minutes = sign * (oh * 60 + om) as i32;
            zone = if minutes == 0 {
                Zone::Utc
            } else {
                Zone::Offset(minutes)
            };
        }
    }
    c.skip_spaces();
    NaiveTime::from_hms_nano_opt(h, m, s, nanos).map(|t| (t, zone))
}

/// A calendar day: `YYYY-MM-DD`, `M/D/YYYY`, or either followed by a time
/// (the time is ignored).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    parse_date_in(s, DayOrder::MonthFirst)
}

/// [`parse_date`] with slashed dates read in `order`.
pub fn parse_date_in(s: &str, order: DayOrder) -> Option<NaiveDate> {
    let mut c = Cursor::new(s);
    let d = date_part(&mut c, order)?;
    if c.done() {
        return Some(d);
    }
    if c.eat(b'T') || c.skip_spaces() > 0 {
        time_part(&mut c)?;
        if c.done() {
            return Some(d);
        }
    }
    None
}

/// A timestamp in any of the forms of the module docs; a bare date is
/// midnight. The wall-clock time is returned as written.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    parse_timestamp(s).map(|(t, _)| t)
}

/// Like [`parse_datetime`], with what the text said about its zone.
pub fn parse_timestamp(s: &str) -> Option<(NaiveDateTime, Zone)> {
    parse_timestamp_in(s, DayOrder::MonthFirst)
}

/// [`parse_timestamp`] with slashed dates read in `order`.
pub fn parse_timestamp_in(s: &str, order: DayOrder) -> Option<(NaiveDateTime, Zone)> {
    let (d, len) = timestamp_date(s, order)?;
    timestamp_after_date(d, s.trim().as_bytes().get(len..)?)
}

/// The date a timestamp starts with, and the bytes it takes of the
/// trimmed text. Its last part is a run of digits, so a text that starts
/// with those same bytes, followed by anything but a digit, starts with
/// the same date: a log's rows of one day read it once (see
/// [`timestamp_after_date`]).
pub fn timestamp_date(s: &str, order: DayOrder) -> Option<(NaiveDate, usize)> {
    let mut c = Cursor::new(s);
    let d = date_part(&mut c, order)?;
    Some((d, c.i))
}

/// The rest of a timestamp after its date (of [`timestamp_date`]): nothing
/// (midnight), or `T` or spaces and a time with its zone.
pub fn timestamp_after_date(d: NaiveDate, rest: &[u8]) -> Option<(NaiveDateTime, Zone)> {
    // A log's every row: ` HH:MM:SS`, read at its fixed places (what the
    // reading below makes of it, a test says).
    if let [b' ' | b'T' | b't', h1, h2, b':', m1, m2, b':', s1, s2] = *rest {
        let pair = |a: u8, b: u8| {
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        };
        if let (Some(h), Some(m), Some(s)) = (pair(h1, h2), pair(m1, m2), pair(s1, s2)) {
            return NaiveTime::from_hms_opt(h, m, s).map(|t| (d.and_time(t), Zone::Local));
        }
    }
    timestamp_after_date_read(d, rest)
}

fn timestamp_after_date_read(d: NaiveDate, rest: &[u8]) -> Option<(NaiveDateTime, Zone)> {
    let mut c = Cursor { b: rest, i: 0 };
    if c.done() {
        return Some((d.and_time(NaiveTime::MIN), Zone::Local));
    }
    if !(c.eat(b'T') || c.eat(b't') || c.skip_spaces() > 0) {
        return None;
    }
    let (t, z) = time_and_zone(&mut c)?;
    c.done().then(|| (d.and_time(t), z))
}

/// Excel's serial day number (1900 date system) as a date-time. Serial 60
/// is Excel's phantom 1900-02-29; serials before 61 are shifted by a day to
/// match what Excel displays.
pub fn excel_serial(serial: f64) -> Option<NaiveDateTime> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(NaiveTime::MIN);
    let serial = if serial < 61.0 { serial + 1.0 } else { serial };
    let ms = (serial * 86_400_000.0).round() as i64;
    base.checked_add_signed(Duration::milliseconds(ms))
}

/// `4/1/2025 - 4/30/2025` (as in a Plant A header) → both days.
pub fn parse_date_range(s: &str) -> Option<(NaiveDate, NaiveDate)> {
    for line in s.lines() {
        if let Some((a, b)) = line
            .split_once(" - ")
            .or_else(|| line.split_once('-').filter(|_| line.contains('/')))
        {
            if let (Some(a), Some(b)) = (parse_date(a), parse_date(b)) {
                if a <= b {
                    return Some((a, b));
                }
            }
        }
    }
    None
}

/// `April, 2025` → the first of that month.
pub fn parse_month_year(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let (m, y) = s.split_once(',').or_else(|| s.rsplit_once(' '))?;
    let month = month_number(m.trim())?;
    let year: i32 = y.trim().parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// A month name or abbreviation (`APR`, `JUNE`, `Sept`) → 1..=12.
pub fn month_number(s: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ];
    let up = s.trim().trim_end_matches('.').to_ascii_uppercase();
    if up.len() < 3 {
        return None;
    }
    NAMES
        .iter()
        .position(|n| n.starts_with(&up))
        .map(|i| i as u32 + 1)
}

/// `t` as `%Y-%m-%d{sep}%H:%M:%S` would print it, without chrono's
/// format-string machinery: the page's wasm links this and not the
/// strftime parser (a few KB of the page's size budget).
pub fn iso_datetime(t: NaiveDateTime, sep: char) -> String {
    use chrono::Timelike;
    // `%S` shows a leap second as 60.
    let second = t.second() + u32::from(t.nanosecond() >= 1_000_000_000);
    format!(
        "{}{sep}{:02}:{:02}:{:02}",
        t.date(),
        t.hour(),
        t.minute(),
        second
    )
}

/// `1 Apr 2025` (`%-d %b %Y`), or `1 Apr` without the year.
pub fn day_label(d: NaiveDate, with_year: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.get(d.month0() as usize).copied().unwrap_or_default();
    if with_year {
        format!("{} {month} {}", d.day(), year(d.year()))
    } else {
        format!("{} {month}", d.day())
    }
}

/// A year as `%Y` prints it: four digits, a sign outside 0 to 9999.
fn year(y: i32) -> String {
    if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{y:+05}")
    }
}

/// The last day of a month.
pub fn month_end(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {

    /// The fixed-place reading of ` HH:MM:SS` answers as the general one:
    /// every nine bytes drawn from digits, separators and their lookalikes.
    #[test]
    fn a_plain_time_reads_as_the_general_reading_reads() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 9).unwrap_or_default();
        let alphabet = b"0123456789012345:: Tt.xZ+";
        let mut next = crate::xorshift(0x7135_7A11);
        let mut plain = 0;
        for _ in 0..400_000 {
            let r = next();
            let mut rest = [0u8; 9];
            for (i, b) in rest.iter_mut().enumerate() {
                *b = alphabet[((r >> (i * 5)) % alphabet.len() as u64) as usize];
            }
            // Mostly the shape itself, with digits anywhere in range or not.
            if !r.is_multiple_of(3) {
                rest[0] = b" Tt"[((r >> 50) % 3) as usize];
                rest[3] = b':';
                rest[6] = b':';
            }
            let got = timestamp_after_date(d, &rest);
            assert_eq!(
                got,
                timestamp_after_date_read(d, &rest),
                "{:?}",
                String::from_utf8_lossy(&rest)
            );
            plain += usize::from(got.is_some());
        }
        assert!(plain > 2_000, "{plain}");
    }

    use super::*;

    fn dt(s: &str) -> String {
        parse_datetime(s)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn sensor_timestamp_forms() {
        assert_eq!(dt("2025-04-01 13:05:00"), "2025-04-01 13:05:00");
        assert_eq!(dt("2025-04-01T13:05:00"), "2025-04-01 13:05:00");
        assert_eq!(dt("2025-04-01T13:05:00Z"), "2025-04-01 13:05:00");
        assert_eq!(dt("2025-04-01T13:05:00-05:00"), "2025-04-01 13:05:00");
        assert_eq!(dt("2025-04-01T13:05:00+0530"), "2025-04-01 13:05:00");
        assert_eq!(dt("2025-04-01T13:05:00.250Z"), "2025-04-01 13:05:00");
        assert_eq!(dt("4/1/2025 1:05 PM"), "2025-04-01 13:05:00");
        assert_eq!(dt("4/1/2025 12:05 AM"), "2025-04-01 00:05:00");
        assert_eq!(dt("4/1/2025 12:05:30 PM"), "2025-04-01 12:05:30");
        assert_eq!(dt("4/1/2025 5:11:02 PM"), "2025-04-01 17:11:02");
        assert_eq!(dt("4/1/2025 13:05"), "2025-04-01 13:05:00");
        assert_eq!(dt("2025-04-01"), "2025-04-01 00:00:00");
    }

    #[test]
    fn zones_are_reported() {
        let z = |s: &str| parse_timestamp(s).map(|(_, z)| z);
        assert_eq!(z("2025-06-15T05:00:00Z"), Some(Zone::Utc));
        assert_eq!(z("2025-06-15T05:00:00+00:00"), Some(Zone::Utc));
        assert_eq!(z("2025-06-20T00:00:00-05:00"), Some(Zone::Offset(-300)));
        assert_eq!(z("2025-06-20T00:00:00+0530"), Some(Zone::Offset(330)));
        assert_eq!(z("2025-06-20 00:00:00"), Some(Zone::Local));
        assert_eq!(z("6/20/2025 1:00 PM"), Some(Zone::Local));
        assert_eq!(z("2025-06-20T00:00:00+25:00"), None);
    }

    #[test]
    fn bad_timestamps_are_refused() {
        for s in [
            "",
            "yesterday",
            "2025-13-01 00:00:00",
            "2025-02-30",
            "4/1/2025 13:05 PM",
            "2025-04-01 25:00:00",
            "2025-04-01 10:00:00 junk",
            "2025-04-01T10",
        ] {
            assert_eq!(dt(s), "none", "{s}");
        }
    }

    #[test]
    fn dates() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(parse_date("4/1/2025"), d(2025, 4, 1));
        assert_eq!(parse_date("2025-04-02"), d(2025, 4, 2));
        assert_eq!(parse_date("12/31/25"), d(2025, 12, 31));
        assert_eq!(parse_date("Sum"), None);
        assert_eq!(
            parse_date_range("OPERATOR DATA\nDaily\n4/1/2025 - 4/30/2025"),
            d(2025, 4, 1).zip(d(2025, 4, 30))
        );
        assert_eq!(parse_month_year("April, 2025"), d(2025, 4, 1));
        assert_eq!(month_number("JUNE"), Some(6));
        assert_eq!(month_number("Sept"), Some(9));
        assert_eq!(month_number("Ma"), None);
        assert_eq!(
            month_end(NaiveDate::from_ymd_opt(2025, 2, 1).unwrap_or_default()),
            NaiveDate::from_ymd_opt(2025, 2, 28).unwrap_or_default()
        );
    }

    #[test]
    fn slashed_dates_follow_the_day_order() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            parse_date_in("25/04/2025", DayOrder::DayFirst),
            d(2025, 4, 25)
        );
        assert_eq!(parse_date_in("25/04/2025", DayOrder::MonthFirst), None);
        assert_eq!(
            parse_date_in("2025-04-05", DayOrder::DayFirst),
            d(2025, 4, 5)
        );
        assert_eq!(slash_parts("25/04/2025 13:00"), Some((25, 4)));
        assert_eq!(slash_parts("2025-04-25"), None);
        assert_eq!(slash_parts("1/2"), None);
    }

    #[test]
    fn excel_serials() {
        let t = excel_serial(45751.0).map(|t| t.date());
        assert_eq!(t, NaiveDate::from_ymd_opt(2025, 4, 4));
        assert_eq!(excel_serial(f64::NAN), None);
        assert_eq!(excel_serial(-3.0), None);
        let t = excel_serial(45751.5).map(|t| t.format("%H:%M").to_string());
        assert_eq!(t.as_deref(), Some("12:00"));
    }

    #[test]
    fn labels_print_as_chrono_formats_them() {
        let days = [
            NaiveDate::from_ymd_opt(2025, 4, 1),
            NaiveDate::from_ymd_opt(1999, 12, 31),
            NaiveDate::from_ymd_opt(10000, 1, 9),
            NaiveDate::from_ymd_opt(-1, 6, 15),
            NaiveDate::from_ymd_opt(7, 2, 28),
        ];
        for d in days.into_iter().flatten() {
            assert_eq!(day_label(d, true), d.format("%-d %b %Y").to_string());
            assert_eq!(day_label(d, false), d.format("%-d %b").to_string());
            for t in [
                NaiveTime::from_hms_opt(0, 0, 0),
                NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999),
                NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000),
                NaiveTime::from_hms_milli_opt(7, 5, 3, 250),
            ]
            .into_iter()
            .flatten()
            {
                let dt = d.and_time(t);
                assert_eq!(
                    iso_datetime(dt, ' '),
                    dt.format("%Y-%m-%d %H:%M:%S").to_string()
                );
                assert_eq!(
                    iso_datetime(dt, 'T'),
                    dt.format("%Y-%m-%dT%H:%M:%S").to_string()
                );
            }
        }
    }
}
