//! Writes a plant no profile reads (PLANT_D's log and its lab CSV, from
//! `crew_mrv_samples::unmapped`) into the folder given, for the browser
//! test of the mapping view.
//!
//! `cargo run -p crew-mrv-samples --example unmapped_plant -- DIR`

// The samples crate is native only; `cargo clippy --target wasm32` still
// builds every example.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use crew_mrv_samples::unmapped;
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: unmapped_plant DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    for (name, bytes) in [
        (unmapped::WORKBOOK, unmapped::workbook()),
        (unmapped::LAB, unmapped::lab()),
    ] {
        if let Err(e) =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), bytes))
        {
            eprintln!("unmapped_plant: {name}: {e}");
            std::process::exit(1);
        }
    }
}
