//! Online artifact labelling: the Lipponen & Tarvainen method of auren-hrv run on a sliding buffer,
//! each beat labelled once it has enough beats after it. It feeds the rules (see `feed`) on the desktop
//! and on the server alike, so both judge the same beats the same way.
//!
//! Why a delay: the method judges a beat by its neighbours on both sides (a centred 11-beat median,
//! the differences to the next two beats, a centred 91-beat quartile deviation). Labelling the newest
//! beat would judge it without its right-hand neighbours, so an ectopic pair or an extra beat would
//! be seen only half. A beat is therefore labelled when [`LABEL_LAG_BEATS`] beats have followed it
//! (about 16 s at rest, 8 s during exercise). Measured on the reference recording with three injected
//! artifacts: with 8 or 12 beats of lag the shrunken window at the newest end labels a normal beat near
//! the end as long/short; from 16 beats on the labels are those of the offline method.
//!
//! At the start of a stretch (the session's, or after a gap) the lag ramps up: beat `i` waits for
//! `min(i, 16)` beats after it, so labelled beats come out every other beat until the full lag is
//! reached. Waiting the full lag at once would hold back the first 16 beats, and the rules would see
//! no beat for 16 s after every gap ("signal lost" waits 10 s). The first beats are judged with little
//! context, as at the start of any recording. The quartile window is shrunk at the newest end, as the
//! method does at the end of a recording. A gap or the end of the session labels what is pending with the context there is.
//!
//! Labels are made per beat, not in batches: the rules see a beat event per labelled beat, and
//! batching (tried: 8 at a time, 8× cheaper) bunches beat events into bursts that at 45 bpm leave more
//! than the 10 s a "signal lost" rule waits.
//!
//! Cost: the labels are those of one correction over the buffer (up to 183 beats) per labelled beat,
//! but that correction runs only when the beat may be affected. The method labels an interval only as
//! a candidate: every label at raw index `k` comes from a beat whose normalised jump S11 = dRR / Th1
//! exceeds 1 at `k − 1`, `k` or `k + 1` (a beat over Th1 inspects itself, pulls in the next one, or,
//! through the ectopic rule at `j + 1`, explains a pair starting at `j` or `j + 1`; the confirmation of
//! lone long/short labels only removes labels). A beat `i` is covered by a label at `i` or (two raw
//! intervals wide) at `i − 1`, so when |S11| ≤ 1 at every one of `i − 2 ..= i + 1` — computed here
//! exactly as auren-hrv computes it over the same buffer — beat `i` carries no label and its one NN
//! interval is its raw one, and the correction is skipped. S11 there needs the quartiles of one sorted
//! window of differences slid over a few beats (64 of them at the full lag), kept from one beat to the
//! next, against three centred rolling windows over the whole buffer for the correction.
//! `cargo run --release -p auren-cep --example feed_throughput -- 300000` (nsr_60min, this 2-core
//! machine under load, thread CPU time): the labeller alone 47.9k → 417k beats/s (313k with the window
//! sorted anew per beat), the whole feed 45.2k → 287k. The `labeller_oracle` tests hold every label and
//! interval to a labeller that corrects the buffer for every beat, as this one did before.
//!
//! Each labelled beat also carries its corrected NN interval(s), taken from the same correction
//! (the default `auren_hrv::artifacts::Placement::Levels`: a missed beat's interval split in k parts
//! placed by the neighbours' levels, an extra beat's two parts merged, an ectopic pair restored keeping its
//! sum), so the live windows are computed on the same NN series `auren analyze` gives.

use std::collections::VecDeque;

use auren_hrv::artifacts::{
    ALPHA, ArtifactKind, Correction, MIN_INTERVALS, MIN_THRESHOLD_MS, QD_WINDOW, correct,
};

/// Beats that must follow a beat before it is labelled.
pub const LABEL_LAG_BEATS: usize = 16;
/// Beats kept for the thresholds: twice the quartile window, so the labelled beat sees a full
/// window behind it.
const BUFFER_BEATS: usize = 2 * QD_WINDOW;

/// One beat with its final label.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledBeat {
    /// Position in the session's raw beat series (0-based, across gaps).
    pub index: u64,
    /// Time of the beat (the end of its interval), ms on the session clock.
    pub at_ms: f64,
    /// The interval as the strap reported it.
    pub rr_ms: f64,
    /// The artifact label, on the first interval an artifact affects (as auren-hrv reports it).
    pub artifact: Option<ArtifactKind>,
    /// True for every raw interval an artifact affects (the label's and, for ectopic and extra
    /// beats, the next one too).
    pub affected: bool,
    /// The corrected NN intervals that end within this raw interval: usually `[rr_ms]`; k parts for
    /// a missed beat, none for the second part of an extra beat (merged into the first).
    pub nn_ms: Vec<f64>,
}

/// The sliding buffer of one segment of beats (between gaps).
#[derive(Debug, Default)]
pub struct Labeller {
    /// (beat time, rr) of the segment's recent beats.
    buffer: VecDeque<(f64, f64)>,
    /// Beats at the front of `buffer` already labelled.
    labelled: usize,
    /// Session index of `buffer[0]`.
    front_index: u64,
    /// Raw intervals still covered by the last artifact's span.
    span_left: usize,
    /// Beats in the current stretch so far (the buffer holds only the newest of them).
    segment_len: usize,
    /// The buffer's intervals for a correction, reused.
    rr_scratch: Vec<f64>,
    /// Intervals in `buffer` that are not finite and positive: the correction labels those first and
    /// judges the others on the filled-in series, which the quiet test below does not model.
    invalid: usize,
    /// |S11| ≤ 1 per buffer position from `jumps_from` on, for the beats being labelled.
    quiet: Vec<bool>,
    jumps_from: usize,
    /// The sorted window of differences the quartiles are read from, kept from one labelling to the next.
    window: Vec<f64>,
    /// Session indices `[start, end)` of the differences `window` holds, when it holds none of the
    /// buffer's first (whose dRR is the mean of the others, which changes with every beat).
    window_span: Option<(u64, u64)>,
}

/// How many of the `buffered` newest beats of a stretch of `segment_len` beats may be labelled: beat `i`
/// of the stretch needs `min(i, LABEL_LAG_BEATS)` beats after it.
fn ready_beats(segment_len: usize, buffered: usize) -> usize {
    let labelled_in_segment = if segment_len > 2 * LABEL_LAG_BEATS {
        segment_len - LABEL_LAG_BEATS
    } else {
        segment_len.div_ceil(2)
    };
    // Beats of the stretch that already left the buffer were labelled long ago.
    buffered.saturating_sub(segment_len - labelled_in_segment)
}

impl Labeller {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a beat; appends the beats that became ready to `out`.
    pub fn push(&mut self, at_ms: f64, rr_ms: f64, out: &mut Vec<LabelledBeat>) {
        self.buffer.push_back((at_ms, rr_ms));
        self.invalid += usize::from(!valid(rr_ms));
        let ready = ready_beats(self.segment_len + 1, self.buffer.len());
        self.segment_len += 1;
        if ready > self.labelled {
            self.label_up_to(ready, out);
        }
        while self.buffer.len() > BUFFER_BEATS && self.labelled > 0 {
            if let Some((_, rr)) = self.buffer.pop_front() {
                self.invalid -= usize::from(!valid(rr));
            }
            self.labelled -= 1;
            self.front_index += 1;
        }
    }

    /// Labels everything pending with the context there is and starts a new segment (a gap: no
    /// interval before it may be judged by one after it).
    pub fn flush(&mut self, out: &mut Vec<LabelledBeat>) {
        let len = self.buffer.len();
        if len > self.labelled {
            self.label_up_to(len, out);
        }
        self.front_index += len as u64;
        self.buffer.clear();
        self.window_span = None;
        self.invalid = 0;
        self.labelled = 0;
        self.span_left = 0;
        self.segment_len = 0;
    }

    /// Beats received and not labelled yet.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.labelled
    }

    fn label_up_to(&mut self, end: usize, out: &mut Vec<LabelledBeat>) {
        self.find_quiet_beats(self.labelled, end);
        let mut correction = None;
        for i in self.labelled..end {
            if self.is_quiet(i) {
                out.push(self.unlabelled_beat(i));
                continue;
            }
            let c = correction.get_or_insert_with(|| {
                let mut rr = std::mem::take(&mut self.rr_scratch);
                rr.clear();
                rr.extend(self.buffer.iter().map(|&(_, rr)| rr));
                let c = correct(&rr);
                self.rr_scratch = rr;
                c
            });
            out.push(self.labelled_beat(i, c));
        }
        self.labelled = end;
    }

    /// Whether beat `i` is known to carry no label and keep its interval: |S11| ≤ 1 at `i − 2 ..= i + 1`.
    fn is_quiet(&self, i: usize) -> bool {
        let n = self.buffer.len();
        if self.invalid > 0 {
            return false;
        }
        if n < MIN_INTERVALS {
            // Too few intervals to estimate thresholds: the correction labels nothing.
            return true;
        }
        let (lo, hi) = (i.saturating_sub(2), (i + 2).min(n));
        (lo..hi).all(|p| self.quiet[p - self.jumps_from])
    }

    /// Computes |S11| ≤ 1 for the positions the beats `from..end` are judged by, as auren-hrv's
    /// detection does over the whole buffer: dRR (dRR[0] the mean of the others), Th1 = 5.2 · QD of the
    /// centred 91-beat window of dRR (shrunk at the buffer's ends) floored at 5.2 ms, QD the half
    /// distance between the linearly interpolated quartiles.
    fn find_quiet_beats(&mut self, from: usize, end: usize) {
        let n = self.buffer.len();
        self.quiet.clear();
        self.jumps_from = from.saturating_sub(2);
        if self.invalid > 0 || n < MIN_INTERVALS || from >= end {
            return;
        }
        let rr = |i: usize| self.buffer[i].1;
        let first_drr = (rr(n - 1) - rr(0)) / (n - 1) as f64;
        let drr = |i: usize| if i == 0 { first_drr } else { rr(i) - rr(i - 1) };
        let half = QD_WINDOW / 2;
        let (lo, hi) = (self.jumps_from, (end + 1).min(n));
        let front = self.front_index;
        let window = &mut self.window;
        let insert = |window: &mut Vec<f64>, v: f64| {
            let at = window.partition_point(|&x| x < v);
            window.insert(at, v);
        };
        let remove = |window: &mut Vec<f64>, v: f64| {
            let at = window.partition_point(|&x| x < v);
            window.remove(at);
        };
        // The window of `lo`: from the last labelling's window when the two overlap (one beat later at
        // the full lag: three differences in or out instead of a sort of 64).
        let (ws, we) = (lo.saturating_sub(half), (lo + half + 1).min(n));
        let kept = self.window_span.take().and_then(|(s, e)| {
            let s = usize::try_from(s.checked_sub(front)?).ok()?;
            let e = usize::try_from(e.checked_sub(front)?).ok()?;
            let near = s.abs_diff(ws) + e.abs_diff(we) <= 16;
            (s >= 1 && ws >= 1 && e <= n && ws < e && s < we && near).then_some((s, e))
        });
        if let Some((s, e)) = kept {
            (ws..s).for_each(|p| insert(window, drr(p)));
            (s..ws).for_each(|p| remove(window, drr(p)));
            (e..we).for_each(|p| insert(window, drr(p)));
            (we..e).for_each(|p| remove(window, drr(p)));
        } else {
            window.clear();
            window.extend((ws..we).map(drr));
            // Equal differences are equal bit for bit (no −0.0, no NaN): the order among them is immaterial.
            window.sort_unstable_by(f64::total_cmp);
        }
        for p in lo..hi {
            if p > lo {
                if p + half < n {
                    insert(window, drr(p + half));
                }
                if let Some(gone) = p.checked_sub(half + 1) {
                    remove(window, drr(gone));
                }
            }
            let qd = (quantile(window, 0.75) - quantile(window, 0.25)) / 2.0;
            let th1 = (ALPHA * qd).max(MIN_THRESHOLD_MS);
            self.quiet.push((drr(p) / th1).abs() <= 1.0);
        }
        let (last_start, last_end) = ((hi - 1).saturating_sub(half), (hi + half).min(n));
        if last_start >= 1 {
            self.window_span = Some((front + last_start as u64, front + last_end as u64));
        }
    }

    /// Beat `i` without a label, its interval unchanged (see [`Self::is_quiet`]).
    fn unlabelled_beat(&mut self, i: usize) -> LabelledBeat {
        let (at_ms, rr_ms) = self.buffer[i];
        let affected = self.span_left > 0;
        self.span_left = self.span_left.saturating_sub(1);
        LabelledBeat {
            index: self.front_index + i as u64,
            at_ms,
            rr_ms,
            artifact: None,
            affected,
            nn_ms: vec![rr_ms],
        }
    }

    fn labelled_beat(&mut self, i: usize, c: &Correction) -> LabelledBeat {
        let (at_ms, rr_ms) = self.buffer[i];
        let artifact = c.artifacts.iter().find(|a| a.index == i).map(|a| a.kind);
        if let Some(kind) = artifact {
            self.span_left = kind.raw_span();
        }
        let affected = self.span_left > 0;
        self.span_left = self.span_left.saturating_sub(1);
        // raw_index is non-decreasing: the corrected intervals of raw beat i are one contiguous run.
        let first = c.raw_index.partition_point(|&r| r < i);
        let last = c.raw_index.partition_point(|&r| r <= i);
        let nn_ms = c.corrected[first..last].to_vec();
        LabelledBeat {
            index: self.front_index + i as u64,
            at_ms,
            rr_ms,
            artifact,
            affected,
            nn_ms,
        }
    }
}

fn valid(rr: f64) -> bool {
    rr.is_finite() && rr > 0.0
}

/// Quantile with linear interpolation between order statistics of sorted `items`, as auren-hrv reads its
/// windows (numpy's and pandas' default).
fn quantile(items: &[f64], q: f64) -> f64 {
    let m = items.len();
    if m == 0 {
        return 0.0;
    }
    let h = (m - 1) as f64 * q;
    // `h` is finite and not negative: the cast truncates as `floor` would.
    let lo = h as usize;
    let frac = h - lo as f64;
    let a = items[lo.min(m - 1)];
    let b = items[(lo + 1).min(m - 1)];
    a + frac * (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_series_is_labelled_in_order_with_the_lag_and_flushed_at_the_end() {
        let mut labeller = Labeller::new();
        let mut out = Vec::new();
        let mut t = 0.0;
        for k in 0..100_usize {
            let rr = 1000.0 + 20.0 * ((k as f64) * 0.7).sin();
            t += rr;
            labeller.push(t, rr, &mut out);
            // The lag ramps up by one every other beat, then stays.
            assert_eq!(
                labeller.pending(),
                k.div_ceil(2).min(LABEL_LAG_BEATS),
                "after beat {k}"
            );
        }
        labeller.flush(&mut out);
        assert_eq!(out.len(), 100);
        for (k, beat) in out.iter().enumerate() {
            assert_eq!(beat.index, k as u64);
            assert_eq!(beat.artifact, None);
            assert_eq!(beat.nn_ms, vec![beat.rr_ms]);
        }
    }
}
