//! Running the real `auren` binary in a folder of its own for the coach, import and MCP tests: no home
//! directory, keychain or Bluetooth bus of the machine is reached.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A variable `cargo xtask test` sets for the tests that need what it starts (the model server, the venv).
/// Unset under CI (`CI` set, as every CI service does), the test fails: a harness that lost it must not turn
/// into a green run. Unset elsewhere (a plain `cargo test`), the skip is written straight to stderr — past
/// the test harness's capture, so it shows even though the test passes — and `None` is returned.
pub fn harness_var(var: &str, what: &str) -> Option<OsString> {
    if let Some(value) = std::env::var_os(var) {
        return Some(value);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(
        !ci,
        "{var} is not set under CI: run the tests with `cargo xtask test`, which sets it ({what})"
    );
    let note = format!("\nSKIPPED {what}: {var} is not set (`cargo xtask test` sets it)\n");
    let _ = std::io::stderr().write_all(note.as_bytes());
    None
}

/// `auren args…` with every user folder inside `dir`.
pub fn auren(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).output().expect("the auren binary runs")
}

/// The command `auren` runs as, for tests that need its stdio.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auren"));
    command
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!("unix:path={}", dir.join("no-bus").display()),
        );
    command
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The output of a command that must succeed.
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// A failed command: non-zero exit and one line on stderr containing every one of `expected`.
pub fn fails_with(out: Output, expected: &[&str]) -> String {
    assert!(!out.status.success(), "succeeded: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for word in expected {
        assert!(err.contains(word), "{err:?} does not say {word:?}");
    }
    err
}

/// A database path inside `dir`, as a string for the command line.
pub fn db(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("auren.db");
    let text = path.display().to_string();
    (path, text)
}

/// The JSON printed on stdout.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}
