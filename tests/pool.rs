//! The browser pool's records buffer (crates/protocol records.rs): a file
//! imported in one worker and decoded in another is the same file, bit
//! for bit, and the run assembled from such files writes the same bytes as
//! the run that imported them itself. A damaged buffer is an error, never
//! a panic. The configuration a pool worker imports under comes back equal
//! to the assembling worker's, or the import is not shared.

use std::sync::Arc;

use crew_mrv_core::export::{output_bytes, Output};
use crew_mrv_core::{assemble, read_file, with_profiles, Config, Filter, ImportStore, Run};
use crew_mrv_protocol::records::{decode, encode};
use crew_mrv_protocol::{Call, FileSource, PoolConfig, Request};
use crew_mrv_samples::{generate, SampleOptions};

/// The sample set imported as the app does: profiles first, then the
/// rest under them.
fn imported(opts: &SampleOptions) -> (Vec<crew_mrv_core::FileImport>, Config) {
    let files = generate(opts).expect("generate");
    let (profiles, data): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|f| f.name.to_ascii_lowercase().ends_with(".toml"));
    let mut out: Vec<_> = profiles
        .iter()
        .map(|f| read_file(&f.name, &f.bytes, &Config::default()))
        .collect();
    let cfg = with_profiles(&Config::default(), &out);
    out.extend(data.iter().map(|f| read_file(&f.name, &f.bytes, &cfg)));
    (out, cfg)
}

fn all_outputs(run: &Run) -> Vec<(Output, Vec<u8>)> {
    Output::ALL
        .into_iter()
        .map(|o| (o, output_bytes(o, run, &Filter::default())))
        .collect()
}

#[test]
fn every_sample_file_comes_back_bit_for_bit_with_its_texts_shared() {
    let (files, _) = imported(&SampleOptions::committed());
    assert!(files.iter().any(|f| !f.records.lab.is_empty()));
    assert!(files.iter().any(|f| !f.records.sensor.is_empty()));
    assert!(files.iter().any(|f| !f.records.ops.is_empty()));
    assert!(files.iter().any(|f| !f.records.profiles.is_empty()));
    let mut encoded = 0;
    for f in &files {
        // What the layout does not carry stays with the assembling worker.
        let Some(buf) = encode(f) else {
            assert!(
                f.error.is_some()
                    || !f.records.reviews.is_empty()
                    || !f.records.profiles.is_empty(),
                "{} was declined",
                f.name
            );
            continue;
        };
        encoded += 1;
        let back = decode(&buf).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        // Debug prints every f64 exactly (shortest round trip), every
        // text and every field, so equal prints are equal files.
        assert_eq!(format!("{back:?}"), format!("{f:?}"), "{}", f.name);
        if let [a, b, ..] = &back.records.lab[..] {
            assert!(Arc::ptr_eq(&a.plant_id, &b.plant_id), "{}", f.name);
        }
    }
    assert_eq!(encoded, files.len() - 1, "all but the profile travel");
}

#[test]
fn a_run_assembled_from_buffers_writes_the_bytes_of_a_run_that_imported_itself() {
    let (files, cfg) = imported(&SampleOptions::committed());
    let (again, _) = imported(&SampleOptions::committed());
    let decoded: Vec<_> = again
        .into_iter()
        .map(|f| match encode(&f) {
            Some(buf) => decode(&buf).expect("decode"),
            None => f,
        })
        .collect();
    let mut direct = ImportStore::new(files);
    let report = assemble(&mut direct, &cfg);
    let direct = Run {
        report,
        store: direct,
    };
    let mut pooled = ImportStore::new(decoded);
    let report = assemble(&mut pooled, &cfg);
    let pooled = Run {
        report,
        store: pooled,
    };
    for ((o, a), (_, b)) in all_outputs(&direct).into_iter().zip(all_outputs(&pooled)) {
        assert!(a == b, "{o} differs");
    }
}

#[test]
fn a_damaged_buffer_is_refused_without_a_panic() {
    let (files, _) = imported(&SampleOptions::committed());
    let lab = files
        .iter()
        .find(|f| f.records.lab.len() > 10)
        .expect("a lab file");
    let buf = encode(lab).expect("a lab file travels");
    // Every cut short is an error (a step keeps this quick on 100 KB).
    for n in (0..buf.len()).step_by(97) {
        assert!(decode(&buf[..n]).is_err(), "cut at {n}");
    }
    assert!(decode(&[buf.as_slice(), b"x"].concat()).is_err());
    // Flipped bytes: an error or some file, never a panic.
    for i in (0..buf.len()).step_by(31) {
        let mut bad = buf.clone();
        bad[i] ^= 0xA5;
        let _ = decode(&bad);
    }
    // The same for a sensor log, whose readings are decoded whole: every
    // byte of a few readings in the middle of its buffer (readings are
    // nearly all of it) flipped and set to 0xFF, days and times out of
    // range among them, and the buffer cut inside each.
    let log = files
        .iter()
        .find(|f| f.records.sensor.len() > 10)
        .expect("a sensor log");
    let log = encode(log).expect("a sensor log travels");
    assert!(log.len() > 28 * 1000);
    for i in log.len() / 2 - 28 * 2..log.len() / 2 + 28 * 2 {
        let mut bad = log.clone();
        bad[i] ^= 0xA5;
        let _ = decode(&bad);
        bad[i] = 0xFF;
        let _ = decode(&bad);
        assert!(decode(&log[..i]).is_err(), "cut at {i}");
    }
    // A forged count reserves nothing: the head kept, no texts, and a lab
    // count of u32::MAX is refused at once.
    let head = u32::from_le_bytes(buf[8..12].try_into().expect("4 bytes")) as usize;
    let mut forged = buf[..12 + head].to_vec();
    forged.extend_from_slice(&0u32.to_le_bytes());
    forged.extend_from_slice(&u32::MAX.to_le_bytes());
    forged.extend_from_slice(&[0; 64]);
    assert!(decode(&forged).unwrap_err().contains("cannot fit"));
    assert!(decode(b"CMRVREC1\x02\x00\x00\x00{}").is_err());
}

#[test]
fn a_pool_worker_imports_under_the_assembling_workers_configuration() {
    let (_, cfg) = imported(&SampleOptions::committed());
    assert!(
        !cfg.profiles.is_empty(),
        "the sample set's profile is in it"
    );
    let shared = PoolConfig::of(&cfg).expect("the sample configuration travels");
    // Through the message as a pool worker reads it.
    let call = Call {
        id: 3,
        request: Request::Import {
            index: 2,
            name: "a.csv".into(),
            source: FileSource::Attached(0),
            config: shared,
        },
    };
    let Ok(Call {
        request: Request::Import { config, .. },
        ..
    }) = Call::from_bytes(&call.to_bytes())
    else {
        panic!("the call did not come back");
    };
    assert_eq!(config.config(), Some(cfg.clone()));
    // A setting the message does not carry keeps the files with the
    // assembling worker rather than import them otherwise.
    let mut other = cfg.clone();
    other.locations.clear();
    assert_eq!(PoolConfig::of(&other), None);
}
