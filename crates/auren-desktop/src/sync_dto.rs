//! The Sync pane's and the status chip's IPC types: where sync stands (the chip's label and hover text
//! computed here), the signed-in account, the device-code flow, devices, coach access and a round's report.
//! Converted from `auren-sync`, `auren-protocol` and `auren-store` types here, so none of them knows specta.
//! Times are formatted here (`YYYY-MM-DD HH:MM UTC`) so the window shows what Rust computed. No token ever
//! appears in these types: they stay in the keychain (or the 0600 file).

use serde::{Deserialize, Serialize};
use specta::Type;

/// Where sync stands — the chip's colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SyncStateDto {
    /// Not signed in to a sync server.
    SignedOut,
    /// A round is running.
    Syncing,
    /// Everything was sent and fetched.
    Synced,
    /// Rows wait to be sent.
    Pending,
    /// The server cannot be reached; the loop retries.
    Offline,
    /// The server or the database refused; the loop retries.
    Error,
}

/// The status chip and the top of the Sync pane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SyncStatusDto {
    pub state: SyncStateDto,
    /// The chip's text: "Synced", "Pending 3", "Offline", "Sync error", "Syncing…", "Not syncing".
    pub label: String,
    /// The chip's hover text: the reason, when the next try is, when the last round finished.
    pub detail: String,
    /// Why the last round failed (offline or error).
    pub reason: Option<String>,
    /// Seconds until the loop tries again (offline or error).
    pub retry_in_s: Option<u32>,
    /// When the last round finished successfully (this run of the app).
    pub last_synced: Option<String>,
    /// Outbox rows not yet acknowledged by the server.
    pub pending_rows: i64,
    /// Of the pending rows, those of a change type the server does not accept yet (an older server): kept
    /// until it is upgraded, as the last round found. The chip says so, so "pending" does not look stuck.
    pub held_rows: u32,
    /// Rows the server refused (or that could not be sent): kept locally, sent again on the person's retry
    /// (or by themselves, for a change type the server did not take yet).
    pub parked: Vec<ParkedRowDto>,
    /// The signed-in account; also kept after the server refused the tokens, to fill in the sign-in form.
    pub account: Option<SyncAccountDto>,
    /// A name for this device in the account's device list (the host name).
    pub suggested_device_name: String,
    /// Raised when a round brought the person's settings from another device: the window reloads them.
    pub settings_revision: u32,
    /// Values of the person's settings from another device that were not used here (they fail the edit's
    /// rules); each stays until an edit on any device replaces it. The Settings pane shows them by their field.
    pub refused_settings: Vec<RefusedSettingDto>,
}

/// One of the person's settings (those that sync between their devices); named as in `SettingsDto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum PersonSettingDto {
    MaxHr,
    ZonesPct,
    RrUnit,
    Theme,
    /// How the coach's memory operations apply (`get_memory_apply`/`set_memory_apply`).
    MemoryApply,
}

/// A value another device set that this device did not use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RefusedSettingDto {
    pub setting: PersonSettingDto,
    /// The value as a person reads it: "300 bpm", "50, 60, 70, 80 %", "neon".
    pub value: String,
    /// Why it was not used, the edit's own words without the setting's name: "300 bpm is outside 100–240 bpm".
    pub problem: String,
    /// Which edit set it (its stamp): a dismissal in the window is for this edit, not for the setting.
    pub edit_id: String,
}

/// The account this database is signed in to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SyncAccountDto {
    pub server: String,
    pub email: String,
    pub device_id: String,
    pub signed_in: String,
    /// Where the tokens are kept, as a sentence ("the system keychain", or the file's path).
    pub tokens_in: Option<String>,
}

/// An outbox row the server refused (or that could not be built): why, what it stands for, and whether it can
/// be sent again — what a person needs to decide whether to retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ParkedRowDto {
    pub outbox_id: i64,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub parked: String,
    /// What the row stands for, as a person reads it: "beats 0:00–1:30 of the session of 2026-12-03 07:12
    /// UTC", "alert “cns_fatigue” in the session of …", "the morning reading of 2026-12-03", "memory KEY".
    pub points_at: String,
    /// The session it belongs to, while that session is here (the pane links to it in History).
    pub session_id: Option<i64>,
    pub resend: ParkedResendDto,
}

/// Whether and how a parked row can be sent again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum ParkedResendDto {
    /// "Retry parked rows" queues it again, for once the cause is fixed (the data or the server).
    OnRetry,
    /// The server did not take change type `change_type` yet: the row goes by itself once a server's answer
    /// lists it (a retry queues it too).
    WaitsForType { change_type: String },
    /// Parked by a version that did not keep what the row points at: it cannot be sent again (its data stays
    /// in this database all the same).
    Never,
}

/// Creating an account or signing in to an existing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SignInModeDto {
    CreateAccount,
    Login,
}

/// The sign-in form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SignInDto {
    pub mode: SignInModeDto,
    /// `http://…` or `https://…`.
    pub server: String,
    pub email: String,
    pub password: String,
    pub device_name: String,
}

/// A device code this device waits on: the person types `user_code` on a signed-in device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DeviceCodeDto {
    pub user_code: String,
    /// When the code stops working.
    pub expires: String,
    /// How often to ask whether it was approved.
    pub poll_every_ms: u32,
}

/// Where a device code stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum DeviceCodeStateDto {
    /// Not approved yet: ask again later.
    Waiting,
    /// Approved: this device is signed in and syncing.
    SignedIn,
    /// Too late: start again.
    Expired,
}

/// One device of the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DeviceDto {
    pub device_id: String,
    pub name: String,
    pub added: String,
    pub last_seen: Option<String>,
    /// This device.
    pub current: bool,
}

/// A coach who may read this account's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CoachDto {
    pub email: String,
    pub granted: String,
}

/// An athlete whose data this account may read (as a coach).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AthleteDto {
    pub email: String,
    pub granted: String,
}

/// Both directions of coach access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CoachAccessDto {
    pub coaches: Vec<CoachDto>,
    pub athletes: Vec<AthleteDto>,
}

/// What "Sync now" did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SyncReportDto {
    pub pushed: u64,
    pub parked: u64,
    pub pulled: u64,
    /// One sentence: "Sent 12 rows, fetched 3 changes; synced."
    pub summary: String,
    pub status: SyncStatusDto,
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn when(ms: i64) -> String {
    format!("{} UTC", auren_clock::UnixMillis(ms).civil_minute())
}

/// What a parked row points at, as `sync_parked` keeps it (migration 0013), with the session it belongs to.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ParkedPointer {
    /// The session the row belongs to (its own, or its alert's or tag's), while that session is here.
    pub session_id: Option<i64>,
    pub session_started_at: Option<i64>,
    /// A morning reading's day (days since 1970-01-01), an alert's or a tag's id.
    pub entity_id: Option<i64>,
    /// The session-relative range of a batch (beats, gaps, samples, metrics, signal changes).
    pub from_ms: Option<f64>,
    pub to_ms: Option<f64>,
    /// A memory's, setting's or tombstone's key.
    pub entity_key: Option<String>,
    /// A tombstone's collection.
    pub collection: Option<String>,
    /// The alert's rule or the tag's name (not read yet: the store returns no alert or tag by id).
    pub name: Option<String>,
}

impl ParkedRowDto {
    /// The row and what it points at (`None` for a row parked by an older version: its kind in words then).
    pub(crate) fn of(row: auren_store::ParkedRow, pointer: Option<&ParkedPointer>) -> Self {
        let resend = match (row.resendable, row.waits_for_type) {
            (false, _) => ParkedResendDto::Never,
            (true, Some(change_type)) => ParkedResendDto::WaitsForType { change_type },
            (true, None) => ParkedResendDto::OnRetry,
        };
        Self {
            points_at: points_at(&row.kind, pointer.unwrap_or(&ParkedPointer::default())),
            session_id: pointer.and_then(|p| p.session_id),
            outbox_id: row.outbox_id,
            kind: row.kind,
            code: row.code,
            message: row.message,
            parked: when(row.parked_at),
            resend,
        }
    }
}

/// What a parked row of `kind` stands for, in words: as precise as `p` allows.
pub(crate) fn points_at(kind: &str, p: &ParkedPointer) -> String {
    let session = match p.session_started_at {
        Some(at) => format!("the session of {}", when(at)),
        None => "a session".to_owned(),
    };
    let range = match (p.from_ms, p.to_ms) {
        (Some(from), Some(to)) => format!(" {}–{}", session_clock(from), session_clock(to)),
        _ => String::new(),
    };
    let keyed = |what: &str| match &p.entity_key {
        Some(key) => format!("{what} {key}"),
        None => format!("a {what}"),
    };
    let named = |what: &str, unnamed: &str| match &p.name {
        Some(name) => format!("{what} “{name}” in {session}"),
        None => format!("{unnamed} in {session}"),
    };
    match kind {
        "session" => session,
        "beats" => format!("beats{range} of {session}"),
        "gaps" => format!("gaps{range} of {session}"),
        "hr_samples" => format!("heart-rate samples{range} of {session}"),
        "metrics" => format!("metric values{range} of {session}"),
        "signals" => format!("contact and link changes{range} of {session}"),
        "alert" => named("alert", "an alert"),
        "tag" => named("tag", "a tag"),
        "note" => format!("the note of {session}"),
        "morning_reading" => match p.entity_id {
            Some(day) => format!("the morning reading of {}", auren_clock::UtcDate::from_days(day)),
            None => "a morning reading".to_owned(),
        },
        "memory" => keyed("memory"),
        "setting" => keyed("setting"),
        "tombstone" => match (&p.collection, &p.entity_key) {
            (Some(collection), Some(key)) => format!("the deletion of {collection} {key}"),
            _ => "a deletion".to_owned(),
        },
        other => other.replace('_', " "),
    }
}

/// A time within a session: `m:ss`, or `h:mm:ss` from an hour on.
fn session_clock(ms: f64) -> String {
    // Whole seconds are what a person reads; a negative or absurd value shows as 0.
    let total = if ms.is_finite() && ms > 0.0 {
        (ms / 1000.0).floor() as u64
    } else {
        0
    };
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

impl From<auren_protocol::auth::DeviceInfo> for DeviceDto {
    fn from(d: auren_protocol::auth::DeviceInfo) -> Self {
        Self {
            device_id: d.device_id.0,
            name: d.name,
            added: when(d.created_at_ms),
            last_seen: d.last_seen_at_ms.map(when),
            current: d.current,
        }
    }
}

impl From<&crate::settings_sync::RefusedSetting> for RefusedSettingDto {
    fn from(r: &crate::settings_sync::RefusedSetting) -> Self {
        use crate::settings_sync::PersonSetting;
        Self {
            setting: match r.setting {
                PersonSetting::MaxHr => PersonSettingDto::MaxHr,
                PersonSetting::HrZones => PersonSettingDto::ZonesPct,
                PersonSetting::RrUnit => PersonSettingDto::RrUnit,
                PersonSetting::Theme => PersonSettingDto::Theme,
                PersonSetting::MemoryApply => PersonSettingDto::MemoryApply,
            },
            value: r.value_text(),
            problem: r.problem.clone(),
            edit_id: format!("{}.{}.{}", r.stamp.wall_ms, r.stamp.counter, r.stamp.device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parked_row_says_what_it_points_at() {
        // 2026-12-03 07:12 UTC.
        let start = 1_764_745_920_000;
        let in_session = ParkedPointer {
            session_id: Some(7),
            session_started_at: Some(start),
            ..ParkedPointer::default()
        };
        let batch = ParkedPointer {
            from_ms: Some(812.0),
            to_ms: Some(3_725_400.0),
            ..in_session.clone()
        };
        let named = |name: &str| ParkedPointer {
            name: Some(name.to_owned()),
            ..in_session.clone()
        };
        let keyed = |collection: Option<&str>, key: &str| ParkedPointer {
            entity_key: Some(key.to_owned()),
            collection: collection.map(str::to_owned),
            ..ParkedPointer::default()
        };
        let morning = ParkedPointer {
            entity_id: Some(20_425),
            ..ParkedPointer::default()
        };
        let unknown = ParkedPointer::default();
        let cases = [
            ("session", &in_session, "the session of 2025-12-03 07:12 UTC"),
            (
                "beats",
                &batch,
                "beats 0:00–1:02:05 of the session of 2025-12-03 07:12 UTC",
            ),
            (
                "signals",
                &batch,
                "contact and link changes 0:00–1:02:05 of the session of 2025-12-03 07:12 UTC",
            ),
            (
                "alert",
                &named("cns_fatigue"),
                "alert “cns_fatigue” in the session of 2025-12-03 07:12 UTC",
            ),
            ("tag", &unknown, "a tag in a session"),
            (
                "note",
                &in_session,
                "the note of the session of 2025-12-03 07:12 UTC",
            ),
            ("morning_reading", &morning, "the morning reading of 2025-12-03"),
            ("memory", &keyed(None, "r1:4"), "memory r1:4"),
            ("setting", &unknown, "a setting"),
            (
                "tombstone",
                &keyed(Some("tag"), "r1:9"),
                "the deletion of tag r1:9",
            ),
            ("beats", &unknown, "beats of a session"),
            ("hr_samples", &unknown, "heart-rate samples of a session"),
            ("future_kind", &unknown, "future kind"),
        ];
        for (kind, pointer, words) in cases {
            assert_eq!(points_at(kind, pointer), words, "{kind} {pointer:?}");
        }
    }

    #[test]
    fn whether_a_parked_row_can_be_sent_again_is_one_of_three() {
        let row = |resendable, waits: Option<&str>| auren_store::ParkedRow {
            outbox_id: 3,
            kind: "signals".into(),
            code: "unsupported_row".into(),
            message: "unknown change type".into(),
            parked_at: 0,
            waits_for_type: waits.map(str::to_owned),
            resendable,
            points_at: None,
        };
        let cases = [
            (row(true, None), ParkedResendDto::OnRetry),
            (
                row(true, Some("signals")),
                ParkedResendDto::WaitsForType {
                    change_type: "signals".into(),
                },
            ),
            (row(false, None), ParkedResendDto::Never),
            (row(false, Some("signals")), ParkedResendDto::Never),
        ];
        for (parked, resend) in cases {
            assert_eq!(ParkedRowDto::of(parked, None).resend, resend);
        }
    }
}
