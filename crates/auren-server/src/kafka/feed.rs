//! The server's detector feed: a session's beats (from `auren.beats`) through the steps the desktop takes
//! for a recording played back, so the server raises the alerts the desktop would.
//!
//! What the desktop does for a beat series (`auren-engine`'s `Pipeline` fed by `auren-strap`'s RR replay):
//! one sample per second carrying the beats that ended in it and a heart rate from the last four
//! intervals; the session's start, link and contact events; then the confirmed path to the rules. That
//! path (beat clock, labeller, windows, DFA α1, ticks, the rules) is `auren_cep::feed::RuleFeed`, the very
//! code the engine's pipeline runs — not a copy. What stays here is the model of the source: the samples the
//! RR replay would have sent (the server has the beats, not the strap's notifications).
//!
//! The server must not link `auren-engine` (it depends on btleplug through `auren-strap`); the integration
//! test `kafka::server_alerts_equal_the_desktop` checks the sample model against the engine's own run.

use auren_cep::feed::{FeedSink, RuleFeed};
use auren_cep::labeller::LabelledBeat;
use auren_cep::{Alert, Baselines, EventKind, RuleSet, SessionKind};
use auren_hrv::rolling::WindowError;

/// One sample per this much session time, as the RR replay sends them.
const SAMPLE_MS: u64 = 1_000;
/// Intervals behind the sample's heart rate (the RR replay's).
const HR_BEATS: usize = 4;

/// Runs a whole RR series (ms) through a [`SessionFeed`] and returns every alert, the session ended at the
/// last beat: what the server raises for a session whose beats have all arrived.
pub fn feed_beats(
    rules: &RuleSet,
    baselines: Baselines,
    kind: SessionKind,
    rr_ms: &[f64],
) -> Result<Vec<Alert>, WindowError> {
    let mut feed = SessionFeed::new(rules, baselines, kind)?;
    let mut alerts = Vec::new();
    for &rr in rr_ms {
        feed.push_rr(rr, &mut alerts);
    }
    feed.finish(&mut alerts);
    Ok(alerts)
}

/// The feed's alerts into a list (the server stores neither beats nor snapshots from here).
struct AlertList<'a>(&'a mut Vec<Alert>);

impl FeedSink for AlertList<'_> {
    fn beat(&mut self, _: &LabelledBeat) {}
    fn alert(&mut self, alert: &Alert) {
        self.0.push(alert.clone());
    }
}

/// One session's rules and the samples that feed them.
#[derive(Debug)]
pub struct SessionFeed {
    feed: RuleFeed,
    started: bool,
    /// The per-second sample being filled: its time and intervals.
    sample_at_ms: u64,
    sample_rr: Vec<f64>,
    /// Sum of the intervals so far (which second a beat falls in).
    series_ms: f64,
    /// The last intervals, for the samples' heart rate.
    recent: Vec<f64>,
    contact_sent: bool,
}

impl SessionFeed {
    pub fn new(rules: &RuleSet, baselines: Baselines, kind: SessionKind) -> Result<Self, WindowError> {
        Ok(Self {
            feed: RuleFeed::new(rules, baselines, kind)?,
            started: false,
            sample_at_ms: SAMPLE_MS,
            sample_rr: Vec::new(),
            series_ms: 0.0,
            recent: Vec::new(),
            contact_sent: false,
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
        if self.feed.ended() {
            return;
        }
        self.start(out);
        self.flush_sample(out);
        self.feed.end(&mut AlertList(out));
    }

    /// Session time reached, ms.
    pub fn now_ms(&self) -> i64 {
        self.feed.now_ms()
    }

    /// The replay's first events: the session start, then the link up at time 0.
    fn start(&mut self, out: &mut Vec<Alert>) {
        if self.started {
            return;
        }
        self.started = true;
        let out = &mut AlertList(out);
        self.feed.start(out);
        self.feed.event(EventKind::Link { connected: true }, out);
    }

    /// Sends the sample being filled (a strap sends one each second, with or without beats).
    fn flush_sample(&mut self, out: &mut Vec<Alert>) {
        let out = &mut AlertList(out);
        let at_ms = self.sample_at_ms;
        let rr = std::mem::take(&mut self.sample_rr);
        self.sample_at_ms += SAMPLE_MS;
        let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
        if !self.contact_sent {
            // The emitter reports the first sample's contact as a change, before the sample.
            self.contact_sent = true;
            self.feed.advance(at, out);
            self.feed.event(EventKind::Contact { detected: true }, out);
        }
        self.feed.advance(at, out);
        self.recent.extend_from_slice(&rr);
        let keep = self.recent.len().saturating_sub(HR_BEATS);
        self.recent.drain(..keep);
        if !self.recent.is_empty() {
            let mean = self.recent.iter().sum::<f64>() / self.recent.len() as f64;
            let bpm = (60_000.0 / mean).round().clamp(0.0, 65_535.0);
            if bpm > 0.0 {
                self.feed.event(EventKind::HeartRate { bpm }, out);
            }
        }
        let valid: Vec<f64> = rr.into_iter().filter(|r| r.is_finite() && *r > 0.0).collect();
        self.feed.beats(at_ms as f64, &valid, out);
    }
}
