//! The CO2 arithmetic of METHOD §4, in exactly the order written there so
//! results match an independent implementation to the last bit. Audit this
//! file against METHOD.md line by line; nothing else computes CO2.

use crate::model::Co2Calc;

pub const MW_CA: f64 = 40.078;
pub const MW_CACO3: f64 = 100.0869;
pub const MW_CO2: f64 = 44.0095;
/// Cubic metres per million gallons.
pub const M3_PER_MG: f64 = 3785.41;

/// Every derived column of a calculated day, from a flow in MGD.
pub fn calculate(flow_mgd: f64, ca_upstream: f64, ca_downstream: f64) -> Co2Calc {
    calculate_m3(flow_mgd, flow_mgd * M3_PER_MG, ca_upstream, ca_downstream)
}

/// The same from a flow known in m³/day (read in m3/d or ML/d,
/// PROFILES.md "Units"); `_flow_mgd` is that flow converted, for display.
pub fn calculate_m3(
    _flow_mgd: f64,
    flow_m3_per_day: f64,
    ca_upstream: f64,
    ca_downstream: f64,
) -> Co2Calc {
    let ca_delta_mg_per_l = ca_downstream - ca_upstream;
    let flow_l_per_day = flow_m3_per_day * 1000.0;
    let ca_to_caco3_ratio = MW_CACO3 / MW_CA;
    let co2_to_caco3_ratio = MW_CO2 / MW_CACO3;
    let caco3_mg = ca_delta_mg_per_l * flow_l_per_day * ca_to_caco3_ratio;
    let co2_mg = caco3_mg * co2_to_caco3_ratio;
    let co2_removed_metric_tons_per_day = co2_mg / 1e9;
    Co2Calc {
        ca_delta_mg_per_l,
        flow_m3_per_day,
        flow_l_per_day,
        ca_to_caco3_ratio,
        co2_to_caco3_ratio,
        caco3_mg,
        co2_mg,
        co2_removed_metric_tons_per_day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_of_method_md() {
        let c = calculate(31.2, 39.8, 53.7);
        assert_eq!(
            format!("{:.7}", c.co2_removed_metric_tons_per_day),
            "1.8026969"
        );
        assert!((c.ca_delta_mg_per_l - 13.9).abs() < 1e-12);
        // The legacy "≈ 1.806" came from MW_Ca = 40.0; make sure it is not that.
        assert!((c.co2_removed_metric_tons_per_day - 1.806).abs() > 1e-3);
    }

    #[test]
    fn evaluation_order_is_the_written_one() {
        // Re-derive with the expressions spelled out left to right; any
        // reassociation (e.g. precomputing the ratio product) changes bits
        // for some inputs, so compare many.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let flow = 5.0 + (x % 70_000) as f64 / 1000.0;
            let up = 20.0 + ((x >> 20) % 90_000) as f64 / 1000.0;
            let down = up + ((x >> 40) % 30_000) as f64 / 1000.0;
            let c = calculate(flow, up, down);
            let expected = (down - up)
                * (flow * 3785.41 * 1000.0)
                * (100.0869 / 40.078)
                * (44.0095 / 100.0869)
                / 1e9;
            assert_eq!(
                c.co2_removed_metric_tons_per_day.to_bits(),
                expected.to_bits()
            );
        }
    }
}
