//! Time-domain HRV: NN statistics, successive differences, pNNx and beat-by-beat heart rate.
//!
//! Definitions follow `tests/data/reference/README.md` (numpy semantics: sample SD with ddof = 1,
//! RMSSD over the n − 1 differences, pNNx as a percentage of the differences with |d| > x ms).

use crate::metric::{Absent, Metric, check_rr, finite};

/// The time-domain metrics of one NN series; field names are the reference keys.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeDomain {
    pub duration_s: Metric,
    pub mean_nn_ms: Metric,
    pub sdnn_ms: Metric,
    pub cvnn: Metric,
    pub rmssd_ms: Metric,
    pub ln_rmssd: Metric,
    pub sdsd_ms: Metric,
    pub pnn50_pct: Metric,
    pub pnn20_pct: Metric,
    pub mean_hr_bpm: Metric,
    pub sd_hr_bpm: Metric,
    pub min_hr_bpm: Metric,
    pub max_hr_bpm: Metric,
}

impl TimeDomain {
    /// Every metric absent for the same reason (used for input that is not an RR series).
    pub fn absent(why: Absent) -> Self {
        let a = || Err(why.clone());
        TimeDomain {
            duration_s: a(),
            mean_nn_ms: a(),
            sdnn_ms: a(),
            cvnn: a(),
            rmssd_ms: a(),
            ln_rmssd: a(),
            sdsd_ms: a(),
            pnn50_pct: a(),
            pnn20_pct: a(),
            mean_hr_bpm: a(),
            sd_hr_bpm: a(),
            min_hr_bpm: a(),
            max_hr_bpm: a(),
        }
    }
}

/// All time-domain metrics of `rr` (NN intervals, ms) in two passes over the series.
///
/// Minimums: duration, mean NN and the HR extremes need 1 beat; SDNN, CVNN, RMSSD, pNNx and SD of HR
/// need 2; SDSD needs 3 (two differences for a sample SD). `ln_rmssd` is [`Absent::ZeroVariance`] when
/// all successive differences are zero. Input that is not positive and finite is refused with
/// [`Absent::InvalidRr`].
pub fn time_domain(rr: &[f64]) -> TimeDomain {
    match check_rr(rr) {
        Ok(()) => time_domain_checked(rr),
        Err(why) => TimeDomain::absent(why),
    }
}

/// Sample standard deviation (ddof = 1) of `rr`: SDNN, the quantity SampEn's tolerance and Poincaré SD2
/// are built on.
pub fn sdnn(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    need(rr.len(), 2)?;
    let mean = mean(rr);
    Ok(sample_sd(rr, mean))
}

/// Root mean square of successive differences (ms); needs 2 beats.
pub fn rmssd(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    need(rr.len(), 2)?;
    let sum_sq: f64 = rr.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).sum();
    finite((sum_sq / (rr.len() - 1) as f64).sqrt(), "RMSSD overflowed")
}

/// Mean HR as Kubios defines it: `60000 / mean RR` (Kubios HRV user's guide, time-domain table),
/// where the reference pipeline averages the beat-by-beat HR (which Jensen's inequality puts a little
/// higher, by about CV² of the RR series). Needs 1 beat.
pub fn mean_hr_from_mean_rr(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    need(rr.len(), 1)?;
    finite(60_000.0 / mean(rr), "mean HR overflowed")
}

/// Minimum and maximum of the `beats`-beat moving average of the beat-by-beat HR `60000 / RR_i`
/// (Kubios: "min/max HR" from a 5-beat average, user's guide, time-domain table). Only full windows
/// count; `beats = 1` gives the single-beat extremes. Needs `beats` beats.
pub fn hr_extremes_moving_average(rr: &[f64], beats: usize) -> (Metric, Metric) {
    match moving_extremes(rr, beats) {
        Ok((lo, hi)) => (finite(lo, "HR overflowed"), finite(hi, "HR overflowed")),
        Err(why) => (Err(why.clone()), Err(why)),
    }
}

fn moving_extremes(rr: &[f64], beats: usize) -> Result<(f64, f64), Absent> {
    check_rr(rr)?;
    if beats == 0 {
        return Err(Absent::Undefined("a moving average needs at least one beat"));
    }
    need(rr.len(), beats)?;
    let hr: Vec<f64> = rr.iter().map(|&v| 60_000.0 / v).collect();
    // Each window's sum is recomputed from its own beats: a running sum would carry rounding
    // across a day-long series, and windows are a handful of beats.
    let (lo, hi) = hr
        .windows(beats)
        .map(|w| w.iter().sum::<f64>() / beats as f64)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    Ok((lo, hi))
}

pub(crate) fn time_domain_checked(rr: &[f64]) -> TimeDomain {
    let n = rr.len();
    if n == 0 {
        return TimeDomain::absent(Absent::TooFewBeats { needed: 1, got: 0 });
    }
    let sum: f64 = rr.iter().sum();
    let mean_nn = sum / n as f64;

    let (mut hr_sum, mut hr_min, mut hr_max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for &v in rr {
        let hr = 60_000.0 / v;
        hr_sum += hr;
        hr_min = hr_min.min(hr);
        hr_max = hr_max.max(hr);
    }
    let mean_hr = hr_sum / n as f64;

    let n_diff = n - 1;
    let (mut d_sum, mut d_sq, mut nn50, mut nn20) = (0.0, 0.0, 0usize, 0usize);
    for w in rr.windows(2) {
        let d = w[1] - w[0];
        d_sum += d;
        d_sq += d * d;
        nn50 += usize::from(d.abs() > 50.0);
        nn20 += usize::from(d.abs() > 20.0);
    }

    let sdnn = need(n, 2).map(|()| sample_sd(rr, mean_nn));
    let sd_hr = need(n, 2).map(|()| {
        let ss: f64 = rr.iter().map(|&v| (60_000.0 / v - mean_hr).powi(2)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    let rmssd = need(n, 2).and_then(|()| finite((d_sq / n_diff as f64).sqrt(), "RMSSD overflowed"));
    let sdsd = need(n, 3).and_then(|()| {
        let d_mean = d_sum / n_diff as f64;
        let ss: f64 = rr.windows(2).map(|w| (w[1] - w[0] - d_mean).powi(2)).sum();
        finite((ss / (n_diff - 1) as f64).sqrt(), "SDSD overflowed")
    });
    let pct = |count: usize| need(n, 2).map(|()| 100.0 * count as f64 / n_diff as f64);

    TimeDomain {
        duration_s: finite(sum / 1000.0, "duration overflowed"),
        mean_nn_ms: finite(mean_nn, "mean NN overflowed"),
        sdnn_ms: sdnn.clone().and_then(|v| finite(v, "SDNN overflowed")),
        cvnn: sdnn.and_then(|sd| finite(sd / mean_nn, "CVNN overflowed")),
        ln_rmssd: rmssd.clone().and_then(|v| {
            if v > 0.0 {
                finite(v.ln(), "ln RMSSD overflowed")
            } else {
                Err(Absent::ZeroVariance)
            }
        }),
        rmssd_ms: rmssd,
        sdsd_ms: sdsd,
        pnn50_pct: pct(nn50),
        pnn20_pct: pct(nn20),
        mean_hr_bpm: finite(mean_hr, "mean HR overflowed"),
        sd_hr_bpm: sd_hr.and_then(|v| finite(v, "SD of HR overflowed")),
        min_hr_bpm: finite(hr_min, "HR overflowed"),
        max_hr_bpm: finite(hr_max, "HR overflowed"),
    }
}

/// `Ok(())` when `got >= needed` beats.
pub(crate) fn need(got: usize, needed: usize) -> Result<(), Absent> {
    if got >= needed {
        Ok(())
    } else {
        Err(Absent::TooFewBeats { needed, got })
    }
}

pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Two-pass sample SD (ddof = 1), as numpy computes it; the caller ensures `x.len() >= 2`.
pub(crate) fn sample_sd(x: &[f64], mean: f64) -> f64 {
    let ss: f64 = x.iter().map(|&v| (v - mean) * (v - mean)).sum();
    (ss / (x.len() - 1) as f64).sqrt()
}
