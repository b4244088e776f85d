//! Level 2: gaps in a plant's daily record and incomplete
//! upstream/downstream pairs.

use chrono::NaiveDate;

use crate::method::samples::CalciumDays;
use crate::model::{Co2Day, Severity, Text};
use crate::qa;
use crate::qa::Finding;

/// One finding per run of missing dates between a plant's first and last
/// day (`days` sorted by plant, then date).
pub fn date_gaps(days: &[Co2Day], findings: &mut Vec<Finding>) {
    for pair in days.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.plant_id != b.plant_id {
            continue;
        }
        let missing = (b.date - a.date).num_days() - 1;
        if missing > 0 {
            let first = a.date.succ_opt().unwrap_or(a.date);
            let last = b.date.pred_opt().unwrap_or(b.date);
            let span = if missing == 1 {
                format!("{first}")
            } else {
                format!("{first} to {last}")
            };
            findings.push(
                qa::DATE_GAP
                    .finding(
                        Severity::Warning,
                        format!("No operations row and no calcium reading for {span} ({missing} day(s)) between {} and {}.", a.date, b.date),
                    )
                    .plant(&a.plant_id)
                    .on(first),
            );
        }
    }
}

/// A day with calcium at one location but not the other.
pub fn missing_partners(calcium: &CalciumDays, findings: &mut Vec<Finding>) {
    for ((plant, date), c) in calcium {
        let which = match (c.upstream.is_some(), c.downstream.is_some()) {
            (true, false) => "an upstream sample but no downstream one",
            (false, true) => "a downstream sample but no upstream one",
            _ => continue,
        };
        findings.push(partner(plant, *date, which));
    }
}

fn partner(plant: &Text, date: NaiveDate, which: &str) -> Finding {
    qa::MISSING_PARTNER
        .finding(
            Severity::Warning,
            format!("{date} has {which}: the day cannot be calculated."),
        )
        .plant(plant)
        .on(date)
}
