//! The Bluetooth heart-rate strap protocol: GATT Heart Rate Measurement (0x2A37), Battery Level (0x2A19),
//! Body Sensor Location (0x2A38), and the `.hrmcap` raw capture format.
//!
//! Pure: no I/O, no async, no clock.
