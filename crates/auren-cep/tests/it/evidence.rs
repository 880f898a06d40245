//! evidence tests.
