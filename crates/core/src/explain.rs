//! A plant-day's calculation sheet: the calcium samples and operations row
//! it used, with their cells ([`crate::provenance`]), METHOD §4's chain
//! step by step with its constants down to the tonnes, the day's findings
//! and its review. The CLI prints it (`crew-mrv explain`); the app can
//! render the same struct.

use std::fmt::{self, Write as _};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::method::co2::{M3_PER_MG, MW_CA, MW_CACO3, MW_CO2};
use crate::model::{Co2Day, DayReview};
use crate::profile::Unit;
use crate::provenance::{day_inputs, Input, Role};
use crate::qa::Finding;
use crate::store::Run;

/// One step of METHOD §4: what is computed, how, and the result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    pub name: &'static str,
    /// The expression with this day's numbers in.
    pub formula: String,
    pub value: f64,
    pub unit: &'static str,
}

/// Everything behind one plant-day's row of `co2_removal.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DaySheet {
    pub day: Co2Day,
    /// Calcium rows: samples and the duplicates collapsed into them.
    pub samples: Vec<Input>,
    /// The chosen operations row, then the rows it superseded.
    pub operations: Vec<Input>,
    pub report_generated_at: Option<NaiveDateTime>,
    /// METHOD §4, in its written order; empty when the day is not
    /// calculated.
    pub chain: Vec<Step>,
    pub findings: Vec<Finding>,
    pub review: DayReview,
}

/// The sheet of a day of the run, `None` when the run has no such day.
pub fn explain(run: &Run, plant: &str, date: NaiveDate) -> Option<DaySheet> {
    let report = &run.report;
    let day = report
        .co2
        .iter()
        .find(|d| &*d.plant_id == plant && d.date == date)?
        .clone();
    let (samples, operations): (Vec<Input>, Vec<Input>) = day_inputs(run, plant, date)
        .into_iter()
        .partition(|i| !matches!(i.role, Role::OperationsRow | Role::SupersededOperationsRow));
    let report_generated_at = report
        .plant_operations
        .iter()
        .find(|o| &*o.plant_id == plant && o.date == date)
        .and_then(|o| o.report_generated_at);
    let chain = chain(&day);
    let findings = report
        .findings
        .iter()
        .filter(|f| f.date == Some(date) && f.plant_id.as_deref().is_none_or(|p| p == plant))
        .cloned()
        .collect();
    let review = day.review.clone();
    Some(DaySheet {
        day,
        samples,
        operations,
        report_generated_at,
        chain,
        findings,
        review,
    })
}

fn chain(d: &Co2Day) -> Vec<Step> {
    let (Some(c), Some(flow), Some(up), Some(down)) = (
        d.calc,
        d.flow_mgd,
        d.ca_upstream_mg_per_l,
        d.ca_downstream_mg_per_l,
    ) else {
        return Vec::new();
    };
    let step = |name, formula: String, value, unit| Step {
        name,
        formula,
        value,
        unit,
    };
    vec![
        step(
            "ca_delta_mg_per_l",
            format!("downstream {down} - upstream {up}"),
            c.ca_delta_mg_per_l,
            "mg/L",
        ),
        step(
            "flow_m3_per_day",
            // A metric plant's flow starts the chain as read (PROFILES.md).
            match d.flow_unit {
                Some(crate::profile::Unit::M3PerDay) => "as read, m³/day".to_string(),
                Some(crate::profile::Unit::MlPerDay) => {
                    format!("{} ML/day as read × 1000 m³/ML", c.flow_m3_per_day / 1000.0)
                }
                _ => format!("{flow} MGD × {M3_PER_MG} m³/MG"),
            },
            c.flow_m3_per_day,
            "m³/day",
        ),
        step(
            "flow_l_per_day",
            format!("{} m³/day × 1000 L/m³", c.flow_m3_per_day),
            c.flow_l_per_day,
            "L/day",
        ),
        step(
            "ca_to_caco3_ratio",
            format!("MW CaCO3 {MW_CACO3} / MW Ca {MW_CA}"),
            c.ca_to_caco3_ratio,
            "",
        ),
        step(
            "caco3_mg",
            format!(
                "{} mg/L × {} L/day × {}",
                c.ca_delta_mg_per_l, c.flow_l_per_day, c.ca_to_caco3_ratio
            ),
            c.caco3_mg,
            "mg/day",
        ),
        step(
            "co2_to_caco3_ratio",
            format!("MW CO2 {MW_CO2} / MW CaCO3 {MW_CACO3}"),
            c.co2_to_caco3_ratio,
            "",
        ),
        step(
            "co2_mg",
            format!("{} mg × {}", c.caco3_mg, c.co2_to_caco3_ratio),
            c.co2_mg,
            "mg/day",
        ),
        step(
            "co2_removed_metric_tons_per_day",
            format!("{} mg / 1e9 mg/t", c.co2_mg),
            c.co2_removed_metric_tons_per_day,
            "t",
        ),
    ]
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

fn place(i: &Input) -> String {
    match &i.sheet {
        Some(s) => format!("{} sheet '{s}' cell {}", i.file, i.cell()),
        None => format!("{} row {} (cell {})", i.file, i.row, i.cell()),
    }
}

impl fmt::Display for DaySheet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let d = &self.day;
        let _ = writeln!(s, "Calculation sheet: {} {}", d.plant_id, d.date);
        let _ = writeln!(
            s,
            "Quality flag: {}{}",
            d.quality_flag,
            if d.validation_message.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.validation_message)
            }
        );
        let _ = writeln!(s, "\nCalcium samples:");
        if self.samples.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for i in &self.samples {
            let what = match i.role {
                Role::UpstreamSample => "upstream  ",
                Role::DownstreamSample => "downstream",
                _ => "  collapsed duplicate",
            };
            let _ = writeln!(
                s,
                "  {what} {} mg/L ± {} (unique_id {}), {}",
                opt(i.value),
                opt(i.uncertainty),
                i.unique_id.as_deref().unwrap_or("-"),
                place(i)
            );
        }
        let _ = writeln!(
            s,
            "  day value: upstream {} mg/L from {} sample(s), downstream {} mg/L from {} sample(s)",
            opt(d.ca_upstream_mg_per_l),
            d.ca_upstream_n,
            opt(d.ca_downstream_mg_per_l),
            d.ca_downstream_n
        );
        let _ = writeln!(s, "\nOperations:");
        if self.operations.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for i in &self.operations {
            let what = if i.role == Role::OperationsRow {
                "chosen    "
            } else {
                "superseded"
            };
            // A metric plant's flow is shown as read too, naming its unit.
            let own = match (i.role, d.flow_unit, i.value) {
                (Role::OperationsRow, Some(u @ (Unit::M3PerDay | Unit::MlPerDay)), Some(v)) => {
                    // The chain's m³/day is the value as read, exactly.
                    let read = match (d.calc, u) {
                        (Some(c), Unit::M3PerDay) => c.flow_m3_per_day,
                        (Some(c), _) => c.flow_m3_per_day / 1000.0,
                        (None, _) => crate::mapping::in_unit(v, u),
                    };
                    format!(" (= {read} {} as read)", u.as_str())
                }
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "  {what} effluent flow {} MGD{own}, {}",
                opt(i.value),
                place(i)
            );
        }
        if let Some(t) = self.report_generated_at {
            let _ = writeln!(s, "  report generated {}", t.format("%Y-%m-%dT%H:%M:%S"));
        }
        let _ = writeln!(s, "\nMETHOD §4:");
        if self.chain.is_empty() {
            let _ = writeln!(s, "  not calculated");
        }
        for st in &self.chain {
            let _ = writeln!(
                s,
                "  {:<32} = {} = {}{}{}",
                st.name,
                st.formula,
                st.value,
                if st.unit.is_empty() { "" } else { " " },
                st.unit
            );
        }
        if let Some(c) = d.calc {
            let _ = writeln!(
                s,
                "  CO2 removed: {:.7} t",
                c.co2_removed_metric_tons_per_day
            );
        }
        let _ = writeln!(s, "\nFindings:");
        if self.findings.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for x in &self.findings {
            let _ = writeln!(
                s,
                "  {} {} (level {}): {}",
                x.severity.as_str(),
                x.check.as_str(),
                x.level,
                x.message
            );
        }
        let _ = writeln!(s, "\nReview: {}", self.review.status.as_str());
        if !self.review.reviewer.is_empty() {
            let _ = writeln!(s, "  by {}", self.review.reviewer);
        }
        if !self.review.note.is_empty() {
            let _ = writeln!(s, "  note: {}", self.review.note);
        }
        let _ = writeln!(s, "  inputs_sha256 {}", d.inputs_sha256);
        f.write_str(&s)
    }
}
