//! The sample-data generator: same options, same bytes; and every quirk of
//! FORMATS.md present in the committed set, checked by reading the files
//! back with calamine and csv directly (not with the project's importers).
//!
//! `CREW_MRV_WRITE_SAMPLES=1 cargo test --test tests sample::data_dir` rewrites
//! `data/` from the generator.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::sync::OnceLock;

use calamine::{Data, DataType, Range, Reader};
use chrono::NaiveDate;
use crew_mrv_samples::{generate, manifest, write_dir, SampleFile, SampleOptions};
use sha2::{Digest, Sha256};

fn committed() -> &'static [SampleFile] {
    static FILES: OnceLock<Vec<SampleFile>> = OnceLock::new();
    FILES.get_or_init(|| generate(&SampleOptions::committed()).expect("generate committed set"))
}

fn file(name: &str) -> &'static SampleFile {
    committed()
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not generated"))
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, day).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The one sheet of a workbook: its name, values and formulas.
fn sheet(f: &SampleFile) -> (String, Range<Data>, Range<String>) {
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(f.bytes.clone()))
        .unwrap_or_else(|e| panic!("{}: {e}", f.name));
    let names = wb.sheet_names();
    assert_eq!(names.len(), 1, "{}: one sheet", f.name);
    let values = wb.worksheet_range(&names[0]).unwrap();
    let formulas = wb.worksheet_formula(&names[0]).unwrap();
    (names[0].clone(), values, formulas)
}

/// A cell at an absolute 0-based position.
fn at(r: &Range<Data>, row: u32, col: u32) -> &Data {
    r.get_value((row, col)).unwrap_or(&Data::Empty)
}

fn string_at(r: &Range<Data>, row: u32, col: u32) -> Option<String> {
    match at(r, row, col) {
        Data::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn float_at(r: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match at(r, row, col) {
        Data::Float(v) => Some(*v),
        Data::Int(v) => Some(*v as f64),
        Data::DateTime(v) => Some(v.as_f64()),
        _ => None,
    }
}

// ---------------------------------------------------------------- general

#[test]
fn same_options_same_bytes() {
    let again = generate(&SampleOptions::committed()).unwrap();
    let a: Vec<(String, String)> = committed()
        .iter()
        .map(|f| (f.name.clone(), sha(&f.bytes)))
        .collect();
    let b: Vec<(String, String)> = again
        .iter()
        .map(|f| (f.name.clone(), sha(&f.bytes)))
        .collect();
    assert_eq!(a, b);
}

#[test]
fn committed_set_has_every_file() {
    let names: Vec<&str> = committed().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "PLANT_A-OPS DATA-APR25.xlsx",
            "PLANT_A-OPS DATA-JUNE25.xls",
            "PLANT_A-OPS DATA-MAY25.xls",
            "PLANT_B-MPOR_Crew_03212025to04112025.xlsx",
            "PLANT_B-MPOR_Crew_04042025to04252025.xlsx",
            "PLANT_B-MPOR_Crew_04182025to05232025.xlsx",
            "PLANT_B-MPOR_Crew_05162025to06072025.xlsx",
            "PLANT_B-MPOR_Crew_05302025to06232025.xlsx",
            "PLANT_B-MPOR_Crew_06132025to07112025.xlsx",
            "PLANT_C-daily_log_2025-04_2025-05.xlsx",
            "PLANT_C-daily_log_2025-06.csv",
            "PLANT_C-profile.toml",
            "WB0038_PH_2025_sanitized.csv",
            "WB0041_PH_2025_sanitized.csv",
            "WB0052_PH_2025_sanitized.csv",
            "calcium_lab_results_2025Q2.csv",
            "calcium_lab_results_PLANT_C_2025-04.csv",
        ]
    );
    let total: usize = committed().iter().map(|f| f.bytes.len()).sum();
    assert!(total < 4_000_000, "committed set is {total} bytes");
}

#[test]
fn manifest_lists_files_sorted_with_kinds() {
    let m: serde_json::Value = serde_json::from_slice(&manifest(committed()).unwrap()).unwrap();
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), committed().len());
    for (entry, f) in files.iter().zip(committed()) {
        assert_eq!(entry["name"], f.name.as_str());
        assert_eq!(entry["bytes"], f.bytes.len());
    }
    let kinds: BTreeMap<&str, usize> = files.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e["kind"].as_str().unwrap()).or_default() += 1;
        m
    });
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("calcium_lab", 2),
            ("ph_sensor", 3),
            ("plant_a_operator", 3),
            ("plant_b_mpor", 6),
            ("plant_c_daily_log", 2),
            ("plant_profile", 1),
        ])
    );
}

/// `data/` must be what the generator writes; regenerate it with
/// `CREW_MRV_WRITE_SAMPLES=1`.
#[test]
fn data_dir_is_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    if std::env::var_os("CREW_MRV_WRITE_SAMPLES").is_some() {
        write_dir(&SampleOptions::committed(), &dir).unwrap();
    }
    for f in committed() {
        let on_disk = std::fs::read(dir.join(&f.name))
            .unwrap_or_else(|e| panic!("data/{}: {e} (set CREW_MRV_WRITE_SAMPLES=1)", f.name));
        assert!(on_disk == f.bytes, "data/{} is stale", f.name);
    }
    let m = std::fs::read(dir.join("manifest.json")).unwrap();
    assert_eq!(m, manifest(committed()).unwrap());
}

#[test]
fn write_dir_writes_files_and_manifest() {
    let dir = std::env::temp_dir().join(format!("crew-mrv-sample-{}", std::process::id()));
    let opts = SampleOptions {
        ph_cadence_minutes: 240,
        ph_sensors: 1,
        months: 1,
        ..SampleOptions::committed()
    };
    let names = write_dir(&opts, &dir).unwrap();
    assert_eq!(names.last().map(String::as_str), Some("manifest.json"));
    for n in &names {
        assert!(dir.join(n).is_file(), "{n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_options_are_errors_not_panics() {
    let opts = SampleOptions {
        ph_cadence_minutes: 0,
        ..SampleOptions::committed()
    };
    let e = generate(&opts).unwrap_err();
    assert!(e.to_string().contains("ph_cadence_minutes"), "{e}");
}

// ------------------------------------------------------------ calcium lab

struct LabRow {
    id: String,
    date: NaiveDate,
    plant: String,
    unit: String,
    value: f64,
    unc: Option<f64>,
    rec: csv::StringRecord,
}

fn lab() -> (csv::StringRecord, Vec<LabRow>) {
    let f = file("calcium_lab_results_2025Q2.csv");
    let mut rd = csv::Reader::from_reader(f.bytes.as_slice());
    let header = rd.headers().unwrap().clone();
    let rows = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            LabRow {
                id: r[0].to_string(),
                date: NaiveDate::parse_from_str(&r[1], "%Y-%m-%d").unwrap(),
                plant: r[9].to_string(),
                unit: r[10].to_string(),
                value: r[15].parse().unwrap(),
                unc: (!r[16].is_empty()).then(|| r[16].parse().unwrap()),
                rec: r,
            }
        })
        .collect();
    (header, rows)
}

fn mean_ascending(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.iter().sum::<f64>() / v.len() as f64
}

/// (plant, date, unit) -> (day value, number of samples), as METHOD.md
/// section 2 computes it with the `mean` policy.
fn lab_days(rows: &[LabRow]) -> BTreeMap<(String, NaiveDate, String), (f64, usize)> {
    let mut ids: BTreeMap<&str, Vec<&LabRow>> = BTreeMap::new();
    for r in rows {
        ids.entry(&r.id).or_default().push(r);
    }
    let mut groups: BTreeMap<(String, NaiveDate, String), Vec<f64>> = BTreeMap::new();
    for rs in ids.values() {
        let m = mean_ascending(rs.iter().map(|r| r.value).collect());
        groups
            .entry((rs[0].plant.clone(), rs[0].date, rs[0].unit.clone()))
            .or_default()
            .push(m);
    }
    groups
        .into_iter()
        .map(|(k, v)| {
            let n = v.len();
            (k, (mean_ascending(v), n))
        })
        .collect()
}

#[test]
fn lab_columns_and_placeholders() {
    let (header, rows) = lab();
    // The spec's column list, as our independent fixture writer spells it.
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        crate::fixtures::LAB_COLUMNS
    );
    assert!((580..=640).contains(&rows.len()), "{} rows", rows.len());
    for r in &rows {
        let rep: u32 = r.rec[7].parse().unwrap();
        let expect = format!(
            "{}_{}_{}_{:02}",
            r.plant,
            r.unit,
            r.date.format("%Y%m%d"),
            rep
        );
        assert_eq!(r.id, expect);
        assert!(NaiveDate::parse_from_str(&r.rec[2], "%Y-%m-%d").unwrap() > r.date);
        assert_eq!(&r.rec[3], "aqueous");
        assert_eq!(&r.rec[12], "outlet");
        assert_eq!(&r.rec[13], "calcium");
        assert_eq!(&r.rec[14], "mg/L");
        assert_eq!(&r.rec[17], "raw_filename.csv");
        assert_eq!(&r.rec[18], "sheet_name");
        assert_eq!(&r.rec[20], "1900-01-01");
        assert!(["PLANT_A", "PLANT_B"].contains(&r.plant.as_str()));
        assert!(["primary_clarifier", "secondary_clarifier"].contains(&r.unit.as_str()));
        assert!((20.0..=110.0).contains(&r.value), "{}", r.value);
    }
    let blank = rows.iter().filter(|r| r.unc.is_none()).count() as f64 / rows.len() as f64;
    assert!(
        (0.025..=0.055).contains(&blank),
        "blank uncertainty {blank}"
    );
    // Notes with commas are quoted.
    assert!(rows.iter().any(|r| r.rec[21].contains(',')));
}

#[test]
fn lab_ids_repeat_with_noise_and_a_few_conflicts() {
    let (_, rows) = lab();
    let mut ids: BTreeMap<&str, Vec<&LabRow>> = BTreeMap::new();
    for r in &rows {
        ids.entry(&r.id).or_default().push(r);
    }
    let twice = ids.values().filter(|v| v.len() == 2).count();
    assert!(ids.values().all(|v| v.len() <= 2));
    assert!(
        twice >= 280 && ids.len() - twice <= 15,
        "{twice} of {}",
        ids.len()
    );

    let noise = ids
        .values()
        .filter(|v| v.len() == 2 && v[0].rec[15] != v[1].rec[15])
        .filter(|v| (v[0].value - v[1].value).abs() < 1e-12 * v[0].value)
        .count();
    assert!(noise >= 200, "{noise} noise pairs");
    // The FORMATS.md example, literally: 29.2 and 29.199999999999996.
    assert!(rows
        .iter()
        .any(|r| r.rec[15].contains("99999999999") || r.rec[15].contains("00000000000")));

    let conflicts: BTreeMap<&str, Vec<(String, String)>> = ids
        .iter()
        .filter(|(_, v)| v.len() == 2)
        .filter(|(_, v)| {
            let m = (v[0].value + v[1].value) / 2.0;
            (v[0].value - v[1].value).abs() > 0.001 * m
        })
        .map(|(k, v)| {
            (
                *k,
                v.iter()
                    .map(|r| (r.rec[15].to_string(), r.rec[16].to_string()))
                    .collect(),
            )
        })
        .collect();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        conflicts,
        BTreeMap::from([
            (
                "PLANT_A_primary_clarifier_20250402_01",
                vec![s("43.26", ""), s("42.01231736087999", "0.24")]
            ),
            (
                "PLANT_A_secondary_clarifier_20250506_01",
                vec![s("61.87", ""), s("60.52904417383216", "0.31")]
            ),
            (
                "PLANT_A_secondary_clarifier_20250624_01",
                vec![s("66.3", ""), s("67.48817290063951", "0.35")]
            ),
            (
                "PLANT_B_primary_clarifier_20250520_01",
                vec![s("29.91", ""), s("28.77435091183021", "0.17")]
            ),
            (
                "PLANT_B_secondary_clarifier_20250618_01",
                vec![s("44.05", ""), s("45.21563372094807", "0.26")]
            ),
        ])
    );
}

#[test]
fn lab_replicates_partners_and_deltas() {
    let (_, rows) = lab();
    let days = lab_days(&rows);
    let up = "primary_clarifier".to_string();
    let down = "secondary_clarifier".to_string();

    let reps: BTreeSet<(String, NaiveDate, String)> = days
        .iter()
        .filter(|(_, (_, n))| *n == 3)
        .map(|(k, _)| k.clone())
        .collect();
    let a = "PLANT_A".to_string();
    let b = "PLANT_B".to_string();
    assert_eq!(
        reps,
        BTreeSet::from([
            (a.clone(), d(4, 9), up.clone()),
            (a.clone(), d(5, 14), down.clone()),
            (b.clone(), d(4, 23), down.clone()),
            (b.clone(), d(6, 4), up.clone()),
            (b.clone(), d(6, 4), down.clone()),
        ])
    );
    assert!(days.values().all(|(_, n)| *n == 1 || *n == 3));
    // Only Plant A's 2025-05-14 downstream replicates spread by > 5 %.
    let mut ids: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in &rows {
        ids.entry(&r.id).or_default().push(r.value);
    }
    let spread = |plant: &str, date: NaiveDate, unit: &str| {
        let v: Vec<f64> = (1..=3)
            .map(|k| {
                let id = format!("{plant}_{unit}_{}_{k:02}", date.format("%Y%m%d"));
                mean_ascending(ids[id.as_str()].clone())
            })
            .collect();
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        (hi - lo) / mean_ascending(v)
    };
    assert!(spread("PLANT_A", d(5, 14), &down) > 0.05);
    for (p, dt, u) in &reps {
        if (p.as_str(), *dt) != ("PLANT_A", d(5, 14)) {
            assert!(spread(p, *dt, u) < 0.05, "{p} {dt} {u}");
        }
    }

    let dates = |plant: &str, unit: &str| -> BTreeSet<NaiveDate> {
        days.keys()
            .filter(|(p, _, u)| p == plant && u == unit)
            .map(|(_, dt, _)| *dt)
            .collect()
    };
    let (a_up, a_down) = (dates("PLANT_A", &up), dates("PLANT_A", &down));
    let (b_up, b_down) = (dates("PLANT_B", &up), dates("PLANT_B", &down));
    assert_eq!((a_up.len(), a_down.len()), (89, 83));
    assert_eq!((b_up.len(), b_down.len()), (64, 62));
    let only = |x: &BTreeSet<NaiveDate>, y: &BTreeSet<NaiveDate>| {
        x.difference(y).copied().collect::<Vec<_>>()
    };
    assert_eq!(
        only(&a_up, &a_down),
        [
            d(4, 5),
            d(4, 19),
            d(5, 3),
            d(5, 17),
            d(5, 25),
            d(6, 1),
            d(6, 15),
            d(6, 28)
        ]
    );
    assert_eq!(only(&a_down, &a_up), [d(4, 12), d(6, 7)]);
    assert_eq!(only(&b_up, &b_down), [d(4, 16), d(5, 28), d(6, 11)]);
    assert_eq!(only(&b_down, &b_up), [d(5, 9)]);
    assert!(b_up.iter().chain(&b_down).all(|dt| {
        use chrono::Datelike;
        dt.weekday().number_from_monday() <= 5
    }));

    // Deltas per day (downstream - upstream).
    let mut deltas: BTreeMap<(String, NaiveDate), (f64, f64)> = BTreeMap::new();
    for ((p, dt, u), (v, _)) in &days {
        let e = deltas
            .entry((p.clone(), *dt))
            .or_insert((f64::NAN, f64::NAN));
        if *u == up {
            e.0 = *v;
        } else {
            e.1 = *v;
        }
    }
    deltas.retain(|_, (u, dn)| !u.is_nan() && !dn.is_nan());
    let non_positive: BTreeSet<(String, NaiveDate)> = deltas
        .iter()
        .filter(|(_, (u, dn))| dn - u <= 0.0)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        non_positive,
        BTreeSet::from([
            (a.clone(), d(4, 24)),
            (a.clone(), d(5, 8)),
            (a.clone(), d(6, 19)),
            (b.clone(), d(4, 29)),
        ])
    );
    let zero = deltas[&(a.clone(), d(6, 19))];
    assert_eq!(zero.1 - zero.0, 0.0);
    let swapped: Vec<_> = deltas
        .iter()
        .filter(|(_, (u, dn))| u - dn > 0.2 * dn)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(swapped, [(a.clone(), d(4, 24))]);
    let odd: Vec<_> = deltas
        .iter()
        .filter(|(k, _)| !non_positive.contains(*k) && **k != (b.clone(), d(5, 13)))
        .filter(|(_, (u, dn))| !(4.0..=22.0).contains(&(dn - u)))
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    // The outlier: plausible values, a delta far outside the rest.
    let (u, dn) = deltas[&(b.clone(), d(5, 13))];
    assert!(
        (u - 56.31).abs() < 1e-9 && (dn - 104.72).abs() < 1e-9,
        "{u} {dn}"
    );
}

// --------------------------------------------------------------------- pH

fn ph(name: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let f = file(name);
    let mut rd = csv::Reader::from_reader(f.bytes.as_slice());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let rows = rd
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn ph_logs_vary_in_columns_and_timestamps() {
    let required = [
        "Timestamp",
        "Measurement value",
        "Unit",
        "sensor_id",
        "unit_type_id",
        "plant_id",
        "Process value",
    ];
    let files = [
        ("WB0038_PH_2025_sanitized.csv", "PLANT_A", 91 * 96),
        ("WB0041_PH_2025_sanitized.csv", "PLANT_B", 91 * 96),
        ("WB0052_PH_2025_sanitized.csv", "PLANT_A", 14 * 96),
    ];
    let mut headers = Vec::new();
    let mut forms = BTreeSet::new();
    for (name, plant, n) in files {
        let (header, rows) = ph(name);
        for c in required {
            assert!(header.iter().any(|h| h == c), "{name}: {c}");
        }
        assert!(header.len() > required.len(), "{name}: extra columns");
        assert_eq!(rows.len(), n, "{name}");
        let id = &name[..6];
        let mut blank = 0;
        let mut text = BTreeSet::new();
        for r in &rows {
            assert_eq!(&r["sensor_id"], id);
            assert_eq!(&r["plant_id"], plant);
            assert_eq!(&r["Process value"], "pH");
            let v = &r["Measurement value"];
            if v.is_empty() {
                blank += 1;
            } else if let Ok(x) = v.parse::<f64>() {
                assert!((6.5..=7.8).contains(&x), "{name}: {x}");
            } else {
                text.insert(v.clone());
            }
            forms.insert(timestamp_form(&r["Timestamp"]));
        }
        assert!(blank > 0, "{name}: no dropouts");
        assert!(!text.is_empty(), "{name}: no text values");
        headers.push(header);
    }
    assert_ne!(headers[0], headers[1]);
    assert_ne!(headers[0][0], headers[1][0], "column order differs");
    let extras = |h: &Vec<String>| -> BTreeSet<String> {
        h.iter()
            .filter(|c| !required.contains(&c.as_str()))
            .cloned()
            .collect()
    };
    assert_ne!(extras(&headers[0]), extras(&headers[1]));
    assert_eq!(
        forms,
        BTreeSet::from(["iso", "t-naive", "t-offset", "t-zulu", "us-ampm"])
    );
    // Dropouts last hours, and the bad-value words of the real logs appear.
    let (_, rows) = ph("WB0038_PH_2025_sanitized.csv");
    let words: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["Measurement value"].as_str())
        .collect();
    for w in ["Bad", "---", "Calibrating"] {
        assert!(words.contains(w), "{w}");
    }
}

fn timestamp_form(ts: &str) -> &'static str {
    let ok = |fmt: &str| chrono::NaiveDateTime::parse_from_str(ts, fmt).is_ok();
    if ok("%Y-%m-%d %H:%M:%S") {
        "iso"
    } else if ok("%Y-%m-%dT%H:%M:%S") {
        "t-naive"
    } else if ts.ends_with('Z') && ok("%Y-%m-%dT%H:%M:%SZ") {
        "t-zulu"
    } else if chrono::DateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%:z").is_ok() {
        "t-offset"
    } else if ok("%m/%d/%Y %I:%M %p") {
        "us-ampm"
    } else {
        panic!("unknown timestamp form {ts}")
    }
}

// ---------------------------------------------------------------- Plant A

const PLANT_A: [(&str, u32, u32); 3] = [
    ("PLANT_A-OPS DATA-APR25.xlsx", 4, 30),
    ("PLANT_A-OPS DATA-MAY25.xls", 5, 31),
    ("PLANT_A-OPS DATA-JUNE25.xls", 6, 30),
];

const EFF: &str = "Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily";
const BYPASS: &str = "Bypass\n50050\nFLOW MGD\nMGD\nDaily";
const BYPASS_HRS: &str = "Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily";
const PRECIP: &str = "Weather\nPRECIP TOT DAY\nInches/Day\nDaily";
const AIR: &str = "Weather\n00021\nAIR TEMP deg F\nDegrees F\nDaily";

/// Column (0-based) whose header is exactly `h`.
fn column(r: &Range<Data>, h: &str) -> u32 {
    let hits: Vec<u32> = (0..r.width() as u32)
        .filter(|c| string_at(r, 0, *c).as_deref() == Some(h))
        .collect();
    assert_eq!(hits.len(), 1, "{h:?}");
    hits[0]
}

#[test]
fn plant_a_xls_containers_are_off_standard_but_readable() {
    for (name, ..) in &PLANT_A[1..] {
        let b = &file(name).bytes;
        assert_eq!(&b[..8], b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "{name}");
        assert_ne!(
            (b.len() - 512) % 512,
            0,
            "{name}: size on a sector boundary"
        );
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        // A MiniFAT is allocated ...
        assert_ne!(u32_at(60), 0xFFFF_FFFE, "{name}: MiniFAT start");
        assert_eq!(u32_at(64), 1, "{name}: MiniFAT sectors");
        // ... while the mini stream (the root entry's stream) is empty.
        let root = 512 + u32_at(48) as usize * 512;
        assert_eq!(u32_at(root + 116), 0xFFFF_FFFE, "{name}: mini stream start");
        assert_eq!(u32_at(root + 120), 0, "{name}: mini stream size");
        // calamine reads the legacy format through the auto reader and Xls.
        let mut xls: calamine::Xls<_> = calamine::open_workbook_from_rs(Cursor::new(b.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = xls.worksheet_range("OPERATOR DATA").unwrap();
        assert_eq!(r.width(), 80);
    }
    // The two variants: one file ends inside its last sector, one after it.
    let tails: BTreeSet<usize> = PLANT_A[1..]
        .iter()
        .map(|(n, ..)| (file(n).bytes.len() - 512) % 512)
        .collect();
    assert_eq!(tails.len(), 2);
}

#[test]
fn plant_a_sheets_are_all_text() {
    let mut orders = Vec::new();
    for (name, month, days) in PLANT_A {
        let (sheet_name, r, _) = sheet(file(name));
        assert_eq!(sheet_name, "OPERATOR DATA");
        assert_eq!(r.start(), Some((0, 0)), "{name}");
        assert_eq!(r.width(), 80, "{name}");
        assert_eq!(r.height() as u32, 1 + days + 6, "{name}");
        assert_eq!(
            string_at(&r, 0, 0).unwrap(),
            format!("OPERATOR DATA\nDaily\n{month}/1/2025 - {month}/{days}/2025")
        );
        for c in 0..80 {
            let h = string_at(&r, 0, c).unwrap();
            assert!(h.lines().count() >= 3, "{name}: header {c} {h:?}");
        }
        for row in r.rows() {
            for cell in row {
                assert!(
                    matches!(cell, Data::String(_) | Data::Empty),
                    "{name}: non-text cell {cell:?}"
                );
            }
        }
        for day in 1..=days {
            assert_eq!(
                string_at(&r, day, 0).unwrap(),
                format!("{month}/{day}/2025"),
                "{name}"
            );
        }
        let labels: Vec<String> = (days + 1..days + 7)
            .map(|row| string_at(&r, row, 0).unwrap())
            .collect();
        assert_eq!(labels, ["Sum", "Avg", "Max", "Min", "Count", "Formula"]);
        let sum_row: Vec<String> = (1..80).filter_map(|c| string_at(&r, days + 1, c)).collect();
        assert!(sum_row.iter().any(|s| s.contains(',') && s.contains('.')));
        assert!(sum_row
            .iter()
            .any(|s| s.contains(',') && !s.contains('.') && s.len() >= 7));

        let eff = column(&r, EFF);
        for day in 1..=days {
            let q: f64 = string_at(&r, day, eff).unwrap().parse().unwrap();
            assert!((20.0..=70.0).contains(&q), "{name}: flow {q}");
        }
        for h in [
            "Max Effluent Flow\n50047\nFLOW MAX MGD\nMGD\nDaily",
            "Min Effluent Flow\n50048\nFLOW MIN MGD\nMGD\nDaily",
            BYPASS,
            BYPASS_HRS,
            PRECIP,
            AIR,
        ] {
            column(&r, h);
        }
        // Numbers as text, the way the export prints them.
        let texts: BTreeSet<String> = (1..=days)
            .flat_map(|row| (1..80).filter_map(move |c| (row, c).into()))
            .filter_map(|(row, c)| string_at(&r, row, c))
            .collect();
        assert!(texts.contains("0"));
        assert!(texts.iter().any(|t| t.len() == 6 && t.starts_with("0.")));
        orders.push((1..80).map(|c| string_at(&r, 0, c)).collect::<Vec<_>>());
    }
    assert_ne!(orders[0], orders[1], "April and May differ in column order");
}

#[test]
fn plant_a_bypass_and_blank_weather() {
    let mut bypass_days = Vec::new();
    for (name, month, days) in PLANT_A {
        let (_, r, _) = sheet(file(name));
        let (bq, bh, pr, air) = (
            column(&r, BYPASS),
            column(&r, BYPASS_HRS),
            column(&r, PRECIP),
            column(&r, AIR),
        );
        for day in 1..=days {
            let q = string_at(&r, day, bq).unwrap();
            let h = string_at(&r, day, bh).unwrap();
            if q != "0" {
                bypass_days.push((month, day, q, h));
            } else {
                assert_eq!(h, "0");
            }
            let blank_weather = at(&r, day, pr).is_empty() && at(&r, day, air).is_empty();
            assert_eq!(blank_weather, month == 6, "{name} day {day}");
        }
        // The Count row says how many days have a value: 0 for blank months.
        let count = string_at(&r, days + 5, pr).unwrap();
        assert_eq!(
            count,
            if month == 6 { "0" } else { "30" }.replace("30", &days.to_string())
        );
    }
    let s = |x: &str| x.to_string();
    assert_eq!(
        bypass_days,
        [(4, 22, s("7.85"), s("6.5")), (5, 19, s("11.92"), s("8.75"))]
    );
}

// ---------------------------------------------------------------- Plant B

const PLANT_B: [&str; 6] = [
    "PLANT_B-MPOR_Crew_03212025to04112025.xlsx",
    "PLANT_B-MPOR_Crew_04042025to04252025.xlsx",
    "PLANT_B-MPOR_Crew_04182025to05232025.xlsx",
    "PLANT_B-MPOR_Crew_05162025to06072025.xlsx",
    "PLANT_B-MPOR_Crew_05302025to06232025.xlsx",
    "PLANT_B-MPOR_Crew_06132025to07112025.xlsx",
];

/// One day row of a report.
#[derive(Debug)]
struct BDay {
    row: u32,
    date: NaiveDate,
    inflow: Option<f64>,
    effluent: f64,
    eff_formula: String,
}

struct BReport {
    values: Range<Data>,
    formulas: Range<String>,
    header_row: u32,
    days: Vec<BDay>,
}

fn report(name: &str) -> BReport {
    let (sheet_name, values, formulas) = sheet(file(name));
    assert_eq!(sheet_name, "SHT-S1 DMR SUM");
    // The header is found by content: the row with DATE in column A.
    let header_row = (0..values.height() as u32 + 1)
        .find(|row| string_at(&values, *row, 0).as_deref() == Some("DATE"))
        .unwrap()
        - 2;
    let formula = |row: u32, col: u32| formulas.get_value((row, col)).cloned().unwrap_or_default();
    let mut days = Vec::new();
    let mut row = header_row + 7;
    while let Data::DateTime(dt) = at(&values, row, 0) {
        let serial = dt.as_f64();
        let date =
            NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + chrono::TimeDelta::days(serial as i64);
        assert_eq!(
            formula(row, 0),
            format!(
                "DATE({},{},{})",
                date.format("%Y"),
                date.format("%-m"),
                date.format("%-d")
            )
        );
        days.push(BDay {
            row,
            date,
            inflow: float_at(&values, row, 1),
            effluent: float_at(&values, row, 7).unwrap(),
            eff_formula: formula(row, 7),
        });
        row += 1;
    }
    BReport {
        values,
        formulas,
        header_row,
        days,
    }
}

#[test]
fn plant_b_preamble_and_header() {
    let months = ["April", "April", "May", "June", "June", "July"];
    let generated = [
        "4/11/2025 3:42:17 PM",
        "4/25/2025 5:11:02 PM",
        "5/23/2025 4:05:48 PM",
        "6/7/2025 11:20:31 AM",
        "6/23/2025 2:58:09 PM",
        "7/11/2025 4:47:55 PM",
    ];
    for (i, name) in PLANT_B.iter().enumerate() {
        let r = report(name);
        let v = &r.values;
        assert_eq!(string_at(v, 1, 0).as_deref(), Some("PLANT_B"));
        assert_eq!(string_at(v, 2, 0).unwrap(), format!("{}, 2025", months[i]));
        assert_eq!(string_at(v, 3, 0).as_deref(), Some(generated[i]));
        // Report 4 has two extra preamble rows (header at Excel row 8).
        assert_eq!(r.header_row, if i == 3 { 7 } else { 5 }, "{name}");
        let h = r.header_row;
        let label =
            |col: u32| -> Vec<String> { (2..7).filter_map(|k| string_at(v, h + k, col)).collect() };
        assert_eq!(string_at(v, h, 1).as_deref(), Some("INFLUENT DATA"));
        assert_eq!(string_at(v, h, 7).as_deref(), Some("EFFLUENT DATA"));
        for g in ["CHLORINE CONTACT TANK", "FINAL", "LOADINGS", "ODOR CONTROL"] {
            assert!(
                (1..98).any(|c| string_at(v, h, c).as_deref() == Some(g)),
                "{g}"
            );
        }
        assert_eq!(label(1), ["RAW", "INF", "FLOW", "MGD"]);
        assert_eq!(label(7), ["FIN", "EFF", "FLOW", "MGD"]);
        assert_eq!(label(90), ["FNEQ", "Final", "Flow", "mgd"]);
        assert_eq!(float_at(v, h + 1, 68), Some(68.0));
        assert!(at(v, h + 1, 29).is_empty(), "some column numbers are blank");
        let units: BTreeSet<String> = (1..98).filter_map(|c| string_at(v, h + 6, c)).collect();
        for u in ["MGD", "mg/L", "kg/D", "ppm", "100 ml"] {
            assert!(units.contains(u), "{u}");
        }
        // 98 columns; the used range runs far past the data, ending with
        // the tag codes.
        let (end_row, end_col) = v.end().unwrap();
        assert_eq!(end_col, 97);
        assert!((100..=1000).contains(&(end_row + 1)), "{name}: {end_row}");
        let tags: Vec<String> = (1..98).filter_map(|c| string_at(v, end_row, c)).collect();
        assert!(tags.contains(&"AB_FNEQ".to_string()));
        assert!(tags.contains(&"AB_RAWIPH".to_string()));
        let last_day = r.days.last().unwrap().row;
        assert!(end_row > last_day + 80, "hundreds of empty rows");
    }
}

#[test]
fn plant_b_days_overlap_with_placeholders_and_a_revision() {
    let reports: Vec<BReport> = PLANT_B.iter().map(|n| report(n)).collect();
    let rows: usize = reports.iter().map(|r| r.days.len()).sum();
    let distinct: BTreeSet<NaiveDate> = reports
        .iter()
        .flat_map(|r| r.days.iter().map(|d| d.date))
        .collect();
    assert_eq!((rows, distinct.len()), (157, 113));

    let mut placeholders = Vec::new();
    let mut seen: BTreeMap<NaiveDate, Vec<(usize, Option<f64>)>> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        for day in &r.days {
            assert!(
                day.eff_formula.starts_with("INDEX(EFF_FLOW_TOTAL,"),
                "{day:?}"
            );
            match day.inflow {
                Some(q) => {
                    assert_eq!(day.effluent, q, "cached effluent = influent");
                    assert!((7.9..=10.6).contains(&q));
                }
                None => {
                    assert_eq!(day.effluent, 0.0);
                    placeholders.push((i, day.date));
                }
            }
            seen.entry(day.date).or_default().push((i, day.inflow));
        }
    }
    assert_eq!(
        placeholders,
        [
            (0, d(4, 11)),
            (1, d(4, 25)),
            (2, d(5, 6)),
            (2, d(5, 23)),
            (3, d(6, 7)),
            (4, d(6, 23)),
            (5, d(7, 11)),
        ]
    );
    // Every report's last day is carried by the next report; 05/06 is not.
    for (i, date) in &placeholders {
        let later: Vec<f64> = seen[date]
            .iter()
            .filter(|(j, _)| j > i)
            .filter_map(|(_, q)| *q)
            .collect();
        let fixed = !later.is_empty();
        assert_eq!(fixed, *date != d(5, 6) && *date != d(7, 11), "{date}");
    }
    // The mid-report placeholder has its lab columns filled.
    let r3 = &reports[2];
    let mid = r3.days.iter().find(|x| x.date == d(5, 6)).unwrap();
    assert!(float_at(&r3.values, mid.row, 3).is_some(), "CBOD filled");

    // Overlapping days agree except the revised one.
    let mut revised = Vec::new();
    for (date, v) in &seen {
        let values: BTreeSet<u64> = v.iter().filter_map(|(_, q)| q.map(f64::to_bits)).collect();
        if values.len() > 1 {
            revised.push((*date, v.clone()));
        }
    }
    assert_eq!(
        revised,
        [(d(4, 8), vec![(0, Some(9.163)), (1, Some(9.194))])]
    );
    // The decoy FNEQ flow column is close to, never equal to, column 7.
    for r in &reports {
        for day in r.days.iter().filter(|x| x.inflow.is_some()) {
            let fneq = float_at(&r.values, day.row, 90).unwrap();
            assert_ne!(fneq, day.effluent);
            assert!((fneq - day.effluent).abs() < 0.6);
        }
    }
}

#[test]
fn plant_b_text_in_number_columns_and_trailers() {
    let mut tokens = BTreeSet::new();
    let mut footnotes = BTreeMap::new();
    for (i, name) in PLANT_B.iter().enumerate() {
        let r = report(name);
        let v = &r.values;
        for day in &r.days {
            for c in 1..98 {
                if let Data::String(s) = at(v, day.row, c) {
                    assert!(c != 1 && c != 7, "flows are plain numbers");
                    tokens.insert(s.clone());
                }
            }
        }
        // Two empty rows, then the summary formulas with cached values.
        let last = r.days.last().unwrap().row;
        assert!(at(v, last + 1, 0).is_empty() && at(v, last + 2, 0).is_empty());
        for (k, label) in ["TOTAL", "MAX", "MIN", "AVG"].iter().enumerate() {
            let row = last + 3 + k as u32;
            assert_eq!(string_at(v, row, 0).as_deref(), Some(*label));
            let f = r.formulas.get_value((row, 1)).cloned().unwrap_or_default();
            assert!(
                f.ends_with(&format!("(B{}:B{})", r.days[0].row + 1, last + 1)),
                "{f}"
            );
            assert!(float_at(v, row, 1).is_some(), "cached value");
        }
        let total = float_at(v, last + 3, 7).unwrap();
        let sum: f64 = r.days.iter().map(|x| x.effluent).sum();
        assert!((total - sum).abs() < 1e-9);
        // Footnotes: long text in column A below the summary.
        for row in last + 7..last + 12 {
            if let Some(s) = string_at(v, row, 0) {
                if s.len() > 60 {
                    footnotes.entry(i).or_insert_with(Vec::new).push(s);
                }
            }
        }
    }
    for t in ["<1", "<2", "<1.0", "311*", "<2*"] {
        assert!(tokens.contains(t), "{t} missing from {tokens:?}");
    }
    assert_eq!(footnotes.keys().copied().collect::<Vec<_>>(), [2, 4]);
    assert!(footnotes[&4][0].starts_with(
        "06/08/2025 *311 CBOD IA1 Quality control data outside of acceptance limits;"
    ));
    assert!(footnotes[&2][0].starts_with("04/30/2025 *<2 CBOD"));
}

#[test]
fn plant_b_effluent_name_does_not_resolve() {
    for name in PLANT_B {
        let wb =
            calamine::open_workbook_auto_from_rs(Cursor::new(file(name).bytes.clone())).unwrap();
        assert!(
            wb.defined_names()
                .iter()
                .all(|(n, _)| !n.eq_ignore_ascii_case("EFF_FLOW_TOTAL")),
            "{name}"
        );
    }
}

// ------------------------------------------------------------- year mode

/// The benchmark set's shape with a coarse pH cadence, to stay fast.
#[test]
fn year_mode_covers_the_year() {
    let opts = SampleOptions {
        ph_cadence_minutes: 720,
        ..SampleOptions::year(8)
    };
    let files = generate(&opts).unwrap();
    let kinds = |k: &str| files.iter().filter(|f| f.kind() == k).count();
    assert_eq!(kinds("ph_sensor"), 8);
    assert_eq!(kinds("plant_a_operator"), 12);
    assert_eq!(kinds("calcium_lab"), 2);
    assert_eq!(kinds("plant_c_daily_log"), 2);
    let a: Vec<&str> = files
        .iter()
        .filter(|f| f.kind() == "plant_a_operator")
        .map(|f| f.name.as_str())
        .collect();
    assert!(a.contains(&"PLANT_A-OPS DATA-SEPT25.xls"));
    assert!(a.contains(&"PLANT_A-OPS DATA-JULY25.xlsx"));
    for f in files.iter().filter(|f| f.kind() == "plant_a_operator") {
        let (_, r, _) = sheet(f);
        assert_eq!(r.width(), 80, "{}", f.name);
    }
    let ph = files
        .iter()
        .find(|f| f.name == "WB0074_PH_2025_sanitized.csv")
        .unwrap();
    let lines = ph.bytes.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines, 1 + 365 * 2);
    // Plant B reports cover every day of the year.
    let mut covered = BTreeSet::new();
    for f in files.iter().filter(|f| f.kind() == "plant_b_mpor") {
        let stem = &f.name["PLANT_B-MPOR_Crew_".len()..f.name.len() - 5];
        let (s, e) = stem.split_once("to").unwrap();
        let s = NaiveDate::parse_from_str(s, "%m%d%Y").unwrap();
        let e = NaiveDate::parse_from_str(e, "%m%d%Y").unwrap();
        covered.extend(s.iter_days().take_while(|x| *x <= e));
    }
    let year = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    assert!(year.iter_days().take(365).all(|x| covered.contains(&x)));
    let lab = files.iter().find(|f| f.kind() == "calcium_lab").unwrap();
    assert_eq!(lab.name, "calcium_lab_results_2025.csv");
    let rows = lab.bytes.iter().filter(|b| **b == b'\n').count();
    assert!((2200..=2700).contains(&rows), "{rows}");
}

/// The full benchmark set (~4.2 M pH rows); slow in debug builds:
/// `cargo test --release --test tests year_full -- --ignored --nocapture`.
#[test]
#[ignore]
fn year_full_benchmark_set() {
    let t = std::time::Instant::now();
    let files = generate(&SampleOptions::year(8)).unwrap();
    let ph_rows: usize = files
        .iter()
        .filter(|f| f.kind() == "ph_sensor")
        .map(|f| f.bytes.iter().filter(|b| **b == b'\n').count() - 1)
        .sum();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    println!(
        "{} files, {bytes} bytes, {ph_rows} pH rows in {:?}",
        files.len(),
        t.elapsed()
    );
    assert_eq!(ph_rows, 8 * 365 * 1440);
}
