//! The invariants `cargo xtask tidy` enforces, as pure functions from a [`Workspace`] to [`Violation`]s.
//!
//! Each rule names the crates it is about, including ones still to come (auren-agents, auren-protocol,
//! auren-sync, auren-server), so a new crate is checked from its first commit.

use super::model::{Dependency, DependencyKind, Package, SourceFile, Workspace};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// One rule of the tidy check. `name` is what a violation line shows; `summary` is the help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    TauriDeps,
    BtleplugDeps,
    ServerClients,
    PureCoreDeps,
    PureCoreIo,
    ProtocolDeps,
    Layers,
    CodeMap,
    ModuleDoc,
    NoTodo,
    AllowReason,
    LintLevels,
    UnwrapInTests,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::TauriDeps,
        Rule::BtleplugDeps,
        Rule::ServerClients,
        Rule::PureCoreDeps,
        Rule::PureCoreIo,
        Rule::ProtocolDeps,
        Rule::Layers,
        Rule::CodeMap,
        Rule::ModuleDoc,
        Rule::NoTodo,
        Rule::AllowReason,
        Rule::LintLevels,
        Rule::UnwrapInTests,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::TauriDeps => "tauri-deps",
            Rule::BtleplugDeps => "btleplug-deps",
            Rule::ServerClients => "server-clients",
            Rule::PureCoreDeps => "pure-core-deps",
            Rule::PureCoreIo => "pure-core-io",
            Rule::ProtocolDeps => "protocol-deps",
            Rule::Layers => "layers",
            Rule::CodeMap => "code-map",
            Rule::ModuleDoc => "module-doc",
            Rule::NoTodo => "no-todo",
            Rule::AllowReason => "allow-reason",
            Rule::LintLevels => "lint-levels",
            Rule::UnwrapInTests => "unwrap-in-tests",
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Rule::TauriDeps => "only src-tauri (auren-app) depends on tauri or a tauri-* crate",
            Rule::BtleplugDeps => "only auren-strap depends on btleplug",
            Rule::ServerClients => {
                "only auren-server depends on Kafka, Redis or Postgres clients (rdkafka, redis, fred, \
                 deadpool-redis, bb8-redis, tokio-postgres, postgres, deadpool-postgres, sqlx with \
                 its postgres feature)"
            }
            Rule::PureCoreDeps => {
                "auren-hrm, auren-hrv and auren-cep have normal and build dependencies only from an \
                 allow-list (hrm: thiserror; hrv: realfft, thiserror; cep: serde, thiserror, toml; \
                 each may use the other pure cores); dev-dependencies are free"
            }
            Rule::PureCoreIo => {
                "the pure cores' src/ names no std::fs, std::net, std::thread, std::env, tokio, \
                 SystemTime or Instant::now (no I/O, no clock: the caller passes time)"
            }
            Rule::ProtocolDeps => "auren-protocol (the wire types) depends on serde only",
            Rule::Layers => {
                "nothing at or below auren-store (auren-clock, -hrm, -hrv, -cep, -strap, -store) \
                 reaches auren-gateway or auren-agents through normal dependencies; auren-gateway \
                 does not reach auren-agents; auren-store does not reach auren-hrv"
            }
            Rule::CodeMap => "every crate under crates/ is named in ARCHITECTURE.md's code map",
            Rule::ModuleDoc => "every .rs file starts with a //! comment",
            Rule::NoTodo => "no todo, unimplemented or dbg macro outside comments",
            Rule::AllowReason => {
                "every allow or expect lint attribute carries reason = \"...\" (prefer expect, which \
                 fails once the lint no longer fires)"
            }
            Rule::LintLevels => {
                "the root Cargo.toml denies clippy::unwrap_used and clippy::expect_used, and every \
                 member inherits the workspace lints ([lints] workspace = true)"
            }
            Rule::UnwrapInTests => {
                "clippy::unwrap_used / expect_used are allowed only in test code (tests/, benches/, \
                 examples/, fuzz/, tests/e2e, test-support binaries)"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One broken invariant: where (a file, and a line when it is about one), which rule, what to do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub path: String,
    pub line: Option<usize>,
    pub rule: Rule,
    pub fix: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}: {}", self.path, self.rule, self.fix),
            None => write!(f, "{}: {}: {}", self.path, self.rule, self.fix),
        }
    }
}

/// Every violation in `workspace`, sorted by file and line.
pub fn check(workspace: &Workspace) -> Vec<Violation> {
    let mut found = Vec::new();
    owned_dependencies(workspace, &mut found);
    allow_lists(workspace, &mut found);
    layers(workspace, &mut found);
    code_map(workspace, &mut found);
    lint_levels(workspace, &mut found);
    for file in &workspace.files {
        module_doc(file, &mut found);
        placeholder_macros(file, &mut found);
        attributes_rules(file, &mut found);
        pure_core_io(file, &mut found);
    }
    found.sort();
    found
}

fn violation(path: &str, line: Option<usize>, rule: Rule, fix: String) -> Violation {
    Violation {
        path: path.to_owned(),
        line,
        rule,
        fix,
    }
}

// --- dependency rules -------------------------------------------------------------------------------

/// Crates only one package may depend on (any kind of dependency).
struct OwnedDependency {
    rule: Rule,
    owner: &'static str,
    /// Whether a declared dependency is one of the guarded crates.
    guarded: fn(&Dependency) -> bool,
    /// What the offender should do instead.
    instead: &'static str,
}

/// The Kafka, Redis and Postgres clients only the sync server may use (plus sqlx with `postgres`).
const SERVER_CLIENTS: &[&str] = &[
    "rdkafka",
    "redis",
    "fred",
    "deadpool-redis",
    "bb8-redis",
    "tokio-postgres",
    "postgres",
    "deadpool-postgres",
];

const OWNED: &[OwnedDependency] = &[
    OwnedDependency {
        rule: Rule::TauriDeps,
        owner: "auren-app",
        guarded: |d| d.name == "tauri" || d.name.starts_with("tauri-"),
        instead: "only src-tauri (auren-app) may; keep Tauri in the shell and call a Tauri-free façade",
    },
    OwnedDependency {
        rule: Rule::BtleplugDeps,
        owner: "auren-strap",
        guarded: |d| d.name == "btleplug",
        instead: "only auren-strap may; reach the strap through auren_strap's HeartSource",
    },
    OwnedDependency {
        rule: Rule::ServerClients,
        owner: "auren-server",
        // Tests may drive a real server (the sync client's convergence tests create their databases).
        guarded: |d| {
            d.kind != DependencyKind::Dev
                && (SERVER_CLIENTS.contains(&d.name.as_str())
                    || (d.name == "sqlx" && d.features.iter().any(|f| f == "postgres")))
        },
        instead: "only auren-server may use Kafka, Redis or Postgres clients; go through the sync protocol",
    },
];

fn shown(dep: &Dependency) -> String {
    if dep.name == "sqlx" && dep.features.iter().any(|f| f == "postgres") {
        "sqlx with its postgres feature".to_owned()
    } else {
        dep.name.clone()
    }
}

fn owned_dependencies(workspace: &Workspace, found: &mut Vec<Violation>) {
    for owned in OWNED {
        for package in workspace.packages.iter().filter(|p| p.name != owned.owner) {
            for dep in package.dependencies.iter().filter(|d| (owned.guarded)(d)) {
                let fix = format!("{} depends on {}; {}", package.name, shown(dep), owned.instead);
                found.push(violation(&package.manifest, None, owned.rule, fix));
            }
        }
    }
}

/// Packages whose normal and build dependencies must come from a list.
struct AllowList {
    rule: Rule,
    package: &'static str,
    allowed: &'static [&'static str],
    instead: &'static str,
}

/// The pure cores may always use each other.
const PURE_CORES: &[&str] = &["auren-hrm", "auren-hrv", "auren-cep"];

const PURE_CORE_INSTEAD: &str = "do the I/O, async or clock work in auren-engine and pass the result in";

const ALLOW_LISTS: &[AllowList] = &[
    AllowList {
        rule: Rule::PureCoreDeps,
        package: "auren-hrm",
        allowed: &["thiserror"],
        instead: PURE_CORE_INSTEAD,
    },
    AllowList {
        rule: Rule::PureCoreDeps,
        package: "auren-hrv",
        allowed: &["realfft", "thiserror"],
        instead: PURE_CORE_INSTEAD,
    },
    AllowList {
        rule: Rule::PureCoreDeps,
        package: "auren-cep",
        allowed: &["serde", "thiserror", "toml"],
        instead: PURE_CORE_INSTEAD,
    },
    AllowList {
        rule: Rule::ProtocolDeps,
        package: "auren-protocol",
        // serde_json only for the free-form JSON values some records carry (alert evidence, settings).
        allowed: &["serde", "serde_json"],
        instead: "the wire types shared by desktop and server are plain serde types",
    },
];

fn allow_lists(workspace: &Workspace, found: &mut Vec<Violation>) {
    for list in ALLOW_LISTS {
        let Some(package) = workspace.packages.iter().find(|p| p.name == list.package) else {
            continue;
        };
        let pure = list.rule == Rule::PureCoreDeps;
        let allowed = |name: &str| list.allowed.contains(&name) || (pure && PURE_CORES.contains(&name));
        for dep in &package.dependencies {
            if dep.kind != DependencyKind::Dev && !allowed(&dep.name) {
                let mut names: Vec<&str> = list.allowed.to_vec();
                if pure {
                    names.extend(PURE_CORES.iter().filter(|n| **n != list.package));
                }
                let fix = format!(
                    "{} depends on {}; it may depend only on {} — {}",
                    package.name,
                    dep.name,
                    names.join(", "),
                    list.instead
                );
                found.push(violation(&package.manifest, None, list.rule, fix));
            }
        }
    }
}

/// A package and the packages it must not reach through normal dependencies, with why.
struct Layer {
    package: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const AI_CRATES: &[&str] = &["auren-gateway", "auren-agents"];
const BELOW_AI: &str = "nothing at or below auren-store depends on the gateway or the agents \
                        (they adapt to it, not it to them)";

const LAYERS: &[Layer] = &[
    Layer {
        package: "auren-clock",
        forbidden: AI_CRATES,
        why: BELOW_AI,
    },
    Layer {
        package: "auren-hrm",
        forbidden: AI_CRATES,
        why: BELOW_AI,
    },
    Layer {
        package: "auren-hrv",
        forbidden: AI_CRATES,
        why: BELOW_AI,
    },
    Layer {
        package: "auren-cep",
        forbidden: AI_CRATES,
        why: BELOW_AI,
    },
    Layer {
        package: "auren-strap",
        forbidden: AI_CRATES,
        why: BELOW_AI,
    },
    Layer {
        package: "auren-store",
        forbidden: AI_CRATES,
        why: BELOW_AI,
    },
    Layer {
        package: "auren-store",
        forbidden: &["auren-hrv"],
        why: "the store keeps series, the engine computes",
    },
    Layer {
        package: "auren-gateway",
        forbidden: &["auren-agents"],
        why: "the gateway knows nothing of the agents",
    },
];

fn layers(workspace: &Workspace, found: &mut Vec<Violation>) {
    let by_name: BTreeMap<&str, &Package> = workspace.packages.iter().map(|p| (p.name.as_str(), p)).collect();
    for layer in LAYERS {
        let Some(package) = by_name.get(layer.package) else {
            continue;
        };
        for forbidden in layer.forbidden {
            if let Some(chain) = normal_path(&by_name, layer.package, forbidden) {
                let fix = format!(
                    "{} depends on {forbidden} ({}); {} — remove the dependency",
                    layer.package,
                    chain.join(" → "),
                    layer.why
                );
                found.push(violation(&package.manifest, None, Rule::Layers, fix));
            }
        }
    }
}

/// The shortest chain of normal dependencies among workspace packages from `from` to `to`, if any.
fn normal_path<'a>(
    by_name: &BTreeMap<&'a str, &'a Package>,
    from: &'a str,
    to: &str,
) -> Option<Vec<&'a str>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        let Some(package) = by_name.get(at) else {
            continue;
        };
        for dep in package
            .dependencies
            .iter()
            .filter(|d| d.kind == DependencyKind::Normal)
        {
            let Some((&next, _)) = by_name.get_key_value(dep.name.as_str()) else {
                continue;
            };
            if next == from || came_from.contains_key(next) {
                continue;
            }
            came_from.insert(next, at);
            if next == to {
                let mut chain = vec![next];
                let mut step = next;
                while let Some(&before) = came_from.get(step) {
                    chain.push(before);
                    step = before;
                }
                chain.reverse();
                return Some(chain);
            }
            queue.push_back(next);
        }
    }
    None
}

// --- documentation and lint levels ---------------------------------------------------------------

fn code_map(workspace: &Workspace, found: &mut Vec<Violation>) {
    let text = &workspace.architecture;
    let section = text
        .find("## Code map")
        .map(|start| {
            let rest = &text[start..];
            let end = rest.find("\n## ").unwrap_or(rest.len());
            &rest[..end]
        })
        .unwrap_or("");
    for package in &workspace.packages {
        let folder = package.folder();
        let under_crates = folder
            .strip_prefix("crates/")
            .is_some_and(|rest| !rest.contains('/'));
        if under_crates && !section.contains(&format!("`{folder}`")) {
            let fix = format!(
                "{folder} ({}) is not in the code map; add a `### \\`{folder}\\`` section saying what \
                 it holds",
                package.name
            );
            found.push(violation("ARCHITECTURE.md", None, Rule::CodeMap, fix));
        }
    }
}

/// Clippy lints the root manifest must deny (tests are exempt through clippy.toml's `allow-*-in-tests`).
const DENIED_LINTS: &[&str] = &["unwrap_used", "expect_used"];

fn lint_levels(workspace: &Workspace, found: &mut Vec<Violation>) {
    for lint in DENIED_LINTS {
        let level = workspace
            .clippy_lints
            .iter()
            .find(|(name, _)| name == lint)
            .map(|(_, level)| level.as_str());
        if !matches!(level, Some("deny" | "forbid")) {
            let fix = format!(
                "[workspace.lints.clippy] {lint} is {}; set it to \"deny\" (tests are exempt through \
                 clippy.toml)",
                level.map_or("not set".to_owned(), |l| format!("\"{l}\""))
            );
            found.push(violation("Cargo.toml", None, Rule::LintLevels, fix));
        }
    }
    for package in workspace.packages.iter().filter(|p| !p.inherits_workspace_lints) {
        let fix = format!(
            "{} does not inherit the workspace lints; add `[lints] workspace = true`",
            package.name
        );
        found.push(violation(&package.manifest, None, Rule::LintLevels, fix));
    }
}

// --- source rules --------------------------------------------------------------------------------

fn module_doc(file: &SourceFile, found: &mut Vec<Violation>) {
    if !file.text.trim_start_matches('\u{feff}').starts_with("//!") {
        let fix = "start the file with a `//!` comment saying what it holds".to_owned();
        found.push(violation(&file.path, None, Rule::ModuleDoc, fix));
    }
}

/// Lines that are code, with their 1-based numbers: comment lines (`//`, `///`, `//!`) are skipped, so
/// documentation may name what the rules forbid.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `needle` occurs in `line` not preceded by an identifier character.
fn contains_word(line: &str, needle: &str) -> bool {
    line.match_indices(needle)
        .any(|(at, _)| !line[..at].chars().next_back().is_some_and(is_identifier_char))
}

/// Whether `line` invokes the macro `name`: `name!` not inside a longer identifier, followed by an opening
/// delimiter (so a message naming `todo!` in backquotes is not an invocation).
fn invokes(line: &str, name: &str) -> bool {
    let needle = format!("{name}!");
    line.match_indices(&needle).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + needle.len()..].trim_start().chars().next();
        !before.is_some_and(is_identifier_char) && matches!(after, Some('(' | '[' | '{'))
    })
}

fn placeholder_macros(file: &SourceFile, found: &mut Vec<Violation>) {
    for (number, line) in code_lines(&file.text) {
        for (name, fix) in [
            ("todo", "finish the code or return an error"),
            ("unimplemented", "finish the code or return an error"),
            ("dbg", "remove it (tracing for diagnostics that stay)"),
        ] {
            if invokes(line, name) {
                let fix = format!("`{name}!` left in; {fix}");
                found.push(violation(&file.path, Some(number), Rule::NoTodo, fix));
            }
        }
    }
}

/// The pure cores' source folders, and what their code must not name.
const PURE_CORE_SOURCES: &[&str] = &[
    "crates/auren-hrm/src/",
    "crates/auren-hrv/src/",
    "crates/auren-cep/src/",
];
const IMPURE: &[&str] = &[
    "std::fs",
    "std::net",
    "std::thread",
    "std::env",
    "tokio",
    "SystemTime",
    "Instant::now",
];

fn pure_core_io(file: &SourceFile, found: &mut Vec<Violation>) {
    if !PURE_CORE_SOURCES.iter().any(|p| file.path.starts_with(p)) {
        return;
    }
    for (number, line) in code_lines(&file.text) {
        for name in IMPURE.iter().filter(|n| contains_word(line, n)) {
            let fix = format!(
                "`{name}` in a pure core; take the data or the time as an argument and do the I/O in \
                 auren-engine"
            );
            found.push(violation(&file.path, Some(number), Rule::PureCoreIo, fix));
        }
    }
}

/// A lint attribute found in source: `#[allow(...)]`, `#![expect(...)]`, ….
#[derive(Debug, PartialEq, Eq)]
struct LintAttribute {
    line: usize,
    /// `allow` or `expect`.
    level: &'static str,
    /// What is inside the parentheses, whitespace collapsed: `dead_code, reason = "…"`.
    arguments: String,
}

/// Every `#[allow(`/`#![allow(`/`#[expect(`/`#![expect(` attribute outside comment lines, however many
/// lines its arguments span.
fn lint_attributes(text: &str) -> Vec<LintAttribute> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        if line.trim_start().starts_with("//") {
            continue;
        }
        for level in ["allow", "expect"] {
            for opener in [format!("#[{level}("), format!("#![{level}(")] {
                for (at, _) in line.match_indices(&opener) {
                    let open = start + at + opener.len();
                    found.push(LintAttribute {
                        line: number + 1,
                        level,
                        arguments: balanced(&text[open..]),
                    });
                }
            }
        }
    }
    found
}

/// The text up to the parenthesis that closes an already opened one, whitespace collapsed.
fn balanced(rest: &str) -> String {
    let mut depth = 1usize;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Binaries that exist only for tests (outside tests/): a crash test's child process.
const TEST_SUPPORT_FILES: &[&str] = &["crates/auren-store/src/bin/auren-store-recorder.rs"];

/// Test code: integration tests, benches, examples, the fuzz targets, the e2e rig, test-support bins.
fn is_test_code(path: &str) -> bool {
    path.starts_with("fuzz/")
        || TEST_SUPPORT_FILES.contains(&path)
        || path
            .split('/')
            .any(|part| matches!(part, "tests" | "benches" | "examples"))
}

fn attributes_rules(file: &SourceFile, found: &mut Vec<Violation>) {
    for attribute in lint_attributes(&file.text) {
        let lints = attribute
            .arguments
            .split(',')
            .map(str::trim)
            .filter(|a| !a.starts_with("reason"))
            .collect::<Vec<_>>()
            .join(", ");
        if !attribute.arguments.contains("reason") {
            let fix = match attribute.level {
                "allow" => {
                    format!("`allow({lints})` without a reason; write `#[expect({lints}, reason = \"…\")]`")
                }
                _ => format!("`expect({lints})` without a reason; add `reason = \"…\"`"),
            };
            found.push(violation(
                &file.path,
                Some(attribute.line),
                Rule::AllowReason,
                fix,
            ));
        }
        let unwrap_lints = ["clippy::unwrap_used", "clippy::expect_used"];
        if !is_test_code(&file.path) {
            for lint in unwrap_lints.iter().filter(|l| attribute.arguments.contains(*l)) {
                let fix = format!(
                    "`{}({lint})` outside tests; return an error instead (code under tests/, \
                     benches/, examples/ may unwrap)",
                    attribute.level
                );
                found.push(violation(
                    &file.path,
                    Some(attribute.line),
                    Rule::UnwrapInTests,
                    fix,
                ));
            }
        }
    }
}
