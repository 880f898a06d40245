//! Token-bucket rate limits per provider: requests per minute and tokens per minute.
//!
//! Over the limit, a route is skipped (the next route is tried at once) rather than waited for: a caller
//! with one route gets an error that says when there is room again.

use crate::clock::UnixMillis;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    capacity: f64,
    level: f64,
    per_ms: f64,
}

impl Bucket {
    fn per_minute(limit: u32) -> Self {
        let capacity = f64::from(limit);
        Self {
            capacity,
            level: capacity,
            per_ms: capacity / 60_000.0,
        }
    }

    fn refill(&mut self, elapsed_ms: f64) {
        self.level = (self.level + elapsed_ms * self.per_ms).min(self.capacity);
    }

    /// Time until `amount` (at most the capacity) is available.
    fn wait_for(&self, amount: f64) -> Duration {
        let amount = amount.min(self.capacity);
        if self.level >= amount {
            Duration::ZERO
        } else {
            Duration::from_millis(((amount - self.level) / self.per_ms).ceil() as u64)
        }
    }
}

#[derive(Debug)]
struct Buckets {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
    last: UnixMillis,
}

/// One provider's limits.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    /// `None` limits mean unlimited; both `None` makes a limiter that always admits.
    pub fn new(requests_per_minute: Option<u32>, tokens_per_minute: Option<u32>, now: UnixMillis) -> Self {
        Self {
            buckets: Mutex::new(Buckets {
                requests: requests_per_minute.map(Bucket::per_minute),
                tokens: tokens_per_minute.map(Bucket::per_minute),
                last: now,
            }),
        }
    }

    pub fn is_unlimited(&self) -> bool {
        let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        b.requests.is_none() && b.tokens.is_none()
    }

    /// Takes one request and `tokens` tokens, or says how long until both are available. A call larger
    /// than the whole token bucket waits for a full bucket and then takes it all.
    pub fn try_acquire(&self, tokens: u64, now: UnixMillis) -> Result<(), Duration> {
        let mut guard = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = &mut *guard;
        let elapsed = now.since(b.last).as_millis() as f64;
        b.last = b.last.max(now);
        let tokens = tokens as f64;
        for bucket in [b.requests.as_mut(), b.tokens.as_mut()].into_iter().flatten() {
            bucket.refill(elapsed);
        }
        let wait = [(b.requests, 1.0), (b.tokens, tokens)]
            .into_iter()
            .filter_map(|(bucket, amount)| bucket.map(|bk| bk.wait_for(amount)))
            .max()
            .unwrap_or(Duration::ZERO);
        if wait > Duration::ZERO {
            return Err(wait);
        }
        if let Some(r) = b.requests.as_mut() {
            r.level -= 1.0;
        }
        if let Some(t) = b.tokens.as_mut() {
            t.level = (t.level - tokens).max(0.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_per_minute_refill_over_time() {
        let limiter = RateLimiter::new(Some(2), None, UnixMillis(0));
        assert_eq!(limiter.try_acquire(0, UnixMillis(0)), Ok(()));
        assert_eq!(limiter.try_acquire(0, UnixMillis(0)), Ok(()));
        assert_eq!(
            limiter.try_acquire(0, UnixMillis(0)),
            Err(Duration::from_secs(30))
        );
        assert_eq!(limiter.try_acquire(0, UnixMillis(30_000)), Ok(()));
    }

    #[test]
    fn tokens_per_minute_limit_large_calls() {
        let limiter = RateLimiter::new(None, Some(1000), UnixMillis(0));
        assert_eq!(limiter.try_acquire(800, UnixMillis(0)), Ok(()));
        assert_eq!(
            limiter.try_acquire(800, UnixMillis(0)),
            Err(Duration::from_millis(36_000))
        );
        // Bigger than the bucket: waits for a full bucket (48 s from 200 left), then passes.
        assert_eq!(
            limiter.try_acquire(5000, UnixMillis(0)),
            Err(Duration::from_millis(48_000))
        );
        assert_eq!(limiter.try_acquire(5000, UnixMillis(48_000)), Ok(()));
        assert!(RateLimiter::new(None, None, UnixMillis(0)).is_unlimited());
    }
}
