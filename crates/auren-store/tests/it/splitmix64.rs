//! SplitMix64, the seeded generator shared by the crash test (kill moments) and the benchmarks (the
//! generated year), so both are the same on every machine. The bench includes this file with `#[path]`:
//! a test-only generator has no place in the library's API.

/// SplitMix64 (Steele, Lea and Flood): a tiny, fast, seeded 64-bit generator.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    #[allow(
        dead_code,
        reason = "the benchmarks draw units; the crash test draws only integers"
    )]
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
