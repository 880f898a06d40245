//! Parked rows against the real server: a row the server refuses is parked with its reason — the rows after
//! it still go, the local data stays — and can be queued again (`retry_parked`); a row refused for a change
//! type the server did not list is queued again by itself once an answer lists the type.

use crate::support::{Device, TestServer, record_with_signals};
use auren_server::app::ChangeTypes;
use auren_store::{SessionId, Store};
use auren_sync::{SignIn, retry_parked};

/// 1990-01-01: before the earliest wall time the server stores (2000), as a strap with a reset clock would
/// stamp a recording.
const WRONG_CLOCK_MS: i64 = 631_152_000_000;

/// A recent start (yesterday), so the server stores it.
fn recent() -> i64 {
    auren_clock::now_unix_ms() - auren_clock::MS_PER_DAY
}

async fn count(database: &str, sql: &'static str) -> i64 {
    let pool = sqlx::PgPool::connect(database).await.unwrap();
    let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// The beats and the start of session `id` as stored locally.
async fn local(store: &Store, id: SessionId) -> (i64, usize) {
    let session = store.session(id).await.unwrap().expect("the session is kept");
    let beats = store.beats_between(id, f64::MIN, f64::MAX).await.unwrap();
    (session.started_at, beats.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_row_is_parked_with_its_reason_the_rows_after_it_go_and_the_data_stays() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let bad = record_with_signals(&a.store, WRONG_CLOCK_MS, 90).await;
    let good = record_with_signals(&a.store, recent(), 90).await;
    let before = local(&a.store, bad).await;

    let round = a.client.sync_once().await.unwrap();
    let parked = a.store.parked_rows().await.unwrap();
    assert!(round.parked > 0, "{round:?}");
    assert_eq!(round.parked, parked.len() as u64, "{parked:?}");
    assert_eq!(
        round.pending, 0,
        "nothing is left waiting behind the refused rows: {round:?}"
    );
    let reasons: Vec<(&str, &str)> = parked
        .iter()
        .map(|p| (p.kind.as_str(), p.code.as_str()))
        .collect();
    assert_eq!(
        reasons[0],
        ("session", "invalid_row"),
        "the session row is refused first: {reasons:?}"
    );
    assert!(parked[0].message.contains("started_at"), "{:?}", parked[0]);
    assert!(
        reasons
            .iter()
            .all(|r| matches!(r, ("session", "invalid_row") | (_, "unknown_session"))),
        "its beats and changes follow it: {reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r == &("beats", "unknown_session")),
        "{reasons:?}"
    );
    assert!(
        parked.iter().all(|p| p.resendable && p.waits_for_type.is_none()),
        "{parked:?}"
    );
    assert_eq!(
        local(&a.store, bad).await,
        before,
        "the refused session stays, beats and all"
    );

    // The rows after the refused ones went: the server holds the good session, and another device gets it.
    let db = &server.database;
    assert_eq!(count(db, "SELECT count(*) FROM sessions").await, 1);
    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    b.client.sync_once().await.unwrap();
    let on_b = b.store.sessions(10, 0).await.unwrap();
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(
        b.store.session(on_b[0].id).await.unwrap().unwrap().started_at,
        local(&a.store, good).await.0
    );
    assert_eq!(
        b.store
            .beats_between(on_b[0].id, f64::MIN, f64::MAX)
            .await
            .unwrap()
            .len(),
        local(&a.store, good).await.1
    );

    // Retried while the cause stands: sent again, refused again for the same reasons, parked again.
    let again = retry_parked(&a.store).await.unwrap();
    assert_eq!((again.requeued, again.kept), (parked.len() as u64, 0));
    assert!(a.store.parked_rows().await.unwrap().is_empty());
    let queued = a.store.outbox_pending(1000).await.unwrap();
    assert_eq!(queued.len(), parked.len());
    let last_parked = parked.last().unwrap().outbox_id;
    assert!(
        queued.iter().all(|r| r.id > last_parked),
        "new ids, past the server's mark"
    );
    let kinds: Vec<&str> = queued.iter().map(|r| r.kind.as_str()).collect();
    let parked_kinds: Vec<&str> = parked.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds, parked_kinds, "in their order");
    let round = a.client.sync_once().await.unwrap();
    assert_eq!(
        (round.parked, round.pending),
        (parked.len() as u64, 0),
        "{round:?}"
    );
    let reparked: Vec<(String, String)> = a
        .store
        .parked_rows()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.kind, p.code))
        .collect();
    let first: Vec<(String, String)> = parked.iter().map(|p| (p.kind.clone(), p.code.clone())).collect();
    assert_eq!(reparked, first);
    assert_eq!(local(&a.store, bad).await, before);

    // The cause fixed (the recording's start and end corrected), a retry sends everything, and it is taken.
    sqlx::query("UPDATE sessions SET started_at = ?1, ended_at = ?1 + 100000 WHERE id = ?2")
        .bind(recent() - 3_600_000)
        .bind(bad.0)
        .execute(a.store.pool())
        .await
        .unwrap();
    let fixed = retry_parked(&a.store).await.unwrap();
    assert_eq!(fixed.requeued, parked.len() as u64);
    let round = a.client.sync_once().await.unwrap();
    assert_eq!((round.parked, round.pending), (0, 0), "{round:?}");
    assert_eq!(round.pushed, parked.len() as u64, "{round:?}");
    assert!(a.store.parked_rows().await.unwrap().is_empty());
    b.client.sync_once().await.unwrap();
    let on_b = b.store.sessions(10, 0).await.unwrap();
    assert_eq!(on_b.len(), 2, "{on_b:?}");
    let mut counts: Vec<usize> = Vec::new();
    for s in &on_b {
        counts.push(
            b.store
                .beats_between(s.id, f64::MIN, f64::MAX)
                .await
                .unwrap()
                .len(),
        );
    }
    assert_eq!(counts, [before.1, before.1], "both sessions with every beat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_refused_for_a_type_the_server_did_not_list_go_again_once_it_lists_it() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    record_with_signals(&a.store, recent() - 7_200_000, 90).await;
    assert_eq!(a.client.sync_once().await.unwrap().parked, 0);

    // The server is rolled back to a version from before the list of types; the client, which remembers the
    // list of the last answer, sends the contact and link changes of the next recording, and they are refused.
    let server = server.restart_with(ChangeTypes::BeforeTheList).await;
    let second = record_with_signals(&a.store, recent(), 90).await;
    let signals = a.store.signal_changes(second).await.unwrap();
    let round = a.client.sync_once().await.unwrap();
    let parked = a.store.parked_rows().await.unwrap();
    assert!(round.parked > 0, "{round:?}");
    assert!(
        parked.iter().all(|p| p.kind == "signals"
            && p.code == "unsupported_row"
            && p.waits_for_type.as_deref() == Some("signals")),
        "{parked:?}"
    );
    assert_eq!(round.pending, 0, "{round:?}");
    let still = a.client.sync_once().await.unwrap();
    assert_eq!(
        (still.requeued, still.parked),
        (0, 0),
        "the same server: they wait"
    );
    assert_eq!(a.store.parked_rows().await.unwrap(), parked);

    // Upgraded again: the round's first answer lists the type, and the parked rows go in the same round.
    let server = server.restart_with(ChangeTypes::Current).await;
    let round = a.client.sync_once().await.unwrap();
    assert_eq!(round.requeued, parked.len() as u64, "{round:?}");
    assert_eq!((round.parked, round.pending), (0, 0), "{round:?}");
    assert!(round.pushed >= round.requeued, "{round:?}");
    assert!(a.store.parked_rows().await.unwrap().is_empty());
    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    b.client.sync_once().await.unwrap();
    let on_b = b.store.sessions(10, 0).await.unwrap();
    let newest = on_b.iter().max_by_key(|s| s.started_at).unwrap();
    assert_eq!(b.store.signal_changes(newest.id).await.unwrap(), signals);
}

#[tokio::test]
async fn a_row_parked_before_parked_rows_kept_their_pointers_stays_parked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("old.db")).await.unwrap();
    // What an older version left: the id, kind and reason, nothing of what the row pointed at.
    sqlx::query(
        "INSERT INTO sync_parked (outbox_id, kind, code, message, parked_at) \
         VALUES (7, 'signals', 'unsupported_row', 'unknown change type', 1)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let done = retry_parked(&store).await.unwrap();
    assert_eq!((done.requeued, done.kept), (0, 1));
    assert_eq!(store.outbox_len().await.unwrap(), 0);
    let parked = store.parked_rows().await.unwrap();
    assert_eq!(parked.len(), 1);
    assert!(!parked[0].resendable, "{parked:?}");
}
