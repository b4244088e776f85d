//! The report a run produces, and the views the edges ask of it: filtered
//! days, key figures, default date range. The UI renders these; it never
//! computes an MRV number itself.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::config::ReplicatePolicy;
use crate::import::FileImport;
use crate::method::sensitivity::SensitivityRun;
use crate::method::uncertainty::UncertaintySettings;
use crate::model::{
    Co2Day, Flag, LabReading, PlantOperation, SensorDay, SensorReading, SensorSeries, Severity,
    Text,
};
use crate::qa::Finding;

/// Everything a run produced.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub method_version: String,
    pub replicate_policy: ReplicatePolicy,
    /// The METHOD §7 settings of the run.
    #[serde(default)]
    pub uncertainty: UncertaintySettings,
    /// METHOD §7's sensitivity runs, filtered into a table on demand.
    #[serde(default)]
    pub sensitivity: Vec<SensitivityRun>,
    /// Inputs sorted by name (then content); record `file` indices point here.
    pub files: Vec<FileImport>,
    pub plant_operations: Vec<PlantOperation>,
    /// Sorted by plant, then date.
    pub co2: Vec<Co2Day>,
    /// Every finding of every level, sorted.
    pub findings: Vec<Finding>,
    pub sensor_days: Vec<SensorDay>,
}

impl Report {
    /// A copy without the per-row records (what a UI thread needs to show
    /// and export everything but `lab_readings.csv`).
    pub fn without_records(&self) -> Report {
        Report {
            method_version: self.method_version.clone(),
            replicate_policy: self.replicate_policy,
            uncertainty: self.uncertainty.clone(),
            sensitivity: self.sensitivity.clone(),
            files: self
                .files
                .iter()
                .map(|f| FileImport {
                    name: f.name.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                    kind: f.kind,
                    plant_id: f.plant_id.clone(),
                    period: f.period,
                    generated_at: f.generated_at,
                    encoding: f.encoding,
                    sheets: f.sheets.clone(),
                    account: f.account.clone(),
                    error: f.error.clone(),
                    records: Default::default(),
                    findings: Vec::new(),
                    duplicate_of: f.duplicate_of.clone(),
                })
                .collect(),
            plant_operations: self.plant_operations.clone(),
            co2: self.co2.clone(),
            findings: self.findings.clone(),
            sensor_days: self.sensor_days.clone(),
        }
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

    pub fn file_name(&self, idx: u32) -> &str {
        self.files.get(idx as usize).map(|f| &*f.name).unwrap_or("")
    }

    /// The plants that have days, sorted.
    pub fn plants(&self) -> Vec<Text> {
        let set: BTreeSet<Text> = self.co2.iter().map(|d| d.plant_id.clone()).collect();
        set.into_iter().collect()
    }

    /// First and last day of the daily record.
    pub fn date_span(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.co2.iter().map(|d| d.date).min()?;
        let last = self.co2.iter().map(|d| d.date).max()?;
        Some((first, last))
    }

    /// The dashboard's default range: the last three months of data.
    pub fn default_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let (first, last) = self.date_span()?;
        let from = last
            .checked_sub_months(Months::new(3))
            .and_then(|d| d.succ_opt())
            .unwrap_or(first)
            .max(first);
        Some((from, last))
    }

    /// Days under a filter, in table order.
    pub fn days<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a Co2Day> + 'a {
        self.co2.iter().filter(move |d| filter.matches(d))
    }

    /// Findings counted by severity.
    pub fn findings_by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.severity).or_insert(0) += 1;
        }
        m
    }

    /// pH (or other sensor) readings of one plant unit between two times,
    /// in time order; when there are more than `max_points`, the means of
    /// equal time buckets instead, so a chart never draws millions of
    /// points.
    pub fn sensor_points(
        &self,
        plant_id: &str,
        plant_unit_id: &str,
        from: chrono::NaiveDateTime,
        to: chrono::NaiveDateTime,
        max_points: usize,
    ) -> Vec<(chrono::NaiveDateTime, f64)> {
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

    /// True when every file was recognised and read.
    pub fn all_files_read(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none())
    }
}

/// Which days to show or export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub plant: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `None` = every flag.
    pub flags: Option<BTreeSet<Flag>>,
}

impl Filter {
    pub fn matches(&self, d: &Co2Day) -> bool {
        self.plant.as_deref().is_none_or(|p| p == &*d.plant_id)
            && self.from.is_none_or(|f| d.date >= f)
            && self.to.is_none_or(|t| d.date <= t)
            && self
                .flags
                .as_ref()
                .is_none_or(|s| s.contains(&d.quality_flag))
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// `co2_removal_PLANT_A_2025-04-01_2025-06-30.csv`.
    pub fn co2_file_name(&self, report: &Report) -> String {
        let span = report
            .days(self)
            .fold(None, |acc: Option<(NaiveDate, NaiveDate)>, d| {
                Some(acc.map_or((d.date, d.date), |(a, b)| (a.min(d.date), b.max(d.date))))
            });
        let plant = self.plant.clone().unwrap_or_else(|| "all-plants".into());
        let plant: String = plant
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let from = self.from.or(span.map(|s| s.0));
        let to = self.to.or(span.map(|s| s.1));
        match (from, to) {
            (Some(a), Some(b)) => format!("co2_removal_{plant}_{a}_{b}.csv"),
            _ => format!("co2_removal_{plant}.csv"),
        }
    }
}

/// Key figures over a set of days (METHOD §4: totals over VALID days,
/// summed in date order, with the count of days by flag beside them).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Kpis {
    pub days: u32,
    pub days_by_flag: BTreeMap<Flag, u32>,
    pub valid_days: u32,
    /// Total CO2 removed over VALID days, metric tons.
    pub co2_removed_t: f64,
    /// Mean per VALID day, metric tons.
    pub co2_removed_mean_t_per_day: Option<f64>,
    /// Mean Ca delta over VALID days, mg/L.
    pub ca_delta_mean_mg_per_l: Option<f64>,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
}

impl Kpis {
    pub fn of<'a>(days: impl IntoIterator<Item = &'a Co2Day>) -> Kpis {
        let mut days: Vec<&Co2Day> = days.into_iter().collect();
        // Date order; plant breaks ties so "all plants" is deterministic.
        days.sort_by(|a, b| (a.date, &a.plant_id).cmp(&(b.date, &b.plant_id)));
        let mut by_flag: BTreeMap<Flag, u32> = Flag::ALL.iter().map(|f| (*f, 0)).collect();
        let mut total = 0.0;
        let mut delta_sum = 0.0;
        let mut valid = 0u32;
        for d in &days {
            *by_flag.entry(d.quality_flag).or_insert(0) += 1;
            if d.quality_flag == Flag::Valid {
                if let Some(c) = d.calc {
                    total += c.co2_removed_metric_tons_per_day;
                    delta_sum += c.ca_delta_mg_per_l;
                    valid += 1;
                }
            }
        }
        Kpis {
            days: days.len() as u32,
            days_by_flag: by_flag,
            valid_days: valid,
            co2_removed_t: total,
            co2_removed_mean_t_per_day: (valid > 0).then(|| total / f64::from(valid)),
            ca_delta_mean_mg_per_l: (valid > 0).then(|| delta_sum / f64::from(valid)),
            first_date: days.iter().map(|d| d.date).min(),
            last_date: days.iter().map(|d| d.date).max(),
        }
    }
}
