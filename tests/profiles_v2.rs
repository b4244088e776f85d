//! Plant profile format version 2 (README "Plant profiles"): each key that
//! states a quirk of a printed report, one rule a test, on sheets built
//! with `builders::Grid`; and a version 1 profile refusing every one of
//! them with its line.

use crate::fixtures::*;
use crew_mrv_core::model::Severity;
use crew_mrv_core::profile;
use crew_mrv_core::{import::FileKind, SkipReason};

const HEAD2: &str = "profile = \"crew-mrv/plant-profile/2\"\nplant_id = \"PLANT_C\"\n";
const HEAD1: &str = "profile = \"crew-mrv/plant-profile/1\"\nplant_id = \"PLANT_C\"\n";

/// A version 2 profile with one layout: `layout` is the `[[operations]]`
/// body before its columns, `columns` the `[operations.columns]` body.
fn v2(layout: &str, columns: &str) -> String {
    format!("{HEAD2}\n[[operations]]\nname = \"report\"\n{layout}\n[operations.columns]\n{columns}")
}

const LAYOUT: &str = "header_contains = [\"date\", \"effluent\"]\ndate = { header = \"date\" }";
const EFF: &str = "effluent_flow = { header = \"effluent flow\", unit = \"MGD\" }";

/// Three days under a one-row header, a preamble above it.
fn days_grid() -> Grid {
    days_under("Date", "Riverside report")
}

fn days_under(date_header: &str, preamble: &str) -> Grid {
    Grid::new("Report")
        .row(0, &[preamble])
        .row(2, &[date_header, "Effluent flow (MGD)", "Rain (in)"])
        .row(3, &["4/1/2025", "9.1", ""])
        .row(4, &["4/2/2025", "9.2", ""])
        .row(5, &["4/3/2025", "9.3", ""])
}

fn run_v2(profile: &str, name: &str, bytes: Vec<u8>) -> crew_mrv_core::Run {
    run_default(&[src("plant_c.toml", profile), src(name, bytes)])
}

fn errors_of(text: &str) -> Vec<String> {
    match profile::parse("p.toml", text) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn a_version_1_profile_refuses_each_version_2_key_naming_it_and_its_line() {
    let layout_keys = [
        "kind = \"plant_ops\"",
        "prefer_sheet = \"Report\"",
        "header_cell = \"date\"",
        "plant_id_from = \"file_name\"",
        "period_from = [\"days\"]",
        "rows = \"by_content\"",
        "numbers = \"text\"",
        "missing_column = \"info\"",
        "empty_column = \"info\"",
        "similar_columns = [\"flow\"]",
    ];
    for key in layout_keys {
        let body = format!("{LAYOUT}\n{key}");
        let name = key.split(' ').next().unwrap_or("");
        let v1 = v2(&body, EFF).replace(HEAD2, HEAD1);
        let e = errors_of(&v1);
        assert!(
            e.iter().any(|m| m.starts_with(&format!(
                "p.toml, line 8: unknown key '{name}' in [[operations]]"
            ))),
            "{key}: {e:?}"
        );
        assert!(
            errors_of(&v2(&format!("{body}\nrows = \"by_content\""), EFF))
                .iter()
                .all(|m| !m.contains("unknown key")),
            "{key} is a version 2 key"
        );
    }
    for (column, key) in [
        ("label = \"EFF\"", "label"),
        ("group = \"effluent\"", "group"),
    ] {
        let cols = EFF.replace(" }", &format!(", {column} }}"));
        let e = errors_of(&v2(LAYOUT, &cols).replace(HEAD2, HEAD1));
        assert!(
            e.iter().any(|m| m.starts_with(&format!(
                "p.toml, line 9: unknown key '{key}' in effluent_flow"
            ))),
            "{e:?}"
        );
        assert!(errors_of(&v2(LAYOUT, &cols)).is_empty());
    }
    let e = errors_of(
        &v2(
            &format!("{LAYOUT}\ngenerated_at = {{ search = \"preamble\" }}"),
            EFF,
        )
        .replace(HEAD2, HEAD1),
    );
    assert!(
        e.iter()
            .any(|m| m.contains("line 8: unknown key 'search' in generated_at")),
        "{e:?}"
    );
    let e = errors_of(&v2(&format!("{LAYOUT}\nheader_rows = \"auto\""), EFF).replace(HEAD2, HEAD1));
    assert!(
        e.iter()
            .any(|m| m.contains("line 8: header_rows: expected a number")),
        "{e:?}"
    );
    // Bad version 2 values name their line and the choices.
    let e = errors_of(&v2(&format!("{LAYOUT}\nkind = \"plant_x\""), EFF));
    assert!(
        e.iter()
            .any(|m| m.contains("line 8: kind: expected \"plant_ops\"")),
        "{e:?}"
    );
    let e = errors_of(&v2(&format!("{LAYOUT}\nperiod_from = [\"week\"]"), EFF));
    assert!(e.iter().any(|m| m.contains("line 8: period_from")), "{e:?}");
    let e = errors_of(&v2(&format!("{LAYOUT}\nnumbers = \"text\""), EFF));
    assert!(
        e.iter()
            .any(|m| m.contains("line 8: numbers: only with rows = \"by_content\"")),
        "{e:?}"
    );
    let e = errors_of("profile = \"crew-mrv/plant-profile/3\"\nplant_id = \"PLANT_C\"\n");
    assert!(
        e.iter().any(|m| m.contains("line 1: profile: expected")),
        "{e:?}"
    );
}

#[test]
fn the_built_in_profiles_are_version_2_round_trip_and_name_no_reader() {
    for p in profile::builtins() {
        assert_eq!(p.version, 2, "{}", p.plant_id);
        let text = profile::to_toml(&p);
        assert!(text.starts_with("profile = \"crew-mrv/plant-profile/2\""));
        assert!(!text.contains("reader"), "{text}");
        let again = profile::parse("again.toml", &text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(again.operations, p.operations);
    }
    let e = errors_of(&v2(&format!("{LAYOUT}\nreader = \"plant_b\""), EFF));
    assert!(
        e.iter()
            .any(|m| m.contains("line 8: unknown key 'reader' in [[operations]]")),
        "{e:?}"
    );
}

#[test]
fn kind_names_the_file_kind() {
    for (kind, want) in [
        ("", FileKind::PlantOps),
        ("kind = \"plant_b_report\"", FileKind::PlantBReport),
        ("kind = \"plant_a_ops\"", FileKind::PlantAOps),
    ] {
        let p = v2(&format!("{LAYOUT}\n{kind}"), EFF);
        let r = run_v2(&p, "r.xlsx", days_grid().xlsx());
        assert_eq!(file(&r, "r.xlsx").kind, Some(want), "{kind}");
    }
}

#[test]
fn prefer_sheet_prefers_without_filtering() {
    let g = days_grid();
    let mut renamed = g.clone();
    renamed.sheet = "Sheet1".into();
    let filtered = v2(&format!("{LAYOUT}\nsheet = \"Report\""), EFF);
    let preferred = v2(&format!("{LAYOUT}\nprefer_sheet = \"Report\""), EFF);
    let r = run_v2(&filtered, "r.xlsx", renamed.xlsx());
    assert!(file(&r, "r.xlsx").error.is_some(), "sheet filters");
    let r = run_v2(&preferred, "r.xlsx", renamed.xlsx());
    assert_eq!(
        file(&r, "r.xlsx").records.ops.len(),
        3,
        "prefer_sheet does not"
    );
}

#[test]
fn plant_id_from_the_file_name_or_the_preamble() {
    let p = v2(&format!("{LAYOUT}\nplant_id_from = \"file_name\""), EFF);
    let r = run_v2(&p, "PLANT_D-report.xlsx", days_grid().xlsx());
    let f = file(&r, "PLANT_D-report.xlsx");
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_D"));
    assert!(file_findings(f, "plant_mismatch").is_empty());
    let r = run_v2(&p, "report.xlsx", days_grid().xlsx());
    let f = file(&r, "report.xlsx");
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_C"), "the profile's");
    let pm = file_findings(f, "plant_mismatch");
    assert_eq!(pm.len(), 1);
    assert_eq!(pm[0].severity, Severity::Warning);
    assert!(pm[0].message.contains("PLANT_C"), "{}", pm[0].message);

    let p = v2(&format!("{LAYOUT}\nplant_id_from = \"preamble\""), EFF);
    let g = days_under("Date", "PLANT_E");
    let r = run_v2(&p, "report.xlsx", g.xlsx());
    let f = file(&r, "report.xlsx");
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_E"));
    assert!(file_findings(f, "plant_mismatch").is_empty());
    let r = run_v2(&p, "PLANT_F-report.xlsx", g.xlsx());
    let f = file(&r, "PLANT_F-report.xlsx");
    assert_eq!(f.plant_id.as_deref(), Some("PLANT_E"), "the sheet's");
    let pm = file_findings(f, "plant_mismatch");
    assert_eq!(pm.len(), 1);
    assert_eq!(
        (pm[0].at.row, pm[0].at.col_letters().as_str()),
        (Some(1), "A"),
        "at the preamble's id"
    );
    assert!(pm[0].message.contains("PLANT_F"));
    let r = run_v2(&p, "PLANT_F-report.xlsx", days_grid().xlsx());
    assert_eq!(
        file(&r, "PLANT_F-report.xlsx").plant_id.as_deref(),
        Some("PLANT_F"),
        "no id in the preamble: the file name's"
    );
}

#[test]
fn period_from_tries_its_sources_in_order_then_the_days() {
    let days = (d(2025, 4, 1), d(2025, 4, 3));
    let april = (d(2025, 4, 1), d(2025, 4, 30));
    let g = days_under("Date\n4/1/2025 - 4/30/2025", "April, 2025");
    for (sources, name, want) in [
        ("", "r.xlsx", days),
        ("[\"date_header\"]", "r.xlsx", april),
        (
            "[\"file_name_month\"]",
            "r-MAY25.xlsx",
            (d(2025, 5, 1), d(2025, 5, 31)),
        ),
        ("[\"file_name_month\", \"date_header\"]", "r.xlsx", april),
        (
            "[\"file_name_range\"]",
            "r_03292025to04022025.xlsx",
            (d(2025, 3, 29), d(2025, 4, 2)),
        ),
        ("[\"preamble_month\"]", "r.xlsx", april),
        ("[\"days\", \"preamble_month\"]", "r.xlsx", days),
    ] {
        let layout = if sources.is_empty() {
            format!("{LAYOUT}\nrows = \"by_content\"")
        } else {
            format!("{LAYOUT}\nrows = \"by_content\"\nperiod_from = {sources}")
        };
        let r = run_v2(&v2(&layout, EFF), name, g.xlsx());
        assert_eq!(file(&r, name).period, Some(want), "{sources} {name}");
    }
}

/// Days, then a summary, a footnote, a tag-code row and a row nothing
/// explains.
fn report_grid() -> Grid {
    days_grid()
        .row(7, &["Total", "27.6"])
        .row(8, &["Note: flows are from the plant SCADA totaliser"])
        .row(9, &["x", "AB_FINEFLOW", "AB_RAIN"])
        .row(10, &["??", "12"])
}

#[test]
fn rows_by_content_tells_footnotes_tag_rows_and_unexplained_rows_apart() {
    let by_header = v2(
        &format!("{LAYOUT}\nskip_rows_starting_with = [\"total\"]"),
        EFF,
    );
    let r = run_v2(&by_header, "r.xlsx", report_grid().xlsx());
    let f = file(&r, "r.xlsx");
    assert_eq!(reasons(f).get(&SkipReason::NoDate), Some(&3));
    assert_eq!(file_findings(f, "unparseable_date").len(), 3);

    let by_content = v2(
        &format!("{LAYOUT}\nskip_rows_starting_with = [\"total\"]\nrows = \"by_content\""),
        EFF,
    );
    let r = run_v2(&by_content, "r.xlsx", report_grid().xlsx());
    let f = file(&r, "r.xlsx");
    assert_balanced(f);
    assert_eq!(f.records.ops.len(), 3);
    let rs = reasons(f);
    assert_eq!(rs.get(&SkipReason::Summary), Some(&1), "{rs:?}");
    assert_eq!(rs.get(&SkipReason::Footnote), Some(&1), "{rs:?}");
    assert_eq!(rs.get(&SkipReason::TagRow), Some(&1), "{rs:?}");
    assert_eq!(rs.get(&SkipReason::Unrecognised), Some(&1), "{rs:?}");
    assert_eq!(rs.get(&SkipReason::NoDate), None, "{rs:?}");
    let un = file_findings(f, "unrecognised_row");
    assert_eq!(un.len(), 1);
    assert_eq!(un[0].at.row, Some(11));
    assert!(file_findings(f, "unparseable_date").is_empty());
}

#[test]
fn numbers_text_uses_qualified_values_and_cells_reports_text() {
    let text = |s: &str| GridCell::Text(s.into());
    let g = days_grid().set(3, 1, text("<2")).set(4, 1, text("311*"));
    let by_header = v2(LAYOUT, EFF);
    let r = run_v2(&by_header, "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    let flows: Vec<Option<f64>> = f
        .records
        .ops
        .iter()
        .map(|o| o.actual_eff_flow_mgd)
        .collect();
    assert_eq!(flows, [None, None, Some(9.3)], "version 1: not numbers");
    let text = v2(
        &format!("{LAYOUT}\nrows = \"by_content\"\nnumbers = \"text\""),
        EFF,
    );
    let r = run_v2(&text, "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    let flows: Vec<Option<f64>> = f
        .records
        .ops
        .iter()
        .map(|o| o.actual_eff_flow_mgd)
        .collect();
    assert_eq!(flows, [Some(2.0), Some(311.0), Some(9.3)]);
    let q = file_findings(f, "qualified_value");
    assert_eq!(q.len(), 2, "only the qualified ones: {q:?}");
    assert!(
        q[0].message.contains("'<2' is qualified"),
        "{}",
        q[0].message
    );

    let cells = v2(
        &format!("{LAYOUT}\nrows = \"by_content\"\nnumbers = \"cells\""),
        EFF,
    );
    let r = run_v2(&cells, "r.xlsx", days_grid().xlsx());
    let f = file(&r, "r.xlsx");
    assert_eq!(f.records.ops[0].actual_eff_flow_mgd, Some(9.1));
    assert_eq!(
        file_findings(f, "qualified_value").len(),
        3,
        "every text number is reported"
    );
}

#[test]
fn missing_and_empty_columns_as_infos_named_by_their_labels() {
    let cols = format!(
        "{}\nprecipitation = {{ header = \"rain\", unit = \"in\", label = \"rain (in)\" }}\nbypass_flow = {{ header = \"bypass\", unit = \"MGD\", label = \"the bypass\" }}",
        EFF.replace(" }", ", label = \"the effluent\" }")
    );
    let plain = v2(&format!("{LAYOUT}\nrows = \"by_content\""), &cols);
    let r = run_v2(&plain, "r.xlsx", days_grid().xlsx());
    let f = file(&r, "r.xlsx");
    let mc = file_findings(f, "missing_column");
    assert_eq!(mc.len(), 1);
    assert_eq!(mc[0].severity, Severity::Warning);
    assert!(file_findings(f, "empty_column").is_empty());

    let infos = v2(
        &format!(
            "{LAYOUT}\nrows = \"by_content\"\nmissing_column = \"info\"\nempty_column = \"info\""
        ),
        &cols,
    );
    let r = run_v2(&infos, "r.xlsx", days_grid().xlsx());
    let f = file(&r, "r.xlsx");
    let mc = file_findings(f, "missing_column");
    assert_eq!(mc.len(), 1);
    assert_eq!(mc[0].severity, Severity::Info);
    assert_eq!(mc[0].message, "No the bypass column; left blank.");
    let ec = file_findings(f, "empty_column");
    assert_eq!(ec.len(), 1);
    assert_eq!(
        ec[0].message,
        "Column C (rain (in)) is blank for every day of this file."
    );
    assert_eq!((ec[0].at.row, ec[0].at.col), (Some(3), Some(2)));
}

/// A printed report's header: group labels and column numbers above the
/// `DATE` row, units below, a blank row before the first day; two flow
/// columns in MGD of which the effluent one is under `EFFLUENT`.
fn block_grid(preamble: &[&str]) -> Grid {
    let mut g = Grid::new("DMR");
    for (i, t) in preamble.iter().enumerate() {
        g = g.row(i as u32, &[t]);
    }
    let top = preamble.len() as u32 + 1;
    g.row(top, &["", "INFLUENT DATA", "ODOR CONTROL", "EFFLUENT DATA"])
        .row(top + 1, &["", "1", "2", "3"])
        .row(top + 2, &["DATE", "INF", "FINAL", "EFF"])
        .row(top + 3, &["", "FLOW", "FLOW", "FLOW"])
        .row(top + 4, &["", "MGD", "MGD", "MGD"])
        .set(top + 6, 0, GridCell::Date(d(2025, 4, 1)))
        .set(top + 6, 1, GridCell::Number(10.0))
        .set(top + 6, 2, GridCell::Number(15.0))
        .set(top + 6, 3, GridCell::Number(9.5))
        .set(top + 7, 0, GridCell::Date(d(2025, 4, 2)))
        .set(top + 7, 1, GridCell::Number(10.5))
        .set(top + 7, 2, GridCell::Number(16.0))
        .set(top + 7, 3, GridCell::Number(9.7))
}

const BLOCK: &str = "file_name = \"r*\"\nheader_contains = [\"date\"]\nheader_cell = \"date\"\nheader_rows = \"auto\"\ndate = { column = \"A\" }\nrows = \"by_content\"\nnumbers = \"cells\"";
const BLOCK_COLUMNS: &str = "influent_flow = { header = \"flow mgd\", group = \"influent\", unit = \"MGD\" }\neffluent_flow = { header = \"flow mgd\", group = \"effluent\", unit = \"MGD\", label = \"EFF FLOW MGD\" }";

#[test]
fn an_automatic_header_block_runs_from_its_group_labels_to_the_first_day() {
    for preamble in [&["PLANT_B"][..], &["PLANT_B", "April, 2025", "", ""][..]] {
        let g = block_grid(preamble);
        let r = run_v2(&v2(BLOCK, BLOCK_COLUMNS), "r.xlsx", g.xlsx());
        let f = file(&r, "r.xlsx");
        assert!(f.error.is_none(), "{:?}", f.error);
        assert_balanced(f);
        let top = preamble.len() as u64 + 1;
        let rs = reasons(f);
        assert_eq!(rs.get(&SkipReason::Preamble), Some(&top), "{rs:?}");
        assert_eq!(
            rs.get(&SkipReason::Header),
            Some(&6),
            "group row to the blank row: {rs:?}"
        );
        let got: Vec<(u32, Option<f64>, Option<f64>)> = f
            .records
            .ops
            .iter()
            .map(|o| (o.row, o.actual_inf_flow_mgd, o.actual_eff_flow_mgd))
            .collect();
        let first = top as u32 + 7;
        assert_eq!(
            got,
            [
                (first, Some(10.0), Some(9.5)),
                (first + 1, Some(10.5), Some(9.7))
            ]
        );
    }
    // header_cell: a "date" elsewhere than the date column is no header.
    let g = block_grid(&["Report date: see below"]);
    let r = run_v2(&v2(BLOCK, BLOCK_COLUMNS), "r.xlsx", g.xlsx());
    assert_eq!(file(&r, "r.xlsx").records.ops.len(), 2);
}

#[test]
fn group_picks_the_column_under_its_label_else_the_leftmost() {
    let g = block_grid(&["PLANT_B"]);
    let no_group = BLOCK_COLUMNS.replace(", group = \"effluent\"", "");
    let r = run_v2(&v2(BLOCK, &no_group), "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    assert_eq!(f.records.ops[0].actual_eff_flow_mgd, Some(10.0), "leftmost");
    let r = run_v2(&v2(BLOCK, BLOCK_COLUMNS), "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    assert_eq!(f.records.ops[0].actual_eff_flow_mgd, Some(9.5));
    let absent = BLOCK_COLUMNS.replace("group = \"effluent\"", "group = \"loadings\"");
    let r = run_v2(&v2(BLOCK, &absent), "r.xlsx", g.xlsx());
    assert_eq!(
        file(&r, "r.xlsx").records.ops[0].actual_eff_flow_mgd,
        Some(10.0),
        "no column under the group: the leftmost"
    );
}

#[test]
fn similar_columns_are_each_named_in_an_info() {
    let g = block_grid(&["PLANT_B"]);
    let r = run_v2(&v2(BLOCK, BLOCK_COLUMNS), "r.xlsx", g.xlsx());
    let column_notes = |f| {
        file_findings(f, "file_recognised")
            .into_iter()
            .filter(|n| n.at.col.is_some())
            .collect::<Vec<_>>()
    };
    assert!(column_notes(file(&r, "r.xlsx")).is_empty());
    let p = v2(
        &format!("{BLOCK}\nsimilar_columns = [\"flow\", \"mgd\"]"),
        BLOCK_COLUMNS,
    );
    let r = run_v2(&p, "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    let notes = column_notes(f);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        notes[0].message,
        "Column C also holds a flow in MGD (FINAL FLOW MGD); the effluent flow is read from column D (EFF FLOW MGD)."
    );
    assert_eq!((notes[0].at.row, notes[0].at.col), (Some(5), Some(2)));
}

#[test]
fn generated_at_from_the_preamble_and_days_after_it_are_kept_but_reported() {
    let p = v2(
        &format!("{BLOCK}\ngenerated_at = {{ search = \"preamble\" }}"),
        BLOCK_COLUMNS,
    );
    let g = block_grid(&["PLANT_B", "April, 2025", "4/1/2025 5:11:02 PM"]);
    let r = run_v2(&p, "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    assert_eq!(f.generated_at, d(2025, 4, 1).and_hms_opt(17, 11, 2));
    let im = file_findings(f, "implausible_date");
    assert_eq!(im.len(), 1);
    assert_eq!(im[0].date, Some(d(2025, 4, 2)));
    assert_eq!(f.records.ops.len(), 2, "reported, not dropped");
    let g = block_grid(&["PLANT_B", "April, 2025"]);
    let r = run_v2(&p, "r.xlsx", g.xlsx());
    let f = file(&r, "r.xlsx");
    assert_eq!(f.generated_at, None);
    let mv = file_findings(f, "missing_value");
    assert_eq!(mv.len(), 1);
    assert_eq!(mv[0].severity, Severity::Info);
    assert!(mv[0].message.contains("generation time"));
}
