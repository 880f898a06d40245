//! The server's detector feed: a session's beats (from `auren.beats`) through the steps the desktop took,
//! so the server raises the alerts the desktop raised.
//!
//! The desktop's live pipeline (`auren-engine`'s `Pipeline`) feeds `auren_cep::feed::RuleFeed` from its
//! source's events: per strap notification, at its arrival (session time), the strap's own heart rate and
//! the intervals it carried; gaps where the source had no beats; the link and contact changes; the end.
//! `RuleFeed` itself — beat clock, labeller, windows, DFA α1, ticks, the rules — is the very code the
//! engine runs, not a copy. What lives here is how the server learns the source's events:
//!
//! - [`SourceModel::Live`], when the messages carry [`LiveInputs`] (written by a server that carries them)
//!   with heart-rate samples: the samples the device stored are the notifications that had contact and a
//!   heart rate, at their arrival times, with the strap's value; each beat belongs to the first
//!   notification at or after its stored time (the beat clock never places a beat after its notification,
//!   and for a strap whose RR sums keep its clock — the simulator, a file replay — never at or before the
//!   previous one); gaps, contact and link changes and the session's end are the device's own. One moment's
//!   inputs go in the order the strap's emitter sent them: gaps, then contact and link changes, then the
//!   notification — but the gap that ends where contact comes back follows that change.
//! - [`SourceModel::Replay`], for beats alone (older messages, [`feed_beats`], and a session whose device
//!   stores no heart-rate samples — switched once its beats show it, or at the session's end): the samples an RR
//!   replay sends, one per second from the first interval, with the heart rate of the last four intervals,
//!   and the assumed contact and link (the device's own gaps and changes are not fed).
//!
//! Contact and link: a device that records their changes sends them (`LiveInputs::signals`), and they are
//! fed at their times ([`Signals::Recorded`]); for one that records none (a device before they were kept,
//! the replay model) they are assumed as the strap's emitter reports them at the start: the link up at time
//! 0 and contact with the first notification ([`Signals::Assumed`]).
//!
//! What neither has: notifications with beats but no heart rate (their beats go with the next notification
//! that has one), a silent strap's idle ticks and tags (README, "Server-side alerts").
//!
//! The server must not link `auren-engine` (it depends on btleplug through `auren-strap`); the integration
//! tests in `tests/it/kafka.rs` check both models against the engine's own runs.

use std::collections::VecDeque;

use auren_cep::feed::{FeedSink, RuleFeed};
use auren_cep::labeller::LabelledBeat;
use auren_cep::{Alert, Baselines, EventKind, RuleSet, SessionKind};
use auren_hrv::rolling::WindowError;
use auren_protocol::change::{ChunkError, Gap, HrSample, Signal, SignalChange};

use crate::topics::{BeatsChunk, LiveInputs};

/// One sample per this much session time, as the RR replay sends them.
const SAMPLE_MS: u64 = 1_000;
/// Intervals behind the sample's heart rate (the RR replay's).
const HR_BEATS: usize = 4;
/// Beats spanning more than this (session ms) with no heart-rate sample, gap or change at all mean a
/// device that stores no samples (see [`SessionFeed::replay_without_samples`]).
const NO_SAMPLES_AFTER_MS: f64 = 30_000.0;

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
    /// Where contact and link events come from: decided when the first input is fed.
    signals: Signals,
    /// Chosen by the first beats pushed (a live model whose beats show a device that stores no heart-rate
    /// samples becomes a replay).
    model: Option<SourceModel>,
    /// Session time of the last beat taken from a chunk (a chunk starting at or before it is a repeat).
    last_chunk_beat_ms: f64,
}

/// Where the feed's contact and link events come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signals {
    /// Nothing was fed yet.
    Undecided,
    /// The device's record of them (its signal changes), fed at their times.
    Recorded,
    /// Assumed for a device that records none: the link up at the start, contact reported with the first
    /// notification (until `contact_sent`).
    Assumed { contact_sent: bool },
}

impl Signals {
    /// Whether the assumed contact report is due now (the first notification); it is then marked sent.
    fn first_contact(&mut self) -> bool {
        match self {
            Self::Assumed { contact_sent } if !*contact_sent => {
                *contact_sent = true;
                true
            }
            _ => false,
        }
    }
}

/// What a switch to the RR replay may rest on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Evidence {
    /// Beats are still coming: only conclusive evidence of a device that stores no samples.
    Conclusive,
    /// The session ended: beats with no sample at all are replayed.
    SessionEnded,
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
    signals: VecDeque<SignalChange>,
    /// The first beat ever taken (how long the beats have come without a sample).
    first_beat_ms: Option<f64>,
    last_beat_ms: Option<f64>,
    last_sample_ms: Option<f64>,
    /// The end of the last gaps taken and the starts of those ending there: gaps are taken by end, then
    /// start, but two ending at one moment may come in either order.
    last_gaps: Option<(f64, Vec<f64>)>,
    /// The time of the last signal change taken and the signals changed then.
    last_signals: Option<(f64, Vec<Signal>)>,
    /// Contact as the changes handed out so far left it.
    contact_up: Option<bool>,
    end_ms: Option<i64>,
}

/// The next thing the live model feeds.
enum LiveStep {
    Gap(Gap),
    Signal(SignalChange),
    /// A notification: its heart-rate sample and the intervals of the beats it brought.
    Notification(HrSample, Vec<f64>),
}

impl SessionFeed {
    pub fn new(rules: &RuleSet, baselines: Baselines, kind: SessionKind) -> Result<Self, WindowError> {
        Ok(Self {
            feed: RuleFeed::new(rules, baselines, kind)?,
            started: false,
            signals: Signals::Undecided,
            model: None,
            last_chunk_beat_ms: f64::NEG_INFINITY,
        })
    }

    /// The next interval of the session (ms) as an RR replay would send it; alerts it causes go to `out`.
    pub fn push_rr(&mut self, rr_ms: f64, out: &mut Vec<Alert>) {
        self.start(out);
        self.decide_signals(false, out);
        let model = self
            .model
            .get_or_insert_with(|| SourceModel::Replay(ReplayModel::new()));
        let SourceModel::Replay(replay) = model else {
            return;
        };
        replay.series_ms += rr_ms;
        while replay.series_ms > replay.sample_at_ms as f64 {
            flush_replay_sample(&mut self.feed, replay, &mut self.signals, out);
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
            self.replay_without_samples(Evidence::Conclusive, out);
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
        self.replay_without_samples(Evidence::SessionEnded, out);
        if matches!(self.model, Some(SourceModel::Live(_))) {
            self.finish_live(out);
        } else {
            self.decide_signals(false, out);
            let model = self
                .model
                .get_or_insert_with(|| SourceModel::Replay(ReplayModel::new()));
            if let SourceModel::Replay(replay) = model {
                flush_replay_sample(&mut self.feed, replay, &mut self.signals, out);
            }
        }
        self.feed.end(&mut AlertList(out));
    }

    /// A live model that has beats but never got a heart-rate sample becomes an RR replay of them (nothing was
    /// fed yet: the live model waits for samples). Beats with no sample before them do not prove a device
    /// that stores none: the labeller confirms a session's first beats with their notification, and one
    /// that carried intervals without contact or heart rate stores beats and no sample, so a commit (or a
    /// push that ends there) can hold a contact change and beats alone; an older writer also put a commit's
    /// beats before its samples. So while beats come, the switch waits for conclusive evidence: no sample,
    /// gap or change at all (a device that records changes stores samples too) over beats spanning more
    /// than [`NO_SAMPLES_AFTER_MS`] (a recording started mid-connection records no first change). At the
    /// session's end beats with no sample are replayed whatever else came. The replay assumes the link up at
    /// 0 and contact with the first sample; the device's own gaps and changes are not fed.
    fn replay_without_samples(&mut self, evidence: Evidence, out: &mut Vec<Alert>) {
        let Some(SourceModel::Live(live)) = &mut self.model else {
            return;
        };
        let (Some(first), Some(last)) = (live.first_beat_ms, live.last_beat_ms) else {
            return;
        };
        if live.last_sample_ms.is_some() {
            return;
        }
        let conclusive =
            live.last_gaps.is_none() && live.last_signals.is_none() && last - first > NO_SAMPLES_AFTER_MS;
        if evidence == Evidence::Conclusive && !conclusive {
            return;
        }
        let beats = std::mem::take(&mut live.beats);
        self.model = Some(SourceModel::Replay(ReplayModel::new()));
        for (_, rr) in beats {
            self.push_rr(rr, out);
        }
    }

    /// Session time reached, ms.
    pub fn now_ms(&self) -> i64 {
        self.feed.now_ms()
    }

    /// The session start.
    fn start(&mut self, out: &mut Vec<Alert>) {
        if self.started {
            return;
        }
        self.started = true;
        self.feed.start(&mut AlertList(out));
    }

    /// Before the first input is fed: the device's recorded contact and link changes when it sent any,
    /// otherwise the assumed ones, whose first is the link up at time 0 (nothing was fed, so it is time 0).
    fn decide_signals(&mut self, recorded: bool, out: &mut Vec<Alert>) {
        if self.signals != Signals::Undecided {
            return;
        }
        if recorded {
            self.signals = Signals::Recorded;
        } else {
            self.signals = Signals::Assumed { contact_sent: false };
            self.feed
                .event(EventKind::Link { connected: true }, &mut AlertList(out));
        }
    }

    /// Feeds the live model's gaps, contact and link changes and notifications up to `horizon` (session
    /// ms), in the order the source sent them.
    fn feed_live(&mut self, horizon: f64, out: &mut Vec<Alert>) {
        self.start(out);
        loop {
            let Some(SourceModel::Live(live)) = &mut self.model else {
                return;
            };
            let Some(step) = live.next_step(horizon) else {
                return;
            };
            let recorded = live.last_signals.is_some();
            self.decide_signals(recorded, out);
            match step {
                LiveStep::Gap(gap) => {
                    let out = &mut AlertList(out);
                    self.feed.advance(gap.to_ms as i64, out);
                    self.feed.gap(out);
                }
                LiveStep::Signal(change) => self.signal(change, out),
                LiveStep::Notification(sample, rr) => {
                    let bpm = Some(sample.bpm).filter(|bpm| *bpm > 0.0);
                    self.notification(sample.t_ms, bpm, &rr, out);
                }
            }
        }
    }

    /// The strap's contact or link changed, as the device's detector was told.
    fn signal(&mut self, change: SignalChange, out: &mut Vec<Alert>) {
        let event = match change.signal {
            Signal::Contact => EventKind::Contact { detected: change.up },
            Signal::Link => EventKind::Link { connected: change.up },
            Signal::Unknown => return,
        };
        let out = &mut AlertList(out);
        self.feed.advance(change.t_ms as i64, out);
        self.feed.event(event, out);
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
        self.decide_signals(false, out);
        let out = &mut AlertList(out);
        let at = at_ms as i64;
        self.feed.advance(at, out);
        if self.signals.first_contact() {
            // The emitter reports the first notification's contact as a change, before the sample.
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
    signals: &mut Signals,
    out: &mut Vec<Alert>,
) {
    let out = &mut AlertList(out);
    let at_ms = replay.sample_at_ms;
    let rr = std::mem::take(&mut replay.sample_rr);
    replay.sample_at_ms += SAMPLE_MS;
    let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
    if signals.first_contact() {
        // The emitter reports the first sample's contact as a change, before the sample.
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
        // By end, then start: a device stores gaps by start, and two can end at one moment (contact back on
        // a new link) or one can lie within another (a link lost while contact was lost). The emitter sends
        // each gap at its end and a push relays only the gaps the stored batch lacked (`push::apply`), so a
        // new gap never ends before the last end taken; but two ending at one moment come in the emitter's
        // order — on a new link (4000, 9000) before contact's (1000, 9000) — and may be split across
        // messages. So a gap is a repeat when it ends before the last end taken, or at it with a start
        // already taken there.
        let mut gaps: Vec<Gap> = inputs
            .gaps
            .iter()
            .filter(|g| g.from_ms.is_finite() && g.to_ms.is_finite())
            .copied()
            .collect();
        gaps.sort_by(|a, b| a.to_ms.total_cmp(&b.to_ms).then(a.from_ms.total_cmp(&b.from_ms)));
        for gap in gaps {
            self.take_gap(gap);
        }
        for change in &inputs.signals {
            self.take_signal(*change);
        }
        if inputs.end_ms.is_some() {
            self.end_ms = inputs.end_ms;
        }
    }

    /// Takes one gap unless it is a repeat (see `take_inputs`). One ending where gaps waiting to be fed end
    /// goes among them by start.
    fn take_gap(&mut self, gap: Gap) {
        if !admit(&mut self.last_gaps, gap.to_ms, gap.from_ms) {
            return;
        }
        let at = self
            .gaps
            .iter()
            .position(|g| (g.to_ms, g.from_ms) > (gap.to_ms, gap.from_ms))
            .unwrap_or(self.gaps.len());
        self.gaps.insert(at, gap);
    }

    /// Takes one contact or link change unless it is at or before the last one taken (one of another
    /// signal at the same moment is new). A push's changes are in time order (the push refuses others) and
    /// a push relays only those the stored batch lacked, so an earlier one is a repeat.
    fn take_signal(&mut self, change: SignalChange) {
        if !change.t_ms.is_finite() {
            return;
        }
        if !admit(&mut self.last_signals, change.t_ms, change.signal) {
            return;
        }
        self.signals.push_back(change);
    }

    fn take_beats(&mut self, beats: impl Iterator<Item = (f64, f64)>) {
        for (t, rr) in beats {
            if self.last_beat_ms.is_none_or(|last| t > last) && rr.is_finite() && rr > 0.0 {
                self.first_beat_ms.get_or_insert(t);
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

    /// The next gap, contact or link change or notification at or before `horizon`. One moment's go in the
    /// order the strap's emitter sends them: gaps (a link lost, a notification missing), the changes, the
    /// gap of contact coming back, the notification.
    fn next_step(&mut self, horizon: f64) -> Option<LiveStep> {
        let gap_at = self.gaps.front().map(|g| g.to_ms);
        let signal_at = self.signals.front().map(|c| c.t_ms);
        let sample_at = self.samples.front().map(|s| s.t_ms);
        let at = [gap_at, signal_at, sample_at]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
        if at > horizon || at == f64::INFINITY {
            return None;
        }
        let gap_now = gap_at == Some(at);
        let signal_now = signal_at == Some(at);
        if gap_now && !(signal_now && self.contact_back_at(at)) {
            return self.gaps.pop_front().map(LiveStep::Gap);
        }
        if signal_now {
            let change = self.signals.pop_front()?;
            if change.signal == Signal::Contact {
                self.contact_up = Some(change.up);
            }
            return Some(LiveStep::Signal(change));
        }
        if gap_now {
            return self.gaps.pop_front().map(LiveStep::Gap);
        }
        let sample = self.samples.pop_front()?;
        let rr = self.take_until(sample.t_ms);
        Some(LiveStep::Notification(sample, rr))
    }

    /// Whether the gap left ending at `at` is the one the emitter sends after contact comes back at `at`:
    /// contact was lost and a change at `at` brings it back, and no other gap ends there (one that does —
    /// the link lost meanwhile — went before the change).
    fn contact_back_at(&self, at: f64) -> bool {
        let gaps_here = self.gaps.iter().take_while(|g| g.to_ms == at).count();
        gaps_here == 1
            && self.contact_up == Some(false)
            && self
                .signals
                .iter()
                .take_while(|c| c.t_ms == at)
                .any(|c| c.signal == Signal::Contact && c.up)
    }

    /// The intervals of the beats up to `at_ms`, taken out.
    fn take_until(&mut self, at_ms: f64) -> Vec<f64> {
        let n = self.beats.iter().take_while(|(t, _)| *t <= at_ms).count();
        self.beats.drain(..n).map(|(_, rr)| rr).collect()
    }
}

/// The repeat rule of gaps and contact/link changes: `last` is the latest time taken and the keys taken at
/// it. An entry before that time, or at it with a key already taken, is a repeat (false); anything else is
/// new, and recorded.
fn admit<K: PartialEq>(last: &mut Option<(f64, Vec<K>)>, t: f64, key: K) -> bool {
    match last {
        Some((at, keys)) if t == *at => {
            if keys.contains(&key) {
                return false;
            }
            keys.push(key);
        }
        Some((at, _)) if t < *at => return false,
        _ => *last = Some((t, vec![key])),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{LiveInputs, LiveModel, LiveStep};
    use auren_protocol::change::{Gap, HrSample, Signal, SignalChange};

    /// What a step is, as `(kind, time)`: "gap" (its end), "contact+"/"contact-"/"link+"/"link-", "sample".
    fn name(step: &LiveStep) -> (String, f64) {
        match step {
            LiveStep::Gap(g) => ("gap".to_owned(), g.to_ms),
            LiveStep::Signal(c) => {
                let signal = match c.signal {
                    Signal::Contact => "contact",
                    Signal::Link => "link",
                    Signal::Unknown => "unknown",
                };
                (format!("{signal}{}", if c.up { "+" } else { "-" }), c.t_ms)
            }
            LiveStep::Notification(s, _) => ("sample".to_owned(), s.t_ms),
        }
    }

    fn change(t_ms: f64, signal: Signal, up: bool) -> SignalChange {
        SignalChange { t_ms, signal, up }
    }

    fn gap(from_ms: f64, to_ms: f64) -> Gap {
        Gap { from_ms, to_ms }
    }

    /// One moment's inputs come out in the order the strap's emitter sends them, however they were stored:
    /// gaps of a lost link or a missing notification, then the changes, then the gap of contact coming back,
    /// then the notification.
    #[test]
    fn one_moments_inputs_go_in_the_emitters_order() {
        use Signal::{Contact, Link};
        let sample = |t_ms| HrSample { t_ms, bpm: 70.0 };
        // What happens, the gaps as stored (by start), the changes, the samples' times, the steps.
        type Case = (
            &'static str,
            Vec<Gap>,
            Vec<SignalChange>,
            Vec<f64>,
            Vec<&'static str>,
        );
        let cases: [Case; 5] = [
            (
                "contact comes back",
                vec![gap(1_000.0, 9_000.0)],
                vec![change(2_000.0, Contact, false), change(9_000.0, Contact, true)],
                vec![9_000.0],
                vec!["contact-", "contact+", "gap", "sample"],
            ),
            (
                "contact comes back on a new link: the link's gap first",
                vec![gap(1_000.0, 9_000.0), gap(4_000.0, 9_000.0)],
                vec![
                    change(2_000.0, Contact, false),
                    change(4_000.0, Link, false),
                    change(8_000.0, Link, true),
                    change(9_000.0, Contact, true),
                ],
                vec![9_000.0],
                vec!["contact-", "link-", "link+", "gap", "contact+", "gap", "sample"],
            ),
            (
                "a missing notification, then contact lost",
                vec![gap(7_000.0, 9_000.0)],
                vec![change(9_000.0, Contact, false)],
                vec![9_000.0],
                vec!["gap", "contact-", "sample"],
            ),
            (
                "the link lost while contact was lost, contact back later",
                vec![gap(1_000.0, 12_000.0), gap(4_000.0, 9_000.0)],
                vec![
                    change(2_000.0, Contact, false),
                    change(4_000.0, Link, false),
                    change(8_000.0, Link, true),
                    change(12_000.0, Contact, true),
                ],
                vec![12_000.0],
                vec!["contact-", "link-", "link+", "gap", "contact+", "gap", "sample"],
            ),
            (
                "a link up with contact on: nothing to wait for",
                vec![gap(7_000.0, 9_000.0)],
                vec![change(0.0, Contact, true), change(9_000.0, Link, true)],
                vec![9_000.0],
                vec!["contact+", "gap", "link+", "sample"],
            ),
        ];
        for (what, gaps, signals, samples, expected) in cases {
            let mut live = LiveModel::default();
            live.take_inputs(&LiveInputs {
                hr: samples.into_iter().map(sample).collect(),
                gaps,
                signals,
                end_ms: None,
            });
            let mut got = Vec::new();
            while let Some(step) = live.next_step(f64::INFINITY) {
                got.push(name(&step));
            }
            let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(kinds, expected, "{what}: {got:?}");
        }
    }

    /// Gaps across messages: a repeat (one taken before) is dropped, but a second gap ending where the last
    /// one taken ends is new, whichever start sorts first — on a new link the emitter sends the link's gap
    /// (4000, 9000) before contact's (1000, 9000).
    #[test]
    fn a_gap_is_a_repeat_only_when_taken_before() {
        // The messages' gaps, then the gaps kept as (from, to).
        type Case = (&'static str, Vec<Vec<Gap>>, Vec<(f64, f64)>);
        let cases: [Case; 4] = [
            (
                "two gaps of one end, the later start first",
                vec![vec![gap(4_000.0, 9_000.0)], vec![gap(1_000.0, 9_000.0)]],
                vec![(1_000.0, 9_000.0), (4_000.0, 9_000.0)],
            ),
            (
                "a message read again",
                vec![
                    vec![gap(4_000.0, 9_000.0)],
                    vec![gap(4_000.0, 9_000.0), gap(1_000.0, 9_000.0)],
                    vec![gap(1_000.0, 9_000.0), gap(4_000.0, 9_000.0)],
                ],
                vec![(1_000.0, 9_000.0), (4_000.0, 9_000.0)],
            ),
            (
                "a gap ending before the last end taken",
                vec![vec![gap(4_000.0, 9_000.0)], vec![gap(1_000.0, 3_000.0)]],
                vec![(4_000.0, 9_000.0)],
            ),
            (
                "a later end",
                vec![vec![gap(4_000.0, 9_000.0)], vec![gap(9_500.0, 12_000.0)]],
                vec![(4_000.0, 9_000.0), (9_500.0, 12_000.0)],
            ),
        ];
        for (what, messages, expected) in cases {
            let mut live = LiveModel::default();
            for gaps in messages {
                live.take_inputs(&LiveInputs {
                    gaps,
                    ..LiveInputs::default()
                });
            }
            let got: Vec<(f64, f64)> = live.gaps.iter().map(|g| (g.from_ms, g.to_ms)).collect();
            assert_eq!(got, expected, "{what}");
        }
    }
}
