#![no_main]
//! Plant profiles: the TOML parser and the generic reader. The input is a
//! profile, a NUL byte, then an operations file (CSV, or a workbook when
//! it starts like one); seeded with PLANT_C's profile and daily log. A
//! profile that parses must print back to itself, and the file read with
//! it (and the profile read as a file) must keep their row accounts, and
//! the mapping view's proposal must save only profiles that parse.
use libfuzzer_sys::fuzz_target;

use crew_mrv_core::import::profile_reader;
use crew_mrv_core::{profile, read_file, Config};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (text, ops) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let config = Config::default();
    let f = read_file("PLANT_C-profile.toml", text, &config);
    common::check_file(&f);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    match profile::parse("PLANT_C-profile.toml", text) {
        Ok(p) => {
            let again = profile::parse("PLANT_C-profile.toml", &profile::to_toml(&p));
            assert_eq!(again.as_ref(), Ok(&p), "to_toml does not read back");
            let read = profile_reader::check(&p, "PLANT_C-daily_log.csv", ops, &config);
            common::check_file(&read);
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(e.line >= 1, "{e}");
            }
        }
    }
    if let Ok(s) = profile_reader::suggest("PLANT_C-daily_log.csv", ops, &config) {
        common::check_file(&s.preview);
    }
    // The app's mapping view: what it offers to save must be a profile
    // the parser takes, whatever the file.
    if let Ok(v) = crew_mrv_core::mapping::propose("PLANT_C-daily_log.csv", ops, &config, None, None) {
        if let Some(t) = &v.toml {
            assert!(profile::parse("PLANT_C-profile.toml", t).is_ok(), "{t}");
        }
    }
});
