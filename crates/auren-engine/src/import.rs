//! Importing a recording file as a stored session: the file is read and checked whole first, then played
//! through the live pipeline as fast as possible, so an imported session has the same artifact labels,
//! windowed metrics, alerts and gaps a live one would have had.

use std::path::{Path, PathBuf};

use auren_cep::{Baselines, RuleSet, SessionKind};
use auren_store::Store;
use auren_strap::Pace;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::dto::AlertDto;
use crate::error::EngineError;
use crate::recording::{self, Format, RecordingError};
use crate::session::{SessionConfig, SessionEnd, start_session};

/// How an imported recording is stored.
pub struct ImportConfig {
    /// Wall-clock start given to the session, Unix ms (files carry no reliable start time of their own).
    pub started_at_unix_ms: i64,
    pub rules: RuleSet,
    pub baselines: Baselines,
    pub kind: SessionKind,
}

impl ImportConfig {
    /// An import stored as an `Other` session.
    pub fn new(started_at_unix_ms: i64, rules: RuleSet, baselines: Baselines) -> Self {
        Self {
            started_at_unix_ms,
            rules,
            baselines,
            kind: SessionKind::Other,
        }
    }
}

/// What an import stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportSummary {
    pub session_id: i64,
    pub format: Format,
    /// The file's name, also the session's label.
    pub file_name: String,
    /// What the session list shows as its source: `import: <file name> (<format>)`.
    pub source_label: String,
    /// RR intervals the file holds.
    pub beats_in_file: u64,
    /// Beats stored in the session.
    pub beats: u64,
    /// Beats labelled as artifacts.
    pub artifacts: u64,
    /// Session time covered, ms.
    pub duration_ms: i64,
    /// Problems that did not stop the import (skipped capture lines, rows the store refused).
    pub warnings: Vec<String>,
    /// Alerts the rules fired while the recording played.
    pub alerts: Vec<AlertDto>,
}

/// Why an import failed. A [`ImportError::Recording`] failure happens before anything is stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Recording(#[from] RecordingError),

    // Reading runs on the blocking pool; this is that task panicking or being cancelled.
    #[error("reading {}: the reading task failed: {error}", .path.display())]
    ReadTask {
        path: PathBuf,
        error: tokio::task::JoinError,
    },

    #[error("storing {}: {error}", .path.display())]
    Store { path: PathBuf, error: EngineError },
}

/// Reads `path` (any format of [`recording`]) and stores it as a session played through the live
/// pipeline as fast as possible.
///
/// The whole file is read and validated before the session is created, so a malformed file stores
/// nothing. A failure of the store itself after that point can leave a partial session, as it would live.
pub async fn import_recording(
    store: &Store,
    path: &Path,
    config: ImportConfig,
) -> Result<ImportSummary, ImportError> {
    let owned = path.to_owned();
    let read = tokio::task::spawn_blocking(move || recording::read(&owned))
        .await
        .map_err(|error| ImportError::ReadTask {
            path: path.to_owned(),
            error,
        })??;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let source = read.replay(&path.display().to_string(), Pace::AsFastAsPossible)?;
    let source_label = format!("import: {file_name} ({})", read.format.as_str());

    let stored = |error: EngineError| ImportError::Store {
        path: path.to_owned(),
        error,
    };
    let mut session = SessionConfig::new(
        config.kind,
        config.started_at_unix_ms,
        config.rules,
        config.baselines,
    );
    session.source_label = Some(source_label.clone());
    session.label = Some(file_name.clone());
    // Nothing cancels an import from outside: it ends when the recording has been played.
    let live = start_session(store, Box::new(source), session, CancellationToken::new())
        .await
        .map_err(stored)?;
    let summary = live.finish().await.map_err(stored)?;

    let mut warnings = read.warnings;
    if let SessionEnd::SourceFailed(why) = &summary.ended {
        warnings.push(format!("the replay stopped early: {why}"));
    }
    if summary.written.rejected > 0 || summary.written.dropped > 0 {
        warnings.push(format!(
            "{} rows refused and {} dropped by the store",
            summary.written.rejected, summary.written.dropped
        ));
    }
    Ok(ImportSummary {
        session_id: summary.session_id,
        format: read.format,
        file_name,
        source_label,
        beats_in_file: read.rr_ms.len() as u64,
        beats: summary.beats,
        artifacts: summary.artifacts,
        duration_ms: summary.duration_ms,
        warnings,
        alerts: summary.alerts,
    })
}
