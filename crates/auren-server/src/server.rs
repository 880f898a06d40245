//! Starting the server: connect and migrate PostgreSQL, make the token key, create beat partitions ahead,
//! reach Redis and the broker if configured (creating the topics, starting the relay and the alert
//! consumer), then serve until the shutdown token fires. Background upkeep (partitions daily, outbox and
//! DEFAULT-partition gauges) runs beside it.

use crate::ComponentStatus;
use crate::app::{AppState, ChangeTypes, Quotas, ReadinessProbe, SharedState, router, system_now_ms};
use crate::auth::password::{HashCost, PasswordHashing};
use crate::auth::revocation::Revocations;
use crate::auth::tokens::AccessTokens;
use crate::db::{self, PoolSizes};
use crate::error::ServerError;
use crate::kafka::{self, AlertConsumer, ConsumerHandle, KafkaConfig, RelayHandle};
use crate::redis::{Limiter, RedisLink, TrendCache, Wake};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How often the partition upkeep runs (partitions are made months ahead, so daily is plenty).
const PARTITION_UPKEEP: Duration = Duration::from_secs(24 * 3600);
/// How often the database gauges are sampled.
const GAUGE_INTERVAL: Duration = Duration::from_secs(10);
/// How long a cached trend lives in Redis. Entries are keyed by the user's version, so this only bounds
/// the memory of versions nobody asks for any more.
const TREND_CACHE_TTL: Duration = Duration::from_secs(15 * 60);

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The owner role's URL (`AUREN_DATABASE_URL`): migrations, partitions, the relay.
    pub database_url: String,
    /// A login of the `auren_app` role; without it the owner's connections `SET ROLE auren_app`.
    pub app_database_url: Option<String>,
    /// `AUREN_REDIS_URL`; without it limits and wake-ups stay in this process.
    pub redis_url: Option<String>,
    /// `AUREN_KAFKA_BROKERS`; without it the outbox only grows (nothing relays it).
    pub kafka_brokers: Option<String>,
    /// `AUREN_KAFKA_RETENTION_HOURS`: how long topics the server creates keep a message.
    pub kafka_retention: Duration,
    /// `AUREN_KAFKA_PARTITIONS`: the partitions of the topics (how many server processes can read
    /// `auren.beats` at once); a topic that exists with fewer is grown at start where the broker can.
    pub kafka_partitions: i32,
    /// `AUREN_LISTEN`, e.g. `127.0.0.1:8080` (port 0 picks a free one).
    pub listen: SocketAddr,
    pub access_token_lifetime: Duration,
    pub hash_cost: HashCost,
    /// Password hashes computed at once (each takes ~19 MiB).
    pub hash_permits: usize,
    pub pools: PoolSizes,
    /// The change types pushes may carry (an older server's set only in tests of devices against one).
    pub change_types: ChangeTypes,
    /// Requests taken before `rate_limited` (tighter only in tests of a device that meets the limit).
    pub quotas: Quotas,
}

impl ServerConfig {
    /// Production defaults for `database_url`, listening on `listen`.
    pub fn new(database_url: impl Into<String>, listen: SocketAddr) -> Self {
        Self {
            database_url: database_url.into(),
            app_database_url: None,
            redis_url: None,
            kafka_brokers: None,
            kafka_retention: KafkaConfig::DEFAULT_RETENTION,
            kafka_partitions: KafkaConfig::DEFAULT_PARTITIONS,
            listen,
            access_token_lifetime: Duration::from_secs(15 * 60),
            hash_cost: HashCost::Production,
            hash_permits: 2,
            pools: PoolSizes::default(),
            change_types: ChangeTypes::Current,
            quotas: Quotas::default(),
        }
    }
}

/// The process-wide Prometheus recorder (metrics' recorder is global: one per process).
fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; this handle then renders nothing.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

impl ReadinessProbe for RelayHandle {
    fn name(&self) -> &'static str {
        "kafka_relay"
    }
    fn status(&self) -> ComponentStatus {
        RelayHandle::status(self)
    }
}

impl ReadinessProbe for ConsumerHandle {
    fn name(&self) -> &'static str {
        "kafka_alert_consumer"
    }
    fn status(&self) -> ComponentStatus {
        ConsumerHandle::status(self)
    }
}

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    state: SharedState,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Prepares everything and binds the listener; background tasks stop with `shutdown`.
    pub async fn start(config: ServerConfig, shutdown: CancellationToken) -> Result<Self, ServerError> {
        let pools = db::connect(
            &config.database_url,
            config.app_database_url.as_deref(),
            config.pools,
        )
        .await?;
        let key = db::token_key(&pools.owner).await?;
        let tokens =
            AccessTokens::new(&key, config.access_token_lifetime).map_err(|_| ServerError::TokenKey)?;
        let passwords = PasswordHashing::new(config.hash_permits, config.hash_cost)
            .map_err(|e| ServerError::Config(e.to_string()))?;
        let layout = db::beat_layout(&pools.owner)
            .await
            .map_err(|e| ServerError::Setup("reading how beat chunks are stored", e))?;
        tracing::info!(?layout, "beat chunks' layout");
        db::ensure_partitions_around(&pools.owner, system_now_ms())
            .await
            .map_err(|e| ServerError::Setup("creating beat partitions", e))?;
        let redis = match &config.redis_url {
            Some(url) => Some(RedisLink::new(url).map_err(|e| ServerError::Config(e.to_string()))?),
            None => None,
        };
        let wake = Wake::start(redis.clone(), shutdown.clone());
        let mut readiness: Vec<Box<dyn ReadinessProbe>> = Vec::new();
        if let Some(brokers) = &config.kafka_brokers {
            let mut kafka = KafkaConfig::new(brokers.clone());
            kafka.retention = config.kafka_retention;
            kafka.partitions = config.kafka_partitions;
            readiness.extend(start_kafka(&pools.owner, kafka, &wake, shutdown.clone()).await?);
        }
        let revocations = Revocations::start(redis.clone(), shutdown.clone());
        let erasures = crate::push::ErasureSweep::start(&pools.owner, shutdown.clone());
        let state = Arc::new(AppState {
            wake,
            erasures,
            pulls: crate::pull::PullFlights::default(),
            trends: TrendCache::new(redis.clone(), TREND_CACHE_TTL),
            limiter: Limiter::new(redis),
            change_types: config.change_types,
            pools,
            tokens,
            revocations,
            passwords,
            sync_quota: config.quotas.sync,
            login_quota: config.quotas.login,
            metrics: prometheus(),
            partitions: Mutex::new(HashSet::new()),
            readiness,
            clock: system_now_ms,
        });
        spawn_upkeep(state.clone(), shutdown);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServerError::Listen(config.listen.to_string(), e))?;
        Ok(Self { listener, state })
    }

    /// The bound address (the real port when the configured one was 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Serve)
    }

    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Serves until `shutdown`, then lets requests in flight finish.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), ServerError> {
        let app = router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .map_err(ServerError::Serve)
    }
}

/// Creates the topics and starts the relay and the alert consumer.
async fn start_kafka(
    owner: &sqlx::PgPool,
    config: KafkaConfig,
    wake: &Wake,
    shutdown: CancellationToken,
) -> Result<Vec<Box<dyn ReadinessProbe>>, ServerError> {
    if let Err(error) = kafka::ensure_topics(&config).await {
        // The broker may come later: the relay retries, the outbox grows meanwhile.
        tracing::warn!(%error, "could not create the topics now; the relay will keep trying");
    }
    let rules =
        auren_cep::compile(auren_cep::DEFAULT_RULES).map_err(|e| ServerError::Config(e.to_string()))?;
    let relay = kafka::Relay::spawn(owner.clone(), config.clone(), shutdown.clone())
        .map_err(|e| ServerError::Config(e.to_string()))?;
    let consumer = AlertConsumer::spawn(owner.clone(), &config, rules, wake.clone(), shutdown)
        .map_err(|e| ServerError::Config(e.to_string()))?;
    Ok(vec![Box::new(relay), Box::new(consumer)])
}

/// Partitions daily, gauges every few seconds, until `shutdown`.
fn spawn_upkeep(state: SharedState, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut partitions = tokio::time::interval(PARTITION_UPKEEP);
        let mut gauges = tokio::time::interval(GAUGE_INTERVAL);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = partitions.tick() => {
                    if let Err(error) = db::ensure_partitions_around(&state.pools.owner, system_now_ms()).await {
                        tracing::error!(%error, "creating beat partitions ahead failed");
                    }
                }
                _ = gauges.tick() => {
                    if let Err(error) = crate::health::sample_database_gauges(&state.pools.owner).await {
                        tracing::warn!(%error, "sampling database gauges failed");
                    }
                }
            }
        }
    });
}
