//! Straps, sessions, and the queries over what a session recorded: the list, the detail (with the raw RR
//! series so the caller computes the full HRV panel), beats, HR samples, metric series and alerts by period.

use crate::outbox::{self, Change, OutboxKind};
use crate::{Store, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::fmt;

/// The id of a stored session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a session was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionKind {
    Rest,
    Morning,
    Exercise,
    Breathing,
    Other,
}

impl SessionKind {
    pub const ALL: [Self; 5] = [
        Self::Rest,
        Self::Morning,
        Self::Exercise,
        Self::Breathing,
        Self::Other,
    ];

    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Morning => "morning",
            Self::Exercise => "exercise",
            Self::Breathing => "breathing",
            Self::Other => "other",
        }
    }

    /// The kind named `name` (as [`SessionKind::as_str`] writes it), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A session about to start.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    /// Wall time of the first beat's reference, Unix milliseconds; every `t_ms` of the session counts from it.
    pub started_at: i64,
    pub kind: SessionKind,
    /// Where the beats come from: `"ble:AA:BB:…"`, `"simulator:rest"`, `"replay:file.hrmcap"`.
    pub source: String,
    /// The strap, which must have been stored with [`Store::upsert_strap`].
    pub strap_address: Option<String>,
    pub label: Option<String>,
}

/// A strap seen at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrapRow {
    pub address: String,
    pub name: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// A stored session, as the sessions list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub id: SessionId,
    pub started_at: i64,
    /// `None` while recording, when the recording stopped without being ended, or while its end has not
    /// arrived by sync ([`SessionRow::status`] tells what can be told).
    pub ended_at: Option<i64>,
    pub kind: SessionKind,
    pub source: String,
    pub strap_address: Option<String>,
    pub label: Option<String>,
    pub beat_count: i64,
    pub artifact_count: i64,
    /// Session time of the last stored beat: the recorded length even when `ended_at` is missing.
    pub last_beat_ms: Option<f64>,
    /// The athlete's email when this is a coach's copy of an athlete's session (read-only here); `None` for the
    /// account's own.
    pub athlete: Option<String>,
}

/// Where a stored session's recording stands at a moment, as far as the asker can tell. A session without
/// an end time is either still being recorded (here, in another process, or on a device that syncs) or was
/// never ended; the database cannot say which, only how long it has been silent. Its end time is never
/// filled in from that guess: a recording elsewhere may still be going, and its end arrives by sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// Ended at this wall time, Unix ms.
    Ended { at: i64 },
    /// No end time, and either the asking process records it, or its last beat (its start, while it has
    /// none) is within the quiet span.
    Recording,
    /// No end time, and nothing stored for the quiet span: most likely stopped without being ended (a
    /// killed app, a device that died), though an end may still arrive by sync.
    NoEndRecorded { last_beat: LastBeat },
}

/// The last stored beat of a session without an end time: where it stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastBeat {
    /// Wall time of the last beat, Unix ms (the session's `started_at` + `last_beat_ms`, rounded down).
    At(i64),
    /// The session stored no beat at all.
    NoBeats,
}

/// The session the asking process is recording now, if any. That process knows its own recording is not
/// over however long its strap is silent — which the stored rows alone cannot show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordingHere {
    /// This process records nothing (a CLI listing, an MCP server), or cannot tell.
    #[default]
    Nothing,
    Session(SessionId),
}

impl SessionRow {
    /// The wall time of the last stored beat (Unix ms, rounded down), if there is one.
    pub fn last_beat_at(&self) -> Option<i64> {
        // Stored session times are finite (the writer refuses others); `as` saturates beyond i64.
        self.last_beat_ms
            .map(|ms| self.started_at.saturating_add(ms.floor() as i64))
    }

    /// How long the session is as recorded, ms: to its end, or to its last beat while it has no end (0 with
    /// neither).
    pub fn recorded_length_ms(&self) -> f64 {
        self.ended_at
            .map(|end| (end - self.started_at) as f64)
            .or(self.last_beat_ms)
            .unwrap_or(0.0)
    }

    /// Where this session stands at `now_unix_ms` when a session without an end time counts as stopped
    /// once nothing was stored for `quiet_ms` (the engine's `UNENDED_SESSION_QUIET_MS`), except the one
    /// `here` names, which stays recording: the process asking records it. A session with no beat is
    /// measured from its start.
    pub fn status(&self, now_unix_ms: i64, quiet_ms: i64, here: RecordingHere) -> SessionStatus {
        if let Some(at) = self.ended_at {
            return SessionStatus::Ended { at };
        }
        if here == RecordingHere::Session(self.id) {
            return SessionStatus::Recording;
        }
        let last_beat = self.last_beat_at().map_or(LastBeat::NoBeats, LastBeat::At);
        let last_sign = match last_beat {
            LastBeat::At(at) => at,
            LastBeat::NoBeats => self.started_at,
        };
        if last_sign < now_unix_ms.saturating_sub(quiet_ms) {
            SessionStatus::NoEndRecorded { last_beat }
        } else {
            SessionStatus::Recording
        }
    }
}

/// One beat: its time in the session, the RR interval that ended at it, and the artifact label if any.
#[derive(Clone, Debug, PartialEq)]
pub struct BeatRow {
    pub t_ms: f64,
    pub rr_ms: f64,
    pub artifact: Option<String>,
}

/// An interval of a session with no beats (contact lost, link down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GapRow {
    pub from_ms: f64,
    pub to_ms: f64,
}

/// The metric values computed at one moment of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSnapshot {
    pub t_ms: f64,
    /// Sorted by name.
    pub values: Vec<(String, f64)>,
}

/// One alert with the evidence that fired it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub session_id: SessionId,
    /// Session time.
    pub at_ms: f64,
    /// Wall time, Unix milliseconds (the session's `started_at` + `at_ms`).
    pub at: i64,
    pub rule: String,
    pub severity: String,
    pub message: String,
    pub evidence_json: String,
}

/// A user tag at a moment of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct TagRow {
    pub id: i64,
    pub at_ms: f64,
    pub name: String,
}

/// Everything stored about one session. `beats` is the raw RR series with its artifact labels, in time order,
/// so the caller can compute the full metric panel (auren-store knows nothing of HRV).
#[derive(Clone, Debug, PartialEq)]
pub struct SessionDetail {
    pub session: SessionRow,
    /// Beats per artifact label, sorted by label.
    pub artifact_counts: Vec<(String, i64)>,
    pub gaps: Vec<GapRow>,
    pub last_metrics: Option<MetricSnapshot>,
    pub alerts: Vec<AlertRow>,
    pub tags: Vec<TagRow>,
    pub beats: Vec<BeatRow>,
}

/// `value`, if it is finite; otherwise the error naming `what`.
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64, StoreError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StoreError::NotFinite { what, value })
    }
}

pub(crate) const SESSION_COLUMNS: &str = "id, started_at, ended_at, kind, source, strap_address, label, beat_count, \
                               artifact_count, last_beat_ms, athlete";

/// Session `id`'s row, read on `conn` (a transaction's, so it agrees with what else that transaction reads).
pub(crate) async fn session_by_id(
    conn: &mut SqliteConnection,
    id: SessionId,
) -> Result<Option<SessionRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
    )))
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(session_row)
    .transpose()
}

pub(crate) fn session_row(row: &SqliteRow) -> Result<SessionRow, StoreError> {
    let kind: String = row.try_get(3)?;
    Ok(SessionRow {
        id: SessionId(row.try_get(0)?),
        started_at: row.try_get(1)?,
        ended_at: row.try_get(2)?,
        kind: SessionKind::parse(&kind)
            .ok_or_else(|| StoreError::Range(format!("unknown session kind {kind:?}")))?,
        source: row.try_get(4)?,
        strap_address: row.try_get(5)?,
        label: row.try_get(6)?,
        beat_count: row.try_get(7)?,
        artifact_count: row.try_get(8)?,
        last_beat_ms: row.try_get(9)?,
        athlete: row.try_get(10)?,
    })
}

pub(crate) fn alert_row(row: &SqliteRow) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: row.try_get(0)?,
        session_id: SessionId(row.try_get(1)?),
        at_ms: row.try_get(2)?,
        at: row.try_get(3)?,
        rule: row.try_get(4)?,
        severity: row.try_get(5)?,
        message: row.try_get(6)?,
        evidence_json: row.try_get(7)?,
    })
}

/// The `started_at` of session `id`, or [`StoreError::UnknownSession`].
pub(crate) async fn started_at(conn: &mut SqliteConnection, id: SessionId) -> Result<i64, StoreError> {
    sqlx::query("SELECT started_at FROM sessions WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?
        .ok_or(StoreError::UnknownSession(id.0))
}

/// The `started_at` of session `id` for a write to it: [`StoreError::UnknownSession`] if there is none, and
/// [`StoreError::AthleteReadOnly`] if it is a coach's copy of an athlete's session, which only the athlete's
/// devices change. Every write to an existing session (its end, beats, note, tags, a morning linked to it)
/// asks this first; pulled changes go through [`crate::SyncTx`] instead.
pub(crate) async fn own_started_at(conn: &mut SqliteConnection, id: SessionId) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT started_at, athlete FROM sessions WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::UnknownSession(id.0))?;
    match row.try_get::<Option<String>, _>(1)? {
        Some(athlete) => Err(StoreError::AthleteReadOnly {
            session: id.0,
            athlete,
        }),
        None => Ok(row.try_get(0)?),
    }
}

impl Store {
    /// Stores a strap seen at `seen_at` (Unix ms), or refreshes its name, device information and last sighting.
    /// Device information already known is kept when `manufacturer`/`model` are `None`.
    pub async fn upsert_strap(
        &self,
        address: &str,
        name: &str,
        manufacturer: Option<&str>,
        model: Option<&str>,
        seen_at: i64,
    ) -> Result<(), StoreError> {
        if address.trim().is_empty() {
            return Err(StoreError::Invalid {
                what: "strap address",
                reason: "it is empty".into(),
            });
        }
        upsert_strap_on(
            &mut *self.pool.acquire().await?,
            &StrapSeen {
                address,
                name,
                manufacturer,
                model,
                seen_at,
            },
        )
        .await?;
        Ok(())
    }

    /// Every strap, the most recently seen first.
    pub async fn straps(&self) -> Result<Vec<StrapRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT address, name, manufacturer, model, first_seen_at, last_seen_at FROM straps \
             ORDER BY last_seen_at DESC, address",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StrapRow {
                    address: row.try_get(0)?,
                    name: row.try_get(1)?,
                    manufacturer: row.try_get(2)?,
                    model: row.try_get(3)?,
                    first_seen_at: row.try_get(4)?,
                    last_seen_at: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// Stores a new session (and its outbox row) and returns its id.
    pub async fn start_session(&self, s: &NewSession) -> Result<SessionId, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        if let Some(address) = &s.strap_address {
            let known = sqlx::query("SELECT 1 FROM straps WHERE address = ?")
                .bind(address)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                return Err(StoreError::UnknownStrap(address.clone()));
            }
        }
        let id: i64 = sqlx::query(
            "INSERT INTO sessions (started_at, kind, source, strap_address, label) VALUES (?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(s.started_at)
        .bind(s.kind.as_str())
        .bind(&s.source)
        .bind(&s.strap_address)
        .bind(&s.label)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        outbox::append(
            &mut tx,
            Change {
                kind: OutboxKind::Session,
                session_id: Some(id),
                entity_id: None,
                range: None,
                rows: 1,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(SessionId(id))
    }

    /// Marks session `id` ended at `ended_at` (Unix ms, not before it started); an athlete's session is refused.
    pub async fn end_session(&self, id: SessionId, ended_at: i64) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let started = own_started_at(&mut tx, id).await?;
        if ended_at < started {
            return Err(StoreError::Invalid {
                what: "session end",
                reason: format!("session {id} ends at {ended_at}, before it started at {started}"),
            });
        }
        sqlx::query("UPDATE sessions SET ended_at = ? WHERE id = ?")
            .bind(ended_at)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        outbox::append(
            &mut tx,
            Change {
                kind: OutboxKind::Session,
                session_id: Some(id.0),
                entity_id: None,
                range: None,
                rows: 1,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's own sessions (not a coach's copies of athletes' ones), the most recent first: `limit` of
    /// them after skipping `offset`.
    pub async fn sessions(&self, limit: u32, offset: u32) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE athlete IS NULL ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
        )))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_row).collect()
    }

    /// One session, or `None` if there is no session `id`.
    pub async fn session(&self, id: SessionId) -> Result<Option<SessionRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(session_row)
        .transpose()
    }

    /// Everything stored about session `id`, or `None` if there is no such session. Read in one transaction,
    /// so a writer flushing meanwhile cannot make the parts disagree.
    pub async fn session_detail(&self, id: SessionId) -> Result<Option<SessionDetail>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(session) = session_by_id(&mut tx, id).await? else {
            return Ok(None);
        };
        let artifact_counts = session_rows(
            &mut tx,
            "SELECT artifact, COUNT(*) FROM beats WHERE session_id = ? AND artifact IS NOT NULL \
             GROUP BY artifact ORDER BY artifact",
            id,
            pair_row,
        )
        .await?;
        let gaps = gaps_of(&mut tx, id).await?;
        let last = sqlx::query(
            "SELECT t_ms, name, value FROM metric_snapshots WHERE session_id = ?1 AND t_ms = \
             (SELECT MAX(t_ms) FROM metric_snapshots WHERE session_id = ?1) ORDER BY name",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?;
        let last_metrics = match last.first() {
            None => None,
            Some(first) => Some(MetricSnapshot {
                t_ms: first.try_get(0)?,
                values: last
                    .iter()
                    .map(|row| Ok((row.try_get(1)?, row.try_get(2)?)))
                    .collect::<Result<_, StoreError>>()?,
            }),
        };
        let alerts = session_rows(
            &mut tx,
            "SELECT id, session_id, at_ms, at, rule, severity, message, evidence FROM alerts \
             WHERE session_id = ? ORDER BY at_ms, id",
            id,
            alert_row,
        )
        .await?;
        let tags = tags_of(&mut tx, id).await?;
        let beats = beats_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(SessionDetail {
            session,
            artifact_counts,
            gaps,
            last_metrics,
            alerts,
            tags,
            beats,
        }))
    }

    /// The tags of session `id` in time order (none for an unknown session), without reading its beats.
    pub async fn tags(&self, id: SessionId) -> Result<Vec<TagRow>, StoreError> {
        tags_of(&mut *self.pool.acquire().await?, id).await
    }

    /// The beats of session `id` in time order ([`StoreError::UnknownSession`] if there is no such session).
    pub async fn beats(&self, id: SessionId) -> Result<Vec<BeatRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        started_at(&mut tx, id).await?;
        let beats = beats_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok(beats)
    }

    /// The HR samples `(t_ms, bpm)` of session `id` in time order.
    pub async fn hr_samples(&self, id: SessionId) -> Result<Vec<(f64, f64)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        started_at(&mut tx, id).await?;
        let samples = session_rows(
            &mut tx,
            "SELECT t_ms, bpm FROM hr_samples WHERE session_id = ? ORDER BY t_ms",
            id,
            pair_row,
        )
        .await?;
        tx.commit().await?;
        Ok(samples)
    }

    /// The values `(t_ms, value)` of metric `name` in session `id`, in time order.
    pub async fn metric_series(&self, id: SessionId, name: &str) -> Result<Vec<(f64, f64)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        started_at(&mut tx, id).await?;
        let rows = sqlx::query(
            "SELECT t_ms, value FROM metric_snapshots WHERE session_id = ? AND name = ? ORDER BY t_ms",
        )
        .bind(id.0)
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(pair_row).collect()
    }

    /// Alerts of the account's own sessions fired at wall times `from <= at < to` (Unix ms), oldest first.
    /// A coach's copies of athletes' sessions bring their alerts along; those are the athletes', never the
    /// coach's own (the AI coach, its routing and its proactive messages read this).
    pub async fn alerts_between(&self, from: i64, to: i64) -> Result<Vec<AlertRow>, StoreError> {
        sqlx::query(
            "SELECT a.id, a.session_id, a.at_ms, a.at, a.rule, a.severity, a.message, a.evidence \
             FROM alerts a JOIN sessions s ON s.id = a.session_id \
             WHERE a.at >= ? AND a.at < ? AND s.athlete IS NULL ORDER BY a.at, a.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(alert_row)
        .collect()
    }
}

async fn beats_of(conn: &mut SqliteConnection, id: SessionId) -> Result<Vec<BeatRow>, StoreError> {
    session_rows(
        conn,
        "SELECT t_ms, rr_ms, artifact FROM beats WHERE session_id = ? ORDER BY t_ms",
        id,
        |row| {
            Ok(BeatRow {
                t_ms: row.try_get(0)?,
                rr_ms: row.try_get(1)?,
                artifact: row.try_get(2)?,
            })
        },
    )
    .await
}

/// Session `id`'s stored gaps, by start.
pub(crate) async fn gaps_of(conn: &mut SqliteConnection, id: SessionId) -> Result<Vec<GapRow>, StoreError> {
    session_rows(
        conn,
        "SELECT from_ms, to_ms FROM gaps WHERE session_id = ? ORDER BY from_ms",
        id,
        |row| {
            Ok(GapRow {
                from_ms: row.try_get(0)?,
                to_ms: row.try_get(1)?,
            })
        },
    )
    .await
}

/// Every row of `sql`, whose one parameter is the session id, for session `id`, each read by `read`: the
/// shape of all the per-session reads of the detail view.
async fn tags_of(conn: &mut SqliteConnection, id: SessionId) -> Result<Vec<TagRow>, StoreError> {
    session_rows(
        conn,
        "SELECT id, at_ms, name FROM tags WHERE session_id = ? ORDER BY at_ms, id",
        id,
        |row| {
            Ok(TagRow {
                id: row.try_get(0)?,
                at_ms: row.try_get(1)?,
                name: row.try_get(2)?,
            })
        },
    )
    .await
}

async fn session_rows<T>(
    conn: &mut SqliteConnection,
    sql: &'static str,
    id: SessionId,
    read: impl Fn(&SqliteRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    sqlx::query(sql)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(read)
        .collect()
}

/// A row of two columns as a pair: `(artifact, count)`, `(t_ms, bpm)`, `(t_ms, value)`.
fn pair_row<A, B>(row: &SqliteRow) -> Result<(A, B), StoreError>
where
    A: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    B: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// What a strap said about itself at `seen_at` (Unix ms).
#[derive(Clone, Copy, Debug)]
pub(crate) struct StrapSeen<'a> {
    pub address: &'a str,
    pub name: &'a str,
    pub manufacturer: Option<&'a str>,
    pub model: Option<&'a str>,
    pub seen_at: i64,
}

/// Records a strap or refreshes what is known of it (a detail not given keeps its stored value): shared
/// by [`Store::upsert_strap`] and the session writer's transaction.
pub(crate) async fn upsert_strap_on(
    conn: &mut sqlx::SqliteConnection,
    strap: &StrapSeen<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO straps (address, name, manufacturer, model, first_seen_at, last_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
         ON CONFLICT (address) DO UPDATE SET name = excluded.name, \
           manufacturer = COALESCE(excluded.manufacturer, manufacturer), \
           model = COALESCE(excluded.model, model), \
           first_seen_at = MIN(first_seen_at, excluded.first_seen_at), \
           last_seen_at = MAX(last_seen_at, excluded.last_seen_at)",
    )
    .bind(strap.address)
    .bind(strap.name)
    .bind(strap.manufacturer)
    .bind(strap.model)
    .bind(strap.seen_at)
    .execute(conn)
    .await?;
    Ok(())
}
