//! The browser app (wasm32 only): a thin Leptos layer over the core. It
//! reads the files the user drops, hands their bytes to the same pipeline
//! the CLI runs, and renders the report. It never computes an MRV number:
//! key figures, tables and downloads all come from the core.

mod bridge;
mod browser;
mod charts;
mod dashboard;
mod files;
mod qa_panel;
mod sensitivity_panel;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crew_mrv_core::config::{Confidence, DEFAULT_LAB_RELATIVE};
use crew_mrv_core::export::Output;
use crew_mrv_core::model::Flag;
use crew_mrv_core::{Filter, ReplicatePolicy, Report};
use crew_mrv_protocol::{FileSource, Progress, Request};

/// Everything the page holds. Copy handles to signals; the root owns them.
#[derive(Clone, Copy)]
pub struct Session {
    pub report: RwSignal<Option<Report>>,
    pub policy: RwSignal<ReplicatePolicy>,
    /// METHOD §7's confidence and lab default, as last sent to the worker.
    pub confidence: RwSignal<Confidence>,
    pub lab_default: RwSignal<f64>,
    pub busy: RwSignal<Option<Progress>>,
    pub notice: RwSignal<Option<String>>,
    pub plant: RwSignal<Option<String>>,
    pub from: RwSignal<Option<NaiveDate>>,
    pub to: RwSignal<Option<NaiveDate>>,
    pub flags: RwSignal<BTreeSet<Flag>>,
    /// Bumped after every recomputation; tests wait on it.
    pub generation: RwSignal<u32>,
    /// How long the last batch of files took, from first read to report.
    pub last_ms: RwSignal<Option<f64>>,
    /// The worker's WebAssembly memory after the last batch (its peak).
    pub worker_memory: RwSignal<Option<u64>>,
    /// Files left out because the worker died reading them: (name, why).
    pub left_out: RwSignal<Vec<(String, String)>>,
}

impl Session {
    fn new() -> Session {
        Session {
            report: RwSignal::new(None),
            policy: RwSignal::new(ReplicatePolicy::Mean),
            confidence: RwSignal::new(Confidence::default()),
            lab_default: RwSignal::new(DEFAULT_LAB_RELATIVE),
            busy: RwSignal::new(None),
            notice: RwSignal::new(None),
            plant: RwSignal::new(None),
            from: RwSignal::new(None),
            to: RwSignal::new(None),
            flags: RwSignal::new(Flag::ALL.into_iter().collect()),
            generation: RwSignal::new(0),
            last_ms: RwSignal::new(None),
            worker_memory: RwSignal::new(None),
            left_out: RwSignal::new(Vec::new()),
        }
    }

    /// The dashboard filter as the core understands it.
    pub fn filter(&self) -> Filter {
        let flags = self.flags.get();
        Filter {
            plant: self.plant.get(),
            from: self.from.get(),
            to: self.to.get(),
            flags: if flags.len() == Flag::ALL.len() {
                None
            } else {
                Some(flags)
            },
        }
    }

    /// A request without files.
    pub fn send_request(&self, req: Request) {
        self.send(req, &js_sys::Array::new());
    }

    fn send(&self, req: Request, files: &js_sys::Array) {
        if let Err(e) = bridge::send(&req, files) {
            self.busy.set(None);
            self.notice
                .set(Some(format!("Could not start processing: {e}")));
        }
    }

    pub fn set_policy(&self, p: ReplicatePolicy) {
        if self.policy.get_untracked() == p {
            return;
        }
        self.policy.set(p);
        self.send(Request::SetPolicy(p), &js_sys::Array::new());
    }

    /// Change METHOD §7's settings; the worker recomputes.
    pub fn set_uncertainty(&self, confidence: Confidence, lab_default_relative: f64) {
        if self.confidence.get_untracked() == confidence
            && self.lab_default.get_untracked() == lab_default_relative
        {
            return;
        }
        self.confidence.set(confidence);
        self.lab_default.set(lab_default_relative);
        self.send(
            Request::SetUncertainty {
                confidence,
                lab_default_relative,
            },
            &js_sys::Array::new(),
        );
    }

    pub fn remove_file(&self, name: String, sha256: String) {
        self.send(Request::Remove { name, sha256 }, &js_sys::Array::new());
    }

    pub fn clear(&self) {
        self.left_out.set(Vec::new());
        self.send(Request::Clear, &js_sys::Array::new());
    }
}

/// Where bytes come from.
pub enum Input {
    Picked(web_sys::File),
    Url { name: String, url: String },
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Picked(f) => f.name(),
            Input::Url { name, .. } => name.clone(),
        }
    }
}

/// Hand files to the worker, which reads and imports them one at a time
/// (reporting progress) and then re-runs the method once.
pub fn ingest(s: Session, inputs: Vec<Input>) {
    if inputs.is_empty() {
        return;
    }
    let attached = js_sys::Array::new();
    let mut files = Vec::with_capacity(inputs.len());
    for input in inputs {
        let name = input.name();
        let source = match input {
            Input::Picked(f) => {
                attached.push(&f);
                FileSource::Attached(attached.length() as usize - 1)
            }
            Input::Url { url, .. } => FileSource::Url(url),
        };
        files.push((name, source));
    }
    s.busy.set(Some(Progress {
        done: 0,
        total: files.len(),
        current: "starting".into(),
    }));
    s.send(Request::Add { files }, &attached);
}

/// The sample files listed in `data/manifest.json`.
async fn sample_inputs() -> Result<Vec<Input>, String> {
    let bytes = browser::fetch_bytes("data/manifest.json").await?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("manifest: {e}"))?;
    let files = v
        .get("files")
        .and_then(|f| f.as_array())
        .ok_or("manifest has no file list")?;
    Ok(files
        .iter()
        .filter_map(|f| f.get("name").and_then(|n| n.as_str()))
        .map(|name| Input::Url {
            name: name.to_string(),
            url: format!("data/{}", js_sys::encode_uri_component(name)),
        })
        .collect())
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<Input> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(Input::Picked)
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Dashboard,
    Files,
    Qa,
}

#[component]
pub fn App() -> impl IntoView {
    let s = Session::new();
    provide_context(s);
    if let Err(e) = bridge::connect(s) {
        s.notice.set(Some(format!(
            "This browser could not start the processing worker ({e}); files cannot be read here."
        )));
    }
    let tab = RwSignal::new(Tab::Dashboard);
    let picker = NodeRef::<leptos::html::Input>::new();
    let dragging = RwSignal::new(false);

    // Drop anywhere on the page.
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = ev.data_transfer().and_then(|d| d.files());
        ingest(s, files_of(files));
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(true);
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
        if let Some(input) = input {
            ingest(s, files_of(input.files()));
            input.set_value("");
        }
    };
    let load_samples = move |_| {
        spawn_local(async move {
            match sample_inputs().await {
                Ok(inputs) => ingest(s, inputs),
                Err(e) => s
                    .notice
                    .set(Some(format!("Sample data could not be loaded: {e}"))),
            }
        });
    };
    let has_report = move || s.report.with(Option::is_some);
    let counts = move || {
        s.report.with(|r| {
            r.as_ref().map(|r| {
                let left_out = s.left_out.with(Vec::len);
                let bad = r.files.iter().filter(|f| f.error.is_some()).count() + left_out;
                (r.files.len() + left_out, bad, r.findings.len())
            })
        })
    };

    view! {
        <div
            class="app"
            class:dragging=move || dragging.get()
            on:drop=on_drop
            on:dragover=on_dragover
            on:dragleave=move |_| dragging.set(false)
            data-testid="app-ready"
            data-generation=move || s.generation.get().to_string()
            data-rows=move || s.report.with(|r| r.as_ref().map(|r| r.files.iter().map(|f| f.account.rows_in).sum::<u64>().to_string()).unwrap_or_default())
        >
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
                        accept=".csv,.xlsx,.xls,.txt,.tsv"
                        aria-label="Add plant, lab and sensor files"
                        data-testid="file-input"
                        on:change=on_pick
                    />
                    <button class="button" on:click=load_samples data-testid="load-samples">
                        "Try it with sample data"
                    </button>
                    <Show when=has_report>
                        <button class="button subtle" on:click=move |_| s.clear() data-testid="clear">"Clear all"</button>
                    </Show>
                    <label class="policy">
                        "Replicates: "
                        <select
                            aria-label="Replicate policy"
                            data-testid="policy"
                            on:change=move |ev| {
                                if let Some(p) = ReplicatePolicy::parse(&event_target_value(&ev)) {
                                    s.set_policy(p);
                                }
                            }
                        >
                            <option value="mean" selected=move || s.policy.get() == ReplicatePolicy::Mean>"mean of samples"</option>
                            <option value="first" selected=move || s.policy.get() == ReplicatePolicy::First>"first row (legacy)"</option>
                        </select>
                    </label>
                    <label class="policy" title="The creditable total discounts the uncertainty: 1 σ (16th percentile, Isometric) or 1.645 σ (5th percentile, OAE draft). METHOD §7.">
                        "Credit at: "
                        <select
                            aria-label="Confidence of the conservative total"
                            data-testid="confidence"
                            on:change=move |ev| {
                                if let Some(c) = Confidence::parse(&event_target_value(&ev)) {
                                    s.set_uncertainty(c, s.lab_default.get_untracked());
                                }
                            }
                        >
                            <option value="p16" selected=move || s.confidence.get() == Confidence::P16>"p16 (total − 1 σ)"</option>
                            <option value="p5" selected=move || s.confidence.get() == Confidence::P5>"p5 (total − 1.645 σ)"</option>
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
                            prop:value=move || s.lab_default.get().to_string()
                            on:change=move |ev| {
                                match event_target_value(&ev).trim().parse::<f64>() {
                                    Ok(v) if v.is_finite() && v >= 0.0 => s.set_uncertainty(s.confidence.get_untracked(), v),
                                    _ => s.notice.set(Some("The lab σ default is a fraction such as 0.02 (2 %), at least 0.".into())),
                                }
                            }
                        />
                    </label>
                </div>
            </header>
            {move || s.busy.get().map(|p| {
                let pct = (p.done * 100).checked_div(p.total).unwrap_or(100);
                view! {
                    <div class="progress" role="status" aria-live="polite" data-testid="progress">
                        <progress max="100" value=pct.to_string()></progress>
                        <span>{format!("{} of {} files — {}", p.done, p.total, p.current)}</span>
                    </div>
                }
            })}
            {move || s.notice.get().map(|n| view! {
                <div class="notice" role="alert">
                    <pre>{n}</pre>
                    <button class="button subtle" on:click=move |_| s.notice.set(None)>"Dismiss"</button>
                </div>
            })}
            <Show
                when=has_report
                fallback=|| view! {
                    <section class="empty">
                        <h2>"Drop files anywhere on this page"</h2>
                        <p>"Calcium lab CSV, pH sensor CSVs, Plant A operator workbooks (.xlsx or .xls) and Plant B monthly reports (.xlsx). Files are recognised by their content; names do not matter."</p>
                        <p>"No files at hand? Use " <strong>"Try it with sample data"</strong> " above."</p>
                    </section>
                }
            >
                <nav class="tabs" role="tablist" aria-label="Views">
                    <button role="tab" id="tab-dashboard" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Dashboard).to_string()
                        class:active=move || tab.get() == Tab::Dashboard
                        on:click=move |_| tab.set(Tab::Dashboard) data-testid="tab-dashboard">"Dashboard"</button>
                    <button role="tab" id="tab-files" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Files).to_string()
                        class:active=move || tab.get() == Tab::Files
                        on:click=move |_| tab.set(Tab::Files) data-testid="tab-files">
                        {move || counts().map(|(n, bad, _)| if bad > 0 { format!("Files ({n}, {bad} not read)") } else { format!("Files ({n})") })}
                    </button>
                    <button role="tab" id="tab-qa" aria-controls="tabpanel" aria-selected=move || (tab.get() == Tab::Qa).to_string()
                        class:active=move || tab.get() == Tab::Qa
                        on:click=move |_| tab.set(Tab::Qa) data-testid="tab-qa">
                        {move || counts().map(|(_, _, q)| format!("QA findings ({q})"))}
                    </button>
                </nav>
                // Only the visible panel exists, so a new report renders one
                // panel, not three.
                <div role="tabpanel" id="tabpanel" aria-labelledby=move || match tab.get() {
                    Tab::Dashboard => "tab-dashboard",
                    Tab::Files => "tab-files",
                    Tab::Qa => "tab-qa",
                }>
                    {move || match tab.get() {
                        Tab::Dashboard => view! { <dashboard::Dashboard /> }.into_any(),
                        Tab::Files => view! { <files::FilesPanel /> }.into_any(),
                        Tab::Qa => view! { <qa_panel::QaPanel /> }.into_any(),
                    }}
                </div>
            </Show>
            <footer class="foot">
                {format!("Method {} · everything runs locally in this page", crew_mrv_core::METHOD_VERSION)}
                {move || s.last_ms.get().map(|ms| view! {
                    <span data-testid="last-ms" data-ms=format!("{ms:.0}")>{format!(" · last change processed in {:.0} ms", ms)}</span>
                })}
                {move || s.worker_memory.get().map(|b| view! {
                    <span data-testid="worker-memory" data-bytes=b.to_string()>{format!(" · worker memory {:.0} MB", b as f64 / 1e6)}</span>
                })}
            </footer>
        </div>
    }
}

/// Download one of the core's outputs. The page has the report but not the
/// records (the worker's store keeps them), so `lab_readings.csv` is
/// written by the worker.
pub fn download_output(s: Session, output: Output, filter: &Filter) {
    if output == Output::LabReadings {
        s.send(
            Request::Export {
                id: 0,
                output,
                filter: filter.clone(),
            },
            &js_sys::Array::new(),
        );
        return;
    }
    let result = s.report.with_untracked(|r| {
        r.as_ref().and_then(|r| {
            let bytes = crew_mrv_core::export::report_output_bytes(output, r, filter)?;
            Some((output.download_name(r, filter), bytes))
        })
    });
    if let Some((file, bytes)) = result {
        if let Err(e) = browser::download(&file, &bytes, output.mime()) {
            s.notice.set(Some(format!("Download failed: {e}")));
        }
    }
}

pub(crate) fn fmt_num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
