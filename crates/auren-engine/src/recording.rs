//! Reading recordings: RR files (ms), CSV exports with an RR/IBI column, Kubios-style RR text (seconds) and
//! `.hrmcap` strap captures (through the real 0x2A37 decoder).
//!
//! Every reader turns a file into one RR series in milliseconds plus the warnings a person should see
//! (a capture's malformed notifications, with their line numbers). Anything that would make the analysis
//! meaningless — a non-numeric value, an interval no heart produces, an empty file — is an error that names
//! the file and the line, so a wrong file never yields a plausible-looking panel.
//!
//! A capture also keeps its parsed notifications: replaying them (see [`Recording::replay`]) gives the live
//! pipeline the same timing, gaps and contact changes the strap produced, which the RR series alone loses.

use std::path::{Path, PathBuf};

use auren_hrm::capture::{self, Capture, CaptureError};
use auren_strap::Pace;
use auren_strap::replay::Replay;
use serde::Serialize;

/// Shortest and longest RR interval a text recording may contain (ms): 300 bpm and 20 bpm.
/// Anything outside is a unit mix-up or a corrupt file, not a heartbeat.
pub const RR_RANGE_MS: std::ops::RangeInclusive<f64> = 200.0..=3000.0;

/// The recording formats Auren reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// RR intervals in ms, one per line.
    #[serde(rename = "rr_ms")]
    RrMs,
    /// RR intervals in seconds, one per line (Kubios's RR text export).
    #[serde(rename = "rr_seconds")]
    KubiosSeconds,
    /// A delimited file with a header naming an RR or IBI column (Polar, Elite HRV, HRV Logger exports).
    #[serde(rename = "csv")]
    Csv,
    /// An `.hrmcap` capture of raw strap notifications.
    #[serde(rename = "hrmcap")]
    Capture,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::RrMs, Format::KubiosSeconds, Format::Csv, Format::Capture];

    /// The name shown to people and written in JSON (the serde name too).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::RrMs => "rr_ms",
            Format::KubiosSeconds => "rr_seconds",
            Format::Csv => "csv",
            Format::Capture => "hrmcap",
        }
    }
}

/// The unit RR values were written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Seconds => "s",
        }
    }

    fn to_ms(self) -> f64 {
        match self {
            Unit::Millis => 1.0,
            Unit::Seconds => 1000.0,
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recording, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub format: Format,
    /// The RR series in ms, in recording order, exactly as the source gave it (no correction).
    pub rr_ms: Vec<f64>,
    /// Problems that did not stop the reading (skipped notifications), one line each, in line order.
    pub warnings: Vec<String>,
    /// For a `.hrmcap`: the notifications with their times (and the lines that could not be read).
    pub capture: Option<Capture>,
}

impl Recording {
    /// The recording as a heart source: a capture's notifications at their recorded times (so holes become
    /// gaps and contact changes are seen, as live), an RR series as one sample per second.
    /// `origin` names the source in its messages.
    pub fn replay(&self, origin: &str, pace: Pace) -> Result<Replay, RecordingError> {
        match &self.capture {
            Some(parsed) => Replay::capture_text(&capture_text(parsed), origin, pace).map_err(|e| {
                RecordingError::Invalid {
                    path: PathBuf::from(origin),
                    problem: ContentError::Capture(e),
                }
            }),
            None => Ok(Replay::rr_ms(&self.rr_ms, origin, pace)),
        }
    }
}

/// A parsed capture written back as text; lines that did not parse are left out (a replay skips them).
fn capture_text(parsed: &Capture) -> String {
    let mut text = capture::format_header(&parsed.header);
    for record in &parsed.records {
        text.push_str(&capture::format_record(record.at_ms, &record.payload));
    }
    text
}

/// Why a recording could not be read. The message names the file, and for content the line, the offending
/// text and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    // The cause is part of the message (not a `source`) so one `to_string()` says everything.
    #[error("cannot read {}: {error}", .path.display())]
    Read { path: PathBuf, error: std::io::Error },

    #[error("{}: not a text file (invalid UTF-8 at byte {valid_up_to})", .path.display())]
    NotText { path: PathBuf, valid_up_to: usize },

    #[error("{}: {problem}", .path.display())]
    Invalid { path: PathBuf, problem: ContentError },
}

impl RecordingError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            RecordingError::Read { path, .. }
            | RecordingError::NotText { path, .. }
            | RecordingError::Invalid { path, .. } => path,
        }
    }

    /// The 1-based line at fault, when one is.
    pub fn line(&self) -> Option<usize> {
        match self {
            RecordingError::Invalid { problem, .. } => problem.line(),
            RecordingError::Read { .. } | RecordingError::NotText { .. } => None,
        }
    }
}

/// What is wrong with a recording's content. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContentError {
    #[error("the file is empty")]
    Empty,

    #[error(
        "unknown format: expected RR values one per line, a CSV export with an RR/IBI column, \
         or an .hrmcap capture; the first line is {first_line:?}"
    )]
    UnknownFormat { first_line: String },

    #[error("the file holds no RR intervals")]
    NoIntervals,

    #[error("line {line}: {text:?} is not a number")]
    NotANumber { line: usize, text: String },

    #[error("line {line}: {text:?} is not a finite number")]
    NotFinite { line: usize, text: String },

    #[error(
        "line {line}: RR interval {value} {unit} is outside {}–{} ms (20–300 bpm)",
        RR_RANGE_MS.start(),
        RR_RANGE_MS.end()
    )]
    OutOfRange { line: usize, value: f64, unit: Unit },

    #[error("line {line}: no RR or IBI column in the header (columns: {})", .columns.join(", "))]
    NoRrColumn { line: usize, columns: Vec<String> },

    #[error("line {line}: has {fields} fields, the RR column is field {column}")]
    MissingField {
        line: usize,
        fields: usize,
        column: usize,
    },

    #[error("line {line}: {text:?} in the RR column is not a number")]
    CellNotANumber { line: usize, text: String },

    #[error("line {line}: {text:?} in the RR column is not a finite number")]
    CellNotFinite { line: usize, text: String },

    #[error("{0}")]
    Capture(CaptureError),
}

impl ContentError {
    /// The 1-based line at fault, when one is (a capture's header is line 1).
    pub fn line(&self) -> Option<usize> {
        match self {
            ContentError::NotANumber { line, .. }
            | ContentError::NotFinite { line, .. }
            | ContentError::OutOfRange { line, .. }
            | ContentError::NoRrColumn { line, .. }
            | ContentError::MissingField { line, .. }
            | ContentError::CellNotANumber { line, .. }
            | ContentError::CellNotFinite { line, .. } => Some(*line),
            ContentError::Capture(_) => Some(1),
            ContentError::Empty | ContentError::UnknownFormat { .. } | ContentError::NoIntervals => None,
        }
    }
}

/// Reads and parses `path`, detecting its format from the content (and the extension where the content
/// alone is ambiguous).
pub fn read(path: &Path) -> Result<Recording, RecordingError> {
    let bytes = std::fs::read(path).map_err(|error| RecordingError::Read {
        path: path.to_owned(),
        error,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| RecordingError::NotText {
        path: path.to_owned(),
        valid_up_to: e.utf8_error().valid_up_to(),
    })?;
    parse(&text, path)
}

/// Parses a recording's text; `name_hint` informs format detection (a `.rr` extension means ms) and names
/// the file in errors.
pub fn parse(text: &str, name_hint: &Path) -> Result<Recording, RecordingError> {
    parse_content(text, name_hint).map_err(|problem| RecordingError::Invalid {
        path: name_hint.to_owned(),
        problem,
    })
}

fn parse_content(text: &str, path: &Path) -> Result<Recording, ContentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let Some(first) = first else {
        return Err(ContentError::Empty);
    };
    let recording = if first.starts_with(capture::MAGIC) {
        read_capture(text)?
    } else if first.parse::<f64>().is_ok() || first.starts_with('#') {
        read_single_column(text, path)?
    } else if looks_delimited(first) {
        read_csv(text)?
    } else {
        return Err(ContentError::UnknownFormat {
            first_line: shorten(first),
        });
    };
    if recording.rr_ms.is_empty() {
        return Err(ContentError::NoIntervals);
    }
    Ok(recording)
}

fn shorten(line: &str) -> String {
    line.chars().take(60).collect()
}

/// A header line of a delimited export: printable text with a delimiter or at least a column name.
fn looks_delimited(line: &str) -> bool {
    let printable = !line.chars().any(|c| c.is_control() && c != '\t');
    printable && ([',', ';', '\t'].iter().any(|d| line.contains(*d)) || line.chars().any(char::is_alphabetic))
}

/// A single column of numbers: ms for `.rr` files and values that look like ms, seconds for Kubios text.
fn read_single_column(text: &str, path: &Path) -> Result<Recording, ContentError> {
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value: f64 = line.parse().map_err(|_| ContentError::NotANumber {
            line: i + 1,
            text: shorten(line),
        })?;
        if !value.is_finite() {
            return Err(ContentError::NotFinite {
                line: i + 1,
                text: line.to_owned(),
            });
        }
        values.push((i + 1, value));
    }
    let is_rr_file = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("rr"));
    // A heartbeat lasts 0.2–3 s; a median under 10 can only be seconds, above it only milliseconds.
    let seconds = !is_rr_file && median(values.iter().map(|(_, v)| *v)).is_some_and(|m| m < 10.0);
    let (format, unit) = if seconds {
        (Format::KubiosSeconds, Unit::Seconds)
    } else {
        (Format::RrMs, Unit::Millis)
    };
    Ok(Recording {
        format,
        rr_ms: checked_series(values, unit)?,
        warnings: Vec::new(),
        capture: None,
    })
}

fn checked_series(values: Vec<(usize, f64)>, unit: Unit) -> Result<Vec<f64>, ContentError> {
    values
        .into_iter()
        .map(|(line, value)| {
            let ms = value * unit.to_ms();
            if RR_RANGE_MS.contains(&ms) {
                Ok(ms)
            } else {
                Err(ContentError::OutOfRange { line, value, unit })
            }
        })
        .collect()
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Column headers that hold beat-to-beat intervals in the exports people bring (Polar Sensor Logger's
/// `RR-interval [ms]`, Elite HRV's and HRV Logger's `RR`/`rr`, Kubios's `RR (s)`, generic `IBI`/`RRI`/`NN`).
const RR_COLUMN_NAMES: &[&str] = &[
    "rr",
    "rri",
    "rr interval",
    "rr intervals",
    "rr-interval",
    "rr-intervals",
    "rr_interval",
    "rr_intervals",
    "rr_ms",
    "rrms",
    "ibi",
    "ibi_ms",
    "inter-beat interval",
    "interbeat interval",
    "nn",
    "nn interval",
];

fn read_csv(text: &str) -> Result<Recording, ContentError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((header_index, header)) = lines.next() else {
        return Err(ContentError::Empty);
    };
    let delimiter = [';', '\t', ',']
        .into_iter()
        .max_by_key(|d| header.matches(*d).count())
        .unwrap_or(',');
    let columns: Vec<&str> = header
        .split(delimiter)
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let (column, unit_hint) = columns
        .iter()
        .enumerate()
        .find_map(|(i, name)| {
            let (bare, unit) = split_unit(name);
            RR_COLUMN_NAMES.contains(&bare.as_str()).then_some((i, unit))
        })
        .ok_or_else(|| ContentError::NoRrColumn {
            line: header_index + 1,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        })?;
    let mut values = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(delimiter).collect();
        let Some(cell) = cells.get(column).map(|c| c.trim().trim_matches('"')) else {
            return Err(ContentError::MissingField {
                line: i + 1,
                fields: cells.len(),
                column: column + 1,
            });
        };
        // Exports leave the RR cell empty on rows that carry other samples (e.g. HR only).
        if cell.is_empty() {
            continue;
        }
        let value: f64 = cell
            .replace(',', ".")
            .parse()
            .map_err(|_| ContentError::CellNotANumber {
                line: i + 1,
                text: shorten(cell),
            })?;
        if !value.is_finite() {
            return Err(ContentError::CellNotFinite {
                line: i + 1,
                text: cell.to_owned(),
            });
        }
        values.push((i + 1, value));
    }
    let unit = unit_hint.unwrap_or_else(|| {
        if median(values.iter().map(|(_, v)| *v)).is_some_and(|m| m < 10.0) {
            Unit::Seconds
        } else {
            Unit::Millis
        }
    });
    Ok(Recording {
        format: Format::Csv,
        rr_ms: checked_series(values, unit)?,
        warnings: Vec::new(),
        capture: None,
    })
}

/// Splits `RR-interval [ms]` into (`rr-interval`, ms): exports write the unit in brackets or parentheses.
fn split_unit(name: &str) -> (String, Option<Unit>) {
    let lower = name.to_ascii_lowercase();
    let (bare, unit) = match lower.find(['(', '[']) {
        Some(open) => {
            let unit = lower[open + 1..].trim_end_matches([')', ']']).trim().to_string();
            (lower[..open].trim().to_string(), unit)
        }
        None => (lower.trim().to_string(), String::new()),
    };
    let unit = match unit.as_str() {
        "ms" | "msec" | "milliseconds" => Some(Unit::Millis),
        "s" | "sec" | "seconds" => Some(Unit::Seconds),
        _ => None,
    };
    (bare, unit)
}

/// A strap capture: every notification goes through the real 0x2A37 decoder; malformed ones are reported
/// with their line number and skipped, as a live session would skip them.
fn read_capture(text: &str) -> Result<Recording, ContentError> {
    let parsed = capture::parse(text).map_err(ContentError::Capture)?;
    let mut warnings: Vec<(usize, String)> = parsed
        .bad_lines
        .iter()
        .map(|bad| (bad.line, format!("line {}: skipped: {}", bad.line, bad.error)))
        .collect();
    let mut rr_ms = Vec::new();
    for record in &parsed.records {
        match auren_hrm::decode_heart_rate_measurement(&record.payload) {
            Ok(measurement) => rr_ms.extend(measurement.rr.iter().map(|rr| rr.as_ms())),
            Err(err) => warnings.push((
                record.line,
                format!("line {}: malformed notification skipped: {err}", record.line),
            )),
        }
    }
    warnings.sort_by_key(|(line, _)| *line);
    Ok(Recording {
        format: Format::Capture,
        rr_ms,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
        capture: Some(parsed),
    })
}
