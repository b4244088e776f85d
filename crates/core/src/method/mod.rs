//! The MRV method (METHOD.md §2–§4): samples and replicates, merging
//! overlapping operations reports, the daily CO2 calculation, and (§7) its
//! uncertainty and sensitivity. Each
//! step is a pure function from records to records plus findings.

pub mod co2;
pub mod days;
pub mod merge;
pub mod samples;
pub mod sensitivity;
pub mod uncertainty;

/// Names this method; changes whenever a rule or constant of METHOD.md does.
pub const METHOD_VERSION: &str = "1.1.0";

/// Sum in ascending order of value, then divide (METHOD §2): the order is
/// fixed so the mean is the same bits whatever order the rows came in.
pub fn ordered_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let sum = v.iter().fold(0.0, |acc, x| acc + x);
    Some(sum / v.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_is_order_independent() {
        let a = [0.1, 0.2, 0.3, 1e16, -1e16];
        let mut b = a;
        b.reverse();
        assert_eq!(
            ordered_mean(&a).map(f64::to_bits),
            ordered_mean(&b).map(f64::to_bits)
        );
        assert_eq!(ordered_mean(&[]), None);
        assert_eq!(
            ordered_mean(&[29.2, 29.199999999999996]),
            Some((29.199999999999996 + 29.2) / 2.0)
        );
    }
}
