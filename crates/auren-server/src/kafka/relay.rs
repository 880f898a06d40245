//! The outbox relay: moves `server_outbox` rows (written in the push transaction, so a row exists exactly
//! when its data committed) to Kafka.
//!
//! Each round claims the oldest rows with `FOR UPDATE SKIP LOCKED`, produces them with an idempotent
//! producer keyed by user, waits for every delivery report and deletes, in the same transaction, only the
//! rows the broker acknowledged. A row whose report is an error or a timeout stays and goes again next round
//! (a timeout may still have been written: the consumers dedupe by key). Never "the highest id seen": ids
//! commit out of order, and a row that commits late below that mark would be skipped for ever.
//!
//! Delivery to the topics is at least once, not exactly once: a relay SIGKILLed after the broker accepted a
//! batch but before its `DELETE` committed leaves the rows in the outbox, and the next relay sends them again
//! under a new producer id (the idempotent producer only drops retries within one producer session; Kafka
//! transactions would not help either, since the broker's commit and PostgreSQL's are still two commits).
//! So every message carries its row's id in the [`OUTBOX_ID_HEADER`] header: the same id twice is the same
//! row, and consumers keep the first ([`super::outbox_id`]).
//!
//! One relay works at a time across server processes (a transaction-scoped advisory lock): rows of one user
//! then reach their partition in id order, which the CEP consumer relies on. The others wait and take over
//! when it stops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use sqlx::{PgPool, Row};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ComponentStatus;

use super::{KafkaConfig, KafkaError, OUTBOX_ID_HEADER};

/// Rows claimed per round.
pub const BATCH_ROWS: i64 = 2_000;
/// The advisory lock key that makes one relay active at a time (`auren` in ASCII).
const RELAY_LOCK: i64 = 0x0061_7572_656e;
/// Pause when the outbox is empty (a push's rows leave within this much).
const IDLE_POLL: Duration = Duration::from_millis(20);
/// Pause after a round that could not deliver (the broker is away).
const FAILURE_BACKOFF: Duration = Duration::from_millis(500);
/// How often the outbox depth and age gauges are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);

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

    /// Rows delivered and deleted since start.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
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
        });
        let task = tokio::spawn(run(pool, producer, config, Arc::clone(&shared), shutdown));
        Ok(RelayHandle { task, shared })
    }
}

/// An idempotent producer: one producer id and per-partition sequence numbers, so the broker drops a retried
/// batch it already has.
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
        .create()
        .map_err(|source| KafkaError::Client {
            brokers: config.brokers.clone(),
            source,
        })
}

async fn run(
    pool: PgPool,
    mut producer: FutureProducer,
    config: KafkaConfig,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let mut next_gauges = Instant::now();
    while !shutdown.is_cancelled() {
        if Instant::now() >= next_gauges {
            next_gauges = Instant::now() + GAUGE_INTERVAL;
            refresh_gauges(&pool).await;
        }
        let pause = match round(&pool, &producer, &config).await {
            Ok(Round { delivered, failed }) => {
                shared.delivered.fetch_add(delivered, Ordering::Relaxed);
                set_status(&shared, failed, &config);
                if failed > 0 {
                    // A producer whose messages timed out can be left fenced or out of sequence with the
                    // broker (measured: after a broker restart it never delivered again), so the next round
                    // starts with a fresh one. Nothing is in flight between rounds.
                    if let Some((code, why)) = producer.client().fatal_error() {
                        tracing::warn!(?code, why, "the producer hit a fatal error");
                    }
                    match new_producer(&config) {
                        Ok(fresh) => producer = fresh,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot make a new producer; keeping the old one")
                        }
                    }
                }
                match (delivered, failed) {
                    (_, f) if f > 0 => FAILURE_BACKOFF,
                    (0, _) => IDLE_POLL,
                    _ => Duration::ZERO,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay round failed");
                if let Ok(mut status) = shared.status.lock() {
                    *status = ComponentStatus::Degraded {
                        reason: format!("outbox relay: {e}"),
                    };
                }
                FAILURE_BACKOFF
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

fn set_status(shared: &Shared, failed: u64, config: &KafkaConfig) {
    if let Ok(mut status) = shared.status.lock() {
        *status = if failed == 0 {
            ComponentStatus::Up
        } else {
            ComponentStatus::Degraded {
                reason: format!(
                    "{failed} outbox rows not delivered to {}; they stay queued",
                    config.brokers
                ),
            }
        };
    }
}

struct Round {
    delivered: u64,
    failed: u64,
}

/// Claims a batch, produces it, deletes what was acknowledged; all in one transaction.
async fn round(pool: &PgPool, producer: &FutureProducer, config: &KafkaConfig) -> Result<Round, KafkaError> {
    let mut tx = pool.begin().await.map_err(KafkaError::Database)?;
    let leader: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(RELAY_LOCK)
        .fetch_one(&mut *tx)
        .await
        .map_err(KafkaError::Database)?;
    if !leader {
        return Ok(Round {
            delivered: 0,
            failed: 0,
        });
    }
    let rows: Vec<OutboxRow> = sqlx::query(
        "SELECT id, topic, key, payload, \
                (extract(epoch FROM created_at) * 1000)::float8 AS created_at_ms \
         FROM server_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(BATCH_ROWS)
    .fetch_all(&mut *tx)
    .await
    .map_err(KafkaError::Database)?
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
        tx.commit().await.map_err(KafkaError::Database)?;
        return Ok(Round {
            delivered: 0,
            failed: 0,
        });
    }
    let delivered = produce(producer, config, &rows).await;
    let failed = (rows.len() - delivered.len()) as u64;
    if !delivered.is_empty() {
        sqlx::query("DELETE FROM server_outbox WHERE id = ANY($1)")
            .bind(&delivered)
            .execute(&mut *tx)
            .await
            .map_err(KafkaError::Database)?;
    }
    tx.commit().await.map_err(KafkaError::Database)?;
    metrics::counter!("auren_relay_delivered_total").increment(delivered.len() as u64);
    if failed > 0 {
        metrics::counter!("auren_relay_failed_total").increment(failed);
    }
    Ok(Round {
        delivered: delivered.len() as u64,
        failed,
    })
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
