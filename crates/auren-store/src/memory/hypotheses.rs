//! Hypotheses: testable beliefs about the person ("alcohol lowers my next-morning lnRMSSD") as records with the
//! metric, the exposure tag, the lag, the test, alpha and the minimum n. Their status is computed by code (the
//! agents' hypothesis tester) and written here with its evidence; every test is kept, the latest also on the
//! hypothesis itself.

use super::MemoryId;
use crate::{Store, StoreError};
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use std::fmt;

/// The id of a stored hypothesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HypothesisId(pub i64);

impl fmt::Display for HypothesisId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What the latest test concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HypothesisStatus {
    /// Not enough data yet (fewer than `min_n` on a side).
    Open,
    Supported,
    Refuted,
    Inconclusive,
}

impl HypothesisStatus {
    pub const ALL: [Self; 4] = [Self::Open, Self::Supported, Self::Refuted, Self::Inconclusive];

    /// The name stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Supported => "supported",
            Self::Refuted => "refuted",
            Self::Inconclusive => "inconclusive",
        }
    }

    /// The status named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Which way the exposure is expected to move the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Lower,
    Higher,
    Either,
}

impl Direction {
    pub const ALL: [Self; 3] = [Self::Lower, Self::Higher, Self::Either];

    /// The name stored in the `direction` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lower => "lower",
            Self::Higher => "higher",
            Self::Either => "either",
        }
    }

    /// The direction named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// A hypothesis about to be stored (status `open`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewHypothesis {
    /// In the person's words.
    pub statement: String,
    /// The morning metric (`"ln_rmssd"`, `"resting_hr"`, …).
    pub metric: String,
    /// The tag whose days are the exposed ones.
    pub exposure_tag: String,
    /// Days from the exposure to the morning measured (0–7; 1 = next morning).
    pub lag_days: u8,
    pub direction: Direction,
    /// The test's name as the tester knows it (e.g. `"welch_t"`).
    pub test: String,
    pub alpha: f64,
    /// Fewest days on each side before a test may conclude.
    pub min_n: u32,
    /// The memory (kind hypothesis) it belongs to; forgetting that memory deletes the hypothesis.
    pub memory: Option<MemoryId>,
}

/// A stored hypothesis with its latest test.
#[derive(Clone, Debug, PartialEq)]
pub struct HypothesisRow {
    pub id: HypothesisId,
    pub statement: String,
    pub metric: String,
    pub exposure_tag: String,
    pub lag_days: u8,
    pub direction: Direction,
    pub test: String,
    pub alpha: f64,
    pub min_n: u32,
    pub status: HypothesisStatus,
    /// The latest test's evidence (JSON), `None` before the first test.
    pub evidence_json: Option<String>,
    pub last_tested_at: Option<i64>,
    pub created_at: i64,
    pub memory: Option<MemoryId>,
}

/// One test of a hypothesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HypothesisTest {
    pub tested_at: i64,
    pub status: HypothesisStatus,
    pub evidence_json: String,
}

/// The hypothesis tables of one store. Cheap to clone (it holds the pool).
#[derive(Clone, Debug)]
pub struct Hypotheses {
    pool: SqlitePool,
}

impl Store {
    /// Hypotheses and their tests.
    pub fn hypotheses(&self) -> Hypotheses {
        Hypotheses {
            pool: self.pool().clone(),
        }
    }
}

const COLUMNS: &str = "id, statement, metric, exposure_tag, lag_days, direction, test, alpha, min_n, status, \
                       evidence, last_tested_at, created_at, memory_id";

fn range(what: &str, value: impl fmt::Debug) -> StoreError {
    StoreError::Range(format!("{what} {value:?}"))
}

fn hypothesis_row(row: &SqliteRow) -> Result<HypothesisRow, StoreError> {
    let direction: String = row.try_get(5)?;
    let status: String = row.try_get(9)?;
    let lag: i64 = row.try_get(4)?;
    let min_n: i64 = row.try_get(8)?;
    Ok(HypothesisRow {
        id: HypothesisId(row.try_get(0)?),
        statement: row.try_get(1)?,
        metric: row.try_get(2)?,
        exposure_tag: row.try_get(3)?,
        lag_days: u8::try_from(lag).map_err(|_| range("lag_days", lag))?,
        direction: Direction::parse(&direction).ok_or_else(|| range("direction", &direction))?,
        test: row.try_get(6)?,
        alpha: row.try_get(7)?,
        min_n: u32::try_from(min_n).map_err(|_| range("min_n", min_n))?,
        status: HypothesisStatus::parse(&status).ok_or_else(|| range("status", &status))?,
        evidence_json: row.try_get(10)?,
        last_tested_at: row.try_get(11)?,
        created_at: row.try_get(12)?,
        memory: row.try_get::<Option<i64>, _>(13)?.map(MemoryId),
    })
}

fn checked(new: &NewHypothesis) -> Result<&NewHypothesis, StoreError> {
    let invalid = |what, reason: String| Err(StoreError::Invalid { what, reason });
    for (what, value) in [
        ("hypothesis statement", &new.statement),
        ("hypothesis metric", &new.metric),
        ("hypothesis exposure tag", &new.exposure_tag),
        ("hypothesis test", &new.test),
    ] {
        if value.trim().is_empty() {
            return invalid(what, "it is empty".into());
        }
    }
    if new.lag_days > 7 {
        return invalid("hypothesis lag", format!("{} days is more than 7", new.lag_days));
    }
    if !(new.alpha > 0.0 && new.alpha < 1.0) {
        return invalid(
            "hypothesis alpha",
            format!("{} is not between 0 and 1", new.alpha),
        );
    }
    if new.min_n < 2 {
        return invalid("hypothesis minimum n", format!("{} is below 2", new.min_n));
    }
    Ok(new)
}

impl Hypotheses {
    /// Stores a hypothesis with status `open`.
    pub async fn create(&self, new: &NewHypothesis, now: i64) -> Result<HypothesisId, StoreError> {
        let new = checked(new)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hypotheses (statement, metric, exposure_tag, lag_days, direction, test, alpha, min_n, \
             status, created_at, memory_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id",
        )
        .bind(new.statement.trim())
        .bind(&new.metric)
        .bind(&new.exposure_tag)
        .bind(i64::from(new.lag_days))
        .bind(new.direction.as_str())
        .bind(&new.test)
        .bind(new.alpha)
        .bind(i64::from(new.min_n))
        .bind(now)
        .bind(new.memory.map(|m| m.0))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound {
                what: "memory",
                id: new.memory.map(|m| m.0.to_string()).unwrap_or_default(),
            },
            _ => StoreError::Query(e),
        })?;
        Ok(HypothesisId(id))
    }

    /// Every hypothesis, oldest first.
    pub async fn list(&self) -> Result<Vec<HypothesisRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM hypotheses ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(hypothesis_row).collect()
    }

    /// One hypothesis, or [`StoreError::NotFound`].
    pub async fn get(&self, id: HypothesisId) -> Result<HypothesisRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM hypotheses WHERE id = ?"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "hypothesis",
            id: id.to_string(),
        })?;
        hypothesis_row(&row)
    }

    /// Records a test's outcome (computed by code, never by a model): kept in the history and made the
    /// hypothesis's current status.
    pub async fn record_test(
        &self,
        id: HypothesisId,
        status: HypothesisStatus,
        evidence_json: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        serde_json::from_str::<serde_json::Value>(evidence_json).map_err(|e| StoreError::Invalid {
            what: "hypothesis evidence",
            reason: format!("not valid JSON: {e}"),
        })?;
        let mut tx = crate::begin_write(&self.pool).await?;
        let done =
            sqlx::query("UPDATE hypotheses SET status = ?, evidence = ?, last_tested_at = ? WHERE id = ?")
                .bind(status.as_str())
                .bind(evidence_json)
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "hypothesis",
                id: id.to_string(),
            });
        }
        sqlx::query(
            "INSERT INTO hypothesis_tests (hypothesis_id, tested_at, status, evidence) VALUES (?, ?, ?, ?)",
        )
        .bind(id.0)
        .bind(now)
        .bind(status.as_str())
        .bind(evidence_json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every test of a hypothesis, oldest first.
    pub async fn tests(&self, id: HypothesisId) -> Result<Vec<HypothesisTest>, StoreError> {
        let rows = sqlx::query(
            "SELECT tested_at, status, evidence FROM hypothesis_tests WHERE hypothesis_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get(1)?;
                Ok(HypothesisTest {
                    tested_at: row.try_get(0)?,
                    status: HypothesisStatus::parse(&status).ok_or_else(|| range("status", &status))?,
                    evidence_json: row.try_get(2)?,
                })
            })
            .collect()
    }
}
