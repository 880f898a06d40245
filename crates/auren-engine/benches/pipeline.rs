//! Cost of the live pipeline per beat (labelling, windows, DFA cadence, rules) without I/O: one simulated
//! hour at rest through `Pipeline` into a sink that drops everything.
//!
//! And the latency a person sees: from a notification reaching the engine to the first update that
//! carries its beat leaving it, p50/p99 — through the pure `Pipeline` (to `Sink::update`) and through
//! the real session task (a channel source → `select!` → pipeline → writer queue → broadcast → a
//! subscriber), with a SQLite store in a temporary folder. Beats are a second apart in session time, so
//! the 10 Hz throttle (on session time) never holds one back: a beat leaves with the notification
//! that brought it, and the figure is the engine's own work and hand-offs.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_cep::{Alert, Baselines, DEFAULT_RULES, SessionKind, compile};
use auren_engine::dto::LiveUpdateDto;
use auren_engine::{LabelledBeat, Pipeline, Sink};
use auren_strap::simulator::{Scenario, SimulatorConfig, notifications};
use auren_strap::{Sample, SourceEvent};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

use auren_engine::{SessionConfig, start_session};
use auren_strap::{EndReason, HeartSource, SourceRun, SourceSummary};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Notifications timed per latency figure.
const LATENCY_BEATS: u64 = 2_000;

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

/// A notification carrying one beat of `rr_ms` at session time `at_ms`.
fn one_beat(at_ms: u64, rr_ms: f64) -> SourceEvent {
    SourceEvent::Sample(Sample {
        at_ms,
        heart_rate_bpm: 60,
        rr_ms: vec![rr_ms],
        contact: auren_hrm::SensorContact::Detected,
        energy_expended_kj: None,
        payload: Vec::new(),
    })
}

/// A beat of a quiet sinus rhythm, a second apart on average.
fn rr_of(k: u64) -> f64 {
    1000.0 + 30.0 * ((k as f64) * 0.7).sin()
}

/// A source fed by the benchmark through a channel, as a strap's notifications reach the engine.
struct ChannelSource(mpsc::Receiver<SourceEvent>);

impl HeartSource for ChannelSource {
    fn describe(&self) -> String {
        "bench channel".into()
    }

    fn run(self: Box<Self>, events: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) -> SourceRun {
        let mut input = self.0;
        Box::pin(async move {
            let mut samples = 0;
            loop {
                let event = tokio::select! {
                    () = shutdown.cancelled() => break,
                    event = input.recv() => event,
                };
                let Some(event) = event else { break };
                samples += 1;
                if events.send(event).await.is_err() {
                    break;
                }
            }
            Ok(SourceSummary {
                samples,
                malformed: 0,
                ended: EndReason::Finished,
            })
        })
    }
}

/// The p50 and p99 of `samples` (sorted in place).
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn print_latency(what: &str, samples: &mut [Duration]) {
    let (p50, p99) = percentiles(samples);
    println!(
        "pipeline/{what}: p50 {:.1} µs, p99 {:.1} µs ({} notifications)",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        samples.len()
    );
}

/// Notification → the first update carrying its beat, through the pure pipeline.
struct FirstUpdate(Option<Instant>);

impl Sink for FirstUpdate {
    fn beat(&mut self, _: &LabelledBeat) {}
    fn gap(&mut self, _: f64, _: f64) {}
    fn heart_rate(&mut self, _: f64, _: f64) {}
    fn metrics(&mut self, _: f64, _: &[(&'static str, f64)]) {}
    fn alert(&mut self, _: &Alert) {}
    fn update(&mut self, update: LiveUpdateDto) {
        if !update.beats.is_empty() && self.0.is_none() {
            self.0 = Some(Instant::now());
        }
        black_box(update);
    }
}

fn pipeline_latency(rules: &auren_cep::RuleSet) -> Vec<Duration> {
    let mut pipeline = Pipeline::new(rules, Baselines::new(), SessionKind::Rest, None, 0).unwrap();
    let mut at = 0_u64;
    let mut samples = Vec::new();
    for k in 0..LATENCY_BEATS {
        let rr = rr_of(k);
        at += rr as u64;
        let event = one_beat(at, rr);
        let mut sink = FirstUpdate(None);
        let start = Instant::now();
        pipeline.on_source_event(&event, &mut sink);
        let left = sink.0.expect("each beat leaves with its notification");
        samples.push(left - start);
    }
    samples
}

fn session_latency(rules: &auren_cep::RuleSet) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = auren_store::Store::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        let (input, source) = mpsc::channel(16);
        let config = SessionConfig::new(
            SessionKind::Rest,
            1_700_000_000_000,
            rules.clone(),
            Baselines::new(),
        );
        let mut live = start_session(
            &store,
            Box::new(ChannelSource(source)),
            config,
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut at = 0_u64;
        let mut samples = Vec::new();
        for k in 0..LATENCY_BEATS {
            let rr = rr_of(k);
            at += rr as u64;
            let start = Instant::now();
            input.send(one_beat(at, rr)).await.unwrap();
            loop {
                let update = live.updates.recv().await.unwrap();
                if update.beats.iter().any(|b| b.index == k) {
                    break;
                }
            }
            samples.push(start.elapsed());
        }
        drop(input);
        live.finish().await.unwrap();
        samples
    })
}

fn latency(_: &mut Criterion) {
    let rules = compile(DEFAULT_RULES).expect("the default rules compile");
    print_latency(
        "notification → first update with its beat (Pipeline → Sink::update)",
        &mut pipeline_latency(&rules),
    );
    print_latency(
        "notification → first update with its beat (session task → subscriber)",
        &mut session_latency(&rules),
    );
}

criterion_group!(benches, bench, latency);
criterion_main!(benches);
