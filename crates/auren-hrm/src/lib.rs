//! The Bluetooth heart-rate strap protocol: GATT Heart Rate Measurement (0x2A37), Battery Level (0x2A19),
//! Body Sensor Location (0x2A38), and the `.hrmcap` raw capture format.
//!
//! Pure: no I/O, no async, no clock. Every decoder takes the bytes of one GATT value (or the text of one
//! capture) and returns a value or a [`DecodeError`] naming what is wrong; no input makes it panic.
//!
//! ```
//! use auren_hrm::{SensorContact, decode_heart_rate_measurement};
//!
//! // Flags 0x16: u8 heart rate, contact supported and detected, RR-intervals present.
//! let m = decode_heart_rate_measurement(&[0x16, 0x3C, 0x00, 0x04, 0x66, 0x03])?;
//! assert_eq!(m.heart_rate_bpm, 60);
//! assert_eq!(m.contact, SensorContact::Detected);
//! assert_eq!(m.rr_ms().collect::<Vec<_>>(), [1000.0, 849.609375]);
//! # Ok::<(), auren_hrm::DecodeError>(())
//! ```
//!
//! Layout:
//! - `gatt` — assigned numbers of the services and characteristics a strap exposes, as 16-bit values,
//!   128-bit integers and canonical strings.
//! - `measurement` — [`HeartRateMeasurement`] (0x2A37): decode, encode, [`RrInterval`] in 1/1024 s.
//! - `device` — Battery Level (0x2A19) and Body Sensor Location (0x2A38).
//! - `error` — [`DecodeError`], shared by all characteristic decoders.
//! - `capture` — the `.hrmcap` text format: one timestamped notification per line, for bug reports and
//!   replay.

pub mod capture;
mod device;
mod error;
pub mod gatt;
mod measurement;

pub use device::{
    BodySensorLocation, decode_battery_level, decode_body_sensor_location, encode_battery_level,
    encode_body_sensor_location,
};
pub use error::{DecodeError, EncodeError};
pub use measurement::{
    HeartRateMeasurement, HrFormat, RrInterval, SensorContact, decode_heart_rate_measurement,
    encode_heart_rate_measurement,
};
