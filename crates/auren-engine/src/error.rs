//! The engine's errors: each names the step that failed.

use auren_hrv::rolling::WindowError;

/// Why a session, a reading or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the database: {0}")]
    Store(#[from] auren_store::StoreError),

    #[error("the heart source: {0}")]
    Source(#[from] auren_strap::SourceError),

    #[error("the heart source failed: {0}")]
    SourceFailed(String),

    #[error("the heart source's task failed: {0}")]
    SourceTask(#[from] tokio::task::JoinError),

    #[error("a live window: {0}")]
    Window(#[from] WindowError),

    #[error("writing the capture: {0}")]
    Capture(#[from] std::io::Error),

    #[error("no session with id {0}")]
    NoSuchSession(i64),

    #[error(
        "the morning reading has too few clean beats for RMSSD ({beats} beats; at least {needed} are needed)"
    )]
    TooFewBeats { beats: usize, needed: usize },

    #[error("{0}")]
    BadQuery(String),

    #[error("the morning reading stopped after {reached_s} s; it needs {needed_s} s of recording")]
    ReadingIncomplete { reached_s: i64, needed_s: i64 },

    #[error("the session task ended before it could be asked")]
    SessionGone,
}
