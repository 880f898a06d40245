//! The one live session the app runs at a time (a training/rest session or the guided morning reading):
//! its source, the forwarding of throttled updates to the UI, stopping and tagging.

use auren_engine::dto::LiveUpdateDto;
use auren_engine::{LiveSession, SessionSummary};
use auren_strap::HeartSource;
use auren_strap::ble::{BleConfig, BleStrap};
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{Pace, Speed};
use std::sync::Arc;
use tokio::sync::{Mutex, broadcast, oneshot};
use tokio_util::sync::CancellationToken;

use crate::dto::{LiveStartedDto, ScenarioDto, SourceChoiceDto};
use crate::error::DesktopError;

/// Fastest simulator speed offered: an hour of beats in a minute.
pub const MAX_SIMULATOR_SPEED: f64 = 60.0;

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

/// A heart source for `choice`, and whether it is the simulator.
pub(crate) fn source(
    choice: &SourceChoiceDto,
    seed: u64,
) -> Result<(Box<dyn HeartSource>, bool), DesktopError> {
    match choice {
        SourceChoiceDto::Strap { address, .. } => {
            let strap = BleStrap::new(BleConfig::new(address.clone()))?;
            Ok((Box::new(strap), false))
        }
        SourceChoiceDto::Simulator { scenario, speed } => {
            if !(1.0..=MAX_SIMULATOR_SPEED).contains(speed) {
                return Err(DesktopError::InvalidInput(format!(
                    "simulator speed {speed} is outside 1–{MAX_SIMULATOR_SPEED}"
                )));
            }
            let mut config = SimulatorConfig::new(scenario_of(*scenario), seed);
            config.pace = if *speed == 1.0 {
                Pace::RealTime
            } else {
                Pace::Speed(Speed::new(*speed).map_err(|e| DesktopError::InvalidInput(e.to_string()))?)
            };
            let simulator = Simulator::new(config).map_err(|e| DesktopError::InvalidInput(e.to_string()))?;
            Ok((Box::new(simulator), true))
        }
    }
}

fn scenario_of(s: ScenarioDto) -> Scenario {
    match s {
        ScenarioDto::Rest => Scenario::Rest,
        ScenarioDto::Fatigued => Scenario::Fatigued,
        ScenarioDto::Exercise => Scenario::Exercise,
        ScenarioDto::Breathing => Scenario::Breathing,
    }
}

/// What the session list and the live header show as the source: the simulator is always called
/// "Simulated strap", so its data is never mistaken for a real heart's.
pub(crate) fn source_label(choice: &SourceChoiceDto) -> String {
    match choice {
        SourceChoiceDto::Strap { address, name } => format!("strap {name} ({address})"),
        SourceChoiceDto::Simulator { scenario, speed } => {
            let scenario = scenario_of(*scenario);
            if *speed == 1.0 {
                format!("Simulated strap — {scenario}")
            } else {
                format!("Simulated strap — {scenario}, {speed}× speed")
            }
        }
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
