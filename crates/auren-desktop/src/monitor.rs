//! Monitoring: once a strap or the simulator is chosen, its heart rate and beats stream to the Live view
//! before anything is stored; "Start session" then records on the same connection (see `live`).

use auren_cep::SessionKind;
use auren_clock::now_unix_ms;
use auren_engine::{SessionConfig, start_monitor};
use std::sync::{Arc, Mutex as StdMutex};

use crate::desktop::Desktop;
use crate::dto::{MonitorDto, SourceChoiceDto};
use crate::error::DesktopError;
use crate::live::{Live, Monitoring, SinkSlot, UpdateSink, forward, log_monitor_end, replace_sink, strap_of};
use crate::sources;

impl Desktop {
    /// Streams `choice`'s updates to `sink` with nothing stored. Monitoring that source already, the
    /// window re-attaches; monitoring another, that one stops first. Refused while a session records.
    pub async fn monitor_live(
        &self,
        choice: SourceChoiceDto,
        sink: UpdateSink,
    ) -> Result<MonitorDto, DesktopError> {
        let mut slot = self.live.lock().await;
        match slot.take() {
            Some(Live::Recording(running)) => {
                let id = running.info.session_id;
                *slot = Some(Live::Recording(running));
                return Err(DesktopError::SessionRunning(id));
            }
            Some(Live::Monitoring(monitoring)) if monitoring.connection.choice == choice => {
                replace_sink(&monitoring.connection.sink, sink);
                let info = monitoring.info.clone();
                *slot = Some(Live::Monitoring(monitoring));
                return Ok(info);
            }
            Some(Live::Monitoring(other)) => log_monitor_end(other.monitor.stop().await),
            None => {}
        }
        let monitoring = self.connect(choice, Arc::new(StdMutex::new(sink))).await?;
        let info = monitoring.info.clone();
        *slot = Some(Live::Monitoring(monitoring));
        Ok(info)
    }

    /// Ends monitoring (the window left the Live view, or no source is chosen). A recording is not
    /// monitoring: it keeps running.
    pub async fn stop_monitor(&self) {
        let mut slot = self.live.lock().await;
        match slot.take() {
            Some(Live::Monitoring(monitoring)) => {
                drop(slot);
                log_monitor_end(monitoring.monitor.stop().await);
            }
            other => *slot = other,
        }
    }

    /// The source being monitored, if any.
    pub async fn monitor_status(&self) -> Option<MonitorDto> {
        match self.live.lock().await.as_ref() {
            Some(Live::Monitoring(monitoring)) => Some(monitoring.info.clone()),
            _ => None,
        }
    }

    /// After a training session stops (which ends its connection): the same source monitored again on a
    /// new connection, its updates to the same window. A failure leaves nothing monitored (logged).
    pub(crate) async fn resume_monitoring(&self, choice: SourceChoiceDto, sink: SinkSlot) {
        let mut slot = self.live.lock().await;
        if slot.is_some() || self.shutdown.is_cancelled() {
            return;
        }
        match self.connect(choice, sink).await {
            Ok(monitoring) => *slot = Some(Live::Monitoring(monitoring)),
            Err(error) => tracing::warn!(%error, "monitoring not resumed after the session"),
        }
    }

    /// Opens `choice` and starts monitoring it on a new connection whose updates go to `sink`.
    async fn connect(&self, choice: SourceChoiceDto, sink: SinkSlot) -> Result<Monitoring, DesktopError> {
        let store = self.store().await;
        let now = now_unix_ms();
        // The rules run while monitoring too; their alerts reach the window with no session id.
        let (rules, baselines) = self.rules_and_baselines(&store, now).await?;
        // A new seed per connection: two simulated sessions are two different (reproducible) hearts.
        let seed = u64::try_from(now).unwrap_or(0);
        let (source, simulated) = sources::open(&choice, seed)?;
        let label = sources::label(&choice);
        // The kind is the recording's, chosen at Start; only the connection's half is used here.
        let mut config = SessionConfig::new(SessionKind::Other, now, rules, baselines);
        config.source_label = Some(label.clone());
        config.strap = strap_of(&choice);
        let (monitor_config, _) = config.split();
        let connection = self.connection(&choice, sink);
        let mut monitor = start_monitor(&store, source, monitor_config, connection.cancel.clone()).await?;
        let fresh = monitor.subscribe();
        let updates = std::mem::replace(&mut monitor.updates, fresh);
        forward(
            updates,
            connection.sink.clone(),
            self.live.clone(),
            connection.id,
            None,
        );
        tracing::info!(source = %label, connection = connection.id, "monitoring");
        Ok(Monitoring {
            monitor,
            info: MonitorDto {
                source_label: label,
                simulated,
            },
            connection,
        })
    }
}
