//! The batch for PostgreSQL: the schema (created if missing), then the
//! batch loaded with `COPY ... FROM stdin` in one transaction. The CLI
//! writes it as a psql script (`run --sql FILE`), the browser offers the
//! same script as a download, and `crew-mrv load` sends the same
//! statements and COPY data through a client, so every path loads the same
//! rows.
//!
//! The rows are the CSV outputs' rows (same columns, same text), so a float
//! reaches the server in the CSV's shortest round-trip form and is parsed
//! there into the same `double precision`: the database and the CSVs agree
//! bit for bit. The whole batch is loaded, whatever the CSV filter.
//!
//! A batch is named by a hash of its inputs' SHA-256s, the settings and the
//! method version. Loading replaces every row of the same batch and every
//! row of the plant-days the batch covers, so loading a batch twice leaves
//! the same rows and a later batch supersedes an earlier one day by day;
//! each row names its batch, and `mrv_batch` keeps one row per load.

use std::io;

use serde_json::{json, Value};

use crate::export::{
    output_bytes, summary_json, Output, CO2_COLUMNS, FILE_COLUMNS, FINDING_COLUMNS, LAB_COLUMNS,
    OPS_COLUMNS, SENSITIVITY_COLUMNS,
};
use crate::pipeline::sha256_hex;
use crate::report::{Filter, Report};
use crate::store::Run;

/// One step of a load: a plain statement, or a COPY with its data (COPY
/// text format: tab-separated, `\N` for NULL, one line per row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Sql(String),
    Copy { statement: String, data: Vec<u8> },
}

/// The data tables: name, the CSV output their rows come from, and how a
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
        | "bytes" | "rows_in" | "records" | "skipped" | "days" => "bigint",
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

fn is_text(column: &str) -> bool {
    sql_type(column) == "text"
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

/// The CSV writer prefixes user text that starts like a formula with `'`
/// (for spreadsheets); the database gets the text as it was.
pub(crate) fn unneutralised(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => field,
    }
}

/// One output's CSV rows as COPY data; a blank field is NULL.
fn copy_data(csv_bytes: &[u8], columns: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(csv_bytes.len());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_bytes);
    for record in reader.records().flatten() {
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            if field.is_empty() {
                out.extend_from_slice(b"\\N");
            } else if columns.get(i).is_some_and(|c| is_text(c)) {
                push_copy_field(&mut out, unneutralised(field));
            } else {
                push_copy_field(&mut out, field);
            }
        }
        out.push(b'\n');
    }
    out
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
/// transaction). Each table's data is built only when its step is handed
/// over, so one table's rows are held at a time.
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
        let csv = output_bytes(t.output, report, &Filter::default());
        step(Step::Copy {
            statement: format!("COPY staging_{} ({}) FROM stdin", t.name, quoted(t.columns)),
            data: copy_data(&csv, t.columns),
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
        data: metadata_rows(&summary, &id),
    })?;
    let mut batch = Vec::new();
    push_copy_field(&mut batch, &id);
    batch.push(b'\t');
    push_copy_field(&mut batch, &report.method_version);
    batch.push(b'\t');
    push_copy_field(&mut batch, &summary.to_string());
    batch.push(b'\n');
    step(Step::Copy {
        statement: "COPY mrv_batch (batch_id, method_version, manifest) FROM stdin".to_string(),
        data: batch,
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
        Step::Copy { statement, data } => {
            writeln!(w, "{statement};")?;
            w.write_all(&data)?;
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

    #[test]
    fn copy_fields_escape_and_blank_is_null() {
        let csv = b"a,b,c\n\"x\ty\",,\"'=1\\2\"\n";
        let data = copy_data(csv, &["plant_id", "value", "message"]);
        assert_eq!(data, b"x\\ty\t\\N\t=1\\\\2\n");
    }

    #[test]
    fn a_quote_before_ordinary_text_is_kept() {
        assert_eq!(unneutralised("'abc"), "'abc");
        assert_eq!(unneutralised("'-3"), "-3");
    }

    #[test]
    fn reserved_words_are_quoted() {
        assert!(schema().contains("\"check\" text"));
        assert!(schema().contains("\"column\" text"));
    }
}
