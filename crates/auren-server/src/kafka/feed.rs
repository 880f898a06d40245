//! The server's detector feed: a session's beats (from `auren.beats`) through the same steps the desktop's
//! live pipeline takes for a recording played back, so the server raises the alerts the desktop would.
//!
//! What the desktop does for a beat series (`auren-engine`'s `Pipeline` fed by `auren-strap`'s RR replay):
//! one sample per second carrying the beats that ended in it and a heart rate from the last four
//! intervals; beats placed on the session clock by the arrival time; the Lipponen–Tarvainen labeller with
//! its 16-beat lag (ramped at the start); `Beat` events with the final labels at the time the label became
//! known; 60 s / 5 min windows over the corrected NN intervals and DFA α1 every 5 s as `Metrics` events;
//! a detector tick every second of session time; the session's start, link and contact events.
//!
//! Why a copy rather than a call: `auren-engine` depends on `auren-strap` and through it on btleplug, which
//! the server must not link (DESIGN: `auren-server` never depends on btleplug). The copy is checked, not
//! trusted: the integration test `kafka::server_alerts_equal_the_desktop` runs one recording through the
//! engine's own pipeline and through this feed and asserts the same alerts, so the two cannot drift apart
//! unnoticed. The device's artifact labels are not needed: the labeller here gives the same ones.

use std::collections::VecDeque;

use auren_cep::{Alert, Baselines, Detector, Event, EventKind, MetricField, Metrics, RuleSet, SessionKind};
use auren_hrv::artifacts::{ArtifactKind, Correction, QD_WINDOW, correct};
use auren_hrv::rolling::{DFA_SPAN_MS, RecentBeats, RollingWindow, WindowError, WindowStats};

/// Detector ticks on session time (the engine's `TICK_MS`).
const TICK_MS: i64 = 1_000;
/// DFA α1 is recomputed this often (the engine's `DFA_INTERVAL_MS`).
const DFA_INTERVAL_MS: i64 = 5_000;
/// Differences a window needs before its values count (the engine's `MIN_WINDOW_DIFFS`).
const MIN_WINDOW_DIFFS: usize = 20;
/// Beats that must follow a beat before it is labelled (the engine's `LABEL_LAG_BEATS`).
const LABEL_LAG_BEATS: usize = 16;
/// Beats the labeller keeps (twice the quartile window).
const BUFFER_BEATS: usize = 2 * QD_WINDOW;
/// One sample per this much session time, as the RR replay sends them.
const SAMPLE_MS: u64 = 1_000;
/// Intervals behind the sample's heart rate.
const HR_BEATS: usize = 4;

/// Runs a whole RR series (ms) through a [`SessionFeed`] and returns every alert, the session ended at the
/// last beat: what the server raises for a session whose beats have all arrived.
pub fn feed_beats(rules: &RuleSet, kind: SessionKind, rr_ms: &[f64]) -> Result<Vec<Alert>, WindowError> {
    let mut feed = SessionFeed::new(rules, Baselines::new(), kind)?;
    let mut alerts = Vec::new();
    for &rr in rr_ms {
        feed.push_rr(rr, &mut alerts);
    }
    feed.finish(&mut alerts);
    Ok(alerts)
}

/// One session's detector and everything that feeds it.
#[derive(Debug)]
pub struct SessionFeed {
    kind: SessionKind,
    detector: Detector,
    started: bool,
    finished: bool,
    /// The per-second sample being filled: its time and intervals.
    sample_at_ms: u64,
    sample_rr: Vec<f64>,
    /// Sum of the intervals so far (which second a beat falls in).
    series_ms: f64,
    /// The last intervals, for the samples' heart rate.
    recent: Vec<f64>,
    contact_sent: bool,
    clock: BeatClock,
    labeller: Labeller,
    w60: RollingWindow,
    w5m: RollingWindow,
    dfa: RecentBeats,
    values: WindowValues,
    now_ms: i64,
    next_tick_ms: i64,
    next_dfa_ms: i64,
    placed: Vec<(f64, f64)>,
    labelled: Vec<LabelledBeat>,
}

impl SessionFeed {
    pub fn new(rules: &RuleSet, baselines: Baselines, kind: SessionKind) -> Result<Self, WindowError> {
        Ok(Self {
            kind,
            detector: Detector::new(rules, baselines),
            started: false,
            finished: false,
            sample_at_ms: SAMPLE_MS,
            sample_rr: Vec::new(),
            series_ms: 0.0,
            recent: Vec::new(),
            contact_sent: false,
            clock: BeatClock::default(),
            labeller: Labeller::default(),
            w60: RollingWindow::new(60_000.0)?,
            w5m: RollingWindow::new(300_000.0)?,
            dfa: RecentBeats::new(DFA_SPAN_MS)?,
            values: WindowValues::default(),
            now_ms: 0,
            next_tick_ms: TICK_MS,
            next_dfa_ms: DFA_INTERVAL_MS,
            placed: Vec::new(),
            labelled: Vec::new(),
        })
    }

    /// The next interval of the session (ms); alerts it causes go to `out`. Non-finite or non-positive
    /// intervals are skipped, as the pipeline skips them.
    pub fn push_rr(&mut self, rr_ms: f64, out: &mut Vec<Alert>) {
        self.start(out);
        self.series_ms += rr_ms;
        while self.series_ms > self.sample_at_ms as f64 {
            self.flush_sample(out);
        }
        self.sample_rr.push(rr_ms);
    }

    /// The session ended after the last interval pushed: the last sample, the pending labels, the end.
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        if self.finished {
            return;
        }
        self.start(out);
        self.flush_sample(out);
        let mut labelled = std::mem::take(&mut self.labelled);
        self.labeller.flush(&mut labelled);
        self.take_labelled(&mut labelled, out);
        self.labelled = labelled;
        self.cep(EventKind::SessionEnd, out);
        self.finished = true;
    }

    /// Session time reached, ms.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// The replay's first events: the session start, then the link up at time 0.
    fn start(&mut self, out: &mut Vec<Alert>) {
        if self.started {
            return;
        }
        self.started = true;
        self.cep(EventKind::SessionStart { kind: self.kind }, out);
        self.cep(EventKind::Link { connected: true }, out);
    }

    /// Sends the sample being filled (a strap sends one each second, with or without beats).
    fn flush_sample(&mut self, out: &mut Vec<Alert>) {
        let at_ms = self.sample_at_ms;
        let rr = std::mem::take(&mut self.sample_rr);
        self.sample_at_ms += SAMPLE_MS;
        let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
        if !self.contact_sent {
            // The emitter reports the first sample's contact as a change, before the sample.
            self.contact_sent = true;
            self.advance(at, out);
            self.cep(EventKind::Contact { detected: true }, out);
        }
        self.advance(at, out);
        self.recent.extend_from_slice(&rr);
        let keep = self.recent.len().saturating_sub(HR_BEATS);
        self.recent.drain(..keep);
        if !self.recent.is_empty() {
            let mean = self.recent.iter().sum::<f64>() / self.recent.len() as f64;
            let bpm = (60_000.0 / mean).round().clamp(0.0, 65_535.0);
            if bpm > 0.0 {
                self.cep(EventKind::HeartRate { bpm }, out);
            }
        }
        let valid: Vec<f64> = rr.into_iter().filter(|r| r.is_finite() && *r > 0.0).collect();
        let mut placed = std::mem::take(&mut self.placed);
        placed.clear();
        self.clock.place(at_ms as f64, &valid, &mut placed);
        let mut labelled = std::mem::take(&mut self.labelled);
        for &(t, rr) in &placed {
            self.labeller.push(t, rr, &mut labelled);
        }
        self.placed = placed;
        self.take_labelled(&mut labelled, out);
        self.labelled = labelled;
    }

    fn advance(&mut self, to_ms: i64, out: &mut Vec<Alert>) {
        while self.next_tick_ms <= to_ms {
            let t = self.next_tick_ms;
            self.now_ms = self.now_ms.max(t);
            self.detector.tick(t, out);
            self.next_tick_ms += TICK_MS;
        }
        self.now_ms = self.now_ms.max(to_ms);
    }

    fn take_labelled(&mut self, labelled: &mut Vec<LabelledBeat>, out: &mut Vec<Alert>) {
        for beat in labelled.drain(..) {
            self.beat(&beat, out);
        }
    }

    fn beat(&mut self, beat: &LabelledBeat, out: &mut Vec<Alert>) {
        self.cep(
            EventKind::Beat {
                rr_ms: beat.rr_ms,
                artifact: beat.artifact,
            },
            out,
        );
        // The windows take the corrected NN intervals; a split interval's parts end evenly spaced.
        let k = beat.nn_ms.len();
        let mut last = None;
        for (j, &nn) in beat.nn_ms.iter().enumerate() {
            let t = beat.at_ms - beat.rr_ms * (k - 1 - j) as f64 / k as f64;
            let w60 = self.w60.push(t, nn);
            let w5m = self.w5m.push(t, nn);
            let dfa = self.dfa.push(t, nn);
            if let (Ok(a), Ok(b), Ok(())) = (w60, w5m, dfa) {
                last = Some((a, b));
            }
        }
        let Some((w60, w5m)) = last else { return };
        self.values.set(&w60, &w5m);
        let mut metrics = self.values.metrics();
        if self.now_ms >= self.next_dfa_ms {
            self.next_dfa_ms = self.now_ms + DFA_INTERVAL_MS;
            self.values.dfa_alpha1 = self.dfa.dfa_alpha1().ok();
            if let Some(a) = self.values.dfa_alpha1 {
                metrics.set(MetricField::DfaAlpha1, a);
            }
        }
        self.cep(EventKind::Metrics(metrics), out);
    }

    fn cep(&mut self, kind: EventKind, out: &mut Vec<Alert>) {
        self.detector.on_event(&Event::new(self.now_ms, kind), out);
    }
}

/// The windowed values the rules read (the engine's `LiveMetricsDto` fields that feed `Metrics`).
#[derive(Debug, Default)]
struct WindowValues {
    rmssd_60s: Option<f64>,
    rmssd_5m: Option<f64>,
    sdnn_60s: Option<f64>,
    sdnn_5m: Option<f64>,
    mean_hr_60s: Option<f64>,
    pnn50_60s: Option<f64>,
    ln_rmssd: Option<f64>,
    dfa_alpha1: Option<f64>,
}

impl WindowValues {
    fn set(&mut self, w60: &WindowStats, w5m: &WindowStats) {
        let value = |w: &WindowStats, m: &auren_hrv::Metric| {
            if w.n_diffs >= MIN_WINDOW_DIFFS {
                m.clone().ok()
            } else {
                None
            }
        };
        self.rmssd_60s = value(w60, &w60.rmssd_ms);
        self.sdnn_60s = value(w60, &w60.sdnn_ms);
        self.mean_hr_60s = value(w60, &w60.mean_hr_bpm);
        self.pnn50_60s = value(w60, &w60.pnn50_pct);
        self.ln_rmssd = self.rmssd_60s.filter(|r| *r > 0.0).map(f64::ln);
        self.rmssd_5m = value(w5m, &w5m.rmssd_ms);
        self.sdnn_5m = value(w5m, &w5m.sdnn_ms);
    }

    fn metrics(&self) -> Metrics {
        let mut out = Metrics::new();
        let pairs = [
            (MetricField::Rmssd60s, self.rmssd_60s),
            (MetricField::Rmssd5m, self.rmssd_5m),
            (MetricField::Sdnn60s, self.sdnn_60s),
            (MetricField::Sdnn5m, self.sdnn_5m),
            (MetricField::MeanHr60s, self.mean_hr_60s),
            (MetricField::Pnn50_60s, self.pnn50_60s),
            (MetricField::LnRmssd, self.ln_rmssd),
        ];
        for (field, value) in pairs {
            if let Some(v) = value {
                out.set(field, v);
            }
        }
        out
    }
}

/// Session time of each beat of a sample (the engine's `BeatClock`): cumulative RR sums anchored to the
/// arrival, never later than the arrival, always increasing.
#[derive(Debug, Default)]
struct BeatClock {
    last_ms: Option<f64>,
    anchored: bool,
}

impl BeatClock {
    fn place(&mut self, at_ms: f64, rr_ms: &[f64], out: &mut Vec<(f64, f64)>) {
        let total: f64 = rr_ms.iter().sum();
        let mut before = total;
        for &rr in rr_ms {
            before -= rr;
            let latest = at_ms - before;
            let t = match self.last_ms {
                Some(last) if self.anchored => (last + rr).min(latest),
                _ => latest,
            };
            let t = match self.last_ms {
                Some(last) if t <= last => last + 0.001,
                _ => t,
            };
            self.last_ms = Some(t);
            self.anchored = true;
            out.push((t, rr));
        }
    }
}

/// One beat with its final label (the engine's `LabelledBeat`, less what the rules do not read).
#[derive(Clone, Debug, PartialEq)]
struct LabelledBeat {
    at_ms: f64,
    rr_ms: f64,
    artifact: Option<ArtifactKind>,
    nn_ms: Vec<f64>,
}

/// The engine's online Lipponen–Tarvainen labeller: each beat labelled once 16 beats follow it (ramped at
/// the start of a stretch), on a buffer of the last 182 beats.
#[derive(Debug, Default)]
struct Labeller {
    buffer: VecDeque<(f64, f64)>,
    labelled: usize,
    segment_len: usize,
}

fn ready_beats(segment_len: usize, buffered: usize) -> usize {
    let labelled_in_segment = if segment_len > 2 * LABEL_LAG_BEATS {
        segment_len - LABEL_LAG_BEATS
    } else {
        segment_len.div_ceil(2)
    };
    buffered.saturating_sub(segment_len - labelled_in_segment)
}

impl Labeller {
    fn push(&mut self, at_ms: f64, rr_ms: f64, out: &mut Vec<LabelledBeat>) {
        self.buffer.push_back((at_ms, rr_ms));
        let ready = ready_beats(self.segment_len + 1, self.buffer.len());
        self.segment_len += 1;
        if ready > self.labelled {
            self.label_up_to(ready, out);
        }
        while self.buffer.len() > BUFFER_BEATS && self.labelled > 0 {
            self.buffer.pop_front();
            self.labelled -= 1;
        }
    }

    fn flush(&mut self, out: &mut Vec<LabelledBeat>) {
        let len = self.buffer.len();
        if len > self.labelled {
            self.label_up_to(len, out);
        }
        self.buffer.clear();
        self.labelled = 0;
        self.segment_len = 0;
    }

    fn label_up_to(&mut self, end: usize, out: &mut Vec<LabelledBeat>) {
        let rr: Vec<f64> = self.buffer.iter().map(|&(_, rr)| rr).collect();
        let correction = correct(&rr);
        for i in self.labelled..end {
            out.push(self.labelled_beat(i, &correction));
        }
        self.labelled = end;
    }

    fn labelled_beat(&self, i: usize, c: &Correction) -> LabelledBeat {
        let (at_ms, rr_ms) = self.buffer[i];
        let artifact = c.artifacts.iter().find(|a| a.index == i).map(|a| a.kind);
        let first = c.raw_index.partition_point(|&r| r < i);
        let last = c.raw_index.partition_point(|&r| r <= i);
        LabelledBeat {
            at_ms,
            rr_ms,
            artifact,
            nn_ms: c.corrected[first..last].to_vec(),
        }
    }
}
