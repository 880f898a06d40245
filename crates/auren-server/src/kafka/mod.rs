//! Kafka for the server: the topics created at start ([`ensure_topics`]), the outbox relay ([`Relay`]:
//! `server_outbox` rows → an idempotent producer → deleted after the delivery report) and the server-side
//! CEP consumer ([`AlertConsumer`]: `auren.beats` → the same `auren-cep` rules the desktop runs → `alerts`).
//!
//! Brokers are addressed as `127.0.0.1:9092`, never `localhost` (which may resolve to `::1` first, where no
//! broker listens: the seed's "Kafka timed out"). A broker outage never fails a request: pushes only write
//! `server_outbox`, which grows until the broker returns and the relay drains it.
//!
//! Every message carries the id of the outbox row it came from ([`OUTBOX_ID_HEADER`]). The relay reads the
//! topics' tails by it before it sends again after a doubt, so each row reaches the topics once; the narrow
//! cases it cannot close are in `relay.rs`, and there consumers recognise a row sent twice by its id
//! ([`outbox_id`]).

mod consumer;
mod feed;
mod relay;

pub use consumer::{AlertConsumer, CONSUMER_GROUP, ConsumerHandle, PARTITION_CHECK};
pub use feed::{ChunkFed, SessionFeed, feed_beats};
pub use relay::{Relay, RelayHandle};

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{
    AdminClient, AdminOptions, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Headers, Message};

use crate::ComponentStatus;
use crate::topics::ALL_TOPICS;

/// How long a topic's metadata (its partition count) may take to read.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The message header holding the `server_outbox` id a message was sent from (decimal ASCII): the relay finds
/// the rows the topics already hold by it, and equal ids are the same row sent twice.
pub const OUTBOX_ID_HEADER: &str = "auren-outbox-id";

/// The outbox id a message carries in [`OUTBOX_ID_HEADER`], if it carries a readable one.
pub fn outbox_id(message: &impl Message) -> Option<i64> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == OUTBOX_ID_HEADER)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
}

/// Queues `messages` (topic, payload) of `user` in `server_outbox`, keyed by the user, on `conn` — inside the
/// transaction that wrote their data, so a message exists exactly when its data committed. The relay sends
/// them.
pub(crate) async fn queue_messages(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
    messages: &[(&'static str, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let (topics, payloads): (Vec<&str>, Vec<&[u8]>) =
        messages.iter().map(|(t, p)| (*t, p.as_slice())).unzip();
    sqlx::query(
        "INSERT INTO server_outbox (topic, key, payload) SELECT t, $2, p FROM UNNEST($1::text[], $3::bytea[]) AS u(t, p)",
    )
    .bind(&topics)
    .bind(user.to_string())
    .bind(&payloads)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where consumer group `group` has read `auren.beats` to: the next offset per partition, as its leader last
/// wrote them (`consumer_offsets`).
pub async fn stored_offsets<'e>(
    db: impl sqlx::PgExecutor<'e>,
    group: &str,
) -> Result<std::collections::HashMap<i32, i64>, sqlx::Error> {
    Ok(sqlx::query_as(
        "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2",
    )
    .bind(group)
    .bind(crate::topics::BEATS_TOPIC)
    .fetch_all(db)
    .await?
    .into_iter()
    .collect())
}

/// An error and its sources, for a log or status line.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// How the server reaches the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `host:port[,host:port…]` (`AUREN_KAFKA_BROKERS`).
    pub brokers: String,
    /// Partitions of each topic when the server creates it (messages are keyed by user, so a user's
    /// messages stay in order in one partition; more partitions let more server processes read
    /// `auren.beats` at once, each claiming its share).
    pub partitions: i32,
    /// How long the producer keeps trying one message before reporting it as timed out. A timed-out
    /// message may still have been written ("unknown", not "failed"): its row stays in the outbox, and the
    /// relay reads the topics' tails before it sends it again. A relay taking over from a rival also waits
    /// this long first (the rival may still be delivering its last round).
    pub message_timeout: Duration,
    /// The CEP consumer finishes a session (its last alerts, its state dropped) after no chunk of it arrived
    /// for this long.
    pub session_idle: Duration,
    /// The CEP consumer's group ([`CONSUMER_GROUP`] unless a test or a replay wants its own).
    pub consumer_group: String,
    /// How long the topics keep a message (`retention.ms`, with `cleanup.policy=delete`), set when the
    /// server creates them. The topics are a feed for the relay's tail reads and the consumers, not the
    /// record (PostgreSQL is), and a broker that keeps every message grows without end: tansu keeps
    /// everything unless a topic says otherwise (its store grew ~150 MB per `cargo xtask bench server` run).
    pub retention: Duration,
}

impl KafkaConfig {
    /// How long topics keep messages unless configured (Kafka's own default, `log.retention.hours=168`).
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
    /// Partitions of each topic the server creates unless configured (`AUREN_KAFKA_PARTITIONS`).
    pub const DEFAULT_PARTITIONS: i32 = 3;

    /// The defaults for `brokers`: 3 partitions, a 10 s message timeout, sessions idle after 5 min, messages
    /// kept for [`Self::DEFAULT_RETENTION`].
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            partitions: Self::DEFAULT_PARTITIONS,
            message_timeout: Duration::from_secs(10),
            session_idle: Duration::from_secs(300),
            consumer_group: CONSUMER_GROUP.to_owned(),
            retention: Self::DEFAULT_RETENTION,
        }
    }

    /// A client error of this broker list, naming it.
    pub(crate) fn client_error(&self, source: rdkafka::error::KafkaError) -> KafkaError {
        KafkaError::Client {
            brokers: self.brokers.clone(),
            source,
        }
    }

    /// The librdkafka settings every client of this server shares.
    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            // IPv4 first: `localhost` in a broker's advertised address must not send us to ::1.
            .set("broker.address.family", "v4")
            .set("socket.timeout.ms", "10000");
        config
    }
}

/// Why Kafka could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("cannot configure a Kafka client for {brokers}")]
    Client {
        brokers: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("creating the topics on {brokers}")]
    CreateTopics {
        brokers: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("creating topic {topic} on {brokers}: {code}")]
    CreateTopic {
        brokers: String,
        topic: String,
        code: RDKafkaErrorCode,
    },
    #[error("the outbox query failed")]
    Database(#[source] sqlx::Error),
}

/// Creates `auren.beats`, `auren.sessions` and `auren.alerts` unless they exist (the server calls it at
/// start, so nothing waits on a broker's auto-creation), deleting messages older than `config.retention`.
/// A topic that already exists keeps its settings (rdkafka has only the legacy AlterConfigs request, which
/// tansu does not serve, and it would reset every setting not named): one whose retention differs is logged.
/// One with fewer partitions than `config.partitions` (an operator raised `AUREN_KAFKA_PARTITIONS`) is grown
/// to that many, and the consumers claim the new ones within [`PARTITION_CHECK`]; what was grown or refused
/// is logged and returned. Partitions are never taken away (Kafka cannot), so a topic with more keeps them.
pub async fn ensure_topics(config: &KafkaConfig) -> Result<Vec<TopicGrowth>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = config
        .client()
        .create()
        .map_err(|source| config.client_error(source))?;
    let retention_ms = config.retention.as_millis().to_string();
    let topics: Vec<NewTopic<'_>> = ALL_TOPICS
        .iter()
        .map(|name| {
            NewTopic::new(name, config.partitions, TopicReplication::Fixed(1))
                .set("cleanup.policy", "delete")
                .set("retention.ms", &retention_ms)
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results =
        admin
            .create_topics(&topics, &options)
            .await
            .map_err(|source| KafkaError::CreateTopics {
                brokers: config.brokers.clone(),
                source,
            })?;
    let mut existing = Vec::new();
    for result in results {
        match result {
            Ok(_) => {}
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => existing.push(topic),
            Err((topic, code)) => {
                return Err(KafkaError::CreateTopic {
                    brokers: config.brokers.clone(),
                    topic,
                    code,
                });
            }
        }
    }
    warn_of_other_retention(&admin, &existing, &retention_ms, &options).await;
    Ok(grow_partitions(&admin, config, &existing, &options).await)
}

/// What [`ensure_topics`] did to a topic that existed with fewer partitions than configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicGrowth {
    /// The broker added partitions: the topic now has `to`.
    Grown { topic: String, from: i32, to: i32 },
    /// The broker refused (tansu serves no CreatePartitions): the topic keeps `has`, and an operator adds the
    /// rest on the broker.
    Refused {
        topic: String,
        has: i32,
        wanted: i32,
        code: RDKafkaErrorCode,
    },
}

/// Grows each of `existing` that has fewer partitions than `config.partitions`. Adding partitions moves some
/// users' keys to a new partition: a session open across the change may be fed in two halves, each by the
/// member holding its partition, so the log says to add them while few sessions are open.
async fn grow_partitions(
    admin: &AdminClient<DefaultClientContext>,
    config: &KafkaConfig,
    existing: &[String],
    options: &AdminOptions,
) -> Vec<TopicGrowth> {
    let counts = match partition_counts(config, existing).await {
        Ok(counts) => counts,
        Err(reason) => {
            tracing::warn!(
                reason,
                "cannot read the existing topics' partitions; none are added"
            );
            return Vec::new();
        }
    };
    let short: Vec<(String, i32)> = counts
        .into_iter()
        .filter(|(_, has)| *has < config.partitions)
        .collect();
    if short.is_empty() {
        return Vec::new();
    }
    // `config.partitions` is at least 1 (`startup` checks it).
    let wanted = usize::try_from(config.partitions).unwrap_or(1);
    let requests: Vec<NewPartitions<'_>> = short
        .iter()
        .map(|(topic, _)| NewPartitions::new(topic, wanted))
        .collect();
    let refusals: std::collections::HashMap<String, RDKafkaErrorCode> =
        match admin.create_partitions(&requests, options).await {
            Ok(results) => results.into_iter().filter_map(Result::err).collect(),
            Err(error) => {
                let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
                short.iter().map(|(topic, _)| (topic.clone(), code)).collect()
            }
        };
    short
        .into_iter()
        .map(|(topic, has)| match refusals.get(&topic) {
            None => {
                tracing::info!(
                    topic,
                    from = has,
                    to = config.partitions,
                    "partitions added; a session open across the change may be fed in two halves"
                );
                TopicGrowth::Grown {
                    topic,
                    from: has,
                    to: config.partitions,
                }
            }
            Some(&code) => {
                tracing::warn!(
                    topic,
                    has,
                    wanted = config.partitions,
                    %code,
                    "the broker did not add partitions; add them on the broker (kafka-topics.sh --alter \
                     --partitions N), best while few sessions are open, and the consumers claim them"
                );
                TopicGrowth::Refused {
                    topic,
                    has,
                    wanted: config.partitions,
                    code,
                }
            }
        })
        .collect()
}

/// The partition count of each of `topics` the broker knows (blocking librdkafka calls, run on the blocking
/// pool).
async fn partition_counts(config: &KafkaConfig, topics: &[String]) -> Result<Vec<(String, i32)>, String> {
    if topics.is_empty() {
        return Ok(Vec::new());
    }
    let client_config = config.client();
    let topics = topics.to_vec();
    let read = tokio::task::spawn_blocking(move || {
        let consumer: rdkafka::consumer::BaseConsumer = client_config.create().map_err(|e| e.to_string())?;
        let metadata = rdkafka::consumer::Consumer::fetch_metadata(&consumer, None, METADATA_TIMEOUT)
            .map_err(|e| e.to_string())?;
        Ok(topics
            .into_iter()
            .filter_map(|topic| partitions_of(&metadata, &topic).map(|count| (topic, count)))
            .collect())
    });
    read.await.map_err(|e| e.to_string())?
}

/// How many partitions `metadata` lists for `topic`; `None` where the broker does not know it.
fn partitions_of(metadata: &rdkafka::metadata::Metadata, topic: &str) -> Option<i32> {
    let found = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())?;
    i32::try_from(found.partitions().len())
        .ok()
        .filter(|&count| count > 0)
}

/// Logs each of `topics` whose deletion settings differ from the wanted ones (a best effort: a broker that
/// cannot describe its topics is only noted at debug level).
async fn warn_of_other_retention(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[String],
    retention_ms: &str,
    options: &AdminOptions,
) {
    if topics.is_empty() {
        return;
    }
    let specifiers: Vec<ResourceSpecifier<'_>> = topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let described = match admin.describe_configs(&specifiers, options).await {
        Ok(described) => described,
        Err(error) => {
            tracing::debug!(%error, "cannot describe the existing topics' settings");
            return;
        }
    };
    for (topic, resource) in topics.iter().zip(described) {
        let Ok(resource) = resource else { continue };
        let setting = |name: &str| resource.get(name).and_then(|e| e.value.clone());
        let (policy, retention) = (setting("cleanup.policy"), setting("retention.ms"));
        let deletes = policy.as_deref().is_some_and(|p| p.contains("delete"));
        if !deletes || retention.as_deref() != Some(retention_ms) {
            tracing::warn!(
                topic,
                ?policy,
                ?retention,
                wanted_retention_ms = retention_ms,
                "this topic existed before with other deletion settings and keeps them; \
                 change them on the broker (cleanup.policy=delete, retention.ms)"
            );
        }
    }
}

/// For `/readyz`: whether the broker answers a metadata request within `timeout` (blocking librdkafka call,
/// so it runs on the blocking pool).
pub async fn broker_status(config: &KafkaConfig, timeout: Duration) -> ComponentStatus {
    let client_config = config.client();
    let brokers = config.brokers.clone();
    let probe = tokio::task::spawn_blocking(move || {
        let consumer: rdkafka::consumer::BaseConsumer = client_config.create().map_err(|e| e.to_string())?;
        rdkafka::consumer::Consumer::fetch_metadata(&consumer, None, timeout)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match probe.await {
        Ok(Ok(())) => ComponentStatus::Up,
        Ok(Err(why)) => ComponentStatus::Degraded {
            reason: format!("broker {brokers}: {why}; pushes queue in the outbox"),
        },
        Err(e) => ComponentStatus::Down {
            reason: format!("broker probe failed: {e}"),
        },
    }
}
