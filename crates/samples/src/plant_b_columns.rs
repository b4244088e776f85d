//! The 97 data columns of the Plant B report (`SHT-S1 DMR SUM`), as the
//! seven header rows spell them, with how each column's values arise.
//!
//! Column n sits in sheet column n (B = 1); column A is the date. The
//! header texts follow FORMATS.md section 4; many cells are blank, the
//! column number row has gaps, and flow-like columns other than the two
//! that matter exist (`RAS / FLOW / MGD`, `FNEQ / Final / Flow / mgd`).

/// How a column's daily values arise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// Column 1: the influent flow, MGD (3 decimals).
    InfFlow,
    /// Column 7: the effluent flow, a formula whose cached value is the
    /// influent flow.
    EffFlow,
    /// The far-right `FNEQ / Final / Flow` meter: close to, never equal to,
    /// the effluent flow.
    Fneq,
    /// Every day: mean, sd, decimals.
    Daily(f64, f64, u8),
    /// Weekdays only (lab): mean, sd, decimals, and the text written when
    /// the value falls below a reporting limit (`<2`, `<1`, `<1.0`).
    Lab(f64, f64, u8, Option<(f64, &'static str)>),
    /// A load in kg/D from the concentration in column `n` and the flow.
    Load(usize),
    /// Proportional to the influent flow: factor, decimals.
    PerFlow(f64, u8),
    /// Rainfall, in.
    Rain,
}

pub(crate) struct Column {
    /// Row 6: the group label, written over the group's first column only.
    pub(crate) group: &'static str,
    /// Rows 8 to 12.
    pub(crate) labels: [&'static str; 5],
    pub(crate) kind: Kind,
    /// The code on the last row of the used range.
    pub(crate) tag: &'static str,
}

const fn c(
    group: &'static str,
    labels: [&'static str; 5],
    kind: Kind,
    tag: &'static str,
) -> Column {
    Column {
        group,
        labels,
        kind,
        tag,
    }
}

use Kind::*;

/// Column numbers left blank in the header's number row.
pub(crate) const UNNUMBERED: [usize; 5] = [29, 48, 64, 83, 96];

/// Sheet columns (1-based, B = 1) of the columns that matter.
pub(crate) const INF_FLOW: usize = 1;
pub(crate) const INF_CBOD: usize = 3;
pub(crate) const EFF_CBOD: usize = 10;
pub(crate) const FNEQ: usize = 90;

pub(crate) const COLUMNS: [Column; 97] = [
    c(
        "INFLUENT DATA",
        ["RAW", "INF", "FLOW", "", "MGD"],
        InfFlow,
        "AB_RAWIFLOW",
    ),
    c(
        "",
        ["RAW", "INF", "pH", "", "S.U."],
        Daily(7.35, 0.12, 2),
        "AB_RAWIPH",
    ),
    c(
        "",
        ["RAW", "INF", "CBOD", "", "mg/L"],
        Lab(245.0, 35.0, 0, None),
        "AB_RAWICBOD",
    ),
    c(
        "",
        ["RAW", "INF", "TSS", "", "mg/L"],
        Lab(260.0, 40.0, 0, None),
        "AB_RAWITSS",
    ),
    c(
        "",
        ["RAW", "INF", "T-P", "", "mg/L"],
        Lab(5.8, 0.7, 2, None),
        "AB_RAWITP",
    ),
    c(
        "",
        ["RAW", "INF", "TKN", "", "mg/L"],
        Lab(38.0, 4.0, 1, None),
        "AB_RAWITKN",
    ),
    c(
        "EFFLUENT DATA",
        ["FIN", "EFF", "FLOW", "", "MGD"],
        EffFlow,
        "AB_FINEFLOW",
    ),
    c(
        "",
        ["FIN", "EFF", "pH", "MIN", "S.U."],
        Daily(6.9, 0.1, 2),
        "AB_FINEPHMIN",
    ),
    c(
        "",
        ["FIN", "EFF", "pH", "MAX", "S.U."],
        Daily(7.4, 0.1, 2),
        "AB_FINEPHMAX",
    ),
    c(
        "",
        ["FIN", "EFF", "CBOD", "", "mg/L"],
        Lab(2.3, 0.8, 1, Some((2.0, "<2"))),
        "AB_FINECBOD",
    ),
    c(
        "",
        ["FIN", "EFF", "TSS", "", "mg/L"],
        Lab(1.8, 0.7, 1, Some((1.0, "<1"))),
        "AB_FINETSS",
    ),
    c(
        "",
        ["FIN", "EFF", "NH3-N", "", "mg/L"],
        Lab(0.35, 0.12, 2, None),
        "AB_FINENH3",
    ),
    c(
        "",
        ["FIN", "EFF", "T-P", "", "mg/L"],
        Lab(0.62, 0.1, 2, None),
        "AB_FINETP",
    ),
    c(
        "",
        ["FIN", "EFF", "TKN", "", "mg/L"],
        Lab(1.9, 0.3, 1, None),
        "AB_FINETKN",
    ),
    c(
        "",
        ["FIN", "EFF", "NO3-N", "", "mg/L"],
        Lab(12.5, 1.5, 1, None),
        "AB_FINENO3",
    ),
    c(
        "",
        ["FIN", "EFF", "DO", "", "mg/L"],
        Daily(6.9, 0.4, 1),
        "AB_FINEDO",
    ),
    c(
        "",
        ["FIN", "EFF", "E. COLI", "MPN", "100 ml"],
        Lab(3.0, 2.5, 0, Some((1.0, "<1.0"))),
        "AB_FINEECOLI",
    ),
    c(
        "",
        ["FIN", "EFF", "TEMP", "", "deg C"],
        Daily(22.0, 1.2, 1),
        "AB_FINETEMP",
    ),
    c(
        "",
        ["FIN", "EFF", "CBOD", "% REM", "%"],
        Lab(99.1, 0.3, 1, None),
        "AB_FINECBODR",
    ),
    c(
        "",
        ["FIN", "EFF", "TSS", "% REM", "%"],
        Lab(99.3, 0.2, 1, None),
        "AB_FINETSSR",
    ),
    c(
        "",
        ["FIN", "EFF", "ALK", "", "mg/L"],
        Lab(168.0, 10.0, 0, None),
        "AB_FINEALK",
    ),
    c(
        "",
        ["FIN", "EFF", "COND", "", "uS/cm"],
        Daily(1050.0, 60.0, 0),
        "AB_FINECOND",
    ),
    c(
        "CHLORINE CONTACT TANK",
        ["CCT", "EFF", "CL2", "RES", "ppm"],
        Daily(1.6, 0.2, 2),
        "AB_CCTCL2",
    ),
    c(
        "",
        ["CCT", "", "CL2", "FEED", "lbs/D"],
        Daily(410.0, 35.0, 0),
        "AB_CCTCL2F",
    ),
    c(
        "",
        ["CCT", "EFF", "CL2", "MIN", "ppm"],
        Daily(1.1, 0.15, 2),
        "AB_CCTCL2MIN",
    ),
    c(
        "",
        ["CCT", "EFF", "CL2", "MAX", "ppm"],
        Daily(2.2, 0.2, 2),
        "AB_CCTCL2MAX",
    ),
    c(
        "",
        ["CCT", "", "SO2", "FEED", "lbs/D"],
        Daily(165.0, 20.0, 0),
        "AB_CCTSO2F",
    ),
    c(
        "",
        ["CCT", "EFF", "CL2", "TOTAL", "ppm"],
        Daily(1.8, 0.2, 2),
        "AB_CCTCL2T",
    ),
    c(
        "",
        ["CCT", "", "DETENT", "TIME", "min"],
        Daily(42.0, 4.0, 0),
        "AB_CCTDT",
    ),
    c(
        "",
        ["CCT", "", "pH", "", "S.U."],
        Daily(7.0, 0.1, 2),
        "AB_CCTPH",
    ),
    c(
        "FINAL",
        ["FIN", "EFF", "CL2", "RES", "ppm"],
        Daily(0.02, 0.01, 2),
        "AB_FINCL2",
    ),
    c(
        "",
        ["FIN", "EFF", "DO", "MIN", "mg/L"],
        Daily(6.2, 0.3, 1),
        "AB_FINDOMIN",
    ),
    c(
        "",
        ["FIN", "EFF", "E. COLI", "GEO MEAN", "100 ml"],
        Lab(2.6, 1.0, 1, None),
        "AB_FINECGM",
    ),
    c(
        "",
        ["FIN", "EFF", "FECAL", "COL", "100 ml"],
        Lab(4.0, 3.0, 0, None),
        "AB_FINFECAL",
    ),
    c(
        "",
        ["FIN", "EFF", "O&G", "", "mg/L"],
        Lab(1.4, 0.3, 1, None),
        "AB_FINOG",
    ),
    c(
        "",
        ["FIN", "EFF", "TURB", "", "NTU"],
        Daily(1.1, 0.3, 2),
        "AB_FINTURB",
    ),
    c(
        "",
        ["FIN", "EFF", "COD", "", "mg/L"],
        Lab(21.0, 4.0, 0, None),
        "AB_FINCOD",
    ),
    c(
        "",
        ["FIN", "EFF", "HARD", "", "mg/L"],
        Lab(182.0, 10.0, 0, None),
        "AB_FINHARD",
    ),
    c(
        "",
        ["FIN", "EFF", "CL", "", "mg/L"],
        Lab(118.0, 9.0, 0, None),
        "AB_FINCL",
    ),
    c(
        "",
        ["FIN", "EFF", "SO4", "", "mg/L"],
        Lab(64.0, 6.0, 0, None),
        "AB_FINSO4",
    ),
    c(
        "LOADINGS",
        ["RAW", "INF", "CBOD", "LOAD", "kg/D"],
        Load(3),
        "AB_LDRAWCBOD",
    ),
    c(
        "",
        ["RAW", "INF", "TSS", "LOAD", "kg/D"],
        Load(4),
        "AB_LDRAWTSS",
    ),
    c(
        "",
        ["FIN", "EFF", "CBOD", "LOAD", "kg/D"],
        Load(10),
        "AB_LDFINCBOD",
    ),
    c(
        "",
        ["FIN", "EFF", "TSS", "LOAD", "kg/D"],
        Load(11),
        "AB_LDFINTSS",
    ),
    c(
        "",
        ["FIN", "EFF", "NH3-N", "LOAD", "kg/D"],
        Load(12),
        "AB_LDFINNH3",
    ),
    c(
        "",
        ["FIN", "EFF", "T-P", "LOAD", "kg/D"],
        Load(13),
        "AB_LDFINTP",
    ),
    c(
        "",
        ["FIN", "EFF", "TKN", "LOAD", "kg/D"],
        Load(14),
        "AB_LDFINTKN",
    ),
    c(
        "",
        ["RAW", "INF", "T-P", "LOAD", "kg/D"],
        Load(5),
        "AB_LDRAWTP",
    ),
    c(
        "",
        ["RAW", "INF", "TKN", "LOAD", "kg/D"],
        Load(6),
        "AB_LDRAWTKN",
    ),
    c(
        "",
        ["FIN", "EFF", "CBOD", "7D AVG", "kg/D"],
        Lab(18.0, 4.0, 1, None),
        "AB_FINCBOD7",
    ),
    c(
        "",
        ["FIN", "EFF", "TSS", "7D AVG", "kg/D"],
        Lab(15.0, 4.0, 1, None),
        "AB_FINTSS7",
    ),
    c(
        "",
        ["FIN", "EFF", "NH3-N", "7D AVG", "kg/D"],
        Lab(3.2, 0.8, 2, None),
        "AB_FINNH37",
    ),
    c(
        "",
        ["FIN", "EFF", "CBOD", "30D AVG", "kg/D"],
        Lab(18.0, 2.0, 1, None),
        "AB_FINCBOD30",
    ),
    c(
        "",
        ["FIN", "EFF", "TSS", "30D AVG", "kg/D"],
        Lab(15.0, 2.0, 1, None),
        "AB_FINTSS30",
    ),
    c(
        "",
        ["FIN", "EFF", "NH3-N", "30D AVG", "kg/D"],
        Lab(3.2, 0.4, 2, None),
        "AB_FINNH330",
    ),
    c(
        "",
        ["FIN", "EFF", "T-P", "30D AVG", "kg/D"],
        Lab(5.9, 0.5, 2, None),
        "AB_FINTP30",
    ),
    c(
        "ODOR CONTROL",
        ["OC", "SCRUB", "H2S", "IN", "ppm"],
        Daily(38.0, 12.0, 1),
        "AB_OCSH2SI",
    ),
    c(
        "",
        ["OC", "SCRUB", "H2S", "OUT", "ppm"],
        Daily(0.4, 0.2, 2),
        "AB_OCSH2SO",
    ),
    c(
        "",
        ["OC", "SCRUB", "pH", "", "S.U."],
        Daily(9.6, 0.3, 2),
        "AB_OCSPH",
    ),
    c(
        "",
        ["OC", "SCRUB", "NaOH", "FEED", "gal/D"],
        Daily(52.0, 8.0, 0),
        "AB_OCSNAOH",
    ),
    c(
        "",
        ["OC", "SCRUB", "NaOCl", "FEED", "gal/D"],
        Daily(78.0, 10.0, 0),
        "AB_OCSNAOCL",
    ),
    c(
        "",
        ["OC", "BIOF", "H2S", "IN", "ppm"],
        Daily(24.0, 8.0, 1),
        "AB_OCBH2SI",
    ),
    c(
        "",
        ["OC", "BIOF", "H2S", "OUT", "ppm"],
        Daily(0.8, 0.3, 2),
        "AB_OCBH2SO",
    ),
    c(
        "",
        ["OC", "BIOF", "DP", "", "in WC"],
        Daily(2.4, 0.3, 1),
        "AB_OCBDP",
    ),
    c(
        "PROCESS CONTROL",
        ["AER", "BASIN", "DO", "AVG", "mg/L"],
        Daily(2.0, 0.3, 2),
        "AB_AERDO",
    ),
    c(
        "",
        ["AER", "BASIN", "MLSS", "", "mg/L"],
        Lab(3150.0, 220.0, 0, None),
        "AB_AERMLSS",
    ),
    c(
        "",
        ["AER", "BASIN", "MLVSS", "", "mg/L"],
        Lab(2460.0, 170.0, 0, None),
        "AB_AERMLVSS",
    ),
    c(
        "",
        ["AER", "BASIN", "SVI", "", "mL/g"],
        Lab(108.0, 12.0, 0, None),
        "AB_AERSVI",
    ),
    c(
        "",
        ["AER", "AIR", "FLOW", "", "SCFM"],
        Daily(9800.0, 600.0, 0),
        "AB_AERAIR",
    ),
    c(
        "",
        ["RAS", "", "FLOW", "", "MGD"],
        PerFlow(0.6, 3),
        "AB_RASFLOW",
    ),
    c(
        "",
        ["WAS", "", "FLOW", "", "GPD"],
        Daily(92_000.0, 9_000.0, 0),
        "AB_WASFLOW",
    ),
    c(
        "",
        ["WAS", "", "SOLIDS", "", "lbs/D"],
        Daily(6_900.0, 700.0, 0),
        "AB_WASLBS",
    ),
    c(
        "",
        ["SEC", "CLAR", "BLANKET", "", "ft"],
        Daily(2.1, 0.5, 1),
        "AB_SECBLKT",
    ),
    c(
        "",
        ["SEC", "CLAR", "SOR", "", "gpd/sf"],
        PerFlow(48.0, 0),
        "AB_SECSOR",
    ),
    c(
        "",
        ["PRI", "CLAR", "SOR", "", "gpd/sf"],
        PerFlow(95.0, 0),
        "AB_PRISOR",
    ),
    c(
        "",
        ["PRI", "SLDG", "FLOW", "", "GPD"],
        Daily(41_000.0, 4_000.0, 0),
        "AB_PRISLDG",
    ),
    c(
        "",
        ["DIG", "GAS", "PROD", "", "cf/D"],
        Daily(118_000.0, 9_000.0, 0),
        "AB_DIGGAS",
    ),
    c(
        "",
        ["DIG", "SLDG", "TEMP", "", "deg F"],
        Daily(97.5, 0.8, 1),
        "AB_DIGTEMP",
    ),
    c(
        "",
        ["DIG", "VOL", "ACIDS", "", "mg/L"],
        Lab(160.0, 20.0, 0, None),
        "AB_DIGVA",
    ),
    c(
        "",
        ["DIG", "", "ALK", "", "mg/L"],
        Lab(2950.0, 150.0, 0, None),
        "AB_DIGALK",
    ),
    c(
        "SOLIDS HANDLING",
        ["BELT", "PRESS", "FEED", "", "GPD"],
        Lab(52_000.0, 5_000.0, 0, None),
        "AB_BPFEED",
    ),
    c(
        "",
        ["BELT", "PRESS", "CAKE", "SOLIDS", "%"],
        Lab(19.2, 1.1, 1, None),
        "AB_BPCAKE",
    ),
    c(
        "",
        ["BELT", "PRESS", "POLYMER", "", "lbs/D"],
        Lab(260.0, 25.0, 0, None),
        "AB_BPPOLY",
    ),
    c(
        "",
        ["SLDG", "", "HAULED", "", "wet tons"],
        Lab(34.0, 5.0, 1, None),
        "AB_SLDGHAUL",
    ),
    c(
        "UTILITIES",
        ["ELEC", "PLANT", "USAGE", "", "kWh"],
        Daily(21_500.0, 1_200.0, 0),
        "AB_ELEC",
    ),
    c(
        "",
        ["NAT", "GAS", "USAGE", "", "therms"],
        Daily(42.0, 9.0, 0),
        "AB_NATGAS",
    ),
    c("WEATHER", ["RAIN", "", "FALL", "", "in"], Rain, "AB_RAIN"),
    c(
        "",
        ["AIR", "TEMP", "MAX", "", "deg F"],
        Daily(84.0, 5.0, 0),
        "AB_AIRMAX",
    ),
    c(
        "",
        ["AIR", "TEMP", "MIN", "", "deg F"],
        Daily(66.0, 5.0, 0),
        "AB_AIRMIN",
    ),
    c("DMR", ["FNEQ", "Final", "Flow", "", "mgd"], Fneq, "AB_FNEQ"),
    c(
        "",
        ["FIN", "EFF", "CBOD", "MO AVG", "mg/L"],
        Lab(2.5, 0.3, 1, None),
        "AB_FINCBODMA",
    ),
    c(
        "",
        ["FIN", "EFF", "TSS", "MO AVG", "mg/L"],
        Lab(2.0, 0.3, 1, None),
        "AB_FINTSSMA",
    ),
    c(
        "MISC",
        ["PLANT", "OPER", "HRS", "", "hrs"],
        Daily(24.0, 0.0, 0),
        "AB_OPERHRS",
    ),
    c(
        "",
        ["GEN", "RUN", "TIME", "", "hrs"],
        Daily(0.5, 0.3, 1),
        "AB_GENRUN",
    ),
    c(
        "",
        ["SAMPLER", "", "TEMP", "", "deg C"],
        Daily(3.6, 0.6, 1),
        "AB_SMPLTEMP",
    ),
    c(
        "",
        ["CHEM", "ALUM", "FEED", "", "gal/D"],
        PerFlow(28.0, 0),
        "AB_ALUM",
    ),
    c(
        "",
        ["CHEM", "POLY", "FEED", "", "gal/D"],
        Daily(11.0, 2.0, 1),
        "AB_POLY",
    ),
];
