//! METHOD §7 sensitivity: the whole §4 evaluation again with one input
//! scaled (flags recomputed, so a day may change flag), and how much each
//! plant's VALID total moves. The runs reuse the imported and merged data;
//! only §4 (and, for the replicate policy, §2's day values) is evaluated
//! again, and its findings are dropped: sensitivity runs produce none.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::days::co2_days;
use super::samples::CalciumDays;
use super::uncertainty;
use crate::config::ReplicatePolicy;
use crate::model::{Co2Day, Flag, PlantOperation, Text};
use crate::report::{Filter, Report};

/// The scale factors of §7's table (Isometric's ±20 %), with their names
/// in `sensitivity.csv`.
pub const FACTORS: [(f64, &str); 2] = [(0.8, "x0.8"), (1.2, "x1.2")];

/// A move of the VALID total by more than this share makes an input
/// sensitive (Isometric: 1 %).
pub const THRESHOLD_RELATIVE: f64 = 0.01;

/// The inputs of §7's table, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Input {
    CaUpstream,
    CaDownstream,
    EffluentFlow,
    ReplicatePolicy,
}

impl Input {
    pub const ALL: [Input; 4] = [
        Input::CaUpstream,
        Input::CaDownstream,
        Input::EffluentFlow,
        Input::ReplicatePolicy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Input::CaUpstream => "ca_upstream",
            Input::CaDownstream => "ca_downstream",
            Input::EffluentFlow => "effluent_flow",
            Input::ReplicatePolicy => "replicate_policy",
        }
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            Input::CaUpstream => "Calcium upstream",
            Input::CaDownstream => "Calcium downstream",
            Input::EffluentFlow => "Effluent flow",
            Input::ReplicatePolicy => "Replicate policy",
        }
    }
}

/// One perturbed evaluation: the VALID days' tonnes, by plant and date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensitivityRun {
    pub input: Input,
    /// `x0.8`, `x1.2`, or the other policy's name.
    pub perturbation: String,
    /// `(plant_id, date, co2_removed_metric_tons_per_day)` of every VALID
    /// day, sorted by plant then date.
    pub valid: Vec<(Text, NaiveDate, f64)>,
}

/// The seven runs of §7's table, in its order. `other` holds the day
/// values under `other_policy`, the policy not used for `calcium`.
pub fn runs(
    ops: &[PlantOperation],
    calcium: &CalciumDays,
    other_policy: ReplicatePolicy,
    other: &CalciumDays,
) -> Vec<SensitivityRun> {
    let mut out = Vec::with_capacity(7);
    for input in [Input::CaUpstream, Input::CaDownstream] {
        for (factor, name) in FACTORS {
            let mut scaled = calcium.clone();
            for day in scaled.values_mut() {
                let v = match input {
                    Input::CaUpstream => day.upstream.as_mut(),
                    _ => day.downstream.as_mut(),
                };
                if let Some(v) = v {
                    v.value *= factor;
                }
            }
            out.push(run(input, name, ops, &scaled));
        }
    }
    for (factor, name) in FACTORS {
        // The flow in the unit it was read in (MGD for today's plants),
        // before §4 converts it.
        let scaled: Vec<PlantOperation> = ops
            .iter()
            .map(|o| PlantOperation {
                actual_eff_flow_mgd: o.actual_eff_flow_mgd.map(|f| f * factor),
                actual_eff_flow_m3_per_day: o.actual_eff_flow_m3_per_day.map(|f| f * factor),
                ..o.clone()
            })
            .collect();
        out.push(run(Input::EffluentFlow, name, &scaled, calcium));
    }
    out.push(run(
        Input::ReplicatePolicy,
        other_policy.as_str(),
        ops,
        other,
    ));
    out
}

fn run(input: Input, name: &str, ops: &[PlantOperation], calcium: &CalciumDays) -> SensitivityRun {
    let mut dropped = Vec::new();
    let days = co2_days(ops, calcium, &mut dropped);
    SensitivityRun {
        input,
        perturbation: name.to_string(),
        valid: valid_tonnes(&days),
    }
}

fn valid_tonnes(days: &[Co2Day]) -> Vec<(Text, NaiveDate, f64)> {
    days.iter()
        .filter(|d| d.quality_flag == Flag::Valid)
        .filter_map(|d| {
            d.calc.map(|c| {
                (
                    d.plant_id.clone(),
                    d.date,
                    c.co2_removed_metric_tons_per_day,
                )
            })
        })
        .collect()
}

/// One row of `sensitivity.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensitivityRow {
    pub plant_id: Text,
    pub input: Input,
    pub perturbation: String,
    pub total_t: f64,
    pub change_t: f64,
    /// `None` when the base total is 0.
    pub change_relative: Option<f64>,
    pub sensitive: bool,
}

/// Whether a VALID day of a run counts under the filter: the same plant,
/// date range and flag choice as the days of the base total.
fn counts(filter: &Filter, plant: &str, date: NaiveDate) -> bool {
    filter.plant.as_deref().is_none_or(|p| p == plant)
        && filter.from.is_none_or(|f| date >= f)
        && filter.to.is_none_or(|t| date <= t)
        && filter
            .flags
            .as_ref()
            .is_none_or(|s| s.contains(&Flag::Valid))
}

/// The table for the days under a filter: per plant (sorted), the rows in
/// §7's order.
pub fn table(report: &Report, filter: &Filter) -> Vec<SensitivityRow> {
    let base = uncertainty::period(report, filter);
    let mut out = Vec::new();
    for (plant, figures) in &base.plants {
        let base_t = figures.total_t;
        let first = out.len();
        for r in &report.sensitivity {
            let total_t = r
                .valid
                .iter()
                .filter(|(p, d, _)| p == plant && counts(filter, p, *d))
                .fold(0.0, |acc, (_, _, t)| acc + t);
            let change_t = total_t - base_t;
            let change_relative = (base_t != 0.0).then(|| change_t / base_t);
            out.push(SensitivityRow {
                plant_id: plant.clone(),
                input: r.input,
                perturbation: r.perturbation.clone(),
                total_t,
                change_t,
                change_relative,
                sensitive: false,
            });
        }
        // An input is sensitive on both of its rows when either moves the
        // total by more than the threshold.
        for input in Input::ALL {
            let rows = || out[first..].iter().filter(|r| r.input == input);
            let sensitive = rows().any(|r| match r.change_relative {
                Some(rel) => rel.abs() > THRESHOLD_RELATIVE,
                None => r.change_t != 0.0,
            });
            for r in out[first..].iter_mut().filter(|r| r.input == input) {
                r.sensitive = sensitive;
            }
        }
    }
    out
}
