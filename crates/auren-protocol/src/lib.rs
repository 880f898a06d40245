//! The versioned wire types of the sync protocol (push, pull, auth, devices, coach access): the only serde
//! boundary between the desktop and the server.
//!
//! Layout:
//! - [`hlc`] — the hybrid logical clock that orders edits of the editable records, the device as tie-break.
//! - [`lww`] — per-field last-writer-wins values and their merge (commutative, associative, idempotent).
//! - [`change`] — one typed change of a device's outbox: sessions, beat chunks (raw 1/1024 s RR), gaps,
//!   heart-rate samples, contact and link changes, alerts, tags, notes, morning readings, memories, settings,
//!   tombstones.
//! - [`person_rules`] — the person's alert rules as a synced setting (its key and value).
//! - [`sync`] — push and pull requests and responses, and which change types a server accepts.
//! - [`trend`] — the daily trend of a morning metric that the server computes from the synced readings.
//! - [`auth`] — accounts, tokens, the device-code flow, devices and coach grants.
//! - [`error`] — the `{code, message}` body of every failed request and the codes it uses.
//! - [`paths`] — the HTTP paths, so the client and the server cannot disagree on a spelling.
//!
//! Versioning: [`PROTOCOL_VERSION`] is sent in every push and pull (and in the [`VERSION_HEADER`] of every
//! request). A server refuses a version it does not speak with the code [`error::codes::UNSUPPORTED_VERSION`];
//! fields added within a version are optional (`#[serde(default)]`), so an older peer ignores them. Change
//! types added within a version are sent only to a server that lists them in its push answer
//! ([`PushResponse::accepts`]; no list is read as the base types, [`Change::is_base_type`]), so a new device never has an older
//! server refuse them.

pub mod auth;
pub mod change;
pub mod error;
pub mod hlc;
pub mod lww;
pub mod person_rules;
pub mod sync;
pub mod trend;

pub use change::{
    AlertChange, ArtifactMark, BeatsChunk, Change, Collection, GapsChange, HrSamplesChange, MemoryChange,
    MetricsChange, MorningChange, NoteChange, RrOverride, SessionChange, SettingChange, SignalsChange,
    TagChange, TimeBreak, TombstoneChange,
};
pub use error::ErrorBody;
pub use hlc::{DeviceId, Hlc};
pub use lww::{Lww, TieBreak};
pub use sync::{
    AcceptedTypes, AthletesNews, MAX_WATCHED, Origin, PullRequest, PullResponse, PulledChange, PushRequest,
    PushResponse, PushRow, RowRejection, WatchedAthlete,
};

use serde::{Deserialize, Serialize};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The header carrying [`PROTOCOL_VERSION`] on every request.
pub const VERSION_HEADER: &str = "auren-protocol";

/// An account's id as the server assigned it (a UUID in its text form).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

/// The HTTP paths of the API (all under `/v1`).
pub mod paths {
    /// POST [`crate::auth::CreateAccount`] → 201 [`crate::auth::SignedIn`].
    pub const ACCOUNTS: &str = "/v1/accounts";
    /// POST [`crate::auth::Login`] → [`crate::auth::SignedIn`].
    pub const LOGIN: &str = "/v1/auth/login";
    /// POST [`crate::auth::Refresh`] → [`crate::auth::TokenPair`] (the refresh token is rotated).
    pub const REFRESH: &str = "/v1/auth/refresh";
    /// POST [`crate::auth::Logout`] → 204 (revokes the device's token family).
    pub const LOGOUT: &str = "/v1/auth/logout";
    /// POST [`crate::auth::DeviceCodeStart`] (no token) → [`crate::auth::DeviceCode`].
    pub const DEVICE_CODE: &str = "/v1/auth/device-code";
    /// POST [`crate::auth::DeviceCodeApprove`] (a signed-in device's token) → 204.
    pub const DEVICE_CODE_APPROVE: &str = "/v1/auth/device-code/approve";
    /// POST [`crate::auth::DeviceCodePoll`] (no token) → [`crate::auth::DeviceCodeStatus`].
    pub const DEVICE_CODE_POLL: &str = "/v1/auth/device-code/poll";
    /// GET → [`crate::auth::Devices`].
    pub const DEVICES: &str = "/v1/devices";
    /// One device of the account (DELETE removes it: its tokens stop working at once, its data stays).
    pub const DEVICE: &str = "/v1/devices/{device_id}";
    /// GET → [`crate::auth::CoachGrants`] (who may read my data); POST [`crate::auth::CoachGrantRequest`]
    /// grants, DELETE with the same body revokes (both → 204).
    pub const COACH_GRANTS: &str = "/v1/coach/grants";
    /// GET → [`crate::auth::Athletes`] (whose data I may read as a coach).
    pub const ATHLETES: &str = "/v1/coach/athletes";
    /// POST [`crate::PushRequest`] → [`crate::PushResponse`].
    pub const PUSH: &str = "/v1/sync/push";
    /// POST [`crate::PullRequest`] → [`crate::PullResponse`] (long-polls up to `wait_ms` when nothing is new).
    pub const PULL: &str = "/v1/sync/pull";
    /// GET with the query [`crate::trend::TrendQuery`] → [`crate::trend::Trend`].
    pub const TREND: &str = "/v1/trend";
}
