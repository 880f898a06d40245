//! What goes wrong: one attempt's failure ([`AttemptFailure`]) and a call's error ([`GatewayError`]).

use crate::budget::BudgetRefusal;
use crate::clock::UnixMillis;
use crate::config::Route;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What broke under an attempt: a description of ours and, when another error lies behind it (a
/// transport error, a JSON error), that error kept whole. Shared, because attempt reports are cloned into
/// [`GatewayError::AllProvidersFailed`].
///
/// It shows as the description followed by every cause in the source's chain: reqwest's own message
/// omits its cause ("error sending request"), and the chain says what happened ("Connection refused").
#[derive(Clone, Debug)]
pub struct Cause {
    description: Cow<'static, str>,
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl Cause {
    /// A failure described by us, with no other error behind it.
    pub fn new(description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            description: description.into(),
            source: None,
        }
    }

    /// An error already shared, with a description of what was being done.
    pub fn from_shared(
        description: impl Into<Cow<'static, str>>,
        error: Arc<dyn Error + Send + Sync>,
    ) -> Self {
        Self {
            description: description.into(),
            source: Some(error),
        }
    }

    /// `error`, with a description of what was being done (empty when the error says it all).
    pub fn from_error(
        description: impl Into<Cow<'static, str>>,
        error: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            description: description.into(),
            source: Some(Arc::new(error)),
        }
    }
}

impl From<&'static str> for Cause {
    fn from(description: &'static str) -> Self {
        Self::new(description)
    }
}

impl From<String> for Cause {
    fn from(description: String) -> Self {
        Self::new(description)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)?;
        let mut separator = if self.description.is_empty() { "" } else { ": " };
        let mut shown = String::new();
        let mut next: Option<&(dyn Error + 'static)> =
            self.source.as_deref().map(|e| e as &(dyn Error + 'static));
        while let Some(cause) = next {
            // Errors that already print their source (most thiserror enums here) are not repeated.
            let text = cause.to_string();
            if !shown.contains(&text) {
                write!(f, "{separator}{text}")?;
                separator = ": ";
                shown = text;
            }
            next = cause.source();
        }
        Ok(())
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// Errors have no equality of their own: two causes are equal when they read the same.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// Why one attempt against one provider and model failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttemptFailure {
    /// No connection within the connect timeout (or its TLS handshake failed): nothing answered, so the
    /// next route is tried at once and the route's breaker opens.
    #[error("could not connect: {0}")]
    Connect(#[source] Cause),
    /// Nothing listens there: the next route is tried at once rather than this one again.
    #[error("connection refused: {0}")]
    Refused(#[source] Cause),
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
    Broken(#[source] Cause),
    #[error("the provider sent malformed data: {0}")]
    Malformed(#[source] Cause),
    #[error("the provider reported an error in the stream ({kind}): {message}")]
    StreamError { kind: String, message: String },
    #[error("the request cannot be sent to this provider: {0}")]
    InvalidRequest(String),
    /// What to set; the cause when the keychain could not be read.
    #[error("no API key: set {0}")]
    MissingKey(#[source] Cause),
    #[error("circuit breaker open until {0}")]
    BreakerOpen(UnixMillis),
    #[error("local rate limit of this provider reached; room again in {} ms", .0.as_millis())]
    RateLimited(Duration),
    #[error("{0}")]
    Budget(BudgetRefusal),
}

impl AttemptFailure {
    /// Worth trying the same route again (after a backoff). A connection that could not be made is not:
    /// an address that did not answer for the whole connect timeout rarely answers a moment later, and
    /// the person waits for the offline answer meanwhile.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::FirstTokenTimeout(_) | Self::IdleTimeout(_) | Self::Broken(_) => true,
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

    /// Nothing answered at the provider's address: no connection was made.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Refused(_))
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
    Client(#[source] reqwest::Error),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("usage could not be read from the ledger: {0}")]
    Ledger(#[from] crate::usage::LedgerError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    /// Prints its source itself, as most of this workspace's errors do.
    #[derive(Debug, thiserror::Error)]
    #[error("printing: {0}")]
    struct Printing(#[source] Outer);

    #[test]
    fn a_cause_reads_as_its_description_then_every_error_in_the_chain() {
        let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let table = [
            (Cause::new("the stream ended"), "the stream ended", false),
            (Cause::from_error("", refused()), "refused", true),
            (Cause::from_error("", Outer(refused())), "outer: refused", true),
            (
                Cause::from_error("", Printing(Outer(refused()))),
                "printing: outer: refused",
                true,
            ),
            (
                Cause::from_error("cannot decode chunk {", Outer(refused())),
                "cannot decode chunk {: outer: refused",
                true,
            ),
        ];
        for (cause, text, has_source) in table {
            assert_eq!(cause.to_string(), text);
            assert_eq!(Error::source(&cause).is_some(), has_source, "{text}");
        }
    }

    #[test]
    fn the_source_is_the_error_itself_and_survives_a_clone() {
        let cause = Cause::from_error("", Outer(std::io::Error::other("disk"))).clone();
        let source = Error::source(&cause).expect("kept");
        assert!(source.downcast_ref::<Outer>().is_some());
        assert_eq!(
            source
                .source()
                .and_then(|e| e.downcast_ref::<std::io::Error>())
                .map(ToString::to_string),
            Some("disk".to_owned())
        );
        assert_eq!(cause, Cause::new("outer: disk"), "equal when they read the same");
        assert_ne!(cause, Cause::new("outer"));
    }
}
