//! Time-based sliding windows over one field: O(1) amortised push, evict and aggregate reads.
//!
//! A window over `span` ms at time `now` holds the samples with `now - span < t <= now`.
//! Sums are kept relative to a shift (the oldest value at the last rebuild) so the variance does
//! not cancel catastrophically, and they are rebuilt from the buffer once as many samples have
//! left as it holds, which bounds the drift of running sums at O(1) amortised cost.

use std::collections::VecDeque;

/// Which aggregates a window must be able to answer; decided once, at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Needs {
    pub sums: bool,
    pub min: bool,
    pub max: bool,
    pub slope: bool,
}

/// The aggregate functions of the rule language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    /// Mean of the samples.
    Avg,
    /// Sum of the samples.
    Sum,
    /// Smallest sample.
    Min,
    /// Largest sample.
    Max,
    /// Number of samples.
    Count,
    /// Sample standard deviation (n − 1).
    Stddev,
    /// Least-squares slope, in units per minute.
    Rate,
    /// Newest sample minus oldest sample.
    Delta,
}

impl Needs {
    pub(crate) fn merge(&mut self, other: Needs) {
        self.sums |= other.sums;
        self.min |= other.min;
        self.max |= other.max;
        self.slope |= other.slope;
    }
}

impl Aggregate {
    /// Every aggregate.
    pub const ALL: [Aggregate; 8] = [
        Aggregate::Avg,
        Aggregate::Sum,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::Count,
        Aggregate::Stddev,
        Aggregate::Rate,
        Aggregate::Delta,
    ];

    /// The aggregate a rule names.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "avg" => Aggregate::Avg,
            "sum" => Aggregate::Sum,
            "min" => Aggregate::Min,
            "max" => Aggregate::Max,
            "count" => Aggregate::Count,
            "stddev" => Aggregate::Stddev,
            "rate" => Aggregate::Rate,
            "delta" => Aggregate::Delta,
            _ => return None,
        })
    }

    pub(crate) fn needs(self) -> Needs {
        let mut n = Needs::default();
        match self {
            Aggregate::Avg | Aggregate::Sum | Aggregate::Stddev => n.sums = true,
            Aggregate::Min => n.min = true,
            Aggregate::Max => n.max = true,
            Aggregate::Rate => n.slope = true,
            Aggregate::Count | Aggregate::Delta => {}
        }
        n
    }
}

/// Milliseconds per minute: `rate` is reported per minute.
const MS_PER_MIN: f64 = 60_000.0;

/// A sliding time window over one series.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    span_ms: i64,
    needs: Needs,
    samples: VecDeque<(i64, f64)>,
    /// Monotonic deques: candidates for the minimum (increasing) and maximum (decreasing).
    mins: VecDeque<(i64, f64)>,
    maxs: VecDeque<(i64, f64)>,
    shift: f64,
    sum: f64,
    sum_sq: f64,
    /// Time origin (ms) of the slope sums; x is in minutes since it.
    t0: i64,
    sx: f64,
    sxx: f64,
    sxy: f64,
    evicted_since_rebuild: usize,
}

impl SlidingWindow {
    /// A window of `span_ms` that can answer the given aggregates (others read as `None`).
    pub fn new(span_ms: i64, aggregates: &[Aggregate]) -> Self {
        let mut needs = Needs::default();
        for a in aggregates {
            needs.merge(a.needs());
        }
        Self::with_needs(span_ms, needs)
    }

    /// The aggregate `agg` over the samples now in the window, if it is defined and was asked for.
    pub fn get(&self, agg: Aggregate) -> Option<f64> {
        let n = agg.needs();
        let provided = (!n.sums || self.needs.sums)
            && (!n.min || self.needs.min)
            && (!n.max || self.needs.max)
            && (!n.slope || self.needs.slope);
        let v = self.read(agg);
        (provided && !v.is_nan()).then_some(v)
    }

    /// The samples now in the window, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.samples.iter().copied()
    }

    pub(crate) fn with_needs(span_ms: i64, needs: Needs) -> Self {
        SlidingWindow {
            span_ms,
            needs,
            samples: VecDeque::new(),
            mins: VecDeque::new(),
            maxs: VecDeque::new(),
            shift: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            t0: 0,
            sx: 0.0,
            sxx: 0.0,
            sxy: 0.0,
            evicted_since_rebuild: 0,
        }
    }

    /// The time at which the oldest sample leaves the window (`i64::MAX` when empty).
    pub(crate) fn next_expiry(&self) -> i64 {
        self.samples
            .front()
            .map_or(i64::MAX, |&(t, _)| t.saturating_add(self.span_ms))
    }

    /// The window length.
    pub fn span_ms(&self) -> i64 {
        self.span_ms
    }

    /// Adds a sample at `t` and drops what left the window. Times must not decrease (the
    /// detector clamps them); an earlier `t` is treated as the latest time seen.
    #[inline]
    pub fn push(&mut self, t: i64, v: f64) {
        let t = self.samples.back().map_or(t, |&(last, _)| t.max(last));
        if self.samples.is_empty() {
            self.shift = v;
            self.t0 = t;
            self.sum = 0.0;
            self.sum_sq = 0.0;
            self.sx = 0.0;
            self.sxx = 0.0;
            self.sxy = 0.0;
        }
        self.samples.push_back((t, v));
        if self.needs.sums || self.needs.slope {
            self.add_to_sums(t, v);
        }
        if self.needs.min {
            while self.mins.back().is_some_and(|&(_, m)| m >= v) {
                self.mins.pop_back();
            }
            self.mins.push_back((t, v));
        }
        if self.needs.max {
            while self.maxs.back().is_some_and(|&(_, m)| m <= v) {
                self.maxs.pop_back();
            }
            self.maxs.push_back((t, v));
        }
        self.evict(t);
    }

    #[inline]
    fn add_to_sums(&mut self, t: i64, v: f64) {
        let y = v - self.shift;
        self.sum += y;
        self.sum_sq += y * y;
        if self.needs.slope {
            let x = (t - self.t0) as f64 / MS_PER_MIN;
            self.sx += x;
            self.sxx += x * x;
            self.sxy += x * y;
        }
    }

    /// Drops the samples at or before `now - span`; tells whether any left.
    #[inline]
    pub fn evict(&mut self, now: i64) -> bool {
        let cutoff = now - self.span_ms;
        let mut removed = false;
        while let Some(&(t, v)) = self.samples.front() {
            if t > cutoff {
                break;
            }
            self.samples.pop_front();
            removed = true;
            if self.needs.sums || self.needs.slope {
                let y = v - self.shift;
                self.sum -= y;
                self.sum_sq -= y * y;
                if self.needs.slope {
                    let x = (t - self.t0) as f64 / MS_PER_MIN;
                    self.sx -= x;
                    self.sxx -= x * x;
                    self.sxy -= x * y;
                }
                self.evicted_since_rebuild += 1;
            }
        }
        if !removed {
            return false;
        }
        while self.mins.front().is_some_and(|&(t, _)| t <= cutoff) {
            self.mins.pop_front();
        }
        while self.maxs.front().is_some_and(|&(t, _)| t <= cutoff) {
            self.maxs.pop_front();
        }
        // Rebuild once as many samples left as remain (amortised O(1)), and when the time origin
        // of the slope sums lags the window by more than its span, so x stays in [0, 2·span]
        // and the slope's denominator does not cancel.
        let stale_origin = self.needs.slope
            && self
                .samples
                .front()
                .is_some_and(|&(t, _)| t - self.t0 > self.span_ms);
        if self.evicted_since_rebuild >= self.samples.len().max(32) || stale_origin {
            self.rebuild();
        }
        true
    }

    fn rebuild(&mut self) {
        self.evicted_since_rebuild = 0;
        self.sum = 0.0;
        self.sum_sq = 0.0;
        self.sx = 0.0;
        self.sxx = 0.0;
        self.sxy = 0.0;
        let Some(&(t0, v0)) = self.samples.front() else {
            return;
        };
        self.shift = v0;
        self.t0 = t0;
        for i in 0..self.samples.len() {
            let (t, v) = self.samples[i];
            self.add_to_sums(t, v);
        }
    }

    /// The aggregate over the window as of the last push/evict; NaN when it is undefined
    /// (no samples, or too few for a spread or a slope).
    #[inline]
    pub(crate) fn read(&self, agg: Aggregate) -> f64 {
        let n = self.samples.len();
        let nf = n as f64;
        match agg {
            Aggregate::Count => nf,
            Aggregate::Sum => self.sum + nf * self.shift,
            Aggregate::Avg if n == 0 => f64::NAN,
            Aggregate::Avg => self.shift + self.sum / nf,
            Aggregate::Min => self.mins.front().map_or(f64::NAN, |&(_, v)| v),
            Aggregate::Max => self.maxs.front().map_or(f64::NAN, |&(_, v)| v),
            Aggregate::Stddev if n < 2 => f64::NAN,
            Aggregate::Stddev => {
                let var = (self.sum_sq - self.sum * self.sum / nf) / (nf - 1.0);
                var.max(0.0).sqrt()
            }
            Aggregate::Delta => match (self.samples.front(), self.samples.back()) {
                (Some(&(_, a)), Some(&(_, b))) if n >= 2 => b - a,
                _ => f64::NAN,
            },
            Aggregate::Rate => {
                let same_time = match (self.samples.front(), self.samples.back()) {
                    (Some(&(a, _)), Some(&(b, _))) => a == b,
                    _ => true,
                };
                if n < 2 || same_time {
                    return f64::NAN;
                }
                let denom = nf * self.sxx - self.sx * self.sx;
                if denom <= 0.0 {
                    return f64::NAN;
                }
                (nf * self.sxy - self.sx * self.sum) / denom
            }
        }
    }
}
