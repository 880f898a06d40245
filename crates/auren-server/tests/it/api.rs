//! The sync API end to end over HTTP on a real PostgreSQL: push idempotency, rejections that never block,
//! pull convergence on a second device, LWW merges, token rotation and reuse, the device-code flow,
//! error bodies, and partitions.

use crate::support::{TestServer, chunk, recent_ms, row, session, session_key};
use auren_protocol::lww::Lww;
use auren_protocol::{Change, DeviceId, Hlc, TagChange};
use auren_server::db::{BeatLayout, beat_layout};
use reqwest::StatusCode;
use serde_json::json;

async fn count(server: &TestServer, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&server.owner).await.unwrap()
}

async fn metrics_page(server: &TestServer) -> reqwest::Response {
    server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
}

/// The sum of every series of `name` on /metrics (0 while none is recorded). The recorder is the process',
/// shared by every test's server, and these counters only grow: tests compare before and after.
async fn metric(server: &TestServer, name: &str) -> f64 {
    let text = metrics_page(server).await.text().await.unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let bare = series.split('{').next()?;
            (bare == name).then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

#[tokio::test]
async fn a_push_applies_once_however_often_it_is_sent_and_a_second_device_pulls_it_all() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    let rows = vec![
        row(1, session(&key, recent_ms())),
        row(2, chunk(&key, 0.0, 70)),
        row(3, chunk(&key, 60_000.0, 65)),
    ];
    let ingested = metric(&server, "auren_beats_ingested_total").await;
    let first = server.push(&a, rows.clone()).await;
    assert_eq!(first.last_applied, 3);
    assert!(
        metric(&server, "auren_beats_ingested_total").await - ingested >= 135.0,
        "the ingest rate's counter holds the 135 beats"
    );
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let outbox_after_first = count(&server, "SELECT count(*) FROM server_outbox").await;
    assert_eq!(
        outbox_after_first, 2,
        "one message for the new session, one for its chunks of this push"
    );
    for _ in 0..3 {
        let again = server.push(&a, rows.clone()).await;
        assert_eq!(again.last_applied, 3);
    }
    assert_eq!(count(&server, "SELECT count(*) FROM beat_chunks").await, 2);
    assert_eq!(
        count(&server, "SELECT count(*) FROM server_outbox").await,
        outbox_after_first
    );
    assert_eq!(
        count(&server, "SELECT version FROM user_versions").await,
        1,
        "repeats bump nothing"
    );

    let b = server.login("ada@example.com", "phone").await;
    let (status, changes) = server.pull_all(&b, None).await;
    assert_eq!(status, StatusCode::OK);
    let pulled: Vec<Change> = changes
        .iter()
        .map(|c| serde_json::from_value(c["change"].clone()).unwrap())
        .collect();
    let sent: Vec<Change> = rows.into_iter().map(|r| r.change).collect();
    assert_eq!(pulled, sent, "the same session and the same beats, exactly");
    assert_eq!(changes[0]["origin"]["device_id"], json!(a.device_id.0));
}

#[tokio::test]
async fn a_bad_row_is_answered_and_recorded_and_the_queue_moves_on() {
    let server = TestServer::start().await;
    let a = server.account("bo@example.com").await;
    let key = session_key(&a, 7);
    let rows = vec![
        row(10, chunk("never-pushed-session", 0.0, 10)),
        row(11, session(&key, recent_ms())),
        row(12, session("bad-time", 5)),
        row(13, chunk(&key, 0.0, 10)),
    ];
    let answer = server.push(&a, rows.clone()).await;
    assert_eq!(answer.last_applied, 13);
    let codes: Vec<(i64, &str)> = answer
        .rejected
        .iter()
        .map(|r| (r.outbox_id, r.code.as_str()))
        .collect();
    assert_eq!(codes, vec![(10, "unknown_session"), (12, "invalid_row")]);
    assert_eq!(count(&server, "SELECT count(*) FROM rejected_rows").await, 2);
    assert_eq!(count(&server, "SELECT count(*) FROM beat_chunks").await, 1);
    // The response was lost: the retry gets the same answer, and nothing is recorded twice.
    let retry = server.push(&a, rows).await;
    assert_eq!(retry.rejected, answer.rejected);
    assert_eq!(count(&server, "SELECT count(*) FROM rejected_rows").await, 2);
}

fn tag(key: &str, session: &str, name: &str, wall_ms: i64, device: &str) -> Change {
    let hlc = Hlc {
        wall_ms,
        counter: 0,
        device: DeviceId(device.to_owned()),
    };
    Change::Tag(TagChange {
        key: key.to_owned(),
        session_key: session.to_owned(),
        at_ms: Lww::new(1_000.0, hlc.clone()),
        name: Lww::new(name.to_owned(), hlc),
    })
}

#[tokio::test]
async fn tags_edited_on_two_devices_merge_to_the_later_edit_whatever_the_arrival_order() {
    let server = TestServer::start().await;
    let a = server.account("cy@example.com").await;
    let b = server.login("cy@example.com", "phone").await;
    let key = session_key(&a, 1);
    server.push(&a, vec![row(1, session(&key, recent_ms()))]).await;
    // B's edit is later (wall 2000) but arrives first; A's older edit (wall 1000) must not win.
    server
        .push(
            &b,
            vec![row(1, tag("t1", &key, "tempo run", 2_000, &b.device_id.0))],
        )
        .await;
    server
        .push(&a, vec![row(2, tag("t1", &key, "easy", 1_000, &a.device_id.0))])
        .await;
    let (_, changes) = server.pull_all(&a, None).await;
    let tags: Vec<&serde_json::Value> = changes.iter().filter(|c| c["change"]["type"] == "tag").collect();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0]["change"]["name"]["value"], "tempo run");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let server = TestServer::start().await;
    let a = server.account("di@example.com").await;
    let first = a.tokens.refresh_token.clone();
    let reuse_events = metric(&server, "auren_refresh_token_reuse_total").await;
    let (status, pair) = server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": first}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let second = pair["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let (status, body) = server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": first}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_reused"))
    );
    // The thief's (or the owner's) newer token dies with the family.
    let (status, _) = server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": second}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reuse = count(
        &server,
        "SELECT count(*) FROM refresh_families WHERE revoked_reason = 'reuse'",
    )
    .await;
    assert_eq!(reuse, 1);
    assert!(
        metric(&server, "auren_refresh_token_reuse_total").await - reuse_events >= 1.0,
        "the reuse is counted on /metrics"
    );
}

#[tokio::test]
async fn a_burst_of_logins_gets_429_with_retry_after_and_a_code_and_other_accounts_go_on() {
    let server = TestServer::start().await;
    server.account("gus@example.com").await;
    server.account("hal@example.com").await;
    let limited_before = metric(&server, "auren_rate_limited_total").await;
    let rejections_before = metric(&server, "auren_limiter_rejections_total").await;
    let (mut statuses, mut refused) = (Vec::new(), None);
    for _ in 0..30 {
        let response = server
            .http
            .post(format!("{}/v1/auth/login", server.base))
            .json(&json!({"email": "gus@example.com", "password": "a wrong guess", "device_name": "guess"}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS && refused.is_none() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body: serde_json::Value = response.json().await.unwrap();
            refused = Some((retry_after, body));
        }
        statuses.push(status);
    }
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // 20 logins a minute per account: the burst's first 20 are judged (a 21st if one came due meanwhile),
    // the rest refused before any password is hashed.
    assert!(
        (20..=21).contains(&wrong) && wrong + limited == 30,
        "{statuses:?}"
    );
    let (retry_after, body) = refused.unwrap();
    assert!(
        retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "Retry-After {retry_after:?}"
    );
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("retry in")),
        "{body}"
    );
    // The quota is per account: another one signs in meanwhile.
    let (status, answer) = server
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "hal@example.com", "password": "correct horse battery", "device_name": "phone"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let counted = (
        metric(&server, "auren_rate_limited_total").await - limited_before,
        metric(&server, "auren_limiter_rejections_total").await - rejections_before,
    );
    assert!(
        counted.0 >= limited as f64 && counted.1 >= limited as f64,
        "refusals on /metrics: {counted:?}, {limited} refused"
    );
}

#[tokio::test]
async fn a_new_device_joins_with_a_code_approved_on_a_signed_in_one() {
    let server = TestServer::start().await;
    let a = server.account("ed@example.com").await;
    let (status, code) = server
        .post("/v1/auth/device-code", None, &json!({"device_name": "tablet"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let poll = json!({"device_code": code["device_code"]});
    let (_, pending) = server.post("/v1/auth/device-code/poll", None, &poll).await;
    assert_eq!(pending["status"], "pending");
    let approve = json!({"user_code": code["user_code"]});
    let (status, _) = server
        .post(
            "/v1/auth/device-code/approve",
            Some(&a.tokens.access_token),
            &approve,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, approved) = server.post("/v1/auth/device-code/poll", None, &poll).await;
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["user_id"], json!(a.user_id.0));
    let (status, _) = server.post("/v1/auth/device-code/poll", None, &poll).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a code signs in once");
    let (_, devices) = server.get("/v1/devices", Some(&a.tokens.access_token)).await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn client_mistakes_get_4xx_with_a_code_never_5xx() {
    let server = TestServer::start().await;
    let a = server.account("fa@example.com").await;
    let token = a.tokens.access_token.as_str();
    let cases: Vec<(&str, serde_json::Value, StatusCode, &str)> = vec![
        (
            "/v1/sync/push",
            json!({"nonsense": true}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 99, "cursor": 0}),
            StatusCode::BAD_REQUEST,
            "unsupported_version",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": -5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0, "athlete": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0, "watch": [{"athlete": "x", "cursor": 0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0, "watch": [{"athlete": a.user_id.0, "cursor": -1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0, "athlete": a.user_id.0, "watch": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0, "watch": vec![json!({"athlete": a.user_id.0, "cursor": 0}); 2]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0,
                   "watch": (0..=auren_protocol::MAX_WATCHED).map(|i| json!({"athlete": uuid::Uuid::from_u128(i as u128), "cursor": 0})).collect::<Vec<_>>()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/accounts",
            json!({"email": "x", "password": "p", "device_name": "d"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/v1/accounts",
            json!({"email": "fa@example.com", "password": "long enough", "device_name": "d"}),
            StatusCode::CONFLICT,
            "email_taken",
        ),
        (
            "/v1/auth/login",
            json!({"email": "fa@example.com", "password": "wrong password", "device_name": "d"}),
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
        ),
        (
            "/v1/coach/grants",
            json!({"coach_email": "nobody@example.com"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/v1/nowhere", json!({}), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (path, body, status, code) in cases {
        let (got, answer) = server.post(path, Some(token), &body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{path} {body}: {answer}"
        );
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let huge = "x".repeat(auren_server::app::BODY_LIMIT_BYTES + 1);
    let (got, answer) = server
        .post("/v1/sync/push", Some(token), &json!({"pad": huge}))
        .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let (got, answer) = server.post("/v1/sync/push", Some(token), &json!({
        "protocol_version": 1, "device_id": a.device_id.0,
        "rows": [{"outbox_id": 1, "change": {"type": "session", "session_key": "k\u{0}", "started_at": 1, "kind": "rest", "source": "s"}}]
    })).await;
    assert_eq!(got, StatusCode::OK, "a NUL in a row rejects the row: {answer}");
    assert_eq!(answer["rejected"][0]["code"], "invalid_row");
}

#[tokio::test]
async fn a_chunk_years_back_gets_its_month_partition_and_nothing_lands_in_default() {
    let server = TestServer::start().await;
    let a = server.account("gu@example.com").await;
    let key = session_key(&a, 1);
    let long_ago = 1_420_070_400_000; // 2015-01-01
    let answer = server
        .push(
            &a,
            vec![row(1, session(&key, long_ago)), row(2, chunk(&key, 1_000.0, 50))],
        )
        .await;
    assert!(answer.rejected.is_empty());
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM beat_chunks WHERE wall_ms < 1422748800000"
        )
        .await,
        1,
        "the chunk is stored"
    );
    match beat_layout(&server.owner).await.unwrap() {
        BeatLayout::MonthlyPartitions => {
            let partition: Option<String> =
                sqlx::query_scalar("SELECT to_regclass('beat_chunks_2015_01')::text")
                    .fetch_one(&server.owner)
                    .await
                    .unwrap();
            assert_eq!(partition.as_deref(), Some("beat_chunks_2015_01"));
            assert_eq!(
                count(&server, "SELECT count(*) FROM beat_chunks_2015_01").await,
                1
            );
            assert_eq!(
                count(&server, "SELECT count(*) FROM beat_chunks_default").await,
                0
            );
            let ahead = count(
                &server,
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'beat_chunks'::regclass",
            )
            .await;
            assert!(
                ahead >= 16,
                "12 months back, this month and 3 ahead (+ default, + 2015-01): {ahead}"
            );
        }
        BeatLayout::TimescaleHypertable => {
            // The server made the chunk that holds it before the insert, as it made the months around now
            // ahead; there is no DEFAULT to land in.
            let holding = count(
                &server,
                "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'beat_chunks' \
                 AND range_start_integer <= 1420070401000 AND range_end_integer > 1420070401000",
            )
            .await;
            assert_eq!(holding, 1, "a chunk covers 2015-01-01");
            let ahead = count(
                &server,
                "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'beat_chunks' \
                 AND range_start_integer <= (extract(epoch FROM now() + interval '90 days') * 1000)::bigint \
                 AND range_end_integer > (extract(epoch FROM now() + interval '90 days') * 1000)::bigint",
            )
            .await;
            assert_eq!(ahead, 1, "a chunk is ready for three months ahead");
            assert_eq!(count(&server, "SELECT auren_default_partition_rows()").await, 0);
        }
    }
}

#[tokio::test]
async fn health_metrics_and_openapi_answer() {
    let server = TestServer::start().await;
    let (status, _) = server.get("/livez", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, ready) = server.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["components"]["postgres"]["state"], "up");
    let (status, doc) = server.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/v1/sync/push"]["post"].is_object());
    let trend_params: Vec<&str> = doc["paths"]["/v1/trend"]["get"]["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        trend_params,
        ["metric", "from", "to", "athlete"],
        "the trend is described, so schema fuzzing reaches it"
    );
    let response = metrics_page(&server).await;
    assert!(response.headers().contains_key("content-type"));
    let id = server
        .http
        .get(format!("{}/livez", server.base))
        .send()
        .await
        .unwrap();
    assert!(
        id.headers().contains_key("x-request-id"),
        "every answer carries its request id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_wakes_when_another_device_pushes() {
    let server = TestServer::start().await;
    let a = server.account("ha@example.com").await;
    let b = server.login("ha@example.com", "phone").await;
    let waiting = {
        let (http, base, token) = (
            server.http.clone(),
            server.base.clone(),
            b.tokens.access_token.clone(),
        );
        tokio::spawn(async move {
            let body = json!({"protocol_version": 1, "cursor": 0, "wait_ms": 20_000});
            let started = std::time::Instant::now();
            let answer: serde_json::Value = http
                .post(format!("{base}/v1/sync/pull"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (answer, started.elapsed())
        })
    };
    // The pull is parked once the server counts a waiter for this user.
    while server.state.wake.waiting_users() == 0 {
        tokio::task::yield_now().await;
    }
    let key = session_key(&a, 1);
    server.push(&a, vec![row(1, session(&key, recent_ms()))]).await;
    let (answer, waited) = waiting.await.unwrap();
    assert_eq!(
        answer["changes"][0]["change"]["session_key"],
        json!(key),
        "{answer}"
    );
    assert!(
        waited < std::time::Duration::from_secs(20),
        "woken by the push, not the timeout"
    );
}
