//! Heart Rate Measurement (0x2A37): spec vectors, every flag combination, malformed payloads, RR units, and
//! encode/decode properties.

use auren_hrm::{
    DecodeError, HeartRateMeasurement, HrFormat, RrInterval, SensorContact, decode_heart_rate_measurement,
    encode_heart_rate_measurement,
};
use proptest::prelude::*;

fn hrm(bpm: u16, contact: SensorContact, ee: Option<u16>, rr: &[u16]) -> HeartRateMeasurement {
    HeartRateMeasurement {
        heart_rate_bpm: bpm,
        contact,
        energy_expended_kj: ee,
        rr: rr.iter().copied().map(RrInterval).collect(),
    }
}

use SensorContact::{Detected, NotDetected, NotSupported};

#[test]
fn spec_vectors_decode_to_their_fields() {
    let table: &[(&str, &[u8], HeartRateMeasurement)] = &[
        ("u8 hr only", &[0x00, 0x48], hrm(72, NotSupported, None, &[])),
        ("u8 hr zero", &[0x00, 0x00], hrm(0, NotSupported, None, &[])),
        ("u8 hr max", &[0x00, 0xFF], hrm(255, NotSupported, None, &[])),
        (
            "u16 hr above 255",
            &[0x01, 0x2C, 0x01],
            hrm(300, NotSupported, None, &[]),
        ),
        (
            "u16 hr small value",
            &[0x01, 0x48, 0x00],
            hrm(72, NotSupported, None, &[]),
        ),
        (
            "u16 hr max",
            &[0x01, 0xFF, 0xFF],
            hrm(u16::MAX, NotSupported, None, &[]),
        ),
        (
            "contact supported, detected",
            &[0x06, 0x50],
            hrm(80, Detected, None, &[]),
        ),
        (
            "contact supported, not detected",
            &[0x04, 0x50],
            hrm(80, NotDetected, None, &[]),
        ),
        (
            "detected bit without supported bit",
            &[0x02, 0x50],
            hrm(80, NotSupported, None, &[]),
        ),
        (
            "energy expended",
            &[0x08, 0x48, 0x34, 0x12],
            hrm(72, NotSupported, Some(0x1234), &[]),
        ),
        (
            "energy expended saturated",
            &[0x08, 0x48, 0xFF, 0xFF],
            hrm(72, NotSupported, Some(0xFFFF), &[]),
        ),
        (
            "one rr",
            &[0x10, 0x48, 0x66, 0x03],
            hrm(72, NotSupported, None, &[870]),
        ),
        (
            "polar h10 style: contact + two rr",
            &[0x16, 0x3C, 0x00, 0x04, 0x10, 0x04],
            hrm(60, Detected, None, &[1024, 1040]),
        ),
        (
            "rr flag with no rr bytes",
            &[0x10, 0x48],
            hrm(72, NotSupported, None, &[]),
        ),
        (
            "nine rr after u8 hr (a full 20-byte notification)",
            &[
                0x10, 0x40, 0x01, 0x01, 0x02, 0x02, 0x03, 0x03, 0x04, 0x04, 0x05, 0x05, 0x06, 0x06, 0x07,
                0x07, 0x08, 0x08, 0x09, 0x09,
            ],
            hrm(
                64,
                NotSupported,
                None,
                &[
                    0x0101, 0x0202, 0x0303, 0x0404, 0x0505, 0x0606, 0x0707, 0x0808, 0x0909,
                ],
            ),
        ),
        (
            "everything, u16 hr",
            &[0x1F, 0x2C, 0x01, 0x10, 0x00, 0x00, 0x04, 0xFF, 0xFF],
            hrm(300, Detected, Some(16), &[1024, 0xFFFF]),
        ),
        (
            "reserved bits only",
            &[0xE0, 0x48],
            hrm(72, NotSupported, None, &[]),
        ),
        (
            "all flag bits set",
            &[0xFF, 0x48, 0x00, 0x10, 0x00, 0x00, 0x04],
            hrm(72, Detected, Some(16), &[1024]),
        ),
        (
            "trailing byte without rr flag is ignored",
            &[0x00, 0x48, 0xAA],
            hrm(72, NotSupported, None, &[]),
        ),
        (
            "trailing bytes after energy without rr flag are ignored",
            &[0x08, 0x48, 0x01, 0x00, 0xAA, 0xBB, 0xCC],
            hrm(72, NotSupported, Some(1), &[]),
        ),
    ];
    for (name, payload, expected) in table {
        assert_eq!(
            decode_heart_rate_measurement(payload).as_ref(),
            Ok(expected),
            "{name}"
        );
    }
}

/// Builds a payload by hand (independently of the encoder) for every flags byte and 0..=9 RR values,
/// and checks each decodes to the fields put in.
#[test]
fn every_flag_combination_with_zero_to_nine_rr_values() {
    let mut checked = 0;
    for flags in 0..=u8::MAX {
        let u16_hr = flags & 0x01 != 0;
        let contact = match (flags & 0x04 != 0, flags & 0x02 != 0) {
            (false, _) => NotSupported,
            (true, false) => NotDetected,
            (true, true) => Detected,
        };
        let has_ee = flags & 0x08 != 0;
        let has_rr = flags & 0x10 != 0;
        for rr_count in 0..=9u16 {
            let bpm: u16 = if u16_hr { 0x0123 } else { 0x57 };
            let mut payload = vec![flags];
            if u16_hr {
                payload.extend_from_slice(&[0x23, 0x01]);
            } else {
                payload.push(0x57);
            }
            if has_ee {
                payload.extend_from_slice(&[0xCD, 0xAB]);
            }
            let rr: Vec<u16> = (0..rr_count).map(|i| 700 + 37 * i).collect();
            if has_rr {
                for value in &rr {
                    payload.extend_from_slice(&value.to_le_bytes());
                }
            }
            let expected = hrm(
                bpm,
                contact,
                has_ee.then_some(0xABCD),
                if has_rr { &rr } else { &[] },
            );
            assert_eq!(
                decode_heart_rate_measurement(&payload),
                Ok(expected),
                "flags {flags:#04x}, {rr_count} rr"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 256 * 10);
}

#[test]
fn malformed_payloads_name_the_problem() {
    let table: &[(&[u8], DecodeError)] = &[
        (
            &[],
            DecodeError::Empty {
                characteristic: "Heart Rate Measurement",
            },
        ),
        (
            &[0x00],
            DecodeError::TruncatedHeartRate {
                format: HrFormat::U8,
                needed: 2,
                got: 1,
            },
        ),
        (
            &[0x01],
            DecodeError::TruncatedHeartRate {
                format: HrFormat::U16,
                needed: 3,
                got: 1,
            },
        ),
        (
            &[0x01, 0x48],
            DecodeError::TruncatedHeartRate {
                format: HrFormat::U16,
                needed: 3,
                got: 2,
            },
        ),
        (
            &[0x1F, 0x48],
            DecodeError::TruncatedHeartRate {
                format: HrFormat::U16,
                needed: 3,
                got: 2,
            },
        ),
        (
            &[0x08, 0x48],
            DecodeError::TruncatedEnergyExpended { needed: 4, got: 2 },
        ),
        (
            &[0x08, 0x48, 0x01],
            DecodeError::TruncatedEnergyExpended { needed: 4, got: 3 },
        ),
        (
            &[0x09, 0x48, 0x00, 0x01],
            DecodeError::TruncatedEnergyExpended { needed: 5, got: 4 },
        ),
        (
            &[0x18, 0x48, 0x01],
            DecodeError::TruncatedEnergyExpended { needed: 4, got: 3 },
        ),
        (&[0x10, 0x48, 0x01], DecodeError::OddRrBytes { bytes: 1 }),
        (
            &[0x10, 0x48, 0x01, 0x02, 0x03],
            DecodeError::OddRrBytes { bytes: 3 },
        ),
        (
            &[0x18, 0x48, 0x00, 0x00, 0x01, 0x02, 0x03],
            DecodeError::OddRrBytes { bytes: 3 },
        ),
        (&[0x11, 0x48, 0x00, 0x01], DecodeError::OddRrBytes { bytes: 1 }),
    ];
    for (payload, expected) in table {
        assert_eq!(
            decode_heart_rate_measurement(payload).as_ref(),
            Err(expected),
            "payload {payload:02x?}"
        );
    }
}

#[test]
fn error_messages_say_what_and_how_much() {
    let table: &[(&[u8], &str)] = &[
        (
            &[],
            "empty payload: a Heart Rate Measurement value needs at least 1 byte",
        ),
        (
            &[0x01, 0x48],
            "heart rate measurement truncated: flags say the heart rate is uint16, which needs 3 bytes, got 2",
        ),
        (
            &[0x08, 0x48, 0x01],
            "heart rate measurement truncated: flags announce Energy Expended, which needs 4 bytes, got 3",
        ),
        (
            &[0x10, 0x48, 0x01, 0x02, 0x03],
            "heart rate measurement has 3 bytes of RR-intervals, an odd count: each RR-interval is 2 bytes",
        ),
    ];
    for (payload, message) in table {
        let error = decode_heart_rate_measurement(payload).unwrap_err();
        assert_eq!(error.to_string(), *message);
    }
}

/// The 1/1024 s unit: raw · 1000 / 1024 in f64, neither "raw is ms" nor integer division.
#[test]
fn rr_raw_converts_to_exact_milliseconds() {
    let table: &[(u16, f64)] = &[
        (0, 0.0),
        (1, 0.9765625),
        (512, 500.0),
        (870, 849.609375),
        (1000, 976.5625),
        (1023, 999.0234375),
        (1024, 1000.0),
        (u16::MAX, 63_999.023_437_5),
    ];
    for &(raw, ms) in table {
        let rr = RrInterval(raw);
        assert_eq!(rr.raw(), raw);
        assert_eq!(rr.as_ms().to_bits(), ms.to_bits(), "raw {raw}");
    }
}

#[test]
fn measurement_lists_rr_in_milliseconds() {
    let m = decode_heart_rate_measurement(&[0x10, 0x48, 0x00, 0x04, 0x66, 0x03, 0x01, 0x00]).unwrap();
    assert_eq!(m.rr_ms().collect::<Vec<_>>(), [1000.0, 849.609375, 0.9765625]);
}

#[test]
fn rr_from_ms_picks_the_nearest_raw_value() {
    let table: &[(f64, Option<u16>)] = &[
        (0.0, Some(0)),
        (1000.0, Some(1024)),
        (849.609375, Some(870)),
        (849.6, Some(870)),
        (0.48, Some(0)),
        // 0.48828125 ms is exactly half a tick: rounds away from zero.
        (0.488_281_25, Some(1)),
        (-0.4, Some(0)),
        (63_999.023_437_5, Some(u16::MAX)),
        (64_000.0, None),
        (-1.0, None),
        (f64::NAN, None),
        (f64::INFINITY, None),
        (f64::NEG_INFINITY, None),
    ];
    for &(ms, raw) in table {
        assert_eq!(RrInterval::from_ms(ms), raw.map(RrInterval), "{ms} ms");
    }
}

#[test]
fn decoded_rr_vector_is_allocated_once_at_its_exact_size() {
    let m = decode_heart_rate_measurement(&[0x10, 0x48, 0x00, 0x04, 0x66, 0x03, 0x01, 0x00]).unwrap();
    assert_eq!(m.rr.capacity(), 3);
    let without_rr = decode_heart_rate_measurement(&[0x00, 0x48]).unwrap();
    assert_eq!(without_rr.rr.capacity(), 0);
}

#[test]
fn encoder_vectors() {
    let table: &[(&str, HeartRateMeasurement, HrFormat, &[u8])] = &[
        (
            "u8",
            hrm(72, NotSupported, None, &[]),
            HrFormat::U8,
            &[0x00, 0x48],
        ),
        (
            "u16 asked",
            hrm(72, NotSupported, None, &[]),
            HrFormat::U16,
            &[0x01, 0x48, 0x00],
        ),
        (
            "u8 asked, 300 bpm becomes u16",
            hrm(300, NotSupported, None, &[]),
            HrFormat::U8,
            &[0x01, 0x2C, 0x01],
        ),
        (
            "u8 asked, 255 bpm stays u8",
            hrm(255, NotSupported, None, &[]),
            HrFormat::U8,
            &[0x00, 0xFF],
        ),
        (
            "u8 asked, 256 bpm becomes u16",
            hrm(256, NotSupported, None, &[]),
            HrFormat::U8,
            &[0x01, 0x00, 0x01],
        ),
        (
            "not detected",
            hrm(60, NotDetected, None, &[]),
            HrFormat::U8,
            &[0x04, 0x3C],
        ),
        (
            "detected",
            hrm(60, Detected, None, &[]),
            HrFormat::U8,
            &[0x06, 0x3C],
        ),
        (
            "energy",
            hrm(60, NotSupported, Some(0x1234), &[]),
            HrFormat::U8,
            &[0x08, 0x3C, 0x34, 0x12],
        ),
        (
            "polar h10 style",
            hrm(60, Detected, None, &[1024, 1040]),
            HrFormat::U8,
            &[0x16, 0x3C, 0x00, 0x04, 0x10, 0x04],
        ),
        (
            "everything",
            hrm(300, Detected, Some(16), &[1024, 0xFFFF]),
            HrFormat::U16,
            &[0x1F, 0x2C, 0x01, 0x10, 0x00, 0x00, 0x04, 0xFF, 0xFF],
        ),
    ];
    for (name, m, format, bytes) in table {
        assert_eq!(encode_heart_rate_measurement(m, *format), *bytes, "{name}");
    }
}

fn any_contact() -> impl Strategy<Value = SensorContact> {
    prop_oneof![Just(NotSupported), Just(NotDetected), Just(Detected)]
}

fn any_format() -> impl Strategy<Value = HrFormat> {
    prop_oneof![Just(HrFormat::U8), Just(HrFormat::U16)]
}

fn any_measurement() -> impl Strategy<Value = HeartRateMeasurement> {
    (
        prop_oneof![0..=255u16, any::<u16>()],
        any_contact(),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(any::<u16>(), 0..=20),
    )
        .prop_map(|(bpm, contact, ee, rr)| hrm(bpm, contact, ee, &rr))
}

proptest! {
    #[test]
    fn encode_then_decode_gives_back_the_measurement(m in any_measurement(), format in any_format()) {
        let bytes = encode_heart_rate_measurement(&m, format);
        let hr_width = if format == HrFormat::U16 || m.heart_rate_bpm > 255 { 2 } else { 1 };
        let expected_len =
            1 + hr_width + if m.energy_expended_kj.is_some() { 2 } else { 0 } + 2 * m.rr.len();
        prop_assert_eq!(bytes.len(), expected_len);
        prop_assert_eq!(decode_heart_rate_measurement(&bytes), Ok(m));
    }

    #[test]
    fn decode_never_panics_and_what_decodes_re_encodes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(m) = decode_heart_rate_measurement(&bytes) {
            let format = if bytes[0] & 0x01 != 0 { HrFormat::U16 } else { HrFormat::U8 };
            let again = encode_heart_rate_measurement(&m, format);
            // The canonical encoding is never longer than what it came from.
            prop_assert!(again.len() <= bytes.len());
            prop_assert_eq!(decode_heart_rate_measurement(&again), Ok(m));
        }
    }

    #[test]
    fn rr_ms_round_trips_through_raw(raw in any::<u16>()) {
        let rr = RrInterval(raw);
        prop_assert_eq!(RrInterval::from_ms(rr.as_ms()), Some(rr));
    }

    #[test]
    fn rr_from_ms_is_within_half_a_tick(ms in 0.0..63_999.0f64) {
        let rr = RrInterval::from_ms(ms).unwrap();
        prop_assert!((rr.as_ms() - ms).abs() <= 0.5 * 1000.0 / 1024.0);
    }
}
