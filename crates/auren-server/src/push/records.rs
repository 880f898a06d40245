//! Editable records: the stored record and an incoming edit merge field by field (last writer wins by
//! hybrid logical clock, auren-protocol's `Lww`), and deletes keep the latest tombstone stamp. Pushes of one
//! user are serialised by the user's version lock, so read–merge–write here cannot race.

use auren_protocol::lww::merge_fields;
use auren_protocol::{Change, Hlc};

/// The stored record after an edit arrives; `None` when the edit changes nothing (an older value, or a
/// repeat).
pub fn merge_body(stored: Option<&Change>, incoming: &Change) -> Option<Change> {
    let Some(stored) = stored else {
        return Some(incoming.clone());
    };
    let merged = match (stored, incoming) {
        (Change::Tag(a), Change::Tag(b)) => {
            let mut m = a.clone();
            m.at_ms = a.at_ms.merge(&b.at_ms);
            m.name = a.name.merge(&b.name);
            Change::Tag(m)
        }
        (Change::Note(a), Change::Note(b)) => {
            let mut m = a.clone();
            m.text = a.text.merge(&b.text);
            Change::Note(m)
        }
        (Change::Morning(a), Change::Morning(b)) => {
            let mut m = a.clone();
            m.reading = a.reading.merge(&b.reading);
            Change::Morning(m)
        }
        (Change::Memory(a), Change::Memory(b)) => {
            let mut m = a.clone();
            m.fields = merge_fields(&a.fields, &b.fields);
            Change::Memory(m)
        }
        (Change::Setting(a), Change::Setting(b)) => {
            let mut m = a.clone();
            m.value = a.value.merge(&b.value);
            Change::Setting(m)
        }
        // A stored body of another type cannot happen (the collection fixes the type); keep the new one.
        _ => incoming.clone(),
    };
    (merged != *stored).then_some(merged)
}

/// The later of two tombstone stamps; `None` when the stored one already wins.
pub fn merge_tombstone(stored: Option<&Hlc>, incoming: &Hlc) -> Option<Hlc> {
    match stored {
        Some(stored) if stored >= incoming => None,
        _ => Some(incoming.clone()),
    }
}
