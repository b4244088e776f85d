//! CREW MRV core: wastewater-plant files in, audited daily CO2 removal out.
//!
//! The core is pure: it takes files as (name, bytes) and returns a
//! [`Report`]. It does no I/O, touches no DOM and prints nothing, so the
//! same code runs in the command-line tool, in the browser and in a Web
//! Worker, and gives the same bits everywhere.
//!
//! - [`import`]: recognise and read the four source kinds, accounting for
//!   every row.
//! - [`method`]: METHOD.md §2–§4 (samples, overlap merge, daily CO2).
//! - [`qa`]: the QA/QC checks of METHOD.md §5.
//! - [`export`]: the CSV and JSON outputs, identical for CLI and browser.

pub mod config;
pub mod error;
pub mod export;
pub mod import;
pub mod method;
pub mod model;
pub mod number;
mod pipeline;
pub mod protocol;
pub mod qa;
mod report;
pub mod text;
pub mod timestamp;

pub use config::{Config, ReplicatePolicy};
pub use error::{FileError, FileErrorKind};
pub use import::{FileImport, FileKind, RowAccount, SkipReason};
pub use method::METHOD_VERSION;
pub use pipeline::{assemble, read_file, run, sha256_hex, Source};
pub use report::{Filter, Kpis, Report};

#[cfg(target_arch = "wasm32")]
pub mod web;

/// The Web Worker edge: runs the pipeline off the page's main thread.
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Deterministic sample files of every source kind (native only: the
/// legacy `.xls` files are written by Python's xlwt).
#[cfg(not(target_arch = "wasm32"))]
pub mod sample;
