//! Bluetooth and straps: whether Bluetooth can be used (in the person's words), scanning for straps, and
//! the straps the person chose to remember.

use auren_strap::ble;

use crate::desktop::Desktop;
use crate::dto::{BluetoothDto, BluetoothState, FoundStrapDto, RememberedStrapDto};
use crate::error::DesktopError;

/// How long a scan may be asked to run, s.
pub const MAX_SCAN_S: u32 = 60;

impl Desktop {
    pub async fn bluetooth_status(&self) -> BluetoothDto {
        let status = |state, message: &str| BluetoothDto {
            state,
            message: message.to_owned(),
        };
        let adapters = match ble::adapters().await {
            Ok(adapters) => adapters,
            Err(error) if error.is_permission_denied() => {
                return status(
                    BluetoothState::PermissionDenied,
                    "Auren may not use Bluetooth. Allow it in your system settings, or use the simulator.",
                );
            }
            Err(error) => {
                tracing::info!(%error, "Bluetooth unavailable");
                return status(
                    BluetoothState::Unavailable,
                    "Bluetooth is not available on this computer (the Bluetooth service is not running). \
                     Start it, or use the built-in simulator.",
                );
            }
        };
        if adapters.is_empty() {
            return status(
                BluetoothState::NoAdapter,
                "This computer has no Bluetooth adapter. Plug one in, or use the built-in simulator.",
            );
        }
        match ble::adapter_powered(0).await {
            Ok(true) => status(
                BluetoothState::Ready,
                "Bluetooth is on. Put your strap on and scan.",
            ),
            Ok(false) => status(
                BluetoothState::Off,
                "Bluetooth is switched off. Switch it on in your system settings, then scan.",
            ),
            Err(error) => {
                tracing::info!(%error, "adapter state unknown");
                status(
                    BluetoothState::Ready,
                    "Bluetooth adapter found. Put your strap on and scan.",
                )
            }
        }
    }

    pub async fn scan_straps(&self, seconds: u32) -> Result<Vec<FoundStrapDto>, DesktopError> {
        if !(1..=MAX_SCAN_S).contains(&seconds) {
            return Err(DesktopError::InvalidInput(format!(
                "a scan lasts 1–{MAX_SCAN_S} s, not {seconds} s"
            )));
        }
        let found = ble::scan(0, std::time::Duration::from_secs(seconds.into())).await?;
        let remembered = self.settings().remembered_straps;
        Ok(found
            .into_iter()
            .map(|s| FoundStrapDto {
                remembered: remembered.iter().any(|r| r.address == s.address),
                address: s.address,
                name: s.name,
                rssi: s.rssi,
            })
            .collect())
    }

    pub fn remembered_straps(&self) -> Vec<RememberedStrapDto> {
        self.settings().remembered_straps
    }

    pub fn remember_strap(&self, address: &str, name: &str) -> Result<Vec<RememberedStrapDto>, DesktopError> {
        let address = address.trim();
        if address.is_empty() {
            return Err(DesktopError::InvalidInput("the strap address is empty".into()));
        }
        let name = if name.trim().is_empty() {
            address
        } else {
            name.trim()
        };
        let next = self.update_settings(|s| {
            s.remembered_straps.retain(|r| r.address != address);
            s.remembered_straps.insert(
                0,
                RememberedStrapDto {
                    address: address.to_owned(),
                    name: name.to_owned(),
                    last_used_unix_ms: None,
                },
            );
        })?;
        Ok(next.remembered_straps)
    }

    pub fn forget_strap(&self, address: &str) -> Result<Vec<RememberedStrapDto>, DesktopError> {
        Ok(self
            .update_settings(|s| s.remembered_straps.retain(|r| r.address != address))?
            .remembered_straps)
    }

    /// Marks a remembered strap as used now (the list puts the most recent first).
    pub(crate) fn strap_used(&self, address: &str, now: i64) -> Result<(), DesktopError> {
        self.update_settings(|s| {
            if let Some(r) = s.remembered_straps.iter_mut().find(|r| r.address == address) {
                r.last_used_unix_ms = Some(now);
            }
        })?;
        Ok(())
    }
}
