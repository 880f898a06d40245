//! The confirmed path from a session's beats to the rules: one implementation for the desktop's live
//! pipeline (`auren-engine`) and the server's consumer (`auren-server`), so both raise the same alerts on
//! the same beats. Before, the server kept a guarded copy of the engine's steps.
//!
//! Per sample of beats: each beat placed on the session clock ([`BeatClock`]), the online
//! Lipponen–Tarvainen labeller (16 beats of lag, see `labeller`), a `Beat` event per labelled beat, the
//! 60 s / 5 min windows over the corrected NN intervals and DFA α1 every 5 s as a `Metrics` event, and a
//! detector tick every second of session time. The caller says what happened (samples, gaps, heart rate,
//! link and contact changes, tags) and when; results go to a [`FeedSink`].
//!
//! Pure: no I/O and no clock. Time is the session time the caller passes to [`RuleFeed::advance`].

use auren_hrv::Metric;
use auren_hrv::rolling::{DFA_SPAN_MS, RecentBeats, RollingWindow, WindowError, WindowStats};

use crate::labeller::{LabelledBeat, Labeller};
use crate::{Alert, Baselines, Detector, Event, EventKind, MetricField, Metrics, RuleSet, SessionKind};

/// Detector ticks on session time.
pub const TICK_MS: i64 = 1_000;
/// DFA α1 over the last 2 min is recomputed this often (FatMaxxer's cadence is 5–20 s).
pub const DFA_INTERVAL_MS: i64 = 5_000;
/// Successive differences a window needs before its values are reported: fewer give a number, but
/// one too noisy to alert on.
pub const MIN_WINDOW_DIFFS: usize = 20;

/// Where the feed's results go.
pub trait FeedSink {
    /// A beat was placed on the session clock, before it is labelled (a display shows it at once).
    fn placed(&mut self, _at_ms: f64, _rr_ms: f64) {}
    /// A beat's final label is known; called before the rules see the beat.
    fn beat(&mut self, beat: &LabelledBeat);
    /// The windows the rules read moved, at session time `now_ms` (after the rules saw them).
    fn windows(&mut self, _now_ms: i64, _values: &WindowValues) {}
    /// A rule fired.
    fn alert(&mut self, alert: &Alert);
}

/// The windowed values at one moment, each absent until its window has [`MIN_WINDOW_DIFFS`] differences.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowValues {
    pub rmssd_60s: Option<f64>,
    pub rmssd_5m: Option<f64>,
    pub sdnn_60s: Option<f64>,
    pub sdnn_5m: Option<f64>,
    pub mean_hr_60s: Option<f64>,
    pub pnn50_60s: Option<f64>,
    pub ln_rmssd: Option<f64>,
    /// Over the last 2 min of the confirmed series, every [`DFA_INTERVAL_MS`]; [`WindowValues::set`]
    /// leaves it alone.
    pub dfa_alpha1: Option<f64>,
}

impl WindowValues {
    /// The values of `w60` and `w5m` (all but DFA α1).
    pub fn set(&mut self, w60: &WindowStats, w5m: &WindowStats) {
        let value = |w: &WindowStats, m: &Metric| {
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

    /// The known values by the names rules and stored snapshots use, DFA α1 last.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        [
            ("rmssd_60s", self.rmssd_60s),
            ("rmssd_5m", self.rmssd_5m),
            ("sdnn_60s", self.sdnn_60s),
            ("sdnn_5m", self.sdnn_5m),
            ("mean_hr_60s", self.mean_hr_60s),
            ("pnn50_60s", self.pnn50_60s),
            ("ln_rmssd", self.ln_rmssd),
            ("dfa_alpha1", self.dfa_alpha1),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect()
    }

    /// The windowed fields of a `Metrics` event (DFA α1 is added only when it was recomputed).
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

/// Session time of each beat of a sample: cumulative RR sums, anchored to the arrival time after a
/// start or a gap, never later than the arrival and always increasing.
#[derive(Debug, Default)]
pub struct BeatClock {
    last_ms: Option<f64>,
    anchored: bool,
}

impl BeatClock {
    /// Places the beats of a sample that arrived at `at_ms`; appends `(time, rr)` to `out`.
    pub fn place(&mut self, at_ms: f64, rr_ms: &[f64], out: &mut Vec<(f64, f64)>) {
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

    /// The next beat is anchored to its arrival again (the intervals before a gap say nothing of it).
    pub fn gap(&mut self) {
        self.anchored = false;
    }
}

/// One session's rules and everything that feeds them.
#[derive(Debug)]
pub struct RuleFeed {
    kind: SessionKind,
    detector: Detector,
    clock: BeatClock,
    labeller: Labeller,
    w60: RollingWindow,
    w5m: RollingWindow,
    dfa: RecentBeats,
    values: WindowValues,
    now_ms: i64,
    next_tick_ms: i64,
    next_dfa_ms: i64,
    started: bool,
    ended: bool,
    // Scratch buffers, reused per sample.
    placed: Vec<(f64, f64)>,
    labelled: Vec<LabelledBeat>,
    alerts: Vec<Alert>,
}

impl RuleFeed {
    pub fn new(rules: &RuleSet, baselines: Baselines, kind: SessionKind) -> Result<Self, WindowError> {
        Ok(Self {
            kind,
            detector: Detector::new(rules, baselines),
            clock: BeatClock::default(),
            labeller: Labeller::new(),
            w60: RollingWindow::new(60_000.0)?,
            w5m: RollingWindow::new(300_000.0)?,
            dfa: RecentBeats::new(DFA_SPAN_MS)?,
            values: WindowValues::default(),
            now_ms: 0,
            next_tick_ms: TICK_MS,
            next_dfa_ms: DFA_INTERVAL_MS,
            started: false,
            ended: false,
            placed: Vec::new(),
            labelled: Vec::new(),
            alerts: Vec::new(),
        })
    }

    /// Session time reached so far, ms.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// The windowed values the rules last saw.
    pub fn values(&self) -> &WindowValues {
        &self.values
    }

    /// Whether [`RuleFeed::end`] ran.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Starts the session (the rules' session-start event) unless it started; true when it starts now.
    pub fn start(&mut self, sink: &mut impl FeedSink) -> bool {
        if self.started {
            return false;
        }
        self.started = true;
        let kind = self.kind;
        self.event(EventKind::SessionStart { kind }, sink);
        true
    }

    /// Session time reached `to_ms`: the rules tick once per second up to it.
    pub fn advance(&mut self, to_ms: i64, sink: &mut impl FeedSink) {
        while self.next_tick_ms <= to_ms {
            let t = self.next_tick_ms;
            self.now_ms = self.now_ms.max(t);
            self.detector.tick(t, &mut self.alerts);
            self.drain_alerts(sink);
            self.next_tick_ms += TICK_MS;
        }
        self.now_ms = self.now_ms.max(to_ms);
    }

    /// An event for the rules at the current session time (heart rate, link, contact, tag).
    pub fn event(&mut self, kind: EventKind, sink: &mut impl FeedSink) {
        self.detector
            .on_event(&Event::new(self.now_ms, kind), &mut self.alerts);
        self.drain_alerts(sink);
    }

    /// The intervals of a sample that arrived at session time `at_ms` (finite and positive ones only:
    /// the caller filters). Each is placed, labelled when its lag allows, and the labelled ones go to the
    /// rules and the windows.
    pub fn beats(&mut self, at_ms: f64, rr_ms: &[f64], sink: &mut impl FeedSink) {
        let mut placed = std::mem::take(&mut self.placed);
        placed.clear();
        self.clock.place(at_ms, rr_ms, &mut placed);
        let mut labelled = std::mem::take(&mut self.labelled);
        for &(t, rr) in &placed {
            sink.placed(t, rr);
            self.labeller.push(t, rr, &mut labelled);
        }
        self.placed = placed;
        self.take_labelled(&mut labelled, sink);
        self.labelled = labelled;
    }

    /// A gap in the beats: what is pending is labelled with the context there is, and no interval or
    /// window spans the gap.
    pub fn gap(&mut self, sink: &mut impl FeedSink) {
        self.flush_labels(sink);
        self.clock.gap();
        self.w60.mark_gap();
        self.w5m.mark_gap();
        self.dfa.mark_gap();
    }

    /// Ends the session: the pending beats are labelled, the rules get the session end. Once only.
    pub fn end(&mut self, sink: &mut impl FeedSink) {
        if self.ended {
            return;
        }
        self.start(sink);
        self.flush_labels(sink);
        self.event(EventKind::SessionEnd, sink);
        self.ended = true;
    }

    fn flush_labels(&mut self, sink: &mut impl FeedSink) {
        let mut labelled = std::mem::take(&mut self.labelled);
        self.labeller.flush(&mut labelled);
        self.take_labelled(&mut labelled, sink);
        self.labelled = labelled;
    }

    fn take_labelled(&mut self, labelled: &mut Vec<LabelledBeat>, sink: &mut impl FeedSink) {
        for beat in labelled.drain(..) {
            self.beat(&beat, sink);
        }
    }

    fn beat(&mut self, beat: &LabelledBeat, sink: &mut impl FeedSink) {
        sink.beat(beat);
        self.event(
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
        self.values.set(&w60, &w5m);
        let mut metrics = self.values.metrics();
        if self.now_ms >= self.next_dfa_ms {
            self.next_dfa_ms = self.now_ms + DFA_INTERVAL_MS;
            self.values.dfa_alpha1 = self.dfa.dfa_alpha1().ok();
            if let Some(a) = self.values.dfa_alpha1 {
                metrics.set(MetricField::DfaAlpha1, a);
            }
        }
        self.event(EventKind::Metrics(metrics), sink);
        sink.windows(self.now_ms, &self.values);
    }

    fn drain_alerts(&mut self, sink: &mut impl FeedSink) {
        for alert in self.alerts.drain(..) {
            sink.alert(&alert);
        }
    }
}
