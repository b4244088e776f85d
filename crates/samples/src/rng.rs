//! A small deterministic random number generator (SplitMix64).
//!
//! The samples must be byte-identical on every run and every machine, so the
//! generator owns its PRNG instead of depending on `rand`, whose streams may
//! change between versions. Every file draws from its own stream, derived
//! from the seed and the file's role, so that changing one file's generator
//! does not shift the numbers of every other file.

/// SplitMix64: tiny, fast, and good enough for plausible noise.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

/// sqrt(3): scales the Irwin-Hall sum of four uniforms to unit variance.
const SQRT_3: f64 = 1.732_050_807_568_877_2;

impl Rng {
    /// A stream for one role (`"lab"`, `"ph/WB0038"`...) under a seed.
    pub(crate) fn stream(seed: u64, role: &str) -> Rng {
        // FNV-1a over the role, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in role.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut r = Rng(seed ^ h.rotate_left(17));
        r.next_u64();
        r
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Roughly standard normal (Irwin-Hall of four uniforms): bounded tails
    /// keep every value plausible, and no libm call keeps results identical
    /// across platforms.
    pub(crate) fn gauss(&mut self) -> f64 {
        let s = self.unit() + self.unit() + self.unit() + self.unit();
        (s - 2.0) * SQRT_3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rng::stream(7, "lab");
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::stream(7, "lab");
            (0..4).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::stream(7, "ph");
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::stream(1, "x");
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(r.below(7) < 7);
            let g = r.gauss();
            assert!(g.abs() <= 2.0 * SQRT_3);
        }
    }
}
