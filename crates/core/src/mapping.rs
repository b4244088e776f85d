//! The app's mapping view, computed (PROFILES.md "Proposing a profile"):
//! a file no profile reads, seen as a header row whose columns a plant
//! engineer assigns to fields, and what a profile made of those choices
//! reads from it. The page only shows a [`MappingView`] and sends back a
//! [`Mapping`]; the choices become a real [`Profile`] here, are written as
//! TOML and parsed back, so what the user saves is exactly what
//! `crew-mrv profile check` accepts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{FileError, FileErrorKind};
use crate::import::profile_reader::{self, HeaderFound};
use crate::import::workbook::Sheet;
use crate::import::FileImport;
use crate::model::{col_letters, OpsRow};
use crate::profile::{self, Column, Field, Layout, Place, Profile, Unit};

/// How many days the preview lists.
pub const PREVIEW_DAYS: usize = 10;
/// How many findings the preview lists.
pub const PREVIEW_FINDINGS: usize = 20;

pub use crate::import::profile_reader::MAX_HEADER_ROWS;

/// The date formats the view offers besides the default `M/D/YYYY`
/// (ISO dates are always read).
pub const DATE_FORMATS: [&str; 4] = ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d"];

/// The user's choices for one field: a column of the header row (0-based)
/// or none, and the unit it is in; `None`: the unit its header names (a
/// column just picked), which the view's answer fills in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChoice {
    pub field: Field,
    pub column: Option<u32>,
    pub unit: Option<Unit>,
}

/// Every choice the mapping view offers. Empty texts mean "not given".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub plant_id: String,
    pub plant_name: String,
    /// The layout's `file_name` glob.
    pub file_name: String,
    /// The sheet read (a CSV's one sheet is named after the file).
    pub sheet: String,
    /// 1-based, as the spreadsheet shows it.
    pub header_row: u32,
    /// How many rows from `header_row` down make the column headers
    /// (PROFILES.md `header_rows`: a header block, texts joined).
    pub header_rows: u32,
    pub date_column: u32,
    /// A `date_format` for dates stored as text; empty: `M/D/YYYY`.
    pub date_format: String,
    /// One per field, in [`Field::ALL`]'s order.
    pub fields: Vec<FieldChoice>,
    /// `skip_rows_starting_with`.
    pub summary_rows: Vec<String>,
}

/// One day the profile would read, its flows in the unit they were read in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreviewDay {
    pub date: NaiveDate,
    /// The sheet row (1-based).
    pub row: u32,
    /// The value of each field in [`MappingView::shown`], as read.
    pub values: Vec<Option<f64>>,
    pub effluent_m3_per_day: Option<f64>,
}

/// What the mapping view shows: the choices, the headers to choose from,
/// and what a profile of those choices reads from the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappingView {
    pub file: String,
    pub sha256: String,
    pub sheets: Vec<String>,
    /// The header row's column headers (index = column), as found.
    pub headers: Vec<String>,
    pub mapping: Mapping,
    /// The profile as TOML; `None` while the choices make no valid profile.
    pub toml: Option<String>,
    /// Why the choices make no profile, or why the file is not read.
    pub problems: Vec<String>,
    /// The fields with a column, with their unit, as the preview's columns.
    pub shown: Vec<(Field, Unit)>,
    pub days: Vec<PreviewDay>,
    pub days_read: usize,
    /// `rows = records + skipped`, and the skipped rows by reason.
    pub account: String,
    pub skipped: Vec<(String, u64)>,
    /// `level 3 unparseable_value: … (sheet 'Log' row 9 column C)`.
    pub findings: Vec<String>,
}

impl MappingView {
    /// A column's name as the view lists it: `C: final effluent flow`.
    pub fn column_label(&self, col: u32) -> String {
        let h = self.headers.get(col as usize).map_or("", String::as_str);
        if h.is_empty() {
            format!("{} (no header)", col_letters(col))
        } else {
            format!("{}: {h}", col_letters(col))
        }
    }
}

/// The value of a flow (given in MGD and, for the effluent, m³/day) in the
/// unit it was read in, and a precipitation in inches in its unit.
pub fn in_unit(mgd_or_in: f64, unit: Unit) -> f64 {
    use crate::method::co2::M3_PER_MG;
    match unit {
        Unit::M3PerDay => mgd_or_in * M3_PER_MG,
        Unit::MlPerDay => mgd_or_in * M3_PER_MG / 1000.0,
        Unit::Mm => mgd_or_in * 25.4,
        _ => mgd_or_in,
    }
}

fn sheets_of(name: &str, bytes: &[u8], config: &Config) -> Result<Vec<Sheet>, FileError> {
    profile_reader::open_sheets(name, bytes, config)
}

/// The proposal for a file: in `sheet` (by name) at 1-based `header_row`
/// when given, else where PROFILES.md's proposal finds a header.
pub fn propose(
    name: &str,
    bytes: &[u8],
    config: &Config,
    sheet: Option<&str>,
    header_row: Option<u32>,
) -> Result<MappingView, FileError> {
    let sheets = sheets_of(name, bytes, config)?;
    let pick = |s: &&Sheet| sheet.is_none_or(|n| *s.name == *n);
    let found = sheets.iter().filter(pick).find_map(|s| {
        let f = match header_row {
            Some(r) if r >= 1 => Some(profile_reader::block_at(s, r - 1)),
            _ => profile_reader::propose_header(s),
        };
        f.map(|f| (s, f))
    });
    // Headers the proposal does not recognise still open the view, at the
    // first row with two filled cells, for the user to move.
    let found = found.or_else(|| {
        sheets.iter().filter(pick).find_map(|s| {
            let row = (0..s.rows().min(profile_reader::HEADER_SEARCH_ROWS))
                .find(|r| s.filled(*r).nth(1).is_some())?;
            Some((s, profile_reader::block_at(s, row)))
        })
    });
    let Some((s, found)) = found else {
        return Err(FileError::new(FileErrorKind::ProfileLayout {
            detail: "no row among the first 50 of any sheet has two filled cells to read as column headers; write the profile by hand".into(),
        }));
    };
    let p = profile_reader::propose(name, s, &found);
    let mut mapping = to_mapping(&p, s, &found);
    mapping.header_rows = found.end.saturating_sub(found.row).max(1);
    Ok(view(name, bytes, config, &sheets, mapping))
}

/// What the user's choices read from the file.
pub fn check(name: &str, bytes: &[u8], config: &Config, mapping: &Mapping) -> MappingView {
    match sheets_of(name, bytes, config) {
        Ok(sheets) => view(name, bytes, config, &sheets, mapping.clone()),
        Err(e) => MappingView {
            file: name.to_string(),
            sha256: crate::pipeline::sha256_hex(bytes),
            sheets: Vec::new(),
            headers: Vec::new(),
            mapping: mapping.clone(),
            toml: None,
            problems: vec![e.to_string()],
            shown: Vec::new(),
            days: Vec::new(),
            days_read: 0,
            account: String::new(),
            skipped: Vec::new(),
            findings: Vec::new(),
        },
    }
}

fn to_mapping(p: &Profile, sheet: &Sheet, found: &HeaderFound) -> Mapping {
    let l = p.operations.first();
    let col = |place: &Place| profile_reader::locate(place, &found.headers);
    let fields = Field::ALL
        .into_iter()
        .map(|field| {
            let c = l.and_then(|l| l.columns.get(&field));
            FieldChoice {
                field,
                column: c.and_then(|c| col(&c.place)),
                unit: Some(c.map_or_else(|| default_unit(field), |c| c.unit)),
            }
        })
        .collect();
    Mapping {
        plant_id: p.plant_id.clone(),
        plant_name: p.plant_name.clone().unwrap_or_default(),
        file_name: l.and_then(|l| l.file_name.clone()).unwrap_or_default(),
        sheet: sheet.name.to_string(),
        header_row: found.row + 1,
        header_rows: 1,
        date_column: l.and_then(|l| col(&l.date)).unwrap_or(0),
        date_format: l.and_then(|l| l.date_format.clone()).unwrap_or_default(),
        fields,
        summary_rows: l
            .map(|l| l.skip_rows_starting_with.clone())
            .unwrap_or_default(),
    }
}

/// The unit a field takes when its header names none.
pub fn default_unit(field: Field) -> Unit {
    match field {
        Field::BypassHours => Unit::Hours,
        Field::Precipitation => Unit::Inch,
        _ => Unit::Mgd,
    }
}

fn unit_named(headers: &[String], col: u32, field: Field) -> Unit {
    let h = headers.get(col as usize).map_or("", String::as_str);
    profile_reader::unit_in(h, field)
}

/// A column's place in the profile: its header text when that finds this
/// very column (the leftmost one containing it), else its letter.
fn place_of(col: u32, headers: &[String]) -> Place {
    let h = headers.get(col as usize).cloned().unwrap_or_default();
    if !h.is_empty() && profile_reader::locate(&Place::Header(h.clone()), headers) == Some(col) {
        Place::Header(h)
    } else {
        Place::Column(col)
    }
}

/// The profile the choices describe (not yet checked: [`view`] writes it
/// and parses it back).
pub fn to_profile(m: &Mapping, headers: &[String], many_sheets: bool, is_csv: bool) -> Profile {
    let header_of = |c: u32| headers.get(c as usize).cloned().unwrap_or_default();
    let eff = m
        .fields
        .iter()
        .find(|f| f.field == Field::EffluentFlow)
        .and_then(|f| f.column);
    let header_contains: Vec<String> = std::iter::once(m.date_column)
        .chain(eff)
        .map(header_of)
        .filter(|h| !h.is_empty())
        .collect();
    let columns = m
        .fields
        .iter()
        .filter_map(|f| {
            f.column.map(|c| {
                (
                    f.field,
                    Column {
                        place: place_of(c, headers),
                        unit: f.unit.unwrap_or_else(|| unit_named(headers, c, f.field)),
                        label: None,
                        group: None,
                    },
                )
            })
        })
        .collect();
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Profile {
        // The app writes the format of PROFILES.md (version 1).
        version: 1,
        source: "mapping".into(),
        plant_id: m.plant_id.trim().to_string(),
        plant_name: text(&m.plant_name),
        lab: None,
        meter_uncertainty_percent: None,
        operations: vec![Layout {
            name: "operations".into(),
            file_name: text(&m.file_name),
            // A CSV's sheet is named after its file, which changes from
            // month to month; a lone sheet needs no name either.
            sheet: (many_sheets && !is_csv).then(|| m.sheet.clone()),
            header_contains,
            header_rows: m.header_rows.clamp(1, MAX_HEADER_ROWS),
            skip_rows_starting_with: m
                .summary_rows
                .iter()
                .map(|s| profile::normalise(s))
                .filter(|s| !s.is_empty())
                .collect(),
            date: place_of(m.date_column, headers),
            date_format: text(&m.date_format),
            generated_at: None,
            columns,
            rules: profile::Rules::default(),
        }],
    }
}

fn view(
    name: &str,
    bytes: &[u8],
    config: &Config,
    sheets: &[Sheet],
    mut mapping: Mapping,
) -> MappingView {
    let sheet = sheets
        .iter()
        .find(|s| *s.name == *mapping.sheet)
        .or(sheets.first());
    if let Some(s) = sheet {
        mapping.sheet = s.name.to_string();
    }
    mapping.header_row = mapping.header_row.max(1);
    mapping.header_rows = mapping.header_rows.clamp(1, MAX_HEADER_ROWS);
    let headers = sheet
        .map(|s| profile_reader::headers(s, mapping.header_row - 1, mapping.header_rows))
        .unwrap_or_default();
    for f in &mut mapping.fields {
        if f.unit.is_none() {
            f.unit = Some(match f.column {
                Some(c) => unit_named(&headers, c, f.field),
                None => default_unit(f.field),
            });
        }
    }
    let is_csv =
        !(crate::import::workbook::is_zip(bytes) || crate::import::workbook::is_ole(bytes));
    let mut p = to_profile(&mapping, &headers, sheets.len() > 1, is_csv);
    // The header row is found by texts of that row alone (PROFILES.md), so
    // a block's search strings are its top row's.
    if mapping.header_rows > 1 {
        if let (Some(s), Some(l)) = (sheet, p.operations.first_mut()) {
            let top = profile_reader::headers(s, mapping.header_row - 1, 1);
            let eff = mapping
                .fields
                .iter()
                .find(|f| f.field == Field::EffluentFlow)
                .and_then(|f| f.column);
            l.header_contains = std::iter::once(mapping.date_column)
                .chain(eff)
                .filter_map(|c| top.get(c as usize).filter(|h| !h.is_empty()).cloned())
                .collect();
        }
    }
    let text = profile::to_toml(&p);
    let file_label = format!("{}-profile.toml", p.plant_id);
    let mut out = MappingView {
        file: name.to_string(),
        sha256: crate::pipeline::sha256_hex(bytes),
        sheets: sheets.iter().map(|s| s.name.to_string()).collect(),
        headers,
        shown: p
            .operations
            .iter()
            .flat_map(|l| l.columns.iter().map(|(f, c)| (*f, c.unit)))
            .collect(),
        mapping,
        toml: None,
        problems: Vec::new(),
        days: Vec::new(),
        days_read: 0,
        account: String::new(),
        skipped: Vec::new(),
        findings: Vec::new(),
    };
    let parsed = match profile::parse(&file_label, &text) {
        Ok(parsed) => parsed,
        Err(errors) => {
            out.problems = errors.iter().map(|e| e.message.clone()).collect();
            return out;
        }
    };
    let read = profile_reader::check(&parsed, name, bytes, config);
    preview(&mut out, &read);
    if read.error.is_none() && read.profile.is_some() {
        out.toml = Some(text);
    }
    out
}

fn preview(out: &mut MappingView, read: &FileImport) {
    if let Some(e) = &read.error {
        out.problems.push(e.to_string());
    } else if read.profile.is_none() {
        out.problems.push(format!(
            "These choices do not read this file (it is read as {}).",
            read.kind.map_or("nothing", |k| k.describe())
        ));
    }
    out.days_read = read.records.ops.len();
    out.days = read
        .records
        .ops
        .iter()
        .take(PREVIEW_DAYS)
        .map(|o| PreviewDay {
            date: o.date,
            row: o.row,
            values: out.shown.iter().map(|(f, u)| as_read(o, *f, *u)).collect(),
            effluent_m3_per_day: o.actual_eff_flow_m3_per_day,
        })
        .collect();
    out.account = read.account.summary_line();
    out.skipped = read
        .account
        .by_reason()
        .into_iter()
        .map(|(r, n)| (r.describe().to_string(), n))
        .collect();
    out.findings = read
        .findings
        .iter()
        .take(PREVIEW_FINDINGS)
        .map(|f| {
            let at = f.at.to_string();
            format!(
                "level {} {}: {}{}",
                f.level,
                f.check,
                f.message,
                if at.is_empty() {
                    String::new()
                } else {
                    format!(" ({at})")
                }
            )
        })
        .collect();
}

/// A field of a read day in the unit it was read in.
fn as_read(o: &OpsRow, f: Field, u: Unit) -> Option<f64> {
    let v = match f {
        Field::EffluentFlow => {
            return match (u, o.actual_eff_flow_m3_per_day) {
                (Unit::M3PerDay, Some(m3)) => Some(m3),
                (Unit::MlPerDay, Some(m3)) => Some(m3 / 1000.0),
                _ => o.actual_eff_flow_mgd,
            }
        }
        Field::InfluentFlow => o.actual_inf_flow_mgd,
        Field::MaxEffluentFlow => o.max_eff_flow_mgd,
        Field::MinEffluentFlow => o.min_eff_flow_mgd,
        Field::BypassFlow => o.bypass_flow_mgd,
        Field::BypassHours => return o.bypass_hours_per_day,
        Field::Precipitation => o.precip_in,
    };
    v.map(|v| in_unit(v, u))
}
