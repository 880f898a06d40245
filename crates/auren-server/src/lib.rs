//! The sync server (axum): accounts, devices and coach grants; push and pull over PostgreSQL with row-level
//! security; the daily trend of the synced morning readings (cached in Redis); Redis rate limits and
//! long-poll wake-ups; a Kafka outbox relay and the server-side CEP consumer.

pub mod app;
pub mod auth;
pub mod db;
pub mod error;
pub mod health;
pub mod kafka;
pub mod openapi;
pub mod pull;
pub mod push;
pub mod redis;
mod rr_array;
pub mod server;
pub mod startup;
pub mod trend;

/// The health of one dependency as `/readyz` and the metrics report it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working as designed.
    Up,
    /// Serving through a fallback (the in-process limiter while Redis is away, an outbox that grows while the
    /// broker is away): requests still succeed.
    Degraded { reason: String },
    /// Not working, no fallback.
    Down { reason: String },
}

pub mod topics;
