//! Accounts, tokens, the device-code flow, devices and coach grants.
//!
//! Tokens: a short-lived access token (`Authorization: Bearer …`) and a refresh token that the server rotates
//! on every use; one token family per device, and a refresh token used twice revokes its family. `Debug`
//! never prints a password or a token.

use crate::UserId;
use crate::hlc::DeviceId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret's `Debug`: only that it is there.
const REDACTED: &str = "<redacted>";

/// A new account, signed in on the device that creates it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccount {
    pub email: String,
    pub password: String,
    /// Shown in the devices list ("Ada's laptop").
    pub device_name: String,
}

/// Signing in on a device with email and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub email: String,
    pub password: String,
    pub device_name: String,
}

impl fmt::Debug for CreateAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateAccount")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("device_name", &self.device_name)
            .finish()
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("device_name", &self.device_name)
            .finish()
    }
}

/// A device signed in: who, which device, and its tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: UserId,
    pub email: String,
    pub device_id: DeviceId,
    pub tokens: TokenPair,
}

/// An access token and the refresh token that replaces it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    /// Unix ms after which the access token is refused.
    pub access_expires_at_ms: i64,
    pub refresh_token: String,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &REDACTED)
            .field("access_expires_at_ms", &self.access_expires_at_ms)
            .field("refresh_token", &REDACTED)
            .finish()
    }
}

/// Trading a refresh token for a new pair.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    pub refresh_token: String,
}

/// Signing a device out: its token family is revoked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logout {
    pub refresh_token: String,
}

impl fmt::Debug for Refresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresh")
            .field("refresh_token", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for Logout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logout")
            .field("refresh_token", &REDACTED)
            .finish()
    }
}

/// A new device asks for a code to be approved on a signed-in one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodeStart {
    pub device_name: String,
}

/// The codes of a device-code request: the person types `user_code` on a signed-in device; the new device
/// polls with `device_code` every `interval_ms` until `expires_at_ms`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub expires_at_ms: i64,
    pub interval_ms: u32,
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCode")
            .field("device_code", &REDACTED)
            .field("user_code", &self.user_code)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("interval_ms", &self.interval_ms)
            .finish()
    }
}

/// A signed-in device approves the code the new device shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodeApprove {
    pub user_code: String,
}

/// The new device asks whether its code was approved.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodePoll {
    pub device_code: String,
}

impl fmt::Debug for DeviceCodePoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodePoll")
            .field("device_code", &REDACTED)
            .finish()
    }
}

/// Where a device-code request stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeviceCodeStatus {
    /// Not approved yet: poll again after `interval_ms`.
    Pending,
    /// Approved: the new device is signed in.
    Approved(SignedIn),
    /// Too late: start again.
    Expired,
}

/// The account's devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Devices {
    pub devices: Vec<DeviceInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: DeviceId,
    pub name: String,
    pub created_at_ms: i64,
    /// The last push or pull, Unix ms.
    pub last_seen_at_ms: Option<i64>,
    /// The device that asked.
    pub current: bool,
}

/// Granting or revoking a coach's read access to my data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoachGrantRequest {
    pub coach_email: String,
}

/// The coaches who may read my data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoachGrants {
    pub grants: Vec<CoachGrant>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoachGrant {
    pub coach_user_id: UserId,
    pub coach_email: String,
    pub granted_at_ms: i64,
}

/// The athletes whose data I may read as a coach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Athletes {
    pub athletes: Vec<Athlete>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Athlete {
    pub user_id: UserId,
    pub email: String,
    pub granted_at_ms: i64,
}
