//! Detrended fluctuation analysis (Peng et al. 1995): short-term α1 (4–16 beats), long-term α2 (16–64).

use crate::metric::{Absent, Metric, check_rr, finite};
use crate::time_domain::need;

/// A DFA scaling range: box sizes `min..=max` beats and the fewest beats the exponent is reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scales {
    pub min: usize,
    pub max: usize,
    /// Four boxes of the largest size: the reference computes α2 only from 256 beats (4 × 64), and
    /// the same rule gives α1 from 64 beats — under a minute at rest, so a 2-minute live window has it.
    pub min_beats: usize,
}

impl Scales {
    /// Box sizes `min..=max` beats (`3 ≤ min < max`: a box of two beats fits its line exactly),
    /// reported from four boxes of the largest size, as [`ALPHA1`] and [`ALPHA2`] are.
    pub const fn box_sizes(min: usize, max: usize) -> Scales {
        Scales {
            min,
            max,
            min_beats: 4 * max,
        }
    }
}

/// Box sizes 4..16 beats.
pub const ALPHA1: Scales = Scales {
    min: 4,
    max: 16,
    min_beats: 64,
};
/// Box sizes 16..64 beats.
pub const ALPHA2: Scales = Scales {
    min: 16,
    max: 64,
    min_beats: 256,
};

/// Short-term DFA exponent α1 (box sizes 4–16); needs 64 beats. ≈ 0.75 marks the aerobic threshold.
pub fn dfa_alpha1(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    alpha(rr, ALPHA1)
}

/// Long-term DFA exponent α2 (box sizes 16–64); needs 256 beats.
pub fn dfa_alpha2(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    alpha(rr, ALPHA2)
}

/// DFA exponent over any box-size range (Kubios reports let the user choose, e.g. 4–12 / 13–64).
pub fn dfa_alpha(rr: &[f64], scales: Scales) -> Metric {
    check_rr(rr)?;
    alpha(rr, scales)
}

/// α over `scales`: profile `y = cumsum(rr − mean)`; for every box size n, ⌊N/n⌋ boxes from the
/// start each lose their least-squares line; F(n) = RMS of all residuals; α = least-squares slope of
/// log F against log n.
pub(crate) fn alpha(rr: &[f64], scales: Scales) -> Metric {
    need(rr.len(), scales.min_beats)?;
    let mean = rr.iter().sum::<f64>() / rr.len() as f64;
    let mut acc = 0.0;
    let profile: Vec<f64> = rr
        .iter()
        .map(|&v| {
            acc += v - mean;
            acc
        })
        .collect();
    let mut points = Vec::with_capacity(scales.max - scales.min + 1);
    for n in scales.min..=scales.max {
        let f = fluctuation(&profile, n);
        if f.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(if rr.iter().all(|&v| v == rr[0]) {
                Absent::ZeroVariance
            } else {
                Absent::Undefined("DFA fluctuation is zero at some box size")
            });
        }
        points.push(((n as f64).ln(), f.ln()));
    }
    let k = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / k;
    let my = points.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    finite(sxy / sxx, "DFA slope overflowed")
}

/// F(n): RMS residual of per-box linear fits over ⌊N/n⌋ boxes (each box centred before summing, so
/// a profile that drifts far from zero over 24 hours loses no precision).
fn fluctuation(profile: &[f64], n: usize) -> f64 {
    let boxes = profile.len() / n;
    let nf = n as f64;
    let k_mean = (nf - 1.0) / 2.0;
    let sxx = nf * (nf * nf - 1.0) / 12.0;
    let mut rss = 0.0;
    for chunk in profile[..boxes * n].chunks_exact(n) {
        let y_mean = chunk.iter().sum::<f64>() / nf;
        let (mut syy, mut sxy) = (0.0, 0.0);
        for (k, &y) in chunk.iter().enumerate() {
            let dy = y - y_mean;
            syy += dy * dy;
            sxy += (k as f64 - k_mean) * dy;
        }
        rss += (syy - sxy * sxy / sxx).max(0.0);
    }
    (rss / (boxes * n) as f64).sqrt()
}
