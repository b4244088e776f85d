//! The browser entry point: mounts the Leptos app (wasm32 only).
//!
//! On native targets this is an empty program, because
//! `cargo clippy --all-targets` builds every bin for the host too.

#[cfg(target_arch = "wasm32")]
fn main() {
    crew_mrv_app::web::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
