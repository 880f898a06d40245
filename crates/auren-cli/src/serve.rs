//! `auren serve`: runs the sync server. Configuration comes from `AUREN_DATABASE_URL`,
//! `AUREN_APP_DATABASE_URL`, `AUREN_REDIS_URL`, `AUREN_KAFKA_BROKERS`, `AUREN_KAFKA_RETENTION_HOURS`,
//! `AUREN_KAFKA_PARTITIONS` and `AUREN_LISTEN`, or the same keys in a TOML file given with `--config` (the environment wins over the
//! file, so a deployment can keep secrets out of it; read by `auren_server::startup`, as the
//! `auren-server` binary reads it). Migrations run and topics are created at start; SIGINT or SIGTERM
//! stops it after the requests in flight.

use anyhow::Context;
use auren_server::server::{Server, ServerConfig};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct Args {
    /// A TOML file with the same keys as the environment (AUREN_DATABASE_URL = "postgres://…", …).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = auren_server::startup::server_config(args.config.as_deref(), |key| std::env::var(key).ok())?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let server = Server::start(config, shutdown.clone())
        .await
        .context("the server could not start")?;
    let address = server.local_addr()?;
    // The one line a supervisor or test waits for.
    println!("auren serve: listening on http://{address}");
    tokio::spawn(stop_on_signal(shutdown.clone()));
    server
        .serve(shutdown)
        .await
        .context("the server stopped with an error")
}

async fn stop_on_signal(shutdown: CancellationToken) {
    auren_server::startup::stop_signal().await;
    eprintln!("auren serve: stopping after the requests in flight");
    shutdown.cancel();
}
