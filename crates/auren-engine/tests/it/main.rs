//! Integration tests of auren-engine (one binary): live sessions over the simulator and replays,
//! recordings read and imported, morning readiness and the queries, on a real SQLite store in a temporary folder.

// Helpers unwrap as the tests do (clippy's test allowance covers only `#[test]` bodies): a panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod import;
mod morning;
mod panels;
mod pipeline;
mod recording;
mod session;
mod support;
