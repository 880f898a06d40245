//! Last-writer-wins fields: an editable record (a tag, a note, a memory, a setting) is a set of such fields,
//! each merged on its own by its [`Hlc`]. The merge is a join: commutative, associative and idempotent, so
//! devices and the server converge whatever order edits arrive in, and a repeated push changes nothing.

use crate::hlc::Hlc;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A total order on values, used only when two edits carry the same stamp (which a correct device never
/// issues twice with different values); it keeps the merge commutative even then.
pub trait TieBreak {
    fn tie_cmp(&self, other: &Self) -> Ordering;
}

impl TieBreak for String {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

impl TieBreak for bool {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

impl TieBreak for i64 {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

impl TieBreak for f64 {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        self.total_cmp(other)
    }
}

impl<T: TieBreak> TieBreak for Option<T> {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a.tie_cmp(b),
        }
    }
}

impl TieBreak for serde_json::Value {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        // serde_json writes maps in key order (no `preserve_order`), so equal values print equally.
        self.to_string().cmp(&other.to_string())
    }
}

/// One field's value and the stamp of the edit that wrote it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lww<T> {
    pub value: T,
    pub hlc: Hlc,
}

impl<T: TieBreak + Clone> Lww<T> {
    pub fn new(value: T, hlc: Hlc) -> Self {
        Self { value, hlc }
    }

    /// Whether `other` wins over `self`: a later stamp, or the same stamp with the greater value.
    pub fn loses_to(&self, other: &Self) -> bool {
        match self.hlc.cmp(&other.hlc) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => self.value.tie_cmp(&other.value) == Ordering::Less,
        }
    }

    /// The winner of the two.
    #[must_use]
    pub fn merge(&self, other: &Self) -> Self {
        if self.loses_to(other) {
            other.clone()
        } else {
            self.clone()
        }
    }
}

/// Merges an optional field: a field only one side has is kept.
pub fn merge_opt<T: TieBreak + Clone>(a: Option<&Lww<T>>, b: Option<&Lww<T>>) -> Option<Lww<T>> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x.clone()),
        (Some(x), Some(y)) => Some(x.merge(y)),
    }
}

/// Merges two records held as field name → value (memories): each field on its own.
pub fn merge_fields<T: TieBreak + Clone>(
    a: &BTreeMap<String, Lww<T>>,
    b: &BTreeMap<String, Lww<T>>,
) -> BTreeMap<String, Lww<T>> {
    let mut merged = a.clone();
    for (name, theirs) in b {
        let winner = match merged.get(name) {
            Some(ours) => ours.merge(theirs),
            None => theirs.clone(),
        };
        merged.insert(name.clone(), winner);
    }
    merged
}
