//! The page's side of the worker: one worker, started at load; requests
//! go out as JSON with `File` handles beside them, replies come back and
//! update the session's signals. Only the report without per-row records
//! crosses over; `lab_readings.csv` is written in the worker.
//!
//! A worker can die under the page (an out-of-memory abort on a huge file,
//! or any trap). The page keeps every request that changed the worker's
//! state, with its `File` handles (no bytes), so it can start a fresh
//! worker and replay them, leaving out the file that was being read when
//! the old one died: the user loses one file, not the session.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use chrono::NaiveDateTime;
use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::{browser, Session};
use crew_mrv_core::{ReplicatePolicy, Report};
use crew_mrv_protocol::{Reply, Request};

type PointsCallback = Box<dyn FnOnce(Vec<(NaiveDateTime, f64)>)>;

/// A worker whose handlers live exactly as long as it does.
struct Running {
    /// Which worker this is: events still queued from a replaced one are
    /// recognised by it and ignored.
    id: u32,
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Drop for Running {
    /// Detach the handlers before they are freed: a message the old worker
    /// posted before it was stopped must not call a dropped closure.
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

struct Bridge {
    running: Running,
    next_id: u32,
    waiting: HashMap<u32, PointsCallback>,
    /// Until the worker has said `Ready` its message handler may not exist
    /// yet (its wasm is still compiling) and a message would be lost, so
    /// requests wait here.
    ready: bool,
    queued: Vec<Object>,
    /// State-changing requests the worker has answered, in order: replaying
    /// them into a fresh worker rebuilds what the user had loaded.
    applied: Vec<(Request, Array)>,
    /// State-changing requests sent and not yet answered, oldest first. The
    /// worker handles requests in order, so the oldest is the one at work.
    pending: VecDeque<(Request, Array)>,
    /// Which file of the oldest pending `Add` the worker said it was
    /// reading; `None` once it moved on to computing.
    reading: Option<usize>,
    /// Restarts since the last report; bounds a crash loop.
    restarts: u32,
    /// Downloads asked of the worker and not yet delivered.
    exports: u32,
}

thread_local! {
    static BRIDGE: RefCell<Option<Bridge>> = const { RefCell::new(None) };
    static WORKERS_STARTED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether worker `id` is the one the page works with now.
fn is_current(id: u32) -> bool {
    BRIDGE.with(|b| b.borrow().as_ref().is_none_or(|br| br.running.id == id))
}

/// Requests whose effect lives in the worker and must survive a restart.
fn changes_state(req: &Request) -> bool {
    matches!(
        req,
        Request::Add { .. }
            | Request::Remove { .. }
            | Request::Clear
            | Request::SetPolicy(_)
            | Request::SetUncertainty { .. }
    )
}

/// Start a worker that routes its replies into `s`.
fn spawn(s: Session) -> Result<Running, String> {
    let id = WORKERS_STARTED.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let worker = Worker::new("./worker_loader.js").map_err(|e| format!("{e:?}"))?;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if !is_current(id) {
            return;
        }
        let data = ev.data();
        let json = Reflect::get(&data, &"json".into())
            .ok()
            .and_then(|j| j.as_string())
            .unwrap_or_default();
        let bytes: Option<Uint8Array> = Reflect::get(&data, &"bytes".into())
            .ok()
            .and_then(|b| b.dyn_into().ok());
        match Reply::from_json(&json) {
            // A report is parsed in this task and rendered in the next, so
            // neither keeps the page from handling input for long.
            Ok(reply @ Reply::Report { .. }) => {
                acknowledge();
                let cb = Closure::once_into_js(move || apply(s, reply, bytes));
                let scheduled = web_sys::window().map(|w| {
                    w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0)
                });
                if !matches!(scheduled, Some(Ok(_))) {
                    s.notice.set(Some("The page could not schedule rendering; reload it.".into()));
                }
            }
            Ok(reply) => apply(s, reply, bytes),
            Err(e) => s.notice.set(Some(format!("The processing worker sent a message this page cannot read ({e}). Reload the page."))),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        // Handled here; the console still shows the worker's own error.
        ev.prevent_default();
        let why = ev.message();
        // Not inside this handler: recovery replaces the worker it belongs to.
        let cb = Closure::once_into_js(move || recover(s, id, &why));
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0);
        }
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Running {
        id,
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

/// Start the worker and route its replies into `s`.
pub fn connect(s: Session) -> Result<(), String> {
    let running = spawn(s)?;
    BRIDGE.with(|b| {
        *b.borrow_mut() = Some(Bridge {
            running,
            next_id: 1,
            waiting: HashMap::new(),
            ready: false,
            queued: Vec::new(),
            applied: Vec::new(),
            pending: VecDeque::new(),
            reading: None,
            restarts: 0,
            exports: 0,
        })
    });
    Ok(())
}

/// Send a request, with `files` (browser `File`s) alongside.
pub fn send(req: &Request, files: &Array) -> Result<(), String> {
    BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        let Some(bridge) = b.as_mut() else {
            return Err("the processing worker is not running".to_string());
        };
        let msg = Object::new();
        Reflect::set(&msg, &"json".into(), &req.to_json().into()).map_err(|e| format!("{e:?}"))?;
        Reflect::set(&msg, &"files".into(), files).map_err(|e| format!("{e:?}"))?;
        if bridge.ready {
            bridge
                .running
                .worker
                .post_message(&msg)
                .map_err(|e| format!("{e:?}"))?;
        } else {
            bridge.queued.push(msg);
        }
        if matches!(req, Request::Export { .. }) {
            bridge.exports += 1;
        }
        if changes_state(req) {
            bridge.pending.push_back((req.clone(), files.clone()));
        }
        Ok(())
    })
}

/// The worker answered its oldest state-changing request.
fn acknowledge() {
    BRIDGE.with(|b| {
        if let Some(bridge) = b.borrow_mut().as_mut() {
            bridge.reading = None;
            bridge.restarts = 0;
            match bridge.pending.pop_front() {
                Some((Request::Clear, _)) => bridge.applied.clear(),
                Some(done) => bridge.applied.push(done),
                None => {}
            }
        }
    })
}

fn export_done() {
    BRIDGE.with(|b| {
        if let Some(bridge) = b.borrow_mut().as_mut() {
            bridge.exports = bridge.exports.saturating_sub(1);
        }
    })
}

/// What a dead worker was doing, and so what the replay leaves out.
enum LeftOut {
    /// The file being read.
    File(String),
    /// A whole batch: the worker died computing with these files added.
    Batch(Vec<String>),
    /// A removal or a policy change that could not be computed.
    Change(&'static str),
    /// The worker died idle; everything is replayed.
    Nothing,
}

/// Replace dead worker `id` and replay what it held, minus what killed it.
fn recover(s: Session, id: u32, why: &str) {
    let plan = BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        let bridge = b.as_mut()?;
        // A second error from a worker already replaced changes nothing.
        if bridge.running.id != id {
            return None;
        }
        bridge.running.worker.terminate();
        bridge.restarts += 1;
        let mut replay = std::mem::take(&mut bridge.applied);
        let mut pending = std::mem::take(&mut bridge.pending);
        let reading = bridge.reading.take();
        bridge.queued.clear();
        bridge.waiting.clear();
        bridge.ready = false;
        let left_out = match pending.pop_front() {
            Some((Request::Add { mut files }, attached)) => match reading {
                Some(i) if i < files.len() => {
                    let (name, _) = files.remove(i);
                    if !files.is_empty() {
                        replay.push((Request::Add { files }, attached));
                    }
                    LeftOut::File(name)
                }
                _ => LeftOut::Batch(files.into_iter().map(|(n, _)| n).collect()),
            },
            Some((Request::Remove { .. }, _)) => LeftOut::Change("removing a file"),
            Some((Request::SetPolicy(_), _)) => LeftOut::Change("changing the replicate policy"),
            Some((Request::SetUncertainty { .. }, _)) => {
                LeftOut::Change("changing the uncertainty settings")
            }
            Some((other, attached)) => {
                replay.push((other, attached));
                LeftOut::Nothing
            }
            None => LeftOut::Nothing,
        };
        replay.extend(pending);
        let lost_export = std::mem::take(&mut bridge.exports) > 0;
        Some((left_out, replay, bridge.restarts, lost_export))
    });
    let Some((left_out, replay, restarts, lost_export)) = plan else {
        return;
    };
    // Every restart drops a file or a change, so this only bounds a worker
    // that dies idle again and again.
    if restarts > 5 {
        s.busy.set(None);
        s.notice.set(Some(format!(
            "The processing worker keeps stopping ({why}). Reload the page to start again; your files were not sent anywhere."
        )));
        return;
    }
    let lost: Vec<String> = match &left_out {
        LeftOut::File(name) => vec![name.clone()],
        LeftOut::Batch(names) => names.clone(),
        _ => Vec::new(),
    };
    s.left_out.update(|l| {
        l.extend(lost.into_iter().map(|name| {
            (
                name,
                format!("Not loaded: the processing worker stopped while this file was read or computed ({why}). Split it, or run it through the crew-mrv command-line tool."),
            )
        }))
    });
    let what = match &left_out {
        LeftOut::File(name) => format!(
            "The processing worker stopped while reading {name} ({why}). That file was left out and the other files were loaded again. \
             The usual cause is a file too large for this browser tab's memory: split it, or run it through the crew-mrv command-line tool."
        ),
        LeftOut::Batch(names) => format!(
            "The processing worker stopped while computing with {} ({why}). Those files were left out and the earlier ones were loaded again.",
            names.join(", ")
        ),
        LeftOut::Change(what) => format!(
            "The processing worker stopped while {what} ({why}). That change was undone and the files were loaded again."
        ),
        LeftOut::Nothing => format!(
            "The processing worker stopped ({why}) and was restarted with the same files."
        ),
    };
    let what = if lost_export {
        format!("{what} A download that was being prepared was lost: start it again.")
    } else {
        what
    };
    s.notice.set(Some(what));
    s.busy.set(Some(crew_mrv_protocol::Progress {
        done: 0,
        total: 0,
        current: "restarting the processing worker".into(),
    }));
    s.policy.set(
        replay
            .iter()
            .rev()
            .find_map(|(r, _)| match r {
                Request::SetPolicy(p) => Some(*p),
                _ => None,
            })
            .unwrap_or(ReplicatePolicy::Mean),
    );
    let (confidence, lab) = replay
        .iter()
        .rev()
        .find_map(|(r, _)| match r {
            Request::SetUncertainty {
                confidence,
                lab_default_relative,
            } => Some((*confidence, *lab_default_relative)),
            _ => None,
        })
        .unwrap_or((
            Default::default(),
            crew_mrv_core::config::DEFAULT_LAB_RELATIVE,
        ));
    s.confidence.set(confidence);
    s.lab_default.set(lab);
    let started = spawn(s).and_then(|running| {
        BRIDGE.with(|b| {
            if let Some(bridge) = b.borrow_mut().as_mut() {
                bridge.running = running;
            }
        });
        replay.iter().try_for_each(|(req, files)| send(req, files))
    });
    match started {
        Ok(()) if replay.is_empty() => {
            // Nothing to rebuild: show the empty state, not a stale report.
            s.busy.set(None);
            s.report.set(None);
            s.generation.update(|g| *g += 1);
        }
        Ok(()) => {}
        Err(e) => {
            s.busy.set(None);
            s.notice.set(Some(format!(
                "The processing worker stopped ({why}) and could not be restarted ({e}). Reload the page to start again."
            )));
        }
    }
}

/// A fresh request id, with `done` called when the reply comes.
pub fn expect_points(done: PointsCallback) -> u32 {
    BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        match b.as_mut() {
            Some(bridge) => {
                let id = bridge.next_id;
                bridge.next_id += 1;
                bridge.waiting.insert(id, done);
                id
            }
            None => 0,
        }
    })
}

fn apply(s: Session, reply: Reply, bytes: Option<Uint8Array>) {
    match reply {
        Reply::Ready => BRIDGE.with(|b| {
            if let Some(bridge) = b.borrow_mut().as_mut() {
                bridge.ready = true;
                for msg in std::mem::take(&mut bridge.queued) {
                    if bridge.running.worker.post_message(&msg).is_err() {
                        s.notice.set(Some("A request could not be handed to the processing worker; reload the page.".into()));
                    }
                }
            }
        }),
        Reply::Progress(p) => {
            BRIDGE.with(|b| {
                if let Some(bridge) = b.borrow_mut().as_mut() {
                    bridge.reading = (p.done < p.total).then_some(p.done);
                }
            });
            s.busy.set(Some(p));
        }
        Reply::Report {
            report,
            files_changed,
            elapsed_ms,
            problems,
            worker_memory_bytes,
        } => {
            s.worker_memory.set(Some(worker_memory_bytes));
            if files_changed {
                let range = report.as_ref().and_then(Report::default_range);
                s.from.set(range.map(|r| r.0));
                s.to.set(range.map(|r| r.1));
                let plants = report.as_ref().map(Report::plants).unwrap_or_default();
                if let Some(p) = s.plant.get_untracked() {
                    if !plants.iter().any(|x| **x == *p) {
                        s.plant.set(None);
                    }
                }
            }
            s.report.set(report);
            s.last_ms.set(Some(elapsed_ms));
            if !problems.is_empty() {
                s.notice.set(Some(problems.join("\n")));
            }
            s.busy.set(None);
            s.generation.update(|g| *g += 1);
        }
        Reply::Export {
            output, file_name, ..
        } => {
            export_done();
            let data = bytes.map(|b| b.to_vec()).unwrap_or_default();
            if let Err(e) = browser::download(&file_name, &data, output.mime()) {
                s.notice.set(Some(format!("Download failed: {e}")));
            }
        }
        Reply::SensorPoints { id, points } => {
            let cb = BRIDGE.with(|b| {
                b.borrow_mut()
                    .as_mut()
                    .and_then(|br| br.waiting.remove(&id))
            });
            if let Some(cb) = cb {
                cb(points);
            }
        }
        Reply::Failed(msg) => {
            export_done();
            s.busy.set(None);
            s.notice.set(Some(msg));
        }
    }
}
