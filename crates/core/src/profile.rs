//! Plant profiles (PROFILES.md): the TOML that says how one plant's
//! operations files are laid out and how its lab names its sampling
//! points. This module owns the format: parsing with line numbers,
//! validation, the built-in profiles, and writing a profile back as TOML
//! (the proposal the CLI prints and the app downloads).
//!
//! The file is parsed to a spanned tree and every key is checked by hand
//! rather than through serde, so an unknown key, a wrong type and a bad
//! value each name the line a plant engineer has to fix.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The value of the `profile` key of a version 1 profile (PROFILES.md).
pub const PROFILE_V1: &str = "crew-mrv/plant-profile/1";
/// Version 2 (README "Plant profiles, format version 2"): version 1 plus
/// the keys that state the built-in plants' quirks. A version 1 profile
/// stays exactly as PROFILES.md says: a version 2 key in it is an unknown
/// key.
pub const PROFILE_V2: &str = "crew-mrv/plant-profile/2";

/// The built-in profiles, compiled in from `crates/core/profiles/`.
pub const BUILTIN_SOURCES: [(&str, &str); 2] = [
    ("PLANT_A", include_str!("../profiles/plant_a.toml")),
    ("PLANT_B", include_str!("../profiles/plant_b.toml")),
];

/// One plant's profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Where it came from: the file name, or `built-in` for the compiled ones.
    pub source: String,
    pub plant_id: String,
    pub plant_name: Option<String>,
    pub lab: Option<LabPoints>,
    pub meter_uncertainty_percent: Option<f64>,
    pub operations: Vec<Layout>,
    /// The format version it was written in (1 or 2).
    #[serde(default = "version_1")]
    pub version: u32,
}

fn version_1() -> u32 {
    1
}

/// `[lab]`: the `unit_type_id`s on each side of the dosing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabPoints {
    pub upstream: Vec<String>,
    pub downstream: Vec<String>,
}

/// One `[[operations]]` table: a layout of this plant's files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub name: String,
    pub file_name: Option<String>,
    pub sheet: Option<String>,
    pub header_contains: Vec<String>,
    pub header_rows: u32,
    pub skip_rows_starting_with: Vec<String>,
    pub date: Place,
    pub date_format: Option<String>,
    /// 0-based (row, column) of the generation-time cell.
    pub generated_at: Option<(u32, u32)>,
    pub columns: BTreeMap<Field, Column>,
    /// The version 2 keys; their defaults are version 1's behaviour.
    #[serde(default)]
    pub rules: Rules,
}

/// The version 2 keys of an `[[operations]]` table (README "Plant
/// profiles, format version 2"). `Rules::default()` is a version 1 layout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// `header_rows = "auto"`: the header block is found around the header
    /// row (see `profile_reader::find_header`).
    pub header_auto: bool,
    /// `header_cell`: the header row has a cell (in the date column, when
    /// that is a fixed column) whose whole normalised text is this.
    pub header_cell: Option<String>,
    /// `generated_at = { search = "preamble" }`: the first date-time text
    /// above the header block, in the date column.
    pub generated_at_in_preamble: bool,
    /// `similar_columns`: the words (all of them) that make another column
    /// look like the effluent flow; each such column is named in an info.
    pub similar_columns: Vec<String>,
    /// `kind`: the file kind `files.csv` names.
    pub kind: Option<OpsKind>,
    /// `prefer_sheet`: every sheet may be read; one whose name matches this
    /// glob is preferred over the others that match.
    pub prefer_sheet: Option<String>,
    /// `plant_id_from`: where each file names its plant.
    pub plant_id_from: Option<PlantIdFrom>,
    /// `period_from`: the report period's sources, tried in order before
    /// the days' span.
    pub period_from: Vec<PeriodFrom>,
    /// `rows = "by_content"`: non-day rows told apart by what they hold.
    pub rows_by_content: bool,
    /// `numbers`: how the day rows store their numbers.
    pub numbers: Option<Numbers>,
    /// `missing_column = "info"`: an optional field with no column is a
    /// level 2 info rather than a warning.
    pub missing_column_info: bool,
    /// `empty_column = "info"`: a column blank on every day is reported.
    pub empty_column_info: bool,
}

/// `kind`: the file kinds an operations layout may give its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpsKind {
    PlantOps,
    PlantAOps,
    PlantBReport,
}

impl OpsKind {
    pub const ALL: [OpsKind; 3] = [OpsKind::PlantOps, OpsKind::PlantAOps, OpsKind::PlantBReport];

    pub fn as_str(self) -> &'static str {
        match self {
            OpsKind::PlantOps => "plant_ops",
            OpsKind::PlantAOps => "plant_a_ops",
            OpsKind::PlantBReport => "plant_b_report",
        }
    }
}

/// `plant_id_from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlantIdFrom {
    /// A `PLANT_X` token in the file name.
    FileName,
    /// An identifier-like text above the header block (a `PLANT…` one
    /// first), else the file name's token.
    Preamble,
}

impl PlantIdFrom {
    pub const ALL: [PlantIdFrom; 2] = [PlantIdFrom::FileName, PlantIdFrom::Preamble];

    pub fn as_str(self) -> &'static str {
        match self {
            PlantIdFrom::FileName => "file_name",
            PlantIdFrom::Preamble => "preamble",
        }
    }
}

/// One source of `period_from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodFrom {
    /// A date range (`4/1/2025 - 4/30/2025`) in the date column's header.
    DateHeader,
    /// A month in the file name (`APR25`, `JUNE25`).
    FileNameMonth,
    /// Two dates in the file name (`03212025to04112025`).
    FileNameRange,
    /// The first to the last day row read.
    Days,
    /// A month (`April, 2025`) above the header block, in the date column.
    PreambleMonth,
}

impl PeriodFrom {
    pub const ALL: [PeriodFrom; 5] = [
        PeriodFrom::DateHeader,
        PeriodFrom::FileNameMonth,
        PeriodFrom::FileNameRange,
        PeriodFrom::Days,
        PeriodFrom::PreambleMonth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodFrom::DateHeader => "date_header",
            PeriodFrom::FileNameMonth => "file_name_month",
            PeriodFrom::FileNameRange => "file_name_range",
            PeriodFrom::Days => "days",
            PeriodFrom::PreambleMonth => "preamble_month",
        }
    }
}

/// `numbers`: how a by-content layout's day rows store numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Numbers {
    /// Every number is text; a qualified one (`<2`, `311*`) is used with a
    /// `qualified_value` warning.
    Text,
    /// Numbers are number cells; any text read as a number is reported.
    Cells,
}

impl Numbers {
    pub fn as_str(self) -> &'static str {
        match self {
            Numbers::Text => "text",
            Numbers::Cells => "cells",
        }
    }
}

/// Where a field is: a header substring or a fixed column (0-based).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Place {
    Header(String),
    Column(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub place: Place,
    pub unit: Unit,
    /// Version 2 `label`: the column's name in messages.
    #[serde(default)]
    pub label: Option<String>,
    /// Version 2 `group`: among the columns the header matches, the one
    /// under a group label containing this (normalised) text.
    #[serde(default)]
    pub group: Option<String>,
}

/// The fields of an operations row, in the order the format lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Field {
    EffluentFlow,
    InfluentFlow,
    MaxEffluentFlow,
    MinEffluentFlow,
    BypassFlow,
    BypassHours,
    Precipitation,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::EffluentFlow,
        Field::InfluentFlow,
        Field::MaxEffluentFlow,
        Field::MinEffluentFlow,
        Field::BypassFlow,
        Field::BypassHours,
        Field::Precipitation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::EffluentFlow => "effluent_flow",
            Field::InfluentFlow => "influent_flow",
            Field::MaxEffluentFlow => "max_effluent_flow",
            Field::MinEffluentFlow => "min_effluent_flow",
            Field::BypassFlow => "bypass_flow",
            Field::BypassHours => "bypass_hours",
            Field::Precipitation => "precipitation",
        }
    }

    fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }

    fn is_flow(self) -> bool {
        !matches!(self, Field::BypassHours | Field::Precipitation)
    }

    fn units(self) -> &'static str {
        match self {
            Field::BypassHours => "none, \"h\" or \"h/d\"",
            Field::Precipitation => "\"in\" or \"mm\"",
            _ => "\"MGD\", \"m3/d\", \"m³/d\" or \"ML/d\"",
        }
    }
}

/// A unit as PROFILES.md spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    Mgd,
    M3PerDay,
    MlPerDay,
    Inch,
    Mm,
    Hours,
}

impl Unit {
    /// As written in outputs (`flow_unit`) and profiles.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Mgd => "MGD",
            Unit::M3PerDay => "m3/d",
            Unit::MlPerDay => "ML/d",
            Unit::Inch => "in",
            Unit::Mm => "mm",
            Unit::Hours => "h",
        }
    }

    fn parse(field: Field, s: Option<&str>) -> Option<Unit> {
        match (field, s) {
            (Field::BypassHours, None | Some("h" | "h/d")) => Some(Unit::Hours),
            (Field::Precipitation, Some("in")) => Some(Unit::Inch),
            (Field::Precipitation, Some("mm")) => Some(Unit::Mm),
            (f, Some("MGD")) if f.is_flow() => Some(Unit::Mgd),
            (f, Some("m3/d" | "m³/d")) if f.is_flow() => Some(Unit::M3PerDay),
            (f, Some("ML/d")) if f.is_flow() => Some(Unit::MlPerDay),
            _ => None,
        }
    }
}

/// One thing wrong with a profile, at its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, line {}: {}", self.file, self.line, self.message)
    }
}

/// True when the text's first key is `profile` (comments and blank lines
/// may come first): how a profile is recognised among the inputs.
pub fn looks_like_profile(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    for line in bytes.split(|b| *b == b'\n') {
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        return t
            .strip_prefix(b"profile")
            .is_some_and(|rest| rest.trim_ascii_start().starts_with(b"="));
    }
    false
}

/// The built-in profiles, parsed. They are tested to parse; one that did
/// not would be left out rather than stop a run.
pub fn builtins() -> Vec<Profile> {
    BUILTIN_SOURCES
        .iter()
        .filter_map(|(id, text)| parse(&format!("built-in {id}"), text).ok())
        .map(|mut p| {
            p.source = "built-in".into();
            p
        })
        .collect()
}

/// The TOML text of a built-in profile, by plant id (case-insensitive).
pub fn builtin_text(plant_id: &str) -> Option<&'static str> {
    BUILTIN_SOURCES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(plant_id.trim()))
        .map(|(_, t)| *t)
}

/// Parse and check a profile; `file` names it in every error.
pub fn parse(file: &str, text: &str) -> Result<Profile, Vec<ProfileError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut c = Checker {
        file,
        text,
        errors: Vec::new(),
        version: 1,
    };
    let root = match DeTable::parse(text) {
        Ok(t) => t,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim().to_string();
            c.error(at, format!("not valid TOML: {msg}"));
            return Err(c.errors);
        }
    };
    if !looks_like_profile(text.as_bytes()) {
        c.error(
            0,
            format!("expected the first key to be profile = \"{PROFILE_V1}\""),
        );
    }
    let profile = c.top(root.get_ref());
    match profile {
        Some(p) if c.errors.is_empty() => Ok(p),
        _ => {
            if c.errors.is_empty() {
                c.error(0, "the profile could not be read".into());
            }
            c.errors.sort_by_key(|e| e.line);
            Err(c.errors)
        }
    }
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<ProfileError>,
    /// The format version the `profile` key names: which keys are known.
    version: u32,
}

type Table<'i> = DeTable<'i>;
type Val<'i> = Spanned<DeValue<'i>>;

impl Checker<'_> {
    fn line(&self, at: usize) -> u32 {
        let upto = self.text.get(..at).unwrap_or(self.text);
        upto.bytes().filter(|b| *b == b'\n').count() as u32 + 1
    }

    fn error(&mut self, at: usize, message: String) {
        let line = self.line(at);
        self.errors.push(ProfileError {
            file: self.file.to_string(),
            line,
            message,
        });
    }

    /// Every key of `t` must be one of `known`.
    fn keys(&mut self, t: &Table<'_>, at_table: &str, known: &[&str]) {
        for k in t.keys() {
            if !known.contains(&k.get_ref().as_ref()) {
                self.error(
                    k.span().start,
                    format!(
                        "unknown key '{}' in {at_table}; expected one of {}",
                        k.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn get<'t, 'i>(t: &'t Table<'i>, key: &str) -> Option<&'t Val<'i>> {
        t.iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    fn string(&mut self, v: &Val<'_>, what: &str) -> Option<String> {
        match v.get_ref().as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(
                    v.span().start,
                    format!(
                        "{what}: expected a string, found {}",
                        v.get_ref().type_str()
                    ),
                );
                None
            }
        }
    }

    fn opt_string(&mut self, t: &Table<'_>, key: &str, what: &str) -> Option<String> {
        let v = Self::get(t, key)?;
        self.string(v, what)
    }

    fn strings(&mut self, v: &Val<'_>, what: &str) -> Option<Vec<String>> {
        let Some(items) = v.get_ref().as_array() else {
            self.error(
                v.span().start,
                format!(
                    "{what}: expected an array of strings, found {}",
                    v.get_ref().type_str()
                ),
            );
            return None;
        };
        let mut out = Vec::new();
        for i in items.iter() {
            out.push(self.string(i, what)?);
        }
        Some(out)
    }

    fn table<'t, 'i>(&mut self, v: &'t Val<'i>, what: &str) -> Option<&'t Table<'i>> {
        let t = v.get_ref().as_table();
        if t.is_none() {
            self.error(
                v.span().start,
                format!("{what}: expected a table, found {}", v.get_ref().type_str()),
            );
        }
        t
    }

    fn number(&mut self, v: &Val<'_>, what: &str) -> Option<f64> {
        let n = match v.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => i.as_str().replace('_', "").parse().ok(),
            DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
            _ => None,
        };
        let n = n.filter(|n: &f64| n.is_finite());
        if n.is_none() {
            self.error(v.span().start, format!("{what}: expected a number"));
        }
        n
    }

    fn top(&mut self, root: &Table<'_>) -> Option<Profile> {
        self.keys(
            root,
            "the profile",
            &[
                "profile",
                "plant_id",
                "plant_name",
                "lab",
                "flow",
                "operations",
            ],
        );
        match Self::get(root, "profile") {
            None => self.error(0, format!("missing key profile = \"{PROFILE_V1}\"")),
            Some(v) => {
                if let Some(s) = self.string(v, "profile") {
                    if s == PROFILE_V2 {
                        self.version = 2;
                    } else if s != PROFILE_V1 {
                        self.error(
                            v.span().start,
                            format!("profile: expected \"{PROFILE_V1}\" or \"{PROFILE_V2}\", found \"{s}\""),
                        );
                    }
                }
            }
        }
        let plant_id = match Self::get(root, "plant_id") {
            None => {
                self.error(0, "missing key plant_id (such as \"PLANT_C\")".into());
                None
            }
            Some(v) => {
                let s = self.string(v, "plant_id");
                if let Some(s) = &s {
                    if s.is_empty()
                        || !s
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    {
                        self.error(
                            v.span().start,
                            format!("plant_id: expected upper-case letters, digits and _ (as in the lab files), found \"{s}\""),
                        );
                    }
                }
                s
            }
        };
        let plant_name = self.opt_string(root, "plant_name", "plant_name");
        let lab = Self::get(root, "lab").and_then(|v| self.lab(v));
        let meter = Self::get(root, "flow").and_then(|v| {
            let t = self.table(v, "[flow]")?;
            self.keys(t, "[flow]", &["meter_uncertainty_percent"]);
            let v = Self::get(t, "meter_uncertainty_percent")?;
            let n = self.number(v, "meter_uncertainty_percent")?;
            if n < 0.0 {
                self.error(
                    v.span().start,
                    "meter_uncertainty_percent: expected a number of 0 or more".into(),
                );
            }
            Some(n)
        });
        let mut operations = Vec::new();
        if let Some(v) = Self::get(root, "operations") {
            match v.get_ref().as_array() {
                Some(items) => {
                    for item in items.iter() {
                        if let Some(l) = self.layout(item) {
                            operations.push(l);
                        }
                    }
                }
                None => self.error(
                    v.span().start,
                    "operations: expected [[operations]] tables".into(),
                ),
            }
        }
        let mut names: Vec<&str> = Vec::new();
        let mut dup = Vec::new();
        for l in &operations {
            if names.contains(&l.name.as_str()) {
                dup.push(l.name.clone());
            }
            names.push(&l.name);
        }
        for d in dup {
            let at = self.text.find(&format!("\"{d}\"")).unwrap_or(0);
            self.error(
                at,
                format!(
                    "operations: the layout name \"{d}\" is used twice; expected each name once"
                ),
            );
        }
        Some(Profile {
            source: self.file.to_string(),
            plant_id: plant_id?,
            plant_name,
            lab,
            meter_uncertainty_percent: meter,
            operations,
            version: self.version,
        })
    }

    fn lab(&mut self, v: &Val<'_>) -> Option<LabPoints> {
        let t = self.table(v, "[lab]")?;
        self.keys(t, "[lab]", &["upstream", "downstream"]);
        let side = |c: &mut Self, key: &str| match Self::get(t, key) {
            Some(v) => c.strings(v, &format!("lab.{key}")),
            None => {
                c.error(
                    v.span().start,
                    format!("[lab]: expected both upstream and downstream; {key} is missing"),
                );
                None
            }
        };
        let upstream = side(self, "upstream");
        let downstream = side(self, "downstream");
        Some(LabPoints {
            upstream: upstream?,
            downstream: downstream?,
        })
    }

    fn place(&mut self, v: &Val<'_>, what: &str, with_unit: bool) -> Option<PlaceKeys> {
        let t = self.table(v, what)?;
        let known: &[&str] = match (with_unit, self.version) {
            (true, 2) => &["header", "column", "unit", "label", "group"],
            (true, _) => &["header", "column", "unit"],
            _ => &["header", "column"],
        };
        self.keys(t, what, known);
        let header = Self::get(t, "header");
        let column = Self::get(t, "column");
        let unit = match Self::get(t, "unit") {
            Some(u) => Some(self.string(u, &format!("{what}.unit"))?),
            None => None,
        };
        let label = match Self::get(t, "label") {
            Some(l) if with_unit => Some(self.string(l, &format!("{what}.label"))?),
            _ => None,
        };
        let group = match Self::get(t, "group") {
            Some(g) if with_unit => {
                let s = normalise(&self.string(g, &format!("{what}.group"))?);
                if s.is_empty() {
                    self.error(g.span().start, format!("{what}.group: expected some text"));
                    return None;
                }
                Some(s)
            }
            _ => None,
        };
        let place = match (header, column) {
            (Some(h), None) => {
                let s = self.string(h, &format!("{what}.header"))?;
                let s = normalise(&s);
                if s.is_empty() {
                    self.error(h.span().start, format!("{what}.header: expected some text"));
                    return None;
                }
                Place::Header(s)
            }
            (None, Some(c)) => {
                let s = self.string(c, &format!("{what}.column"))?;
                match column_index(&s) {
                    Some(i) => Place::Column(i),
                    None => {
                        self.error(
                            c.span().start,
                            format!("{what}.column: expected a column letter such as \"H\", found \"{s}\""),
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    v.span().start,
                    format!("{what}: expected exactly one of header = \"...\" or column = \"H\""),
                );
                return None;
            }
        };
        Some((place, unit, label, group))
    }

    fn layout(&mut self, v: &Val<'_>) -> Option<Layout> {
        let t = self.table(v, "[[operations]]")?;
        let mut known = vec![
            "name",
            "file_name",
            "sheet",
            "header_contains",
            "header_rows",
            "skip_rows_starting_with",
            "date",
            "date_format",
            "generated_at",
            "columns",
        ];
        if self.version >= 2 {
            known.extend(V2_LAYOUT_KEYS);
        }
        self.keys(t, "[[operations]]", &known);
        let rules = self.rules(t);
        let at = v.span().start;
        let required = |c: &mut Self, key: &str| {
            let v = Self::get(t, key);
            if v.is_none() {
                c.error(at, format!("[[operations]]: missing key {key}"));
            }
            v
        };
        let name = required(self, "name").and_then(|v| self.string(v, "name"));
        let header_contains =
            required(self, "header_contains").and_then(|v| self.strings(v, "header_contains"));
        if let (Some(h), Some(v)) = (&header_contains, Self::get(t, "header_contains")) {
            if h.iter().all(|s| normalise(s).is_empty()) {
                self.error(
                    v.span().start,
                    "header_contains: expected at least one non-empty string".into(),
                );
            }
        }
        let date = required(self, "date").and_then(|v| self.place(v, "date", false));
        let header_rows = match Self::get(t, "header_rows") {
            None => Some(1),
            Some(v) if self.version >= 2 && v.get_ref().as_str() == Some("auto") => Some(1),
            Some(v) => match self.number(v, "header_rows") {
                Some(n) if n.fract() == 0.0 && (1.0..=20.0).contains(&n) => Some(n as u32),
                Some(_) => {
                    self.error(
                        v.span().start,
                        "header_rows: expected a whole number from 1 to 20".into(),
                    );
                    None
                }
                None => None,
            },
        };
        let skip = match Self::get(t, "skip_rows_starting_with") {
            None => Some(Vec::new()),
            Some(v) => self.strings(v, "skip_rows_starting_with").map(|s| {
                s.iter()
                    .map(|x| normalise(x))
                    .filter(|x| !x.is_empty())
                    .collect()
            }),
        };
        let date_format = match Self::get(t, "date_format") {
            None => None,
            Some(v) => {
                let s = self.string(v, "date_format");
                if let Some(f) = &s {
                    if !date_format_ok(f) {
                        self.error(
                            v.span().start,
                            format!("date_format: expected a date pattern with day, month and year such as \"%d/%m/%Y\", found \"{f}\""),
                        );
                    }
                }
                s
            }
        };
        let generated_at = match Self::get(t, "generated_at") {
            None => None,
            Some(v) => {
                let gt = self.table(v, "generated_at");
                gt.and_then(|gt| {
                    let search = self.version >= 2 && Self::get(gt, "search").is_some();
                    if search {
                        self.keys(gt, "generated_at", &["search"]);
                        let s = Self::get(gt, "search").and_then(|v| v.get_ref().as_str());
                        if s != Some("preamble") {
                            self.error(
                                v.span().start,
                                "generated_at: expected { search = \"preamble\" }".into(),
                            );
                        }
                        return None;
                    }
                    self.keys(gt, "generated_at", &["cell"]);
                    let c = Self::get(gt, "cell");
                    let parsed = c.and_then(|c| c.get_ref().as_str()).and_then(cell_position);
                    if parsed.is_none() {
                        self.error(
                            v.span().start,
                            "generated_at: expected { cell = \"A4\" }".into(),
                        );
                    }
                    parsed
                })
            }
        };
        let mut columns = BTreeMap::new();
        match required(self, "columns").and_then(|v| self.table(v, "[operations.columns]")) {
            None => {}
            Some(ct) => {
                for (k, v) in ct.iter() {
                    let key = k.get_ref().as_ref();
                    let Some(field) = Field::parse(key) else {
                        self.error(
                            k.span().start,
                            format!(
                                "unknown key '{key}' in [operations.columns]; expected one of {}",
                                Field::ALL.map(Field::as_str).join(", ")
                            ),
                        );
                        continue;
                    };
                    let Some((place, unit, label, group)) = self.place(v, key, true) else {
                        continue;
                    };
                    match Unit::parse(field, unit.as_deref()) {
                        Some(unit) => {
                            columns.insert(
                                field,
                                Column {
                                    place,
                                    unit,
                                    label,
                                    group,
                                },
                            );
                        }
                        None => self.error(
                            v.span().start,
                            format!(
                                "{key}: expected unit {}, found {}",
                                field.units(),
                                unit.map_or("no unit".to_string(), |u| format!("\"{u}\""))
                            ),
                        ),
                    }
                }
                if !columns.contains_key(&Field::EffluentFlow) && self.errors.is_empty() {
                    self.error(
                        k_start(ct).unwrap_or(at),
                        "[operations.columns]: missing effluent_flow (required)".into(),
                    );
                }
            }
        }
        Some(Layout {
            name: name?,
            file_name: self.opt_string(t, "file_name", "file_name"),
            sheet: self.opt_string(t, "sheet", "sheet"),
            header_contains: header_contains?
                .iter()
                .map(|s| normalise(s))
                .filter(|s| !s.is_empty())
                .collect(),
            header_rows: header_rows?,
            skip_rows_starting_with: skip?,
            date: date?.0,
            date_format,
            generated_at,
            columns,
            rules,
        })
    }

    /// A version 2 key whose value is one word of `choices`.
    fn choice<T: Copy>(&mut self, t: &Table<'_>, key: &str, choices: &[(&str, T)]) -> Option<T> {
        let v = Self::get(t, key)?;
        let s = self.string(v, key)?;
        let hit = choices.iter().find(|(w, _)| *w == s).map(|(_, x)| *x);
        if hit.is_none() {
            let words: Vec<String> = choices.iter().map(|(w, _)| format!("\"{w}\"")).collect();
            self.error(
                v.span().start,
                format!("{key}: expected {}, found \"{s}\"", words.join(" or ")),
            );
        }
        hit
    }

    /// The version 2 keys of an `[[operations]]` table (all absent in a
    /// version 1 profile, whose unknown keys were reported already).
    fn rules(&mut self, t: &Table<'_>) -> Rules {
        if self.version < 2 {
            return Rules::default();
        }
        let header_auto =
            Self::get(t, "header_rows").is_some_and(|v| v.get_ref().as_str() == Some("auto"));
        let header_cell = self
            .opt_string(t, "header_cell", "header_cell")
            .map(|h| normalise(&h));
        let generated_at_in_preamble = Self::get(t, "generated_at")
            .and_then(|v| v.get_ref().as_table())
            .and_then(|g| Self::get(g, "search"))
            .is_some_and(|v| v.get_ref().as_str() == Some("preamble"));
        let similar_columns = match Self::get(t, "similar_columns") {
            None => Vec::new(),
            Some(v) => self
                .strings(v, "similar_columns")
                .unwrap_or_default()
                .iter()
                .map(|w| normalise(w))
                .filter(|w| !w.is_empty())
                .collect(),
        };
        let kinds: Vec<(&str, OpsKind)> = OpsKind::ALL.iter().map(|k| (k.as_str(), *k)).collect();
        let kind = self.choice(t, "kind", &kinds);
        let prefer_sheet = self.opt_string(t, "prefer_sheet", "prefer_sheet");
        let sources: Vec<(&str, PlantIdFrom)> =
            PlantIdFrom::ALL.iter().map(|p| (p.as_str(), *p)).collect();
        let plant_id_from = self.choice(t, "plant_id_from", &sources);
        let mut period_from = Vec::new();
        if let Some(v) = Self::get(t, "period_from") {
            for s in self.strings(v, "period_from").unwrap_or_default() {
                match PeriodFrom::ALL.into_iter().find(|p| p.as_str() == s) {
                    Some(p) => period_from.push(p),
                    None => self.error(
                        v.span().start,
                        format!(
                            "period_from: expected a list of {}, found \"{s}\"",
                            PeriodFrom::ALL
                                .map(|p| format!("\"{}\"", p.as_str()))
                                .join(", ")
                        ),
                    ),
                }
            }
        }
        let rows_by_content = self.choice(t, "rows", &[("by_header", false), ("by_content", true)]);
        let numbers = self.choice(
            t,
            "numbers",
            &[("text", Numbers::Text), ("cells", Numbers::Cells)],
        );
        if numbers.is_some() && rows_by_content != Some(true) {
            if let Some(v) = Self::get(t, "numbers") {
                self.error(
                    v.span().start,
                    "numbers: only with rows = \"by_content\"".into(),
                );
            }
        }
        let missing_column_info =
            self.choice(t, "missing_column", &[("warning", false), ("info", true)]);
        let empty_column_info =
            self.choice(t, "empty_column", &[("silent", false), ("info", true)]);
        Rules {
            header_auto,
            header_cell,
            generated_at_in_preamble,
            similar_columns,
            kind,
            prefer_sheet,
            plant_id_from,
            period_from,
            rows_by_content: rows_by_content.unwrap_or(false),
            numbers,
            missing_column_info: missing_column_info.unwrap_or(false),
            empty_column_info: empty_column_info.unwrap_or(false),
        }
    }
}

/// The `[[operations]]` keys version 2 adds.
const V2_LAYOUT_KEYS: [&str; 10] = [
    "header_cell",
    "similar_columns",
    "kind",
    "prefer_sheet",
    "plant_id_from",
    "period_from",
    "rows",
    "numbers",
    "missing_column",
    "empty_column",
];

/// A place with its unit, `label` and `group` as written.
type PlaceKeys = (Place, Option<String>, Option<String>, Option<String>);

fn k_start(t: &Table<'_>) -> Option<usize> {
    t.keys().map(|k| k.span().start).min()
}

/// Lower case, every run of white space (line breaks included) one space.
pub fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `"H"` → 7, `"AA"` → 26; up to Excel's last column, XFD.
pub fn column_index(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let n = s.bytes().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    (n <= 16_384).then(|| n - 1)
}

/// `"A4"` → (3, 0).
pub fn cell_position(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let col = column_index(s.get(..split)?)?;
    let row: u32 = s.get(split..)?.parse().ok()?;
    (1..=1_048_576).contains(&row).then(|| (row - 1, col))
}

/// A `date_format` must read back the date it writes, with year, month
/// and day in it.
fn date_format_ok(f: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
        return false;
    }
    let Some(d) = chrono::NaiveDate::from_ymd_opt(2025, 11, 23) else {
        return false;
    };
    let mut s = String::new();
    if write!(s, "{}", d.format(f)).is_err() {
        return false;
    }
    chrono::NaiveDate::parse_from_str(&s, f).ok() == Some(d)
}

/// Case-insensitive glob with `*` and `?`.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or(&[]).iter().all(|c| *c == '*')
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn quote_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn place_toml(p: &Place) -> String {
    match p {
        Place::Header(h) => format!("header = {}", quote(h)),
        Place::Column(c) => format!("column = \"{}\"", crate::model::col_letters(*c)),
    }
}

/// The version 2 keys that differ from version 1's behaviour.
fn rules_toml(s: &mut String, r: &Rules) {
    if let Some(h) = &r.header_cell {
        let _ = writeln!(s, "header_cell = {}", quote(h));
    }
    if !r.similar_columns.is_empty() {
        let _ = writeln!(s, "similar_columns = {}", quote_list(&r.similar_columns));
    }
    if let Some(k) = r.kind {
        let _ = writeln!(s, "kind = \"{}\"", k.as_str());
    }
    if let Some(g) = &r.prefer_sheet {
        let _ = writeln!(s, "prefer_sheet = {}", quote(g));
    }
    if let Some(p) = r.plant_id_from {
        let _ = writeln!(s, "plant_id_from = \"{}\"", p.as_str());
    }
    if !r.period_from.is_empty() {
        let list: Vec<String> = r
            .period_from
            .iter()
            .map(|p| p.as_str().to_string())
            .collect();
        let _ = writeln!(s, "period_from = {}", quote_list(&list));
    }
    if r.rows_by_content {
        let _ = writeln!(s, "rows = \"by_content\"");
    }
    if let Some(n) = r.numbers {
        let _ = writeln!(s, "numbers = \"{}\"", n.as_str());
    }
    if r.missing_column_info {
        let _ = writeln!(s, "missing_column = \"info\"");
    }
    if r.empty_column_info {
        let _ = writeln!(s, "empty_column = \"info\"");
    }
}

/// The profile as TOML that [`parse`] reads back to the same profile.
pub fn to_toml(p: &Profile) -> String {
    let mut s = String::new();
    let version = if p.version >= 2 {
        PROFILE_V2
    } else {
        PROFILE_V1
    };
    let _ = writeln!(s, "profile = {}", quote(version));
    let _ = writeln!(s, "plant_id = {}", quote(&p.plant_id));
    if let Some(n) = &p.plant_name {
        let _ = writeln!(s, "plant_name = {}", quote(n));
    }
    if let Some(lab) = &p.lab {
        let _ = writeln!(s, "\n[lab]");
        let _ = writeln!(s, "upstream = {}", quote_list(&lab.upstream));
        let _ = writeln!(s, "downstream = {}", quote_list(&lab.downstream));
    }
    if let Some(m) = p.meter_uncertainty_percent {
        let _ = writeln!(s, "\n[flow]\nmeter_uncertainty_percent = {m:?}");
    }
    for l in &p.operations {
        let _ = writeln!(s, "\n[[operations]]");
        let _ = writeln!(s, "name = {}", quote(&l.name));
        if let Some(f) = &l.file_name {
            let _ = writeln!(s, "file_name = {}", quote(f));
        }
        if let Some(f) = &l.sheet {
            let _ = writeln!(s, "sheet = {}", quote(f));
        }
        let _ = writeln!(s, "header_contains = {}", quote_list(&l.header_contains));
        if l.rules.header_auto {
            let _ = writeln!(s, "header_rows = \"auto\"");
        } else if l.header_rows != 1 {
            let _ = writeln!(s, "header_rows = {}", l.header_rows);
        }
        if !l.skip_rows_starting_with.is_empty() {
            let _ = writeln!(
                s,
                "skip_rows_starting_with = {}",
                quote_list(&l.skip_rows_starting_with)
            );
        }
        let _ = writeln!(s, "date = {{ {} }}", place_toml(&l.date));
        if let Some(f) = &l.date_format {
            let _ = writeln!(s, "date_format = {}", quote(f));
        }
        if l.rules.generated_at_in_preamble {
            let _ = writeln!(s, "generated_at = {{ search = \"preamble\" }}");
        }
        if let Some((r, c)) = l.generated_at {
            let _ = writeln!(
                s,
                "generated_at = {{ cell = \"{}{}\" }}",
                crate::model::col_letters(c),
                r + 1
            );
        }
        rules_toml(&mut s, &l.rules);
        let _ = writeln!(s, "\n[operations.columns]");
        for (f, c) in &l.columns {
            let unit = match c.unit {
                Unit::Hours => String::new(),
                u => format!(", unit = {}", quote(u.as_str())),
            };
            let label = [("label", &c.label), ("group", &c.group)]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!(", {k} = {}", quote(v))))
                .collect::<String>();
            let _ = writeln!(
                s,
                "{} = {{ {}{unit}{label} }}",
                f.as_str(),
                place_toml(&c.place)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("Riverside*", "riverside 2025.xlsx"));
        assert!(glob_matches("*.csv", "a.CSV"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "abbc"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("x*", "y"));
    }

    #[test]
    fn columns_and_cells() {
        assert_eq!(column_index("A"), Some(0));
        assert_eq!(column_index("h"), Some(7));
        assert_eq!(column_index("AA"), Some(26));
        assert_eq!(column_index("XFE"), None);
        assert_eq!(column_index("A1"), None);
        assert_eq!(cell_position("A4"), Some((3, 0)));
        assert_eq!(cell_position("B0"), None);
        assert_eq!(cell_position("4"), None);
    }

    #[test]
    fn date_formats_are_checked() {
        assert!(date_format_ok("%d/%m/%Y"));
        assert!(date_format_ok("%Y.%m.%d"));
        assert!(!date_format_ok("%d/%m"));
        assert!(!date_format_ok("%Q"));
        assert!(!date_format_ok("%z"));
    }

    #[test]
    fn the_builtins_parse_and_round_trip() {
        for (id, text) in BUILTIN_SOURCES {
            let p = parse(id, text).unwrap_or_else(|e| panic!("{id}: {e:?}"));
            let again = parse(id, &to_toml(&p)).unwrap_or_else(|e| panic!("{id}: {e:?}"));
            assert_eq!(p, again);
        }
        assert_eq!(builtins().len(), 2);
    }
}
