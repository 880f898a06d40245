//! `cargo xtask bench server`: the sync server with its real services on this machine. `services up`
//! first (PostgreSQL, Redis, the cached broker binary) and Debian's wrk (the second load generator of the
//! pulls), then the load generator (`auren-server`'s `server_load` example, release build), which starts
//! the server in a child process on a fresh database and a private broker and prints the figures next to
//! their goals and the seed's; then `consumer_load`, the server's CEP consumer alone through a backlog on a
//! private broker, for a recorded heart and the synthetic one.

use std::process::Command;

use crate::{cmd, root, services, system, target_dir};

/// The load generator example of auren-server.
const LOAD_EXAMPLE: &str = "server_load";
/// The CEP consumer's own bench (auren-server's example).
const CONSUMER_EXAMPLE: &str = "consumer_load";

pub fn run() -> anyhow::Result<()> {
    let services = services::up()?;
    system::ensure_packages(&["wrk"])?;
    cmd::run(cmd::cargo().current_dir(root()).args([
        "build",
        "--release",
        "--locked",
        "-p",
        "auren-server",
        "--example",
        LOAD_EXAMPLE,
        "--example",
        CONSUMER_EXAMPLE,
    ]))?;
    let examples = target_dir().join("release/examples");
    let parts = std::env::var("AUREN_BENCH_SERVER_PARTS").unwrap_or_else(|_| "load,consumer".to_owned());
    for part in parts.split(',') {
        let example = match part.trim() {
            "load" => LOAD_EXAMPLE,
            "consumer" => CONSUMER_EXAMPLE,
            other => anyhow::bail!("AUREN_BENCH_SERVER_PARTS: {other:?} is not load or consumer"),
        };
        cmd::run(
            Command::new(examples.join(example))
                .current_dir(root())
                .envs(services.clone()),
        )?;
    }
    Ok(())
}
