//! The `rr_raw` column (`smallint[]`) read straight from PostgreSQL's binary array format into the strap's
//! u16 values. sqlx's generic `Vec<i16>` decoder makes a value reference and runs the integer decoder for
//! every element, then the pull cast each one back to u16 in a second vector: about 8 % of the server's CPU
//! on a pull of ten minute chunks (perf on the bench's server, `AUREN_BENCH_PHASES=pull`). A chunk's array is one dimension of
//! smallints with no NULL (the column's type and CHECK), so reading it is a header check and one loop.
//!
//! The format (PostgreSQL's `array_send`, all integers big-endian): the dimension count, a has-NULLs flag,
//! the element type's oid, then per dimension its length and lower bound, then per element its byte length
//! (-1 for NULL) and its bytes.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueFormat, PgValueRef, Postgres};
use sqlx::{Decode, Type};

/// A chunk's RR intervals as the strap sent them (1/1024 s), stored bit-cast to smallint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrArray(pub Vec<u16>);

impl Type<Postgres> for RrArray {
    fn type_info() -> PgTypeInfo {
        <Vec<i16> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<i16> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for RrArray {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => Ok(Self(parse_int2_array(value.as_bytes()?)?)),
            // Only a simple (unprepared) query answers in text; sqlx's own decoder reads that.
            PgValueFormat::Text => {
                let values = <Vec<i16> as Decode<Postgres>>::decode(value)?;
                // Stored bit-cast to smallint; this is the inverse cast.
                Ok(Self(values.into_iter().map(|r| r as u16).collect()))
            }
        }
    }
}

/// smallint's type oid.
const INT2_OID: u32 = 21;

/// Why bytes are not a one-dimensional smallint array without NULLs.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Int2ArrayError {
    #[error("the array ends after {at} bytes, inside its {field}")]
    Truncated { at: usize, field: &'static str },
    #[error("the array has {0} dimensions; rr_raw has one")]
    Dimensions(i32),
    #[error("the array's elements have type oid {0}, not smallint's ({INT2_OID})")]
    ElementType(u32),
    #[error("the array has {0} elements")]
    Length(i32),
    #[error("the array starts at index {0}, not 1")]
    LowerBound(i32),
    #[error("element {index} is {len} bytes long; a smallint is 2 (a NULL is -1)")]
    ElementLength { index: usize, len: i32 },
    #[error("{0} bytes follow the last element")]
    Trailing(usize),
}

/// The u16 values of a binary smallint array (each element bit-cast back from i16).
pub fn parse_int2_array(bytes: &[u8]) -> Result<Vec<u16>, Int2ArrayError> {
    let mut reader = Reader { bytes, at: 0 };
    let dimensions = reader.i32("dimension count")?;
    if dimensions == 0 {
        // The empty array: no more header.
        reader.end()?;
        return Ok(Vec::new());
    }
    if dimensions != 1 {
        return Err(Int2ArrayError::Dimensions(dimensions));
    }
    // The NULL flag is not trusted: each element's length says whether it is NULL.
    reader.i32("NULL flag")?;
    let oid = reader.u32("element type")?;
    if oid != INT2_OID {
        return Err(Int2ArrayError::ElementType(oid));
    }
    let length = reader.i32("length")?;
    let lower_bound = reader.i32("lower bound")?;
    if lower_bound != 1 {
        return Err(Int2ArrayError::LowerBound(lower_bound));
    }
    let count = usize::try_from(length).map_err(|_| Int2ArrayError::Length(length))?;
    // Never reserve more than the bytes left could hold (6 bytes an element).
    let mut values = Vec::with_capacity(count.min(reader.left() / 6));
    for index in 0..count {
        let len = reader.i32("element length")?;
        if len != 2 {
            return Err(Int2ArrayError::ElementLength { index, len });
        }
        values.push(reader.u16("element")?);
    }
    reader.end()?;
    Ok(values)
}

/// Big-endian integers off the front of a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], Int2ArrayError> {
        let taken = self
            .bytes
            .get(self.at..self.at + N)
            .and_then(|b| <[u8; N]>::try_from(b).ok())
            .ok_or(Int2ArrayError::Truncated {
                at: self.bytes.len(),
                field,
            })?;
        self.at += N;
        Ok(taken)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, Int2ArrayError> {
        self.take(field).map(i32::from_be_bytes)
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, Int2ArrayError> {
        self.take(field).map(u32::from_be_bytes)
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, Int2ArrayError> {
        self.take(field).map(u16::from_be_bytes)
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn end(&self) -> Result<(), Int2ArrayError> {
        match self.left() {
            0 => Ok(()),
            extra => Err(Int2ArrayError::Trailing(extra)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{INT2_OID, Int2ArrayError, parse_int2_array};
    use proptest::prelude::*;

    /// What PostgreSQL's `array_send` writes for a one-dimensional smallint array.
    fn array_send(values: &[u16]) -> Vec<u8> {
        if values.is_empty() {
            return 0_i32.to_be_bytes().to_vec();
        }
        let mut out = Vec::new();
        for word in [1_i32, 0, INT2_OID as i32, values.len() as i32, 1] {
            out.extend(word.to_be_bytes());
        }
        for value in values {
            out.extend(2_i32.to_be_bytes());
            out.extend(value.to_be_bytes());
        }
        out
    }

    /// `array_send(values)` with the 4-byte word at `word` replaced.
    fn with_word(values: &[u16], word: usize, replaced: i32) -> Vec<u8> {
        let mut bytes = array_send(values);
        bytes[4 * word..4 * word + 4].copy_from_slice(&replaced.to_be_bytes());
        bytes
    }

    #[test]
    fn malformed_arrays_are_refused_by_name() {
        let truncated = array_send(&[820, 830]);
        let mut trailing = array_send(&[820]);
        trailing.push(0);
        let cases: [(&str, Vec<u8>, Int2ArrayError); 8] = [
            (
                "no header",
                Vec::new(),
                Int2ArrayError::Truncated {
                    at: 0,
                    field: "dimension count",
                },
            ),
            (
                "cut inside the last element",
                truncated[..truncated.len() - 1].to_vec(),
                Int2ArrayError::Truncated {
                    at: 31,
                    field: "element",
                },
            ),
            (
                "two dimensions",
                with_word(&[820], 0, 2),
                Int2ArrayError::Dimensions(2),
            ),
            (
                "int4 elements",
                with_word(&[820], 2, 23),
                Int2ArrayError::ElementType(23),
            ),
            (
                "negative length",
                with_word(&[820], 3, -1),
                Int2ArrayError::Length(-1),
            ),
            (
                "starts at 0",
                with_word(&[820], 4, 0),
                Int2ArrayError::LowerBound(0),
            ),
            (
                "a NULL element",
                with_word(&[820], 5, -1),
                Int2ArrayError::ElementLength { index: 0, len: -1 },
            ),
            ("a byte after the end", trailing, Int2ArrayError::Trailing(1)),
        ];
        for (what, bytes, expected) in cases {
            assert_eq!(parse_int2_array(&bytes), Err(expected), "{what}");
        }
    }

    #[test]
    fn the_bit_cast_values_read_back_as_the_strap_sent_them() {
        // i16 -1 and -32768 on the wire are RR 65535 and 32768 (64 s and 32 s).
        let values = [0_u16, 1, 820, 32_767, 32_768, 65_535];
        assert_eq!(parse_int2_array(&array_send(&values)), Ok(values.to_vec()));
        assert_eq!(parse_int2_array(&array_send(&[])), Ok(Vec::new()));
    }

    proptest! {
        #[test]
        fn every_array_reads_back(values in proptest::collection::vec(any::<u16>(), 0..300)) {
            prop_assert_eq!(parse_int2_array(&array_send(&values)), Ok(values));
        }

        #[test]
        fn a_cut_array_is_an_error(values in proptest::collection::vec(any::<u16>(), 1..100), cut in any::<prop::sample::Index>()) {
            let bytes = array_send(&values);
            let cut = cut.index(bytes.len());
            prop_assert!(parse_int2_array(&bytes[..cut]).is_err());
        }

        #[test]
        fn any_bytes_give_values_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_int2_array(&bytes);
        }
    }
}
