//! Fixtures: the file builders of `crew_mrv_samples::builders` (every
//! input file of the suite is generated in code, with the quirks
//! FORMATS.md describes; nothing binary is committed), plus helpers to run
//! the pipeline and read its outputs back.

#![allow(dead_code)] // not every helper is used by every module

use std::collections::BTreeMap;

use chrono::NaiveDate;
use crew_mrv_core::model::Co2Day;
use crew_mrv_core::qa::Finding;
use crew_mrv_core::{run, Config, FileImport, Filter, Report, Run, SkipReason, Source};
pub use crew_mrv_samples::builders::*;

// ---------------------------------------------------------------------------
// Running and inspecting
// ---------------------------------------------------------------------------

pub fn src(name: &str, bytes: impl Into<Vec<u8>>) -> Source {
    Source::new(name, bytes)
}

/// Run with the default settings and check every file's row account.
pub fn run_default(sources: &[Source]) -> Run {
    run_with(sources, &Config::default())
}

pub fn run_with(sources: &[Source], config: &Config) -> Run {
    let r = run(sources, config);
    for f in r.store.files() {
        assert_balanced(f);
    }
    r
}

/// `rows_in == records + skipped` and, for a text file, `lines == rows_in
/// + lines_in_fields`, for the file and for its restatement in the run.
pub fn assert_balanced(f: &FileImport) {
    let a = &f.account;
    assert_eq!(
        a.rows_in,
        a.records + a.skipped_total(),
        "{}: rows_in {} != records {} + skipped {} ({})",
        f.name,
        a.rows_in,
        a.records,
        a.skipped_total(),
        a.reasons_line()
    );
    assert!(
        a.lines_balance(),
        "{}: lines {} != rows_in {} + lines in fields {}",
        f.name,
        a.lines,
        a.rows_in,
        a.lines_in_fields
    );
    let b = f.account_in_run();
    assert_eq!(
        b.rows_in,
        b.records + b.skipped_total(),
        "{} in run",
        f.name
    );
    assert_eq!(
        b.rows_in, a.rows_in,
        "{}: restated account keeps every row",
        f.name
    );
    let records = f.records.count() as u64;
    assert_eq!(
        a.records, records,
        "{}: account records = records returned",
        f.name
    );
}

/// A file of the run with its records (from the run's store).
pub fn file<'a>(r: &'a Run, name: &str) -> &'a FileImport {
    r.store
        .files()
        .iter()
        .find(|f| &*f.name == name)
        .unwrap_or_else(|| panic!("no file {name}"))
}

pub fn reasons(f: &FileImport) -> BTreeMap<SkipReason, u64> {
    f.account.by_reason()
}

pub fn findings<'a>(r: &'a Report, check: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.check == check).collect()
}

pub fn file_findings<'a>(f: &'a FileImport, check: &str) -> Vec<&'a Finding> {
    f.findings.iter().filter(|x| x.check == check).collect()
}

pub fn co2_day<'a>(r: &'a Report, plant: &str, date: NaiveDate) -> &'a Co2Day {
    r.co2
        .iter()
        .find(|x| &*x.plant_id == plant && x.date == date)
        .unwrap_or_else(|| panic!("no day {plant} {date}"))
}

pub fn output(r: &Run, name: &str) -> String {
    let output = crew_mrv_core::export::Output::ALL
        .into_iter()
        .find(|o| o.file_name() == name)
        .unwrap_or_else(|| panic!("{name} is no output"));
    String::from_utf8(crew_mrv_core::export::output_bytes(
        output,
        r,
        &Filter::default(),
    ))
    .expect("utf-8")
}

/// A CSV output as rows of column name → field.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

pub fn co2_rows(r: &Run) -> Vec<BTreeMap<String, String>> {
    parse_csv(&output(r, "co2_removal.csv")).1
}

pub fn co2_row(r: &Run, plant: &str, date: NaiveDate) -> BTreeMap<String, String> {
    let iso = date.format("%Y-%m-%d").to_string();
    co2_rows(r)
        .into_iter()
        .find(|x| x["plant_id"] == plant && x["date"] == iso)
        .unwrap_or_else(|| panic!("no co2 row {plant} {iso}"))
}

/// The derived columns METHOD §4 leaves blank on days not calculated.
pub const DERIVED: [&str; 8] = [
    "ca_delta_mg_per_l",
    "flow_m3_per_day",
    "flow_l_per_day",
    "ca_to_caco3_ratio",
    "co2_to_caco3_ratio",
    "caco3_mg",
    "co2_mg",
    "co2_removed_metric_tons_per_day",
];

/// A tiny deterministic generator for shuffles (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
