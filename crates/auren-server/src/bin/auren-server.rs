//! `auren-server`: the sync server alone (what `auren serve` runs), for containers that need no desktop
//! code and for the crash test, which SIGKILLs it.
//!
//! `auren-server [--config FILE]` reads `AUREN_DATABASE_URL`, `AUREN_APP_DATABASE_URL`, `AUREN_REDIS_URL`,
//! `AUREN_KAFKA_BROKERS`, `AUREN_KAFKA_RETENTION_HOURS` (default 168), `AUREN_KAFKA_PARTITIONS` (default 3)
//! and `AUREN_LISTEN` (default
//! 127.0.0.1:8080) from the environment or the same keys in FILE, as `auren serve` does
//! (`auren_server::startup`); SIGINT or SIGTERM stops it after the requests in flight. `auren-server probe [--config FILE]` asks the server the same configuration names for
//! `/livez` and exits 0 when it answers 200 (the container's health check: the runtime image has no curl,
//! and its `/bin/sh` is dash, which has no `/dev/tcp`). Logs go to stderr, filtered by `RUST_LOG`
//! (default `info`).
//!
//! A debug build (the tests', which start it as a child process) also honours `AUREN_TEST_FAST_HASH=1`:
//! cheap password hashes, so tests that create many accounts do not spend seconds in Argon2. A release
//! build ignores it, so no deployment can weaken its password hashes by an environment variable.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use auren_server::server::{Server, ServerConfig};
use auren_server::startup;
use tokio_util::sync::CancellationToken;

/// How long the probe waits to connect, and then for the answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct Invocation {
    mode: Mode,
    config: Option<PathBuf>,
}

#[derive(Debug, PartialEq, Eq)]
enum Mode {
    Serve,
    Probe,
}

/// What the command line asks for: the help text (`--help`, `-h`) or a run.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Help,
    Run(Invocation),
}

const USAGE: &str = "usage: auren-server [probe] [--config FILE]";

/// `auren-server --help`: the usage, then what it reads and where, as the module's documentation says; the
/// defaults are the ones the server applies.
fn help() -> String {
    let retention_hours = auren_server::kafka::KafkaConfig::DEFAULT_RETENTION.as_secs() / 3600;
    let partitions = auren_server::kafka::KafkaConfig::DEFAULT_PARTITIONS;
    let listen = startup::DEFAULT_LISTEN;
    format!(
        "{USAGE}

Runs the Auren sync server (what `auren serve` runs). Settings come from the environment or the same keys
in FILE (a TOML file; the environment wins):
  AUREN_DATABASE_URL          PostgreSQL as the tables' owner (migrations run at start)
  AUREN_APP_DATABASE_URL      PostgreSQL as auren_app, for the requests (row-level security applies)
  AUREN_REDIS_URL             Redis: rate limits, cached trends, long-poll wake-ups
  AUREN_KAFKA_BROKERS         the Kafka brokers the outbox is relayed to (topics are created at start)
  AUREN_KAFKA_RETENTION_HOURS how long those topics keep a message (default {retention_hours})
  AUREN_KAFKA_PARTITIONS      partitions of those topics: server processes reading beats at once (default {partitions};
                              raised later, the existing topics are grown where the broker can)
  AUREN_LISTEN                the address to listen on (default {listen})
Logs go to stderr, filtered by RUST_LOG (default info). SIGINT or SIGTERM stops it after the requests in
flight.

  probe    GET /livez on the configured address; exit 0 when it answers 200 (the image's health check)
"
    )
}

/// mimalloc instead of glibc's allocator: the server allocates per request (bodies, rows, answers), and with
/// it the server's CPU per two-version pull went 117-124 -> 94-96 µs and pulls +10-13 %
/// (`AUREN_BENCH_PHASES=pull cargo xtask bench server`, two runs each, 2026-12-05).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let invocation = match parse_args(std::env::args().skip(1)) {
        Ok(Request::Run(invocation)) => invocation,
        Ok(Request::Help) => {
            print!("{}", help());
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("auren-server: {message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let var = |key: &str| std::env::var(key).ok();
    // The probe needs only the address: a probe must not fail for want of a database URL.
    let configured = startup::settings(invocation.config.as_deref(), var).and_then(|settings| {
        Ok(match invocation.mode {
            Mode::Probe => Configured::Probe(startup::listen_address(&settings)?),
            Mode::Serve => Configured::Serve(Box::new(startup::config_of(&settings)?)),
        })
    });
    match configured {
        Ok(Configured::Probe(listen)) => probe(listen),
        Ok(Configured::Serve(config)) => serve(with_test_knobs(*config)),
        Err(error) => {
            eprintln!("auren-server: {}", chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// What a mode needs of the configuration.
enum Configured {
    Probe(SocketAddr),
    Serve(Box<ServerConfig>),
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Request, String> {
    let mut invocation = Invocation {
        mode: Mode::Serve,
        config: None,
    };
    let mut args = args.peekable();
    if args.peek().is_some_and(|a| a == "--help" || a == "-h") {
        return Ok(Request::Help);
    }
    if args.peek().is_some_and(|a| a == "probe") {
        invocation.mode = Mode::Probe;
        args.next();
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => match args.next() {
                Some(file) => invocation.config = Some(PathBuf::from(file)),
                None => return Err("--config needs a file".to_owned()),
            },
            _ => match arg.strip_prefix("--config=") {
                Some(file) => invocation.config = Some(PathBuf::from(file)),
                None => return Err(format!("unknown argument {arg:?}")),
            },
        }
    }
    Ok(Request::Run(invocation))
}

/// Test-only settings a debug build takes from the environment (see the module's documentation).
#[cfg(debug_assertions)]
fn with_test_knobs(mut config: ServerConfig) -> ServerConfig {
    if std::env::var("AUREN_TEST_FAST_HASH").as_deref() == Ok("1") {
        config.hash_cost = auren_server::auth::password::HashCost::Minimal;
    }
    config
}

#[cfg(not(debug_assertions))]
fn with_test_knobs(config: ServerConfig) -> ServerConfig {
    config
}

fn serve(config: ServerConfig) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("auren-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("auren-server: {}", chain(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(config: ServerConfig) -> Result<(), auren_server::error::ServerError> {
    let shutdown = CancellationToken::new();
    let server = Server::start(config, shutdown.clone()).await?;
    println!("auren-server: listening on http://{}", server.local_addr()?);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        startup::stop_signal().await;
        eprintln!("auren-server: stopping after the requests in flight");
        stop.cancel();
    });
    server.serve(shutdown).await
}

/// `GET /livez` on the address the server listens on (its loopback when it listens on every address).
fn probe(listen: SocketAddr) -> ExitCode {
    match livez(probe_address(listen)) {
        Ok(status) if status == "200" => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("auren-server probe: /livez answered {status}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("auren-server probe: {listen}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// The status code of `GET /livez` at `address`.
fn livez(address: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, PROBE_TIMEOUT)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    stream.write_all(b"GET /livez HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    // The status line is all the probe reads: "HTTP/1.1 200 OK".
    let mut head = [0_u8; 64];
    let mut read = 0;
    while read < head.len() {
        let n = stream.read(&mut head[read..])?;
        if n == 0 || head[..read + n].contains(&b'\n') {
            read += n;
            break;
        }
        read += n;
    }
    let line = String::from_utf8_lossy(&head[..read]);
    line.split_whitespace()
        .nth(1)
        .map(str::to_owned)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not HTTP: {line:?}")))
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::{Invocation, Mode, Request, parse_args, probe_address};

    #[test]
    fn the_command_line_names_the_mode_and_the_config_file() {
        let cases: [(&[&str], Result<Request, ()>); 8] = [
            (
                &[],
                Ok(Request::Run(Invocation {
                    mode: Mode::Serve,
                    config: None,
                })),
            ),
            (
                &["--config", "a.toml"],
                Ok(Request::Run(Invocation {
                    mode: Mode::Serve,
                    config: Some("a.toml".into()),
                })),
            ),
            (
                &["--config=b.toml"],
                Ok(Request::Run(Invocation {
                    mode: Mode::Serve,
                    config: Some("b.toml".into()),
                })),
            ),
            (
                &["probe", "--config", "c.toml"],
                Ok(Request::Run(Invocation {
                    mode: Mode::Probe,
                    config: Some("c.toml".into()),
                })),
            ),
            (&["--help"], Ok(Request::Help)),
            (&["-h"], Ok(Request::Help)),
            (&["--config"], Err(())),
            (&["--port", "9"], Err(())),
        ];
        for (args, want) in cases {
            let got = parse_args(args.iter().map(|a| (*a).to_owned())).map_err(|_| ());
            assert_eq!(got, want, "{args:?}");
        }
    }

    #[test]
    fn the_probe_asks_the_loopback_of_an_unspecified_address() {
        for (listen, asked) in [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8080", "[::1]:8080"),
            ("10.1.2.3:9", "10.1.2.3:9"),
        ] {
            assert_eq!(probe_address(listen.parse().unwrap()).to_string(), asked);
        }
    }
}
