//! METHOD §7 end to end through files: each day's σ step by step, the
//! period figures with the flow error correlated within a plant, the
//! conservative total, and the sensitivity table. Every expected number
//! was computed independently in python3 in §7's order and is written here
//! as a literal; none is taken from the code under test.
//!
//! The scenario (Plant A, April 2025, meter 2.5 %):
//! - 04-01: flow 31.2 MGD; upstream samples 39.6 (σ 0.3) then 40.0 (σ 0.4),
//!   downstream 53.7 with no stated uncertainty (2 % default = 1.074).
//!   Under `mean` this is METHOD §4's worked example (1.8026969 t).
//! - 04-02: flow 28.5; upstream 41.0 (σ 0.5), downstream 50.2 (σ 0.6).
//! - 04-03: flow 30.0; upstream 50.0, downstream 45.0 (σ 0.24 each):
//!   INVALID, calculated.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use crew_mrv_core::config::Confidence;
use crew_mrv_core::{Config, Filter, ReplicatePolicy, Run};

use crate::fixtures::*;

const APR: &str = "PLANT_A-OPS DATA-APR25.xlsx";
const LAB: &str = "lab_results.csv";

/// Lab rows `(plant, unit, date, replicate, value, uncertainty)`.
type LabRow<'a> = (&'a str, &'a str, NaiveDate, u32, &'a str, &'a str);

fn lab(rows: &[LabRow<'_>]) -> String {
    let mut t = lab_table(
        rows.iter()
            .map(|(p, u, date, rep, v, _)| lab_row(p, u, *date, *rep, v))
            .collect(),
    );
    for (i, r) in rows.iter().enumerate() {
        t.set(i, "uncertainty", r.5);
    }
    t.to_text(',')
}

fn scenario_lab() -> Vec<LabRow<'static>> {
    vec![
        ("PLANT_A", UP, d(2025, 4, 1), 1, "39.6", "0.3"),
        ("PLANT_A", UP, d(2025, 4, 1), 2, "40.0", "0.4"),
        ("PLANT_A", DOWN, d(2025, 4, 1), 1, "53.7", ""),
        ("PLANT_A", UP, d(2025, 4, 2), 1, "41.0", "0.5"),
        ("PLANT_A", DOWN, d(2025, 4, 2), 1, "50.2", "0.6"),
        ("PLANT_A", UP, d(2025, 4, 3), 1, "50.0", "0.24"),
        ("PLANT_A", DOWN, d(2025, 4, 3), 1, "45.0", "0.24"),
    ]
}

fn config(policy: ReplicatePolicy, confidence: Confidence, meter_a: f64) -> Config {
    let mut c = Config {
        replicate_policy: policy,
        confidence,
        ..Config::default()
    };
    c.meter_uncertainty_percent
        .insert("PLANT_A".into(), meter_a);
    c
}

fn scenario(cfg: &Config) -> Run {
    let ops = PlantA::month(d(2025, 4, 1), &[31.2, 28.5, 30.0]).xlsx();
    run_with(&[src(APR, ops), src(LAB, lab(&scenario_lab()))], cfg)
}

fn sigmas(r: &Run, date: NaiveDate) -> [String; 6] {
    let row = co2_row(r, "PLANT_A", date);
    [
        "ca_upstream_sigma_mg_per_l",
        "ca_downstream_sigma_mg_per_l",
        "ca_delta_sigma_mg_per_l",
        "co2_sigma_lab_t",
        "co2_sigma_flow_t",
        "co2_sigma_t",
    ]
    .map(|c| row[c].clone())
}

fn summary(r: &Run, filter: &Filter) -> serde_json::Value {
    serde_json::from_str(&crew_mrv_core::export::summary_json(r, filter)).expect("json")
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn a_day_under_mean_has_each_sigma_step_by_hand() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 2.5));
    // Upstream: analytical sqrt(0.3² + 0.4²) / 2 = 0.25 beats the scatter
    // 0.2 (catches dividing by sqrt(n) instead of n, or taking the
    // scatter). Downstream: 2 % of 53.7 (catches ignoring the default).
    // Then sqrt(0.25² + 1.074²), × flow × ratios / 1e9, 2.5 % of the
    // tonnes, and their root sum of squares.
    assert_eq!(
        sigmas(&r, d(2025, 4, 1)),
        [
            "0.25",
            "1.074",
            "1.1027130179697708",
            "0.14301131968868078",
            "0.0450674226040369",
            "0.14994435681034785",
        ]
    );
    // An INVALID day is calculated, so it has its σ; the flow term uses the
    // absolute tonnes (catches a negative σ from a negative delta).
    assert_eq!(
        co2_row(&r, "PLANT_A", d(2025, 4, 3))["quality_flag"],
        "INVALID"
    );
    assert_eq!(
        sigmas(&r, d(2025, 4, 3)),
        [
            "0.24",
            "0.24",
            "0.33941125496954283",
            "0.04232537483198366",
            "0.015587791437478163",
            "0.045104507497214",
        ]
    );
}

#[test]
fn a_day_under_first_takes_the_first_rows_sample() {
    let r = scenario(&config(ReplicatePolicy::First, Confidence::P16, 2.5));
    // The first row's sample is 39.6 with σ 0.3 (catches using the mean's
    // σ, or the last sample's 0.4, under `first`).
    assert_eq!(
        sigmas(&r, d(2025, 4, 1)),
        [
            "0.3",
            "1.074",
            "1.1151125503732797",
            "0.14461942031291497",
            "0.045715874727835976",
            "0.15167306265047448",
        ]
    );
}

#[test]
fn days_not_calculated_keep_reading_sigmas_only() {
    // A day with only an upstream reading: its σ is shown, the derived ones
    // are blank (catches filling or dropping them together).
    let ops = PlantA::month(d(2025, 4, 1), &[31.2]).xlsx();
    let rows = [("PLANT_A", UP, d(2025, 4, 1), 1, "39.8", "0.3")];
    let r = run_default(&[src(APR, ops), src(LAB, lab(&rows))]);
    assert_eq!(
        sigmas(&r, d(2025, 4, 1)),
        ["0.3", "", "", "", "", ""].map(String::from)
    );
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(row["flow_unit"], "MGD");
    // Without operations the flow unit is blank (PROFILES.md).
    let r = run_default(&[src(LAB, lab(&rows))]);
    assert_eq!(co2_row(&r, "PLANT_A", d(2025, 4, 1))["flow_unit"], "");
}

#[test]
fn period_flow_error_is_correlated_within_a_plant() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 2.5));
    let s = summary(&r, &Filter::default());
    let u = &s["uncertainty"]["PLANT_A"];
    // VALID days 04-01 and 04-02 only.
    assert_eq!(f(&u["total_t"]), 2.8925952814699496);
    // Lab errors add in quadrature: sqrt(0.14301…² + 0.09252…²).
    assert_eq!(f(&u["sigma_lab_t"]), 0.17033282413101306);
    // One meter: 2.5 % of the total, not the quadrature sum of the days'
    // 0.0450… and 0.0272… (0.0527; catches treating the meter as random).
    assert_eq!(f(&u["sigma_flow_t"]), 0.07231488203674874);
    assert_eq!(f(&u["sigma_t"]), 0.18504786715992028);
    assert_eq!(f(&u["relative_uncertainty"]), 0.06397295478746798);
    assert_eq!(u["confidence"], "p16");
    assert_eq!(f(&u["z"]), 1.0);
    assert_eq!(f(&u["conservative_t"]), 2.7075474143100293);
    assert_eq!(f(&u["uncertainty_discount_t"]), 0.18504786715992028);
    // The settings are recorded.
    assert_eq!(s["confidence"], "p16");
    assert_eq!(f(&s["lab_default_relative"]), 0.02);
    assert_eq!(f(&s["meter_uncertainty_percent"]["PLANT_A"]), 2.5);
}

#[test]
fn p5_discounts_1_645_sigma_and_p16_one() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P5, 2.5));
    let s = summary(&r, &Filter::default());
    let u = &s["uncertainty"]["PLANT_A"];
    // Catches the two settings swapped, or a rounded z such as 1.645.
    assert_eq!(u["confidence"], "p5");
    assert_eq!(f(&u["z"]), 1.6448536269514722);
    assert_eq!(f(&u["conservative_t"]), 2.5882186260123206);
    assert_eq!(f(&u["uncertainty_discount_t"]), 0.30437665545762904);
    assert_eq!(
        f(&u["sigma_t"]),
        0.18504786715992028,
        "σ does not depend on z"
    );
}

#[test]
fn conservative_total_is_floored_at_zero() {
    // A 500 % meter: σ is far above the total (catches a negative credit).
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 500.0));
    let s = summary(&r, &Filter::default());
    let u = &s["uncertainty"]["PLANT_A"];
    assert_eq!(f(&u["conservative_t"]), 0.0);
    assert_eq!(f(&u["uncertainty_discount_t"]), 2.8925952814699496);
    assert_eq!(f(&s["uncertainty"]["all"]["conservative_t"]), 0.0);
}

#[test]
fn all_plants_add_lab_and_flow_variances_separately() {
    // Plant B: one day, flow 10 MGD, 40.0 -> 48.0 (σ 0.2 each), 5 % meter.
    let ops_a = PlantA::month(d(2025, 4, 1), &[31.2, 28.5, 30.0]).xlsx();
    let b = PlantB::new(PlantB::days_from(d(2025, 4, 1), &[10.0]));
    let mut rows = scenario_lab();
    rows.push(("PLANT_B", UP, d(2025, 4, 1), 1, "40.0", "0.2"));
    rows.push(("PLANT_B", DOWN, d(2025, 4, 1), 1, "48.0", "0.2"));
    let r = run_with(
        &[
            src(APR, ops_a),
            src(&b.file_name(), b.xlsx()),
            src(LAB, lab(&rows)),
        ],
        &config(ReplicatePolicy::Mean, Confidence::P16, 2.5),
    );
    let s = summary(&r, &Filter::default());
    let pb = &s["uncertainty"]["PLANT_B"];
    assert_eq!(f(&pb["total_t"]), 0.3325395506662009);
    assert_eq!(f(&pb["sigma_flow_t"]), 0.016626977533310047);
    let all = &s["uncertainty"]["all"];
    assert_eq!(f(&all["total_t"]), 3.2251348321361504);
    assert_eq!(f(&all["sigma_lab_t"]), 0.1707381011004668);
    // Different meters: flow σ in quadrature across plants, not added
    // (0.0890; catches one meter for all).
    assert_eq!(f(&all["sigma_flow_t"]), 0.07420174220247179);
    assert_eq!(f(&all["sigma_t"]), 0.18616497445350805);
    assert_eq!(f(&all["relative_uncertainty"]), 0.057723160160160714);
    assert_eq!(f(&all["conservative_t"]), 3.0389698576826425);
    assert_eq!(f(&all["uncertainty_discount_t"]), 0.18616497445350788);
    assert_eq!(f(&s["meter_uncertainty_percent"]["PLANT_B"]), 5.0);
}

const SENSITIVITY_HEADER: &str =
    "plant_id,input,perturbation,total_t,change_t,change_relative,sensitive";

#[test]
fn sensitivity_csv_rows_with_flags_recomputed() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 2.5));
    // Base total 2.8925952814699496. Upstream × 0.8 turns 04-03 (50 -> 40
    // against 45) from INVALID to VALID, and downstream × 0.8 turns 04-02
    // (40.16 against 41) INVALID: the totals below include those flips
    // (catches scaling the tonnes instead of re-evaluating the days). The
    // other policy moves the total by 0.9 %: not sensitive.
    let want = format!(
        "{SENSITIVITY_HEADER}
\"PLANT_A\",ca_upstream,x0.8,5.519873882440868,2.627278600970919,0.9082772891877902,true
\"PLANT_A\",ca_upstream,x1.2,0.8888283379981565,-2.003766943471793,-0.6927228832557333,true
\"PLANT_A\",ca_downstream,x0.8,0.40982174224102735,-2.4827735392289223,-0.858320400068977,true
\"PLANT_A\",ca_downstream,x1.2,5.973690607235032,3.081095325765083,1.0651664080013785,true
\"PLANT_A\",effluent_flow,x0.8,2.3140762251759597,-0.5785190562939899,-0.2,true
\"PLANT_A\",effluent_flow,x1.2,3.4711143377639395,0.5785190562939899,0.2,true
\"PLANT_A\",replicate_policy,first,2.918533366421913,0.02593808495196326,0.008967063286773436,false
"
    );
    assert_eq!(output(&r, "sensitivity.csv"), want);
    // Sensitivity runs produce no findings: the same findings as a run of
    // the same files (catches findings of the perturbed days leaking in).
    let invalid: Vec<_> = findings(&r, "invalid_delta");
    assert_eq!(invalid.len(), 1, "only the base run's INVALID day");
}

#[test]
fn filters_apply_to_period_figures_and_sensitivity_alike() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 2.5));
    let day2 = Filter {
        from: Some(d(2025, 4, 2)),
        to: Some(d(2025, 4, 2)),
        ..Filter::default()
    };
    let s = summary(&r, &day2);
    assert_eq!(
        f(&s["uncertainty"]["PLANT_A"]["total_t"]),
        1.0898983773084738
    );
    // Catches a table computed over every day whatever the filter.
    let want = format!(
        "{SENSITIVITY_HEADER}
\"PLANT_A\",ca_upstream,x0.8,2.061329539692113,0.9714311623836391,0.8913043478260865,true
\"PLANT_A\",ca_upstream,x1.2,0.11846721492483492,-0.9714311623836389,-0.8913043478260863,true
\"PLANT_A\",ca_downstream,x0.8,0,-1.0898983773084738,-1,true
\"PLANT_A\",ca_downstream,x1.2,2.279309215153808,1.1894108378453343,1.0913043478260869,true
\"PLANT_A\",effluent_flow,x0.8,0.8719187018467791,-0.21797967546169472,-0.19999999999999996,true
\"PLANT_A\",effluent_flow,x1.2,1.3078780527701686,0.21797967546169472,0.19999999999999996,true
\"PLANT_A\",replicate_policy,first,1.0898983773084738,0,0,false
"
    );
    assert_eq!(
        String::from_utf8_lossy(&crew_mrv_core::export::output_bytes(
            crew_mrv_core::export::Output::Sensitivity,
            &r,
            &day2
        )),
        want
    );
}

#[test]
fn a_zero_base_total_leaves_change_relative_blank() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 2.5));
    // Only 04-03, INVALID: the base total is 0, and upstream × 0.8 makes
    // it VALID with 0.6235116574991265 t: sensitive by a change that is
    // not 0, with no relative change (catches a division by zero).
    let day3 = Filter {
        from: Some(d(2025, 4, 3)),
        to: Some(d(2025, 4, 3)),
        ..Filter::default()
    };
    let s = summary(&r, &day3);
    assert_eq!(
        s["uncertainty"]["PLANT_A"]["relative_uncertainty"],
        serde_json::Value::Null
    );
    let text = String::from_utf8_lossy(&crew_mrv_core::export::output_bytes(
        crew_mrv_core::export::Output::Sensitivity,
        &r,
        &day3,
    ))
    .into_owned();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        rows[..2],
        [
            "\"PLANT_A\",ca_upstream,x0.8,0.6235116574991265,0.6235116574991265,,true",
            "\"PLANT_A\",ca_upstream,x1.2,0,0,,true",
        ]
    );
    assert_eq!(rows[6], "\"PLANT_A\",replicate_policy,first,0,0,,false");
}

#[test]
fn plant_operations_gain_cubic_metres_and_unit() {
    let r = scenario(&config(ReplicatePolicy::Mean, Confidence::P16, 2.5));
    let (header, rows) = parse_csv(&output(&r, "plant_operations.csv"));
    assert_eq!(
        header[header.len() - 2..],
        ["actual_eff_flow_m3_per_day", "flow_unit"]
    );
    let by_date: BTreeMap<&str, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["date"].as_str(), r)).collect();
    // 31.2 × 3785.41, as §4's flow_m3_per_day (python3: 118104.79199999999).
    assert_eq!(
        by_date["2025-04-01"]["actual_eff_flow_m3_per_day"],
        "118104.79199999999"
    );
    assert_eq!(by_date["2025-04-01"]["flow_unit"], "MGD");
}
