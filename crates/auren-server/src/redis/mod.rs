//! Redis for the server: global rate limits ([`Limiter`], GCRA in a Lua script), cached trend answers
//! ([`TrendCache`]) and long-poll wake-ups across server processes ([`Wake`], pub/sub).
//!
//! Redis is an accelerator, never a dependency the server stops for: every part has a fallback (an
//! in-process limiter, a cache miss, an in-process wake-up) and reports which one it is using through
//! `status()`, so `/readyz` and the metrics say so. [`RedisLink`] connects lazily and reconnects on its own
//! (redis-rs' `ConnectionManager`), so a server started while Redis is down picks it up when it returns.

mod cache;
mod limiter;
mod wake;

pub use cache::{Lookup, TrendCache};
pub use limiter::{Decision, Limiter, LimiterMode, Quota};
pub use wake::{Wake, WakeListener};

use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long one Redis command may take before the caller falls back: a request must not wait on a Redis
/// that has gone away (the OS connect timeout is far longer).
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

/// Why Redis could not be set up (only a malformed URL: an unreachable server is a fallback, not an error).
#[derive(Debug, thiserror::Error)]
pub enum RedisSetupError {
    #[error("AUREN_REDIS_URL {url:?} is not a Redis URL (expected redis://HOST:PORT[/DB])")]
    BadUrl {
        url: String,
        #[source]
        source: ::redis::RedisError,
    },
}

/// One Redis server: a reconnecting multiplexed connection for commands and the client for pub/sub.
#[derive(Clone)]
pub struct RedisLink {
    client: ::redis::Client,
    commands: ConnectionManager,
    url: String,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only its host part is shown.
        f.debug_struct("RedisLink")
            .field("server", &redacted(&self.url))
            .finish_non_exhaustive()
    }
}

impl RedisLink {
    /// A link to the Redis at `url`; connects on first use, so it succeeds while Redis is down.
    pub fn new(url: &str) -> Result<Self, RedisSetupError> {
        let bad = |source| RedisSetupError::BadUrl {
            url: redacted(url),
            source,
        };
        let client = ::redis::Client::open(url).map_err(bad)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            // Few, quick retries: a request waits at most a few hundred ms before its fallback answers.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let commands = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(bad)?;
        Ok(Self {
            client,
            commands,
            url: url.to_owned(),
        })
    }

    /// A handle for commands (cheap to clone; one multiplexed connection underneath).
    pub(crate) fn commands(&self) -> ConnectionManager {
        self.commands.clone()
    }

    /// A pub/sub connection subscribed to `channel`, or why not. The connection gets four command timeouts:
    /// a Redis that does not answer must not hold up the loop that resubscribes.
    pub(crate) async fn subscribe(&self, channel: &str) -> Result<::redis::aio::PubSub, String> {
        let connect = self.client.get_async_pubsub();
        let mut pubsub = match tokio::time::timeout(COMMAND_TIMEOUT * 4, connect).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Err(format!("cannot subscribe: {e}")),
            Err(_) => return Err("Redis did not answer the subscription".to_owned()),
        };
        pubsub
            .subscribe(channel)
            .await
            .map_err(|e| format!("cannot subscribe: {e}"))?;
        Ok(pubsub)
    }

    /// Whether Redis answers a PING within [`COMMAND_TIMEOUT`].
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.commands();
        let command = ::redis::cmd("PING");
        let ping = command.query_async::<String>(&mut conn);
        match tokio::time::timeout(COMMAND_TIMEOUT, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("Redis at {}: {e}", redacted(&self.url))),
            Err(_) => Err(format!(
                "Redis at {} did not answer within {COMMAND_TIMEOUT:?}",
                redacted(&self.url)
            )),
        }
    }
}

/// `url` without a password (`redis://:secret@host` → `redis://***@host`).
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &url[..scheme + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            (
                "redis://:hunter2@127.0.0.1:6379/0",
                "redis://***@127.0.0.1:6379/0",
            ),
            ("redis://user:pw@h", "redis://***@h"),
        ] {
            assert_eq!(super::redacted(url), shown);
        }
    }
}
