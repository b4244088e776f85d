//! Property tests: generated files with random mixes of quirks. For every
//! file: no panic, `rows_in == records + skipped`, exactly the data rows
//! the generator wrote become records (none lost, none invented), and the
//! skip reasons are the ones the generator planted. For a run: the day set
//! of co2_removal is the operations days ∪ the calcium days, and the
//! outputs do not depend on the order of the files.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate};
use crew_mrv_core::export::{output_bytes, Output};
use crew_mrv_core::{read_file, Config, FileImport, Filter, SkipReason, Source};
use proptest::prelude::*;

use crate::fixtures::*;

/// A fixed seed and modest case counts keep `cargo test` deterministic and
/// fast; set PROPTEST_RNG_SEED and PROPTEST_CASES to explore further.
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(0x00C0_2E3D);
    }
    c
}

#[derive(Clone, Copy, Debug)]
enum Delim {
    Comma,
    Semicolon,
    Tab,
}

impl Delim {
    fn ch(self) -> char {
        match self {
            Delim::Comma => ',',
            Delim::Semicolon => ';',
            Delim::Tab => '\t',
        }
    }

    /// A decimal number as this kind of file writes it.
    fn num(self, v: f64) -> String {
        match self {
            Delim::Semicolon => v.to_string().replace('.', ","),
            _ => v.to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Enc {
    Utf8,
    Bom,
    Windows1252,
    Utf16Le,
}

fn encode(text: &str, enc: Enc) -> Vec<u8> {
    match enc {
        Enc::Utf8 => text.as_bytes().to_vec(),
        Enc::Bom => with_bom(text),
        Enc::Windows1252 => windows_1252(text),
        Enc::Utf16Le => {
            let mut v = vec![0xFF, 0xFE];
            v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            v
        }
    }
}

fn delim() -> impl Strategy<Value = Delim> {
    prop_oneof![Just(Delim::Comma), Just(Delim::Semicolon), Just(Delim::Tab)]
}

fn enc() -> impl Strategy<Value = Enc> {
    prop_oneof![
        Just(Enc::Utf8),
        Just(Enc::Bom),
        Just(Enc::Windows1252),
        Just(Enc::Utf16Le)
    ]
}

/// Lines that are not data, planted between the data rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Junk {
    BlankLine,
    SpacesLine,
    RepeatedHeader,
    BlankValue,
    BadValue,
    BadDate,
}

fn junk() -> impl Strategy<Value = Junk> {
    prop_oneof![
        Just(Junk::BlankLine),
        Just(Junk::SpacesLine),
        Just(Junk::RepeatedHeader),
        Just(Junk::BlankValue),
        Just(Junk::BadValue),
        Just(Junk::BadDate),
    ]
}

fn junk_reason(j: Junk) -> SkipReason {
    match j {
        Junk::BlankLine | Junk::SpacesLine => SkipReason::Blank,
        Junk::RepeatedHeader => SkipReason::Header,
        Junk::BlankValue => SkipReason::MissingValue,
        Junk::BadValue => SkipReason::UnparseableValue,
        Junk::BadDate => SkipReason::UnparseableDate,
    }
}

/// The text of one planted line, or `None` for a blank line.
fn junk_fields(
    j: Junk,
    header: &[String],
    template: &[String],
    value_col: usize,
    date_col: usize,
) -> Option<Vec<String>> {
    match j {
        Junk::BlankLine => None,
        Junk::SpacesLine => Some(vec!["   ".to_string()]),
        Junk::RepeatedHeader => Some(header.to_vec()),
        Junk::BlankValue => {
            let mut r = template.to_vec();
            r[value_col] = String::new();
            Some(r)
        }
        Junk::BadValue => {
            let mut r = template.to_vec();
            r[value_col] = "n/a".into();
            Some(r)
        }
        Junk::BadDate => {
            let mut r = template.to_vec();
            r[date_col] = "31/31/2025".into();
            Some(r)
        }
    }
}

/// A random permutation of `0..n` from a seed.
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    Rng(seed | 1).shuffle(&mut v);
    v
}

/// Data rows interleaved with junk lines, written as a delimited file.
/// Returns the text, the expected skip counts and the number of records.
fn assemble_text(
    t: &Table,
    junk_at: &[(usize, Junk)],
    value_col: usize,
    date_col: usize,
    leading_blank: usize,
    d: Delim,
    crlf: bool,
) -> (String, BTreeMap<SkipReason, u64>) {
    let mut want: BTreeMap<SkipReason, u64> = BTreeMap::new();
    let mut lines: Vec<String> = Vec::new();
    for _ in 0..leading_blank {
        lines.push(String::new());
        *want.entry(SkipReason::Blank).or_default() += 1;
    }
    lines.push(
        csv_line(&t.header, d.ch())
            .trim_end_matches('\n')
            .to_string(),
    );
    *want.entry(SkipReason::Header).or_default() += 1;
    for (i, row) in t.rows.iter().enumerate() {
        for (at, j) in junk_at.iter().filter(|(at, _)| *at == i) {
            let _ = at;
            let template = row;
            match junk_fields(*j, &t.header, template, value_col, date_col) {
                Some(f) => lines.push(csv_line(&f, d.ch()).trim_end_matches('\n').to_string()),
                None => lines.push(String::new()),
            }
            *want.entry(junk_reason(*j)).or_default() += 1;
        }
        lines.push(csv_line(row, d.ch()).trim_end_matches('\n').to_string());
    }
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    text.push_str(eol);
    (text, want)
}

fn check_file(
    f: &FileImport,
    records: u64,
    want: &BTreeMap<SkipReason, u64>,
) -> Result<(), TestCaseError> {
    prop_assert!(f.error.is_none(), "{}: {:?}", f.name, f.error);
    prop_assert_eq!(
        f.account.rows_in,
        f.account.records + f.account.skipped_total()
    );
    prop_assert_eq!(f.account.records, records, "records of {}", f.name);
    prop_assert_eq!(&f.account.by_reason(), want, "skips of {}", f.name);
    prop_assert!(
        f.account.lines_balance(),
        "{}: {} lines, {} rows, {} inside fields",
        f.name,
        f.account.lines,
        f.account.rows_in,
        f.account.lines_in_fields
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Lab CSV
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct LabGen {
    plant: usize,
    unit: usize,
    day: u32,
    rep: u32,
    cents: u32,
    note: usize,
}

/// (plant, day) pairs.
type DaySet = BTreeSet<(String, NaiveDate)>;

const PLANTS: [&str; 2] = ["PLANT_A", "PLANT_B"];
const UNITS: [&str; 3] = [UP, DOWN, "tertiary_filter"];
const NOTES: [&str; 5] = [
    "",
    "ok",
    "re-run, see log",
    "two\nlines",
    "said \"fine\"; ok",
];

fn lab_gen() -> impl Strategy<Value = LabGen> {
    (
        0..2usize,
        0..3usize,
        0..20u32,
        1..4u32,
        2000..11000u32,
        0..NOTES.len(),
    )
        .prop_map(|(plant, unit, day, rep, cents, note)| LabGen {
            plant,
            unit,
            day,
            rep,
            cents,
            note,
        })
}

#[derive(Clone, Debug)]
struct LabFile {
    rows: Vec<LabGen>,
    junk: Vec<(usize, Junk)>,
    leading_blank: usize,
    delim: Delim,
    enc: Enc,
    crlf: bool,
    perm: Option<u64>,
    extra: usize,
}

fn lab_file() -> impl Strategy<Value = LabFile> {
    (
        prop::collection::vec(lab_gen(), 0..25),
        prop::collection::vec((0..25usize, junk()), 0..8),
        0..3usize,
        delim(),
        enc(),
        any::<bool>(),
        prop::option::of(any::<u64>()),
        0..3usize,
    )
        .prop_map(
            |(rows, junk, leading_blank, delim, enc, crlf, perm, extra)| LabFile {
                rows,
                junk,
                leading_blank,
                delim,
                enc,
                crlf,
                perm,
                extra,
            },
        )
}

const LAB_FIRST: NaiveDate = match NaiveDate::from_ymd_opt(2025, 4, 1) {
    Some(x) => x,
    None => NaiveDate::MIN,
};

impl LabFile {
    fn table(&self) -> Table {
        let rows = self
            .rows
            .iter()
            .map(|g| {
                let date = LAB_FIRST + Duration::days(i64::from(g.day));
                let mut r = lab_row(
                    PLANTS[g.plant],
                    UNITS[g.unit],
                    date,
                    g.rep,
                    &self.delim.num(f64::from(g.cents) / 100.0),
                );
                r[16] = self.delim.num(0.24);
                let note = NOTES[g.note];
                r[21] = if matches!(self.enc, Enc::Windows1252) {
                    format!("{note} é")
                } else {
                    note.to_string()
                };
                r
            })
            .collect();
        let mut t = lab_table(rows);
        for k in 0..self.extra {
            t.add_col(&format!("extra_{k}"), |i| format!("x{i}"));
        }
        if let Some(seed) = self.perm {
            let n = t.header.len();
            t.permute(&permutation(n, seed));
        }
        t
    }

    /// Bytes, expected skips, and the calcium days written.
    fn build(&self) -> (Vec<u8>, BTreeMap<SkipReason, u64>, DaySet) {
        let t = self.table();
        let (value_col, date_col) = (t.col("value"), t.col("date"));
        let junk: Vec<(usize, Junk)> = self
            .junk
            .iter()
            .filter(|(at, _)| *at < t.rows.len())
            .copied()
            .collect();
        let (text, want) = assemble_text(
            &t,
            &junk,
            value_col,
            date_col,
            self.leading_blank,
            self.delim,
            self.crlf,
        );
        let days = self
            .rows
            .iter()
            .map(|g| {
                (
                    PLANTS[g.plant].to_string(),
                    LAB_FIRST + Duration::days(i64::from(g.day)),
                )
            })
            .collect();
        (encode(&text, self.enc), want, days)
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn lab_csv_every_row_is_accounted(spec in lab_file()) {
        let (bytes, want, _) = spec.build();
        let f = read_file("lab.csv", &bytes, &Config::default());
        prop_assert_eq!(f.kind, Some(crew_mrv_core::FileKind::CalciumLab));
        check_file(&f, spec.rows.len() as u64, &want)?;
        // Every value comes back as written.
        let mut got: Vec<u32> = f.records.lab.iter().map(|r| (r.value * 100.0).round() as u32).collect();
        let mut written: Vec<u32> = spec.rows.iter().map(|g| g.cents).collect();
        got.sort_unstable();
        written.sort_unstable();
        prop_assert_eq!(got, written);
        for r in &f.records.lab {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&r.metadata).is_ok());
        }
    }
}

// ---------------------------------------------------------------------------
// pH CSV
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum PhValue {
    Ok(u32),
    Blank,
    Bad(usize),
}

const BAD: [&str; 5] = ["Bad", "NaN", "#N/A", "--", "?"];

#[derive(Clone, Debug)]
struct PhFile {
    rows: Vec<(u32, usize, usize, PhValue)>,
    blanks: Vec<usize>,
    headers: Vec<usize>,
    delim: Delim,
    enc: Enc,
    crlf: bool,
    perm: Option<u64>,
    extra: usize,
}

fn ph_file() -> impl Strategy<Value = PhFile> {
    let value = prop_oneof![
        6 => (0..1400u32).prop_map(PhValue::Ok),
        1 => Just(PhValue::Blank),
        1 => (0..BAD.len()).prop_map(PhValue::Bad),
    ];
    (
        prop::collection::vec((0..3000u32, 0..3usize, 0..ALL_TS.len(), value), 0..40),
        prop::collection::vec(0..40usize, 0..5),
        prop::collection::vec(0..40usize, 0..3),
        delim(),
        enc(),
        any::<bool>(),
        prop::option::of(any::<u64>()),
        0..3usize,
    )
        .prop_map(
            |(rows, blanks, headers, delim, enc, crlf, perm, extra)| PhFile {
                rows,
                blanks,
                headers,
                delim,
                enc,
                crlf,
                perm,
                extra,
            },
        )
}

impl PhFile {
    fn build(&self) -> (Vec<u8>, BTreeMap<SkipReason, u64>, u64) {
        let mut good = 0u64;
        let rows = self
            .rows
            .iter()
            .map(|(minute, sensor, form, v)| {
                let t = at(LAB_FIRST, 0, 0) + Duration::minutes(i64::from(*minute));
                let value = match v {
                    PhValue::Ok(c) => {
                        good += 1;
                        self.delim.num(f64::from(*c) / 100.0)
                    }
                    PhValue::Blank => String::new(),
                    PhValue::Bad(i) => BAD[*i].to_string(),
                };
                let sensor_id = ["WB0038", "WB0039", "WB0040"][*sensor];
                let mut r = ph_row(
                    &ts(t, ALL_TS[*form]),
                    &value,
                    sensor_id,
                    "aeration_basin",
                    "PLANT_A",
                );
                if matches!(self.enc, Enc::Windows1252) {
                    r[2] = "pH é".into();
                }
                r
            })
            .collect();
        let mut t = ph_table(rows);
        for k in 0..self.extra {
            t.add_col(&format!("Extra {k}"), |i| format!("e{i}"));
        }
        if let Some(seed) = self.perm {
            let n = t.header.len();
            t.permute(&permutation(n, seed));
        }
        let junk: Vec<(usize, Junk)> = self
            .blanks
            .iter()
            .map(|&i| (i, Junk::BlankLine))
            .chain(self.headers.iter().map(|&i| (i, Junk::RepeatedHeader)))
            .filter(|(i, _)| *i < t.rows.len())
            .collect();
        let (value_col, date_col) = (t.col("Measurement value"), t.col("Timestamp"));
        let (text, mut want) =
            assemble_text(&t, &junk, value_col, date_col, 0, self.delim, self.crlf);
        let blank = self
            .rows
            .iter()
            .filter(|r| matches!(r.3, PhValue::Blank))
            .count() as u64;
        let bad = self
            .rows
            .iter()
            .filter(|r| matches!(r.3, PhValue::Bad(_)))
            .count() as u64;
        if blank > 0 {
            want.insert(SkipReason::MissingValue, blank);
        }
        if bad > 0 {
            want.insert(SkipReason::UnparseableValue, bad);
        }
        (encode(&text, self.enc), want, good)
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn ph_csv_every_row_is_accounted(spec in ph_file()) {
        let (bytes, want, good) = spec.build();
        let f = read_file("WB0038_PH_2025_sanitized.csv", &bytes, &Config::default());
        prop_assert_eq!(f.kind, Some(crew_mrv_core::FileKind::PhSensor));
        check_file(&f, good, &want)?;
        let mut got: Vec<u32> = f.records.sensor.iter().map(|r| (r.value * 100.0).round() as u32).collect();
        let mut written: Vec<u32> = spec.rows.iter().filter_map(|r| match r.3 { PhValue::Ok(c) => Some(c), _ => None }).collect();
        got.sort_unstable();
        written.sort_unstable();
        prop_assert_eq!(got, written);
    }
}

// ---------------------------------------------------------------------------
// Plant A workbooks
// ---------------------------------------------------------------------------

fn plant_a() -> impl Strategy<Value = PlantA> {
    (
        1..=12u32,
        prop::collection::vec(
            (2000..7000u32, any::<bool>(), any::<bool>(), any::<bool>()),
            0..31,
        ),
        any::<bool>(),
        any::<u64>(),
        prop::collection::vec(0..30usize, 0..4),
        0..3usize,
    )
        .prop_map(|(month, days, trailer, perm, blank_after, undated)| {
            let first = d(2025, month, 1);
            let n = days
                .len()
                .min(crew_mrv_core::timestamp::month_end(first).day0() as usize + 1);
            let flows: Vec<f64> = days[..n].iter().map(|x| f64::from(x.0) / 100.0).collect();
            let mut wb = PlantA::month(first, &flows);
            for (day, (_, blank_eff, blank_precip, thousands_sep)) in wb.days.iter_mut().zip(&days)
            {
                if *blank_eff {
                    day.cells[A_EFF] = String::new();
                }
                if *blank_precip {
                    day.cells[A_PRECIP] = String::new();
                }
                if *thousands_sep {
                    day.cells[A_KWH] = "1,236,700.5".into();
                }
            }
            wb.trailer = trailer;
            wb.order = permutation(A_NCOLS, perm);
            wb.blank_after = blank_after.into_iter().filter(|&b| b + 1 < n).collect();
            wb.undated_rows = undated;
            wb
        })
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn plant_a_every_row_is_accounted(wb in plant_a()) {
        let f = read_file("PLANT_A-OPS DATA-JAN25.xlsx", &wb.xlsx(), &Config::default());
        prop_assert_eq!(f.kind, Some(crew_mrv_core::FileKind::PlantAOps));
        let mut want = BTreeMap::new();
        want.insert(SkipReason::Header, 1);
        if wb.trailer {
            want.insert(SkipReason::Summary, 6);
        }
        if !wb.blank_after.is_empty() {
            want.insert(SkipReason::Blank, wb.blank_after.len() as u64);
        }
        if wb.undated_rows > 0 {
            want.insert(SkipReason::Unrecognised, wb.undated_rows as u64);
        }
        check_file(&f, wb.days.len() as u64, &want)?;
        prop_assert_eq!(f.account.rows_in, wb.total_rows());
        let dates: Vec<NaiveDate> = f.records.ops.iter().map(|o| o.date).collect();
        let written: Vec<NaiveDate> = wb.days.iter().map(|x| x.date).collect();
        prop_assert_eq!(dates, written);
        for (o, x) in f.records.ops.iter().zip(&wb.days) {
            prop_assert_eq!(o.actual_eff_flow_mgd, x.cells[A_EFF].parse::<f64>().ok());
        }
    }
}

// ---------------------------------------------------------------------------
// Plant B reports
// ---------------------------------------------------------------------------

const FOOTNOTES: [&str; 3] = [
    "06/08/2025 *311 CBOD IA1 Quality control data outside of acceptance limits; result reported",
    "<2 = below the method detection limit",
    "Flows are from the plant SCADA totaliser",
];

fn plant_b() -> impl Strategy<Value = PlantB> {
    (
        0..300i64,
        prop::collection::vec(
            (
                790..1060u32,
                prop_oneof![4 => Just(0u8), 1 => Just(1u8)],
                0..4usize,
            ),
            1..26,
        ),
        0..6u32,
        0..5u32,
        any::<bool>(),
        0..=3usize,
        0..400u32,
        any::<bool>(),
        14..98u16,
    )
        .prop_map(
            |(start, days, shift, gap, summary, notes, empty, tag_row, decoy)| {
                let first = d(2025, 1, 1) + Duration::days(start);
                let days: Vec<BDay> = days
                    .iter()
                    .enumerate()
                    .map(|(i, (cents, placeholder, cbod))| {
                        let date = first + Duration::days(i as i64);
                        let mut b = if *placeholder == 1 {
                            BDay::placeholder(date)
                        } else {
                            BDay::new(date, f64::from(*cents) / 100.0)
                        };
                        b.cbod = ["<2", "311*", "12", "<1.0*"][*cbod].into();
                        b
                    })
                    .collect();
                let mut wb = PlantB::new(days);
                wb.shift = shift;
                wb.gap = gap;
                wb.summary = summary;
                wb.footnotes = FOOTNOTES[..notes].iter().map(|s| s.to_string()).collect();
                wb.empty_before_tags = empty;
                wb.tag_row = tag_row;
                wb.decoy_col = decoy;
                wb
            },
        )
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn plant_b_every_row_is_accounted(wb in plant_b()) {
        let f = read_file(&wb.file_name(), &wb.xlsx(), &Config::default());
        prop_assert_eq!(f.kind, Some(crew_mrv_core::FileKind::PlantBReport));
        check_file(&f, wb.days.len() as u64, &wb.expected_account())?;
        let got: Vec<(NaiveDate, Option<f64>, Option<f64>)> =
            f.records.ops.iter().map(|o| (o.date, o.actual_eff_flow_mgd, o.actual_inf_flow_mgd)).collect();
        let written: Vec<(NaiveDate, Option<f64>, Option<f64>)> =
            wb.days.iter().map(|x| (x.date, Some(x.eff), x.inf)).collect();
        prop_assert_eq!(got, written);
        prop_assert!(file_findings(&f, "unrecognised_row").is_empty());
    }
}

// ---------------------------------------------------------------------------
// Whole runs
// ---------------------------------------------------------------------------

fn run_inputs() -> impl Strategy<Value = (LabFile, PlantA, Vec<PlantB>, u64)> {
    (
        lab_file(),
        plant_a(),
        prop::collection::vec(plant_b(), 0..3),
        any::<u64>(),
    )
}

fn sources(
    lab: &LabFile,
    a: &PlantA,
    bs: &[PlantB],
) -> (Vec<Source>, BTreeSet<(String, NaiveDate)>) {
    let (bytes, _, ca_days) = lab.build();
    let mut s = vec![
        src("lab.csv", bytes),
        src("PLANT_A-OPS DATA.xlsx", a.xlsx()),
    ];
    let mut days = ca_days;
    days.extend(a.days.iter().map(|x| ("PLANT_A".to_string(), x.date)));
    for (i, b) in bs.iter().enumerate() {
        s.push(src(&format!("{i}-{}", b.file_name()), b.xlsx()));
        days.extend(b.days.iter().map(|x| ("PLANT_B".to_string(), x.date)));
    }
    (s, days)
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn the_day_set_is_operations_days_and_calcium_days(inputs in run_inputs()) {
        let (lab, a, bs, _) = inputs;
        let (s, want) = sources(&lab, &a, &bs);
        let r = crew_mrv_core::run(&s, &Config::default());
        for f in &r.files {
            prop_assert_eq!(f.account.rows_in, f.account.records + f.account.skipped_total(), "{}", f.name);
        }
        let got: BTreeSet<(String, NaiveDate)> = r.co2.iter().map(|x| (x.plant_id.to_string(), x.date)).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(r.co2.len(), r.co2.iter().map(|x| (&x.plant_id, x.date)).collect::<BTreeSet<_>>().len());
        for x in &r.co2 {
            prop_assert_eq!(x.calc.is_some(), x.quality_flag.is_calculated(), "{:?}", x);
            if x.quality_flag == crew_mrv_core::model::Flag::Valid {
                prop_assert!(x.validation_message.is_empty());
                prop_assert!(x.calc.is_some_and(|c| c.co2_removed_metric_tons_per_day > 0.0));
            } else {
                prop_assert!(!x.validation_message.is_empty());
            }
        }
    }

    #[test]
    fn outputs_do_not_depend_on_file_order(inputs in run_inputs()) {
        let (lab, a, bs, seed) = inputs;
        let (mut s, _) = sources(&lab, &a, &bs);
        let want: Vec<Vec<u8>> = {
            let r = crew_mrv_core::run(&s, &Config::default());
            Output::ALL.iter().map(|n| output_bytes(*n, &r, &Filter::default())).collect()
        };
        Rng(seed | 1).shuffle(&mut s);
        let r = crew_mrv_core::run(&s, &Config::default());
        for (i, n) in Output::ALL.iter().enumerate() {
            prop_assert!(output_bytes(*n, &r, &Filter::default()) == want[i], "{} differs", n);
        }
    }
}
