//! Lomb–Scargle periodogram of the unevenly sampled beat series, scaled to a PSD in ms²/Hz.
//!
//! The classic periodogram (Lomb 1976, Scargle 1982) with the time offset τ that makes the sine and
//! cosine terms orthogonal, `P(f) = ½[(Σ y·cos ω(t−τ))²/Σ cos² + (Σ y·sin ω(t−τ))²/Σ sin²]`, is in ms²
//! and, for even sampling, equals the boxcar periodogram `|X|²/N`. A one-sided density that integrates
//! to the variance therefore is `2·P(f)/fs_eff` with `fs_eff = N / duration` the mean beat rate: band
//! powers are in ms² and comparable in magnitude with Welch's (whose Hann window and averaging make
//! the two differ by a few tens of per cent on real data, never by orders of magnitude).

use std::f64::consts::PI;

use super::Psd;

/// The Lomb–Scargle PSD of samples `y` at times `t` (s) on the bins `k·df`, `k = 0..n_bins`.
///
/// `y` should already have its mean (and trend) removed; bin 0 (DC) is reported as 0. Phasors for
/// every bin come from one complex rotation per sample, so the cost is O(N · n_bins) with no
/// trigonometry inside the loop.
pub fn lomb_scargle(t: &[f64], y: &[f64], df: f64, n_bins: usize, fs_eff: f64) -> Psd {
    let n = t.len().min(y.len());
    let mut density = vec![0.0; n_bins];
    if n == 0 || n_bins == 0 {
        return Psd { df, density };
    }
    let t0 = t[0];
    // step_j = e^{i·2π·df·(t_j − t0)}; phase_j = step_j^k at bin k (shifting time leaves P unchanged).
    let step: Vec<(f64, f64)> = t[..n]
        .iter()
        .map(|&tj| {
            let a = 2.0 * PI * df * (tj - t0);
            (a.cos(), a.sin())
        })
        .collect();
    let mut phase = vec![(1.0, 0.0); n];
    for p in density.iter_mut().skip(1) {
        let (mut yc, mut ys, mut c2, mut s2) = (0.0, 0.0, 0.0, 0.0);
        for ((ph, st), &yj) in phase.iter_mut().zip(&step).zip(&y[..n]) {
            let (c, s) = (ph.0 * st.0 - ph.1 * st.1, ph.0 * st.1 + ph.1 * st.0);
            *ph = (c, s);
            yc += yj * c;
            ys += yj * s;
            c2 += c * c - s * s;
            s2 += 2.0 * c * s;
        }
        // 2ωτ = atan2(S2, C2); then Σcos²ω(t−τ) = (N + R)/2 and Σsin² = (N − R)/2 with R = |(C2, S2)|.
        let r = c2.hypot(s2);
        let half = 0.5 * s2.atan2(c2);
        let (cp, sp) = (half.cos(), half.sin());
        let yc_tau = cp * yc + sp * ys;
        let ys_tau = cp * ys - sp * yc;
        let (cc, ss) = (0.5 * (n as f64 + r), 0.5 * (n as f64 - r));
        let mut power = 0.0;
        if cc > f64::EPSILON * n as f64 {
            power += yc_tau * yc_tau / cc;
        }
        if ss > f64::EPSILON * n as f64 {
            power += ys_tau * ys_tau / ss;
        }
        *p = 2.0 * (0.5 * power) / fs_eff;
    }
    Psd { df, density }
}
