//! `cargo xtask test`: installs what the tests need, then runs every check and test of the project.

use crate::{cmd, root, system, target_dir};

/// The strap-protocol fuzz targets (in `fuzz/`) and how long each smoke run lasts.
const FUZZ_TARGETS: &[&str] = &["decode_heart_rate_measurement", "parse_capture"];
const FUZZ_SECONDS: u32 = 20;

pub fn run() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    system::ensure_packages(system::BUILD_PACKAGES)?;
    cmd::run(cmd::cargo().current_dir(root()).args(["fmt", "--all", "--check"]))?;
    cmd::run(cmd::cargo().current_dir(root()).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    cmd::run(
        cmd::cargo()
            .current_dir(root())
            .args(["test", "--workspace", "--locked"]),
    )?;
    fuzz_smoke()?;
    eprintln!("xtask test: every check passed in {:.0?}", started.elapsed());
    Ok(())
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
