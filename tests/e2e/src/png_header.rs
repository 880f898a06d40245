//! Checks that bytes are a PNG file and reads its size from the IHDR chunk (with its CRC checked), so the
//! export test can tell a real image from an empty or truncated file without a decoder.

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// What the IHDR chunk says about the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PngHeader {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub color_type: u8,
}

/// Why bytes are not a well-formed PNG start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotPng {
    NoSignature,
    Truncated,
    FirstChunkNotIhdr,
    BadCrc,
    NoEnd,
}

impl std::fmt::Display for NotPng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotPng::NoSignature => "does not start with the PNG signature",
            NotPng::Truncated => "ends inside the IHDR chunk",
            NotPng::FirstChunkNotIhdr => "its first chunk is not IHDR",
            NotPng::BadCrc => "the IHDR chunk's CRC does not match",
            NotPng::NoEnd => "does not end with an IEND chunk",
        })
    }
}

impl std::error::Error for NotPng {}

/// Reads the header of a complete PNG file: signature, an intact IHDR chunk first and IEND last.
pub fn read(bytes: &[u8]) -> Result<PngHeader, NotPng> {
    if bytes.get(..8) != Some(&SIGNATURE[..]) {
        return Err(NotPng::NoSignature);
    }
    // length (4) + "IHDR" (4) + 13 bytes of data + CRC (4)
    let chunk = bytes.get(8..8 + 25).ok_or(NotPng::Truncated)?;
    if chunk[..8] != [0, 0, 0, 13, b'I', b'H', b'D', b'R'] {
        return Err(NotPng::FirstChunkNotIhdr);
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if crc32(&chunk[4..21]) != be(&chunk[21..25]) {
        return Err(NotPng::BadCrc);
    }
    // The IEND chunk is empty, so the file ends with its length, type and fixed CRC.
    if !bytes.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]) {
        return Err(NotPng::NoEnd);
    }
    Ok(PngHeader {
        width: be(&chunk[8..12]),
        height: be(&chunk[12..16]),
        bit_depth: chunk[16],
        color_type: chunk[17],
    })
}

/// CRC-32 (ISO 3309, as PNG uses it), bit by bit: the header is 17 bytes, speed does not matter.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 RGBA PNG (the smallest image with distinct width and height), written by hand.
    fn tiny_png() -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(3u32.to_be_bytes());
        ihdr.extend(2u32.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]);
        let mut out = SIGNATURE.to_vec();
        out.extend(13u32.to_be_bytes());
        out.extend(&ihdr);
        out.extend(crc32(&ihdr).to_be_bytes());
        out.extend(0u32.to_be_bytes());
        out.extend(b"IEND");
        out.extend(crc32(b"IEND").to_be_bytes());
        out
    }

    #[test]
    fn crc32_matches_the_standard_check_value_and_the_iend_crc() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn headers_are_read_and_damage_is_named() {
        let good = tiny_png();
        let mut bad_crc = good.clone();
        bad_crc[20] ^= 1;
        let mut not_ihdr = good.clone();
        not_ihdr[12] = b'X';
        type Case = (&'static str, Vec<u8>, Result<(u32, u32), NotPng>);
        let cases: Vec<Case> = vec![
            ("intact", good.clone(), Ok((3, 2))),
            ("empty", Vec::new(), Err(NotPng::NoSignature)),
            (
                "text",
                b"not a png at all, really".to_vec(),
                Err(NotPng::NoSignature),
            ),
            ("cut in IHDR", good[..20].to_vec(), Err(NotPng::Truncated)),
            ("width flipped", bad_crc, Err(NotPng::BadCrc)),
            ("other first chunk", not_ihdr, Err(NotPng::FirstChunkNotIhdr)),
            ("no IEND", good[..33].to_vec(), Err(NotPng::NoEnd)),
        ];
        for (name, bytes, want) in cases {
            assert_eq!(read(&bytes).map(|h| (h.width, h.height)), want, "{name}");
        }
    }
}
