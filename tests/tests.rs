//! Integration tests: one binary, one module per area.
#![cfg(not(target_arch = "wasm32"))]

mod hostile;
mod sample;
