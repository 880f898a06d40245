//! A private tansu broker per test (the binary `cargo xtask services up` builds and caches), with its data in
//! a temporary folder that outlives restarts, and a reader that takes every message of a topic with its key
//! and outbox id. Shared by the Kafka tests and the exactly-once test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auren_cep::RuleSet;
use auren_server::kafka::{AlertConsumer, ConsumerHandle, KafkaConfig};
use auren_server::redis::Wake;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The cached broker binary, or `None` (and a note) when the tests run without `cargo xtask`.
pub fn broker_binary() -> Option<PathBuf> {
    match std::env::var_os("AUREN_BROKER_BIN") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            assert!(
                std::env::var_os("AUREN_KAFKA_BROKERS").is_none(),
                "AUREN_KAFKA_BROKERS is set but AUREN_BROKER_BIN is not: run `cargo xtask services up`"
            );
            eprintln!("SKIPPED: no AUREN_BROKER_BIN (run through `cargo xtask test` or `services up`)");
            None
        }
    }
}

/// A private broker on a free port, its data in a temporary folder that outlives restarts.
pub struct PrivateBroker {
    binary: PathBuf,
    port: u16,
    data: tempfile::TempDir,
    child: Option<Child>,
    /// How often tansu applies its topics' deletion settings (its default, 10 minutes, when `None`).
    maintenance: Option<Duration>,
}

impl PrivateBroker {
    pub async fn start(binary: PathBuf) -> Self {
        Self::start_maintaining(binary, None).await
    }

    /// A broker that applies its topics' retention every `maintenance` (tansu's `maintenance_interval`).
    pub async fn start_maintaining(binary: PathBuf, maintenance: Option<Duration>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut broker = Self {
            binary,
            port,
            data: tempfile::tempdir().unwrap(),
            child: None,
            maintenance,
        };
        broker.restart().await;
        broker
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// (Re)starts the broker on the same port and data file; `sqlite:///` + an absolute path because tansu
    /// drops the URL path's first slash. The log is appended to, so it tells every life of the broker.
    pub async fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.path().join("broker.log"))
            .unwrap();
        let mut storage = format!("sqlite:///{}", self.data.path().join("tansu.db").display());
        if let Some(every) = self.maintenance {
            storage.push_str(&format!("?maintenance_interval={}ms", every.as_millis()));
        }
        let child = Command::new(&self.binary)
            .arg("broker")
            .args(["--listener-url", &format!("tcp://127.0.0.1:{}", self.port)])
            .args([
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.port),
            ])
            .args(["--storage-engine", &storage])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the broker {}: {e}", self.binary.display()));
        self.child = Some(child);
        // A plain loop, not `eventually`: an async closure here would keep the restart's future from being
        // `Send` for every lifetime, which the exactly-once test's fault task needs.
        let address = self.address();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "the broker did not listen on {address}: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Gives `topic` `count` partitions, what tansu 0.6 cannot do over the protocol (it serves no
    /// CreatePartitions): with the broker stopped, its SQLite store gets the rows its CreateTopics writes for
    /// each partition (a `topition` and its `watermark`) and the topic's count, then the broker starts again.
    /// Its Metadata answers read the count from the store, so clients then see the new partitions.
    pub async fn add_partitions(&mut self, topic: &str, count: i32) {
        use sqlx::Connection;
        self.stop();
        let path = self.data.path().join("tansu.db");
        let mut store = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let has: i32 = sqlx::query_scalar("SELECT partitions FROM topic WHERE name = $1")
            .bind(topic)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        for partition in has..count {
            sqlx::query("INSERT INTO topition (topic, partition) SELECT id, $2 FROM topic WHERE name = $1")
                .bind(topic)
                .bind(partition)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO watermark (topition) SELECT tp.id FROM topition tp \
                 JOIN topic t ON tp.topic = t.id WHERE t.name = $1 AND tp.partition = $2",
            )
            .bind(topic)
            .bind(partition)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE topic SET partitions = $2 WHERE name = $1")
            .bind(topic)
            .bind(count)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store.close().await.unwrap();
        self.restart().await;
    }

    /// SIGKILLs the broker (std's kill): no clean shutdown, what it had not written is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("broker.log")).unwrap_or_default()
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `done` until it holds or `limit` passes (waiting on outside processes, not on our own tasks).
pub async fn eventually(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A CEP consumer started on `config`, and whether within `limit` it fed at least `chunks` chunks and
/// closed every session it opened.
pub async fn consume_all(
    pool: &PgPool,
    config: &KafkaConfig,
    (rules, wake): (&RuleSet, &Wake),
    shutdown: &CancellationToken,
    chunks: usize,
    limit: Duration,
) -> (ConsumerHandle, bool) {
    let consumer = AlertConsumer::spawn(
        pool.clone(),
        config,
        rules.clone(),
        wake.clone(),
        shutdown.clone(),
    )
    .unwrap();
    let done = eventually(limit, async || {
        consumer.chunks() as usize >= chunks && consumer.open_sessions() == 0
    })
    .await;
    (consumer, done)
}

/// Commits, for consumer group `group`, the end of every partition of `topic`: what the Kafka consumer group
/// of a server before migration 0012 left on the broker once it had read everything. Blocking librdkafka
/// calls: run it on the blocking pool.
pub fn commit_topic_end(brokers: &str, topic: &str, group: &str) {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("broker.address.family", "v4")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(20);
    let metadata = consumer.fetch_metadata(Some(topic), timeout).unwrap();
    let mut ends = TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        let (_, end) = consumer.fetch_watermarks(topic, partition.id(), timeout).unwrap();
        ends.add_partition_offset(topic, partition.id(), Offset::Offset(end))
            .unwrap();
    }
    consumer.commit(&ends, CommitMode::Sync).unwrap();
}

/// `config` in a consumer group of its own: a replay of the whole topic.
pub fn replay_group(config: &KafkaConfig) -> KafkaConfig {
    let mut replay = config.clone();
    replay.consumer_group = format!("replay-{}", Uuid::new_v4());
    replay
}

/// One message as a topic holds it.
#[derive(Clone, Debug)]
pub struct TopicMessage {
    /// The partition it was read from (none for an outbox row not relayed yet).
    pub partition: Option<i32>,
    pub key: Option<String>,
    pub payload: Vec<u8>,
    /// The `server_outbox` id the relay sent it from (`auren-outbox-id`), if it carries one.
    pub outbox_id: Option<i64>,
}

/// Every message of `topic` from the start, read by a fresh group until `expected` arrived or 20 s of quiet.
pub async fn read_topic(brokers: &str, topic: &str, expected: usize) -> Vec<Vec<u8>> {
    use rdkafka::consumer::StreamConsumer;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("broker.address.family", "v4")
        .set("group.id", format!("check-{}", Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    while out.len() < expected {
        match tokio::time::timeout(Duration::from_secs(20), consumer.recv()).await {
            Ok(Ok(message)) => out.push(message.payload().unwrap_or_default().to_vec()),
            Ok(Err(e)) => panic!("reading {topic}: {e}"),
            Err(_) => break,
        }
    }
    out
}

/// Every message `topic` holds: each partition read from its first offset up to the high watermark taken at
/// the start (so the count is exact, duplicates included, with no wait for "quiet"). Blocking librdkafka
/// calls: run it on the blocking pool.
pub fn read_whole_topic(brokers: &str, topic: &str) -> Vec<TopicMessage> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("broker.address.family", "v4")
        .set("group.id", format!("check-{}", Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(20);
    let metadata = consumer.fetch_metadata(Some(topic), timeout).unwrap();
    let partitions: Vec<i32> = metadata.topics()[0].partitions().iter().map(|p| p.id()).collect();
    assert!(!partitions.is_empty(), "{topic} has partitions");
    let mut assignment = TopicPartitionList::new();
    let mut remaining = 0;
    let mut high = std::collections::HashMap::new();
    for &p in &partitions {
        let (low, end) = consumer.fetch_watermarks(topic, p, timeout).unwrap();
        high.insert(p, end);
        remaining += usize::from(end > low);
        assignment
            .add_partition_offset(topic, p, Offset::Offset(low))
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while remaining > 0 {
        assert!(Instant::now() < deadline, "reading {topic} took too long");
        let Some(received) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = received.unwrap_or_else(|e| panic!("reading {topic}: {e}"));
        let end = high[&message.partition()];
        if message.offset() >= end {
            continue;
        }
        out.push(TopicMessage {
            partition: Some(message.partition()),
            key: message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: message.payload().unwrap_or_default().to_vec(),
            outbox_id: auren_server::kafka::outbox_id(&message),
        });
        if message.offset() == end - 1 {
            remaining -= 1;
        }
    }
    out
}
