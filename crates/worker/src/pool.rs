//! The browser pool (README, Browser pool): the page starts up to seven
//! more copies of this worker and hands each one end of a `MessageChannel`
//! whose other end it gives to the first worker, the one that assembles.
//!
//! A pool worker ([`serve`]) only imports: it reads the one file it is
//! asked for, imports it under the configuration it is given, and sends
//! the records back as one buffer (`crew_mrv_protocol::records`), moved
//! rather than copied. The assembling worker ([`import`]) reads plant
//! profiles itself first (they steer how the rest is read), shares the
//! remaining files between the pool and itself, and puts the results back
//! in request order, so the run, the report and every output are those of
//! a single worker. The merge, the method and the exports stay there.
//!
//! A pool worker that dies (the page sees it and says so with
//! `HelperStopped`) loses the file it was reading, named in the report as
//! a lost file; the files waiting for it go back in the queue.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, MessagePort};

use crew_mrv_core::{Config, FileImport};
use crew_mrv_protocol::records;
use crew_mrv_protocol::{Call, FileSource, PoolConfig, Request};

use crate::{arrived, attached_size, import_arrived, import_one, post_progress, read_ahead, Next};

/// How a file handed to a pool worker ended.
enum Outcome {
    /// Imported, or why the file could not be obtained.
    Done(Result<Box<FileImport>, String>),
    /// The worker died reading it.
    Lost(String),
    /// The worker died before starting it: someone else reads it.
    Again,
    /// Imported, but its records do not travel: this worker reads it.
    Declined,
}

/// A pool worker as the assembling worker reaches it.
struct Slot {
    worker: u32,
    port: MessagePort,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    next_id: u32,
    waiting: HashMap<u32, oneshot::Sender<Outcome>>,
    /// The call it said it started: the one that dies with it.
    reading: Option<u32>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.port.set_onmessage(None);
        self.port.close();
    }
}

/// A pool worker's port and the handler it answers on.
type Served = (MessagePort, Closure<dyn FnMut(MessageEvent)>);

/// A call to a pool worker as it waits: an `Import` whose configuration
/// reaches this worker has its file's read started, with that
/// configuration.
type Queued = (Call, Option<(Config, Next)>);

/// A pool worker's calls waiting, and whether it is at work on one.
type Waiting = Rc<RefCell<(VecDeque<Queued>, bool)>>;

thread_local! {
    static POOL: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
    /// In a pool worker: the port it serves and its handler.
    static SERVING: RefCell<Option<Served>> = const { RefCell::new(None) };
}

/// Pool worker `worker` joined in `slot`, reached through `port`.
pub fn join(slot: usize, worker: u32, port: MessagePort) {
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        answered(slot, worker, &ev.data());
    });
    port.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let joined = Slot {
        worker,
        port,
        _onmessage: onmessage,
        next_id: 1,
        waiting: HashMap::new(),
        reading: None,
    };
    // A replaced slot's files are requeued: its worker is gone.
    let old = POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() <= slot {
            p.resize_with(slot + 1, || None);
        }
        p.get_mut(slot).and_then(|s| s.replace(joined))
    });
    if let Some(mut old) = old {
        for (_, tx) in old.waiting.drain() {
            let _ = tx.send(Outcome::Again);
        }
    }
    // For the browser tests, which must not hand files over before the
    // pool is wired (until then this worker reads every file itself).
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &"crewMrvPoolMembers".into(),
        &(members().len() as f64).into(),
    );
}

/// Pool worker `worker` in `slot` died: the file it was reading is lost,
/// the others it held go to another worker.
pub fn stopped(slot: usize, worker: u32, why: &str) {
    let gone = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let s = p.get_mut(slot)?;
        if s.as_ref().is_some_and(|s| s.worker == worker) {
            s.take()
        } else {
            None
        }
    });
    if let Some(mut gone) = gone {
        for (id, tx) in gone.waiting.drain() {
            let outcome = if gone.reading == Some(id) {
                Outcome::Lost(why.to_string())
            } else {
                Outcome::Again
            };
            let _ = tx.send(outcome);
        }
    }
}

/// The slots with a worker in them now.
fn members() -> Vec<usize> {
    POOL.with(|p| {
        p.borrow()
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|_| i))
            .collect()
    })
}

/// Whether this worker has a pool to share an import with.
pub fn has_members() -> bool {
    !members().is_empty()
}

/// What a pool worker says of call `id`, as plain properties of its
/// message (`id`, `kind`, `why`, `bytes`): the `Answer` JSON would put a
/// deserializer for every reply, the whole report's included, in this
/// wasm.
enum Said {
    Started,
    Imported,
    Declined,
    Failed(String),
}

impl Said {
    fn kind(&self) -> &'static str {
        match self {
            Said::Started => "started",
            Said::Imported => "imported",
            Said::Declined => "declined",
            Said::Failed(_) => "failed",
        }
    }
}

/// A pool worker's message on its port.
fn answered(slot: usize, worker: u32, data: &JsValue) {
    let get = |k: &str| Reflect::get(data, &k.into()).ok();
    let Some(id) = get("id").and_then(|v| v.as_f64()).map(|v| v as u32) else {
        return;
    };
    let kind = get("kind").and_then(|v| v.as_string()).unwrap_or_default();
    let outcome = match kind.as_str() {
        "started" => {
            POOL.with(|p| {
                if let Some(Some(s)) = p.borrow_mut().get_mut(slot) {
                    if s.worker == worker {
                        s.reading = Some(id);
                    }
                }
            });
            return;
        }
        "imported" => {
            let bytes: Option<Uint8Array> = get("bytes").and_then(|b| b.dyn_into().ok());
            let decoded = match bytes {
                Some(b) => records::decode(&b.to_vec()),
                None => Err("no records came with the reply".into()),
            };
            Outcome::Done(
                decoded
                    .map(Box::new)
                    .map_err(|e| format!("a pool worker's records: {e}")),
            )
        }
        "failed" => Outcome::Done(Err(get("why")
            .and_then(|v| v.as_string())
            .unwrap_or_default())),
        "declined" => Outcome::Declined,
        _ => return,
    };
    let tx = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let s = p.get_mut(slot)?.as_mut().filter(|s| s.worker == worker)?;
        if s.reading == Some(id) {
            s.reading = None;
        }
        s.waiting.remove(&id)
    });
    if let Some(tx) = tx {
        let _ = tx.send(outcome);
    }
}

/// Hand one file to the worker in `slot`; `None` when it is gone.
fn send(slot: usize, request: Request, files: &Array) -> Option<oneshot::Receiver<Outcome>> {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let s = p.get_mut(slot)?.as_mut()?;
        let id = s.next_id;
        s.next_id = s.next_id.wrapping_add(1).max(1);
        let msg = Object::new();
        let call = Uint8Array::from(&Call { id, request }.to_bytes()[..]);
        Reflect::set(&msg, &"msg".into(), &call).ok()?;
        Reflect::set(&msg, &"files".into(), files).ok()?;
        s.port.post_message(&msg).ok()?;
        let (tx, rx) = oneshot::channel();
        s.waiting.insert(id, tx);
        Some(rx)
    })
}

/// What an `Add` shares between the workers.
struct Batch {
    list: Vec<(usize, (String, FileSource))>,
    files: Array,
    config: Config,
    /// `config` as it travels to the pool.
    shared: PoolConfig,
    /// Places in `list` not yet handed to anyone.
    queue: RefCell<VecDeque<usize>>,
    /// Places a pool worker declined: read here.
    mine: RefCell<Vec<usize>>,
    results: RefCell<Vec<Option<Result<FileImport, String>>>>,
    lost: RefCell<Vec<(usize, String, String)>>,
    done: Cell<usize>,
}

/// Every file of an `Add` (`list` in reading order: profiles first, each
/// with its place in the request), imported by the pool and this worker:
/// the imports in `list`'s order, the files that could not be obtained,
/// and the files a pool worker died reading.
pub async fn import(
    id: u32,
    list: Vec<(usize, (String, FileSource))>,
    files: &Array,
    mut config: Config,
) -> Gathered {
    let total = list.len();
    let is_profile = |name: &str| name.to_ascii_lowercase().ends_with(".toml");
    let profiles = list.iter().take_while(|(_, (n, _))| is_profile(n)).count();
    let mut results: Vec<Option<Result<FileImport, String>>> = Vec::with_capacity(total);
    // Profiles named as such steer how every other file is read: here,
    // in order, before anything is shared.
    for (done, (index, (name, source))) in list.iter().take(profiles).enumerate() {
        post_progress(id, done, total, name, *index);
        let r = import_one(name, source, files, &config).await;
        if let Ok(f) = &r {
            if !f.records.profiles.is_empty() {
                config = crew_mrv_core::with_profiles(&config, std::slice::from_ref(f));
            }
        }
        results.push(Some(r));
    }
    results.resize_with(total, || None);
    // A configuration that would not reach the pool unchanged keeps every
    // file here.
    let Some(shared) = PoolConfig::of(&config) else {
        for (at, (index, (name, source))) in list.iter().enumerate().skip(profiles) {
            post_progress(id, at, total, name, *index);
            let r = import_one(name, source, files, &config).await;
            if let Ok(f) = &r {
                if !f.records.profiles.is_empty() {
                    config = crew_mrv_core::with_profiles(&config, std::slice::from_ref(f));
                }
            }
            if let Some(slot) = results.get_mut(at) {
                *slot = Some(r);
            }
        }
        return gather(results, Vec::new());
    };
    // Largest first, as the CLI's threads take them: the last files handed
    // out are the small ones, so no worker is left parsing a large log
    // while the others wait (results keep their places in the request).
    let mut queue: Vec<usize> = (profiles..total).collect();
    queue.sort_by_key(|at| {
        let size = list
            .get(*at)
            .and_then(|(_, (_, source))| attached_size(source, files));
        std::cmp::Reverse(size.unwrap_or(0))
    });
    let batch = Rc::new(Batch {
        list,
        files: files.clone(),
        config,
        shared,
        mine: RefCell::new(Vec::new()),
        queue: RefCell::new(queue.into()),
        results: RefCell::new(results),
        lost: RefCell::new(Vec::new()),
        done: Cell::new(profiles),
    });
    loop {
        // Two files per pool worker in flight, so one is waiting for it
        // while this worker is busy parsing and cannot hand out the next.
        let mut finished = Vec::new();
        for slot in members() {
            for _ in 0..2 {
                let (tx, rx) = oneshot::channel();
                finished.push(rx);
                spawn_local(member(slot, batch.clone(), tx));
            }
        }
        // This worker's next file is read while it parses the one before
        // (a small file's read is mostly waiting on the browser); it takes
        // that next file only once the one before is here, so the pool's
        // workers have taken theirs first.
        let take = || {
            let mine = batch.mine.borrow_mut().pop();
            let at = mine.or_else(|| batch.queue.borrow_mut().pop_front())?;
            let (_, (name, source)) = batch.list.get(at)?;
            Some((at, read_ahead(name, source, &batch.files, &batch.config)))
        };
        let mut ahead = take();
        while let Some((at, next)) = ahead.take() {
            let Some((index, (name, _))) = batch.list.get(at) else {
                break;
            };
            post_progress(id, batch.done.get(), total, name, *index);
            let got = arrived(name, next).await;
            ahead = take();
            let r = import_arrived(name, got, &batch.config).await;
            store(&batch, at, r);
        }
        for rx in finished {
            let _ = rx.await;
        }
        // A pool worker that died gave its waiting files back, and one may
        // have declined a file since this worker last looked.
        if batch.queue.borrow().is_empty() && batch.mine.borrow().is_empty() {
            break;
        }
    }
    let Ok(batch) = Rc::try_unwrap(batch) else {
        return (
            Vec::new(),
            vec!["the pool did not finish".into()],
            Vec::new(),
        );
    };
    let Batch {
        list,
        files,
        mut config,
        results,
        lost,
        ..
    } = batch;
    let mut results = results.into_inner();
    // A profile recognised by its content, not its name, steers the files
    // after it, as in a one-worker run: those are read again under it.
    let mut stale = false;
    for (at, (_, (name, source))) in list.iter().enumerate().skip(profiles) {
        let Some(slot) = results.get_mut(at) else {
            break;
        };
        if stale && matches!(slot, Some(Ok(_))) {
            *slot = Some(import_one(name, source, &files, &config).await);
        }
        if let Some(Ok(f)) = slot {
            if !f.records.profiles.is_empty() {
                config = crew_mrv_core::with_profiles(&config, std::slice::from_ref(f));
                stale = true;
            }
        }
    }
    gather(results, lost.into_inner())
}

type Gathered = (Vec<FileImport>, Vec<String>, Vec<(usize, String, String)>);

/// The imports in order, the files that could not be obtained, the lost.
fn gather(
    results: Vec<Option<Result<FileImport, String>>>,
    lost: Vec<(usize, String, String)>,
) -> Gathered {
    let mut imported = Vec::with_capacity(results.len());
    let mut problems = Vec::new();
    for r in results.into_iter().flatten() {
        match r {
            Ok(f) => imported.push(f),
            Err(e) => problems.push(e),
        }
    }
    (imported, problems, lost)
}

fn store(batch: &Batch, at: usize, r: Result<FileImport, String>) {
    if let Some(slot) = batch.results.borrow_mut().get_mut(at) {
        *slot = Some(r);
    }
    batch.done.set(batch.done.get() + 1);
}

/// Feed the worker in `slot` files from the queue until it is empty or the
/// worker is gone.
async fn member(slot: usize, batch: Rc<Batch>, finished: oneshot::Sender<()>) {
    loop {
        let next = batch.queue.borrow_mut().pop_front();
        let Some(at) = next else { break };
        let Some((index, (name, source))) = batch.list.get(at) else {
            continue;
        };
        // Over the size limit by its size alone: nobody reads it.
        if let Some(size) = attached_size(source, &batch.files) {
            if let Some(unread) = crew_mrv_core::import::import_unread(name, size, &batch.config) {
                store(&batch, at, Ok(unread));
                continue;
            }
        }
        let (attached, source) = match source {
            FileSource::Attached(i) => (
                Array::of1(&batch.files.get(u32::try_from(*i).unwrap_or(u32::MAX))),
                FileSource::Attached(0),
            ),
            FileSource::Url(u) => (Array::new(), FileSource::Url(u.clone())),
        };
        let request = Request::Import {
            index: *index,
            name: name.clone(),
            source,
            config: batch.shared.clone(),
        };
        let Some(rx) = send(slot, request, &attached) else {
            batch.queue.borrow_mut().push_front(at);
            break;
        };
        match rx.await {
            Ok(Outcome::Done(r)) => store(&batch, at, r.map(|f| *f)),
            Ok(Outcome::Lost(why)) => {
                batch.lost.borrow_mut().push((*index, name.clone(), why));
                batch.done.set(batch.done.get() + 1);
                break;
            }
            Ok(Outcome::Declined) => batch.mine.borrow_mut().push(at),
            Ok(Outcome::Again) | Err(_) => {
                batch.queue.borrow_mut().push_front(at);
                break;
            }
        }
    }
    let _ = finished.send(());
}

/// In a pool worker: answer the assembling worker's `Import` calls on
/// `port`, one at a time (so the file it says it is reading is the one
/// that dies with it).
pub fn serve(port: MessagePort) {
    let queue: Waiting = Rc::default();
    let reply_to = port.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let (call, files) = crate::unpack(&ev);
        let Ok(call) = Call::from_bytes(&call) else {
            return;
        };
        // The browser reads this file while the one before is parsed.
        let ahead = match &call.request {
            Request::Import {
                name,
                source,
                config,
                ..
            } => config.config().map(|cfg| {
                let next = read_ahead(name, source, &files, &cfg);
                (cfg, next)
            }),
            _ => None,
        };
        queue.borrow_mut().0.push_back((call, ahead));
        if queue.borrow().1 {
            return;
        }
        queue.borrow_mut().1 = true;
        let (queue, port) = (queue.clone(), reply_to.clone());
        spawn_local(async move {
            loop {
                let next = queue.borrow_mut().0.pop_front();
                let Some((call, ahead)) = next else { break };
                import_for(&port, call, ahead).await;
            }
            queue.borrow_mut().1 = false;
        });
    });
    port.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let old = SERVING.with(|s| s.borrow_mut().replace((port, onmessage)));
    if let Some((old, _)) = old {
        old.set_onmessage(None);
        old.close();
    }
}

/// One `Import` call, its file's read started when it came: the file's
/// records as one moved buffer.
async fn import_for(port: &MessagePort, call: Call, ahead: Option<(Config, Next)>) {
    let Call { id, request } = call;
    let Request::Import { name, .. } = request else {
        reply(
            port,
            id,
            Said::Failed("a pool worker only imports".into()),
            None,
        );
        return;
    };
    reply(port, id, Said::Started, None);
    let Some((config, next)) = ahead else {
        reply(port, id, Said::Declined, None);
        return;
    };
    match import_arrived(&name, arrived(&name, next).await, &config).await {
        Ok(f) => match records::encode(&f) {
            Some(buf) => {
                drop(f);
                let bytes = Uint8Array::from(buf.as_slice());
                drop(buf);
                reply(port, id, Said::Imported, Some(&bytes));
            }
            None => reply(port, id, Said::Declined, None),
        },
        Err(e) => reply(port, id, Said::Failed(e), None),
    }
}

fn reply(port: &MessagePort, id: u32, said: Said, bytes: Option<&Uint8Array>) {
    let msg = Object::new();
    let _ = Reflect::set(&msg, &"id".into(), &f64::from(id).into());
    let _ = Reflect::set(&msg, &"kind".into(), &said.kind().into());
    if let Said::Failed(why) = &said {
        let _ = Reflect::set(&msg, &"why".into(), &why.as_str().into());
    }
    match bytes {
        Some(bytes) => {
            let _ = Reflect::set(&msg, &"bytes".into(), bytes);
            let _ = port.post_message_with_transferable(&msg, &Array::of1(&bytes.buffer()));
        }
        None => {
            let _ = port.post_message(&msg);
        }
    }
}
