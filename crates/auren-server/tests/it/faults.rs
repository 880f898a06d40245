//! Exactly once under faults: 20 simulated devices (5 accounts × 4 devices) push their outboxes while, every
//! 0.7 s, either the server process (the `auren-server` binary, what `auren serve` runs) is SIGKILLed and
//! restarted, or PostgreSQL itself is restarted under the running server (a fast shutdown, then an immediate
//! one — a crash that needs recovery — in turn); devices also drop 30 % of the answers they receive (the
//! server committed, the device never heard) and cut 10 % of requests off mid-flight. Afterwards a checker
//! compares what each device sent and was acknowledged with what PostgreSQL and the server outbox hold:
//! 0 lost, 0 duplicated, 0 unexpected.
//!
//! PostgreSQL here is a private cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin into a temporary
//! directory, on a free port of 127.0.0.1, trust authentication), because the machine's cluster is shared
//! by every other test. Broker restarts are not simulated here (the server runs without Kafka; the outbox
//! it fills is what the checker reads).

use crate::support::{chunk, row, session};
use auren_protocol::auth::SignedIn;
use auren_protocol::{Change, PushRequest, PushResponse, PushRow};
use std::collections::{BTreeMap, BTreeSet};
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

/// A fault the killer injects.
#[derive(Clone, Copy, Debug)]
enum Fault {
    KillServer,
    RestartPostgres(Shutdown),
}

/// The faults in turn: a server kill, then a PostgreSQL restart (fast and immediate alternating).
fn fault(n: usize) -> Fault {
    match n % 4 {
        1 => Fault::RestartPostgres(Shutdown::Fast),
        3 => Fault::RestartPostgres(Shutdown::Immediate),
        _ => Fault::KillServer,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_devices_pushing_through_sigkills_postgres_restarts_and_dropped_answers_lose_and_duplicate_nothing()
 {
    let cluster = Arc::new(tokio::task::spawn_blocking(PrivateCluster::init).await.unwrap());
    let admin = sqlx::PgPool::connect(&cluster.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE auren")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let database_url = cluster.url("auren");
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
        let cluster = cluster.clone();
        tokio::spawn(async move {
            let (mut kills, mut restarts) = (0, 0);
            while !done.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(700)).await;
                match fault(kills + restarts) {
                    Fault::KillServer => {
                        let mut child = server.lock().await;
                        child.kill();
                        child.spawn();
                        drop(child);
                        wait_up(&http, &base).await;
                        kills += 1;
                    }
                    Fault::RestartPostgres(how) => {
                        let cluster = cluster.clone();
                        tokio::task::spawn_blocking(move || cluster.restart(how))
                            .await
                            .unwrap();
                        restarts += 1;
                    }
                }
            }
            (kills, restarts)
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
    let (kills, restarts) = killer.await.unwrap();
    eprintln!(
        "faults: {kills} SIGKILLs, {restarts} PostgreSQL restarts, {failed} requests failed or cut off, \
         {dropped} answers dropped"
    );
    assert!(
        kills >= 1 && restarts >= 2 && failed > 0 && dropped > 0,
        "the faults must have happened (both PostgreSQL shutdown modes included)"
    );
    // The server still answers after the last PostgreSQL restart: its pool did not wedge.
    let (status, answer) = support
        .get("/v1/devices", Some(&devices[0].tokens.access_token))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");

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
