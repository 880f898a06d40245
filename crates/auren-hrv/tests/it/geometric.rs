//! Geometric metrics on histograms whose answers can be worked out by hand.

use auren_hrv::Absent;
use auren_hrv::geometric::{TRIANGULAR_BIN_MS, geometric, stress_index, tinn, triangular_index};

/// Beats at the centres of 1/128 s bins `first..`, `counts[k]` of them in bin `first + k`.
fn histogram(first: u32, counts: &[usize]) -> Vec<f64> {
    counts
        .iter()
        .zip(first..)
        .flat_map(|(&c, b)| std::iter::repeat_n((f64::from(b) + 0.5) * TRIANGULAR_BIN_MS, c))
        .collect()
}

#[test]
fn a_perfect_triangle_is_measured_exactly() {
    // Counts rise 2, 4, … 10 and fall back to 2 over bins 100..=108: the least-squares triangle is the
    // histogram itself, with feet one bin outside it (bins 99 and 109).
    let rr = histogram(100, &[2, 4, 6, 8, 10, 8, 6, 4, 2]);
    assert_eq!(rr.len(), 50);
    assert_eq!(triangular_index(&rr), Ok(5.0));
    assert_eq!(tinn(&rr), Ok(10.0 * TRIANGULAR_BIN_MS));
    // 50 ms bins: 785 and 793 ms fall in 750–800 (6 beats), the rest in 800–850 (44 beats): Mo = 0.825 s,
    // AMo = 88 %, MxDMn = 0.0625 s.
    let si = stress_index(&rr).unwrap();
    assert!((si - 88.0 / (2.0 * 0.825 * 0.0625)).abs() < 1e-9, "{si}");
}

/// A row: name, input, and the triangular index, TINN and stress index it must give.
type Case = (&'static str, Vec<f64>, [Result<f64, Absent>; 3]);

#[test]
fn table_of_geometric_cases() {
    let two_modes = histogram(102, &[25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25]);
    let cases: Vec<Case> = vec![
        (
            "too few beats",
            vec![800.0; 49],
            [
                Err(Absent::TooFewBeats { needed: 50, got: 49 }),
                Err(Absent::TooFewBeats { needed: 50, got: 49 }),
                Err(Absent::TooFewBeats { needed: 50, got: 49 }),
            ],
        ),
        (
            "constant",
            vec![800.0; 60],
            [Ok(1.0), Err(Absent::ZeroVariance), Err(Absent::ZeroVariance)],
        ),
        // Two equal modes: the first (shorter) one is the mode; the best triangle hugs it.
        (
            "two modes",
            two_modes,
            // 800.78 ms → 800–850 bin (Mo 0.825 s, AMo 50 %); range 902.34375 − 800.78125 ms.
            [
                Ok(2.0),
                Ok(2.0 * TRIANGULAR_BIN_MS),
                Ok(50.0 / (2.0 * 0.825 * 0.1015625)),
            ],
        ),
        (
            "wider than the histogram allows",
            (0..60).map(|i| if i == 0 { 100.0 } else { 100_000.0 }).collect(),
            [
                Err(Absent::Undefined(
                    "RR range too wide for a histogram (over 4096 bins)",
                )),
                Err(Absent::Undefined(
                    "RR range too wide for a histogram (over 4096 bins)",
                )),
                // 50 ms bins span only 2000: Mo = 100.025 s, AMo = 59/60, MxDMn = 99.9 s.
                Ok(100.0 * 59.0 / 60.0 / (2.0 * 100.025 * 99.9)),
            ],
        ),
    ];
    for (name, rr, [tri, width, stress]) in cases {
        let g = geometric(&rr);
        assert_eq!(g.tri_index, tri, "{name}: triangular index");
        assert_eq!(g.tinn_ms, width, "{name}: TINN");
        match (&g.stress_index, &stress) {
            (Ok(a), Ok(b)) => assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{name}: SI {a} vs {b}"),
            _ => assert_eq!(g.stress_index, stress, "{name}: stress index"),
        }
    }
}
