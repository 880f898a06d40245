//! Where the workspace is, found when xtask runs rather than baked in when it compiles.
//!
//! With a `CARGO_TARGET_DIR` shared between clones, cargo reuses an `xtask` binary built in another clone;
//! a compile-time `env!("CARGO_MANIFEST_DIR")` then points into that clone (or a deleted one). `cargo run`
//! (which `cargo xtask` is) sets `CARGO_MANIFEST_DIR` in the environment for the clone it runs in, so that
//! is read at run time; run directly, xtask looks up from the current directory.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The workspace root: the parent of `manifest_dir` (xtask's folder, from `CARGO_MANIFEST_DIR` at run
/// time) when given, else the nearest folder at or above `cwd` that is the root.
///
/// A root is a folder whose Cargo.toml has a `[workspace]` table and which holds `xtask/` — so the nested
/// `fuzz/` workspace is passed over.
pub fn workspace_root(manifest_dir: Option<&Path>, cwd: &Path) -> anyhow::Result<PathBuf> {
    if let Some(dir) = manifest_dir {
        let parent = dir.parent().unwrap_or(dir);
        if is_workspace_root(parent)? {
            return Ok(parent.to_path_buf());
        }
        bail!(
            "CARGO_MANIFEST_DIR is {}, but {} is not the Auren workspace (no Cargo.toml with [workspace] \
             beside xtask/); run `cargo xtask` inside a clone",
            dir.display(),
            parent.display()
        );
    }
    for folder in cwd.ancestors() {
        if is_workspace_root(folder)? {
            return Ok(folder.to_path_buf());
        }
    }
    bail!(
        "no Auren workspace (a Cargo.toml with [workspace] beside xtask/) at or above {}; run `cargo xtask` \
         inside a clone",
        cwd.display()
    )
}

fn is_workspace_root(folder: &Path) -> anyhow::Result<bool> {
    let manifest = folder.join("Cargo.toml");
    if !manifest.is_file() || !folder.join("xtask").is_dir() {
        return Ok(false);
    }
    let text =
        std::fs::read_to_string(&manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("cannot parse {}", manifest.display()))?;
    Ok(table.contains_key("workspace"))
}

/// The root for this run: `CARGO_MANIFEST_DIR` from the environment, else the current directory.
pub fn from_environment() -> anyhow::Result<PathBuf> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    workspace_root(manifest_dir.as_deref(), &cwd)
}

#[cfg(test)]
mod tests {
    use super::workspace_root;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// Lays out two clones (`one/`, `two/`), each with its nested `fuzz/` workspace, and a stray folder.
    fn layout(base: &Path) {
        for clone in ["one", "two"] {
            let root = base.join(clone);
            fs::create_dir_all(root.join("xtask/src")).unwrap();
            fs::create_dir_all(root.join("crates/auren-hrm/src")).unwrap();
            fs::create_dir_all(root.join("fuzz/fuzz_targets")).unwrap();
            fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"xtask\"]\n").unwrap();
            fs::write(root.join("xtask/Cargo.toml"), "[package]\nname = \"xtask\"\n").unwrap();
            fs::write(root.join("fuzz/Cargo.toml"), "[workspace]\nmembers = [\".\"]\n").unwrap();
        }
        fs::create_dir_all(base.join("stray/xtask")).unwrap();
        fs::write(base.join("stray/Cargo.toml"), "[package]\nname = \"stray\"\n").unwrap();
    }

    /// A case: what it shows, `CARGO_MANIFEST_DIR`, the current directory, and the root or how the error starts.
    type Case = (
        &'static str,
        Option<PathBuf>,
        PathBuf,
        Result<PathBuf, &'static str>,
    );

    #[test]
    fn the_root_comes_from_the_environment_else_from_the_current_directory() {
        let base = tempfile::tempdir().unwrap();
        layout(base.path());
        let at = |p: &str| base.path().join(p);
        let cases: [Case; 7] = [
            (
                "CARGO_MANIFEST_DIR names the clone",
                Some(at("one/xtask")),
                at("stray"),
                Ok(at("one")),
            ),
            (
                "the environment wins over the current directory (a binary shared between clones)",
                Some(at("two/xtask")),
                at("one/crates/auren-hrm/src"),
                Ok(at("two")),
            ),
            (
                "no environment: up from a crate's folder",
                None,
                at("one/crates/auren-hrm/src"),
                Ok(at("one")),
            ),
            (
                "no environment: the nested fuzz workspace is passed over",
                None,
                at("two/fuzz/fuzz_targets"),
                Ok(at("two")),
            ),
            (
                "no environment, at the root itself",
                None,
                at("one"),
                Ok(at("one")),
            ),
            (
                "CARGO_MANIFEST_DIR of a deleted clone",
                Some(at("gone/xtask")),
                at("one"),
                Err("CARGO_MANIFEST_DIR is"),
            ),
            (
                "no environment and no workspace above",
                None,
                at("stray/xtask"),
                Err("no Auren workspace"),
            ),
        ];
        for (case, manifest_dir, cwd, expected) in cases {
            let found = workspace_root(manifest_dir.as_deref(), &cwd);
            match (found, expected) {
                (Ok(found), Ok(expected)) => assert_eq!(found, expected, "{case}"),
                (Err(err), Err(start)) => {
                    assert!(err.to_string().starts_with(start), "{case}: {err}")
                }
                (found, expected) => panic!("{case}: got {found:?}, expected {expected:?}"),
            }
        }
    }
}
