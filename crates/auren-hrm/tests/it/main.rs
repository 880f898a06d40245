//! Integration tests of auren-hrm (one binary for the crate).
