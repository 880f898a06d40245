//! `cargo xtask tidy`: the invariants a machine checks, modelled on rust-analyzer's `xtask/src/tidy.rs`.
//!
//! `model` reads the workspace (cargo metadata, the `.rs` files, ARCHITECTURE.md, the root manifest's lint
//! levels) into plain data; `rules` checks it with pure functions. This file joins them: one line per
//! violation on stdout (`path: rule: what to do`), and an error with the count.

mod model;
mod rules;

#[cfg(test)]
mod tests;

use crate::{cmd, root};
use anyhow::Context;
use std::path::Path;

pub use rules::Rule;

/// The `--help` text: what each rule enforces.
pub fn help() -> String {
    let mut text = String::from(
        "usage: cargo xtask tidy\n\nChecks the workspace's invariants and prints one line per violation \
         (`path: rule: what to do`);\nexits non-zero with the count. Rules:\n",
    );
    for rule in Rule::ALL {
        text.push_str(&format!("  {:<16}{}\n", rule.name(), rule.summary()));
    }
    text
}

pub fn run() -> anyhow::Result<()> {
    let root = root();
    let workspace = read_workspace(&root)?;
    let violations = rules::check(&workspace);
    for violation in &violations {
        println!("{violation}");
    }
    anyhow::ensure!(
        violations.is_empty(),
        "tidy: {} violation{} (`cargo xtask tidy --help` lists the rules)",
        violations.len(),
        if violations.len() == 1 { "" } else { "s" }
    );
    eprintln!(
        "tidy: {} rules hold over {} packages and {} source files",
        Rule::ALL.len(),
        workspace.packages.len(),
        workspace.files.len()
    );
    Ok(())
}

/// Reads what the rules look at from the workspace at `root`.
fn read_workspace(root: &Path) -> anyhow::Result<model::Workspace> {
    let metadata = cmd::output(
        cmd::cargo()
            .current_dir(root)
            .args(["metadata", "--format-version", "1"]),
    )?;
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let packages = model::packages_from_metadata(&metadata, root, read)?;
    let root_manifest = read(&root.join("Cargo.toml"))?;
    let clippy_lints = model::clippy_lints(&root_manifest).context("cannot parse Cargo.toml")?;
    // A missing ARCHITECTURE.md is reported by the code-map rule rather than stopping the check.
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    Ok(model::Workspace {
        packages,
        files: model::source_files(root)?,
        architecture,
        clippy_lints,
    })
}
