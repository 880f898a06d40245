//! Stopping a turn from outside, and how much of its answer the person had seen when they did. A window
//! draws streamed text a little behind the turn (a text batch in transit, a frame not yet painted), so by
//! the time its Stop arrives the turn may hold more text than the person saw freeze. The window says how
//! much it drew; the turn keeps exactly that, and what it cut never reaches the stored answer, its claims
//! or the search index.
//!
//! A Stop can also come too late: the turn has made its last check of what was seen and is storing its
//! answer, or its `Done` is on its way to the window. One state behind one lock decides which came first,
//! and a late Stop is refused ([`Stopping::AlreadyFinished`]) so the window draws the answer to its end
//! instead of freezing a text the stored answer does not match.

use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

/// How much of the turn's streamed text the person saw when they stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not known (a terminal's Ctrl+C, the app shutting down): everything that streamed counts as seen.
    AllStreamed,
    /// The first this many characters of the text the turn emitted as [`crate::AgentEvent::Text`] — the
    /// red-flag referral included — counted in Unicode scalar values: Rust's `char`s, a JavaScript
    /// string's code points. Unlike bytes or UTF-16 units, that count cannot end inside a UTF-8 sequence or
    /// a surrogate pair, so the window and the turn cut at the same place. The text kept is what the count
    /// reaches of the model's text of every call — also when the answer became the offline analyst's after
    /// the model streamed some and failed or tripped a guard. When it reaches none of it (only the
    /// referral, or nothing), the offline analyst's answer is stored whole, as for a Stop before the first
    /// word (the cancellation guard's outcome). The turn's [`crate::AgentEvent::Done`] carries the stored
    /// answer in every case, and a window draws it: the text it froze when that was cut, the offline
    /// analyst's answer when none of the answer had been drawn — so what it stores is what was shown.
    Chars(usize),
}

/// Whether a [`TurnStop::stop`] took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopping {
    /// The Stop took effect (now, or an earlier Stop's count stands): the stored answer is the drawn
    /// text, or the whole answer when none of it was cut or none of the answer was drawn; only a cut
    /// answer is stored as stopped.
    Stopped,
    /// The turn had made its last check and is storing, or has stored, its whole answer: nothing stops.
    AlreadyFinished,
}

/// Where a turn stands for a Stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Stopped(Seen),
    Finished,
}

/// What stops a turn: its cancel token and its [`State`]. Clones share both. A plain
/// [`CancellationToken`] converts into one that, when cancelled, has seen everything that streamed.
#[derive(Clone, Debug)]
pub struct TurnStop {
    cancel: CancellationToken,
    state: Arc<Mutex<State>>,
}

impl Default for TurnStop {
    fn default() -> Self {
        Self::new(CancellationToken::new())
    }
}

impl TurnStop {
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            cancel,
            state: Arc::new(Mutex::new(State::Running)),
        }
    }

    /// Stops the turn, the person having seen `seen` — unless it has already finished. The first stop's
    /// count is the one kept: a second Stop cannot change the text the first one froze. The count is set
    /// before the token is cancelled, so the turn that sees the cancellation sees the count.
    pub fn stop(&self, seen: Seen) -> Stopping {
        let mut state = self.lock();
        match *state {
            State::Finished => return Stopping::AlreadyFinished,
            State::Running => *state = State::Stopped(seen),
            State::Stopped(_) => {}
        }
        drop(state);
        self.cancel.cancel();
        Stopping::Stopped
    }

    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The turn's last check: from here on a [`TurnStop::stop`] is refused. Returns what the person had
    /// seen when a Stop came first; `None` when none did (or only its token was cancelled).
    pub(crate) fn finish(&self) -> Option<Seen> {
        let mut state = self.lock();
        match *state {
            State::Stopped(seen) => Some(seen),
            State::Running | State::Finished => {
                *state = State::Finished;
                None
            }
        }
    }

    /// What the person had seen, once stopped through [`TurnStop::stop`]; `None` otherwise (not stopped, or
    /// only its token cancelled).
    pub(crate) fn seen(&self) -> Option<Seen> {
        match *self.lock() {
            State::Stopped(seen) => Some(seen),
            State::Running | State::Finished => None,
        }
    }

    /// The state holds no invariant a panicking holder could break (each change is one assignment).
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<CancellationToken> for TurnStop {
    fn from(cancel: CancellationToken) -> Self {
        Self::new(cancel)
    }
}

/// The part of `emitted` (every text the turn emitted, in order) after its first `lead` bytes (the red-flag
/// referral, always kept) that the person saw: everything for [`Seen::AllStreamed`], else what the count of
/// characters of `emitted` reaches — nothing when it ends inside the lead.
pub(crate) fn seen_part(emitted: &str, lead: usize, seen: Seen) -> &str {
    let drawn = match seen {
        Seen::AllStreamed => emitted,
        Seen::Chars(count) => match emitted.char_indices().nth(count) {
            Some((end, _)) => &emitted[..end],
            None => emitted,
        },
    };
    drawn.get(lead..).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::{Seen, Stopping, TurnStop, seen_part};

    #[test]
    fn the_seen_part_ends_where_the_count_of_characters_does() {
        // (emitted text, bytes of referral at its start, seen, kept after the referral)
        let cases: [(&str, usize, Seen, &str); 10] = [
            ("word0 word1 ", 0, Seen::AllStreamed, "word0 word1 "),
            ("word0 word1 ", 0, Seen::Chars(6), "word0 "),
            ("word0 word1 ", 0, Seen::Chars(0), ""),
            ("word0 word1 ", 0, Seen::Chars(500), "word0 word1 "),
            // One character each, though 4 UTF-8 bytes and 2 UTF-16 units: never split.
            ("a🫀b🫀c", 0, Seen::Chars(2), "a🫀"),
            ("a🫀b🫀c", 0, Seen::Chars(4), "a🫀b🫀"),
            // A combining accent is a character of its own, as it is for the window's count.
            ("e\u{301}t\u{e9}", 0, Seen::Chars(1), "e"),
            // The referral (here 11 characters, 11 bytes) is counted by the window but is not the answer's text.
            ("Call 112.\n\nword0 word1 ", 11, Seen::Chars(17), "word0 "),
            ("Call 112.\n\nword0 word1 ", 11, Seen::Chars(4), ""),
            ("Call 112.\n\nword0 word1 ", 11, Seen::AllStreamed, "word0 word1 "),
        ];
        for (emitted, lead, seen, kept) in cases {
            assert_eq!(
                seen_part(emitted, lead, seen),
                kept,
                "{emitted:?} {lead} {seen:?}"
            );
        }
    }

    /// One step of a turn's life as seen by its [`TurnStop`].
    #[derive(Clone, Copy, Debug)]
    enum Call {
        Stop(Seen),
        /// The turn's last check, and what it must get.
        Finish(Option<Seen>),
    }

    #[test]
    fn a_stop_after_the_last_check_is_refused_and_the_first_stops_count_stands() {
        use Call::{Finish, Stop};
        let (two, five) = (Seen::Chars(2), Seen::Chars(5));
        // (calls in order, what each Stop answers, cancelled at the end)
        let cases: [(&[Call], &[Stopping], bool); 5] = [
            (&[Stop(two), Finish(Some(two))], &[Stopping::Stopped], true),
            (&[Finish(None), Stop(two)], &[Stopping::AlreadyFinished], false),
            (
                &[Stop(two), Stop(five), Finish(Some(two))],
                &[Stopping::Stopped, Stopping::Stopped],
                true,
            ),
            // Stopped before the check, the turn stays stopped: a later Stop is not refused.
            (
                &[Stop(two), Finish(Some(two)), Stop(five)],
                &[Stopping::Stopped, Stopping::Stopped],
                true,
            ),
            (&[Finish(None), Finish(None)], &[], false),
        ];
        for (calls, answers, cancelled) in cases {
            let stop = TurnStop::default();
            let mut got = Vec::new();
            for call in calls {
                match *call {
                    Stop(seen) => got.push(stop.stop(seen)),
                    Finish(seen) => assert_eq!(stop.finish(), seen, "{calls:?}"),
                }
            }
            assert_eq!(got, answers, "{calls:?}");
            assert_eq!(stop.token().is_cancelled(), cancelled, "{calls:?}");
        }
    }
}
