//! The `crew-mrv` command line (native only).
fn main() {}
