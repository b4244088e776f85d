//! PLANT_C, the metric plant read through a plant profile (PROFILES.md):
//! a daily log in m³/day and mm under a title block, as a workbook for all
//! months but the last and a CSV for the last, its profile, and its own
//! lab CSV whose sampling points are named as the profile's `[lab]` says.
//!
//! The numbers follow simple closed forms of the day index (no random
//! stream) so data/README.md can state them and a reader can check them by
//! hand.

use chrono::{Datelike, NaiveDate};

use crate::builders::{lab_row, lab_table, Grid, GridCell};
use crate::dates::{days_between, month_start, plus_days};
use crate::{SampleError, SampleFile, SampleOptions};

/// The profile written beside the files (the same text the tests check
/// the proposal against).
pub const PROFILE: &str = include_str!("../profiles/PLANT_C.toml");

pub const UPSTREAM: &str = "influent_channel";
pub const DOWNSTREAM: &str = "final_effluent";

const HEADER: [&str; 9] = [
    "Date",
    "Influent flow (m3/d)",
    "Final effluent flow (m3/d)",
    "Peak effluent flow (m3/d)",
    "Bypass flow (m3/d)",
    "Bypass hours",
    "Rainfall (mm)",
    "Air temp (°C)",
    "Operator notes",
];
/// 0-based row of the header (a title, a units line and a blank row above).
const HEADER_ROW: u32 = 3;

/// One day of the log, by its index `i` from the period's first day.
pub struct CDay {
    pub date: NaiveDate,
    pub influent: f64,
    pub effluent: f64,
    pub peak: f64,
    pub bypass: f64,
    pub bypass_hours: f64,
    pub rain_mm: f64,
    pub air_c: f64,
}

pub fn day(first: NaiveDate, i: u32) -> CDay {
    let date = plus_days(first, i64::from(i));
    let effluent = 30_000.0 + 250.0 * f64::from((i * 7) % 13);
    let storm = date.day() == 10;
    CDay {
        date,
        influent: effluent + 600.0,
        effluent,
        peak: effluent + 4_000.0 + 100.0 * f64::from(i % 5),
        bypass: if storm { 1_500.0 } else { 0.0 },
        bypass_hours: if storm { 3.5 } else { 0.0 },
        rain_mm: if i.is_multiple_of(6) {
            2.5 * f64::from((i / 6) % 4 + 1)
        } else {
            0.0
        },
        air_c: 12.0 + f64::from(i % 9),
    }
}

/// Upstream and downstream calcium (mg/L) of day `i`; no downstream
/// sample every tenth day (a missing partner).
pub fn calcium(i: u32) -> (f64, Option<f64>) {
    let up = 38.0 + 0.5 * f64::from(i % 6);
    let down = up + 2.0 + 0.25 * f64::from(i % 4);
    (up, (i % 10 != 9).then_some(down))
}

/// The day whose influent meter reads `OFFLINE` in the workbook.
pub const OFFLINE_DAY: u32 = 11;

fn values(d: &CDay) -> [f64; 7] {
    [
        d.influent,
        d.effluent,
        d.peak,
        d.bypass,
        d.bypass_hours,
        d.rain_mm,
        d.air_c,
    ]
}

fn title(g: Grid) -> Grid {
    g.row(0, &["Riverside WRF daily operations log"])
        .row(1, &["Units: metric (m3/d, mm)"])
        .row(HEADER_ROW, &HEADER)
}

/// The workbook: number cells, date cells, one `OFFLINE` influent.
fn workbook(days: &[(u32, CDay)]) -> Vec<u8> {
    let mut g = title(Grid::new("Daily Log"));
    let mut row = HEADER_ROW + 1;
    for (i, d) in days {
        g = g.set(row, 0, GridCell::Date(d.date));
        for (c, v) in values(d).iter().enumerate() {
            let cell = if c == 0 && *i == OFFLINE_DAY {
                GridCell::Text("OFFLINE".into())
            } else {
                GridCell::Number(*v)
            };
            g = g.set(row, c as u16 + 1, cell);
        }
        row += 1;
    }
    trailer(g, row + 1, days).xlsx()
}

/// `Total` and `Average` rows of the effluent flow, after a blank row.
fn trailer(g: Grid, row: u32, days: &[(u32, CDay)]) -> Grid {
    let total: f64 = days.iter().map(|(_, d)| d.effluent).sum();
    let n = days.len().max(1) as f64;
    g.row(row, &["Total", "", &format!("{total}")])
        .row(row + 1, &["Average", "", &format!("{}", total / n)])
}

/// Thousands separators, as the plant's CSV export writes flows.
fn thousands(v: f64) -> String {
    let whole = v.trunc() as i64;
    let frac = v - whole as f64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if frac != 0.0 {
        let f = format!("{frac}");
        out.push_str(f.trim_start_matches('0'));
    }
    out
}

/// The CSV: ISO dates, flows as text with thousands separators.
fn csv(days: &[(u32, CDay)]) -> Vec<u8> {
    let mut g = title(Grid::new("x"));
    let mut row = HEADER_ROW + 1;
    for (_, d) in days {
        let iso = d.date.format("%Y-%m-%d").to_string();
        let v = values(d);
        let texts: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(c, x)| if c < 4 { thousands(*x) } else { format!("{x}") })
            .collect();
        let mut cells: Vec<&str> = vec![iso.as_str()];
        cells.extend(texts.iter().map(String::as_str));
        g = g.row(row, &cells);
        row += 1;
    }
    trailer(g, row + 1, days).csv().into_bytes()
}

fn lab(first: NaiveDate, n: u32) -> Vec<u8> {
    let mut rows = Vec::new();
    for i in 0..n {
        let date = plus_days(first, i64::from(i));
        let (up, down) = calcium(i);
        rows.push(lab_row("PLANT_C", UPSTREAM, date, 1, &format!("{up}")));
        if let Some(down) = down {
            rows.push(lab_row("PLANT_C", DOWNSTREAM, date, 1, &format!("{down}")));
        }
    }
    lab_table(rows).to_text(',').into_bytes()
}

pub fn generate(opts: &SampleOptions) -> Result<Vec<SampleFile>, SampleError> {
    let first = opts.start;
    let end = opts.end();
    let last_month = month_start(first, opts.months.saturating_sub(1));
    let all: Vec<(u32, CDay)> = days_between(first, end)
        .enumerate()
        .map(|(i, _)| (i as u32, day(first, i as u32)))
        .collect();
    let n = all.len() as u32;
    type Days = Vec<(u32, CDay)>;
    let (book, tail): (Days, Days) = all.into_iter().partition(|(_, d)| d.date < last_month);
    let ym = |d: NaiveDate| d.format("%Y-%m").to_string();
    let mut files = vec![
        SampleFile {
            name: "PLANT_C-profile.toml".into(),
            bytes: PROFILE.as_bytes().to_vec(),
        },
        SampleFile {
            name: format!("PLANT_C-daily_log_{}.csv", ym(last_month)),
            bytes: csv(&tail),
        },
        SampleFile {
            name: format!("calcium_lab_results_PLANT_C_{}.csv", ym(first)),
            bytes: lab(first, n),
        },
    ];
    if !book.is_empty() {
        let last = plus_days(last_month, -1);
        files.push(SampleFile {
            name: format!("PLANT_C-daily_log_{}_{}.xlsx", ym(first), ym(last)),
            bytes: workbook(&book),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(31_250.0), "31,250");
        assert_eq!(thousands(600.0), "600");
        assert_eq!(thousands(1_234_567.5), "1,234,567.5");
    }

    #[test]
    fn csv_quotes_the_separators() {
        assert_eq!(crate::builders::csv_line(&["31,250"], ','), "\"31,250\"\n");
    }
}
