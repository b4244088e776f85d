//! Builders for hostile and malformed inputs: minimal workbooks to be
//! corrupted, zips assembled part by part (bombs, lying sizes), and BIFF8
//! records for legacy `.xls` streams. The bad-input tests
//! (`tests/hostile.rs`) build every case from these, so each format is
//! written in this crate only.

use std::io::{Cursor, Write};

use crew_mrv_core::import::cfb::write_single_stream;
use rust_xlsxwriter::{Format, Workbook};
use zip::write::SimpleFileOptions;

// ---- Workbook builders -------------------------------------------------------

/// A Plant A operator sheet: header row, then (date, effluent flow,
/// bypass hours) rows, all as text as the real files store them.
pub fn plant_a_xlsx(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("OPERATOR DATA").expect("sheet name");
    let head = [
        "OPERATOR DATA\nDaily\n4/1/2025 - 4/30/2025",
        "Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily",
        "Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    for (r, (date, flow, hours)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, *date).expect("date");
        ws.write_string(r, 1, *flow).expect("flow");
        ws.write_string(r, 2, *hours).expect("hours");
    }
    wb.save_to_buffer().expect("xlsx")
}

/// A Plant B report: preamble, the seven-row header, and one row per day
/// with the date as an Excel serial number (formatted as a date) and the
/// influent and effluent flows in columns B and H.
pub fn plant_b_xlsx(days: &[(f64, f64, f64)], serial_format: bool) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("SHT-S1 DMR SUM").expect("sheet name");
    let put = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, s: &str| {
        ws.write_string(r, c, s).expect("cell");
    };
    put(ws, 1, 0, "PLANT_B");
    put(ws, 2, 0, "April, 2025");
    put(ws, 3, 0, "4/25/2025 5:11:02 PM");
    put(ws, 5, 1, "INFLUENT DATA");
    put(ws, 5, 7, "EFFLUENT DATA");
    ws.write_number(6, 1, 1.0).expect("n");
    ws.write_number(6, 7, 7.0).expect("n");
    put(ws, 7, 0, "DATE");
    put(ws, 7, 1, "RAW");
    put(ws, 7, 7, "FIN");
    put(ws, 8, 1, "INF");
    put(ws, 8, 7, "EFF");
    put(ws, 9, 1, "FLOW");
    put(ws, 9, 7, "FLOW");
    put(ws, 11, 1, "MGD");
    put(ws, 11, 7, "MGD");
    let date = Format::new().set_num_format("ddd\\-dd");
    for (i, (serial, inf, eff)) in days.iter().enumerate() {
        let r = 12 + i as u32;
        if serial_format {
            ws.write_number_with_format(r, 0, *serial, &date)
                .expect("date");
        } else {
            ws.write_number(r, 0, *serial).expect("date");
        }
        ws.write_number(r, 1, *inf).expect("inf");
        ws.write_number(r, 7, *eff).expect("eff");
    }
    wb.save_to_buffer().expect("xlsx")
}

/// Excel's serial day for a day of April 2025.
pub fn april(day: u32) -> f64 {
    45747.0 + f64::from(day)
}

/// A zip with the given parts, stored or deflated.
pub fn zip_of(parts: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opt = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, body) in parts {
        w.start_file(*name, opt).expect("start");
        w.write_all(body).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// The parts of an .xlsx as (name, bytes).
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).expect("part");
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut body).expect("read");
            (f.name().map(|n| n.to_string()).unwrap_or_default(), body)
        })
        .collect()
}

/// The workbook with one part replaced (or added).
pub fn with_part(xlsx: &[u8], name: &str, body: &[u8], deflate: bool) -> Vec<u8> {
    let mut parts = unzip(xlsx);
    match parts.iter_mut().find(|(n, _)| n == name) {
        Some(p) => p.1 = body.to_vec(),
        None => parts.push((name.to_string(), body.to_vec())),
    }
    let refs: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip_of(&refs, deflate)
}

/// Offsets of the central directory's file headers in a zip.
pub fn central_headers(zip: &[u8]) -> Vec<usize> {
    zip.windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .collect()
}

pub fn local_header(zip: &[u8], central: usize) -> usize {
    u32::from_le_bytes([
        zip[central + 42],
        zip[central + 43],
        zip[central + 44],
        zip[central + 45],
    ]) as usize
}

pub fn central_name(zip: &[u8], central: usize) -> String {
    let n = u16::from_le_bytes([zip[central + 28], zip[central + 29]]) as usize;
    String::from_utf8_lossy(&zip[central + 46..central + 46 + n]).into_owned()
}

// ---- BIFF8 (.xls) builders ------------------------------------------------------

pub fn rec(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&typ.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

pub fn bof(dt: u16) -> Vec<u8> {
    let mut d = vec![0x00, 0x06];
    d.extend_from_slice(&dt.to_le_bytes());
    d.extend_from_slice(&[0; 12]);
    d
}

pub fn label(row: u16, col: u16, s: &str) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&row.to_le_bytes());
    d.extend_from_slice(&col.to_le_bytes());
    d.extend_from_slice(&0u16.to_le_bytes());
    d.extend_from_slice(&(s.len() as u16).to_le_bytes());
    d.push(0);
    d.extend_from_slice(s.as_bytes());
    d
}

pub fn number(row: u16, col: u16, v: f64) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&row.to_le_bytes());
    d.extend_from_slice(&col.to_le_bytes());
    d.extend_from_slice(&0u16.to_le_bytes());
    d.extend_from_slice(&v.to_le_bytes());
    d
}

/// A Workbook stream with one sheet named `name` whose records are
/// `cells` (LABEL, NUMBER, DIMENSIONS ... as (type, body)); `globals` go
/// before the sheet list.
pub fn biff(name: &str, globals: &[(u16, Vec<u8>)], cells: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut g = Vec::new();
    rec(&mut g, 0x0809, &bof(0x0005));
    for (t, d) in globals {
        rec(&mut g, *t, d);
    }
    let sheet_at = g.len() + 4;
    let mut bs = vec![0u8; 6];
    bs.push(name.len() as u8);
    bs.push(0);
    bs.extend_from_slice(name.as_bytes());
    rec(&mut g, 0x0085, &bs);
    rec(&mut g, 0x000A, &[]);
    let pos = g.len() as u32;
    g[sheet_at..sheet_at + 4].copy_from_slice(&pos.to_le_bytes());
    rec(&mut g, 0x0809, &bof(0x0010));
    for (t, d) in cells {
        rec(&mut g, *t, d);
    }
    rec(&mut g, 0x000A, &[]);
    g
}

/// A Plant A sheet as BIFF8 cell records.
pub fn plant_a_cells(rows: &[(&str, &str)]) -> Vec<(u16, Vec<u8>)> {
    let mut cells = vec![
        (
            0x0204,
            label(0, 0, "OPERATOR DATA\nDaily\n4/1/2025 - 4/30/2025"),
        ),
        (0x0204, label(0, 1, "Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily")),
    ];
    for (i, (d, flow)) in rows.iter().enumerate() {
        let r = i as u16 + 1;
        cells.push((0x0204, label(r, 0, d)));
        cells.push((0x0204, label(r, 1, flow)));
    }
    cells
}

pub fn xls(stream: &[u8]) -> Vec<u8> {
    write_single_stream("Workbook", stream)
}

/// A workbook of `sheets` sheets, each `rows` × `cols` cells holding 1:
/// many cells and nothing else, for the cell caps.
pub fn number_grid_xlsx(sheets: usize, rows: u32, cols: u16) -> Vec<u8> {
    let mut wb = Workbook::new();
    for _ in 0..sheets {
        let ws = wb.add_worksheet();
        for r in 0..rows {
            for c in 0..cols {
                ws.write_number(r, c, 1.0).expect("cell");
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

/// A small Plant A-looking sheet whose used range reaches XFD1048576, the
/// last cell Excel allows.
pub fn far_cell_xlsx() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "OPERATOR DATA").expect("a1");
    ws.write_string(1_048_575, 16_383, "far").expect("xfd");
    wb.save_to_buffer().expect("xlsx")
}
