//! METHOD §4: the day set, the checks in order, and one `co2_removal` row
//! per plant-day, calculated or not. Level 4 findings (quality flags) are
//! written here, beside the checks that raise them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::co2;
use super::samples::{CalciumDays, DayCalcium};
use crate::model::{CellRef, Co2Day, Flag, PlantOperation, Severity, Text};
use crate::number::tidy;
use crate::qa;
use crate::qa::Finding;

/// Build every plant-day's row, sorted by plant then date.
pub fn co2_days(
    ops: &[PlantOperation],
    calcium: &CalciumDays,
    findings: &mut Vec<Finding>,
) -> Vec<Co2Day> {
    let ops_by_day: BTreeMap<(&Text, NaiveDate), &PlantOperation> =
        ops.iter().map(|o| ((&o.plant_id, o.date), o)).collect();
    let mut keys: BTreeSet<(Text, NaiveDate)> =
        ops.iter().map(|o| (o.plant_id.clone(), o.date)).collect();
    keys.extend(
        calcium
            .iter()
            .filter(|(_, c)| c.any)
            .map(|(k, _)| k.clone()),
    );

    let mut out = Vec::with_capacity(keys.len());
    for (plant, date) in keys {
        let op = ops_by_day.get(&(&plant, date)).copied();
        let ca = calcium
            .get(&(plant.clone(), date))
            .copied()
            .unwrap_or_default();
        let day = one_day(&plant, date, op, &ca);
        flag_findings(&day, op, findings);
        out.push(day);
    }
    out
}

fn one_day(plant: &Text, date: NaiveDate, op: Option<&PlantOperation>, ca: &DayCalcium) -> Co2Day {
    let up = ca.upstream.map(|v| v.value);
    let down = ca.downstream.map(|v| v.value);
    let mut failures: Vec<(Flag, String)> = Vec::new();

    // Check 1: operations, then flow.
    let flow = match op {
        None => {
            failures.push((Flag::NoOpsData, "No operations data for this day".into()));
            None
        }
        Some(o) if o.provisional => {
            let what = match o.actual_eff_flow_mgd {
                Some(_) => "Effluent flow 0 with blank influent flow",
                None => "Effluent flow blank with no influent flow",
            };
            failures.push((
                Flag::InvalidFlow,
                format!(
                    "{what}: provisional day ({} row {}), no later report gives its flow",
                    o.source_file, o.source_row
                ),
            ));
            None
        }
        Some(o) => match o.actual_eff_flow_mgd {
            Some(f) if f > 0.0 => Some(f),
            Some(f) => {
                failures.push((
                    Flag::InvalidFlow,
                    format!("Effluent flow {f} MGD is not > 0"),
                ));
                Some(f)
            }
            None => {
                failures.push((Flag::InvalidFlow, "Effluent flow missing".into()));
                None
            }
        },
    };
    // Check 2: calcium.
    let missing = match (up.is_some(), down.is_some()) {
        (true, true) => None,
        (false, true) => Some("upstream"),
        (true, false) => Some("downstream"),
        (false, false) => Some("upstream and downstream"),
    };
    if let Some(which) = missing {
        failures.push((
            Flag::MissingCaReadings,
            format!("Missing {which} calcium readings"),
        ));
    }
    // Check 3: delta (evaluable whenever both readings exist).
    if let (Some(u), Some(d)) = (up, down) {
        let delta = d - u;
        if delta <= 0.0 {
            failures.push((
                Flag::Invalid,
                format!(
                    "Ca delta {} mg/L <= 0 (downstream {} - upstream {})",
                    tidy(delta),
                    tidy(d),
                    tidy(u)
                ),
            ));
        }
    }
    let flag = failures.first().map(|f| f.0).unwrap_or(Flag::Valid);
    let calc = match (flag.is_calculated(), flow, up, down) {
        (true, Some(f), Some(u), Some(d)) => {
            Some(match op.and_then(|o| o.actual_eff_flow_m3_per_day) {
                // Read in m³/day (or converted from ML/d): the chain starts there.
                Some(m3) => co2::calculate_m3(f, m3, u, d),
                None => co2::calculate(f, u, d),
            })
        }
        _ => None,
    };
    Co2Day {
        plant_id: plant.clone(),
        date,
        ca_upstream_mg_per_l: up,
        ca_downstream_mg_per_l: down,
        flow_mgd: flow,
        calc,
        quality_flag: flag,
        validation_message: failures
            .into_iter()
            .map(|f| f.1)
            .collect::<Vec<_>>()
            .join("; "),
        ca_upstream_n: ca.upstream.map_or(0, |v| v.n),
        ca_downstream_n: ca.downstream.map_or(0, |v| v.n),
        ops_source: op.map(|o| o.source_file.clone()),
        flow_unit: op.and_then(|o| o.flow_unit),
        // Filled by `uncertainty::day_sigmas` (METHOD §7).
        sigma: Default::default(),
        // Filled by the pipeline, which knows the files.
        inputs_sha256: String::new(),
        review: Default::default(),
    }
}

/// One level 4 finding per day that is not VALID, and one per provisional
/// day.
fn flag_findings(day: &Co2Day, op: Option<&PlantOperation>, findings: &mut Vec<Finding>) {
    let check = match day.quality_flag {
        Flag::Valid => None,
        Flag::Invalid => Some(qa::INVALID_DELTA),
        Flag::MissingCaReadings => Some(qa::MISSING_CA),
        Flag::InvalidFlow => Some(qa::INVALID_FLOW),
        Flag::NoOpsData => Some(qa::NO_OPS_DATA),
    };
    let locate = |f: Finding| match op {
        Some(o) => f
            .file(&o.source_file)
            .at(CellRef::row(Some(&o.source_sheet), o.source_row)),
        None => f,
    };
    if let Some(check) = check {
        findings.push(locate(
            check
                .finding(
                    Severity::Warning,
                    format!("{}: {}", day.quality_flag, day.validation_message),
                )
                .plant(&day.plant_id)
                .on(day.date),
        ));
    }
    if let Some(o) = op.filter(|o| o.provisional) {
        findings.push(locate(
            qa::PROVISIONAL_DAY
                .finding(
                    Severity::Warning,
                    format!(
                        "Only a placeholder row exists for this day ({} row {}); its flow counts as missing until a later report gives it.",
                        o.source_file, o.source_row
                    ),
                )
                .plant(&day.plant_id)
                .on(day.date),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::samples::DayValue;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 4, day).unwrap_or_default()
    }

    fn op(day: u32, eff: Option<f64>, provisional: bool) -> PlantOperation {
        PlantOperation {
            plant_id: "P".into(),
            date: d(day),
            actual_eff_flow_mgd: eff,
            actual_inf_flow_mgd: eff,
            max_eff_flow_mgd: None,
            min_eff_flow_mgd: None,
            bypass_flow_mgd: None,
            bypass_hours_per_day: None,
            precip_in: None,
            source_file: "ops.xlsx".into(),
            source_sheet: "S".into(),
            source_row: 5,
            report_generated_at: None,
            provisional,
            superseded: Vec::new(),
            source_eff_flow_col: None,
            flow_unit: None,
            actual_eff_flow_m3_per_day: None,
        }
    }

    fn ca(up: Option<f64>, down: Option<f64>) -> DayCalcium {
        DayCalcium {
            upstream: up.map(|value| DayValue {
                value,
                n: 1,
                sigma: 0.0,
            }),
            downstream: down.map(|value| DayValue {
                value,
                n: 2,
                sigma: 0.0,
            }),
            any: up.is_some() || down.is_some(),
        }
    }

    fn run(ops: Vec<PlantOperation>, cal: Vec<(u32, DayCalcium)>) -> (Vec<Co2Day>, Vec<Finding>) {
        let cal: CalciumDays = cal
            .into_iter()
            .map(|(day, c)| (("P".into(), d(day)), c))
            .collect();
        let mut f = Vec::new();
        (co2_days(&ops, &cal, &mut f), f)
    }

    #[test]
    fn valid_day_is_the_worked_example() {
        let (days, f) = run(
            vec![op(1, Some(31.2), false)],
            vec![(1, ca(Some(39.8), Some(53.7)))],
        );
        assert_eq!(days[0].quality_flag, Flag::Valid);
        assert_eq!(days[0].validation_message, "");
        let t = days[0]
            .calc
            .map(|c| c.co2_removed_metric_tons_per_day)
            .unwrap_or_default();
        assert_eq!(format!("{t:.7}"), "1.8026969");
        assert_eq!((days[0].ca_upstream_n, days[0].ca_downstream_n), (1, 2));
        assert!(f.is_empty());
    }

    #[test]
    fn no_ops_data() {
        let (days, f) = run(vec![], vec![(2, ca(Some(40.0), None))]);
        assert_eq!(days[0].quality_flag, Flag::NoOpsData);
        assert_eq!(
            days[0].validation_message,
            "No operations data for this day; Missing downstream calcium readings"
        );
        assert!(days[0].calc.is_none() && days[0].flow_mgd.is_none());
        assert_eq!(days[0].ca_upstream_mg_per_l, Some(40.0));
        assert_eq!(f[0].check, "no_ops_data");
    }

    #[test]
    fn invalid_flow_zero_negative_blank_and_provisional() {
        let (days, _) = run(
            vec![
                op(1, Some(0.0), false),
                op(2, Some(-3.0), false),
                op(3, None, false),
                op(4, Some(0.0), true),
            ],
            vec![
                (1, ca(Some(40.0), Some(50.0))),
                (2, ca(Some(40.0), Some(50.0))),
                (3, ca(Some(40.0), Some(50.0))),
                (4, ca(Some(40.0), Some(50.0))),
            ],
        );
        assert!(days
            .iter()
            .all(|d| d.quality_flag == Flag::InvalidFlow && d.calc.is_none()));
        assert_eq!(days[0].flow_mgd, Some(0.0));
        assert_eq!(days[1].flow_mgd, Some(-3.0));
        assert_eq!(days[2].flow_mgd, None);
        assert_eq!(days[3].flow_mgd, None, "a provisional flow is never shown");
        assert!(days[3].validation_message.contains("provisional"));
    }

    #[test]
    fn missing_calcium_keeps_inputs_and_blanks_derived() {
        let (days, f) = run(
            vec![op(1, Some(30.0), false)],
            vec![(1, ca(None, Some(50.0)))],
        );
        assert_eq!(days[0].quality_flag, Flag::MissingCaReadings);
        assert_eq!(
            days[0].validation_message,
            "Missing upstream calcium readings"
        );
        assert_eq!(days[0].flow_mgd, Some(30.0));
        assert_eq!(days[0].ca_downstream_mg_per_l, Some(50.0));
        assert!(days[0].calc.is_none());
        assert_eq!(f[0].check, "missing_ca_readings");
        let (days, _) = run(vec![op(1, Some(30.0), false)], vec![]);
        assert_eq!(
            days[0].validation_message,
            "Missing upstream and downstream calcium readings"
        );
    }

    #[test]
    fn negative_delta_is_calculated_but_invalid() {
        let (days, f) = run(
            vec![op(1, Some(30.0), false)],
            vec![(1, ca(Some(50.0), Some(45.0)))],
        );
        assert_eq!(days[0].quality_flag, Flag::Invalid);
        let c = days[0]
            .calc
            .unwrap_or_else(|| co2::calculate(0.0, 0.0, 0.0));
        assert_eq!(c.ca_delta_mg_per_l, -5.0);
        assert!(c.co2_removed_metric_tons_per_day < 0.0);
        assert_eq!(f[0].check, "invalid_delta");
        let (days, _) = run(
            vec![op(1, Some(30.0), false)],
            vec![(1, ca(Some(50.0), Some(50.0)))],
        );
        assert_eq!(
            days[0].quality_flag,
            Flag::Invalid,
            "a zero delta is not > 0"
        );
    }

    #[test]
    fn first_failure_decides_but_all_are_listed() {
        let (days, _) = run(
            vec![op(1, Some(0.0), false)],
            vec![(1, ca(Some(50.0), Some(45.0)))],
        );
        assert_eq!(days[0].quality_flag, Flag::InvalidFlow);
        assert!(days[0]
            .validation_message
            .contains("; Ca delta -5 mg/L <= 0"));
    }
}
