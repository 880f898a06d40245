//! Beats per second through [`RuleFeed`] with the default rules, as the server's consumer feeds it.
//!
//! `tests/data/reference/nsr_60min.rr` is played as back-to-back one-hour sessions until about
//! 1 M beats have gone through: one sample per second of session time (the beats that ended in it and a
//! heart rate from the last four intervals), into a sink that keeps nothing but counts. Prints the
//! beats/s by wall clock and by the thread's CPU time (which a busy machine does not inflate), then the same
//! beats through the online labeller alone (the feed's costliest step).
//!
//! `cargo run --release -p auren-cep --example feed_throughput [-- <beats>]`
#![expect(clippy::print_stdout, reason = "a measuring program prints its figures")]

use std::hint::black_box;
use std::time::Instant;

use anyhow::Context as _;
use auren_cep::feed::{FeedSink, RuleFeed};
use auren_cep::labeller::{LabelledBeat, Labeller};
use auren_cep::{Alert, Baselines, DEFAULT_RULES, EventKind, SessionKind, compile};

/// What the feed produced, counted (the sink keeps nothing).
#[derive(Default)]
struct CountingSink {
    beats: u64,
    windows: u64,
    alerts: u64,
}

impl FeedSink for CountingSink {
    fn beat(&mut self, beat: &LabelledBeat) {
        self.beats += 1;
        black_box(beat);
    }
    fn windows(&mut self, _now_ms: i64, values: &auren_cep::feed::WindowValues) {
        self.windows += 1;
        black_box(values);
    }
    fn alert(&mut self, alert: &Alert) {
        self.alerts += 1;
        black_box(alert);
    }
}

/// One session of `rr_ms`, fed as the server's sample model does (a sample a second).
fn session(feed: &mut RuleFeed, rr_ms: &[f64], sink: &mut CountingSink) {
    feed.start(sink);
    feed.event(EventKind::Link { connected: true }, sink);
    feed.event(EventKind::Contact { detected: true }, sink);
    let mut series_ms = 0.0;
    let mut next = 0;
    let mut recent: Vec<f64> = Vec::new();
    let mut sample = Vec::new();
    let mut at_ms: i64 = 1_000;
    while next < rr_ms.len() {
        sample.clear();
        while next < rr_ms.len() && series_ms + rr_ms[next] <= at_ms as f64 {
            series_ms += rr_ms[next];
            sample.push(rr_ms[next]);
            next += 1;
        }
        feed.advance(at_ms, sink);
        recent.extend_from_slice(&sample);
        let keep = recent.len().saturating_sub(4);
        recent.drain(..keep);
        if !recent.is_empty() {
            let mean = recent.iter().sum::<f64>() / recent.len() as f64;
            feed.event(
                EventKind::HeartRate {
                    bpm: (60_000.0 / mean).round(),
                },
                sink,
            );
        }
        feed.beats(at_ms as f64, &sample, sink);
        at_ms += 1_000;
    }
    feed.end(sink);
}

/// The calling thread's CPU time, seconds.
fn thread_cpu_s() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

fn main() -> anyhow::Result<()> {
    let target: usize = match std::env::args().nth(1) {
        Some(a) => a.parse().context("the argument is a number of beats")?,
        None => 1_000_000,
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/reference/nsr_60min.rr"
    );
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let rr: Vec<f64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("an RR interval that is not a number")?;
    let rules = compile(DEFAULT_RULES)?;
    let sessions = target.div_ceil(rr.len());

    let mut sink = CountingSink::default();
    let (wall, cpu) = (Instant::now(), thread_cpu_s());
    for _ in 0..sessions {
        let mut feed = RuleFeed::new(&rules, Baselines::new(), SessionKind::Rest)?;
        session(&mut feed, &rr, &mut sink);
    }
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu_s() - cpu);
    let beats = (sessions * rr.len()) as f64;
    println!(
        "{sessions} sessions x {} beats = {beats} beats: {:.0} beats/s wall ({wall:.3} s), {:.0} beats/s CPU ({cpu:.3} s)",
        rr.len(),
        beats / wall,
        beats / cpu
    );
    println!(
        "labelled beats {}, window updates {}, alerts {}",
        sink.beats, sink.windows, sink.alerts
    );

    // The labeller alone: the beats at their series times, a session's pending ones flushed at its end.
    let mut labelled = Vec::new();
    let (mut count, mut affected) = (0_u64, 0_u64);
    let (wall, cpu) = (Instant::now(), thread_cpu_s());
    for _ in 0..sessions {
        let mut labeller = Labeller::new();
        let mut t = 0.0;
        for &r in &rr {
            t += r;
            labeller.push(t, r, &mut labelled);
            count += labelled.len() as u64;
            affected += labelled.iter().filter(|b| b.affected).count() as u64;
            labelled.clear();
        }
        labeller.flush(&mut labelled);
        count += labelled.len() as u64;
        affected += labelled.iter().filter(|b| b.affected).count() as u64;
        labelled.clear();
    }
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu_s() - cpu);
    println!(
        "labeller alone: {:.0} beats/s wall ({wall:.3} s), {:.0} beats/s CPU ({cpu:.3} s); {count} labelled, {affected} affected by an artifact",
        beats / wall,
        beats / cpu
    );
    Ok(())
}
