//! The server's CEP consumer alone, end to end (`cargo xtask bench server` runs it after `server_load`): for
//! each heart in `AUREN_BENCH_HEARTS` (default `recorded,sawtooth`, see `shared/heart.rs`), a private tansu
//! broker (`AUREN_BROKER_BIN`, the binary `cargo xtask services up` caches) holds a backlog of `auren.beats`
//! messages as the relay writes them — one per push, 40 minute chunks, keyed by user, each with its outbox
//! id — and the consumer ([`AlertConsumer`], the server's own code, on a fresh PostgreSQL database from
//! `AUREN_DATABASE_URL`) works through it, in a consumer group of its own per run (`AUREN_BENCH_CONSUMER_RUNS`
//! runs per heart and group size, default 2). The group has as many members as each entry of
//! `AUREN_BENCH_CONSUMERS` (default `1,2`: one consumer alone, then two sharing the topic's 3 partitions, as two
//! server processes would — here in one process, on the same cores). Reported per run: messages and beats per
//! second from the consumers' start to the last chunk fed, the partitions each member held at the end, and the
//! offsets the group stored once its sessions closed (what a restarted server reads from).
//! `AUREN_BENCH_CONSUMER_MESSAGES` sets the backlog (default 1,200 messages: 2.9 million beats).

use std::time::{Duration, Instant};

use auren_protocol::BeatsChunk;
use auren_server::kafka::{AlertConsumer, KafkaConfig, OUTBOX_ID_HEADER, ensure_topics};
use auren_server::redis::Wake;
use auren_server::topics::{BATCH_PAYLOAD_VERSION, BEATS_TOPIC, BatchedChunk, BeatsBatch};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[path = "shared/bench_database.rs"]
mod bench_database;
#[path = "shared/broker.rs"]
mod broker;
#[path = "shared/heart.rs"]
mod heart;

use bench_database::BenchDatabase;
use broker::Broker;
use heart::Heart;

const USERS: usize = 64;
const CHUNKS_PER_MESSAGE: usize = 40;
const BEATS_PER_CHUNK: usize = 60;
/// The longest one consumer run may take before it counts as failed.
const RUN_LIMIT: Duration = Duration::from_secs(600);
/// Sessions close this long after their last chunk, so the run ends with every session closed.
const SESSION_IDLE: Duration = Duration::from_secs(2);

fn main() -> Res<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

async fn run() -> Res<()> {
    let binary = std::env::var("AUREN_BROKER_BIN").map_err(|_| "AUREN_BROKER_BIN names no broker binary")?;
    let messages: usize = env_number("AUREN_BENCH_CONSUMER_MESSAGES", 1_200)?;
    let hearts: Vec<Heart> = std::env::var("AUREN_BENCH_HEARTS")
        .unwrap_or_else(|_| "recorded,sawtooth".to_owned())
        .split(',')
        .map(Heart::named)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("AUREN_BENCH_HEARTS: {e}"))?;
    let runs: usize = env_number("AUREN_BENCH_CONSUMER_RUNS", 2)?;
    let groups: Vec<usize> = std::env::var("AUREN_BENCH_CONSUMERS")
        .unwrap_or_else(|_| "1,2".to_owned())
        .split(',')
        .map(|n| match n.trim().parse() {
            Ok(n @ 1..) => Ok(n),
            _ => Err(format!(
                "AUREN_BENCH_CONSUMERS: {n:?} is not a number of consumers from 1 up"
            )),
        })
        .collect::<Result<_, _>>()?;
    let database = BenchDatabase::create().await?;
    let outcome = async {
        for heart in hearts {
            // A broker per heart: the consumer reads all of `auren.beats`.
            let broker = Broker::start(&binary).await?;
            measure(&broker, &database, heart, messages, (&groups, runs)).await?;
        }
        Res::Ok(())
    }
    .await;
    database.drop_now().await?;
    outcome
}

async fn measure(
    broker: &Broker,
    database: &BenchDatabase,
    heart: Heart,
    messages: usize,
    (groups, runs): (&[usize], usize),
) -> Res<()> {
    let pool = sqlx::PgPool::connect(&database.url).await?;
    auren_server::db::MIGRATOR.run(&pool).await?;
    let mut users = Vec::new();
    for _ in 0..USERS {
        let user = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'not a hash')")
            .bind(user)
            .bind(format!("{}@example.invalid", user.simple()))
            .execute(&pool)
            .await?;
        users.push((user, Uuid::new_v4()));
    }
    let mut config = KafkaConfig::new(broker.address());
    config.session_idle = SESSION_IDLE;
    ensure_topics(&config).await?;
    let started = Instant::now();
    produce(&config, heart, &users, messages).await?;
    let beats = messages * CHUNKS_PER_MESSAGE * BEATS_PER_CHUNK;
    println!(
        "{} heart: a backlog of {messages} messages, {beats} beats, {USERS} users, written in {:.1?}",
        heart.name(),
        started.elapsed()
    );
    let rules = auren_cep::compile(auren_cep::DEFAULT_RULES)?;
    for (&members, run) in groups.iter().flat_map(|m| std::iter::repeat_n(m, runs).zip(1..)) {
        let mut run_config = config.clone();
        run_config.consumer_group = format!("consumer-load-{}", Uuid::new_v4().simple());
        let chunks = (messages * CHUNKS_PER_MESSAGE) as u64;
        let (fed, held) = consume(&pool, &run_config, &rules, (members, chunks)).await?;
        let committed = committed(&pool, &run_config).await?;
        println!(
            "{} heart, {members} consumer(s), run {run}: {:.0} messages/s, {:.0} beats/s ({fed:.1?} to feed \
             every chunk); partitions held {held:?}; stored offsets once the sessions closed: {committed}",
            heart.name(),
            messages as f64 / fed.as_secs_f64(),
            beats as f64 / fed.as_secs_f64(),
        );
    }
    pool.close().await;
    Ok(())
}

/// Runs `members` consumers of `config`'s group until together they fed `chunks` chunks and closed every
/// session; how long the feeding took (to the last chunk fed), and the partitions each held at the end. It stops once the group's offsets had time to be stored.
async fn consume(
    pool: &sqlx::PgPool,
    config: &KafkaConfig,
    rules: &auren_cep::RuleSet,
    (members, chunks): (usize, u64),
) -> Res<(Duration, Vec<Vec<i32>>)> {
    let shutdown = CancellationToken::new();
    let wake = Wake::start(None, shutdown.clone());
    let consumers = (0..members)
        .map(|_| {
            AlertConsumer::spawn(
                pool.clone(),
                config,
                rules.clone(),
                wake.clone(),
                shutdown.clone(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fed_so_far = || consumers.iter().map(|c| c.chunks()).sum::<u64>();
    let started = Instant::now();
    // When the count last grew: the last chunk fed, once every session has closed (a count that reached
    // `chunks` early, with chunks read again after the members split the partitions, does not end the run).
    let (mut counted, mut last_fed) = (0, Duration::ZERO);
    let mut fed_at = None;
    while started.elapsed() < RUN_LIMIT {
        let now = fed_so_far();
        if now > counted {
            (counted, last_fed) = (now, started.elapsed());
        }
        if counted >= chunks && consumers.iter().all(|c| c.open_sessions() == 0) {
            fed_at = Some(last_fed);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The members store their offsets every second once their sessions closed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = consumers.iter().map(|c| c.partitions()).collect();
    shutdown.cancel();
    let taken = fed_so_far();
    for consumer in consumers {
        consumer.join().await;
    }
    let fed = fed_at.ok_or_else(|| format!("{taken} of {chunks} chunks fed in {RUN_LIMIT:?}"))?;
    Ok((fed, held))
}

/// Writes the backlog as the relay does: one message per push, keyed by user, with its outbox id.
async fn produce(config: &KafkaConfig, heart: Heart, users: &[(Uuid, Uuid)], messages: usize) -> Res<()> {
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("broker.address.family", "v4")
        .set("enable.idempotence", "true")
        .create()?;
    let session_started_at_ms = 1_764_800_000_000;
    // Per user: where its session's next chunk starts, ms.
    let mut next_ms = vec![0.0_f64; users.len()];
    let mut sends = Vec::with_capacity(messages);
    for n in 0..messages {
        let (user, device) = users[n % users.len()];
        // The user's session so far: its earlier messages' chunks, each continuing the heart.
        let first = (n / users.len()) * CHUNKS_PER_MESSAGE;
        let chunks = (first..first + CHUNKS_PER_MESSAGE)
            .map(|c| {
                let rr_raw = heart.beats(c * BEATS_PER_CHUNK, BEATS_PER_CHUNK);
                let start_ms = next_ms[n % users.len()];
                next_ms[n % users.len()] += heart::span_ms(&rr_raw);
                BatchedChunk {
                    wall_ms: session_started_at_ms + start_ms as i64,
                    chunk: BeatsChunk {
                        session_key: "load:1".to_owned(),
                        start_ms,
                        rr_raw,
                        t_breaks: Vec::new(),
                        rr_overrides: Vec::new(),
                        artifacts: Vec::new(),
                    },
                }
            })
            .collect();
        let batch = BeatsBatch {
            v: BATCH_PAYLOAD_VERSION,
            user_id: user,
            device_id: device,
            session_key: "load:1".to_owned(),
            session_started_at_ms,
            chunks,
            live: None,
        };
        sends.push((user.to_string(), (n + 1).to_string(), serde_json::to_vec(&batch)?));
    }
    let reports = sends.iter().map(|(key, id, payload)| {
        let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
            key: OUTBOX_ID_HEADER,
            value: Some(id.as_str()),
        });
        let record = FutureRecord::to(BEATS_TOPIC)
            .key(key)
            .payload(payload)
            .headers(headers);
        producer.send(record, Duration::from_secs(60))
    });
    for report in futures::future::join_all(reports).await {
        report.map_err(|(e, _)| format!("writing the backlog: {e}"))?;
    }
    Ok(())
}

/// The group's stored offset (`consumer_offsets`, written by the partition's holder) and the high watermark
/// of each partition of `auren.beats`.
async fn committed(pool: &sqlx::PgPool, config: &KafkaConfig) -> Res<String> {
    let stored = auren_server::kafka::stored_offsets(pool, &config.consumer_group).await?;
    let reader: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("broker.address.family", "v4")
        .create()?;
    let timeout = Duration::from_secs(10);
    let metadata = reader.fetch_metadata(Some(BEATS_TOPIC), timeout)?;
    let mut shown = Vec::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        let high = reader.fetch_watermarks(BEATS_TOPIC, partition.id(), timeout)?.1;
        shown.push(match stored.get(&partition.id()) {
            Some(at) => format!("p{} {at} of {high}", partition.id()),
            None => format!("p{} none of {high}", partition.id()),
        });
    }
    Ok(shown.join(", "))
}

fn env_number(name: &str, default: usize) -> Res<usize> {
    match std::env::var(name) {
        Ok(text) => Ok(text.parse().map_err(|e| format!("{name}={text:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}
