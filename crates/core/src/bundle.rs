//! The evidence bundle: one deterministic zip with what a verifier needs to
//! re-run a batch and get the same bytes (`manifest.json`: tool and method
//! versions, every setting, each input's name, kind, size and SHA-256, each
//! output's name and SHA-256; the outputs; the decisions applied; the
//! inputs themselves when asked), and the check that does the re-run.
//!
//! Pure: the edges give and take bytes. Entries are written in name order
//! with the zip format's earliest timestamp and fixed permissions, so the
//! same run always gives the same bundle bytes, in the CLI and in the app.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::config::Config;
use crate::export::{output_bytes, Output};
use crate::pipeline::{run, sha256_hex, Source};
use crate::report::Filter;
use crate::store::Run;

/// The manifest's format name; a verifier refuses other formats.
pub const BUNDLE_FORMAT: &str = "crew-mrv-evidence-bundle/1";

/// The tool version a bundle names, the same in the CLI and the app: the
/// workspace shares one version, and both take it from here.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the outputs and the inputs sit inside the zip.
const OUTPUTS_DIR: &str = "outputs/";
const INPUTS_DIR: &str = "inputs/";
/// The largest entry read back (a bundle's inputs are plant files).
const MAX_ENTRY_BYTES: u64 = 1 << 31;
/// The decisions the run applied, as a decisions CSV that reads back.
pub const REVIEWS_NAME: &str = "reviews.csv";

/// One input as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputEntry {
    pub name: String,
    pub kind: Option<String>,
    pub bytes: u64,
    pub sha256: String,
}

/// One output as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEntry {
    pub name: String,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub tool_version: String,
    pub method_version: String,
    /// Every setting of the run (the core's whole [`Config`]).
    pub config: Config,
    /// Which days the filtered outputs cover.
    pub filter: Filter,
    /// `--certified`: only certified days kept.
    pub certified: bool,
    pub inputs: Vec<InputEntry>,
    pub inputs_included: bool,
    pub outputs: Vec<OutputEntry>,
}

/// What a bundle is made of besides the run.
pub struct BundleSettings<'a> {
    pub tool_version: &'a str,
    pub config: &'a Config,
    pub filter: &'a Filter,
    /// The input files to put inside, when the user asks for them.
    pub inputs: Option<&'a [Source]>,
}

/// The outputs a bundle carries, by file name, as the run gives them.
fn outputs_of(run: &Run, config: &Config, filter: &Filter) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for o in Output::ALL {
        out.insert(o.file_name().to_string(), output_bytes(o, run, filter));
    }
    out.insert(REVIEWS_NAME.to_string(), reviews_csv(run, config));
    let mut provenance = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = crate::export::write_provenance(run, filter, &mut provenance);
    out.insert(crate::export::PROVENANCE_FILE.to_string(), provenance);
    out
}

/// The decisions the run applied (settings first, then reviews files in
/// file order), with the columns a decisions CSV reads.
pub fn reviews_csv(run: &Run, config: &Config) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record([
        "plant_id",
        "date",
        "review_status",
        "note",
        "reviewer",
        "inputs_sha256",
    ]);
    let from_files = run
        .store
        .active_files()
        .filter(|f| f.duplicate_of.is_none())
        .flat_map(|f| f.records.reviews.iter());
    for r in config.reviews.iter().chain(from_files) {
        let date = r.date.to_string();
        let _ = w.write_record([
            r.plant_id.as_str(),
            date.as_str(),
            r.status.as_str(),
            r.note.as_str(),
            r.reviewer.as_str(),
            r.inputs_sha256.as_str(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
}

/// The bundle's bytes.
pub fn bundle(run: &Run, settings: &BundleSettings<'_>) -> Vec<u8> {
    let outputs = outputs_of(run, settings.config, settings.filter);
    let manifest = Manifest {
        format: BUNDLE_FORMAT.to_string(),
        tool_version: settings.tool_version.to_string(),
        method_version: run.report.method_version.clone(),
        config: settings.config.clone(),
        filter: settings.filter.clone(),
        certified: run.report.certified_only,
        inputs: run
            .report
            .files
            .iter()
            .map(|f| InputEntry {
                name: f.name.to_string(),
                kind: f.kind.map(|k| k.as_str().to_string()),
                bytes: f.bytes,
                sha256: f.sha256.clone(),
            })
            .collect(),
        inputs_included: settings.inputs.is_some(),
        outputs: outputs
            .iter()
            .map(|(name, bytes)| OutputEntry {
                name: name.clone(),
                sha256: sha256_hex(bytes),
            })
            .collect(),
    };
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    entries.insert("manifest.json".to_string(), text.into_bytes());
    for (name, bytes) in outputs {
        entries.insert(format!("{OUTPUTS_DIR}{name}"), bytes);
    }
    if let Some(inputs) = settings.inputs {
        for s in inputs {
            entries.insert(format!("{INPUTS_DIR}{}", s.name), s.bytes.clone());
        }
    }
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in &entries {
        // Writing into memory fails only on a name the zip format refuses.
        if zip.start_file(name.as_str(), options()).is_ok() {
            let _ = zip.write_all(bytes);
        }
    }
    zip.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// What a verification found. `ok()` when the inputs are the bundle's and
/// every output is byte for byte the bundle's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Listed in the manifest, not given: (name, SHA-256 listed).
    pub missing_inputs: Vec<(String, String)>,
    /// Given, not listed: (name, SHA-256 given).
    pub extra_inputs: Vec<(String, String)>,
    /// Same name, other content: (name, SHA-256 listed, SHA-256 given).
    pub changed_inputs: Vec<(String, String, String)>,
    /// Outputs that differ, with their first differing row.
    pub differing_outputs: Vec<OutputDiff>,
    /// Outputs that match.
    pub matching_outputs: Vec<String>,
}

/// An output that came out differently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutputDiff {
    pub name: String,
    /// 1-based line (the header is line 1); `None` when the bundle lacks
    /// the output.
    pub row: Option<usize>,
    pub bundled: String,
    pub rerun: String,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.missing_inputs.is_empty()
            && self.extra_inputs.is_empty()
            && self.changed_inputs.is_empty()
            && self.differing_outputs.is_empty()
    }

    /// A report for people, one problem a line; empty when all is well.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (n, h) in &self.missing_inputs {
            out.push(format!("missing input: {n} (sha256 {h})"));
        }
        for (n, h) in &self.extra_inputs {
            out.push(format!("extra input: {n} (sha256 {h})"));
        }
        for (n, want, got) in &self.changed_inputs {
            out.push(format!(
                "changed input: {n} (sha256 {want} in the bundle, {got} given)"
            ));
        }
        for d in &self.differing_outputs {
            match d.row {
                Some(row) => out.push(format!(
                    "output differs: {} at row {row}: bundle {:?}, re-run {:?}",
                    d.name, d.bundled, d.rerun
                )),
                None => out.push(format!("output missing from the bundle: {}", d.name)),
            }
        }
        out
    }
}

/// The bundle's parts as read back.
pub struct OpenedBundle {
    pub manifest: Manifest,
    /// Entry name → bytes.
    pub entries: BTreeMap<String, Vec<u8>>,
}

impl OpenedBundle {
    /// The inputs inside the bundle (empty when they were not included).
    pub fn inputs(&self) -> Vec<Source> {
        self.entries
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(INPUTS_DIR)
                    .map(|name| Source::new(name, v.clone()))
            })
            .collect()
    }
}

/// Read a bundle; an error says why it is not one.
pub fn open(bytes: &[u8]) -> Result<OpenedBundle, String> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a zip: {e}"))?;
    let mut entries = BTreeMap::new();
    for i in 0..zip.len() {
        let f = zip.by_index(i).map_err(|e| format!("damaged zip: {e}"))?;
        let name = f
            .name()
            .map_err(|e| format!("damaged zip entry name: {e}"))?
            .to_string();
        let mut v = Vec::new();
        // A declared size is not trusted: reading stops at the cap.
        f.take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut v)
            .map_err(|e| format!("damaged zip entry {name}: {e}"))?;
        if v.len() as u64 > MAX_ENTRY_BYTES {
            return Err(format!(
                "zip entry {name} is larger than {MAX_ENTRY_BYTES} bytes"
            ));
        }
        entries.insert(name, v);
    }
    let manifest_bytes = entries
        .get("manifest.json")
        .ok_or_else(|| "no manifest.json in the bundle".to_string())?;
    let manifest: Manifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| format!("manifest.json is not a bundle manifest: {e}"))?;
    if manifest.format != BUNDLE_FORMAT {
        return Err(format!(
            "manifest.json has format {:?}, this tool reads {BUNDLE_FORMAT:?}",
            manifest.format
        ));
    }
    Ok(OpenedBundle { manifest, entries })
}

/// Re-run the bundle's settings on `sources` and compare inputs and
/// outputs with the bundle's.
pub fn verify(bundle: &OpenedBundle, sources: &[Source]) -> Verification {
    let m = &bundle.manifest;
    let mut v = Verification::default();
    let listed: BTreeMap<&str, &str> = m
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i.sha256.as_str()))
        .collect();
    let given: BTreeMap<String, String> = sources
        .iter()
        .map(|s| (s.name.clone(), sha256_hex(&s.bytes)))
        .collect();
    for (name, want) in &listed {
        match given.get(*name) {
            None => v.missing_inputs.push((name.to_string(), want.to_string())),
            Some(got) if got != want => {
                v.changed_inputs
                    .push((name.to_string(), want.to_string(), got.clone()))
            }
            Some(_) => {}
        }
    }
    for (name, got) in &given {
        if !listed.contains_key(name.as_str()) {
            v.extra_inputs.push((name.clone(), got.clone()));
        }
    }
    let mut rerun = run(sources, &m.config);
    if m.certified {
        rerun.report.retain_certified();
    }
    let outputs = outputs_of(&rerun, &m.config, &m.filter);
    for (name, got) in &outputs {
        match bundle.entries.get(&format!("{OUTPUTS_DIR}{name}")) {
            None => v.differing_outputs.push(OutputDiff {
                name: name.clone(),
                row: None,
                bundled: String::new(),
                rerun: String::new(),
            }),
            Some(want) if want == got => v.matching_outputs.push(name.clone()),
            Some(want) => v.differing_outputs.push(first_difference(name, want, got)),
        }
    }
    v
}

fn first_difference(name: &str, want: &[u8], got: &[u8]) -> OutputDiff {
    let want_text = String::from_utf8_lossy(want);
    let got_text = String::from_utf8_lossy(got);
    let mut a = want_text.split('\n');
    let mut b = got_text.split('\n');
    let mut row = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => row += 1,
            (None, None) => {
                // Same lines, other bytes (cannot happen for UTF-8 text):
                // name the first row all the same.
                return OutputDiff {
                    name: name.to_string(),
                    row: Some(1),
                    bundled: String::new(),
                    rerun: String::new(),
                };
            }
            (x, y) => {
                return OutputDiff {
                    name: name.to_string(),
                    row: Some(row),
                    bundled: x.unwrap_or("").to_string(),
                    rerun: y.unwrap_or("").to_string(),
                }
            }
        }
    }
}
