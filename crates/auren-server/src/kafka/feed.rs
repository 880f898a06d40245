//! The server's detector feed: a session's beats (from `auren.beats`) through the steps the desktop took,
//! so the server raises the alerts the desktop raised.
//!
//! The desktop's live pipeline (`auren-engine`'s `Pipeline`) feeds `auren_cep::feed::RuleFeed` from its
//! source's events: per strap notification, at its arrival (session time), the strap's own heart rate and
//! the intervals it carried; gaps where the source had no beats; the link and contact changes; the end.
//! `RuleFeed` itself — beat clock, labeller, windows, DFA α1, ticks, the rules — is the very code the
//! engine runs, not a copy. What lives here is how the server learns the source's events:
//!
//! - [`SourceModel::Live`], when the messages carry [`LiveInputs`] (written by a server that carries them):
//!   the heart-rate samples the device stored are the notifications that had contact and a heart rate, at
//!   their arrival times, with the strap's value; each beat belongs to the first notification at or after
//!   its stored time (the beat clock never places a beat after its notification, and for a strap whose RR
//!   sums keep its clock — the simulator, a file replay — never at or before the previous one); gaps and
//!   the session's end are the device's own.
//! - [`SourceModel::Replay`], for beats alone (older messages, [`feed_beats`]): the samples an RR replay
//!   sends, one per second from the first interval, with the heart rate of the last four intervals.
//!
//! What neither has: contact and link changes in the middle of a session (the device stores no record of
//! them, so `contact_lost` can only be the device's), notifications with beats but no heart rate (their
//! beats go with the next notification that has one), a silent strap's idle ticks and tags (README,
//! "Server-side alerts").
//!
//! The server must not link `auren-engine` (it depends on btleplug through `auren-strap`); the integration
//! tests in `tests/it/kafka.rs` check both models against the engine's own runs.

use std::collections::VecDeque;

use auren_cep::feed::{FeedSink, RuleFeed};
use auren_cep::labeller::LabelledBeat;
use auren_cep::{Alert, Baselines, EventKind, RuleSet, SessionKind};
use auren_hrv::rolling::WindowError;
use auren_protocol::change::{ChunkError, Gap, HrSample};

use crate::topics::{BeatsChunk, LiveInputs};

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

/// What [`SessionFeed::push_chunk`] did with a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkFed {
    /// Its beats and inputs went to the rules (or wait for the inputs they need).
    Fed,
    /// Its beats were fed before (it starts at or before the last beat taken): nothing was done.
    Repeat,
}

/// One session's rules and the model of the source that feeds them.
#[derive(Debug)]
pub struct SessionFeed {
    feed: RuleFeed,
    started: bool,
    contact_sent: bool,
    /// Chosen by the first beats pushed.
    model: Option<SourceModel>,
    /// Session time of the last beat taken from a chunk (a chunk starting at or before it is a repeat).
    last_chunk_beat_ms: f64,
}

/// How the source's notifications are rebuilt.
#[derive(Debug)]
enum SourceModel {
    Replay(ReplayModel),
    Live(LiveModel),
}

/// The RR replay's samples: one per second of the interval sums.
#[derive(Debug)]
struct ReplayModel {
    /// The sample being filled: its time and intervals.
    sample_at_ms: u64,
    sample_rr: Vec<f64>,
    /// Sum of the intervals so far (which second a beat falls in).
    series_ms: f64,
    /// The last intervals, for the samples' heart rate.
    recent: Vec<f64>,
}

/// The device's own notifications, rebuilt from its heart-rate samples, gaps and end. Inputs arrive in
/// order per kind but not together (beats are stored 16 beats after their notification; one push may end
/// between a flush's gaps and its heart-rate samples), so they wait until every input up to a moment is
/// known: the latest beat and the latest heart-rate sample both at or past it.
#[derive(Debug, Default)]
struct LiveModel {
    /// Beats not yet fed: session time and RR.
    beats: VecDeque<(f64, f64)>,
    samples: VecDeque<HrSample>,
    gaps: VecDeque<Gap>,
    last_beat_ms: Option<f64>,
    last_sample_ms: Option<f64>,
    last_gap_ms: Option<f64>,
    end_ms: Option<i64>,
}

/// The next thing the live model feeds.
enum LiveStep {
    Gap(Gap),
    Sample(HrSample),
}

impl SessionFeed {
    pub fn new(rules: &RuleSet, baselines: Baselines, kind: SessionKind) -> Result<Self, WindowError> {
        Ok(Self {
            feed: RuleFeed::new(rules, baselines, kind)?,
            started: false,
            contact_sent: false,
            model: None,
            last_chunk_beat_ms: f64::NEG_INFINITY,
        })
    }

    /// The next interval of the session (ms) as an RR replay would send it; alerts it causes go to `out`.
    pub fn push_rr(&mut self, rr_ms: f64, out: &mut Vec<Alert>) {
        self.start(out);
        let model = self
            .model
            .get_or_insert_with(|| SourceModel::Replay(ReplayModel::new()));
        let SourceModel::Replay(replay) = model else {
            return;
        };
        replay.series_ms += rr_ms;
        while replay.series_ms > replay.sample_at_ms as f64 {
            flush_replay_sample(&mut self.feed, replay, &mut self.contact_sent, out);
        }
        replay.sample_rr.push(rr_ms);
    }

    /// One chunk of `auren.beats`: its beats and, when it carries them, the session's other inputs. The
    /// first chunk chooses the model: the device's inputs when it carries them, the RR replay's otherwise.
    pub fn push_chunk(&mut self, chunk: &BeatsChunk, out: &mut Vec<Alert>) -> Result<ChunkFed, ChunkError> {
        if self.feed.ended() {
            return Ok(ChunkFed::Repeat);
        }
        let has_beats = !chunk.chunk.rr_raw.is_empty();
        if has_beats && chunk.chunk.start_ms <= self.last_chunk_beat_ms {
            return Ok(ChunkFed::Repeat);
        }
        let beats = chunk.chunk.decode()?;
        if self.model.is_none() && (has_beats || chunk.live.is_some()) {
            self.model = Some(match chunk.live {
                Some(_) => SourceModel::Live(LiveModel::default()),
                None => SourceModel::Replay(ReplayModel::new()),
            });
        }
        if let Some(last) = beats.last() {
            self.last_chunk_beat_ms = last.t_ms;
        }
        if let Some(SourceModel::Live(live)) = &mut self.model {
            if let Some(inputs) = &chunk.live {
                live.take_inputs(inputs);
            }
            live.take_beats(beats.iter().map(|b| (b.t_ms, b.rr_ms)));
            let horizon = live.known_through();
            self.feed_live(horizon, out);
        } else {
            for beat in &beats {
                self.push_rr(beat.rr_ms, out);
            }
        }
        Ok(ChunkFed::Fed)
    }

    /// The session ended after what was pushed: what waits is fed (up to the device's end when known),
    /// then the pending labels and the end go to the rules. Once only.
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        if self.feed.ended() {
            return;
        }
        self.start(out);
        if matches!(self.model, Some(SourceModel::Live(_))) {
            self.finish_live(out);
        } else {
            let model = self
                .model
                .get_or_insert_with(|| SourceModel::Replay(ReplayModel::new()));
            if let SourceModel::Replay(replay) = model {
                flush_replay_sample(&mut self.feed, replay, &mut self.contact_sent, out);
            }
        }
        self.feed.end(&mut AlertList(out));
    }

    /// Session time reached, ms.
    pub fn now_ms(&self) -> i64 {
        self.feed.now_ms()
    }

    /// The source's first events: the session start, then the link up at time 0.
    fn start(&mut self, out: &mut Vec<Alert>) {
        if self.started {
            return;
        }
        self.started = true;
        let out = &mut AlertList(out);
        self.feed.start(out);
        self.feed.event(EventKind::Link { connected: true }, out);
    }

    /// Feeds the live model's gaps and notifications up to `horizon` (session ms), in the order the source
    /// sent them: a gap before the notification at its end.
    fn feed_live(&mut self, horizon: f64, out: &mut Vec<Alert>) {
        self.start(out);
        loop {
            let Some(SourceModel::Live(live)) = &mut self.model else {
                return;
            };
            let Some(step) = live.next_step(horizon) else {
                return;
            };
            match step {
                LiveStep::Gap(gap) => {
                    let out = &mut AlertList(out);
                    self.feed.advance(gap.to_ms as i64, out);
                    self.feed.gap(out);
                }
                LiveStep::Sample(sample) => {
                    let rr = live.take_until(sample.t_ms);
                    let bpm = Some(sample.bpm).filter(|bpm| *bpm > 0.0);
                    self.notification(sample.t_ms, bpm, &rr, out);
                }
            }
        }
    }

    /// Everything the live model holds, then the end: beats no notification claimed (a strap that sent
    /// no heart rate with them) go as notifications at the next whole second of their own times.
    fn finish_live(&mut self, out: &mut Vec<Alert>) {
        self.feed_live(f64::INFINITY, out);
        let Some(SourceModel::Live(live)) = &mut self.model else {
            return;
        };
        let end_ms = live.end_ms;
        let rest: Vec<(f64, f64)> = live.beats.drain(..).collect();
        let mut i = 0;
        while let Some(&(t, _)) = rest.get(i) {
            let at = (t / SAMPLE_MS as f64).ceil() * SAMPLE_MS as f64;
            let n = rest[i..].iter().take_while(|(t, _)| *t <= at).count();
            let rr: Vec<f64> = rest[i..i + n].iter().map(|&(_, rr)| rr).collect();
            self.notification(at, None, &rr, out);
            i += n;
        }
        if let Some(end) = end_ms {
            self.feed.advance(end, &mut AlertList(out));
        }
    }

    /// One strap notification that arrived at `at_ms`: the first one's contact report, the heart rate (when
    /// it had one) and its intervals.
    fn notification(&mut self, at_ms: f64, bpm: Option<f64>, rr: &[f64], out: &mut Vec<Alert>) {
        let out = &mut AlertList(out);
        let at = at_ms as i64;
        self.feed.advance(at, out);
        if !self.contact_sent {
            // The emitter reports the first notification's contact as a change, before the sample.
            self.contact_sent = true;
            self.feed.event(EventKind::Contact { detected: true }, out);
        }
        if let Some(bpm) = bpm {
            self.feed.event(EventKind::HeartRate { bpm }, out);
        }
        self.feed.beats(at_ms, rr, out);
    }
}

impl ReplayModel {
    fn new() -> Self {
        Self {
            sample_at_ms: SAMPLE_MS,
            sample_rr: Vec::new(),
            series_ms: 0.0,
            recent: Vec::new(),
        }
    }
}

/// Sends the replay sample being filled (a strap sends one each second, with or without beats).
fn flush_replay_sample(
    feed: &mut RuleFeed,
    replay: &mut ReplayModel,
    contact_sent: &mut bool,
    out: &mut Vec<Alert>,
) {
    let out = &mut AlertList(out);
    let at_ms = replay.sample_at_ms;
    let rr = std::mem::take(&mut replay.sample_rr);
    replay.sample_at_ms += SAMPLE_MS;
    let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
    if !*contact_sent {
        // The emitter reports the first sample's contact as a change, before the sample.
        *contact_sent = true;
        feed.advance(at, out);
        feed.event(EventKind::Contact { detected: true }, out);
    }
    feed.advance(at, out);
    replay.recent.extend_from_slice(&rr);
    let keep = replay.recent.len().saturating_sub(HR_BEATS);
    replay.recent.drain(..keep);
    if !replay.recent.is_empty() {
        let mean = replay.recent.iter().sum::<f64>() / replay.recent.len() as f64;
        let bpm = (60_000.0 / mean).round().clamp(0.0, 65_535.0);
        if bpm > 0.0 {
            feed.event(EventKind::HeartRate { bpm }, out);
        }
    }
    let valid: Vec<f64> = rr.into_iter().filter(|r| r.is_finite() && *r > 0.0).collect();
    feed.beats(at_ms as f64, &valid, out);
}

impl LiveModel {
    /// Takes a push's inputs; one already taken (a message read again) is not taken twice.
    fn take_inputs(&mut self, inputs: &LiveInputs) {
        for sample in &inputs.hr {
            if sample.t_ms.is_finite() && self.last_sample_ms.is_none_or(|last| sample.t_ms > last) {
                self.last_sample_ms = Some(sample.t_ms);
                self.samples.push_back(*sample);
            }
        }
        for gap in &inputs.gaps {
            if gap.to_ms.is_finite() && self.last_gap_ms.is_none_or(|last| gap.to_ms > last) {
                self.last_gap_ms = Some(gap.to_ms);
                self.gaps.push_back(*gap);
            }
        }
        if inputs.end_ms.is_some() {
            self.end_ms = inputs.end_ms;
        }
    }

    fn take_beats(&mut self, beats: impl Iterator<Item = (f64, f64)>) {
        for (t, rr) in beats {
            if self.last_beat_ms.is_none_or(|last| t > last) && rr.is_finite() && rr > 0.0 {
                self.last_beat_ms = Some(t);
                self.beats.push_back((t, rr));
            }
        }
    }

    /// The moment up to which every input is known: later beats and samples may still come.
    fn known_through(&self) -> f64 {
        match (self.last_beat_ms, self.last_sample_ms) {
            (Some(beat), Some(sample)) => beat.min(sample),
            _ => f64::NEG_INFINITY,
        }
    }

    /// The next gap or notification at or before `horizon`, a gap first when both are at one moment.
    fn next_step(&mut self, horizon: f64) -> Option<LiveStep> {
        let gap_at = self.gaps.front().map(|g| g.to_ms);
        let sample_at = self.samples.front().map(|s| s.t_ms);
        match (gap_at, sample_at) {
            (Some(g), s) if g <= horizon && s.is_none_or(|s| g <= s) => {
                self.gaps.pop_front().map(LiveStep::Gap)
            }
            (_, Some(s)) if s <= horizon => self.samples.pop_front().map(LiveStep::Sample),
            _ => None,
        }
    }

    /// The intervals of the beats up to `at_ms`, taken out.
    fn take_until(&mut self, at_ms: f64) -> Vec<f64> {
        let n = self.beats.iter().take_while(|(t, _)| *t <= at_ms).count();
        self.beats.drain(..n).map(|(_, rr)| rr).collect()
    }
}
