//! Settings shared by the command line and the browser.
//!
//! Everything a user or a deployment may want to change lives here with a
//! documented default, so no importer or rule hard-codes a plant's naming.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use crate::model::Location;

/// How a day's calcium value is chosen when a location has several samples
/// (METHOD §2 step 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplicatePolicy {
    /// Mean of the day's distinct samples (the method's default).
    #[default]
    Mean,
    /// The first row of the group in input order, before duplicate
    /// collapsing: reproduces the legacy pipeline only.
    First,
}

impl ReplicatePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicatePolicy::Mean => "mean",
            ReplicatePolicy::First => "first",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mean" => Some(ReplicatePolicy::Mean),
            "first" => Some(ReplicatePolicy::First),
            _ => None,
        }
    }
}

impl fmt::Display for ReplicatePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a slashed date such as `04/05/2025` is read. Each file decides for
/// itself when one of its dates has a part above 12; this is the order
/// assumed when none does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DayOrder {
    /// `M/D/YYYY`, as the US plants' exports write dates.
    #[default]
    MonthFirst,
    /// `D/M/YYYY`.
    DayFirst,
}

impl DayOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            DayOrder::MonthFirst => "mdy",
            DayOrder::DayFirst => "dmy",
        }
    }

    /// How a message shows the form.
    pub fn pattern(self) -> &'static str {
        match self {
            DayOrder::MonthFirst => "MM/DD/YYYY",
            DayOrder::DayFirst => "DD/MM/YYYY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mdy" | "m/d/y" => Some(DayOrder::MonthFirst),
            "dmy" | "d/m/y" => Some(DayOrder::DayFirst),
            _ => None,
        }
    }
}

impl fmt::Display for DayOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Caps that protect the app from hostile or accidental huge inputs. They
/// are checked against declared sizes before anything big is allocated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Largest number of cells a worksheet may span (rows x columns of its
    /// used range from A1), and of cells and shared strings it may hold;
    /// all sheets of a workbook together may span twice this.
    pub max_sheet_cells: u64,
    /// Largest row or column count a worksheet may declare.
    pub max_sheet_rows: u32,
    pub max_sheet_cols: u32,
    /// Largest total uncompressed size of a workbook's parts, in bytes.
    pub max_uncompressed_bytes: u64,
    /// Largest single field (CSV) or cell text, in bytes.
    pub max_field_bytes: usize,
    /// Largest number of fields in one CSV line.
    pub max_csv_fields: usize,
    /// Largest total size of the extra columns kept as metadata for one
    /// CSV file's rows, in bytes. Every row repeats the header's names, so
    /// a wide header over many short rows would otherwise multiply the
    /// file's size in memory.
    pub max_metadata_bytes: usize,
    /// Largest workbook part that is parsed whole when an `.xlsx` is opened
    /// (styles, the workbook part, relationships, theme), by its declared
    /// size in bytes: the styles become structures many times their size.
    pub max_open_part_bytes: u64,
    /// Largest total size of one run's input files, in bytes, checked
    /// from their sizes before any is read (CLI `--max-run-bytes`).
    #[serde(default = "default_max_run_bytes")]
    pub max_run_bytes: u64,
    /// A workbook's reading may hold at most `memory_per_file_byte` times
    /// the file's size plus `memory_floor_bytes`, and never more than
    /// `max_memory_bytes`: every allocation that grows with what the file
    /// holds or claims (cells, shared strings, styles, sheet names) is
    /// charged against this before it is made, so a file of a few
    /// kilobytes cannot ask for gigabytes by repeating or referencing.
    #[serde(default = "default_memory_per_file_byte")]
    pub memory_per_file_byte: u64,
    #[serde(default = "default_memory_floor_bytes")]
    pub memory_floor_bytes: u64,
    #[serde(default = "default_max_memory_bytes")]
    pub max_memory_bytes: u64,
}

fn default_max_run_bytes() -> u64 {
    Limits::default().max_run_bytes
}

fn default_memory_per_file_byte() -> u64 {
    64
}

fn default_memory_floor_bytes() -> u64 {
    16 * 1024 * 1024
}

fn default_max_memory_bytes() -> u64 {
    1024 * 1024 * 1024
}

impl Limits {
    /// The memory a file of `file_bytes` may use while it is read.
    pub fn memory_budget(&self, file_bytes: u64) -> u64 {
        file_bytes
            .saturating_mul(self.memory_per_file_byte)
            .saturating_add(self.memory_floor_bytes)
            .min(self.max_memory_bytes)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 512 * 1024 * 1024,
            max_sheet_cells: 5_000_000,
            max_sheet_rows: 1_048_576,
            max_sheet_cols: 16_384,
            max_uncompressed_bytes: 1024 * 1024 * 1024,
            max_field_bytes: 1024 * 1024,
            max_csv_fields: 10_000,
            max_metadata_bytes: 64 * 1024 * 1024,
            max_open_part_bytes: 16 * 1024 * 1024,
            max_run_bytes: 4 * 1024 * 1024 * 1024,
            memory_per_file_byte: default_memory_per_file_byte(),
            memory_floor_bytes: default_memory_floor_bytes(),
            max_memory_bytes: default_max_memory_bytes(),
        }
    }
}

/// Plausible-value ranges used by the QA level 3 checks (§5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranges {
    pub ph: (f64, f64),
    pub calcium_mg_per_l: (f64, f64),
    pub bypass_hours: (f64, f64),
    /// Dates before this are implausible.
    pub earliest_date: NaiveDate,
}

impl Default for Ranges {
    fn default() -> Self {
        Ranges {
            ph: (0.0, 14.0),
            calcium_mg_per_l: (0.0, 1000.0),
            bypass_hours: (0.0, 24.0),
            earliest_date: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
        }
    }
}

/// An expert's decision on one plant-day (§5 level 5), from settings or
/// from an expert reviews file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub plant_id: String,
    pub date: NaiveDate,
    pub status: ReviewStatus,
    pub note: String,
    /// Who decided, when the file says.
    #[serde(default)]
    pub reviewer: String,
    /// The day's `inputs_sha256` when the decision was taken; empty in
    /// files written before decisions were tied to inputs (they count
    /// whatever the inputs are).
    #[serde(default)]
    pub inputs_sha256: String,
    /// The file and row the decision was read from.
    #[serde(default)]
    pub source: Option<ReviewSource>,
}

/// Where a review was read: file name and row as the user sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSource {
    pub file: String,
    pub row: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReviewStatus {
    Unreviewed,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Unreviewed => "unreviewed",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }
}

/// Everything that steers a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub replicate_policy: ReplicatePolicy,
    /// Lab `unit_type_id` → where that unit sits relative to the dosing.
    /// Other plants name their units differently: extend this, not code.
    pub locations: BTreeMap<String, Location>,
    pub limits: Limits,
    pub ranges: Ranges,
    pub reviews: Vec<Review>,
    /// METHOD §7: a calcium sample's relative standard uncertainty when
    /// none of its rows states one.
    pub lab_default_relative: f64,
    /// METHOD §7: each plant's effluent meter uncertainty, in percent (1 σ);
    /// a plant not listed gets `DEFAULT_METER_UNCERTAINTY_PERCENT`. Plant
    /// profiles will carry it; until then it is set here.
    pub meter_uncertainty_percent: BTreeMap<String, f64>,
    /// METHOD §7: the percentile the conservative total is credited at.
    pub confidence: Confidence,
    /// The day/month order of slashed dates in a file whose dates all
    /// leave it open (CLI `--ambiguous-dates`).
    #[serde(default)]
    pub ambiguous_dates: DayOrder,
}

/// METHOD §7 default of `lab_default_relative`.
pub const DEFAULT_LAB_RELATIVE: f64 = 0.02;
/// METHOD §7 default of a plant's `meter_uncertainty_percent`.
pub const DEFAULT_METER_UNCERTAINTY_PERCENT: f64 = 5.0;

/// The confidence setting of METHOD §7: how many standard deviations the
/// conservative total discounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Confidence {
    /// The 16th percentile, z = 1 (Isometric's discount).
    #[default]
    P16,
    /// The 5th percentile (the OAE protocol draft).
    P5,
}

impl Confidence {
    pub const ALL: [Confidence; 2] = [Confidence::P16, Confidence::P5];

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::P16 => "p16",
            Confidence::P5 => "p5",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "p16" => Some(Confidence::P16),
            "p5" => Some(Confidence::P5),
            _ => None,
        }
    }

    /// The standard-normal quantile METHOD §7 names, written out exactly.
    pub fn z(self) -> f64 {
        match self {
            Confidence::P16 => 1.0,
            Confidence::P5 => 1.6448536269514722,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut locations = BTreeMap::new();
        locations.insert("primary_clarifier".to_string(), Location::Upstream);
        locations.insert("secondary_clarifier".to_string(), Location::Downstream);
        Config {
            replicate_policy: ReplicatePolicy::Mean,
            locations,
            limits: Limits::default(),
            ranges: Ranges::default(),
            reviews: Vec::new(),
            lab_default_relative: DEFAULT_LAB_RELATIVE,
            meter_uncertainty_percent: BTreeMap::new(),
            confidence: Confidence::P16,
            ambiguous_dates: DayOrder::MonthFirst,
        }
    }
}

impl Config {
    /// Where a unit sits; unknown units are `Other` (and reported).
    pub fn location_of(&self, unit_type_id: &str) -> Location {
        self.locations
            .get(unit_type_id.trim())
            .copied()
            .unwrap_or(Location::Other)
    }

    /// A plant's relative flow uncertainty `u_flow` (METHOD §7).
    pub fn u_flow(&self, plant_id: &str) -> f64 {
        self.meter_percent(plant_id) / 100.0
    }

    /// A plant's meter uncertainty in percent, the default when not set.
    pub fn meter_percent(&self, plant_id: &str) -> f64 {
        self.meter_uncertainty_percent
            .get(plant_id)
            .copied()
            .unwrap_or(DEFAULT_METER_UNCERTAINTY_PERCENT)
    }
}
