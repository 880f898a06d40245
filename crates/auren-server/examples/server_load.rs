//! The load generator of `cargo xtask bench server`: the server (in a child process of this example, so
//! 10,000 client sockets and 10,000 server sockets do not share one process' descriptor limit) on a fresh
//! PostgreSQL database with Redis from `AUREN_REDIS_URL` and a private tansu broker with a new store started
//! from `AUREN_BROKER_BIN` (`shared/broker.rs`; without it, the broker `AUREN_KAFKA_BROKERS` names, if any),
//! and the clients here. Phases: a paced ingest at the goal's 250k beats/s (open loop: latency from when a push
//! was due), a saturating ingest (devices pushing back to back: the most the server takes), each followed
//! by the relay emptying the outbox and the relay lag the server measured; non-waiting pulls (clients
//! pulling back to back, pulls that find data and empty ones apart, with each process' CPU); long polls
//! (10,000 parked, each woken by a push of its account, lost wake-ups counted apart from polls that timed
//! out before their push); the bytes PostgreSQL uses per stored beat. Accounts use the minimal password
//! hash (sign-in is not what is measured). `AUREN_BENCH_PHASES` = `all` (the default), `ingest` (the two
//! ingests and their drains only), `reads` (pulls and long polls only) or `pull` (pulls only). The run's database (`auren_bench_<uuid>`) is dropped at the end, also
//! when the run fails, unless `AUREN_BENCH_KEEP_DATABASE` is set (to study the run's data afterwards). The
//! devices record a real resting heart, looped (`AUREN_BENCH_HEART=sawtooth` gives the synthetic one runs
//! before 2026-12-05 used: the server's CEP consumer spends several times more per beat on it, see
//! `shared/heart.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use auren_protocol::auth::SignedIn;
use auren_protocol::{BeatsChunk, Change, PushRequest, PushRow, SessionChange};
use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[path = "shared/bench_database.rs"]
mod bench_database;
#[path = "shared/broker.rs"]
mod broker;
#[path = "shared/heart.rs"]
mod heart;
#[path = "shared/wrk.rs"]
mod wrk;

use bench_database::BenchDatabase;
use broker::Broker;
use heart::Heart;

/// The paced ingest's devices, then the saturating ingest's, then the pulling ones (each device's outbox
/// ids run once, so the two ingests do not share devices).
const ACCOUNTS: usize = 2 * INGEST_DEVICES + PULL_DEVICES;
const INGEST_DEVICES: usize = 64;
/// Pulling devices, taken in turn: enough that each stays under its quota (50 a second) at 20,000 pulls/s.
const PULL_DEVICES: usize = 400;
const INGEST_FOR: Duration = Duration::from_secs(20);
/// Minute chunks (~60 beats) per push: a device catching up after a few hours offline.
const CHUNKS_PER_PUSH: usize = 40;
const BEATS_PER_CHUNK: usize = 60;
/// The paced ingest's offered load (the goal's rate).
const PACED_BEATS_PER_S: f64 = 250_000.0;
/// The longest wait for the relay to empty the outbox between phases.
const DRAIN_LIMIT: Duration = Duration::from_secs(180);
/// Each pull phase's length, and how many requests are in flight (closed loop: a client sends its next
/// pull as soon as the last is answered).
const PULL_FOR: Duration = Duration::from_secs(10);
const PULL_CLIENTS: usize = 32;
/// Minute chunks of the recording every pulling account holds (a non-empty pull returns them all).
const PULL_DATA_CHUNKS: usize = 10;
const LONG_POLLS: usize = 10_000;
/// The accounts' waking pushes are spread evenly over this long unless `AUREN_BENCH_WAKE_SPREAD_S` says
/// otherwise (10,000 polls woken in 10 s: 1,000 pushes a second).
const WAKE_SPREAD: Duration = Duration::from_secs(10);
/// The longest spread: every poll must still be parked (25 s at most) when its account's push comes.
const MAX_WAKE_SPREAD_S: u64 = 20;

/// How long the waking pushes are spread over.
fn wake_spread() -> Res<Duration> {
    match std::env::var("AUREN_BENCH_WAKE_SPREAD_S") {
        Err(_) => Ok(WAKE_SPREAD),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(s) if (1..=MAX_WAKE_SPREAD_S).contains(&s) => Ok(Duration::from_secs(s)),
            _ => Err(format!(
                "AUREN_BENCH_WAKE_SPREAD_S={text:?}: expected whole seconds from 1 to {MAX_WAKE_SPREAD_S}"
            )
            .into()),
        },
    }
}

/// The server's allocator (as in the `auren-server` binary), so the bench measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Res<()> {
    // reqwest is built without a crypto provider of its own (see the workspace Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, database_url] if mode == "serve" => runtime.block_on(serve(database_url)),
        [] => runtime.block_on(load()),
        _ => Err("usage: server_load [serve DATABASE_URL]".into()),
    }
}

/// The server side: prints its address, serves until stdin closes.
async fn serve(database_url: &str) -> Res<()> {
    // The server's own log on stderr when asked for (`RUST_LOG=auren_server::kafka=debug` shows slow relay
    // rounds and their steps).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let mut config = ServerConfig::new(database_url, "127.0.0.1:0".parse()?);
    config.redis_url = std::env::var("AUREN_REDIS_URL").ok();
    config.kafka_brokers = std::env::var("AUREN_KAFKA_BROKERS").ok();
    config.hash_cost = HashCost::Minimal;
    config.hash_permits = 8;
    // For trying other pull connection counts (the default: PoolSizes::default().pull).
    if let Some(pull) = std::env::var("AUREN_BENCH_PULL_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        config.pools.pull = pull;
    }
    let shutdown = CancellationToken::new();
    let server = Server::start(config, shutdown.clone()).await?;
    println!("http://{}", server.local_addr()?);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(_)) = lines.next_line().await {}
        stop.cancel();
    });
    server.serve(shutdown).await?;
    Ok(())
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl serde::Serialize,
    ) -> Res<T> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{path}: {status}: {}", response.text().await.unwrap_or_default()).into());
        }
        Ok(response.json().await?)
    }
}

async fn load() -> Res<()> {
    let heart = bench_heart()?;
    println!(
        "the devices record the {} heart (AUREN_BENCH_HEART)",
        heart.name()
    );
    let database = BenchDatabase::create().await?;
    let backends = Backends {
        admin: database.admin.clone(),
        database: database.name.clone(),
    };
    // A private broker when the cached binary is named (`cargo xtask bench server` does), else the shared
    // one `AUREN_KAFKA_BROKERS` names, if any.
    let private = match std::env::var("AUREN_BROKER_BIN") {
        Ok(binary) => Some(Broker::start(&binary).await?),
        Err(_) => None,
    };
    let (kafka, which) = match (&private, std::env::var("AUREN_KAFKA_BROKERS")) {
        (Some(broker), _) => (Some(broker.address()), "a private tansu with a new store"),
        (None, Ok(shared)) => (Some(shared), "the shared one (AUREN_KAFKA_BROKERS)"),
        (None, Err(_)) => (None, "none"),
    };
    let on = kafka.as_deref().map(|address| format!(" on {address}"));
    println!("broker: {which}{}", on.unwrap_or_default());
    let outcome = load_on(&database.url, &backends, kafka.as_deref()).await;
    if std::env::var_os("AUREN_BENCH_KEEP_DATABASE").is_some() {
        // For looking at the run's data afterwards (EXPLAIN, pgbench); dropping it is then the caller's job.
        eprintln!("kept the bench database {}", database.name);
        return outcome;
    }
    // The server child is gone by now (waited for, or killed on drop when the run failed).
    let dropped = database.drop_now().await;
    if let Err(e) = &dropped {
        eprintln!("could not drop the bench database: {e}");
    }
    outcome.and(dropped)
}

async fn load_on(database_url: &str, backends: &Backends, kafka: Option<&str>) -> Res<()> {
    let exe = std::env::current_exe()?;
    let mut command = tokio::process::Command::new(exe);
    match kafka {
        Some(brokers) => command.env("AUREN_KAFKA_BROKERS", brokers),
        None => command.env_remove("AUREN_KAFKA_BROKERS"),
    };
    let mut child = command
        .args(["serve", database_url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let base = tokio::io::BufReader::new(stdout)
        .lines()
        .next_line()
        .await?
        .ok_or("the server printed no address")?;
    let client = Arc::new(Client {
        base,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(LONG_POLLS + 100)
            .build()?,
    });
    let devices = accounts(&client, "bench", ACCOUNTS).await?;
    let mut report = Vec::new();
    let phases = Phases::from_env()?;
    let server_pid = child.id().ok_or("the server exited")?;
    if matches!(phases, Phases::All | Phases::Ingest) {
        paced_ingest(&client, &devices, &mut report).await?;
        drain_outbox(&client, "the paced ingest", &mut report).await?;
        relay_lag(&client, "at the paced ingest", &mut report).await?;
        ingest(&client, &devices, &mut report).await?;
        // Each phase on its own: the relay (and the broker) draining what the saturating ingest queued would
        // otherwise share the two cores with the pulls and the long polls.
        drain_outbox(&client, "the saturating ingest", &mut report).await?;
        relay_lag(&client, "after the saturating ingest (its drain)", &mut report).await?;
    }
    let broker = kafka.is_some();
    if phases != Phases::Ingest {
        pulls(&client, &devices, (server_pid, backends), broker, &mut report).await?;
    }
    if matches!(phases, Phases::All | Phases::Reads) {
        // Every poll its own device of its own account: no two polls ask the same, so none shares another's
        // read when woken.
        let pollers = accounts(&client, "poll", LONG_POLLS).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let cpu = CpuShare::start(server_pid, backends, None).await?;
        long_polls(&client, &pollers, &mut report).await?;
        report.push(
            cpu.finish(backends)
                .await?
                .row("long-poll phase (parking and waking)"),
        );
    }
    if phases == Phases::All {
        bytes_per_beat(database_url, &mut report).await?;
    }
    println!("\nsync server, this machine (2 cores shared), in one run:\n");
    println!("| measure | value | goal |");
    println!("|---|---|---|");
    for (measure, value, goal) in report {
        println!("| {measure} | {value} | {goal} |");
    }
    println!("| seed stack (for comparison) | 707 inserts/s; Kafka \"timed out\" | |");
    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    Ok(())
}

/// Which phases run: all of them; (`AUREN_BENCH_PHASES=ingest`) only the ingests, their drains and the
/// relay's lag, for a change to the write path or the relay; (`reads`) only the pulls and the long polls, for
/// measuring a change to the read path without the minutes of ingest and drains; or (`pull`) only the pulls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phases {
    All,
    Ingest,
    Reads,
    Pull,
}

impl Phases {
    fn from_env() -> Res<Self> {
        match std::env::var("AUREN_BENCH_PHASES").as_deref() {
            Err(_) | Ok("" | "all") => Ok(Self::All),
            Ok("ingest") => Ok(Self::Ingest),
            Ok("reads") => Ok(Self::Reads),
            Ok("pull") => Ok(Self::Pull),
            Ok(other) => {
                Err(format!("AUREN_BENCH_PHASES={other:?}: expected all, ingest, reads or pull").into())
            }
        }
    }
}

/// The PostgreSQL backends serving the run's database (the server's pools), whose CPU a phase counts apart
/// from the rest of the machine's.
#[derive(Clone, Debug)]
struct Backends {
    admin: sqlx::PgPool,
    database: String,
}

impl Backends {
    /// Each backend's CPU seconds so far.
    async fn cpu(&self) -> Res<std::collections::HashMap<i32, f64>> {
        let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
            .bind(&self.database)
            .fetch_all(&self.admin)
            .await?;
        Ok(pids
            .into_iter()
            .filter_map(|pid| Some((pid, process_cpu_s(&pid.to_string())?)))
            .collect())
    }
}

/// CPU time over a phase: this process (the load generator), the server's process, the run database's
/// PostgreSQL backends, and the whole machine (Redis and anything else running), from /proc, so a figure says
/// whether the load generator itself was what ran out of cores, and what a request cost each side.
struct CpuShare {
    server_pid: u32,
    started: Instant,
    load: f64,
    /// A load-generating child that runs through the phase (wrk), with its CPU seconds at the start.
    load_child: Option<(String, f64)>,
    server: f64,
    postgres: std::collections::HashMap<i32, f64>,
    /// The Redis server's pid and CPU seconds, when one runs on this machine.
    redis: Option<(String, f64)>,
    machine_busy: f64,
}

/// What [`CpuShare`] measured, in CPU seconds over `wall` seconds.
struct CpuUsed {
    wall: f64,
    cores: f64,
    load: f64,
    server: f64,
    postgres: f64,
    redis: f64,
    busy: f64,
}

impl CpuShare {
    async fn start(server_pid: u32, backends: &Backends, load_child: Option<u32>) -> Res<Self> {
        Ok(Self {
            server_pid,
            started: Instant::now(),
            load: process_cpu_s("self").unwrap_or(0.0),
            load_child: load_child.and_then(|pid| {
                let pid = pid.to_string();
                let cpu = process_cpu_s(&pid)?;
                Some((pid, cpu))
            }),
            server: process_cpu_s(&server_pid.to_string()).unwrap_or(0.0),
            postgres: backends.cpu().await?,
            redis: redis_pid().and_then(|pid| Some((pid.clone(), process_cpu_s(&pid)?))),
            machine_busy: machine_busy_s().unwrap_or(0.0),
        })
    }

    async fn finish(self, backends: &Backends) -> Res<CpuUsed> {
        let wall = self.started.elapsed().as_secs_f64();
        let load = process_cpu_s("self").ok_or("no /proc/self/stat")? - self.load
            + self
                .load_child
                .and_then(|(pid, before)| Some(process_cpu_s(&pid)? - before))
                .unwrap_or(0.0);
        let server = process_cpu_s(&self.server_pid.to_string()).ok_or("no server stat")? - self.server;
        // A backend that began during the phase counts whole; one that ended during it is lost (the pools
        // keep theirs open).
        let postgres = backends
            .cpu()
            .await?
            .iter()
            .map(|(pid, now)| now - self.postgres.get(pid).unwrap_or(&0.0))
            .sum();
        let redis = self
            .redis
            .and_then(|(pid, before)| Some(process_cpu_s(&pid)? - before))
            .unwrap_or(0.0);
        let busy = machine_busy_s().ok_or("no /proc/stat")? - self.machine_busy;
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        Ok(CpuUsed {
            wall,
            cores,
            load,
            server,
            postgres,
            redis,
            busy,
        })
    }
}

impl CpuUsed {
    fn describe(&self) -> String {
        let share = |s: f64| 100.0 * s / (self.wall * self.cores);
        format!(
            "load generator {:.1} s ({:.0} %), server {:.1} s ({:.0} %), PostgreSQL (the run's backends) {:.1} s ({:.0} %), \
             Redis {:.1} s, everything else (other jobs) {:.1} s; machine busy {:.0} %",
            self.load,
            share(self.load),
            self.server,
            share(self.server),
            self.postgres,
            share(self.postgres),
            self.redis,
            (self.busy - self.load - self.server - self.postgres - self.redis).max(0.0),
            share(self.busy),
        )
    }

    fn row(&self, phase: &str) -> (String, String, String) {
        (
            format!(
                "CPU during the {phase} ({:.1} s × {:.0} cores)",
                self.wall, self.cores
            ),
            self.describe(),
            String::new(),
        )
    }
}

/// User + system CPU seconds of a process (`self` or a pid), from /proc/PID/stat. (wrk, a child, is read
/// by its own pid while it runs: `CpuShare::load_child`.)
fn process_cpu_s(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at state; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / CLOCK_TICKS)
}

/// The pid of the machine's redis-server, if one runs (the first found in /proc).
fn redis_pid() -> Option<String> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid = entry.file_name().into_string().ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        (comm.trim_end() == "redis-server").then_some(pid)
    })
}

/// Busy CPU seconds of the whole machine (every core), from the first line of /proc/stat.
fn machine_busy_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let values: Vec<f64> = line.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let total: f64 = values.iter().take(8).sum();
    Some((total - values.get(3)? - values.get(4)?) / CLOCK_TICKS)
}

/// Linux' USER_HZ (the unit of /proc's CPU times), 100 on every mainstream architecture.
const CLOCK_TICKS: f64 = 100.0;

/// `n` new accounts named `{prefix}{i}@example.invalid`, each with its one device, created 64 at a time.
async fn accounts(client: &Arc<Client>, prefix: &str, n: usize) -> Res<Vec<SignedIn>> {
    use futures::StreamExt as _;
    let started = Instant::now();
    let created: Vec<Res<SignedIn>> = futures::stream::iter(0..n)
        .map(|i| {
            let client = client.clone();
            let body = serde_json::json!({
                "email": format!("{prefix}{i}@example.invalid"),
                "password": "correct horse battery",
                "device_name": "bench",
            });
            async move { client.post::<SignedIn>("/v1/accounts", None, &body).await }
        })
        .buffered(64)
        .collect()
        .await;
    let devices = created.into_iter().collect::<Res<Vec<_>>>()?;
    eprintln!("{n} accounts ({prefix}…) in {:.1?}", started.elapsed());
    Ok(devices)
}

/// Every load task's latencies, sorted, and their error count summed.
async fn gather_latencies(
    tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, u64)>>,
) -> Res<(Vec<Duration>, u64)> {
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Ok((latencies, errors))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One push: the session row once, then `CHUNKS_PER_PUSH` minute chunks continuing the session.
fn push_body(device: &SignedIn, outbox_id: &mut i64, next_ms: &mut f64, started_at: i64) -> PushRequest {
    let key = auren_protocol::change::session_key(&device.device_id, 1);
    let mut rows = Vec::new();
    if *outbox_id == 0 {
        *outbox_id += 1;
        rows.push(PushRow {
            outbox_id: *outbox_id,
            change: rest_session(&key, started_at),
        });
    }
    for _ in 0..CHUNKS_PER_PUSH {
        // Outbox ids 2, 3, … are the session's chunks 0, 1, …: each continues the heart where the last ended.
        let from = (*outbox_id - 1) as usize * BEATS_PER_CHUNK;
        *outbox_id += 1;
        let chunk = heart_chunk(&key, *next_ms, from);
        if let Change::Beats(beats) = &chunk {
            *next_ms += heart::span_ms(&beats.rr_raw);
        }
        rows.push(PushRow {
            outbox_id: *outbox_id,
            change: chunk,
        });
    }
    push_request(device, rows)
}

/// A session a simulated device records: at rest, from `started_at`.
fn rest_session(key: &str, started_at: i64) -> Change {
    Change::Session(SessionChange {
        session_key: key.to_owned(),
        started_at,
        ended_at: None,
        kind: "rest".to_owned(),
        source: "simulator:rest".to_owned(),
        strap: None,
    })
}

/// The heart the devices record: `AUREN_BENCH_HEART` (`recorded`, the default, or `sawtooth`, what runs
/// before 2026-12-05 used; see `shared/heart.rs`).
fn bench_heart() -> Res<Heart> {
    Ok(match std::env::var("AUREN_BENCH_HEART") {
        Ok(name) => Heart::named(&name).map_err(|e| format!("AUREN_BENCH_HEART: {e}"))?,
        Err(_) => Heart::Recorded,
    })
}

/// The bench's heart, read from the environment once (`load` refuses a bad name before any push).
static HEART: std::sync::LazyLock<Heart> =
    std::sync::LazyLock::new(|| bench_heart().unwrap_or(Heart::Recorded));

/// A chunk of `BEATS_PER_CHUNK` beats of the bench's heart from beat `from` of the session, starting at
/// `start_ms` into it.
fn heart_chunk(key: &str, start_ms: f64, from: usize) -> Change {
    Change::Beats(BeatsChunk {
        session_key: key.to_owned(),
        start_ms,
        rr_raw: HEART.beats(from, BEATS_PER_CHUNK),
        t_breaks: Vec::new(),
        rr_overrides: Vec::new(),
        artifacts: Vec::new(),
    })
}

fn push_request(device: &SignedIn, rows: Vec<PushRow>) -> PushRequest {
    PushRequest {
        protocol_version: auren_protocol::PROTOCOL_VERSION,
        device_id: device.device_id.clone(),
        rows,
    }
}

/// Open-loop ingest at `PACED_BEATS_PER_S`: each device pushes on its own schedule (the devices' phases
/// spread evenly), the next push of a device waits only for its previous one (outbox ids go in order), and
/// a push's latency runs from when it was due, so a server falling behind shows in the figures.
async fn paced_ingest(
    client: &Arc<Client>,
    devices: &[SignedIn],
    report: &mut Vec<(String, String, String)>,
) -> Res<()> {
    let beats_per_push = (CHUNKS_PER_PUSH * BEATS_PER_CHUNK) as f64;
    let period = Duration::from_secs_f64(INGEST_DEVICES as f64 * beats_per_push / PACED_BEATS_PER_S);
    let started = Instant::now();
    let deadline = started + INGEST_FOR;
    let started_at = auren_server::app::system_now_ms() - 3_600_000;
    let mut tasks = Vec::new();
    for (k, device) in devices.iter().take(INGEST_DEVICES).cloned().enumerate() {
        let client = client.clone();
        let first = started + period.mul_f64(k as f64 / INGEST_DEVICES as f64);
        tasks.push(tokio::spawn(async move {
            let (mut outbox_id, mut next_ms) = (0_i64, 0.0_f64);
            let mut latencies = Vec::new();
            let mut errors = 0_u64;
            let mut due = first;
            while due < deadline {
                tokio::time::sleep_until(due.into()).await;
                let body = push_body(&device, &mut outbox_id, &mut next_ms, started_at);
                let answer = client
                    .post::<serde_json::Value>("/v1/sync/push", Some(&device.tokens.access_token), &body)
                    .await;
                latencies.push(due.elapsed());
                errors += u64::from(answer.is_err());
                due += period;
            }
            (latencies, errors)
        }));
    }
    let (latencies, errors) = gather_latencies(tasks).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let pushes = latencies.len() as u64 - errors;
    report.push((
        format!(
            "paced ingest, {INGEST_DEVICES} devices, {PACED_BEATS_PER_S:.0} beats/s offered in pushes of \
             {CHUNKS_PER_PUSH}×{BEATS_PER_CHUNK} beats"
        ),
        format!(
            "{:.0} beats/s taken, push latency (from when due) p50 {:.0?} / p99 {:.0?} ({errors} errors)",
            pushes as f64 * beats_per_push / elapsed,
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0)
        ),
        "≥ 250,000 beats/s with push p99 < 250 ms".to_owned(),
    ));
    Ok(())
}

/// A gauge's value in the server's `/metrics` text.
fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with(' ')))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
}

async fn metrics_text(client: &Client) -> Res<String> {
    Ok(client
        .http
        .get(format!("{}/metrics", client.base))
        .send()
        .await?
        .text()
        .await?)
}

/// Waits (at most `DRAIN_LIMIT`) until the relay has emptied the outbox after `phase`; reports how long.
async fn drain_outbox(client: &Client, phase: &str, report: &mut Vec<(String, String, String)>) -> Res<()> {
    let started = Instant::now();
    // The relay samples the depth once a second: wait for a sample taken after the phase ended.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let Some(first) = gauge(&metrics_text(client).await?, "auren_outbox_depth") else {
        return Ok(());
    };
    let mut depth = first;
    while depth > 0.0 && started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(250)).await;
        depth = gauge(&metrics_text(client).await?, "auren_outbox_depth").unwrap_or(depth);
    }
    let took = started.elapsed();
    report.push((
        format!("outbox drained after {phase}"),
        if depth > 0.0 {
            // The relay's own account of why (it degrades the broker's status in /readyz with the reason).
            let ready = client
                .http
                .get(format!("{}/readyz", client.base))
                .send()
                .await?
                .text()
                .await?;
            format!("{first:.0} rows queued; {depth:.0} still there after {took:.0?}; /readyz: {ready}")
        } else {
            format!("{first:.0} rows queued, empty {took:.1?} after the phase ended")
        },
        "relay lag p99 < 1 s".to_owned(),
    ));
    Ok(())
}

async fn ingest(
    client: &Arc<Client>,
    devices: &[SignedIn],
    report: &mut Vec<(String, String, String)>,
) -> Res<()> {
    let started = Instant::now();
    let deadline = started + INGEST_FOR;
    // Sessions an hour ago, so their month's partition exists.
    let started_at = auren_server::app::system_now_ms() - 3_600_000;
    let mut tasks = Vec::new();
    for device in devices.iter().skip(INGEST_DEVICES).take(INGEST_DEVICES).cloned() {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let (mut outbox_id, mut next_ms) = (0_i64, 0.0_f64);
            let mut latencies = Vec::new();
            let mut errors = 0_u64;
            while Instant::now() < deadline {
                let body = push_body(&device, &mut outbox_id, &mut next_ms, started_at);
                let sent = Instant::now();
                let answer = client
                    .post::<serde_json::Value>("/v1/sync/push", Some(&device.tokens.access_token), &body)
                    .await;
                latencies.push(sent.elapsed());
                if answer.is_err() {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let (latencies, errors) = gather_latencies(tasks).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let pushes = latencies.len() as u64 - errors;
    let beats = pushes * (CHUNKS_PER_PUSH * BEATS_PER_CHUNK) as u64;
    report.push((
        format!(
            "saturating ingest, {INGEST_DEVICES} devices pushing {CHUNKS_PER_PUSH}×{BEATS_PER_CHUNK} beats back to back"
        ),
        format!("{:.0} beats/s ({errors} errors)", beats as f64 / elapsed),
        "≥ 250,000 beats/s".to_owned(),
    ));
    report.push((
        "push latency p50 / p99 (same run: as many pushes in flight as devices)".to_owned(),
        format!(
            "{:.0?} / {:.0?}",
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0)
        ),
        "p99 < 250 ms".to_owned(),
    ));
    Ok(())
}

/// Gives every pulling account the same small recording to pull (a session and `PULL_DATA_CHUNKS`
/// minute chunks, pushed by its device in two pushes, so two versions); returns each account's version,
/// the cursor of an empty pull.
async fn seed_pull_data(client: &Arc<Client>, devices: &[SignedIn]) -> Res<Vec<i64>> {
    let started_at = auren_server::app::system_now_ms() - 3_600_000;
    let mut tasks: Vec<tokio::task::JoinHandle<Res<i64>>> = Vec::new();
    for device in devices.iter().cloned() {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = auren_protocol::change::session_key(&device.device_id, 1);
            let mut rows = vec![PushRow {
                outbox_id: 1,
                change: rest_session(&key, started_at),
            }];
            for n in 0..PULL_DATA_CHUNKS {
                rows.push(PushRow {
                    outbox_id: 2 + n as i64,
                    change: heart_chunk(&key, 60_000.0 * n as f64, n * BEATS_PER_CHUNK),
                });
            }
            let token = device.tokens.access_token.as_str();
            // Two pushes (two versions): the session with the first half of the chunks, then the rest.
            let second = rows.split_off(1 + PULL_DATA_CHUNKS / 2);
            for rows in [rows, second] {
                let body = push_request(&device, rows);
                client
                    .post::<serde_json::Value>("/v1/sync/push", Some(token), &body)
                    .await?;
            }
            let answer: serde_json::Value = client
                .post(
                    "/v1/sync/pull",
                    Some(token),
                    &serde_json::json!({"protocol_version": 1, "cursor": 0}),
                )
                .await?;
            // What was pushed comes back; the server's CEP consumer may already have added an alert of its
            // own (it reads the seeded beats from the broker), so only the pushed types are counted.
            let types: Vec<&str> = answer["changes"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|change| change["change"]["type"].as_str().unwrap_or("?"))
                .collect();
            let pushed = types
                .iter()
                .filter(|t| matches!(**t, "session" | "beats"))
                .count();
            let only_these = types.iter().all(|t| matches!(*t, "session" | "beats" | "alert"));
            if pushed != 1 + PULL_DATA_CHUNKS || !only_these || answer["more"] != false {
                return Err(format!("a seeded account pulled {types:?}, more: {}", answer["more"]).into());
            }
            answer["cursor"]
                .as_i64()
                .ok_or_else(|| "a pull answered no cursor".into())
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        versions.push(task.await??);
    }
    Ok(versions)
}

/// Waits (at most `DRAIN_LIMIT`) until the server's CEP consumer has taken every beats message the relay
/// delivered (`auren_consumer_lag_seconds_count` against `auren_relay_delivered_total{topic="auren.beats"}`)
/// and then none for a second (its count unchanged over two samples half a second apart). Waiting only for
/// the count to rest was not enough: in back-to-back pull-only runs the new server's consumer had taken 2–3
/// of the seeded messages when the pulls began, and the first pull phase shared the cores with the broker
/// (4,050–4,550 two-version pulls/s, other jobs 2–4 core-seconds of 20). Without a broker there is nothing to
/// wait for. The consumer group outlives a run, so a backlog an earlier run left on the broker (a full run's
/// ingest: minutes of CEP work) is worked through here too; the report says how far the consumer got.
async fn consumer_quiet(
    client: &Client,
    broker: bool,
    report: &mut Vec<(String, String, String)>,
) -> Res<()> {
    if !broker {
        return Ok(());
    }
    let started = Instant::now();
    let taken = |text: &str| gauge(text, "auren_consumer_lag_seconds_count");
    let relayed =
        |text: &str| gauge(text, "auren_relay_delivered_total{topic=\"auren.beats\"}").unwrap_or(0.0);
    let text = metrics_text(client).await?;
    let (mut last, mut sent) = (taken(&text), relayed(&text));
    let mut unchanged = 0;
    while unchanged < 2 && started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let text = metrics_text(client).await?;
        let now = taken(&text);
        sent = relayed(&text);
        let all_taken = now.is_some_and(|n| n >= sent);
        unchanged = if all_taken && now == last {
            unchanged + 1
        } else {
            0
        };
        last = now;
    }
    let taken = last.unwrap_or(0.0);
    report.push((
        "the server's CEP consumer before the pulls (the seeded beats, and any backlog on the broker)".to_owned(),
        if unchanged >= 2 {
            format!(
                "quiet {:.1?} after the outbox drained ({taken:.0} messages taken; {sent:.0} beats messages relayed)",
                started.elapsed()
            )
        } else {
            format!(
                "not caught up after {:.0?}: {taken:.0} messages taken, {sent:.0} beats messages relayed",
                started.elapsed()
            )
        },
        String::new(),
    ));
    Ok(())
}

/// What one pull phase measured, by either load generator.
struct PullRun {
    requests: u64,
    errors: u64,
    elapsed: f64,
    p50: Duration,
    p99: Duration,
    mean: Duration,
    max: Duration,
    bytes_per_answer: f64,
}

/// How much longer than its measured window wrk runs on each side (see [`wrk_window`]).
const WRK_MARGIN: Duration = Duration::from_secs(1);

/// What drives a pull phase: the bench's own reqwest clients, or wrk (see `shared/wrk.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PullLoad {
    Reqwest,
    Wrk,
}

impl PullLoad {
    fn describe(self) -> String {
        match self {
            Self::Reqwest => format!("{PULL_CLIENTS} reqwest clients back to back"),
            Self::Wrk => format!("wrk, one thread, {PULL_CLIENTS} connections back to back"),
        }
    }

    /// Drives one pull phase and measures it: the load's figures, each process' CPU and the pulls the
    /// server counted over the same time.
    async fn measure(
        self,
        client: &Arc<Client>,
        (devices, cursors): (&Arc<Vec<SignedIn>>, &Arc<Vec<i64>>),
        (server_pid, backends): (u32, &Backends),
    ) -> Res<(PullRun, CpuUsed, ServerPulls)> {
        match self {
            Self::Reqwest => {
                let phase = pull_run(client, devices, cursors);
                measured(client, (server_pid, backends), None, phase).await
            }
            Self::Wrk => wrk_window(client, (devices, cursors), (server_pid, backends)).await,
        }
    }
}

/// Runs `phase` and measures it: each process' CPU (with `load_child`'s as the load generator's) and the
/// pulls the server counted over the same time.
async fn measured<T>(
    client: &Client,
    (server_pid, backends): (u32, &Backends),
    load_child: Option<u32>,
    phase: impl std::future::Future<Output = Res<T>>,
) -> Res<(T, CpuUsed, ServerPulls)> {
    let counted = ServerPulls::read(client).await?;
    let cpu = CpuShare::start(server_pid, backends, load_child).await?;
    let outcome = phase.await?;
    let used = cpu.finish(backends).await?;
    let counted = ServerPulls::read(client).await?.since(counted);
    Ok((outcome, used, counted))
}

/// wrk stops by closing its connections with pulls in flight, and the server closes the PostgreSQL
/// connection of a pull cancelled mid-statement (it may be mid-protocol), so the backends that did the
/// phase's work would be gone before their CPU is read. So wrk runs `WRK_MARGIN` longer on each side, and the
/// phase is the `PULL_FOR` window inside: the CPU and the server's own pull count over it, wrk's CPU read
/// from its running process. Latency, errors and sizes are wrk's, over its whole run; its latencies are
/// corrected for coordinated omission (see [`pull_row`]).
async fn wrk_window(
    client: &Arc<Client>,
    (devices, cursors): (&Arc<Vec<SignedIn>>, &Arc<Vec<i64>>),
    (server_pid, backends): (u32, &Backends),
) -> Res<(PullRun, CpuUsed, ServerPulls)> {
    let requests: Vec<wrk::PullRequest> = devices
        .iter()
        .zip(cursors.iter())
        .map(|(device, cursor)| wrk::PullRequest {
            token: device.tokens.access_token.clone(),
            body: serde_json::json!({"protocol_version": 1, "cursor": cursor}).to_string(),
        })
        .collect();
    let wrk = wrk::Wrk::start(&client.base, &requests, PULL_CLIENTS, PULL_FOR + 2 * WRK_MARGIN)?;
    tokio::time::sleep(WRK_MARGIN).await;
    let window = async {
        tokio::time::sleep(PULL_FOR).await;
        Ok(())
    };
    let ((), used, counted) = measured(client, (server_pid, backends), wrk.pid(), window).await?;
    let whole = wrk.finish().await?;
    let run = PullRun {
        requests: counted.answered as u64,
        errors: whole.errors,
        elapsed: used.wall,
        p50: Duration::from_micros(whole.p50_us),
        p99: Duration::from_micros(whole.p99_us),
        mean: Duration::from_secs_f64(whole.mean_us / 1e6),
        max: Duration::from_micros(whole.max_us),
        // wrk counts every byte read, the HTTP head included.
        bytes_per_answer: whole.bytes as f64 / whole.requests.saturating_sub(whole.errors).max(1) as f64,
    };
    Ok((run, used, counted))
}

/// `PULL_CLIENTS` clients pulling back to back (no pause) for `PULL_FOR`; each request takes the next
/// device in turn, so every device stays far below its quota (at 10,000 requests/s each of 400 devices
/// asks 25 a second of its 50) and no two requests in flight ask the same (which the server would answer
/// with one read). `cursors[k]` is what device `k` asks from.
///
/// The load generator shares the two cores it measures, so it is kept as light as reqwest allows: its own
/// single-threaded runtime on a thread of its own (the bench's multi-threaded one moved each answer's
/// wake-up between its two workers), with each device's request head and body built once beforehand, as
/// wrk's are (see `shared/wrk.rs`). Its connections are opened before the measured window.
async fn pull_run(
    client: &Arc<Client>,
    devices: &Arc<Vec<SignedIn>>,
    cursors: &Arc<Vec<i64>>,
) -> Res<PullRun> {
    let url: reqwest::Url = format!("{}/v1/sync/pull", client.base).parse()?;
    let livez: reqwest::Url = format!("{}/livez", client.base).parse()?;
    let mut requests = Vec::with_capacity(devices.len());
    for (device, cursor) in devices.iter().zip(cursors.iter()) {
        let bearer = format!("Bearer {}", device.tokens.access_token);
        let body = serde_json::to_vec(&serde_json::json!({"protocol_version": 1, "cursor": cursor}))?;
        requests.push((
            reqwest::header::HeaderValue::try_from(bearer)?,
            axum::body::Bytes::from(body),
        ));
    }
    let requests = Arc::new(requests);
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(pull_clients(url, livez, requests))
    })
    .await?
}

/// The clients of [`pull_run`], on the runtime it made for them.
async fn pull_clients(
    url: reqwest::Url,
    livez: reqwest::Url,
    requests: Arc<Vec<(reqwest::header::HeaderValue, axum::body::Bytes)>>,
) -> Res<PullRun> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(PULL_CLIENTS)
        .build()?;
    // One connection per client, opened now: `PULL_CLIENTS` requests at once each need their own.
    let opened = (0..PULL_CLIENTS).map(|_| http.get(livez.clone()).send());
    for answer in futures::future::join_all(opened).await {
        answer?.error_for_status()?;
    }
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + PULL_FOR;
    let mut tasks = Vec::new();
    for _ in 0..PULL_CLIENTS {
        let (http, url, requests, next) = (http.clone(), url.clone(), requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut bytes) = (Vec::new(), 0_u64, 0_u64);
            while Instant::now() < deadline {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % requests.len();
                let (bearer, body) = &requests[k];
                let sent = Instant::now();
                let answer = http
                    .post(url.clone())
                    .header(reqwest::header::AUTHORIZATION, bearer.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                // The whole answer is read (not parsed: the load generator shares the cores it measures).
                match answer {
                    Ok(answer) if answer.status().is_success() => match answer.bytes().await {
                        Ok(body) => bytes += body.len() as u64,
                        Err(_) => errors += 1,
                    },
                    _ => errors += 1,
                }
                latencies.push(sent.elapsed());
            }
            (latencies, errors, bytes)
        }));
    }
    let (mut latencies, mut errors, mut answer_bytes) = (Vec::new(), 0, 0);
    for task in tasks {
        let (l, e, b) = task.await?;
        latencies.extend(l);
        errors += e;
        answer_bytes += b;
    }
    latencies.sort_unstable();
    Ok(PullRun {
        requests: latencies.len() as u64,
        errors,
        elapsed: started.elapsed().as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        mean: latencies.iter().sum::<Duration>() / u32::try_from(latencies.len().max(1))?,
        max: latencies.last().copied().unwrap_or_default(),
        bytes_per_answer: answer_bytes as f64 / latencies.len().saturating_sub(errors as usize).max(1) as f64,
    })
}

/// Non-waiting pulls as fast as the server answers them: first ones that find the small recording
/// (cursor 0), then empty ones (the cursor at the account's version: what a synced device asks most), each
/// with the CPU each process used, and per request the server's and PostgreSQL's. Each kind is driven
/// twice: by the bench's reqwest clients, then by wrk (`shared/wrk.rs`), whose lower cost per request leaves
/// more of the shared cores to the server.
async fn pulls(
    client: &Arc<Client>,
    devices: &[SignedIn],
    (server_pid, backends): (u32, &Backends),
    broker: bool,
    report: &mut Vec<(String, String, String)>,
) -> Res<()> {
    let devices: Arc<Vec<SignedIn>> = Arc::new(devices.iter().skip(2 * INGEST_DEVICES).cloned().collect());
    let versions = Arc::new(seed_pull_data(client, &devices).await?);
    // The seeded beats go through the relay to the broker and through the server's CEP consumer: let that
    // finish first, or the pulls share the server's cores with it.
    drain_outbox(client, "seeding the pulls' data", report).await?;
    consumer_quiet(client, broker, report).await?;
    let from_zero = Arc::new(vec![0_i64; devices.len()]);
    let last_only = Arc::new(versions.iter().map(|v| v - 1).collect::<Vec<_>>());
    let half = PULL_DATA_CHUNKS - PULL_DATA_CHUNKS / 2;
    for (what, cursors) in [
        (
            format!("two versions, a session and {PULL_DATA_CHUNKS} minute chunks"),
            from_zero,
        ),
        (
            format!("one version (a pull woken by a push), {half} minute chunks"),
            last_only,
        ),
        ("nothing new (empty)".to_owned(), versions),
    ] {
        for load in [PullLoad::Reqwest, PullLoad::Wrk] {
            let (run, used, counted) = load
                .measure(client, (&devices, &cursors), (server_pid, backends))
                .await?;
            report.push(pull_row(&what, load, devices.len(), &run, &used, counted));
        }
    }
    Ok(())
}

/// The pulls the server itself counted (`/metrics`), beside what the load generator counted: a check on
/// the generator's figures.
#[derive(Clone, Copy, Debug)]
struct ServerPulls {
    answered: f64,
    /// Answered from another request's read (the bench keeps such pairs out of flight at once).
    shared: f64,
}

impl ServerPulls {
    async fn read(client: &Client) -> Res<Self> {
        let text = metrics_text(client).await?;
        Ok(Self {
            answered: gauge(&text, "auren_pull_requests_total").unwrap_or(0.0),
            shared: gauge(&text, "auren_pull_shared_total").unwrap_or(0.0),
        })
    }

    fn since(self, before: Self) -> Self {
        Self {
            answered: self.answered - before.answered,
            shared: self.shared - before.shared,
        }
    }
}

/// The report's row for one pull phase.
fn pull_row(
    what: &str,
    load: PullLoad,
    devices: usize,
    run: &PullRun,
    used: &CpuUsed,
    counted: ServerPulls,
) -> (String, String, String) {
    let per_request = |s: f64| 1e6 * s / run.requests.max(1) as f64;
    let rate = run.requests as f64 / run.elapsed;
    // Little's law: a closed loop has at most PULL_CLIENTS requests in flight, so rate × mean latency above
    // that means the latencies are not the observed ones: wrk corrects its histogram for coordinated
    // omission (`stats_correct`: for every response slower than its connections' mean interval it adds the
    // samples a paced client would have seen), the reqwest clients record what they saw.
    let in_flight = rate * run.mean.as_secs_f64();
    let head = if load == PullLoad::Wrk {
        ", with the HTTP head"
    } else {
        ""
    };
    (
        format!(
            "pull finding {what}: {} over {devices} devices, {PULL_FOR:?}",
            load.describe()
        ),
        format!(
            "{:.0} requests/s, p50 {:.1?} / p99 {:.1?} / mean {:.1?} / max {:.1?} ({} errors; answers {:.0} B each{head}; \
             rate × mean latency = {in_flight:.1} in flight of {PULL_CLIENTS}; \
             the server answered {:.0} pulls, {:.0} of them from a shared read); CPU per request: \
             server {:.0} µs, PostgreSQL {:.0} µs, Redis {:.0} µs, load generator {:.0} µs; CPU: {}",
            rate,
            run.p50,
            run.p99,
            run.mean,
            run.max,
            run.errors,
            run.bytes_per_answer,
            counted.answered,
            counted.shared,
            per_request(used.server),
            per_request(used.postgres),
            per_request(used.redis),
            per_request(used.load),
            used.describe(),
        ),
        "≥ 5,000 requests/s".to_owned(),
    )
}

/// Parks a long poll for each of `devices` (`LONG_POLLS` new accounts, a device each; waiting until the
/// server counts them all parked), then wakes the accounts one by one with a push, spread evenly over
/// [`wake_spread`] (each push its own task, so a slow push never delays the next). The latency of a poll is
/// from its account's push answer to the poll's answer. A poll answered without the change is split by when
/// it ended: before its account's push was answered (its 25 s timeout came first, or came while the push was
/// still committing: the load, not the server, was late) or after (a lost wake-up: the push had committed
/// and the poll never saw it).
async fn long_polls(
    client: &Arc<Client>,
    devices: &[SignedIn],
    report: &mut Vec<(String, String, String)>,
) -> Res<()> {
    let spread = wake_spread()?;
    // New accounts: nothing stored, so every device is synced at version 0.
    let cursors = vec![0_i64; devices.len()];
    let pushed: Arc<Vec<PushTimes>> = Arc::new((0..devices.len()).map(|_| PushTimes::default()).collect());
    let parking = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..devices.len() {
        let (client, token, cursor, pushed) = (
            client.clone(),
            devices[k].tokens.access_token.clone(),
            cursors[k],
            pushed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let body = serde_json::json!({"protocol_version": 1, "cursor": cursor, "wait_ms": 25_000});
            let answer = client
                .post::<serde_json::Value>("/v1/sync/pull", Some(&token), &body)
                .await;
            let returned = Instant::now();
            match answer {
                Err(_) => PollOutcome::Failed,
                Ok(a) if a["cursor"].as_i64().unwrap_or(0) > cursor => PollOutcome::Woken(
                    pushed[k]
                        .answered
                        .get()
                        .map(|at| returned.saturating_duration_since(*at)),
                ),
                Ok(_)
                    if pushed[k]
                        .answered
                        .get()
                        .is_some_and(|answered| *answered < returned) =>
                {
                    PollOutcome::Lost
                }
                Ok(_) => PollOutcome::TimedOutBeforePush,
            }
        }));
    }
    let parked = wait_parked(client, devices.len()).await?;
    let parked_in = parking.elapsed();
    let started_at = auren_server::app::system_now_ms() - 3_600_000;
    let waking = Instant::now();
    let interval = spread / devices.len() as u32;
    let mut pushes = Vec::new();
    for (k, device) in devices.iter().enumerate() {
        tokio::time::sleep_until((waking + interval * k as u32).into()).await;
        let (client, device, pushed) = (client.clone(), device.clone(), pushed.clone());
        pushes.push(tokio::spawn(async move {
            // A new session row under an outbox id above any the ingest used, so it is applied (a chunk of
            // a session the server does not know would be rejected, and wake nobody).
            let key = auren_protocol::change::session_key(&device.device_id, 2);
            let row = PushRow {
                outbox_id: 1_000_000,
                change: rest_session(&key, started_at),
            };
            let body = push_request(&device, vec![row]);
            let _ = pushed[k].sent.set(Instant::now());
            let answer = client
                .post::<serde_json::Value>("/v1/sync/push", Some(&device.tokens.access_token), &body)
                .await;
            let _ = pushed[k].answered.set(Instant::now());
            answer.map(|_| ())
        }));
    }
    for push in pushes {
        push.await??;
    }
    // How long the waking pushes took: pushed one after another, as this phase once did, the accounts'
    // pushes end about (accounts × this) after the first, which must stay inside the polls' 25 s.
    let mut push_latencies: Vec<Duration> = pushed
        .iter()
        .filter_map(|p| Some(p.answered.get()?.saturating_duration_since(*p.sent.get()?)))
        .collect();
    push_latencies.sort_unstable();
    let mut latencies = Vec::new();
    let (mut errors, mut lost, mut late) = (0, 0, 0);
    for task in tasks {
        match task.await? {
            PollOutcome::Woken(Some(latency)) => latencies.push(latency),
            PollOutcome::Woken(None) => latencies.push(Duration::ZERO),
            PollOutcome::Lost => lost += 1,
            PollOutcome::TimedOutBeforePush => late += 1,
            PollOutcome::Failed => errors += 1,
        }
    }
    latencies.sort_unstable();
    report.push((
        format!(
            "{} parked long polls, each of its own device and account ({parked} counted parked in \
             {parked_in:.1?}), woken by a push per account, the pushes spread over {spread:?}",
            devices.len()
        ),
        format!(
            "push answer → poll answer p50 {:.0?}, p99 {:.0?} ({} woken, {errors} errors, {lost} lost wake-ups, \
             {late} timed out before their push was answered); the waking pushes took p50 {:.0?}, mean {:.0?}",
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            latencies.len(),
            percentile(&push_latencies, 50.0),
            push_latencies.iter().sum::<Duration>() / push_latencies.len().max(1) as u32,
        ),
        "p99 < 200 ms, no errors, none lost".to_owned(),
    ));
    Ok(())
}

/// When an account's waking push was sent and answered.
#[derive(Default)]
struct PushTimes {
    sent: std::sync::OnceLock<Instant>,
    answered: std::sync::OnceLock<Instant>,
}

/// How one long poll ended.
enum PollOutcome {
    /// With its account's push (the latency from the push's answer, `None` if it came first).
    Woken(Option<Duration>),
    /// Unchanged although its account's push was answered (committed) before it ended.
    Lost,
    /// Unchanged at its timeout, before its account's push was answered.
    TimedOutBeforePush,
    Failed,
}

/// Waits until the server counts `polls` parked long polls (or a minute passed); returns the last count.
async fn wait_parked(client: &Client, polls: usize) -> Res<usize> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let parked = gauge(&metrics_text(client).await?, "auren_long_polls_waiting").unwrap_or(0.0) as usize;
        if parked >= polls || Instant::now() >= deadline {
            return Ok(parked);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn relay_lag(client: &Client, when: &str, report: &mut Vec<(String, String, String)>) -> Res<()> {
    let text = metrics_text(client).await?;
    // A summary's quantiles are its only labels.
    let quantile_of = |name: &str, q: &str| gauge(&text, &format!("{name}{{quantile=\"{q}\"}}"));
    let quantile = |q: &str| quantile_of("auren_relay_lag_seconds", q);
    // A row's lag is its wait for a round plus that round: the rounds' own time and fill, same window.
    let rounds = match (
        quantile_of("auren_relay_round_seconds", "0.5"),
        quantile_of("auren_relay_round_seconds", "0.99"),
        quantile_of("auren_relay_round_rows", "0.5"),
        quantile_of("auren_relay_round_rows", "1"),
    ) {
        (Some(p50), Some(p99), Some(rows), Some(most)) => format!(
            "; rounds p50 {:.0} ms, p99 {:.0} ms, rows per round p50 {rows:.0}, most {most:.0}",
            p50 * 1000.0,
            p99 * 1000.0
        ),
        _ => String::new(),
    };
    // Rows of rounds that got an error or a timeout (the relay then reads the topics' tails before sending
    // again), and rows those reads found already sent: what the lag's tail is made of.
    let unsure = gauge(&text, "auren_relay_failed_total").unwrap_or(0.0);
    let found = gauge(&text, "auren_relay_found_in_topics_total").unwrap_or(0.0);
    let reads = gauge(&text, "auren_relay_tail_read_seconds_count").unwrap_or(0.0);
    let read_s = gauge(&text, "auren_relay_tail_read_seconds_sum").unwrap_or(0.0);
    let shown = match (quantile("0.5"), quantile("0.99")) {
        (Some(p50), Some(p99)) => format!(
            "p50 {:.0} ms, p99 {:.0} ms{rounds}; since the server started: {unsure:.0} rows in rounds that \
             failed or timed out, {reads:.0} tail reads taking {read_s:.1} s in all, {found:.0} rows found in \
             the tails",
            p50 * 1000.0,
            p99 * 1000.0
        ),
        _ => "not measured (no broker, or no relay metrics)".to_owned(),
    };
    report.push((
        format!("relay lag (outbox insert → broker ack) {when}, over the last minute"),
        shown,
        "p99 < 1 s".to_owned(),
    ));
    Ok(())
}

async fn bytes_per_beat(database_url: &str, report: &mut Vec<(String, String, String)>) -> Res<()> {
    let pool = sqlx::PgPool::connect(database_url).await?;
    sqlx::query("VACUUM ANALYZE beat_chunks").execute(&pool).await?;
    let (bytes, beats): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::int8 FROM pg_inherits \
                  WHERE inhparent = 'beat_chunks'::regclass), \
                (SELECT coalesce(sum(cardinality(rr_raw)), 0)::int8 FROM beat_chunks)",
    )
    .fetch_one(&pool)
    .await?;
    report.push((
        format!("bytes per stored beat (beat_chunks with indexes, {beats} beats)"),
        format!("{:.2} B", bytes as f64 / beats.max(1) as f64),
        "≤ 8 B".to_owned(),
    ));
    pool.close().await;
    Ok(())
}
