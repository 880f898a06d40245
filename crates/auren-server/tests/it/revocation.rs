//! A revocation sent while another process' subscription was cut is not missed by it. Pub/sub delivers at
//! most once, to whoever is subscribed at that instant: the process whose connection Redis has just dropped
//! hears nothing. It must not go on trusting what it cached as "live" for the next 30 s — when its
//! subscription is back, it asks PostgreSQL again. And a subscription that stops answering without closing
//! is found by the heartbeat PING, while a healthy one is left alone.

use std::time::Duration;

use auren_server::auth::revocation::{Ended, Revocations};
use auren_server::auth::tokens::AccessClaims;
use auren_server::error::ApiError;
use auren_server::redis::RedisLink;
use reqwest::StatusCode;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::broker::eventually;
use crate::redis::{PrivateRedis, free_port};

/// Revocations of another process subscribed through `link`, its first subscription up; they stop when the
/// guard drops.
async fn subscribed(link: RedisLink) -> (Revocations, DropGuard) {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone().drop_guard();
    let revocations = Revocations::start(Some(link), shutdown);
    assert!(eventually(Duration::from_secs(10), async || revocations.shared()).await);
    assert_eq!(revocations.subscriptions(), 1);
    (revocations, stop)
}

#[tokio::test]
async fn a_revocation_sent_while_the_subscription_was_cut_is_not_missed() {
    let (redis, link) = PrivateRedis::answering(free_port()).await;
    // Process one serves the requests; process two is another server process on the same database.
    let url = redis.url();
    let one = crate::support::TestServer::start_with(|c| c.redis_url = Some(url)).await;
    let (two, _stop) = subscribed(link).await;
    let laptop = one.account("cut@example.com").await;
    let phone = one.login("cut@example.com", "phone").await;
    let claims = AccessClaims {
        user_id: phone.user_id.0.parse().unwrap(),
        device_id: phone.device_id.0.parse().unwrap(),
        expires_at_ms: i64::MAX,
    };
    two.check(&one.owner, &claims).await.unwrap();
    // Process two now trusts the phone as live for LIVE_TTL_SHARED without asking.
    let subscriptions = two.subscriptions();

    // Redis cuts the subscribers' connections. This test runs on one thread and the command blocks it, so
    // no subscriber has read the end of its connection before the removal below is published.
    let killed: i64 = redis.admin(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert!(killed >= 1, "the subscribers' connections were cut");
    let (status, _) = one.remove_device(&phone, &laptop).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Process two subscribes again; from then on it must refuse the phone, though its cached "live" answer
    // is younger than both the 30 s it trusts one while subscribed and the 2 s while not.
    let resubscribed = eventually(Duration::from_secs(10), async || {
        two.shared() && two.subscriptions() > subscriptions
    })
    .await;
    assert!(resubscribed, "process two subscribed again");
    match two.check(&one.owner, &claims).await {
        Err(ApiError::TokenRevoked(Ended::DeviceRemoved)) => {}
        other => panic!("process two still accepts the removed phone: {other:?}"),
    }
}

/// The PING that finds a dead subscription must not take a healthy one for dead: over two heartbeats the
/// subscription stays the first one (a restart would forget every cached "live" answer each time).
#[tokio::test]
async fn a_healthy_subscription_survives_its_heartbeats() {
    let (_redis, link) = PrivateRedis::answering(free_port()).await;
    let (revocations, _stop) = subscribed(link).await;
    // Time passing is what is tested here: two heartbeats and a little more.
    tokio::time::sleep(auren_server::auth::revocation::HEARTBEAT * 2 + Duration::from_secs(1)).await;
    assert!(revocations.shared());
    assert_eq!(
        revocations.subscriptions(),
        1,
        "no heartbeat restarted the subscription"
    );
}

/// A subscription that stops answering without closing (here Redis pauses every client, as a half-open
/// connection would look) is found by the heartbeat and started again, forgetting the cached "live" answers;
/// without the PING it would be trusted as long as the connection stayed open.
#[tokio::test]
async fn a_subscription_that_stops_answering_is_started_again() {
    let (redis, link) = PrivateRedis::answering(free_port()).await;
    let (revocations, _stop) = subscribed(link).await;
    let heartbeat = auren_server::auth::revocation::HEARTBEAT;
    let pause_ms = (heartbeat + Duration::from_secs(2)).as_millis().to_string();
    let paused: String = redis.admin(&["CLIENT", "PAUSE", &pause_ms, "ALL"]);
    assert_eq!(paused, "OK");
    let restarted = eventually(heartbeat * 4, async || {
        revocations.subscriptions() >= 2 && revocations.shared()
    })
    .await;
    assert!(
        restarted,
        "the silent subscription was started again ({} subscriptions)",
        revocations.subscriptions()
    );
}
