//! The writes of one push, all inside its transaction: sessions, alerts, batches and records row by row,
//! beat chunks together at the end (COPY into a temporary table, then one `INSERT … SELECT … ON CONFLICT DO
//! NOTHING` — COPY straight into beat_chunks is refused because of row-level security), the server outbox
//! rows for what was new, and the rejections.

use super::prepare::{self, Refusal};
use super::records::{merge_body, merge_tombstone};
use crate::topics::{self, AlertRecord, BatchedChunk, BeatsBatch, LiveInputs, SessionRecord};
use auren_protocol::error::codes::row;
use auren_protocol::{AlertChange, Change, Hlc, RowRejection, SessionChange};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use std::collections::HashMap;
use std::fmt::Write as _;
use uuid::Uuid;

/// The chunk's fields other than its RR, kept as jsonb only when a chunk has any.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChunkExtras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub t_breaks: Vec<auren_protocol::TimeBreak>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rr_overrides: Vec<auren_protocol::RrOverride>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<auren_protocol::ArtifactMark>,
}

impl ChunkExtras {
    fn of(chunk: &auren_protocol::BeatsChunk) -> Option<Self> {
        if chunk.t_breaks.is_empty() && chunk.rr_overrides.is_empty() && chunk.artifacts.is_empty() {
            return None;
        }
        Some(Self {
            t_breaks: chunk.t_breaks.clone(),
            rr_overrides: chunk.rr_overrides.clone(),
            artifacts: chunk.artifacts.clone(),
        })
    }
}

/// A chunk waiting for the batched insert.
pub struct PendingChunk {
    pub wall_ms: i64,
    pub chunk: auren_protocol::BeatsChunk,
}

/// A session's detector inputs other than beats that this push stored anew, placed among the queued chunks
/// (`after_chunks` of them came before it), so the beats messages keep the order pushed.
pub struct PendingLive {
    pub after_chunks: usize,
    pub session_key: String,
    pub inputs: LiveInputs,
}

/// What one push transaction accumulates.
pub struct PushContext {
    pub user: Uuid,
    pub device: Uuid,
    pub version: i64,
    /// Session key → started_at of every session this push may refer to.
    pub session_starts: HashMap<String, i64>,
    pub chunks: Vec<PendingChunk>,
    /// Heart-rate samples, gaps, contact and link changes and session ends for the beats messages (the
    /// server's detector feed).
    pub live: Vec<PendingLive>,
    pub outbox: Vec<(&'static str, Vec<u8>)>,
    pub rejected: Vec<(RowRejection, serde_json::Value)>,
    /// A memory was forgotten: once committed, its old row versions are swept from the files.
    pub erased: bool,
}

impl PushContext {
    fn queue_live(&mut self, session_key: &str, inputs: LiveInputs) {
        self.live.push(PendingLive {
            after_chunks: self.chunks.len(),
            session_key: session_key.to_owned(),
            inputs,
        });
    }

    fn emit(&mut self, topic: &'static str, payload: &impl Serialize) -> Result<(), sqlx::Error> {
        let bytes = serde_json::to_vec(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        self.outbox.push((topic, bytes));
        Ok(())
    }

    pub fn reject(&mut self, outbox_id: i64, change: &Change, refusal: Refusal) {
        // jsonb cannot hold U+0000 either: a row refused for one is kept with U+FFFD in its place.
        let payload = serde_json::to_string(change)
            .map(|text| text.replace("\\u0000", "\\ufffd"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null);
        self.rejected
            .push((prepare::rejection(outbox_id, refusal), payload));
    }
}

/// Loads the start times of the sessions `keys` (those already stored).
pub async fn load_session_starts(
    conn: &mut PgConnection,
    user: Uuid,
    keys: &[String],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT session_key, started_at FROM sessions WHERE user_id = $1 AND session_key = ANY($2)",
    )
    .bind(user)
    .bind(keys)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Applies one checked row; a refusal discovered here (an unknown session) is returned, not raised.
pub async fn apply_row(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    change: &Change,
) -> Result<Option<Refusal>, sqlx::Error> {
    match change {
        Change::Session(s) => insert_session(conn, ctx, s).await.map(|()| None),
        Change::Beats(chunk) => Ok(queue_chunk(ctx, chunk)),
        Change::Alert(a) => {
            if !ctx.session_starts.contains_key(&a.session_key) {
                return Ok(Some(unknown_session(&a.session_key)));
            }
            insert_alert(conn, ctx, a).await.map(|()| None)
        }
        Change::Gaps(_) | Change::HrSamples(_) | Change::Signals(_) | Change::Metrics(_) => {
            insert_batch(conn, ctx, change).await
        }
        Change::Tombstone(t) => apply_tombstone(conn, ctx, t).await.map(|()| None),
        Change::Tag(_) | Change::Note(_) | Change::Morning(_) | Change::Memory(_) | Change::Setting(_) => {
            apply_record(conn, ctx, change).await.map(|()| None)
        }
        Change::Unknown => Ok(Some((row::UNSUPPORTED, "unknown change type".to_owned()))),
    }
}

fn unknown_session(key: &str) -> Refusal {
    (
        row::UNKNOWN_SESSION,
        format!("session {key:?} was never pushed; push its session row first"),
    )
}

async fn insert_session(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    s: &SessionChange,
) -> Result<(), sqlx::Error> {
    let strap = s
        .strap
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let changed = sqlx::query(
        "INSERT INTO sessions (user_id, session_key, device_id, started_at, ended_at, kind, source, strap, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (user_id, session_key) DO UPDATE SET ended_at = EXCLUDED.ended_at, version = EXCLUDED.version \
         WHERE sessions.ended_at IS NULL AND EXCLUDED.ended_at IS NOT NULL \
         RETURNING started_at",
    )
    .bind(ctx.user)
    .bind(&s.session_key)
    .bind(ctx.device)
    .bind(s.started_at)
    .bind(s.ended_at)
    .bind(&s.kind)
    .bind(&s.source)
    .bind(strap)
    .bind(ctx.version)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = changed {
        let started_at: i64 = row.try_get(0)?;
        ctx.session_starts.insert(s.session_key.clone(), started_at);
        if let Some(ended_at) = s.ended_at {
            let end = LiveInputs {
                end_ms: Some(ended_at.saturating_sub(started_at)),
                ..LiveInputs::default()
            };
            ctx.queue_live(&s.session_key, end);
        }
        let record = SessionRecord {
            v: topics::PAYLOAD_VERSION,
            user_id: ctx.user,
            device_id: ctx.device,
            session: s.clone(),
        };
        ctx.emit(topics::SESSIONS_TOPIC, &record)?;
    }
    Ok(())
}

/// Places a chunk in time (its session must be known) and queues it for the batched insert.
fn queue_chunk(ctx: &mut PushContext, chunk: &auren_protocol::BeatsChunk) -> Option<Refusal> {
    let Some(&started_at) = ctx.session_starts.get(&chunk.session_key) else {
        return Some(unknown_session(&chunk.session_key));
    };
    let offset = chunk.start_ms.round();
    let wall = started_at as f64 + offset;
    if !(prepare::EARLIEST_MS as f64..prepare::LATEST_MS as f64).contains(&wall) {
        return Some((row::INVALID, "the chunk's start is outside 2000–2100".to_owned()));
    }
    // In range after the check above, so the cast is exact.
    let wall_ms = wall as i64;
    ctx.chunks.push(PendingChunk {
        wall_ms,
        chunk: chunk.clone(),
    });
    None
}

async fn insert_alert(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    a: &AlertChange,
) -> Result<(), sqlx::Error> {
    let record = AlertRecord::pushed(ctx.user, ctx.device, a.clone());
    if insert_alert_row(conn, &record, ctx.version).await? {
        ctx.emit(topics::ALERTS_TOPIC, &record)?;
    }
    Ok(())
}

/// The one insert into `alerts`, for a device's push and the server's consumer alike: `record`'s alert at
/// `version`, unless its natural key `(user, rule, window start)` is taken; whether it was new.
pub(crate) async fn insert_alert_row(
    conn: &mut PgConnection,
    record: &AlertRecord,
    version: i64,
) -> Result<bool, sqlx::Error> {
    let a = &record.alert;
    let new = sqlx::query(
        "INSERT INTO alerts (user_id, rule, window_start_ms, session_key, at_ms, at, severity, message, evidence, \
                             origin, device_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT ON CONSTRAINT alerts_natural_key DO NOTHING",
    )
    .bind(record.user_id)
    .bind(&a.rule)
    .bind(a.window_start_ms)
    .bind(&a.session_key)
    .bind(a.at_ms)
    .bind(a.at)
    .bind(&a.severity)
    .bind(&a.message)
    .bind(&a.evidence)
    .bind(record.origin.as_str())
    .bind(record.device_id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(new.rows_affected() > 0)
}

async fn insert_batch(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    change: &Change,
) -> Result<Option<Refusal>, sqlx::Error> {
    let (kind, session_key, first_ms) = match change {
        Change::Gaps(g) => ("gaps", &g.session_key, g.gaps.first().map(|g| g.from_ms)),
        Change::HrSamples(h) => ("hr_samples", &h.session_key, h.samples.first().map(|s| s.t_ms)),
        Change::Signals(c) => ("signals", &c.session_key, c.changes.first().map(|c| c.t_ms)),
        Change::Metrics(m) => ("metrics", &m.session_key, m.values.first().map(|v| v.t_ms)),
        _ => return Ok(Some((row::UNSUPPORTED, "not a batch".to_owned()))),
    };
    let Some(first_ms) = first_ms.filter(|t| t.is_finite()) else {
        return Ok(Some((
            row::INVALID,
            "the batch's first time is missing or not finite".to_owned(),
        )));
    };
    if !ctx.session_starts.contains_key(session_key) {
        return Ok(Some(unknown_session(session_key)));
    }
    let key = BatchKey {
        session_key,
        kind,
        first_ms,
    };
    let Some(new) = store_batch(conn, ctx, &key, change).await? else {
        return Ok(None);
    };
    // What the recording device's detector was fed beside the beats goes to the server's detector too
    // (once: only what the stored batch did not hold yet).
    let inputs = match new {
        Change::Gaps(g) => Some(LiveInputs {
            gaps: g.gaps,
            ..LiveInputs::default()
        }),
        Change::HrSamples(h) => Some(LiveInputs {
            hr: h.samples,
            ..LiveInputs::default()
        }),
        Change::Signals(c) => Some(LiveInputs {
            signals: c.changes,
            ..LiveInputs::default()
        }),
        _ => None,
    };
    if let Some(inputs) = inputs {
        ctx.queue_live(session_key, inputs);
    }
    Ok(None)
}

/// Where a batch is stored: one per session, kind and first time.
struct BatchKey<'a> {
    session_key: &'a str,
    kind: &'static str,
    first_ms: f64,
}

/// Stores a batch and returns what of it is new: all of it, or — when a batch with the same first time is
/// stored (a device's later read of its rows from that time, or another flush's rows from the same moment:
/// two gaps from one start, two changes at one ms) — the entries the stored one lacks, which are then added
/// to it (its version moves on, so pulls deliver it again; the devices' inserts skip what they hold). None
/// when nothing is new.
async fn store_batch(
    conn: &mut PgConnection,
    ctx: &PushContext,
    key: &BatchKey<'_>,
    change: &Change,
) -> Result<Option<Change>, sqlx::Error> {
    let encode = |c: &Change| serde_json::to_value(c).map_err(|e| sqlx::Error::Encode(Box::new(e)));
    let inserted = sqlx::query(
        "INSERT INTO session_batches (user_id, session_key, kind, first_ms, device_id, body, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(ctx.user)
    .bind(key.session_key)
    .bind(key.kind)
    .bind(key.first_ms)
    .bind(ctx.device)
    .bind(encode(change)?)
    .bind(ctx.version)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() > 0 {
        return Ok(Some(change.clone()));
    }
    let row = sqlx::query(
        "SELECT body FROM session_batches \
         WHERE user_id = $1 AND session_key = $2 AND kind = $3 AND first_ms = $4 FOR UPDATE",
    )
    .bind(ctx.user)
    .bind(key.session_key)
    .bind(key.kind)
    .bind(key.first_ms)
    .fetch_one(&mut *conn)
    .await?;
    let stored: Change =
        serde_json::from_value(row.try_get(0)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let Some((merged, new)) = merged_batch(&stored, change) else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE session_batches SET body = $5, device_id = $6, version = $7 \
         WHERE user_id = $1 AND session_key = $2 AND kind = $3 AND first_ms = $4",
    )
    .bind(ctx.user)
    .bind(key.session_key)
    .bind(key.kind)
    .bind(key.first_ms)
    .bind(encode(&merged)?)
    .bind(ctx.device)
    .bind(ctx.version)
    .execute(&mut *conn)
    .await?;
    Ok(Some(new))
}

/// The stored batch with the pushed one's new entries, and those entries alone; None when it has none.
fn merged_batch(stored: &Change, pushed: &Change) -> Option<(Change, Change)> {
    match (stored, pushed) {
        (Change::Gaps(s), Change::Gaps(p)) => {
            let (all, new) = merged(&s.gaps, &p.gaps, |g| g.from_ms)?;
            let with = |gaps| {
                Change::Gaps(auren_protocol::GapsChange {
                    gaps,
                    session_key: p.session_key.clone(),
                })
            };
            Some((with(all), with(new)))
        }
        (Change::HrSamples(s), Change::HrSamples(p)) => {
            let (all, new) = merged(&s.samples, &p.samples, |h| h.t_ms)?;
            let with = |samples| {
                Change::HrSamples(auren_protocol::HrSamplesChange {
                    samples,
                    session_key: p.session_key.clone(),
                })
            };
            Some((with(all), with(new)))
        }
        (Change::Signals(s), Change::Signals(p)) => {
            let (all, new) = merged(&s.changes, &p.changes, |c| c.t_ms)?;
            let with = |changes| {
                Change::Signals(auren_protocol::SignalsChange {
                    changes,
                    session_key: p.session_key.clone(),
                })
            };
            Some((with(all), with(new)))
        }
        (Change::Metrics(s), Change::Metrics(p)) => {
            let (all, new) = merged(&s.values, &p.values, |v| v.t_ms)?;
            let with = |values| {
                Change::Metrics(auren_protocol::MetricsChange {
                    values,
                    session_key: p.session_key.clone(),
                })
            };
            Some((with(all), with(new)))
        }
        _ => None,
    }
}

/// `pushed`'s entries that `stored` lacks, and both merged in time order (one moment's stored entries
/// first, then the new ones in the pushed order: a device's later read holds one moment's rows in the order
/// it stored them). None when nothing is new.
fn merged<T: Clone + PartialEq>(
    stored: &[T],
    pushed: &[T],
    time: impl Fn(&T) -> f64,
) -> Option<(Vec<T>, Vec<T>)> {
    // Looked up among the stored entries of the same time (a batch holds up to 50,000).
    let mut by_time: Vec<&T> = stored.iter().collect();
    by_time.sort_by(|a, b| time(a).total_cmp(&time(b)));
    let held = |e: &T| {
        let t = time(e);
        let from = by_time.partition_point(|s| time(s).total_cmp(&t).is_lt());
        by_time[from..]
            .iter()
            .take_while(|s| time(s).total_cmp(&t).is_eq())
            .any(|s| *s == e)
    };
    let new: Vec<T> = pushed.iter().filter(|e| !held(e)).cloned().collect();
    if new.is_empty() {
        return None;
    }
    let mut all: Vec<T> = stored.iter().chain(&new).cloned().collect();
    all.sort_by(|a, b| time(a).total_cmp(&time(b)));
    Some((all, new))
}

/// The collection whose delete is an erasure (forgetting a memory): the tombstone drops the stored body, the
/// text with it, instead of keeping it beside the tombstone, and no later edit brings it back.
const FORGETTABLE: &str = "memory";

/// The stored body and tombstone of a record.
async fn stored_record(
    conn: &mut PgConnection,
    user: Uuid,
    collection: &str,
    key: &str,
) -> Result<(Option<Change>, Option<Hlc>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT body, tombstone FROM records WHERE user_id = $1 AND collection = $2 AND key = $3",
    )
    .bind(user)
    .bind(collection)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok((None, None)) };
    let body: Option<serde_json::Value> = row.try_get(0)?;
    let tombstone: Option<serde_json::Value> = row.try_get(1)?;
    Ok((
        body.and_then(|b| serde_json::from_value(b).ok()),
        tombstone.and_then(|t| serde_json::from_value(t).ok()),
    ))
}

async fn apply_record(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    change: &Change,
) -> Result<(), sqlx::Error> {
    let Some((collection, key)) = prepare::record_address(change) else {
        return Ok(());
    };
    let (stored, tombstone) = stored_record(conn, ctx.user, collection, &key).await?;
    if collection == FORGETTABLE && tombstone.is_some() {
        // A forgotten memory stays forgotten: no edit, older or newer, brings its text back.
        return Ok(());
    }
    let Some(merged) = merge_body(stored.as_ref(), change) else {
        return Ok(());
    };
    let body = serde_json::to_value(&merged).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO records (user_id, collection, key, device_id, body, version) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, collection, key) DO UPDATE \
         SET body = EXCLUDED.body, device_id = EXCLUDED.device_id, version = EXCLUDED.version",
    )
    .bind(ctx.user)
    .bind(collection)
    .bind(&key)
    .bind(ctx.device)
    .bind(body)
    .bind(ctx.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn apply_tombstone(
    conn: &mut PgConnection,
    ctx: &mut PushContext,
    t: &auren_protocol::TombstoneChange,
) -> Result<(), sqlx::Error> {
    let Some(collection) = prepare::collection_name(t.collection) else {
        return Ok(());
    };
    let (_, stored) = stored_record(conn, ctx.user, collection, &t.key).await?;
    let Some(winner) = merge_tombstone(stored.as_ref(), &t.hlc) else {
        return Ok(());
    };
    let stamp = serde_json::to_value(&winner).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO records (user_id, collection, key, device_id, tombstone, version) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, collection, key) DO UPDATE \
         SET tombstone = EXCLUDED.tombstone, device_id = EXCLUDED.device_id, version = EXCLUDED.version, \
             body = CASE WHEN records.collection = $7 THEN NULL ELSE records.body END",
    )
    .bind(ctx.user)
    .bind(collection)
    .bind(&t.key)
    .bind(ctx.device)
    .bind(stamp)
    .bind(ctx.version)
    .bind(FORGETTABLE)
    .execute(&mut *conn)
    .await?;
    if collection == FORGETTABLE {
        ctx.erased = true;
        // A refused push of the memory kept its text in the refusal: it goes too.
        sqlx::query(
            "DELETE FROM rejected_rows WHERE user_id = $1 AND payload->>'type' = 'memory' AND payload->>'key' = $2",
        )
        .bind(ctx.user)
        .bind(&t.key)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One COPY text-format field: backslash, tab, newline and carriage return escaped.
fn copy_text(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
}

/// The COPY text rows of the queued chunks.
fn copy_rows(chunks: &[PendingChunk]) -> Result<String, sqlx::Error> {
    let mut out = String::with_capacity(chunks.iter().map(|c| 64 + c.chunk.rr_raw.len() * 5).sum());
    for pending in chunks {
        let chunk = &pending.chunk;
        copy_text(&mut out, &chunk.session_key);
        // `{:?}` of an f64 prints the shortest text that reads back as the same value.
        let _ = write!(out, "\t{:?}\t{}\t{{", chunk.start_ms, pending.wall_ms);
        for (i, raw) in chunk.rr_raw.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Bit-cast to smallint (the column's type); the pull casts back.
            let _ = write!(out, "{}", *raw as i16);
        }
        out.push_str("}\t");
        match ChunkExtras::of(chunk) {
            Some(extras) => {
                let json = serde_json::to_string(&extras).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                copy_text(&mut out, &json);
            }
            None => out.push_str("\\N"),
        }
        out.push('\n');
    }
    Ok(out)
}

/// Inserts the queued chunks (new ones only) and queues their outbox messages; returns how many beats
/// were new.
pub async fn insert_chunks(conn: &mut PgConnection, ctx: &mut PushContext) -> Result<u64, sqlx::Error> {
    if ctx.chunks.is_empty() && ctx.live.is_empty() {
        return Ok(0);
    }
    let new_keys = if ctx.chunks.is_empty() {
        std::collections::HashSet::new()
    } else {
        copy_chunks(conn, ctx).await?
    };
    // The fresh chunks and the live inputs in the order pushed.
    let mut live = std::mem::take(&mut ctx.live).into_iter().peekable();
    let mut entries = Vec::with_capacity(ctx.chunks.len() + live.len());
    let mut beats = 0;
    for (i, pending) in std::mem::take(&mut ctx.chunks).into_iter().enumerate() {
        while let Some(l) = live.next_if(|l| l.after_chunks <= i) {
            entries.push(BeatsEntry::Live(l.session_key, l.inputs));
        }
        if new_keys.contains(&(
            pending.chunk.session_key.clone(),
            pending.chunk.start_ms.to_bits(),
        )) {
            beats += pending.chunk.rr_raw.len() as u64;
            entries.push(BeatsEntry::Chunk(pending));
        }
    }
    entries.extend(live.map(|l| BeatsEntry::Live(l.session_key, l.inputs)));
    for batch in batches(entries) {
        let message = BeatsBatch {
            v: topics::BATCH_PAYLOAD_VERSION,
            user_id: ctx.user,
            device_id: ctx.device,
            session_started_at_ms: ctx
                .session_starts
                .get(&batch.session_key)
                .copied()
                .unwrap_or_default(),
            session_key: batch.session_key,
            chunks: batch
                .chunks
                .into_iter()
                .map(|p| BatchedChunk {
                    wall_ms: p.wall_ms,
                    chunk: p.chunk,
                })
                .collect(),
            live: Some(batch.live),
        };
        ctx.emit(topics::BEATS_TOPIC, &message)?;
    }
    Ok(beats)
}

/// Inserts the queued chunks; returns the (session, start) keys of those that were new.
async fn copy_chunks(
    conn: &mut PgConnection,
    ctx: &PushContext,
) -> Result<std::collections::HashSet<(String, u64)>, sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS push_beats \
         (session_key text, start_ms float8, wall_ms bigint, rr_raw smallint[], extras jsonb) ON COMMIT DELETE ROWS",
    )
    .execute(&mut *conn)
    .await?;
    let rows = copy_rows(&ctx.chunks)?;
    let mut copy = conn.copy_in_raw("COPY push_beats FROM STDIN").await?;
    copy.send(rows.as_bytes()).await?;
    copy.finish().await?;
    let inserted = sqlx::query(
        "INSERT INTO beat_chunks (user_id, session_key, start_ms, wall_ms, device_id, rr_raw, extras, version) \
         SELECT $1, session_key, start_ms, wall_ms, $2, rr_raw, extras, $3 FROM push_beats \
         ON CONFLICT DO NOTHING RETURNING session_key, start_ms",
    )
    .bind(ctx.user)
    .bind(ctx.device)
    .bind(ctx.version)
    .fetch_all(&mut *conn)
    .await?;
    let mut new_keys = std::collections::HashSet::with_capacity(inserted.len());
    for row in &inserted {
        let key: String = row.try_get(0)?;
        let start: f64 = row.try_get(1)?;
        new_keys.insert((key, start.to_bits()));
    }
    Ok(new_keys)
}

/// What a beats message is made of: a new chunk, or a session's other detector inputs.
enum BeatsEntry {
    Chunk(PendingChunk),
    Live(String, LiveInputs),
}

impl BeatsEntry {
    fn session_key(&self) -> &str {
        match self {
            Self::Chunk(p) => &p.chunk.session_key,
            Self::Live(key, _) => key,
        }
    }
}

/// One beats message to be.
struct Batch {
    session_key: String,
    chunks: Vec<PendingChunk>,
    live: LiveInputs,
}

/// The entries cut into messages: runs of consecutive entries of one session (the order pushed is kept, so
/// the consumer sees a session end where the device ended it), each of at most
/// [`topics::MAX_BATCH_BEATS`] beats unless one chunk alone is larger; live inputs join their run.
fn batches(entries: Vec<BeatsEntry>) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    let mut beats = 0;
    for entry in entries {
        let size = match &entry {
            BeatsEntry::Chunk(p) => p.chunk.rr_raw.len(),
            BeatsEntry::Live(..) => 0,
        };
        let joins = out.last().is_some_and(|batch| {
            batch.session_key == entry.session_key() && (size == 0 || beats + size <= topics::MAX_BATCH_BEATS)
        });
        if !joins {
            beats = 0;
            out.push(Batch {
                session_key: entry.session_key().to_owned(),
                chunks: Vec::new(),
                live: LiveInputs::default(),
            });
        }
        let Some(batch) = out.last_mut() else { continue };
        beats += size;
        match entry {
            BeatsEntry::Chunk(p) => batch.chunks.push(p),
            BeatsEntry::Live(_, inputs) => batch.live.append(inputs),
        }
    }
    out
}

/// Writes the outbox messages and the rejections of the push.
pub async fn write_outbox_and_rejections(
    conn: &mut PgConnection,
    ctx: &PushContext,
) -> Result<(), sqlx::Error> {
    crate::kafka::queue_messages(&mut *conn, ctx.user, &ctx.outbox).await?;
    for (rejection, payload) in &ctx.rejected {
        sqlx::query(
            "INSERT INTO rejected_rows (user_id, device_id, outbox_id, code, reason, payload) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ctx.user)
        .bind(ctx.device)
        .bind(rejection.outbox_id)
        .bind(&rejection.code)
        .bind(&rejection.message)
        .bind(payload)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{BeatsEntry, LiveInputs, PendingChunk, batches};

    /// A chunk of `beats` beats, or (0 beats) live inputs of one heart-rate sample.
    fn entry(session: &str, beats: usize) -> BeatsEntry {
        if beats == 0 {
            let hr = vec![auren_protocol::change::HrSample { t_ms: 0.0, bpm: 70.0 }];
            return BeatsEntry::Live(
                session.to_owned(),
                LiveInputs {
                    hr,
                    ..LiveInputs::default()
                },
            );
        }
        BeatsEntry::Chunk(PendingChunk {
            wall_ms: 0,
            chunk: auren_protocol::BeatsChunk {
                session_key: session.to_owned(),
                start_ms: 0.0,
                rr_raw: vec![820; beats],
                t_breaks: Vec::new(),
                rr_overrides: Vec::new(),
                artifacts: Vec::new(),
            },
        })
    }

    #[test]
    fn chunks_go_in_runs_of_one_session_within_the_beat_cap() {
        type Entries<'a> = &'a [(&'a str, usize)];
        // Per message: the session, its chunks' sizes and how many heart-rate samples ride along.
        type Messages<'a> = &'a [(&'a str, &'a [usize], usize)];
        let cases: [(Entries, Messages); 7] = [
            (&[], &[]),
            (
                &[("a", 60), ("a", 60), ("b", 60), ("a", 60)],
                &[("a", &[60, 60], 0), ("b", &[60], 0), ("a", &[60], 0)],
            ),
            (
                &[("a", 15_000), ("a", 15_000)],
                &[("a", &[15_000], 0), ("a", &[15_000], 0)],
            ),
            (&[("a", 25_000), ("a", 1)], &[("a", &[25_000], 0), ("a", &[1], 0)]),
            (
                &[("a", 10_000), ("a", 10_000), ("a", 1)],
                &[("a", &[10_000, 10_000], 0), ("a", &[1], 0)],
            ),
            (
                &[("a", 0), ("a", 60), ("b", 0), ("a", 0)],
                &[("a", &[60], 1), ("b", &[], 1), ("a", &[], 1)],
            ),
            (
                &[("a", 15_000), ("a", 0), ("a", 15_000), ("a", 0), ("a", 0)],
                &[("a", &[15_000], 1), ("a", &[15_000], 2)],
            ),
        ];
        for (entries, expected) in cases {
            let got: Vec<(String, Vec<usize>, usize)> =
                batches(entries.iter().map(|&(s, n)| entry(s, n)).collect())
                    .into_iter()
                    .map(|b| {
                        let sizes = b.chunks.iter().map(|p| p.chunk.rr_raw.len()).collect();
                        (b.session_key, sizes, b.live.hr.len())
                    })
                    .collect();
            let expected: Vec<(String, Vec<usize>, usize)> = expected
                .iter()
                .map(|&(s, sizes, hr)| (s.to_owned(), sizes.to_vec(), hr))
                .collect();
            assert_eq!(got, expected, "{entries:?}");
        }
    }
}
