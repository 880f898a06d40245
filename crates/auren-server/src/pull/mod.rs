//! POST /v1/sync/pull: every change of a user newer than the device's cursor, in version order, read in one
//! snapshot. Pushes commit versions in order (the per-user lock), so once a pull has read the user's version
//! V, every row at or below V is visible and the cursor can move to V without skipping a late commit. A coach
//! pulls an athlete by id; row-level security shows an athlete's rows only while the grant is live. With
//! `wait_ms`, a pull that finds nothing waits for a wake-up (a push of that user on any server process,
//! through Redis pub/sub; or a server-side alert) or the timeout. A coach's device also watches its
//! athletes from that one poll ([`watch`]).
//!
//! Three things keep pulls cheap. A pull is one call of the database function `auren_pull`
//! (migrations/server/0004_pull_function.sql, 0005_table_versions.sql, 0010_lighter_pull.sql): one round
//! trip sets the user, reads the version and, when it is past the cursor, the rows — a few per table, read by
//! version, only from the tables whose last write is past the cursor, the beats only in the monthly partitions
//! their versions' wall-time span covers, every table's rows in 14 columns shared by type. Where the answer
//! stops is chosen here from the rows read ([`stop_at`]).
//! That call runs on a connection kept for pulls ([`crate::db::PullConnections`]), which adds no round trip
//! of its own, where sqlx's pool adds two. And pulls asking the same thing at once share one read and one
//! encoded answer ([`PullFlights`]): a push wakes every parked device of its account together (50 long polls
//! of one account are 50 identical reads otherwise).

use crate::app::{ApiJson, Authed, SharedState, check_quota};
use crate::auth::validate;
use crate::db::PullConnections;
use crate::error::ApiError;
use crate::push::ChunkExtras;
use crate::redis::WakeListener;
use crate::rr_array::RrArray;
use auren_protocol::{
    AlertChange, AthletesNews, BeatsChunk, Change, DeviceId, Hlc, Origin, PullRequest, PullResponse,
    PulledChange, SessionChange, TombstoneChange,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;
use watch::AthleteWatch;

mod watch;

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
    let mut watch = match (&request.watch, &request.athlete) {
        (None, _) => None,
        (Some(watched), None) => Some(AthleteWatch::start(&state, watched)?),
        (Some(_), Some(_)) => {
            return Err(ApiError::Invalid(
                "watch is for a long poll of the account's own data, not an athlete's".to_owned(),
            ));
        }
    };
    // Listen before reading, so a push committing in between still wakes this pull; the listener carries
    // over each wake-up (it marks what it has seen), so it stays ahead of every read below.
    let mut listener = state.wake.listen(target);
    loop {
        let answer = state.pulls.answer(&state, read, &listener).await?;
        if !answer.unchanged {
            metrics::counter!("auren_pull_requests_total").increment(1);
            metrics::counter!("auren_pull_changes_total").increment(answer.changes);
            return Ok(answer.response());
        }
        let news = match &watch {
            Some(watch) => Some(watch.news(&state, claims.user_id).await?),
            None => None,
        };
        let finished =
            news.as_ref().is_some_and(AthletesNews::any) || tokio::time::Instant::now() >= deadline || {
                let _parked = state.pulls.park();
                tokio::time::timeout_at(deadline, woken(&mut listener, watch.as_mut()))
                    .await
                    .is_err()
            };
        if finished {
            metrics::counter!("auren_pull_requests_total").increment(1);
            return match news {
                None => Ok(answer.response()),
                Some(news) => watched_answer(read.cursor, news),
            };
        }
    }
}

/// Returns once the pull's own account, or an athlete it watches, has been notified.
async fn woken(listener: &mut WakeListener, watch: Option<&mut AthleteWatch>) {
    match watch {
        None => listener.notified().await,
        Some(watch) => {
            tokio::select! {
                () = listener.notified() => {}
                () = watch.notified() => {}
            }
        }
    }
}

/// A watching long poll's answer when its own account had nothing new: the cursor where it was, and the
/// athletes' news (perhaps none, at the deadline; present all the same, so the device knows it is watched).
fn watched_answer(cursor: i64, news: AthletesNews) -> Result<Response, ApiError> {
    let answer = PullResponse {
        changes: Vec::new(),
        cursor,
        more: false,
        athletes: Some(news),
    };
    Ok(encode(&answer, cursor)?.response())
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
    /// Long polls parked now, waiting for a wake-up (a poll watching athletes is one, however many).
    parked: AtomicUsize,
}

/// Counts a long poll as parked while it lives.
struct Parked<'a>(&'a AtomicUsize);

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Flight {
    /// The process' wake count when the flight began (before its read).
    began_at: u64,
    answer: tokio::sync::OnceCell<Arc<EncodedAnswer>>,
}

impl PullFlights {
    /// Long polls parked now (for the metrics, and for tests to know a poll has read and waits).
    pub fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }

    fn park(&self) -> Parked<'_> {
        self.parked.fetch_add(1, Ordering::Relaxed);
        Parked(&self.parked)
    }

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

/// One call of `auren_pull`: the header row (the target's version, or that a coach has no grant), then the
/// rows past `cursor` — at most `limit` + 1 of each table in version order, or with `upto` every row up to it.
async fn call_pull(
    connections: &PullConnections,
    key: PullKey,
    upto: Option<i64>,
) -> Result<(i64, Vec<PgRow>), ApiError> {
    let mut conn = connections.lend().await?;
    let mut rows = sqlx::query("SELECT * FROM auren_pull($1, $2, $3, $4, $5)")
        .bind(key.me)
        .bind(key.target)
        .bind(key.cursor)
        .bind(i32::try_from(key.limit).unwrap_or(i32::MAX))
        .bind(upto)
        .fetch_all(&mut *conn)
        .await?;
    conn.give_back();
    let header = match rows.first() {
        Some(row) if row.try_get::<i16, _>("kind")? == HEADER => row,
        _ => return Err(ApiError::internal(UnexpectedRow::NoHeader)),
    };
    if header.try_get::<Option<bool>, _>("granted")? != Some(true) {
        return Err(ApiError::Forbidden("this athlete has not granted you access"));
    }
    let current: i64 = header.try_get("version")?;
    rows.remove(0);
    Ok((current, rows))
}

/// `auren_pull`'s kind of its header row.
const HEADER: i16 = -1;

/// A row `auren_pull` should not return (the function and this code out of step).
#[derive(Debug, thiserror::Error)]
enum UnexpectedRow {
    #[error("auren_pull returned no header row")]
    NoHeader,
    #[error("auren_pull returned a row of kind {0}")]
    Kind(i16),
}

/// Everything in `(cursor, V]` for some V ≤ the user's version, whole versions only, from one snapshot.
async fn read_changes(state: &SharedState, key: PullKey) -> Result<PullResponse, ApiError> {
    let connections = &state.pools.pull;
    let (current, mut rows) = call_pull(connections, key, None).await?;
    if current <= key.cursor {
        return Ok(PullResponse {
            changes: Vec::new(),
            cursor: key.cursor,
            more: false,
            athletes: None,
        });
    }
    // auren_pull limits each table's rows unless the range is one version (never cut, so read whole).
    let limited = current - key.cursor > 1;
    let read = RowsRead::of(&rows, limited.then_some(key.limit))?;
    let upto = match stop_at(&read.versions, read.cut_short, current, key.limit) {
        Stop::At(upto) => upto,
        Stop::Whole(upto) => {
            // The first version alone is over the limit and some table's read ended inside it: read it whole.
            // Its rows are committed, so a later snapshot holds them all.
            rows = call_pull(connections, key, Some(upto)).await?.1;
            upto
        }
    };
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        decode_row(row, upto, &mut changes)?;
    }
    // Rows come table by table, each in version order; a stable sort keeps that order within a version.
    changes.sort_by_key(|c| c.version);
    Ok(PullResponse {
        changes,
        cursor: upto,
        more: upto < current,
        athletes: None,
    })
}

/// What the rows of one `auren_pull` call say about where an answer may stop.
#[derive(Debug, PartialEq, Eq)]
struct RowsRead {
    /// Each version read, ascending, with its row count (a record with a body and a tombstone is one row).
    versions: Vec<(i64, u64)>,
    /// The lowest last version among tables whose read hit the limit: rows of it (and above) may be missing.
    cut_short: Option<i64>,
}

impl RowsRead {
    fn of(rows: &[PgRow], limit: Option<u32>) -> Result<Self, sqlx::Error> {
        let mut read: Vec<i64> = Vec::with_capacity(rows.len());
        let mut per_table = [(0_u64, 0_i64); TABLES.len()];
        for row in rows {
            let version: i64 = row.try_get("version")?;
            let kind: i16 = row.try_get("kind")?;
            if let Some(table) = usize::try_from(kind).ok().and_then(|k| per_table.get_mut(k)) {
                table.0 += 1;
                table.1 = table.1.max(version);
            }
            read.push(version);
        }
        read.sort_unstable();
        let versions = read
            .chunk_by(|a, b| a == b)
            .map(|same| (same[0], same.len() as u64))
            .collect();
        let cut_short = limit.and_then(|limit| {
            per_table
                .iter()
                .filter(|(rows, _)| *rows > u64::from(limit))
                .map(|(_, last)| *last)
                .min()
        });
        Ok(Self { versions, cut_short })
    }
}

/// Where an answer stops.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// At this version; every row up to it was read.
    At(i64),
    /// At this version, whose rows were not all read: read `(cursor, version]` whole.
    Whole(i64),
}

/// The highest version V ≤ `current` such that the rows in `(cursor, V]` number `limit` at most — but always at
/// least one whole version, however many rows it has (a version is never split). `versions` are the versions
/// read with their row counts; a table whose read was cut short at limit + 1 rows puts the running total over
/// the limit at or before its last version read, so every version below the stop is complete, except when the
/// stop is that version itself (the first version alone over the limit).
fn stop_at(versions: &[(i64, u64)], cut_short: Option<i64>, current: i64, limit: u32) -> Stop {
    let mut upto = None;
    let mut total = 0_u64;
    let mut stopped = false;
    for &(version, rows) in versions {
        if upto.is_some() && total + rows > u64::from(limit) {
            stopped = true;
            break;
        }
        total += rows;
        upto = Some(version);
    }
    let end = match upto {
        // Everything read fits: versions with no row left (a push whose rows were all rejected or repeats)
        // are passed over too, up to the user's version.
        _ if !stopped && cut_short.is_none() => current,
        Some(version) => version,
        None => current,
    };
    match cut_short {
        Some(short) if short <= end => Stop::Whole(end),
        _ => Stop::At(end),
    }
}

/// The tables a pull reads, in the order of `auren_pull`'s kinds.
#[derive(Clone, Copy, Debug)]
enum Table {
    Sessions,
    Beats,
    Alerts,
    Batches,
    Records,
}

const TABLES: [Table; 5] = [
    Table::Sessions,
    Table::Beats,
    Table::Alerts,
    Table::Batches,
    Table::Records,
];

fn json_err(e: serde_json::Error) -> ApiError {
    ApiError::internal(e)
}

/// The changes one row of `auren_pull` stands for (a record may be a body and a tombstone), if its version is
/// at most `upto`. Rows of all tables share columns by type (`int_a`, `text_a`, `json_a`, …); which field
/// each holds per table is listed in migrations/server/0010_lighter_pull.sql.
fn decode_row(row: &PgRow, upto: i64, out: &mut Vec<PulledChange>) -> Result<(), ApiError> {
    let version: i64 = row.try_get("version")?;
    if version > upto {
        return Ok(());
    }
    let kind: i16 = row.try_get("kind")?;
    let table = usize::try_from(kind)
        .ok()
        .and_then(|k| TABLES.get(k))
        .ok_or_else(|| ApiError::internal(UnexpectedRow::Kind(kind)))?;
    let device: Option<Uuid> = row.try_get("device_id")?;
    let origin = match device {
        Some(id) => Origin::Device {
            device_id: DeviceId(id.to_string()),
        },
        None => Origin::Server,
    };
    let mut push = |change| {
        out.push(PulledChange {
            version,
            origin: origin.clone(),
            change,
        });
    };
    match table {
        Table::Sessions => push(Change::Session(SessionChange {
            session_key: row.try_get("session_key")?,
            started_at: row.try_get("int_a")?,
            ended_at: row.try_get("int_b")?,
            kind: row.try_get("text_a")?,
            source: row.try_get("text_b")?,
            strap: row
                .try_get::<Option<Json<_>>, _>("json_a")?
                .map(|Json(strap)| strap),
        })),
        Table::Beats => {
            let RrArray(rr_raw) = row.try_get("rr_raw")?;
            let extras: ChunkExtras = row
                .try_get::<Option<Json<ChunkExtras>>, _>("json_a")?
                .map(|Json(extras)| extras)
                .unwrap_or_default();
            push(Change::Beats(BeatsChunk {
                session_key: row.try_get("session_key")?,
                start_ms: row.try_get("float_a")?,
                rr_raw,
                t_breaks: extras.t_breaks,
                rr_overrides: extras.rr_overrides,
                artifacts: extras.artifacts,
            }));
        }
        Table::Alerts => push(Change::Alert(AlertChange {
            session_key: row.try_get("session_key")?,
            at_ms: row.try_get("float_a")?,
            at: row.try_get("int_a")?,
            window_start_ms: row.try_get("int_b")?,
            rule: row.try_get("text_a")?,
            severity: row.try_get("text_b")?,
            message: row.try_get("text_c")?,
            evidence: row.try_get("json_a")?,
        })),
        Table::Batches => {
            let Json(change): Json<Change> = row.try_get("json_a")?;
            push(change);
        }
        Table::Records => {
            if let Some(Json(body)) = row.try_get::<Option<Json<Change>>, _>("json_a")? {
                push(body);
            }
            if let Some(Json(hlc)) = row.try_get::<Option<Json<Hlc>>, _>("json_b")? {
                let collection: String = row.try_get("text_a")?;
                push(Change::Tombstone(TombstoneChange {
                    collection: crate::push::collection_of(&collection),
                    key: row.try_get("text_b")?,
                    hlc,
                }));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{PullFlights, PullKey, Stop, stop_at};
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
    fn the_stop_keeps_whole_versions_within_the_limit() {
        // (version, rows) read: version 3 has 41 rows (a session and 40 chunks), 4 has 40, 6 one record; the
        // user's version is 7 (a version whose rows were all rejected).
        let versions = [(3, 41), (4, 40), (6, 1)];
        let cases: [(u32, Option<i64>, Stop); 7] = [
            // Everything fits: up to the user's version.
            (1_000, None, Stop::At(7)),
            // 41 + 40 > 60: version 3 alone.
            (60, None, Stop::At(3)),
            // A first version larger than the limit is still taken whole, and here it was read whole.
            (1, None, Stop::At(3)),
            (81, None, Stop::At(4)),
            (82, None, Stop::At(7)),
            // A table's read cut short at version 4: the stop comes before it, every row below was read.
            (60, Some(4), Stop::At(3)),
            // Cut short inside the first version, which is the stop: it must be read whole.
            (40, Some(3), Stop::Whole(3)),
        ];
        for (limit, cut_short, expected) in cases {
            assert_eq!(
                stop_at(&versions, cut_short, 7, limit),
                expected,
                "limit {limit}, cut short at {cut_short:?}"
            );
        }
        assert_eq!(
            stop_at(&[(5, 1_001)], Some(5), 9, 1_000),
            Stop::Whole(5),
            "one version read, cut short: read it whole"
        );
        assert_eq!(
            stop_at(&[], None, 7, 10),
            Stop::At(7),
            "versions with no rows are passed over"
        );
    }
}
