//! `cargo xtask bench server`: the sync server with its real services on this machine. `services up`
//! first (PostgreSQL, Redis, the broker), then the load generator (`auren-server`'s `server_load`
//! example, release build), which starts the server in-process on a fresh database and prints the
//! figures next to their goals and the seed's.

use std::process::Command;

use crate::{cmd, root, services, target_dir};

/// The load generator example of auren-server.
const LOAD_EXAMPLE: &str = "server_load";

pub fn run() -> anyhow::Result<()> {
    let services = services::up()?;
    cmd::run(cmd::cargo().current_dir(root()).args([
        "build",
        "--release",
        "--locked",
        "-p",
        "auren-server",
        "--example",
        LOAD_EXAMPLE,
    ]))?;
    let load = target_dir().join("release/examples").join(LOAD_EXAMPLE);
    cmd::run(Command::new(load).current_dir(root()).envs(services))
}
