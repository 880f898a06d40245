//! The axum application: shared state, the extractors every handler uses (the signed-in device, JSON that
//! fails as `{code, message}`), the router with its layers (request ids, tracing spans, body limits,
//! metrics), and the JSON fallback for unknown paths.

use crate::auth::password::PasswordHashing;
use crate::auth::tokens::{AccessClaims, AccessTokens, TokenRejection};
use crate::db::Pools;
use crate::error::ApiError;
use crate::redis::{Limiter, Quota, Wake};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The largest request body (a push of beats: ~1,000 chunks of a minute each fit comfortably).
pub const BODY_LIMIT_BYTES: usize = 8 * 1024 * 1024;

/// The header carrying each request's id (made here unless the client or a proxy sent one).
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Everything a handler may use.
pub struct AppState {
    pub pools: Pools,
    pub tokens: AccessTokens,
    /// Whether an access token's device is still signed in (checked on every authenticated request).
    pub revocations: crate::auth::revocation::Revocations,
    pub passwords: PasswordHashing,
    pub wake: Wake,
    /// Removes forgotten memories' old row versions from the table files after the forget commits.
    pub erasures: crate::push::ErasureSweep,
    /// Pull reads in flight, shared by the pulls asking the same at once.
    pub pulls: crate::pull::PullFlights,
    pub limiter: Limiter,
    /// Trend answers in Redis, keyed by the user's version.
    pub trends: crate::redis::TrendCache,
    /// The change types pushes may carry (all of this build's, or an older server's for tests).
    pub change_types: ChangeTypes,
    /// Requests per device per second (push and pull).
    pub sync_quota: Quota,
    /// Sign-in attempts per email per minute.
    pub login_quota: Quota,
    pub metrics: PrometheusHandle,
    /// Months (start in Unix ms) whose beat partition is known to exist.
    pub partitions: Mutex<HashSet<i64>>,
    pub readiness: Vec<Box<dyn ReadinessProbe>>,
    pub clock: fn() -> i64,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Which change types the server accepts: this build's, or — to test devices against an older server — those
/// of a server from before the `accepts` list (the base types, [`auren_protocol::Change::is_base_type`]), which refuses a row of
/// another type as unknown and lists nothing in its push answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChangeTypes {
    #[default]
    Current,
    BeforeTheList,
}

impl ChangeTypes {
    /// Whether a change of `type_name` is stored.
    pub fn accepts(self, type_name: &str) -> bool {
        match self {
            Self::Current => auren_protocol::Change::TYPES.contains(&type_name),
            Self::BeforeTheList => auren_protocol::Change::is_base_type(type_name),
        }
    }

    /// What a push answer lists (`None`: the field is left out, as an older server does).
    pub fn listed(self) -> Option<Vec<String>> {
        match self {
            Self::Current => Some(
                auren_protocol::Change::TYPES
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect(),
            ),
            Self::BeforeTheList => None,
        }
    }
}

/// A dependency `/readyz` reports on.
pub trait ReadinessProbe: Send + Sync {
    fn name(&self) -> &'static str;
    fn status(&self) -> crate::ComponentStatus;
}

/// How many requests the server takes before it answers `rate_limited`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Per device: pushes and pulls (long polls included), and, counted apart, trend reads.
    pub sync: Quota,
    /// Per email: sign-ins.
    pub login: Quota,
}

impl Default for Quotas {
    /// Generous enough for a device pushing every second, tight enough to stop a loop.
    fn default() -> Self {
        let per_device =
            NonZeroU32::new(50).map_or_else(|| Quota::per_second(NonZeroU32::MIN), Quota::per_second);
        let per_login =
            NonZeroU32::new(20).map_or_else(|| Quota::per_minute(NonZeroU32::MIN), Quota::per_minute);
        Self {
            sync: per_device,
            login: per_login,
        }
    }
}

pub type SharedState = Arc<AppState>;

/// Unix milliseconds from the system clock.
pub fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The device a valid access token speaks for.
#[derive(Clone, Copy, Debug)]
pub struct Authed(pub AccessClaims);

impl FromRequestParts<SharedState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated(
                "no Authorization header; send Bearer <access token>",
            ))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated(
                "the Authorization header is not Bearer <access token>",
            ))?;
        let claims = match state.tokens.verify(token.trim(), (state.clock)()) {
            Ok(claims) => claims,
            Err(TokenRejection::Expired) => return Err(ApiError::TokenExpired),
            Err(TokenRejection::Invalid) => {
                return Err(ApiError::Unauthenticated(
                    "the access token is malformed, tampered with, or not from this server",
                ));
            }
        };
        state.revocations.check(&state.pools.app, &claims).await?;
        Ok(Self(claims))
    }
}

/// A JSON body whose rejection is a protocol error (`400 bad_request`, `413 too_large`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// A URL query whose rejection is a protocol error (`400 bad_request` with `{code, message}`).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        Ok(Self(value))
    }
}

/// Refuses a request once the caller's quota is spent (429 with Retry-After).
pub async fn check_quota(state: &AppState, key: &str, quota: Quota) -> Result<(), Response> {
    match state.limiter.check(key, quota).await {
        crate::redis::Decision::Allow { .. } => Ok(()),
        crate::redis::Decision::Deny { retry_after } => {
            metrics::counter!("auren_rate_limited_total").increment(1);
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let body = auren_protocol::ErrorBody::new(
                auren_protocol::error::codes::RATE_LIMITED,
                format!("too many requests; retry in {seconds} s"),
            );
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Err(response)
        }
    }
}

/// The router with every route and layer.
pub fn router(state: SharedState) -> Router {
    use auren_protocol::paths;
    let api = Router::new()
        .route(paths::ACCOUNTS, post(crate::auth::handlers::create_account))
        .route(paths::LOGIN, post(crate::auth::handlers::login))
        .route(paths::REFRESH, post(crate::auth::handlers::refresh))
        .route(paths::LOGOUT, post(crate::auth::handlers::logout))
        .route(paths::DEVICE_CODE, post(crate::auth::handlers::device_code_start))
        .route(
            paths::DEVICE_CODE_APPROVE,
            post(crate::auth::handlers::device_code_approve),
        )
        .route(
            paths::DEVICE_CODE_POLL,
            post(crate::auth::handlers::device_code_poll),
        )
        .route(paths::DEVICES, get(crate::auth::handlers::devices))
        .route(paths::DEVICE, delete(crate::auth::handlers::remove_device))
        .route(
            paths::COACH_GRANTS,
            get(crate::auth::coach::grants)
                .post(crate::auth::coach::grant)
                .delete(crate::auth::coach::revoke),
        )
        .route(paths::ATHLETES, get(crate::auth::coach::athletes))
        .route(paths::PUSH, post(crate::push::push))
        .route(paths::PULL, post(crate::pull::pull))
        .route(paths::TREND, get(crate::trend::trend))
        .route("/livez", get(crate::health::livez))
        .route("/readyz", get(crate::health::readyz))
        .route("/metrics", get(crate::health::metrics))
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(record_request))
        .with_state(state);
    api.layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint")
}

async fn method_not_allowed() -> Response {
    let body =
        auren_protocol::ErrorBody::new("method_not_allowed", "this endpoint does not take that method");
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

/// Counts requests and their latency per route and status class.
async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("auren_http_requests_total", "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("auren_http_request_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
