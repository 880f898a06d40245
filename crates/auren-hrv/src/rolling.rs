//! Live windows for a session: HR, RMSSD, SDNN and pNN50 over the last N ms, updated per beat in
//! amortised O(1), and the last two minutes of RR for DFA α1 on demand.
//!
//! Why no running sums with subtraction: removing a value from a floating-point sum leaves its
//! rounding error behind, and over a 24-hour session those errors pile up (and a huge difference
//! leaving the window can wipe out the significant digits of the small ones left). The windows here
//! are two-stack queues instead ("sliding-window aggregation"): the back stack keeps one running
//! aggregate of what was added, the front stack keeps, for each element, the aggregate of it and
//! everything newer in the front; evicting pops the front, and when the front runs empty the back
//! is flipped over in one O(len) pass. Each element is moved at most once, so a push is amortised
//! O(1), and every answer is built only from values that are in the window — there is nothing to
//! drift. Variances combine with Chan et al.'s pairwise formula, which is stable.
//!
//! Window rule: after a beat at time `t`, the window holds the beats with time ≥ `t − width`.
//! A successive difference belongs to its pair of beats and leaves with the older one; no
//! difference is taken across a gap ([`RollingWindow::mark_gap`]). Formulas are those of the time
//! domain of `tests/data/reference/README.md`: SDNN with ddof = 1, RMSSD = sqrt(mean(d²)),
//! pNN50 = share of |d| > 50 ms, mean HR = mean of the beat-by-beat 60000 / rr.

use std::collections::VecDeque;

use crate::metric::{Absent, Metric, finite};

/// Why a window could not be built or a beat was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WindowError {
    #[error("window width must be a positive, finite number of milliseconds, got {0}")]
    InvalidWidth(f64),
    #[error("RR interval must be a positive, finite number of milliseconds, got {0}")]
    InvalidRr(f64),
    #[error("beat time must be finite, got {0}")]
    InvalidTime(f64),
    #[error("beat time went back from {previous_ms} ms to {got_ms} ms")]
    TimeWentBack { previous_ms: f64, got_ms: f64 },
}

/// The time-domain metrics of the beats currently in a [`RollingWindow`].
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStats {
    /// Beats (RR intervals) in the window.
    pub n_beats: usize,
    /// Successive differences in the window (pairs of beats not separated by a gap).
    pub n_diffs: usize,
    pub mean_hr_bpm: Metric,
    pub rmssd_ms: Metric,
    pub sdnn_ms: Metric,
    pub pnn50_pct: Metric,
}

/// Per-beat time-domain window over the last `width_ms` of a session.
#[derive(Debug, Clone)]
pub struct RollingWindow {
    width_ms: f64,
    beats: SlidingWindow<BeatAgg>,
    diffs: SlidingWindow<DiffAgg>,
    /// Time and RR of the latest beat, when the next beat may form a difference with it.
    last: Option<(f64, f64)>,
    last_time: Option<f64>,
}

/// The checks every window makes before it takes a beat: a finite time, a positive finite interval,
/// and a clock that does not go back past `last_time`.
fn check_beat(last_time: Option<f64>, beat_time_ms: f64, rr_ms: f64) -> Result<(), WindowError> {
    if !beat_time_ms.is_finite() {
        return Err(WindowError::InvalidTime(beat_time_ms));
    }
    if !(rr_ms.is_finite() && rr_ms > 0.0) {
        return Err(WindowError::InvalidRr(rr_ms));
    }
    if let Some(previous_ms) = last_time
        && beat_time_ms < previous_ms
    {
        return Err(WindowError::TimeWentBack {
            previous_ms,
            got_ms: beat_time_ms,
        });
    }
    Ok(())
}

impl RollingWindow {
    /// A window holding the beats of the last `width_ms` milliseconds (e.g. 60 000 or 300 000).
    pub fn new(width_ms: f64) -> Result<Self, WindowError> {
        if !(width_ms.is_finite() && width_ms > 0.0) {
            return Err(WindowError::InvalidWidth(width_ms));
        }
        Ok(Self {
            width_ms,
            beats: SlidingWindow::default(),
            diffs: SlidingWindow::default(),
            last: None,
            last_time: None,
        })
    }

    /// The width this window was built with (ms).
    pub fn width_ms(&self) -> f64 {
        self.width_ms
    }

    /// Adds the beat ending an interval of `rr_ms` at `beat_time_ms` (non-decreasing; the caller's
    /// clock), evicts what fell out of the window, and returns the new statistics. A refused beat
    /// leaves the window as it was.
    pub fn push(&mut self, beat_time_ms: f64, rr_ms: f64) -> Result<WindowStats, WindowError> {
        check_beat(self.last_time, beat_time_ms, rr_ms)?;

        self.beats.push(beat_time_ms, BeatAgg::of(rr_ms));
        if let Some((previous_time, previous_rr)) = self.last {
            // Keyed by the older beat's time: the difference leaves with it.
            self.diffs.push(previous_time, DiffAgg::of(rr_ms - previous_rr));
        }
        self.last = Some((beat_time_ms, rr_ms));
        self.last_time = Some(beat_time_ms);

        let cutoff = beat_time_ms - self.width_ms;
        self.beats.evict_before(cutoff);
        self.diffs.evict_before(cutoff);
        Ok(self.stats())
    }

    /// Contact lost or the link dropped: the next beat starts afresh and forms no successive
    /// difference with the beat before the gap. Beats already in the window stay.
    pub fn mark_gap(&mut self) {
        self.last = None;
    }

    /// Empties the window (a new session); the time monotonicity check starts over too.
    pub fn clear(&mut self) {
        self.beats = SlidingWindow::default();
        self.diffs = SlidingWindow::default();
        self.last = None;
        self.last_time = None;
    }

    /// The statistics of the beats in the window, in O(1).
    pub fn stats(&self) -> WindowStats {
        let beats = self.beats.total();
        let diffs = self.diffs.total();
        let n = beats.rr.n;
        let too_few = |needed: usize| Absent::TooFewBeats { needed, got: n };

        let mean_hr_bpm = if n >= 1 {
            finite(beats.hr_sum / n as f64, "mean HR is not finite")
        } else {
            Err(too_few(1))
        };
        let sdnn_ms = match beats.rr.variance() {
            Some(var) => finite(var.sqrt(), "SDNN is not finite"),
            None => Err(too_few(2)),
        };
        let no_pairs = || {
            if n < 2 {
                too_few(2)
            } else {
                Absent::Undefined("no two consecutive beats in the window: gaps separate them all")
            }
        };
        let (rmssd_ms, pnn50_pct) = if diffs.n >= 1 {
            (
                finite((diffs.sum_sq / diffs.n as f64).sqrt(), "RMSSD is not finite"),
                Ok(100.0 * diffs.n_over_50 as f64 / diffs.n as f64),
            )
        } else {
            (Err(no_pairs()), Err(no_pairs()))
        };

        WindowStats {
            n_beats: n,
            n_diffs: diffs.n,
            mean_hr_bpm,
            rmssd_ms,
            sdnn_ms,
            pnn50_pct,
        }
    }
}

/// What a window reduces its elements to: an associative, commutative combination.
pub(crate) trait Aggregate: Copy + Default {
    fn combine(self, other: Self) -> Self;
}

/// Count, mean and sum of squared deviations (Chan, Golub & LeVeque's pairwise form, which stays
/// accurate where `Σx² − n·mean²` cancels).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Moments {
    pub n: usize,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    pub(crate) fn of(x: f64) -> Self {
        Self {
            n: 1,
            mean: x,
            m2: 0.0,
        }
    }

    /// Sample variance (ddof = 1); `None` below two values.
    pub(crate) fn variance(&self) -> Option<f64> {
        (self.n >= 2).then(|| self.m2.max(0.0) / (self.n - 1) as f64)
    }
}

impl Aggregate for Moments {
    fn combine(self, other: Self) -> Self {
        if self.n == 0 {
            return other;
        }
        if other.n == 0 {
            return self;
        }
        let n = self.n + other.n;
        let (na, nb, nf) = (self.n as f64, other.n as f64, n as f64);
        let delta = other.mean - self.mean;
        Self {
            n,
            mean: self.mean + delta * nb / nf,
            m2: self.m2 + other.m2 + delta * delta * na * nb / nf,
        }
    }
}

/// The moments of RR and the sum of beat-by-beat HR.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct BeatAgg {
    rr: Moments,
    hr_sum: f64,
}

impl BeatAgg {
    fn of(rr_ms: f64) -> Self {
        Self {
            rr: Moments::of(rr_ms),
            hr_sum: 60_000.0 / rr_ms,
        }
    }
}

impl Aggregate for BeatAgg {
    fn combine(self, other: Self) -> Self {
        Self {
            rr: self.rr.combine(other.rr),
            hr_sum: self.hr_sum + other.hr_sum,
        }
    }
}

/// Count, sum of squares and count above 50 ms of successive differences.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct DiffAgg {
    n: usize,
    sum_sq: f64,
    n_over_50: usize,
}

impl DiffAgg {
    fn of(d: f64) -> Self {
        Self {
            n: 1,
            sum_sq: d * d,
            n_over_50: usize::from(d.abs() > 50.0),
        }
    }
}

impl Aggregate for DiffAgg {
    fn combine(self, other: Self) -> Self {
        Self {
            n: self.n + other.n,
            sum_sq: self.sum_sq + other.sum_sq,
            n_over_50: self.n_over_50 + other.n_over_50,
        }
    }
}

/// A FIFO of timestamped values with their aggregate, in amortised O(1) (two stacks).
#[derive(Debug, Clone, Default)]
pub(crate) struct SlidingWindow<A: Aggregate> {
    /// Oldest on top (at the end); each entry carries the aggregate of itself and all entries
    /// below it, i.e. everything newer in the front stack.
    front: Vec<(f64, A, A)>,
    /// Newest at the end; `back_total` aggregates all of them.
    back: Vec<(f64, A)>,
    back_total: A,
}

impl<A: Aggregate> SlidingWindow<A> {
    pub(crate) fn push(&mut self, key: f64, value: A) {
        self.back.push((key, value));
        self.back_total = self.back_total.combine(value);
    }

    fn oldest_key(&self) -> Option<f64> {
        self.front
            .last()
            .map(|e| e.0)
            .or_else(|| self.back.first().map(|e| e.0))
    }

    /// Drops the oldest entry.
    pub(crate) fn pop(&mut self) {
        if self.front.is_empty() {
            let mut acc = A::default();
            for (key, value) in self.back.drain(..).rev() {
                acc = value.combine(acc);
                self.front.push((key, value, acc));
            }
            self.back_total = A::default();
        }
        self.front.pop();
    }

    /// Drops every entry whose key is below `cutoff` (keys arrive non-decreasing).
    pub(crate) fn evict_before(&mut self, cutoff: f64) {
        while let Some(key) = self.oldest_key() {
            if key >= cutoff {
                break;
            }
            self.pop();
        }
    }

    pub(crate) fn total(&self) -> A {
        match self.front.last() {
            Some(&(_, _, front_total)) => front_total.combine(self.back_total),
            None => self.back_total,
        }
    }
}

/// The RR intervals of the last `span_ms` of a session, for DFA α1 on a cadence (FatMaxxer uses a
/// 2-minute window recomputed every 5–20 s). A gap empties it: α1 assumes an unbroken series.
#[derive(Debug, Clone)]
pub struct RecentBeats {
    span_ms: f64,
    beats: VecDeque<(f64, f64)>,
    /// Kept across gaps, so time still may not go back after one.
    last_time: Option<f64>,
}

/// The span DFA α1 is computed over in live sessions (ms).
pub const DFA_SPAN_MS: f64 = 120_000.0;

impl RecentBeats {
    /// Keeps the beats of the last `span_ms` milliseconds ([`DFA_SPAN_MS`] for α1).
    pub fn new(span_ms: f64) -> Result<Self, WindowError> {
        if !(span_ms.is_finite() && span_ms > 0.0) {
            return Err(WindowError::InvalidWidth(span_ms));
        }
        Ok(Self {
            span_ms,
            beats: VecDeque::new(),
            last_time: None,
        })
    }

    /// Adds a beat (same contract as [`RollingWindow::push`]) and drops those older than the span.
    pub fn push(&mut self, beat_time_ms: f64, rr_ms: f64) -> Result<(), WindowError> {
        check_beat(self.last_time, beat_time_ms, rr_ms)?;
        self.beats.push_back((beat_time_ms, rr_ms));
        self.last_time = Some(beat_time_ms);
        let cutoff = beat_time_ms - self.span_ms;
        while self.beats.front().is_some_and(|&(t, _)| t < cutoff) {
            self.beats.pop_front();
        }
        Ok(())
    }

    /// Contact lost or disconnected: the beats before the gap cannot be joined to those after.
    pub fn mark_gap(&mut self) {
        self.beats.clear();
    }

    /// Number of beats held.
    pub fn len(&self) -> usize {
        self.beats.len()
    }

    /// Whether no beat is held.
    pub fn is_empty(&self) -> bool {
        self.beats.is_empty()
    }

    /// The RR intervals held, oldest first (ms).
    pub fn rr(&self) -> Vec<f64> {
        self.beats.iter().map(|&(_, rr)| rr).collect()
    }

    /// DFA α1 (box sizes 4–16 beats) of the beats held, by [`crate::nonlinear::dfa_alpha1`]; O(len).
    /// Absent until the buffer holds the beats α1 needs (64, under a minute at rest).
    pub fn dfa_alpha1(&self) -> Metric {
        crate::nonlinear::dfa_alpha1(&self.rr())
    }
}
