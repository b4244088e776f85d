#![no_main]
//! Legacy .xls: a whole file when the input is an OLE2 container (the
//! container reader), else the input is a BIFF8 Workbook stream wrapped in
//! a valid container (the record checker, calamine and the Plant A
//! importer).
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    const NAME: &str = "PLANT_A-OPS DATA-MAY25.xls";
    if data.starts_with(b"\xD0\xCF\x11\xE0") {
        common::one(NAME, data);
    } else {
        let file = crew_mrv_core::import::cfb::write_single_stream("Workbook", data);
        common::one(NAME, &file);
    }
});
