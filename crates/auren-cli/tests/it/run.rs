//! Running the real `auren` binary in a folder of its own for the coach, import and MCP tests: no home
//! directory, keychain or Bluetooth bus of the machine is reached.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
