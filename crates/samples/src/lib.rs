//! Deterministic sample data: realistic plant and lab files of every kind
//! described in `spec/FORMATS.md`, with every quirk those files have.
//!
//! The importers are tested against these files, so fidelity to the real
//! files matters more than anything else here: text where the real files
//! have text, formulas with stale cached values, overlapping reports, a
//! legacy `.xls` container that is slightly off-standard. The numbers are
//! plausible rather than real, and the same options always give the same
//! bytes (fixed seeds, fixed document timestamps, no libm calls), so the
//! committed `data/` set can be checked against a fresh generation.
//!
//! Native only: the `.xls` files are written by Python's `xlwt`, and the
//! generator is a developer and benchmark tool, not part of the pipeline.
#![cfg(not(target_arch = "wasm32"))]

pub mod builders;
mod dates;
mod error;
pub mod hostile;
mod lab;
mod numfmt;
mod ole;
mod ph;
mod plant_a;
mod plant_b;
mod plant_b_columns;
pub mod plant_c;
mod rng;
pub mod unmapped;
mod xls;

use std::path::Path;

use chrono::{Datelike, NaiveDate};

pub use error::SampleError;

/// What to generate. The three constructors are the sets the project uses;
/// other values work too (any start date, any number of months).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Minutes between two pH readings (the real loggers write one a minute).
    pub ph_cadence_minutes: u32,
    /// pH sensors logging over the whole period. When fewer than three, a
    /// short third log is added so every timestamp form appears.
    pub ph_sensors: usize,
    /// Length of the period in calendar months, from the month of `start`.
    pub months: u32,
    /// First day of the period (sampling, logging and workbooks start here).
    pub start: NaiveDate,
    /// Seed of every random stream.
    pub seed: u64,
}

const SEED: u64 = 0x00C2_E3A7_2025_0401;

const Q2_2025: NaiveDate = match NaiveDate::from_ymd_opt(2025, 4, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

const YEAR_2025: NaiveDate = match NaiveDate::from_ymd_opt(2025, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

impl SampleOptions {
    /// What `data/` holds: Q2 2025 for the three plants, two pH sensors every
    /// 15 minutes (a minute cadence would make the repository heavy).
    pub fn committed() -> Self {
        SampleOptions {
            ph_cadence_minutes: 15,
            ph_sensors: 2,
            months: 3,
            start: Q2_2025,
            seed: SEED,
        }
    }

    /// The committed set with the real one-minute pH cadence.
    pub fn minute() -> Self {
        SampleOptions {
            ph_cadence_minutes: 1,
            ..Self::committed()
        }
    }

    /// A year (2025) of everything, with `sensors` minute-cadence pH logs:
    /// the benchmark set (8 sensors = ~4.2 M pH rows).
    pub fn year(sensors: usize) -> Self {
        SampleOptions {
            ph_cadence_minutes: 1,
            ph_sensors: sensors,
            months: 12,
            start: YEAR_2025,
            seed: SEED,
        }
    }

    fn validate(&self) -> Result<(), SampleError> {
        let bad = |m: String| Err(SampleError::InvalidOptions(m));
        if !(1..=1440).contains(&self.ph_cadence_minutes) {
            return bad(format!(
                "ph_cadence_minutes must be 1..=1440, got {}",
                self.ph_cadence_minutes
            ));
        }
        if self.ph_sensors > 64 {
            return bad(format!(
                "ph_sensors must be at most 64, got {}",
                self.ph_sensors
            ));
        }
        if !(1..=36).contains(&self.months) {
            return bad(format!("months must be 1..=36, got {}", self.months));
        }
        if !(2000..=2090).contains(&self.start.year()) {
            return bad(format!("start must lie in 2000..=2090, got {}", self.start));
        }
        Ok(())
    }

    /// The last day of the period.
    fn end(&self) -> NaiveDate {
        dates::plus_days(dates::month_start(self.start, self.months), -1)
    }
}

/// One generated file: the name it is written under and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl SampleFile {
    /// The source kind the file stands for, as written in the manifest:
    /// `calcium_lab`, `ph_sensor`, `plant_a_operator`, `plant_b_mpor`,
    /// `plant_c_daily_log` or `plant_profile`.
    pub fn kind(&self) -> &'static str {
        kind_of(&self.name)
    }
}

fn kind_of(name: &str) -> &'static str {
    if name.starts_with("calcium_lab") {
        "calcium_lab"
    } else if name.starts_with("PLANT_A-OPS") {
        "plant_a_operator"
    } else if name.starts_with("PLANT_B-MPOR") {
        "plant_b_mpor"
    } else if name.starts_with("PLANT_C-") && name.ends_with(".toml") {
        "plant_profile"
    } else if name.starts_with("PLANT_C-") {
        "plant_c_daily_log"
    } else if name.contains("_PH_") {
        "ph_sensor"
    } else {
        "other"
    }
}

/// Generates every file for `opts`, sorted by name.
pub fn generate(opts: &SampleOptions) -> Result<Vec<SampleFile>, SampleError> {
    opts.validate()?;
    let mut files = Vec::new();
    files.push(lab::generate(opts)?);
    files.extend(ph::generate(opts));
    files.extend(plant_a::generate(opts)?);
    files.extend(plant_b::generate(opts)?);
    files.extend(plant_c::generate(opts)?);
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Generates the files into `dir` (created if needed) together with a
/// `manifest.json` listing them. Returns the names written, sorted, the
/// manifest last.
pub fn write_dir(opts: &SampleOptions, dir: &Path) -> Result<Vec<String>, SampleError> {
    let files = generate(opts)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| SampleError::Io { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut names = Vec::with_capacity(files.len() + 1);
    for f in &files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.bytes).map_err(io(&path))?;
        names.push(f.name.clone());
    }
    let manifest = manifest(&files)?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, manifest).map_err(io(&path))?;
    names.push(MANIFEST.to_string());
    Ok(names)
}

const MANIFEST: &str = "manifest.json";

/// `{"files":[{"name":..,"kind":..,"bytes":..}, ...]}`, sorted by name.
pub fn manifest(files: &[SampleFile]) -> Result<Vec<u8>, SampleError> {
    #[derive(serde::Serialize)]
    struct Entry<'a> {
        name: &'a str,
        kind: &'a str,
        bytes: usize,
    }
    #[derive(serde::Serialize)]
    struct Manifest<'a> {
        files: Vec<Entry<'a>>,
    }
    let mut entries: Vec<Entry<'_>> = files
        .iter()
        .map(|f| Entry {
            name: &f.name,
            kind: f.kind(),
            bytes: f.bytes.len(),
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = serde_json::to_vec_pretty(&Manifest { files: entries }).map_err(|e| {
        SampleError::Encode {
            file: MANIFEST.to_string(),
            message: e.to_string(),
        }
    })?;
    out.push(b'\n');
    Ok(out)
}
