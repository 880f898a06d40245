//! `auren-server`: the sync server alone (what `auren serve` runs), for containers that need no desktop
//! code and for the crash test, which SIGKILLs it. Configuration: `AUREN_DATABASE_URL`,
//! `AUREN_APP_DATABASE_URL`, `AUREN_REDIS_URL`, `AUREN_KAFKA_BROKERS`, `AUREN_LISTEN` (default
//! 127.0.0.1:8080); `AUREN_TEST_FAST_HASH=1` makes password hashes cheap (tests only). Logs go to stderr,
//! filtered by `RUST_LOG` (default `info`).

use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let Some(database_url) = var("AUREN_DATABASE_URL") else {
        eprintln!(
            "auren-server: AUREN_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/auren)"
        );
        return ExitCode::FAILURE;
    };
    let listen = var("AUREN_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let Ok(listen) = listen.parse() else {
        eprintln!("auren-server: AUREN_LISTEN {listen:?} is not an address like 127.0.0.1:8080");
        return ExitCode::FAILURE;
    };
    let mut config = ServerConfig::new(database_url, listen);
    config.app_database_url = var("AUREN_APP_DATABASE_URL");
    config.redis_url = var("AUREN_REDIS_URL");
    config.kafka_brokers = var("AUREN_KAFKA_BROKERS");
    if var("AUREN_TEST_FAST_HASH").as_deref() == Some("1") {
        config.hash_cost = HashCost::Minimal;
    }
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
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("auren-server: {message}");
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
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    server.serve(shutdown).await
}
