//! The coach's proactive messages: once a session is stored, each CNS-fatigue alert it fired and a morning
//! that put the 7-day mean below the normal range get one message from the right specialist
//! (`auren_agents::proactive`), in a conversation of its own — written through the gateway when a provider
//! is configured and the budget allows, else the offline template. The template runs before the stop
//! answers, so the chat list the window loads next already has it; a model's message takes seconds, so it is
//! written in the background and lands in the list when done. A failure is logged and never fails the stop.

use auren_agents::Coach;
use auren_agents::proactive;
use auren_clock::UnixMillis;

use crate::Desktop;

impl Desktop {
    pub(crate) async fn post_proactive(&self, session_id: i64, started_at_unix_ms: i64, morning: bool) {
        let coach = self.coach().await;
        let day = UnixMillis(started_at_unix_ms).day_number();
        if coach.gateway().is_some() {
            tokio::spawn(post(coach, session_id, day, morning));
        } else {
            post(coach, session_id, day, morning).await;
        }
    }
}

async fn post(coach: Coach, session_id: i64, day: i64, morning: bool) {
    match proactive::after_session(&coach, session_id, day, morning).await {
        Ok(posted) => {
            for p in posted {
                tracing::info!(
                    session_id,
                    trigger = p.trigger.key(),
                    conversation = p.conversation.0,
                    "the coach wrote a proactive message"
                );
            }
        }
        Err(error) => tracing::warn!(%error, session_id, "no proactive message for the session"),
    }
}
