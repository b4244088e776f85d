//! Reading numbers the way plant staff write them.
//!
//! Workbooks store numbers as text (`'36.8'`), with thousands separators
//! (`'1,437.30'`), below-detection values (`<2`) and footnote marks
//! (`311*`); some CSV exports use decimal commas. Everything that is not a
//! finite number is an error the caller reports with its location, never a
//! silent zero.

use std::fmt;

/// A number read from text, with the qualifiers the text carried.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num {
    pub value: f64,
    /// Written as `<x`: below the detection limit `x`.
    pub below_detection: bool,
    /// Written with a trailing `*`: the value has a footnote.
    pub footnoted: bool,
    /// A decimal comma was read as a decimal point.
    pub decimal_comma: bool,
}

impl Num {
    pub fn plain(value: f64) -> Num {
        Num {
            value,
            below_detection: false,
            footnoted: false,
            decimal_comma: false,
        }
    }
}

/// Why a text is not a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumError {
    /// Not a number at all (`abc`, `Bad`).
    NotANumber,
    /// `NaN`, `inf` and friends: parseable, never plausible.
    NotFinite,
    /// An Excel error value such as `#N/A` or `#VALUE!`.
    ExcelError(String),
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumError::NotANumber => f.write_str("not a number"),
            NumError::NotFinite => f.write_str("not a finite number"),
            NumError::ExcelError(e) => write!(f, "Excel error value {e}"),
        }
    }
}

/// How commas inside numbers are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commas {
    /// `1,437.30`: commas group thousands (workbooks, comma CSVs).
    Thousands,
    /// `12,5`: a single comma is the decimal separator (semicolon CSVs).
    Decimal,
}

/// Parse a cell or field; `Ok(None)` when it is blank.
pub fn parse_num(text: &str, commas: Commas) -> Result<Option<Num>, NumError> {
    // A sensor value: nothing to trim, mark or regroup (the short form
    // takes digits, one dot and a sign only).
    if let Some(v) = short_decimal(text.as_bytes()) {
        return Ok(Some(Num::plain(v)));
    }
    let mut s = text.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.starts_with('#') {
        // Excel's error values are short; a long '#…' text is quoted only
        // in part.
        return Err(NumError::ExcelError(
            crate::text::clip(s, crate::text::QUOTE_CHARS).into_owned(),
        ));
    }
    let mut num = Num::plain(0.0);
    if let Some(rest) = s.strip_suffix('*') {
        num.footnoted = true;
        s = rest.trim_end();
    }
    if let Some(rest) = s.strip_prefix('<') {
        num.below_detection = true;
        s = rest.trim_start();
    }
    if s.is_empty() {
        return Err(NumError::NotANumber);
    }
    let value = match parse_plain(s) {
        Some(v) => v,
        None => {
            let (v, decimal) = parse_with_commas(s, commas).ok_or(NumError::NotANumber)?;
            num.decimal_comma = decimal;
            v
        }
    };
    if !value.is_finite() {
        return Err(NumError::NotFinite);
    }
    num.value = value;
    Ok(Some(num))
}

/// A plain decimal number: digits, one dot, optional sign and exponent.
/// Rust's own parser also takes `inf`/`NaN`; those are refused by the
/// caller's finiteness check, so they are reported, not silently used.
pub fn parse_plain(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    // Cheap reject of words so `Bad` does not go through the float parser.
    let first = b[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'I' | b'n' | b'N'))
    {
        return None;
    }
    short_decimal(b).or_else(|| s.parse::<f64>().ok())
}

/// `[+-]digits[.digits]` with at most 15 digits in all: the digits as an
/// integer and the power of ten are both exact doubles, so one division is
/// the correctly rounded value, the very double `str::parse` returns (its
/// own first case, without its general machinery: sensor values are all
/// of this form).
pub(crate) fn short_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match b.first()? {
        b'-' => (true, b.get(1..)?),
        b'+' => (false, b.get(1..)?),
        _ => (false, b),
    };
    let mut mantissa = 0u64;
    let (mut count, mut frac, mut dot) = (0usize, 0usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' if count < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
                frac += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let v = mantissa as f64 / *POW10.get(frac)?;
    Some(if negative { -v } else { v })
}

fn parse_with_commas(s: &str, commas: Commas) -> Option<(f64, bool)> {
    if !s.contains(',') {
        return None;
    }
    let (sign, body) = match s.as_bytes()[0] {
        b'-' => ("-", &s[1..]),
        b'+' => ("", &s[1..]),
        _ => ("", s),
    };
    match commas {
        Commas::Thousands => {
            let (int, frac) = match body.split_once('.') {
                Some((i, f)) => (i, Some(f)),
                None => (body, None),
            };
            let groups: Vec<&str> = int.split(',').collect();
            let ok = groups.len() > 1
                && !groups[0].is_empty()
                && groups[0].len() <= 3
                && groups.iter().all(|g| g.bytes().all(|c| c.is_ascii_digit()))
                && groups[1..].iter().all(|g| g.len() == 3)
                && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()));
            if !ok {
                return None;
            }
            let mut joined = String::with_capacity(s.len());
            joined.push_str(sign);
            joined.extend(groups);
            if let Some(f) = frac {
                joined.push('.');
                joined.push_str(f);
            }
            joined.parse::<f64>().ok().map(|v| (v, false))
        }
        Commas::Decimal => {
            let (int, frac) = body.split_once(',')?;
            let int_digits: String = int.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
            if int_digits.is_empty()
                || frac.is_empty()
                || !int_digits.bytes().all(|c| c.is_ascii_digit())
                || !frac.bytes().all(|c| c.is_ascii_digit())
            {
                return None;
            }
            format!("{sign}{int_digits}.{frac}")
                .parse::<f64>()
                .ok()
                .map(|v| (v, true))
        }
    }
}

/// A computed number for a message: six significant digits, trailing
/// zeros dropped. Lab values carry at most a few decimals, so the digits a
/// sum or difference adds beyond that are float noise
/// (`76.80000000000001`); the CSVs' numeric columns keep full precision.
pub fn tidy(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (5 - magnitude).clamp(0, 17) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short form's division against the standard parser, bit for
    /// bit, over digit counts, dot positions and signs (a longer number
    /// goes to the standard parser).
    #[test]
    fn short_decimals_are_the_standard_parsers_doubles() {
        let mut next = crate::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        for _ in 0..300_000 {
            let n = (next() % 17) as usize + 1;
            let mut t: String = (0..n)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            if !next().is_multiple_of(4) {
                let at = (next() as usize) % (t.len() + 1);
                t.insert(at, '.');
            }
            match next() % 4 {
                0 => t.insert(0, '-'),
                1 => t.insert(0, '+'),
                _ => {}
            }
            let want = t.parse::<f64>().ok();
            if let Some(got) = short_decimal(t.as_bytes()) {
                checked += 1;
                assert_eq!(Some(got.to_bits()), want.map(f64::to_bits), "{t}");
            }
            assert_eq!(
                parse_plain(&t).map(f64::to_bits),
                want.map(f64::to_bits),
                "{t}"
            );
        }
        assert!(checked > 100_000);
        for t in ["", ".", "-", "+.", "1..2", "1e5", "0x1", "--1", "1-"] {
            assert_eq!(short_decimal(t.as_bytes()), None, "{t}");
        }
        assert_eq!(
            short_decimal(b"-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
    }

    fn v(s: &str) -> Option<f64> {
        parse_num(s, Commas::Thousands)
            .ok()
            .flatten()
            .map(|n| n.value)
    }

    #[test]
    fn text_numbers_and_thousands() {
        assert_eq!(v("36.8"), Some(36.8));
        assert_eq!(v(" 0 "), Some(0.0));
        assert_eq!(v("0.4181"), Some(0.4181));
        assert_eq!(v("1,437.30"), Some(1437.3));
        assert_eq!(v("236,700"), Some(236700.0));
        assert_eq!(v("-1,000"), Some(-1000.0));
        assert_eq!(v("1e3"), Some(1000.0));
        assert_eq!(v(""), None);
        assert_eq!(
            parse_num("12,34", Commas::Thousands),
            Err(NumError::NotANumber)
        );
    }

    #[test]
    fn qualifiers_are_kept() {
        let n = parse_num("<2", Commas::Thousands).ok().flatten();
        assert_eq!(n.map(|n| (n.value, n.below_detection)), Some((2.0, true)));
        let n = parse_num("311*", Commas::Thousands).ok().flatten();
        assert_eq!(n.map(|n| (n.value, n.footnoted)), Some((311.0, true)));
        let n = parse_num("<2*", Commas::Thousands).ok().flatten();
        assert_eq!(
            n.map(|n| (n.value, n.below_detection, n.footnoted)),
            Some((2.0, true, true))
        );
        assert_eq!(v("<1.0"), Some(1.0));
    }

    #[test]
    fn decimal_commas_only_when_asked() {
        let n = parse_num("7,25", Commas::Decimal).ok().flatten();
        assert_eq!(n.map(|n| (n.value, n.decimal_comma)), Some((7.25, true)));
        let n = parse_num("1.234,5", Commas::Decimal).ok().flatten();
        assert_eq!(n.map(|n| n.value), Some(1234.5));
        assert_eq!(v("7.25"), Some(7.25));
    }

    #[test]
    fn non_finite_and_errors_are_refused() {
        assert_eq!(
            parse_num("NaN", Commas::Thousands),
            Err(NumError::NotFinite)
        );
        assert_eq!(
            parse_num("inf", Commas::Thousands),
            Err(NumError::NotFinite)
        );
        assert_eq!(
            parse_num("-Infinity", Commas::Thousands),
            Err(NumError::NotFinite)
        );
        assert_eq!(
            parse_num("#N/A", Commas::Thousands),
            Err(NumError::ExcelError("#N/A".into()))
        );
        assert_eq!(
            parse_num("Bad", Commas::Thousands),
            Err(NumError::NotANumber)
        );
        assert_eq!(
            parse_num("---", Commas::Thousands),
            Err(NumError::NotANumber)
        );
        assert_eq!(parse_num("<", Commas::Thousands), Err(NumError::NotANumber));
    }

    #[test]
    fn tidy_drops_float_noise_only() {
        assert_eq!(tidy(76.80000000000001), "76.8");
        assert_eq!(tidy(44.099999999999994), "44.1");
        assert_eq!(tidy(-14.300000000000004), "-14.3");
        assert_eq!(tidy(-5.0), "-5");
        assert_eq!(tidy(45.0), "45");
        assert_eq!(tidy(4.230234114123263), "4.23023");
        assert_eq!(tidy(0.000123456789), "0.000123457");
        assert_eq!(tidy(1234567.8), "1234568");
        assert_eq!(tidy(-0.0000001), "-0.0000001");
        assert_eq!(tidy(f64::NAN), "NaN");
    }
}
