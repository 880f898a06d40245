//! The strap's contact and link changes of a session (`0010_signal_changes.sql`), as the live detector was
//! fed them. They are written by the [`crate::SessionWriter`] like gaps and heart-rate samples (with an
//! outbox row per commit), synced as `signals` changes, and read back in the order the detector saw them:
//! by time, and changes of one moment in the order they were stored.

use crate::{SessionId, Store, StoreError, SyncTx};
use sqlx::Row;

/// Which of the strap's states changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Skin contact (the strap's sensor-contact bits).
    Contact,
    /// The Bluetooth link.
    Link,
}

impl Signal {
    /// The name stored in the `signal` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Link => "link",
        }
    }

    /// The signal stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Contact, Self::Link]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One change: at session time `t_ms`, `signal` went up (contact detected, link connected) or down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalRow {
    pub t_ms: f64,
    pub signal: Signal,
    pub up: bool,
}

const SELECT: &str = "SELECT t_ms, signal, up FROM signal_changes WHERE session_id = ? AND t_ms >= ? AND t_ms <= ? \
                      ORDER BY t_ms, id";

impl Store {
    /// The contact and link changes of session `id`, in the order the detector saw them.
    pub async fn signal_changes(&self, id: SessionId) -> Result<Vec<SignalRow>, StoreError> {
        self.signals_between(id, f64::NEG_INFINITY, f64::INFINITY).await
    }

    /// The contact and link changes of session `id` in `from_ms..=to_ms`, in the order the detector saw them.
    pub async fn signals_between(
        &self,
        id: SessionId,
        from_ms: f64,
        to_ms: f64,
    ) -> Result<Vec<SignalRow>, StoreError> {
        let rows = sqlx::query(SELECT)
            .bind(id.0)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get(1)?;
                Ok(SignalRow {
                    t_ms: row.try_get(0)?,
                    signal: Signal::parse(&name)
                        .ok_or_else(|| StoreError::Range(format!("unknown signal {name:?}")))?,
                    up: row.try_get::<i64, _>(2)? != 0,
                })
            })
            .collect()
    }
}

impl SyncTx {
    /// Stores pulled contact and link changes of session `id` (in the order given; one already stored is
    /// kept once).
    pub async fn insert_signals(&mut self, id: SessionId, changes: &[SignalRow]) -> Result<(), StoreError> {
        for change in changes {
            sqlx::query(
                "INSERT OR IGNORE INTO signal_changes (session_id, t_ms, signal, up) VALUES (?, ?, ?, ?)",
            )
            .bind(id.0)
            .bind(change.t_ms)
            .bind(change.signal.as_str())
            .bind(i64::from(change.up))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}
