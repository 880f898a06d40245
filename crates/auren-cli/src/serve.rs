//! `auren serve`: runs the sync server. Configuration comes from `AUREN_DATABASE_URL`, `AUREN_REDIS_URL`,
//! `AUREN_KAFKA_BROKERS` and `AUREN_LISTEN`, or the same keys in a TOML file given with `--config` (the
//! environment wins over the file, so a deployment can keep secrets out of it). Migrations run and topics
//! are created at start; SIGINT or SIGTERM stops it after the requests in flight.

use anyhow::{Context, bail};
use auren_server::server::{Server, ServerConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

/// The keys read from the environment and the config file.
const KEYS: [&str; 5] = [
    "AUREN_DATABASE_URL",
    "AUREN_APP_DATABASE_URL",
    "AUREN_REDIS_URL",
    "AUREN_KAFKA_BROKERS",
    "AUREN_LISTEN",
];
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(clap::Args)]
pub struct Args {
    /// A TOML file with the same keys as the environment (AUREN_DATABASE_URL = "postgres://…", …).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let settings = settings(args.config.as_deref(), |key| std::env::var(key).ok())?;
    let config = server_config(&settings)?;
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
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    eprintln!("auren serve: stopping after the requests in flight");
    shutdown.cancel();
}

/// The settings: the file's keys, overridden by the environment's.
fn settings(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut settings = BTreeMap::new();
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
        for (key, value) in table {
            if !KEYS.contains(&key.as_str()) {
                bail!(
                    "{}: unknown key {key:?} (known: {})",
                    path.display(),
                    KEYS.join(", ")
                );
            }
            let Some(value) = value.as_str() else {
                bail!("{}: {key} must be a string", path.display());
            };
            settings.insert(key, value.to_owned());
        }
    }
    for key in KEYS {
        if let Some(value) = env(key).filter(|v| !v.is_empty()) {
            settings.insert(key.to_owned(), value);
        }
    }
    Ok(settings)
}

fn server_config(settings: &BTreeMap<String, String>) -> anyhow::Result<ServerConfig> {
    let database_url = settings
        .get("AUREN_DATABASE_URL")
        .context("AUREN_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/auren)")?;
    let listen = settings
        .get("AUREN_LISTEN")
        .map_or(DEFAULT_LISTEN, String::as_str);
    let listen: SocketAddr = listen
        .parse()
        .with_context(|| format!("AUREN_LISTEN {listen:?} is not an address like 127.0.0.1:8080"))?;
    let mut config = ServerConfig::new(database_url.clone(), listen);
    config.app_database_url = settings.get("AUREN_APP_DATABASE_URL").cloned();
    config.redis_url = settings.get("AUREN_REDIS_URL").cloned();
    config.kafka_brokers = settings.get("AUREN_KAFKA_BROKERS").cloned();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_the_file_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "AUREN_DATABASE_URL = \"postgres://file\"\nAUREN_LISTEN = \"127.0.0.1:9\"\n",
        )
        .unwrap();
        let env = |key: &str| (key == "AUREN_DATABASE_URL").then(|| "postgres://env".to_owned());
        let settings = settings(Some(&file), env).unwrap();
        let config = server_config(&settings).unwrap();
        assert_eq!(config.database_url, "postgres://env");
        assert_eq!(config.listen.port(), 9);

        std::fs::write(&file, "AUREN_DATABSE_URL = \"typo\"\n").unwrap();
        let error = settings_error(&file);
        assert!(error.contains("unknown key \"AUREN_DATABSE_URL\""), "{error}");
        assert!(server_config(&BTreeMap::new()).is_err());
    }

    fn settings_error(file: &Path) -> String {
        format!("{:#}", settings(Some(file), |_| None).unwrap_err())
    }
}
