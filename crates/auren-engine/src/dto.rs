//! The types the engine hands to the UI, the CLI and agents: serde-serialisable, flat, with stable
//! snake_case names, and built from the domain types by explicit conversions (never the domain
//! types themselves, so a change inside auren-hrv or auren-cep does not silently change a wire shape).

use auren_cep::{Alert, Evidence};
use auren_hrv::Metric;
use serde::{Deserialize, Serialize};

/// A metric value, or why it is missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MetricDto {
    pub key: String,
    pub value: Option<f64>,
    /// Why `value` is missing ("needs at least 64 beats, got 20").
    pub absent: Option<String>,
}

impl MetricDto {
    pub fn from_metric(key: &str, metric: &Metric) -> Self {
        match metric {
            Ok(value) => Self {
                key: key.to_owned(),
                value: Some(*value),
                absent: None,
            },
            Err(why) => Self {
                key: key.to_owned(),
                value: None,
                absent: Some(why.to_string()),
            },
        }
    }
}

/// One value an alert's rule read when it fired, by its text in the rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EvidenceValueDto {
    pub name: String,
    pub value: f64,
}

/// Why an alert fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EvidenceDto {
    pub values: Vec<EvidenceValueDto>,
    /// The span of session time (ms) the evidence covers.
    pub window_from_ms: i64,
    pub window_to_ms: i64,
    pub held_since_ms: Option<i64>,
    pub steps_at_ms: Vec<i64>,
}

impl From<&Evidence> for EvidenceDto {
    fn from(e: &Evidence) -> Self {
        Self {
            values: e
                .values
                .iter()
                .map(|(name, value)| EvidenceValueDto {
                    name: name.clone(),
                    value: *value,
                })
                .collect(),
            window_from_ms: e.window.0,
            window_to_ms: e.window.1,
            held_since_ms: e.held_since_ms,
            steps_at_ms: e.steps_at_ms.clone(),
        }
    }
}

/// An alert raised in a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertDto {
    /// The stored alert's id (absent in live updates, before it is written).
    pub id: Option<i64>,
    pub session_id: Option<i64>,
    pub rule: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// Session time, ms.
    pub at_ms: i64,
    /// Wall time, Unix ms.
    pub at_unix_ms: i64,
    pub message: String,
    pub evidence: EvidenceDto,
}

impl AlertDto {
    /// A live alert of a session that started at `started_at_unix_ms`.
    pub fn live(alert: &Alert, session_id: Option<i64>, started_at_unix_ms: i64) -> Self {
        Self {
            id: None,
            session_id,
            rule: alert.rule.clone(),
            severity: alert.severity.as_str().to_owned(),
            at_ms: alert.at_ms,
            at_unix_ms: started_at_unix_ms.saturating_add(alert.at_ms),
            message: alert.message.clone(),
            evidence: EvidenceDto::from(&alert.evidence),
        }
    }
}

/// One beat as the UI draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BeatDto {
    /// Session time of the beat, ms.
    pub at_ms: f64,
    pub rr_ms: f64,
    /// `ectopic`, `missed`, `extra`, `long_short`, or none.
    pub artifact: Option<String>,
}

/// The state of the strap link as the UI shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LinkDto {
    Connecting,
    Connected,
    Reconnecting,
    Disconnected,
}

/// The windowed HRV values of a live session at one moment (absent until their window has enough beats).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LiveMetricsDto {
    pub rmssd_60s: Option<f64>,
    pub rmssd_5m: Option<f64>,
    pub sdnn_60s: Option<f64>,
    pub sdnn_5m: Option<f64>,
    pub mean_hr_60s: Option<f64>,
    pub pnn50_60s: Option<f64>,
    pub ln_rmssd: Option<f64>,
    pub dfa_alpha1: Option<f64>,
}

/// One update to subscribers of a live session: at most ten per second of session time; beats and
/// alerts since the previous update ride along so nothing is lost to the throttle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LiveUpdateDto {
    pub session_id: Option<i64>,
    /// Session time, ms.
    pub at_ms: i64,
    pub heart_rate_bpm: Option<u16>,
    pub contact: Option<bool>,
    pub link: LinkDto,
    pub battery_percent: Option<u8>,
    pub metrics: LiveMetricsDto,
    pub beats: Vec<BeatDto>,
    pub alerts: Vec<AlertDto>,
    pub beats_total: u64,
    pub artifacts_total: u64,
    /// The last update of the session.
    pub ended: bool,
}

/// A session in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionSummaryDto {
    pub id: i64,
    pub started_at_unix_ms: i64,
    pub ended_at_unix_ms: Option<i64>,
    /// `rest`, `morning`, `exercise`, `breathing`, `other`.
    pub kind: String,
    pub source: String,
    pub strap_address: Option<String>,
    pub beat_count: i64,
    pub artifact_count: i64,
    /// From the first to the last beat, s.
    pub duration_s: Option<f64>,
}

/// One recorded interval without beats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GapDto {
    pub from_ms: f64,
    pub to_ms: f64,
}

/// A session with its full HRV panel, computed from the stored RR after artifact correction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionDetailDto {
    pub summary: SessionSummaryDto,
    /// Intervals analysed after correction (the panel's `n_beats`).
    pub n_beats_corrected: usize,
    /// Every metric under the reference key names, in the panel's order.
    pub panel: Vec<MetricDto>,
    pub gaps: Vec<GapDto>,
    pub alerts: Vec<AlertDto>,
}

/// Readiness on one day (the HRV4Training method).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReadinessDto {
    pub day: i64,
    pub today_ln_rmssd: Option<f64>,
    pub rolling_mean_7d: Option<f64>,
    pub baseline_mean_60d: Option<f64>,
    pub baseline_sd_60d: Option<f64>,
    pub normal_range: Option<(f64, f64)>,
    pub cv_7d_pct: Option<f64>,
    /// lnRMSSD per day.
    pub trend: Option<f64>,
    /// `below`, `within`, `above`; none until there are enough readings.
    pub verdict: Option<String>,
    pub resting_hr: Option<f64>,
}

impl From<&auren_hrv::readiness::Readiness> for ReadinessDto {
    fn from(r: &auren_hrv::readiness::Readiness) -> Self {
        Self {
            day: r.day,
            today_ln_rmssd: r.today_ln_rmssd,
            rolling_mean_7d: r.rolling_mean_7d.clone().ok(),
            baseline_mean_60d: r.baseline_mean_60d.clone().ok(),
            baseline_sd_60d: r.baseline_sd_60d.clone().ok(),
            normal_range: r.normal_range,
            cv_7d_pct: r.cv_7d_pct.clone().ok(),
            trend: r.trend.clone().ok(),
            verdict: r.verdict.map(|v| v.as_str().to_owned()),
            resting_hr: None,
        }
    }
}

/// The outcome of a guided morning reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MorningResultDto {
    pub session_id: i64,
    pub day: i64,
    /// ln of the RMSSD of the artifact-corrected reading.
    pub ln_rmssd: f64,
    pub rmssd_ms: f64,
    pub resting_hr: Option<f64>,
    pub beats: usize,
    pub artifacts: usize,
    pub readiness: ReadinessDto,
}

/// The person's baselines as the rules see them (`baseline.<name>`); absent ones are unknown to rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BaselinesDto {
    pub ln_rmssd_lo: Option<f64>,
    pub ln_rmssd_hi: Option<f64>,
    pub ln_rmssd_mean: Option<f64>,
    pub resting_hr: Option<f64>,
    pub max_hr: Option<f64>,
    pub hr_ceiling: Option<f64>,
    pub aerobic_threshold_hr: Option<f64>,
}

impl From<&auren_cep::Baselines> for BaselinesDto {
    fn from(b: &auren_cep::Baselines) -> Self {
        use auren_cep::BaselineField as F;
        Self {
            ln_rmssd_lo: b.get(F::LnRmssdLo),
            ln_rmssd_hi: b.get(F::LnRmssdHi),
            ln_rmssd_mean: b.get(F::LnRmssdMean),
            resting_hr: b.get(F::RestingHr),
            max_hr: b.get(F::MaxHr),
            hr_ceiling: b.get(F::HrCeiling),
            aerobic_threshold_hr: b.get(F::AerobicThresholdHr),
        }
    }
}

impl From<&BaselinesDto> for auren_cep::Baselines {
    fn from(d: &BaselinesDto) -> Self {
        use auren_cep::BaselineField as F;
        let mut b = auren_cep::Baselines::new();
        let pairs = [
            (F::LnRmssdLo, d.ln_rmssd_lo),
            (F::LnRmssdHi, d.ln_rmssd_hi),
            (F::LnRmssdMean, d.ln_rmssd_mean),
            (F::RestingHr, d.resting_hr),
            (F::MaxHr, d.max_hr),
            (F::HrCeiling, d.hr_ceiling),
            (F::AerobicThresholdHr, d.aerobic_threshold_hr),
        ];
        for (field, value) in pairs {
            if let Some(v) = value {
                b.set(field, v);
            }
        }
        b
    }
}
