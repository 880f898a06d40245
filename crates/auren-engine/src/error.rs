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
    SourceFailed(#[source] crate::session::SourceFailure),

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

    /// A query the caller asked that cannot be answered (the text says why, in the caller's terms).
    #[error("{0}")]
    BadQuery(String),

    #[error("the morning reading stopped after {reached_s} s; it needs {needed_s} s of recording")]
    ReadingIncomplete { reached_s: i64, needed_s: i64 },

    #[error("the session task ended before it could be asked")]
    SessionGone,
}

impl EngineError {
    /// The heart source's own error, when the source is what failed.
    pub fn source_error(&self) -> Option<&auren_strap::SourceError> {
        match self {
            EngineError::Source(error) => Some(error),
            EngineError::SourceFailed(failure) => failure.source_error(),
            _ => None,
        }
    }
}
