#![no_main]
//! Structure-aware: an .xlsx built part by part from the input (shared
//! strings as plain, rich-text runs or CDATA, claims spelled oddly, number
//! formats, fonts and many styles, sheets inside or outside `worksheets/`,
//! a workbook part under another name, cells in runs that reference the
//! same string or style many times, far cells), so the fuzzer reaches
//! fan-out on its own. Reading any of them must stay within the memory
//! budget (counted by the target's own allocator) and balance.
use arbitrary::Unstructured;
use crew_mrv_samples::hostile::{
    xlsx_from_spec, XlsxSpec, XmlCell, XmlSheet, XmlText, XmlValue,
};
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

fn spec(u: &mut Unstructured<'_>) -> XlsxSpec {
    let strings: Vec<XmlText> = (0..count(u, &[0, 1, 2, 5, 40])).map(|_| xml_text(u)).collect();
    let claim = match u.int_in_range(0..=3u8).unwrap_or(0) {
        0 => None,
        1 => Some(format!(" uniqueCount = \"{}\"", u.arbitrary::<u64>().unwrap_or(0))),
        2 => Some(format!(" uniqueCount='{}'", u.arbitrary::<u32>().unwrap_or(0))),
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
    let xfs = vec![xf_id; count(u, &[1, 10, 1_000, 60_000])];
    let fonts = (0..count(u, &[1, 2])).map(|_| text(u)).collect();
    let sheets = (0..count(u, &[1, 2, 3, 40]))
        .map(|i| {
            let mut cells = Vec::new();
            for _ in 0..count(u, &[0, 1, 2, 4]) {
                let n = count(u, &[1, 10, 1_000, 20_000]);
                let row = pick(u, &[0u32, 1, 5, 1_000, 65_535, 1_048_575, 4_000_000]);
                let col = pick(u, &[0u32, 1, 7, 255, 16_383, 20_000]);
                let style = u
                    .arbitrary::<bool>()
                    .unwrap_or(false)
                    .then(|| pick(u, &[0u32, 1, 59_999, 70_000]));
                let value = match u.int_in_range(0..=4u8).unwrap_or(0) {
                    0 => XmlValue::Shared(pick(u, &[0u32, 1, 39, 100])),
                    1 => XmlValue::Number(pick(u, &[0.0, 45_748.0, -1.0, 1e308, f64::NAN])),
                    2 => XmlValue::Inline(xml_text(u)),
                    3 => XmlValue::Str(text(u)),
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
        deflate: true,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let spec = spec(&mut u);
    let bytes = xlsx_from_spec(&spec);
    budget::read_within_budget("book.xlsx", &bytes);
});
