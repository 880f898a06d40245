//! Two devices converge through the real server: a session recorded on A appears on B with the same beats,
//! gaps, contact and link changes and alerts; a tag edited on both merges field by field; repeated rounds change nothing; a coach sees
//! an athlete's sessions per athlete; tokens sit in a file only the user can read.

use crate::support::{Device, TestServer};
use auren_protocol::change::raw_to_ms;
use auren_store::{NewSession, SessionKind, Signal, Store};
use auren_sync::{CoachAccess, SignIn};

/// Records a 300-beat session on `store` (strap-like raw RR, one artifact, a gap where contact was lost, the
/// link and contact changes, a tag, an alert); returns its id.
async fn record(store: &Store) -> auren_store::SessionId {
    let id = store
        .start_session(&NewSession {
            started_at: 1_780_000_000_000,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let writer = store.session_writer(id).await.unwrap();
    writer.signal(0.0, Signal::Link, true);
    writer.signal(0.0, Signal::Contact, true);
    let mut t = 0.0;
    for i in 0..300u16 {
        let rr = raw_to_ms(800 + (i * 37) % 200);
        t += rr;
        if i == 150 {
            writer.signal(t.round(), Signal::Contact, false);
            t += 4000.0;
            writer.gap(t - 4000.0, t);
            // Two changes of one moment keep their order.
            writer.signal(t.round(), Signal::Link, false);
            writer.signal(t.round(), Signal::Contact, true);
        }
        writer.beat(t, rr, (i == 42).then_some("ectopic"));
    }
    writer.tag(1500.0, "coffee");
    writer.alert(
        120_000.0,
        "cns_fatigue",
        "warning",
        "DFA a1 low at rest",
        r#"{"values":[],"window_from_ms":60000,"window_to_ms":120000,"held_since_ms":null,"steps_at_ms":[]}"#,
    );
    writer.finish().await.unwrap();
    store.end_session(id, 1_780_000_300_000).await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_recorded_on_a_appears_on_b_and_tag_edits_merge() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let local = record(&a.store).await;

    let pushed = a.client.sync_once().await.unwrap();
    assert!(
        pushed.pushed > 0 && pushed.parked == 0 && pushed.pending == 0,
        "{pushed:?}"
    );

    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    let pulled = b.client.sync_once().await.unwrap();
    assert!(pulled.pulled > 0, "{pulled:?}");

    let on_b = b.store.sessions(10, 0).await.unwrap();
    assert_eq!(on_b.len(), 1, "one session on B");
    let (da, db) = (
        a.store.session_detail(local).await.unwrap().unwrap(),
        b.store.session_detail(on_b[0].id).await.unwrap().unwrap(),
    );
    assert_eq!(db.beats, da.beats, "the same beats, bit for bit");
    assert_eq!(db.gaps, da.gaps);
    let signals = a.store.signal_changes(local).await.unwrap();
    assert_eq!(signals.len(), 5, "{signals:?}");
    assert_eq!(
        b.store.signal_changes(on_b[0].id).await.unwrap(),
        signals,
        "the same contact and link changes, in the same order"
    );
    assert_eq!(db.artifact_counts, da.artifact_counts);
    assert_eq!(
        (
            db.session.started_at,
            db.session.ended_at,
            db.session.kind,
            db.session.beat_count
        ),
        (
            da.session.started_at,
            da.session.ended_at,
            da.session.kind,
            da.session.beat_count
        )
    );
    assert_eq!(db.alerts.len(), 1);
    assert_eq!(
        (db.alerts[0].rule.as_str(), db.alerts[0].at),
        ("cns_fatigue", da.alerts[0].at)
    );
    assert_eq!(db.tags.len(), 1);

    // Concurrent edits of one tag: A renames it, B moves it a little later; both survive.
    let (tag_a, tag_b) = (da.tags[0].id, db.tags[0].id);
    let now = auren_clock::now_unix_ms();
    a.store
        .edit_tag(tag_a, Some("coffee, double"), None, now)
        .await
        .unwrap();
    b.store
        .edit_tag(tag_b, None, Some(2500.0), now + 1)
        .await
        .unwrap();
    for device in [&a, &b, &a] {
        device.client.sync_once().await.unwrap();
    }
    for (device, session) in [(&a, local), (&b, on_b[0].id)] {
        let tags = device.store.session_detail(session).await.unwrap().unwrap().tags;
        assert_eq!(tags.len(), 1);
        assert_eq!((tags[0].name.as_str(), tags[0].at_ms), ("coffee, double", 2500.0));
    }

    // Another round on both changes nothing: no duplicate session, beats or alerts.
    for device in [&a, &b] {
        let again = device.client.sync_once().await.unwrap();
        assert_eq!((again.pushed, again.pending), (0, 0), "{again:?}");
    }
    let db2 = b.store.session_detail(on_b[0].id).await.unwrap().unwrap();
    assert_eq!((db2.beats.len(), db2.alerts.len()), (da.beats.len(), 1));
    assert_eq!(b.store.sessions(10, 0).await.unwrap().len(), 1);
    assert!(b.store.sync_cursor(None).await.unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coach_sees_the_athletes_sessions_apart_from_their_own_until_revoked() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let athlete = Device::sign_in(dir.path(), "athlete", &server, "ath@example.org", SignIn::Create).await;
    let coach = Device::sign_in(dir.path(), "coach", &server, "coach@example.org", SignIn::Create).await;
    record(&athlete.store).await;
    athlete.client.sync_once().await.unwrap();
    athlete
        .client
        .coach_access("coach@example.org", CoachAccess::Grant)
        .await
        .unwrap();

    coach.client.sync_once().await.unwrap();
    assert!(
        coach.store.sessions(10, 0).await.unwrap().is_empty(),
        "not the coach's own"
    );
    let theirs = coach
        .store
        .athlete_sessions("ath@example.org", 10, 0)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].beat_count, 300);

    athlete
        .client
        .coach_access("coach@example.org", CoachAccess::Revoke)
        .await
        .unwrap();
    assert!(coach.client.athletes().await.unwrap().athletes.is_empty());
    coach.client.sync_once().await.unwrap();
    assert!(
        coach
            .store
            .athlete_sessions("ath@example.org", 10, 0)
            .await
            .unwrap()
            .is_empty(),
        "a revoked coach's device stops showing the athlete's sessions"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_go_to_a_file_only_the_user_can_read_and_logout_removes_them() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "tok@example.org", SignIn::Create).await;
    let file = dir.path().join("a.tokens");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let db = std::fs::read(dir.path().join("a.db")).unwrap();
    let tokens = std::fs::read_to_string(&file).unwrap();
    let refresh = tokens
        .split("refresh_token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        !db.windows(refresh.len()).any(|w| w == refresh.as_bytes()),
        "no token in SQLite"
    );
    a.client.logout().await.unwrap();
    assert!(!file.exists());
    assert!(a.store.sync_account().await.unwrap().is_none());
}
