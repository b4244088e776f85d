//! The browser app (wasm32 only): a thin Leptos layer over the core. It
//! reads the files the user drops, hands their bytes to the same pipeline
//! the CLI runs, and renders the report. It never computes an MRV number:
//! key figures, tables and downloads all come from the core.

mod bridge;
mod browser;
mod bundle;
mod charts;
mod dashboard;
mod day_sheet;
mod evidence;
mod files;
mod mapping;
mod qa_panel;
mod report_view;
mod review;
mod sensitivity_panel;
mod status;
mod toolbar;
mod views;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crew_mrv_core::config::{Confidence, DEFAULT_LAB_RELATIVE};
use crew_mrv_core::export::Output;
use crew_mrv_core::model::Flag;
use crew_mrv_core::{Filter, ReplicatePolicy, Report};
use crew_mrv_protocol::{FileSource, Progress, Reply, Request};
use status::{Footer, Notice, ProgressBar, UndoToast};
use toolbar::Toolbar;
use views::{EmptyState, Views};

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
    /// The review decisions kept in this browser (see `review`).
    pub reviews: RwSignal<review::Decisions>,
    /// Who is reviewing, asked once and kept in this browser.
    pub reviewer: RwSignal<String>,
    /// What the last Remove or Clear took away ("Removed X"), while the
    /// worker can still put it back.
    pub undo: RwSignal<Option<String>>,
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
            reviews: RwSignal::new(review::load()),
            reviewer: RwSignal::new(review::load_reviewer()),
            undo: RwSignal::new(None),
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

    /// A request that changes what the worker holds; its report is shown
    /// when it comes.
    fn send(&self, req: Request, files: &js_sys::Array) {
        if let Err(e) = bridge::change(*self, req, files) {
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

    /// Issue 16: removing a file or clearing all asks no question; the
    /// toast that follows offers the way back instead.
    pub fn remove_file(&self, name: String, sha256: String) {
        self.undo.set(Some(format!("Removed {name}")));
        self.send(Request::Remove { name, sha256 }, &js_sys::Array::new());
    }

    pub fn clear(&self) {
        let n = self
            .report
            .with_untracked(|r| r.as_ref().map_or(0, |r| r.files.len()));
        self.left_out.set(Vec::new());
        self.undo.set(Some(if n == 1 {
            "Cleared 1 file".to_string()
        } else {
            format!("Cleared {n} files")
        }));
        self.send(Request::Clear, &js_sys::Array::new());
    }

    pub fn undo(&self) {
        self.undo.set(None);
        self.send(Request::Undo, &js_sys::Array::new());
    }
}

/// Where bytes come from.
pub enum Input {
    Picked(web_sys::File),
    Url { name: String, url: String },
}

impl Input {
    pub(crate) fn name(&self) -> String {
        match self {
            Input::Picked(f) => f.name(),
            Input::Url { name, .. } => name.clone(),
        }
    }
}

/// Hand files to the worker, which reads and imports them one at a time
/// (reporting progress) and then re-runs the method once.
/// The inputs as a request names them: picked files travel beside the
/// message (by their index there), sample files by URL.
pub fn sources(inputs: Vec<Input>) -> (Vec<(String, FileSource)>, js_sys::Array) {
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
    (files, attached)
}

pub fn ingest(s: Session, mut inputs: Vec<Input>) {
    if inputs.is_empty() {
        return;
    }
    // The decisions kept in this browser join the first files of a session
    // (and the first after a clear), as if dropped with them.
    let has_decisions = s.report.with_untracked(|r| {
        r.as_ref()
            .is_some_and(|r| r.files.iter().any(|f| &*f.name == review::BROWSER_FILE))
    }) || inputs.iter().any(|i| i.name() == review::BROWSER_FILE);
    if !has_decisions {
        if let Some(i) = s
            .reviews
            .with_untracked(|d| (!d.is_empty()).then(|| review::browser_input(d)).flatten())
        {
            inputs.push(i);
        }
    }
    // The profiles kept in this browser join every batch that lacks them,
    // as if dropped with it (the Profiles list says so).
    let stored = mapping::load();
    let extra = mapping::inputs_missing(s, &stored, &inputs);
    inputs.extend(extra);
    // The worker forgets what it could put back once files are added.
    s.undo.set(None);
    let (files, attached) = sources(inputs);
    s.busy.set(Some(Progress {
        done: 0,
        total: files.len(),
        current: "starting".into(),
        index: 0,
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

/// The root: owns the session, starts the worker, takes dropped files, and
/// wires the parts' callbacks to the session.
#[component]
pub fn App() -> impl IntoView {
    let s = Session::new();
    provide_context(s);
    // After the first paint, while the workers warm up too and before a
    // user can have picked files.
    set_timeout(charts::warm_up, std::time::Duration::from_millis(300));
    if let Err(e) = bridge::connect(s) {
        s.notice.set(Some(format!(
            "This browser could not start the processing worker ({e}); files cannot be read here."
        )));
    }
    let dragging = RwSignal::new(false);
    let verify_state = bundle::VerifyState(RwSignal::new(None));
    let sheet = day_sheet::SheetState(RwSignal::new(None));
    provide_context(sheet);
    let mapping_state = mapping::MappingState::new();
    provide_context(mapping_state);
    // A file no profile reads opens the mapping view; a view whose file
    // is now read closes.
    Effect::new(move |_| {
        s.generation.track();
        mapping::follow(s, mapping_state);
    });
    // A batch with a bundle (.zip) in it is a verification, not data.
    let take = move |inputs: Vec<Input>| {
        if bundle::is_verification(&inputs) {
            bundle::verify(verify_state, inputs);
        } else {
            ingest(s, inputs);
        }
    };

    // Drop anywhere on the page.
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = ev.data_transfer().and_then(|d| d.files());
        take(files_of(files));
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(true);
    };
    let on_samples = Callback::new(move |()| {
        spawn_local(async move {
            match sample_inputs().await {
                Ok(inputs) => ingest(s, inputs),
                Err(e) => s
                    .notice
                    .set(Some(format!("Sample data could not be loaded: {e}"))),
            }
        });
    });
    // A dropped decisions CSV is taken into this browser's decisions.
    Effect::new(move |_| {
        s.generation.track();
        review::absorb_dropped(s);
    });
    let has_report = Signal::derive(move || s.report.with(Option::is_some));
    let counts = Signal::derive(move || {
        s.report.with(|r| {
            r.as_ref().map(|r| {
                let left_out = s.left_out.with(Vec::len);
                let bad = r.files.iter().filter(|f| f.error.is_some()).count() + left_out;
                (r.files.len() + left_out, bad, r.findings.len())
            })
        })
    });

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
            // The first stop for a keyboard: past the toolbar's controls.
            <a class="skip-link" href="#results" data-testid="skip-link">"Skip to results"</a>
            <Toolbar
                has_report=has_report
                policy=s.policy.into()
                confidence=s.confidence.into()
                lab_default=s.lab_default.into()
                on_files=Callback::new(take)
                on_samples=on_samples
                on_clear=Callback::new(move |()| s.clear())
                on_policy=Callback::new(move |p| s.set_policy(p))
                on_uncertainty=Callback::new(move |(c, lab)| s.set_uncertainty(c, lab))
                on_notice=Callback::new(move |n| s.notice.set(Some(n)))
            />
            <ProgressBar busy=s.busy.into() />
            <Notice notice=s.notice.into() on_dismiss=Callback::new(move |()| s.notice.set(None)) />
            <UndoToast what=s.undo.into() on_undo=Callback::new(move |()| s.undo()) on_dismiss=Callback::new(move |()| s.undo.set(None)) />
            <bundle::VerifyReportView state=verify_state />
            <day_sheet::DaySheetDialog state=sheet />
            <mapping::MappingPanel state=mapping_state />
            <main id="results" tabindex="-1">
                <Show when=move || has_report.get() fallback=|| view! { <EmptyState /> }>
                    <Views counts=counts />
                </Show>
            </main>
            <mapping::ProfilesPanel state=mapping_state />
            <Footer last_ms=s.last_ms.into() worker_memory=s.worker_memory.into() />
        </div>
    }
}

/// Download one of the core's outputs. The worker writes every one: it
/// holds the records the record lists need (`lab_readings.csv`, the SQL
/// script) beside the report, and keeping the writers out of the page's
/// wasm keeps the two within the size budget.
pub fn download_output(s: Session, output: Output, filter: &Filter) {
    let answer = bridge::call(
        Request::Export {
            output,
            filter: filter.clone(),
        },
        &js_sys::Array::new(),
    );
    spawn_local(async move {
        match answer.await {
            Ok(bridge::Answered {
                reply: Reply::Export { file_name, .. },
                bytes,
            }) => {
                let data = bytes.map(|b| b.to_vec()).unwrap_or_default();
                if let Err(e) = browser::download(&file_name, &data, output.mime()) {
                    s.notice.set(Some(format!("Download failed: {e}")));
                }
            }
            Ok(bridge::Answered {
                reply: Reply::Failed(msg),
                ..
            }) => {
                s.busy.set(None);
                s.notice.set(Some(msg));
            }
            Ok(_) => {}
            // The recovery's notice says a download was lost.
            Err(bridge::CallError::Stopped(_)) => {}
            Err(e) => {
                s.busy.set(None);
                s.notice
                    .set(Some(format!("Could not start processing: {e}")));
            }
        }
    });
}

pub(crate) fn fmt_num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
