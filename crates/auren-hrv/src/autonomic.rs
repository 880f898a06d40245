//! Kubios's PNS and SNS indices: how many standard deviations a recording's parasympathetic and
//! sympathetic markers lie from the normal values of healthy adults at rest.
//!
//! - PNS index: z-scores of mean RR, RMSSD and SD1 (%) — each higher with more vagal activity.
//! - SNS index: z-scores of mean HR, the stress index (Kubios's square-root form) and SD2 (%) — the
//!   SD2 term enters with its sign reversed, because more sympathetic drive lowers SD2.
//!
//! Kubios combines the three z-scores with weights it does not publish (Kubios, "HRV and ANS
//! function", kubios.com). **Auren weights them equally (the plain mean of the three z-scores)**:
//! the indices keep Kubios's meaning (0 = the population average, ±1 = one SD) but their decimals
//! will differ from Kubios's.
//!
//! Normal values: Nunan, Sandercock & Brodie (2010), "A quantitative systematic review of normal
//! values for short-term heart rate variability in healthy adults", Pacing Clin Electrophysiol
//! 33(11):1407–1417 — mean RR 926 ± 90 ms, SDNN 50 ± 16 ms, RMSSD 42 ± 15 ms (mean ± SD over the
//! pooled studies). The review gives no SD1, SD2, mean HR or stress index, so those four are derived
//! from its three values as each [`Normal::source`] says; none of them is a published number.
//! SD1 (%) and SD2 (%) are SD1 and SD2 as a percentage of mean RR ("normalised units").
//!
//! The normals describe short-term (about 5-minute) resting recordings; the panel computes the
//! indices for any recording, but only such a recording is compared like with like.

use crate::metric::{Metric, finite};

/// Where a normal value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Printed in Nunan et al. (2010).
    Published,
    /// Computed from the published values by the formula the note gives.
    Derived,
}

/// One marker's normal value: population mean and SD, and how it was obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normal {
    pub mean: f64,
    pub sd: f64,
    pub provenance: Provenance,
    pub source: &'static str,
}

impl Normal {
    /// How many SDs `value` lies above the normal mean.
    pub fn z(&self, value: f64) -> f64 {
        (value - self.mean) / self.sd
    }
}

/// Published in Nunan et al. (2010).
pub const MEAN_RR_MS: Normal = Normal {
    mean: 926.0,
    sd: 90.0,
    provenance: Provenance::Published,
    source: "Nunan et al. 2010: mean RR 926 ± 90 ms",
};
/// Published in Nunan et al. (2010).
pub const SDNN_MS: Normal = Normal {
    mean: 50.0,
    sd: 16.0,
    provenance: Provenance::Published,
    source: "Nunan et al. 2010: SDNN 50 ± 16 ms",
};
/// Published in Nunan et al. (2010).
pub const RMSSD_MS: Normal = Normal {
    mean: 42.0,
    sd: 15.0,
    provenance: Provenance::Published,
    source: "Nunan et al. 2010: RMSSD 42 ± 15 ms",
};
/// SD1 = RMSSD/√2 (exact when the successive differences average zero): 29.70 ± 10.61 ms, as a
/// percentage of the normal mean RR.
pub const SD1_PCT: Normal = Normal {
    mean: 3.207_179_785_079_373,
    sd: 1.145_421_351_814_061_7,
    provenance: Provenance::Derived,
    source: "derived: 100 · (RMSSD/√2) / mean RR from Nunan et al. 2010",
};
/// SD2 = √(2·SDNN² − ½·RMSSD²) = 64.17 ms; its SD by first-order error propagation from SDNN's and
/// RMSSD's SDs taken as independent (25.41 ms); both as a percentage of the normal mean RR.
pub const SD2_PCT: Normal = Normal {
    mean: 6.929_983_242_822_654,
    sd: 2.744_248_178_982_567,
    provenance: Provenance::Derived,
    source: "derived: 100 · √(2·SDNN² − ½·RMSSD²) / mean RR from Nunan et al. 2010",
};
/// Mean HR = 60000 / mean RR = 64.79 bpm; SD by first-order propagation, 60000 · 90 / 926².
pub const MEAN_HR_BPM: Normal = Normal {
    mean: 64.794_816_414_686_82,
    sd: 6.297_552_351_319_454,
    provenance: Provenance::Derived,
    source: "derived: 60000 / mean RR from Nunan et al. 2010",
};
/// Kubios's √SI for a Gaussian RR distribution with Nunan's mean RR and SDNN σ: AMo = erf(25/(σ√2))
/// (the 50 ms modal bin centred on the mean), Mo = 926 ms, MxDMn = 6σ (the expected range of about
/// 300 beats), giving 8.30 at σ = 50 ms; the SD is half the spread between σ = 34 and 66 ms (one
/// SDNN SD either side): (11.93 − 6.34) / 2. The weakest of the six normals: a model, not a survey.
pub const STRESS_INDEX_SQRT: Normal = Normal {
    mean: 8.301_865_596_409_897,
    sd: 2.793_739_184_194_992,
    provenance: Provenance::Derived,
    source: "derived: √SI of a Gaussian RR histogram with Nunan et al. 2010's mean RR and SDNN",
};

/// The PNS and SNS indices of one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsIndices {
    pub pns_index: Metric,
    pub sns_index: Metric,
}

/// The markers the indices are built from, each already computed (or absent with its reason).
#[derive(Debug, Clone, PartialEq)]
pub struct AnsMarkers {
    pub mean_rr_ms: Metric,
    pub rmssd_ms: Metric,
    pub sd1_ms: Metric,
    pub sd2_ms: Metric,
    /// Kubios's square-root stress index ([`crate::geometric::stress_index_kubios`]).
    pub stress_index_sqrt: Metric,
}

/// PNS = mean of z(mean RR), z(RMSSD), z(SD1 %); SNS = mean of z(mean HR), z(√SI), −z(SD2 %); mean HR
/// is 60000 / mean RR. An absent marker makes its index absent with the marker's reason.
pub fn ans_indices(m: &AnsMarkers) -> AnsIndices {
    let pns = || -> Metric {
        let mean_rr = m.mean_rr_ms.clone()?;
        let sd1_pct = 100.0 * m.sd1_ms.clone()? / mean_rr;
        let z = [
            MEAN_RR_MS.z(mean_rr),
            RMSSD_MS.z(m.rmssd_ms.clone()?),
            SD1_PCT.z(sd1_pct),
        ];
        finite(z.iter().sum::<f64>() / 3.0, "PNS index overflowed")
    };
    let sns = || -> Metric {
        let mean_rr = m.mean_rr_ms.clone()?;
        let sd2_pct = 100.0 * m.sd2_ms.clone()? / mean_rr;
        let z = [
            MEAN_HR_BPM.z(60_000.0 / mean_rr),
            STRESS_INDEX_SQRT.z(m.stress_index_sqrt.clone()?),
            -SD2_PCT.z(sd2_pct),
        ];
        finite(z.iter().sum::<f64>() / 3.0, "SNS index overflowed")
    };
    AnsIndices {
        pns_index: pns(),
        sns_index: sns(),
    }
}
