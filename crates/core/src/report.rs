//! The report a run produces, and the views the edges ask of it: filtered
//! days, key figures, default date range. The UI renders these; it never
//! computes an MRV number itself.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::config::ReplicatePolicy;
use crate::import::FileSummary;
use crate::method::sensitivity::SensitivityRun;
use crate::method::uncertainty::UncertaintySettings;
use crate::model::{Co2Day, DayReviewStatus, Flag, PlantOperation, SensorDay, Severity, Text};
use crate::qa::Finding;

/// Everything a run produced. It names its input files but not their
/// records, which stay in the [`crate::ImportStore`] (the page gets the
/// report alone; the worker keeps the store).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub method_version: String,
    pub replicate_policy: ReplicatePolicy,
    /// How slashed dates were read where their files left the order open.
    #[serde(default)]
    pub ambiguous_dates: crate::config::DayOrder,
    /// The METHOD §7 settings of the run.
    #[serde(default)]
    pub uncertainty: UncertaintySettings,
    /// METHOD §7's sensitivity runs, filtered into a table on demand.
    #[serde(default)]
    pub sensitivity: Vec<SensitivityRun>,
    /// Inputs sorted by name (then content); record `file` indices point here.
    pub files: Vec<FileSummary>,
    pub plant_operations: Vec<PlantOperation>,
    /// Sorted by plant, then date.
    pub co2: Vec<Co2Day>,
    /// Every finding of every level, sorted.
    pub findings: Vec<Finding>,
    pub sensor_days: Vec<SensorDay>,
    /// Only certified days were kept ([`Report::retain_certified`]).
    #[serde(default)]
    pub certified_only: bool,
}

impl Report {
    /// Files that count (not duplicates of an earlier file).
    pub fn active_files(&self) -> impl Iterator<Item = &FileSummary> {
        self.files.iter().filter(|f| f.duplicate_of.is_none())
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

    /// The merged operations days under a filter's plant and dates (its
    /// quality flags belong to CO2 days, which operations days are not).
    pub fn operations<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> impl Iterator<Item = &'a PlantOperation> + 'a {
        self.plant_operations
            .iter()
            .filter(move |o| filter.covers(&o.plant_id, o.date))
    }

    /// Daily pH statistics under a filter's plant and dates.
    pub fn ph_days<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a SensorDay> + 'a {
        self.sensor_days
            .iter()
            .filter(|d| d.parameter_name.eq_ignore_ascii_case("ph"))
            .filter(move |d| filter.covers(&d.plant_id, d.date))
    }

    /// The (plant, unit) pairs that logged pH, of one plant or all, sorted
    /// and each once: the series a zoomed pH chart asks readings for.
    pub fn ph_units(&self, plant: Option<&str>) -> Vec<(Text, Text)> {
        let set: BTreeSet<(Text, Text)> = self
            .sensor_days
            .iter()
            .filter(|d| d.parameter_name.eq_ignore_ascii_case("ph"))
            .filter(|d| plant.is_none_or(|p| p == &*d.plant_id))
            .map(|d| (d.plant_id.clone(), d.plant_unit_id.clone()))
            .collect();
        set.into_iter().collect()
    }

    /// Keep only the certified days (VALID and approved on their current
    /// inputs) in the daily table and the sensitivity runs: the CLI's
    /// `--certified`, applied before the outputs are written, so
    /// `co2_removal.csv`, `sensitivity.csv` and the summary's figures cover
    /// those days only. Operations, findings and files stay whole.
    pub fn retain_certified(&mut self) {
        self.certified_only = true;
        self.co2.retain(Co2Day::is_certified);
        let keep: BTreeSet<(Text, NaiveDate)> = self
            .co2
            .iter()
            .map(|d| (d.plant_id.clone(), d.date))
            .collect();
        for r in &mut self.sensitivity {
            r.valid.retain(|(p, d, _)| keep.contains(&(p.clone(), *d)));
        }
    }

    /// True when every file was recognised and read.
    pub fn all_files_read(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none())
    }
}

/// What is wrong with a file as the app's *Files* tab says it, if anything:
/// a repeat of a file already loaded, or why it could not be read.
pub fn file_problem(f: &FileSummary) -> Option<String> {
    match (&f.duplicate_of, &f.error) {
        (Some(o), _) => Some(format!(
            "Same content as {o}, which is already loaded: ignored so nothing is counted twice."
        )),
        (None, Some(e)) => Some(e.to_string()),
        (None, None) => None,
    }
}

/// Series one chart draws at most. A log of 50,000 distinct units would
/// otherwise make 50,000 traces and a legend no one can read; the chart
/// says how many it left out.
pub const MAX_CHART_SERIES: usize = 40;

/// Skipped ranges the *Files* tab lists per file; the rest are counted
/// (`files.csv` and the QA findings have them all).
pub const MAX_SKIP_RANGES_SHOWN: usize = 200;

/// The first items of a long list, and how many were left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capped<T> {
    pub shown: Vec<T>,
    pub more: usize,
}

impl<T> Capped<T> {
    fn of(items: impl IntoIterator<Item = T>, cap: usize) -> Capped<T> {
        let mut shown = Vec::new();
        let mut more = 0;
        for item in items {
            if shown.len() < cap {
                shown.push(item);
            } else {
                more += 1;
            }
        }
        Capped { shown, more }
    }

    /// `and 12 more units`, when any were left out.
    pub fn more_text(&self, what: &str) -> Option<String> {
        (self.more > 0).then(|| format!("and {} more {what}", self.more))
    }
}

/// The (plant, unit) series a pH chart of `days` draws: sorted, each once,
/// at most [`MAX_CHART_SERIES`].
pub fn chart_series<'a>(days: impl IntoIterator<Item = &'a SensorDay>) -> Capped<(Text, Text)> {
    let set: BTreeSet<(&Text, &Text)> = days
        .into_iter()
        .map(|d| (&d.plant_id, &d.plant_unit_id))
        .collect();
    Capped::of(
        set.into_iter().map(|(p, u)| (p.clone(), u.clone())),
        MAX_CHART_SERIES,
    )
}

/// A file's skipped ranges in the user's terms (`sheet X, rows 35–36:
/// blank`), at most [`MAX_SKIP_RANGES_SHOWN`]: a file of alternating good
/// and bad rows has up to `MAX_SKIP_RANGES` of them.
pub fn skip_ranges(f: &FileSummary) -> Capped<String> {
    let account = f.account_in_run();
    let mut c = Capped::of(
        account.skipped.iter().take(MAX_SKIP_RANGES_SHOWN).map(|r| {
            let rows = if r.first_row == r.last_row {
                format!("row {}", r.first_row)
            } else {
                format!("rows {}–{}", r.first_row, r.last_row)
            };
            match &r.sheet {
                Some(sh) => format!("{sh}, {rows}: {}", r.reason.describe()),
                None => format!("{rows}: {}", r.reason.describe()),
            }
        }),
        MAX_SKIP_RANGES_SHOWN,
    );
    c.more = account.skipped.len().saturating_sub(c.shown.len());
    c
}

/// Text for a Plotly label (legend, hover, title). Plotly reads `<a
/// href>`, `<b>`, `<br>` and entities in labels as markup, so a plant id
/// `<a href=…>` would become a link: `&`, `<` and `>` are written as
/// entities, which Plotly shows as the characters.
pub fn chart_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Every label of a Plotly figure (its JSON) through [`chart_text`]:
/// trace names, texts and hover texts, and titles wherever they are.
pub fn escape_chart_labels(figure: &mut serde_json::Value) {
    use serde_json::Value;
    fn escape_strings(v: &mut Value) {
        match v {
            Value::String(s) => *s = chart_text(s),
            Value::Array(a) => a.iter_mut().for_each(escape_strings),
            _ => {}
        }
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    match k.as_str() {
                        "name" | "text" | "hovertext" => escape_strings(v),
                        "title" if v.is_string() => escape_strings(v),
                        _ => walk(v),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(figure);
}

/// The title of a QA level (METHOD §5), as the QA tab lists them.
pub fn qa_level_title(level: u8) -> &'static str {
    match level {
        1 => "1 · Raw ingestion",
        2 => "2 · Completeness",
        3 => "3 · Schema and types",
        4 => "4 · Quality flags",
        5 => "5 · Scientific review",
        _ => "?",
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

    /// The plant and date part of the filter, for rows that have no
    /// quality flag.
    pub fn covers(&self, plant_id: &str, date: NaiveDate) -> bool {
        self.plant.as_deref().is_none_or(|p| p == plant_id)
            && self.from.is_none_or(|f| date >= f)
            && self.to.is_none_or(|t| date <= t)
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
    /// Days by review status (every status listed, zero included).
    pub days_by_review: BTreeMap<DayReviewStatus, u32>,
    /// VALID days an expert approved on their current inputs.
    pub certified_days: u32,
    /// Total CO2 removed over certified days, metric tons, summed in the
    /// same order as the VALID total.
    pub co2_certified_t: f64,
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
        let mut by_review: BTreeMap<DayReviewStatus, u32> =
            DayReviewStatus::ALL.iter().map(|s| (*s, 0)).collect();
        let mut certified = 0u32;
        let mut certified_t = 0.0;
        for d in &days {
            *by_review.entry(d.review.status).or_insert(0) += 1;
            if d.is_certified() {
                if let Some(c) = d.calc {
                    certified_t += c.co2_removed_metric_tons_per_day;
                    certified += 1;
                }
            }
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
            days_by_review: by_review,
            certified_days: certified,
            co2_certified_t: certified_t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).expect("date")
    }

    fn sensor_day(plant: &str, unit: &str, parameter: &str, date: NaiveDate) -> SensorDay {
        SensorDay {
            plant_id: plant.into(),
            plant_unit_id: unit.into(),
            parameter_name: parameter.into(),
            date,
            mean: 7.0,
            min: 6.9,
            max: 7.1,
            n: 3,
        }
    }

    fn report(sensor_days: Vec<SensorDay>) -> Report {
        Report {
            method_version: String::new(),
            replicate_policy: ReplicatePolicy::Mean,
            ambiguous_dates: Default::default(),
            files: Vec::new(),
            plant_operations: Vec::new(),
            co2: Vec::new(),
            findings: Vec::new(),
            sensor_days,
            uncertainty: Default::default(),
            sensitivity: Vec::new(),
            certified_only: false,
        }
    }

    /// The pH chart's days follow the plant and date filter and leave out
    /// other parameters; a filter on flags (CO2 days only) must not empty
    /// it.
    #[test]
    fn ph_days_follow_plant_and_dates_not_flags() {
        let r = report(vec![
            sensor_day("PLANT_A", "U1", "pH", d(4, 1)),
            sensor_day("PLANT_A", "U1", "PH", d(4, 2)),
            sensor_day("PLANT_A", "U1", "temperature", d(4, 2)),
            sensor_day("PLANT_B", "U9", "pH", d(4, 2)),
            sensor_day("PLANT_A", "U1", "pH", d(4, 3)),
        ]);
        let filter = Filter {
            plant: Some("PLANT_A".into()),
            from: Some(d(4, 2)),
            to: Some(d(4, 3)),
            flags: Some([Flag::Valid].into()),
        };
        let got: Vec<(&str, NaiveDate)> =
            r.ph_days(&filter).map(|s| (&*s.plant_id, s.date)).collect();
        assert_eq!(got, [("PLANT_A", d(4, 2)), ("PLANT_A", d(4, 3))]);
    }

    /// Issue 12: 50,000 distinct pH units made a chart of 50,000 traces.
    #[test]
    fn a_chart_draws_at_most_its_cap_of_series_and_counts_the_rest() {
        let days: Vec<SensorDay> = (0..(MAX_CHART_SERIES + 7))
            .map(|i| sensor_day("PLANT_A", &format!("U{i:05}"), "pH", d(4, 1)))
            .chain([sensor_day("PLANT_A", "U00000", "pH", d(4, 2))])
            .collect();
        let c = chart_series(&days);
        assert_eq!(c.shown.len(), MAX_CHART_SERIES);
        assert_eq!(c.more, 7);
        assert_eq!(c.more_text("units").as_deref(), Some("and 7 more units"));
        assert_eq!(&*c.shown[0].1, "U00000");
    }

    /// Issue 12: a plant id `<a href>` reached Plotly's legend as markup.
    #[test]
    fn chart_labels_are_text_not_markup() {
        assert_eq!(
            chart_text("<a href=\"https://x\">P&A</a>"),
            "&lt;a href=\"https://x\"&gt;P&amp;A&lt;/a&gt;"
        );
        let mut fig = serde_json::json!({
            "data": [{"name": "<b>U1</b>", "x": ["2025-04-01"], "text": ["<br>"], "hovertemplate": "%{y}<extra></extra>"}],
            "layout": {"title": {"text": "<i>t</i>"}, "xaxis": {"title": "<a>"}}
        });
        escape_chart_labels(&mut fig);
        assert_eq!(fig["data"][0]["name"], "&lt;b&gt;U1&lt;/b&gt;");
        assert_eq!(fig["data"][0]["text"][0], "&lt;br&gt;");
        assert_eq!(fig["data"][0]["x"][0], "2025-04-01");
        assert_eq!(fig["data"][0]["hovertemplate"], "%{y}<extra></extra>");
        assert_eq!(fig["layout"]["title"]["text"], "&lt;i&gt;t&lt;/i&gt;");
        assert_eq!(fig["layout"]["xaxis"]["title"], "&lt;a&gt;");
    }

    /// Each unit once, sorted, whatever the number of days it logged.
    #[test]
    fn ph_units_are_listed_once_per_plant_unit() {
        let r = report(vec![
            sensor_day("PLANT_B", "U9", "pH", d(4, 1)),
            sensor_day("PLANT_A", "U2", "pH", d(4, 1)),
            sensor_day("PLANT_A", "U1", "pH", d(4, 1)),
            sensor_day("PLANT_A", "U1", "pH", d(4, 2)),
            sensor_day("PLANT_A", "U3", "conductivity", d(4, 2)),
        ]);
        let all: Vec<(String, String)> = r
            .ph_units(None)
            .into_iter()
            .map(|(p, u)| (p.to_string(), u.to_string()))
            .collect();
        let pair = |p: &str, u: &str| (p.to_string(), u.to_string());
        assert_eq!(
            all,
            [
                pair("PLANT_A", "U1"),
                pair("PLANT_A", "U2"),
                pair("PLANT_B", "U9")
            ]
        );
        assert_eq!(r.ph_units(Some("PLANT_B")).len(), 1);
    }

    /// Every level of METHOD §5 has its own title.
    #[test]
    fn each_qa_level_has_a_title() {
        let titles: BTreeSet<&str> = (1..=5).map(qa_level_title).collect();
        assert_eq!(titles.len(), 5);
        assert!(titles.iter().all(|t| *t != "?"));
    }
}
