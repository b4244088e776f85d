//! The imported files of a session with their records: what the worker (or
//! a CLI run) keeps between runs, apart from the report a run produces.

use chrono::NaiveDateTime;

use crate::import::{FileImport, Records};
use crate::model::{LabReading, SensorReading, SensorSeries};
use crate::report::Report;

/// Every imported file with its records, each findable by its SHA-256.
/// `assemble` puts the files in run order and marks repeats; a [`Report`]
/// made from the store names the same files in the same order.
#[derive(Debug, Default)]
pub struct ImportStore {
    files: Vec<FileImport>,
}

impl ImportStore {
    pub fn new(files: Vec<FileImport>) -> ImportStore {
        ImportStore { files }
    }

    pub fn add(&mut self, file: FileImport) {
        self.files.push(file);
    }

    /// Forget one file, named and hashed as the page shows it. The same
    /// file picked twice is two entries (the later one a duplicate after a
    /// run): the later goes, so the one that counts stays.
    pub fn remove(&mut self, name: &str, sha256: &str) -> bool {
        self.take(name, sha256).is_some()
    }

    /// As [`ImportStore::remove`], handing the file back with its place so
    /// an undo can [`restore`](ImportStore::restore) it without reading it
    /// again (the page no longer has the bytes of a sample file).
    pub fn take(&mut self, name: &str, sha256: &str) -> Option<(usize, FileImport)> {
        let i = self
            .files
            .iter()
            .rposition(|f| &*f.name == name && f.sha256 == sha256)?;
        Some((i, self.files.remove(i)))
    }

    /// Put a taken file back at its place (or last, if the store shrank).
    pub fn restore(&mut self, at: usize, file: FileImport) {
        let at = at.min(self.files.len());
        self.files.insert(at, file);
    }

    /// Every file, for a Clear that may be undone.
    pub fn into_files(self) -> Vec<FileImport> {
        self.files
    }

    pub fn clear(&mut self) {
        self.files.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The files in run order once assembled.
    pub fn files(&self) -> &[FileImport] {
        &self.files
    }

    pub(crate) fn files_mut(&mut self) -> &mut Vec<FileImport> {
        &mut self.files
    }

    /// The records of the file that counts for these bytes.
    pub fn records(&self, sha256: &str) -> Option<&Records> {
        self.active_files()
            .find(|f| f.sha256 == sha256)
            .map(|f| &f.records)
    }

    /// Files that count (not duplicates of an earlier file).
    pub fn active_files(&self) -> impl Iterator<Item = &FileImport> {
        self.files.iter().filter(|f| f.duplicate_of.is_none())
    }

    pub fn lab_readings(&self) -> impl Iterator<Item = &LabReading> {
        self.active_files().flat_map(|f| f.records.lab.iter())
    }

    /// Sensor readings with their series.
    pub fn sensor_readings(&self) -> impl Iterator<Item = (&SensorSeries, &SensorReading)> {
        self.active_files().flat_map(|f| {
            f.records
                .sensor
                .iter()
                .filter_map(move |r| f.records.series.get(r.series as usize).map(|s| (s, r)))
        })
    }

    /// pH (or other sensor) readings of one plant unit between two times,
    /// in time order; when there are more than `max_points`, the means of
    /// equal time buckets instead, so a chart never draws millions of
    /// points.
    pub fn sensor_points(
        &self,
        plant_id: &str,
        plant_unit_id: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
        max_points: usize,
    ) -> Vec<(NaiveDateTime, f64)> {
        let mut pts: Vec<(chrono::NaiveDateTime, f64)> = self
            .sensor_readings()
            .filter(|(s, r)| {
                &*s.plant_id == plant_id
                    && &*s.plant_unit_id == plant_unit_id
                    && s.parameter_name.eq_ignore_ascii_case("ph")
                    && r.at >= from
                    && r.at <= to
            })
            .map(|(_, r)| (r.at, r.value))
            .collect();
        pts.sort_by_key(|p| p.0);
        let max_points = max_points.max(1);
        if pts.len() <= max_points {
            return pts;
        }
        let span = (to - from).num_seconds().max(1);
        let bucket = (span + max_points as i64 - 1) / max_points as i64;
        let mut out: Vec<(chrono::NaiveDateTime, f64)> = Vec::with_capacity(max_points);
        let mut cur: Option<(i64, f64, u32)> = None;
        for (t, v) in pts {
            let b = (t - from).num_seconds() / bucket.max(1);
            match &mut cur {
                Some((cb, sum, n)) if *cb == b => {
                    *sum += v;
                    *n += 1;
                }
                _ => {
                    if let Some((cb, sum, n)) = cur.take() {
                        out.push((
                            from + chrono::Duration::seconds(cb * bucket),
                            sum / f64::from(n),
                        ));
                    }
                    cur = Some((b, v, 1));
                }
            }
        }
        if let Some((cb, sum, n)) = cur {
            out.push((
                from + chrono::Duration::seconds(cb * bucket),
                sum / f64::from(n),
            ));
        }
        out
    }
}

/// A run: the report and the imports it was made from.
#[derive(Debug)]
pub struct Run {
    pub report: Report,
    pub store: ImportStore,
}

// A run reads as its report (`run.co2`, `run.findings`); only the outputs
// that list records need the store beside it.
impl std::ops::Deref for Run {
    type Target = Report;
    fn deref(&self) -> &Report {
        &self.report
    }
}
