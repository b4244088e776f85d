//! The whole run (METHOD §6): the same files in any order give the same
//! bytes; a file given twice counts once.

use crew_mrv_core::export::{output_bytes, Output};
use crew_mrv_core::{
    assemble, read_file, sha256_hex, Config, Filter, ImportStore, Run, SkipReason, Source,
};

use crate::fixtures::*;

/// A realistic little data set: two Plant A months, three overlapping
/// Plant B reports, a lab file with duplicates, conflicts and replicates,
/// and two pH logs.
fn dataset() -> Vec<Source> {
    let mut out = Vec::new();
    let apr = PlantA::month(
        d(2025, 4, 1),
        &(0..30)
            .map(|i| 30.0 + f64::from(i) * 0.7)
            .collect::<Vec<_>>(),
    );
    let mut may = PlantA::month(
        d(2025, 5, 1),
        &(0..31)
            .map(|i| 45.0 - f64::from(i) * 0.3)
            .collect::<Vec<_>>(),
    );
    may.days[3] = may.days[3]
        .clone()
        .with(A_BYPASS, "6.5")
        .with(A_BYPASS_HRS, "3");
    out.push(src("PLANT_A-OPS DATA-APR25.xlsx", apr.xlsx()));
    out.push(src("PLANT_A-OPS DATA-MAY25.xlsx", may.xlsx()));
    let mut r1 = PlantB::new(PlantB::days_from(d(2025, 3, 21), &[9.0; 22]));
    let last = r1.days.len() - 1;
    r1.days[last] = BDay::placeholder(r1.days[last].date);
    let mut r2 = PlantB::new(PlantB::days_from(d(2025, 4, 4), &[9.0; 22]));
    r2.days[3] = BDay::new(r2.days[3].date, 9.194);
    let r3 = PlantB::new(PlantB::days_from(d(2025, 4, 18), &[9.3; 10]));
    for r in [r1, r2, r3] {
        out.push(src(&r.file_name(), r.xlsx()));
    }
    let mut lab = Vec::new();
    for i in 0..40u32 {
        let day = d(2025, 4, 1) + chrono::Duration::days(i64::from(i));
        for plant in ["PLANT_A", "PLANT_B"] {
            let up = 35.0 + f64::from(i % 7) * 1.1;
            let down = up + 8.0 + f64::from(i % 5);
            if i % 9 != 4 {
                lab.push(lab_row(plant, UP, day, 1, &up.to_string()));
                lab.push(lab_row(plant, UP, day, 1, &(up + 1e-14).to_string()));
            }
            if i % 11 != 6 {
                lab.push(lab_row(plant, DOWN, day, 1, &down.to_string()));
            }
            if i % 6 == 0 {
                lab.push(lab_row(plant, DOWN, day, 2, &(down + 0.4).to_string()));
                lab.push(lab_row(plant, DOWN, day, 2, &(down + 1.4).to_string()));
            }
        }
    }
    out.push(src("lab_results_Q2.csv", lab_table(lab).to_text(',')));
    for (sensor, unit, form) in [
        ("WB0038", "aeration_basin", Ts::IsoSpace),
        ("WB0039", "secondary_clarifier", Ts::Us),
    ] {
        let rows = (0..300)
            .map(|m| {
                let t = at(d(2025, 4, 1), 22, 0) + chrono::Duration::minutes(m);
                let v = if m % 37 == 0 {
                    String::new()
                } else {
                    format!("{}", 6.8 + f64::from(m as u32 % 13) / 10.0)
                };
                ph_row(&ts(t, form), &v, sensor, unit, "PLANT_A")
            })
            .collect();
        out.push(src(
            &format!("{sensor}_PH_2025_sanitized.csv"),
            ph_table(rows).to_text(','),
        ));
    }
    out
}

fn all_outputs(r: &crew_mrv_core::Run) -> Vec<Vec<u8>> {
    Output::ALL
        .iter()
        .map(|n| output_bytes(*n, r, &Filter::default()))
        .collect()
}

#[test]
fn the_dataset_is_sane() {
    let r = run_default(&dataset());
    assert!(r.all_files_read());
    assert!(r
        .co2
        .iter()
        .any(|x| x.quality_flag == crew_mrv_core::model::Flag::Valid));
    for check in [
        "duplicate_sample",
        "sample_conflict",
        "revised_flow",
        "overlap_repeat",
        "bypass",
        "missing_partner",
    ] {
        assert!(!findings(&r, check).is_empty(), "{check}");
    }
}

#[test]
fn outputs_are_byte_identical_whatever_the_input_order() {
    let base = dataset();
    let want = all_outputs(&run_default(&base));
    assert!(want.iter().all(|o| !o.is_empty()));
    let mut rng = Rng(0xC0FFEE);
    for round in 0..5 {
        let mut s = base.clone();
        rng.shuffle(&mut s);
        let got = all_outputs(&run_default(&s));
        for (i, name) in Output::ALL.iter().enumerate() {
            assert!(got[i] == want[i], "round {round}: {name} differs");
        }
    }
    let mut rev = base.clone();
    rev.reverse();
    assert_eq!(all_outputs(&run_default(&rev)), want);
}

#[test]
fn re_assembling_kept_imports_in_any_order_gives_the_same_bytes() {
    let base = dataset();
    let want = all_outputs(&run_default(&base));
    let config = Config::default();
    let mut imports: Vec<_> = base
        .iter()
        .map(|s| read_file(&s.name, &s.bytes, &config))
        .collect();
    imports.reverse();
    let mut store = ImportStore::new(imports);
    let report = assemble(&mut store, &config);
    assert_eq!(all_outputs(&Run { report, store }), want);
}

#[test]
fn the_same_file_given_twice_counts_once() {
    let base = dataset();
    let single = run_default(&base);
    let mut twice = base.clone();
    let lab = base
        .iter()
        .find(|s| s.name.starts_with("lab"))
        .expect("lab")
        .clone();
    let b = base
        .iter()
        .find(|s| s.name.starts_with("PLANT_B"))
        .expect("b")
        .clone();
    twice.push(Source::new("lab_results_Q2 (copy).csv", lab.bytes.clone()));
    twice.push(Source::new("renamed report.xlsx", b.bytes.clone()));
    twice.push(b.clone());
    let r = run_default(&twice);
    for name in [Output::Co2Removal, Output::PlantOperations] {
        assert!(
            output_bytes(name, &r, &Filter::default())
                == output_bytes(name, &single, &Filter::default()),
            "{name}: no double counting"
        );
    }
    // The lab copy sorts first, so its readings name it as their source.
    assert_eq!(
        output(&r, "lab_readings.csv").replace("lab_results_Q2 (copy).csv", "lab_results_Q2.csv"),
        output(&single, "lab_readings.csv")
    );
    let files = parse_csv(&output(&r, "files.csv")).1;
    let dups: Vec<&str> = files
        .iter()
        .filter(|f| f["status"] == "duplicate")
        .map(|f| f["name"].as_str())
        .collect();
    // The first by name is kept: "lab_results_Q2 (copy).csv" sorts before
    // "lab_results_Q2.csv"; "PLANT_B…" before "renamed report.xlsx".
    assert_eq!(
        dups,
        [
            "PLANT_B-MPOR_Crew_03212025to04112025.xlsx",
            "lab_results_Q2.csv",
            "renamed report.xlsx"
        ]
    );
    assert_eq!(files.len(), r.files.len());
    for (f, row) in r
        .files
        .iter()
        .zip(&files)
        .filter(|(f, _)| f.duplicate_of.is_some())
    {
        assert_eq!(row["name"], *f.name);
        let a = f.account_in_run();
        assert_eq!((a.records, a.rows_in), (0, f.account.rows_in), "{}", f.name);
        assert_eq!(
            a.by_reason().keys().copied().collect::<Vec<_>>(),
            [SkipReason::DuplicateFile]
        );
        assert_eq!(row["records"], "0");
        assert_eq!(
            row["skipped_by_reason"],
            format!("duplicate_file:{}", f.account.rows_in)
        );
        assert!(
            row["message"].contains("same content as"),
            "{}",
            row["message"]
        );
    }
    assert_eq!(findings(&r, "duplicate_file").len(), 3);
    assert_eq!(
        findings(&r, "duplicate_sample").len(),
        findings(&single, "duplicate_sample").len(),
        "a copied file adds no duplicate samples"
    );
    assert_eq!(
        findings(&r, "overlap_repeat").len(),
        findings(&single, "overlap_repeat").len()
    );
    let k1 = crew_mrv_core::Kpis::of(single.days(&Filter::default()));
    let k2 = crew_mrv_core::Kpis::of(r.days(&Filter::default()));
    assert_eq!(k1, k2);
}

#[test]
fn files_csv_names_every_input_with_its_kind_and_sha256() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let base = dataset();
    let r = run_default(&base);
    let files = parse_csv(&output(&r, "files.csv")).1;
    assert_eq!(files.len(), base.len());
    for s in &base {
        let row = files.iter().find(|f| f["name"] == s.name).expect("listed");
        assert_eq!(row["sha256"], sha256_hex(&s.bytes));
        assert_eq!(row["bytes"], s.bytes.len().to_string());
        assert_eq!(row["status"], "ok");
        let rows_in: u64 = row["rows_in"].parse().expect("n");
        let records: u64 = row["records"].parse().expect("n");
        let skipped: u64 = row["skipped"].parse().expect("n");
        assert_eq!(rows_in, records + skipped, "{}", s.name);
    }
    let kinds: Vec<&str> = files.iter().map(|f| f["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "plant_a_ops",
            "plant_a_ops",
            "plant_b_report",
            "plant_b_report",
            "plant_b_report",
            "ph_sensor",
            "ph_sensor",
            "calcium_lab"
        ]
    );
    let s: serde_json::Value =
        serde_json::from_str(&crew_mrv_core::export::summary_json(&r, &Filter::default()))
            .expect("json");
    assert_eq!(s["inputs"].as_array().map(Vec::len), Some(base.len()));
    assert_eq!(s["method_version"], crew_mrv_core::METHOD_VERSION);
}

#[test]
fn every_finding_points_at_a_file_of_the_run_and_a_real_row() {
    let r = run_default(&dataset());
    for f in &r.findings {
        if let Some(name) = &f.source_file {
            let file = r
                .files
                .iter()
                .find(|x| x.name == *name)
                .unwrap_or_else(|| panic!("{name}"));
            if let Some(row) = f.at.row {
                assert!(row >= 1 && u64::from(row) <= file.account.rows_in, "{f:?}");
            }
        }
        if let Some(sheet) = &f.at.sheet {
            let file = f
                .source_file
                .as_ref()
                .and_then(|n| r.files.iter().find(|x| x.name == *n))
                .expect("file");
            assert!(file.sheets.contains(sheet), "{f:?}");
        }
    }
    let text = output(&r, "qa_findings.csv");
    let (header, rows) = parse_csv(&text);
    assert_eq!(
        header,
        [
            "level",
            "check",
            "severity",
            "plant_id",
            "date",
            "source_file",
            "source_row",
            "column",
            "message",
            "sheet"
        ]
    );
    assert_eq!(rows.len(), r.findings.len());
}

#[test]
fn the_filter_narrows_co2_removal_and_the_summary() {
    let r = run_default(&dataset());
    let filter = Filter {
        plant: Some("PLANT_B".into()),
        from: Some(d(2025, 4, 5)),
        to: Some(d(2025, 4, 9)),
        flags: None,
    };
    let text = String::from_utf8(output_bytes(Output::Co2Removal, &r, &filter)).expect("utf-8");
    let rows = parse_csv(&text).1;
    let dates: Vec<&str> = rows.iter().map(|x| x["date"].as_str()).collect();
    assert_eq!(
        dates,
        [
            "2025-04-05",
            "2025-04-06",
            "2025-04-07",
            "2025-04-08",
            "2025-04-09"
        ]
    );
    assert!(rows.iter().all(|x| x["plant_id"] == "PLANT_B"));
    assert_eq!(
        filter.co2_file_name(&r),
        "co2_removal_PLANT_B_2025-04-05_2025-04-09.csv"
    );
    let s: serde_json::Value =
        serde_json::from_str(&crew_mrv_core::export::summary_json(&r, &filter)).expect("json");
    assert_eq!(s["all_plants"]["days"], 5);
    assert!(s["plants"].get("PLANT_A").is_none());
}

#[test]
fn files_with_the_same_name_are_ordered_by_content() {
    let a = lab_table(lab_pair("PLANT_A", d(2025, 4, 1), 40.0, 50.0)).to_text(',');
    let b = lab_table(lab_pair("PLANT_A", d(2025, 4, 1), 41.0, 52.0)).to_text(',');
    let one = run_default(&[src("lab.csv", a.clone()), src("lab.csv", b.clone())]);
    let two = run_default(&[src("lab.csv", b), src("lab.csv", a)]);
    assert_eq!(all_outputs(&one), all_outputs(&two));
    // Same sample ids with other values: one sample each, in conflict.
    assert_eq!(co2_day(&one, "PLANT_A", d(2025, 4, 1)).ca_upstream_n, 1);
    assert_eq!(findings(&one, "sample_conflict").len(), 2);
}

#[test]
fn the_default_range_is_the_last_three_months_of_data() {
    let lab: Vec<Vec<String>> = [d(2025, 1, 15), d(2025, 3, 2), d(2025, 6, 30)]
        .iter()
        .flat_map(|x| lab_pair("PLANT_A", *x, 40.0, 50.0))
        .collect();
    let r = run_default(&[src("lab.csv", lab_table(lab).to_text(','))]);
    assert_eq!(r.date_span(), Some((d(2025, 1, 15), d(2025, 6, 30))));
    assert_eq!(r.default_range(), Some((d(2025, 3, 31), d(2025, 6, 30))));
    assert_eq!(r.plants().len(), 1);
}

/// Issue 16's undo: a file taken out of the store and restored at its
/// place (and a whole store cleared and put back) gives the same outputs
/// as never removing it, without reading the file again.
#[test]
fn a_taken_file_restored_gives_the_same_bytes() {
    let base = dataset();
    let config = Config::default();
    let imports: Vec<_> = base
        .iter()
        .map(|s| read_file(&s.name, &s.bytes, &config))
        .collect();
    let mut store = ImportStore::new(imports);
    let report = assemble(&mut store, &config);
    let run = Run { report, store };
    let want = all_outputs(&run);
    let mut store = run.store;

    let victim = store
        .files()
        .get(1)
        .map(|f| (f.name.to_string(), f.sha256.clone()));
    let (name, sha) = victim.expect("a second file");
    let (at, file) = store.take(&name, &sha).expect("taken");
    assert!(store.take(&name, &sha).is_none(), "taken once");
    let without = assemble(&mut store, &config);
    assert!(without.files.iter().all(|f| *f.name != *name));
    store.restore(at, file);
    let report = assemble(&mut store, &config);
    let run = Run { report, store };
    assert_eq!(all_outputs(&run), want);

    // Clear all, then undo: every file back at its place.
    let files = run.store.into_files();
    let mut store = ImportStore::default();
    for (at, f) in files.into_iter().enumerate() {
        store.restore(at, f);
    }
    let report = assemble(&mut store, &config);
    assert_eq!(all_outputs(&Run { report, store }), want);
}
