//! `cargo xtask run`: from a fresh Debian/Ubuntu machine to the desktop app on screen — system packages,
//! Node.js, the UI's npm dependencies and build, then the app itself.

use crate::{cmd, root, system, ui};

pub fn run(extra_args: &[&str]) -> anyhow::Result<()> {
    system::ensure_packages(&[system::BUILD_PACKAGES, system::APP_PACKAGES].concat())?;
    system::ensure_node()?;
    ui::install_dependencies()?;
    ui::build()?;
    eprintln!(
        "==> building and starting the desktop app ({PROFILE_NOTE}; the first build takes several minutes)"
    );
    let mut c = cmd::cargo();
    c.current_dir(root()).args(["run", "--locked", "-p", "auren-app"]);
    c.args(PROFILE_ARGS);
    if !extra_args.is_empty() {
        c.arg("--").args(extra_args);
    }
    cmd::run(&mut c)
}

/// The release build: measured on this project's 2-core machine, a cold release build costs only a little
/// more than a debug one (most of the time goes to the same dependency crates either way), and the person
/// gets the app they will use: faster start, smoother charts, a tenth of the binary size.
const PROFILE_ARGS: &[&str] = &["--release"];
const PROFILE_NOTE: &str = "release build";
