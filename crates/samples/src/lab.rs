//! The calcium lab results CSV (FORMATS.md section 1).
//!
//! One sample per plant, location and day (Plant A daily, Plant B on
//! weekdays), and almost every sample reported twice: once as measured and
//! once more, as if a second export were appended, usually with float noise
//! in the last bits (`29.2` / `29.199999999999996`), sometimes identical,
//! and for a few ids with a genuinely different value (blank uncertainty in
//! one row, an uncertainty and another value in the other). On top come the
//! planned events of every three-month block (see `EVENTS`): missing
//! partners, replicate triples, negative, zero and swapped-looking deltas,
//! an outlier. Their values are fixed so a test author can check results
//! by hand; everything else is drawn from the seed.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::builders::LAB_COLUMNS;
use super::dates::{days_between, is_weekend, month_start, plus_days};
use super::numfmt::round_to;
use super::rng::Rng;
use super::{SampleError, SampleFile, SampleOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Plant {
    A,
    B,
}

impl Plant {
    fn id(self) -> &'static str {
        match self {
            Plant::A => "PLANT_A",
            Plant::B => "PLANT_B",
        }
    }
}

/// Upstream sorts first, as `primary_clarifier` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Loc {
    Up,
    Down,
}

impl Loc {
    fn unit(self) -> &'static str {
        match self {
            Loc::Up => "primary_clarifier",
            Loc::Down => "secondary_clarifier",
        }
    }
}

/// A planned departure from the ordinary day.
enum Event {
    /// No sample at this location that day.
    Missing(Loc),
    /// Fixed sample values (one value = one sample, three = replicates
    /// `_01`..`_03`); an empty slice keeps the drawn value.
    Values {
        up: &'static [f64],
        down: &'static [f64],
    },
    /// The sample is reported twice with different results: `first` with a
    /// blank uncertainty, then `second` with uncertainty `unc`.
    Conflict(Loc, f64, f64, f64),
    /// Both locations' repeats are exact copies (no float noise), so a
    /// zero delta stays exactly zero.
    Exact,
}

/// The events of every three-month block: (plant, month offset, day).
/// For the committed quarter the month offsets 0, 1, 2 are April, May,
/// June 2025. Plant B events falling on a weekend move to the Monday.
const EVENTS: &[(Plant, u32, u32, Event)] = &[
    (
        Plant::A,
        0,
        2,
        Event::Conflict(Loc::Up, 43.26, 42.01231736087999, 0.24),
    ),
    (Plant::A, 0, 5, Event::Missing(Loc::Down)),
    (
        Plant::A,
        0,
        9,
        Event::Values {
            up: &[44.12, 44.87, 43.95],
            down: &[],
        },
    ),
    (Plant::A, 0, 12, Event::Missing(Loc::Up)),
    (Plant::A, 0, 19, Event::Missing(Loc::Down)),
    // Looks like swapped bottles: upstream 32 % above downstream.
    (
        Plant::A,
        0,
        24,
        Event::Values {
            up: &[58.4],
            down: &[44.1],
        },
    ),
    (Plant::A, 1, 3, Event::Missing(Loc::Down)),
    (
        Plant::A,
        1,
        6,
        Event::Conflict(Loc::Down, 61.87, 60.52904417383216, 0.31),
    ),
    (
        Plant::A,
        1,
        8,
        Event::Values {
            up: &[47.85],
            down: &[46.48],
        },
    ),
    // Replicates spread by ~15 % of their mean.
    (
        Plant::A,
        1,
        14,
        Event::Values {
            up: &[],
            down: &[58.3, 63.9, 55.1],
        },
    ),
    (Plant::A, 1, 17, Event::Missing(Loc::Down)),
    (Plant::A, 1, 25, Event::Missing(Loc::Down)),
    (Plant::A, 2, 1, Event::Missing(Loc::Down)),
    (Plant::A, 2, 7, Event::Missing(Loc::Up)),
    (Plant::A, 2, 15, Event::Missing(Loc::Down)),
    (
        Plant::A,
        2,
        19,
        Event::Values {
            up: &[52.4],
            down: &[52.4],
        },
    ),
    (Plant::A, 2, 19, Event::Exact),
    (
        Plant::A,
        2,
        24,
        Event::Conflict(Loc::Down, 66.3, 67.48817290063951, 0.35),
    ),
    (Plant::A, 2, 28, Event::Missing(Loc::Down)),
    (Plant::B, 0, 16, Event::Missing(Loc::Down)),
    (
        Plant::B,
        0,
        23,
        Event::Values {
            up: &[],
            down: &[40.12, 40.96, 39.77],
        },
    ),
    (
        Plant::B,
        0,
        29,
        Event::Values {
            up: &[33.27],
            down: &[32.43],
        },
    ),
    (Plant::B, 1, 9, Event::Missing(Loc::Up)),
    // Plausible values, implausible delta: an outlier for expert review.
    (
        Plant::B,
        1,
        13,
        Event::Values {
            up: &[56.31],
            down: &[104.72],
        },
    ),
    (
        Plant::B,
        1,
        20,
        Event::Conflict(Loc::Up, 29.91, 28.77435091183021, 0.17),
    ),
    (Plant::B, 1, 28, Event::Missing(Loc::Down)),
    (
        Plant::B,
        2,
        4,
        Event::Values {
            up: &[31.05, 31.62, 30.88],
            down: &[42.7, 43.35, 42.18],
        },
    ),
    (Plant::B, 2, 11, Event::Missing(Loc::Down)),
    (
        Plant::B,
        2,
        18,
        Event::Conflict(Loc::Down, 44.05, 45.21563372094807, 0.26),
    ),
];

/// How a sample's second report relates to the first.
#[derive(Debug, Clone, Copy)]
enum Repeat {
    /// Reported once only.
    Once,
    /// Reported twice, identical.
    Exact,
    /// Reported twice, the second `ulps` units in the last place away.
    Noise(i64),
    /// Reported twice with a real difference (see `Event::Conflict`).
    Conflict { second: f64, unc: f64 },
}

struct Sample {
    plant: Plant,
    loc: Loc,
    date: NaiveDate,
    rep: u32,
    value: f64,
    unc: Option<f64>,
    analyzed: NaiveDate,
    repeat: Repeat,
    note: &'static str,
}

#[derive(Default)]
struct DayPlan {
    missing: [bool; 2],
    fixed: [Option<&'static [f64]>; 2],
    conflict: [Option<(f64, f64, f64)>; 2],
    exact: bool,
}

fn idx(loc: Loc) -> usize {
    match loc {
        Loc::Up => 0,
        Loc::Down => 1,
    }
}

fn plan(opts: &SampleOptions) -> BTreeMap<(Plant, NaiveDate), DayPlan> {
    let (start, end) = (opts.start, opts.end());
    let mut plans: BTreeMap<(Plant, NaiveDate), DayPlan> = BTreeMap::new();
    let mut block = 0;
    while month_start(start, 3 * block) <= end {
        for (plant, mo, day, event) in EVENTS {
            let first = month_start(start, 3 * block + mo);
            let mut date = plus_days(first, i64::from(*day) - 1);
            if *plant == Plant::B {
                while is_weekend(date) {
                    date = plus_days(date, 1);
                }
            }
            if date < start || date > end || date.month() != first.month() {
                continue;
            }
            let p = plans.entry((*plant, date)).or_default();
            match event {
                Event::Missing(l) => p.missing[idx(*l)] = true,
                Event::Values { up, down } => {
                    if !up.is_empty() {
                        p.fixed[0] = Some(up);
                    }
                    if !down.is_empty() {
                        p.fixed[1] = Some(down);
                    }
                }
                Event::Conflict(l, a, b, u) => p.conflict[idx(*l)] = Some((*a, *b, *u)),
                Event::Exact => p.exact = true,
            }
        }
        block += 1;
    }
    plans
}

fn samples(opts: &SampleOptions) -> Vec<Sample> {
    let (start, end) = (opts.start, opts.end());
    let total = (end - start).num_days().max(1) as f64;
    let plans = plan(opts);
    let none = DayPlan::default();
    let mut rng = Rng::stream(opts.seed, "lab");
    let mut out = Vec::new();
    for plant in [Plant::A, Plant::B] {
        for date in days_between(start, end) {
            if plant == Plant::B && is_weekend(date) {
                continue;
            }
            let p = plans.get(&(plant, date)).unwrap_or(&none);
            let planned = plans.contains_key(&(plant, date));
            let t = (date - start).num_days() as f64 / total;
            // Draw every number whether used or not, so that planned days
            // do not shift the stream of the ordinary ones.
            let (base_up, delta) = match plant {
                Plant::A => (42.0 + 10.0 * t + 3.0 * rng.gauss(), rng.range(5.0, 20.0)),
                Plant::B => (31.0 + 3.0 * rng.gauss(), rng.range(5.0, 15.0)),
            };
            let draws: Vec<f64> = (0..8).map(|_| rng.unit()).collect();
            // Downstream follows the upstream value actually reported.
            let up = match (p.fixed[0], p.conflict[0]) {
                (Some(v), _) => v.iter().sum::<f64>() / v.len().max(1) as f64,
                (None, Some(c)) => c.0,
                (None, None) => base_up,
            };
            let drawn = [up, up + delta];
            for loc in [Loc::Up, Loc::Down] {
                let i = idx(loc);
                if p.missing[i] {
                    continue;
                }
                let values: Vec<f64> = match (p.fixed[i], p.conflict[i]) {
                    (Some(v), _) => v.to_vec(),
                    (None, Some(c)) => vec![c.0],
                    // Two thirds report to the lab's two decimals, the rest
                    // carry the full precision of the calibration.
                    (None, None) if draws[4 * i] < 0.65 => vec![round_to(drawn[i], 2)],
                    (None, None) => vec![drawn[i] + draws[4 * i] * 0.01],
                };
                for (r, &value) in values.iter().enumerate() {
                    let u = rng.unit();
                    let mut unc = Some(round_to((value * (0.004 + 0.004 * u)).max(0.05), 2));
                    let repeat = if let Some((_, second, cu)) = p.conflict[i] {
                        unc = None;
                        Repeat::Conflict { second, unc: cu }
                    } else if p.exact {
                        Repeat::Exact
                    } else if !planned && draws[4 * i + 1] < 0.05 {
                        Repeat::Once
                    } else if draws[4 * i + 2] < 0.2 {
                        Repeat::Exact
                    } else {
                        Repeat::Noise(if draws[4 * i + 3] < 0.5 { -1 } else { 2 })
                    };
                    if !matches!(repeat, Repeat::Conflict { .. }) && rng.chance(0.038) {
                        unc = None;
                    }
                    let note = match rng.below(60) {
                        0 => "sample cloudy, filtered before analysis",
                        1 => "bottle label smudged",
                        _ => "",
                    };
                    out.push(Sample {
                        plant,
                        loc,
                        date,
                        rep: r as u32 + 1,
                        value,
                        unc,
                        analyzed: plus_days(date, 1 + rng.below(3) as i64),
                        repeat,
                        note,
                    });
                }
            }
        }
    }
    out
}

/// One CSV row; `second` selects the repeat's version of the sample.
fn record(s: &Sample, second: bool) -> Vec<String> {
    let (mut value, mut unc, mut analyzed, mut note, mut flag) =
        (s.value, s.unc, s.analyzed, s.note, "True");
    if second {
        match s.repeat {
            Repeat::Noise(ulps) => {
                value = f64::from_bits(s.value.to_bits().wrapping_add_signed(ulps));
            }
            Repeat::Conflict { second, unc: u } => {
                value = second;
                unc = Some(u);
                analyzed = plus_days(s.date, 8);
                note = "re-analysed, first result failed batch QC";
            }
            Repeat::Exact | Repeat::Once => {}
        }
    }
    if matches!(s.repeat, Repeat::Conflict { .. }) {
        flag = "False";
    }
    let batch = match s.plant {
        Plant::A => 1,
        Plant::B => 2,
    };
    let sub = match (s.plant, s.loc) {
        (Plant::A, Loc::Up) => "PC1",
        (Plant::A, Loc::Down) => "SC2",
        (Plant::B, Loc::Up) => "PC2",
        (Plant::B, Loc::Down) => "FC1",
    };
    vec![
        format!(
            "{}_{}_{}_{:02}",
            s.plant.id(),
            s.loc.unit(),
            s.date.format("%Y%m%d"),
            s.rep
        ),
        s.date.format("%Y-%m-%d").to_string(),
        analyzed.format("%Y-%m-%d").to_string(),
        "aqueous".into(),
        "lab_measurement".into(),
        "CREW Analytical Lab".into(),
        "ICP-OES".into(),
        s.rep.to_string(),
        format!("ICP-{}-{batch}", analyzed.format("%Y%m%d")),
        s.plant.id().into(),
        s.loc.unit().into(),
        sub.into(),
        "outlet".into(),
        "calcium".into(),
        "mg/L".into(),
        format!("{value}"),
        unc.map(|u| format!("{u}")).unwrap_or_default(),
        "raw_filename.csv".into(),
        "sheet_name".into(),
        match s.loc {
            Loc::Up => "11".into(),
            Loc::Down => "12".into(),
        },
        "1900-01-01".into(),
        note.into(),
        flag.into(),
    ]
}

fn file_name(opts: &SampleOptions) -> String {
    let (s, e) = (opts.start, opts.end());
    if s.day() == 1 && opts.months == 12 && s.month() == 1 {
        format!("calcium_lab_results_{}.csv", s.year())
    } else if s.day() == 1 && opts.months == 3 && s.month() % 3 == 1 {
        format!("calcium_lab_results_{}Q{}.csv", s.year(), s.month() / 3 + 1)
    } else {
        format!(
            "calcium_lab_results_{}_{}.csv",
            s.format("%Y%m%d"),
            e.format("%Y%m%d")
        )
    }
}

/// The lab CSV: every sample's first report sorted by plant, unit, date and
/// replicate, then the repeats sorted by date first, as if a second export
/// had been appended.
pub(crate) fn generate(opts: &SampleOptions) -> Result<SampleFile, SampleError> {
    let name = file_name(opts);
    let encode = |e: &dyn std::fmt::Display| SampleError::Encode {
        file: name.clone(),
        message: e.to_string(),
    };
    let mut all = samples(opts);
    all.sort_by_key(|a| (a.plant, a.loc, a.date, a.rep));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(LAB_COLUMNS).map_err(|e| encode(&e))?;
    for s in &all {
        w.write_record(record(s, false)).map_err(|e| encode(&e))?;
    }
    let mut repeats: Vec<&Sample> = all
        .iter()
        .filter(|s| !matches!(s.repeat, Repeat::Once))
        .collect();
    repeats.sort_by_key(|a| (a.date, a.plant, a.loc, a.rep));
    for s in repeats {
        w.write_record(record(s, true)).map_err(|e| encode(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| encode(&e))?;
    Ok(SampleFile { name, bytes })
}
