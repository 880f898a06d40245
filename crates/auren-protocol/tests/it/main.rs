//! Integration tests of auren-protocol: the HLC and LWW merge laws, beat chunks, and the wire shapes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod chunk;
mod merge;
mod wire;
