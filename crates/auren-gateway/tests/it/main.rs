//! Integration tests of auren-gateway against auren-fake-llm over real loopback HTTP (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod budget;
mod config;
mod reach;
mod resilience;
mod secrets;
mod support;
mod tls;
mod tls_front;
mod wire;
