//! auren-desktop's tests: the façade the desktop commands call, over a real SQLite file in a temporary
//! folder, with the simulator as the heart source.

// Test support outside #[test] functions may panic on setup failures too.
#![allow(clippy::unwrap_used)]

mod live;
mod settings;
mod support;
mod workbench;
