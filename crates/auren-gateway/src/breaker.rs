//! Circuit breakers, one per provider and model: closed → open after N failures within a window →
//! one half-open probe after a pause → closed on its success, open again on its failure.
//!
//! A provider that nobody answers for (a refused or timed-out connection, a free model lookup without an
//! answer) opens the breaker at once: waiting on it again would only delay the offline answer, and a
//! lookup that is answered again closes it before the pause is over (see [`Breaker::reached`]).

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
    /// Nothing answered at the provider's address: opens the breaker at once.
    Unreachable,
}

/// Why an open breaker opened, which decides what closes it early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenedBy {
    /// `failure_threshold` failures within the window: only a successful call closes it.
    Failures,
    /// Nothing answered at the address: a free lookup that is answered closes it too.
    Unreachable,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    failures: VecDeque<UnixMillis>,
    /// Why it last opened; `None` until it first does.
    opened_by: Option<OpenedBy>,
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
                opened_by: None,
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

    /// Why the breaker is open or half-open; `None` while it is closed.
    pub fn opened_by(&self) -> Option<OpenedBy> {
        let inner = self.lock();
        match inner.state {
            BreakerState::Closed => None,
            BreakerState::Open { .. } | BreakerState::HalfOpen { .. } => inner.opened_by,
        }
    }

    /// A free lookup was answered by the provider (whatever it said): a breaker opened because nothing
    /// answered closes, unless its half-open probe call is in flight (that call decides). One opened by
    /// failed calls stays open: a server can answer lookups and still fail completions.
    pub fn reached(&self) {
        let mut inner = self.lock();
        let unreachable = inner.opened_by == Some(OpenedBy::Unreachable);
        let probing = inner.state == BreakerState::HalfOpen { probing: true };
        if unreachable && !probing {
            inner.state = BreakerState::Closed;
            inner.failures.clear();
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
            Outcome::Unreachable => {
                inner.state = BreakerState::Open {
                    until: now.plus(self.policy.open_for),
                };
                inner.failures.clear();
                inner.opened_by = Some(OpenedBy::Unreachable);
            }
            Outcome::Failure if half_open => {
                inner.state = BreakerState::Open {
                    until: now.plus(self.policy.open_for),
                };
                inner.opened_by = Some(OpenedBy::Failures);
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
                    inner.opened_by = Some(OpenedBy::Failures);
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

    #[test]
    fn nobody_answering_opens_at_once_and_an_answered_lookup_closes_only_that() {
        let policy = BreakerPolicy {
            failure_threshold: 3,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        };
        fn t(s: i64) -> UnixMillis {
            UnixMillis(s * 1000)
        }
        // (what happened, in order; the state after, why it is open)
        type Event = fn(&Breaker);
        let unreachable: Event = |b| b.record(Outcome::Unreachable, t(10));
        let failure: Event = |b| b.record(Outcome::Failure, t(10));
        let reached: Event = Breaker::reached;
        let probe: Event = |b| assert_eq!(b.admit(t(40)), Ok(()));
        let cases: [(&str, Vec<Event>, BreakerState, Option<OpenedBy>); 5] = [
            (
                "one unreachable",
                vec![unreachable],
                BreakerState::Open { until: t(40) },
                Some(OpenedBy::Unreachable),
            ),
            (
                "unreachable, then answered",
                vec![unreachable, reached],
                BreakerState::Closed,
                None,
            ),
            (
                "failures, then answered",
                vec![failure, failure, failure, reached],
                BreakerState::Open { until: t(40) },
                Some(OpenedBy::Failures),
            ),
            (
                "unreachable, its probe in flight, answered",
                vec![unreachable, probe, reached],
                BreakerState::HalfOpen { probing: true },
                Some(OpenedBy::Unreachable),
            ),
            ("answered while closed", vec![reached], BreakerState::Closed, None),
        ];
        for (name, events, state, opened_by) in cases {
            let breaker = Breaker::new(policy);
            for event in events {
                event(&breaker);
            }
            assert_eq!(breaker.state(t(20)), state, "{name}");
            assert_eq!(breaker.opened_by(), opened_by, "{name}");
        }
    }
}
