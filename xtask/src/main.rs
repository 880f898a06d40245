//! Project automation, run as `cargo xtask <command>`.
//!
//! Layout: `test` (the one command that runs every check and test), `run` (the desktop app from a fresh
//! machine), `bench` (benchmarks that compare Auren with its peers in the same run; `bench_desktop` for the
//! app's start, memory, frame rate and package size), `system` (installing what a fresh Debian/Ubuntu
//! machine lacks), `ui` (the npm side), `headless` (a virtual display, D-Bus session and keyring for the
//! window tests), `cmd` (running child processes with their command line echoed), `tidy` (the invariants a
//! machine checks), `location` (finding the workspace at run time), `symbol_order` (the order the linker
//! lays out the app's functions in), `image` (the server's container image built and its deployment tests
//! run on it).

mod bench;
mod bench_agents;
mod bench_desktop;
mod bench_server;
mod cmd;
mod headless;
mod image;
mod llm_server;
mod location;
mod pyenv;
mod run;
mod services;
mod symbol_order;
mod system;
mod test;
mod tidy;
mod ui;

use anyhow::bail;
use std::path::PathBuf;
use std::sync::OnceLock;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [-- ARGS]         install what the desktop app needs (system packages, Node.js, the UI's npm
                        dependencies), build the UI, then build and start the app (release build)
  test                  install what the tests need, then run every check and test: the UI's vitest
                        tests and build, fmt check, tidy, clippy -D warnings, all workspace tests, fuzz
                        smoke run of the strap parser, and the desktop end-to-end tests under Xvfb
                        (closing line: `tests: N passed, N failed`)
  tidy                  the invariants a machine checks (dependency layers, pure cores, //! docs, no
                        todo/dbg, lint attributes with reasons, unwrap denied outside tests): one line
                        per violation; `cargo xtask tidy --help` lists the rules
  e2e                   only the desktop end-to-end tests (tests/e2e) under Xvfb, with what they need;
                        screenshots of failed steps in <target>/e2e-screenshots, logs in e2e-logs
  bench hrv             Auren's HRV panel vs NeuroKit2 0.2.13 on the same data, in one run
  bench cep             the embedded CEP engine: events/s and per-event latency with 20 rules
  bench store           the local SQLite store: batched ingest, daily trend over a year of beats
  bench gateway         the LLM gateway's overhead over direct HTTP against a local fake provider
  bench engine          the live loop's latency from a strap notification to the UI update (p50, p99)
  bench agents          the AI coach: each tool over a year of data, recall over 100k memories,
                        grounding a 2,000-token answer, the turn loop's overhead (goals shown alongside)
  bench desktop         the desktop app: cold start to first paint, memory with a live session, frame
                        rate with an hour of beats on screen, .deb/.rpm size (goals shown alongside)
  bench server          the sync server on PostgreSQL, Redis and the broker: ingest beats/s with push p99,
                        10,000 long-polling devices, pull requests/s, relay lag p99, bytes per stored beat
  bench all             all of the above
  symbol-order          regenerate src-tauri/symbol-order.txt, the order the linker lays out the app's
                        functions in (a driven session under valgrind's callgrind, minutes); run it after
                        a toolchain or dependency update
  image [--stand-in-bases]
                        build the sync server's image (deploy/Dockerfile) with a Docker engine, then run
                        the server's deployment tests on it as a container against `services up`;
                        --stand-in-bases builds it on bases made of Debian's packages and this machine's
                        Rust toolchain, for a machine that cannot reach Docker Hub
  services up|down      start PostgreSQL, Redis and the Kafka-compatible broker (tansu, built once into
                        ~/.cache/auren/broker) where nothing answers yet; `up` prints export AUREN_… lines;
                        `down` stops what `up` started and leaves what was already running
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
    if matches!(args.as_slice(), ["help" | "--help" | "-h"] | []) {
        print!("{USAGE}");
        return Ok(());
    }
    if let ["tidy", "help" | "--help" | "-h"] = args.as_slice() {
        print!("{}", tidy::help());
        return Ok(());
    }
    // Every command below works in the workspace, so it is found (or its absence reported) first.
    let found = location::from_environment()?;
    ROOT.get_or_init(|| found);
    match args.as_slice() {
        ["test"] => test::run(),
        ["tidy"] => tidy::run(),
        ["e2e"] => test::end_to_end_only(),
        ["run"] => run::run(&[]),
        ["run", "--", rest @ ..] => run::run(rest),
        ["bench", "desktop"] => bench_desktop::run(),
        ["bench", "server"] => bench_server::run(),
        ["services", rest @ ..] => services::run(rest),
        ["image", rest @ ..] => image::run(rest),
        ["symbol-order"] => symbol_order::run(),
        ["bench", which] => bench::run(which),
        // Internal: `bench desktop` re-runs xtask under the virtual display to time the app's starts.
        [bench_desktop::COLD_START_COMMAND, app, runs] => bench_desktop::cold_start_inside(app, runs),
        _ => bail!("unknown command: {}\n\n{USAGE}", args.join(" ")),
    }
}

/// The workspace root, found once at start by [`location::from_environment`].
static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The workspace root (the parent of xtask's folder at run time), whatever the current directory.
fn root() -> PathBuf {
    // `dispatch` sets it before any command runs; the empty path (the current directory) is unreachable.
    ROOT.get().cloned().unwrap_or_default()
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` when set (a cache outside the clone), else `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
