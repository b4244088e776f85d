//! The Parquet datasets read by a real engine: DuckDB (its Python
//! package) reads `run --parquet`'s folders with Hive partitioning and
//! must give the CSVs' row counts, summary.json's per-plant VALID totals,
//! and every double of co2_removal and of the lab readings bit for bit.
//!
//! Without python3's duckdb the test is skipped locally but fails in CI
//! (`CI` set), where `.ci/setup` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;

use crate::cli::TempDir;
use crate::sql::{data_dir, formula_like_inputs, run_ok, FORMULA_LIKE_FILE, FORMULA_LIKE_IDS};

/// Floats go through JSON as Python's repr (shortest round-trip) text,
/// parsed here by Rust: no JSON float parser sits in between.
const QUERY: &str = r#"
import duckdb, json, sys
root = sys.argv[1]
c = duckdb.connect()
def ds(name):
    return f"read_parquet('{root}/{name}/**/*.parquet', hive_partitioning = true)"
out = {"counts": {}, "totals": {}, "co2": {}, "lab": {}}
for name in ["co2_removal", "lab_readings", "plant_operations", "qa_findings"]:
    out["counts"][name] = c.execute(f"SELECT count(*) FROM {ds(name)}").fetchall()[0][0]
for plant, total in c.sql(
    f"SELECT plant_id, sum(co2_removed_metric_tons_per_day ORDER BY date) FROM {ds('co2_removal')} "
    "WHERE quality_flag = 'VALID' GROUP BY plant_id"
).fetchall():
    out["totals"][plant] = repr(total)
rel = c.sql(f"SELECT * FROM {ds('co2_removal')}")
cols = rel.columns
types = [str(t) for t in rel.types]
for row in rel.fetchall():
    r = dict(zip(cols, row))
    key = f"{r['plant_id']} {r['date'].isoformat()}"
    out["co2"][key] = {k: repr(v) for k, v, t in zip(cols, row, types) if t == "DOUBLE" and v is not None}
for col in ["value", "uncertainty"]:
    out["lab"][col] = [repr(v) for (v,) in c.sql(f"SELECT {col} FROM {ds('lab_readings')} WHERE {col} IS NOT NULL").fetchall()]
out["types"] = dict(zip(cols, types))
print(json.dumps(out))
"#;

fn duckdb_available() -> bool {
    Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success())
}

fn bits(s: &str) -> u64 {
    s.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a float: {s:?}"))
        .to_bits()
}

pub(crate) fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Without DuckDB: skipped locally, a failure in CI.
fn duckdb_or_skip() -> bool {
    if duckdb_available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "python3's duckdb missing in CI: .ci/setup installs it"
    );
    eprintln!("skipped: python3 -m pip install duckdb");
    false
}

/// `run --out DIR/out --parquet DIR/parquet INPUTS`: the two folders.
fn run_parquet(dir: &Path, inputs: &Path) -> (PathBuf, PathBuf) {
    let (out, pq) = (dir.join("out"), dir.join("parquet"));
    run_ok(
        &out,
        &["--parquet", pq.to_str().expect("utf-8 path")],
        inputs,
    );
    (out, pq)
}

/// A Python script's stdout, parsed as JSON; its arguments follow it.
fn python_json(script: &str, args: &[&Path]) -> Value {
    let q = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python3");
    assert!(
        q.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&q.stderr)
    );
    serde_json::from_slice(&q.stdout).expect("duckdb's JSON")
}

#[test]
fn duckdb_reads_the_parquet_datasets_as_the_csvs() {
    if !duckdb_or_skip() {
        return;
    }
    let dir = TempDir::new("parquet");
    let (out, pq) = run_parquet(dir.path(), &data_dir());
    let got = python_json(QUERY, &[&pq]);

    for (name, csv) in [
        ("co2_removal", "co2_removal.csv"),
        ("lab_readings", "lab_readings.csv"),
        ("plant_operations", "plant_operations.csv"),
        ("qa_findings", "qa_findings.csv"),
    ] {
        let n = csv_rows(&out.join(csv)).1.len() as u64;
        assert_eq!(got["counts"][name].as_u64(), Some(n), "{name}");
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("summary.json");
    let plants = summary["plants"].as_object().expect("plants");
    assert_eq!(
        got["totals"].as_object().map(|t| t.len()),
        Some(plants.len())
    );
    for (plant, kpis) in plants {
        let want = kpis["co2_removed_t"].to_string();
        let total = got["totals"][plant].as_str().expect("total");
        assert_eq!(bits(total), bits(&want), "{plant}: {total} vs {want}");
    }

    // The types engines see.
    let types = &got["types"];
    assert_eq!(types["date"], "DATE");
    assert_eq!(types["co2_removed_metric_tons_per_day"], "DOUBLE");
    assert_eq!(types["ca_upstream_n"], "BIGINT");
    assert_eq!(types["quality_flag"], "VARCHAR");

    // Every double of co2_removal.csv, keyed by plant and day.
    let (header, rows) = csv_rows(&out.join("co2_removal.csv"));
    let mut compared = 0;
    for row in &rows {
        let key = format!("{} {}", row[0], row[1]);
        let back = &got["co2"][&key];
        for (i, h) in header.iter().enumerate() {
            if types[h.as_str()] != "DOUBLE" {
                continue;
            }
            match (row[i].is_empty(), back[h.as_str()].as_str()) {
                (true, None) => {}
                (false, Some(v)) => {
                    assert_eq!(bits(v), bits(&row[i]), "{key} {h}: {v} vs {}", row[i]);
                    compared += 1;
                }
                (_, v) => panic!("{key} {h}: CSV {:?}, DuckDB {v:?}", row[i]),
            }
        }
    }
    assert!(compared > 1000, "only {compared} floats compared");
    let (header, rows) = csv_rows(&out.join("lab_readings.csv"));
    for col in ["value", "uncertainty"] {
        let i = header.iter().position(|h| h == col).expect("column");
        let mut want: Vec<u64> = rows
            .iter()
            .filter(|r| !r[i].is_empty())
            .map(|r| bits(&r[i]))
            .collect();
        let mut back: Vec<u64> = got["lab"][col]
            .as_array()
            .expect("lab values")
            .iter()
            .map(|v| bits(v.as_str().expect("text")))
            .collect();
        want.sort_unstable();
        back.sort_unstable();
        assert_eq!(back, want, "lab_readings {col}");
    }
}

/// Every text cell of `column` in the dataset's files, read back with the
/// `parquet` crate's own reader.
fn parquet_texts(dataset: &Path, column: &str) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![dataset.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("dataset folder") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let mut texts = Vec::new();
    for f in files {
        let reader = SerializedFileReader::new(std::fs::File::open(&f).expect("file"))
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for row in reader.get_row_iter(None).expect("rows") {
            let row = row.expect("row");
            for (name, field) in row.get_column_iter() {
                if name == column {
                    match field {
                        Field::Str(s) => texts.push(s.clone()),
                        other => panic!("{column}: {other:?}"),
                    }
                }
            }
        }
    }
    texts.sort_unstable();
    texts
}

/// The CSV shows both reading ids as `'=…` (spreadsheet neutralisation);
/// Parquet stores them as the file had them, for the crate's reader and
/// for DuckDB alike.
#[test]
fn formula_like_text_reaches_parquet_as_the_file_had_it() {
    let dir = TempDir::new("parquet-formula");
    let inputs = dir.path().join("inputs");
    formula_like_inputs(&inputs);
    let (out, pq) = run_parquet(dir.path(), &inputs);
    let (header, rows) = csv_rows(&out.join("lab_readings.csv"));
    let id = header
        .iter()
        .position(|h| h == "reading_id")
        .expect("reading_id");
    assert!(rows.iter().all(|r| r[id].starts_with("'=")), "{rows:?}");

    let mut want: Vec<String> = FORMULA_LIKE_IDS.iter().map(|s| s.to_string()).collect();
    want.sort_unstable();
    let lab = pq.join("lab_readings");
    assert_eq!(parquet_texts(&lab, "reading_id"), want);
    assert_eq!(
        parquet_texts(&lab, "source_file"),
        [FORMULA_LIKE_FILE, FORMULA_LIKE_FILE]
    );

    if !duckdb_or_skip() {
        return;
    }
    let got = python_json(
        r#"
import duckdb, json, sys
c = duckdb.connect()
rows = c.sql(f"SELECT reading_id, source_file FROM read_parquet('{sys.argv[1]}/**/*.parquet', hive_partitioning = true) ORDER BY 1").fetchall()
print(json.dumps([list(r) for r in rows]))
"#,
        &[&lab],
    );
    let want: Vec<Value> = want
        .iter()
        .map(|id| serde_json::json!([id, FORMULA_LIKE_FILE]))
        .collect();
    assert_eq!(got, Value::Array(want));
}
