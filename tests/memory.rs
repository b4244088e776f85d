//! Peak memory of every importer on adversarial inputs, measured by a
//! counting global allocator (its own test binary, so the allocator does
//! not slow the other tests).
//!
//! Each class of issue 12 is built by crates/samples at several sizes, so
//! growth is visible (`cargo test --test memory -- --nocapture` prints the
//! table), and every import must stay within `Limits::memory_budget` of
//! the file's size. While an import is measured the allocator also refuses
//! any allocation past a hard ceiling (a few times the budget): a reader
//! that copies per reference fails here by aborting early instead of
//! taking the machine's memory.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use crew_mrv_core::config::Limits;
use crew_mrv_core::import::import_file;
use crew_mrv_core::{Config, FileErrorKind};
use crew_mrv_samples::builders::{
    at, csv_line, d, lab_row, lab_table, ph_row, ph_table, ts, Ts, LAB_COLUMNS,
};
use crew_mrv_samples::hostile::*;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// 0: no ceiling.
static CEILING: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grow(size: usize) -> bool {
        let now = CURRENT.fetch_add(size, SeqCst) + size;
        let ceiling = CEILING.load(SeqCst);
        if ceiling != 0 && now > ceiling {
            CURRENT.fetch_sub(size, SeqCst);
            return false;
        }
        PEAK.fetch_max(now, SeqCst);
        true
    }
}

// SAFETY: every call is passed to the system allocator unchanged; only
// sizes are counted, and a refused allocation returns null as the trait
// allows.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Counting::grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), SeqCst);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            if !Counting::grow(new_size - layout.size()) {
                return std::ptr::null_mut();
            }
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, SeqCst);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One test at a time, inputs built inside the lock too: the count is
/// process-wide, so another test building its input would show in the
/// peak being measured.
static LOCK: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an import of `bytes` may use.
fn budget(bytes: usize) -> usize {
    Limits::default().memory_budget(bytes as u64) as usize
}

/// Import `bytes` as `name` and return the peak bytes allocated during the
/// import above what was allocated before, and the file's error kind.
fn measure_with(
    class: &str,
    name: &str,
    bytes: &[u8],
    config: &Config,
) -> (usize, Option<FileErrorKind>) {
    let base = CURRENT.load(SeqCst);
    PEAK.store(base, SeqCst);
    CEILING.store(base + 4 * budget(bytes.len()), SeqCst);
    let imported = import_file(name, bytes, config);
    CEILING.store(0, SeqCst);
    let peak = PEAK.load(SeqCst) - base;
    let error = imported.file.error.as_ref().map(|e| e.kind.clone());
    drop(imported);
    eprintln!(
        "{class:<28} {name:<34} {:>10} B file {:>12} B peak {:>12} B budget {:>7.1}x {}",
        bytes.len(),
        peak,
        budget(bytes.len()),
        peak as f64 / bytes.len().max(1) as f64,
        error
            .as_ref()
            .map_or("read".to_string(), |k| format!("{k:?}")
                .chars()
                .take(40)
                .collect())
    );
    (peak, error)
}

fn within_budget(class: &str, name: &str, bytes: &[u8]) -> Option<FileErrorKind> {
    within_budget_with(class, name, bytes, &Config::default())
}

fn within_budget_with(
    class: &str,
    name: &str,
    bytes: &[u8],
    config: &Config,
) -> Option<FileErrorKind> {
    let (peak, error) = measure_with(class, name, bytes, config);
    assert!(
        peak <= budget(bytes.len()),
        "{class} {name}: peak {peak} bytes over the budget {} for a {}-byte file",
        budget(bytes.len()),
        bytes.len()
    );
    error
}

fn too_large(e: &Option<FileErrorKind>) -> bool {
    matches!(e, Some(FileErrorKind::TooLarge { .. }))
}

#[test]
fn shared_string_fanout_in_xlsx_costs_a_pointer_per_cell() {
    let _serial = serial();
    for cells in [100, 1_000, 20_000] {
        let f = xlsx_shared_fanout(512 * 1024, cells);
        assert!(f.len() < 64 * 1024, "a few KB: {}", f.len());
        within_budget(
            "xlsx shared-string fan-out",
            &format!("fanout-{cells}.xlsx"),
            &f,
        );
    }
}

#[test]
fn labelsst_fanout_in_xls_costs_a_pointer_per_cell() {
    let _serial = serial();
    for cells in [100, 2_000, 20_000] {
        let f = xls_labelsst_fanout(60_000, cells);
        within_budget("xls LABELSST fan-out", &format!("fanout-{cells}.xls"), &f);
    }
}

#[test]
fn style_fanout_costs_a_flag_per_style() {
    let _serial = serial();
    for xfs in [10, 1_000, 5_000] {
        let f = xlsx_style_fanout(64 * 1024, xfs);
        within_budget("xlsx style fan-out", &format!("styles-{xfs}.xlsx"), &f);
    }
}

#[test]
fn claims_spelled_any_way_reserve_nothing() {
    let _serial = serial();
    for claim in [1_000_000, 4_000_000_000, u64::MAX] {
        let f = xlsx_spaced_claim(claim);
        let e = within_budget("xlsx spaced claim", &format!("claim-{claim}.xlsx"), &f);
        assert!(
            matches!(e, Some(FileErrorKind::Corrupt { .. })),
            "a lying claim is refused: {e:?}"
        );
    }
}

#[test]
fn many_xls_sheets_with_a_far_cell_are_capped_before_they_are_built() {
    let _serial = serial();
    for sheets in [2, 50, 500] {
        let f = xls_far_sheets(sheets);
        let e = within_budget("xls far cell per sheet", &format!("far-{sheets}.xls"), &f);
        if sheets > 2 {
            assert!(too_large(&e), "{e:?}");
        }
    }
}

#[test]
fn rich_text_runs_are_measured_joined() {
    let _serial = serial();
    // One string of 2 MiB in 1 KiB runs: refused as a too long text.
    let f = xlsx_rich_runs(1, 2048, 1024);
    let e = within_budget("xlsx rich-text runs", "runs-one-long.xlsx", &f);
    assert!(too_large(&e), "{e:?}");
    // Many strings just under the cap: refused by the budget.
    for strings in [2, 20, 200] {
        let f = xlsx_rich_runs(strings, 1000, 1000);
        within_budget("xlsx rich-text runs", &format!("runs-{strings}.xlsx"), &f);
    }
}

#[test]
fn cdata_text_is_read_and_charged_like_any_text() {
    let _serial = serial();
    for strings in [2, 20, 200] {
        let f = xlsx_cdata(strings, 1_000_000);
        within_budget("xlsx CDATA", &format!("cdata-{strings}.xlsx"), &f);
    }
}

#[test]
fn sheet_parts_outside_worksheets_are_bounded_too() {
    let _serial = serial();
    for cells in [2, 20, 400] {
        let f = xlsx_sheet_outside_worksheets(cells, 1_000_000);
        let e = within_budget(
            "xlsx sheet outside worksheets/",
            &format!("outside-{cells}.xlsx"),
            &f,
        );
        if cells == 400 {
            assert!(too_large(&e), "{e:?}");
        }
    }
}

#[test]
fn a_workbook_part_under_another_name_is_bounded_too() {
    let _serial = serial();
    for cells in [100, 10_000] {
        let f = xlsx_renamed_workbook(cells, 512 * 1024);
        within_budget(
            "xlsx renamed workbook part",
            &format!("renamed-{cells}.xlsx"),
            &f,
        );
    }
}

/// The generated sample set (every importer on ordinary files) stays
/// within budget too, so the budget refuses nothing real.
#[test]
fn generated_files_read_within_budget() {
    let _serial = serial();
    let files =
        crew_mrv_samples::generate(&crew_mrv_samples::SampleOptions::committed()).expect("samples");
    // A plant without a built-in layout is read through its profile, as a
    // run given the whole set reads it.
    let mut config = Config::default();
    for f in files.iter().filter(|f| f.name.ends_with(".toml")) {
        let text = String::from_utf8_lossy(&f.bytes);
        config
            .profiles
            .push(crew_mrv_core::profile::parse(&f.name, &text).expect("sample profile"));
    }
    assert!(!config.profiles.is_empty(), "the sample set has a profile");
    for f in &files {
        let e = within_budget_with("generated", &f.name, &f.bytes, &config);
        assert!(e.is_none(), "{}: {e:?}", f.name);
    }
}

/// CSV importers on long and wide inputs: lab, pH, expert reviews, and an
/// unrecognised file (detection only).
#[test]
fn csv_importers_stay_within_budget() {
    let _serial = serial();
    for rows in [100, 3_000, 30_000] {
        let lab: Vec<Vec<String>> = (0..rows)
            .map(|i| {
                lab_row(
                    "PLANT_A",
                    if i % 2 == 0 {
                        "primary_clarifier"
                    } else {
                        "secondary_clarifier"
                    },
                    d(2025, 4, 1 + (i as u32 / 2) % 28),
                    1 + i as u32 / 56,
                    "40.1",
                )
            })
            .collect();
        let text = lab_table(lab).to_text(',');
        within_budget("lab CSV", &format!("lab-{rows}.csv"), text.as_bytes());

        let ph: Vec<Vec<String>> = (0..rows)
            .map(|i| {
                let t = at(
                    d(2025, 4, 1 + (i as u32 / 1440) % 28),
                    (i as u32 / 60) % 24,
                    i as u32 % 60,
                );
                ph_row(
                    &ts(t, Ts::IsoSpace),
                    "7.1",
                    "WB0038",
                    "primary_clarifier",
                    "PLANT_A",
                )
            })
            .collect();
        let ph = ph_table(ph).to_text(',');
        within_budget("pH CSV", &format!("ph-{rows}.csv"), ph.as_bytes());

        let mut reviews = String::from("plant_id,date,review_status,note,reviewer\n");
        for i in 0..rows {
            reviews.push_str(&format!(
                "PLANT_A,2025-04-{:02},approved,checked,J. Doe\n",
                1 + i % 28
            ));
        }
        within_budget(
            "reviews CSV",
            &format!("reviews-{rows}.csv"),
            reviews.as_bytes(),
        );

        let other = "a;b;c\n1;2;3\n".repeat(rows);
        within_budget(
            "detect (unrecognised)",
            &format!("other-{rows}.csv"),
            other.as_bytes(),
        );
    }
    // A wide header repeated as metadata on every row.
    for rows in [10, 300, 3_000] {
        let mut header: Vec<String> = LAB_COLUMNS.iter().map(|c| c.to_string()).collect();
        header.extend((0..2_000).map(|i| format!("extra_column_with_a_long_name_{i:05}")));
        let mut text = csv_line(&header, ',');
        let row = lab_row("PLANT_A", "primary_clarifier", d(2025, 4, 1), 1, "40");
        for i in 0..rows {
            let mut r = row.clone();
            r[0] = format!("id{i}");
            r.extend((0..2_000).map(|_| String::new()));
            text.push_str(&csv_line(&r, ','));
        }
        within_budget(
            "lab CSV wide header",
            &format!("wide-{rows}.csv"),
            text.as_bytes(),
        );
    }
}
