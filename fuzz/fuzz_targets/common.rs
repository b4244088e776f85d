//! What every fuzz target checks, whatever the input: the run ends (no
//! panic, no abort), every file's row account balances, and every export
//! can be written.

#![allow(dead_code)]

use std::io::Write as _;

use crew_mrv_core::{assemble, export, read_file, Config, FileImport, Filter, Report};

/// Read one named file, assemble a report from it and check it.
pub fn one(name: &str, bytes: &[u8]) {
    let config = Config::default();
    let f = read_file(name, bytes, &config);
    check_file(&f);
    let report = assemble(vec![f], &config);
    check_report(&report);
}

pub fn check_file(f: &FileImport) {
    assert!(f.account.balances(), "{}: account does not balance", f.name);
}

pub fn check_report(report: &Report) {
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
