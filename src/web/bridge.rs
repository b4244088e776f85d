//! The page's side of the worker: one worker, started at load; requests
//! go out as JSON with `File` handles beside them, replies come back and
//! update the session's signals. Only the report without per-row records
//! crosses over; `lab_readings.csv` is written in the worker.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::NaiveDateTime;
use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::{browser, Session};
use crate::protocol::{Reply, Request};
use crate::Report;

type PointsCallback = Box<dyn FnOnce(Vec<(NaiveDateTime, f64)>)>;

struct Bridge {
    worker: Worker,
    next_id: u32,
    waiting: HashMap<u32, PointsCallback>,
    /// Until the worker has said `Ready` its message handler may not exist
    /// yet (its wasm is still compiling) and a message would be lost, so
    /// requests wait here.
    ready: bool,
    queued: Vec<Object>,
}

thread_local! {
    static BRIDGE: RefCell<Option<Bridge>> = const { RefCell::new(None) };
}

/// Start the worker and route its replies into `s`.
pub fn connect(s: Session) -> Result<(), String> {
    let worker = Worker::new("./worker_loader.js").map_err(|e| format!("{e:?}"))?;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
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
    onmessage.forget();
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        s.busy.set(None);
        s.notice.set(Some(format!(
            "The processing worker stopped ({}). Reload the page to start again; your files were not sent anywhere.",
            ev.message()
        )));
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    BRIDGE.with(|b| {
        *b.borrow_mut() = Some(Bridge {
            worker,
            next_id: 1,
            waiting: HashMap::new(),
            ready: false,
            queued: Vec::new(),
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
                .worker
                .post_message(&msg)
                .map_err(|e| format!("{e:?}"))
        } else {
            bridge.queued.push(msg);
            Ok(())
        }
    })
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
                    if bridge.worker.post_message(&msg).is_err() {
                        s.notice.set(Some("A request could not be handed to the processing worker; reload the page.".into()));
                    }
                }
            }
        }),
        Reply::Progress(p) => s.busy.set(Some(p)),
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
        Reply::Export { file_name, .. } => {
            let data = bytes.map(|b| b.to_vec()).unwrap_or_default();
            if let Err(e) = browser::download(&file_name, &data, super::mime_of(&file_name)) {
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
            s.busy.set(None);
            s.notice.set(Some(msg));
        }
    }
}
