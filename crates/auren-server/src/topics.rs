//! The payloads the server outbox carries to Kafka: one JSON document per message on `auren.beats`,
//! `auren.sessions` and `auren.alerts`, keyed by the user's id so one user's messages stay in one partition
//! (and in order for the server-side CEP consumer).
//!
//! These are server-internal (producer and consumer are both this crate), so they live here rather than in
//! `auren-protocol`, which is the desktop ↔ server boundary.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The topic of beat chunks.
pub const BEATS_TOPIC: &str = "auren.beats";
/// The topic of session records.
pub const SESSIONS_TOPIC: &str = "auren.sessions";
/// The topic of alerts (device- and server-made).
pub const ALERTS_TOPIC: &str = "auren.alerts";
/// Every topic the server creates at start.
pub const ALL_TOPICS: [&str; 3] = [BEATS_TOPIC, SESSIONS_TOPIC, ALERTS_TOPIC];

/// The payload version; a consumer skips (and counts) a message whose version it does not know.
pub const PAYLOAD_VERSION: u32 = 1;

/// One stored chunk of beats (at most a minute of one session), as pushed by a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeatsChunk {
    pub v: u32,
    pub user_id: Uuid,
    /// The session's natural key (unique per user, chosen by the device that recorded it).
    pub session_key: String,
    pub device_id: Uuid,
    /// Wall time of the session's start, Unix milliseconds.
    pub session_started_at_ms: i64,
    /// Wall time of the chunk's first beat, Unix milliseconds (the chunk's natural key within the session).
    pub start_ms: i64,
    /// Session-relative time of the first beat, in 1/1024 s ticks from the session start (exact).
    pub first_beat_offset_raw: i64,
    /// RR intervals as the strap sent them, in 1/1024 s.
    pub rr_raw: Vec<u16>,
    /// Indices into `rr_raw` the device labelled as artifacts, with the label (e.g. `ectopic`).
    pub artifacts: Vec<ArtifactMark>,
}

/// One beat the device's artifact detector labelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactMark {
    pub index: u32,
    pub kind: String,
}

/// A session's row (sent when it is first stored and again when it ends).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub v: u32,
    pub user_id: Uuid,
    pub session_key: String,
    pub device_id: Uuid,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    /// `rest`, `morning`, `exercise`, `breathing` or `other`.
    pub kind: String,
    /// Where the beats came from (a strap's name, "Simulated strap", a file).
    pub source: String,
    pub label: Option<String>,
}

/// Who raised an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertOrigin {
    /// The desktop's live detector, pushed like any other row.
    Device,
    /// The server-side consumer running the same rules over `auren.beats`.
    Server,
}

impl AlertOrigin {
    /// The value of the `alerts.origin` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Server => "server",
        }
    }
}

/// One alert; `(user_id, rule, window_start_ms)` is its natural key, so a replay inserts nothing new.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub v: u32,
    pub user_id: Uuid,
    pub session_key: String,
    pub rule: String,
    /// Wall time the rule's window began, Unix milliseconds.
    pub window_start_ms: i64,
    /// Wall time the alert fired, Unix milliseconds.
    pub at_ms: i64,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub message: String,
    /// The values the rule read (JSON, as the detector's `Evidence` serialises).
    pub evidence: serde_json::Value,
    pub origin: AlertOrigin,
}
