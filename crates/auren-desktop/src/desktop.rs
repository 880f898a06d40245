//! [`Desktop`]: the façade every Tauri command calls in one line. This file holds the struct, how it
//! opens, and the state every concern shares (settings, store, folders); each concern adds its own
//! `impl Desktop` block in its module: `bluetooth`, `live`, `morning`, `history`, `rules`, `settings`,
//! `import_export`.

use auren_store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

use crate::dto::AppInfoDto;
use crate::error::DesktopError;
use crate::live::{self, Live, Slot};
use crate::places::{DB_FILE, Folders};
use crate::settings::{Settings, SettingsBackend};
use crate::settings_sync::SettingsCell;

/// The app's state behind the commands.
pub struct Desktop {
    pub(crate) folders: Folders,
    pub(crate) store: RwLock<Store>,
    /// The settings, shared with the sync loop, which adopts the person's settings pulled from elsewhere.
    pub(crate) settings: std::sync::Arc<SettingsCell>,
    pub(crate) live: Slot,
    /// Numbers the connections to sources (see `live::Connection`).
    pub(crate) next_connection: AtomicU64,
    /// Cancelled when the app quits: every running session stops and is stored.
    pub(crate) shutdown: CancellationToken,
    version: String,
    /// The LLM gateway, started on the first chat turn (see `chat.rs`); shared with the sync loop's coach.
    pub(crate) gateway: std::sync::Arc<crate::chat::GatewaySlot>,
    /// Running chat turns by id, for Stop.
    pub(crate) turns: std::sync::Arc<crate::chat::Turns>,
    /// Provider API keys: the OS keychain, or what `with_provider_keys` put instead (see `ai_settings.rs`).
    pub(crate) keys: std::sync::Arc<dyn crate::ai_settings::ProviderKeys>,
    /// The sync account's client, its loop and the status chip's source (see `sync.rs`).
    pub(crate) sync: std::sync::Arc<crate::sync::SyncSlot>,
    /// Announces each stored proactive message to the watching windows (see `proactive.rs`).
    pub(crate) proactive: crate::proactive::ProactiveFeed,
}

impl Desktop {
    /// Loads the settings, opens (creating and migrating) the database in the data folder.
    pub async fn open(
        folders: Folders,
        backend: Box<dyn SettingsBackend>,
        version: impl Into<String>,
    ) -> Result<Self, DesktopError> {
        let settings = std::sync::Arc::new(SettingsCell::load(backend));
        let data_dir = folders.data_dir(settings.get().data_dir.as_deref());
        let store = Store::open(&data_dir.join(DB_FILE)).await?;
        tracing::info!(data_dir = %data_dir.display(), "database open");
        // The person's settings synced from other devices win over the file's (see `settings_sync`).
        settings.reconcile(&store, auren_clock::now_unix_ms()).await;
        let desktop = Self {
            folders,
            store: RwLock::new(store),
            settings: std::sync::Arc::clone(&settings),
            live: Slot::default(),
            next_connection: AtomicU64::new(0),
            shutdown: CancellationToken::new(),
            version: version.into(),
            gateway: std::sync::Arc::new(crate::chat::GatewaySlot::new()),
            turns: std::sync::Arc::default(),
            keys: std::sync::Arc::new(crate::ai_settings::KeychainKeys::new(
                crate::ai_settings::KEYCHAIN_SERVICE,
            )),
            sync: std::sync::Arc::new(crate::sync::SyncSlot::new(settings)),
            proactive: crate::proactive::ProactiveFeed::default(),
        };
        desktop.resume_sync_in_background(desktop.store().await);
        // Sessions stored before panels were kept, or under a panel computation that changed since.
        auren_engine::panels::refresh_panels_in_background(desktop.store().await, auren_clock::now_unix_ms());
        Ok(desktop)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.settings.get()
    }

    pub(crate) fn update_settings(
        &self,
        change: impl FnOnce(&mut Settings),
    ) -> Result<Settings, DesktopError> {
        Ok(self.settings.update(change)?.0)
    }

    pub(crate) async fn store(&self) -> Store {
        self.store.read().await.clone()
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.folders.data_dir(self.settings().data_dir.as_deref())
    }

    pub fn export_dir(&self) -> PathBuf {
        self.folders.export_dir(self.settings().export_dir.as_deref())
    }

    pub fn log_dir(&self) -> PathBuf {
        self.folders.log_dir.clone()
    }

    pub fn app_info(&self) -> AppInfoDto {
        let data_dir = self.data_dir();
        AppInfoDto {
            version: self.version.clone(),
            db_path: data_dir.join(DB_FILE).display().to_string(),
            data_dir: data_dir.display().to_string(),
            log_dir: self.folders.log_dir.display().to_string(),
            export_dir: self.export_dir().display().to_string(),
        }
    }

    /// Stops the running session (stored, as on a normal stop) or the monitored source; called when the
    /// app quits.
    pub async fn shut_down(&self) {
        self.shutdown.cancel();
        let live = self.live.lock().await.take();
        match live {
            Some(Live::Recording(running)) => live::log_end(running.session.finish().await),
            Some(Live::Monitoring(monitoring)) => live::log_monitor_end(monitoring.monitor.stop().await),
            None => {}
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), DesktopError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DesktopError::Io { what, path, source }
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
