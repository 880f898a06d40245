//! Long polls at scale: every parked poll is answered with its user's push, none waits out its timeout.
//! The server runs with Redis, as deployed and as `cargo xtask bench server` runs it, so wake-ups take the
//! published path.

use crate::redis::redis_url;
use crate::support::{TestServer, recent_ms, row, session, session_key};
use auren_protocol::auth::SignedIn;
use auren_server::ComponentStatus;
use serde_json::json;
use std::time::{Duration, Instant};

const USERS: usize = 20;
const POLLS_PER_USER: usize = 25;
/// The poll's own timeout; an answer at or past it was not woken.
const WAIT: Duration = Duration::from_secs(20);

/// One parked poll's answer: the new cursor and how many changes came with it.
async fn poll(server_base: String, http: reqwest::Client, token: String) -> (i64, usize, Duration) {
    let started = Instant::now();
    let body = json!({"protocol_version": 1, "cursor": 0, "wait_ms": WAIT.as_millis() as u64});
    let answer: serde_json::Value = http
        .post(format!("{server_base}/v1/sync/pull"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let changes = answer["changes"].as_array().map_or(0, Vec::len);
    (answer["cursor"].as_i64().unwrap(), changes, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_parked_long_poll_is_answered_by_its_users_push() {
    let server = TestServer::start_with(|config| config.redis_url = Some(redis_url())).await;
    let subscribed = Instant::now() + Duration::from_secs(10);
    while server.state.wake.status() != ComponentStatus::Up {
        assert!(Instant::now() < subscribed, "{:?}", server.state.wake.status());
        tokio::task::yield_now().await;
    }
    let mut users: Vec<SignedIn> = Vec::new();
    for i in 0..USERS {
        users.push(server.account(&format!("poll{i}@example.com")).await);
    }
    let mut polls = Vec::new();
    for user in &users {
        for _ in 0..POLLS_PER_USER {
            let (base, http, token) = (
                server.base.clone(),
                server.http.clone(),
                user.tokens.access_token.clone(),
            );
            polls.push(tokio::spawn(poll(base, http, token)));
        }
    }
    // Every poll listens (it reads after it listens, so from here on none can miss its push).
    while server.state.wake.waiting_listeners() < USERS * POLLS_PER_USER {
        tokio::task::yield_now().await;
    }
    let pushes = users.iter().map(|user| {
        let key = session_key(user, 1);
        server.push(user, vec![row(1, session(&key, recent_ms()))])
    });
    futures::future::join_all(pushes).await;
    let mut unwoken = 0;
    for answer in futures::future::join_all(polls).await {
        let (cursor, changes, waited) = answer.unwrap();
        if cursor == 0 || changes == 0 || waited >= WAIT {
            unwoken += 1;
        }
    }
    assert_eq!(
        unwoken,
        0,
        "of {} parked polls, {unwoken} were not answered with their push",
        USERS * POLLS_PER_USER
    );
}
