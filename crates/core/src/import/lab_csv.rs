//! Calcium lab results (FORMATS.md §1): one row per reported sample value.
//!
//! Every row becomes a `LabReading` or a skipped row. Repeated `unique_id`s
//! and replicates are kept as they are: collapsing them is the method's job
//! (METHOD §2), and it needs to see every row to report what it collapsed.

use chrono::NaiveDate;

use super::columns::{Header, MetadataBudget};
use super::day_order::DateReader;
use super::delimited::field;
use super::{Ctx, FileKind, Parsed, Records, SkipReason, UNNUMBERED};
use crate::error::FileError;
use crate::model::{CellRef, LabReading, Location, Severity, When};
use crate::number::{parse_num, Commas};
use crate::qa;
use crate::text::{clip, QUOTE_CHARS};

const KIND: &str = "calcium lab CSV";
const UNIQUE_ID: &[&str] = &["unique id", "sample id"];
const DATE: &[&str] = &["date", "sample date", "sampling date"];
const MEDIUM: &[&str] = &["medium"];
const REPLICATE: &[&str] = &["replicate num", "replicate"];
const PLANT: &[&str] = &["plant id", "plant"];
const UNIT_TYPE: &[&str] = &["unit type id", "unit type"];
const PARAMETER: &[&str] = &["parameter name", "parameter"];
const UNITS: &[&str] = &["units", "unit"];
const VALUE: &[&str] = &["value", "result"];
const UNCERTAINTY: &[&str] = &["uncertainty"];

/// A header that names a lab export: a sample id or parameter column and
/// at least three of the four required columns. One required column may be
/// missing, so that the file is reported as a lab export lacking that
/// column rather than as an unknown CSV.
pub fn is_header(h: &Header) -> bool {
    let required = [VALUE, PLANT, UNIT_TYPE, DATE]
        .iter()
        .filter(|a| h.has(a))
        .count();
    (h.has(UNIQUE_ID) || h.has(PARAMETER)) && required >= 3
}

struct Cols {
    unique_id: Option<usize>,
    date: usize,
    medium: Option<usize>,
    replicate: Option<usize>,
    plant: usize,
    unit_type: usize,
    parameter: Option<usize>,
    units: Option<usize>,
    value: usize,
    uncertainty: Option<usize>,
}

impl Cols {
    fn used(&self) -> [Option<usize>; 10] {
        [
            self.unique_id,
            Some(self.date),
            self.medium,
            self.replicate,
            Some(self.plant),
            Some(self.unit_type),
            self.parameter,
            self.units,
            Some(self.value),
            self.uncertainty,
        ]
    }
}

/// How a calcium value in its file's unit becomes mg/L.
enum CalciumUnit {
    MgPerL,
    /// The conversion (a division stays a division: `40000 µg/L` is
    /// exactly 40 mg/L) and how it reads in a finding.
    Scaled {
        to_mg: fn(f64) -> f64,
        how: &'static str,
    },
}

/// Calcium's molar mass, g/mol: 1 mmol/L is 40.078 mg/L.
const CALCIUM_MG_PER_MMOL: f64 = 40.078;

/// The units calcium is reported in, spelled as lab exports spell them
/// (`mg/L`, `mg/l`, `ppm`, `µg/L`, `ug/L`, `mmol/L`); `None` for any other.
fn calcium_factor(unit: &str) -> Option<CalciumUnit> {
    let u: String = unit
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'µ' | 'μ' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    match u.as_str() {
        "mg/l" => Some(CalciumUnit::MgPerL),
        "ppm" => Some(CalciumUnit::Scaled {
            to_mg: |v| v,
            how: "1 ppm is 1 mg/L in water",
        }),
        "mmol/l" => Some(CalciumUnit::Scaled {
            to_mg: |v| v * CALCIUM_MG_PER_MMOL,
            how: "× 40.078",
        }),
        "ug/l" => Some(CalciumUnit::Scaled {
            to_mg: |v| v / 1000.0,
            how: "÷ 1000",
        }),
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
        Ok::<_, FileError>(Cols {
            unique_id: header.find(UNIQUE_ID),
            date: header.required(DATE, KIND, "date", header_line)?,
            medium: header.find(MEDIUM),
            replicate: header.find(REPLICATE),
            plant: header.required(PLANT, KIND, "plant_id", header_line)?,
            unit_type: header.required(UNIT_TYPE, KIND, "unit_type_id", header_line)?,
            parameter: header.find(PARAMETER),
            units: header.find(UNITS),
            value: header.required(VALUE, KIND, "value", header_line)?,
            uncertainty: header.find(UNCERTAINTY),
        })
    })();
    let cols = super::or_reject(ctx, text, cols)?;
    for (aliases, name) in [
        (UNIQUE_ID, "unique_id (each row is then its own sample)"),
        (PARAMETER, "parameter_name (every row is taken as calcium)"),
        (UNITS, "units (mg/L assumed)"),
    ] {
        if !header.has(aliases) {
            ctx.findings
                .push(qa::MISSING_COLUMN.finding(Severity::Warning, format!("No column {name}.")));
        }
    }
    let commas = if delimiter == b',' {
        Commas::Thousands
    } else {
        Commas::Decimal
    };
    let used = cols.used();
    let mut lab = Vec::new();
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    let mut plants = std::collections::BTreeSet::new();
    let mut converted_units = std::collections::BTreeSet::new();
    let limits = ctx.config.limits.clone();
    let mut metadata = MetadataBudget::new(limits.max_metadata_bytes);
    let mut dates = DateReader::scan(ctx, text, delimiter, header_line, cols.date);
    super::walk_table_rows(
        ctx,
        text,
        delimiter,
        header_line,
        &header,
        |ctx, line, rec| {
            let at = |col: usize| CellRef::cell(None, line, col as u32);
            let plant = field(rec, Some(cols.plant));
            let unit_type = field(rec, Some(cols.unit_type));
            let date_text = field(rec, Some(cols.date));
            let Some(date) = dates.date(date_text, line) else {
                ctx.account.skip(None, line, SkipReason::UnparseableDate);
                let msg = if date_text.is_empty() {
                    "Sample date is blank; row skipped.".to_string()
                } else {
                    format!(
                        "Sample date '{}' is not a date (expected YYYY-MM-DD); row skipped.",
                        clip(date_text, QUOTE_CHARS)
                    )
                };
                ctx.findings.row(
                    qa::UNPARSEABLE_DATE
                        .finding(Severity::Warning, msg)
                        .at(at(cols.date)),
                );
                return;
            };
            if plant.is_empty() || unit_type.is_empty() {
                ctx.account.skip(None, line, SkipReason::MissingKey);
                let (col, what) = if plant.is_empty() {
                    (cols.plant, "plant_id")
                } else {
                    (cols.unit_type, "unit_type_id")
                };
                ctx.findings.row(
                    qa::MISSING_VALUE
                        .finding(Severity::Warning, format!("{what} is blank; row skipped."))
                        .on(date)
                        .at(at(col)),
                );
                return;
            }
            let plant_id = ctx.intern(plant);
            let value_text = field(rec, Some(cols.value));
            let value = match parse_num(value_text, commas) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    ctx.account.skip(None, line, SkipReason::MissingValue);
                    ctx.findings.row(
                        qa::MISSING_VALUE
                            .finding(Severity::Warning, "Lab value is blank; row skipped.")
                            .plant(&plant_id)
                            .on(date)
                            .at(at(cols.value)),
                    );
                    return;
                }
                Err(e) => {
                    ctx.account.skip(None, line, SkipReason::UnparseableValue);
                    ctx.findings.row(
                        qa::UNPARSEABLE_NUMBER
                            .finding(
                                Severity::Warning,
                                format!(
                                    "Lab value '{}' is {e}; row skipped.",
                                    clip(value_text, QUOTE_CHARS)
                                ),
                            )
                            .plant(&plant_id)
                            .on(date)
                            .at(at(cols.value)),
                    );
                    return;
                }
            };
            if value.below_detection || value.footnoted {
                ctx.findings.row(
                    qa::QUALIFIED_VALUE
                        .finding(
                            Severity::Warning,
                            format!(
                                "Lab value '{}' is qualified; its number {} is used.",
                                clip(value_text, QUOTE_CHARS),
                                value.value
                            ),
                        )
                        .plant(&plant_id)
                        .on(date)
                        .at(at(cols.value)),
                );
            }
            let uncertainty = match cols.uncertainty.map(|c| (c, field(rec, Some(c)))) {
                Some((c, t)) => match parse_num(t, commas) {
                    Ok(n) => n.map(|n| n.value),
                    Err(e) => {
                        ctx.findings.row(
                            qa::UNPARSEABLE_NUMBER
                                .finding(
                                    Severity::Warning,
                                    format!(
                                        "Uncertainty '{}' is {e}; left blank.",
                                        clip(t, QUOTE_CHARS)
                                    ),
                                )
                                .plant(&plant_id)
                                .on(date)
                                .at(at(c)),
                        );
                        None
                    }
                },
                None => None,
            };
            let parameter = match cols.parameter {
                Some(c) => {
                    let p = field(rec, Some(c));
                    if p.is_empty() {
                        "calcium".to_string()
                    } else {
                        p.to_ascii_lowercase()
                    }
                }
                None => "calcium".to_string(),
            };
            let unit = cols
                .units
                .map(|c| field(rec, Some(c)))
                .filter(|u| !u.is_empty())
                .unwrap_or("mg/L");
            // The method works in mg/L: a calcium value in another unit is
            // converted, or left out when its unit is unknown, never used
            // as if it were mg/L.
            let (value, uncertainty, unit) = if parameter != "calcium" {
                (value, uncertainty, unit)
            } else {
                match calcium_factor(unit) {
                    Some(CalciumUnit::MgPerL) => (value, uncertainty, unit),
                    Some(CalciumUnit::Scaled { to_mg, how }) => {
                        if converted_units.insert(unit.to_string()) {
                            ctx.findings.push(
                                qa::UNEXPECTED_UNIT
                                    .finding(
                                        Severity::Info,
                                        format!(
                                            "Calcium reported in '{}' is converted to mg/L ({how}).",
                                            clip(unit, QUOTE_CHARS)
                                        ),
                                    )
                                    .plant(&plant_id)
                                    .at(at(cols.units.unwrap_or(cols.value))),
                            );
                        }
                        let mut v = value;
                        v.value = to_mg(v.value);
                        (v, uncertainty.map(to_mg), "mg/L")
                    }
                    None => {
                        ctx.account.skip(None, line, SkipReason::UnknownUnit);
                        ctx.findings.row(
                            qa::UNEXPECTED_UNIT
                                .finding(
                                    Severity::Warning,
                                    format!(
                                        "Calcium reported in '{}', which cannot be converted to mg/L (known: mg/L, ppm, mmol/L, µg/L); row skipped.",
                                        clip(unit, QUOTE_CHARS)
                                    ),
                                )
                                .plant(&plant_id)
                                .on(date)
                                .at(at(cols.units.unwrap_or(cols.value))),
                        );
                        return;
                    }
                }
            };
            let (lo, hi) = ctx.config.ranges.calcium_mg_per_l;
            if parameter == "calcium" && !(lo..=hi).contains(&value.value) {
                ctx.findings.row(
                    qa::OUT_OF_RANGE
                        .finding(
                            Severity::Warning,
                            format!(
                                "Calcium {} mg/L is outside the plausible range {lo}–{hi} mg/L.",
                                value.value
                            ),
                        )
                        .plant(&plant_id)
                        .on(date)
                        .at(at(cols.value)),
                );
            }
            if date < ctx.config.ranges.earliest_date {
                ctx.findings.row(
                    qa::IMPLAUSIBLE_DATE
                        .finding(
                            Severity::Warning,
                            format!(
                                "Sample date {date} is before {}.",
                                ctx.config.ranges.earliest_date
                            ),
                        )
                        .plant(&plant_id)
                        .on(date)
                        .at(at(cols.date)),
                );
            }
            let location = ctx.config.location_at(&plant_id, unit_type);
            if location == Location::Other {
                ctx.findings.row(
                qa::UNKNOWN_LOCATION
                    .finding(
                        Severity::Info,
                        format!(
                            "Unit '{}' is neither upstream nor downstream in the settings; its readings are kept but not used for CO2.",
                            clip(unit_type, QUOTE_CHARS)
                        ),
                    )
                    .plant(&plant_id)
                    .on(date)
                    .at(at(cols.unit_type)),
            );
            }
            let replicate_num = cols.replicate.and_then(|c| {
                let t = field(rec, Some(c));
                t.parse::<u32>().ok().or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v < 1e9)
                        .map(|v| v as u32)
                })
            });
            let reading_id = match cols.unique_id.map(|c| field(rec, Some(c))) {
                Some(id) if !id.is_empty() => ctx.intern(id),
                _ => ctx.intern(&format!("{}#row{line}", ctx.name)),
            };
            let unit_id = ctx.intern(unit_type);
            let medium = ctx.intern(cols.medium.map(|c| field(rec, Some(c))).unwrap_or(""));
            let parameter_name = ctx.intern(&parameter);
            let unit = ctx.intern(unit);
            let metadata = match metadata.next(&header, rec, &used, line) {
                Some(m) => ctx.intern(&m),
                None => ctx.intern("{}"),
            };
            first = Some(first.map_or(date, |f| f.min(date)));
            last = Some(last.map_or(date, |l| l.max(date)));
            plants.insert(plant_id.clone());
            lab.push(LabReading {
                plant_id,
                plant_unit_id: unit_id,
                location,
                when: When::Day(date),
                parameter_name,
                medium,
                value: value.value,
                unit,
                uncertainty,
                reading_id,
                replicate_num,
                file: UNNUMBERED,
                row: line,
                metadata,
                value_col: u32::try_from(cols.value).ok(),
            });
            ctx.account.record(None, line);
        },
    );
    let date_name = header.raw.get(cols.date).cloned().unwrap_or_default();
    dates.report(ctx, &date_name);
    metadata.report(ctx);
    let plant_id = if plants.len() == 1 {
        plants.into_iter().next()
    } else {
        None
    };
    Ok(Parsed {
        kind: FileKind::CalciumLab,
        plant_id,
        period: first.zip(last),
        generated_at: None,
        records: Records {
            lab,
            ..Records::default()
        },
    })
}
