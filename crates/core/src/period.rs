//! The period report: one row per calendar month (or quarter) and plant, the
//! table a manager shares. Its CO2 figures are the daily table's, summed in
//! the same order as `co2_removal.csv` lists them (plant, then date), so a
//! spreadsheet summing that file's VALID rows per month gets the same bits.
//! The page, the worker and `crew-mrv report` all take the table from here.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::export::{Cells, Csv};
use crate::method::uncertainty::plant_period;
use crate::model::{Co2Day, DayReviewStatus, Flag, Text};
use crate::report::{Filter, Report};
use crate::timestamp::day_label;

/// How days are grouped into periods.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    #[default]
    Month,
    Quarter,
}

impl Period {
    pub const ALL: [Period; 2] = [Period::Month, Period::Quarter];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The first day of the period holding `d`.
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        let month = match self {
            Period::Month => d.month(),
            Period::Quarter => (d.month0() / 3) * 3 + 1,
        };
        // Day 1 of a month of a valid year always exists.
        NaiveDate::from_ymd_opt(d.year(), month, 1).unwrap_or(d)
    }

    /// The last day of the period that starts on `start`.
    pub fn end_of(self, start: NaiveDate) -> NaiveDate {
        let months = match self {
            Period::Month => 1,
            Period::Quarter => 3,
        };
        start
            .checked_add_months(chrono::Months::new(months))
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// `2025-04` or `2025-Q2`: sorts as the periods do.
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Period::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Period::Quarter => format!("{:04}-Q{}", start.year(), start.month0() / 3 + 1),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One plant over one period (clipped to the filter's dates).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodRow {
    /// `2025-04` or `2025-Q2`.
    pub period: String,
    pub plant_id: Text,
    /// The days the row covers: the period cut to the filter's dates, so a
    /// quarter the range starts in the middle of is not counted as whole.
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Calendar days from `first` to `last`: the days the plant should have.
    pub calendar_days: u32,
    /// Plant-days in the daily table (a calendar day the files never name
    /// is not one).
    pub plant_days: u32,
    /// Plant-days by quality flag, every flag listed.
    pub days_by_flag: BTreeMap<Flag, u32>,
    /// VALID plant-days with a CO2 figure: the days the totals add up.
    pub calculated_days: u32,
    /// `calculated_days` as a percentage of `calendar_days`.
    pub coverage_percent: f64,
    /// Plant-days an expert approved or rejected on their current inputs.
    pub reviewed_days: u32,
    /// `reviewed_days` as a percentage of `plant_days`.
    pub reviewed_percent: f64,
    /// CO2 over VALID days, metric tons.
    pub co2_valid_t: f64,
    /// CO2 over certified days (VALID and approved), metric tons.
    pub co2_certified_t: f64,
    /// METHOD §7's conservative total of the row's VALID days, metric tons.
    pub co2_conservative_t: f64,
}

/// The whole table, with what a reader of a printed copy needs to trust it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodReport {
    pub by: Period,
    pub method_version: String,
    /// The dates the rows cover: the filter's, or the daily table's span.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub plants: Vec<Text>,
    /// Sorted by period, then plant.
    pub rows: Vec<PeriodRow>,
    /// Each plant's VALID total day by day, in date order: the cumulative
    /// chart's points.
    pub cumulative: Vec<(Text, Vec<(NaiveDate, f64)>)>,
    /// The files the figures come from: (name, SHA-256), duplicates left
    /// out as they count nothing.
    pub inputs: Vec<(String, String)>,
}

/// The period table of the days under `filter` (its flags are ignored: the
/// report counts every flag).
pub fn period_report(report: &Report, filter: &Filter, by: Period) -> PeriodReport {
    let scope = Filter {
        flags: None,
        ..filter.clone()
    };
    let span = report.days(&scope).fold(None, |acc, d| match acc {
        None => Some((d.date, d.date)),
        Some((a, b)) => Some((d.date.min(a), d.date.max(b))),
    });
    let from = filter.from.or(span.map(|s| s.0));
    let to = filter.to.or(span.map(|s| s.1));
    // `report.co2` is sorted by plant then date, so each group's days come
    // in co2_removal.csv's order and its sums match a sum of that file.
    let mut groups: BTreeMap<(NaiveDate, Text), Vec<&Co2Day>> = BTreeMap::new();
    for d in report.days(&scope) {
        groups
            .entry((by.start_of(d.date), d.plant_id.clone()))
            .or_default()
            .push(d);
    }
    let s = &report.uncertainty;
    let rows = groups
        .into_iter()
        .map(|((start, plant), days)| {
            let first = from.map_or(start, |f| f.max(start));
            let end = by.end_of(start);
            let last = to.map_or(end, |t| t.min(end));
            row(by, start, first, last, plant, &days, s)
        })
        .collect();
    let mut plants: Vec<Text> = report.days(&scope).map(|d| d.plant_id.clone()).collect();
    plants.dedup();
    let cumulative = plants
        .iter()
        .map(|p| {
            let mut sum = 0.0;
            let points = report
                .days(&scope)
                .filter(|d| d.plant_id == *p && d.quality_flag == Flag::Valid)
                .filter_map(|d| {
                    let c = d.calc?;
                    sum += c.co2_removed_metric_tons_per_day;
                    Some((d.date, sum))
                })
                .collect();
            (p.clone(), points)
        })
        .collect();
    PeriodReport {
        by,
        method_version: report.method_version.clone(),
        from,
        to,
        plants,
        rows,
        cumulative,
        inputs: report
            .active_files()
            .map(|f| (f.name.to_string(), f.sha256.to_string()))
            .collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    by: Period,
    start: NaiveDate,
    first: NaiveDate,
    last: NaiveDate,
    plant_id: Text,
    days: &[&Co2Day],
    s: &crate::method::uncertainty::UncertaintySettings,
) -> PeriodRow {
    let mut by_flag: BTreeMap<Flag, u32> = Flag::ALL.iter().map(|f| (*f, 0)).collect();
    let mut calculated = 0u32;
    let mut reviewed = 0u32;
    let mut valid_t = 0.0;
    let mut certified_t = 0.0;
    for d in days {
        *by_flag.entry(d.quality_flag).or_insert(0) += 1;
        if matches!(
            d.review.status,
            DayReviewStatus::Approved | DayReviewStatus::Rejected
        ) {
            reviewed += 1;
        }
        if let (Flag::Valid, Some(c)) = (d.quality_flag, d.calc) {
            calculated += 1;
            valid_t += c.co2_removed_metric_tons_per_day;
            if d.is_certified() {
                certified_t += c.co2_removed_metric_tons_per_day;
            }
        }
    }
    let calendar_days = u32::try_from((last - first).num_days() + 1).unwrap_or(0);
    let plant_days = days.len() as u32;
    let percent = |n: u32, of: u32| {
        if of == 0 {
            0.0
        } else {
            f64::from(n) * 100.0 / f64::from(of)
        }
    };
    let conservative =
        plant_period(days.iter().copied(), s.u_flow(&plant_id), s.confidence).conservative_t;
    PeriodRow {
        period: by.label(start),
        plant_id,
        first,
        last,
        calendar_days,
        plant_days,
        days_by_flag: by_flag,
        calculated_days: calculated,
        coverage_percent: percent(calculated, calendar_days),
        reviewed_days: reviewed,
        reviewed_percent: percent(reviewed, plant_days),
        co2_valid_t: valid_t,
        co2_certified_t: certified_t,
        co2_conservative_t: conservative,
    }
}

pub const PERIOD_COLUMNS: [&str; 18] = [
    "period",
    "plant_id",
    "first_date",
    "last_date",
    "calendar_days",
    "plant_days",
    "valid_days",
    "invalid_days",
    "missing_ca_readings_days",
    "invalid_flow_days",
    "no_ops_data_days",
    "calculated_days",
    "coverage_percent",
    "reviewed_days",
    "reviewed_percent",
    "co2_valid_t",
    "co2_certified_t",
    "co2_conservative_t",
];

/// `period_report_month.csv`: the rows of [`period_report`], in the CSV
/// rules of the other outputs (plant ids quoted as text from a file).
pub fn write_period_csv(
    report: &Report,
    filter: &Filter,
    by: Period,
    w: &mut dyn Write,
) -> io::Result<()> {
    let table = period_report(report, filter, by);
    let mut l = Csv::new(w, &PERIOD_COLUMNS)?;
    for r in &table.rows {
        let flag = |f: Flag| Some(u64::from(r.days_by_flag.get(&f).copied().unwrap_or(0)));
        l.ours(&r.period)
            .theirs(&r.plant_id)
            .date(Some(r.first))
            .date(Some(r.last))
            .int(Some(u64::from(r.calendar_days)))
            .int(Some(u64::from(r.plant_days)))
            .int(flag(Flag::Valid))
            .int(flag(Flag::Invalid))
            .int(flag(Flag::MissingCaReadings))
            .int(flag(Flag::InvalidFlow))
            .int(flag(Flag::NoOpsData))
            .int(Some(u64::from(r.calculated_days)))
            .num(Some(r.coverage_percent))
            .int(Some(u64::from(r.reviewed_days)))
            .num(Some(r.reviewed_percent))
            .num(Some(r.co2_valid_t))
            .num(Some(r.co2_certified_t))
            .num(Some(r.co2_conservative_t));
        l.end()?;
    }
    Ok(())
}

/// `1 Apr – 30 Jun 2025`, or `21 Mar 2025 – 11 Jul 2026` across years:
/// the range a total covers, said where the total is.
pub fn range_label(from: NaiveDate, to: NaiveDate) -> String {
    let from = day_label(from, from.year() != to.year());
    format!("{from} – {}", day_label(to, true))
}

/// What a filter's dates do to the totals beside them, in words: `1 Apr –
/// 30 Jun 2025, 2 plants; 39 plant-days outside the range`, or why no day
/// can match (`From 30 Jun 2025 is after To 1 Apr 2025`) so an empty range
/// is refused rather than shown as zeros. `Err` holds the refusal.
pub fn applied_range(report: &Report, filter: &Filter) -> Result<String, String> {
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        if f > t {
            return Err(format!(
                "From {} is after To {}: no day can match. Swap the dates or choose All dates.",
                day_label(f, true),
                day_label(t, true)
            ));
        }
    }
    let plant_only = Filter {
        plant: filter.plant.clone(),
        ..Filter::default()
    };
    let mut outside = 0usize;
    let mut plants: Vec<&str> = Vec::new();
    let mut span: Option<(NaiveDate, NaiveDate)> = None;
    for d in report.days(&plant_only) {
        if filter.covers(&d.plant_id, d.date) {
            if plants.last() != Some(&&*d.plant_id) {
                plants.push(&d.plant_id);
            }
            span = Some(span.map_or((d.date, d.date), |(a, b)| (a.min(d.date), b.max(d.date))));
        } else {
            outside += 1;
        }
    }
    plants.sort_unstable();
    plants.dedup();
    let from = filter.from.or(span.map(|s| s.0));
    let to = filter.to.or(span.map(|s| s.1));
    let range = match (from, to) {
        (Some(a), Some(b)) => range_label(a, b),
        _ => "No days".to_string(),
    };
    let plants = match plants.len() {
        1 => "1 plant".to_string(),
        n => format!("{n} plants"),
    };
    Ok(match outside {
        0 => format!("{range}, {plants}; every plant-day loaded"),
        1 => format!("{range}, {plants}; 1 plant-day outside the range"),
        n => format!("{range}, {plants}; {n} plant-days outside the range"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn day(plant: &str, date: NaiveDate, flag: Flag, t: Option<f64>) -> Co2Day {
        let mut calc = crate::method::co2::calculate(10.0, 40.0, 50.0);
        if let Some(t) = t {
            calc.co2_removed_metric_tons_per_day = t;
        }
        Co2Day {
            plant_id: plant.into(),
            date,
            ca_upstream_mg_per_l: Some(40.0),
            ca_downstream_mg_per_l: Some(50.0),
            flow_mgd: Some(10.0),
            calc: t.map(|_| calc),
            quality_flag: flag,
            validation_message: String::new(),
            ca_upstream_n: 1,
            ca_downstream_n: 1,
            ops_source: None,
            sigma: Default::default(),
            inputs_sha256: String::new(),
            review: Default::default(),
            flow_unit: None,
        }
    }

    fn report(co2: Vec<Co2Day>) -> Report {
        Report {
            method_version: "m".into(),
            replicate_policy: crate::ReplicatePolicy::Mean,
            ambiguous_dates: Default::default(),
            files: Vec::new(),
            plant_operations: Vec::new(),
            co2,
            findings: Vec::new(),
            sensor_days: Vec::new(),
            uncertainty: Default::default(),
            sensitivity: Vec::new(),
            certified_only: false,
        }
    }

    /// Two plants over two months of one quarter: each row counts only its
    /// own plant and month, VALID totals leave other flags out, certified
    /// only approved days, and coverage is over calendar days so a day the
    /// files never name lowers it.
    #[test]
    fn rows_are_month_by_plant_with_flags_coverage_and_review() {
        let mut approved = day("A", d(2025, 4, 2), Flag::Valid, Some(2.0));
        approved.review.status = DayReviewStatus::Approved;
        let mut rejected = day("A", d(2025, 5, 1), Flag::Valid, Some(4.0));
        rejected.review.status = DayReviewStatus::Rejected;
        let r = report(vec![
            day("A", d(2025, 4, 1), Flag::Valid, Some(1.0)),
            approved,
            day("A", d(2025, 4, 3), Flag::Invalid, Some(8.0)),
            day("A", d(2025, 4, 4), Flag::MissingCaReadings, None),
            rejected,
            day("B", d(2025, 4, 30), Flag::Valid, Some(16.0)),
        ]);
        let t = period_report(&r, &Filter::default(), Period::Month);
        let keys: Vec<(&str, &str)> = t.rows.iter().map(|r| (&*r.period, &*r.plant_id)).collect();
        assert_eq!(keys, [("2025-04", "A"), ("2025-04", "B"), ("2025-05", "A")]);
        let a4 = &t.rows[0];
        assert_eq!(a4.co2_valid_t, 3.0);
        assert_eq!(a4.co2_certified_t, 2.0);
        assert_eq!(a4.plant_days, 4);
        assert_eq!(a4.days_by_flag[&Flag::Valid], 2);
        assert_eq!(a4.days_by_flag[&Flag::Invalid], 1);
        assert_eq!(a4.days_by_flag[&Flag::MissingCaReadings], 1);
        assert_eq!(a4.calculated_days, 2);
        assert_eq!(a4.reviewed_days, 1);
        assert_eq!(a4.reviewed_percent, 25.0);
        // The data span is 1 Apr – 1 May, so April is whole: 30 days.
        assert_eq!(
            (a4.first, a4.last, a4.calendar_days),
            (d(2025, 4, 1), d(2025, 4, 30), 30)
        );
        assert_eq!(a4.coverage_percent, 2.0 * 100.0 / 30.0);
        // May is cut at the last day of data.
        let a5 = &t.rows[2];
        assert_eq!(
            (a5.first, a5.last, a5.calendar_days),
            (d(2025, 5, 1), d(2025, 5, 1), 1)
        );
        assert_eq!(
            (a5.co2_valid_t, a5.co2_certified_t, a5.reviewed_days),
            (4.0, 0.0, 1)
        );
        assert_eq!(t.plants, ["A".into(), "B".into()] as [Text; 2]);
        assert_eq!(
            t.cumulative[0].1,
            [
                (d(2025, 4, 1), 1.0),
                (d(2025, 4, 2), 3.0),
                (d(2025, 5, 1), 7.0)
            ]
        );

        let q = period_report(&r, &Filter::default(), Period::Quarter);
        assert_eq!(q.rows.len(), 2);
        assert_eq!(
            (&*q.rows[0].period, q.rows[0].co2_valid_t),
            ("2025-Q2", 7.0)
        );
        assert!(q.rows.iter().all(|r| r.co2_conservative_t <= r.co2_valid_t));
    }

    /// A filter's dates cut the rows and the calendar days; its flags do
    /// not hide days from the counts by flag.
    #[test]
    fn the_filter_range_cuts_rows_and_its_flags_are_ignored() {
        let r = report(vec![
            day("A", d(2025, 3, 31), Flag::Valid, Some(1.0)),
            day("A", d(2025, 4, 10), Flag::Valid, Some(2.0)),
            day("A", d(2025, 4, 11), Flag::Invalid, Some(5.0)),
        ]);
        let f = Filter {
            from: Some(d(2025, 4, 10)),
            to: Some(d(2025, 4, 19)),
            flags: Some([Flag::Valid].into()),
            ..Filter::default()
        };
        let t = period_report(&r, &f, Period::Quarter);
        assert_eq!(t.rows.len(), 1);
        let row = &t.rows[0];
        assert_eq!(
            (row.first, row.last, row.calendar_days),
            (d(2025, 4, 10), d(2025, 4, 19), 10)
        );
        assert_eq!(row.days_by_flag[&Flag::Invalid], 1);
        assert_eq!(row.co2_valid_t, 2.0);
        assert_eq!((t.from, t.to), (Some(d(2025, 4, 10)), Some(d(2025, 4, 19))));
    }

    /// A plant id from a file is quoted and defused like in every CSV.
    #[test]
    fn the_csv_quotes_plant_ids_as_text_from_a_file() {
        let r = report(vec![day(
            "=HYPERLINK(1)",
            d(2025, 4, 1),
            Flag::Valid,
            Some(0.5),
        )]);
        let mut out = Vec::new();
        write_period_csv(&r, &Filter::default(), Period::Month, &mut out).expect("vec");
        let text = String::from_utf8(out).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(PERIOD_COLUMNS.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some(
                "2025-04,\"'=HYPERLINK(1)\",2025-04-01,2025-04-01,1,1,1,0,0,0,0,1,100,0,0,0.5,0,0"
            )
        );
        assert_eq!(lines.next(), None);
    }

    /// Issue 16: the default range hid 16 % of the total without a word,
    /// and From after To gave zeros.
    #[test]
    fn the_applied_range_is_said_and_an_inverted_one_refused() {
        let r = report(vec![
            day("A", d(2025, 3, 31), Flag::Valid, Some(1.0)),
            day("A", d(2025, 4, 10), Flag::Valid, Some(2.0)),
            day("B", d(2025, 4, 11), Flag::Invalid, Some(5.0)),
        ]);
        let f = Filter {
            from: Some(d(2025, 4, 1)),
            to: Some(d(2025, 6, 30)),
            ..Filter::default()
        };
        assert_eq!(
            applied_range(&r, &f),
            Ok("1 Apr – 30 Jun 2025, 2 plants; 1 plant-day outside the range".into())
        );
        assert_eq!(
            applied_range(&r, &Filter::default()),
            Ok("31 Mar – 11 Apr 2025, 2 plants; every plant-day loaded".into())
        );
        let inverted = Filter {
            from: Some(d(2025, 6, 30)),
            to: Some(d(2025, 4, 1)),
            ..Filter::default()
        };
        let Err(why) = applied_range(&r, &inverted) else {
            panic!("an inverted range is refused");
        };
        assert!(
            why.starts_with("From 30 Jun 2025 is after To 1 Apr 2025"),
            "{why}"
        );
    }

    #[test]
    fn ranges_are_said_in_words() {
        assert_eq!(
            range_label(d(2025, 4, 1), d(2025, 6, 30)),
            "1 Apr – 30 Jun 2025"
        );
        assert_eq!(
            range_label(d(2025, 3, 21), d(2026, 1, 2)),
            "21 Mar 2025 – 2 Jan 2026"
        );
    }

    #[test]
    fn periods_start_end_and_label() {
        assert_eq!(Period::Quarter.start_of(d(2025, 6, 30)), d(2025, 4, 1));
        assert_eq!(Period::Quarter.end_of(d(2025, 10, 1)), d(2025, 12, 31));
        assert_eq!(Period::Month.end_of(d(2024, 2, 1)), d(2024, 2, 29));
        assert_eq!(Period::Quarter.label(d(2025, 7, 1)), "2025-Q3");
        assert_eq!(Period::Month.label(d(2025, 7, 1)), "2025-07");
        assert_eq!(Period::parse(" Quarter"), Some(Period::Quarter));
        assert_eq!(Period::parse("week"), None);
    }
}
