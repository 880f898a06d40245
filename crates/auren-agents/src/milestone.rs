//! Milestones, detected by code from the morning readings: a new 60-day high of the 7-day mean lnRMSSD,
//! a run of N mornings in a row, a return to the normal range after days below it.

use serde::Serialize;

use crate::receipt::{Receipt, ReceiptId, ReceiptValue, Source, Unit};
use crate::tools::days::format_day;

/// What was reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MilestoneKind {
    /// The 7-day mean lnRMSSD is the highest of the last 60 days.
    SixtyDayHigh { rolling_mean_7d: f64 },
    /// A reading every morning for `days` days, ending on the day.
    Streak { days: u32 },
    /// The 7-day mean is back within the normal range after `days_below` days below it.
    BackInRange { days_below: u32 },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Milestone {
    pub day: i64,
    pub kind: MilestoneKind,
    /// A sentence for the person (numbers formatted from the values above).
    pub text: String,
}

/// Streak lengths worth a milestone.
pub const STREAKS: [u32; 7] = [7, 14, 30, 60, 90, 180, 365];
/// Days of rolling means a 60-day high needs behind it (a week of data is no "high").
const HIGH_MIN_HISTORY: usize = 30;
const HIGH_WINDOW: i64 = 60;
const MIN_DAYS_BELOW: u32 = 3;

/// One day of the readiness series the detector reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DayPoint {
    pub day: i64,
    /// Whether that morning has a reading.
    pub has_reading: bool,
    pub rolling_mean_7d: Option<f64>,
    pub normal_range: Option<(f64, f64)>,
}

/// The milestones reached on `day`, from the series of days up to it (any order, at most one per day).
pub fn detect(series: &[DayPoint], day: i64) -> Vec<Milestone> {
    let mut points: Vec<&DayPoint> = series.iter().filter(|p| p.day <= day).collect();
    points.sort_by_key(|p| p.day);
    let mut out = Vec::new();
    let Some(today) = points.last().filter(|p| p.day == day) else {
        return out;
    };
    // Streak: consecutive days with a reading, ending today.
    let mut streak = 0u32;
    let mut expect = day;
    for p in points.iter().rev() {
        if p.day != expect || !p.has_reading {
            break;
        }
        streak += 1;
        expect -= 1;
    }
    if STREAKS.contains(&streak) {
        out.push(Milestone {
            day,
            kind: MilestoneKind::Streak { days: streak },
            text: format!("{streak} morning readings in a row, up to {}", format_day(day)),
        });
    }
    if let Some(mean) = today.rolling_mean_7d {
        let earlier: Vec<f64> = points
            .iter()
            .filter(|p| p.day < day && p.day > day - HIGH_WINDOW)
            .filter_map(|p| p.rolling_mean_7d)
            .collect();
        if earlier.len() >= HIGH_MIN_HISTORY && earlier.iter().all(|&m| mean > m) {
            out.push(Milestone {
                day,
                kind: MilestoneKind::SixtyDayHigh {
                    rolling_mean_7d: mean,
                },
                text: format!("the 7-day mean lnRMSSD ({mean:.2}) is the highest of the last 60 days"),
            });
        }
        let within = |p: &DayPoint| p.rolling_mean_7d.zip(p.normal_range).map(|(m, (lo, _))| m >= lo);
        if within(today) == Some(true) {
            let below = points
                .iter()
                .rev()
                .skip(1)
                .take_while(|p| within(p) == Some(false))
                .count() as u32;
            if below >= MIN_DAYS_BELOW {
                out.push(Milestone {
                    day,
                    kind: MilestoneKind::BackInRange { days_below: below },
                    text: format!(
                        "the 7-day mean lnRMSSD is back in the normal range after {below} days below it"
                    ),
                });
            }
        }
    }
    out
}

/// The milestones of `day` from the stored readings.
pub async fn detect_in_store(
    store: &auren_store::Store,
    day: i64,
) -> Result<Vec<Milestone>, auren_engine::EngineError> {
    let from = day - (HIGH_WINDOW + 400);
    let series = auren_engine::query::daily_trend(store, from.max(day - 399), day).await?;
    let points: Vec<DayPoint> = series
        .iter()
        .map(|r| DayPoint {
            day: r.day,
            has_reading: r.today_ln_rmssd.is_some(),
            rolling_mean_7d: r.rolling_mean_7d,
            normal_range: r.normal_range,
        })
        .collect();
    Ok(detect(&points, day))
}

impl Milestone {
    /// The milestone's identity: one per kind (and streak length) per day, so detecting it again — on the
    /// next refresh, or on another device that pulled the same mornings — is recognised as the same one.
    pub fn key(&self) -> String {
        let what = match self.kind {
            MilestoneKind::SixtyDayHigh { .. } => "60-day-high".to_owned(),
            MilestoneKind::Streak { days } => format!("streak-{days}"),
            MilestoneKind::BackInRange { .. } => "back-in-range".to_owned(),
        };
        format!("milestone-{what}-{}", format_day(self.day))
    }

    /// The record of what was computed: the days it read and the value reached, under the id
    /// `r-` + [`Milestone::key`] (the milestone memory's provenance).
    pub fn receipt(&self) -> Receipt {
        let date = Some(format_day(self.day));
        let (computed, first, value, unit, label) = match self.kind {
            MilestoneKind::SixtyDayHigh { rolling_mean_7d } => (
                "a new 60-day high of the 7-day mean lnRMSSD",
                self.day - (HIGH_WINDOW - 1),
                rolling_mean_7d,
                Unit::LnMs,
                "7-day mean lnRMSSD",
            ),
            MilestoneKind::Streak { days } => (
                "morning readings in a row",
                self.day - (i64::from(days) - 1),
                f64::from(days),
                Unit::Plain,
                "mornings in a row",
            ),
            MilestoneKind::BackInRange { days_below } => (
                "the 7-day mean lnRMSSD back in the normal range",
                self.day - i64::from(days_below),
                f64::from(days_below),
                Unit::Plain,
                "days below the normal range before",
            ),
        };
        Receipt {
            id: ReceiptId(format!("r-{}", self.key())),
            tool: "detect_milestones".to_owned(),
            computed: format!("{computed}, reached on {}", format_day(self.day)),
            method: "the daily readiness series (7-day rolling mean of the morning lnRMSSD, 60-day normal \
                     range) read by the milestone detector"
                .to_owned(),
            sources: (first..=self.day)
                .map(|d| Source::Day { date: format_day(d) })
                .collect(),
            values: vec![ReceiptValue {
                label: label.to_owned(),
                value,
                unit,
                day: date,
            }],
        }
    }
}
