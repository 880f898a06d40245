//! Reading recordings: RR files (ms), CSV exports with an RR/IBI column, Kubios-style RR text (seconds) and
//! `.hrmcap` strap captures (through the real 0x2A37 decoder).
//!
//! Every reader turns a file into one RR series in milliseconds plus the warnings a person should see
//! (a capture's malformed notifications, with their line numbers). Anything that would make the analysis
//! meaningless — a non-numeric value, an interval no heart produces, an empty file — is an error that names
//! the line, so a wrong file never yields a plausible-looking panel.

use anyhow::{Context, bail};
use std::path::Path;

/// Shortest and longest RR interval a text recording may contain (ms): 300 bpm and 20 bpm.
/// Anything outside is a unit mix-up or a corrupt file, not a heartbeat.
const RR_RANGE_MS: std::ops::RangeInclusive<f64> = 200.0..=3000.0;

/// The recording formats `auren analyze` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RR intervals in ms, one per line.
    RrMs,
    /// RR intervals in seconds, one per line (Kubios's RR text export).
    KubiosSeconds,
    /// A delimited file with a header naming an RR or IBI column (Polar, Elite HRV, HRV Logger exports).
    Csv,
    /// An `.hrmcap` capture of raw strap notifications.
    Capture,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::RrMs => "rr_ms",
            Format::KubiosSeconds => "rr_seconds",
            Format::Csv => "csv",
            Format::Capture => "hrmcap",
        }
    }
}

/// One recording, read.
#[derive(Debug)]
pub struct Recording {
    pub format: Format,
    /// The RR series in ms, in recording order, exactly as the source gave it (no correction).
    pub rr_ms: Vec<f64>,
    /// Problems that did not stop the reading (skipped notifications), one line each.
    pub warnings: Vec<String>,
}

/// Reads and parses `path`, detecting its format from the content (and the extension where the content
/// alone is ambiguous).
pub fn read(path: &Path) -> anyhow::Result<Recording> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a text file (invalid UTF-8 at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    parse(&text, path).with_context(|| path.display().to_string())
}

/// Parses a recording's text; `path` only informs format detection.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<Recording> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let Some(first) = first else {
        bail!("the file is empty")
    };
    let recording = if first.starts_with("# auren-capture") {
        read_capture(text)?
    } else if first.parse::<f64>().is_ok() || first.starts_with('#') {
        read_single_column(text, path)?
    } else if looks_delimited(first) {
        read_csv(text)?
    } else {
        bail!(
            "unknown format: expected RR values one per line, a CSV export with an RR/IBI column, \
             or an .hrmcap capture; the first line is {:?}",
            shorten(first)
        )
    };
    if recording.rr_ms.is_empty() {
        bail!("the file holds no RR intervals");
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
fn read_single_column(text: &str, path: &Path) -> anyhow::Result<Recording> {
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value: f64 = line
            .parse()
            .map_err(|_| anyhow::anyhow!("line {}: {:?} is not a number", i + 1, shorten(line)))?;
        if !value.is_finite() {
            bail!("line {}: {:?} is not a finite number", i + 1, line);
        }
        values.push((i + 1, value));
    }
    let is_rr_file = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("rr"));
    // A heartbeat lasts 0.2–3 s; a median under 10 can only be seconds, above it only milliseconds.
    let seconds = !is_rr_file && median(values.iter().map(|(_, v)| *v)).is_some_and(|m| m < 10.0);
    let (format, scale) = if seconds {
        (Format::KubiosSeconds, 1000.0)
    } else {
        (Format::RrMs, 1.0)
    };
    let rr_ms = values
        .into_iter()
        .map(|(line, v)| checked_rr(v * scale, line, if seconds { "s" } else { "ms" }, v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Recording {
        format,
        rr_ms,
        warnings: Vec::new(),
    })
}

fn checked_rr(ms: f64, line: usize, unit: &str, as_written: f64) -> anyhow::Result<f64> {
    if RR_RANGE_MS.contains(&ms) {
        Ok(ms)
    } else {
        bail!(
            "line {line}: RR interval {as_written} {unit} is outside {}–{} ms (20–300 bpm)",
            RR_RANGE_MS.start(),
            RR_RANGE_MS.end()
        )
    }
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

fn read_csv(text: &str) -> anyhow::Result<Recording> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((header_index, header)) = lines.next() else {
        bail!("the file is empty")
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
        .ok_or_else(|| {
            anyhow::anyhow!(
                "line {}: no RR or IBI column in the header (columns: {})",
                header_index + 1,
                columns.join(", ")
            )
        })?;
    let mut values = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(delimiter).collect();
        let Some(cell) = cells.get(column).map(|c| c.trim().trim_matches('"')) else {
            bail!(
                "line {}: has {} fields, the RR column is field {}",
                i + 1,
                cells.len(),
                column + 1
            );
        };
        // Exports leave the RR cell empty on rows that carry other samples (e.g. HR only).
        if cell.is_empty() {
            continue;
        }
        let value: f64 = cell.replace(',', ".").parse().map_err(|_| {
            anyhow::anyhow!(
                "line {}: {:?} in the RR column is not a number",
                i + 1,
                shorten(cell)
            )
        })?;
        if !value.is_finite() {
            bail!(
                "line {}: {:?} in the RR column is not a finite number",
                i + 1,
                cell
            );
        }
        values.push((i + 1, value));
    }
    let seconds = match unit_hint {
        Some(Unit::Seconds) => true,
        Some(Unit::Millis) => false,
        None => median(values.iter().map(|(_, v)| *v)).is_some_and(|m| m < 10.0),
    };
    let scale = if seconds { 1000.0 } else { 1.0 };
    let rr_ms = values
        .into_iter()
        .map(|(line, v)| checked_rr(v * scale, line, if seconds { "s" } else { "ms" }, v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Recording {
        format: Format::Csv,
        rr_ms,
        warnings: Vec::new(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millis,
    Seconds,
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
fn read_capture(text: &str) -> anyhow::Result<Recording> {
    let capture = auren_hrm::capture::parse(text)?;
    let mut warnings: Vec<(usize, String)> = capture
        .bad_lines
        .iter()
        .map(|bad| (bad.line, format!("line {}: skipped: {}", bad.line, bad.error)))
        .collect();
    let mut rr_ms = Vec::new();
    for record in &capture.records {
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
    })
}
