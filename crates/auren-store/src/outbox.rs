//! The sync outbox: one row per stored change the server has not acknowledged, appended in the same
//! transaction as the change itself, deleted when the server acknowledges it.

use crate::{SessionId, Store, StoreError};
use sqlx::{Row, SqliteConnection};

/// What an outbox row points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    /// A session was started or ended: send the session row (`session_id`).
    Session,
    /// Beats of `session_id` with `from_ms <= t_ms <= to_ms` were stored.
    Beats,
    /// Gaps of `session_id` starting in `from_ms..=to_ms`.
    Gaps,
    /// HR samples of `session_id` in `from_ms..=to_ms`.
    HrSamples,
    /// Metric snapshots of `session_id` in `from_ms..=to_ms`.
    Metrics,
    /// Contact and link changes of `session_id` in `from_ms..=to_ms`.
    Signals,
    /// One alert (`entity_id` = its id).
    Alert,
    /// One tag (`entity_id` = its id).
    Tag,
    /// The morning reading of day `entity_id` (added or replaced).
    MorningReading,
    /// The note (label) of `session_id` was edited.
    Note,
    /// The memory `entity_key` was edited.
    Memory,
    /// The setting `entity_key` was changed.
    Setting,
    /// The record `entity_key` of `collection` was deleted.
    Tombstone,
}

impl OutboxKind {
    pub const ALL: [Self; 13] = [
        Self::Session,
        Self::Beats,
        Self::Gaps,
        Self::HrSamples,
        Self::Metrics,
        Self::Alert,
        Self::Tag,
        Self::MorningReading,
        Self::Note,
        Self::Memory,
        Self::Setting,
        Self::Tombstone,
        Self::Signals,
    ];

    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Beats => "beats",
            Self::Gaps => "gaps",
            Self::HrSamples => "hr_samples",
            Self::Metrics => "metrics",
            Self::Alert => "alert",
            Self::Tag => "tag",
            Self::MorningReading => "morning_reading",
            Self::Note => "note",
            Self::Memory => "memory",
            Self::Setting => "setting",
            Self::Tombstone => "tombstone",
            Self::Signals => "signals",
        }
    }

    /// The kind stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One pending change for the sync client.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRow {
    /// Increasing, never reused (acknowledge with [`Store::outbox_ack`]).
    pub id: i64,
    pub kind: OutboxKind,
    pub session_id: Option<SessionId>,
    pub entity_id: Option<i64>,
    /// Session-relative range of a batch (beats, gaps, HR samples, metrics, signal changes), both ends included.
    pub from_ms: Option<f64>,
    pub to_ms: Option<f64>,
    /// How many rows the change stored.
    pub rows: i64,
    /// Wall time of the insert, Unix milliseconds.
    pub created_at: i64,
    /// The key of a memory, setting or tombstone.
    pub entity_key: Option<String>,
    /// A tombstone's collection (`tag`, `memory`, `setting`, `morning`).
    pub collection: Option<String>,
}

/// Where one change lives, for [`append`].
pub(crate) struct Change {
    pub kind: OutboxKind,
    pub session_id: Option<i64>,
    pub entity_id: Option<i64>,
    pub range: Option<(f64, f64)>,
    pub rows: i64,
}

/// Appends the outbox row of `change` on `conn`, which is inside the change's own transaction.
pub(crate) async fn append(conn: &mut SqliteConnection, change: Change) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (kind, session_id, entity_id, from_ms, to_ms, rows, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
    )
    .bind(change.kind.as_str())
    .bind(change.session_id)
    .bind(change.entity_id)
    .bind(change.range.map(|r| r.0))
    .bind(change.range.map(|r| r.1))
    .bind(change.rows)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The oldest `limit` changes the server has not acknowledged, oldest first.
    pub async fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, collection \
             FROM outbox ORDER BY id LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get(1)?;
                Ok(OutboxRow {
                    id: row.try_get(0)?,
                    kind: OutboxKind::parse(&kind)
                        .ok_or_else(|| StoreError::Range(format!("unknown outbox kind {kind:?}")))?,
                    session_id: row.try_get::<Option<i64>, _>(2)?.map(SessionId),
                    entity_id: row.try_get(3)?,
                    from_ms: row.try_get(4)?,
                    to_ms: row.try_get(5)?,
                    rows: row.try_get(6)?,
                    created_at: row.try_get(7)?,
                    entity_key: row.try_get(8)?,
                    collection: row.try_get(9)?,
                })
            })
            .collect()
    }

    /// Deletes the acknowledged rows; returns how many existed. Unknown ids (already acknowledged) are skipped,
    /// so a repeated acknowledgement is harmless.
    pub async fn outbox_ack(&self, ids: &[i64]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let done = sqlx::query("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))")
            .bind(format!("[{list}]"))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// How many changes wait for the server.
    pub async fn outbox_len(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }
}
