//! Plant B monthly operating reports (FORMATS.md §4): a preamble (plant id,
//! month, generation time), a seven-row header block found by content,
//! one row per day with formula dates and flows (only cached values are
//! used), then summary rows, footnotes and a closing row of tag codes.

use chrono::{NaiveDate, NaiveDateTime};

use super::workbook::Sheet;
use super::{names, sheet_rows, Ctx, FileKind, Parsed, Records, SkipReason, UNNUMBERED};
use crate::error::FileError;
use crate::model::{CellRef, OpsRow, Severity, Text};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};
use crate::timestamp::{parse_datetime, parse_month_year};

pub const SHEET_NAME: &str = "SHT-S1 DMR SUM";
const LAYOUT_PLANT: &str = "PLANT_B";
/// How far down the `DATE` header cell is looked for.
const HEADER_SEARCH_ROWS: u32 = 60;

/// Where things are on the sheet (0-based rows).
#[derive(Clone, Debug)]
pub struct Layout {
    /// First row of the header block (the group labels).
    header_top: u32,
    /// The row whose column A says `DATE`.
    date_row: u32,
    /// Last header row (the units).
    header_bottom: u32,
    eff_col: u32,
    inf_col: Option<u32>,
    /// Other effluent-flow-like columns passed over (reported).
    decoys: Vec<u32>,
}

/// Upper-case tokens of a column's header cells from `from` to `to`.
fn tokens(sheet: &Sheet, col: u32, from: u32, to: u32) -> Vec<String> {
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

/// The group label over a column: the nearest label at or left of it in
/// the group row (labels are written once over a group's first column).
fn group_of(sheet: &Sheet, row: u32, col: u32) -> String {
    (0..=col)
        .rev()
        .map(|c| sheet.text(row, c))
        .find(|t| !t.trim().is_empty())
        .map(|t| t.trim().to_ascii_uppercase())
        .unwrap_or_default()
}

pub fn detect(sheet: &Sheet) -> Option<Layout> {
    let date_row = (0..sheet.rows().min(HEADER_SEARCH_ROWS))
        .find(|r| sheet.text(*r, 0).trim().eq_ignore_ascii_case("DATE"))?;
    // Up: header rows carry labels beyond column A; preamble rows do not.
    let mut header_top = date_row;
    while header_top > 0 && sheet.filled(header_top - 1).any(|c| c > 0) {
        header_top -= 1;
    }
    // Down: everything before the first day row (blank rows included) is
    // header, up to the usual seven rows in all.
    let mut header_bottom = date_row;
    let limit = (header_top + 8).min(sheet.rows().saturating_sub(1));
    while header_bottom < limit && sheet.datetime(header_bottom + 1, 0).is_none() {
        header_bottom += 1;
    }
    let mut eff = Vec::new();
    let mut inf = Vec::new();
    for col in 1..sheet.cols() {
        let t = tokens(sheet, col, date_row, header_bottom);
        let has = |w: &str| t.iter().any(|x| x == w);
        if !(has("FLOW") && has("MGD")) {
            continue;
        }
        if has("EFF") {
            eff.push(col);
        } else if has("INF") {
            inf.push(col);
        }
    }
    // Prefer the column under the EFFLUENT group; the decoy FNEQ/Final
    // flow never has the EFF token, but a second EFF FLOW might.
    let eff_col = eff
        .iter()
        .copied()
        .find(|c| group_of(sheet, header_top, *c).contains("EFFLUENT"))
        .or_else(|| eff.first().copied())?;
    let inf_col = inf
        .iter()
        .copied()
        .find(|c| group_of(sheet, header_top, *c).contains("INFLUENT"))
        .or_else(|| inf.first().copied());
    let decoys = (1..sheet.cols())
        .filter(|c| *c != eff_col && Some(*c) != inf_col)
        .filter(|c| {
            let t = tokens(sheet, *c, date_row, header_bottom);
            t.iter().any(|x| x == "FLOW") && t.iter().any(|x| x == "MGD")
        })
        .collect();
    Some(Layout {
        header_top,
        date_row,
        header_bottom,
        eff_col,
        inf_col,
        decoys,
    })
}

/// Plant id, report month and generation time from the preamble.
struct Preamble {
    plant: Option<(String, u32)>,
    month: Option<NaiveDate>,
    generated_at: Option<(NaiveDateTime, u32)>,
}

fn preamble(sheet: &Sheet, header_top: u32) -> Preamble {
    let mut p = Preamble {
        plant: None,
        month: None,
        generated_at: None,
    };
    for r in 0..header_top {
        let text = sheet.text(r, 0);
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        if p.generated_at.is_none() && t.contains(':') {
            if let Some(dt) = parse_datetime(t) {
                p.generated_at = Some((dt, r));
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

pub fn read(ctx: &mut Ctx<'_>, sheet: &Sheet, layout: Layout) -> Result<Parsed, FileError> {
    let sheet_name = sheet.name.clone();
    let sn = Some(&sheet_name);
    let pre = preamble(sheet, layout.header_top);
    let name_plant = names::plant_token(&ctx.name);
    let plant_id: Text = match (&pre.plant, &name_plant) {
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
                    .at(CellRef::cell(sn, row + 1, 0)),
            );
            ctx.intern(p)
        }
        (Some((p, _)), _) => ctx.intern(p),
        (None, Some(n)) => ctx.intern(n),
        (None, None) => {
            ctx.findings.push(qa::PLANT_MISMATCH.finding(
                Severity::Warning,
                format!("Neither the sheet preamble nor the file name names the plant; {LAYOUT_PLANT} was assumed from the layout."),
            ));
            ctx.intern(LAYOUT_PLANT)
        }
    };
    let generated_at = pre.generated_at.map(|(t, _)| t);
    if generated_at.is_none() {
        ctx.findings.push(
            qa::MISSING_VALUE
                .finding(
                    Severity::Info,
                    "The report's generation time is not in the preamble; its period end decides which report is newest.",
                )
                .plant(&plant_id)
                .at(CellRef::cell(sn, 4, 0)),
        );
    }
    for &c in &layout.decoys {
        ctx.findings.push(
            qa::FILE_RECOGNISED
                .finding(
                    Severity::Info,
                    format!(
                        "Column {} also holds a flow in MGD ({}); the effluent flow is read from column {} (EFF FLOW MGD).",
                        crate::model::col_letters(c),
                        clip(
                            &tokens(sheet, c, layout.date_row, layout.header_bottom).join(" "),
                            QUOTE_CHARS
                        ),
                        crate::model::col_letters(layout.eff_col)
                    ),
                )
                .plant(&plant_id)
                .at(sheet.at(layout.date_row, c)),
        );
    }
    if layout.inf_col.is_none() {
        ctx.findings.push(
            qa::MISSING_COLUMN
                .finding(Severity::Warning, "No influent flow column (INF FLOW MGD): a 0 effluent flow cannot be told from a placeholder, so it is treated as one.")
                .plant(&plant_id)
                .at(CellRef::row(sn, layout.date_row + 1)),
        );
    }
    if layout.header_top > 0 {
        ctx.account
            .skip_rows(sn, 1, layout.header_top, SkipReason::Preamble);
    }
    ctx.account.skip_rows(
        sn,
        layout.header_top + 1,
        layout.header_bottom + 1,
        SkipReason::Header,
    );

    let mut ops = Vec::new();
    let (mut first, mut last): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    for row in layout.header_bottom + 1..sheet.rows() {
        let excel_row = row + 1;
        let Some(date) = sheet.datetime(row, 0).map(|t| t.date()) else {
            match sheet_rows::classify(sheet, row, 0) {
                Some(reason) => ctx.account.skip(sn, excel_row, reason),
                None => {
                    ctx.account.skip(sn, excel_row, SkipReason::Unrecognised);
                    ctx.findings.row(
                        qa::UNRECOGNISED_ROW
                            .finding(
                                Severity::Warning,
                                format!(
                                    "Row fits no part of the report layout (column A: '{}'); skipped.",
                                    clip(sheet.text(row, 0).trim(), QUOTE_CHARS)
                                ),
                            )
                            .plant(&plant_id)
                            .at(sheet.at(row, 0)),
                    );
                }
            }
            continue;
        };
        let flow = |ctx: &mut Ctx<'_>, col: u32, what: &str| {
            let stored = sheet_rows::Stored::AsNumbers;
            sheet_rows::number_cell(ctx, sheet, row, col, &plant_id, date, what, stored)
        };
        let eff = flow(ctx, layout.eff_col, "Effluent flow (MGD)");
        let inf = layout
            .inf_col
            .and_then(|c| flow(ctx, c, "Influent flow (MGD)"));
        if let Some(g) = generated_at {
            if date > g.date() {
                ctx.findings.row(
                    qa::IMPLAUSIBLE_DATE
                        .finding(
                            Severity::Warning,
                            format!(
                                "Day {date} is after the report's generation time {}.",
                                g.format("%Y-%m-%d %H:%M")
                            ),
                        )
                        .plant(&plant_id)
                        .on(date)
                        .at(sheet.at(row, 0)),
                );
            }
        }
        if date < ctx.config.ranges.earliest_date {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!("Day {date} is before {}.", ctx.config.ranges.earliest_date),
                    )
                    .plant(&plant_id)
                    .on(date)
                    .at(sheet.at(row, 0)),
            );
        }
        for (v, c, what) in [
            (eff, Some(layout.eff_col), "Effluent"),
            (inf, layout.inf_col, "Influent"),
        ] {
            if let (Some(v), Some(c)) = (v, c) {
                if v < 0.0 {
                    ctx.findings.row(
                        qa::OUT_OF_RANGE
                            .finding(
                                Severity::Warning,
                                format!("{what} flow {v} MGD is negative."),
                            )
                            .plant(&plant_id)
                            .on(date)
                            .at(sheet.at(row, c)),
                    );
                }
            }
        }
        first = Some(first.map_or(date, |f| f.min(date)));
        last = Some(last.map_or(date, |l| l.max(date)));
        ops.push(OpsRow {
            plant_id: plant_id.clone(),
            date,
            actual_eff_flow_mgd: eff,
            actual_inf_flow_mgd: inf,
            has_influent_column: layout.inf_col.is_some(),
            max_eff_flow_mgd: None,
            min_eff_flow_mgd: None,
            bypass_flow_mgd: None,
            bypass_hours_per_day: None,
            precip_in: None,
            file: UNNUMBERED,
            sheet: sheet_name.clone(),
            row: excel_row,
            eff_flow_col: Some(layout.eff_col),
            flow_unit: None,
            actual_eff_flow_m3_per_day: None,
        });
        ctx.account.record(sn, excel_row);
    }
    let period = names::report_period(&ctx.name)
        .or(first.zip(last))
        .or(pre.month.map(|m| (m, crate::timestamp::month_end(m))));
    Ok(Parsed {
        kind: FileKind::PlantBReport,
        plant_id: Some(plant_id),
        period,
        generated_at,
        records: Records {
            ops,
            ..Records::default()
        },
    })
}
