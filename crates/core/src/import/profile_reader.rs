//! The generic operations reader: one plant profile layout (PROFILES.md)
//! over the sparse sheet model, so a workbook (.xlsx, .xls) and a CSV are
//! read by the same rules. Finding the header, telling the rows apart,
//! reading dates and numbers and converting units happen here; which
//! layout reads a file is decided in `import/mod.rs`.

use std::collections::BTreeMap;
use std::rc::Rc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::workbook::{Cell, Sheet};
use super::{delimited, names, sheet_rows, Ctx, FileKind, Parsed, Records, SkipReason, UNNUMBERED};
use crate::error::{FileError, FileErrorKind};
use crate::method::co2::M3_PER_MG;
use crate::model::{col_letters, CellRef, OpsRow, Severity, Text};
use crate::number::{parse_num, Commas};
use crate::profile::{
    normalise, Field, Layout, Numbers, OpsKind, PeriodFrom, Place, PlantIdFrom, Profile, Unit,
};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};
use crate::timestamp::{month_end, parse_date_range, parse_datetime, parse_month_year};

/// How far down the header row is looked for.
pub const HEADER_SEARCH_ROWS: u32 = 50;
/// Millimetres per inch (PROFILES.md "Units").
const MM_PER_INCH: f64 = 25.4;

/// A header row found for a layout: its 0-based row and each column's
/// normalised header text (index = column).
#[derive(Clone, Debug)]
pub struct HeaderFound {
    pub row: u32,
    pub headers: Vec<String>,
    /// The header block's first row (above `row` only with `header_rows =
    /// "auto"`) and the row after its last: where the data starts.
    pub top: u32,
    pub end: u32,
    /// The group label over each column (`group`, version 2): the nearest
    /// label at or left of it on the block's first row, normalised.
    pub groups: Vec<String>,
}

/// At most this many rows make an automatic header block (the tallest
/// seen in a real report is seven, plus blank rows before the first day).
pub const AUTO_HEADER_MAX_ROWS: u32 = 9;

impl HeaderFound {
    /// A block of `rows` rows from `row`.
    pub fn fixed(sheet: &Sheet, row: u32, rows: u32) -> HeaderFound {
        HeaderFound {
            row,
            headers: headers(sheet, row, rows),
            top: row,
            end: row.saturating_add(rows),
            groups: groups(sheet, row),
        }
    }
}

/// Each column's group label on a row: the nearest non-blank text at or
/// left of it (a group's label is written once over its first column).
fn groups(sheet: &Sheet, row: u32) -> Vec<String> {
    let mut current = String::new();
    (0..sheet.cols())
        .map(|c| {
            let t = norm_text(sheet, row, c);
            if !t.is_empty() {
                current = t;
            }
            current.clone()
        })
        .collect()
}

/// The header block around a header row (`header_rows = "auto"`): up over
/// the rows with a label beside the date column (group labels, column
/// numbers; a preamble has none), down to the row before the first day,
/// at most [`AUTO_HEADER_MAX_ROWS`] rows in all. The column headers are
/// the texts from the header row down.
fn auto_block(sheet: &Sheet, row: u32, date_col: u32) -> HeaderFound {
    let mut top = row;
    while top > 0 && sheet.filled(top - 1).any(|c| c != date_col) {
        top -= 1;
    }
    let mut bottom = row;
    let limit = top
        .saturating_add(AUTO_HEADER_MAX_ROWS - 1)
        .min(sheet.rows().saturating_sub(1));
    while bottom < limit && sheet.datetime(bottom + 1, date_col).is_none() {
        bottom += 1;
    }
    HeaderFound {
        row,
        headers: headers(sheet, row, bottom - row + 1),
        top,
        end: bottom + 1,
        groups: groups(sheet, top),
    }
}

/// At most this many characters of a cell count as its header or summary
/// text. A header is a few words (Plant A's five-line cells are under 60
/// characters); without a bound, a small workbook whose every cell shares
/// one huge string would cost that string once per column here
/// (`tests/memory.rs`, the shared-string fan-outs).
pub const HEADER_TEXT_CHARS: usize = 128;

/// A cell's text for header and summary matching, normalised.
fn norm_text(sheet: &Sheet, row: u32, col: u32) -> String {
    let t = sheet.text(row, col);
    match t.char_indices().nth(HEADER_TEXT_CHARS) {
        Some((end, _)) => normalise(t.get(..end).unwrap_or_default()),
        None => normalise(&t),
    }
}

/// The first row among the first 50 whose cells together contain every
/// `header_contains` string, with the column headers of its block.
pub fn find_header(sheet: &Sheet, layout: &Layout) -> Option<HeaderFound> {
    let fixed_date = match layout.date {
        Place::Column(c) => Some(c),
        Place::Header(_) => None,
    };
    let row = (0..sheet.rows().min(HEADER_SEARCH_ROWS)).find(|r| {
        let cells: Vec<(u32, String)> = sheet
            .filled(*r)
            .map(|c| (c, norm_text(sheet, *r, c)))
            .collect();
        let cell_ok = layout.rules.header_cell.as_ref().is_none_or(|h| {
            cells
                .iter()
                .any(|(c, t)| t == h && fixed_date.is_none_or(|d| d == *c))
        });
        !layout.header_contains.is_empty()
            && cell_ok
            && layout
                .header_contains
                .iter()
                .all(|needle| cells.iter().any(|(_, c)| c.contains(needle.as_str())))
    })?;
    if layout.rules.header_auto {
        let date_col = match &layout.date {
            Place::Column(c) => *c,
            Place::Header(_) => locate(&layout.date, &headers(sheet, row, 1)).unwrap_or(0),
        };
        return Some(auto_block(sheet, row, date_col));
    }
    Some(HeaderFound::fixed(sheet, row, layout.header_rows))
}

/// Each column's header: its non-blank texts in the block, joined.
pub fn headers(sheet: &Sheet, row: u32, header_rows: u32) -> Vec<String> {
    (0..sheet.cols())
        .map(|c| {
            (row..row.saturating_add(header_rows))
                .map(|r| norm_text(sheet, r, c))
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The column a place points at in these headers.
pub fn locate(place: &Place, headers: &[String]) -> Option<u32> {
    locate_in(place, None, headers, &[])
}

/// As [`locate`], preferring among the matching columns the first under a
/// group label that contains `group` (version 2), else the first.
pub fn locate_in(
    place: &Place,
    group: Option<&str>,
    headers: &[String],
    groups: &[String],
) -> Option<u32> {
    if let (Place::Header(h), Some(g)) = (place, group) {
        let under = headers.iter().enumerate().position(|(c, x)| {
            x.contains(h.as_str()) && groups.get(c).is_some_and(|l| l.contains(g))
        });
        if let Some(c) = under {
            return Some(c as u32);
        }
    }
    match place {
        Place::Column(c) => Some(*c),
        Place::Header(h) => headers
            .iter()
            .position(|x| x.contains(h.as_str()))
            .map(|c| c as u32),
    }
}

fn listed(headers: &[String]) -> String {
    let shown: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.is_empty())
        .take(40)
        .map(|(c, h)| format!("{}: '{}'", col_letters(c as u32), clip(h, QUOTE_CHARS)))
        .collect();
    if shown.is_empty() {
        "none".into()
    } else {
        shown.join(", ")
    }
}

/// What a date cell holds.
enum DateCell {
    Blank,
    Day(NaiveDate),
    Unreadable(String),
}

/// A date in text: ISO `YYYY-MM-DD`, else the layout's format (default
/// `M/D/YYYY`); a time after the date is allowed and dropped.
pub fn text_date(t: &str, format: Option<&str>) -> Option<NaiveDate> {
    let t = t.trim();
    // Only a time may follow the date: `06/08/2025 *311 CBOD …` is a
    // footnote, not a day.
    let ends_well = |rest: &str| {
        let r = rest.trim_start_matches([' ', 'T']).trim();
        r.is_empty()
            || [
                "%H:%M:%S",
                "%H:%M",
                "%I:%M:%S %p",
                "%I:%M %p",
                "%H:%M:%S%.f",
            ]
            .iter()
            .any(|f| NaiveTime::parse_from_str(r, f).is_ok())
    };
    for f in ["%Y-%m-%d", format.unwrap_or("%m/%d/%Y")] {
        if let Ok((d, rest)) = NaiveDate::parse_and_remainder(t, f) {
            if ends_well(rest) {
                return Some(d);
            }
        }
    }
    None
}

fn date_cell(sheet: &Sheet, row: u32, col: u32, format: Option<&str>) -> DateCell {
    match sheet.get(row, col) {
        Cell::Empty => DateCell::Blank,
        Cell::Text(s) if s.trim().is_empty() => DateCell::Blank,
        Cell::Text(s) | Cell::IsoDate(s) => match text_date(s, format) {
            Some(d) => DateCell::Day(d),
            None => DateCell::Unreadable(s.to_string()),
        },
        Cell::Date(_) | Cell::Number(_) => match sheet.datetime(row, col) {
            Some(dt) => DateCell::Day(dt.date()),
            None => DateCell::Unreadable(sheet.text(row, col).into_owned()),
        },
        _ => DateCell::Unreadable(sheet.text(row, col).into_owned()),
    }
}

/// The first date-time in a text (`Generated: 7/14/2025 8:01:12 AM`); a
/// date alone is midnight.
pub fn first_datetime(t: &str, format: Option<&str>) -> Option<NaiveDateTime> {
    let words: Vec<&str> = t.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_end_matches([',', ';']);
        let Some(d) = text_date(w, format) else {
            continue;
        };
        let time = words.get(i + 1).and_then(|tm| {
            let ampm = words
                .get(i + 2)
                .filter(|x| x.eq_ignore_ascii_case("am") || x.eq_ignore_ascii_case("pm"));
            match ampm {
                Some(p) => {
                    let s = format!("{tm} {p}");
                    NaiveTime::parse_from_str(&s, "%I:%M:%S %p")
                        .or_else(|_| NaiveTime::parse_from_str(&s, "%I:%M %p"))
                        .ok()
                }
                None => NaiveTime::parse_from_str(tm, "%H:%M:%S")
                    .or_else(|_| NaiveTime::parse_from_str(tm, "%H:%M"))
                    .ok(),
            }
        });
        return Some(d.and_time(time.unwrap_or(NaiveTime::MIN)));
    }
    None
}

fn generated_at(sheet: &Sheet, layout: &Layout) -> Option<NaiveDateTime> {
    let (r, c) = layout.generated_at?;
    match sheet.get(r, c) {
        Cell::Date(_) | Cell::Number(_) => sheet.datetime(r, c),
        Cell::Text(s) | Cell::IsoDate(s) => first_datetime(s, layout.date_format.as_deref()),
        _ => None,
    }
}

/// A value cell: a number, blank (`Ok(None)`), or the text that is no
/// number.
fn value(sheet: &Sheet, row: u32, col: u32) -> Result<Option<f64>, String> {
    match sheet.get(row, col) {
        Cell::Empty => Ok(None),
        Cell::Number(f) => Ok(Some(*f)),
        Cell::Text(s) => match parse_num(s, Commas::Thousands) {
            Ok(None) => Ok(None),
            Ok(Some(n)) if !n.below_detection && !n.footnoted && !n.decimal_comma => {
                Ok(Some(n.value))
            }
            _ => Err(s.to_string()),
        },
        _ => Err(sheet.text(row, col).into_owned()),
    }
}

/// A flow read in `unit`, as (MGD, m³/day) (PROFILES.md "Units"). MGD
/// goes through the same multiplication as METHOD §4 so Plant A and B
/// results stay bit for bit.
pub fn flow(v: f64, unit: Unit) -> (f64, f64) {
    match unit {
        Unit::M3PerDay => (v / M3_PER_MG, v),
        Unit::MlPerDay => {
            let m3 = v * 1000.0;
            (m3 / M3_PER_MG, m3)
        }
        _ => (v, v * M3_PER_MG),
    }
}

/// The columns of a layout in a sheet's headers: fields found, and the
/// optional ones that matched nothing.
pub struct Resolved {
    pub date_col: u32,
    pub fields: BTreeMap<Field, (u32, Unit)>,
    pub missing: Vec<Field>,
}

pub fn resolve(layout: &Layout, found: &HeaderFound) -> Result<Resolved, String> {
    let date_col = locate(&layout.date, &found.headers);
    let mut fields = BTreeMap::new();
    let mut missing = Vec::new();
    for (f, c) in &layout.columns {
        match locate_in(&c.place, c.group.as_deref(), &found.headers, &found.groups) {
            Some(col) => {
                fields.insert(*f, (col, c.unit));
            }
            None => missing.push(*f),
        }
    }
    let lacking: Vec<&str> = std::iter::once(("date", date_col.is_none()))
        .chain(std::iter::once((
            Field::EffluentFlow.as_str(),
            !fields.contains_key(&Field::EffluentFlow),
        )))
        .filter(|(_, m)| *m)
        .map(|(n, _)| n)
        .collect();
    match date_col {
        Some(date_col) if lacking.is_empty() => Ok(Resolved {
            date_col,
            fields,
            missing,
        }),
        _ => Err(format!(
            "the required field{} {} match{} no column of the header on row {}. Column headers found: {}",
            if lacking.len() == 1 { "" } else { "s" },
            lacking.join(" and "),
            if lacking.len() == 1 { "es" } else { "" },
            found.row + 1,
            listed(&found.headers)
        )),
    }
}

/// Which layout read a file, as `files.csv` names it.
pub fn label(profile: &Profile, layout: &Layout) -> String {
    format!(
        "{} / {} ({})",
        profile.plant_id, layout.name, profile.source
    )
}

/// Read a sheet with a layout whose header was found. `is_row` tells, for
/// a CSV, which sheet rows are lines of their own (a quoted field's
/// continuation lines are not).
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    profile: &Profile,
    layout: &Layout,
    found: &HeaderFound,
    sheet_ref: Option<&Text>,
    is_row: &dyn Fn(u32) -> bool,
) -> Result<Parsed, FileError> {
    ctx.profile = Some(label(profile, layout));
    let data_start = found.end;
    let resolved = match resolve(layout, found) {
        Ok(r) => r,
        Err(detail) => {
            // A CSV's continuation lines of a quoted field are no rows.
            for r in (0..sheet.rows()).filter(|r| is_row(*r)) {
                ctx.account.skip(sheet_ref, r + 1, SkipReason::FileRejected);
            }
            return Err(FileError::at(
                FileErrorKind::ProfileLayout {
                    detail: format!(
                        "sheet '{}' read with {}: {detail}",
                        sheet.name,
                        label(profile, layout)
                    ),
                },
                CellRef::row(Some(&sheet.name), found.row + 1),
            ));
        }
    };
    let pro = prologue(ctx, sheet, profile, layout, found, &resolved);
    if layout.rules.rows_by_content {
        return Ok(read_by_content(
            ctx, sheet, layout, found, &resolved, sheet_ref, is_row, pro,
        ));
    }
    let Prologue { plant, gen, pre } = pro;
    if found.top > 0 {
        for r in 1..=found.top {
            if is_row(r - 1) {
                ctx.account.skip(sheet_ref, r, SkipReason::Preamble);
            }
        }
    }
    for r in found.top..data_start.min(sheet.rows()) {
        if is_row(r) {
            ctx.account.skip(sheet_ref, r + 1, SkipReason::Header);
        }
    }
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let shared = RowShared {
        sheet: ctx.intern(&sheet.name),
        eff_col: resolved.fields.get(&Field::EffluentFlow).map(|(c, _)| *c),
        has_influent: resolved.fields.contains_key(&Field::InfluentFlow),
        flow_unit: resolved.fields.get(&Field::EffluentFlow).map(|(_, u)| *u),
    };
    let mut ops = Vec::new();
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    for r in data_start..sheet.rows() {
        if !is_row(r) {
            continue;
        }
        let line = r + 1;
        if sheet.row_is_blank(r) {
            ctx.account.skip(sheet_ref, line, SkipReason::Blank);
            continue;
        }
        let lead = sheet
            .filled(r)
            .next()
            .map(|c| norm_text(sheet, r, c))
            .unwrap_or_default();
        if layout
            .skip_rows_starting_with
            .iter()
            .any(|p| lead.starts_with(p.as_str()))
        {
            ctx.account.skip(sheet_ref, line, SkipReason::Summary);
            continue;
        }
        let day = match date_cell(sheet, r, resolved.date_col, layout.date_format.as_deref()) {
            DateCell::Day(d) => d,
            DateCell::Blank => {
                ctx.account.skip(sheet_ref, line, SkipReason::NoDate);
                continue;
            }
            DateCell::Unreadable(t) => {
                ctx.findings.row(
                    qa::UNPARSEABLE_DATE
                        .finding(
                            Severity::Warning,
                            format!(
                                "'{}' is not a date{}; the row is skipped.",
                                clip(&t, QUOTE_CHARS),
                                layout
                                    .date_format
                                    .as_deref()
                                    .map(|f| format!(" (expected {f} or YYYY-MM-DD)"))
                                    .unwrap_or_else(|| " (expected M/D/YYYY or YYYY-MM-DD)".into())
                            ),
                        )
                        .plant(&plant)
                        .at(sheet.at(r, resolved.date_col)),
                );
                ctx.account.skip(sheet_ref, line, SkipReason::NoDate);
                continue;
            }
        };
        if day < earliest || gen.is_some_and(|g| day > g.date()) {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!(
                            "The day {day} is {}; the row is skipped.",
                            if day < earliest {
                                "before 2000".to_string()
                            } else {
                                format!(
                                    "after the report was generated ({})",
                                    gen.map(|g| g.to_string()).unwrap_or_default()
                                )
                            }
                        ),
                    )
                    .plant(&plant)
                    .on(day)
                    .at(sheet.at(r, resolved.date_col)),
            );
            ctx.account
                .skip(sheet_ref, line, SkipReason::ImplausibleDate);
            continue;
        }
        let read = |ctx: &mut Ctx<'_>, f: Field| -> Option<(f64, Unit)> {
            let (col, unit) = *resolved.fields.get(&f)?;
            match value(sheet, r, col) {
                Ok(v) => v.map(|v| (v, unit)),
                Err(t) => {
                    ctx.findings.row(
                        // PROFILES.md names it so; version 2's `rows =
                        // "by_content"` (Plant A, B) keeps `unparseable_number`.
                        qa::UNPARSEABLE_VALUE
                            .finding(
                                Severity::Warning,
                                format!(
                                    "{} '{}' is not a number; it is left blank for the day.",
                                    f.as_str(),
                                    clip(&t, QUOTE_CHARS)
                                ),
                            )
                            .plant(&plant)
                            .on(day)
                            .at(sheet.at(r, col)),
                    );
                    None
                }
            }
        };
        let row = shared.row(&plant, day, line, |f| read(ctx, f));
        ctx.account.record(sheet_ref, line);
        first = Some(first.map_or(day, |f| f.min(day)));
        last = Some(day);
        ops.push(row);
    }
    empty_columns(ctx, sheet, layout, found, &resolved, &plant, &ops);
    Ok(Parsed {
        kind: kind_of(layout),
        period: period(
            &ctx.name,
            sheet,
            layout,
            found,
            &resolved,
            &pre,
            first.zip(last),
        ),
        plant_id: Some(plant),
        generated_at: gen,
        records: Records {
            ops,
            ..Records::default()
        },
    })
}

/// The file kind a layout gives its files (`kind`, version 2).
pub(crate) fn kind_of(layout: &Layout) -> FileKind {
    match layout.rules.kind {
        Some(OpsKind::PlantAOps) => FileKind::PlantAOps,
        Some(OpsKind::PlantBReport) => FileKind::PlantBReport,
        Some(OpsKind::PlantOps) | None => FileKind::PlantOps,
    }
}

/// A field's name in messages: its `label`, else its key.
fn label_of(layout: &Layout, f: Field) -> String {
    layout
        .columns
        .get(&f)
        .and_then(|c| c.label.clone())
        .unwrap_or_else(|| f.as_str().to_string())
}

/// The plant a file belongs to (`plant_id_from`, version 2), else the
/// profile's, said in a warning since the file did not confirm it.
fn plant_of(
    ctx: &mut Ctx<'_>,
    profile: &Profile,
    layout: &Layout,
    pre: &Preamble,
    sn: Option<&Text>,
) -> Text {
    let name_plant = names::plant_token(&ctx.name);
    match layout.rules.plant_id_from {
        None => ctx.intern(&profile.plant_id),
        Some(PlantIdFrom::FileName) => match name_plant {
            Some(p) => ctx.intern(&p),
            None => {
                ctx.findings.push(
                    qa::PLANT_MISMATCH
                        .finding(
                            Severity::Warning,
                            format!(
                                "The file name carries no plant id (this layout's files name it only there); {} was assumed from the profile.",
                                profile.plant_id
                            ),
                        )
                        .at(CellRef::default()),
                );
                ctx.intern(&profile.plant_id)
            }
        },
        Some(PlantIdFrom::Preamble) => match (&pre.plant, &name_plant) {
            (Some((p, row)), Some(n)) if p != n => {
                ctx.findings.push(
                    qa::PLANT_MISMATCH
                        .finding(
                            Severity::Warning,
                            format!(
                                "The sheet says plant {} but the file name says {}; the sheet's plant is used.",
                                clip(p, QUOTE_CHARS),
                                clip(n, QUOTE_CHARS)
                            ),
                        )
                        .at(CellRef::cell(sn, row + 1, pre.col)),
                );
                ctx.intern(p)
            }
            (Some((p, _)), _) => ctx.intern(p),
            (None, Some(n)) => ctx.intern(n),
            (None, None) => {
                ctx.findings.push(qa::PLANT_MISMATCH.finding(
                    Severity::Warning,
                    format!(
                        "Neither the sheet preamble nor the file name names the plant; {} was assumed from the profile.",
                        profile.plant_id
                    ),
                ));
                ctx.intern(&profile.plant_id)
            }
        },
    }
}

/// What the rows above the header block say in the date column: a plant
/// id, a report month and a generation time (`plant_id_from =
/// "preamble"`, `period_from = [.., "preamble_month"]`, `generated_at = {
/// search = "preamble" }`).
struct Preamble {
    col: u32,
    plant: Option<(String, u32)>,
    month: Option<NaiveDate>,
    generated_at: Option<NaiveDateTime>,
}

fn preamble(sheet: &Sheet, top: u32, col: u32) -> Preamble {
    let mut p = Preamble {
        col,
        plant: None,
        month: None,
        generated_at: None,
    };
    for r in 0..top {
        let text = sheet.text(r, col);
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        if p.generated_at.is_none() && t.contains(':') {
            if let Some(dt) = parse_datetime(t) {
                p.generated_at = Some(dt);
                continue;
            }
        }
        if p.month.is_none() {
            if let Some(m) = parse_month_year(t) {
                p.month = Some(m);
                continue;
            }
        }
        let ident = t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && t.bytes().any(|b| b.is_ascii_alphabetic());
        // A `PLANT_…` id beats any other identifier-like word (a one-word
        // title such as `DMR` must not become the plant).
        let plant_like = t.to_ascii_uppercase().starts_with("PLANT");
        let better = match &p.plant {
            None => true,
            Some((cur, _)) => plant_like && !cur.starts_with("PLANT"),
        };
        if ident && better {
            p.plant = Some((t.to_ascii_uppercase(), r));
        }
    }
    p
}

/// Upper-case words of a column's header cells from `from` to `to`, for
/// naming it in a message as the sheet writes it.
fn header_words(sheet: &Sheet, col: u32, from: u32, to: u32) -> Vec<String> {
    (from..=to)
        .flat_map(|r| {
            sheet
                .text(r, col)
                .split(|c: char| c.is_whitespace() || c == '/')
                .filter(|t| !t.is_empty())
                .map(|t| t.to_ascii_uppercase())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A layout with `rows = "by_content"` (version 2): the rules of a
/// printed report rather than of a table. A row is a day when its date
/// cell holds a date; any other row is told apart by what it holds
/// (`sheet_rows::classify`), and one nothing explains is reported. Values
/// are read as `numbers` says, checked for range, and a day keeps its row
/// even when its date is implausible (the finding says so).
/// What a file says before its rows are read: its plant, generation
/// time and preamble, with the findings about its columns.
struct Prologue {
    plant: Text,
    gen: Option<NaiveDateTime>,
    pre: Preamble,
}

fn prologue(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    profile: &Profile,
    layout: &Layout,
    found: &HeaderFound,
    resolved: &Resolved,
) -> Prologue {
    let rules = &layout.rules;
    let sn = Some(&sheet.name);
    let date_col = resolved.date_col;
    let header_row = found.row;
    let pre = preamble(sheet, found.top, date_col);
    let plant = plant_of(ctx, profile, layout, &pre, sn);
    let gen = if rules.generated_at_in_preamble {
        pre.generated_at
    } else {
        generated_at(sheet, layout)
    };
    // A report whose generation time is missing cannot say it is the
    // newest; a table never said so (version 1 stays silent).
    let wanted = rules.generated_at_in_preamble || layout.generated_at.is_some();
    if gen.is_none() && wanted && rules.rows_by_content {
        ctx.findings.push(
            qa::MISSING_VALUE
                .finding(
                    Severity::Info,
                    "The report's generation time is not in the preamble; its period end decides which report is newest.",
                )
                .plant(&plant)
                .at(CellRef::cell(sn, found.top.max(1), date_col)),
        );
    }
    if let Some((eff_col, eff_unit)) = resolved.fields.get(&Field::EffluentFlow).copied() {
        if !rules.similar_columns.is_empty() {
            let used: Vec<u32> = resolved.fields.values().map(|(c, _)| *c).collect();
            let last = found.end.saturating_sub(1).max(header_row);
            for (c, h) in found.headers.iter().enumerate() {
                let c = c as u32;
                let words: Vec<&str> = h.split([' ', '/']).collect();
                let similar = rules
                    .similar_columns
                    .iter()
                    .all(|w| words.contains(&w.as_str()));
                if !similar || c == date_col || used.contains(&c) {
                    continue;
                }
                ctx.findings.push(
                    qa::FILE_RECOGNISED
                        .finding(
                            Severity::Info,
                            format!(
                                "Column {} also holds a flow in {} ({}); the effluent flow is read from column {} ({}).",
                                col_letters(c),
                                eff_unit.as_str(),
                                clip(&header_words(sheet, c, header_row, last).join(" "), QUOTE_CHARS),
                                col_letters(eff_col),
                                label_of(layout, Field::EffluentFlow)
                            ),
                        )
                        .plant(&plant)
                        .at(sheet.at(header_row, c)),
                );
            }
        }
    }
    for f in &resolved.missing {
        let finding = if rules.missing_column_info {
            let label = label_of(layout, *f);
            qa::MISSING_COLUMN.finding(Severity::Info, format!("No {label} column; left blank."))
        } else {
            qa::MISSING_COLUMN.finding(
                Severity::Warning,
                format!(
                    "The profile's {} matches no column; it is left blank. Column headers found: {}",
                    f.as_str(),
                    listed(&found.headers)
                ),
            )
        };
        ctx.findings
            .push(finding.plant(&plant).at(CellRef::row(sn, header_row + 1)));
    }
    Prologue { plant, gen, pre }
}

/// A field's value on a day row read.
fn value_of(o: &OpsRow, f: Field) -> Option<f64> {
    match f {
        Field::EffluentFlow => o.actual_eff_flow_mgd,
        Field::InfluentFlow => o.actual_inf_flow_mgd,
        Field::MaxEffluentFlow => o.max_eff_flow_mgd,
        Field::MinEffluentFlow => o.min_eff_flow_mgd,
        Field::BypassFlow => o.bypass_flow_mgd,
        Field::BypassHours => o.bypass_hours_per_day,
        Field::Precipitation => o.precip_in,
    }
}

/// `empty_column = "info"` (version 2): each column blank on every day.
fn empty_columns(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    layout: &Layout,
    found: &HeaderFound,
    resolved: &Resolved,
    plant: &Text,
    ops: &[OpsRow],
) {
    if !layout.rules.empty_column_info || ops.is_empty() {
        return;
    }
    for (f, (c, _)) in &resolved.fields {
        if ops.iter().all(|o| value_of(o, *f).is_none()) {
            ctx.findings.push(
                qa::EMPTY_COLUMN
                    .finding(
                        Severity::Info,
                        format!(
                            "Column {} ({}) is blank for every day of this file.",
                            col_letters(*c),
                            label_of(layout, *f)
                        ),
                    )
                    .plant(plant)
                    .at(sheet.at(found.row, *c)),
            );
        }
    }
}

/// The report period (`period_from`, version 2): its sources in order,
/// the days' span (`days`) last when not listed.
fn period(
    name: &str,
    sheet: &Sheet,
    layout: &Layout,
    found: &HeaderFound,
    resolved: &Resolved,
    pre: &Preamble,
    days: Option<(NaiveDate, NaiveDate)>,
) -> Option<(NaiveDate, NaiveDate)> {
    let sources = &layout.rules.period_from;
    let days_listed = sources.contains(&PeriodFrom::Days);
    sources
        .iter()
        .chain((!days_listed).then_some(&PeriodFrom::Days))
        .find_map(|source| match source {
            PeriodFrom::DateHeader => parse_date_range(&sheet.text(found.row, resolved.date_col)),
            PeriodFrom::FileNameMonth => names::month_period(name),
            PeriodFrom::FileNameRange => names::report_period(name),
            PeriodFrom::Days => days,
            PeriodFrom::PreambleMonth => pre.month.map(|m| (m, month_end(m))),
        })
}

/// A layout with `rows = "by_content"` (version 2): the rules of a
/// printed report rather than of a table. A row is a day when its date
/// cell holds a date; any other row is told apart by what it holds
/// (`sheet_rows::classify`), and one nothing explains is reported. Values
/// are read as `numbers` says, checked for range, and a day keeps its row
/// even when its date is implausible (the finding says so).
#[allow(clippy::too_many_arguments)]
fn read_by_content(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    layout: &Layout,
    found: &HeaderFound,
    resolved: &Resolved,
    sheet_ref: Option<&Text>,
    is_row: &dyn Fn(u32) -> bool,
    pro: Prologue,
) -> Parsed {
    let rules = &layout.rules;
    let sn = sheet_ref;
    let date_col = resolved.date_col;
    let Prologue { plant, gen, pre } = pro;
    let data_start = found.end;
    for r in 0..data_start.min(sheet.rows()) {
        if is_row(r) {
            let reason = if r < found.top {
                SkipReason::Preamble
            } else {
                SkipReason::Header
            };
            ctx.account.skip(sn, r + 1, reason);
        }
    }
    let stored = match rules.numbers {
        Some(Numbers::Text) => sheet_rows::Stored::AsText,
        _ => sheet_rows::Stored::AsNumbers,
    };
    let labels: BTreeMap<Field, String> = resolved
        .fields
        .keys()
        .map(|f| (*f, label_of(layout, *f)))
        .collect();
    let eff = resolved.fields.get(&Field::EffluentFlow).copied();
    let eff_col = eff.map(|(c, _)| c);
    // MGD rows leave the m³ to the CO2 chain, as the former Plant A and B
    // importers did: its multiplication is the one the results were audited
    // with (and sensitivity.csv scales the MGD before it).
    let eff_unit = eff.map(|(_, u)| u).filter(|u| *u != Unit::Mgd);
    let has_influent = resolved.fields.contains_key(&Field::InfluentFlow);
    let shared = RowShared {
        sheet: ctx.intern(&sheet.name),
        eff_col,
        has_influent,
        flow_unit: eff_unit,
    };
    let mut ops = Vec::new();
    let (mut first, mut last): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    for row in data_start..sheet.rows() {
        if !is_row(row) {
            continue;
        }
        let line = row + 1;
        let Some(date) = sheet.datetime(row, date_col).map(|t| t.date()) else {
            let reason = sheet_rows::classify(sheet, row, date_col).or_else(|| {
                let lead = sheet
                    .filled(row)
                    .next()
                    .map(|c| norm_text(sheet, row, c))
                    .unwrap_or_default();
                layout
                    .skip_rows_starting_with
                    .iter()
                    .any(|p| lead.starts_with(p.as_str()))
                    .then_some(SkipReason::Summary)
            });
            match reason {
                Some(reason) => ctx.account.skip(sn, line, reason),
                None => {
                    ctx.account.skip(sn, line, SkipReason::Unrecognised);
                    let label = sheet.text(row, date_col);
                    ctx.findings.row(
                        qa::UNRECOGNISED_ROW
                            .finding(
                                Severity::Warning,
                                if label.trim().is_empty() {
                                    "Row has values but no date in the date column; skipped.".to_string()
                                } else {
                                    format!("'{}' in the date column is not a date (expected M/D/YYYY); row skipped.", clip(label.trim(), QUOTE_CHARS))
                                },
                            )
                            .plant(&plant)
                            .at(sheet.at(row, date_col)),
                    );
                }
            }
            continue;
        };
        let mut values: BTreeMap<Field, Option<f64>> = BTreeMap::new();
        for (f, (c, _)) in &resolved.fields {
            let what = labels.get(f).map_or("", |l| l.as_str());
            let v = sheet_rows::number_cell(ctx, sheet, row, *c, &plant, date, what, stored);
            values.insert(*f, v);
        }
        let get = |f: Field| values.get(&f).copied().flatten();
        let (hlo, hhi) = ctx.config.ranges.bypass_hours;
        for (f, v) in &values {
            let Some(v) = *v else { continue };
            let hours = *f == Field::BypassHours;
            if (hours && !(hlo..=hhi).contains(&v)) || (!hours && v < 0.0) {
                let range = if hours {
                    format!("{hlo}–{hhi} h")
                } else {
                    ">= 0".to_string()
                };
                let col = resolved.fields.get(f).map_or(0, |(c, _)| *c);
                ctx.findings.row(
                    qa::OUT_OF_RANGE
                        .finding(
                            Severity::Warning,
                            format!(
                                "{} {v} is outside {range}.",
                                labels.get(f).map_or("", |l| l.as_str())
                            ),
                        )
                        .plant(&plant)
                        .on(date)
                        .at(sheet.at(row, col)),
                );
            }
        }
        if let Some(g) = gen.filter(|g| date > g.date()) {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!(
                            "Day {date} is after the report's generation time {}.",
                            g.format("%Y-%m-%d %H:%M")
                        ),
                    )
                    .plant(&plant)
                    .on(date)
                    .at(sheet.at(row, date_col)),
            );
        }
        if date < ctx.config.ranges.earliest_date {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!("Date {date} is before {}.", ctx.config.ranges.earliest_date),
                    )
                    .plant(&plant)
                    .on(date)
                    .at(sheet.at(row, date_col)),
            );
        }
        if get(Field::EffluentFlow).is_none() {
            ctx.findings.row(
                qa::MISSING_VALUE
                    .finding(Severity::Warning, "Effluent flow is blank for this day.")
                    .plant(&plant)
                    .on(date)
                    .at(sheet.at(row, eff_col.unwrap_or(0))),
            );
        }
        first = Some(first.map_or(date, |f| f.min(date)));
        last = Some(last.map_or(date, |l| l.max(date)));
        let unit = |f: Field| resolved.fields.get(&f).map_or(Unit::Mgd, |(_, u)| *u);
        ops.push(shared.row(&plant, date, line, |f| get(f).map(|v| (v, unit(f)))));
        ctx.account.record(sn, line);
    }
    empty_columns(ctx, sheet, layout, found, resolved, &plant, &ops);
    let period = period(
        &ctx.name,
        sheet,
        layout,
        found,
        resolved,
        &pre,
        first.zip(last),
    );
    Parsed {
        kind: kind_of(layout),
        plant_id: Some(plant),
        period,
        generated_at: gen,
        records: Records {
            ops,
            ..Records::default()
        },
    }
}

/// A CSV as one sheet named after the file (without its extension), all
/// cells text (so never an Excel serial), and which rows are lines of
/// their own.
pub fn csv_sheet(file_name: &str, utf8: &[u8], delimiter: u8) -> (Sheet, Vec<bool>, u64) {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(s, _)| s)
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name);
    let mut cells = Vec::new();
    let mut is_row: Vec<bool> = Vec::new();
    let mut lines_in_fields = 0u64;
    let mark = |line: u32, own: bool, is_row: &mut Vec<bool>| {
        let i = line.saturating_sub(1) as usize;
        if is_row.len() <= i {
            is_row.resize(i + 1, false);
        }
        if let Some(x) = is_row.get_mut(i) {
            *x = own;
        }
    };
    delimited::walk(utf8, delimiter, |row| match row {
        delimited::Row::Blank { line, count } => {
            for l in line..line.saturating_add(count) {
                mark(l, true, &mut is_row);
            }
        }
        delimited::Row::Record {
            line,
            lines,
            record,
        } => {
            mark(line, true, &mut is_row);
            lines_in_fields += u64::from(lines.saturating_sub(1));
            for (c, field) in record.iter().enumerate() {
                let t = String::from_utf8_lossy(field);
                if !t.trim().is_empty() {
                    cells.push((
                        line.saturating_sub(1),
                        c as u32,
                        Cell::Text(Rc::from(t.as_ref())),
                    ));
                }
            }
        }
        delimited::Row::RunawayQuote { .. } => {}
    });
    (Sheet::new(stem, cells, false), is_row, lines_in_fields)
}

/// A proposed profile for a file no profile reads (PROFILES.md "Proposing
/// a profile"), with what it reads from that file: the preview.
#[derive(Debug)]
pub struct Suggestion {
    pub profile: Profile,
    /// The file read with the proposed profile: its first days
    /// (`records.ops`), row account and findings.
    pub preview: super::FileImport,
    /// Every column header of the proposed header row, for a choice list.
    pub headers: Vec<String>,
}

/// Propose a profile for a file's bytes, or say why none can be.
pub fn suggest(
    name: &str,
    bytes: &[u8],
    config: &crate::config::Config,
) -> Result<Suggestion, FileError> {
    let sheets = open_sheets(name, bytes, config)?;
    let (sheet, found) = sheets
        .iter()
        .find_map(|s| propose_header(s).map(|f| (s, f)))
        .ok_or_else(|| {
            FileError::new(FileErrorKind::ProfileLayout {
                detail: "no row among the first 50 of any sheet has both a date-like header (date, day) and a flow-like header (flow); write the profile by hand".into(),
            })
        })?;
    let profile = propose(name, sheet, &found);
    let preview = check(&profile, name, bytes, config);
    Ok(Suggestion {
        profile,
        preview,
        headers: found.headers,
    })
}

/// A file read with this profile alone in force (beside the built-ins).
pub fn check(
    profile: &Profile,
    name: &str,
    bytes: &[u8],
    config: &crate::config::Config,
) -> super::FileImport {
    let mut cfg = config.clone();
    cfg.profiles = vec![profile.clone()];
    let mut f = super::import_file(name, bytes, &cfg);
    f.sha256 = crate::pipeline::sha256_hex(bytes);
    f
}

pub(crate) fn open_sheets(
    name: &str,
    bytes: &[u8],
    config: &crate::config::Config,
) -> Result<Vec<Sheet>, FileError> {
    if super::workbook::is_zip(bytes) || super::workbook::is_ole(bytes) {
        return Ok(super::workbook::open(bytes, &config.limits)?.sheets);
    }
    if bytes.len() as u64 > config.limits.max_file_bytes {
        return Err(FileError::new(FileErrorKind::TooLarge {
            what: format!("the file ({} bytes)", bytes.len()),
            limit: config.limits.max_file_bytes,
        }));
    }
    let (utf8, _) = crate::text::decode(bytes);
    let utf8 = crate::text::normalize_lone_cr(utf8);
    let delimiter = crate::text::sniff_delimiter(&utf8);
    Ok(vec![csv_sheet(name, &utf8, delimiter).0])
}

fn is_date_header(h: &str) -> bool {
    h.split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "date" || w == "day")
}

fn is_flow_header(h: &str) -> bool {
    h.contains("flow")
}

/// The first row with a date-like and a flow-like header, one row deep.
pub(crate) fn propose_header(sheet: &Sheet) -> Option<HeaderFound> {
    let fits = |hs: &[String]| {
        hs.iter().any(|h| is_date_header(h)) && hs.iter().any(|h| is_flow_header(h))
    };
    let rows = 0..sheet.rows().min(HEADER_SEARCH_ROWS);
    // A row that says date and flow by itself, with the label rows under
    // it (units) ...
    if let Some(r) = rows.clone().find(|r| fits(&headers(sheet, *r, 1))) {
        return Some(block_at(sheet, r));
    }
    // ... else a header split over rows: the lowest start of a block of
    // labels that together say date and flow (a title above stays out).
    let mut r = rows
        .clone()
        .find(|r| fits(&headers(sheet, *r, header_block(sheet, *r))))?;
    while rows.contains(&(r + 1)) && {
        let n = header_block(sheet, r + 1);
        n > 1 && fits(&headers(sheet, r + 1, n))
    } {
        r += 1;
    }
    Some(block_at(sheet, r))
}

/// The header block starting at `row`, its height by [`header_block`].
pub(crate) fn block_at(sheet: &Sheet, row: u32) -> HeaderFound {
    HeaderFound::fixed(sheet, row, header_block(sheet, row))
}

/// The most header rows a proposal or the mapping view makes (the profile
/// format takes 20).
pub const MAX_HEADER_ROWS: u32 = 10;

/// How many rows from `row` down are column headers: the row itself and
/// the rows after it up to the first day row (a date in some cell), when
/// each of them holds only labels (text that is no number and no date).
/// Without a day row close below, one row: a file of text alone is no
/// header block.
pub(crate) fn header_block(s: &Sheet, row: u32) -> u32 {
    let label = |r: u32, c: u32| {
        let t = s.text(r, c);
        let t = t.trim();
        matches!(s.get(r, c), crate::import::workbook::Cell::Text(_))
            && s.datetime(r, c).is_none()
            && t.replace(',', "").parse::<f64>().is_err()
    };
    for n in 1..=MAX_HEADER_ROWS {
        let r = row.saturating_add(n);
        if s.filled(r).any(|c| s.datetime(r, c).is_some()) {
            return n;
        }
        if n == MAX_HEADER_ROWS || s.row_is_blank(r) || !s.filled(r).all(|c| label(r, c)) {
            break;
        }
    }
    1
}

fn has_word(h: &str, w: &str) -> bool {
    h.split(|c: char| !c.is_alphanumeric()).any(|x| x == w)
}

/// The unit a header names, for a field.
pub(crate) fn unit_in(h: &str, field: Field) -> Unit {
    match field {
        Field::BypassHours => Unit::Hours,
        Field::Precipitation => {
            if has_word(h, "mm") {
                Unit::Mm
            } else {
                Unit::Inch
            }
        }
        _ => {
            if h.contains("m3/d") || h.contains("m³/d") {
                Unit::M3PerDay
            } else if h.contains("ml/d") {
                Unit::MlPerDay
            } else {
                Unit::Mgd
            }
        }
    }
}

/// Which field a column header suggests, if any.
fn field_of(h: &str) -> Option<Field> {
    let eff = h.contains("effluent") || h.contains("final") || has_word(h, "eff");
    let peak = has_word(h, "max") || has_word(h, "maximum") || has_word(h, "peak");
    let low = has_word(h, "min") || has_word(h, "minimum");
    if h.contains("bypass") {
        let hours = h.contains("hour") || h.contains("hrs");
        return Some(if hours {
            Field::BypassHours
        } else {
            Field::BypassFlow
        });
    }
    if h.contains("rain") || h.contains("precip") {
        return Some(Field::Precipitation);
    }
    if h.contains("influent") && h.contains("flow") {
        return Some(Field::InfluentFlow);
    }
    if eff && h.contains("flow") {
        return Some(if peak {
            Field::MaxEffluentFlow
        } else if low {
            Field::MinEffluentFlow
        } else {
            Field::EffluentFlow
        });
    }
    None
}

pub(crate) fn propose(name: &str, sheet: &Sheet, found: &HeaderFound) -> Profile {
    use crate::profile::Column;
    let plant_id = super::names::plant_token(name).unwrap_or_else(|| "NEW_PLANT".to_string());
    let date_col = found
        .headers
        .iter()
        .position(|h| is_date_header(h))
        .unwrap_or(0) as u32;
    // A header names its own column when no column to its left contains
    // it too; otherwise the column letter does.
    let place_of = |col: u32| -> Place {
        let h = found.headers.get(col as usize).cloned().unwrap_or_default();
        if !h.is_empty() && locate(&Place::Header(h.clone()), &found.headers) == Some(col) {
            Place::Header(h)
        } else {
            Place::Column(col)
        }
    };
    let mut columns = BTreeMap::new();
    for (c, h) in found.headers.iter().enumerate() {
        if let Some(f) = field_of(h) {
            columns.entry(f).or_insert(Column {
                place: place_of(c as u32),
                unit: unit_in(h, f),
                label: None,
                group: None,
            });
        }
    }
    let mut skip: Vec<String> = Vec::new();
    let mut text_dates = Vec::new();
    let rows = found.end.saturating_sub(found.row).max(1);
    for r in found.row.saturating_add(rows)..sheet.rows() {
        if sheet.row_is_blank(r) {
            continue;
        }
        let is_day = match date_cell(sheet, r, date_col, None) {
            DateCell::Day(_) => true,
            DateCell::Unreadable(t) => {
                let day_first = text_date(&t, Some("%d/%m/%Y")).is_some();
                if day_first {
                    text_dates.push(t);
                }
                day_first
            }
            DateCell::Blank => false,
        };
        if !is_day {
            if let Some(c) = sheet.filled(r).next() {
                let lead = norm_text(sheet, r, c);
                let word = lead
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(':')
                    .to_string();
                let texty = word.chars().any(|ch| ch.is_alphabetic());
                if texty && !skip.contains(&word) {
                    skip.push(word);
                }
            }
        }
    }
    // Day-first text dates show themselves by a first part above 12.
    let date_format = (!text_dates.is_empty()).then(|| "%d/%m/%Y".to_string());
    // The header row is found by its own texts (PROFILES.md), so a block's
    // search strings are its top row's.
    let top = if rows > 1 {
        headers(sheet, found.row, 1)
    } else {
        found.headers.clone()
    };
    let eff_col = found
        .headers
        .iter()
        .position(|h| field_of(h) == Some(Field::EffluentFlow));
    let header_contains: Vec<String> = [Some(date_col as usize), eff_col]
        .into_iter()
        .flatten()
        .filter_map(|c| top.get(c).filter(|h| !h.is_empty()).cloned())
        .collect();
    Profile {
        source: name.to_string(),
        plant_id: plant_id.clone(),
        plant_name: None,
        lab: None,
        meter_uncertainty_percent: None,
        operations: vec![crate::profile::Layout {
            name: "operations".into(),
            file_name: super::names::plant_token(name).map(|p| format!("{p}*")),
            sheet: None,
            header_contains,
            header_rows: rows,
            skip_rows_starting_with: skip,
            date: place_of(date_col),
            date_format,
            generated_at: None,
            columns,
            rules: crate::profile::Rules::default(),
        }],
        version: 1,
    }
}

/// What every operations row read from one sheet shares.
struct RowShared {
    sheet: Text,
    eff_col: Option<u32>,
    has_influent: bool,
    /// The unit of the effluent flow column, where the row keeps its m³/d
    /// (version 2 leaves MGD rows' m³ to the CO2 chain).
    flow_unit: Option<Unit>,
}

impl RowShared {
    /// One day's row from `value` (a field's number and its column's
    /// unit), asked for the fields in one fixed order: a reader that
    /// reports unreadable cells reports them in that order.
    fn row(
        &self,
        plant: &Text,
        date: NaiveDate,
        line: u32,
        mut value: impl FnMut(Field) -> Option<(f64, Unit)>,
    ) -> OpsRow {
        let mgd = |x: Option<(f64, Unit)>| x.map(|(v, u)| flow(v, u).0);
        let eff = value(Field::EffluentFlow);
        OpsRow {
            plant_id: plant.clone(),
            date,
            actual_eff_flow_mgd: mgd(eff),
            actual_inf_flow_mgd: mgd(value(Field::InfluentFlow)),
            has_influent_column: self.has_influent,
            max_eff_flow_mgd: mgd(value(Field::MaxEffluentFlow)),
            min_eff_flow_mgd: mgd(value(Field::MinEffluentFlow)),
            bypass_flow_mgd: mgd(value(Field::BypassFlow)),
            bypass_hours_per_day: value(Field::BypassHours).map(|(v, _)| v),
            precip_in: value(Field::Precipitation).map(|(v, u)| match u {
                Unit::Mm => v / MM_PER_INCH,
                _ => v,
            }),
            file: UNNUMBERED,
            sheet: self.sheet.clone(),
            row: line,
            eff_flow_col: self.eff_col,
            flow_unit: self.flow_unit,
            actual_eff_flow_m3_per_day: self.flow_unit.and_then(|u| eff.map(|(v, _)| flow(v, u).1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in Plant A layout picks each field from Plant A's
    /// multi-line headers by the whole header: the tag `50050` alone names
    /// both effluent and bypass flow (formerly the hand-written reader's
    /// own header rules).
    #[test]
    fn plant_a_headers_are_matched_whole() {
        let profiles = crate::profile::builtins();
        let Some(layout) = profiles
            .iter()
            .find(|p| p.plant_id == "PLANT_A")
            .and_then(|p| p.operations.first())
        else {
            panic!("no built-in Plant A layout");
        };
        let headers: Vec<String> = [
            "OPERATOR DATA\nDaily\n4/1/2025 - 4/30/2025",
            "Weather\n00021\nAIR TEMP deg F\nDegrees F\nDaily",
            "Aeration\n40010\nAIR FLOW SCFM\nSCFM\nDaily",
            "Bypass\n50050\nFLOW MGD\nMGD\nDaily",
            "Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily",
            "Max Effluent Flow\n50047\nFLOW MAX MGD\nMGD\nDaily",
            "Min Effluent Flow\n50048\nFLOW MIN MGD\nMGD\nDaily",
            "Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily",
            "Weather\nPRECIP TOT DAY\nInches/Day\nDaily",
            "",
        ]
        .iter()
        .map(|h| normalise(h))
        .collect();
        let col = |f: Field| {
            layout
                .columns
                .get(&f)
                .and_then(|c| locate(&c.place, &headers))
        };
        assert_eq!(locate(&layout.date, &headers), Some(0));
        assert_eq!(col(Field::BypassFlow), Some(3));
        assert_eq!(col(Field::EffluentFlow), Some(4));
        assert_eq!(col(Field::MaxEffluentFlow), Some(5));
        assert_eq!(col(Field::MinEffluentFlow), Some(6));
        assert_eq!(col(Field::BypassHours), Some(7));
        assert_eq!(col(Field::Precipitation), Some(8));
        let found = HeaderFound {
            row: 0,
            headers,
            top: 0,
            end: 1,
            groups: Vec::new(),
        };
        let r = resolve(layout, &found).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.missing.is_empty());
        assert!(!r.fields.values().any(|(c, _)| *c == 1 || *c == 2));
    }
}
