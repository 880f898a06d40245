//! The types the engine hands to the UI, the CLI and agents: serde-serialisable, flat, with stable
//! snake_case names, and built from the domain types by explicit conversions (never the domain
//! types themselves, so a change inside auren-hrv or auren-cep does not silently change a wire shape).

use auren_cep::{Alert, Evidence, Severity};
use auren_hrv::artifacts::ArtifactKind;
use auren_hrv::readiness::Verdict;
use auren_hrv::{Absent, Metric};
use serde::{Deserialize, Serialize};

/// How serious an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SeverityDto {
    Info,
    Warning,
    Critical,
}

impl From<Severity> for SeverityDto {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Info => Self::Info,
            Severity::Warning => Self::Warning,
            Severity::Critical => Self::Critical,
        }
    }
}

impl SeverityDto {
    /// The severity stored as `name` (the words of [`Severity::as_str`]), if it is one.
    pub fn from_stored(name: &str) -> Option<Self> {
        [Self::Info, Self::Warning, Self::Critical]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// The wire and database word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// The kind of an artifact label (Lipponen & Tarvainen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKindDto {
    Ectopic,
    Missed,
    Extra,
    LongShort,
}

impl From<ArtifactKind> for ArtifactKindDto {
    fn from(k: ArtifactKind) -> Self {
        match k {
            ArtifactKind::Ectopic => Self::Ectopic,
            ArtifactKind::Missed => Self::Missed,
            ArtifactKind::Extra => Self::Extra,
            ArtifactKind::LongShort => Self::LongShort,
        }
    }
}

impl ArtifactKindDto {
    pub const ALL: [Self; 4] = [Self::Ectopic, Self::Missed, Self::Extra, Self::LongShort];

    /// The label stored as `name` (the words of [`ArtifactKind::as_str`]), if it is one.
    pub fn from_stored(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The wire and database word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ectopic => "ectopic",
            Self::Missed => "missed",
            Self::Extra => "extra",
            Self::LongShort => "long_short",
        }
    }
}

/// What a session was recorded as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SessionKindDto {
    Rest,
    Morning,
    Exercise,
    Breathing,
    Other,
}

impl From<auren_store::SessionKind> for SessionKindDto {
    fn from(k: auren_store::SessionKind) -> Self {
        use auren_store::SessionKind as K;
        match k {
            K::Rest => Self::Rest,
            K::Morning => Self::Morning,
            K::Exercise => Self::Exercise,
            K::Breathing => Self::Breathing,
            K::Other => Self::Other,
        }
    }
}

impl From<SessionKindDto> for auren_cep::SessionKind {
    fn from(k: SessionKindDto) -> Self {
        match k {
            SessionKindDto::Rest => Self::Rest,
            SessionKindDto::Morning => Self::Morning,
            SessionKindDto::Exercise => Self::Exercise,
            SessionKindDto::Breathing => Self::Breathing,
            SessionKindDto::Other => Self::Other,
        }
    }
}

/// Where the 7-day lnRMSSD mean lies against the normal range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum VerdictDto {
    Below,
    Within,
    Above,
}

impl From<Verdict> for VerdictDto {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Below => Self::Below,
            Verdict::Within => Self::Within,
            Verdict::Above => Self::Above,
        }
    }
}

/// Why a metric has no value: the closed set of auren-hrv's `Absent`, without its numbers (those are
/// in the message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AbsentReasonDto {
    TooFewBeats,
    TooShort,
    ZeroVariance,
    Undefined,
    TooFewReadings,
    InvalidRr,
}

/// A missing metric value: the reason to switch on and the sentence to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AbsentDto {
    pub reason: AbsentReasonDto,
    /// "needs at least 64 beats, got 20".
    pub message: String,
}

impl From<&Absent> for AbsentDto {
    fn from(why: &Absent) -> Self {
        let reason = match why {
            Absent::TooFewBeats { .. } => AbsentReasonDto::TooFewBeats,
            Absent::TooShort { .. } => AbsentReasonDto::TooShort,
            Absent::ZeroVariance => AbsentReasonDto::ZeroVariance,
            Absent::Undefined(_) => AbsentReasonDto::Undefined,
            Absent::TooFewReadings { .. } => AbsentReasonDto::TooFewReadings,
            Absent::InvalidRr { .. } => AbsentReasonDto::InvalidRr,
        };
        Self {
            reason,
            message: why.to_string(),
        }
    }
}

/// A metric value, or why it is missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MetricDto {
    pub key: String,
    pub value: Option<f64>,
    /// Why `value` is missing.
    pub absent: Option<AbsentDto>,
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
                absent: Some(AbsentDto::from(why)),
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
    pub severity: SeverityDto,
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
            severity: SeverityDto::from(alert.severity),
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
    /// Position in the session's raw beat series (0-based, across gaps): the key corrections refer to.
    pub index: u64,
    /// Session time of the beat, ms.
    pub at_ms: f64,
    pub rr_ms: f64,
    /// The artifact label, or none for a normal beat. In a live update this is the provisional label
    /// (a check on the beats so far); [`LiveUpdateDto::corrections`] revises it when the final one differs.
    pub artifact: Option<ArtifactKindDto>,
}

impl BeatDto {
    /// A stored beat at `index` of its session. A label the store holds that is not an artifact kind
    /// (only this engine writes labels, so none is expected) is logged and shown as a normal beat.
    pub fn stored(index: u64, row: &auren_store::BeatRow) -> Self {
        let artifact = row.artifact.as_deref().and_then(|name| {
            let kind = ArtifactKindDto::from_stored(name);
            if kind.is_none() {
                tracing::warn!(label = name, index, "a stored beat has an unknown artifact label");
            }
            kind
        });
        Self {
            index,
            at_ms: row.t_ms,
            rr_ms: row.rr_ms,
            artifact,
        }
    }
}

/// A beat whose final label differs from the provisional one sent with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LabelCorrectionDto {
    /// The beat's [`BeatDto::index`].
    pub index: u64,
    /// Its final label.
    pub artifact: Option<ArtifactKindDto>,
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

/// One update to subscribers of a live source: at most ten per second of session time; beats, label
/// corrections and alerts since the previous update ride along so nothing is lost to the throttle.
///
/// Beats arrive at once with a provisional label; each beat's final label is known once 16 more beats
/// have followed it (see `labeller`). `confirmed_through` says how far the final labels reach and
/// `corrections` lists those that differ from what was sent, so a client keeps beats by index and
/// revises them in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LiveUpdateDto {
    /// None while monitoring (nothing is stored yet); the session's id once recording.
    pub session_id: Option<i64>,
    /// Session time, ms.
    pub at_ms: i64,
    pub heart_rate_bpm: Option<u16>,
    pub contact: Option<bool>,
    pub link: LinkDto,
    pub battery_percent: Option<u8>,
    pub metrics: LiveMetricsDto,
    /// New beats, with provisional labels.
    pub beats: Vec<BeatDto>,
    /// Every beat with `index <= confirmed_through` has its final label; none yet when absent.
    pub confirmed_through: Option<u64>,
    /// Final labels that differ from the provisional ones sent (only beats newly confirmed).
    pub corrections: Vec<LabelCorrectionDto>,
    pub alerts: Vec<AlertDto>,
    pub beats_total: u64,
    /// Beats with a final artifact label so far.
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
    pub kind: SessionKindDto,
    pub source: String,
    pub strap_address: Option<String>,
    pub beat_count: i64,
    pub artifact_count: i64,
    /// From the first to the last beat, s.
    pub duration_s: Option<f64>,
}

/// Where a session's recording stands when asked — History, `auren sessions`, the agents' tools. A session
/// without an end time is shown for what is known — still being recorded, or no end recorded and nothing
/// stored for 10 minutes (the engine's `UNENDED_SESSION_QUIET_MS`): most likely stopped (a killed app, a
/// device that died), though an end may still arrive by sync — never as ended: its end is not guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionEndDto {
    /// Ended at this wall time.
    Ended { at_unix_ms: i64 },
    /// Being recorded: by the asking app now, or elsewhere (its last beat is under 10 minutes old).
    Recording,
    /// No end time and nothing stored for 10 minutes: most likely stopped without being ended. Its length
    /// (`duration_s`) runs to the last beat.
    NoEndRecorded {
        /// The last stored beat's wall time; `null` when the session stored no beat.
        last_beat_at_unix_ms: Option<i64>,
    },
}

impl SessionEndDto {
    /// Where `row` stands at `now_unix_ms` by the store's rule over the engine's quiet span, the session
    /// `here` names (the one the asking process records) staying recording.
    pub fn of(row: &auren_store::SessionRow, now_unix_ms: i64, here: auren_store::RecordingHere) -> Self {
        Self::from(row.status(now_unix_ms, crate::panels::UNENDED_SESSION_QUIET_MS, here))
    }
}

impl From<auren_store::SessionStatus> for SessionEndDto {
    fn from(status: auren_store::SessionStatus) -> Self {
        use auren_store::{LastBeat, SessionStatus};
        match status {
            SessionStatus::Ended { at } => Self::Ended { at_unix_ms: at },
            SessionStatus::Recording => Self::Recording,
            SessionStatus::NoEndRecorded { last_beat } => Self::NoEndRecorded {
                last_beat_at_unix_ms: match last_beat {
                    LastBeat::At(at) => Some(at),
                    LastBeat::NoBeats => None,
                },
            },
        }
    }
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
    /// None until there are enough readings.
    pub verdict: Option<VerdictDto>,
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
            verdict: r.verdict.map(VerdictDto::from),
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
