//! Kubios's definitions, each pinned on a hand-worked value, with the published source named.
//!
//! Sources: Kubios HRV user's guide ver. 3.0.2 (Tarvainen et al. 2017) for mean HR, min/max HR and
//! the stress index; Tarvainen et al. (2014, Comput Methods Programs Biomed 113:210–220) for ApEn, the
//! AR spectrum and relative/log powers; Pincus (1991, PNAS 88:2297) for ApEn itself; Burg (1975) and
//! Marple (1987, ch. 8) for the AR estimator; Nunan et al. (2010, PACE 33:1407) for the normal values
//! behind the PNS and SNS indices. The reference pipeline stays what `reference.rs` checks.

use auren_hrv::Absent;
use auren_hrv::autonomic::{
    self, AnsMarkers, MEAN_HR_BPM, MEAN_RR_MS, Provenance, RMSSD_MS, SD1_PCT, SD2_PCT, SDNN_MS,
    STRESS_INDEX_SQRT,
};
use auren_hrv::frequency::ar::{ar_psd, burg};
use auren_hrv::frequency::welch::{welch, welch_padded, welch_with};
use auren_hrv::frequency::{self, Band, Psd, SpectrumMethod};
use auren_hrv::geometric::{stress_index, stress_index_kubios};
use auren_hrv::nonlinear::apen::{approximate_entropy, approximate_entropy_with_tolerance};
use auren_hrv::nonlinear::dfa::{Scales, dfa_alpha};
use auren_hrv::nonlinear::sampen::{template_match_counts, template_match_counts_in_chunks};
use auren_hrv::nonlinear::sd2_of_pair_sums;
use auren_hrv::panel::{COSTLY_KEYS, KEYS, PanelOptions, analyze, analyze_with};
use auren_hrv::settings::{
    BandIntegration, CostlyMetrics, Detrend, HrExtremes, MeanHr, Preset, SettingValue, Settings,
    SpectrumGrid, StressIndex, WelchMean,
};
use auren_hrv::time_domain::{hr_extremes_moving_average, mean_hr_from_mean_rr};
use proptest::prelude::*;

use crate::reference::load_rr;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

/// A deterministic pseudo-random series in [−0.5, 0.5) (xorshift).
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

#[test]
fn mean_hr_is_60000_over_mean_rr() {
    // Kubios user's guide, time-domain table: mean HR from mean RR. For 1000 and 500 ms the mean RR
    // is 750 ms, so 80 bpm; the reference pipeline averages 60 and 120 bpm to 90.
    assert_eq!(mean_hr_from_mean_rr(&[1000.0, 500.0]), Ok(80.0));
    let reference = analyze(&[1000.0, 500.0], &PanelOptions::default());
    assert_eq!(reference.time.mean_hr_bpm, Ok(90.0));
    let kubios = analyze_with(&[1000.0, 500.0], &Settings::kubios());
    assert_eq!(kubios.time.mean_hr_bpm, Ok(80.0));
}

#[test]
fn min_and_max_hr_come_from_an_n_beat_moving_average() {
    // Kubios user's guide: min/max HR from an N-beat moving average (5 by default). HR per beat
    // 60, 60, 120, 120, 60, 60 bpm.
    let rr = [1000.0, 1000.0, 500.0, 500.0, 1000.0, 1000.0];
    let cases: [(usize, (f64, f64)); 4] = [
        (1, (60.0, 120.0)),
        (2, (60.0, 120.0)), // averages 60, 90, 120, 90, 60
        (3, (80.0, 100.0)), // averages 80, 100, 100, 80
        (5, (84.0, 84.0)),  // averages 84, 84
    ];
    for (beats, (lo, hi)) in cases {
        let (min, max) = hr_extremes_moving_average(&rr, beats);
        assert!(close(min.clone().unwrap(), lo, 1e-12), "{beats}: min {min:?}");
        assert!(close(max.clone().unwrap(), hi, 1e-12), "{beats}: max {max:?}");
    }
    assert_eq!(
        hr_extremes_moving_average(&rr, 7).0,
        Err(Absent::TooFewBeats { needed: 7, got: 6 })
    );
    assert!(hr_extremes_moving_average(&rr, 0).0.is_err());
}

/// 30 beats of 800 ms, 10 of 900 and 10 of 1000: 50 beats, the geometric minimum.
fn stepped() -> Vec<f64> {
    [(800.0, 30), (900.0, 10), (1000.0, 10)]
        .into_iter()
        .flat_map(|(v, n)| std::iter::repeat_n(v, n))
        .collect()
}

#[test]
fn kubios_stress_index_is_the_square_root_with_the_median_as_mode() {
    // AMo = 30/50 = 60 % (the 800–850 ms bin), MxDMn = 0.2 s.
    // Kubios (user's guide, "Stress index"): Mo = median RR = 0.8 s, √(60 / (2·0.8·0.2)) = √187.5.
    let kubios = stress_index_kubios(&stepped()).unwrap();
    assert!(close(kubios, 187.5_f64.sqrt(), 1e-12), "{kubios}");
    // Baevsky (reference): Mo = the modal bin's centre 0.825 s, 60 / (2·0.825·0.2) = 181.81…
    let baevsky = stress_index(&stepped()).unwrap();
    assert!(close(baevsky, 60.0 / (2.0 * 0.825 * 0.2), 1e-12), "{baevsky}");
    let panel = analyze_with(&stepped(), &Settings::kubios());
    assert_eq!(panel.geometric.stress_index, Ok(kubios));
    // An even count takes the mean of the two middle beats (MATLAB's median): 25 × 800, 25 × 1000.
    let halves: Vec<f64> = [800.0; 25].into_iter().chain([1000.0; 25]).collect();
    let v = stress_index_kubios(&halves).unwrap();
    assert!(close(v, (50.0 / (2.0 * 0.9 * 0.2_f64)).sqrt(), 1e-12), "{v}");
}

#[test]
fn kubios_sd2_is_the_sd_of_the_pair_sums() {
    // 800, 1000, 900, 1100: the pair sums 1800, 1900, 2000 have SD 100, so SD2 = 100/√2. The
    // reference formula √(2·SDNN² − ½·SDSD²) = √(2·16 666.7 − ½·30 000) gives 135.4 on the same
    // beats; SD1 = √(½·30 000) either way. Source: five Kubios 3.1 reports (`kubios_report.rs`).
    let rr = [800.0, 1000.0, 900.0, 1100.0];
    let want = 100.0 / 2f64.sqrt();
    assert!(close(sd2_of_pair_sums(&rr).unwrap(), want, 1e-12));
    let kubios = analyze_with(&rr, &Settings::kubios());
    let reference = analyze(&rr, &PanelOptions::default());
    assert!(close(kubios.nonlinear.sd2_ms.clone().unwrap(), want, 1e-12));
    let sd1 = 15_000f64.sqrt();
    assert!(close(kubios.nonlinear.sd1_ms.clone().unwrap(), sd1, 1e-12));
    assert!(close(
        kubios.nonlinear.sd2_sd1.clone().unwrap(),
        want / sd1,
        1e-12
    ));
    let reference_sd2 = (2.0 * 50_000.0 / 3.0 - 15_000.0_f64).sqrt();
    assert!(close(
        reference.nonlinear.sd2_ms.clone().unwrap(),
        reference_sd2,
        1e-12
    ));
    assert_eq!(
        sd2_of_pair_sums(&rr[..2]),
        Err(Absent::TooFewBeats { needed: 3, got: 2 })
    );
}

#[test]
fn kubios_band_power_is_the_trapezoid_over_the_closed_band() {
    // Bins 0, 0.1, 0.2, 0.3, 0.4 Hz with density 1…5: the band 0.1–0.3 Hz is, by the trapezoid
    // over 0.1, 0.2 and 0.3 Hz, 0.1·((2 + 3)/2 + (3 + 4)/2) = 0.6; by the reference's bin sum over
    // 0.1 ≤ f < 0.3, 0.1·(2 + 3) = 0.5. The peak is the same either way.
    let psd = Psd {
        df: 0.1,
        density: vec![1.0, 2.0, 3.0, 4.0, 5.0],
    };
    let band = Band {
        lo: 0.1,
        hi: 0.3,
        min_span_s: 0,
    };
    let (trapezoid, peak) = psd.band_with(band, BandIntegration::Trapezoid).unwrap();
    assert!(close(trapezoid, 0.6, 1e-12), "{trapezoid}");
    let (sum, sum_peak) = psd.band_with(band, BandIntegration::BinSum).unwrap();
    assert!(close(sum, 0.5, 1e-12), "{sum}");
    assert_eq!(peak, sum_peak);
}

#[test]
fn kubios_welch_removes_the_series_mean_once() {
    // 1,1,1,1,3,3,3,3 in segments of 4 with 50 % overlap: [1,1,1,1], [1,1,3,3], [3,3,3,3]. The
    // periodic Hann window is 0, ½, 1, ½ (Σw² = 1.5). Without each segment's mean only the middle
    // one keeps a DC term, Σ(x − 2)·w = 1, so the 0 Hz density is (1/1.5)/3 = 2/9. Without the
    // series' mean (2) the three give −2, 1 and 2: (4 + 1 + 4)/1.5/3 = 2.
    let x = [1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0];
    let per_segment = welch_with(&x, 1.0, 4, 4, WelchMean::PerSegment).unwrap();
    let whole = welch_with(&x, 1.0, 4, 4, WelchMean::WholeSeries).unwrap();
    assert!(
        close(per_segment.density[0], 2.0 / 9.0, 1e-12),
        "{:?}",
        per_segment.density
    );
    assert!(close(whole.density[0], 2.0, 1e-12), "{:?}", whole.density);
    assert_eq!(per_segment, welch(&x, 1.0, 4).unwrap());
}

#[test]
fn dfa_ranges_are_the_settings_ranges() {
    // The Kubios 3.1 report used 4–12 and 13–64 beats.
    let rr = load_rr("nsr_5min.rr");
    let panel = analyze_with(&rr, &Settings::kubios());
    assert_eq!(
        panel.nonlinear.dfa_alpha1,
        dfa_alpha(&rr, Scales::box_sizes(4, 12))
    );
    assert_eq!(
        panel.nonlinear.dfa_alpha2,
        dfa_alpha(&rr, Scales::box_sizes(13, 64))
    );
    let reference = analyze(&rr, &PanelOptions::default());
    assert_ne!(panel.nonlinear.dfa_alpha1, reference.nonlinear.dfa_alpha1);
    assert_eq!(Scales::box_sizes(13, 64).min_beats, 256);
}

#[test]
fn relative_and_log_powers_follow_from_the_band_powers() {
    // Tarvainen et al. 2014: relative power = band / (VLF + LF + HF) · 100 %, log power = ln(ms²).
    // nsr_5min.rr's reference powers (expected.json): VLF 147.98, LF 1559.62, HF 5472.62 ms².
    let f = analyze(&load_rr("nsr_5min.rr"), &PanelOptions::default()).frequency;
    let (vlf, lf, hf): (f64, f64, f64) = (147.98490900380898, 1559.6163186935305, 5472.618873548272);
    let total = vlf + lf + hf;
    for (got, want) in [
        (&f.vlf_rel, 100.0 * vlf / total),
        (&f.lf_rel, 100.0 * lf / total),
        (&f.hf_rel, 100.0 * hf / total),
        (&f.vlf_log, vlf.ln()),
        (&f.lf_log, lf.ln()),
        (&f.hf_log, hf.ln()),
    ] {
        let got = got.clone().unwrap();
        assert!(close(got, want, 5e-3), "{got} vs {want}");
    }
    let shares = f.vlf_rel.unwrap() + f.lf_rel.unwrap() + f.hf_rel.unwrap();
    assert!(close(shares, 100.0, 1e-12), "{shares}");
}

#[test]
fn zero_padding_keeps_the_power_and_refines_the_grid() {
    // 300 points/Hz at 4 Hz is a 1200-point FFT: df = 1/300 Hz; Parseval keeps the total power.
    let x: Vec<f64> = noise(7, 2000).iter().map(|v| 40.0 * v).collect();
    let plain = welch(&x, 4.0, 1024).unwrap();
    let padded = welch_padded(&x, 4.0, 1024, 1200).unwrap();
    assert!(close(padded.df, 1.0 / 300.0, 1e-15), "{}", padded.df);
    let power = |p: &frequency::Psd| p.density.iter().sum::<f64>() * p.df;
    assert!(
        close(power(&plain), power(&padded), 1e-2),
        "{} vs {}",
        power(&plain),
        power(&padded)
    );
    // The Kubios preset's 300 s window at 4 Hz is itself 1200 samples: peaks sit on the 1/300 Hz grid.
    let panel = analyze_with(&load_rr("nsr_5min.rr"), &Settings::kubios());
    for peak in [
        panel.frequency.lf_peak_hz.unwrap(),
        panel.frequency.hf_peak_hz.unwrap(),
    ] {
        let k = peak * 300.0;
        assert!(
            (k - k.round()).abs() < 1e-9,
            "{peak} Hz is not on the 1/300 Hz grid"
        );
    }
}

#[test]
fn burg_order_one_by_hand() {
    // x = 2, 0, 1, 1 (mean 1): f = b = 1, −1, 0, 0. Σ f[k]·b[k−1] (k = 1..3) = −1,
    // Σ f[k]² + b[k−1]² = 2 + 1 + 0 = 3, so k₁ = −2·(−1)/3 = 2/3 = a₁; E = ½·(1 − 4/9) = 5/18.
    let (a, e) = burg(&[2.0, 0.0, 1.0, 1.0], 1).unwrap();
    assert!(close(a[1], 2.0 / 3.0, 1e-12), "{a:?}");
    assert!(close(e, 5.0 / 18.0, 1e-12), "{e}");
    assert_eq!(
        burg(&[1.0, 2.0], 1),
        Err(Absent::TooFewBeats { needed: 3, got: 2 })
    );
    // A perfectly predictable series has no driving noise.
    assert_eq!(
        burg(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0], 1),
        Err(Absent::ZeroVariance)
    );
}

#[test]
fn burg_recovers_an_ar_process_and_its_spectrum_integrates_to_the_variance() {
    // x[n] = 0.9·x[n−1] + e[n]: Burg's a₁ ≈ −0.9, and the model PSD's integral over 0..fs/2 equals
    // the model variance σ²/(1 − 0.9²) ≈ the sample variance.
    let e = noise(3, 20_000);
    let mut x = Vec::with_capacity(e.len());
    let mut prev = 0.0;
    for v in e {
        prev = 0.9 * prev + v;
        x.push(prev);
    }
    let (a, noise_var) = burg(&x, 1).unwrap();
    assert!((a[1] + 0.9).abs() < 0.01, "{a:?}");
    let fs = 4.0;
    let psd = ar_psd(&a, noise_var, fs, 1.0 / 300.0, 601);
    let integral: f64 = psd.density.iter().sum::<f64>() * psd.df;
    let model_var = noise_var / (1.0 - a[1] * a[1]);
    assert!(close(integral, model_var, 0.02), "{integral} vs {model_var}");
}

#[test]
fn ar_spectrum_finds_a_breathing_peak() {
    // A 0.25 Hz oscillation of ±40 ms on 900 ms beats plus 5 ms of noise: the AR(16) HF peak sits
    // at 0.25 Hz to the grid, and HF dominates.
    let jitter = noise(11, 400);
    let mut t = 0.0;
    let rr: Vec<f64> = jitter
        .iter()
        .map(|j| {
            let v = 900.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.25 * t).sin() + 10.0 * j;
            t += v / 1000.0;
            v
        })
        .collect();
    let panel = analyze_with(&rr, &Settings::kubios());
    let ar = &panel.costly.as_ref().expect("the Kubios preset computes AR").ar;
    let peak = ar.hf_peak_hz.clone().unwrap();
    assert!((peak - 0.25).abs() <= 2.0 / 300.0, "AR HF peak {peak}");
    assert!(ar.hf_nu.clone().unwrap() > 80.0, "{:?}", ar.hf_nu);
}

/// ApEn by its definition: every template pair compared.
fn naive_apen(x: &[f64], r: f64) -> f64 {
    let phi = |m: usize| -> f64 {
        let n = x.len() - m + 1;
        (0..n)
            .map(|i| {
                let c = (0..n)
                    .filter(|&j| (0..m).all(|k| (x[i + k] - x[j + k]).abs() <= r))
                    .count();
                (c as f64 / n as f64).ln()
            })
            .sum::<f64>()
            / n as f64
    };
    phi(2) - phi(3)
}

#[test]
fn apen_by_hand() {
    // x = 1, 2, 1, 2, 1 with r = 0.5 (Pincus 1991). Length 2: four templates, each matching itself
    // and one twin, Φ² = ln ½. Length 3: (1,2,1) ×2 match each other (2/3), (2,1,2) only itself
    // (1/3), Φ³ = (2·ln ⅔ + ln ⅓)/3. ApEn = Φ² − Φ³.
    let want = 0.5_f64.ln() - (2.0 * (2.0_f64 / 3.0).ln() + (1.0_f64 / 3.0).ln()) / 3.0;
    let got = approximate_entropy_with_tolerance(&[1.0, 2.0, 1.0, 2.0, 1.0], 0.5).unwrap();
    assert!(close(got, want, 1e-12), "{got} vs {want}");
    assert_eq!(approximate_entropy(&[800.0; 10]), Err(Absent::ZeroVariance));
    assert_eq!(
        approximate_entropy(&[800.0, 810.0, 820.0]),
        Err(Absent::TooFewBeats { needed: 4, got: 3 })
    );
}

#[test]
fn apen_of_the_hour_recording_matches_the_definition() {
    let rr = load_rr("nsr_60min.rr");
    let r = 0.2 * auren_hrv::time_domain::sdnn(&rr).unwrap();
    let got = approximate_entropy_with_tolerance(&rr, r).unwrap();
    let want = naive_apen(&rr, r);
    assert!(close(got, want, 1e-12), "{got} vs {want}");
}

/// Per-template match counts by definition: (length m over N − m + 1 templates, m + 1 over N − m).
fn naive_template_counts(x: &[f64], r: f64) -> (Vec<i64>, Vec<i64>) {
    let counts = |m: usize, n: usize| -> Vec<i64> {
        (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| (0..m).all(|k| (x[i + k] - x[j + k]).abs() <= r))
                    .count() as i64
            })
            .collect()
    };
    (counts(2, x.len() - 1), counts(3, x.len() - 2))
}

proptest! {
    #[test]
    fn range_counting_per_template_equals_the_pair_scan(
        rr in prop::collection::vec(600.0f64..1100.0, 4..400),
        quantum in prop::sample::select(vec![0.0, 1.0, 8.0, 25.0]),
        r in 1.0f64..80.0,
    ) {
        let x: Vec<f64> = rr.iter().map(|v| if quantum > 0.0 { (v / quantum).round() * quantum } else { *v }).collect();
        prop_assert_eq!(template_match_counts(&x, r), naive_template_counts(&x, r));
    }

    #[test]
    fn per_template_counts_do_not_depend_on_the_chunk_size(
        rr in prop::collection::vec(600.0f64..1100.0, 4..150),
        quantum in prop::sample::select(vec![0.0, 1.0, 8.0, 25.0]),
        r in 1.0f64..80.0,
        chunk in 1usize..40,
    ) {
        let x: Vec<f64> = rr.iter().map(|v| if quantum > 0.0 { (v / quantum).round() * quantum } else { *v }).collect();
        prop_assert_eq!(template_match_counts_in_chunks(&x, r, chunk), naive_template_counts(&x, r));
    }

    #[test]
    fn apen_counts_equal_the_pair_scan(
        rr in prop::collection::vec(600.0f64..1100.0, 4..200),
        quantum in prop::sample::select(vec![0.0, 1.0, 8.0, 25.0]),
        r in 1.0f64..80.0,
    ) {
        // Quantised values put many pairs exactly r apart, where the run search must not differ
        // from the |a − b| ≤ r test.
        let x: Vec<f64> = rr.iter().map(|v| if quantum > 0.0 { (v / quantum).round() * quantum } else { *v }).collect();
        prop_assume!(x.iter().any(|&v| v != x[0]));
        let got = approximate_entropy_with_tolerance(&x, r).unwrap();
        let want = naive_apen(&x, r);
        prop_assert!(close(got, want, 1e-12), "{} vs {}", got, want);
    }
}

#[test]
fn normal_values_are_nunans_or_derived_from_them() {
    // Nunan et al. 2010: mean RR 926 ± 90, SDNN 50 ± 16, RMSSD 42 ± 15 ms.
    for (n, mean, sd) in [
        (MEAN_RR_MS, 926.0, 90.0),
        (SDNN_MS, 50.0, 16.0),
        (RMSSD_MS, 42.0, 15.0),
    ] {
        assert_eq!((n.mean, n.sd, n.provenance), (mean, sd, Provenance::Published));
    }
    let sd1 = 42.0 / 2.0_f64.sqrt();
    assert!(close(SD1_PCT.mean, 100.0 * sd1 / 926.0, 1e-12));
    assert!(close(SD1_PCT.sd, 100.0 * (15.0 / 2.0_f64.sqrt()) / 926.0, 1e-12));
    let sd2 = (2.0 * 50.0_f64.powi(2) - 0.5 * 42.0_f64.powi(2)).sqrt();
    assert!(close(SD2_PCT.mean, 100.0 * sd2 / 926.0, 1e-12));
    let sd2_sd = ((2.0 * 50.0 / sd2 * 16.0).powi(2) + (0.5 * 42.0 / sd2 * 15.0).powi(2)).sqrt();
    assert!(close(SD2_PCT.sd, 100.0 * sd2_sd / 926.0, 1e-12));
    assert!(close(MEAN_HR_BPM.mean, 60000.0 / 926.0, 1e-12));
    assert!(close(MEAN_HR_BPM.sd, 60000.0 * 90.0 / (926.0 * 926.0), 1e-12));
    for n in [SD1_PCT, SD2_PCT, MEAN_HR_BPM, STRESS_INDEX_SQRT] {
        assert_eq!(n.provenance, Provenance::Derived, "{}", n.source);
        assert!(n.source.starts_with("derived"), "{}", n.source);
    }
}

fn markers(mean_rr: f64, rmssd: f64, sd1: f64, sd2: f64, si: f64) -> AnsMarkers {
    AnsMarkers {
        mean_rr_ms: Ok(mean_rr),
        rmssd_ms: Ok(rmssd),
        sd1_ms: Ok(sd1),
        sd2_ms: Ok(sd2),
        stress_index_sqrt: Ok(si),
    }
}

#[test]
fn pns_and_sns_are_equal_weight_means_of_z_scores() {
    // At the normal means both indices are 0.
    let sd1 = 42.0 / 2.0_f64.sqrt();
    let sd2 = (2.0 * 2500.0 - 0.5 * 1764.0_f64).sqrt();
    let at_normal = autonomic::ans_indices(&markers(926.0, 42.0, sd1, sd2, STRESS_INDEX_SQRT.mean));
    assert!(at_normal.pns_index.unwrap().abs() < 1e-12);
    assert!(at_normal.sns_index.unwrap().abs() < 1e-12);

    // Mean RR one SD up (1016 ms), everything else at its normal value:
    // PNS = (1 + 0 + z(SD1 % = 100·29.698/1016)) / 3; SNS = (z(HR = 60000/1016) + 0 − z(SD2 %)) / 3.
    let got = autonomic::ans_indices(&markers(1016.0, 42.0, sd1, sd2, STRESS_INDEX_SQRT.mean));
    let z_sd1 = (100.0 * sd1 / 1016.0 - SD1_PCT.mean) / SD1_PCT.sd;
    let z_hr = (60000.0 / 1016.0 - MEAN_HR_BPM.mean) / MEAN_HR_BPM.sd;
    let z_sd2 = (100.0 * sd2 / 1016.0 - SD2_PCT.mean) / SD2_PCT.sd;
    assert!(close(got.pns_index.unwrap(), (1.0 + z_sd1) / 3.0, 1e-12));
    assert!(close(got.sns_index.unwrap(), (z_hr - z_sd2) / 3.0, 1e-12));

    // An absent marker makes its index absent with the marker's reason, and only that index.
    let mut partial = markers(926.0, 42.0, sd1, sd2, 8.0);
    partial.stress_index_sqrt = Err(Absent::TooFewBeats { needed: 50, got: 10 });
    let got = autonomic::ans_indices(&partial);
    assert!(got.pns_index.is_ok());
    assert_eq!(got.sns_index, Err(Absent::TooFewBeats { needed: 50, got: 10 }));
}

#[test]
fn the_reference_settings_are_the_reference_panel() {
    for file in ["nsr_5min.rr", "nsr_60min.rr"] {
        let rr = load_rr(file);
        for spectrum in [SpectrumMethod::Welch, SpectrumMethod::LombScargle] {
            let mut settings = Settings::reference();
            settings.spectral.method = spectrum;
            assert_eq!(
                analyze_with(&rr, &settings),
                analyze(&rr, &PanelOptions { spectrum }),
                "{file}"
            );
        }
    }
}

#[test]
fn the_kubios_preset_changes_only_what_kubios_defines_differently() {
    let rr = load_rr("nsr_5min.rr");
    let reference = analyze(&rr, &PanelOptions::default());
    let kubios = analyze_with(&rr, &Settings::kubios());
    for key in [
        "mean_nn_ms",
        "sdnn_ms",
        "rmssd_ms",
        "pnn50_pct",
        "sd1_ms",
        "tri_index",
        "sampen",
    ] {
        assert_eq!(reference.get(key), kubios.get(key), "{key}");
    }
    for key in [
        "mean_hr_bpm",
        "min_hr_bpm",
        "max_hr_bpm",
        "stress_index",
        "dfa_alpha1",
        "lf_ms2",
        "sd2_ms",
        "sd2_sd1",
    ] {
        assert_ne!(reference.get(key), kubios.get(key), "{key}");
    }
    let mean_hr = kubios.get("mean_hr_bpm").unwrap().clone().unwrap();
    assert!(close(mean_hr, 60000.0 / 888.9554896142433, 1e-12), "{mean_hr}");
    let keys: Vec<&str> = kubios.entries().map(|(k, _)| k).collect();
    assert_eq!(keys, [KEYS.as_slice(), COSTLY_KEYS.as_slice()].concat());
    for (key, metric) in kubios.entries() {
        assert!(metric.as_ref().is_ok_and(|v| v.is_finite()), "{key}: {metric:?}");
    }
}

#[test]
fn every_setting_is_described_and_overrides_show() {
    let mut settings = Settings::kubios();
    settings.spectral.detrend = Detrend::None;
    settings.spectral.window_s = 120.0;
    settings.hr_extremes = HrExtremes::MovingAverage { beats: 3 };
    let described = settings.describe();
    let get = |key: &str| {
        described
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("{key} described"))
            .value
            .clone()
    };
    assert_eq!(get("preset"), SettingValue::Name("kubios"));
    assert_eq!(get("detrend"), SettingValue::Name("none"));
    assert_eq!(get("window_s"), SettingValue::Number(120.0));
    assert_eq!(get("minmax_hr_beats"), SettingValue::Count(3));
    assert_eq!(get("points_per_hz"), SettingValue::Number(300.0));
    assert_eq!(get("dfa_alpha1_beats"), SettingValue::Range(4, 12));
    assert_eq!(get("ar_order"), SettingValue::Count(16));
    assert_eq!(get("pns_sns_weights"), SettingValue::Name("equal"));
    assert_eq!(get("vlf_band_hz").to_string(), "0-0.04");

    let reference = Settings::reference();
    assert_eq!(reference.preset, Preset::Reference);
    assert_eq!(reference.mean_hr, MeanHr::BeatAverage);
    assert_eq!(reference.stress_index, StressIndex::Baevsky);
    assert_eq!(reference.costly, CostlyMetrics::Skip);
    assert_eq!(reference.spectral.grid, SpectrumGrid::SegmentBins);
    let keys: Vec<&str> = reference.describe().iter().map(|s| s.key).collect();
    assert!(keys.contains(&"detrend_lambda") && !keys.contains(&"no_such_setting"));
}
