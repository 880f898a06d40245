//! The one live connection the app holds at a time: a monitored source (heart rate and beats stream, nothing
//! is stored) or a recording (a training/rest session or the guided morning reading). This file starts,
//! re-attaches, tags and stops recordings and forwards updates to the UI, merged to at most one per frame; `monitor` holds the
//! monitoring commands.

use auren_clock::now_unix_ms;
use auren_engine::dto::{LiveUpdateDto, SessionKindDto, SessionSummaryDto};
use auren_engine::{
    LiveMonitor, LiveSession, RecordConfig, SessionConfig, SessionEnd, SessionSummary, StrapIdentity,
    morning, start_session,
};
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Mutex, broadcast, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::desktop::Desktop;
use crate::dto::{LiveStartedDto, MonitorDto, SourceChoiceDto};
use crate::error::DesktopError;
use crate::sources;

/// Receives every update of a live connection; returns false once nobody listens any more (the window
/// was reloaded), which ends the forwarding but not the connection.
pub type UpdateSink = Box<dyn FnMut(LiveUpdateDto) -> bool + Send>;

/// Where a connection's updates go; swapped when a window (re-)attaches or a recording starts on a
/// monitored source, so one window gets one stream.
pub(crate) type SinkSlot = Arc<StdMutex<UpdateSink>>;

/// One connection to a source, from monitoring through a recording.
pub(crate) struct Connection {
    /// Tells this connection from the next one on the same source (the forwarder cleans up only its own).
    pub(crate) id: u64,
    pub(crate) choice: SourceChoiceDto,
    pub(crate) sink: SinkSlot,
    /// Cancels the source and the task (the morning reading's stop, the app quitting).
    pub(crate) cancel: CancellationToken,
}

/// A recording.
pub(crate) struct Running {
    pub(crate) session: LiveSession,
    pub(crate) info: LiveStartedDto,
    /// A morning reading is finished by the command waiting for it, not by `stop`'s caller alone.
    pub(crate) morning: bool,
    pub(crate) connection: Connection,
}

/// A monitored source: updates flow, nothing is stored.
pub(crate) struct Monitoring {
    pub(crate) monitor: LiveMonitor,
    pub(crate) info: MonitorDto,
    pub(crate) connection: Connection,
}

/// What the live slot holds.
pub(crate) enum Live {
    Monitoring(Monitoring),
    Recording(Running),
}

/// The slot holding the live connection, shared with the forwarding task.
pub(crate) type Slot = Arc<Mutex<Option<Live>>>;

impl Desktop {
    /// Starts a recording of `kind` on `choice` on a new connection (`morning`: the guided reading, which
    /// stops by itself after [`morning::MORNING_READING_MS`]); `done` is told when its updates end.
    pub(crate) async fn begin(
        &self,
        choice: &SourceChoiceDto,
        kind: SessionKindDto,
        sink: UpdateSink,
        done: Option<oneshot::Sender<()>>,
    ) -> Result<LiveStartedDto, DesktopError> {
        let mut slot = self.live.lock().await;
        if let Some(Live::Recording(running)) = slot.as_ref() {
            return Err(DesktopError::SessionRunning(running.info.session_id));
        }
        if let Some(Live::Monitoring(monitoring)) = slot.take() {
            log_monitor_end(monitoring.monitor.stop().await);
        }
        let store = self.store().await;
        let now = now_unix_ms();
        let (rules, baselines) = self.rules_and_baselines(&store, now).await?;
        // A new seed per connection: two simulated sessions are two different (reproducible) hearts.
        let seed = u64::try_from(now).unwrap_or(0);
        let (source, simulated) = sources::open(choice, seed)?;
        let label = sources::label(choice);
        let morning = kind == SessionKindDto::Morning;
        let mut config = SessionConfig::new(kind.into(), now, rules, baselines);
        config.max_duration_ms = morning.then_some(morning::MORNING_READING_MS);
        config.source_label = Some(label.clone());
        config.strap = strap_of(choice);
        let connection = self.connection(choice, Arc::new(StdMutex::new(sink)));
        let mut session = start_session(&store, source, config, connection.cancel.clone()).await?;
        let info = LiveStartedDto {
            session_id: session.session_id(),
            source_label: label,
            simulated,
            kind,
            started_at_unix_ms: now,
        };
        let fresh = session.subscribe();
        let updates = std::mem::replace(&mut session.updates, fresh);
        forward(
            updates,
            connection.sink.clone(),
            self.live.clone(),
            connection.id,
            done,
        );
        *slot = Some(Live::Recording(self.recording(
            session,
            info.clone(),
            morning,
            connection,
        )));
        Ok(info)
    }

    /// The slot's value for a started recording (a strap's last use is remembered).
    fn recording(
        &self,
        session: LiveSession,
        info: LiveStartedDto,
        morning: bool,
        connection: Connection,
    ) -> Running {
        if let SourceChoiceDto::Strap { address, .. } = &connection.choice
            && let Err(error) = self.strap_used(address, info.started_at_unix_ms)
        {
            // The recording runs either way; only the remembered list's order is stale.
            tracing::warn!(%error, "could not note the strap's last use");
        }
        tracing::info!(session_id = info.session_id, source = %info.source_label, "session started");
        Running {
            session,
            info,
            morning,
            connection,
        }
    }

    /// A new connection's identity, cancelled with the app.
    pub(crate) fn connection(&self, choice: &SourceChoiceDto, sink: SinkSlot) -> Connection {
        Connection {
            id: self.next_connection.fetch_add(1, Ordering::Relaxed),
            choice: choice.clone(),
            sink,
            cancel: self.shutdown.child_token(),
        }
    }

    /// Records on `choice`: on the monitored connection when it is that source (the beats from now on are
    /// stored), else on a new one.
    pub async fn start_live(
        &self,
        choice: SourceChoiceDto,
        kind: SessionKindDto,
        sink: UpdateSink,
    ) -> Result<LiveStartedDto, DesktopError> {
        if kind == SessionKindDto::Morning {
            // The morning reading is judged and stored as the day's reading: only start_morning does that.
            return Err(DesktopError::InvalidInput(
                "a morning reading is started from the Morning view".into(),
            ));
        }
        let mut slot = self.live.lock().await;
        let monitoring = match slot.take() {
            Some(Live::Monitoring(m)) if m.connection.choice == choice => m,
            other => {
                *slot = other;
                drop(slot);
                return self.begin(&choice, kind, sink, None).await;
            }
        };
        let now = now_unix_ms();
        let record = RecordConfig {
            kind: kind.into(),
            started_at_unix_ms: now,
            label: None,
            max_duration_ms: None,
        };
        let session = monitoring.monitor.record(record).await?;
        replace_sink(&monitoring.connection.sink, sink);
        let info = LiveStartedDto {
            session_id: session.session_id(),
            source_label: monitoring.info.source_label,
            simulated: monitoring.info.simulated,
            kind,
            started_at_unix_ms: now,
        };
        *slot = Some(Live::Recording(self.recording(
            session,
            info.clone(),
            false,
            monitoring.connection,
        )));
        Ok(info)
    }

    /// Sends the running recording's updates to `sink` from now on (a reloaded window re-attaching).
    pub async fn watch_live(&self, sink: UpdateSink) -> Result<LiveStartedDto, DesktopError> {
        let slot = self.live.lock().await;
        let Some(Live::Recording(running)) = slot.as_ref() else {
            return Err(DesktopError::NoLiveSession);
        };
        replace_sink(&running.connection.sink, sink);
        Ok(running.info.clone())
    }

    /// The recording that is running, if any (monitoring is not a session).
    pub async fn live_status(&self) -> Option<LiveStartedDto> {
        match self.live.lock().await.as_ref() {
            Some(Live::Recording(running)) => Some(running.info.clone()),
            _ => None,
        }
    }

    /// Stops the recording and stores it; a training session's source goes back to being monitored on
    /// the same connection.
    pub async fn stop_live(&self) -> Result<SessionSummaryDto, DesktopError> {
        let running = {
            let mut slot = self.live.lock().await;
            match slot.take() {
                Some(Live::Recording(running)) => running,
                other => {
                    *slot = other;
                    return Err(DesktopError::NoLiveSession);
                }
            }
        };
        let id = running.info.session_id;
        let started_at = running.info.started_at_unix_ms;
        if running.morning {
            // The waiting morning command finds the slot empty and reports the reading as incomplete.
            running.connection.cancel.cancel();
            log_end(running.session.finish().await);
            return self.session_summary(id).await;
        }
        let monitor = MonitorDto {
            source_label: running.info.source_label,
            simulated: running.info.simulated,
        };
        let connection = running.connection;
        match running.session.stop_recording().await {
            Ok((summary, monitor_handle)) => {
                log_end(Ok(summary));
                self.keep_monitoring(monitor_handle, monitor, connection).await;
                self.after_session(id, started_at, false).await;
            }
            Err(error) => {
                // The connection ended with the recording: monitor the source on a new one.
                log_end(Err(error));
                self.resume_monitoring(connection.choice, connection.sink).await;
            }
        }
        self.session_summary(id).await
    }

    /// The connection a stopped recording leaves behind, monitored into the same window. Its forwarder
    /// ends with the recording's last update, so a new one (under a new connection id, which the old
    /// one's clean-up does not match) takes the updates from here.
    async fn keep_monitoring(&self, monitor: LiveMonitor, info: MonitorDto, connection: Connection) {
        let connection = Connection {
            id: self.next_connection.fetch_add(1, Ordering::Relaxed),
            ..connection
        };
        forward(
            monitor.subscribe(),
            connection.sink.clone(),
            self.live.clone(),
            connection.id,
            None,
        );
        let mut slot = self.live.lock().await;
        if slot.is_some() || self.shutdown.is_cancelled() {
            drop(slot);
            log_monitor_end(monitor.stop().await);
            return;
        }
        *slot = Some(Live::Monitoring(Monitoring {
            monitor,
            info,
            connection,
        }));
    }

    pub async fn tag_live(&self, tag: &str) -> Result<(), DesktopError> {
        let tag = crate::annotations::tag_name(tag)?;
        let slot = self.live.lock().await;
        let Some(Live::Recording(running)) = slot.as_ref() else {
            return Err(DesktopError::NoLiveSession);
        };
        Ok(running.session.tag(tag).await?)
    }
}

/// The strap a recording on `choice` is linked to.
pub(crate) fn strap_of(choice: &SourceChoiceDto) -> Option<StrapIdentity> {
    match choice {
        SourceChoiceDto::Strap { address, name } => Some(StrapIdentity {
            address: address.clone(),
            name: name.clone(),
        }),
        SourceChoiceDto::Simulator { .. } => None,
    }
}

pub(crate) fn replace_sink(slot: &SinkSlot, sink: UpdateSink) {
    // A poisoned lock means a sink panicked mid-update; the new sink replaces it whole.
    match slot.lock() {
        Ok(mut s) => *s = sink,
        Err(poisoned) => *poisoned.into_inner() = sink,
    }
}

/// The shortest wall-clock time between two updates sent to the window: one frame at 30 Hz. A simulated
/// source at speed 60 emits ~75 updates a second; each channel message is a script the web process compiles
/// and keeps heap for, while the window can show at most one state per frame anyway.
const UPDATE_INTERVAL: Duration = Duration::from_millis(33);

/// Forwards `updates` to whatever sink `sinks` holds until the connection ends, at most one message per
/// [`UPDATE_INTERVAL`] (the updates in between are merged into it); then signals `done` and, for a
/// connection that ended by itself (source finished or failed), empties the slot so a new one can start.
pub(crate) fn forward(
    mut updates: broadcast::Receiver<LiveUpdateDto>,
    sinks: SinkSlot,
    slot: Slot,
    connection: u64,
    done: Option<oneshot::Sender<()>>,
) {
    tokio::spawn(async move {
        let mut pending = Pending::default();
        loop {
            let received = match pending.due {
                // Something waits for its frame: take more updates until then.
                Some(due) => tokio::select! {
                    received = updates.recv() => Some(received),
                    () = tokio::time::sleep_until(due) => None,
                },
                None => Some(updates.recv().await),
            };
            match received {
                None => pending.flush(&sinks, connection),
                Some(Ok(update)) => {
                    let ended = update.ended;
                    pending.push(update, &sinks, connection);
                    if ended {
                        pending.flush(&sinks, connection);
                        break;
                    }
                }
                Some(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    tracing::warn!(connection, missed, "live updates dropped: the window fell behind");
                }
                Some(Err(broadcast::error::RecvError::Closed)) => {
                    pending.flush(&sinks, connection);
                    break;
                }
            }
        }
        finish_forwarding(slot, connection, done).await;
    });
}

/// The update waiting for its frame, and when the window may have the next one.
#[derive(Default)]
struct Pending {
    update: Option<LiveUpdateDto>,
    /// When `update` is sent; None while nothing waits.
    due: Option<Instant>,
    /// The earliest time the next update may be sent.
    next_send: Option<Instant>,
}

impl Pending {
    /// Takes `update` in: sent at once when a frame has passed since the last one, else merged into what
    /// waits (an update of another stream sends what waits first, so streams never mix).
    fn push(&mut self, update: LiveUpdateDto, sinks: &SinkSlot, connection: u64) {
        let update = match self.update.take() {
            Some(mut waiting) if mergeable(&waiting, &update) => {
                absorb(&mut waiting, update);
                waiting
            }
            Some(waiting) => {
                self.update = Some(waiting);
                self.send(sinks, connection);
                update
            }
            None => update,
        };
        self.update = Some(update);
        let now = Instant::now();
        match self.next_send {
            Some(next) if next > now => self.due = Some(next),
            _ => self.flush(sinks, connection),
        }
    }

    /// Sends what waits, if anything.
    fn flush(&mut self, sinks: &SinkSlot, connection: u64) {
        if self.update.is_some() {
            self.send(sinks, connection);
        }
        self.due = None;
    }

    fn send(&mut self, sinks: &SinkSlot, connection: u64) {
        if let Some(update) = self.update.take() {
            deliver(sinks, update, connection);
            self.next_send = Some(Instant::now() + UPDATE_INTERVAL);
        }
    }
}

/// Whether `later` can ride in one message with `earlier`: not when it belongs to another stream (session
/// id, or beat indices starting again) or `earlier` was the last update.
fn mergeable(earlier: &LiveUpdateDto, later: &LiveUpdateDto) -> bool {
    let restarts = match (earlier.beats.last(), later.beats.first()) {
        (Some(last), Some(first)) => first.index <= last.index,
        _ => false,
    };
    !earlier.ended && earlier.session_id == later.session_id && !restarts
}

/// Merges `later` into `earlier` (see [`mergeable`]) so the one message says what both did: the newest
/// state, every beat, correction and alert of both, and the furthest confirmation.
fn absorb(earlier: &mut LiveUpdateDto, later: LiveUpdateDto) {
    let LiveUpdateDto {
        session_id: _,
        at_ms,
        heart_rate_bpm,
        contact,
        link,
        battery_percent,
        metrics,
        beats,
        confirmed_through,
        corrections,
        alerts,
        beats_total,
        artifacts_total,
        ended,
    } = later;
    earlier.at_ms = at_ms;
    earlier.heart_rate_bpm = heart_rate_bpm;
    earlier.contact = contact;
    earlier.link = link;
    earlier.battery_percent = battery_percent;
    earlier.metrics = metrics;
    earlier.beats.extend(beats);
    earlier.confirmed_through = earlier.confirmed_through.max(confirmed_through);
    earlier.corrections.extend(corrections);
    earlier.alerts.extend(alerts);
    earlier.beats_total = beats_total;
    earlier.artifacts_total = artifacts_total;
    earlier.ended = ended;
}

/// After the last update: signals `done` or, for a connection that ended by itself, empties the slot.
async fn finish_forwarding(slot: Slot, connection: u64, done: Option<oneshot::Sender<()>>) {
    if let Some(done) = done {
        let _ = done.send(());
        return;
    }
    let ended = {
        let mut slot = slot.lock().await;
        match slot.as_ref() {
            // A morning reading is finished by the command waiting for it.
            Some(Live::Recording(r)) if r.connection.id == connection && !r.morning => slot.take(),
            Some(Live::Monitoring(m)) if m.connection.id == connection => slot.take(),
            _ => None,
        }
    };
    match ended {
        Some(Live::Recording(running)) => log_end(running.session.finish().await),
        Some(Live::Monitoring(monitoring)) => log_monitor_end(monitoring.monitor.stop().await),
        None => {}
    }
}

/// Hands `update` to the current sink; a sink nobody listens to any more gets nothing further.
fn deliver(sinks: &SinkSlot, update: LiveUpdateDto, connection: u64) {
    let mut sink = match sinks.lock() {
        Ok(sink) => sink,
        Err(poisoned) => poisoned.into_inner(),
    };
    if !sink(update) {
        tracing::info!(connection, "the window stopped listening to live updates");
        // Nobody to tell: later updates are dropped until a window attaches again.
        *sink = Box::new(|_| true);
    }
}

pub(crate) fn log_end(result: Result<SessionSummary, auren_engine::EngineError>) {
    match result {
        Ok(s) => tracing::info!(
            session_id = s.session_id,
            beats = s.beats,
            artifacts = s.artifacts,
            alerts = s.alerts.len(),
            ended = ?s.ended,
            "session ended"
        ),
        Err(error) => tracing::error!(%error, "session failed"),
    }
}

pub(crate) fn log_monitor_end(result: Result<SessionEnd, auren_engine::EngineError>) {
    match result {
        Ok(ended) => tracing::info!(?ended, "monitoring ended"),
        Err(error) => tracing::error!(%error, "monitoring failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::{absorb, mergeable};
    use auren_engine::dto::{BeatDto, LabelCorrectionDto, LinkDto, LiveMetricsDto, LiveUpdateDto};

    /// An update of `session` at `at_ms` carrying the beats with `indices`, confirmed through `confirmed`.
    fn update(session: Option<i64>, at_ms: i64, indices: &[u64], confirmed: Option<u64>) -> LiveUpdateDto {
        LiveUpdateDto {
            session_id: session,
            at_ms,
            heart_rate_bpm: Some(60 + u16::try_from(at_ms / 1000).unwrap_or(0)),
            contact: Some(true),
            link: LinkDto::Connected,
            battery_percent: Some(90),
            metrics: LiveMetricsDto {
                rmssd_60s: Some(at_ms as f64),
                ..LiveMetricsDto::default()
            },
            beats: indices
                .iter()
                .map(|&index| BeatDto {
                    index,
                    at_ms: index as f64 * 1000.0,
                    rr_ms: 1000.0,
                    artifact: None,
                })
                .collect(),
            confirmed_through: confirmed,
            corrections: confirmed
                .map(|index| LabelCorrectionDto {
                    index,
                    artifact: None,
                })
                .into_iter()
                .collect(),
            alerts: Vec::new(),
            beats_total: indices.last().map_or(0, |i| i + 1),
            artifacts_total: 0,
            ended: false,
        }
    }

    #[test]
    fn later_updates_of_one_stream_merge_and_other_streams_do_not() {
        let ended = LiveUpdateDto {
            ended: true,
            ..update(Some(1), 1000, &[0], None)
        };
        // (earlier, later, merged beat indices or None when refused, confirmed through)
        let cases = [
            (
                update(Some(1), 1000, &[0, 1], None),
                update(Some(1), 2000, &[2], Some(0)),
                Some(vec![0, 1, 2]),
                Some(0),
            ),
            (
                update(None, 1000, &[4], Some(2)),
                update(None, 2000, &[], None),
                Some(vec![4]),
                Some(2),
            ),
            (
                update(None, 1000, &[], Some(2)),
                update(None, 2000, &[5, 6], Some(3)),
                Some(vec![5, 6]),
                Some(3),
            ),
            // Monitoring then the recording on the same connection: two streams.
            (
                update(None, 1000, &[7], None),
                update(Some(1), 0, &[0], None),
                None,
                None,
            ),
            // Indices starting again: a new stream under the same id.
            (
                update(Some(1), 9000, &[9], None),
                update(Some(1), 0, &[0], None),
                None,
                None,
            ),
            // Nothing follows the last update.
            (ended, update(Some(1), 2000, &[1], None), None, None),
        ];
        for (mut earlier, later, want, confirmed) in cases {
            let before = earlier.clone();
            let Some(want) = want else {
                assert!(!mergeable(&earlier, &later), "{earlier:?} and {later:?} merged");
                continue;
            };
            assert!(
                mergeable(&earlier, &later),
                "{earlier:?} and {later:?} kept apart"
            );
            absorb(&mut earlier, later.clone());
            let indices: Vec<u64> = earlier.beats.iter().map(|b| b.index).collect();
            assert_eq!(indices, want);
            assert_eq!(earlier.confirmed_through, confirmed);
            let corrections: Vec<u64> = before
                .corrections
                .iter()
                .chain(&later.corrections)
                .map(|c| c.index)
                .collect();
            assert_eq!(
                earlier.corrections.iter().map(|c| c.index).collect::<Vec<_>>(),
                corrections
            );
            // The newest state wins.
            assert_eq!(
                (earlier.at_ms, earlier.heart_rate_bpm, earlier.beats_total),
                (later.at_ms, later.heart_rate_bpm, later.beats_total)
            );
            assert_eq!(earlier.metrics, later.metrics);
        }
    }
}
