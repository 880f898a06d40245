//! The person's baselines as the rules see them (`baseline.<name>`), from their morning readings: one
//! function for the desktop (auren-engine's `query::baselines`) and the server's alert consumer, so a rule
//! that compares with the normal range (`cns_fatigue`) fires on both alike.
//!
//! - `ln_rmssd_lo`, `ln_rmssd_hi`, `ln_rmssd_mean`: the normal range of morning lnRMSSD on the day (the
//!   60-day mean ± 0.5 SD, today's reading included) and its mean, as readiness computes them
//!   (`auren_hrv::readiness`);
//! - `resting_hr`: the 60-day mean of morning resting HR ending on the latest reading day that has two
//!   values in its window, which is what the desktop stores after each reading.
//!
//! Profile values (max HR, HR ceiling, aerobic threshold HR) are not derived from readings; the caller adds
//! them.

use auren_hrv::readiness::{self, BASELINE_DAYS};

use crate::{BaselineField, Baselines};

/// Days of readings, ending on the day asked about, that [`morning_baselines`] reads: the 60-day window of
/// the latest reading day and of a reading day up to 60 days before it. Callers load this span.
pub const MORNING_SPAN_DAYS: i64 = 2 * BASELINE_DAYS;

/// Resting-HR values a 60-day window needs before it is a baseline (the SD needs two).
const MIN_RESTING_HR_VALUES: usize = 2;

/// One morning reading, as the rules' baselines need it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorningValues {
    /// Day number (days since 1970-01-01, UTC).
    pub day: i64,
    pub ln_rmssd: f64,
    pub resting_hr: Option<f64>,
}

/// The baselines on `day` from `readings` (any order; readings after `day` or more than
/// [`MORNING_SPAN_DAYS`] before it are left out). Too few readings leave a value absent.
pub fn morning_baselines(readings: &[MorningValues], day: i64) -> Baselines {
    let first = day.saturating_sub(MORNING_SPAN_DAYS - 1);
    let in_span: Vec<MorningValues> = readings
        .iter()
        .filter(|r| (first..=day).contains(&r.day))
        .copied()
        .collect();
    let hrv: Vec<readiness::MorningReading> = in_span
        .iter()
        .map(|r| readiness::MorningReading {
            day: r.day,
            ln_rmssd: r.ln_rmssd,
        })
        .collect();
    let r = readiness::readiness(&hrv, day);
    let mut out = Baselines::new();
    if let Some((lo, hi)) = r.normal_range {
        out.set(BaselineField::LnRmssdLo, lo);
        out.set(BaselineField::LnRmssdHi, hi);
    }
    if let Ok(mean) = r.baseline_mean_60d {
        out.set(BaselineField::LnRmssdMean, mean);
    }
    if let Some((mean, _)) = resting_hr_as_of(&in_span, day) {
        out.set(BaselineField::RestingHr, mean);
    }
    out
}

/// The 60-day mean and SD (ddof 1) of `values`, from two values on.
pub fn resting_hr_baseline(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < MIN_RESTING_HR_VALUES {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Some((mean, sd))
}

/// The resting-HR baseline of the latest reading day up to `day` whose 60-day window holds enough values.
fn resting_hr_as_of(readings: &[MorningValues], day: i64) -> Option<(f64, f64)> {
    let mut days: Vec<i64> = readings
        .iter()
        .filter(|r| r.day <= day && r.resting_hr.is_some())
        .map(|r| r.day)
        .collect();
    days.sort_unstable();
    days.dedup();
    days.iter().rev().find_map(|&end| {
        let start = end.saturating_sub(BASELINE_DAYS - 1);
        let values: Vec<f64> = readings
            .iter()
            .filter(|r| (start..=end).contains(&r.day))
            .filter_map(|r| r.resting_hr)
            .filter(|v| v.is_finite())
            .collect();
        resting_hr_baseline(&values)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(days: std::ops::RangeInclusive<i64>, resting_hr: Option<f64>) -> Vec<MorningValues> {
        days.map(|day| MorningValues {
            day,
            ln_rmssd: 4.0 + if day % 2 == 0 { 0.1 } else { -0.1 },
            resting_hr,
        })
        .collect()
    }

    #[test]
    fn baselines_come_from_the_readings_up_to_the_day() {
        // (what, readings, day, expected lo, expected resting HR)
        type Case = (&'static str, Vec<MorningValues>, i64, Option<f64>, Option<f64>);
        let sd = {
            let v: Vec<f64> = readings(1..=59, None).iter().map(|r| r.ln_rmssd).collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
        };
        let mean = {
            let v: Vec<f64> = readings(1..=59, None).iter().map(|r| r.ln_rmssd).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let table: [Case; 5] = [
            ("no readings", Vec::new(), 100, None, None),
            (
                "too few for a range",
                readings(90..=99, Some(55.0)),
                100,
                None,
                Some(55.0),
            ),
            (
                "59 readings before the day",
                readings(1..=59, Some(50.0)),
                60,
                Some(mean - 0.5 * sd),
                Some(50.0),
            ),
            (
                "readings after the day are left out",
                readings(61..=120, Some(50.0)),
                60,
                None,
                None,
            ),
            (
                "one resting HR is no baseline",
                readings(99..=99, Some(50.0)),
                100,
                None,
                None,
            ),
        ];
        for (what, readings, day, lo, resting) in table {
            let b = morning_baselines(&readings, day);
            match (b.get(BaselineField::LnRmssdLo), lo) {
                (Some(got), Some(want)) => assert!((got - want).abs() < 1e-12, "{what}: {got} vs {want}"),
                (got, want) => assert_eq!(got, want, "{what}"),
            }
            assert_eq!(b.get(BaselineField::RestingHr), resting, "{what}");
        }
    }

    #[test]
    fn the_resting_hr_baseline_is_that_of_the_latest_reading_day() {
        let mut r = readings(1..=10, Some(50.0));
        r.extend(readings(11..=20, Some(60.0)));
        // On day 30 the latest reading day is 20: its window holds days 1–20.
        let b = morning_baselines(&r, 30);
        assert_eq!(b.get(BaselineField::RestingHr), Some(55.0));
        // As of day 10, only the first ten count.
        assert_eq!(
            morning_baselines(&r, 10).get(BaselineField::RestingHr),
            Some(50.0)
        );
    }
}
