//! Every daily number traced to its cells: for a plant-day, each input row
//! it used — the calcium samples (and the duplicate rows collapsed into
//! them), the operations row chosen and the rows it superseded — with
//! file, sheet, row and the value's column as a spreadsheet names it.
//! `provenance.csv` lists them for all days; `explain` builds on them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::ReplicatePolicy;
use crate::model::{col_letters, LabReading, Location, PlantOperation, Text};
use crate::report::Filter;
use crate::store::Run;

/// What an input row did for the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The first row of a calcium sample counted upstream.
    UpstreamSample,
    DownstreamSample,
    /// A later row of the same sample (same `unique_id`), collapsed into it
    /// (METHOD §2 step 1).
    DuplicateCollapsed,
    /// The operations row the merge chose (METHOD §3).
    OperationsRow,
    /// Another report's row for the same day, not used.
    SupersededOperationsRow,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::UpstreamSample => "upstream_sample",
            Role::DownstreamSample => "downstream_sample",
            Role::DuplicateCollapsed => "duplicate_collapsed",
            Role::OperationsRow => "operations_row",
            Role::SupersededOperationsRow => "superseded_operations_row",
        }
    }
}

/// One input row a day used.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Input {
    pub plant_id: Text,
    pub date: NaiveDate,
    pub role: Role,
    pub file: Text,
    /// Workbooks only.
    pub sheet: Option<Text>,
    /// 1-based, as the spreadsheet or a text editor shows it.
    pub row: u32,
    /// The value's column letters (`H`); empty when unknown.
    pub column: String,
    pub value: Option<f64>,
    /// Calcium rows: the sample id, its stated uncertainty, and the
    /// location.
    pub unique_id: Option<Text>,
    pub uncertainty: Option<f64>,
}

impl Input {
    /// `H13` for a workbook cell, `G5` for a CSV field; the row alone when
    /// the column is unknown.
    pub fn cell(&self) -> String {
        format!("{}{}", self.column, self.row)
    }
}

/// The calcium rows of each plant-day, upstream and downstream, in input
/// order (files by name, rows top to bottom).
type LabIndex<'a> = BTreeMap<(Text, NaiveDate), Vec<&'a LabReading>>;

fn lab_index(run: &Run) -> LabIndex<'_> {
    let mut idx: LabIndex<'_> = BTreeMap::new();
    for f in run.store.active_files() {
        for r in &f.records.lab {
            if r.location != Location::Other && r.parameter_name.eq_ignore_ascii_case("calcium") {
                idx.entry((r.plant_id.clone(), r.when.date()))
                    .or_default()
                    .push(r);
            }
        }
    }
    for rows in idx.values_mut() {
        rows.sort_by_key(|r| (r.file, r.row));
    }
    idx
}

fn lab_inputs(run: &Run, rows: &[&LabReading], out: &mut Vec<Input>) {
    let report = &run.report;
    let input = |r: &LabReading, role: Role| Input {
        plant_id: r.plant_id.clone(),
        date: r.when.date(),
        role,
        file: Text::from(report.file_name(r.file)),
        sheet: None,
        row: r.row,
        column: r.value_col.map(col_letters).unwrap_or_default(),
        value: Some(r.value),
        unique_id: Some(r.reading_id.clone()),
        uncertainty: r.uncertainty,
    };
    for location in [Location::Upstream, Location::Downstream] {
        let role = if location == Location::Upstream {
            Role::UpstreamSample
        } else {
            Role::DownstreamSample
        };
        let here: Vec<&LabReading> = rows
            .iter()
            .copied()
            .filter(|r| r.location == location)
            .collect();
        match report.replicate_policy {
            // The first row alone gives the day's value.
            ReplicatePolicy::First => {
                if let Some(r) = here.first() {
                    out.push(input(r, role));
                }
            }
            // Every sample counts once: its first row, then the rows
            // collapsed into it.
            ReplicatePolicy::Mean => {
                let mut samples: BTreeMap<(&Text, &Text), Vec<&LabReading>> = BTreeMap::new();
                for r in &here {
                    samples
                        .entry((&r.plant_unit_id, &r.reading_id))
                        .or_default()
                        .push(r);
                }
                let mut ordered: Vec<Vec<&LabReading>> = samples.into_values().collect();
                ordered.sort_by_key(|s| s.first().map(|r| (r.file, r.row)));
                for s in ordered {
                    for (i, r) in s.iter().enumerate() {
                        out.push(input(
                            r,
                            if i == 0 {
                                role
                            } else {
                                Role::DuplicateCollapsed
                            },
                        ));
                    }
                }
            }
        }
    }
}

fn ops_inputs(o: &PlantOperation, out: &mut Vec<Input>) {
    out.push(Input {
        plant_id: o.plant_id.clone(),
        date: o.date,
        role: Role::OperationsRow,
        file: o.source_file.clone(),
        sheet: Some(o.source_sheet.clone()),
        row: o.source_row,
        column: o.source_eff_flow_col.map(col_letters).unwrap_or_default(),
        value: o.actual_eff_flow_mgd,
        unique_id: None,
        uncertainty: None,
    });
    for s in &o.superseded {
        out.push(Input {
            plant_id: o.plant_id.clone(),
            date: o.date,
            role: Role::SupersededOperationsRow,
            file: s.source_file.clone(),
            sheet: (!s.source_sheet.is_empty()).then(|| s.source_sheet.clone()),
            row: s.source_row,
            column: s.eff_flow_col.map(col_letters).unwrap_or_default(),
            value: s.actual_eff_flow_mgd,
            unique_id: None,
            uncertainty: None,
        });
    }
}

/// The input rows of every day under the filter, in table order.
pub fn inputs(run: &Run, filter: &Filter) -> Vec<Input> {
    let idx = lab_index(run);
    let ops: BTreeMap<(&Text, NaiveDate), &PlantOperation> = run
        .report
        .plant_operations
        .iter()
        .map(|o| ((&o.plant_id, o.date), o))
        .collect();
    let mut out = Vec::new();
    for d in run.report.days(filter) {
        if let Some(rows) = idx.get(&(d.plant_id.clone(), d.date)) {
            lab_inputs(run, rows, &mut out);
        }
        if d.ops_source.is_some() {
            if let Some(o) = ops.get(&(&d.plant_id, d.date)) {
                ops_inputs(o, &mut out);
            }
        }
    }
    out
}

/// One day's input rows.
pub fn day_inputs(run: &Run, plant: &str, date: NaiveDate) -> Vec<Input> {
    let filter = Filter {
        plant: Some(plant.to_string()),
        from: Some(date),
        to: Some(date),
        flags: None,
    };
    inputs(run, &filter)
}
