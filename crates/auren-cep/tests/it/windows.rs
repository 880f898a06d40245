//! Sliding-window aggregates equal a from-scratch recomputation over the samples inside the
//! window, after every push and every tick.

use auren_cep::window::{Aggregate, SlidingWindow};
use proptest::prelude::*;

/// The aggregate computed directly from its definition.
fn from_scratch(agg: Aggregate, s: &[(i64, f64)]) -> Option<f64> {
    let n = s.len() as f64;
    let mean = s.iter().map(|p| p.1).sum::<f64>() / n;
    let v = match agg {
        Aggregate::Count => n,
        Aggregate::Sum => s.iter().map(|p| p.1).sum(),
        Aggregate::Avg => mean,
        Aggregate::Min => s.iter().map(|p| p.1).fold(f64::NAN, f64::min),
        Aggregate::Max => s.iter().map(|p| p.1).fold(f64::NAN, f64::max),
        Aggregate::Stddev if s.len() < 2 => f64::NAN,
        Aggregate::Stddev => (s.iter().map(|p| (p.1 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
        Aggregate::Delta if s.len() < 2 => f64::NAN,
        Aggregate::Delta => s[s.len() - 1].1 - s[0].1,
        Aggregate::Rate => {
            if s.len() < 2 || s[0].0 == s[s.len() - 1].0 {
                f64::NAN
            } else {
                let x: Vec<f64> = s.iter().map(|p| p.0 as f64 / 60_000.0).collect();
                let mx = x.iter().sum::<f64>() / n;
                let sxy: f64 = x.iter().zip(s).map(|(x, p)| (x - mx) * (p.1 - mean)).sum();
                let sxx: f64 = x.iter().map(|x| (x - mx).powi(2)).sum();
                sxy / sxx
            }
        }
    };
    (!v.is_nan()).then_some(v)
}

fn close(a: Option<f64>, b: Option<f64>, scale: f64) -> bool {
    close_within(a, b, scale, 1e-7)
}

fn close_within(a: Option<f64>, b: Option<f64>, scale: f64, relative: f64) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= relative * scale.max(1.0),
        _ => false,
    }
}

#[derive(Debug, Clone)]
enum Step {
    Push(i64, f64),
    Tick(i64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0i64..3_000, -500.0f64..2_000.0).prop_map(|(dt, v)| Step::Push(dt, v)),
            1 => (0i64..20_000).prop_map(Step::Tick),
        ],
        1..400,
    )
}

proptest! {
    #[test]
    fn aggregates_equal_recomputation(span in 1i64..30_000, steps in steps(), offset in -1_000_000i64..1_000_000) {
        let mut w = SlidingWindow::new(span, &Aggregate::ALL);
        let mut all: Vec<(i64, f64)> = Vec::new();
        let mut now = offset;
        for step in steps {
            match step {
                Step::Push(dt, v) => {
                    now += dt;
                    w.push(now, v);
                    all.push((now, v));
                }
                Step::Tick(dt) => {
                    now += dt;
                    w.evict(now);
                }
            }
            let inside: Vec<(i64, f64)> = all.iter().copied().filter(|p| p.0 > now - span).collect();
            prop_assert_eq!(w.samples().collect::<Vec<_>>(), inside.clone());
            let scale = inside.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
            for agg in Aggregate::ALL {
                let (got, want) = (w.get(agg), from_scratch(agg, &inside));
                let (scale, relative) = match agg {
                    Aggregate::Sum => (scale * inside.len() as f64, 1e-7),
                    // Samples 1 ms apart make slopes of millions per minute whose running
                    // sums cancel in the last digits: compare those relatively, more loosely.
                    Aggregate::Rate => (want.map_or(1.0, f64::abs) + scale, 1e-5),
                    _ => (scale, 1e-7),
                };
                prop_assert!(close_within(got, want, scale, relative), "{:?}: got {:?}, want {:?} over {} samples", agg, got, want, inside.len());
            }
        }
    }

    /// Large offsets and long runs: the periodic rebuild keeps running sums exact enough.
    #[test]
    fn long_runs_do_not_drift(values in prop::collection::vec(40.0f64..200.0, 2_000..4_000)) {
        let mut w = SlidingWindow::new(60_000, &[Aggregate::Avg, Aggregate::Stddev]);
        let mut t = 1_700_000_000_000i64;
        let mut all = Vec::new();
        for v in values {
            t += 700;
            w.push(t, v);
            all.push((t, v));
        }
        let inside: Vec<_> = all.into_iter().filter(|p| p.0 > t - 60_000).collect();
        prop_assert!(close(w.get(Aggregate::Avg), from_scratch(Aggregate::Avg, &inside), 1e-3));
        prop_assert!(close(w.get(Aggregate::Stddev), from_scratch(Aggregate::Stddev, &inside), 1e-3));
    }
}

#[test]
fn aggregates_not_asked_for_read_as_none() {
    let mut w = SlidingWindow::new(1_000, &[Aggregate::Min]);
    w.push(0, 3.0);
    w.push(10, 1.0);
    assert_eq!(w.get(Aggregate::Min), Some(1.0));
    assert_eq!(w.get(Aggregate::Count), Some(2.0));
    assert_eq!(w.get(Aggregate::Delta), Some(-2.0));
    assert_eq!(w.get(Aggregate::Max), None);
    assert_eq!(w.get(Aggregate::Avg), None);
    w.evict(1_010);
    assert_eq!(
        (w.get(Aggregate::Min), w.get(Aggregate::Count)),
        (None, Some(0.0))
    );
}
