//! [`DesktopError`], the façade's failures, and [`IpcError`], the `{code, message}` the UI receives: the code
//! is stable and the UI branches on it; the message is a sentence for the person.

use serde::{Deserialize, Serialize};
use specta::Type;
use std::path::PathBuf;

use crate::dto::RuleProblemDto;
use crate::export::ExportError;
use crate::settings::SettingsBackendError;

/// Why a desktop operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error("no Bluetooth adapter found: plug one in, or use the built-in simulator (\"Simulated strap\")")]
    NoAdapter,
    #[error("Bluetooth is switched off: switch it on in the system settings, then scan again")]
    BluetoothOff,
    #[error("Auren may not use Bluetooth: allow it in the system settings, then scan again")]
    BluetoothPermission,
    #[error("{0}")]
    Bluetooth(#[from] auren_strap::ble::BleError),
    #[error("a session is already running (session {0}): stop it first")]
    SessionRunning(i64),
    #[error("no live session is running")]
    NoLiveSession,
    #[error("there is no session {0}")]
    NoSuchSession(i64),
    #[error("the rules have {} problem(s): {}", .0.len(), summary(.0))]
    InvalidRules(Vec<RuleProblemDto>),
    #[error("setting {field}: {problem}")]
    InvalidSettings { field: &'static str, problem: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    InvalidSimulator(#[from] auren_strap::simulator::SimulatorConfigError),
    #[error("{0}")]
    InvalidSpeed(#[from] auren_strap::BadSpeed),
    #[error("import of {path} failed: {source}")]
    Import {
        path: PathBuf,
        // Boxed: the engine's error is large, and every desktop Result carries its size.
        source: Box<auren_engine::import::ImportError>,
    },
    #[error("export to {path} failed: {source}")]
    Export { path: PathBuf, source: ExportError },
    #[error("the reading stopped after {reached_s} s; a morning reading needs {needed_s} s")]
    ReadingIncomplete { reached_s: i64, needed_s: i64 },
    #[error("too few clean beats ({beats}; at least {needed} are needed)")]
    TooFewBeats { beats: usize, needed: usize },
    #[error("{0}")]
    Engine(#[source] auren_engine::EngineError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("settings could not be saved: {0}")]
    SettingsStore(#[from] SettingsBackendError),
    #[error("{0}")]
    Keychain(#[from] crate::ai_settings::KeyStoreError),
    #[error("{}", crate::sync::describe(.0))]
    Sync(#[source] auren_sync::SyncError),
}

fn summary(problems: &[RuleProblemDto]) -> String {
    problems
        .iter()
        .map(|p| format!("line {}, column {}: {}", p.line, p.column, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<auren_engine::EngineError> for DesktopError {
    fn from(e: auren_engine::EngineError) -> Self {
        use auren_engine::EngineError as E;
        match e {
            E::NoSuchSession(id) => Self::NoSuchSession(id),
            E::ReadingIncomplete { reached_s, needed_s } => Self::ReadingIncomplete { reached_s, needed_s },
            E::TooFewBeats { beats, needed } => Self::TooFewBeats { beats, needed },
            other => Self::Engine(other),
        }
    }
}

impl From<auren_store::StoreError> for DesktopError {
    fn from(e: auren_store::StoreError) -> Self {
        Self::Engine(auren_engine::EngineError::from(e))
    }
}

/// The stable codes the UI branches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NoAdapter,
    BluetoothOff,
    BluetoothPermission,
    Bluetooth,
    SessionRunning,
    NoLiveSession,
    NoSuchSession,
    InvalidRules,
    InvalidSettings,
    InvalidInput,
    ImportFailed,
    ExportFailed,
    ReadingIncomplete,
    TooFewBeats,
    Storage,
    Internal,
    Keychain,
    SyncSignedOut,
    SyncUnreachable,
    SyncBadCredentials,
    SyncEmailTaken,
    SyncRefused,
}

/// What a failed command returns to the UI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl DesktopError {
    pub fn code(&self) -> ErrorCode {
        use auren_engine::EngineError as E;
        match self {
            Self::NoAdapter => ErrorCode::NoAdapter,
            Self::BluetoothOff => ErrorCode::BluetoothOff,
            Self::BluetoothPermission => ErrorCode::BluetoothPermission,
            Self::Bluetooth(auren_strap::ble::BleError::NoAdapter) => ErrorCode::NoAdapter,
            Self::Bluetooth(e) if e.is_permission_denied() => ErrorCode::BluetoothPermission,
            Self::Bluetooth(_) => ErrorCode::Bluetooth,
            Self::SessionRunning(_) => ErrorCode::SessionRunning,
            Self::NoLiveSession => ErrorCode::NoLiveSession,
            Self::NoSuchSession(_) => ErrorCode::NoSuchSession,
            Self::InvalidRules(_) => ErrorCode::InvalidRules,
            Self::InvalidSettings { .. } => ErrorCode::InvalidSettings,
            Self::InvalidInput(_) | Self::InvalidSimulator(_) | Self::InvalidSpeed(_) => {
                ErrorCode::InvalidInput
            }
            Self::Import { .. } => ErrorCode::ImportFailed,
            Self::Export { .. } => ErrorCode::ExportFailed,
            Self::ReadingIncomplete { .. } => ErrorCode::ReadingIncomplete,
            Self::TooFewBeats { .. } => ErrorCode::TooFewBeats,
            Self::Engine(E::Store(_)) | Self::Io { .. } | Self::SettingsStore(_) => ErrorCode::Storage,
            Self::Engine(e)
                if e.source_error()
                    .is_some_and(auren_strap::SourceError::is_permission_denied) =>
            {
                ErrorCode::BluetoothPermission
            }
            Self::Engine(E::SourceFailed(_)) => ErrorCode::Bluetooth,
            Self::Engine(_) => ErrorCode::Internal,
            Self::Keychain(_) => ErrorCode::Keychain,
            Self::Sync(e) => crate::sync::error_code(e),
        }
    }
}

impl From<DesktopError> for IpcError {
    fn from(e: DesktopError) -> Self {
        // Internal failures are logged with their detail; the person still gets the sentence.
        if matches!(e.code(), ErrorCode::Internal | ErrorCode::Storage) {
            tracing::error!(error = %e, "command failed");
        }
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}
