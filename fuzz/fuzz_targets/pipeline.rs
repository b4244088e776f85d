#![no_main]
//! The whole run, bytes to report and exports: the input holds several
//! files, each `name\n` then its bytes, separated by `\0--8<--\0`, so
//! names (which carry plant ids and periods) are fuzzed too. Under both
//! replicate policies, and in reverse file order too: every output must be
//! byte-identical (METHOD §2 and §6 order inputs by file name, never by how
//! they were given).
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
    let mut reversed = sources.clone();
    reversed.reverse();
    for policy in common::POLICIES {
        let config = common::config(policy);
        let report = crew_mrv_core::run(&sources, &config);
        common::check_report(&report);
        let other = crew_mrv_core::run(&reversed, &config);
        for filter in [crew_mrv_core::Filter::default(), common::a_filter(&report)] {
            for output in crew_mrv_core::export::Output::ALL {
                let a = crew_mrv_core::export::output_bytes(output, &report, &filter);
                let b = crew_mrv_core::export::output_bytes(output, &other, &filter);
                assert!(a == b, "{policy:?}: {output} depends on the order of the files");
            }
        }
    }
});
