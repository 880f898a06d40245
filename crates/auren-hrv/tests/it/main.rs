//! Integration tests of auren-hrv (one binary for the crate).
mod artifacts;
mod rolling;
mod readiness;
