//! The hearts the server bench's devices record (`#[path]`-included by both examples). The consumer's cost
//! depends on the heart: its beat labeller settles a beat in a few steps when the intervals around it change
//! smoothly and runs the full artifact correction around every sharp jump, so a heart with many jumps costs
//! it several times more per beat. `Recorded` is a real resting hour (the repository's reference recording,
//! `tests/data/reference/nsr_60min.rr`, compiled in and looped); `Sawtooth` is the synthetic heart the bench
//! used before (60 intervals rising 7/1024 s a beat and falling back every ~11 beats), kept to compare.

use std::sync::LazyLock;

/// The reference recording: one RR interval per line, in ms.
const RECORDING: &str = include_str!("../../../../tests/data/reference/nsr_60min.rr");

/// The recording as raw 1/1024 s intervals, what a strap sends and the protocol stores.
static RECORDED: LazyLock<Vec<u16>> = LazyLock::new(|| {
    RECORDING
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok())
        .map(|ms| (ms * 1.024).round() as u16)
        .collect()
});

/// Which heart the simulated devices record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heart {
    Recorded,
    Sawtooth,
}

impl Heart {
    /// The heart a name (`recorded`, `sawtooth`) gives.
    pub fn named(name: &str) -> Result<Self, String> {
        match name.trim() {
            "recorded" => Ok(Self::Recorded),
            "sawtooth" => Ok(Self::Sawtooth),
            other => Err(format!("{other:?} is not a heart: recorded or sawtooth")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Sawtooth => "sawtooth",
        }
    }

    /// `n` raw intervals from beat `from` of the device's session on.
    pub fn beats(self, from: usize, n: usize) -> Vec<u16> {
        (from..from + n)
            .map(|i| match self {
                Self::Recorded => RECORDED.get(i % RECORDED.len().max(1)).copied().unwrap_or(800),
                Self::Sawtooth => 820 + ((i % 60) as u16 * 7) % 80,
            })
            .collect()
    }
}

/// How long `rr_raw` lasts, ms.
pub fn span_ms(rr_raw: &[u16]) -> f64 {
    rr_raw.iter().map(|&r| f64::from(r) * 1000.0 / 1024.0).sum()
}
