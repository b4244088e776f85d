//! One test per bug found in src/, named for the bug.

use crew_mrv::{read_file, Config, FileKind};

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
