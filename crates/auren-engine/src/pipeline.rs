//! The per-session processing, free of I/O and clocks: source events in session time go in; labelled
//! beats, gaps, HR samples, contact and link changes, metric snapshots, alerts and throttled live updates come out through a
//! [`Sink`]. The live session task (`session`) owns one and feeds it from its `select!`.
//!
//! The confirmed path (beat clock, labeller, the windows the rules read, DFA α1, ticks, the rules) is
//! `auren_cep::feed::RuleFeed`, the same code the server's alert consumer runs; this module adds what only a
//! live view needs. Two paths per beat. Subscribers get each beat at once with a provisional label (`provisional`),
//! and the display windows (60 s, 5 min) move with it, so the live numbers follow the breath. The
//! confirmed path is unchanged by that: the labeller's final labels (16 beats later) feed the rules,
//! the stored beats, the metric snapshots and the windows the rules read. When a final label is known
//! the update's `confirmed_through` advances, and `corrections` lists the final labels that differ
//! from the provisional ones sent.
//!
//! Updates are throttled on session time: one leaves at once when the last left at least
//! [`UPDATE_INTERVAL_MS`] earlier, so a beat (about one a second) normally leaves with the event
//! that brought it; beats arriving closer than that ride with the next update.

use std::collections::VecDeque;

use auren_cep::feed::{FeedSink, RuleFeed, WindowValues};
use auren_cep::labeller::LabelledBeat;
use auren_cep::{Alert, Baselines, EventKind, RuleSet, SessionKind};
use auren_hrm::SensorContact;
use auren_hrv::rolling::{RollingWindow, WindowError};
use auren_store::Signal;
use auren_strap::{Sample, SourceEvent};

use crate::dto::{
    AlertDto, ArtifactKindDto, BeatDto, LabelCorrectionDto, LinkDto, LiveMetricsDto, LiveUpdateDto,
};
use crate::provisional::ProvisionalLabeller;

pub use auren_cep::feed::{DFA_INTERVAL_MS, MIN_WINDOW_DIFFS, TICK_MS};

/// Subscribers get at most one update per this much session time (10 Hz).
pub const UPDATE_INTERVAL_MS: i64 = 100;
/// Metric snapshots are stored this often.
pub const SNAPSHOT_INTERVAL_MS: i64 = 5_000;

/// Where the pipeline's results go.
pub trait Sink {
    fn beat(&mut self, beat: &LabelledBeat);
    fn gap(&mut self, from_ms: f64, to_ms: f64);
    fn heart_rate(&mut self, at_ms: f64, bpm: f64);
    /// The strap's contact or link changed at `at_ms`, as the rules are told (what the store keeps so the
    /// server's detector is told the same). A sink that keeps nothing need not implement it.
    fn signal(&mut self, _at_ms: f64, _signal: Signal, _up: bool) {}
    /// A snapshot of the windowed metrics, by the names rules use.
    fn metrics(&mut self, at_ms: f64, values: &[(&'static str, f64)]);
    fn alert(&mut self, alert: &Alert);
    fn update(&mut self, update: LiveUpdateDto);
}

/// Everything one live session computes.
#[derive(Debug)]
pub struct Pipeline {
    /// Source time of session time 0 (a recording started on a monitored connection), ms.
    origin_ms: u64,
    /// The confirmed path to the rules.
    feed: RuleFeed,
    view: LiveView,
}

/// What subscribers and the store see beyond the rules: provisional beats, display windows, snapshots,
/// the throttled updates and their pending contents.
#[derive(Debug)]
struct LiveView {
    session_id: Option<i64>,
    started_at_unix_ms: i64,
    /// Labels each beat at once, for subscribers only.
    provisional: ProvisionalLabeller,
    /// Index of the next raw beat (the labeller numbers them the same way).
    next_index: u64,
    /// Provisional labels sent and not yet confirmed, oldest first.
    sent: VecDeque<(u64, Option<ArtifactKindDto>)>,
    /// The windows subscribers see: fed at once with the provisionally normal intervals.
    display_w60: RollingWindow,
    display_w5m: RollingWindow,
    display: WindowValues,
    next_snapshot_ms: i64,
    next_update_ms: i64,
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
}

/// The feed's results into the live view and the pipeline's sink.
struct ViewSink<'a, S: Sink> {
    view: &'a mut LiveView,
    sink: &'a mut S,
}

impl<S: Sink> FeedSink for ViewSink<'_, S> {
    fn placed(&mut self, at_ms: f64, rr_ms: f64) {
        self.view.show(at_ms, rr_ms);
    }

    fn beat(&mut self, beat: &LabelledBeat) {
        self.view.beats_total += 1;
        if beat.artifact.is_some() {
            self.view.artifacts_total += 1;
        }
        self.sink.beat(beat);
        self.view
            .confirm(beat.index, beat.artifact.map(ArtifactKindDto::from));
    }

    fn windows(&mut self, now_ms: i64, values: &WindowValues) {
        if now_ms >= self.view.next_snapshot_ms {
            self.view.next_snapshot_ms = now_ms + SNAPSHOT_INTERVAL_MS;
            snapshot(now_ms, values, self.sink);
        }
    }

    fn alert(&mut self, alert: &Alert) {
        self.sink.alert(alert);
        self.view.pending_alerts.push(AlertDto::live(
            alert,
            self.view.session_id,
            self.view.started_at_unix_ms,
        ));
    }
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
            origin_ms: 0,
            feed: RuleFeed::new(rules, baselines, kind)?,
            view: LiveView {
                session_id,
                started_at_unix_ms,
                provisional: ProvisionalLabeller::new(),
                next_index: 0,
                sent: VecDeque::new(),
                display_w60: RollingWindow::new(60_000.0)?,
                display_w5m: RollingWindow::new(300_000.0)?,
                display: WindowValues::default(),
                next_snapshot_ms: SNAPSHOT_INTERVAL_MS,
                next_update_ms: 0,
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
            },
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
        self.feed.now_ms()
    }

    /// Source time reached so far, ms.
    pub fn source_now_ms(&self) -> i64 {
        self.feed.now_ms().saturating_add(ms(self.origin_ms))
    }

    /// Session time of source time `at_ms` (0 for a time before the origin).
    fn session_ms(&self, at_ms: u64) -> u64 {
        at_ms.saturating_sub(self.origin_ms)
    }

    pub fn beats_total(&self) -> u64 {
        self.view.beats_total
    }

    pub fn artifacts_total(&self) -> u64 {
        self.view.artifacts_total
    }

    /// Starts the session (the detector's session-start event).
    pub fn start(&mut self, sink: &mut impl Sink) {
        let started = self.feed.start(&mut ViewSink {
            view: &mut self.view,
            sink,
        });
        if started {
            self.publish(sink, true);
        }
    }

    /// One event from the source.
    pub fn on_source_event(&mut self, event: &SourceEvent, sink: &mut impl Sink) {
        self.start(sink);
        let at = ms(self.session_ms(event.at_ms()));
        let gap = match event {
            SourceEvent::Gap { from_ms, to_ms } => {
                Some((self.session_ms(*from_ms) as f64, self.session_ms(*to_ms) as f64))
            }
            _ => None,
        };
        let view = &mut self.view;
        let mut out = ViewSink { view, sink };
        self.feed.advance(at, &mut out);
        match event {
            SourceEvent::Sample(sample) => {
                let at = sample.at_ms.saturating_sub(self.origin_ms) as f64;
                sample_into(&mut self.feed, at, sample, &mut out);
            }
            SourceEvent::Connected { .. } => {
                out.view.link = LinkDto::Connected;
                out.sink.signal(at as f64, Signal::Link, true);
                self.feed.event(EventKind::Link { connected: true }, &mut out);
            }
            SourceEvent::Disconnected { .. } => {
                out.view.link = LinkDto::Disconnected;
                out.sink.signal(at as f64, Signal::Link, false);
                self.feed.event(EventKind::Link { connected: false }, &mut out);
            }
            SourceEvent::Reconnecting { .. } => out.view.link = LinkDto::Reconnecting,
            SourceEvent::ContactChanged { contact, .. } => {
                let detected = *contact != SensorContact::NotDetected;
                out.view.contact = Some(detected);
                out.sink.signal(at as f64, Signal::Contact, detected);
                self.feed.event(EventKind::Contact { detected }, &mut out);
            }
            SourceEvent::Battery { percent, .. } => out.view.battery = Some(*percent),
            SourceEvent::Gap { .. } => {
                self.feed.gap(&mut out);
                out.view.provisional.reset();
                out.view.display_w60.mark_gap();
                out.view.display_w5m.mark_gap();
                if let Some((from, to)) = gap {
                    out.sink.gap(from, to);
                }
            }
            SourceEvent::DeviceInfo { .. } | SourceEvent::Malformed { .. } => {}
        }
        self.publish(sink, false);
    }

    /// Source time `now_ms` passed without an event (a silent strap): ticks the rules up to it.
    pub fn idle(&mut self, now_ms: i64, sink: &mut impl Sink) {
        self.start(sink);
        let origin = ms(self.origin_ms);
        let mut out = ViewSink {
            view: &mut self.view,
            sink,
        };
        self.feed.advance(now_ms.saturating_sub(origin).max(0), &mut out);
        self.publish(sink, false);
    }

    /// A user tag at the current session time.
    pub fn tag(&mut self, name: &str, sink: &mut impl Sink) {
        self.start(sink);
        let mut out = ViewSink {
            view: &mut self.view,
            sink,
        };
        let name = name.to_owned();
        self.feed.event(EventKind::Tag { name }, &mut out);
        self.publish(sink, false);
    }

    /// Ends the session: labels the pending beats, sends the session end to the rules and a last update.
    pub fn end(&mut self, sink: &mut impl Sink) {
        if self.feed.ended() {
            return;
        }
        self.start(sink);
        let mut out = ViewSink {
            view: &mut self.view,
            sink,
        };
        self.feed.end(&mut out);
        snapshot(self.feed.now_ms(), self.feed.values(), sink);
        self.publish(sink, true);
    }

    /// Sends an update when the throttle allows it (or `force`: the first and the last).
    fn publish(&mut self, sink: &mut impl Sink, force: bool) {
        let now_ms = self.feed.now_ms();
        let v = &mut self.view;
        if !force && now_ms < v.next_update_ms {
            return;
        }
        v.next_update_ms = now_ms + UPDATE_INTERVAL_MS;
        sink.update(LiveUpdateDto {
            session_id: v.session_id,
            at_ms: now_ms,
            heart_rate_bpm: v.heart_rate,
            contact: v.contact,
            link: v.link,
            battery_percent: v.battery,
            // Subscribers see the display windows (they move with each beat); DFA α1 comes from the
            // confirmed series, recomputed every 5 s anyway.
            metrics: LiveMetricsDto {
                dfa_alpha1: self.feed.values().dfa_alpha1,
                ..live_metrics(&v.display)
            },
            beats: std::mem::take(&mut v.pending_beats),
            confirmed_through: v.confirmed_through,
            corrections: std::mem::take(&mut v.pending_corrections),
            alerts: std::mem::take(&mut v.pending_alerts),
            beats_total: v.beats_total,
            artifacts_total: v.artifacts_total,
            ended: self.feed.ended(),
        });
    }
}

/// A sample's heart rate and intervals into the feed (the intervals placed, shown and labelled there).
fn sample_into<S: Sink>(feed: &mut RuleFeed, at: f64, sample: &Sample, out: &mut ViewSink<'_, S>) {
    if sample.contact != SensorContact::NotDetected && sample.heart_rate_bpm > 0 {
        out.view.heart_rate = Some(sample.heart_rate_bpm);
        let bpm = f64::from(sample.heart_rate_bpm);
        out.sink.heart_rate(at, bpm);
        feed.event(EventKind::HeartRate { bpm }, out);
    }
    let valid: Vec<f64> = sample
        .rr_ms
        .iter()
        .copied()
        .filter(|rr| rr.is_finite() && *rr > 0.0)
        .collect();
    feed.beats(at, &valid, out);
}

impl LiveView {
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
            self.display.set(&w60, &w5m);
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
}

/// A stored snapshot of the confirmed windows at session time `now_ms` (none while all are unknown).
fn snapshot(now_ms: i64, values: &WindowValues, sink: &mut impl Sink) {
    let named = values.named();
    if !named.is_empty() {
        sink.metrics(now_ms as f64, &named);
    }
}

fn live_metrics(v: &WindowValues) -> LiveMetricsDto {
    LiveMetricsDto {
        rmssd_60s: v.rmssd_60s,
        rmssd_5m: v.rmssd_5m,
        sdnn_60s: v.sdnn_60s,
        sdnn_5m: v.sdnn_5m,
        mean_hr_60s: v.mean_hr_60s,
        pnn50_60s: v.pnn50_60s,
        ln_rmssd: v.ln_rmssd,
        dfa_alpha1: v.dfa_alpha1,
    }
}

fn ms(at_ms: u64) -> i64 {
    i64::try_from(at_ms).unwrap_or(i64::MAX)
}
