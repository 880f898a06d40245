//! Integration tests of auren-store on real SQLite files in a temporary directory (one test binary).

mod usage;
