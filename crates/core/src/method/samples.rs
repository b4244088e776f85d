//! METHOD §2: one sample, one reading; then one value per plant, day and
//! location by the replicate policy.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{ordered_mean, uncertainty};
use crate::config::ReplicatePolicy;
use crate::model::{CellRef, LabReading, Location, Severity, Text};
use crate::number::tidy;
use crate::qa;
use crate::qa::Finding;

/// METHOD §2 step 1: rows of one sample that differ by more than this
/// fraction of their mean are a `sample_conflict` (0.1 %); closer ones are
/// float noise, a `duplicate_sample`.
pub const SAMPLE_CONFLICT_FRACTION: f64 = 0.001;

/// METHOD §2 step 4: replicates spreading by more than this fraction of
/// their mean, (max - min) / mean, are a `replicate_spread` (5 %).
pub const REPLICATE_SPREAD_FRACTION: f64 = 0.05;

/// The day's calcium at one location.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DayValue {
    pub value: f64,
    /// Distinct samples behind it.
    pub n: u32,
    /// Its standard uncertainty, mg/L (METHOD §7).
    pub sigma: f64,
}

/// Upstream and downstream calcium for a plant-day.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DayCalcium {
    pub upstream: Option<DayValue>,
    pub downstream: Option<DayValue>,
    /// Any calcium reading that day (any location).
    pub any: bool,
}

/// Per plant-day calcium, keyed by (plant, date).
pub type CalciumDays = BTreeMap<(Text, NaiveDate), DayCalcium>;

struct Sample<'a> {
    rows: Vec<&'a LabReading>,
    value: f64,
    /// METHOD §7: the sample's standard uncertainty, mg/L.
    sigma: f64,
}

/// Collapse samples and choose day values. `readings` must be in input
/// order (files by name, rows top to bottom); `file_names` maps file
/// indices to names for messages; `lab_default_relative` is METHOD §7's
/// setting for samples that state no uncertainty.
pub fn calcium_days(
    readings: &[&LabReading],
    policy: ReplicatePolicy,
    lab_default_relative: f64,
    file_names: &[Text],
    findings: &mut Vec<Finding>,
) -> CalciumDays {
    let name = |r: &LabReading| file_names.get(r.file as usize).cloned().unwrap_or_default();
    let calcium: Vec<&LabReading> = readings
        .iter()
        .copied()
        .filter(|r| r.parameter_name.eq_ignore_ascii_case("calcium"))
        .collect();

    // Step 1: rows sharing a unique_id (within one plant, day and unit) are
    // one sample.
    let mut by_id: BTreeMap<(&Text, NaiveDate, &Text, &Text), Vec<&LabReading>> = BTreeMap::new();
    for r in &calcium {
        by_id
            .entry((&r.plant_id, r.when.date(), &r.plant_unit_id, &r.reading_id))
            .or_default()
            .push(r);
    }
    let mut samples: Vec<Sample<'_>> = Vec::with_capacity(by_id.len());
    for ((plant, date, _, id), rows) in by_id {
        let values: Vec<f64> = rows.iter().map(|r| r.value).collect();
        let value = ordered_mean(&values).unwrap_or(f64::NAN);
        if rows.len() > 1 {
            let (lo, hi) = min_max(&values);
            let listed = rows
                .iter()
                .map(|r| format!("{} ({} row {})", r.value, name(r), r.row))
                .collect::<Vec<_>>()
                .join(", ");
            let first = rows[0];
            let at = CellRef::row(None, first.row);
            let f = if hi - lo > SAMPLE_CONFLICT_FRACTION * value.abs() {
                qa::SAMPLE_CONFLICT.finding(
                    Severity::Warning,
                    format!(
                        "Sample {id} is reported {} times with different values: {listed}. Their mean {} is used.",
                        rows.len(),
                        tidy(value)
                    ),
                )
            } else {
                qa::DUPLICATE_SAMPLE.finding(
                    Severity::Info,
                    format!(
                        "Sample {id} is reported {} times with the same value (to 0.1 %): {listed}. Counted once.",
                        rows.len()
                    ),
                )
            };
            findings.push(f.plant(plant).on(date).file(&name(first)).at(at));
        }
        let sigma = uncertainty::sample_sigma(
            rows.iter().filter_map(|r| r.uncertainty),
            value,
            lab_default_relative,
        );
        samples.push(Sample { rows, value, sigma });
    }

    // Step 2-4: per plant, day and location.
    let mut groups: BTreeMap<(Text, NaiveDate, Location), Vec<Sample<'_>>> = BTreeMap::new();
    for s in samples {
        let r = s.rows[0];
        groups
            .entry((r.plant_id.clone(), r.when.date(), r.location))
            .or_default()
            .push(s);
    }
    let mut days = CalciumDays::new();
    for ((plant, date, location), group) in groups {
        let entry = days.entry((plant.clone(), date)).or_default();
        entry.any = true;
        if location == Location::Other {
            continue;
        }
        let values: Vec<f64> = group.iter().map(|s| s.value).collect();
        let n = group.len() as u32;
        let value = match policy {
            ReplicatePolicy::Mean => ordered_mean(&values),
            ReplicatePolicy::First => group
                .iter()
                .flat_map(|s| s.rows.iter())
                .min_by_key(|r| (r.file, r.row))
                .map(|r| r.value),
        };
        let Some(value) = value else { continue };
        let sigma = match policy {
            ReplicatePolicy::Mean => uncertainty::mean_sigma(
                &group.iter().map(|s| (s.value, s.sigma)).collect::<Vec<_>>(),
            ),
            // The sample that the first row belongs to.
            ReplicatePolicy::First => group
                .iter()
                .flat_map(|s| s.rows.iter().map(move |r| (s, r)))
                .min_by_key(|(_, r)| (r.file, r.row))
                .map_or(f64::NAN, |(s, _)| s.sigma),
        };
        if n > 1 {
            let (lo, hi) = min_max(&values);
            let mean = ordered_mean(&values).unwrap_or(value);
            if mean != 0.0 && (hi - lo) / mean > REPLICATE_SPREAD_FRACTION {
                let first = group[0].rows[0];
                findings.push(
                    qa::REPLICATE_SPREAD
                        .finding(
                            Severity::Warning,
                            format!(
                                "{} {} replicates spread by {:.1} % of their mean ({} to {} mg/L, mean {}).",
                                n,
                                location.as_str(),
                                (hi - lo) / mean * 100.0,
                                tidy(lo),
                                tidy(hi),
                                tidy(mean)
                            ),
                        )
                        .plant(&plant)
                        .on(date)
                        .file(&name(first))
                        .at(CellRef::row(None, first.row)),
                );
            }
        }
        let v = Some(DayValue { value, n, sigma });
        match location {
            Location::Upstream => entry.upstream = v,
            Location::Downstream => entry.downstream = v,
            Location::Other => {}
        }
    }
    days
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::When;

    fn reading(id: &str, unit: &str, loc: Location, value: f64, row: u32) -> LabReading {
        LabReading {
            plant_id: "PLANT_A".into(),
            plant_unit_id: unit.into(),
            location: loc,
            when: When::Day(NaiveDate::from_ymd_opt(2025, 4, 2).unwrap_or_default()),
            parameter_name: "calcium".into(),
            medium: "aqueous".into(),
            value,
            unit: "mg/L".into(),
            uncertainty: None,
            reading_id: id.into(),
            replicate_num: None,
            file: 0,
            row,
            metadata: "{}".into(),
            value_col: None,
        }
    }

    fn up(id: &str, value: f64, row: u32) -> LabReading {
        reading(id, "primary_clarifier", Location::Upstream, value, row)
    }

    fn down(id: &str, value: f64, row: u32) -> LabReading {
        reading(id, "secondary_clarifier", Location::Downstream, value, row)
    }

    /// The one day the readings make, and the findings on the way.
    fn one_day(rs: &[LabReading], policy: ReplicatePolicy) -> (DayCalcium, Vec<Finding>) {
        let mut f = Vec::new();
        let names: Vec<Text> = vec!["lab.csv".into()];
        let days = calcium_days(
            &rs.iter().collect::<Vec<_>>(),
            policy,
            crate::config::DEFAULT_LAB_RELATIVE,
            &names,
            &mut f,
        );
        assert!(days.len() <= 1);
        (days.values().next().copied().unwrap_or_default(), f)
    }

    #[test]
    fn float_noise_duplicates_collapse_with_info() {
        let rs = [up("U_01", 29.2, 2), up("U_01", 29.199999999999996, 3)];
        let (d, f) = one_day(&rs, ReplicatePolicy::Mean);
        assert_eq!(d.upstream.map(|v| v.n), Some(1));
        assert_eq!(
            d.upstream.map(|v| v.value),
            Some((29.199999999999996 + 29.2) / 2.0)
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "duplicate_sample");
        assert_eq!(f[0].level, 1);
    }

    #[test]
    fn real_conflicts_warn_and_use_the_mean() {
        let rs = [up("U_01", 43.26, 2), up("U_01", 42.01, 3)];
        let (d, f) = one_day(&rs, ReplicatePolicy::Mean);
        assert_eq!(d.upstream.map(|v| v.value), Some((42.01 + 43.26) / 2.0));
        assert_eq!(f[0].check, "sample_conflict");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("43.26") && f[0].message.contains("42.01"));
    }

    #[test]
    fn replicate_policies() {
        let rs = [
            down("D_02", 60.0, 2),
            down("D_01", 50.0, 3),
            down("D_01", 52.0, 4),
            down("D_03", 55.0, 5),
        ];
        let (d, f) = one_day(&rs, ReplicatePolicy::Mean);
        // Samples: D_01 = 51, D_02 = 60, D_03 = 55 → (51 + 55 + 60) / 3.
        assert_eq!(
            d.downstream.map(|v| (v.value, v.n)),
            Some(((51.0 + 55.0 + 60.0) / 3.0, 3))
        );
        assert!(f
            .iter()
            .any(|x| x.check == "replicate_spread" && x.level == 4));
        let (d, _) = one_day(&rs, ReplicatePolicy::First);
        // The first row of the group in input order (row 2), count unchanged.
        assert_eq!(d.downstream.map(|v| (v.value, v.n)), Some((60.0, 3)));
    }

    #[test]
    fn small_spread_is_not_reported() {
        let rs = [down("D_01", 50.0, 2), down("D_02", 52.0, 3)];
        let (_, f) = one_day(&rs, ReplicatePolicy::Mean);
        assert!(f.is_empty());
    }
}
