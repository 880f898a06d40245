//! "User X has something new": wakes the long polls waiting for that user, in every server process.
//!
//! A notification is published on one Redis channel; each process runs one subscriber task that turns
//! the messages into in-process wake-ups, so a push handled by process A wakes a long poll parked on
//! process B. Without Redis (none configured, or the subscriber is reconnecting) a notification wakes this
//! process' waiters directly, and the others find the news when their long poll times out and they pull
//! again — slower, never lost, because a wake-up only says "pull now", the data is in PostgreSQL.
//!
//! Waiters are one `watch` channel per user with someone waiting, so a wake-up costs one map lookup however
//! many devices are parked. A waiter must [`Wake::listen`] before it reads the user's version, then wait:
//! a change that lands between the read and the wait still wakes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ComponentStatus;

use super::{COMMAND_TIMEOUT, RedisLink};

/// The Redis channel notifications travel on (the payload is the user's id).
pub const WAKE_CHANNEL: &str = "auren:wake";

/// Waits between attempts to re-subscribe after the subscription broke.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);

/// Wakes long polls by user, across server processes when Redis is there.
#[derive(Clone, Debug)]
pub struct Wake {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    redis: Option<RedisLink>,
    waiters: Mutex<Waiters>,
    /// Why the subscription is not running, `None` while it is (or no Redis is configured).
    subscription_down: Mutex<Option<String>>,
}

/// The channels of users with someone waiting (or who had someone, until the next prune).
#[derive(Debug)]
struct Waiters {
    by_user: HashMap<Uuid, watch::Sender<u64>>,
    /// Channels whose listeners all left are dropped when the map reaches this size (a scan per doubling,
    /// not per wake-up).
    prune_at: usize,
}

/// Size below which the waiter map is never scanned for abandoned channels.
const MIN_PRUNE_AT: usize = 1_024;

/// One waiter's view of a user's wake-ups.
#[derive(Debug)]
pub struct WakeListener {
    receiver: watch::Receiver<u64>,
}

impl WakeListener {
    /// Returns once the user has been notified since this listener was made (or since the last return).
    pub async fn notified(&mut self) {
        // An error means the sender is gone, which only happens when the Wake is dropped: nothing will
        // wake this listener again, so waiting forever would hang the poll; return instead.
        let _ = self.receiver.changed().await;
    }
}

impl Wake {
    /// A Wake; with `redis`, a subscriber task runs until `shutdown` (re-subscribing after failures).
    pub fn start(redis: Option<RedisLink>, shutdown: CancellationToken) -> Self {
        let down = redis.as_ref().map(|_| "not subscribed yet".to_owned());
        let wake = Self {
            inner: Arc::new(Inner {
                redis,
                waiters: Mutex::new(Waiters {
                    by_user: HashMap::new(),
                    prune_at: MIN_PRUNE_AT,
                }),
                subscription_down: Mutex::new(down),
            }),
        };
        if wake.inner.redis.is_some() {
            let task = wake.clone();
            tokio::spawn(async move { task.subscribe_loop(shutdown).await });
        }
        wake
    }

    /// A listener for `user`'s wake-ups from now on.
    pub fn listen(&self, user: Uuid) -> WakeListener {
        let mut waiters = self.lock_waiters();
        if waiters.by_user.len() >= waiters.prune_at {
            waiters.by_user.retain(|_, sender| sender.receiver_count() > 0);
            waiters.prune_at = (2 * waiters.by_user.len()).max(MIN_PRUNE_AT);
        }
        let sender = waiters.by_user.entry(user).or_insert_with(|| watch::channel(0).0);
        WakeListener {
            receiver: sender.subscribe(),
        }
    }

    /// Tells every process that `user` has something new.
    pub async fn notify(&self, user: Uuid) {
        let published = match &self.inner.redis {
            Some(redis) if self.subscribed() => publish(redis, user).await,
            _ => false,
        };
        // Our own subscriber delivers what was published; otherwise deliver here directly.
        if !published {
            self.wake_local(user);
        }
    }

    /// For `/readyz`: up while wake-ups cross processes.
    pub fn status(&self) -> ComponentStatus {
        if self.inner.redis.is_none() {
            return ComponentStatus::Degraded {
                reason: "no Redis configured: long polls wake only in this process".to_owned(),
            };
        }
        match self.inner.subscription_down.lock().ok().and_then(|d| d.clone()) {
            None => ComponentStatus::Up,
            Some(reason) => ComponentStatus::Degraded {
                reason: format!("long polls wake only in this process: {reason}"),
            },
        }
    }

    /// Users with someone waiting (for the metrics).
    pub fn waiting_users(&self) -> usize {
        self.lock_waiters().by_user.len()
    }

    fn subscribed(&self) -> bool {
        self.inner
            .subscription_down
            .lock()
            .map(|d| d.is_none())
            .unwrap_or(false)
    }

    fn set_down(&self, reason: Option<String>) {
        if let Ok(mut down) = self.inner.subscription_down.lock() {
            if down.is_none() != reason.is_none() {
                match &reason {
                    Some(why) => tracing::warn!(why, "wake-up subscription lost"),
                    None => tracing::info!("wake-up subscription running"),
                }
                metrics::gauge!("auren_wake_subscribed").set(if reason.is_none() { 1.0 } else { 0.0 });
            }
            *down = reason;
        }
    }

    fn wake_local(&self, user: Uuid) {
        let mut waiters = self.lock_waiters();
        let Some(sender) = waiters.by_user.get(&user) else {
            return;
        };
        if sender.receiver_count() == 0 {
            // Nobody listens any more: forget the user (a new listener makes a new channel).
            waiters.by_user.remove(&user);
        } else {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, Waiters> {
        // A poisoned map still holds valid channels (a panic cannot leave a sender half-made).
        self.inner
            .waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn subscribe_loop(self, shutdown: CancellationToken) {
        let Some(redis) = self.inner.redis.clone() else {
            return;
        };
        while !shutdown.is_cancelled() {
            let why = match self.run_subscription(&redis, &shutdown).await {
                Ok(()) => return,
                Err(why) => why,
            };
            self.set_down(Some(why));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RESUBSCRIBE_DELAY) => {}
            }
        }
    }

    /// Subscribes and delivers until shutdown (`Ok`) or the connection breaks (`Err` with why).
    async fn run_subscription(&self, redis: &RedisLink, shutdown: &CancellationToken) -> Result<(), String> {
        let connect = redis.client().get_async_pubsub();
        let mut pubsub = match tokio::time::timeout(COMMAND_TIMEOUT * 4, connect).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Err(format!("cannot subscribe: {e}")),
            Err(_) => return Err("Redis did not answer the subscription".to_owned()),
        };
        pubsub
            .subscribe(WAKE_CHANNEL)
            .await
            .map_err(|e| format!("cannot subscribe: {e}"))?;
        self.set_down(None);
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                message = messages.next() => match message {
                    Some(message) => {
                        let payload: String = message.get_payload().unwrap_or_default();
                        match Uuid::parse_str(&payload) {
                            Ok(user) => self.wake_local(user),
                            Err(_) => tracing::warn!(payload, "wake-up message is not a user id"),
                        }
                    }
                    None => return Err("the subscription connection closed".to_owned()),
                },
            }
        }
    }
}

async fn publish(redis: &RedisLink, user: Uuid) -> bool {
    let mut conn = redis.commands();
    let mut command = ::redis::cmd("PUBLISH");
    command.arg(WAKE_CHANNEL).arg(user.to_string());
    let publish = command.query_async::<i64>(&mut conn);
    matches!(tokio::time::timeout(COMMAND_TIMEOUT, publish).await, Ok(Ok(_)))
}
