//! POST /v1/sync/push: a device's outbox rows, applied in order in one transaction that also advances the
//! device's last applied outbox id. Rows at or below that id were applied before (a retry, a duplicate, a
//! response lost after commit) and are skipped, so a push changes the server at most once. A row that fails
//! its checks is answered in `rejected`, recorded in `rejected_rows` and counted as applied.
//!
//! Every answer lists the change types this server accepts. A row of a type added within the protocol
//! version (`Change::NEWER_TYPES`) may come late — a device holds it back until its server lists the
//! type — and so at or below the device's mark: such a row is applied unless `newer_type_rows` records that
//! this device's row of that id was taken before, and every such row taken is recorded there — only those at
//! or below the device's mark when a server with the list first answered it (`devices.listed_from`): a device
//! holds rows back only until then, so later rows cannot be late and the table stays bounded by the backlog.
//!
//! The transaction first locks the device's row (`SELECT … FOR UPDATE`), so the mark and the late-row
//! records it reads cannot be overtaken by a concurrent push of the same device. It then bumps the user's
//! version (`UPDATE user_versions … RETURNING`), which holds the user's row lock to the end: pushes of one
//! user apply one after another, every row they write carries that version, and versions become visible in
//! order, so a pull never skips a late commit.

mod apply;
mod erasure;
mod prepare;
mod records;

pub use apply::ChunkExtras;
pub(crate) use apply::insert_alert_row;
pub use erasure::{ErasureSweep, SWEEP_GAP, SweepStopped};
pub use prepare::{EARLIEST_MS, LATEST_MS, collection_of};

use crate::app::{ApiJson, Authed, ChangeTypes, SharedState, check_quota};
use crate::auth::validate;
use crate::db::begin_as;
use crate::error::ApiError;
use apply::PushContext;
use auren_protocol::{PushRequest, PushResponse, PushRow, RowRejection};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sqlx::{PgConnection, Row};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// Most rows in one push (the client sends fewer; more is answered 413 so it splits).
pub const MAX_PUSH_ROWS: usize = 10_000;

/// POST /v1/sync/push
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", security(("bearer" = [])),
    request_body = crate::openapi::PushRequestSchema,
    responses((status = 200, description = "applied; rows at or below last_applied are done", body = crate::openapi::PushResponseSchema),
               (status = 400, description = "not a push request, or another protocol version", body = crate::openapi::ErrorSchema),
               (status = 403, description = "device_id is not the token's device", body = crate::openapi::ErrorSchema),
               (status = 413, description = "too many rows or bytes: split the batch", body = crate::openapi::ErrorSchema)))]
pub async fn push(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Response, ApiError> {
    validate::protocol_version(request.protocol_version)?;
    if Uuid::parse_str(&request.device_id.0).ok() != Some(claims.device_id) {
        return Err(ApiError::Forbidden(
            "device_id is not the device this access token was issued to",
        ));
    }
    if request.rows.len() > MAX_PUSH_ROWS {
        return Err(ApiError::TooLarge);
    }
    if let Err(limited) = check_quota(&state, &format!("sync:{}", claims.device_id), state.sync_quota).await {
        return Ok(limited);
    }
    // In outbox order, each id once (a client bug must not apply a row twice).
    let rows: BTreeMap<i64, &PushRow> = request.rows.iter().rev().map(|r| (r.outbox_id, r)).collect();
    let response = apply_push(&state, claims.user_id, claims.device_id, &rows).await?;
    Ok(Json(response).into_response())
}

async fn apply_push(
    state: &SharedState,
    user: Uuid,
    device: Uuid,
    rows: &BTreeMap<i64, &PushRow>,
) -> Result<PushResponse, ApiError> {
    let mut tx = begin_as(&state.pools.app, user).await?;
    // The device's row is locked before the mark and the late-row records are read: two pushes of one
    // device (a retry racing its original) sort their rows one after the other, so a late row is taken once
    // by the check itself, not only by store_batch's merge making a second apply harmless.
    let marks: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT last_applied_outbox_id, listed_from FROM devices WHERE id = $1 AND revoked_at IS NULL FOR UPDATE",
    )
    .bind(device)
    .fetch_optional(&mut *tx)
    .await?;
    let (last, listed_from) = marks.ok_or(ApiError::Forbidden("this device was removed from the account"))?;
    let (late_bound, first_listing) = late_bound(state.change_types, last, listed_from);
    let Sorted {
        fresh,
        late,
        mut rejected,
    } = sort_rows(&mut tx, state.change_types, device, last, late_bound, rows).await?;
    let accepts = state.change_types.listed();
    if first_listing {
        sqlx::query("UPDATE devices SET listed_from = $2 WHERE id = $1")
            .bind(device)
            .bind(late_bound)
            .execute(&mut *tx)
            .await?;
    }
    if fresh.is_empty() {
        // Only the first listing wrote anything.
        tx.commit().await?;
        return Ok(PushResponse {
            last_applied: last,
            rejected,
            accepts,
        });
    }
    let newest = fresh.last().map_or(last, |r| r.outbox_id.max(last));
    let version: i64 = sqlx::query_scalar(
        "UPDATE user_versions SET version = version + 1 WHERE user_id = $1 RETURNING version",
    )
    .bind(user)
    .fetch_one(&mut *tx)
    .await?;
    let mut ctx = PushContext {
        user,
        device,
        version,
        session_starts: Default::default(),
        chunks: Vec::new(),
        live: Vec::new(),
        outbox: Vec::new(),
        rejected: Vec::new(),
        erased: false,
    };
    let checks = check_rows(&mut tx, &mut ctx, state.change_types, &fresh).await?;
    let counts = apply_rows(&mut tx, &mut ctx, &fresh, checks).await?;
    ensure_chunk_partitions(state, &ctx).await?;
    let beats = apply::insert_chunks(&mut tx, &mut ctx).await?;
    apply::write_outbox_and_rejections(&mut tx, &ctx).await?;
    record_newer_type_rows(&mut tx, state.change_types, user, device, late_bound, &fresh).await?;
    sqlx::query(
        "UPDATE devices SET last_applied_outbox_id = GREATEST(last_applied_outbox_id, $2), last_seen_at = now() \
         WHERE id = $1",
    )
    .bind(device)
    .bind(newest)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if ctx.erased {
        // Committed: the old row versions with the text are dead now, and the sweep can remove them.
        state.erasures.request();
    }
    state.wake.notify(user).await;
    metrics::counter!("auren_push_rows_total").increment(counts);
    metrics::counter!("auren_push_late_rows_total").increment(late);
    metrics::counter!("auren_beats_ingested_total").increment(beats);
    metrics::counter!("auren_push_rejected_total").increment(ctx.rejected.len() as u64);
    rejected.extend(ctx.rejected.into_iter().map(|(r, _)| r));
    rejected.sort_by_key(|r| r.outbox_id);
    Ok(PushResponse {
        last_applied: newest,
        rejected,
        accepts,
    })
}

/// Checks every row — before any query: a refused row's values (a NUL byte) must never reach PostgreSQL —
/// and loads the start times of the sessions the rows that passed name.
async fn check_rows(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    types: ChangeTypes,
    fresh: &[&PushRow],
) -> Result<Vec<Result<(), prepare::Refusal>>, ApiError> {
    let checks: Vec<Result<(), prepare::Refusal>> =
        fresh.iter().map(|r| check_row(types, &r.change)).collect();
    let keys: Vec<String> = fresh
        .iter()
        .zip(&checks)
        .filter(|(_, check)| check.is_ok())
        .filter_map(|(r, _)| r.change.session_key().map(str::to_owned))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    ctx.session_starts = apply::load_session_starts(conn, ctx.user, &keys).await?;
    Ok(checks)
}

/// A push's rows, sorted against the device's mark.
struct Sorted<'a> {
    /// To apply, in outbox order: the late rows below the mark, then the new ones above it.
    fresh: Vec<&'a PushRow>,
    /// How many of them are late.
    late: u64,
    /// The answers recorded for the repeats (the rows below the mark that are not late).
    rejected: Vec<RowRejection>,
}

async fn sort_rows<'a>(
    conn: &mut PgConnection,
    types: ChangeTypes,
    device: Uuid,
    last: i64,
    late_bound: i64,
    rows: &BTreeMap<i64, &'a PushRow>,
) -> Result<Sorted<'a>, ApiError> {
    let below: Vec<&PushRow> = rows.range(..=last).map(|(_, r)| *r).collect();
    let may_be_late: Vec<&PushRow> = rows.range(..=late_bound.min(last)).map(|(_, r)| *r).collect();
    let late = late_rows(conn, types, device, &may_be_late).await?;
    let repeated: Vec<i64> = below
        .iter()
        .map(|r| r.outbox_id)
        .filter(|id| !late.contains(id))
        .collect();
    let rejected = recorded_rejections(conn, device, &repeated).await?;
    let fresh = below
        .iter()
        .copied()
        .filter(|r| late.contains(&r.outbox_id))
        .chain(rows.range(last.saturating_add(1)..).map(|(_, r)| *r))
        .collect();
    Ok(Sorted {
        fresh,
        late: late.len() as u64,
        rejected,
    })
}

/// A row's checks, after whether this server stores its type at all (a server from before the list refused a
/// newer type as unknown, with the code of an unknown one).
fn check_row(types: ChangeTypes, change: &auren_protocol::Change) -> Result<(), prepare::Refusal> {
    if !types.accepts(change.type_name()) {
        return Err((
            auren_protocol::error::codes::row::UNSUPPORTED,
            "unknown change type".to_owned(),
        ));
    }
    prepare::check(change)
}

/// Whether a row's type was added within the protocol version (so a device may send it late).
fn newer_type(types: ChangeTypes, change: &auren_protocol::Change) -> bool {
    let name = change.type_name();
    types == ChangeTypes::Current && auren_protocol::Change::NEWER_TYPES.contains(&name)
}

/// The ids among `below` (rows at or below the device's mark) of a newer type that this device's push never
/// brought before: rows it held back until this server listed their type.
async fn late_rows(
    conn: &mut PgConnection,
    types: ChangeTypes,
    device: Uuid,
    below: &[&PushRow],
) -> Result<HashSet<i64>, ApiError> {
    let candidates: Vec<i64> = below
        .iter()
        .filter(|r| newer_type(types, &r.change))
        .map(|r| r.outbox_id)
        .collect();
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let taken: HashSet<i64> = sqlx::query_scalar(
        "SELECT outbox_id FROM newer_type_rows WHERE device_id = $1 AND outbox_id = ANY($2)",
    )
    .bind(device)
    .bind(&candidates)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    Ok(candidates.into_iter().filter(|id| !taken.contains(id)).collect())
}

/// The highest outbox id of this device that may come late, and whether this push is the first a server
/// with the list answers (so the bound is to be stored). A device holds rows back only until it first reads
/// the list, so its held rows are at or below its mark then; before that (an older server, or none yet)
/// nothing is recorded, as an older server records nothing.
fn late_bound(types: ChangeTypes, last: i64, listed_from: Option<i64>) -> (i64, bool) {
    match (types, listed_from) {
        (ChangeTypes::Current, Some(bound)) => (bound, false),
        (ChangeTypes::Current, None) => (last, true),
        (ChangeTypes::BeforeTheList, _) => (i64::MIN, false),
    }
}

/// Records the rows of a newer type among `taken` (accepted or refused) at or below `late_bound`, so that
/// one sent again is skipped; rows after the bound are sent in order, and a repeat of one is below the mark.
async fn record_newer_type_rows(
    conn: &mut PgConnection,
    types: ChangeTypes,
    user: Uuid,
    device: Uuid,
    late_bound: i64,
    taken: &[&PushRow],
) -> Result<(), ApiError> {
    let ids: Vec<i64> = taken
        .iter()
        .filter(|r| r.outbox_id <= late_bound && newer_type(types, &r.change))
        .map(|r| r.outbox_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO newer_type_rows (user_id, device_id, outbox_id) SELECT $1, $2, unnest($3::bigint[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(user)
    .bind(device)
    .bind(&ids)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies the fresh rows in order (refused ones are recorded instead); returns how many there were.
async fn apply_rows(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    fresh: &[&PushRow],
    checks: Vec<Result<(), prepare::Refusal>>,
) -> Result<u64, ApiError> {
    for (row, check) in fresh.iter().zip(checks) {
        let refusal = match check {
            Err(refusal) => Some(refusal),
            Ok(()) => apply::apply_row(conn, ctx, &row.change).await?,
        };
        if let Some(refusal) = refusal {
            ctx.reject(row.outbox_id, &row.change, refusal);
        }
    }
    Ok(fresh.len() as u64)
}

/// Makes sure the month partition of every queued chunk exists (created ahead at start and daily; a chunk
/// far in the past gets its month here, before the insert, so it never lands in the DEFAULT partition).
async fn ensure_chunk_partitions(state: &SharedState, ctx: &PushContext) -> Result<(), ApiError> {
    let months: HashSet<i64> = ctx
        .chunks
        .iter()
        .map(|c| crate::db::month_start_ms(c.wall_ms))
        .collect();
    let missing: Vec<i64> = {
        let known = state
            .partitions
            .lock()
            .map_err(|_| ApiError::internal(PoisonedCache))?;
        months.into_iter().filter(|m| !known.contains(m)).collect()
    };
    for month in missing {
        crate::db::ensure_partitions(&state.pools.owner, month, month).await?;
        state
            .partitions
            .lock()
            .map_err(|_| ApiError::internal(PoisonedCache))?
            .insert(month);
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("the partition cache lock was poisoned")]
struct PoisonedCache;

/// The rejections recorded when rows `ids` were first applied (a retried push gets the same answer).
async fn recorded_rejections(
    conn: &mut PgConnection,
    device: Uuid,
    ids: &[i64],
) -> Result<Vec<RowRejection>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT outbox_id, code, reason FROM rejected_rows WHERE device_id = $1 AND outbox_id = ANY($2) ORDER BY outbox_id",
    )
    .bind(device)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(RowRejection {
                outbox_id: r.try_get(0)?,
                code: r.try_get(1)?,
                message: r.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}
