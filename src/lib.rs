//! CREW MRV in the browser: the page. A thin Leptos layer that collects
//! files and settings, sends them to the worker (`crates/worker`, over the
//! messages of `crates/protocol`) and renders the report it gets back. The
//! pipeline itself is `crates/core`; nothing here computes an MRV number.
//!
//! On native targets this library holds only what is tested natively
//! (`markup`): `cargo clippy --all-targets` builds every workspace member
//! for the host too.

pub mod markup;
#[cfg(target_arch = "wasm32")]
pub mod web;
