//! The full HRV panel of one recording: every metric under the reference key names.

use crate::frequency::{self, Spectral, SpectrumMethod};
use crate::geometric::{self, Geometric};
use crate::metric::{Metric, check_rr};
use crate::nonlinear::{self, Nonlinear};
use crate::time_domain::{self, TimeDomain};

/// How the panel is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PanelOptions {
    /// Welch (the reference pipeline, default) or Lomb–Scargle.
    pub spectrum: SpectrumMethod,
}

/// Every metric of one NN series, grouped by family.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Intervals analysed (the reference's `n_beats`; not a float, so not among [`Panel::entries`]).
    pub n_beats: usize,
    pub time: TimeDomain,
    pub frequency: Spectral,
    pub nonlinear: Nonlinear,
    pub geometric: Geometric,
}

/// The metric keys in [`Panel::entries`] order: time domain, frequency, nonlinear, geometric.
pub const KEYS: [&str; 31] = [
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
    "sd1_ms",
    "sd2_ms",
    "sd2_sd1",
    "sampen",
    "dfa_alpha1",
    "dfa_alpha2",
    "tri_index",
    "tinn_ms",
    "stress_index",
];

/// The panel of `rr` (NN intervals in ms, already artifact-corrected).
///
/// Input containing a value that is not a positive finite number is refused as a whole: every
/// metric is [`crate::Absent::InvalidRr`] naming the first bad index (`n_beats` still counts the
/// input). Otherwise each metric is a finite value or the reason it is absent; nothing panics.
/// The mean, SDs and successive differences are computed once and shared across families.
pub fn analyze(rr: &[f64], options: &PanelOptions) -> Panel {
    if let Err(why) = check_rr(rr) {
        return Panel {
            n_beats: rr.len(),
            time: TimeDomain::absent(why.clone()),
            frequency: Spectral::absent(why.clone()),
            nonlinear: Nonlinear::absent(why.clone()),
            geometric: Geometric::absent(why),
        };
    }
    let time = time_domain::time_domain_checked(rr);
    let nonlinear = nonlinear::nonlinear_checked(rr, &time);
    Panel {
        n_beats: rr.len(),
        frequency: frequency::spectral_checked(rr, options.spectrum),
        geometric: geometric::geometric_checked(rr),
        nonlinear,
        time,
    }
}

impl Panel {
    /// Every float metric with its reference key, in [`KEYS`] order.
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &Metric)> {
        let (t, f, n, g) = (&self.time, &self.frequency, &self.nonlinear, &self.geometric);
        let values: [&Metric; 31] = [
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
            &f.vlf_ms2,
            &f.lf_ms2,
            &f.hf_ms2,
            &f.total_power_ms2,
            &f.lf_hf,
            &f.lf_nu,
            &f.hf_nu,
            &f.lf_peak_hz,
            &f.hf_peak_hz,
            &n.sd1_ms,
            &n.sd2_ms,
            &n.sd2_sd1,
            &n.sampen,
            &n.dfa_alpha1,
            &n.dfa_alpha2,
            &g.tri_index,
            &g.tinn_ms,
            &g.stress_index,
        ];
        KEYS.into_iter().zip(values)
    }

    /// The metric under `key` (one of [`KEYS`]), or `None` for an unknown key.
    pub fn get(&self, key: &str) -> Option<&Metric> {
        self.entries().find(|(k, _)| *k == key).map(|(_, m)| m)
    }
}
