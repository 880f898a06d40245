//! Every choice a panel is computed with, so any result can say how it was made.
//!
//! [`Settings::reference`] is the documented reference pipeline (`tests/data/reference/README.md`);
//! [`Settings::kubios`] follows Kubios HRV Standard 3.x's own definitions and defaults, so a Kubios
//! report can be reproduced from its "Parameters" block by overriding the few settings it lists.
//! [`Settings::describe`] lists every setting under a stable key for the CLI's JSON and text output.
//!
//! Sources for the Kubios column (each field's doc repeats which one applies):
//! - Tarvainen, Niskanen, Lipponen, Ranta-aho & Karjalainen (2014), "Kubios HRV – heart rate
//!   variability analysis software", Comput Methods Programs Biomed 113:210–220: 4 Hz cubic-spline
//!   interpolation, smoothness-priors detrending, Welch and AR (order 16) spectra, bands, ApEn/SampEn
//!   with m = 2 and r = 0.2·SDNN, DFA.
//! - Kubios HRV user's guide, ver. 3.0.2 (Tarvainen, Lipponen, Niskanen & Ranta-aho, 21 June 2017),
//!   sections "Time-domain", "Frequency-domain" and "Analysis options": mean HR from mean RR, min/max
//!   HR from a 5-beat moving average, 300 points/Hz, the square root of Baevsky's stress index. Only the
//!   guide's contents page could be read while this was written; the definitions taken from it are
//!   the ones the issue (#10) and its Kubios 3.1 report show, and should be re-checked against the
//!   guide's text.
//! - The Kubios 3.1 report quoted in issue #10 ("Parameters" block): DFA ranges 4–12 and 13–64 beats.
//! - Five Kubios HRV Premium 3.1.0 reports with their RR data (pyHRV's test data, `tests/data/kubios`):
//!   mean HR from mean RR, the triangular index and SD2 from the Poincaré pairs, each to the
//!   report's printed decimals.

use crate::frequency::{Band, HF, LF, SpectrumMethod, VLF};
use crate::nonlinear::dfa::{self, Scales};

/// How the RR series is detrended before its spectrum is estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detrend {
    /// No trend removal (each Welch segment still loses its mean).
    None,
    /// Smoothness priors (Tarvainen, Ranta-aho & Karjalainen 2002) with this λ at the 4 Hz grid.
    SmoothnessPriors { lambda: f64 },
}

/// The frequency grid of the spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectrumGrid {
    /// The FFT bins of one Welch segment: `df = fs / nperseg` (the reference pipeline).
    SegmentBins,
    /// At least this many points per Hz: the FFT is zero-padded to `fs · n` points when the segment is
    /// shorter (Kubios: 300 points/Hz, so `df = 1/300 Hz`). AR spectra are evaluated on the same grid.
    PointsPerHz(u32),
}

/// Which mean the Welch estimate removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WelchMean {
    /// Each segment loses its own mean before the window (scipy's `detrend="constant"`; the
    /// reference pipeline).
    PerSegment,
    /// The series loses its mean once and segments are windowed as they are (MATLAB `pwelch`):
    /// what Kubios does. Its reports' 0 Hz PSD bin matches this to 0.05 % and not the per-segment
    /// form (110 107 vs 110 051 and 10 615 ms²/Hz on `nsr_60min.rr` without detrending).
    WholeSeries,
}

/// How a band's power is integrated from the PSD bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandIntegration {
    /// The sum of the bins with `lo ≤ f < hi`, times the bin width (the reference pipeline).
    BinSum,
    /// The trapezoidal rule over the bins with `lo ≤ f ≤ hi` (MATLAB `trapz`): what Kubios does.
    /// Its reports' band powers equal the trapezoid over their own PSD tables to 0.1 %.
    Trapezoid,
}

/// How mean HR is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeanHr {
    /// Mean of the beat-by-beat HR `60000 / RR_i` (the reference pipeline).
    BeatAverage,
    /// `60000 / mean RR` (Kubios user's guide, time-domain table).
    FromMeanRr,
}

/// How the minimum and maximum HR are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HrExtremes {
    /// The single fastest and slowest beat (the reference pipeline).
    SingleBeat,
    /// The extremes of the `beats`-beat moving average of `60000 / RR_i` (Kubios: 5 beats).
    MovingAverage { beats: usize },
}

/// How Poincaré SD2 is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoincareSd2 {
    /// `√(2·SDNN² − ½·SDSD²)` from the time-domain SDs (the reference pipeline; Brennan, Palaniswami
    /// & Kamen 2001, eq. 5), SDNN over all n intervals.
    FromSdnnAndSdsd,
    /// The sample SD of the Poincaré points' projections on the identity line,
    /// `SD((RRᵢ + RRᵢ₊₁)/√2)` over the n − 1 pairs, as Kubios computes it: it reproduces the SD2 and
    /// SD2/SD1 of five Kubios HRV Premium 3.1 reports to 2·10⁻⁸ (`tests/data/kubios`), where the
    /// reference formula is up to 1.9·10⁻⁴ off (it uses the first and last interval once, not in
    /// pairs).
    PairSums,
}

/// Which stress index is reported under `stress_index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StressIndex {
    /// Baevsky's SI = AMo / (2·Mo·MxDMn) with Mo the modal 50 ms bin's centre (Baevsky & Chernikova
    /// 2017); typically 50–150 at rest.
    Baevsky,
    /// Kubios's form: the square root of Baevsky's SI with Mo the median RR and AMo the modal 50 ms
    /// bin's share of beats (Kubios user's guide, "Stress index"); typically 7–12 at rest. Kubios
    /// 3.1's own value differs on long recordings (see [`crate::geometric::stress_index_kubios`]).
    KubiosSquareRoot,
}

/// Whether the metrics that cost more than the rest of the panel together on long recordings —
/// approximate entropy (an O(N²)-worst-case pair count) and the AR spectrum — are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostlyMetrics {
    /// Leave them out (the reference panel; its speed is the benchmarked one).
    Skip,
    /// Compute ApEn and the AR spectrum of this order (Kubios: 16).
    Compute { ar_order: usize },
}

/// Frequency-domain settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralSettings {
    pub method: SpectrumMethod,
    pub detrend: Detrend,
    /// Welch segment width in seconds (50 % overlap); shorter recordings use one whole segment.
    pub window_s: f64,
    pub grid: SpectrumGrid,
    pub welch_mean: WelchMean,
    pub band_integration: BandIntegration,
    pub vlf: Band,
    pub lf: Band,
    pub hf: Band,
}

impl SpectralSettings {
    /// The reference pipeline: Welch, smoothness priors λ = 500, 256 s segments, segment bins,
    /// VLF from 0.0033 Hz.
    pub const REFERENCE: SpectralSettings = SpectralSettings {
        method: SpectrumMethod::Welch,
        detrend: Detrend::SmoothnessPriors { lambda: 500.0 },
        window_s: 256.0,
        grid: SpectrumGrid::SegmentBins,
        welch_mean: WelchMean::PerSegment,
        band_integration: BandIntegration::BinSum,
        vlf: VLF,
        lf: LF,
        hf: HF,
    };
}

/// Everything [`crate::panel::analyze_with`] needs to know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Which preset the settings started from (overrides may have changed some fields since).
    pub preset: Preset,
    pub spectral: SpectralSettings,
    pub dfa_short: Scales,
    pub dfa_long: Scales,
    pub mean_hr: MeanHr,
    pub hr_extremes: HrExtremes,
    pub stress_index: StressIndex,
    pub sd2: PoincareSd2,
    pub costly: CostlyMetrics,
}

/// The named starting points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Reference,
    Kubios,
}

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Reference => "reference",
            Preset::Kubios => "kubios",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::reference()
    }
}

impl Settings {
    /// The reference pipeline of `tests/data/reference/README.md`.
    pub fn reference() -> Settings {
        Settings {
            preset: Preset::Reference,
            spectral: SpectralSettings::REFERENCE,
            dfa_short: dfa::ALPHA1,
            dfa_long: dfa::ALPHA2,
            mean_hr: MeanHr::BeatAverage,
            hr_extremes: HrExtremes::SingleBeat,
            stress_index: StressIndex::Baevsky,
            sd2: PoincareSd2::FromSdnnAndSdsd,
            costly: CostlyMetrics::Skip,
        }
    }

    /// Kubios HRV Standard 3.x's definitions and defaults (see the module doc for sources).
    ///
    /// Spectrum: smoothness priors λ = 500 (Kubios's default detrending), 300 s Welch window with
    /// 50 % overlap and 300 points/Hz (so one 300 s window has exactly the 1/300 Hz grid), VLF from
    /// 0 Hz as Kubios's band table has it, the series' mean removed once rather than each segment's,
    /// band powers by the trapezoidal rule; AR spectrum of order 16. DFA 4–12 / 13–64 beats as in the
    /// issue's Kubios 3.1 report. Mean HR = 60000 / mean RR, min/max HR from a 5-beat moving average,
    /// the stress index as Kubios's guide defines it, SD2 from the Poincaré pairs.
    pub fn kubios() -> Settings {
        Settings {
            preset: Preset::Kubios,
            spectral: SpectralSettings {
                method: SpectrumMethod::Welch,
                detrend: Detrend::SmoothnessPriors { lambda: 500.0 },
                window_s: 300.0,
                grid: SpectrumGrid::PointsPerHz(300),
                welch_mean: WelchMean::WholeSeries,
                band_integration: BandIntegration::Trapezoid,
                vlf: Band { lo: 0.0, ..VLF },
                lf: LF,
                hf: HF,
            },
            dfa_short: Scales::box_sizes(4, 12),
            dfa_long: Scales::box_sizes(13, 64),
            mean_hr: MeanHr::FromMeanRr,
            hr_extremes: HrExtremes::MovingAverage { beats: 5 },
            stress_index: StressIndex::KubiosSquareRoot,
            sd2: PoincareSd2::PairSums,
            costly: CostlyMetrics::Compute { ar_order: 16 },
        }
    }

    /// Every setting under a stable key, in a fixed order, for output that says how a result was made.
    pub fn describe(&self) -> Vec<Setting> {
        use SettingValue::{Name, Number, Range};
        let s = &self.spectral;
        let mut out = vec![
            Setting::new("preset", Name(self.preset.as_str())),
            Setting::new(
                "spectrum",
                Name(match s.method {
                    SpectrumMethod::Welch => "welch",
                    SpectrumMethod::LombScargle => "lomb_scargle",
                }),
            ),
            Setting::new("interpolation_hz", Number(crate::frequency::RESAMPLE_HZ)),
        ];
        match s.detrend {
            Detrend::None => out.push(Setting::new("detrend", Name("none"))),
            Detrend::SmoothnessPriors { lambda } => {
                out.push(Setting::new("detrend", Name("smoothness_priors")));
                out.push(Setting::new("detrend_lambda", Number(lambda)));
            }
        }
        out.push(Setting::new("window_s", Number(s.window_s)));
        out.push(Setting::new("window_overlap_pct", Number(50.0)));
        out.push(match s.grid {
            SpectrumGrid::SegmentBins => Setting::new("points_per_hz", Name("segment_bins")),
            SpectrumGrid::PointsPerHz(n) => Setting::new("points_per_hz", Number(f64::from(n))),
        });
        out.push(Setting::new(
            "welch_mean_removed",
            Name(match s.welch_mean {
                WelchMean::PerSegment => "per_segment",
                WelchMean::WholeSeries => "whole_series",
            }),
        ));
        out.push(Setting::new(
            "band_integration",
            Name(match s.band_integration {
                BandIntegration::BinSum => "bin_sum",
                BandIntegration::Trapezoid => "trapezoid",
            }),
        ));
        for (key, band) in [("vlf_band_hz", s.vlf), ("lf_band_hz", s.lf), ("hf_band_hz", s.hf)] {
            out.push(Setting::new(key, SettingValue::Band(band.lo, band.hi)));
        }
        out.push(Setting::new(
            "dfa_alpha1_beats",
            Range(self.dfa_short.min, self.dfa_short.max),
        ));
        out.push(Setting::new(
            "dfa_alpha2_beats",
            Range(self.dfa_long.min, self.dfa_long.max),
        ));
        out.push(Setting::new(
            "entropy_m",
            SettingValue::Count(crate::nonlinear::sampen::M),
        ));
        out.push(Setting::new(
            "entropy_r_sdnn",
            Number(crate::nonlinear::sampen::R_FACTOR),
        ));
        out.push(Setting::new(
            "mean_hr",
            Name(match self.mean_hr {
                MeanHr::BeatAverage => "mean_of_beat_hr",
                MeanHr::FromMeanRr => "60000_over_mean_rr",
            }),
        ));
        out.push(Setting::new("std_hr", Name("sd_of_beat_hr")));
        out.push(Setting::new(
            "minmax_hr_beats",
            SettingValue::Count(match self.hr_extremes {
                HrExtremes::SingleBeat => 1,
                HrExtremes::MovingAverage { beats } => beats,
            }),
        ));
        out.push(Setting::new(
            "stress_index",
            Name(match self.stress_index {
                StressIndex::Baevsky => "baevsky",
                StressIndex::KubiosSquareRoot => "sqrt_baevsky_median_mo",
            }),
        ));
        out.push(Setting::new(
            "poincare_sd2",
            Name(match self.sd2 {
                PoincareSd2::FromSdnnAndSdsd => "from_sdnn_and_sdsd",
                PoincareSd2::PairSums => "sd_of_pair_sums",
            }),
        ));
        out.push(Setting::new(
            "triangular_bin_ms",
            Number(crate::geometric::TRIANGULAR_BIN_MS),
        ));
        out.push(Setting::new(
            "stress_bin_ms",
            Number(crate::geometric::STRESS_BIN_MS),
        ));
        out.push(match self.costly {
            CostlyMetrics::Skip => Setting::new("ar_order", Name("not_computed")),
            CostlyMetrics::Compute { ar_order } => Setting::new("ar_order", SettingValue::Count(ar_order)),
        });
        out.push(Setting::new("ar_method", Name("burg")));
        out.push(Setting::new("pns_sns_weights", Name("equal")));
        out.push(Setting::new("pns_sns_normals", Name("nunan_2010")));
        out
    }
}

/// One line of [`Settings::describe`].
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: &'static str,
    pub value: SettingValue,
}

impl Setting {
    fn new(key: &'static str, value: SettingValue) -> Setting {
        Setting { key, value }
    }
}

/// A setting's value, typed so JSON output can keep numbers as numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Name(&'static str),
    Number(f64),
    Count(usize),
    /// An inclusive range of box sizes in beats.
    Range(usize, usize),
    /// A frequency band `lo ≤ f < hi` in Hz.
    Band(f64, f64),
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Name(s) => f.write_str(s),
            SettingValue::Number(v) => write!(f, "{v}"),
            SettingValue::Count(n) => write!(f, "{n}"),
            SettingValue::Range(a, b) => write!(f, "{a}-{b}"),
            SettingValue::Band(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}
