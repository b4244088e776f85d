//! A plant no profile knows (PLANT_D): a metric daily log whose headers
//! the proposal cannot place entirely (the effluent is "Outfall flow" and
//! the influent "Inflow", words it does not take for either), with its
//! lab rows under the default sampling points. The mapping view's browser
//! test and its core tests read these bytes; nothing in `data/` uses them.

use chrono::NaiveDate;

use crate::builders::{lab_pair, lab_table, Grid, GridCell};
use crate::dates::plus_days;

pub const PLANT: &str = "PLANT_D";
pub const WORKBOOK: &str = "PLANT_D-ops log May 2025.xlsx";
pub const LAB: &str = "calcium_PLANT_D_2025-05.csv";
pub const DAYS: u32 = 8;
/// 0-based row of the header, below a title and a blank row.
pub const HEADER_ROW: u32 = 2;
pub const HEADER: [&str; 5] = [
    "Day",
    "Inflow (ML/d)",
    "Outfall flow (ML/d)",
    "Rain (mm)",
    "Notes",
];

pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 5, 1).unwrap_or_default()
}

/// Day `i`'s outfall (effluent) flow in ML/d.
pub fn outfall(i: u32) -> f64 {
    40.0 + 0.5 * f64::from(i)
}

/// The log: date cells, numbers, a `Total` row after a blank row.
pub fn workbook() -> Vec<u8> {
    let mut g = Grid::new("Ops")
        .row(0, &["Lakeside WWTP operations"])
        .row(HEADER_ROW, &HEADER);
    let mut total = 0.0;
    for i in 0..DAYS {
        let r = HEADER_ROW + 1 + i;
        g = g
            .set(r, 0, GridCell::Date(plus_days(first_day(), i64::from(i))))
            .set(r, 1, GridCell::Number(outfall(i) + 1.0))
            .set(r, 2, GridCell::Number(outfall(i)))
            .set(r, 3, GridCell::Number(f64::from(i % 3)));
        total += outfall(i);
    }
    g.row(HEADER_ROW + DAYS + 2, &["Total", "", &total.to_string()])
        .xlsx()
}

/// Calcium upstream 40 and downstream 52 mg/L every day of the log.
pub fn lab() -> Vec<u8> {
    let rows = (0..DAYS)
        .flat_map(|i| lab_pair(PLANT, plus_days(first_day(), i64::from(i)), 40.0, 52.0))
        .collect();
    lab_table(rows).to_text(',').into_bytes()
}
