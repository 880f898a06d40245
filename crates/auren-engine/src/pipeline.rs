//! The per-session processing, free of I/O and clocks: source events in session time go in; labelled
//! beats, gaps, HR samples, metric snapshots, alerts and throttled live updates come out through a
//! [`Sink`]. The live session task (`session`) owns one and feeds it from its `select!`.
//!
//! Two paths per beat. Subscribers get each beat at once with a provisional label (`provisional`),
//! and the display windows (60 s, 5 min) move with it, so the live numbers follow the breath. The
//! confirmed path is unchanged by that: the labeller's final labels (16 beats later) feed the rules,
//! the stored beats, the metric snapshots and the windows the rules read. When a final label is known
//! the update's `confirmed_through` advances, and `corrections` lists the final labels that differ
//! from the provisional ones sent.
//!
//! Updates are throttled on session time: one leaves at once when the last left at least
//! [`UPDATE_INTERVAL_MS`] earlier, so a beat (about one a second) normally leaves with the event
//! that brought it; beats arriving closer than that ride with the next update.

use auren_cep::{Alert, Baselines, Detector, Event, EventKind, MetricField, Metrics, RuleSet, SessionKind};
use auren_hrm::SensorContact;
use auren_hrv::rolling::{DFA_SPAN_MS, RecentBeats, RollingWindow, WindowError, WindowStats};
use auren_strap::{Sample, SourceEvent};

use std::collections::VecDeque;

use crate::dto::{
    AlertDto, ArtifactKindDto, BeatDto, LabelCorrectionDto, LinkDto, LiveMetricsDto, LiveUpdateDto,
};
use crate::labeller::{LabelledBeat, Labeller};
use crate::provisional::ProvisionalLabeller;

/// Detector ticks on session time.
pub const TICK_MS: i64 = 1_000;
/// Subscribers get at most one update per this much session time (10 Hz).
pub const UPDATE_INTERVAL_MS: i64 = 100;
/// DFA α1 over the last 2 min is recomputed this often (FatMaxxer's cadence is 5–20 s).
pub const DFA_INTERVAL_MS: i64 = 5_000;
/// Metric snapshots are stored this often.
pub const SNAPSHOT_INTERVAL_MS: i64 = 5_000;
/// Successive differences a window needs before its values are reported: fewer give a number, but
/// one too noisy to alert on.
pub const MIN_WINDOW_DIFFS: usize = 20;

/// Where the pipeline's results go.
pub trait Sink {
    fn beat(&mut self, beat: &LabelledBeat);
    fn gap(&mut self, from_ms: f64, to_ms: f64);
    fn heart_rate(&mut self, at_ms: f64, bpm: f64);
    /// A snapshot of the windowed metrics, by the names rules use.
    fn metrics(&mut self, at_ms: f64, values: &[(&'static str, f64)]);
    fn alert(&mut self, alert: &Alert);
    fn update(&mut self, update: LiveUpdateDto);
}

/// Session time of each beat of a sample: cumulative RR sums, anchored to the arrival time after a
/// start or a gap, never later than the arrival and always increasing.
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
            // The beat ends `before` ms (the later intervals) ahead of the arrival, at the latest.
            let latest = at_ms - before;
            let t = match self.last_ms {
                Some(last) if self.anchored => (last + rr).min(latest),
                _ => latest,
            };
            // Beat times key the stored beats: strictly increasing even when a strap's arrival jitter
            // would put two at the same moment.
            let t = match self.last_ms {
                Some(last) if t <= last => last + 0.001,
                _ => t,
            };
            self.last_ms = Some(t);
            self.anchored = true;
            out.push((t, rr));
        }
    }

    fn gap(&mut self) {
        self.anchored = false;
    }
}

/// Everything one live session computes.
#[derive(Debug)]
pub struct Pipeline {
    session_id: Option<i64>,
    started_at_unix_ms: i64,
    kind: SessionKind,
    /// Source time of session time 0 (a recording started on a monitored connection), ms.
    origin_ms: u64,
    /// Source time reached, ms (session time plus the origin).
    clock: BeatClock,
    labeller: Labeller,
    /// Labels each beat at once, for subscribers only.
    provisional: ProvisionalLabeller,
    /// Index of the next raw beat (the labeller numbers them the same way).
    next_index: u64,
    /// Provisional labels sent and not yet confirmed, oldest first.
    sent: VecDeque<(u64, Option<ArtifactKindDto>)>,
    /// The windows subscribers see: fed at once with the provisionally normal intervals.
    display_w60: RollingWindow,
    display_w5m: RollingWindow,
    display: LiveMetricsDto,
    w60: RollingWindow,
    w5m: RollingWindow,
    dfa: RecentBeats,
    detector: Detector,
    now_ms: i64,
    next_tick_ms: i64,
    next_dfa_ms: i64,
    next_snapshot_ms: i64,
    next_update_ms: i64,
    metrics: LiveMetricsDto,
    heart_rate: Option<u16>,
    contact: Option<bool>,
    link: LinkDto,
    battery: Option<u8>,
    pending_beats: Vec<BeatDto>,
    pending_corrections: Vec<LabelCorrectionDto>,
    confirmed_through: Option<u64>,
    pending_alerts: Vec<AlertDto>,
    beats_total: u64,
    artifacts_total: u64,
    started: bool,
    ended: bool,
    // Scratch buffers, reused per event.
    placed: Vec<(f64, f64)>,
    labelled: Vec<LabelledBeat>,
    alerts: Vec<Alert>,
}

impl Pipeline {
    pub fn new(
        rules: &RuleSet,
        baselines: Baselines,
        kind: SessionKind,
        session_id: Option<i64>,
        started_at_unix_ms: i64,
    ) -> Result<Self, WindowError> {
        Ok(Self {
            session_id,
            started_at_unix_ms,
            kind,
            origin_ms: 0,
            clock: BeatClock::default(),
            labeller: Labeller::new(),
            provisional: ProvisionalLabeller::new(),
            next_index: 0,
            sent: VecDeque::new(),
            display_w60: RollingWindow::new(60_000.0)?,
            display_w5m: RollingWindow::new(300_000.0)?,
            display: LiveMetricsDto::default(),
            w60: RollingWindow::new(60_000.0)?,
            w5m: RollingWindow::new(300_000.0)?,
            dfa: RecentBeats::new(DFA_SPAN_MS)?,
            detector: Detector::new(rules, baselines),
            now_ms: 0,
            next_tick_ms: TICK_MS,
            next_dfa_ms: DFA_INTERVAL_MS,
            next_snapshot_ms: SNAPSHOT_INTERVAL_MS,
            next_update_ms: 0,
            metrics: LiveMetricsDto::default(),
            heart_rate: None,
            contact: None,
            link: LinkDto::Connecting,
            battery: None,
            pending_beats: Vec::new(),
            pending_corrections: Vec::new(),
            confirmed_through: None,
            pending_alerts: Vec::new(),
            beats_total: 0,
            artifacts_total: 0,
            started: false,
            ended: false,
            placed: Vec::new(),
            labelled: Vec::new(),
            alerts: Vec::new(),
        })
    }

    /// Session time 0 is `origin_ms` on the source's clock: the events given to this pipeline are on
    /// the source's clock and are shifted by it (a recording started after the source).
    pub fn with_origin(mut self, origin_ms: u64) -> Self {
        self.origin_ms = origin_ms;
        self
    }

    /// Session time reached so far, ms.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Source time reached so far, ms.
    pub fn source_now_ms(&self) -> i64 {
        self.now_ms.saturating_add(ms(self.origin_ms))
    }

    /// Session time of source time `at_ms` (0 for a time before the origin).
    fn session_ms(&self, at_ms: u64) -> u64 {
        at_ms.saturating_sub(self.origin_ms)
    }

    pub fn beats_total(&self) -> u64 {
        self.beats_total
    }

    pub fn artifacts_total(&self) -> u64 {
        self.artifacts_total
    }

    /// Starts the session (the detector's session-start event).
    pub fn start(&mut self, sink: &mut impl Sink) {
        if self.started {
            return;
        }
        self.started = true;
        let kind = self.kind;
        self.cep(EventKind::SessionStart { kind }, sink);
        self.publish(sink, true);
    }

    /// One event from the source.
    pub fn on_source_event(&mut self, event: &SourceEvent, sink: &mut impl Sink) {
        self.start(sink);
        self.advance(ms(self.session_ms(event.at_ms())), sink);
        match event {
            SourceEvent::Sample(sample) => self.sample(sample, sink),
            SourceEvent::Connected { .. } => {
                self.link = LinkDto::Connected;
                self.cep(EventKind::Link { connected: true }, sink);
            }
            SourceEvent::Disconnected { .. } => {
                self.link = LinkDto::Disconnected;
                self.cep(EventKind::Link { connected: false }, sink);
            }
            SourceEvent::Reconnecting { .. } => self.link = LinkDto::Reconnecting,
            SourceEvent::ContactChanged { contact, .. } => {
                let detected = *contact != SensorContact::NotDetected;
                self.contact = Some(detected);
                self.cep(EventKind::Contact { detected }, sink);
            }
            SourceEvent::Battery { percent, .. } => self.battery = Some(*percent),
            SourceEvent::Gap { from_ms, to_ms } => {
                self.flush_labels(sink);
                self.clock.gap();
                self.provisional.reset();
                self.display_w60.mark_gap();
                self.display_w5m.mark_gap();
                self.w60.mark_gap();
                self.w5m.mark_gap();
                self.dfa.mark_gap();
                sink.gap(self.session_ms(*from_ms) as f64, self.session_ms(*to_ms) as f64);
            }
            SourceEvent::DeviceInfo { .. } | SourceEvent::Malformed { .. } => {}
        }
        self.publish(sink, false);
    }

    /// Source time `now_ms` passed without an event (a silent strap): ticks the rules up to it.
    pub fn idle(&mut self, now_ms: i64, sink: &mut impl Sink) {
        self.start(sink);
        let origin = ms(self.origin_ms);
        self.advance(now_ms.saturating_sub(origin).max(0), sink);
        self.publish(sink, false);
    }

    /// A user tag at the current session time.
    pub fn tag(&mut self, name: &str, sink: &mut impl Sink) {
        self.start(sink);
        self.cep(
            EventKind::Tag {
                name: name.to_owned(),
            },
            sink,
        );
        self.publish(sink, false);
    }

    /// Ends the session: labels the pending beats, sends the session end to the rules and a last update.
    pub fn end(&mut self, sink: &mut impl Sink) {
        if self.ended {
            return;
        }
        self.start(sink);
        self.flush_labels(sink);
        self.cep(EventKind::SessionEnd, sink);
        self.snapshot(sink);
        self.ended = true;
        self.publish(sink, true);
    }

    fn advance(&mut self, to_ms: i64, sink: &mut impl Sink) {
        while self.next_tick_ms <= to_ms {
            let t = self.next_tick_ms;
            self.now_ms = self.now_ms.max(t);
            self.detector.tick(t, &mut self.alerts);
            self.drain_alerts(sink);
            self.next_tick_ms += TICK_MS;
        }
        self.now_ms = self.now_ms.max(to_ms);
    }

    fn sample(&mut self, sample: &Sample, sink: &mut impl Sink) {
        let at = self.session_ms(sample.at_ms) as f64;
        if sample.contact != SensorContact::NotDetected && sample.heart_rate_bpm > 0 {
            self.heart_rate = Some(sample.heart_rate_bpm);
            let bpm = f64::from(sample.heart_rate_bpm);
            sink.heart_rate(at, bpm);
            self.cep(EventKind::HeartRate { bpm }, sink);
        }
        self.placed.clear();
        let valid: Vec<f64> = sample
            .rr_ms
            .iter()
            .copied()
            .filter(|rr| rr.is_finite() && *rr > 0.0)
            .collect();
        self.clock.place(at, &valid, &mut self.placed);
        let placed = std::mem::take(&mut self.placed);
        for &(t, rr) in &placed {
            self.show(t, rr);
            self.labeller.push(t, rr, &mut self.labelled);
        }
        self.placed = placed;
        self.take_labelled(sink);
    }

    /// Sends a new beat to subscribers at once with its provisional label, and moves the display
    /// windows; a provisionally flagged interval is left out of them (its neighbours form no difference).
    fn show(&mut self, at_ms: f64, rr_ms: f64) {
        let index = self.next_index;
        self.next_index += 1;
        let label = self.provisional.push(rr_ms).map(ArtifactKindDto::from);
        self.sent.push_back((index, label));
        self.pending_beats.push(BeatDto {
            index,
            at_ms,
            rr_ms,
            artifact: label,
        });
        if label.is_some() {
            self.display_w60.mark_gap();
            self.display_w5m.mark_gap();
            return;
        }
        if let (Ok(w60), Ok(w5m)) = (
            self.display_w60.push(at_ms, rr_ms),
            self.display_w5m.push(at_ms, rr_ms),
        ) {
            set_window_metrics(&mut self.display, &w60, &w5m);
        }
    }

    /// The final label of beat `index` is known: a correction when it differs from the one sent.
    fn confirm(&mut self, index: u64, label: Option<ArtifactKindDto>) {
        while let Some(&(sent_index, sent_label)) = self.sent.front() {
            if sent_index > index {
                break;
            }
            self.sent.pop_front();
            if sent_index == index && sent_label != label {
                self.pending_corrections.push(LabelCorrectionDto {
                    index,
                    artifact: label,
                });
            }
        }
        self.confirmed_through = Some(index);
    }

    fn flush_labels(&mut self, sink: &mut impl Sink) {
        self.labeller.flush(&mut self.labelled);
        self.take_labelled(sink);
    }

    fn take_labelled(&mut self, sink: &mut impl Sink) {
        let labelled = std::mem::take(&mut self.labelled);
        for beat in &labelled {
            self.beat(beat, sink);
        }
        self.labelled = labelled;
        self.labelled.clear();
    }

    fn beat(&mut self, beat: &LabelledBeat, sink: &mut impl Sink) {
        self.beats_total += 1;
        if beat.artifact.is_some() {
            self.artifacts_total += 1;
        }
        sink.beat(beat);
        self.confirm(beat.index, beat.artifact.map(ArtifactKindDto::from));
        self.cep(
            EventKind::Beat {
                rr_ms: beat.rr_ms,
                artifact: beat.artifact,
            },
            sink,
        );

        // The windows take the corrected NN intervals; a split interval's parts end evenly spaced
        // within the raw one.
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
        self.update_windows(&w60, &w5m);
        let mut metrics = self.cep_metrics();
        if self.now_ms >= self.next_dfa_ms {
            self.next_dfa_ms = self.now_ms + DFA_INTERVAL_MS;
            self.metrics.dfa_alpha1 = self.dfa.dfa_alpha1().ok();
            if let Some(a) = self.metrics.dfa_alpha1 {
                metrics.set(MetricField::DfaAlpha1, a);
            }
        }
        self.cep(EventKind::Metrics(metrics), sink);
        if self.now_ms >= self.next_snapshot_ms {
            self.next_snapshot_ms = self.now_ms + SNAPSHOT_INTERVAL_MS;
            self.snapshot(sink);
        }
    }

    fn update_windows(&mut self, w60: &WindowStats, w5m: &WindowStats) {
        set_window_metrics(&mut self.metrics, w60, w5m);
    }

    fn cep_metrics(&self) -> Metrics {
        let m = &self.metrics;
        let mut out = Metrics::new();
        let pairs = [
            (MetricField::Rmssd60s, m.rmssd_60s),
            (MetricField::Rmssd5m, m.rmssd_5m),
            (MetricField::Sdnn60s, m.sdnn_60s),
            (MetricField::Sdnn5m, m.sdnn_5m),
            (MetricField::MeanHr60s, m.mean_hr_60s),
            (MetricField::Pnn50_60s, m.pnn50_60s),
            (MetricField::LnRmssd, m.ln_rmssd),
        ];
        for (field, value) in pairs {
            if let Some(v) = value {
                out.set(field, v);
            }
        }
        out
    }

    fn snapshot(&mut self, sink: &mut impl Sink) {
        let m = &self.metrics;
        let values: Vec<(&'static str, f64)> = [
            ("rmssd_60s", m.rmssd_60s),
            ("rmssd_5m", m.rmssd_5m),
            ("sdnn_60s", m.sdnn_60s),
            ("sdnn_5m", m.sdnn_5m),
            ("mean_hr_60s", m.mean_hr_60s),
            ("pnn50_60s", m.pnn50_60s),
            ("ln_rmssd", m.ln_rmssd),
            ("dfa_alpha1", m.dfa_alpha1),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect();
        if !values.is_empty() {
            sink.metrics(self.now_ms as f64, &values);
        }
    }

    fn cep(&mut self, kind: EventKind, sink: &mut impl Sink) {
        self.detector
            .on_event(&Event::new(self.now_ms, kind), &mut self.alerts);
        self.drain_alerts(sink);
    }

    fn drain_alerts(&mut self, sink: &mut impl Sink) {
        for alert in self.alerts.drain(..) {
            sink.alert(&alert);
            self.pending_alerts
                .push(AlertDto::live(&alert, self.session_id, self.started_at_unix_ms));
        }
    }

    /// Sends an update when the throttle allows it (or `force`: the first and the last).
    fn publish(&mut self, sink: &mut impl Sink, force: bool) {
        if !force && self.now_ms < self.next_update_ms {
            return;
        }
        self.next_update_ms = self.now_ms + UPDATE_INTERVAL_MS;
        sink.update(LiveUpdateDto {
            session_id: self.session_id,
            at_ms: self.now_ms,
            heart_rate_bpm: self.heart_rate,
            contact: self.contact,
            link: self.link,
            battery_percent: self.battery,
            // Subscribers see the display windows (they move with each beat); DFA α1 comes from the
            // confirmed series, recomputed every 5 s anyway.
            metrics: LiveMetricsDto {
                dfa_alpha1: self.metrics.dfa_alpha1,
                ..self.display.clone()
            },
            beats: std::mem::take(&mut self.pending_beats),
            confirmed_through: self.confirmed_through,
            corrections: std::mem::take(&mut self.pending_corrections),
            alerts: std::mem::take(&mut self.pending_alerts),
            beats_total: self.beats_total,
            artifacts_total: self.artifacts_total,
            ended: self.ended,
        });
    }
}

/// The windowed values of `w60` and `w5m` into `m`, each once its window has enough differences.
fn set_window_metrics(m: &mut LiveMetricsDto, w60: &WindowStats, w5m: &WindowStats) {
    let enough = |w: &WindowStats| w.n_diffs >= MIN_WINDOW_DIFFS;
    let value = |w: &WindowStats, m: &auren_hrv::Metric| if enough(w) { m.clone().ok() } else { None };
    m.rmssd_60s = value(w60, &w60.rmssd_ms);
    m.sdnn_60s = value(w60, &w60.sdnn_ms);
    m.mean_hr_60s = value(w60, &w60.mean_hr_bpm);
    m.pnn50_60s = value(w60, &w60.pnn50_pct);
    m.ln_rmssd = m.rmssd_60s.filter(|r| *r > 0.0).map(f64::ln);
    m.rmssd_5m = value(w5m, &w5m.rmssd_ms);
    m.sdnn_5m = value(w5m, &w5m.sdnn_ms);
}

fn ms(at_ms: u64) -> i64 {
    i64::try_from(at_ms).unwrap_or(i64::MAX)
}
