//! The browser user interface (wasm32 only).
//!
//! For now this is a placeholder shell: it proves the Leptos mount, the
//! Trunk build and the browser test harness work end to end. The real UI
//! will render a core `Report`; it must never compute MRV numbers itself.

use leptos::prelude::*;

/// The root component.
///
/// The `app-ready` marker is rendered only after the component has been
/// mounted, so browser tests can wait on it instead of on arbitrary delays.
#[component]
pub fn App() -> impl IntoView {
    let (mounted, set_mounted) = signal(false);
    // An effect runs after the first render, i.e. once the DOM exists.
    Effect::new(move |_| set_mounted.set(true));

    view! {
        <header class="site-header">
            <div class="container">
                <h1>"CREW MRV"</h1>
            </div>
        </header>
        <main class="container">
            <p class="intro">
                "Turns a wastewater plant's lab, sensor and operations files into audited daily CO2-removal figures. Everything runs in this browser tab; your files never leave this machine."
            </p>
            <Show when=move || mounted.get()>
                <p class="status" data-testid="app-ready">"Ready."</p>
            </Show>
        </main>
    }
}
