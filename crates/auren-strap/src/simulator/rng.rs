//! A small seeded PRNG (xoshiro256** seeded through SplitMix64) and the noise shapes the simulator needs.
//! Hand-written so that a seed gives the same series on every platform and every future build.

/// xoshiro256** (Blackman & Vigna): fast, 256-bit state, good statistical quality for simulation.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

impl Rng {
    /// Seeds the state with SplitMix64, as the xoshiro authors recommend; `stream` separates independent
    /// streams of one seed (beats, ectopy, dropouts) so that changing one rate leaves the others alone.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut x = seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F);
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
            spare_normal: None,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (Box–Muller, both values used).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - uniform() is in (0, 1], so the log is finite.
        let r = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let theta = std::f64::consts::TAU * self.uniform();
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    pub(crate) fn chance(&mut self, probability: f64) -> bool {
        self.uniform() < probability
    }
}

/// Pink (1/f) noise with unit variance, by the Voss–McCartney algorithm: row `k` is redrawn every `2^k`
/// steps, so the sum has equal power per octave over `ROWS` octaves.
#[derive(Clone, Debug)]
pub(crate) struct PinkNoise {
    rows: [f64; Self::ROWS],
    counter: u64,
}

impl PinkNoise {
    const ROWS: usize = 12;

    pub(crate) fn new(rng: &mut Rng) -> Self {
        let mut rows = [0.0; Self::ROWS];
        for row in &mut rows {
            *row = rng.normal();
        }
        Self { rows, counter: 0 }
    }

    pub(crate) fn next(&mut self, rng: &mut Rng) -> f64 {
        self.counter = self.counter.wrapping_add(1);
        let row = (self.counter.trailing_zeros() as usize).min(Self::ROWS - 1);
        self.rows[row] = rng.normal();
        let white = rng.normal();
        // ROWS + 1 independent unit normals: divide by the square root of their count for unit variance.
        (self.rows.iter().sum::<f64>() + white) / ((Self::ROWS + 1) as f64).sqrt()
    }
}
