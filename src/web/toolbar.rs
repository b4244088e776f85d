//! The page's header: adding files (the picker and the sample data), Clear
//! all, and the settings a user may change (replicate policy, METHOD §7's
//! confidence and lab default). It shows the settings it is given and
//! reports what the user does through callbacks; the root decides.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{files_of, Input};
use crew_mrv_core::config::Confidence;
use crew_mrv_core::ReplicatePolicy;

/// Issue 16: the replicate setting said nothing of what it does.
const POLICY_HELP: &str =
    "A plant-day often has several calcium samples at the same place (replicates). \
\"Mean of samples\" uses their mean (the default, METHOD §2); \"first row\" uses the first \
row in file order, as the legacy spreadsheet did, and is offered only to reproduce old results.";

#[component]
pub fn Toolbar(
    /// Whether files are loaded (Clear all is offered then).
    has_report: Signal<bool>,
    policy: Signal<ReplicatePolicy>,
    confidence: Signal<Confidence>,
    lab_default: Signal<f64>,
    /// Files the user picked.
    on_files: Callback<Vec<Input>>,
    on_samples: Callback<()>,
    on_clear: Callback<()>,
    on_policy: Callback<ReplicatePolicy>,
    /// A new confidence or lab default, with the other as it was.
    on_uncertainty: Callback<(Confidence, f64)>,
    /// Something the user typed cannot be used: tell them.
    on_notice: Callback<String>,
) -> impl IntoView {
    let picker = NodeRef::<leptos::html::Input>::new();
    let on_pick = move |ev: leptos::ev::Event| {
        let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
        if let Some(input) = input {
            on_files.run(files_of(input.files()));
            input.set_value("");
        }
    };
    view! {
    <header class="top">
        <div class="brand">
            <h1>"CREW MRV"</h1>
            <p class="tagline">"Daily CO2 removal from plant, lab and sensor files — computed in your browser; no data leaves this device."</p>
        </div>
        <div class="inputs">
            // A real button (keyboard and screen readers) that opens
            // the hidden file input.
            <button class="button primary" data-testid="add-files"
                on:click=move |_| { if let Some(i) = picker.get() { i.click(); } }>
                "Add files…"
            </button>
            <input
                id="file-input"
                node_ref=picker
                class="visually-hidden"
                tabindex="-1"
                type="file"
                multiple
                accept=".csv,.xlsx,.xls,.txt,.tsv,.zip"
                aria-label="Add plant, lab and sensor files"
                data-testid="file-input"
                on:change=on_pick
            />
            <button class="button" on:click=move |_| on_samples.run(()) data-testid="load-samples">
                "Try it with sample data"
            </button>
            <Show when=move || has_report.get()>
                <button class="button subtle" on:click=move |_| on_clear.run(()) data-testid="clear">"Clear all"</button>
            </Show>
            <label class="policy" title=POLICY_HELP>
                "Replicates: "
                <select
                    aria-label="Replicate policy"
                    aria-describedby="policy-help"
                    data-testid="policy"
                    on:change=move |ev| {
                        if let Some(p) = ReplicatePolicy::parse(&event_target_value(&ev)) {
                            on_policy.run(p);
                        }
                    }
                >
                    <option value="mean" selected=move || policy.get() == ReplicatePolicy::Mean>"mean of samples"</option>
                    <option value="first" selected=move || policy.get() == ReplicatePolicy::First>"first row (legacy)"</option>
                </select>
            </label>
            <span id="policy-help" class="visually-hidden">{POLICY_HELP}</span>
            <label class="policy" title="The creditable total discounts the uncertainty: 1 σ (16th percentile, Isometric) or 1.645 σ (5th percentile, OAE draft). METHOD §7.">
                "Credit at: "
                <select
                    aria-label="Confidence of the conservative total"
                    data-testid="confidence"
                    on:change=move |ev| {
                        if let Some(c) = Confidence::parse(&event_target_value(&ev)) {
                            on_uncertainty.run((c, lab_default.get_untracked()));
                        }
                    }
                >
                    <option value="p16" selected=move || confidence.get() == Confidence::P16>"p16 (total − 1 σ)"</option>
                    <option value="p5" selected=move || confidence.get() == Confidence::P5>"p5 (total − 1.645 σ)"</option>
                </select>
            </label>
            <label class="policy" title="The relative standard uncertainty of a calcium sample whose rows state none. METHOD §7.">
                "Lab σ default: "
                <input
                    type="number"
                    min="0"
                    step="0.005"
                    class="lab-default"
                    aria-label="Relative uncertainty of a calcium sample that states none"
                    data-testid="lab-default"
                    prop:value=move || lab_default.get().to_string()
                    on:change=move |ev| {
                        match event_target_value(&ev).trim().parse::<f64>() {
                            Ok(v) if v.is_finite() && v >= 0.0 => on_uncertainty.run((confidence.get_untracked(), v)),
                            _ => on_notice.run("The lab σ default is a fraction such as 0.02 (2 %), at least 0.".into()),
                        }
                    }
                />
            </label>
        </div>
    </header>
    }
}
