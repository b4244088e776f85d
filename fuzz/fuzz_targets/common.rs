//! What every fuzz target checks, whatever the input: the run ends (no
//! panic, no abort), every file's row account balances, every export can
//! be written and its CSVs and JSON parse back to what the report holds,
//! under both replicate policies and under a filter.

#![allow(dead_code)]

use std::io::Write as _;

use crew_mrv_core::model::Flag;
use crew_mrv_core::{
    assemble, export, read_file, Config, FileSummary, Filter, ImportStore, ReplicatePolicy,
    Report, Run,
};

pub const POLICIES: [ReplicatePolicy; 2] = [ReplicatePolicy::Mean, ReplicatePolicy::First];

pub fn config(policy: ReplicatePolicy) -> Config {
    Config {
        replicate_policy: policy,
        ..Config::default()
    }
}

/// Read one named file, assemble a report from it and check it, under
/// both replicate policies.
pub fn one(name: &str, bytes: &[u8]) {
    for policy in POLICIES {
        let config = config(policy);
        let f = read_file(name, bytes, &config);
        check_file(&f);
        let mut store = ImportStore::new(vec![f]);
        let report = assemble(&mut store, &config);
        check_report(&Run { report, store });
    }
}

/// A user's text as the CSV exports write it: a leading character that
/// would start a formula in a spreadsheet is neutralised with a `'`.
fn as_exported(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub fn check_file(f: &FileSummary) {
    assert!(f.account.balances(), "{}: account does not balance", f.name);
    assert!(
        f.account.lines_balance(),
        "{}: lines are not rows plus lines inside quoted fields",
        f.name
    );
}

pub fn check_report(report: &Run) {
    for f in &report.files {
        check_file(f);
        assert!(f.account_in_run().balances(), "{}: run account", f.name);
    }
    let filter = Filter::default();
    let mut sink = std::io::sink();
    for output in export::Output::ALL {
        let bytes = export::output_bytes(output, report, &filter);
        let _ = sink.write_all(&bytes);
    }
    check_parse_back(report, &filter);
    check_parse_back(report, &a_filter(report));
}

/// A filter that selects something: the first plant, its span without the
/// first day, VALID and INVALID days only.
pub fn a_filter(report: &Report) -> Filter {
    let span = report.date_span();
    Filter {
        plant: report.plants().first().map(|p| p.to_string()),
        from: span.map(|s| s.0.succ_opt().unwrap_or(s.0)),
        to: span.map(|s| s.1),
        flags: Some([Flag::Valid, Flag::Invalid].into_iter().collect()),
    }
}

/// Every CSV export parses as CSV with the header's width; co2_removal.csv
/// holds exactly the report's days under `filter`, in order, each with
/// its flag and CO2 to the last bit (shortest round-trip floats); and
/// summary.json's total is the VALID CO2 of that CSV summed in date order.
pub fn check_parse_back(report: &Run, filter: &Filter) {
    for output in export::Output::ALL {
        let name = output.file_name();
        if !name.ends_with(".csv") {
            continue;
        }
        let bytes = export::output_bytes(output, report, filter);
        let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes.as_slice());
        let width = rdr.headers().map(|h| h.len()).unwrap_or_else(|e| panic!("{name}: header: {e}"));
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap_or_else(|e| panic!("{name} record {}: {e}", i + 1));
            assert_eq!(rec.len(), width, "{name} record {}", i + 1);
        }
    }
    let bytes = export::output_bytes(crew_mrv_core::export::Output::Co2Removal, report, filter);
    let mut rdr = csv::Reader::from_reader(bytes.as_slice());
    let header = rdr.headers().cloned().unwrap_or_default();
    let col = |c: &str| header.iter().position(|h| h == c).unwrap_or_else(|| panic!("no column {c}"));
    let (plant, date, flag, co2) = (
        col("plant_id"),
        col("date"),
        col("quality_flag"),
        col("co2_removed_metric_tons_per_day"),
    );
    let rows: Vec<csv::StringRecord> = rdr.records().filter_map(Result::ok).collect();
    let days: Vec<_> = report.days(filter).collect();
    assert_eq!(rows.len(), days.len(), "co2_removal.csv rows vs the report's days");
    let mut valid: Vec<(String, String, f64)> = Vec::new();
    for (r, d) in rows.iter().zip(&days) {
        assert!(filter.matches(d), "a day outside the filter");
        assert_eq!(&r[plant], as_exported(&d.plant_id), "plant id does not read back");
        assert_eq!(r[date], d.date.to_string());
        assert_eq!(&r[flag], d.quality_flag.as_str());
        let want = d.calc.map(|c| c.co2_removed_metric_tons_per_day.to_bits());
        let got = (!r[co2].is_empty()).then(|| r[co2].parse::<f64>().map(f64::to_bits).ok());
        assert_eq!(got.flatten(), want, "{} {}: CO2 does not read back", &r[plant], &r[date]);
        if d.quality_flag == Flag::Valid {
            if let Some(c) = d.calc {
                valid.push((r[date].to_string(), d.plant_id.to_string(), c.co2_removed_metric_tons_per_day));
            }
        }
    }
    valid.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let total = valid.iter().fold(0.0, |t, x| t + x.2);
    let summary: serde_json::Value =
        serde_json::from_slice(&export::output_bytes(crew_mrv_core::export::Output::Summary, report, filter))
            .unwrap_or_else(|e| panic!("summary.json does not parse: {e}"));
    assert_eq!(summary["all_plants"]["valid_days"].as_u64(), Some(valid.len() as u64));
    // JSON has no NaN or infinity: a non-finite total is written as null.
    let written = summary["all_plants"]["co2_removed_t"].as_f64().map(f64::to_bits);
    if total.is_finite() {
        assert_eq!(written, Some(total.to_bits()), "summary total vs the CSV's VALID days");
    }
}

/// A small zip holding the parts of a one-sheet workbook, so the fuzzer's
/// changes land in the XML rather than in deflate streams and checksums.
/// `parts` are the sheet, the shared strings and the styles, separated in
/// the input by a NUL line.
pub fn xlsx_from_parts(data: &[u8]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut it = data.split(|b| *b == 0);
    let sheet = it.next().unwrap_or(b"");
    let strings = it.next();
    let styles = it.next();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opt = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut put = |name: &str, body: &[u8]| {
        let _ = w.start_file(name, opt);
        let _ = w.write_all(body);
    };
    put(
        "[Content_Types].xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    put(
        "_rels/.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    put(
        "xl/workbook.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    put(
        "xl/_rels/workbook.xml.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
    );
    put("xl/worksheets/sheet1.xml", sheet);
    if let Some(s) = strings {
        put("xl/sharedStrings.xml", s);
    }
    if let Some(s) = styles {
        put("xl/styles.xml", s);
    }
    match w.finish() {
        Ok(c) => c.into_inner(),
        Err(_) => Vec::new(),
    }
}
