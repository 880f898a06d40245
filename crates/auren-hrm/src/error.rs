//! Errors of the characteristic decoders and encoders: each variant says which field is wrong and by how much.

use crate::measurement::HrFormat;

/// Why a GATT characteristic value could not be decoded.
///
/// Lengths are whole-payload lengths (flags byte included), so `needed`/`got` can be compared directly
/// with the length of the notification the strap sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty payload: a {characteristic} value needs at least 1 byte")]
    Empty { characteristic: &'static str },

    #[error(
        "heart rate measurement truncated: flags say the heart rate is {format}, which needs {needed} bytes, got {got}"
    )]
    TruncatedHeartRate {
        format: HrFormat,
        needed: usize,
        got: usize,
    },

    #[error(
        "heart rate measurement truncated: flags announce Energy Expended, which needs {needed} bytes, got {got}"
    )]
    TruncatedEnergyExpended { needed: usize, got: usize },

    #[error(
        "heart rate measurement has {bytes} bytes of RR-intervals, an odd count: each RR-interval is 2 bytes"
    )]
    OddRrBytes { bytes: usize },

    #[error("{characteristic} value must be exactly {expected} byte(s), got {got}")]
    WrongLength {
        characteristic: &'static str,
        expected: usize,
        got: usize,
    },

    #[error("battery level {percent}% is out of range 0..=100")]
    BatteryLevelOutOfRange { percent: u8 },
}

/// Why a value could not be encoded into a GATT characteristic value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("battery level {percent}% is out of range 0..=100")]
    BatteryLevelOutOfRange { percent: u8 },
}
