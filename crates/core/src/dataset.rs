//! The batch as Hive-partitioned Parquet datasets, for engines that query
//! files where they lie (DuckDB, Athena, Spark):
//! `co2_removal/plant_id=PLANT_A/year=2025/part-0.parquet`, and the same
//! for lab readings, plant operations and QA findings.
//!
//! The rows are the CSV outputs' rows, typed as in the SQL schema: dates
//! as DATE, timestamps as TIMESTAMP (microseconds, plant-local wall-clock
//! time, so not adjusted to UTC), floats as DOUBLE parsed from the CSV's
//! shortest round-trip text (the same bits), counts as INT64, flags as
//! BOOLEAN, text and JSON as dictionary-encoded UTF-8 strings; snappy
//! compression. `plant_id` and `year` are in the path, not in the files.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::export::{output_bytes, Output, CO2_COLUMNS, FINDING_COLUMNS, LAB_COLUMNS, OPS_COLUMNS};
use crate::report::Filter;
use crate::sql::{sql_type, unneutralised};
use crate::store::Run;

/// The datasets: folder, rows, and the column the year comes from.
const DATASETS: [(&str, Output, &[&str], &str); 4] = [
    ("co2_removal", Output::Co2Removal, &CO2_COLUMNS, "date"),
    (
        "lab_readings",
        Output::LabReadings,
        &LAB_COLUMNS,
        "datetime",
    ),
    (
        "plant_operations",
        Output::PlantOperations,
        &OPS_COLUMNS,
        "date",
    ),
    ("qa_findings", Output::QaFindings, &FINDING_COLUMNS, "date"),
];

/// The datasets' folders.
pub const DATASET_NAMES: [&str; 4] = [DATASETS[0].0, DATASETS[1].0, DATASETS[2].0, DATASETS[3].0];

/// Hive's name for a partition whose value is missing (a finding about a
/// file names no plant and no day).
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// A partition value as a path segment: anything but letters, digits and
/// `_.-` percent-encoded, as Hive does, so a plant id cannot name another
/// folder.
fn partition_value(v: &str) -> String {
    if v.is_empty() {
        return NULL_PARTITION.to_string();
    }
    let mut s = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn field(name: &str) -> Result<Type, ParquetError> {
    let (physical, logical) = match sql_type(name) {
        "date" => (Physical::INT32, Some(LogicalType::Date)),
        "timestamp" => (
            Physical::INT64,
            Some(LogicalType::timestamp(false, TimeUnit::MICROS)),
        ),
        "bigint" => (Physical::INT64, None),
        "boolean" => (Physical::BOOLEAN, None),
        "double precision" => (Physical::DOUBLE, None),
        // JSON stays a string: every engine reads it, and its text is the CSV's.
        _ => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
    };
    Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn timestamp_micros(s: &str) -> Option<i64> {
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(t.and_utc().timestamp_micros())
}

/// One column's values with their definition levels (0: NULL).
fn values<T>(
    rows: &[&Vec<String>],
    i: usize,
    parse: impl Fn(&str) -> Option<T>,
) -> (Vec<T>, Vec<i16>) {
    let mut vals = Vec::with_capacity(rows.len());
    let mut defs = Vec::with_capacity(rows.len());
    for r in rows {
        match r.get(i).filter(|f| !f.is_empty()).and_then(|f| parse(f)) {
            Some(v) => {
                vals.push(v);
                defs.push(1);
            }
            None => defs.push(0),
        }
    }
    (vals, defs)
}

/// One partition's rows as a Parquet file.
fn write_file(
    columns: &[&str],
    keep: &[usize],
    rows: &[&Vec<String>],
) -> Result<Vec<u8>, ParquetError> {
    let fields = keep
        .iter()
        .map(|&i| field(columns[i]).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .build();
    let mut writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(props))?;
    let mut group = writer.next_row_group()?;
    for &i in keep {
        let Some(mut col) = group.next_column()? else {
            break;
        };
        match sql_type(columns[i]) {
            "date" => {
                let (v, d) = values(rows, i, |s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|x| i32::try_from((x - epoch()).num_days()).ok())
                });
                col.typed::<Int32Type>().write_batch(&v, Some(&d), None)?;
            }
            "timestamp" => {
                let (v, d) = values(rows, i, timestamp_micros);
                col.typed::<Int64Type>().write_batch(&v, Some(&d), None)?;
            }
            "bigint" => {
                let (v, d) = values(rows, i, |s| s.parse::<i64>().ok());
                col.typed::<Int64Type>().write_batch(&v, Some(&d), None)?;
            }
            "boolean" => {
                let (v, d) = values(rows, i, |s| s.parse::<bool>().ok());
                col.typed::<BoolType>().write_batch(&v, Some(&d), None)?;
            }
            "double precision" => {
                let (v, d) = values(rows, i, |s| s.parse::<f64>().ok());
                col.typed::<DoubleType>().write_batch(&v, Some(&d), None)?;
            }
            t => {
                let text = t == "text";
                let (v, d) = values(rows, i, |s| {
                    let s = if text { unneutralised(s) } else { s };
                    Some(ByteArray::from(s.as_bytes().to_vec()))
                });
                col.typed::<ByteArrayType>()
                    .write_batch(&v, Some(&d), None)?;
            }
        }
        col.close()?;
    }
    group.close()?;
    writer.into_inner()
}

/// Every dataset's files: (relative path, bytes), in path order. The whole
/// batch, whatever the CSV filter.
pub fn parquet_dataset(report: &Run) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    for (name, output, columns, day) in DATASETS {
        let csv = output_bytes(output, report, &Filter::default());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(&csv[..]);
        let rows: Vec<Vec<String>> = reader
            .records()
            .flatten()
            .map(|r| r.iter().map(str::to_string).collect())
            .collect();
        let plant = columns.iter().position(|c| *c == "plant_id");
        let date = columns.iter().position(|c| *c == day);
        let mut parts: BTreeMap<(String, String), Vec<&Vec<String>>> = BTreeMap::new();
        for r in &rows {
            let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(String::as_str).unwrap_or("");
            let p = unneutralised(get(plant)).to_string();
            let y = get(date).get(..4).unwrap_or("").to_string();
            parts.entry((p, y)).or_default().push(r);
        }
        let keep: Vec<usize> = (0..columns.len()).filter(|&i| Some(i) != plant).collect();
        for ((p, y), rows) in parts {
            let bytes = write_file(columns, &keep, &rows).map_err(|e| format!("{name}: {e}"))?;
            files.push((
                format!(
                    "{name}/plant_id={}/year={}/part-0.parquet",
                    partition_value(&p),
                    partition_value(&y)
                ),
                bytes,
            ));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_cannot_escape_their_folder() {
        assert_eq!(partition_value("PLANT_A"), "PLANT_A");
        assert_eq!(partition_value("../x y"), "..%2Fx%20y");
        assert_eq!(partition_value(""), NULL_PARTITION);
    }

    #[test]
    fn timestamps_take_dates_and_times() {
        assert_eq!(timestamp_micros("1970-01-01T00:00:01"), Some(1_000_000));
        assert_eq!(timestamp_micros("1970-01-02"), Some(86_400_000_000));
        assert_eq!(timestamp_micros("x"), None);
    }
}
