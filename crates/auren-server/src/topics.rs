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

/// One stored chunk of beats, as a device pushed it, with what a consumer needs to place it in time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatsChunk {
    pub v: u32,
    pub user_id: Uuid,
    /// The device that pushed it.
    pub device_id: Uuid,
    /// The session's natural key (`"<device id>:<local session id>"`).
    pub session_key: String,
    /// Wall time of the session's start, Unix milliseconds: session times (`chunk.start_ms`) count from it.
    pub session_started_at_ms: i64,
    /// Wall time of the chunk's first beat, Unix milliseconds (rounded; the partition key on the server).
    pub wall_ms: i64,
    /// The chunk exactly as pushed: raw 1/1024 s RR (`rr_raw`), time breaks, exact-RR overrides and artifact
    /// labels; `chunk.decode()` gives the beats.
    pub chunk: auren_protocol::BeatsChunk,
}

/// A session's row (sent when it is first stored and again when it ends).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub v: u32,
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub session: auren_protocol::SessionChange,
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

/// One alert; `(user_id, alert.rule, alert.window_start_ms)` is its natural key, so a replay inserts nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub v: u32,
    pub user_id: Uuid,
    pub origin: AlertOrigin,
    /// The device that pushed it; `None` for the server's own.
    pub device_id: Option<Uuid>,
    pub alert: auren_protocol::AlertChange,
}
