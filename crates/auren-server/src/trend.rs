//! GET /v1/trend: the daily trend of a morning value (lnRMSSD or resting HR) over a span of days, for the
//! signed-in account or an athlete who granted it access, computed from the synced morning readings with
//! auren-hrv's readiness series (the 7-day rolling mean against the 60-day normal range). For lnRMSSD that
//! is the desktop's readiness method; the desktop has no resting-HR readiness, and resting HR goes through
//! the same windows and moments.
//!
//! Answers go through the Redis [`crate::redis::TrendCache`], keyed by the target user's version: every
//! push of that user bumps it, so a push makes every cached trend of the user unreachable without deleting
//! anything, and the athlete and a coach share one entry (they see the same readings: the coach's policy
//! on `records` leaves out only memories and settings). Who may read is decided before the cache is
//! consulted: the version is read as the asking user, and row-level security shows no version of an athlete
//! whose grant is not live — refused, cached answer or not. No PostgreSQL connection is held while Redis is
//! asked; on a miss the version is read again in the snapshot of the readings, which the entry is keyed by. The
//! `x-auren-cache` header says how the answer was found ([`crate::redis::Lookup::label`]), as
//! `auren_cache_total` does.

use crate::app::{ApiQuery, Authed, SharedState, check_quota};
use crate::db::begin_snapshot_as;
use crate::error::ApiError;
use crate::push::{EARLIEST_MS, LATEST_MS};
use crate::redis::Lookup;
use auren_hrv::readiness::{self, BASELINE_DAYS, MorningReading, Verdict};
use auren_protocol::trend::{MAX_TREND_DAYS, Trend, TrendDay, TrendMetric, TrendQuery, TrendVerdict};
use auren_protocol::{Change, Hlc, MorningChange};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use sqlx::PgConnection;
use uuid::Uuid;

/// The header naming how the answer was found: `hit`, `miss`, `unreadable`, `unavailable` or `off`.
pub static CACHE_HEADER: HeaderName = HeaderName::from_static("x-auren-cache");

const DAY_MS: i64 = 86_400_000;
/// The days a trend may cover: those of the wall times the server stores (2000-01-01 until 2100-01-01).
pub const FIRST_DAY: i64 = EARLIEST_MS / DAY_MS;
pub const LAST_DAY: i64 = LATEST_MS / DAY_MS - 1;

/// GET /v1/trend
#[utoipa::path(get, path = "/v1/trend", tag = "trend", security(("bearer" = [])),
    params(crate::openapi::TrendParams),
    responses((status = 200, description = "one entry per day of from..=to; the x-auren-cache header says whether it came from the cache", body = crate::openapi::TrendSchema),
               (status = 400, description = "a parameter is missing or not of its type", body = crate::openapi::ErrorSchema),
               (status = 403, description = "the athlete granted this account nothing", body = crate::openapi::ErrorSchema),
               (status = 422, description = "the span is empty, longer than 3,660 days or outside 2000-2099", body = crate::openapi::ErrorSchema)))]
pub async fn trend(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    ApiQuery(query): ApiQuery<TrendQuery>,
) -> Result<Response, ApiError> {
    check_span(&query)?;
    if let Err(limited) = check_quota(&state, &format!("read:{}", claims.device_id), state.sync_quota).await {
        return Ok(limited);
    }
    let target = match &query.athlete {
        None => claims.user_id,
        Some(athlete) => Uuid::parse_str(&athlete.0)
            .map_err(|_| ApiError::Invalid(format!("athlete {:?} is not a user id", athlete.0)))?,
    };
    // The version is read in a snapshot that is closed before Redis is asked: a Redis that hangs costs a
    // request its COMMAND_TIMEOUT, and holding an app connection through that wait would let a burst of
    // trend reads starve pushes of the pool.
    let mut tx = begin_snapshot_as(&state.pools.app, claims.user_id).await?;
    let version = readable_version(&mut tx, target).await?;
    tx.rollback().await?;
    let name = format!("trend:{}:{}:{}", query.metric.as_str(), query.from, query.to);
    let lookup = state.trends.get::<Trend>(target, version, &name).await;
    let label = lookup.label();
    let answer = match lookup {
        Lookup::Hit(trend) => trend,
        missed => {
            // A new snapshot: the version is read again beside the readings, so the cached entry is keyed
            // by exactly the rows read (and a grant revoked in between is noticed).
            let mut tx = begin_snapshot_as(&state.pools.app, claims.user_id).await?;
            let version = readable_version(&mut tx, target).await?;
            let first = query.from.saturating_sub(BASELINE_DAYS - 1);
            let readings = live_mornings(&mut tx, target, first, query.to).await?;
            tx.rollback().await?;
            let trend = compute(&query, &readings)?;
            if missed.wants_answer() {
                state.trends.put(target, version, &name, &trend).await;
            }
            trend
        }
    };
    metrics::counter!("auren_trend_requests_total").increment(1);
    Ok((
        [(CACHE_HEADER.clone(), HeaderValue::from_static(label))],
        Json(answer),
    )
        .into_response())
}

/// The data version of `target` as the transaction's user sees it. Row-level security shows the asking
/// account's own version and those of athletes with a live grant; any other is refused.
async fn readable_version(conn: &mut PgConnection, target: Uuid) -> Result<i64, ApiError> {
    let version: Option<i64> = sqlx::query_scalar("SELECT version FROM user_versions WHERE user_id = $1")
        .bind(target)
        .fetch_optional(&mut *conn)
        .await?;
    version.ok_or(ApiError::Forbidden("this athlete has not granted you access"))
}

fn check_span(query: &TrendQuery) -> Result<(), ApiError> {
    if !(FIRST_DAY..=LAST_DAY).contains(&query.from) || !(FIRST_DAY..=LAST_DAY).contains(&query.to) {
        return Err(ApiError::Invalid(format!(
            "from and to are day numbers (days since 1970-01-01) from {FIRST_DAY} to {LAST_DAY}"
        )));
    }
    if query.to < query.from || query.to - query.from >= MAX_TREND_DAYS {
        return Err(ApiError::Invalid(format!(
            "from..=to must hold 1 to {MAX_TREND_DAYS} days (from {} to {})",
            query.from, query.to
        )));
    }
    Ok(())
}

/// The stored morning record `body`, unless its tombstone is as new as its reading or newer: the rule
/// every device applies (a delete wins over the edits it saw, a later edit brings the reading back).
pub(crate) fn live_morning(
    body: Option<serde_json::Value>,
    tombstone: Option<serde_json::Value>,
) -> Option<MorningChange> {
    let Ok(Change::Morning(morning)) = serde_json::from_value::<Change>(body?) else {
        return None;
    };
    let deleted: Option<Hlc> = tombstone.and_then(|t| serde_json::from_value(t).ok());
    if deleted.is_some_and(|t| t >= morning.reading.hlc) {
        return None;
    }
    Some(morning)
}

/// The live morning readings of `user` on days `first..=last` (a record per day, keyed by its day number).
async fn live_mornings(
    conn: &mut PgConnection,
    user: Uuid,
    first: i64,
    last: i64,
) -> Result<Vec<MorningChange>, sqlx::Error> {
    let keys: Vec<String> = (first..=last).map(|day| day.to_string()).collect();
    let rows: Vec<(Option<serde_json::Value>, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT body, tombstone FROM records WHERE user_id = $1 AND collection = 'morning' AND key = ANY($2)",
    )
    .bind(user)
    .bind(&keys)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(body, tombstone)| live_morning(body, tombstone))
        .collect())
}

/// The trend of `query.metric` over `query.from..=query.to` from `mornings` (which may reach further back:
/// the first day's normal range looks 60 days back).
pub fn compute(query: &TrendQuery, mornings: &[MorningChange]) -> Result<Trend, ApiError> {
    let values: Vec<MorningReading> = mornings
        .iter()
        .filter_map(|m| {
            let reading = &m.reading.value;
            let value = match query.metric {
                TrendMetric::LnRmssd => Some(reading.ln_rmssd),
                TrendMetric::RestingHr => reading.resting_hr,
            };
            // `daily_series` reads any daily value from `MorningReading::ln_rmssd` (auren-hrv names the
            // field after its first use): for resting HR it holds the bpm, and the output's
            // `today_ln_rmssd` below is that same value back.
            value.map(|daily_value| MorningReading {
                day: m.day,
                ln_rmssd: daily_value,
            })
        })
        .collect();
    let series = readiness::daily_series(&values, query.from, query.to)
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    let days = series
        .iter()
        .map(|r| TrendDay {
            day: r.day,
            value: r.today_ln_rmssd,
            rolling_mean_7d: r.rolling_mean_7d.as_ref().ok().copied(),
            normal_range: r.normal_range.map(|(low, high)| [low, high]),
            verdict: r.verdict.map(|v| match v {
                Verdict::Below => TrendVerdict::Below,
                Verdict::Within => TrendVerdict::Within,
                Verdict::Above => TrendVerdict::Above,
            }),
        })
        .collect();
    Ok(Trend {
        metric: query.metric,
        from: query.from,
        to: query.to,
        days,
    })
}
