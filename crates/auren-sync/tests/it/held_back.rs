//! A new device against an older server: rows of a change type the server does not list (contact and link
//! changes, `signals`, against a server from before the list) are held back — not sent, not parked, not in
//! the way of the rows after them — and go once the server, upgraded, lists the type; each is applied once.
//! Against a current server, once its answer is known, a round sends no empty push to ask again.

use crate::support::{Device, TestServer, record_with_signals};
use auren_server::app::ChangeTypes;
use auren_sync::SignIn;

async fn count(database: &str, sql: &'static str) -> i64 {
    let pool = sqlx::PgPool::connect(database).await.unwrap();
    let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_an_older_server_does_not_take_wait_and_go_once_it_lists_their_type() {
    let server = TestServer::start_with(|config| config.change_types = ChangeTypes::BeforeTheList).await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let local = record_with_signals(&a.store, 1_780_000_000_000, 120).await;
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

/// A TCP relay in front of `server` that counts the pushes going through it (requests whose line starts
/// `POST /v1/sync/push`); returns its base URL and the count.
async fn counting_relay(server: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let upstream = server.trim_start_matches("http://").to_owned();
    let pushes = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = pushes.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = tokio::net::TcpStream::connect(&upstream).await.unwrap();
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_server, mut to_server) = upstream.into_split();
            let counted = counted.clone();
            tokio::spawn(async move {
                const LINE: &[u8] = b"POST /v1/sync/push ";
                // The tail of the last read, so a request line split across two reads is still seen.
                let mut carried: Vec<u8> = Vec::new();
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                    carried.extend_from_slice(&buf[..n]);
                    let found = carried.windows(LINE.len()).filter(|w| *w == LINE).count();
                    counted.fetch_add(found, Ordering::SeqCst);
                    let keep = carried.len().saturating_sub(LINE.len() - 1);
                    carried.drain(..keep);
                    if to_server.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
            tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
        }
    });
    (base, pushes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_current_server_a_round_asks_nothing_once_the_types_are_known() {
    use std::sync::atomic::Ordering;
    let server = TestServer::start().await;
    let (base, pushes) = counting_relay(&server.base).await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in_at(dir.path(), "a", &base, "ada@example.org", SignIn::Create).await;
    record_with_signals(&a.store, 1_780_000_000_000, 120).await;
    let first = a.client.sync_once().await.unwrap();
    assert_eq!((first.held, first.pending), (0, 0), "{first:?}");
    let known = pushes.swap(0, Ordering::SeqCst);
    assert!(known >= 1, "the first round pushed: {known}");

    // Another recording with contact and link changes: one push carries it, with no empty push before it.
    record_with_signals(&a.store, 1_780_000_000_000, 120).await;
    let second = a.client.sync_once().await.unwrap();
    assert_eq!(
        (second.held, second.pending, second.parked),
        (0, 0, 0),
        "{second:?}"
    );
    assert_eq!(
        pushes.swap(0, Ordering::SeqCst),
        1,
        "the accepted types are remembered from the first round's answers"
    );
    let quiet = a.client.sync_once().await.unwrap();
    assert_eq!(quiet.pushed, 0, "{quiet:?}");
    assert_eq!(pushes.load(Ordering::SeqCst), 0, "nothing to send, nothing asked");
}
