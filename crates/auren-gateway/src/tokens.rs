//! Token estimates with o200k_base, the tokenizer of OpenAI's current models, for budgets before a call and
//! for usage when a stream carries no numbers. Other vendors' tokenizers differ by some percent; estimates
//! are marked as such.
//!
//! The count is tiktoken's, token for token (the tests compare it with tiktoken-rs on the repository's own
//! documents, multilingual text and random strings), but the tables are compact and made at build time:
//! tiktoken-rs keeps every token's bytes three times over (two hash maps and a sorted list, ~200,000 small
//! allocations each) plus 128 copies of the compiled pattern, 41.6 MB of heap that the desktop app kept for
//! good after its first chat turn. Here the build script (`build.rs`, layout in `tokens/index.rs`) turns
//! tiktoken's vocabulary file (MIT; `assets/o200k_base.tiktoken`, nothing is downloaded) into the tokens'
//! bytes in one buffer with a hash index of ranks, and the counter reads them where they lie in the binary:
//! no heap, and nothing to build on the first count (decoding and indexing the file took ~30 ms of a core,
//! inside the first chat turn, and kept 5.5 MB).

use crate::chat::ChatRequest;
use std::collections::BinaryHeap;
use std::sync::LazyLock;

mod index;

/// Tokens of plain text.
pub fn count_text(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    COUNTER.count(text)
}

/// Framing tokens per message (role markers, separators) as OpenAI's chat format counts them.
const PER_MESSAGE: u64 = 4;

/// An estimate of a request's prompt tokens: messages, tool definitions and framing.
pub fn estimate_prompt(request: &ChatRequest) -> u64 {
    let messages: u64 = request
        .messages
        .iter()
        .map(|m| PER_MESSAGE + m.text_len_parts().map(count_text).sum::<u64>())
        .sum();
    let tools: u64 = request
        .tools
        .iter()
        .map(|t| {
            PER_MESSAGE
                + count_text(&t.name)
                + count_text(&t.description)
                + count_text(&t.parameters.to_string())
        })
        .sum();
    messages + tools + 3
}

/// The prompt estimate padded to bound what a provider with a different tokenizer may count: budgets
/// reserve this so that the real cost stays under the reservation.
pub fn prompt_upper_bound(request: &ChatRequest) -> u64 {
    let estimate = estimate_prompt(request);
    estimate + estimate / 4 + 16
}

/// o200k_base's pre-tokenizer (tiktoken's `O200K_BASE_PAT_STR`): text is cut into pieces by this pattern,
/// then each piece is merged pair by pair.
const O200K_PATTERN: &str = concat!(
    r#"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
    "|",
    r#"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
    "|",
    r#"\p{N}{1,3}"#,
    "|",
    r#" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
    "|",
    r#"\s*[\r\n]+"#,
    "|",
    r#"\s+(?!\S)"#,
    "|",
    r#"\s+"#
);

/// The pattern, compiled on the first count and kept.
static COUNTER: LazyLock<Counter> = LazyLock::new(|| Counter {
    vocabulary: Vocabulary {
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/o200k_bytes.bin")),
        ends: include_bytes!(concat!(env!("OUT_DIR"), "/o200k_ends.bin")),
        slots: include_bytes!(concat!(env!("OUT_DIR"), "/o200k_slots.bin")),
    },
    pattern: fancy_regex::Regex::new(O200K_PATTERN).ok(),
});

/// The pre-tokenizer and the vocabulary.
struct Counter {
    vocabulary: Vocabulary,
    /// None only if the pattern failed to compile (a test makes sure it does).
    pattern: Option<fancy_regex::Regex>,
}

impl Counter {
    fn count(&self, text: &str) -> u64 {
        // Every token holds at least one byte: without the pattern, the length still bounds the count.
        let Some(pattern) = &self.pattern else {
            return text.len() as u64;
        };
        let (mut total, mut counted_to) = (0, 0);
        for found in pattern.find_iter(text) {
            match found {
                Ok(piece) => {
                    total += self.vocabulary.count_piece(piece.as_str().as_bytes());
                    counted_to = piece.end();
                }
                // The pattern gave up backtracking: bound the rest by its length, as above.
                Err(_) => return total + (text.len() - counted_to) as u64,
            }
        }
        total
    }
}

/// A token's number in the vocabulary; lower ranks merge first.
type Rank = u32;
/// No token (an empty slot, or a pair that is no token).
const NONE: Rank = index::NONE;

/// The build script's tables (see `tokens/index.rs`): token bytes by rank, where each ends, and the hash
/// index from bytes to rank; the integers are read little-endian where they lie.
struct Vocabulary {
    bytes: &'static [u8],
    ends: &'static [u8],
    slots: &'static [u8],
}

impl Vocabulary {
    /// How many tokens there are (the tests check every one).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.ends.len() / 4
    }

    fn token(&self, rank: Rank) -> &'static [u8] {
        let end = word(self.ends, rank as usize) as usize;
        let start = match rank {
            0 => 0,
            r => word(self.ends, r as usize - 1) as usize,
        };
        self.bytes.get(start..end).unwrap_or_default()
    }

    fn rank(&self, piece: &[u8]) -> Option<Rank> {
        let size = self.slots.len() / 4;
        if size == 0 {
            return None;
        }
        let mut slot = index::first_slot(piece, size);
        loop {
            match word(self.slots, slot) {
                NONE => return None,
                rank if self.token(rank) == piece => return Some(rank),
                _ => slot = (slot + 1) & (size - 1),
            }
        }
    }

    fn rank_or_none(&self, piece: &[u8]) -> Rank {
        self.rank(piece).unwrap_or(NONE)
    }

    /// Tokens of one pre-tokenized piece.
    fn count_piece(&self, piece: &[u8]) -> u64 {
        match piece.len() {
            0 => 0,
            1 => 1,
            _ if self.rank(piece).is_some() => 1,
            // tiktoken merges short pieces by scanning and long ones with a heap; both merge the
            // lowest-ranked pair first, the leftmost on a tie.
            n if n < 100 => self.merge_short(piece),
            _ => self.merge_long(piece),
        }
    }

    /// tiktoken's `_byte_pair_merge`: parts are (start, rank of the pair starting there).
    fn merge_short(&self, piece: &[u8]) -> u64 {
        let mut parts: Vec<(usize, Rank)> = (0..piece.len() - 1)
            .map(|i| (i, self.rank_or_none(&piece[i..i + 2])))
            .collect();
        parts.push((piece.len() - 1, NONE));
        parts.push((piece.len(), NONE));
        let rank_at = |parts: &[(usize, Rank)], i: usize| {
            if i + 3 < parts.len() {
                self.rank_or_none(&piece[parts[i].0..parts[i + 3].0])
            } else {
                NONE
            }
        };
        loop {
            let lowest = parts[..parts.len() - 1]
                .iter()
                .enumerate()
                .filter(|(_, (_, rank))| *rank != NONE)
                .min_by_key(|(i, (_, rank))| (*rank, *i));
            let Some((i, _)) = lowest else { break };
            if i > 0 {
                parts[i - 1].1 = rank_at(&parts, i - 1);
            }
            parts[i].1 = rank_at(&parts, i);
            parts.remove(i + 1);
        }
        parts.len() as u64 - 1
    }

    /// tiktoken's `_byte_pair_merge_large`: a heap of candidate merges over a linked list of parts.
    fn merge_long(&self, piece: &[u8]) -> u64 {
        let n = piece.len();
        // For the part starting at i: where it ends, where the next part ends, and the next merge's rank.
        let mut end: Vec<usize> = (1..=n).collect();
        let mut next_end: Vec<usize> = (2..=n + 1).collect();
        let mut next_rank = vec![NONE; n];
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut heap = BinaryHeap::with_capacity(n);
        for i in 0..n - 1 {
            let rank = self.rank_or_none(&piece[i..i + 2]);
            if rank != NONE {
                heap.push(Merge { start: i, rank });
                next_rank[i] = rank;
            }
        }
        let mut parts = n as u64;
        let propose = |next_end: &mut [usize],
                       next_rank: &mut [Rank],
                       heap: &mut BinaryHeap<Merge>,
                       start: usize,
                       to: usize| {
            next_end[start] = to;
            next_rank[start] = NONE;
            if to <= n {
                let rank = self.rank_or_none(&piece[start..to]);
                if rank != NONE {
                    heap.push(Merge { start, rank });
                    next_rank[start] = rank;
                }
            }
        };
        while let Some(left) = heap.pop() {
            if left.rank != next_rank[left.start] {
                continue;
            }
            let start = left.start;
            let right = end[start];
            let right_end = next_end[start];
            let right_next_end = next_end[right];
            end[start] = right_end;
            parts -= 1;
            propose(&mut next_end, &mut next_rank, &mut heap, start, right_next_end);
            if right_end < n {
                prev[right_end] = start;
            }
            if start > 0 {
                propose(&mut next_end, &mut next_rank, &mut heap, prev[start], right_end);
            }
            next_rank[right] = NONE;
        }
        parts
    }
}

/// The `i`-th little-endian `u32` of `table`; [`NONE`] past its end (the build script's tables never are).
fn word(table: &[u8], i: usize) -> u32 {
    table
        .get(i * 4..i * 4 + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(NONE, u32::from_le_bytes)
}

/// A candidate merge; the heap pops the lowest rank first, then the leftmost.
#[derive(PartialEq, Eq)]
struct Merge {
    start: usize,
    rank: Rank,
}

impl Ord for Merge {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .rank
            .cmp(&self.rank)
            .then_with(|| other.start.cmp(&self.start))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Message;
    use proptest::prelude::*;

    fn tiktoken(text: &str) -> u64 {
        tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len() as u64
    }

    #[test]
    fn counts_known_text() {
        assert_eq!(count_text(""), 0);
        assert_eq!(count_text("hello world"), 2);
        let request = ChatRequest {
            messages: vec![Message::system("Be brief."), Message::user("hello world")],
            ..Default::default()
        };
        let estimate = estimate_prompt(&request);
        assert!((10..=20).contains(&estimate), "{estimate}");
        assert!(prompt_upper_bound(&request) > estimate);
    }

    #[test]
    fn the_vocabulary_and_pattern_are_tiktokens() {
        assert!(COUNTER.pattern.is_some(), "the pattern compiles");
        assert_eq!(O200K_PATTERN, tiktoken_rs::O200K_BASE_PAT_STR);
        let theirs = tiktoken_rs::o200k_base_singleton();
        let vocabulary = &COUNTER.vocabulary;
        assert_eq!(vocabulary.len(), 199_998);
        for rank in 0..vocabulary.len() as Rank {
            let token = vocabulary.token(rank);
            assert_eq!(
                theirs.decode_bytes(&[rank]).ok().as_deref(),
                Some(token),
                "rank {rank}"
            );
            assert_eq!(
                vocabulary.rank(token),
                Some(rank),
                "rank {rank} is found by its bytes"
            );
        }
        assert_eq!(vocabulary.rank(b"no such token \xff\xfe"), None);
    }

    /// Long documents of every kind of piece: prose, code, tables, numbers, punctuation runs.
    #[test]
    fn counts_the_repositorys_documents_as_tiktoken_does() {
        let documents = [
            include_str!("../../../README.md"),
            include_str!("../../../ARCHITECTURE.md"),
            include_str!("gateway.rs"),
            include_str!("prices.json"),
        ];
        for document in documents {
            assert_eq!(count_text(document), tiktoken(document));
        }
    }

    /// Pieces of 100 bytes and more are merged the other way (a heap), like tiktoken's.
    #[test]
    fn counts_long_pieces_and_other_scripts_as_tiktoken_does() {
        let texts = [
            "=".repeat(5000),
            format!("{}x", " ".repeat(4000)),
            "ab".repeat(3000),
            "\n".repeat(300) + &"  \n".repeat(50),
            "Ünïcödé façade — naïve café, déjà vu; Straße, Øresund".to_string(),
            "Съешь же ещё этих мягких французских булок, да выпей чаю.".to_string(),
            "東京は日本の首都です。今日はいい天気ですね。心拍変動を測ります。".to_string(),
            "😀🚀👍🏽 e\u{301} \u{200b}zero\u{a0}width\u{3000}ideographic".to_string(),
            "I'm sure they'LL say it's what we'VE done; HRV 63.5 ms, RMSSD=42, 1234567 beats".to_string(),
            "\t\tfn main() {\r\n    println!(\"{}\", 1);\r\n}\r\n\r\n".to_string(),
            "a".repeat(1000) + &"é".repeat(300) + &"日".repeat(200),
            // Pairs of equal rank: the leftmost merges first (proptest found the short one).
            ":::-&$".to_string(),
            ":::-&$".repeat(20),
        ];
        for text in &texts {
            assert_eq!(count_text(text), tiktoken(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn counts_any_text_as_tiktoken_does(text in "(?s)[ -~\\n\\t\\r'éßЖ日本😀\u{301}\u{a0}\u{3000}]{0,300}") {
            prop_assert_eq!(count_text(&text), tiktoken(&text));
        }

        #[test]
        fn counts_any_unicode_as_tiktoken_does(text in "\\PC{0,200}") {
            prop_assert_eq!(count_text(&text), tiktoken(&text));
        }
    }
}
