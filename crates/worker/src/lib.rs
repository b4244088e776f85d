//! The worker side of the browser app (wasm32 only). It keeps the imported
//! files with their records (an `ImportStore`), runs the same pipeline as the CLI, and answers the page with
//! the protocol of `crew_mrv_protocol`. Requests are handled one at a time,
//! in order; file bytes are read here, so the page never holds them.

// On native targets this crate is empty: `cargo clippy --all-targets` and
// `cargo test` build every workspace member for the host too.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort};

use crew_mrv_core::config::{Confidence, DEFAULT_LAB_RELATIVE};
use crew_mrv_core::{assemble, Config, FileImport, ImportStore, ReplicatePolicy, Run};
use crew_mrv_protocol::{Answer, Call, FileSource, Progress, Reply, Request};

struct State {
    /// The last run: its report and the store of every imported file
    /// with its records, kept between runs; `None` while no file is kept.
    /// Exports and sensor points are answered from it.
    run: Option<Run>,
    policy: ReplicatePolicy,
    /// METHOD §7's settings from the page.
    confidence: Confidence,
    lab_default_relative: f64,
    /// What the last Remove or Clear took away, each file with its place,
    /// for an Undo; emptied by the next change of files.
    undo: Vec<(usize, crew_mrv_core::FileImport)>,
    /// Calls not yet handled, with their ids and attached `File`s.
    queue: VecDeque<(Call, Array)>,
    /// The bytes of kept files whose reading depends on the dropped plant
    /// profiles (read by one, or by none): a profile that comes or goes
    /// later reads them again, and the mapping view proposes from them.
    profile_read: Vec<KeptBytes>,
    busy: bool,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Answer call `id` (every reply names the call it belongs to).
fn post(id: u32, reply: Reply, transfer: Option<&Uint8Array>) {
    let msg = Object::new();
    let _ = Reflect::set(
        &msg,
        &"msg".into(),
        &Uint8Array::from(&Answer { id, reply }.to_bytes()[..]),
    );
    match transfer {
        Some(bytes) => {
            let _ = Reflect::set(&msg, &"bytes".into(), bytes);
            let list = Array::of1(&bytes.buffer());
            let _ = scope().post_message_with_transfer(&msg, &list);
        }
        None => {
            let _ = scope().post_message(&msg);
        }
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Start listening; called once from the worker binary's `main`.
pub fn start() {
    console_error_panic_hook::set_once();
    let state = Rc::new(RefCell::new(State {
        run: None,
        policy: ReplicatePolicy::Mean,
        confidence: Confidence::default(),
        lab_default_relative: DEFAULT_LAB_RELATIVE,
        undo: Vec::new(),
        queue: VecDeque::new(),
        profile_read: Vec::new(),
        busy: false,
    }));
    let st = state.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let (call, files) = unpack(&ev);
        // The pool's wiring is handled at once, not queued: a pool worker
        // may die while an `Add` waits for it.
        let port = || {
            Reflect::get(&ev.data(), &"port".into())
                .ok()
                .and_then(|p| p.dyn_into::<MessagePort>().ok())
        };
        match Call::from_bytes(&call) {
            Ok(Call {
                request: Request::Serve,
                ..
            }) => {
                if let Some(port) = port() {
                    pool::serve(port);
                }
            }
            Ok(Call {
                request: Request::Helper { slot, worker },
                ..
            }) => {
                if let Some(port) = port() {
                    pool::join(slot, worker, port);
                }
            }
            Ok(Call {
                request: Request::HelperStopped { slot, worker, why },
                ..
            }) => pool::stopped(slot, worker, &why),
            Ok(call) => {
                st.borrow_mut().queue.push_back((call, files));
                pump(st.clone());
            }
            Err(e) => post(
                Answer::UNSOLICITED,
                Reply::Failed(format!("bad request: {e}")),
                None,
            ),
        }
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    onmessage.forget();
    // Messages wait (queued by the browser) while the parser is warmed up.
    std::hint::black_box(crew_mrv_core::import::warm_up());
    post(Answer::UNSOLICITED, Reply::Ready, None);
    #[cfg(not(feature = "evidence"))]
    spawn_local(warm_up_on_samples());
}

/// V8 runs a WebAssembly function in baseline code until it has run for a
/// while (there is no on-stack replacement), so the first workbook, lab
/// table and assembly a worker meets run several times slower than the
/// next: the sample set's import took 0.3 s cold against 0.1 s warm.
/// Once ready, every worker reads one sample file of each kind and
/// extension the site serves (`data/`, from the service worker's cache
/// after the first visit), passes their records through the pool's
/// encoding, assembles them, encodes the report, and forgets it all. A
/// request that comes meanwhile waits at most for one file; a site
/// without its sample set just skips this.
#[cfg(not(feature = "evidence"))]
async fn warm_up_on_samples() {
    use crew_mrv_protocol::records;
    let Ok(manifest) = read_source(
        "manifest.json",
        &FileSource::Url("data/manifest.json".into()),
        &Array::new(),
    )
    .await
    else {
        return;
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&Uint8Array::new(&manifest).to_vec()).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in manifest
        .get("files")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(name), kind) = (
            f.get("name").and_then(|n| n.as_str()),
            f.get("kind").and_then(|k| k.as_str()).unwrap_or_default(),
        ) else {
            continue;
        };
        let ext = name
            .rsplit_once('.')
            .map_or("", |(_, e)| e)
            .to_ascii_lowercase();
        if seen.insert((kind.to_string(), ext)) {
            names.push(name.to_string());
        }
    }
    // Profiles first, as an `Add` reads them: they steer the rest.
    names.sort_by_key(|n| !n.to_ascii_lowercase().ends_with(".toml"));
    let mut cfg = Config::default();
    let mut store = ImportStore::default();
    for name in names {
        let url = format!("data/{}", js_sys::encode_uri_component(&name));
        let Ok(buffer) = read_source(&name, &FileSource::Url(url), &Array::new()).await else {
            continue;
        };
        let f = crew_mrv_core::import::import_file(&name, &Uint8Array::new(&buffer).to_vec(), &cfg);
        if !f.records.profiles.is_empty() {
            cfg = crew_mrv_core::with_profiles(&cfg, std::slice::from_ref(&f));
        }
        let f = records::encode(&f)
            .and_then(|b| records::decode(&b).ok())
            .unwrap_or(f);
        store.add(f);
    }
    if store.is_empty() {
        return;
    }
    let report = assemble(&mut store, &cfg);
    let reply = Reply::Report {
        report: Some(report),
        files_changed: true,
        elapsed_ms: 0.0,
        problems: Vec::new(),
        worker_memory_bytes: 0,
        lost: Vec::new(),
    };
    std::hint::black_box(Answer { id: 0, reply }.to_bytes());
}

/// A file's bytes, by the name and digest the store knows it by.
struct KeptBytes {
    name: String,
    sha256: String,
    bytes: Vec<u8>,
}

/// Bytes above this are not kept for a later profile: such a file is
/// dropped again after its profile, or mapped with the CLI.
const KEEP_MAX_BYTES: usize = 32 << 20;

/// Whether the dropped profiles decide how this file reads: an operations
/// file one of them read, or a workbook or CSV none read.
fn depends_on_profiles(f: &crew_mrv_core::FileImport) -> bool {
    use crew_mrv_core::FileErrorKind as K;
    f.kind == Some(crew_mrv_core::FileKind::PlantOps)
        || matches!(
            f.error.as_ref().map(|e| &e.kind),
            Some(K::UnrecognisedWorkbook { .. } | K::UnrecognisedCsv { .. })
        )
}

/// The profile files in the store, to tell when the set changed.
fn profile_files(store: &ImportStore) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = store
        .files()
        .iter()
        .filter(|f| !f.records.profiles.is_empty())
        .map(|f| (f.name.to_string(), f.sha256.clone()))
        .collect();
    v.sort();
    v
}

/// Keep a file's bytes for a later profile or the mapping view (once per
/// name and digest, and only up to `KEEP_MAX_BYTES`).
fn keep_bytes(state: &Rc<RefCell<State>>, name: &str, sha256: &str, bytes: Vec<u8>) {
    let mut st = state.borrow_mut();
    let kept = st
        .profile_read
        .iter()
        .any(|k| k.name == name && k.sha256 == sha256);
    if !kept && bytes.len() <= KEEP_MAX_BYTES {
        st.profile_read.push(KeptBytes {
            name: name.to_string(),
            sha256: sha256.to_string(),
            bytes,
        });
    }
}

/// Read again, with the profiles now in the store, every kept file whose
/// reading depends on them; forget the bytes of files no longer kept.
fn reread(state: &Rc<RefCell<State>>, store: &mut ImportStore) {
    let cfg = crew_mrv_core::with_profiles(&config(&state.borrow()), store.files());
    prune_kept(state, store);
    for k in &state.borrow().profile_read {
        let mut copies = 0;
        while store.remove(&k.name, &k.sha256) {
            copies += 1;
        }
        for _ in 0..copies {
            let mut f = crew_mrv_core::import::import_file(&k.name, &k.bytes, &cfg);
            f.sha256 = k.sha256.clone();
            store.add(f);
        }
    }
}

/// The store with a batch's imports added; when they bring or replace a
/// profile, the files it decides are read again.
fn add_imported(state: &Rc<RefCell<State>>, imported: Vec<FileImport>) -> ImportStore {
    let mut store = take_store(state);
    let before = profile_files(&store);
    for f in imported {
        store.add(f);
    }
    if profile_files(&store) != before {
        reread(state, &mut store);
    } else {
        prune_kept(state, &store);
    }
    store
}

/// Forget the bytes of files neither in the store nor held for an undo.
fn prune_kept(state: &Rc<RefCell<State>>, store: &ImportStore) {
    let mut st = state.borrow_mut();
    let State {
        profile_read, undo, ..
    } = &mut *st;
    profile_read.retain(|k| {
        store
            .files()
            .iter()
            .chain(undo.iter().map(|(_, f)| f))
            .any(|f| *f.name == *k.name && f.sha256 == k.sha256)
    });
}

/// Handle queued requests in order, one at a time.
fn pump(state: Rc<RefCell<State>>) {
    if state.borrow().busy {
        return;
    }
    state.borrow_mut().busy = true;
    spawn_local(async move {
        loop {
            let next = state.borrow_mut().queue.pop_front();
            let Some((call, files)) = next else { break };
            handle(&state, call, files).await;
        }
        state.borrow_mut().busy = false;
    });
}

fn config(state: &State) -> Config {
    let mut config = Config {
        replicate_policy: state.policy,
        confidence: state.confidence,
        lab_default_relative: state.lab_default_relative,
        ..Config::default()
    };
    if let Some(n) = max_file_bytes_requested() {
        config.limits.max_file_bytes = n;
    }
    config
}

/// A test hook like `trap_requested`: `crewMrvMaxFileBytes` on this
/// worker's global lowers the file size limit, so the browser tests show a
/// file over it without a fixture of 512 MiB. Nothing in the app sets it.
fn max_file_bytes_requested() -> Option<u64> {
    Reflect::get(&js_sys::global(), &"crewMrvMaxFileBytes".into())
        .ok()?
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n as u64)
}

/// The kept imports, taken out of the last run to change or run again.
fn take_store(state: &Rc<RefCell<State>>) -> ImportStore {
    state
        .borrow_mut()
        .run
        .take()
        .map(|r| r.store)
        .unwrap_or_default()
}

/// Run the method over the store and send the page the report; the
/// records stay here.
fn publish(
    id: u32,
    state: &Rc<RefCell<State>>,
    mut store: ImportStore,
    files_changed: bool,
    started: f64,
    problems: Vec<String>,
    lost: Vec<(usize, String, String)>,
) {
    let cfg = crew_mrv_core::with_profiles(&config(&state.borrow()), store.files());
    let run = (!store.is_empty()).then(|| {
        let report = assemble(&mut store, &cfg);
        Run { report, store }
    });
    let report = run.as_ref().map(|r| r.report.clone());
    state.borrow_mut().run = run;
    post(
        id,
        Reply::Report {
            report,
            files_changed,
            elapsed_ms: now_ms() - started,
            problems,
            worker_memory_bytes: (core::arch::wasm32::memory_size(0) as u64) * 65_536,
            lost,
        },
        None,
    );
}

/// Start SHA-256 by the browser's own implementation (WebCrypto), several
/// times faster than hashing in WebAssembly and running while we parse;
/// `None` where it is unavailable. The digest is the one `crew_mrv_core::sha256_hex`
/// gives (the browser tests compare files.csv with the CLI's byte for byte).
fn sha256_start(buffer: &js_sys::ArrayBuffer) -> Option<js_sys::Promise> {
    let subtle = scope().crypto().ok()?.subtle();
    subtle
        .digest_with_str_and_buffer_source("SHA-256", buffer)
        .ok()
}

async fn sha256_finish(promise: js_sys::Promise) -> Option<String> {
    let digest = JsFuture::from(promise).await.ok()?;
    let digest = Uint8Array::new(&digest).to_vec();
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from_digit(u32::from(b >> 4), 16)?);
        hex.push(char::from_digit(u32::from(b & 15), 16)?);
    }
    Some(hex)
}

/// The next file of an `Add`: being read, or known from its size alone.
pub(crate) enum Next {
    Reading(js_sys::Promise),
    Unread(Box<crew_mrv_core::FileImport>),
}

/// Start reading a file (the browser reads it while this worker parses
/// another), unless its size alone decides its import.
pub(crate) fn read_ahead(name: &str, source: &FileSource, files: &Array, cfg: &Config) -> Next {
    if let Some(size) = attached_size(source, files) {
        if let Some(unread) = crew_mrv_core::import::import_unread(name, size, cfg) {
            return Next::Unread(Box::new(unread));
        }
    }
    let (name, source, files) = (name.to_string(), source.clone(), files.clone());
    Next::Reading(wasm_bindgen_futures::future_to_promise(async move {
        read_source(&name, &source, &files)
            .await
            .map(JsValue::from)
            .map_err(|e| JsValue::from_str(&e))
    }))
}

/// A file read ahead, once it is here: its bytes, or its import when its
/// size decided it; `Err`: it could not be obtained.
pub(crate) enum Arrived {
    Bytes(js_sys::ArrayBuffer),
    Imported(Box<FileImport>),
}

pub(crate) async fn arrived(name: &str, next: Next) -> Result<Arrived, String> {
    let reading = match next {
        Next::Unread(f) => return Ok(Arrived::Imported(f)),
        Next::Reading(p) => p,
    };
    match JsFuture::from(reading).await {
        Ok(v) => v
            .dyn_into()
            .map(Arrived::Bytes)
            .map_err(|_| format!("{name}: unreadable")),
        Err(e) => Err(e
            .as_string()
            .unwrap_or_else(|| format!("{name}: unreadable"))),
    }
}

/// Import a file's bytes under `cfg`, with its SHA-256; the bytes too,
/// copied into this worker's memory, for a caller that keeps them.
pub(crate) async fn import_bytes(
    name: &str,
    buffer: js_sys::ArrayBuffer,
    cfg: &Config,
) -> (FileImport, Vec<u8>) {
    if trap_requested(name) {
        core::arch::wasm32::unreachable();
    }
    let digest = sha256_start(&buffer);
    let bytes = Uint8Array::new(&buffer).to_vec();
    drop(buffer);
    let mut f = crew_mrv_core::import::import_file(name, &bytes, cfg);
    f.sha256 = match digest {
        Some(p) => sha256_finish(p).await,
        None => None,
    }
    .unwrap_or_else(|| crew_mrv_core::sha256_hex(&bytes));
    (f, bytes)
}

/// Import a file that [`arrived`].
pub(crate) async fn import_arrived(
    name: &str,
    got: Result<Arrived, String>,
    cfg: &Config,
) -> Result<FileImport, String> {
    match got? {
        Arrived::Imported(f) => Ok(*f),
        Arrived::Bytes(buffer) => Ok(import_bytes(name, buffer, cfg).await.0),
    }
}

/// The size of a picked file, from its metadata (no byte read).
pub(crate) fn attached_size(source: &FileSource, files: &Array) -> Option<u64> {
    let FileSource::Attached(i) = source else {
        return None;
    };
    let file: web_sys::File = files.get(u32::try_from(*i).ok()?).dyn_into().ok()?;
    let size = file.size();
    // A `File`'s size is a whole number of bytes well inside f64's exact
    // range; anything else is not a size to trust.
    (size.is_finite() && size >= 0.0).then_some(size as u64)
}

async fn read_source(
    name: &str,
    source: &FileSource,
    files: &Array,
) -> Result<js_sys::ArrayBuffer, String> {
    match source {
        FileSource::Attached(i) => {
            let file: web_sys::File = files
                .get(*i as u32)
                .dyn_into()
                .map_err(|_| format!("{name}: the browser handed over no file"))?;
            gloo_file::futures::read_as_array_buffer(&gloo_file::File::from(file))
                .await
                .map_err(|e| format!("{name}: the browser could not read the file ({e})"))
        }
        FileSource::Url(url) => {
            let resp: web_sys::Response = JsFuture::from(scope().fetch_with_str(url))
                .await
                .map_err(|_| format!("{name}: could not be fetched"))?
                .dyn_into()
                .map_err(|_| format!("{name}: no response"))?;
            if !resp.ok() {
                return Err(format!("{name}: HTTP {}", resp.status()));
            }
            let p = resp
                .array_buffer()
                .map_err(|_| format!("{name}: unreadable response"))?;
            let buf = JsFuture::from(p)
                .await
                .map_err(|_| format!("{name}: unreadable response"))?;
            buf.dyn_into()
                .map_err(|_| format!("{name}: unreadable response"))
        }
    }
}

/// A message's call (its bytes) and the files beside it, as the page and
/// the assembling worker send them.
pub(crate) fn unpack(ev: &MessageEvent) -> (Vec<u8>, Array) {
    let data = ev.data();
    let call = Reflect::get(&data, &"msg".into())
        .ok()
        .and_then(|m| m.dyn_into::<Uint8Array>().ok())
        .map(|m| m.to_vec())
        .unwrap_or_default();
    let files: Array = Reflect::get(&data, &"files".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .unwrap_or_default();
    (call, files)
}

/// Fault injection for the browser tests: when this worker's global has
/// `crewMrvTrapOn` set to a file's name, reading that file (or writing that
/// output) traps exactly as an out-of-memory abort does, so the tests exercise the page's recovery
/// with a real trap. Nothing in the app sets it.
fn trap_requested(name: &str) -> bool {
    Reflect::get(&js_sys::global(), &"crewMrvTrapOn".into())
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|n| n == name)
}

/// Tell the page which file of call `id` this worker reads now (its crash
/// recovery goes by it).
pub(crate) fn post_progress(id: u32, done: usize, total: usize, current: &str, index: usize) {
    post(
        id,
        Reply::Progress(Progress {
            done,
            total,
            current: current.to_string(),
            index,
        }),
        None,
    );
}

/// Read one file and import it under `cfg`, as every worker of the pool
/// does with each file it is given; `Err`: the file could not be obtained.
pub(crate) async fn import_one(
    name: &str,
    source: &FileSource,
    files: &Array,
    cfg: &Config,
) -> Result<FileImport, String> {
    import_arrived(
        name,
        arrived(name, read_ahead(name, source, files, cfg)).await,
        cfg,
    )
    .await
}

async fn handle(state: &Rc<RefCell<State>>, call: Call, files: Array) {
    let started = now_ms();
    let Call { id, request } = call;
    match request {
        Request::Add { files: list } => {
            // Files added after a removal make its undo ambiguous.
            state.borrow_mut().undo.clear();
            let total = list.len();
            // Plant profiles read the operations files beside them: those
            // already kept, and the ones in this batch (named .toml, read
            // first; one recognised by content later still counts from then on).
            // Each keeps its place in the request, which the page's progress
            // and crash recovery go by.
            let mut list: Vec<(usize, (String, FileSource))> =
                list.into_iter().enumerate().collect();
            list.sort_by_key(|(_, (name, _))| !name.to_ascii_lowercase().ends_with(".toml"));
            let mut cfg = {
                let st = state.borrow();
                let kept: &[crew_mrv_core::FileImport] =
                    st.run.as_ref().map_or(&[], |r| r.store.files());
                crew_mrv_core::with_profiles(&config(&st), kept)
            };
            if pool::has_members() {
                let sources = list.clone();
                let (imported, problems, lost) = pool::import(id, list, &files, cfg).await;
                // The pool's workers held the bytes: the files that depend
                // on profiles are read once more here to be kept.
                for f in imported.iter().filter(|f| depends_on_profiles(f)) {
                    let source = sources.iter().find(|(_, (n, _))| **n == *f.name);
                    if let Some((_, (name, source))) = source {
                        if let Ok(buffer) = read_source(name, source, &files).await {
                            keep_bytes(state, name, &f.sha256, Uint8Array::new(&buffer).to_vec());
                        }
                    }
                }
                post_progress(id, total, total, "computing daily CO2", total);
                let store = add_imported(state, imported);
                publish(id, state, store, true, started, problems, lost);
                return;
            }
            let mut imported = Vec::with_capacity(total);
            let mut problems = Vec::new();
            // Reading a file (browser I/O) and hashing it (WebCrypto) run
            // while the previous file is parsed: only the parse is ours.
            // A picked file over the size limit is never read: its `size`
            // decides (issue #12), and the others still load.
            // Only its limits matter to a file left unread for its size.
            let unread_cfg = cfg.clone();
            let start_read = |i: usize| -> Option<Next> {
                let (_, (name, source)) = list.get(i)?;
                Some(read_ahead(name, source, &files, &unread_cfg))
            };
            let mut next = start_read(0);
            for (i, (index, (name, _))) in list.iter().enumerate() {
                post(
                    id,
                    Reply::Progress(Progress {
                        done: i,
                        total,
                        current: name.clone(),
                        index: *index,
                    }),
                    None,
                );
                let Some(this) = next.take() else { break };
                let got = arrived(name, this).await;
                next = start_read(i + 1);
                match got {
                    Ok(Arrived::Imported(unread)) => imported.push(*unread),
                    // The bytes are dropped as soon as the file is parsed.
                    Ok(Arrived::Bytes(buffer)) => {
                        let (f, bytes) = import_bytes(name, buffer, &cfg).await;
                        if depends_on_profiles(&f) {
                            keep_bytes(state, name, &f.sha256, bytes);
                        }
                        if !f.records.profiles.is_empty() {
                            cfg = crew_mrv_core::with_profiles(&cfg, std::slice::from_ref(&f));
                        }
                        imported.push(f);
                    }
                    Err(e) => problems.push(e),
                }
            }
            post_progress(id, total, total, "computing daily CO2", total);
            let store = add_imported(state, imported);
            publish(id, state, store, true, started, problems, Vec::new());
        }
        Request::Remove { name, sha256 } => {
            // One click removes one file (see `ImportStore::remove`).
            let mut store = take_store(state);
            let before = profile_files(&store);
            let taken = store.take(&name, &sha256);
            state.borrow_mut().undo = taken.into_iter().collect();
            if profile_files(&store) != before {
                reread(state, &mut store);
            }
            publish(id, state, store, true, started, Vec::new(), Vec::new());
        }
        Request::Clear => {
            // The kept bytes stay with the undo until files are added.
            let files = take_store(state).into_files();
            state.borrow_mut().undo = files.into_iter().enumerate().collect();
            publish(
                id,
                state,
                ImportStore::default(),
                true,
                started,
                Vec::new(),
                Vec::new(),
            );
        }
        Request::Undo => {
            let mut store = take_store(state);
            let before = profile_files(&store);
            let back = std::mem::take(&mut state.borrow_mut().undo);
            for (at, f) in back {
                store.restore(at, f);
            }
            if profile_files(&store) != before {
                reread(state, &mut store);
            }
            publish(id, state, store, true, started, Vec::new(), Vec::new());
        }
        Request::SetPolicy(p) => {
            state.borrow_mut().policy = p;
            let store = take_store(state);
            publish(id, state, store, false, started, Vec::new(), Vec::new());
        }
        Request::SetUncertainty {
            confidence,
            lab_default_relative,
        } => {
            {
                let mut st = state.borrow_mut();
                st.confidence = confidence;
                // The page checks the value; a bad one never reaches §7.
                if lab_default_relative.is_finite() && lab_default_relative >= 0.0 {
                    st.lab_default_relative = lab_default_relative;
                }
            }
            let store = take_store(state);
            publish(id, state, store, false, started, Vec::new(), Vec::new());
        }
        Request::Export { output, filter } => {
            if trap_requested(output.file_name()) {
                core::arch::wasm32::unreachable();
            }
            let out = state.borrow().run.as_ref().map(|r| {
                (
                    output.download_name(&r.report, &filter),
                    crew_mrv_core::export::output_bytes(output, r, &filter),
                )
            });
            match out {
                Some((file_name, bytes)) => {
                    let arr = Uint8Array::from(bytes.as_slice());
                    drop(bytes);
                    post(id, Reply::Export { output, file_name }, Some(&arr));
                }
                None => post(id, Reply::Failed("nothing to export yet".into()), None),
            }
        }
        Request::PeriodReport { by, filter } => {
            let table = state
                .borrow()
                .run
                .as_ref()
                .map(|r| crew_mrv_core::period::period_report(&r.report, &filter, by));
            match table {
                Some(t) => post(id, Reply::PeriodReport(t), None),
                None => post(id, Reply::Failed("nothing to report yet".into()), None),
            }
        }
        Request::SensorPoints {
            plant_id,
            plant_unit_id,
            from,
            to,
            max_points,
        } => {
            let points = state
                .borrow()
                .run
                .as_ref()
                .map(|r| {
                    r.store
                        .sensor_points(&plant_id, &plant_unit_id, from, to, max_points)
                })
                .unwrap_or_default();
            post(id, Reply::SensorPoints { points }, None);
        }
        Request::Explain { plant_id, date } => {
            let text = state.borrow().run.as_ref().and_then(|r| {
                crew_mrv_core::explain::explain(r, &plant_id, date).map(|s| s.to_string())
            });
            post(id, Reply::DaySheet { text }, None);
        }
        Request::SuggestProfile {
            name,
            sha256,
            sheet,
            header_row,
        } => {
            let reply = with_kept(state, &name, &sha256, |bytes, cfg| {
                crew_mrv_core::mapping::propose(&name, bytes, cfg, sheet.as_deref(), header_row)
                    .map_err(|e| format!("{name}: {e}"))
            });
            post(id, reply, None);
        }
        Request::CheckProfile {
            name,
            sha256,
            mapping,
        } => {
            let reply = with_kept(state, &name, &sha256, |bytes, cfg| {
                Ok(crew_mrv_core::mapping::check(&name, bytes, cfg, &mapping))
            });
            post(id, reply, None);
        }
        // The zip, the manifest and verification are compiled into the
        // evidence worker only (crates/evidence-worker), which the page
        // starts on first use: the processing worker stays within the
        // wasm budget a visitor downloads.
        #[cfg(feature = "evidence")]
        Request::Bundle { filter, inputs } => {
            evidence::bundle(id, state, filter, inputs, &files).await
        }
        #[cfg(feature = "evidence")]
        Request::Verify { files: list } => {
            let reply = match evidence::verify(&list, &files).await {
                Ok(report) => Reply::Verified(report),
                Err(e) => Reply::Failed(e),
            };
            post(id, reply, None);
        }
        // The pool's own calls: wiring comes to `start`'s handler, and only
        // a pool worker's port carries `Import`.
        Request::Serve
        | Request::Helper { .. }
        | Request::HelperStopped { .. }
        | Request::Import { .. } => post(
            id,
            Reply::Failed("not a request for this worker".into()),
            None,
        ),
        #[cfg(not(feature = "evidence"))]
        Request::Bundle { .. } | Request::Verify { .. } => post(
            id,
            Reply::Failed("bundles are made and verified by the evidence worker".into()),
            None,
        ),
    }
}

/// The mapping view of a kept file, or why there is none.
fn with_kept(
    state: &Rc<RefCell<State>>,
    name: &str,
    sha256: &str,
    f: impl FnOnce(&[u8], &Config) -> Result<crew_mrv_core::mapping::MappingView, String>,
) -> Reply {
    let st = state.borrow();
    let Some(k) = st
        .profile_read
        .iter()
        .find(|k| k.name == name && k.sha256 == sha256)
    else {
        return Reply::Failed(format!(
            "{name} is not held for mapping (larger than {} MiB, or removed); drop it again, or write its profile with crew-mrv profile suggest",
            KEEP_MAX_BYTES >> 20
        ));
    };
    match f(&k.bytes, &config(&st)) {
        Ok(v) => Reply::Mapping(Box::new(v)),
        Err(e) => Reply::Failed(e),
    }
}

#[cfg(feature = "evidence")]
mod evidence;
mod pool;
