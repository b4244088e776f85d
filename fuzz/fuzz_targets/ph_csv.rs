#![no_main]
//! The pH sensor CSV importer, seeded with the heads of the sample logs.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::one("WB0038_PH_2025_sanitized.csv", data);
});
