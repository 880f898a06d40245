//! What the access-token revocation check adds to a request: the cached answer (a map lookup under a
//! mutex) and a cache miss (one `auren_device_access` round trip to PostgreSQL through the app pool), each
//! timed over many calls on a fresh database of the local cluster. Also, for scale, what opening the access
//! token costs: decrypting one this process has not seen, and finding one it has already opened.
//! Run: `cargo run --release -p auren-server --example revocation_cost`.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a measurement, not a library"
)]

use auren_server::auth::password::HashCost;
use auren_server::auth::revocation::Revocations;
use auren_server::server::{Server, ServerConfig};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

const HITS: u32 = 200_000;
const MISSES: u32 = 5_000;

#[tokio::main]
async fn main() {
    // reqwest is built without a crypto provider of its own (see the workspace Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .expect("PostgreSQL on 127.0.0.1:5432");
    let name = format!("auren_revocation_cost_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let shutdown = CancellationToken::new();
    let mut config = ServerConfig::new(url, "127.0.0.1:0".parse().unwrap());
    config.hash_cost = HashCost::Minimal;
    let server = Server::start(config, shutdown.clone()).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let state = server.state().clone();
    tokio::spawn(server.serve(shutdown.clone()));
    let signed: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/v1/accounts"))
        .json(&serde_json::json!({"email": "cost@example.org", "password": "correct horse battery", "device_name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed["tokens"]["access_token"].as_str().unwrap().to_owned();
    let now = auren_server::app::system_now_ms();

    let claims = state.tokens.verify(&token, now).unwrap();
    let unseen: Vec<String> = (0..MISSES)
        .map(|_| {
            let (token, _) = state.tokens.issue(claims.user_id, claims.device_id, now).unwrap();
            token
        })
        .collect();
    let started = Instant::now();
    for token in &unseen {
        std::hint::black_box(state.tokens.verify(token, now).unwrap());
    }
    let decrypt = started.elapsed() / MISSES;
    let started = Instant::now();
    for _ in 0..HITS {
        std::hint::black_box(state.tokens.verify(&token, now).unwrap());
    }
    let opened = started.elapsed() / HITS;

    let cached = Revocations::start(None, shutdown.clone());
    cached.check(&state.pools.app, &claims).await.unwrap();
    let started = Instant::now();
    for _ in 0..HITS {
        cached.check(&state.pools.app, &claims).await.unwrap();
    }
    let hit = started.elapsed() / HITS;

    let mut misses = Vec::with_capacity(MISSES as usize);
    for _ in 0..MISSES {
        // A new cache each time: every check asks PostgreSQL.
        let cold = Revocations::start(None, shutdown.clone());
        let started = Instant::now();
        cold.check(&state.pools.app, &claims).await.unwrap();
        misses.push(started.elapsed());
    }
    misses.sort_unstable();
    let median = misses[misses.len() / 2];
    let p99 = misses[misses.len() * 99 / 100];

    println!("access token, not seen before (decrypted): {decrypt:>10.2?}  ({MISSES} tokens)");
    println!("access token, opened before (cached):      {opened:>10.2?}  ({HITS} calls)");
    println!("revocation check, cached:                 {hit:>10.2?}  ({HITS} calls)");
    println!(
        "revocation check, PostgreSQL (miss):      median {median:.2?}, p99 {p99:.2?}  ({MISSES} calls)"
    );
    shutdown.cancel();
    state.pools.app.close().await;
    state.pools.owner.close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await;
}
