//! Plant profiles (PROFILES.md), rule by rule: the format and its errors,
//! which layout reads a file, the header, the rows, numbers, dates and
//! units, and the lab mapping. Workbooks and CSVs come from the
//! `builders::Grid` writer.

use crate::fixtures::*;
use crew_mrv_core::import::profile_reader::{self, flow};
use crew_mrv_core::model::Location;
use crew_mrv_core::profile::{self, Unit};
use crew_mrv_core::{import::FileKind, Config, SkipReason};

const HEAD: &str = "profile = \"crew-mrv/plant-profile/1\"\nplant_id = \"PLANT_C\"\n";

/// A profile with one layout: `layout` is the `[[operations]]` body
/// before its columns, `columns` the `[operations.columns]` body.
fn profile(layout: &str, columns: &str) -> String {
    format!(
        "{HEAD}\n[[operations]]\nname = \"daily log\"\n{layout}\n[operations.columns]\n{columns}"
    )
}

const BASIC_LAYOUT: &str = "header_contains = [\"date\", \"effluent\"]\ndate = { header = \"date\" }\nskip_rows_starting_with = [\"total\", \"average\"]";
const BASIC_COLUMNS: &str = "effluent_flow = { header = \"final effluent flow\", unit = \"m3/d\" }\ninfluent_flow = { header = \"influent flow\", unit = \"m3/d\" }\nprecipitation = { header = \"rainfall\", unit = \"mm\" }";

fn basic_profile() -> String {
    profile(BASIC_LAYOUT, BASIC_COLUMNS)
}

/// Three days under a one-row header, then a blank row and a total.
fn basic_grid(sheet: &str) -> Grid {
    Grid::new(sheet)
        .row(0, &["Riverside WRF daily log"])
        .row(
            2,
            &[
                "Date",
                "Influent flow (m3/d)",
                "Final effluent flow (m3/d)",
                "Rainfall (mm)",
            ],
        )
        .row(3, &["2025-04-01", "38000", "37854.1", "25.4"])
        .row(4, &["2025-04-02", "39000", "37000", "0"])
        .row(5, &["2025-04-03", "40000", "36000", ""])
        .row(7, &["Total", "117000", "110854.1", "25.4"])
}

fn run_profile(profile: &str, name: &str, bytes: Vec<u8>) -> crew_mrv_core::Run {
    run_default(&[src("plant_c.toml", profile), src(name, bytes)])
}

#[test]
fn a_profile_reads_a_workbook_and_a_csv_of_its_layout_alike() {
    let g = basic_grid("Daily Log");
    for (name, bytes) in [
        ("Riverside 2025-04.xlsx", g.xlsx()),
        ("Riverside 2025-04.csv", g.csv().into_bytes()),
    ] {
        let r = run_profile(&basic_profile(), name, bytes);
        let f = file(&r, name);
        assert!(f.error.is_none(), "{name}: {:?}", f.error);
        assert_eq!(f.kind, Some(FileKind::PlantOps));
        assert_eq!(f.plant_id.as_deref(), Some("PLANT_C"));
        assert_eq!(
            f.profile.as_deref(),
            Some("PLANT_C / daily log (plant_c.toml)")
        );
        assert_eq!(f.records.ops.len(), 3, "{name}");
        assert_eq!(f.period, Some((d(2025, 4, 1), d(2025, 4, 3))));
        let reasons = reasons(f);
        assert_eq!(
            reasons.get(&SkipReason::Preamble),
            Some(&2),
            "{name}: {reasons:?}"
        );
        assert_eq!(reasons.get(&SkipReason::Header), Some(&1));
        assert_eq!(reasons.get(&SkipReason::Blank), Some(&1));
        assert_eq!(reasons.get(&SkipReason::Summary), Some(&1));
        let first = &f.records.ops[0];
        assert_eq!(first.row, 4);
        assert_eq!(first.actual_eff_flow_mgd, Some(37854.1 / 3785.41));
        assert_eq!(first.precip_in, Some(1.0));
        assert_eq!(f.records.ops[2].precip_in, None);
        let profile_file = file(&r, "plant_c.toml");
        assert_eq!(profile_file.kind, Some(FileKind::PlantProfile));
        assert!(!profile_file.sha256.is_empty());
    }
}

#[test]
fn files_csv_names_the_profile_that_read_each_file() {
    let r = run_profile(
        &basic_profile(),
        "log.csv",
        basic_grid("x").csv().into_bytes(),
    );
    let files = output(&r, "files.csv");
    let header = files.lines().next().unwrap_or("");
    assert!(header.ends_with(",message,profile"), "{header}");
    assert!(files.contains("plant_profile"));
    assert!(
        files
            .lines()
            .any(|l| l.starts_with("\"log.csv\",plant_ops,\"PLANT_C\",")
                && l.ends_with(",\"PLANT_C / daily log (plant_c.toml)\"")),
        "{files}"
    );
}

#[test]
fn the_header_is_searched_in_the_first_50_rows_only() {
    let mut g = Grid::new("s");
    g = g
        .row(49, &["Date", "Final effluent flow"])
        .row(50, &["4/1/2025", "100"]);
    let r = run_profile(
        &profile(
            BASIC_LAYOUT,
            "effluent_flow = { header = \"effluent\", unit = \"m3/d\" }",
        ),
        "c.xlsx",
        g.xlsx(),
    );
    assert_eq!(file(&r, "c.xlsx").records.ops.len(), 1);

    let g = Grid::new("s")
        .row(50, &["Date", "Final effluent flow"])
        .row(51, &["4/1/2025", "100"]);
    let r = run_profile(
        &profile(
            BASIC_LAYOUT,
            "effluent_flow = { header = \"effluent\", unit = \"m3/d\" }",
        ),
        "c.xlsx",
        g.xlsx(),
    );
    let f = file(&r, "c.xlsx");
    assert!(f.error.is_some());
    assert_eq!(f.records.ops.len(), 0);
}

#[test]
fn a_multi_row_header_joins_its_cells_per_column_and_data_starts_below_it() {
    let g = Grid::new("s")
        .row(0, &["Date", "Effluent", "Effluent"])
        .row(1, &["", "Flow", "Peak\nflow"])
        .row(2, &["", "MGD", "MGD"])
        .row(3, &["4/1/2025", "10", "12"]);
    let p = profile(
        "header_contains = [\"date\", \"effluent\"]\nheader_rows = 3\ndate = { header = \"date\" }",
        "effluent_flow = { header = \"effluent flow mgd\", unit = \"MGD\" }\nmax_effluent_flow = { header = \"effluent peak flow\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    assert_eq!(f.records.ops.len(), 1, "{:?}", f.error);
    assert_eq!(f.records.ops[0].actual_eff_flow_mgd, Some(10.0));
    assert_eq!(f.records.ops[0].max_eff_flow_mgd, Some(12.0));
    assert_eq!(reasons(f).get(&SkipReason::Header), Some(&3));
}

#[test]
fn a_header_substring_takes_the_leftmost_column_and_a_column_letter_its_own() {
    let g = Grid::new("s")
        .row(0, &["Date", "Effluent flow A", "Effluent flow B"])
        .row(1, &["4/1/2025", "1", "2"]);
    let by_header = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent flow\", unit = \"MGD\" }",
    );
    let r = run_profile(&by_header, "c.xlsx", g.xlsx());
    assert_eq!(
        file(&r, "c.xlsx").records.ops[0].actual_eff_flow_mgd,
        Some(1.0)
    );
    let by_letter = profile(
        BASIC_LAYOUT,
        "effluent_flow = { column = \"C\", unit = \"MGD\" }",
    );
    let r = run_profile(&by_letter, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    assert_eq!(f.records.ops[0].actual_eff_flow_mgd, Some(2.0));
    assert_eq!(f.records.ops[0].eff_flow_col, Some(2));
}

#[test]
fn a_required_field_matching_no_column_lists_the_headers_found() {
    let g = Grid::new("s")
        .row(0, &["Date", "Effluent (total)", "Rain"])
        .row(1, &["4/1/2025", "1", "2"]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"final effluent flow\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    let msg = f.error.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("effluent_flow"), "{msg}");
    assert!(msg.contains("B: 'effluent (total)'"), "{msg}");
    assert!(msg.contains("C: 'rain'"), "{msg}");
}

#[test]
fn an_optional_field_matching_no_column_is_blank_with_one_warning_per_file() {
    let g = basic_grid("s");
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"final effluent flow\", unit = \"m3/d\" }\nbypass_hours = { header = \"bypass hours\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    assert_eq!(f.records.ops.len(), 3);
    assert!(f
        .records
        .ops
        .iter()
        .all(|o| o.bypass_hours_per_day.is_none()));
    let w = file_findings(f, "missing_column");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].level, 2);
    assert!(w[0].message.contains("bypass_hours"));
}

#[test]
fn rows_are_blank_summary_day_or_no_date_in_that_order() {
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow"])
        .row(1, &["4/1/2025", "10"])
        .row(3, &["Average of days", "10"])
        .row(4, &["", "11"])
        .row(5, &["not a day", "12"])
        .row(6, &["4/2/2025", "13"]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    let reasons = reasons(f);
    assert_eq!(reasons.get(&SkipReason::Blank), Some(&1));
    assert_eq!(reasons.get(&SkipReason::Summary), Some(&1));
    assert_eq!(reasons.get(&SkipReason::NoDate), Some(&2));
    assert_eq!(f.records.ops.len(), 2);
    // Only the non-blank date cell is worth a finding.
    let bad = file_findings(f, "unparseable_date");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].level, 3);
    assert_eq!(bad[0].at.row, Some(6));
    assert_eq!(f.period, Some((d(2025, 4, 1), d(2025, 4, 2))));
}

#[test]
fn numbers_as_text_with_thousands_separators_are_numbers_and_other_text_is_missing() {
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow", "Influent flow"])
        .row(1, &["4/1/2025", "1,234.5", "OFFLINE"])
        .set(2, 0, GridCell::Text("4/2/2025".into()))
        .set(2, 1, GridCell::Number(7.5));
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }\ninfluent_flow = { header = \"influent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    assert_eq!(f.records.ops.len(), 2);
    assert_eq!(f.records.ops[0].actual_eff_flow_mgd, Some(1234.5));
    assert_eq!(f.records.ops[0].actual_inf_flow_mgd, None);
    assert_eq!(f.records.ops[1].actual_eff_flow_mgd, Some(7.5));
    // PROFILES.md's name for it; the lab and plant A/B readers' check is
    // another.
    assert!(file_findings(f, "unparseable_number").is_empty());
    let bad = file_findings(f, "unparseable_value");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].level, 3);
    assert_eq!((bad[0].at.row, bad[0].at.col), (Some(2), Some(2)));
}

#[test]
fn units_convert_as_the_table_says() {
    assert_eq!(flow(10.0, Unit::Mgd), (10.0, 10.0 * 3785.41));
    assert_eq!(flow(37854.1, Unit::M3PerDay), (37854.1 / 3785.41, 37854.1));
    assert_eq!(
        flow(37.8541, Unit::MlPerDay),
        (37.8541 * 1000.0 / 3785.41, 37.8541 * 1000.0)
    );
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow", "Rain"])
        .row(1, &["4/1/2025", "37.8541", "50.8"]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"ML/d\" }\nprecipitation = { header = \"rain\", unit = \"mm\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let o = &file(&r, "c.xlsx").records.ops[0];
    assert_eq!(o.actual_eff_flow_mgd, Some(37.8541 * 1000.0 / 3785.41));
    assert_eq!(o.precip_in, Some(50.8 / 25.4));
}

#[test]
fn dates_are_date_cells_serials_iso_text_the_format_or_month_first() {
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow"])
        .set(1, 0, GridCell::Date(d(2025, 4, 1)))
        .set(2, 0, GridCell::Number(45_749.0))
        .row(3, &["2025-04-03", ""])
        .row(4, &["4/4/2025", ""])
        .row(1, &["", "1"])
        .row(2, &["", "2"])
        .row(3, &["", "3"])
        .row(4, &["", "4"]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let days: Vec<_> = file(&r, "c.xlsx")
        .records
        .ops
        .iter()
        .map(|o| o.date)
        .collect();
    assert_eq!(
        days,
        vec![d(2025, 4, 1), d(2025, 4, 2), d(2025, 4, 3), d(2025, 4, 4)]
    );

    // Day first by the profile's format; ISO still reads.
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow"])
        .row(1, &["13/04/2025", "1"])
        .row(2, &["2025-04-14", "2"])
        .row(3, &["4/15/2025", "3"]);
    let p = profile(
        &format!("{BASIC_LAYOUT}\ndate_format = \"%d/%m/%Y\""),
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.csv", g.csv().into_bytes());
    let f = file(&r, "c.csv");
    let days: Vec<_> = f.records.ops.iter().map(|o| o.date).collect();
    assert_eq!(days, vec![d(2025, 4, 13), d(2025, 4, 14)]);
    assert_eq!(file_findings(f, "unparseable_date").len(), 1);

    // CSV text is never an Excel serial.
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow"])
        .row(1, &["45749", "1"]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.csv", g.csv().into_bytes());
    let f = file(&r, "c.csv");
    assert_eq!(f.records.ops.len(), 0);
    assert_eq!(reasons(f).get(&SkipReason::NoDate), Some(&1));
}

#[test]
fn generated_at_is_read_from_its_cell_and_days_after_it_or_before_2000_are_implausible() {
    let g = Grid::new("s")
        .row(0, &["Generated: 4/2/2025 8:01:12 AM"])
        .row(1, &["Date", "Final effluent flow"])
        .row(2, &["1999-12-31", "1"])
        .row(3, &["4/1/2025", "2"])
        .row(4, &["4/2/2025", "3"])
        .row(5, &["4/3/2025", "4"]);
    let p = profile(
        &format!("{BASIC_LAYOUT}\ngenerated_at = {{ cell = \"A1\" }}"),
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    let f = file(&r, "c.xlsx");
    assert_eq!(
        f.generated_at,
        Some(d(2025, 4, 2).and_hms_opt(8, 1, 12).unwrap_or_default())
    );
    assert_eq!(f.records.ops.len(), 2);
    assert_eq!(reasons(f).get(&SkipReason::ImplausibleDate), Some(&2));
    let found = file_findings(f, "implausible_date");
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|x| x.level == 3));
}

#[test]
fn two_profiles_matching_a_file_leave_it_unread_unless_a_file_name_glob_decides() {
    let g = basic_grid("s");
    let other = basic_profile().replace("PLANT_C", "PLANT_D");
    let r = run_default(&[
        src("c.toml", basic_profile()),
        src("d.toml", other.clone()),
        src("log.xlsx", g.xlsx()),
    ]);
    let f = file(&r, "log.xlsx");
    let msg = f.error.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("PLANT_C / daily log (c.toml)"), "{msg}");
    assert!(msg.contains("PLANT_D / daily log (d.toml)"), "{msg}");
    assert!(f.records.ops.is_empty());

    let globbed = other.replace(
        "name = \"daily log\"",
        "name = \"daily log\"\nfile_name = \"LOG*\"",
    );
    let r = run_default(&[
        src("c.toml", basic_profile()),
        src("d.toml", globbed),
        src("log.xlsx", g.xlsx()),
    ]);
    let f = file(&r, "log.xlsx");
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_D"));
    assert_eq!(f.records.ops.len(), 3);
}

#[test]
fn a_sheet_glob_picks_the_sheet_and_a_file_name_glob_the_files() {
    let g = basic_grid("Daily Log");
    let p = profile(
        &format!("{BASIC_LAYOUT}\nsheet = \"weekly*\""),
        BASIC_COLUMNS,
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    assert!(file(&r, "c.xlsx").error.is_some());
    let p = profile(
        &format!("{BASIC_LAYOUT}\nfile_name = \"Riverside*\""),
        BASIC_COLUMNS,
    );
    let r = run_profile(&p, "c.xlsx", g.xlsx());
    assert!(file(&r, "c.xlsx").error.is_some());
    let r = run_profile(&p, "riverside-april.xlsx", g.xlsx());
    assert_eq!(file(&r, "riverside-april.xlsx").records.ops.len(), 3);
}

fn errors_of(text: &str) -> Vec<String> {
    match profile::parse("bad.toml", text) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn bad_profiles_name_the_file_the_line_and_what_was_expected() {
    let typo = basic_profile()
        .replace("header_rows", "x")
        .replace("skip_rows_starting_with", "skip_row_starting_with");
    let e = errors_of(&typo);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(
            "bad.toml, line 8: unknown key 'skip_row_starting_with' in [[operations]]"
        ),
        "{e:?}"
    );

    let e = errors_of(&basic_profile().replace("unit = \"mm\"", "unit = \"cm\""));
    assert!(
        e.iter()
            .any(|m| m
                .contains("line 12: precipitation: expected unit \"in\" or \"mm\", found \"cm\"")),
        "{e:?}"
    );

    let e = errors_of(&basic_profile().replace("rainfall\", unit", "rainfall\", units"));
    assert!(
        e.iter()
            .any(|m| m.contains("line 12: unknown key 'units' in precipitation")),
        "{e:?}"
    );

    let e = errors_of("plant_id = \"PLANT_C\"\nprofile = \"crew-mrv/plant-profile/1\"\n");
    assert!(
        e.iter()
            .any(|m| m.contains("line 1: expected the first key to be profile")),
        "{e:?}"
    );

    let e = errors_of(&basic_profile().replace("PLANT_C", "plant c"));
    assert!(
        e.iter()
            .any(|m| m.contains("line 2: plant_id: expected upper-case")),
        "{e:?}"
    );

    let e = errors_of(&format!("{HEAD}[lab]\nupstream = [\"a\"]\n"));
    assert!(
        e.iter()
            .any(|m| m.contains("expected both upstream and downstream")),
        "{e:?}"
    );

    let e = errors_of(&format!("{HEAD}plant_name = [\n"));
    assert!(
        e.iter()
            .any(|m| m.starts_with("bad.toml, line 3: not valid TOML")),
        "{e:?}"
    );

    let e = errors_of(&profile(
        "header_contains = [\"date\"]\ndate = { header = \"date\", column = \"A\" }",
        BASIC_COLUMNS,
    ));
    assert!(
        e.iter()
            .any(|m| m.contains("line 7: date: expected exactly one of header")),
        "{e:?}"
    );

    let e = errors_of(&profile(
        BASIC_LAYOUT,
        "influent_flow = { header = \"x\", unit = \"MGD\" }",
    ));
    assert!(
        e.iter().any(|m| m.contains("missing effluent_flow")),
        "{e:?}"
    );

    let e = errors_of(&profile(
        &format!("{BASIC_LAYOUT}\ndate_format = \"%d/%m\""),
        BASIC_COLUMNS,
    ));
    assert!(
        e.iter()
            .any(|m| m.contains("line 9: date_format: expected a date pattern")),
        "{e:?}"
    );
}

#[test]
fn a_profile_with_errors_is_not_used_and_each_error_is_a_level_1_finding() {
    let bad = basic_profile()
        .replace("skip_rows_starting_with", "skip_rows_startin_with")
        .replace("unit = \"mm\"", "unit = \"inches\"");
    let r = run_profile(&bad, "c.xlsx", basic_grid("s").xlsx());
    let p = file(&r, "plant_c.toml");
    assert_eq!(p.kind, Some(FileKind::PlantProfile));
    assert!(p.error.is_some());
    let errs: Vec<_> = p
        .findings
        .iter()
        .filter(|f| f.level == 1 && f.message.starts_with("plant_c.toml, line "))
        .collect();
    assert_eq!(errs.len(), 2, "{:?}", p.findings);
    assert_eq!(errs[0].at.row, Some(8));
    assert_eq!(errs[1].at.row, Some(12));
    assert!(file(&r, "c.xlsx").error.is_some());
}

#[test]
fn a_dropped_profile_replaces_the_built_in_layout_of_the_same_plant_and_name() {
    let text = profile::builtin_text("PLANT_A").unwrap_or_default();
    let r = run_default(&[src("my_plant_a.toml", text)]);
    let p = file(&r, "my_plant_a.toml");
    assert!(p.error.is_none(), "{:?}", p.error);
    assert!(p
        .findings
        .iter()
        .any(|f| f.level == 1 && f.message.contains("replaces the built-in one of PLANT_A")));
    let a = PlantA::month(d(2025, 4, 1), &[30.0, 31.0]);
    let r = run_default(&[
        src("my_plant_a.toml", text),
        src("PLANT_A-OPS DATA-APR25.xlsx", a.xlsx()),
    ]);
    let f = file(&r, "PLANT_A-OPS DATA-APR25.xlsx");
    assert_eq!(
        f.profile.as_deref(),
        Some("PLANT_A / operator data (my_plant_a.toml)")
    );
    assert_eq!(f.records.ops.len(), 2);
}

#[test]
fn the_built_in_profiles_read_plant_a_and_b_and_print_as_toml() {
    let builtins = profile::builtins();
    assert_eq!(
        builtins
            .iter()
            .map(|p| p.plant_id.as_str())
            .collect::<Vec<_>>(),
        vec!["PLANT_A", "PLANT_B"]
    );
    let b = PlantB::new(PlantB::days_from(d(2025, 4, 1), &[9.0, 9.1]));
    let r = run_default(&[src(&b.file_name(), b.xlsx())]);
    let f = file(&r, &b.file_name());
    assert_eq!(f.kind, Some(FileKind::PlantBReport));
    assert_eq!(
        f.profile.as_deref(),
        Some("PLANT_B / monthly operating report (built-in)")
    );
}

#[test]
fn the_lab_table_maps_a_plants_sampling_points_and_others_keep_the_settings() {
    let p = format!(
        "{HEAD}\n[lab]\nupstream = [\"influent_channel\"]\ndownstream = [\"final_effluent\"]\n"
    );
    let parsed = profile::parse("c.toml", &p);
    let Ok(parsed) = parsed else {
        panic!("{parsed:?}")
    };
    let config = Config {
        profiles: vec![parsed],
        ..Config::default()
    };
    assert_eq!(
        config.location_at("PLANT_C", "influent_channel"),
        Location::Upstream
    );
    assert_eq!(
        config.location_at("PLANT_C", "final_effluent"),
        Location::Downstream
    );
    assert_eq!(
        config.location_at("PLANT_C", "primary_clarifier"),
        Location::Other
    );
    assert_eq!(
        config.location_at("PLANT_A", "primary_clarifier"),
        Location::Upstream
    );

    let mut rows = lab_pair("PLANT_C", d(2025, 4, 1), 40.0, 45.0);
    for r in &mut rows {
        for cell in r.iter_mut() {
            if cell == "primary_clarifier" {
                *cell = "influent_channel".into();
            } else if cell == "secondary_clarifier" {
                *cell = "final_effluent".into();
            }
        }
    }
    let lab = lab_table(rows).to_text(',');
    let run = run_default(&[src("c.toml", p), src("lab.csv", lab)]);
    let readings = &file(&run, "lab.csv").records.lab;
    assert!(!readings.is_empty());
    assert!(
        readings.iter().all(|l| l.location != Location::Other),
        "{readings:?}"
    );
}

#[test]
fn the_proposal_reads_back_what_it_proposes() {
    let g = basic_grid("Daily Log");
    let s = profile_reader::suggest("PLANT_C-daily.xlsx", &g.xlsx(), &Config::default());
    let Ok(s) = s else { panic!("{:?}", s.err()) };
    let toml = profile::to_toml(&s.profile);
    assert!(toml.contains("plant_id = \"PLANT_C\""), "{toml}");
    assert!(toml.contains("file_name = \"PLANT_C*\""), "{toml}");
    assert!(
        toml.contains(
            "effluent_flow = { header = \"final effluent flow (m3/d)\", unit = \"m3/d\" }"
        ),
        "{toml}"
    );
    assert!(
        toml.contains("influent_flow = { header = \"influent flow (m3/d)\", unit = \"m3/d\" }"),
        "{toml}"
    );
    assert!(
        toml.contains("precipitation = { header = \"rainfall (mm)\", unit = \"mm\" }"),
        "{toml}"
    );
    assert!(
        toml.contains("skip_rows_starting_with = [\"total\"]"),
        "{toml}"
    );
    assert_eq!(s.preview.records.ops.len(), 3);
    assert_eq!(
        profile::parse("p.toml", &toml).map(|mut p| {
            p.source = s.profile.source.clone();
            p
        }),
        Ok(s.profile.clone())
    );
}

#[test]
fn a_metric_plant_s_co2_chain_starts_from_its_cubic_metres_and_outputs_name_the_unit() {
    let lab = lab_table(lab_pair("PLANT_C", d(2025, 4, 1), 40.0, 45.0)).to_text(',');
    let r = run_default(&[
        src("plant_c.toml", basic_profile()),
        src("log.csv", basic_grid("x").csv()),
        src("lab.csv", lab),
    ]);
    let day = co2_day(&r.report, "PLANT_C", d(2025, 4, 1));
    let calc = day.calc.as_ref().map(|c| c.flow_m3_per_day);
    assert_eq!(calc, Some(37854.1));
    assert_eq!(day.flow_mgd, Some(37854.1 / 3785.41));
    let co2 = output(&r, "co2_removal.csv");
    let row = co2
        .lines()
        .find(|l| l.starts_with("\"PLANT_C\",2025-04-01,"))
        .unwrap_or_default();
    assert!(row.contains(",37854.1,"), "{row}");
    assert!(row.contains(",m3/d,"), "{row}");
    let ops = output(&r, "plant_operations.csv");
    let row = ops
        .lines()
        .find(|l| l.starts_with("\"PLANT_C\",2025-04-02,"))
        .unwrap_or_default();
    assert!(row.ends_with(",37000,m3/d"), "{row}");
}

#[test]
fn the_proposal_on_the_plant_c_files_equals_its_hand_written_profile() {
    use crew_mrv_samples::{generate, plant_c, SampleOptions};
    let hand = profile::parse("PLANT_C-profile.toml", plant_c::PROFILE);
    let Ok(hand) = hand else { panic!("{hand:?}") };
    let files = generate(&SampleOptions::committed()).unwrap_or_default();
    let ops: Vec<_> = files
        .iter()
        .filter(|f| f.name.starts_with("PLANT_C-daily_log"))
        .collect();
    assert_eq!(ops.len(), 2, "an .xlsx and a .csv");
    for f in ops {
        let s = profile_reader::suggest(&f.name, &f.bytes, &Config::default());
        let Ok(s) = s else {
            panic!("{}: {:?}", f.name, s.err())
        };
        // The lab's sampling points and the plant's name are not in the
        // operations file: the engineer adds them.
        assert_eq!(s.profile.plant_id, hand.plant_id, "{}", f.name);
        assert_eq!(s.profile.operations, hand.operations, "{}", f.name);
        assert!(s.preview.error.is_none(), "{}", f.name);
        assert!(s.preview.records.ops.len() >= 30, "{}", f.name);
    }
}

#[test]
fn a_date_followed_by_more_than_a_time_is_no_date() {
    let g = Grid::new("s")
        .row(0, &["Date", "Final effluent flow"])
        .row(1, &["4/1/2025 8:00 AM", "1"])
        .row(2, &["2025-04-02T00:00:00", "2"])
        .row(3, &["06/08/2025 *311 CBOD outside limits", ""]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"MGD\" }",
    );
    let r = run_profile(&p, "c.csv", g.csv().into_bytes());
    let f = file(&r, "c.csv");
    assert_eq!(f.records.ops.len(), 2);
    assert_eq!(reasons(f).get(&SkipReason::NoDate), Some(&1));
}

/// The built-in profiles are plain profiles: their text dropped as files
/// (read then as any dropped profile, lines starting `reader` left out as
/// when extension 1 existed) gives Plant A and B the same days, flows and
/// CO2, and the same kind, row account and findings for every file, as
/// the built-ins (README "Plant profiles", format version 2).
#[test]
fn the_generic_reader_alone_gives_plant_a_and_b_the_same_numbers() {
    use crew_mrv_samples::{generate, SampleOptions};
    let files = generate(&SampleOptions::committed()).unwrap_or_default();
    let data: Vec<_> = files
        .iter()
        .filter(|f| !f.name.starts_with("PLANT_C") && !f.name.contains("PLANT_C"))
        .map(|f| src(&f.name, f.bytes.clone()))
        .collect();
    let hand = run_default(&data);
    let mut generic = data.clone();
    for id in ["PLANT_A", "PLANT_B"] {
        let text: String = profile::builtin_text(id)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("reader"))
            .map(|l| format!("{l}\n"))
            .collect();
        generic.push(src(&format!("{id}-generic.toml"), text));
    }
    let generic = run_default(&generic);
    for f in generic.store.files() {
        if f.name.starts_with("PLANT_") && !f.name.ends_with(".toml") {
            assert!(
                f.profile
                    .as_deref()
                    .is_some_and(|p| p.contains("-generic.toml")),
                "{}: {:?}",
                f.name,
                f.profile
            );
        }
    }
    let ops = |r: &crew_mrv_core::Run| {
        r.report
            .plant_operations
            .iter()
            .map(|o| {
                (
                    o.plant_id.to_string(),
                    o.date,
                    o.actual_eff_flow_mgd,
                    o.actual_inf_flow_mgd,
                    (o.max_eff_flow_mgd, o.min_eff_flow_mgd),
                    o.bypass_flow_mgd,
                    o.bypass_hours_per_day,
                    o.precip_in,
                    o.source_row,
                    o.provisional,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ops(&hand), ops(&generic));
    let co2 = |r: &crew_mrv_core::Run| {
        r.report
            .co2
            .iter()
            .map(|d| {
                (
                    d.plant_id.to_string(),
                    d.date,
                    d.quality_flag,
                    d.calc.map(|c| c.co2_removed_metric_tons_per_day.to_bits()),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(co2(&hand), co2(&generic));
    for f in hand.store.files() {
        if !f.name.starts_with("PLANT_") || f.name.ends_with(".toml") {
            continue;
        }
        let (h, g) = (file(&hand, &f.name), file(&generic, &f.name));
        assert_eq!((h.kind, reasons(h)), (g.kind, reasons(g)), "{}", f.name);
        assert_eq!(h.findings, g.findings, "{}", f.name);
    }
}

#[test]
fn a_deeply_nested_profile_is_an_error_with_its_line_not_a_crash() {
    let deep = format!(
        "{HEAD}plant_name = {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = errors_of(&deep);
    assert!(
        e.iter()
            .any(|m| m.starts_with("bad.toml, line 3: not valid TOML")),
        "{e:?}"
    );
    let r = run_default(&[src("deep.toml", deep)]);
    assert!(file(&r, "deep.toml").error.is_some());
}

#[test]
fn a_revised_metric_flow_is_compared_and_reported_in_its_own_unit() {
    let older = Grid::new("s")
        .row(0, &["Date", "Final effluent flow", "Influent flow"])
        .row(1, &["4/1/2025", "30000", "30500"]);
    let newer = Grid::new("s")
        .row(0, &["Date", "Final effluent flow", "Influent flow"])
        .row(1, &["4/1/2025", "30100", "30600"])
        .row(2, &["4/2/2025", "30200", "30700"]);
    let p = profile(
        BASIC_LAYOUT,
        "effluent_flow = { header = \"effluent\", unit = \"m3/d\" }\ninfluent_flow = { header = \"influent\", unit = \"m3/d\" }",
    );
    let r = run_default(&[
        src("c.toml", p),
        src("log-1.csv", older.csv()),
        src("log-2.csv", newer.csv()),
    ]);
    let revised = findings(&r.report, "revised_flow");
    assert_eq!(revised.len(), 1);
    assert!(
        revised[0]
            .message
            .contains("30000 m³/day in log-1.csv row 2; 30100 m³/day in log-2.csv row 2")
            || revised[0]
                .message
                .contains("30100 m³/day in log-2.csv row 2; 30000 m³/day in log-1.csv row 2"),
        "{}",
        revised[0].message
    );
}

/// Found by the `profile` fuzz target: blank lines after a CSV's last
/// filled row were lines of the file but rows of no account (the sheet
/// ends at its last filled row), so `lines != rows + lines in fields`.
#[test]
fn blank_lines_after_the_last_filled_row_of_a_csv_are_accounted() {
    let name = "Riverside 2025-04.csv";
    let csv = basic_grid("Daily Log").csv() + "\n\n,,\n\n";
    let r = run_profile(&basic_profile(), name, csv.into_bytes());
    let f = file(&r, name);
    assert!(f.error.is_none(), "{:?}", f.error);
    assert_eq!(f.records.ops.len(), 3);
    assert!(f.account.balances(), "{:?}", f.account);
    assert!(f.account.lines_balance(), "{:?}", f.account);
    assert_eq!(reasons(f).get(&SkipReason::Blank), Some(&5));
}

/// Found by the `profile` fuzz target: a CSV its profile cannot read (the
/// required effluent column is not there) with blank lines after its last
/// filled row left those lines out of the account; they are rejected with
/// the rest.
#[test]
fn blank_lines_after_a_csv_its_profile_rejects_are_rejected_too() {
    let name = "Riverside 2025-04.csv";
    let csv = basic_grid("Daily Log").csv() + "\n\n,,\n";
    let columns = BASIC_COLUMNS.replace("final effluent flow", "final effluent flow (m2/d)");
    let r = run_profile(&profile(BASIC_LAYOUT, &columns), name, csv.into_bytes());
    let f = file(&r, name);
    assert!(f.error.is_some(), "{:?}", f.account);
    assert!(f.account.balances(), "{:?}", f.account);
    assert!(f.account.lines_balance(), "{:?}", f.account);
    assert_eq!(reasons(f).get(&SkipReason::Blank), None);
}

/// Found by the `profile` fuzz target: a CSV its profile cannot read,
/// with a quoted field across two lines, had both of the field's lines
/// rejected as rows (and counted again inside the field), so `lines !=
/// rows + lines in fields`.
#[test]
fn a_quoted_field_across_lines_in_a_csv_its_profile_rejects_is_one_row() {
    let name = "Riverside 2025-04.csv";
    let csv = basic_grid("Daily Log").csv().replacen(
        "Riverside WRF daily log",
        "\"Riverside WRF\ndaily log\"",
        1,
    );
    assert!(csv.contains("WRF\ndaily"));
    let columns = BASIC_COLUMNS.replace("final effluent flow", "final effluent flow (m2/d)");
    let r = run_profile(&profile(BASIC_LAYOUT, &columns), name, csv.into_bytes());
    let f = file(&r, name);
    assert!(f.error.is_some(), "{:?}", f.account);
    assert_eq!(f.account.lines_in_fields, 1, "{:?}", f.account);
    assert!(f.account.balances(), "{:?}", f.account);
    assert!(f.account.lines_balance(), "{:?}", f.account);
}

/// Found by the `profile` fuzz target: after a lone `\r` line break (in a
/// file whose other lines end in `\n`) the rows took the line number of
/// the row before, so two rows of the CSV became one sheet row and a line
/// was left out of the account.
#[test]
fn a_lone_cr_line_break_keeps_every_row_of_a_csv() {
    let name = "Riverside 2025-04.csv";
    let csv = basic_grid("Daily Log")
        .csv()
        .replacen("\n2025-04-02", "\r2025-04-02", 1)
        .replacen("Riverside WRF daily log", "\"Riverside WRF\ndaily log\"", 1);
    assert!(csv.contains("\r2025-04-02") && csv.contains("WRF\ndaily"));
    let r = run_profile(&basic_profile(), name, csv.into_bytes());
    let f = file(&r, name);
    assert!(f.error.is_none(), "{:?}", f.error);
    assert!(f.account.balances(), "{:?}", f.account);
    assert!(f.account.lines_balance(), "{:?}", f.account);
    let rows: Vec<_> = f
        .records
        .ops
        .iter()
        .map(|o| (o.date, o.row, o.actual_eff_flow_m3_per_day))
        .collect();
    assert_eq!(
        rows,
        [
            (d(2025, 4, 1), 5, Some(37854.1)),
            (d(2025, 4, 2), 6, Some(37000.0)),
            (d(2025, 4, 3), 7, Some(36000.0)),
        ]
    );
}
