//! Tests written against a named wrong implementation: each one says which
//! mutation of the code it kills, and was seen to fail with that mutation
//! applied. Expected values are literals computed outside this crate
//! (python3, the arithmetic of METHOD §4 written out; see
//! tests/independent/method.py for the same arithmetic over data/), never by
//! the code under test.

use std::collections::BTreeMap;

use crew_mrv_core::export::output_bytes;
use crew_mrv_core::{Filter, Run, Source};

use crate::fixtures::*;

const LAB: &str = "lab_results.csv";

/// Plant A operations for April 2025 with the given flows from the 1st.
fn plant_a(flows: &[f64]) -> Source {
    src(
        "PLANT_A-OPS DATA-APR25.xlsx",
        PlantA::month(d(2025, 4, 1), flows).xlsx(),
    )
}

fn lab(rows: Vec<Vec<String>>) -> String {
    lab_table(rows).to_text(',')
}

// METHOD §2: the ascending sum ------------------------------------------------

/// Downstream replicates of 2025-04-01 in the row order the issue names.
/// Summed as read: 42.7 + 43.35 + 42.18 = 128.23000000000002, / 3 =
/// 42.74333333333334; summed ascending (42.18 + 42.7 + 43.35 = 128.23) / 3
/// = 42.74333333333333 (python3: `sum(sorted(v)) / 3`).
const REPLICATES: [&str; 3] = ["42.7", "43.35", "42.18"];
const ASCENDING_MEAN: &str = "42.74333333333333";
/// METHOD §4 on flow 9.158, upstream 31.0, downstream 42.74333333333333:
/// delta 11.743333333333332, CO2 0.447038931384115 t/day.
const ASCENDING_DELTA: &str = "11.743333333333332";
const ASCENDING_CO2: &str = "0.447038931384115";

fn replicate_rows() -> Vec<Vec<String>> {
    let day = d(2025, 4, 1);
    let mut rows = vec![lab_row("PLANT_A", UP, day, 1, "31.0")];
    for (i, v) in REPLICATES.iter().enumerate() {
        rows.push(lab_row("PLANT_A", DOWN, day, i as u32 + 1, v));
    }
    rows
}

fn co2_fields(r: &Run) -> (String, String, String, String, String) {
    let row = co2_row(r, "PLANT_A", d(2025, 4, 1));
    (
        row["quality_flag"].clone(),
        row["ca_downstream_mg_per_l"].clone(),
        row["ca_downstream_n"].clone(),
        row["ca_delta_mg_per_l"].clone(),
        row["co2_removed_metric_tons_per_day"].clone(),
    )
}

fn expected_ascending() -> (String, String, String, String, String) {
    (
        "VALID".into(),
        ASCENDING_MEAN.into(),
        "3".into(),
        ASCENDING_DELTA.into(),
        ASCENDING_CO2.into(),
    )
}

/// Kills: `ordered_mean` summing in input order (drop the sort in
/// `src/method/mod.rs`), or sorting descending; both give
/// 42.74333333333334 and CO2 0.44703893138411527.
#[test]
fn replicate_mean_is_summed_ascending_through_the_pipeline() {
    let r = run_default(&[plant_a(&[9.158]), src(LAB, lab(replicate_rows()))]);
    assert_eq!(co2_fields(&r), expected_ascending());
}

/// Kills the same mutations, and any order-dependent sum that happens to
/// agree on the order above: every file order and row order gives the
/// ascending mean, to the last bit.
#[test]
fn replicate_mean_is_the_same_after_shuffling_files_and_rows() {
    let mut rng = Rng(0x5eed_0019);
    for round in 0..24 {
        let mut rows = replicate_rows();
        rng.shuffle(&mut rows);
        // The rows split over two lab files at a random point.
        let cut = rng.below(rows.len() + 1);
        let mut sources = vec![
            plant_a(&[9.158]),
            src("lab_b.csv", lab(rows[cut..].to_vec())),
            src("lab_a.csv", lab(rows[..cut].to_vec())),
        ];
        rng.shuffle(&mut sources);
        let r = run_default(&sources);
        assert_eq!(co2_fields(&r), expected_ascending(), "round {round}");
    }
}

/// The same three values as one sample reported three times (one
/// `unique_id`): METHOD §2 step 1 collapses them with the same ascending
/// mean. Kills: the step-1 mean summing in input order.
#[test]
fn repeated_sample_mean_is_summed_ascending() {
    let day = d(2025, 4, 1);
    let mut rows = vec![lab_row("PLANT_A", UP, day, 1, "31.0")];
    for v in REPLICATES {
        rows.push(lab_row("PLANT_A", DOWN, day, 1, v));
    }
    let r = run_default(&[plant_a(&[9.158]), src(LAB, lab(rows))]);
    let mut want = expected_ascending();
    want.2 = "1".into();
    assert_eq!(co2_fields(&r), want);
    assert_eq!(findings(&r, "sample_conflict").len(), 1);
}

// METHOD §5: the level-5 outlier bound ----------------------------------------

/// Calculated days of Plant A from 2025-04-01 with upstream 40 and the
/// given downstream texts.
fn outlier_days(downs: &[&str]) -> Vec<Source> {
    let rows: Vec<Vec<String>> = downs
        .iter()
        .enumerate()
        .flat_map(|(i, down)| {
            let day = d(2025, 4, 1 + i as u32);
            vec![
                lab_row("PLANT_A", UP, day, 1, "40"),
                lab_row("PLANT_A", DOWN, day, 1, down),
            ]
        })
        .collect();
    vec![plant_a(&vec![30.0; downs.len()]), src(LAB, lab(rows))]
}

/// Deltas (downstream - 40, all exact in f64): 11, 11, 12, 12, 12, 12, 13,
/// 13, then 7 and 17 exactly on the bounds, then 17.000000000000007 and
/// 6.999999999999993, one unit in the last place of the downstream value
/// outside them (python3: `math.nextafter(57, 100) - 40`,
/// `math.nextafter(47, 0) - 40`). Median 12 (mean of 12 and 12), absolute
/// deviations 0,0,0,0,1,1,1,1,5,5,5.000000000000007,5.000000000000007 →
/// MAD 1 (python3 `statistics.median`): bounds 7..17.
///
/// Kills: `<`/`>` turned into `<=`/`>=` in `qa::review::delta_outliers`
/// (the days on the bounds would be flagged); a scaled MAD (× 1.4826) or a
/// wider factor (the one-ulp days would pass); a bound of 5 × MAD taken
/// around the mean instead of the median (mean 12.25: 7 would be flagged,
/// 17.000000000000007 would not).
#[test]
fn delta_outlier_bound_is_strict_to_the_last_bit() {
    let downs = [
        "51",
        "51",
        "52",
        "52",
        "52",
        "52",
        "53",
        "53",
        "47",
        "57",
        "57.00000000000001",
        "46.99999999999999",
    ];
    let r = run_default(&outlier_days(&downs));
    let flagged: Vec<_> = findings(&r, "delta_outlier")
        .iter()
        .map(|f| f.date)
        .collect();
    assert_eq!(flagged, vec![Some(d(2025, 4, 11)), Some(d(2025, 4, 12))]);
    // The deltas really are the ones above (no rounding on the way in).
    let rows = co2_rows(&r);
    let deltas: Vec<&str> = rows
        .iter()
        .map(|x| x["ca_delta_mg_per_l"].as_str())
        .collect();
    assert_eq!(
        deltas,
        [
            "11",
            "11",
            "12",
            "12",
            "12",
            "12",
            "13",
            "13",
            "7",
            "17",
            "17.000000000000007",
            "6.999999999999993"
        ]
    );
}

// METHOD §4: KPI means and the all-plants total ---------------------------------

/// Plant A, 2025-04-01..05: three VALID days, one INVALID (upstream above
/// downstream: calculated, CO2 -2.609479421521511), one with upstream only
/// (MISSING_CA_READINGS). Plant B, 2025-04-01..03: two VALID days and one
/// with no lab data.
fn kpi_sources() -> Vec<Source> {
    let a = plant_a(&[36.2, 41.9, 37.8, 43.9, 35.0]);
    let b = PlantB::new(PlantB::days_from(d(2025, 4, 1), &[9.41, 9.299, 9.3]));
    let mut rows = Vec::new();
    for (day, up, down) in [
        (1, 38.8, 53.3),
        (2, 42.6, 54.6),
        (3, 40.1, 55.7),
        (4, 58.4, 44.1),
    ] {
        rows.extend(lab_pair("PLANT_A", d(2025, 4, day), up, down));
    }
    rows.push(lab_row("PLANT_A", UP, d(2025, 4, 5), 1, "39.2"));
    for (day, up, down) in [(1, 32.65, 40.537), (2, 35.79, 48.71)] {
        rows.extend(lab_pair("PLANT_B", d(2025, 4, day), up, down));
    }
    vec![a, src(&b.file_name(), b.xlsx()), src(LAB, lab(rows))]
}

fn summary(r: &Run) -> serde_json::Value {
    serde_json::from_slice(&output_bytes(
        crew_mrv_core::export::Output::Summary,
        r,
        &Filter::default(),
    ))
    .expect("summary.json is JSON")
}

type KpiRow = (u64, u64, Option<f64>, Option<f64>, Option<f64>);

fn kpi(v: &serde_json::Value) -> KpiRow {
    (
        v["days"].as_u64().unwrap_or(0),
        v["valid_days"].as_u64().unwrap_or(0),
        v["co2_removed_t"].as_f64(),
        v["co2_removed_mean_t_per_day"].as_f64(),
        v["ca_delta_mean_mg_per_l"].as_f64(),
    )
}

/// Literal values from python3 (METHOD §4 per day, then VALID days summed
/// in date order, plant breaking ties; means divide by the VALID count):
///
/// - Plant A: total 6.72303523070625 over 3 VALID days, mean
///   2.24101174356875, mean delta (14.5 + 12 + 15.600000000000001) / 3 =
///   14.033333333333333.
/// - Plant B: total 0.8079037991574394 over 2, mean 0.4039518995787197,
///   mean delta 10.403500000000001.
/// - All plants: 7.53093902986369 over 5, mean 1.506187805972738, mean
///   delta 12.5814.
///
/// Kills: dividing by every day (5, 3, 8), by calculated days (4 for Plant
/// A: the INVALID day), or by days with calcium; summing CO2 or the delta
/// over calculated days (adds the INVALID day's -2.609479421521511 and
/// -14.299999999999997); the all-plants total as Plant A's total + Plant
/// B's (7.530939029863689, one ulp off the date-order sum); the
/// all-plants mean as the mean of the plants' means.
#[test]
fn kpi_means_and_all_plants_total_against_literal_values() {
    let r = run_default(&kpi_sources());
    let s = summary(&r);
    assert_eq!(
        kpi(&s["plants"]["PLANT_A"]),
        (
            5,
            3,
            Some(6.72303523070625),
            Some(2.24101174356875),
            Some(14.033333333333333)
        )
    );
    assert_eq!(
        kpi(&s["plants"]["PLANT_B"]),
        (
            3,
            2,
            Some(0.8079037991574394),
            Some(0.4039518995787197),
            Some(10.403500000000001)
        )
    );
    assert_eq!(
        kpi(&s["all_plants"]),
        (
            8,
            5,
            Some(7.53093902986369),
            Some(1.506187805972738),
            Some(12.5814)
        )
    );
    let flags: BTreeMap<String, u64> = s["all_plants"]["days_by_flag"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(flags["VALID"], 5);
    assert_eq!(flags["INVALID"], 1);
    assert_eq!(flags["MISSING_CA_READINGS"], 2);
    // The INVALID day is calculated and keeps its (negative) CO2 in the
    // CSV; the KPIs above exclude it.
    assert_eq!(
        co2_row(&r, "PLANT_A", d(2025, 4, 4))["co2_removed_metric_tons_per_day"],
        "-2.609479421521511"
    );
}
