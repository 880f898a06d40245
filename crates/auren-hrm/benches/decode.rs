//! Benchmarks of the per-notification hot path (0x2A37 decode) and of parsing a one-hour capture.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::hint::black_box;

use auren_hrm::capture::{CaptureHeader, format_header, format_record, parse};
use auren_hrm::decode_heart_rate_measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn heart_rate_measurement(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_heart_rate_measurement");
    group.throughput(Throughput::Elements(1));
    let payloads: &[(&str, &[u8])] = &[
        ("u8_hr_only", &[0x06, 0x48]),
        ("polar_h10_two_rr", &[0x16, 0x3C, 0x00, 0x04, 0x10, 0x04]),
        (
            "u16_hr_energy_eight_rr",
            &[
                0x1F, 0x2C, 0x01, 0x10, 0x00, 0x00, 0x04, 0x10, 0x04, 0x00, 0x04, 0x10, 0x04, 0x00, 0x04,
                0x10, 0x04, 0x00, 0x04, 0x10, 0x04,
            ],
        ),
    ];
    for (name, payload) in payloads {
        group.bench_function(*name, |b| {
            b.iter(|| decode_heart_rate_measurement(black_box(payload)))
        });
    }
    group.finish();
}

fn capture_parse(c: &mut Criterion) {
    // One notification a second for an hour, each with two RR-intervals: a typical recorded session.
    let mut text = format_header(&CaptureHeader::new().with_device_name("Polar H10 A1B2C3D4"));
    for second in 0..3_600u64 {
        text.push_str(&format_record(
            second * 1_000,
            &[0x16, 0x3C, 0x00, 0x04, 0x10, 0x04],
        ));
    }
    let mut group = c.benchmark_group("capture");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse_one_hour", |b| b.iter(|| parse(black_box(&text))));
    group.finish();
}

criterion_group!(benches, heart_rate_measurement, capture_parse);
criterion_main!(benches);
