//! The views of a loaded batch: the tab bar and the one panel it shows
//! (dashboard, files, QA findings, period report), and the page's state before any file.

use leptos::prelude::*;

use super::{dashboard, files, qa_panel, report_view};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Dashboard,
    Files,
    Qa,
    Report,
}

/// What the page says before any file is loaded.
#[component]
pub fn EmptyState() -> impl IntoView {
    view! {
        <section class="empty">
            <h2>"Drop files anywhere on this page"</h2>
            <p>"Calcium lab CSV, pH sensor CSVs, Plant A operator workbooks (.xlsx or .xls) and Plant B monthly reports (.xlsx). Files are recognised by their content; names do not matter."</p>
            <p>"No files at hand? Use " <strong>"Try it with sample data"</strong> " above."</p>
        </section>
    }
}

#[component]
pub fn Views(
    /// (files, files not read, QA findings) for the tab labels.
    counts: Signal<Option<(usize, usize, usize)>>,
) -> impl IntoView {
    let tab = RwSignal::new(Tab::Dashboard);
    view! {
        <nav class="tabs" role="tablist" aria-label="Views">
            <button role="tab" id="tab-dashboard" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Dashboard).to_string()
                class:active=move || tab.get() == Tab::Dashboard
                on:click=move |_| tab.set(Tab::Dashboard) data-testid="tab-dashboard">"Dashboard"</button>
            <button role="tab" id="tab-files" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Files).to_string()
                class:active=move || tab.get() == Tab::Files
                on:click=move |_| tab.set(Tab::Files) data-testid="tab-files">
                {move || counts.get().map(|(n, bad, _)| if bad > 0 { format!("Files ({n}, {bad} not read)") } else { format!("Files ({n})") })}
            </button>
            <button role="tab" id="tab-qa" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Qa).to_string()
                class:active=move || tab.get() == Tab::Qa
                on:click=move |_| tab.set(Tab::Qa) data-testid="tab-qa">
                {move || counts.get().map(|(_, _, q)| format!("QA findings ({q})"))}
            </button>
            <button role="tab" id="tab-report" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Report).to_string()
                class:active=move || tab.get() == Tab::Report
                on:click=move |_| tab.set(Tab::Report) data-testid="tab-report">"Report"</button>
        </nav>
        // Issue 16: with only unreadable files the dashboard showed empty
        // panels and 0 t without a word; the banner says so where the user
        // looks, and leads to the reasons.
        {move || {
            let bad = counts.get().map_or(0, |(_, bad, _)| bad);
            (bad > 0 && tab.get() == Tab::Dashboard).then(|| view! {
                <p class="banner error" role="status" data-testid="unread-banner">
                    {if bad == 1 { "1 file could not be read: its days are not in these figures. ".to_string() } else { format!("{bad} files could not be read: their days are not in these figures. ") }}
                    <button type="button" class="link" data-testid="unread-banner-files"
                        on:click=move |_| tab.set(Tab::Files)>"See why in the Files tab"</button>
                </p>
            })
        }}
        // Only the visible panel exists, so a new report renders one
        // panel, not three.
        <div role="tabpanel" id="tabpanel" aria-labelledby=move || match tab.get() {
            Tab::Dashboard => "tab-dashboard",
            Tab::Files => "tab-files",
            Tab::Qa => "tab-qa",
            Tab::Report => "tab-report",
        }>
            {move || match tab.get() {
                Tab::Dashboard => view! { <dashboard::Dashboard /> }.into_any(),
                Tab::Files => view! { <files::FilesPanel /> }.into_any(),
                Tab::Qa => view! { <qa_panel::QaPanel /> }.into_any(),
                Tab::Report => view! { <report_view::ReportView /> }.into_any(),
            }}
        </div>
    }
}
