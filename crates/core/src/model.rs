//! The normalized records of METHOD.md §1 and the enums they share.
//!
//! These types are plain data: no I/O, no signals, nothing platform-specific,
//! so the same values flow from the importers through the method into the
//! CSV/JSON exports, the browser and (later) a database.

use std::fmt;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// An interned piece of text (plant ids, unit ids, file names): cheap to
/// clone and compare, so millions of sensor readings can share one copy.
pub type Text = Arc<str>;

/// Where a sample was taken relative to the alkalinity dosing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Upstream,
    Downstream,
    Other,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Upstream => "upstream",
            Location::Downstream => "downstream",
            Location::Other => "other",
        }
    }
}

/// When a reading was taken. Lab samples carry a sampling day only; sensors
/// carry a wall-clock time (the plant's local time as written in the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum When {
    Day(NaiveDate),
    At(NaiveDateTime),
}

impl When {
    pub fn date(self) -> NaiveDate {
        match self {
            When::Day(d) => d,
            When::At(t) => t.date(),
        }
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Day(d) => write!(f, "{d}"),
            When::At(t) => f.write_str(&crate::timestamp::iso_datetime(*t, 'T')),
        }
    }
}

/// Index of an input file in [`crate::Report::files`].
pub type FileIdx = u32;

/// A position in a source file, in the user's terms: the sheet (workbooks
/// only), the 1-based row as Excel or a text editor shows it, and the
/// 0-based column index (shown as a letter, `H`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellRef {
    pub sheet: Option<Text>,
    pub row: Option<u32>,
    pub col: Option<u32>,
}

impl CellRef {
    pub fn row(sheet: Option<&Text>, row: u32) -> Self {
        CellRef {
            sheet: sheet.cloned(),
            row: Some(row),
            col: None,
        }
    }

    pub fn cell(sheet: Option<&Text>, row: u32, col: u32) -> Self {
        CellRef {
            sheet: sheet.cloned(),
            row: Some(row),
            col: Some(col),
        }
    }

    /// The column as Excel letters (`A`, `H`, `AA`), empty when unknown.
    pub fn col_letters(&self) -> String {
        self.col.map(col_letters).unwrap_or_default()
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(s) = &self.sheet {
            parts.push(format!("sheet '{s}'"));
        }
        if let Some(r) = self.row {
            parts.push(format!("row {r}"));
        }
        if let Some(c) = self.col {
            parts.push(format!("column {}", col_letters(c)));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Excel column letters for a 0-based column index (0 → `A`, 26 → `AA`).
pub fn col_letters(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// One calcium (or other lab) reading, one row of a lab CSV.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabReading {
    pub plant_id: Text,
    pub plant_unit_id: Text,
    pub location: Location,
    pub when: When,
    pub parameter_name: Text,
    pub medium: Text,
    pub value: f64,
    pub unit: Text,
    pub uncertainty: Option<f64>,
    pub reading_id: Text,
    pub replicate_num: Option<u32>,
    pub file: FileIdx,
    pub row: u32,
    /// JSON object of the columns not mapped above.
    pub metadata: Text,
    /// The value's 0-based column, for `provenance.csv`.
    #[serde(default)]
    pub value_col: Option<u32>,
}

/// What a sensor series has in common; readings point at it by index so a
/// year of minute data stays small.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SensorSeries {
    pub plant_id: Text,
    pub plant_unit_id: Text,
    pub location: Location,
    pub sensor_id: Text,
    pub parameter_name: Text,
    pub unit: Text,
    pub file: FileIdx,
    /// JSON object of the columns not mapped above.
    pub metadata: Text,
}

/// One sensor reading (one row of a pH log).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    pub series: u32,
    pub at: NaiveDateTime,
    pub value: f64,
    pub row: u32,
}

/// One day-row of a plant's operations workbook, before merging (§3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpsRow {
    pub plant_id: Text,
    pub date: NaiveDate,
    pub actual_eff_flow_mgd: Option<f64>,
    /// `None` when blank; see `has_influent_column` for "absent from source".
    pub actual_inf_flow_mgd: Option<f64>,
    pub has_influent_column: bool,
    pub max_eff_flow_mgd: Option<f64>,
    pub min_eff_flow_mgd: Option<f64>,
    pub bypass_flow_mgd: Option<f64>,
    pub bypass_hours_per_day: Option<f64>,
    pub precip_in: Option<f64>,
    pub file: FileIdx,
    pub sheet: Text,
    pub row: u32,
    /// The effluent flow's 0-based column, for `provenance.csv`.
    #[serde(default)]
    pub eff_flow_col: Option<u32>,
    /// The unit the flows were read in; `None` for a `rows = "by_content"`
    /// layout's MGD flows (Plant A and B), which METHOD §4 converts.
    #[serde(default)]
    pub flow_unit: Option<crate::profile::Unit>,
    /// The effluent flow in m³/day as read or converted at import
    /// (PROFILES.md "Units"); `None` for MGD readers (METHOD §4 converts).
    #[serde(default)]
    pub actual_eff_flow_m3_per_day: Option<f64>,
}

impl OpsRow {
    /// METHOD §3: effluent flow 0 or blank while influent is blank or absent
    /// marks an incomplete day, never a measured zero.
    pub fn is_provisional(&self) -> bool {
        let eff_missing = matches!(self.actual_eff_flow_mgd, None | Some(0.0));
        eff_missing && self.actual_inf_flow_mgd.is_none()
    }
}

/// Another row seen for a merged day (§3 `superseded`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Superseded {
    pub source_file: Text,
    pub source_row: u32,
    pub actual_eff_flow_mgd: Option<f64>,
    pub provisional: bool,
    /// Where the row sat, for `provenance.csv`; not in
    /// `plant_operations.csv`'s `superseded` JSON.
    #[serde(skip)]
    pub source_sheet: Text,
    #[serde(skip)]
    pub eff_flow_col: Option<u32>,
}

/// One plant-day after merging overlapping reports (§3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlantOperation {
    pub plant_id: Text,
    pub date: NaiveDate,
    pub actual_eff_flow_mgd: Option<f64>,
    pub actual_inf_flow_mgd: Option<f64>,
    pub max_eff_flow_mgd: Option<f64>,
    pub min_eff_flow_mgd: Option<f64>,
    pub bypass_flow_mgd: Option<f64>,
    pub bypass_hours_per_day: Option<f64>,
    pub precip_in: Option<f64>,
    pub source_file: Text,
    pub source_sheet: Text,
    pub source_row: u32,
    pub report_generated_at: Option<NaiveDateTime>,
    pub provisional: bool,
    pub superseded: Vec<Superseded>,
    /// The chosen row's effluent flow column (0-based).
    #[serde(default)]
    pub source_eff_flow_col: Option<u32>,
    /// As the chosen row's (see [`OpsRow::flow_unit`]).
    #[serde(default)]
    pub flow_unit: Option<crate::profile::Unit>,
    #[serde(default)]
    pub actual_eff_flow_m3_per_day: Option<f64>,
}

/// The daily quality flag of §4, in check order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Flag {
    #[serde(rename = "VALID")]
    Valid,
    #[serde(rename = "INVALID")]
    Invalid,
    #[serde(rename = "MISSING_CA_READINGS")]
    MissingCaReadings,
    #[serde(rename = "INVALID_FLOW")]
    InvalidFlow,
    #[serde(rename = "NO_OPS_DATA")]
    NoOpsData,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::Valid,
        Flag::Invalid,
        Flag::MissingCaReadings,
        Flag::InvalidFlow,
        Flag::NoOpsData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Valid => "VALID",
            Flag::Invalid => "INVALID",
            Flag::MissingCaReadings => "MISSING_CA_READINGS",
            Flag::InvalidFlow => "INVALID_FLOW",
            Flag::NoOpsData => "NO_OPS_DATA",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The flag as a reader says it; the code stays for files and tooltips.
    pub fn words(self) -> &'static str {
        match self {
            Flag::Valid => "Valid",
            Flag::Invalid => "Invalid (no removal)",
            Flag::MissingCaReadings => "Missing calcium",
            Flag::InvalidFlow => "Invalid flow",
            Flag::NoOpsData => "No operations data",
        }
    }

    /// Whether the CO2 columns are computed for a day with this flag.
    pub fn is_calculated(self) -> bool {
        matches!(self, Flag::Valid | Flag::Invalid)
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The derived columns of a calculated day (§4), kept together so a day
/// either has all of them or none.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Co2Calc {
    pub ca_delta_mg_per_l: f64,
    pub flow_m3_per_day: f64,
    pub flow_l_per_day: f64,
    pub ca_to_caco3_ratio: f64,
    pub co2_to_caco3_ratio: f64,
    pub caco3_mg: f64,
    pub co2_mg: f64,
    pub co2_removed_metric_tons_per_day: f64,
}

/// One row of `co2_removal` (§4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Co2Day {
    pub plant_id: Text,
    pub date: NaiveDate,
    pub ca_upstream_mg_per_l: Option<f64>,
    pub ca_downstream_mg_per_l: Option<f64>,
    pub flow_mgd: Option<f64>,
    pub calc: Option<Co2Calc>,
    pub quality_flag: Flag,
    pub validation_message: String,
    pub ca_upstream_n: u32,
    pub ca_downstream_n: u32,
    pub ops_source: Option<Text>,
    /// The unit of the operations row's flows (`None`: MGD).
    #[serde(default)]
    pub flow_unit: Option<crate::profile::Unit>,
    /// METHOD §7's standard uncertainties.
    #[serde(default)]
    pub sigma: DaySigma,
    /// SHA-256 over the files whose rows made the day (see
    /// `method::days::inputs_sha256`): a decision recorded against another
    /// hash was taken on other data and no longer counts.
    #[serde(default)]
    pub inputs_sha256: String,
    /// The expert's decision on the day (METHOD §5 level 5). It never
    /// changes a number; it decides whether the day enters the certified
    /// total.
    #[serde(default)]
    pub review: DayReview,
}

impl Co2Day {
    /// METHOD §4 with level-5 review: a VALID day an expert approved on the
    /// inputs it has now.
    pub fn is_certified(&self) -> bool {
        self.quality_flag == Flag::Valid
            && self.calc.is_some()
            && self.review.status == DayReviewStatus::Approved
    }
}

/// Where a day's review stands.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DayReviewStatus {
    Approved,
    Rejected,
    #[default]
    Unreviewed,
    /// Decided on inputs whose hash differs from the day's current one: the
    /// decision does not count until the day is reviewed again.
    InputChanged,
}

impl DayReviewStatus {
    pub const ALL: [DayReviewStatus; 4] = [
        DayReviewStatus::Approved,
        DayReviewStatus::Rejected,
        DayReviewStatus::Unreviewed,
        DayReviewStatus::InputChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DayReviewStatus::Unreviewed => "unreviewed",
            DayReviewStatus::Approved => "approved",
            DayReviewStatus::Rejected => "rejected",
            DayReviewStatus::InputChanged => "input_changed",
        }
    }
}

/// The decision a day carries: the last one recorded for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayReview {
    pub status: DayReviewStatus,
    pub note: String,
    pub reviewer: String,
}

/// A day's standard uncertainties (METHOD §7): the readings' whenever they
/// exist, the derived ones on calculated days only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DaySigma {
    pub ca_upstream_mg_per_l: Option<f64>,
    pub ca_downstream_mg_per_l: Option<f64>,
    pub calc: Option<Co2Sigma>,
}

/// The derived uncertainties of a calculated day (METHOD §7).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Co2Sigma {
    pub ca_delta_mg_per_l: f64,
    pub co2_lab_t: f64,
    pub co2_flow_t: f64,
    pub co2_t: f64,
}

/// QA severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Daily statistics of one sensor series' readings, for charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorDay {
    pub plant_id: Text,
    pub plant_unit_id: Text,
    pub parameter_name: Text,
    pub date: NaiveDate,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub n: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_match_excel() {
        assert_eq!(col_letters(0), "A");
        assert_eq!(col_letters(7), "H");
        assert_eq!(col_letters(25), "Z");
        assert_eq!(col_letters(26), "AA");
        assert_eq!(col_letters(97), "CT");
        assert_eq!(col_letters(16383), "XFD");
    }

    #[test]
    fn provisional_means_zero_or_blank_effluent_without_influent() {
        let mut r = OpsRow {
            plant_id: "P".into(),
            date: NaiveDate::from_ymd_opt(2025, 4, 4).unwrap_or_default(),
            actual_eff_flow_mgd: Some(0.0),
            actual_inf_flow_mgd: None,
            has_influent_column: true,
            max_eff_flow_mgd: None,
            min_eff_flow_mgd: None,
            bypass_flow_mgd: None,
            bypass_hours_per_day: None,
            precip_in: None,
            file: 0,
            sheet: "S".into(),
            row: 13,
            eff_flow_col: None,
            flow_unit: None,
            actual_eff_flow_m3_per_day: None,
        };
        assert!(r.is_provisional());
        r.actual_eff_flow_mgd = None;
        assert!(r.is_provisional());
        r.actual_inf_flow_mgd = Some(9.1);
        assert!(!r.is_provisional());
        r.actual_inf_flow_mgd = None;
        r.actual_eff_flow_mgd = Some(9.1);
        assert!(!r.is_provisional());
    }
}
