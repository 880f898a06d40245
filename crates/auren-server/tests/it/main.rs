//! auren-server's integration tests, on the real services: PostgreSQL (a fresh database per test), Redis,
//! and the broker (a private one per test, started from the binary `cargo xtask services up` caches).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod api;
mod batches;
mod broker;
mod change_types;
mod consumer_shards;
mod deploy;
mod erasure;
mod faults;
mod isolation;
mod kafka;
mod late_write;
mod layout;
mod long_poll;
mod pull_versions;
mod readyz;
mod redis;
mod revocation;
mod rules;
mod schema;
mod support;
mod token_cache;
mod trend;
