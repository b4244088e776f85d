//! QA/QC (METHOD §5): the catalogue of checks and how findings are
//! collected. The checks themselves live with the data they inspect:
//! level 1–3 row checks in the importers, duplicate and overlap checks in
//! the method's samples and merge steps, quality flags (level 4) beside
//! the daily checks in `method::days`; completeness (level 2) and
//! scientific review (level 5) are here.
//!
//! A finding never stops processing: every function here returns findings,
//! never errors.

pub mod completeness;
pub mod review;

use std::collections::BTreeMap;

use std::cmp::Ordering;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::{CellRef, Severity, Text};

/// One kind of check: its id, its level and a title for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub id: CheckId,
    pub level: u8,
    pub title: &'static str,
}

macro_rules! checks {
    ($($name:ident = $variant:ident($id:literal, $level:literal, $title:literal);)*) => {
        /// Which check a finding comes from. Written (in `qa_findings.csv`,
        /// in JSON) as its id, the catalogue's text.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum CheckId {
            $(#[serde(rename = $id)] $variant,)*
        }

        impl CheckId {
            /// The id as written to `qa_findings.csv`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)*
                }
            }

            /// Its entry in the catalogue.
            pub fn check(self) -> Check {
                match self {
                    $(CheckId::$variant => $name,)*
                }
            }
        }

        $(pub const $name: Check = Check { id: CheckId::$variant, level: $level, title: $title };)*
        /// Every check, in level order.
        pub const ALL_CHECKS: &[Check] = &[$($name),*];
    };
}

checks! {
    FILE_UNREADABLE = FileUnreadable("file_unreadable", 1, "File could not be read");
    FILE_RECOGNISED = FileRecognised("file_recognised", 1, "File recognised");
    ENCODING = Encoding("encoding", 1, "Text encoding");
    CONTAINER = Container("container", 1, "Workbook container quirks");
    STRAY_QUOTE = StrayQuote("stray_quote", 1, "Quote left open across lines");
    DUPLICATE_FILE = DuplicateFile("duplicate_file", 1, "Same file loaded twice");
    DUPLICATE_SAMPLE = DuplicateSample("duplicate_sample", 1, "Sample reported more than once");
    SAMPLE_CONFLICT = SampleConflict("sample_conflict", 1, "Repeated sample with different values");
    OVERLAP_REPEAT = OverlapRepeat("overlap_repeat", 1, "Identical days in overlapping reports");
    REVISED_FLOW = RevisedFlow("revised_flow", 1, "Flow revised by a later report");
    MISSING_VALUE = MissingValue("missing_value", 2, "Required value missing");
    MISSING_COLUMN = MissingColumn("missing_column", 2, "Optional column missing");
    EMPTY_COLUMN = EmptyColumn("empty_column", 2, "Column blank for the whole file");
    DATE_GAP = DateGap("date_gap", 2, "Gap in the daily record");
    MISSING_PARTNER = MissingPartner("missing_partner", 2, "Upstream/downstream pair incomplete");
    UNPARSEABLE_NUMBER = UnparseableNumber("unparseable_number", 3, "Number cannot be read");
    UNPARSEABLE_VALUE = UnparseableValue("unparseable_value", 3, "Value of a profile-read file cannot be read");
    UNPARSEABLE_DATE = UnparseableDate("unparseable_date", 3, "Date cannot be read");
    AMBIGUOUS_DATE = AmbiguousDate("ambiguous_date", 3, "Day/month order of dates");
    IMPLAUSIBLE_DATE = ImplausibleDate("implausible_date", 3, "Implausible date");
    OUT_OF_RANGE = OutOfRange("out_of_range", 3, "Value out of range");
    QUALIFIED_VALUE = QualifiedValue("qualified_value", 3, "Below-detection or footnoted value");
    UNEXPECTED_UNIT = UnexpectedUnit("unexpected_unit", 3, "Unexpected unit");
    PLANT_MISMATCH = PlantMismatch("plant_mismatch", 3, "Plant id differs between name and content");
    UNKNOWN_LOCATION = UnknownLocation("unknown_location", 3, "Unit not mapped to upstream/downstream");
    UNRECOGNISED_ROW = UnrecognisedRow("unrecognised_row", 3, "Row fits no part of the layout");
    NO_OPS_DATA = NoOpsData("no_ops_data", 4, "No operations data");
    INVALID_FLOW = InvalidFlow("invalid_flow", 4, "Effluent flow missing, provisional or <= 0");
    MISSING_CA = MissingCa("missing_ca_readings", 4, "Calcium reading missing");
    INVALID_DELTA = InvalidDelta("invalid_delta", 4, "Calcium delta <= 0");
    PROVISIONAL_DAY = ProvisionalDay("provisional_day", 4, "Provisional day (placeholder flow)");
    REPLICATE_SPREAD = ReplicateSpread("replicate_spread", 4, "Replicates spread > 5 %");
    BYPASS = Bypass("bypass", 4, "Bypass flow on the day");
    DELTA_OUTLIER = DeltaOutlier("delta_outlier", 5, "Ca delta outlier (median ± 5 MAD)");
    SWAPPED_SAMPLES = SwappedSamples("possible_swapped_samples", 5, "Upstream exceeds downstream by > 20 %");
    REVIEW_STATUS = ReviewStatus("review_status", 5, "Expert review status");
}

// Ordered by id, as the text ids were: findings sort by check, and the
// order of `qa_findings.csv` must not depend on the catalogue's order.
impl Ord for CheckId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for CheckId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tests and filters name checks by their id.
impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One QA/QC finding (§5). Findings never stop processing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    pub level: u8,
    pub check: CheckId,
    pub severity: Severity,
    pub plant_id: Option<Text>,
    pub date: Option<NaiveDate>,
    pub source_file: Option<Text>,
    pub at: CellRef,
    pub message: String,
}

impl Check {
    /// A finding of this check; refine it with the builder methods.
    pub fn finding(&self, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            level: self.level,
            check: self.id,
            severity,
            plant_id: None,
            date: None,
            source_file: None,
            at: CellRef::default(),
            message: message.into(),
        }
    }
}

impl Finding {
    pub fn plant(mut self, p: &Text) -> Self {
        self.plant_id = Some(p.clone());
        self
    }

    pub fn plant_opt(mut self, p: Option<&Text>) -> Self {
        self.plant_id = p.cloned();
        self
    }

    pub fn on(mut self, d: NaiveDate) -> Self {
        self.date = Some(d);
        self
    }

    pub fn file(mut self, f: &Text) -> Self {
        self.source_file = Some(f.clone());
        self
    }

    pub fn at(mut self, at: CellRef) -> Self {
        self.at = at;
        self
    }
}

/// How many findings of one check and column a file reports one by one;
/// the rest are summarised so a year of sensor dropouts stays readable.
pub const DETAILED_PER_KIND: usize = 10;

#[derive(Default)]
struct Overflow {
    shown: usize,
    more_rows: Vec<u32>,
    more: u64,
    template: Option<Finding>,
}

/// Findings of one file, with per-(check, sheet, column) caps.
pub struct FileFindings {
    file: Text,
    list: Vec<Finding>,
    /// Beside `list`: whether each came through [`FileFindings::row`], so
    /// the findings of a piece of a file can be replayed into the file's.
    capped: Vec<bool>,
    overflow: BTreeMap<(CheckId, Option<Text>, Option<u32>), Overflow>,
}

impl FileFindings {
    pub fn new(file: &Text) -> Self {
        FileFindings {
            file: file.clone(),
            list: Vec::new(),
            capped: Vec::new(),
            overflow: BTreeMap::new(),
        }
    }

    /// The findings of the next piece of the file (read on its own), as if
    /// this one had gone on reading: its row findings count against these
    /// caps in order, and what it only counted is counted here. `keep`
    /// says which of its file-level findings to keep (a piece cannot know
    /// that an earlier one said the same already).
    pub fn append(&mut self, next: FileFindings, mut keep: impl FnMut(&Finding) -> bool) {
        for (f, capped) in next.list.into_iter().zip(next.capped) {
            if capped {
                self.row(f);
            } else if keep(&f) {
                self.push(f);
            }
        }
        for (key, o) in next.overflow {
            if o.more == 0 {
                continue;
            }
            let mine = self.overflow.entry(key).or_default();
            mine.more += o.more;
            for r in o.more_rows {
                if mine.more_rows.len() < 20 {
                    mine.more_rows.push(r);
                }
            }
            if o.template.is_some() {
                mine.template = o.template;
            }
        }
    }

    pub fn file(&self) -> &Text {
        &self.file
    }

    /// A file-level finding, always kept.
    pub fn push(&mut self, f: Finding) {
        self.list.push(f.file(&self.file));
        self.capped.push(false);
    }

    /// A finding about one row; past the cap only counted.
    pub fn row(&mut self, f: Finding) {
        let key = (f.check, f.at.sheet.clone(), f.at.col);
        let o = self.overflow.entry(key).or_default();
        if o.shown < DETAILED_PER_KIND {
            o.shown += 1;
            self.list.push(f.file(&self.file));
            self.capped.push(true);
        } else {
            o.more += 1;
            if o.more_rows.len() < 20 {
                if let Some(r) = f.at.row {
                    o.more_rows.push(r);
                }
            }
            // The summary quotes the last example, so keep the latest.
            o.template = Some(f);
        }
    }

    /// All findings, with one summary per capped kind.
    pub fn finish(mut self) -> Vec<Finding> {
        for ((_, _, _), o) in std::mem::take(&mut self.overflow) {
            if let Some(t) = o.template {
                let rows: Vec<String> = o.more_rows.iter().map(u32::to_string).collect();
                let more = if o.more as usize > o.more_rows.len() {
                    ", …"
                } else {
                    ""
                };
                let message = format!(
                    "{} more rows like this (rows {}{more}); the first {DETAILED_PER_KIND} are listed one by one. Last example: {}",
                    o.more,
                    rows.join(", "),
                    t.message
                );
                let mut f = t;
                f.message = message;
                f.date = None;
                self.list.push(f.file(&self.file));
            }
        }
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Findings sort by check id as text, as they did when ids were
    /// strings: an `Ord` derived from the catalogue's order would reorder
    /// `qa_findings.csv`.
    #[test]
    fn check_ids_sort_as_their_text() {
        let mut ids: Vec<CheckId> = ALL_CHECKS.iter().map(|c| c.id).collect();
        ids.sort();
        let text: Vec<&str> = ids.iter().map(|c| c.as_str()).collect();
        let mut sorted = text.clone();
        sorted.sort();
        assert_eq!(text, sorted);
        assert!(ALL_CHECKS.iter().all(|c| c.id.check() == *c));
    }

    /// Ids travel to the page as their catalogue text and come back as
    /// the same variant.
    #[test]
    fn check_ids_round_trip_as_their_text() {
        for c in ALL_CHECKS {
            let json = serde_json::to_string(&c.id).expect("serialise");
            assert_eq!(json, format!("\"{}\"", c.id.as_str()));
            assert_eq!(serde_json::from_str::<CheckId>(&json).ok(), Some(c.id));
        }
    }
}
