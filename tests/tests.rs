//! Integration tests: one binary, one module per area.
//!
//! Every fixture is generated in code by the writers of `crew_mrv_samples`
//! (`builders`, `hostile`, and the sample set itself); every file any test reads has its row
//! account checked (`rows_in == records + skipped`).
#![cfg(not(target_arch = "wasm32"))]

mod fixtures;
mod golden;

mod detect;
mod hostile;
mod lab_csv;
mod mapping;
mod method;
mod mutation;
mod order_properties;
mod ph_csv;
mod pipeline;
mod plant_a;
mod plant_b;
mod pool;
mod profiles;
mod profiles_v2;
mod properties;
mod provenance;
mod qa;
mod regression;
mod sample;
mod spreadsheet;
mod text_decode;
mod uncertainty;
