//! Level 5, scientific review: outlier deltas and possibly swapped
//! samples for a domain expert, and each day's review status.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::config::{Review, ReviewStatus};
use crate::model::{CellRef, Co2Day, DayReview, DayReviewStatus, Severity, Text};
use crate::number::tidy;
use crate::qa;
use crate::qa::Finding;
use crate::text::{clip, QUOTE_CHARS};

/// METHOD §5 level 5: a calculated day's Ca delta further than this many
/// median absolute deviations (plain, unscaled) from the plant's median is
/// a `delta_outlier`.
pub const DELTA_OUTLIER_MADS: f64 = 5.0;

/// METHOD §5 level 5: upstream calcium above downstream by more than this
/// fraction of downstream suggests swapped samples (20 %).
pub const SWAP_FRACTION: f64 = 0.2;

/// The median (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// A calculated day whose Ca delta lies strictly outside the plant's
/// median ± 5 × MAD over its calculated days (plain, unscaled MAD).
pub fn delta_outliers(days: &[Co2Day], findings: &mut Vec<Finding>) {
    let mut by_plant: BTreeMap<&Text, Vec<(&Co2Day, f64)>> = BTreeMap::new();
    for d in days {
        if let Some(c) = d.calc {
            by_plant
                .entry(&d.plant_id)
                .or_default()
                .push((d, c.ca_delta_mg_per_l));
        }
    }
    for (plant, list) in by_plant {
        let deltas: Vec<f64> = list.iter().map(|x| x.1).collect();
        let Some(med) = median(&deltas) else { continue };
        let abs_dev: Vec<f64> = deltas.iter().map(|d| (d - med).abs()).collect();
        let Some(mad) = median(&abs_dev) else {
            continue;
        };
        let (lo, hi) = (
            med - DELTA_OUTLIER_MADS * mad,
            med + DELTA_OUTLIER_MADS * mad,
        );
        for (day, delta) in list {
            if delta < lo || delta > hi {
                findings.push(
                    qa::DELTA_OUTLIER
                        .finding(
                            Severity::Warning,
                            format!(
                                "Ca delta {} mg/L lies outside the plant's median {} ± 5 × MAD {} ({} to {}) over {} calculated days: review the samples.",
                                tidy(delta),
                                tidy(med),
                                tidy(mad),
                                tidy(lo),
                                tidy(hi),
                                deltas.len()
                            ),
                        )
                        .plant(plant)
                        .on(day.date),
                );
            }
        }
    }
}

/// Upstream above downstream by more than 20 % of downstream: the samples
/// may have been swapped.
pub fn swapped_samples(days: &[Co2Day], findings: &mut Vec<Finding>) {
    for d in days {
        if let (Some(u), Some(dn)) = (d.ca_upstream_mg_per_l, d.ca_downstream_mg_per_l) {
            if u - dn > SWAP_FRACTION * dn {
                findings.push(
                    qa::SWAPPED_SAMPLES
                        .finding(
                            Severity::Warning,
                            format!("Upstream {} mg/L exceeds downstream {} mg/L by more than 20 %: were the samples swapped?", tidy(u), tidy(dn)),
                        )
                        .plant(&d.plant_id)
                        .on(d.date),
                );
            }
        }
    }
}

/// Each reviewed day's decision, with the file and row it came from; per
/// plant how many calculated days still await review; and decisions that
/// match no day of the results (a mistyped date or plant). Each day gets
/// the decision that counts for it: a decision recorded against other
/// inputs (`inputs_sha256` not the day's) leaves the day `input_changed`.
pub fn review_status(days: &mut [Co2Day], reviews: &[&Review], findings: &mut Vec<Finding>) {
    let place = |f: Finding, r: &Review| match &r.source {
        Some(src) => f.file(&Text::from(src.file.as_str())).at(CellRef {
            sheet: None,
            row: Some(src.row),
            col: None,
        }),
        None => f,
    };
    // The last decision on a day counts.
    let mut decided: BTreeMap<(&str, NaiveDate), &Review> = BTreeMap::new();
    for r in reviews {
        decided.insert((r.plant_id.as_str(), r.date), r);
    }
    let mut pending: BTreeMap<Text, u32> = BTreeMap::new();
    let mut matched: BTreeSet<(&str, NaiveDate)> = BTreeSet::new();
    for d in days.iter_mut() {
        let found = decided
            .get_key_value(&(&*d.plant_id, d.date))
            .map(|(k, r)| (*k, *r));
        if let Some((key, _)) = found {
            matched.insert(key);
        }
        let who = |r: &Review| {
            if r.reviewer.is_empty() {
                "the reviewer".to_string()
            } else {
                clip(&r.reviewer, QUOTE_CHARS).into_owned()
            }
        };
        match found {
            Some((_, r))
                if r.status != ReviewStatus::Unreviewed
                    && !r.inputs_sha256.is_empty()
                    && r.inputs_sha256 != d.inputs_sha256 =>
            {
                d.review = DayReview {
                    status: DayReviewStatus::InputChanged,
                    note: r.note.clone(),
                    reviewer: r.reviewer.clone(),
                };
                findings.push(place(
                    qa::REVIEW_STATUS
                        .finding(
                            Severity::Warning,
                            format!(
                                "Input changed since approval: the day was {} by {} on inputs {} but its inputs are now {}; the decision does not count until the day is reviewed again.",
                                r.status.as_str(),
                                who(r),
                                clip(&r.inputs_sha256, QUOTE_CHARS),
                                d.inputs_sha256
                            ),
                        )
                        .plant(&d.plant_id)
                        .on(d.date),
                    r,
                ));
            }
            Some((_, r)) if r.status != ReviewStatus::Unreviewed => {
                d.review = DayReview {
                    status: match r.status {
                        ReviewStatus::Rejected => DayReviewStatus::Rejected,
                        _ => DayReviewStatus::Approved,
                    },
                    note: r.note.clone(),
                    reviewer: r.reviewer.clone(),
                };
                let note = if r.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", clip(&r.note, 4 * QUOTE_CHARS))
                };
                findings.push(place(
                    qa::REVIEW_STATUS
                        .finding(
                            Severity::Info,
                            format!("Day {} by {}{note}.", r.status.as_str(), who(r)),
                        )
                        .plant(&d.plant_id)
                        .on(d.date),
                    r,
                ));
            }
            other => {
                d.review = DayReview {
                    status: DayReviewStatus::Unreviewed,
                    note: other.map(|(_, r)| r.note.clone()).unwrap_or_default(),
                    reviewer: other.map(|(_, r)| r.reviewer.clone()).unwrap_or_default(),
                };
                if d.calc.is_some() {
                    *pending.entry(d.plant_id.clone()).or_default() += 1;
                }
            }
        }
    }
    for (plant, n) in pending {
        findings.push(
            qa::REVIEW_STATUS
                .finding(
                    Severity::Info,
                    format!("{n} calculated day(s) are unreviewed."),
                )
                .plant(&plant),
        );
    }
    for (key, r) in &decided {
        if !matched.contains(key) {
            findings.push(place(
                qa::REVIEW_STATUS
                    .finding(
                        Severity::Warning,
                        format!(
                            "A review for {} on {} matches no day in the results: check the plant id and date.",
                            clip(key.0, QUOTE_CHARS),
                            key.1
                        ),
                    )
                    .on(key.1),
                r,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::co2::calculate;
    use crate::model::Flag;

    fn day(n: u32, up: f64, down: f64) -> Co2Day {
        let calc = calculate(10.0, up, down);
        Co2Day {
            plant_id: "P".into(),
            date: NaiveDate::from_ymd_opt(2025, 4, n).unwrap_or_default(),
            ca_upstream_mg_per_l: Some(up),
            ca_downstream_mg_per_l: Some(down),
            flow_mgd: Some(10.0),
            calc: Some(calc),
            quality_flag: if down > up {
                Flag::Valid
            } else {
                Flag::Invalid
            },
            validation_message: String::new(),
            ca_upstream_n: 1,
            ca_downstream_n: 1,
            ops_source: None,
            flow_unit: None,
            sigma: Default::default(),
            inputs_sha256: String::new(),
            review: Default::default(),
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn outliers_are_strictly_outside_five_mad() {
        // Deltas 10, 11, 12, 13, 40: median 12, deviations 2,1,0,1,28 → MAD 1;
        // bounds 7..17, so only 40 is out.
        let days: Vec<Co2Day> = [10.0, 11.0, 12.0, 13.0, 40.0]
            .iter()
            .enumerate()
            .map(|(i, d)| day(i as u32 + 1, 40.0, 40.0 + d))
            .collect();
        let mut f = Vec::new();
        delta_outliers(&days, &mut f);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].date, NaiveDate::from_ymd_opt(2025, 4, 5));
        // A delta exactly on the bound is not an outlier: 7 = 12 - 5 × 1.
        let days: Vec<Co2Day> = [7.0, 11.0, 12.0, 13.0, 12.0]
            .iter()
            .enumerate()
            .map(|(i, d)| day(i as u32 + 1, 40.0, 40.0 + d))
            .collect();
        let mut f = Vec::new();
        delta_outliers(&days, &mut f);
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn swapped_samples_over_twenty_percent() {
        let mut f = Vec::new();
        swapped_samples(&[day(1, 61.0, 50.0), day(2, 60.0, 50.0)], &mut f);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "possible_swapped_samples");
    }

    #[test]
    fn review_status_reports_decisions_and_pending() {
        let mut days = [day(1, 40.0, 50.0), day(2, 40.0, 50.0)];
        let reviews = [Review {
            plant_id: "P".into(),
            date: days[0].date,
            status: ReviewStatus::Rejected,
            note: "sampler fault".into(),
            reviewer: String::new(),
            inputs_sha256: String::new(),
            source: None,
        }];
        let mut f = Vec::new();
        review_status(&mut days, &reviews.iter().collect::<Vec<_>>(), &mut f);
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("rejected") && f[0].message.contains("sampler fault"));
        assert!(f[1].message.starts_with("1 calculated"));
    }
}
