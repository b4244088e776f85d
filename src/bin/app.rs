//! The browser entry point: mounts the Leptos app (wasm32 only).
//!
//! On native targets this is an empty program, because
//! `cargo clippy --all-targets` builds every bin for the host too.

#[cfg(target_arch = "wasm32")]
fn main() {
    // Without the hook a Rust panic shows up as an opaque
    // "unreachable executed" in the console.
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(crew_mrv::web::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
