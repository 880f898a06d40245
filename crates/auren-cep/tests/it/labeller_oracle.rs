//! The labeller skips the correction for beats it can show to be unaffected (issue 13); these tests hold
//! it to the labeller that corrects its whole buffer for every labelled beat, as it did before: every
//! labelled beat (index, time, interval, label, span, corrected intervals) equal bit for bit, on random
//! series with artifacts, ties, invalid intervals and gaps, and on the shipped recordings with artifacts.

use std::collections::VecDeque;

use auren_cep::labeller::{LABEL_LAG_BEATS, LabelledBeat, Labeller};
use auren_hrv::artifacts::{QD_WINDOW, correct};
use proptest::prelude::*;

/// The labeller before the quiet-beat shortcut: one correction of the whole buffer per labelling.
#[derive(Default)]
struct Oracle {
    buffer: VecDeque<(f64, f64)>,
    labelled: usize,
    front_index: u64,
    span_left: usize,
    segment_len: usize,
}

impl Oracle {
    fn push(&mut self, at_ms: f64, rr_ms: f64, out: &mut Vec<LabelledBeat>) {
        self.buffer.push_back((at_ms, rr_ms));
        self.segment_len += 1;
        let labelled_in_segment = if self.segment_len > 2 * LABEL_LAG_BEATS {
            self.segment_len - LABEL_LAG_BEATS
        } else {
            self.segment_len.div_ceil(2)
        };
        let ready = self
            .buffer
            .len()
            .saturating_sub(self.segment_len - labelled_in_segment);
        if ready > self.labelled {
            self.label_up_to(ready, out);
        }
        while self.buffer.len() > 2 * QD_WINDOW && self.labelled > 0 {
            self.buffer.pop_front();
            self.labelled -= 1;
            self.front_index += 1;
        }
    }

    fn flush(&mut self, out: &mut Vec<LabelledBeat>) {
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

    fn label_up_to(&mut self, end: usize, out: &mut Vec<LabelledBeat>) {
        let rr: Vec<f64> = self.buffer.iter().map(|&(_, rr)| rr).collect();
        let c = correct(&rr);
        for i in self.labelled..end {
            let (at_ms, rr_ms) = self.buffer[i];
            let artifact = c.artifacts.iter().find(|a| a.index == i).map(|a| a.kind);
            if let Some(kind) = artifact {
                self.span_left = kind.raw_span();
            }
            let affected = self.span_left > 0;
            self.span_left = self.span_left.saturating_sub(1);
            let first = c.raw_index.partition_point(|&r| r < i);
            let last = c.raw_index.partition_point(|&r| r <= i);
            out.push(LabelledBeat {
                index: self.front_index + i as u64,
                at_ms,
                rr_ms,
                artifact,
                affected,
                nn_ms: c.corrected[first..last].to_vec(),
            });
        }
        self.labelled = end;
    }
}

/// One step of a series: a beat, or a gap (the pending beats flushed).
#[derive(Clone, Copy, Debug)]
enum Step {
    Beat(f64),
    Gap,
}

/// Runs `steps` through both labellers; the beats each labelled, bits of the floats compared.
fn both(steps: &[Step]) -> (Vec<LabelledBeat>, Vec<LabelledBeat>) {
    let (mut fast, mut slow) = (Labeller::new(), Oracle::default());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut t = 0.0;
    for &step in steps {
        match step {
            Step::Beat(rr) => {
                t += if rr.is_finite() && rr > 0.0 { rr } else { 1.0 };
                fast.push(t, rr, &mut a);
                slow.push(t, rr, &mut b);
                assert_eq!(fast.pending(), slow.buffer.len() - slow.labelled);
            }
            Step::Gap => {
                fast.flush(&mut a);
                slow.flush(&mut b);
            }
        }
    }
    fast.flush(&mut a);
    slow.flush(&mut b);
    (a, b)
}

/// A labelled beat with its floats as bits: index, time, interval, label, affected, corrected intervals.
type BeatBits = (u64, u64, u64, Option<&'static str>, bool, Vec<u64>);

fn bits(beats: &[LabelledBeat]) -> Vec<BeatBits> {
    beats
        .iter()
        .map(|b| {
            (
                b.index,
                b.at_ms.to_bits(),
                b.rr_ms.to_bits(),
                b.artifact.map(|k| k.as_str()),
                b.affected,
                b.nn_ms.iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect()
}

/// A heart rhythm drifting around `base` with beat-to-beat noise, quantised to a strap's 1/1024 s (ties),
/// and now and then an artifact: a missed beat (×2, ×3), an extra beat (split in two), an ectopic pair,
/// a lone long or short interval, an invalid interval, or a gap.
fn series() -> impl Strategy<Value = Vec<Step>> {
    let beat = (0_u32..1000, -60.0..60.0_f64);
    (500.0..1300.0_f64, prop::collection::vec(beat, 1..420)).prop_map(|(base, raw)| {
        let mut steps = Vec::new();
        let mut level = base;
        for (pick, noise) in raw {
            level = (level + noise * 0.2).clamp(350.0, 1800.0);
            let rr = ((level + noise) * 1.024).round() / 1.024;
            match pick {
                0..=5 => steps.push(Step::Beat(2.0 * rr)),
                6..=7 => steps.push(Step::Beat(3.0 * rr)),
                8..=12 => {
                    steps.push(Step::Beat(0.4 * rr));
                    steps.push(Step::Beat(0.6 * rr));
                }
                13..=19 => {
                    steps.push(Step::Beat(0.65 * rr));
                    steps.push(Step::Beat(1.35 * rr));
                }
                20..=23 => steps.push(Step::Beat(1.6 * rr)),
                24..=27 => steps.push(Step::Beat(0.55 * rr)),
                28 => steps.push(Step::Beat(f64::NAN)),
                29 => steps.push(Step::Beat(0.0)),
                30..=32 => steps.push(Step::Gap),
                _ => steps.push(Step::Beat(rr)),
            }
        }
        steps
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random series: the same labelled beats as correcting the whole buffer for every beat.
    #[test]
    fn the_labeller_equals_correcting_the_buffer_per_beat(steps in series()) {
        let (fast, slow) = both(&steps);
        prop_assert_eq!(bits(&fast), bits(&slow));
    }
}

#[test]
fn the_labeller_equals_correcting_the_buffer_per_beat_on_the_recordings_with_artifacts() {
    let read = |name: &str| -> Vec<f64> {
        let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .unwrap()
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let artifacts = read("nsr_5min_artifacts.rr");
    // The first 1 200 beats of the hour with a missed, an extra and an ectopic beat every 97 beats,
    // and a gap after beat 700.
    let hour = read("nsr_60min.rr");
    let mut injected = Vec::new();
    for (i, &r) in hour.iter().take(1_200).enumerate() {
        match i % 97 {
            20 => injected.push(Step::Beat(2.0 * r)),
            50 => {
                injected.push(Step::Beat(0.45 * r));
                injected.push(Step::Beat(0.55 * r));
            }
            80 => injected.push(Step::Beat(0.7 * r)),
            _ => injected.push(Step::Beat(r)),
        }
        if i == 700 {
            injected.push(Step::Gap);
        }
    }
    for (name, steps) in [
        (
            "nsr_5min_artifacts",
            artifacts.into_iter().map(Step::Beat).collect::<Vec<_>>(),
        ),
        ("nsr_60min injected", injected),
    ] {
        let (fast, slow) = both(&steps);
        assert!(
            fast.iter().any(|b| b.artifact.is_some()),
            "{name}: the artifacts are labelled"
        );
        assert_eq!(bits(&fast), bits(&slow), "{name}");
    }
}
