//! GET /openapi.json: the API described from the handlers' annotations. The wire types live in
//! auren-protocol, which takes no dependency but serde, so the schemas here mirror them field for field
//! (a change caught by the schema-fuzzing run, which sends what this document describes).

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "Auren sync server", description = "Push/pull sync of HRV sessions, accounts, devices and coach access"),
    paths(
        crate::auth::handlers::create_account, crate::auth::handlers::login, crate::auth::handlers::refresh,
        crate::auth::handlers::logout, crate::auth::handlers::device_code_start,
        crate::auth::handlers::device_code_approve, crate::auth::handlers::device_code_poll,
        crate::auth::handlers::devices, crate::auth::handlers::remove_device, crate::auth::coach::grant, crate::auth::coach::revoke,
        crate::auth::coach::grants, crate::auth::coach::athletes, crate::push::push, crate::pull::pull,
        crate::trend::trend, crate::health::livez, crate::health::readyz, crate::health::metrics,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("PASETO v4.local")
                    .build(),
            ),
        );
    }
}

/// GET /openapi.json
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `{code, message}`
#[derive(Serialize, ToSchema)]
pub struct ErrorSchema {
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreateAccountSchema {
    pub email: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    pub device_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginSchema {
    pub email: String,
    pub password: String,
    pub device_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPairSchema {
    pub access_token: String,
    pub access_expires_at_ms: i64,
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedInSchema {
    pub user_id: String,
    pub email: String,
    pub device_id: String,
    pub tokens: TokenPairSchema,
}

#[derive(Serialize, ToSchema)]
pub struct RefreshSchema {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCodeStartSchema {
    pub device_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCodeSchema {
    pub device_code: String,
    pub user_code: String,
    pub expires_at_ms: i64,
    pub interval_ms: u32,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCodeApproveSchema {
    pub user_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCodePollSchema {
    pub device_code: String,
}

/// `{"status": "pending" | "expired"}` or `{"status": "approved", …signed in}`.
#[derive(Serialize, ToSchema)]
pub struct DeviceCodeStatusSchema {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceInfoSchema {
    pub device_id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: Option<i64>,
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DevicesSchema {
    pub devices: Vec<DeviceInfoSchema>,
}

#[derive(Serialize, ToSchema)]
pub struct CoachGrantRequestSchema {
    pub coach_email: String,
}

#[derive(Serialize, ToSchema)]
pub struct CoachGrantSchema {
    pub coach_user_id: String,
    pub coach_email: String,
    pub granted_at_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CoachGrantsSchema {
    pub grants: Vec<CoachGrantSchema>,
}

#[derive(Serialize, ToSchema)]
pub struct AthleteSchema {
    pub user_id: String,
    pub email: String,
    pub granted_at_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AthletesSchema {
    pub athletes: Vec<AthleteSchema>,
}

/// One outbox row; `change` is tagged by `type` (see auren-protocol's `Change`).
#[derive(Serialize, ToSchema)]
pub struct PushRowSchema {
    pub outbox_id: i64,
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct PushRequestSchema {
    pub protocol_version: u32,
    pub device_id: String,
    pub rows: Vec<PushRowSchema>,
}

#[derive(Serialize, ToSchema)]
pub struct RowRejectionSchema {
    pub outbox_id: i64,
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct PushResponseSchema {
    pub last_applied: i64,
    pub rejected: Vec<RowRejectionSchema>,
    /// The change types this server accepts (absent from servers older than the list).
    pub accepts: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct PullRequestSchema {
    pub protocol_version: u32,
    #[schema(minimum = 0)]
    pub cursor: i64,
    pub athlete: Option<String>,
    pub limit: Option<u32>,
    #[schema(maximum = 25000)]
    pub wait_ms: Option<u32>,
    /// On a long poll of the account's own data: the athletes this device follows, and how far it has read
    /// each; the poll also ends when one has more or the grants are not this list.
    #[schema(max_items = 1000)]
    pub watch: Option<Vec<WatchedAthleteSchema>>,
}

#[derive(Serialize, ToSchema)]
pub struct WatchedAthleteSchema {
    pub athlete: String,
    #[schema(minimum = 0)]
    pub cursor: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AthletesNewsSchema {
    pub ahead: Vec<String>,
    pub grants_changed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PulledChangeSchema {
    pub version: i64,
    #[schema(value_type = Object)]
    pub origin: serde_json::Value,
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct PullResponseSchema {
    pub changes: Vec<PulledChangeSchema>,
    pub cursor: i64,
    pub more: bool,
    /// The answer to `watch` when the account's own data had nothing new.
    pub athletes: Option<AthletesNewsSchema>,
}

/// The query of GET /v1/trend.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// Which morning value: `ln_rmssd` or `resting_hr`.
    #[param(inline)]
    pub metric: TrendMetricSchema,
    /// The first day (days since 1970-01-01).
    #[param(minimum = 10957, maximum = 47481)]
    pub from: i64,
    /// The last day, included (at most 3,659 days after `from`).
    #[param(minimum = 10957, maximum = 47481)]
    pub to: i64,
    /// A coach reading an athlete who granted access (the athlete's user id).
    pub athlete: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendMetricSchema {
    LnRmssd,
    RestingHr,
}

#[derive(Serialize, ToSchema)]
pub struct TrendDaySchema {
    pub day: i64,
    pub value: Option<f64>,
    pub rolling_mean_7d: Option<f64>,
    /// `[low, high]`: the 60-day mean ± 0.5 SD.
    pub normal_range: Option<Vec<f64>>,
    pub verdict: Option<TrendVerdictSchema>,
}

/// Where the 7-day mean stands against the normal range.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendVerdictSchema {
    Below,
    Within,
    Above,
}

#[derive(Serialize, ToSchema)]
pub struct TrendSchema {
    pub metric: TrendMetricSchema,
    pub from: i64,
    pub to: i64,
    pub days: Vec<TrendDaySchema>,
}
