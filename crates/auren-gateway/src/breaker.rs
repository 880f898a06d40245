//! Circuit breakers, one per provider and model: closed → open after N failures within a window →
//! one half-open probe after a pause → closed on its success, open again on its failure.

use crate::clock::UnixMillis;
use crate::config::BreakerPolicy;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// A breaker's state as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open {
        until: UnixMillis,
    },
    /// The pause is over; one probe call decides. `probing` is true while it is in flight.
    HalfOpen {
        probing: bool,
    },
}

/// How an admitted attempt ended, as far as the provider's health goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// Ended for a reason that says nothing about the provider (a bad request, a missing key).
    Neutral,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    failures: VecDeque<UnixMillis>,
}

/// The breaker of one provider and model.
#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
    inner: Mutex<Inner>,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                failures: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each transition is a couple of assignments; a poisoned lock leaves a consistent state.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state at `now` (an open breaker whose pause is over reads as half-open).
    pub fn state(&self, now: UnixMillis) -> BreakerState {
        match self.lock().state {
            BreakerState::Open { until } if now >= until => BreakerState::HalfOpen { probing: false },
            state => state,
        }
    }

    /// May an attempt go ahead? `Err(until)` when the breaker is open (or its probe is in flight).
    pub fn admit(&self, now: UnixMillis) -> Result<(), UnixMillis> {
        let mut inner = self.lock();
        match inner.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open { until } if now < until => Err(until),
            BreakerState::Open { .. } | BreakerState::HalfOpen { probing: false } => {
                inner.state = BreakerState::HalfOpen { probing: true };
                Ok(())
            }
            BreakerState::HalfOpen { probing: true } => Err(now),
        }
    }

    /// Records how an admitted attempt ended.
    pub fn record(&self, outcome: Outcome, now: UnixMillis) {
        let mut inner = self.lock();
        let half_open = matches!(inner.state, BreakerState::HalfOpen { .. });
        match outcome {
            Outcome::Success => {
                inner.state = BreakerState::Closed;
                inner.failures.clear();
            }
            Outcome::Neutral if half_open => inner.state = BreakerState::HalfOpen { probing: false },
            Outcome::Neutral => {}
            Outcome::Failure if half_open => {
                inner.state = BreakerState::Open {
                    until: now.plus(self.policy.open_for),
                };
            }
            Outcome::Failure => {
                let window_start = UnixMillis(now.0.saturating_sub(self.policy.window.as_millis() as i64));
                while inner.failures.front().is_some_and(|&t| t < window_start) {
                    inner.failures.pop_front();
                }
                inner.failures.push_back(now);
                if inner.failures.len() >= self.policy.failure_threshold as usize
                    && matches!(inner.state, BreakerState::Closed)
                {
                    inner.state = BreakerState::Open {
                        until: now.plus(self.policy.open_for),
                    };
                    inner.failures.clear();
                }
            }
        }
    }
}

/// All breakers, created on first use of a provider and model.
#[derive(Debug)]
pub struct Breakers {
    policy: BreakerPolicy,
    by_route: Mutex<HashMap<(String, String), Arc<Breaker>>>,
}

impl Breakers {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            by_route: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, provider: &str, model: &str) -> Arc<Breaker> {
        let mut map = self
            .by_route
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (provider.to_owned(), model.to_owned());
        Arc::clone(
            map.entry(key)
                .or_insert_with(|| Arc::new(Breaker::new(self.policy))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn closed_open_half_open_closed() {
        let policy = BreakerPolicy {
            failure_threshold: 3,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        };
        let breaker = Breaker::new(policy);
        let t = |s: i64| UnixMillis(s * 1000);
        // Two failures, then a third outside the window: still closed.
        breaker.record(Outcome::Failure, t(0));
        breaker.record(Outcome::Failure, t(1));
        breaker.record(Outcome::Failure, t(100));
        assert_eq!(breaker.state(t(100)), BreakerState::Closed);
        breaker.record(Outcome::Failure, t(101));
        breaker.record(Outcome::Failure, t(102));
        assert_eq!(breaker.state(t(102)), BreakerState::Open { until: t(132) });
        assert_eq!(breaker.admit(t(120)), Err(t(132)));
        // The pause is over: one probe goes, a second caller is refused while it is in flight.
        assert_eq!(breaker.admit(t(132)), Ok(()));
        assert!(breaker.admit(t(132)).is_err());
        breaker.record(Outcome::Failure, t(133));
        assert_eq!(breaker.state(t(133)), BreakerState::Open { until: t(163) });
        assert_eq!(breaker.admit(t(163)), Ok(()));
        breaker.record(Outcome::Neutral, t(163));
        assert_eq!(breaker.state(t(163)), BreakerState::HalfOpen { probing: false });
        assert_eq!(breaker.admit(t(164)), Ok(()));
        breaker.record(Outcome::Success, t(165));
        assert_eq!(breaker.state(t(165)), BreakerState::Closed);
    }
}
