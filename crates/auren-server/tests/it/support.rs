//! Shared pieces of the server tests: a fresh PostgreSQL database per test, an in-process server on a free
//! port, a small JSON client, and protocol rows to push.

use auren_protocol::auth::SignedIn;
use auren_protocol::{BeatsChunk, Change, PushRequest, PushResponse, PushRow, SessionChange};
use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The cluster the project's machines run (trust auth for postgres), unless `AUREN_DATABASE_URL` names another
/// (`cargo xtask services up` prints it; a cluster with TimescaleDB preloaded runs the suite on that layout).
pub fn admin_url() -> String {
    std::env::var("AUREN_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The admin cluster's pool (its URL from [`admin_url`]).
async fn connect_admin(admin_url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must run at {admin_url}: {e}"))
}

/// A new empty database `name` on the admin cluster; returns its URL.
pub async fn create_database(name: &str) -> String {
    let admin_url = admin_url();
    let admin = connect_admin(&admin_url).await;
    let url = create_database_on(&admin, &admin_url, name).await;
    admin.close().await;
    url
}

/// [`create_database`] on an admin connection the caller already holds.
async fn create_database_on(admin: &sqlx::PgPool, admin_url: &str, name: &str) -> String {
    // Names are made by the tests from a process id and a UUID's hex digits: nothing to inject.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(admin)
        .await
        .unwrap();
    match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("AUREN_DATABASE_URL has no database name: {admin_url}"),
    }
}

/// A new empty database named after this test process; returns its URL. Databases left by test processes
/// that have ended are dropped first (a test cannot drop its own at the end: Drop cannot await).
pub async fn fresh_database() -> String {
    let pid = std::process::id();
    let name = format!("auren_test_p{pid}_{}", Uuid::new_v4().simple());
    let admin_url = admin_url();
    let admin = connect_admin(&admin_url).await;
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'auren\\_test\\_p%\\_%'",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    for old in leftovers {
        let owner_pid = old
            .trim_start_matches("auren_test_p")
            .split('_')
            .next()
            .unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{owner_pid}")).exists() {
            // Another process may be dropping it at the same moment: a failure here is harmless.
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {old} WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
        }
    }
    let url = create_database_on(&admin, &admin_url, &name).await;
    admin.close().await;
    url
}

/// An in-process server on a fresh database; stops when dropped. Its client is reached through Deref.
pub struct TestServer {
    pub owner: sqlx::PgPool,
    pub state: auren_server::app::SharedState,
    shutdown: CancellationToken,
    client: TestClient,
}

impl std::ops::Deref for TestServer {
    type Target = TestClient;
    fn deref(&self) -> &TestClient {
        &self.client
    }
}

/// A JSON client of one server.
pub struct TestClient {
    pub base: String,
    pub http: reqwest::Client,
}

/// A reqwest client with TLS ready (reqwest is built without a crypto provider of its own: ring is installed
/// as the process' provider first, as the crates that make clients do).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

impl TestClient {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: http_client(),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose test configuration `adjust` changes first (e.g. to give it Redis).
    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let database_url = fresh_database().await;
        let mut config = ServerConfig::new(database_url.clone(), "127.0.0.1:0".parse().unwrap());
        config.hash_cost = HashCost::Minimal;
        config.pools.app = 8;
        adjust(&mut config);
        let shutdown = CancellationToken::new();
        let server = Server::start(config, shutdown.clone()).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        let state = server.state().clone();
        tokio::spawn(server.serve(shutdown.clone()));
        let owner = sqlx::PgPool::connect(&database_url).await.unwrap();
        Self {
            owner,
            state,
            shutdown,
            client: TestClient::new(&base),
        }
    }
}

impl TestClient {
    /// POSTs `body` (with `token` as Bearer when given); returns the status and the JSON answer (Null when
    /// the body is empty).
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        let request = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        answer(request.send().await.unwrap()).await
    }

    /// Signs `device` out with its refresh token.
    pub async fn sign_out(&self, device: &SignedIn) -> (StatusCode, Value) {
        let body = json!({"refresh_token": device.tokens.refresh_token});
        self.post("/v1/auth/logout", None, &body).await
    }

    /// Removes `device` from its account, asked by `by` (a device of the same account, or itself).
    pub async fn remove_device(&self, device: &SignedIn, by: &SignedIn) -> (StatusCode, Value) {
        let path = format!("/v1/devices/{}", device.device_id.0);
        self.delete(&path, &by.tokens.access_token, &Value::Null).await
    }

    /// Pushes, as `device`, its session 1 (begun this month) and a first chunk of `beats` beats; returns the
    /// session's key.
    pub async fn push_recording(&self, device: &SignedIn, beats: usize) -> String {
        let key = session_key(device, 1);
        let rows = vec![
            row(1, session(&key, recent_ms())),
            row(2, chunk(&key, 0.0, beats)),
        ];
        self.push(device, rows).await;
        key
    }

    /// `athlete` gives `coach_email` read access to its data; returns the answer's status.
    pub async fn grant_coach(&self, athlete: &SignedIn, coach_email: &str) -> StatusCode {
        let grant = json!({"coach_email": coach_email});
        let token = Some(athlete.tokens.access_token.as_str());
        self.post(auren_protocol::paths::COACH_GRANTS, token, &grant)
            .await
            .0
    }

    /// `athlete` takes that access back; returns the answer's status.
    pub async fn revoke_coach(&self, athlete: &SignedIn, coach_email: &str) -> StatusCode {
        let grant = json!({"coach_email": coach_email});
        let token = &athlete.tokens.access_token;
        self.delete(auren_protocol::paths::COACH_GRANTS, token, &grant)
            .await
            .0
    }

    /// A new account signed in on its first device.
    pub async fn account(&self, email: &str) -> SignedIn {
        let body = json!({"email": email, "password": "correct horse battery", "device_name": "laptop"});
        let (status, answer) = self.post("/v1/accounts", None, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        serde_json::from_value(answer).unwrap()
    }

    /// Another device of the account, signed in with the password.
    pub async fn login(&self, email: &str, device_name: &str) -> SignedIn {
        let body = json!({"email": email, "password": "correct horse battery", "device_name": device_name});
        let (status, answer) = self.post("/v1/auth/login", None, &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        serde_json::from_value(answer).unwrap()
    }

    pub async fn push(&self, device: &SignedIn, rows: Vec<PushRow>) -> PushResponse {
        let (status, answer) = self.push_raw(device, rows).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        serde_json::from_value(answer).unwrap()
    }

    pub async fn push_raw(&self, device: &SignedIn, rows: Vec<PushRow>) -> (StatusCode, Value) {
        let request = PushRequest {
            protocol_version: auren_protocol::PROTOCOL_VERSION,
            device_id: device.device_id.clone(),
            rows,
        };
        self.post(
            "/v1/sync/push",
            Some(&device.tokens.access_token),
            &serde_json::to_value(request).unwrap(),
        )
        .await
    }

    /// Pulls everything from `cursor` (following `more`), as `device`, optionally of an athlete.
    pub async fn pull_all(&self, device: &SignedIn, athlete: Option<&str>) -> (StatusCode, Vec<Value>) {
        let mut cursor = 0_i64;
        let mut changes = Vec::new();
        loop {
            let body = json!({"protocol_version": 1, "cursor": cursor, "athlete": athlete, "limit": 3});
            let (status, answer) = self
                .post("/v1/sync/pull", Some(&device.tokens.access_token), &body)
                .await;
            if status != StatusCode::OK {
                return (status, vec![answer]);
            }
            let next = answer["cursor"].as_i64().unwrap();
            assert!(next >= cursor, "cursors never go backwards");
            cursor = next;
            changes.extend(answer["changes"].as_array().unwrap().iter().cloned());
            if !answer["more"].as_bool().unwrap() {
                return (status, changes);
            }
        }
    }
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// The session key of local session `n` of `device`.
pub fn session_key(device: &SignedIn, n: i64) -> String {
    auren_protocol::change::session_key(&device.device_id, n)
}

/// A session row that started at `started_at` (Unix ms).
pub fn session(key: &str, started_at: i64) -> Change {
    Change::Session(SessionChange {
        session_key: key.to_owned(),
        started_at,
        ended_at: None,
        kind: "rest".to_owned(),
        source: "simulator:rest".to_owned(),
        strap: None,
    })
}

/// A chunk of `n` beats of 800–880 ms starting at session time `start_ms`.
pub fn chunk(key: &str, start_ms: f64, n: usize) -> Change {
    let rr_raw: Vec<u16> = (0..n).map(|i| 820 + (i as u16 * 7) % 80).collect();
    Change::Beats(BeatsChunk {
        session_key: key.to_owned(),
        start_ms,
        rr_raw,
        t_breaks: Vec::new(),
        rr_overrides: Vec::new(),
        artifacts: Vec::new(),
    })
}

pub fn row(outbox_id: i64, change: Change) -> PushRow {
    PushRow { outbox_id, change }
}

/// A Unix-ms time in the current month (so its partition exists from start-up).
pub fn recent_ms() -> i64 {
    auren_server::app::system_now_ms() - 3_600_000
}
