//! `cargo xtask test`: installs what the tests need, then runs every check and test of the project:
//! the UI's (vitest, then its build, which the app embeds), fmt, tidy, clippy, the fuzz smoke run, the
//! workspace's tests, and the desktop end-to-end tests on a virtual display.

use crate::headless::{self, Headless};
use crate::{cmd, root, system, target_dir, ui};
use std::time::Duration;

/// The strap-protocol fuzz targets (in `fuzz/`) and how long each smoke run lasts.
const FUZZ_TARGETS: &[&str] = &["decode_heart_rate_measurement", "parse_capture"];
const FUZZ_SECONDS: u32 = 20;

/// The end-to-end run (two app launches, a 10-minute simulated session at speed 30) takes about two
/// minutes; past this something hangs.
const E2E_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Free space below which a run is refused up front: a cold build of the workspace, the fuzz and the e2e
/// trees take several GB, and a full disk otherwise shows up as a linker crash deep in the log.
const MIN_FREE_BYTES: u64 = 8 << 30;

pub fn run() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    ensure_free_space()?;
    // The UI first: the app embeds ui/dist when it compiles, so clippy and the tests need the build.
    ui::prepare(&[
        system::BUILD_PACKAGES,
        system::APP_PACKAGES,
        system::HEADLESS_PACKAGES,
        system::DEPLOY_CHECK_PACKAGES,
    ])?;
    let mut tally = ui::test()?;
    ui::build()?;
    cmd::run(cmd::cargo().current_dir(root()).args(["fmt", "--all", "--check"]))?;
    // Before clippy: the invariants are cheap to check and name what to fix in one line each.
    eprintln!("==> tidy");
    crate::tidy::run()?;
    cmd::run(cmd::cargo().current_dir(root()).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    fuzz_smoke()?;
    tally += cargo_test()?;
    tally += end_to_end()?;
    eprintln!("xtask test: every check passed in {:.0?}", started.elapsed());
    // The closing line CI reads: the total over every test binary of the workspace.
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

/// Test counts summed over every `test result:` line cargo prints (one per test binary and doc-test run).
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

impl Tally {
    /// Adds the counts of one `test result: ok. 12 passed; 0 failed; …` line; other lines change nothing.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        let count = |word: &str| {
            rest.split(';')
                .filter_map(|part| part.trim().rsplit_once(' '))
                .find(|(_, name)| *name == word)
                .and_then(|(n, _)| n.rsplit(' ').next()?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        self.passed += count("passed");
        self.failed += count("failed");
    }
}

/// Refuses to start when the disk holding the build tree has less than [`MIN_FREE_BYTES`] free.
fn ensure_free_space() -> anyhow::Result<()> {
    let target = target_dir();
    let probe = if target.exists() { target } else { root() };
    let listing = cmd::output(std::process::Command::new("df").args(["-Pk"]).arg(&probe))?;
    let Some(free) = df_available_bytes(&listing) else {
        eprintln!(
            "warning: could not read the free space of {} from df",
            probe.display()
        );
        return Ok(());
    };
    if free < MIN_FREE_BYTES {
        anyhow::bail!(
            "only {:.1} GB free on the disk of {}; the tests' build trees need at least {} GB — free some space \
             (an old target/ folder, ~/.cache/auren) and run again",
            free as f64 / f64::from(1u32 << 30),
            probe.display(),
            MIN_FREE_BYTES >> 30
        );
    }
    Ok(())
}

/// The "Available" column (KiB) of `df -Pk`'s one data line, in bytes.
fn df_available_bytes(listing: &str) -> Option<u64> {
    let line = listing.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs the whole workspace's tests, echoing cargo's output as it comes and tallying the results.
fn cargo_test() -> anyhow::Result<Tally> {
    use std::io::{BufRead, BufReader};
    // The real model server (SmolLM2 on llama.cpp) and the venv's Python (the official MCP client) for
    // the CLI's end-to-end tests; the server stops when `_model_server` drops, after the tests.
    let python = crate::pyenv::ensure()?;
    let _model_server = crate::llm_server::start(&python)?;
    // PostgreSQL, Redis and the broker for the sync server's tests (which fail, not skip, when these
    // variables are set and a service does not answer).
    let services = crate::services::up()?;
    let mut command = cmd::cargo();
    command
        .current_dir(root())
        .envs(services)
        .args(["test", "--workspace", "--locked"])
        .env(crate::llm_server::URL_VAR, &_model_server.url)
        .env(crate::llm_server::PYTHON_VAR, &python.python)
        .env(system::COMPOSE_VAR, system::COMPOSE_PROGRAM);
    eprintln!("$ cargo test --workspace --locked");
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start cargo test: {e}"))?;
    let mut tally = Tally::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| anyhow::anyhow!("cannot read cargo test's output: {e}"))?;
            println!("{line}");
            tally.add_line(&line);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        anyhow::bail!(
            "cargo test failed ({status}): {} passed, {} failed",
            tally.passed,
            tally.failed
        );
    }
    if tally.passed == 0 {
        anyhow::bail!("cargo test ran no test");
    }
    Ok(tally)
}

/// `cargo xtask e2e`: only the desktop end-to-end tests, with what they need (packages, the UI build).
pub fn end_to_end_only() -> anyhow::Result<()> {
    ui::prepare(&[
        system::BUILD_PACKAGES,
        system::APP_PACKAGES,
        system::HEADLESS_PACKAGES,
    ])?;
    ui::build()?;
    let tally = end_to_end()?;
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

/// The desktop end-to-end tests (`tests/e2e`): tauri-driver, a debug build of the app, then the tests on
/// a virtual display with a D-Bus session and an unlocked keyring, in a process group killed on timeout.
fn end_to_end() -> anyhow::Result<Tally> {
    eprintln!("==> desktop end-to-end tests");
    system::ensure_tauri_driver()?;
    cmd::run(
        cmd::cargo()
            .current_dir(root())
            .args(["build", "--locked", "-p", "auren-app"]),
    )?;
    // The Sync pane's journey signs in to a real server (built on its own: together with the app, cargo
    // would unify their features and rebuild shared dependencies).
    cmd::run(cmd::cargo().current_dir(root()).args([
        "build",
        "--locked",
        "-p",
        "auren-server",
        "--bin",
        "auren-server",
    ]))?;
    // Compiled outside the timed run, so the timeout measures the tests.
    let test_args = ["test", "--locked", "-p", "auren-e2e", "--test", "it"];
    cmd::run(cmd::cargo().current_dir(root()).args(test_args).arg("--no-run"))?;
    let headless = Headless::new()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = headless.command(cargo, test_args);
    command
        .current_dir(root())
        .env("AUREN_E2E", "1")
        .env("PATH", path_with_cargo_bin());
    let mut tally = Tally::default();
    let status = headless::run_streaming(&mut command, E2E_TIMEOUT, |line| {
        println!("{line}");
        tally.add_line(line);
    })?;
    if !status.success() {
        anyhow::bail!(
            "end-to-end tests failed ({status}): {} passed, {} failed; screenshots in {}",
            tally.passed,
            tally.failed,
            target_dir().join("e2e-screenshots").display()
        );
    }
    if tally.passed == 0 {
        anyhow::bail!("the end-to-end run reported no test");
    }
    Ok(tally)
}

/// PATH with cargo's bin folder appended, where `cargo install` put tauri-driver.
pub fn path_with_cargo_bin() -> std::ffi::OsString {
    let mut paths: Vec<std::path::PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    paths.push(system::cargo_bin());
    std::env::join_paths(paths).unwrap_or_default()
}

/// A short libFuzzer run of each strap-protocol target: any crash fails the test command.
///
/// cargo-fuzz needs nightly-only compiler flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them,
/// and `--sanitizer none` avoids AddressSanitizer, which needs a nightly standard library.
fn fuzz_smoke() -> anyhow::Result<()> {
    system::ensure_cargo_tool("cargo-fuzz", "cargo-fuzz", "0.13.2")?;
    let fuzz_target_dir = target_dir().join("fuzz");
    for target in FUZZ_TARGETS {
        let mut c = cmd::cargo();
        c.current_dir(root().join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "--sanitizer", "none", "--target-dir"])
            .arg(&fuzz_target_dir)
            .arg(target)
            .arg("--")
            .arg(format!("-max_total_time={FUZZ_SECONDS}"));
        cmd::run(&mut c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Tally, df_available_bytes};

    #[test]
    fn df_available_column_is_read_in_bytes() {
        let cases = [
            (
                "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 263174148 18874368 76546048 20% /\n",
                Some(76_546_048 * 1024),
            ),
            (
                "Filesystem 1024-blocks Used Available Capacity Mounted on\n",
                None,
            ),
            ("", None),
            ("header\n/dev/vda 1 2 lots 3% /\n", None),
        ];
        for (listing, want) in cases {
            assert_eq!(df_available_bytes(listing), want, "{listing:?}");
        }
    }

    #[test]
    fn tally_sums_result_lines_and_ignores_the_rest() {
        let mut t = Tally::default();
        for line in [
            "running 3 tests",
            "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.70s",
            "test a::b ... ok",
            "test result: FAILED. 7 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 3.33s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ] {
            t.add_line(line);
        }
        assert_eq!(
            t,
            Tally {
                passed: 19,
                failed: 3
            }
        );
    }
}
