//! Installing what a fresh Debian/Ubuntu machine lacks: Debian packages (through sudo when not root),
//! Node.js, and cargo-installed tools.

use crate::cmd;
use anyhow::bail;
use std::process::Command;

/// Debian packages the workspace needs: libdbus for keyring and btleplug, dbus-daemon for the fake-BlueZ
/// tests of the BLE strap, pkg-config to find them; cmake and libcurl's headers for rdkafka's bundled
/// librdkafka (its sources include curl.h even with curl off) and for llama-cpp-python's build.
pub const BUILD_PACKAGES: &[&str] = &[
    "pkg-config",
    "libdbus-1-dev",
    "libssl-dev",
    "dbus",
    "cmake",
    "libcurl4-openssl-dev",
];

/// What the desktop app needs to build and run (Tauri v2 on Linux): WebKitGTK 4.1, the tray's appindicator,
/// SVG icons, OpenSSL, libxdo for the menu accelerators, D-Bus.
pub const APP_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libssl-dev",
    "libxdo-dev",
    "libdbus-1-dev",
    "pkg-config",
];

/// What the end-to-end tests and the desktop benchmark run on: a virtual display (Xvfb, xauth for
/// xvfb-run), WebKitWebDriver, a D-Bus session with an unlocked Secret Service (gnome-keyring), and CA
/// certificates for the WebDriver client's TLS set-up.
pub const HEADLESS_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "gnome-keyring",
    "dbus",
    "ca-certificates",
];

/// What the deployment test checks `deploy/docker-compose.yml` with: Compose itself (v1.29, Debian's; its
/// `config` validates the file and resolves it without a Docker daemon). Its path reaches the tests as
/// [`COMPOSE_VAR`].
pub const DEPLOY_CHECK_PACKAGES: &[&str] = &["docker-compose"];

/// The variable naming Compose's program to the server's deployment test.
pub const COMPOSE_VAR: &str = "AUREN_TEST_COMPOSE";

/// Where Debian's docker-compose package puts its program.
pub const COMPOSE_PROGRAM: &str = "/usr/bin/docker-compose";

/// Installs the Debian packages of `packages` that are not installed yet.
pub fn ensure_packages(packages: &[&str]) -> anyhow::Result<()> {
    let mut wanted = packages.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let missing: Vec<&str> = wanted.iter().copied().filter(|p| !package_installed(p)).collect();
    if missing.is_empty() {
        eprintln!("==> system packages: all {} present", wanted.len());
        return Ok(());
    }
    eprintln!("==> installing system packages: {}", missing.join(" "));
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

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Node.js and npm from the distribution when `npm` is missing, then shows the versions in use.
pub fn ensure_node() -> anyhow::Result<()> {
    if !cmd::exists("npm") {
        eprintln!("==> npm is missing: installing Node.js and npm from the distribution");
        ensure_packages(&["nodejs", "npm"])?;
    }
    let node = cmd::output(Command::new("node").arg("--version"))?;
    let npm = cmd::output(Command::new("npm").arg("--version"))?;
    eprintln!("    node {}, npm {}", node.trim(), npm.trim());
    // Vite 8 and vitest 4 need Node 20.19 or later; older distributions ship Node 18.
    let major: Option<u32> = node
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    if major.is_some_and(|m| m < 20) {
        eprintln!(
            "warning: Node.js {} is older than the 20.19 the UI's Vite needs; install a newer Node.js \
             (e.g. from nodesource.com) if the UI build fails",
            node.trim()
        );
    }
    Ok(())
}

/// Installs tauri-driver 2 (the WebDriver front of the end-to-end tests) into cargo's bin folder unless
/// it runs. 2.1.0 has no `--version`, so `--help` is the probe.
pub fn ensure_tauri_driver() -> anyhow::Result<()> {
    let runs = |program: &std::path::Path| {
        Command::new(program)
            .arg("--help")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if runs(std::path::Path::new("tauri-driver")) || runs(&cargo_bin().join("tauri-driver")) {
        return Ok(());
    }
    eprintln!("==> installing tauri-driver (a few minutes the first time)");
    cmd::run(cmd::cargo().args(["install", "tauri-driver", "--locked", "--version", "^2"]))
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, by default `~/.cargo/bin`.
pub fn cargo_bin() -> std::path::PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin")
}

/// Installs a cargo tool (`cargo install --locked`) unless its binary is already on PATH.
pub fn ensure_cargo_tool(binary: &str, krate: &str, version: &str) -> anyhow::Result<()> {
    if cmd::exists(binary) {
        return Ok(());
    }
    cmd::run(cmd::cargo().args(["install", "--locked", krate, "--version", version]))
}
