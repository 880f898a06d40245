//! POST /v1/sync/pull: every change of a user newer than the device's cursor, in version order, read in one
//! REPEATABLE READ snapshot. Pushes commit versions in order (the per-user lock), so once a pull has read
//! the user's version V, every row at or below V is visible and the cursor can move to V without skipping a
//! late commit. A coach pulls an athlete by id; row-level security shows an athlete's rows only while the
//! grant is live. With `wait_ms`, a pull that finds nothing waits for a wake-up (a push of that user on any
//! server process, through Redis pub/sub; or a server-side alert) or the timeout.

use crate::app::{ApiJson, Authed, SharedState, check_quota};
use crate::auth::validate;
use crate::db::{Isolation, begin_as_with};
use crate::error::ApiError;
use crate::push::ChunkExtras;
use auren_protocol::{
    AlertChange, BeatsChunk, Change, DeviceId, Hlc, Origin, PullRequest, PullResponse, PulledChange,
    SessionChange, TombstoneChange,
};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::time::Duration;
use uuid::Uuid;

/// Most changes per answer when the client names no limit, and the most it may ask for.
pub const DEFAULT_LIMIT: u32 = 1_000;
pub const MAX_LIMIT: u32 = 10_000;
/// The longest long-poll (a proxy in front usually cuts idle requests at 30–60 s).
pub const MAX_WAIT: Duration = Duration::from_secs(25);

/// POST /v1/sync/pull
#[utoipa::path(post, path = "/v1/sync/pull", tag = "sync", security(("bearer" = [])),
    request_body = crate::openapi::PullRequestSchema,
    responses((status = 200, description = "changes newer than the cursor", body = crate::openapi::PullResponseSchema),
               (status = 403, description = "the athlete granted this account nothing", body = crate::openapi::ErrorSchema)))]
pub async fn pull(
    State(state): State<SharedState>,
    Authed(claims): Authed,
    ApiJson(request): ApiJson<PullRequest>,
) -> Result<Response, ApiError> {
    validate::protocol_version(request.protocol_version)?;
    if request.cursor < 0 {
        return Err(ApiError::Invalid(
            "cursor must be 0 or a cursor the server returned".to_owned(),
        ));
    }
    if let Err(limited) = check_quota(&state, &format!("sync:{}", claims.device_id), state.sync_quota).await {
        return Ok(limited);
    }
    let target = match &request.athlete {
        None => claims.user_id,
        Some(athlete) => Uuid::parse_str(&athlete.0)
            .map_err(|_| ApiError::Invalid(format!("athlete {:?} is not a user id", athlete.0)))?,
    };
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let wait = Duration::from_millis(u64::from(request.wait_ms.unwrap_or(0))).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Listen before reading, so a push committing in between still wakes this pull.
        let mut listener = state.wake.listen(target);
        let answer = read_changes(&state, claims.user_id, target, request.cursor, limit).await?;
        let moved = answer.cursor != request.cursor;
        if !answer.changes.is_empty() || moved || tokio::time::Instant::now() >= deadline {
            metrics::counter!("auren_pull_requests_total").increment(1);
            metrics::counter!("auren_pull_changes_total").increment(answer.changes.len() as u64);
            return Ok(Json(answer).into_response());
        }
        if tokio::time::timeout_at(deadline, listener.notified())
            .await
            .is_err()
        {
            metrics::counter!("auren_pull_requests_total").increment(1);
            return Ok(Json(answer).into_response());
        }
    }
}

/// One snapshot read of everything in `(cursor, V]` for some V ≤ the user's version, whole versions only.
async fn read_changes(
    state: &SharedState,
    me: Uuid,
    target: Uuid,
    cursor: i64,
    limit: u32,
) -> Result<PullResponse, ApiError> {
    let mut tx = begin_as_with(&state.pools.app, me, Isolation::Snapshot).await?;
    if target != me {
        let granted: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM coach_grants WHERE athlete_id = $1 AND coach_id = $2 AND revoked_at IS NULL",
        )
        .bind(target)
        .bind(me)
        .fetch_optional(&mut *tx)
        .await?;
        if granted.is_none() {
            return Err(ApiError::Forbidden("this athlete has not granted you access"));
        }
    }
    let current: i64 = sqlx::query_scalar("SELECT version FROM user_versions WHERE user_id = $1")
        .bind(target)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(0);
    if current <= cursor {
        tx.commit().await?;
        return Ok(PullResponse {
            changes: Vec::new(),
            cursor,
            more: false,
        });
    }
    let cut = cutoff(&mut tx, target, cursor, current, limit).await?;
    let mut changes = Vec::new();
    // Only the tables the cutoff saw rows in: a wake-up's pull usually finds one or two of the five.
    for (table, _) in TABLES.iter().zip(cut.tables).filter(|(_, present)| *present) {
        read_table(&mut tx, *table, target, cursor, cut.upto, &mut changes).await?;
    }
    tx.commit().await?;
    changes.sort_by_key(|c| c.version);
    Ok(PullResponse {
        changes,
        cursor: cut.upto,
        more: cut.upto < current,
    })
}

/// Where a pull stops, and which tables hold rows before that.
#[derive(Debug, PartialEq, Eq)]
struct Cutoff {
    upto: i64,
    /// Per [`TABLES`] entry: whether it has rows in `(cursor, upto]`.
    tables: [bool; TABLES.len()],
}

/// The highest version V ≤ `current` such that the rows in `(cursor, V]` number about `limit` at most —
/// but always at least one whole version, however many rows it has (a version is never split).
async fn cutoff(
    conn: &mut PgConnection,
    user: Uuid,
    cursor: i64,
    current: i64,
    limit: u32,
) -> Result<Cutoff, sqlx::Error> {
    // `t` is the table's index in TABLES.
    let counts: Vec<(i64, i16, i64)> = sqlx::query_as(
        "SELECT version, t, count(*)::bigint FROM ( \
             SELECT version, 0::int2 AS t FROM sessions WHERE user_id = $1 AND version > $2 AND version <= $3 \
             UNION ALL SELECT version, 1::int2 FROM beat_chunks WHERE user_id = $1 AND version > $2 AND version <= $3 \
             UNION ALL SELECT version, 2::int2 FROM alerts WHERE user_id = $1 AND version > $2 AND version <= $3 \
             UNION ALL SELECT version, 3::int2 FROM session_batches WHERE user_id = $1 AND version > $2 AND version <= $3 \
             UNION ALL SELECT version, 4::int2 FROM records WHERE user_id = $1 AND version > $2 AND version <= $3 \
         ) v GROUP BY version, t ORDER BY version",
    )
    .bind(user)
    .bind(cursor)
    .bind(current)
    .fetch_all(&mut *conn)
    .await?;
    Ok(cut_at(&counts, cursor, current, limit))
}

/// [`cutoff`]'s choice over `(version, table index, rows)` in version order.
fn cut_at(counts: &[(i64, i16, i64)], cursor: i64, current: i64, limit: u32) -> Cutoff {
    let mut cut = Cutoff {
        upto: cursor,
        tables: [false; TABLES.len()],
    };
    let mut total = 0_i64;
    for version in counts.chunk_by(|a, b| a.0 == b.0) {
        let rows: i64 = version.iter().map(|(_, _, n)| n).sum();
        if cut.upto > cursor && total + rows > i64::from(limit) {
            return cut;
        }
        total += rows;
        cut.upto = version[0].0;
        for (_, table, _) in version {
            if let Some(present) = usize::try_from(*table).ok().and_then(|t| cut.tables.get_mut(t)) {
                *present = true;
            }
        }
    }
    // Versions with no row left (a push whose rows were all rejected or repeats) are passed over too.
    cut.upto = current;
    cut
}

#[derive(Clone, Copy, Debug)]
enum Table {
    Sessions,
    Beats,
    Alerts,
    Batches,
    Records,
}

/// The tables a pull reads, in the order of the cutoff query's table index.
const TABLES: [Table; 5] = [
    Table::Sessions,
    Table::Beats,
    Table::Alerts,
    Table::Batches,
    Table::Records,
];

async fn read_table(
    conn: &mut PgConnection,
    table: Table,
    user: Uuid,
    cursor: i64,
    upto: i64,
    out: &mut Vec<PulledChange>,
) -> Result<(), ApiError> {
    let sql = match table {
        Table::Sessions => {
            "SELECT version, device_id, session_key, started_at, ended_at, kind, source, strap FROM sessions \
             WHERE user_id = $1 AND version > $2 AND version <= $3"
        }
        Table::Beats => {
            "SELECT version, device_id, session_key, start_ms, rr_raw, extras FROM beat_chunks \
             WHERE user_id = $1 AND version > $2 AND version <= $3 ORDER BY version, session_key, start_ms"
        }
        Table::Alerts => {
            "SELECT version, device_id, session_key, at_ms, at, window_start_ms, rule, severity, message, evidence \
             FROM alerts WHERE user_id = $1 AND version > $2 AND version <= $3"
        }
        Table::Batches => {
            "SELECT version, device_id, body FROM session_batches WHERE user_id = $1 AND version > $2 AND version <= $3 \
             ORDER BY version, session_key, kind, first_ms"
        }
        Table::Records => {
            "SELECT version, device_id, body, tombstone, collection, key FROM records \
             WHERE user_id = $1 AND version > $2 AND version <= $3"
        }
    };
    let rows = sqlx::query(sql)
        .bind(user)
        .bind(cursor)
        .bind(upto)
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        let version: i64 = row.try_get(0)?;
        let device: Option<Uuid> = row.try_get(1)?;
        let origin = match device {
            Some(id) => Origin::Device {
                device_id: DeviceId(id.to_string()),
            },
            None => Origin::Server,
        };
        for change in decode(table, row)? {
            out.push(PulledChange {
                version,
                origin: origin.clone(),
                change,
            });
        }
    }
    Ok(())
}

fn json_err(e: serde_json::Error) -> ApiError {
    ApiError::internal(e)
}

/// The changes one stored row stands for (a record may be a body and a tombstone).
fn decode(table: Table, row: &PgRow) -> Result<Vec<Change>, ApiError> {
    Ok(match table {
        Table::Sessions => {
            let strap: Option<serde_json::Value> = row.try_get(7)?;
            vec![Change::Session(SessionChange {
                session_key: row.try_get(2)?,
                started_at: row.try_get(3)?,
                ended_at: row.try_get(4)?,
                kind: row.try_get(5)?,
                source: row.try_get(6)?,
                strap: strap.map(serde_json::from_value).transpose().map_err(json_err)?,
            })]
        }
        Table::Beats => {
            let raw: Vec<i16> = row.try_get(4)?;
            let extras: Option<serde_json::Value> = row.try_get(5)?;
            let extras: ChunkExtras = extras
                .map(serde_json::from_value)
                .transpose()
                .map_err(json_err)?
                .unwrap_or_default();
            vec![Change::Beats(BeatsChunk {
                session_key: row.try_get(2)?,
                start_ms: row.try_get(3)?,
                // Stored bit-cast to smallint; this is the inverse cast.
                rr_raw: raw.into_iter().map(|r| r as u16).collect(),
                t_breaks: extras.t_breaks,
                rr_overrides: extras.rr_overrides,
                artifacts: extras.artifacts,
            })]
        }
        Table::Alerts => vec![Change::Alert(AlertChange {
            session_key: row.try_get(2)?,
            at_ms: row.try_get(3)?,
            at: row.try_get(4)?,
            window_start_ms: row.try_get(5)?,
            rule: row.try_get(6)?,
            severity: row.try_get(7)?,
            message: row.try_get(8)?,
            evidence: row.try_get(9)?,
        })],
        Table::Batches => {
            let body: serde_json::Value = row.try_get(2)?;
            vec![serde_json::from_value(body).map_err(json_err)?]
        }
        Table::Records => decode_record(row)?,
    })
}

fn decode_record(row: &PgRow) -> Result<Vec<Change>, ApiError> {
    let body: Option<serde_json::Value> = row.try_get(2)?;
    let tombstone: Option<serde_json::Value> = row.try_get(3)?;
    let collection: String = row.try_get(4)?;
    let key: String = row.try_get(5)?;
    let mut changes = Vec::with_capacity(2);
    if let Some(body) = body {
        changes.push(serde_json::from_value(body).map_err(json_err)?);
    }
    if let Some(stamp) = tombstone {
        let hlc: Hlc = serde_json::from_value(stamp).map_err(json_err)?;
        changes.push(Change::Tombstone(TombstoneChange {
            collection: crate::push::collection_of(&collection),
            key,
            hlc,
        }));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::{Cutoff, cut_at};

    #[test]
    fn the_cutoff_keeps_whole_versions_within_the_limit_and_names_their_tables() {
        // (version, table, rows): version 3 has sessions and beats, 4 only beats, 6 a record.
        let counts = [(3, 0, 1), (3, 1, 40), (4, 1, 40), (6, 4, 1)];
        let cases: [(u32, Cutoff); 4] = [
            // Everything fits: up to the user's version (7: a version whose rows were all rejected).
            (
                1_000,
                Cutoff {
                    upto: 7,
                    tables: [true, true, false, false, true],
                },
            ),
            // 41 + 40 > 60: version 3 alone.
            (
                60,
                Cutoff {
                    upto: 3,
                    tables: [true, true, false, false, false],
                },
            ),
            // A first version larger than the limit is still taken whole.
            (
                1,
                Cutoff {
                    upto: 3,
                    tables: [true, true, false, false, false],
                },
            ),
            (
                81,
                Cutoff {
                    upto: 4,
                    tables: [true, true, false, false, false],
                },
            ),
        ];
        for (limit, expected) in cases {
            assert_eq!(cut_at(&counts, 2, 7, limit), expected, "limit {limit}");
        }
        let nothing = Cutoff {
            upto: 7,
            tables: [false; 5],
        };
        assert_eq!(
            cut_at(&[], 2, 7, 10),
            nothing,
            "versions with no rows are passed over"
        );
    }
}
