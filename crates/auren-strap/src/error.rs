//! The errors a source's run ends with: each names what failed (which file, which strap, which step).

use std::path::PathBuf;

use auren_hrm::capture::CaptureError;

/// Why a source could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },

    #[error("{path}: {source}")]
    Capture { path: PathBuf, source: CaptureError },

    #[error("{path}: line {line}: {text:?} is not an RR-interval in ms (a number between 200 and 3000)")]
    RrLine {
        path: PathBuf,
        line: usize,
        text: String,
    },

    #[error("{path}: the file holds no RR-intervals")]
    NoRr { path: PathBuf },

    #[error("Bluetooth: {0}")]
    Ble(#[from] crate::ble::BleError),

    #[error("simulator: {0}")]
    Simulator(#[from] crate::simulator::SimulatorConfigError),
}

impl SourceError {
    /// Whether the source failed because the system refused this app the use of Bluetooth (the UI asks
    /// the person to grant it rather than reporting a fault).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, SourceError::Ble(ble) if ble.is_permission_denied())
    }
}

/// Why a recording stopped.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write the capture: {0}")]
    Write(#[from] std::io::Error),
}
