//! The sync server for journeys that sign in: the `auren-server` binary (what `auren serve` runs) on a
//! fresh database of the machine's PostgreSQL (127.0.0.1:5432, trust), on a free port of 127.0.0.1,
//! without Redis or Kafka (the server falls back to in-process limits and wake-ups). Dropping it kills the
//! process and drops its database.

use anyhow::{Context as _, bail, ensure};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to migrate its database and listen.
const START_WITHIN: Duration = Duration::from_secs(60);

/// A running `auren-server`.
pub struct SyncServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    database: String,
}

/// The server binary: `AUREN_E2E_SERVER` when set, else the debug build next to the app.
pub fn server_binary() -> PathBuf {
    std::env::var_os("AUREN_E2E_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::target_dir().join("debug/auren-server"))
}

/// Runs one SQL statement on the local cluster as postgres.
fn psql(sql: &str) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .context("cannot run psql (PostgreSQL's client) against 127.0.0.1:5432")?;
    ensure!(
        output.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

impl SyncServer {
    /// Starts the server on a new database and returns once it accepts connections.
    pub async fn start(name: &str) -> anyhow::Result<SyncServer> {
        let binary = server_binary();
        ensure!(
            binary.exists(),
            "no sync server at {} (build it: cargo build -p auren-server)",
            binary.display()
        );
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let database = format!("auren_e2e_{}_{nanos}", std::process::id());
        psql(&format!("CREATE DATABASE {database}"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let logs = crate::log_dir();
        std::fs::create_dir_all(&logs)?;
        let log = std::fs::File::create(logs.join(format!("{name}-auren-server.log")))?;
        let child = Command::new(&binary)
            .env(
                "AUREN_DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:5432/{database}"),
            )
            .env("AUREN_LISTEN", format!("127.0.0.1:{port}"))
            .env("AUREN_TEST_FAST_HASH", "1")
            .env_remove("AUREN_REDIS_URL")
            .env_remove("AUREN_KAFKA_BROKERS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = SyncServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
            database,
        };
        server.wait_listening(port).await?;
        Ok(server)
    }

    /// Polls the port until the server listens (it binds only after its migrations), failing at once if
    /// the process ended.
    async fn wait_listening(&mut self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "auren-server ended before listening ({status}); see its log in {}",
                    crate::log_dir().display()
                );
            }
            ensure!(
                Instant::now() < deadline,
                "auren-server did not listen within {START_WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SyncServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Best effort: a leftover database only takes disk space.
        let _ = psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database));
    }
}
