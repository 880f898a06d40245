//! auren-engine: the façade that wires heart sources, HRV, rules, the store and subscribers together.
//!
//! A live session is one tokio task: a closed enum of inputs (source events, commands, an idle
//! timer, shutdown) through one `select!`. Per beat: artifact labelling (a short trailing delay, see
//! `labeller`), windowed HRV (60 s and 5 min per beat, DFA α1 over 2 min every 5 s), the CEP rules
//! (events plus a tick per second of session time), batched store writes, and updates to
//! subscribers throttled to 10 per second of session time. Time is the source's session clock; the
//! wall-clock start of a session is passed in.
//!
//! Layout:
//! - `auren_cep::labeller` — [`LabelledBeat`], the online Lipponen & Tarvainen labeller with its lag
//!   (re-exported; the server's alert consumer runs the same one).
//! - `provisional` — the causal check that labels each beat at once for subscribers.
//! - `pipeline` — [`Pipeline`]: the pure per-session processing behind a [`Sink`], on
//!   `auren_cep::feed::RuleFeed` (the confirmed path to the rules, shared with the server).
//! - `session` — [`start_session`], [`start_monitor`], [`LiveMonitor`], [`LiveSession`], [`SessionConfig`]:
//!   the live task.
//! - `morning` — [`morning::morning_reading`]: the guided 3-minute readiness reading.
//! - `query` — sessions, session detail (full panel), daily trend, alerts, baselines.
//! - `panels` — [`panels::store_panel`], [`panels::refresh_panels`]: stored session panels kept current.
//! - `recording` — [`recording::read`]: RR files, Kubios text, CSV exports and `.hrmcap` captures.
//! - `import` — [`import::import_recording`]: a recording file stored as a session through the pipeline.
//! - `dto` — the serde types handed to the UI, the CLI and agents.
//! - `error` — [`EngineError`].

pub mod dto;
mod error;
pub mod import;
pub mod morning;
pub mod panels;
mod pipeline;
mod provisional;
pub mod query;
pub mod recording;
mod session;

pub use auren_cep::labeller::{LABEL_LAG_BEATS, LabelledBeat, Labeller};
pub use error::EngineError;
pub use pipeline::{
    DFA_INTERVAL_MS, MIN_WINDOW_DIFFS, Pipeline, SNAPSHOT_INTERVAL_MS, Sink, TICK_MS, UPDATE_INTERVAL_MS,
};
pub use session::{
    IDLE_AFTER, LiveMonitor, LiveSession, MonitorConfig, RecordConfig, SessionConfig, SessionEnd,
    SessionSummary, SourceFailure, StrapIdentity, UPDATE_CHANNEL_CAPACITY, start_monitor, start_session,
};
