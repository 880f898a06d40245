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
    /// Rows the server refused (or that could not be sent): kept locally, never retried.
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

/// An outbox row the server refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ParkedRowDto {
    pub outbox_id: i64,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub parked: String,
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

impl From<auren_store::ParkedRow> for ParkedRowDto {
    fn from(row: auren_store::ParkedRow) -> Self {
        Self {
            outbox_id: row.outbox_id,
            kind: row.kind,
            code: row.code,
            message: row.message,
            parked: when(row.parked_at),
        }
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
