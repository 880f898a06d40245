//! Synthetic event streams and a runner that feeds them to a detector with 1 Hz ticks.

use auren_cep::{
    Alert, BaselineField, Baselines, Detector, Event, EventKind, MetricField, Metrics, RuleSet, SessionKind,
};
use auren_hrv::artifacts::ArtifactKind;

pub fn baselines() -> Baselines {
    Baselines::new()
        .with(BaselineField::LnRmssdLo, 3.6)
        .with(BaselineField::LnRmssdHi, 4.2)
        .with(BaselineField::LnRmssdMean, 3.9)
        .with(BaselineField::RestingHr, 58.0)
        .with(BaselineField::MaxHr, 190.0)
        .with(BaselineField::HrCeiling, 170.0)
}

/// A stream under construction; events are sorted by time when run.
#[derive(Default, Clone)]
pub struct Stream {
    pub events: Vec<Event>,
    pub end_ms: i64,
}

impl Stream {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn at(mut self, at_ms: i64, kind: EventKind) -> Self {
        self.end_ms = self.end_ms.max(at_ms);
        self.events.push(Event::new(at_ms, kind));
        self
    }

    pub fn session(self, kind: SessionKind, from_ms: i64) -> Self {
        self.at(from_ms, EventKind::SessionStart { kind })
            .at(from_ms, EventKind::Link { connected: true })
            .at(from_ms, EventKind::Contact { detected: true })
    }

    /// Beats from `from_ms` to `to_ms` with RR from `rr(t)`; every `artifact_every`-th beat is
    /// flagged missed, a strap artifact (0: none).
    pub fn beats(self, from_ms: i64, to_ms: i64, rr: impl Fn(i64) -> f64, artifact_every: usize) -> Self {
        self.labelled_beats(from_ms, to_ms, rr, |n| {
            (artifact_every > 0 && n.is_multiple_of(artifact_every)).then_some(ArtifactKind::Missed)
        })
    }

    /// Beats as [`Stream::beats`], the `n`-th (from 1) labelled `label(n)`.
    pub fn labelled_beats(
        mut self,
        from_ms: i64,
        to_ms: i64,
        rr: impl Fn(i64) -> f64,
        label: impl Fn(usize) -> Option<ArtifactKind>,
    ) -> Self {
        let mut t = from_ms as f64;
        let mut n = 0usize;
        loop {
            let r = rr(t as i64);
            t += r;
            if t as i64 > to_ms {
                break;
            }
            n += 1;
            self = self.at(
                t as i64,
                EventKind::Beat {
                    rr_ms: r,
                    artifact: label(n),
                },
            );
        }
        self
    }

    /// One HR sample per second.
    pub fn hr(mut self, from_ms: i64, to_ms: i64, bpm: impl Fn(i64) -> f64) -> Self {
        let mut t = from_ms;
        while t <= to_ms {
            self = self.at(t, EventKind::HeartRate { bpm: bpm(t) });
            t += 1000;
        }
        self
    }

    /// One metrics update every 5 s.
    pub fn metrics(
        mut self,
        from_ms: i64,
        to_ms: i64,
        values: impl Fn(i64) -> Vec<(MetricField, f64)>,
    ) -> Self {
        let mut t = from_ms;
        while t <= to_ms {
            let mut m = Metrics::new();
            for (f, v) in values(t) {
                m.set(f, v);
            }
            self = self.at(t, EventKind::Metrics(m));
            t += 5000;
        }
        self
    }

    /// Feeds the stream (stable-sorted by time) with a tick every second up to `end_ms + tail`.
    pub fn run(&self, rules: &RuleSet, baselines: Baselines, tail_ms: i64) -> Vec<Alert> {
        let mut events = self.events.clone();
        events.sort_by_key(|e| e.at_ms);
        let mut d = Detector::new(rules, baselines);
        let mut alerts = Vec::new();
        let mut next_tick = events.first().map_or(0, |e| e.at_ms) + 1000;
        for e in &events {
            while next_tick < e.at_ms {
                d.tick(next_tick, &mut alerts);
                next_tick += 1000;
            }
            d.on_event(e, &mut alerts);
        }
        while next_tick <= self.end_ms + tail_ms {
            d.tick(next_tick, &mut alerts);
            next_tick += 1000;
        }
        alerts
    }
}

/// Metric values of a calm rest: RMSSD 50 ms (ln 3.91), α1 1.0.
pub fn calm_metrics(_t: i64) -> Vec<(MetricField, f64)> {
    vec![
        (MetricField::Rmssd60s, 50.0),
        (MetricField::LnRmssd, 50f64.ln()),
        (MetricField::DfaAlpha1, 1.0),
        (MetricField::Sdnn60s, 60.0),
    ]
}

pub const MIN: i64 = 60_000;
pub const SEC: i64 = 1_000;
