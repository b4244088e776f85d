//! The evidence requests (issue #15), compiled only into the evidence
//! worker: the bundle of the run this worker holds (the page replays the
//! processing worker's state into it first) and `crew-mrv verify`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};

use crew_mrv_core::Filter;
use crew_mrv_protocol::{FileSource, Reply, VerifyReport};

use super::{config, post, read_source, State};

/// The bundle of the run held here, as `crew-mrv run --bundle` writes it.
pub(super) async fn bundle(
    id: u32,
    state: &Rc<RefCell<State>>,
    filter: Filter,
    inputs: Option<Vec<(String, FileSource)>>,
    files: &Array,
) {
    let sources = match inputs {
        Some(list) => Some(used_sources(state, &list, files).await),
        None => None,
    };
    let cfg = config(&state.borrow());
    let bytes = state.borrow().run.as_ref().map(|r| {
        crew_mrv_core::bundle::bundle(
            r,
            &crew_mrv_core::bundle::BundleSettings {
                tool_version: crew_mrv_core::bundle::TOOL_VERSION,
                config: &cfg,
                filter: &filter,
                inputs: sources.as_deref(),
            },
        )
    });
    drop(sources);
    match bytes {
        Some(bytes) => {
            let arr = Uint8Array::from(bytes.as_slice());
            drop(bytes);
            let file_name = "evidence_bundle.zip".to_string();
            post(id, Reply::Bundle { file_name }, Some(&arr));
        }
        None => post(id, Reply::Failed("nothing to bundle yet".into()), None),
    }
}

/// The files of a bundle with inputs: each source is read again (the run
/// kept no bytes) and kept when the run used a file of that name and
/// content, once, as the CLI puts the files it was given.
async fn used_sources(
    state: &Rc<RefCell<State>>,
    list: &[(String, FileSource)],
    files: &Array,
) -> Vec<crew_mrv_core::Source> {
    let wanted: std::collections::BTreeSet<(String, String)> = state
        .borrow()
        .run
        .as_ref()
        .map(|r| {
            r.report
                .files
                .iter()
                .map(|f| (f.name.to_string(), f.sha256.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (name, source) in list {
        if seen.contains(name) {
            continue;
        }
        let Ok(buffer) = read_source(name, source, files).await else {
            continue;
        };
        let bytes = Uint8Array::new(&buffer).to_vec();
        let key = (name.clone(), crew_mrv_core::sha256_hex(&bytes));
        if wanted.contains(&key) {
            seen.insert(name.clone());
            out.push(crew_mrv_core::Source::new(name.clone(), bytes));
        }
    }
    out
}

/// `crew-mrv verify` in the worker: the bundle is the one file that opens
/// as a bundle; the others are the inputs to check it against.
pub(super) async fn verify(
    list: &[(String, FileSource)],
    files: &Array,
) -> Result<VerifyReport, String> {
    let mut bundle = None;
    let mut sources = Vec::new();
    for (name, source) in list {
        let buffer = read_source(name, source, files).await?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        drop(buffer);
        if bundle.is_none() && name.to_ascii_lowercase().ends_with(".zip") {
            let opened = crew_mrv_core::bundle::open(&bytes).map_err(|e| format!("{name}: {e}"))?;
            bundle = Some((name.clone(), opened));
        } else {
            sources.push(crew_mrv_core::Source::new(name.clone(), bytes));
        }
    }
    let (name, opened) = bundle.ok_or("no bundle (.zip) among the files to verify")?;
    if sources.is_empty() {
        if !opened.manifest.inputs_included {
            return Err(format!(
                "{name} holds no input files: drop it together with the files it was made from"
            ));
        }
        sources = opened.inputs();
    }
    let v = crew_mrv_core::bundle::verify(&opened, &sources);
    Ok(VerifyReport {
        bundle: name,
        tool_version: opened.manifest.tool_version.clone(),
        method_version: opened.manifest.method_version.clone(),
        ok: v.ok(),
        problems: v.problems(),
        matching_outputs: v.matching_outputs,
    })
}
