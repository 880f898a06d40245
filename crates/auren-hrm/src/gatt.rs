//! Assigned numbers of the GATT services and characteristics Auren talks to, in the three shapes BLE stacks
//! want: the 16-bit short form, the full 128-bit UUID as a `u128` (e.g. for `uuid::Uuid::from_u128`) and
//! its canonical lowercase string.

/// The Bluetooth Base UUID, `00000000-0000-1000-8000-00805f9b34fb`: a 16-bit assigned number `xxxx`
/// stands for `0000xxxx-0000-1000-8000-00805f9b34fb`.
pub const BLUETOOTH_BASE_UUID: u128 = 0x0000_0000_0000_1000_8000_0080_5f9b_34fb;

/// The full 128-bit UUID of a 16-bit assigned number.
pub const fn uuid128(short: u16) -> u128 {
    BLUETOOTH_BASE_UUID | ((short as u128) << 96)
}

/// The 16-bit assigned number inside a 128-bit UUID, or `None` when the UUID is not built on the
/// Bluetooth Base UUID (a vendor UUID) or does not fit 16 bits.
pub const fn short_uuid(uuid: u128) -> Option<u16> {
    let upper = uuid >> 96;
    if uuid & !(0xffff_ffff_u128 << 96) == BLUETOOTH_BASE_UUID && upper <= 0xffff {
        Some(upper as u16)
    } else {
        None
    }
}

/// Canonical 8-4-4-4-12 lowercase form of a 128-bit UUID.
pub fn format_uuid128(uuid: u128) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        uuid >> 96,
        (uuid >> 80) & 0xffff,
        (uuid >> 64) & 0xffff,
        (uuid >> 48) & 0xffff,
        uuid & 0xffff_ffff_ffff
    )
}

pub const HEART_RATE_SERVICE: u16 = 0x180D;
pub const HEART_RATE_SERVICE_UUID128: u128 = uuid128(HEART_RATE_SERVICE);
pub const HEART_RATE_SERVICE_UUID_STR: &str = "0000180d-0000-1000-8000-00805f9b34fb";

pub const HEART_RATE_MEASUREMENT: u16 = 0x2A37;
pub const HEART_RATE_MEASUREMENT_UUID128: u128 = uuid128(HEART_RATE_MEASUREMENT);
pub const HEART_RATE_MEASUREMENT_UUID_STR: &str = "00002a37-0000-1000-8000-00805f9b34fb";

pub const BODY_SENSOR_LOCATION: u16 = 0x2A38;
pub const BODY_SENSOR_LOCATION_UUID128: u128 = uuid128(BODY_SENSOR_LOCATION);
pub const BODY_SENSOR_LOCATION_UUID_STR: &str = "00002a38-0000-1000-8000-00805f9b34fb";

pub const BATTERY_SERVICE: u16 = 0x180F;
pub const BATTERY_SERVICE_UUID128: u128 = uuid128(BATTERY_SERVICE);
pub const BATTERY_SERVICE_UUID_STR: &str = "0000180f-0000-1000-8000-00805f9b34fb";

pub const BATTERY_LEVEL: u16 = 0x2A19;
pub const BATTERY_LEVEL_UUID128: u128 = uuid128(BATTERY_LEVEL);
pub const BATTERY_LEVEL_UUID_STR: &str = "00002a19-0000-1000-8000-00805f9b34fb";

pub const DEVICE_INFORMATION_SERVICE: u16 = 0x180A;
pub const DEVICE_INFORMATION_SERVICE_UUID128: u128 = uuid128(DEVICE_INFORMATION_SERVICE);
pub const DEVICE_INFORMATION_SERVICE_UUID_STR: &str = "0000180a-0000-1000-8000-00805f9b34fb";

pub const MANUFACTURER_NAME_STRING: u16 = 0x2A29;
pub const MANUFACTURER_NAME_STRING_UUID128: u128 = uuid128(MANUFACTURER_NAME_STRING);
pub const MANUFACTURER_NAME_STRING_UUID_STR: &str = "00002a29-0000-1000-8000-00805f9b34fb";

pub const MODEL_NUMBER_STRING: u16 = 0x2A24;
pub const MODEL_NUMBER_STRING_UUID128: u128 = uuid128(MODEL_NUMBER_STRING);
pub const MODEL_NUMBER_STRING_UUID_STR: &str = "00002a24-0000-1000-8000-00805f9b34fb";
