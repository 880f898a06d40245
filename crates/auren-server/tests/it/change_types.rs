//! Change types added within the protocol version: every push answer lists what the server accepts; a row
//! of a newer type that a device held back and sends below its mark is applied once (a retry is skipped, as
//! a base-type row below the mark always is, and two pushes of it at once apply it once); a server from
//! before the list refuses the type and lists nothing.

use crate::support::{TestServer, chunk, recent_ms, row, session, session_key};
use auren_protocol::change::{Signal, SignalChange};
use auren_protocol::{Change, SignalsChange};
use auren_server::app::ChangeTypes;

fn signals(key: &str, t_ms: f64) -> Change {
    Change::Signals(SignalsChange {
        session_key: key.to_owned(),
        changes: vec![SignalChange {
            t_ms,
            signal: Signal::Contact,
            up: false,
        }],
    })
}

async fn count(server: &TestServer, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&server.owner).await.unwrap()
}

#[tokio::test]
async fn a_late_row_of_a_newer_type_is_applied_once() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    // Row 2 (contact changes) was held back: rows 1 and 3 went first.
    let first = server
        .push(
            &a,
            vec![row(1, session(&key, recent_ms())), row(3, chunk(&key, 0.0, 10))],
        )
        .await;
    let listed: Vec<String> = Change::TYPES.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(first.accepts, Some(listed));
    assert_eq!(first.last_applied, 3);
    // Rows 1 and 3 went to a server from before the list, which keeps no first-listing mark.
    sqlx::query("UPDATE devices SET listed_from = NULL")
        .execute(&server.owner)
        .await
        .unwrap();

    let late = server.push(&a, vec![row(2, signals(&key, 500.0))]).await;
    assert_eq!((late.last_applied, late.rejected.len()), (3, 0), "{late:?}");
    let signal_batches = "SELECT count(*) FROM session_batches WHERE kind = 'signals'";
    assert_eq!(
        count(&server, signal_batches).await,
        1,
        "the late row was applied"
    );
    let version = "SELECT version FROM user_versions";
    assert_eq!(count(&server, version).await, 2);

    // A retry of it, even with other contents, is a repeat; so is a base-type row below the mark.
    for repeat in [signals(&key, 900.0), chunk(&key, 60_000.0, 5)] {
        let again = server.push(&a, vec![row(2, repeat)]).await;
        assert_eq!((again.last_applied, again.rejected.len()), (3, 0));
    }
    assert_eq!(count(&server, signal_batches).await, 1);
    assert_eq!(count(&server, "SELECT count(*) FROM beat_chunks").await, 1);
    assert_eq!(count(&server, version).await, 2, "nothing applied twice");

    // A newer-type row that comes in order, after the device read the list, is not recorded (it cannot
    // be late): its retry below the mark is a repeat like any other.
    server.push(&a, vec![row(4, signals(&key, 2_000.0))]).await;
    server.push(&a, vec![row(4, signals(&key, 3_000.0))]).await;
    assert_eq!(count(&server, signal_batches).await, 2);
    assert_eq!(count(&server, version).await, 3);
    assert_eq!(
        count(&server, "SELECT count(*) FROM newer_type_rows").await,
        1,
        "only the row held back is recorded"
    );
}

#[tokio::test]
async fn a_device_that_always_knew_the_list_records_no_late_rows() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    let rows = vec![
        row(1, session(&key, recent_ms())),
        row(2, signals(&key, 500.0)),
        row(3, chunk(&key, 0.0, 10)),
    ];
    server.push(&a, rows.clone()).await;
    let again = server.push(&a, rows).await;
    assert_eq!((again.last_applied, again.rejected.len()), (3, 0));
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM session_batches WHERE kind = 'signals'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM newer_type_rows").await,
        0,
        "rows sent in order by a device that read the list cannot be late"
    );
}

#[tokio::test]
async fn a_server_from_before_the_list_refuses_newer_types_and_lists_nothing() {
    let server = TestServer::start_with(|c| c.change_types = ChangeTypes::BeforeTheList).await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    let rows = vec![
        row(1, session(&key, recent_ms())),
        row(2, signals(&key, 500.0)),
        row(3, chunk(&key, 0.0, 10)),
    ];
    let answer = server.push(&a, rows).await;
    assert_eq!(answer.accepts, None);
    let refused: Vec<(i64, &str)> = answer
        .rejected
        .iter()
        .map(|r| (r.outbox_id, r.code.as_str()))
        .collect();
    assert_eq!(refused, [(2, "unsupported_row")], "as an unknown type, alone");
    assert_eq!(answer.last_applied, 3);
    assert_eq!(count(&server, "SELECT count(*) FROM beat_chunks").await, 1);
}

/// Waits until `n` sessions of the server's database wait on a lock.
async fn until_waiting(server: &TestServer, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&server.owner)
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} of {n} pushes waiting"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_row_pushed_twice_at_once_is_applied_once() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    server
        .push(
            &a,
            vec![row(1, session(&key, recent_ms())), row(3, chunk(&key, 0.0, 10))],
        )
        .await;
    // Rows 1 and 3 went to a server from before the list (no first-listing mark): row 2 was held back.
    sqlx::query("UPDATE devices SET listed_from = NULL")
        .execute(&server.owner)
        .await
        .unwrap();
    let version = "SELECT version FROM user_versions";
    let before = count(&server, version).await;
    // The user's version is held here, so both pushes of late row 2 get as far as they can before either
    // commits: without the device lock, both read the row as not taken yet.
    let mut holder = server.owner.begin().await.unwrap();
    sqlx::query("UPDATE user_versions SET version = version")
        .execute(&mut *holder)
        .await
        .unwrap();
    let (s, d) = (&server, &a);
    let both = futures::future::join(
        s.push(d, vec![row(2, signals(&key, 500.0))]),
        s.push(d, vec![row(2, signals(&key, 900.0))]),
    );
    let release = async {
        until_waiting(s, 2).await;
        holder.commit().await.unwrap();
    };
    let ((first, second), ()) = futures::future::join(both, release).await;
    assert_eq!((first.last_applied, second.last_applied), (3, 3));
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM session_batches WHERE kind = 'signals'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&server, version).await,
        before + 1,
        "one of the two pushes applied the late row, the other found it taken"
    );
}
