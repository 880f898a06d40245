//! Autoregressive (AR) spectrum: Burg's method (Burg 1975; Marple 1987, ch. 8) and the model's PSD.
//!
//! Kubios reports an AR spectrum of order 16 beside Welch's (Tarvainen et al. 2014). Which estimator
//! Kubios uses for the AR coefficients could not be confirmed from a source readable here (its
//! predecessor's paper, Niskanen et al. 2004, describes a least-squares fit); Burg's method is used
//! because it always yields a stable model, even for short series, and its result is close to the
//! forward–backward least-squares one for HRV-length series. Say so when comparing decimals.

use std::f64::consts::PI;

use super::Psd;
use crate::metric::Absent;

/// AR coefficients `a[0] = 1, a[1..=p]` of `x[n] + Σ a_k·x[n−k] = e[n]` and the driving noise
/// variance, by Burg's recursion on the mean-removed `x`.
///
/// Needs more samples than twice the order; a series whose prediction error vanishes (a pure
/// sinusoid or a constant) is [`Absent::ZeroVariance`].
pub fn burg(x: &[f64], order: usize) -> Result<(Vec<f64>, f64), Absent> {
    let n = x.len();
    if order == 0 || n <= 2 * order {
        return Err(Absent::TooFewBeats {
            needed: 2 * order + 1,
            got: n,
        });
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let mut f: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let mut b = f.clone();
    let mut a = vec![0.0; order + 1];
    a[0] = 1.0;
    let mut e = f.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if e <= 0.0 {
        return Err(Absent::ZeroVariance);
    }
    let mut previous = a.clone();
    for m in 1..=order {
        let (mut num, mut den) = (0.0, 0.0);
        for k in m..n {
            num += f[k] * b[k - 1];
            den += f[k] * f[k] + b[k - 1] * b[k - 1];
        }
        if den <= 0.0 {
            return Err(Absent::ZeroVariance);
        }
        let reflection = -2.0 * num / den;
        previous.copy_from_slice(&a);
        for i in 1..=m {
            a[i] = previous[i] + reflection * previous[m - i];
        }
        // Descending, so b[k − 1] still holds the previous stage's error when f[k] and b[k] update.
        for k in (m..n).rev() {
            let (fk, bk) = (f[k], b[k - 1]);
            f[k] = fk + reflection * bk;
            b[k] = bk + reflection * fk;
        }
        e *= 1.0 - reflection * reflection;
    }
    if !(e.is_finite() && e > 0.0) {
        return Err(Absent::ZeroVariance);
    }
    Ok((a, e))
}

/// The one-sided PSD (ms²/Hz when `x` is in ms) of the AR model `(a, noise)` sampled at `fs`, on the
/// bins `k·df` for `k = 0..n_bins`: `2·noise/fs / |Σ a_k e^{−i2πfk/fs}|²`, DC not doubled, so band
/// sums times `df` are powers comparable with Welch's.
pub fn ar_psd(a: &[f64], noise: f64, fs: f64, df: f64, n_bins: usize) -> Psd {
    let density = (0..n_bins)
        .map(|bin| {
            let w = 2.0 * PI * bin as f64 * df / fs;
            let (mut re, mut im) = (0.0, 0.0);
            for (k, &ak) in a.iter().enumerate() {
                let (s, c) = (w * k as f64).sin_cos();
                re += ak * c;
                im -= ak * s;
            }
            let one_sided = if bin == 0 { 1.0 } else { 2.0 };
            one_sided * noise / fs / (re * re + im * im)
        })
        .collect();
    Psd { df, density }
}
