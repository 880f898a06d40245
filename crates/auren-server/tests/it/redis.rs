//! The Redis parts on a real Redis: one exact limit across two limiters on separate connections (two server
//! processes), the in-process fallback when Redis is away and the return to Redis, wake-ups that cross
//! processes, and the cache.

use std::num::NonZeroU32;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use auren_server::ComponentStatus;
use auren_server::redis::{Decision, Limiter, LimiterMode, Lookup, Quota, RedisLink, TrendCache, Wake};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::broker::eventually;

/// The Redis `cargo xtask services up` names, else the one the project's machines run.
pub fn redis_url() -> String {
    std::env::var("AUREN_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn link() -> RedisLink {
    RedisLink::new(&redis_url()).unwrap()
}

#[tokio::test]
async fn two_limiters_on_separate_connections_share_one_exact_limit() {
    link().ping().await.expect("Redis must answer for this test");
    let a = std::sync::Arc::new(Limiter::new(Some(link())));
    let b = std::sync::Arc::new(Limiter::new(Some(link())));
    let key = format!("test:{}", Uuid::new_v4());
    let quota = Quota::per_minute(NonZeroU32::new(50).unwrap());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move { limiter.check(&key, quota).await }));
    }
    let mut allowed = 0;
    let mut denied_retry = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Decision::Allow { .. } => allowed += 1,
            Decision::Deny { retry_after } => denied_retry.push(retry_after),
        }
    }
    assert_eq!(allowed, 50, "exactly the quota across both limiters");
    assert_eq!(denied_retry.len(), 150);
    // The next request fits one emission interval (60 s / 50 = 1.2 s) after the burst, give or take the
    // time the burst took.
    assert!(denied_retry.iter().all(|r| *r <= Duration::from_millis(1_200)));
    assert_eq!(a.mode(), LimiterMode::Shared);
    assert_eq!(b.mode(), LimiterMode::Shared);
    assert_eq!(a.status(), ComponentStatus::Up);
}

/// A private redis-server on a free port, killed on drop.
pub struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    pub fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (cargo xtask services up installs it)");
        Self { child, port }
    }

    /// A private Redis on `port` and a link to it, once it answers.
    pub async fn answering(port: u16) -> (Self, RedisLink) {
        let redis = Self::start(port);
        let link = RedisLink::new(&redis.url()).unwrap();
        let up = eventually(Duration::from_secs(10), async || link.ping().await.is_ok()).await;
        assert!(up, "the private Redis answers");
        (redis, link)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs `command` on a new blocking connection. It blocks the calling thread: on a single-threaded
    /// runtime no task of the test (no subscriber) runs between it and what the test does next.
    pub fn admin<T: ::redis::FromRedisValue>(&self, command: &[&str]) -> T {
        let mut admin = ::redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap();
        let (name, args) = command.split_first().unwrap();
        ::redis::cmd(name).arg(args).query(&mut admin).unwrap()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on (bound, then released); shared by the test binary's modules.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_limiter_limits_in_process_while_redis_is_away_and_returns_to_it() {
    let port = free_port();
    let (mut redis, link) = PrivateRedis::answering(port).await;
    let limiter = Limiter::new(Some(link.clone()));
    let quota = Quota::per_minute(NonZeroU32::new(3).unwrap());
    assert!(limiter.check("before", quota).await.is_allowed());
    assert_eq!(limiter.mode(), LimiterMode::Shared);

    redis.stop();
    // Still deciding, by the same rule, in this process; and saying so.
    let mut allowed = 0;
    for _ in 0..10 {
        allowed += usize::from(limiter.check("while-away", quota).await.is_allowed());
    }
    assert_eq!(allowed, 3);
    assert!(
        matches!(limiter.mode(), LimiterMode::Local { .. }),
        "{:?}",
        limiter.mode()
    );
    assert!(matches!(limiter.status(), ComponentStatus::Degraded { .. }));

    let _redis = PrivateRedis::start(port);
    let back = eventually(Duration::from_secs(15), async || {
        limiter.check("after", quota).await;
        limiter.mode() == LimiterMode::Shared
    })
    .await;
    assert!(back, "the limiter went back to Redis: {:?}", limiter.mode());
}

#[tokio::test]
async fn a_notification_wakes_a_long_poll_parked_on_another_process() {
    link().ping().await.expect("Redis must answer for this test");
    let shutdown = CancellationToken::new();
    let process_a = Wake::start(Some(link()), shutdown.clone());
    let process_b = Wake::start(Some(link()), shutdown.clone());
    let both_subscribed = eventually(Duration::from_secs(10), async || {
        process_a.status() == ComponentStatus::Up && process_b.status() == ComponentStatus::Up
    })
    .await;
    assert!(
        both_subscribed,
        "{:?} {:?}",
        process_a.status(),
        process_b.status()
    );
    let user = Uuid::new_v4();
    let other = Uuid::new_v4();
    let mut parked = process_b.listen(user);
    let mut bystander = process_b.listen(other);
    process_a.notify(user).await;
    tokio::time::timeout(Duration::from_secs(5), parked.notified())
        .await
        .expect("the long poll on process B was woken by process A's notification");
    // Another user's poll stays parked.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), bystander.notified())
            .await
            .is_err()
    );
    shutdown.cancel();
}

/// Redis dropped the subscriber's connection (an output-buffer overflow, a failover) and the subscriber has
/// not read the end of it yet: the subscription still looks up. A push in that window must still wake this
/// process' polls — pub/sub delivers to whoever is subscribed at that instant, here nobody.
#[tokio::test]
async fn a_notification_wakes_this_process_while_redis_has_just_dropped_its_subscription() {
    let (redis, link) = PrivateRedis::answering(free_port()).await;
    let shutdown = CancellationToken::new();
    let wake = Wake::start(Some(link), shutdown.clone());
    assert!(
        eventually(Duration::from_secs(10), async || wake.status()
            == ComponentStatus::Up)
        .await
    );
    let user = Uuid::new_v4();
    let mut parked = wake.listen(user);
    // A blocking command on this single-threaded runtime: the subscriber task cannot run between the kill
    // and the notification, so it cannot have noticed.
    let killed: i64 = redis.admin(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert_eq!(killed, 1, "the subscriber's connection was cut");
    wake.notify(user).await;
    tokio::time::timeout(Duration::from_secs(1), parked.notified())
        .await
        .expect("the poll parked on this process was woken");
    shutdown.cancel();
}

#[tokio::test]
async fn without_redis_a_notification_wakes_this_process_and_says_so() {
    let wake = Wake::start(None, CancellationToken::new());
    assert!(matches!(wake.status(), ComponentStatus::Degraded { .. }));
    let user = Uuid::new_v4();
    let mut parked = wake.listen(user);
    wake.notify(user).await;
    tokio::time::timeout(Duration::from_secs(1), parked.notified())
        .await
        .expect("woken in-process");
    assert_eq!(wake.waiting_users(), 1);
}

#[tokio::test]
async fn cached_answers_are_per_user_and_version_and_expire() {
    link().ping().await.expect("Redis must answer for this test");
    let cache = TrendCache::new(Some(link()), Duration::from_secs(30));
    let user = Uuid::new_v4();
    let trend = vec![(20_000_i64, 55.5_f64), (20_001, 61.0)];
    type Answer = Vec<(i64, f64)>;
    assert_eq!(cache.get::<Answer>(user, 7, "trend:90d").await, Lookup::Miss);
    cache.put(user, 7, "trend:90d", &trend).await;
    assert_eq!(
        cache.get::<Answer>(user, 7, "trend:90d").await,
        Lookup::Hit(trend.clone())
    );
    // New data (a new version) never meets the old answer; nor does another user.
    assert_eq!(cache.get::<Answer>(user, 8, "trend:90d").await, Lookup::Miss);
    assert_eq!(
        cache.get::<Answer>(Uuid::new_v4(), 7, "trend:90d").await,
        Lookup::Miss
    );
    // Another shape under the key (an older server's) is recomputed, not served.
    assert_eq!(
        cache.get::<String>(user, 7, "trend:90d").await,
        Lookup::Unreadable
    );
    // The entry carries its TTL.
    let client = ::redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut pttl = ::redis::cmd("PTTL");
    pttl.arg(format!("auren:cache:{user}:7:trend:90d"));
    let ttl_ms: i64 = pttl.query_async(&mut conn).await.unwrap();
    assert!((1..=30_000).contains(&ttl_ms), "{ttl_ms}");
    // Without Redis the cache is off; with a Redis that does not answer it is unavailable.
    let none = TrendCache::new(None, Duration::from_secs(30));
    none.put(user, 7, "trend:90d", &trend).await;
    assert_eq!(none.get::<Answer>(user, 7, "trend:90d").await, Lookup::Off);
    let gone = RedisLink::new(&format!("redis://127.0.0.1:{}", free_port())).unwrap();
    let away = TrendCache::new(Some(gone), Duration::from_secs(30));
    assert_eq!(
        away.get::<Answer>(user, 7, "trend:90d").await,
        Lookup::Unavailable
    );
}
