//! The artifact sweep: inject one artifact at a time into clean stretches of real RR intervals, run
//! [`correct`], and score the labels and the corrected RMSSD against the clean stretch.
//!
//! It is the measuring stick of [`crate::artifacts`], shared by the integration test (which holds
//! the goals) and the `artifact_sweep` example (which `cargo xtask bench hrv` prints). Pure, like
//! the rest of the crate: the caller loads the recordings.
//!
//! The injected artifacts are the three a chest strap and a heart produce:
//! - **ectopic**: the beat comes [`ECTOPIC_PREMATURITY`] early and a full compensatory pause
//!   follows (`rr[p]` shortened by that share, `rr[p+1]` lengthened by the same ms, so the beat
//!   after the pause is on time). The label belongs on `p`, the premature beat.
//! - **missed**: two intervals merged into one (`rr[p] + rr[p+1]`), labelled at `p`.
//! - **extra**: one interval split [`EXTRA_SPLIT`] / rest into two, labelled at `p`.
//!
//! Each injection is scored with RMSSD of the corrected series against the clean one, and, for
//! comparison, with RMSSD over only the differences that no label touched ([`rmssd_nn_only`]).

use crate::artifacts::{ArtifactKind, Correction, CorrectionConfig, correct_with};

/// How early an injected ectopic beat comes, as a share of its interval.
pub const ECTOPIC_PREMATURITY: f64 = 0.3;
/// Where an injected extra beat splits its interval, as a share of it.
pub const EXTRA_SPLIT: f64 = 0.4;
/// A label further than this (in beats) from the injection is a false flag.
pub const NEARBY_BEATS: usize = 2;

/// One kind of injected artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    Ectopic,
    Missed,
    Extra,
}

impl Injection {
    pub const ALL: [Injection; 3] = [Injection::Ectopic, Injection::Missed, Injection::Extra];

    /// The label a correct detector puts on the injection.
    pub fn expected_kind(self) -> ArtifactKind {
        match self {
            Injection::Ectopic => ArtifactKind::Ectopic,
            Injection::Missed => ArtifactKind::Missed,
            Injection::Extra => ArtifactKind::Extra,
        }
    }

    /// `clean` with this artifact at interval `at` (which, with the one after it, must exist).
    pub fn apply(self, clean: &[f64], at: usize) -> Vec<f64> {
        let mut rr = clean.to_vec();
        if at + 1 >= rr.len() {
            return rr;
        }
        match self {
            Injection::Ectopic => {
                let shift = ECTOPIC_PREMATURITY * rr[at];
                rr[at] -= shift;
                rr[at + 1] += shift;
            }
            Injection::Missed => {
                let next = rr.remove(at + 1);
                rr[at] += next;
            }
            Injection::Extra => {
                let whole = rr[at];
                rr[at] = EXTRA_SPLIT * whole;
                rr.insert(at + 1, (1.0 - EXTRA_SPLIT) * whole);
            }
        }
        rr
    }
}

/// How the labels near one injection came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The expected kind at the injected interval.
    Exact,
    /// The expected kind, but up to [`NEARBY_BEATS`] away.
    RightKind,
    /// A label nearby, of another kind only.
    WrongKind,
    /// Nothing labelled nearby.
    Missed,
}

/// The result of one injection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Which stretch (index into the caller's list) and where in it.
    pub stretch: usize,
    pub at: usize,
    pub injection: Injection,
    pub verdict: Verdict,
    /// Labels besides the one that stands for the injection (nearby or not).
    pub false_flags: usize,
    /// |RMSSD(corrected) − RMSSD(clean)| / RMSSD(clean).
    pub rmssd_error: f64,
    /// The same error when RMSSD of the corrected series leaves out every successive difference
    /// that touches a corrected interval ([`rmssd_nn_only`]).
    pub rmssd_nn_only_error: f64,
    /// (RMSSD(corrected) − RMSSD(clean)) / RMSSD(clean): the error with its sign, whose mean tells
    /// a placement that loses variability from one that is off either way.
    pub rmssd_change: f64,
}

/// The whole sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub outcomes: Vec<Outcome>,
    /// Labels on the clean stretches themselves, before anything is injected.
    pub clean_flags: usize,
}

impl Summary {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.outcomes.iter().filter(|o| o.verdict == verdict).count()
    }

    /// The outcomes of one kind of injection.
    pub fn of(&self, injection: Injection) -> Summary {
        Summary {
            outcomes: self
                .outcomes
                .iter()
                .filter(|o| o.injection == injection)
                .copied()
                .collect(),
            clean_flags: 0,
        }
    }

    /// Injections whose corrected RMSSD is more than `share` off the clean one.
    pub fn rmssd_off_by_more_than(&self, share: f64) -> usize {
        self.outcomes.iter().filter(|o| o.rmssd_error > share).count()
    }

    /// Exact labels as a share of all injections (1 when there were none).
    pub fn exact_share(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 1.0;
        }
        self.count(Verdict::Exact) as f64 / self.outcomes.len() as f64
    }

    /// False flags over all injections, plus the labels on the clean stretches.
    pub fn false_flags(&self) -> usize {
        self.clean_flags + self.outcomes.iter().map(|o| o.false_flags).sum::<usize>()
    }

    /// The mean of [`Outcome::rmssd_error`] (0 without injections).
    pub fn mean_rmssd_error(&self) -> f64 {
        self.mean(|o| o.rmssd_error)
    }

    /// The mean of [`Outcome::rmssd_change`] (0 without injections): below 0 when corrections
    /// lose variability on the whole.
    pub fn mean_rmssd_change(&self) -> f64 {
        self.mean(|o| o.rmssd_change)
    }

    /// The mean of [`Outcome::rmssd_nn_only_error`] (0 without injections).
    pub fn mean_rmssd_nn_only_error(&self) -> f64 {
        self.mean(|o| o.rmssd_nn_only_error)
    }

    /// Injections whose NN-only RMSSD is more than `share` off the clean one.
    pub fn nn_only_off_by_more_than(&self, share: f64) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.rmssd_nn_only_error > share)
            .count()
    }

    fn mean(&self, f: impl Fn(&Outcome) -> f64) -> f64 {
        let sum: f64 = self.outcomes.iter().map(f).sum();
        sum / self.outcomes.len().max(1) as f64
    }

    /// The injection whose corrected RMSSD is furthest from the clean one.
    pub fn worst_rmssd(&self) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .max_by(|a, b| a.rmssd_error.total_cmp(&b.rmssd_error))
    }
}

/// Length of the stretches [`stretches`] cuts long recordings into.
pub const STRETCH_BEATS: usize = 400;

/// The recordings cut into stretches of [`STRETCH_BEATS`] (a shorter recording is one stretch;
/// the remainder of a longer one is left out, so every stretch has the same context).
pub fn stretches<'a>(recordings: &[&'a [f64]]) -> Vec<&'a [f64]> {
    let mut out = Vec::new();
    for rr in recordings {
        if rr.len() <= STRETCH_BEATS {
            out.push(*rr);
        } else {
            out.extend(rr.chunks_exact(STRETCH_BEATS));
        }
    }
    out
}

/// Where the sweep injects: every `step` beats, keeping `margin` beats clear of both ends; and how
/// it corrects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    pub step: usize,
    pub margin: usize,
    pub correction: CorrectionConfig,
}

impl Default for SweepConfig {
    /// One injection every 20 beats, at least 20 beats from either end, the default correction.
    fn default() -> Self {
        Self {
            step: 20,
            margin: 20,
            correction: CorrectionConfig::default(),
        }
    }
}

/// Injects every kind at every position of every stretch, one at a time, and scores the result.
pub fn sweep(stretches: &[&[f64]], config: &SweepConfig) -> Summary {
    let step = config.step.max(1);
    let mut outcomes = Vec::new();
    let mut clean_flags = 0;
    for (s, clean) in stretches.iter().enumerate() {
        clean_flags += correct_with(clean, &config.correction).artifacts.len();
        let clean_rmssd = rmssd(clean);
        let mut at = config.margin.max(1);
        while at + config.margin.max(2) <= clean.len() {
            for injection in Injection::ALL {
                let rr = injection.apply(clean, at);
                let c = correct_with(&rr, &config.correction);
                outcomes.push(score(&c, clean_rmssd, (s, at), injection));
            }
            at += step;
        }
    }
    Summary {
        outcomes,
        clean_flags,
    }
}

fn score(c: &Correction, clean_rmssd: f64, (stretch, at): (usize, usize), injection: Injection) -> Outcome {
    let want = injection.expected_kind();
    let nearby = |i: usize| i.abs_diff(at) <= NEARBY_BEATS;
    let exact = c.artifacts.iter().any(|a| a.index == at && a.kind == want);
    let right_kind = c.artifacts.iter().any(|a| nearby(a.index) && a.kind == want);
    let change = (rmssd(&c.corrected) - clean_rmssd) / clean_rmssd;
    let (verdict, explained) = if exact {
        (Verdict::Exact, 1)
    } else if right_kind {
        (Verdict::RightKind, 1)
    } else if c.artifacts.iter().any(|a| nearby(a.index)) {
        (Verdict::WrongKind, 1)
    } else {
        (Verdict::Missed, 0)
    };
    Outcome {
        stretch,
        at,
        injection,
        verdict,
        // Every label but the one that stands for the injection.
        false_flags: c.artifacts.len() - explained,
        rmssd_error: change.abs(),
        rmssd_nn_only_error: (rmssd_nn_only(c) - clean_rmssd).abs() / clean_rmssd,
        rmssd_change: change,
    }
}

/// RMSSD (ms) of the corrected series over the successive differences between two intervals that
/// no label touched, as tools that keep "NN-only differences" compute it; 0 when there are none.
pub fn rmssd_nn_only(c: &Correction) -> f64 {
    let touched = |i: usize| {
        let raw = c.raw_index[i];
        c.artifacts
            .iter()
            .any(|a| (a.index..a.index + a.kind.raw_span()).contains(&raw))
    };
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 1..c.corrected.len() {
        if !touched(i - 1) && !touched(i) {
            sum += (c.corrected[i] - c.corrected[i - 1]).powi(2);
            count += 1;
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64).sqrt()
    }
}

/// Root mean square of successive differences (ms); 0 for fewer than two intervals.
pub fn rmssd(rr: &[f64]) -> f64 {
    if rr.len() < 2 {
        return 0.0;
    }
    let sum: f64 = rr.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
    (sum / (rr.len() - 1) as f64).sqrt()
}
