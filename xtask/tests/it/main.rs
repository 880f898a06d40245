//! Integration tests of the xtask binary (one test binary): `tidy` run against small workspaces made in
//! temporary folders, found through `CARGO_MANIFEST_DIR` at run time or from the current directory.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod tidy_command;
