//! Battery Level (0x2A19) and Body Sensor Location (0x2A38): the one-byte characteristics a strap exposes.

use crate::error::{DecodeError, EncodeError};

/// Where the strap sits on the body (0x2A38).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodySensorLocation {
    Other,
    Chest,
    Wrist,
    Finger,
    Hand,
    EarLobe,
    Foot,
    /// A value the specification reserves (7..=255). Kept so that a newer strap's value is shown, not lost.
    /// `Reserved(0..=6)` is never produced by decoding; encoding writes its byte as is.
    Reserved(u8),
}

impl BodySensorLocation {
    pub fn from_byte(byte: u8) -> Self {
        match byte {
            0 => Self::Other,
            1 => Self::Chest,
            2 => Self::Wrist,
            3 => Self::Finger,
            4 => Self::Hand,
            5 => Self::EarLobe,
            6 => Self::Foot,
            other => Self::Reserved(other),
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            Self::Other => 0,
            Self::Chest => 1,
            Self::Wrist => 2,
            Self::Finger => 3,
            Self::Hand => 4,
            Self::EarLobe => 5,
            Self::Foot => 6,
            Self::Reserved(byte) => byte,
        }
    }
}

/// Decodes a Battery Level value: exactly one byte, a percentage 0..=100.
pub fn decode_battery_level(payload: &[u8]) -> Result<u8, DecodeError> {
    let percent = single_byte(payload, "Battery Level")?;
    if percent > 100 {
        return Err(DecodeError::BatteryLevelOutOfRange { percent });
    }
    Ok(percent)
}

pub fn encode_battery_level(percent: u8) -> Result<[u8; 1], EncodeError> {
    if percent > 100 {
        return Err(EncodeError::BatteryLevelOutOfRange { percent });
    }
    Ok([percent])
}

/// Decodes a Body Sensor Location value: exactly one byte.
pub fn decode_body_sensor_location(payload: &[u8]) -> Result<BodySensorLocation, DecodeError> {
    single_byte(payload, "Body Sensor Location").map(BodySensorLocation::from_byte)
}

pub fn encode_body_sensor_location(location: BodySensorLocation) -> [u8; 1] {
    [location.to_byte()]
}

fn single_byte(payload: &[u8], characteristic: &'static str) -> Result<u8, DecodeError> {
    match payload {
        [] => Err(DecodeError::Empty { characteristic }),
        [byte] => Ok(*byte),
        _ => Err(DecodeError::WrongLength {
            characteristic,
            expected: 1,
            got: payload.len(),
        }),
    }
}
