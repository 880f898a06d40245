//! Frequency-domain HRV: the reference pipeline (4 Hz not-a-knot spline, smoothness-priors detrend,
//! Welch) and Lomb–Scargle as an option, reduced to VLF/LF/HF band powers and peaks.
//!
//! Layout: `spline` (O(n) not-a-knot cubic spline), `detrend` (O(n) smoothness priors), `welch`
//! (scipy-compatible Welch, optionally zero-padded), `lomb` (Lomb–Scargle on the beat series), `ar`
//! (Burg AR spectrum). This file holds the bands, the pipeline and the band reduction shared by all
//! spectra; [`SpectralSettings`] says which detrend, window, grid and bands are used.

pub mod ar;
pub mod detrend;
pub mod lomb;
pub mod spline;
pub mod welch;

use crate::metric::{Absent, Metric, check_rr, finite};
use crate::settings::{BandIntegration, Detrend, SpectralSettings, SpectrumGrid};

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
    /// Band powers as a share of total power (VLF + LF + HF), in %.
    pub vlf_rel: Metric,
    pub lf_rel: Metric,
    pub hf_rel: Metric,
    /// Natural logarithms of the band powers in ms².
    pub vlf_log: Metric,
    pub lf_log: Metric,
    pub hf_log: Metric,
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
            vlf_rel: a(),
            lf_rel: a(),
            hf_rel: a(),
            vlf_log: a(),
            lf_log: a(),
            hf_log: a(),
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

    /// [`Psd::band`] with the power integrated as `integration` says; the peak is the same. The
    /// trapezoid runs over the bins with `lo ≤ f ≤ hi` (a bin within a millionth of a bin of an edge
    /// counts as on it, so `k·df` rounding does not drop the edge bin).
    pub fn band_with(&self, band: Band, integration: BandIntegration) -> Option<(f64, f64)> {
        let (power, peak) = self.band(band)?;
        match integration {
            BandIntegration::BinSum => Some((power, peak)),
            BandIntegration::Trapezoid => {
                let eps = 1e-6 * self.df;
                let inside: Vec<f64> = (0..self.density.len())
                    .filter(|&k| {
                        let f = self.frequency(k);
                        f >= band.lo - eps && f <= band.hi + eps
                    })
                    .map(|k| self.density[k])
                    .collect();
                let trapezoid: f64 = inside.windows(2).map(|w| 0.5 * (w[0] + w[1])).sum();
                Some((trapezoid * self.df, peak))
            }
        }
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
    resample_then(
        t,
        rr,
        Detrend::SmoothnessPriors {
            lambda: DETREND_LAMBDA,
        },
    )
}

/// Steps 1–3 with the given detrend: the 4 Hz spline of `rr` at beat times `t`, then its trend removed.
fn resample_then(t: &[f64], rr: &[f64], detrend: Detrend) -> Result<Vec<f64>, Absent> {
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
    Ok(match detrend {
        Detrend::None => x,
        Detrend::SmoothnessPriors { lambda } => detrend::smoothness_priors(&x, lambda),
    })
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
    lomb_from(&t, rr, span, &SpectralSettings::REFERENCE)
}

fn lomb_from(t: &[f64], rr: &[f64], span: f64, settings: &SpectralSettings) -> Result<Psd, Absent> {
    let t0 = t.first().copied().unwrap_or(0.0);
    let duration_s = t.last().copied().unwrap_or(0.0);
    let beat_hz = rr.len() as f64 / duration_s;
    let y = match settings.detrend {
        Detrend::None => rr.to_vec(),
        Detrend::SmoothnessPriors { lambda } => {
            detrend::smoothness_priors(rr, lambda * (beat_hz / RESAMPLE_HZ).powi(2))
        }
    };

    let grid_len = (span * RESAMPLE_HZ).floor() as usize + 1;
    let nperseg = grid_len.min(segment_samples(settings));
    let step = nperseg - nperseg / 2;
    let n_seg = (grid_len - nperseg) / step + 1;
    let window_s = nperseg as f64 / RESAMPLE_HZ;
    let df = welch::bin_width(fft_points(nperseg, settings.grid), RESAMPLE_HZ);
    let n_bins = (settings.hf.hi / df).ceil() as usize + 1;

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
    spectral_with(
        rr,
        &SpectralSettings {
            method,
            ..SpectralSettings::REFERENCE
        },
    )
}

/// Band powers and peaks of `rr` with every spectral setting chosen (see [`spectral`] for the rules).
pub fn spectral_with(rr: &[f64], settings: &SpectralSettings) -> Spectral {
    match check_rr(rr) {
        Ok(()) => spectral_checked(rr, settings),
        Err(why) => Spectral::absent(why),
    }
}

/// Welch segment length in samples for the settings' window (at least two samples).
fn segment_samples(settings: &SpectralSettings) -> usize {
    ((settings.window_s * RESAMPLE_HZ).round() as usize).max(2)
}

/// FFT length for a segment of `nperseg` samples on the settings' grid.
fn fft_points(nperseg: usize, grid: SpectrumGrid) -> usize {
    match grid {
        SpectrumGrid::SegmentBins => nperseg,
        SpectrumGrid::PointsPerHz(n) => nperseg.max((RESAMPLE_HZ * f64::from(n)).ceil() as usize),
    }
}

/// The beat times and span of a checked series, or why it has no spectrum at all.
fn spectral_span(rr: &[f64], settings: &SpectralSettings) -> Result<(Vec<f64>, f64), Absent> {
    let t = beat_times(rr);
    let span = check_span(&t)?;
    if span < f64::from(settings.hf.min_span_s) {
        return Err(too_short(settings.hf, span));
    }
    if rr.iter().all(|&v| v == rr[0]) {
        return Err(Absent::ZeroVariance);
    }
    Ok((t, span))
}

pub(crate) fn spectral_checked(rr: &[f64], settings: &SpectralSettings) -> Spectral {
    let (t, span) = match spectral_span(rr, settings) {
        Ok(ts) => ts,
        Err(why) => return Spectral::absent(why),
    };
    let psd = match settings.method {
        SpectrumMethod::Welch => resample_then(&t, rr, settings.detrend).and_then(|x| {
            let nperseg = x.len().min(segment_samples(settings));
            let nfft = fft_points(nperseg, settings.grid);
            welch::welch_with(&x, RESAMPLE_HZ, nperseg, nfft, settings.welch_mean)
        }),
        SpectrumMethod::LombScargle => lomb_from(&t, rr, span, settings),
    };
    summarise(psd, span, settings)
}

/// The AR spectrum's band powers (Kubios's "AR spectrum" column): the whole 4 Hz detrended series
/// modelled by [`ar::burg`] of `order`, evaluated on the grid Welch would use.
pub fn ar_spectral(rr: &[f64], settings: &SpectralSettings, order: usize) -> Spectral {
    if let Err(why) = check_rr(rr) {
        return Spectral::absent(why);
    }
    let (t, span) = match spectral_span(rr, settings) {
        Ok(ts) => ts,
        Err(why) => return Spectral::absent(why),
    };
    let psd = resample_then(&t, rr, settings.detrend).and_then(|x| {
        let (a, noise) = ar::burg(&x, order)?;
        let nperseg = x.len().min(segment_samples(settings));
        let df = welch::bin_width(fft_points(nperseg, settings.grid), RESAMPLE_HZ);
        let n_bins = (0.5 * RESAMPLE_HZ / df).floor() as usize + 1;
        Ok(ar::ar_psd(&a, noise, RESAMPLE_HZ, df, n_bins))
    });
    summarise(psd, span, settings)
}

fn summarise(psd: Result<Psd, Absent>, span: f64, settings: &SpectralSettings) -> Spectral {
    match psd {
        // A series the detrend removes entirely (a straight ramp) leaves only rounding noise, whose
        // ratios would be meaningless numbers: below a microsecond of variation (straps resolve
        // about a millisecond) there is no spectrum.
        Ok(psd) if psd.density.iter().sum::<f64>() * psd.df <= (1e-3_f64).powi(2) => {
            Spectral::absent(Absent::ZeroVariance)
        }
        Ok(psd) => reduce(&psd, span, settings),
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
fn reduce(psd: &Psd, span: f64, settings: &SpectralSettings) -> Spectral {
    let band = |b: Band| -> Result<(f64, f64), Absent> {
        if span < f64::from(b.min_span_s) {
            return Err(too_short(b, span));
        }
        psd.band_with(b, settings.band_integration)
            .ok_or(Absent::Undefined("no spectral bin falls inside the band"))
    };
    let (vlf, lf, hf) = (band(settings.vlf), band(settings.lf), band(settings.hf));
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
    let share = |p: &Metric| -> Metric {
        let (p, total) = (p.clone()?, total_power_ms2.clone()?);
        finite(100.0 * p / total, "total power is zero")
    };
    let log = |p: &Metric| -> Metric { finite(p.clone()?.ln(), "band power is zero") };
    Spectral {
        vlf_rel: share(&vlf_ms2),
        lf_rel: share(&lf_ms2),
        hf_rel: share(&hf_ms2),
        vlf_log: log(&vlf_ms2),
        lf_log: log(&lf_ms2),
        hf_log: log(&hf_ms2),
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
