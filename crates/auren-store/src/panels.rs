//! Stored session panels (`0006_session_panels.sql`): the full HRV panel of a session, kept once computed so
//! a reader does not load every beat and rerun the analysis, with the light reads shown beside it (gaps,
//! alerts) and the panel values of each day's morning session for trends. The store computes nothing: the
//! caller says which method made a panel and decides, with [`StoredPanel::is_fresh_for`], when to redo it;
//! [`Store::sessions_needing_panel`] lists the sessions whose panel a method would redo.

use sqlx::Row;

use crate::sessions::{alert_row, finite, session_by_id};
use crate::{AlertRow, GapRow, SessionId, SessionRow, Store, StoreError};

/// One session's stored panel.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredPanel {
    pub session: SessionId,
    /// Which computation made it (the caller's name for it).
    pub method: String,
    /// The session's `beat_count` and `last_beat_ms` when it was computed.
    pub beat_count: i64,
    pub last_beat_ms: Option<f64>,
    /// Beats analysed after the correction.
    pub n_beats: i64,
    /// `(metric key, value)`; `None` where the metric could not be computed.
    pub values: Vec<(String, Option<f64>)>,
}

impl StoredPanel {
    /// Whether this panel still describes `session` as computed by `method`: same method, no beat since.
    pub fn is_fresh_for(&self, session: &SessionRow, method: &str) -> bool {
        self.method == method
            && self.beat_count == session.beat_count
            && self.last_beat_ms == session.last_beat_ms
    }
}

/// A session with its stored panel (if any) and what is shown beside it, read in one transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionPanelView {
    pub session: SessionRow,
    pub panel: Option<StoredPanel>,
    /// The session's outages: see [`SessionPanelView::outages`].
    pub gap_count: i64,
    pub alerts: Vec<AlertRow>,
}

impl SessionPanelView {
    /// How many times the beats stopped, as a person counts gaps: stored gaps that overlap or touch are one
    /// outage. One contact loss can store two gaps from one start (a late notification without contact,
    /// then contact back) and a link lost while contact was lost stores a gap within the other; each is one
    /// gap to the person who lost contact once.
    pub fn outages(gaps: &[GapRow]) -> usize {
        let mut spans: Vec<(f64, f64)> = gaps.iter().map(|g| (g.from_ms, g.to_ms)).collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut count = 0;
        let mut reach = f64::NEG_INFINITY;
        for (from, to) in spans {
            if count == 0 || from > reach {
                count += 1;
                reach = to;
            } else {
                reach = reach.max(to);
            }
        }
        count
    }
}

/// One day's morning reading with one metric of its session's stored panel.
#[derive(Clone, Debug, PartialEq)]
pub struct MorningPanelValue {
    pub day: i64,
    /// The reading's session, with its `beat_count` and `last_beat_ms` now.
    pub session: Option<(SessionId, i64, Option<f64>)>,
    /// The stored panel's method, `beat_count` and `last_beat_ms` (to judge freshness), if one is stored.
    pub stored: Option<(String, i64, Option<f64>)>,
    /// The metric in the stored panel.
    pub value: Option<f64>,
}

impl MorningPanelValue {
    /// Whether the stored value describes the session's beats as they are now, computed by `method`.
    pub fn is_fresh_for(&self, method: &str) -> bool {
        match (&self.session, &self.stored) {
            (Some((_, beats, last)), Some((m, stored_beats, stored_last))) => {
                m == method && beats == stored_beats && last == stored_last
            }
            _ => false,
        }
    }
}

impl Store {
    /// Stores (or replaces) the panel of `panel.session`, in one transaction.
    pub async fn put_session_panel(&self, panel: &StoredPanel, now: i64) -> Result<(), StoreError> {
        for (_, value) in &panel.values {
            if let Some(v) = value {
                finite("panel value", *v)?;
            }
        }
        let mut tx = crate::begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO session_panels (session_id, method, beat_count, last_beat_ms, n_beats, computed_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET method = excluded.method, \
             beat_count = excluded.beat_count, last_beat_ms = excluded.last_beat_ms, n_beats = excluded.n_beats, \
             computed_at = excluded.computed_at",
        )
        .bind(panel.session.0)
        .bind(&panel.method)
        .bind(panel.beat_count)
        .bind(panel.last_beat_ms)
        .bind(panel.n_beats)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM session_panel_values WHERE session_id = ?")
            .bind(panel.session.0)
            .execute(&mut *tx)
            .await?;
        for (key, value) in &panel.values {
            sqlx::query("INSERT INTO session_panel_values (session_id, key, value) VALUES (?, ?, ?)")
                .bind(panel.session.0)
                .bind(key)
                .bind(*value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Session `id` with its stored panel, gap count and alerts — never its beats — or `None` if there is no
    /// such session.
    pub async fn session_panel_view(&self, id: SessionId) -> Result<Option<SessionPanelView>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(session) = session_by_id(&mut tx, id).await? else {
            return Ok(None);
        };
        let header = sqlx::query(
            "SELECT method, beat_count, last_beat_ms, n_beats FROM session_panels WHERE session_id = ?",
        )
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let panel = match header {
            None => None,
            Some(row) => {
                let values = sqlx::query(
                    "SELECT key, value FROM session_panel_values WHERE session_id = ? ORDER BY key",
                )
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|v| Ok((v.try_get(0)?, v.try_get(1)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
                Some(StoredPanel {
                    session: id,
                    method: row.try_get(0)?,
                    beat_count: row.try_get(1)?,
                    last_beat_ms: row.try_get(2)?,
                    n_beats: row.try_get(3)?,
                    values,
                })
            }
        };
        let gaps = crate::sessions::gaps_of(&mut tx, id).await?;
        let gap_count = i64::try_from(SessionPanelView::outages(&gaps)).unwrap_or(i64::MAX);
        let alerts = sqlx::query(
            "SELECT id, session_id, at_ms, at, rule, severity, message, evidence FROM alerts \
             WHERE session_id = ? ORDER BY at_ms, id",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(alert_row)
        .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok(Some(SessionPanelView {
            session,
            panel,
            gap_count,
            alerts,
        }))
    }

    /// The sessions with beats whose stored panel is missing or stale — made by another `method`, or
    /// before beats written since — most recent first: what a background refresh computes. Ended sessions,
    /// and sessions without an end time whose last beat (wall time: `started_at + last_beat_ms`) is before
    /// `unended_last_beat_before` (Unix ms), which the caller takes as over. Other sessions without an end
    /// time are left out as still being recorded (their panel would be stale at the writer's next commit).
    /// The account's own sessions only: a coach's copies of athletes' sessions are opened one at a time in
    /// History, which computes their panel from the beats, so a refresh storing theirs is work for nobody.
    pub async fn sessions_needing_panel(
        &self,
        method: &str,
        unended_last_beat_before: i64,
    ) -> Result<Vec<SessionId>, StoreError> {
        sqlx::query(
            "SELECT s.id FROM sessions s LEFT JOIN session_panels p ON p.session_id = s.id \
             WHERE s.beat_count > 0 AND s.athlete IS NULL \
             AND (s.ended_at IS NOT NULL OR s.started_at + s.last_beat_ms < ?) \
             AND (p.session_id IS NULL OR p.method != ? \
             OR p.beat_count != s.beat_count OR p.last_beat_ms IS NOT s.last_beat_ms) \
             ORDER BY s.started_at DESC, s.id DESC",
        )
        .bind(unended_last_beat_before)
        .bind(method)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok(SessionId(row.try_get(0)?)))
        .collect()
    }

    /// For each morning reading of days `from_day..=to_day` (oldest first): metric `key` of its session's
    /// stored panel, with what the caller needs to judge whether that panel is fresh. One query, no beats.
    /// The mornings are the account's own, and so is any session they name (the store refuses linking one to
    /// an athlete's): the join says so again, so a row slipped in by hand still yields no athlete's value.
    pub async fn morning_panel_values(
        &self,
        from_day: i64,
        to_day: i64,
        key: &str,
    ) -> Result<Vec<MorningPanelValue>, StoreError> {
        sqlx::query(
            "SELECT m.day, s.id, s.beat_count, s.last_beat_ms, p.method, p.beat_count, p.last_beat_ms, v.value \
             FROM morning_readings m \
             LEFT JOIN sessions s ON s.id = m.session_id AND s.athlete IS NULL \
             LEFT JOIN session_panels p ON p.session_id = s.id \
             LEFT JOIN session_panel_values v ON v.session_id = s.id AND v.key = ? \
             WHERE m.day >= ? AND m.day <= ? ORDER BY m.day",
        )
        .bind(key)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let session = row
                .try_get::<Option<i64>, _>(1)?
                .map(|id| -> Result<_, StoreError> { Ok((SessionId(id), row.try_get(2)?, row.try_get(3)?)) })
                .transpose()?;
            let stored = row
                .try_get::<Option<String>, _>(4)?
                .map(|method| -> Result<_, StoreError> { Ok((method, row.try_get(5)?, row.try_get(6)?)) })
                .transpose()?;
            Ok(MorningPanelValue {
                day: row.try_get(0)?,
                session,
                stored,
                value: row.try_get(7)?,
            })
        })
        .collect()
    }
}
