//! auren-store: Auren's local SQLite database (one file, WAL mode, migrations embedded from
//! `migrations/local`).
//!
//! Layout:
//! - `lib.rs` — [`Store`]: opening the database and running migrations; [`StoreError`].
//! - `usage.rs` — the `llm_usage` table and its own row, filter and day-total types (the gateway's
//!   `UsageLedger` is implemented over them outside the store, which knows nothing of the gateway).
//! - `sessions.rs` — straps, sessions and the queries over what they recorded (list, detail, beats, alerts).
//! - `writer.rs` — [`SessionWriter`]: batched writes of a live session on a background task.
//! - `readings.rs` — morning readings (the account's own, and a coach's copies of athletes' ones), the daily
//!   trend and personal baselines.
//! - `panels.rs` — stored session panels (computed by the caller, kept until the beats change), the light
//!   per-session reads shown beside them, and one panel metric of each day's morning session.
//! - `signals.rs` — the strap's contact and link changes of a session, as the live detector was fed them.
//! - `outbox.rs` — the sync outbox: what the server has not acknowledged yet.
//! - `sync_state.rs` — the device side of sync: replica id, account, cursors, parked rows, field clocks,
//!   and the writes that apply pulled changes (without outbox rows, so nothing echoes back).
//! - `conversations.rs` — conversations with the coach: messages and branches, steps, receipts, claims,
//!   full-text search, Markdown/JSON export.
//! - `memory.rs` — the cognitive twin: bi-temporal memories, recall, forgetting, proposals, hypotheses.
//! - `bin/auren-store-recorder.rs` — a recording process for the crash test (SIGKILLed mid-write).
//!
//! Queries are checked at run time (`sqlx::query`), so building needs no database.
//!
//! Times: wall-clock values are Unix milliseconds (`i64`); times inside a session (`t_ms`, `at_ms`) are
//! milliseconds since the session's `started_at` (`f64`); days are day numbers (days since 1970-01-01).
//!
//! Durability: WAL with `synchronous=NORMAL` fsyncs only at checkpoints, yet a commit is in the WAL file
//! once `COMMIT` returns, so a killed process loses nothing committed (the crash test SIGKILLs a recorder to
//! show it); only an OS crash or power cut can lose the last commits, never corrupt the file. FULL would
//! add an fsync to every 250 ms batch to cover just that case, losing at most a second of beats anyway.

pub mod conversations;
pub mod memory;
mod outbox;
mod panels;
mod readings;
mod sessions;
mod signals;
mod sync_state;
mod usage;
mod writer;

/// A transaction that will write: `BEGIN IMMEDIATE` takes the write lock at once, waiting out another
/// writer for up to the busy timeout. A plain (deferred) `BEGIN` that reads first fails at once with
/// `SQLITE_BUSY` when it then writes after another connection wrote in between — SQLite cannot wait there
/// (its snapshot is stale), so the busy timeout does not apply. That lost a stopped turn's answer to the
/// usage row its abandoned stream recorded at the same moment (the desktop's `chat_stop` test); every
/// write transaction of the store opens this way. Read-only transactions (a consistent snapshot of a
/// session being written) stay deferred: they never need the lock, and taking it would queue them behind
/// the live writer.
pub(crate) async fn begin_write(
    pool: &sqlx::SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

pub use conversations::{ConversationId, Conversations, MessageId};
pub use memory::{Memories, MemoryId};
pub use outbox::{OutboxKind, OutboxRow};
pub use panels::{MorningPanelValue, SessionPanelView, StoredPanel};
pub use readings::{Baseline, DailyTrendRow, MorningReading};
pub use sessions::{
    AlertRow, BeatRow, GapRow, LastBeat, MetricSnapshot, NewSession, RecordingHere, SessionDetail, SessionId,
    SessionKind, SessionRow, SessionStatus, StrapRow, TagRow,
};
pub use signals::{Signal, SignalRow};
pub use sync_state::{
    ATHLETE_MORNING_COLLECTION, ParkReason, ParkedPointer, ParkedRow, PulledSession, Requeued,
    SETTING_COLLECTION, SETTING_FIELD, Stamp, SyncAccount, SyncTx, athlete_morning_key,
};
pub use usage::{UsageDayTotals, UsageFilter, UsageRow};
pub use writer::{SessionWriter, WriteSummary, WriterConfig};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot bring the database {path} up to date: {source}")]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("a stored value is out of range: {0}")]
    Range(String),
    #[error("unknown session id {0}")]
    UnknownSession(i64),
    #[error("unknown strap {0:?}: upsert it before starting a session on it")]
    UnknownStrap(String),
    #[error("{what} must be a finite number, got {value}")]
    NotFinite { what: &'static str, value: f64 },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// The first commit that failed; later failures of the same writer only add to `rows`.
    #[error("the writer of session {session} could not store {rows} rows: {source}")]
    WriteFailed {
        session: i64,
        rows: u64,
        source: sqlx::Error,
    },
    #[error("the writer task of session {0} stopped before flushing")]
    WriterStopped(i64),
    #[error("there is no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    /// A coach's copy of an athlete's session: only the athlete's own devices change it (they push; the coach
    /// pulls), so an edit here would be lost on the next pull or, pushed, land in the coach's account.
    #[error(
        "session {session} is {athlete}'s, read here as their coach: only their own devices can change it"
    )]
    AthleteReadOnly { session: i64, athlete: String },
}

/// The open database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating it and its folder if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Open {
                path: shown.clone(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL: readers (the UI, `auren usage`) never wait for the writer; NORMAL sync is durable in WAL.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Deleted content is zeroed, not left in free space, so a forgotten memory leaves no bytes behind.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: shown.clone(),
                source,
            })?;
        sqlx::migrate!("../../migrations/local")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate { path: shown, source })?;
        Ok(Self { pool })
    }

    /// Writes a consistent copy of the whole database to `path` (SQLite `VACUUM INTO`), while readers
    /// and the writer go on: how the data folder moves without losing a row.
    pub async fn copy_to(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_str().ok_or_else(|| StoreError::Invalid {
            what: "copy target",
            reason: format!("{} is not valid UTF-8", path.display()),
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The connection pool, for queries of modules added later.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
