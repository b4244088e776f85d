//! Plant B monthly operating reports (FORMATS.md section 4): one `.xlsx`
//! per report, report periods overlapping.
//!
//! A report is planned first (`plan`), then each day's values are drawn
//! from a stream of their own, so the same day shows the same numbers in
//! every report that covers it, except where the real reports differ:
//!
//! - the last day of every report is incomplete (influent blank, effluent
//!   formula cached `0`); the next report has the real value;
//! - one day in the middle of the longest stretch covered by one report
//!   only is incomplete too (lab columns filled), and nothing fixes it;
//! - reports 1, 7, 13... revise a day of the report before (9.163 before,
//!   9.194 after, for the first such day);
//! - reports 2, 6... carry a `<2*` footnote, reports 4, 8... a `311*` one;
//! - reports 3, 9... have two extra preamble rows, pushing the header down.
//!
//! The periods follow the real sequence (03/21-04/11, 04/04-04/25,
//! 04/18-05/23, 05/16-06/07, 05/30-06/23, 06/13-07/11 for Q2 2025): a new
//! report starts on a Friday two weeks (sometimes four) after the previous
//! one started, and runs three to five weeks.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, Formula, Workbook, Worksheet};

use super::builders::month_name;
use super::dates::{
    days_between, excel_serial, is_weekend, plus_days, us_date, us_time_12h, xlsx_datetime,
};
use super::error::xlsx_err;
use super::numfmt::round_to;
use super::plant_b_columns::{Kind, COLUMNS, EFF_CBOD, FNEQ, INF_CBOD, INF_FLOW, UNNUMBERED};
use super::rng::Rng;
use super::{SampleError, SampleFile, SampleOptions};

const SHEET: &str = "SHT-S1 DMR SUM";

/// Report lengths and the step to the next report's start, in days, by
/// report index modulo 6 (the pattern of the real Q2 2025 reports).
const LENGTHS: [i64; 6] = [21, 21, 35, 22, 24, 28];
const STEPS: [i64; 6] = [14, 14, 28, 14, 14, 14];
/// Generation times of day (h, m, s) by report index modulo 6.
const GENERATED_AT: [(u32, u32, u32); 6] = [
    (15, 42, 17),
    (17, 11, 2),
    (16, 5, 48),
    (11, 20, 31),
    (14, 58, 9),
    (16, 47, 55),
];
/// Last row of the used range by report index modulo 6.
const TAG_ROWS: [u32; 6] = [137, 250, 388, 512, 731, 1000];

/// The first revised day's values, before and after (FORMATS.md).
const REVISED_OLD: f64 = 9.163;
const REVISED_NEW: f64 = 9.194;

pub(crate) struct Report {
    pub(crate) index: usize,
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
    generated: NaiveDateTime,
    /// Extra preamble rows above the header block.
    shift: u32,
    tag_row: u32,
}

impl Report {
    pub(crate) fn file_name(&self) -> String {
        format!(
            "PLANT_B-MPOR_Crew_{}to{}.xlsx",
            self.start.format("%m%d%Y"),
            self.end.format("%m%d%Y")
        )
    }
}

struct Footnote {
    report: usize,
    date: NaiveDate,
    column: usize,
    text_value: &'static str,
    note: String,
}

struct Plan {
    reports: Vec<Report>,
    /// (day, index of the first report showing the new value).
    revised: Vec<(NaiveDate, usize)>,
    mid_placeholder: Option<NaiveDate>,
    footnotes: Vec<Footnote>,
}

fn friday_on_or_before(mut d: NaiveDate) -> NaiveDate {
    while d.weekday() != Weekday::Fri {
        d = plus_days(d, -1);
    }
    d
}

fn plan(opts: &SampleOptions) -> Plan {
    let span_end = opts.end();
    let mut reports = Vec::new();
    let mut start = friday_on_or_before(plus_days(opts.start, -11));
    loop {
        let i = reports.len();
        let end = plus_days(start, LENGTHS[i % 6]);
        let (h, m, s) = GENERATED_AT[i % 6];
        reports.push(Report {
            index: i,
            start,
            end,
            generated: end.and_hms_opt(h, m, s).unwrap_or_default(),
            shift: if i % 6 == 3 { 2 } else { 0 },
            tag_row: TAG_ROWS[i % 6],
        });
        if end >= span_end {
            break;
        }
        start = plus_days(start, STEPS[i % 6]);
    }

    let mut revised = Vec::new();
    for r in reports.iter().skip(1).filter(|r| r.index % 6 == 1) {
        let day = plus_days(reports[r.index - 1].end, -3);
        if day >= r.start && day < r.end {
            revised.push((day, r.index));
        }
    }

    let mut footnotes = Vec::new();
    for r in reports.iter().filter(|r| r.index > 0) {
        if r.index % 4 == 2 {
            let date = plus_days(r.start, 12);
            footnotes.push(Footnote {
                report: r.index,
                date,
                column: EFF_CBOD,
                text_value: "<2*",
                note: format!(
                    "{} *<2 CBOD FE1 Dilution water blank depletion exceeded 0.2 mg/L; \
                     result is below the reporting limit and is reported as an estimate.",
                    date.format("%m/%d/%Y")
                ),
            });
        } else if r.index % 4 == 0 {
            let date = plus_days(r.start, 9);
            footnotes.push(Footnote {
                report: r.index,
                date,
                column: INF_CBOD,
                text_value: "311*",
                note: format!(
                    "{} *311 CBOD IA1 Quality control data outside of acceptance limits; \
                     seed correction outside the method range, result reported as an estimate. \
                     Re-analysis not possible (holding time exceeded).",
                    date.format("%m/%d/%Y")
                ),
            });
        }
    }

    let mid_placeholder = longest_single_coverage_middle(&reports);
    Plan {
        reports,
        revised,
        mid_placeholder,
        footnotes,
    }
}

/// The middle day of the longest run of days that only one report covers.
fn longest_single_coverage_middle(reports: &[Report]) -> Option<NaiveDate> {
    let first = reports.first()?.start;
    let last = reports.iter().map(|r| r.end).max()?;
    let mut best: Option<(NaiveDate, i64)> = None;
    let mut run: Option<(NaiveDate, i64)> = None;
    for d in days_between(first, last) {
        let n = reports
            .iter()
            .filter(|r| r.start <= d && d <= r.end)
            .count();
        if n == 1 {
            let (s, len) = run.unwrap_or((d, 0));
            run = Some((s, len + 1));
        } else {
            run = None;
        }
        if let Some((s, len)) = run {
            if best.is_none_or(|(_, b)| len > b) {
                best = Some((s, len));
            }
        }
    }
    best.map(|(s, len)| plus_days(s, len / 2))
}

/// A data cell of the report.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Num(f64),
    Text(&'static str),
    Blank,
}

/// One day's values as the plant knows them once complete: `cells[n]` is
/// column n (index 0, the date, unused).
struct Day {
    inflow: f64,
    cells: Vec<Cell>,
}

fn day_values(opts: &SampleOptions, plan: &Plan, date: NaiveDate) -> Day {
    let mut rng = Rng::stream(opts.seed, &format!("plant_b/{date}"));
    let mut inflow = round_to((9.15 + 0.42 * rng.gauss()).clamp(7.9, 10.6), 3);
    if plan.revised.first().is_some_and(|(d, _)| *d == date) {
        inflow = REVISED_NEW;
    }
    let weekend = is_weekend(date);
    let mut cells = vec![Cell::Blank; COLUMNS.len() + 1];
    for (i, col) in COLUMNS.iter().enumerate() {
        let g = rng.gauss();
        let u = rng.unit();
        cells[i + 1] = match col.kind {
            Kind::InfFlow | Kind::EffFlow => Cell::Num(inflow),
            Kind::Fneq => Cell::Num(round_to(inflow * (0.955 + 0.03 * u), 3)),
            Kind::Daily(m, sd, dec) => Cell::Num(round_to((m + sd * g).max(0.0), dec)),
            Kind::Lab(..) if weekend => Cell::Blank,
            Kind::Lab(m, sd, dec, below) => {
                let v = round_to((m + sd * g).max(0.0), dec);
                match below {
                    Some((limit, text)) if v < limit => Cell::Text(text),
                    _ => Cell::Num(v),
                }
            }
            // Loads need the concentrations, filled in below.
            Kind::Load(_) => Cell::Blank,
            Kind::PerFlow(k, dec) => Cell::Num(round_to(k * inflow * (0.97 + 0.06 * u), dec)),
            Kind::Rain if u < 0.8 => Cell::Num(0.0),
            Kind::Rain => Cell::Num(round_to(0.01 + 1.2 * rng.unit(), 2)),
        };
    }
    for (i, col) in COLUMNS.iter().enumerate() {
        if let Kind::Load(src) = col.kind {
            if let Some(Cell::Num(conc)) = cells.get(src) {
                cells[i + 1] = Cell::Num(round_to(conc * inflow * 3.785, 1));
            }
        }
    }
    Day { inflow, cells }
}

/// Excel column letters for a 0-based column.
fn col_name(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// Writes one report. Rows and columns below are 0-based (row r is Excel
/// row r + 1).
fn write_report(opts: &SampleOptions, plan: &Plan, r: &Report) -> Result<Vec<u8>, SampleError> {
    let name = r.file_name();
    let err = xlsx_err(&name);
    let mut wb = Workbook::new();
    let created = xlsx_datetime(r.generated).map_err(&err)?;
    wb.set_properties(
        &DocProperties::new()
            .set_author("Plant B SCADA Reports")
            .set_title("SHT-S1 DMR SUM")
            .set_creation_datetime(&created),
    );
    let ws = wb.add_worksheet();
    ws.set_name(SHEET).map_err(&err)?;
    let header_fmt = Format::new().set_bold().set_align(FormatAlign::Center);
    let date_fmt = Format::new().set_num_format("ddd\\-dd");
    let flow_fmt = Format::new().set_num_format("0.000");

    // Preamble, column A.
    ws.write_string(1, 0, "PLANT_B").map_err(&err)?;
    let month = month_name(r.end.month());
    ws.write_string(2, 0, format!("{month}, {}", r.end.year()))
        .map_err(&err)?;
    let generated = format!(
        "{} {}",
        us_date(r.generated.date()),
        us_time_12h(r.generated.time().num_seconds_from_midnight())
    );
    ws.write_string(3, 0, generated).map_err(&err)?;
    if r.shift > 0 {
        ws.write_string(5, 0, "OUTFALL 001 - MONTHLY OPERATING REPORT")
            .map_err(&err)?;
    }

    // The seven header rows.
    let h0 = 5 + r.shift;
    for (i, col) in COLUMNS.iter().enumerate() {
        let n = i + 1;
        let c = n as u16;
        if !col.group.is_empty() {
            ws.write_string_with_format(h0, c, col.group, &header_fmt)
                .map_err(&err)?;
        }
        if !UNNUMBERED.contains(&n) {
            ws.write_number(h0 + 1, c, n as f64).map_err(&err)?;
        }
        for (k, label) in col.labels.iter().enumerate() {
            if !label.is_empty() {
                ws.write_string_with_format(h0 + 2 + k as u32, c, *label, &header_fmt)
                    .map_err(&err)?;
            }
        }
    }
    ws.write_string_with_format(h0 + 2, 0, "DATE", &header_fmt)
        .map_err(&err)?;

    // The days.
    let first_row = h0 + 7;
    let days: Vec<NaiveDate> = days_between(r.start, r.end).collect();
    let mut numbers: Vec<Vec<f64>> = vec![Vec::new(); COLUMNS.len() + 1];
    for (k, &date) in days.iter().enumerate() {
        let row = first_row + k as u32;
        let day = day_values(opts, plan, date);
        let last = date == r.end;
        let placeholder = last || plan.mid_placeholder == Some(date);
        let stale = plan
            .revised
            .iter()
            .any(|(d, by)| *d == date && r.index < *by);
        let inflow = if stale {
            if plan.revised.first().is_some_and(|(d, _)| *d == date) {
                REVISED_OLD
            } else {
                round_to(day.inflow - 0.031, 3)
            }
        } else {
            day.inflow
        };
        let serial = excel_serial(date);
        ws.write_formula_with_format(
            row,
            0,
            Formula::new(format!(
                "=DATE({},{},{})",
                date.year(),
                date.month(),
                date.day()
            ))
            .set_result(format!("{serial}")),
            &date_fmt,
        )
        .map_err(&err)?;
        for (i, col) in COLUMNS.iter().enumerate() {
            let n = i + 1;
            let c = n as u16;
            let mut cell = match col.kind {
                Kind::InfFlow if placeholder => Cell::Blank,
                Kind::InfFlow => Cell::Num(inflow),
                Kind::EffFlow => {
                    // The defined name does not exist in the workbook: only
                    // the cached value (the influent flow, or 0 when the
                    // day is incomplete) is usable.
                    let cached = if placeholder { 0.0 } else { inflow };
                    ws.write_formula_with_format(
                        row,
                        c,
                        Formula::new(format!("=INDEX(EFF_FLOW_TOTAL,{})", k + 1))
                            .set_result(format!("{cached}")),
                        &flow_fmt,
                    )
                    .map_err(&err)?;
                    numbers[n].push(cached);
                    continue;
                }
                Kind::Fneq | Kind::Load(_) | Kind::PerFlow(..) if placeholder => Cell::Blank,
                Kind::Lab(..) if last => Cell::Blank,
                _ => day.cells[n].clone(),
            };
            if let Some(f) = plan
                .footnotes
                .iter()
                .find(|f| f.report == r.index && f.date == date && f.column == n)
            {
                cell = Cell::Text(f.text_value);
            }
            match cell {
                Cell::Num(v) => {
                    if n == INF_FLOW || n == FNEQ {
                        ws.write_number_with_format(row, c, v, &flow_fmt)
                    } else {
                        ws.write_number(row, c, v)
                    }
                    .map_err(&err)?;
                    numbers[n].push(v);
                }
                Cell::Text(t) => {
                    ws.write_string(row, c, t).map_err(&err)?;
                }
                Cell::Blank => {}
            }
        }
    }
    let last_row = first_row + days.len() as u32 - 1;

    // Two empty rows, then the summary formulas with their cached values.
    let summary = last_row + 3;
    let stats: [(&str, &str); 4] = [
        ("TOTAL", "SUM"),
        ("MAX", "MAX"),
        ("MIN", "MIN"),
        ("AVG", "AVERAGE"),
    ];
    for (k, (label, func)) in stats.iter().enumerate() {
        let row = summary + k as u32;
        ws.write_string(row, 0, *label).map_err(&err)?;
        for (n, values) in numbers.iter().enumerate().skip(1) {
            let letter = col_name(n);
            let result = summary_value(func, values);
            ws.write_formula(
                row,
                n as u16,
                Formula::new(format!(
                    "={func}({letter}{}:{letter}{})",
                    first_row + 1,
                    last_row + 1
                ))
                .set_result(result),
            )
            .map_err(&err)?;
        }
    }

    // Footnotes, if any, below a blank row.
    let mut row = summary + 5;
    let notes: Vec<&Footnote> = plan
        .footnotes
        .iter()
        .filter(|f| f.report == r.index)
        .collect();
    for f in &notes {
        ws.write_string(row, 0, &f.note).map_err(&err)?;
        row += 1;
    }
    if !notes.is_empty() {
        ws.write_string(
            row,
            0,
            "< = less than the method reporting limit; * = see footnote above. \
             Values are daily composites unless noted otherwise.",
        )
        .map_err(&err)?;
        row += 1;
    }

    // The tag codes, on the last row of the used range.
    let tag_row = (r.tag_row - 1).max(row + 20);
    for (i, col) in COLUMNS.iter().enumerate() {
        ws.write_string(tag_row, (i + 1) as u16, col.tag)
            .map_err(&err)?;
    }

    layout(ws, first_row).map_err(&err)?;
    wb.save_to_buffer().map_err(&err)
}

fn layout(ws: &mut Worksheet, first_row: u32) -> Result<(), rust_xlsxwriter::XlsxError> {
    ws.set_column_width(0, 10)?;
    ws.set_column_range_width(1, COLUMNS.len() as u16, 8.5)?;
    ws.set_freeze_panes(first_row, 1)?;
    Ok(())
}

/// What Excel caches for SUM/MAX/MIN/AVERAGE over the numeric cells (text
/// and blanks ignored; AVERAGE of nothing is `#DIV/0!`).
fn summary_value(func: &str, values: &[f64]) -> String {
    if values.is_empty() {
        return if func == "AVERAGE" { "#DIV/0!" } else { "0" }.to_string();
    }
    let sum: f64 = values.iter().sum();
    let v = match func {
        "MAX" => values.iter().copied().fold(f64::MIN, f64::max),
        "MIN" => values.iter().copied().fold(f64::MAX, f64::min),
        "AVERAGE" => sum / values.len() as f64,
        _ => sum,
    };
    format!("{v}")
}

/// Every report of the plan.
pub(crate) fn generate(opts: &SampleOptions) -> Result<Vec<SampleFile>, SampleError> {
    let plan = plan(opts);
    plan.reports
        .iter()
        .map(|r| {
            Ok(SampleFile {
                name: r.file_name(),
                bytes: write_report(opts, &plan, r)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SampleOptions;

    #[test]
    fn committed_periods_are_the_real_ones() {
        let plan = plan(&SampleOptions::committed());
        let names: Vec<String> = plan.reports.iter().map(Report::file_name).collect();
        assert_eq!(
            names,
            [
                "PLANT_B-MPOR_Crew_03212025to04112025.xlsx",
                "PLANT_B-MPOR_Crew_04042025to04252025.xlsx",
                "PLANT_B-MPOR_Crew_04182025to05232025.xlsx",
                "PLANT_B-MPOR_Crew_05162025to06072025.xlsx",
                "PLANT_B-MPOR_Crew_05302025to06232025.xlsx",
                "PLANT_B-MPOR_Crew_06132025to07112025.xlsx",
            ]
        );
        let rows: i64 = plan
            .reports
            .iter()
            .map(|r| (r.end - r.start).num_days() + 1)
            .sum();
        assert_eq!(rows, 157);
        let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        assert_eq!(plan.revised, vec![(d(4, 8), 1)]);
        assert_eq!(plan.mid_placeholder, Some(d(5, 6)));
        let notes: Vec<(usize, NaiveDate)> =
            plan.footnotes.iter().map(|f| (f.report, f.date)).collect();
        assert_eq!(notes, vec![(2, d(4, 30)), (4, d(6, 8))]);
    }

    #[test]
    fn column_letters() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(7), "H");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(97), "CT");
    }
}
