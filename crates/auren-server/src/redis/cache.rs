//! Cached answers (a user's daily trend, `GET /v1/trend`) in Redis with a time to live, shared by every
//! server process. A cache is only ever a shortcut: without Redis, or when it fails or holds something
//! unreadable, `get` says so ([`Lookup`]) and the caller computes the answer from PostgreSQL. Every lookup
//! is counted in `auren_cache_total{result}` (hit, miss, unreadable, unavailable: Redis configured but not
//! answering, off: no Redis configured), so the metrics show a cache that has stopped helping.
//! Entries are keyed by user and by the user's data version, so new data never meets a stale answer
//! (the TTL only bounds the memory of versions nobody asks for any more).

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{COMMAND_TIMEOUT, RedisLink};

/// Cached answers in Redis.
#[derive(Clone, Debug)]
pub struct TrendCache {
    redis: Option<RedisLink>,
    ttl: Duration,
}

impl TrendCache {
    /// A cache on `redis` (none: every `get` misses) whose entries live `ttl` (at least 1 s).
    pub fn new(redis: Option<RedisLink>, ttl: Duration) -> Self {
        Self {
            redis,
            ttl: ttl.max(Duration::from_secs(1)),
        }
    }

    /// The answer cached for `user` at data `version` under `name` (e.g. `trend:ln_rmssd:20400:20489`).
    pub async fn get<T: DeserializeOwned>(&self, user: Uuid, version: i64, name: &str) -> Lookup<T> {
        let lookup = self.look_up(user, version, name).await;
        metrics::counter!("auren_cache_total", "result" => lookup.label()).increment(1);
        lookup
    }

    async fn look_up<T: DeserializeOwned>(&self, user: Uuid, version: i64, name: &str) -> Lookup<T> {
        let Some(redis) = self.redis.as_ref() else {
            return Lookup::Off;
        };
        let mut conn = redis.commands();
        let mut command = ::redis::cmd("GET");
        command.arg(key(user, version, name));
        let read = command.query_async::<Option<Vec<u8>>>(&mut conn);
        let bytes = match tokio::time::timeout(COMMAND_TIMEOUT, read).await {
            Ok(Ok(Some(bytes))) => bytes,
            Ok(Ok(None)) => return Lookup::Miss,
            Ok(Err(_)) | Err(_) => return Lookup::Unavailable,
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => Lookup::Hit(value),
            Err(e) => {
                // Another version of the server wrote another shape: compute afresh (and overwrite it).
                tracing::warn!(error = %e, name, "cached answer unreadable; recomputing");
                Lookup::Unreadable
            }
        }
    }

    /// Caches `value` for `user` at data `version` under `name`; a failure is logged, never returned.
    pub async fn put<T: Serialize>(&self, user: Uuid, version: i64, name: &str, value: &T) {
        let Some(redis) = self.redis.as_ref() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        let mut conn = redis.commands();
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut command = ::redis::cmd("SET");
        command
            .arg(key(user, version, name))
            .arg(bytes)
            .arg("PX")
            .arg(ttl_ms);
        let write = command.query_async::<()>(&mut conn);
        if !matches!(tokio::time::timeout(COMMAND_TIMEOUT, write).await, Ok(Ok(()))) {
            tracing::debug!(name, "could not cache an answer");
        }
    }
}

/// What a cache lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<T> {
    Hit(T),
    /// Nothing cached: compute, then [`TrendCache::put`] the answer.
    Miss,
    /// Something of another shape was cached: compute, then put (it is overwritten).
    Unreadable,
    /// Redis is configured but did not answer: compute, and do not wait on it again to store the answer.
    Unavailable,
    /// No Redis is configured: nothing is ever cached.
    Off,
}

impl<T> Lookup<T> {
    /// The lookup's name in the metrics and the `x-auren-cache` header.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Hit(_) => "hit",
            Self::Miss => "miss",
            Self::Unreadable => "unreadable",
            Self::Unavailable => "unavailable",
            Self::Off => "off",
        }
    }

    /// Whether the computed answer should be stored.
    pub fn wants_answer(&self) -> bool {
        matches!(self, Self::Miss | Self::Unreadable)
    }
}

fn key(user: Uuid, version: i64, name: &str) -> String {
    format!("auren:cache:{user}:{version}:{name}")
}
