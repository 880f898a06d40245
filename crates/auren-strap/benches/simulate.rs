//! Benchmarks of file generation: simulating one hour of a strap (as fast as possible) and writing it
//! as a `.hrmcap` capture — the work behind `auren simulate --out FILE`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::hint::black_box;
use std::time::Duration;

use auren_hrm::capture::CaptureHeader;
use auren_strap::record::CaptureWriter;
use auren_strap::simulator::{Scenario, SimulatorConfig, notifications};
use auren_strap::{Sample, SourceEvent};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn one_hour(scenario: Scenario) -> SimulatorConfig {
    SimulatorConfig {
        duration: Some(Duration::from_secs(3600)),
        dropouts_per_hour: 6.0,
        ..SimulatorConfig::new(scenario, 42)
    }
}

fn simulate_hour(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate_one_hour");
    group.throughput(Throughput::Elements(3600));
    for scenario in [Scenario::Rest, Scenario::Exercise] {
        let config = one_hour(scenario);
        group.bench_function(scenario.name(), |b| {
            b.iter(|| notifications(black_box(&config)).expect("valid").count())
        });
    }
    group.finish();
}

fn simulate_and_write_capture(c: &mut Criterion) {
    let config = one_hour(Scenario::Exercise);
    let mut group = c.benchmark_group("simulate_one_hour_to_capture");
    group.throughput(Throughput::Elements(3600));
    group.bench_function("exercise", |b| {
        b.iter(|| {
            let mut writer = CaptureWriter::new(Vec::with_capacity(64 * 1024), &CaptureHeader::new())
                .expect("in-memory writes succeed");
            for n in notifications(&config).expect("valid") {
                let sample = Sample::decode(n.at_ms, n.payload).expect("the simulator sends valid bytes");
                let event = SourceEvent::Sample(sample);
                writer.write_event(&event).expect("in-memory writes succeed");
            }
            writer.into_inner().expect("flush").len()
        })
    });
    group.finish();
}

criterion_group!(benches, simulate_hour, simulate_and_write_capture);
criterion_main!(benches);
