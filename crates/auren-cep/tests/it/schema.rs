//! schema tests.
