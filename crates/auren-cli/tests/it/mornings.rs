//! `auren mornings [--athlete EMAIL]` on a coach's database: the coach's own mornings and an athlete's are
//! listed apart (the same day in both, each with its own value), and an email that is no athlete of this
//! database is one clear line, not an empty list.

use crate::run::{auren, db, fails_with, json, ok, stdout};
use auren_store::{PulledSession, SessionKind, Store};

const ATHLETE: &str = "runner@example.org";

/// Today's own morning (4.4, 58 bpm) and the athlete's (3.6, 47 bpm, linked to their pulled session) and their
/// morning of 100 days ago, as `auren sync` would have left them.
fn seed(path: &std::path::Path) {
    let today = auren_clock::UnixMillis::now().day_number();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(path).await.unwrap();
        store
            .add_morning_reading(today, 4.4, Some(58.0), None)
            .await
            .unwrap();
        store
            .forget_athletes_except(&[("u-runner".into(), ATHLETE.into())])
            .await
            .unwrap();
        let mut tx = store.begin_sync().await.unwrap();
        let session = tx
            .upsert_session(
                "runner-replica:1",
                &PulledSession {
                    started_at: 1_763_700_000_000,
                    ended_at: Some(1_763_700_180_000),
                    kind: SessionKind::Morning,
                    source: "ble:AA".into(),
                    athlete: Some(ATHLETE.into()),
                },
            )
            .await
            .unwrap();
        tx.put_athlete_morning(ATHLETE, today, 3.6, Some(47.0), Some(session))
            .await
            .unwrap();
        tx.put_athlete_morning(ATHLETE, today - 100, 3.1, None, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store.close().await;
    });
}

#[test]
fn a_coach_lists_their_own_mornings_and_an_athletes_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (path, db) = db(dir.path());
    seed(&path);

    let own = json(&ok(auren(dir.path(), &["mornings", "--json", "--db", &db])));
    let own = own.as_array().unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(
        (own[0]["ln_rmssd"].as_f64(), own[0]["resting_hr"].as_f64()),
        (Some(4.4), Some(58.0))
    );

    let theirs = json(&ok(auren(
        dir.path(),
        &["mornings", "--json", "--db", &db, "--athlete", ATHLETE],
    )));
    let theirs = theirs.as_array().unwrap();
    assert_eq!(
        theirs.len(),
        1,
        "the default 60 days leave out the one of 100 days ago"
    );
    assert_eq!(
        (theirs[0]["ln_rmssd"].as_f64(), theirs[0]["resting_hr"].as_f64()),
        (Some(3.6), Some(47.0))
    );
    assert_eq!(theirs[0]["day"], own[0]["day"]);
    assert!(theirs[0]["session_id"].as_i64().is_some());

    let longer = json(&ok(auren(
        dir.path(),
        &[
            "mornings",
            "--json",
            "--days",
            "101",
            "--db",
            &db,
            "--athlete",
            ATHLETE,
        ],
    )));
    assert_eq!(longer.as_array().unwrap().len(), 2);

    let table = stdout(&ok(auren(
        dir.path(),
        &["mornings", "--db", &db, "--athlete", ATHLETE],
    )));
    assert!(table.contains("   3.60") && table.contains("47 bpm"), "{table}");

    fails_with(
        auren(
            dir.path(),
            &["mornings", "--db", &db, "--athlete", "stranger@example.org"],
        ),
        &["stranger@example.org is not an athlete", "auren sync"],
    );
    fails_with(
        auren(
            dir.path(),
            &["sessions", "--db", &db, "--athlete", "stranger@example.org"],
        ),
        &["stranger@example.org is not an athlete", "auren sync"],
    );
    let sessions = json(&ok(auren(
        dir.path(),
        &["sessions", "--json", "--db", &db, "--athlete", ATHLETE],
    )));
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
}
