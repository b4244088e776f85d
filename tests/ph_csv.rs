//! pH sensor log quirks (FORMATS §2).

use std::sync::atomic::Ordering;

use crew_mrv_core::import::PIECES_JOINED;
use crew_mrv_core::model::Severity;
use crew_mrv_core::{read_file, Config, FileKind, SkipReason};

use crate::fixtures::*;

const PH: &str = "WB0038_PH_2025_sanitized.csv";

fn read(name: &str, text: &str) -> crew_mrv_core::FileImport {
    let f = read_file(name, text.as_bytes(), &Config::default());
    assert_balanced(&f);
    f
}

#[test]
fn every_timestamp_form_is_read_as_the_wall_clock_written() {
    let day = d(2025, 4, 1);
    let times = [
        at(day, 0, 5),
        at(day, 9, 30),
        at(day, 12, 0),
        at(day, 13, 5),
        at(day, 23, 59),
    ];
    for form in ALL_TS {
        let rows = times
            .iter()
            .map(|t| ph_row(&ts(*t, form), "7.2", "WB0038", "aeration_basin", "PLANT_A"))
            .collect();
        let text = ph_table(rows).to_text(',');
        let f = read(PH, &text);
        assert_eq!(f.kind, Some(FileKind::PhSensor), "{form:?}");
        let got: Vec<_> = f.records.sensor.iter().map(|r| r.at).collect();
        assert_eq!(got, times, "{form:?}: {text}");
        assert_eq!(f.account.records, 5, "{form:?}");
        assert!(file_findings(&f, "unparseable_date").is_empty(), "{form:?}");
    }
}

#[test]
fn unreadable_timestamps_are_skipped_with_their_location() {
    let day = d(2025, 4, 1);
    let rows = vec![
        ph_row(
            &ts(at(day, 0, 0), Ts::IsoSpace),
            "7.2",
            "WB0038",
            "aeration_basin",
            "PLANT_A",
        ),
        ph_row(
            "4/31/2025 1:00 PM",
            "7.2",
            "WB0038",
            "aeration_basin",
            "PLANT_A",
        ),
        ph_row("yesterday", "7.2", "WB0038", "aeration_basin", "PLANT_A"),
    ];
    let f = read(PH, &ph_table(rows).to_text(','));
    assert_eq!(f.account.records, 1);
    assert_eq!(reasons(&f).get(&SkipReason::UnparseableDate), Some(&2));
    let u = file_findings(&f, "unparseable_date");
    assert_eq!(u.len(), 2);
    assert_eq!(
        (u[0].at.row, u[0].at.col_letters().as_str()),
        (Some(3), "A")
    );
    assert_eq!((u[0].level, u[0].severity), (3, Severity::Warning));
}

#[test]
fn blank_values_are_dropouts_skipped_as_missing_value() {
    let day = d(2025, 4, 1);
    let rows = (0..6)
        .map(|i| {
            let v = if i % 2 == 1 { "" } else { "7.0" };
            ph_row(
                &ts(at(day, 1, i), Ts::IsoT),
                v,
                "WB0038",
                "aeration_basin",
                "PLANT_A",
            )
        })
        .collect();
    let f = read(PH, &ph_table(rows).to_text(','));
    assert_eq!(f.account.records, 3);
    assert_eq!(reasons(&f).get(&SkipReason::MissingValue), Some(&3));
    let mv = file_findings(&f, "missing_value");
    assert_eq!(mv.len(), 3);
    assert_eq!((mv[0].level, mv[0].severity), (2, Severity::Info));
    assert_eq!(
        (mv[0].at.row, mv[0].at.col_letters().as_str()),
        (Some(3), "B")
    );
    assert_eq!(mv[0].date, Some(day));
}

#[test]
fn non_numeric_values_are_skipped_as_unparseable() {
    let day = d(2025, 4, 1);
    let bad = ["Bad", "NaN", "#N/A", "---", "inf"];
    let mut rows: Vec<Vec<String>> = bad
        .iter()
        .enumerate()
        .map(|(i, v)| {
            ph_row(
                &ts(at(day, 2, i as u32), Ts::Us),
                v,
                "WB0038",
                "aeration_basin",
                "PLANT_A",
            )
        })
        .collect();
    rows.push(ph_row(
        &ts(at(day, 3, 0), Ts::Us),
        "6.95",
        "WB0038",
        "aeration_basin",
        "PLANT_A",
    ));
    let f = read(PH, &ph_table(rows).to_text(','));
    assert_eq!(f.account.records, 1);
    assert_eq!(f.records.sensor[0].value, 6.95);
    assert_eq!(reasons(&f).get(&SkipReason::UnparseableValue), Some(&5));
    let un = file_findings(&f, "unparseable_number");
    assert_eq!(un.len(), 5);
    assert!(un[0].message.contains("'Bad'"), "{}", un[0].message);
    assert_eq!((un[0].level, un[0].severity), (3, Severity::Warning));
    assert_eq!(un[2].at.row, Some(4));
}

#[test]
fn several_sensors_in_several_files_and_in_one_file() {
    let day = d(2025, 4, 1);
    let one = |sensor: &str, unit: &str, v: &str| {
        (0..4)
            .map(|i| ph_row(&ts(at(day, 6, i), Ts::IsoSpace), v, sensor, unit, "PLANT_A"))
            .collect::<Vec<_>>()
    };
    let a = ph_table(one("WB0038", "aeration_basin", "7.0")).to_text(',');
    let b = ph_table(one("WB0039", "secondary_clarifier", "7.6")).to_text(',');
    let mut mixed = one("WB0040", "primary_clarifier", "6.5");
    mixed.extend(one("WB0041", "primary_clarifier", "6.7"));
    let c = ph_table(mixed).to_text(',');
    let r = run_default(&[
        src("WB0038_PH_2025_sanitized.csv", a),
        src("WB0039_PH_2025_sanitized.csv", b),
        src("mixed_sensors.csv", c),
    ]);
    assert_eq!(r.store.sensor_readings().count(), 16);
    let f = file(&r, "mixed_sensors.csv");
    let ids: Vec<&str> = f.records.series.iter().map(|s| &*s.sensor_id).collect();
    assert_eq!(ids, ["WB0040", "WB0041"]);
    // Daily statistics per plant, unit and parameter.
    let units: Vec<(&str, f64, u32)> = r
        .sensor_days
        .iter()
        .map(|s| (&*s.plant_unit_id, s.mean, s.n))
        .collect();
    assert_eq!(
        units,
        [
            ("aeration_basin", 7.0, 4),
            ("primary_clarifier", (6.5 * 4.0 + 6.7 * 4.0) / 8.0, 8),
            ("secondary_clarifier", 7.6, 4)
        ]
    );
    assert!(r.co2.is_empty(), "pH is not part of the CO2 day set");
    let lr = output(&r, "lab_readings.csv");
    assert_eq!(lr.lines().count(), 17);
    assert!(lr.contains("\"PLANT_A\",\"aeration_basin\",other,2025-04-01T06:00:00,\"pH\",,7,\"pH\",,,\"WB0038\",,\"WB0038_PH_2025_sanitized.csv\",2,"));
}

#[test]
fn sensor_id_from_the_file_name_and_extra_columns_as_metadata() {
    let day = d(2025, 4, 1);
    let mut t = ph_table(vec![ph_row(
        &ts(at(day, 0, 0), Ts::IsoZ),
        "7.3",
        "",
        "aeration_basin",
        "PLANT_A",
    )]);
    t.drop_col("sensor_id");
    t.add_col("Quality", |_| "Good".into());
    t.add_col("Site", |_| "North, bay 2".into());
    let f = read(PH, &t.to_text(','));
    assert_eq!(&*f.records.series[0].sensor_id, "WB0038");
    let meta: serde_json::Value =
        serde_json::from_str(&f.records.series[0].metadata).expect("json");
    assert_eq!(meta["Quality"], "Good");
    assert_eq!(meta["Site"], "North, bay 2");
    assert!(file_findings(&f, "missing_column")
        .iter()
        .any(|x| x.message.contains("WB0038")));
}

#[test]
fn semicolon_logs_with_decimal_commas() {
    let day = d(2025, 4, 1);
    let rows = vec![
        ph_row(
            &ts(at(day, 0, 0), Ts::IsoSpace),
            "7,25",
            "WB0038",
            "aeration_basin",
            "PLANT_A",
        ),
        ph_row(
            &ts(at(day, 0, 1), Ts::IsoSpace),
            "7.5",
            "WB0038",
            "aeration_basin",
            "PLANT_A",
        ),
    ];
    let f = read(PH, &ph_table(rows).to_text(';'));
    let v: Vec<f64> = f.records.sensor.iter().map(|r| r.value).collect();
    assert_eq!(v, [7.25, 7.5]);
}

#[test]
fn ph_outside_0_to_14_is_kept_and_reported() {
    let day = d(2025, 4, 1);
    let rows = vec![
        ph_row(
            &ts(at(day, 0, 0), Ts::IsoSpace),
            "15.2",
            "WB0038",
            "aeration_basin",
            "PLANT_A",
        ),
        ph_row(
            &ts(at(day, 0, 1), Ts::IsoSpace),
            "7.5",
            "WB0038",
            "aeration_basin",
            "PLANT_A",
        ),
    ];
    let f = read(PH, &ph_table(rows).to_text(','));
    assert_eq!(f.account.records, 2);
    let o = file_findings(&f, "out_of_range");
    assert_eq!(o.len(), 1);
    assert_eq!(
        (o[0].level, o[0].at.row, o[0].at.col_letters().as_str()),
        (3, Some(2), "B")
    );
    assert_eq!(o[0].plant_id.as_deref(), Some("PLANT_A"));
}

#[test]
fn many_dropouts_are_listed_ten_by_ten_then_counted_never_dropped() {
    let day = d(2025, 4, 1);
    let rows = (0..40)
        .map(|i| {
            let v = if i % 4 == 0 { "7.0" } else { "" };
            ph_row(
                &ts(at(day, 1, i), Ts::IsoSpace),
                v,
                "WB0038",
                "aeration_basin",
                "PLANT_A",
            )
        })
        .collect();
    let f = read(PH, &ph_table(rows).to_text(','));
    assert_eq!(reasons(&f).get(&SkipReason::MissingValue), Some(&30));
    let mv = file_findings(&f, "missing_value");
    assert_eq!(mv.len(), 11, "10 listed one by one and one summary");
    let summary = mv
        .iter()
        .find(|x| x.message.starts_with("20 more rows like this"))
        .expect("summary");
    assert!(
        summary.message.contains("(rows 16, 17, 19, 20, 21, 23,"),
        "{}",
        summary.message
    );
    assert_eq!(summary.at.col_letters(), "B");
}

fn day_first_log(days: &[u32], form: Ts) -> String {
    let rows = days
        .iter()
        .map(|day| {
            let t = at(d(2025, 4, *day), 13, 5);
            ph_row(&ts(t, form), "7.2", "WB0038", "aeration_basin", "PLANT_A")
        })
        .collect();
    ph_table(rows).to_text(',')
}

/// Issue 12: `DD/MM/YYYY` timestamps were read as `M/D/YYYY` without a
/// word (5 April became 4 May; 25 April was unreadable). One day above 12
/// in the first place makes the whole file day-first.
#[test]
fn a_day_above_12_first_makes_the_file_day_first() {
    let f = read(PH, &day_first_log(&[5, 6, 25], Ts::DayFirst));
    let got: Vec<_> = f.records.sensor.iter().map(|r| r.at).collect();
    assert_eq!(
        got,
        [
            at(d(2025, 4, 5), 13, 5),
            at(d(2025, 4, 6), 13, 5),
            at(d(2025, 4, 25), 13, 5)
        ]
    );
    let o = file_findings(&f, "ambiguous_date");
    assert_eq!(o.len(), 1, "{o:#?}");
    assert_eq!((o[0].severity, o[0].at.row), (Severity::Info, Some(4)));
    assert!(o[0].message.contains("DD/MM/YYYY"), "{}", o[0].message);
}

/// A second part above 12 settles month-first, as before, with nothing to
/// say about it.
#[test]
fn a_day_above_12_second_keeps_month_first_quietly() {
    let f = read(PH, &day_first_log(&[5, 25], Ts::Us));
    let got: Vec<_> = f.records.sensor.iter().map(|r| r.at.date()).collect();
    assert_eq!(got, [d(2025, 4, 5), d(2025, 4, 25)]);
    assert!(file_findings(&f, "ambiguous_date").is_empty());
}

/// Every date ambiguous: read in the configured order (month-first by
/// default), with a level 3 warning naming the assumption and the setting.
#[test]
fn an_all_ambiguous_file_is_warned_and_follows_the_setting() {
    let text = day_first_log(&[1, 2, 3], Ts::DayFirst);
    let f = read(PH, &text);
    let got: Vec<_> = f.records.sensor.iter().map(|r| r.at.date()).collect();
    assert_eq!(got, [d(2025, 1, 4), d(2025, 2, 4), d(2025, 3, 4)]);
    let w = file_findings(&f, "ambiguous_date");
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!((w[0].level, w[0].severity), (3, Severity::Warning));
    assert!(
        w[0].message.contains("read as MM/DD/YYYY"),
        "{}",
        w[0].message
    );
    assert!(w[0].message.contains("ambiguous_dates"), "{}", w[0].message);
    let config = Config {
        ambiguous_dates: crew_mrv_core::config::DayOrder::DayFirst,
        ..Config::default()
    };
    let f = read_file(PH, text.as_bytes(), &config);
    assert_balanced(&f);
    let got: Vec<_> = f.records.sensor.iter().map(|r| r.at.date()).collect();
    assert_eq!(got, [d(2025, 4, 1), d(2025, 4, 2), d(2025, 4, 3)]);
}

/// Issue 12: a lone `"` opening a field swallowed every later line into
/// one field: thousands of readings gone while the account, counting
/// records, still balanced. Now the stray quote is a finding with its line
/// range, the rows after it are read, and the account counts lines.
#[test]
fn a_stray_quote_loses_one_row_not_the_rest_of_the_log() {
    let day = d(2025, 4, 1);
    let rows: Vec<Vec<String>> = (0..2000u32)
        .map(|i| {
            let t = at(day, 0, 0) + chrono::Duration::minutes(i64::from(i));
            ph_row(
                &ts(t, Ts::IsoSpace),
                "7.1",
                "WB0038",
                "aeration_basin",
                "PLANT_A",
            )
        })
        .collect();
    let t = ph_table(rows);
    let value = t.col("Measurement value");
    let text = with_stray_quote(&t.to_text(','), 11, value, ',');
    let f = read(PH, &text);
    assert_eq!(f.account.lines, 2001);
    assert_eq!(f.account.rows_in, 2001, "every line is a row again");
    assert_eq!(f.account.lines_in_fields, 0);
    assert_eq!(f.records.sensor.len(), 1999, "only the line with the quote");
    assert_eq!(reasons(&f).get(&SkipReason::UnparseableValue), Some(&1));
    let q = file_findings(&f, "stray_quote");
    assert_eq!(q.len(), 1, "{q:#?}");
    assert_eq!(q[0].at.row, Some(11));
    assert!(q[0].message.contains("until line 2001"), "{}", q[0].message);
    let summary = file_findings(&f, "file_recognised");
    assert!(
        summary.iter().any(|s| s
            .message
            .contains("2001 lines, 2001 rows = 1999 records + 2 skipped")),
        "{summary:#?}"
    );
}

/// A quoted note of a few lines is one row spanning them: its lines are
/// accounted inside the field, not lost and not taken for rows.
#[test]
fn a_quoted_note_over_lines_is_one_row_and_its_lines_are_counted() {
    let day = d(2025, 4, 1);
    let mut t = ph_table(
        (0..3u32)
            .map(|h| {
                ph_row(
                    &ts(at(day, h, 0), Ts::IsoSpace),
                    "7.1",
                    "WB0038",
                    "basin",
                    "PLANT_A",
                )
            })
            .collect(),
    );
    t.add_col("Comment", |i| {
        if i == 1 {
            "probe\nwiped".into()
        } else {
            String::new()
        }
    });
    let f = read(PH, &t.to_text(','));
    assert_eq!(f.records.sensor.len(), 3);
    assert_eq!(
        (
            f.account.lines,
            f.account.rows_in,
            f.account.lines_in_fields
        ),
        (5, 4, 1)
    );
    assert!(file_findings(&f, "stray_quote").is_empty());
}

/// Issue 12: a log of thousands of distinct unit ids made as many series
/// (and a report and chart of as many). Past `MAX_SERIES_IN_FILE` rows that
/// would start another series are skipped with a reason and a finding.
#[test]
fn a_file_makes_at_most_its_cap_of_series() {
    use crew_mrv_core::import::MAX_SERIES_IN_FILE;
    let n = MAX_SERIES_IN_FILE + 76;
    let rows = (0..n)
        .map(|i| {
            let t = ts(at(d(2025, 4, 1), 0, 0), Ts::IsoSpace);
            ph_row(&t, "7.1", "WB0038", &format!("unit_{i:05}"), "PLANT_A")
        })
        .collect();
    let f = read(PH, &ph_table(rows).to_text(','));
    assert_eq!(f.records.series.len(), MAX_SERIES_IN_FILE);
    assert_eq!(f.records.sensor.len(), MAX_SERIES_IN_FILE);
    assert_eq!(reasons(&f).get(&SkipReason::TooManySeries), Some(&76));
    let w: Vec<_> = file_findings(&f, "unrecognised_row")
        .into_iter()
        .filter(|x| x.message.contains("series"))
        .collect();
    assert!(!w.is_empty());
    assert_eq!(w[0].at.row, Some(MAX_SERIES_IN_FILE as u32 + 2));
}

/// Runs a file's pieces last first (as threads that finish in any order
/// would hand them back), cutting a file into pieces of at least `min`
/// bytes; counts the pieces it was given.
struct Backwards {
    width: usize,
    min: usize,
    pieces: std::sync::atomic::AtomicUsize,
}

impl crew_mrv_core::spread::Spread for Backwards {
    fn width(&self) -> usize {
        self.width
    }
    fn min_piece_bytes(&self) -> usize {
        self.min
    }
    fn run(&self, n: usize, task: &(dyn Fn(usize) + Sync)) {
        self.pieces
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        for i in (0..n).rev() {
            task(i);
        }
    }
}

/// Whether byte `at` of `text` lies inside a quoted field (the text has
/// no stray quote).
fn inside_quotes(text: &[u8], at: usize) -> bool {
    text[..at].iter().filter(|b| **b == b'"').count() % 2 == 1
}

/// A large log is read in pieces on several threads when the edge gives
/// them (`read_file_with`). A piece that starts inside a quoted field
/// holding line breaks, row numbers counted from the piece instead of
/// the file, findings capped per piece, a unit warned once per piece, a
/// UTC offset known only from a later piece or a series numbered per
/// piece would each make the import differ from the one-walk read: the
/// whole import (records, row numbers, account, findings) must be the
/// same, for several piece sizes and widths, LF and CRLF, with a stray
/// quote and blank lines.
#[test]
fn a_log_read_in_pieces_is_the_log_read_whole() {
    let start = at(d(2025, 4, 1), 0, 0);
    let rows: Vec<Vec<String>> = (0..2400usize)
        .map(|i| {
            let t = start + chrono::Duration::minutes(i as i64);
            let form = match i % 13 {
                5 => Ts::IsoZ,
                9 if i > 1800 => Ts::IsoOffset,
                _ => Ts::IsoSpace,
            };
            let value = match i % 37 {
                3 => String::new(),
                4 => "n/a".to_string(),
                5 => "15.2".to_string(),
                _ => format!("{:.2}", 6.5 + (i % 11) as f64 / 10.0),
            };
            let sensor = ["WB0038", "WB0041", "WB0052"][i % 3];
            let mut row = ph_row(&ts(t, form), &value, sensor, "aeration_basin", "PLANT_A");
            if i % 151 == 7 {
                row[2] = ["mV", "units"][i % 2].to_string();
            }
            row
        })
        .collect();
    let mut table = ph_table(rows);
    // A note on every other row whose first line ends in a line break, so
    // about half of the places a piece may start are inside a field.
    table.add_col("Note", |i| {
        if i % 2 == 0 {
            "probe cleaned\nby the operator".to_string()
        } else {
            String::new()
        }
    });
    let lf = table.to_text(',');
    let mut blank = String::new();
    for (i, line) in lf.split_inclusive('\n').enumerate() {
        blank.push_str(line);
        if i % 500 == 250 && line.ends_with("\n") && !line.ends_with("cleaned\n") {
            blank.push_str("\n\n");
        }
    }
    let quiet = (2000..)
        .find(|l| {
            lf.split('\n')
                .nth(l - 1)
                .is_some_and(|t| !t.contains('"') && !t.is_empty())
        })
        .expect("a line without quotes");
    let stray = with_stray_quote(&lf, quiet, 1, ',');
    let config = Config::default();
    let mut inside = 0;
    for (label, text) in [
        ("lf", lf.clone()),
        ("crlf", lf.replace('\n', "\r\n")),
        ("blank lines", blank),
        ("stray quote", stray),
    ] {
        let whole = read(PH, &text);
        assert!(whole.records.sensor.len() > 2000, "{label}");
        assert!(whole.findings.len() > 20, "{label}");
        let want = serde_json::to_string(&whole).expect("json");
        for (width, min) in [(2, 64), (3, 4096), (7, 333), (64, 100)] {
            let spread = Backwards {
                width,
                min,
                pieces: Default::default(),
            };
            let joined = PIECES_JOINED.load(Ordering::Relaxed);
            let got = crew_mrv_core::read_file_with(PH, text.as_bytes(), &config, &spread);
            assert_eq!(
                PIECES_JOINED.load(Ordering::Relaxed),
                joined + 1,
                "{label}, width {width}: the pieces were not joined"
            );
            assert!(
                spread.pieces.into_inner() >= 2,
                "{label}, width {width}: not read in pieces"
            );
            let got = serde_json::to_string(&got).expect("json");
            assert!(
                got == want,
                "{label}, width {width}, pieces of {min} bytes: the import differs"
            );
            if label == "lf" {
                let n = width.min(text.len() / min).max(2);
                inside += (1..n)
                    .filter(|k| {
                        let target = text.len() * k / n;
                        let nl = target
                            + text.as_bytes()[target..]
                                .iter()
                                .position(|b| *b == b'\n')
                                .unwrap_or(0);
                        inside_quotes(text.as_bytes(), nl)
                    })
                    .count();
            }
        }
    }
    assert!(
        inside > 5,
        "only {inside} pieces started inside a quoted field"
    );
}
