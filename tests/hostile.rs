//! Hostile and broken input: every case is built here, in memory, and run
//! through the whole pipeline next to a good file. Each case checks the
//! message the user sees (what is wrong and what to do), where it points
//! (file, sheet, row, column), that the good file still loads, and that
//! every file's row account balances. No case may panic.
//!
//! Regressions for bugs found by fuzzing or review are named after the
//! bug and kept at the end.

use crew_mrv_core::config::Limits;
use crew_mrv_core::import::cfb::write_single_stream;
use crew_mrv_core::model::Severity;
use crew_mrv_core::qa::Finding;
use crew_mrv_core::{run, Config, FileErrorKind, FileImport, Run, SkipReason, Source};
use crew_mrv_samples::hostile::*;

const LAB_HEADER: &str = "unique_id,date,medium,replicate_num,plant_id,unit_type_id,parameter_name,units,value,uncertainty,notes";
const GOOD_NAME: &str = "good_calcium_lab.csv";

/// A small, valid lab file that must load in every run.
fn good_lab() -> Source {
    Source::new(
        GOOD_NAME,
        format!(
            "{LAB_HEADER}\n\
             PLANT_A_primary_clarifier_20250401_01,2025-04-01,aqueous,1,PLANT_A,primary_clarifier,calcium,mg/L,38.8,0.16,\n\
             PLANT_A_secondary_clarifier_20250401_01,2025-04-01,aqueous,1,PLANT_A,secondary_clarifier,calcium,mg/L,44.1,0.2,\n"
        ),
    )
}

/// One lab row for `value` on day `day` of April 2025.
fn lab_row(day: u32, unit: &str, value: &str) -> String {
    format!(
        "PLANT_A_{unit}_202504{day:02}_01,2025-04-{day:02},aqueous,1,PLANT_A,{unit},calcium,mg/L,{value},,"
    )
}

/// Run `cases` with the good file and check what holds for every run.
fn run_with_good(cases: Vec<Source>) -> Run {
    run_config(cases, &Config::default())
}

fn run_config(mut cases: Vec<Source>, config: &Config) -> Run {
    cases.push(good_lab());
    let report = run(&cases, config);
    for f in report.store.files() {
        assert!(
            f.account.balances(),
            "{}: rows_in {} != records {} + skipped {}",
            f.name,
            f.account.rows_in,
            f.account.records,
            f.account.skipped_total()
        );
        assert!(f.account_in_run().balances(), "{}: run account", f.name);
    }
    let good = file(&report, GOOD_NAME);
    assert!(
        good.error.is_none(),
        "the good file failed: {:?}",
        good.error
    );
    assert_eq!(good.account.records, 2, "the good file lost rows");
    report
}

fn file<'a>(report: &'a Run, name: &str) -> &'a FileImport {
    report
        .store
        .files()
        .iter()
        .find(|f| &*f.name == name)
        .unwrap_or_else(|| panic!("{name} not in the report"))
}

/// The file's error as the user reads it, with its kind.
fn error<'a>(report: &'a Run, name: &str) -> (&'a FileErrorKind, String) {
    let f = file(report, name);
    let e = f
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: expected an error, got {:?}", f.kind));
    (&e.kind, e.to_string())
}

/// Findings of one file whose message contains `text`.
fn findings<'a>(report: &'a Run, name: &str, text: &str) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.source_file.as_deref() == Some(name) && f.message.contains(text))
        .collect()
}

fn one_finding<'a>(report: &'a Run, name: &str, text: &str) -> &'a Finding {
    let found = findings(report, name, text);
    assert!(
        !found.is_empty(),
        "{name}: no finding with {text:?}; findings: {:#?}",
        report
            .findings
            .iter()
            .filter(|f| f.source_file.as_deref() == Some(name))
            .map(|f| &f.message)
            .collect::<Vec<_>>()
    );
    found[0]
}

fn assert_has(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "{p:?} not in {text:?}");
    }
}

// ---- Empty, unrecognised, wrong extension -------------------------------------

#[test]
fn zero_byte_and_whitespace_files_are_empty() {
    let r = run_with_good(vec![
        Source::new("empty.csv", Vec::new()),
        Source::new("blank.csv", "  \r\n\n\t\n"),
        Source::new("empty.xlsx", Vec::new()),
    ]);
    for name in ["empty.csv", "blank.csv", "empty.xlsx"] {
        let (kind, msg) = error(&r, name);
        assert_eq!(kind, &FileErrorKind::Empty, "{name}");
        assert_has(&msg, &["the file is empty", "Export it again"]);
    }
}

#[test]
fn csv_named_xlsx_is_read_by_its_content() {
    let csv = format!(
        "{LAB_HEADER}\n{}\n{}\n",
        lab_row(2, "primary_clarifier", "40"),
        lab_row(2, "secondary_clarifier", "45")
    );
    let r = run_with_good(vec![Source::new("lab results.xlsx", csv)]);
    let f = file(&r, "lab results.xlsx");
    assert!(f.error.is_none(), "{:?}", f.error);
    assert_eq!(f.account.records, 2);
}

#[test]
fn pdf_and_images_named_like_workbooks_are_not_tabular() {
    let r = run_with_good(vec![
        Source::new(
            "report.xls",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec(),
        ),
        Source::new("chart.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        Source::new("data.csv", vec![0u8, 1, 2, 3, 0, 0, 0, 7, 8, 0, 0, 0, 0, 1]),
    ]);
    let (kind, msg) = error(&r, "report.xls");
    assert!(matches!(kind, FileErrorKind::NotTabular { .. }));
    assert_has(
        &msg,
        &[
            "not a CSV or Excel file",
            "a PDF document",
            "Drop the plant's",
        ],
    );
    let (_, msg) = error(&r, "chart.xlsx");
    assert_has(&msg, &["a PNG image"]);
    let (_, msg) = error(&r, "data.csv");
    assert_has(&msg, &["binary data"]);
}

#[test]
fn unrecognised_csv_quotes_the_start_of_its_first_line_only() {
    let long = format!("name,{}\n1,2\n", "x".repeat(2_000_000));
    let r = run_with_good(vec![
        Source::new("notes.csv", "name,age\nAda,36\n"),
        Source::new("wide.csv", long),
    ]);
    let (_, msg) = error(&r, "notes.csv");
    assert_has(
        &msg,
        &[
            "neither a calcium lab export",
            "a pH sensor log",
            "nor expert review decisions",
            "name,age",
        ],
    );
    let f = file(&r, "notes.csv");
    assert_eq!(
        f.account.by_reason().get(&SkipReason::FileRejected),
        Some(&2)
    );
    let (_, msg) = error(&r, "wide.csv");
    assert!(msg.len() < 1_000, "message of {} bytes", msg.len());
}

#[test]
fn header_only_files_load_with_a_warning() {
    let r = run_with_good(vec![
        Source::new("lab_header_only.csv", format!("{LAB_HEADER}\n")),
        Source::new(
            "WB0001_PH_header_only.csv",
            "Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id\n",
        ),
        Source::new("PLANT_A-OPS DATA-APR25.xlsx", plant_a_xlsx(&[])),
    ]);
    for name in [
        "lab_header_only.csv",
        "WB0001_PH_header_only.csv",
        "PLANT_A-OPS DATA-APR25.xlsx",
    ] {
        let f = file(&r, name);
        assert!(f.error.is_none(), "{name}: {:?}", f.error);
        assert_eq!(f.account.records, 0);
        assert_eq!(f.account.rows_in, 1, "{name}");
        let w = one_finding(&r, name, "No row of this file could be used");
        assert_eq!(w.severity, Severity::Warning);
        assert_has(&w.message, &["header:1", "complete export"]);
    }
}

// ---- Containers: truncated, corrupt, bombs, encrypted, other formats ------------

#[test]
fn truncated_and_corrupt_zips_say_damaged() {
    let good = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let truncated = good[..good.len() / 2].to_vec();
    // Flip bytes inside the sheet's compressed data.
    let mut corrupt = good.clone();
    let sheet = central_headers(&good)
        .into_iter()
        .find(|c| central_name(&good, *c).contains("worksheets/sheet1"))
        .expect("sheet part");
    let data = local_header(&good, sheet) + 30 + "xl/worksheets/sheet1.xml".len() + 10;
    for b in &mut corrupt[data..data + 40] {
        *b ^= 0x5A;
    }
    let r = run_with_good(vec![
        Source::new("PLANT_A-OPS DATA-APR25.xlsx", good),
        Source::new("PLANT_A-OPS DATA-MAY25.xlsx", truncated),
        Source::new("PLANT_A-OPS DATA-JUN25.xlsx", corrupt),
    ]);
    assert!(file(&r, "PLANT_A-OPS DATA-APR25.xlsx").error.is_none());
    for name in ["PLANT_A-OPS DATA-MAY25.xlsx", "PLANT_A-OPS DATA-JUN25.xlsx"] {
        let (kind, msg) = error(&r, name);
        assert!(
            matches!(kind, FileErrorKind::Corrupt { .. }),
            "{name}: {kind:?}"
        );
        assert_has(&msg, &["is damaged and cannot be read", "export it again"]);
    }
}

#[test]
fn zip_bomb_declaring_a_huge_unpacked_size_is_refused_before_inflating() {
    let mut bomb = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let sheet = central_headers(&bomb)
        .into_iter()
        .find(|c| central_name(&bomb, *c).contains("worksheets/sheet1"))
        .expect("sheet part");
    // Declared uncompressed size: 4 GB - 1.
    // (0xFFFFFFFF itself would mean "see the zip64 field".)
    bomb[sheet + 24..sheet + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let r = run_with_good(vec![Source::new("PLANT_A-OPS DATA-APR25.xlsx", bomb)]);
    let (kind, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert!(matches!(kind, FileErrorKind::TooLarge { .. }), "{kind:?}");
    assert_has(
        &msg,
        &[
            "unpacked size",
            "exceeds the limit of 1073741824",
            "Split it into smaller exports",
        ],
    );
}

#[test]
fn zip_whose_part_inflates_past_its_declared_size_is_refused() {
    // A sheet part that really holds 8 MB but declares 100 bytes.
    let xlsx = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let mut big = b"<worksheet>".to_vec();
    big.resize(8 << 20, b' ');
    let mut lying = with_part(&xlsx, "xl/worksheets/sheet1.xml", &big, true);
    for c in central_headers(&lying) {
        if central_name(&lying, c).contains("worksheets/sheet1") {
            let local = local_header(&lying, c);
            lying[c + 24..c + 28].copy_from_slice(&100u32.to_le_bytes());
            lying[local + 22..local + 26].copy_from_slice(&100u32.to_le_bytes());
        }
    }
    let r = run_with_good(vec![Source::new("PLANT_A-OPS DATA-APR25.xlsx", lying)]);
    let (kind, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert!(matches!(kind, FileErrorKind::Corrupt { .. }), "{kind:?}");
    assert_has(&msg, &["damaged", "declared uncompressed size"]);
}

#[test]
fn unpacked_size_cap_is_configurable() {
    let xlsx = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let config = Config {
        limits: Limits {
            max_uncompressed_bytes: 1000,
            ..Limits::default()
        },
        ..Config::default()
    };
    let r = run_config(
        vec![Source::new("PLANT_A-OPS DATA-APR25.xlsx", xlsx)],
        &config,
    );
    let (_, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert_has(&msg, &["exceeds the limit of 1000"]);
}

#[test]
fn parts_read_whole_at_open_have_their_own_cap() {
    // Every `<xf/>` of the styles becomes a full style record in calamine,
    // so the styles part is capped by its declared size.
    let xlsx = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let config = Config {
        limits: Limits {
            max_open_part_bytes: 500,
            ..Limits::default()
        },
        ..Config::default()
    };
    let r = run_config(
        vec![Source::new("PLANT_A-OPS DATA-APR25.xlsx", xlsx)],
        &config,
    );
    let (kind, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert!(matches!(kind, FileErrorKind::TooLarge { .. }));
    assert_has(&msg, &["the workbook part", "exceeds the limit of 500"]);
}

#[test]
fn long_inline_text_in_a_sheet_is_refused_before_calamine_builds_it() {
    let base = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>{}</t></is></c></row></sheetData></worksheet>",
        "x".repeat(3 << 20)
    );
    let r = run_with_good(vec![Source::new(
        "PLANT_A-OPS DATA-APR25.xlsx",
        with_part(&base, "xl/worksheets/sheet1.xml", sheet.as_bytes(), true),
    )]);
    let (kind, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert!(matches!(kind, FileErrorKind::TooLarge { .. }));
    assert_has(
        &msg,
        &["a text cell of 314", "exceeds the limit of 1048576"],
    );
}

#[test]
fn sheets_together_are_capped_too() {
    let config = Config {
        limits: Limits {
            max_sheet_cells: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let r = run_config(
        vec![Source::new("three.xlsx", number_grid_xlsx(3, 10, 10))],
        &config,
    );
    let (_, msg) = error(&r, "three.xlsx");
    assert_has(
        &msg,
        &[
            "the workbook's sheets together (300 cells up to 'Sheet3')",
            "limit of 200",
        ],
    );
}

#[test]
fn many_sheets_sharing_one_large_part_are_refused() {
    // 300 sheet entries, one relationship, one 2 MB sheet part: calamine
    // would inflate that part 300 times.
    let base = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let mut sheet = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row>".to_vec();
    for _ in 0..(2 << 20) / 8 {
        sheet.extend_from_slice(b"<!-- -->");
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    let sheets: String = (0..300)
        .map(|i| format!("<sheet name=\"S{i}\" sheetId=\"{}\" r:id=\"rId1\"/>", i + 1))
        .collect();
    let workbook = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{sheets}</sheets></workbook>"
    );
    let xlsx = with_part(&base, "xl/worksheets/sheet1.xml", &sheet, false);
    let xlsx = with_part(&xlsx, "xl/workbook.xml", workbook.as_bytes(), false);
    let r = run_with_good(vec![Source::new("shared.xlsx", xlsx)]);
    let (kind, msg) = error(&r, "shared.xlsx");
    assert!(matches!(kind, FileErrorKind::Corrupt { .. }), "{kind:?}");
    assert_has(&msg, &["read over and over"]);
    assert!(msg.len() < 2_000, "{msg}");
}

#[test]
fn far_cell_in_xlsx_is_refused_with_its_place() {
    let r = run_with_good(vec![Source::new(
        "PLANT_A-OPS DATA-APR25.xlsx",
        far_cell_xlsx(),
    )]);
    let f = file(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    let e = f.error.as_ref().expect("error");
    assert!(matches!(e.kind, FileErrorKind::TooLarge { .. }));
    assert_eq!(e.at.row, Some(1_048_576));
    assert_eq!(e.at.col, Some(16_383));
    assert_eq!(e.at.sheet.as_deref(), Some("Sheet1"));
    assert_has(
        &e.to_string(),
        &[
            "sheet 'Sheet1', row 1048576, column XFD",
            "A1:XFD1048576",
            "exceeds the limit of 5000000",
        ],
    );
}

#[test]
fn far_cell_in_xls_is_refused_before_calamine_builds_the_sheet() {
    let mut cells = plant_a_cells(&[("4/1/2025", "36.8")]);
    cells.push((0x0203, number(65_535, 255, 1.0)));
    let r = run_with_good(vec![Source::new(
        "PLANT_A-OPS DATA-MAY25.xls",
        xls(&biff("OPERATOR DATA", &[], &cells)),
    )]);
    let e = file(&r, "PLANT_A-OPS DATA-MAY25.xls")
        .error
        .as_ref()
        .expect("error");
    assert!(matches!(e.kind, FileErrorKind::TooLarge { .. }));
    assert_eq!((e.at.row, e.at.col), (Some(65_536), Some(255)));
    assert_has(
        &e.to_string(),
        &["sheet 'OPERATOR DATA'", "A1:IV65536", "exceeds the limit"],
    );
}

#[test]
fn xls_dimensions_record_is_not_trusted() {
    // DIMENSIONS claims rows 0..u32::MAX by 256 columns; calamine would
    // reserve for all of them. The real cells are few, so the file loads.
    let mut dims = Vec::new();
    dims.extend_from_slice(&0u32.to_le_bytes());
    dims.extend_from_slice(&u32::MAX.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    dims.extend_from_slice(&256u16.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    let mut cells = vec![(0x0200, dims)];
    cells.extend(plant_a_cells(&[("4/1/2025", "36.8"), ("4/2/2025", "40.1")]));
    let r = run_with_good(vec![Source::new(
        "PLANT_A-OPS DATA-MAY25.xls",
        xls(&biff("OPERATOR DATA", &[], &cells)),
    )]);
    let f = file(&r, "PLANT_A-OPS DATA-MAY25.xls");
    assert!(f.error.is_none(), "{:?}", f.error);
    assert_eq!(f.account.records, 2);
}

#[test]
fn many_cells_are_refused_by_the_configurable_cap() {
    let config = Config {
        limits: Limits {
            max_sheet_cells: 500,
            ..Limits::default()
        },
        ..Config::default()
    };
    let r = run_config(
        vec![Source::new("many.xlsx", number_grid_xlsx(1, 30, 30))],
        &config,
    );
    let (kind, msg) = error(&r, "many.xlsx");
    assert!(matches!(kind, FileErrorKind::TooLarge { .. }));
    assert_has(&msg, &["exceeds the limit of 500", "Split it"]);
}

/// A compound file with `EncryptionInfo` and `EncryptedPackage` streams, as
/// Excel writes a password-protected .xlsx.
fn encrypted_ooxml() -> Vec<u8> {
    let mut f = write_single_stream("EncryptedPackage", &[0xAB; 5000]);
    // A second directory entry (slot 2, right of slot 1): EncryptionInfo,
    // an empty stream.
    let dir = 512 + 512 * 5000usize.div_ceil(512);
    let e = dir + 2 * 128;
    let name: Vec<u8> = "EncryptionInfo"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    f[e..e + name.len()].copy_from_slice(&name);
    f[e + 64..e + 66].copy_from_slice(&((name.len() + 2) as u16).to_le_bytes());
    f[e + 66] = 2;
    f[e + 116..e + 120].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    f[e + 120..e + 124].copy_from_slice(&0u32.to_le_bytes());
    f[dir + 128 + 72..dir + 128 + 76].copy_from_slice(&2u32.to_le_bytes());
    f
}

#[test]
fn encrypted_workbooks_ask_for_the_password_to_be_removed() {
    let mut filepass = vec![1u8, 0];
    filepass.extend_from_slice(&[0; 52]);
    let enc_xls = xls(&biff(
        "OPERATOR DATA",
        &[(0x002F, filepass)],
        &plant_a_cells(&[("4/1/2025", "36.8")]),
    ));
    let r = run_with_good(vec![
        Source::new("PLANT_A-OPS DATA-APR25.xlsx", encrypted_ooxml()),
        Source::new("PLANT_A-OPS DATA-MAY25.xls", enc_xls),
    ]);
    for name in ["PLANT_A-OPS DATA-APR25.xlsx", "PLANT_A-OPS DATA-MAY25.xls"] {
        let (kind, msg) = error(&r, name);
        assert_eq!(kind, &FileErrorKind::Encrypted, "{name}");
        assert_has(
            &msg,
            &["password-protected", "remove the password", "save a copy"],
        );
    }
}

#[test]
fn xlsb_and_ods_say_save_as_xlsx() {
    let xlsb = zip_of(
        &[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.bin", &[0x83, 0x01, 0x00]),
            ("xl/worksheets/sheet1.bin", &[0x81, 0x01, 0x00]),
        ],
        true,
    );
    let ods = zip_of(
        &[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", b"<office:document-content/>"),
        ],
        false,
    );
    let r = run_with_good(vec![
        Source::new("ops.xlsb", xlsb),
        Source::new("ops.ods", ods),
        Source::new("photos.zip", zip_of(&[("a.jpg", b"\xFF\xD8\xFF")], false)),
    ]);
    let (kind, msg) = error(&r, "ops.xlsb");
    assert!(matches!(kind, FileErrorKind::Unsupported { .. }));
    assert_has(
        &msg,
        &[
            "Excel binary (.xlsb) files are not supported",
            "Save the workbook as .xlsx",
        ],
    );
    let (_, msg) = error(&r, "ops.ods");
    assert_has(
        &msg,
        &[
            "OpenDocument spreadsheet (.ods)",
            "Save the workbook as .xlsx",
        ],
    );
    let (_, msg) = error(&r, "photos.zip");
    assert_has(&msg, &["a zip archive that is not an Excel workbook"]);
}

#[test]
fn other_office_and_old_excel_files_are_named() {
    let word = write_single_stream("WordDocument", &[0; 4096]);
    let mut biff5 = biff("Sheet1", &[], &[]);
    biff5[4..6].copy_from_slice(&0x0500u16.to_le_bytes());
    let r = run_with_good(vec![
        Source::new("memo.xls", word),
        Source::new("old.xls", xls(&biff5)),
        Source::new("book.xls", write_single_stream("Book", &biff5)),
    ]);
    assert_has(&error(&r, "memo.xls").1, &["a Word document"]);
    for name in ["old.xls", "book.xls"] {
        let (kind, msg) = error(&r, name);
        assert!(matches!(kind, FileErrorKind::Unsupported { .. }), "{name}");
        assert_has(&msg, &["Excel 5.0/95", "Save the workbook as .xlsx"]);
    }
}

#[test]
fn damaged_ole_containers_say_damaged() {
    let good = xls(&biff(
        "OPERATOR DATA",
        &[],
        &plant_a_cells(&[("4/1/2025", "36.8")]),
    ));
    let truncated = good[..1500].to_vec();
    // Directory sector pointing past the end of the file.
    let mut bad_dir = good.clone();
    bad_dir[48..52].copy_from_slice(&999_999u32.to_le_bytes());
    // A FAT whose chain loops: the first data sector points to itself.
    let mut looping = good.clone();
    let sectors = (good.len() - 512) / 512;
    let fat_sector = u32::from_le_bytes([good[76], good[77], good[78], good[79]]) as usize;
    let fat = 512 + fat_sector * 512;
    looping[fat..fat + 4].copy_from_slice(&0u32.to_le_bytes());
    assert!(sectors > 2);
    let r = run_with_good(vec![
        Source::new("PLANT_A-OPS DATA-APR25.xls", good),
        Source::new("PLANT_A-OPS DATA-MAY25.xls", truncated),
        Source::new("PLANT_A-OPS DATA-JUN25.xls", bad_dir),
        Source::new("PLANT_A-OPS DATA-JUL25.xls", looping),
    ]);
    let ok = file(&r, "PLANT_A-OPS DATA-APR25.xls");
    assert!(ok.error.is_none(), "{:?}", ok.error);
    assert_eq!(ok.account.records, 1);
    for name in [
        "PLANT_A-OPS DATA-MAY25.xls",
        "PLANT_A-OPS DATA-JUN25.xls",
        "PLANT_A-OPS DATA-JUL25.xls",
    ] {
        let (kind, msg) = error(&r, name);
        assert!(
            matches!(kind, FileErrorKind::Corrupt { .. }),
            "{name}: {kind:?}"
        );
        assert_has(
            &msg,
            &["the xls file is damaged", "download or export it again"],
        );
    }
}

#[test]
fn damaged_biff_records_say_damaged_or_are_skipped() {
    // A sheet whose offset points past the stream.
    let mut far_sheet = biff(
        "OPERATOR DATA",
        &[],
        &plant_a_cells(&[("4/1/2025", "36.8")]),
    );
    let at = far_sheet
        .windows(2)
        .position(|w| w == [0x85, 0x00])
        .expect("boundsheet")
        + 4;
    far_sheet[at..at + 4].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes());
    // A record running past the end of the stream (made longer than the
    // 4096 bytes a container pads a stream to, so the cut is real).
    let filler = (0x1234u16, vec![0u8; 5000]);
    let mut cut = biff(
        "OPERATOR DATA",
        &[filler],
        &plant_a_cells(&[("4/1/2025", "36.8")]),
    );
    cut.truncate(cut.len() - 6);
    // Short cell records (2 bytes of a NUMBER, a MULRK whose last column is
    // before its first) are skipped, the rest of the sheet is read.
    let mut cells = plant_a_cells(&[("4/1/2025", "36.8"), ("4/2/2025", "37.1")]);
    cells.push((0x0203, vec![1, 0]));
    cells.push((0x00BD, vec![5, 0, 9, 0, 0, 0, 0, 0, 0, 0, 2, 0]));
    let skipped = biff("OPERATOR DATA", &[], &cells);
    let r = run_with_good(vec![
        Source::new("PLANT_A-OPS DATA-MAY25.xls", xls(&far_sheet)),
        Source::new("PLANT_A-OPS DATA-JUN25.xls", xls(&cut)),
        Source::new("PLANT_A-OPS DATA-JUL25.xls", xls(&skipped)),
    ]);
    assert_has(
        &error(&r, "PLANT_A-OPS DATA-MAY25.xls").1,
        &[
            "sheet 'OPERATOR DATA' is said to start at byte",
            "past the end",
        ],
    );
    assert_has(
        &error(&r, "PLANT_A-OPS DATA-JUN25.xls").1,
        &["runs past the end of the Workbook stream"],
    );
    let f = file(&r, "PLANT_A-OPS DATA-JUL25.xls");
    assert!(f.error.is_none(), "{:?}", f.error);
    assert_eq!(f.account.records, 2);
    one_finding(&r, "PLANT_A-OPS DATA-JUL25.xls", "2 damaged cell records");
}

// ---- Text encodings and number forms ---------------------------------------------

#[test]
fn utf16_and_latin1_csvs_are_converted_and_said_so() {
    let text = format!(
        "{LAB_HEADER}\n{}\n{}\n",
        lab_row(3, "primary_clarifier", "40"),
        lab_row(3, "secondary_clarifier", "45")
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut latin1 = text.replace("aqueous", "aqu\u{e9}ous").into_bytes();
    for b in latin1.iter_mut() {
        if *b == 0xC3 {
            *b = 0xE9;
        }
    }
    latin1.retain(|b| *b != 0xA9);
    let r = run_with_good(vec![
        Source::new("lab_utf16.csv", utf16),
        Source::new("lab_latin1.csv", latin1),
    ]);
    for name in ["lab_utf16.csv", "lab_latin1.csv"] {
        let f = file(&r, name);
        assert!(f.error.is_none(), "{name}: {:?}", f.error);
        assert_eq!(f.account.records, 2, "{name}");
    }
    one_finding(
        &r,
        "lab_utf16.csv",
        "The file is UTF-16LE; it was converted to UTF-8.",
    );
    let w = one_finding(&r, "lab_latin1.csv", "read as Windows-1252");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(
        r.store
            .lab_readings()
            .find(|l| l.file_name_is(&r, "lab_latin1.csv"))
            .map(|l| l.medium.to_string()),
        Some("aqu\u{e9}ous".to_string())
    );
}

/// Which file a lab reading came from, by name.
trait FromFile {
    fn file_name_is(&self, r: &Run, name: &str) -> bool;
}

impl FromFile for crew_mrv_core::model::LabReading {
    fn file_name_is(&self, r: &Run, name: &str) -> bool {
        r.file_name(self.file) == name
    }
}

#[test]
fn decimal_commas_in_semicolon_csvs_are_read() {
    let semi = |unit: &str, value: &str| {
        lab_row(4, unit, "VALUE")
            .replace(',', ";")
            .replace("VALUE", value)
    };
    let text = format!(
        "{}\n{}\n{}\n",
        LAB_HEADER.replace(',', ";"),
        semi("primary_clarifier", "40,25"),
        semi("secondary_clarifier", "1.045,5"),
    );
    let r = run_with_good(vec![Source::new("lab_semicolons.csv", text)]);
    let f = file(&r, "lab_semicolons.csv");
    assert!(f.error.is_none(), "{:?}", f.error);
    let values: Vec<f64> = r
        .store
        .lab_readings()
        .filter(|l| l.file_name_is(&r, "lab_semicolons.csv"))
        .map(|l| l.value)
        .collect();
    assert_eq!(values, [40.25, 1045.5]);
    one_finding(&r, "lab_semicolons.csv", "separated by semicolons");
}

#[test]
fn bad_numbers_are_findings_with_their_cell() {
    let rows = [
        lab_row(5, "primary_clarifier", "-3.5"),
        lab_row(5, "secondary_clarifier", "NaN"),
        lab_row(6, "primary_clarifier", "inf"),
        lab_row(6, "secondary_clarifier", "#N/A"),
        lab_row(7, "primary_clarifier", "#VALUE!"),
        lab_row(7, "secondary_clarifier", "abc"),
    ];
    let text = format!("{LAB_HEADER}\n{}\n", rows.join("\n"));
    let r = run_with_good(vec![Source::new("lab_bad_values.csv", text)]);
    let name = "lab_bad_values.csv";
    let f = file(&r, name);
    assert_eq!(f.account.records, 1, "only the negative value is kept");
    assert_eq!(
        f.account.by_reason().get(&SkipReason::UnparseableValue),
        Some(&5)
    );
    let neg = one_finding(&r, name, "Calcium -3.5 mg/L is outside the plausible range");
    assert_eq!((neg.at.row, neg.at.col), (Some(2), Some(8)));
    let nan = one_finding(
        &r,
        name,
        "Lab value 'NaN' is not a finite number; row skipped.",
    );
    assert_eq!((nan.at.row, nan.at.col), (Some(3), Some(8)));
    one_finding(&r, name, "Lab value 'inf' is not a finite number");
    one_finding(&r, name, "Lab value '#N/A' is Excel error value #N/A");
    let v = one_finding(&r, name, "Lab value '#VALUE!' is Excel error value #VALUE!");
    assert_eq!(v.at.row, Some(6));
    one_finding(&r, name, "Lab value 'abc' is not a number");
}

#[test]
fn bad_numbers_in_workbooks_are_findings_with_their_cell() {
    let a = plant_a_xlsx(&[
        ("4/1/2025", "#VALUE!", "0"),
        ("4/2/2025", "-12", "30"),
        ("4/3/2025", "NaN", "#N/A"),
    ]);
    let r = run_with_good(vec![Source::new("PLANT_A-OPS DATA-APR25.xlsx", a)]);
    let name = "PLANT_A-OPS DATA-APR25.xlsx";
    let f = file(&r, name);
    assert_eq!(f.account.records, 3);
    let v = one_finding(
        &r,
        name,
        "'#VALUE!' is Excel error value #VALUE!; treated as blank.",
    );
    assert_eq!(v.at.sheet.as_deref(), Some("OPERATOR DATA"));
    assert_eq!((v.at.row, v.at.col), (Some(2), Some(1)));
    one_finding(
        &r,
        name,
        "effluent flow (Plnt Ef FLOW MGD) -12 is outside >= 0",
    );
    one_finding(&r, name, "bypass hours (HRS/DAY) 30 is outside 0–24 h");
    one_finding(&r, name, "'NaN' is not a finite number; treated as blank.");
    one_finding(&r, name, "'#N/A' is Excel error value #N/A");
}

#[test]
fn excel_serial_dates_are_read_in_workbooks_and_reported_in_csvs() {
    let days = [(april(1), 9.1, 9.1), (april(2), 9.2, 9.2)];
    let r = run_with_good(vec![
        Source::new(
            "PLANT_B-MPOR_Crew_04012025to04022025.xlsx",
            plant_b_xlsx(&days, false),
        ),
        Source::new(
            "PLANT_B-MPOR_Crew_04012025to04022025 (formatted).xlsx",
            plant_b_xlsx(&days, true),
        ),
        Source::new(
            "lab_serial_dates.csv",
            format!(
                "{LAB_HEADER}\nid1,45748,aqueous,1,PLANT_B,primary_clarifier,calcium,mg/L,40,,\n"
            ),
        ),
    ]);
    for name in [
        "PLANT_B-MPOR_Crew_04012025to04022025.xlsx",
        "PLANT_B-MPOR_Crew_04012025to04022025 (formatted).xlsx",
    ] {
        let f = file(&r, name);
        assert!(f.error.is_none(), "{name}: {:?}", f.error);
        assert_eq!(f.account.records, 2, "{name}");
        let dates: Vec<_> = f.records.ops.iter().map(|o| o.date.to_string()).collect();
        assert_eq!(dates, ["2025-04-01", "2025-04-02"]);
    }
    let d = one_finding(
        &r,
        "lab_serial_dates.csv",
        "Sample date '45748' is not a date (expected YYYY-MM-DD); row skipped.",
    );
    assert_eq!((d.at.row, d.at.col), (Some(2), Some(1)));
}

// ---- Size caps on text files -------------------------------------------------------

#[test]
fn a_100000_column_line_skips_its_row_or_refuses_its_header() {
    let wide_row = format!("{}\n", vec!["1"; 100_000].join(","));
    let data = format!(
        "{LAB_HEADER}\n{}\n{wide_row}{}\n",
        lab_row(8, "primary_clarifier", "40"),
        lab_row(8, "secondary_clarifier", "45")
    );
    let wide_header = format!(
        "{LAB_HEADER},{}\n{}\n",
        (0..100_000)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join(","),
        lab_row(8, "primary_clarifier", "40")
    );
    let r = run_with_good(vec![
        Source::new("lab_wide_row.csv", data),
        Source::new("lab_wide_header.csv", wide_header),
    ]);
    let f = file(&r, "lab_wide_row.csv");
    assert_eq!(f.account.records, 2);
    assert_eq!(
        f.account.by_reason().get(&SkipReason::TooManyFields),
        Some(&1)
    );
    let w = one_finding(
        &r,
        "lab_wide_row.csv",
        "Row has 100000 fields, more than the limit of 10000; skipped.",
    );
    assert_eq!(w.at.row, Some(3));
    let e = file(&r, "lab_wide_header.csv")
        .error
        .as_ref()
        .expect("error");
    assert_eq!(e.at.row, Some(1));
    assert_has(
        &e.to_string(),
        &[
            "row 1",
            "the header row's 100011 columns exceeds the limit of 10000",
            "Split it",
        ],
    );
}

#[test]
fn a_100_mb_cell_skips_its_csv_row_and_refuses_the_workbook() {
    let huge = "9".repeat(100 << 20);
    let csv = format!(
        "{LAB_HEADER}\n{}\n{}\n{}\n",
        lab_row(9, "primary_clarifier", "40"),
        lab_row(9, "secondary_clarifier", &huge),
        lab_row(10, "primary_clarifier", "41")
    );
    // The same text as the one shared string of an .xlsx (stored, so the
    // test builds it quickly).
    let base = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let strings = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"1\" uniqueCount=\"1\"><si><t>{huge}</t></si></sst>"
    );
    let xlsx = with_part(&base, "xl/sharedStrings.xml", strings.as_bytes(), false);
    drop(huge);
    let r = run_with_good(vec![
        Source::new("lab_huge_cell.csv", csv),
        Source::new("PLANT_A-OPS DATA-APR25.xlsx", xlsx),
    ]);
    let f = file(&r, "lab_huge_cell.csv");
    assert_eq!(f.account.records, 2);
    assert_eq!(
        f.account.by_reason().get(&SkipReason::FieldTooLarge),
        Some(&1)
    );
    let w = one_finding(
        &r,
        "lab_huge_cell.csv",
        "A field of 104857600 bytes is larger than the limit of 1048576 bytes; row skipped.",
    );
    assert_eq!((w.at.row, w.at.col), (Some(3), Some(8)));
    let (kind, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert!(matches!(kind, FileErrorKind::TooLarge { .. }));
    assert_has(&msg, &["a text cell of", "exceeds the limit of 1048576"]);
    // No message quotes the whole cell.
    assert!(r.findings.iter().all(|f| f.message.len() < 10_000));
}

/// Settings whose file size cap a few hundred bytes pass.
fn file_cap_100() -> Config {
    Config {
        limits: Limits {
            max_file_bytes: 100,
            ..Limits::default()
        },
        ..Config::default()
    }
}

#[test]
fn file_size_cap_is_checked_first() {
    let config = file_cap_100();
    let mut big = good_lab();
    big.name = "big_lab.csv".into();
    big.bytes.extend(std::iter::repeat_n(b'\n', 200));
    let mut cases = vec![big];
    cases.push(Source::new("tiny.csv", "a,b\n"));
    let r = run(&cases, &config);
    let (kind, msg) = error(&r, "big_lab.csv");
    assert!(matches!(kind, FileErrorKind::TooLarge { .. }));
    assert_has(&msg, &["the file (", "exceeds the limit of 100"]);
}

/// The browser checks a `File`'s size before reading it (issue #12): the
/// file it reports from the size alone is the one reading it would give,
/// and a file within the limit is still read.
#[test]
fn a_file_over_the_cap_is_reported_from_its_size_alone() {
    let config = file_cap_100();
    let mut big = good_lab();
    big.bytes.extend(std::iter::repeat_n(b'\n', 200));
    let size = big.bytes.len() as u64;
    let read = crew_mrv_core::import::import_file("big_lab.csv", &big.bytes, &config);
    let unread = crew_mrv_core::import::import_unread("big_lab.csv", size, &config);
    let Some(unread) = unread else {
        panic!("a file over the cap must be reported unread");
    };
    assert_eq!(format!("{unread:?}"), format!("{read:?}"));
    assert!(crew_mrv_core::import::import_unread("small.csv", 100, &config).is_none());
    // Two such files, unhashed, are not duplicates of each other.
    let mut store = crew_mrv_core::ImportStore::default();
    for name in ["a.csv", "b.csv"] {
        if let Some(f) = crew_mrv_core::import::import_unread(name, size, &config) {
            store.add(f);
        }
    }
    let report = crew_mrv_core::assemble(&mut store, &config);
    assert_eq!(report.files.len(), 2);
    assert!(report.files.iter().all(|f| f.duplicate_of.is_none()));
    assert!(report.files.iter().all(|f| matches!(
        f.error.as_ref().map(|e| &e.kind),
        Some(FileErrorKind::TooLarge { .. })
    )));
}

#[test]
fn wide_header_over_many_short_rows_keeps_metadata_within_its_budget() {
    // 2,000 extra columns with long names over 3,000 short rows: kept as
    // metadata on every row, that would be ~300 MB.
    let extra: Vec<String> = (0..2_000)
        .map(|i| format!("extra_column_{i:04}_{}", "n".repeat(30)))
        .collect();
    let mut text = format!("{LAB_HEADER},{}\n", extra.join(","));
    for i in 0..3_000 {
        text.push_str(&format!(
            "id{i},2025-04-11,aqueous,1,PLANT_A,primary_clarifier,calcium,mg/L,40,,,{i}\n"
        ));
    }
    let config = Config {
        limits: Limits {
            max_metadata_bytes: 8 << 20,
            ..Limits::default()
        },
        ..Config::default()
    };
    let r = run_config(vec![Source::new("lab_wide_header.csv", text)], &config);
    let f = file(&r, "lab_wide_header.csv");
    assert_eq!(f.account.records, 3_000);
    let kept: usize = f.records.lab.iter().map(|l| l.metadata.len()).sum();
    assert!(kept <= (8 << 20) + 2 * 3_000, "{kept} bytes of metadata");
    let w = one_finding(
        &r,
        "lab_wide_header.csv",
        "were not kept: together they pass the limit of 8388608 bytes",
    );
    assert!(w.at.row.is_some());
}

// ---- Duplicates and conflicts -------------------------------------------------------

#[test]
fn the_same_file_dropped_twice_counts_once() {
    let a = plant_a_xlsx(&[("4/1/2025", "36.8", "0"), ("4/2/2025", "37.0", "0")]);
    let r = run_with_good(vec![
        Source::new("PLANT_A-OPS DATA-APR25.xlsx", a.clone()),
        Source::new("PLANT_A-OPS DATA-APR25 (1).xlsx", a),
    ]);
    let dup = file(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert_eq!(
        dup.duplicate_of.as_deref(),
        Some("PLANT_A-OPS DATA-APR25 (1).xlsx")
    );
    let run_account = dup.account_in_run();
    assert_eq!(run_account.records, 0);
    assert_eq!(
        run_account.by_reason().get(&SkipReason::DuplicateFile),
        Some(&3)
    );
    let w = one_finding(&r, "PLANT_A-OPS DATA-APR25.xlsx", "has the same content as");
    assert_has(
        &w.message,
        &["already loaded", "ignored so nothing is counted twice"],
    );
    assert_eq!(r.plant_operations.len(), 2);
}

#[test]
fn two_files_with_different_values_for_one_plant_and_day_are_reported() {
    let r = run_with_good(vec![
        Source::new(
            "PLANT_B-MPOR_Crew_04012025to04022025.xlsx",
            plant_b_xlsx(&[(april(1), 9.163, 9.163), (april(2), 9.2, 9.2)], true),
        ),
        Source::new(
            "PLANT_B-MPOR_Crew_04022025to04032025.xlsx",
            plant_b_xlsx(&[(april(2), 9.194, 9.194), (april(3), 9.3, 9.3)], true),
        ),
        Source::new(
            "lab_conflict.csv",
            format!(
                "{LAB_HEADER}\n{}\n{}\n",
                lab_row(12, "primary_clarifier", "43.26"),
                lab_row(12, "primary_clarifier", "42.01")
            ),
        ),
    ]);
    let flow = r
        .findings
        .iter()
        .find(|f| {
            f.message
                .contains("Effluent flow for 2025-04-02 differs between reports")
        })
        .expect("revised flow finding");
    assert_has(
        &flow.message,
        &["9.2", "9.194", "newest report's 9.194 MGD is used"],
    );
    let day = r
        .plant_operations
        .iter()
        .find(|o| o.date.to_string() == "2025-04-02")
        .expect("day");
    assert_eq!(day.actual_eff_flow_mgd, Some(9.194));
    let lab = r
        .findings
        .iter()
        .find(|f| {
            f.message
                .contains("is reported 2 times with different values")
        })
        .expect("sample conflict finding");
    assert_has(&lab.message, &["43.26", "42.01", "mean"]);
}

// ---- Regressions: one per bug found ---------------------------------------------------

/// Found in review: a Plant B file name with a multi-byte character eight
/// bytes before "to" panicked on a `str` slice.
#[test]
fn regression_report_period_non_ascii_name_panicked() {
    let r = run_with_good(vec![Source::new(
        "é1234567to12345678.xlsx",
        plant_b_xlsx(&[(april(1), 9.1, 9.1)], true),
    )]);
    let f = file(&r, "é1234567to12345678.xlsx");
    assert!(f.error.is_none(), "{:?}", f.error);
}

/// Found in review: calamine reserves `uniqueCount` strings before reading
/// the table, so a tiny workbook claiming a billion strings aborted.
#[test]
fn regression_shared_strings_claiming_a_billion_strings_aborted() {
    let base = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let parts = unzip(&base);
    let (_, strings) = parts
        .iter()
        .find(|(n, _)| n == "xl/sharedStrings.xml")
        .expect("shared strings");
    let text = String::from_utf8_lossy(strings);
    let start = text.find("uniqueCount=\"").expect("uniqueCount") + 13;
    let end = start + text[start..].find('"').expect("quote");
    let lying = format!("{}1000000000000{}", &text[..start], &text[end..]);
    let r = run_with_good(vec![Source::new(
        "PLANT_A-OPS DATA-APR25.xlsx",
        with_part(&base, "xl/sharedStrings.xml", lying.as_bytes(), true),
    )]);
    let (kind, msg) = error(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert!(matches!(kind, FileErrorKind::Corrupt { .. }), "{kind:?}");
    assert_has(&msg, &["claims 1000000000000 strings but holds"]);
}

/// Found by fuzzing (plant_b_xlsx): a cell reference like `r="AAAAAAAAA1"`
/// overflows calamine's column arithmetic, a panic in debug builds.
#[test]
fn regression_cell_reference_overflow_panicked_in_debug_builds() {
    let base = plant_a_xlsx(&[("4/1/2025", "36.8", "0")]);
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"{}1\" t=\"n\"><v>1</v></c></row><row r=\"99999999999\"><c r=\"A99999999999\"><v>2</v></c></row></sheetData></worksheet>",
        "Z".repeat(40)
    );
    let r = run_with_good(vec![Source::new(
        "ops.xlsx",
        with_part(&base, "xl/worksheets/sheet1.xml", sheet.as_bytes(), true),
    )]);
    assert!(file(&r, "ops.xlsx").error.is_some());
}

/// Found in review: rows alternating between skip reasons (a bad line, a
/// blank line, ...) cost a skipped range each, ~16 bytes of account per
/// byte of input; a 100 MB file would have needed ~2 GB.
#[test]
fn regression_alternating_skip_reasons_grew_the_account_without_bound() {
    let mut text = format!("{LAB_HEADER}\n");
    for _ in 0..250_000 {
        text.push_str("x\n\n");
    }
    let r = run_with_good(vec![Source::new("lab_alternating.csv", text)]);
    let f = file(&r, "lab_alternating.csv");
    assert_eq!(f.account.rows_in, 500_001);
    assert!(f.account.skipped.len() <= crew_mrv_core::import::MAX_SKIP_RANGES);
    assert!(f.account.by_reason().contains_key(&SkipReason::Various));
}

/// Found in review (issue 12): a `.xls` saved in the 1904 date system was
/// read in the 1900 system, every date four years early.
#[test]
fn regression_xls_1904_dates_were_read_in_the_1900_system() {
    let serials = [april(1), april(2)];
    let r = run_with_good(vec![
        Source::new(
            "PLANT_A-OPS DATA-APR25.xls",
            plant_a_xls_serial_dates(&serials, true),
        ),
        Source::new(
            "PLANT_A-OPS DATA-APR25 (1900).xls",
            plant_a_xls_serial_dates(&serials, false),
        ),
    ]);
    for name in [
        "PLANT_A-OPS DATA-APR25.xls",
        "PLANT_A-OPS DATA-APR25 (1900).xls",
    ] {
        let f = file(&r, name);
        assert!(f.error.is_none(), "{name}: {:?}", f.error);
        let dates: Vec<_> = f.records.ops.iter().map(|o| o.date.to_string()).collect();
        assert_eq!(dates, ["2025-04-01", "2025-04-02"], "{name}");
    }
}
