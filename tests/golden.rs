//! Golden values for the committed sample set (data/), computed by an
//! independent script: tests/independent/method.py (Python stdlib, METHOD
//! §2 and §4 written out; flows from the CLI's plant_operations.csv). `make
//! independent` (part of `make test`) reruns it and checks every literal
//! below, and every row of co2_removal.csv, against it. The facts behind
//! the chosen days are listed in data/README.md.

use std::path::Path;

use crew_mrv_core::export::{output_bytes, Output};
use crew_mrv_core::{run, Config, Filter, ReplicatePolicy, Source};

fn sample_set() -> Option<Vec<Source>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            [".csv", ".xlsx", ".xls", ".toml"]
                .iter()
                .any(|x| n.ends_with(x))
        })
        .collect();
    names.sort();
    Some(
        names
            .into_iter()
            .filter_map(|n| std::fs::read(dir.join(&n)).ok().map(|b| Source::new(n, b)))
            .collect(),
    )
}

fn co2_rows(policy: ReplicatePolicy) -> Vec<Vec<String>> {
    let sources = sample_set().unwrap_or_default();
    assert_eq!(sources.len(), 17, "data/ holds the 17 sample files");
    let config = Config {
        replicate_policy: policy,
        ..Config::default()
    };
    let report = run(&sources, &config);
    assert!(report.all_files_read());
    let csv = output_bytes(Output::Co2Removal, &report, &Filter::default());
    let mut rdr = csv::Reader::from_reader(csv.as_slice());
    rdr.records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

fn day<'a>(rows: &'a [Vec<String>], plant: &str, date: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == plant && r[1] == date)
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no row for {plant} {date}"))
}

/// (plant, date, flag, Ca up, Ca down, flow MGD, CO2 t/day) as the
/// independent script printed them ("" = blank).
const MEAN: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "PLANT_A",
        "2025-04-01",
        "VALID",
        "38.84173453712446",
        "53.349579475074094",
        "36.2",
        "2.1830555871523116",
    ),
    // Upstream sample reported twice with different values (43.26 / 42.012…): their mean.
    (
        "PLANT_A",
        "2025-04-02",
        "VALID",
        "42.63615868043999",
        "54.61999999999999",
        "41.9",
        "2.087196757512728",
    ),
    // Downstream replicates 58.3, 63.9, 55.1.
    (
        "PLANT_A",
        "2025-05-14",
        "VALID",
        "46.66",
        "59.1",
        "37.8",
        "1.9546342248608632",
    ),
    // Revised by the later report: 9.163 → 9.194.
    (
        "PLANT_B",
        "2025-04-08",
        "VALID",
        "32.65",
        "40.53700929777883",
        "9.194",
        "0.3014186850285062",
    ),
    // Placeholder (0, blank influent) in the first report, real in the next.
    (
        "PLANT_B",
        "2025-04-11",
        "VALID",
        "35.790000000000006",
        "48.71000000000001",
        "9.299",
        "0.49940407298566797",
    ),
    // Upstream above downstream: calculated, flagged.
    (
        "PLANT_A",
        "2025-04-24",
        "INVALID",
        "58.4",
        "44.099999999999994",
        "43.9",
        "-2.6094794215215122",
    ),
    // A mid-report placeholder no later report fixes.
    (
        "PLANT_B",
        "2025-05-06",
        "INVALID_FLOW",
        "32.75",
        "46.25000000000001",
        "",
        "",
    ),
    // Upstream sample only.
    (
        "PLANT_A",
        "2025-04-05",
        "MISSING_CA_READINGS",
        "39.2576954225669",
        "",
        "35",
        "",
    ),
    // Replicates on both sides.
    (
        "PLANT_B",
        "2025-06-04",
        "VALID",
        "31.183333333333326",
        "42.74333333333333",
        "9.158",
        "0.44005989612265445",
    ),
];

#[test]
fn hand_checked_days_mean_policy() {
    let rows = co2_rows(ReplicatePolicy::Mean);
    for (plant, date, flag, up, down, flow, co2) in MEAN {
        let r = day(&rows, plant, date);
        assert_eq!(
            (&r[13], &r[2], &r[3], &r[5], &r[12]),
            (
                &flag.to_string(),
                &up.to_string(),
                &down.to_string(),
                &flow.to_string(),
                &co2.to_string()
            ),
            "{plant} {date}"
        );
    }
}

#[test]
fn hand_checked_days_first_policy() {
    let rows = co2_rows(ReplicatePolicy::First);
    for (plant, date, co2) in [
        ("PLANT_A", "2025-04-01", "2.1830555871523116"),
        ("PLANT_A", "2025-04-02", "1.9785438185537618"),
        ("PLANT_A", "2025-05-14", "1.8289342747090385"),
        ("PLANT_A", "2025-04-24", "-2.609479421521511"),
        ("PLANT_B", "2025-06-04", "0.4434859679782805"),
    ] {
        assert_eq!(day(&rows, plant, date)[12], co2, "{plant} {date}");
    }
}

#[test]
fn hand_checked_totals() {
    let sources = sample_set().unwrap_or_default();
    let report = run(&sources, &Config::default());
    let summary: serde_json::Value =
        serde_json::from_slice(&output_bytes(Output::Summary, &report, &Filter::default()))
            .unwrap_or_default();
    let a = &summary["plants"]["PLANT_A"];
    let b = &summary["plants"]["PLANT_B"];
    // PLANT_C (metric, read through its profile): the closed forms of
    // crates/samples/src/plant_c.rs, summed by hand in data/README.md.
    let c = &summary["plants"]["PLANT_C"];
    assert_eq!(a["co2_removed_t"].as_f64(), Some(161.24970959846067));
    assert_eq!(a["valid_days"].as_u64(), Some(78));
    assert_eq!(b["co2_removed_t"].as_f64(), Some(23.454953135394586));
    assert_eq!(b["valid_days"].as_u64(), Some(59));
    assert_eq!(c["co2_removed_t"].as_f64(), Some(6.692690521451921));
    assert_eq!(c["valid_days"].as_u64(), Some(82));
    assert_eq!(summary["all_plants"]["days"].as_u64(), Some(295));
    assert_eq!(
        summary["all_plants"]["days_by_flag"]["MISSING_CA_READINGS"].as_u64(),
        Some(70)
    );
}
