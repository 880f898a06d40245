//! Reading recordings: RR files (ms), CSV exports with an RR/IBI column, Kubios-style RR text (seconds),
//! headerless time/RR columns (Polar Flow's RR export) and `.hrmcap` strap captures (through the real
//! 0x2A37 decoder).
//!
//! Every reader turns a file into one RR series in milliseconds, the gaps in it, and the warnings a person
//! should see (a capture's malformed notifications, rows without an RR value, with their line numbers).
//! Anything that would make the analysis meaningless — a non-numeric value, an interval no heart produces,
//! an empty file — is an error that names the file and the line, so a wrong file never yields a
//! plausible-looking panel. A message quotes at most [`EXCERPT_CHARS`] characters of a line.
//!
//! What is read as text: UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark
//! (Windows Notepad's "Unicode"); lines end in `\n`, `\r\n` or a lone `\r` (old Mac exports). Numbers may
//! use a decimal comma (`0,739`, `739,5`) where that cannot be a column separator.
//!
//! A capture also keeps its parsed notifications: replaying them (see [`Recording::replay`]) gives the live
//! pipeline the same timing, gaps and contact changes the strap produced, which the RR series alone loses.
//!
//! Memory: the series is parsed straight into one `Vec<f64>` sized from the line count (8 bytes a beat
//! beyond the file's text); line numbers are only looked up again when a value is rejected.

use std::path::{Path, PathBuf};

use auren_hrm::capture::{self, Capture, CaptureError};
use auren_strap::Pace;
use auren_strap::replay::Replay;
use serde::Serialize;

/// Shortest and longest RR interval a recording may contain (ms): 300 bpm and 20 bpm.
/// Anything outside is a unit mix-up or a corrupt file, not a heartbeat.
pub const RR_RANGE_MS: std::ops::RangeInclusive<f64> = 200.0..=3000.0;

/// Most characters of a line an error message or a warning quotes.
pub const EXCERPT_CHARS: usize = 60;

/// Values the unit of a unit-less file is judged by (the median of the first ones): a heartbeat lasts
/// 0.2–3 s, so a median under 10 can only be seconds and one above it only milliseconds.
const UNIT_SAMPLE: usize = 1001;

/// Gap warnings listed one by one; past this, one line counts the rest.
const GAP_WARNINGS: usize = 20;

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
    /// Two columns without a header: elapsed time, then RR in ms or s (Polar Flow's RR export, time/RR
    /// text files).
    #[serde(rename = "time_rr")]
    TimeAndRr,
    /// An `.hrmcap` capture of raw strap notifications.
    #[serde(rename = "hrmcap")]
    Capture,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::RrMs,
        Format::KubiosSeconds,
        Format::Csv,
        Format::TimeAndRr,
        Format::Capture,
    ];

    /// The name shown to people and written in JSON (the serde name too).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::RrMs => "rr_ms",
            Format::KubiosSeconds => "rr_seconds",
            Format::Csv => "csv",
            Format::TimeAndRr => "time_rr",
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

/// A break in the series: the interval at [`Gap::before`] does not follow the one before it, so no
/// successive difference (and no interval) may be computed across it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Index in [`Recording::rr_ms`] of the first interval after the gap.
    pub before: usize,
    /// The 1-based lines of the file the gap spans, first and last.
    pub first_line: usize,
    pub last_line: usize,
}

/// One recording, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub format: Format,
    /// The RR series in ms, in recording order, exactly as the source gave it (no correction).
    pub rr_ms: Vec<f64>,
    /// Where the series breaks (a CSV row without an RR value, a capture's impossible interval), in order.
    pub gaps: Vec<Gap>,
    /// Problems that did not stop the reading (skipped notifications, gaps), one line each, in line order.
    pub warnings: Vec<String>,
    /// For a `.hrmcap`: the notifications with their times (and the lines that could not be read).
    pub capture: Option<Capture>,
}

impl Recording {
    /// The stretches of successive intervals between the gaps, in order (one when there is no gap).
    pub fn segments(&self) -> Vec<&[f64]> {
        let mut out = Vec::with_capacity(self.gaps.len() + 1);
        let mut start = 0;
        for end in self.gaps.iter().map(|g| g.before).chain([self.rr_ms.len()]) {
            if let Some(segment) = self.rr_ms.get(start..end).filter(|s| !s.is_empty()) {
                out.push(segment);
            }
            start = end;
        }
        out
    }

    /// The recording as a heart source: a capture's notifications at their recorded times (so holes become
    /// gaps and contact changes are seen, as live), an RR series as one sample per second with a gap event
    /// at each of its gaps.
    /// `origin` names the source in its messages.
    pub fn replay(&self, origin: &str, pace: Pace) -> Result<Replay, RecordingError> {
        match &self.capture {
            Some(parsed) => Replay::capture_text(&capture_text(parsed), origin, pace).map_err(|e| {
                RecordingError::Invalid {
                    path: PathBuf::from(origin),
                    problem: ContentError::Capture(e),
                }
            }),
            None => Ok(Replay::rr_segments(&self.segments(), origin, pace)),
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

    #[error("{}: not a text file (invalid UTF-16 at byte {byte})", .path.display())]
    NotUtf16 { path: PathBuf, byte: usize },

    #[error("{}: {problem}", .path.display())]
    Invalid { path: PathBuf, problem: ContentError },
}

impl RecordingError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            RecordingError::Read { path, .. }
            | RecordingError::NotText { path, .. }
            | RecordingError::NotUtf16 { path, .. }
            | RecordingError::Invalid { path, .. } => path,
        }
    }

    /// The 1-based line at fault, when one is.
    pub fn line(&self) -> Option<usize> {
        match self {
            RecordingError::Invalid { problem, .. } => problem.line(),
            RecordingError::Read { .. }
            | RecordingError::NotText { .. }
            | RecordingError::NotUtf16 { .. } => None,
        }
    }
}

/// What is wrong with a recording's content. Lines are 1-based; quoted text is at most
/// [`EXCERPT_CHARS`] characters (cut with "…").
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContentError {
    #[error("the file is empty")]
    Empty,

    #[error(
        "unknown format: expected RR values one per line, time and RR in two columns, a CSV export with an \
         RR/IBI column, or an .hrmcap capture; the first line is {first_line:?}"
    )]
    UnknownFormat { first_line: String },

    #[error("the file holds no RR intervals")]
    NoIntervals,

    #[error("line {line}: {text:?} is not a number")]
    NotANumber { line: usize, text: String },

    #[error("line {line}: {text:?} is not a finite number")]
    NotFinite { line: usize, text: String },

    #[error("line {line}: {text:?} is not two numbers (elapsed time, then RR) like the first line")]
    NotTwoColumns { line: usize, text: String },

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
            | ContentError::NotTwoColumns { line, .. }
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
    parse_bytes(bytes, path)
}

/// Decodes a file's bytes (UTF-8, or UTF-16 with a byte-order mark) and parses them; `name_hint` as in
/// [`parse`].
pub fn parse_bytes(bytes: Vec<u8>, name_hint: &Path) -> Result<Recording, RecordingError> {
    let text = match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => decode_utf16(rest, u16::from_le_bytes, name_hint)?,
        [0xFE, 0xFF, rest @ ..] => decode_utf16(rest, u16::from_be_bytes, name_hint)?,
        _ => String::from_utf8(bytes).map_err(|e| RecordingError::NotText {
            path: name_hint.to_owned(),
            valid_up_to: e.utf8_error().valid_up_to(),
        })?,
    };
    parse(&text, name_hint)
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16, path: &Path) -> Result<String, RecordingError> {
    let bad = |byte: usize| RecordingError::NotUtf16 {
        path: path.to_owned(),
        byte,
    };
    if !bytes.len().is_multiple_of(2) {
        return Err(bad(bytes.len() + 1));
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    for (k, c) in char::decode_utf16(units).enumerate() {
        // The byte offset counts the 2-byte mark; a surrogate pair reports its first unit.
        text.push(c.map_err(|_| bad(2 + 2 * k))?);
    }
    Ok(text)
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
    let Some((_, first)) = lines(text)
        .map(|(n, l)| (n, l.trim()))
        .find(|(_, l)| !l.is_empty())
    else {
        return Err(ContentError::Empty);
    };
    let is_rr_file = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("rr"));
    let recording = if first.starts_with(capture::MAGIC) {
        read_capture(text)?
    } else {
        // Comments only: nothing to read.
        let Some((_, data)) = data_lines(text).next() else {
            return Err(ContentError::NoIntervals);
        };
        if number(data).is_some() {
            read_single_column(text, is_rr_file)?
        } else if time_and_rr(data).is_some() {
            read_time_and_rr(text)?
        } else if looks_delimited(data) {
            read_csv(text)?
        } else {
            return Err(ContentError::UnknownFormat {
                first_line: excerpt(data),
            });
        }
    };
    if recording.rr_ms.is_empty() {
        return Err(ContentError::NoIntervals);
    }
    Ok(recording)
}

/// The lines of `text` with their 1-based numbers; a line ends in `\n`, `\r\n` or a lone `\r`.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    let mut number = 0;
    std::iter::from_fn(move || {
        let current = rest?;
        number += 1;
        match current.find(['\n', '\r']) {
            Some(end) => {
                let skip = if current[end..].starts_with("\r\n") { 2 } else { 1 };
                let next = &current[end + skip..];
                rest = (!next.is_empty()).then_some(next);
                Some((number, &current[..end]))
            }
            None => {
                rest = None;
                Some((number, current))
            }
        }
    })
}

/// The trimmed lines that carry data: not blank, not a `#` comment.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    lines(text)
        .map(|(n, l)| (n, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// At most [`EXCERPT_CHARS`] characters of `text`, cut with "…".
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((byte, _)) => format!("{}…", &text[..byte]),
        None => text.to_owned(),
    }
}

/// A number as exports write it: `739`, `0.739`, `1e3`, or with a decimal comma (`0,739`, `739,5`) when the
/// comma is the only separator in it.
fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    text.parse().ok().or_else(|| {
        let decimal_comma = text.matches(',').count() == 1 && !text.contains('.');
        decimal_comma
            .then(|| text.replacen(',', ".", 1).parse().ok())
            .flatten()
    })
}

/// The two fields of a headerless time/RR line (tab, semicolon, spaces, or a comma between two numbers
/// written with decimal points), if both are numbers.
fn time_and_rr(line: &str) -> Option<(f64, f64)> {
    let fields: Vec<&str> = if line.contains('\t') {
        line.split('\t').collect()
    } else if line.contains(';') {
        line.split(';').collect()
    } else if line.split_whitespace().count() == 2 {
        line.split_whitespace().collect()
    } else {
        line.split(',').collect()
    };
    match fields.as_slice() {
        [time, rr] => Some((number(time)?, number(rr)?)),
        _ => None,
    }
}

/// A header line of a delimited export: printable text with a delimiter or at least a column name.
fn looks_delimited(line: &str) -> bool {
    let printable = !line.chars().any(|c| c.is_control() && c != '\t');
    printable && ([',', ';', '\t'].iter().any(|d| line.contains(*d)) || line.chars().any(char::is_alphabetic))
}

/// One data row as a reader sees it.
#[derive(Debug, Clone, Copy)]
enum Row {
    Value {
        line: usize,
        value: f64,
    },
    /// A row that carries no RR value (an empty CSV cell).
    Empty {
        line: usize,
    },
}

/// A series, its gaps and the warnings about them, built from a reader's rows. `rows` is called twice when
/// the unit must be guessed: once for the first [`UNIT_SAMPLE`] values, once for all.
struct Series {
    rr_ms: Vec<f64>,
    gaps: Vec<Gap>,
    warnings: Vec<String>,
    unit: Unit,
}

fn series<I>(text: &str, rows: impl Fn() -> I, unit: Option<Unit>) -> Result<Series, ContentError>
where
    I: Iterator<Item = Result<Row, ContentError>>,
{
    let unit = match unit {
        Some(unit) => unit,
        None => {
            let mut sample = Vec::new();
            for row in rows() {
                if let Row::Value { value, .. } = row? {
                    sample.push(value);
                    if sample.len() == UNIT_SAMPLE {
                        break;
                    }
                }
            }
            guess_unit(sample)
        }
    };
    // Every value has a line of its own: the line count bounds the series, so it is never reallocated.
    let line_ends = text.bytes().filter(|&b| b == b'\n' || b == b'\r').count();
    let mut rr_ms = Vec::with_capacity(line_ends + 1);
    let mut gaps = Vec::new();
    let mut empty: Option<(usize, usize)> = None;
    let mut edges = Vec::new();
    for row in rows() {
        match row? {
            Row::Value { line, value } => {
                let ms = value * unit.to_ms();
                if !RR_RANGE_MS.contains(&ms) {
                    return Err(ContentError::OutOfRange { line, value, unit });
                }
                if let Some((first_line, last_line)) = empty.take() {
                    if rr_ms.is_empty() {
                        edges.push((first_line, last_line));
                    } else {
                        gaps.push(Gap {
                            before: rr_ms.len(),
                            first_line,
                            last_line,
                        });
                    }
                }
                rr_ms.push(ms);
            }
            Row::Empty { line } => empty = Some(empty.map_or((line, line), |(first, _)| (first, line))),
        }
    }
    edges.extend(empty);
    let warnings = gap_warnings(&gaps, &edges);
    Ok(Series {
        rr_ms,
        gaps,
        warnings,
        unit,
    })
}

fn guess_unit(mut sample: Vec<f64>) -> Unit {
    if sample.is_empty() {
        return Unit::Millis;
    }
    let middle = sample.len() / 2;
    let (_, median, _) = sample.select_nth_unstable_by(middle, f64::total_cmp);
    if *median < 10.0 {
        Unit::Seconds
    } else {
        Unit::Millis
    }
}

fn lines_text(first: usize, last: usize) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}–{last}")
    }
}

/// One warning per gap (the first [`GAP_WARNINGS`], then a count), and for rows without a value before
/// the first or after the last interval, which break nothing.
fn gap_warnings(gaps: &[Gap], edges: &[(usize, usize)]) -> Vec<String> {
    let mut warnings: Vec<(usize, String)> = gaps
        .iter()
        .take(GAP_WARNINGS)
        .map(|g| {
            let lines = lines_text(g.first_line, g.last_line);
            (
                g.first_line,
                format!("{lines}: no RR value: a gap, no interval is computed across it"),
            )
        })
        .collect();
    if gaps.len() > GAP_WARNINGS {
        let last = gaps.last().map_or(0, |g| g.last_line);
        warnings.push((
            last,
            format!(
                "{} more gaps (rows without an RR value) up to line {last}",
                gaps.len() - GAP_WARNINGS
            ),
        ));
    }
    for &(first, last) in edges {
        let lines = lines_text(first, last);
        warnings.push((first, format!("{lines}: no RR value")));
    }
    warnings.sort_by_key(|(line, _)| *line);
    warnings.into_iter().map(|(_, w)| w).collect()
}

/// A single column of numbers: ms for `.rr` files and values that look like ms, seconds for Kubios text.
fn read_single_column(text: &str, is_rr_file: bool) -> Result<Recording, ContentError> {
    let rows = || {
        data_lines(text).map(|(line, field)| {
            let value = number(field).ok_or_else(|| ContentError::NotANumber {
                line,
                text: excerpt(field),
            })?;
            if !value.is_finite() {
                return Err(ContentError::NotFinite {
                    line,
                    text: excerpt(field),
                });
            }
            Ok(Row::Value { line, value })
        })
    };
    let unit = is_rr_file.then_some(Unit::Millis);
    let read = series(text, rows, unit)?;
    let format = match read.unit {
        Unit::Seconds => Format::KubiosSeconds,
        Unit::Millis => Format::RrMs,
    };
    Ok(Recording {
        format,
        rr_ms: read.rr_ms,
        gaps: read.gaps,
        warnings: read.warnings,
        capture: None,
    })
}

/// Two columns without a header: elapsed time (read, not used: the RR column is the series), then RR.
fn read_time_and_rr(text: &str) -> Result<Recording, ContentError> {
    let rows = || {
        data_lines(text).map(|(line, fields)| {
            let (_, value) = time_and_rr(fields).ok_or_else(|| ContentError::NotTwoColumns {
                line,
                text: excerpt(fields),
            })?;
            if !value.is_finite() {
                return Err(ContentError::NotFinite {
                    line,
                    text: excerpt(fields),
                });
            }
            Ok(Row::Value { line, value })
        })
    };
    let read = series(text, rows, None)?;
    Ok(Recording {
        format: Format::TimeAndRr,
        rr_ms: read.rr_ms,
        gaps: read.gaps,
        warnings: read.warnings,
        capture: None,
    })
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

/// Most header columns an error lists.
const LISTED_COLUMNS: usize = 12;

fn read_csv(text: &str) -> Result<Recording, ContentError> {
    let Some((header_line, header)) = data_lines(text).next() else {
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
            line: header_line,
            columns: listed(&columns),
        })?;
    let rows = || {
        data_lines(text)
            .skip(1)
            .map(move |(line, row)| csv_cell(line, row, delimiter, column))
    };
    let read = series(text, rows, unit_hint)?;
    Ok(Recording {
        format: Format::Csv,
        rr_ms: read.rr_ms,
        gaps: read.gaps,
        warnings: read.warnings,
        capture: None,
    })
}

/// The header's columns as an error lists them: each an excerpt, at most [`LISTED_COLUMNS`] of them.
fn listed(columns: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = columns.iter().take(LISTED_COLUMNS).map(|c| excerpt(c)).collect();
    if columns.len() > LISTED_COLUMNS {
        out.push(format!("… ({} columns)", columns.len()));
    }
    out
}

/// The RR cell of one CSV row.
fn csv_cell(line: usize, row: &str, delimiter: char, column: usize) -> Result<Row, ContentError> {
    let Some(cell) = row
        .split(delimiter)
        .nth(column)
        .map(|c| c.trim().trim_matches('"'))
    else {
        return Err(ContentError::MissingField {
            line,
            fields: row.split(delimiter).count(),
            column: column + 1,
        });
    };
    // A row without an RR value (other samples only, or a beat the device lost) breaks the series.
    if cell.is_empty() {
        return Ok(Row::Empty { line });
    }
    let value = cell
        .replace(',', ".")
        .parse::<f64>()
        .map_err(|_| ContentError::CellNotANumber {
            line,
            text: excerpt(cell),
        })?;
    if !value.is_finite() {
        return Err(ContentError::CellNotFinite {
            line,
            text: excerpt(cell),
        });
    }
    Ok(Row::Value { line, value })
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
/// with their line number and skipped, as a live session would skip them. An interval outside
/// [`RR_RANGE_MS`] (a 0 ms or 64 s value from a confused strap) is reported with its line and left out,
/// and the series breaks there: the beats around it are not successive.
fn read_capture(text: &str) -> Result<Recording, ContentError> {
    let parsed = capture::parse(text).map_err(ContentError::Capture)?;
    let mut warnings: Vec<(usize, String)> = parsed
        .bad_lines
        .iter()
        .map(|bad| (bad.line, format!("line {}: skipped: {}", bad.line, bad.error)))
        .collect();
    let mut rr_ms = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    for record in &parsed.records {
        let measurement = match auren_hrm::decode_heart_rate_measurement(&record.payload) {
            Ok(measurement) => measurement,
            Err(err) => {
                let message = format!("line {}: malformed notification skipped: {err}", record.line);
                warnings.push((record.line, message));
                continue;
            }
        };
        for rr in measurement.rr_ms() {
            if RR_RANGE_MS.contains(&rr) {
                rr_ms.push(rr);
                continue;
            }
            warnings.push((
                record.line,
                format!(
                    "line {}: RR interval {rr:.0} ms is outside {}–{} ms (20–300 bpm): left out, a gap in the series",
                    record.line,
                    RR_RANGE_MS.start(),
                    RR_RANGE_MS.end()
                ),
            ));
            let at = rr_ms.len();
            match gaps.last_mut() {
                Some(gap) if gap.before == at => gap.last_line = record.line,
                _ if at > 0 => gaps.push(Gap {
                    before: at,
                    first_line: record.line,
                    last_line: record.line,
                }),
                _ => {}
            }
        }
    }
    // A gap after the last interval breaks nothing.
    gaps.retain(|g| g.before < rr_ms.len());
    warnings.sort_by_key(|(line, _)| *line);
    Ok(Recording {
        format: Format::Capture,
        rr_ms,
        gaps,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
        capture: Some(parsed),
    })
}
