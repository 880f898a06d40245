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
//! than the 10 s a "signal lost" rule waits. The cost per beat is one correction over at most 182
//! beats: a 24-hour replay (89 291 beats) runs through the whole engine in 4.4 s (release, this machine).
//!
//! Each labelled beat also carries its corrected NN interval(s), taken from the same correction
//! (a missed beat's interval split in k, an extra beat's two parts merged, an ectopic pair
//! interpolated), so the live windows are computed on the NN series as Kubios would.

use std::collections::VecDeque;

use auren_hrv::artifacts::{ArtifactKind, Correction, QD_WINDOW, correct};

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
    /// The buffer's intervals for a correction, reused (a correction runs per beat).
    rr_scratch: Vec<f64>,
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
        let ready = ready_beats(self.segment_len + 1, self.buffer.len());
        self.segment_len += 1;
        if ready > self.labelled {
            self.label_up_to(ready, out);
        }
        while self.buffer.len() > BUFFER_BEATS && self.labelled > 0 {
            self.buffer.pop_front();
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
        self.labelled = 0;
        self.span_left = 0;
        self.segment_len = 0;
    }

    /// Beats received and not labelled yet.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.labelled
    }

    fn label_up_to(&mut self, end: usize, out: &mut Vec<LabelledBeat>) {
        let mut rr = std::mem::take(&mut self.rr_scratch);
        rr.clear();
        rr.extend(self.buffer.iter().map(|&(_, rr)| rr));
        let correction = correct(&rr);
        self.rr_scratch = rr;
        for i in self.labelled..end {
            out.push(self.labelled_beat(i, &correction));
        }
        self.labelled = end;
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
