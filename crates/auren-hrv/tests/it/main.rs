//! Integration tests of auren-hrv (one binary for the crate).
mod artifacts;
mod degenerate;
mod geometric;
mod metrics;
mod readiness;
mod reference;
mod rolling;
