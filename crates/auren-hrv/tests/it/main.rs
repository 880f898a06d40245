//! Integration tests of auren-hrv (one binary for the crate).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
mod artifact_sweep;
mod artifacts;
mod degenerate;
mod geometric;
mod kubios;
mod kubios_report;
mod metrics;
mod readiness;
mod reference;
mod rolling;
