//! Numbers as the plant exports print them.
//!
//! Rounding goes through a table of powers of ten and `f64::round`, both
//! exact and platform-independent, so the printed digits never depend on
//! the machine that generated the samples.

/// `x` rounded to `decimals` places (at most 6).
pub(crate) fn round_to(x: f64, decimals: u8) -> f64 {
    let p = POW10[usize::from(decimals).min(POW10.len() - 1)];
    (x * p).round() / p
}

/// Powers of ten by table rather than `powi`, whose result may differ in
/// the last bit between platforms.
const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// Rounds to `decimals` and prints the shortest form, as the export does
/// (`36.8`, `0`, `0.4181`).
pub(crate) fn plain_number(x: f64, decimals: u8) -> String {
    let r = round_to(x, decimals);
    if r == 0.0 {
        "0".to_string()
    } else {
        format!("{r}")
    }
}

/// Fixed decimals with thousands separators (`1,437.30`, `236,700`).
pub(crate) fn grouped(x: f64, decimals: u8) -> String {
    let s = format!("{:.*}", usize::from(decimals), x.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::new();
    if x < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_the_export() {
        assert_eq!(plain_number(36.8001, 1), "36.8");
        assert_eq!(plain_number(0.0, 2), "0");
        assert_eq!(plain_number(0.41812, 4), "0.4181");
        assert_eq!(plain_number(7.0, 1), "7");
        assert_eq!(grouped(1437.3, 2), "1,437.30");
        assert_eq!(grouped(236_700.0, 0), "236,700");
        assert_eq!(grouped(999.996, 2), "1,000.00");
        assert_eq!(grouped(12.0, 0), "12");
    }
}
