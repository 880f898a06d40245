//! A coach's History per athlete, through the façade over a real database: the picker lists the coach's own
//! data and each athlete; an athlete's sessions and morning trend are theirs alone (never in the coach's
//! list or trend, and the coach's never in theirs); an athlete's session opens marked as theirs; an email that
//! is not an athlete of this account is refused.

use auren_desktop::ErrorCode;
use auren_desktop::dto::HistoryOwnerDto;
use auren_store::{NewSession, PulledSession, SessionKind, Store};
use std::path::Path;

use crate::support::{open, today};

const ATHLETE: &str = "runner@example.org";

/// The coach's own session and 10 own mornings around 4.4, and the athlete's session and 10 mornings around
/// 3.2, as a sync would have left them; returns (own session id, athlete's session id).
async fn seed(dir: &Path) -> (i64, i64) {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let own = store
        .start_session(&NewSession {
            started_at: 1_763_700_000_000,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    store.end_session(own, 1_763_700_060_000).await.unwrap();
    store
        .forget_athletes_except(&[("u-runner".into(), ATHLETE.into())])
        .await
        .unwrap();
    let mut tx = store.begin_sync().await.unwrap();
    let theirs = tx
        .upsert_session(
            "athlete-replica:7",
            &PulledSession {
                started_at: 1_763_800_000_000,
                ended_at: Some(1_763_800_180_000),
                kind: SessionKind::Morning,
                source: "ble:AA:BB".into(),
                athlete: Some(ATHLETE.into()),
            },
        )
        .await
        .unwrap();
    for k in 0..10 {
        let wobble = if k % 2 == 0 { 0.05 } else { -0.05 };
        tx.put_athlete_morning(ATHLETE, today() - k, 3.2 + wobble, Some(45.0), None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    for k in 0..10 {
        let wobble = if k % 2 == 0 { 0.05 } else { -0.05 };
        store
            .add_morning_reading(today() - k, 4.4 + wobble, Some(60.0), None)
            .await
            .unwrap();
    }
    store.close().await;
    (own.0, theirs.0)
}

#[tokio::test]
async fn a_coach_picks_an_athlete_and_sees_only_their_sessions_and_mornings() {
    let dir = tempfile::tempdir().unwrap();
    let (own, theirs) = seed(dir.path()).await;
    let desktop = open(dir.path()).await;
    let athlete = HistoryOwnerDto::Athlete {
        email: ATHLETE.into(),
    };

    assert_eq!(
        desktop.history_owners().await.unwrap(),
        [HistoryOwnerDto::Own, athlete.clone()]
    );

    let ids = |items: Vec<auren_desktop::dto::SessionListItemDto>| {
        items.iter().map(|i| i.summary.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(desktop.list_sessions(25, 0).await.unwrap()), [own]);
    let listed = desktop.athlete_sessions(ATHLETE.into(), 25, 0).await.unwrap();
    assert_eq!(ids(listed.clone()), [theirs]);
    assert_eq!(listed[0].summary.source, "ble:AA:BB");
    // A padded email (as typed) finds the same athlete.
    assert_eq!(
        ids(desktop
            .athlete_sessions(format!(" {ATHLETE} "), 25, 0)
            .await
            .unwrap()),
        [theirs]
    );

    assert_eq!(desktop.session_detail(theirs).await.unwrap().owner, athlete);
    assert_eq!(
        desktop.session_detail(own).await.unwrap().owner,
        HistoryOwnerDto::Own
    );

    let day = today();
    let their_trend = desktop.athlete_daily_trend(ATHLETE.into(), 60).await.unwrap();
    let own_trend = desktop.daily_trend(60).await.unwrap();
    let on = |trend: &[auren_engine::dto::ReadinessDto]| {
        let r = trend.iter().find(|r| r.day == day).unwrap().clone();
        (
            r.today_ln_rmssd,
            r.resting_hr,
            r.rolling_mean_7d.map(|m| (m * 100.0).round() / 100.0),
        )
    };
    assert_eq!(on(&their_trend), (Some(3.25), Some(45.0), Some(3.21)));
    assert_eq!(on(&own_trend), (Some(4.45), Some(60.0), Some(4.41)));
    assert_eq!(their_trend.len(), 60);

    for refused in [
        desktop
            .athlete_sessions("stranger@example.org".into(), 25, 0)
            .await
            .map(|_| ()),
        desktop
            .athlete_daily_trend("stranger@example.org".into(), 60)
            .await
            .map(|_| ()),
        desktop.athlete_daily_trend(ATHLETE.into(), 0).await.map(|_| ()),
    ] {
        assert_eq!(refused.unwrap_err().code(), ErrorCode::InvalidInput);
    }
}

#[tokio::test]
async fn without_athletes_the_picker_offers_only_the_coachs_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let desktop = open(dir.path()).await;
    assert_eq!(desktop.history_owners().await.unwrap(), [HistoryOwnerDto::Own]);
}
