//! The daily trend of a morning value, computed by the server from the synced morning readings (the
//! account's own, or those of an athlete who granted access): GET [`crate::paths::TREND`] with a
//! [`TrendQuery`] as the URL query, answered with a [`Trend`]. The method is the desktop's (auren-hrv's
//! readiness): per day the value, its 7-day rolling mean, the normal range (the 60-day mean ± 0.5 SD) and
//! where the rolling mean stands against it.

use crate::UserId;
use serde::{Deserialize, Serialize};

/// The longest span one request may ask for (about ten years of days).
pub const MAX_TREND_DAYS: i64 = 3_660;

/// Which value of the morning readings the trend follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendMetric {
    /// Natural log of the morning RMSSD (ms).
    LnRmssd,
    /// Resting heart rate (bpm), where the reading has one.
    RestingHr,
}

impl TrendMetric {
    /// The name on the wire (`ln_rmssd`, `resting_hr`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LnRmssd => "ln_rmssd",
            Self::RestingHr => "resting_hr",
        }
    }
}

/// What a trend request asks, sent as the URL query (`?metric=ln_rmssd&from=20400&to=20489`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendQuery {
    pub metric: TrendMetric,
    /// The first day: days since 1970-01-01, as morning readings are keyed.
    pub from: i64,
    /// The last day, included: `from ..= to` spans at most [`MAX_TREND_DAYS`].
    pub to: i64,
    /// A coach reading an athlete who granted access; `None` for the account's own readings.
    #[serde(default)]
    pub athlete: Option<UserId>,
}

impl TrendQuery {
    /// The URL query of this request (the values are numbers, snake_case names and a user id: nothing to
    /// escape but what the id might hold, which is escaped).
    pub fn to_query_string(&self) -> String {
        let mut query = format!(
            "metric={}&from={}&to={}",
            self.metric.as_str(),
            self.from,
            self.to
        );
        if let Some(athlete) = &self.athlete {
            query.push_str("&athlete=");
            for b in athlete.0.bytes() {
                match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        query.push(char::from(b));
                    }
                    _ => query.push_str(&format!("%{b:02X}")),
                }
            }
        }
        query
    }
}

/// The trend of `metric` over `from ..= to`, one entry per day, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub metric: TrendMetric,
    pub from: i64,
    pub to: i64,
    pub days: Vec<TrendDay>,
}

/// One day of a trend. A value that needs more readings than there are is absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendDay {
    pub day: i64,
    /// That day's reading.
    pub value: Option<f64>,
    /// The mean of the days with a reading among the 7 ending on this one (from 3 such days).
    pub rolling_mean_7d: Option<f64>,
    /// The 60-day mean ± 0.5 SD, `[low, high]` (from 14 days with a reading).
    pub normal_range: Option<[f64; 2]>,
    /// Where the rolling mean stands against the normal range.
    pub verdict: Option<TrendVerdict>,
}

/// Where a day's rolling mean stands against the normal range (`below`, `within`, `above` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendVerdict {
    Below,
    Within,
    Above,
}
