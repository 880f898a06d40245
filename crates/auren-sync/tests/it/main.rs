//! auren-sync's integration tests: two device databases (real SQLite files) and the real `auren-server` on the
//! real PostgreSQL (127.0.0.1:5432, a fresh database per test).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod coach;
mod converge;
mod cursors;
mod held_back;
mod memories;
mod news;
mod parked;
mod provenance;
mod retry;
mod support;
mod tls;
#[path = "../../../auren-gateway/tests/it/tls_front.rs"]
mod tls_front;
mod trend;
