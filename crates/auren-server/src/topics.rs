//! The payloads the server outbox carries to Kafka: one JSON document per message on `auren.beats`,
//! `auren.sessions` and `auren.alerts`, keyed by the user's id so one user's messages stay in one partition
//! (and in order for the server-side CEP consumer).
//!
//! A push's chunks of one session travel as one [`BeatsBatch`] message (payload version 2), not one message
//! per chunk (version 1, still read): a broker pays per record — tansu inserts one SQLite row per record —
//! so the relay's rate is counted in messages, and a minute chunk per message held it at ~2,300 chunks/s.
//!
//! A message written by this server also carries the session's [`LiveInputs`] pushed with it (the strap's
//! heart-rate samples, the gaps, its contact and link changes, the session's end): what the desktop's detector was fed beside the beats,
//! so the consumer can feed the rules the same way for a live session (`kafka/feed.rs`). The field is
//! optional: a message without it (written before it existed) is read as before.
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
/// The payload version of [`BeatsBatch`] on `auren.beats`.
pub const BATCH_PAYLOAD_VERSION: u32 = 2;
/// Most beats in one [`BeatsBatch`] (a few bytes of JSON each: far below a broker's 1 MB message limit); a
/// batch always takes at least one chunk, whatever its size.
pub const MAX_BATCH_BEATS: usize = 20_000;

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
    /// What the push brought beside the beats (on the first chunk of a message); `None` in a message
    /// written before servers carried it. A message with inputs and no beats has one chunk with no beats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveInputs>,
}

/// The inputs of a session's detector other than its beats, as one push brought them: each heart-rate
/// sample marks the arrival of a strap notification (session ms) with the strap's own heart rate, a gap
/// is where the source reported no beats, a signal change is the strap's contact or link going up or down
/// (as the device's detector was told, in that order), and the end is the session time it ended at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveInputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hr: Vec<auren_protocol::change::HrSample>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<auren_protocol::change::Gap>,
    /// Absent from messages of servers (and pushes of devices) before contact and link changes were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<auren_protocol::change::SignalChange>,
    /// Session time of the end (`ended_at - started_at`), once the device ended the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<i64>,
}

impl LiveInputs {
    /// Adds `other` after what is here (a later end replaces an earlier one).
    pub fn append(&mut self, other: LiveInputs) {
        self.hr.extend(other.hr);
        self.gaps.extend(other.gaps);
        self.signals.extend(other.signals);
        self.end_ms = other.end_ms.or(self.end_ms);
    }
}

/// Consecutive chunks of one session from one push, in the order pushed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatsBatch {
    /// [`BATCH_PAYLOAD_VERSION`].
    pub v: u32,
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub session_key: String,
    pub session_started_at_ms: i64,
    pub chunks: Vec<BatchedChunk>,
    /// The session's other inputs in this push; `None` in messages written before servers carried them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveInputs>,
}

/// One chunk of a [`BeatsBatch`]: what [`BeatsChunk`] holds beyond the session's fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchedChunk {
    pub wall_ms: i64,
    pub chunk: auren_protocol::BeatsChunk,
}

impl BeatsBatch {
    /// The chunks as the version-1 messages they stand for; the live inputs ride on the first (on a chunk
    /// with no beats when the batch has none).
    pub fn into_chunks(self) -> Vec<BeatsChunk> {
        let Self {
            user_id,
            device_id,
            session_key,
            session_started_at_ms,
            mut chunks,
            mut live,
            ..
        } = self;
        if chunks.is_empty() && live.is_some() {
            chunks.push(BatchedChunk {
                wall_ms: session_started_at_ms,
                chunk: auren_protocol::BeatsChunk {
                    session_key: session_key.clone(),
                    start_ms: 0.0,
                    rr_raw: Vec::new(),
                    t_breaks: Vec::new(),
                    rr_overrides: Vec::new(),
                    artifacts: Vec::new(),
                },
            });
        }
        chunks
            .into_iter()
            .map(|c| BeatsChunk {
                v: PAYLOAD_VERSION,
                user_id,
                device_id,
                session_key: session_key.clone(),
                session_started_at_ms,
                wall_ms: c.wall_ms,
                chunk: c.chunk,
                live: live.take(),
            })
            .collect()
    }
}

/// Why an `auren.beats` message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BeatsReadError {
    #[error("not a beats message")]
    Json(#[from] serde_json::Error),
    #[error("beats payload version {0} is not one this server reads")]
    UnknownVersion(u32),
}

/// The chunks of one `auren.beats` message, in order: one for a version-1 message, several for a batch.
pub fn read_beats(payload: &[u8]) -> Result<Vec<BeatsChunk>, BeatsReadError> {
    #[derive(Deserialize)]
    struct Versioned {
        v: u32,
    }
    let Versioned { v } = serde_json::from_slice(payload)?;
    match v {
        PAYLOAD_VERSION => Ok(vec![serde_json::from_slice(payload)?]),
        BATCH_PAYLOAD_VERSION => Ok(serde_json::from_slice::<BeatsBatch>(payload)?.into_chunks()),
        other => Err(BeatsReadError::UnknownVersion(other)),
    }
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

impl AlertRecord {
    /// An alert `device` pushed.
    pub fn pushed(user_id: Uuid, device: Uuid, alert: auren_protocol::AlertChange) -> Self {
        Self::new(user_id, AlertOrigin::Device, Some(device), alert)
    }

    /// An alert the server's consumer raised.
    pub fn raised(user_id: Uuid, alert: auren_protocol::AlertChange) -> Self {
        Self::new(user_id, AlertOrigin::Server, None, alert)
    }

    fn new(
        user_id: Uuid,
        origin: AlertOrigin,
        device_id: Option<Uuid>,
        alert: auren_protocol::AlertChange,
    ) -> Self {
        Self {
            v: PAYLOAD_VERSION,
            user_id,
            origin,
            device_id,
            alert,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(start_ms: f64) -> auren_protocol::BeatsChunk {
        auren_protocol::BeatsChunk {
            session_key: "d:1".to_owned(),
            start_ms,
            rr_raw: vec![820, 830],
            t_breaks: Vec::new(),
            rr_overrides: Vec::new(),
            artifacts: Vec::new(),
        }
    }

    #[test]
    fn beats_messages_of_both_versions_read_back_as_their_chunks() {
        let (user_id, device_id) = (Uuid::new_v4(), Uuid::new_v4());
        let single = |start_ms: f64, wall_ms: i64| BeatsChunk {
            v: PAYLOAD_VERSION,
            user_id,
            device_id,
            session_key: "d:1".to_owned(),
            session_started_at_ms: 1_000,
            wall_ms,
            chunk: chunk(start_ms),
            live: None,
        };
        let batch = BeatsBatch {
            v: BATCH_PAYLOAD_VERSION,
            user_id,
            device_id,
            session_key: "d:1".to_owned(),
            session_started_at_ms: 1_000,
            chunks: vec![
                BatchedChunk {
                    wall_ms: 1_000,
                    chunk: chunk(0.0),
                },
                BatchedChunk {
                    wall_ms: 2_611,
                    chunk: chunk(1_611.0),
                },
            ],
            live: None,
        };
        let live = LiveInputs {
            hr: vec![auren_protocol::change::HrSample {
                t_ms: 2_000.0,
                bpm: 73.0,
            }],
            gaps: vec![auren_protocol::change::Gap {
                from_ms: 5_000.0,
                to_ms: 9_000.0,
            }],
            signals: vec![auren_protocol::change::SignalChange {
                t_ms: 5_000.0,
                signal: auren_protocol::change::Signal::Contact,
                up: false,
            }],
            end_ms: Some(600_000),
        };
        let with_live = BeatsBatch {
            live: Some(live.clone()),
            ..batch.clone()
        };
        let only_live = BeatsBatch {
            chunks: Vec::new(),
            live: Some(live.clone()),
            ..batch.clone()
        };
        let carrier = BeatsChunk {
            chunk: auren_protocol::BeatsChunk {
                rr_raw: Vec::new(),
                ..chunk(0.0)
            },
            live: Some(live.clone()),
            ..single(0.0, 1_000)
        };
        // What a server before live inputs wrote (no `live` field at all; a server before contact and link
        // changes wrote `live` without `signals`, read below as an empty list).
        let old_batch = serde_json::json!({
            "v": 2, "user_id": user_id, "device_id": device_id, "session_key": "d:1",
            "session_started_at_ms": 1_000,
            "chunks": [{"wall_ms": 1_000, "chunk": {"session_key": "d:1", "start_ms": 0.0, "rr_raw": [820, 830]}}],
        });
        let mut unsignalled = old_batch.clone();
        unsignalled["live"] = serde_json::json!({"hr": [{"t_ms": 2_000.0, "bpm": 73.0}], "end_ms": 600_000});
        let cases: [(Vec<u8>, Option<Vec<BeatsChunk>>); 8] = [
            (
                serde_json::to_vec(&single(0.0, 1_000)).unwrap(),
                Some(vec![single(0.0, 1_000)]),
            ),
            (
                serde_json::to_vec(&batch).unwrap(),
                Some(vec![single(0.0, 1_000), single(1_611.0, 2_611)]),
            ),
            (
                serde_json::to_vec(&old_batch).unwrap(),
                Some(vec![single(0.0, 1_000)]),
            ),
            (
                serde_json::to_vec(&unsignalled).unwrap(),
                Some(vec![BeatsChunk {
                    live: Some(LiveInputs {
                        gaps: Vec::new(),
                        signals: Vec::new(),
                        ..live.clone()
                    }),
                    ..single(0.0, 1_000)
                }]),
            ),
            (
                serde_json::to_vec(&with_live).unwrap(),
                Some(vec![
                    BeatsChunk {
                        live: Some(live),
                        ..single(0.0, 1_000)
                    },
                    single(1_611.0, 2_611),
                ]),
            ),
            (serde_json::to_vec(&only_live).unwrap(), Some(vec![carrier])),
            (br#"{"v": 3, "chunks": []}"#.to_vec(), None),
            (b"not json".to_vec(), None),
        ];
        for (payload, expected) in cases {
            assert_eq!(
                read_beats(&payload).ok(),
                expected,
                "{}",
                String::from_utf8_lossy(&payload)
            );
        }
        assert!(matches!(
            read_beats(br#"{"v": 3}"#),
            Err(BeatsReadError::UnknownVersion(3))
        ));
    }
}
