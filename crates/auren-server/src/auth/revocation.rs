//! Access-token revocation. An access token (PASETO, 15 minutes) cannot be recalled once issued, so every
//! authenticated request also asks whether the token's device is still signed in: removed devices, signed-out
//! devices and devices whose refresh token was reused answer `401 token_revoked` on their next request.
//!
//! The truth is PostgreSQL (`auren_device_access`, migration 0003: the device's `revoked_at` and its refresh
//! family). Asking it on every request would add a round trip to each one, so each process keeps what it
//! learnt per device:
//! - an ended sign-in is remembered for good (it never comes back: signing in again makes a new device);
//! - a live one is trusted for [`LIVE_TTL_SHARED`] while revocations reach this process through Redis
//!   pub/sub, and only for [`LIVE_TTL_ALONE`] when they cannot (no Redis, or the subscription is down), which
//!   bounds how long another process may still accept a token this one revoked.
//!
//! A revocation made here is applied to this process' cache at once, before the request that made it answers,
//! and published on [`REVOKED_CHANNEL`] for the others (whether or not this process' own subscription is up:
//! the others may well be listening). A lookup that raced with a revocation never overwrites the revocation
//! with its stale "live" answer.
//!
//! Pub/sub delivers at most once, to whoever is subscribed at that instant, so a revocation published while
//! this process' subscription was cut (Redis dropped the connection, and until the subscriber reads the end
//! of it the subscription still looks up) is lost to it. Hence: when the subscription (re)starts, every
//! "live" entry is forgotten and the next request of each device asks PostgreSQL again; a lookup that began
//! before that moment does not store its answer (it may predate the revocation the lost message carried);
//! and the subscription is PINGed every [`HEARTBEAT`], so one that died without a word (a half-open TCP
//! connection) is noticed and restarted rather than trusted with [`LIVE_TTL_SHARED`] for ever.

use crate::auth::tokens::AccessClaims;
use crate::error::ApiError;
use crate::redis::{COMMAND_TIMEOUT, RedisLink};
use futures::StreamExt as _;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The Redis channel revocations travel on (`ORIGIN DEVICE REASON`).
pub const REVOKED_CHANNEL: &str = "auren:revoked";
/// How long a "live" answer is trusted while revocations reach this process through Redis; it bounds the
/// damage of a message pub/sub lost (at-most-once delivery).
pub const LIVE_TTL_SHARED: Duration = Duration::from_secs(30);
/// How long a "live" answer is trusted when other processes' revocations cannot reach this one.
pub const LIVE_TTL_ALONE: Duration = Duration::from_secs(2);
/// Entries kept before the "live" ones are dropped (ended ones are small and permanent).
const MAX_ENTRIES: usize = 200_000;
/// Waits between attempts to re-subscribe after the subscription broke.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);
/// How often the subscription connection is PINGed (a dead one is restarted, forgetting "live" entries).
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// Why a device's sign-in ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Another device of the account removed it.
    DeviceRemoved,
    /// It signed out.
    SignedOut,
    /// Its refresh token was presented twice, so its family was revoked.
    Reused,
    /// No such device of the token's user (the account was deleted).
    Unknown,
}

impl Ended {
    /// The database's word for it (`refresh_families.revoked_reason`, `auren_device_access`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeviceRemoved => "device_removed",
            Self::SignedOut => "logout",
            Self::Reused => "reuse",
            Self::Unknown => "unknown",
        }
    }

    /// Reads the database's word; an unknown word counts as ended (never as live).
    pub fn parse(word: &str) -> Self {
        match word {
            "device_removed" => Self::DeviceRemoved,
            "logout" => Self::SignedOut,
            "reuse" => Self::Reused,
            _ => Self::Unknown,
        }
    }

    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::DeviceRemoved => "this device was removed from the account; sign in again to sync from it",
            Self::SignedOut => "this device signed out; sign in again",
            Self::Reused => {
                "this sign-in was revoked because its refresh token was used twice; sign in again"
            }
            Self::Unknown => "the access token's device is not part of this account; sign in again",
        }
    }
}

/// What this process knows of one device.
#[derive(Clone, Copy, Debug)]
enum Known {
    Live { checked_at: Instant },
    Ended(Ended),
}

/// The per-process revocation check; cheap to clone.
#[derive(Clone, Debug)]
pub struct Revocations {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    redis: Option<RedisLink>,
    /// Names this process in the messages it publishes, so its subscriber skips its own.
    origin: Uuid,
    known: Mutex<HashMap<Uuid, Known>>,
    subscribed: AtomicBool,
    /// How many times the subscription was (re)established; each time "live" entries are forgotten, and a
    /// lookup that began under an earlier value does not store its answer.
    subscriptions: AtomicU64,
}

impl Revocations {
    /// The check; with `redis`, a subscriber task runs until `shutdown` (re-subscribing after failures).
    pub fn start(redis: Option<RedisLink>, shutdown: CancellationToken) -> Self {
        let revocations = Self {
            inner: Arc::new(Inner {
                redis,
                origin: Uuid::new_v4(),
                known: Mutex::new(HashMap::new()),
                subscribed: AtomicBool::new(false),
                subscriptions: AtomicU64::new(0),
            }),
        };
        if revocations.inner.redis.is_some() {
            let task = revocations.clone();
            tokio::spawn(async move { task.subscribe_loop(shutdown).await });
        }
        revocations
    }

    /// Refuses the token of a device whose sign-in has ended (`401 token_revoked`).
    pub async fn check(&self, pool: &PgPool, claims: &AccessClaims) -> Result<(), ApiError> {
        let ttl = self.live_ttl();
        match self.lock().get(&claims.device_id) {
            Some(Known::Ended(ended)) => return Err(ApiError::TokenRevoked(*ended)),
            Some(Known::Live { checked_at }) if checked_at.elapsed() < ttl => {
                metrics::counter!("auren_token_revocation_checks_total", "answer" => "cached").increment(1);
                return Ok(());
            }
            _ => {}
        }
        metrics::counter!("auren_token_revocation_checks_total", "answer" => "database").increment(1);
        let (asked_at, subscriptions) = (Instant::now(), self.subscriptions());
        let word: Option<String> = sqlx::query_scalar("SELECT auren_device_access($1, $2)")
            .bind(claims.user_id)
            .bind(claims.device_id)
            .fetch_one(pool)
            .await?;
        match word.as_deref().map(Ended::parse) {
            None => match self.remember_live(claims.device_id, asked_at, subscriptions) {
                Some(Known::Ended(ended)) => Err(ApiError::TokenRevoked(ended)),
                Some(Known::Live { .. }) | None => Ok(()),
            },
            Some(ended) => {
                self.remember(claims.device_id, Known::Ended(ended));
                Err(ApiError::TokenRevoked(ended))
            }
        }
    }

    /// Applies a revocation this process committed: here at once, in the other processes through Redis.
    pub async fn revoked(&self, device: Uuid, ended: Ended) {
        self.remember(device, Known::Ended(ended));
        // Published even while this process' own subscription is down: the others may be listening.
        let Some(redis) = self.inner.redis.as_ref() else {
            return;
        };
        let message = format!("{} {device} {}", self.inner.origin, ended.as_str());
        let mut conn = redis.commands();
        let mut publish = ::redis::cmd("PUBLISH");
        publish.arg(REVOKED_CHANNEL).arg(message);
        let sent = tokio::time::timeout(COMMAND_TIMEOUT, publish.query_async::<i64>(&mut conn)).await;
        if !matches!(sent, Ok(Ok(_))) {
            metrics::counter!("auren_revocation_publish_failed_total").increment(1);
            tracing::warn!(%device, "could not publish a revocation; other processes learn it within their cache's lifetime");
        }
    }

    /// How long a "live" answer is trusted now.
    fn live_ttl(&self) -> Duration {
        if self.inner.subscribed.load(Ordering::Relaxed) {
            LIVE_TTL_SHARED
        } else {
            LIVE_TTL_ALONE
        }
    }

    /// Stores `known` unless the device is already known to have ended (a revocation is never undone by
    /// a lookup that started before it); returns what is stored.
    fn remember(&self, device: Uuid, known: Known) -> Known {
        store(&mut self.lock(), device, known)
    }

    /// Stores a "live" answer asked at `asked_at`, unless the subscription restarted since the lookup began
    /// (`subscriptions` is the count then): the answer may predate a revocation whose message was lost, and
    /// the restart has just forgotten every "live" entry for that reason. Returns what is stored, `None` when
    /// nothing was (the request still goes through: PostgreSQL said live when asked).
    fn remember_live(&self, device: Uuid, asked_at: Instant, subscriptions: u64) -> Option<Known> {
        let live = Known::Live { checked_at: asked_at };
        let mut map = self.lock();
        // Compared under the lock `forget_live` takes too: a restart cannot slip between test and store.
        if self.subscriptions() != subscriptions {
            return map.get(&device).copied().filter(|k| matches!(k, Known::Ended(_)));
        }
        Some(store(&mut map, device, live))
    }

    /// Forgets every "live" answer and counts a (re)started subscription, as one step under the map's lock.
    fn forget_live(&self) {
        let mut map = self.lock();
        map.retain(|_, k| matches!(k, Known::Ended(_)));
        self.inner.subscriptions.fetch_add(1, Ordering::SeqCst);
    }

    /// How many times the subscription was (re)established (each time every "live" answer was forgotten).
    pub fn subscriptions(&self) -> u64 {
        self.inner.subscriptions.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Known>> {
        // A poisoned map still holds valid entries (each is written whole).
        self.inner.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn subscribe_loop(self, shutdown: CancellationToken) {
        let Some(redis) = self.inner.redis.clone() else {
            return;
        };
        while !shutdown.is_cancelled() {
            if let Err(why) = self.run_subscription(&redis, &shutdown).await {
                if self.inner.subscribed.swap(false, Ordering::Relaxed) {
                    tracing::warn!(
                        why,
                        "revocation subscription lost; live tokens are re-checked every {LIVE_TTL_ALONE:?}"
                    );
                }
            } else {
                return;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RESUBSCRIBE_DELAY) => {}
            }
        }
    }

    /// Subscribes and applies messages until shutdown (`Ok`) or the connection breaks (`Err` with why).
    async fn run_subscription(&self, redis: &RedisLink, shutdown: &CancellationToken) -> Result<(), String> {
        let (mut sink, mut messages) = redis.subscribe(REVOKED_CHANNEL).await?.split();
        // Revocations published while we were not listening are lost: re-ask PostgreSQL for every device.
        self.forget_live();
        self.inner.subscribed.store(true, Ordering::Relaxed);
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = heartbeat.tick() => {
                    let pong = tokio::time::timeout(COMMAND_TIMEOUT * 4, sink.ping::<::redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        return Err("the subscription connection did not answer PING".to_owned());
                    }
                }
                message = messages.next() => match message {
                    Some(message) => {
                        let payload: String = message.get_payload().unwrap_or_default();
                        match parse_message(&payload) {
                            Some((origin, _, _)) if origin == self.inner.origin => {}
                            Some((_, device, ended)) => {
                                self.remember(device, Known::Ended(ended));
                            }
                            None => tracing::warn!(payload, "revocation message is not `ORIGIN DEVICE REASON`"),
                        }
                    }
                    None => return Err("the subscription connection closed".to_owned()),
                },
            }
        }
    }

    /// Whether revocations from other processes reach this one (for tests and `/readyz`-like reports).
    pub fn shared(&self) -> bool {
        self.inner.subscribed.load(Ordering::Relaxed)
    }
}

/// Stores `known` for `device` unless the device is already known to have ended; returns what is stored.
fn store(map: &mut HashMap<Uuid, Known>, device: Uuid, known: Known) -> Known {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, k| matches!(k, Known::Ended(_)));
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
    }
    let entry = map.entry(device).or_insert(known);
    if !matches!(entry, Known::Ended(_)) {
        *entry = known;
    }
    *entry
}

/// `ORIGIN DEVICE REASON` → its parts.
fn parse_message(payload: &str) -> Option<(Uuid, Uuid, Ended)> {
    let mut parts = payload.split(' ');
    let origin = Uuid::parse_str(parts.next()?).ok()?;
    let device = Uuid::parse_str(parts.next()?).ok()?;
    let ended = Ended::parse(parts.next()?);
    parts.next().is_none().then_some((origin, device, ended))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_and_malformed_ones_are_refused() {
        let (origin, device) = (Uuid::new_v4(), Uuid::new_v4());
        for ended in [
            Ended::DeviceRemoved,
            Ended::SignedOut,
            Ended::Reused,
            Ended::Unknown,
        ] {
            let text = format!("{origin} {device} {}", ended.as_str());
            assert_eq!(parse_message(&text), Some((origin, device, ended)));
        }
        for bad in [
            "",
            "x y z",
            &format!("{origin} {device}"),
            &format!("{origin} {device} logout extra"),
        ] {
            assert_eq!(parse_message(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_stale_live_answer_never_undoes_a_revocation() {
        let revocations = Revocations::start(None, CancellationToken::new());
        let device = Uuid::new_v4();
        let live = Known::Live {
            checked_at: Instant::now(),
        };
        assert!(matches!(revocations.remember(device, live), Known::Live { .. }));
        revocations.revoked(device, Ended::DeviceRemoved).await;
        assert!(matches!(
            revocations.remember(device, live),
            Known::Ended(Ended::DeviceRemoved)
        ));
        revocations.forget_live();
        assert!(matches!(
            revocations.remember(device, live),
            Known::Ended(Ended::DeviceRemoved)
        ));
    }

    #[tokio::test]
    async fn a_lookup_that_began_before_the_subscription_restarted_stores_nothing() {
        let revocations = Revocations::start(None, CancellationToken::new());
        let device = Uuid::new_v4();
        let began = revocations.subscriptions();
        // The subscription restarts while the lookup waits for PostgreSQL.
        revocations.forget_live();
        assert!(revocations.remember_live(device, Instant::now(), began).is_none());
        assert!(revocations.lock().get(&device).is_none(), "nothing cached");
        // A lookup that began after the restart is cached.
        let began = revocations.subscriptions();
        assert!(matches!(
            revocations.remember_live(device, Instant::now(), began),
            Some(Known::Live { .. })
        ));
        // A revocation learnt meanwhile still wins, restart or not.
        revocations.revoked(device, Ended::SignedOut).await;
        revocations.forget_live();
        assert!(matches!(
            revocations.remember_live(device, Instant::now(), began),
            Some(Known::Ended(Ended::SignedOut))
        ));
    }
}
