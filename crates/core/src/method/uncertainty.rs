//! METHOD §7: the standard uncertainty (1 σ) of every calculated day and of
//! each plant's period total, and the conservative (creditable) total.
//! Evaluated in f64 in exactly the order §7 writes it: squares are one
//! multiplication, every sum runs left to right from `0.0`. Audit this
//! file against METHOD.md §7 line by line; nothing else computes a σ.

use serde::{Deserialize, Serialize};

use super::ordered_mean;
use super::samples::CalciumDays;
use crate::config::{Confidence, Config};
use crate::model::{Co2Day, Co2Sigma, Flag, Text};
use crate::report::{Filter, Report};

/// Tonnes per milligram: the same `/ 1e9` as §4.
const MG_PER_T: f64 = 1e9;

/// A calcium sample's σ (mg/L): the largest uncertainty stated on its rows,
/// else `lab_default_relative × value`.
pub fn sample_sigma(
    stated: impl Iterator<Item = f64>,
    value: f64,
    lab_default_relative: f64,
) -> f64 {
    stated
        .fold(None, |max: Option<f64>, u| {
            Some(max.map_or(u, |m| m.max(u)))
        })
        .unwrap_or(lab_default_relative * value)
}

/// A location-day's σ under the `mean` policy, from its samples' `(value,
/// σ)`: the larger of the analytical σ of the mean and the scatter of the
/// samples (when there are at least two).
pub fn mean_sigma(samples: &[(f64, f64)]) -> f64 {
    let mut s = samples.to_vec();
    // The samples' ascending order of value; σ breaks ties so the sum never
    // depends on input order.
    s.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let n = s.len() as f64;
    let sum_sq = s.iter().fold(0.0, |acc, (_, sigma)| acc + sigma * sigma);
    let analytical = sum_sq.sqrt() / n;
    if s.len() < 2 {
        return analytical;
    }
    let values: Vec<f64> = s.iter().map(|(v, _)| *v).collect();
    let mean = ordered_mean(&values).unwrap_or(f64::NAN);
    let dev_sq = values
        .iter()
        .fold(0.0, |acc, v| acc + (v - mean) * (v - mean));
    let sd = (dev_sq / (n - 1.0)).sqrt();
    let scatter = sd / n.sqrt();
    analytical.max(scatter)
}

/// Fill every day's σ columns: the readings' σ whenever the reading exists,
/// the derived ones on calculated days.
pub fn day_sigmas(days: &mut [Co2Day], calcium: &CalciumDays, config: &Config) {
    for d in days {
        let ca = calcium
            .get(&(d.plant_id.clone(), d.date))
            .copied()
            .unwrap_or_default();
        let up = ca.upstream.map(|v| v.sigma);
        let down = ca.downstream.map(|v| v.sigma);
        d.sigma.ca_upstream_mg_per_l = up;
        d.sigma.ca_downstream_mg_per_l = down;
        d.sigma.calc = match (d.quality_flag.is_calculated(), d.calc, up, down) {
            (true, Some(c), Some(su), Some(sd)) => {
                let ca_delta_sigma_mg_per_l = (su * su + sd * sd).sqrt();
                let co2_sigma_lab_t = ca_delta_sigma_mg_per_l
                    * c.flow_l_per_day
                    * c.ca_to_caco3_ratio
                    * c.co2_to_caco3_ratio
                    / MG_PER_T;
                let co2_sigma_flow_t =
                    c.co2_removed_metric_tons_per_day.abs() * config.u_flow(&d.plant_id);
                let co2_sigma_t = (co2_sigma_lab_t * co2_sigma_lab_t
                    + co2_sigma_flow_t * co2_sigma_flow_t)
                    .sqrt();
                Some(Co2Sigma {
                    ca_delta_mg_per_l: ca_delta_sigma_mg_per_l,
                    co2_lab_t: co2_sigma_lab_t,
                    co2_flow_t: co2_sigma_flow_t,
                    co2_t: co2_sigma_t,
                })
            }
            _ => None,
        };
    }
}

/// The settings §7 ran with, kept in the report so every output records
/// them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UncertaintySettings {
    pub lab_default_relative: f64,
    /// Each plant of the run and its meter uncertainty, percent.
    pub meter_uncertainty_percent: Vec<(Text, f64)>,
    pub confidence: Confidence,
}

impl UncertaintySettings {
    pub fn of(config: &Config, plants: &[Text]) -> UncertaintySettings {
        UncertaintySettings {
            lab_default_relative: config.lab_default_relative,
            meter_uncertainty_percent: plants
                .iter()
                .map(|p| (p.clone(), config.meter_percent(p)))
                .collect(),
            confidence: config.confidence,
        }
    }

    /// `u_flow` of a plant (the default for a plant the run did not see).
    pub fn u_flow(&self, plant_id: &str) -> f64 {
        self.meter_uncertainty_percent
            .iter()
            .find(|(p, _)| &**p == plant_id)
            .map_or(
                crate::config::DEFAULT_METER_UNCERTAINTY_PERCENT,
                |(_, pct)| *pct,
            )
            / 100.0
    }
}

/// The period figures of one plant, or of all plants (`summary.json`'s
/// `uncertainty` entries, in §7's names).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PeriodUncertainty {
    pub total_t: f64,
    pub sigma_lab_t: f64,
    pub sigma_flow_t: f64,
    pub sigma_t: f64,
    /// `sigma_t / total_t`; `None` when the total is 0.
    pub relative_uncertainty: Option<f64>,
    pub confidence: Confidence,
    pub z: f64,
    pub conservative_t: f64,
    pub uncertainty_discount_t: f64,
}

impl PeriodUncertainty {
    fn new(total_t: f64, sigma_lab_t: f64, sigma_flow_t: f64, sigma_t: f64, c: Confidence) -> Self {
        let z = c.z();
        let lower = total_t - z * sigma_t;
        // `max(0, …)` written out so a negative never slips through as -0.
        let conservative_t = if lower > 0.0 { lower } else { 0.0 };
        PeriodUncertainty {
            total_t,
            sigma_lab_t,
            sigma_flow_t,
            sigma_t,
            relative_uncertainty: (total_t != 0.0).then(|| sigma_t / total_t),
            confidence: c,
            z,
            conservative_t,
            uncertainty_discount_t: total_t - conservative_t,
        }
    }
}

/// Per plant (sorted) and for all plants, under a filter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Uncertainty {
    pub plants: Vec<(Text, PeriodUncertainty)>,
    pub all: PeriodUncertainty,
}

/// One plant's figures over its VALID days in date order.
pub fn plant_period<'a>(
    days: impl IntoIterator<Item = &'a Co2Day>,
    u_flow: f64,
    confidence: Confidence,
) -> PeriodUncertainty {
    let mut total_t = 0.0;
    let mut lab_sq = 0.0;
    for d in days {
        if d.quality_flag != Flag::Valid {
            continue;
        }
        if let (Some(c), Some(s)) = (d.calc, d.sigma.calc) {
            total_t += c.co2_removed_metric_tons_per_day;
            lab_sq += s.co2_lab_t * s.co2_lab_t;
        }
    }
    let sigma_lab_t = f64::sqrt(lab_sq);
    let sigma_flow_t = total_t * u_flow;
    let sigma_t = (sigma_lab_t * sigma_lab_t + sigma_flow_t * sigma_flow_t).sqrt();
    PeriodUncertainty::new(total_t, sigma_lab_t, sigma_flow_t, sigma_t, confidence)
}

/// All plants together from the plants' figures (in plant order): the
/// totals add, and the lab and flow variances add separately (different
/// plants, different meters).
pub fn all_plants(plants: &[PeriodUncertainty], confidence: Confidence) -> PeriodUncertainty {
    let total_t = plants.iter().fold(0.0, |acc, p| acc + p.total_t);
    let lab_sq = plants
        .iter()
        .fold(0.0, |acc, p| acc + p.sigma_lab_t * p.sigma_lab_t);
    let flow_sq = plants
        .iter()
        .fold(0.0, |acc, p| acc + p.sigma_flow_t * p.sigma_flow_t);
    let sigma_t = (lab_sq + flow_sq).sqrt();
    PeriodUncertainty::new(total_t, lab_sq.sqrt(), flow_sq.sqrt(), sigma_t, confidence)
}

/// The plants with at least one day under the filter, sorted (the plants
/// `summary.json` reports).
pub fn plants_in(report: &Report, filter: &Filter) -> Vec<Text> {
    let mut out: Vec<Text> = Vec::new();
    for d in report.days(filter) {
        if out.last() != Some(&d.plant_id) {
            out.push(d.plant_id.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// §7's period figures for the days under a filter.
pub fn period(report: &Report, filter: &Filter) -> Uncertainty {
    let s = &report.uncertainty;
    let plants: Vec<(Text, PeriodUncertainty)> = plants_in(report, filter)
        .into_iter()
        .map(|p| {
            let days = report.days(filter).filter(|d| d.plant_id == p);
            let figures = plant_period(days, s.u_flow(&p), s.confidence);
            (p, figures)
        })
        .collect();
    let each: Vec<PeriodUncertainty> = plants.iter().map(|(_, u)| *u).collect();
    let all = all_plants(&each, s.confidence);
    Uncertainty { plants, all }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_takes_its_largest_stated_uncertainty() {
        // Catches taking the first or the mean of the stated values.
        assert_eq!(sample_sigma([0.3, 0.5, 0.4].into_iter(), 40.0, 0.02), 0.5);
        // Catches ignoring the default when nothing is stated: 0.02 × 39.8
        // (python3: 0.7959999999999999).
        assert_eq!(
            sample_sigma(std::iter::empty(), 39.8, 0.02),
            0.795_999_999_999_999_9
        );
    }

    #[test]
    fn mean_sigma_is_the_larger_of_analytical_and_scatter() {
        // One sample: σ / 1, no scatter term.
        assert_eq!(mean_sigma(&[(40.0, 0.8)]), 0.8);
        // Two agreeing samples: scatter 0, analytical sqrt(0.8² + 0.6²)/2 =
        // 0.5 (python3: math.sqrt(0.8*0.8+0.6*0.6)/2).
        assert_eq!(mean_sigma(&[(40.0, 0.8), (40.0, 0.6)]), 0.5);
        // Two far-apart samples: the scatter wins over the analytical
        // 0.0707…: s = sqrt(50), s / sqrt(2) = 5.0 (python3, §7's order).
        assert_eq!(mean_sigma(&[(45.0, 0.1), (35.0, 0.1)]), 5.0);
    }

    #[test]
    fn conservative_total_is_floored_at_zero() {
        // Catches a negative creditable total when σ exceeds the total.
        let p = PeriodUncertainty::new(1.0, 2.0, 0.0, 2.0, Confidence::P16);
        assert_eq!(p.conservative_t.to_bits(), 0.0f64.to_bits());
        assert_eq!(p.uncertainty_discount_t, 1.0);
        let zero = PeriodUncertainty::new(0.0, 0.0, 0.0, 0.0, Confidence::P5);
        assert_eq!(zero.relative_uncertainty, None);
    }
}
