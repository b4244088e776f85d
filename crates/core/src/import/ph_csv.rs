//! pH sensor logs (FORMATS.md §2): one row per minute per sensor, months
//! long. This is the hot path of the app: rows are parsed straight from the
//! file's bytes, the per-series text (plant, unit, sensor, metadata) is
//! shared through a series table, and each reading costs a few words.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::columns::{Header, MetadataBudget};
use super::day_order::DateReader;
use super::delimited::{self, field};
use super::{names, Ctx, FileKind, Parsed, Records, SkipReason, UNNUMBERED};
use crate::error::FileError;
use crate::model::{CellRef, SensorReading, SensorSeries, Severity};
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
    // Columns that name the series; used alone once the extra columns have
    // shown too many variants (e.g. a per-row id), so a log can never turn
    // into one series per row.
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
    let mut coarse = false;
    let commas = if delimiter == b',' {
        Commas::Thousands
    } else {
        Commas::Decimal
    };
    // A repeated header row is told by its timestamp field, which then
    // holds the timestamp column's own name (wherever that column sits).
    let ts_name = header.names.get(ts_col).cloned().unwrap_or_default();
    let ts_name_raw = header.raw.get(ts_col).cloned().unwrap_or_default();
    let limits = ctx.config.limits.clone();
    let mut metadata = MetadataBudget::new(limits.max_metadata_bytes);
    let (ph_lo, ph_hi) = ctx.config.ranges.ph;
    let earliest = ctx.config.ranges.earliest_date;

    let mut series: Vec<SensorSeries> = Vec::new();
    let mut series_ids: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut last_key: Vec<u8> = Vec::new();
    let mut last_series: Option<u32> = None;
    let mut key: Vec<u8> = Vec::with_capacity(128);
    let mut readings: Vec<SensorReading> = Vec::with_capacity(text.len() / 48);
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    let mut plant_ids = std::collections::BTreeSet::new();
    let mut units_warned = std::collections::BTreeSet::new();
    // UTC readings (`Z`), shifted to local time once the file's own offset
    // (from its `±HH:MM` readings) is known.
    let mut utc_readings: Vec<usize> = Vec::new();
    let mut local_offset: Option<i32> = None;
    let mut naive_rows = 0u64;
    let mut dates = DateReader::scan(ctx, text, delimiter, header_line, ts_col);

    super::walk_data_rows(ctx, text, delimiter, header_line, |ctx, line, rec| {
        let at = |col: usize| CellRef::cell(None, line, col as u32);
        let ts = field(rec, Some(ts_col));
        let value_text = field(rec, Some(value_col));
        if ts.is_empty() && value_text.is_empty() && delimited::is_blank(rec) {
            ctx.account.skip(None, line, SkipReason::Blank);
            return;
        }
        let Some((at_time, zone)) = dates.timestamp(ts, line) else {
            if super::columns::normalize(ts) == ts_name {
                ctx.account.skip(None, line, SkipReason::Header);
                return;
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
                    .at(at(ts_col)),
            );
            return;
        };
        let date = at_time.date();
        let value = match parse_num(value_text, commas) {
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
                        .at(at(value_col)),
                );
                return;
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
                        .at(at(value_col)),
                );
                return;
            }
        };
        // The series is whatever the row says besides time and value; rows
        // of one series repeat it, so compare bytes before hashing.
        key.clear();
        if !coarse && series.len() >= MAX_SERIES_PER_FILE {
            coarse = true;
            ctx.findings.push(qa::FILE_RECOGNISED.finding(
                Severity::Warning,
                format!(
                    "The extra columns ({}) take more than {MAX_SERIES_PER_FILE} different combinations; from row {line} on, readings keep the extra columns of the first row of their sensor.",
                    key_cols
                        .iter()
                        .filter(|c| !coarse_cols.contains(c))
                        .filter_map(|c| header.raw.get(*c).cloned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        key.push(u8::from(coarse));
        let cols = if coarse { &coarse_cols } else { &key_cols };
        for &c in cols {
            match rec.get(c) {
                Some(f) => {
                    key.extend_from_slice(f);
                    key.push(0x1f);
                }
                // A short row: its missing fields are all empty, so the
                // rest of the key is one fill rather than a loop over a
                // wide header for every row.
                None => {
                    let missing = cols.len() - cols.partition_point(|k| *k < c);
                    key.resize(key.len() + missing, 0x1f);
                    break;
                }
            }
        }
        let sid = if let Some(id) = last_series.filter(|_| key == last_key) {
            id
        } else {
            let id = match series_ids.get(&key) {
                Some(id) => *id,
                None if series.len() >= MAX_SERIES_IN_FILE => {
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
                    let plant = field(rec, Some(plant_col));
                    let sensor = sensor_col
                        .map(|c| field(rec, Some(c)))
                        .filter(|s| !s.is_empty())
                        .unwrap_or(&fallback_sensor)
                        .to_string();
                    let unit_type = unit_type_col
                        .map(|c| field(rec, Some(c)))
                        .filter(|s| !s.is_empty())
                        .unwrap_or(&sensor)
                        .to_string();
                    let param = param_col
                        .map(|c| field(rec, Some(c)))
                        .filter(|s| !s.is_empty())
                        .unwrap_or("pH")
                        .to_string();
                    let unit = unit_col
                        .map(|c| field(rec, Some(c)))
                        .unwrap_or("")
                        .to_string();
                    let s = SensorSeries {
                        plant_id: ctx.intern(plant),
                        plant_unit_id: ctx.intern(&unit_type),
                        location: ctx.config.location_at(plant, &unit_type),
                        sensor_id: ctx.intern(&sensor),
                        parameter_name: ctx.intern(&param),
                        unit: ctx.intern(&unit),
                        file: UNNUMBERED,
                        metadata: match metadata.next(&header, rec, &used, line) {
                            Some(m) => ctx.intern(&m),
                            None => ctx.intern("{}"),
                        },
                    };
                    let id = series.len() as u32;
                    series.push(s);
                    series_ids.insert(key.clone(), id);
                    id
                }
            };
            last_key.clone_from(&key);
            last_series = Some(id);
            id
        };
        let s = &series[sid as usize];
        if s.plant_id.is_empty() {
            ctx.account.skip(None, line, SkipReason::MissingKey);
            ctx.findings.row(
                qa::MISSING_VALUE
                    .finding(Severity::Warning, "plant_id is blank; row skipped.")
                    .on(date)
                    .at(at(plant_col)),
            );
            return;
        }
        let is_ph = s.parameter_name.eq_ignore_ascii_case("ph");
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
                    .at(at(value_col)),
            );
        }
        if is_ph
            && !s.unit.is_empty()
            && !s.unit.eq_ignore_ascii_case("ph")
            && units_warned.insert(s.unit.clone())
        {
            let (plant, unit) = (s.plant_id.clone(), s.unit.clone());
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
                    .at(at(unit_col.unwrap_or(value_col))),
            );
        }
        if date < earliest {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!("Timestamp {at_time} is before {earliest}."),
                    )
                    .on(date)
                    .at(at(ts_col)),
            );
        }
        match zone {
            Zone::Utc => utc_readings.push(readings.len()),
            Zone::Offset(m) => {
                local_offset.get_or_insert(m);
            }
            Zone::Local => naive_rows += 1,
        }
        plant_ids.insert(s.plant_id.clone());
        first = Some(first.map_or(date, |f| f.min(date)));
        last = Some(last.map_or(date, |l| l.max(date)));
        readings.push(SensorReading {
            series: sid,
            at: at_time,
            value,
            row: line,
        });
        ctx.account.record(None, line);
    });
    if !utc_readings.is_empty() {
        let n = utc_readings.len();
        match local_offset {
            Some(m) => {
                let shift = chrono::Duration::minutes(i64::from(m));
                for &i in &utc_readings {
                    if let Some(r) = readings.get_mut(i) {
                        r.at = r.at.checked_add_signed(shift).unwrap_or(r.at);
                    }
                }
                first = readings.iter().map(|r| r.at.date()).min();
                last = readings.iter().map(|r| r.at.date()).max();
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
            None if naive_rows > 0 => ctx.findings.push(qa::ENCODING.finding(
                Severity::Warning,
                format!(
                    "{n} timestamps are in UTC (Z) and {naive_rows} have no zone; the file does not say the plant's offset, so UTC times are kept as written and their daily means may be shifted."
                ),
            )),
            None => {}
        }
    }
    dates.report(ctx, &ts_name_raw);
    metadata.report(ctx);
    readings.shrink_to_fit();
    let plant_id = if plant_ids.len() == 1 {
        plant_ids.into_iter().next()
    } else {
        None
    };
    Ok(Parsed {
        kind: FileKind::PhSensor,
        plant_id,
        period: first.zip(last),
        generated_at: None,
        records: Records {
            series,
            sensor: readings,
            ..Records::default()
        },
    })
}
