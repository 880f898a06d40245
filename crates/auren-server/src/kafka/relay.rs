//! The outbox relay: moves `server_outbox` rows (written in the push transaction, so a row exists exactly
//! when its data committed) to Kafka, so that the topics hold each row once.
//!
//! One relay sends at a time across server processes: the leader holds a session-level advisory lock on a
//! connection of its own ([`RELAY_LOCK`]), and runs every claim and `DELETE` on that same connection, so a
//! leader whose connection died cannot delete anything more. The other relays poll for the lock.
//!
//! A round claims the oldest rows with `FOR UPDATE`, produces them with an idempotent producer keyed by user
//! and waits for every delivery report. Only a round whose every row was acknowledged deletes its rows (in
//! the claiming transaction). A round with any error or timeout deletes nothing: a timed-out message may
//! still have been written, and so may the acknowledged ones of a round whose `DELETE` never committed
//! (the server SIGKILLed between the broker's acknowledgement and the commit, PostgreSQL restarted under
//! it). The idempotent producer cannot catch those re-sends (they come under a new producer id, and Kafka
//! transactions would not help: the broker's commit and PostgreSQL's are still two commits). Instead, the
//! relay reads the log before it sends again ([`settle_tails`]): when it takes the lock, and after every
//! round that deleted nothing, it reads the tail of every partition of the topics the outbox still has rows
//! for, and deletes (never resends) each row whose id a message there carries ([`OUTBOX_ID_HEADER`]).
//!
//! Why the tail is enough: after the last round that deleted its rows (or the last settling), at most one
//! round has sent — the one that left the doubt — because no relay sends again before settling, and a new
//! leader settles first. That round's messages carry ids of rows still in the outbox, so in each partition of
//! topic `t` they are among the last `min(BATCH_ROWS, outbox rows of t)` messages (only the relay writes
//! these topics, and only the relay deletes outbox rows). Whole ids, never "the highest id seen": ids commit
//! out of order, and a row that commits late below such a mark would be skipped for ever.
//!
//! A leader that lost its PostgreSQL connection mid-round (PostgreSQL restarted, the network failed) lost the
//! lock with it, but its process lives on and its producer may still deliver that round for up to
//! `message_timeout`. So a relay that saw another relay hold the lock since it last led waits that long
//! (plus [`TAKEOVER_MARGIN`]) after taking the lock before it reads the tails ([`Tails::Unsettled`]). A relay
//! that never saw a rival starts at once: a leader that died with its process took its requests with it,
//! and one that only lost its connection and took the lock back had waited for its own round first.
//!
//! What this leaves open, and why the consumers still dedupe by outbox id: a message the broker appends
//! *after* the tails were read — a request it received before the sender gave up on it (a producer dropped
//! after a timeout whose request the broker still held), or a round of a rival that lost the lock while this
//! relay was starting (so it never saw the rival hold it). Neither happens when a process dies, since its
//! requests die with its connections.
//!
//! A broker outage only grows the outbox: reading the tails fails like a send does, and the relay retries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as ClientError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::statistics::Statistics;
use rdkafka::{Offset, TopicPartitionList};
use sqlx::{Connection, PgConnection, PgPool, Row};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ComponentStatus;

use super::{KafkaConfig, KafkaError, OUTBOX_ID_HEADER, causes, outbox_id};

/// Rows claimed per round: also the most messages one round can have left in a partition's tail.
pub const BATCH_ROWS: i64 = 2_000;
/// The advisory lock key that makes one relay active at a time (`auren` in ASCII).
const RELAY_LOCK: i64 = 0x0061_7572_656e;
/// Pause when the outbox is empty (a push's rows leave within this much).
const IDLE_POLL: Duration = Duration::from_millis(20);
/// How often a relay without the lock asks for it again (how fast it takes over from a leader that died).
const STANDBY_POLL: Duration = Duration::from_millis(250);
/// Added to `message_timeout` when a relay takes the lock from a rival that may still be sending: the last
/// delivery report comes a little after the timeout, and the broker appends a request it holds in moments.
const TAKEOVER_MARGIN: Duration = Duration::from_secs(2);
/// Pause after a round that could not deliver (the broker is away).
const FAILURE_BACKOFF: Duration = Duration::from_millis(500);
/// A round this long is logged (at debug level) with the time of each of its steps: where lag comes from.
const SLOW_ROUND: Duration = Duration::from_millis(250);
/// How often the outbox depth and age gauges are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);
/// The longest the tail reader may go without a message or a partition's end before the reading counts as
/// failed (and is tried again from the start). A limit on the whole reading wedged the relay for good behind a
/// slow broker: a window is up to `BATCH_ROWS` messages per partition (the bench's beats messages are ~15 KB,
/// so ~90 MB over three partitions); tansu 0.6 with a grown store (526 MB) served one partition's window in
/// ~4 s on an idle machine, and all of them in more than 30 s while the CEP consumer read the same topic
/// after a saturating ingest, so every retry timed out in turn and the outbox only grew (`cargo xtask bench
/// server`, 2026-12-05: "3 partitions left", 4,560 rows still queued 180 s after the saturating ingest). A
/// reading that makes progress now ends; one that stalls still fails.
const TAIL_STALL_LIMIT: Duration = Duration::from_secs(30);
/// The tail reader's `fetch.wait.max.ms` (librdkafka's default is 500). It reads, then waits for what it read,
/// and tansu 0.6 sleeps half the wait after every fetch, data or not (`FetchService::fetch`): with the default
/// each of its fetches took at least 250 ms. (The CEP consumer keeps the default: it fetches ahead while it
/// works, and `consumer_load` measured the same rate with 50 and 500 ms.)
const TAIL_FETCH_WAIT_MS: &str = "50";
/// The group id of the tail reader. It is assigned partitions, never subscribes and commits nothing, so it
/// never joins this group.
const TAIL_READER_GROUP: &str = "auren-relay-tails";

/// Starts relays: [`Relay::spawn`].
#[derive(Debug)]
pub struct Relay;

/// A running relay.
#[derive(Debug)]
pub struct RelayHandle {
    task: JoinHandle<()>,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    status: Mutex<ComponentStatus>,
    delivered: AtomicU64,
    found_in_topics: AtomicU64,
}

impl Shared {
    fn set_status(&self, status: ComponentStatus) {
        if let Ok(mut current) = self.status.lock() {
            *current = status;
        }
    }

    fn degraded(&self, reason: String) {
        self.set_status(ComponentStatus::Degraded { reason });
    }
}

impl RelayHandle {
    /// For `/readyz`: degraded while deliveries fail (the outbox is growing).
    pub fn status(&self) -> ComponentStatus {
        self.shared
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ComponentStatus::Down {
                reason: "relay state unreadable".to_owned(),
            })
    }

    /// Rows taken out of the outbox since start because the topics hold them: those this relay sent and
    /// saw acknowledged, and those it found already there ([`RelayHandle::found_in_topics`]).
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Rows deleted since start without sending because a message in a topic's tail already carried their
    /// id (sent by a relay that could not delete them, or in a round that timed out).
    pub fn found_in_topics(&self) -> u64 {
        self.shared.found_in_topics.load(Ordering::Relaxed)
    }

    /// Waits for the task to end (after its shutdown token was cancelled).
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "outbox relay task failed");
        }
    }
}

/// One claimed row.
struct OutboxRow {
    id: i64,
    topic: String,
    key: String,
    payload: Vec<u8>,
    created_at_ms: f64,
}

impl Relay {
    /// Starts the relay task over `pool` until `shutdown`.
    pub fn spawn(
        pool: PgPool,
        config: KafkaConfig,
        shutdown: CancellationToken,
    ) -> Result<RelayHandle, KafkaError> {
        let producer = new_producer(&config)?;
        let shared = Arc::new(Shared {
            status: Mutex::new(ComponentStatus::Up),
            delivered: AtomicU64::new(0),
            found_in_topics: AtomicU64::new(0),
        });
        let task = tokio::spawn(run(pool, producer, config, Arc::clone(&shared), shutdown));
        Ok(RelayHandle { task, shared })
    }
}

/// The relay's producer, with its statistics read by [`RelayStats`].
type FutureProducer = rdkafka::producer::FutureProducer<RelayStats>;

/// The relay producer's context: librdkafka's statistics (every second) become gauges of the broker's request
/// round trip and of the producer's own queue, so a slow round (logged with its steps) shows whether the
/// broker or this process held it.
struct RelayStats;

impl ClientContext for RelayStats {
    fn stats(&self, statistics: Statistics) {
        for broker in statistics.brokers.values() {
            let windows = [
                ("auren_relay_broker_rtt_seconds", &broker.rtt),
                ("auren_relay_queue_seconds", &broker.int_latency),
            ];
            for (name, window) in windows {
                // Bootstrap entries and idle brokers measured nothing this interval.
                let Some(window) = window.as_ref().filter(|w| w.cnt > 0) else {
                    continue;
                };
                let at = |micros: i64| micros as f64 / 1e6;
                metrics::gauge!(name, "broker" => broker.name.clone(), "quantile" => "0.99")
                    .set(at(window.p99));
                metrics::gauge!(name, "broker" => broker.name.clone(), "quantile" => "1").set(at(window.max));
                tracing::debug!(
                    broker = broker.name,
                    name,
                    p99_ms = window.p99 / 1000,
                    max_ms = window.max / 1000,
                    count = window.cnt,
                    "relay producer statistics"
                );
            }
        }
    }
}

/// An idempotent producer: one producer id and per-partition sequence numbers, so the broker drops a retried
/// batch it already has, and keeps one partition's messages in the order sent.
fn new_producer(config: &KafkaConfig) -> Result<FutureProducer, KafkaError> {
    config
        .client()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set(
            "message.timeout.ms",
            config.message_timeout.as_millis().to_string(),
        )
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("statistics.interval.ms", "1000")
        .create_with_context(RelayStats)
        .map_err(|source| config.client_error(source))
}

/// What this relay is doing.
enum Role {
    /// Another relay holds the lock (or PostgreSQL could not be asked): ask again later. `rival` says whether
    /// another relay was seen holding the lock since this one last led.
    Standby { rival: bool },
    /// This relay holds [`RELAY_LOCK`] on `lock`, a connection outside the pool that every claim and
    /// `DELETE` runs on.
    Leader { lock: PgConnection, tails: Tails },
}

/// Whether the leader may send: only once the topics' tails were read since it took the lock and since its
/// last round that deleted nothing.
enum Tails {
    /// The tails are to be read, not before `from` (a rival's last round may still be on its way until then).
    Unsettled {
        from: Instant,
    },
    Settled,
}

impl Tails {
    fn unsettled_now() -> Self {
        Self::Unsettled { from: Instant::now() }
    }
}

async fn run(
    pool: PgPool,
    mut producer: FutureProducer,
    config: KafkaConfig,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let mut role = Role::Standby { rival: false };
    let mut next_gauges = Instant::now();
    while !shutdown.is_cancelled() {
        if Instant::now() >= next_gauges {
            next_gauges = Instant::now() + GAUGE_INTERVAL;
            refresh_gauges(&pool).await;
        }
        let pause;
        (role, pause) = match role {
            Role::Standby { rival } => take_lead(&pool, &config, &shared, rival).await,
            Role::Leader {
                lock,
                tails: Tails::Unsettled { from },
            } => settle(lock, from, &config, &shared).await,
            Role::Leader {
                lock,
                tails: Tails::Settled,
            } => send(lock, &mut producer, &config, &shared).await,
        };
        if !pause.is_zero() {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
    if let Role::Leader { lock, .. } = role
        && let Err(e) = lock.close().await
    {
        tracing::debug!(error = %e, "closing the relay's lock connection failed (the lock goes with it)");
    }
}

/// Asks for the lock; the leader starts unsettled, and after a rival's possible last round if it saw one.
async fn take_lead(pool: &PgPool, config: &KafkaConfig, shared: &Shared, rival: bool) -> (Role, Duration) {
    match try_lock(pool).await {
        Ok(Some(lock)) => {
            let from = if rival {
                Instant::now() + config.message_timeout + TAKEOVER_MARGIN
            } else {
                Instant::now()
            };
            tracing::info!(
                rival,
                "this relay now sends the outbox (after reading the topics' tails)"
            );
            let tails = Tails::Unsettled { from };
            (Role::Leader { lock, tails }, Duration::ZERO)
        }
        Ok(None) => {
            shared.set_status(ComponentStatus::Up);
            (Role::Standby { rival: true }, STANDBY_POLL)
        }
        Err(e) => {
            shared.degraded(format!("outbox relay: asking for the lock: {}", causes(&e)));
            (Role::Standby { rival }, FAILURE_BACKOFF)
        }
    }
}

/// The lock's connection, if this relay got the lock. The connection leaves the pool: a session lock must not
/// go back to the pool with it, and closing the connection is what releases it.
async fn try_lock(pool: &PgPool) -> Result<Option<PgConnection>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RELAY_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    Ok(locked.then(|| conn.detach()))
}

/// Reads the tails once `from` has passed; a database error gives the lock up (the connection may be gone,
/// and with it the lock).
async fn settle(
    mut lock: PgConnection,
    from: Instant,
    config: &KafkaConfig,
    shared: &Shared,
) -> (Role, Duration) {
    let wait = from.saturating_duration_since(Instant::now());
    if !wait.is_zero() {
        // In steps, so the gauges stay fresh while the relay waits.
        let tails = Tails::Unsettled { from };
        return (Role::Leader { lock, tails }, wait.min(GAUGE_INTERVAL));
    }
    match settle_tails(&mut lock, config).await {
        Ok(found) => {
            // The broker answered: a relay that drained the outbox by settling alone is not degraded.
            shared.set_status(ComponentStatus::Up);
            if found > 0 {
                tracing::info!(found, "outbox rows already in the topics deleted, not sent again");
                shared.found_in_topics.fetch_add(found, Ordering::Relaxed);
                shared.delivered.fetch_add(found, Ordering::Relaxed);
                metrics::counter!("auren_relay_found_in_topics_total").increment(found);
            }
            let tails = Tails::Settled;
            (Role::Leader { lock, tails }, Duration::ZERO)
        }
        Err(e @ TailError::Database(_)) => {
            shared.degraded(format!("outbox relay: {}", causes(&e)));
            (Role::Standby { rival: false }, FAILURE_BACKOFF)
        }
        Err(e) => {
            shared.degraded(format!(
                "outbox relay: {}; rows stay queued until the tails of the topics on {} can be read",
                causes(&e),
                config.brokers
            ));
            let tails = Tails::unsettled_now();
            (Role::Leader { lock, tails }, FAILURE_BACKOFF)
        }
    }
}

/// One round; a round that deleted nothing leaves the leader unsettled with a fresh producer.
async fn send(
    mut lock: PgConnection,
    producer: &mut FutureProducer,
    config: &KafkaConfig,
    shared: &Shared,
) -> (Role, Duration) {
    match round(&mut lock, producer, config).await {
        Ok(Round::Empty) => {
            shared.set_status(ComponentStatus::Up);
            let tails = Tails::Settled;
            (Role::Leader { lock, tails }, IDLE_POLL)
        }
        Ok(Round::Delivered(rows)) => {
            shared.set_status(ComponentStatus::Up);
            shared.delivered.fetch_add(rows, Ordering::Relaxed);
            let tails = Tails::Settled;
            (Role::Leader { lock, tails }, Duration::ZERO)
        }
        Ok(Round::Unsure { failed }) => {
            shared.degraded(format!(
                "{failed} outbox rows not delivered to {}; they stay queued",
                config.brokers
            ));
            replace_producer(producer, config).await;
            let tails = Tails::unsettled_now();
            (Role::Leader { lock, tails }, FAILURE_BACKOFF)
        }
        Err(e) => {
            shared.degraded(format!("outbox relay: {}", causes(&e)));
            (Role::Standby { rival: false }, FAILURE_BACKOFF)
        }
    }
}

/// A producer whose messages timed out can be left fenced or out of sequence with the broker (measured:
/// after a broker restart it never delivered again), so the next round gets a fresh one. The old one is
/// destroyed (its queue purged, its connections closed) before the tails are read, so nothing of it is still
/// on its way from this process.
async fn replace_producer(producer: &mut FutureProducer, config: &KafkaConfig) {
    if let Some((code, why)) = producer.client().fatal_error() {
        tracing::warn!(?code, why, "the producer hit a fatal error");
    }
    match new_producer(config) {
        Ok(fresh) => {
            let old = std::mem::replace(producer, fresh);
            // Dropping a producer blocks (a purge, a flush of up to 0.5 s, the client's threads joined).
            if let Err(e) = tokio::task::spawn_blocking(move || drop(old)).await {
                tracing::warn!(error = %e, "dropping the old producer failed");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot make a new producer; keeping the old one"),
    }
}

/// How a round ended.
enum Round {
    /// The outbox was empty.
    Empty,
    /// Every row claimed was acknowledged and deleted.
    Delivered(u64),
    /// `failed` rows got an error or a timeout: nothing was deleted, and the tails must be read before the
    /// next send.
    Unsure { failed: u64 },
}

/// Claims a batch, produces it and, if every row was acknowledged, deletes it; all in one transaction on the
/// lock's connection.
async fn round(
    lock: &mut PgConnection,
    producer: &FutureProducer,
    config: &KafkaConfig,
) -> Result<Round, sqlx::Error> {
    let started = Instant::now();
    let mut tx = lock.begin().await?;
    let rows: Vec<OutboxRow> = sqlx::query(
        "SELECT id, topic, key, payload, \
                (extract(epoch FROM created_at) * 1000)::float8 AS created_at_ms \
         FROM server_outbox ORDER BY id LIMIT $1 FOR UPDATE",
    )
    .bind(BATCH_ROWS)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| OutboxRow {
        id: row.get("id"),
        topic: row.get("topic"),
        key: row.get("key"),
        payload: row.get("payload"),
        created_at_ms: row.get("created_at_ms"),
    })
    .collect();
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(Round::Empty);
    }
    let claimed = started.elapsed();
    let delivered = produce(producer, config, &rows).await;
    let acknowledged = started.elapsed();
    let failed = (rows.len() - delivered.len()) as u64;
    if failed > 0 {
        tx.rollback().await?;
        metrics::counter!("auren_relay_failed_total").increment(failed);
        return Ok(Round::Unsure { failed });
    }
    sqlx::query("DELETE FROM server_outbox WHERE id = ANY($1)")
        .bind(&delivered)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // A row's lag is its wait for a round plus its round: how long rounds take, and how full they are, is
    // what `cargo xtask bench server` reports beside the lag.
    let took = started.elapsed();
    metrics::histogram!("auren_relay_round_seconds").record(took.as_secs_f64());
    if took >= SLOW_ROUND {
        tracing::debug!(
            rows = rows.len(),
            took_ms = took.as_millis(),
            claim_ms = claimed.as_millis(),
            broker_ms = (acknowledged - claimed).as_millis(),
            delete_ms = (took - acknowledged).as_millis(),
            "a slow relay round"
        );
    }
    metrics::histogram!("auren_relay_round_rows").record(rows.len() as f64);
    // Every row claimed was delivered. Counted per topic, so a reader can compare what reached a topic with
    // what its consumers took (the server bench waits until its CEP consumer has taken every beats message).
    for (topic, count) in count_by_topic(&rows) {
        metrics::counter!("auren_relay_delivered_total", "topic" => topic.to_owned()).increment(count);
    }
    Ok(Round::Delivered(delivered.len() as u64))
}

/// How many of `rows` go to each topic.
fn count_by_topic(rows: &[OutboxRow]) -> std::collections::BTreeMap<&str, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for row in rows {
        *counts.entry(row.topic.as_str()).or_insert(0) += 1;
    }
    counts
}

/// Why the topics' tails could not be read and settled.
#[derive(Debug, thiserror::Error)]
enum TailError {
    #[error("reading the topics' tails")]
    Kafka(#[from] ClientError),
    #[error("topic {topic} is unreadable: {code}")]
    Topic { topic: String, code: RDKafkaErrorCode },
    #[error(
        "reading the topics' tails stalled: nothing arrived for {limit:?} ({partitions} partitions left)"
    )]
    Stalled { limit: Duration, partitions: usize },
    #[error("the outbox query failed")]
    Database(#[from] sqlx::Error),
    #[error("the tail reader task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// Reads the tail of every partition of the topics the outbox has rows for (the last
/// `min(BATCH_ROWS, rows of that topic)` messages) and deletes the rows whose ids are there; returns how many
/// it deleted.
async fn settle_tails(lock: &mut PgConnection, config: &KafkaConfig) -> Result<u64, TailError> {
    let windows: Vec<(String, i64)> =
        sqlx::query_as("SELECT topic, least(count(*), $1)::bigint FROM server_outbox GROUP BY topic")
            .bind(BATCH_ROWS)
            .fetch_all(&mut *lock)
            .await?;
    if windows.is_empty() {
        return Ok(0);
    }
    let reader_config = config.clone();
    let started = Instant::now();
    let in_tails =
        tokio::task::spawn_blocking(move || outbox_ids_in_tails(&reader_config, &windows)).await??;
    // What a settling costs the outbox's lag: `cargo xtask bench server` reports it beside the lag.
    metrics::histogram!("auren_relay_tail_read_seconds").record(started.elapsed().as_secs_f64());
    // Most ids in a tail are of rows deleted long ago: look the queued ones up first, so that a settling
    // with nothing to delete takes no write lock.
    let queued: Vec<i64> = sqlx::query_scalar("SELECT id FROM server_outbox WHERE id = ANY($1)")
        .bind(&in_tails)
        .fetch_all(&mut *lock)
        .await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let deleted = sqlx::query("DELETE FROM server_outbox WHERE id = ANY($1)")
        .bind(&queued)
        .execute(&mut *lock)
        .await?
        .rows_affected();
    Ok(deleted)
}

/// The outbox ids carried by the last `window` messages of every partition of each topic (blocking
/// librdkafka calls: run on the blocking pool). A topic the broker does not know holds nothing.
fn outbox_ids_in_tails(config: &KafkaConfig, windows: &[(String, i64)]) -> Result<Vec<i64>, TailError> {
    let consumer: BaseConsumer = config
        .client()
        .set("group.id", TAIL_READER_GROUP)
        .set("fetch.wait.max.ms", TAIL_FETCH_WAIT_MS)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()?;
    let timeout = config.message_timeout;
    let mut assignment = TopicPartitionList::new();
    // Per partition: the high watermark when its tail was planned (the offset after its last message).
    let mut ends: HashMap<Place, i64> = HashMap::new();
    for (topic, window) in windows {
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else {
            continue;
        };
        match found.error().map(RDKafkaErrorCode::from) {
            None => {}
            Some(RDKafkaErrorCode::UnknownTopicOrPartition) => continue,
            Some(code) => {
                let topic = topic.clone();
                return Err(TailError::Topic { topic, code });
            }
        }
        for partition in found.partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
            let start = low.max(high - window);
            if start < high {
                assignment.add_partition_offset(topic, partition.id(), Offset::Offset(start))?;
                ends.insert((topic.clone(), partition.id()), high);
            }
        }
    }
    if ends.is_empty() {
        return Ok(Vec::new());
    }
    consumer.assign(&assignment)?;
    read_until_ends(&mut PolledTails(&consumer), ends, TAIL_STALL_LIMIT, Instant::now)
}

/// A partition of a topic.
type Place = (String, i32);

/// What one poll of the tail reader gave.
#[derive(Debug)]
enum TailEvent {
    /// Nothing within the poll's wait.
    Quiet,
    /// The message at `offset` of `place`, and the outbox id it carries if it carries one.
    Message {
        place: Place,
        offset: i64,
        outbox_id: Option<i64>,
    },
    /// Some partition reached its end; `positions` are where the reading of each assigned partition stands.
    End { positions: Vec<(Place, i64)> },
}

/// Where the tail reader's events come from: the broker ([`PolledTails`]), or a script in the tests.
trait TailSource {
    fn next_event(&mut self) -> Result<TailEvent, TailError>;
}

/// The assigned partitions of a consumer, polled 200 ms at a time.
struct PolledTails<'a>(&'a BaseConsumer);

impl TailSource for PolledTails<'_> {
    fn next_event(&mut self) -> Result<TailEvent, TailError> {
        match self.0.poll(Duration::from_millis(200)) {
            None => Ok(TailEvent::Quiet),
            Some(Ok(message)) => Ok(TailEvent::Message {
                place: (message.topic().to_owned(), message.partition()),
                offset: message.offset(),
                outbox_id: outbox_id(&message),
            }),
            Some(Err(ClientError::PartitionEOF(_))) => {
                let positions = self
                    .0
                    .position()?
                    .elements()
                    .iter()
                    .filter_map(|element| match element.offset() {
                        Offset::Offset(at) => Some(((element.topic().to_owned(), element.partition()), at)),
                        _ => None,
                    })
                    .collect();
                Ok(TailEvent::End { positions })
            }
            Some(Err(e)) => Err(e.into()),
        }
    }
}

/// Reads `source` until every partition of `ends` reached its end (the offset after its last message when
/// the tail was planned); returns the outbox ids read. Fails when `stall_limit` passes on `now`'s clock with
/// no message and no partition's end: a slow reading that keeps moving is waited for, however long it takes.
fn read_until_ends(
    source: &mut impl TailSource,
    mut ends: HashMap<Place, i64>,
    stall_limit: Duration,
    now: impl Fn() -> Instant,
) -> Result<Vec<i64>, TailError> {
    let mut last_progress = now();
    let mut ids = Vec::new();
    while !ends.is_empty() {
        if now().duration_since(last_progress) >= stall_limit {
            let partitions = ends.len();
            return Err(TailError::Stalled {
                limit: stall_limit,
                partitions,
            });
        }
        match source.next_event()? {
            TailEvent::Quiet => {}
            TailEvent::Message {
                place,
                offset,
                outbox_id,
            } => {
                last_progress = now();
                let Some(&end) = ends.get(&place) else { continue };
                if offset < end
                    && let Some(id) = outbox_id
                {
                    ids.push(id);
                }
                if offset >= end - 1 {
                    ends.remove(&place);
                }
            }
            // The end of some partition: those whose position reached their end are done (offsets need not
            // be contiguous, so the last offset before the end may never come).
            TailEvent::End { positions } => {
                last_progress = now();
                for (place, at) in positions {
                    if ends.get(&place).is_some_and(|&end| at >= end) {
                        ends.remove(&place);
                    }
                }
            }
        }
    }
    Ok(ids)
}

/// Sends every row and returns the ids the broker acknowledged; each acknowledged row's lag (outbox insert
/// to delivery report) goes into `auren_relay_lag_seconds`.
async fn produce(producer: &FutureProducer, config: &KafkaConfig, rows: &[OutboxRow]) -> Vec<i64> {
    let sends = rows.iter().map(|row| {
        let id = row.id.to_string();
        let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
            key: OUTBOX_ID_HEADER,
            value: Some(id.as_str()),
        });
        let record = FutureRecord::to(&row.topic)
            .key(&row.key)
            .payload(&row.payload)
            .headers(headers);
        producer.send(record, config.message_timeout)
    });
    let reports = futures::future::join_all(sends).await;
    let now_ms = unix_now_ms();
    let mut delivered = Vec::with_capacity(rows.len());
    for (row, report) in rows.iter().zip(reports) {
        match report {
            Ok(_) => {
                delivered.push(row.id);
                metrics::histogram!("auren_relay_lag_seconds")
                    .record(((now_ms - row.created_at_ms) / 1000.0).max(0.0));
            }
            Err((error, _)) => {
                tracing::debug!(id = row.id, topic = row.topic, %error, "outbox row not delivered; retried next round");
            }
        }
    }
    delivered
}

async fn refresh_gauges(pool: &PgPool) {
    let gauges = sqlx::query(
        "SELECT count(*)::float8 AS depth, \
                coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age_s \
         FROM server_outbox",
    )
    .fetch_one(pool)
    .await;
    if let Ok(row) = gauges {
        metrics::gauge!("auren_outbox_depth").set(row.get::<f64, _>("depth"));
        metrics::gauge!("auren_outbox_oldest_age_seconds").set(row.get::<f64, _>("age_s"));
    }
}

fn unix_now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::{Place, TailError, TailEvent, TailSource, read_until_ends};
    use std::cell::Cell;
    use std::collections::{HashMap, VecDeque};
    use std::time::{Duration, Instant};

    /// Events after so much time on a shared made-up clock; once the script is spent, 200 ms polls that
    /// return nothing (as the broker's do).
    struct Script<'a> {
        clock: &'a Cell<Instant>,
        steps: VecDeque<(Duration, TailEvent)>,
    }

    impl TailSource for Script<'_> {
        fn next_event(&mut self) -> Result<TailEvent, TailError> {
            let (after, event) = self
                .steps
                .pop_front()
                .unwrap_or((Duration::from_millis(200), TailEvent::Quiet));
            self.clock.set(self.clock.get() + after);
            Ok(event)
        }
    }

    fn place(partition: i32) -> Place {
        ("auren.beats".to_owned(), partition)
    }

    fn message(partition: i32, offset: i64, outbox_id: Option<i64>) -> TailEvent {
        TailEvent::Message {
            place: place(partition),
            offset,
            outbox_id,
        }
    }

    const LIMIT: Duration = Duration::from_secs(30);

    /// A case: its name, the planned ends, the script, what the reading gives.
    type Case = (
        &'static str,
        Vec<(Place, i64)>,
        Vec<(Duration, TailEvent)>,
        Outcome,
    );

    /// What a reading should give: the ids read, or a stall with so many partitions left.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        Read(Vec<i64>),
        Stalled(usize),
    }

    #[test]
    fn a_reading_ends_when_every_partition_did_and_fails_only_when_it_stalls() {
        let second = Duration::from_secs(1);
        // Two partitions of 100 messages, one message a second: 200 s in all, over six times the limit.
        let slow: Vec<(Duration, TailEvent)> = (0..100)
            .flat_map(|i| {
                [
                    (second, message(0, i, Some(i))),
                    (second, message(1, i, Some(1000 + i))),
                ]
            })
            .collect();
        let slow_ids: Vec<i64> = (0..100).flat_map(|i| [i, 1000 + i]).collect();
        let cases: Vec<Case> = vec![
            (
                "a slow reading that keeps moving ends",
                vec![(place(0), 100), (place(1), 100)],
                slow,
                Outcome::Read(slow_ids),
            ),
            (
                "nothing for the limit after a message: stalled",
                vec![(place(0), 3), (place(1), 1)],
                vec![
                    (second, message(1, 0, Some(7))),
                    (LIMIT, TailEvent::Quiet),
                    (second, message(0, 0, Some(8))),
                ],
                Outcome::Stalled(1),
            ),
            (
                "quiet polls that add up to the limit: stalled",
                vec![(place(0), 1)],
                Vec::new(),
                Outcome::Stalled(1),
            ),
            (
                "a gap just under the limit is waited for",
                vec![(place(0), 2)],
                vec![
                    (LIMIT - second, message(0, 0, Some(1))),
                    (LIMIT - second, message(0, 1, Some(2))),
                ],
                Outcome::Read(vec![1, 2]),
            ),
            (
                "an end finishes a partition whose last offsets never come (not contiguous)",
                vec![(place(0), 10)],
                vec![
                    (second, message(0, 6, Some(60))),
                    (
                        second,
                        TailEvent::End {
                            positions: vec![(place(0), 10)],
                        },
                    ),
                ],
                Outcome::Read(vec![60]),
            ),
            (
                "an end below the planned end finishes nothing",
                vec![(place(0), 10)],
                vec![
                    (
                        second,
                        TailEvent::End {
                            positions: vec![(place(0), 9)],
                        },
                    ),
                    (second, message(0, 9, Some(90))),
                ],
                Outcome::Read(vec![90]),
            ),
            (
                "messages without an id, of other partitions or past the end add no id",
                vec![(place(0), 2)],
                vec![
                    (second, message(0, 0, None)),
                    (second, message(2, 0, Some(5))),
                    (second, message(0, 2, Some(6))),
                ],
                Outcome::Read(Vec::new()),
            ),
        ];
        for (name, ends, steps, expected) in cases {
            let clock = Cell::new(Instant::now());
            let mut script = Script {
                clock: &clock,
                steps: steps.into(),
            };
            let ends: HashMap<Place, i64> = ends.into_iter().collect();
            let outcome = match read_until_ends(&mut script, ends, LIMIT, || clock.get()) {
                Ok(ids) => Outcome::Read(ids),
                Err(TailError::Stalled { limit, partitions }) => {
                    assert_eq!(limit, LIMIT, "{name}");
                    Outcome::Stalled(partitions)
                }
                Err(other) => panic!("{name}: {other}"),
            };
            assert_eq!(outcome, expected, "{name}");
        }
    }
}
