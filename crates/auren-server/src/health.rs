//! /livez (the process answers), /readyz (PostgreSQL answers; Redis and the broker are reported, and a
//! fallback in use is "degraded", still ready) and /metrics (Prometheus text).

use crate::ComponentStatus;
use crate::app::SharedState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long /readyz waits for PostgreSQL.
const DB_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// GET /livez
#[utoipa::path(get, path = "/livez", tag = "health", responses((status = 200, description = "the process is up")))]
pub async fn livez() -> &'static str {
    "ok"
}

/// The /readyz answer.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub components: BTreeMap<&'static str, ComponentStatus>,
}

/// GET /readyz
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "ready (components may be degraded)"),
              (status = 503, description = "PostgreSQL does not answer")))]
pub async fn readyz(State(state): State<SharedState>) -> Response {
    let mut components = BTreeMap::new();
    let database = match tokio::time::timeout(
        DB_PROBE_TIMEOUT,
        sqlx::query("SELECT 1").execute(&state.pools.app),
    )
    .await
    {
        Ok(Ok(_)) => ComponentStatus::Up,
        Ok(Err(error)) => ComponentStatus::Down {
            reason: error.to_string(),
        },
        Err(_) => ComponentStatus::Down {
            reason: format!("no answer within {} s", DB_PROBE_TIMEOUT.as_secs()),
        },
    };
    let ready = database == ComponentStatus::Up;
    components.insert("postgres", database);
    // The limiter learns of a dead Redis from a failed call: ask before saying where its limits live.
    state.limiter.probe().await;
    components.insert("redis_limiter", state.limiter.status());
    components.insert("redis_wake", state.wake.status());
    for probe in &state.readiness {
        components.insert(probe.name(), probe.status());
    }
    for (name, status) in &components {
        let value = match status {
            ComponentStatus::Up => 0.0,
            ComponentStatus::Degraded { .. } => 1.0,
            ComponentStatus::Down { .. } => 2.0,
        };
        metrics::gauge!("auren_component_state", "component" => *name).set(value);
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, components })).into_response()
}

/// GET /metrics
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<SharedState>) -> Response {
    metrics::gauge!("auren_long_polls_waiting").set(state.pulls.parked() as f64);
    // Sampled at scrape time: counting costs a walk over the users with a poll open.
    metrics::gauge!("auren_wake_listeners").set(state.wake.waiting_listeners() as f64);
    state.metrics.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Samples what only the database knows (outbox depth and age, rows in the DEFAULT partition) into gauges;
/// run periodically by the server.
pub async fn sample_database_gauges(owner: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let (depth, age): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*)::bigint, extract(epoch FROM now() - min(created_at))::float8 FROM server_outbox",
    )
    .fetch_one(owner)
    .await?;
    metrics::gauge!("auren_outbox_depth").set(depth as f64);
    metrics::gauge!("auren_outbox_oldest_age_seconds").set(age.unwrap_or(0.0));
    let stray = crate::db::default_partition_rows(owner).await?;
    metrics::gauge!("auren_beat_default_partition_rows").set(stray as f64);
    if stray > 0 {
        tracing::error!(
            rows = stray,
            "beat chunks in the DEFAULT partition: create their month's partition"
        );
    }
    Ok(())
}
