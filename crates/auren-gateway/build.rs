//! Makes the token counter's tables from tiktoken's o200k_base file (`assets/o200k_base.tiktoken`) at build
//! time, so the app carries them ready to read: on the first count it used to decode 3.6 MB of base64 and
//! build 5.5 MB of tables on its heap (~30 ms of a core, during the first chat turn), and kept both.
//! The layout is in `src/tokens/index.rs`, which the counter shares.

#[path = "src/tokens/index.rs"]
mod index;

use base64::Engine as _;
use std::error::Error;
use std::path::{Path, PathBuf};

const VOCABULARY: &str = "assets/o200k_base.tiktoken";
/// The tables' files in `OUT_DIR` (see `src/tokens/index.rs`).
const BYTES_FILE: &str = "o200k_bytes.bin";
const ENDS_FILE: &str = "o200k_ends.bin";
const SLOTS_FILE: &str = "o200k_slots.bin";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed={VOCABULARY}");
    println!("cargo::rerun-if-changed=src/tokens/index.rs");
    let text = std::fs::read_to_string(VOCABULARY).map_err(|e| format!("reading {VOCABULARY}: {e}"))?;
    let (bytes, ends) = parse(&text)?;
    let slots = index(&bytes, &ends);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo set no OUT_DIR")?);
    write(&out.join(BYTES_FILE), &bytes)?;
    write(&out.join(ENDS_FILE), &little_endian(&ends))?;
    write(&out.join(SLOTS_FILE), &little_endian(&slots))?;
    Ok(())
}

/// The tokens' bytes back to back and where each ends. Each line is `<base64 of the bytes> <rank>`, the
/// ranks 0, 1, 2… in order; anything else is an error naming its line.
fn parse(text: &str) -> Result<(Vec<u8>, Vec<u32>), Box<dyn Error>> {
    let mut bytes = Vec::with_capacity(text.len() / 2);
    let mut ends = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("{VOCABULARY} line {}: {what}: {line:?}", number + 1);
        let (token, rank) = line.split_once(' ').ok_or_else(|| bad("no space"))?;
        if rank.parse::<usize>().ok() != Some(ends.len()) {
            return Err(bad(&format!("rank is not {}", ends.len())).into());
        }
        base64::engine::general_purpose::STANDARD
            .decode_vec(token, &mut bytes)
            .map_err(|e| bad(&format!("not base64 ({e})")))?;
        ends.push(u32::try_from(bytes.len())?);
    }
    Ok((bytes, ends))
}

/// The hash index from a token's bytes to its rank.
fn index(bytes: &[u8], ends: &[u32]) -> Vec<u32> {
    let size = (ends.len() * 5 / 2).next_power_of_two();
    let mut slots = vec![index::NONE; size];
    let mut start = 0;
    for (rank, &end) in (0_u32..).zip(ends) {
        let token = &bytes[start..end as usize];
        start = end as usize;
        let mut slot = index::first_slot(token, size);
        while slots[slot] != index::NONE {
            slot = (slot + 1) & (size - 1);
        }
        slots[slot] = rank;
    }
    slots
}

fn little_endian(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn write(path: &Path, contents: &[u8]) -> Result<(), Box<dyn Error>> {
    std::fs::write(path, contents).map_err(|e| format!("writing {}: {e}", path.display()).into())
}
