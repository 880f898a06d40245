//! `/readyz` over HTTP, with the dependencies Auren can do without away: PostgreSQL alone decides `ready`;
//! with Redis unreachable the server still serves, and `/readyz` and the metrics say at once that rate limits
//! are per process and wake-ups stay in this process; with the broker unreachable they say the alert
//! consumer cannot read it and, once a push waits in the outbox, that the relay cannot deliver it.
//!
//! The component gauges are process-wide and set by each `/readyz` answer, so only these tests call
//! `/readyz` on a server whose Redis answers — the other servers of this binary that do have no Redis, and
//! report the same value for it.

use std::time::Duration;

use crate::broker::eventually;
use crate::redis::{free_port, redis_url};
use crate::support::{TestClient, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn readyz(client: &TestClient) -> (StatusCode, Value) {
    client.get("/readyz", None).await
}

/// The value of `auren_component_state{component="…"}` in the metrics (0 up, 1 degraded, 2 down).
async fn component_gauge(client: &TestClient, component: &str) -> Option<f64> {
    let text = client
        .http
        .get(format!("{}/metrics", client.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("auren_component_state{{component=\"{component}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().parse().unwrap())
}

/// A component's state and reason in a `/readyz` answer.
fn component<'a>(ready: &'a Value, name: &str) -> (&'a str, &'a str) {
    let entry = &ready["components"][name];
    (
        entry["state"].as_str().unwrap_or("absent"),
        entry["reason"].as_str().unwrap_or(""),
    )
}

/// Signs up, pushes a session and pulls it back: the server serves.
async fn serves(server: &TestServer, email: &str) {
    let device = server.account(email).await;
    server.push_recording(&device, 20).await;
    let (status, changes) = server.pull_all(&device, None).await;
    assert_eq!((status, changes.len()), (StatusCode::OK, 2), "{changes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_it_serves_and_readyz_and_the_metrics_say_limits_are_per_process() {
    // With Redis answering, both Redis parts are up (the wake-up subscription takes a moment to start).
    let healthy = TestServer::start_with(|c| c.redis_url = Some(redis_url())).await;
    let subscribed = eventually(Duration::from_secs(20), async || {
        component(&readyz(&healthy).await.1, "redis_wake").0 == "up"
    })
    .await;
    assert!(
        subscribed,
        "the wake-up subscription started: {}",
        readyz(&healthy).await.1
    );
    let (status, ready) = readyz(&healthy).await;
    assert_eq!(
        (status, component(&ready, "redis_limiter")),
        (StatusCode::OK, ("up", "")),
        "{ready}"
    );

    // Redis is configured at a port nobody listens on: asked at once, before any request was limited.
    let nobody = format!("redis://127.0.0.1:{}", free_port());
    let server = TestServer::start_with(|c| c.redis_url = Some(nobody)).await;
    let (status, ready) = readyz(&server).await;
    assert_eq!(
        (status, &ready["ready"]),
        (StatusCode::OK, &json!(true)),
        "{ready}"
    );
    assert_eq!(component(&ready, "postgres"), ("up", ""), "{ready}");
    let (state, reason) = component(&ready, "redis_limiter");
    assert_eq!(state, "degraded", "{ready}");
    assert!(reason.starts_with("rate limits are per process: "), "{reason}");
    let (state, reason) = component(&ready, "redis_wake");
    assert_eq!(state, "degraded", "{ready}");
    assert!(
        reason.starts_with("long polls wake only in this process"),
        "{reason}"
    );
    assert_eq!(component_gauge(&server, "redis_limiter").await, Some(1.0));
    assert_eq!(component_gauge(&server, "redis_wake").await, Some(1.0));

    // Still serving, on the in-process limiter, and still saying so.
    serves(&server, "no-redis@example.com").await;
    let (status, after) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(component(&after, "redis_limiter").0, "degraded", "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_unreachable_it_serves_and_readyz_says_the_broker_cannot_be_reached() {
    let brokers = format!("127.0.0.1:{}", free_port());
    let server = TestServer::start_with(|c| c.kafka_brokers = Some(brokers.clone())).await;
    let consumer_says = eventually(Duration::from_secs(20), async || {
        component(&readyz(&server).await.1, "kafka_alert_consumer").0 == "degraded"
    })
    .await;
    let (status, ready) = readyz(&server).await;
    assert!(consumer_says, "{ready}");
    assert_eq!(
        (status, &ready["ready"]),
        (StatusCode::OK, &json!(true)),
        "{ready}"
    );
    assert!(
        component(&ready, "kafka_alert_consumer")
            .1
            .starts_with("consumer: "),
        "{ready}"
    );

    // A push is taken (the outbox holds it) and the relay, failing to deliver it, says so.
    serves(&server, "no-broker@example.com").await;
    let relay_says = eventually(Duration::from_secs(40), async || {
        component(&readyz(&server).await.1, "kafka_relay").0 == "degraded"
    })
    .await;
    let (status, ready) = readyz(&server).await;
    assert!(relay_says, "{ready}");
    assert_eq!(status, StatusCode::OK, "{ready}");
    let (_, reason) = component(&ready, "kafka_relay");
    assert!(
        reason.ends_with(&format!(
            "outbox rows not delivered to {brokers}; they stay queued"
        )),
        "{reason}"
    );
    assert_eq!(component_gauge(&server, "kafka_relay").await, Some(1.0));
}
