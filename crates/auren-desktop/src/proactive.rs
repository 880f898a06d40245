//! The coach's proactive messages: once a session is stored, each CNS-fatigue alert it fired and a morning
//! that put the 7-day mean below the normal range get one message from the right specialist
//! (`auren_agents::proactive`), in a conversation of its own. It runs before the stop answers, so the chat
//! list the window loads next already has it; a failure is logged and never fails the stop.

use std::sync::Arc;

use auren_agents::Toolbox;
use auren_agents::proactive;
use auren_clock::UnixMillis;
use auren_gateway::SystemClock;

use crate::Desktop;

impl Desktop {
    pub(crate) async fn post_proactive(&self, session_id: i64, started_at_unix_ms: i64, morning: bool) {
        let toolbox = Toolbox::new(self.store().await, Arc::new(SystemClock));
        let day = UnixMillis(started_at_unix_ms).day_number();
        match proactive::after_session(&toolbox, session_id, day, morning).await {
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
}
