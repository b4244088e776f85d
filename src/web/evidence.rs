//! The evidence worker (issue #15 within issue #11's wasm budget): the zip
//! writer, the bundle and its verification live in a third wasm, started
//! only when the user asks for a bundle or drops one, so a visitor who
//! never does downloads none of it. It is the processing worker's code with
//! the evidence requests compiled in (`crates/evidence-worker`). Before a
//! bundle it is brought to the processing worker's state by replaying the
//! requests that worker applied, so both hold the same run and the bundle
//! is the one `crew-mrv run --bundle` writes for the same files.
//!
//! One request at a time is enough here (a download or a verification the
//! user started); if the worker dies, what waited fails and the next use
//! starts a fresh one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

use futures_channel::oneshot;
use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::bridge::{self, Answered, CallError};
use super::Session;
use crew_mrv_protocol::{Answer, Call, Reply, Request};

type Settle = oneshot::Sender<Result<Answered, CallError>>;

struct Evidence {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
    /// Its wasm compiles after `new Worker`; messages wait for `Ready`.
    ready: bool,
    queued: Vec<Object>,
    next_id: u32,
    waiting: HashMap<u32, Settle>,
}

impl Drop for Evidence {
    /// As the processing worker's: no message may reach a freed closure.
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

thread_local! {
    static EVIDENCE: RefCell<Option<Evidence>> = const { RefCell::new(None) };
}

fn settle(id: u32, result: Result<Answered, CallError>) {
    let waiting = EVIDENCE.with(|e| {
        e.borrow_mut()
            .as_mut()
            .and_then(|ev| ev.waiting.remove(&id))
    });
    if let Some(w) = waiting {
        let _ = w.send(result);
    }
}

fn flush() {
    EVIDENCE.with(|e| {
        if let Some(ev) = e.borrow_mut().as_mut() {
            ev.ready = true;
            for msg in std::mem::take(&mut ev.queued) {
                let _ = ev.worker.post_message(&msg);
            }
        }
    })
}

/// The worker died: everything that waited fails with its reason, and the
/// next use starts a new one.
fn stopped(why: String) {
    let gone = EVIDENCE.with(|e| e.borrow_mut().take());
    if let Some(mut ev) = gone {
        for (_, w) in ev.waiting.drain() {
            let _ = w.send(Err(CallError::Stopped(why.clone())));
        }
    }
}

fn start() -> Result<Evidence, String> {
    let worker = Worker::new("./evidence_loader.js").map_err(|e| format!("{e:?}"))?;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let bytes: Option<Uint8Array> = Reflect::get(&data, &"bytes".into())
            .ok()
            .and_then(|b| b.dyn_into().ok());
        match bridge::answer_of(&data) {
            Ok(Answer {
                reply: Reply::Ready,
                ..
            }) => flush(),
            // Replayed files report progress and runs nobody shows.
            Ok(Answer {
                reply: Reply::Progress(_),
                ..
            }) => {}
            Ok(Answer { id, reply }) => settle(id, Ok(Answered { reply, bytes })),
            Err(e) => stopped(format!("unreadable message: {e}")),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        ev.prevent_default();
        let why = ev.message();
        // Not inside this handler: it belongs to the worker being dropped.
        let cb = Closure::once_into_js(move || stopped(why));
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0);
        }
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Evidence {
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
        ready: false,
        queued: Vec::new(),
        next_id: 1,
        waiting: HashMap::new(),
    })
}

/// Hand `req` to the evidence worker, starting it on first use.
fn post(
    req: Request,
    files: &Array,
) -> Result<oneshot::Receiver<Result<Answered, CallError>>, String> {
    EVIDENCE.with(|e| {
        let mut e = e.borrow_mut();
        if e.is_none() {
            *e = Some(start()?);
        }
        let Some(ev) = e.as_mut() else {
            return Err("the evidence worker is not running".to_string());
        };
        let id = ev.next_id;
        ev.next_id = ev.next_id.wrapping_add(1).max(1);
        let msg = bridge::call_message(&Call { id, request: req }, files)?;
        if ev.ready {
            ev.worker.post_message(&msg).map_err(|e| format!("{e:?}"))?;
        } else {
            ev.queued.push(msg);
        }
        let (settle, answer) = oneshot::channel();
        ev.waiting.insert(id, settle);
        Ok(answer)
    })
}

async fn answer(
    sent: Result<oneshot::Receiver<Result<Answered, CallError>>, String>,
) -> Result<Answered, CallError> {
    let answer = sent.map_err(CallError::NotSent)?;
    answer
        .await
        .unwrap_or_else(|_| Err(CallError::Stopped("it went away".into())))
}

/// A request that needs no loaded files (a verification brings its own).
pub fn call(
    req: Request,
    files: &Array,
) -> impl Future<Output = Result<Answered, CallError>> + 'static {
    answer(post(req, files))
}

/// A request about the loaded run (a bundle): the evidence worker first
/// forgets what it held, takes the page's settings and is sent every
/// state change the processing worker applied, in order, each with its
/// own `File`s, so it computes the same run.
pub fn call_on_run(
    s: Session,
    req: Request,
    files: &Array,
) -> impl Future<Output = Result<Answered, CallError>> + 'static {
    let mut setup = vec![
        (Request::Clear, Array::new()),
        (Request::SetPolicy(s.policy.get_untracked()), Array::new()),
        (
            Request::SetUncertainty {
                confidence: s.confidence.get_untracked(),
                lab_default_relative: s.lab_default.get_untracked(),
            },
            Array::new(),
        ),
    ];
    setup.extend(bridge::applied());
    let replayed = setup
        .into_iter()
        .try_for_each(|(r, f)| post(r, &f).map(drop));
    let sent = replayed.and_then(|()| post(req, files));
    answer(sent)
}
