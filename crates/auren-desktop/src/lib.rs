//! auren-desktop: the desktop app's façade. Every Tauri command in `src-tauri` is one line into
//! [`Desktop`]; nothing here knows Tauri, so all of it is tested without a window.
//!
//! Layout:
//! - `desktop` — [`Desktop`]: store, settings, rules, the live session, history, import and export.
//! - `live` — the one running session: sources (strap or "Simulated strap"), update forwarding.
//! - `settings` — [`Settings`], validation, the [`SettingsBackend`] the shell provides.
//! - `places` — [`Folders`]: data, export, config and log folders and their overrides.
//! - `export` — CSV, Kubios RR text and the report image of a session.
//! - `dto` — the desktop's IPC types; `error` — [`DesktopError`] and the UI's [`IpcError`].

mod desktop;
pub mod dto;
mod error;
pub mod export;
mod live;
pub mod places;
pub mod settings;

pub use desktop::{Desktop, MAX_PAGE, MAX_SCAN_S, MAX_TREND_DAYS, now_unix_ms};
pub use error::{DesktopError, ErrorCode, IpcError};
pub use live::{MAX_SIMULATOR_SPEED, UpdateSink};
pub use places::Folders;
pub use settings::{JsonFileSettings, Settings, SettingsBackend};
