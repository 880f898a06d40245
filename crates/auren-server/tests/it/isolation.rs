//! Isolation: for every endpoint, another user's ids, a tampered token, an expired one and a reused refresh
//! token return 0 rows of another user; a revoked coach sees nothing; and the app role cannot get around
//! row-level security in SQL.

use crate::support::{TestServer, chunk, recent_ms, row, session, session_key};
use auren_protocol::auth::SignedIn;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every request an authenticated device can make, with a body that names `victim`'s ids wherever there is
/// an id to name.
fn requests(me: &SignedIn, victim: &SignedIn) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("GET", "/v1/devices", Value::Null),
        ("GET", "/v1/coach/grants", Value::Null),
        ("GET", "/v1/coach/athletes", Value::Null),
        (
            "POST",
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0}),
        ),
        (
            "POST",
            "/v1/sync/pull",
            json!({"protocol_version": 1, "cursor": 0, "athlete": victim.user_id.0}),
        ),
        (
            "POST",
            "/v1/sync/push",
            json!({"protocol_version": 1, "device_id": victim.device_id.0, "rows": []}),
        ),
        (
            "POST",
            "/v1/sync/push",
            json!({"protocol_version": 1, "device_id": me.device_id.0, "rows": [
                {"outbox_id": 1, "change": {"type": "beats", "session_key": session_key(victim, 1), "start_ms": 0.0, "rr_raw": [800]}}
            ]}),
        ),
        (
            "POST",
            "/v1/auth/device-code/approve",
            json!({"user_code": "BCDFGHJK"}),
        ),
        (
            "POST",
            "/v1/coach/grants",
            json!({"coach_email": "victim@example.com"}),
        ),
    ]
}

async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    match method {
        "GET" => server.get(path, Some(token)).await,
        _ => server.post(path, Some(token), body).await,
    }
}

/// Whether `answer` shows anything of the victim's (their id or email; our own requests only echo their
/// session key back in a rejection, which the caller checks apart).
fn leaks(answer: &Value, victim: &SignedIn) -> bool {
    let text = answer.to_string();
    text.contains(&victim.user_id.0) || text.contains("victim@example.com")
}

#[tokio::test]
async fn no_endpoint_returns_another_users_rows_and_bad_tokens_get_nothing() {
    let server = TestServer::start().await;
    let victim = server.account("victim@example.com").await;
    let key = session_key(&victim, 1);
    server
        .push(
            &victim,
            vec![row(1, session(&key, recent_ms())), row(2, chunk(&key, 0.0, 30))],
        )
        .await;
    let me = server.account("mallory@example.com").await;

    let expired = server
        .state
        .tokens
        .issue_until(
            uuid::Uuid::parse_str(&me.user_id.0).unwrap(),
            uuid::Uuid::parse_str(&me.device_id.0).unwrap(),
            1,
        )
        .unwrap()
        .0;
    let mut tampered = me.tokens.access_token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    for (method, path, body) in requests(&me, &victim) {
        let (status, answer) = send(&server, method, path, &me.tokens.access_token, &body).await;
        assert!(!status.is_server_error(), "{method} {path}: {status} {answer}");
        assert!(!leaks(&answer, &victim), "{method} {path} leaked: {answer}");
        for (token, code) in [
            (expired.as_str(), "token_expired"),
            (tampered.as_str(), "unauthenticated"),
            ("v4.local.garbage", "unauthenticated"),
        ] {
            let (status, answer) = send(&server, method, path, token, &body).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some(code)),
                "{method} {path}"
            );
        }
    }
    let (_, own) = server.pull_all(&me, None).await;
    assert!(own.is_empty(), "mallory has no data: {own:?}");
    let forged = json!({"protocol_version": 1, "device_id": me.device_id.0, "rows": [
        {"outbox_id": 9, "change": {"type": "beats", "session_key": key, "start_ms": 5.0, "rr_raw": [800]}}
    ]});
    let (_, answer) = server
        .post("/v1/sync/push", Some(&me.tokens.access_token), &forged)
        .await;
    assert_eq!(
        answer["rejected"][0]["code"], "unknown_session",
        "mallory cannot write into the victim's session"
    );
    // The victim's data is all still theirs.
    let (_, theirs) = server.pull_all(&victim, None).await;
    assert_eq!(theirs.len(), 2);
}

#[tokio::test]
async fn a_reused_refresh_token_gives_nothing_and_a_revoked_coach_sees_nothing() {
    let server = TestServer::start().await;
    let athlete = server.account("athlete@example.com").await;
    let coach = server.account("coach@example.com").await;
    let key = session_key(&athlete, 1);
    server
        .push(
            &athlete,
            vec![row(1, session(&key, recent_ms())), row(2, chunk(&key, 0.0, 40))],
        )
        .await;

    let (status, _) = server.pull_all(&coach, Some(&athlete.user_id.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no grant yet");
    let grant = json!({"coach_email": "coach@example.com"});
    let (status, _) = server
        .post("/v1/coach/grants", Some(&athlete.tokens.access_token), &grant)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, athletes) = server
        .get("/v1/coach/athletes", Some(&coach.tokens.access_token))
        .await;
    assert_eq!(athletes["athletes"][0]["email"], "athlete@example.com");
    let (status, seen) = server.pull_all(&coach, Some(&athlete.user_id.0)).await;
    assert_eq!(
        (status, seen.len()),
        (StatusCode::OK, 2),
        "the coach reads the athlete's session and beats"
    );
    let (_, own) = server.pull_all(&coach, None).await;
    assert!(own.is_empty(), "the athlete's rows are not the coach's own");

    let (status, _) = server
        .delete("/v1/coach/grants", &athlete.tokens.access_token, &grant)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, after) = server.pull_all(&coach, Some(&athlete.user_id.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{after:?}");
    let (_, athletes) = server
        .get("/v1/coach/athletes", Some(&coach.tokens.access_token))
        .await;
    assert_eq!(athletes["athletes"], json!([]));

    let spent = athlete.tokens.refresh_token.clone();
    server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": spent}))
        .await;
    let (status, answer) = server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": spent}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(answer.get("access_token").is_none() && answer.get("refresh_token").is_none());
}

#[tokio::test]
async fn the_app_role_cannot_read_across_users_or_switch_row_security_off() {
    let server = TestServer::start().await;
    let a = server.account("one@example.com").await;
    let b = server.account("two@example.com").await;
    let key = session_key(&a, 1);
    server.push(&a, vec![row(1, session(&key, recent_ms()))]).await;
    let app = &server.state.pools.app;
    let mut tx = app.begin().await.unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(role, "auren_app");
    for table in [
        "users",
        "devices",
        "sessions",
        "beat_chunks",
        "refresh_tokens",
        "records",
        "alerts",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}: no user set, no rows");
    }
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(&b.user_id.0)
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 0, "b sees none of a's sessions");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(users, 1, "b sees only b");
    let forged = sqlx::query("INSERT INTO sessions (user_id, session_key, started_at, kind, source, version) VALUES ($1::uuid, 'x', 1, 'rest', 's', 1)")
        .bind(&a.user_id.0)
        .execute(&mut *tx)
        .await;
    assert!(forged.is_err(), "b cannot write a row as a");
    tx.rollback().await.unwrap();
    for escape in [
        "SET row_security = off; SELECT count(*) FROM sessions",
        "ALTER TABLE sessions DISABLE ROW LEVEL SECURITY",
        "SELECT * FROM server_keys",
        "SELECT * FROM device_codes",
    ] {
        let mut conn = app.acquire().await.unwrap();
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(escape))
            .execute(&mut *conn)
            .await;
        assert!(result.is_err(), "{escape} must fail for auren_app");
    }
}
