//! Calcium lab CSV quirks (FORMATS §1), one test each.

use crew_mrv_core::model::{Location, Severity};
use crew_mrv_core::text::TextEncoding;
use crew_mrv_core::{read_file, Config, FileKind, SkipReason};

use crate::fixtures::*;

const LAB: &str = "lab_results.csv";

fn read(name: &str, bytes: &[u8]) -> crew_mrv_core::FileImport {
    let f = read_file(name, bytes, &Config::default());
    assert_balanced(&f);
    f
}

fn values(f: &crew_mrv_core::FileImport) -> Vec<(String, f64)> {
    f.records
        .lab
        .iter()
        .map(|r| (r.reading_id.to_string(), r.value))
        .collect()
}

#[test]
fn float_noise_duplicates_are_one_sample_with_a_level_1_info() {
    let day = d(2025, 4, 2);
    let mut rows = vec![
        lab_row("PLANT_A", UP, day, 1, "29.2"),
        lab_row("PLANT_A", UP, day, 1, "29.199999999999996"),
    ];
    rows.push(lab_row("PLANT_A", DOWN, day, 1, "40"));
    let text = lab_table(rows).to_text(',');
    let r = run_default(&[src(LAB, text)]);
    let f = file(&r, LAB);
    assert_eq!(
        f.records.lab.len(),
        3,
        "every row is a reading; collapsing is the method's job"
    );
    let dup = findings(&r, "duplicate_sample");
    assert_eq!(dup.len(), 1);
    let x = dup[0];
    assert_eq!((x.level, x.severity), (1, Severity::Info));
    assert_eq!(x.plant_id.as_deref(), Some("PLANT_A"));
    assert_eq!(x.date, Some(day));
    assert_eq!(x.source_file.as_deref(), Some(LAB));
    assert_eq!(x.at.row, Some(2));
    assert!(
        x.message.contains("PLANT_A_primary_clarifier_20250402_01"),
        "{}",
        x.message
    );
    assert!(findings(&r, "sample_conflict").is_empty());
    let c = day_of(&r, day);
    assert_eq!(
        c.ca_upstream_n, 1,
        "one sample, however often it is reported"
    );
    assert_eq!(
        c.ca_upstream_mg_per_l,
        Some((29.199999999999996 + 29.2) / 2.0)
    );
}

fn day_of(r: &crew_mrv_core::Report, date: chrono::NaiveDate) -> &crew_mrv_core::model::Co2Day {
    co2_day(r, "PLANT_A", date)
}

#[test]
fn real_conflicts_are_a_level_1_warning_naming_values_and_rows() {
    let day = d(2025, 4, 3);
    let mut t = lab_table(vec![
        lab_row("PLANT_A", UP, day, 1, "43.26"),
        lab_row("PLANT_A", DOWN, day, 1, "55"),
        lab_row("PLANT_A", UP, day, 1, "42.01"),
    ]);
    t.set(0, "uncertainty", "");
    t.set(2, "uncertainty", "0.24");
    let r = run_default(&[src(LAB, t.to_text(','))]);
    let conf = findings(&r, "sample_conflict");
    assert_eq!(conf.len(), 1, "{:?}", r.findings);
    let x = conf[0];
    assert_eq!((x.level, x.severity), (1, Severity::Warning));
    assert!(
        x.message.contains("43.26") && x.message.contains("42.01"),
        "{}",
        x.message
    );
    assert!(
        x.message.contains("row 2") && x.message.contains("row 4"),
        "{}",
        x.message
    );
    assert_eq!(x.date, Some(day));
    assert!(findings(&r, "duplicate_sample").is_empty());
    let c = day_of(&r, day);
    assert_eq!(c.ca_upstream_mg_per_l, Some((42.01 + 43.26) / 2.0));
    assert_eq!(c.ca_upstream_n, 1);
    let f = file(&r, LAB);
    assert_eq!(
        f.records.lab[0].uncertainty, None,
        "a blank uncertainty stays blank"
    );
    assert_eq!(f.records.lab[2].uncertainty, Some(0.24));
}

#[test]
fn replicates_are_distinct_samples_averaged_by_default() {
    let day = d(2025, 4, 4);
    let rows = vec![
        lab_row("PLANT_A", UP, day, 1, "40"),
        lab_row("PLANT_A", UP, day, 2, "41"),
        lab_row("PLANT_A", UP, day, 3, "42.5"),
        lab_row("PLANT_A", DOWN, day, 1, "50"),
    ];
    let r = run_default(&[src(LAB, lab_table(rows).to_text(','))]);
    let c = day_of(&r, day);
    assert_eq!((c.ca_upstream_n, c.ca_downstream_n), (3, 1));
    assert_eq!(c.ca_upstream_mg_per_l, Some((40.0 + 41.0 + 42.5) / 3.0));
    let reps: Vec<Option<u32>> = file(&r, LAB)
        .records
        .lab
        .iter()
        .map(|x| x.replicate_num)
        .collect();
    assert_eq!(reps, [Some(1), Some(2), Some(3), Some(1)]);
    assert!(
        findings(&r, "duplicate_sample").is_empty(),
        "replicates are not duplicates"
    );
}

#[test]
fn missing_partner_is_level_2_and_the_day_lacks_calcium() {
    let day = d(2025, 4, 5);
    let other = d(2025, 4, 6);
    let mut rows = vec![lab_row("PLANT_A", UP, day, 1, "40")];
    rows.push(lab_row("PLANT_A", DOWN, other, 1, "50"));
    let a = PlantA::month(d(2025, 4, 1), &[30.0; 10]);
    let r = run_default(&[
        src(LAB, lab_table(rows).to_text(',')),
        src("PLANT_A-OPS DATA-APR25.xlsx", a.xlsx()),
    ]);
    let mp = findings(&r, "missing_partner");
    assert_eq!(mp.len(), 2);
    assert_eq!((mp[0].level, mp[0].severity), (2, Severity::Warning));
    assert_eq!(mp[0].date, Some(day));
    assert!(
        mp[0].message.contains("upstream sample but no downstream"),
        "{}",
        mp[0].message
    );
    assert_eq!(mp[1].date, Some(other));
    assert!(
        mp[1].message.contains("downstream sample but no upstream"),
        "{}",
        mp[1].message
    );
    let row = co2_row(&r, "PLANT_A", day);
    assert_eq!(row["quality_flag"], "MISSING_CA_READINGS");
    assert_eq!(
        row["validation_message"],
        "Missing downstream calcium readings"
    );
    let row = co2_row(&r, "PLANT_A", other);
    assert_eq!(row["quality_flag"], "MISSING_CA_READINGS");
    assert_eq!(
        row["validation_message"],
        "Missing upstream calcium readings"
    );
}

#[test]
fn utf8_bom_is_stripped_before_the_header() {
    let day = d(2025, 4, 2);
    let text = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0)).to_text(',');
    let f = read("lab_bom.csv", &with_bom(&text));
    assert_eq!(f.kind, Some(FileKind::CalciumLab));
    assert_eq!(f.encoding, Some(TextEncoding::Utf8Bom));
    assert!(f.error.is_none());
    assert_eq!(
        f.records.lab[0].reading_id.as_ref(),
        "PLANT_A_primary_clarifier_20250402_01",
        "the first column (after the BOM) is unique_id"
    );
    assert!(
        file_findings(&f, "encoding").is_empty(),
        "UTF-8 with a BOM is not worth a warning"
    );
    assert!(!f.records.lab[0].metadata.contains('\u{feff}'));
}

#[test]
fn windows_1252_falls_back_with_a_level_1_encoding_warning() {
    let day = d(2025, 4, 2);
    let mut t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
    t.set(0, "notes", "prélevé 12 °C");
    let bytes = windows_1252(&t.to_text(','));
    assert!(std::str::from_utf8(&bytes).is_err());
    let f = read("lab_1252.csv", &bytes);
    assert_eq!(f.encoding, Some(TextEncoding::Windows1252));
    assert_eq!(f.records.lab.len(), 2);
    let enc = file_findings(&f, "encoding");
    assert_eq!(enc.len(), 1);
    assert_eq!((enc[0].level, enc[0].severity), (1, Severity::Warning));
    assert!(enc[0].message.contains("Windows-1252"));
    let meta: serde_json::Value = serde_json::from_str(&f.records.lab[0].metadata).expect("json");
    assert_eq!(meta["notes"], "prélevé 12 °C", "decoded, not mangled");
}

#[test]
fn semicolons_with_decimal_commas() {
    let day = d(2025, 4, 2);
    let mut t = lab_table(lab_pair("PLANT_A", day, 0.0, 0.0));
    t.set(0, "value", "39,8");
    t.set(1, "value", "53,7");
    t.set(0, "uncertainty", "0,24");
    t.set(1, "notes", "a, b; c");
    let f = read("lab_semicolon.csv", t.to_text(';').as_bytes());
    assert_eq!(f.kind, Some(FileKind::CalciumLab));
    assert_eq!(
        values(&f).iter().map(|v| v.1).collect::<Vec<_>>(),
        [39.8, 53.7]
    );
    assert_eq!(f.records.lab[0].uncertainty, Some(0.24));
    let enc = file_findings(&f, "encoding");
    assert!(enc
        .iter()
        .any(|x| x.message.contains("semicolons") && x.severity == Severity::Info));
    let meta: serde_json::Value = serde_json::from_str(&f.records.lab[1].metadata).expect("json");
    assert_eq!(meta["notes"], "a, b; c");
}

#[test]
fn tabs_as_delimiter() {
    let day = d(2025, 4, 2);
    let t = lab_table(lab_pair("PLANT_A", day, 39.8, 53.7));
    let f = read("lab.tsv", t.to_text('\t').as_bytes());
    assert_eq!(f.kind, Some(FileKind::CalciumLab));
    assert_eq!(
        values(&f).iter().map(|v| v.1).collect::<Vec<_>>(),
        [39.8, 53.7]
    );
    assert!(file_findings(&f, "encoding")
        .iter()
        .any(|x| x.message.contains("tabs")));
}

#[test]
fn quoted_fields_with_commas_and_newlines_stay_one_row() {
    let day = d(2025, 4, 2);
    let mut rows = lab_pair("PLANT_A", day, 40.0, 50.0);
    rows.push(lab_row("PLANT_A", UP, d(2025, 4, 3), 1, "bad"));
    let mut t = lab_table(rows);
    t.set(0, "notes", "resampled, see \"log\"\nline two\nline three");
    let text = t.to_text(',');
    let f = read(LAB, text.as_bytes());
    assert_eq!(f.records.lab.len(), 2);
    // The note spans lines 2-4, so the next rows are lines 5 and 6.
    assert_eq!(f.records.lab[1].row, 5);
    let bad = file_findings(&f, "unparseable_number");
    assert_eq!(bad.len(), 1);
    assert_eq!(
        bad[0].at.row,
        Some(6),
        "rows are numbered as an editor shows them"
    );
    assert_eq!(bad[0].at.col_letters(), "P");
    let meta: serde_json::Value = serde_json::from_str(&f.records.lab[0].metadata).expect("json");
    assert_eq!(
        meta["notes"],
        "resampled, see \"log\"\nline two\nline three"
    );
    assert_eq!(
        f.account.rows_in, 4,
        "header + 3 records, the multi-line record counting once"
    );
}

#[test]
fn reordered_columns_read_the_same() {
    let day = d(2025, 4, 2);
    let t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
    let straight = read(LAB, t.to_text(',').as_bytes());
    let mut rev = t.clone();
    let order: Vec<usize> = (0..LAB_COLUMNS.len()).rev().collect();
    rev.permute(&order);
    let reversed = read(LAB, rev.to_text(',').as_bytes());
    assert_eq!(values(&straight), values(&reversed));
    let (a, b) = (&straight.records.lab[1], &reversed.records.lab[1]);
    assert_eq!(
        (
            &a.plant_id,
            &a.plant_unit_id,
            a.location,
            a.when,
            a.replicate_num,
            a.uncertainty
        ),
        (
            &b.plant_id,
            &b.plant_unit_id,
            b.location,
            b.when,
            b.replicate_num,
            b.uncertainty
        )
    );
    assert_eq!(a.location, Location::Downstream);
    // Same metadata content, in the file's column order.
    let ma: serde_json::Value = serde_json::from_str(&a.metadata).expect("json");
    let mb: serde_json::Value = serde_json::from_str(&b.metadata).expect("json");
    assert_eq!(ma, mb);
}

#[test]
fn extra_columns_are_kept_in_metadata() {
    let day = d(2025, 4, 2);
    let mut t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
    t.add_col("lab_tech", |i| format!("tech{i}"));
    t.add_col("bottle id", |_| "B-17".into());
    let f = read(LAB, t.to_text(',').as_bytes());
    let meta: serde_json::Value = serde_json::from_str(&f.records.lab[1].metadata).expect("json");
    assert_eq!(meta["lab_tech"], "tech1");
    assert_eq!(meta["bottle id"], "B-17");
    // Placeholder provenance columns are metadata, not provenance.
    assert_eq!(meta["source_file"], "raw_filename.csv");
    assert_eq!(meta["source_sheet"], "sheet_name");
    assert!(
        meta.get("value").is_none() && meta.get("plant_id").is_none(),
        "mapped columns are not repeated"
    );
    let out = output(
        &run_default(&[src(LAB, t.to_text(','))]),
        "lab_readings.csv",
    );
    let (_, rows) = parse_csv(&out);
    assert_eq!(
        rows[0]["source_file"], LAB,
        "provenance is the dropped file"
    );
    assert!(rows[0]["metadata"].contains("\"lab_tech\":\"tech0\""));
}

#[test]
fn missing_optional_columns_still_load() {
    let day = d(2025, 4, 2);
    let mut t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
    t.drop_col("uncertainty");
    t.drop_col("replicate_num");
    let f = read(LAB, t.to_text(',').as_bytes());
    assert!(f.error.is_none());
    assert_eq!(f.records.lab.len(), 2);
    assert!(f
        .records
        .lab
        .iter()
        .all(|r| r.uncertainty.is_none() && r.replicate_num.is_none()));
    // Without unique_id each row is its own sample, and the user is told.
    t.drop_col("unique_id");
    let f = read(LAB, t.to_text(',').as_bytes());
    assert_eq!(f.records.lab.len(), 2);
    let mc = file_findings(&f, "missing_column");
    assert!(
        mc.iter()
            .any(|x| x.message.contains("unique_id") && x.level == 2),
        "{mc:?}"
    );
    assert_ne!(f.records.lab[0].reading_id, f.records.lab[1].reading_id);
}

#[test]
fn missing_required_column_is_a_file_error_naming_it_and_others_still_load() {
    let day = d(2025, 4, 2);
    for column in ["value", "date", "plant_id", "unit_type_id"] {
        let mut t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
        t.drop_col(column);
        let good = lab_table(lab_pair("PLANT_A", day, 41.0, 51.0));
        let r = run_default(&[
            src("broken.csv", t.to_text(',')),
            src("good.csv", good.to_text(',')),
        ]);
        let broken = file(&r, "broken.csv");
        let err = broken
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("no error without {column}"));
        assert_eq!(err.code(), "missing_column");
        let msg = err.to_string();
        assert!(msg.contains(&format!("'{column}'")), "{msg}");
        assert!(msg.contains("row 1"), "where: {msg}");
        assert!(broken.records.lab.is_empty());
        assert_eq!(reasons(broken).get(&SkipReason::FileRejected), Some(&3));
        let un = file_findings(broken, "file_unreadable");
        assert_eq!((un[0].level, un[0].severity), (1, Severity::Error));
        assert_eq!(file(&r, "good.csv").records.lab.len(), 2);
        assert_eq!(co2_day(&r, "PLANT_A", day).ca_upstream_mg_per_l, Some(41.0));
    }
}

#[test]
fn blank_and_unreadable_values_are_skipped_with_findings() {
    let day = d(2025, 4, 2);
    let mut t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
    t.rows.push(lab_row("PLANT_A", UP, day, 2, ""));
    t.rows.push(lab_row("PLANT_A", UP, day, 3, "n/a"));
    t.rows.push(lab_row("PLANT_A", UP, day, 4, "41"));
    t.set(4, "date", "sometime");
    let f = read(LAB, t.to_text(',').as_bytes());
    assert_eq!(f.records.lab.len(), 2);
    let rs = reasons(&f);
    assert_eq!(rs.get(&SkipReason::MissingValue), Some(&1));
    assert_eq!(rs.get(&SkipReason::UnparseableValue), Some(&1));
    assert_eq!(rs.get(&SkipReason::UnparseableDate), Some(&1));
    assert_eq!(rs.get(&SkipReason::Header), Some(&1));
    let mv = file_findings(&f, "missing_value");
    assert_eq!(
        (mv[0].at.row, mv[0].at.col_letters().as_str()),
        (Some(4), "P")
    );
    let ud = file_findings(&f, "unparseable_date");
    assert_eq!(
        (ud[0].at.row, ud[0].at.col_letters().as_str()),
        (Some(6), "B")
    );
}

#[test]
fn blank_lines_and_crlf_are_counted() {
    let day = d(2025, 4, 2);
    let t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
    let lines: Vec<String> = t.to_text(',').lines().map(str::to_string).collect();
    let text = format!(
        "\r\n{}\r\n\r\n{}\r\n\r\n{}\r\n\r\n\r\n",
        lines[0], lines[1], lines[2]
    );
    let f = read(LAB, text.as_bytes());
    assert_eq!(f.records.lab.len(), 2);
    assert_eq!(f.records.lab[0].row, 4);
    assert_eq!(f.records.lab[1].row, 6);
    assert_eq!(f.account.rows_in, 8);
    assert_eq!(reasons(&f).get(&SkipReason::Blank), Some(&5));
}

#[test]
fn a_sample_repeated_across_two_files_is_collapsed_naming_both() {
    let day = d(2025, 4, 2);
    let a = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0)).to_text(',');
    let b = lab_table(vec![lab_row("PLANT_A", UP, day, 1, "40.000000000000007")]).to_text(',');
    let r = run_default(&[src("lab_q2_b.csv", b), src("lab_q2_a.csv", a)]);
    let dup = findings(&r, "duplicate_sample");
    assert_eq!(dup.len(), 1);
    assert!(
        dup[0].message.contains("lab_q2_a.csv row 2")
            && dup[0].message.contains("lab_q2_b.csv row 2"),
        "{}",
        dup[0].message
    );
    assert_eq!(
        dup[0].source_file.as_deref(),
        Some("lab_q2_a.csv"),
        "located at the first row in input order"
    );
    assert_eq!(co2_day(&r, "PLANT_A", day).ca_upstream_n, 1);
}

#[test]
fn text_from_files_cannot_run_as_a_spreadsheet_formula() {
    let day = d(2025, 4, 2);
    let mut t = lab_table(lab_pair("=HYPERLINK(\"http://x\")", day, 40.0, 50.0));
    t.set(0, "notes", "@SUM(A1)");
    let r = run_default(&[src(LAB, t.to_text(','))]);
    let co2 = output(&r, "co2_removal.csv");
    assert!(
        co2.contains("\"'=HYPERLINK(\"\"http://x\"\")\",2025-04-02,"),
        "{co2}"
    );
    assert!(!co2.lines().any(|l| l.starts_with('=')));
    let lab = parse_csv(&output(&r, "lab_readings.csv")).1;
    assert_eq!(lab[0]["plant_id"], "'=HYPERLINK(\"http://x\")");
    assert_eq!(lab[0]["value"], "40", "numbers are left alone");
}

/// Issue 12: calcium in mmol/L, µg/L or ppm was used as if it were mg/L.
/// Each is converted; a unit the method cannot convert leaves the row out
/// with a finding naming the file, the row and the unit.
#[test]
fn calcium_units_are_converted_or_the_row_is_skipped() {
    let day = d(2025, 4, 1);
    let mut t = lab_table(vec![
        lab_row("PLANT_A", UP, day, 1, "1"),
        lab_row("PLANT_A", UP, day, 2, "40000"),
        lab_row("PLANT_A", UP, day, 3, "41"),
        lab_row("PLANT_A", DOWN, day, 1, "45000"),
        lab_row("PLANT_A", DOWN, day, 2, "44"),
        lab_row("PLANT_A", DOWN, day, 3, "2"),
    ]);
    for (row, unit) in [
        (0, "mmol/L"),
        (1, "µg/L"),
        (2, "ppm"),
        (3, "ug/l"),
        (4, "mg/L"),
        (5, "mEq/L"),
    ] {
        t.set(row, "units", unit);
    }
    let f = read(LAB, t.to_text(',').as_bytes());
    let got: Vec<(u32, f64, &str)> = f
        .records
        .lab
        .iter()
        .map(|r| (r.row, r.value, &*r.unit))
        .collect();
    assert_eq!(
        got,
        [
            (2, 40.078, "mg/L"),
            (3, 40.0, "mg/L"),
            (4, 41.0, "mg/L"),
            (5, 45.0, "mg/L"),
            (6, 44.0, "mg/L")
        ]
    );
    assert_eq!(
        f.records.lab[0].uncertainty,
        Some(0.24 * 40.078),
        "the uncertainty is in the value's unit"
    );
    assert_eq!(reasons(&f).get(&SkipReason::UnknownUnit), Some(&1));
    let skipped: Vec<_> = file_findings(&f, "unexpected_unit")
        .into_iter()
        .filter(|x| x.severity == Severity::Warning)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].at.row, Some(7));
    assert_eq!(skipped[0].source_file.as_deref(), Some(LAB));
    assert!(
        skipped[0].message.contains("'mEq/L'"),
        "{}",
        skipped[0].message
    );
    assert!(
        skipped[0].message.contains("skipped"),
        "{}",
        skipped[0].message
    );
}

/// Issue 12: rows alternating good and bad made the page format every
/// skipped range. The core gives it at most `MAX_SKIP_RANGES_SHOWN`, and
/// how many more there are.
#[test]
fn the_page_gets_a_capped_list_of_skipped_ranges() {
    let n = crew_mrv_core::MAX_SKIP_RANGES_SHOWN + 57;
    let rows = (0..2 * n)
        .map(|i| {
            let value = if i % 2 == 0 { "40" } else { "bad" };
            lab_row("PLANT_A", UP, d(2025, 4, 1), i as u32 + 1, value)
        })
        .collect();
    let f = read(LAB, lab_table(rows).to_text(',').as_bytes());
    assert_eq!(
        f.account.skipped.len(),
        n + 1,
        "the header and every bad row"
    );
    let r = crew_mrv_core::skip_ranges(&f);
    assert_eq!(r.shown.len(), crew_mrv_core::MAX_SKIP_RANGES_SHOWN);
    assert_eq!(r.more, 58);
    assert_eq!(r.shown[1], "row 3: value not a number");
    assert_eq!(r.more_text("ranges").as_deref(), Some("and 58 more ranges"));
}
