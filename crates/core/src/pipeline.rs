//! The whole run: files in, report out.
//!
//! `run` = `import` every file + `assemble`. The two halves are public so
//! an edge that keeps imports (the browser, a worker) can re-assemble with
//! new settings, or after adding or removing a file, without reading
//! every file again.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::config::{Config, ReplicatePolicy, Review};
use crate::error::{FileError, FileErrorKind};
use crate::import::{self, FileImport};
use crate::method::{self, merge::ReportInfo, METHOD_VERSION};
use crate::model::{LabReading, OpsRow, SensorDay, Severity, Text};
use crate::qa;
use crate::qa::Finding;
use crate::report::Report;
use crate::store::{ImportStore, Run};

/// One input file: its name as the user sees it and its bytes.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Source {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Source {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// SHA-256 of the bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    s
}

/// Read one file (never fails; see `FileImport::error`).
pub fn read_file(name: &str, bytes: &[u8], config: &Config) -> FileImport {
    read_file_with(name, bytes, config, &crate::spread::OneThread)
}

/// [`read_file`], a large CSV read in pieces handed to `spread` (see
/// [`crate::spread`]); the same import whatever `spread` does.
pub fn read_file_with(
    name: &str,
    bytes: &[u8],
    config: &Config,
    spread: &dyn crate::spread::Spread,
) -> FileImport {
    let mut f = import::import_file_with(name, bytes, config, spread);
    f.sha256 = sha256_hex(bytes);
    f
}

/// Everything, in one call. Plant profiles among the sources are read
/// first, so they read the operations files beside them.
pub fn run(sources: &[Source], config: &Config) -> Run {
    let (profiles, data): (Vec<&Source>, Vec<&Source>) = sources
        .iter()
        .partition(|s| crate::profile::looks_like_profile(&s.bytes));
    let mut files: Vec<FileImport> = profiles
        .iter()
        .map(|s| read_file(&s.name, &s.bytes, config))
        .collect();
    let config = with_profiles(config, &files);
    files.extend(data.iter().map(|s| read_file(&s.name, &s.bytes, &config)));
    let mut store = ImportStore::new(files);
    let report = assemble(&mut store, &config);
    Run { report, store }
}

/// The settings with the valid profiles of these imports in force (in
/// file-name order, a repeated file once), for reading the other files.
/// A profile's meter uncertainty applies unless the settings give one.
pub fn with_profiles(config: &Config, files: &[FileImport]) -> Config {
    let mut config = config.clone();
    let mut ordered: Vec<&FileImport> = files.iter().collect();
    ordered.sort_by(|a, b| (&a.name, &a.sha256).cmp(&(&b.name, &b.sha256)));
    let mut seen = std::collections::HashSet::new();
    for f in ordered {
        if !f.sha256.is_empty() && !seen.insert(f.sha256.clone()) {
            continue;
        }
        for p in &f.records.profiles {
            if let Some(m) = p.meter_uncertainty_percent {
                config
                    .meter_uncertainty_percent
                    .entry(p.plant_id.clone())
                    .or_insert(m);
            }
            config.profiles.push(p.clone());
        }
    }
    config
}

/// Order the store's files, mark repeats, and run the method. The store
/// keeps the records (re-pointed at the report's file list); the report
/// only names the files.
pub fn assemble(store: &mut ImportStore, config: &Config) -> Report {
    let files = store.files_mut();
    // Input order (METHOD §2, §6): by file name; identical names by content
    // so the order never depends on how the files were given.
    files.sort_by(|a, b| (&a.name, &a.sha256).cmp(&(&b.name, &b.sha256)));
    let mut first_with: HashMap<String, Text> = HashMap::new();
    for (i, f) in files.iter_mut().enumerate() {
        let idx = i as u32;
        for r in &mut f.records.lab {
            r.file = idx;
        }
        for s in &mut f.records.series {
            s.file = idx;
        }
        for r in &mut f.records.ops {
            r.file = idx;
        }
        f.duplicate_of = None;
        // A file left unread for its size has no hash: it duplicates nothing.
        if f.bytes > 0 && !f.sha256.is_empty() {
            if let Some(orig) = first_with.get(&f.sha256) {
                f.duplicate_of = Some(orig.clone());
            } else {
                first_with.insert(f.sha256.clone(), f.name.clone());
            }
        }
    }

    // The method only reads the imports from here on.
    let files: &[FileImport] = files;
    let mut findings: Vec<Finding> = Vec::new();
    for f in files {
        match &f.duplicate_of {
            Some(orig) => findings.push(
                qa::DUPLICATE_FILE
                    .finding(
                        Severity::Warning,
                        FileError::new(FileErrorKind::Duplicate {
                            of: orig.to_string(),
                        })
                        .to_string(),
                    )
                    .file(&f.name),
            ),
            None => findings.extend(f.findings.iter().cloned()),
        }
    }
    let active: Vec<&FileImport> = files.iter().filter(|f| f.duplicate_of.is_none()).collect();
    let names: Vec<Text> = files.iter().map(|f| f.name.clone()).collect();

    let lab: Vec<&LabReading> = active.iter().flat_map(|f| f.records.lab.iter()).collect();
    let calcium = method::samples::calcium_days(
        &lab,
        config.replicate_policy,
        config.lab_default_relative,
        &names,
        &mut findings,
    );

    let ops_rows: Vec<&OpsRow> = active.iter().flat_map(|f| f.records.ops.iter()).collect();
    let infos: Vec<ReportInfo> = files
        .iter()
        .map(|f| ReportInfo {
            name: f.name.clone(),
            generated_at: f.generated_at,
            period_end: f.period.map(|p| p.1),
        })
        .collect();
    let plant_operations = method::merge::merge(&ops_rows, &infos, &mut findings);

    let mut co2 = method::days::co2_days(&plant_operations, &calcium, &mut findings);
    method::uncertainty::day_sigmas(&mut co2, &calcium, config);
    let sensitivity = sensitivity_runs(&lab, &plant_operations, &calcium, config, &names);

    qa::completeness::date_gaps(&co2, &mut findings);
    qa::completeness::missing_partners(&calcium, &mut findings);
    qa::review::delta_outliers(&co2, &mut findings);
    qa::review::swapped_samples(&co2, &mut findings);
    let used = day_files(&lab, &active, &co2);
    for d in &mut co2 {
        if let Some(u) = used.get(&(d.plant_id.clone(), d.date)) {
            d.inputs_sha256 = day_inputs_sha256(files, u);
        }
    }
    // Decisions in settings first, then reviews files in file order and
    // row order: the last decision on a day counts.
    let reviews: Vec<&Review> = config
        .reviews
        .iter()
        .chain(active.iter().flat_map(|f| f.records.reviews.iter()))
        .collect();
    qa::review::review_status(&mut co2, &reviews, &mut findings);

    let sensor_days = sensor_days(&active);
    findings.sort();
    let plants: Vec<Text> = {
        let mut p: Vec<Text> = co2.iter().map(|d| d.plant_id.clone()).collect();
        p.dedup();
        p
    };
    Report {
        method_version: METHOD_VERSION.to_string(),
        replicate_policy: config.replicate_policy,
        ambiguous_dates: config.ambiguous_dates,
        uncertainty: method::uncertainty::UncertaintySettings::of(config, &plants),
        sensitivity,
        files: files.iter().map(|f| f.file.clone()).collect(),
        plant_operations,
        co2,
        findings,
        sensor_days,
        certified_only: false,
    }
}

/// The files (indices into the sorted file list) whose rows each day
/// used: those with a calcium row of the plant-day upstream or downstream,
/// and the chosen operations row's file.
pub(crate) fn day_files(
    lab: &[&LabReading],
    active: &[&FileImport],
    days: &[crate::model::Co2Day],
) -> BTreeMap<(Text, chrono::NaiveDate), std::collections::BTreeSet<u32>> {
    let mut out: BTreeMap<(Text, chrono::NaiveDate), std::collections::BTreeSet<u32>> =
        BTreeMap::new();
    for r in lab {
        if r.location != crate::model::Location::Other
            && r.parameter_name.eq_ignore_ascii_case("calcium")
        {
            out.entry((r.plant_id.clone(), r.when.date()))
                .or_default()
                .insert(r.file);
        }
    }
    let ops_file: HashMap<&str, u32> = active
        .iter()
        .filter_map(|f| f.records.ops.first().map(|r| (&*f.name, r.file)))
        .collect();
    for d in days {
        if let Some(i) = d.ops_source.as_deref().and_then(|s| ops_file.get(s)) {
            out.entry((d.plant_id.clone(), d.date))
                .or_default()
                .insert(*i);
        }
    }
    out
}

/// A day's `inputs_sha256`: the SHA-256 of the SHA-256s (lower-case hex,
/// one per line, each ending in a newline, sorted, each once) of the files
/// it used. Content alone: renaming a file or giving the files in another
/// order leaves it as it is; changing a byte of one changes it.
pub fn day_inputs_sha256(files: &[FileImport], used: &std::collections::BTreeSet<u32>) -> String {
    let hashes: std::collections::BTreeSet<&str> = used
        .iter()
        .filter_map(|i| files.get(*i as usize))
        .map(|f| f.sha256.as_str())
        .collect();
    let mut text = String::with_capacity(hashes.len() * 65);
    for h in hashes {
        text.push_str(h);
        text.push('\n');
    }
    sha256_hex(text.as_bytes())
}

/// METHOD §7's seven sensitivity runs on the data already merged: the
/// other replicate policy needs §2's day values again, nothing else is
/// read or merged twice. Their findings are dropped.
fn sensitivity_runs(
    lab: &[&LabReading],
    ops: &[crate::model::PlantOperation],
    calcium: &method::samples::CalciumDays,
    config: &Config,
    names: &[Text],
) -> Vec<method::sensitivity::SensitivityRun> {
    let other_policy = match config.replicate_policy {
        ReplicatePolicy::Mean => ReplicatePolicy::First,
        ReplicatePolicy::First => ReplicatePolicy::Mean,
    };
    let mut dropped = Vec::new();
    let other = method::samples::calcium_days(
        lab,
        other_policy,
        config.lab_default_relative,
        names,
        &mut dropped,
    );
    method::sensitivity::runs(ops, calcium, other_policy, &other)
}

/// Daily mean, min and max per plant, unit and parameter. Sums run over
/// contiguous runs of one series and day, added in input order (files by
/// name, rows top to bottom), so the result never depends on file order.
fn sensor_days(files: &[&FileImport]) -> Vec<SensorDay> {
    #[derive(Clone, Copy)]
    struct Acc {
        sum: f64,
        min: f64,
        max: f64,
        n: u32,
    }
    impl Acc {
        const EMPTY: Acc = Acc {
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            n: 0,
        };
        fn add(&mut self, o: Acc) {
            self.sum += o.sum;
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
            self.n += o.n;
        }
    }
    type Key = (Text, Text, Text, chrono::NaiveDate);
    let mut acc: BTreeMap<Key, Acc> = BTreeMap::new();
    for f in files {
        let mut run: Option<((u32, chrono::NaiveDate), Acc)> = None;
        let mut flush = |run: Option<((u32, chrono::NaiveDate), Acc)>| {
            if let Some(((series, date), a)) = run {
                if let Some(s) = f.records.series.get(series as usize) {
                    let key = (
                        s.plant_id.clone(),
                        s.plant_unit_id.clone(),
                        s.parameter_name.clone(),
                        date,
                    );
                    acc.entry(key).or_insert(Acc::EMPTY).add(a);
                }
            }
        };
        for r in &f.records.sensor {
            let key = (r.series, r.at.date());
            match &mut run {
                Some((k, a)) if *k == key => {
                    a.sum += r.value;
                    a.min = a.min.min(r.value);
                    a.max = a.max.max(r.value);
                    a.n += 1;
                }
                _ => {
                    flush(run.take());
                    run = Some((
                        key,
                        Acc {
                            sum: r.value,
                            min: r.value,
                            max: r.value,
                            n: 1,
                        },
                    ));
                }
            }
        }
        flush(run);
    }
    acc.into_iter()
        .map(
            |((plant_id, plant_unit_id, parameter_name, date), a)| SensorDay {
                plant_id,
                plant_unit_id,
                parameter_name,
                date,
                mean: a.sum / f64::from(a.n.max(1)),
                min: a.min,
                max: a.max,
                n: a.n,
            },
        )
        .collect()
}
