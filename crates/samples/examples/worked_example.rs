//! Writes METHOD.md's worked example (PLANT_A 2025-04-01: 31.2 MGD,
//! calcium 39.8 → 53.7 mg/L, 1.8026969 t) as files into the folder given,
//! for the browser tests that drop them into the app.
//!
//! `cargo run -p crew-mrv-samples --example worked_example -- DIR`

// The samples crate is native only; `cargo clippy --target wasm32` still
// builds every example.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use chrono::NaiveDate;
    use crew_mrv_samples::builders::{lab_pair, lab_table, PlantA};

    pub fn main() {
        let Some(dir) = std::env::args_os().nth(1) else {
            eprintln!("usage: worked_example DIR");
            std::process::exit(2);
        };
        let dir = std::path::PathBuf::from(dir);
        let Some(day) = NaiveDate::from_ymd_opt(2025, 4, 1) else {
            std::process::exit(2);
        };
        let files = [
            (
                "PLANT_A-OPS DATA-APR25.xlsx",
                PlantA::month(day, &[31.2]).xlsx(),
            ),
            (
                "lab_results.csv",
                lab_table(lab_pair("PLANT_A", day, 39.8, 53.7))
                    .to_text(',')
                    .into_bytes(),
            ),
        ];
        for (name, bytes) in files {
            if let Err(e) =
                std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), bytes))
            {
                eprintln!("worked_example: {name}: {e}");
                std::process::exit(1);
            }
        }
    }
}
