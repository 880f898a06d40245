//! The rig of the desktop end-to-end tests and benchmarks: the real `auren-app` window driven over
//! WebDriver (tauri-driver in front of WebKitWebDriver), with everything it started killed on drop and a
//! screenshot kept for every failed step.
//!
//! The tests themselves are in `tests/it` and run only with `AUREN_E2E=1` under a display
//! (`cargo xtask test` provides Xvfb, a D-Bus session and an unlocked keyring); the benchmark driver
//! `auren-desktop-bench` is run by `cargo xtask bench desktop`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

pub mod fixtures;
pub mod paced_llm;
pub mod png_header;
pub mod procs;
mod rig;
pub mod sync_server;

pub use rig::{DEFAULT_WAIT, Rig, testid};

use std::path::{Path, PathBuf};

/// The environment variable that turns the end-to-end tests on.
pub const ENABLE_VAR: &str = "AUREN_E2E";

/// Whether the end-to-end tests should run (`AUREN_E2E=1`).
pub fn enabled() -> bool {
    std::env::var(ENABLE_VAR).as_deref() == Ok("1")
}

/// Cargo's target directory: the nearest ancestor of this executable holding cargo's `CACHEDIR.TAG`,
/// so it is right whether or not `CARGO_TARGET_DIR` is set and whichever profile built us.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// The app binary under test: `AUREN_E2E_APP` when set, else the debug build in the target directory.
pub fn app_under_test() -> PathBuf {
    std::env::var_os("AUREN_E2E_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/auren-app"))
}

/// Where failed steps leave their screenshots: `<target>/e2e-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("e2e-screenshots")
}

/// Where the rig writes tauri-driver's output (which includes WebKitWebDriver's and the app's).
pub fn log_dir() -> PathBuf {
    target_dir().join("e2e-logs")
}

/// A fresh data and export folder for one test's app, removed afterwards (screenshots live elsewhere).
pub struct AppFolders {
    root: tempfile::TempDir,
    pub data: std::path::PathBuf,
    pub export: std::path::PathBuf,
}

impl AppFolders {
    pub fn new() -> anyhow::Result<AppFolders> {
        let root = tempfile::Builder::new().prefix("auren-e2e-").tempdir()?;
        let data = root.path().join("data");
        let export = root.path().join("export");
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&export)?;
        Ok(AppFolders { root, data, export })
    }

    /// The folder holding both; XDG folders of a benchmark run may go here too.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The environment the app reads them from.
    pub fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("AUREN_DATA_DIR", self.data.clone().into_os_string()),
            ("AUREN_EXPORT_DIR", self.export.clone().into_os_string()),
        ]
    }
}

/// The first number in `text` (digits with an optional sign and decimal point), e.g. "72 bpm" → 72.
pub fn first_number(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let start = if start > 0 && text[..start].ends_with('-') {
        start - 1
    } else {
        start
    };
    let len = text[start..]
        .char_indices()
        .skip(1)
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map_or(text.len() - start, |(i, _)| i);
    text[start..start + len].trim_end_matches('.').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::first_number;

    #[test]
    fn first_number_reads_the_leading_figure_of_a_label() {
        let cases = [
            ("72", Some(72.0)),
            ("72 bpm", Some(72.0)),
            ("RMSSD 41.5 ms", Some(41.5)),
            ("Session 12 saved.", Some(12.0)),
            ("-0.25", Some(-0.25)),
            ("a-b 3", Some(3.0)),
            ("—", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(first_number(text), want, "{text:?}");
        }
    }
}
