//! The Kafka parts: the server's CEP feed against the desktop's own pipeline (no broker needed), then on a
//! real broker (a private tansu per test, from the binary `cargo xtask services up` caches, with its data
//! in a temporary folder) and a fresh PostgreSQL database: the outbox relay across a broker restart and cut
//! off between the broker's acknowledgement and its `DELETE` (each row still once on the topics), the
//! consumer writing the desktop's alerts once, with a replay adding none, and the whole path from a desktop
//! store through auren-sync with the person's baselines (`server_alerts_equal_the_desktop`).
//!
//! `cargo xtask test` sets `AUREN_BROKER_BIN`; with it set, a broker that does not come up fails the test.
//! Without it (a bare `cargo test`), the broker tests say they were skipped and pass.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use auren_cep::{Alert, Baselines, RuleSet, SessionKind};
use auren_engine::dto::LiveUpdateDto;
use auren_engine::{LabelledBeat, Pipeline, Sink};
use auren_protocol::change::{Signal, SignalChange};
use auren_server::kafka::{
    AlertConsumer, ChunkFed, ConsumerHandle, KafkaConfig, PARTITION_CHECK, Relay, RelayHandle, SessionFeed,
    TopicGrowth, ensure_topics, feed_beats, stored_offsets,
};
use auren_server::redis::Wake;
use auren_server::topics::{
    ALERTS_TOPIC, AlertOrigin, AlertRecord, BATCH_PAYLOAD_VERSION, BEATS_TOPIC, BatchedChunk, BeatsBatch,
    BeatsChunk, LiveInputs, PAYLOAD_VERSION, SESSIONS_TOPIC, read_beats,
};
use auren_strap::replay::{Replay, parse_rr_text};
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{HeartSource, Pace};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::broker::{
    PrivateBroker, TopicMessage, broker_binary, commit_topic_end, consume_all, eventually, read_topic,
    read_whole_topic, replay_group,
};

const DEFAULT_RULES: &str = include_str!("../../../auren-cep/rules/default.toml");

/// Rules that fire often on a resting recording, so the comparison covers the heart-rate, window, DFA and
/// `for`/cooldown paths, not only the default rules (most of which need baselines or an exercise session).
const BUSY_RULES: &str = r#"
[[rule]]
name = "hr_over_70"
severity = "info"
when = "hr > 70"
for = "10s"
cooldown = "1m"
message = "hr {hr:.0}, max {max(hr, 30s):.0}"

[[rule]]
name = "rmssd_low"
severity = "info"
when = "rmssd_60s > 10 and avg(ln_rmssd, 1m) > 2"
cooldown = "2m"
message = "rmssd {rmssd_60s:.1}"

[[rule]]
name = "artifact_seen"
severity = "info"
when = "sum(artifact, 60s) >= 1 and count(beat, 60s) >= 30"
cooldown = "30s"
message = "{sum(artifact, 60s):.0} artifacts in {count(beat, 60s):.0} beats"

[[rule]]
name = "dfa_high"
severity = "info"
when = "dfa_alpha1 > 1.0 and count(beat, 60s) >= 40"
cooldown = "3m"
message = "dfa {dfa_alpha1:.3} sdnn5 {sdnn_5m:.1}"
"#;

fn rules() -> RuleSet {
    auren_cep::compile(&format!("{DEFAULT_RULES}\n{BUSY_RULES}")).unwrap()
}

fn reference(name: &str) -> Vec<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name);
    parse_rr_text(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
}

/// What the desktop's pipeline stored and raised.
#[derive(Default)]
struct Desktop {
    beats: Vec<auren_protocol::change::Beat>,
    alerts: Vec<Alert>,
}

impl Sink for Desktop {
    fn beat(&mut self, beat: &LabelledBeat) {
        self.beats.push(auren_protocol::change::Beat {
            t_ms: beat.at_ms,
            rr_ms: beat.rr_ms,
            artifact: beat.artifact.map(|a| a.as_str().to_owned()),
        });
    }
    fn gap(&mut self, _: f64, _: f64) {}
    fn heart_rate(&mut self, _: f64, _: f64) {}
    fn metrics(&mut self, _: f64, _: &[(&'static str, f64)]) {}
    fn alert(&mut self, alert: &Alert) {
        self.alerts.push(alert.clone());
    }
    fn update(&mut self, _: LiveUpdateDto) {}
}

/// The recording as the desktop imports it: the RR replay's events through the engine's `Pipeline`.
async fn desktop_run(rules: &RuleSet, rr_ms: &[f64]) -> Desktop {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let source = Box::new(Replay::rr_ms(rr_ms, "reference", Pace::AsFastAsPossible));
    let run = tokio::spawn(source.run(tx, CancellationToken::new()));
    let mut pipeline = Pipeline::new(rules, Baselines::new(), SessionKind::Other, None, 0).unwrap();
    let mut desktop = Desktop::default();
    while let Some(event) = rx.recv().await {
        pipeline.on_source_event(&event, &mut desktop);
    }
    run.await.unwrap().unwrap();
    pipeline.end(&mut desktop);
    desktop
}

#[tokio::test]
async fn the_server_feed_raises_exactly_the_desktop_alerts() {
    let rules = rules();
    for recording in ["nsr_60min.rr", "nsr_5min_artifacts.rr", "nsr_5min.rr"] {
        let rr = reference(recording);
        let desktop = desktop_run(&rules, &rr).await;
        // The server sees the beats the desktop stored (their RR exactly, through the chunk encoding).
        let chunk = auren_protocol::BeatsChunk::encode("s", &desktop.beats).unwrap();
        let stored_rr: Vec<f64> = chunk.decode().unwrap().iter().map(|b| b.rr_ms).collect();
        let server = feed_beats(&rules, Baselines::new(), SessionKind::Other, &stored_rr).unwrap();
        assert_eq!(server, desktop.alerts, "{recording}");
        let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for alert in &server {
            *per_rule.entry(alert.rule.as_str()).or_default() += 1;
        }
        eprintln!("{recording}: {per_rule:?}");
        if recording == "nsr_60min.rr" {
            for rule in ["hr_over_70", "rmssd_low", "dfa_high"] {
                assert!(per_rule.contains_key(rule), "{rule} fired: {per_rule:?}");
            }
        }
        if recording == "nsr_5min_artifacts.rr" {
            assert!(per_rule.contains_key("artifact_seen"), "{per_rule:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// On a real broker and PostgreSQL.

/// A fresh database with the server's migrations, connected as the owner (as the relay and consumer are).
async fn fresh_database() -> PgPool {
    let name = format!("auren_streams_{}", Uuid::new_v4().simple());
    let url = crate::support::create_database(&name).await;
    let pool = PgPool::connect(&url).await.unwrap();
    auren_server::db::MIGRATOR.run(&pool).await.unwrap();
    pool
}

async fn outbox_depth(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM server_outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn enqueue(pool: &PgPool, topic: &str, key: &str, payloads: &[Vec<u8>]) {
    for payload in payloads {
        sqlx::query("INSERT INTO server_outbox (topic, key, payload) VALUES ($1, $2, $3)")
            .bind(topic)
            .bind(key)
            .bind(payload)
            .execute(pool)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_queues_while_the_broker_is_away_and_drains_when_it_returns() {
    let Some(binary) = broker_binary() else { return };
    let mut broker = PrivateBroker::start(binary).await;
    let pool = fresh_database().await;
    let mut config = KafkaConfig::new(broker.address());
    config.message_timeout = Duration::from_secs(3);
    ensure_topics(&config).await.unwrap();
    // Creating them again is not an error.
    ensure_topics(&config).await.unwrap();

    let user = Uuid::new_v4().to_string();
    let first: Vec<Vec<u8>> = (0..300).map(|i| format!("row-{i}").into_bytes()).collect();
    let second: Vec<Vec<u8>> = (300..600).map(|i| format!("row-{i}").into_bytes()).collect();
    enqueue(&pool, SESSIONS_TOPIC, &user, &first).await;
    let shutdown = CancellationToken::new();
    let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    // The relay counts a round once its delete committed, a moment after the outbox shows it empty.
    let sent = eventually(Duration::from_secs(30), async || {
        outbox_depth(&pool).await == 0 && relay.delivered() == 300
    })
    .await;
    assert!(sent, "delivered {} of 300", relay.delivered());

    broker.stop();
    enqueue(&pool, SESSIONS_TOPIC, &user, &second).await;
    let degraded = eventually(Duration::from_secs(30), async || {
        matches!(relay.status(), auren_server::ComponentStatus::Degraded { .. })
    })
    .await;
    assert!(degraded, "the relay reports the outage: {:?}", relay.status());
    assert_eq!(
        outbox_depth(&pool).await,
        300,
        "nothing is dropped while the broker is away"
    );

    broker.restart().await;
    let drained = eventually(Duration::from_secs(60), async || {
        outbox_depth(&pool).await == 0 && relay.status() == auren_server::ComponentStatus::Up
    })
    .await;
    assert!(
        drained,
        "the outbox drained after the restart ({} left, {:?})",
        outbox_depth(&pool).await,
        relay.status()
    );
    shutdown.cancel();
    relay.join().await;

    let read = read_topic(&broker.address(), SESSIONS_TOPIC, 600).await;
    let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for payload in read {
        *counts.entry(payload).or_default() += 1;
    }
    let sent: BTreeSet<Vec<u8>> = first.into_iter().chain(second).collect();
    let lost: Vec<_> = sent.iter().filter(|p| !counts.contains_key(*p)).collect();
    let duplicated = counts.values().filter(|n| **n > 1).count();
    let unexpected = counts.keys().filter(|p| !sent.contains(*p)).count();
    assert_eq!(
        (lost.len(), duplicated, unexpected),
        (0, 0, 0),
        "lost, duplicated, unexpected"
    );
    // Each message names the outbox row it came from, the way consumers recognise a row sent twice.
    let address = broker.address();
    let whole = tokio::task::spawn_blocking(move || read_whole_topic(&address, SESSIONS_TOPIC))
        .await
        .unwrap();
    let ids: BTreeSet<i64> = whole.iter().filter_map(|m| m.outbox_id).collect();
    assert_eq!(
        (whole.len(), ids.len()),
        (600, 600),
        "one distinct outbox id per message"
    );
    assert!(whole.iter().all(|m| m.key.as_deref() == Some(user.as_str())));
}

/// The topics the server creates delete what is older than their retention, so a broker's store stays
/// bounded (tansu keeps every message of a topic that does not say so). The broker here applies retention
/// every 500 ms instead of every 10 minutes; the topics keep messages for 2 s. Creating the topics again with
/// another retention keeps the first (an existing topic's settings are the broker's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topics_delete_messages_older_than_their_retention() {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::consumer::{BaseConsumer, Consumer};

    let Some(binary) = broker_binary() else { return };
    let broker = PrivateBroker::start_maintaining(binary, Some(Duration::from_millis(500))).await;
    let pool = fresh_database().await;
    let mut config = KafkaConfig::new(broker.address());
    config.retention = Duration::from_secs(2);
    ensure_topics(&config).await.unwrap();
    let mut other = config.clone();
    other.retention = Duration::from_secs(3600);
    ensure_topics(&other).await.unwrap();

    let admin: AdminClient<_> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("broker.address.family", "v4")
        .create()
        .unwrap();
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(SESSIONS_TOPIC)], &AdminOptions::new())
        .await
        .unwrap();
    let resource = described.into_iter().next().unwrap().unwrap();
    let setting = |name: &str| resource.get(name).and_then(|e| e.value.clone());
    assert_eq!(
        (setting("cleanup.policy"), setting("retention.ms")),
        (Some("delete".to_owned()), Some("2000".to_owned())),
        "the settings the topic was created with"
    );

    let user = Uuid::new_v4().to_string();
    let rows: Vec<Vec<u8>> = (0..50).map(|i| format!("row-{i}").into_bytes()).collect();
    enqueue(&pool, SESSIONS_TOPIC, &user, &rows).await;
    let shutdown = CancellationToken::new();
    let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    assert!(eventually(Duration::from_secs(30), async || outbox_depth(&pool).await == 0).await);
    shutdown.cancel();
    relay.join().await;

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("broker.address.family", "v4")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(SESSIONS_TOPIC), Duration::from_secs(10))
        .unwrap();
    let partitions: Vec<i32> = metadata.topics()[0].partitions().iter().map(|p| p.id()).collect();
    // The first and the next offset, summed over the topic's partitions.
    let watermarks = || -> (i64, i64) {
        partitions.iter().fold((0, 0), |(low, high), p| {
            let (l, h) = consumer
                .fetch_watermarks(SESSIONS_TOPIC, *p, Duration::from_secs(10))
                .unwrap();
            (low + l, high + h)
        })
    };
    let held = || {
        let (low, high) = watermarks();
        high - low
    };
    let total_end = watermarks().1;
    assert_eq!(total_end, 50, "every row reached the topic");
    let emptied = eventually(Duration::from_secs(30), async || held() == 0).await;
    assert!(
        emptied,
        "the broker deleted the messages past their retention ({} still held): {}",
        held(),
        broker.log()
    );
}

/// The relay's advisory lock key (`RELAY_LOCK` in `kafka/relay.rs`): holding it keeps every relay waiting.
const RELAY_LOCK: i64 = 0x0061_7572_656e;

/// A relay cut off between the broker's acknowledgement and its `DELETE` (its PostgreSQL session ended, as
/// when its server is SIGKILLed or PostgreSQL restarts) leaves rows that the topics already hold. Whichever
/// of two relays leads next reads the topics' tails and deletes those rows instead of sending them again, so
/// each row is on the topics once, with nothing deduplicated. The fault is placed exactly: a `SHARE` lock on
/// the outbox lets the relay claim and send but holds its `DELETE`, and the test ends the relay's session
/// while it waits there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_cut_off_between_the_acknowledgement_and_its_delete_leaves_each_row_once_on_the_topics() {
    let Some(binary) = broker_binary() else { return };
    let broker = PrivateBroker::start(binary).await;
    let pool = fresh_database().await;
    let mut config = KafkaConfig::new(broker.address());
    // A relay that takes the lock after seeing a rival hold it waits this long (and a little more) first.
    config.message_timeout = Duration::from_secs(3);
    ensure_topics(&config).await.unwrap();
    let user = Uuid::new_v4().to_string();
    let rows = |range: std::ops::Range<usize>| -> Vec<Vec<u8>> {
        range.map(|i| format!("row-{i}").into_bytes()).collect()
    };
    // History: rows relayed and deleted normally, so the tails hold messages of rows long gone.
    enqueue(&pool, SESSIONS_TOPIC, &user, &rows(0..100)).await;
    enqueue(&pool, BEATS_TOPIC, &user, &rows(100..150)).await;
    let shutdown = CancellationToken::new();
    let first = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    assert!(eventually(Duration::from_secs(30), async || outbox_depth(&pool).await == 0).await);
    shutdown.cancel();
    first.join().await;

    // Two relays wait while the test holds their lock; the rows of the round to be cut off are queued.
    let mut holder = pool.acquire().await.unwrap().detach();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(RELAY_LOCK)
        .execute(&mut holder)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let relays = [
        Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap(),
        Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap(),
    ];
    enqueue(&pool, SESSIONS_TOPIC, &user, &rows(150..230)).await;
    enqueue(&pool, BEATS_TOPIC, &user, &rows(230..270)).await;
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE server_outbox IN SHARE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(RELAY_LOCK)
        .execute(&mut holder)
        .await
        .unwrap();
    // The leader claimed, sent and was acknowledged (the `DELETE` comes after every report): it now waits.
    let mut waiting: Option<i32> = None;
    let blocked = eventually(Duration::from_secs(30), async || {
        waiting = sqlx::query_scalar(
            "SELECT pid FROM pg_locks WHERE relation = 'server_outbox'::regclass AND NOT granted",
        )
        .fetch_optional(&pool)
        .await
        .unwrap();
        waiting.is_some()
    })
    .await;
    assert!(blocked, "the leader reached its DELETE");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(waiting)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(ended);
    blocker.rollback().await.unwrap();

    let drained = eventually(Duration::from_secs(60), async || outbox_depth(&pool).await == 0).await;
    assert!(drained, "the outbox drained ({} left)", outbox_depth(&pool).await);
    let found: u64 = relays.iter().map(|r| r.found_in_topics()).sum();
    let delivered: u64 = relays.iter().map(|r| r.delivered()).sum();
    shutdown.cancel();
    for relay in relays {
        relay.join().await;
    }
    assert_eq!(
        (found, delivered),
        (120, 120),
        "the cut-off round's rows were found on the topics, none sent again"
    );
    let mut messages = Vec::new();
    for topic in [SESSIONS_TOPIC, BEATS_TOPIC] {
        let address = broker.address();
        messages.extend(
            tokio::task::spawn_blocking(move || read_whole_topic(&address, topic))
                .await
                .unwrap(),
        );
    }
    let ids: BTreeSet<i64> = messages.iter().filter_map(|m| m.outbox_id).collect();
    let payloads: BTreeSet<&[u8]> = messages.iter().map(|m| m.payload.as_slice()).collect();
    assert_eq!(
        (messages.len(), ids.len(), payloads.len()),
        (270, 270, 270),
        "every row once on the topics, raw"
    );
}

/// The beats the desktop stored, as pushes put them in the outbox: minute-sized chunks, the first ten each
/// in its own message (payload version 1, what an older server wrote), the rest in batches of 40 chunks
/// (version 2, one message per push and session). Returns the messages and how many chunks they hold.
fn beat_messages(
    user: Uuid,
    device: Uuid,
    session_key: &str,
    started_at_ms: i64,
    beats: &[auren_protocol::change::Beat],
) -> (Vec<Vec<u8>>, usize) {
    let chunks: Vec<BeatsChunk> = beats
        .chunks(60)
        .map(|part| {
            let chunk = auren_protocol::BeatsChunk::encode(session_key, part).unwrap();
            BeatsChunk {
                v: PAYLOAD_VERSION,
                user_id: user,
                device_id: device,
                session_key: session_key.to_owned(),
                session_started_at_ms: started_at_ms,
                wall_ms: started_at_ms + chunk.start_ms.round() as i64,
                chunk,
                live: None,
            }
        })
        .collect();
    let (single, batched) = chunks.split_at(10);
    let mut messages: Vec<Vec<u8>> = single.iter().map(|c| serde_json::to_vec(c).unwrap()).collect();
    for batch in batched.chunks(40) {
        let message = BeatsBatch {
            v: BATCH_PAYLOAD_VERSION,
            user_id: user,
            device_id: device,
            session_key: session_key.to_owned(),
            session_started_at_ms: started_at_ms,
            chunks: batch
                .iter()
                .map(|c| BatchedChunk {
                    wall_ms: c.wall_ms,
                    chunk: c.chunk.clone(),
                })
                .collect(),
            live: None,
        };
        messages.push(serde_json::to_vec(&message).unwrap());
    }
    (messages, chunks.len())
}

async fn stored_alerts(pool: &PgPool, user: Uuid) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT rule, window_start_ms, at FROM alerts WHERE user_id = $1 ORDER BY rule, window_start_ms",
    )
    .bind(user)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A private broker with the topics, a fresh database, and a configuration whose sessions end after 1 s
/// without chunks; `None` when no broker binary is configured.
async fn consumer_fixture() -> Option<(PrivateBroker, PgPool, KafkaConfig)> {
    consumer_fixture_of(KafkaConfig::DEFAULT_PARTITIONS).await
}

/// [`consumer_fixture`] with topics of `partitions` partitions.
async fn consumer_fixture_of(partitions: i32) -> Option<(PrivateBroker, PgPool, KafkaConfig)> {
    let broker = PrivateBroker::start(broker_binary()?).await;
    let pool = fresh_database().await;
    let mut config = KafkaConfig::new(broker.address());
    config.session_idle = Duration::from_secs(1);
    config.partitions = partitions;
    let growth = ensure_topics(&config).await.unwrap();
    assert_eq!(growth, Vec::new(), "a new broker's topics are made, not grown");
    Some((broker, pool, config))
}

/// A user row the consumer can write alerts for (nobody signs in as it).
async fn new_user(pool: &PgPool) -> Uuid {
    let user = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'not a hash')")
        .bind(user)
        .bind(format!("{}@example.invalid", user.simple()))
        .execute(pool)
        .await
        .unwrap();
    user
}

async fn user_version(pool: &PgPool, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT coalesce((SELECT version FROM user_versions WHERE user_id = $1), 0)")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_writes_the_desktop_alerts_once_and_a_replay_adds_none() {
    let Some((_broker, pool, config)) = consumer_fixture().await else {
        return;
    };

    let rules = rules();
    let desktop = desktop_run(&rules, &reference("nsr_60min.rr")).await;
    let user = new_user(&pool).await;
    let started_at_ms = 1_764_800_000_000_i64;
    let (messages, chunks) = beat_messages(user, Uuid::new_v4(), "device:1", started_at_ms, &desktop.beats);
    enqueue(&pool, BEATS_TOPIC, &user.to_string(), &messages).await;
    // Repeated chunks (a delivery whose report was lost) change nothing.
    enqueue(&pool, BEATS_TOPIC, &user.to_string(), &messages[3..5]).await;
    enqueue(&pool, BEATS_TOPIC, &user.to_string(), &messages[10..11]).await;
    let repeats = 2 + 40;

    let expected = wall_alerts(started_at_ms, &desktop.alerts);
    assert!(expected.len() > 5, "the recording raises alerts: {expected:?}");

    let shutdown = CancellationToken::new();
    // A device of the user long-polling: the server's alerts must wake it as a push would.
    let wake = Wake::start(None, shutdown.clone());
    let mut parked = wake.listen(user);
    let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    let (consumer, all_in) = consume_all(
        &pool,
        &config,
        (&rules, &wake),
        &shutdown,
        chunks + repeats,
        Duration::from_secs(120),
    )
    .await;
    assert!(
        all_in,
        "consumed {} of {} chunks",
        consumer.chunks(),
        chunks + repeats
    );
    let stored: BTreeSet<(String, i64, i64)> = stored_alerts(&pool, user).await.into_iter().collect();
    assert_eq!(stored, expected, "the server's alerts are the desktop's");
    assert_eq!(consumer.alerts_inserted() as usize, expected.len());
    let version = user_version(&pool, user).await;
    assert!(version > 0);
    tokio::time::timeout(Duration::from_secs(1), parked.notified())
        .await
        .expect("the server's alerts woke the user's long poll");

    // A replay of the whole topic by another group finds the same alerts and inserts none.
    let (replay, replayed) = consume_all(
        &pool,
        &replay_group(&config),
        (&rules, &wake),
        &shutdown,
        chunks + repeats,
        Duration::from_secs(120),
    )
    .await;
    assert!(replayed, "replayed {} chunks", replay.chunks());
    assert_eq!(replay.alerts_inserted(), 0);
    assert_eq!(stored_alerts(&pool, user).await.len(), expected.len());
    assert_eq!(
        user_version(&pool, user).await,
        version,
        "a replay does not bump the version"
    );
    shutdown.cancel();
    relay.join().await;
    consumer.join().await;
    replay.join().await;
}

/// An account deleted while its beats were still on the topic: the consumer drops its alerts (their version
/// bump has no user to reference) and goes on with everyone else's. Before, it retried that write for good,
/// and nothing after it in its shard was ever fed (seen in the server bench: 2 of 800 messages taken).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_drops_the_alerts_of_a_deleted_account_and_goes_on() {
    let Some((_broker, pool, config)) = consumer_fixture().await else {
        return;
    };

    let rules = rules();
    let desktop = desktop_run(&rules, &reference("nsr_60min.rr")).await;
    let started_at_ms = 1_764_800_000_000_i64;
    let gone = new_user(&pool).await;
    let kept = new_user(&pool).await;
    let mut total = 0;
    for user in [gone, kept] {
        let (messages, chunks) =
            beat_messages(user, Uuid::new_v4(), "device:1", started_at_ms, &desktop.beats);
        // One key for both, so both accounts' chunks share a partition: a wedged write would hold the kept
        // account's chunks too (the partition's reader waits once the wedged shard's queue is full).
        enqueue(&pool, BEATS_TOPIC, &gone.to_string(), &messages).await;
        total += chunks;
    }
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(gone)
        .execute(&pool)
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let wake = Wake::start(None, shutdown.clone());
    let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    let (consumer, all_in) = consume_all(
        &pool,
        &config,
        (&rules, &wake),
        &shutdown,
        total,
        Duration::from_secs(120),
    )
    .await;
    assert!(all_in, "fed {} of {total} chunks", consumer.chunks());
    let expected = wall_alerts(started_at_ms, &desktop.alerts);
    assert!(!expected.is_empty(), "the recording raises alerts");
    let stored: BTreeSet<_> = stored_alerts(&pool, kept).await.into_iter().collect();
    assert_eq!(stored, expected, "the kept account's alerts were written");
    assert!(stored_alerts(&pool, gone).await.is_empty());
    assert_eq!(consumer.status(), auren_server::ComponentStatus::Up);
    shutdown.cancel();
    relay.join().await;
    consumer.join().await;
}

/// One user's recording (the reference hour) queued on a consumer fixture with a relay running, and a second
/// one (the same hour a day later, from another device) to queue when a test says: what the takeover and
/// upgrade tests share.
struct TwoRecordings {
    broker: PrivateBroker,
    pool: PgPool,
    config: KafkaConfig,
    rules: RuleSet,
    desktop: Desktop,
    user: Uuid,
    /// Chunks of the first recording's messages.
    first_chunks: usize,
    shutdown: CancellationToken,
    wake: Wake,
    relay: RelayHandle,
}

impl TwoRecordings {
    const FIRST_AT: i64 = 1_764_800_000_000;
    const SECOND_AT: i64 = 1_764_900_000_000;

    async fn start() -> Option<Self> {
        let (broker, pool, config) = consumer_fixture().await?;
        let rules = rules();
        let desktop = desktop_run(&rules, &reference("nsr_60min.rr")).await;
        let user = new_user(&pool).await;
        let (first, first_chunks) =
            beat_messages(user, Uuid::new_v4(), "device:1", Self::FIRST_AT, &desktop.beats);
        enqueue(&pool, BEATS_TOPIC, &user.to_string(), &first).await;
        let shutdown = CancellationToken::new();
        let wake = Wake::start(None, shutdown.clone());
        let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
        Some(Self {
            broker,
            pool,
            config,
            rules,
            desktop,
            user,
            first_chunks,
            shutdown,
            wake,
            relay,
        })
    }

    /// Queues the second recording; returns its chunks.
    async fn queue_second(&self) -> usize {
        let (second, chunks) = beat_messages(
            self.user,
            Uuid::new_v4(),
            "device:2",
            Self::SECOND_AT,
            &self.desktop.beats,
        );
        enqueue(&self.pool, BEATS_TOPIC, &self.user.to_string(), &second).await;
        chunks
    }

    /// A consumer of the fixture's group (as one server process runs it), until `stop`.
    fn consumer(&self, stop: &CancellationToken) -> ConsumerHandle {
        let (rules, wake) = (self.rules.clone(), self.wake.clone());
        AlertConsumer::spawn(self.pool.clone(), &self.config, rules, wake, stop.clone()).unwrap()
    }

    /// Whether the relay put everything queued on the topic within a minute.
    async fn relayed(&self) -> bool {
        eventually(Duration::from_secs(60), async || {
            outbox_depth(&self.pool).await == 0
        })
        .await
    }

    /// The alerts of the recordings starting at `starts`, as stored rows name them.
    fn alerts_of(&self, starts: &[i64]) -> BTreeSet<(String, i64, i64)> {
        starts
            .iter()
            .flat_map(|&at| wall_alerts(at, &self.desktop.alerts))
            .collect()
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.relay.join().await;
    }
}

/// Two server processes' consumers of one group share its partitions. The first reads all three alone; when
/// the second joins, the first gives it its share within the term it is in (what it goes on feeding is kept),
/// and together they write each alert of the first recording once (whatever was handed over is read again
/// from the stored offsets). When the one holding the user's partition stops, the other takes it over from
/// the offsets stored in PostgreSQL, again within its term: it reads the second recording, not the first
/// again, and each alert is still written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consumers_of_a_group_share_its_partitions_and_one_takes_over_from_the_others_offsets() {
    let Some(run) = TwoRecordings::start().await else {
        return;
    };
    let stops = [run.shutdown.child_token(), run.shutdown.child_token()];
    let all: Vec<i32> = (0..run.config.partitions).collect();
    let mut consumers = vec![run.consumer(&stops[0])];
    let alone = eventually(Duration::from_secs(60), async || {
        consumers[0].partitions() == all && consumers[0].chunks() > 0
    })
    .await;
    assert!(alone, "the first consumer reads every partition alone");
    consumers.push(run.consumer(&stops[1]));
    let expected_first = run.alerts_of(&[TwoRecordings::FIRST_AT]);
    assert!(run.relayed().await, "the first recording is on the topic");
    let messages = users_messages(&run.broker, BEATS_TOPIC, run.user).await;
    let partition = messages[0].partition.unwrap();
    // Read to the end and stored there: the member holding the user's partition now may have taken it over
    // from the one that first read it, and be reading it again.
    let end = i64::try_from(messages.len()).unwrap();
    let shared_and_read = eventually(Duration::from_secs(120), async || {
        let held: Vec<Vec<i32>> = consumers.iter().map(ConsumerHandle::partitions).collect();
        let mut together: Vec<i32> = held.concat();
        together.sort_unstable();
        let stored = stored_offsets(&run.pool, &run.config.consumer_group)
            .await
            .unwrap();
        held.iter().all(|h| !h.is_empty())
            && together == all
            && stored.get(&partition) == Some(&end)
            && consumers.iter().all(|c| c.open_sessions() == 0)
    })
    .await;
    let held: Vec<_> = consumers.iter().map(ConsumerHandle::partitions).collect();
    assert!(
        shared_and_read,
        "the group settled on {held:?} and read the first recording"
    );
    let first: BTreeSet<_> = stored_alerts(&run.pool, run.user).await.into_iter().collect();
    assert_eq!(first, expected_first);
    let terms: Vec<u64> = consumers.iter().map(ConsumerHandle::terms).collect();
    assert_eq!(
        terms,
        [1, 1],
        "the first gave the second its share within its term"
    );

    let holder = consumers
        .iter()
        .position(|c| c.partitions().contains(&partition))
        .unwrap();
    let other = consumers.remove(1 - holder);
    stops[holder].cancel();
    consumers.remove(0).join().await;

    let (before, terms) = (other.chunks() as usize, other.terms());
    let more = run.queue_second().await;
    let taken_over = eventually(Duration::from_secs(120), async || {
        other.chunks() as usize >= before + more && other.open_sessions() == 0
    })
    .await;
    let fed = other.chunks() as usize - before;
    assert!(taken_over, "the other consumer fed {fed} of {more} chunks");
    assert_eq!(fed, more, "it went on from the stored offsets");
    assert_eq!(other.partitions(), all);
    assert_eq!(
        other.terms(),
        terms,
        "it took the partitions on within its term, its sessions kept"
    );
    let expected = run.alerts_of(&[TwoRecordings::FIRST_AT, TwoRecordings::SECOND_AT]);
    let stored = stored_alerts(&run.pool, run.user).await;
    assert_eq!(stored.len(), expected.len(), "each alert once");
    assert_eq!(stored.into_iter().collect::<BTreeSet<_>>(), expected);
    run.stop().await;
    other.join().await;
}

/// During a rolling upgrade a server of before partition claims may still lead the whole group under its one
/// lock: a member then claims nothing (two servers would feed one partition's sessions at once), and takes
/// every partition once that server is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_claims_nothing_while_a_server_of_before_leads_the_whole_group() {
    let Some(run) = TwoRecordings::start().await else {
        return;
    };
    // The old server's lock, as it took it: FNV-1a of "auren consumer group {group}", one 64-bit key.
    let key = format!("auren consumer group {}", run.config.consumer_group)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
        .cast_signed();
    let mut old_server = run.pool.acquire().await.unwrap().detach();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut old_server)
        .await
        .unwrap();
    assert!(locked);
    let consumer = run.consumer(&run.shutdown.child_token());
    assert!(run.relayed().await, "the recording is on the topic");
    // Not a synchronisation: a window of a few of the member's claims (one a second) in which it must read
    // nothing of what the topic holds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!((consumer.partitions(), consumer.chunks()), (Vec::new(), 0));

    sqlx::Connection::close(old_server).await.unwrap();
    let all: Vec<i32> = (0..run.config.partitions).collect();
    let read = eventually(Duration::from_secs(120), async || {
        consumer.chunks() as usize >= run.first_chunks && consumer.open_sessions() == 0
    })
    .await;
    assert!(read, "fed {} of {} chunks", consumer.chunks(), run.first_chunks);
    assert_eq!(consumer.partitions(), all);
    let stored: BTreeSet<_> = stored_alerts(&run.pool, run.user).await.into_iter().collect();
    assert_eq!(stored, run.alerts_of(&[TwoRecordings::FIRST_AT]));
    run.stop().await;
    consumer.join().await;
}

/// Partitions an operator adds to `auren.beats` are read: a server started with a higher
/// `AUREN_KAFKA_PARTITIONS` asks the broker to grow the topics, and a member reads the partition count every
/// [`PARTITION_CHECK`] and claims its share of the new partitions within its term. tansu serves no
/// CreatePartitions: the growth comes back refused, and the test then adds the partitions in tansu's own
/// store (`PrivateBroker::add_partitions`), as its CreateTopics writes them; a broker that grows the topic is
/// taken as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_claims_the_partitions_added_to_its_topic() {
    let Some((mut broker, pool, config)) = consumer_fixture_of(1).await else {
        return;
    };
    let (rules, shutdown) = (rules(), CancellationToken::new());
    let wake = Wake::start(None, shutdown.clone());
    let consumer =
        AlertConsumer::spawn(pool.clone(), &config, rules.clone(), wake, shutdown.clone()).unwrap();
    let one = eventually(Duration::from_secs(60), async || consumer.partitions() == [0]).await;
    assert!(one, "the member holds the one partition");

    let mut wider = config.clone();
    wider.partitions = 3;
    let growth = ensure_topics(&wider).await.unwrap();
    let grown: BTreeMap<&str, (i32, i32)> = growth
        .iter()
        .map(|g| match g {
            TopicGrowth::Grown { topic, from, to } => (topic.as_str(), (*from, *to)),
            TopicGrowth::Refused {
                topic, has, wanted, ..
            } => (topic.as_str(), (*has, *wanted)),
        })
        .collect();
    let all_topics = [ALERTS_TOPIC, BEATS_TOPIC, SESSIONS_TOPIC];
    assert_eq!(grown, all_topics.iter().map(|t| (*t, (1, 3))).collect());
    if growth
        .iter()
        .any(|g| matches!(g, TopicGrowth::Refused { topic, .. } if topic == BEATS_TOPIC))
    {
        broker.add_partitions(BEATS_TOPIC, 3).await;
    }
    let all = vec![0, 1, 2];
    let claimed = eventually(PARTITION_CHECK + Duration::from_secs(60), async || {
        consumer.partitions() == all
    })
    .await;
    assert!(claimed, "the member holds {:?}", consumer.partitions());
    assert_eq!(
        consumer.terms(),
        1,
        "it took the new partitions on within its term"
    );

    // Six accounts' recordings under fixed keys, which spread over the new partitions as well.
    let desktop = desktop_run(&rules, &reference("nsr_60min.rr")).await;
    let started_at_ms = 1_764_800_000_000_i64;
    let mut users = Vec::new();
    for key in 0..6 {
        let user = new_user(&pool).await;
        let (messages, _) = beat_messages(user, Uuid::new_v4(), "device:1", started_at_ms, &desktop.beats);
        enqueue(&pool, BEATS_TOPIC, &format!("account-{key}"), &messages).await;
        users.push(user);
    }
    let relay = Relay::spawn(pool.clone(), wider.clone(), shutdown.clone()).unwrap();
    let relayed = eventually(Duration::from_secs(60), async || outbox_depth(&pool).await == 0).await;
    assert!(relayed, "the recordings are on the topic");
    let brokers = broker.address();
    let on_topic = tokio::task::spawn_blocking(move || read_whole_topic(&brokers, BEATS_TOPIC));
    let partitions: BTreeSet<i32> = on_topic
        .await
        .unwrap()
        .iter()
        .filter_map(|m| m.partition)
        .collect();
    assert!(
        partitions.len() > 1,
        "the keys landed on partitions {partitions:?}"
    );
    let expected = wall_alerts(started_at_ms, &desktop.alerts);
    assert!(!expected.is_empty(), "the recording raises alerts");
    for user in users {
        let written = eventually(Duration::from_secs(120), async || {
            stored_alerts(&pool, user).await.len() == expected.len()
        })
        .await;
        assert!(written, "the alerts of {user}");
        let stored: BTreeSet<_> = stored_alerts(&pool, user).await.into_iter().collect();
        assert_eq!(stored, expected);
    }
    shutdown.cancel();
    relay.join().await;
    consumer.join().await;
}

/// A server upgraded from one whose consumer read through Kafka's group membership goes on from the offsets
/// that group committed on the broker (its first term seeds `consumer_offsets` from them), not from the
/// topic's start: it feeds the recording that came after them and nothing before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_consumer_goes_on_from_the_offsets_its_group_committed_on_the_broker() {
    let Some(run) = TwoRecordings::start().await else {
        return;
    };
    assert!(run.relayed().await, "the first recording is on the topic");
    // The old server's group had read all of it.
    let (address, group) = (run.broker.address(), run.config.consumer_group.clone());
    tokio::task::spawn_blocking(move || commit_topic_end(&address, BEATS_TOPIC, &group))
        .await
        .unwrap();

    let more = run.queue_second().await;
    let (consumer, all_in) = consume_all(
        &run.pool,
        &run.config,
        (&run.rules, &run.wake),
        &run.shutdown,
        more,
        Duration::from_secs(120),
    )
    .await;
    assert!(all_in, "fed {} of {more} chunks", consumer.chunks());
    assert_eq!(
        consumer.chunks() as usize,
        more,
        "only what came after the committed offsets"
    );
    let stored: BTreeSet<_> = stored_alerts(&run.pool, run.user).await.into_iter().collect();
    assert_eq!(
        stored,
        run.alerts_of(&[TwoRecordings::SECOND_AT]),
        "the second recording's alerts alone"
    );
    run.stop().await;
    consumer.join().await;
}

/// Beats of 800 ms for `minutes` minutes (60 per minute chunk).
fn steady_beats(minutes: usize) -> Vec<auren_protocol::change::Beat> {
    (0..minutes * 60)
        .map(|i| auren_protocol::change::Beat {
            t_ms: i as f64 * 800.0,
            rr_ms: 800.0,
            artifact: None,
        })
        .collect()
}

/// A row the relay sent twice (killed after the broker's acknowledgement, before its `DELETE`) comes back
/// with the same outbox id after the device's next session began: the consumer skips it whole. Fed again,
/// it would end the current session early and restart the old one from its middle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_skips_a_row_the_relay_sent_twice() {
    use auren_server::kafka::OUTBOX_ID_HEADER;
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let Some(binary) = broker_binary() else { return };
    let broker = PrivateBroker::start(binary).await;
    let pool = fresh_database().await;
    let config = KafkaConfig::new(broker.address());
    ensure_topics(&config).await.unwrap();
    let user = new_user(&pool).await;
    let device = Uuid::new_v4();
    let started_at_ms = 1_764_800_000_000_i64;
    let (first, _) = beat_messages(user, device, "device:1", started_at_ms, &steady_beats(10));
    let (second, _) = beat_messages(
        user,
        device,
        "device:2",
        started_at_ms + 3_600_000,
        &steady_beats(10),
    );
    assert_eq!((first.len(), second.len()), (10, 10), "one chunk per message");
    // Outbox ids 1–10 and 11–20, with row 10 sent again in the middle of the second session.
    let mut sends: Vec<(i64, &[u8])> = Vec::new();
    sends.extend(
        first
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64 + 1, m.as_slice())),
    );
    sends.extend(
        second[..5]
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64 + 11, m.as_slice())),
    );
    sends.push((10, first[9].as_slice()));
    sends.extend(
        second[5..]
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64 + 16, m.as_slice())),
    );
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("broker.address.family", "v4")
        .create()
        .unwrap();
    let key = user.to_string();
    for (id, payload) in sends {
        let id = id.to_string();
        let headers = OwnedHeaders::new().insert(Header {
            key: OUTBOX_ID_HEADER,
            value: Some(id.as_str()),
        });
        let record = FutureRecord::to(BEATS_TOPIC)
            .key(&key)
            .payload(payload)
            .headers(headers);
        producer.send(record, Duration::from_secs(10)).await.unwrap();
    }

    let shutdown = CancellationToken::new();
    let wake = Wake::start(None, shutdown.clone());
    let consumer = AlertConsumer::spawn(pool.clone(), &config, rules(), wake, shutdown.clone()).unwrap();
    let all_in = eventually(Duration::from_secs(60), async || {
        consumer.resent() == 1 && consumer.chunks() == 20
    })
    .await;
    assert!(
        all_in,
        "20 chunks fed and the re-sent row skipped: {} chunks, {} skipped",
        consumer.chunks(),
        consumer.resent()
    );
    shutdown.cancel();
    consumer.join().await;
}

/// Mornings around lnRMSSD `ln` with a resting HR of `resting_hr`, the 59 days before `day`: a normal range
/// the recording stays below, so `cns_fatigue` (which needs it) has something to fire on.
async fn seed_mornings(store: &auren_store::Store, day: i64, ln: f64, resting_hr: f64) {
    for k in 1..=59 {
        let value = ln + if k % 2 == 0 { 0.05 } else { -0.05 };
        store
            .add_morning_reading(day - k, value, Some(resting_hr), None)
            .await
            .unwrap();
    }
}

/// lnRMSSD and mean HR of a whole RR series.
fn ln_rmssd_and_hr(rr: &[f64]) -> (f64, f64) {
    let diffs: Vec<f64> = rr.windows(2).map(|w| w[1] - w[0]).collect();
    let rmssd = (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt();
    let mean_rr = rr.iter().sum::<f64>() / rr.len() as f64;
    (rmssd.ln(), 60_000.0 / mean_rr)
}

fn per_rule(alerts: &BTreeSet<(String, i64, i64)>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (rule, _, _) in alerts {
        *out.entry(rule.clone()).or_default() += 1;
    }
    out
}

async fn server_alerts_of(pool: &PgPool, user: Uuid, origin: &str) -> BTreeSet<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT rule, window_start_ms, at FROM alerts WHERE user_id = $1 AND origin = $2 ORDER BY rule, window_start_ms",
    )
    .bind(user)
    .bind(origin)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Signs a new account in from the desktop `store` (tokens in `dir`) and pushes everything; returns the user.
async fn sync_to(server: &crate::support::TestServer, store: &auren_store::Store, dir: &Path) -> Uuid {
    let vault = auren_sync::TokenVault::new(auren_sync::TokenPlace::File(dir.join("tokens")));
    let email = format!("{}@example.invalid", Uuid::new_v4().simple());
    let client = auren_sync::SyncClient::sign_in(
        store,
        vault,
        &server.base,
        (email.as_str(), "correct horse battery", "laptop"),
        auren_sync::SignIn::Create,
        auren_sync::SyncConfig::default(),
    )
    .await
    .unwrap();
    while client.sync_once().await.unwrap().pending > 0 {}
    client.account().user_id.parse().unwrap()
}

/// Signs a new device in to `user`'s account and syncs it; the (rule, time) of every alert it then holds.
async fn pulled_by_a_new_device(
    server: &crate::support::TestServer,
    pool: &PgPool,
    user: Uuid,
    dir: &Path,
) -> BTreeSet<(String, i64)> {
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap();
    let store = auren_store::Store::open(&dir.join("second.db")).await.unwrap();
    let vault = auren_sync::TokenVault::new(auren_sync::TokenPlace::File(dir.join("second.tokens")));
    let client = auren_sync::SyncClient::sign_in(
        &store,
        vault,
        &server.base,
        (email.as_str(), "correct horse battery", "tablet"),
        auren_sync::SignIn::Login,
        auren_sync::SyncConfig::default(),
    )
    .await
    .unwrap();
    let report = client.sync_once().await.unwrap();
    assert!(report.pulled > 0, "{report:?}");
    auren_engine::query::alerts_between(&store, 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.rule, a.at_unix_ms))
        .collect()
}

/// Every message of `topic` keyed by `user`, in the order relayed.
async fn users_messages(broker: &PrivateBroker, topic: &'static str, user: Uuid) -> Vec<TopicMessage> {
    let address = broker.address();
    let messages = tokio::task::spawn_blocking(move || read_whole_topic(&address, topic))
        .await
        .unwrap();
    let key = user.to_string();
    messages
        .into_iter()
        .filter(|m| m.key.as_deref() == Some(key.as_str()))
        .collect()
}

/// The chunks of every `auren.beats` message of `user`, in the order relayed.
async fn relayed_chunks(broker: &PrivateBroker, user: Uuid) -> Vec<BeatsChunk> {
    users_messages(broker, BEATS_TOPIC, user)
        .await
        .iter()
        .flat_map(|m| read_beats(&m.payload).unwrap())
        .collect()
}

/// The alerts a [`SessionFeed`] raises from `chunks` and then the session's end, as stored rows would
/// name them: (rule, window start, time), wall ms.
fn fed_alerts(
    rules: &RuleSet,
    baselines: Baselines,
    kind: SessionKind,
    started_at_ms: i64,
    chunks: &[BeatsChunk],
) -> BTreeSet<(String, i64, i64)> {
    let mut feed = SessionFeed::new(rules, baselines, kind).unwrap();
    let mut alerts = Vec::new();
    for chunk in chunks {
        assert_eq!(feed.push_chunk(chunk, &mut alerts), Ok(ChunkFed::Fed));
    }
    feed.finish(&mut alerts);
    wall_alerts(started_at_ms, &alerts)
}

fn wall_alerts(started_at_ms: i64, alerts: &[Alert]) -> BTreeSet<(String, i64, i64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a.rule.clone(),
                started_at_ms + a.evidence.window.0,
                started_at_ms + a.at_ms,
            )
        })
        .collect()
}

/// The whole path: a recording imported on a desktop (its store, auren-engine's import, the person's
/// baselines from 59 seeded mornings), synced by auren-sync to the server, relayed to the broker and run
/// through the consumer. The server finds the desktop's alerts on its own — `cns_fatigue` included, which
/// needs the normal range the server derives from the synced mornings — and a replay of the topic adds none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_alerts_equal_the_desktop() {
    let Some(binary) = broker_binary() else { return };
    let broker = PrivateBroker::start(binary).await;
    let server = crate::support::TestServer::start().await;
    let pool = server.owner.clone();

    // The desktop: mornings, then the recording imported as a rest session with the baselines of its day.
    let dir = tempfile::tempdir().unwrap();
    let store = auren_store::Store::open(&dir.path().join("desktop.db"))
        .await
        .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/reference/nsr_60min.rr");
    let (ln, hr) = ln_rmssd_and_hr(&reference("nsr_60min.rr"));
    let started_at_ms = crate::support::recent_ms();
    let day = auren_clock::UnixMillis(started_at_ms).day_number();
    seed_mornings(&store, day, ln + 1.0, hr - 15.0).await;
    let rules = auren_cep::compile(auren_cep::DEFAULT_RULES).unwrap();
    let baselines = Baselines::from(&auren_engine::query::baselines(&store, day).await.unwrap());
    assert!(baselines.get(auren_cep::BaselineField::LnRmssdLo).is_some());
    let mut import = auren_engine::import::ImportConfig::new(started_at_ms, rules.clone(), baselines);
    import.kind = SessionKind::Rest;
    auren_engine::import::import_recording(&store, &path, import)
        .await
        .unwrap();
    let desktop: BTreeSet<(String, i64, i64)> = auren_engine::query::alerts_between(&store, 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.rule, started_at_ms + a.evidence.window_from_ms, a.at_unix_ms))
        .collect();
    let desktop_counts = per_rule(&desktop);
    assert!(
        desktop_counts.contains_key("cns_fatigue"),
        "the desktop's rules fired cns_fatigue: {desktop_counts:?}"
    );

    // Synced to the server.
    let user = sync_to(&server, &store, dir.path()).await;
    assert_eq!(
        server_alerts_of(&pool, user, "device").await,
        desktop,
        "the desktop's own alerts arrived with the push"
    );
    // The server must find them itself: the pushed copies would make its inserts no-ops.
    sqlx::query("DELETE FROM alerts WHERE user_id = $1")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    let chunks: i64 = sqlx::query_scalar("SELECT count(*) FROM beat_chunks WHERE user_id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();

    let mut config = KafkaConfig::new(broker.address());
    config.session_idle = Duration::from_secs(1);
    ensure_topics(&config).await.unwrap();
    let shutdown = CancellationToken::new();
    let wake = Wake::start(None, shutdown.clone());
    let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    let (consumer, all_in) = consume_all(
        &pool,
        &config,
        (&rules, &wake),
        &shutdown,
        usize::try_from(chunks).unwrap(),
        Duration::from_secs(180),
    )
    .await;
    assert!(all_in, "consumed {} of {chunks} chunks", consumer.chunks());
    let found = server_alerts_of(&pool, user, "server").await;
    eprintln!(
        "nsr_60min.rr as a rest session: desktop {desktop_counts:?}, server {:?}",
        per_rule(&found)
    );
    assert_eq!(found, desktop, "the server's alerts are the desktop's");
    assert_eq!(
        pulled_by_a_new_device(&server, &pool, user, dir.path()).await,
        desktop.iter().map(|(rule, _, at)| (rule.clone(), *at)).collect(),
        "a new device of the account pulls the server's alerts (the desktop's own copies are gone)"
    );
    // The messages carry the import's own notifications (heart-rate samples, end): fed by them, the rules
    // find the same alerts as from the beats alone.
    let relayed = relayed_chunks(&broker, user).await;
    assert!(
        relayed
            .iter()
            .any(|c| c.live.as_ref().is_some_and(|l| !l.hr.is_empty()))
    );
    assert_eq!(
        fed_alerts(&rules, baselines, SessionKind::Rest, started_at_ms, &relayed),
        desktop,
        "the live model on an import"
    );
    let version = user_version(&pool, user).await;

    // A replay of the whole topic by another group finds the same alerts and inserts none.
    let (replay, replayed) = consume_all(
        &pool,
        &replay_group(&config),
        (&rules, &wake),
        &shutdown,
        usize::try_from(chunks).unwrap(),
        Duration::from_secs(180),
    )
    .await;
    assert!(replayed, "replayed {} of {chunks} chunks", replay.chunks());
    assert_eq!(replay.alerts_inserted(), 0);
    assert_eq!(server_alerts_of(&pool, user, "server").await, desktop);
    assert_eq!(
        user_version(&pool, user).await,
        version,
        "a replay does not bump the version"
    );
    // `auren.alerts` carries both: the desktop's as pushed, and the server's, each once however often the
    // beats were fed.
    let drained = eventually(Duration::from_secs(60), async || outbox_depth(&pool).await == 0).await;
    assert!(drained, "the outbox drained ({} left)", outbox_depth(&pool).await);
    let on_topic = relayed_alerts(&broker, user).await;
    for origin in [AlertOrigin::Device, AlertOrigin::Server] {
        let of_origin: Vec<_> = on_topic
            .iter()
            .filter(|(o, _)| *o == origin)
            .map(|(_, a)| a.clone())
            .collect();
        assert_eq!(
            (of_origin.len(), of_origin.into_iter().collect::<BTreeSet<_>>()),
            (desktop.len(), desktop.clone()),
            "{origin:?} alerts on auren.alerts, each once"
        );
    }
    shutdown.cancel();
    relay.join().await;
    consumer.join().await;
    replay.join().await;
}

/// Every `auren.alerts` message of `user` (keyed by the user, holding the user's alert, the device set
/// exactly for a device's): who raised it and its (rule, window start, time), wall ms.
async fn relayed_alerts(broker: &PrivateBroker, user: Uuid) -> Vec<(AlertOrigin, (String, i64, i64))> {
    users_messages(broker, ALERTS_TOPIC, user)
        .await
        .iter()
        .map(|m| {
            let record: AlertRecord = serde_json::from_slice(&m.payload).unwrap();
            assert_eq!(record.user_id, user);
            assert_eq!(
                record.device_id.is_some(),
                record.origin == AlertOrigin::Device,
                "{record:?}"
            );
            let a = record.alert;
            (record.origin, (a.rule, a.window_start_ms, a.at))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// A live session: the simulated strap through the engine, with contact losses.

/// What a live desktop session left in its store, and the alerts its detector raised.
struct LiveRecording {
    dir: tempfile::TempDir,
    store: auren_store::Store,
    session: auren_store::SessionId,
    started_at_ms: i64,
    rules: RuleSet,
    baselines: Baselines,
    /// (rule, window start, time), wall ms, as the desktop stored them.
    alerts: BTreeSet<(String, i64, i64)>,
}

/// The rule fed by the strap's contact changes, which the desktop stores and syncs.
const CONTACT_RULE: &str = "contact_lost";

/// Ten minutes of a fatigued heart at rest from the simulated strap, about one contact loss (4–12 s) every
/// two minutes, run live by the engine on a desktop store whose 59 mornings make `cns_fatigue` possible.
async fn live_recording(started_at_ms: i64) -> LiveRecording {
    let dir = tempfile::tempdir().unwrap();
    let store = auren_store::Store::open(&dir.path().join("desktop.db"))
        .await
        .unwrap();
    let day = auren_clock::UnixMillis(started_at_ms).day_number();
    seed_mornings(&store, day, 3.5, 60.0).await;
    let baselines = Baselines::from(&auren_engine::query::baselines(&store, day).await.unwrap());
    let rules = rules();
    let mut simulator = SimulatorConfig::new(Scenario::Fatigued, 11);
    simulator.duration = Some(Duration::from_secs(600));
    simulator.pace = Pace::AsFastAsPossible;
    simulator.dropouts_per_hour = 30.0;
    let source = Box::new(Simulator::new(simulator).unwrap());
    let config = auren_engine::SessionConfig::new(SessionKind::Rest, started_at_ms, rules.clone(), baselines);
    let live = auren_engine::start_session(&store, source, config, CancellationToken::new())
        .await
        .unwrap();
    let session = auren_store::SessionId(live.session_id());
    let summary = live.finish().await.unwrap();
    assert_eq!((summary.written.dropped, summary.written.rejected), (0, 0));
    assert!(
        summary.written.gaps >= 2 && summary.written.signals >= 4,
        "contact was lost and came back: {:?}",
        summary.written
    );
    let alerts: BTreeSet<(String, i64, i64)> = auren_engine::query::alerts_between(&store, 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.rule, started_at_ms + a.evidence.window_from_ms, a.at_unix_ms))
        .collect();
    for rule in ["cns_fatigue", CONTACT_RULE, "signal_lost", "hr_over_70"] {
        assert!(
            alerts.iter().any(|a| a.0 == rule),
            "the desktop fired {rule}: {:?}",
            per_rule(&alerts)
        );
    }
    LiveRecording {
        dir,
        store,
        session,
        started_at_ms,
        rules,
        baselines,
        alerts,
    }
}

/// How many of `alerts` are [`CONTACT_RULE`]'s.
fn contact_alerts(alerts: &BTreeSet<(String, i64, i64)>) -> usize {
    alerts.iter().filter(|a| a.0 == CONTACT_RULE).count()
}

/// What a server before contact and link changes were kept relayed: the same messages without them.
fn without_signals(chunks: &[BeatsChunk]) -> Vec<BeatsChunk> {
    chunks
        .iter()
        .cloned()
        .map(|mut c| {
            if let Some(live) = &mut c.live {
                live.signals.clear();
            }
            c
        })
        .collect()
}

/// A message's chunk of `beats` (none: a chunk that only carries `live`).
fn live_chunk(started_at_ms: i64, beats: &[auren_protocol::change::Beat], live: LiveInputs) -> BeatsChunk {
    let chunk = auren_protocol::BeatsChunk::encode("desktop:1", beats).unwrap();
    BeatsChunk {
        v: PAYLOAD_VERSION,
        user_id: Uuid::nil(),
        device_id: Uuid::nil(),
        session_key: "desktop:1".to_owned(),
        session_started_at_ms: started_at_ms,
        wall_ms: started_at_ms + chunk.start_ms.round() as i64,
        chunk,
        live: Some(live),
    }
}

/// How a session's inputs may reach the consumer: each kind in time order, the kinds in any order the
/// device's flushes and pushes can make.
#[derive(Clone, Copy, Debug)]
enum Arrival {
    /// Everything in one push after the session: the session row (with its end) first, then per flush
    /// the beats, gaps, contact and link changes and heart-rate samples.
    AfterTheSession,
    /// Every heart-rate sample, gap and change first, then the beats, then the end.
    InputsFirst,
    /// An older writer's backlog (it put a commit's beats before its samples): per 10 s, the beats of those
    /// seconds, then their heart-rate samples, gaps and changes.
    BeatsBeforeSamples,
    /// A push that ends after the device's first commit, before the first heart-rate sample (the first
    /// notifications carried intervals without contact: the labeller's first beats and the contact change,
    /// no sample), then everything else with the end.
    FirstCommitApart,
    /// Pushed while recording: per 10 s, the gaps, contact and link changes and heart-rate samples of
    /// those seconds and the beats of 20 s before (the labeller confirms beats 16 beats late).
    WhileRecording,
    /// Per 10 s, the gaps of the next 10 s arrive before the heart-rate samples, contact and link changes
    /// and beats of these.
    GapsAhead,
}

/// The stored session as the chunks of `auren.beats` messages arriving as `arrival` says.
async fn arriving(recording: &LiveRecording, arrival: Arrival) -> Vec<BeatsChunk> {
    let store = &recording.store;
    let beats: Vec<auren_protocol::change::Beat> = store
        .beats(recording.session)
        .await
        .unwrap()
        .into_iter()
        .map(|b| auren_protocol::change::Beat {
            t_ms: b.t_ms,
            rr_ms: b.rr_ms,
            artifact: b.artifact,
        })
        .collect();
    let hr: Vec<auren_protocol::change::HrSample> = store
        .hr_samples(recording.session)
        .await
        .unwrap()
        .into_iter()
        .map(|(t_ms, bpm)| auren_protocol::change::HrSample { t_ms, bpm })
        .collect();
    let gaps: Vec<auren_protocol::change::Gap> = store
        .gaps_between(recording.session, f64::NEG_INFINITY, f64::INFINITY)
        .await
        .unwrap()
        .into_iter()
        .map(|g| auren_protocol::change::Gap {
            from_ms: g.from_ms,
            to_ms: g.to_ms,
        })
        .collect();
    let signals: Vec<SignalChange> = store
        .signal_changes(recording.session)
        .await
        .unwrap()
        .into_iter()
        .map(|c| SignalChange {
            t_ms: c.t_ms,
            signal: match c.signal {
                auren_store::Signal::Contact => Signal::Contact,
                auren_store::Signal::Link => Signal::Link,
            },
            up: c.up,
        })
        .collect();
    let row = store.session(recording.session).await.unwrap().unwrap();
    let end = LiveInputs {
        end_ms: row.ended_at.map(|e| e - row.started_at),
        ..LiveInputs::default()
    };
    let all = LiveInputs {
        hr: hr.clone(),
        gaps: gaps.clone(),
        signals: signals.clone(),
        ..LiveInputs::default()
    };
    let minute_chunks = |beats: &[auren_protocol::change::Beat]| -> Vec<BeatsChunk> {
        beats
            .chunks(60)
            .map(|part| live_chunk(recording.started_at_ms, part, LiveInputs::default()))
            .collect()
    };
    let slice = |from: f64, to: f64| LiveInputs {
        hr: hr
            .iter()
            .filter(|h| from < h.t_ms && h.t_ms <= to)
            .copied()
            .collect(),
        gaps: gaps
            .iter()
            .filter(|g| from < g.to_ms && g.to_ms <= to)
            .copied()
            .collect(),
        signals: signals
            .iter()
            .filter(|c| from < c.t_ms && c.t_ms <= to)
            .copied()
            .collect(),
        end_ms: None,
    };
    let beats_in = |from: f64, to: f64| -> Vec<auren_protocol::change::Beat> {
        beats
            .iter()
            .filter(|b| from < b.t_ms && b.t_ms <= to)
            .cloned()
            .collect()
    };
    let last = beats
        .last()
        .map_or(0.0, |b| b.t_ms)
        .max(hr.last().map_or(0.0, |h| h.t_ms))
        .max(signals.last().map_or(0.0, |c| c.t_ms));
    let step = 10_000.0;
    let mut out = Vec::new();
    match arrival {
        Arrival::AfterTheSession => {
            out.push(live_chunk(recording.started_at_ms, &[], end));
            out.push(live_chunk(recording.started_at_ms, &[], all));
            out.extend(minute_chunks(&beats));
        }
        Arrival::InputsFirst => {
            out.push(live_chunk(recording.started_at_ms, &[], all));
            out.extend(minute_chunks(&beats));
            out.push(live_chunk(recording.started_at_ms, &[], end));
        }
        Arrival::BeatsBeforeSamples => {
            let mut from = f64::NEG_INFINITY;
            let mut to = 0.0;
            while from < last {
                out.push(live_chunk(
                    recording.started_at_ms,
                    &beats_in(from, to),
                    LiveInputs::default(),
                ));
                out.push(live_chunk(recording.started_at_ms, &[], slice(from, to)));
                (from, to) = (to, to + step);
            }
            out.push(live_chunk(recording.started_at_ms, &[], end));
        }
        Arrival::FirstCommitApart => {
            // Everything before the first sample's moment, then the rest.
            let first = hr.first().map_or(f64::INFINITY, |h| h.t_ms);
            let before = first - 0.5;
            out.push(live_chunk(
                recording.started_at_ms,
                &beats_in(f64::NEG_INFINITY, before),
                slice(f64::NEG_INFINITY, before),
            ));
            let LiveInputs {
                hr, gaps, signals, ..
            } = slice(before, f64::INFINITY);
            let rest = LiveInputs {
                hr,
                gaps,
                signals,
                end_ms: end.end_ms,
            };
            out.push(live_chunk(
                recording.started_at_ms,
                &beats_in(before, f64::INFINITY),
                rest,
            ));
        }
        Arrival::WhileRecording => {
            let mut from = f64::NEG_INFINITY;
            let mut to = 0.0;
            while from < last {
                out.push(live_chunk(recording.started_at_ms, &[], slice(from, to)));
                out.push(live_chunk(
                    recording.started_at_ms,
                    &beats_in(from - 2.0 * step, to - 2.0 * step),
                    LiveInputs::default(),
                ));
                (from, to) = (to, to + step);
            }
            out.push(live_chunk(
                recording.started_at_ms,
                &beats_in(from - 2.0 * step, f64::INFINITY),
                end,
            ));
        }
        Arrival::GapsAhead => {
            let mut from = f64::NEG_INFINITY;
            let mut to = 0.0;
            while from < last {
                let ahead = LiveInputs {
                    gaps: slice(to, to + step).gaps,
                    ..LiveInputs::default()
                };
                out.push(live_chunk(recording.started_at_ms, &[], ahead));
                let LiveInputs { hr, signals, .. } = slice(from, to);
                let here = LiveInputs {
                    hr,
                    signals,
                    ..LiveInputs::default()
                };
                out.push(live_chunk(recording.started_at_ms, &beats_in(from, to), here));
                (from, to) = (to, to + step);
            }
            out.push(live_chunk(recording.started_at_ms, &[], end));
        }
    }
    out.retain(|c| !c.chunk.rr_raw.is_empty() || c.live.as_ref() != Some(&LiveInputs::default()));
    out
}

/// A live session's beats with the device's heart-rate samples, gaps, contact and link changes and end, in
/// every order they can arrive in, give the server exactly the desktop's alerts, `contact_lost` included.
/// From the beats alone (the RR-replay model the server had before) they do not, nor without the contact
/// and link changes (what the server had before they were kept: no `contact_lost`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_feed_raises_the_desktop_alerts_of_a_live_session() {
    let recording = live_recording(1_764_800_000_000).await;
    let expected = recording.alerts.clone();
    let stored_rr: Vec<f64> = recording
        .store
        .beats(recording.session)
        .await
        .unwrap()
        .iter()
        .map(|b| b.rr_ms)
        .collect();
    let replay_model = wall_alerts(
        recording.started_at_ms,
        &feed_beats(
            &recording.rules,
            recording.baselines,
            SessionKind::Rest,
            &stored_rr,
        )
        .unwrap(),
    );
    let missed = expected.difference(&replay_model).count();
    let extra = replay_model.difference(&expected).count();
    eprintln!(
        "live session: desktop {:?}; the RR-replay model misses {missed} of its {} alerts and adds {extra}",
        per_rule(&recording.alerts),
        expected.len()
    );
    assert!(missed + extra > 0, "the beats alone are not enough");
    for arrival in [
        Arrival::AfterTheSession,
        Arrival::InputsFirst,
        Arrival::BeatsBeforeSamples,
        Arrival::FirstCommitApart,
        Arrival::WhileRecording,
        Arrival::GapsAhead,
    ] {
        let chunks = arriving(&recording, arrival).await;
        let found = fed_alerts(
            &recording.rules,
            recording.baselines,
            SessionKind::Rest,
            recording.started_at_ms,
            &chunks,
        );
        eprintln!(
            "{arrival:?}: {} messages, {CONTACT_RULE} {} of the desktop's {}",
            chunks.len(),
            contact_alerts(&found),
            contact_alerts(&expected)
        );
        assert_eq!(found, expected, "{arrival:?}: {} messages", chunks.len());
        let unsignalled = fed_alerts(
            &recording.rules,
            recording.baselines,
            SessionKind::Rest,
            recording.started_at_ms,
            &without_signals(&chunks),
        );
        assert_eq!(
            (contact_alerts(&unsignalled), unsignalled.len()),
            (0, expected.len() - contact_alerts(&expected)),
            "{arrival:?}: without the changes, all but {CONTACT_RULE}"
        );
    }
}

/// A session whose device pushed beats but no heart-rate samples (a device that stored none) gets the RR
/// replay's alerts, whatever else its messages carry: the messages of this server always carry `live` (here
/// a gap and the end), and a live model waiting for samples that never come would feed the beats with no
/// heart rate at all.
#[tokio::test]
async fn a_session_pushed_without_heart_rate_samples_gets_the_replay_alerts() {
    let rules = rules();
    let rr = reference("nsr_60min.rr");
    let started_at_ms = 1_764_800_000_000;
    let replay = wall_alerts(
        started_at_ms,
        &feed_beats(&rules, Baselines::new(), SessionKind::Other, &rr).unwrap(),
    );
    assert!(
        per_rule(&replay).contains_key("hr_over_70"),
        "the heart-rate rules fire: {:?}",
        per_rule(&replay)
    );
    let mut t = 0.0;
    let beats: Vec<auren_protocol::change::Beat> = rr
        .iter()
        .map(|&rr_ms| {
            t += rr_ms;
            auren_protocol::change::Beat {
                t_ms: t,
                rr_ms,
                artifact: None,
            }
        })
        .collect();
    let mut chunks: Vec<BeatsChunk> = beats
        .chunks(60)
        .map(|part| live_chunk(started_at_ms, part, LiveInputs::default()))
        .collect();
    let end = LiveInputs {
        gaps: vec![auren_protocol::change::Gap {
            from_ms: t + 1_000.0,
            to_ms: t + 5_000.0,
        }],
        end_ms: Some(t.ceil() as i64 + 10_000),
        ..LiveInputs::default()
    };
    chunks.push(live_chunk(started_at_ms, &[], end));
    // As the beats come, not only at the session's end: before its end the feed has raised what a replay
    // of the beats so far raises.
    let mut feed = SessionFeed::new(&rules, Baselines::new(), SessionKind::Other).unwrap();
    let mut so_far = Vec::new();
    for chunk in &chunks[..chunks.len() - 1] {
        feed.push_chunk(chunk, &mut so_far).unwrap();
    }
    let mut replay_feed = SessionFeed::new(&rules, Baselines::new(), SessionKind::Other).unwrap();
    let mut replayed = Vec::new();
    for &rr_ms in &rr {
        replay_feed.push_rr(rr_ms, &mut replayed);
    }
    assert!(!replayed.is_empty());
    assert_eq!(
        wall_alerts(started_at_ms, &so_far),
        wall_alerts(started_at_ms, &replayed),
        "alerts before the end"
    );
    let found = fed_alerts(
        &rules,
        Baselines::new(),
        SessionKind::Other,
        started_at_ms,
        &chunks,
    );
    eprintln!(
        "beats without heart-rate samples: {:?} (the replay model's: {:?})",
        per_rule(&found),
        per_rule(&replay)
    );
    assert_eq!(found, replay);
}

/// The whole path for a live session: recorded by the engine from the simulated strap (contact losses
/// included), synced by auren-sync, stored and put in the outbox by the server's push, relayed to the broker.
/// The relayed messages carry the heart-rate samples, gaps, contact and link changes and end, and fed by them
/// the server's rules find exactly the desktop's alerts, `contact_lost` included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_alerts_equal_the_desktop_for_a_live_session() {
    let Some(binary) = broker_binary() else { return };
    let broker = PrivateBroker::start(binary).await;
    let server = crate::support::TestServer::start().await;
    let pool = server.owner.clone();
    let recording = live_recording(crate::support::recent_ms()).await;
    let user = sync_to(&server, &recording.store, recording.dir.path()).await;

    let config = KafkaConfig::new(broker.address());
    ensure_topics(&config).await.unwrap();
    let shutdown = CancellationToken::new();
    let relay = Relay::spawn(pool.clone(), config, shutdown.clone()).unwrap();
    assert!(eventually(Duration::from_secs(60), async || outbox_depth(&pool).await == 0).await);
    shutdown.cancel();
    relay.join().await;

    let relayed = relayed_chunks(&broker, user).await;
    let carried = relayed
        .iter()
        .filter_map(|c| c.live.as_ref())
        .fold(LiveInputs::default(), |mut all, l| {
            all.append(l.clone());
            all
        });
    let stored_hr = recording.store.hr_samples(recording.session).await.unwrap().len();
    assert_eq!(
        carried.hr.len(),
        stored_hr,
        "every heart-rate sample travelled once"
    );
    let stored_signals = recording
        .store
        .signal_changes(recording.session)
        .await
        .unwrap()
        .len();
    assert_eq!(
        carried.signals.len(),
        stored_signals,
        "every contact and link change travelled once"
    );
    assert!(carried.gaps.len() >= 2 && carried.end_ms.is_some(), "{carried:?}");
    let found = fed_alerts(
        &recording.rules,
        recording.baselines,
        SessionKind::Rest,
        recording.started_at_ms,
        &relayed,
    );
    let expected = recording.alerts.clone();
    eprintln!(
        "live session through the server: desktop {:?}, server {:?} ({} chunks, {} contact and link changes)",
        per_rule(&recording.alerts),
        per_rule(&found),
        relayed.len(),
        stored_signals
    );
    assert_eq!(found, expected, "the server's alerts are the desktop's");

    // The consumer feeds the same messages and writes the same alerts (the pushed copies removed first:
    // they would make its inserts no-ops).
    sqlx::query("DELETE FROM alerts WHERE user_id = $1")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    let mut config = KafkaConfig::new(broker.address());
    config.session_idle = Duration::from_secs(1);
    let shutdown = CancellationToken::new();
    let wake = Wake::start(None, shutdown.clone());
    let (consumer, all_in) = consume_all(
        &pool,
        &config,
        (&recording.rules, &wake),
        &shutdown,
        relayed.len(),
        Duration::from_secs(120),
    )
    .await;
    assert!(
        all_in,
        "consumed {} of {} chunks",
        consumer.chunks(),
        relayed.len()
    );
    assert_eq!(
        server_alerts_of(&pool, user, "server").await,
        expected,
        "the consumer's alerts"
    );
    shutdown.cancel();
    consumer.join().await;
}

/// Five minutes of a strap (a notification a second, 58–62 bpm) whose contact goes twice as the strap's
/// emitter sees it go most often: the notifications stop, the next comes late and without contact (the
/// emitter's gap of the missing notifications, from the last one), a few more without contact, then
/// contact comes back (the emitter's gap of the whole loss — from that same last notification).
fn contact_loss_capture() -> String {
    let mut text = String::from("# auren-capture v1 device=Test%20strap address=00:11:22:33:44:55\n");
    let mut t = 0_u64;
    let mut k = 0_u16;
    while t <= 300_000 {
        let lost = (124_000..132_000).contains(&t) || (260_000..270_000).contains(&t);
        let silent = (121_000..124_000).contains(&t) || (256_000..260_000).contains(&t);
        if silent {
            // Nothing arrives: the notification after it is late.
        } else if lost {
            // Contact supported, not detected; no heart rate worth a beat, no intervals.
            text.push_str(&format!("{t} 0400\n"));
        } else {
            // Contact detected, RR present: the heart rate and one interval (1/1024 s).
            let raw = 1_010 + (k * 13) % 50;
            let bpm = (61_440 / u32::from(raw)) as u8;
            let [lo, hi] = raw.to_le_bytes();
            text.push_str(&format!("{t} 16{bpm:02x}{lo:02x}{hi:02x}\n"));
            k += 1;
        }
        t += 1_000;
    }
    text
}

/// The engine's pipeline on a capture: its alerts and the gaps it was told.
#[derive(Default)]
struct GapsAndAlerts {
    gaps: Vec<(f64, f64)>,
    alerts: Vec<Alert>,
}

impl Sink for GapsAndAlerts {
    fn beat(&mut self, _: &LabelledBeat) {}
    fn gap(&mut self, from_ms: f64, to_ms: f64) {
        self.gaps.push((from_ms, to_ms));
    }
    fn heart_rate(&mut self, _: f64, _: f64) {}
    fn metrics(&mut self, _: f64, _: &[(&'static str, f64)]) {}
    fn alert(&mut self, alert: &Alert) {
        self.alerts.push(alert.clone());
    }
    fn update(&mut self, _: LiveUpdateDto) {}
}

/// The strap's emitter sends two gaps from one start when a late notification comes without contact and
/// contact comes back later. Both reach the server's detector: recorded by the engine on a desktop store,
/// pushed by auren-sync, queued by the push for the relay, and fed — the server's alerts and gaps are the
/// desktop pipeline's. (Keyed by their start, the desktop stored only the first of the two gaps.)
#[tokio::test]
async fn two_gaps_from_one_start_reach_the_server_feed() {
    let capture = contact_loss_capture();
    let started_at_ms = crate::support::recent_ms();
    let rules = rules();
    let replay = || Replay::capture_text(&capture, "contact loss", Pace::AsFastAsPossible).unwrap();

    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let run = tokio::spawn(Box::new(replay()).run(tx, CancellationToken::new()));
    let mut pipeline = Pipeline::new(&rules, Baselines::new(), SessionKind::Rest, None, 0).unwrap();
    let mut desktop = GapsAndAlerts::default();
    while let Some(event) = rx.recv().await {
        pipeline.on_source_event(&event, &mut desktop);
    }
    run.await.unwrap().unwrap();
    pipeline.end(&mut desktop);
    let starts: BTreeSet<u64> = desktop.gaps.iter().map(|g| g.0 as u64).collect();
    assert!(
        desktop.gaps.len() == 4 && starts.len() == 2,
        "two losses, each two gaps from one start: {:?}",
        desktop.gaps
    );

    let dir = tempfile::tempdir().unwrap();
    let store = auren_store::Store::open(&dir.path().join("desktop.db"))
        .await
        .unwrap();
    let config =
        auren_engine::SessionConfig::new(SessionKind::Rest, started_at_ms, rules.clone(), Baselines::new());
    let live = auren_engine::start_session(&store, Box::new(replay()), config, CancellationToken::new())
        .await
        .unwrap();
    live.finish().await.unwrap();
    let server = crate::support::TestServer::start().await;
    let user = sync_to(&server, &store, dir.path()).await;

    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM server_outbox WHERE topic = $1 AND key = $2 ORDER BY id")
            .bind(BEATS_TOPIC)
            .bind(user.to_string())
            .fetch_all(&server.owner)
            .await
            .unwrap();
    let chunks: Vec<BeatsChunk> = payloads.iter().flat_map(|p| read_beats(p).unwrap()).collect();
    let mut carried: Vec<(f64, f64)> = chunks
        .iter()
        .filter_map(|c| c.live.as_ref())
        .flat_map(|l| l.gaps.iter().map(|g| (g.from_ms, g.to_ms)))
        .collect();
    let mut told = desktop.gaps.clone();
    for gaps in [&mut carried, &mut told] {
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    }
    assert_eq!(
        carried, told,
        "the server's detector gets the gaps the desktop's got"
    );
    let found = fed_alerts(
        &rules,
        Baselines::new(),
        SessionKind::Rest,
        started_at_ms,
        &chunks,
    );
    let expected = wall_alerts(started_at_ms, &desktop.alerts);
    assert_eq!(contact_alerts(&expected), 2, "{:?}", per_rule(&expected));
    assert_eq!(found, expected, "the server's alerts are the desktop's");
}

/// [`contact_loss_capture`] whose first five notifications carry an interval with contact not detected
/// (a strap put on as the recording starts): the engine stores their beats — the labeller's first beats
/// are confirmed with their notification — and the contact change, but no heart-rate sample.
fn late_contact_capture() -> String {
    contact_loss_capture()
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((t, data)) if t.parse::<u64>().is_ok_and(|t| t < 5_000) => {
                format!("{t} 14{}\n", &data[2..])
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// A device that stores heart-rate samples, whose first commit holds beats and a contact change but no
/// sample (first notifications with intervals and no contact), pushed in two pushes split after that
/// commit: the server's alerts are the desktop's. (The feed once took beats with no sample before them for
/// a device that stores none and replayed the beats for good: the device's samples, gaps and changes were
/// ignored, `contact_lost` lost.)
#[tokio::test]
async fn a_first_commit_of_beats_without_a_sample_keeps_the_live_model() {
    let capture = late_contact_capture();
    let started_at_ms = 1_764_800_000_000;
    let rules = rules();
    let dir = tempfile::tempdir().unwrap();
    let store = auren_store::Store::open(&dir.path().join("desktop.db"))
        .await
        .unwrap();
    let replay = Replay::capture_text(&capture, "late contact", Pace::AsFastAsPossible).unwrap();
    let config =
        auren_engine::SessionConfig::new(SessionKind::Rest, started_at_ms, rules.clone(), Baselines::new());
    let live = auren_engine::start_session(&store, Box::new(replay), config, CancellationToken::new())
        .await
        .unwrap();
    let session = auren_store::SessionId(live.session_id());
    live.finish().await.unwrap();
    let alerts: BTreeSet<(String, i64, i64)> = auren_engine::query::alerts_between(&store, 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.rule, started_at_ms + a.evidence.window_from_ms, a.at_unix_ms))
        .collect();
    // The start without contact, then the two losses.
    assert_eq!(contact_alerts(&alerts), 3, "{:?}", per_rule(&alerts));
    let recording = LiveRecording {
        dir,
        store,
        session,
        started_at_ms,
        rules,
        baselines: Baselines::new(),
        alerts,
    };
    for arrival in [Arrival::FirstCommitApart, Arrival::BeatsBeforeSamples] {
        let chunks = arriving(&recording, arrival).await;
        let first = chunks[0].live.clone().unwrap_or_default();
        assert!(
            !chunks[0].chunk.rr_raw.is_empty() && first.hr.is_empty(),
            "{arrival:?}: the first message has beats and no heart-rate sample"
        );
        let found = fed_alerts(
            &recording.rules,
            recording.baselines,
            SessionKind::Rest,
            started_at_ms,
            &chunks,
        );
        assert_eq!(found, recording.alerts, "{arrival:?}: {} messages", chunks.len());
    }
    drop(recording.dir);
}
