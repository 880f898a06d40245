//! Readiness (HRV4Training): hand-computed cases, the one-pass daily series against the direct
//! evaluation, and properties of the verdict and the windows.

use auren_hrv::Absent;
use auren_hrv::readiness::{
    MAX_SERIES_DAYS, MorningReading, Readiness, SeriesError, Verdict, daily_series, readiness,
};
use proptest::prelude::*;

fn reading(day: i64, ln_rmssd: f64) -> MorningReading {
    MorningReading { day, ln_rmssd }
}

/// 4.2 on even days, 4.0 on odd days, over `days`, then `last_week` on days −6..=0.
fn alternating_then(days: std::ops::RangeInclusive<i64>, last_week: Option<f64>) -> Vec<MorningReading> {
    days.map(|d| {
        let v = match last_week {
            Some(v) if d >= -6 => v,
            _ if d % 2 == 0 => 4.2,
            _ => 4.0,
        };
        reading(d, v)
    })
    .collect()
}

fn near(got: &Result<f64, Absent>, want: f64) -> bool {
    matches!(got, Ok(v) if (v - want).abs() < 1e-12)
}

fn range_near(got: Option<(f64, f64)>, want: (f64, f64)) -> bool {
    matches!(got, Some((lo, hi)) if (lo - want.0).abs() < 1e-12 && (hi - want.1).abs() < 1e-12)
}

#[test]
fn within_the_normal_range() {
    let r = readiness(&alternating_then(-59..=0, None), 0);
    // 30 × 4.2 and 30 × 4.0: mean 4.1, SD = sqrt(60 · 0.01 / 59).
    let sd = (0.6f64 / 59.0).sqrt();
    assert!(near(&r.baseline_mean_60d, 4.1), "{r:?}");
    assert!(near(&r.baseline_sd_60d, sd), "{r:?}");
    assert!(
        range_near(r.normal_range, (4.1 - 0.5 * sd, 4.1 + 0.5 * sd)),
        "{r:?}"
    );
    // Last 7 days: 4 × 4.2 (days −6, −4, −2, 0) and 3 × 4.0.
    assert!(near(&r.rolling_mean_7d, 28.8 / 7.0), "{r:?}");
    assert!(near(&r.cv_7d_pct, 2.598_373_185_259_681), "{r:?}");
    // The rolling mean alternates symmetrically around day −3: no trend.
    assert!(matches!(r.trend, Ok(t) if t.abs() < 1e-12), "{r:?}");
    assert_eq!(r.verdict, Some(Verdict::Within));
    assert_eq!(r.today_ln_rmssd, Some(4.2));
}

#[test]
fn below_and_above_the_normal_range() {
    struct Case {
        last_week: f64,
        mean: f64,
        sd: f64,
        trend: f64,
        verdict: Verdict,
    }
    // Means and SDs over 26 × 4.2, 27 × 4.0 and 7 × the last week's value, by hand (awk).
    let cases = [
        Case {
            last_week: 3.7,
            mean: 4.051_666_666_666_664,
            sd: 0.159_969_983_060_029,
            // Rolling means 4.042857 … 3.7 fall by 0.4/7 a day.
            trend: -0.4 / 7.0,
            verdict: Verdict::Below,
        },
        Case {
            last_week: 4.5,
            mean: 4.144_999_999_999_999,
            sd: 0.160_955_831_397_986,
            trend: 0.4 / 7.0,
            verdict: Verdict::Above,
        },
    ];
    for case in cases {
        let r = readiness(&alternating_then(-59..=0, Some(case.last_week)), 0);
        let tol = |got: &Result<f64, Absent>, want: f64| matches!(got, Ok(v) if (v - want).abs() < 1e-9);
        assert!(tol(&r.baseline_mean_60d, case.mean), "{r:?}");
        assert!(tol(&r.baseline_sd_60d, case.sd), "{r:?}");
        assert!(tol(&r.rolling_mean_7d, case.last_week), "{r:?}");
        assert!(tol(&r.trend, case.trend), "{r:?}");
        assert!(tol(&r.cv_7d_pct, 0.0), "{r:?}");
        assert_eq!(r.verdict, Some(case.verdict), "{r:?}");
    }
}

#[test]
fn too_little_data_is_absent_with_counts() {
    struct Case {
        name: &'static str,
        readings: Vec<MorningReading>,
        rolling: Result<f64, Absent>,
        baseline: Result<f64, Absent>,
        trend_absent: Option<Absent>,
    }
    let cases = [
        Case {
            name: "nothing",
            readings: vec![],
            rolling: Err(Absent::TooFewReadings { needed: 3, got: 0 }),
            baseline: Err(Absent::TooFewReadings { needed: 14, got: 0 }),
            trend_absent: Some(Absent::TooFewReadings { needed: 3, got: 0 }),
        },
        Case {
            name: "two readings this week, ten in all",
            readings: (-30..-22)
                .map(|d| reading(d, 4.0))
                .chain([reading(-3, 4.0), reading(0, 4.4)])
                .collect(),
            rolling: Err(Absent::TooFewReadings { needed: 3, got: 2 }),
            baseline: Err(Absent::TooFewReadings { needed: 14, got: 10 }),
            trend_absent: Some(Absent::TooFewReadings { needed: 3, got: 0 }),
        },
        Case {
            name: "a ten-day gap before today: baseline yes, this week no",
            readings: (-59..=-10).map(|d| reading(d, 4.0)).collect(),
            rolling: Err(Absent::TooFewReadings { needed: 3, got: 0 }),
            baseline: Ok(4.0),
            trend_absent: Some(Absent::TooFewReadings { needed: 3, got: 1 }),
        },
        Case {
            name: "every other day: both windows have enough",
            readings: (-59..=0)
                .filter(|d| d % 2 == 0)
                .map(|d| reading(d, 4.0))
                .collect(),
            rolling: Ok(4.0),
            baseline: Ok(4.0),
            trend_absent: None,
        },
        Case {
            name: "readings after today and long before are outside every window",
            readings: (61..80).chain(-200..-120).map(|d| reading(d, 4.0)).collect(),
            rolling: Err(Absent::TooFewReadings { needed: 3, got: 0 }),
            baseline: Err(Absent::TooFewReadings { needed: 14, got: 0 }),
            trend_absent: Some(Absent::TooFewReadings { needed: 3, got: 0 }),
        },
    ];
    for case in cases {
        let r = readiness(&case.readings, 0);
        assert_eq!(r.rolling_mean_7d, case.rolling, "{}", case.name);
        assert_eq!(r.baseline_mean_60d, case.baseline, "{}", case.name);
        assert_eq!(r.trend.err(), case.trend_absent, "{}", case.name);
        assert_eq!(
            r.verdict.is_some(),
            case.rolling.is_ok() && case.baseline.is_ok(),
            "{}",
            case.name
        );
        assert_eq!(r.normal_range.is_some(), case.baseline.is_ok(), "{}", case.name);
    }
}

#[test]
fn several_readings_on_one_day_count_as_their_mean() {
    let mut readings = alternating_then(-59..=0, None);
    readings.push(reading(0, 3.0));
    readings.push(reading(0, f64::NAN));
    let r = readiness(&readings, 0);
    assert_eq!(r.today_ln_rmssd, Some(3.6));
    // Still one value for day 0 in the 7-day window: (4 × 4.2 − 4.2 + 3.6 + 3 × 4.0) / 7.
    assert!(near(&r.rolling_mean_7d, (3.0 * 4.2 + 3.6 + 12.0) / 7.0), "{r:?}");
    // The order readings arrive in does not matter.
    readings.reverse();
    assert_eq!(readiness(&readings, 0), r);
}

#[test]
fn daily_series_edges() {
    let readings = alternating_then(-100..=0, None);
    assert_eq!(daily_series(&readings, 5, 4), Ok(vec![]));
    let one = daily_series(&readings, 0, 0).expect("one day");
    assert_eq!(one.len(), 1);
    assert!(same(&one[0], &readiness(&readings, 0)), "{one:?}");
    assert_eq!(
        daily_series(&readings, 0, MAX_SERIES_DAYS),
        Err(SeriesError::TooManyDays {
            days: i128::from(MAX_SERIES_DAYS) + 1,
            max: MAX_SERIES_DAYS
        })
    );
    assert!(matches!(
        daily_series(&readings, i64::MIN, i64::MAX),
        Err(SeriesError::TooManyDays { .. })
    ));
    let series = daily_series(&readings, -40, 10).expect("51 days");
    assert_eq!(series.len(), 51);
    assert_eq!(series.first().map(|r| r.day), Some(-40));
    assert_eq!(series.last().map(|r| r.day), Some(10));
    // Ten days after the last reading the week is empty but the baseline still stands.
    let last = &series[50];
    assert_eq!(
        last.rolling_mean_7d,
        Err(Absent::TooFewReadings { needed: 3, got: 0 })
    );
    assert!(last.normal_range.is_some());
}

fn readings() -> impl Strategy<Value = Vec<MorningReading>> {
    prop::collection::vec((-120i64..30, 2.0..5.5f64), 0..150).prop_map(|v| {
        v.into_iter()
            .map(|(day, ln_rmssd)| reading(day, ln_rmssd))
            .collect()
    })
}

fn metric_close(a: &Result<f64, Absent>, b: &Result<f64, Absent>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * y.abs().max(1.0),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

fn same(a: &Readiness, b: &Readiness) -> bool {
    let range_close = match (a.normal_range, b.normal_range) {
        (Some(x), Some(y)) => (x.0 - y.0).abs() < 1e-9 && (x.1 - y.1).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };
    // A verdict may legitimately flip when the mean sits within rounding of an edge.
    let on_edge = match (&b.rolling_mean_7d, b.normal_range) {
        (Ok(m), Some((lo, hi))) => (m - lo).abs() < 1e-9 || (m - hi).abs() < 1e-9,
        _ => false,
    };
    a.day == b.day
        && a.today_ln_rmssd == b.today_ln_rmssd
        && metric_close(&a.rolling_mean_7d, &b.rolling_mean_7d)
        && metric_close(&a.baseline_mean_60d, &b.baseline_mean_60d)
        && metric_close(&a.baseline_sd_60d, &b.baseline_sd_60d)
        && metric_close(&a.cv_7d_pct, &b.cv_7d_pct)
        && metric_close(&a.trend, &b.trend)
        && range_close
        && (on_edge || a.verdict == b.verdict)
}

proptest! {
    #[test]
    fn verdict_agrees_with_the_range(readings in readings(), today in -60i64..40) {
        let r = readiness(&readings, today);
        match (&r.rolling_mean_7d, r.normal_range) {
            (Ok(m), Some((lo, hi))) => {
                prop_assert!(lo <= hi);
                let want = if *m < lo {
                    Verdict::Below
                } else if *m > hi {
                    Verdict::Above
                } else {
                    Verdict::Within
                };
                prop_assert_eq!(r.verdict, Some(want));
            }
            _ => prop_assert_eq!(r.verdict, None),
        }
    }

    #[test]
    fn readings_outside_every_window_change_nothing(
        readings in readings(),
        today in -60i64..40,
        extra in prop_oneof![1i64..500, -500i64..-59],
        value in 0.0..8.0f64,
    ) {
        // Today's windows reach back 59 days (baseline) and 12 days (trend): nothing else counts.
        let day = if extra > 0 { today + extra } else { today - 59 + extra };
        let mut more = readings.clone();
        more.push(reading(day, value));
        prop_assert_eq!(readiness(&more, today), readiness(&readings, today));
    }

    #[test]
    fn daily_series_equals_day_by_day_evaluation(
        readings in readings(),
        from in -80i64..20,
        len in 0i64..60,
    ) {
        let series = daily_series(&readings, from, from + len).expect("short span");
        prop_assert_eq!(series.len() as i64, len + 1);
        for r in &series {
            let direct = readiness(&readings, r.day);
            prop_assert!(same(r, &direct), "day {}: {:?} vs {:?}", r.day, r, direct);
        }
    }
}
