//! Property and table tests of the metric math: invariances, scaling laws, exact SampEn counting,
//! the spline, the detrend, Welch's power balance and Lomb–Scargle's scale.

use auren_hrv::frequency::detrend::smoothness_priors;
use auren_hrv::frequency::spline::CubicSpline;
use auren_hrv::frequency::welch::welch;
use auren_hrv::frequency::{self, HF, LF, SpectrumMethod};
use auren_hrv::nonlinear::sampen::{match_counts, match_counts_in_chunks};
use auren_hrv::nonlinear::{dfa_alpha1, sample_entropy};
use auren_hrv::panel::{PanelOptions, analyze};
use auren_hrv::time_domain::{rmssd, sdnn, time_domain};
use proptest::prelude::*;

use crate::reference::load_rr;

/// The reference's pair scan: O(N²), exact by definition.
fn naive_counts(x: &[f64], r: f64) -> (u64, u64) {
    let m = 2;
    let t = x.len() - m;
    let (mut a, mut b) = (0, 0);
    for i in 0..t {
        for j in i + 1..t {
            let d0 = (x[j] - x[i]).abs() <= r;
            let d1 = (x[j + 1] - x[i + 1]).abs() <= r;
            if d0 && d1 {
                b += 1;
                if (x[j + 2] - x[i + 2]).abs() <= r {
                    a += 1;
                }
            }
        }
    }
    (a, b)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// A deterministic pseudo-random series (xorshift), so long inputs need not come from proptest.
fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

fn rr_series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(300.0f64..2000.0, 0..400)
}

proptest! {
    #[test]
    fn rmssd_and_sdnn_ignore_a_constant_shift(rr in prop::collection::vec(400.0f64..1500.0, 3..200), shift in -300.0f64..300.0) {
        let shifted: Vec<f64> = rr.iter().map(|v| v + shift).collect();
        let (a, b) = (rmssd(&rr).unwrap(), rmssd(&shifted).unwrap());
        prop_assert!((a - b).abs() <= 1e-9 * a.max(1.0), "{a} vs {b}");
        let (a, b) = (sdnn(&rr).unwrap(), sdnn(&shifted).unwrap());
        prop_assert!((a - b).abs() <= 1e-9 * a.max(1.0), "{a} vs {b}");
    }

    #[test]
    fn spreads_scale_linearly(rr in prop::collection::vec(400.0f64..1500.0, 3..200), k in 0.1f64..10.0) {
        let scaled: Vec<f64> = rr.iter().map(|v| v * k).collect();
        let (td, ts) = (time_domain(&rr), time_domain(&scaled));
        for (a, b) in [(&td.sdnn_ms, &ts.sdnn_ms), (&td.rmssd_ms, &ts.rmssd_ms), (&td.sdsd_ms, &ts.sdsd_ms)] {
            let (a, b) = (a.clone().unwrap(), b.clone().unwrap());
            prop_assert!(close(a * k, b, 1e-9), "{a}·{k} vs {b}");
        }
        prop_assert!(close(td.cvnn.clone().unwrap(), ts.cvnn.clone().unwrap(), 1e-9));
    }

    #[test]
    fn the_panel_never_yields_nan_for_positive_input(rr in rr_series()) {
        let panel = analyze(&rr, &PanelOptions::default());
        prop_assert_eq!(panel.n_beats, rr.len());
        for (key, metric) in panel.entries() {
            if let Ok(v) = metric {
                prop_assert!(v.is_finite(), "{key} = {v}");
            }
        }
    }

    #[test]
    fn the_panel_survives_any_magnitude(rr in prop::collection::vec(prop::num::f64::POSITIVE, 0..300)) {
        // Subnormal to 1e308: each metric absent or finite, never NaN, never a panic.
        for spectrum in [SpectrumMethod::Welch, SpectrumMethod::LombScargle] {
            let panel = analyze(&rr, &PanelOptions { spectrum });
            for (key, metric) in panel.entries() {
                if let Ok(v) = metric {
                    prop_assert!(v.is_finite(), "{key} = {v}");
                }
            }
        }
    }

    #[test]
    fn sampen_counts_equal_the_pair_scan(
        rr in prop::collection::vec(600.0f64..1100.0, 4..260),
        quantum in prop::sample::select(vec![0.0, 1.0, 8.0, 25.0]),
        r in 1.0f64..80.0,
    ) {
        // Quantised values make ties and exact-distance boundaries common, where an off-by-one in
        // the runs would show.
        let x: Vec<f64> = rr.iter().map(|v| if quantum > 0.0 { (v / quantum).round() * quantum } else { *v }).collect();
        let r = if quantum > 0.0 { (r / quantum).round().max(1.0) * quantum } else { r };
        prop_assert_eq!(match_counts(&x, r), naive_counts(&x, r));
    }

    #[test]
    fn sampen_counts_do_not_depend_on_the_chunk_size(
        rr in prop::collection::vec(600.0f64..1100.0, 4..200),
        quantum in prop::sample::select(vec![0.0, 1.0, 8.0, 25.0]),
        r in 1.0f64..80.0,
        chunk in 1usize..50,
    ) {
        // Tiny chunks put chunk boundaries inside runs of window changes and between a query and
        // the changes before it: the window carried into a chunk must count exactly.
        let x: Vec<f64> = rr.iter().map(|v| if quantum > 0.0 { (v / quantum).round() * quantum } else { *v }).collect();
        prop_assert_eq!(match_counts_in_chunks(&x, r, chunk), naive_counts(&x, r));
    }

    #[test]
    fn sampen_is_finite_or_absent_and_unchanged_by_exact_scaling(rr in prop::collection::vec(500.0f64..1200.0, 0..300)) {
        let s = sample_entropy(&rr);
        if let Ok(v) = s.clone() {
            prop_assert!(v.is_finite() && v >= 0.0, "{v}");
        }
        // Doubling is exact in binary floating point, so every comparison, and the count, is unchanged.
        let doubled: Vec<f64> = rr.iter().map(|v| v * 2.0).collect();
        prop_assert_eq!(s, sample_entropy(&doubled));
    }

    #[test]
    fn spline_passes_through_its_knots(gaps in prop::collection::vec(0.3f64..2.0, 1..60), seed in any::<u64>()) {
        let mut x = vec![0.0];
        for g in &gaps { x.push(x[x.len() - 1] + g); }
        let y: Vec<f64> = noise(seed, x.len()).iter().map(|v| 800.0 + 200.0 * v).collect();
        let s = CubicSpline::not_a_knot(&x, &y).unwrap();
        for (xi, yi) in x.iter().zip(&y) {
            prop_assert!((s.eval(*xi) - yi).abs() <= 1e-9 * yi.abs(), "at {xi}: {} vs {yi}", s.eval(*xi));
        }
        prop_assert_eq!(s.eval_sorted(&x).len(), x.len());
    }

    #[test]
    fn spline_reproduces_a_cubic(gaps in prop::collection::vec(0.3f64..2.0, 3..40), c in prop::array::uniform4(-2.0f64..2.0)) {
        // Not-a-knot is exact for cubics: the spline through samples of one is that cubic.
        let mut x = vec![0.0];
        for g in &gaps { x.push(x[x.len() - 1] + g); }
        let f = |t: f64| ((c[0] * t + c[1]) * t + c[2]) * t + c[3];
        let y: Vec<f64> = x.iter().map(|&t| f(t)).collect();
        let s = CubicSpline::not_a_knot(&x, &y).unwrap();
        let last = x[x.len() - 1];
        for k in 0..50 {
            let t = last * k as f64 / 49.0;
            let scale = 1.0 + f(t).abs() + last.powi(3) * 2.0;
            prop_assert!((s.eval(t) - f(t)).abs() <= 1e-8 * scale, "at {t}: {} vs {}", s.eval(t), f(t));
        }
    }

    #[test]
    fn detrending_removes_a_linear_ramp(n in 3usize..2000, a in -100.0f64..100.0, b in -2.0f64..2.0) {
        let ramp: Vec<f64> = (0..n).map(|i| a + b * i as f64).collect();
        let scale = a.abs() + b.abs() * n as f64 + 1.0;
        for v in smoothness_priors(&ramp, 500.0) {
            prop_assert!(v.abs() <= 1e-6 * scale, "residual {v}");
        }
    }

    #[test]
    fn welch_power_of_white_noise_is_its_variance(seed in any::<u64>()) {
        let x = noise(seed, 8192);
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64;
        let psd = welch(&x, 4.0, 1024).unwrap();
        let total: f64 = psd.density.iter().sum::<f64>() * psd.df;
        prop_assert!(close(total, var, 0.1), "Σ PSD·df = {total}, variance {var}");
    }

    #[test]
    fn dfa_alpha1_of_white_noise_is_near_one_half(seed in any::<u64>()) {
        let rr: Vec<f64> = noise(seed, 4000).iter().map(|v| 900.0 + 100.0 * v).collect();
        let a = dfa_alpha1(&rr).unwrap();
        prop_assert!((0.35..0.65).contains(&a), "α1 = {a}");
    }
}

#[test]
fn lomb_scargle_puts_a_sinusoid_power_in_its_band() {
    // Uneven beats around 850 ms; RR modulated at 0.25 Hz with amplitude 40 ms → 800 ms² in HF.
    let jitter = noise(7, 700);
    let (mut t, mut rr) = (0.0, Vec::new());
    for j in &jitter {
        let v = 850.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.25 * t).sin() + 20.0 * j;
        t += v / 1000.0;
        rr.push(v);
    }
    for method in [SpectrumMethod::Welch, SpectrumMethod::LombScargle] {
        let s = frequency::spectral(&rr, method);
        let hf = s.hf_ms2.clone().unwrap();
        assert!((600.0..1000.0).contains(&hf), "{method:?}: HF {hf} ms²");
        assert_eq!(s.hf_peak_hz.clone().unwrap(), 0.25, "{method:?}");
        assert!(s.lf_ms2.clone().unwrap() < hf / 10.0, "{method:?}");
    }
}

#[test]
fn lomb_scargle_is_comparable_to_welch_on_the_reference() {
    for file in ["nsr_5min.rr", "nsr_60min.rr"] {
        let rr = load_rr(file);
        let w = frequency::spectral(&rr, SpectrumMethod::Welch);
        let l = frequency::spectral(&rr, SpectrumMethod::LombScargle);
        for (band, a, b) in [(LF, &w.lf_ms2, &l.lf_ms2), (HF, &w.hf_ms2, &l.hf_ms2)] {
            let (a, b) = (a.clone().unwrap(), b.clone().unwrap());
            assert!(
                (0.6..1.6).contains(&(b / a)),
                "{file} {band:?}: Welch {a}, Lomb–Scargle {b}"
            );
        }
    }
}

#[test]
fn fast_sampen_matches_the_pair_scan_on_the_hour_recording() {
    let rr = load_rr("nsr_60min.rr");
    let r = 0.2 * sdnn(&rr).unwrap();
    assert_eq!(match_counts(&rr, r), naive_counts(&rr, r));
    assert_eq!(match_counts_in_chunks(&rr, r, 500), naive_counts(&rr, r));
}

#[test]
fn a_day_long_recording_repeats_the_hour_panel_where_it_must() {
    let hour = load_rr("nsr_60min.rr");
    let day: Vec<f64> = (0..24).flat_map(|_| hour.iter().copied()).collect();
    let panel = analyze(&day, &PanelOptions::default());
    assert_eq!(panel.n_beats, 24 * hour.len());
    for (key, metric) in panel.entries() {
        assert!(metric.as_ref().is_ok_and(|v| v.is_finite()), "{key}: {metric:?}");
    }
    let hour_panel = analyze(&hour, &PanelOptions::default());
    // Repetition leaves the mean and the beat-to-beat metrics as they were.
    for key in ["mean_nn_ms", "pnn50_pct", "min_hr_bpm", "max_hr_bpm"] {
        let (a, b) = (
            hour_panel.get(key).unwrap().clone().unwrap(),
            panel.get(key).unwrap().clone().unwrap(),
        );
        assert!(close(a, b, 1e-3), "{key}: {a} vs {b}");
    }
}
