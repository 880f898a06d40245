//! Memories across a person's devices. A memory is known everywhere by its key (`"<replica>:<local id>"` of
//! the database that made it, `0008_memory_sync.sql`) and synchronised as three last-writer-wins fields in
//! `sync_fields`: `created` (written once), `superseded` and `retracted`. Each local operation stamps the field
//! it wrote and queues an outbox row in the operation's own transaction; a pulled memory is merged field by
//! field (by auren-sync) and then materialised here into its `memories` row. Forgetting is a tombstone that
//! erases the memory wherever it arrives.
//!
//! Why three fields and not one per column: the columns of each field are written together and once (a
//! memory is superseded or retracted as a whole), so splitting them could only mix two devices' halves.
//! A retraction on one device and a supersession (an edit) on another touch different fields and both stand:
//! the old version ends up superseded and retracted, the replacement active, the same on every device.

use super::{MAX_MEMORY_TEXT, MemoryId, MemoryKind};
use crate::outbox::OutboxKind;
use crate::sync_state::{append_keyed, put_field_on, put_tombstone_on, tick};
use crate::{StoreError, SyncTx};
use serde_json::Value;
use sqlx::{Row, SqliteConnection};

/// The `sync_fields` collection (and tombstone collection) of memories.
pub const MEMORY_COLLECTION: &str = "memory";

/// A synchronised field of a memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryField {
    /// `{kind, text, importance, source: {kind, ref}, valid_from, recorded_at}`, written when it is made.
    Created,
    /// `{at, by, reason, valid_to}`: `by` is the replacement's key (null once it was forgotten).
    Superseded,
    /// `{at, reason}`.
    Retracted,
}

impl MemoryField {
    pub const ALL: [Self; 3] = [Self::Created, Self::Superseded, Self::Retracted];

    /// The field's name in `sync_fields` and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Superseded => "superseded",
            Self::Retracted => "retracted",
        }
    }

    /// The field named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// Whether `value` is a well-formed value of this field (a pulled value is untrusted); why not if not.
    pub fn check(self, value: &Value) -> Result<(), &'static str> {
        match self {
            Self::Created => Created::of(value).map(|_| ()),
            Self::Superseded => Superseded::of(value).map(|_| ()),
            Self::Retracted => Retracted::of(value).map(|_| ()),
        }
    }

    /// The field's JSON built from the columns of `memories m` (the replacement joined as `s`). The same
    /// objects as `0008_memory_sync.sql` builds for the memories made before it.
    fn select(self) -> &'static str {
        match self {
            Self::Created => {
                "json_object('kind', m.kind, 'text', m.text, 'importance', m.importance, \
                 'source', json_object('kind', m.source_kind, 'ref', m.source_ref), \
                 'valid_from', m.valid_from, 'recorded_at', m.recorded_at)"
            }
            Self::Superseded => {
                "json_object('at', m.superseded_at, 'by', s.key, 'reason', m.supersede_reason, \
                 'valid_to', m.valid_to)"
            }
            Self::Retracted => "json_object('at', m.retracted_at, 'reason', m.retract_reason)",
        }
    }
}

struct Created {
    kind: MemoryKind,
    text: String,
    importance: f64,
    source_kind: &'static str,
    source_ref: Option<String>,
    valid_from: i64,
    recorded_at: i64,
}

struct Superseded {
    at: i64,
    by: Option<String>,
    reason: String,
    valid_to: i64,
}

struct Retracted {
    at: i64,
    reason: String,
}

fn int(value: &Value, name: &str) -> Result<i64, &'static str> {
    value
        .get(name)
        .and_then(Value::as_i64)
        .ok_or("a time is missing or not an integer")
}

fn reason(value: &Value) -> Result<String, &'static str> {
    match value.get("reason").and_then(Value::as_str) {
        Some(r) if !r.trim().is_empty() => Ok(r.to_owned()),
        _ => Err("its reason is missing or empty"),
    }
}

impl Created {
    fn of(value: &Value) -> Result<Self, &'static str> {
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .and_then(MemoryKind::parse)
            .ok_or("its kind is not a memory kind")?;
        let text = value.get("text").and_then(Value::as_str).unwrap_or_default();
        if text.trim().is_empty() || text.chars().count() > MAX_MEMORY_TEXT {
            return Err("its text is empty or too long");
        }
        let importance = value
            .get("importance")
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN);
        if !(0.0..=1.0).contains(&importance) {
            return Err("its importance is not between 0 and 1");
        }
        let source = value.get("source").unwrap_or(&Value::Null);
        let source_ref = source.get("ref").and_then(Value::as_str).map(str::to_owned);
        let source_kind = match (source.get("kind").and_then(Value::as_str), &source_ref) {
            (Some("person"), None) => "person",
            (Some("receipt"), Some(_)) => "receipt",
            (Some("message"), Some(r)) if super::message_ref(r).is_some() => "message",
            _ => return Err("its source is not a message, a receipt or the person"),
        };
        Ok(Self {
            kind,
            text: text.to_owned(),
            importance,
            source_kind,
            source_ref,
            valid_from: int(value, "valid_from")?,
            recorded_at: int(value, "recorded_at")?,
        })
    }
}

impl Superseded {
    fn of(value: &Value) -> Result<Self, &'static str> {
        let by = match value.get("by") {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) => Some(key.clone()),
            Some(_) => return Err("its replacement is not a key"),
        };
        Ok(Self {
            at: int(value, "at")?,
            by,
            reason: reason(value)?,
            valid_to: int(value, "valid_to")?,
        })
    }
}

impl Retracted {
    fn of(value: &Value) -> Result<Self, &'static str> {
        Ok(Self {
            at: int(value, "at")?,
            reason: reason(value)?,
        })
    }
}

/// Stamps `field` of memory `id` as it now stands and queues the memory for the server, on `conn` inside the
/// operation's own transaction.
pub(crate) async fn record(
    conn: &mut SqliteConnection,
    id: MemoryId,
    field: MemoryField,
    now: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.key, {} FROM memories m LEFT JOIN memories s ON s.id = m.superseded_by WHERE m.id = ?",
        field.select()
    )))
    .bind(id.0)
    .fetch_one(&mut *conn)
    .await?;
    let (key, value): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    let stamp = tick(conn, now).await?;
    put_field_on(conn, (MEMORY_COLLECTION, &key, field.as_str()), &value, &stamp).await?;
    append_keyed(conn, OutboxKind::Memory, &key, None).await
}

/// The keys of memories `ids`.
pub(crate) async fn keys_of(
    conn: &mut SqliteConnection,
    ids: &[MemoryId],
) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::with_capacity(ids.len());
    for id in ids {
        let key: Option<String> = sqlx::query_scalar("SELECT key FROM memories WHERE id = ?")
            .bind(id.0)
            .fetch_one(&mut *conn)
            .await?;
        keys.extend(key);
    }
    Ok(keys)
}

/// Drops what sync keeps of memory `key` (its fields and unsent rows), once the memory itself is gone.
pub(crate) async fn drop_sync_state(conn: &mut SqliteConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sync_fields WHERE collection = ? AND key = ?")
        .bind(MEMORY_COLLECTION)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM outbox WHERE kind = ? AND entity_key = ?")
        .bind(OutboxKind::Memory.as_str())
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The local forget of memory `key`: a tombstone stamped at `now`, queued for the server.
pub(crate) async fn record_forgotten(
    conn: &mut SqliteConnection,
    key: &str,
    now: i64,
) -> Result<(), StoreError> {
    drop_sync_state(conn, key).await?;
    let stamp = tick(conn, now).await?;
    put_tombstone_on(conn, MEMORY_COLLECTION, key, &stamp).await?;
    append_keyed(conn, OutboxKind::Tombstone, key, Some(MEMORY_COLLECTION)).await
}

/// Stamps again the memory fields whose quote of a forgotten text was scrubbed (`(key, field)`), so the
/// scrubbed value wins on every device and on the server.
pub(crate) async fn record_scrubbed(
    conn: &mut SqliteConnection,
    fields: &[(String, String)],
    now: i64,
) -> Result<(), StoreError> {
    for (key, field) in fields {
        let value: String = sqlx::query_scalar(
            "SELECT value FROM sync_fields WHERE collection = ? AND key = ? AND field = ?",
        )
        .bind(MEMORY_COLLECTION)
        .bind(key)
        .bind(field)
        .fetch_one(&mut *conn)
        .await?;
        let stamp = tick(conn, now).await?;
        put_field_on(conn, (MEMORY_COLLECTION, key, field), &value, &stamp).await?;
        append_keyed(conn, OutboxKind::Memory, key, None).await?;
    }
    Ok(())
}

/// The winning value of `field` of memory `key` in `sync_fields`, parsed.
async fn winner(
    conn: &mut SqliteConnection,
    key: &str,
    field: MemoryField,
) -> Result<Option<Value>, StoreError> {
    let json: Option<String> =
        sqlx::query_scalar("SELECT value FROM sync_fields WHERE collection = ? AND key = ? AND field = ?")
            .bind(MEMORY_COLLECTION)
            .bind(key)
            .bind(field.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The merged fields of a pulled memory, checked against each other.
struct Merged {
    created: Created,
    superseded: Option<Superseded>,
    retracted: Option<Retracted>,
}

async fn merged(conn: &mut SqliteConnection, key: &str) -> Result<Result<Merged, &'static str>, StoreError> {
    let created = winner(conn, key, MemoryField::Created).await?;
    let superseded = winner(conn, key, MemoryField::Superseded).await?;
    let retracted = winner(conn, key, MemoryField::Retracted).await?;
    Ok(check_merged(created, superseded, retracted))
}

fn check_merged(
    created: Option<Value>,
    superseded: Option<Value>,
    retracted: Option<Value>,
) -> Result<Merged, &'static str> {
    let created = Created::of(created.as_ref().ok_or("its creation has not arrived")?)?;
    let superseded = superseded.as_ref().map(Superseded::of).transpose()?;
    let retracted = retracted.as_ref().map(Retracted::of).transpose()?;
    let recorded = created.recorded_at;
    if superseded
        .as_ref()
        .is_some_and(|s| s.at < recorded || s.valid_to < created.valid_from)
    {
        return Err("it was superseded before it was recorded or valid");
    }
    if retracted.as_ref().is_some_and(|r| r.at < recorded) {
        return Err("it was retracted before it was recorded");
    }
    Ok(Merged {
        created,
        superseded,
        retracted,
    })
}

impl SyncTx {
    /// Makes the `memories` row of `key` what its merged fields in `sync_fields` say, inserting a memory
    /// first seen here (under its own key, with the times it was recorded at where it was made, so "as of"
    /// reads agree across devices). Call after merging a pulled memory's fields; why not when they do not
    /// make a memory (its row is then left as it was).
    pub async fn materialize_memory(&mut self, key: &str) -> Result<Result<(), &'static str>, StoreError> {
        let conn = &mut *self.tx;
        let m = match merged(conn, key).await? {
            Ok(m) => m,
            Err(why) => return Ok(Err(why)),
        };
        let by = match m.superseded.as_ref().and_then(|s| s.by.as_deref()) {
            Some(by) => local_id(conn, by).await?,
            None => None,
        };
        let s = m.superseded.as_ref();
        let r = m.retracted.as_ref();
        if let Some(id) = local_id(conn, key).await? {
            // Fields only ever gain a value (a later stamp replaces one, nothing removes one), so a missing
            // field keeps the columns as they are.
            sqlx::query(
                "UPDATE memories SET superseded_at = COALESCE(?1, superseded_at), \
                 superseded_by = CASE WHEN ?1 IS NULL THEN superseded_by ELSE ?2 END, \
                 supersede_reason = COALESCE(?3, supersede_reason), valid_to = COALESCE(?4, valid_to), \
                 retracted_at = COALESCE(?5, retracted_at), retract_reason = COALESCE(?6, retract_reason) \
                 WHERE id = ?7",
            )
            .bind(s.map(|s| s.at))
            .bind(by)
            .bind(s.map(|s| s.reason.as_str()))
            .bind(s.map(|s| s.valid_to))
            .bind(r.map(|r| r.at))
            .bind(r.map(|r| r.reason.as_str()))
            .bind(id)
            .execute(&mut *conn)
            .await?;
            return Ok(Ok(()));
        }
        let c = &m.created;
        let source_ref = match (c.source_kind, &c.source_ref) {
            ("message", Some(reference)) => {
                local_message_ref(reference, key, &self.replica).or_else(|| c.source_ref.clone())
            }
            _ => c.source_ref.clone(),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO memories (key, kind, text, importance, source_kind, source_ref, valid_from, recorded_at, \
             superseded_at, superseded_by, supersede_reason, valid_to, retracted_at, retract_reason) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(key)
        .bind(c.kind.as_str())
        .bind(&c.text)
        .bind(c.importance)
        .bind(c.source_kind)
        .bind(&source_ref)
        .bind(c.valid_from)
        .bind(c.recorded_at)
        .bind(s.map(|s| s.at))
        .bind(by)
        .bind(s.map(|s| s.reason.as_str()))
        .bind(s.map(|s| s.valid_to))
        .bind(r.map(|r| r.at))
        .bind(r.map(|r| r.reason.as_str()))
        .fetch_one(&mut *conn)
        .await?;
        // The versions this one replaced may have arrived first, naming it by key before it existed here.
        sqlx::query(
            "UPDATE memories SET superseded_by = ?1 WHERE superseded_by IS NULL AND superseded_at IS NOT NULL \
             AND key IN (SELECT key FROM sync_fields WHERE collection = ?2 AND field = ?3 \
                         AND json_extract(value, '$.by') = ?4)",
        )
        .bind(id)
        .bind(MEMORY_COLLECTION)
        .bind(MemoryField::Superseded.as_str())
        .bind(key)
        .execute(&mut *conn)
        .await?;
        Ok(Ok(()))
    }

    /// Erases memory `key` for a pulled tombstone: the row, its proposals and hypotheses, its sync fields and
    /// unsent rows, and every quote of its text here (without new outbox rows: the device that forgot it
    /// sends the scrubbed fields). Returns whether a memory was here to erase; if so, call
    /// [`crate::Memories::clear_wal`] after the commit.
    pub async fn forget_memory(&mut self, key: &str) -> Result<bool, StoreError> {
        // `secure_delete` is on for every connection (`Store::open`), so what this frees is zeroed.
        let conn = &mut *self.tx;
        let id = local_id(conn, key).await?;
        drop_sync_state(conn, key).await?;
        match id {
            Some(id) => {
                super::forget::erase(conn, &[MemoryId(id)]).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A synced memory's message reference as this database keeps it. A plain `"<id>"` in a memory's `created`
/// field names a message of the device that made the memory (the replica its key starts with); it is
/// qualified with that replica here, and a reference to one of this database's own messages (a memory made
/// here, coming back, or made elsewhere from a message quoted here) is kept plain, so only this device's
/// messages are ever taken for local ones.
pub fn local_message_ref(reference: &str, memory_key: &str, this_replica: &str) -> Option<String> {
    let (replica, id) = super::message_ref(reference)?;
    let origin = replica.or_else(|| memory_key.rsplit_once(':').map(|(replica, _)| replica))?;
    Some(if origin == this_replica {
        id.0.to_string()
    } else {
        format!("{origin}:{}", id.0)
    })
}

async fn local_id(conn: &mut SqliteConnection, key: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM memories WHERE key = ?")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
}
