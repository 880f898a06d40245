//! `cargo xtask services up|down`: PostgreSQL, Redis and a Kafka-compatible broker on this machine, for
//! development, the tests and a person trying the sync server. Each is started only where nothing
//! answers on its port yet; `up` prints `export AUREN_…=…` lines.
//!
//! `up` records each service it started itself in `~/.cache/auren/services.started`, and `down` stops
//! exactly those (the newest first) and forgets them: a PostgreSQL or Redis that was already running (a
//! system service, another person's) is left alone, and so is a process that has since taken a recorded
//! pid.
//!
//! PostgreSQL and Redis come from Debian (installed when missing). The broker is tansu 0.6.0 from
//! crates.io, built once into `~/.cache/auren/broker` (outside the clone, so `cargo clean` keeps it) with
//! its SQLite engine, whose file survives a broker restart. Why tansu 0.6.0: its newer name nisshi (0.8.1)
//! needs rustc 1.96 for its dependencies, newer than the toolchain here; tansu's `postgres` engine needs
//! a schema the crate does not ship (the `libsql` engine applies its own); the default features have no
//! storage engine at all.
//!
//! Everything listens on 127.0.0.1, never `localhost` (which may resolve to ::1 where nothing listens).

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{cmd, system};

/// The broker crate, its version and the features of the cached build (the stamp records all three).
pub const BROKER_CRATE: &str = "tansu";
pub const BROKER_VERSION: &str = "0.6.0";
pub const BROKER_FEATURES: &str = "libsql";

pub const POSTGRES_ADDR: &str = "127.0.0.1:5432";
pub const REDIS_ADDR: &str = "127.0.0.1:6379";
pub const BROKER_ADDR: &str = "127.0.0.1:9092";

/// The variables `up` prints and `cargo xtask test` sets for the tests.
pub const DATABASE_VAR: &str = "AUREN_DATABASE_URL";
pub const REDIS_VAR: &str = "AUREN_REDIS_URL";
pub const KAFKA_VAR: &str = "AUREN_KAFKA_BROKERS";
/// The cached broker binary: tests that restart a broker start their own from it.
pub const BROKER_BIN_VAR: &str = "AUREN_BROKER_BIN";

/// How long a started service may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `cargo xtask services up|down`.
pub fn run(args: &[&str]) -> anyhow::Result<()> {
    match args {
        ["up"] => {
            for (name, value) in up()? {
                println!("export {name}={value}");
            }
            Ok(())
        }
        ["down"] => down(),
        _ => bail!("usage: cargo xtask services up|down"),
    }
}

/// Starts what is not running and returns the variables that point at the services.
pub fn up() -> anyhow::Result<Vec<(&'static str, String)>> {
    ensure_postgres()?;
    ensure_redis()?;
    let broker = ensure_broker_binary()?;
    ensure_broker_running(&broker)?;
    Ok(vec![
        (
            DATABASE_VAR,
            format!("postgres://postgres@{POSTGRES_ADDR}/postgres"),
        ),
        (REDIS_VAR, format!("redis://{REDIS_ADDR}")),
        (KAFKA_VAR, BROKER_ADDR.to_owned()),
        (BROKER_BIN_VAR, broker.display().to_string()),
    ])
}

/// Stops what `up` started (the newest first) and forgets it; what was already running keeps running.
pub fn down() -> anyhow::Result<()> {
    let record = started_file();
    let mut started = recorded(&record)?;
    // A broker started by an `up` from before the record existed left only its pid file.
    let legacy = broker_home().join("broker.pid");
    if let Some(pid) = std::fs::read_to_string(&legacy)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        && !started.contains(&Started::Broker { pid })
    {
        started.push(Started::Broker { pid });
    }
    if started.is_empty() {
        eprintln!(
            "==> nothing to stop: `services up` started nothing that still runs (no {})",
            record.display()
        );
    }
    let mut failures = Vec::new();
    for service in started.iter().rev() {
        if let Err(e) = stop(service) {
            eprintln!("warning: {e:#}");
            failures.push(service.line());
        }
    }
    // What could not be stopped stays recorded, so a second `down` tries it again.
    let left: Vec<Started> = started
        .into_iter()
        .filter(|s| failures.contains(&s.line()))
        .collect();
    write_record(&record, &left)?;
    let _ = std::fs::remove_file(&legacy);
    if !failures.is_empty() {
        bail!("could not stop: {}", failures.join(", "));
    }
    eprintln!("==> services that were running before `up` keep running");
    Ok(())
}

/// A service `up` started itself, as one line of the record (`postgres 16`, `redis 4242`, `broker 4243`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Started {
    /// A cluster started with `pg_ctlcluster VERSION main start`, and its postmaster's pid then: a cluster
    /// restarted since (by systemd, after a reboot) has another and is not ours to stop.
    Postgres { version: String, postmaster: u32 },
    /// A daemonised `redis-server` (the pid from its pid file).
    Redis { pid: u32 },
    /// The broker (the pid of the child `up` spawned).
    Broker { pid: u32 },
}

impl Started {
    fn line(&self) -> String {
        match self {
            Self::Postgres { version, postmaster } => format!("postgres {version} {postmaster}"),
            Self::Redis { pid } => format!("redis {pid}"),
            Self::Broker { pid } => format!("broker {pid}"),
        }
    }

    fn parse(line: &str) -> Option<Self> {
        let (name, value) = line.trim().split_once(' ')?;
        match name {
            // A line without the postmaster's pid (from an older `up`) is skipped: without it the cluster
            // cannot be told from one started since, so it is left running.
            "postgres" => {
                let (version, postmaster) = value.split_once(' ')?;
                (!version.is_empty() && version.chars().all(|c| c.is_ascii_digit())).then_some(())?;
                Some(Self::Postgres {
                    version: version.to_owned(),
                    postmaster: postmaster.parse().ok()?,
                })
            }
            "redis" => value.parse().ok().map(|pid| Self::Redis { pid }),
            "broker" => value.parse().ok().map(|pid| Self::Broker { pid }),
            _ => None,
        }
    }
}

/// `~/.cache/auren/services.started`: what `up` started and `down` stops.
fn started_file() -> PathBuf {
    cache_home().join("services.started")
}

pub fn cache_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".cache/auren")
}

/// The services recorded in `path` (none when it does not exist; a line this build does not know is skipped).
fn recorded(path: &std::path::Path) -> anyhow::Result<Vec<Started>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().filter_map(Started::parse).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_record(path: &std::path::Path, services: &[Started]) -> anyhow::Result<()> {
    if services.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        };
    }
    let text: String = services.iter().map(|s| s.line() + "\n").collect();
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Adds `service` to the record (after it answers: a start that failed has nothing to stop).
fn remember(service: Started) -> anyhow::Result<()> {
    let path = started_file();
    let mut services = recorded(&path)?;
    if !services.contains(&service) {
        services.push(service);
    }
    std::fs::create_dir_all(cache_home()).with_context(|| format!("creating {}", cache_home().display()))?;
    write_record(&path, &services)
}

fn stop(service: &Started) -> anyhow::Result<()> {
    match service {
        Started::Postgres { version, postmaster } => {
            if postmaster_pid(&postmaster_pid_file(version)) != Some(*postmaster) {
                eprintln!(
                    "==> PostgreSQL {version} is no longer the cluster `services up` started (postmaster pid {postmaster}); nothing to stop"
                );
                return Ok(());
            }
            eprintln!("==> stopping PostgreSQL {version} (started by `services up`)");
            cmd::run(Command::new("pg_ctlcluster").args([version.as_str(), "main", "stop"]))
        }
        Started::Redis { pid } => stop_process(*pid, "redis-server", "Redis"),
        Started::Broker { pid } => stop_process(*pid, BROKER_CRATE, "the broker"),
    }
}

/// The pid file of cluster `version`'s postmaster (Debian's layout, as `pg_ctlcluster` writes it).
fn postmaster_pid_file(version: &str) -> PathBuf {
    PathBuf::from(format!("/var/run/postgresql/{version}-main.pid"))
}

/// The postmaster's pid in `pid_file` (its first line), if the cluster runs.
fn postmaster_pid(pid_file: &std::path::Path) -> Option<u32> {
    std::fs::read_to_string(pid_file)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Whether `pid` runs `program`: the file name of its argv[0]. Only its first word counts: Redis rewrites
/// its title to `redis-server 127.0.0.1:6379`, and `/proc/PID/exe` is no help (Debian's `redis-server` is
/// a link to `redis-check-rdb`). A pid reused by `grep tansu` or `vim redis-server.conf` does not count.
fn runs_program(pid: u32, program: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    let first_word = argv0.split(' ').next().unwrap_or_default();
    std::path::Path::new(first_word)
        .file_name()
        .is_some_and(|name| name == program)
}

/// Sends SIGTERM to `pid` if it still runs `program`, and waits for it to exit.
fn stop_process(pid: u32, program: &str, what: &str) -> anyhow::Result<()> {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !runs_program(pid, program) {
        eprintln!("==> {what} (pid {pid}) is no longer running; nothing to stop");
        return Ok(());
    }
    eprintln!("==> stopping {what} (pid {pid}, started by `services up`)");
    cmd::run(Command::new("kill").arg(pid.to_string()))?;
    let deadline = Instant::now() + START_TIMEOUT;
    while proc_dir.exists() && Instant::now() < deadline {
        // A zombie (the broker's parent is gone, or is this process) has exited: its state is `Z`.
        let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        if state
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if proc_dir.exists() && Instant::now() >= deadline {
        bail!("{what} (pid {pid}) did not exit within {START_TIMEOUT:?} of SIGTERM");
    }
    Ok(())
}

fn answers(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .is_ok_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok())
}

fn wait_for(addr: &str, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if answers(addr) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("{what} did not accept connections on {addr} within {START_TIMEOUT:?}")
}

fn ensure_postgres() -> anyhow::Result<()> {
    if answers(POSTGRES_ADDR) {
        eprintln!("==> PostgreSQL: answering on {POSTGRES_ADDR}");
        return Ok(());
    }
    let fresh = !cmd::exists("pg_ctlcluster");
    system::ensure_packages(&["postgresql", "postgresql-client"])?;
    let version = installed_postgres_version()?;
    if fresh {
        trust_loopback(&version)?;
    }
    eprintln!("==> starting PostgreSQL {version}");
    cmd::run(Command::new("pg_ctlcluster").args([version.as_str(), "main", "start"]))?;
    wait_for(POSTGRES_ADDR, "PostgreSQL")?;
    let pid_file = postmaster_pid_file(&version);
    let postmaster = postmaster_pid(&pid_file)
        .with_context(|| format!("PostgreSQL wrote no pid to {}", pid_file.display()))?;
    remember(Started::Postgres { version, postmaster })
}

/// The newest PostgreSQL under /usr/lib/postgresql.
fn installed_postgres_version() -> anyhow::Result<String> {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .context("reading /usr/lib/postgresql")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    versions
        .last()
        .map(u32::to_string)
        .context("no PostgreSQL under /usr/lib/postgresql after installing it")
}

/// A cluster xtask installed itself is a development one: loopback connections as `postgres` without a
/// password, as the tests expect (a machine whose PostgreSQL was already there is left as it is).
fn trust_loopback(version: &str) -> anyhow::Result<()> {
    let hba = PathBuf::from(format!("/etc/postgresql/{version}/main/pg_hba.conf"));
    let text = std::fs::read_to_string(&hba).with_context(|| format!("reading {}", hba.display()))?;
    let line = "host all all 127.0.0.1/32 trust\n";
    if !text.contains(line) {
        std::fs::write(&hba, format!("{line}{text}"))
            .with_context(|| format!("writing {}", hba.display()))?;
    }
    Ok(())
}

fn ensure_redis() -> anyhow::Result<()> {
    if answers(REDIS_ADDR) {
        eprintln!("==> Redis: answering on {REDIS_ADDR}");
        return Ok(());
    }
    system::ensure_packages(&["redis-server"])?;
    eprintln!("==> starting Redis on {REDIS_ADDR}");
    std::fs::create_dir_all(cache_home()).with_context(|| format!("creating {}", cache_home().display()))?;
    let pid_file = cache_home().join("redis.pid");
    let _ = std::fs::remove_file(&pid_file);
    cmd::run(
        Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--daemonize",
                "yes",
                // A development Redis keeps nothing: no dump.rdb at shutdown (`down` sends SIGTERM), and
                // its working directory is the cache, not wherever `up` ran (the workspace root).
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
            ])
            .arg(cache_home())
            .arg("--pidfile")
            .arg(&pid_file),
    )?;
    wait_for(REDIS_ADDR, "Redis")?;
    let pid = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .with_context(|| format!("Redis wrote no pid to {}", pid_file.display()))?;
    remember(Started::Redis { pid })
}

/// `~/.cache/auren/broker`: the cached build, its stamp, the data file, the log and the pid file.
fn broker_home() -> PathBuf {
    cache_home().join("broker")
}

fn stamp() -> String {
    format!("{BROKER_CRATE} {BROKER_VERSION} features={BROKER_FEATURES}\n")
}

/// The broker binary, built (about 10 minutes on 2 cores) when missing or built with another recipe.
pub fn ensure_broker_binary() -> anyhow::Result<PathBuf> {
    let home = broker_home();
    let binary = home.join("bin").join(BROKER_CRATE);
    let stamp_file = home.join("stamp");
    let built = || binary.is_file() && std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp());
    if built() {
        return Ok(binary);
    }
    // Two runs at once (a test run and `services up`) would build it twice into one tree, and the first to
    // finish would remove the tree under the second: one builds, the other waits and then finds it built.
    std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
    let lock_path = home.join("build.lock");
    let lock =
        std::fs::File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    if built() {
        return Ok(binary);
    }
    system::ensure_packages(&["cmake", "build-essential"])?;
    eprintln!(
        "==> building the broker {BROKER_CRATE} {BROKER_VERSION} into {} (once)",
        home.display()
    );
    let target = std::env::temp_dir().join("auren-broker-target");
    cmd::run(
        cmd::cargo()
            .args(["install", "--locked", "--force", "--root"])
            .arg(&home)
            .args(["--features", BROKER_FEATURES])
            .arg(format!("{BROKER_CRATE}@{BROKER_VERSION}"))
            .env("CARGO_TARGET_DIR", &target),
    )?;
    std::fs::write(&stamp_file, stamp()).with_context(|| format!("writing {}", stamp_file.display()))?;
    // The broker's build tree is a few GB that nothing reads again once the binary is installed.
    if let Err(e) = std::fs::remove_dir_all(&target) {
        eprintln!("warning: could not remove {}: {e}", target.display());
    }
    Ok(binary)
}

/// The broker's command line: listening and advertised on 127.0.0.1:`port`, its data in `data_file`.
pub fn broker_command(binary: &std::path::Path, port: u16, data_file: &std::path::Path) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("broker")
        .arg("--listener-url")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--advertised-listener-url")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--storage-engine")
        // tansu drops the URL path's first slash (`sqlite:///a/b` opens `a/b` under the current folder), so
        // an absolute path needs one more.
        .arg(format!("sqlite:///{}", data_file.display()));
    command
}

fn ensure_broker_running(binary: &std::path::Path) -> anyhow::Result<()> {
    if answers(BROKER_ADDR) {
        eprintln!("==> broker: answering on {BROKER_ADDR}");
        return Ok(());
    }
    let home = broker_home();
    let data = home.join("data");
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let log_path = home.join("broker.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let err_log = log.try_clone()?;
    eprintln!(
        "==> starting the broker on {BROKER_ADDR} (log: {})",
        log_path.display()
    );
    let mut command = broker_command(binary, 9092, &data.join("tansu.db"));
    let child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    wait_for(BROKER_ADDR, "the broker")?;
    remember(Started::Broker { pid: child.id() })
}

#[cfg(test)]
mod tests {
    use super::{Started, postmaster_pid, recorded, runs_program, stop_process, write_record};

    /// Waits until the child `pid` has exec'd `program`: just after the spawn its cmdline may still be
    /// the test binary's, and a check made then would test nothing.
    fn exec_done(pid: u32, program: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !runs_program(pid, program) {
            assert!(
                std::time::Instant::now() < deadline,
                "pid {pid} never ran {program}"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn record_lines_round_trip_and_unknown_lines_are_skipped() {
        let cases = [
            (
                "postgres 16 812",
                Some(Started::Postgres {
                    version: "16".into(),
                    postmaster: 812,
                }),
            ),
            ("postgres 16", None),
            ("postgres 16 x", None),
            ("redis 4242", Some(Started::Redis { pid: 4242 })),
            ("broker 17\n", Some(Started::Broker { pid: 17 })),
            ("postgres ../../etc 1", None),
            ("postgres ", None),
            ("redis -1", None),
            ("broker", None),
            ("mysql 3306", None),
            ("", None),
        ];
        for (line, want) in cases {
            let parsed = Started::parse(line);
            assert_eq!(parsed, want, "{line:?}");
            if let Some(service) = parsed {
                assert_eq!(Started::parse(&service.line()), Some(service));
            }
        }
    }

    #[test]
    fn the_record_keeps_what_was_written_and_an_empty_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("services.started");
        assert_eq!(recorded(&path).unwrap(), Vec::new(), "no file: nothing started");
        let services = vec![
            Started::Postgres {
                version: "17".into(),
                postmaster: 3,
            },
            Started::Broker { pid: 99 },
        ];
        write_record(&path, &services).unwrap();
        assert_eq!(recorded(&path).unwrap(), services);
        write_record(&path, &[]).unwrap();
        assert!(!path.exists());
        write_record(&path, &[]).unwrap();
    }

    #[test]
    fn only_a_recorded_pid_still_running_the_program_is_stopped() {
        let mut child = std::process::Command::new("sleep").arg("600").spawn().unwrap();
        let pid = child.id();
        exec_done(pid, "sleep");
        // The pid now runs `sleep`, not Redis (a recorded pid another program took): it is left alone.
        stop_process(pid, "redis-server", "Redis").unwrap();
        assert!(
            child.try_wait().unwrap().is_none(),
            "an unrelated process keeps running"
        );
        stop_process(pid, "sleep", "the sleeper").unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "stopped by SIGTERM: {status}");
        // Gone: nothing left to stop, and no error.
        stop_process(pid, "sleep", "the sleeper").unwrap();
    }

    #[test]
    fn a_pid_naming_the_program_only_in_its_arguments_is_not_stopped() {
        // `sh -c 'read line' redis-server`: the program's name is an argument (as in `vim redis-server.conf`).
        let mut child = std::process::Command::new("sh")
            .args(["-c", "read line", "redis-server"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        exec_done(child.id(), "sh");
        stop_process(child.id(), "redis-server", "Redis").unwrap();
        assert!(
            child.try_wait().unwrap().is_none(),
            "a process whose argv[0] is another program keeps running"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn the_postmaster_pid_is_the_first_line_of_its_pid_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("16-main.pid");
        assert_eq!(postmaster_pid(&file), None, "no file: the cluster is down");
        std::fs::write(&file, "812\n/var/lib/postgresql/16/main\n1733350000\n5432\n").unwrap();
        assert_eq!(postmaster_pid(&file), Some(812));
    }
}
