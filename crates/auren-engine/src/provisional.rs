//! Provisional artifact labels: a causal check of the newest beat against the beats before it, so a
//! live view can show each beat the moment it arrives instead of 16 beats later.
//!
//! The final label comes from the `labeller` (the offline Lipponen & Tarvainen method, which needs
//! beats on both sides). This check uses the same statistics on the trailing side only:
//! - the reference is the median of the last [`MEDIAN_WINDOW`]` − 1` normal intervals (the paper's
//!   centred 11-beat median, made trailing), so an artifact does not move its own reference;
//! - `mRR = rr − median`, and the threshold is `Th2 = α · QD(|mRR|)` over the last [`QD_WINDOW`]
//!   beats (α = 5.2, floored at [`MIN_THRESHOLD_MS`]), as the paper's Th2 but trailing;
//! - the newest beat is flagged when `|mRR| > Th2` and it is off by at least [`MIN_DEVIATION_SHARE`]
//!   of the median (the method's guard against sinus swings on a quiet stretch).
//!
//! Without the beats after it the kind is a guess: a short interval is called ectopic (it may turn out
//! an extra beat), a long one missed when it is at least 1.5 medians, else long/short; a long interval
//! that makes up for a provisionally ectopic one (their sum within Th2 of two medians) is the pause of
//! that ectopic beat and stays unflagged, as the final method does. Wrong guesses are revised by the
//! final labels (`LiveUpdateDto::corrections`); the rules and the store never see these.

use std::collections::VecDeque;

use auren_hrv::artifacts::{
    ALPHA, ArtifactKind, MEDIAN_WINDOW, MIN_DEVIATION_SHARE, MIN_THRESHOLD_MS, QD_WINDOW,
};

/// Normal intervals the trailing median needs before any beat is judged: with fewer, every beat is
/// provisionally clean (as the start of any recording is judged with little context).
const MIN_CONTEXT: usize = 4;
/// A long interval at least this many medians is provisionally a missed beat.
const MISSED_RATIO: f64 = 1.5;

/// The trailing statistics of one stretch of beats (between gaps).
#[derive(Debug, Default)]
pub struct ProvisionalLabeller {
    /// The latest normal intervals, for the trailing median.
    normal: VecDeque<f64>,
    /// |mRR| of the latest beats, for the quartile deviation.
    deviations: VecDeque<f64>,
    /// The newest beat's interval and provisional label.
    previous: Option<(f64, Option<ArtifactKind>)>,
}

impl ProvisionalLabeller {
    pub fn new() -> Self {
        Self::default()
    }

    /// The provisional label of the beat ending an interval of `rr_ms`, judged on the beats before it.
    pub fn push(&mut self, rr_ms: f64) -> Option<ArtifactKind> {
        let label = self.judge(rr_ms);
        if label.is_none() {
            self.normal.push_back(rr_ms);
            if self.normal.len() >= MEDIAN_WINDOW {
                self.normal.pop_front();
            }
        }
        self.previous = Some((rr_ms, label));
        label
    }

    /// A gap: nothing before it judges a beat after it.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    fn judge(&mut self, rr: f64) -> Option<ArtifactKind> {
        if self.normal.len() < MIN_CONTEXT {
            return None;
        }
        let median = median(self.normal.iter().copied());
        let mrr = rr - median;
        let th2 = (ALPHA * quartile_deviation(self.deviations.iter().copied())).max(MIN_THRESHOLD_MS);
        self.deviations.push_back(mrr.abs());
        if self.deviations.len() > QD_WINDOW {
            self.deviations.pop_front();
        }
        if mrr.abs() <= th2 || mrr.abs() < MIN_DEVIATION_SHARE * median {
            return None;
        }
        if mrr < 0.0 {
            return Some(ArtifactKind::Ectopic);
        }
        if let Some((previous_rr, Some(ArtifactKind::Ectopic))) = self.previous
            && (previous_rr + rr - 2.0 * median).abs() <= th2
        {
            return None;
        }
        if rr >= MISSED_RATIO * median {
            Some(ArtifactKind::Missed)
        } else {
            Some(ArtifactKind::LongShort)
        }
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Half the distance between the first and third quartiles (linear interpolation); 0 when empty.
fn quartile_deviation(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    (at(0.75) - at(0.25)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quiet sinus series with a little beat-to-beat variation.
    fn sinus(n: usize) -> Vec<f64> {
        (0..n).map(|k| 1000.0 + 25.0 * ((k as f64) * 0.9).sin()).collect()
    }

    /// What, the intervals after a quiet run, and their expected provisional labels.
    type Case = (&'static str, &'static [f64], &'static [Option<ArtifactKind>]);

    #[test]
    fn the_newest_beat_is_judged_against_the_beats_before_it() {
        let table: [Case; 4] = [
            (
                "a premature beat and its pause",
                &[700.0, 1300.0],
                &[Some(ArtifactKind::Ectopic), None],
            ),
            ("a missed beat", &[2000.0], &[Some(ArtifactKind::Missed)]),
            (
                "a lone long interval",
                &[1300.0],
                &[Some(ArtifactKind::LongShort)],
            ),
            ("a normal beat", &[1010.0], &[None]),
        ];
        for (what, tail, expected) in table {
            let mut labeller = ProvisionalLabeller::new();
            for rr in sinus(40) {
                assert_eq!(labeller.push(rr), None, "{what}: the sinus run is clean");
            }
            let got: Vec<_> = tail.iter().map(|&rr| labeller.push(rr)).collect();
            assert_eq!(got, expected, "{what}");
        }
    }

    #[test]
    fn after_a_reset_the_first_beats_have_no_context_to_be_judged_against() {
        let mut labeller = ProvisionalLabeller::new();
        for rr in sinus(40) {
            labeller.push(rr);
        }
        labeller.reset();
        assert_eq!(labeller.push(2000.0), None);
    }
}
