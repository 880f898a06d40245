//! Integration tests of the `auren` binary (one binary for the crate).
