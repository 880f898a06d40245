//! Accounts and tokens: create an account, sign in, rotate refresh tokens (a reused one revokes its whole
//! family), sign out, add a device by the device-code flow, list the devices.

use super::validate;
use crate::app::{ApiJson, Authed, SharedState, check_quota};
use crate::auth::revocation::Ended;
use crate::auth::tokens::{digest, random_secret, user_code};
use crate::db::begin_as;
use crate::error::ApiError;
use auren_protocol::auth::{
    CreateAccount, DeviceCode, DeviceCodeApprove, DeviceCodePoll, DeviceCodeStart, DeviceCodeStatus,
    DeviceInfo, Devices, Login, Logout, Refresh, SignedIn, TokenPair,
};
use auren_protocol::{DeviceId, UserId};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

/// How long a refresh token may wait unused.
const REFRESH_LIFETIME_DAYS: i32 = 60;
/// How long a device code waits for approval.
const DEVICE_CODE_TTL_SECONDS: i64 = 600;
/// How often the new device should poll.
const DEVICE_CODE_INTERVAL_MS: u32 = 2_000;

/// POST /v1/accounts
#[utoipa::path(post, path = "/v1/accounts", tag = "auth",
    request_body = crate::openapi::CreateAccountSchema,
    responses((status = 201, description = "signed in on this device", body = crate::openapi::SignedInSchema),
               (status = 409, description = "email taken", body = crate::openapi::ErrorSchema),
               (status = 422, description = "invalid email, password or name", body = crate::openapi::ErrorSchema)))]
pub async fn create_account(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<CreateAccount>,
) -> Result<Response, ApiError> {
    let email = validate::email(&request.email)?;
    validate::password(&request.password)?;
    let device_name = validate::name("device_name", &request.device_name)?;
    let hash = state
        .passwords
        .hash(request.password)
        .await
        .map_err(ApiError::internal)?;
    let user_id = Uuid::new_v4();
    let mut tx = begin_as(&state.pools.app, user_id).await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING",
    )
    .bind(user_id)
    .bind(&email)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::EmailTaken);
    }
    sqlx::query("INSERT INTO user_versions (user_id, version) VALUES ($1, 0)")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let signed_in = sign_in_device(&state, &mut tx, user_id, &email, &device_name).await?;
    tx.commit().await?;
    metrics::counter!("auren_accounts_created_total").increment(1);
    Ok((StatusCode::CREATED, Json(signed_in)).into_response())
}

/// POST /v1/auth/login
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body = crate::openapi::LoginSchema,
    responses((status = 200, description = "signed in", body = crate::openapi::SignedInSchema),
               (status = 401, description = "bad credentials", body = crate::openapi::ErrorSchema)))]
pub async fn login(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let email = validate::email(&request.email).map_err(|_| ApiError::BadCredentials)?;
    let device_name = validate::name("device_name", &request.device_name)?;
    if let Err(limited) = check_quota(&state, &format!("login:{email}"), state.login_quota).await {
        return Ok(limited);
    }
    let found = sqlx::query("SELECT user_id, password_hash FROM auren_login_lookup($1)")
        .bind(&email)
        .fetch_optional(&state.pools.app)
        .await?;
    let Some(found) = found else {
        // Spend the same hashing time as a wrong password, so timing does not tell which emails exist.
        let _ = state.passwords.hash(request.password).await;
        return Err(ApiError::BadCredentials);
    };
    let user_id: Uuid = found.try_get(0)?;
    let stored: String = found.try_get(1)?;
    let matches = state
        .passwords
        .verify(request.password, stored)
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        return Err(ApiError::BadCredentials);
    }
    let mut tx = begin_as(&state.pools.app, user_id).await?;
    let signed_in = sign_in_device(&state, &mut tx, user_id, &email, &device_name).await?;
    tx.commit().await?;
    Ok(Json(signed_in).into_response())
}

/// Registers a new device of `user_id` with a fresh token family; inside the caller's transaction.
async fn sign_in_device(
    state: &SharedState,
    tx: &mut Transaction<'static, Postgres>,
    user_id: Uuid,
    email: &str,
    device_name: &str,
) -> Result<SignedIn, ApiError> {
    let device_id = Uuid::new_v4();
    sqlx::query("INSERT INTO devices (id, user_id, name) VALUES ($1, $2, $3)")
        .bind(device_id)
        .bind(user_id)
        .bind(device_name)
        .execute(&mut **tx)
        .await?;
    let family_id = Uuid::new_v4();
    sqlx::query("INSERT INTO refresh_families (id, user_id, device_id) VALUES ($1, $2, $3)")
        .bind(family_id)
        .bind(user_id)
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
    let tokens = issue_pair(state, tx, user_id, device_id, family_id).await?;
    Ok(SignedIn {
        user_id: UserId(user_id.to_string()),
        email: email.to_owned(),
        device_id: DeviceId(device_id.to_string()),
        tokens,
    })
}

/// A new access token and a new refresh token of `family_id`.
async fn issue_pair(
    state: &SharedState,
    tx: &mut Transaction<'static, Postgres>,
    user_id: Uuid,
    device_id: Uuid,
    family_id: Uuid,
) -> Result<TokenPair, ApiError> {
    let refresh_token = random_secret().map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(days => $4))",
    )
    .bind(digest(&refresh_token))
    .bind(family_id)
    .bind(user_id)
    .bind(REFRESH_LIFETIME_DAYS)
    .execute(&mut **tx)
    .await?;
    let (access_token, access_expires_at_ms) = state
        .tokens
        .issue(user_id, device_id, (state.clock)())
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token,
        access_expires_at_ms,
        refresh_token,
    })
}

/// What the database knows of a presented refresh token.
struct RefreshLookup {
    user_id: Uuid,
    family_id: Uuid,
    device_id: Uuid,
    used: bool,
    expired: bool,
    revoked: bool,
}

async fn lookup_refresh(state: &SharedState, token: &str) -> Result<Option<RefreshLookup>, ApiError> {
    let row = sqlx::query(
        "SELECT user_id, family_id, device_id, used, expired, revoked FROM auren_refresh_lookup($1)",
    )
    .bind(digest(token))
    .fetch_optional(&state.pools.app)
    .await?;
    row.map(|row| {
        Ok(RefreshLookup {
            user_id: row.try_get(0)?,
            family_id: row.try_get(1)?,
            device_id: row.try_get(2)?,
            used: row.try_get(3)?,
            expired: row.try_get(4)?,
            revoked: row.try_get(5)?,
        })
    })
    .transpose()
}

/// Revokes a token family (reuse or sign-out) and with it the device's access tokens.
async fn revoke_family(state: &SharedState, found: &RefreshLookup, reason: Ended) -> Result<(), ApiError> {
    let mut tx = begin_as(&state.pools.app, found.user_id).await?;
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(found.family_id)
    .bind(reason.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    state.revocations.revoked(found.device_id, reason).await;
    Ok(())
}

/// POST /v1/auth/refresh
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth",
    request_body = crate::openapi::RefreshSchema,
    responses((status = 200, description = "a new pair; the old refresh token is spent", body = crate::openapi::TokenPairSchema),
               (status = 401, description = "unknown, expired, revoked or reused token", body = crate::openapi::ErrorSchema)))]
pub async fn refresh(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<Refresh>,
) -> Result<Json<TokenPair>, ApiError> {
    let found = lookup_refresh(&state, &request.refresh_token)
        .await?
        .ok_or(ApiError::Unauthenticated("unknown refresh token"))?;
    if found.revoked {
        return Err(ApiError::Unauthenticated(
            "this sign-in was revoked; sign in again",
        ));
    }
    if found.used {
        return Err(reused(&state, &found).await);
    }
    if found.expired {
        return Err(ApiError::Unauthenticated(
            "the refresh token has expired; sign in again",
        ));
    }
    let mut tx = begin_as(&state.pools.app, found.user_id).await?;
    let spent =
        sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL")
            .bind(digest(&request.refresh_token))
            .execute(&mut *tx)
            .await?;
    if spent.rows_affected() == 0 {
        // Another request spent it between the lookup and here: the same token was presented twice.
        drop(tx);
        return Err(reused(&state, &found).await);
    }
    let pair = issue_pair(&state, &mut tx, found.user_id, found.device_id, found.family_id).await?;
    tx.commit().await?;
    Ok(Json(pair))
}

/// A spent refresh token came back: someone else may hold a copy, so the family ends.
async fn reused(state: &SharedState, found: &RefreshLookup) -> ApiError {
    metrics::counter!("auren_refresh_token_reuse_total").increment(1);
    tracing::warn!(user_id = %found.user_id, device_id = %found.device_id, "refresh token reused; family revoked");
    match revoke_family(state, found, Ended::Reused).await {
        Ok(()) => ApiError::TokenReused,
        Err(error) => error,
    }
}

/// POST /v1/auth/logout
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    request_body = crate::openapi::RefreshSchema,
    responses((status = 204, description = "the device's token family and access tokens are revoked (also for an unknown token)")))]
pub async fn logout(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<Logout>,
) -> Result<StatusCode, ApiError> {
    if let Some(found) = lookup_refresh(&state, &request.refresh_token).await? {
        revoke_family(&state, &found, Ended::SignedOut).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// POST /v1/auth/device-code
#[utoipa::path(post, path = "/v1/auth/device-code", tag = "auth",
    request_body = crate::openapi::DeviceCodeStartSchema,
    responses((status = 200, description = "codes to approve and poll with", body = crate::openapi::DeviceCodeSchema)))]
pub async fn device_code_start(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<DeviceCodeStart>,
) -> Result<Json<DeviceCode>, ApiError> {
    let device_name = validate::name("device_name", &request.device_name)?;
    let device_code = random_secret().map_err(ApiError::internal)?;
    let code = user_code().map_err(ApiError::internal)?;
    sqlx::query("SELECT auren_device_code_start($1, $2, $3, make_interval(secs => $4))")
        .bind(digest(&device_code))
        .bind(&code)
        .bind(&device_name)
        .bind(DEVICE_CODE_TTL_SECONDS as f64)
        .execute(&state.pools.app)
        .await?;
    Ok(Json(DeviceCode {
        device_code,
        user_code: code,
        expires_at_ms: (state.clock)() + DEVICE_CODE_TTL_SECONDS * 1000,
        interval_ms: DEVICE_CODE_INTERVAL_MS,
    }))
}

/// POST /v1/auth/device-code/approve
#[utoipa::path(post, path = "/v1/auth/device-code/approve", tag = "auth",
    request_body = crate::openapi::DeviceCodeApproveSchema,
    security(("bearer" = [])),
    responses((status = 204, description = "approved for the signed-in account"),
               (status = 404, description = "unknown, expired or already approved code", body = crate::openapi::ErrorSchema)))]
pub async fn device_code_approve(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    ApiJson(request): ApiJson<DeviceCodeApprove>,
) -> Result<StatusCode, ApiError> {
    let code = request.user_code.trim().to_uppercase();
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    let approved: Option<String> = sqlx::query_scalar("SELECT auren_device_code_approve($1)")
        .bind(&code)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    match approved {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound(
            "no pending device code like this; ask the new device for a fresh one",
        )),
    }
}

/// POST /v1/auth/device-code/poll
#[utoipa::path(post, path = "/v1/auth/device-code/poll", tag = "auth",
    request_body = crate::openapi::DeviceCodePollSchema,
    responses((status = 200, description = "pending, approved (with tokens, once) or expired", body = crate::openapi::DeviceCodeStatusSchema),
               (status = 404, description = "unknown or already used device code", body = crate::openapi::ErrorSchema)))]
pub async fn device_code_poll(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<DeviceCodePoll>,
) -> Result<Json<DeviceCodeStatus>, ApiError> {
    // Claim and sign in in one transaction: a crash between them must not spend the code.
    let mut tx = state.pools.app.begin().await?;
    let row = sqlx::query("SELECT state, user_id, device_name FROM auren_device_code_claim($1)")
        .bind(digest(&request.device_code))
        .fetch_one(&mut *tx)
        .await?;
    let claim: String = row.try_get(0)?;
    match claim.as_str() {
        "pending" => Ok(Json(DeviceCodeStatus::Pending)),
        "expired" => Ok(Json(DeviceCodeStatus::Expired)),
        "approved" => {
            let user_id: Uuid = row.try_get(1)?;
            let device_name: String = row.try_get(2)?;
            sqlx::query("SELECT set_config('app.user_id', $1, true)")
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
            let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            let signed_in = sign_in_device(&state, &mut tx, user_id, &email, &device_name).await?;
            tx.commit().await?;
            Ok(Json(DeviceCodeStatus::Approved(signed_in)))
        }
        _ => Err(ApiError::NotFound("unknown or already used device code")),
    }
}

/// GET /v1/devices
#[utoipa::path(get, path = "/v1/devices", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "the account's signed-in devices", body = crate::openapi::DevicesSchema)))]
pub async fn devices(
    State(state): State<SharedState>,
    Authed(claims): Authed,
) -> Result<Json<Devices>, ApiError> {
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    let rows = sqlx::query(
        "SELECT id, name, (extract(epoch FROM created_at) * 1000)::bigint, \
                (extract(epoch FROM last_seen_at) * 1000)::bigint \
         FROM devices d WHERE user_id = $1 AND revoked_at IS NULL \
               AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.device_id = d.id AND f.revoked_at IS NULL) \
         ORDER BY created_at, id",
    )
    .bind(claims.user_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let devices = rows
        .iter()
        .map(|row| {
            let id: Uuid = row.try_get(0)?;
            Ok(DeviceInfo {
                device_id: DeviceId(id.to_string()),
                name: row.try_get(1)?,
                created_at_ms: row.try_get(2)?,
                last_seen_at_ms: row.try_get(3)?,
                current: id == claims.device_id,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(Devices { devices }))
}

/// DELETE /v1/devices/{device_id}
#[utoipa::path(delete, path = "/v1/devices/{device_id}", tag = "auth", security(("bearer" = [])),
    params(("device_id" = String, Path, description = "a device of the signed-in account")),
    responses((status = 204, description = "removed: its tokens stop working at once; the data it sent stays"),
               (status = 404, description = "no live device of this account has this id", body = crate::openapi::ErrorSchema),
               (status = 422, description = "the device making the request (sign out instead)", body = crate::openapi::ErrorSchema)))]
pub async fn remove_device(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    Path(device_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    const MISSING: &str = "no live device of this account has this id; `auren devices` lists them";
    let device_id = Uuid::parse_str(device_id.trim()).map_err(|_| ApiError::NotFound(MISSING))?;
    if device_id == claims.device_id {
        // Removing the device you are using would strand it signed in with dead tokens: signing out does
        // the same on the server and also forgets the tokens here.
        return Err(ApiError::Invalid(
            "that is the device making this request; sign out on it instead (auren logout)".to_owned(),
        ));
    }
    let mut tx = begin_as(&state.pools.app, claims.user_id).await?;
    let removed = sqlx::query(
        "UPDATE devices SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(device_id)
    .bind(claims.user_id)
    .execute(&mut *tx)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(ApiError::NotFound(MISSING));
    }
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'device_removed' \
         WHERE device_id = $1 AND revoked_at IS NULL",
    )
    .bind(device_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    state.revocations.revoked(device_id, Ended::DeviceRemoved).await;
    metrics::counter!("auren_devices_removed_total").increment(1);
    Ok(StatusCode::NO_CONTENT)
}
