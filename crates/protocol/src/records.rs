//! One imported file as one byte buffer, for the trip from a pool worker
//! to the worker that assembles (the browser's parallel import).
//!
//! A structured clone of millions of records would cost a JavaScript
//! object per value on both sides, and JSON a string per value; this
//! buffer is moved (postMessage's transfer list), not copied, and decoded
//! in one pass. Texts go into a table once each and come back shared, as
//! the importer interned them, so a year of lab rows keeps one copy of
//! `PLANT_A`. Every f64 travels as its bits: the assembled run is the one
//! a single worker computes, byte for byte.
//!
//! Everything is binary, one fixed layout per record: no serde, so the
//! worker's wasm carries no deserializer for these types (JSON would have
//! added about 100 KB gzipped). What the layout cannot express (a file
//! error, review decisions, a profile: rare, small files) is not encoded:
//! [`encode`] says `None` and the assembling worker reads that file itself.
//!
//! Decoding never trusts the buffer: a short, corrupt or hostile one is an
//! `Err`, never a panic or an allocation larger than the buffer.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crew_mrv_core::import::{FileImport, RecordRange, SkipRange, SkipReason};
use crew_mrv_core::model::{
    CellRef, LabReading, Location, OpsRow, SensorReading, SensorSeries, Severity, Text, When,
};
use crew_mrv_core::profile::Unit;
use crew_mrv_core::qa::ALL_CHECKS;
use crew_mrv_core::{FileKind, FileSummary, Finding, Records, RowAccount, TextEncoding};

/// Names the layout, so a page and a worker of different builds (a stale
/// cache) refuse each other's buffers instead of misreading them.
const MAGIC: &[u8; 8] = b"CMRVREC2";

/// A sensor reading's bytes: series, day, second of the day, nanosecond,
/// value (its bits), row.
const SENSOR_BYTES: usize = 28;

const KINDS: [FileKind; 7] = [
    FileKind::CalciumLab,
    FileKind::PhSensor,
    FileKind::PlantAOps,
    FileKind::PlantBReport,
    FileKind::ExpertReviews,
    FileKind::PlantProfile,
    FileKind::PlantOps,
];

const ENCODINGS: [TextEncoding; 5] = [
    TextEncoding::Utf8,
    TextEncoding::Utf8Bom,
    TextEncoding::Utf16Le,
    TextEncoding::Utf16Be,
    TextEncoding::Windows1252,
];

const REASONS: [SkipReason; 21] = [
    SkipReason::Preamble,
    SkipReason::Header,
    SkipReason::Blank,
    SkipReason::Summary,
    SkipReason::Footnote,
    SkipReason::TagRow,
    SkipReason::MissingValue,
    SkipReason::UnparseableValue,
    SkipReason::UnparseableDate,
    SkipReason::UnknownUnit,
    SkipReason::MissingKey,
    SkipReason::TooManyFields,
    SkipReason::FieldTooLarge,
    SkipReason::TooManySeries,
    SkipReason::Unrecognised,
    SkipReason::NoDate,
    SkipReason::ImplausibleDate,
    SkipReason::UnusedSheet,
    SkipReason::DuplicateFile,
    SkipReason::FileRejected,
    SkipReason::Various,
];

/// The place of `v` in `all`, as a byte; `None` for a value the list
/// lacks (a variant added to the core later), so that file is not encoded.
fn code<T: PartialEq>(all: &[T], v: &T) -> Option<u8> {
    all.iter()
        .position(|x| x == v)
        .and_then(|i| u8::try_from(i).ok())
}

/// The buffer for one imported file; `None` for a file this layout does
/// not carry (one with an error, review decisions or a profile), which the
/// assembling worker then reads itself.
pub fn encode(f: &FileImport) -> Option<Vec<u8>> {
    let r = &f.records;
    if f.error.is_some() || !r.reviews.is_empty() || !r.profiles.is_empty() {
        return None;
    }
    let mut w = Writer {
        out: Vec::with_capacity(64 + r.lab.len() * 80 + r.sensor.len() * 28 + r.ops.len() * 96),
        texts: HashMap::new(),
        table: Vec::new(),
    };
    w.out.extend_from_slice(MAGIC);

    // Everything but the table into a body first, so the text table it
    // fills can be written ahead of it and decoding needs one pass.
    let mut body = Writer {
        out: Vec::with_capacity(w.out.capacity()),
        texts: HashMap::new(),
        table: Vec::new(),
    };
    body.summary(&f.file)?;
    let checks: Vec<_> = ALL_CHECKS.iter().map(|c| c.id).collect();
    body.u32(len32(f.findings.len()));
    for x in &f.findings {
        body.u8(x.level);
        body.u8(code(&checks, &x.check)?);
        body.u8(code(&Severity::ALL, &x.severity)?);
        body.opt_text(x.plant_id.as_ref());
        body.opt_date(x.date);
        body.opt_text(x.source_file.as_ref());
        body.cell(&x.at);
        body.bytes(x.message.as_bytes());
    }
    body.u32(len32(r.lab.len()));
    for l in &r.lab {
        body.text(&l.plant_id);
        body.text(&l.plant_unit_id);
        body.u8(location_code(l.location));
        match l.when {
            When::Day(d) => {
                body.u8(0);
                body.date(d);
            }
            When::At(t) => {
                body.u8(1);
                body.datetime(t);
            }
        }
        body.text(&l.parameter_name);
        body.text(&l.medium);
        body.f64(l.value);
        body.text(&l.unit);
        body.opt_f64(l.uncertainty);
        body.text(&l.reading_id);
        body.opt_u32(l.replicate_num);
        body.u32(l.file);
        body.u32(l.row);
        body.text(&l.metadata);
        body.opt_u32(l.value_col);
    }
    body.u32(len32(r.series.len()));
    for s in &r.series {
        body.text(&s.plant_id);
        body.text(&s.plant_unit_id);
        body.u8(location_code(s.location));
        body.text(&s.sensor_id);
        body.text(&s.parameter_name);
        body.text(&s.unit);
        body.u32(s.file);
        body.text(&s.metadata);
    }
    body.u32(len32(r.sensor.len()));
    // Most of a large log's buffer: each reading is written whole, and a
    // day's number is worked out once per day (readings come in time order).
    body.out.reserve(r.sensor.len() * SENSOR_BYTES);
    let mut day = None;
    for s in &r.sensor {
        let date = s.at.date();
        let days = match day {
            Some((d, n)) if d == date => n,
            _ => {
                let n = date.num_days_from_ce();
                day = Some((date, n));
                n
            }
        };
        let mut rec = [0u8; SENSOR_BYTES];
        rec[0..4].copy_from_slice(&s.series.to_le_bytes());
        rec[4..8].copy_from_slice(&days.to_le_bytes());
        rec[8..12].copy_from_slice(&s.at.num_seconds_from_midnight().to_le_bytes());
        rec[12..16].copy_from_slice(&s.at.nanosecond().to_le_bytes());
        rec[16..24].copy_from_slice(&s.value.to_bits().to_le_bytes());
        rec[24..28].copy_from_slice(&s.row.to_le_bytes());
        body.out.extend_from_slice(&rec);
    }
    body.u32(len32(r.ops.len()));
    for o in &r.ops {
        body.text(&o.plant_id);
        body.date(o.date);
        body.opt_f64(o.actual_eff_flow_mgd);
        body.opt_f64(o.actual_inf_flow_mgd);
        body.u8(u8::from(o.has_influent_column));
        body.opt_f64(o.max_eff_flow_mgd);
        body.opt_f64(o.min_eff_flow_mgd);
        body.opt_f64(o.bypass_flow_mgd);
        body.opt_f64(o.bypass_hours_per_day);
        body.opt_f64(o.precip_in);
        body.u32(o.file);
        body.text(&o.sheet);
        body.u32(o.row);
        body.opt_u32(o.eff_flow_col);
        body.u8(o.flow_unit.map_or(0, unit_code));
        body.opt_f64(o.actual_eff_flow_m3_per_day);
    }

    w.u32(len32(body.table.len()));
    for t in &body.table {
        w.bytes(t.as_bytes());
    }
    w.out.extend_from_slice(&body.out);
    Some(w.out)
}

/// The file back from its buffer; `Err` says why the buffer is not one.
pub fn decode(buf: &[u8]) -> Result<FileImport, String> {
    let mut r = Reader { buf, at: 0 };
    if r.take(MAGIC.len())? != MAGIC {
        return Err("not an imported file's buffer (or one from another build)".into());
    }
    let n = r.count(4)?;
    let mut table: Vec<Text> = Vec::with_capacity(n);
    for _ in 0..n {
        let s = std::str::from_utf8(r.bytes()?).map_err(|e| e.to_string())?;
        table.push(Text::from(s));
    }
    let text = |r: &mut Reader| -> Result<Text, String> {
        let i = r.u32()? as usize;
        table
            .get(i)
            .cloned()
            .ok_or_else(|| format!("text {i} is not in the table"))
    };
    let opt_text = |r: &mut Reader| -> Result<Option<Text>, String> {
        match r.u8()? {
            0 => Ok(None),
            1 => Ok(Some(text(r)?)),
            k => Err(format!("no option tag {k}")),
        }
    };
    let cell = |r: &mut Reader| -> Result<CellRef, String> {
        Ok(CellRef {
            sheet: opt_text(r)?,
            row: r.opt_u32()?,
            col: r.opt_u32()?,
        })
    };
    let ranges = |r: &mut Reader| -> Result<Vec<Range>, String> {
        let n = r.count(10)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push((opt_text(r)?, r.u32()?, r.u32()?, r.u8()?));
        }
        Ok(v)
    };

    let name = text(&mut r)?;
    let sha256 = r.string()?;
    let bytes = r.u64()?;
    let kind = match r.u8()? {
        0 => None,
        k => Some(pick(&KINDS, k - 1, "file kind")?),
    };
    let plant_id = opt_text(&mut r)?;
    let period = match r.u8()? {
        0 => None,
        _ => Some((r.date()?, r.date()?)),
    };
    let generated_at = match r.u8()? {
        0 => None,
        _ => Some(r.datetime()?),
    };
    let encoding = match r.u8()? {
        0 => None,
        k => Some(pick(&ENCODINGS, k - 1, "encoding")?),
    };
    let n = r.count(4)?;
    let mut sheets = Vec::with_capacity(n);
    for _ in 0..n {
        sheets.push(text(&mut r)?);
    }
    let (lines, lines_in_fields, rows_in, records) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
    let skipped = ranges(&mut r)?
        .into_iter()
        .map(|(sheet, first_row, last_row, reason)| {
            Ok(SkipRange {
                sheet,
                first_row,
                last_row,
                reason: pick(&REASONS, reason, "skip reason")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let record_rows = ranges(&mut r)?
        .into_iter()
        .map(|(sheet, first_row, last_row, _)| RecordRange {
            sheet,
            first_row,
            last_row,
        })
        .collect();
    let duplicate_of = opt_text(&mut r)?;
    let profile = opt_text(&mut r)?;
    let file = FileSummary {
        name,
        sha256,
        bytes,
        kind,
        plant_id,
        period,
        generated_at,
        encoding,
        sheets,
        account: RowAccount {
            lines,
            lines_in_fields,
            rows_in,
            records,
            skipped,
            record_rows,
        },
        error: None,
        duplicate_of,
        profile,
    };
    let checks: Vec<_> = ALL_CHECKS.iter().map(|c| c.id).collect();
    let n = r.count(13)?;
    let mut findings = Vec::with_capacity(n);
    for _ in 0..n {
        findings.push(Finding {
            level: r.u8()?,
            check: pick(&checks, r.u8()?, "check")?,
            severity: pick(&Severity::ALL, r.u8()?, "severity")?,
            plant_id: opt_text(&mut r)?,
            date: match r.u8()? {
                0 => None,
                _ => Some(r.date()?),
            },
            source_file: opt_text(&mut r)?,
            at: cell(&mut r)?,
            message: r.string()?,
        });
    }

    // Each count is checked against the bytes left at the record's
    // smallest size, so a forged count cannot reserve more than the buffer.
    let n = r.count(45)?;
    let mut lab = Vec::with_capacity(n);
    for _ in 0..n {
        lab.push(LabReading {
            plant_id: text(&mut r)?,
            plant_unit_id: text(&mut r)?,
            location: location(r.u8()?)?,
            when: match r.u8()? {
                0 => When::Day(r.date()?),
                1 => When::At(r.datetime()?),
                k => return Err(format!("no time kind {k}")),
            },
            parameter_name: text(&mut r)?,
            medium: text(&mut r)?,
            value: r.f64()?,
            unit: text(&mut r)?,
            uncertainty: r.opt_f64()?,
            reading_id: text(&mut r)?,
            replicate_num: r.opt_u32()?,
            file: r.u32()?,
            row: r.u32()?,
            metadata: text(&mut r)?,
            value_col: r.opt_u32()?,
        });
    }
    let n = r.count(29)?;
    let mut series = Vec::with_capacity(n);
    for _ in 0..n {
        series.push(SensorSeries {
            plant_id: text(&mut r)?,
            plant_unit_id: text(&mut r)?,
            location: location(r.u8()?)?,
            sensor_id: text(&mut r)?,
            parameter_name: text(&mut r)?,
            unit: text(&mut r)?,
            file: r.u32()?,
            metadata: text(&mut r)?,
        });
    }
    let n = r.count(SENSOR_BYTES)?;
    let all = r.take(n * SENSOR_BYTES)?;
    let mut sensor = Vec::with_capacity(n);
    let mut day: Option<(i32, NaiveDate)> = None;
    for rec in all.as_chunks::<SENSOR_BYTES>().0 {
        let u32_at = |i: usize| u32::from_le_bytes([rec[i], rec[i + 1], rec[i + 2], rec[i + 3]]);
        let days = u32_at(4) as i32;
        let date = match day {
            Some((d, date)) if d == days => date,
            _ => {
                let date = NaiveDate::from_num_days_from_ce_opt(days)
                    .ok_or_else(|| format!("no day {days}"))?;
                day = Some((days, date));
                date
            }
        };
        let (secs, nanos) = (u32_at(8), u32_at(12));
        let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
            .ok_or_else(|| format!("no time {secs} s {nanos} ns"))?;
        let [.., v0, v1, v2, v3, v4, v5, v6, v7, _, _, _, _] = *rec;
        sensor.push(SensorReading {
            series: u32_at(0),
            at: date.and_time(time),
            value: f64::from_bits(u64::from_le_bytes([v0, v1, v2, v3, v4, v5, v6, v7])),
            row: u32_at(24),
        });
    }
    let n = r.count(31)?;
    let mut ops = Vec::with_capacity(n);
    for _ in 0..n {
        ops.push(OpsRow {
            plant_id: text(&mut r)?,
            date: r.date()?,
            actual_eff_flow_mgd: r.opt_f64()?,
            actual_inf_flow_mgd: r.opt_f64()?,
            has_influent_column: r.u8()? != 0,
            max_eff_flow_mgd: r.opt_f64()?,
            min_eff_flow_mgd: r.opt_f64()?,
            bypass_flow_mgd: r.opt_f64()?,
            bypass_hours_per_day: r.opt_f64()?,
            precip_in: r.opt_f64()?,
            file: r.u32()?,
            sheet: text(&mut r)?,
            row: r.u32()?,
            eff_flow_col: r.opt_u32()?,
            flow_unit: unit(r.u8()?)?,
            actual_eff_flow_m3_per_day: r.opt_f64()?,
        });
    }
    if r.at != buf.len() {
        return Err(format!("{} bytes after the records", buf.len() - r.at));
    }
    Ok(FileImport {
        file,
        records: Records {
            lab,
            series,
            sensor,
            ops,
            reviews: Vec::new(),
            profiles: Vec::new(),
        },
        findings,
    })
}

/// A row range as stored: sheet, first row, last row, skip reason code.
type Range = (Option<Text>, u32, u32, u8);

fn pick<T: Copy>(all: &[T], code: u8, what: &str) -> Result<T, String> {
    all.get(usize::from(code))
        .copied()
        .ok_or_else(|| format!("no {what} {code}"))
}

/// A count as the format stores it. No file holds 4 G records of a kind
/// (the size limit is far below), so saturating is never reached.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn location_code(l: Location) -> u8 {
    match l {
        Location::Upstream => 0,
        Location::Downstream => 1,
        Location::Other => 2,
    }
}

fn location(code: u8) -> Result<Location, String> {
    match code {
        0 => Ok(Location::Upstream),
        1 => Ok(Location::Downstream),
        2 => Ok(Location::Other),
        k => Err(format!("no location {k}")),
    }
}

fn unit_code(u: Unit) -> u8 {
    match u {
        Unit::Mgd => 1,
        Unit::M3PerDay => 2,
        Unit::MlPerDay => 3,
        Unit::Inch => 4,
        Unit::Mm => 5,
        Unit::Hours => 6,
    }
}

fn unit(code: u8) -> Result<Option<Unit>, String> {
    Ok(Some(match code {
        0 => return Ok(None),
        1 => Unit::Mgd,
        2 => Unit::M3PerDay,
        3 => Unit::MlPerDay,
        4 => Unit::Inch,
        5 => Unit::Mm,
        6 => Unit::Hours,
        k => return Err(format!("no unit {k}")),
    }))
}

struct Writer<'a> {
    out: Vec<u8>,
    /// Texts by content: equal texts from different allocations share an
    /// entry too.
    texts: HashMap<&'a str, u32>,
    table: Vec<&'a str>,
}

impl<'a> Writer<'a> {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.f64(v);
            }
            None => self.u8(0),
        }
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.u32(v);
            }
            None => self.u8(0),
        }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(len32(b.len()));
        self.out.extend_from_slice(b);
    }
    fn text(&mut self, t: &'a Text) {
        let next = len32(self.table.len());
        let i = *self.texts.entry(t).or_insert(next);
        if i == next {
            self.table.push(t);
        }
        self.u32(i);
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn opt_text(&mut self, t: Option<&'a Text>) {
        match t {
            Some(t) => {
                self.u8(1);
                self.text(t);
            }
            None => self.u8(0),
        }
    }
    fn opt_date(&mut self, d: Option<NaiveDate>) {
        match d {
            Some(d) => {
                self.u8(1);
                self.date(d);
            }
            None => self.u8(0),
        }
    }
    fn cell(&mut self, c: &'a CellRef) {
        self.opt_text(c.sheet.as_ref());
        self.opt_u32(c.row);
        self.opt_u32(c.col);
    }
    fn range(&mut self, sheet: Option<&'a Text>, first: u32, last: u32, reason: u8) {
        self.opt_text(sheet);
        self.u32(first);
        self.u32(last);
        self.u8(reason);
    }
    /// The file's summary; `None` when a value has no code here.
    fn summary(&mut self, f: &'a FileSummary) -> Option<()> {
        self.text(&f.name);
        self.bytes(f.sha256.as_bytes());
        self.u64(f.bytes);
        match f.kind {
            Some(k) => self.u8(code(&KINDS, &k)? + 1),
            None => self.u8(0),
        }
        self.opt_text(f.plant_id.as_ref());
        match f.period {
            Some((a, b)) => {
                self.u8(1);
                self.date(a);
                self.date(b);
            }
            None => self.u8(0),
        }
        match f.generated_at {
            Some(t) => {
                self.u8(1);
                self.datetime(t);
            }
            None => self.u8(0),
        }
        match f.encoding {
            Some(e) => self.u8(code(&ENCODINGS, &e)? + 1),
            None => self.u8(0),
        }
        self.u32(len32(f.sheets.len()));
        for s in &f.sheets {
            self.text(s);
        }
        let a = &f.account;
        self.u64(a.lines);
        self.u64(a.lines_in_fields);
        self.u64(a.rows_in);
        self.u64(a.records);
        self.u32(len32(a.skipped.len()));
        for s in &a.skipped {
            self.range(
                s.sheet.as_ref(),
                s.first_row,
                s.last_row,
                code(&REASONS, &s.reason)?,
            );
        }
        self.u32(len32(a.record_rows.len()));
        for s in &a.record_rows {
            self.range(s.sheet.as_ref(), s.first_row, s.last_row, 0);
        }
        self.opt_text(f.duplicate_of.as_ref());
        self.opt_text(f.profile.as_ref());
        Some(())
    }
    fn date(&mut self, d: NaiveDate) {
        self.i32(d.num_days_from_ce());
    }
    fn datetime(&mut self, t: NaiveDateTime) {
        self.date(t.date());
        self.u32(t.num_seconds_from_midnight());
        self.u32(t.nanosecond());
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("the buffer ends at byte {}", self.buf.len()))?;
        let s = self.buf.get(self.at..end).unwrap_or_default();
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(u64::from_le_bytes(self.array()?)))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn string(&mut self) -> Result<String, String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
    }
    fn opt_f64(&mut self) -> Result<Option<f64>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.f64()?)),
            k => Err(format!("no option tag {k}")),
        }
    }
    fn opt_u32(&mut self) -> Result<Option<u32>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u32()?)),
            k => Err(format!("no option tag {k}")),
        }
    }
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A record count, refused when the bytes left cannot hold that many
    /// records of at least `min_size` bytes.
    fn count(&mut self, min_size: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        let left = self.buf.len() - self.at.min(self.buf.len());
        if n.checked_mul(min_size).is_none_or(|need| need > left) {
            return Err(format!("{n} records cannot fit in {left} bytes"));
        }
        Ok(n)
    }
    fn date(&mut self) -> Result<NaiveDate, String> {
        let d = self.i32()?;
        NaiveDate::from_num_days_from_ce_opt(d).ok_or_else(|| format!("no day {d}"))
    }
    fn datetime(&mut self) -> Result<NaiveDateTime, String> {
        let date = self.date()?;
        let secs = self.u32()?;
        let nanos = self.u32()?;
        let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
            .ok_or_else(|| format!("no time {secs} s {nanos} ns"))?;
        Ok(date.and_time(time))
    }
}
