//! language tests.
