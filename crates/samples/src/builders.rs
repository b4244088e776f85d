//! File builders for tests: every input file of the integration suite is
//! generated here, in code, with the quirks FORMATS.md describes (nothing
//! binary is committed). Builders return bytes (or text) exactly as a user
//! would drop them. The sample generator and the tests share these writers,
//! so each format is written in one place.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use crew_mrv_core::SkipReason;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook};

use crate::dates::{month_start, plus_days};

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

/// Excel's serial day number of a date (1900 system, dates after 1900-03-01).
pub fn serial(date: NaiveDate) -> i64 {
    (date - d(1899, 12, 30)).num_days()
}

/// Rounded to 2 decimals, as plant staff type numbers.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// `1437.3` → `1,437.30`: numbers as Plant A's trailer rows write them.
pub fn thousands(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let mut out = if v < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    };
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

// ---------------------------------------------------------------------------
// Delimited text
// ---------------------------------------------------------------------------

/// A CSV table under construction: a header and rows of text fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str], rows: Vec<Vec<String>>) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows,
        }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn set(&mut self, row: usize, name: &str, value: &str) {
        let c = self.col(name);
        self.rows[row][c] = value.to_string();
    }

    pub fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }

    pub fn drop_col(&mut self, name: &str) {
        let c = self.col(name);
        self.header.remove(c);
        for r in &mut self.rows {
            r.remove(c);
        }
    }

    /// Append a column; `value(i)` fills data row `i`.
    pub fn add_col(&mut self, name: &str, value: impl Fn(usize) -> String) {
        self.header.push(name.to_string());
        for (i, r) in self.rows.iter_mut().enumerate() {
            r.push(value(i));
        }
    }

    /// Reorder columns: new column `i` is old column `order[i]`.
    pub fn permute(&mut self, order: &[usize]) {
        assert_eq!(order.len(), self.header.len());
        fn pick(v: &[String], order: &[usize]) -> Vec<String> {
            order.iter().map(|&i| v[i].clone()).collect()
        }
        self.header = pick(&self.header, order);
        self.rows = self.rows.iter().map(|r| pick(r, order)).collect();
    }

    /// The text with `\n` line endings and a final newline.
    pub fn to_text(&self, delim: char) -> String {
        let mut s = csv_line(&self.header, delim);
        for r in &self.rows {
            s.push_str(&csv_line(r, delim));
        }
        s
    }
}

/// `text` with a lone `"` opening field `field` (0-based) of line `line`
/// (1-based): the hand-edited export whose quote is never closed. The line
/// must hold no quoted field.
pub fn with_stray_quote(text: &str, line: usize, field: usize, delim: char) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 != line {
            out.push_str(l);
            continue;
        }
        let mut start = 0;
        for _ in 0..field {
            start += l[start..].find(delim).map_or(l.len() - start, |p| p + 1);
        }
        out.push_str(&l[..start]);
        out.push('"');
        out.push_str(&l[start..]);
    }
    out
}

/// One line, quoting fields that hold the delimiter, quotes or line breaks.
pub fn csv_line<S: AsRef<str>>(fields: &[S], delim: char) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        let f = f.as_ref();
        if i > 0 {
            out.push(delim);
        }
        if f.contains(delim) || f.contains('"') || f.contains('\n') || f.contains('\r') {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
    out
}

/// Windows-1252 bytes of a text (only the characters the tests use beyond
/// ASCII are mapped).
pub fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'é' => 0xE9,
            'è' => 0xE8,
            'ü' => 0xFC,
            'µ' => 0xB5,
            '°' => 0xB0,
            '€' => 0x80,
            c if c.is_ascii() => c as u8,
            c => panic!("no Windows-1252 mapping for {c:?} in the fixture"),
        })
        .collect()
}

pub fn with_bom(text: &str) -> Vec<u8> {
    let mut v = b"\xEF\xBB\xBF".to_vec();
    v.extend_from_slice(text.as_bytes());
    v
}

// ---------------------------------------------------------------------------
// Calcium lab CSV (FORMATS §1)
// ---------------------------------------------------------------------------

pub const LAB_COLUMNS: [&str; 23] = [
    "unique_id",
    "date",
    "time_analyzed",
    "medium",
    "data_type",
    "data_provider",
    "instrument",
    "replicate_num",
    "analytical_session_id",
    "plant_id",
    "unit_type_id",
    "unit_sub_id",
    "measurement_point",
    "parameter_name",
    "units",
    "value",
    "uncertainty",
    "source_file",
    "source_sheet",
    "source_col_idx",
    "date_generated",
    "notes",
    "flag_match",
];

pub const UP: &str = "primary_clarifier";
pub const DOWN: &str = "secondary_clarifier";

/// One lab row in the documented column order.
pub fn lab_row(plant: &str, unit: &str, date: NaiveDate, rep: u32, value: &str) -> Vec<String> {
    let ymd = date.format("%Y%m%d");
    let iso = date.format("%Y-%m-%d").to_string();
    vec![
        format!("{plant}_{unit}_{ymd}_{rep:02}"),
        iso.clone(),
        iso,
        "aqueous".into(),
        "lab".into(),
        "CREW lab".into(),
        "ICP-OES".into(),
        rep.to_string(),
        "S1".into(),
        plant.into(),
        unit.into(),
        "1".into(),
        "outlet".into(),
        "calcium".into(),
        "mg/L".into(),
        value.into(),
        "0.24".into(),
        "raw_filename.csv".into(),
        "sheet_name".into(),
        "15".into(),
        "1900-01-01".into(),
        String::new(),
        "TRUE".into(),
    ]
}

/// A lab table from rows built by [`lab_row`].
pub fn lab_table(rows: Vec<Vec<String>>) -> Table {
    Table::new(&LAB_COLUMNS, rows)
}

/// Upstream and downstream replicate-1 rows for a plant-day.
pub fn lab_pair(plant: &str, date: NaiveDate, up: f64, down: f64) -> Vec<Vec<String>> {
    vec![
        lab_row(plant, UP, date, 1, &up.to_string()),
        lab_row(plant, DOWN, date, 1, &down.to_string()),
    ]
}

// ---------------------------------------------------------------------------
// pH sensor CSV (FORMATS §2)
// ---------------------------------------------------------------------------

pub const PH_COLUMNS: [&str; 7] = [
    "Timestamp",
    "Measurement value",
    "Unit",
    "sensor_id",
    "unit_type_id",
    "plant_id",
    "Process value",
];

/// The timestamp forms a sensor log may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ts {
    /// `2025-04-01 13:05:00`
    IsoSpace,
    /// `2025-04-01T13:05:00`
    IsoT,
    /// `2025-04-01T13:05:00Z`
    IsoZ,
    /// `2025-04-01T13:05:00-05:00`
    IsoOffset,
    /// `4/1/2025 1:05 PM`
    Us,
    /// `4/1/2025 1:05:00 PM`
    UsSeconds,
    /// `01/04/2025 13:05`: day first, as European exports write it (not
    /// in [`ALL_TS`]: a file of early-month days cannot tell it from
    /// [`Ts::Us`]).
    DayFirst,
}

pub const ALL_TS: [Ts; 6] = [
    Ts::IsoSpace,
    Ts::IsoT,
    Ts::IsoZ,
    Ts::IsoOffset,
    Ts::Us,
    Ts::UsSeconds,
];

pub fn ts(t: NaiveDateTime, form: Ts) -> String {
    let us = |secs: bool| {
        let (h12, ampm) = match t.hour() {
            0 => (12, "AM"),
            h @ 1..=11 => (h, "AM"),
            12 => (12, "PM"),
            h => (h - 12, "PM"),
        };
        let sec = if secs {
            format!(":{:02}", t.second())
        } else {
            String::new()
        };
        format!(
            "{}/{}/{} {}:{:02}{} {}",
            t.month(),
            t.day(),
            t.year(),
            h12,
            t.minute(),
            sec,
            ampm
        )
    };
    match form {
        Ts::IsoSpace => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Ts::IsoT => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        Ts::IsoZ => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Ts::IsoOffset => t.format("%Y-%m-%dT%H:%M:%S-05:00").to_string(),
        Ts::Us => us(false),
        Ts::UsSeconds => us(true),
        Ts::DayFirst => t.format("%d/%m/%Y %H:%M").to_string(),
    }
}

pub fn ph_row(
    timestamp: &str,
    value: &str,
    sensor: &str,
    unit_type: &str,
    plant: &str,
) -> Vec<String> {
    vec![
        timestamp.into(),
        value.into(),
        "pH".into(),
        sensor.into(),
        unit_type.into(),
        plant.into(),
        "pH".into(),
    ]
}

pub fn ph_table(rows: Vec<Vec<String>>) -> Table {
    Table::new(&PH_COLUMNS, rows)
}

pub fn at(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    date.and_hms_opt(h, m, 0).expect("valid time")
}

// ---------------------------------------------------------------------------
// Plant A operator workbook (FORMATS §3)
// ---------------------------------------------------------------------------

/// Logical columns of the Plant A fixture, in their usual order.
pub const A_DATE: usize = 0;
pub const A_EFF: usize = 1;
pub const A_MAX: usize = 2;
pub const A_MIN: usize = 3;
pub const A_BYPASS: usize = 4;
pub const A_BYPASS_HRS: usize = 5;
pub const A_PRECIP: usize = 6;
pub const A_AIR_TEMP: usize = 7;
pub const A_AERATION: usize = 8;
pub const A_KWH: usize = 9;
pub const A_NCOLS: usize = 10;

/// Header cells of the logical columns (the date cell is built from the
/// period).
pub fn plant_a_header(logical: usize, period: (NaiveDate, NaiveDate)) -> String {
    let us = |x: NaiveDate| format!("{}/{}/{}", x.month(), x.day(), x.year());
    match logical {
        A_DATE => format!("OPERATOR DATA\nDaily\n{} - {}", us(period.0), us(period.1)),
        A_EFF => "Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily".into(),
        A_MAX => "Max Effluent Flow\n50047\nFLOW MAX MGD\nMGD\nDaily".into(),
        A_MIN => "Min Effluent Flow\n50048\nFLOW MIN MGD\nMGD\nDaily".into(),
        A_BYPASS => "Bypass\n50050\nFLOW MGD\nMGD\nDaily".into(),
        A_BYPASS_HRS => "Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily".into(),
        A_PRECIP => "Weather\nPRECIP TOT DAY\nInches/Day\nDaily".into(),
        A_AIR_TEMP => "Weather\n00021\nAIR TEMP deg F\nDegrees F\nDaily".into(),
        A_AERATION => "Aeration\n40010\nAIR FLOW SCFM\nSCFM\nDaily".into(),
        A_KWH => "Electricity\n60001\nKWH\nKWH\nDaily".into(),
        _ => panic!("no Plant A column {logical}"),
    }
}

/// One day of a Plant A workbook, every value as the text Excel holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ADay {
    pub date: NaiveDate,
    /// Logical columns 1.. as text (index 0 unused: the date).
    pub cells: [String; A_NCOLS],
}

impl ADay {
    pub fn new(date: NaiveDate, eff: f64) -> ADay {
        let mut cells: [String; A_NCOLS] = Default::default();
        cells[A_DATE] = format!("{}/{}/{}", date.month(), date.day(), date.year());
        cells[A_EFF] = eff.to_string();
        cells[A_MAX] = round2(eff + 12.5).to_string();
        cells[A_MIN] = round2(eff - 8.25).to_string();
        cells[A_BYPASS] = "0".into();
        cells[A_BYPASS_HRS] = "0".into();
        cells[A_PRECIP] = "0.4181".into();
        cells[A_AIR_TEMP] = "61".into();
        cells[A_AERATION] = "23,500".into();
        cells[A_KWH] = "41,230".into();
        ADay { date, cells }
    }

    pub fn with(mut self, logical: usize, text: &str) -> ADay {
        self.cells[logical] = text.to_string();
        self
    }
}

/// A Plant A month workbook.
#[derive(Clone, Debug)]
pub struct PlantA {
    pub period: (NaiveDate, NaiveDate),
    pub days: Vec<ADay>,
    /// Write the Sum/Avg/Max/Min/Count/Formula trailer rows.
    pub trailer: bool,
    /// Physical column `i` holds logical column `order[i]`.
    pub order: Vec<usize>,
    /// Blank rows inserted after the day of that index (0-based).
    pub blank_after: Vec<usize>,
    /// Extra rows after the days that have values but no date.
    pub undated_rows: usize,
    pub sheet_name: String,
}

pub const TRAILER_LABELS: [&str; 6] = ["Sum", "Avg", "Max", "Min", "Count", "Formula"];

impl PlantA {
    /// A month of days with the given effluent flows from the 1st on.
    pub fn month(first: NaiveDate, flows: &[f64]) -> PlantA {
        let last = plus_days(month_start(first, 1), -1);
        let days = flows
            .iter()
            .enumerate()
            .map(|(i, f)| ADay::new(first + chrono::Duration::days(i as i64), *f))
            .collect();
        PlantA {
            period: (first, last),
            days,
            trailer: true,
            order: (0..A_NCOLS).collect(),
            blank_after: Vec::new(),
            undated_rows: 0,
            sheet_name: "OPERATOR DATA".into(),
        }
    }

    /// Physical column (0-based) of a logical column.
    pub fn col_of(&self, logical: usize) -> u16 {
        self.order
            .iter()
            .position(|&l| l == logical)
            .expect("column present") as u16
    }

    /// Excel row (1-based) of day `i`.
    pub fn excel_row_of_day(&self, i: usize) -> u32 {
        let blanks = self.blank_after.iter().filter(|&&b| b < i).count();
        (2 + i + blanks) as u32
    }

    /// How many rows the sheet has (what the row account counts).
    pub fn total_rows(&self) -> u64 {
        (1 + self.days.len()
            + self.blank_after.len()
            + self.undated_rows
            + if self.trailer { 6 } else { 0 }) as u64
    }

    pub fn xlsx(&self) -> Vec<u8> {
        let mut wb = reproducible_workbook();
        let ws = wb.add_worksheet();
        ws.set_name(&self.sheet_name).expect("sheet name");
        for (phys, &logical) in self.order.iter().enumerate() {
            ws.write_string(0, phys as u16, plant_a_header(logical, self.period))
                .expect("write");
        }
        let mut row: u32 = 1;
        for (i, day) in self.days.iter().enumerate() {
            for (phys, &logical) in self.order.iter().enumerate() {
                let t = &day.cells[logical];
                if !t.is_empty() {
                    ws.write_string(row, phys as u16, t).expect("write");
                }
            }
            row += 1;
            for _ in self.blank_after.iter().filter(|&&b| b == i) {
                row += 1;
            }
        }
        for _ in 0..self.undated_rows {
            ws.write_string(row, self.col_of(A_EFF), "44.1")
                .expect("write");
            ws.write_string(row, self.col_of(A_AIR_TEMP), "60")
                .expect("write");
            row += 1;
        }
        if self.trailer {
            let flows: Vec<f64> = self
                .days
                .iter()
                .filter_map(|d| d.cells[A_EFF].replace(',', "").parse::<f64>().ok())
                .collect();
            let sum: f64 = flows.iter().sum();
            let n = flows.len().max(1) as f64;
            let max = flows.iter().copied().fold(0.0, f64::max);
            let min = flows.iter().copied().fold(f64::INFINITY, f64::min);
            let min = if min.is_finite() { min } else { 0.0 };
            for label in TRAILER_LABELS {
                let (eff, aeration) = match label {
                    "Sum" => (thousands(sum, 2), thousands(23_500.0 * n, 0)),
                    "Avg" => (thousands(sum / n, 2), "23,500".to_string()),
                    "Max" => (thousands(max, 2), "23,500".to_string()),
                    "Min" => (thousands(min, 2), "23,500".to_string()),
                    "Count" => (format!("{}", flows.len()), format!("{}", flows.len())),
                    _ => ("SUM(B2:B31)".to_string(), "AVG(I2:I31)".to_string()),
                };
                ws.write_string(row, self.col_of(A_DATE), label)
                    .expect("write");
                ws.write_string(row, self.col_of(A_EFF), &eff)
                    .expect("write");
                ws.write_string(row, self.col_of(A_AERATION), &aeration)
                    .expect("write");
                ws.write_string(row, self.col_of(A_KWH), "1,236,700")
                    .expect("write");
                row += 1;
            }
        }
        wb.save_to_buffer().expect("xlsx")
    }
}

// ---------------------------------------------------------------------------
// Plant B monthly report workbook (FORMATS §4)
// ---------------------------------------------------------------------------

/// One day-row of a Plant B report.
#[derive(Clone, Debug, PartialEq)]
pub struct BDay {
    pub date: NaiveDate,
    /// Influent flow (column B); `None` leaves the cell blank.
    pub inf: Option<f64>,
    /// Cached value of the effluent flow formula (column H).
    pub eff: f64,
    /// CBOD text, e.g. `<2` or `311*`.
    pub cbod: String,
}

impl BDay {
    /// A complete day: influent = effluent = `flow` (the cached values equal
    /// the influent flow in the real files).
    pub fn new(date: NaiveDate, flow: f64) -> BDay {
        BDay {
            date,
            inf: Some(flow),
            eff: flow,
            cbod: "<2".into(),
        }
    }

    /// An incomplete day: influent blank, effluent formula shows 0.
    pub fn placeholder(date: NaiveDate) -> BDay {
        BDay {
            date,
            inf: None,
            eff: 0.0,
            cbod: "311*".into(),
        }
    }
}

pub const B_SHEET: &str = "SHT-S1 DMR SUM";
pub const B_INF_COL: u16 = 1;
pub const B_EFF_COL: u16 = 7;
pub const B_CBOD_COL: u16 = 9;

/// A Plant B monthly operating report.
#[derive(Clone, Debug)]
pub struct PlantB {
    /// A1: a title (optional).
    pub title: Option<String>,
    /// A2: the plant id.
    pub plant: Option<String>,
    /// A3: the report month.
    pub month: String,
    /// A4: the generation time as text.
    pub generated: Option<String>,
    /// Blank rows inserted between the preamble and the header block.
    pub shift: u32,
    pub days: Vec<BDay>,
    /// Blank rows between the last day and the TOTAL row.
    pub gap: u32,
    pub summary: bool,
    pub footnotes: Vec<String>,
    /// Blank rows before the closing tag-code row.
    pub empty_before_tags: u32,
    pub tag_row: bool,
    /// Column of the `FNEQ / Final / Flow / mgd` decoy.
    pub decoy_col: u16,
    /// Factor the decoy's values differ from the effluent flow by.
    pub decoy_factor: f64,
    pub sheet_name: String,
}

impl PlantB {
    /// A report with the given days and a generation time one day after the
    /// last day at 5:11:02 PM.
    pub fn new(days: Vec<BDay>) -> PlantB {
        let last = days.last().map(|d| d.date).unwrap_or(d(2025, 4, 30));
        let gen = last + chrono::Duration::days(1);
        PlantB {
            title: None,
            plant: Some("PLANT_B".into()),
            month: format!("{}, {}", month_name(last.month()), last.year()),
            generated: Some(format!("{}/{}/{} 5:11:02 PM", gen.month(), gen.day(), gen.year())),
            shift: 0,
            days,
            gap: 2,
            summary: true,
            footnotes: vec![
                "06/08/2025 *311 CBOD IA1 Quality control data outside of acceptance limits; result reported".into(),
            ],
            empty_before_tags: 300,
            tag_row: true,
            decoy_col: 90,
            decoy_factor: 1.5,
            sheet_name: B_SHEET.into(),
        }
    }

    /// Consecutive days from `first` with the given flows.
    pub fn days_from(first: NaiveDate, flows: &[f64]) -> Vec<BDay> {
        flows
            .iter()
            .enumerate()
            .map(|(i, f)| BDay::new(first + chrono::Duration::days(i as i64), *f))
            .collect()
    }

    /// `PLANT_B-MPOR_Crew_03212025to04112025.xlsx` for this report's days.
    pub fn file_name(&self) -> String {
        let f = |x: NaiveDate| x.format("%m%d%Y").to_string();
        let first = self.days.first().map(|x| x.date).unwrap_or(d(2025, 4, 1));
        let last = self.days.last().map(|x| x.date).unwrap_or(d(2025, 4, 1));
        format!("PLANT_B-MPOR_Crew_{}to{}.xlsx", f(first), f(last))
    }

    /// 0-based row of the first header row (the group labels).
    pub fn header_top(&self) -> u32 {
        5 + self.shift
    }

    /// Excel row (1-based) of day `i`.
    pub fn excel_row_of_day(&self, i: usize) -> u32 {
        self.header_top() + 7 + i as u32 + 1
    }

    /// The row account this fixture implies.
    pub fn expected_account(&self) -> BTreeMap<SkipReason, u64> {
        let mut m = BTreeMap::new();
        m.insert(SkipReason::Preamble, u64::from(self.header_top()));
        m.insert(SkipReason::Header, 7);
        let mut blank = 0u64;
        if self.summary || !self.footnotes.is_empty() || self.tag_row {
            blank += u64::from(self.gap);
        }
        if self.summary {
            m.insert(SkipReason::Summary, 4);
        }
        if !self.footnotes.is_empty() {
            m.insert(SkipReason::Footnote, self.footnotes.len() as u64);
        }
        if self.tag_row {
            blank += u64::from(self.empty_before_tags);
            m.insert(SkipReason::TagRow, 1);
        }
        if blank > 0 {
            m.insert(SkipReason::Blank, blank);
        }
        m
    }

    pub fn xlsx(&self) -> Vec<u8> {
        let mut wb = reproducible_workbook();
        let ws = wb.add_worksheet();
        ws.set_name(&self.sheet_name).expect("sheet name");
        let date_fmt = Format::new().set_num_format("ddd\\-dd");
        let w = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, s: &str| {
            if !s.is_empty() {
                ws.write_string(r, c, s).expect("write");
            }
        };
        if let Some(t) = &self.title {
            w(ws, 0, 0, t);
        }
        if let Some(p) = &self.plant {
            w(ws, 1, 0, p);
        }
        w(ws, 2, 0, &self.month);
        if let Some(g) = &self.generated {
            w(ws, 3, 0, g);
        }
        let top = self.header_top();
        // (group, number, row8, row9, measurement, qualifier, unit) per column.
        let mut cols: Vec<(u16, [&str; 7])> = vec![
            (0, ["", "", "DATE", "", "", "", ""]),
            (1, ["INFLUENT DATA", "1", "RAW", "INF", "FLOW", "", "MGD"]),
            (2, ["", "2", "RAW", "INF", "pH", "", "S.U."]),
            (3, ["", "3", "RAW", "INF", "CBOD", "", "mg/L"]),
            (4, ["", "4", "RAW", "INF", "TSS", "", "mg/L"]),
            (5, ["", "5", "RAW", "INF", "T-P", "", "mg/L"]),
            (6, ["", "6", "RAW", "INF", "TKN", "", "mg/L"]),
            (7, ["EFFLUENT DATA", "7", "FIN", "EFF", "FLOW", "", "MGD"]),
            (8, ["", "8", "FIN", "EFF", "pH", "", "S.U."]),
            (9, ["", "9", "FIN", "EFF", "CBOD", "", "mg/L"]),
            (10, ["", "10", "FIN", "EFF", "TSS", "", "mg/L"]),
            (
                11,
                ["CHLORINE CONTACT TANK", "", "CCT", "", "Cl2", "RES", "ppm"],
            ),
            (12, ["FINAL", "", "FIN", "", "FECAL", "COLI", "100 ml"]),
            (13, ["LOADINGS", "14", "FIN", "EFF", "CBOD", "", "kg/D"]),
        ];
        cols.push((
            self.decoy_col,
            ["ODOR CONTROL", "", "FNEQ", "Final", "Flow", "", "mgd"],
        ));
        for (c, labels) in &cols {
            for (i, l) in labels.iter().enumerate() {
                if i == 1 && *c == 11 {
                    ws.write_number(top + 1, *c, 68.0).expect("write");
                    continue;
                }
                if i == 1 && !l.is_empty() {
                    ws.write_number(top + 1, *c, l.parse::<f64>().expect("number"))
                        .expect("write");
                    continue;
                }
                w(ws, top + i as u32, *c, l);
            }
        }
        let first_row = top + 7;
        let mut row = first_row;
        for day in &self.days {
            let (y, m, dd) = (day.date.year(), day.date.month(), day.date.day());
            ws.write_formula_with_format(
                row,
                0,
                Formula::new(format!("=DATE({y},{m},{dd})"))
                    .set_result(serial(day.date).to_string()),
                &date_fmt,
            )
            .expect("write");
            if let Some(inf) = day.inf {
                ws.write_number(row, B_INF_COL, inf).expect("write");
                ws.write_number(row, 2, 7.1).expect("write");
                ws.write_number(row, 3, 211.0).expect("write");
                ws.write_number(row, 4, 180.5).expect("write");
            }
            ws.write_formula(
                row,
                B_EFF_COL,
                Formula::new("=EffluentFlowMGD").set_result(day.eff.to_string()),
            )
            .expect("write");
            ws.write_number(row, 8, 7.4).expect("write");
            w(ws, row, B_CBOD_COL, &day.cbod);
            w(ws, row, 10, "<1.0");
            ws.write_number(row, 12, 12.0).expect("write");
            ws.write_number(row, self.decoy_col, day.eff * self.decoy_factor + 0.5)
                .expect("write");
            row += 1;
        }
        let last_day_row = row; // 1-based Excel row of the last day = row
        row += self.gap;
        if self.summary {
            let n = self.days.len().max(1) as f64;
            let flows: Vec<f64> = self.days.iter().map(|x| x.eff).collect();
            let sum: f64 = flows.iter().sum();
            let max = flows.iter().copied().fold(0.0, f64::max);
            let min = flows.iter().copied().fold(f64::INFINITY, f64::min);
            let min = if min.is_finite() { min } else { 0.0 };
            for (label, f, v) in [
                ("TOTAL", "SUM", sum),
                ("MAX", "MAX", max),
                ("MIN", "MIN", min),
                ("AVG", "AVERAGE", sum / n),
            ] {
                w(ws, row, 0, label);
                for c in [B_INF_COL, B_EFF_COL] {
                    let letter = crew_mrv_core::model::col_letters(u32::from(c));
                    ws.write_formula(
                        row,
                        c,
                        Formula::new(format!(
                            "={f}({letter}{}:{letter}{last_day_row})",
                            first_row + 1
                        ))
                        .set_result(v.to_string()),
                    )
                    .expect("write");
                }
                row += 1;
            }
        }
        for note in &self.footnotes {
            w(ws, row, 0, note);
            row += 1;
        }
        if self.tag_row {
            row += self.empty_before_tags;
            for (c, tag) in [
                (0u16, "AB_DATE"),
                (1, "AB_RAWIFLOW"),
                (2, "AB_RAWIPH"),
                (3, "AB_RAWICBOD"),
                (7, "AB_FINEFLOW"),
                (8, "AB_FINEPH"),
                (self.decoy_col, "AB_FNEQ"),
            ] {
                w(ws, row, c, tag);
            }
        }
        wb.save_to_buffer().expect("xlsx")
    }
}

/// The English name of month `m` (1 to 12), as report titles write it.
pub fn month_name(m: u32) -> &'static str {
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ][(m - 1) as usize]
}

/// A workbook whose bytes depend only on what is written into it: without a
/// fixed creation time rust_xlsxwriter stamps the clock into
/// `docProps/core.xml`, and two builds of the same workbook a second apart
/// hash differently (a day's `inputs_sha256` then changes between them).
pub(crate) fn reproducible_workbook() -> Workbook {
    let mut wb = Workbook::new();
    if let Ok(created) = ExcelDateTime::from_ymd(2025, 1, 1) {
        wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    }
    wb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_built_twice_a_second_apart_has_the_same_bytes() {
        let build = || {
            let mut wb = reproducible_workbook();
            let ws = wb.add_worksheet();
            ws.write_string(0, 0, "Date").expect("write");
            wb.save_to_buffer().expect("xlsx")
        };
        let first = build();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(first, build());
    }
}
