//! Morning readings, the daily trend read from them, and baselines: round trips, replacement of a retaken
//! reading, day ranges, and refusal of values that are not numbers.

use auren_store::{Baseline, DailyTrendRow, MorningReading, NewSession, SessionKind, Store};

#[tokio::test]
async fn readings_and_trend_round_trip_by_day_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    let session = store
        .start_session(&NewSession {
            started_at: 1_763_700_000_000,
            kind: SessionKind::Morning,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .expect("session");
    let readings = [
        (20_400, 4.10, Some(52.0), None),
        (20_401, 3.95, None, None),
        (20_403, 4.30, Some(49.5), Some(session)),
    ];
    for (day, ln, hr, s) in readings {
        store.add_morning_reading(day, ln, hr, s).await.expect("reading");
    }
    // A retake replaces the day's reading.
    store
        .add_morning_reading(20_401, 3.90, Some(55.0), None)
        .await
        .expect("retake");

    let cases = [
        ((20_400, 20_403), vec![20_400, 20_401, 20_403]),
        ((20_401, 20_402), vec![20_401]),
        ((20_404, 20_500), vec![]),
        ((20_403, 20_400), vec![]),
    ];
    for ((from, to), days) in cases {
        let trend = store.daily_trend(from, to).await.expect("trend");
        assert_eq!(
            trend.iter().map(|r| r.day).collect::<Vec<_>>(),
            days,
            "days {from}..={to}"
        );
    }
    assert_eq!(
        store.daily_trend(20_400, 20_403).await.expect("trend"),
        vec![
            DailyTrendRow {
                day: 20_400,
                ln_rmssd: 4.10,
                resting_hr: Some(52.0)
            },
            DailyTrendRow {
                day: 20_401,
                ln_rmssd: 3.90,
                resting_hr: Some(55.0)
            },
            DailyTrendRow {
                day: 20_403,
                ln_rmssd: 4.30,
                resting_hr: Some(49.5)
            },
        ]
    );
    assert_eq!(
        store.morning_readings(20_403, 20_403).await.expect("readings"),
        vec![MorningReading {
            day: 20_403,
            ln_rmssd: 4.30,
            resting_hr: Some(49.5),
            session: Some(session)
        }]
    );
}

#[tokio::test]
async fn baselines_are_found_as_of_a_day_and_bad_ones_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    let baseline = |day, mean, sd, n| Baseline {
        metric: "ln_rmssd_60d".into(),
        day,
        mean,
        sd,
        n,
    };
    store
        .put_baseline(&baseline(20_400, 4.0, 0.2, 60))
        .await
        .expect("put");
    store
        .put_baseline(&baseline(20_410, 4.1, 0.25, 60))
        .await
        .expect("put");
    store
        .put_baseline(&baseline(20_410, 4.2, 0.3, 61))
        .await
        .expect("replace");

    let cases = [
        (20_399, None),
        (20_400, Some(baseline(20_400, 4.0, 0.2, 60))),
        (20_409, Some(baseline(20_400, 4.0, 0.2, 60))),
        (20_500, Some(baseline(20_410, 4.2, 0.3, 61))),
    ];
    for (day, expected) in cases {
        assert_eq!(
            store.baseline("ln_rmssd_60d", day).await.expect("get"),
            expected,
            "as of {day}"
        );
    }
    assert_eq!(store.baseline("resting_hr_60d", 20_500).await.expect("get"), None);

    let refused = [
        (
            baseline(20_420, f64::NAN, 0.2, 60),
            "baseline mean must be a finite number",
        ),
        (baseline(20_420, 4.0, -0.1, 60), "invalid baseline"),
        (baseline(20_420, 4.0, 0.1, -1), "invalid baseline"),
        (
            Baseline {
                metric: String::new(),
                ..baseline(20_420, 4.0, 0.1, 1)
            },
            "invalid baseline",
        ),
    ];
    for (bad, expected) in refused {
        let error = store.put_baseline(&bad).await.expect_err(expected).to_string();
        assert!(error.contains(expected), "{error:?}");
    }
    assert_eq!(
        store.baseline("ln_rmssd_60d", 20_500).await.expect("get"),
        Some(baseline(20_410, 4.2, 0.3, 61)),
        "refused baselines stored nothing"
    );
}
