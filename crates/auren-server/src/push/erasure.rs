//! After a forget, no byte of the memory's text may stay in PostgreSQL's table files. The tombstone's UPDATE
//! (`body = NULL`) leaves every older version of the row on its page as a dead tuple, and a plain VACUUM only
//! marks that space free: the page is compacted, but bytes the moved live tuples do not cover stay in its free
//! space (measured: the first ~300 bytes of a 330-byte text were still in `records`' file after VACUUM and
//! CHECKPOINT). `VACUUM FULL` writes the table, its TOAST table and its indexes into new files holding the live
//! rows only; the old files are emptied when it commits and removed at the next checkpoint.
//!
//! The sweep runs after the forget's transaction has committed, off the request path, on a connection of the
//! owner's role (VACUUM needs the table's owner; `auren_app` owns nothing), once no snapshot in the database
//! can be older than the forget (one would keep the dead version alive: a long transaction anywhere in the
//! cluster delays the sweep, up to a minute per try), and is coalesced: every forget that
//! arrives while a sweep runs or waits is covered by the one sweep after it, and sweeps start at most every
//! [`SWEEP_GAP`]. `VACUUM FULL` holds an ACCESS EXCLUSIVE lock on the table it rewrites, so pushes and pulls
//! wait for the rewrite; `lock_timeout` keeps it from queueing behind a long transaction (with every request
//! queueing behind it), and a sweep that could not take the lock is tried again after a backoff.
//! WAL segments not yet recycled, replicas' WAL and backups taken before still hold the text.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The tables a forget leaves dead row versions with the text in: the record itself, and a refused push of
/// the memory (deleted by the forget).
const SWEPT: &str = "VACUUM (FULL) records, rejected_rows";
/// Least time between the starts of two sweeps (each rewrites the whole table).
pub const SWEEP_GAP: Duration = Duration::from_secs(30);
/// How long a sweep waits for its lock before it gives up and tries again later.
const LOCK_TIMEOUT: &str = "2s";
/// The longest wait before a failed sweep is tried again.
const MAX_RETRY: Duration = Duration::from_secs(300);

/// Sweeps after forgets: `request` after a forget commits, `swept` to wait for the sweep that covers it.
#[derive(Clone, Debug)]
pub struct ErasureSweep {
    /// Sweeps asked for so far: each forget raises it.
    requested: watch::Sender<u64>,
    /// The highest request a completed sweep covered.
    swept: watch::Sender<u64>,
}

/// The sweeper stopped (the server is shutting down) before the awaited sweep completed.
#[derive(Debug, thiserror::Error)]
#[error("the erasure sweep stopped before the forget was swept")]
pub struct SweepStopped;

impl ErasureSweep {
    /// Starts the sweeper on connections made like `owner`'s until `shutdown`.
    pub fn start(owner: &PgPool, shutdown: CancellationToken) -> Self {
        let sweep = Self {
            requested: watch::Sender::new(0),
            swept: watch::Sender::new(0),
        };
        let options = (*owner.connect_options())
            .clone()
            .options([("lock_timeout", LOCK_TIMEOUT)]);
        // Subscribed here, not in the task: until the task has stopped, `requested` has this receiver.
        let requested = sweep.requested.subscribe();
        tokio::spawn(run(options, requested, sweep.swept.clone(), shutdown));
        sweep
    }

    /// Asks for a sweep covering every forget committed so far; returns the request's number.
    pub fn request(&self) -> u64 {
        self.requested.send_modify(|n| *n += 1);
        *self.requested.borrow()
    }

    /// The number of the latest request (a forget answered before this call is covered by it).
    pub fn latest_request(&self) -> u64 {
        *self.requested.borrow()
    }

    /// Waits until a sweep covering request `number` has completed.
    pub async fn swept(&self, number: u64) -> Result<(), SweepStopped> {
        let mut swept = self.swept.subscribe();
        tokio::select! {
            done = async { swept.wait_for(|&n| n >= number).await.map(|_| ()) } => done.map_err(|_| SweepStopped),
            // The sweeper holds a receiver of `requested`; once it has stopped none is left.
            () = self.requested.closed() => Err(SweepStopped),
        }
    }
}

/// The sweeper: waits for requests, spaces sweeps by [`SWEEP_GAP`], retries failures with a doubling wait.
async fn run(
    options: PgConnectOptions,
    mut requested: watch::Receiver<u64>,
    swept: watch::Sender<u64>,
    shutdown: CancellationToken,
) {
    let mut last_start: Option<Instant> = None;
    let mut retry = Duration::from_secs(1);
    loop {
        let done = *swept.borrow();
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = async { requested.wait_for(|&n| n > done).await.map(|_| ()) } => {
                if changed.is_err() {
                    return;
                }
            }
        }
        if let Some(start) = last_start {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep_until(start + SWEEP_GAP) => {}
            }
        }
        // Taken before the sweep starts: a forget committed after this point may miss it and asks again.
        let covered = *requested.borrow_and_update();
        let start = Instant::now();
        last_start = Some(start);
        match vacuum(&options).await {
            Ok(()) => {
                metrics::counter!("auren_erasure_sweeps_total").increment(1);
                metrics::histogram!("auren_erasure_sweep_seconds").record(start.elapsed().as_secs_f64());
                swept.send_replace(covered);
                retry = Duration::from_secs(1);
            }
            Err(error) => {
                metrics::counter!("auren_erasure_sweep_failures_total").increment(1);
                tracing::warn!(%error, retry_in_s = retry.as_secs(), "sweeping forgotten rows failed");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    }
}

/// The next transaction id to be given out (every id below it is running or has ended), in any database.
const NEXT_XID: &str = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint";
/// The oldest transaction id still running, in any database.
const OLDEST_RUNNING_XID: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint";
/// Transactions open in this database now (their virtual ids), the sweep's own left out. Autovacuum workers
/// count: an ANALYZE holds a snapshot like any reader. `pg_locks` and the pid and database of
/// `pg_stat_activity` are visible to every role, so this sees the `auren_app` login's sessions too (their
/// start times are hidden from the owner).
const OPEN_TRANSACTIONS: &str = "SELECT l.virtualxid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
     WHERE l.locktype = 'virtualxid' AND l.granted AND a.datname = current_database() \
     AND l.pid <> pg_backend_pid()";
/// How many of those are still open.
const STILL_OPEN: &str =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY($1)";
/// How long a sweep waits for the transactions older than it.
const OLDER_WAIT: Duration = Duration::from_secs(60);
/// How often it looks whether they have ended.
const OLDER_POLL: Duration = Duration::from_millis(50);

/// Why a sweep did not complete.
#[derive(Debug, thiserror::Error)]
enum SweepFailure {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("transactions older than the forget were still open after {} s", OLDER_WAIT.as_secs())]
    OlderTransactions,
}

/// One sweep on a connection of its own (its `lock_timeout` never reaches a pooled connection).
async fn vacuum(options: &PgConnectOptions) -> Result<(), SweepFailure> {
    let mut connection = options.connect().await?;
    let outcome = wait_then_vacuum(&mut connection).await;
    // A close that fails leaves nothing behind: the server ends the session when the socket goes.
    let _ = connection.close().await;
    outcome
}

/// VACUUM FULL keeps every dead row version newer than the database's horizon: the oldest snapshot of its
/// sessions — the sweep's own included — and a snapshot's horizon is the oldest transaction id running
/// anywhere in the cluster when it was taken. So, as CREATE INDEX CONCURRENTLY waits for older snapshots, the
/// sweep first waits until every transaction id given out before it began (after the forgets committed) has
/// ended, in any database, then for the transactions of this database open at that moment, whose snapshots may
/// be older. Every snapshot left was then taken after the forgets. VACUUM cannot run inside a transaction
/// block, so it is sent alone as a simple query.
async fn wait_then_vacuum(connection: &mut PgConnection) -> Result<(), SweepFailure> {
    let deadline = Instant::now() + OLDER_WAIT;
    let next: i64 = sqlx::query_scalar(NEXT_XID).fetch_one(&mut *connection).await?;
    loop {
        let oldest: i64 = sqlx::query_scalar(OLDEST_RUNNING_XID)
            .fetch_one(&mut *connection)
            .await?;
        if oldest >= next {
            break;
        }
        if Instant::now() >= deadline {
            return Err(SweepFailure::OlderTransactions);
        }
        tokio::time::sleep(OLDER_POLL).await;
    }
    let older: Vec<String> = sqlx::query_scalar(OPEN_TRANSACTIONS)
        .fetch_all(&mut *connection)
        .await?;
    loop {
        let open: i64 = sqlx::query_scalar(STILL_OPEN)
            .bind(&older)
            .fetch_one(&mut *connection)
            .await?;
        if open == 0 {
            break;
        }
        if Instant::now() >= deadline {
            return Err(SweepFailure::OlderTransactions);
        }
        tokio::time::sleep(OLDER_POLL).await;
    }
    sqlx::raw_sql(SWEPT).execute(&mut *connection).await?;
    Ok(())
}
