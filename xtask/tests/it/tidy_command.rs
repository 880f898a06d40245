//! `xtask tidy` on a throwaway workspace: it passes when clean, prints one line per planted violation and
//! exits non-zero, and it works on the workspace named at run time — not the one it was compiled in.

use std::path::Path;
use std::process::{Command, Output};

/// A minimal workspace that keeps every rule: one pure core (auren-hrm) and xtask.
fn clean_workspace(root: &Path) {
    let write = |path: &str, text: &str| {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"crates/*\", \"xtask\"]\n\n\
         [workspace.lints.clippy]\nunwrap_used = \"deny\"\nexpect_used = \"deny\"\n",
    );
    for (folder, name) in [("xtask", "xtask"), ("crates/auren-hrm", "auren-hrm")] {
        write(
            &format!("{folder}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [lints]\nworkspace = true\n"
            ),
        );
    }
    write("xtask/src/main.rs", "//! Automation.\nfn main() {}\n");
    write("crates/auren-hrm/src/lib.rs", "//! Decoding.\n");
    write(
        "ARCHITECTURE.md",
        "# Architecture\n\n## Code map\n\n### `crates/auren-hrm` — the strap protocol\n",
    );
}

/// Runs the built xtask with `args`, in `cwd`, with `CARGO_MANIFEST_DIR` set to `manifest_dir` or unset.
fn xtask(args: &[&str], cwd: &Path, manifest_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .current_dir(cwd)
        .env("CARGO", env!("CARGO"))
        // cargo test sets it to this clone's xtask/ for the test process; each case decides its own.
        .env_remove("CARGO_MANIFEST_DIR");
    if let Some(dir) = manifest_dir {
        command.env("CARGO_MANIFEST_DIR", dir);
    }
    command.output().expect("the xtask binary starts")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn tidy_checks_the_workspace_named_at_run_time() {
    let workspace = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    clean_workspace(workspace.path());
    let root = workspace.path();
    let cases: [(&str, &Path, Option<&Path>); 2] = [
        // What `cargo xtask` does in a clone: the environment names it, wherever the shell is.
        ("CARGO_MANIFEST_DIR", elsewhere.path(), Some(&root.join("xtask"))),
        // The binary run directly from a folder inside the workspace.
        ("current directory", &root.join("crates/auren-hrm"), None),
    ];
    for (how, cwd, manifest_dir) in cases {
        std::fs::write(root.join("crates/auren-hrm/src/lib.rs"), "//! Decoding.\n").unwrap();
        let clean = xtask(&["tidy"], cwd, manifest_dir);
        assert!(
            clean.status.success(),
            "{how}: clean workspace failed: {}{}",
            String::from_utf8_lossy(&clean.stdout),
            String::from_utf8_lossy(&clean.stderr)
        );
        assert_eq!(stdout_lines(&clean), Vec::<String>::new(), "{how}");

        std::fs::write(
            root.join("crates/auren-hrm/src/lib.rs"),
            "use std::time::SystemTime;\n",
        )
        .unwrap();
        let planted = xtask(&["tidy"], cwd, manifest_dir);
        assert!(!planted.status.success(), "{how}: violations must fail");
        assert_eq!(
            stdout_lines(&planted),
            [
                "crates/auren-hrm/src/lib.rs: module-doc: start the file with a `//!` comment saying \
                 what it holds",
                "crates/auren-hrm/src/lib.rs:1: pure-core-io: `SystemTime` in a pure core; take the data \
                 or the time as an argument and do the I/O in auren-engine",
            ],
            "{how}"
        );
        let stderr = String::from_utf8_lossy(&planted.stderr);
        assert!(stderr.contains("xtask: tidy: 2 violations"), "{how}: {stderr}");
    }
}

#[test]
fn a_manifest_dir_of_a_deleted_clone_is_a_clear_error() {
    let gone = tempfile::tempdir().unwrap();
    let manifest_dir = gone.path().join("xtask");
    let output = xtask(&["tidy"], gone.path(), Some(&manifest_dir));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "xtask: CARGO_MANIFEST_DIR is {}, but {} is not the Auren workspace",
            manifest_dir.display(),
            gone.path().display()
        )),
        "{stderr}"
    );
}

#[test]
fn tidy_help_lists_every_rule() {
    let anywhere = tempfile::tempdir().unwrap();
    let output = xtask(&["tidy", "--help"], anywhere.path(), None);
    assert!(output.status.success());
    let rules: Vec<String> = stdout_lines(&output)
        .iter()
        .filter_map(|line| {
            line.strip_prefix("  ")?
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        rules,
        [
            "tauri-deps",
            "btleplug-deps",
            "server-clients",
            "pure-core-deps",
            "pure-core-io",
            "protocol-deps",
            "layers",
            "code-map",
            "module-doc",
            "no-todo",
            "allow-reason",
            "lint-levels",
            "unwrap-in-tests",
        ]
    );
}
