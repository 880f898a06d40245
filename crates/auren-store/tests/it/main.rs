//! Integration tests of auren-store on real SQLite files in a temporary directory (one test binary).

mod crash;
mod readings;
mod sessions;
mod splitmix64;
mod usage;
mod writer;
