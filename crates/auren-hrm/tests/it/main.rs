//! Integration tests of auren-hrm (one binary for the crate): spec vectors, malformed input, property tests.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod capture;
mod device;
mod gatt;
mod measurement;
