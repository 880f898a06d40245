//! Long polls at scale: every parked poll is answered with its user's push, none waits out its timeout. And a
//! coach's one poll that watches its athletes is answered by what they do.
//! The server runs with Redis, as deployed and as `cargo xtask bench server` runs it, so wake-ups take the
//! published path.

use crate::redis::redis_url;
use crate::support::{TestClient, TestServer, recent_ms, row, session, session_key};
use auren_protocol::auth::SignedIn;
use auren_server::ComponentStatus;
use reqwest::StatusCode;
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

/// One long poll of `device`'s own data from `cursor` 0 that watches `watch`; the answer and how long it took.
async fn watching_poll(
    server: &TestClient,
    device: &SignedIn,
    watch: serde_json::Value,
    wait: Duration,
) -> (serde_json::Value, Duration) {
    let started = Instant::now();
    let body =
        json!({"protocol_version": 1, "cursor": 0, "wait_ms": wait.as_millis() as u64, "watch": watch});
    let (status, answer) = server
        .post("/v1/sync/pull", Some(&device.tokens.access_token), &body)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (answer, started.elapsed())
}

/// What the athlete does while a coach's watching poll is parked.
enum WhileParked {
    Grant,
    Push,
    Revoke,
}

/// Parks a poll of the coach's device that watches `watch`, has the athlete do `step`, and returns the
/// poll's answer (after checking it came before its deadline, with no data of the coach's own).
async fn answer_while_parked(
    server: &TestServer,
    (coach, athlete): (&SignedIn, &SignedIn),
    watch: serde_json::Value,
    step: WhileParked,
) -> serde_json::Value {
    let poll = {
        let (client, coach) = (TestClient::new(&server.base), coach.clone());
        tokio::spawn(async move { watching_poll(&client, &coach, watch, WAIT).await })
    };
    let parked = Instant::now() + Duration::from_secs(10);
    while server.state.pulls.parked() < 1 {
        assert!(Instant::now() < parked, "the poll never parked");
        tokio::task::yield_now().await;
    }
    let coach_email = "watcher@example.com";
    match step {
        WhileParked::Grant => assert_eq!(
            server.grant_coach(athlete, coach_email).await,
            StatusCode::NO_CONTENT
        ),
        WhileParked::Push => {
            server.push_recording(athlete, 10).await;
        }
        WhileParked::Revoke => assert_eq!(
            server.revoke_coach(athlete, coach_email).await,
            StatusCode::NO_CONTENT
        ),
    }
    let (answer, waited) = poll.await.unwrap();
    assert!(waited < WAIT, "the poll waited out its deadline: {answer}");
    let own = (
        answer["cursor"].as_i64(),
        answer["changes"].as_array().map(Vec::len),
    );
    assert_eq!(own, (Some(0), Some(0)), "{answer}");
    answer
}

/// A coach's device watches its athletes from its one long poll. A grant, a watched athlete's push and a
/// revocation each end a poll that has already read and parked (so its first look found nothing, and only
/// the wake-up can end it before its deadline), and the answer says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coachs_watching_poll_ends_on_a_grant_an_athletes_push_and_a_revocation() {
    let server = TestServer::start().await;
    let coach = server.account("watcher@example.com").await;
    let athlete = server.account("watched@example.com").await;
    let id = athlete.user_id.0.clone();
    let pair = (&coach, &athlete);

    // Nothing to tell: the poll waits out its deadline, and still says it watched.
    let (quiet, _) = watching_poll(&server, &coach, json!([]), Duration::from_millis(100)).await;
    assert_eq!(
        quiet["athletes"],
        json!({"ahead": [], "grants_changed": false}),
        "{quiet}"
    );

    let granted = answer_while_parked(&server, pair, json!([]), WhileParked::Grant).await;
    assert_eq!(
        granted["athletes"],
        json!({"ahead": [], "grants_changed": true}),
        "{granted}"
    );

    let watch = json!([{"athlete": id, "cursor": 0}]);
    let pushed = answer_while_parked(&server, pair, watch, WhileParked::Push).await;
    assert_eq!(
        pushed["athletes"],
        json!({"ahead": [id], "grants_changed": false}),
        "{pushed}"
    );

    // The coach's device reads the athlete to the end, and watches from there.
    let read = json!({"protocol_version": 1, "cursor": 0, "athlete": id});
    let (status, page) = server
        .post("/v1/sync/pull", Some(&coach.tokens.access_token), &read)
        .await;
    assert_eq!(
        (status, page["more"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{page}"
    );
    let watch = json!([{"athlete": id, "cursor": page["cursor"]}]);
    let revoked = answer_while_parked(&server, pair, watch, WhileParked::Revoke).await;
    assert_eq!(
        revoked["athletes"],
        json!({"ahead": [], "grants_changed": true}),
        "{revoked}"
    );
}
