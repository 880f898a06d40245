//! A real server on a fresh PostgreSQL database, and device databases signed in to it.

use auren_server::app::ChangeTypes;
use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use auren_store::Store;
use auren_store::memory::MemoryRow;
use auren_sync::{SignIn, SyncClient, SyncConfig, TokenPlace, TokenVault};
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";

/// The server; stops when dropped.
pub struct TestServer {
    pub base: String,
    /// The server's PostgreSQL database URL (tests look into what it stored).
    pub database: String,
    shutdown: CancellationToken,
    serving: Option<tokio::task::JoinHandle<Result<(), auren_server::error::ServerError>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server on a fresh database whose configuration `adjust` changes first (an older server's change
    /// types, to test against one; a tighter quota).
    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let name = format!("auren_sync_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .expect("PostgreSQL must run on 127.0.0.1:5432");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Self::serve(url, "127.0.0.1:0".parse().unwrap(), adjust).await
    }

    async fn serve(
        database: String,
        listen: std::net::SocketAddr,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let mut config = ServerConfig::new(database.clone(), listen);
        config.hash_cost = HashCost::Minimal;
        adjust(&mut config);
        let shutdown = CancellationToken::new();
        let server = Server::start(config, shutdown.clone()).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        let serving = Some(tokio::spawn(server.serve(shutdown.clone())));
        Self {
            base,
            database,
            shutdown,
            serving,
        }
    }

    /// The same server upgraded (or downgraded) to accept `types`: stopped, then started again on its
    /// database and its address, so signed-in devices go on talking to it.
    pub async fn restart_with(mut self, types: ChangeTypes) -> Self {
        self.shutdown.cancel();
        if let Some(serving) = self.serving.take() {
            // Serving ends once its listener is closed: the address is free again.
            serving.await.unwrap().unwrap();
        }
        let listen = self.base.trim_start_matches("http://").parse().unwrap();
        Self::serve(self.database.clone(), listen, |config| {
            config.change_types = types
        })
        .await
    }
}

/// A device: its database and its signed-in client.
pub struct Device {
    pub store: Store,
    pub client: SyncClient,
}

impl Device {
    /// A new database in `dir` named `name`, signed in to `server` as `email` (`how`: create or login).
    pub async fn sign_in(dir: &Path, name: &str, server: &TestServer, email: &str, how: SignIn<'_>) -> Self {
        Self::sign_in_at(dir, name, &server.base, email, how).await
    }

    /// As [`Device::sign_in`], to the server at `base` (e.g. a relay in front of a [`TestServer`]).
    pub async fn sign_in_at(dir: &Path, name: &str, base: &str, email: &str, how: SignIn<'_>) -> Self {
        let store = Store::open(&dir.join(format!("{name}.db"))).await.unwrap();
        let vault = TokenVault::new(TokenPlace::File(dir.join(format!("{name}.tokens"))));
        let client = SyncClient::sign_in(
            &store,
            vault,
            base,
            (email, PASSWORD, name),
            how,
            SyncConfig::default(),
        )
        .await
        .unwrap();
        Self { store, client }
    }
}

/// One sync a device, in order; each must park nothing.
pub async fn round(devices: &[&Device]) {
    for device in devices {
        let report = device.client.sync_once().await.unwrap();
        assert_eq!(report.parked, 0, "{report:?}");
    }
}

/// The memory of `store` with this text, among every version it holds (history).
pub async fn memory_with_text(store: &Store, text: &str) -> MemoryRow {
    store
        .memories()
        .history()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.text == text)
        .unwrap_or_else(|| panic!("{text:?} is not stored"))
}

/// A rest recording of `beats` beats started at `started_at`, with link and contact changes (contact lost and
/// back halfway; each flush of the writer makes its own outbox rows), ended 100 s after its start; its id.
pub async fn record_with_signals(store: &Store, started_at: i64, beats: u16) -> auren_store::SessionId {
    use auren_store::{NewSession, SessionKind, Signal};
    let id = store
        .start_session(&NewSession {
            started_at,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let writer = store.session_writer(id).await.unwrap();
    writer.signal(0.0, Signal::Link, true);
    writer.signal(0.0, Signal::Contact, true);
    let mut t = 0.0;
    for i in 0..beats {
        let rr = auren_protocol::change::raw_to_ms(800 + (i * 37) % 200);
        t += rr;
        if i == beats / 2 {
            writer.signal(t.round(), Signal::Contact, false);
            writer.signal(t.round() + 1.0, Signal::Contact, true);
        }
        writer.beat(t, rr, None);
    }
    writer.finish().await.unwrap();
    store.end_session(id, started_at + 100_000).await.unwrap();
    id
}
