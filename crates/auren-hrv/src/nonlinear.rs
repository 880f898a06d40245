//! Nonlinear HRV: Poincaré SD1/SD2, sample entropy and detrended fluctuation analysis.
//!
//! Layout: `sampen` (exact SampEn in O(N log² N)), `apen` (approximate entropy), `dfa` (α1 and α2
//! over any box-size ranges). Poincaré descriptors live here: the reference pipeline's two formulas
//! over the time-domain SDs, and Kubios's SD2 over the Poincaré pairs ([`sd2_of_pair_sums`]).

pub mod apen;
pub mod dfa;
pub mod sampen;

pub use apen::approximate_entropy;
pub use dfa::{dfa_alpha, dfa_alpha1, dfa_alpha2};
pub use sampen::sample_entropy;

use crate::metric::{Absent, Metric, check_rr, finite};
use crate::time_domain::{TimeDomain, need};

/// The nonlinear metrics of one NN series; field names are the reference keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Nonlinear {
    pub sd1_ms: Metric,
    pub sd2_ms: Metric,
    pub sd2_sd1: Metric,
    pub sampen: Metric,
    pub dfa_alpha1: Metric,
    pub dfa_alpha2: Metric,
}

impl Nonlinear {
    /// Every metric absent for the same reason.
    pub fn absent(why: Absent) -> Self {
        let a = || Err(why.clone());
        Nonlinear {
            sd1_ms: a(),
            sd2_ms: a(),
            sd2_sd1: a(),
            sampen: a(),
            dfa_alpha1: a(),
            dfa_alpha2: a(),
        }
    }
}

/// Poincaré descriptors from the time-domain SDs: `SD1 = √½·SDSD`, `SD2 = √(2·SDNN² − ½·SDSD²)`,
/// both from ddof-1 SDs, and their ratio. They need what SDSD needs (3 beats); the ratio is
/// [`Absent::ZeroVariance`] when SD1 is zero.
pub fn poincare(td: &TimeDomain) -> (Metric, Metric, Metric) {
    let sd1 = td.sdsd_ms.clone().map(|sdsd| 0.5_f64.sqrt() * sdsd);
    let sd2 = td.sdnn_ms.clone().and_then(|sdnn| {
        let sdsd = td.sdsd_ms.clone()?;
        let v = 2.0 * sdnn * sdnn - 0.5 * sdsd * sdsd;
        // Rounding can push a perfectly anti-correlated series a hair below zero.
        if v < 0.0 {
            Err(Absent::Undefined("SD2² is negative"))
        } else {
            finite(v.sqrt(), "SD2 overflowed")
        }
    });
    let ratio = sd2_over_sd1(&sd1, &sd2);
    (sd1, sd2, ratio)
}

/// SD2/SD1, [`Absent::ZeroVariance`] when SD1 is zero.
fn sd2_over_sd1(sd1: &Metric, sd2: &Metric) -> Metric {
    let (s1, s2) = (sd1.clone()?, sd2.clone()?);
    if s1 > 0.0 {
        finite(s2 / s1, "SD2/SD1 overflowed")
    } else {
        Err(Absent::ZeroVariance)
    }
}

/// Poincaré SD2 as Kubios computes it: the sample SD (ddof 1) of the points' projections on the
/// identity line, `(RRᵢ + RRᵢ₊₁)/√2`, over the n − 1 pairs (see
/// [`crate::settings::PoincareSd2::PairSums`]). Needs 3 beats (two pairs).
pub fn sd2_of_pair_sums(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    need(rr.len(), 3)?;
    let pairs = rr.windows(2).map(|w| w[0] + w[1]);
    let n = (rr.len() - 1) as f64;
    let mean = pairs.clone().sum::<f64>() / n;
    let ss: f64 = pairs.map(|s| (s - mean) * (s - mean)).sum();
    finite((ss / (n - 1.0) / 2.0).sqrt(), "SD2 overflowed")
}

/// Replaces SD2 (and so SD2/SD1) with [`sd2_of_pair_sums`] of the same checked `rr`.
pub(crate) fn use_pair_sum_sd2(rr: &[f64], n: &mut Nonlinear) {
    n.sd2_ms = sd2_of_pair_sums(rr);
    n.sd2_sd1 = sd2_over_sd1(&n.sd1_ms, &n.sd2_ms);
}

/// All nonlinear metrics with the DFA box-size ranges chosen; `td` must be the time-domain panel of
/// the same (checked) `rr`.
pub(crate) fn nonlinear_scaled(
    rr: &[f64],
    td: &TimeDomain,
    short: dfa::Scales,
    long: dfa::Scales,
) -> Nonlinear {
    let (sd1_ms, sd2_ms, sd2_sd1) = poincare(td);
    Nonlinear {
        sd1_ms,
        sd2_ms,
        sd2_sd1,
        sampen: need(rr.len(), sampen::M + 2).and_then(|()| {
            let sd = td.sdnn_ms.clone()?;
            sampen::sample_entropy_with_tolerance(rr, sampen::R_FACTOR * sd)
        }),
        dfa_alpha1: dfa::alpha(rr, short),
        dfa_alpha2: dfa::alpha(rr, long),
    }
}
