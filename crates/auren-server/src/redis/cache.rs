//! Cached answers (a user's daily trend, computed from a year of beats) in Redis with a time to live, shared
//! by every server process. A cache is only ever a shortcut: without Redis, or when it fails or holds
//! something unreadable, `get` answers `None` and the caller computes the answer from PostgreSQL.
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

    /// The answer cached for `user` at data `version` under `name` (e.g. `trend:90d`), if any.
    pub async fn get<T: DeserializeOwned>(&self, user: Uuid, version: i64, name: &str) -> Option<T> {
        let redis = self.redis.as_ref()?;
        let mut conn = redis.commands();
        let mut command = ::redis::cmd("GET");
        command.arg(key(user, version, name));
        let read = command.query_async::<Option<Vec<u8>>>(&mut conn);
        let bytes = match tokio::time::timeout(COMMAND_TIMEOUT, read).await {
            Ok(Ok(Some(bytes))) => bytes,
            Ok(Ok(None)) => {
                metrics::counter!("auren_cache_total", "result" => "miss").increment(1);
                return None;
            }
            Ok(Err(_)) | Err(_) => {
                metrics::counter!("auren_cache_total", "result" => "error").increment(1);
                return None;
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => {
                metrics::counter!("auren_cache_total", "result" => "hit").increment(1);
                Some(value)
            }
            Err(e) => {
                // Another version of the server wrote another shape: compute afresh (and overwrite it).
                tracing::warn!(error = %e, name, "cached answer unreadable; recomputing");
                metrics::counter!("auren_cache_total", "result" => "unreadable").increment(1);
                None
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

fn key(user: Uuid, version: i64, name: &str) -> String {
    format!("auren:cache:{user}:{version}:{name}")
}
