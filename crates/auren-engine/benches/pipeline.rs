//! Cost of the live pipeline per beat (labelling, windows, DFA cadence, rules) without I/O: one simulated
//! hour at rest through `Pipeline` into a sink that drops everything.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_cep::{Alert, Baselines, DEFAULT_RULES, SessionKind, compile};
use auren_engine::dto::LiveUpdateDto;
use auren_engine::{LabelledBeat, Pipeline, Sink};
use auren_strap::simulator::{Scenario, SimulatorConfig, notifications};
use auren_strap::{Sample, SourceEvent};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

struct Discard(u64);

impl Sink for Discard {
    fn beat(&mut self, _: &LabelledBeat) {
        self.0 += 1;
    }
    fn gap(&mut self, _: f64, _: f64) {}
    fn heart_rate(&mut self, _: f64, _: f64) {}
    fn metrics(&mut self, _: f64, _: &[(&'static str, f64)]) {}
    fn alert(&mut self, _: &Alert) {}
    fn update(&mut self, update: LiveUpdateDto) {
        black_box(update);
    }
}

fn hour_of_rest() -> Vec<SourceEvent> {
    let mut config = SimulatorConfig::new(Scenario::Rest, 1);
    config.duration = Some(Duration::from_secs(3_600));
    notifications(&config)
        .expect("valid simulator settings")
        .filter_map(|n| Sample::decode(n.at_ms, n.payload).ok())
        .map(SourceEvent::Sample)
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = hour_of_rest();
    let rules = compile(DEFAULT_RULES).expect("the default rules compile");
    let beats: usize = events
        .iter()
        .map(|e| match e {
            SourceEvent::Sample(s) => s.rr_ms.len(),
            _ => 0,
        })
        .sum();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(beats as u64));
    group.sample_size(10);
    group.bench_function("one hour at rest, per beat", |b| {
        b.iter(|| {
            let mut pipeline = Pipeline::new(&rules, Baselines::new(), SessionKind::Rest, None, 0)
                .expect("constant windows are valid");
            let mut sink = Discard(0);
            for event in &events {
                pipeline.on_source_event(event, &mut sink);
            }
            pipeline.end(&mut sink);
            sink.0
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
