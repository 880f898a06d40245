//! Live windows: per-beat statistics against a from-scratch recomputation, gaps, eviction times,
//! a 24-hour run without drift, refused input, and the two-minute DFA buffer.

use auren_hrv::rolling::{DFA_SPAN_MS, RecentBeats, RollingWindow, WindowError, WindowStats};
use auren_hrv::{Absent, Metric};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
struct Beat {
    t: f64,
    rr: f64,
    gap_before: bool,
}

/// The window's statistics computed directly from their definitions over the beats in it.
fn from_scratch(beats: &[Beat], width_ms: f64) -> WindowStats {
    let now = beats.last().map_or(0.0, |b| b.t);
    let first = beats
        .iter()
        .position(|b| b.t >= now - width_ms)
        .unwrap_or(beats.len());
    let window = &beats[first..];
    let n = window.len();
    let rr: Vec<f64> = window.iter().map(|b| b.rr).collect();
    let d: Vec<f64> = window
        .windows(2)
        .filter(|w| !w[1].gap_before)
        .map(|w| w[1].rr - w[0].rr)
        .collect();
    let too_few = |needed| Err(Absent::TooFewBeats { needed, got: n });
    let mean_hr_bpm = if n >= 1 {
        Ok(rr.iter().map(|r| 60_000.0 / r).sum::<f64>() / n as f64)
    } else {
        too_few(1)
    };
    let sdnn_ms = if n >= 2 {
        let mean = rr.iter().sum::<f64>() / n as f64;
        Ok((rr.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt())
    } else {
        too_few(2)
    };
    let (rmssd_ms, pnn50_pct): (Metric, Metric) = if d.is_empty() {
        let why = if n < 2 {
            Absent::TooFewBeats { needed: 2, got: n }
        } else {
            Absent::Undefined("no two consecutive beats in the window: gaps separate them all")
        };
        (Err(why.clone()), Err(why))
    } else {
        let k = d.len() as f64;
        (
            Ok((d.iter().map(|v| v * v).sum::<f64>() / k).sqrt()),
            Ok(100.0 * d.iter().filter(|v| v.abs() > 50.0).count() as f64 / k),
        )
    };
    WindowStats {
        n_beats: n,
        n_diffs: d.len(),
        mean_hr_bpm,
        rmssd_ms,
        sdnn_ms,
        pnn50_pct,
    }
}

fn close(a: &Metric, b: &Metric, rel: f64) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => (x - y).abs() <= rel * y.abs().max(1e-6),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

fn assert_matches(got: &WindowStats, want: &WindowStats, rel: f64, at: &str) {
    assert_eq!(got.n_beats, want.n_beats, "{at}: beats");
    assert_eq!(got.n_diffs, want.n_diffs, "{at}: diffs");
    for (name, g, w) in [
        ("mean HR", &got.mean_hr_bpm, &want.mean_hr_bpm),
        ("SDNN", &got.sdnn_ms, &want.sdnn_ms),
        ("RMSSD", &got.rmssd_ms, &want.rmssd_ms),
        ("pNN50", &got.pnn50_pct, &want.pnn50_pct),
    ] {
        assert!(close(g, w, rel), "{at}: {name} {g:?} vs {w:?}");
    }
}

fn window(width_ms: f64) -> RollingWindow {
    RollingWindow::new(width_ms).expect("valid width")
}

#[test]
fn table_of_small_windows() {
    struct Case {
        name: &'static str,
        width_ms: f64,
        /// (time, rr) or `None` for a gap.
        events: Vec<Option<(f64, f64)>>,
        n_beats: usize,
        rmssd: Metric,
        pnn50: Metric,
    }
    let cases = [
        Case {
            name: "empty",
            width_ms: 10_000.0,
            events: vec![],
            n_beats: 0,
            rmssd: Err(Absent::TooFewBeats { needed: 2, got: 0 }),
            pnn50: Err(Absent::TooFewBeats { needed: 2, got: 0 }),
        },
        Case {
            name: "three beats, differences 100 and −40",
            width_ms: 10_000.0,
            events: vec![
                Some((1000.0, 1000.0)),
                Some((2100.0, 1100.0)),
                Some((3160.0, 1060.0)),
            ],
            n_beats: 3,
            rmssd: Ok(((100.0f64.powi(2) + 40.0f64.powi(2)) / 2.0).sqrt()),
            pnn50: Ok(50.0),
        },
        Case {
            name: "a gap drops the difference across it",
            width_ms: 10_000.0,
            events: vec![
                Some((1000.0, 1000.0)),
                None,
                Some((5000.0, 1100.0)),
                Some((6060.0, 1060.0)),
            ],
            n_beats: 3,
            rmssd: Ok(40.0),
            pnn50: Ok(0.0),
        },
        Case {
            name: "gaps between every beat leave no difference",
            width_ms: 10_000.0,
            events: vec![Some((1000.0, 1000.0)), None, Some((5000.0, 1100.0))],
            n_beats: 2,
            rmssd: Err(Absent::Undefined(
                "no two consecutive beats in the window: gaps separate them all",
            )),
            pnn50: Err(Absent::Undefined(
                "no two consecutive beats in the window: gaps separate them all",
            )),
        },
        Case {
            name: "the first beat left, and its difference with it",
            width_ms: 2_000.0,
            events: vec![
                Some((1000.0, 1000.0)),
                Some((2100.0, 1100.0)),
                Some((3160.0, 1060.0)),
            ],
            n_beats: 2,
            rmssd: Ok(40.0),
            pnn50: Ok(0.0),
        },
        Case {
            name: "a beat exactly at the window's edge stays",
            width_ms: 2_160.0,
            events: vec![
                Some((1000.0, 1000.0)),
                Some((2100.0, 1100.0)),
                Some((3160.0, 1060.0)),
            ],
            n_beats: 3,
            rmssd: Ok(((100.0f64.powi(2) + 40.0f64.powi(2)) / 2.0).sqrt()),
            pnn50: Ok(50.0),
        },
    ];
    for case in cases {
        let mut w = window(case.width_ms);
        for event in &case.events {
            match event {
                Some((t, rr)) => {
                    w.push(*t, *rr).expect("valid beat");
                }
                None => w.mark_gap(),
            }
        }
        let s = w.stats();
        assert_eq!(s.n_beats, case.n_beats, "{}", case.name);
        assert!(
            close(&s.rmssd_ms, &case.rmssd, 1e-12),
            "{}: {:?}",
            case.name,
            s.rmssd_ms
        );
        assert!(
            close(&s.pnn50_pct, &case.pnn50, 1e-12),
            "{}: {:?}",
            case.name,
            s.pnn50_pct
        );
    }
}

#[test]
fn beats_leave_one_by_one_as_time_passes() {
    // One beat per second, 10-second window: after the 11th beat at t = 10 s the first (t = 0)
    // still sits on the edge; the 12th evicts it.
    let mut w = window(10_000.0);
    let counts: Vec<usize> = (0..14)
        .map(|k| w.push(k as f64 * 1000.0, 1000.0).expect("valid beat").n_beats)
        .collect();
    assert_eq!(counts, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 11, 11]);
    // A long pause empties the window down to the beat that ends it.
    let s = w.push(60_000.0, 1000.0).expect("valid beat");
    assert_eq!((s.n_beats, s.n_diffs), (1, 0));
}

#[test]
fn refused_input_leaves_the_window_as_it_was() {
    for width in [0.0, -5.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(RollingWindow::new(width), Err(WindowError::InvalidWidth(_))),
            "{width}"
        );
        assert!(
            matches!(RecentBeats::new(width), Err(WindowError::InvalidWidth(_))),
            "{width}"
        );
    }
    let mut w = window(60_000.0);
    w.push(1000.0, 1000.0).expect("valid beat");
    let before = w.stats();
    let refused: [(f64, f64, WindowError); 5] = [
        (2000.0, 0.0, WindowError::InvalidRr(0.0)),
        (2000.0, -3.0, WindowError::InvalidRr(-3.0)),
        (2000.0, f64::INFINITY, WindowError::InvalidRr(f64::INFINITY)),
        (
            f64::NEG_INFINITY,
            900.0,
            WindowError::InvalidTime(f64::NEG_INFINITY),
        ),
        (
            999.0,
            900.0,
            WindowError::TimeWentBack {
                previous_ms: 1000.0,
                got_ms: 999.0,
            },
        ),
    ];
    for (t, rr, err) in refused {
        assert_eq!(w.push(t, rr), Err(err));
        assert_eq!(w.stats(), before);
    }
    assert!(matches!(w.push(1000.0, f64::NAN), Err(WindowError::InvalidRr(_))));
    // Equal times are allowed (several intervals in one notification may share a timestamp).
    assert_eq!(w.push(1000.0, 900.0).expect("valid beat").n_beats, 2);
    w.clear();
    assert_eq!(w.stats().n_beats, 0);
    assert_eq!(w.push(10.0, 900.0).expect("valid after clear").n_beats, 1);
}

/// Deterministic pseudo-random numbers in [0, 1) (a fixed linear congruential generator).
fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn a_day_long_session_does_not_drift() {
    // 24 h of beats with slow heart-rate swings, occasional huge outliers (the differences that
    // ruin subtract-on-evict sums) and a gap every ~2 h, through a 60 s and a 5 min window.
    let mut state = 7;
    let mut beats = Vec::new();
    let mut t = 0.0f64;
    let mut k = 0usize;
    while t < 86_400_000.0 {
        let base = 850.0 + 250.0 * (t / 3_600_000.0).sin();
        let mut rr = base + 60.0 * (lcg(&mut state) - 0.5);
        if lcg(&mut state) < 0.001 {
            rr *= 3.0;
        }
        t += rr;
        let gap_before = k > 0 && k.is_multiple_of(8_000);
        beats.push(Beat { t, rr, gap_before });
        k += 1;
    }
    assert!(beats.len() > 90_000);
    for width in [60_000.0, 300_000.0] {
        let mut w = window(width);
        for (i, b) in beats.iter().enumerate() {
            if b.gap_before {
                w.mark_gap();
            }
            let s = w.push(b.t, b.rr).expect("valid beat");
            if i % 9_973 == 0 || i + 1 == beats.len() {
                assert_matches(
                    &s,
                    &from_scratch(&beats[..=i], width),
                    1e-12,
                    &format!("beat {i}"),
                );
            }
        }
    }
}

fn events() -> impl Strategy<Value = Vec<(f64, f64, bool)>> {
    // (rr, extra pause before the beat, gap before the beat)
    prop::collection::vec(
        (
            250.0..2500.0f64,
            prop_oneof![Just(0.0), 0.0..20_000.0f64],
            prop::bool::weighted(0.05),
        ),
        0..300,
    )
}

proptest! {
    #[test]
    fn every_push_equals_a_recomputation_from_scratch(
        events in events(),
        width in 500.0..400_000.0f64,
    ) {
        let mut w = window(width);
        let mut beats = Vec::new();
        let mut t = 0.0;
        for (rr, pause, gap_before) in events {
            t += rr + pause;
            if gap_before {
                w.mark_gap();
            }
            beats.push(Beat { t, rr, gap_before });
            let got = w.push(t, rr).expect("valid beat");
            let want = from_scratch(&beats, width);
            prop_assert_eq!(got.n_beats, want.n_beats);
            prop_assert_eq!(got.n_diffs, want.n_diffs);
            prop_assert!(close(&got.mean_hr_bpm, &want.mean_hr_bpm, 1e-9), "{:?} {:?}", got, want);
            prop_assert!(close(&got.sdnn_ms, &want.sdnn_ms, 1e-9), "{:?} {:?}", got, want);
            prop_assert!(close(&got.rmssd_ms, &want.rmssd_ms, 1e-9), "{:?} {:?}", got, want);
            prop_assert!(close(&got.pnn50_pct, &want.pnn50_pct, 1e-9), "{:?} {:?}", got, want);
            prop_assert_eq!(&got, &w.stats());
        }
    }

    #[test]
    fn recent_beats_hold_exactly_the_last_span(
        rrs in prop::collection::vec(250.0..2500.0f64, 0..400),
        gap_at in prop::option::of(0usize..400),
    ) {
        let mut recent = RecentBeats::new(DFA_SPAN_MS).expect("valid span");
        let mut beats: Vec<(f64, f64)> = Vec::new();
        let mut t = 0.0;
        for (k, rr) in rrs.into_iter().enumerate() {
            if gap_at == Some(k) {
                recent.mark_gap();
                beats.clear();
            }
            t += rr;
            recent.push(t, rr).expect("valid beat");
            beats.push((t, rr));
            let want: Vec<f64> =
                beats.iter().filter(|(bt, _)| *bt >= t - DFA_SPAN_MS).map(|(_, r)| *r).collect();
            prop_assert_eq!(recent.rr(), want.clone());
            prop_assert_eq!(recent.len(), want.len());
            prop_assert_eq!(recent.is_empty(), want.is_empty());
        }
    }
}

#[test]
fn dfa_alpha1_is_computed_over_the_last_two_minutes_only() {
    let rr = reference("nsr_5min.rr");
    let mut recent = RecentBeats::new(DFA_SPAN_MS).expect("valid span");
    assert!(recent.dfa_alpha1().is_err(), "nothing held yet");
    let mut t = 0.0;
    for &r in &rr {
        t += r;
        recent.push(t, r).expect("valid beat");
    }
    let held = recent.rr();
    assert_eq!(
        held.as_slice(),
        &rr[rr.len() - held.len()..],
        "the newest beats, in order"
    );
    assert!(held.len() < rr.len() && held.iter().sum::<f64>() <= DFA_SPAN_MS + rr[rr.len() - held.len()]);
    assert_eq!(recent.dfa_alpha1(), auren_hrv::nonlinear::dfa_alpha1(&held));
    assert!(recent.dfa_alpha1().is_ok());
    // After contact is lost the buffer starts over: α1 is absent until enough beats arrive again.
    recent.mark_gap();
    recent.push(t + 5_000.0, 900.0).expect("valid beat");
    assert!(recent.dfa_alpha1().is_err());
    assert_eq!(
        recent.push(t, 900.0),
        Err(WindowError::TimeWentBack {
            previous_ms: t + 5_000.0,
            got_ms: t
        })
    );
}

fn reference(name: &str) -> Vec<f64> {
    let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .expect("reference file is readable")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse().expect("one number per line"))
        .collect()
}
