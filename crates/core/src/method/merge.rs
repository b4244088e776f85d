//! METHOD §3: one operations row per plant-day out of overlapping reports.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::model::{CellRef, OpsRow, PlantOperation, Severity, Superseded, Text};
use crate::profile::Unit;
use crate::qa;
use crate::qa::Finding;

/// What the merge needs to know about each input file.
#[derive(Clone, Debug)]
pub struct ReportInfo {
    pub name: Text,
    pub generated_at: Option<NaiveDateTime>,
    pub period_end: Option<NaiveDate>,
}

impl ReportInfo {
    /// The report's time: its generation time, else the end of its period.
    fn time(&self) -> Option<NaiveDateTime> {
        self.generated_at.or_else(|| {
            self.period_end
                .and_then(|d| NaiveTime::from_hms_opt(23, 59, 59).map(|t| d.and_time(t)))
        })
    }
}

/// Newest first: report time, then file name, then the lower row.
fn newness<'a>(
    r: &OpsRow,
    files: &'a [ReportInfo],
) -> (Option<NaiveDateTime>, Option<&'a str>, u32) {
    let f = files.get(r.file as usize);
    (f.and_then(ReportInfo::time), f.map(|f| &*f.name), r.row)
}

/// Merge raw rows (any order) into one row per plant-day.
pub fn merge(
    rows: &[&OpsRow],
    files: &[ReportInfo],
    findings: &mut Vec<Finding>,
) -> Vec<PlantOperation> {
    let name = |r: &OpsRow| {
        files
            .get(r.file as usize)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    };
    let mut days: BTreeMap<(Text, NaiveDate), Vec<&OpsRow>> = BTreeMap::new();
    for &r in rows {
        days.entry((r.plant_id.clone(), r.date))
            .or_default()
            .push(r);
    }
    // (plant, older file, chosen file) → days repeated identically.
    let mut repeats: BTreeMap<(Text, Text, Text), Vec<NaiveDate>> = BTreeMap::new();
    let mut out = Vec::with_capacity(days.len());
    for ((plant, date), mut group) in days {
        group.sort_by(|a, b| newness(b, files).cmp(&newness(a, files)));
        let real: Vec<&OpsRow> = group
            .iter()
            .copied()
            .filter(|r| !r.is_provisional())
            .collect();
        let chosen = real.first().copied().unwrap_or(group[0]);
        let provisional = real.is_empty();
        if real.len() > 1 {
            // PROFILES.md: flows compare in the unit they were read in, or
            // in m³/day when two reports of the day use different units.
            let same_unit = real.iter().all(|r| r.flow_unit == chosen.flow_unit);
            let (unit, flow): (&str, fn(&OpsRow) -> Option<f64>) = match chosen.flow_unit {
                _ if !same_unit => ("m³/day", |r| {
                    r.actual_eff_flow_m3_per_day.or(r
                        .actual_eff_flow_mgd
                        .map(|f| f * crate::method::co2::M3_PER_MG))
                }),
                Some(Unit::M3PerDay) => ("m³/day", |r| r.actual_eff_flow_m3_per_day),
                Some(Unit::MlPerDay) => ("ML/day", |r| {
                    r.actual_eff_flow_m3_per_day.map(|m3| m3 / 1000.0)
                }),
                _ => ("MGD", |r| r.actual_eff_flow_mgd),
            };
            let distinct = {
                let mut v: Vec<u64> = real
                    .iter()
                    .map(|r| flow(r).unwrap_or(f64::NAN).to_bits())
                    .collect();
                v.sort_unstable();
                v.dedup();
                v.len()
            };
            if distinct > 1 {
                let listed = real
                    .iter()
                    .map(|r| format!("{} {unit} in {} row {}", fmt_opt(flow(r)), name(r), r.row))
                    .collect::<Vec<_>>()
                    .join("; ");
                findings.push(
                    qa::REVISED_FLOW
                        .finding(
                            Severity::Warning,
                            format!(
                                "Effluent flow for {date} differs between reports: {listed}. The newest report's {} {unit} is used.",
                                fmt_opt(flow(chosen))
                            ),
                        )
                        .plant(&plant)
                        .on(date)
                        .file(&name(chosen))
                        .at(CellRef::row(Some(&chosen.sheet), chosen.row)),
                );
            }
            for r in &real[1..] {
                if r.actual_eff_flow_mgd.map(f64::to_bits)
                    == chosen.actual_eff_flow_mgd.map(f64::to_bits)
                    && r.file != chosen.file
                {
                    repeats
                        .entry((plant.clone(), name(r), name(chosen)))
                        .or_default()
                        .push(date);
                }
            }
        }
        if chosen.bypass_flow_mgd.is_some_and(|b| b > 0.0) {
            findings.push(
                qa::BYPASS
                    .finding(
                        Severity::Info,
                        format!(
                            "Bypass of {} MGD for {} h on {date}: decide whether the bypassed water affects this day.",
                            fmt_opt(chosen.bypass_flow_mgd),
                            fmt_opt(chosen.bypass_hours_per_day)
                        ),
                    )
                    .plant(&plant)
                    .on(date)
                    .file(&name(chosen))
                    .at(CellRef::row(Some(&chosen.sheet), chosen.row)),
            );
        }
        let mut superseded: Vec<Superseded> = group
            .iter()
            .filter(|r| !std::ptr::eq(**r, chosen))
            .map(|r| Superseded {
                source_file: name(r),
                source_row: r.row,
                actual_eff_flow_mgd: r.actual_eff_flow_mgd,
                provisional: r.is_provisional(),
                source_sheet: r.sheet.clone(),
                eff_flow_col: r.eff_flow_col,
            })
            .collect();
        superseded
            .sort_by(|a, b| (&a.source_file, a.source_row).cmp(&(&b.source_file, b.source_row)));
        out.push(PlantOperation {
            plant_id: plant,
            date,
            actual_eff_flow_mgd: chosen.actual_eff_flow_mgd,
            actual_inf_flow_mgd: chosen.actual_inf_flow_mgd,
            max_eff_flow_mgd: chosen.max_eff_flow_mgd,
            min_eff_flow_mgd: chosen.min_eff_flow_mgd,
            bypass_flow_mgd: chosen.bypass_flow_mgd,
            bypass_hours_per_day: chosen.bypass_hours_per_day,
            precip_in: chosen.precip_in,
            source_file: name(chosen),
            source_sheet: chosen.sheet.clone(),
            source_row: chosen.row,
            report_generated_at: files.get(chosen.file as usize).and_then(|f| f.generated_at),
            provisional,
            superseded,
            source_eff_flow_col: chosen.eff_flow_col,
            flow_unit: chosen.flow_unit,
            actual_eff_flow_m3_per_day: chosen.actual_eff_flow_m3_per_day,
        });
    }
    for ((plant, older, newer), dates) in repeats {
        let (first, last) = (dates[0], dates[dates.len() - 1]);
        findings.push(
            qa::OVERLAP_REPEAT
                .finding(
                    Severity::Info,
                    format!(
                        "{} day(s) from {first} to {last} appear with the same effluent flow in {older} and {newer} (overlapping report periods); counted once, from {newer}.",
                        dates.len()
                    ),
                )
                .plant(&plant)
                .file(&newer),
        );
    }
    out
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_else(|| "blank".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 4, day).unwrap_or_default()
    }

    fn row(file: u32, r: u32, day: u32, eff: Option<f64>, inf: Option<f64>) -> OpsRow {
        OpsRow {
            plant_id: "PLANT_B".into(),
            date: d(day),
            actual_eff_flow_mgd: eff,
            actual_inf_flow_mgd: inf,
            has_influent_column: true,
            max_eff_flow_mgd: None,
            min_eff_flow_mgd: None,
            bypass_flow_mgd: None,
            bypass_hours_per_day: None,
            precip_in: None,
            file,
            sheet: "S".into(),
            row: r,
            eff_flow_col: None,
            flow_unit: None,
            actual_eff_flow_m3_per_day: None,
        }
    }

    fn files() -> Vec<ReportInfo> {
        let at =
            |m, dd, h| NaiveDate::from_ymd_opt(2025, m, dd).and_then(|x| x.and_hms_opt(h, 0, 0));
        vec![
            ReportInfo {
                name: "r1.xlsx".into(),
                generated_at: at(4, 11, 17),
                period_end: Some(d(11)),
            },
            ReportInfo {
                name: "r2.xlsx".into(),
                generated_at: at(4, 25, 17),
                period_end: Some(d(25)),
            },
        ]
    }

    #[test]
    fn placeholder_is_replaced_by_the_next_report() {
        let rows = [
            row(0, 20, 11, Some(0.0), None),
            row(1, 20, 11, Some(9.2), Some(9.2)),
        ];
        let mut f = Vec::new();
        let ops = merge(&rows.iter().collect::<Vec<_>>(), &files(), &mut f);
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].actual_eff_flow_mgd, Some(9.2));
        assert!(!ops[0].provisional);
        assert_eq!(ops[0].superseded.len(), 1);
        assert!(ops[0].superseded[0].provisional);
        assert!(f.is_empty());
    }

    #[test]
    fn only_placeholders_leave_the_day_provisional() {
        let rows = [row(0, 15, 7, Some(0.0), None)];
        let mut f = Vec::new();
        let ops = merge(&rows.iter().collect::<Vec<_>>(), &files(), &mut f);
        assert!(ops[0].provisional);
    }

    #[test]
    fn newest_report_wins_and_revision_is_reported() {
        let rows = [
            row(1, 14, 8, Some(9.194), Some(9.194)),
            row(0, 18, 8, Some(9.163), Some(9.163)),
        ];
        let mut f = Vec::new();
        let ops = merge(&rows.iter().collect::<Vec<_>>(), &files(), &mut f);
        assert_eq!(ops[0].actual_eff_flow_mgd, Some(9.194));
        assert_eq!(ops[0].source_file.as_ref(), "r2.xlsx");
        let rev: Vec<_> = f.iter().filter(|x| x.check == "revised_flow").collect();
        assert_eq!(rev.len(), 1);
        assert!(rev[0].message.contains("9.163") && rev[0].message.contains("9.194"));
        assert!(rev[0].message.contains("r1.xlsx") && rev[0].message.contains("r2.xlsx"));
    }

    #[test]
    fn identical_repeats_are_one_finding_per_file_pair() {
        let rows = [
            row(0, 14, 5, Some(9.0), Some(9.0)),
            row(0, 15, 6, Some(9.1), Some(9.1)),
            row(1, 13, 5, Some(9.0), Some(9.0)),
            row(1, 14, 6, Some(9.1), Some(9.1)),
        ];
        let mut f = Vec::new();
        let ops = merge(&rows.iter().collect::<Vec<_>>(), &files(), &mut f);
        assert_eq!(ops.len(), 2);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "overlap_repeat");
        assert!(f[0].message.starts_with("2 day(s)"));
    }

    #[test]
    fn without_generation_time_the_period_end_decides_then_the_name_then_the_row() {
        let files = vec![
            ReportInfo {
                name: "a.xlsx".into(),
                generated_at: None,
                period_end: Some(d(30)),
            },
            ReportInfo {
                name: "b.xlsx".into(),
                generated_at: None,
                period_end: Some(d(30)),
            },
        ];
        let rows = [
            row(1, 5, 3, Some(2.0), None),
            row(0, 5, 3, Some(1.0), None),
            row(1, 9, 3, Some(3.0), None),
        ];
        let mut f = Vec::new();
        let ops = merge(&rows.iter().collect::<Vec<_>>(), &files, &mut f);
        assert_eq!(ops[0].actual_eff_flow_mgd, Some(3.0));
        assert_eq!(ops[0].source_row, 9);
    }

    #[test]
    fn bypass_days_are_flagged_for_the_expert() {
        let mut r = row(0, 5, 3, Some(40.0), None);
        r.bypass_flow_mgd = Some(11.5);
        r.bypass_hours_per_day = Some(8.5);
        let mut f = Vec::new();
        merge(&[&r], &files(), &mut f);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].check.as_str(), f[0].level), ("bypass", 4));
        assert!(f[0].message.contains("11.5") && f[0].message.contains("8.5"));
    }
}
