//! Morning readings (one lnRMSSD and resting HR per day), the daily trend read from them, and personal
//! baselines. Days are day numbers: days since 1970-01-01 in the calendar the caller chose (local or UTC).
//!
//! The daily trend is fast by design: it reads one `morning_readings` row per day, never the beats (a year
//! of 24/7 recording is ~40 million of them). The normal range is the caller's to compute
//! (auren-hrv's readiness), as auren-store knows nothing of HRV.

use crate::outbox::{self, Change, OutboxKind};
use crate::sessions::{finite, own_started_at};
use crate::{SessionId, Store, StoreError};
use sqlx::Row;

/// The morning reading of one day.
#[derive(Clone, Debug, PartialEq)]
pub struct MorningReading {
    pub day: i64,
    pub ln_rmssd: f64,
    pub resting_hr: Option<f64>,
    /// The session it was measured in, if it was recorded.
    pub session: Option<SessionId>,
}

/// One day of the trend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DailyTrendRow {
    pub day: i64,
    pub ln_rmssd: f64,
    pub resting_hr: Option<f64>,
}

/// A personal baseline of `metric` as of `day`.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub metric: String,
    pub day: i64,
    pub mean: f64,
    pub sd: f64,
    /// How many values it was computed from.
    pub n: i64,
}

impl Store {
    /// Stores the morning reading of `day`, replacing an earlier one of the same day, and its outbox row.
    pub async fn add_morning_reading(
        &self,
        day: i64,
        ln_rmssd: f64,
        resting_hr: Option<f64>,
        session: Option<SessionId>,
    ) -> Result<(), StoreError> {
        finite("ln_rmssd", ln_rmssd)?;
        if let Some(hr) = resting_hr
            && finite("resting_hr", hr)? <= 0.0
        {
            return Err(StoreError::Invalid {
                what: "resting_hr",
                reason: format!("{hr} bpm is not positive"),
            });
        }
        let mut tx = crate::begin_write(&self.pool).await?;
        if let Some(id) = session {
            // The account's own morning: it cannot point at an athlete's session.
            own_started_at(&mut tx, id).await?;
        }
        sqlx::query(
            "INSERT INTO morning_readings (day, ln_rmssd, resting_hr, session_id) VALUES (?, ?, ?, ?) \
             ON CONFLICT (day) DO UPDATE SET ln_rmssd = excluded.ln_rmssd, resting_hr = excluded.resting_hr, \
             session_id = excluded.session_id",
        )
        .bind(day)
        .bind(ln_rmssd)
        .bind(resting_hr)
        .bind(session.map(|s| s.0))
        .execute(&mut *tx)
        .await?;
        outbox::append(
            &mut tx,
            Change {
                kind: OutboxKind::MorningReading,
                session_id: session.map(|s| s.0),
                entity_id: Some(day),
                range: None,
                rows: 1,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The morning readings of days `from_day..=to_day`, oldest first.
    pub async fn morning_readings(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<MorningReading>, StoreError> {
        sqlx::query(
            "SELECT day, ln_rmssd, resting_hr, session_id FROM morning_readings \
             WHERE day >= ? AND day <= ? ORDER BY day",
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(morning_row)
        .collect()
    }

    /// A coach's copies of athlete `athlete`'s (email) morning readings of days `from_day..=to_day`, oldest
    /// first: kept apart from [`Store::morning_readings`], which are the account's own and all its normal range,
    /// readiness and trend read.
    pub async fn athlete_morning_readings(
        &self,
        athlete: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<MorningReading>, StoreError> {
        sqlx::query(
            "SELECT day, ln_rmssd, resting_hr, session_id FROM athlete_mornings \
             WHERE athlete = ? AND day >= ? AND day <= ? ORDER BY day",
        )
        .bind(athlete)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(morning_row)
        .collect()
    }

    /// Morning lnRMSSD and resting HR of the days `from_day..=to_day` that have a reading, oldest first.
    pub async fn daily_trend(&self, from_day: i64, to_day: i64) -> Result<Vec<DailyTrendRow>, StoreError> {
        // The same rows as the readings; only the session link is left out of the trend.
        Ok(self
            .morning_readings(from_day, to_day)
            .await?
            .into_iter()
            .map(|r| DailyTrendRow {
                day: r.day,
                ln_rmssd: r.ln_rmssd,
                resting_hr: r.resting_hr,
            })
            .collect())
    }

    /// Stores a baseline, replacing the one of the same metric and day.
    pub async fn put_baseline(&self, baseline: &Baseline) -> Result<(), StoreError> {
        finite("baseline mean", baseline.mean)?;
        if finite("baseline sd", baseline.sd)? < 0.0 || baseline.n < 0 || baseline.metric.is_empty() {
            return Err(StoreError::Invalid {
                what: "baseline",
                reason: format!(
                    "metric {:?} sd {} n {}: needs a name, sd >= 0 and n >= 0",
                    baseline.metric, baseline.sd, baseline.n
                ),
            });
        }
        sqlx::query(
            "INSERT INTO baselines (metric, day, mean, sd, n) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (metric, day) DO UPDATE SET mean = excluded.mean, sd = excluded.sd, n = excluded.n",
        )
        .bind(&baseline.metric)
        .bind(baseline.day)
        .bind(baseline.mean)
        .bind(baseline.sd)
        .bind(baseline.n)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest baseline of `metric` as of `day` (its own or an earlier day's), if any.
    pub async fn baseline(&self, metric: &str, day: i64) -> Result<Option<Baseline>, StoreError> {
        sqlx::query(
            "SELECT metric, day, mean, sd, n FROM baselines WHERE metric = ? AND day <= ? \
             ORDER BY day DESC LIMIT 1",
        )
        .bind(metric)
        .bind(day)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(Baseline {
                metric: row.try_get(0)?,
                day: row.try_get(1)?,
                mean: row.try_get(2)?,
                sd: row.try_get(3)?,
                n: row.try_get(4)?,
            })
        })
        .transpose()
    }
}

/// A row `day, ln_rmssd, resting_hr, session_id` of `morning_readings` or `athlete_mornings`.
fn morning_row(row: &sqlx::sqlite::SqliteRow) -> Result<MorningReading, StoreError> {
    Ok(MorningReading {
        day: row.try_get(0)?,
        ln_rmssd: row.try_get(1)?,
        resting_hr: row.try_get(2)?,
        session: row.try_get::<Option<i64>, _>(3)?.map(SessionId),
    })
}
