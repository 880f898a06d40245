//! A new device against an older server: rows of a change type the server does not list (contact and link
//! changes, `signals`, against a server from before the list) are held back — not sent, not parked, not in
//! the way of the rows after them — and go once the server, upgraded, lists the type; each is applied once.

use crate::support::{Device, TestServer};
use auren_protocol::change::raw_to_ms;
use auren_server::app::ChangeTypes;
use auren_store::{NewSession, SessionKind, Signal, Store};
use auren_sync::SignIn;

/// A short recording with contact and link changes (each flush of the writer makes its own outbox rows);
/// returns its id.
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
    for i in 0..120u16 {
        let rr = raw_to_ms(800 + (i * 37) % 200);
        t += rr;
        if i == 60 {
            writer.signal(t.round(), Signal::Contact, false);
            writer.signal(t.round() + 1.0, Signal::Contact, true);
        }
        writer.beat(t, rr, None);
    }
    writer.finish().await.unwrap();
    store.end_session(id, 1_780_000_100_000).await.unwrap();
    id
}

async fn count(database: &str, sql: &'static str) -> i64 {
    let pool = sqlx::PgPool::connect(database).await.unwrap();
    let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_an_older_server_does_not_take_wait_and_go_once_it_lists_their_type() {
    let server = TestServer::start_with(ChangeTypes::BeforeTheList).await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let local = record(&a.store).await;
    let signals = a.store.signal_changes(local).await.unwrap();
    assert_eq!(signals.len(), 4);

    let first = a.client.sync_once().await.unwrap();
    assert_eq!(first.parked, 0, "nothing parked: {first:?}");
    assert!(first.held > 0, "the contact and link changes wait: {first:?}");
    assert_eq!(first.pending, i64::try_from(first.held).unwrap(), "{first:?}");
    assert!(a.store.parked_rows().await.unwrap().is_empty());
    let db = &server.database;
    assert_eq!(
        count(db, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL").await,
        1,
        "the rows after the held ones went, the session's end among them"
    );
    assert!(count(db, "SELECT count(*) FROM beat_chunks").await > 0);
    assert_eq!(count(db, "SELECT count(*) FROM rejected_rows").await, 0);
    assert_eq!(
        count(db, "SELECT count(*) FROM session_batches WHERE kind = 'signals'").await,
        0
    );
    let again = a.client.sync_once().await.unwrap();
    assert_eq!(
        (again.pushed, again.parked, again.held),
        (0, 0, first.held),
        "a later round against the same server still waits: {again:?}"
    );

    let server = server.restart_with(ChangeTypes::Current).await;
    let upgraded = a.client.sync_once().await.unwrap();
    assert_eq!(
        (upgraded.pushed, upgraded.parked, upgraded.held, upgraded.pending),
        (first.held, 0, 0, 0),
        "{upgraded:?}"
    );
    let db = &server.database;
    assert!(count(db, "SELECT count(*) FROM session_batches WHERE kind = 'signals'").await > 0);
    let version = count(db, "SELECT version FROM user_versions").await;
    let quiet = a.client.sync_once().await.unwrap();
    assert_eq!((quiet.pushed, quiet.held), (0, 0), "{quiet:?}");
    assert_eq!(
        count(db, "SELECT version FROM user_versions").await,
        version,
        "nothing is applied twice"
    );

    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    b.client.sync_once().await.unwrap();
    let on_b = b.store.sessions(10, 0).await.unwrap();
    assert_eq!(
        b.store.signal_changes(on_b[0].id).await.unwrap(),
        signals,
        "another device gets every change, in order"
    );
}
