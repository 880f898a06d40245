//! Heart sources behind one trait: a BLE chest strap (btleplug), a physiological simulator, and replay of
//! captures and RR files; plus recording any source to a `.hrmcap` capture.
//!
//! Every source is a [`HeartSource`]: started with a shutdown token, it sends a closed [`SourceEvent`]
//! enum (decoded samples and link events) through a tokio channel. Real-time sources read tokio's clock,
//! so tests drive them with paused time; nothing here reads the system clock.
//!
//! Layout:
//! - `source` — [`HeartSource`], [`SourceEvent`], [`Sample`], [`start`], playback [`Pace`].
//! - `emitter` — the shared notification path: decode, count malformed, contact changes, gaps.
//! - `ble` — btleplug: adapters, scan, connect, subscribe, battery/device info, reconnect with backoff.
//! - `simulator` — seeded physiological RR model and scenarios, sent as real 0x2A37 bytes.
//! - `replay` — `.hrmcap` captures and RR files played back as a source.
//! - `record` — any source's events written to a `.hrmcap` capture.
//! - `error` — [`SourceError`], [`RecordError`].

pub mod ble;
mod emitter;
mod error;
pub mod record;
pub mod replay;
pub mod simulator;
mod source;

pub use error::{RecordError, SourceError};
pub use source::{
    BadSpeed, EVENT_CHANNEL_CAPACITY, EndReason, HeartSource, Pace, RunningSource, Sample, SourceEvent,
    SourceRun, SourceSummary, Speed, start,
};
