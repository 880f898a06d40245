//! The guided morning reading over seeded stored readings: lnRMSSD stored, baselines updated, the
//! verdict against the personal normal range; the queries over the same readings.

use auren_cep::{Baselines, DEFAULT_RULES, compile};
use auren_engine::EngineError;
use auren_engine::dto::VerdictDto;
use auren_engine::morning::{MORNING_READING_MS, MorningConfig, morning_reading};
use auren_engine::query;
use auren_store::SessionId;
use auren_strap::Pace;
use auren_strap::simulator::Scenario;
use tokio_util::sync::CancellationToken;

use crate::session::{STARTED_AT, simulator, store};

const TODAY: i64 = 20_413;

fn config() -> MorningConfig {
    MorningConfig {
        day: TODAY,
        started_at_unix_ms: STARTED_AT,
        rules: compile(DEFAULT_RULES).unwrap(),
        baselines: Baselines::new(),
        strap: None,
    }
}

#[tokio::test]
async fn morning_reading_judges_today_against_the_seeded_normal_range() {
    // 59 seeded mornings alternating ±0.05 around `seeded`; today a `fatigued` reading (lnRMSSD
    // about 2.3): far below a range around 4.0, far above one around 1.0.
    let cases = [(4.0, VerdictDto::Below), (1.0, VerdictDto::Above)];
    for (seeded, verdict) in cases {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        for k in 1..=59 {
            let ln = seeded + if k % 2 == 0 { 0.05 } else { -0.05 };
            store
                .add_morning_reading(TODAY - k, ln, Some(58.0 + (k % 3) as f64), None)
                .await
                .unwrap();
        }
        // Endless source: the reading stops itself after 3 minutes of session time.
        let source = simulator(Scenario::Fatigued, None, Pace::AsFastAsPossible);
        let result = morning_reading(&store, source, config(), CancellationToken::new())
            .await
            .unwrap();
        assert!((1.8..2.9).contains(&result.ln_rmssd), "{}", result.ln_rmssd);
        assert!((68.0..76.0).contains(&result.resting_hr.unwrap()));
        assert_eq!(result.readiness.verdict, Some(verdict), "seeded {seeded}");
        assert_eq!(result.readiness.today_ln_rmssd, Some(result.ln_rmssd));

        let session = store
            .session(SessionId(result.session_id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.kind.as_str(), "morning");
        assert_eq!(session.ended_at, Some(STARTED_AT + MORNING_READING_MS as i64));
        let stored = store.morning_readings(TODAY, TODAY).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].ln_rmssd, result.ln_rmssd);
        assert_eq!(stored[0].session, Some(SessionId(result.session_id)));

        let baseline = store.baseline("ln_rmssd", TODAY).await.unwrap().unwrap();
        assert_eq!(baseline.n, 60);
        assert_eq!(Some(baseline.mean), result.readiness.baseline_mean_60d);
        let rules_see = query::baselines(&store, TODAY).await.unwrap();
        let (lo, hi) = result.readiness.normal_range.unwrap();
        assert_eq!(rules_see.ln_rmssd_lo, Some(lo));
        assert_eq!(rules_see.ln_rmssd_hi, Some(hi));
        assert!(rules_see.resting_hr.is_some());

        let trend = query::daily_trend(&store, TODAY - 6, TODAY).await.unwrap();
        assert_eq!(trend.len(), 7);
        let last = trend.last().unwrap();
        assert_eq!(last.verdict, result.readiness.verdict);
        assert_eq!(last.normal_range, result.readiness.normal_range);
        assert_eq!(last.resting_hr, result.resting_hr);
        // The sliding series and the one-day evaluation agree to rounding.
        let (a, b) = (last.cv_7d_pct.unwrap(), result.readiness.cv_7d_pct.unwrap());
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
}

#[tokio::test]
async fn a_reading_cut_short_stores_no_reading() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // The source ends after 60 s, before the 3 minutes.
    let source = simulator(Scenario::Rest, Some(60), Pace::AsFastAsPossible);
    let err = morning_reading(&store, source, config(), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::ReadingIncomplete { needed_s: 180, .. }),
        "{err}"
    );
    assert!(store.morning_readings(TODAY, TODAY).await.unwrap().is_empty());
}
