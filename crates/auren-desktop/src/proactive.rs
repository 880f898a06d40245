//! After new data landed — a session stopped or imported, a morning completed, a sync round pulled rows —
//! the one refresh of `auren_agents::refresh` runs: hypotheses re-tested, new milestones stored as memories
//! (both local and quick, done before the command answers), and the coach's proactive messages: each
//! CNS-fatigue alert and a morning that put the 7-day mean below the normal range get one message from the
//! right specialist, in a conversation of its own — written through the gateway when a provider is
//! configured and the budget allows, else the offline template. The template runs before the command
//! answers, so the chat list the window loads next already has it; a model's message takes seconds, so it
//! is written in the background. A failure is logged and never fails the command that stored the data.
//!
//! Each stored message is announced on a [`ProactiveFeed`]: the window watches it ([`Desktop::watch_proactive`],
//! a sink the shell wraps in a Tauri `Channel`, as the sync chip's status is), so a message written in the
//! background appears in the conversation list, marked new, without the window polling or reloading.

use auren_agents::Coach;
use auren_agents::proactive::{Posted, Trigger};
use auren_agents::refresh::{self, Arrival};
use serde::{Deserialize, Serialize};
use specta::Type;
use tokio::sync::broadcast;

use crate::chat_dto::SpecialistDto;
use crate::{Desktop, DesktopError};

/// What a proactive message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ProactiveTriggerDto {
    /// A CNS-fatigue alert of a stored session.
    CnsFatigue,
    /// A morning reading that put the 7-day mean below the normal range.
    MorningBelowRange,
}

/// A proactive message just stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ProactiveMessageDto {
    /// The conversation it opened (each proactive message has one of its own).
    pub conversation: i64,
    pub message: i64,
    pub specialist: SpecialistDto,
    pub trigger: ProactiveTriggerDto,
}

impl From<&Posted> for ProactiveMessageDto {
    fn from(p: &Posted) -> Self {
        let trigger = match p.trigger {
            Trigger::CnsFatigue { .. } => ProactiveTriggerDto::CnsFatigue,
            Trigger::MorningBelowRange { .. } => ProactiveTriggerDto::MorningBelowRange,
        };
        Self {
            conversation: p.conversation.0,
            message: p.message.0,
            specialist: crate::chat::specialist_dto(p.trigger.specialist()),
            trigger,
        }
    }
}

/// Where the window's proactive-message notices go (the shell wraps a Tauri Channel); `false` means the
/// window is gone.
pub type ProactiveSink = Box<dyn FnMut(ProactiveMessageDto) -> bool + Send>;

/// Messages a window has not taken yet before it misses some (it then reloads the list on the next one).
const FEED_CAPACITY: usize = 64;

/// The announcements of stored proactive messages, to every watching window.
pub(crate) struct ProactiveFeed(broadcast::Sender<ProactiveMessageDto>);

impl Default for ProactiveFeed {
    fn default() -> Self {
        Self(broadcast::channel(FEED_CAPACITY).0)
    }
}

impl ProactiveFeed {
    /// Where a refresh outside the façade (the sync loop's) announces the messages it posted.
    pub(crate) fn sender(&self) -> broadcast::Sender<ProactiveMessageDto> {
        self.0.clone()
    }
}

impl Desktop {
    /// The refresh after `arrival` landed here (see the module's doc).
    pub(crate) async fn after_new_data(&self, arrival: Arrival) {
        refresh_after(self.coach().await, self.proactive.sender(), arrival).await;
    }

    /// [`Self::after_new_data`] for session `id`, stored as of the day of `at_unix_ms` (a morning reading's
    /// session when `morning`).
    pub(crate) async fn after_session(&self, id: i64, at_unix_ms: i64, morning: bool) {
        let day = auren_clock::UnixMillis(at_unix_ms).day_number();
        self.after_new_data(Arrival::Session { id, day, morning }).await;
    }

    /// Sends each proactive message stored from now on to `sink`, until the window goes or the app quits.
    /// A window that fell more than [`FEED_CAPACITY`] messages behind gets the next one only (the list it
    /// reloads then has the missed ones too).
    pub async fn watch_proactive(&self, mut sink: ProactiveSink) -> Result<(), DesktopError> {
        let mut stored = self.proactive.0.subscribe();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    // Messages already announced are delivered before a quit ends the watch.
                    biased;
                    next = stored.recv() => next,
                    () = shutdown.cancelled() => return,
                };
                match next {
                    Ok(message) => {
                        if !sink(message) {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the window missed proactive-message notices");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Ok(())
    }
}

/// The refresh after `arrival`: the local steps awaited, the proactive messages awaited too when they are
/// templates and in the background when a model writes them.
pub(crate) async fn refresh_after(
    coach: Coach,
    feed: broadcast::Sender<ProactiveMessageDto>,
    arrival: Arrival,
) {
    match refresh::refresh_records(coach.toolbox(), &arrival).await {
        Ok(done) if done.is_empty() => {}
        Ok(done) => tracing::info!(?arrival, summary = done.summary(), "refreshed after new data"),
        Err(error) => tracing::warn!(%error, ?arrival, "the refresh after new data failed"),
    }
    if coach.gateway().is_some() {
        tokio::spawn(post(coach, feed, arrival));
    } else {
        post(coach, feed, arrival).await;
    }
}

async fn post(coach: Coach, feed: broadcast::Sender<ProactiveMessageDto>, arrival: Arrival) {
    match refresh::post_proactive(&coach, &arrival).await {
        Ok(posted) => {
            for p in posted {
                tracing::info!(
                    ?arrival,
                    trigger = p.trigger.key(),
                    conversation = p.conversation.0,
                    "the coach wrote a proactive message"
                );
                // No watching window is not a failure: the list shows it on its next load.
                let _ = feed.send(ProactiveMessageDto::from(&p));
            }
        }
        Err(error) => tracing::warn!(%error, ?arrival, "no proactive message for what arrived"),
    }
}
