//! The Web Worker entry point (wasm32 only): the pipeline runs here, off
//! the page's main thread. On native targets an empty program.

#[cfg(target_arch = "wasm32")]
fn main() {
    crew_mrv_worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
