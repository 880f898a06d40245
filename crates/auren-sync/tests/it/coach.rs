//! A coach's device through the real server: it pulls an athlete's morning readings and keeps them as that
//! athlete's, apart from the coach's own mornings of the same day (which stay the coach's, unstamped by the
//! athlete's clock); a retake on the athlete's side replaces the copy; revoking access removes it.

use crate::support::{Device, TestServer};
use auren_store::{MorningReading, NewSession, SessionKind};
use auren_sync::{CoachAccess, SignIn};

const DAY: i64 = 20_400;
const ATHLETE: &str = "runner@example.org";
const COACH: &str = "trainer@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coach_keeps_an_athletes_mornings_apart_from_their_own() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let athlete = Device::sign_in(dir.path(), "athlete", &server, ATHLETE, SignIn::Create).await;
    let coach = Device::sign_in(dir.path(), "coach", &server, COACH, SignIn::Create).await;

    let morning = athlete
        .store
        .start_session(&NewSession {
            started_at: 1_763_700_000_000,
            kind: SessionKind::Morning,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    athlete
        .store
        .end_session(morning, 1_763_700_180_000)
        .await
        .unwrap();
    athlete
        .store
        .add_morning_reading(DAY, 3.6, Some(47.0), Some(morning))
        .await
        .unwrap();
    athlete.client.sync_once().await.unwrap();
    athlete
        .client
        .coach_access(COACH, CoachAccess::Grant)
        .await
        .unwrap();
    // The coach's own reading of the same day, taken after the athlete's (a later stamp would win a merge).
    coach
        .store
        .add_morning_reading(DAY, 4.4, Some(58.0), None)
        .await
        .unwrap();

    coach.client.sync_once().await.unwrap();
    let own = vec![MorningReading {
        day: DAY,
        ln_rmssd: 4.4,
        resting_hr: Some(58.0),
        session: None,
    }];
    assert_eq!(coach.store.morning_readings(DAY - 1, DAY + 1).await.unwrap(), own);
    let theirs = coach
        .store
        .athlete_morning_readings(ATHLETE, DAY - 1, DAY + 1)
        .await
        .unwrap();
    let their_session = coach.store.athlete_sessions(ATHLETE, 10, 0).await.unwrap();
    assert_eq!(their_session.len(), 1);
    assert_eq!(
        theirs,
        vec![MorningReading {
            day: DAY,
            ln_rmssd: 3.6,
            resting_hr: Some(47.0),
            session: Some(their_session[0].id),
        }],
        "kept, and linked to the athlete's pulled session"
    );
    assert_eq!(coach.store.athletes().await.unwrap(), [ATHLETE]);

    // A retake on the athlete's device replaces the coach's copy; the coach's own reading stays.
    athlete
        .store
        .add_morning_reading(DAY, 3.8, None, None)
        .await
        .unwrap();
    athlete.client.sync_once().await.unwrap();
    coach.client.sync_once().await.unwrap();
    let theirs = coach
        .store
        .athlete_morning_readings(ATHLETE, DAY, DAY)
        .await
        .unwrap();
    assert_eq!((theirs[0].ln_rmssd, theirs[0].resting_hr), (3.8, None));
    assert_eq!(coach.store.morning_readings(DAY, DAY).await.unwrap(), own);
    // And the athlete's own device never receives the coach's reading.
    athlete.client.sync_once().await.unwrap();
    assert_eq!(
        athlete.store.morning_readings(DAY, DAY).await.unwrap()[0].ln_rmssd,
        3.8
    );

    athlete
        .client
        .coach_access(COACH, CoachAccess::Revoke)
        .await
        .unwrap();
    coach.client.sync_once().await.unwrap();
    assert!(
        coach
            .store
            .athlete_morning_readings(ATHLETE, DAY, DAY)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(coach.store.athletes().await.unwrap().is_empty());
    assert_eq!(coach.store.morning_readings(DAY, DAY).await.unwrap(), own);
}
