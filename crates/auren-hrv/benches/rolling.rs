//! Per-beat cost of the live window: criterion's mean, then the p50/p99/max of single pushes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use auren_hrv::rolling::RollingWindow;
use criterion::Criterion;

/// A deterministic day of beats: 850 ± 250 ms swings, ±30 ms of noise (fixed LCG).
fn beats(n: usize) -> Vec<(f64, f64)> {
    let mut state: u64 = 42;
    let mut t = 0.0f64;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let rr = 850.0 + 250.0 * (t / 3_600_000.0).sin() + 60.0 * noise;
            t += rr;
            (t, rr)
        })
        .collect()
}

fn bench_push(c: &mut Criterion, beats: &[(f64, f64)]) {
    for width_ms in [60_000.0, 300_000.0] {
        c.bench_function(&format!("push, {} s window", width_ms / 1000.0), |b| {
            let mut window = RollingWindow::new(width_ms).expect("valid width");
            let mut k = 0;
            let mut offset = 0.0;
            let span = beats.last().map_or(0.0, |b| b.0);
            b.iter(|| {
                let (t, rr) = beats[k];
                let stats = window.push(offset + t, rr);
                k += 1;
                if k == beats.len() {
                    k = 0;
                    offset += span;
                }
                black_box(stats)
            });
        });
    }
}

/// Times every push of a whole day one by one: the tail, not the mean, is the live-path promise.
fn percentiles(beats: &[(f64, f64)]) {
    for width_ms in [60_000.0, 300_000.0] {
        let mut window = RollingWindow::new(width_ms).expect("valid width");
        let mut times: Vec<Duration> = beats
            .iter()
            .map(|&(t, rr)| {
                let start = Instant::now();
                let stats = window.push(t, rr);
                let took = start.elapsed();
                black_box(stats).ok();
                took
            })
            .collect();
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "push, {} s window, {} beats one by one: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
            width_ms / 1000.0,
            times.len(),
            at(0.5),
            at(0.99),
            at(0.999),
            at(1.0),
        );
    }
}

fn main() {
    let day = beats(100_000);
    let mut c = Criterion::default().configure_from_args();
    bench_push(&mut c, &day);
    c.final_summary();
    percentiles(&day);
}
