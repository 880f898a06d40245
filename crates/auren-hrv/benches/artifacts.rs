//! Artifact correction of a 24-hour recording: 24 × `nsr_60min.rr` end to end (112 416 beats, the
//! series `cargo xtask bench hrv` uses), and a synthetic day with an artifact every ~500 beats.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::hint::black_box;

use auren_hrv::artifacts::correct;
use criterion::{Criterion, criterion_group, criterion_main};

fn reference_day() -> Vec<f64> {
    let path = format!(
        "{}/../../tests/data/reference/nsr_60min.rr",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("reference file is readable");
    let hour: Vec<f64> = text
        .split_whitespace()
        .map(|v| v.parse().expect("one number per line"))
        .collect();
    std::iter::repeat_n(hour.as_slice(), 24)
        .flatten()
        .copied()
        .collect()
}

/// 850 ± 250 ms swings, a 10-beat respiratory wave, noise, and one missed, extra or ectopic beat
/// every ~500 beats (fixed LCG, so every run corrects the same series).
fn synthetic_day() -> Vec<f64> {
    let mut state: u64 = 7;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut rr: Vec<f64> = (0..112_416)
        .map(|j| {
            let t = j as f64 * 0.85;
            850.0
                + 250.0 * (t / 3_600.0).sin()
                + 30.0 * (std::f64::consts::TAU * j as f64 / 10.0).sin()
                + 20.0 * (next() - 0.5)
        })
        .collect();
    let mut j = 100;
    while j + 2 < rr.len() {
        match j % 3 {
            0 => {
                let next_rr = rr.remove(j + 1);
                rr[j] += next_rr;
            }
            1 => {
                let whole = rr[j];
                rr[j] = 0.4 * whole;
                rr.insert(j + 1, 0.6 * whole);
            }
            _ => {
                rr[j] -= 250.0;
                rr[j + 1] += 250.0;
            }
        }
        j += 500 + (next() * 50.0) as usize;
    }
    rr
}

fn bench(c: &mut Criterion) {
    let day = reference_day();
    assert_eq!(day.len(), 112_416);
    c.bench_function("correct 24 × nsr_60min (112 416 beats)", |b| {
        b.iter(|| correct(black_box(&day)))
    });
    let synthetic = synthetic_day();
    c.bench_function("correct synthetic day with ~225 artifacts", |b| {
        b.iter(|| correct(black_box(&synthetic)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
