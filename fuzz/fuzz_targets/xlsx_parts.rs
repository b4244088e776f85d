#![no_main]
//! Structure-aware: an .xlsx built part by part from the input (shared
//! strings as plain, rich-text runs or CDATA, claims spelled oddly, number
//! formats, fonts and many styles, sheets inside or outside `worksheets/`,
//! a workbook part under another name, cells in runs that reference the
//! same string or style many times, far cells), so the fuzzer reaches
//! fan-out on its own. Reading any of them must stay within the memory
//! budget (counted by the target's own allocator) and balance.
use arbitrary::Unstructured;
use crew_mrv_samples::hostile::{xlsx_from_spec, XlsxSpec, XmlCell, XmlSheet, XmlText, XmlValue};
use libfuzzer_sys::fuzz_target;

#[path = "budget.rs"]
mod budget;
use budget::{count, pick, text};

#[global_allocator]
static ALLOCATOR: budget::Counting = budget::Counting;

fn xml_text(u: &mut Unstructured<'_>) -> XmlText {
    match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => XmlText::Plain(text(u)),
        1 => {
            let runs = count(u, &[1, 2, 50, 2_000]);
            let run = text(u);
            let run: String = run.chars().take(2_000).collect();
            XmlText::Runs(vec![run; runs])
        }
        _ => XmlText::CData(text(u)),
    }
}

/// Cells in all: enough for fan-out to show, few enough that building the
/// file leaves the time to reading it.
const MAX_CELLS: usize = 10_000;

fn spec(u: &mut Unstructured<'_>) -> XlsxSpec {
    let mut strings: Vec<XmlText> = Vec::new();
    let mut text_bytes = 0usize;
    for _ in 0..count(u, &[0, 1, 2, 5, 40]) {
        let t = xml_text(u);
        text_bytes += match &t {
            XmlText::Plain(s) | XmlText::CData(s) => s.len(),
            XmlText::Runs(r) => r.iter().map(String::len).sum(),
        };
        // Texts of a few MB in all: past the cell cap, within a quick build.
        if text_bytes > 4 << 20 {
            strings.push(XmlText::Plain(String::new()));
        } else {
            strings.push(t);
        }
    }
    let claim = match u.int_in_range(0..=3u8).unwrap_or(0) {
        0 => None,
        1 => Some(format!(
            " uniqueCount = \"{}\"",
            u.arbitrary::<u64>().unwrap_or(0)
        )),
        2 => Some(format!(
            " uniqueCount='{}'",
            u.arbitrary::<u32>().unwrap_or(0)
        )),
        _ => Some(String::new()),
    };
    let decoy = u
        .arbitrary::<bool>()
        .unwrap_or(false)
        .then(|| "uniqueCount=\"1\"".to_string());
    let codes = [
        "yyyy-mm-dd".to_string(),
        "0.00".to_string(),
        "[h]:mm".to_string(),
        "\"d\"0".to_string(),
        "h:mm AM/PM".to_string(),
    ];
    let num_fmts: Vec<(u32, String)> = (0..count(u, &[0, 1, 3]))
        .map(|i| {
            let code = if u.arbitrary::<bool>().unwrap_or(false) {
                pick(u, &codes)
            } else {
                text(u)
            };
            (164 + i as u32, code)
        })
        .collect();
    let ids = [0u32, 14, 22, 46, 164, 165, 166, 9_999];
    let xf_id = pick(u, &ids);
    let xfs = vec![xf_id; count(u, &[1, 10, 1_000, 20_000])];
    let fonts = (0..count(u, &[1, 2])).map(|_| text(u)).collect();
    let mut total = 0usize;
    let sheets = (0..count(u, &[1, 2, 3, 40]))
        .map(|i| {
            let mut cells = Vec::new();
            for _ in 0..count(u, &[0, 1, 2, 4]) {
                let n = count(u, &[1, 10, 1_000, 20_000]).min(MAX_CELLS - total);
                total += n;
                let row = pick(u, &[0u32, 1, 5, 1_000, 65_535, 1_048_575, 4_000_000]);
                let col = pick(u, &[0u32, 1, 7, 255, 16_383, 20_000]);
                let style = u
                    .arbitrary::<bool>()
                    .unwrap_or(false)
                    .then(|| pick(u, &[0u32, 1, 59_999, 70_000]));
                // A cell's own text is repeated in the file for each cell:
                // a run of them gets a few MB in all.
                let room = (4usize << 20) / n.max(1);
                let own = |s: String| s.chars().take(room).collect::<String>();
                let value = match u.int_in_range(0..=4u8).unwrap_or(0) {
                    0 => XmlValue::Shared(pick(u, &[0u32, 1, 39, 100])),
                    1 => XmlValue::Number(pick(u, &[0.0, 45_748.0, -1.0, 1e308, f64::NAN])),
                    2 => XmlValue::Inline(match xml_text(u) {
                        XmlText::Plain(s) => XmlText::Plain(own(s)),
                        XmlText::CData(s) => XmlText::CData(own(s)),
                        XmlText::Runs(r) => {
                            let keep = (room / r.first().map_or(1, |x| x.len().max(1))).max(1);
                            XmlText::Runs(r.into_iter().take(keep).collect())
                        }
                    }),
                    3 => XmlValue::Str(own(text(u))),
                    _ => XmlValue::Bool(u.arbitrary().unwrap_or(false)),
                };
                let wide = pick(u, &[1u32, 10, 100]);
                cells.extend((0..n as u32).map(|k| XmlCell {
                    row: row.saturating_add(k / wide),
                    col: col.saturating_add(k % wide),
                    style,
                    value: value.clone(),
                }));
            }
            XmlSheet {
                name: format!("S{i}"),
                cells,
            }
        })
        .collect();
    XlsxSpec {
        workbook_path: pick(
            u,
            &[
                "xl/workbook.xml".to_string(),
                "xl/main.xml".to_string(),
                "book.xml".to_string(),
            ],
        ),
        sheet_dir: pick(
            u,
            &[
                "worksheets".to_string(),
                "../data".to_string(),
                "ws".to_string(),
            ],
        ),
        date1904: u.arbitrary().unwrap_or(false),
        strings,
        claim,
        decoy,
        num_fmts,
        xfs,
        fonts,
        sheets,
        // Deflating megabytes in an instrumented build takes seconds:
        // large workbooks are stored (their budget is then larger, but
        // fan-out still multiplies far past it); small ones may be
        // deflated, where a few KB describe the most.
        deflate: u.arbitrary::<bool>().unwrap_or(false)
            && text_bytes < (256 << 10)
            && total < 5_000,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let spec = spec(&mut u);
    let bytes = xlsx_from_spec(&spec);
    budget::read_within_budget("book.xlsx", &bytes);
});
