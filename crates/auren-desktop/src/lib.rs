//! auren-desktop: the desktop app's façade. Every Tauri command in `src-tauri` is one line into
//! [`Desktop`]; nothing here knows Tauri, so all of it is tested without a window.
//!
//! Layout: `desktop` holds [`Desktop`] and the state its concerns share; each concern is an
//! `impl Desktop` block in its own module:
//! - `bluetooth` — Bluetooth status, scanning, remembered straps.
//! - `live` — the one live connection: a recording started, re-attached, tagged, stopped, and the
//!   forwarding of updates; `monitor` — the source streaming before a session starts;
//!   `sources` — the strap or the "Simulated strap" it reads.
//! - `morning` — the guided morning reading; `proactive` — the coach's one message after a CNS-fatigue
//!   alert or a morning below the normal range.
//! - `history` — readiness, the session list, a session's panel and charts.
//! - `rules` — the rules file, checked and saved.
//! - `settings` — [`Settings`], validation, the [`SettingsBackend`] the shell provides, the data folder;
//!   `settings_sync` — which settings are the person's (synced) and which the device's, adopting pulled ones.
//! - `memory` — the memory panel: memories as of a date, proposals, hypotheses; edit, retract, forget;
//!   `memory_dto` — its IPC types.
//! - `chat` — the chat window's turns (events batched for the window, Stop), conversations, status;
//!   `chat_dto` — its IPC types.
//! - `sync` — the sync account (sign in, device code, sign out), the background loop, "Sync now",
//!   devices, coach access and the status chip; `sync_dto` — its IPC types.
//! - `ai_settings` — the AI settings pane: `gateway.toml` viewed and edited in place, provider keys in the
//!   keychain, connection tests, local Ollama; `ai_settings_dto` — its IPC types.
//! - `import_export` — recordings in, sessions out; `export` writes CSV, Kubios RR text and the report.
//! - `places` — [`Folders`]: data, export, config and log folders and their overrides.
//! - `dto` — the desktop's IPC types; `error` — [`DesktopError`] and the UI's [`IpcError`].

mod ai_settings;
pub mod ai_settings_dto;
mod annotations;
mod bluetooth;
mod chat;
pub mod chat_dto;
mod desktop;
pub mod dto;
mod error;
pub mod export;
mod history;
mod import_export;
mod live;
mod memory;
pub mod memory_dto;
mod monitor;
mod morning;
pub mod places;
mod proactive;
mod rules;
pub mod settings;
pub mod settings_sync;
mod sources;
mod sync;
pub mod sync_dto;

pub use ai_settings::{KEYCHAIN_SERVICE, KeyStoreError, KeychainKeys, MemoryKeys, ProviderKeys};
pub use bluetooth::MAX_SCAN_S;
pub use chat::ChatSink;
pub use desktop::Desktop;
pub use error::{DesktopError, ErrorCode, IpcError};
pub use export::ExportError;
pub use history::{MAX_PAGE, MAX_TREND_DAYS};
pub use live::UpdateSink;
pub use places::Folders;
pub use proactive::{ProactiveMessageDto, ProactiveSink, ProactiveTriggerDto};
pub use settings::{JsonFileSettings, Settings, SettingsBackend, SettingsBackendError};
pub use sources::MAX_SIMULATOR_SPEED;
pub use sync::{SyncSink, TokenChoice};
