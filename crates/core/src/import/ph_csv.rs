//! pH sensor logs (FORMATS.md §2): one row per minute per sensor, months
//! long. This is the hot path of the app: rows are parsed straight from the
//! file's bytes, the per-series text (plant, unit, sensor, metadata) is
//! shared through a series table, and each reading costs a few words.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};

use super::columns::{Header, MetadataBudget};
use super::day_order::DateReader;
use super::delimited::{self, field, Fields};
use super::{names, Ctx, FileKind, Parsed, Records, SkipReason, UNNUMBERED};
use crate::error::FileError;
use crate::model::{CellRef, SensorReading, SensorSeries, Severity, Text};
use crate::number::{parse_num, Commas};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};
use crate::timestamp::Zone;

const TIMESTAMP: &[&str] = &["timestamp", "time stamp", "datetime", "date time"];
const VALUE: &[&str] = &["measurement value", "value"];
const UNIT: &[&str] = &["unit", "units"];
const SENSOR: &[&str] = &["sensor id", "sensor"];
const UNIT_TYPE: &[&str] = &["unit type id", "unit type"];
const PLANT: &[&str] = &["plant id", "plant"];
const PARAMETER: &[&str] = &["process value", "parameter name", "parameter"];

/// Distinct series (sensor + extra-column combinations) one file may make
/// before extra columns stop splitting series.
const MAX_SERIES_PER_FILE: usize = 256;

/// Series one file may make at all. A sensor log is one sensor, or a few;
/// 50,000 distinct unit ids would make a report and a chart of 50,000
/// series from a file of a megabyte. Rows that would start more are
/// skipped (`too_many_series`) with a finding.
pub const MAX_SERIES_IN_FILE: usize = 1024;

/// A header that names a sensor log: two of its distinctive columns
/// (timestamp, measurement value, sensor id, process value), so a log that
/// lacks a required one is reported as lacking it, not as an unknown CSV.
pub fn is_header(h: &Header) -> bool {
    [
        TIMESTAMP,
        &["measurement value"],
        SENSOR,
        &["process value"],
    ]
    .iter()
    .filter(|a| h.has(a))
    .count()
        >= 2
}
/// A sensor log's columns, found once from its header, and what every
/// row is checked against.
struct Layout {
    header: super::columns::Header,
    ts_col: usize,
    value_col: usize,
    plant_col: usize,
    unit_col: Option<usize>,
    sensor_col: Option<usize>,
    unit_type_col: Option<usize>,
    param_col: Option<usize>,
    fallback_sensor: String,
    used: [Option<usize>; 7],
    key_cols: Vec<usize>,
    /// Where the key columns start when they are all the columns after
    /// the timestamp and the value (as in every log seen): a row whose
    /// line from there on is the row before's has its series.
    tail_from: Option<usize>,
    /// Columns that name the series; used alone once the extra columns
    /// have shown too many variants (e.g. a per-row id), so a log can never
    /// turn into one series per row.
    coarse_cols: Vec<usize>,
    commas: Commas,
    /// A repeated header row is told by its timestamp field, which then
    /// holds the timestamp column's own name (wherever that column sits).
    ts_name: String,
    ts_name_raw: String,
    ph: (f64, f64),
    earliest: NaiveDate,
    max_metadata_bytes: usize,
}

pub fn read(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
) -> Result<Parsed, FileError> {
    let header = super::read_header(ctx, text, delimiter, header_line)?;
    let cols = (|| {
        let kind = "pH sensor CSV";
        Ok::<_, FileError>((
            header.required(TIMESTAMP, kind, "Timestamp", header_line)?,
            header.required(VALUE, kind, "Measurement value", header_line)?,
            header.required(PLANT, kind, "plant_id", header_line)?,
        ))
    })();
    let (ts_col, value_col, plant_col) = super::or_reject(ctx, text, cols)?;
    let unit_col = header.find(UNIT);
    let sensor_col = header.find(SENSOR);
    let unit_type_col = header.find(UNIT_TYPE);
    let param_col = header.find(PARAMETER);
    let fallback_sensor = names::sensor_prefix(&ctx.name).unwrap_or_else(|| ctx.name.to_string());
    if sensor_col.is_none() {
        ctx.findings.push(qa::MISSING_COLUMN.finding(
            Severity::Info,
            format!("No sensor_id column; the sensor id '{fallback_sensor}' is taken from the file name."),
        ));
    }
    if unit_type_col.is_none() {
        ctx.findings.push(qa::MISSING_COLUMN.finding(
            Severity::Info,
            "No unit_type_id column; readings are attributed to the sensor itself.",
        ));
    }
    let used = [
        Some(ts_col),
        Some(value_col),
        unit_col,
        sensor_col,
        unit_type_col,
        Some(plant_col),
        param_col,
    ];
    let key_cols: Vec<usize> = (0..header.raw.len())
        .filter(|i| *i != ts_col && *i != value_col)
        .collect();
    let mut coarse_cols: Vec<usize> = [
        Some(plant_col),
        sensor_col,
        unit_type_col,
        param_col,
        unit_col,
    ]
    .into_iter()
    .flatten()
    .collect();
    coarse_cols.sort_unstable();
    let commas = if delimiter == b',' {
        Commas::Thousands
    } else {
        Commas::Decimal
    };
    let lay = Layout {
        ts_name: header.names.get(ts_col).cloned().unwrap_or_default(),
        ts_name_raw: header.raw.get(ts_col).cloned().unwrap_or_default(),
        header,
        ts_col,
        value_col,
        plant_col,
        unit_col,
        sensor_col,
        unit_type_col,
        param_col,
        fallback_sensor,
        used,
        tail_from: (ts_col.min(value_col) == 0 && ts_col.max(value_col) == 1).then_some(2),
        key_cols,
        coarse_cols,
        commas,
        ph: ctx.config.ranges.ph,
        earliest: ctx.config.ranges.earliest_date,
        max_metadata_bytes: ctx.config.limits.max_metadata_bytes,
    };
    let dates = DateReader::scan(ctx, text, delimiter, header_line, ts_col);
    // Natively only: no browser worker hands out threads (yet), so the
    // joining code would be wasm weight for nothing.
    #[cfg(not(target_arch = "wasm32"))]
    let pieced = pieces::read(ctx, &lay, text, delimiter, header_line, &dates);
    #[cfg(target_arch = "wasm32")]
    let pieced = None;
    let part = match pieced {
        Some(part) => part,
        None => {
            let mut part = Part::new(&lay, dates, text.len());
            super::walk_data_rows(ctx, text, delimiter, header_line, |ctx, line, rec| {
                part.row(ctx, &lay, line, rec)
            });
            part
        }
    };
    Ok(part.finish(ctx, &lay))
}

/// A row's series key: the coarse flag, then each field of `cols` and a
/// 0x1f.
fn build_key(key: &mut Vec<u8>, coarse: bool, cols: &[usize], rec: &Fields<'_>) {
    key.clear();
    key.push(u8::from(coarse));
    for &c in cols {
        match rec.get(c) {
            Some(f) => {
                key.extend_from_slice(f);
                key.push(0x1f);
            }
            // A short row: its missing fields are all empty, so the rest
            // of the key is one fill rather than a loop over a wide header
            // for every row.
            None => {
                let missing = cols.len() - cols.partition_point(|k| *k < c);
                key.resize(key.len() + missing, 0x1f);
                break;
            }
        }
    }
}

/// Whether a row's key fields (`cols`) make `last`, the key as
/// [`build_key`] builds it.
fn same_key(last: &[u8], coarse: bool, cols: &[usize], rec: &Fields<'_>) -> bool {
    let Some((&flag, mut rest)) = last.split_first() else {
        return false;
    };
    if flag != u8::from(coarse) {
        return false;
    }
    for &c in cols {
        match rec.get(c) {
            Some(f) => match rest.strip_prefix(f).and_then(|r| r.split_first()) {
                Some((0x1f, after)) => rest = after,
                _ => return false,
            },
            None => {
                let missing = cols.len() - cols.partition_point(|k| *k < c);
                return rest.len() == missing && rest.iter().all(|b| *b == 0x1f);
            }
        }
    }
    rest.is_empty()
}

/// The readings of a log, or of one piece of it, with what reading them
/// decided on the way (series, dates, zones).
// Some of it is read only when pieces are joined, which wasm32 lacks.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
struct Part {
    metadata: MetadataBudget,
    series: Vec<SensorSeries>,
    series_ids: HashMap<Vec<u8>, u32>,
    last_key: Vec<u8>,
    last_series: Option<u32>,
    /// The line of the row that gave `last_series`, from `tail_from` on,
    /// when it is known (`tail_known`).
    last_tail: Vec<u8>,
    tail_known: bool,
    /// Whether the series of the row before measures pH.
    last_is_ph: Option<(u32, bool)>,
    key: Vec<u8>,
    coarse: bool,
    readings: Vec<SensorReading>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    plant_ids: BTreeSet<Text>,
    /// Series whose plant is in `plant_ids` already (one set insert per
    /// series, not per row).
    plant_noted: Vec<bool>,
    units_warned: BTreeSet<Text>,
    /// The units warned about, in the order of their findings.
    units_order: Vec<Text>,
    /// UTC readings (`Z`), shifted to local time once the file's own
    /// offset (from its `±HH:MM` readings) is known.
    utc_readings: Vec<usize>,
    local_offset: Option<i32>,
    naive_rows: u64,
    dates: DateReader,
}

impl Part {
    fn new(lay: &Layout, dates: DateReader, bytes: usize) -> Part {
        Part {
            metadata: MetadataBudget::new(lay.max_metadata_bytes),
            series: Vec::new(),
            series_ids: HashMap::new(),
            last_key: Vec::new(),
            last_series: None,
            last_tail: Vec::new(),
            tail_known: false,
            last_is_ph: None,
            key: Vec::with_capacity(128),
            coarse: false,
            readings: Vec::with_capacity(bytes / 48),
            first: None,
            last: None,
            plant_ids: BTreeSet::new(),
            plant_noted: Vec::new(),
            units_warned: BTreeSet::new(),
            units_order: Vec::new(),
            utc_readings: Vec::new(),
            local_offset: None,
            naive_rows: 0,
            dates,
        }
    }

    fn row(&mut self, ctx: &mut Ctx<'_>, lay: &Layout, line: u32, rec: &Fields<'_>) {
        // A log's usual row (a plain decimal, a timestamp on the day of the
        // row before) is read from its bytes; any other goes the long way,
        // which gives the same answer for these.
        let usual = crate::number::short_decimal(rec.get(lay.value_col).unwrap_or_default())
            .and_then(|v| {
                let ts = rec.get(lay.ts_col).unwrap_or_default();
                Some((self.dates.timestamp_on_known_day(ts, line)?, v))
            });
        let read = match usual {
            Some(read) => read,
            None => match self.read_time_and_value(ctx, lay, line, rec) {
                Some(read) => read,
                None => return,
            },
        };
        self.keep(ctx, lay, line, rec, read);
    }

    /// A row's timestamp and value read from its fields as text; `None`
    /// when the row is skipped (accounted and, where it says something,
    /// told as a finding).
    fn read_time_and_value(
        &mut self,
        ctx: &mut Ctx<'_>,
        lay: &Layout,
        line: u32,
        rec: &Fields<'_>,
    ) -> Option<((NaiveDateTime, Zone), f64)> {
        let at = |col: usize| CellRef::cell(None, line, col as u32);
        let ts = field(rec, Some(lay.ts_col));
        let value_text = field(rec, Some(lay.value_col));
        if ts.is_empty() && value_text.is_empty() && delimited::is_blank(rec) {
            ctx.account.skip(None, line, SkipReason::Blank);
            return None;
        }
        let Some((at_time, zone)) = self.dates.timestamp(ts, line) else {
            if super::columns::normalize(ts) == lay.ts_name {
                ctx.account.skip(None, line, SkipReason::Header);
                return None;
            }
            ctx.account.skip(None, line, SkipReason::UnparseableDate);
            ctx.findings.row(
                qa::UNPARSEABLE_DATE
                    .finding(
                        Severity::Warning,
                        format!(
                            "Timestamp '{}' is not a date and time; row skipped.",
                            clip(ts, QUOTE_CHARS)
                        ),
                    )
                    .at(at(lay.ts_col)),
            );
            return None;
        };
        let date = at_time.date();
        let value = match parse_num(value_text, lay.commas) {
            Ok(Some(n)) => n.value,
            Ok(None) => {
                ctx.account.skip(None, line, SkipReason::MissingValue);
                ctx.findings.row(
                    qa::MISSING_VALUE
                        .finding(
                            Severity::Info,
                            "Sensor value is blank (dropout); row skipped.",
                        )
                        .on(date)
                        .at(at(lay.value_col)),
                );
                return None;
            }
            Err(e) => {
                ctx.account.skip(None, line, SkipReason::UnparseableValue);
                ctx.findings.row(
                    qa::UNPARSEABLE_NUMBER
                        .finding(
                            Severity::Warning,
                            format!(
                                "Sensor value '{}' is {e}; row skipped.",
                                clip(value_text, QUOTE_CHARS)
                            ),
                        )
                        .on(date)
                        .at(at(lay.value_col)),
                );
                return None;
            }
        };
        Some(((at_time, zone), value))
    }

    /// Keep a row read: its series, the findings on its value, the reading.
    fn keep(
        &mut self,
        ctx: &mut Ctx<'_>,
        lay: &Layout,
        line: u32,
        rec: &Fields<'_>,
        ((at_time, zone), value): ((NaiveDateTime, Zone), f64),
    ) {
        let at = |col: usize| CellRef::cell(None, line, col as u32);
        let date = at_time.date();
        // The series is whatever the row says besides time and value; rows
        // of one series repeat it, so compare bytes before hashing.
        if !self.coarse && self.series.len() >= MAX_SERIES_PER_FILE {
            self.coarse = true;
            self.tail_known = false;
            ctx.findings.push(qa::FILE_RECOGNISED.finding(
                Severity::Warning,
                format!(
                    "The extra columns ({}) take more than {MAX_SERIES_PER_FILE} different combinations; from row {line} on, readings keep the extra columns of the first row of their sensor.",
                    lay.key_cols
                        .iter()
                        .filter(|c| !lay.coarse_cols.contains(c))
                        .filter_map(|c| lay.header.raw.get(*c).cloned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let cols = if self.coarse {
            &lay.coarse_cols
        } else {
            &lay.key_cols
        };
        // Rows of one series repeat its key: compared where it lies, and
        // built only when it changes.
        let tail = lay.tail_from.and_then(|k| rec.tail(k));
        let same_tail =
            self.tail_known && tail.is_some_and(|t| crate::text::same_bytes(t, &self.last_tail));
        let same = self
            .last_series
            .filter(|_| same_tail || same_key(&self.last_key, self.coarse, cols, rec));
        let sid = if let Some(id) = same {
            if !same_tail {
                self.remember_tail(tail);
            }
            id
        } else {
            build_key(&mut self.key, self.coarse, cols, rec);
            let id = match self.series_ids.get(&self.key) {
                Some(id) => *id,
                None if self.series.len() >= MAX_SERIES_IN_FILE => {
                    ctx.account.skip(None, line, SkipReason::TooManySeries);
                    ctx.findings.row(
                        qa::UNRECOGNISED_ROW
                            .finding(
                                Severity::Warning,
                                format!(
                                    "The file already has {MAX_SERIES_IN_FILE} series (plant, unit, sensor, parameter, unit of measure), the most one file may make; this row would start another and is skipped."
                                ),
                            )
                            .on(date)
                            .at(CellRef::row(None, line)),
                    );
                    return;
                }
                None => {
                    let s = self.new_series(ctx, lay, line, rec);
                    let id = self.series.len() as u32;
                    self.series.push(s);
                    self.plant_noted.push(false);
                    self.series_ids.insert(self.key.clone(), id);
                    id
                }
            };
            self.last_key.clone_from(&self.key);
            self.last_series = Some(id);
            self.remember_tail(tail);
            id
        };
        let Some(s) = self.series.get(sid as usize) else {
            return;
        };
        if s.plant_id.is_empty() {
            ctx.account.skip(None, line, SkipReason::MissingKey);
            ctx.findings.row(
                qa::MISSING_VALUE
                    .finding(Severity::Warning, "plant_id is blank; row skipped.")
                    .on(date)
                    .at(at(lay.plant_col)),
            );
            return;
        }
        let is_ph = match self.last_is_ph {
            Some((id, is_ph)) if id == sid => is_ph,
            _ => {
                let is_ph = s.parameter_name.eq_ignore_ascii_case("ph");
                self.last_is_ph = Some((sid, is_ph));
                is_ph
            }
        };
        let (ph_lo, ph_hi) = lay.ph;
        if is_ph && !(ph_lo..=ph_hi).contains(&value) {
            let plant = s.plant_id.clone();
            ctx.findings.row(
                qa::OUT_OF_RANGE
                    .finding(
                        Severity::Warning,
                        format!("pH {value} is outside {ph_lo}–{ph_hi}; kept, check the sensor."),
                    )
                    .plant(&plant)
                    .on(date)
                    .at(at(lay.value_col)),
            );
        }
        if is_ph
            && !s.unit.is_empty()
            && !s.unit.eq_ignore_ascii_case("ph")
            && self.units_warned.insert(s.unit.clone())
        {
            let (plant, unit) = (s.plant_id.clone(), s.unit.clone());
            self.units_order.push(unit.clone());
            ctx.findings.push(
                qa::UNEXPECTED_UNIT
                    .finding(
                        Severity::Warning,
                        format!(
                            "pH reported in unit '{}', expected pH.",
                            clip(&unit, QUOTE_CHARS)
                        ),
                    )
                    .plant(&plant)
                    .at(at(lay.unit_col.unwrap_or(lay.value_col))),
            );
        }
        if date < lay.earliest {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!("Timestamp {at_time} is before {}.", lay.earliest),
                    )
                    .on(date)
                    .at(at(lay.ts_col)),
            );
        }
        match zone {
            Zone::Utc => self.utc_readings.push(self.readings.len()),
            Zone::Offset(m) => {
                self.local_offset.get_or_insert(m);
            }
            Zone::Local => self.naive_rows += 1,
        }
        if self.plant_noted.get(sid as usize) != Some(&true) {
            self.plant_ids.insert(s.plant_id.clone());
            if let Some(n) = self.plant_noted.get_mut(sid as usize) {
                *n = true;
            }
        }
        self.first = Some(self.first.map_or(date, |f| f.min(date)));
        self.last = Some(self.last.map_or(date, |l| l.max(date)));
        self.readings.push(SensorReading {
            series: sid,
            at: at_time,
            value,
            row: line,
        });
        ctx.account.record(None, line);
    }

    /// The tail of the row that now gives `last_series`.
    fn remember_tail(&mut self, tail: Option<&[u8]>) {
        self.last_tail.clear();
        self.tail_known = tail.is_some();
        self.last_tail.extend_from_slice(tail.unwrap_or_default());
    }

    /// The series a row starts: its text, shared through the file's
    /// strings.
    fn new_series(
        &mut self,
        ctx: &mut Ctx<'_>,
        lay: &Layout,
        line: u32,
        rec: &Fields<'_>,
    ) -> SensorSeries {
        let plant = field(rec, Some(lay.plant_col));
        let sensor = lay
            .sensor_col
            .map(|c| field(rec, Some(c)))
            .filter(|s| !s.is_empty())
            .unwrap_or(&lay.fallback_sensor)
            .to_string();
        let unit_type = lay
            .unit_type_col
            .map(|c| field(rec, Some(c)))
            .filter(|s| !s.is_empty())
            .unwrap_or(&sensor)
            .to_string();
        let param = lay
            .param_col
            .map(|c| field(rec, Some(c)))
            .filter(|s| !s.is_empty())
            .unwrap_or("pH")
            .to_string();
        let unit = lay
            .unit_col
            .map(|c| field(rec, Some(c)))
            .unwrap_or("")
            .to_string();
        SensorSeries {
            plant_id: ctx.intern(plant),
            plant_unit_id: ctx.intern(&unit_type),
            location: ctx.config.location_at(plant, &unit_type),
            sensor_id: ctx.intern(&sensor),
            parameter_name: ctx.intern(&param),
            unit: ctx.intern(&unit),
            file: UNNUMBERED,
            metadata: match self.metadata.next(&lay.header, rec, &lay.used, line) {
                Some(m) => ctx.intern(&m),
                None => ctx.intern("{}"),
            },
        }
    }

    /// The file's import once every row is read: UTC readings moved to
    /// the file's own offset, and what the dates and the extra columns
    /// have to say.
    fn finish(mut self, ctx: &mut Ctx<'_>, lay: &Layout) -> Parsed {
        if !self.utc_readings.is_empty() {
            let n = self.utc_readings.len();
            match self.local_offset {
                Some(m) => {
                    let shift = chrono::Duration::minutes(i64::from(m));
                    for &i in &self.utc_readings {
                        if let Some(r) = self.readings.get_mut(i) {
                            r.at = r.at.checked_add_signed(shift).unwrap_or(r.at);
                        }
                    }
                    self.first = self.readings.iter().map(|r| r.at.date()).min();
                    self.last = self.readings.iter().map(|r| r.at.date()).max();
                    ctx.findings.push(qa::ENCODING.finding(
                        Severity::Info,
                        format!(
                            "{n} timestamps are in UTC (Z); they were converted to the plant's local time, UTC{}{:02}:{:02}, as stated by the file's own offset timestamps.",
                            if m < 0 { '−' } else { '+' },
                            m.abs() / 60,
                            m.abs() % 60
                        ),
                    ));
                }
                None if self.naive_rows > 0 => ctx.findings.push(qa::ENCODING.finding(
                    Severity::Warning,
                    format!(
                        "{n} timestamps are in UTC (Z) and {} have no zone; the file does not say the plant's offset, so UTC times are kept as written and their daily means may be shifted.",
                        self.naive_rows
                    ),
                )),
                None => {}
            }
        }
        self.dates.report(ctx, &lay.ts_name_raw);
        self.metadata.report(ctx);
        self.readings.shrink_to_fit();
        let plant_id = if self.plant_ids.len() == 1 {
            self.plant_ids.into_iter().next()
        } else {
            None
        };
        Parsed {
            kind: FileKind::PhSensor,
            plant_id,
            period: self.first.zip(self.last),
            generated_at: None,
            records: Records {
                series: self.series,
                sensor: self.readings,
                ..Records::default()
            },
        }
    }
}

/// A large log read in pieces (see [`crate::spread`]): split near equal
/// byte offsets at line starts, each piece read on its own from there,
/// then joined in file order into what one walk from the top gives. A
/// piece is kept only where the piece before it ended exactly at its
/// start (a split inside a quoted field that holds line breaks does not:
/// the rows from the true record start are then read again); anything a
/// piece cannot decide alone (more series than the first
/// `MAX_SERIES_PER_FILE`, the extra-column budget, merged skip ranges)
/// sends the file back to the single walk.
#[cfg(not(target_arch = "wasm32"))]
pub(super) mod pieces {
    use std::sync::Mutex;

    use super::super::delimited::{self, Piece};
    use super::super::{walk_data_piece, Ctx, RowAccount, MAX_SKIP_RANGES};
    use super::{DateReader, Layout, Part, MAX_SERIES_PER_FILE};
    use crate::qa::{self, FileFindings};

    /// One piece read: where it started and stopped, and what it read.
    struct Read {
        from: usize,
        end: Option<usize>,
        part: Part,
        account: RowAccount,
        findings: FileFindings,
    }

    const BOM: &[u8] = b"\xEF\xBB\xBF";

    /// Logs joined from pieces (not sent back to the single walk), for
    /// the tests to tell the two apart.
    #[cfg(feature = "testing")]
    pub static JOINED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    pub(super) fn read(
        ctx: &mut Ctx<'_>,
        lay: &Layout,
        text: &[u8],
        delimiter: u8,
        header_line: u32,
        dates: &DateReader,
    ) -> Option<Part> {
        let width = ctx.spread.width();
        let min = ctx.spread.min_piece_bytes().max(1);
        if width < 2 || text.len() / 2 < min {
            return None;
        }
        let n = width.min(text.len() / min).max(2);
        let mut starts = vec![0usize];
        for k in 1..n {
            let target = (text.len() as u128 * k as u128 / n as u128) as usize;
            let after = starts.last().copied().unwrap_or(0).max(target);
            match record_start(text, after) {
                Some(p) if starts.last().is_some_and(|l| p > *l) => starts.push(p),
                _ => break,
            }
        }
        if starts.len() < 2 {
            return None;
        }
        let lines = lines_before(text, &starts)?;
        let pieces: Vec<Piece> = starts
            .iter()
            .zip(&lines)
            .enumerate()
            .map(|(k, (&from, &line))| Piece {
                from,
                line,
                stop: starts.get(k + 1).copied(),
            })
            .collect();
        let (name, config) = (ctx.name.clone(), ctx.config);
        // Every piece is read the same way, by a thread or here below.
        let read_one = |piece: Piece| {
            read_piece(
                &name,
                config,
                lay,
                text,
                delimiter,
                header_line,
                dates,
                piece,
            )
        };
        let slots: Vec<Mutex<Option<Read>>> = pieces.iter().map(|_| Mutex::new(None)).collect();
        ctx.spread.run(pieces.len(), &|k| {
            if let (Some(piece), Some(slot)) = (pieces.get(k), slots.get(k)) {
                let r = read_one(*piece);
                if let Ok(mut s) = slot.lock() {
                    *s = Some(r);
                }
            }
        });
        let mut read: Vec<Option<Read>> = slots
            .into_iter()
            .map(|s| s.into_inner().ok().flatten())
            .collect();
        // The pieces in file order, each from where the one before ended.
        let mut joined: Vec<Read> = Vec::with_capacity(read.len());
        let mut at = 0usize;
        loop {
            let piece = match read
                .iter()
                .position(|r| r.as_ref().is_some_and(|r| r.from == at))
            {
                Some(k) => read.get_mut(k).and_then(Option::take)?,
                None => {
                    if text.get(at..).is_some_and(|t| t.starts_with(BOM)) {
                        return None;
                    }
                    let piece = Piece {
                        from: at,
                        line: count_newlines(text.get(..at)?),
                        stop: starts.iter().copied().find(|s| *s > at),
                    };
                    read_one(piece)
                }
            };
            let end = piece.end;
            joined.push(piece);
            match end {
                Some(e) if e > at => at = e,
                Some(_) => return None,
                None => break,
            }
        }
        if !decidable(ctx, lay, &joined) {
            return None;
        }
        #[cfg(feature = "testing")]
        JOINED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(join(ctx, lay, dates, joined))
    }

    #[allow(clippy::too_many_arguments)]
    fn read_piece(
        name: &str,
        config: &crate::config::Config,
        lay: &Layout,
        text: &[u8],
        delimiter: u8,
        header_line: u32,
        dates: &DateReader,
        piece: Piece,
    ) -> Read {
        let mut ctx = Ctx::new(name, config);
        let bytes = piece.stop.unwrap_or(text.len()).saturating_sub(piece.from);
        let mut part = Part::new(lay, dates.clone(), bytes);
        let end = walk_data_piece(
            &mut ctx,
            text,
            delimiter,
            header_line,
            piece,
            |ctx, line, rec| part.row(ctx, lay, line, rec),
        );
        Read {
            from: piece.from,
            end,
            part,
            account: ctx.account,
            findings: ctx.findings,
        }
    }

    /// Whether the pieces, joined, give what one walk gives: the series
    /// they make together stay under the point where a walk would change
    /// how it keys them, the extra columns under the file's budget, the
    /// skipped ranges under the count where they merge.
    fn decidable(ctx: &Ctx<'_>, lay: &Layout, joined: &[Read]) -> bool {
        let mut keys: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
        let mut metadata = 0usize;
        let mut ranges = ctx.account.skipped.len();
        for r in joined {
            if r.part.coarse || r.part.metadata.spent() {
                return false;
            }
            ranges += r.account.skipped.len();
            for (key, id) in &r.part.series_ids {
                if keys.insert(key.as_slice()) {
                    metadata += r
                        .part
                        .series
                        .get(*id as usize)
                        .map_or(0, |s| s.metadata.len());
                }
            }
        }
        // No piece spent its budget, so each series' metadata is what the
        // walk charged for it.
        keys.len() < MAX_SERIES_PER_FILE
            && metadata <= lay.max_metadata_bytes
            && ranges < MAX_SKIP_RANGES
    }

    fn join(ctx: &mut Ctx<'_>, lay: &Layout, dates: &DateReader, joined: Vec<Read>) -> Part {
        let mut whole = Part::new(lay, dates.clone(), 0);
        whole
            .readings
            .reserve_exact(joined.iter().map(|r| r.part.readings.len()).sum());
        for r in joined {
            ctx.account.append(r.account);
            let mut units = r.part.units_order.iter();
            let warned = &mut whole.units_warned;
            ctx.findings.append(r.findings, |f| {
                // A piece warns about a unit the first time it sees it;
                // the file warns once.
                if f.check == qa::UNEXPECTED_UNIT.id {
                    units.next().is_none_or(|u| warned.insert(u.clone()))
                } else {
                    true
                }
            });
            let mut keys: Vec<&[u8]> = vec![&[]; r.part.series.len()];
            for (key, id) in &r.part.series_ids {
                if let Some(k) = keys.get_mut(*id as usize) {
                    *k = key;
                }
            }
            let mut ids: Vec<u32> = Vec::with_capacity(keys.len());
            for (s, key) in r.part.series.iter().zip(&keys) {
                let id = match whole.series_ids.get(*key) {
                    Some(id) => *id,
                    None => {
                        let id = whole.series.len() as u32;
                        whole.series.push(s.clone());
                        whole.series_ids.insert(key.to_vec(), id);
                        id
                    }
                };
                ids.push(id);
            }
            let offset = whole.readings.len();
            whole.readings.extend(r.part.readings.iter().map(|x| {
                let mut x = *x;
                x.series = ids.get(x.series as usize).copied().unwrap_or(x.series);
                x
            }));
            whole
                .utc_readings
                .extend(r.part.utc_readings.iter().map(|i| i + offset));
            whole.local_offset = whole.local_offset.or(r.part.local_offset);
            whole.naive_rows += r.part.naive_rows;
            whole.plant_ids.extend(r.part.plant_ids);
            whole.first = whole.first.into_iter().chain(r.part.first).min();
            whole.last = whole.last.into_iter().chain(r.part.last).max();
            whole.dates.absorb(&r.part.dates);
        }
        whole
    }

    /// The first record start at or after `from`: just past a line break
    /// (at the `\n` of a `\r\n`, where the reader stops), after a line that
    /// is not blank and before one that starts with no byte order mark.
    fn record_start(text: &[u8], from: usize) -> Option<usize> {
        let mut i = from;
        loop {
            let nl = i + text.get(i..)?.iter().position(|b| *b == b'\n')?;
            let crlf = nl > 0 && text.get(nl - 1) == Some(&b'\r');
            let line_end = if crlf { nl - 1 } else { nl };
            let blank_before =
                line_end == 0 || matches!(text.get(line_end - 1), Some(b'\n' | b'\r'));
            let next = text.get(nl + 1..).unwrap_or(&[]);
            if !blank_before && !next.is_empty() && !next.starts_with(BOM) {
                return Some(if crlf { nl } else { nl + 1 });
            }
            i = nl + 1;
        }
    }

    /// The `\n` bytes before each start, or `None` when the text has a
    /// lone `\r` (which the reader does not count as a line).
    fn lines_before(text: &[u8], starts: &[usize]) -> Option<Vec<u64>> {
        let mut out = Vec::with_capacity(starts.len());
        let mut count = 0u64;
        let mut prev = 0usize;
        for &s in starts {
            let chunk = text.get(prev..s)?;
            count += count_newlines(chunk);
            out.push(count);
            prev = s;
        }
        (!delimited::has_lone_cr(text)).then_some(out)
    }

    fn count_newlines(text: &[u8]) -> u64 {
        delimited::count_byte(text, b'\n')
    }
}

#[cfg(test)]
mod key_tests {
    use super::super::delimited::{walk, Row};
    use super::{build_key, same_key};

    /// Comparing in place answers what building and comparing answers,
    /// for rows of every length (short rows), fields holding the separator
    /// byte, and both key modes.
    #[test]
    fn a_key_is_compared_as_it_would_be_built() {
        let text = "a,b,c\na,b\na,,c\na\n,b,c\na\x1f,b\na,\x1fb\na,b,c,d\n\x1f,\x1f,\x1f\n,,\n,\n";
        let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
        walk(text.as_bytes(), b',', |r| {
            if let Row::Record { record, .. } = r {
                rows.push(record.iter().map(<[u8]>::to_vec).collect());
            }
        });
        assert_eq!(rows.len(), 11);
        let mut compared = 0;
        for cols in [vec![0, 1, 2], vec![0, 2], vec![1], vec![0, 1, 2, 3, 4]] {
            for coarse in [false, true] {
                for a in 0..rows.len() {
                    for b in 0..rows.len() {
                        let (mut ka, mut kb) = (Vec::new(), Vec::new());
                        let (ta, tb) = (rows[a].join(&b','), rows[b].join(&b','));
                        walk(&ta, b',', |r| {
                            if let Row::Record { record, .. } = r {
                                build_key(&mut ka, coarse, &cols, &record);
                            }
                        });
                        walk(&tb, b',', |r| {
                            if let Row::Record { record, .. } = r {
                                build_key(&mut kb, coarse, &cols, &record);
                                assert_eq!(same_key(&ka, coarse, &cols, &record), ka == kb);
                                assert!(!same_key(&ka, !coarse, &cols, &record));
                                compared += 1;
                            }
                        });
                    }
                }
            }
        }
        assert!(compared > 400, "{compared}");
    }
}

#[cfg(test)]
mod series_tests {
    use std::collections::HashMap;

    /// Every reading of a log is in the series its own row's fields name,
    /// one series per distinct set of fields, whichever way the row was
    /// matched (the line compared with the row before's, the fields
    /// compared, a quoted line read by the CSV reader), with rows between
    /// that are skipped, short, quoted or spaced.
    #[test]
    fn a_reading_is_in_the_series_its_row_names() {
        // Timestamp and value first (a row's line from the third field on
        // is compared), the other way round, and behind another column
        // (the key is compared field by field).
        for order in [
            [0, 1, 2, 3, 4, 5, 6, 7, 8],
            [1, 0, 2, 3, 4, 5, 6, 7, 8],
            [5, 0, 1, 2, 3, 4, 6, 7, 8],
        ] {
            // Without quotes every line is walked as a plain line; from a
            // log's first quoted field on, the CSV reader reads the rest.
            series_follow_rows(&order, false);
            series_follow_rows(&order, true);
        }
    }

    /// Past `MAX_SERIES_PER_FILE` variants the rows keep to the plain
    /// columns: the row that tips it over starts that series even when its
    /// line is the row before's (whose series was told by every column).
    #[test]
    fn the_row_that_makes_series_coarse_is_not_taken_by_its_line() {
        let mut text = String::from("Timestamp,Measurement value,plant_id,sensor_id,Row id\n");
        let ids = (0..super::MAX_SERIES_PER_FILE).chain([super::MAX_SERIES_PER_FILE - 1; 5]);
        for (i, id) in ids.enumerate() {
            text.push_str(&format!(
                "2025-04-01 {:02}:{:02}:00,7.1,PLANT_A,WB1,{id}\n",
                i / 60,
                i % 60
            ));
        }
        let f =
            crate::import::import_file("WB1_PH.csv", text.as_bytes(), &crate::Config::default());
        let r = &f.records.sensor;
        let n = super::MAX_SERIES_PER_FILE;
        assert_eq!(r.len(), n + 5);
        assert_eq!(f.records.series.len(), n + 1);
        assert_ne!(r[n].series, r[n - 1].series);
        assert!(r[n..].iter().all(|x| x.series == r[n].series));
    }

    /// A random log whose columns are written in `order` (0 the timestamp,
    /// 1 the value, then the seven key columns; the last three are key
    /// columns, which a short row leaves out), with a quoted field now and
    /// then (`quotes`).
    fn series_follow_rows(order: &[usize; 9], quotes: bool) {
        let names = [
            "Timestamp",
            "Measurement value",
            "Unit",
            "sensor_id",
            "unit_type_id",
            "plant_id",
            "Process value",
            "Location",
            "Status",
        ];
        let mut next = crate::xorshift(0xC0FF_EE11);
        let mut pick = |n: usize| (next() % n as u64) as usize;
        let header: Vec<&str> = order.iter().map(|c| names[*c]).collect();
        let mut text = header.join(",") + "\n";
        // Line number → the row's key fields, for the rows that make a reading.
        let mut expected: HashMap<u32, Vec<String>> = HashMap::new();
        let mut tail = ["pH", "WB1", "secondary", "PLANT_A", "pH", "L1", "Good"];
        for i in 0..6_000u32 {
            let line = i + 2;
            // Mostly the row before's series; now and then one field changes.
            if pick(40) == 0 {
                let f = 1 + pick(6);
                tail[f] = match f {
                    1 => ["WB1", "WB2"][pick(2)],
                    3 => ["PLANT_A", "PLANT_B"][pick(2)],
                    5 => ["L1", "L2", ""][pick(3)],
                    6 => ["Good", "Bad"][pick(2)],
                    _ => tail[f],
                };
            }
            let ts = format!(
                "2025-01-{:02} {:02}:{:02}:00",
                1 + i / 1440,
                (i / 60) % 24,
                i % 60
            );
            let (ts, ts_ok) = match pick(50) {
                0 => ("not a time".to_string(), false),
                1 => (format!(" {ts}"), true),
                _ => (ts, true),
            };
            let (value, value_ok) = match pick(50) {
                0 => ("", false),
                1 => ("x", false),
                2 => (" 7.02", true),
                _ => ("7.01", true),
            };
            let mut fields: Vec<String> = tail.iter().map(|s| s.to_string()).collect();
            // One row of another series between two of the same.
            if pick(30) == 0 {
                fields[6] = "Blip".into();
            }
            let mut row = vec![ts, value.to_string()];
            row.extend(fields.iter().cloned());
            // A quoted field: the CSV reader's record, the same value.
            if pick(30) == 0 && quotes {
                row[2] = format!("\"{}\"", row[2]);
            }
            let mut written: Vec<String> = order.iter().map(|c| row[*c].clone()).collect();
            // A short row: its last fields missing, read as empty.
            if pick(60) == 0 {
                let missing = 1 + pick(3);
                written.truncate(9 - missing);
                for c in &order[9 - missing..] {
                    fields[*c - 2].clear();
                }
            }
            text.push_str(&written.join(","));
            text.push('\n');
            if ts_ok && value_ok {
                expected.insert(line, fields);
            }
        }
        let f = crate::import::import_file(
            "WB1_PH_2025_sanitized.csv",
            text.as_bytes(),
            &crate::Config::default(),
        );
        assert!(f.error.is_none(), "{order:?}");
        let readings = &f.records.sensor;
        assert_eq!(readings.len(), expected.len(), "{order:?}");
        let mut series_of_key: HashMap<&Vec<String>, u32> = HashMap::new();
        let mut key_of_series: HashMap<u32, &Vec<String>> = HashMap::new();
        for r in readings {
            let key = expected
                .get(&r.row)
                .expect("a reading of a row that makes one");
            assert_eq!(
                *series_of_key.entry(key).or_insert(r.series),
                r.series,
                "{order:?}, row {}",
                r.row
            );
            assert_eq!(
                *key_of_series.entry(r.series).or_insert(key),
                key,
                "{order:?}, row {}",
                r.row
            );
        }
        assert!(series_of_key.len() > 5, "{} series", series_of_key.len());
    }
}
