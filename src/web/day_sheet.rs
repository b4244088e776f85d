//! A plant-day's calculation sheet (issue #15): opened from the daily
//! table by click or Enter/Space. The worker, which holds the records,
//! builds the core's sheet and renders it as `crew-mrv explain` prints
//! it, so the page shows the very cells and tonnes of the CLI and carries
//! none of the explain code.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::bridge;
use crew_mrv_protocol::{Reply, Request};

/// The sheet shown: (plant, date, text), or what went wrong.
#[derive(Clone, PartialEq)]
pub struct Shown {
    pub plant: String,
    pub date: NaiveDate,
    pub text: Result<String, String>,
}

/// The dialog's state, shared by the table (which opens it) and the dialog.
#[derive(Clone, Copy)]
pub struct SheetState(pub RwSignal<Option<Shown>>);

/// Ask the worker for the sheet of `plant` on `date` and show it.
pub fn open(state: SheetState, plant: String, date: NaiveDate) {
    let answer = bridge::call(
        Request::Explain {
            plant_id: plant.clone(),
            date,
        },
        &js_sys::Array::new(),
    );
    spawn_local(async move {
        let text = match answer.await {
            Ok(bridge::Answered {
                reply: Reply::DaySheet { text: Some(t) },
                ..
            }) => Ok(t),
            Ok(bridge::Answered {
                reply: Reply::Failed(why),
                ..
            }) => Err(why),
            Ok(_) => Err(format!("no day {plant} {date} in the loaded files")),
            Err(e) => Err(e.to_string()),
        };
        state.0.set(Some(Shown { plant, date, text }));
    });
}

#[component]
pub fn DaySheetDialog(state: SheetState) -> impl IntoView {
    let close = move || state.0.set(None);
    let close_button = NodeRef::<leptos::html::Button>::new();
    // Keyboard users land in the dialog; Escape and the button close it.
    Effect::new(move |_| {
        if state.0.with(Option::is_some) {
            if let Some(b) = close_button.get() {
                let _ = b.focus();
            }
        }
    });
    view! {
        <Show when=move || state.0.with(Option::is_some)>
            <div class="sheet-backdrop" on:click=move |_| close()>
                <div class="sheet" role="dialog" aria-modal="true" aria-labelledby="sheet-h"
                    data-testid="day-sheet-dialog"
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                    <div class="panel-head">
                        <h3 id="sheet-h">{move || state.0.with(|s| s.as_ref().map(|s| format!("Calculation sheet: {} {}", s.plant, s.date)).unwrap_or_default())}</h3>
                        <button class="button small" node_ref=close_button data-testid="day-sheet-close"
                            on:click=move |_| close()>"Close"</button>
                    </div>
                    {move || state.0.with(|s| match s.as_ref().map(|s| &s.text) {
                        Some(Ok(t)) => view! { <pre class="sheet-text" data-testid="day-sheet">{t.clone()}</pre> }.into_any(),
                        Some(Err(e)) => view! { <p class="error" data-testid="day-sheet-error">{e.clone()}</p> }.into_any(),
                        None => ().into_any(),
                    })}
                </div>
            </div>
        </Show>
    }
}
