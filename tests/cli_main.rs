//! The command line's integration tests: `cli.rs` runs the `crew-mrv`
//! binary as a process, which Cargo only builds for the tests of the
//! package that owns it (`crates/cli`); they share the fixtures of the
//! main integration binary (`tests.rs`).
#![cfg(not(target_arch = "wasm32"))]
// The fixtures serve every test module of `tests.rs`; this binary uses
// only part of them.
#![allow(dead_code)]

mod cli;
mod data_platform;
mod fixtures;
mod pg_server;
mod sql;
