//! Errors: `ApiError` is what a handler answers (a status and the protocol's `{code, message}` body);
//! `ServerError` is what starting the server can fail with. A client's mistake is always a 4xx; only the
//! server's own failures (PostgreSQL down, a bug) are 5xx, and their details go to the log, not the client.

use auren_protocol::ErrorBody;
use auren_protocol::error::codes;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than this endpoint accepts")]
    TooLarge,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("the access token has expired; refresh it")]
    TokenExpired,
    #[error("this refresh token was already used; every token of this sign-in is revoked, sign in again")]
    TokenReused,
    #[error("{}", .0.message())]
    TokenRevoked(crate::auth::revocation::Ended),
    #[error("wrong email or password")]
    BadCredentials,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("protocol version {0} is not spoken by this server (it speaks {PROTOCOL})", PROTOCOL = auren_protocol::PROTOCOL_VERSION)]
    UnsupportedVersion(u32),
    #[error("the database is unavailable; retry later")]
    Unavailable(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The HTTP status and the stable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, codes::BAD_REQUEST),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, codes::INVALID),
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, codes::UNAUTHENTICATED),
            Self::TokenExpired => (StatusCode::UNAUTHORIZED, codes::TOKEN_EXPIRED),
            Self::TokenReused => (StatusCode::UNAUTHORIZED, codes::TOKEN_REUSED),
            Self::TokenRevoked(_) => (StatusCode::UNAUTHORIZED, codes::TOKEN_REVOKED),
            Self::BadCredentials => (StatusCode::UNAUTHORIZED, codes::BAD_CREDENTIALS),
            Self::EmailTaken => (StatusCode::CONFLICT, codes::EMAIL_TAKEN),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, codes::FORBIDDEN),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, codes::NOT_FOUND),
            Self::UnsupportedVersion(_) => (StatusCode::BAD_REQUEST, codes::UNSUPPORTED_VERSION),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL),
        }
    }

    /// Wraps any server-side failure.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable(error)
            }
            // Class 22 (data exception: a NUL byte, a number out of range) and 23 (a CHECK or key violation)
            // come from values the client sent: a 422, never a 500.
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|code| code.starts_with("22") || code.starts_with("23")) =>
            {
                Self::Invalid(format!("a value was refused by the database: {}", db.message()))
            }
            _ => Self::internal(error),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::TooLarge;
        }
        Self::BadRequest(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, cause = ?std::error::Error::source(&self), "request failed");
        }
        (status, Json(ErrorBody::new(code, self.to_string()))).into_response()
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot connect to PostgreSQL")]
    Connect(#[source] sqlx::Error),
    #[error("migrations failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database setup failed: {0}")]
    Setup(&'static str, #[source] sqlx::Error),
    #[error("cannot listen on {0}")]
    Listen(String, #[source] std::io::Error),
    #[error("serving failed")]
    Serve(#[source] std::io::Error),
    #[error("the token key is not 32 bytes")]
    TokenKey,
    #[error("bad configuration: {0}")]
    Config(String),
}
