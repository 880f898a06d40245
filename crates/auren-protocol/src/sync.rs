//! Push and pull.
//!
//! Push: a device sends its outbox rows in outbox order; the server applies them in one transaction that
//! also advances the device's last applied outbox id, so a retried or duplicated push changes nothing (rows
//! at or below it are skipped). A row the server cannot accept is answered in `rejected` and recorded; it
//! still counts as applied, so it never blocks the rows after it, and the device keeps its local data.
//!
//! Change types added within a version: a push answer lists the types the server accepts (`accepts`); an
//! answer without the list is treated as accepting the base types alone ([`Change::is_base_type`]): it comes
//! from a server older than the list (or one built while `signals` was added but not yet listed, which
//! would take more; its rows then only wait). A device
//! holds back the rows of a type its server does not accept — neither sent nor parked, and not in the way of
//! the rows after them — and sends them once the server lists the type. Such a row then arrives with an
//! outbox id at or below `last_applied`; the server applies a row of a type outside the base set once even
//! there (it records, per device, the ids of those it has taken), and skips it as usual when it comes again.
//! Such a late row still reaches the database and other devices, but not the server's live feed, which
//! drops a change that comes after the beats it belongs with: a session recorded while the server was older
//! gets no server-side `contact_lost` alert (the desktop's own alerts are unaffected).
//!
//! Pull: every change newer than `cursor` (the per-user version the last pull returned), in version order.
//! A coach pulls an athlete's data with `athlete` set, under a separate cursor per athlete.

use crate::UserId;
use crate::change::Change;
use crate::hlc::DeviceId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A batch of outbox rows, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol_version: u32,
    /// Must be the device the access token was issued to.
    pub device_id: DeviceId,
    pub rows: Vec<PushRow>,
}

/// One outbox row: its local id (increasing, never reused) and the change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRow {
    pub outbox_id: i64,
    pub change: Change,
}

/// What the server applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The device's last applied outbox id after this push (never lower than before): every row up to it
    /// is done, accepted or rejected, and the device may forget it.
    pub last_applied: i64,
    /// Rows of this push the server refused, with why; the device parks them for a person to see.
    #[serde(default)]
    pub rejected: Vec<RowRejection>,
    /// The change types (`type` tags) this server accepts. Absent from a server older than the list: it
    /// is treated as accepting the base types alone ([`Change::is_base_type`], see [`AcceptedTypes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts: Option<Vec<String>>,
}

/// What a server accepts, as a device reads it from a push answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedTypes(BTreeSet<String>);

impl AcceptedTypes {
    /// The types of an answer's `accepts`; without one, the base types ([`Change::is_base_type`]).
    pub fn from_answer(accepts: Option<&[String]>) -> Self {
        match accepts {
            Some(listed) => Self(listed.iter().cloned().collect()),
            None => Self::base(),
        }
    }

    /// What every server of this protocol version accepts.
    pub fn base() -> Self {
        Self(Change::base_types().map(str::to_owned).collect())
    }

    /// Whether a change of `type_name` ([`Change::type_name`]) may be sent.
    pub fn accepts(&self, type_name: &str) -> bool {
        self.0.contains(type_name)
    }
}

/// One refused row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRejection {
    pub outbox_id: i64,
    /// One of [`crate::error::codes::row`].
    pub code: String,
    pub message: String,
}

/// Everything newer than `cursor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub protocol_version: u32,
    /// The `cursor` of the last pull's answer (0 the first time).
    pub cursor: i64,
    /// A coach reading an athlete who granted access; `None` for the account's own data.
    #[serde(default)]
    pub athlete: Option<UserId>,
    /// At most this many changes (the server caps it).
    #[serde(default)]
    pub limit: Option<u32>,
    /// When nothing is newer, wait up to this long for something to be (long-poll); `None` answers at once.
    #[serde(default)]
    pub wait_ms: Option<u32>,
    /// On a long poll of the account's own data: the athletes this device follows, each with the cursor of
    /// its last pull of them (`Some(vec![])` when it follows none yet). The poll then also ends when one of
    /// them has data past that cursor, or when the account's live grants differ from this list (an athlete
    /// granted or revoked access), and the answer says which in [`PullResponse::athletes`]. One poll
    /// watches every athlete, so a coach's device holds one connection, not one per athlete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<Vec<WatchedAthlete>>,
}

/// The most athletes one [`PullRequest::watch`] may name.
pub const MAX_WATCHED: usize = 1_000;

/// An athlete a coach's device follows and how far it has read them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedAthlete {
    pub athlete: UserId,
    /// The `cursor` of the device's last pull of this athlete (0 before the first).
    pub cursor: i64,
}

/// What a watching long poll found beside the account's own data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AthletesNews {
    /// Watched athletes with data past the cursor the request named.
    pub ahead: Vec<UserId>,
    /// The account's live grants are not the request's list.
    pub grants_changed: bool,
}

impl AthletesNews {
    /// Whether the coach's device has anything to pull.
    pub fn any(&self) -> bool {
        self.grants_changed || !self.ahead.is_empty()
    }
}

/// Changes in version order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<PulledChange>,
    /// The version to send as the next `cursor`: never lower than the request's.
    pub cursor: i64,
    /// More changes wait beyond `cursor`: pull again at once.
    pub more: bool,
    /// The answer to [`PullRequest::watch`] when the account's own data had nothing new; absent otherwise,
    /// and always from a server older than the field (whose devices learn of athletes by their timer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athletes: Option<AthletesNews>,
}

/// A change with the user version that made it visible and who made it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PulledChange {
    pub version: i64,
    pub origin: Origin,
    pub change: Change,
}

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A device of the account (the pulling device itself included).
    Device { device_id: DeviceId },
    /// The server (the alerts its consumer found).
    Server,
}
