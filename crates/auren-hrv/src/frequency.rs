//! Frequency-domain HRV: the reference pipeline (4 Hz not-a-knot spline, smoothness-priors detrend,
//! Welch) and Lomb–Scargle as an option, reduced to VLF/LF/HF band powers and peaks.
//!
//! Layout: `spline` (O(n) not-a-knot cubic spline), `detrend` (O(n) smoothness priors), `welch`
//! (scipy-compatible Welch), `lomb` (Lomb–Scargle on the beat series). This file holds the bands, the
//! pipeline and the band reduction shared by both spectra.

pub mod detrend;
pub mod lomb;
pub mod spline;
pub mod welch;

use crate::metric::{Absent, Metric, check_rr, finite};

/// The uniform resampling rate of the Welch path (Hz).
pub const RESAMPLE_HZ: f64 = 4.0;
/// Smoothness-priors λ at [`RESAMPLE_HZ`] (Tarvainen 2002; cut-off ≈ 0.03 Hz).
pub const DETREND_LAMBDA: f64 = 500.0;
/// Welch segment length in samples (256 s at 4 Hz); shorter series use one whole-series segment.
pub const WELCH_SEGMENT: usize = 1024;
/// The longest recording the spectral path accepts: a week, so a 4 Hz grid stays within memory.
pub const MAX_SPAN_S: f64 = 7.0 * 24.0 * 3600.0;

/// A frequency band `lo ≤ f < hi` (Hz) and the shortest recording whose estimate of it is reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
    /// Minimum span between the first and last beat, in seconds.
    pub min_span_s: u32,
}

/// Very low frequency. Its slowest cycle lasts 303 s, so it is only reported for a nominal
/// 5-minute recording or longer (240 s allows for a few beats lost at the edges, as Kubios does).
pub const VLF: Band = Band {
    lo: 0.0033,
    hi: 0.04,
    min_span_s: 240,
};
/// Low frequency; the Task Force (1996) asks for about 2 minutes to assess it.
pub const LF: Band = Band {
    lo: 0.04,
    hi: 0.15,
    min_span_s: 120,
};
/// High frequency; the Task Force (1996) asks for about 1 minute.
pub const HF: Band = Band {
    lo: 0.15,
    hi: 0.40,
    min_span_s: 60,
};

/// Which spectral estimate the band powers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpectrumMethod {
    /// The reference pipeline: 4 Hz spline, smoothness priors (λ = 500), Welch.
    #[default]
    Welch,
    /// Lomb–Scargle on the detrended beat series itself, on Welch's frequency bins (see [`lomb`]).
    LombScargle,
}

/// The frequency-domain metrics of one NN series; field names are the reference keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectral {
    pub vlf_ms2: Metric,
    pub lf_ms2: Metric,
    pub hf_ms2: Metric,
    pub total_power_ms2: Metric,
    pub lf_hf: Metric,
    pub lf_nu: Metric,
    pub hf_nu: Metric,
    pub lf_peak_hz: Metric,
    pub hf_peak_hz: Metric,
}

impl Spectral {
    /// Every metric absent for the same reason.
    pub fn absent(why: Absent) -> Self {
        let a = || Err(why.clone());
        Spectral {
            vlf_ms2: a(),
            lf_ms2: a(),
            hf_ms2: a(),
            total_power_ms2: a(),
            lf_hf: a(),
            lf_nu: a(),
            hf_nu: a(),
            lf_peak_hz: a(),
            hf_peak_hz: a(),
        }
    }
}

/// A one-sided power spectral density (ms²/Hz) on the bins `f_k = k·df`, `k = 0..density.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Psd {
    pub df: f64,
    pub density: Vec<f64>,
}

impl Psd {
    /// The frequency of bin `k`, computed as numpy's `rfftfreq` does.
    pub fn frequency(&self, k: usize) -> f64 {
        k as f64 * self.df
    }

    /// Power in `band` (sum of bins with `lo ≤ f < hi`, times the bin width) and the frequency of its
    /// largest bin (the first one on ties), or `None` when no bin falls in the band.
    pub fn band(&self, band: Band) -> Option<(f64, f64)> {
        let mut power = 0.0;
        let mut peak: Option<(usize, f64)> = None;
        for (k, &p) in self.density.iter().enumerate() {
            let f = self.frequency(k);
            if f >= band.lo && f < band.hi {
                power += p;
                if peak.is_none_or(|(_, best)| p > best) {
                    peak = Some((k, p));
                }
            }
        }
        peak.map(|(k, _)| (power * self.df, self.frequency(k)))
    }
}

/// Beat times (s): the cumulative sum of `rr`, the time of the beat that ends each interval.
pub fn beat_times(rr: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    rr.iter()
        .map(|&v| {
            acc += v;
            acc / 1000.0
        })
        .collect()
}

/// The reference's uniform grid `t[0] + arange(0, floor((t[-1] − t[0])·fs) + 1)/fs`.
pub fn uniform_grid(t0: f64, t_last: f64, fs: f64) -> Vec<f64> {
    let count = ((t_last - t0) * fs).floor().max(0.0) as usize + 1;
    (0..count).map(|k| t0 + k as f64 / fs).collect()
}

/// The detrended 4 Hz series of the reference pipeline (steps 1–3), in ms.
pub fn resampled_detrended(rr: &[f64]) -> Result<Vec<f64>, Absent> {
    check_rr(rr)?;
    let t = beat_times(rr);
    check_span(&t)?;
    resample_detrend(&t, rr)
}

fn resample_detrend(t: &[f64], rr: &[f64]) -> Result<Vec<f64>, Absent> {
    let spline = spline::CubicSpline::not_a_knot(t, rr)?;
    let (first, last) = match (t.first(), t.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => {
            return Err(Absent::TooFewBeats {
                needed: 2,
                got: t.len(),
            });
        }
    };
    let x = spline.eval_sorted(&uniform_grid(first, last, RESAMPLE_HZ));
    Ok(detrend::smoothness_priors(&x, DETREND_LAMBDA))
}

/// The Welch PSD of the reference pipeline (steps 1–4).
pub fn welch_psd(rr: &[f64]) -> Result<Psd, Absent> {
    let x = resampled_detrended(rr)?;
    welch::welch(&x, RESAMPLE_HZ, x.len().min(WELCH_SEGMENT))
}

/// The Lomb–Scargle PSD of the beat series, on the bins and segments Welch would use.
///
/// The series is first detrended with smoothness priors at λ·(f_beat/4 Hz)², f_beat the mean beat
/// rate: the trend filter's cut-off scales as fs/√λ, so this puts it at the same ≈ 0.03 Hz as the
/// 4 Hz path's λ = 500, keeping VLF comparable between the two spectra. Like Welch, recordings longer
/// than 256 s are cut into 256 s windows with 50 % overlap, each window's beats lose their mean and
/// get their own periodogram, and the periodograms are averaged: one periodogram of a 24-hour record
/// sampled on 1/256 Hz bins would miss most of its sharp peaks between the bins.
pub fn lomb_psd(rr: &[f64]) -> Result<Psd, Absent> {
    check_rr(rr)?;
    let t = beat_times(rr);
    let span = check_span(&t)?;
    lomb_from(&t, rr, span)
}

fn lomb_from(t: &[f64], rr: &[f64], span: f64) -> Result<Psd, Absent> {
    let t0 = t.first().copied().unwrap_or(0.0);
    let duration_s = t.last().copied().unwrap_or(0.0);
    let beat_hz = rr.len() as f64 / duration_s;
    let lambda = DETREND_LAMBDA * (beat_hz / RESAMPLE_HZ).powi(2);
    let y = detrend::smoothness_priors(rr, lambda);

    let grid_len = (span * RESAMPLE_HZ).floor() as usize + 1;
    let nperseg = grid_len.min(WELCH_SEGMENT);
    let step = nperseg - nperseg / 2;
    let n_seg = (grid_len - nperseg) / step + 1;
    let window_s = nperseg as f64 / RESAMPLE_HZ;
    let df = welch::bin_width(nperseg, RESAMPLE_HZ);
    let n_bins = (HF.hi / df).ceil() as usize + 1;

    let mut sum = vec![0.0; n_bins];
    let mut used = 0usize;
    let mut first = 0usize;
    for k in 0..n_seg {
        let start = t0 + (k * step) as f64 / RESAMPLE_HZ;
        while first < t.len() && t[first] < start {
            first += 1;
        }
        let end = first + t[first..].partition_point(|&tj| tj < start + window_s);
        let (ts, ys) = (&t[first..end], &y[first..end]);
        if ts.len() < 3 {
            continue; // a gap in the recording; Welch would interpolate across it, here it is skipped
        }
        let mean = ys.iter().sum::<f64>() / ys.len() as f64;
        let centred: Vec<f64> = ys.iter().map(|v| v - mean).collect();
        let psd = lomb::lomb_scargle(ts, &centred, df, n_bins, ts.len() as f64 / window_s);
        sum.iter_mut().zip(&psd.density).for_each(|(acc, p)| *acc += p);
        used += 1;
    }
    if used == 0 {
        return Err(Absent::Undefined("no Lomb–Scargle window holds three beats"));
    }
    sum.iter_mut().for_each(|p| *p /= used as f64);
    Ok(Psd { df, density: sum })
}

/// The span between first and last beat, refused when it is too long for the 4 Hz grid.
fn check_span(t: &[f64]) -> Result<f64, Absent> {
    let span = match (t.first(), t.last()) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    if span > MAX_SPAN_S {
        return Err(Absent::Undefined(
            "recording longer than a week for the spectral grid",
        ));
    }
    Ok(span)
}

/// Band powers and peaks of `rr` with the chosen spectral method.
///
/// Each band needs the span in its [`Band::min_span_s`]; LF/HF ratios and normalised units need both
/// LF and HF; total power needs all three bands. A constant series, or one the detrend flattens
/// (under 1e-6 ms² of power left, e.g. a straight ramp), is [`Absent::ZeroVariance`].
pub fn spectral(rr: &[f64], method: SpectrumMethod) -> Spectral {
    match check_rr(rr) {
        Ok(()) => spectral_checked(rr, method),
        Err(why) => Spectral::absent(why),
    }
}

pub(crate) fn spectral_checked(rr: &[f64], method: SpectrumMethod) -> Spectral {
    let t = beat_times(rr);
    let span = match check_span(&t) {
        Ok(span) => span,
        Err(why) => return Spectral::absent(why),
    };
    if span < f64::from(HF.min_span_s) {
        return Spectral::absent(too_short(HF, span));
    }
    if rr.iter().all(|&v| v == rr[0]) {
        return Spectral::absent(Absent::ZeroVariance);
    }
    let psd = match method {
        SpectrumMethod::Welch => {
            resample_detrend(&t, rr).and_then(|x| welch::welch(&x, RESAMPLE_HZ, x.len().min(WELCH_SEGMENT)))
        }
        SpectrumMethod::LombScargle => lomb_from(&t, rr, span),
    };
    match psd {
        // A series the detrend removes entirely (a straight ramp) leaves only rounding noise, whose
        // ratios would be meaningless numbers: below a microsecond of variation (straps resolve
        // about a millisecond) there is no spectrum.
        Ok(psd) if psd.density.iter().sum::<f64>() * psd.df <= (1e-3_f64).powi(2) => {
            Spectral::absent(Absent::ZeroVariance)
        }
        Ok(psd) => reduce(&psd, span),
        Err(why) => Spectral::absent(why),
    }
}

fn too_short(band: Band, span: f64) -> Absent {
    Absent::TooShort {
        needed_s: band.min_span_s,
        got_s: span.max(0.0) as u32,
    }
}

/// Band powers, ratios and peaks from a PSD of a recording spanning `span` seconds.
fn reduce(psd: &Psd, span: f64) -> Spectral {
    let band = |b: Band| -> Result<(f64, f64), Absent> {
        if span < f64::from(b.min_span_s) {
            return Err(too_short(b, span));
        }
        psd.band(b)
            .ok_or(Absent::Undefined("no spectral bin falls inside the band"))
    };
    let (vlf, lf, hf) = (band(VLF), band(LF), band(HF));
    let power = |b: &Result<(f64, f64), Absent>| -> Metric {
        b.clone().and_then(|(p, _)| finite(p, "band power overflowed"))
    };
    let peak = |b: &Result<(f64, f64), Absent>| -> Metric { b.clone().map(|(_, f)| f) };
    let (vlf_ms2, lf_ms2, hf_ms2) = (power(&vlf), power(&lf), power(&hf));
    let lf_hf_pair = lf_ms2.clone().and_then(|l| hf_ms2.clone().map(|h| (l, h)));
    let total_power_ms2 = lf_hf_pair.clone().and_then(|(l, h)| {
        vlf_ms2
            .clone()
            .and_then(|v| finite(v + l + h, "total power overflowed"))
    });
    let ratio = |f: fn(f64, f64) -> f64, why: &'static str| -> Metric {
        lf_hf_pair.clone().and_then(|(l, h)| finite(f(l, h), why))
    };
    Spectral {
        total_power_ms2,
        lf_hf: ratio(|l, h| l / h, "HF power is zero"),
        lf_nu: ratio(|l, h| 100.0 * l / (l + h), "LF + HF power is zero"),
        hf_nu: ratio(|l, h| 100.0 * h / (l + h), "LF + HF power is zero"),
        lf_peak_hz: peak(&lf),
        hf_peak_hz: peak(&hf),
        vlf_ms2,
        lf_ms2,
        hf_ms2,
    }
}
