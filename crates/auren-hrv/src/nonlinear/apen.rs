//! Approximate entropy (Pincus 1991), as Kubios reports it: m = 2, r = 0.2·SDNN (Tarvainen et al. 2014).
//!
//! `ApEn = Φᵐ(r) − Φᵐ⁺¹(r)`, `Φᵐ(r) = (N − m + 1)⁻¹ Σᵢ ln Cᵢᵐ(r)`, where `Cᵢᵐ(r)` is the share of the
//! N − m + 1 templates of length m within Chebyshev distance r of template i — self-match included,
//! which is what keeps every logarithm finite (and what SampEn drops).
//!
//! Each template's count is needed (not only the total, as for SampEn). Short series sort the
//! templates by their first coordinate and scan the run within r of each; longer ones use SampEn's
//! exact range counting, each template's count folded into its sum of logarithms as it is found
//! (O(N log² N) time, the same ≈ 19 bytes a beat as SampEn and nothing per template; see
//! [`super::sampen`]), so a day-long recording costs about what its SampEn costs — which is why the
//! panel computes ApEn only when asked (the reference panel's speed is the benchmarked one).

use crate::metric::{Absent, Metric, check_rr, finite};
use crate::time_domain::{mean, need, sample_sd};

use super::sampen::{M, R_FACTOR, log_match_sums};

/// Up to this many beats the run scan beats the range counting's sorting and bookkeeping.
const RUN_SCAN_MAX: usize = 600;

/// ApEn with m = 2 and r = 0.2·SDNN (ddof 1). Needs m + 2 = 4 beats; a constant series is
/// [`Absent::ZeroVariance`].
pub fn approximate_entropy(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    need(rr.len(), M + 2)?;
    approximate_entropy_with_tolerance(rr, R_FACTOR * sample_sd(rr, mean(rr)))
}

/// ApEn with m = 2 and an explicit tolerance `r` (ms).
pub fn approximate_entropy_with_tolerance(rr: &[f64], r: f64) -> Metric {
    check_rr(rr)?;
    need(rr.len(), M + 2)?;
    if rr.iter().all(|&v| v == rr[0]) {
        return Err(Absent::ZeroVariance);
    }
    if !(r.is_finite() && r > 0.0) {
        return Err(Absent::Undefined("ApEn tolerance must be positive and finite"));
    }
    if rr.len() >= u32::MAX as usize {
        return Err(Absent::Undefined("series too long for ApEn's 32-bit ranks"));
    }
    let (short_t, long_t) = ((rr.len() - M + 1) as f64, (rr.len() - M) as f64);
    let (short_sum, long_sum) = if rr.len() <= RUN_SCAN_MAX {
        let (short, long) = template_counts(rr, r);
        let sum = |counts: &[i64], total: f64| -> f64 {
            counts.iter().map(|&c| (c as f64 / total).ln()).sum::<f64>()
        };
        (sum(&short, short_t), sum(&long, long_t))
    } else {
        log_match_sums(rr, r)
    };
    finite(short_sum / short_t - long_sum / long_t, "ApEn overflowed")
}

/// For every template, how many templates (itself included) match it: at length m over the
/// N − m + 1 templates, and at length m + 1 over the N − m templates.
fn template_counts(x: &[f64], r: f64) -> (Vec<i64>, Vec<i64>) {
    let n_short = x.len() - M + 1;
    let n_long = n_short - 1;
    let mut order: Vec<usize> = (0..n_short).collect();
    order.sort_unstable_by(|&a, &b| x[a].total_cmp(&x[b]));
    let sorted: Vec<f64> = order.iter().map(|&i| x[i]).collect();
    // The run is found with a little slack; the exact test `|a − b| ≤ r` then decides each pair,
    // so a rounding difference between `v − r` and `|v − w|` never changes a count.
    let slack = r * (1.0 + 1e-9) + f64::EPSILON * x[0].abs().max(1.0) * 4.0;
    let (mut short, mut long) = (vec![0i64; n_short], vec![0i64; n_long]);
    for &i in &order {
        let lo = sorted.partition_point(|&v| v < x[i] - slack);
        let hi = sorted.partition_point(|&v| v <= x[i] + slack);
        for &j in &order[lo..hi] {
            if (x[j] - x[i]).abs() > r || (x[j + 1] - x[i + 1]).abs() > r {
                continue;
            }
            short[i] += 1;
            if i < n_long && j < n_long && (x[j + 2] - x[i + 2]).abs() <= r {
                long[i] += 1;
            }
        }
    }
    (short, long)
}
