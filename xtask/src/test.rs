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
    fuzz_smoke()?;
    let tally = cargo_test()?;
    eprintln!("xtask test: every check passed in {:.0?}", started.elapsed());
    // The closing line CI reads: the total over every test binary of the workspace.
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

/// Test counts summed over every `test result:` line cargo prints (one per test binary and doc-test run).
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    passed: u64,
    failed: u64,
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

/// Runs the whole workspace's tests, echoing cargo's output as it comes and tallying the results.
fn cargo_test() -> anyhow::Result<Tally> {
    use std::io::{BufRead, BufReader};
    let mut command = cmd::cargo();
    command
        .current_dir(root())
        .args(["test", "--workspace", "--locked"]);
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
    use super::Tally;

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
