//! The full metric panel on the 5-minute reference recording and on a 24-hour series (the hour
//! recording repeated 24 times, 112 416 beats), plus the costliest parts of the day on their own.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::hint::black_box;
use std::time::Duration;

use auren_hrv::frequency::{self, SpectrumMethod};
use auren_hrv::nonlinear::{dfa_alpha1, dfa_alpha2, sample_entropy};
use auren_hrv::panel::{PanelOptions, analyze};
use criterion::{Criterion, criterion_group, criterion_main};

fn load(name: &str) -> Vec<f64> {
    let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.split_whitespace()
        .map(|v| v.parse().expect("RR value parses"))
        .collect()
}

fn panel(c: &mut Criterion) {
    let five = load("nsr_5min.rr");
    let hour = load("nsr_60min.rr");
    let day: Vec<f64> = (0..24).flat_map(|_| hour.iter().copied()).collect();
    let welch = PanelOptions::default();
    let lomb = PanelOptions {
        spectrum: SpectrumMethod::LombScargle,
    };

    c.bench_function("panel, 5 min (337 beats), Welch", |b| {
        b.iter(|| analyze(black_box(&five), &welch))
    });
    c.bench_function("panel, 5 min (337 beats), Lomb-Scargle", |b| {
        b.iter(|| analyze(black_box(&five), &lomb))
    });

    let mut slow = c.benchmark_group("24 h");
    slow.sample_size(10).measurement_time(Duration::from_secs(8));
    slow.bench_function("panel, 24 h (112 416 beats), Welch", |b| {
        b.iter(|| analyze(black_box(&day), &welch))
    });
    slow.bench_function("sampen, 24 h", |b| b.iter(|| sample_entropy(black_box(&day))));
    slow.bench_function("spectrum, 24 h, Welch", |b| {
        b.iter(|| frequency::spectral(black_box(&day), SpectrumMethod::Welch))
    });
    slow.bench_function("spectrum, 24 h, Lomb-Scargle", |b| {
        b.iter(|| frequency::spectral(black_box(&day), SpectrumMethod::LombScargle))
    });
    slow.bench_function("dfa α1 + α2, 24 h", |b| {
        b.iter(|| (dfa_alpha1(black_box(&day)), dfa_alpha2(black_box(&day))))
    });
    slow.finish();
}

criterion_group!(benches, panel);
criterion_main!(benches);
