//! The `auren-server` binary as the container runs it: configured by a `--config` file (the keys `auren
//! serve` reads, the environment winning), stopped by SIGTERM (what `docker stop` sends) after the requests
//! in flight, and its `probe` mode — the image's health check — answering 0 while the server is up and 1
//! when nothing listens.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn auren_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auren-server"));
    // Only what each test gives: nothing from the machine's environment.
    for key in auren_server::startup::KEYS {
        command.env_remove(key);
    }
    command
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn probe(listen: &str) -> bool {
    auren_server()
        .args(["probe"])
        .env("AUREN_LISTEN", listen)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_its_config_file_answers_its_probe_and_stops_on_sigterm() {
    let database_url = crate::support::fresh_database().await;
    let port = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    // The file names a listen address the environment then overrides: the environment wins.
    std::fs::write(
        &file,
        format!("AUREN_DATABASE_URL = \"{database_url}\"\nAUREN_LISTEN = \"127.0.0.1:1\"\n"),
    )
    .unwrap();
    assert!(!probe(&format!("127.0.0.1:{port}")), "nothing listens yet");

    let mut child = auren_server()
        .args(["--config", file.to_str().unwrap()])
        .env("AUREN_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // It prints its address once migrated and listening.
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(60), line)
        .await
        .expect("the server starts within a minute")
        .unwrap();
    assert_eq!(
        line.trim(),
        format!("auren-server: listening on http://127.0.0.1:{port}")
    );
    // The probe asks the loopback when the server listens on every address.
    assert!(probe(&format!("127.0.0.1:{port}")));
    assert!(probe(&format!("0.0.0.0:{port}")));

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap());
    let status = tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("SIGTERM stops it")
        .unwrap();
    assert!(status.success(), "a clean stop: {status}");
    assert!(!probe(&format!("127.0.0.1:{port}")));
}

#[test]
fn a_bad_config_file_gets_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "AUREN_DATABSE_URL = \"typo\"\n").unwrap();
    let out = auren_server()
        .args(["--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key \"AUREN_DATABSE_URL\""), "{err}");
    let out = auren_server().args(["--port", "9"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
}
