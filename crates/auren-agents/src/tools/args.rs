//! The argument types of every tool. Their JSON schemas are generated from these types (schemars), so the
//! doc comments here are what a model reads about each field. Unknown fields are refused.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hypothesis::{Direction, TestKind};

/// A metric measured once per morning (the morning readiness reading).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MorningMetric {
    /// Natural log of RMSSD (ms) of the morning reading.
    LnRmssd,
    /// RMSSD of the morning reading, ms (exp of lnRMSSD).
    RmssdMs,
    /// Resting heart rate of the morning reading, bpm.
    RestingHr,
}

impl MorningMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LnRmssd => "ln_rmssd",
            Self::RmssdMs => "rmssd_ms",
            Self::RestingHr => "resting_hr",
        }
    }

    /// How a person reads its name.
    pub fn label(self) -> &'static str {
        match self {
            Self::LnRmssd => "morning lnRMSSD",
            Self::RmssdMs => "morning RMSSD",
            Self::RestingHr => "morning resting HR",
        }
    }

    pub fn unit(self) -> crate::receipt::Unit {
        match self {
            Self::LnRmssd => crate::receipt::Unit::LnMs,
            Self::RmssdMs => crate::receipt::Unit::Ms,
            Self::RestingHr => crate::receipt::Unit::Bpm,
        }
    }

    /// This metric of a stored morning reading, when the reading has it.
    pub fn of(self, reading: &auren_store::MorningReading) -> Option<f64> {
        match self {
            Self::LnRmssd => Some(reading.ln_rmssd),
            Self::RmssdMs => Some(reading.ln_rmssd.exp()),
            Self::RestingHr => reading.resting_hr,
        }
    }
}

/// A kind of recorded session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKindArg {
    Rest,
    Morning,
    Exercise,
    Breathing,
    Other,
}

impl From<SessionKindArg> for auren_store::SessionKind {
    fn from(k: SessionKindArg) -> Self {
        match k {
            SessionKindArg::Rest => Self::Rest,
            SessionKindArg::Morning => Self::Morning,
            SessionKindArg::Exercise => Self::Exercise,
            SessionKindArg::Breathing => Self::Breathing,
            SessionKindArg::Other => Self::Other,
        }
    }
}

/// The kind of a memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKindArg {
    Fact,
    Preference,
    Goal,
    Milestone,
    Insight,
    Hypothesis,
}

impl MemoryKindArg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fact => "fact",
            Self::Preference => "preference",
            Self::Goal => "goal",
            Self::Milestone => "milestone",
            Self::Insight => "insight",
            Self::Hypothesis => "hypothesis",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetReadiness {
    /// The day, YYYY-MM-DD (UTC), or "today"/"yesterday". Today when absent.
    pub day: Option<String>,
}

/// A daily metric of the morning readings that get_trend follows: lnRMSSD, RMSSD and resting HR as stored with
/// each reading, or any metric of the HRV panel of the morning's recorded session (named as in get_session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendMetric {
    LnRmssd,
    RmssdMs,
    RestingHr,
    MeanNnMs,
    SdnnMs,
    Cvnn,
    SdsdMs,
    Pnn50Pct,
    Pnn20Pct,
    MeanHrBpm,
    SdHrBpm,
    MinHrBpm,
    MaxHrBpm,
    VlfMs2,
    LfMs2,
    HfMs2,
    TotalPowerMs2,
    LfHf,
    LfNu,
    HfNu,
    LfPeakHz,
    HfPeakHz,
    VlfRel,
    LfRel,
    HfRel,
    VlfLog,
    LfLog,
    HfLog,
    Sd1Ms,
    Sd2Ms,
    Sd2Sd1,
    Sampen,
    DfaAlpha1,
    DfaAlpha2,
    TriIndex,
    TinnMs,
    StressIndex,
    PnsIndex,
    SnsIndex,
}

/// Where a [`TrendMetric`]'s daily value is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrendSource {
    /// The stored morning reading itself.
    Reading(MorningMetric),
    /// The HRV panel of the reading's session, under this panel key.
    Panel(&'static str),
}

impl TrendMetric {
    /// Every metric, in the schema's order.
    pub const ALL: [Self; 39] = [
        Self::LnRmssd,
        Self::RmssdMs,
        Self::RestingHr,
        Self::MeanNnMs,
        Self::SdnnMs,
        Self::Cvnn,
        Self::SdsdMs,
        Self::Pnn50Pct,
        Self::Pnn20Pct,
        Self::MeanHrBpm,
        Self::SdHrBpm,
        Self::MinHrBpm,
        Self::MaxHrBpm,
        Self::VlfMs2,
        Self::LfMs2,
        Self::HfMs2,
        Self::TotalPowerMs2,
        Self::LfHf,
        Self::LfNu,
        Self::HfNu,
        Self::LfPeakHz,
        Self::HfPeakHz,
        Self::VlfRel,
        Self::LfRel,
        Self::HfRel,
        Self::VlfLog,
        Self::LfLog,
        Self::HfLog,
        Self::Sd1Ms,
        Self::Sd2Ms,
        Self::Sd2Sd1,
        Self::Sampen,
        Self::DfaAlpha1,
        Self::DfaAlpha2,
        Self::TriIndex,
        Self::TinnMs,
        Self::StressIndex,
        Self::PnsIndex,
        Self::SnsIndex,
    ];

    /// Its name in the schema (the panel key for panel metrics).
    pub fn as_str(self) -> &'static str {
        match self.source() {
            TrendSource::Reading(m) => m.as_str(),
            TrendSource::Panel(key) => key,
        }
    }

    /// Where its value comes from.
    pub fn source(self) -> TrendSource {
        use TrendSource::{Panel, Reading};
        match self {
            Self::LnRmssd => Reading(MorningMetric::LnRmssd),
            Self::RmssdMs => Reading(MorningMetric::RmssdMs),
            Self::RestingHr => Reading(MorningMetric::RestingHr),
            Self::MeanNnMs => Panel("mean_nn_ms"),
            Self::SdnnMs => Panel("sdnn_ms"),
            Self::Cvnn => Panel("cvnn"),
            Self::SdsdMs => Panel("sdsd_ms"),
            Self::Pnn50Pct => Panel("pnn50_pct"),
            Self::Pnn20Pct => Panel("pnn20_pct"),
            Self::MeanHrBpm => Panel("mean_hr_bpm"),
            Self::SdHrBpm => Panel("sd_hr_bpm"),
            Self::MinHrBpm => Panel("min_hr_bpm"),
            Self::MaxHrBpm => Panel("max_hr_bpm"),
            Self::VlfMs2 => Panel("vlf_ms2"),
            Self::LfMs2 => Panel("lf_ms2"),
            Self::HfMs2 => Panel("hf_ms2"),
            Self::TotalPowerMs2 => Panel("total_power_ms2"),
            Self::LfHf => Panel("lf_hf"),
            Self::LfNu => Panel("lf_nu"),
            Self::HfNu => Panel("hf_nu"),
            Self::LfPeakHz => Panel("lf_peak_hz"),
            Self::HfPeakHz => Panel("hf_peak_hz"),
            Self::VlfRel => Panel("vlf_rel"),
            Self::LfRel => Panel("lf_rel"),
            Self::HfRel => Panel("hf_rel"),
            Self::VlfLog => Panel("vlf_log"),
            Self::LfLog => Panel("lf_log"),
            Self::HfLog => Panel("hf_log"),
            Self::Sd1Ms => Panel("sd1_ms"),
            Self::Sd2Ms => Panel("sd2_ms"),
            Self::Sd2Sd1 => Panel("sd2_sd1"),
            Self::Sampen => Panel("sampen"),
            Self::DfaAlpha1 => Panel("dfa_alpha1"),
            Self::DfaAlpha2 => Panel("dfa_alpha2"),
            Self::TriIndex => Panel("tri_index"),
            Self::TinnMs => Panel("tinn_ms"),
            Self::StressIndex => Panel("stress_index"),
            Self::PnsIndex => Panel("pns_index"),
            Self::SnsIndex => Panel("sns_index"),
        }
    }

    /// How a person reads its name.
    pub fn label(self) -> String {
        match self.source() {
            TrendSource::Reading(m) => m.label().to_owned(),
            TrendSource::Panel(key) => format!("morning {key}"),
        }
    }

    pub fn unit(self) -> crate::receipt::Unit {
        match self.source() {
            TrendSource::Reading(m) => m.unit(),
            TrendSource::Panel(key) => super::receipts::unit_of_key(key),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTrend {
    /// ln_rmssd (default), rmssd_ms, resting_hr of the reading, or a panel metric of the morning's session.
    pub metric: Option<TrendMetric>,
    /// First day, YYYY-MM-DD; 6 days before `to` when absent (a week).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD; today when absent.
    pub to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSessions {
    /// How many sessions, most recent first (1-100); 10 when absent.
    pub limit: Option<u32>,
    /// Only sessions of this kind.
    pub kind: Option<SessionKindArg>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSession {
    /// The session id; the most recent session when absent.
    pub id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAlerts {
    /// First day, YYYY-MM-DD; 6 days before `to` when absent.
    pub from: Option<String>,
    /// Last day (included), YYYY-MM-DD; today when absent.
    pub to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComparePeriods {
    /// The metric; lnRMSSD when absent.
    pub metric: Option<MorningMetric>,
    /// First day of period A, YYYY-MM-DD.
    pub a_from: String,
    /// Last day of period A, YYYY-MM-DD.
    pub a_to: String,
    /// First day of period B, YYYY-MM-DD.
    pub b_from: String,
    /// Last day of period B, YYYY-MM-DD.
    pub b_to: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagEffect {
    /// The tag, as recorded (e.g. "alcohol", "late_meal").
    pub tag: String,
    /// The morning metric; lnRMSSD when absent.
    pub metric: Option<MorningMetric>,
    /// Days from the tagged day to the morning measured (0, 1 or 2); 1 (the next morning) when absent.
    pub lag_days: Option<u8>,
    /// First day considered, YYYY-MM-DD; 365 days before `to` when absent.
    pub from: Option<String>,
    /// Last day considered, YYYY-MM-DD; today when absent.
    pub to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recall {
    /// Words to search for.
    pub query: String,
    /// How many memories (1-50); 8 when absent.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remember {
    /// The memory, one self-contained sentence.
    pub text: String,
    /// Its kind; fact when absent.
    pub kind: Option<MemoryKindArg>,
    /// How much it matters, 0 to 1; 0.5 when absent.
    pub importance: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retract {
    /// The memory's id.
    pub id: i64,
    /// Why it no longer holds.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeHypothesis {
    /// The hypothesis in the person's words ("alcohol lowers my next-morning HRV").
    pub statement: String,
    /// The morning metric it is about.
    pub metric: MorningMetric,
    /// The tag marking exposed days (e.g. "alcohol").
    pub exposure_tag: String,
    /// Days from exposure to the morning measured (0-2); 1 when absent.
    pub lag_days: Option<u8>,
    /// The expected effect on the metric; lower when absent.
    pub direction: Option<Direction>,
    /// The test; Welch's t when absent.
    pub test: Option<TestKind>,
    /// Significance level (0.001-0.2); 0.05 when absent.
    pub alpha: Option<f64>,
    /// Minimum mornings in each group before a verdict (3-365); 8 when absent.
    pub min_n: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListHypotheses {}
