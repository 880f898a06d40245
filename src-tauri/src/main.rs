//! The `auren-app` binary: the desktop app (see the crate's lib.rs).

// No console window behind the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

fn main() -> std::process::ExitCode {
    match auren_app::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("auren: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
