//! Fuzzes the 0x2A37 decoder: no input panics, and whatever decodes re-encodes to bytes that decode to the
//! same measurement, no longer than the input.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
#![no_main]

use auren_hrm::{HrFormat, decode_heart_rate_measurement, encode_heart_rate_measurement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    let Ok(measurement) = decode_heart_rate_measurement(payload) else {
        return;
    };
    let format = match payload.first() {
        Some(flags) if flags & 0x01 != 0 => HrFormat::U16,
        _ => HrFormat::U8,
    };
    let encoded = encode_heart_rate_measurement(&measurement, format);
    assert!(
        encoded.len() <= payload.len(),
        "re-encoding grew {payload:02x?} into {encoded:02x?}"
    );
    assert_eq!(
        decode_heart_rate_measurement(&encoded),
        Ok(measurement),
        "payload {payload:02x?}"
    );
    // Canonical bytes are a fixed point of decode → encode.
    assert_eq!(
        decode_heart_rate_measurement(&encoded).map(|m| encode_heart_rate_measurement(&m, format)),
        Ok(encoded)
    );
});
