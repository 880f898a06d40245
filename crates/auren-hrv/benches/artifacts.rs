//! Artifact correction of a 24-hour recording (112 416 beats, the length of a real Holter day).

use std::hint::black_box;

use auren_hrv::artifacts::correct;
use criterion::{Criterion, criterion_group, criterion_main};

/// A deterministic day: 850 ± 250 ms swings, a 10-beat respiratory wave, noise, and one missed,
/// extra or ectopic beat every ~500 beats.
fn day() -> Vec<f64> {
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
    let rr = day();
    c.bench_function("correct 24 h (112 416 beats)", |b| {
        b.iter(|| correct(black_box(&rr)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
