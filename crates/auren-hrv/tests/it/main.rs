//! Integration tests of auren-hrv (one binary for the crate).
mod artifact_sweep;
mod artifacts;
mod degenerate;
mod geometric;
mod kubios;
mod metrics;
mod readiness;
mod reference;
mod rolling;
