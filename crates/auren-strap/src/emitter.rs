//! What every source does with a notification, in one place: decode it, count and report the malformed
//! ones, report contact changes, and turn missing time into explicit gaps.

use auren_hrm::SensorContact;
use tokio::sync::mpsc;

use crate::source::{EndReason, Sample, SourceEvent, SourceSummary};

/// Straps notify once a second; a hole longer than this between two notifications lost at least one.
pub(crate) const MISSING_NOTIFICATION_MS: u64 = 2_500;

/// The consumer dropped its receiver: the source should stop.
#[derive(Debug)]
pub(crate) struct ReceiverGone;

#[derive(Debug)]
pub(crate) struct Emitter {
    tx: mpsc::Sender<SourceEvent>,
    contact: Option<SensorContact>,
    /// Time of the last notification that could carry beats, i.e. the start of a contact-loss gap.
    last_with_contact_ms: Option<u64>,
    contact_lost: bool,
    last_notification_ms: Option<u64>,
    /// Set when the link dropped: the next notification closes a gap from here.
    link_lost_at: Option<u64>,
    samples: u64,
    malformed: u64,
}

impl Emitter {
    pub(crate) fn new(tx: mpsc::Sender<SourceEvent>) -> Self {
        Self {
            tx,
            contact: None,
            last_with_contact_ms: None,
            contact_lost: false,
            last_notification_ms: None,
            link_lost_at: None,
            samples: 0,
            malformed: 0,
        }
    }

    pub(crate) async fn send(&mut self, event: SourceEvent) -> Result<(), ReceiverGone> {
        self.tx.send(event).await.map_err(|_| ReceiverGone)
    }

    /// The link dropped: beats between the last notification and the next one are unknown.
    pub(crate) fn link_lost(&mut self) {
        if self.link_lost_at.is_none() {
            self.link_lost_at = self.last_notification_ms;
        }
    }

    /// Handles one 0x2A37 payload that arrived at `at_ms`.
    pub(crate) async fn notification(&mut self, at_ms: u64, payload: Vec<u8>) -> Result<(), ReceiverGone> {
        match Sample::decode(at_ms, payload.clone()) {
            Ok(sample) => self.sample(sample).await,
            Err(error) => {
                self.malformed += 1;
                tracing::debug!(at_ms, %error, "malformed heart rate notification skipped");
                let total = self.malformed;
                self.send(SourceEvent::Malformed {
                    at_ms,
                    payload,
                    error,
                    total,
                })
                .await
            }
        }
    }

    /// Handles one decoded sample (from a notification, or built from an RR file).
    pub(crate) async fn sample(&mut self, sample: Sample) -> Result<(), ReceiverGone> {
        let at_ms = sample.at_ms;
        let previous = self.last_notification_ms.replace(at_ms);
        if let Some(from_ms) = self.link_lost_at.take() {
            self.send(SourceEvent::Gap {
                from_ms,
                to_ms: at_ms,
            })
            .await?;
        } else if let Some(from_ms) = previous
            && at_ms.saturating_sub(from_ms) > MISSING_NOTIFICATION_MS
            && !self.contact_lost
        {
            self.send(SourceEvent::Gap {
                from_ms,
                to_ms: at_ms,
            })
            .await?;
        }

        if self.contact != Some(sample.contact) {
            self.contact = Some(sample.contact);
            self.send(SourceEvent::ContactChanged {
                at_ms,
                contact: sample.contact,
            })
            .await?;
        }
        if sample.contact == SensorContact::NotDetected {
            self.contact_lost = true;
        } else {
            if self.contact_lost {
                self.contact_lost = false;
                if let Some(from_ms) = self.last_with_contact_ms {
                    self.send(SourceEvent::Gap {
                        from_ms,
                        to_ms: at_ms,
                    })
                    .await?;
                }
            }
            self.last_with_contact_ms = Some(at_ms);
        }

        self.samples += 1;
        self.send(SourceEvent::Sample(sample)).await
    }

    pub(crate) fn summary(&self, ended: EndReason) -> SourceSummary {
        SourceSummary {
            samples: self.samples,
            malformed: self.malformed,
            ended,
        }
    }
}
