//! The one live session the app runs at a time (a training/rest session or the guided morning reading):
//! starting it on a source, forwarding its throttled updates to the UI, re-attaching, tagging, stopping.

use auren_clock::now_unix_ms;
use auren_engine::dto::{LiveUpdateDto, SessionKindDto, SessionSummaryDto};
use auren_engine::{LiveSession, SessionConfig, SessionSummary, StrapIdentity, morning, start_session};
use std::sync::Arc;
use tokio::sync::{Mutex, broadcast, oneshot};
use tokio_util::sync::CancellationToken;

use crate::desktop::Desktop;
use crate::dto::{LiveStartedDto, SourceChoiceDto};
use crate::error::DesktopError;
use crate::sources;

/// Receives every update of a live session; returns false once nobody listens any more (the window
/// was reloaded), which ends the forwarding but not the session.
pub type UpdateSink = Box<dyn FnMut(LiveUpdateDto) -> bool + Send>;

/// The running session.
pub(crate) struct Running {
    pub(crate) session: LiveSession,
    pub(crate) info: LiveStartedDto,
    /// Cancels the session's source and task (the morning reading's stop).
    pub(crate) cancel: CancellationToken,
    /// A morning reading is finished by the command waiting for it, not by `stop`'s caller alone.
    pub(crate) morning: bool,
}

/// The slot holding the running session, shared with the forwarding task.
pub(crate) type Slot = Arc<Mutex<Option<Running>>>;

impl Desktop {
    /// Starts a session of `kind` on `choice` (`morning`: the guided reading, which stops by itself
    /// after [`morning::MORNING_READING_MS`]); `done` is told when its updates end.
    pub(crate) async fn begin(
        &self,
        choice: &SourceChoiceDto,
        kind: SessionKindDto,
        sink: UpdateSink,
        done: Option<oneshot::Sender<()>>,
    ) -> Result<LiveStartedDto, DesktopError> {
        let mut slot = self.live.lock().await;
        if let Some(running) = slot.as_ref() {
            return Err(DesktopError::SessionRunning(running.info.session_id));
        }
        let store = self.store().await;
        let now = now_unix_ms();
        let (rules, baselines) = self.rules_and_baselines(&store, now).await?;
        // A new seed per session: two simulated sessions are two different (reproducible) hearts.
        let seed = u64::try_from(now).unwrap_or(0);
        let (source, simulated) = sources::open(choice, seed)?;
        let label = sources::label(choice);
        let morning = kind == SessionKindDto::Morning;
        let mut config = SessionConfig::new(kind.into(), now, rules, baselines);
        config.max_duration_ms = morning.then_some(morning::MORNING_READING_MS);
        config.source_label = Some(label.clone());
        if let SourceChoiceDto::Strap { address, name } = choice {
            config.strap = Some(StrapIdentity {
                address: address.clone(),
                name: name.clone(),
            });
        }
        let cancel = self.shutdown.child_token();
        let mut session = start_session(&store, source, config, cancel.clone()).await?;
        let info = LiveStartedDto {
            session_id: session.session_id(),
            source_label: label,
            simulated,
            kind,
            started_at_unix_ms: now,
        };
        let fresh = session.subscribe();
        let updates = std::mem::replace(&mut session.updates, fresh);
        forward(updates, sink, self.live.clone(), info.session_id, done);
        if let SourceChoiceDto::Strap { address, .. } = choice {
            self.strap_used(address, now)?;
        }
        tracing::info!(session_id = info.session_id, source = %info.source_label, "session started");
        *slot = Some(Running {
            session,
            info: info.clone(),
            cancel,
            morning,
        });
        Ok(info)
    }

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
        self.begin(&choice, kind, sink, None).await
    }

    /// Sends the running session's updates to `sink` from now on (a reloaded window re-attaching).
    pub async fn watch_live(&self, sink: UpdateSink) -> Result<LiveStartedDto, DesktopError> {
        let slot = self.live.lock().await;
        let running = slot.as_ref().ok_or(DesktopError::NoLiveSession)?;
        forward(
            running.session.subscribe(),
            sink,
            self.live.clone(),
            running.info.session_id,
            None,
        );
        Ok(running.info.clone())
    }

    pub async fn live_status(&self) -> Option<LiveStartedDto> {
        self.live.lock().await.as_ref().map(|r| r.info.clone())
    }

    pub async fn stop_live(&self) -> Result<SessionSummaryDto, DesktopError> {
        let running = self.live.lock().await.take().ok_or(DesktopError::NoLiveSession)?;
        let id = running.info.session_id;
        running.cancel.cancel();
        if !running.morning {
            log_end(running.session.stop().await);
        } else {
            // The waiting morning command finds the slot empty and reports the reading as incomplete.
            log_end(running.session.finish().await);
        }
        self.session_summary(id).await
    }

    pub async fn tag_live(&self, tag: &str) -> Result<(), DesktopError> {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > 64 {
            return Err(DesktopError::InvalidInput("a tag has 1–64 characters".into()));
        }
        let slot = self.live.lock().await;
        let running = slot.as_ref().ok_or(DesktopError::NoLiveSession)?;
        Ok(running.session.tag(tag).await?)
    }
}

/// Forwards `updates` to `sink` until the session ends; then signals `done` and, for a session that ended
/// by itself (source finished or failed), empties the slot so a new one can start.
pub(crate) fn forward(
    mut updates: broadcast::Receiver<LiveUpdateDto>,
    mut sink: UpdateSink,
    slot: Slot,
    session_id: i64,
    done: Option<oneshot::Sender<()>>,
) {
    tokio::spawn(async move {
        let mut listening = true;
        loop {
            match updates.recv().await {
                Ok(update) => {
                    let ended = update.ended;
                    if listening && !sink(update) {
                        tracing::info!(session_id, "the window stopped listening to live updates");
                        listening = false;
                    }
                    if ended {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(session_id, missed, "live updates dropped: the window fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
            return;
        }
        let finished = {
            let mut slot = slot.lock().await;
            match slot.as_ref() {
                // A morning reading is finished by the command waiting for it.
                Some(running) if running.info.session_id == session_id && !running.morning => slot.take(),
                _ => None,
            }
        };
        if let Some(running) = finished {
            log_end(running.session.finish().await);
        }
    });
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
