//! The shell's checks that need no window: the committed TypeScript bindings match the commands.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod bindings;
