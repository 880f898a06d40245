//! GATT assigned numbers: the 16-bit, u128 and string forms agree with each other and with the spec.

use auren_hrm::gatt::*;

#[test]
fn assigned_numbers_agree_in_all_three_forms() {
    let table: &[(&str, u16, u16, u128, &str)] = &[
        (
            "heart rate service",
            HEART_RATE_SERVICE,
            0x180D,
            HEART_RATE_SERVICE_UUID128,
            HEART_RATE_SERVICE_UUID_STR,
        ),
        (
            "heart rate measurement",
            HEART_RATE_MEASUREMENT,
            0x2A37,
            HEART_RATE_MEASUREMENT_UUID128,
            HEART_RATE_MEASUREMENT_UUID_STR,
        ),
        (
            "body sensor location",
            BODY_SENSOR_LOCATION,
            0x2A38,
            BODY_SENSOR_LOCATION_UUID128,
            BODY_SENSOR_LOCATION_UUID_STR,
        ),
        (
            "battery service",
            BATTERY_SERVICE,
            0x180F,
            BATTERY_SERVICE_UUID128,
            BATTERY_SERVICE_UUID_STR,
        ),
        (
            "battery level",
            BATTERY_LEVEL,
            0x2A19,
            BATTERY_LEVEL_UUID128,
            BATTERY_LEVEL_UUID_STR,
        ),
        (
            "device information",
            DEVICE_INFORMATION_SERVICE,
            0x180A,
            DEVICE_INFORMATION_SERVICE_UUID128,
            DEVICE_INFORMATION_SERVICE_UUID_STR,
        ),
        (
            "manufacturer name",
            MANUFACTURER_NAME_STRING,
            0x2A29,
            MANUFACTURER_NAME_STRING_UUID128,
            MANUFACTURER_NAME_STRING_UUID_STR,
        ),
        (
            "model number",
            MODEL_NUMBER_STRING,
            0x2A24,
            MODEL_NUMBER_STRING_UUID128,
            MODEL_NUMBER_STRING_UUID_STR,
        ),
    ];
    for &(name, short, assigned, full, text) in table {
        assert_eq!(short, assigned, "{name}");
        assert_eq!(uuid128(short), full, "{name}");
        assert_eq!(format_uuid128(full), text, "{name}");
        assert_eq!(
            text,
            format!("0000{short:04x}-0000-1000-8000-00805f9b34fb"),
            "{name}"
        );
        assert_eq!(short_uuid(full), Some(short), "{name}");
    }
}

#[test]
fn base_uuid_is_the_bluetooth_base() {
    assert_eq!(
        format_uuid128(BLUETOOTH_BASE_UUID),
        "00000000-0000-1000-8000-00805f9b34fb"
    );
    assert_eq!(
        format_uuid128(0x0123_4567_89ab_cdef_0011_2233_4455_6677),
        "01234567-89ab-cdef-0011-223344556677"
    );
}

#[test]
fn vendor_and_32_bit_uuids_have_no_short_form() {
    // Polar's measurement-data (PMD) service: a vendor UUID, not on the Bluetooth base.
    assert_eq!(short_uuid(0xFB00_5C80_02E7_F387_1CAD_8ACD_2D8D_F0C8), None);
    // A 32-bit assigned number is on the base but does not fit 16 bits.
    assert_eq!(short_uuid(0x0001_180D_0000_1000_8000_0080_5F9B_34FB), None);
    assert_eq!(short_uuid(BLUETOOTH_BASE_UUID), Some(0));
}
