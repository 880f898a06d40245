//! The sync client: pushes the local outbox in order, pulls everything newer than the device's cursor,
//! retries on a timer with backoff and jitter, and keeps the account's tokens.
//!
//! Layout:
//! - `client.rs` — [`SyncClient`]: signing in (account create, login, device code), one sync round
//!   ([`SyncClient::sync_once`]: push, then pull the account's data and each athlete's), the loop
//!   ([`SyncClient::run`]) that retries with backoff and jitter and publishes a [`SyncStatus`], devices and
//!   coach grants. A row the server refuses is parked with the reason and what it points at, never in the
//!   way of the rows after it; [`retry_parked`] queues parked rows again, and a row refused for a change type
//!   the server did not list is queued again by itself once an answer lists the type.
//! - `api.rs` — typed HTTP calls over reqwest; the access token is refreshed before it expires and once
//!   more on a `token_expired` answer.
//! - `outgoing.rs` — an outbox row turned into its wire change (read from the store at push time).
//! - `incoming.rs` — a pulled page applied to the local store in one transaction with its cursor.
//! - `tokens.rs` — [`TokenVault`]: the OS keychain, or a file only the user can read where none answers.

mod api;
mod client;
mod incoming;
mod outgoing;
mod tokens;

pub use api::{ApiError, causes};
pub use client::{
    CoachAccess, SignIn, SyncClient, SyncConfig, SyncReport, SyncStatus, api_code, backoff, retry_parked,
};
pub use tokens::{TokenError, TokenPlace, TokenVault};

/// Why a sync operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the local database failed: {0}")]
    Store(#[from] auren_store::StoreError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error("this database is not signed in to a sync server (run `auren account login`)")]
    SignedOut,
    #[error("the server's answer is inconsistent: {0}")]
    Inconsistent(String),
}

impl SyncError {
    /// Whether the server could not be reached (as opposed to answering with an error).
    pub fn is_offline(&self) -> bool {
        matches!(self, Self::Api(ApiError::Unreachable { .. }))
    }
}
