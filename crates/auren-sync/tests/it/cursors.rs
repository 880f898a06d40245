//! Pull cursors only move forward: a lower cursor fed to the store is ignored, a pull answer with a lower
//! cursor (a server restored from an older state, or another server at the same address) is refused with the
//! stored cursor unchanged, and a server whose version went back leaves it where it was.

use crate::support::{Device, TestServer};
use auren_store::Store;
use auren_sync::{SignIn, SyncClient, SyncConfig, SyncError, TokenPlace, TokenVault};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn a_lower_cursor_never_lowers_the_stored_one() {
    // (scope, cursor stored before, cursor fed, cursor stored after)
    let cases: [(Option<&str>, Option<i64>, i64, i64); 7] = [
        (None, None, 5, 5),
        (None, Some(5), 3, 5),
        (None, Some(5), 5, 5),
        (None, Some(5), 9, 9),
        (None, Some(5), -1, 5),
        (None, None, -4, 0),
        (Some("athlete-1"), Some(12), 0, 12),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (scope, stored, fed, expected)) in cases.into_iter().enumerate() {
        let store = Store::open(&dir.path().join(format!("{i}.db"))).await.unwrap();
        if let Some(stored) = stored {
            let mut tx = store.begin_sync().await.unwrap();
            tx.raise_cursor(scope, stored).await.unwrap();
            tx.commit().await.unwrap();
        }
        let mut tx = store.begin_sync().await.unwrap();
        tx.raise_cursor(scope, fed).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.sync_cursor(scope).await.unwrap(),
            expected,
            "case {i}: {scope:?} at {stored:?}, fed {fed}"
        );
        // The other scope is untouched.
        let other = if scope.is_some() { None } else { Some("athlete-1") };
        assert_eq!(store.sync_cursor(other).await.unwrap(), 0, "case {i}");
        store.close().await;
    }
}

/// A server that answers every request with `body` (HTTP/1.1, one request per connection); returns its base.
async fn answering(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                // The request: headers, then as many body bytes as Content-Length says.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n @ 1..) = socket.read(&mut buf).await else {
                        return;
                    };
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_answer_with_a_lower_cursor_is_refused_and_the_cursor_stays() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    for day in 1..=3 {
        a.store
            .add_morning_reading(20_000 + day, 4.0, Some(50.0), None)
            .await
            .unwrap();
        a.client.sync_once().await.unwrap();
    }
    let cursor = a.store.sync_cursor(None).await.unwrap();
    assert!(cursor >= 3, "{cursor}");

    // The device talks to a server answering from an older state (the same account and tokens).
    let older = answering(r#"{"changes":[],"cursor":1,"more":false}"#.to_owned()).await;
    let mut account = a.store.sync_account().await.unwrap().unwrap();
    account.server_url = older;
    a.store.set_sync_account(&account).await.unwrap();
    let vault = TokenVault::new(TokenPlace::File(dir.path().join("a.tokens")));
    let client = SyncClient::open(&a.store, vault, SyncConfig::default())
        .await
        .unwrap();
    let refused = client.sync_once().await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Inconsistent(why) if why.contains("went back")),
        "{refused}"
    );
    assert_eq!(a.store.sync_cursor(None).await.unwrap(), cursor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_version_went_back_leaves_the_cursor_where_it_was() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    for day in 1..=3 {
        a.store
            .add_morning_reading(20_000 + day, 4.0, Some(50.0), None)
            .await
            .unwrap();
        a.client.sync_once().await.unwrap();
    }
    b.client.sync_once().await.unwrap();
    let cursor = b.store.sync_cursor(None).await.unwrap();
    assert!(cursor >= 3, "{cursor}");

    // The server's database put back to an older version number (as a restore from a backup would).
    let pool = sqlx::PgPool::connect(&server.database).await.unwrap();
    sqlx::query("UPDATE user_versions SET version = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    for _ in 0..2 {
        b.client.sync_once().await.unwrap();
        assert_eq!(b.store.sync_cursor(None).await.unwrap(), cursor);
    }
}
