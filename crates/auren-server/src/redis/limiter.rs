//! Rate limits by GCRA (the generic cell rate algorithm): one number per key, the theoretical arrival time
//! (TAT) of the next request. A request is allowed when the TAT it would push forward stays within one
//! period of now, so a quota of N per period allows a burst of N and then one request per period/N.
//!
//! With Redis the state lives in Redis and is read and written by one Lua script on Redis' own clock
//! (`TIME`), so several server processes share one exact limit. When Redis does not answer, an in-process
//! GCRA with the same rule decides (each process then limits on its own: a limit N times looser with N
//! processes, which is better than refusing everyone); the limiter reports that mode, and probes Redis
//! again at most once per [`PROBE_INTERVAL`] so a dead Redis costs a request nothing.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::ComponentStatus;

use super::{COMMAND_TIMEOUT, RedisLink};

/// How often a limiter in local mode tries Redis again.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Keys the in-process fallback holds before it drops the ones whose TAT has passed (they are at rest).
const LOCAL_PRUNE_AT: usize = 100_000;

/// GCRA over the TAT stored at KEYS[1] in µs of Redis' clock. ARGV[1]: the emission interval (period / N)
/// in µs; ARGV[2]: the period in µs. Returns {1, remaining} or {0, retry after in µs}.
/// `string.format('%d')` keeps all digits of the µs timestamp (Lua's default number format keeps 14).
const GCRA_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local ahead = new_tat - now
if ahead > period then
  return {0, ahead - period}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(ahead / 1000))
return {1, math.floor((period - ahead) / interval)}
";

/// How many requests a key may make per period (a burst of `count`, then one per `period / count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    count: NonZeroU32,
    period: Duration,
}

impl Quota {
    /// `count` requests per `period`; a period under 1 ms counts as 1 ms.
    pub fn new(count: NonZeroU32, period: Duration) -> Self {
        Self {
            count,
            period: period.max(Duration::from_millis(1)),
        }
    }

    pub fn per_second(count: NonZeroU32) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    pub fn per_minute(count: NonZeroU32) -> Self {
        Self::new(count, Duration::from_secs(60))
    }

    fn period_us(self) -> u64 {
        u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX)
    }

    /// Period / count in µs, at least 1 (a quota finer than 1 µs is as good as none anyway).
    fn interval_us(self) -> u64 {
        (self.period_us() / u64::from(self.count.get())).max(1)
    }
}

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; `remaining` more requests would be allowed right now.
    Allow { remaining: u32 },
    /// Too many: try again after `retry_after` (the `Retry-After` header, rounded up to seconds).
    Deny { retry_after: Duration },
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// Where the limiter's state lives now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimiterMode {
    /// In Redis: one exact limit across every server process.
    Shared,
    /// In this process, because Redis did not answer (the reason is the last failure).
    Local { reason: String },
    /// No Redis was configured: in this process by design.
    LocalOnly,
}

/// A rate limiter shared by every server process through Redis, with an in-process fallback.
pub struct Limiter {
    redis: Option<RedisLink>,
    script: ::redis::Script,
    local: Mutex<LocalGcra>,
    /// True while Redis failed last; then Redis is tried only when `next_probe_us` has passed.
    degraded: AtomicBool,
    next_probe_us: AtomicU64,
    last_failure: Mutex<String>,
    epoch: Instant,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// A limiter on `redis`, or in-process only when there is none.
    pub fn new(redis: Option<RedisLink>) -> Self {
        Self {
            redis,
            script: ::redis::Script::new(GCRA_LUA),
            local: Mutex::new(LocalGcra::default()),
            degraded: AtomicBool::new(false),
            next_probe_us: AtomicU64::new(0),
            last_failure: Mutex::new(String::new()),
            epoch: Instant::now(),
        }
    }

    /// Decides one request of `key` under `quota`.
    pub async fn check(&self, key: &str, quota: Quota) -> Decision {
        let decision = match self.shared_check(key, quota).await {
            Some(decision) => decision,
            None => self.local_check(key, quota),
        };
        if !decision.is_allowed() {
            let mode = match self.mode() {
                LimiterMode::Shared => "shared",
                LimiterMode::Local { .. } | LimiterMode::LocalOnly => "local",
            };
            metrics::counter!("auren_limiter_rejections_total", "mode" => mode).increment(1);
        }
        decision
    }

    /// Where the state lives now.
    pub fn mode(&self) -> LimiterMode {
        if self.redis.is_none() {
            LimiterMode::LocalOnly
        } else if self.degraded.load(Ordering::Relaxed) {
            let reason = self.last_failure.lock().map(|r| r.clone()).unwrap_or_default();
            LimiterMode::Local { reason }
        } else {
            LimiterMode::Shared
        }
    }

    /// For `/readyz`: up when shared, degraded when limiting in-process.
    pub fn status(&self) -> ComponentStatus {
        match self.mode() {
            LimiterMode::Shared => ComponentStatus::Up,
            LimiterMode::Local { reason } => ComponentStatus::Degraded {
                reason: format!("rate limits are per process: {reason}"),
            },
            LimiterMode::LocalOnly => ComponentStatus::Degraded {
                reason: "no Redis configured: rate limits are per process".to_owned(),
            },
        }
    }

    /// Asks Redis whether it answers (for `/readyz`): otherwise the mode would stay `Shared` until a limited
    /// request happened to fail, and `/readyz` would call an unreachable Redis up. While degraded, Redis is
    /// asked at most once per [`PROBE_INTERVAL`], as requests do.
    pub async fn probe(&self) {
        let Some(redis) = self.redis.as_ref() else {
            return;
        };
        let now_us = self.now_us();
        if self.degraded.load(Ordering::Relaxed) && now_us < self.next_probe_us.load(Ordering::Relaxed) {
            return;
        }
        match redis.ping().await {
            Ok(()) => self.set_degraded(false, now_us),
            Err(reason) => self.fail(reason, now_us),
        }
    }

    /// The decision from Redis, or `None` when Redis is not configured, failed, or is not due for a probe.
    async fn shared_check(&self, key: &str, quota: Quota) -> Option<Decision> {
        let redis = self.redis.as_ref()?;
        let now_us = self.now_us();
        if self.degraded.load(Ordering::Relaxed) {
            let due = self.next_probe_us.load(Ordering::Relaxed);
            // One caller per interval wins the probe; the rest use the local limiter meanwhile.
            if now_us < due
                || self
                    .next_probe_us
                    .compare_exchange(due, now_us + probe_us(), Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                return None;
            }
        }
        let mut conn = redis.commands();
        let mut invocation = self.script.key(format!("auren:rl:{key}"));
        invocation.arg(quota.interval_us()).arg(quota.period_us());
        let answer =
            tokio::time::timeout(COMMAND_TIMEOUT, invocation.invoke_async::<(i64, i64)>(&mut conn)).await;
        match answer {
            Ok(Ok((allowed, value))) => {
                self.set_degraded(false, now_us);
                Some(decision_from(allowed, value))
            }
            Ok(Err(e)) => {
                self.fail(format!("Redis: {e}"), now_us);
                None
            }
            Err(_) => {
                self.fail(format!("Redis did not answer within {COMMAND_TIMEOUT:?}"), now_us);
                None
            }
        }
    }

    fn fail(&self, reason: String, now_us: u64) {
        if let Ok(mut last) = self.last_failure.lock() {
            *last = reason;
        }
        self.set_degraded(true, now_us);
    }

    fn set_degraded(&self, degraded: bool, now_us: u64) {
        let was = self.degraded.swap(degraded, Ordering::Relaxed);
        if degraded {
            self.next_probe_us.store(now_us + probe_us(), Ordering::Relaxed);
        }
        if was != degraded {
            if degraded {
                tracing::warn!(mode = ?self.mode(), "rate limiter fell back to in-process limits");
            } else {
                tracing::info!("rate limiter back on Redis");
            }
            metrics::gauge!("auren_limiter_local_mode").set(if degraded { 1.0 } else { 0.0 });
        }
    }

    fn local_check(&self, key: &str, quota: Quota) -> Decision {
        let now_us = self.now_us();
        match self.local.lock() {
            Ok(mut local) => local.check(key, quota, now_us),
            // A panic while holding the lock left the map half-updated: allowing is the safe answer.
            Err(_) => Decision::Allow { remaining: 0 },
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

fn probe_us() -> u64 {
    u64::try_from(PROBE_INTERVAL.as_micros()).unwrap_or(u64::MAX)
}

fn decision_from(allowed: i64, value: i64) -> Decision {
    if allowed == 1 {
        Decision::Allow {
            remaining: u32::try_from(value.max(0)).unwrap_or(u32::MAX),
        }
    } else {
        Decision::Deny {
            retry_after: Duration::from_micros(u64::try_from(value.max(0)).unwrap_or(0)),
        }
    }
}

/// The same GCRA as the Lua script, on this process' clock.
#[derive(Debug, Default)]
struct LocalGcra {
    tat_us: HashMap<String, u64>,
}

impl LocalGcra {
    fn check(&mut self, key: &str, quota: Quota, now_us: u64) -> Decision {
        if self.tat_us.len() >= LOCAL_PRUNE_AT {
            self.tat_us.retain(|_, tat| *tat > now_us);
        }
        let tat = self.tat_us.get(key).copied().unwrap_or(now_us).max(now_us);
        let (allowed, value) = gcra_step(tat, now_us, quota);
        if allowed {
            self.tat_us.insert(key.to_owned(), tat + quota.interval_us());
        }
        decision_from(i64::from(allowed), i64::try_from(value).unwrap_or(i64::MAX))
    }
}

/// One GCRA step from `tat` (already at least `now`): whether the request is allowed, and the remaining
/// requests (allowed) or the µs to wait (denied).
fn gcra_step(tat: u64, now: u64, quota: Quota) -> (bool, u64) {
    let interval = quota.interval_us();
    let period = quota.period_us();
    let ahead = tat + interval - now;
    if ahead > period {
        (false, ahead - period)
    } else {
        (true, (period - ahead) / interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(count: u32, period_ms: u64) -> Quota {
        Quota::new(
            NonZeroU32::MIN.saturating_add(count - 1),
            Duration::from_millis(period_ms),
        )
    }

    #[test]
    fn the_local_gcra_allows_a_burst_of_n_then_one_per_interval() {
        let q = quota(5, 1_000);
        let mut gcra = LocalGcra::default();
        let at = |gcra: &mut LocalGcra, ms: u64| gcra.check("k", q, ms * 1_000);
        let burst: Vec<Decision> = (0..6).map(|_| at(&mut gcra, 0)).collect();
        assert_eq!(
            burst,
            vec![
                Decision::Allow { remaining: 4 },
                Decision::Allow { remaining: 3 },
                Decision::Allow { remaining: 2 },
                Decision::Allow { remaining: 1 },
                Decision::Allow { remaining: 0 },
                Decision::Deny {
                    retry_after: Duration::from_millis(200)
                },
            ]
        );
        // One interval later exactly one more fits.
        assert_eq!(at(&mut gcra, 200), Decision::Allow { remaining: 0 });
        assert!(!at(&mut gcra, 200).is_allowed());
        // A full period at rest refills the burst.
        assert_eq!(at(&mut gcra, 2_000), Decision::Allow { remaining: 4 });
        // Keys are independent.
        assert_eq!(gcra.check("other", q, 0), Decision::Allow { remaining: 4 });
    }

    #[tokio::test]
    async fn a_limiter_without_redis_limits_in_process_and_says_so() {
        let limiter = Limiter::new(None);
        assert_eq!(limiter.mode(), LimiterMode::LocalOnly);
        assert!(matches!(limiter.status(), ComponentStatus::Degraded { .. }));
        let q = quota(3, 60_000);
        let mut allowed = 0;
        for _ in 0..10 {
            allowed += usize::from(limiter.check("user:1", q).await.is_allowed());
        }
        assert_eq!(allowed, 3);
    }
}
