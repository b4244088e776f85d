//! The batch for PostgreSQL: the schema (created if missing), then the
//! batch loaded with `COPY ... FROM stdin` in one transaction. The CLI
//! writes it as a psql script (`run --sql FILE`), the browser offers the
//! same script as a download, and `crew-mrv load` sends the same
//! statements and COPY data through a client, so every path loads the same
//! rows.
//!
//! The rows are the CSV outputs' rows (same columns, built by the same
//! functions from the records and the report's typed values, never from
//! the CSV's text), so a float reaches the server in its shortest
//! round-trip form and is parsed there into the same `double precision`:
//! the database and the CSVs agree bit for bit. User text arrives as the
//! file had it: the CSV's spreadsheet `'` is the CSV's alone. The whole
//! batch is loaded, whatever the CSV filter. COPY data is written row by
//! row into the caller's writer, so no table is held as text.
//!
//! A batch is named by a hash of its inputs' SHA-256s, the settings and the
//! method version. Loading replaces every row of the same batch and every
//! row of the plant-days the batch covers, so loading a batch twice leaves
//! the same rows and a later batch supersedes an earlier one day by day;
//! each row names its batch, and `mrv_batch` keeps one row per load.

use std::io::{self, Write};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde_json::{json, Value};

use crate::export::{
    summary_json, table_rows, Cells, Output, CO2_COLUMNS, FILE_COLUMNS, FINDING_COLUMNS,
    LAB_COLUMNS, OPS_COLUMNS, SENSITIVITY_COLUMNS,
};
use crate::model::When;
use crate::pipeline::sha256_hex;
use crate::report::{Filter, Report};
use crate::store::Run;

/// Writes a COPY's data (COPY text format: tab-separated, `\N` for NULL,
/// one line per row) into the writer it is given.
pub type CopyRows<'a> = &'a dyn Fn(&mut dyn Write) -> io::Result<()>;

/// One step of a load: a plain statement, or a COPY with its rows, which
/// the caller has written where the COPY reads them (a script, a client's
/// COPY stream) when it is ready for them.
pub enum Step<'a> {
    Sql(String),
    Copy {
        statement: String,
        rows: CopyRows<'a>,
    },
}

/// The data tables: name, the output whose rows they take, and how a
/// plant-day is named in them (`None`: the table is replaced by batch only).
struct Table {
    name: &'static str,
    output: Output,
    columns: &'static [&'static str],
    day: Option<&'static str>,
}

const TABLES: [Table; 6] = [
    Table {
        name: "crewcarbon_co2_removal_calculation",
        output: Output::Co2Removal,
        columns: &CO2_COLUMNS,
        day: Some("date"),
    },
    Table {
        name: "crewcarbon_lab_reading",
        output: Output::LabReadings,
        columns: &LAB_COLUMNS,
        day: Some("datetime::date"),
    },
    Table {
        name: "wastewater_plant_operation",
        output: Output::PlantOperations,
        columns: &OPS_COLUMNS,
        day: Some("date"),
    },
    Table {
        name: "mrv_qa_finding",
        output: Output::QaFindings,
        columns: &FINDING_COLUMNS,
        day: Some("date"),
    },
    Table {
        name: "mrv_source_file",
        output: Output::Files,
        columns: &FILE_COLUMNS,
        day: None,
    },
    Table {
        name: "mrv_sensitivity",
        output: Output::Sensitivity,
        columns: &SENSITIVITY_COLUMNS,
        day: None,
    },
];

/// `wastewater_plant_metadata`: one row per plant, the latest batch's.
const METADATA_COLUMNS: [&str; 6] = [
    "plant_id",
    "first_date",
    "last_date",
    "days",
    "co2_removed_t",
    "metadata",
];

/// The PostgreSQL type of a column, by name: the outputs share names
/// across tables and each name has one meaning.
pub(crate) fn sql_type(column: &str) -> &'static str {
    match column {
        "date" | "period_start" | "period_end" | "first_date" | "last_date" => "date",
        // Plant-local wall-clock time, as the source files give it.
        "datetime" | "report_generated_at" => "timestamp",
        "metadata" | "superseded" => "jsonb",
        "provisional" | "sensitive" => "boolean",
        "ca_upstream_n" | "ca_downstream_n" | "replicate_num" | "source_row" | "level"
        | "bytes" | "lines" | "lines_in_fields" | "rows_in" | "records" | "skipped" | "days" => {
            "bigint"
        }
        "plant_id"
        | "plant_unit_id"
        | "location"
        | "parameter_name"
        | "medium"
        | "unit"
        | "reading_id"
        | "sensor_id"
        | "source_file"
        | "quality_flag"
        | "validation_message"
        | "calculation_version"
        | "ops_source"
        | "flow_unit"
        | "review_status"
        | "review_note"
        | "inputs_sha256"
        | "check"
        | "severity"
        | "column"
        | "message"
        | "sheet"
        | "name"
        | "kind"
        | "sha256"
        | "skipped_by_reason"
        | "status"
        | "input"
        | "perturbation"
        | "profile" => "text",
        _ => "double precision",
    }
}

/// Identifiers are quoted: `check` and `column` are reserved words.
fn quoted(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn create_table(name: &str, columns: &[&str], extra: &str) -> String {
    let mut s = format!("CREATE TABLE IF NOT EXISTS {name} (\n");
    for c in columns {
        s.push_str(&format!("    \"{c}\" {},\n", sql_type(c)));
    }
    s.push_str(extra);
    s.push_str("    batch_id text NOT NULL\n);\n");
    // A database made by an earlier version has the table without the
    // columns added since (the review and line-count columns, say): COPY
    // naming them would fail, so the batch brings its columns with it.
    for c in columns {
        s.push_str(&format!(
            "ALTER TABLE {name} ADD COLUMN IF NOT EXISTS \"{c}\" {};\n",
            sql_type(c)
        ));
    }
    s
}

/// The schema: every table and index, created only if missing.
pub fn schema() -> String {
    let mut s = String::new();
    s.push_str(
        "CREATE TABLE IF NOT EXISTS mrv_batch (\n    load_id bigserial PRIMARY KEY,\n    \
         batch_id text NOT NULL,\n    method_version text NOT NULL,\n    \
         loaded_at timestamptz NOT NULL DEFAULT now(),\n    manifest jsonb NOT NULL\n);\n",
    );
    s.push_str(&create_table(
        "wastewater_plant_metadata",
        &METADATA_COLUMNS,
        "",
    ));
    for t in &TABLES {
        // The source files' format profile is not recorded yet: the column
        // is there (NULL) so loads keep their shape when it is.
        let extra = if t.output == Output::Files {
            "    \"profile\" text,\n"
        } else {
            ""
        };
        s.push_str(&create_table(t.name, t.columns, extra));
    }
    let indexes = [
        (
            "crewcarbon_co2_removal_calculation",
            "plant_id, date",
            "plant_date",
        ),
        (
            "crewcarbon_co2_removal_calculation",
            "quality_flag",
            "quality_flag",
        ),
        ("crewcarbon_lab_reading", "plant_id, datetime", "plant_date"),
        ("crewcarbon_lab_reading", "parameter_name", "parameter_name"),
        ("wastewater_plant_operation", "plant_id, date", "plant_date"),
        ("mrv_qa_finding", "plant_id, date", "plant_date"),
        ("wastewater_plant_metadata", "plant_id", "plant"),
        ("mrv_batch", "batch_id", "batch"),
    ];
    for (table, cols, suffix) in indexes {
        s.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS {table}_{suffix}_idx ON {table} ({cols});\n"
        ));
    }
    for t in &TABLES {
        s.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS {0}_batch_idx ON {0} (batch_id);\n",
            t.name
        ));
    }
    s
}

/// The batch id: the inputs' hashes (sorted, so the order files were given
/// in does not matter), the settings that change numbers, and the method
/// version.
pub fn batch_id(report: &Report) -> String {
    let mut hashes: Vec<&str> = report.files.iter().map(|f| f.sha256.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let summary = manifest(report);
    let key = json!({
        "method_version": &report.method_version,
        "replicate_policy": summary.get("replicate_policy"),
        "ambiguous_dates": summary.get("ambiguous_dates"),
        "confidence": summary.get("confidence"),
        "lab_default_relative": summary.get("lab_default_relative"),
        "meter_uncertainty_percent": summary.get("meter_uncertainty_percent"),
        "inputs": hashes,
    });
    sha256_hex(key.to_string().as_bytes())
}

/// The batch's manifest: summary.json over the whole batch.
fn manifest(report: &Report) -> Value {
    serde_json::from_str(&summary_json(report, &Filter::default())).unwrap_or(Value::Null)
}

/// A field in COPY text format.
fn push_copy_field(out: &mut Vec<u8>, field: &str) {
    for b in field.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// One row of COPY data, cell by cell, written into `w` when complete.
/// Empty text and non-finite floats are NULL.
struct CopyRow<'w> {
    w: &'w mut dyn Write,
    row: Vec<u8>,
    first: bool,
}

impl<'w> CopyRow<'w> {
    fn new(w: &'w mut dyn Write) -> CopyRow<'w> {
        CopyRow {
            w,
            row: Vec::with_capacity(256),
            first: true,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.row.push(b'\t');
        }
        self.first = false;
    }

    /// A cell: `push` writes the value, `None` is NULL.
    fn cell<T>(&mut self, v: Option<T>, push: impl FnOnce(&mut Vec<u8>, T)) -> &mut Self {
        self.sep();
        match v {
            Some(v) => push(&mut self.row, v),
            None => self.row.extend_from_slice(b"\\N"),
        }
        self
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.cell(Some(s).filter(|s| !s.is_empty()), push_copy_field)
    }
}

fn push_date(row: &mut Vec<u8>, d: NaiveDate) {
    let _ = write!(row, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
}

fn push_datetime(row: &mut Vec<u8>, t: NaiveDateTime) {
    push_date(row, t.date());
    let _ = write!(row, "T{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
}

/// `{}` writes the shortest text that parses back to the same value.
fn push_display(row: &mut Vec<u8>, v: impl std::fmt::Display) {
    let _ = write!(row, "{v}");
}

impl Cells for CopyRow<'_> {
    fn theirs(&mut self, s: &str) -> &mut Self {
        self.text(s)
    }
    fn ours(&mut self, s: &str) -> &mut Self {
        self.text(s)
    }
    fn num(&mut self, v: Option<f64>) -> &mut Self {
        self.cell(v.filter(|v| v.is_finite()), push_display)
    }
    fn int(&mut self, v: Option<u64>) -> &mut Self {
        self.cell(v, push_display)
    }
    fn date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        self.cell(d, push_date)
    }
    fn datetime(&mut self, t: Option<NaiveDateTime>) -> &mut Self {
        self.cell(t, push_datetime)
    }
    fn when(&mut self, w: When) -> &mut Self {
        match w {
            When::Day(d) => self.date(Some(d)),
            When::At(t) => self.datetime(Some(t)),
        }
    }
    fn boolean(&mut self, b: bool) -> &mut Self {
        self.text(if b { "true" } else { "false" })
    }
    fn end(&mut self) -> io::Result<()> {
        self.row.push(b'\n');
        let written = self.w.write_all(&self.row);
        self.row.clear();
        self.first = true;
        written
    }
}

/// One table's rows, the whole batch, as COPY data.
fn copy_rows(run: &Run, output: Output, w: &mut dyn Write) -> io::Result<()> {
    table_rows(
        output,
        &run.report,
        &run.store,
        &Filter::default(),
        &mut CopyRow::new(w),
    )
}

fn metadata_rows(summary: &Value, id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(plants) = summary.get("plants").and_then(Value::as_object) else {
        return out;
    };
    for (plant, kpis) in plants {
        let text = |k: &str| kpis.get(k).and_then(Value::as_str).map(str::to_string);
        let number = |k: &str| kpis.get(k).and_then(Value::as_f64).map(|v| format!("{v}"));
        let meta = json!({
            "kpis": kpis,
            "uncertainty": summary.get("uncertainty").and_then(|u| u.get(plant)),
            "meter_uncertainty_percent": summary
                .get("meter_uncertainty_percent")
                .and_then(|m| m.get(plant)),
        });
        let fields = [
            Some(plant.clone()),
            text("first_date"),
            text("last_date"),
            kpis.get("days")
                .and_then(Value::as_u64)
                .map(|d| d.to_string()),
            number("co2_removed_t"),
            Some(meta.to_string()),
            Some(id.to_string()),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            match f {
                Some(f) => push_copy_field(&mut out, f),
                None => out.extend_from_slice(b"\\N"),
            }
        }
        out.push(b'\n');
    }
    out
}

/// The load, step by step, without BEGIN/COMMIT (the caller's
/// transaction). COPY rows are built from the run while the caller writes
/// them, so the load holds one row of text at a time.
pub fn load_steps(report: &Run, step: &mut dyn FnMut(Step) -> io::Result<()>) -> io::Result<()> {
    let id = batch_id(report);
    let summary = manifest(report);
    step(Step::Sql(schema()))?;
    // One load at a time: two concurrent loads of overlapping plant-days
    // would otherwise both keep their rows.
    step(Step::Sql(
        "LOCK TABLE mrv_batch IN SHARE ROW EXCLUSIVE MODE;\n".to_string(),
    ))?;
    for t in &TABLES {
        step(Step::Sql(format!(
            "CREATE TEMP TABLE staging_{0} ON COMMIT DROP AS SELECT * FROM {0} WITH NO DATA;\n",
            t.name
        )))?;
        step(Step::Copy {
            statement: format!("COPY staging_{} ({}) FROM stdin", t.name, quoted(t.columns)),
            rows: &|w| copy_rows(report, t.output, w),
        })?;
    }
    // The plant-days this batch covers: its daily rows and its readings.
    step(Step::Sql(
        "CREATE TEMP TABLE staging_days ON COMMIT DROP AS\n    \
         SELECT plant_id, date FROM staging_crewcarbon_co2_removal_calculation\n    \
         UNION SELECT plant_id, date FROM staging_wastewater_plant_operation\n    \
         UNION SELECT plant_id, datetime::date FROM staging_crewcarbon_lab_reading;\n"
            .to_string(),
    ))?;
    let mut replace = String::new();
    for t in &TABLES {
        let cols = quoted(t.columns);
        match t.day {
            Some(day) => replace.push_str(&format!(
                "DELETE FROM {0} WHERE batch_id = '{id}'\n    \
                 OR (plant_id, {day}) IN (SELECT plant_id, date FROM staging_days){1};\n",
                t.name,
                // A finding from a file read again (some name no plant or
                // no day) is replaced by the new reading's, and so is one
                // about a plant as a whole.
                if t.output == Output::QaFindings {
                    "\n    OR source_file IN (SELECT name FROM staging_mrv_source_file)\n    \
                     OR (date IS NULL AND source_file IS NULL\n        \
                     AND plant_id IN (SELECT plant_id FROM staging_days))"
                } else {
                    ""
                }
            )),
            None => replace.push_str(&format!(
                "DELETE FROM {0} WHERE batch_id = '{id}';\n",
                t.name
            )),
        }
        replace.push_str(&format!(
            "INSERT INTO {0} ({cols}, batch_id) SELECT {cols}, '{id}' FROM staging_{0};\n",
            t.name
        ));
    }
    replace.push_str(&format!(
        "DELETE FROM wastewater_plant_metadata WHERE batch_id = '{id}'\n    \
         OR plant_id IN (SELECT plant_id FROM staging_days);\n"
    ));
    step(Step::Sql(replace))?;
    step(Step::Copy {
        statement: format!(
            "COPY wastewater_plant_metadata ({}, batch_id) FROM stdin",
            quoted(&METADATA_COLUMNS)
        ),
        rows: &|w| w.write_all(&metadata_rows(&summary, &id)),
    })?;
    step(Step::Copy {
        statement: "COPY mrv_batch (batch_id, method_version, manifest) FROM stdin".to_string(),
        rows: &|w| {
            let mut row = CopyRow::new(w);
            row.ours(&id)
                .ours(&report.method_version)
                .ours(&summary.to_string());
            row.end()
        },
    })
}

/// The psql script: `psql -v ON_ERROR_STOP=1 -f FILE` is implied by its
/// first line, so a failure stops it and the transaction is rolled back.
pub fn write_sql_script(report: &Run, w: &mut dyn io::Write) -> io::Result<()> {
    writeln!(
        w,
        "-- CREW MRV batch {} (method {}): psql -f this file",
        batch_id(report),
        report.method_version
    )?;
    w.write_all(b"\\set ON_ERROR_STOP on\nBEGIN;\n")?;
    load_steps(report, &mut |s| match s {
        Step::Sql(sql) => w.write_all(sql.as_bytes()),
        Step::Copy { statement, rows } => {
            writeln!(w, "{statement};")?;
            rows(w)?;
            w.write_all(b"\\.\n")
        }
    })?;
    w.write_all(b"COMMIT;\n")
}

/// The script as bytes (the browser's download).
pub fn sql_script(report: &Run) -> Vec<u8> {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_sql_script(report, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_text(row: impl FnOnce(&mut CopyRow)) -> String {
        let mut out = Vec::new();
        let mut r = CopyRow::new(&mut out);
        row(&mut r);
        let _ = r.end();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn copy_fields_escape_and_blank_is_null() {
        let text = copy_text(|r| {
            r.theirs("x\ty").num(None).theirs("=1\\2").ours("");
        });
        assert_eq!(text, "x\\ty\t\\N\t=1\\\\2\t\\N\n");
    }

    /// The CSV prefixes `'` to user text that starts like a formula; the
    /// database gets the text as the file had it, a leading `'` included.
    #[test]
    fn user_text_reaches_copy_as_the_file_had_it() {
        let text = copy_text(|r| {
            r.theirs("'=x")
                .theirs("'+1")
                .theirs("=SUM(A1)")
                .theirs("'abc")
                .theirs("-3");
        });
        assert_eq!(text, "'=x\t'+1\t=SUM(A1)\t'abc\t-3\n");
    }

    #[test]
    fn floats_are_shortest_and_non_finite_is_null() {
        let text = copy_text(|r| {
            r.num(Some(29.199999999999996))
                .num(Some(31.0))
                .num(Some(f64::NAN))
                .num(Some(f64::INFINITY))
                .int(Some(7))
                .boolean(true);
        });
        assert_eq!(text, "29.199999999999996\t31\t\\N\t\\N\t7\ttrue\n");
    }

    #[test]
    fn days_and_times_are_iso() {
        let day = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default();
        let at = day.and_hms_opt(6, 5, 4).unwrap_or_default();
        let text = copy_text(|r| {
            r.when(When::Day(day))
                .when(When::At(at))
                .date(None)
                .datetime(Some(at));
        });
        assert_eq!(
            text,
            "2025-04-01\t2025-04-01T06:05:04\t\\N\t2025-04-01T06:05:04\n"
        );
    }

    #[test]
    fn reserved_words_are_quoted() {
        assert!(schema().contains("\"check\" text"));
        assert!(schema().contains("\"column\" text"));
    }
}
