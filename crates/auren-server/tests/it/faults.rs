//! Exactly once under faults: 20 simulated devices (5 accounts × 4 devices) push their outboxes while the
//! server process (the `auren-server` binary, what `auren serve` runs) is SIGKILLed and restarted every
//! 0.7 s; devices also drop 30 % of the answers they receive (the server committed, the device never heard)
//! and cut 10 % of requests off mid-flight. Afterwards a checker compares what each device sent and was
//! acknowledged with what PostgreSQL and the server outbox hold: 0 lost, 0 duplicated, 0 unexpected.
//! (PostgreSQL and broker restarts are not simulated here: the cluster is shared by the whole machine.)

use crate::support::{chunk, fresh_database, row, session};
use auren_protocol::auth::SignedIn;
use auren_protocol::{Change, PushRequest, PushResponse, PushRow};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const ACCOUNTS: usize = 5;
const DEVICES_PER_ACCOUNT: usize = 4;
const SESSIONS_PER_DEVICE: i64 = 3;
const CHUNKS_PER_SESSION: usize = 10;
const BATCH: usize = 4;

/// A tiny deterministic generator (the faults differ per device and are the same every run).
struct Lcg(u64);

impl Lcg {
    fn chance(&mut self, percent: u64) -> bool {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % 100 < percent
    }
}

struct ServerProcess {
    child: Option<Child>,
    database_url: String,
    listen: String,
}

impl ServerProcess {
    fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_auren-server"))
            .env("AUREN_DATABASE_URL", &self.database_url)
            .env("AUREN_LISTEN", &self.listen)
            .env("AUREN_TEST_FAST_HASH", "1")
            .env_remove("AUREN_REDIS_URL")
            .env_remove("AUREN_KAFKA_BROKERS")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // std's kill is SIGKILL: no graceful shutdown, transactions in flight are cut.
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits for the child to answer /livez (an outside process: polled, with a deadline).
async fn wait_up(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http
            .get(format!("{base}/livez"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server did not come up at {base}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One device's outbox: sessions and chunks, ids 1…
fn outbox(device: &SignedIn, started_at: i64) -> Vec<PushRow> {
    let mut rows = Vec::new();
    let mut id = 0;
    for s in 1..=SESSIONS_PER_DEVICE {
        let key = auren_protocol::change::session_key(&device.device_id, s);
        id += 1;
        rows.push(row(id, session(&key, started_at + s * 3_600_000)));
        for c in 0..CHUNKS_PER_SESSION {
            id += 1;
            rows.push(row(id, chunk(&key, c as f64 * 60_000.0, 60 + c)));
        }
    }
    rows
}

/// What one device went through.
#[derive(Default)]
struct Faults {
    failed_requests: u64,
    dropped_answers: u64,
}

/// Pushes the whole outbox through the faults; returns the highest acknowledged id and the faults seen.
async fn run_device(base: String, device: SignedIn, rows: Vec<PushRow>, seed: u64) -> (i64, Faults) {
    let mut seen = Faults::default();
    let http = reqwest::Client::new();
    let mut faults = Lcg(seed);
    let mut acked = 0_i64;
    let last = rows.last().map_or(0, |r| r.outbox_id);
    while acked < last {
        let batch: Vec<PushRow> = rows
            .iter()
            .filter(|r| r.outbox_id > acked)
            .take(BATCH)
            .cloned()
            .collect();
        let request = PushRequest {
            protocol_version: 1,
            device_id: device.device_id.clone(),
            rows: batch,
        };
        let timeout = if faults.chance(10) {
            Duration::from_millis(3)
        } else {
            Duration::from_secs(10)
        };
        let sent = http
            .post(format!("{base}/v1/sync/push"))
            .bearer_auth(&device.tokens.access_token)
            .json(&request)
            .timeout(timeout)
            .send()
            .await;
        let answer = match sent {
            Ok(response) if response.status().is_success() => response.json::<PushResponse>().await.ok(),
            Ok(response) => {
                assert!(
                    response.status().is_server_error(),
                    "only the server's failures: {}",
                    response.status()
                );
                None
            }
            Err(_) => None,
        };
        match answer {
            Some(_) if faults.chance(30) => {
                seen.dropped_answers += 1;
                tokio::time::sleep(Duration::from_millis(20 + (seed % 5) * 10)).await;
            }
            Some(answer) => {
                assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
                assert!(
                    answer.last_applied >= acked,
                    "acknowledgements never go backwards"
                );
                acked = answer.last_applied;
            }
            // Cut off or failed: retry after a short pause (the client's backoff).
            None => {
                seen.failed_requests += 1;
                tokio::time::sleep(Duration::from_millis(20 + (seed % 5) * 10)).await;
            }
        }
    }
    (acked, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_devices_pushing_through_sigkills_and_dropped_answers_lose_and_duplicate_nothing() {
    let database_url = fresh_database().await;
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let server = Arc::new(Mutex::new(ServerProcess {
        child: None,
        database_url: database_url.clone(),
        listen,
    }));
    server.lock().await.spawn();
    wait_up(&http, &base).await;

    let support = crate::support::TestClient::new(&base);
    let mut devices = Vec::new();
    for a in 0..ACCOUNTS {
        let email = format!("runner{a}@example.com");
        devices.push(support.account(&email).await);
        for d in 1..DEVICES_PER_ACCOUNT {
            devices.push(support.login(&email, &format!("device {d}")).await);
        }
    }
    let started_at = crate::support::recent_ms() - 10 * 3_600_000;
    let outboxes: Vec<Vec<PushRow>> = devices.iter().map(|d| outbox(d, started_at)).collect();

    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let (server, done, http, base) = (server.clone(), done.clone(), http.clone(), base.clone());
        tokio::spawn(async move {
            let mut kills = 0;
            while !done.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(700)).await;
                let mut child = server.lock().await;
                child.kill();
                child.spawn();
                drop(child);
                wait_up(&http, &base).await;
                kills += 1;
            }
            kills
        })
    };
    let mut tasks = Vec::new();
    for (i, (device, rows)) in devices.iter().cloned().zip(outboxes.clone()).enumerate() {
        tasks.push(tokio::spawn(run_device(base.clone(), device, rows, 7 + i as u64)));
    }
    let mut acked = Vec::new();
    let (mut failed, mut dropped) = (0, 0);
    for task in tasks {
        let (last, seen) = task.await.unwrap();
        acked.push(last);
        failed += seen.failed_requests;
        dropped += seen.dropped_answers;
    }
    done.store(true, Ordering::SeqCst);
    let kills = killer.await.unwrap();
    eprintln!("faults: {kills} SIGKILLs, {failed} requests failed or cut off, {dropped} answers dropped");
    assert!(
        kills >= 1 && failed > 0 && dropped > 0,
        "the faults must have happened"
    );

    check(&database_url, &devices, &outboxes, &acked).await;
}

/// What the server holds equals what the devices sent and had acknowledged.
async fn check(database_url: &str, devices: &[SignedIn], outboxes: &[Vec<PushRow>], acked: &[i64]) {
    let db = sqlx::PgPool::connect(database_url).await.unwrap();
    let mut expected: BTreeSet<(String, String, Vec<i16>)> = BTreeSet::new();
    for ((device, rows), acked) in devices.iter().zip(outboxes).zip(acked) {
        assert_eq!(*acked, rows.last().unwrap().outbox_id, "every row acknowledged");
        for r in rows {
            if let Change::Beats(c) = &r.change {
                let raw = c.rr_raw.iter().map(|v| *v as i16).collect();
                expected.insert((
                    device.device_id.0.clone(),
                    format!("{}@{}", c.session_key, c.start_ms),
                    raw,
                ));
            }
        }
    }
    let stored: Vec<(String, String, f64, Vec<i16>)> =
        sqlx::query_as("SELECT device_id::text, session_key, start_ms, rr_raw FROM beat_chunks")
            .fetch_all(&db)
            .await
            .unwrap();
    let stored_set: BTreeSet<(String, String, Vec<i16>)> = stored
        .iter()
        .map(|(d, k, s, r)| (d.clone(), format!("{k}@{s}"), r.clone()))
        .collect();
    let lost = expected.difference(&stored_set).count();
    let unexpected = stored_set.difference(&expected).count();
    let duplicated = stored.len() - stored_set.len();
    assert_eq!(
        (lost, duplicated, unexpected),
        (0, 0, 0),
        "lost, duplicated, unexpected chunks"
    );

    let messages: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT topic, payload FROM server_outbox")
        .fetch_all(&db)
        .await
        .unwrap();
    let mut per_chunk: BTreeMap<String, usize> = BTreeMap::new();
    for (topic, payload) in &messages {
        if topic == "auren.beats" {
            for m in auren_server::topics::read_beats(payload).unwrap() {
                *per_chunk
                    .entry(format!("{}@{}", m.session_key, m.chunk.start_ms))
                    .or_default() += 1;
            }
        }
    }
    assert_eq!(
        per_chunk.len(),
        expected.len(),
        "every chunk in the outbox once (in its push's batch): none lost"
    );
    assert!(per_chunk.values().all(|n| *n == 1), "and none twice");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, (devices.len() as i64) * SESSIONS_PER_DEVICE);
}
