#![no_main]
//! The whole run, bytes to report and exports: the input holds several
//! files, each `name\n` then its bytes, separated by `\0--8<--\0`, so
//! names (which carry plant ids and periods) are fuzzed too.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const SEP: &[u8] = b"\0--8<--\0";

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEP.len()).position(|w| w == SEP) {
        out.push(&rest[..i]);
        rest = &rest[i + SEP.len()..];
    }
    out.push(rest);
    out
}

fuzz_target!(|data: &[u8]| {
    let sources: Vec<crew_mrv_core::Source> = split(data)
        .into_iter()
        .take(8)
        .map(|chunk| {
            let (name, bytes) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], &chunk[i + 1..]),
                None => (&b"file.csv"[..], chunk),
            };
            crew_mrv_core::Source::new(String::from_utf8_lossy(name), bytes)
        })
        .collect();
    let report = crew_mrv_core::run(&sources, &crew_mrv_core::Config::default());
    common::check_report(&report);
});
