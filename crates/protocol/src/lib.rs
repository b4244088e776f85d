//! Messages between the page and the worker that runs the pipeline.
//!
//! The page sends requests (with browser `File` handles alongside, so file
//! bytes are read in the worker and never copied through the page); the
//! worker keeps every record (its `ImportStore`) and answers with progress,
//! the report (which names files but holds no records), and export bytes.
//! Every request travels in a [`Call`] with its own id, and every reply in
//! an [`Answer`] naming the call it belongs to, so a reply (or a failure)
//! settles that one request and no other. Plain serde types: the same
//! protocol is unit-tested natively.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crew_mrv_core::config::Confidence;
use crew_mrv_core::export::Output;
use crew_mrv_core::mapping::{Mapping, MappingView};
use crew_mrv_core::period::{Period, PeriodReport};
use crew_mrv_core::ReplicatePolicy;
use crew_mrv_core::{Config, Filter, Report};

pub mod records;

/// Where the bytes of a file to add come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FileSource {
    /// The n-th `File` sent alongside the request.
    Attached(usize),
    /// A same-origin URL (the sample data).
    Url(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Add {
        files: Vec<(String, FileSource)>,
    },
    Remove {
        name: String,
        sha256: String,
    },
    Clear,
    /// Put back what the last `Remove` or `Clear` took away (the page's
    /// "Removed X — Undo"); nothing when another change came since.
    Undo,
    SetPolicy(ReplicatePolicy),
    /// METHOD §7's settings the page offers.
    SetUncertainty {
        confidence: Confidence,
        lab_default_relative: f64,
    },
    /// One output, for the given filter.
    Export {
        output: Output,
        filter: Filter,
    },
    /// The period report (month or quarter × plant) of the days under the
    /// filter.
    PeriodReport {
        by: Period,
        filter: Filter,
    },
    /// Sensor readings of one series between two times, at most `max_points`
    /// (bucket means when there are more), for a zoomed chart.
    SensorPoints {
        plant_id: String,
        plant_unit_id: String,
        from: NaiveDateTime,
        to: NaiveDateTime,
        max_points: usize,
    },
    /// The calculation sheet of one plant-day (`crew-mrv explain`).
    Explain {
        plant_id: String,
        date: NaiveDate,
    },
    /// The evidence bundle for the filter. `inputs`: the files to put
    /// inside (every file the page handed over; the worker keeps those the
    /// run used), `None` when the user left them out.
    Bundle {
        filter: Filter,
        inputs: Option<Vec<(String, FileSource)>>,
    },
    /// Check a bundle (the `.zip` among `files`) against the other files,
    /// or against its own inputs when no other file is given.
    Verify {
        files: Vec<(String, FileSource)>,
    },
    /// The mapping view of a kept file no profile reads: the proposed
    /// profile's choices, at a sheet and 1-based header row when given.
    SuggestProfile {
        name: String,
        sha256: String,
        sheet: Option<String>,
        header_row: Option<u32>,
    },
    /// What the user's choices read from that file, and their TOML.
    CheckProfile {
        name: String,
        sha256: String,
        mapping: Mapping,
    },
    /// Page to a pool worker: serve the assembling worker on the
    /// `MessagePort` beside this message (README, Browser pool).
    Serve,
    /// Page to the assembling worker: pool worker `worker`, in `slot`, is
    /// reached through the `MessagePort` beside this message.
    Helper {
        slot: usize,
        worker: u32,
    },
    /// Page to the assembling worker: that pool worker died (`why`); the
    /// file it was reading is lost, the ones waiting for it go elsewhere.
    HelperStopped {
        slot: usize,
        worker: u32,
        why: String,
    },
    /// Assembling worker to a pool worker: read and import one file of an
    /// `Add` (`index`: its place there) under `config`, and answer with its
    /// records as one buffer (`records::encode`). The answers are plain
    /// message properties, not a `Reply` (crates/worker/src/pool.rs).
    Import {
        index: usize,
        name: String,
        source: FileSource,
        config: PoolConfig,
    },
}

/// What a pool worker needs of the assembling worker's configuration: the
/// settings the page can change, the size limit, and each plant profile as
/// its TOML text, read back by the core's own profile reader. A `Config`
/// itself would need a deserializer for every profile type in the worker's
/// wasm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolConfig {
    pub replicate_policy: ReplicatePolicy,
    pub confidence: Confidence,
    pub lab_default_relative: f64,
    pub max_file_bytes: u64,
    /// (source, TOML) of each profile, in the configuration's order.
    pub profiles: Vec<(String, String)>,
}

impl PoolConfig {
    /// `None` when `config` would not come back equal from it (a setting it
    /// does not carry, or a profile whose TOML reads back otherwise): then
    /// no file is shared, and the run stays the one-worker run.
    pub fn of(config: &Config) -> Option<PoolConfig> {
        let pool = PoolConfig {
            replicate_policy: config.replicate_policy,
            confidence: config.confidence,
            lab_default_relative: config.lab_default_relative,
            max_file_bytes: config.limits.max_file_bytes,
            profiles: config
                .profiles
                .iter()
                .map(|p| (p.source.clone(), crew_mrv_core::profile::to_toml(p)))
                .collect(),
        };
        (pool.config().as_ref() == Some(config)).then_some(pool)
    }

    /// The configuration, as `with_profiles` builds it from these profiles.
    pub fn config(&self) -> Option<Config> {
        let mut config = Config {
            replicate_policy: self.replicate_policy,
            confidence: self.confidence,
            lab_default_relative: self.lab_default_relative,
            ..Config::default()
        };
        config.limits.max_file_bytes = self.max_file_bytes;
        for (source, text) in &self.profiles {
            let p = crew_mrv_core::profile::parse(source, text).ok()?;
            if let Some(m) = p.meter_uncertainty_percent {
                config
                    .meter_uncertainty_percent
                    .entry(p.plant_id.clone())
                    .or_insert(m);
            }
            config.profiles.push(p);
        }
        Some(config)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub current: String,
    /// The file being read, by its place in the request (the worker may
    /// read them in another order: profiles first).
    pub index: usize,
}

// A reply is built once per message, serialized and dropped: the size of
// the Report variant costs nothing worth an extra indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    Ready,
    Progress(Progress),
    /// The report (it never carries records); `files_changed` tells the page
    /// to reset its date range.
    Report {
        report: Option<Report>,
        files_changed: bool,
        elapsed_ms: f64,
        /// Files the worker could not obtain at all (e.g. a failed fetch).
        problems: Vec<String>,
        /// The worker's WebAssembly memory: it never shrinks, so this is its
        /// peak so far.
        worker_memory_bytes: u64,
        /// Files of the request a pool worker died reading: (place in the
        /// request, name, why). The page leaves them out as it does a file
        /// the assembling worker died on.
        #[serde(default)]
        lost: Vec<(usize, String, String)>,
    },
    /// Export bytes travel beside the message as a transferred buffer.
    Export {
        output: Output,
        file_name: String,
    },
    SensorPoints {
        points: Vec<(NaiveDateTime, f64)>,
    },
    /// The sheet as `crew-mrv explain` prints it, so the page shows the
    /// same cells and tonnes without the explain code; `None`: no such day.
    DaySheet {
        text: Option<String>,
    },
    /// The bundle's bytes travel beside the message, as an export's do.
    Bundle {
        file_name: String,
    },
    Verified(VerifyReport),
    PeriodReport(PeriodReport),
    Mapping(Box<MappingView>),
    Failed(String),
}

/// A verification as the page shows it: one line per output and per input
/// problem, in `crew-mrv verify`'s words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub bundle: String,
    pub tool_version: String,
    pub method_version: String,
    pub ok: bool,
    pub matching_outputs: Vec<String>,
    pub problems: Vec<String>,
}

/// A request as it goes to the worker: `id` is unique among the page's
/// requests to one worker, and the worker's answers to it carry it back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub id: u32,
    pub request: Request,
}

/// A reply as it comes from the worker: `id` is the [`Call`] it answers
/// (`Progress` while a call is at work, then its final reply), or
/// [`Answer::UNSOLICITED`] for `Ready` and for a message the worker could
/// not read at all.
#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    pub id: u32,
    pub reply: Reply,
}

impl Answer {
    /// No call's id: the page numbers its calls from 1.
    pub const UNSOLICITED: u32 = 0;
}

impl Reply {
    /// Whether this reply settles its call (`Progress` does not: more
    /// follows).
    pub fn is_final(&self) -> bool {
        !matches!(self, Reply::Ready | Reply::Progress(_))
    }
}

/// Calls and answers cross between the page and its workers as postcard
/// bytes, not JSON: the same serde derives, but a reader of a binary form
/// has no field names to match, so the page's wasm carries a fraction of
/// the deserialising code (issue #11's size budget), and the bytes are
/// fewer and faster to read. The types use nothing postcard cannot carry
/// (no `skip_serializing_if`, untagged or flattened parts).
fn to_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap_or_default()
}

fn from_bytes<'a, T: Deserialize<'a>>(b: &'a [u8]) -> Result<T, String> {
    postcard::from_bytes(b).map_err(|e| e.to_string())
}

impl Call {
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    pub fn from_bytes(b: &[u8]) -> Result<Call, String> {
        from_bytes(b)
    }
}

impl Answer {
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    pub fn from_bytes(b: &[u8]) -> Result<Answer, String> {
        from_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crew_mrv_core::{run, Config, ImportStore, Run, Source};

    /// A request or a reply after the trip the page and workers make.
    fn trip<T: Serialize + for<'a> Deserialize<'a>>(v: &T) -> Result<T, String> {
        from_bytes(&to_bytes(v))
    }

    /// Every output of the page's copy of a report is the worker's (but
    /// `lab_readings.csv`: its records stay in the worker's store).
    fn same_outputs(back: crew_mrv_core::Report, run: &Run) {
        let back = Run {
            report: back,
            store: ImportStore::default(),
        };
        for output in Output::ALL {
            if output == Output::LabReadings {
                continue;
            }
            assert_eq!(
                crew_mrv_core::export::output_bytes(output, &back, &Filter::default()),
                crew_mrv_core::export::output_bytes(output, run, &Filter::default()),
                "{output}"
            );
        }
    }

    #[test]
    fn requests_round_trip() {
        let r = Request::Add {
            files: vec![
                ("a.csv".into(), FileSource::Attached(0)),
                ("b.xlsx".into(), FileSource::Url("data/b.xlsx".into())),
            ],
        };
        assert_eq!(trip(&r), Ok(r));
        let r = Request::SetUncertainty {
            confidence: Confidence::P5,
            lab_default_relative: 0.03,
        };
        assert_eq!(trip(&r), Ok(r));
    }

    /// The calculation sheet, bundle and verification requests carry a
    /// day, a filter and file sources through the trip unchanged.
    #[test]
    fn evidence_requests_round_trip() {
        for r in [
            Request::Explain {
                plant_id: "PLANT_A".into(),
                date: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default(),
            },
            Request::Bundle {
                filter: Filter {
                    plant: Some("PLANT_B".into()),
                    ..Filter::default()
                },
                inputs: Some(vec![("a.csv".into(), FileSource::Attached(0))]),
            },
            Request::Bundle {
                filter: Filter::default(),
                inputs: None,
            },
            Request::Verify {
                files: vec![
                    ("e.zip".into(), FileSource::Attached(0)),
                    ("b.xlsx".into(), FileSource::Url("data/b.xlsx".into())),
                ],
            },
        ] {
            assert_eq!(trip(&r), Ok(r));
        }
        let v = Reply::Verified(VerifyReport {
            bundle: "e.zip".into(),
            tool_version: "0.1.0".into(),
            method_version: "m".into(),
            ok: false,
            matching_outputs: vec!["files.csv".into()],
            problems: vec!["changed input: a.csv".into()],
        });
        match trip(&v) {
            Ok(Reply::Verified(r)) => assert_eq!(r.problems, vec!["changed input: a.csv"]),
            other => panic!("{other:?}"),
        }
    }

    /// The mapping view's requests carry the user's choices, and its reply
    /// the view, through the trip unchanged.
    #[test]
    fn mapping_requests_round_trip() {
        let csv = b"Date,Outfall flow (ML/d),Rain (mm)\n2025-05-01,40,0\nTotal,40,\n";
        let v = crew_mrv_core::mapping::propose(
            "PLANT_D-log.csv",
            csv,
            &crew_mrv_core::Config::default(),
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for r in [
            Request::SuggestProfile {
                name: "a.xlsx".into(),
                sha256: "00".into(),
                sheet: Some("Ops".into()),
                header_row: Some(3),
            },
            Request::CheckProfile {
                name: "a.xlsx".into(),
                sha256: "00".into(),
                mapping: v.mapping.clone(),
            },
        ] {
            assert_eq!(trip(&r), Ok(r));
        }
        match trip(&Reply::Mapping(Box::new(v.clone()))) {
            Ok(Reply::Mapping(back)) => assert_eq!(*back, v),
            other => panic!("{other:?}"),
        }
    }

    /// The id is what routes a reply to the one request it answers: it
    /// must survive the trip on both sides, for every kind of reply.
    #[test]
    fn calls_and_answers_keep_their_ids() {
        let call = Call {
            id: 41,
            request: Request::Export {
                output: Output::Sql,
                filter: Filter::default(),
            },
        };
        assert_eq!(Call::from_bytes(&call.to_bytes()), Ok(call));
        for (id, reply) in [
            (7, Reply::Failed("nothing to export yet".into())),
            (
                8,
                Reply::Export {
                    output: Output::Sql,
                    file_name: "crew_mrv_batch.sql".into(),
                },
            ),
            (9, Reply::SensorPoints { points: vec![] }),
            (
                10,
                Reply::Progress(Progress {
                    done: 0,
                    total: 1,
                    current: "a.csv".into(),
                    index: 0,
                }),
            ),
            (Answer::UNSOLICITED, Reply::Ready),
        ] {
            let was_final = reply.is_final();
            let back = Answer::from_bytes(&Answer { id, reply }.to_bytes());
            let Ok(back) = back else {
                panic!("answer {id} did not come back");
            };
            assert_eq!(back.id, id);
            assert_eq!(back.reply.is_final(), was_final);
        }
        assert!(!Reply::Ready.is_final());
    }

    /// The whole sample set (overlapping reports, superseded rows, every
    /// plant and source kind): the page's copy of the report gives every
    /// output the worker's gives.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_sample_set_report_survives_the_trip() {
        let files = crew_mrv_samples::generate(&crew_mrv_samples::SampleOptions::committed())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let sources: Vec<Source> = files
            .iter()
            .map(|f| Source::new(&f.name, f.bytes.clone()))
            .collect();
        let run = run(&sources, &Config::default());
        assert!(run
            .report
            .plant_operations
            .iter()
            .any(|d| !d.superseded.is_empty()));
        let back = trip(&Answer {
            id: 3,
            reply: Reply::Report {
                report: Some(run.report.clone()),
                files_changed: true,
                elapsed_ms: 1.0,
                problems: vec![],
                worker_memory_bytes: 0,
                lost: vec![],
            },
        });
        let Ok(Answer {
            reply: Reply::Report {
                report: Some(back), ..
            },
            ..
        }) = back
        else {
            panic!("no report came back");
        };
        same_outputs(back, &run);
    }

    #[test]
    fn a_report_survives_the_trip_bit_for_bit() {
        let lab = "unique_id,date,plant_id,unit_type_id,parameter_name,units,value\n\
                   U1,2025-04-01,P,primary_clarifier,calcium,mg/L,39.8\n\
                   D1,2025-04-01,P,secondary_clarifier,calcium,mg/L,53.7\n\
                   D2,2025-04-01,P,secondary_clarifier,calcium,mg/L,53.70000000000001\n";
        let run = run(
            &[Source::new("lab.csv", lab.as_bytes())],
            &Config::default(),
        );
        let reply = Reply::Report {
            report: Some(run.report.clone()),
            files_changed: true,
            elapsed_ms: 1.0,
            problems: vec![],
            worker_memory_bytes: 0,
            lost: vec![],
        };
        let back = trip(&reply);
        let Ok(Reply::Report {
            report: Some(back), ..
        }) = back
        else {
            panic!("no report came back");
        };
        assert_eq!(back.findings, run.findings);
        same_outputs(back, &run);
    }
}
