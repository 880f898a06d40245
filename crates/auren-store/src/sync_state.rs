//! The device side of sync (tables of `0005_sync.sql`): the replica id that prefixes the keys this database
//! pushes, the signed-in account, pull cursors (only ever raised), parked outbox rows, the clocks of
//! editable fields, local edits of tags and notes (table + clock + outbox row in one transaction), and
//! [`SyncTx`], the transaction that applies pulled changes. Pulled rows get no outbox row, so nothing a
//! device pulls is pushed back. auren-store knows nothing of the wire types: auren-sync maps them.

use crate::outbox::{self, Change, OutboxKind};
use crate::sessions::{SESSION_COLUMNS, alert_row, session_row};
use crate::{AlertRow, BeatRow, GapRow, SessionId, SessionRow, Store, StoreError, TagRow};
use sqlx::{Row, Sqlite, SqliteConnection, Transaction};

/// A hybrid-logical-clock stamp as stored: ordered by wall time, counter, then device.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stamp {
    pub wall_ms: i64,
    pub counter: u32,
    pub device: String,
}

/// The account a database syncs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncAccount {
    pub server_url: String,
    pub user_id: String,
    pub email: String,
    pub device_id: String,
    pub signed_in_at: i64,
}

/// An outbox row that was not sent, or that the server refused.
#[derive(Clone, Debug, PartialEq)]
pub struct ParkedRow {
    pub outbox_id: i64,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub parked_at: i64,
    /// The change type the server refused because it did not list it: the row is queued again by itself once
    /// a server's answer lists the type.
    pub waits_for_type: Option<String>,
    /// Whether what the row points at was kept, so it can be sent again (rows parked by versions before
    /// that are shown, never sent again; their data stays in the database all the same).
    pub resendable: bool,
    /// What the row points at, as its outbox row did; `None` for rows parked by versions before that.
    pub points_at: Option<ParkedPointer>,
}

/// What a parked row points at: the columns of its outbox row ([`crate::OutboxRow`]'s meaning).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParkedPointer {
    pub session_id: Option<SessionId>,
    pub entity_id: Option<i64>,
    /// Session-relative range of a batch, both ends included.
    pub from_ms: Option<f64>,
    pub to_ms: Option<f64>,
    /// The key of a memory, setting or tombstone.
    pub entity_key: Option<String>,
    /// A tombstone's collection.
    pub collection: Option<String>,
}

/// Why an outbox row is parked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkReason<'a> {
    /// The server's row code (`invalid_row`, `unknown_session`, `unsupported_row`, `too_large`), or the
    /// client's own (`unbuildable`).
    pub code: &'a str,
    pub message: &'a str,
    /// The change type the refusing server did not list (see [`ParkedRow::waits_for_type`]).
    pub waits_for_type: Option<&'a str>,
}

/// What [`Store::requeue_parked`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requeued {
    /// Rows put back at the end of the outbox.
    pub requeued: u64,
    /// Rows left parked: parked before parked rows kept what they point at.
    pub kept: i64,
}

/// A session recorded on another device (or an athlete's, for a coach).
#[derive(Clone, Debug, PartialEq)]
pub struct PulledSession {
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub kind: crate::SessionKind,
    pub source: String,
    /// The athlete's user id when a coach stores an athlete's session; `None` for the account's own.
    pub athlete: Option<String>,
}

/// The next stamp after the database's clock state at wall time `now_ms`, saved as the new state.
pub(crate) async fn tick(conn: &mut SqliteConnection, now_ms: i64) -> Result<Stamp, StoreError> {
    let row = sqlx::query("SELECT replica_id, hlc_wall, hlc_counter FROM sync_replica WHERE only_row = 1")
        .fetch_one(&mut *conn)
        .await?;
    let (device, wall, counter): (String, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let counter = u32::try_from(counter).unwrap_or(u32::MAX);
    let next = if wall >= now_ms {
        Stamp {
            wall_ms: wall,
            counter: counter.saturating_add(1),
            device,
        }
    } else {
        Stamp {
            wall_ms: now_ms,
            counter: 0,
            device,
        }
    };
    sqlx::query("UPDATE sync_replica SET hlc_wall = ?, hlc_counter = ? WHERE only_row = 1")
        .bind(next.wall_ms)
        .bind(i64::from(next.counter))
        .execute(&mut *conn)
        .await?;
    Ok(next)
}

async fn field_on(
    conn: &mut SqliteConnection,
    collection: &str,
    key: &str,
    field: &str,
) -> Result<Option<(String, Stamp)>, StoreError> {
    sqlx::query(
        "SELECT value, hlc_wall, hlc_counter, hlc_device FROM sync_fields \
         WHERE collection = ? AND key = ? AND field = ?",
    )
    .bind(collection)
    .bind(key)
    .bind(field)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| {
        let counter: i64 = row.try_get(2)?;
        Ok((
            row.try_get(0)?,
            Stamp {
                wall_ms: row.try_get(1)?,
                counter: u32::try_from(counter).unwrap_or(u32::MAX),
                device: row.try_get(3)?,
            },
        ))
    })
    .transpose()
}

pub(crate) async fn put_field_on(
    conn: &mut SqliteConnection,
    (collection, key, field): (&str, &str, &str),
    value_json: &str,
    stamp: &Stamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_fields (collection, key, field, value, hlc_wall, hlc_counter, hlc_device) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (collection, key, field) DO UPDATE SET value = excluded.value, \
         hlc_wall = excluded.hlc_wall, hlc_counter = excluded.hlc_counter, hlc_device = excluded.hlc_device",
    )
    .bind(collection)
    .bind(key)
    .bind(field)
    .bind(value_json)
    .bind(stamp.wall_ms)
    .bind(i64::from(stamp.counter))
    .bind(&stamp.device)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The `sync_fields` and `sync_tombstones` collection of a coach's copies of athletes' morning readings:
/// apart from the account's own `"morning"` records, whose keys are bare day numbers an athlete's would share.
pub const ATHLETE_MORNING_COLLECTION: &str = "athlete_morning";

/// The key of athlete `athlete`'s (email) morning of `day` in [`ATHLETE_MORNING_COLLECTION`]: the day first
/// (digits and a sign, never a `:`), so the email is everything after the first `:`.
pub fn athlete_morning_key(athlete: &str, day: i64) -> String {
    format!("{day}:{athlete}")
}

/// The `sync_fields` collection of the person's settings (one record per setting key).
pub const SETTING_COLLECTION: &str = "setting";
/// The one field of a setting record: its value.
pub const SETTING_FIELD: &str = "value";

/// A field value as the JSON text `sync_fields` keeps.
fn json_text(value: impl Into<serde_json::Value>) -> String {
    value.into().to_string()
}

impl Store {
    /// This database's replica id (the prefix of the keys it pushes, its HLC tie-break).
    pub async fn replica_id(&self) -> Result<String, StoreError> {
        Ok(
            sqlx::query("SELECT replica_id FROM sync_replica WHERE only_row = 1")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// The account this database syncs with, if signed in.
    pub async fn sync_account(&self) -> Result<Option<SyncAccount>, StoreError> {
        sqlx::query("SELECT server_url, user_id, email, device_id, signed_in_at FROM sync_account")
            .fetch_optional(&self.pool)
            .await?
            .map(|row| {
                Ok(SyncAccount {
                    server_url: row.try_get(0)?,
                    user_id: row.try_get(1)?,
                    email: row.try_get(2)?,
                    device_id: row.try_get(3)?,
                    signed_in_at: row.try_get(4)?,
                })
            })
            .transpose()
    }

    /// Records the signed-in account. Signing in as another user forgets the pull cursors (they count
    /// another user's versions).
    pub async fn set_sync_account(&self, account: &SyncAccount) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let previous: Option<String> = sqlx::query("SELECT user_id FROM sync_account")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if previous.as_deref().is_some_and(|p| p != account.user_id) {
            sqlx::query("DELETE FROM sync_cursors").execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT OR REPLACE INTO sync_account (only_row, server_url, user_id, email, device_id, signed_in_at) \
             VALUES (1, ?, ?, ?, ?, ?)",
        )
        .bind(&account.server_url)
        .bind(&account.user_id)
        .bind(&account.email)
        .bind(&account.device_id)
        .bind(account.signed_in_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the account (signing out); the data and cursors stay.
    pub async fn clear_sync_account(&self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sync_account")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The pull cursor of the account's own data (`athlete = None`) or of an athlete's; 0 before any pull.
    pub async fn sync_cursor(&self, athlete: Option<&str>) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT cursor FROM sync_cursors WHERE scope = ?")
            .bind(athlete.unwrap_or(""))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0))
    }

    /// Moves outbox row `outbox_id` (of `kind`) out of the queue into the parked rows, with why and with what it
    /// points at (so [`Store::requeue_parked`] can queue it again): the queue goes on and the data it points
    /// at stays.
    pub async fn park_outbox_row(
        &self,
        outbox_id: i64,
        kind: &str,
        why: &ParkReason<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        // The outbox row's columns when it is there (it always is when the client parks; a LEFT JOIN keeps the
        // reason even if it is not).
        sqlx::query(
            "INSERT OR REPLACE INTO sync_parked (outbox_id, kind, code, message, parked_at, waits_for_type, \
             session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, collection) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, o.session_id, o.entity_id, o.from_ms, o.to_ms, o.rows, o.created_at, \
             o.entity_key, o.collection FROM (SELECT 1) LEFT JOIN outbox o ON o.id = ?1",
        )
        .bind(outbox_id)
        .bind(kind)
        .bind(why.code)
        .bind(why.message)
        .bind(now_ms)
        .bind(why.waits_for_type)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(outbox_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The parked rows, oldest first.
    pub async fn parked_rows(&self) -> Result<Vec<ParkedRow>, StoreError> {
        sqlx::query(
            "SELECT outbox_id, kind, code, message, parked_at, waits_for_type, created_at IS NOT NULL, \
             session_id, entity_id, from_ms, to_ms, entity_key, collection \
             FROM sync_parked ORDER BY outbox_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let resendable: bool = row.try_get(6)?;
            Ok(ParkedRow {
                outbox_id: row.try_get(0)?,
                kind: row.try_get(1)?,
                code: row.try_get(2)?,
                message: row.try_get(3)?,
                parked_at: row.try_get(4)?,
                waits_for_type: row.try_get(5)?,
                resendable,
                // Rows parked before migration 0013 kept no pointers (created_at IS NULL).
                points_at: if resendable {
                    Some(ParkedPointer {
                        session_id: row.try_get::<Option<i64>, _>(7)?.map(SessionId),
                        entity_id: row.try_get(8)?,
                        from_ms: row.try_get(9)?,
                        to_ms: row.try_get(10)?,
                        entity_key: row.try_get(11)?,
                        collection: row.try_get(12)?,
                    })
                } else {
                    None
                },
            })
        })
        .collect()
    }

    /// Puts the parked rows `outbox_ids` back at the end of the outbox, in their order, so the next push sends
    /// them again. Each gets a new outbox id: the server skips ids at or below the device's last applied one
    /// as repeats, and a parked row's old id is below it. Rows parked before parked rows kept what they point
    /// at ([`ParkedRow::resendable`] false) stay parked; unknown ids are skipped.
    pub async fn requeue_parked(&self, outbox_ids: &[i64]) -> Result<Requeued, StoreError> {
        let mut done = Requeued::default();
        if outbox_ids.is_empty() {
            return Ok(done);
        }
        let ids = serde_json::Value::from(outbox_ids.to_vec()).to_string();
        let mut tx = crate::begin_write(&self.pool).await?;
        let chosen = "FROM sync_parked WHERE outbox_id IN (SELECT value FROM json_each(?1))";
        done.requeued = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (kind, session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, \
             collection) SELECT kind, session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, \
             collection {chosen} AND created_at IS NOT NULL ORDER BY outbox_id"
        )))
        .bind(&ids)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE {chosen} AND created_at IS NOT NULL"
        )))
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        done.kept = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {chosen}")))
            .bind(&ids)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// The key a session is known by everywhere: `"<replica>:<id>"` for one recorded here, the pulled key
    /// otherwise.
    pub async fn session_key(&self, id: SessionId) -> Result<String, StoreError> {
        let pulled: Option<String> =
            sqlx::query("SELECT session_key FROM sync_sessions WHERE session_id = ?")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        match pulled {
            Some(key) => Ok(key),
            None => Ok(format!("{}:{}", self.replica_id().await?, id.0)),
        }
    }

    /// The key of tag `id`, as [`Store::session_key`] for sessions.
    pub async fn tag_key(&self, id: i64) -> Result<String, StoreError> {
        let pulled: Option<String> = sqlx::query("SELECT tag_key FROM sync_tags WHERE tag_id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match pulled {
            Some(key) => Ok(key),
            None => Ok(format!("{}:{}", self.replica_id().await?, id)),
        }
    }

    /// Beats of session `id` with `from_ms <= t_ms <= to_ms`, in time order.
    pub async fn beats_between(
        &self,
        id: SessionId,
        from_ms: f64,
        to_ms: f64,
    ) -> Result<Vec<BeatRow>, StoreError> {
        sqlx::query(
            "SELECT t_ms, rr_ms, artifact FROM beats WHERE session_id = ? AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms",
        )
        .bind(id.0)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(BeatRow {
                t_ms: row.try_get(0)?,
                rr_ms: row.try_get(1)?,
                artifact: row.try_get(2)?,
            })
        })
        .collect()
    }

    /// Gaps of session `id` starting in `from_ms..=to_ms`.
    pub async fn gaps_between(
        &self,
        id: SessionId,
        from_ms: f64,
        to_ms: f64,
    ) -> Result<Vec<GapRow>, StoreError> {
        self.pairs_between("SELECT from_ms, to_ms FROM gaps", "from_ms", id, (from_ms, to_ms))
            .await
            .map(|rows| {
                rows.into_iter()
                    .map(|(from_ms, to_ms)| GapRow { from_ms, to_ms })
                    .collect()
            })
    }

    /// HR samples `(t_ms, bpm)` of session `id` in `from_ms..=to_ms`.
    pub async fn hr_between(
        &self,
        id: SessionId,
        from_ms: f64,
        to_ms: f64,
    ) -> Result<Vec<(f64, f64)>, StoreError> {
        self.pairs_between("SELECT t_ms, bpm FROM hr_samples", "t_ms", id, (from_ms, to_ms))
            .await
    }

    async fn pairs_between(
        &self,
        select: &'static str,
        time: &'static str,
        id: SessionId,
        (from_ms, to_ms): (f64, f64),
    ) -> Result<Vec<(f64, f64)>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{select} WHERE session_id = ? AND {time} >= ? AND {time} <= ? ORDER BY {time}"
        )))
        .bind(id.0)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
    }

    /// Metric values `(t_ms, name, value)` of session `id` in `from_ms..=to_ms`.
    pub async fn metrics_between(
        &self,
        id: SessionId,
        from_ms: f64,
        to_ms: f64,
    ) -> Result<Vec<(f64, String, f64)>, StoreError> {
        sqlx::query(
            "SELECT t_ms, name, value FROM metric_snapshots WHERE session_id = ? AND t_ms >= ? AND t_ms <= ? \
             ORDER BY t_ms, name",
        )
        .bind(id.0)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
    }

    /// Alert `id`, if it exists.
    pub async fn alert(&self, id: i64) -> Result<Option<AlertRow>, StoreError> {
        sqlx::query(
            "SELECT id, session_id, at_ms, at, rule, severity, message, evidence FROM alerts WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(alert_row)
        .transpose()
    }

    /// Tag `id` and its session, if it exists.
    pub async fn tag(&self, id: i64) -> Result<Option<(SessionId, TagRow)>, StoreError> {
        sqlx::query("SELECT session_id, id, at_ms, name FROM tags WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| {
                Ok((
                    SessionId(row.try_get(0)?),
                    TagRow {
                        id: row.try_get(1)?,
                        at_ms: row.try_get(2)?,
                        name: row.try_get(3)?,
                    },
                ))
            })
            .transpose()
    }

    /// The stored value (JSON) and stamp of one field of an editable record.
    pub async fn sync_field(
        &self,
        collection: &str,
        key: &str,
        field: &str,
    ) -> Result<Option<(String, Stamp)>, StoreError> {
        field_on(&mut *self.pool.acquire().await?, collection, key, field).await
    }

    /// The field's stamp if it already holds `value_json` (an edit stamped when made, or a pulled value: its
    /// stamp must travel unchanged, or a device would claim another's value as a new edit of its own);
    /// otherwise stamps the value at `made_at` (Unix ms) or later and keeps it: how a record written outside
    /// the sync's edits (a tag from the live writer, a retaken morning reading) gets its stamp.
    pub async fn stamp_field(
        &self,
        (collection, key, field): (&str, &str, &str),
        value_json: &str,
        made_at: i64,
    ) -> Result<Stamp, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let stamp = match field_on(&mut tx, collection, key, field).await? {
            Some((stored, stamp)) if stored == value_json => stamp,
            _ => {
                let stamp = tick(&mut tx, made_at).await?;
                put_field_on(&mut tx, (collection, key, field), value_json, &stamp).await?;
                stamp
            }
        };
        tx.commit().await?;
        Ok(stamp)
    }

    /// Renames and/or moves tag `id` at wall time `now_ms`: the tag, the fields' stamps and the outbox row in
    /// one transaction. A tag of an athlete's session is refused.
    pub async fn edit_tag(
        &self,
        id: i64,
        name: Option<&str>,
        at_ms: Option<f64>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let key = self.tag_key(id).await?;
        let mut tx = crate::begin_write(&self.pool).await?;
        let session = own_tag_session(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::Invalid {
                what: "tag",
                reason: format!("there is no tag {id}"),
            })?;
        let stamp = tick(&mut tx, now_ms).await?;
        if let Some(name) = name {
            sqlx::query("UPDATE tags SET name = ? WHERE id = ?")
                .bind(name)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            put_field_on(&mut tx, ("tag", &key, "name"), &json_text(name), &stamp).await?;
        }
        if let Some(at_ms) = at_ms {
            crate::sessions::finite("tag time", at_ms)?;
            sqlx::query("UPDATE tags SET at_ms = ? WHERE id = ?")
                .bind(at_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            put_field_on(&mut tx, ("tag", &key, "at_ms"), &json_text(at_ms), &stamp).await?;
        }
        let change = Change {
            kind: OutboxKind::Tag,
            session_id: Some(session),
            entity_id: Some(id),
            range: None,
            rows: 1,
        };
        outbox::append(&mut tx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes tag `id` at `now_ms`: the row goes, a tombstone is kept and pushed. A tag of an athlete's
    /// session is refused.
    pub async fn delete_tag(&self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        let key = self.tag_key(id).await?;
        let mut tx = crate::begin_write(&self.pool).await?;
        own_tag_session(&mut tx, id).await?;
        let stamp = tick(&mut tx, now_ms).await?;
        put_tombstone_on(&mut tx, "tag", &key, &stamp).await?;
        sqlx::query("DELETE FROM tags WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append_keyed(&mut tx, OutboxKind::Tombstone, &key, Some("tag")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets or clears the note (label) of session `id` at `now_ms`; an athlete's session is refused.
    pub async fn set_session_note(
        &self,
        id: SessionId,
        text: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let key = self.session_key(id).await?;
        let mut tx = crate::begin_write(&self.pool).await?;
        crate::sessions::own_started_at(&mut tx, id).await?;
        sqlx::query("UPDATE sessions SET label = ? WHERE id = ?")
            .bind(text)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let stamp = tick(&mut tx, now_ms).await?;
        put_field_on(&mut tx, ("note", &key, "text"), &json_text(text), &stamp).await?;
        let change = Change {
            kind: OutboxKind::Note,
            session_id: Some(id.0),
            entity_id: None,
            range: None,
            rows: 1,
        };
        outbox::append(&mut tx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stamps each of the person's settings `(key, value JSON)` whose field does not already hold that value,
    /// at wall time `now_ms`, with an outbox row each, in one transaction (as memories and tags are edited);
    /// returns the keys written. A value equal to the stored one writes nothing: re-saving must not claim a
    /// pulled value as a new edit of this device.
    pub async fn edit_settings(
        &self,
        values: &[(&str, String)],
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        // Nothing to stamp: no write transaction (a start-up with no unsynced setting is the usual case).
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = crate::begin_write(&self.pool).await?;
        let mut written = Vec::new();
        for (key, value) in values {
            let at = (SETTING_COLLECTION, *key, SETTING_FIELD);
            if field_on(&mut tx, at.0, at.1, at.2)
                .await?
                .is_some_and(|(stored, _)| &stored == value)
            {
                continue;
            }
            let stamp = tick(&mut tx, now_ms).await?;
            put_field_on(&mut tx, at, value, &stamp).await?;
            append_keyed(&mut tx, OutboxKind::Setting, key, None).await?;
            written.push((*key).to_owned());
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Every setting in the field table: `(key, value JSON, stamp)`, by key.
    pub async fn setting_fields(&self) -> Result<Vec<(String, String, Stamp)>, StoreError> {
        sqlx::query(
            "SELECT key, value, hlc_wall, hlc_counter, hlc_device FROM sync_fields \
             WHERE collection = ? AND field = ? ORDER BY key",
        )
        .bind(SETTING_COLLECTION)
        .bind(SETTING_FIELD)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(field_of_row)
        .collect()
    }

    /// A coach's copies of athlete `athlete`'s sessions, the most recent first.
    pub async fn athlete_sessions(
        &self,
        athlete: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE athlete = ? ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
        )))
        .bind(athlete)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_row)
        .collect()
    }

    /// Starts applying pulled changes: everything done through the [`SyncTx`] lands together with the raised
    /// cursor, or not at all.
    pub async fn begin_sync(&self) -> Result<SyncTx, StoreError> {
        let replica = self.replica_id().await?;
        Ok(SyncTx {
            tx: crate::begin_write(&self.pool).await?,
            replica,
        })
    }
}

/// The session of tag `id` (`None` if there is no such tag), refused with [`StoreError::AthleteReadOnly`]
/// when it is an athlete's: a coach reads their tags, never edits them.
async fn own_tag_session(conn: &mut SqliteConnection, id: i64) -> Result<Option<i64>, StoreError> {
    let session: Option<i64> = sqlx::query("SELECT session_id FROM tags WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    if let Some(session) = session {
        crate::sessions::own_started_at(conn, SessionId(session)).await?;
    }
    Ok(session)
}

pub(crate) async fn put_tombstone_on(
    conn: &mut SqliteConnection,
    collection: &str,
    key: &str,
    stamp: &Stamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_tombstones (collection, key, hlc_wall, hlc_counter, hlc_device) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (collection, key) DO UPDATE SET hlc_wall = excluded.hlc_wall, hlc_counter = excluded.hlc_counter, \
         hlc_device = excluded.hlc_device \
         WHERE (excluded.hlc_wall, excluded.hlc_counter, excluded.hlc_device) > (hlc_wall, hlc_counter, hlc_device)",
    )
    .bind(collection)
    .bind(key)
    .bind(stamp.wall_ms)
    .bind(i64::from(stamp.counter))
    .bind(&stamp.device)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends an outbox row naming a record by key (memories, settings, tombstones).
pub(crate) async fn append_keyed(
    conn: &mut SqliteConnection,
    kind: OutboxKind,
    key: &str,
    collection: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (kind, rows, created_at, entity_key, collection) \
         VALUES (?, 1, CAST(unixepoch('subsec') * 1000 AS INTEGER), ?, ?)",
    )
    .bind(kind.as_str())
    .bind(key)
    .bind(collection)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The transaction that applies one pulled page: local rows without outbox rows, then the raised cursor.
pub struct SyncTx {
    pub(crate) tx: Transaction<'static, Sqlite>,
    /// This database's replica id.
    pub(crate) replica: String,
}

impl SyncTx {
    /// The local id of the entity keyed `key` in `table` (`sync_sessions`/`sync_tags`): its own id when the
    /// key is this replica's.
    async fn local_id(
        &mut self,
        key: &str,
        own_check: &'static str,
        lookup: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(own) = key
            .strip_prefix(&self.replica)
            .and_then(|rest| rest.strip_prefix(':'))
        {
            let Ok(id) = own.parse::<i64>() else {
                return Ok(None);
            };
            return Ok(sqlx::query(own_check)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|_| id));
        }
        sqlx::query(lookup)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(StoreError::from)
    }

    /// The local session keyed `key`, if this database has it.
    pub async fn session_by_key(&mut self, key: &str) -> Result<Option<SessionId>, StoreError> {
        Ok(self
            .local_id(
                key,
                "SELECT 1 FROM sessions WHERE id = ?",
                "SELECT session_id FROM sync_sessions WHERE session_key = ?",
            )
            .await?
            .map(SessionId))
    }

    /// Stores a pulled session under `key`, or records its end if it is already here; returns its local id.
    pub async fn upsert_session(&mut self, key: &str, s: &PulledSession) -> Result<SessionId, StoreError> {
        if let Some(id) = self.session_by_key(key).await? {
            if let Some(ended_at) = s.ended_at {
                sqlx::query(
                    "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL AND started_at <= ?",
                )
                .bind(ended_at)
                .bind(id.0)
                .bind(ended_at)
                .execute(&mut *self.tx)
                .await?;
            }
            return Ok(id);
        }
        let id: i64 = sqlx::query(
            "INSERT INTO sessions (started_at, ended_at, kind, source, athlete) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(s.started_at)
        .bind(s.ended_at.filter(|&e| e >= s.started_at))
        .bind(s.kind.as_str())
        .bind(&s.source)
        .bind(&s.athlete)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?;
        sqlx::query("INSERT INTO sync_sessions (session_id, session_key) VALUES (?, ?)")
            .bind(id)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(SessionId(id))
    }

    /// Stores pulled beats of session `id` (a beat already here is kept once) and keeps its counters.
    pub async fn insert_beats(&mut self, id: SessionId, beats: &[BeatRow]) -> Result<u64, StoreError> {
        let (mut stored, mut artifacts, mut last) = (0u64, 0i64, f64::NEG_INFINITY);
        for beat in beats {
            let done = sqlx::query(
                "INSERT OR IGNORE INTO beats (session_id, t_ms, rr_ms, artifact) VALUES (?, ?, ?, ?)",
            )
            .bind(id.0)
            .bind(beat.t_ms)
            .bind(beat.rr_ms)
            .bind(&beat.artifact)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            if done > 0 {
                stored += done;
                artifacts += i64::from(beat.artifact.is_some());
                last = last.max(beat.t_ms);
            }
        }
        if stored > 0 {
            sqlx::query(
                "UPDATE sessions SET beat_count = beat_count + ?1, artifact_count = artifact_count + ?2, \
                 last_beat_ms = MAX(COALESCE(last_beat_ms, ?3), ?3) WHERE id = ?4",
            )
            .bind(i64::try_from(stored).unwrap_or(i64::MAX))
            .bind(artifacts)
            .bind(last)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(stored)
    }

    /// Stores pulled gaps of session `id`.
    pub async fn insert_gaps(&mut self, id: SessionId, gaps: &[GapRow]) -> Result<(), StoreError> {
        for gap in gaps {
            sqlx::query("INSERT OR IGNORE INTO gaps (session_id, from_ms, to_ms) VALUES (?, ?, ?)")
                .bind(id.0)
                .bind(gap.from_ms)
                .bind(gap.to_ms)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Stores pulled HR samples `(t_ms, bpm)` of session `id`.
    pub async fn insert_hr(&mut self, id: SessionId, samples: &[(f64, f64)]) -> Result<(), StoreError> {
        for (t_ms, bpm) in samples {
            sqlx::query("INSERT OR IGNORE INTO hr_samples (session_id, t_ms, bpm) VALUES (?, ?, ?)")
                .bind(id.0)
                .bind(t_ms)
                .bind(bpm)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Stores pulled metric values `(t_ms, name, value)` of session `id`.
    pub async fn insert_metrics(
        &mut self,
        id: SessionId,
        values: &[(f64, String, f64)],
    ) -> Result<(), StoreError> {
        for (t_ms, name, value) in values {
            sqlx::query(
                "INSERT OR IGNORE INTO metric_snapshots (session_id, t_ms, name, value) VALUES (?, ?, ?, ?)",
            )
            .bind(id.0)
            .bind(t_ms)
            .bind(name)
            .bind(value)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Stores a pulled alert unless one with the same rule and evidence start (wall ms) is already stored for the
    /// same person (the device's own copy of what the server found, or a repeat); returns whether it was new.
    pub async fn insert_alert(&mut self, alert: &AlertRow, window_start_ms: i64) -> Result<bool, StoreError> {
        let athlete: Option<String> = sqlx::query("SELECT athlete FROM sessions WHERE id = ?")
            .bind(alert.session_id.0)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get(0)?;
        let known = sqlx::query(
            "SELECT 1 FROM alerts a JOIN sessions s ON s.id = a.session_id \
             WHERE a.rule = ?1 AND s.athlete IS ?2 AND \
             s.started_at + COALESCE(CAST(json_extract(a.evidence, '$.window_from_ms') AS INTEGER), \
                                     CAST(ROUND(a.at_ms) AS INTEGER)) = ?3 LIMIT 1",
        )
        .bind(&alert.rule)
        .bind(&athlete)
        .bind(window_start_ms)
        .fetch_optional(&mut *self.tx)
        .await?;
        if known.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO alerts (session_id, at_ms, at, rule, severity, message, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(alert.session_id.0)
        .bind(alert.at_ms)
        .bind(alert.at)
        .bind(&alert.rule)
        .bind(&alert.severity)
        .bind(&alert.message)
        .bind(&alert.evidence_json)
        .execute(&mut *self.tx)
        .await?;
        Ok(true)
    }

    /// The local tag keyed `key`, if this database has it.
    pub async fn tag_by_key(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        self.local_id(
            key,
            "SELECT 1 FROM tags WHERE id = ?",
            "SELECT tag_id FROM sync_tags WHERE tag_key = ?",
        )
        .await
    }

    /// Stores a pulled tag or overwrites the local one with the merged values.
    pub async fn put_tag(
        &mut self,
        key: &str,
        session: SessionId,
        at_ms: f64,
        name: &str,
    ) -> Result<(), StoreError> {
        if let Some(id) = self.tag_by_key(key).await? {
            sqlx::query("UPDATE tags SET at_ms = ?, name = ? WHERE id = ?")
                .bind(at_ms)
                .bind(name)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
            return Ok(());
        }
        let id: i64 = sqlx::query("INSERT INTO tags (session_id, at_ms, name) VALUES (?, ?, ?) RETURNING id")
            .bind(session.0)
            .bind(at_ms)
            .bind(name)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get(0)?;
        sqlx::query("INSERT INTO sync_tags (tag_id, tag_key) VALUES (?, ?)")
            .bind(id)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Deletes the local tag keyed `key`, if any.
    pub async fn remove_tag(&mut self, key: &str) -> Result<(), StoreError> {
        if let Some(id) = self.tag_by_key(key).await? {
            sqlx::query("DELETE FROM tags WHERE id = ?")
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Sets the note of session `id`.
    pub async fn set_note(&mut self, id: SessionId, text: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET label = ? WHERE id = ?")
            .bind(text)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Sets the morning reading of `day` (the account's own).
    pub async fn put_morning(
        &mut self,
        day: i64,
        ln_rmssd: f64,
        resting_hr: Option<f64>,
        session: Option<SessionId>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT OR REPLACE INTO morning_readings (day, ln_rmssd, resting_hr, session_id) VALUES (?, ?, ?, ?)")
            .bind(day)
            .bind(ln_rmssd)
            .bind(resting_hr)
            .bind(session.map(|s| s.0))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Sets a coach's copy of athlete `athlete`'s (email) morning reading of `day`: never the account's own
    /// `morning_readings`, whose normal range and readiness are the coach's.
    pub async fn put_athlete_morning(
        &mut self,
        athlete: &str,
        day: i64,
        ln_rmssd: f64,
        resting_hr: Option<f64>,
        session: Option<SessionId>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR REPLACE INTO athlete_mornings (athlete, day, ln_rmssd, resting_hr, session_id) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(athlete)
        .bind(day)
        .bind(ln_rmssd)
        .bind(resting_hr)
        .bind(session.map(|s| s.0))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Removes the copy of athlete `athlete`'s morning reading of `day` (the athlete deleted it).
    pub async fn remove_athlete_morning(&mut self, athlete: &str, day: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM athlete_mornings WHERE athlete = ? AND day = ?")
            .bind(athlete)
            .bind(day)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The stored value (JSON) and stamp of a field.
    pub async fn field(
        &mut self,
        collection: &str,
        key: &str,
        field: &str,
    ) -> Result<Option<(String, Stamp)>, StoreError> {
        field_on(&mut self.tx, collection, key, field).await
    }

    /// Keeps `value_json` and `stamp` as the field's winner, and moves the clock past the stamp.
    pub async fn put_field(
        &mut self,
        (collection, key, field): (&str, &str, &str),
        value_json: &str,
        stamp: &Stamp,
    ) -> Result<(), StoreError> {
        put_field_on(&mut self.tx, (collection, key, field), value_json, stamp).await?;
        self.observe(stamp).await
    }

    /// The tombstone of a record, if it was deleted.
    pub async fn tombstone(&mut self, collection: &str, key: &str) -> Result<Option<Stamp>, StoreError> {
        sqlx::query(
            "SELECT hlc_wall, hlc_counter, hlc_device FROM sync_tombstones WHERE collection = ? AND key = ?",
        )
        .bind(collection)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?
        .map(|row| {
            let counter: i64 = row.try_get(1)?;
            Ok(Stamp {
                wall_ms: row.try_get(0)?,
                counter: u32::try_from(counter).unwrap_or(u32::MAX),
                device: row.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Records a tombstone (the later stamp wins).
    pub async fn put_tombstone(
        &mut self,
        collection: &str,
        key: &str,
        stamp: &Stamp,
    ) -> Result<(), StoreError> {
        put_tombstone_on(&mut self.tx, collection, key, stamp).await?;
        self.observe(stamp).await
    }

    /// Moves the clock past a stamp seen from elsewhere, so the next local edit is stamped after it.
    async fn observe(&mut self, stamp: &Stamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sync_replica SET hlc_wall = ?1, hlc_counter = ?2 \
             WHERE only_row = 1 AND (hlc_wall < ?1 OR (hlc_wall = ?1 AND hlc_counter < ?2))",
        )
        .bind(stamp.wall_ms)
        .bind(i64::from(stamp.counter))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Raises the cursor of `athlete` (`None`: the account's own data) to `cursor`; a lower value is ignored.
    pub async fn raise_cursor(&mut self, athlete: Option<&str>, cursor: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_cursors (scope, cursor) VALUES (?1, MAX(?2, 0)) \
             ON CONFLICT (scope) DO UPDATE SET cursor = MAX(cursor, excluded.cursor)",
        )
        .bind(athlete.unwrap_or(""))
        .bind(cursor)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Commits everything applied.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Every field `(name, value JSON, stamp)` of record `key` of `collection`.
    pub async fn sync_fields_of(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Vec<(String, String, Stamp)>, StoreError> {
        sqlx::query(
            "SELECT field, value, hlc_wall, hlc_counter, hlc_device FROM sync_fields \
             WHERE collection = ? AND key = ? ORDER BY field",
        )
        .bind(collection)
        .bind(key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(field_of_row)
        .collect()
    }

    /// The tombstone of record `key` of `collection`, if it was deleted.
    pub async fn sync_tombstone(&self, collection: &str, key: &str) -> Result<Option<Stamp>, StoreError> {
        let mut tx = self.begin_sync().await?;
        let stamp = tx.tombstone(collection, key).await?;
        tx.commit().await?;
        Ok(stamp)
    }
}

impl Store {
    /// Forgets a coach's copies of every athlete not in `kept` (user id, email) — their sessions, mornings and
    /// cursors — and remembers `kept` as the athletes this account may read: access revoked means the coach's
    /// device stops showing the data, not just stops receiving more. Returns the sessions removed.
    pub async fn forget_athletes_except(&self, kept: &[(String, String)]) -> Result<u64, StoreError> {
        let ids = serde_json::Value::from(kept.iter().map(|k| k.0.clone()).collect::<Vec<_>>()).to_string();
        let emails =
            serde_json::Value::from(kept.iter().map(|k| k.1.clone()).collect::<Vec<_>>()).to_string();
        let mut tx = crate::begin_write(&self.pool).await?;
        let removed = sqlx::query(
            "DELETE FROM sessions WHERE athlete IS NOT NULL AND athlete NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(&emails)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM athlete_mornings WHERE athlete NOT IN (SELECT value FROM json_each(?))")
            .bind(&emails)
            .execute(&mut *tx)
            .await?;
        for table in ["sync_fields", "sync_tombstones"] {
            // The email is what follows the day and its `:` in the key (`athlete_morning_key`).
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE collection = ? \
                 AND substr(key, instr(key, ':') + 1) NOT IN (SELECT value FROM json_each(?))"
            )))
            .bind(ATHLETE_MORNING_COLLECTION)
            .bind(&emails)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM sync_cursors WHERE scope <> '' AND scope NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(ids)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sync_athletes").execute(&mut *tx).await?;
        for (user_id, email) in kept {
            sqlx::query("INSERT OR REPLACE INTO sync_athletes (user_id, email) VALUES (?, ?)")
                .bind(user_id)
                .bind(email)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// The athletes the last sync's grant list named, as (user id, this device's pull cursor of them), sorted
    /// by email: what a coach's long poll watches, in one query.
    pub async fn granting_athletes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT a.user_id, coalesce(c.cursor, 0) FROM sync_athletes a \
             LEFT JOIN sync_cursors c ON c.scope = a.user_id ORDER BY a.email",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The emails of the athletes whose data this device shows, sorted: those the last sync's grant list named,
    /// and any whose copies are stored (pulled before that list was first kept).
    pub async fn athletes(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT email FROM sync_athletes \
             UNION SELECT athlete FROM sessions WHERE athlete IS NOT NULL \
             UNION SELECT athlete FROM athlete_mornings ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
    }

    /// Whether `email` is one of [`Store::athletes`]: an athlete whose data this database holds or may
    /// fetch. The one check before an athlete's read, so a stranger's email is refused rather than listed
    /// as empty.
    pub async fn is_athlete(&self, email: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sync_athletes WHERE email = ?1 \
             UNION ALL SELECT 1 FROM sessions WHERE athlete = ?1 \
             UNION ALL SELECT 1 FROM athlete_mornings WHERE athlete = ?1)",
        )
        .bind(email)
        .fetch_one(&self.pool)
        .await?)
    }
}

/// A `sync_fields` row read as `(name or key, value JSON, stamp)`: its first two columns, then
/// `hlc_wall, hlc_counter, hlc_device`.
fn field_of_row(row: &sqlx::sqlite::SqliteRow) -> Result<(String, String, Stamp), StoreError> {
    let counter: i64 = row.try_get(3)?;
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        Stamp {
            wall_ms: row.try_get(2)?,
            counter: u32::try_from(counter).unwrap_or(u32::MAX),
            device: row.try_get(4)?,
        },
    ))
}
