//! What goes wrong: one attempt's failure ([`AttemptFailure`]) and a call's error ([`GatewayError`]).

use crate::budget::BudgetRefusal;
use crate::clock::UnixMillis;
use crate::config::Route;
use std::fmt;
use std::time::Duration;

/// Why one attempt against one provider and model failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttemptFailure {
    #[error("could not connect: {0}")]
    Connect(String),
    /// Nothing listens there: the next route is tried at once rather than this one again.
    #[error("connection refused: {0}")]
    Refused(String),
    #[error("HTTP {status}{}: {message}", retry_after.map(|d| format!(" (Retry-After {} ms)", d.as_millis())).unwrap_or_default())]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("no first token within {} ms", .0.as_millis())]
    FirstTokenTimeout(Duration),
    #[error("no data for {} ms between chunks", .0.as_millis())]
    IdleTimeout(Duration),
    #[error("the response could not be read: {0}")]
    Broken(String),
    #[error("the provider sent malformed data: {0}")]
    Malformed(String),
    #[error("the provider reported an error in the stream ({kind}): {message}")]
    StreamError { kind: String, message: String },
    #[error("the request cannot be sent to this provider: {0}")]
    InvalidRequest(String),
    #[error("no API key: set {0}")]
    MissingKey(String),
    #[error("circuit breaker open until {0}")]
    BreakerOpen(UnixMillis),
    #[error("local rate limit of this provider reached; room again in {} ms", .0.as_millis())]
    RateLimited(Duration),
    #[error("{0}")]
    Budget(BudgetRefusal),
}

impl AttemptFailure {
    /// Worth trying the same route again (after a backoff).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect(_) | Self::FirstTokenTimeout(_) | Self::IdleTimeout(_) | Self::Broken(_) => true,
            Self::Status { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 529),
            Self::StreamError { kind, .. } => {
                matches!(
                    kind.as_str(),
                    "overloaded_error" | "rate_limit_error" | "api_error" | "server_error"
                )
            }
            _ => false,
        }
    }

    /// Counts against the provider's health in its circuit breaker. Mistakes of ours (a bad request, a
    /// missing or wrong key) and local refusals say nothing about the provider's health.
    pub fn counts_for_breaker(&self) -> bool {
        match self {
            Self::Status { status, .. } => !(400..500).contains(status) || matches!(status, 408 | 429),
            Self::InvalidRequest(_)
            | Self::MissingKey(_)
            | Self::BreakerOpen(_)
            | Self::RateLimited(_)
            | Self::Budget(_) => false,
            _ => true,
        }
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short stable name for `error.type` in traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Refused(_) => "connection_refused",
            Self::Status { .. } => "http_status",
            Self::FirstTokenTimeout(_) => "first_token_timeout",
            Self::IdleTimeout(_) => "idle_timeout",
            Self::Broken(_) => "broken_stream",
            Self::Malformed(_) => "malformed",
            Self::StreamError { .. } => "stream_error",
            Self::InvalidRequest(_) => "invalid_request",
            Self::MissingKey(_) => "missing_key",
            Self::BreakerOpen(_) => "breaker_open",
            Self::RateLimited(_) => "rate_limited",
            Self::Budget(_) => "budget",
        }
    }
}

/// One attempt of a call, as listed in [`GatewayError::AllProvidersFailed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub route: Route,
    /// 1 for the first try of this route, 2 for its first retry, ...
    pub try_number: u32,
    pub failure: AttemptFailure,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (try {}): {}", self.route, self.try_number, self.failure)
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("model {0:?} is neither a configured alias nor provider:model with a configured provider")]
    UnknownModel(String),
    #[error("every route for {model:?} failed:\n{}", attempts.iter().map(|a| format!("  - {a}")).collect::<Vec<_>>().join("\n"))]
    AllProvidersFailed { model: String, attempts: Vec<Attempt> },
    #[error("{0}")]
    Budget(BudgetRefusal),
    /// The answer had started reaching the caller, so it was neither retried nor failed over.
    #[error("the answer from {route} broke off after it had started: {failure}")]
    StreamInterrupted { route: Route, failure: AttemptFailure },
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("usage could not be read from the ledger: {0}")]
    Ledger(#[from] crate::usage::LedgerError),
}
