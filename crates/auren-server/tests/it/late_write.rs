//! "A late-committing write can't be skipped", with real concurrency through PostgreSQL: one device's push is
//! held open after its version bump (it waits on a row lock this test takes from another connection) while a
//! second device of the same user pushes and a third pulls. Once the lock is released both pushes commit,
//! and the third device, pulling on from the cursor it was given meanwhile, receives every change the user
//! has past its first cursor: none fell behind a cursor that had already moved past it. Without the
//! per-user lock (the version bump committed apart from the push's writes) the second push commits a
//! higher version first, the pull meanwhile moves the cursor past the first push's version, and its row is
//! never pulled: this test fails.
//!
//! How that is known: with `apply_push`'s `UPDATE user_versions … RETURNING` moved into a transaction of its
//! own, committed before the push's writes (the server built from a copy of the tree so changed), this test
//! failed on each of four runs — the reader got `{(3, "session")}` of `{(2, "morning"), (3, "session")}`,
//! its cursor having moved to 3 while version 2 was still uncommitted — and it passes with the lock.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::broker::eventually;
use crate::support::{TestServer, recent_ms, row, session, session_key};
use auren_protocol::auth::SignedIn;
use auren_protocol::{Change, PushResponse};
use reqwest::StatusCode;
use serde_json::json;

/// How long the pushes may take to reach their waits (polled: they run on other connections).
const LIMIT: Duration = Duration::from_secs(20);
/// The day of the morning reading both pushes touch.
const DAY: i64 = 20_400;

fn morning(device: &SignedIn, ln_rmssd: f64, wall_ms: i64) -> Change {
    serde_json::from_value(json!({"type": "morning", "day": DAY, "reading": {
        "value": {"ln_rmssd": ln_rmssd, "resting_hr": null, "session_key": null},
        "hlc": {"wall_ms": wall_ms, "counter": 0, "device": device.device_id.0}}}))
    .unwrap()
}

/// Pulls as `device` from `cursor` until nothing more: the cursor reached and the changes as (version, type).
async fn pull_from(server: &TestServer, device: &SignedIn, mut cursor: i64) -> (i64, Vec<(i64, String)>) {
    let mut changes = Vec::new();
    loop {
        let body = json!({"protocol_version": 1, "cursor": cursor});
        let (status, answer) = server
            .post("/v1/sync/pull", Some(&device.tokens.access_token), &body)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let next = answer["cursor"].as_i64().unwrap();
        assert!(next >= cursor, "cursors never go backwards: {cursor} → {next}");
        cursor = next;
        changes.extend(answer["changes"].as_array().unwrap().iter().map(|c| {
            (
                c["version"].as_i64().unwrap(),
                c["change"]["type"].as_str().unwrap_or("?").to_owned(),
            )
        }));
        if !answer["more"].as_bool().unwrap() {
            return (cursor, changes);
        }
    }
}

/// Backends of this database waiting for a lock that backend `holder` holds.
async fn blocked_by(owner: &sqlx::PgPool, holder: i32) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND $1 = ANY(pg_blocking_pids(pid))",
    )
    .bind(holder)
    .fetch_one(owner)
    .await
    .unwrap()
}

/// Backends of this database waiting for a lock.
async fn waiting(owner: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(owner)
    .await
    .unwrap()
}

fn push_in_background(
    server: &TestServer,
    device: &SignedIn,
    change: Change,
) -> tokio::task::JoinHandle<PushResponse> {
    let client = crate::support::TestClient::new(&server.base);
    let device = device.clone();
    tokio::spawn(async move { client.push(&device, vec![row(2, change)]).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_committing_late_is_not_skipped_by_a_pull_made_meanwhile() {
    let server = TestServer::start().await;
    let laptop = server.account("late@example.com").await;
    let phone = server.login("late@example.com", "phone").await;
    let reader = server.login("late@example.com", "reader").await;
    let first = server
        .push(&laptop, vec![row(1, morning(&laptop, 4.0, 1_000))])
        .await;
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let (start, _) = pull_from(&server, &reader, 0).await;

    // Another connection holds the morning's row: the laptop's edit of it waits there, after its version
    // bump.
    let mut holder = server.owner.begin().await.unwrap();
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    sqlx::query("SELECT 1 FROM records WHERE collection = 'morning' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let late = push_in_background(&server, &laptop, morning(&laptop, 4.5, 2_000));
    let blocked = eventually(LIMIT, async || blocked_by(&server.owner, holder_pid).await == 1).await;
    assert!(blocked, "the laptop's push waits on the held row");

    // The phone's push: it waits for the laptop's (the per-user lock), or — without that lock — commits now.
    let next = push_in_background(&server, &phone, session(&session_key(&phone, 1), recent_ms()));
    let went = eventually(LIMIT, async || {
        next.is_finished() || waiting(&server.owner).await == 2
    })
    .await;
    assert!(went, "the phone's push neither waits nor is done");
    let (meanwhile, seen_meanwhile) = pull_from(&server, &reader, start).await;

    holder.rollback().await.unwrap();
    for push in [late, next] {
        let answer = push.await.unwrap();
        assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    }
    let (_, seen_after) = pull_from(&server, &reader, meanwhile).await;
    let (_, everything) = pull_from(&server, &reader, 0).await;

    let seen: BTreeSet<(i64, String)> = seen_meanwhile.into_iter().chain(seen_after).collect();
    let expected: BTreeSet<(i64, String)> = everything.into_iter().filter(|(v, _)| *v > start).collect();
    assert_eq!(
        expected.iter().map(|(_, t)| t.as_str()).collect::<BTreeSet<_>>(),
        ["morning", "session"].into(),
        "both pushes landed: {expected:?}"
    );
    assert_eq!(
        seen, expected,
        "the reader's pulls from cursor {start} (meanwhile: to {meanwhile}) skipped nothing"
    );
}
