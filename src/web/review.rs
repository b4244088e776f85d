//! Expert review in the page (METHOD §5 level 5): the decisions taken here
//! are rows of the decisions CSV the core already reads. They are kept in
//! this browser's localStorage and enter every run as one synthesised file,
//! so the page has no second way of applying a decision: the worker reads
//! them exactly as it reads a dropped decisions CSV, and the core decides
//! (including "input changed since approval" when a day's inputs_sha256 no
//! longer matches the one recorded).

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::{browser, Input, Session};
use crew_mrv_core::import::FileKind;
use crew_mrv_core::model::{Co2Day, DayReviewStatus};

/// The synthesised file's name. Files are read in name order and the last
/// decision on a day counts: `~` sorts after the names users give their
/// files, so a decision taken here wins over a dropped file's.
pub const BROWSER_FILE: &str = "~reviews (in this browser).csv";
/// What the download is called.
pub const DOWNLOAD_NAME: &str = "reviews.csv";
const STORE_KEY: &str = "crew-mrv-reviews";
const REVIEWER_KEY: &str = "crew-mrv-reviewer";

/// One decision: a row of the decisions CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub status: String,
    pub note: String,
    pub reviewer: String,
    pub inputs_sha256: String,
}

/// Decisions by (plant, date as YYYY-MM-DD).
pub type Decisions = BTreeMap<(String, String), Decision>;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The decisions kept in this browser; none when storage is unavailable or
/// holds something else.
pub fn load() -> Decisions {
    let rows: Vec<[String; 6]> = storage()
        .and_then(|s| s.get_item(STORE_KEY).ok().flatten())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    rows.into_iter()
        .map(|[p, d, status, note, reviewer, inputs_sha256]| {
            (
                (p, d),
                Decision {
                    status,
                    note,
                    reviewer,
                    inputs_sha256,
                },
            )
        })
        .collect()
}

fn save(d: &Decisions) {
    let rows: Vec<[&str; 6]> = d
        .iter()
        .map(|((p, day), r)| {
            [
                p.as_str(),
                day.as_str(),
                r.status.as_str(),
                r.note.as_str(),
                r.reviewer.as_str(),
                r.inputs_sha256.as_str(),
            ]
        })
        .collect();
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(&rows)) {
        let _ = s.set_item(STORE_KEY, &text);
    }
}

pub fn load_reviewer() -> String {
    storage()
        .and_then(|s| s.get_item(REVIEWER_KEY).ok().flatten())
        .unwrap_or_default()
}

pub fn save_reviewer(name: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(REVIEWER_KEY, name);
    }
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// The decisions as the CSV `import/reviews_csv.rs` reads.
pub fn to_csv(d: &Decisions) -> String {
    let mut out = String::from("plant_id,date,review_status,note,reviewer,inputs_sha256\n");
    for ((plant, date), r) in d {
        let row = [
            plant.as_str(),
            date.as_str(),
            r.status.as_str(),
            r.note.as_str(),
            r.reviewer.as_str(),
            r.inputs_sha256.as_str(),
        ];
        out.push_str(&row.map(csv_field).join(","));
        out.push('\n');
    }
    out
}

/// The decisions as a file the worker reads like a dropped one.
pub fn browser_input(d: &Decisions) -> Option<Input> {
    let bytes = to_csv(d).into_bytes();
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    web_sys::File::new_with_u8_array_sequence(&parts, BROWSER_FILE)
        .ok()
        .map(Input::Picked)
}

/// Send the current decisions into the run: the previous synthesised file
/// goes, the new one comes.
fn push(s: Session) {
    let old: Vec<(String, String)> = s.report.with_untracked(|r| {
        r.as_ref()
            .map(|r| {
                r.files
                    .iter()
                    .filter(|f| &*f.name == BROWSER_FILE)
                    .map(|f| (f.name.to_string(), f.sha256.clone()))
                    .collect()
            })
            .unwrap_or_default()
    });
    for (name, sha) in old {
        s.remove_file(name, sha);
    }
    let inputs = s.reviews.with_untracked(|d| {
        if d.is_empty() {
            Vec::new()
        } else {
            browser_input(d).into_iter().collect()
        }
    });
    super::ingest(s, inputs);
}

/// Record a decision on each day; `Err` says why nothing was recorded.
pub fn decide(
    s: Session,
    days: &[Co2Day],
    status: DayReviewStatus,
    note: &str,
) -> Result<usize, String> {
    let reviewer = s.reviewer.get_untracked().trim().to_string();
    if reviewer.is_empty() {
        return Err("Enter your name as reviewer first: it is recorded with each decision.".into());
    }
    let note = note.trim();
    if status == DayReviewStatus::Rejected && note.is_empty() {
        return Err("A rejection needs a note saying why.".into());
    }
    if days.is_empty() {
        return Err("No days to decide on.".into());
    }
    s.reviews.update(|d| {
        for day in days {
            d.insert(
                (day.plant_id.to_string(), day.date.to_string()),
                Decision {
                    status: status.as_str().to_string(),
                    note: note.to_string(),
                    reviewer: reviewer.clone(),
                    inputs_sha256: day.inputs_sha256.clone(),
                },
            );
        }
        save(d);
    });
    push(s);
    Ok(days.len())
}

/// A dropped decisions CSV: its decisions on days this browser has not
/// decided are taken into this browser's decisions, so they outlive the
/// session. Days this browser decided keep its decision, in the run too:
/// its file is read last. Nothing is sent: the run already holds them.
pub fn absorb_dropped(s: Session) {
    let decided: Vec<((String, String), Decision)> = s.report.with_untracked(|r| {
        let Some(r) = r.as_ref() else {
            return Vec::new();
        };
        let dropped = r
            .files
            .iter()
            .any(|f| f.kind == Some(FileKind::ExpertReviews) && &*f.name != BROWSER_FILE);
        if !dropped {
            return Vec::new();
        }
        r.co2
            .iter()
            .filter(|d| {
                matches!(
                    d.review.status,
                    DayReviewStatus::Approved | DayReviewStatus::Rejected
                )
            })
            .map(|d| {
                (
                    (d.plant_id.to_string(), d.date.to_string()),
                    Decision {
                        status: d.review.status.as_str().to_string(),
                        note: d.review.note.clone(),
                        reviewer: d.review.reviewer.clone(),
                        inputs_sha256: d.inputs_sha256.clone(),
                    },
                )
            })
            .collect()
    });
    let new: Vec<_> = s.reviews.with_untracked(|d| {
        decided
            .into_iter()
            .filter(|(k, _)| !d.contains_key(k))
            .collect()
    });
    if new.is_empty() {
        return;
    }
    s.reviews.update(|d| {
        d.extend(new);
        save(d);
    });
}

/// The download of this browser's decisions.
pub fn download(s: Session) {
    let text = s.reviews.with_untracked(to_csv);
    if let Err(e) = browser::download(DOWNLOAD_NAME, text.as_bytes(), "text/csv") {
        s.notice.set(Some(format!("Download failed: {e}")));
    }
}

pub fn status_text(st: DayReviewStatus) -> &'static str {
    match st {
        DayReviewStatus::Approved => "approved",
        DayReviewStatus::Rejected => "rejected",
        DayReviewStatus::Unreviewed => "unreviewed",
        DayReviewStatus::InputChanged => "input changed since approval",
    }
}
