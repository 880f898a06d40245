//! Typed calls of the sync server's HTTP API. Every failure keeps what the server said (`{code, message}`
//! and the status) or why it could not be reached.

use auren_protocol::{ErrorBody, PROTOCOL_VERSION, VERSION_HEADER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the sync server {url}: {}", causes(source))]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the sync server answered {status}: {} ({})", body.message, body.code)]
    Refused { status: StatusCode, body: ErrorBody },
    #[error("the sync server's answer to {url} is not what the protocol says: {reason}")]
    Unexpected { url: String, reason: String },
}

impl ApiError {
    /// The server's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { body, .. } => Some(&body.code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `error` followed by every cause behind it: reqwest's own message omits them ("error sending request for
/// url …"), and they say what happened ("invalid peer certificate: UnknownIssuer", "Connection refused").
pub fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let shown = cause.to_string();
        // Errors that already print their source are not repeated.
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        next = cause.source();
    }
    text
}

/// One server.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:8080`); requests time out after `timeout`, which
    /// must exceed the long-poll wait.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, ApiError> {
        // reqwest is built without a crypto provider of its own (see the workspace Cargo.toml): ring, once per
        // process; a provider installed earlier stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| ApiError::Unreachable {
                url: base.to_owned(),
                source,
            })?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `body` (none for GET) to `path`, with `token` as the bearer; decodes a 2xx answer as `R`
    /// (an empty 204 decodes as `()` or `null`).
    pub async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<R, ApiError> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .header(VERSION_HEADER, PROTOCOL_VERSION.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|source| ApiError::Unreachable {
            url: url.clone(),
            source,
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|source| ApiError::Unreachable {
            url: url.clone(),
            source,
        })?;
        if !status.is_success() {
            let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| {
                ErrorBody::new(
                    auren_protocol::error::codes::INTERNAL,
                    String::from_utf8_lossy(&bytes)
                        .chars()
                        .take(200)
                        .collect::<String>(),
                )
            });
            return Err(ApiError::Refused { status, body });
        }
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| ApiError::Unexpected {
            url,
            reason: e.to_string(),
        })
    }
}
