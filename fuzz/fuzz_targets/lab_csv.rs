#![no_main]
//! The calcium lab CSV importer, seeded with the head of the sample file.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::one("calcium_lab_results_2025Q2.csv", data);
});
