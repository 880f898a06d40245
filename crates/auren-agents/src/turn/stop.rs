//! Stopping a turn from outside, and how much of its answer the person had seen when they did. A window
//! draws streamed text a little behind the turn (a text batch in transit, a frame not yet painted), so by
//! the time its Stop arrives the turn may hold more text than the person saw freeze. The window says how
//! much it drew; the turn keeps exactly that, and what it cut never reaches the stored answer, its claims
//! or the search index.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// How much of the turn's streamed text the person saw when they stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not known (a terminal's Ctrl+C, the app shutting down): everything that streamed counts as seen.
    AllStreamed,
    /// The first this many characters of the text the turn emitted as [`crate::AgentEvent::Text`] — the
    /// red-flag referral included — counted in Unicode scalar values: Rust's `char`s, a JavaScript
    /// string's code points. Unlike bytes or UTF-16 units, that count cannot end inside a UTF-8 sequence or
    /// a surrogate pair, so the window and the turn cut at the same place.
    Chars(usize),
}

/// What stops a turn: its cancel token and what the person had seen when it was cancelled. Clones share
/// both. A plain [`CancellationToken`] converts into one that has seen everything that streamed.
#[derive(Clone, Debug, Default)]
pub struct TurnStop {
    cancel: CancellationToken,
    seen: Arc<OnceLock<Seen>>,
}

impl TurnStop {
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            cancel,
            seen: Arc::default(),
        }
    }

    /// Stops the turn, the person having seen `seen`. The first stop's count is the one kept: a second
    /// Stop cannot change the text the first one froze. The count is set before the token is cancelled, so
    /// the turn that sees the cancellation sees the count.
    pub fn stop(&self, seen: Seen) {
        let _ = self.seen.set(seen);
        self.cancel.cancel();
    }

    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// What the person had seen, once stopped through [`TurnStop::stop`]; `None` otherwise (not stopped, or
    /// only its token cancelled).
    pub(crate) fn seen(&self) -> Option<Seen> {
        self.seen.get().copied()
    }
}

impl From<CancellationToken> for TurnStop {
    fn from(cancel: CancellationToken) -> Self {
        Self::new(cancel)
    }
}

/// The part of `streamed` (the model's text, emitted after `lead` characters of other text — the red-flag
/// referral) the person saw: everything for [`Seen::AllStreamed`], else the characters the count reaches.
pub(crate) fn seen_part(streamed: &str, lead: usize, seen: Seen) -> &str {
    match seen {
        Seen::AllStreamed => streamed,
        Seen::Chars(count) => match streamed.char_indices().nth(count.saturating_sub(lead)) {
            Some((end, _)) => &streamed[..end],
            None => streamed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Seen, seen_part};

    #[test]
    fn the_seen_part_ends_where_the_count_of_characters_does() {
        // (streamed model text, characters emitted before it, seen, kept)
        let cases: [(&str, usize, Seen, &str); 9] = [
            ("word0 word1 ", 0, Seen::AllStreamed, "word0 word1 "),
            ("word0 word1 ", 0, Seen::Chars(6), "word0 "),
            ("word0 word1 ", 0, Seen::Chars(0), ""),
            ("word0 word1 ", 0, Seen::Chars(500), "word0 word1 "),
            // One character each, though 4 UTF-8 bytes and 2 UTF-16 units: never split.
            ("a🫀b🫀c", 0, Seen::Chars(2), "a🫀"),
            ("a🫀b🫀c", 0, Seen::Chars(4), "a🫀b🫀"),
            // A combining accent is a character of its own, as it is for the window's count.
            ("e\u{301}t\u{e9}", 0, Seen::Chars(1), "e"),
            // The referral (here 10 characters) is counted by the window but is not the model's text.
            ("word0 word1 ", 10, Seen::Chars(16), "word0 "),
            ("word0 word1 ", 10, Seen::Chars(4), ""),
        ];
        for (streamed, lead, seen, kept) in cases {
            assert_eq!(
                seen_part(streamed, lead, seen),
                kept,
                "{streamed:?} {lead} {seen:?}"
            );
        }
    }
}
