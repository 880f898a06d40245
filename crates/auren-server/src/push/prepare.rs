//! Checks one pushed row before anything is written: a row that fails is answered as rejected (and
//! recorded) while the rest of the push goes on, so one bad row never wedges a device's queue.

use auren_protocol::error::codes::row;
use auren_protocol::{Change, Collection, RowRejection};

/// Earliest and latest wall times (Unix ms) the server stores: 2000-01-01 and 2100-01-01. Outside them a
/// time is a bug or an attack, and it would ask for partitions nobody needs.
pub const EARLIEST_MS: i64 = 946_684_800_000;
pub const LATEST_MS: i64 = 4_102_444_800_000;
/// Most beats in one chunk (the desktop sends about a minute: ~60–200).
pub const MAX_CHUNK_BEATS: usize = 20_000;
/// Most entries in one gaps / HR / signals / metrics batch.
pub const MAX_BATCH_ENTRIES: usize = 50_000;
/// Longest key or session key.
const MAX_KEY_CHARS: usize = 200;

/// Why a row was refused: a code of `codes::row` and a sentence.
pub type Refusal = (&'static str, String);

/// The rejection answer of row `outbox_id`.
pub fn rejection(outbox_id: i64, (code, message): Refusal) -> RowRejection {
    RowRejection {
        outbox_id,
        code: code.to_owned(),
        message,
    }
}

fn invalid(message: impl Into<String>) -> Refusal {
    (row::INVALID, message.into())
}

/// Checks what a change of its type needs.
pub fn check(change: &Change) -> Result<(), Refusal> {
    // PostgreSQL text and jsonb cannot hold U+0000; refuse it here rather than fail the transaction.
    let text =
        serde_json::to_string(change).map_err(|e| invalid(format!("cannot re-encode the row: {e}")))?;
    if text.contains("\\u0000") {
        return Err(invalid("a text value contains a NUL character"));
    }
    if let Some(session_key) = change.session_key() {
        key("session_key", session_key)?;
    }
    match change {
        Change::Session(s) => {
            wall_time("started_at", s.started_at)?;
            if let Some(end) = s.ended_at {
                wall_time("ended_at", end)?;
                if end < s.started_at {
                    return Err(invalid("ended_at is before started_at"));
                }
            }
            short_text("kind", &s.kind, 40)?;
            short_text("source", &s.source, 500)
        }
        Change::Beats(chunk) => {
            if chunk.rr_raw.is_empty() || chunk.rr_raw.len() > MAX_CHUNK_BEATS {
                return Err(invalid(format!("a chunk holds 1 to {MAX_CHUNK_BEATS} beats")));
            }
            chunk
                .decode()
                .map(|_| ())
                .map_err(|e| invalid(format!("the chunk does not decode: {e}")))
        }
        Change::Gaps(g) => batch_len(g.gaps.len()),
        Change::HrSamples(h) => batch_len(h.samples.len()),
        Change::Signals(c) => {
            batch_len(c.changes.len())?;
            signal_changes(&c.changes)
        }
        Change::Metrics(m) => batch_len(m.values.len()),
        Change::Alert(a) => {
            short_text("rule", &a.rule, 200)?;
            wall_time("window_start_ms", a.window_start_ms)?;
            wall_time("at", a.at)?;
            finite("at_ms", a.at_ms)
        }
        Change::Tag(t) => {
            key("key", &t.key)?;
            finite("at_ms", t.at_ms.value)
        }
        Change::Setting(s) => key("key", &s.key),
        Change::Note(_) | Change::Morning(_) => Ok(()),
        Change::Memory(m) => key("key", &m.key),
        Change::Tombstone(t) => {
            key("key", &t.key)?;
            if t.collection == Collection::Unknown {
                return Err((
                    row::UNSUPPORTED,
                    "a tombstone of an unknown collection".to_owned(),
                ));
            }
            Ok(())
        }
        Change::Unknown => Err((
            row::UNSUPPORTED,
            "this server does not know this type of change".to_owned(),
        )),
    }
}

/// A device's contact and link changes as its detector was told them: each of a signal this server knows
/// (an unknown one, from a newer device, is refused — stored as "unknown" it would be fed as nothing and pulled
/// as nothing), at a finite time, in time order (the server's feed takes them in order; one out of it would be
/// dropped there without a word).
fn signal_changes(changes: &[auren_protocol::change::SignalChange]) -> Result<(), Refusal> {
    let mut previous = f64::NEG_INFINITY;
    for (i, c) in changes.iter().enumerate() {
        if c.signal == auren_protocol::change::Signal::Unknown {
            return Err((
                row::UNSUPPORTED,
                format!("change {i} is of a signal this server does not know"),
            ));
        }
        if !c.t_ms.is_finite() {
            return Err(invalid(format!("change {i}'s t_ms is not a finite number")));
        }
        if c.t_ms < previous {
            return Err(invalid(format!(
                "changes must be in time order: change {i} at {} ms follows one at {previous} ms",
                c.t_ms
            )));
        }
        previous = c.t_ms;
    }
    Ok(())
}

fn key(field: &str, value: &str) -> Result<(), Refusal> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS {
        return Err(invalid(format!(
            "{field} must be 1 to {MAX_KEY_CHARS} characters"
        )));
    }
    Ok(())
}

fn short_text(field: &str, value: &str, max: usize) -> Result<(), Refusal> {
    if value.is_empty() || value.chars().count() > max {
        return Err(invalid(format!("{field} must be 1 to {max} characters")));
    }
    Ok(())
}

fn wall_time(field: &str, ms: i64) -> Result<(), Refusal> {
    if !(EARLIEST_MS..LATEST_MS).contains(&ms) {
        return Err(invalid(format!(
            "{field} = {ms} is not a Unix-ms time between 2000 and 2100"
        )));
    }
    Ok(())
}

fn finite(field: &str, value: f64) -> Result<(), Refusal> {
    if !value.is_finite() {
        return Err(invalid(format!("{field} is not a finite number")));
    }
    Ok(())
}

fn batch_len(len: usize) -> Result<(), Refusal> {
    if len == 0 || len > MAX_BATCH_ENTRIES {
        return Err(invalid(format!("a batch holds 1 to {MAX_BATCH_ENTRIES} entries")));
    }
    Ok(())
}

/// The `records.collection` of an editable change and its key there.
pub fn record_address(change: &Change) -> Option<(&'static str, String)> {
    match change {
        Change::Tag(t) => Some(("tag", t.key.clone())),
        Change::Note(n) => Some(("note", n.session_key.clone())),
        Change::Morning(m) => Some(("morning", m.day.to_string())),
        Change::Memory(m) => Some(("memory", m.key.clone())),
        Change::Setting(s) => Some(("setting", s.key.clone())),
        Change::Tombstone(t) => collection_name(t.collection).map(|c| (c, t.key.clone())),
        _ => None,
    }
}

/// The `records.collection` value of a tombstone's collection.
pub fn collection_name(collection: Collection) -> Option<&'static str> {
    match collection {
        Collection::Tag => Some("tag"),
        Collection::Memory => Some("memory"),
        Collection::Setting => Some("setting"),
        Collection::Morning => Some("morning"),
        Collection::Unknown => None,
    }
}

/// The collection of a `records.collection` value.
pub fn collection_of(name: &str) -> Collection {
    match name {
        "tag" => Collection::Tag,
        "memory" => Collection::Memory,
        "setting" => Collection::Setting,
        "morning" => Collection::Morning,
        _ => Collection::Unknown,
    }
}
