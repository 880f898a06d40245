//! What the tidy rules look at, as plain data: the workspace's packages and their declared dependencies
//! (from `cargo metadata`), every `.rs` file with its text, ARCHITECTURE.md and the root manifest's clippy
//! lint levels. The rules are pure functions over this, so tests plant violations in memory.

use anyhow::Context;
use std::path::Path;

/// Everything the rules check, with paths relative to the workspace root and `/`-separated.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub packages: Vec<Package>,
    pub files: Vec<SourceFile>,
    /// The text of ARCHITECTURE.md (empty when the file is missing, which the code-map rule then reports).
    pub architecture: String,
    /// `[workspace.lints.clippy]` of the root Cargo.toml: lint name and level (`"deny"`, `"warn"`, …).
    pub clippy_lints: Vec<(String, String)>,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// Its Cargo.toml, relative to the root: `crates/auren-hrv/Cargo.toml`.
    pub manifest: String,
    pub dependencies: Vec<Dependency>,
    /// Whether the manifest says `[lints] workspace = true` (else the workspace's lint levels do not apply).
    pub inherits_workspace_lints: bool,
}

/// A dependency as the package declares it (by package name, whatever it is renamed to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub kind: DependencyKind,
    /// The features the declaration enables (workspace-inherited ones included, as cargo metadata lists them).
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    Normal,
    Dev,
    Build,
}

/// A Rust source file: its path relative to the root and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

impl Package {
    /// The folder holding the manifest, relative to the root (`crates/auren-hrv`; empty for the root).
    pub fn folder(&self) -> &str {
        self.manifest
            .strip_suffix("Cargo.toml")
            .unwrap_or(&self.manifest)
            .trim_end_matches('/')
    }
}

/// The workspace members of `cargo metadata --format-version 1` output, with their declared dependencies.
///
/// `read_manifest` returns the text of a member's Cargo.toml (given its absolute path), so that
/// `inherits_workspace_lints` can be read: cargo metadata does not report the `[lints]` table.
pub fn packages_from_metadata(
    json: &str,
    root: &Path,
    read_manifest: impl Fn(&Path) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<Package>> {
    let metadata: serde_json::Value =
        serde_json::from_str(json).context("cargo metadata printed invalid JSON")?;
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .context("cargo metadata has no workspace_members")?
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let all = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    let mut packages = Vec::new();
    for package in all {
        if !package["id"].as_str().is_some_and(|id| members.contains(&id)) {
            continue;
        }
        let name = text(&package["name"], "a package name")?;
        let manifest_path = Path::new(text(&package["manifest_path"], "a manifest_path")?);
        let manifest_text = read_manifest(manifest_path)?;
        packages.push(Package {
            name: name.to_owned(),
            manifest: relative(manifest_path, root),
            dependencies: dependencies(&package["dependencies"])
                .with_context(|| format!("the dependencies of {name} in cargo metadata"))?,
            inherits_workspace_lints: inherits_workspace_lints(&manifest_text)
                .with_context(|| format!("cannot parse {}", manifest_path.display()))?,
        });
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(packages)
}

fn dependencies(list: &serde_json::Value) -> anyhow::Result<Vec<Dependency>> {
    let list = list.as_array().context("dependencies is not a list")?;
    list.iter()
        .map(|dep| {
            let kind = match dep["kind"].as_str() {
                None => DependencyKind::Normal,
                Some("dev") => DependencyKind::Dev,
                Some("build") => DependencyKind::Build,
                Some(other) => anyhow::bail!("unknown dependency kind {other:?}"),
            };
            let features = dep["features"]
                .as_array()
                .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            Ok(Dependency {
                name: text(&dep["name"], "a dependency name")?.to_owned(),
                kind,
                features,
            })
        })
        .collect()
}

fn text<'a>(value: &'a serde_json::Value, what: &str) -> anyhow::Result<&'a str> {
    value
        .as_str()
        .with_context(|| format!("cargo metadata lacks {what}"))
}

/// Whether a member's Cargo.toml has `[lints] workspace = true`.
pub fn inherits_workspace_lints(manifest: &str) -> anyhow::Result<bool> {
    let table: toml::Table = manifest.parse()?;
    Ok(table
        .get("lints")
        .and_then(|lints| lints.get("workspace"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false))
}

/// The `[workspace.lints.clippy]` levels of the root Cargo.toml (`lint = "deny"` or
/// `lint = { level = "deny", priority = … }`), sorted by lint name.
pub fn clippy_lints(root_manifest: &str) -> anyhow::Result<Vec<(String, String)>> {
    let table: toml::Table = root_manifest.parse()?;
    let Some(clippy) = table
        .get("workspace")
        .and_then(|w| w.get("lints"))
        .and_then(|l| l.get("clippy"))
        .and_then(toml::Value::as_table)
    else {
        return Ok(Vec::new());
    };
    Ok(clippy
        .iter()
        .filter_map(|(lint, value)| {
            let level = value
                .as_str()
                .or_else(|| value.get("level").and_then(toml::Value::as_str))?;
            Some((lint.clone(), level.to_owned()))
        })
        .collect())
}

/// `path` relative to `root`, `/`-separated (unchanged when it is not under `root`).
pub fn relative(path: &Path, root: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Folders never scanned for sources: build output, npm packages, and hidden folders (`.git`, `.cargo`).
fn skipped(name: &str) -> bool {
    name == "target" || name == "node_modules" || name.starts_with('.')
}

/// Every `.rs` file under `root` (outside the skipped folders), sorted by path.
pub fn source_files(root: &Path) -> anyhow::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries =
            std::fs::read_dir(&folder).with_context(|| format!("cannot list {}", folder.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", folder.display()))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot stat {}", path.display()))?;
            if kind.is_dir() && !skipped(&name) {
                folders.push(path);
            } else if kind.is_file() && name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                files.push(SourceFile {
                    path: relative(&path, root),
                    text,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
