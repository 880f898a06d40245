//! Forgetting: the person's right to have a memory gone for good, not merely hidden. Every version of the
//! memory (its whole supersession chain) is deleted with its proposals and hypotheses, and every other place
//! that quoted its text — messages, steps (the exact requests sent), receipts, claims, reasons, hypothesis
//! evidence — has the text replaced by `[forgotten]`. Then no byte of it may remain in the files:
//! `secure_delete` (set on every connection by `Store::open`) zeroes freed space, the FTS5 indexes (with their
//! own secure-delete) are optimized into fresh segments, and `wal_checkpoint(TRUNCATE)` empties the WAL that
//! still holds old page images. For sync, every version leaves a tombstone (pushed, so the other devices and
//! the server erase it too) and its synchronised fields and unsent rows go with it; `erase` is shared with
//! the erasure a pulled tombstone does (`SyncTx::forget_memory`).

use super::{Memories, MemoryId, chain_ids, sync};
use crate::StoreError;
use serde_json::Value;
use sqlx::{Row, SqliteConnection};

/// What forgetting removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Every version of the memory that was deleted.
    pub memories: Vec<MemoryId>,
    /// Rows elsewhere whose quote of the text was replaced by [`FORGOTTEN`].
    pub scrubbed_rows: u64,
}

/// What replaces a forgotten text wherever it was quoted.
pub const FORGOTTEN: &str = "[forgotten]";

/// Plain-text columns that may quote a memory: (table, column).
const TEXT_COLUMNS: &[(&str, &str)] = &[
    ("memories", "text"),
    ("memories", "supersede_reason"),
    ("memories", "retract_reason"),
    ("memory_proposals", "text"),
    ("memory_proposals", "reason"),
    ("hypotheses", "statement"),
    ("messages", "text"),
    ("claims", "text"),
    ("conversations", "title"),
];

/// JSON columns that may quote a memory (rewritten value by value, so they stay valid JSON): (table, column).
const JSON_COLUMNS: &[(&str, &str)] = &[
    ("steps", "payload"),
    ("receipts", "body"),
    ("hypotheses", "evidence"),
    ("hypothesis_tests", "evidence"),
];

impl Memories {
    /// Forgets memory `id` and every version linked to it by supersession, and scrubs every quote of their
    /// text. Each version leaves a tombstone for the other devices and the server, which erase it too; a
    /// memory field elsewhere whose quote was scrubbed is stamped again so the scrubbed value wins there.
    /// Fails with [`StoreError::Invalid`] if the WAL could not be emptied (a reader held it for the whole busy
    /// timeout); the deletion itself is committed by then and a retry finishes the job.
    pub async fn forget(&self, id: MemoryId) -> Result<Forgotten, StoreError> {
        self.forget_at(id, auren_clock::now_unix_ms()).await
    }

    /// [`Memories::forget`] with the tombstones stamped at wall time `now` (Unix ms) or later.
    pub async fn forget_at(&self, id: MemoryId, now: i64) -> Result<Forgotten, StoreError> {
        let mut conn = self.pool.acquire().await?;
        // Also set by Store::open; repeated so this connection zeroes what it frees whatever opened it.
        sqlx::query("PRAGMA secure_delete = ON")
            .execute(&mut *conn)
            .await?;
        // IMMEDIATE for the reason of `crate::begin_write` (it reads the chain, then writes), on this
        // connection rather than the pool's next one: the pragma above and the WAL truncation below need it.
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let memories = chain_ids(&mut tx, id).await?;
        let erased = erase(&mut tx, &memories).await?;
        for key in &erased.keys {
            sync::record_forgotten(&mut tx, key, now).await?;
        }
        sync::record_scrubbed(&mut tx, &erased.scrubbed_fields, now).await?;
        tx.commit().await?;
        truncate_wal(&mut conn).await?;
        Ok(Forgotten {
            memories,
            scrubbed_rows: erased.scrubbed_rows,
        })
    }

    /// Empties the WAL after memories were erased by a pulled tombstone (`SyncTx::forget_memory`), so the
    /// page images that still held their text are gone. Fails like [`Memories::forget`] when a reader holds
    /// the WAL; calling it again finishes the job.
    pub async fn clear_wal(&self) -> Result<(), StoreError> {
        truncate_wal(&mut *self.pool.acquire().await?).await
    }
}

/// What [`erase`] did.
pub(crate) struct Erased {
    /// The keys of the erased memories.
    pub keys: Vec<String>,
    pub scrubbed_rows: u64,
    /// Memory fields in `sync_fields` (key, field) whose value quoted an erased text.
    pub scrubbed_fields: Vec<(String, String)>,
}

/// Deletes memories `ids` with their proposals, hypotheses and sync fields, and scrubs every quote of their
/// text, on `conn` inside the caller's transaction (the WAL is the caller's to truncate after the commit).
pub(crate) async fn erase(conn: &mut SqliteConnection, ids: &[MemoryId]) -> Result<Erased, StoreError> {
    let keys = sync::keys_of(conn, ids).await?;
    let texts = texts_of(conn, ids).await?;
    for memory in ids {
        // Proposals and hypotheses pointing at the chain go with it (by cascade for `target_id` and
        // `memory_id`); an applied proposal's text is the memory's own.
        sqlx::query("DELETE FROM memory_proposals WHERE result_id = ?1 OR target_id = ?1")
            .bind(memory.0)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM memories WHERE id = ?")
            .bind(memory.0)
            .execute(&mut *conn)
            .await?;
    }
    for key in &keys {
        sync::drop_sync_state(conn, key).await?;
    }
    let (mut scrubbed_rows, mut scrubbed_fields) = (0, Vec::new());
    for text in &texts {
        sqlx::query("DELETE FROM memory_proposals WHERE text = ?")
            .bind(text)
            .execute(&mut *conn)
            .await?;
        scrubbed_rows += scrub(conn, text).await?;
        scrubbed_fields.extend(scrub_sync_fields(conn, text).await?);
    }
    scrubbed_fields.sort();
    scrubbed_fields.dedup();
    for index in ["memories_fts", "messages_fts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {index} ({index}) VALUES ('optimize')"
        )))
        .execute(&mut *conn)
        .await?;
    }
    Ok(Erased {
        keys,
        scrubbed_rows,
        scrubbed_fields,
    })
}

async fn texts_of(conn: &mut SqliteConnection, ids: &[MemoryId]) -> Result<Vec<String>, StoreError> {
    let mut texts = Vec::new();
    for id in ids {
        let rows = sqlx::query(
            "SELECT text FROM memories WHERE id = ?1 \
             UNION SELECT text FROM memory_proposals WHERE (result_id = ?1 OR target_id = ?1) AND text IS NOT NULL",
        )
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            texts.push(row.try_get::<String, _>(0)?);
        }
    }
    texts.sort();
    texts.dedup();
    Ok(texts)
}

/// Replaces `text` by [`FORGOTTEN`] wherever it is quoted; returns how many rows changed.
async fn scrub(conn: &mut SqliteConnection, text: &str) -> Result<u64, StoreError> {
    let mut changed = 0;
    for (table, column) in TEXT_COLUMNS {
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET {column} = replace({column}, ?1, ?2) WHERE instr({column}, ?1) > 0"
        )))
        .bind(text)
        .bind(FORGOTTEN)
        .execute(&mut *conn)
        .await?;
        changed += done.rows_affected();
    }
    // Inside JSON the text appears escaped, as serde_json writes a string's content.
    let needle = &json_needle(text)?;
    for (table, column) in JSON_COLUMNS {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT rowid, {column} FROM {table} WHERE instr({column}, ?) > 0"
        )))
        .bind(needle)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let rowid: i64 = row.try_get(0)?;
            let mut value: Value = serde_json::from_str(&row.try_get::<String, _>(1)?).map_err(|e| {
                StoreError::Range(format!("{table}.{column} of row {rowid} is not JSON: {e}"))
            })?;
            replace_in_strings(&mut value, text);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET {column} = ? WHERE rowid = ?"
            )))
            .bind(value.to_string())
            .bind(rowid)
            .execute(&mut *conn)
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Replaces `text` by [`FORGOTTEN`] inside the JSON values of `sync_fields` (a synchronised field may quote
/// it, as a reason does); returns the memory fields `(key, field)` that changed.
async fn scrub_sync_fields(
    conn: &mut SqliteConnection,
    text: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let needle = json_needle(text)?;
    let rows = sqlx::query("SELECT collection, key, field, value FROM sync_fields WHERE instr(value, ?) > 0")
        .bind(&needle)
        .fetch_all(&mut *conn)
        .await?;
    let mut changed = Vec::new();
    for row in rows {
        let (collection, key, field): (String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let mut value: Value = serde_json::from_str(&row.try_get::<String, _>(3)?).map_err(|e| {
            StoreError::Range(format!("sync field {collection}/{key}/{field} is not JSON: {e}"))
        })?;
        replace_in_strings(&mut value, text);
        sqlx::query("UPDATE sync_fields SET value = ? WHERE collection = ? AND key = ? AND field = ?")
            .bind(value.to_string())
            .bind(&collection)
            .bind(&key)
            .bind(&field)
            .execute(&mut *conn)
            .await?;
        if collection == sync::MEMORY_COLLECTION {
            changed.push((key, field));
        }
    }
    Ok(changed)
}

/// `text` as it appears inside a JSON string (escaped as serde_json writes a string's content).
fn json_needle(text: &str) -> Result<String, StoreError> {
    let escaped = serde_json::to_string(text).map_err(|e| StoreError::Invalid {
        what: "memory text",
        reason: e.to_string(),
    })?;
    Ok(escaped[1..escaped.len() - 1].to_owned())
}

/// Replaces `text` in every string of `value`, object keys included.
fn replace_in_strings(value: &mut Value, text: &str) {
    match value {
        Value::String(s) => {
            if s.contains(text) {
                *s = s.replace(text, FORGOTTEN);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_in_strings(v, text)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                replace_in_strings(&mut v, text);
                map.insert(key.replace(text, FORGOTTEN), v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Copies the WAL into the database and truncates it to zero bytes, so the old page images it held are gone.
async fn truncate_wal(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await?;
    let busy: i64 = row.try_get(0)?;
    if busy != 0 {
        return Err(StoreError::Invalid {
            what: "forget",
            reason: "the write-ahead log is in use by another reader; forget again to finish clearing it"
                .into(),
        });
    }
    Ok(())
}
