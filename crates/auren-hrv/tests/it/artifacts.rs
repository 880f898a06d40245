//! Artifact detection and correction: the reference recordings, one synthetic case per kind, and
//! properties of the correction (no panics, finite output, exact raw mapping, clean input untouched).

use auren_hrv::artifacts::{
    Artifact, ArtifactKind, CorrectionConfig, MIN_INTERVALS, Placement, correct, correct_with, detect,
};
use proptest::prelude::*;

fn load(name: &str) -> Vec<f64> {
    let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("reference file is readable");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse().expect("one number per line"))
        .collect()
}

fn rmssd(x: &[f64]) -> f64 {
    let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt()
}

fn art(index: usize, kind: ArtifactKind) -> Artifact {
    Artifact { index, kind }
}

const CLEAN_RMSSD_MS: f64 = 101.300_634_017_665_22;

#[test]
fn reference_series_yields_exactly_the_three_injected_artifacts() {
    let rr = load("nsr_5min_artifacts.rr");
    let c = correct(&rr);
    // Missed: clean RR[100]+RR[101] merged at 100. Extra: clean RR[200] split into 199 and 200,
    // labelled on the first part. Ectopic: the short 250 and the long 251, labelled on the first.
    assert_eq!(
        c.artifacts,
        vec![
            art(100, ArtifactKind::Missed),
            art(199, ArtifactKind::Extra),
            art(250, ArtifactKind::Ectopic),
        ]
    );
    assert_eq!(detect(&rr), c.artifacts);

    let got = rmssd(&c.corrected);
    assert!(
        (got - CLEAN_RMSSD_MS).abs() / CLEAN_RMSSD_MS < 0.05,
        "corrected RMSSD {got} vs clean {CLEAN_RMSSD_MS}"
    );
    assert!(
        rmssd(&rr) > 1.2 * CLEAN_RMSSD_MS,
        "the raw series is visibly corrupted"
    );

    // One interval split in two, two merged into one: the count is back to the clean series'.
    assert_eq!(c.corrected.len(), load("nsr_5min.rr").len());
    assert_eq!(&c.raw_index[99..103], &[99, 100, 100, 101]);
    assert_eq!(&c.raw_index[199..202], &[198, 199, 201]);
    assert_eq!(
        c.corrected[200],
        rr[199] + rr[200],
        "the extra beat's parts are merged"
    );
    // The missed beat's interval keeps its measured sum in every placement; even placement (the
    // paper's correction) halves it, the default places the parts by the neighbours.
    assert!(
        (c.corrected[100] + c.corrected[101] - rr[100]).abs() < 1e-9,
        "{:?} from {}",
        &c.corrected[100..102],
        rr[100]
    );
    let even = correct_with(
        &rr,
        &CorrectionConfig {
            placement: Placement::Even,
            ..CorrectionConfig::default()
        },
    );
    assert_eq!(even.artifacts, c.artifacts);
    assert_eq!(
        even.corrected[100],
        rr[100] / 2.0,
        "even placement halves the missed beat's interval"
    );
}

#[test]
fn reference_correction_restores_the_clean_intervals_it_can_know() {
    let clean = load("nsr_5min.rr");
    let c = correct(&load("nsr_5min_artifacts.rr"));
    // Away from the three artifacts every corrected interval is the clean one, untouched.
    for (k, (&got, &want)) in c.corrected.iter().zip(&clean).enumerate() {
        if !(99..=102).contains(&k) && !(249..=252).contains(&k) {
            assert_eq!(got, want, "interval {k}");
        }
    }
    assert_eq!(c.corrected[200], clean[200], "merging the extra beat is exact");
}

#[test]
fn iterative_correction_maps_later_passes_to_raw_indices() {
    let rr = load("nsr_5min_artifacts.rr");
    let c = correct_with(
        &rr,
        &CorrectionConfig {
            max_passes: 4,
            ..CorrectionConfig::default()
        },
    );
    // The second pass sees the corrected series, finds nothing more, and stops.
    assert_eq!(
        c.artifacts,
        vec![
            art(100, ArtifactKind::Missed),
            art(199, ArtifactKind::Extra),
            art(250, ArtifactKind::Ectopic),
        ]
    );
    assert_eq!(c, correct(&rr));
    assert_eq!(
        correct_with(
            &rr,
            &CorrectionConfig {
                max_passes: 0,
                ..CorrectionConfig::default()
            }
        )
        .artifacts,
        vec![]
    );
}

#[test]
fn clean_recordings_yield_no_labels() {
    // The shipped recordings are annotated normal sinus rhythm. The paper's rule labels a lone
    // beat whenever its jumps pass 5.2 quartile deviations (3.5 σ for normal differences): that
    // was 1 beat in 337 here (844 → 1062 → 1125 → 891 ms) and 31 of 4 684 in the hour, sudden
    // sinus slowings of these high-variability recordings. A lone beat now needs twice that, or
    // an artifact's own pattern (see `auren_hrv::artifacts`), and nothing here is touched.
    for name in ["nsr_5min.rr", "nsr_60min.rr"] {
        let rr = load(name);
        let c = correct(&rr);
        assert_eq!(c.artifacts, vec![], "{name}");
        assert_eq!(c.corrected, rr, "{name}");
        assert_eq!(c.raw_index, (0..rr.len()).collect::<Vec<_>>(), "{name}");
    }
}

#[test]
fn a_day_is_labelled_the_same_whatever_block_its_beats_fall_in() {
    // Classification holds its evidence one block of beats at a time; a block boundary must not
    // change a label. Three hours end to end, a missed, an extra and an ectopic beat injected
    // around each 4 096-beat boundary, then the same series behind a 1 000-beat prefix (which
    // moves every boundary): the labels agree, shifted.
    let hour = load("nsr_60min.rr");
    let mut rr: Vec<f64> = [hour.as_slice(); 3].concat();
    let mut want = Vec::new();
    for boundary in [4096, 8192] {
        for (offset, kind) in [
            (-40_isize, ArtifactKind::Missed),
            (-1, ArtifactKind::Ectopic),
            (30, ArtifactKind::Extra),
        ] {
            let j = (boundary as isize + offset) as usize;
            match kind {
                ArtifactKind::Missed => {
                    let next = rr.remove(j + 1);
                    rr[j] += next;
                }
                ArtifactKind::Ectopic => {
                    let shift = 0.3 * rr[j];
                    rr[j] -= shift;
                    rr[j + 1] += shift;
                }
                _ => {
                    let whole = rr[j];
                    rr[j] = 0.4 * whole;
                    rr.insert(j + 1, 0.6 * whole);
                }
            }
            want.push(art(j, kind));
        }
    }
    let got = correct(&rr).artifacts;
    assert_eq!(got, want);
    let prefix = 1_000;
    let shifted: Vec<f64> = hour[..prefix].iter().chain(&rr).copied().collect();
    let moved: Vec<Artifact> = correct(&shifted)
        .artifacts
        .into_iter()
        .map(|a| art(a.index - prefix, a.kind))
        .collect();
    assert_eq!(moved, want);
}

/// A deterministic, realistic-looking series: 900 ms, a 10-beat respiratory wave of ±30 ms and
/// ±10 ms of noise from a fixed linear congruential generator.
fn synthetic(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|j| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 20.0;
            900.0 + 30.0 * (std::f64::consts::TAU * j as f64 / 10.0).sin() + noise
        })
        .collect()
}

#[test]
fn each_kind_is_found_where_it_was_injected() {
    struct Case {
        name: &'static str,
        inject: fn(&mut Vec<f64>),
        want: Vec<Artifact>,
        /// Corrected length minus raw length.
        length_change: isize,
    }
    let cases = [
        Case {
            name: "missed: two intervals merged",
            inject: |rr| {
                let next = rr.remove(121);
                rr[120] += next;
            },
            want: vec![art(120, ArtifactKind::Missed)],
            length_change: 1,
        },
        Case {
            name: "two missed beats: three intervals merged",
            inject: |rr| {
                let a = rr.remove(121);
                let b = rr.remove(121);
                rr[120] += a + b;
            },
            want: vec![art(120, ArtifactKind::Missed)],
            length_change: 2,
        },
        Case {
            name: "a ten-beat dropout is no missed beat: nothing is invented",
            inject: |rr| {
                let lost: f64 = rr.drain(121..130).sum();
                rr[120] += lost;
            },
            want: vec![art(120, ArtifactKind::LongShort)],
            length_change: 0,
        },
        Case {
            name: "two missed beats in a row: a flat difference between two long intervals",
            inject: |rr| {
                for j in [120, 121] {
                    let next = rr.remove(j + 1);
                    rr[j] += next;
                }
            },
            want: vec![art(120, ArtifactKind::Missed), art(121, ArtifactKind::Missed)],
            length_change: 2,
        },
        Case {
            name: "extra: one interval split 30/70",
            inject: |rr| {
                let whole = rr[120];
                rr[120] = 0.3 * whole;
                rr.insert(121, 0.7 * whole);
            },
            want: vec![art(120, ArtifactKind::Extra)],
            length_change: -1,
        },
        Case {
            name: "ectopic: premature beat with compensatory pause",
            inject: |rr| {
                rr[120] -= 250.0;
                rr[121] += 250.0;
            },
            want: vec![art(120, ArtifactKind::Ectopic)],
            length_change: 0,
        },
        Case {
            name: "ectopic: late beat followed by a short interval",
            inject: |rr| {
                rr[120] += 250.0;
                rr[121] -= 250.0;
            },
            want: vec![art(120, ArtifactKind::Ectopic)],
            length_change: 0,
        },
        Case {
            name: "long: one interval 300 ms too long",
            inject: |rr| rr[120] += 300.0,
            want: vec![art(120, ArtifactKind::LongShort)],
            length_change: 0,
        },
        Case {
            name: "short: one interval 300 ms too short",
            inject: |rr| rr[120] -= 300.0,
            want: vec![art(120, ArtifactKind::LongShort)],
            length_change: 0,
        },
        Case {
            name: "missed beat on the last interval",
            inject: |rr| {
                let last = rr.pop().expect("non-empty");
                let n = rr.len();
                rr[n - 1] += last;
            },
            want: vec![art(238, ArtifactKind::Missed)],
            length_change: 1,
        },
    ];
    assert!(
        correct(&synthetic(240)).artifacts.is_empty(),
        "the base series is clean"
    );
    for case in cases {
        let mut rr = synthetic(240);
        (case.inject)(&mut rr);
        let c = correct(&rr);
        assert_eq!(c.artifacts, case.want, "{}", case.name);
        assert_eq!(
            c.corrected.len() as isize - rr.len() as isize,
            case.length_change,
            "{}",
            case.name
        );
        let clean_rmssd = rmssd(&synthetic(240));
        let got = rmssd(&c.corrected);
        assert!(
            (got - clean_rmssd).abs() / clean_rmssd < 0.1,
            "{}: RMSSD {got} vs {clean_rmssd}",
            case.name
        );
    }
}

#[test]
fn trend_placement_follows_the_neighbours_and_keeps_the_measured_sum() {
    // Hand-worked on the breathing series of `synthetic` with the four intervals 19–22 set on a
    // line, 880, 900, 920, 940 ms (where the wave and its noise already are, within 10 ms). The pair
    // at 20–21 is merged or made ectopic. Trend placement puts its parts on the line from 880 to
    // 940 (900, 920) shifted by half of what the line misses of the measured sum (here nothing):
    // 900 and 920 exactly. Even placement halves a merged pair (910 and 910) and interpolates an
    // ectopic pair (900, 920, as the line).
    let mut clean = synthetic(60);
    clean[19..23].copy_from_slice(&[880.0, 900.0, 920.0, 940.0]);
    assert!(correct(&clean).artifacts.is_empty(), "the series is clean");
    let mut missed = clean.clone();
    let next = missed.remove(21);
    missed[20] += next;
    let mut ectopic = clean.clone();
    ectopic[20] -= 300.0;
    ectopic[21] += 300.0;
    /// (name, series, placement, label at 20, corrected 20 and 21).
    type Case<'a> = (&'a str, &'a [f64], Placement, ArtifactKind, [f64; 2]);
    let table: [Case; 4] = [
        (
            "missed, trend",
            &missed,
            Placement::Trend,
            ArtifactKind::Missed,
            [900.0, 920.0],
        ),
        (
            "missed, even",
            &missed,
            Placement::Even,
            ArtifactKind::Missed,
            [910.0, 910.0],
        ),
        (
            "ectopic, trend",
            &ectopic,
            Placement::Trend,
            ArtifactKind::Ectopic,
            [900.0, 920.0],
        ),
        (
            "ectopic, even",
            &ectopic,
            Placement::Even,
            ArtifactKind::Ectopic,
            [900.0, 920.0],
        ),
    ];
    for (name, rr, placement, kind, want) in table {
        let config = CorrectionConfig {
            placement,
            ..CorrectionConfig::default()
        };
        let c = correct_with(rr, &config);
        assert_eq!(c.artifacts, vec![art(20, kind)], "{name}");
        assert_eq!(c.corrected.len(), clean.len(), "{name}");
        for (k, w) in want.iter().enumerate() {
            assert!(
                (c.corrected[20 + k] - w).abs() < 1e-9,
                "{name}: {:?}",
                &c.corrected[19..23]
            );
        }
    }

    // Where the line misses the sum, the difference is shared: neighbours 880 and 940 ms around a
    // merged 1850 ms give the line 900 + 920 = 1820, so each part gets 15 ms more.
    let mut long = missed.clone();
    long[20] = 1850.0;
    let trend = CorrectionConfig {
        placement: Placement::Trend,
        ..CorrectionConfig::default()
    };
    let c = correct_with(&long, &trend);
    assert_eq!(c.artifacts, vec![art(20, ArtifactKind::Missed)]);
    assert_eq!(&c.corrected[20..22], &[915.0, 935.0]);
}

/// `clean` with the pair at 20–21 merged into one interval (a missed beat) and with its first beat
/// 300 ms premature (an ectopic beat with a full compensatory pause).
fn missed_and_ectopic_at_20(clean: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut missed = clean.to_vec();
    let next = missed.remove(21);
    missed[20] += next;
    let mut ectopic = clean.to_vec();
    ectopic[20] -= 300.0;
    ectopic[21] += 300.0;
    (missed, ectopic)
}

/// Corrects `rr` with `placement`, checks the one label at 20 and returns the corrected 20 and 21.
fn corrected_pair(rr: &[f64], placement: Placement, kind: ArtifactKind) -> [f64; 2] {
    let config = CorrectionConfig {
        placement,
        ..CorrectionConfig::default()
    };
    let c = correct_with(rr, &config);
    assert_eq!(c.artifacts, vec![art(20, kind)], "{placement:?}");
    [c.corrected[20], c.corrected[21]]
}

#[test]
fn levels_placement_puts_a_sudden_change_between_the_parts() {
    // Hand-worked on the breathing series of `synthetic` (differences within about 40 ms, so Th1
    // is far under 180 ms) with the intervals 19–22 set to 880, 880, 1080, 1060 ms: a sudden
    // slowing between 20 and 21. Merged, or made ectopic, the pair leaves its sum 1960 ms between
    // neighbours 880 and 1060 ms, which differ by more than Th1. Levels gives the parts the two
    // sides' levels shifted equally to keep the sum: x = (1960 + 880 − 1060)/2 = 890, y = 1070.
    // Trend puts them on the line (940, 1000) shifted by 10 ms each; even halves the merged
    // interval and interpolates the ectopic pair.
    let mut clean = synthetic(60);
    clean[19..23].copy_from_slice(&[880.0, 880.0, 1080.0, 1060.0]);
    let (missed, ectopic) = missed_and_ectopic_at_20(&clean);
    /// (series, its label, placement, corrected 20 and 21).
    type Case<'a> = (&'a [f64], ArtifactKind, Placement, [f64; 2]);
    let table: [Case; 6] = [
        (&missed, ArtifactKind::Missed, Placement::Levels, [890.0, 1070.0]),
        (&missed, ArtifactKind::Missed, Placement::Trend, [950.0, 1010.0]),
        (&missed, ArtifactKind::Missed, Placement::Even, [980.0, 980.0]),
        (
            &ectopic,
            ArtifactKind::Ectopic,
            Placement::Levels,
            [890.0, 1070.0],
        ),
        (&ectopic, ArtifactKind::Ectopic, Placement::Trend, [950.0, 1010.0]),
        (&ectopic, ArtifactKind::Ectopic, Placement::Even, [940.0, 1000.0]),
    ];
    for (rr, kind, placement, want) in table {
        let got = corrected_pair(rr, placement, kind);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{kind:?}, {placement:?}: {got:?}");
        }
    }
}

#[test]
fn levels_placement_follows_the_line_where_the_sides_differ_little() {
    // The line 880, 900, 920, 940 of `trend_placement_follows_the_neighbours_and_keeps_the_measured_sum`,
    // flattened to 890, 900, 910, 920: the sides of the pair differ by 30 ms, less than Th1, a
    // difference normal beats reach, so levels places the parts as trend does.
    let mut clean = synthetic(60);
    clean[19..23].copy_from_slice(&[890.0, 900.0, 910.0, 920.0]);
    let (missed, ectopic) = missed_and_ectopic_at_20(&clean);
    for (rr, kind) in [(&missed, ArtifactKind::Missed), (&ectopic, ArtifactKind::Ectopic)] {
        let levels = corrected_pair(rr, Placement::Levels, kind);
        assert_eq!(levels, corrected_pair(rr, Placement::Trend, kind), "{kind:?}");
        for (g, w) in levels.iter().zip([900.0, 910.0]) {
            assert!((g - w).abs() < 1e-9, "{kind:?}: {levels:?}");
        }
    }
}

#[test]
fn a_premature_beat_on_a_sinus_peak_keeps_its_sum() {
    // The intervals 19–22 set to 880, 960, 960, 880 ms (a sinus slowing of two beats), the beat
    // ending 20 made 300 ms premature: 660 + 1260 ms. Their sum, 1920 ms, is 160 ms over two
    // normal intervals (880 + 880), too far for a compensated pause, but a pause is never longer
    // than compensatory, so the extra time is the sinus rhythm's own: trend and levels keep the
    // sum (the line 880, 880 shifted by 80 ms each gives back 960 and 960), even interpolates.
    let mut clean = synthetic(60);
    clean[19..23].copy_from_slice(&[880.0, 960.0, 960.0, 880.0]);
    let (_, ectopic) = missed_and_ectopic_at_20(&clean);
    let table = [
        (Placement::Trend, [960.0, 960.0]),
        (Placement::Levels, [960.0, 960.0]),
        (Placement::Even, [880.0, 880.0]),
    ];
    for (placement, want) in table {
        let got = corrected_pair(&ectopic, placement, ArtifactKind::Ectopic);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{placement:?}: {got:?}");
        }
    }
}

#[test]
fn degenerate_inputs_are_handled() {
    let cases: [(&str, Vec<f64>, usize); 5] = [
        ("empty", vec![], 0),
        ("too short", vec![800.0, 1600.0, 800.0], 0),
        ("constant", vec![1000.0; 50], 0),
        (
            "one too few valid",
            [vec![900.0; MIN_INTERVALS - 1], vec![f64::NAN; 5]].concat(),
            0,
        ),
        (
            "constant with one long interval",
            {
                let mut rr = vec![1000.0; 50];
                rr[20] = 2000.0;
                rr
            },
            1,
        ),
    ];
    for (name, rr, labels) in cases {
        let c = correct(&rr);
        assert_eq!(c.artifacts.len(), labels, "{name}: {:?}", c.artifacts);
        assert_eq!(c.raw_index.len(), c.corrected.len(), "{name}");
        if labels == 0 {
            assert_eq!(c.corrected.len(), rr.len(), "{name}");
            assert_eq!(c.raw_index, (0..rr.len()).collect::<Vec<_>>(), "{name}");
        }
    }
}

#[test]
fn invalid_intervals_are_labelled_and_filled_in() {
    let mut rr = synthetic(100);
    rr[40] = f64::NAN;
    rr[41] = -5.0;
    rr[70] = f64::INFINITY;
    let c = correct(&rr);
    for index in [40, 41, 70] {
        assert!(
            c.artifacts.contains(&art(index, ArtifactKind::LongShort)),
            "{index}: {:?}",
            c.artifacts
        );
    }
    assert!(c.corrected.iter().all(|v| v.is_finite() && *v > 0.0));
    assert_eq!(c.corrected.len(), rr.len());
}

fn series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(250.0..2500.0f64, 0..400)
}

proptest! {
    #[test]
    fn correction_is_total_finite_and_maps_back_exactly(
        rr in series(),
        passes in 0usize..5,
        placement in prop_oneof![Just(Placement::Even), Just(Placement::Trend), Just(Placement::Levels)],
    ) {
        let c = correct_with(&rr, &CorrectionConfig { max_passes: passes, placement });
        prop_assert_eq!(c.corrected.len(), c.raw_index.len());
        prop_assert!(c.corrected.iter().all(|v| v.is_finite() && *v > 0.0));
        prop_assert!(c.raw_index.windows(2).all(|w| w[0] <= w[1]));
        prop_assert!(c.raw_index.iter().all(|&r| r < rr.len()));
        prop_assert!(c.artifacts.windows(2).all(|w| w[0].index < w[1].index));
        prop_assert!(c.artifacts.iter().all(|a| a.index < rr.len()));
        if !rr.is_empty() && passes > 0 {
            prop_assert_eq!(c.raw_index.first().copied(), Some(0));
        }
    }

    #[test]
    fn single_pass_leaves_unlabelled_intervals_untouched(
        rr in series(),
        placement in prop_oneof![Just(Placement::Even), Just(Placement::Trend), Just(Placement::Levels)],
    ) {
        let c = correct_with(&rr, &CorrectionConfig { placement, ..CorrectionConfig::default() });
        // Where restored intervals go never changes what is labelled.
        prop_assert_eq!(&c.artifacts, &correct(&rr).artifacts);
        let mut touched = vec![false; rr.len()];
        for a in &c.artifacts {
            for t in touched.iter_mut().skip(a.index).take(a.kind.raw_span()) {
                *t = true;
            }
        }
        // Every raw interval is either labelled or copied through exactly once, unchanged.
        for (k, &r) in c.raw_index.iter().enumerate() {
            if !touched[r] {
                prop_assert_eq!(c.corrected[k], rr[r]);
            }
        }
        for (r, &t) in touched.iter().enumerate() {
            let copies = c.raw_index.iter().filter(|&&x| x == r).count();
            if !t {
                prop_assert_eq!(copies, 1, "raw {} copied {} times", r, copies);
            }
        }
        // A missed beat's parts add up to the interval they were split from, in every placement:
        // the time between the beats around it is measured, only the beat between is not.
        for a in c.artifacts.iter().filter(|a| a.kind == ArtifactKind::Missed) {
            let parts: f64 = c
                .raw_index
                .iter()
                .zip(&c.corrected)
                .filter(|&(&r, _)| r == a.index)
                .map(|(_, v)| v)
                .sum();
            prop_assert!((parts - rr[a.index]).abs() < 1e-9 * rr[a.index], "{} vs {}", parts, rr[a.index]);
        }
    }

    #[test]
    fn smooth_sine_is_left_unchanged(
        n in MIN_INTERVALS..600,
        period in 6.0..60.0f64,
        phase in 0.0..std::f64::consts::TAU,
        centre in 600.0..1200.0f64,
    ) {
        let rr: Vec<f64> = (0..n)
            .map(|j| centre + 30.0 * (std::f64::consts::TAU * j as f64 / period + phase).sin())
            .collect();
        let c = correct(&rr);
        prop_assert_eq!(c.artifacts, vec![]);
        prop_assert_eq!(c.corrected, rr);
    }
}

/// A breathing-modulated series like [`synthetic`], with its own rhythm and ±10 ms of noise drawn
/// from `seed` (a seed, not a vector, so shrinking cannot polish the noise away: a noiseless sine
/// has a tiny quartile deviation, and the paper's extra-beat test then rightly refuses to merge a
/// split interval that lands 40 ms off the median).
fn breathing(n: usize, seed: u64, period: f64, centre: f64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|j| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 20.0;
            centre + 30.0 * (std::f64::consts::TAU * j as f64 / period).sin() + noise
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Injected {
    Missed,
    Extra(f64),
    Ectopic(f64),
}

proptest! {
    #[test]
    fn a_clear_artifact_is_found_where_it_was_injected(
        n in 60usize..300,
        seed in any::<u64>(),
        period in 4.0..15.0f64,
        centre in 700.0..1100.0f64,
        at in 0.1..0.9f64,
        kind in prop_oneof![
            Just(Injected::Missed),
            (0.3..0.7f64).prop_map(Injected::Extra),
            (200.0..300.0f64).prop_map(Injected::Ectopic),
        ],
    ) {
        let mut rr = breathing(n, seed, period, centre);
        prop_assume!(correct(&rr).artifacts.is_empty());
        let j = ((rr.len() - 2) as f64 * at) as usize;
        let want = match kind {
            Injected::Missed => {
                let next = rr.remove(j + 1);
                rr[j] += next;
                art(j, ArtifactKind::Missed)
            }
            Injected::Extra(share) => {
                let whole = rr[j];
                rr[j] = share * whole;
                rr.insert(j + 1, (1.0 - share) * whole);
                art(j, ArtifactKind::Extra)
            }
            Injected::Ectopic(shift) => {
                rr[j] -= shift;
                rr[j + 1] += shift;
                art(j, ArtifactKind::Ectopic)
            }
        };
        // The label sits on the injected interval itself (for an ectopic beat, the premature
        // one), and nothing else is labelled.
        let clean_len = breathing(n, seed, period, centre).len();
        let c = correct(&rr);
        prop_assert_eq!(&c.artifacts, &vec![want]);
        prop_assert_eq!(c.corrected.len(), clean_len);
    }
}
