//! The evidence bundle in the app (issue #15): the download, built in the
//! worker by the core's `bundle` exactly as `crew-mrv run --bundle` does,
//! and its verification, `crew-mrv verify` in the worker, shown per output
//! and per input. The zip writer and reader stay in the worker's wasm.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{bridge, browser, evidence, Input, Session};
use crew_mrv_core::Filter;
use crew_mrv_protocol::{Reply, Request, VerifyReport};

/// The last verification, or why there is none.
#[derive(Clone, Copy)]
pub struct VerifyState(pub RwSignal<Option<Result<VerifyReport, String>>>);

/// Whether a dropped batch is a bundle to verify: it holds a `.zip`.
pub fn is_verification(inputs: &[Input]) -> bool {
    inputs
        .iter()
        .any(|i| i.name().to_ascii_lowercase().ends_with(".zip"))
}

/// Verify the bundle among `inputs` against the other files.
pub fn verify(state: VerifyState, inputs: Vec<Input>) {
    let (files, attached) = super::sources(inputs);
    let answer = evidence::call(Request::Verify { files }, &attached);
    spawn_local(async move {
        let result = match answer.await {
            Ok(bridge::Answered {
                reply: Reply::Verified(r),
                ..
            }) => Ok(r),
            Ok(bridge::Answered {
                reply: Reply::Failed(why),
                ..
            }) => Err(why),
            Ok(_) => Err("the processing worker gave no verification".into()),
            Err(e) => Err(e.to_string()),
        };
        state.0.set(Some(result));
    });
}

fn download(s: Session, filter: Filter, with_inputs: bool) {
    let (inputs, attached) = if with_inputs {
        let (list, attached) = bridge::kept_files();
        (Some(list), attached)
    } else {
        (None, js_sys::Array::new())
    };
    let answer = evidence::call_on_run(s, Request::Bundle { filter, inputs }, &attached);
    spawn_local(async move {
        match answer.await {
            Ok(bridge::Answered {
                reply: Reply::Bundle { file_name },
                bytes,
            }) => {
                let data = bytes.map(|b| b.to_vec()).unwrap_or_default();
                if let Err(e) = browser::download(&file_name, &data, "application/zip") {
                    s.notice.set(Some(format!("Download failed: {e}")));
                }
            }
            Ok(bridge::Answered {
                reply: Reply::Failed(msg),
                ..
            }) => s.notice.set(Some(msg)),
            Ok(_) => {}
            // No recovery replays a bundle: the user starts it again.
            Err(e) => s
                .notice
                .set(Some(format!("The evidence bundle could not be made: {e}"))),
        }
    });
}

/// The download button with its "include input files" choice (off: the
/// inputs may be large or confidential).
#[component]
pub fn BundleButton(filter: Memo<Filter>) -> impl IntoView {
    let s = expect_context::<Session>();
    let with_inputs = RwSignal::new(false);
    view! {
        <button class="button" data-testid="download-bundle"
            on:click=move |_| download(s, filter.get_untracked(), with_inputs.get_untracked())>
            "Evidence bundle (.zip)"
        </button>
        <label class="policy">
            <input type="checkbox" data-testid="bundle-inputs"
                prop:checked=move || with_inputs.get()
                on:change=move |ev| with_inputs.set(event_target_checked(&ev)) />
            " include input files"
        </label>
    }
}

/// The verification report: one line per output that matches, one per
/// problem (missing, extra or changed input; differing output and row).
#[component]
pub fn VerifyReportView(state: VerifyState) -> impl IntoView {
    view! {
        {move || state.0.with(|v| v.as_ref().map(|v| match v {
            Ok(r) => view! {
                <section class="panel verify" data-testid="verify-report" aria-live="polite">
                    <div class="panel-head">
                        <h3 data-testid="verify-verdict">{if r.ok { format!("Verified: {} matches byte for byte", r.bundle) } else { format!("Not verified: {} ({} problems)", r.bundle, r.problems.len()) }}</h3>
                        <button class="button small" on:click=move |_| state.0.set(None)>"Close"</button>
                    </div>
                    <p>{format!("Tool {}, method {}", r.tool_version, r.method_version)}</p>
                    <ul>
                        {r.problems.iter().map(|p| view! { <li class="error" data-testid="verify-problem">{format!("FAILED {p}")}</li> }).collect_view()}
                        {r.matching_outputs.iter().map(|o| view! { <li data-testid="verify-ok">{format!("ok {o}")}</li> }).collect_view()}
                    </ul>
                </section>
            }.into_any(),
            Err(e) => view! {
                <section class="panel verify" data-testid="verify-report" aria-live="polite">
                    <p class="error" data-testid="verify-verdict">{format!("Not verified: {e}")}</p>
                    <button class="button small" on:click=move |_| state.0.set(None)>"Close"</button>
                </section>
            }.into_any(),
        }))}
    }
}
