//! auren-desktop's tests: the façade the desktop commands call, over a real SQLite file in a temporary
//! folder, with the simulator as the heart source.

#![expect(
    clippy::unwrap_used,
    reason = "test support outside #[test] functions panics on setup failures too: that is the report"
)]

mod ai_settings;
mod annotations;
mod athletes;
mod chat_local;
mod chat_memory_link;
mod chat_meter;
mod chat_status;
mod chat_stop;
mod chat_usage;
mod history;
mod live;
mod memory;
mod proactive;
mod rules_sync;
mod settings;
mod settings_sync;
mod support;
mod sync;
mod wire;
mod workbench;
