//! One typed change of a device's outbox, as pushed and as pulled back by other devices.
//!
//! Identity: a session is named by its `session_key`, `"<device id>:<local session id>"` as the recording
//! device wrote it, so every device and the server agree without asking each other. Sessions, beats, gaps,
//! HR samples, signal (contact and link) changes, metrics and alerts are immutable under their natural keys (a retried row changes nothing;
//! `ended_at` only goes from unknown to known). Tags, session notes, morning readings, memories and settings
//! are editable: their fields are [`Lww`] values merged per field, and deletes are [`TombstoneChange`]s.
//!
//! Leniency: enum-like values inside a row (`kind`, `severity`, a tombstone's collection) are kept as text
//! or have an `Unknown` variant, and an unknown change type is [`Change::Unknown`], so one row a server
//! does not understand is rejected on its own instead of failing the whole push and wedging the device.

use crate::lww::{Lww, TieBreak};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One change, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Session(SessionChange),
    Beats(BeatsChunk),
    Gaps(GapsChange),
    HrSamples(HrSamplesChange),
    /// Added within protocol version 1: an older peer reads it as [`Change::Unknown`] (a server refuses
    /// the row alone, a client skips it).
    Signals(SignalsChange),
    Metrics(MetricsChange),
    Alert(AlertChange),
    Tag(TagChange),
    Note(NoteChange),
    Morning(MorningChange),
    Memory(MemoryChange),
    Setting(SettingChange),
    Tombstone(TombstoneChange),
    /// A type this build does not know (sent by a newer peer): rejected or skipped on its own.
    #[serde(other)]
    Unknown,
}

impl Change {
    /// The `type` tag of every change this build knows ([`Change::Unknown`] aside).
    pub const TYPES: [&'static str; 13] = [
        "session",
        "beats",
        "gaps",
        "hr_samples",
        "metrics",
        "alert",
        "tag",
        "note",
        "morning",
        "memory",
        "setting",
        "tombstone",
        "signals",
    ];

    /// The types added within protocol version 1 since its first release: one is sent only to a server that
    /// lists it in its push answer ([`crate::PushResponse::accepts`]); until then a device holds its rows
    /// back. Every other type of [`Change::TYPES`] is a base type ([`Change::is_base_type`]), so adding a
    /// type touches `TYPES`, and this list when the type is newer.
    pub const NEWER_TYPES: [&'static str; 1] = ["signals"];

    /// Whether every server of protocol version 1 accepts changes of `type_name`: a type of its first
    /// release (in [`Change::TYPES`], not in [`Change::NEWER_TYPES`]).
    pub fn is_base_type(type_name: &str) -> bool {
        Self::TYPES.contains(&type_name) && !Self::NEWER_TYPES.contains(&type_name)
    }

    /// The base types ([`Change::is_base_type`]), in the order of [`Change::TYPES`].
    pub fn base_types() -> impl Iterator<Item = &'static str> {
        Self::TYPES.into_iter().filter(|t| Self::is_base_type(t))
    }

    /// The `type` tag, for logs and rejections.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Session(_) => "session",
            Self::Beats(_) => "beats",
            Self::Gaps(_) => "gaps",
            Self::HrSamples(_) => "hr_samples",
            Self::Signals(_) => "signals",
            Self::Metrics(_) => "metrics",
            Self::Alert(_) => "alert",
            Self::Tag(_) => "tag",
            Self::Note(_) => "note",
            Self::Morning(_) => "morning",
            Self::Memory(_) => "memory",
            Self::Setting(_) => "setting",
            Self::Tombstone(_) => "tombstone",
            Self::Unknown => "unknown",
        }
    }

    /// The session the change belongs to, if any.
    pub fn session_key(&self) -> Option<&str> {
        match self {
            Self::Session(c) => Some(&c.session_key),
            Self::Beats(c) => Some(&c.session_key),
            Self::Gaps(c) => Some(&c.session_key),
            Self::HrSamples(c) => Some(&c.session_key),
            Self::Signals(c) => Some(&c.session_key),
            Self::Metrics(c) => Some(&c.session_key),
            Self::Alert(c) => Some(&c.session_key),
            Self::Tag(c) => Some(&c.session_key),
            Self::Note(c) => Some(&c.session_key),
            Self::Morning(_) | Self::Memory(_) | Self::Setting(_) | Self::Tombstone(_) | Self::Unknown => {
                None
            }
        }
    }
}

/// The session key of local session `local_id` recorded on `device`.
pub fn session_key(device: &crate::DeviceId, local_id: i64) -> String {
    format!("{device}:{local_id}")
}

/// A recorded session (sent when it starts and again when it ends).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionChange {
    pub session_key: String,
    /// Unix ms; every session time (`t_ms`, `at_ms`) counts from it.
    pub started_at: i64,
    /// Unix ms; `None` while recording. Once known it never changes.
    pub ended_at: Option<i64>,
    /// `rest`, `morning`, `exercise`, `breathing` or `other`.
    pub kind: String,
    /// `"ble:AA:BB:…"`, `"simulator:rest"` (shown as "Simulated strap"), `"replay:file.hrmcap"`.
    pub source: String,
    #[serde(default)]
    pub strap: Option<StrapInfo>,
}

/// The strap a session was recorded with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrapInfo {
    pub address: String,
    pub name: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

/// A run of beats of one session, compact and exact.
///
/// RR intervals travel as the strap's raw 1/1024 s integers (`rr_raw`; `rr_ms = raw · 1000 / 1024`, exact
/// in f64). Beat `i`'s session time is `start_ms` for the first and the previous beat's time plus its own
/// `rr_ms` after that, except where [`TimeBreak`]s give it (after a gap, or wherever the recorder's sums
/// differ). RR values that are not whole 1/1024 s (imported millisecond files) carry their exact value in
/// `rr_overrides` next to the rounded raw one. [`BeatsChunk::encode`] and [`BeatsChunk::decode`] are exact
/// inverses on any series with increasing times and positive finite RR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatsChunk {
    pub session_key: String,
    pub start_ms: f64,
    pub rr_raw: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub t_breaks: Vec<TimeBreak>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rr_overrides: Vec<RrOverride>,
    /// Artifact labels (`ectopic`, `missed`, `extra`, `long`, `short`, …) of the beats that have one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactMark>,
}

/// Beat `index` of a chunk is at session time `t_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeBreak {
    pub index: u32,
    pub t_ms: f64,
}

/// Beat `index` of a chunk has the exact RR `rr_ms` (not a whole number of 1/1024 s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RrOverride {
    pub index: u32,
    pub rr_ms: f64,
}

/// Beat `index` of a chunk is labelled `label` by the artifact detector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactMark {
    pub index: u32,
    pub label: String,
}

/// One beat as a chunk encodes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Beat {
    pub t_ms: f64,
    pub rr_ms: f64,
    pub artifact: Option<String>,
}

/// Why a chunk cannot be decoded or encoded.
#[derive(Clone, Debug, PartialEq)]
pub enum ChunkError {
    /// A break, override or mark names a beat the chunk does not have, or they are out of order.
    BadIndex { what: &'static str, index: u32 },
    /// A time or RR is not finite, an RR is not positive, or times do not increase.
    BadValue { index: u32, reason: &'static str },
    /// More beats than a `u32` index can name.
    TooLong,
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadIndex { what, index } => {
                write!(f, "{what} index {index} is out of range or out of order")
            }
            Self::BadValue { index, reason } => write!(f, "beat {index}: {reason}"),
            Self::TooLong => f.write_str("a chunk holds at most 2^32 - 1 beats"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// `raw · 1000 / 1024`, exact in f64.
pub fn raw_to_ms(raw: u16) -> f64 {
    f64::from(raw) * 1000.0 / 1024.0
}

/// The nearest raw 1/1024 s value of `rr_ms` (clamped to `1..=u16::MAX`).
fn ms_to_raw(rr_ms: f64) -> u16 {
    let raw = (rr_ms * 1024.0 / 1000.0).round();
    if raw >= f64::from(u16::MAX) {
        u16::MAX
    } else if raw < 1.0 {
        1
    } else {
        // In 1..u16::MAX after the checks above, so the cast is exact.
        raw as u16
    }
}

impl BeatsChunk {
    /// Encodes `beats` (increasing times, positive finite RR) of session `session_key`.
    pub fn encode(session_key: &str, beats: &[Beat]) -> Result<Self, ChunkError> {
        let mut chunk = BeatsChunk {
            session_key: session_key.to_owned(),
            start_ms: beats.first().map_or(0.0, |b| b.t_ms),
            rr_raw: Vec::with_capacity(beats.len()),
            t_breaks: Vec::new(),
            rr_overrides: Vec::new(),
            artifacts: Vec::new(),
        };
        let mut previous: Option<f64> = None;
        for (i, beat) in beats.iter().enumerate() {
            let index = u32::try_from(i).map_err(|_| ChunkError::TooLong)?;
            check_beat(index, beat, previous)?;
            let raw = ms_to_raw(beat.rr_ms);
            chunk.rr_raw.push(raw);
            if raw_to_ms(raw) != beat.rr_ms {
                chunk.rr_overrides.push(RrOverride {
                    index,
                    rr_ms: beat.rr_ms,
                });
            }
            if let Some(prev) = previous
                && prev + beat.rr_ms != beat.t_ms
            {
                chunk.t_breaks.push(TimeBreak {
                    index,
                    t_ms: beat.t_ms,
                });
            }
            if let Some(label) = &beat.artifact {
                chunk.artifacts.push(ArtifactMark {
                    index,
                    label: label.clone(),
                });
            }
            previous = Some(beat.t_ms);
        }
        Ok(chunk)
    }

    /// The beats of the chunk, checked (a pushed chunk is untrusted input).
    pub fn decode(&self) -> Result<Vec<Beat>, ChunkError> {
        check_indices(
            "time break",
            self.t_breaks.iter().map(|b| b.index),
            self.rr_raw.len(),
        )?;
        check_indices(
            "rr override",
            self.rr_overrides.iter().map(|o| o.index),
            self.rr_raw.len(),
        )?;
        check_indices(
            "artifact",
            self.artifacts.iter().map(|a| a.index),
            self.rr_raw.len(),
        )?;
        let mut breaks = self.t_breaks.iter().peekable();
        let mut overrides = self.rr_overrides.iter().peekable();
        let mut marks = self.artifacts.iter().peekable();
        let mut beats: Vec<Beat> = Vec::with_capacity(self.rr_raw.len());
        let mut previous: Option<f64> = None;
        for (i, &raw) in self.rr_raw.iter().enumerate() {
            let index = u32::try_from(i).map_err(|_| ChunkError::TooLong)?;
            let rr_ms = match overrides.next_if(|o| o.index == index) {
                Some(o) => o.rr_ms,
                None => raw_to_ms(raw),
            };
            let t_ms = match (breaks.next_if(|b| b.index == index), previous) {
                (Some(b), _) => b.t_ms,
                (None, Some(prev)) => prev + rr_ms,
                (None, None) => self.start_ms,
            };
            let beat = Beat {
                t_ms,
                rr_ms,
                artifact: marks.next_if(|m| m.index == index).map(|m| m.label.clone()),
            };
            check_beat(index, &beat, previous)?;
            previous = Some(t_ms);
            beats.push(beat);
        }
        Ok(beats)
    }
}

fn check_beat(index: u32, beat: &Beat, previous: Option<f64>) -> Result<(), ChunkError> {
    if !beat.t_ms.is_finite() {
        return Err(ChunkError::BadValue {
            index,
            reason: "its time is not a finite number",
        });
    }
    if !(beat.rr_ms.is_finite() && beat.rr_ms > 0.0) {
        return Err(ChunkError::BadValue {
            index,
            reason: "its RR interval is not a positive finite number",
        });
    }
    if previous.is_some_and(|prev| beat.t_ms <= prev) {
        return Err(ChunkError::BadValue {
            index,
            reason: "its time is not after the previous beat's",
        });
    }
    Ok(())
}

/// Indices must be strictly increasing and below `len`.
fn check_indices(
    what: &'static str,
    indices: impl Iterator<Item = u32>,
    len: usize,
) -> Result<(), ChunkError> {
    let mut last: Option<u32> = None;
    for index in indices {
        if usize::try_from(index).map_or(true, |i| i >= len) || last.is_some_and(|l| index <= l) {
            return Err(ChunkError::BadIndex { what, index });
        }
        last = Some(index);
    }
    Ok(())
}

/// Intervals of a session with no beats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapsChange {
    pub session_key: String,
    pub gaps: Vec<Gap>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub from_ms: f64,
    pub to_ms: f64,
}

/// Heart-rate samples of a session as the strap reported them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HrSamplesChange {
    pub session_key: String,
    pub samples: Vec<HrSample>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HrSample {
    pub t_ms: f64,
    pub bpm: f64,
}

/// The strap's contact and link changes in a session, as the recording device's detector was told them
/// (the inputs of the contact rule), in that order: by time, and changes of one moment as they came.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalsChange {
    pub session_key: String,
    pub changes: Vec<SignalChange>,
}

/// At session time `t_ms`, `signal` went up (contact detected, link connected) or down.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalChange {
    pub t_ms: f64,
    pub signal: Signal,
    pub up: bool,
}

/// Which of the strap's states changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Skin contact.
    Contact,
    /// The Bluetooth link.
    Link,
    /// A signal this build does not know (sent by a newer peer): ignored.
    #[serde(other)]
    Unknown,
}

/// Windowed metric values as the recording device computed them live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsChange {
    pub session_key: String,
    pub values: Vec<MetricValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub t_ms: f64,
    pub name: String,
    pub value: f64,
}

/// An alert a rule fired. Natural key: (user, `rule`, `window_start_ms`), the same whether the device or
/// the server's consumer found it, so the two never double up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertChange {
    pub session_key: String,
    /// Session time of the alert.
    pub at_ms: f64,
    /// Wall time, Unix ms (the session's `started_at` + `at_ms`, rounded).
    pub at: i64,
    /// Wall time (Unix ms) the evidence starts: the session's `started_at` + the evidence window's start.
    pub window_start_ms: i64,
    pub rule: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub message: String,
    /// The rule's evidence (values read, window, when the condition began).
    pub evidence: serde_json::Value,
}

/// A tag at a moment of a session. `key` is `"<device id>:<local tag id>"` of the device that created it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagChange {
    pub key: String,
    pub session_key: String,
    pub at_ms: Lww<f64>,
    pub name: Lww<String>,
}

/// The note (label) of a session; `None` clears it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteChange {
    pub session_key: String,
    pub text: Lww<Option<String>>,
}

/// The morning reading of `day` (a retake replaces the whole reading: one LWW value per day).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MorningChange {
    /// Day number (days since 1970-01-01).
    pub day: i64,
    pub reading: Lww<MorningValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MorningValue {
    pub ln_rmssd: f64,
    pub resting_hr: Option<f64>,
    pub session_key: Option<String>,
}

impl TieBreak for MorningValue {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        self.ln_rmssd
            .total_cmp(&other.ln_rmssd)
            .then_with(|| self.resting_hr.tie_cmp(&other.resting_hr))
            .then_with(|| self.session_key.cmp(&other.session_key))
    }
}

/// A memory of the cognitive twin, field by field (its fields are the store's; the protocol only merges).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryChange {
    pub key: String,
    pub fields: BTreeMap<String, Lww<serde_json::Value>>,
}

/// One synchronised setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingChange {
    pub key: String,
    pub value: Lww<serde_json::Value>,
}

/// The record `key` of `collection` was deleted at `hlc`: it stays deleted whatever edit with an older
/// stamp arrives later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TombstoneChange {
    pub collection: Collection,
    pub key: String,
    pub hlc: crate::Hlc,
}

/// The editable collections a tombstone can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    Tag,
    Memory,
    Setting,
    Morning,
    #[serde(other)]
    Unknown,
}
