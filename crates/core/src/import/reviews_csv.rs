//! Expert review decisions (METHOD §5 level 5): a CSV a reviewer keeps,
//! one row per plant-day with `review_status` approved, rejected or
//! unreviewed and a note. Read like any other input, so the decisions a
//! run used are hashed and listed with the data files, and every review
//! finding points at the row it came from.
//!
//! ```text
//! plant_id,date,review_status,note,reviewer,inputs_sha256
//! PLANT_A,2025-04-24,rejected,downstream sample taken before dosing,J. Doe,3f5c…
//! ```
//!
//! `note`, `reviewer` and `inputs_sha256` (the day's hash from
//! `co2_removal.csv`) are optional, so files written before them still
//! read.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::columns::Header;
use super::delimited::field;
use super::{Ctx, FileKind, Parsed, Records, SkipReason};
use crate::config::{Review, ReviewSource, ReviewStatus};
use crate::error::FileError;
use crate::model::{CellRef, Severity};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};

const KIND: &str = "expert reviews CSV";
const PLANT: &[&str] = &["plant id", "plant"];
const DATE: &[&str] = &["date", "day"];
// Only names no plant or lab export uses, so that no data file is taken
// for a reviews file.
const STATUS: &[&str] = &["review status", "review decision"];
const NOTE: &[&str] = &["note", "notes", "comment", "reason"];
const REVIEWER: &[&str] = &["reviewer", "reviewed by"];
const INPUTS: &[&str] = &["inputs sha256", "input sha256"];

/// A header that names a reviews file: a review status column.
pub fn is_header(h: &Header) -> bool {
    h.has(STATUS)
}

fn status_of(text: &str) -> Option<ReviewStatus> {
    match text.trim().to_ascii_lowercase().as_str() {
        "approved" => Some(ReviewStatus::Approved),
        "rejected" => Some(ReviewStatus::Rejected),
        "unreviewed" => Some(ReviewStatus::Unreviewed),
        _ => None,
    }
}

pub fn read(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    delimiter: u8,
    header_line: u32,
) -> Result<Parsed, FileError> {
    let header = super::read_header(ctx, text, delimiter, header_line)?;
    let cols = (|| {
        Ok::<_, FileError>((
            header.required(PLANT, KIND, "plant_id", header_line)?,
            header.required(DATE, KIND, "date", header_line)?,
            header.required(STATUS, KIND, "review_status", header_line)?,
        ))
    })();
    let (plant_col, date_col, status_col) = super::or_reject(ctx, text, cols)?;
    let note_col = header.find(NOTE);
    let reviewer_col = header.find(REVIEWER);
    let inputs_col = header.find(INPUTS);
    let mut reviews = Vec::new();
    let mut plants = BTreeSet::new();
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    let mut dates = super::day_order::DateReader::scan(ctx, text, delimiter, header_line, date_col);
    super::walk_table_rows(
        ctx,
        text,
        delimiter,
        header_line,
        &header,
        |ctx, line, rec| {
            let at = |col: usize| CellRef::cell(None, line, col as u32);
            let date_text = field(rec, Some(date_col));
            let Some(date) = dates.date(date_text, line) else {
                ctx.account.skip(None, line, SkipReason::UnparseableDate);
                ctx.findings.row(
                qa::UNPARSEABLE_DATE
                    .finding(
                        Severity::Warning,
                        format!(
                            "Review date '{}' is not a date (expected YYYY-MM-DD); this decision is not applied.",
                            clip(date_text, QUOTE_CHARS)
                        ),
                    )
                    .at(at(date_col)),
            );
                return;
            };
            let plant = field(rec, Some(plant_col));
            if plant.is_empty() {
                ctx.account.skip(None, line, SkipReason::MissingKey);
                ctx.findings.row(
                    qa::MISSING_VALUE
                        .finding(
                            Severity::Warning,
                            "plant_id is blank; this decision is not applied.",
                        )
                        .on(date)
                        .at(at(plant_col)),
                );
                return;
            }
            let plant_id = ctx.intern(plant);
            let status_text = field(rec, Some(status_col));
            let Some(status) = status_of(status_text) else {
                let (reason, check, msg) = if status_text.is_empty() {
                    (
                        SkipReason::MissingValue,
                        qa::MISSING_VALUE,
                        "review_status is blank; this decision is not applied.".to_string(),
                    )
                } else {
                    (
                    SkipReason::UnparseableValue,
                    qa::OUT_OF_RANGE,
                    format!(
                        "review_status '{}' is not approved, rejected or unreviewed; this decision is not applied.",
                        clip(status_text, QUOTE_CHARS)
                    ),
                )
                };
                ctx.account.skip(None, line, reason);
                ctx.findings.row(
                    check
                        .finding(Severity::Warning, msg)
                        .plant(&plant_id)
                        .on(date)
                        .at(at(status_col)),
                );
                return;
            };
            let note = field(rec, note_col).to_string();
            if status == ReviewStatus::Rejected && note.is_empty() {
                ctx.findings.row(
                    qa::REVIEW_STATUS
                        .finding(
                            Severity::Warning,
                            "A rejection without a note: say why the day is rejected.",
                        )
                        .plant(&plant_id)
                        .on(date)
                        .at(at(note_col.unwrap_or(status_col))),
                );
            }
            first = Some(first.map_or(date, |f| f.min(date)));
            last = Some(last.map_or(date, |l| l.max(date)));
            plants.insert(plant_id.clone());
            reviews.push(Review {
                plant_id: plant_id.to_string(),
                date,
                status,
                note,
                reviewer: field(rec, reviewer_col).to_string(),
                inputs_sha256: field(rec, inputs_col).trim().to_ascii_lowercase(),
                source: Some(ReviewSource {
                    file: ctx.name.to_string(),
                    row: line,
                }),
            });
            ctx.account.record(None, line);
        },
    );
    let date_name = header.raw.get(date_col).cloned().unwrap_or_default();
    dates.report(ctx, &date_name);
    let plant_id = if plants.len() == 1 {
        plants.into_iter().next()
    } else {
        None
    };
    Ok(Parsed {
        kind: FileKind::ExpertReviews,
        plant_id,
        period: first.zip(last),
        generated_at: None,
        records: Records {
            reviews,
            ..Records::default()
        },
    })
}
