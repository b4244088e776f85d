#![no_main]
//! Structure-aware: a legacy .xls built record group by record group from
//! the input (a shared string table with long strings across CONTINUE
//! records, number formats, many cell formats, up to hundreds of sheets
//! with far cells, LABELSST runs referencing one string many times,
//! NUMBER, LABEL, BOOLERR and FORMULA cells, the 1904 flag), so the fuzzer
//! reaches fan-out and the workbook-wide cap on its own. Reading must stay
//! within the memory budget and balance.
use arbitrary::Unstructured;
use crew_mrv_samples::hostile::{label, labelsst, number, xls_from_spec, XlsSpec};
use libfuzzer_sys::fuzz_target;

#[path = "budget.rs"]
mod budget;
use budget::{count, pick, text};

#[global_allocator]
static ALLOCATOR: budget::Counting = budget::Counting;

/// Cells in all: enough for fan-out to show, few enough that building the
/// file leaves the time to reading it.
const MAX_CELLS: usize = 20_000;

fn cells(u: &mut Unstructured<'_>, strings: usize, total: &mut usize) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    for _ in 0..count(u, &[0, 1, 2, 4]) {
        let n = count(u, &[1, 10, 1_000, 20_000]).min(MAX_CELLS - *total);
        *total += n;
        let row = pick(u, &[0u16, 1, 5, 19_530, 65_535]);
        let col = pick(u, &[0u16, 1, 7, 255]);
        let wide = pick(u, &[1u16, 10, 100]);
        let kind = u.int_in_range(0..=4u8).unwrap_or(0);
        let index = pick(u, &[0u32, 1, strings as u32, u32::MAX]);
        let value = pick(u, &[0.0, 45_748.0, -1.0, f64::INFINITY]);
        let short: String = text(u).chars().take(100).collect();
        for k in 0..n as u32 {
            let r = row.saturating_add((k / u32::from(wide)) as u16);
            let c = col.saturating_add((k % u32::from(wide)) as u16);
            out.push(match kind {
                0 => (0x00FD, labelsst(r, c, 0, index)),
                1 => (0x0203, number(r, c, value)),
                2 => (0x0204, label(r, c, &short)),
                3 => {
                    let mut d = Vec::new();
                    d.extend_from_slice(&r.to_le_bytes());
                    d.extend_from_slice(&c.to_le_bytes());
                    d.extend_from_slice(&0u16.to_le_bytes());
                    d.extend_from_slice(&[u8::from(k % 2 == 0), (k % 3) as u8]);
                    (0x0205, d)
                }
                _ => {
                    let mut d = Vec::new();
                    d.extend_from_slice(&r.to_le_bytes());
                    d.extend_from_slice(&c.to_le_bytes());
                    d.extend_from_slice(&0u16.to_le_bytes());
                    d.extend_from_slice(&[(k % 4) as u8, 0, 1, 0, 0, 0, 0xFF, 0xFF]);
                    d.extend_from_slice(&[0; 6]);
                    (0x0006, d)
                }
            });
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let sst: Vec<String> = (0..count(&mut u, &[0, 1, 2, 40]))
        .map(|_| text(&mut u).chars().take(65_535).collect())
        .collect();
    let formats = (0..count(&mut u, &[0, 1, 3]))
        .map(|i| {
            let own = text(&mut u);
            (
                164 + i as u16,
                pick(&mut u, &["yyyy-mm-dd".to_string(), "0.0".to_string(), own]),
            )
        })
        .collect();
    let xf = pick(&mut u, &[0u16, 14, 164, 165]);
    let xfs = vec![xf; count(&mut u, &[1, 10, 5_000, 70_000])];
    let mut total = 0;
    let sheets = (0..count(&mut u, &[1, 2, 3, 300]))
        .map(|i| (format!("S{i}"), cells(&mut u, sst.len(), &mut total)))
        .collect();
    let spec = XlsSpec {
        date1904: u.arbitrary().unwrap_or(false),
        sst,
        formats,
        xfs,
        sheets,
    };
    budget::read_within_budget("book.xls", &xls_from_spec(&spec));
});
