//! Plant A operator workbooks (FORMATS.md §3): one sheet a month, one row
//! per day, a one-row header whose cells hold several lines (name, tag,
//! measurement, unit, frequency), dates and numbers stored as text, and
//! Sum/Avg/... trailer rows. The plant id is only in the file name.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::workbook::Sheet;
use super::{names, sheet_rows, Ctx, FileKind, Parsed, Records, SkipReason, UNNUMBERED};
use crate::error::FileError;
use crate::model::{CellRef, OpsRow, Severity, Text};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};
use crate::timestamp::parse_date_range;

pub const SHEET_NAME: &str = "OPERATOR DATA";
/// The plant this layout belongs to, used when the file name lost it.
const LAYOUT_PLANT: &str = "PLANT_A";

/// The columns this importer reads, by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    EffFlow,
    MaxEffFlow,
    MinEffFlow,
    BypassFlow,
    BypassHours,
    Precip,
}

impl Field {
    fn describe(self) -> &'static str {
        match self {
            Field::EffFlow => "effluent flow (Plnt Ef FLOW MGD)",
            Field::MaxEffFlow => "max effluent flow",
            Field::MinEffFlow => "min effluent flow",
            Field::BypassFlow => "bypass flow (MGD)",
            Field::BypassHours => "bypass hours (HRS/DAY)",
            Field::Precip => "precipitation (PRECIP TOT DAY)",
        }
    }
}

/// Where things are on the sheet.
#[derive(Clone, Debug)]
pub struct Layout {
    header_row: u32,
    date_col: u32,
    cols: BTreeMap<Field, u32>,
}

/// What a multi-line header cell means, judged on the whole header (the
/// tag `50050` alone names both effluent and bypass flow).
fn field_of(header: &str) -> Option<Field> {
    let lines: Vec<String> = header
        .split('\n')
        .map(|l| l.trim().to_ascii_uppercase())
        .filter(|l| !l.is_empty())
        .collect();
    let name = lines.first()?.as_str();
    let all = lines.join(" ");
    let has = |w: &str| all.contains(w);
    let flow_mgd = has("FLOW") && has("MGD");
    if name.starts_with("BYPASS") {
        if has("HRS") || has("HOURS") {
            return Some(Field::BypassHours);
        }
        if has("MGD") {
            return Some(Field::BypassFlow);
        }
        return None;
    }
    if has("PRECIP") {
        return Some(Field::Precip);
    }
    let effluent = name.starts_with("PLNT EF")
        || name.starts_with("PLANT EF")
        || name.contains("EFFLUENT FLOW")
        || name == "EFF FLOW";
    if effluent && flow_mgd {
        if has("MAX") {
            return Some(Field::MaxEffFlow);
        }
        if has("MIN") {
            return Some(Field::MinEffFlow);
        }
        return Some(Field::EffFlow);
    }
    None
}

/// Recognise the layout: a header row (among the first ten) with an
/// effluent-flow column, and a date column (`OPERATOR DATA …` or `Date`).
pub fn detect(sheet: &Sheet) -> Option<Layout> {
    for row in 0..sheet.rows().min(10) {
        let mut cols = BTreeMap::new();
        let mut date_col = None;
        for c in sheet.filled(row) {
            let text = sheet.text(row, c);
            let first = text
                .split('\n')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase();
            if date_col.is_none() && (first.starts_with("OPERATOR DATA") || first == "DATE") {
                date_col = Some(c);
                continue;
            }
            if let Some(f) = field_of(&text) {
                cols.entry(f).or_insert(c);
            }
        }
        if cols.contains_key(&Field::EffFlow) {
            return Some(Layout {
                header_row: row,
                date_col: date_col.unwrap_or(0),
                cols,
            });
        }
    }
    None
}

pub fn read(ctx: &mut Ctx<'_>, sheet: &Sheet, layout: Layout) -> Result<Parsed, FileError> {
    let sheet_name = sheet.name.clone();
    let sn = Some(&sheet_name);
    let plant_id: Text = match names::plant_token(&ctx.name) {
        Some(p) => ctx.intern(&p),
        None => {
            ctx.findings.push(
                qa::PLANT_MISMATCH
                    .finding(
                        Severity::Warning,
                        format!(
                            "The file name carries no plant id (Plant A workbooks name it only there, e.g. PLANT_A-OPS DATA-APR25.xlsx); {LAYOUT_PLANT} was assumed from the layout."
                        ),
                    )
                    .at(CellRef::default()),
            );
            ctx.intern(LAYOUT_PLANT)
        }
    };
    let header_period = parse_date_range(&sheet.text(layout.header_row, layout.date_col));
    let name_period = names::month_period(&ctx.name);
    for f in [
        Field::MaxEffFlow,
        Field::MinEffFlow,
        Field::BypassFlow,
        Field::BypassHours,
        Field::Precip,
    ] {
        if !layout.cols.contains_key(&f) {
            ctx.findings.push(
                qa::MISSING_COLUMN
                    .finding(
                        Severity::Info,
                        format!("No {} column; left blank.", f.describe()),
                    )
                    .plant(&plant_id)
                    .at(CellRef::row(sn, layout.header_row + 1)),
            );
        }
    }
    if layout.header_row > 0 {
        ctx.account
            .skip_rows(sn, 1, layout.header_row, SkipReason::Preamble);
    }
    ctx.account
        .skip(sn, layout.header_row + 1, SkipReason::Header);

    let mut ops = Vec::new();
    let mut seen_values: BTreeMap<Field, bool> = BTreeMap::new();
    let (mut first, mut last): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    for row in layout.header_row + 1..sheet.rows() {
        let excel_row = row + 1;
        let date = sheet.datetime(row, layout.date_col).map(|t| t.date());
        let Some(date) = date else {
            match sheet_rows::classify(sheet, row, layout.date_col) {
                Some(reason) => ctx.account.skip(sn, excel_row, reason),
                None => {
                    ctx.account.skip(sn, excel_row, SkipReason::Unrecognised);
                    let label = sheet.text(row, layout.date_col);
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
                            .plant(&plant_id)
                            .at(sheet.at(row, layout.date_col)),
                    );
                }
            }
            continue;
        };
        let mut values: BTreeMap<Field, Option<f64>> = BTreeMap::new();
        for (&f, &c) in &layout.cols {
            let v = sheet_rows::number_cell(
                ctx,
                sheet,
                row,
                c,
                &plant_id,
                date,
                f.describe(),
                sheet_rows::Stored::AsText,
            );
            if v.is_some() {
                seen_values.insert(f, true);
            }
            values.insert(f, v);
        }
        let get = |f: Field| values.get(&f).copied().flatten();
        check_ranges(ctx, sheet, &layout, row, &plant_id, date, &values);
        if date < ctx.config.ranges.earliest_date {
            ctx.findings.row(
                qa::IMPLAUSIBLE_DATE
                    .finding(
                        Severity::Warning,
                        format!("Date {date} is before {}.", ctx.config.ranges.earliest_date),
                    )
                    .plant(&plant_id)
                    .on(date)
                    .at(sheet.at(row, layout.date_col)),
            );
        }
        if get(Field::EffFlow).is_none() {
            ctx.findings.row(
                qa::MISSING_VALUE
                    .finding(Severity::Warning, "Effluent flow is blank for this day.")
                    .plant(&plant_id)
                    .on(date)
                    .at(sheet.at(row, layout.cols.get(&Field::EffFlow).copied().unwrap_or(0))),
            );
        }
        first = Some(first.map_or(date, |f| f.min(date)));
        last = Some(last.map_or(date, |l| l.max(date)));
        ops.push(OpsRow {
            plant_id: plant_id.clone(),
            date,
            actual_eff_flow_mgd: get(Field::EffFlow),
            actual_inf_flow_mgd: None,
            has_influent_column: false,
            max_eff_flow_mgd: get(Field::MaxEffFlow),
            min_eff_flow_mgd: get(Field::MinEffFlow),
            bypass_flow_mgd: get(Field::BypassFlow),
            bypass_hours_per_day: get(Field::BypassHours),
            precip_in: get(Field::Precip),
            file: UNNUMBERED,
            sheet: sheet_name.clone(),
            row: excel_row,
            eff_flow_col: layout.cols.get(&Field::EffFlow).copied(),
            flow_unit: None,
            actual_eff_flow_m3_per_day: None,
        });
        ctx.account.record(sn, excel_row);
    }
    if !ops.is_empty() {
        for (&f, &c) in &layout.cols {
            if !seen_values.contains_key(&f) {
                ctx.findings.push(
                    qa::EMPTY_COLUMN
                        .finding(
                            Severity::Info,
                            format!(
                                "Column {} ({}) is blank for every day of this file.",
                                crate::model::col_letters(c),
                                f.describe()
                            ),
                        )
                        .plant(&plant_id)
                        .at(sheet.at(layout.header_row, c)),
                );
            }
        }
    }
    let period = header_period.or(name_period).or(first.zip(last));
    Ok(Parsed {
        kind: FileKind::PlantAOps,
        plant_id: Some(plant_id),
        period,
        generated_at: None,
        records: Records {
            ops,
            ..Records::default()
        },
    })
}

fn check_ranges(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    layout: &Layout,
    row: u32,
    plant: &Text,
    date: NaiveDate,
    values: &BTreeMap<Field, Option<f64>>,
) {
    let (hlo, hhi) = ctx.config.ranges.bypass_hours;
    for (&f, v) in values {
        let Some(v) = *v else { continue };
        let bad = match f {
            Field::BypassHours => !(hlo..=hhi).contains(&v),
            Field::Precip => v < 0.0,
            _ => v < 0.0,
        };
        if bad {
            let range = if f == Field::BypassHours {
                format!("{hlo}–{hhi} h")
            } else {
                ">= 0".to_string()
            };
            ctx.findings.row(
                qa::OUT_OF_RANGE
                    .finding(
                        Severity::Warning,
                        format!("{} {v} is outside {range}.", f.describe()),
                    )
                    .plant(plant)
                    .on(date)
                    .at(sheet.at(row, layout.cols.get(&f).copied().unwrap_or(0))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_matched_whole() {
        assert_eq!(
            field_of("Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily"),
            Some(Field::EffFlow)
        );
        assert_eq!(
            field_of("Bypass\n50050\nFLOW MGD\nMGD\nDaily"),
            Some(Field::BypassFlow)
        );
        assert_eq!(
            field_of("Max Effluent Flow\n50047\nFLOW MAX MGD\nMGD\nDaily"),
            Some(Field::MaxEffFlow)
        );
        assert_eq!(
            field_of("Min Effluent Flow\n50048\nFLOW MIN MGD\nMGD\nDaily"),
            Some(Field::MinEffFlow)
        );
        assert_eq!(
            field_of("Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily"),
            Some(Field::BypassHours)
        );
        assert_eq!(
            field_of("Weather\nPRECIP TOT DAY\nInches/Day\nDaily"),
            Some(Field::Precip)
        );
        assert_eq!(
            field_of("Weather\n00021\nAIR TEMP deg F\nDegrees F\nDaily"),
            None
        );
        assert_eq!(
            field_of("Aeration\n40010\nAIR FLOW SCFM\nSCFM\nDaily"),
            None
        );
        assert_eq!(field_of(""), None);
    }
}
