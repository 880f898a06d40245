//! Morning readiness, the HRV4Training method: the 7-day rolling mean of morning lnRMSSD judged
//! against a personal normal range, the 60-day mean ± 0.5 SD (the smallest worthwhile change).
//!
//! Definitions (day numbers are the caller's: e.g. days since 1970-01-01 in the person's local
//! time; a "window of N days ending on D" is the days `D − N + 1 ..= D`):
//! - one value per day: the mean of that day's readings (re-takes and double imports average out
//!   instead of depending on input order); readings whose lnRMSSD is not finite are ignored;
//! - `rolling_mean_7d`: mean of the daily values in the 7-day window, from
//!   [`MIN_ROLLING_READINGS`] days with a reading;
//! - `cv_7d_pct`: 100 · SD / mean of the same values (ddof = 1), same minimum;
//! - `baseline_mean_60d`, `baseline_sd_60d` (ddof = 1): over the 60-day window (today included),
//!   from [`MIN_BASELINE_READINGS`] days with a reading; `normal_range` = mean ± 0.5 · SD;
//! - `trend`: least-squares slope (lnRMSSD per day) of the 7-day rolling mean over the last
//!   7 days, from [`MIN_TREND_POINTS`] days on which that rolling mean exists;
//! - `verdict`: the 7-day rolling mean below, within (edges included) or above the normal range.
//!
//! Too little data gives [`Absent::TooFewReadings`] (the trend counts rolling-mean days).
//! [`readiness`] evaluates one day directly; [`daily_series`] evaluates a span of days in one
//! pass over the days (sliding windows), for charts. Both give the same numbers.

use std::collections::BTreeMap;

use crate::metric::{Absent, Metric, finite};
use crate::rolling::{Aggregate, Moments, SlidingWindow};

/// Days in the rolling-mean window.
pub const ROLLING_DAYS: i64 = 7;
/// Days in the baseline window.
pub const BASELINE_DAYS: i64 = 60;
/// Fewest days with a reading for the 7-day mean and CV.
pub const MIN_ROLLING_READINGS: usize = 3;
/// Fewest days with a reading for the 60-day baseline.
pub const MIN_BASELINE_READINGS: usize = 14;
/// Fewest days (of the last 7) with a 7-day mean for the trend.
pub const MIN_TREND_POINTS: usize = 3;
/// Half-width of the normal range in baseline SDs: the smallest worthwhile change.
pub const SWC_SD: f64 = 0.5;
/// Longest span [`daily_series`] evaluates (a century of days).
pub const MAX_SERIES_DAYS: i64 = 36_525;

/// One morning measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MorningReading {
    /// Day number in the person's local calendar (the caller's choice of epoch).
    pub day: i64,
    /// Natural log of RMSSD (ms).
    pub ln_rmssd: f64,
}

/// Where the 7-day rolling mean stands against the normal range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Below,
    Within,
    Above,
}

impl Verdict {
    /// The stable snake_case name used in JSON output, the database and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Below => "below",
            Verdict::Within => "within",
            Verdict::Above => "above",
        }
    }

    fn judge(mean: f64, (lo, hi): (f64, f64)) -> Self {
        if mean < lo {
            Verdict::Below
        } else if mean > hi {
            Verdict::Above
        } else {
            Verdict::Within
        }
    }
}

/// Readiness on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub day: i64,
    /// That day's value (the mean of its readings), if any.
    pub today_ln_rmssd: Option<f64>,
    pub rolling_mean_7d: Metric,
    pub baseline_mean_60d: Metric,
    pub baseline_sd_60d: Metric,
    /// 60-day mean ± 0.5 SD.
    pub normal_range: Option<(f64, f64)>,
    pub cv_7d_pct: Metric,
    /// Slope of the 7-day rolling mean over the last 7 days, lnRMSSD per day.
    pub trend: Metric,
    pub verdict: Option<Verdict>,
}

/// Why [`daily_series`] refused a span.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    #[error("a daily series spans at most {max} days, {days} were asked for")]
    TooManyDays { days: i128, max: i64 },
}

/// One value per day (the mean of its finite readings), days ascending.
fn daily_values(readings: &[MorningReading]) -> BTreeMap<i64, f64> {
    let mut by_day: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for r in readings.iter().filter(|r| r.ln_rmssd.is_finite()) {
        by_day.entry(r.day).or_default().push(r.ln_rmssd);
    }
    by_day
        .into_iter()
        .map(|(day, mut values)| {
            // Sorted, so the mean does not depend on the order readings came in.
            values.sort_by(f64::total_cmp);
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            (day, mean)
        })
        .collect()
}

fn moments_of(values: impl Iterator<Item = f64>) -> Moments {
    values.fold(Moments::default(), |acc, v| acc.combine(Moments::of(v)))
}

/// Readiness on `today` from morning readings in any order (see the module docs).
pub fn readiness(readings: &[MorningReading], today: i64) -> Readiness {
    let daily = daily_values(readings);
    let window = |end: i64, days: i64| {
        let start = end.saturating_sub(days - 1);
        daily.range(start..=end).map(|(_, &v)| v)
    };
    let rolling_at = |end: i64| rolling_mean(&moments_of(window(end, ROLLING_DAYS)));
    let trend_points: Vec<(i64, f64)> = (0..ROLLING_DAYS)
        .map(|k| today.saturating_sub(ROLLING_DAYS - 1 - k))
        .filter_map(|d| rolling_at(d).ok().map(|m| (d, m)))
        .collect();
    assemble(
        today,
        daily.get(&today).copied(),
        &moments_of(window(today, ROLLING_DAYS)),
        &moments_of(window(today, BASELINE_DAYS)),
        &trend_points,
    )
}

/// Readiness for every day of `from_day ..= to_day` (empty when `from_day > to_day`), in
/// O(days + readings): each day slides the 7- and 60-day windows by one.
pub fn daily_series(
    readings: &[MorningReading],
    from_day: i64,
    to_day: i64,
) -> Result<Vec<Readiness>, SeriesError> {
    if from_day > to_day {
        return Ok(Vec::new());
    }
    let days = i128::from(to_day) - i128::from(from_day) + 1;
    if days > i128::from(MAX_SERIES_DAYS) {
        return Err(SeriesError::TooManyDays {
            days,
            max: MAX_SERIES_DAYS,
        });
    }

    let daily = daily_values(readings);
    // The 60-day window of the first day reaches furthest back; the trend's earliest rolling mean
    // (6 days back, 7 days wide) stays inside it.
    let start = from_day.saturating_sub(BASELINE_DAYS - 1);
    let mut values = daily.range(start..=to_day).peekable();
    let mut week: SlidingWindow<Moments> = SlidingWindow::default();
    let mut baseline: SlidingWindow<Moments> = SlidingWindow::default();
    // The 7-day rolling means of the last 7 days, oldest first.
    let mut recent_means: std::collections::VecDeque<(i64, Option<f64>)> =
        std::collections::VecDeque::with_capacity(ROLLING_DAYS as usize);
    let mut out = Vec::with_capacity(usize::try_from(days).unwrap_or(0));

    let mut day = start;
    loop {
        let today_value = match values.peek() {
            Some(&(&d, &v)) if d == day => {
                values.next();
                week.push(day as f64, Moments::of(v));
                baseline.push(day as f64, Moments::of(v));
                Some(v)
            }
            _ => None,
        };
        week.evict_before(day.saturating_sub(ROLLING_DAYS - 1) as f64);
        baseline.evict_before(day.saturating_sub(BASELINE_DAYS - 1) as f64);

        let week_total = week.total();
        if recent_means.len() == ROLLING_DAYS as usize {
            recent_means.pop_front();
        }
        recent_means.push_back((day, rolling_mean(&week_total).ok()));

        if day >= from_day {
            let points: Vec<(i64, f64)> = recent_means
                .iter()
                .filter_map(|&(d, m)| m.map(|m| (d, m)))
                .collect();
            out.push(assemble(
                day,
                today_value,
                &week_total,
                &baseline.total(),
                &points,
            ));
        }
        if day == to_day {
            break;
        }
        day += 1;
    }
    Ok(out)
}

fn rolling_mean(week: &Moments) -> Metric {
    if week.n < MIN_ROLLING_READINGS {
        return Err(Absent::TooFewReadings {
            needed: MIN_ROLLING_READINGS,
            got: week.n,
        });
    }
    finite(week.mean, "7-day mean is not finite")
}

fn assemble(
    day: i64,
    today_ln_rmssd: Option<f64>,
    week: &Moments,
    baseline: &Moments,
    trend_points: &[(i64, f64)],
) -> Readiness {
    let rolling_mean_7d = rolling_mean(week);
    let cv_7d_pct = rolling_mean_7d.clone().and_then(|mean| {
        if mean <= 0.0 {
            return Err(Absent::Undefined("CV needs a positive mean lnRMSSD"));
        }
        let sd = week.variance().map_or(0.0, f64::sqrt);
        finite(100.0 * sd / mean, "CV is not finite")
    });

    let (baseline_mean_60d, baseline_sd_60d) = if baseline.n < MIN_BASELINE_READINGS {
        let absent = Absent::TooFewReadings {
            needed: MIN_BASELINE_READINGS,
            got: baseline.n,
        };
        (Err(absent.clone()), Err(absent))
    } else {
        (
            finite(baseline.mean, "60-day mean is not finite"),
            finite(
                baseline.variance().map_or(0.0, f64::sqrt),
                "60-day SD is not finite",
            ),
        )
    };
    let normal_range = match (&baseline_mean_60d, &baseline_sd_60d) {
        (Ok(mean), Ok(sd)) => Some((mean - SWC_SD * sd, mean + SWC_SD * sd)),
        _ => None,
    };
    let verdict = match (&rolling_mean_7d, normal_range) {
        (Ok(mean), Some(range)) => Some(Verdict::judge(*mean, range)),
        _ => None,
    };

    Readiness {
        day,
        today_ln_rmssd,
        rolling_mean_7d,
        baseline_mean_60d,
        baseline_sd_60d,
        normal_range,
        cv_7d_pct,
        trend: slope(trend_points),
        verdict,
    }
}

/// Least-squares slope of `(day, value)` points, days relative to the last one.
fn slope(points: &[(i64, f64)]) -> Metric {
    if points.len() < MIN_TREND_POINTS {
        return Err(Absent::TooFewReadings {
            needed: MIN_TREND_POINTS,
            got: points.len(),
        });
    }
    let last = points.last().map_or(0, |p| p.0);
    let xs: Vec<f64> = points.iter().map(|p| (p.0 - last) as f64).collect();
    let n = points.len() as f64;
    let x_mean = xs.iter().sum::<f64>() / n;
    let y_mean = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, p) in xs.iter().zip(points) {
        sxy += (x - x_mean) * (p.1 - y_mean);
        sxx += (x - x_mean) * (x - x_mean);
    }
    finite(sxy / sxx, "trend is not finite")
}
