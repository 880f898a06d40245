//! The CEP consumer feeds several users' sessions on its shards (one per core) at once: with the users'
//! messages interleaved on the topic and each user recording two sessions in a row on one device (the
//! second ends the first), every user gets exactly the alerts the server feed raises for each session on
//! its own, and a second consumer group replaying the topic inserts none (issue 13).

use std::collections::BTreeSet;
use std::time::Duration;

use auren_cep::baseline::morning_baselines;
use auren_cep::{RuleSet, SessionKind, compile};
use auren_clock::UnixMillis;
use auren_server::kafka::{KafkaConfig, Relay, ensure_topics, feed_beats};
use auren_server::redis::Wake;
use auren_server::topics::{BEATS_TOPIC, BeatsChunk, PAYLOAD_VERSION};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::broker::{PrivateBroker, broker_binary, consume_all, replay_group};

/// Rules that fire every few minutes on a resting recording.
const RULES: &str = r#"
[[rule]]
name = "hr_over_70"
severity = "info"
when = "hr > 70"
for = "10s"
cooldown = "1m"
message = "hr {hr:.0}"

[[rule]]
name = "rmssd_low"
severity = "info"
when = "rmssd_60s > 10 and avg(ln_rmssd, 1m) > 2"
cooldown = "2m"
message = "rmssd {rmssd_60s:.1}"
"#;

const USERS: usize = 4;
/// Beats per session (about 8 minutes at rest).
const SESSION_BEATS: usize = 600;

fn recording() -> Vec<f64> {
    let path = format!(
        "{}/../../tests/data/reference/nsr_60min.rr",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

/// One session's beats as one-minute chunks, each in its own message.
fn messages(user: Uuid, device: Uuid, key: &str, started_at_ms: i64, rr: &[f64]) -> Vec<Vec<u8>> {
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
    beats
        .chunks(60)
        .map(|part| {
            let chunk = auren_protocol::BeatsChunk::encode(key, part).unwrap();
            let message = BeatsChunk {
                v: PAYLOAD_VERSION,
                user_id: user,
                device_id: device,
                session_key: key.to_owned(),
                session_started_at_ms: started_at_ms,
                wall_ms: started_at_ms + chunk.start_ms.round() as i64,
                chunk,
                live: None,
            };
            serde_json::to_vec(&message).unwrap()
        })
        .collect()
}

/// (rule, window start, time) of the alerts the server feed raises for one session on its own.
fn expected(rules: &RuleSet, started_at_ms: i64, rr: &[f64]) -> BTreeSet<(String, i64, i64)> {
    let baselines = morning_baselines(&[], UnixMillis(started_at_ms).day_number());
    feed_beats(rules, baselines, SessionKind::Other, rr)
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.rule,
                started_at_ms + a.evidence.window.0,
                started_at_ms + a.at_ms,
            )
        })
        .collect()
}

async fn stored(pool: &PgPool, user: Uuid) -> BTreeSet<(String, i64, i64)> {
    sqlx::query_as::<_, (String, i64, i64)>("SELECT rule, window_start_ms, at FROM alerts WHERE user_id = $1")
        .bind(user)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shards_feed_each_users_sessions_in_order_and_alert_once() {
    let Some(binary) = broker_binary() else { return };
    let broker = PrivateBroker::start(binary).await;
    let pool = PgPool::connect(&crate::support::fresh_database().await)
        .await
        .unwrap();
    auren_server::db::MIGRATOR.run(&pool).await.unwrap();
    let mut config = KafkaConfig::new(broker.address());
    config.session_idle = Duration::from_secs(1);
    ensure_topics(&config).await.unwrap();
    let rules = compile(RULES).unwrap();
    let rr = recording();

    // Each user: two sessions of one device, from different stretches of the hour.
    let mut users = Vec::new();
    let mut queues: Vec<Vec<(Uuid, Vec<u8>)>> = Vec::new();
    for u in 0..USERS {
        let user = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'not a hash')")
            .bind(user)
            .bind(format!("{}@example.invalid", user.simple()))
            .execute(&pool)
            .await
            .unwrap();
        let device = Uuid::new_v4();
        let mut want = BTreeSet::new();
        let mut queue = Vec::new();
        for s in 0..2 {
            let from = (2 * u + s) * SESSION_BEATS / 2;
            let part = &rr[from..from + SESSION_BEATS];
            let started_at_ms = 1_764_800_000_000 + (s as i64) * 3_600_000;
            let key = format!("device:{s}");
            want.extend(expected(&rules, started_at_ms, part));
            queue.extend(
                messages(user, device, &key, started_at_ms, part)
                    .into_iter()
                    .map(|m| (user, m)),
            );
        }
        assert!(!want.is_empty(), "user {u}'s sessions raise alerts");
        users.push((user, want));
        queues.push(queue);
    }
    // The users' messages interleaved on the topic, each user's in order.
    let mut chunks = 0;
    for i in 0..queues.iter().map(Vec::len).max().unwrap() {
        for queue in &queues {
            if let Some((user, payload)) = queue.get(i) {
                sqlx::query("INSERT INTO server_outbox (topic, key, payload) VALUES ($1, $2, $3)")
                    .bind(BEATS_TOPIC)
                    .bind(user.to_string())
                    .bind(payload)
                    .execute(&pool)
                    .await
                    .unwrap();
                chunks += 1;
            }
        }
    }

    let shutdown = CancellationToken::new();
    let wake = Wake::start(None, shutdown.clone());
    let relay = Relay::spawn(pool.clone(), config.clone(), shutdown.clone()).unwrap();
    let (consumer, done) = consume_all(
        &pool,
        &config,
        (&rules, &wake),
        &shutdown,
        chunks,
        Duration::from_secs(120),
    )
    .await;
    assert!(done, "consumed {} of {chunks} chunks", consumer.chunks());
    let mut total = 0;
    for (user, want) in &users {
        assert_eq!(&stored(&pool, *user).await, want, "user {user}");
        total += want.len();
    }
    assert_eq!(consumer.alerts_inserted() as usize, total);

    let (replay, replayed) = consume_all(
        &pool,
        &replay_group(&config),
        (&rules, &wake),
        &shutdown,
        chunks,
        Duration::from_secs(120),
    )
    .await;
    assert!(replayed, "replayed {} of {chunks} chunks", replay.chunks());
    assert_eq!(replay.alerts_inserted(), 0);
    shutdown.cancel();
    relay.join().await;
    consumer.join().await;
    replay.join().await;
}
