//! Battery Level (0x2A19) and Body Sensor Location (0x2A38): every byte value and every malformed length.

use auren_hrm::{
    BodySensorLocation, DecodeError, EncodeError, decode_battery_level, decode_body_sensor_location,
    encode_battery_level, encode_body_sensor_location,
};

#[test]
fn battery_level_table() {
    let table: &[(&[u8], Result<u8, DecodeError>)] = &[
        (&[0], Ok(0)),
        (&[57], Ok(57)),
        (&[100], Ok(100)),
        (&[101], Err(DecodeError::BatteryLevelOutOfRange { percent: 101 })),
        (&[255], Err(DecodeError::BatteryLevelOutOfRange { percent: 255 })),
        (
            &[],
            Err(DecodeError::Empty {
                characteristic: "Battery Level",
            }),
        ),
        (
            &[50, 0],
            Err(DecodeError::WrongLength {
                characteristic: "Battery Level",
                expected: 1,
                got: 2,
            }),
        ),
    ];
    for (payload, expected) in table {
        assert_eq!(&decode_battery_level(payload), expected, "payload {payload:?}");
    }
}

#[test]
fn battery_level_encodes_every_valid_percent_and_refuses_the_rest() {
    for percent in 0..=u8::MAX {
        let encoded = encode_battery_level(percent);
        if percent <= 100 {
            let bytes = encoded.unwrap();
            assert_eq!(bytes, [percent]);
            assert_eq!(decode_battery_level(&bytes), Ok(percent));
        } else {
            assert_eq!(encoded, Err(EncodeError::BatteryLevelOutOfRange { percent }));
        }
    }
}

#[test]
fn battery_error_message_names_the_value() {
    assert_eq!(
        decode_battery_level(&[150]).unwrap_err().to_string(),
        "battery level 150% is out of range 0..=100"
    );
    assert_eq!(
        decode_battery_level(&[1, 2, 3]).unwrap_err().to_string(),
        "Battery Level value must be exactly 1 byte(s), got 3"
    );
}

#[test]
fn body_sensor_location_table() {
    use BodySensorLocation::*;
    let table: &[(u8, BodySensorLocation)] = &[
        (0, Other),
        (1, Chest),
        (2, Wrist),
        (3, Finger),
        (4, Hand),
        (5, EarLobe),
        (6, Foot),
        (7, Reserved(7)),
        (200, Reserved(200)),
        (255, Reserved(255)),
    ];
    for &(byte, location) in table {
        assert_eq!(decode_body_sensor_location(&[byte]), Ok(location), "byte {byte}");
        assert_eq!(encode_body_sensor_location(location), [byte]);
    }
}

#[test]
fn body_sensor_location_round_trips_every_byte() {
    for byte in 0..=u8::MAX {
        let location = decode_body_sensor_location(&[byte]).unwrap();
        assert_eq!(location, BodySensorLocation::from_byte(byte));
        assert_eq!(encode_body_sensor_location(location), [byte]);
    }
}

#[test]
fn body_sensor_location_rejects_wrong_lengths() {
    assert_eq!(
        decode_body_sensor_location(&[]),
        Err(DecodeError::Empty {
            characteristic: "Body Sensor Location"
        })
    );
    assert_eq!(
        decode_body_sensor_location(&[1, 1]),
        Err(DecodeError::WrongLength {
            characteristic: "Body Sensor Location",
            expected: 1,
            got: 2
        })
    );
}
