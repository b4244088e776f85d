//! METHOD §4 end to end through files: the worked example, one test per
//! flag, replicate policies and the co2_removal.csv format.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use crew_mrv_core::{Config, Filter, Kpis, ReplicatePolicy};

use crate::fixtures::*;

const APR: &str = "PLANT_A-OPS DATA-APR25.xlsx";
const LAB: &str = "lab_results.csv";

/// METHOD §1 with PROFILES.md's `flow_unit`, §7's σ columns and the review columns, typed out
/// here rather than taken from the code.
const CO2_HEADER: &str =
    "plant_id,date,ca_upstream_mg_per_l,ca_downstream_mg_per_l,ca_delta_mg_per_l,flow_mgd,\
flow_m3_per_day,flow_l_per_day,ca_to_caco3_ratio,co2_to_caco3_ratio,caco3_mg,co2_mg,\
co2_removed_metric_tons_per_day,quality_flag,validation_message,calculation_version,ca_upstream_n,\
ca_downstream_n,ops_source,flow_unit,ca_upstream_sigma_mg_per_l,ca_downstream_sigma_mg_per_l,\
ca_delta_sigma_mg_per_l,co2_sigma_lab_t,co2_sigma_flow_t,co2_sigma_t,review_status,review_note,inputs_sha256";

/// The §4 arithmetic written out independently, in the written order.
fn expected(flow: f64, up: f64, down: f64) -> [f64; 8] {
    let delta = down - up;
    let m3 = flow * 3785.41;
    let l = m3 * 1000.0;
    let r1 = 100.0869 / 40.078;
    let r2 = 44.0095 / 100.0869;
    let caco3 = delta * l * r1;
    let co2 = caco3 * r2;
    [delta, m3, l, r1, r2, caco3, co2, co2 / 1e9]
}

/// A Plant A month with `flows` from April 1st and a lab file with the
/// given (date, up, down) pairs.
fn run_a(flows: &[&str], lab: Vec<Vec<String>>) -> crew_mrv_core::Run {
    let mut wb = PlantA::month(d(2025, 4, 1), &vec![1.0; flows.len()]);
    for (i, f) in flows.iter().enumerate() {
        wb.days[i] = wb.days[i].clone().with(A_EFF, f);
    }
    run_default(&[src(APR, wb.xlsx()), src(LAB, lab_table(lab).to_text(','))])
}

fn line_of(r: &crew_mrv_core::Run, date: NaiveDate) -> String {
    let iso = date.format("%Y-%m-%d").to_string();
    output(r, "co2_removal.csv")
        .lines()
        .find(|l| l.split(',').nth(1) == Some(iso.as_str()))
        .unwrap_or_else(|| panic!("no line for {iso}"))
        .to_string()
}

/// The worked example's METHOD §7 columns: the fixture's lab rows state
/// an uncertainty of 0.24 mg/L, the meter is the default 5 %. Computed in
/// python3 in §7's order: both readings' σ, their root sum of squares, the
/// lab and flow tonnes and their root sum of squares.
const SIGMAS: &str = "0.24,0.24,0.33941125496954283,0.044018389825263016,0.0901348452080738,\
0.10030906720477586";

#[test]
fn worked_example_end_to_end_through_files() {
    let r = run_a(&["31.2"], lab_pair("PLANT_A", d(2025, 4, 1), 39.8, 53.7));
    let e = expected(31.2, 39.8, 53.7);
    assert_eq!(format!("{:.7}", e[7]), "1.8026969");
    let text = output(&r, "co2_removal.csv");
    // Unreviewed; its inputs are the workbook and the lab file.
    let mut shas = [file(&r, APR).sha256.clone(), file(&r, LAB).sha256.clone()];
    shas.sort();
    let inputs = crew_mrv_core::sha256_hex(format!("{}\n{}\n", shas[0], shas[1]).as_bytes());
    let want = format!(
        "{CO2_HEADER}\n\"PLANT_A\",2025-04-01,39.8,53.7,{},31.2,{},{},{},{},{},{},{},VALID,,1.1.0,1,1,\"{APR}\",MGD,{SIGMAS},unreviewed,,{inputs}\n",
        e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]
    );
    assert_eq!(text, want);
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    let t: f64 = row["co2_removed_metric_tons_per_day"]
        .parse()
        .expect("number");
    assert_eq!(
        t.to_bits(),
        e[7].to_bits(),
        "bit for bit, and read back exactly"
    );
    assert!(
        (t - 1.806).abs() > 1e-3,
        "not the legacy MW_Ca = 40.0 result"
    );
}

#[test]
fn co2_removal_header_is_method_section_1() {
    let r = run_default(&[]);
    assert_eq!(output(&r, "co2_removal.csv"), format!("{CO2_HEADER}\n"));
}

fn assert_blank_derived(row: &BTreeMap<String, String>) {
    for c in DERIVED {
        assert_eq!(row[c], "", "{c} must be blank on a day not calculated");
    }
    assert_eq!(row["calculation_version"], "1.1.0");
}

#[test]
fn flag_valid() {
    let r = run_a(&["40"], lab_pair("PLANT_A", d(2025, 4, 1), 40.0, 50.0));
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(row["quality_flag"], "VALID");
    assert_eq!(row["validation_message"], "");
    assert!(DERIVED.iter().all(|c| !row[*c].is_empty()));
    assert!(
        findings(&r, "invalid_delta").is_empty() && findings(&r, "missing_ca_readings").is_empty()
    );
}

#[test]
fn flag_invalid_is_calculated_and_flagged() {
    let r = run_a(&["40", "40"], {
        let mut v = lab_pair("PLANT_A", d(2025, 4, 1), 50.0, 45.0);
        v.extend(lab_pair("PLANT_A", d(2025, 4, 2), 50.0, 50.0));
        v
    });
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(row["quality_flag"], "INVALID");
    assert_eq!(
        row["validation_message"],
        "Ca delta -5 mg/L <= 0 (downstream 45 - upstream 50)"
    );
    let e = expected(40.0, 50.0, 45.0);
    assert_eq!(row["ca_delta_mg_per_l"], "-5");
    assert_eq!(
        row["co2_removed_metric_tons_per_day"],
        e[7].to_string(),
        "calculated although flagged"
    );
    let zero = co2_row(&r, "PLANT_A", d(2025, 4, 2));
    assert_eq!(zero["quality_flag"], "INVALID", "a zero delta is not > 0");
    assert_eq!(zero["ca_delta_mg_per_l"], "0");
    let f = findings(&r, "invalid_delta");
    assert_eq!(f.len(), 2);
    // Totals count VALID days only.
    let k = Kpis::of(r.days(&Filter::default()));
    assert_eq!((k.valid_days, k.co2_removed_t), (0, 0.0));
    assert_eq!(k.days_by_flag[&crew_mrv_core::model::Flag::Invalid], 2);
}

#[test]
fn flag_missing_ca_readings_keeps_the_inputs_and_blanks_the_rest() {
    let r = run_a(
        &["40", "41", "42"],
        vec![lab_row("PLANT_A", DOWN, d(2025, 4, 1), 1, "50")],
    );
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(row["quality_flag"], "MISSING_CA_READINGS");
    assert_eq!(
        row["validation_message"],
        "Missing upstream calcium readings"
    );
    assert_eq!(
        (
            row["ca_upstream_mg_per_l"].as_str(),
            row["ca_downstream_mg_per_l"].as_str()
        ),
        ("", "50")
    );
    assert_eq!(row["flow_mgd"], "40");
    assert_eq!(
        (
            row["ca_upstream_n"].as_str(),
            row["ca_downstream_n"].as_str()
        ),
        ("0", "1")
    );
    assert_eq!(row["ops_source"], APR);
    assert_blank_derived(&row);
    let none = co2_row(&r, "PLANT_A", d(2025, 4, 2));
    assert_eq!(
        none["validation_message"],
        "Missing upstream and downstream calcium readings"
    );
    assert_blank_derived(&none);
    assert_eq!(findings(&r, "missing_ca_readings").len(), 3);
}

#[test]
fn flag_invalid_flow_for_negative_zero_blank_and_provisional_flows() {
    let lab: Vec<Vec<String>> = (1..=3)
        .flat_map(|i| lab_pair("PLANT_A", d(2025, 4, i), 40.0, 50.0))
        .collect();
    let r = run_a(&["-3", "0", ""], lab);
    let neg = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(neg["quality_flag"], "INVALID_FLOW");
    assert_eq!(neg["validation_message"], "Effluent flow -3 MGD is not > 0");
    assert_eq!(
        neg["flow_mgd"], "-3",
        "a measured flow is shown even when invalid"
    );
    assert_eq!(
        (
            neg["ca_upstream_mg_per_l"].as_str(),
            neg["ca_downstream_mg_per_l"].as_str()
        ),
        ("40", "50")
    );
    assert_blank_derived(&neg);
    // Plant A has no influent column: a 0 or blank effluent flow is a
    // placeholder (METHOD §3), never a measured zero.
    for x in [d(2025, 4, 2), d(2025, 4, 3)] {
        let row = co2_row(&r, "PLANT_A", x);
        assert_eq!(row["quality_flag"], "INVALID_FLOW");
        assert!(
            row["validation_message"].contains("provisional"),
            "{}",
            row["validation_message"]
        );
        assert_eq!(row["flow_mgd"], "");
        assert_blank_derived(&row);
    }
    let f = findings(&r, "invalid_flow");
    assert_eq!(f.len(), 3);
    assert_eq!(
        (f[0].at.row, f[0].source_file.as_deref()),
        (Some(2), Some(APR))
    );
}

#[test]
fn flag_invalid_flow_when_influent_is_present_but_effluent_is_zero() {
    // Plant B with influent filled: a 0 effluent flow is not a placeholder.
    let mut days = PlantB::days_from(d(2025, 4, 4), &[9.1, 9.2]);
    days[1].eff = 0.0;
    let wb = PlantB::new(days);
    let lab = lab_table(lab_pair("PLANT_B", d(2025, 4, 5), 40.0, 50.0)).to_text(',');
    let r = run_default(&[src(&wb.file_name(), wb.xlsx()), src(LAB, lab)]);
    let row = co2_row(&r, "PLANT_B", d(2025, 4, 5));
    assert_eq!(row["quality_flag"], "INVALID_FLOW");
    assert_eq!(row["validation_message"], "Effluent flow 0 MGD is not > 0");
    assert_eq!(row["flow_mgd"], "0");
    assert!(findings(&r, "provisional_day").is_empty());
}

#[test]
fn flag_no_ops_data() {
    let lab = lab_table(lab_pair("PLANT_A", d(2025, 5, 20), 40.0, 50.0)).to_text(',');
    let r = run_default(&[src(LAB, lab)]);
    let row = co2_row(&r, "PLANT_A", d(2025, 5, 20));
    assert_eq!(row["quality_flag"], "NO_OPS_DATA");
    assert_eq!(row["validation_message"], "No operations data for this day");
    assert_eq!(
        (row["flow_mgd"].as_str(), row["ops_source"].as_str()),
        ("", "")
    );
    assert_eq!(
        (
            row["ca_upstream_mg_per_l"].as_str(),
            row["ca_downstream_mg_per_l"].as_str()
        ),
        ("40", "50")
    );
    assert_blank_derived(&row);
    let f = findings(&r, "no_ops_data");
    assert_eq!(
        (f.len(), f[0].level, f[0].date),
        (1, 4, Some(d(2025, 5, 20)))
    );
}

#[test]
fn the_first_failure_decides_the_flag_and_every_failure_is_listed() {
    let lab = lab_table(vec![lab_row("PLANT_A", UP, d(2025, 5, 20), 1, "40")]).to_text(',');
    let r = run_default(&[src(LAB, lab)]);
    let row = co2_row(&r, "PLANT_A", d(2025, 5, 20));
    assert_eq!(row["quality_flag"], "NO_OPS_DATA");
    assert_eq!(
        row["validation_message"],
        "No operations data for this day; Missing downstream calcium readings"
    );
    let r = run_a(&["0"], lab_pair("PLANT_A", d(2025, 4, 1), 50.0, 45.0));
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(row["quality_flag"], "INVALID_FLOW");
    assert!(row["validation_message"]
        .ends_with("; Ca delta -5 mg/L <= 0 (downstream 45 - upstream 50)"));
}

#[test]
fn replicate_policy_mean_versus_first() {
    let day = d(2025, 4, 1);
    // Input order is files by name, then rows: lab_a.csv comes first even
    // when given second. Its first upstream row is replicate 2 (60).
    let a = lab_table(vec![
        lab_row("PLANT_A", UP, day, 2, "60"),
        lab_row("PLANT_A", UP, day, 1, "50"),
        lab_row("PLANT_A", UP, day, 1, "52"),
        lab_row("PLANT_A", DOWN, day, 1, "70"),
    ])
    .to_text(',');
    let b = lab_table(vec![
        lab_row("PLANT_A", UP, day, 3, "55"),
        lab_row("PLANT_A", DOWN, day, 2, "72"),
    ])
    .to_text(',');
    let wb = PlantA::month(d(2025, 4, 1), &[30.0]).xlsx();
    let sources = [src("lab_b.csv", b), src(APR, wb), src("lab_a.csv", a)];
    let mean = run_with(&sources, &Config::default());
    let first = run_with(
        &sources,
        &Config {
            replicate_policy: ReplicatePolicy::First,
            ..Config::default()
        },
    );
    let m = co2_day(&mean, "PLANT_A", day);
    let f = co2_day(&first, "PLANT_A", day);
    // Samples _01 = mean(50, 52) = 51, _02 = 60, _03 = 55.
    assert_eq!(m.ca_upstream_mg_per_l, Some((51.0 + 55.0 + 60.0) / 3.0));
    assert_eq!(m.ca_downstream_mg_per_l, Some(71.0));
    assert_eq!(
        f.ca_upstream_mg_per_l,
        Some(60.0),
        "first row in input order"
    );
    assert_eq!(f.ca_downstream_mg_per_l, Some(70.0));
    assert_eq!((m.ca_upstream_n, m.ca_downstream_n), (3, 2));
    assert_eq!(
        (f.ca_upstream_n, f.ca_downstream_n),
        (3, 2),
        "counts whatever the policy"
    );
    let s = crew_mrv_core::export::summary_json(&first, &Filter::default());
    assert!(s.contains("\"replicate_policy\": \"first\""), "{s}");
}

#[test]
fn floats_are_printed_shortest_round_trip() {
    let lab = vec![
        lab_row("PLANT_A", UP, d(2025, 4, 1), 1, "29.199999999999996"),
        lab_row("PLANT_A", DOWN, d(2025, 4, 1), 1, "42.01231736087999"),
    ];
    let r = run_a(&["31.000"], lab);
    let line = line_of(&r, d(2025, 4, 1));
    assert!(
        line.starts_with("\"PLANT_A\",2025-04-01,29.199999999999996,42.01231736087999,"),
        "{line}"
    );
    let row = co2_row(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(row["flow_mgd"], "31");
    for c in DERIVED {
        let v: f64 = row[c].parse().expect("number");
        assert_eq!(v.to_string(), row[c], "{c} is shortest form");
    }
}

#[test]
fn rows_are_sorted_by_plant_then_date() {
    let a = PlantA::month(d(2025, 4, 1), &[30.0, 31.0]).xlsx();
    let b = PlantB::new(PlantB::days_from(d(2025, 3, 30), &[9.1, 9.2, 9.3])).xlsx();
    let lab = lab_table(vec![
        lab_row("PLANT_B", UP, d(2025, 4, 10), 1, "40"),
        lab_row("PLANT_A", UP, d(2025, 3, 15), 1, "40"),
        lab_row("PLANT_A", UP, d(2025, 4, 9), 1, "40"),
    ])
    .to_text(',');
    let r = run_default(&[src("b.xlsx", b), src(LAB, lab), src(APR, a)]);
    let keys: Vec<(String, String)> = co2_rows(&r)
        .into_iter()
        .map(|x| (x["plant_id"].clone(), x["date"].clone()))
        .collect();
    let want: Vec<(String, String)> = [
        ("PLANT_A", "2025-03-15"),
        ("PLANT_A", "2025-04-01"),
        ("PLANT_A", "2025-04-02"),
        ("PLANT_A", "2025-04-09"),
        ("PLANT_B", "2025-03-30"),
        ("PLANT_B", "2025-03-31"),
        ("PLANT_B", "2025-04-01"),
        ("PLANT_B", "2025-04-10"),
    ]
    .iter()
    .map(|(p, x)| (p.to_string(), x.to_string()))
    .collect();
    assert_eq!(keys, want);
}

#[test]
fn totals_use_valid_days_only_summed_in_date_order() {
    let flows = ["31.2", "40", "35", "0"];
    let mut lab = lab_pair("PLANT_A", d(2025, 4, 1), 39.8, 53.7);
    lab.extend(lab_pair("PLANT_A", d(2025, 4, 2), 41.0, 52.5));
    lab.extend(lab_pair("PLANT_A", d(2025, 4, 3), 55.0, 50.0));
    lab.extend(lab_pair("PLANT_A", d(2025, 4, 4), 40.0, 50.0));
    let r = run_a(&flows, lab);
    let k = Kpis::of(r.days(&Filter::default()));
    let e1 = expected(31.2, 39.8, 53.7);
    let e2 = expected(40.0, 41.0, 52.5);
    assert_eq!(k.valid_days, 2);
    assert_eq!(k.co2_removed_t.to_bits(), (0.0 + e1[7] + e2[7]).to_bits());
    assert_eq!(k.days, 4);
    let s: serde_json::Value =
        serde_json::from_str(&crew_mrv_core::export::summary_json(&r, &Filter::default()))
            .expect("json");
    assert_eq!(s["all_plants"]["valid_days"], 2);
    assert_eq!(s["all_plants"]["days_by_flag"]["INVALID"], 1);
    assert_eq!(s["all_plants"]["days_by_flag"]["INVALID_FLOW"], 1);
    assert_eq!(s["method_version"], "1.1.0");
    assert_eq!(
        s["plants"]["PLANT_A"]["co2_removed_t"].as_f64(),
        Some(e1[7] + e2[7])
    );
}

/// The calculation sheet of METHOD.md's worked example day walks §4 with
/// its constants to 1.8026969 t, the number in the table, from the cells
/// the day used.
#[test]
fn the_worked_example_days_calculation_sheet_ends_at_its_tonnes() {
    let r = run_a(&["31.2"], lab_pair("PLANT_A", d(2025, 4, 1), 39.8, 53.7));
    let sheet = crew_mrv_core::explain::explain(&r, "PLANT_A", d(2025, 4, 1)).expect("day");
    let e = expected(31.2, 39.8, 53.7);
    let values: Vec<f64> = sheet.chain.iter().map(|s| s.value).collect();
    // The chain's order: delta, m³, L, Ca→CaCO3, CaCO3, CO2/CaCO3, CO2, t.
    assert_eq!(values, [e[0], e[1], e[2], e[3], e[5], e[4], e[6], e[7]]);
    let last = sheet.chain.last().expect("steps");
    assert_eq!(format!("{:.7}", last.value), "1.8026969");
    assert_eq!(sheet.samples.len(), 2);
    assert_eq!(sheet.samples[0].value, Some(39.8));
    assert_eq!(&*sheet.operations[0].file, APR);
    assert_eq!(sheet.operations[0].value, Some(31.2));
    let text = sheet.to_string();
    assert!(text.contains("CO2 removed: 1.8026969 t"), "{text}");
    assert!(text.contains("MW CaCO3 100.0869 / MW Ca 40.078"), "{text}");
    assert!(text.contains("31.2 MGD × 3785.41 m³/MG"), "{text}");
    assert!(text.contains("Review: unreviewed"), "{text}");
    assert!(crew_mrv_core::explain::explain(&r, "PLANT_A", d(2025, 5, 1)).is_none());
}
