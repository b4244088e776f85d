//! The browser entry point: mounts the Leptos app (wasm32 only).
fn main() {}
