//! Plant B monthly report quirks (FORMATS §4) and the overlap merge
//! (METHOD §3).

use chrono::{Datelike, NaiveDate};
use crew_mrv_core::model::Severity;
use crew_mrv_core::{read_file, Config, FileKind, SkipReason};

use crate::fixtures::*;

fn read(wb: &PlantB) -> crew_mrv_core::FileImport {
    read_named(&wb.file_name(), wb)
}

fn read_named(name: &str, wb: &PlantB) -> crew_mrv_core::FileImport {
    let f = read_file(name, &wb.xlsx(), &Config::default());
    assert_balanced(&f);
    assert!(f.error.is_none(), "{:?}", f.error);
    f
}

fn april(flows: &[f64]) -> PlantB {
    PlantB::new(PlantB::days_from(d(2025, 4, 4), flows))
}

#[test]
fn preamble_gives_plant_and_generation_time() {
    let mut wb = april(&[9.1, 9.2, 9.3]);
    wb.title = Some("MONTHLY OPERATING REPORT - DMR SUMMARY".into());
    let f = read(&wb);
    assert_eq!(f.kind, Some(FileKind::PlantBReport));
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_B"));
    assert_eq!(f.generated_at, d(2025, 4, 7).and_hms_opt(17, 11, 2));
    assert_eq!(
        f.period,
        Some((d(2025, 4, 4), d(2025, 4, 6))),
        "period from the file name"
    );
    assert!(file_findings(&f, "plant_mismatch").is_empty());
    // Recognised by content under any name; plant from the preamble.
    let f = read_named("report.xlsx", &wb);
    assert_eq!(f.kind, Some(FileKind::PlantBReport));
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_B"));
    assert!(file_findings(&f, "plant_mismatch").is_empty());
}

#[test]
fn cached_formula_values_give_dates_and_flows() {
    let wb = april(&[9.163, 10.6, 7.9]);
    let f = read(&wb);
    let got: Vec<(NaiveDate, Option<f64>, Option<f64>, u32)> = f
        .records
        .ops
        .iter()
        .map(|o| (o.date, o.actual_eff_flow_mgd, o.actual_inf_flow_mgd, o.row))
        .collect();
    assert_eq!(
        got,
        [
            (d(2025, 4, 4), Some(9.163), Some(9.163), 13),
            (d(2025, 4, 5), Some(10.6), Some(10.6), 14),
            (d(2025, 4, 6), Some(7.9), Some(7.9), 15),
        ]
    );
    assert_eq!(&*f.records.ops[0].sheet, B_SHEET);
    assert!(f.records.ops.iter().all(|o| o.has_influent_column));
}

#[test]
fn header_block_is_found_by_content_when_shifted_down() {
    for shift in [1, 4, 20] {
        let mut wb = april(&[9.1, 9.2]);
        wb.shift = shift;
        let f = read(&wb);
        let rows: Vec<u32> = f.records.ops.iter().map(|o| o.row).collect();
        assert_eq!(rows, [13 + shift, 14 + shift], "shift {shift}");
        assert_eq!(f.records.ops[1].actual_eff_flow_mgd, Some(9.2));
        assert_eq!(reasons(&f), wb.expected_account(), "shift {shift}");
        assert_eq!(f.generated_at, d(2025, 4, 6).and_hms_opt(17, 11, 2));
    }
}

#[test]
fn below_detection_and_footnoted_text_in_other_columns_is_harmless() {
    let mut wb = april(&[9.1, 9.2, 9.3]);
    wb.days[0].cbod = "<2".into();
    wb.days[1].cbod = "311*".into();
    wb.days[2].cbod = "<2*".into();
    let f = read(&wb);
    assert_eq!(f.records.ops.len(), 3);
    for check in ["qualified_value", "unparseable_number", "unrecognised_row"] {
        assert!(
            file_findings(&f, check).is_empty(),
            "{check}: {:?}",
            f.findings
        );
    }
}

#[test]
fn every_row_is_accounted_preamble_header_days_summary_footnotes_tags_blanks() {
    let mut wb = april(&[9.1, 9.2, 9.3, 9.4]);
    wb.footnotes = vec![
        "06/08/2025 *311 CBOD IA1 Quality control data outside of acceptance limits; result reported".into(),
        "<2 = below the method detection limit".into(),
        "Note: flows are from the plant SCADA totaliser".into(),
    ];
    wb.empty_before_tags = 500;
    let f = read(&wb);
    assert_eq!(f.records.ops.len(), 4);
    let want = wb.expected_account();
    assert_eq!(want.get(&SkipReason::Preamble), Some(&5));
    assert_eq!(want.get(&SkipReason::Footnote), Some(&3));
    assert_eq!(reasons(&f), want);
    // 5 preamble + 7 header + 4 days + 2 gap + 4 summary + 3 notes + 500 + 1 tag row.
    assert_eq!(f.account.rows_in, 526);
    let tag = f
        .account
        .skipped
        .iter()
        .find(|s| s.reason == SkipReason::TagRow)
        .expect("tag row");
    assert_eq!(tag.first_row, 526);
    let summary = f
        .account
        .skipped
        .iter()
        .find(|s| s.reason == SkipReason::Summary)
        .expect("summary");
    assert_eq!((summary.first_row, summary.last_row), (19, 22));
    assert!(
        file_findings(&f, "unrecognised_row").is_empty(),
        "{:?}",
        f.findings
    );
}

#[test]
fn the_decoy_fneq_final_flow_column_is_not_used() {
    for decoy in [14u16, 40, 90] {
        let mut wb = april(&[9.1, 9.2]);
        wb.decoy_col = decoy;
        let f = read(&wb);
        let flows: Vec<Option<f64>> = f
            .records
            .ops
            .iter()
            .map(|o| o.actual_eff_flow_mgd)
            .collect();
        assert_eq!(flows, [Some(9.1), Some(9.2)], "decoy at {decoy}");
        let letters = crew_mrv_core::model::col_letters(u32::from(decoy));
        let note = file_findings(&f, "file_recognised")
            .into_iter()
            .find(|x| x.at.col == Some(u32::from(decoy)))
            .unwrap_or_else(|| panic!("the decoy at {letters} is reported"));
        assert!(
            note.message.contains("FNEQ") && note.message.contains("column H"),
            "{}",
            note.message
        );
    }
}

#[test]
fn plant_in_the_sheet_differing_from_the_name_is_a_level_3_warning_at_a2() {
    let wb = april(&[9.1]);
    let f = read_named("PLANT_C-MPOR_Crew_04042025to04042025.xlsx", &wb);
    assert_eq!(
        f.plant_id.as_deref(),
        Some("PLANT_B"),
        "the sheet's id is used"
    );
    let pm = file_findings(&f, "plant_mismatch");
    assert_eq!(pm.len(), 1);
    assert_eq!((pm[0].level, pm[0].severity), (3, Severity::Warning));
    assert_eq!(
        (pm[0].at.row, pm[0].at.col_letters().as_str()),
        (Some(2), "A")
    );
    assert!(pm[0].message.contains("PLANT_C"));
}

#[test]
fn without_a_generation_time_the_period_end_decides() {
    let mut wb = april(&[9.1]);
    wb.generated = None;
    let f = read(&wb);
    assert_eq!(f.generated_at, None);
    let mv = file_findings(&f, "missing_value");
    assert_eq!(mv.len(), 1);
    assert!(mv[0].message.contains("generation time"));
    assert_eq!(mv[0].severity, Severity::Info);
}

#[test]
fn a_day_after_the_generation_time_is_implausible() {
    let mut wb = april(&[9.1, 9.2]);
    wb.generated = Some("4/4/2025 5:11:02 PM".into());
    let f = read(&wb);
    let im = file_findings(&f, "implausible_date");
    assert_eq!(im.len(), 1);
    assert_eq!(
        (im[0].level, im[0].date, im[0].at.row),
        (3, Some(d(2025, 4, 5)), Some(14))
    );
    assert_eq!(f.records.ops.len(), 2, "reported, not dropped");
}

// ---------------------------------------------------------------------------
// Overlapping reports
// ---------------------------------------------------------------------------

/// Three overlapping reports: 03/21–04/11, 04/04–04/25, 04/18–04/30.
/// - the last day of each is a placeholder (eff 0, influent blank);
/// - 04/08 is revised from 9.163 (first) to 9.194 (second);
/// - 04/15 is a placeholder mid-report with no later report;
/// - other shared days repeat identically.
fn overlapping() -> Vec<PlantB> {
    let flow = |x: NaiveDate| 9.0 + f64::from(x.day0()) / 100.0;
    let report = |first: NaiveDate, last: NaiveDate| {
        let n = (last - first).num_days() as usize + 1;
        let days: Vec<BDay> = (0..n)
            .map(|i| {
                let x = first + chrono::Duration::days(i as i64);
                BDay::new(x, flow(x))
            })
            .collect();
        PlantB::new(days)
    };
    let mut r1 = report(d(2025, 3, 21), d(2025, 4, 11));
    let mut r2 = report(d(2025, 4, 4), d(2025, 4, 25));
    let mut r3 = report(d(2025, 4, 18), d(2025, 4, 30));
    for r in [&mut r1, &mut r2, &mut r3] {
        let last = r.days.len() - 1;
        r.days[last] = BDay::placeholder(r.days[last].date);
    }
    let i = |r: &PlantB, x: NaiveDate| {
        r.days
            .iter()
            .position(|b| b.date == x)
            .expect("day in report")
    };
    let k = i(&r1, d(2025, 4, 8));
    r1.days[k] = BDay::new(d(2025, 4, 8), 9.163);
    let k = i(&r2, d(2025, 4, 8));
    r2.days[k] = BDay::new(d(2025, 4, 8), 9.194);
    let k = i(&r2, d(2025, 4, 15));
    r2.days[k] = BDay::placeholder(d(2025, 4, 15));
    vec![r1, r2, r3]
}

fn run_overlapping() -> (crew_mrv_core::Run, Vec<String>) {
    let rs = overlapping();
    let names: Vec<String> = rs.iter().map(PlantB::file_name).collect();
    let sources: Vec<_> = rs.iter().map(|r| src(&r.file_name(), r.xlsx())).collect();
    (run_default(&sources), names)
}

fn op(r: &crew_mrv_core::Run, x: NaiveDate) -> &crew_mrv_core::model::PlantOperation {
    r.plant_operations
        .iter()
        .find(|o| o.date == x)
        .unwrap_or_else(|| panic!("no operations row for {x}"))
}

#[test]
fn overlapping_reports_give_one_row_per_day() {
    let (r, names) = run_overlapping();
    assert_eq!(names[0], "PLANT_B-MPOR_Crew_03212025to04112025.xlsx");
    let rows: usize = r.store.files().iter().map(|f| f.records.ops.len()).sum();
    assert_eq!(rows, 22 + 22 + 13);
    assert_eq!(r.plant_operations.len(), 41, "03/21 to 04/30");
    assert_eq!(r.co2.len(), 41);
}

#[test]
fn a_placeholder_last_day_is_replaced_by_the_next_report() {
    let (r, names) = run_overlapping();
    let o = op(&r, d(2025, 4, 11));
    assert!(!o.provisional);
    assert_eq!(o.actual_eff_flow_mgd, Some(9.1));
    assert_eq!(&*o.source_file, names[1]);
    assert_eq!(o.superseded.len(), 1);
    assert_eq!(&*o.superseded[0].source_file, names[0]);
    assert!(o.superseded[0].provisional);
    assert_eq!(o.superseded[0].actual_eff_flow_mgd, Some(0.0));
    assert_eq!(co2_day(&r, "PLANT_B", d(2025, 4, 11)).flow_mgd, Some(9.1));
    let ops_csv = parse_csv(&output(&r, "plant_operations.csv")).1;
    let row = ops_csv
        .iter()
        .find(|x| x["date"] == "2025-04-11")
        .expect("row");
    assert_eq!(row["provisional"], "false");
    assert!(
        row["superseded"].contains("\"provisional\":true"),
        "{}",
        row["superseded"]
    );
    assert_eq!(row["report_generated_at"], "2025-04-26T17:11:02");
    // The same for the second report's last day, replaced by the third.
    assert_eq!(op(&r, d(2025, 4, 25)).actual_eff_flow_mgd, Some(9.24));
    assert!(findings(&r, "provisional_day")
        .iter()
        .all(|f| f.date != Some(d(2025, 4, 11))));
}

#[test]
fn a_mid_report_placeholder_with_no_later_report_is_invalid_flow_provisional() {
    let (r, names) = run_overlapping();
    let o = op(&r, d(2025, 4, 15));
    assert!(o.provisional);
    let day = co2_day(&r, "PLANT_B", d(2025, 4, 15));
    assert_eq!(day.quality_flag, crew_mrv_core::model::Flag::InvalidFlow);
    assert_eq!(day.flow_mgd, None, "a placeholder flow is never shown");
    assert!(
        day.validation_message.contains("provisional"),
        "{}",
        day.validation_message
    );
    let p = findings(&r, "provisional_day");
    let p: Vec<_> = p
        .iter()
        .filter(|f| f.date == Some(d(2025, 4, 15)))
        .collect();
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].level, p[0].source_file.as_deref()),
        (4, Some(names[1].as_str()))
    );
    assert_eq!(p[0].at.row, Some(PlantB::new(vec![]).excel_row_of_day(11)));
    // The last report's last day stays provisional too.
    assert!(op(&r, d(2025, 4, 30)).provisional);
    let row = co2_row(&r, "PLANT_B", d(2025, 4, 15));
    assert_eq!(row["quality_flag"], "INVALID_FLOW");
    assert_eq!(row["flow_mgd"], "");
}

#[test]
fn a_revised_day_is_a_level_1_warning_listing_both_values_and_files() {
    let (r, names) = run_overlapping();
    let rev = findings(&r, "revised_flow");
    assert_eq!(rev.len(), 1, "{rev:?}");
    let x = rev[0];
    assert_eq!(
        (x.level, x.severity, x.date),
        (1, Severity::Warning, Some(d(2025, 4, 8)))
    );
    for s in ["9.163", "9.194", &names[0], &names[1]] {
        assert!(x.message.contains(s), "{s} in {}", x.message);
    }
    assert_eq!(x.source_file.as_deref(), Some(names[1].as_str()));
    assert_eq!(
        op(&r, d(2025, 4, 8)).actual_eff_flow_mgd,
        Some(9.194),
        "the newest report wins"
    );
}

#[test]
fn identical_repeats_are_one_overlap_info_per_file_pair() {
    let (r, names) = run_overlapping();
    let rep = findings(&r, "overlap_repeat");
    assert_eq!(rep.len(), 2, "{rep:?}");
    assert!(rep
        .iter()
        .all(|x| x.level == 1 && x.severity == Severity::Info));
    let (a, b): (Vec<&&crew_mrv_core::qa::Finding>, Vec<_>) = rep
        .iter()
        .partition(|x| x.message.contains(names[0].as_str()));
    // r1/r2 share 04/04-04/11: 04/08 revised, 04/11 a placeholder in r1.
    assert!(
        a[0].message
            .starts_with("6 day(s) from 2025-04-04 to 2025-04-10"),
        "{}",
        a[0].message
    );
    assert!(a[0].message.contains(&names[1]));
    // r2/r3 share 04/18-04/25: 04/25 a placeholder in r2.
    assert!(
        b[0].message
            .starts_with("7 day(s) from 2025-04-18 to 2025-04-24"),
        "{}",
        b[0].message
    );
    assert!(b[0].message.contains(&names[1]) && b[0].message.contains(&names[2]));
}

#[test]
fn the_newest_report_wins_whatever_the_file_names_say() {
    // Generation times decide, not names: give the older report the later name.
    let rs = overlapping();
    let sources = vec![
        src("z_first.xlsx", rs[0].xlsx()),
        src("a_second.xlsx", rs[1].xlsx()),
    ];
    let r = run_default(&sources);
    let o = op(&r, d(2025, 4, 8));
    assert_eq!(
        (o.actual_eff_flow_mgd, &*o.source_file),
        (Some(9.194), "a_second.xlsx")
    );
}

#[test]
fn without_an_influent_column_a_zero_effluent_is_a_placeholder() {
    let mut days = PlantB::days_from(d(2025, 4, 4), &[9.1, 9.2]);
    days[1].eff = 0.0;
    let wb = PlantB::new(days);
    let bytes = no_influent_flow(&wb);
    let f = read_file(&wb.file_name(), &bytes, &Config::default());
    assert_balanced(&f);
    assert_eq!(f.records.ops.len(), 2);
    assert!(f
        .records
        .ops
        .iter()
        .all(|o| !o.has_influent_column && o.actual_inf_flow_mgd.is_none()));
    let mc = file_findings(&f, "missing_column");
    assert_eq!(mc.len(), 1);
    assert_eq!(
        (mc[0].level, mc[0].severity, mc[0].at.row),
        (2, Severity::Warning, Some(8))
    );
    let r = run_default(&[src(&wb.file_name(), bytes)]);
    assert!(!r.plant_operations[0].provisional);
    assert!(
        r.plant_operations[1].provisional,
        "0 cannot be told from a placeholder"
    );
}

/// A minimal report whose column B is `RAW / INF / LEVEL / FT`: no
/// influent flow column.
fn no_influent_flow(wb: &PlantB) -> Vec<u8> {
    let mut x = rust_xlsxwriter::Workbook::new();
    let ws = x.add_worksheet();
    ws.set_name(B_SHEET).expect("name");
    ws.write_string(1, 0, "PLANT_B").expect("w");
    ws.write_string(2, 0, "April, 2025").expect("w");
    ws.write_string(3, 0, "4/30/2025 5:11:02 PM").expect("w");
    for (c, labels) in [
        (
            1u16,
            ["INFLUENT DATA", "1", "RAW", "INF", "LEVEL", "", "FT"],
        ),
        (7, ["EFFLUENT DATA", "7", "FIN", "EFF", "FLOW", "", "MGD"]),
    ] {
        for (i, l) in labels.iter().enumerate() {
            if !l.is_empty() {
                ws.write_string(5 + i as u32, c, *l).expect("w");
            }
        }
    }
    ws.write_string(7, 0, "DATE").expect("w");
    let fmt = rust_xlsxwriter::Format::new().set_num_format("ddd\\-dd");
    for (i, day) in wb.days.iter().enumerate() {
        let r = 12 + i as u32;
        ws.write_number_with_format(r, 0, serial(day.date) as f64, &fmt)
            .expect("w");
        ws.write_number(r, 1, 3.5).expect("w");
        ws.write_number(r, 7, day.eff).expect("w");
    }
    x.save_to_buffer().expect("xlsx")
}

#[test]
fn a_newer_placeholder_never_overrides_an_older_real_flow() {
    // The newer report carries a placeholder for a day an older one measured.
    let old = PlantB::new(PlantB::days_from(d(2025, 4, 1), &[9.1, 9.2, 9.3]));
    let mut days = PlantB::days_from(d(2025, 4, 2), &[9.2, 9.3, 9.4]);
    days[1] = BDay::placeholder(d(2025, 4, 3));
    let new = PlantB::new(days);
    let r = run_default(&[
        src(&old.file_name(), old.xlsx()),
        src(&new.file_name(), new.xlsx()),
    ]);
    let o = op(&r, d(2025, 4, 3));
    assert!(!o.provisional);
    assert_eq!(
        (o.actual_eff_flow_mgd, &*o.source_file),
        (Some(9.3), old.file_name().as_str())
    );
    assert_eq!(o.superseded.len(), 1);
    assert!(o.superseded[0].provisional);
    assert!(
        findings(&r, "revised_flow").is_empty(),
        "a placeholder is not a revision"
    );
    assert!(findings(&r, "provisional_day").is_empty());
    assert_eq!(co2_day(&r, "PLANT_B", d(2025, 4, 3)).flow_mgd, Some(9.3));
}

/// A day another report revised: provenance names the chosen row and the
/// superseded one, each at its effluent-flow cell; the calculation sheet
/// lists both; plant_operations.csv's `superseded` JSON keeps its fields.
#[test]
fn a_revised_day_traces_the_chosen_and_the_superseded_rows() {
    use crew_mrv_core::provenance::{day_inputs, Role};
    let (r, names) = run_overlapping();
    let ops: Vec<_> = day_inputs(&r, "PLANT_B", d(2025, 4, 11))
        .into_iter()
        .filter(|i| matches!(i.role, Role::OperationsRow | Role::SupersededOperationsRow))
        .collect();
    assert_eq!(ops.len(), 2, "{ops:#?}");
    assert_eq!(
        (ops[0].role, &*ops[0].file, ops[0].value),
        (Role::OperationsRow, names[1].as_str(), Some(9.1))
    );
    assert_eq!(
        (ops[1].role, &*ops[1].file, ops[1].value),
        (Role::SupersededOperationsRow, names[0].as_str(), Some(0.0))
    );
    for o in &ops {
        assert!(o.sheet.is_some(), "{o:?}");
        assert!(!o.column.is_empty(), "{o:?}");
    }
    // Each report lists the day in the same effluent column.
    assert_eq!(ops[0].column, ops[1].column);
    let sheet = crew_mrv_core::explain::explain(&r, "PLANT_B", d(2025, 4, 11)).expect("day");
    let text = sheet.to_string();
    assert!(
        text.contains(&format!(
            "superseded effluent flow 0 MGD, {} sheet",
            names[0]
        )),
        "{text}"
    );
    assert!(
        text.contains("report generated 2025-04-26T17:11:02"),
        "{text}"
    );
    let ops_csv = parse_csv(&output(&r, "plant_operations.csv")).1;
    let row = ops_csv
        .iter()
        .find(|x| x["date"] == "2025-04-11")
        .expect("row");
    assert!(
        !row["superseded"].contains("sheet"),
        "{}",
        row["superseded"]
    );
}
