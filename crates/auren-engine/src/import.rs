//! Importing a recording file as a stored session: the file is read and checked whole first, then played
//! through the live pipeline as fast as possible, so an imported session has the same artifact labels,
//! windowed metrics, alerts and gaps a live one would have had.
//!
//! A recording keeps its real start time where the file carries one ([`recorded_start`]: a CSV export's
//! timestamp column, Elite HRV's `YYYY-MM-DD HH-MM-SS` file names). History exports of other apps (daily
//! readings, see [`history`]) become morning readings instead ([`import_history`]), so the normal range
//! exists at once.

pub mod history;

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

/// Columns whose first cell is a recording's start (Polar Sensor Logger's `Phone timestamp`, generic
/// exports' `timestamp`/`time`/`datetime`/`date`), compared case-insensitively.
const START_COLUMNS: &[&str] = &[
    "phone timestamp",
    "timestamp",
    "datetime",
    "date time",
    "date",
    "time",
];

/// Most of a file read to find its start time: the header and the first rows are at its beginning.
const START_PROBE_BYTES: u64 = 64 * 1024;

/// The wall-clock start a recording file carries, Unix ms, if any: the first ISO 8601 date-time in a
/// timestamp column of a delimited export, else a `YYYY-MM-DD HH-MM-SS` (or `YYYY-MM-DD_HH-MM-SS`) file name
/// (Elite HRV's raw RR export). Times without an offset are read as UTC, the calendar the store counts in.
pub fn recorded_start(path: &Path) -> Option<i64> {
    start_in_text(&probe(path)).or_else(|| {
        let stem = path.file_stem()?.to_string_lossy().into_owned();
        start_in_name(&stem)
    })
}

fn probe(path: &Path) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(START_PROBE_BYTES).read_to_end(&mut bytes));
    if read.is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn start_in_text(text: &str) -> Option<i64> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let header = lines.next()?;
    let delimiter = [';', '\t', ',']
        .into_iter()
        .max_by_key(|d| header.matches(*d).count())?;
    let columns: Vec<String> = header
        .split(delimiter)
        .map(|c| c.trim().trim_matches('"').to_lowercase())
        .collect();
    let column = START_COLUMNS
        .iter()
        .find_map(|name| columns.iter().position(|c| c == name))?;
    let first = lines.next()?;
    let cell = first.split(delimiter).nth(column)?.trim().trim_matches('"');
    history::iso_instant(cell)
}

fn start_in_name(stem: &str) -> Option<i64> {
    let (date, time) = stem.get(..10).zip(stem.get(11..19))?;
    if !matches!(stem.as_bytes().get(10), Some(b' ' | b'_' | b'T')) {
        return None;
    }
    history::iso_instant(&format!("{date}T{}", time.replace('-', ":")))
}

/// What a history import stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistorySummary {
    pub format: history::HistoryFormat,
    pub file_name: String,
    /// Morning readings stored (one per date; an earlier reading of the same date is replaced).
    pub readings: usize,
    /// The first and last day stored (days since 1970-01-01).
    pub first_day: i64,
    pub last_day: i64,
    pub warnings: Vec<String>,
}

/// Why a history import failed; nothing is stored when the file is wrong.
#[derive(Debug, thiserror::Error)]
pub enum HistoryImportError {
    #[error("cannot read {}: {error}", .path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{}: {problem}", .path.display())]
    Invalid {
        path: PathBuf,
        problem: history::HistoryError,
    },
    #[error("{}: not a history export (a header with a date and an RMSSD column of HRV4Training or Elite HRV)", .path.display())]
    NotHistory { path: PathBuf },
    #[error("storing {}: {error}", .path.display())]
    Store { path: PathBuf, error: EngineError },
}

/// Whether `path` is a history export of a supported app (its header says so); unreadable files are not.
pub fn is_history_export(path: &Path) -> bool {
    probe(path)
        .lines()
        .map(|l| l.trim().trim_start_matches('\u{feff}'))
        .find(|l| !l.is_empty())
        .is_some_and(history::is_header)
}

/// Reads a history export whole (every row checked first), then stores its readings as morning readings
/// and refreshes the baselines of its last day.
pub async fn import_history(store: &Store, path: &Path) -> Result<HistorySummary, HistoryImportError> {
    let text = std::fs::read_to_string(path).map_err(|error| HistoryImportError::Read {
        path: path.to_owned(),
        error,
    })?;
    let parsed = history::parse(&text)
        .map_err(|problem| HistoryImportError::Invalid {
            path: path.to_owned(),
            problem,
        })?
        .ok_or_else(|| HistoryImportError::NotHistory {
            path: path.to_owned(),
        })?;
    let stored = |error: EngineError| HistoryImportError::Store {
        path: path.to_owned(),
        error,
    };
    for reading in &parsed.readings {
        store
            .add_morning_reading(reading.day, reading.ln_rmssd, reading.resting_hr, None)
            .await
            .map_err(|e| stored(e.into()))?;
    }
    let first_day = parsed.readings.first().map_or(0, |r| r.day);
    let last_day = parsed.readings.last().map_or(0, |r| r.day);
    crate::morning::refresh_baselines(store, last_day)
        .await
        .map_err(stored)?;
    Ok(HistorySummary {
        format: parsed.format,
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string()),
        readings: parsed.readings.len(),
        first_day,
        last_day,
        warnings: parsed.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_files_carry() {
        let cases: [(&str, Option<i64>); 5] = [
            (
                "Phone timestamp;sensor timestamp [ns];RR-interval [ms]\n2025-11-21T04:40:00.000;1;812\n",
                Some(1_763_700_000_000),
            ),
            (
                "timestamp,rr\n2025-11-21 04:40:00Z,812\n",
                Some(1_763_700_000_000),
            ),
            (
                "# comment\nDate,RR\n2025-11-21T05:40:00+01:00,812\n",
                Some(1_763_700_000_000),
            ),
            ("812\n790\n", None),
            ("time,rr\n0.812,812\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(start_in_text(text), want, "{text}");
        }
    }

    #[test]
    fn elite_hrv_file_names_carry_the_start() {
        assert_eq!(start_in_name("2025-11-21 04-40-00"), Some(1_763_700_000_000));
        assert_eq!(start_in_name("2025-11-21_04-40-00"), Some(1_763_700_000_000));
        assert_eq!(start_in_name("nsr_5min"), None);
        assert_eq!(start_in_name("2025-11-21"), None);
    }
}
