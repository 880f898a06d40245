//! "User X has something new": wakes the long polls waiting for that user, in every server process.
//!
//! A notification wakes this process' waiters directly, at once, and is also published on one Redis
//! channel; each process runs one subscriber task that turns the messages of the *other* processes into
//! in-process wake-ups (a message names the process that sent it), so a push handled by process A wakes a
//! long poll parked on process B. This process' own waiters never depend on Redis: pub/sub delivers at most
//! once, to whoever is subscribed at that instant, and a subscription Redis has just dropped still looks up
//! until the subscriber reads the end of its connection — a notification published into that window would
//! wake nobody. Without Redis (none configured, or it does not answer) the other processes find the news
//! when their long poll times out and they pull again — slower, never lost, because a wake-up only says
//! "pull now", the data is in PostgreSQL.
//!
//! Waiters are one `watch` channel per user with someone waiting, so a wake-up costs one map lookup however
//! many devices are parked. A waiter must [`Wake::listen`] before it reads the user's version, then wait:
//! a change that lands between the read and the wait still wakes it.
//!
//! Every notification takes the next number of one count per process (the value its channel then holds),
//! and a new channel starts at the count, so "a listener has seen n" means every notification numbered
//! above n is still to come for it; pulls use this to share a read that began after their last wake-up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Names this process in the messages it publishes, so its subscriber skips its own.
    origin: Uuid,
    waiters: Mutex<Waiters>,
    /// Notifications so far (each takes the next number; changed only under the `waiters` lock).
    count: AtomicU64,
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
    /// The notification number this listener has seen last (every later one wakes it).
    seen: u64,
}

impl WakeListener {
    /// Returns once the user has been notified since this listener was made (or since the last return).
    pub async fn notified(&mut self) {
        // An error means the sender is gone, which only happens when the Wake is dropped: nothing will
        // wake this listener again, so waiting forever would hang the poll; return instead.
        let _ = self.receiver.changed().await;
        self.seen = *self.receiver.borrow_and_update();
    }

    /// The number of the last notification this listener has seen (or the count when it was made).
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

impl Wake {
    /// A Wake; with `redis`, a subscriber task runs until `shutdown` (re-subscribing after failures).
    pub fn start(redis: Option<RedisLink>, shutdown: CancellationToken) -> Self {
        let down = redis.as_ref().map(|_| "not subscribed yet".to_owned());
        let wake = Self {
            inner: Arc::new(Inner {
                redis,
                origin: Uuid::new_v4(),
                waiters: Mutex::new(Waiters {
                    by_user: HashMap::new(),
                    prune_at: MIN_PRUNE_AT,
                }),
                count: AtomicU64::new(0),
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
        let count = &self.inner.count;
        let sender = waiters
            .by_user
            .entry(user)
            .or_insert_with(|| watch::channel(count.load(Ordering::SeqCst)).0);
        let mut receiver = sender.subscribe();
        let seen = *receiver.borrow_and_update();
        WakeListener { receiver, seen }
    }

    /// The number of the latest notification in this process, for any user: a notification after this
    /// call takes a higher one.
    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::SeqCst)
    }

    /// Tells every process that `user` has something new: this one at once, the others through Redis.
    pub async fn notify(&self, user: Uuid) {
        self.wake_local(user);
        // While our own subscription is down Redis is most likely away: a publish would only make every push
        // wait out the command timeout.
        let Some(redis) = self.inner.redis.as_ref().filter(|_| self.subscribed()) else {
            return;
        };
        if !publish(redis, &message(self.inner.origin, user)).await {
            metrics::counter!("auren_wake_publish_failed_total").increment(1);
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

    /// Listeners alive across all users: long polls reading or parked (for the metrics and tests).
    pub fn waiting_listeners(&self) -> usize {
        self.lock_waiters()
            .by_user
            .values()
            .map(watch::Sender::receiver_count)
            .sum()
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
        // Counted even with nobody waiting: a channel made later starts above it.
        let number = self.inner.count.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        let Some(sender) = waiters.by_user.get(&user) else {
            return;
        };
        if sender.receiver_count() == 0 {
            // Nobody listens any more: forget the user (a new listener makes a new channel).
            waiters.by_user.remove(&user);
        } else {
            sender.send_replace(number);
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
        let mut pubsub = redis.subscribe(WAKE_CHANNEL).await?;
        self.set_down(None);
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                message = messages.next() => match message {
                    Some(message) => {
                        let payload: String = message.get_payload().unwrap_or_default();
                        match parse_message(&payload) {
                            // This process' waiters were woken when it published.
                            Some(Sent { origin, .. }) if origin == Some(self.inner.origin) => {}
                            Some(Sent { user, .. }) => self.wake_local(user),
                            None => tracing::warn!(payload, "wake-up message is not `ORIGIN USER`"),
                        }
                    }
                    None => return Err("the subscription connection closed".to_owned()),
                },
            }
        }
    }
}

/// A wake-up message: the publishing process, a space, the user.
fn message(origin: Uuid, user: Uuid) -> String {
    format!("{origin} {user}")
}

/// A message read back.
#[derive(Debug, PartialEq, Eq)]
struct Sent {
    /// `None` for a bare user id (what a server of the previous release publishes during an upgrade).
    origin: Option<Uuid>,
    user: Uuid,
}

fn parse_message(payload: &str) -> Option<Sent> {
    match payload.split_once(' ') {
        Some((origin, user)) => Some(Sent {
            origin: Some(Uuid::parse_str(origin).ok()?),
            user: Uuid::parse_str(user).ok()?,
        }),
        None => Some(Sent {
            origin: None,
            user: Uuid::parse_str(payload).ok()?,
        }),
    }
}

async fn publish(redis: &RedisLink, message: &str) -> bool {
    let mut conn = redis.commands();
    let mut command = ::redis::cmd("PUBLISH");
    command.arg(WAKE_CHANNEL).arg(message);
    let publish = command.query_async::<i64>(&mut conn);
    matches!(tokio::time::timeout(COMMAND_TIMEOUT, publish).await, Ok(Ok(_)))
}

#[cfg(test)]
mod tests {
    use super::{Sent, Wake, message, parse_message};
    use tokio_util::sync::CancellationToken;
    use uuid::Uuid;

    #[tokio::test]
    async fn every_notification_takes_a_higher_number_than_any_listener_has_seen() {
        let wake = Wake::start(None, CancellationToken::new());
        let (user, other) = (Uuid::new_v4(), Uuid::new_v4());
        // Nobody waits for `other`: it is counted all the same, so a later listener starts above it.
        wake.notify(other).await;
        assert_eq!(wake.count(), 1);
        let mut listener = wake.listen(user);
        assert_eq!(listener.seen(), 1, "a new listener has seen the count");
        wake.notify(other).await;
        wake.notify(user).await;
        listener.notified().await;
        assert_eq!(listener.seen(), 3, "the user's notification is the third");
        let late = wake.listen(user);
        assert_eq!(late.seen(), 3, "an existing channel holds its last notification");
        assert_eq!(wake.count(), 3);
    }

    #[test]
    fn messages_name_their_process_and_bare_user_ids_still_wake() {
        let (origin, user) = (Uuid::new_v4(), Uuid::new_v4());
        let cases = [
            (
                message(origin, user),
                Some(Sent {
                    origin: Some(origin),
                    user,
                }),
            ),
            (user.to_string(), Some(Sent { origin: None, user })),
            (format!("not-a-uuid {user}"), None),
            (format!("{origin} not-a-uuid"), None),
            (String::new(), None),
        ];
        for (payload, expected) in cases {
            assert_eq!(parse_message(&payload), expected, "{payload:?}");
        }
    }
}
