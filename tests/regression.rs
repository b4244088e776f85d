//! One test per bug found in src/, named for the bug.

use crew_mrv_core::{read_file, Config, FileKind};

use crate::fixtures::*;

/// A lab export or pH log lacking a required column used to be reported as
/// "neither a calcium lab export nor a pH sensor log" (detection demanded
/// the very columns whose absence should be reported), so the user never
/// learned which column was missing.
#[test]
fn missing_required_column_is_named_not_reported_as_unrecognised_csv() {
    let day = d(2025, 4, 2);
    for column in ["value", "plant_id", "unit_type_id", "date"] {
        let mut t = lab_table(lab_pair("PLANT_A", day, 40.0, 50.0));
        t.drop_col(column);
        let f = read_file("lab.csv", t.to_text(',').as_bytes(), &Config::default());
        assert_balanced(&f);
        assert_eq!(f.kind, Some(FileKind::CalciumLab), "without {column}");
        let e = f.error.as_ref().expect("an error");
        assert_eq!(e.code(), "missing_column", "without {column}");
        assert!(e.to_string().contains(&format!("'{column}'")), "{e}");
    }
    for column in ["Timestamp", "Measurement value", "plant_id"] {
        let mut t = ph_table(vec![ph_row(
            "2025-04-01 00:00:00",
            "7.1",
            "WB0038",
            "aeration",
            "PLANT_A",
        )]);
        t.drop_col(column);
        let f = read_file(
            "WB0038_PH_2025.csv",
            t.to_text(',').as_bytes(),
            &Config::default(),
        );
        assert_balanced(&f);
        assert_eq!(f.kind, Some(FileKind::PhSensor), "without {column}");
        let e = f.error.as_ref().expect("an error");
        assert_eq!(e.code(), "missing_column", "without {column}");
        assert!(e.to_string().contains(&format!("'{column}'")), "{e}");
    }
}

/// A pH log repeats its header mid-file (logs concatenated by hand). The
/// repeat was recognised only when `Timestamp` was the first column; with
/// the columns in another order it was counted as an unreadable timestamp
/// and reported as a level 3 warning.
#[test]
fn repeated_ph_header_with_timestamp_not_first_is_a_header() {
    let rows = vec![
        ph_row(
            "2025-04-01 00:00:00",
            "7.1",
            "WB0038",
            "aeration",
            "PLANT_A",
        ),
        ph_row(
            "2025-04-01 00:01:00",
            "7.2",
            "WB0038",
            "aeration",
            "PLANT_A",
        ),
    ];
    let mut t = ph_table(rows);
    t.permute(&[1, 0, 2, 3, 4, 5, 6]);
    let header = csv_line(&t.header, ',');
    let mut text = t.to_text(',');
    text.push_str(&header);
    text.push_str(&csv_line(&t.rows[0], ','));
    let f = read_file("WB0038_PH_2025.csv", text.as_bytes(), &Config::default());
    assert_balanced(&f);
    assert_eq!(f.account.records, 3);
    assert_eq!(
        f.account
            .by_reason()
            .get(&crew_mrv_core::SkipReason::Header),
        Some(&2)
    );
    assert!(
        file_findings(&f, "unparseable_date").is_empty(),
        "{:?}",
        f.findings
    );
}

/// CSVs may carry a preamble above the header (the header is looked for in
/// the first 20 lines), but the delimiter was guessed from the first line
/// only: a semicolon export with a one-line preamble was read as commas
/// and rejected as an unknown CSV.
#[test]
fn delimiter_is_sniffed_past_a_preamble() {
    let t = lab_table(lab_pair("PLANT_A", d(2025, 4, 2), 40.5, 50.0));
    for (delim, preamble) in [
        (';', "Exported by LIMS, version 4"),
        ('\t', "Q2 2025 results"),
    ] {
        let text = format!("{preamble}\n\n{}", t.to_text(delim).replace("40.5", "40,5"));
        let f = read_file("lab.csv", text.as_bytes(), &Config::default());
        assert_balanced(&f);
        assert_eq!(
            f.kind,
            Some(FileKind::CalciumLab),
            "{delim:?}: {:?}",
            f.error
        );
        let v: Vec<f64> = f.records.lab.iter().map(|r| r.value).collect();
        assert_eq!(v, [40.5, 50.0], "{delim:?}");
        assert_eq!(
            f.account
                .by_reason()
                .get(&crew_mrv_core::SkipReason::Preamble),
            Some(&1)
        );
    }
}

/// Past ten findings of one kind a file's findings are summarised; the
/// summary said "Last example" but quoted (and pointed at) the first row
/// past the cap.
#[test]
fn capped_findings_summary_quotes_the_last_example() {
    let rows = (0..15)
        .map(|i| {
            let t = format!("2025-04-01 00:{i:02}:00");
            ph_row(&t, &format!("bad{i}"), "WB0038", "aeration", "PLANT_A")
        })
        .collect();
    let f = read_file(
        "WB0038_PH_2025.csv",
        ph_table(rows).to_text(',').as_bytes(),
        &Config::default(),
    );
    assert_balanced(&f);
    let un = file_findings(&f, "unparseable_number");
    assert_eq!(un.len(), 11);
    let summary = un
        .iter()
        .find(|x| x.message.starts_with("5 more rows"))
        .expect("summary");
    assert!(
        summary
            .message
            .ends_with("Last example: Sensor value 'bad14' is not a number; row skipped."),
        "{}",
        summary.message
    );
    assert_eq!(summary.at.row, Some(16));
}

/// A one-word title above the plant id (`DMR` in A1) became the plant of a
/// Plant B report, with only a mismatch warning.
#[test]
fn plant_b_title_word_is_not_taken_for_the_plant() {
    let mut b = PlantB::new(PlantB::days_from(d(2025, 4, 1), &[9.1, 9.2, 9.3]));
    b.title = Some("DMR".into());
    let f = read_file(&b.file_name(), &b.xlsx(), &Config::default());
    assert_balanced(&f);
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_B"));
    assert!(
        file_findings(&f, "plant_mismatch").is_empty(),
        "{:?}",
        f.findings
    );
}

/// An extra column that changes on every row (a row id) made one sensor
/// series per row: a year of minute data would have held half a million
/// series. Past 256 variants the extra columns stop splitting series.
#[test]
fn ph_extra_column_varying_per_row_does_not_explode_series() {
    let mut text =
        String::from("Timestamp,Measurement value,plant_id,unit_type_id,sensor_id,Row id\n");
    for i in 0..2000 {
        text.push_str(&format!(
            "2025-04-01 {:02}:{:02}:00,7.{},PLANT_A,aeration,WB0038,{i}\n",
            (i / 60) % 24,
            i % 60,
            i % 10
        ));
    }
    let f = read_file("WB0038_PH.csv", text.as_bytes(), &Config::default());
    assert_balanced(&f);
    assert_eq!(f.account.records, 2000);
    assert!(
        f.records.series.len() <= 257,
        "{} series",
        f.records.series.len()
    );
    assert!(f
        .findings
        .iter()
        .any(|x| x.message.contains("more than 256 different combinations")));
}

/// Issue 16: a text file renamed `.xlsx` was described as "this CSV is
/// neither…", so the user, who thinks it a workbook, could not tell what
/// went wrong. The message now says what the bytes are behind the name.
#[test]
fn text_renamed_as_workbook_is_not_called_a_csv() {
    for name in ["notes.xlsx", "NOTES.XLS"] {
        let f = read_file(name, b"plain text, not a workbook\n", &Config::default());
        let e = f.error.as_ref().expect("an error");
        let text = e.to_string();
        assert!(!text.contains("this CSV"), "{text}");
        let ext = name.rsplit_once('.').map(|(_, x)| x).unwrap_or_default();
        assert!(
            text.contains(&format!(
                "named .{ext} but holds plain text, not a workbook"
            )),
            "{text}"
        );
        assert_eq!(e.code(), "unrecognised_csv");
    }
    // A .csv keeps its words.
    let f = read_file("notes.csv", b"plain text\n", &Config::default());
    assert!(f
        .error
        .as_ref()
        .expect("an error")
        .to_string()
        .contains("this CSV is neither"));
}
