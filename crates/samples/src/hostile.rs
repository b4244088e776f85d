//! Builders for hostile and malformed inputs: minimal workbooks to be
//! corrupted, zips assembled part by part (bombs, lying sizes), and BIFF8
//! records for legacy `.xls` streams. The bad-input tests
//! (`tests/hostile.rs`) build every case from these, so each format is
//! written in this crate only.

use std::io::{Cursor, Write};

use crew_mrv_core::import::cfb::write_single_stream;
use rust_xlsxwriter::Format;
use zip::write::SimpleFileOptions;

// ---- Workbook builders -------------------------------------------------------

/// A Plant A operator sheet: header row, then (date, effluent flow,
/// bypass hours) rows, all as text as the real files store them.
pub fn plant_a_xlsx(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut wb = crate::builders::reproducible_workbook();
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
    let mut wb = crate::builders::reproducible_workbook();
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
    let mut wb = crate::builders::reproducible_workbook();
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
    let mut wb = crate::builders::reproducible_workbook();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "OPERATOR DATA").expect("a1");
    ws.write_string(1_048_575, 16_383, "far").expect("xfd");
    wb.save_to_buffer().expect("xlsx")
}

// ---- Workbooks part by part (memory budget, structure-aware fuzzing) ---------

/// One shared or inline string as the XML spells it.
#[derive(Clone, Debug)]
pub enum XmlText {
    /// `<t>text</t>`.
    Plain(String),
    /// Rich text: `<r><t>run</t></r>` per run, joined by readers.
    Runs(Vec<String>),
    /// `<t><![CDATA[text]]></t>`.
    CData(String),
}

/// One cell's value as written in a sheet part.
#[derive(Clone, Debug)]
pub enum XmlValue {
    /// `t="s"`: an index into the shared strings.
    Shared(u32),
    Number(f64),
    /// `t="inlineStr"`.
    Inline(XmlText),
    /// `t="str"` (a formula's text result).
    Str(String),
    Bool(bool),
}

#[derive(Clone, Debug)]
pub struct XmlCell {
    /// 0-based.
    pub row: u32,
    pub col: u32,
    /// Index into the cell formats (`s="…"`).
    pub style: Option<u32>,
    pub value: XmlValue,
}

#[derive(Clone, Debug, Default)]
pub struct XmlSheet {
    pub name: String,
    pub cells: Vec<XmlCell>,
}

/// An `.xlsx` described part by part, so tests and fuzzers can repeat,
/// reference and misname parts freely.
#[derive(Clone, Debug)]
pub struct XlsxSpec {
    /// Where the workbook part lives (found through `_rels/.rels`).
    pub workbook_path: String,
    /// Folder of the sheet parts, relative to the workbook's folder
    /// (`worksheets`, `../data`, ...).
    pub sheet_dir: String,
    pub date1904: bool,
    pub strings: Vec<XmlText>,
    /// The `uniqueCount` attribute as written, e.g. ` uniqueCount = "3"`;
    /// `None` writes the true count the usual way.
    pub claim: Option<String>,
    /// Text placed before the `<sst>` element that looks like a claim.
    pub decoy: Option<String>,
    /// Custom number formats (id, code).
    pub num_fmts: Vec<(u32, String)>,
    /// Number format id of each cell format (`cellXfs`).
    pub xfs: Vec<u32>,
    /// Font names, one `<font>` each (fan-out through styles).
    pub fonts: Vec<String>,
    pub sheets: Vec<XmlSheet>,
    pub deflate: bool,
}

impl Default for XlsxSpec {
    fn default() -> Self {
        XlsxSpec {
            workbook_path: "xl/workbook.xml".into(),
            sheet_dir: "worksheets".into(),
            date1904: false,
            strings: Vec::new(),
            claim: None,
            decoy: None,
            num_fmts: Vec::new(),
            xfs: vec![0],
            fonts: vec!["Calibri".into()],
            sheets: Vec::new(),
            deflate: true,
        }
    }
}

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_text(t: &XmlText) -> String {
    match t {
        XmlText::Plain(s) => format!("<t xml:space=\"preserve\">{}</t>", xml_escape(s)),
        XmlText::Runs(runs) => runs
            .iter()
            .map(|r| format!("<r><t xml:space=\"preserve\">{}</t></r>", xml_escape(r)))
            .collect(),
        XmlText::CData(s) => format!(
            "<t xml:space=\"preserve\"><![CDATA[{}]]></t>",
            s.replace("]]>", "]]]]><![CDATA[>")
        ),
    }
}

/// `A1`-style reference of a 0-based position.
pub fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col + 1;
    while c > 0 {
        letters.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// The `.xlsx` bytes of `spec`.
pub fn xlsx_from_spec(spec: &XlsxSpec) -> Vec<u8> {
    let wb = spec.workbook_path.trim_start_matches('/');
    let (dir, file) = wb.rsplit_once('/').unwrap_or(("", wb));
    let in_dir = |rel: &str| -> String {
        // Resolve `rel` against the workbook's folder the way readers do.
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for p in rel.split('/') {
            match p {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        parts.join("/")
    };
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut overrides = String::new();
    parts.push((
        "_rels/.rels".into(),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{PKG_REL_NS}\"><Relationship Id=\"rId1\" Type=\"{REL_NS}/officeDocument\" Target=\"/{wb}\"/></Relationships>"
        )
        .into_bytes(),
    ));
    overrides.push_str(&format!("<Override PartName=\"/{wb}\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"));
    let mut rels = String::new();
    let mut sheets = String::new();
    for (i, s) in spec.sheets.iter().enumerate() {
        let target = format!("{}/sheet{}.xml", spec.sheet_dir, i + 1);
        rels.push_str(&format!(
            "<Relationship Id=\"rIdS{i}\" Type=\"{REL_NS}/worksheet\" Target=\"{target}\"/>"
        ));
        sheets.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rIdS{i}\"/>",
            xml_escape(&s.name),
            i + 1
        ));
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><sheetData>"
        );
        let mut cells: Vec<&XmlCell> = s.cells.iter().collect();
        cells.sort_by_key(|c| (c.row, c.col));
        let mut row: Option<u32> = None;
        for c in cells {
            if row != Some(c.row) {
                if row.is_some() {
                    xml.push_str("</row>");
                }
                xml.push_str(&format!("<row r=\"{}\">", c.row + 1));
                row = Some(c.row);
            }
            let style = c.style.map(|s| format!(" s=\"{s}\"")).unwrap_or_default();
            let r = a1(c.row, c.col);
            xml.push_str(&match &c.value {
                XmlValue::Shared(i) => format!("<c r=\"{r}\"{style} t=\"s\"><v>{i}</v></c>"),
                XmlValue::Number(n) => format!("<c r=\"{r}\"{style}><v>{n}</v></c>"),
                XmlValue::Inline(t) => format!(
                    "<c r=\"{r}\"{style} t=\"inlineStr\"><is>{}</is></c>",
                    xml_text(t)
                ),
                XmlValue::Str(s) => format!(
                    "<c r=\"{r}\"{style} t=\"str\"><f>X</f><v>{}</v></c>",
                    xml_escape(s)
                ),
                XmlValue::Bool(b) => {
                    format!("<c r=\"{r}\"{style} t=\"b\"><v>{}</v></c>", u8::from(*b))
                }
            });
        }
        if row.is_some() {
            xml.push_str("</row>");
        }
        xml.push_str("</sheetData></worksheet>");
        let name = in_dir(&target);
        overrides.push_str(&format!("<Override PartName=\"/{name}\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"));
        parts.push((name, xml.into_bytes()));
    }
    rels.push_str(&format!(
        "<Relationship Id=\"rIdSST\" Type=\"{REL_NS}/sharedStrings\" Target=\"sharedStrings.xml\"/><Relationship Id=\"rIdST\" Type=\"{REL_NS}/styles\" Target=\"styles.xml\"/>"
    ));
    parts.push((
        format!("{}_rels/{file}.rels", if dir.is_empty() { String::new() } else { format!("{dir}/") }),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{PKG_REL_NS}\">{rels}</Relationships>").into_bytes(),
    ));
    parts.push((
        wb.to_string(),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><workbookPr{}/><sheets>{sheets}</sheets></workbook>",
            if spec.date1904 { " date1904=\"1\"" } else { "" }
        )
        .into_bytes(),
    ));
    let claim = spec
        .claim
        .clone()
        .unwrap_or_else(|| format!(" uniqueCount=\"{}\"", spec.strings.len()));
    let mut sst = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    if let Some(d) = &spec.decoy {
        sst.push_str(&format!("<!--{}-->", d.replace("--", "- -")));
    }
    sst.push_str(&format!(
        "<sst xmlns=\"{MAIN_NS}\" count=\"{}\"{claim}>",
        spec.strings.len()
    ));
    for s in &spec.strings {
        sst.push_str(&format!("<si>{}</si>", xml_text(s)));
    }
    sst.push_str("</sst>");
    parts.push((in_dir("sharedStrings.xml"), sst.into_bytes()));
    let fmts: String = spec
        .num_fmts
        .iter()
        .map(|(id, code)| {
            format!(
                "<numFmt numFmtId=\"{id}\" formatCode=\"{}\"/>",
                xml_escape(code)
            )
        })
        .collect();
    let fonts: String = spec
        .fonts
        .iter()
        .map(|f| {
            format!(
                "<font><sz val=\"11\"/><name val=\"{}\"/></font>",
                xml_escape(f)
            )
        })
        .collect();
    let xfs: String = spec
        .xfs
        .iter()
        .map(|id| format!("<xf numFmtId=\"{id}\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"))
        .collect();
    parts.push((
        in_dir("styles.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><styleSheet xmlns=\"{MAIN_NS}\"><numFmts count=\"{}\">{fmts}</numFmts><fonts count=\"{}\">{fonts}</fonts><fills count=\"1\"><fill><patternFill patternType=\"none\"/></fill></fills><borders count=\"1\"><border/></borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs><cellXfs count=\"{}\">{xfs}</cellXfs></styleSheet>",
            spec.num_fmts.len(),
            spec.fonts.len(),
            spec.xfs.len()
        )
        .into_bytes(),
    ));
    parts.push((
        "[Content_Types].xml".into(),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>{overrides}</Types>").into_bytes(),
    ));
    // Excel and the sniffers look for the workbook at its usual place; a
    // spec that moves it still says so in the content types and rels.
    let refs: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip_of(&refs, spec.deflate)
}

/// BIFF8 records as (type, body).
pub type Records = Vec<(u16, Vec<u8>)>;

/// A legacy `.xls` described record group by record group.
#[derive(Clone, Debug, Default)]
pub struct XlsSpec {
    pub date1904: bool,
    /// The shared string table (split over CONTINUE records as needed).
    pub sst: Vec<String>,
    /// FORMAT records (id, code).
    pub formats: Vec<(u16, String)>,
    /// XF records: the number format id of each.
    pub xfs: Vec<u16>,
    /// Sheets: name and cell records (type, body).
    pub sheets: Vec<(String, Records)>,
}

/// A LABELSST cell record body.
pub fn labelsst(row: u16, col: u16, xf: u16, index: u32) -> Vec<u8> {
    let mut d = Vec::with_capacity(10);
    d.extend_from_slice(&row.to_le_bytes());
    d.extend_from_slice(&col.to_le_bytes());
    d.extend_from_slice(&xf.to_le_bytes());
    d.extend_from_slice(&index.to_le_bytes());
    d
}

/// An `XLUnicodeString` of one-byte characters (non-Latin-1 becomes `?`).
fn narrow(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            if (c as u32) < 256 {
                c as u32 as u8
            } else {
                b'?'
            }
        })
        .collect()
}

/// The Workbook stream of `spec`.
pub fn xls_stream(spec: &XlsSpec) -> Vec<u8> {
    const MAX: usize = 8224;
    let mut g = Vec::new();
    rec(&mut g, 0x0809, &bof(0x0005));
    if spec.date1904 {
        rec(&mut g, 0x0022, &1u16.to_le_bytes());
    }
    for (id, code) in &spec.formats {
        let body = narrow(code);
        let body = &body[..body.len().min(MAX - 5)];
        let mut d = id.to_le_bytes().to_vec();
        d.extend_from_slice(&(body.len() as u16).to_le_bytes());
        d.push(0);
        d.extend_from_slice(body);
        rec(&mut g, 0x041E, &d);
    }
    for ifmt in &spec.xfs {
        let mut d = vec![0u8; 20];
        d[2..4].copy_from_slice(&ifmt.to_le_bytes());
        rec(&mut g, 0x00E0, &d);
    }
    let mut patch = Vec::new();
    for (name, _) in &spec.sheets {
        patch.push(g.len() + 4);
        let n = narrow(name);
        let n = &n[..n.len().min(255)];
        let mut d = vec![0u8; 6];
        d.push(n.len() as u8);
        d.push(0);
        d.extend_from_slice(n);
        rec(&mut g, 0x0085, &d);
    }
    if !spec.sst.is_empty() {
        // SST then CONTINUE records; a string's 3-byte header never
        // splits, its characters may (each continued piece starts with a
        // flags byte).
        let n = spec.sst.len() as u32;
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut cur = Vec::new();
        cur.extend_from_slice(&n.to_le_bytes());
        cur.extend_from_slice(&n.to_le_bytes());
        for s in &spec.sst {
            let b = narrow(s);
            let b = &b[..b.len().min(usize::from(u16::MAX))];
            if cur.len() + 4 > MAX {
                pieces.push(std::mem::take(&mut cur));
            }
            cur.extend_from_slice(&(b.len() as u16).to_le_bytes());
            cur.push(0);
            let mut rest = b;
            loop {
                let room = MAX - cur.len();
                let k = room.min(rest.len());
                cur.extend_from_slice(&rest[..k]);
                rest = &rest[k..];
                if rest.is_empty() {
                    break;
                }
                pieces.push(std::mem::take(&mut cur));
                cur.push(0);
            }
        }
        pieces.push(cur);
        for (i, p) in pieces.iter().enumerate() {
            rec(&mut g, if i == 0 { 0x00FC } else { 0x003C }, p);
        }
    }
    rec(&mut g, 0x000A, &[]);
    for ((_, cells), at) in spec.sheets.iter().zip(patch) {
        let pos = g.len() as u32;
        g[at..at + 4].copy_from_slice(&pos.to_le_bytes());
        rec(&mut g, 0x0809, &bof(0x0010));
        for (t, d) in cells {
            rec(&mut g, *t, d);
        }
        rec(&mut g, 0x000A, &[]);
    }
    g
}

/// The `.xls` file of `spec`.
pub fn xls_from_spec(spec: &XlsSpec) -> Vec<u8> {
    xls(&xls_stream(spec))
}

// ---- The adversarial classes of the memory budget (issue 12) -----------------

/// A sheet whose cells are `values` laid out row by row, `cols` wide.
fn grid(name: &str, cols: u32, values: impl Iterator<Item = XmlValue>) -> XmlSheet {
    XmlSheet {
        name: name.into(),
        cells: values
            .enumerate()
            .map(|(i, value)| XmlCell {
                row: i as u32 / cols,
                col: i as u32 % cols,
                style: None,
                value,
            })
            .collect(),
    }
}

/// Shared-string fan-out: one string of `len` bytes shown by `cells` cells.
pub fn xlsx_shared_fanout(len: usize, cells: usize) -> Vec<u8> {
    xlsx_from_spec(&XlsxSpec {
        strings: vec![XmlText::Plain("x".repeat(len))],
        sheets: vec![grid(
            "OPERATOR DATA",
            100,
            (0..cells).map(|_| XmlValue::Shared(0)),
        )],
        ..XlsxSpec::default()
    })
}

/// `.xls` LABELSST fan-out: one string of `len` bytes shown by `cells`
/// cells.
pub fn xls_labelsst_fanout(len: usize, cells: usize) -> Vec<u8> {
    let records = (0..cells)
        .map(|i| (0x00FD, labelsst((i / 100) as u16, (i % 100) as u16, 0, 0)))
        .collect();
    xls_from_spec(&XlsSpec {
        sst: vec!["x".repeat(len)],
        xfs: vec![0],
        sheets: vec![("OPERATOR DATA".into(), records)],
        ..XlsSpec::default()
    })
}

/// Style fan-out: one number format and one font name of `len` bytes,
/// referenced by `xfs` cell formats, a few cells using them.
pub fn xlsx_style_fanout(len: usize, xfs: usize) -> Vec<u8> {
    xlsx_from_spec(&XlsxSpec {
        num_fmts: vec![(164, format!("0.00{}", "\\ ".repeat(len / 2)))],
        fonts: vec!["F".repeat(len)],
        xfs: vec![164; xfs],
        sheets: vec![XmlSheet {
            name: "Sheet1".into(),
            cells: (0..10)
                .map(|i| XmlCell {
                    row: i,
                    col: 0,
                    style: Some(i),
                    value: XmlValue::Number(f64::from(i)),
                })
                .collect(),
        }],
        ..XlsxSpec::default()
    })
}

/// A shared string table whose `uniqueCount` is spelled as an XML reader
/// reads it but a byte scan does not (spaces around `=`), after a decoy
/// claim in a comment.
pub fn xlsx_spaced_claim(claim: u64) -> Vec<u8> {
    xlsx_from_spec(&XlsxSpec {
        strings: vec![XmlText::Plain("a".into())],
        claim: Some(format!(" uniqueCount = \"{claim}\"")),
        decoy: Some("uniqueCount=\"1\"".into()),
        sheets: vec![grid("Sheet1", 1, std::iter::once(XmlValue::Shared(0)))],
        ..XlsxSpec::default()
    })
}

/// `.xls` with `sheets` sheets, each with one cell as far as the per-sheet
/// cap allows (a dense reader builds millions of cells for each).
pub fn xls_far_sheets(sheets: usize) -> Vec<u8> {
    xls_from_spec(&XlsSpec {
        sheets: (0..sheets)
            .map(|i| {
                (
                    format!("S{i}"),
                    vec![
                        (0x0204, label(0, 0, "x")),
                        (0x0203, number(19_530, 255, 1.0)),
                    ],
                )
            })
            .collect(),
        ..XlsSpec::default()
    })
}

/// `strings` shared strings, each `runs` rich-text runs of `run` bytes
/// (joined by readers into one text), each shown by one cell.
pub fn xlsx_rich_runs(strings: usize, runs: usize, run: usize) -> Vec<u8> {
    xlsx_from_spec(&XlsxSpec {
        strings: (0..strings)
            .map(|i| XmlText::Runs(vec![format!("{}", i % 10).repeat(run); runs]))
            .collect(),
        sheets: vec![grid(
            "Sheet1",
            10,
            (0..strings as u32).map(XmlValue::Shared),
        )],
        ..XlsxSpec::default()
    })
}

/// `strings` shared strings in CDATA sections of `len` bytes full of `<`.
pub fn xlsx_cdata(strings: usize, len: usize) -> Vec<u8> {
    xlsx_from_spec(&XlsxSpec {
        strings: (0..strings)
            .map(|_| XmlText::CData("<a".repeat(len / 2)))
            .collect(),
        sheets: vec![grid(
            "Sheet1",
            10,
            (0..strings as u32).map(XmlValue::Shared),
        )],
        ..XlsxSpec::default()
    })
}

/// A sheet part outside `worksheets/` whose `cells` cells each hold an
/// inline text of `len` bytes.
pub fn xlsx_sheet_outside_worksheets(cells: usize, len: usize) -> Vec<u8> {
    xlsx_from_spec(&XlsxSpec {
        sheet_dir: "../data".into(),
        sheets: vec![grid(
            "Sheet1",
            10,
            (0..cells).map(|_| XmlValue::Inline(XmlText::Plain("y".repeat(len)))),
        )],
        ..XlsxSpec::default()
    })
}

/// The same workbook with its workbook part under another name (found
/// through `_rels/.rels`), plus the usual name as an empty decoy.
pub fn xlsx_renamed_workbook(cells: usize, len: usize) -> Vec<u8> {
    let book = xlsx_from_spec(&XlsxSpec {
        workbook_path: "xl/main.xml".into(),
        strings: vec![XmlText::Plain("z".repeat(len))],
        sheets: vec![grid("Sheet1", 100, (0..cells).map(|_| XmlValue::Shared(0)))],
        ..XlsxSpec::default()
    });
    with_part(
        &book,
        "xl/workbook.xml",
        b"<?xml version=\"1.0\"?><workbook><sheets/></workbook>",
        true,
    )
}

/// A NUMBER cell record body with its cell format.
pub fn number_xf(row: u16, col: u16, xf: u16, v: f64) -> Vec<u8> {
    let mut d = number(row, col, v);
    d[4..6].copy_from_slice(&xf.to_le_bytes());
    d
}

/// A Plant A `.xls` whose dates are numbers in a date format, in the 1904
/// date system when `date1904` (serials 1462 days smaller).
pub fn plant_a_xls_serial_dates(serials_1900: &[f64], date1904: bool) -> Vec<u8> {
    let mut cells = plant_a_cells(&[]);
    for (i, s) in serials_1900.iter().enumerate() {
        let r = i as u16 + 1;
        let v = if date1904 { s - 1462.0 } else { *s };
        cells.push((0x0203, number_xf(r, 0, 1, v)));
        cells.push((0x0204, label(r, 1, "36.8")));
    }
    xls_from_spec(&XlsSpec {
        date1904,
        xfs: vec![0, 14],
        sheets: vec![("OPERATOR DATA".into(), cells)],
        ..XlsSpec::default()
    })
}
