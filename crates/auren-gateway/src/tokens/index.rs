//! What the build script and the counter must agree on to share the vocabulary's tables: their files, the
//! empty slot and the hash that places a token in the index. The build script (`build.rs`) makes the tables
//! once from tiktoken's file; the counter reads them where they lie in the binary.
//!
//! Three files in `OUT_DIR` (the counter names them in `include_bytes!`, which takes only literals; a
//! mismatch fails the build), integers little-endian:
//! - `o200k_bytes.bin`: every token's bytes by rank, back to back;
//! - `o200k_ends.bin`: one `u32` per rank, where its bytes end (they start where the previous rank's end);
//! - `o200k_slots.bin`: an open-addressing hash index from bytes to rank, one `u32` per slot, [`NONE`] where
//!   empty; a power of two slots, at most ~40 % full, so a lookup of an absent piece (most of them, while
//!   merging) stops early.

/// No token: an empty slot, or a pair that is no token.
pub const NONE: u32 = u32::MAX;

/// The slot a search for `piece` starts at, in an index of `slots` slots (a power of two).
pub fn first_slot(piece: &[u8], slots: usize) -> usize {
    // FNV-1a: a few instructions per byte, and pieces are short.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in piece {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash ^ (hash >> 29)) as usize & (slots - 1)
}
