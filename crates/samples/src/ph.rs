//! pH sensor logs: one CSV per sensor, one reading per cadence step.
//!
//! The real logs differ between sensors in everything but content: the
//! extra columns and the column order, the timestamp form (ISO, US 12-hour,
//! ISO `T` with or without `Z` or an offset), the line ending. They have
//! dropouts (blank values, sometimes for hours) and non-numeric readings
//! (`Bad`, `---`, `Comm Fail`, `Calibrating`). The sensor id leads the file
//! name. The plant clock is UTC-05:00 all year: a `Z` timestamp is 5 h
//! ahead of the local one, a `-05:00` one shows local time.
//!
//! Year-mode logs are large (~525,600 rows a sensor), so rows are written
//! straight into the output buffer without `fmt`.

use chrono::{Datelike, NaiveDate};

use super::dates::{days_between, plus_days};
use super::rng::Rng;
use super::{SampleFile, SampleOptions};

/// How a log writes its timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsForm {
    /// `2025-04-01 13:05:00`
    Iso,
    /// `4/1/2025 1:05 PM`
    UsAmPm,
    /// `4/1/2025 1:05:00 PM`
    UsAmPmSec,
    /// `4/1/2025 13:05:00`
    Us24Sec,
    /// `2025-04-01T13:05:00`
    TNaive,
    /// `2025-04-01T18:05:00Z`
    TZulu,
    /// `2025-04-01T13:05:00-05:00`
    TOffset,
    /// The first third of the log `TNaive`, the second `TZulu`, the last
    /// `TOffset`: a logger whose configuration changed twice.
    TMixed,
}

/// Which columns a log has, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id,Process value,Location,Status`
    Plain,
    /// `sensor_id,plant_id,unit_type_id,Timestamp,Process value,Measurement value,Unit,Quality,Tag name`, CRLF
    Scada,
    /// `Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id,Process value,Comment`
    Commented,
}

struct Sensor {
    id: &'static str,
    plant: &'static str,
    unit: &'static str,
    form: TsForm,
    layout: Layout,
    base_ph: f64,
    location: &'static str,
    tag: &'static str,
}

/// The first two are the committed logs; the third is the `T`-form log
/// (short in the committed set); all eight make the benchmark year.
const SENSORS: [Sensor; 8] = [
    Sensor {
        id: "WB0038",
        plant: "PLANT_A",
        unit: "secondary_clarifier",
        form: TsForm::Iso,
        layout: Layout::Plain,
        base_ph: 7.18,
        location: "Secondary Clarifier 2 Effluent Channel",
        tag: "PA.SC2.AIT_2210.PV",
    },
    Sensor {
        id: "WB0041",
        plant: "PLANT_B",
        unit: "secondary_clarifier",
        form: TsForm::UsAmPm,
        layout: Layout::Scada,
        base_ph: 6.98,
        location: "Final Clarifier 1 Weir",
        tag: "PB.FC1.AIT_4102.PV",
    },
    Sensor {
        id: "WB0052",
        plant: "PLANT_A",
        unit: "primary_clarifier",
        form: TsForm::TMixed,
        layout: Layout::Commented,
        base_ph: 7.05,
        location: "Primary Clarifier 1 Effluent",
        tag: "PA.PC1.AIT_1105.PV",
    },
    Sensor {
        id: "WB0057",
        plant: "PLANT_B",
        unit: "primary_clarifier",
        form: TsForm::UsAmPmSec,
        layout: Layout::Plain,
        base_ph: 6.92,
        location: "Primary Effluent Box",
        tag: "PB.PE.AIT_3101.PV",
    },
    Sensor {
        id: "WB0063",
        plant: "PLANT_A",
        unit: "secondary_clarifier",
        form: TsForm::TZulu,
        layout: Layout::Scada,
        base_ph: 7.22,
        location: "Secondary Clarifier 4 Effluent Channel",
        tag: "PA.SC4.AIT_2240.PV",
    },
    Sensor {
        id: "WB0066",
        plant: "PLANT_B",
        unit: "secondary_clarifier",
        form: TsForm::TOffset,
        layout: Layout::Commented,
        base_ph: 7.01,
        location: "Final Clarifier 2 Weir",
        tag: "PB.FC2.AIT_4202.PV",
    },
    Sensor {
        id: "WB0071",
        plant: "PLANT_A",
        unit: "primary_clarifier",
        form: TsForm::Us24Sec,
        layout: Layout::Plain,
        base_ph: 7.02,
        location: "Primary Clarifier 3 Effluent",
        tag: "PA.PC3.AIT_1305.PV",
    },
    Sensor {
        id: "WB0074",
        plant: "PLANT_B",
        unit: "primary_clarifier",
        form: TsForm::Iso,
        layout: Layout::Scada,
        base_ph: 6.95,
        location: "Primary Clarifier 2 Effluent",
        tag: "PB.PC2.AIT_3202.PV",
    },
];

/// Generates the pH logs for `opts` (see `SampleOptions::ph_sensors`).
pub(crate) fn generate(opts: &SampleOptions) -> Vec<SampleFile> {
    let (start, end) = (opts.start, opts.end());
    let mut files = Vec::new();
    for i in 0..opts.ph_sensors {
        let spec = &SENSORS[i % SENSORS.len()];
        // Beyond eight sensors, reuse the layouts under fresh ids.
        let id = if i < SENSORS.len() {
            spec.id.to_string()
        } else {
            format!("WB{:04}", 100 + i)
        };
        files.push(log(opts, spec, &id, start, end));
    }
    if opts.ph_sensors < 3 {
        // A two-week log near the end of the period, so that the `T` forms
        // appear in the committed set too.
        let spec = &SENSORS[2];
        let from = plus_days(end, -20).max(start);
        let to = plus_days(end, -7).max(from);
        files.push(log(opts, spec, spec.id, from, to));
    }
    files
}

fn header(layout: Layout) -> &'static str {
    match layout {
        Layout::Plain => "Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id,Process value,Location,Status",
        Layout::Scada => "sensor_id,plant_id,unit_type_id,Timestamp,Process value,Measurement value,Unit,Quality,Tag name",
        Layout::Commented => "Timestamp,Measurement value,Unit,sensor_id,unit_type_id,plant_id,Process value,Comment",
    }
}

/// One reading's value as the logger wrote it.
enum Reading {
    Value(i64), // hundredths of a pH unit
    Blank,
    Text(&'static str),
}

fn log(opts: &SampleOptions, s: &Sensor, id: &str, from: NaiveDate, to: NaiveDate) -> SampleFile {
    let cadence = opts.ph_cadence_minutes.max(1);
    let days: Vec<NaiveDate> = days_between(from, to).collect();
    let per_day = 1440usize.div_ceil(cadence as usize);
    let mut out = Vec::with_capacity(days.len() * per_day * 96 + 256);
    let eol: &[u8] = if s.layout == Layout::Scada {
        b"\r\n"
    } else {
        b"\n"
    };
    out.extend_from_slice(header(s.layout).as_bytes());
    out.extend_from_slice(eol);

    let mut rng = Rng::stream(opts.seed, &format!("ph/{id}"));
    let mut drift = 0.0f64;
    let n_days = days.len();
    for (di, &day) in days.iter().enumerate() {
        drift = (drift + 0.03 * rng.gauss()).clamp(-0.22, 0.22);
        // A dropout block on some days: the sensor stops reporting for
        // half an hour to six hours.
        let dropout = if rng.chance(0.12) {
            let at = rng.below(1440) as u32;
            let len = 30 + rng.below(331) as u32;
            Some((at, at + len))
        } else {
            None
        };
        let calibration = di % 14 == 6;
        let form = match s.form {
            TsForm::TMixed if di * 3 < n_days => TsForm::TNaive,
            TsForm::TMixed if di * 3 < 2 * n_days => TsForm::TZulu,
            TsForm::TMixed => TsForm::TOffset,
            f => f,
        };
        let dates = DayStrings::new(day);
        let mut minute = 0u32;
        while minute < 1440 {
            let mut comment = "";
            let reading = if dropout.is_some_and(|(a, b)| (a..b).contains(&minute)) {
                Reading::Blank
            } else if calibration && (540..570).contains(&minute) {
                comment = "2-pt calibration";
                Reading::Text("Calibrating")
            } else if minute == 600 && di % 9 == 4 {
                Reading::Text("Bad")
            } else if minute == 870 && di % 13 == 8 {
                Reading::Text("---")
            } else if rng.chance(0.0015) {
                Reading::Blank
            } else if rng.chance(0.0006) {
                Reading::Text(["Bad", "---", "Comm Fail"][rng.below(3) as usize])
            } else {
                let turn = f64::from(minute) / 1440.0 - 15.0 / 24.0;
                let ph = s.base_ph + 0.21 * cos_turns(turn) + drift + 0.015 * rng.gauss();
                Reading::Value((ph.clamp(6.5, 7.8) * 100.0).round() as i64)
            };
            if comment.is_empty() && s.layout == Layout::Commented && minute == 480 && di % 7 == 0 {
                comment = "weekly check ok";
            }
            row(&mut out, s, id, form, &dates, minute, &reading, comment);
            out.extend_from_slice(eol);
            minute += cadence;
        }
    }
    SampleFile {
        name: format!("{id}_PH_{}_sanitized.csv", from.year()),
        bytes: out,
    }
}

/// A day's date strings, formatted once for its 1,440 rows.
struct DayStrings {
    iso: String,
    us: String,
    iso_next: String,
}

impl DayStrings {
    fn new(d: NaiveDate) -> Self {
        let n = plus_days(d, 1);
        DayStrings {
            iso: d.format("%Y-%m-%d").to_string(),
            us: format!("{}/{}/{}", d.month(), d.day(), d.year()),
            iso_next: n.format("%Y-%m-%d").to_string(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    out: &mut Vec<u8>,
    s: &Sensor,
    id: &str,
    form: TsForm,
    dates: &DayStrings,
    minute: u32,
    reading: &Reading,
    comment: &str,
) {
    let status = match reading {
        Reading::Value(_) => "Good",
        Reading::Blank => "No Data",
        Reading::Text(_) => "Bad",
    };
    match s.layout {
        Layout::Plain => {
            timestamp(out, form, dates, minute);
            out.push(b',');
            value(out, reading);
            for f in [
                ",pH,", id, ",", s.unit, ",", s.plant, ",pH,", s.location, ",",
            ] {
                out.extend_from_slice(f.as_bytes());
            }
            out.extend_from_slice(status.as_bytes());
        }
        Layout::Scada => {
            for f in [id, ",", s.plant, ",", s.unit, ","] {
                out.extend_from_slice(f.as_bytes());
            }
            timestamp(out, form, dates, minute);
            out.extend_from_slice(b",pH,");
            value(out, reading);
            out.extend_from_slice(b",pH,");
            out.extend_from_slice(if status == "Good" { b"Good" } else { b"Bad" });
            out.push(b',');
            out.extend_from_slice(s.tag.as_bytes());
        }
        Layout::Commented => {
            timestamp(out, form, dates, minute);
            out.push(b',');
            value(out, reading);
            for f in [",pH,", id, ",", s.unit, ",", s.plant, ",pH,", comment] {
                out.extend_from_slice(f.as_bytes());
            }
        }
    }
}

fn value(out: &mut Vec<u8>, r: &Reading) {
    match r {
        Reading::Value(h) => {
            push_uint(out, (*h / 100) as u32);
            out.push(b'.');
            push_2d(out, (*h % 100) as u32);
        }
        Reading::Blank => {}
        Reading::Text(t) => out.extend_from_slice(t.as_bytes()),
    }
}

fn timestamp(out: &mut Vec<u8>, form: TsForm, dates: &DayStrings, minute: u32) {
    let (h, m) = (minute / 60, minute % 60);
    match form {
        TsForm::Iso | TsForm::TNaive | TsForm::TOffset => {
            out.extend_from_slice(dates.iso.as_bytes());
            out.push(if form == TsForm::Iso { b' ' } else { b'T' });
            hms(out, h, m);
            if form == TsForm::TOffset {
                out.extend_from_slice(b"-05:00");
            }
        }
        TsForm::TZulu => {
            let uh = h + 5;
            let date = if uh >= 24 {
                &dates.iso_next
            } else {
                &dates.iso
            };
            out.extend_from_slice(date.as_bytes());
            out.push(b'T');
            hms(out, uh % 24, m);
            out.push(b'Z');
        }
        TsForm::UsAmPm | TsForm::UsAmPmSec => {
            out.extend_from_slice(dates.us.as_bytes());
            out.push(b' ');
            let h12 = match h {
                0 => 12,
                13.. => h - 12,
                _ => h,
            };
            push_uint(out, h12);
            out.push(b':');
            push_2d(out, m);
            if form == TsForm::UsAmPmSec {
                out.extend_from_slice(b":00");
            }
            out.extend_from_slice(if h < 12 { b" AM" } else { b" PM" });
        }
        TsForm::Us24Sec => {
            out.extend_from_slice(dates.us.as_bytes());
            out.push(b' ');
            push_uint(out, h);
            out.push(b':');
            push_2d(out, m);
            out.extend_from_slice(b":00");
        }
        // Resolved per day by the caller.
        TsForm::TMixed => {}
    }
}

fn hms(out: &mut Vec<u8>, h: u32, m: u32) {
    push_2d(out, h);
    out.push(b':');
    push_2d(out, m);
    out.extend_from_slice(b":00");
}

fn push_2d(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

fn push_uint(out: &mut Vec<u8>, n: u32) {
    if n >= 10 {
        push_uint(out, n / 10);
    }
    out.push(b'0' + (n % 10) as u8);
}

/// cos(2*pi*x) from a polynomial, not libm, so every platform gets the
/// same bits. Accurate to ~1e-6, plenty for a daily pH cycle.
fn cos_turns(x: f64) -> f64 {
    // Reduce to [-0.5, 0.5], then use symmetry to reach [0, 0.25].
    let x = x - (x + 0.5).floor();
    let x = x.abs();
    let (y, sign) = if x > 0.25 { (0.5 - x, -1.0) } else { (x, 1.0) };
    let t = 2.0 * std::f64::consts::PI * y;
    let t2 = t * t;
    // Taylor series to t^10: error < 3e-7 on [0, pi/2].
    let c = 1.0
        - t2 / 2.0 * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0 * (1.0 - t2 / 90.0))));
    sign * c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_is_close() {
        for i in -100..=100 {
            let x = f64::from(i) / 37.0;
            assert!((cos_turns(x) - (2.0 * std::f64::consts::PI * x).cos()).abs() < 1e-5);
        }
    }

    #[test]
    fn timestamp_forms() {
        let d = NaiveDate::from_ymd_opt(2025, 4, 30).unwrap();
        let ds = DayStrings::new(d);
        let f = |form, minute| {
            let mut v = Vec::new();
            timestamp(&mut v, form, &ds, minute);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(f(TsForm::Iso, 13 * 60 + 5), "2025-04-30 13:05:00");
        assert_eq!(f(TsForm::UsAmPm, 5), "4/30/2025 12:05 AM");
        assert_eq!(f(TsForm::UsAmPm, 12 * 60), "4/30/2025 12:00 PM");
        assert_eq!(f(TsForm::UsAmPmSec, 23 * 60 + 59), "4/30/2025 11:59:00 PM");
        assert_eq!(f(TsForm::Us24Sec, 9 * 60 + 1), "4/30/2025 9:01:00");
        assert_eq!(f(TsForm::TNaive, 61), "2025-04-30T01:01:00");
        assert_eq!(f(TsForm::TZulu, 20 * 60), "2025-05-01T01:00:00Z");
        assert_eq!(f(TsForm::TOffset, 20 * 60), "2025-04-30T20:00:00-05:00");
    }

    #[test]
    fn values() {
        let mut v = Vec::new();
        value(&mut v, &Reading::Value(705));
        assert_eq!(v, b"7.05");
    }
}
