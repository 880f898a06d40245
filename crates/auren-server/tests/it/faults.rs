//! Exactly once under faults: 20 simulated devices (5 accounts × 4 devices) push their outboxes while, every
//! 0.7 s, one fault strikes in turn: the server process (the `auren-server` binary, what `auren serve` runs)
//! is SIGKILLed and restarted, PostgreSQL is restarted under the running server (a fast shutdown, then an
//! immediate one — a crash that needs recovery — in turn), or the broker is SIGKILLed and started again on
//! the same data file. Devices also drop 30 % of the answers they receive (the server committed, the device
//! never heard) and cut 10 % of requests off mid-flight. The server runs its outbox relay and alert consumer
//! against the private broker, so SIGKILLs also land between the broker's acknowledgement of a relay batch
//! and the relay's `DELETE` of those rows.
//!
//! Afterwards, once the outbox has drained, a checker compares what each device sent and was acknowledged
//! with what PostgreSQL holds (chunks and sessions: 0 lost, 0 duplicated, 0 unexpected) and with what the
//! topics hold, read whole (`auren.beats`, `auren.sessions`, `auren.alerts`), raw: every message counts. On
//! the topics, "0 duplicated" means both that no outbox id appears twice (no row was sent again: the relay
//! reads the topics' tails before it sends after a doubt, and deletes the rows it finds there) and that no
//! chunk or session appears in two messages (the server never put one acknowledged row into two outbox
//! rows). A message without an outbox id, with a key that is not its user, holding a row nobody
//! acknowledged, or repeating an outbox id with other contents counts as unexpected. The alerts the server's
//! consumer raised from those beats (if its rules found any) are expected on `auren.alerts` once each, as
//! PostgreSQL holds them.
//!
//! PostgreSQL here is a private cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin into a temporary
//! directory, on a free port of 127.0.0.1, trust authentication), because the machine's cluster is shared
//! by every other test; the broker is a private tansu (`broker.rs`). Without `AUREN_BROKER_BIN` (a bare
//! `cargo test`) the server runs without Kafka, no broker is restarted, and the checker reads the rows the
//! outbox table still holds instead of the topics (and says so).

use crate::broker::{PrivateBroker, TopicMessage, broker_binary, eventually, read_whole_topic};
use crate::redis::free_port;
use crate::support::{chunk, row, session};
use auren_cep::{Baselines, SessionKind};
use auren_protocol::auth::SignedIn;
use auren_protocol::{Change, PushRequest, PushResponse, PushRow};
use auren_server::topics::{
    ALERTS_TOPIC, ALL_TOPICS, AlertOrigin, AlertRecord, BEATS_TOPIC, SESSIONS_TOPIC, SessionRecord,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
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
/// The chunk of each session with missed beats (see [`outbox`]).
const IRREGULAR_CHUNK: usize = 4;

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
    /// The private broker's address, when the test has one.
    brokers: Option<String>,
    /// Every life of the server logs here (appended), for a failure's message.
    log: PathBuf,
}

impl ServerProcess {
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_auren-server"));
        command
            .env("AUREN_DATABASE_URL", &self.database_url)
            .env("AUREN_LISTEN", &self.listen)
            .env("AUREN_TEST_FAST_HASH", "1")
            .env_remove("AUREN_REDIS_URL")
            .env_remove("AUREN_KAFKA_BROKERS");
        if let Some(brokers) = &self.brokers {
            command.env("AUREN_KAFKA_BROKERS", brokers);
        }
        let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
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

/// A PostgreSQL cluster of this test alone, removed when dropped.
struct PrivateCluster {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
    /// Commands run as this user (PostgreSQL refuses to run as root).
    run_as: Option<&'static str>,
}

/// How PostgreSQL is stopped before it is started again.
#[derive(Clone, Copy, Debug)]
enum Shutdown {
    /// Sessions are ended, the cluster checkpoints and stops.
    Fast,
    /// The cluster stops at once, like a crash: the start runs crash recovery from the WAL.
    Immediate,
}

impl PrivateCluster {
    fn init() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries must be installed under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("no /usr/lib/postgresql/*/bin/initdb");
        use std::os::unix::fs::MetadataExt as _;
        let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
        let run_as = root.then_some("postgres");
        let data = tempfile::Builder::new().prefix("auren-pg-").tempdir().unwrap();
        if root {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(data.path())
                .status()
                .unwrap();
            assert!(chown.success(), "chown of the cluster directory failed");
        }
        let cluster = Self {
            bin,
            data,
            port: free_port(),
            run_as,
        };
        cluster.run(
            "initdb",
            &["-A", "trust", "-U", "postgres", "--no-sync", "-D"],
            Some(&cluster.dir()),
        );
        cluster.start();
        cluster
    }

    fn dir(&self) -> PathBuf {
        self.data.path().join("pgdata")
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs `tool args… [path]`, as the cluster's user, and requires success.
    fn run(&self, tool: &str, args: &[&str], path: Option<&Path>) {
        let program = self.bin.join(tool);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        command.args(args);
        if let Some(path) = path {
            command.arg(path);
        }
        let output = command.stdin(Stdio::null()).output().unwrap();
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the cluster and returns once it accepts connections (`pg_ctl -w` polls for that).
    fn start(&self) {
        // fsync off: the test restarts PostgreSQL, never the machine, and a PostgreSQL crash loses nothing
        // the operating system already holds; it keeps 2 shared cores from waiting on the disk.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} -c fsync=off -c max_connections=200",
            self.port,
            self.data.path().display()
        );
        let log = self.data.path().join("postgres.log");
        let log = log.to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &["start", "-w", "-t", "60", "-l", &log, "-o", &options, "-D"],
            Some(&self.dir()),
        );
    }

    fn restart(&self, how: Shutdown) {
        let mode = match how {
            Shutdown::Fast => "fast",
            Shutdown::Immediate => "immediate",
        };
        self.run("pg_ctl", &["stop", "-w", "-m", mode, "-D"], Some(&self.dir()));
        self.start();
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        // Best effort: the directory goes with the TempDir whether or not the stop answered.
        let _ = command
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
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

/// One device's outbox: sessions and chunks, ids 1…. In chunk [`IRREGULAR_CHUNK`] of each session every
/// eighth interval is a missed beat (twice as long), so the server's rules find an artifact burst there and
/// `auren.alerts` carries server alerts to check too (how many: [`server_alerts_per_session`]).
fn outbox(device: &SignedIn, started_at: i64) -> Vec<PushRow> {
    let mut rows = Vec::new();
    let mut id = 0;
    for s in 1..=SESSIONS_PER_DEVICE {
        let key = auren_protocol::change::session_key(&device.device_id, s);
        id += 1;
        rows.push(row(id, session(&key, started_at + s * 3_600_000)));
        for c in 0..CHUNKS_PER_SESSION {
            id += 1;
            let beats = session_chunk(&key, c);
            rows.push(row(id, beats));
        }
    }
    rows
}

/// Chunk `c` of the session `key`: a minute apart, 60 + `c` beats of the support's pattern, with a missed
/// beat every eighth interval in chunk [`IRREGULAR_CHUNK`].
fn session_chunk(key: &str, c: usize) -> Change {
    let mut beats = chunk(key, c as f64 * 60_000.0, 60 + c);
    if let (IRREGULAR_CHUNK, Change::Beats(b)) = (c, &mut beats) {
        for rr in b.rr_raw.iter_mut().skip(7).step_by(8) {
            *rr *= 2;
        }
    }
    beats
}

/// The alerts the default rules raise over one session's beats, as the server's consumer feeds them (beats
/// alone): the 4 devices of an account record the same beats at the same times, so their alerts share
/// natural keys, and PostgreSQL stores this many per account and session.
fn server_alerts_per_session() -> usize {
    let rules = auren_cep::compile(auren_cep::DEFAULT_RULES).unwrap();
    let rr_ms: Vec<f64> = (0..CHUNKS_PER_SESSION)
        .flat_map(|c| match session_chunk("d:1", c) {
            Change::Beats(b) => b.rr_raw,
            _ => Vec::new(),
        })
        .map(|raw| f64::from(raw) * 1000.0 / 1024.0)
        .collect();
    let alerts =
        auren_server::kafka::feed_beats(&rules, Baselines::default(), SessionKind::Rest, &rr_ms).unwrap();
    assert!(!alerts.is_empty(), "the irregular chunk raises an alert");
    alerts.len()
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
    let http = crate::support::http_client();
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

/// A fault the killer injects.
#[derive(Clone, Copy, Debug)]
enum Fault {
    KillServer,
    RestartPostgres(Shutdown),
    /// SIGKILL the broker and start it again on the same data file.
    RestartBroker,
}

/// The faults in turn, one cycle of which the killer always completes: server kills, PostgreSQL restarts
/// (fast and immediate alternating) and, with a broker, broker restarts.
const WITH_BROKER: [Fault; 6] = [
    Fault::KillServer,
    Fault::RestartPostgres(Shutdown::Fast),
    Fault::RestartBroker,
    Fault::KillServer,
    Fault::RestartPostgres(Shutdown::Immediate),
    Fault::RestartBroker,
];
const WITHOUT_BROKER: [Fault; 4] = [
    Fault::KillServer,
    Fault::RestartPostgres(Shutdown::Fast),
    Fault::KillServer,
    Fault::RestartPostgres(Shutdown::Immediate),
];

/// How many faults of each kind struck.
#[derive(Debug, Default)]
struct Struck {
    server_kills: u64,
    postgres_restarts: u64,
    broker_restarts: u64,
}

/// Injects the faults every 0.7 s until `done` is set and at least one whole cycle has struck.
async fn run_killer(
    schedule: &'static [Fault],
    server: Arc<Mutex<ServerProcess>>,
    cluster: Arc<PrivateCluster>,
    broker: Option<Arc<Mutex<PrivateBroker>>>,
    done: Arc<AtomicBool>,
    base: String,
) -> Struck {
    let http = crate::support::http_client();
    let mut struck = Struck::default();
    let mut n = 0;
    while n < schedule.len() || !done.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(700)).await;
        match schedule[n % schedule.len()] {
            Fault::KillServer => {
                let mut child = server.lock().await;
                child.kill();
                child.spawn();
                drop(child);
                wait_up(&http, &base).await;
                struck.server_kills += 1;
            }
            Fault::RestartPostgres(how) => {
                let cluster = cluster.clone();
                tokio::task::spawn_blocking(move || cluster.restart(how))
                    .await
                    .unwrap();
                struck.postgres_restarts += 1;
            }
            Fault::RestartBroker => {
                if let Some(broker) = &broker {
                    broker.lock().await.restart().await;
                    struck.broker_restarts += 1;
                }
            }
        }
        n += 1;
    }
    struck
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_devices_pushing_through_sigkills_postgres_and_broker_restarts_and_dropped_answers_lose_and_duplicate_nothing()
 {
    let cluster = Arc::new(tokio::task::spawn_blocking(PrivateCluster::init).await.unwrap());
    let admin = sqlx::PgPool::connect(&cluster.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE auren")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let broker = match broker_binary() {
        Some(binary) => Some(Arc::new(Mutex::new(PrivateBroker::start(binary).await))),
        None => None,
    };
    let brokers = match &broker {
        Some(b) => Some(b.lock().await.address()),
        None => None,
    };
    let logs = tempfile::tempdir().unwrap();
    let database_url = cluster.url("auren");
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let http = crate::support::http_client();
    let server = Arc::new(Mutex::new(ServerProcess {
        child: None,
        database_url: database_url.clone(),
        listen,
        brokers: brokers.clone(),
        log: logs.path().join("server.log"),
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
    let schedule: &'static [Fault] = if broker.is_some() {
        &WITH_BROKER
    } else {
        &WITHOUT_BROKER
    };
    let killer = tokio::spawn(run_killer(
        schedule,
        server.clone(),
        cluster.clone(),
        broker.clone(),
        done.clone(),
        base.clone(),
    ));
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
    let struck = killer.await.unwrap();
    assert!(
        struck.server_kills >= 2
            && struck.postgres_restarts >= 2
            && (broker.is_none() || struck.broker_restarts >= 2)
            && failed > 0
            && dropped > 0,
        "the faults must have happened (both PostgreSQL shutdown modes included): {struck:?}"
    );
    // The server still answers after the last PostgreSQL restart: its pool did not wedge.
    let (status, answer) = support
        .get("/v1/devices", Some(&devices[0].tokens.access_token))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");

    let db = sqlx::PgPool::connect(&database_url).await.unwrap();
    check_database(&db, &devices, &outboxes, &acked).await;
    let server_alerts_expected = ACCOUNTS * SESSIONS_PER_DEVICE as usize * server_alerts_per_session();
    if brokers.is_some() {
        let raised = eventually(Duration::from_secs(120), async || {
            server_alerts(&db).await.len() >= server_alerts_expected
        })
        .await;
        assert!(
            raised,
            "the server's consumer raised {} alerts of {server_alerts_expected}; server log:\n{}",
            server_alerts(&db).await.len(),
            tail(&std::fs::read_to_string(logs.path().join("server.log")).unwrap_or_default())
        );
    }
    // The consumer may still raise alerts (a session closing when idle): the server's alerts are read before
    // the drain and again after the topics; when the two agree nothing was raised in between, so the topics
    // as read must hold each of them.
    let mut settled = None;
    for _ in 0..10 {
        let before = server_alerts(&db).await;
        let (source, messages) = match &brokers {
            Some(brokers) => {
                let drained =
                    eventually(Duration::from_secs(120), async || outbox_depth(&db).await == 0).await;
                assert!(
                    drained,
                    "the outbox drained after the faults ({} rows left); server log:\n{}",
                    outbox_depth(&db).await,
                    tail(&std::fs::read_to_string(logs.path().join("server.log")).unwrap_or_default())
                );
                ("topics", read_topics(brokers).await)
            }
            None => {
                eprintln!("SKIPPED topics: no AUREN_BROKER_BIN; checking the rows the outbox table holds");
                ("outbox table", outbox_messages(&db).await)
            }
        };
        if server_alerts(&db).await == before {
            settled = Some((source, messages, before));
            break;
        }
    }
    let (source, messages, raised) = settled.expect("the consumer stopped raising alerts");
    if brokers.is_some() {
        assert_eq!(raised.len(), server_alerts_expected, "{raised:?}");
    }
    let counts = count_delivered(&devices, &outboxes, &raised, &messages);
    eprintln!(
        "faults: {} SIGKILLs, {} PostgreSQL restarts, {} broker restarts, {failed} requests failed or cut \
         off, {dropped} answers dropped; PostgreSQL: 0 lost, 0 duplicated, 0 unexpected chunks; {source}: \
         {} messages, {} sent again (the same outbox id twice), {} chunks, {} sessions and {} server alerts expected, \
         {} lost, {} duplicated, {} unexpected",
        struck.server_kills,
        struck.postgres_restarts,
        struck.broker_restarts,
        messages.len(),
        counts.redeliveries,
        counts.expected_chunks,
        counts.expected_sessions,
        raised.len(),
        counts.lost,
        counts.duplicated,
        counts.unexpected,
    );
    assert_eq!(
        (
            counts.lost,
            counts.redeliveries,
            counts.duplicated,
            counts.unexpected
        ),
        (0, 0, 0, 0),
        "lost, sent again (the same outbox id twice), duplicated, unexpected rows on the {source}: {:?}",
        counts.examples
    );
}

/// The last 4 kB or so of a log (from a character boundary).
fn tail(log: &str) -> &str {
    let mut start = log.len().saturating_sub(4_000);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

async fn outbox_depth(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM server_outbox")
        .fetch_one(db)
        .await
        .unwrap()
}

/// One message as the checker sees it, from a topic or from the outbox table.
struct Delivered {
    topic: String,
    message: TopicMessage,
}

/// Every message of every topic the server writes.
async fn read_topics(brokers: &str) -> Vec<Delivered> {
    let mut out = Vec::new();
    for topic in ALL_TOPICS {
        let brokers = brokers.to_owned();
        let messages = tokio::task::spawn_blocking(move || read_whole_topic(&brokers, topic))
            .await
            .unwrap();
        out.extend(messages.into_iter().map(|message| Delivered {
            topic: topic.to_owned(),
            message,
        }));
    }
    out
}

/// The rows the outbox table holds (no relay ran), as the messages they would become.
async fn outbox_messages(db: &sqlx::PgPool) -> Vec<Delivered> {
    let rows: Vec<(i64, String, String, Vec<u8>)> =
        sqlx::query_as("SELECT id, topic, key, payload FROM server_outbox")
            .fetch_all(db)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, topic, key, payload)| Delivered {
            topic,
            message: TopicMessage {
                partition: None,
                key: Some(key),
                payload,
                outbox_id: Some(id),
            },
        })
        .collect()
}

/// What the checker found on the topics (or in the outbox table).
#[derive(Debug, Default)]
struct Counts {
    expected_chunks: usize,
    expected_sessions: usize,
    /// Copies of an outbox id after its first, equal to it: a row the relay sent again.
    redeliveries: usize,
    lost: usize,
    duplicated: usize,
    unexpected: usize,
    /// A few of the problems, for the failure message.
    examples: Vec<String>,
}

impl Counts {
    fn note_unexpected(&mut self, what: String) {
        self.unexpected += 1;
        if self.examples.len() < 10 {
            self.examples.push(what);
        }
    }
}

/// A row as a topic carries it: `(user, device, session key, chunk start or None for the session row)`, or
/// for an alert the server's consumer raised `(user, "server", rule, window start)`.
type RowKey = (String, String, String, Option<u64>);

/// The alerts the server's consumer raised (whatever the beats pushed under the faults made its rules find),
/// as rows of `auren.alerts`: each must be there once, as every acknowledged device row must.
async fn server_alerts(db: &sqlx::PgPool) -> BTreeSet<RowKey> {
    let rows: Vec<(uuid::Uuid, String, i64)> =
        sqlx::query_as("SELECT user_id, rule, window_start_ms FROM alerts WHERE origin = 'server'")
            .fetch_all(db)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(user, rule, window)| server_alert_key(user, rule, window))
        .collect()
}

fn server_alert_key(user: uuid::Uuid, rule: String, window_start_ms: i64) -> RowKey {
    (
        user.to_string(),
        "server".to_owned(),
        rule,
        Some(window_start_ms.cast_unsigned()),
    )
}

/// Compares the acknowledged rows with the delivered messages: copies of an outbox id are counted as
/// redeliveries, and the rows are then counted once per distinct outbox id (so a redelivery is not also
/// counted as a duplicated row).
fn count_delivered(
    devices: &[SignedIn],
    outboxes: &[Vec<PushRow>],
    server_alerts: &BTreeSet<RowKey>,
    messages: &[Delivered],
) -> Counts {
    let mut expected: BTreeSet<RowKey> = server_alerts.clone();
    let mut counts = Counts::default();
    for (device, rows) in devices.iter().zip(outboxes) {
        let (user, id) = (device.user_id.0.clone(), device.device_id.0.clone());
        for r in rows {
            match &r.change {
                Change::Beats(c) => {
                    counts.expected_chunks += 1;
                    expected.insert((
                        user.clone(),
                        id.clone(),
                        c.session_key.clone(),
                        Some(c.start_ms.to_bits()),
                    ));
                }
                Change::Session(s) => {
                    counts.expected_sessions += 1;
                    expected.insert((user.clone(), id.clone(), s.session_key.clone(), None));
                }
                _ => {}
            }
        }
    }
    let mut first: HashMap<i64, &Delivered> = HashMap::new();
    let mut distinct = Vec::new();
    for delivered in messages {
        let Some(id) = delivered.message.outbox_id else {
            counts.note_unexpected(format!("a message on {} without an outbox id", delivered.topic));
            continue;
        };
        match first.get(&id) {
            None => {
                first.insert(id, delivered);
                distinct.push(delivered);
            }
            Some(earlier)
                if earlier.topic == delivered.topic
                    && earlier.message.key == delivered.message.key
                    && earlier.message.payload == delivered.message.payload =>
            {
                counts.redeliveries += 1;
            }
            Some(_) => counts.note_unexpected(format!("outbox id {id} twice with different contents")),
        }
    }
    let mut seen: BTreeMap<RowKey, usize> = BTreeMap::new();
    for delivered in distinct {
        for row in rows_of(delivered, &mut counts) {
            *seen.entry(row).or_default() += 1;
        }
    }
    counts.lost = expected.iter().filter(|r| !seen.contains_key(*r)).count();
    counts.duplicated = seen.values().map(|n| n - 1).sum();
    for row in seen.keys().filter(|r| !expected.contains(*r)) {
        counts.note_unexpected(format!("a row nobody acknowledged: {row:?}"));
    }
    counts
}

/// The rows one message carries; a message that cannot be read, or keyed by another user than its rows',
/// counts as unexpected.
fn rows_of(delivered: &Delivered, counts: &mut Counts) -> Vec<RowKey> {
    let payload = &delivered.message.payload;
    let (user, rows) = match delivered.topic.as_str() {
        BEATS_TOPIC => match auren_server::topics::read_beats(payload) {
            Ok(chunks) => (
                chunks.first().map(|c| c.user_id.to_string()),
                chunks
                    .into_iter()
                    .map(|c| {
                        (
                            c.user_id.to_string(),
                            c.device_id.to_string(),
                            c.session_key,
                            Some(c.chunk.start_ms.to_bits()),
                        )
                    })
                    .collect(),
            ),
            Err(e) => {
                counts.note_unexpected(format!("an unreadable beats message: {e}"));
                return Vec::new();
            }
        },
        SESSIONS_TOPIC => match serde_json::from_slice::<SessionRecord>(payload) {
            Ok(s) => (
                Some(s.user_id.to_string()),
                vec![(
                    s.user_id.to_string(),
                    s.device_id.to_string(),
                    s.session.session_key,
                    None,
                )],
            ),
            Err(e) => {
                counts.note_unexpected(format!("an unreadable session message: {e}"));
                return Vec::new();
            }
        },
        ALERTS_TOPIC => match serde_json::from_slice::<AlertRecord>(payload) {
            // No device pushes an alert here: only the server's may be on the topic.
            Ok(a) if a.origin == AlertOrigin::Server && a.device_id.is_none() => (
                Some(a.user_id.to_string()),
                vec![server_alert_key(a.user_id, a.alert.rule, a.alert.window_start_ms)],
            ),
            Ok(a) => {
                counts.note_unexpected(format!("an alert no device pushed: {a:?}"));
                return Vec::new();
            }
            Err(e) => {
                counts.note_unexpected(format!("an unreadable alert message: {e}"));
                return Vec::new();
            }
        },
        _ => {
            counts.note_unexpected(format!("a message on {} (no device pushed one)", delivered.topic));
            return Vec::new();
        }
    };
    if user != delivered.message.key {
        counts.note_unexpected(format!(
            "a message keyed {:?} holding rows of {user:?}",
            delivered.message.key
        ));
    }
    rows
}

/// What PostgreSQL holds equals what the devices sent and had acknowledged.
async fn check_database(db: &sqlx::PgPool, devices: &[SignedIn], outboxes: &[Vec<PushRow>], acked: &[i64]) {
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
            .fetch_all(db)
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

    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(sessions, (devices.len() as i64) * SESSIONS_PER_DEVICE);
}
