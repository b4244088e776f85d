//! CREW MRV core: wastewater-plant files in, audited daily CO2 removal out.
//!
//! The core is pure: it takes files as (name, bytes) and returns a report.
//! It does no I/O, touches no DOM and prints nothing, so the same code runs
//! in the command-line tool, in the browser and in a Web Worker.

/// Deterministic sample files of every source kind (native only: the
/// legacy `.xls` files are written by Python's xlwt).
#[cfg(not(target_arch = "wasm32"))]
pub mod sample;
