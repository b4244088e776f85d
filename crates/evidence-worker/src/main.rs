//! The evidence worker's entry point (wasm32 only): the processing
//! worker's code with the bundle and verification requests compiled in,
//! a separate wasm so the page loads it only when a bundle is asked for
//! or dropped. On native targets an empty program.

#[cfg(target_arch = "wasm32")]
fn main() {
    crew_mrv_worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
