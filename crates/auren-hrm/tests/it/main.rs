//! Integration tests of auren-hrm (one binary for the crate): spec vectors, malformed input, property tests.

mod capture;
mod device;
mod gatt;
mod measurement;
