//! PostgreSQL: the two pools, migrations, the per-transaction user, the token key and beat partitions.
//!
//! The owner pool connects as the configured role (it runs migrations, the partition maintenance and the
//! relay's claims); the app pool runs every request's queries as `auren_app`, which owns no table and so
//! cannot bypass row-level security. Each app transaction names its user with
//! `set_config('app.user_id', …, true)`, which ends with the transaction, so a pooled connection never
//! carries one request's user into the next. Pulls run on connections of their own ([`PullConnections`]).

use crate::error::{ApiError, ServerError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

/// The migrations of `migrations/server`, embedded.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/server");

/// The name of the role requests run as.
pub const APP_ROLE: &str = "auren_app";

/// How many months of beat partitions exist ahead of now, and behind it.
pub const PARTITION_MONTHS_AHEAD: i64 = 3;
pub const PARTITION_MONTHS_BEHIND: i64 = 12;
const MONTH_MS: i64 = 31 * 86_400_000;

/// Both pools, and the pulls' connections.
#[derive(Clone, Debug)]
pub struct Pools {
    /// The configured role: migrations, partitions, the relay.
    pub owner: PgPool,
    /// `auren_app`: every request but pulls.
    pub app: PgPool,
    /// `auren_app`: pulls.
    pub pull: Arc<PullConnections>,
}

/// Sizes of the pools.
#[derive(Clone, Copy, Debug)]
pub struct PoolSizes {
    pub owner: u32,
    pub app: u32,
    /// The most pull connections: a pull is one short statement, so a few keep the cores busy.
    pub pull: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        Self {
            owner: 4,
            app: 32,
            pull: 8,
        }
    }
}

/// Connects both pools to `url` and runs the migrations. The app pool switches every new connection to
/// `auren_app` (SET ROLE), so it works with one URL; a deployment may instead give the app role its own
/// login through `app_url`.
pub async fn connect(url: &str, app_url: Option<&str>, sizes: PoolSizes) -> Result<Pools, ServerError> {
    let options = PgConnectOptions::from_str(url).map_err(ServerError::Connect)?;
    let owner = PgPoolOptions::new()
        .max_connections(sizes.owner)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await
        .map_err(ServerError::Connect)?;
    MIGRATOR.run(&owner).await.map_err(ServerError::Migrate)?;
    let app_options = match app_url {
        Some(app_url) => PgConnectOptions::from_str(app_url).map_err(ServerError::Connect)?,
        None => options,
    };
    let role = match app_url {
        Some(_) => AppRole::OwnLogin,
        None => AppRole::SetRole,
    };
    let app = PgPoolOptions::new()
        .max_connections(sizes.app)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _meta| Box::pin(async move { role.enter(conn).await }))
        .connect_with(app_options.clone())
        .await
        .map_err(ServerError::Connect)?;
    let pull = Arc::new(PullConnections::new(app_options, role, sizes.pull));
    Ok(Pools { owner, app, pull })
}

/// How long a request waits for a connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the app's connections become `auren_app`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AppRole {
    /// The URL logs in as another role: SET ROLE on every new connection.
    SetRole,
    /// The app's own URL logs in as `auren_app`.
    OwnLogin,
}

impl AppRole {
    async fn enter(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self == Self::SetRole {
            conn.execute("SET ROLE auren_app").await?;
        }
        Ok(())
    }
}

/// A connection idle this long is checked with a round trip before a pull uses it.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Connections for pulls alone, outside sqlx's pool. A pull is one statement (`auren_pull`), and sqlx 0.9's
/// pool adds a round trip before it (`test_before_acquire`) and another after it (it pings every connection
/// it takes back): three round trips where one does, and on two shared cores each costs both processes a
/// wake-up (`AUREN_BENCH_PHASES=pull` server_load: pulls finding data 2,334/s with both pings, 3,137/s
/// without the first). Here a connection is lent as it is, except that one idle for more than
/// `PING_AFTER_IDLE` is checked first, so a restart of PostgreSQL in a quiet time is noticed before a request;
/// one broken under load fails its pull with 503, which clients retry. Only a connection whose use finished
/// comes back ([`LentConnection::give_back`]); one dropped with its borrower — an error, or a pull cancelled
/// mid-statement, which may leave it mid-protocol — is closed.
pub struct PullConnections {
    options: PgConnectOptions,
    role: AppRole,
    /// Idle connections with when each was given back; the last given back is lent first.
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    permits: Semaphore,
}

impl std::fmt::Debug for PullConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullConnections")
            .field("idle", &self.lock().len())
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl PullConnections {
    fn new(options: PgConnectOptions, role: AppRole, size: u32) -> Self {
        Self {
            options,
            role,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(usize::try_from(size.max(1)).unwrap_or(1)),
        }
    }

    /// A connection for one pull: an idle one, or a new one while fewer than the size are open.
    /// The whole of it (permit, ping, connect) within [`ACQUIRE_TIMEOUT`], as sqlx's pool bounds its own
    /// acquire: an unreachable PostgreSQL or a half-open idle socket must not hold a permit for minutes.
    pub async fn lend(&self) -> Result<LentConnection<'_>, sqlx::Error> {
        tokio::time::timeout(ACQUIRE_TIMEOUT, self.lend_unbounded())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    async fn lend_unbounded(&self) -> Result<LentConnection<'_>, sqlx::Error> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.lock().pop();
        let conn = match idle {
            Some((mut conn, since)) if since.elapsed() > PING_AFTER_IDLE => match conn.ping().await {
                Ok(()) => conn,
                Err(_) => self.connect().await?,
            },
            Some((conn, _)) => conn,
            None => self.connect().await?,
        };
        Ok(LentConnection {
            conn,
            home: self,
            _permit: permit,
        })
    }

    async fn connect(&self) -> Result<PgConnection, sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        self.role.enter(&mut conn).await?;
        Ok(conn)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(PgConnection, Instant)>> {
        // The list holds only whole connections (a panic cannot leave one half-pushed).
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A pull connection on loan: dropped, it is closed; given back, it is kept.
#[derive(Debug)]
pub struct LentConnection<'a> {
    conn: PgConnection,
    home: &'a PullConnections,
    _permit: SemaphorePermit<'a>,
}

impl LentConnection<'_> {
    /// Returns the connection for the next pull: call it only when its last statement finished.
    pub fn give_back(self) {
        let Self { conn, home, _permit } = self;
        home.lock().push((conn, Instant::now()));
    }
}

impl std::ops::Deref for LentConnection<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for LentConnection<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// Begins an app transaction acting for `user`: row-level security shows and accepts only their rows (and,
/// for reads, those of athletes who granted them coach access). The `BEGIN` and the user's `set_config` go as
/// one simple query, one round trip instead of two (every request pays it). The user id is inlined: a
/// `Uuid`'s text is hex digits and dashes only, nothing a literal could be broken out of.
pub async fn begin_as(pool: &PgPool, user: Uuid) -> Result<Transaction<'static, Postgres>, ApiError> {
    let user = user.hyphenated();
    Ok(pool
        .begin_with(sqlx::AssertSqlSafe(format!(
            "BEGIN; SELECT set_config('app.user_id', '{user}', true)"
        )))
        .await?)
}

/// A read-only transaction on one snapshot (REPEATABLE READ) with `user` set for row-level security: every
/// query in it sees the same committed state, so a version read in it names exactly the rows read beside it.
pub async fn begin_snapshot_as(
    pool: &PgPool,
    user: Uuid,
) -> Result<Transaction<'static, Postgres>, ApiError> {
    let user = user.hyphenated();
    Ok(pool
        .begin_with(sqlx::AssertSqlSafe(format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT set_config('app.user_id', '{user}', true)"
        )))
        .await?)
}

/// The 32-byte access-token key shared by every server process: made by the first one to start.
pub async fn token_key(owner: &PgPool) -> Result<[u8; 32], ServerError> {
    let mut fresh = [0_u8; 32];
    getrandom::fill(&mut fresh).map_err(|_| ServerError::TokenKey)?;
    sqlx::query(
        "INSERT INTO server_keys (name, key) VALUES ('access_token', $1) ON CONFLICT (name) DO NOTHING",
    )
    .bind(fresh.as_slice())
    .execute(owner)
    .await
    .map_err(|e| ServerError::Setup("storing the token key", e))?;
    let key: Vec<u8> = sqlx::query_scalar("SELECT key FROM server_keys WHERE name = 'access_token'")
        .fetch_one(owner)
        .await
        .map_err(|e| ServerError::Setup("reading the token key", e))?;
    key.try_into().map_err(|_| ServerError::TokenKey)
}

/// Creates the monthly beat partitions from `PARTITION_MONTHS_BEHIND` months before `now_ms` to
/// `PARTITION_MONTHS_AHEAD` after; returns how many were new.
pub async fn ensure_partitions_around(owner: &PgPool, now_ms: i64) -> Result<i32, sqlx::Error> {
    ensure_partitions(
        owner,
        now_ms - PARTITION_MONTHS_BEHIND * MONTH_MS,
        now_ms + PARTITION_MONTHS_AHEAD * MONTH_MS,
    )
    .await
}

/// Creates the monthly partitions covering `from_ms..=to_ms` (idempotent).
pub async fn ensure_partitions(pool: &PgPool, from_ms: i64, to_ms: i64) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT auren_ensure_beat_partitions($1, $2)")
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(pool)
        .await
}

/// How `beat_chunks` is stored: chosen once by migration 0011 from whether TimescaleDB is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeatLayout {
    /// Native monthly range partitions, created ahead by the server, with a DEFAULT one as a safety net.
    MonthlyPartitions,
    /// A TimescaleDB hypertable on `wall_ms`: chunks of 30 days, made ahead by the same SQL function.
    TimescaleHypertable,
}

/// Reads which layout `beat_chunks` has (a partitioned table or, after TimescaleDB's conversion, a plain one).
pub async fn beat_layout(pool: &PgPool) -> Result<BeatLayout, sqlx::Error> {
    let partitioned: bool =
        sqlx::query_scalar("SELECT relkind = 'p' FROM pg_class WHERE oid = 'beat_chunks'::regclass")
            .fetch_one(pool)
            .await?;
    Ok(if partitioned {
        BeatLayout::MonthlyPartitions
    } else {
        BeatLayout::TimescaleHypertable
    })
}

/// The start (Unix ms) of the UTC month holding `ms`: the lower bound of its beat partition.
pub fn month_start_ms(ms: i64) -> i64 {
    auren_clock::UnixMillis(ms).utc_date().first_of_month().start().0
}

/// Rows in the DEFAULT beat partition (the alarm: should be 0).
pub async fn default_partition_rows(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT auren_default_partition_rows()")
        .fetch_one(pool)
        .await
}
