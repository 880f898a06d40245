//! Integration tests of the `auren` binary (one binary for the crate): each runs the real executable.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod analyze;
mod chat;
mod coach;
mod history;
mod import;
mod llm;
mod mcp;
mod mornings;
mod run;
mod sessions;
mod sync;
mod tags;
