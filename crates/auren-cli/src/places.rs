//! Where the CLI keeps its files and how commands get an async runtime: shared by every subcommand.

use anyhow::Context;
use std::path::PathBuf;

fn project_dirs() -> anyhow::Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "auren").context("no home directory to find auren's folders in")
}

/// `--config`, else the platform config directory's gateway.toml.
pub fn config_path(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => Ok(path),
        None => Ok(project_dirs()?.config_dir().join("gateway.toml")),
    }
}

/// `--db`, else the platform data directory's auren.db.
pub fn db_path(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => Ok(path),
        None => Ok(project_dirs()?.data_dir().join("auren.db")),
    }
}

/// The tokio runtime a command runs its async work on: two workers, so the store's writer task and a
/// live session progress side by side on a 2-core machine.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting tokio")
}
