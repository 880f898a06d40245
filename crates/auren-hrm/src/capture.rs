//! The `.hrmcap` raw capture format: the notifications a strap sent, timestamped, as UTF-8 text that survives
//! being pasted into a bug report and can be replayed bit for bit.
//!
//! ```text
//! # auren-capture v1 device=Polar%20H10%20A1B2C3D4 address=A0:9E:1A:12:34:56
//! # lines starting with '#' are comments; blank lines are ignored
//! 0 16460403c503
//! 1007 1045
//! 1996 -
//! ```
//!
//! - Line 1 is `# auren-capture v1`, optionally followed by space-separated `key=value` fields, in order.
//!   In keys and values, space, `=`, `%` and control characters (newline, tab, …) are percent-encoded as
//!   `%XX` per UTF-8 byte (uppercase on write, either case on read), so any string round-trips.
//! - Every other line is `<milliseconds since capture start> <payload as hex>`: hex lowercase on write,
//!   either case on read, `-` for an empty payload. Fields are separated by spaces or tabs; `\r\n` line
//!   endings and a leading byte-order mark are accepted.
//! - Timestamps never decrease (equal is fine: several notifications may arrive within a millisecond).
//!
//! Only a bad first line stops [`parse`]: a damaged record line is reported in [`Capture::bad_lines`] with
//! its line number and the rest of the capture is still read. Errors quote at most [`EXCERPT_CHARS`]
//! characters of the text at fault. Whether a payload decodes as a Heart Rate
//! Measurement is the caller's business.

use std::fmt::Write as _;

/// The first line's fixed start.
pub const MAGIC: &str = "# auren-capture";
/// The only version this build reads and writes.
pub const VERSION: &str = "v1";
/// Header key of the strap's advertised name.
pub const KEY_DEVICE: &str = "device";
/// Header key of the strap's Bluetooth address (or the platform's identifier for it).
pub const KEY_ADDRESS: &str = "address";

/// Most characters of a line an error quotes.
pub const EXCERPT_CHARS: usize = 60;

/// Written instead of hex for a notification with no bytes, so that no line ends in bare whitespace.
const EMPTY_PAYLOAD: &str = "-";

/// A parsed capture: its header, the records that parsed, and the lines that did not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub header: CaptureHeader,
    /// Records in file order (hence in non-decreasing time).
    pub records: Vec<CaptureRecord>,
    pub bad_lines: Vec<LineError>,
}

/// One notification as captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureRecord {
    /// 1-based line number in the capture text (the header is line 1).
    pub line: usize,
    pub at_ms: u64,
    pub payload: Vec<u8>,
}

/// A record line that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub error: RecordError,
}

/// What is wrong with one record line. Columns are 1-based character positions in the line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("timestamp {text:?} is not a whole number of milliseconds (0..=18446744073709551615)")]
    BadTimestamp { text: String },

    #[error("the line has a timestamp but no payload (an empty notification is written `-`)")]
    MissingPayload,

    #[error("unexpected text after the payload at column {column}")]
    UnexpectedField { column: usize },

    #[error("invalid hex digit {found:?} at column {column}")]
    InvalidHexDigit { column: usize, found: char },

    #[error("payload has {digits} hex digits, an odd count: each byte is 2 digits")]
    OddHexLength { digits: usize },

    #[error("time goes backwards: {at_ms} ms comes after a record at {previous_ms} ms")]
    TimeWentBackwards { at_ms: u64, previous_ms: u64 },
}

/// Why a capture could not be read at all: only the first line can cause this.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("not an auren capture: the first line must start with `{MAGIC} {VERSION}`, found {found:?}")]
    MissingHeader { found: String },

    #[error("capture format version {version:?} is not supported (this build reads {VERSION})")]
    UnsupportedVersion { version: String },

    #[error("header field {field:?} is not `key=value`")]
    HeaderFieldWithoutEquals { field: String },

    #[error("header field {field:?} has a `%` not followed by two hex digits, or escapes that are not UTF-8")]
    BadHeaderEscape { field: String },

    #[error("header key {key:?} appears more than once")]
    DuplicateHeaderKey { key: String },
}

/// The capture's `key=value` fields, in the order they were set or read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureHeader {
    fields: Vec<(String, String)>,
}

impl CaptureHeader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of [`CaptureHeader::set`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    pub fn with_device_name(self, name: impl Into<String>) -> Self {
        self.with(KEY_DEVICE, name)
    }

    pub fn with_address(self, address: impl Into<String>) -> Self {
        self.with(KEY_ADDRESS, address)
    }

    /// Sets `key` to `value`: in place if the key exists (keeping its position), appended otherwise.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => *existing = value,
            None => self.fields.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn device_name(&self) -> Option<&str> {
        self.get(KEY_DEVICE)
    }

    pub fn address(&self) -> Option<&str> {
        self.get(KEY_ADDRESS)
    }

    /// All fields in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// The header line, ending in `'\n'`.
pub fn format_header(h: &CaptureHeader) -> String {
    let mut line = format!("{MAGIC} {VERSION}");
    for (key, value) in h.fields() {
        line.push(' ');
        escape_into(&mut line, key);
        line.push('=');
        escape_into(&mut line, value);
    }
    line.push('\n');
    line
}

/// One record line, ending in `'\n'`.
pub fn format_record(at_ms: u64, payload: &[u8]) -> String {
    let mut line = String::with_capacity(21 + 1 + 2 * payload.len().max(1) + 1);
    // Writing to a String cannot fail.
    let _ = write!(line, "{at_ms} ");
    if payload.is_empty() {
        line.push_str(EMPTY_PAYLOAD);
    }
    for byte in payload {
        let _ = write!(line, "{byte:02x}");
    }
    line.push('\n');
    line
}

/// Parses a whole capture. Fails only on a missing or unreadable first line; see the module docs.
pub fn parse(text: &str) -> Result<Capture, CaptureError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
    let header = parse_header(lines.next().unwrap_or_default())?;

    let mut records = Vec::new();
    let mut bad_lines = Vec::new();
    let mut previous_ms = None;
    for (index, line) in lines.enumerate() {
        // The header was line 1.
        let number = index + 2;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_record(line, previous_ms) {
            Ok((at_ms, payload)) => {
                previous_ms = Some(at_ms);
                records.push(CaptureRecord {
                    line: number,
                    at_ms,
                    payload,
                });
            }
            Err(error) => bad_lines.push(LineError { line: number, error }),
        }
    }
    Ok(Capture {
        header,
        records,
        bad_lines,
    })
}

fn parse_header(line: &str) -> Result<CaptureHeader, CaptureError> {
    let missing = || CaptureError::MissingHeader { found: shorten(line) };
    let rest = line.strip_prefix(MAGIC).ok_or_else(missing)?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err(missing());
    }
    let mut tokens = rest.split_ascii_whitespace();
    let version = tokens.next().ok_or_else(missing)?;
    if version != VERSION {
        let looks_like_version = version
            .strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        return Err(if looks_like_version {
            CaptureError::UnsupportedVersion {
                version: shorten(version),
            }
        } else {
            missing()
        });
    }

    let mut header = CaptureHeader::new();
    for field in tokens {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| CaptureError::HeaderFieldWithoutEquals {
                field: shorten(field),
            })?;
        let bad_escape = || CaptureError::BadHeaderEscape {
            field: shorten(field),
        };
        let key = unescape(key).ok_or_else(bad_escape)?;
        let value = unescape(value).ok_or_else(bad_escape)?;
        if header.get(&key).is_some() {
            return Err(CaptureError::DuplicateHeaderKey { key: shorten(&key) });
        }
        header.fields.push((key, value));
    }
    Ok(header)
}

fn parse_record(line: &str, previous_ms: Option<u64>) -> Result<(u64, Vec<u8>), RecordError> {
    let mut fields = fields_with_columns(line);
    // The caller skips blank lines, so there is always a first field.
    let (_, stamp) = fields.next().unwrap_or((1, ""));
    if stamp.is_empty() || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RecordError::BadTimestamp { text: shorten(stamp) });
    }
    let at_ms: u64 = stamp
        .parse()
        .map_err(|_| RecordError::BadTimestamp { text: shorten(stamp) })?;

    let (hex_column, hex) = fields.next().ok_or(RecordError::MissingPayload)?;
    if let Some((column, _)) = fields.next() {
        return Err(RecordError::UnexpectedField { column });
    }
    let payload = if hex == EMPTY_PAYLOAD {
        Vec::new()
    } else {
        decode_hex(hex, hex_column)?
    };

    if let Some(previous_ms) = previous_ms
        && at_ms < previous_ms
    {
        return Err(RecordError::TimeWentBackwards { at_ms, previous_ms });
    }
    Ok((at_ms, payload))
}

/// Space/tab separated fields of `line`, each with its 1-based character column.
fn fields_with_columns(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut column = 0;
    let mut start: Option<(usize, usize)> = None;
    let mut chars = line.char_indices();
    std::iter::from_fn(move || {
        loop {
            let Some((byte, c)) = chars.next() else {
                return start.take().map(|(col, from)| (col, &line[from..]));
            };
            column += 1;
            let separator = c == ' ' || c == '\t';
            match (start, separator) {
                (None, false) => start = Some((column, byte)),
                (Some((col, from)), true) => {
                    start = None;
                    return Some((col, &line[from..byte]));
                }
                _ => {}
            }
        }
    })
}

fn decode_hex(hex: &str, first_column: usize) -> Result<Vec<u8>, RecordError> {
    let mut digits = 0;
    for (offset, c) in hex.chars().enumerate() {
        if !c.is_ascii_hexdigit() {
            return Err(RecordError::InvalidHexDigit {
                column: first_column + offset,
                found: c,
            });
        }
        digits += 1;
    }
    if digits % 2 != 0 {
        return Err(RecordError::OddHexLength { digits });
    }
    // All ASCII now, so bytes and chars coincide.
    Ok(hex
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1]))
        .collect())
}

fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        // Only called on validated hex digits.
        _ => 0,
    }
}

fn needs_escape(c: char) -> bool {
    c == ' ' || c == '=' || c == '%' || c.is_control()
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if needs_escape(c) {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        } else {
            out.push(c);
        }
    }
}

fn unescape(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).filter(|d| d.is_ascii_hexdigit())?;
            let lo = bytes.get(i + 2).filter(|d| d.is_ascii_hexdigit())?;
            out.push((nibble(*hi) << 4) | nibble(*lo));
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The first [`EXCERPT_CHARS`] characters of `line` (cut with "…"): a message never echoes a whole line,
/// which in a file that is not a capture may be megabytes long.
fn shorten(line: &str) -> String {
    const MAX: usize = EXCERPT_CHARS;
    match line.char_indices().nth(MAX) {
        Some((byte, _)) => format!("{}…", &line[..byte]),
        None => line.to_owned(),
    }
}
