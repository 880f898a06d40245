//! The body of every failed request, `{code, message}`: clients branch on `code` (stable, snake_case), never
//! on the message, which is for people.

use serde::{Deserialize, Serialize};

/// A failed request's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The codes the server answers with (HTTP status in brackets).
pub mod codes {
    /// The body is not valid JSON for the endpoint (400).
    pub const BAD_REQUEST: &str = "bad_request";
    /// The body is too large (413); the client splits its batch, or parks a single row.
    pub const TOO_LARGE: &str = "too_large";
    /// The request is well formed but a value is wrong (422), e.g. a short password.
    pub const INVALID: &str = "invalid";
    /// No token, or a tampered or unknown one (401).
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// The access token expired (401): refresh and retry.
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// A refresh token was used twice: its whole family is revoked (401); sign in again.
    pub const TOKEN_REUSED: &str = "token_reused";
    /// The access token's sign-in ended before the token expired (401): the device was signed out or
    /// removed, or its refresh token was reused. Refreshing cannot help; sign in again.
    pub const TOKEN_REVOKED: &str = "token_revoked";
    /// Wrong email or password (401).
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
    /// The email already has an account (409).
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// Not allowed for this account (403), e.g. pulling an athlete who granted nothing.
    pub const FORBIDDEN: &str = "forbidden";
    /// No such account, device or grant (404).
    pub const NOT_FOUND: &str = "not_found";
    /// Too many requests (429); `Retry-After` says when to come back.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The request's protocol version is not spoken by this server (400).
    pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
    /// The server failed (5xx); retry later.
    pub const INTERNAL: &str = "internal";
    /// A dependency (PostgreSQL) is down (503); retry later.
    pub const UNAVAILABLE: &str = "unavailable";

    /// Per-row rejection codes in a push answer (the push itself succeeds).
    pub mod row {
        /// A value of the row is out of range or malformed.
        pub const INVALID: &str = "invalid_row";
        /// The row refers to a session the server has not seen from this device.
        pub const UNKNOWN_SESSION: &str = "unknown_session";
        /// The row's kind is not stored by this server version.
        pub const UNSUPPORTED: &str = "unsupported_row";
    }
}
