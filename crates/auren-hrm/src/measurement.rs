//! The Heart Rate Measurement characteristic (0x2A37): decoding notifications and encoding them back.
//!
//! Wire layout (all integers little-endian), as in the Bluetooth Heart Rate Service specification:
//!
//! | field | size | present when |
//! |---|---|---|
//! | flags | 1 | always |
//! | heart rate | 1 (u8) or 2 (u16) | always; flags bit 0 picks the width |
//! | energy expended (kJ) | 2 | flags bit 3 |
//! | RR-intervals (1/1024 s) | 2 each, oldest first | flags bit 4; as many as fit |
//!
//! Flags bits 1–2 carry sensor contact, bits 5–7 are reserved and ignored.

use std::fmt;

use crate::error::DecodeError;

const FLAG_HR_U16: u8 = 1 << 0;
const FLAG_CONTACT_DETECTED: u8 = 1 << 1;
const FLAG_CONTACT_SUPPORTED: u8 = 1 << 2;
const FLAG_ENERGY_EXPENDED: u8 = 1 << 3;
const FLAG_RR_INTERVALS: u8 = 1 << 4;

const CHARACTERISTIC: &str = "Heart Rate Measurement";

/// One decoded 0x2A37 notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartRateMeasurement {
    pub heart_rate_bpm: u16,
    pub contact: SensorContact,
    /// Cumulative energy since the strap's last reset, in kilojoules. The strap saturates it at 0xFFFF.
    pub energy_expended_kj: Option<u16>,
    /// RR-intervals carried by this notification, oldest first (0..=9 fit in a default-MTU notification).
    pub rr: Vec<RrInterval>,
}

impl HeartRateMeasurement {
    /// The RR-intervals in milliseconds, oldest first.
    pub fn rr_ms(&self) -> impl Iterator<Item = f64> + '_ {
        self.rr.iter().map(|rr| rr.as_ms())
    }
}

/// Whether the strap reports skin contact (flags bits 1–2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SensorContact {
    /// The strap does not implement contact detection (bit 2 clear; bit 1 is then meaningless).
    NotSupported,
    /// Contact detection is supported and the strap is not on the skin (or the skin is too dry).
    NotDetected,
    Detected,
}

/// Width of the heart-rate field on the wire (flags bit 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HrFormat {
    U8,
    U16,
}

impl fmt::Display for HrFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HrFormat::U8 => "uint8",
            HrFormat::U16 => "uint16",
        })
    }
}

/// One RR-interval as the strap sends it: the raw count of 1/1024 s.
///
/// The raw value is kept so that nothing is lost to rounding; [`RrInterval::as_ms`] converts exactly
/// (1000/1024 is a power-of-two fraction, so the f64 result is exact for every u16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RrInterval(pub u16);

impl RrInterval {
    pub fn raw(self) -> u16 {
        self.0
    }

    /// Milliseconds, exactly `raw · 1000 / 1024`. Treating the raw value as milliseconds (a 2.4 % error)
    /// or dividing in integers (up to 1 ms lost per beat) are the classic mistakes this avoids.
    pub fn as_ms(self) -> f64 {
        f64::from(self.0) * 1000.0 / 1024.0
    }

    /// The raw value nearest to `ms`; `None` when `ms` is not finite or falls outside what a u16 holds
    /// (0 ..= 63 999.0234375 ms).
    pub fn from_ms(ms: f64) -> Option<Self> {
        let raw = (ms * 1024.0 / 1000.0).round();
        // NaN fails `contains`, infinities are outside the range.
        if (0.0..=f64::from(u16::MAX)).contains(&raw) {
            // In range and integral after `round`, so the cast is exact.
            Some(Self(raw as u16))
        } else {
            None
        }
    }
}

/// Decodes one 0x2A37 value.
///
/// Bytes after the last field the flags announce are ignored (the specification reserves them for
/// future fields). With the RR flag set, every remaining byte pair is an RR-interval; an odd remainder is
/// an error rather than a silently dropped byte, because it means the payload was cut or misread.
///
/// Allocates only the RR vector, and only when the notification carries RR-intervals.
pub fn decode_heart_rate_measurement(payload: &[u8]) -> Result<HeartRateMeasurement, DecodeError> {
    let Some((&flags, _)) = payload.split_first() else {
        return Err(DecodeError::Empty {
            characteristic: CHARACTERISTIC,
        });
    };
    let got = payload.len();

    let (heart_rate_bpm, mut at) = if flags & FLAG_HR_U16 != 0 {
        let bpm = read_u16(payload, 1).ok_or(DecodeError::TruncatedHeartRate {
            format: HrFormat::U16,
            needed: 3,
            got,
        })?;
        (bpm, 3)
    } else {
        let bpm = payload.get(1).copied().ok_or(DecodeError::TruncatedHeartRate {
            format: HrFormat::U8,
            needed: 2,
            got,
        })?;
        (u16::from(bpm), 2)
    };

    let contact = match (
        flags & FLAG_CONTACT_SUPPORTED != 0,
        flags & FLAG_CONTACT_DETECTED != 0,
    ) {
        (false, _) => SensorContact::NotSupported,
        (true, false) => SensorContact::NotDetected,
        (true, true) => SensorContact::Detected,
    };

    let energy_expended_kj = if flags & FLAG_ENERGY_EXPENDED != 0 {
        let kj = read_u16(payload, at).ok_or(DecodeError::TruncatedEnergyExpended { needed: at + 2, got })?;
        at += 2;
        Some(kj)
    } else {
        None
    };

    let rr = if flags & FLAG_RR_INTERVALS != 0 {
        let rest = payload.get(at..).unwrap_or_default();
        if rest.len() % 2 != 0 {
            return Err(DecodeError::OddRrBytes { bytes: rest.len() });
        }
        rest.chunks_exact(2)
            .map(|pair| RrInterval(u16::from_le_bytes([pair[0], pair[1]])))
            .collect()
    } else {
        Vec::new()
    };

    Ok(HeartRateMeasurement {
        heart_rate_bpm,
        contact,
        energy_expended_kj,
        rr,
    })
}

/// Encodes one 0x2A37 value, as a strap (or the simulator) would send it.
///
/// `format` is a preference: a heart rate above 255 bpm does not fit in a u8, so it is written as
/// [`HrFormat::U16`] whatever `format` asks — never truncated. The RR flag is set only when `m.rr` is
/// non-empty; reserved bits are written as zero. There is no length limit: fitting the result into the
/// link's MTU (20 bytes at the default MTU, i.e. 9 RR-intervals with a u8 heart rate) is the sender's job.
pub fn encode_heart_rate_measurement(m: &HeartRateMeasurement, format: HrFormat) -> Vec<u8> {
    let format = if m.heart_rate_bpm > u16::from(u8::MAX) {
        HrFormat::U16
    } else {
        format
    };

    let mut flags = match m.contact {
        SensorContact::NotSupported => 0,
        SensorContact::NotDetected => FLAG_CONTACT_SUPPORTED,
        SensorContact::Detected => FLAG_CONTACT_SUPPORTED | FLAG_CONTACT_DETECTED,
    };
    if format == HrFormat::U16 {
        flags |= FLAG_HR_U16;
    }
    if m.energy_expended_kj.is_some() {
        flags |= FLAG_ENERGY_EXPENDED;
    }
    if !m.rr.is_empty() {
        flags |= FLAG_RR_INTERVALS;
    }

    let mut out = Vec::with_capacity(1 + 2 + 2 + 2 * m.rr.len());
    out.push(flags);
    match format {
        // Checked above: a bpm above 255 never reaches the U8 arm.
        HrFormat::U8 => out.push(m.heart_rate_bpm.to_le_bytes()[0]),
        HrFormat::U16 => out.extend_from_slice(&m.heart_rate_bpm.to_le_bytes()),
    }
    if let Some(kj) = m.energy_expended_kj {
        out.extend_from_slice(&kj.to_le_bytes());
    }
    for rr in &m.rr {
        out.extend_from_slice(&rr.0.to_le_bytes());
    }
    out
}

fn read_u16(payload: &[u8], at: usize) -> Option<u16> {
    let bytes = payload.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}
