//! Project automation, run as `cargo xtask <command>`.
//!
//! Layout: `test` (the one command that runs every check and test), `bench` (benchmarks that compare
//! Auren with its peers in the same run), `system` (installing what a fresh Debian/Ubuntu machine lacks),
//! `cmd` (running child processes with their command line echoed).

mod bench;
mod cmd;
mod system;
mod test;

use anyhow::bail;
use std::path::PathBuf;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                  install what the tests need, then run every check and test:
                        fmt check, clippy -D warnings, all tests, fuzz smoke run of the strap parser
  bench hrv             Auren's HRV panel vs NeuroKit2 0.2.13 on the same data, in one run
  bench cep             the embedded CEP engine: events/s and per-event latency with 20 rules
  bench store           the local SQLite store: batched ingest, daily trend over a year of beats
  bench gateway         the LLM gateway's overhead over direct HTTP against a local fake provider
  bench all             all of the above
";

fn main() -> std::process::ExitCode {
    match dispatch() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["test"] => test::run(),
        ["bench", which] => bench::run(which),
        ["help" | "--help" | "-h"] | [] => {
            print!("{USAGE}");
            Ok(())
        }
        _ => bail!("unknown command: {}\n\n{USAGE}", args.join(" ")),
    }
}

/// The workspace root (the parent of this crate's folder), whatever the current directory.
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` when set (a cache outside the clone), else `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
