//! `cargo xtask run`: from a fresh Debian/Ubuntu machine to the desktop app on screen — system packages,
//! Node.js, the UI's npm dependencies and build, then the app itself.

use crate::{cmd, root, system, ui};

pub fn run(extra_args: &[&str]) -> anyhow::Result<()> {
    ui::prepare(&[system::BUILD_PACKAGES, system::APP_PACKAGES])?;
    ui::build()?;
    eprintln!(
        "==> building and starting the desktop app ({PROFILE_NOTE}; the first build takes ~15 min on 2 cores)"
    );
    let mut c = cmd::cargo();
    c.current_dir(root()).args(["run", "--locked", "-p", "auren-app"]);
    c.args(PROFILE_ARGS);
    if !extra_args.is_empty() {
        c.arg("--").args(extra_args);
    }
    cmd::run(&mut c)
}

/// The release build. Measured here (2 cores shared with other builds): a cold release build of the app
/// took 13 min 43 s. The person waits for it once (later runs rebuild only what changed) and then runs the
/// app they would install, with the first paint in about 0.75 s (`cargo xtask bench desktop`); a debug
/// build would save part of that one wait and cost speed at every start and every live session.
const PROFILE_ARGS: &[&str] = &["--release"];
const PROFILE_NOTE: &str = "release build";
