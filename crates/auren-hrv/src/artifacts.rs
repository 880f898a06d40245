//! Artifact detection and correction after Lipponen & Tarvainen (2019), the Kubios automatic method.
//!
//! The method, on a series of RR intervals `rr[j]` (ms):
//!
//! 1. `dRR[j] = rr[j] − rr[j−1]` (`dRR[0]` is the mean of the others, so the first interval is
//!    not judged by a difference it does not have), normalised by the time-varying threshold
//!    `Th1[j] = 5.2 · QD(dRR)`, QD the quartile deviation `(Q3 − Q1)/2` over a centred 91-beat
//!    window (shrunk at the edges). That normalised series is S11.
//! 2. `mRR[j] = rr[j] − median(rr[j−5..=j+5])`, negative values doubled (short beats matter more),
//!    normalised by `Th2[j] = 5.2 · QD(mRR)` over the same 91-beat window.
//! 3. Subspaces: `S12[j] = max(S11[j−1], S11[j+1])` when `S11[j] > 0`, the min when `< 0`;
//!    `S22[j] = min(S11[j+1], S11[j+2])` when `S11[j] ≥ 0`, the max when `< 0` (reflected at the ends).
//! 4. Decisions: an **ectopic** beat lies in S11 > 1 ∧ S12 < −c1·S11 − c2 or
//!    S11 < −1 ∧ S12 > −c1·S11 + c2 (c1 = 0.13, c2 = 0.17). Otherwise, a beat with |S11| > 1 (and
//!    the beat after it, when that one jumps less than the next) is **long** (S11 > 1 ∧ S22 < −1,
//!    or mRR > 3) or **short** (S11 < −1 ∧ S22 > 1, or mRR < −3). A short beat whose sum with the
//!    next is close to the local median (`|rr[j] + rr[j+1] − med[j]| < Th2[j]`) is an **extra**
//!    beat; a long beat that splits into `k = round(rr/med)` parts close to the median
//!    (`|rr[j]/k − med[j]| < Th2[j]`, 2 ≤ k ≤ [`MAX_SPLIT`]; the paper states k = 2) is a
//!    **missed** beat; the rest are **long_short**. An interval longer than [`MAX_SPLIT`] beats is
//!    a dropout rather than missed beats: it is labelled long_short, and no beats are invented.
//!
//! The quartile deviation is taken of the signed series, as the paper defines it: for normally
//! distributed differences QD = 0.674 σ, so 5.2 · QD = 3.5 σ holds the 99.95 % of normal beats the
//! paper quotes. NeuroKit2 and systole take it of the absolute values (QD = 0.42 σ, a 2.2 σ
//! threshold), which on the clean reference recordings labels several times more beats.
//!
//! How labels are reported: one [`Artifact`] per event, at the *first* raw interval it affects.
//! An ectopic beat corrupts two intervals (the premature short one and the compensatory long one,
//! or the reverse): the classifier fires on the second, the label sits on the first, and both are
//! corrected. An extra beat splits one true interval into two: the label sits on the first part.
//! [`ArtifactKind::raw_span`] says how many raw intervals each kind covers.
//!
//! Correction (one pass as in the paper; [`CorrectionConfig::max_passes`] repeats detection on the
//! corrected series as NeuroKit2 does, labels mapped back to raw indices):
//! missed → the long interval is split into k equal intervals; extra → the two parts are merged
//! into one; ectopic and long_short → the affected intervals are replaced by *linear*
//! interpolation (over beat index) between the nearest unaffected neighbours. Linear rather than
//! cubic: for the one- or two-beat holes this fills, the difference is far below beat-to-beat
//! noise, and linear interpolation cannot overshoot next to a second artifact.
//!
//! Guards the paper leaves open: thresholds are floored at [`MIN_THRESHOLD_MS`] so a perfectly
//! regular series (quartile deviation 0) does not divide by zero; non-finite or non-positive
//! intervals are labelled long_short and interpolated; fewer than [`MIN_INTERVALS`] valid
//! intervals are too few to estimate the thresholds, and nothing is labelled.
//!
//! Cost: the rolling quartiles and the median keep a sorted window (binary search + shift of at
//! most 91 values per beat), so a 24-hour recording of ~110 000 beats corrects in milliseconds.

/// The kind of a flagged beat, as Lipponen & Tarvainen label them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    Ectopic,
    Missed,
    Extra,
    LongShort,
}

impl ArtifactKind {
    /// The stable snake_case name used in JSON output, the database and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Ectopic => "ectopic",
            ArtifactKind::Missed => "missed",
            ArtifactKind::Extra => "extra",
            ArtifactKind::LongShort => "long_short",
        }
    }

    /// How many consecutive raw intervals, starting at [`Artifact::index`], this kind of artifact
    /// covers: an ectopic beat corrupts the interval before and after it, an extra beat splits one
    /// interval into two, a missed beat merges several into one, a long/short interval is alone.
    pub fn raw_span(self) -> usize {
        match self {
            ArtifactKind::Ectopic | ArtifactKind::Extra => 2,
            ArtifactKind::Missed | ArtifactKind::LongShort => 1,
        }
    }
}

/// One labelled artifact in a raw RR series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Artifact {
    /// Position in the RAW series of the first interval the artifact affects.
    pub index: usize,
    pub kind: ArtifactKind,
}

/// The outcome of [`correct`]: the corrected series, the labels, and the way back to the raw series.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The corrected NN intervals (ms).
    pub corrected: Vec<f64>,
    /// The labels, sorted by raw index, at most one per raw interval.
    pub artifacts: Vec<Artifact>,
    /// For each corrected interval, the raw interval it came from (for merged intervals the first
    /// of them, for split intervals the one they were split from). Non-decreasing.
    pub raw_index: Vec<usize>,
}

/// Slope of the ectopic decision boundary in subspace S11/S12.
pub const C1: f64 = 0.13;
/// Offset of the ectopic decision boundary in subspace S11/S12.
pub const C2: f64 = 0.17;
/// Multiplier of the quartile deviation in both thresholds.
pub const ALPHA: f64 = 5.2;
/// Width (beats) of the centred window of the quartile deviations.
pub const QD_WINDOW: usize = 91;
/// Width (beats) of the centred median filter.
pub const MEDIAN_WINDOW: usize = 11;
/// Floor of both thresholds (ms): 5.2 × a quartile deviation of 1 ms, about one tick of a strap
/// reporting in 1/1024 s. Only a near-metronomic series ever reaches it.
pub const MIN_THRESHOLD_MS: f64 = ALPHA * 1.0;
/// Fewer valid intervals than this: no labels, the series is returned unchanged.
pub const MIN_INTERVALS: usize = 8;
/// Most intervals a missed-beat correction splits one interval into (three missed beats in a
/// row, which chest straps do drop during movement); anything longer is a dropout.
pub const MAX_SPLIT: usize = 4;
/// How [`correct_with`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrectionConfig {
    /// Detection/correction passes at most. The paper (and so [`correct`]) makes one; NeuroKit2
    /// repeats on the corrected series while the number of labels found keeps decreasing, which
    /// also relabels borderline beats once nearby artifacts no longer widen the thresholds.
    /// Zero passes label and change nothing.
    pub max_passes: usize,
}

impl Default for CorrectionConfig {
    fn default() -> Self {
        Self { max_passes: 1 }
    }
}

/// The labels [`correct`] reports for `rr` (identical to `correct(rr).artifacts`).
pub fn detect(rr: &[f64]) -> Vec<Artifact> {
    correct(rr).artifacts
}

/// Detects and corrects artifacts in one pass, as the paper does; the raw series is never modified.
pub fn correct(rr: &[f64]) -> Correction {
    correct_with(rr, &CorrectionConfig::default())
}

/// Detects and corrects artifacts with `config` (see the module docs).
pub fn correct_with(rr: &[f64], config: &CorrectionConfig) -> Correction {
    let n = rr.len();
    let unchanged = || Correction {
        corrected: rr.to_vec(),
        artifacts: Vec::new(),
        raw_index: (0..n).collect(),
    };
    if config.max_passes == 0 {
        return unchanged();
    }
    let valid = |x: f64| x.is_finite() && x > 0.0;
    if rr.iter().filter(|&&x| valid(x)).count() < MIN_INTERVALS {
        return unchanged();
    }

    let mut values = rr.to_vec();
    let mut raw_index: Vec<usize> = (0..n).collect();
    let mut labelled = vec![false; n];
    let mut artifacts = Vec::new();

    // Invalid intervals would poison the quartiles: label them and fill them in first.
    let invalid: Vec<Label> = rr
        .iter()
        .enumerate()
        .filter(|&(_, &x)| !valid(x))
        .map(|(index, _)| Label {
            index,
            kind: ArtifactKind::LongShort,
            parts: 1,
        })
        .collect();
    if !invalid.is_empty() {
        record(&invalid, &raw_index, &mut labelled, &mut artifacts);
        (values, raw_index) = apply(&values, &raw_index, &invalid);
    }

    let mut previous = usize::MAX;
    for _ in 0..config.max_passes {
        let found = classify(&values);
        if found.is_empty() || found.len() >= previous {
            break;
        }
        previous = found.len();
        record(&found, &raw_index, &mut labelled, &mut artifacts);
        (values, raw_index) = apply(&values, &raw_index, &found);
    }

    artifacts.sort_by_key(|a: &Artifact| a.index);
    Correction {
        corrected: values,
        artifacts,
        raw_index,
    }
}

/// A label on the series being classified (not necessarily the raw one).
#[derive(Debug, Clone, Copy)]
struct Label {
    index: usize,
    kind: ArtifactKind,
    /// For a missed beat, how many intervals the long one splits into.
    parts: usize,
}

fn record(found: &[Label], raw_index: &[usize], labelled: &mut [bool], out: &mut Vec<Artifact>) {
    for label in found {
        let Some(&raw) = raw_index.get(label.index) else {
            continue;
        };
        if let Some(seen) = labelled.get_mut(raw)
            && !*seen
        {
            *seen = true;
            out.push(Artifact {
                index: raw,
                kind: label.kind,
            });
        }
    }
}

/// One detection pass over a series of finite, positive intervals.
fn classify(rr: &[f64]) -> Vec<Label> {
    let n = rr.len();
    if n < MIN_INTERVALS {
        return Vec::new();
    }

    let mut drr = vec![0.0; n];
    for j in 1..n {
        drr[j] = rr[j] - rr[j - 1];
    }
    drr[0] = drr[1..].iter().sum::<f64>() / (n - 1) as f64;
    let th1 = thresholds(&drr);
    let s11: Vec<f64> = drr.iter().zip(&th1).map(|(d, t)| d / t).collect();

    let med = rolling_median(rr, MEDIAN_WINDOW / 2);
    let mut mrr: Vec<f64> = rr.iter().zip(&med).map(|(r, m)| r - m).collect();
    for m in &mut mrr {
        if *m < 0.0 {
            *m *= 2.0;
        }
    }
    let th2 = thresholds(&mrr);
    let mrr_n: Vec<f64> = mrr.iter().zip(&th2).map(|(m, t)| m / t).collect();

    // Reflect-padded access, as NeuroKit2 pads: index −1 reads 1, index n reads n − 2.
    let at = |k: isize| -> f64 {
        let last = n as isize - 1;
        let k = if k < 0 {
            -k
        } else if k > last {
            2 * last - k
        } else {
            k
        };
        s11[k.clamp(0, last) as usize]
    };
    let s12 = |j: usize| -> f64 {
        let (a, b) = (at(j as isize - 1), at(j as isize + 1));
        if s11[j] > 0.0 {
            a.max(b)
        } else if s11[j] < 0.0 {
            a.min(b)
        } else {
            0.0
        }
    };
    let s22 = |j: usize| -> f64 {
        let (a, b) = (at(j as isize + 1), at(j as isize + 2));
        if s11[j] >= 0.0 { a.min(b) } else { a.max(b) }
    };
    let ectopic = |j: usize| -> bool {
        let (x, y) = (s11[j], s12(j));
        (x > 1.0 && y < -C1 * x - C2) || (x < -1.0 && y > -C1 * x + C2)
    };

    let mut labels = Vec::new();
    // As in the paper's flow chart (and NeuroKit2): only a beat over Th1 opens an inspection,
    // and it pulls the next beat in when that one's jump is the smaller of the two that follow
    // (a run of two long intervals has a flat difference between them).
    let mut pulled_in = false;
    let mut j = 0;
    while j < n {
        let pulled = std::mem::take(&mut pulled_in);
        // The classifier fires on the second interval of an ectopic pair; the pair starts here.
        // The last interval's S12 would read reflected values, so a pair must end before it.
        if j + 1 < n - 1 && ectopic(j + 1) {
            labels.push(Label {
                index: j,
                kind: ArtifactKind::Ectopic,
                parts: 1,
            });
            j += 2;
            continue;
        }
        let (x, m) = (s11[j], mrr_n[j]);
        if x.abs() <= 1.0 && !pulled {
            j += 1;
            continue;
        }
        if x.abs() > 1.0 && j + 2 < n {
            pulled_in = s11[j + 1].abs() < s11[j + 2].abs();
        }
        let long = (x > 1.0 && s22(j) < -1.0) || m > 3.0;
        let short = (x < -1.0 && s22(j) > 1.0) || m < -3.0;
        if short && j + 1 < n && (rr[j] + rr[j + 1] - med[j]).abs() < th2[j] {
            labels.push(Label {
                index: j,
                kind: ArtifactKind::Extra,
                parts: 1,
            });
            j += 2;
            continue;
        }
        if long {
            let parts = (rr[j] / med[j]).round();
            if (2.0..=MAX_SPLIT as f64).contains(&parts) && (rr[j] / parts - med[j]).abs() < th2[j] {
                // `parts` is a small positive whole number here: rr/med is finite and ≥ 1.5.
                let parts = parts as usize;
                labels.push(Label {
                    index: j,
                    kind: ArtifactKind::Missed,
                    parts,
                });
                j += 1;
                continue;
            }
        }
        if long || short {
            labels.push(Label {
                index: j,
                kind: ArtifactKind::LongShort,
                parts: 1,
            });
        }
        j += 1;
    }
    labels
}

/// Applies one pass of labels to `values`, carrying the raw-index map along.
fn apply(values: &[f64], raw_index: &[usize], labels: &[Label]) -> (Vec<f64>, Vec<usize>) {
    let n = values.len();
    let mut at: Vec<Option<Label>> = vec![None; n];
    for label in labels {
        if let Some(slot) = at.get_mut(label.index) {
            *slot = Some(*label);
        }
    }

    let mut out = Vec::with_capacity(n + 4);
    let mut raw = Vec::with_capacity(n + 4);
    let mut fill = Vec::with_capacity(n + 4);
    let mut j = 0;
    while j < n {
        let has_next = j + 1 < n;
        match at[j] {
            Some(Label {
                kind: ArtifactKind::Missed,
                parts,
                ..
            }) => {
                let parts = parts.max(1);
                for _ in 0..parts {
                    out.push(values[j] / parts as f64);
                    raw.push(raw_index[j]);
                    fill.push(false);
                }
                j += 1;
            }
            Some(Label {
                kind: ArtifactKind::Extra,
                ..
            }) if has_next => {
                out.push(values[j] + values[j + 1]);
                raw.push(raw_index[j]);
                fill.push(false);
                j += 2;
            }
            Some(Label {
                kind: ArtifactKind::Ectopic,
                ..
            }) if has_next => {
                for k in [j, j + 1] {
                    out.push(values[k]);
                    raw.push(raw_index[k]);
                    fill.push(true);
                }
                j += 2;
            }
            Some(_) => {
                out.push(values[j]);
                raw.push(raw_index[j]);
                fill.push(true);
                j += 1;
            }
            None => {
                out.push(values[j]);
                raw.push(raw_index[j]);
                fill.push(false);
                j += 1;
            }
        }
    }
    interpolate_marked(&mut out, &fill);
    (out, raw)
}

/// Replaces every marked value by linear interpolation (over index) between the nearest unmarked
/// neighbours; a run at an edge takes its one neighbour's value; with no neighbour at all the
/// values stay as they are.
fn interpolate_marked(values: &mut [f64], marked: &[bool]) {
    let n = values.len();
    let mut k = 0;
    while k < n {
        if !marked[k] {
            k += 1;
            continue;
        }
        let start = k;
        while k < n && marked[k] {
            k += 1;
        }
        let left = start.checked_sub(1).map(|l| (l, values[l]));
        let right = (k < n).then(|| (k, values[k]));
        for (i, v) in values.iter_mut().enumerate().take(k).skip(start) {
            match (left, right) {
                (Some((l, a)), Some((r, b))) => {
                    *v = a + (b - a) * (i - l) as f64 / (r - l) as f64;
                }
                (Some((_, a)), None) => *v = a,
                (None, Some((_, b))) => *v = b,
                (None, None) => {}
            }
        }
    }
}

/// `ALPHA · QD(|x|)` over the centred [`QD_WINDOW`], floored at [`MIN_THRESHOLD_MS`].
fn thresholds(x: &[f64]) -> Vec<f64> {
    centred_rolling(x, QD_WINDOW / 2, |w| {
        let qd = (w.quantile(0.75) - w.quantile(0.25)) / 2.0;
        (ALPHA * qd).max(MIN_THRESHOLD_MS)
    })
}

fn rolling_median(x: &[f64], half: usize) -> Vec<f64> {
    centred_rolling(x, half, |w| w.quantile(0.5))
}

/// Applies `f` to the sorted window `x[i−half ..= i+half]` (clipped at the edges) for every `i`,
/// like pandas' `rolling(2·half+1, center=True, min_periods=1)`.
fn centred_rolling(x: &[f64], half: usize, f: impl Fn(&SortedWindow) -> f64) -> Vec<f64> {
    let n = x.len();
    let mut window = SortedWindow::with_capacity(2 * half + 1);
    for &v in x.iter().take(half + 1) {
        window.insert(v);
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            if let Some(&v) = x.get(i + half) {
                window.insert(v);
            }
            if i > half {
                window.remove(x[i - half - 1]);
            }
        }
        out.push(f(&window));
    }
    out
}

/// A small multiset kept sorted; finite values only.
struct SortedWindow {
    items: Vec<f64>,
}

impl SortedWindow {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            items: Vec::with_capacity(capacity),
        }
    }

    fn insert(&mut self, v: f64) {
        let at = self.items.partition_point(|&x| x < v);
        self.items.insert(at, v);
    }

    fn remove(&mut self, v: f64) {
        let at = self.items.partition_point(|&x| x < v);
        if at < self.items.len() {
            self.items.remove(at);
        }
    }

    /// Quantile with linear interpolation between order statistics (numpy's and pandas' default).
    fn quantile(&self, q: f64) -> f64 {
        let m = self.items.len();
        if m == 0 {
            return 0.0;
        }
        let h = (m - 1) as f64 * q;
        let lo = h.floor() as usize;
        let frac = h - lo as f64;
        let a = self.items[lo.min(m - 1)];
        let b = self.items[(lo + 1).min(m - 1)];
        a + frac * (b - a)
    }
}
