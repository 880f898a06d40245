//! Coach access: an athlete grants a coach (by email) read access to their data and may revoke it; the
//! coach lists the athletes whose grant is live and pulls their data (row-level security lets the coach
//! read an athlete's rows only while the grant is live). A grant or a revocation wakes the coach's long
//! polls, so a device watching its athletes ([`crate::pull`]) hears of it at once.

use super::validate;
use crate::app::{ApiJson, Authed, SharedState};
use crate::db::begin_as;
use crate::error::ApiError;
use auren_protocol::UserId;
use auren_protocol::auth::{Athlete, Athletes, CoachGrant, CoachGrantRequest, CoachGrants};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sqlx::Row;
use uuid::Uuid;

async fn coach_id(state: &SharedState, email: &str) -> Result<Uuid, ApiError> {
    let id: Option<Uuid> = sqlx::query_scalar("SELECT auren_user_id_by_email($1)")
        .bind(email)
        .fetch_one(&state.pools.app)
        .await?;
    id.ok_or(ApiError::NotFound("no account has this email"))
}

/// POST /v1/coach/grants
#[utoipa::path(post, path = "/v1/coach/grants", tag = "coach", security(("bearer" = [])),
    request_body = crate::openapi::CoachGrantRequestSchema,
    responses((status = 204, description = "the coach may read my data"),
               (status = 404, description = "no such account", body = crate::openapi::ErrorSchema)))]
pub async fn grant(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    ApiJson(request): ApiJson<CoachGrantRequest>,
) -> Result<StatusCode, ApiError> {
    let email = validate::email(&request.coach_email)?;
    let coach = coach_id(&state, &email).await?;
    if coach == claims.user_id {
        return Err(ApiError::Invalid("you cannot be your own coach".to_owned()));
    }
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    sqlx::query(
        "INSERT INTO coach_grants (athlete_id, coach_id, coach_email) VALUES ($1, $2, $3) \
         ON CONFLICT (athlete_id, coach_id) DO UPDATE SET revoked_at = NULL, granted_at = now() \
         WHERE coach_grants.revoked_at IS NOT NULL",
    )
    .bind(claims.user_id)
    .bind(coach)
    .bind(&email)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // The coach's devices watching their athletes learn of the grant now, not by their timer.
    state.wake.notify(coach).await;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /v1/coach/grants
#[utoipa::path(delete, path = "/v1/coach/grants", tag = "coach", security(("bearer" = [])),
    request_body = crate::openapi::CoachGrantRequestSchema,
    responses((status = 204, description = "the coach no longer sees anything of mine"),
               (status = 404, description = "no live grant to this coach", body = crate::openapi::ErrorSchema)))]
pub async fn revoke(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    ApiJson(request): ApiJson<CoachGrantRequest>,
) -> Result<StatusCode, ApiError> {
    let email = validate::email(&request.coach_email)?;
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    let revoked: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE coach_grants SET revoked_at = now() \
         WHERE athlete_id = $1 AND coach_email = $2 AND revoked_at IS NULL RETURNING coach_id",
    )
    .bind(claims.user_id)
    .bind(&email)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if revoked.is_empty() {
        return Err(ApiError::NotFound("no live grant to this coach"));
    }
    // The coach's devices forget the athlete's data at their next round: make that now.
    for coach in revoked {
        state.wake.notify(coach).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// GET /v1/coach/grants
#[utoipa::path(get, path = "/v1/coach/grants", tag = "coach", security(("bearer" = [])),
    responses((status = 200, description = "the coaches who may read my data", body = crate::openapi::CoachGrantsSchema)))]
pub async fn grants(
    State(state): State<SharedState>,
    Authed(claims): Authed,
) -> Result<Json<CoachGrants>, ApiError> {
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    let rows = sqlx::query(
        "SELECT coach_id, coach_email, (extract(epoch FROM granted_at) * 1000)::bigint FROM coach_grants \
         WHERE athlete_id = $1 AND revoked_at IS NULL ORDER BY granted_at, coach_id",
    )
    .bind(claims.user_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let grants = rows
        .iter()
        .map(|row| {
            Ok(CoachGrant {
                coach_user_id: UserId(row.try_get::<Uuid, _>(0)?.to_string()),
                coach_email: row.try_get(1)?,
                granted_at_ms: row.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(CoachGrants { grants }))
}

/// GET /v1/coach/athletes
#[utoipa::path(get, path = "/v1/coach/athletes", tag = "coach", security(("bearer" = [])),
    responses((status = 200, description = "the athletes whose data I may read", body = crate::openapi::AthletesSchema)))]
pub async fn athletes(
    State(state): State<SharedState>,
    Authed(claims): Authed,
) -> Result<Json<Athletes>, ApiError> {
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    let rows = sqlx::query(
        "SELECT g.athlete_id, u.email, (extract(epoch FROM g.granted_at) * 1000)::bigint \
         FROM coach_grants g JOIN users u ON u.id = g.athlete_id \
         WHERE g.coach_id = $1 AND g.revoked_at IS NULL ORDER BY u.email",
    )
    .bind(claims.user_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let athletes = rows
        .iter()
        .map(|row| {
            Ok(Athlete {
                user_id: UserId(row.try_get::<Uuid, _>(0)?.to_string()),
                email: row.try_get(1)?,
                granted_at_ms: row.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(Athletes { athletes }))
}
