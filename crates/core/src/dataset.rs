//! The batch as Hive-partitioned Parquet datasets, for engines that query
//! files where they lie (DuckDB, Athena, Spark):
//! `co2_removal/plant_id=PLANT_A/year=2025/part-0.parquet`, and the same
//! for lab readings, plant operations and QA findings.
//!
//! The rows are the CSV outputs' rows, built by the same functions from
//! the records and the report's typed values (never from the CSV's text,
//! so user text is stored as the file had it), typed as in the SQL schema:
//! dates as DATE, timestamps as TIMESTAMP (microseconds, plant-local
//! wall-clock time, so not adjusted to UTC), floats as DOUBLE (the same
//! bits; a non-finite float would be NULL), counts as INT64, flags as
//! BOOLEAN, text and JSON as dictionary-encoded UTF-8 strings; snappy
//! compression. `plant_id` and `year` are in the path, not in the files.
//! Rows are buffered per partition and written as a row group every
//! [`ROW_GROUP_ROWS`] rows, so a year of minute readings is never held as
//! rows of text.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use parquet::basic::{Compression, Encoding, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DataType, DoubleType, Int32Type, Int64Type,
};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::{ColumnPath, Type};

use crate::export::{
    table_rows, Cells, Output, CO2_COLUMNS, FINDING_COLUMNS, LAB_COLUMNS, OPS_COLUMNS,
};
use crate::model::When;
use crate::report::Filter;
use crate::sql::sql_type;
use crate::store::Run;

/// Rows per row group: large enough for dictionaries and compression to
/// pay, small enough that a partition's buffered rows stay a few MB.
pub const ROW_GROUP_ROWS: usize = 1 << 17;

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

/// Columns with a new value on nearly every row that steps by a little:
/// a minute's readings' times and source rows. A dictionary of them fills
/// and then costs more than the values; their differences pack into a
/// few bits each (on the generated year, lab_readings went from 60 MB to
/// a few).
fn delta_encoded(column: &str) -> bool {
    column == "source_row" || sql_type(column) == "timestamp"
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn days(d: NaiveDate) -> Option<i32> {
    i32::try_from((d - epoch()).num_days()).ok()
}

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

/// A cell of the row being built; text lives in the row's own buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    Null,
    Text(usize, usize),
    Double(f64),
    Int(u64),
    Date(NaiveDate),
    At(NaiveDateTime),
    Bool(bool),
}

/// One column's values with their definition levels (0: NULL).
struct Values<T> {
    vals: Vec<T>,
    defs: Vec<i16>,
}

impl<T> Values<T> {
    fn new() -> Values<T> {
        Values {
            vals: Vec::new(),
            defs: Vec::new(),
        }
    }

    fn push(&mut self, v: Option<T>) {
        match v {
            Some(v) => {
                self.vals.push(v);
                self.defs.push(1);
            }
            None => self.defs.push(0),
        }
    }

    /// Writes the buffered values as the column's next chunk and empties
    /// the buffer.
    fn write<D: DataType<T = T>>(
        &mut self,
        col: &mut SerializedColumnWriter<'_>,
    ) -> Result<(), ParquetError> {
        col.typed::<D>()
            .write_batch(&self.vals, Some(&self.defs), None)?;
        self.vals.clear();
        self.defs.clear();
        Ok(())
    }
}

/// A column's buffered values, by its Parquet type.
enum Column {
    Date(Values<i32>),
    Int64(Values<i64>),
    Double(Values<f64>),
    Bool(Values<bool>),
    Text(Values<ByteArray>),
}

impl Column {
    fn new(name: &str) -> Column {
        match sql_type(name) {
            "date" => Column::Date(Values::new()),
            "timestamp" | "bigint" => Column::Int64(Values::new()),
            "double precision" => Column::Double(Values::new()),
            "boolean" => Column::Bool(Values::new()),
            _ => Column::Text(Values::new()),
        }
    }

    /// Adds a cell; `false` when the cell is not of the column's type (a
    /// row function out of step with the columns).
    fn push(&mut self, cell: Cell, text: &str) -> bool {
        match (self, cell) {
            (Column::Date(v), Cell::Null) => v.push(None),
            (Column::Int64(v), Cell::Null) => v.push(None),
            (Column::Double(v), Cell::Null) => v.push(None),
            (Column::Bool(v), Cell::Null) => v.push(None),
            (Column::Text(v), Cell::Null) => v.push(None),
            (Column::Date(v), Cell::Date(d)) => v.push(days(d)),
            (Column::Int64(v), Cell::At(t)) => v.push(Some(micros(t))),
            (Column::Int64(v), Cell::Date(d)) => {
                v.push(d.and_hms_opt(0, 0, 0).map(micros));
            }
            (Column::Int64(v), Cell::Int(n)) => v.push(i64::try_from(n).ok()),
            (Column::Double(v), Cell::Double(x)) => v.push(Some(x).filter(|x| x.is_finite())),
            (Column::Bool(v), Cell::Bool(b)) => v.push(Some(b)),
            (Column::Text(v), Cell::Text(a, b)) => {
                let s = text.get(a..b).unwrap_or("").as_bytes();
                // A sensor's rows repeat their text: the previous value is
                // shared, not copied again.
                let value = match v.vals.last() {
                    Some(last) if last.data() == s => last.clone(),
                    _ => ByteArray::from(s.to_vec()),
                };
                v.push(Some(value));
            }
            _ => return false,
        }
        true
    }

    fn write(&mut self, col: &mut SerializedColumnWriter<'_>) -> Result<(), ParquetError> {
        match self {
            Column::Date(v) => v.write::<Int32Type>(col),
            Column::Int64(v) => v.write::<Int64Type>(col),
            Column::Double(v) => v.write::<DoubleType>(col),
            Column::Bool(v) => v.write::<BoolType>(col),
            Column::Text(v) => v.write::<ByteArrayType>(col),
        }
    }
}

/// One partition's file: its writer and the rows not yet written.
struct Part {
    path: String,
    writer: SerializedFileWriter<Vec<u8>>,
    columns: Vec<Column>,
    rows: usize,
}

impl Part {
    fn flush(&mut self) -> Result<(), ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group()?;
        for c in &mut self.columns {
            let Some(mut col) = group.next_column()? else {
                break;
            };
            c.write(&mut col)?;
            col.close()?;
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }
}

/// A dataset's rows, cell by cell, into their partitions' files.
struct Dataset {
    name: &'static str,
    columns: &'static [&'static str],
    plant: Option<usize>,
    day: Option<usize>,
    schema: Arc<Type>,
    props: Arc<WriterProperties>,
    row: Vec<Cell>,
    text: String,
    parts: Vec<Part>,
    index: BTreeMap<(String, Option<i32>), usize>,
    /// The last row's partition: rows come mostly in plant and date order.
    last: Option<(String, Option<i32>, usize)>,
}

fn to_io(e: ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

impl Dataset {
    fn new(
        name: &'static str,
        columns: &'static [&'static str],
        day: &str,
    ) -> Result<Dataset, ParquetError> {
        let plant = columns.iter().position(|c| *c == "plant_id");
        let fields = columns
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != plant)
            .map(|(_, c)| field(c).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(true);
        for c in columns.iter().filter(|c| delta_encoded(c)) {
            props = props
                .set_column_dictionary_enabled(ColumnPath::from(*c), false)
                .set_column_encoding(ColumnPath::from(*c), Encoding::DELTA_BINARY_PACKED);
        }
        let props = props.build();
        Ok(Dataset {
            name,
            columns,
            plant,
            day: columns.iter().position(|c| *c == day),
            schema: Arc::new(schema),
            props: Arc::new(props),
            row: Vec::with_capacity(columns.len()),
            text: String::new(),
            parts: Vec::new(),
            index: BTreeMap::new(),
            last: None,
        })
    }

    fn push(&mut self, cell: Cell) -> &mut Self {
        self.row.push(cell);
        self
    }

    fn cell_text(&self, i: Option<usize>) -> &str {
        match i.and_then(|i| self.row.get(i)) {
            Some(Cell::Text(a, b)) => self.text.get(*a..*b).unwrap_or(""),
            _ => "",
        }
    }

    fn cell_year(&self, i: Option<usize>) -> Option<i32> {
        match i.and_then(|i| self.row.get(i)) {
            Some(Cell::Date(d)) => Some(d.year()),
            Some(Cell::At(t)) => Some(t.year()),
            _ => None,
        }
    }

    /// The index of the row's partition, opened if new.
    fn part(&mut self) -> Result<usize, ParquetError> {
        let year = self.cell_year(self.day);
        let plant = self.cell_text(self.plant);
        if let Some((p, y, i)) = &self.last {
            if p == plant && *y == year {
                return Ok(*i);
            }
        }
        let key = (plant.to_string(), year);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let path = format!(
                    "{}/plant_id={}/year={}/part-0.parquet",
                    self.name,
                    partition_value(&key.0),
                    partition_value(&key.1.map(|y| format!("{y:04}")).unwrap_or_default())
                );
                let writer =
                    SerializedFileWriter::new(Vec::new(), self.schema.clone(), self.props.clone())?;
                let columns = self
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| Some(i) != self.plant)
                    .map(|(_, c)| Column::new(c))
                    .collect();
                self.parts.push(Part {
                    path,
                    writer,
                    columns,
                    rows: 0,
                });
                let i = self.parts.len() - 1;
                self.index.insert(key.clone(), i);
                i
            }
        };
        self.last = Some((key.0, key.1, i));
        Ok(i)
    }

    fn end_row(&mut self) -> Result<(), io::Error> {
        let i = self.part().map_err(to_io)?;
        let Some(part) = self.parts.get_mut(i) else {
            return Err(io::Error::other("partition lost"));
        };
        let mut kept = part.columns.iter_mut();
        for (j, cell) in self.row.iter().enumerate() {
            if Some(j) == self.plant {
                continue;
            }
            let taken = kept.next().is_some_and(|c| c.push(*cell, &self.text));
            if !taken {
                let name = self.columns.get(j).copied().unwrap_or("?");
                return Err(io::Error::other(format!(
                    "{}: column {name} does not take {cell:?}",
                    self.name
                )));
            }
        }
        if kept.next().is_some() {
            return Err(io::Error::other(format!(
                "{}: a row of {} cells for {} columns",
                self.name,
                self.row.len(),
                self.columns.len()
            )));
        }
        part.rows += 1;
        self.row.clear();
        self.text.clear();
        if part.rows >= ROW_GROUP_ROWS {
            part.flush().map_err(to_io)?;
        }
        Ok(())
    }

    /// Every partition's file: (relative path, bytes), in path order.
    fn finish(self) -> Result<Vec<(String, Vec<u8>)>, ParquetError> {
        let mut files = Vec::with_capacity(self.parts.len());
        for mut part in self.parts {
            part.flush()?;
            files.push((part.path, part.writer.into_inner()?));
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }
}

impl Cells for Dataset {
    fn theirs(&mut self, s: &str) -> &mut Self {
        if s.is_empty() {
            return self.push(Cell::Null);
        }
        let a = self.text.len();
        self.text.push_str(s);
        let b = self.text.len();
        self.push(Cell::Text(a, b))
    }
    fn ours(&mut self, s: &str) -> &mut Self {
        self.theirs(s)
    }
    fn num(&mut self, v: Option<f64>) -> &mut Self {
        self.push(v.map_or(Cell::Null, Cell::Double))
    }
    fn int(&mut self, v: Option<u64>) -> &mut Self {
        self.push(v.map_or(Cell::Null, Cell::Int))
    }
    fn date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        self.push(d.map_or(Cell::Null, Cell::Date))
    }
    fn datetime(&mut self, t: Option<NaiveDateTime>) -> &mut Self {
        self.push(t.map_or(Cell::Null, Cell::At))
    }
    fn when(&mut self, w: When) -> &mut Self {
        match w {
            When::Day(d) => self.push(Cell::Date(d)),
            When::At(t) => self.push(Cell::At(t)),
        }
    }
    fn boolean(&mut self, b: bool) -> &mut Self {
        self.push(Cell::Bool(b))
    }
    fn end(&mut self) -> io::Result<()> {
        self.end_row()
    }
}

/// Every dataset's files: (relative path, bytes), in path order within
/// each dataset. The whole batch, whatever the CSV filter.
pub fn parquet_dataset(run: &Run) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    for (name, output, columns, day) in DATASETS {
        let mut dataset = Dataset::new(name, columns, day).map_err(|e| format!("{name}: {e}"))?;
        table_rows(
            output,
            &run.report,
            &run.store,
            &Filter::default(),
            &mut dataset,
        )
        .map_err(|e| format!("{name}: {e}"))?;
        files.extend(dataset.finish().map_err(|e| format!("{name}: {e}"))?);
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
        let day = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap_or_default();
        let mut c = Column::new("datetime");
        assert!(c.push(Cell::Date(day), ""));
        assert!(c.push(
            Cell::At(epoch().and_hms_opt(0, 0, 1).unwrap_or_default()),
            ""
        ));
        assert!(!c.push(Cell::Double(1.0), ""));
        let Column::Int64(v) = c else {
            panic!("a timestamp is INT64");
        };
        assert_eq!(v.vals, [86_400_000_000, 1_000_000]);
    }
}
