//! Installing what a fresh Debian/Ubuntu machine lacks: Debian packages (through sudo when not root) and
//! cargo-installed tools.

use crate::cmd;
use anyhow::bail;
use std::process::Command;

/// Debian packages the workspace needs: libdbus for keyring and btleplug, dbus-daemon for the fake-BlueZ
/// tests of the BLE strap, pkg-config to find them.
pub const BUILD_PACKAGES: &[&str] = &["pkg-config", "libdbus-1-dev", "libssl-dev", "dbus"];

/// Installs the Debian packages of `packages` that are not installed yet.
pub fn ensure_packages(packages: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !package_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !cmd::exists("apt-get") {
        bail!(
            "missing system packages {} and no apt-get to install them: install them by hand",
            missing.join(" ")
        );
    }
    let as_root = is_root();
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let mut c = if as_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !as_root {
            c.arg("apt-get");
        }
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd::run(&mut c)
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing);
    apt(&install)
}

fn package_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs a cargo tool (`cargo install --locked`) unless its binary is already on PATH.
pub fn ensure_cargo_tool(binary: &str, krate: &str, version: &str) -> anyhow::Result<()> {
    if cmd::exists(binary) {
        return Ok(());
    }
    cmd::run(cmd::cargo().args(["install", "--locked", krate, "--version", version]))
}
