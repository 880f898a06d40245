//! A metric's value, or the reason it is absent: short or degenerate input never yields NaN or a panic.

/// A computed metric: `Ok(value)` (always finite) or `Err(Absent)` saying why not.
pub type Metric = Result<f64, Absent>;

/// Why a metric could not be computed from the given beats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Absent {
    #[error("needs at least {needed} beats, got {got}")]
    TooFewBeats { needed: usize, got: usize },
    #[error("needs at least {needed_s} s of recording, got {got_s} s")]
    TooShort { needed_s: u32, got_s: u32 },
    #[error("the series has zero variance")]
    ZeroVariance,
    #[error("{0}")]
    Undefined(&'static str),
    /// Day-level metrics (readiness): too few daily readings in the window.
    #[error("needs at least {needed} readings, got {got}")]
    TooFewReadings { needed: usize, got: usize },
    /// The input holds a value that is not an RR interval (NaN, infinite, zero or negative).
    #[error("RR interval #{index} is not a positive finite number of milliseconds")]
    InvalidRr { index: usize },
}

/// Turns a computed value into a [`Metric`], refusing non-finite results with `why`.
pub fn finite(value: f64, why: &'static str) -> Metric {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Absent::Undefined(why))
    }
}

/// Checks that every interval is a positive finite number of milliseconds, naming the first that is not.
///
/// Metric functions assume this; [`crate::panel::analyze`] checks it once and reports
/// [`Absent::InvalidRr`] for every metric of a series that fails.
pub fn check_rr(rr: &[f64]) -> Result<(), Absent> {
    match rr.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
        Some(index) => Err(Absent::InvalidRr { index }),
        None => Ok(()),
    }
}
