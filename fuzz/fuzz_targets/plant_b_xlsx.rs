#![no_main]
//! Plant B monthly reports: a whole file when the input is a zip, else
//! sheet XML, shared strings and styles wrapped in a valid zip.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    const NAME: &str = "PLANT_B-MPOR_Crew_03212025to04112025.xlsx";
    if data.starts_with(b"PK") {
        common::one(NAME, data);
    } else {
        common::one(NAME, &common::xlsx_from_parts(data));
    }
});
