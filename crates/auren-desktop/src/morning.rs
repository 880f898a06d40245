//! The guided 3-minute morning reading: a live session of fixed length on the chosen source, judged and
//! stored as the day's reading when it completes, then the refresh after new data (hypotheses, milestones,
//! a proactive message for a morning below the range).

use auren_clock::UnixMillis;
use auren_engine::dto::{MorningResultDto, SessionKindDto};
use auren_engine::morning;
use tokio::sync::oneshot;

use crate::desktop::Desktop;
use crate::dto::SourceChoiceDto;
use crate::error::DesktopError;
use crate::live::{Live, UpdateSink};

impl Desktop {
    /// The guided 3-minute reading: resolves when it is done and stored as today's reading.
    pub async fn start_morning(
        &self,
        choice: SourceChoiceDto,
        sink: UpdateSink,
    ) -> Result<MorningResultDto, DesktopError> {
        let (done, ended) = oneshot::channel();
        let info = self
            .begin(&choice, SessionKindDto::Morning, sink, Some(done))
            .await?;
        // Either the reading ends by itself (the forwarder saw the last update) or stop_live took it.
        let _ = ended.await;
        let running = {
            let mut slot = self.live.lock().await;
            match slot.take() {
                Some(Live::Recording(r)) if r.info.session_id == info.session_id => Some(r),
                other => {
                    *slot = other;
                    None
                }
            }
        };
        let Some(running) = running else {
            let reached = self
                .session_summary(info.session_id)
                .await?
                .duration_s
                .unwrap_or(0.0);
            return Err(DesktopError::ReadingIncomplete {
                reached_s: reached as i64,
                needed_s: (morning::MORNING_READING_MS / 1000) as i64,
            });
        };
        let summary = running.session.finish().await?;
        let store = self.store().await;
        let result =
            morning::complete(&store, &summary, UnixMillis(info.started_at_unix_ms).day_number()).await?;
        self.after_session(info.session_id, info.started_at_unix_ms, true)
            .await;
        Ok(result)
    }
}
