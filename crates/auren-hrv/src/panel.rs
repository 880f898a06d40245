//! The full HRV panel of one recording: every metric under the reference key names, computed with
//! the reference pipeline ([`analyze`]) or with any [`Settings`] ([`analyze_with`], e.g. Kubios's).

use crate::autonomic::{self, AnsIndices, AnsMarkers};
use crate::frequency::{self, Spectral, SpectrumMethod};
use crate::geometric::{self, Geometric};
use crate::metric::{Absent, Metric, check_rr, finite};
use crate::nonlinear::{self, Nonlinear, apen};
use crate::settings::{CostlyMetrics, HrExtremes, MeanHr, PoincareSd2, Settings, StressIndex};
use crate::time_domain::{self, TimeDomain};

/// How the reference panel is computed (the one choice the reference pipeline leaves open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PanelOptions {
    /// Welch (the reference pipeline, default) or Lomb–Scargle.
    pub spectrum: SpectrumMethod,
}

impl From<&PanelOptions> for Settings {
    fn from(options: &PanelOptions) -> Settings {
        let mut settings = Settings::reference();
        settings.spectral.method = options.spectrum;
        settings
    }
}

/// Every metric of one NN series, grouped by family.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Intervals analysed (the reference's `n_beats`; not a float, so not among [`Panel::entries`]).
    pub n_beats: usize,
    /// How every value was computed.
    pub settings: Settings,
    pub time: TimeDomain,
    pub frequency: Spectral,
    pub nonlinear: Nonlinear,
    pub geometric: Geometric,
    /// Kubios's PNS and SNS indices (always computed with Kubios's definitions of their inputs).
    pub ans: AnsIndices,
    /// ApEn and the AR spectrum, present when [`Settings::costly`] asked for them.
    pub costly: Option<Costly>,
}

/// The metrics computed only on request (see [`CostlyMetrics`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Costly {
    pub apen: Metric,
    /// Band powers of the AR spectrum (keys prefixed `ar_` in [`Panel::entries`]).
    pub ar: Spectral,
}

/// The metric keys every panel has, in [`Panel::entries`] order: time domain, frequency,
/// nonlinear, geometric, autonomic.
pub const KEYS: [&str; 39] = [
    "duration_s",
    "mean_nn_ms",
    "sdnn_ms",
    "cvnn",
    "rmssd_ms",
    "ln_rmssd",
    "sdsd_ms",
    "pnn50_pct",
    "pnn20_pct",
    "mean_hr_bpm",
    "sd_hr_bpm",
    "min_hr_bpm",
    "max_hr_bpm",
    "vlf_ms2",
    "lf_ms2",
    "hf_ms2",
    "total_power_ms2",
    "lf_hf",
    "lf_nu",
    "hf_nu",
    "lf_peak_hz",
    "hf_peak_hz",
    "vlf_rel",
    "lf_rel",
    "hf_rel",
    "vlf_log",
    "lf_log",
    "hf_log",
    "sd1_ms",
    "sd2_ms",
    "sd2_sd1",
    "sampen",
    "dfa_alpha1",
    "dfa_alpha2",
    "tri_index",
    "tinn_ms",
    "stress_index",
    "pns_index",
    "sns_index",
];

/// The keys of [`Costly`], after [`KEYS`] in [`Panel::entries`] when computed.
pub const COSTLY_KEYS: [&str; 16] = [
    "apen",
    "ar_vlf_ms2",
    "ar_lf_ms2",
    "ar_hf_ms2",
    "ar_total_power_ms2",
    "ar_lf_hf",
    "ar_lf_nu",
    "ar_hf_nu",
    "ar_lf_peak_hz",
    "ar_hf_peak_hz",
    "ar_vlf_rel",
    "ar_lf_rel",
    "ar_hf_rel",
    "ar_vlf_log",
    "ar_lf_log",
    "ar_hf_log",
];

/// The panel of `rr` (NN intervals in ms, already artifact-corrected) by the reference pipeline.
///
/// Input containing a value that is not a positive finite number is refused as a whole: every
/// metric is [`crate::Absent::InvalidRr`] naming the first bad index (`n_beats` still counts the
/// input). Otherwise each metric is a finite value or the reason it is absent; nothing panics.
/// The mean, SDs and successive differences are computed once and shared across families.
pub fn analyze(rr: &[f64], options: &PanelOptions) -> Panel {
    analyze_with(rr, &Settings::from(options))
}

/// The panel of `rr` computed with `settings` (same rules as [`analyze`]).
pub fn analyze_with(rr: &[f64], settings: &Settings) -> Panel {
    if let Err(why) = check_rr(rr) {
        return absent_panel(rr.len(), settings, why);
    }
    let mut time = time_domain::time_domain_checked(rr);
    if settings.mean_hr == MeanHr::FromMeanRr {
        time.mean_hr_bpm = time
            .mean_nn_ms
            .clone()
            .and_then(|m| finite(60_000.0 / m, "mean HR overflowed"));
    }
    if let HrExtremes::MovingAverage { beats } = settings.hr_extremes {
        (time.min_hr_bpm, time.max_hr_bpm) = time_domain::hr_extremes_moving_average(rr, beats);
    }
    let mut nonlinear = nonlinear::nonlinear_scaled(rr, &time, settings.dfa_short, settings.dfa_long);
    if settings.sd2 == PoincareSd2::PairSums {
        nonlinear::use_pair_sum_sd2(rr, &mut nonlinear);
    }
    let mut geometric = geometric::geometric_checked(rr);
    let kubios_stress = geometric::kubios_stress_checked(rr);
    if settings.stress_index == StressIndex::KubiosSquareRoot {
        geometric.stress_index = kubios_stress.clone();
    }
    let ans = autonomic::ans_indices(&AnsMarkers {
        mean_rr_ms: time.mean_nn_ms.clone(),
        rmssd_ms: time.rmssd_ms.clone(),
        sd1_ms: nonlinear.sd1_ms.clone(),
        sd2_ms: nonlinear.sd2_ms.clone(),
        stress_index_sqrt: kubios_stress,
    });
    let costly = match settings.costly {
        CostlyMetrics::Skip => None,
        CostlyMetrics::Compute { ar_order } => Some(Costly {
            apen: time_domain::need(rr.len(), nonlinear::sampen::M + 2).and_then(|()| {
                let sd = time.sdnn_ms.clone()?;
                apen::approximate_entropy_with_tolerance(rr, nonlinear::sampen::R_FACTOR * sd)
            }),
            ar: frequency::ar_spectral(rr, &settings.spectral, ar_order),
        }),
    };
    Panel {
        n_beats: rr.len(),
        settings: *settings,
        frequency: frequency::spectral_checked(rr, &settings.spectral),
        geometric,
        nonlinear,
        time,
        ans,
        costly,
    }
}

fn absent_panel(n_beats: usize, settings: &Settings, why: Absent) -> Panel {
    Panel {
        n_beats,
        settings: *settings,
        time: TimeDomain::absent(why.clone()),
        frequency: Spectral::absent(why.clone()),
        nonlinear: Nonlinear::absent(why.clone()),
        geometric: Geometric::absent(why.clone()),
        ans: AnsIndices {
            pns_index: Err(why.clone()),
            sns_index: Err(why.clone()),
        },
        costly: match settings.costly {
            CostlyMetrics::Skip => None,
            CostlyMetrics::Compute { .. } => Some(Costly {
                apen: Err(why.clone()),
                ar: Spectral::absent(why),
            }),
        },
    }
}

/// A spectrum's metrics in key order (the 15 frequency keys of [`KEYS`]).
fn spectral_values(f: &Spectral) -> [&Metric; 15] {
    [
        &f.vlf_ms2,
        &f.lf_ms2,
        &f.hf_ms2,
        &f.total_power_ms2,
        &f.lf_hf,
        &f.lf_nu,
        &f.hf_nu,
        &f.lf_peak_hz,
        &f.hf_peak_hz,
        &f.vlf_rel,
        &f.lf_rel,
        &f.hf_rel,
        &f.vlf_log,
        &f.lf_log,
        &f.hf_log,
    ]
}

impl Panel {
    /// Every float metric with its key: the [`KEYS`] in order, then the [`COSTLY_KEYS`] when they
    /// were computed.
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &Metric)> {
        let (t, n, g) = (&self.time, &self.nonlinear, &self.geometric);
        let mut values: Vec<&Metric> = vec![
            &t.duration_s,
            &t.mean_nn_ms,
            &t.sdnn_ms,
            &t.cvnn,
            &t.rmssd_ms,
            &t.ln_rmssd,
            &t.sdsd_ms,
            &t.pnn50_pct,
            &t.pnn20_pct,
            &t.mean_hr_bpm,
            &t.sd_hr_bpm,
            &t.min_hr_bpm,
            &t.max_hr_bpm,
        ];
        values.extend(spectral_values(&self.frequency));
        values.extend([
            &n.sd1_ms,
            &n.sd2_ms,
            &n.sd2_sd1,
            &n.sampen,
            &n.dfa_alpha1,
            &n.dfa_alpha2,
            &g.tri_index,
            &g.tinn_ms,
            &g.stress_index,
            &self.ans.pns_index,
            &self.ans.sns_index,
        ]);
        let mut keys: Vec<&'static str> = KEYS.to_vec();
        if let Some(c) = &self.costly {
            values.push(&c.apen);
            values.extend(spectral_values(&c.ar));
            keys.extend(COSTLY_KEYS);
        }
        keys.into_iter().zip(values)
    }

    /// The metric under `key` (one of [`KEYS`], or of [`COSTLY_KEYS`] when computed), or `None`.
    pub fn get(&self, key: &str) -> Option<&Metric> {
        self.entries().find(|(k, _)| *k == key).map(|(_, m)| m)
    }
}
