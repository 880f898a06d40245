//! The web UI in `ui/` (Vite): installing its npm dependencies when they are missing or stale, its vitest
//! tests (counted into the tally), and the production build Tauri embeds at compile time.

use crate::test::Tally;
use crate::{cmd, root};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn ui_dir() -> PathBuf {
    root().join("ui")
}

fn npm(dir: &Path) -> Command {
    let mut c = Command::new("npm");
    c.current_dir(dir);
    c
}

/// What every desktop command needs first: the given groups of system packages, Node.js, and the UI's npm
/// dependencies.
pub fn prepare(packages: &[&[&str]]) -> anyhow::Result<()> {
    crate::system::ensure_packages(&packages.concat())?;
    crate::system::ensure_node()?;
    install_dependencies()
}

/// `npm install` when `node_modules` is missing or older than `package-lock.json`; otherwise nothing.
///
/// Not `npm ci`: it refuses a lock file that lacks an optional dependency, and the Tauri CLI's prebuilt
/// binaries for other platforms (optional dependencies of `@tauri-apps/cli`) are not on every registry
/// mirror — on this machine's they are 404, so the lock file cannot list them and `npm ci` failed in a fresh
/// clone. `npm install` installs exactly the locked versions, skips the missing optional ones, and leaves
/// the lock file unchanged.
pub fn install_dependencies() -> anyhow::Result<()> {
    let ui = ui_dir();
    anyhow::ensure!(
        ui.join("package.json").is_file(),
        "{} has no package.json: the UI is missing",
        ui.display()
    );
    let lock = ui.join("package-lock.json");
    // npm rewrites node_modules/.package-lock.json on every install, so its age is the install's age.
    let installed =
        modified(&ui.join("node_modules/.package-lock.json")).or_else(|| modified(&ui.join("node_modules")));
    let stale = match (installed, modified(&lock)) {
        (None, _) => true,
        (Some(at), Some(lock_at)) => at < lock_at,
        (Some(_), None) => false,
    };
    if !stale {
        eprintln!("==> UI dependencies: up to date (ui/node_modules is newer than package-lock.json)");
        return Ok(());
    }
    eprintln!("==> installing the UI's npm dependencies (npm install)");
    cmd::run(npm(&ui).args(["install", "--no-audit", "--no-fund"]))
}

/// `npm run build`: writes `ui/dist`, which the app embeds when it compiles.
pub fn build() -> anyhow::Result<()> {
    eprintln!("==> building the UI (npm run build -> ui/dist)");
    cmd::run(npm(&ui_dir()).args(["run", "build"]))
}

/// `npm test` (vitest, one run, no watch), with its counts read from vitest's JSON report.
pub fn test() -> anyhow::Result<Tally> {
    eprintln!("==> UI tests (npm test: vitest)");
    let report_dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let report = report_dir.path().join("vitest.json");
    let mut command = npm(&ui_dir());
    command
        .args(["test", "--", "--reporter=default", "--reporter=json"])
        .arg(format!("--outputFile.json={}", report.display()))
        // vitest watches for changes unless it believes it runs in CI.
        .env("CI", "1");
    let ran = cmd::run(&mut command);
    let tally = std::fs::read_to_string(&report)
        .ok()
        .and_then(|json| parse_vitest_report(&json));
    match (ran, tally) {
        (Ok(()), Some(tally)) if tally.failed == 0 => Ok(tally),
        (Ok(()), None) => anyhow::bail!("npm test passed but wrote no readable vitest report"),
        (_, Some(tally)) => anyhow::bail!(
            "UI tests failed: {} passed, {} failed",
            tally.passed,
            tally.failed
        ),
        (Err(e), None) => Err(e),
    }
}

/// The passed and failed counts of a vitest JSON report (`numPassedTests`, `numFailedTests`).
pub fn parse_vitest_report(json: &str) -> Option<Tally> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some(Tally {
        passed: v["numPassedTests"].as_u64()?,
        failed: v["numFailedTests"].as_u64()?,
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vitest_reports_give_passed_and_failed() {
        let cases = [
            (
                r#"{"numTotalTests":12,"numPassedTests":11,"numFailedTests":1,"numPendingTests":0,"success":false}"#,
                Some((11, 1)),
            ),
            (r#"{"numPassedTests":3,"numFailedTests":0}"#, Some((3, 0))),
            (r#"{"numPassedTests":3}"#, None),
            ("not json", None),
        ];
        for (json, want) in cases {
            assert_eq!(
                parse_vitest_report(json).map(|t| (t.passed, t.failed)),
                want,
                "{json}"
            );
        }
    }
}
