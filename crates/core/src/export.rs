//! The outputs: `co2_removal.csv`, `lab_readings.csv`,
//! `plant_operations.csv`, `qa_findings.csv`, `files.csv` and
//! `summary.json`, and on request the batch as a psql script
//! (`crew_mrv_batch.sql`). The CLI writes them to disk and the browser
//! offers them as downloads; both call these functions, so the bytes are
//! identical.
//!
//! CSV rules (METHOD §4): ISO dates, floats in the shortest form that reads
//! back to the same f64 (Rust's `{}`), blank fields empty. Text that came
//! from user files and starts with `=`, `+`, `-`, `@`, tab or carriage
//! return is prefixed with `'` so spreadsheets do not run it as a formula
//! (OWASP CSV injection); numbers we write are never touched.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::method::co2::M3_PER_MG;
use crate::method::sensitivity;
use crate::method::uncertainty::{self, PeriodUncertainty};
use crate::model::{col_letters, Co2Day, When};
use crate::qa::Finding;
use crate::report::{Filter, Kpis, Report};
use crate::store::{ImportStore, Run};

/// One of the outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Output {
    Co2Removal,
    LabReadings,
    PlantOperations,
    QaFindings,
    Files,
    Summary,
    Sensitivity,
    /// The whole batch as a psql script (`crate::sql`). Not in `ALL`: the
    /// CLI writes it only when asked (`run --sql FILE`), to a path of the
    /// user's choosing.
    Sql,
    /// The period report (`crate::period`), by month or quarter. Not in
    /// `ALL`: the app's Report view and `crew-mrv report` ask for it.
    PeriodReport(crate::period::Period),
}

impl Output {
    /// A full export, in the order the CLI lists the files.
    pub const ALL: [Output; 7] = [
        Output::Co2Removal,
        Output::LabReadings,
        Output::PlantOperations,
        Output::QaFindings,
        Output::Files,
        Output::Summary,
        Output::Sensitivity,
    ];

    /// The file it is written to (CLI) or downloaded as (browser).
    pub fn file_name(self) -> &'static str {
        match self {
            Output::Co2Removal => "co2_removal.csv",
            Output::LabReadings => "lab_readings.csv",
            Output::PlantOperations => "plant_operations.csv",
            Output::QaFindings => "qa_findings.csv",
            Output::Files => "files.csv",
            Output::Summary => "summary.json",
            Output::Sensitivity => "sensitivity.csv",
            Output::Sql => "crew_mrv_batch.sql",
            Output::PeriodReport(crate::period::Period::Month) => "period_report_month.csv",
            Output::PeriodReport(crate::period::Period::Quarter) => "period_report_quarter.csv",
        }
    }
}

impl Output {
    /// The name a download is saved as: `co2_removal.csv` carries the
    /// filter's plant and dates, so downloads of different filters do not
    /// overwrite each other.
    pub fn download_name(self, report: &Report, filter: &Filter) -> String {
        match self {
            Output::Co2Removal => filter.co2_file_name(report),
            _ => self.file_name().to_string(),
        }
    }

    /// The media type of a download.
    pub fn mime(self) -> &'static str {
        match self {
            Output::Summary => "application/json",
            Output::Sql => "application/sql",
            _ => "text/csv;charset=utf-8",
        }
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Write one output into `w`.
pub fn write_output(
    output: Output,
    run: &Run,
    filter: &Filter,
    w: &mut dyn Write,
) -> io::Result<()> {
    match output {
        Output::LabReadings => write_lab_readings(&run.report, &run.store, w),
        // The whole batch whatever the filter, as `run --sql` writes it:
        // a batch is named by all its inputs and settings.
        Output::Sql => crate::sql::write_sql_script(run, w),
        _ => write_report_output(output, &run.report, filter, w).unwrap_or(Ok(())),
    }
}

/// Where an output's rows go, cell by cell: a CSV line here, a COPY row
/// (`sql.rs`) or a Parquet row (`dataset.rs`). Each table's rows are built
/// once, below, from the typed values, so the formats cannot drift apart
/// and the CSV's own rules (quoting, the spreadsheet `'`) stay in the CSV.
pub(crate) trait Cells {
    /// Text from a user's file.
    fn theirs(&mut self, s: &str) -> &mut Self;
    /// Text we generated (flags, messages, hashes).
    fn ours(&mut self, s: &str) -> &mut Self;
    fn num(&mut self, v: Option<f64>) -> &mut Self;
    fn int(&mut self, v: Option<u64>) -> &mut Self;
    fn date(&mut self, d: Option<NaiveDate>) -> &mut Self;
    fn datetime(&mut self, t: Option<NaiveDateTime>) -> &mut Self;
    /// A reading's time: a day, or a day and time.
    fn when(&mut self, w: When) -> &mut Self;
    fn boolean(&mut self, b: bool) -> &mut Self;
    /// The row is complete.
    fn end(&mut self) -> io::Result<()>;
}

/// The rows of one table output (none for `summary.json` and the psql
/// script, which are not tables), whole batch or filtered as the CSV is.
pub(crate) fn table_rows<C: Cells>(
    output: Output,
    report: &Report,
    store: &ImportStore,
    filter: &Filter,
    out: &mut C,
) -> io::Result<()> {
    match output {
        Output::Co2Removal => co2_rows(report, filter, out),
        Output::LabReadings => lab_rows(report, store, out),
        Output::PlantOperations => ops_rows(report, out),
        Output::QaFindings => finding_rows(report, out),
        Output::Files => file_rows(report, out),
        Output::Sensitivity => sensitivity_rows(report, filter, out),
        Output::Summary | Output::Sql | Output::PeriodReport(_) => Ok(()),
    }
}

/// A CSV file's rows: [`Line`] into a writer.
pub(crate) struct Csv<'w> {
    line: Line,
    w: &'w mut dyn Write,
    when: String,
}

impl<'w> Csv<'w> {
    pub(crate) fn new(w: &'w mut dyn Write, columns: &[&str]) -> io::Result<Csv<'w>> {
        header(w, columns)?;
        Ok(Csv {
            line: Line::new(),
            w,
            when: String::new(),
        })
    }
}

impl Cells for Csv<'_> {
    fn theirs(&mut self, s: &str) -> &mut Self {
        self.line.theirs(s);
        self
    }
    fn ours(&mut self, s: &str) -> &mut Self {
        self.line.ours(s);
        self
    }
    fn num(&mut self, v: Option<f64>) -> &mut Self {
        self.line.num(v);
        self
    }
    fn int(&mut self, v: Option<u64>) -> &mut Self {
        self.line.int(v);
        self
    }
    fn date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        self.line.date(d);
        self
    }
    fn datetime(&mut self, t: Option<NaiveDateTime>) -> &mut Self {
        self.line.datetime(t);
        self
    }
    fn when(&mut self, w: When) -> &mut Self {
        self.when.clear();
        let _ = write!(self.when, "{w}");
        self.line.ours(&self.when);
        self
    }
    fn boolean(&mut self, b: bool) -> &mut Self {
        self.line.ours(if b { "true" } else { "false" });
        self
    }
    fn end(&mut self) -> io::Result<()> {
        self.line.end(self.w)
    }
}

/// Write an output that the report alone gives (every one but
/// `lab_readings.csv` and the SQL script, which list records); `None` for
/// those.
pub fn write_report_output(
    output: Output,
    report: &Report,
    filter: &Filter,
    w: &mut dyn Write,
) -> Option<io::Result<()>> {
    Some(match output {
        Output::Co2Removal => write_co2(report, filter, w),
        Output::LabReadings | Output::Sql => return None,
        Output::PlantOperations => write_plant_operations(report, w),
        Output::QaFindings => write_findings(report, w),
        Output::Files => write_files(report, w),
        Output::Summary => {
            let mut s = summary_json(report, filter);
            s.push('\n');
            w.write_all(s.as_bytes())
        }
        Output::Sensitivity => write_sensitivity(report, filter, w),
        Output::PeriodReport(by) => crate::period::write_period_csv(report, filter, by, w),
    })
}

/// One output as bytes.
pub fn output_bytes(output: Output, run: &Run, filter: &Filter) -> Vec<u8> {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_output(output, run, filter, &mut v);
    v
}

/// One output the report alone gives, as bytes (see
/// [`write_report_output`]).
pub fn report_output_bytes(output: Output, report: &Report, filter: &Filter) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    write_report_output(output, report, filter, &mut v).map(|_| v)
}

/// A CSV line builder: users' text always quoted, ours only when needed.
struct Line {
    buf: String,
    first: bool,
}

impl Line {
    fn new() -> Line {
        Line {
            buf: String::with_capacity(256),
            first: true,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(',');
        }
        self.first = false;
    }

    /// Text we generated (flags, messages, ISO dates): quoted if needed.
    fn ours(&mut self, s: &str) -> &mut Self {
        self.sep();
        push_quoted(&mut self.buf, s);
        self
    }

    /// Text from a user's file: neutralised, then always quoted. Excel in
    /// a `;` locale splits unquoted text at `;` and evaluates what follows
    /// (`WB0038;=2+5;`), so quoting only the fields with commas is not
    /// enough. An empty field stays empty: there is nothing to split, and
    /// it reads as absent like an empty number.
    fn theirs(&mut self, s: &str) -> &mut Self {
        self.sep();
        if s.is_empty() {
            return self;
        }
        self.buf.push('"');
        if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            self.buf.push('\'');
        }
        for ch in s.chars() {
            if ch == '"' {
                self.buf.push('"');
            }
            self.buf.push(ch);
        }
        self.buf.push('"');
        self
    }

    fn num(&mut self, v: Option<f64>) -> &mut Self {
        self.sep();
        if let Some(v) = v {
            let _ = write!(self.buf, "{v}");
        }
        self
    }

    fn int(&mut self, v: Option<u64>) -> &mut Self {
        self.sep();
        if let Some(v) = v {
            let _ = write!(self.buf, "{v}");
        }
        self
    }

    fn date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        self.sep();
        if let Some(d) = d {
            push_date(&mut self.buf, d);
        }
        self
    }

    fn datetime(&mut self, t: Option<NaiveDateTime>) -> &mut Self {
        self.sep();
        if let Some(t) = t {
            push_datetime(&mut self.buf, t);
        }
        self
    }

    fn end(&mut self, w: &mut dyn Write) -> io::Result<()> {
        self.buf.push('\n');
        w.write_all(self.buf.as_bytes())?;
        self.buf.clear();
        self.first = true;
        Ok(())
    }
}

fn push_quoted(buf: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        buf.push('"');
        for ch in s.chars() {
            if ch == '"' {
                buf.push('"');
            }
            buf.push(ch);
        }
        buf.push('"');
    } else {
        buf.push_str(s);
    }
}

fn push_date(buf: &mut String, d: NaiveDate) {
    let _ = write!(buf, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
}

fn push_datetime(buf: &mut String, t: NaiveDateTime) {
    push_date(buf, t.date());
    let _ = write!(buf, "T{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
}

fn header(w: &mut dyn Write, cols: &[&str]) -> io::Result<()> {
    w.write_all(cols.join(",").as_bytes())?;
    w.write_all(b"\n")
}

pub const CO2_COLUMNS: [&str; 29] = [
    "plant_id",
    "date",
    "ca_upstream_mg_per_l",
    "ca_downstream_mg_per_l",
    "ca_delta_mg_per_l",
    "flow_mgd",
    "flow_m3_per_day",
    "flow_l_per_day",
    "ca_to_caco3_ratio",
    "co2_to_caco3_ratio",
    "caco3_mg",
    "co2_mg",
    "co2_removed_metric_tons_per_day",
    "quality_flag",
    "validation_message",
    "calculation_version",
    "ca_upstream_n",
    "ca_downstream_n",
    "ops_source",
    "flow_unit",
    "ca_upstream_sigma_mg_per_l",
    "ca_downstream_sigma_mg_per_l",
    "ca_delta_sigma_mg_per_l",
    "co2_sigma_lab_t",
    "co2_sigma_flow_t",
    "co2_sigma_t",
    "review_status",
    "review_note",
    "inputs_sha256",
];

pub fn write_co2(report: &Report, filter: &Filter, w: &mut dyn Write) -> io::Result<()> {
    co2_rows(report, filter, &mut Csv::new(w, &CO2_COLUMNS)?)
}

fn co2_rows<C: Cells>(report: &Report, filter: &Filter, l: &mut C) -> io::Result<()> {
    for d in report.days(filter) {
        co2_line(l, d, &report.method_version);
        l.end()?;
    }
    Ok(())
}

fn co2_line<C: Cells>(l: &mut C, d: &Co2Day, version: &str) {
    let c = d.calc;
    l.theirs(&d.plant_id)
        .date(Some(d.date))
        .num(d.ca_upstream_mg_per_l)
        .num(d.ca_downstream_mg_per_l)
        .num(c.map(|c| c.ca_delta_mg_per_l))
        .num(d.flow_mgd)
        .num(c.map(|c| c.flow_m3_per_day))
        .num(c.map(|c| c.flow_l_per_day))
        .num(c.map(|c| c.ca_to_caco3_ratio))
        .num(c.map(|c| c.co2_to_caco3_ratio))
        .num(c.map(|c| c.caco3_mg))
        .num(c.map(|c| c.co2_mg))
        .num(c.map(|c| c.co2_removed_metric_tons_per_day))
        .ours(d.quality_flag.as_str())
        .theirs(&d.validation_message)
        .ours(version)
        .int(Some(u64::from(d.ca_upstream_n)))
        .int(Some(u64::from(d.ca_downstream_n)))
        .theirs(d.ops_source.as_deref().unwrap_or(""))
        // Blank without operations (PROFILES.md).
        .ours(if d.ops_source.is_some() {
            d.flow_unit.map_or(FLOW_UNIT, |u| u.as_str())
        } else {
            ""
        })
        .num(d.sigma.ca_upstream_mg_per_l)
        .num(d.sigma.ca_downstream_mg_per_l)
        .num(d.sigma.calc.map(|s| s.ca_delta_mg_per_l))
        .num(d.sigma.calc.map(|s| s.co2_lab_t))
        .num(d.sigma.calc.map(|s| s.co2_flow_t))
        .num(d.sigma.calc.map(|s| s.co2_t))
        .ours(d.review.status.as_str())
        .theirs(&d.review.note)
        .ours(&d.inputs_sha256);
}

/// The unit of flows read without one (`by_content` MGD layouts).
const FLOW_UNIT: &str = "MGD";

pub const LAB_COLUMNS: [&str; 15] = [
    "plant_id",
    "plant_unit_id",
    "location",
    "datetime",
    "parameter_name",
    "medium",
    "value",
    "unit",
    "uncertainty",
    "reading_id",
    "sensor_id",
    "replicate_num",
    "source_file",
    "source_row",
    "metadata",
];

/// The only output that lists records: it reads them from the store and
/// the file names from the report.
pub fn write_lab_readings(
    report: &Report,
    store: &ImportStore,
    w: &mut dyn Write,
) -> io::Result<()> {
    let parts = LabReadingsCsv::new(report, store);
    for i in 0..parts.len() {
        parts.write_part(i, w)?;
    }
    Ok(())
}

/// `lab_readings.csv` in parts that can be formatted independently (on
/// several threads, by an edge that has them) and written in order: the
/// header and the lab rows first, then blocks of [`SENSOR_BLOCK`] sensor
/// readings. The parts concatenated are the file, byte for byte.
pub struct LabReadingsCsv<'a> {
    report: &'a Report,
    store: &'a ImportStore,
    /// Per sensor block: the file (among the active ones) and its rows.
    blocks: Vec<(&'a crate::import::FileImport, std::ops::Range<usize>)>,
}

/// Sensor readings per part of [`LabReadingsCsv`]: about 10 MB of CSV, so
/// a few parts in flight stay small beside the records.
pub const SENSOR_BLOCK: usize = 1 << 16;

impl<'a> LabReadingsCsv<'a> {
    pub fn new(report: &'a Report, store: &'a ImportStore) -> Self {
        let mut blocks = Vec::new();
        for f in store.active_files() {
            let n = f.records.sensor.len();
            let mut start = 0;
            while start < n {
                let end = n.min(start + SENSOR_BLOCK);
                blocks.push((f, start..end));
                start = end;
            }
        }
        LabReadingsCsv {
            report,
            store,
            blocks,
        }
    }

    /// Parts in all: the lab rows' and one per sensor block.
    pub fn len(&self) -> usize {
        1 + self.blocks.len()
    }

    /// Never: the header part is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Part `i`'s bytes into `w`; nothing for an `i` past the end.
    pub fn write_part(&self, i: usize, w: &mut dyn Write) -> io::Result<()> {
        match i.checked_sub(1) {
            None => lab_record_rows(self.report, self.store, &mut Csv::new(w, &LAB_COLUMNS)?),
            Some(b) => match self.blocks.get(b) {
                Some((f, rows)) => sensor_csv_rows(self.report, f, rows.clone(), w),
                None => Ok(()),
            },
        }
    }
}

fn lab_rows<C: Cells>(report: &Report, store: &ImportStore, l: &mut C) -> io::Result<()> {
    // Lab rows then sensor rows, each in input order.
    lab_record_rows(report, store, l)?;
    for (s, r) in store.sensor_readings() {
        l.theirs(&s.plant_id)
            .theirs(&s.plant_unit_id)
            .ours(s.location.as_str())
            .datetime(Some(r.at))
            .theirs(&s.parameter_name)
            .ours("")
            .num(Some(r.value))
            .theirs(&s.unit)
            .num(None)
            .ours("")
            .theirs(&s.sensor_id)
            .int(None)
            .theirs(report.file_name(s.file))
            .int(Some(u64::from(r.row)))
            .theirs(&s.metadata);
        l.end()?;
    }
    Ok(())
}

fn lab_record_rows<C: Cells>(report: &Report, store: &ImportStore, l: &mut C) -> io::Result<()> {
    for r in store.lab_readings() {
        l.theirs(&r.plant_id)
            .theirs(&r.plant_unit_id)
            .ours(r.location.as_str())
            .when(r.when)
            .theirs(&r.parameter_name)
            .theirs(&r.medium)
            .num(Some(r.value))
            .theirs(&r.unit)
            .num(r.uncertainty)
            .theirs(&r.reading_id)
            .ours("")
            .int(r.replicate_num.map(u64::from))
            .theirs(report.file_name(r.file))
            .int(Some(u64::from(r.row)))
            .theirs(&r.metadata);
        l.end()?;
    }
    Ok(())
}

/// A series' cells that every one of its rows repeats, quoted once: the
/// text before the time, between the time and the value, between the
/// value and the row number, and after it. The rows of a minute log
/// differ only in time, value and row, so the metadata JSON (a few dozen
/// quotes to double) is escaped once per series instead of once per row.
struct SeriesCells {
    head: String,
    mid: String,
    tail: String,
    end: String,
}

impl SeriesCells {
    fn new(s: &crate::model::SensorSeries, file_name: &str) -> SeriesCells {
        // The same builder as the generic rows, so quoting cannot differ.
        let mut l = Line::new();
        l.theirs(&s.plant_id)
            .theirs(&s.plant_unit_id)
            .ours(s.location.as_str());
        l.buf.push(',');
        let head = std::mem::take(&mut l.buf);
        l.first = false;
        l.theirs(&s.parameter_name).ours("");
        l.buf.push(',');
        let mid = std::mem::take(&mut l.buf);
        l.theirs(&s.unit)
            .num(None)
            .ours("")
            .theirs(&s.sensor_id)
            .int(None)
            .theirs(file_name);
        l.buf.push(',');
        let tail = std::mem::take(&mut l.buf);
        l.theirs(&s.metadata);
        l.buf.push('\n');
        SeriesCells {
            head,
            mid,
            tail,
            end: l.buf,
        }
    }
}

/// Bytes gathered before they go to the writer.
const OUT_CHUNK: usize = 1 << 16;

/// Formatted sensor values kept per part (direct-mapped by their bits).
const VALUE_CACHE: usize = 1021;

/// Sensor rows `rows` of `f`, as the generic rows would write them.
fn sensor_csv_rows(
    report: &Report,
    f: &crate::import::FileImport,
    rows: std::ops::Range<usize>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let series = &f.records.series;
    let mut cells: Vec<Option<SeriesCells>> = (0..series.len()).map(|_| None).collect();
    let mut buf: Vec<u8> = Vec::with_capacity(OUT_CHUNK + 1024);
    let mut day: Option<(NaiveDate, [u8; 10])> = None;
    // A sensor repeats a few hundred values (pH to two decimals): the text
    // of each is kept by its bits, so most rows skip the float formatting.
    // Every slot starts as 0.0, a value like any other.
    let mut values: Vec<(u64, String)> = vec![(0, "0".to_string()); VALUE_CACHE];
    for r in f.records.sensor.get(rows).unwrap_or(&[]) {
        let (Some(s), Some(slot)) = (
            series.get(r.series as usize),
            cells.get_mut(r.series as usize),
        ) else {
            continue;
        };
        let c = slot.get_or_insert_with(|| SeriesCells::new(s, report.file_name(s.file)));
        buf.extend_from_slice(c.head.as_bytes());
        push_datetime_bytes(&mut buf, r.at, &mut day);
        buf.extend_from_slice(c.mid.as_bytes());
        let bits = r.value.to_bits();
        let slot = (bits ^ (bits >> 29) ^ (bits >> 41)) as usize % VALUE_CACHE;
        if let Some((b, text)) = values.get_mut(slot) {
            if *b != bits {
                text.clear();
                let _ = write!(text, "{}", r.value);
                *b = bits;
            }
            buf.extend_from_slice(text.as_bytes());
        }
        buf.extend_from_slice(c.tail.as_bytes());
        push_u32(&mut buf, r.row);
        buf.extend_from_slice(c.end.as_bytes());
        if buf.len() >= OUT_CHUNK {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)
}

/// `push_datetime`'s text, with the date's ten bytes kept from the row
/// before (a minute log has 1,440 rows a day).
fn push_datetime_bytes(
    buf: &mut Vec<u8>,
    t: NaiveDateTime,
    day: &mut Option<(NaiveDate, [u8; 10])>,
) {
    let d = t.date();
    match day {
        Some((k, text)) if *k == d => buf.extend_from_slice(text),
        _ => {
            let mut s = String::with_capacity(10);
            push_date(&mut s, d);
            match <[u8; 10]>::try_from(s.as_bytes()) {
                Ok(text) => {
                    buf.extend_from_slice(&text);
                    *day = Some((d, text));
                }
                // A year outside 0..=9999 is not ten bytes: written as is,
                // never cached.
                Err(_) => {
                    buf.extend_from_slice(s.as_bytes());
                    *day = None;
                }
            }
        }
    }
    let two = |buf: &mut Vec<u8>, v: u32| {
        buf.push(b'0' + (v / 10 % 10) as u8);
        buf.push(b'0' + (v % 10) as u8);
    };
    buf.push(b'T');
    two(buf, t.hour());
    buf.push(b':');
    two(buf, t.minute());
    buf.push(b':');
    two(buf, t.second());
}

fn push_u32(buf: &mut Vec<u8>, v: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = v;
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.extend_from_slice(digits.get(i..).unwrap_or(&[]));
}

pub const OPS_COLUMNS: [&str; 16] = [
    "plant_id",
    "date",
    "actual_eff_flow_mgd",
    "actual_inf_flow_mgd",
    "max_eff_flow_mgd",
    "min_eff_flow_mgd",
    "bypass_flow_mgd",
    "bypass_hours_per_day",
    "precip_in",
    "source_file",
    "source_row",
    "report_generated_at",
    "provisional",
    "superseded",
    "actual_eff_flow_m3_per_day",
    "flow_unit",
];

pub fn write_plant_operations(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    ops_rows(report, &mut Csv::new(w, &OPS_COLUMNS)?)
}

fn ops_rows<C: Cells>(report: &Report, l: &mut C) -> io::Result<()> {
    for o in &report.plant_operations {
        let superseded = if o.superseded.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&o.superseded).unwrap_or_default()
        };
        l.theirs(&o.plant_id)
            .date(Some(o.date))
            .num(o.actual_eff_flow_mgd)
            .num(o.actual_inf_flow_mgd)
            .num(o.max_eff_flow_mgd)
            .num(o.min_eff_flow_mgd)
            .num(o.bypass_flow_mgd)
            .num(o.bypass_hours_per_day)
            .num(o.precip_in)
            .theirs(&o.source_file)
            .int(Some(u64::from(o.source_row)))
            .datetime(o.report_generated_at)
            .boolean(o.provisional)
            .theirs(&superseded)
            // As read, or §4's conversion: the same value the CO2 chain uses.
            .num(
                o.actual_eff_flow_m3_per_day
                    .or(o.actual_eff_flow_mgd.map(|f| f * M3_PER_MG)),
            )
            .ours(o.flow_unit.map_or(FLOW_UNIT, |u| u.as_str()));
        l.end()?;
    }
    Ok(())
}

pub const SENSITIVITY_COLUMNS: [&str; 7] = [
    "plant_id",
    "input",
    "perturbation",
    "total_t",
    "change_t",
    "change_relative",
    "sensitive",
];

/// `sensitivity.csv` (METHOD §7) for the days under the filter.
pub fn write_sensitivity(report: &Report, filter: &Filter, w: &mut dyn Write) -> io::Result<()> {
    sensitivity_rows(report, filter, &mut Csv::new(w, &SENSITIVITY_COLUMNS)?)
}

fn sensitivity_rows<C: Cells>(report: &Report, filter: &Filter, l: &mut C) -> io::Result<()> {
    for r in sensitivity::table(report, filter) {
        l.theirs(&r.plant_id)
            .ours(r.input.as_str())
            .ours(&r.perturbation)
            .num(Some(r.total_t))
            .num(Some(r.change_t))
            .num(r.change_relative)
            .boolean(r.sensitive);
        l.end()?;
    }
    Ok(())
}

pub const FINDING_COLUMNS: [&str; 10] = [
    "level",
    "check",
    "severity",
    "plant_id",
    "date",
    "source_file",
    "source_row",
    "column",
    "message",
    "sheet",
];

pub fn write_findings(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    finding_rows(report, &mut Csv::new(w, &FINDING_COLUMNS)?)
}

fn finding_rows<C: Cells>(report: &Report, l: &mut C) -> io::Result<()> {
    for f in &report.findings {
        finding_line(l, f);
        l.end()?;
    }
    Ok(())
}

fn finding_line<C: Cells>(l: &mut C, f: &Finding) {
    l.int(Some(u64::from(f.level)))
        .ours(f.check.as_str())
        .ours(f.severity.as_str())
        .theirs(f.plant_id.as_deref().unwrap_or(""))
        .date(f.date)
        .theirs(f.source_file.as_deref().unwrap_or(""))
        .int(f.at.row.map(u64::from))
        .ours(&f.at.col.map(col_letters).unwrap_or_default())
        .theirs(&f.message)
        .theirs(f.at.sheet.as_deref().unwrap_or(""));
}

pub const FILE_COLUMNS: [&str; 16] = [
    "name",
    "kind",
    "plant_id",
    "period_start",
    "period_end",
    "sha256",
    "bytes",
    "lines",
    "lines_in_fields",
    "rows_in",
    "records",
    "skipped",
    "skipped_by_reason",
    "status",
    "message",
    "profile",
];

pub fn write_files(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    file_rows(report, &mut Csv::new(w, &FILE_COLUMNS)?)
}

fn file_rows<C: Cells>(report: &Report, l: &mut C) -> io::Result<()> {
    for f in &report.files {
        let account = f.account_in_run();
        let (status, message) = match (&f.duplicate_of, &f.error) {
            (Some(orig), _) => (
                "duplicate",
                crate::error::FileError::new(crate::error::FileErrorKind::Duplicate {
                    of: orig.to_string(),
                })
                .to_string(),
            ),
            (None, Some(e)) => (e.code(), e.to_string()),
            (None, None) => ("ok", String::new()),
        };
        l.theirs(&f.name)
            .ours(f.kind.map(|k| k.as_str()).unwrap_or(""))
            .theirs(f.plant_id.as_deref().unwrap_or(""))
            .date(f.period.map(|p| p.0))
            .date(f.period.map(|p| p.1))
            .ours(&f.sha256)
            .int(Some(f.bytes))
            .int(Some(account.lines))
            .int(Some(account.lines_in_fields))
            .int(Some(account.rows_in))
            .int(Some(account.records))
            .int(Some(account.skipped_total()))
            .ours(&account.reasons_line())
            .ours(status)
            .theirs(&message)
            .theirs(f.profile.as_deref().unwrap_or(""));
        l.end()?;
    }
    Ok(())
}

/// `provenance.csv`'s columns: one row per plant-day and input row used.
pub const PROVENANCE_COLUMNS: [&str; 10] = [
    "plant_id",
    "date",
    "role",
    "source_file",
    "sheet",
    "source_row",
    "column",
    "value",
    "unique_id",
    "uncertainty",
];

/// The file `provenance.csv` is written to; not one of [`Output::ALL`]
/// because, like `lab_readings.csv`, it reads records the page does not
/// hold.
pub const PROVENANCE_FILE: &str = "provenance.csv";

/// `provenance.csv` for the days under the filter (see
/// [`crate::provenance`]).
pub fn write_provenance(run: &Run, filter: &Filter, w: &mut dyn Write) -> io::Result<()> {
    let mut l = Csv::new(w, &PROVENANCE_COLUMNS)?;
    for i in crate::provenance::inputs(run, filter) {
        l.theirs(&i.plant_id)
            .date(Some(i.date))
            .ours(i.role.as_str())
            .theirs(&i.file)
            .theirs(i.sheet.as_deref().unwrap_or(""))
            .int(Some(u64::from(i.row)))
            .ours(&i.column)
            .num(i.value)
            .theirs(i.unique_id.as_deref().unwrap_or(""))
            .num(i.uncertainty);
        l.end()?;
    }
    Ok(())
}

fn kpi_json(k: &Kpis) -> Value {
    let reviews: Map<String, Value> = k
        .days_by_review
        .iter()
        .map(|(r, n)| (r.as_str().to_string(), json!(n)))
        .collect();
    let flags: Map<String, Value> = k
        .days_by_flag
        .iter()
        .map(|(f, n)| (f.as_str().to_string(), json!(n)))
        .collect();
    json!({
        "days": k.days,
        "days_by_flag": flags,
        "valid_days": k.valid_days,
        "co2_removed_t": k.co2_removed_t,
        "co2_removed_mean_t_per_day": k.co2_removed_mean_t_per_day,
        "ca_delta_mean_mg_per_l": k.ca_delta_mean_mg_per_l,
        "certified_days": k.certified_days,
        "co2_certified_t": k.co2_certified_t,
        "days_by_review": reviews,
        "first_date": k.first_date.map(|d| d.to_string()),
        "last_date": k.last_date.map(|d| d.to_string()),
    })
}

fn period_json(u: &PeriodUncertainty) -> Value {
    json!({
        "total_t": u.total_t,
        "sigma_lab_t": u.sigma_lab_t,
        "sigma_flow_t": u.sigma_flow_t,
        "sigma_t": u.sigma_t,
        "relative_uncertainty": u.relative_uncertainty,
        "confidence": u.confidence.as_str(),
        "z": u.z,
        "conservative_t": u.conservative_t,
        "uncertainty_discount_t": u.uncertainty_discount_t,
    })
}

/// `summary.json`: method version, settings, inputs, key figures per plant
/// and for all plants (under the filter), METHOD §7's uncertainty, and QA
/// counts.
pub fn summary_json(report: &Report, filter: &Filter) -> String {
    let days: Vec<&Co2Day> = report.days(filter).collect();
    let mut plants = Map::new();
    for p in report.plants() {
        let k = Kpis::of(days.iter().copied().filter(|d| d.plant_id == p));
        if k.days > 0 {
            plants.insert(p.to_string(), kpi_json(&k));
        }
    }
    let inputs: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            let a = f.account_in_run();
            json!({
                "name": &*f.name,
                "kind": f.kind.map(|k| k.as_str()),
                "sha256": f.sha256,
                "plant_id": f.plant_id.as_deref(),
                "period_start": f.period.map(|p| p.0.to_string()),
                "period_end": f.period.map(|p| p.1.to_string()),
                "lines": a.lines,
                "lines_in_fields": a.lines_in_fields,
                "rows_in": a.rows_in,
                "records": a.records,
                "skipped": a.skipped_total(),
                "status": match (&f.duplicate_of, &f.error) {
                    (Some(_), _) => "duplicate",
                    (None, Some(e)) => e.code(),
                    (None, None) => "ok",
                },
            })
        })
        .collect();
    let mut qa = Map::new();
    for (sev, n) in report.findings_by_severity() {
        qa.insert(sev.as_str().to_string(), json!(n));
    }
    let filter_json = json!({
        "plant": filter.plant,
        "from": filter.from.map(|d| d.to_string()),
        "to": filter.to.map(|d| d.to_string()),
        "flags": filter.flags.as_ref().map(|s| s.iter().map(|f| f.as_str()).collect::<Vec<_>>()),
        "certified": report.certified_only,
    });
    let period = uncertainty::period(report, filter);
    let mut unc = Map::new();
    for (p, u) in &period.plants {
        unc.insert(p.to_string(), period_json(u));
    }
    unc.insert("all".to_string(), period_json(&period.all));
    let settings = &report.uncertainty;
    let meters: Map<String, Value> = settings
        .meter_uncertainty_percent
        .iter()
        .map(|(p, pct)| (p.to_string(), json!(pct)))
        .collect();
    let v = json!({
        "method_version": &report.method_version,
        "replicate_policy": report.replicate_policy.as_str(),
        "ambiguous_dates": report.ambiguous_dates.as_str(),
        "confidence": settings.confidence.as_str(),
        "lab_default_relative": settings.lab_default_relative,
        "meter_uncertainty_percent": meters,
        "uncertainty": unc,
        "filter": filter_json,
        "all_plants": kpi_json(&Kpis::of(days.iter().copied())),
        "plants": plants,
        "qa_findings": qa,
        "inputs": inputs,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(f: impl FnOnce(&mut Line)) -> String {
        let mut l = Line::new();
        f(&mut l);
        l.buf
    }

    #[test]
    fn user_text_is_neutralised_but_numbers_stay_numbers() {
        assert_eq!(
            line(|l| {
                l.theirs("=HYPERLINK(\"x\")");
            }),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(
            line(|l| {
                l.theirs("WB0038;=2+5;");
            }),
            "\"WB0038;=2+5;\""
        );
        assert_eq!(
            line(|l| {
                l.theirs("").num(Some(1.0));
            }),
            ",1"
        );
        assert_eq!(
            line(|l| {
                l.theirs("+1");
            }),
            "\"'+1\""
        );
        assert_eq!(
            line(|l| {
                l.theirs("@SUM");
            }),
            "\"'@SUM\""
        );
        assert_eq!(
            line(|l| {
                l.theirs("\tx");
            }),
            "\"'\tx\""
        );
        assert_eq!(
            line(|l| {
                l.theirs("-cmd");
            }),
            "\"'-cmd\""
        );
        assert_eq!(
            line(|l| {
                l.num(Some(-1.5));
            }),
            "-1.5"
        );
        assert_eq!(
            line(|l| {
                l.theirs("PLANT_A");
            }),
            "\"PLANT_A\""
        );
    }

    #[test]
    fn floats_are_shortest_round_trip() {
        assert_eq!(
            line(|l| {
                l.num(Some(29.199999999999996));
            }),
            "29.199999999999996"
        );
        assert_eq!(
            line(|l| {
                l.num(Some(31.0));
            }),
            "31"
        );
        assert_eq!(
            line(|l| {
                l.num(None).num(Some(0.1));
            }),
            ",0.1"
        );
        let v = 1.802_696_9e-3;
        let s = line(|l| {
            l.num(Some(v));
        });
        assert_eq!(s.parse::<f64>().ok(), Some(v));
    }

    /// The sensor rows are written from per-series text quoted once; the
    /// generic row builder (which the SQL and Parquet rows still use) is
    /// the reference. Series interleave, cells need quoting and the
    /// spreadsheet prefix, a value has many digits, the rows cross a part
    /// boundary, and a repeated file is left out.
    #[test]
    fn sensor_rows_are_the_generic_rows_byte_for_byte() {
        let mut log = String::from(
            "Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id,Process value,Location,Status\n",
        );
        let rows = SENSOR_BLOCK + 1234;
        for i in 0..rows {
            let (sensor, plant, note) = match i % 3 {
                0 => ("WB0038", "PLANT_A", "Effluent \"channel\", 2"),
                1 => ("=WB0041", "PLANT_B", "-minus;semi"),
                _ => ("WB0052", "PLANT_A", "plain"),
            };
            let day = 1 + (i / 1440) % 28;
            let (h, m) = ((i / 60) % 24, i % 60);
            // More distinct values than the cache has slots, and both zeros.
            let value = match i % 1000 {
                1 => 0.0,
                2 => -0.0,
                _ => 6.5 + (i % 3001) as f64 / 7.0,
            };
            log.push_str(&format!(
                "2025-04-{day:02} {h:02}:{m:02}:00,{value},pH,{sensor},secondary_clarifier,{plant},pH,\"{note}\",Good\n"
            ));
        }
        let run = crate::run(
            &[
                crate::Source::new("WB0038_PH_\"x\".csv", log.as_bytes()),
                crate::Source::new("WB0038_PH_copy.csv", log.as_bytes()),
            ],
            &crate::Config::default(),
        );
        assert_eq!(run.store.sensor_readings().count(), rows);
        let mut generic = Vec::new();
        lab_rows(
            &run.report,
            &run.store,
            &mut Csv::new(&mut generic, &LAB_COLUMNS).expect("header"),
        )
        .expect("rows");
        let fast = output_bytes(Output::LabReadings, &run, &Filter::default());
        assert!(generic.len() > rows * 100);
        assert!(
            fast == generic,
            "the sensor rows differ from the generic rows"
        );
        let parts = LabReadingsCsv::new(&run.report, &run.store);
        assert_eq!(parts.len(), 3);
        let mut joined = Vec::new();
        for i in 0..parts.len() + 1 {
            parts.write_part(i, &mut joined).expect("part");
        }
        assert!(joined == fast);
    }

    #[test]
    fn datetimes_and_row_numbers_are_formatted_as_the_generic_writer_does() {
        let mut day = None;
        for (y, mo, d, h, mi, s) in [
            (2025, 4, 1, 0, 0, 0),
            (2025, 4, 1, 23, 59, 59),
            (2025, 4, 2, 9, 5, 7),
            (12, 1, 2, 3, 4, 5),
            (-44, 3, 15, 12, 0, 0),
            (10_000, 12, 31, 1, 2, 3),
        ] {
            let t = NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_opt(h, mi, s))
                .expect("time");
            let mut want = String::new();
            push_datetime(&mut want, t);
            let mut got = Vec::new();
            push_datetime_bytes(&mut got, t, &mut day);
            assert_eq!(String::from_utf8_lossy(&got), want);
            // Twice: the second from the kept date.
            got.clear();
            push_datetime_bytes(&mut got, t, &mut day);
            assert_eq!(String::from_utf8_lossy(&got), want);
        }
        for v in [0, 7, 10, 99, 100, 65_536, 4_294_967_295] {
            let mut got = Vec::new();
            push_u32(&mut got, v);
            assert_eq!(String::from_utf8_lossy(&got), v.to_string());
        }
    }

    /// The browser downloads the script through `output_bytes`, the CLI
    /// writes it with `sql::write_sql_script`: the two must be one text,
    /// and the filter must not cut a batch that is named by all its inputs.
    #[test]
    fn the_sql_output_is_the_clis_script_whatever_the_filter() {
        let lab = "unique_id,date,plant_id,unit_type_id,parameter_name,units,value\n\
                   U1,2025-04-01,P,primary_clarifier,calcium,mg/L,39.8\n\
                   D1,2025-04-01,P,secondary_clarifier,calcium,mg/L,53.7\n";
        let run = crate::run(
            &[crate::Source::new("lab.csv", lab.as_bytes())],
            &crate::Config::default(),
        );
        let script = crate::sql::sql_script(&run);
        assert!(!script.is_empty());
        assert_eq!(output_bytes(Output::Sql, &run, &Filter::default()), script);
        let narrow = Filter {
            plant: Some("OTHER".into()),
            ..Filter::default()
        };
        assert_eq!(output_bytes(Output::Sql, &run, &narrow), script);
        assert_eq!(report_output_bytes(Output::Sql, &run.report, &narrow), None);
        assert!(!Output::ALL.contains(&Output::Sql));
        assert_eq!(Output::Sql.file_name(), "crew_mrv_batch.sql");
    }
}
