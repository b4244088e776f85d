//! CREW MRV core: wastewater-plant files in, audited daily CO2 removal out.
//!
//! The core is pure: it takes files as (name, bytes) and returns a
//! [`Report`] beside the [`ImportStore`] of their records. It does no I/O, touches no DOM and prints nothing, so the
//! same code runs in the command-line tool, in the browser and in a Web
//! Worker, and gives the same bits everywhere.
//!
//! - [`import`]: recognise and read the four source kinds, accounting for
//!   every row.
//! - [`method`]: METHOD.md §2–§4 (samples, overlap merge, daily CO2).
//! - [`qa`]: the QA/QC checks of METHOD.md §5.
//! - [`export`]: the CSV and JSON outputs, identical for CLI and browser.
//! - [`period`]: the month (or quarter) × plant report a manager shares.

pub mod bundle;
pub mod config;
pub mod dataset;
pub mod error;
pub mod explain;
pub mod export;
pub mod import;
pub mod mapping;
pub mod method;
pub mod model;
pub mod period;
mod pipeline;
pub mod profile;
pub mod provenance;
pub mod qa;
mod report;
pub mod spread;
pub mod sql;
mod store;

// Parsing helpers: private, except to the integration tests and the
// fuzzers (feature `testing`), which check them directly.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod number;
#[cfg(not(feature = "testing"))]
mod number;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod text;
#[cfg(not(feature = "testing"))]
mod text;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod timestamp;
#[cfg(not(feature = "testing"))]
mod timestamp;

pub use config::{Config, ReplicatePolicy};
pub use error::{FileError, FileErrorKind};
pub use import::{FileImport, FileKind, FileSummary, Records, RowAccount, SkipReason};
pub use method::METHOD_VERSION;
pub use pipeline::{assemble, read_file, read_file_with, run, sha256_hex, with_profiles, Source};
pub use qa::{CheckId, Finding};
pub use report::{
    chart_series, chart_text, escape_chart_labels, file_problem, qa_level_title, skip_ranges,
    Capped, Filter, Kpis, Report, MAX_CHART_SERIES, MAX_SKIP_RANGES_SHOWN,
};
pub use store::{ImportStore, Run};
/// A file's text encoding as read, named by the records buffer of the
/// browser pool (crates/protocol).
pub use text::TextEncoding;
/// Timestamps as the importers read them; the page reads the chart's zoom
/// range with it.
pub use timestamp::parse_datetime;
pub use timestamp::{day_label, iso_datetime};

/// A small deterministic generator for the unit tests' random inputs
/// (xorshift64: no dependency, the same sequence on every machine).
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
