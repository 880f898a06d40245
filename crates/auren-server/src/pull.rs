//! POST /v1/sync/pull: every change of a user newer than the device's cursor, in version order, read in one
//! REPEATABLE READ snapshot. Pushes commit versions in order (the per-user lock), so once a pull has read
//! the user's version V, every row at or below V is visible and the cursor can move to V without skipping a
//! late commit. A coach pulls an athlete by id; row-level security shows an athlete's rows only while the
//! grant is live. With `wait_ms`, a pull that finds nothing waits for a wake-up (a push of that user on any
//! server process, through Redis pub/sub; or a server-side alert) or the timeout.
//!
//! Two things keep the common cases cheap. A pull of one's own data first compares the cursor with the
//! user's version in one round trip to PostgreSQL (an implicit transaction), and only opens the snapshot
//! when there is something to read, reading up to that version (not reading it again in the snapshot). And pulls asking the same thing at once share one read and one encoded
//! answer ([`PullFlights`]): a push wakes every parked device of its account together (50 long polls of one
//! account are 50 identical reads otherwise).

use crate::app::{ApiJson, Authed, SharedState, check_quota};
use crate::auth::validate;
use crate::db::{Isolation, begin_as_with};
use crate::error::ApiError;
use crate::push::ChunkExtras;
use crate::redis::WakeListener;
use auren_protocol::{
    AlertChange, BeatsChunk, Change, DeviceId, Hlc, Origin, PullRequest, PullResponse, PulledChange,
    SessionChange, TombstoneChange,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
    let read = PullKey {
        me: claims.user_id,
        target,
        cursor: request.cursor,
        limit: request.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
    };
    let wait = Duration::from_millis(u64::from(request.wait_ms.unwrap_or(0))).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Listen before reading, so a push committing in between still wakes this pull; the listener carries
    // over each wake-up (it marks what it has seen), so it stays ahead of every read below.
    let mut listener = state.wake.listen(target);
    loop {
        let answer = state.pulls.answer(&state, read, &listener).await?;
        let finished = !answer.unchanged
            || tokio::time::Instant::now() >= deadline
            || tokio::time::timeout_at(deadline, listener.notified())
                .await
                .is_err();
        if finished {
            metrics::counter!("auren_pull_requests_total").increment(1);
            metrics::counter!("auren_pull_changes_total").increment(answer.changes);
            return Ok(answer.response());
        }
    }
}

/// What a pull asks: the answer depends on nothing else (row-level security on `me`, the rest on `target`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PullKey {
    me: Uuid,
    target: Uuid,
    cursor: i64,
    limit: u32,
}

/// A pull's answer, encoded once however many pulls share it.
#[derive(Debug)]
struct EncodedAnswer {
    body: Bytes,
    changes: u64,
    /// No change and the cursor where it was: a long poll waits on.
    unchanged: bool,
}

impl EncodedAnswer {
    fn response(&self) -> Response {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.body.clone(),
        )
            .into_response()
    }
}

/// Flights past which the map is scanned for ones nobody awaits any more (a flight whose pulls were all
/// cancelled is never removed by them).
const FLIGHTS_PRUNE_AT: usize = 4_096;

/// Pull reads in flight, by what they ask. A pull takes a flight's answer only when the flight began after
/// everything this pull's wake listener has seen: then a change the flight's snapshot missed committed
/// after the flight began, so its wake-up comes later than anything the listener saw, and the listener
/// fires for it — the pull reads again instead of sleeping on a stale answer. The wake count orders the
/// two: every notification takes a higher number (see [`crate::redis::Wake::count`]).
#[derive(Debug, Default)]
pub struct PullFlights {
    running: Mutex<HashMap<PullKey, Arc<Flight>>>,
}

#[derive(Debug)]
struct Flight {
    /// The process' wake count when the flight began (before its read).
    began_at: u64,
    answer: tokio::sync::OnceCell<Arc<EncodedAnswer>>,
}

impl PullFlights {
    /// The answer to `key`, shared with the pulls asking the same since `listener`'s last wake-up.
    async fn answer(
        &self,
        state: &SharedState,
        key: PullKey,
        listener: &WakeListener,
    ) -> Result<Arc<EncodedAnswer>, ApiError> {
        let flight = self.board(key, listener.seen(), state.wake.count());
        // A failed (or cancelled) read leaves the cell empty: the next pull sharing it reads for itself.
        let answer = flight
            .answer
            .get_or_try_init(|| async {
                let answer = read_changes(state, key).await?;
                encode(&answer, key.cursor)
            })
            .await
            .cloned();
        self.land(key, &flight);
        answer
    }

    /// The flight to take: a running one that began after `seen`, or a new one beginning at `now`.
    fn board(&self, key: PullKey, seen: u64, now: u64) -> Arc<Flight> {
        let mut running = self.lock();
        if let Some(flight) = running.get(&key).filter(|f| seen <= f.began_at) {
            metrics::counter!("auren_pull_shared_total").increment(1);
            return flight.clone();
        }
        if running.len() >= FLIGHTS_PRUNE_AT {
            running.retain(|_, flight| Arc::strong_count(flight) > 1);
        }
        let flight = Arc::new(Flight {
            began_at: now,
            answer: tokio::sync::OnceCell::new(),
        });
        running.insert(key, flight.clone());
        flight
    }

    /// Forgets `flight` once answered (later pulls may need a newer read; the answer may be large).
    fn land(&self, key: PullKey, flight: &Arc<Flight>) {
        if flight.answer.initialized() {
            let mut running = self.lock();
            if running.get(&key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
                running.remove(&key);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PullKey, Arc<Flight>>> {
        // The map holds only complete entries (a panic cannot leave one half-made).
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn encode(answer: &PullResponse, cursor: i64) -> Result<Arc<EncodedAnswer>, ApiError> {
    let body = serde_json::to_vec(answer).map_err(json_err)?;
    Ok(Arc::new(EncodedAnswer {
        body: Bytes::from(body),
        changes: answer.changes.len() as u64,
        unchanged: answer.changes.is_empty() && answer.cursor == cursor,
    }))
}

/// The user's version, read in one round trip: the user is set and the row read in one implicit
/// transaction (both statements in one simple query), whose end also ends the user setting. The id is
/// inlined: a `Uuid`'s text is hex digits and dashes only.
async fn own_version(pool: &PgPool, user: Uuid) -> Result<i64, ApiError> {
    let user = user.hyphenated();
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SELECT set_config('app.user_id', '{user}', true); \
         SELECT version FROM user_versions WHERE user_id = '{user}'"
    )))
    .fetch_all(pool)
    .await?;
    // The first row is set_config's; the version's row is missing while the user has pushed nothing.
    Ok(rows
        .iter()
        .find_map(|row| row.try_get::<i64, _>("version").ok())
        .unwrap_or(0))
}

/// One snapshot read of everything in `(cursor, V]` for some V ≤ the user's version, whole versions only.
async fn read_changes(state: &SharedState, key: PullKey) -> Result<PullResponse, ApiError> {
    let PullKey {
        me,
        target,
        cursor,
        limit,
    } = key;
    let nothing = PullResponse {
        changes: Vec::new(),
        cursor,
        more: false,
    };
    // Most pulls find nothing new: say so without a snapshot (a coach's pull checks its grant first).
    let own = if target == me {
        let version = own_version(&state.pools.app, me).await?;
        if version <= cursor {
            return Ok(nothing);
        }
        Some(version)
    } else {
        None
    };
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
    let current = match own {
        // Every row at or below a version once read is committed, so this later snapshot sees them all; rows
        // of versions above it (pushed since) are left to the next pull. This saves reading it again.
        Some(version) => version,
        None => {
            let current: i64 = sqlx::query_scalar("SELECT version FROM user_versions WHERE user_id = $1")
                .bind(target)
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0);
            if current <= cursor {
                tx.commit().await?;
                return Ok(nothing);
            }
            current
        }
    };
    let cut = if current - cursor == 1 {
        // One version (what a pull woken by a push usually asks) is never split, whatever its size: no
        // counting over every table and beat partition, just a read of each table.
        Cutoff {
            upto: current,
            tables: [true; TABLES.len()],
        }
    } else {
        cutoff(&mut tx, target, cursor, current, limit).await?
    };
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
    use super::{Cutoff, PullFlights, PullKey, cut_at};
    use std::sync::Arc;
    use uuid::Uuid;

    #[test]
    fn a_pull_shares_a_read_only_when_it_began_after_everything_the_pull_has_seen() {
        let me = Uuid::new_v4();
        let key = PullKey {
            me,
            target: me,
            cursor: 4,
            limit: 1_000,
        };
        let flights = PullFlights::default();
        // (the pull's last seen notification, the count now, whether it takes the first flight)
        let first = flights.board(key, 5, 7);
        let cases = [
            (5, 9, true),
            // Seen up to the count the flight began at: nothing the flight may have missed was seen yet.
            (7, 9, true),
            // Seen a notification after the flight began: the flight's snapshot may predate that change.
            (8, 9, false),
        ];
        for (seen, now, shares) in cases {
            let taken = flights.board(key, seen, now);
            assert_eq!(Arc::ptr_eq(&taken, &first), shares, "seen {seen}");
            // A refused pull began its own flight, which later pulls then find: put the first one back.
            flights.lock().insert(key, first.clone());
        }
        let other_cursor = PullKey { cursor: 5, ..key };
        assert!(
            !Arc::ptr_eq(&flights.board(other_cursor, 5, 7), &first),
            "another question is another read"
        );
    }

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
