//! The shell's checks that need no window: the committed TypeScript bindings match the commands.

mod bindings;
