//! Integration tests of auren-store on real SQLite files in a temporary directory (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod athletes;
mod conversations;
mod crash;
mod memory;
mod memory_sync;
mod message_refs;
mod panels;
mod readings;
mod sessions;
mod signals;
mod splitmix64;
mod usage;
mod writer;
