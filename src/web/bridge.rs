//! The page's side of the worker: one worker, started at load. Every
//! request goes out as a `Call` with its own id (and `File` handles beside
//! it) and is a future here: the worker's final reply to that id, or its
//! failure, settles that request and no other. Only the report without
//! per-row records crosses over; `lab_readings.csv` and the SQL script are
//! written in the worker.
//!
//! A worker can die under the page (an out-of-memory abort on a huge file,
//! or any trap). Every request still waiting then fails with
//! [`CallError::Stopped`]; the page keeps every request that changed the
//! worker's state, with its `File` handles (no bytes), so it can start a
//! fresh worker and replay them as new requests, leaving out the file that
//! was being read when the old one died: the user loses one file, not the
//! session.
//!
//! That worker assembles; a pool of more copies of it (README, Browser
//! pool: `navigator.hardwareConcurrency - 1` workers, 1 to 8, or
//! `?pool=N` workers in all / `localStorage.crewMrvPool` for tests)
//! imports files beside it. The page only starts them and connects each to the assembling
//! worker by a `MessageChannel`: files and records never pass through
//! here. A pool worker that dies is replaced; the assembling worker names
//! the file it was reading in its report (`lost`), and that file is left
//! out as above.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;

use chrono::NaiveDateTime;
use futures_channel::oneshot;
use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageChannel, MessageEvent, Worker};

use super::Session;
use crew_mrv_core::{ReplicatePolicy, Report};
use crew_mrv_protocol::{Answer, Call, Reply, Request};

/// A request's final reply, with the bytes that travel beside an export.
pub struct Answered {
    pub reply: Reply,
    pub bytes: Option<Uint8Array>,
}

/// Why a request has no reply.
#[derive(Debug)]
pub enum CallError {
    /// It never reached a worker.
    NotSent(String),
    /// The worker stopped before answering. The recovery tells the user
    /// what was lost, and replays state changes as new requests.
    Stopped(String),
    /// The worker answered that it could not do it.
    Refused(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotSent(why) => write!(f, "{why}"),
            CallError::Stopped(why) => write!(f, "the processing worker stopped ({why})"),
            CallError::Refused(why) => write!(f, "the processing worker could not answer ({why})"),
        }
    }
}

type Settle = oneshot::Sender<Result<Answered, CallError>>;

/// A request sent and not yet answered.
struct Waiting {
    settle: Settle,
    /// A download: its loss is worth a word after a restart.
    export: bool,
}

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
    /// The next call's id. Never reused, not even by a replacement worker,
    /// so a late answer cannot settle a newer request.
    next_id: u32,
    waiting: HashMap<u32, Waiting>,
    /// Until the worker has said `Ready` its message handler may not exist
    /// yet (its wasm is still compiling) and a message would be lost, so
    /// requests wait here.
    ready: bool,
    /// With the objects (ports) each one moves.
    queued: Vec<(Object, Option<Array>)>,
    /// State-changing requests the worker has answered, in order: replaying
    /// them into a fresh worker rebuilds what the user had loaded.
    applied: Vec<(Request, Array)>,
    /// State-changing requests sent and not yet answered, oldest first, by
    /// id. The worker handles requests in order, so the oldest is the one
    /// at work.
    pending: VecDeque<(u32, Request, Array)>,
    /// Which file of the oldest pending `Add` the worker said it was
    /// reading; `None` once it moved on to computing.
    reading: Option<usize>,
    /// Restarts since the last report; bounds a crash loop.
    restarts: u32,
    /// The pool workers beside the assembling one, by slot.
    helpers: Vec<Option<Helper>>,
    /// Pool workers replaced; bounds a crash loop of theirs.
    helper_restarts: u32,
}

/// A pool worker: it only imports, for the assembling worker.
struct Helper {
    id: u32,
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// Workers in all: the assembling one (which imports too) and one
/// importing worker per core but one, 1 to 8 of them, so a two-core
/// machine imports on both cores (the page's own thread is idle while
/// files are read: the year took 8.2 s with one worker and 5.1 s with
/// two on this machine). A test sets the number with `?pool=N` or
/// `crewMrvPool` in localStorage.
fn pool_size() -> usize {
    let window = web_sys::window();
    let forced = window.as_ref().and_then(|w| {
        let search = w.location().search().ok()?;
        let from_url = search
            .trim_start_matches('?')
            .split('&')
            .find_map(|kv| kv.strip_prefix("pool="))
            .map(str::to_string);
        from_url.or_else(|| {
            w.local_storage()
                .ok()
                .flatten()?
                .get_item("crewMrvPool")
                .ok()
                .flatten()
        })
    });
    let n = match forced.and_then(|n| n.trim().parse::<usize>().ok()) {
        Some(n) => n,
        None => {
            let cores = window.map_or(1.0, |w| w.navigator().hardware_concurrency());
            (cores as usize).saturating_sub(1).clamp(1, 8) + 1
        }
    };
    n.clamp(1, 9)
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
            | Request::Undo
            | Request::SetPolicy(_)
            | Request::SetUncertainty { .. }
    )
}

/// Run `f` in a later task of the event loop.
fn later(f: impl FnOnce() + 'static) -> bool {
    let cb = Closure::once_into_js(f);
    web_sys::window()
        .map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0))
        .is_some_and(|r| r.is_ok())
}

/// Start a worker that routes its replies to the requests they answer.
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
        let bytes: Option<Uint8Array> = Reflect::get(&data, &"bytes".into())
            .ok()
            .and_then(|b| b.dyn_into().ok());
        match answer_of(&data) {
            Ok(Answer { reply: Reply::Ready, .. }) => flush(s),
            Ok(Answer {
                reply: Reply::Progress(p),
                ..
            }) => {
                BRIDGE.with(|b| {
                    if let Some(bridge) = b.borrow_mut().as_mut() {
                        bridge.reading = (p.done < p.total).then_some(p.index);
                    }
                });
                s.busy.set(Some(p));
            }
            // A report is parsed in this task and rendered in the next, so
            // neither keeps the page from handling input for long.
            Ok(Answer {
                id: call,
                reply: reply @ Reply::Report { .. },
            }) => {
                let lost: Vec<usize> = match &reply {
                    Reply::Report { lost, .. } => lost.iter().map(|(i, _, _)| *i).collect(),
                    _ => Vec::new(),
                };
                acknowledge(call, true, &lost);
                if !later(move || settle(call, Ok(Answered { reply, bytes }))) {
                    s.notice.set(Some("The page could not schedule rendering; reload it.".into()));
                }
            }
            Ok(Answer {
                id: Answer::UNSOLICITED,
                reply: Reply::Failed(msg),
            }) => s.notice.set(Some(msg)),
            Ok(Answer { id: call, reply }) => {
                acknowledge(call, false, &[]);
                settle(call, Ok(Answered { reply, bytes }));
            }
            Err(e) => s.notice.set(Some(format!("The processing worker sent a message this page cannot read ({e}). Reload the page."))),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        // Handled here; the console still shows the worker's own error.
        ev.prevent_default();
        let why = ev.message();
        // Not inside this handler: recovery replaces the worker it belongs to.
        later(move || recover(s, id, &why));
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
            helpers: Vec::new(),
            helper_restarts: 0,
        })
    });
    start_pool(s, pool_size().saturating_sub(1));
    Ok(())
}

/// Start `n` pool workers, replacing any there were.
fn start_pool(s: Session, n: usize) {
    let helpers: Vec<Option<Helper>> = (0..n).map(|slot| spawn_helper(s, slot).ok()).collect();
    BRIDGE.with(|b| {
        if let Some(bridge) = b.borrow_mut().as_mut() {
            bridge.helpers = helpers;
        }
    });
}

/// Start the pool worker for `slot`; once ready it is connected.
fn spawn_helper(s: Session, slot: usize) -> Result<Helper, String> {
    let id = WORKERS_STARTED.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let worker = Worker::new("./worker_loader.js").map_err(|e| format!("{e:?}"))?;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Ok(Answer {
            reply: Reply::Ready,
            ..
        }) = answer_of(&ev.data())
        {
            connect_helper(slot, id);
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        ev.prevent_default();
        let why = ev.message();
        later(move || helper_stopped(s, slot, id, &why));
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Helper {
        id,
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

/// A control message (no reply) with the objects it moves.
fn control(request: Request, port: Option<&JsValue>) -> Option<(Object, Option<Array>)> {
    let msg = call_message(
        &Call {
            id: Answer::UNSOLICITED,
            request,
        },
        &Array::new(),
    )
    .ok()?;
    let transfer = match port {
        Some(p) => {
            Reflect::set(&msg, &"port".into(), p).ok()?;
            Some(Array::of1(p))
        }
        None => None,
    };
    Some((msg, transfer))
}

/// Hand a control message to the assembling worker, now or once it is ready.
fn to_assembler(bridge: &mut Bridge, msg: (Object, Option<Array>)) {
    if bridge.ready {
        let _ = send_now(&bridge.running.worker, &msg);
    } else {
        bridge.queued.push(msg);
    }
}

fn send_now(worker: &Worker, (msg, transfer): &(Object, Option<Array>)) -> Result<(), JsValue> {
    match transfer {
        Some(t) => worker.post_message_with_transfer(msg, t),
        None => worker.post_message(msg),
    }
}

/// Pool worker `id` is ready: one end of a channel to it, the other to the
/// assembling worker.
fn connect_helper(slot: usize, id: u32) {
    BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        let Some(bridge) = b.as_mut() else { return };
        let Some(Some(helper)) = bridge.helpers.get(slot) else {
            return;
        };
        if helper.id != id {
            return;
        }
        let Ok(channel) = MessageChannel::new() else {
            return;
        };
        let (mine, theirs) = (channel.port1(), channel.port2());
        if let Some(msg) = control(Request::Serve, Some(theirs.as_ref())) {
            if send_now(&helper.worker, &msg).is_err() {
                return;
            }
        }
        if let Some(msg) = control(Request::Helper { slot, worker: id }, Some(mine.as_ref())) {
            to_assembler(bridge, msg);
        }
    })
}

/// Pool worker `id` died: the assembling worker learns it (the file it
/// was reading is lost, the rest go elsewhere) and a new one takes the slot.
fn helper_stopped(s: Session, slot: usize, id: u32, why: &str) {
    let respawn = BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        let bridge = b.as_mut()?;
        let place = bridge.helpers.get_mut(slot)?;
        if place.as_ref().is_none_or(|h| h.id != id) {
            return None;
        }
        // Dropping it terminates it.
        *place = None;
        if let Some(msg) = control(
            Request::HelperStopped {
                slot,
                worker: id,
                why: why.to_string(),
            },
            None,
        ) {
            to_assembler(bridge, msg);
        }
        bridge.helper_restarts += 1;
        Some(bridge.helper_restarts <= 20)
    });
    if respawn == Some(true) {
        let helper = spawn_helper(s, slot).ok();
        BRIDGE.with(|b| {
            if let Some(place) = b
                .borrow_mut()
                .as_mut()
                .and_then(|br| br.helpers.get_mut(slot))
            {
                *place = helper;
            }
        });
    }
}

/// A call as either worker reads it: its bytes (crates/protocol), and the
/// picked files it names beside it.
pub fn call_message(call: &Call, files: &Array) -> Result<Object, String> {
    let msg = Object::new();
    let bytes = Uint8Array::from(&call.to_bytes()[..]);
    Reflect::set(&msg, &"msg".into(), &bytes).map_err(|e| format!("{e:?}"))?;
    Reflect::set(&msg, &"files".into(), files).map_err(|e| format!("{e:?}"))?;
    Ok(msg)
}

/// Hand `req` (with `files`, browser `File`s, alongside) to the worker
/// now, and return where its final reply will arrive.
fn post(
    req: Request,
    files: &Array,
) -> Result<oneshot::Receiver<Result<Answered, CallError>>, String> {
    BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        let Some(bridge) = b.as_mut() else {
            return Err("the processing worker is not running".to_string());
        };
        let id = bridge.next_id;
        bridge.next_id = bridge.next_id.wrapping_add(1).max(1);
        let call = Call { id, request: req };
        let msg = call_message(&call, files)?;
        if bridge.ready {
            bridge
                .running
                .worker
                .post_message(&msg)
                .map_err(|e| format!("{e:?}"))?;
        } else {
            bridge.queued.push((msg, None));
        }
        let (settle, answer) = oneshot::channel();
        let export = matches!(
            call.request,
            Request::Export { .. } | Request::Bundle { .. }
        );
        bridge.waiting.insert(id, Waiting { settle, export });
        if changes_state(&call.request) {
            bridge.pending.push_back((id, call.request, files.clone()));
        }
        Ok(answer)
    })
}

/// Every file the worker was handed and still may hold, with the `File`s
/// beside them: a bundle with inputs reads them again (the worker keeps
/// the ones its run used, so removed files drop out there).
pub fn kept_files() -> (Vec<(String, crew_mrv_protocol::FileSource)>, Array) {
    use crew_mrv_protocol::FileSource;
    let attached = Array::new();
    let mut list = Vec::new();
    BRIDGE.with(|b| {
        let b = b.borrow();
        let Some(bridge) = b.as_ref() else { return };
        for (req, files) in &bridge.applied {
            let Request::Add { files: added } = req else {
                continue;
            };
            for (name, source) in added {
                let source = match source {
                    FileSource::Attached(i) => {
                        let Ok(i) = u32::try_from(*i) else { continue };
                        attached.push(&files.get(i));
                        FileSource::Attached(attached.length() as usize - 1)
                    }
                    FileSource::Url(u) => FileSource::Url(u.clone()),
                };
                list.push((name.clone(), source));
            }
        }
    });
    (list, attached)
}

/// The state changes the worker holds, in order, each with its `File`s:
/// replayed into the evidence worker so it computes the same run.
pub fn applied() -> Vec<(Request, Array)> {
    BRIDGE.with(|b| {
        b.borrow()
            .as_ref()
            .map(|bridge| bridge.applied.clone())
            .unwrap_or_default()
    })
}

/// Send a request; the future resolves with its own final reply. The
/// request leaves at once, whether or not the future is ever polled, so
/// requests reach the worker in the order they are made.
pub fn call(
    req: Request,
    files: &Array,
) -> impl Future<Output = Result<Answered, CallError>> + 'static {
    let sent = post(req, files);
    async move {
        let answer = sent.map_err(CallError::NotSent)?;
        answer
            .await
            .unwrap_or_else(|_| Err(CallError::Stopped("it went away".into())))
    }
}

/// Sensor readings of one series in a window, from the worker's store.
pub fn sensor_points(
    plant_id: String,
    plant_unit_id: String,
    from: NaiveDateTime,
    to: NaiveDateTime,
    max_points: usize,
) -> impl Future<Output = Result<Vec<(NaiveDateTime, f64)>, CallError>> + 'static {
    let answer = call(
        Request::SensorPoints {
            plant_id,
            plant_unit_id,
            from,
            to,
            max_points,
        },
        &Array::new(),
    );
    async move {
        match answer.await?.reply {
            Reply::SensorPoints { points } => Ok(points),
            Reply::Failed(why) => Err(CallError::Refused(why)),
            _ => Ok(Vec::new()),
        }
    }
}

/// The period report of the worker's batch.
pub fn period_report(
    by: crew_mrv_core::period::Period,
    filter: crew_mrv_core::Filter,
) -> impl Future<Output = Result<crew_mrv_core::period::PeriodReport, CallError>> + 'static {
    let answer = call(Request::PeriodReport { by, filter }, &Array::new());
    async move {
        match answer.await?.reply {
            Reply::PeriodReport(t) => Ok(t),
            Reply::Failed(why) => Err(CallError::Refused(why)),
            _ => Err(CallError::Refused("an unexpected reply".into())),
        }
    }
}

/// Send a state-changing request; its report, when it comes, is shown.
/// `Err` when it could not be sent at all.
pub fn change(s: Session, req: Request, files: &Array) -> Result<(), String> {
    let answer = post(req, files)?;
    spawn_local(async move {
        match answer.await {
            Ok(Ok(Answered {
                reply:
                    Reply::Report {
                        report,
                        files_changed,
                        elapsed_ms,
                        problems,
                        worker_memory_bytes,
                        lost,
                    },
                ..
            })) => show_report(
                s,
                report,
                files_changed,
                elapsed_ms,
                problems,
                worker_memory_bytes,
                lost,
            ),
            Ok(Ok(Answered {
                reply: Reply::Failed(msg),
                ..
            })) => {
                s.busy.set(None);
                s.notice.set(Some(msg));
            }
            // The worker stopped: the recovery says what was lost and
            // replays this change, if it survives, as a new request.
            _ => {}
        }
    });
    Ok(())
}

/// The worker is ready: what waited for it goes out.
fn flush(s: Session) {
    BRIDGE.with(|b| {
        if let Some(bridge) = b.borrow_mut().as_mut() {
            bridge.ready = true;
            for msg in std::mem::take(&mut bridge.queued) {
                if send_now(&bridge.running.worker, &msg).is_err() {
                    s.notice.set(Some(
                        "A request could not be handed to the processing worker; reload the page."
                            .into(),
                    ));
                }
            }
        }
    })
}

/// Call `id` has its final reply: a state change it made now lives in the
/// worker (`applied`) and is replayed after a restart, without the files a
/// pool worker died reading (`lost`, by place in the request).
fn acknowledge(id: u32, report: bool, lost: &[usize]) {
    BRIDGE.with(|b| {
        if let Some(bridge) = b.borrow_mut().as_mut() {
            let Some(at) = bridge.pending.iter().position(|(p, _, _)| *p == id) else {
                return;
            };
            bridge.reading = None;
            bridge.restarts = 0;
            match bridge.pending.remove(at) {
                Some((_, Request::Add { files: list }, files)) if report => {
                    let list: Vec<_> = list
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !lost.contains(i))
                        .map(|(_, f)| f)
                        .collect();
                    if !list.is_empty() {
                        record_applied(&mut bridge.applied, Request::Add { files: list }, files);
                    }
                }
                Some((_, req, files)) if report => record_applied(&mut bridge.applied, req, files),
                _ => {}
            }
        }
    })
}

/// Keep `applied` the shortest replay of what the worker holds. A Clear
/// can be undone until the next change of files, so what it cleared stays
/// in the replay until then; an Undo cancels the Remove or Clear before it.
fn record_applied(applied: &mut Vec<(Request, Array)>, req: Request, files: Array) {
    let changes_files = |r: &Request| {
        matches!(
            r,
            Request::Add { .. } | Request::Remove { .. } | Request::Clear
        )
    };
    let last_change = applied.iter().rposition(|(r, _)| changes_files(r));
    match req {
        Request::Undo => {
            if let Some(i) = last_change {
                if matches!(
                    applied.get(i),
                    Some((Request::Remove { .. } | Request::Clear, _))
                ) {
                    applied.remove(i);
                }
            }
        }
        req => {
            if changes_files(&req) {
                if let Some(i) =
                    last_change.filter(|i| matches!(applied.get(*i), Some((Request::Clear, _))))
                {
                    let mut at = 0;
                    applied.retain(|(r, _)| {
                        let keep = at > i || !changes_files(r);
                        at += 1;
                        keep
                    });
                }
            }
            applied.push((req, files));
        }
    }
}

/// Resolve call `id`'s future; nothing when nobody waits any more.
fn settle(id: u32, result: Result<Answered, CallError>) {
    let waiting = BRIDGE.with(|b| {
        b.borrow_mut()
            .as_mut()
            .and_then(|br| br.waiting.remove(&id))
    });
    if let Some(w) = waiting {
        // The receiver may be gone (a stale zoom): then no one needs it.
        let _ = w.settle.send(result);
    }
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
        let mut pending: VecDeque<(Request, Array)> = std::mem::take(&mut bridge.pending)
            .into_iter()
            .map(|(_, req, files)| (req, files))
            .collect();
        let reading = bridge.reading.take();
        bridge.queued.clear();
        let waiting: Vec<Waiting> = bridge.waiting.drain().map(|(_, w)| w).collect();
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
        Some((left_out, replay, bridge.restarts, waiting))
    });
    let Some((left_out, replay, restarts, waiting)) = plan else {
        return;
    };
    // Every request the dead worker held fails, each on its own; the state
    // changes among them come back below as new requests.
    let lost_export = waiting.iter().any(|w| w.export);
    for w in waiting {
        let _ = w.settle.send(Err(CallError::Stopped(why.to_string())));
    }
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
        index: 0,
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
        let helpers = BRIDGE.with(|b| {
            b.borrow_mut().as_mut().map_or(0, |bridge| {
                bridge.running = running;
                bridge.helpers.len()
            })
        });
        // The pool's channels led to the dead worker: a fresh pool.
        start_pool(s, helpers);
        replay
            .iter()
            .try_for_each(|(req, files)| change(s, req.clone(), files))
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

/// Show a report the worker sent.
fn show_report(
    s: Session,
    report: Option<Report>,
    files_changed: bool,
    elapsed_ms: f64,
    mut problems: Vec<String>,
    worker_memory_bytes: u64,
    lost: Vec<(usize, String, String)>,
) {
    s.worker_memory.set(Some(worker_memory_bytes));
    if let Some((_, _, why)) = lost.first() {
        let names: Vec<&str> = lost.iter().map(|(_, n, _)| n.as_str()).collect();
        problems.insert(
            0,
            format!(
                "A processing worker stopped while reading {} ({why}). {} left out and the other files were loaded. \
                 The usual cause is a file too large for this browser tab's memory: split it, or run it through the crew-mrv command-line tool.",
                names.join(", "),
                if names.len() == 1 { "That file was" } else { "Those files were" }
            ),
        );
        s.left_out.update(|l| {
            l.extend(lost.into_iter().map(|(_, name, why)| {
                (
                    name,
                    format!("Not loaded: the processing worker stopped while this file was read ({why}). Split it, or run it through the crew-mrv command-line tool."),
                )
            }))
        });
    }
    // Review decisions coming or going change no data: the view stays
    // where the reviewer is.
    let data_files = |r: &Option<Report>| -> Vec<(String, String)> {
        r.iter()
            .flat_map(|r| r.files.iter())
            .filter(|f| f.kind != Some(crew_mrv_core::FileKind::ExpertReviews))
            .map(|f| (f.name.to_string(), f.sha256.clone()))
            .collect()
    };
    let data_changed = s.report.with_untracked(|old| data_files(old)) != data_files(&report);
    if files_changed && data_changed {
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

/// The answer a worker's message carries (either worker's: crates/protocol).
pub fn answer_of(data: &JsValue) -> Result<Answer, String> {
    let bytes = Reflect::get(data, &"msg".into())
        .ok()
        .and_then(|m| m.dyn_into::<Uint8Array>().ok())
        .ok_or("a worker message without its answer")?;
    Answer::from_bytes(&bytes.to_vec())
}
