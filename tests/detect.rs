//! Kind detection by content, and files that are not what they claim:
//! clear errors or zero records, never a panic, and the rest of the run
//! goes on.

use crew_mrv_core::model::Severity;
use crew_mrv_core::{read_file, Config, FileKind, SkipReason};
use rust_xlsxwriter::Workbook;

use crate::fixtures::*;

fn lab_text() -> String {
    lab_table(lab_pair("PLANT_A", d(2025, 4, 1), 40.0, 50.0)).to_text(',')
}

fn ph_text() -> String {
    ph_table(vec![ph_row(
        "2025-04-01 00:00:00",
        "7.1",
        "WB0038",
        "aeration_basin",
        "PLANT_A",
    )])
    .to_text(',')
}

fn kind(name: &str, bytes: &[u8]) -> Option<FileKind> {
    let f = read_file(name, bytes, &Config::default());
    assert_balanced(&f);
    assert!(f.error.is_none(), "{name}: {:?}", f.error);
    f.kind
}

fn error(name: &str, bytes: &[u8]) -> crew_mrv_core::FileImport {
    let f = read_file(name, bytes, &Config::default());
    assert_balanced(&f);
    assert!(f.error.is_some(), "{name} should not be readable");
    assert!(f.records.lab.is_empty() && f.records.sensor.is_empty() && f.records.ops.is_empty());
    let un = file_findings(&f, "file_unreadable");
    assert_eq!(un.len(), 1, "{name}");
    assert_eq!((un[0].level, un[0].severity), (1, Severity::Error));
    assert!(un[0].message.starts_with(name), "{}", un[0].message);
    f
}

#[test]
fn renamed_files_are_recognised_by_content() {
    let a = PlantA::month(d(2025, 4, 1), &[40.0]).xlsx();
    let b = PlantB::new(PlantB::days_from(d(2025, 4, 4), &[9.1])).xlsx();
    assert_eq!(
        kind("x.csv", lab_text().as_bytes()),
        Some(FileKind::CalciumLab)
    );
    assert_eq!(
        kind("readme.txt", lab_text().as_bytes()),
        Some(FileKind::CalciumLab)
    );
    assert_eq!(
        kind("x.csv", ph_text().as_bytes()),
        Some(FileKind::PhSensor)
    );
    assert_eq!(
        kind("lab_results.csv", ph_text().as_bytes()),
        Some(FileKind::PhSensor)
    );
    assert_eq!(kind("data.xlsx", &a), Some(FileKind::PlantAOps));
    assert_eq!(kind("data.xlsx", &b), Some(FileKind::PlantBReport));
    assert_eq!(
        kind("PLANT_B-MPOR_Crew_04042025to04252025.xlsx", &a),
        Some(FileKind::PlantAOps)
    );
    assert_eq!(
        kind("PLANT_A-OPS DATA-APR25.xls", &b),
        Some(FileKind::PlantBReport),
        "an .xlsx named .xls"
    );
    assert_eq!(kind("noextension", &a), Some(FileKind::PlantAOps));
    // Plant A's sheet renamed: still recognised by its header.
    let mut wb = PlantA::month(d(2025, 4, 1), &[40.0]);
    wb.sheet_name = "Sheet1".into();
    assert_eq!(kind("ops.xlsx", &wb.xlsx()), Some(FileKind::PlantAOps));
    let mut wb = PlantB::new(PlantB::days_from(d(2025, 4, 4), &[9.1]));
    wb.sheet_name = "Report".into();
    assert_eq!(kind("rep.xlsx", &wb.xlsx()), Some(FileKind::PlantBReport));
}

#[test]
fn a_preamble_above_the_csv_header_is_skipped() {
    let text = format!("Exported by LIMS 4.2\nQuarter: Q2 2025\n{}", lab_text());
    let f = read_file("lab.csv", text.as_bytes(), &Config::default());
    assert_balanced(&f);
    assert_eq!(f.records.lab.len(), 2);
    assert_eq!(reasons(&f).get(&SkipReason::Preamble), Some(&2));
    assert_eq!(f.records.lab[0].row, 4);
}

#[test]
fn an_unrelated_csv_gets_a_message_listing_what_was_expected() {
    let text = "name,price,qty\nwidget,2.50,4\ngadget,3.10,1\n\n";
    let f = error("inventory.csv", text.as_bytes());
    let e = f.error.as_ref().expect("error");
    assert_eq!(e.code(), "unrecognised_csv");
    let msg = e.to_string();
    for s in [
        "calcium lab",
        "unique_id",
        "pH sensor",
        "Timestamp",
        "Measurement value",
        "name,price,qty",
    ] {
        assert!(msg.contains(s), "{s} in {msg}");
    }
    assert_eq!(f.account.rows_in, 4);
    assert_eq!(reasons(&f).get(&SkipReason::FileRejected), Some(&3));
    assert_eq!(reasons(&f).get(&SkipReason::Blank), Some(&1));
}

#[test]
fn pdf_bytes_named_xls_are_refused_clearly() {
    let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n\x00\x01\x02trailer\n%%EOF\n";
    let f = error("PLANT_A-OPS DATA-MAY25.xls", pdf);
    let e = f.error.as_ref().expect("error");
    assert_eq!(e.code(), "not_tabular");
    assert!(e.to_string().contains("PDF"), "{e}");
    assert_eq!(f.kind, None);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x5eed);
    for n in [1usize, 7, 100, 4096, 70_000] {
        for prefix in [
            &b""[..],
            b"PK\x03\x04",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            b"\xEF\xBB\xBF",
            b"\xFF\xFE",
        ] {
            let mut bytes = prefix.to_vec();
            bytes.extend((0..n).map(|_| rng.next() as u8));
            let f = read_file("random.xlsx", &bytes, &Config::default());
            assert_balanced(&f);
            assert!(
                f.error.is_some() || f.account.records == 0,
                "{n} bytes after {prefix:?}"
            );
        }
    }
}

#[test]
fn empty_and_whitespace_files_are_empty_errors() {
    for bytes in [&b""[..], b"   \n\r\n\t\n"] {
        let f = error("lab.csv", bytes);
        assert_eq!(f.error.as_ref().map(|e| e.code()), Some("empty"));
        assert!(f
            .error
            .as_ref()
            .expect("error")
            .to_string()
            .contains("empty"));
    }
}

#[test]
fn header_only_files_give_zero_records_without_error() {
    let lab = csv_line(&LAB_COLUMNS, ',');
    let f = read_file("lab.csv", lab.as_bytes(), &Config::default());
    assert_balanced(&f);
    assert!(f.error.is_none());
    assert_eq!(
        (f.kind, f.account.rows_in, f.account.records),
        (Some(FileKind::CalciumLab), 1, 0)
    );
    let ph = csv_line(&PH_COLUMNS, ',');
    let f = read_file("ph.csv", ph.as_bytes(), &Config::default());
    assert_balanced(&f);
    assert_eq!((f.kind, f.account.records), (Some(FileKind::PhSensor), 0));
    let mut a = PlantA::month(d(2025, 4, 1), &[]);
    a.trailer = false;
    let f = read_file("PLANT_A-OPS DATA-APR25.xlsx", &a.xlsx(), &Config::default());
    assert_balanced(&f);
    assert_eq!(
        (f.kind, f.account.rows_in, f.account.records),
        (Some(FileKind::PlantAOps), 1, 0)
    );
    let r = run_default(&[
        src("lab.csv", lab),
        src("ph.csv", ph),
        src("a.xlsx", a.xlsx()),
    ]);
    assert!(r.co2.is_empty() && r.all_files_read());
}

#[test]
fn broken_workbooks_are_refused_clearly() {
    let good = PlantA::month(d(2025, 4, 1), &[40.0, 41.0]).xlsx();
    // Truncated in the middle.
    let f = error("PLANT_A-OPS DATA-APR25.xlsx", &good[..good.len() / 2]);
    assert_eq!(f.error.as_ref().map(|e| e.code()), Some("corrupt"));
    // A workbook with no plant layout.
    let mut wb = Workbook::new();
    wb.add_worksheet()
        .set_name("Budget")
        .expect("name")
        .write_string(0, 0, "Item")
        .expect("w");
    wb.add_worksheet()
        .set_name("Notes")
        .expect("name")
        .write_string(2, 1, "nothing here")
        .expect("w");
    let f = error("budget.xlsx", &wb.save_to_buffer().expect("xlsx"));
    let e = f.error.as_ref().expect("error");
    assert_eq!(e.code(), "unrecognised_workbook");
    assert!(e.to_string().contains("Budget, Notes"), "{e}");
    assert_eq!(f.sheets.len(), 2);
    assert_eq!(f.account.rows_in, 1 + 3);
    // An empty workbook.
    let mut wb = Workbook::new();
    wb.add_worksheet();
    let f = error("empty.xlsx", &wb.save_to_buffer().expect("xlsx"));
    assert_eq!(
        f.error.as_ref().map(|e| e.code()),
        Some("unrecognised_workbook")
    );
}

#[test]
fn extra_sheets_beside_the_layout_are_counted_as_unused() {
    let a = PlantA::month(d(2025, 4, 1), &[40.0, 41.0]);
    // Rebuild with a second sheet in front.
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("Notes").expect("name");
    for r in 0..5 {
        notes.write_string(r, 0, "operator remarks").expect("w");
    }
    let sheet = wb.add_worksheet();
    sheet.set_name("OPERATOR DATA").expect("name");
    for (c, &l) in a.order.iter().enumerate() {
        sheet
            .write_string(0, c as u16, plant_a_header(l, a.period))
            .expect("w");
        for (i, day) in a.days.iter().enumerate() {
            sheet
                .write_string(1 + i as u32, c as u16, &day.cells[l])
                .expect("w");
        }
    }
    let f = read_file(
        "PLANT_A-OPS DATA-APR25.xlsx",
        &wb.save_to_buffer().expect("xlsx"),
        &Config::default(),
    );
    assert_balanced(&f);
    assert_eq!(f.kind, Some(FileKind::PlantAOps));
    assert_eq!(f.records.ops.len(), 2);
    assert_eq!(reasons(&f).get(&SkipReason::UnusedSheet), Some(&5));
    let unused = f
        .account
        .skipped
        .iter()
        .find(|s| s.reason == SkipReason::UnusedSheet)
        .expect("unused");
    assert_eq!(unused.sheet.as_deref(), Some("Notes"));
}

#[test]
fn a_zip_that_is_not_a_workbook_is_refused() {
    // A zip with one stored entry, written by hand.
    let name = b"hello.txt";
    let body = b"hi";
    let mut z = Vec::new();
    z.extend_from_slice(b"PK\x03\x04\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend_from_slice(&crc32(body).to_le_bytes());
    z.extend_from_slice(&(body.len() as u32).to_le_bytes());
    z.extend_from_slice(&(body.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name);
    z.extend_from_slice(body);
    let cd = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02\x14\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend_from_slice(&crc32(body).to_le_bytes());
    z.extend_from_slice(&(body.len() as u32).to_le_bytes());
    z.extend_from_slice(&(body.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0u8; 12]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name);
    let cd_len = z.len() as u32 - cd;
    z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    let f = error("archive.xlsx", &z);
    let e = f.error.as_ref().expect("error");
    assert_eq!(e.code(), "not_tabular", "{e}");
    assert!(e.to_string().contains("zip"), "{e}");
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn utf16_text_is_converted_with_an_info() {
    let text = lab_text();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let f = read_file("lab16.csv", &bytes, &Config::default());
    assert_balanced(&f);
    assert_eq!(f.records.lab.len(), 2);
    let enc = file_findings(&f, "encoding");
    assert_eq!((enc[0].level, enc[0].severity), (1, Severity::Info));
    assert!(enc[0].message.contains("UTF-16LE"));
}

#[test]
fn bad_files_never_stop_the_others() {
    let a = PlantA::month(d(2025, 4, 1), &[31.2]).xlsx();
    let lab = lab_table(lab_pair("PLANT_A", d(2025, 4, 1), 39.8, 53.7)).to_text(',');
    let r = run_default(&[
        src("broken.xls", b"%PDF-1.4 nonsense".to_vec()),
        src("empty.csv", Vec::new()),
        src("inventory.csv", "name,price\nx,1\n"),
        src("truncated.xlsx", a[..a.len() / 3].to_vec()),
        src("PLANT_A-OPS DATA-APR25.xlsx", a.clone()),
        src("lab.csv", lab),
    ]);
    assert!(!r.all_files_read());
    assert_eq!(r.files.iter().filter(|f| f.error.is_some()).count(), 4);
    assert_eq!(findings(&r, "file_unreadable").len(), 4);
    let day = co2_day(&r, "PLANT_A", d(2025, 4, 1));
    assert_eq!(day.quality_flag, crew_mrv_core::model::Flag::Valid);
    let files = parse_csv(&output(&r, "files.csv")).1;
    let status: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f["name"].as_str(), f["status"].as_str()))
        .collect();
    assert_eq!(
        status,
        [
            ("PLANT_A-OPS DATA-APR25.xlsx", "ok"),
            ("broken.xls", "not_tabular"),
            ("empty.csv", "empty"),
            ("inventory.csv", "unrecognised_csv"),
            ("lab.csv", "ok"),
            ("truncated.xlsx", "corrupt"),
        ]
    );
    assert!(files[1]["message"].contains("PDF"));
}

#[test]
fn caps_refuse_huge_inputs_before_reading_them() {
    use crew_mrv_core::config::Limits;
    let lab = lab_text();
    let small = Config {
        limits: Limits {
            max_file_bytes: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let f = read_file("lab.csv", lab.as_bytes(), &small);
    assert_balanced(&f);
    assert_eq!(f.error.as_ref().map(|e| e.code()), Some("too_large"));
    assert!(f
        .error
        .as_ref()
        .expect("error")
        .to_string()
        .contains("limit of 100"));
    // One cell at XFD1048576 must not make a 17-billion-cell sheet.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "OPERATOR DATA").expect("w");
    ws.write_string(1_048_575, 16_383, "far away").expect("w");
    let f = error("far.xlsx", &wb.save_to_buffer().expect("xlsx"));
    assert_eq!(f.error.as_ref().map(|e| e.code()), Some("too_large"));
    // Too many fields on a CSV line: the row is skipped and reported.
    let few = Config {
        limits: Limits {
            max_csv_fields: 30,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut text = lab_text();
    text.push_str(&",x".repeat(40));
    text.push('\n');
    let f = read_file("lab.csv", text.as_bytes(), &few);
    assert_balanced(&f);
    assert_eq!(f.records.lab.len(), 2);
    assert_eq!(reasons(&f).get(&SkipReason::TooManyFields), Some(&1));
    let u = file_findings(&f, "unrecognised_row");
    assert_eq!((u[0].level, u[0].at.row), (3, Some(4)));
}
