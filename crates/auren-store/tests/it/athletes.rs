//! A coach's copies of athletes' data on a real SQLite file: an athlete's morning is kept apart from the
//! coach's own (same day, both kept, neither read by the other's queries), every write to an athlete's session
//! is refused, the picker's athlete list follows the grants, and a revoked athlete's copies go.

use auren_store::{
    MorningReading, NewSession, PulledSession, SessionId, SessionKind, Store, StoreError, athlete_morning_key,
};

const ATHLETE: &str = "ath@example.org";
const DAY: i64 = 20_400;

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("coach.db")).await.expect("open");
    (dir, store)
}

/// Stores athlete `email`'s session as a pull does, with one tag; returns its id.
async fn pull_athlete_session(store: &Store, email: &str, key: &str) -> SessionId {
    let mut tx = store.begin_sync().await.expect("sync tx");
    let id = tx
        .upsert_session(
            key,
            &PulledSession {
                started_at: 1_763_700_000_000,
                ended_at: Some(1_763_700_300_000),
                kind: SessionKind::Morning,
                source: "ble:AA".into(),
                athlete: Some(email.to_owned()),
            },
        )
        .await
        .expect("session");
    tx.put_tag(&format!("{key}-tag"), id, 1_000.0, "coffee")
        .await
        .expect("tag");
    tx.put_athlete_morning(email, DAY, 3.7, Some(48.0), Some(id))
        .await
        .expect("athlete morning");
    tx.commit().await.expect("commit");
    id
}

#[tokio::test]
async fn an_athletes_morning_is_kept_apart_from_the_coachs_own_of_the_same_day() {
    let (_dir, store) = open().await;
    store
        .add_morning_reading(DAY, 4.2, Some(55.0), None)
        .await
        .expect("own");
    let theirs = pull_athlete_session(&store, ATHLETE, "r1:1").await;

    assert_eq!(
        store.morning_readings(DAY, DAY).await.expect("own"),
        vec![MorningReading {
            day: DAY,
            ln_rmssd: 4.2,
            resting_hr: Some(55.0),
            session: None,
        }],
        "the coach's own readings, trend and normal range never see the athlete's"
    );
    assert_eq!(
        store
            .athlete_morning_readings(ATHLETE, DAY - 5, DAY + 5)
            .await
            .expect("theirs"),
        vec![MorningReading {
            day: DAY,
            ln_rmssd: 3.7,
            resting_hr: Some(48.0),
            session: Some(theirs),
        }]
    );
    assert!(
        store
            .athlete_morning_readings("other@example.org", DAY, DAY)
            .await
            .expect("other")
            .is_empty()
    );
    // A second pull of the same day replaces the copy, not the coach's reading.
    let mut tx = store.begin_sync().await.expect("tx");
    tx.put_athlete_morning(ATHLETE, DAY, 3.9, None, None)
        .await
        .expect("replace");
    tx.commit().await.expect("commit");
    let theirs = store
        .athlete_morning_readings(ATHLETE, DAY, DAY)
        .await
        .expect("theirs");
    assert_eq!((theirs.len(), theirs[0].ln_rmssd), (1, 3.9));
    assert_eq!(store.daily_trend(DAY, DAY).await.expect("trend")[0].ln_rmssd, 4.2);
}

#[tokio::test]
async fn every_write_to_an_athletes_session_is_refused_and_changes_nothing() {
    let (_dir, store) = open().await;
    let theirs = pull_athlete_session(&store, ATHLETE, "r1:1").await;
    let tag = store
        .session_detail(theirs)
        .await
        .expect("detail")
        .expect("there")
        .tags[0]
        .id;
    let outbox_before = store.outbox_len().await.expect("outbox");

    let refusals: Vec<(&str, Result<(), StoreError>)> = vec![
        ("end", store.end_session(theirs, 1_763_700_400_000).await),
        ("note", store.set_session_note(theirs, Some("mine now"), 1).await),
        ("tag edit", store.edit_tag(tag, Some("tea"), None, 1).await),
        ("tag delete", store.delete_tag(tag, 1).await),
        (
            "own morning on it",
            store.add_morning_reading(DAY, 4.0, None, Some(theirs)).await,
        ),
        ("writer", store.session_writer(theirs).await.map(|_| ())),
    ];
    for (what, result) in refusals {
        match result {
            Err(StoreError::AthleteReadOnly { session, athlete }) => {
                assert_eq!((session, athlete.as_str()), (theirs.0, ATHLETE), "{what}");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }

    let after = store
        .session_detail(theirs)
        .await
        .expect("detail")
        .expect("there");
    assert_eq!(after.session.ended_at, Some(1_763_700_300_000));
    assert_eq!(after.session.label, None);
    assert_eq!(after.session.athlete.as_deref(), Some(ATHLETE));
    assert_eq!((after.tags.len(), after.tags[0].name.as_str()), (1, "coffee"));
    assert!(store.morning_readings(DAY, DAY).await.expect("own").is_empty());
    assert_eq!(
        store.outbox_len().await.expect("outbox"),
        outbox_before,
        "nothing queued to push"
    );

    // The coach's own session takes the same edits.
    let own = store
        .start_session(&NewSession {
            started_at: 1_763_700_000_000,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .expect("own");
    store
        .set_session_note(own, Some("easy"), 1)
        .await
        .expect("own note");
    store.end_session(own, 1_763_700_100_000).await.expect("own end");
    assert_eq!(
        store.session(own).await.expect("row").expect("there").athlete,
        None
    );
}

#[tokio::test]
async fn the_athlete_list_follows_the_grants_and_a_revoked_athletes_copies_go() {
    let (_dir, store) = open().await;
    assert!(store.athletes().await.expect("none").is_empty());
    // Granted, nothing pulled yet: the picker lists them already.
    store
        .forget_athletes_except(&[("u-b".into(), "b@example.org".into())])
        .await
        .expect("grants");
    assert_eq!(store.athletes().await.expect("list"), ["b@example.org"]);

    pull_athlete_session(&store, ATHLETE, "r1:1").await;
    pull_athlete_session(&store, "b@example.org", "r2:1").await;
    let mut tx = store.begin_sync().await.expect("tx");
    tx.put_field(
        (
            auren_store::ATHLETE_MORNING_COLLECTION,
            &athlete_morning_key(ATHLETE, DAY),
            "reading",
        ),
        "{}",
        &auren_store::Stamp {
            wall_ms: 1,
            counter: 0,
            device: "d".into(),
        },
    )
    .await
    .expect("field");
    tx.commit().await.expect("commit");
    assert_eq!(
        store.athletes().await.expect("list"),
        [ATHLETE, "b@example.org"],
        "sorted; an athlete with stored copies is listed even before the grant list names them"
    );

    let removed = store
        .forget_athletes_except(&[("u-b".into(), "b@example.org".into())])
        .await
        .expect("revoke");
    assert_eq!(removed, 1);
    assert_eq!(store.athletes().await.expect("list"), ["b@example.org"]);
    assert!(
        store
            .athlete_morning_readings(ATHLETE, DAY, DAY)
            .await
            .expect("gone")
            .is_empty()
    );
    assert!(
        store
            .sync_fields_of(
                auren_store::ATHLETE_MORNING_COLLECTION,
                &athlete_morning_key(ATHLETE, DAY)
            )
            .await
            .expect("fields")
            .is_empty(),
        "a revoked athlete's morning stamps go too"
    );
    assert_eq!(
        store
            .athlete_morning_readings("b@example.org", DAY, DAY)
            .await
            .expect("kept")
            .len(),
        1
    );
}
