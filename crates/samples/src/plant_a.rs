//! Plant A operator workbooks (FORMATS.md section 3): one per month, some
//! `.xlsx`, some legacy `.xls`.
//!
//! Everything in the sheet is text, as in the real exports: the multi-line
//! headers, the `M/D/YYYY` dates in column A, every number (`36.8`, `0`,
//! `0.4181`), and the trailer rows (`Sum`, `Avg`, `Max`, `Min`, `Count`,
//! `Formula`) whose numbers carry thousands separators. Odd months (counted
//! from the first) put the columns in another order, every third month has
//! no weather data, and the other months each have one storm day with
//! bypass flow.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, Workbook};

use super::dates::{
    days_between, days_in_month, is_weekend, month_start, plus_days, us_date, xlsx_datetime,
};
use super::error::xlsx_err;
use super::numfmt::{grouped, plain_number};
use super::ole::{self, Tail};
use super::rng::Rng;
use super::xls::{self, Grid};
use super::{SampleError, SampleFile, SampleOptions};

const SHEET: &str = "OPERATOR DATA";

/// How a column's daily values arise.
#[derive(Debug, Clone, Copy)]
enum Gen {
    EffFlow,
    MaxFlow,
    MinFlow,
    InfFlow,
    TotalMg,
    BypassFlow,
    BypassHours,
    Precip,
    AirTemp,
    /// Every day, around `mean`.
    Daily(f64, f64),
    /// Weekdays only (lab or staffed tasks), around `mean`.
    Weekday(f64, f64),
    /// Proportional to the effluent flow (chemicals, return sludge).
    PerMgd(f64),
}

/// Which statistic the export's `Formula` row repeats for the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stat {
    Sum,
    Avg,
}

struct Col {
    header: &'static str,
    gen: Gen,
    decimals: u8,
    stat: Stat,
}

const fn col(header: &'static str, gen: Gen, decimals: u8, stat: Stat) -> Col {
    Col {
        header,
        gen,
        decimals,
        stat,
    }
}

use Gen::*;
use Stat::*;

/// The 79 data columns in the order of even months. The header texts are
/// those of FORMATS.md where it names them; note that `50050` tags both the
/// effluent and the bypass flow, and that several other columns also say
/// `FLOW MGD`.
const COLUMNS: [Col; 79] = [
    col("Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily", EffFlow, 1, Avg),
    col(
        "Max Effluent Flow\n50047\nFLOW MAX MGD\nMGD\nDaily",
        MaxFlow,
        1,
        Avg,
    ),
    col(
        "Min Effluent Flow\n50048\nFLOW MIN MGD\nMGD\nDaily",
        MinFlow,
        1,
        Avg,
    ),
    col("Bypass\n50050\nFLOW MGD\nMGD\nDaily", BypassFlow, 2, Sum),
    col("Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily", BypassHours, 2, Sum),
    col("Weather\nPRECIP TOT DAY\nInches/Day\nDaily", Precip, 2, Sum),
    col(
        "Weather\n00021\nAIR TEMP deg F\nDegrees F\nDaily",
        AirTemp,
        0,
        Avg,
    ),
    col("Plnt Inf\n50051\nFLOW MGD\nMGD\nDaily", InfFlow, 1, Avg),
    col("Plnt Ef\n50049\nFLOW TOTAL MG\nMG\nDaily", TotalMg, 2, Sum),
    col("Plnt Inf\n00400\npH\nSU\nDaily", Daily(7.3, 0.12), 1, Avg),
    col("Plnt Ef\n00400\npH\nSU\nDaily", Daily(7.1, 0.1), 1, Avg),
    col(
        "Plnt Inf\n80082\nCBOD5\nmg/L\nDaily",
        Weekday(215.0, 35.0),
        0,
        Avg,
    ),
    col(
        "Plnt Ef\n80082\nCBOD5\nmg/L\nDaily",
        Weekday(4.2, 1.1),
        1,
        Avg,
    ),
    col(
        "Plnt Inf\n00530\nTSS\nmg/L\nDaily",
        Weekday(240.0, 40.0),
        0,
        Avg,
    ),
    col(
        "Plnt Ef\n00530\nTSS\nmg/L\nDaily",
        Weekday(5.5, 1.5),
        1,
        Avg,
    ),
    col(
        "Plnt Ef\n00610\nNH3-N\nmg/L\nDaily",
        Weekday(0.35, 0.15),
        2,
        Avg,
    ),
    col(
        "Plnt Ef\n00665\nTOTAL PHOS\nmg/L\nDaily",
        Weekday(0.42, 0.06),
        4,
        Avg,
    ),
    col("Plnt Ef\n00300\nDO\nmg/L\nDaily", Daily(6.8, 0.5), 1, Avg),
    col(
        "Plnt Ef\n00010\nTEMP deg C\nDeg C\nDaily",
        Daily(21.0, 1.5),
        1,
        Avg,
    ),
    col(
        "Plnt Ef\n50060\nCL2 RESID\nmg/L\nDaily",
        Daily(0.02, 0.012),
        2,
        Avg,
    ),
    col(
        "Plnt Ef\n51040\nE COLI\n#/100mL\nDaily",
        Weekday(12.0, 8.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 1\n30100\nAIR FLOW\nSCFM\nDaily",
        Daily(5200.0, 400.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 2\n30101\nAIR FLOW\nSCFM\nDaily",
        Daily(5150.0, 400.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 3\n30102\nAIR FLOW\nSCFM\nDaily",
        Daily(4980.0, 400.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 4\n30103\nAIR FLOW\nSCFM\nDaily",
        Daily(5310.0, 400.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 1\n30110\nDO AVG\nmg/L\nDaily",
        Daily(2.1, 0.3),
        2,
        Avg,
    ),
    col(
        "Aer Basin 2\n30111\nDO AVG\nmg/L\nDaily",
        Daily(2.0, 0.3),
        2,
        Avg,
    ),
    col(
        "Aer Basin 3\n30112\nDO AVG\nmg/L\nDaily",
        Daily(2.2, 0.3),
        2,
        Avg,
    ),
    col(
        "Aer Basin 4\n30113\nDO AVG\nmg/L\nDaily",
        Daily(1.9, 0.3),
        2,
        Avg,
    ),
    col(
        "Aer Basin 1\n30120\nMLSS\nmg/L\nDaily",
        Weekday(2850.0, 200.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 2\n30121\nMLSS\nmg/L\nDaily",
        Weekday(2790.0, 200.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 3\n30122\nMLSS\nmg/L\nDaily",
        Weekday(2910.0, 200.0),
        0,
        Avg,
    ),
    col(
        "Aer Basin 4\n30123\nMLSS\nmg/L\nDaily",
        Weekday(2880.0, 200.0),
        0,
        Avg,
    ),
    col(
        "Aer Basins\n30130\nMLVSS\nmg/L\nDaily",
        Weekday(2200.0, 150.0),
        0,
        Avg,
    ),
    col(
        "Aer Basins\n30140\nSVI\nmL/g\nDaily",
        Weekday(115.0, 15.0),
        0,
        Avg,
    ),
    col(
        "Sec Clar 1\n31010\nBLANKET DEPTH\nFT\nDaily",
        Daily(2.4, 0.6),
        1,
        Avg,
    ),
    col(
        "Sec Clar 2\n31011\nBLANKET DEPTH\nFT\nDaily",
        Daily(2.6, 0.6),
        1,
        Avg,
    ),
    col(
        "Sec Clar 3\n31012\nBLANKET DEPTH\nFT\nDaily",
        Daily(2.2, 0.6),
        1,
        Avg,
    ),
    col(
        "Sec Clar 4\n31013\nBLANKET DEPTH\nFT\nDaily",
        Daily(2.5, 0.6),
        1,
        Avg,
    ),
    col(
        "Pri Clar 1\n31110\nBLANKET DEPTH\nFT\nDaily",
        Daily(1.8, 0.5),
        1,
        Avg,
    ),
    col(
        "Pri Clar 2\n31111\nBLANKET DEPTH\nFT\nDaily",
        Daily(1.7, 0.5),
        1,
        Avg,
    ),
    col("RAS\n32010\nFLOW MGD\nMGD\nDaily", PerMgd(0.55), 2, Avg),
    col(
        "WAS\n32020\nFLOW GPD\nGPD\nDaily",
        Daily(185_000.0, 20_000.0),
        0,
        Sum,
    ),
    col(
        "WAS\n32021\nSOLIDS LBS\nLBS/DAY\nDaily",
        Daily(12_500.0, 1_500.0),
        0,
        Sum,
    ),
    col(
        "Pri Sludge\n32110\nFLOW GPD\nGPD\nDaily",
        Daily(95_000.0, 9_000.0),
        0,
        Sum,
    ),
    col(
        "Pri Sludge\n32111\nTOTAL SOLIDS\n%\nDaily",
        Weekday(3.8, 0.4),
        2,
        Avg,
    ),
    col(
        "Thickener\n32210\nFEED GPD\nGPD\nDaily",
        Daily(210_000.0, 20_000.0),
        0,
        Sum,
    ),
    col(
        "Thickener\n32211\nTHICK SLDG TS\n%\nDaily",
        Weekday(5.6, 0.5),
        2,
        Avg,
    ),
    col(
        "Digester 1\n33010\nTEMP deg F\nDegrees F\nDaily",
        Daily(97.0, 1.0),
        1,
        Avg,
    ),
    col(
        "Digester 2\n33011\nTEMP deg F\nDegrees F\nDaily",
        Daily(96.5, 1.0),
        1,
        Avg,
    ),
    col(
        "Digester 1\n33020\nVOL ACIDS\nmg/L\nDaily",
        Weekday(140.0, 20.0),
        0,
        Avg,
    ),
    col(
        "Digester 1\n33030\nALKALINITY\nmg/L\nDaily",
        Weekday(3100.0, 150.0),
        0,
        Avg,
    ),
    col(
        "Digester\n33040\nGAS PROD\nCF/DAY\nDaily",
        Daily(236_000.0, 18_000.0),
        0,
        Sum,
    ),
    col(
        "Digester\n33041\nGAS TO FLARE\nCF/DAY\nDaily",
        Daily(21_000.0, 9_000.0),
        0,
        Sum,
    ),
    col(
        "Boiler\n33050\nGAS USED\nCF/DAY\nDaily",
        Daily(64_000.0, 8_000.0),
        0,
        Sum,
    ),
    col(
        "Belt Press\n34010\nFEED GPD\nGPD\nDaily",
        Weekday(88_000.0, 9_000.0),
        0,
        Sum,
    ),
    col(
        "Belt Press\n34011\nCAKE TS\n%\nDaily",
        Weekday(18.5, 1.2),
        1,
        Avg,
    ),
    col(
        "Belt Press\n34012\nPOLYMER LBS\nLBS/DAY\nDaily",
        Weekday(410.0, 40.0),
        0,
        Sum,
    ),
    col(
        "Belt Press\n34013\nRUN HRS\nHRS\nDaily",
        Weekday(14.0, 2.0),
        1,
        Sum,
    ),
    col(
        "Sludge Haul\n34020\nWET TONS\nTONS\nDaily",
        Weekday(62.0, 8.0),
        1,
        Sum,
    ),
    col(
        "Electric\n40010\nMAIN SERVICE KWH\nKWH\nDaily",
        Daily(7_890.0, 400.0),
        0,
        Sum,
    ),
    col(
        "Electric\n40011\nBLOWER BLDG KWH\nKWH\nDaily",
        Daily(4_100.0, 300.0),
        0,
        Sum,
    ),
    col(
        "Electric\n40012\nPEAK DEMAND KW\nKW\nDaily",
        Daily(520.0, 30.0),
        0,
        Avg,
    ),
    col(
        "Nat Gas\n40020\nUSAGE THERMS\nTHERMS\nDaily",
        Daily(85.0, 15.0),
        0,
        Sum,
    ),
    col(
        "Chemical\n41010\nNaOCl GAL\nGAL/DAY\nDaily",
        PerMgd(9.5),
        0,
        Sum,
    ),
    col(
        "Chemical\n41011\nNaHSO3 GAL\nGAL/DAY\nDaily",
        PerMgd(3.1),
        0,
        Sum,
    ),
    col(
        "Chemical\n41020\nLIME FEED LBS\nLBS/DAY\nDaily",
        PerMgd(118.0),
        0,
        Sum,
    ),
    col(
        "Chemical\n41021\nFERRIC GAL\nGAL/DAY\nDaily",
        PerMgd(14.0),
        0,
        Sum,
    ),
    col(
        "Grit\n42010\nGRIT REMOVED\nCU FT\nDaily",
        Weekday(45.0, 10.0),
        0,
        Sum,
    ),
    col(
        "Screenings\n42020\nSCREENINGS\nCU FT\nDaily",
        Weekday(30.0, 8.0),
        0,
        Sum,
    ),
    col(
        "Raw Pump Sta\n43010\nPUMP 1 HRS\nHRS\nDaily",
        Daily(16.0, 4.0),
        1,
        Sum,
    ),
    col(
        "Raw Pump Sta\n43011\nPUMP 2 HRS\nHRS\nDaily",
        Daily(15.0, 4.0),
        1,
        Sum,
    ),
    col(
        "Raw Pump Sta\n43012\nPUMP 3 HRS\nHRS\nDaily",
        Daily(9.0, 4.0),
        1,
        Sum,
    ),
    col(
        "Plnt Ef\n00940\nCHLORIDE\nmg/L\nDaily",
        Weekday(145.0, 12.0),
        0,
        Avg,
    ),
    col(
        "Plnt Ef\n00410\nALKALINITY\nmg/L\nDaily",
        Weekday(165.0, 12.0),
        0,
        Avg,
    ),
    col(
        "Plnt Inf\n00410\nALKALINITY\nmg/L\nDaily",
        Weekday(230.0, 15.0),
        0,
        Avg,
    ),
    col(
        "Plnt Ef\n00070\nTURBIDITY\nNTU\nDaily",
        Daily(1.4, 0.4),
        2,
        Avg,
    ),
    col("Operator\nSHIFT HRS\nHRS\nDaily", Daily(24.0, 0.0), 0, Sum),
    col(
        "Weather\nWIND MAX MPH\nMPH\nDaily",
        Daily(14.0, 5.0),
        0,
        Avg,
    ),
];

/// The column order of odd months: influent flow first, max and min
/// swapped, the weather pair moved to the end, bypass after effluent
/// quality, the aeration air block after the clarifiers.
fn odd_month_order() -> Vec<usize> {
    let mut order = vec![7, 0, 2, 1, 8];
    order.extend(9..21);
    order.extend([4, 3]);
    order.extend(25..41);
    order.extend(21..25);
    order.extend(41..79);
    order.extend([5, 6]);
    order
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUNE", "JULY", "AUG", "SEPT", "OCT", "NOV", "DEC",
];

/// A storm: (day of month, bypass MGD, bypass hours, precipitation in).
/// Months 0 and 1 of every three have one; month 2 has no weather data.
fn storm(month_index: u32) -> Option<(u32, f64, f64, f64)> {
    match month_index % 3 {
        0 => Some((22, 7.85, 6.5, 2.31)),
        1 => Some((19, 11.92, 8.75, 1.87)),
        _ => None,
    }
}

fn weather_blank(month_index: u32) -> bool {
    month_index % 3 == 2
}

/// Calendar months written as legacy `.xls` (the rest are `.xlsx`).
fn is_xls(month: u32) -> bool {
    matches!(month, 2 | 5 | 6 | 9 | 11)
}

/// Mean daily air temperature (deg F) of a warm-climate plant by month.
const AIR_TEMP: [f64; 12] = [
    52.0, 56.0, 63.0, 70.0, 77.0, 83.0, 85.0, 85.0, 80.0, 71.0, 61.0, 54.0,
];

/// One month's sheet as text cells: row 0 the header, then days, then the
/// six trailer rows.
fn month_grid(opts: &SampleOptions, mi: u32) -> (NaiveDate, Vec<Vec<Option<String>>>) {
    let first = month_start(opts.start, mi);
    let last = plus_days(first, i64::from(days_in_month(first)) - 1);
    let days: Vec<NaiveDate> = days_between(first, last).collect();
    let storm = storm(mi);
    let no_weather = weather_blank(mi);

    // The day's effluent flow drives several columns.
    let mut frng = Rng::stream(opts.seed, &format!("plant_a/{first}/flow"));
    let flows: Vec<f64> = days
        .iter()
        .map(|d| {
            let weekly = if is_weekend(*d) { -2.0 } else { 1.0 };
            let base = 38.0 + weekly + 2.5 * frng.gauss();
            match storm {
                Some((day, ..)) if d.day() == day => 63.0 + 3.0 * frng.unit(),
                Some((day, ..)) if d.day() == day + 1 => 49.0 + 3.0 * frng.unit(),
                _ => base,
            }
            .clamp(21.0, 69.0)
        })
        .collect();

    let values: Vec<Vec<Option<f64>>> = COLUMNS
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let mut rng = Rng::stream(opts.seed, &format!("plant_a/{first}/col{ci}"));
            days.iter()
                .zip(&flows)
                .map(|(d, &q)| {
                    let g = rng.gauss();
                    let u = rng.unit();
                    let storm_today = storm.filter(|s| s.0 == d.day());
                    let v = match c.gen {
                        EffFlow => q,
                        MaxFlow => (q * (1.22 + 0.2 * u)).min(69.9),
                        MinFlow => (q * (0.62 + 0.1 * u)).max(20.0),
                        InfFlow => q * (1.01 + 0.03 * u),
                        TotalMg => q,
                        BypassFlow => storm_today.map_or(0.0, |s| s.1),
                        BypassHours => storm_today.map_or(0.0, |s| s.2),
                        Precip if no_weather => return None,
                        AirTemp if no_weather => return None,
                        Precip => match storm {
                            Some(s) if s.0 == d.day() => s.3,
                            Some(s) if s.0 == d.day() + 1 => 0.45,
                            _ if u < 0.75 => 0.0,
                            _ => 0.01 + 0.8 * rng.unit(),
                        },
                        AirTemp => AIR_TEMP[d.month0() as usize] + 5.0 * g,
                        Daily(m, sd) => m + sd * g,
                        Weekday(_, _) if is_weekend(*d) => return None,
                        Weekday(m, sd) => m + sd * g,
                        PerMgd(k) => k * q * (0.95 + 0.1 * u),
                    };
                    Some(v.max(0.0))
                })
                .collect()
        })
        .collect();

    let order: Vec<usize> = if mi % 2 == 1 {
        odd_month_order()
    } else {
        (0..COLUMNS.len()).collect()
    };
    let mut rows = Vec::with_capacity(days.len() + 7);
    let mut header = vec![Some(format!(
        "OPERATOR DATA\nDaily\n{} - {}",
        us_date(first),
        us_date(last)
    ))];
    header.extend(order.iter().map(|&ci| Some(COLUMNS[ci].header.to_string())));
    rows.push(header);
    for (di, d) in days.iter().enumerate() {
        let mut row = vec![Some(us_date(*d))];
        row.extend(
            order
                .iter()
                .map(|&ci| values[ci][di].map(|v| plain_number(v, COLUMNS[ci].decimals))),
        );
        rows.push(row);
    }
    for label in ["Sum", "Avg", "Max", "Min", "Count", "Formula"] {
        let mut row = vec![Some(label.to_string())];
        row.extend(order.iter().map(|&ci| {
            let c = &COLUMNS[ci];
            // Stats use the rounded values the sheet shows.
            let shown: Vec<f64> = values[ci]
                .iter()
                .flatten()
                .map(|v| plain_number(*v, c.decimals).parse::<f64>().unwrap_or(0.0))
                .collect();
            let dec = if c.decimals == 0 {
                0
            } else {
                c.decimals.max(2)
            };
            let sum: f64 = shown.iter().sum();
            let avg = sum / shown.len().max(1) as f64;
            let stat = match label {
                "Count" => return Some(shown.len().to_string()),
                _ if shown.is_empty() => return None,
                "Sum" => sum,
                "Avg" => avg,
                "Max" => shown.iter().copied().fold(f64::MIN, f64::max),
                "Min" => shown.iter().copied().fold(f64::MAX, f64::min),
                _ if c.stat == Sum => sum,
                _ => avg,
            };
            Some(grouped(stat, dec))
        }));
        rows.push(row);
    }
    (first, rows)
}

/// Column widths in characters: the date column wider.
fn width(col: usize) -> f64 {
    if col == 0 {
        14.0
    } else {
        11.0
    }
}

fn write_xlsx(
    name: &str,
    first: NaiveDate,
    rows: &[Vec<Option<String>>],
) -> Result<Vec<u8>, SampleError> {
    let err = xlsx_err(name);
    let mut wb = Workbook::new();
    // A fixed creation time keeps the bytes reproducible: the day after
    // the month, 06:00, when such an export would run.
    let created: NaiveDateTime = month_start(first, 1)
        .and_hms_opt(6, 0, 0)
        .unwrap_or_default();
    let created = xlsx_datetime(created).map_err(&err)?;
    wb.set_properties(
        &DocProperties::new()
            .set_author("WIMS Export")
            .set_creation_datetime(&created),
    );
    let header_fmt = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name(SHEET).map_err(&err)?;
    ws.set_row_height(0, 78).map_err(&err)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let Some(text) = cell else { continue };
            let (r, c) = (r as u32, c as u16);
            if r == 0 {
                ws.write_string_with_format(r, c, text, &header_fmt)
                    .map_err(&err)?;
            } else {
                ws.write_string(r, c, text).map_err(&err)?;
            }
        }
    }
    for c in 0..rows.first().map_or(0, Vec::len) {
        ws.set_column_width(c as u16, width(c)).map_err(&err)?;
    }
    wb.save_to_buffer().map_err(&err)
}

fn write_legacy(
    name: &str,
    month: u32,
    rows: Vec<Vec<Option<String>>>,
) -> Result<Vec<u8>, SampleError> {
    let cols = rows.first().map_or(0, Vec::len);
    let grid = Grid {
        sheet: SHEET.to_string(),
        rows,
        bold_rows: vec![0],
        widths: (0..cols).map(|c| (width(c) * 256.0) as u32).collect(),
        row_heights: [("0".to_string(), 1560)].into_iter().collect(),
    };
    let clean = xls::write(name, &grid)?;
    // Odd calendar months end inside the last sector, even ones after it.
    let tail = if month % 2 == 1 {
        Tail::Truncated(316)
    } else {
        Tail::Slack(148)
    };
    ole::add_quirks(clean, tail).map_err(|message| SampleError::Ole {
        file: name.to_string(),
        message,
    })
}

/// One workbook per month of the period.
pub(crate) fn generate(opts: &SampleOptions) -> Result<Vec<SampleFile>, SampleError> {
    let mut files = Vec::new();
    for mi in 0..opts.months {
        let (first, rows) = month_grid(opts, mi);
        let month = first.month();
        let stem = format!(
            "PLANT_A-OPS DATA-{}{:02}",
            MONTHS[first.month0() as usize],
            first.year() % 100
        );
        let file = if is_xls(month) {
            let name = format!("{stem}.xls");
            let bytes = write_legacy(&name, month, rows)?;
            SampleFile { name, bytes }
        } else {
            let name = format!("{stem}.xlsx");
            let bytes = write_xlsx(&name, first, &rows)?;
            SampleFile { name, bytes }
        };
        files.push(file);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_order_is_a_permutation() {
        let mut o = odd_month_order();
        o.sort_unstable();
        assert_eq!(o, (0..COLUMNS.len()).collect::<Vec<_>>());
    }
}
