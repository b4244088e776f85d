//! What the page says about its own work: progress while the worker reads
//! and computes, a notice the user dismisses, and the footer's timings.

use leptos::prelude::*;

use crew_mrv_protocol::Progress;

#[component]
pub fn ProgressBar(busy: Signal<Option<Progress>>) -> impl IntoView {
    move || {
        busy.get().map(|p| {
            let pct = (p.done * 100).checked_div(p.total).unwrap_or(100);
            view! {
                <div class="progress" role="status" aria-live="polite" data-testid="progress">
                    <progress max="100" value=pct.to_string()></progress>
                    <span>{format!("{} of {} files — {}", p.done, p.total, p.current)}</span>
                </div>
            }
        })
    }
}

#[component]
pub fn Notice(notice: Signal<Option<String>>, on_dismiss: Callback<()>) -> impl IntoView {
    move || {
        notice.get().map(|n| {
            view! {
                <div class="notice" role="alert">
                    <pre>{n}</pre>
                    <button class="button subtle" on:click=move |_| on_dismiss.run(())>"Dismiss"</button>
                </div>
            }
        })
    }
}

/// "Removed X — Undo": the way back from a removal or Clear all, shown
/// until the user undoes, dismisses, or adds files.
#[component]
pub fn UndoToast(
    what: Signal<Option<String>>,
    on_undo: Callback<()>,
    on_dismiss: Callback<()>,
) -> impl IntoView {
    move || {
        what.get().map(|w| {
            view! {
                <div class="toast" role="status" data-testid="undo-toast">
                    <span>{w}</span>
                    <button class="button small primary" data-testid="undo" on:click=move |_| on_undo.run(())>"Undo"</button>
                    <button class="button small subtle" aria-label="Dismiss" on:click=move |_| on_dismiss.run(())>"×"</button>
                </div>
            }
        })
    }
}

#[component]
pub fn Footer(
    /// How long the last change took, from first read to report.
    last_ms: Signal<Option<f64>>,
    /// The worker's WebAssembly memory (its peak so far).
    worker_memory: Signal<Option<u64>>,
) -> impl IntoView {
    view! {
        <footer class="foot">
            {format!("Method {} · everything runs locally in this page", crew_mrv_core::METHOD_VERSION)}
            {move || last_ms.get().map(|ms| view! {
                <span data-testid="last-ms" data-ms=format!("{ms:.0}")>{format!(" · last change processed in {:.0} ms", ms)}</span>
            })}
            {move || worker_memory.get().map(|b| view! {
                <span data-testid="worker-memory" data-bytes=b.to_string()>{format!(" · worker memory {:.0} MB", b as f64 / 1e6)}</span>
            })}
        </footer>
    }
}
