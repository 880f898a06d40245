//! Isolation: for every endpoint, another user's ids, a tampered token, an expired one and a reused refresh
//! token return 0 rows of another user; a revoked coach sees nothing; the access token of a device that was
//! removed, signed out or whose refresh token was reused gets `401 token_revoked` on every endpoint at once
//! (also from another server process, through Redis); and the app role cannot get around row-level security
//! in SQL.

use crate::support::{TestClient, TestServer, recent_ms, row, session, session_key};
use auren_protocol::auth::SignedIn;
use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every request an authenticated device can make, with a body that names `victim`'s ids wherever there is
/// an id to name.
fn requests(me: &SignedIn, victim: &SignedIn) -> Vec<(&'static str, String, Value)> {
    let fixed = vec![
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
        (
            "GET",
            "/v1/trend?metric=ln_rmssd&from=20400&to=20410",
            Value::Null,
        ),
    ];
    let mut all: Vec<(&'static str, String, Value)> = fixed
        .into_iter()
        .map(|(method, path, body)| (method, path.to_owned(), body))
        .collect();
    all.push((
        "GET",
        format!(
            "/v1/trend?metric=resting_hr&from=20400&to=20410&athlete={}",
            victim.user_id.0
        ),
        Value::Null,
    ));
    all
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
    let key = server.push_recording(&victim, 30).await;
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
        let (status, answer) = send(&server, method, &path, &me.tokens.access_token, &body).await;
        assert!(!status.is_server_error(), "{method} {path}: {status} {answer}");
        assert!(!leaks(&answer, &victim), "{method} {path} leaked: {answer}");
        for (token, code) in [
            (expired.as_str(), "token_expired"),
            (tampered.as_str(), "unauthenticated"),
            ("v4.local.garbage", "unauthenticated"),
        ] {
            let (status, answer) = send(&server, method, &path, token, &body).await;
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
    server.push_recording(&athlete, 40).await;

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

/// Every authenticated request, for a device whose sign-in ended: each must answer `401 token_revoked`
/// with nothing but the error.
async fn assert_revoked_everywhere(server: &TestClient, device: &SignedIn, other: &SignedIn, why: &str) {
    let mut requests = requests(device, other);
    requests.push(("DELETE", "/v1/devices/{other}".to_owned(), Value::Null));
    for (method, path, body) in requests {
        let path = path.replace("{other}", &other.device_id.0);
        let token = &device.tokens.access_token;
        let (status, answer) = match method {
            "DELETE" => server.delete(&path, token, &body).await,
            _ => send_to(server, method, &path, token, &body).await,
        };
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token_revoked")),
            "{why}: {method} {path} {answer}"
        );
        let keys: Vec<&String> = answer.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(
            keys,
            ["code", "message"],
            "{why}: {method} {path}: 0 rows, only the error"
        );
    }
}

async fn send_to(
    server: &TestClient,
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

#[tokio::test]
async fn removed_signed_out_and_reused_devices_get_401_everywhere_at_once_and_their_data_stays() {
    let server = TestServer::start().await;
    let laptop = server.account("owner@example.com").await;
    let old = server.login("owner@example.com", "old phone").await;
    let phone = server.login("owner@example.com", "phone").await;
    let tablet = server.login("owner@example.com", "tablet").await;
    let stranger = server.account("stranger@example.com").await;
    server.push_recording(&old, 25).await;
    // The old phone's token is known live to the server's cache before it is removed.
    let (status, _) = server.get("/v1/devices", Some(&old.tokens.access_token)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, answer) = server.remove_device(&laptop, &laptop).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")),
        "the calling device is not removed by mistake: {answer}"
    );
    let (status, _) = server.remove_device(&stranger, &laptop).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's device is not found"
    );
    let (status, _) = server
        .get("/v1/devices", Some(&stranger.tokens.access_token))
        .await;
    assert_eq!(status, StatusCode::OK, "and stays signed in");
    let (status, _) = server
        .delete("/v1/devices/not-an-id", &laptop.tokens.access_token, &Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, answer) = server.remove_device(&old, &laptop).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_revoked_everywhere(&server, &old, &laptop, "removed").await;
    let (status, answer) = server.remove_device(&old, &laptop).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "removed once: {answer}");
    let (status, answer) = server
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": old.tokens.refresh_token}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");

    let (status, _) = server.sign_out(&phone).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_revoked_everywhere(&server, &phone, &laptop, "signed out").await;

    let spent = json!({"refresh_token": tablet.tokens.refresh_token});
    let (status, _) = server.post("/v1/auth/refresh", None, &spent).await;
    assert_eq!(status, StatusCode::OK);
    let (_, answer) = server.post("/v1/auth/refresh", None, &spent).await;
    assert_eq!(answer["code"], "token_reused");
    assert_revoked_everywhere(&server, &tablet, &laptop, "refresh token reused").await;

    // The account and the data the removed phone sent are still there for the devices still signed in.
    let (status, own) = server.pull_all(&laptop, None).await;
    assert_eq!((status, own.len()), (StatusCode::OK, 2), "{own:?}");
    let (_, devices) = server.get("/v1/devices", Some(&laptop.tokens.access_token)).await;
    let names: Vec<&str> = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["laptop"], "only the signed-in devices are listed");
}

#[tokio::test]
async fn a_device_removed_through_one_server_process_is_refused_by_another_at_once() {
    let database_url = crate::support::fresh_database().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut bases = Vec::new();
    let mut states = Vec::new();
    for _ in 0..2 {
        let mut config = ServerConfig::new(database_url.clone(), "127.0.0.1:0".parse().unwrap());
        config.hash_cost = HashCost::Minimal;
        config.redis_url = Some(crate::redis::redis_url());
        let started = Server::start(config, shutdown.clone()).await.unwrap();
        bases.push(format!("http://{}", started.local_addr().unwrap()));
        states.push(started.state().clone());
        tokio::spawn(started.serve(shutdown.clone()));
    }
    let _stop = shutdown.drop_guard();
    let (one, two) = (TestClient::new(&bases[0]), TestClient::new(&bases[1]));
    // Both processes listen for revocations before anything is revoked (polled: an outside connection).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !states.iter().all(|s| s.revocations.shared()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the revocation subscriptions did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let laptop = one.account("two-processes@example.com").await;
    let phone = one.login("two-processes@example.com", "phone").await;
    let (status, _) = two.get("/v1/devices", Some(&phone.tokens.access_token)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "process two now holds the phone as live for 30 s"
    );

    let (status, _) = one.remove_device(&phone, &laptop).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Pub/sub delivers asynchronously: poll, with a deadline far below the 30 s a lost message would take.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, answer) = two.get("/v1/devices", Some(&phone.tokens.access_token)).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(answer["code"], "token_revoked");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process two still accepts the removed phone"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
