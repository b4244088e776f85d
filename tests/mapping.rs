//! The app's mapping view, computed in the core (`crew_mrv_core::mapping`):
//! a file no profile reads is proposed, the user's choices are read back
//! as a profile, and the TOML the app saves is one `profile::parse`
//! accepts and that reads the file exactly as the preview said. The file
//! is `crew_mrv_samples::unmapped`'s PLANT_D log, whose effluent column the
//! proposal cannot place.

use crew_mrv_core::mapping::{self, Mapping};
use crew_mrv_core::profile::{self, Field, Unit};
use crew_mrv_core::{import::profile_reader, Config, Source};
use crew_mrv_samples::unmapped;

fn proposed() -> mapping::MappingView {
    mapping::propose(
        unmapped::WORKBOOK,
        &unmapped::workbook(),
        &Config::default(),
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("no proposal: {e}"))
}

fn choose(m: &mut Mapping, field: Field, column: Option<u32>) {
    if let Some(f) = m.fields.iter_mut().find(|f| f.field == field) {
        f.column = column;
        f.unit = None;
    }
}

fn chosen() -> mapping::MappingView {
    let mut m = proposed().mapping;
    choose(&mut m, Field::EffluentFlow, Some(2));
    choose(&mut m, Field::InfluentFlow, Some(1));
    mapping::check(
        unmapped::WORKBOOK,
        &unmapped::workbook(),
        &Config::default(),
        &m,
    )
}

/// The proposal finds the header row, the plant and the rain column, but
/// no effluent: nothing can be saved until the user picks one, and the
/// view says why.
#[test]
fn a_proposal_without_an_effluent_column_cannot_be_saved() {
    let v = proposed();
    assert_eq!(v.mapping.header_row, unmapped::HEADER_ROW + 1);
    assert_eq!(v.mapping.plant_id, unmapped::PLANT);
    assert_eq!(v.headers.len(), unmapped::HEADER.len());
    let rain = v
        .mapping
        .fields
        .iter()
        .find(|f| f.field == Field::Precipitation);
    assert_eq!(
        rain.map(|f| (f.column, f.unit)),
        Some((Some(3), Some(Unit::Mm)))
    );
    let eff = v
        .mapping
        .fields
        .iter()
        .find(|f| f.field == Field::EffluentFlow);
    assert_eq!(eff.and_then(|f| f.column), None);
    assert!(v.mapping.summary_rows.contains(&"total".to_string()));
    assert_eq!(v.toml, None);
    assert!(
        v.problems.iter().any(|p| p.contains("effluent_flow")),
        "{:?}",
        v.problems
    );
}

/// Picking the outfall column for the effluent takes the unit its header
/// names (ML/d); the preview lists the days in ML/d and m³/day, accounts
/// every row, and the TOML reads the file to the same days.
#[test]
fn choosing_the_effluent_column_reads_the_days_in_its_own_unit() {
    let v = chosen();
    assert_eq!(v.problems, Vec::<String>::new());
    let eff = v
        .mapping
        .fields
        .iter()
        .find(|f| f.field == Field::EffluentFlow);
    assert_eq!(eff.and_then(|f| f.unit), Some(Unit::MlPerDay));
    assert_eq!(v.days_read, unmapped::DAYS as usize);
    let at = v
        .shown
        .iter()
        .position(|(f, _)| *f == Field::EffluentFlow)
        .unwrap_or(usize::MAX);
    let first = &v.days[0];
    assert_eq!(first.date, unmapped::first_day());
    assert_eq!(
        first.values.get(at).copied().flatten(),
        Some(unmapped::outfall(0))
    );
    assert_eq!(
        first.effluent_m3_per_day,
        Some(unmapped::outfall(0) * 1000.0)
    );
    assert!(v.account.contains("= 8 records"), "{}", v.account);
    let toml = v.toml.unwrap_or_default();
    let p = profile::parse("PLANT_D-profile.toml", &toml)
        .unwrap_or_else(|e| panic!("the saved profile does not parse: {e:?}\n{toml}"));
    let read = profile_reader::check(
        &p,
        unmapped::WORKBOOK,
        &unmapped::workbook(),
        &Config::default(),
    );
    assert_eq!(read.error, None);
    assert_eq!(read.records.ops.len(), unmapped::DAYS as usize);
    assert!(read.account.balances());
}

/// A run of the log and the lab file with the profile the view saved.
fn saved_run() -> crew_mrv_core::Run {
    let toml = chosen().toml.unwrap_or_default();
    crew_mrv_core::run(
        &[
            Source::new("PLANT_D-profile.toml", toml.as_bytes()),
            Source::new(unmapped::WORKBOOK, unmapped::workbook()),
            Source::new(unmapped::LAB, unmapped::lab()),
        ],
        &Config::default(),
    )
}

/// The saved profile dropped with the log and the lab file gives PLANT_D
/// its VALID days, as a profile written by hand would.
#[test]
fn the_saved_profile_runs_with_the_lab_file() {
    let run = saved_run();
    let valid = run
        .report
        .co2
        .iter()
        .filter(|d| &*d.plant_id == unmapped::PLANT && d.calc.is_some())
        .count();
    assert_eq!(valid, unmapped::DAYS as usize);
}

/// A header row the user moves to a row of data has no date column to
/// propose from: the view still answers, naming the problem.
#[test]
fn a_header_row_of_data_is_answered_not_refused() {
    let v = mapping::propose(
        unmapped::WORKBOOK,
        &unmapped::workbook(),
        &Config::default(),
        None,
        Some(unmapped::HEADER_ROW + 3),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.toml, None);
    assert!(!v.problems.is_empty());
}

/// PROFILES.md: flows keep the unit they were read in. The calculation
/// sheet of a day of a plant in ML/d says so beside the MGD it stores.
#[test]
fn the_calculation_sheet_shows_the_flow_in_the_plants_unit() {
    let run = saved_run();
    let sheet = crew_mrv_core::explain::explain(&run, unmapped::PLANT, unmapped::first_day())
        .map(|s| s.to_string())
        .unwrap_or_default();
    assert!(sheet.contains("(= 40 ML/d as read)"), "{sheet}");
    assert!(
        sheet.contains("= 40 ML/day as read × 1000 m³/ML = 40000 m³/day"),
        "{sheet}"
    );
}

/// A file whose headers the proposal does not recognise still opens the
/// view (at its first row of two filled cells), so the user can choose
/// the columns instead of being sent to write the profile by hand.
#[test]
fn unrecognised_headers_open_the_view_at_the_first_row() {
    let v = mapping::propose(
        "notes.csv",
        b"\nname,comment\nbob,hello\n",
        &Config::default(),
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.mapping.header_row, 2);
    assert_eq!(v.headers, ["name", "comment"]);
    assert_eq!(v.toml, None);
    assert!(!v.problems.is_empty());
}

/// A header split over two rows (names, then units) is proposed as one
/// block: `header_rows = 2`, the joined texts as the column headers, the
/// units they name, and data from the row after the block.
#[test]
fn a_two_row_header_is_proposed_as_one_block() {
    let csv = "Date,Effluent,Rain\n,flow (m3/d),(mm)\n2025-05-01,\"1,200\",3\n2025-05-02,1300,0\n";
    let v = mapping::propose(
        "PLANT_E-log.csv",
        csv.as_bytes(),
        &Config::default(),
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("no proposal: {e}"));
    assert_eq!((v.mapping.header_row, v.mapping.header_rows), (1, 2));
    assert_eq!(v.headers[1], "effluent flow (m3/d)");
    let eff = v
        .mapping
        .fields
        .iter()
        .find(|f| f.field == Field::EffluentFlow);
    assert_eq!(
        eff.map(|f| (f.column, f.unit)),
        Some((Some(1), Some(Unit::M3PerDay)))
    );
    let toml = v.toml.clone().unwrap_or_else(|| panic!("{:?}", v.problems));
    assert!(toml.contains("header_rows = 2\n"), "{toml}");
    assert_eq!(v.days_read, 2);
    assert_eq!(v.days[0].effluent_m3_per_day, Some(1200.0));
    // The user can also set the block's height: one row reads the units
    // row as data, which has no date, and finds no effluent flow header.
    let mut m = v.mapping.clone();
    m.header_rows = 1;
    let one = mapping::check("PLANT_E-log.csv", csv.as_bytes(), &Config::default(), &m);
    assert_eq!(one.headers[1], "effluent");
    assert_eq!(one.mapping.header_rows, 1);
}

/// The CLI's proposal finds the same header blocks: a block whose top
/// row says date and flow by itself, and a block that says them only
/// together, below a title that stays out of it. The proposed profile
/// reads every day.
#[test]
fn suggest_proposes_header_blocks_too() {
    let units_below =
        "Date,Effluent flow,Rain\n,(m3/d),(mm)\n2025-05-01,1200,3\n2025-05-02,1300,0\n";
    let split_under_title = "PLANT_E daily log,,\nDate,Effluent,Rain\n,flow (m3/d),(mm)\n2025-05-01,1200,3\nTotal,2500,3\n2025-05-02,1300,0\n";
    for (csv, header_row) in [(units_below, 0), (split_under_title, 1)] {
        let s = profile_reader::suggest("PLANT_E-log.csv", csv.as_bytes(), &Config::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let l = &s.profile.operations[0];
        assert_eq!(l.header_rows, 2, "{csv}");
        assert_eq!(s.headers[1], "effluent flow (m3/d)", "{csv}");
        let text = profile::to_toml(&s.profile);
        assert!(
            text.contains("effluent_flow = { header = \"effluent flow (m3/d)\", unit = \"m3/d\" }"),
            "{text}"
        );
        assert!(text.contains("header_rows = 2\n"), "{text}");
        assert_eq!(s.preview.records.ops.len(), 2, "{text}");
        assert_eq!(s.preview.records.ops[0].row, header_row + 3, "{text}");
        // The app's view proposes the same block.
        let v = mapping::propose(
            "PLANT_E-log.csv",
            csv.as_bytes(),
            &Config::default(),
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (v.mapping.header_row, v.mapping.header_rows),
            (header_row + 1, 2)
        );
        assert_eq!(v.days_read, 2);
    }
}
