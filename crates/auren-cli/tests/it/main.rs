//! Integration tests of the `auren` binary (one binary for the crate): each runs the real executable.

mod analyze;
mod chat;
mod sessions;
