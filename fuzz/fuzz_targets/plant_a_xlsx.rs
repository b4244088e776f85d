#![no_main]
//! Plant A operator workbooks as .xlsx: a whole file when the input is a
//! zip, else sheet XML, shared strings and styles wrapped in a valid zip.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    const NAME: &str = "PLANT_A-OPS DATA-APR25.xlsx";
    if data.starts_with(b"PK") {
        common::one(NAME, data);
    } else {
        common::one(NAME, &common::xlsx_from_parts(data));
    }
});
