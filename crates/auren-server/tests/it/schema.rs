//! Schema fuzzing: schemathesis (from the tests' Python venv, `AUREN_TEST_PYTHON`) generates requests from
//! /openapi.json — valid, boundary and malformed — with a signed-in device's token, and checks that none is
//! answered with a 5xx.

use crate::support::TestServer;
use std::path::PathBuf;
use std::process::Command;

/// The venv's Python: `AUREN_TEST_PYTHON` (set by `cargo xtask test`), else the venv's usual place.
fn python() -> PathBuf {
    if let Ok(python) = std::env::var("AUREN_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let home = std::env::var("HOME").expect("HOME or AUREN_TEST_PYTHON must be set");
    let fallback = PathBuf::from(home).join(".cache/auren/venv/bin/python");
    assert!(
        fallback.exists(),
        "no Python venv with schemathesis: run `cargo xtask test` (it builds the venv) or set AUREN_TEST_PYTHON"
    );
    fallback
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error() {
    let server = TestServer::start().await;
    let device = server.account("fuzz@example.com").await;
    let schemathesis = python().with_file_name("schemathesis");
    let base = server.base.clone();
    let token = device.tokens.access_token.clone();
    // schemathesis keeps its example database in the working directory: a scratch one, not the crate.
    let scratch = tempfile::tempdir().unwrap();
    let cwd = scratch.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .current_dir(cwd)
            .args([
                "run",
                &format!("{base}/openapi.json"),
                "--checks",
                "not_a_server_error",
            ])
            .args([
                "--max-examples",
                "30",
                "--seed",
                "20261203",
                "--max-response-time",
                "30",
            ])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .output()
    })
    .await
    .unwrap()
    .expect("schemathesis must run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("passed"), "{stdout}");
}
