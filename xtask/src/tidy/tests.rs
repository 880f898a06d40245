//! Tests of the tidy rules over an in-memory workspace: the clean model passes, and one planted violation
//! per rule yields exactly its one line. The forbidden macros and attributes are spelled with `format!`
//! here, so that this file does not trip the check it tests.

use super::model::{
    self, Dependency, DependencyKind, Package, SourceFile, Workspace, clippy_lints, inherits_workspace_lints,
};
use super::rules::{Rule, check};
use std::path::Path;

fn dep(name: &str, kind: DependencyKind) -> Dependency {
    Dependency {
        name: name.to_owned(),
        kind,
        features: Vec::new(),
    }
}

fn package(name: &str, folder: &str, deps: &[&str]) -> Package {
    Package {
        name: name.to_owned(),
        manifest: format!("{folder}/Cargo.toml"),
        dependencies: deps.iter().map(|d| dep(d, DependencyKind::Normal)).collect(),
        inherits_workspace_lints: true,
    }
}

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    }
}

const ARCHITECTURE: &str = "# Architecture\n\n## Code map\n\n### `crates/auren-hrm` — protocol\n\
     ### `crates/auren-hrv` — science\n### `crates/auren-cep` — rules\n### `crates/auren-clock` — time\n\
     ### `crates/auren-strap` — sources\n### `crates/auren-store` — SQLite\n\
     ### `crates/auren-engine` — façade\n### `crates/auren-gateway` — LLMs\n\
     ### `src-tauri` — shell\n\n## Invariants\n\n- `crates/auren-sync` is mentioned here, not in the map.\n";

/// A workspace that keeps every rule: the shape of the real one.
fn clean() -> Workspace {
    let mut hrv = package("auren-hrv", "crates/auren-hrv", &["realfft", "thiserror"]);
    hrv.dependencies.push(dep("proptest", DependencyKind::Dev));
    hrv.dependencies.push(dep("tokio", DependencyKind::Dev));
    let mut store = package(
        "auren-store",
        "crates/auren-store",
        &["auren-clock", "sqlx", "tokio"],
    );
    store.dependencies[1].features = vec!["sqlite".to_owned()];
    store.dependencies.push(dep("auren-gateway", DependencyKind::Dev));
    let mut app = package(
        "auren-app",
        "src-tauri",
        &["auren-engine", "tauri", "tauri-plugin-store", "tauri-specta"],
    );
    app.dependencies.push(dep("tauri-build", DependencyKind::Build));
    Workspace {
        packages: vec![
            package("auren-hrm", "crates/auren-hrm", &["thiserror"]),
            hrv,
            package(
                "auren-cep",
                "crates/auren-cep",
                &["auren-hrv", "serde", "thiserror", "toml"],
            ),
            package("auren-clock", "crates/auren-clock", &[]),
            package(
                "auren-strap",
                "crates/auren-strap",
                &["auren-hrm", "btleplug", "tokio"],
            ),
            store,
            package(
                "auren-engine",
                "crates/auren-engine",
                &["auren-cep", "auren-hrv", "auren-store", "auren-strap"],
            ),
            package(
                "auren-gateway",
                "crates/auren-gateway",
                &["auren-clock", "auren-store", "reqwest"],
            ),
            app,
            package("xtask", "xtask", &["anyhow", "serde_json", "toml"]),
        ],
        files: vec![
            file(
                "crates/auren-hrv/src/lib.rs",
                "//! The science.\n\n/// Not std::fs: the caller passes data.\npub mod panel;\n",
            ),
            file(
                "crates/auren-store/src/lib.rs",
                "//! SQLite.\nuse std::fs;\nuse tokio::sync::mpsc;\n",
            ),
            file(
                "crates/auren-cep/src/detector.rs",
                &format!(
                    "//! Rules.\n#[{}(\n    clippy::too_many_arguments,\n    reason = \"one per slot\"\n)]\nfn f() {{}}\n",
                    "expect"
                ),
            ),
            file(
                "crates/auren-engine/tests/it/main.rs",
                &format!(
                    "//! Tests.\n#![{}(clippy::unwrap_used, clippy::expect_used, reason = \"tests\")]\n",
                    "allow"
                ),
            ),
            file(
                "crates/auren-store/src/bin/auren-store-recorder.rs",
                &format!(
                    "//! Crash-test child.\n#![{}(clippy::unwrap_used, reason = \"a test's child\")]\n",
                    "allow"
                ),
            ),
            file(
                "xtask/src/main.rs",
                &format!(
                    "//! Automation.\n// Named in a comment is fine: {}!() {}!(x)\nfn main() {{}}\n",
                    "todo", "dbg"
                ),
            ),
        ],
        architecture: ARCHITECTURE.to_owned(),
        clippy_lints: vec![
            ("unwrap_used".to_owned(), "deny".to_owned()),
            ("expect_used".to_owned(), "deny".to_owned()),
            ("dbg_macro".to_owned(), "warn".to_owned()),
        ],
    }
}

fn find<'a>(w: &'a mut Workspace, name: &str) -> &'a mut Package {
    w.packages
        .iter_mut()
        .find(|p| p.name == name)
        .expect("the clean model has this package")
}

fn add_dep(w: &mut Workspace, to: &str, name: &str) {
    find(w, to).dependencies.push(dep(name, DependencyKind::Normal));
}

/// A new crate under crates/, named in the code map so that only the rule under test can fire.
fn add_crate(w: &mut Workspace, name: &str, deps: &[&str]) {
    w.packages.push(package(name, &format!("crates/{name}"), deps));
    w.architecture = w.architecture.replace(
        "### `src-tauri`",
        &format!("### `crates/{name}` — new\n### `src-tauri`"),
    );
}

fn add_file(w: &mut Workspace, path: &str, text: &str) {
    w.files.push(file(path, text));
}

#[test]
fn the_clean_model_passes() {
    let found = check(&clean());
    assert!(found.is_empty(), "{found:#?}");
}

type Plant = fn(&mut Workspace);

#[test]
fn each_planted_violation_yields_its_one_line() {
    let cases: &[(Rule, Plant, &str)] = &[
        (
            Rule::TauriDeps,
            |w| add_dep(w, "auren-engine", "tauri-plugin-dialog"),
            "crates/auren-engine/Cargo.toml: tauri-deps: auren-engine depends on tauri-plugin-dialog; only \
             src-tauri (auren-app) may; keep Tauri in the shell and call a Tauri-free façade",
        ),
        (
            Rule::TauriDeps,
            |w| {
                find(w, "auren-gateway")
                    .dependencies
                    .push(dep("tauri", DependencyKind::Dev))
            },
            "crates/auren-gateway/Cargo.toml: tauri-deps: auren-gateway depends on tauri; only src-tauri \
             (auren-app) may; keep Tauri in the shell and call a Tauri-free façade",
        ),
        (
            Rule::BtleplugDeps,
            |w| add_dep(w, "auren-engine", "btleplug"),
            "crates/auren-engine/Cargo.toml: btleplug-deps: auren-engine depends on btleplug; only \
             auren-strap may; reach the strap through auren_strap's HeartSource",
        ),
        (
            Rule::ServerClients,
            |w| add_dep(w, "auren-store", "rdkafka"),
            "crates/auren-store/Cargo.toml: server-clients: auren-store depends on rdkafka; only \
             auren-server may use Kafka, Redis or Postgres clients; go through the sync protocol",
        ),
        (
            Rule::ServerClients,
            |w| {
                find(w, "auren-store").dependencies[1]
                    .features
                    .push("postgres".to_owned())
            },
            "crates/auren-store/Cargo.toml: server-clients: auren-store depends on sqlx with its postgres \
             feature; only auren-server may use Kafka, Redis or Postgres clients; go through the sync \
             protocol",
        ),
        (
            Rule::PureCoreDeps,
            |w| add_dep(w, "auren-hrv", "serde"),
            "crates/auren-hrv/Cargo.toml: pure-core-deps: auren-hrv depends on serde; it may depend only \
             on realfft, thiserror, auren-hrm, auren-cep — do the I/O, async or clock work in \
             auren-engine and pass the result in",
        ),
        (
            Rule::PureCoreDeps,
            |w| add_dep(w, "auren-cep", "auren-clock"),
            "crates/auren-cep/Cargo.toml: pure-core-deps: auren-cep depends on auren-clock; it may depend \
             only on serde, thiserror, toml, auren-hrm, auren-hrv — do the I/O, async or clock work in \
             auren-engine and pass the result in",
        ),
        (
            Rule::PureCoreIo,
            |w| {
                add_file(
                    w,
                    "crates/auren-hrm/src/capture.rs",
                    "//! Captures.\nuse std::fs::File;\n",
                )
            },
            "crates/auren-hrm/src/capture.rs:2: pure-core-io: `std::fs` in a pure core; take the data or \
             the time as an argument and do the I/O in auren-engine",
        ),
        (
            Rule::PureCoreIo,
            |w| {
                add_file(
                    w,
                    "crates/auren-cep/src/window.rs",
                    "//! Windows.\n\nfn now() -> u64 {\n    let t = Instant::now();\n}\n",
                )
            },
            "crates/auren-cep/src/window.rs:4: pure-core-io: `Instant::now` in a pure core; take the data \
             or the time as an argument and do the I/O in auren-engine",
        ),
        (
            Rule::ProtocolDeps,
            |w| add_crate(w, "auren-protocol", &["serde", "uuid"]),
            "crates/auren-protocol/Cargo.toml: protocol-deps: auren-protocol depends on uuid; it may \
             depend only on serde, serde_json — the wire types shared by desktop and server are plain serde types",
        ),
        (
            Rule::Layers,
            |w| add_dep(w, "auren-store", "auren-gateway"),
            "crates/auren-store/Cargo.toml: layers: auren-store depends on auren-gateway (auren-store → \
             auren-gateway); nothing at or below auren-store depends on the gateway or the agents (they \
             adapt to it, not it to them) — remove the dependency",
        ),
        (
            Rule::Layers,
            |w| {
                add_crate(w, "auren-agents", &["auren-engine"]);
                add_crate(w, "auren-sync", &["auren-agents"]);
                add_dep(w, "auren-strap", "auren-sync");
            },
            // The chain is followed through every workspace crate, and the shortest one is named.
            "crates/auren-strap/Cargo.toml: layers: auren-strap depends on auren-agents (auren-strap → \
             auren-sync → auren-agents); nothing at or below auren-store depends on the gateway or the \
             agents (they adapt to it, not it to them) — remove the dependency",
        ),
        (
            Rule::CodeMap,
            |w| {
                w.packages
                    .push(package("auren-sync", "crates/auren-sync", &["reqwest"]))
            },
            "ARCHITECTURE.md: code-map: crates/auren-sync (auren-sync) is not in the code map; add a `### \
             \\`crates/auren-sync\\`` section saying what it holds",
        ),
        (
            Rule::ModuleDoc,
            |w| {
                add_file(
                    w,
                    "crates/auren-cep/src/field.rs",
                    "/// A field.\npub struct Field;\n",
                )
            },
            "crates/auren-cep/src/field.rs: module-doc: start the file with a `//!` comment saying what \
             it holds",
        ),
        (
            Rule::NoTodo,
            |w| {
                let text = format!("//! Import.\n\npub fn import() {{\n    {}!()\n}}\n", "todo");
                add_file(w, "crates/auren-engine/src/import.rs", &text)
            },
            "crates/auren-engine/src/import.rs:4: no-todo: `todo!` left in; finish the code or return an \
             error",
        ),
        (
            Rule::NoTodo,
            |w| {
                let text = format!(
                    "//! Main.\nfn main() {{ let x = {}! [1]; let s = \"`{}!` my_{}!()\"; }}\n",
                    "dbg", "todo", "todo"
                );
                add_file(w, "crates/auren-cli/src/main.rs", &text)
            },
            "crates/auren-cli/src/main.rs:2: no-todo: `dbg!` left in; remove it (tracing for diagnostics \
             that stay)",
        ),
        (
            Rule::AllowReason,
            |w| {
                let text = format!(
                    "//! Prices.\nstruct P {{\n    #[{}(dead_code)]\n    note: String,\n}}\n",
                    "allow"
                );
                add_file(w, "crates/auren-gateway/src/prices.rs", &text)
            },
            "crates/auren-gateway/src/prices.rs:3: allow-reason: `allow(dead_code)` without a reason; \
             write `#[expect(dead_code, reason = \"…\")]`",
        ),
        (
            Rule::AllowReason,
            |w| {
                let text = format!(
                    "//! Detector.\n#[{}(\n    clippy::too_many_arguments\n)]\nfn f() {{}}\n",
                    "expect"
                );
                add_file(w, "crates/auren-cep/src/slots.rs", &text)
            },
            "crates/auren-cep/src/slots.rs:2: allow-reason: `expect(clippy::too_many_arguments)` without a \
             reason; add `reason = \"…\"`",
        ),
        (
            Rule::LintLevels,
            |w| w.clippy_lints[0].1 = "warn".to_owned(),
            "Cargo.toml: lint-levels: [workspace.lints.clippy] unwrap_used is \"warn\"; set it to \"deny\" \
             (tests are exempt through clippy.toml)",
        ),
        (
            Rule::LintLevels,
            |w| {
                w.clippy_lints.remove(1);
            },
            "Cargo.toml: lint-levels: [workspace.lints.clippy] expect_used is not set; set it to \"deny\" \
             (tests are exempt through clippy.toml)",
        ),
        (
            Rule::LintLevels,
            |w| find(w, "auren-clock").inherits_workspace_lints = false,
            "crates/auren-clock/Cargo.toml: lint-levels: auren-clock does not inherit the workspace lints; \
             add `[lints] workspace = true`",
        ),
        (
            Rule::UnwrapInTests,
            |w| {
                let text = format!(
                    "//! Writer.\n#![{}(clippy::expect_used, reason = \"the queue never closes\")]\n",
                    "allow"
                );
                add_file(w, "crates/auren-store/src/writer.rs", &text)
            },
            "crates/auren-store/src/writer.rs:2: unwrap-in-tests: `allow(clippy::expect_used)` outside \
             tests; return an error instead (code under tests/, benches/, examples/ may unwrap)",
        ),
    ];
    for (rule, plant, expected) in cases {
        let mut workspace = clean();
        plant(&mut workspace);
        let lines: Vec<String> = check(&workspace).iter().map(ToString::to_string).collect();
        assert_eq!(lines, [*expected], "planted a violation of {rule}");
        assert!(expected.contains(&format!(": {rule}: ")), "{rule}: {expected}");
    }
    // Every rule has at least one planted case.
    for rule in Rule::ALL {
        assert!(cases.iter().any(|(r, _, _)| *r == rule), "no case for {rule}");
    }
}

#[test]
fn violations_come_sorted_by_file_then_line() {
    let mut workspace = clean();
    let todo = format!("{}!()", "todo");
    add_file(
        &mut workspace,
        "crates/auren-cli/src/a.rs",
        &format!("//! A.\n{todo}\n\n\n\n\n\n\n\n{todo}\n"),
    );
    add_file(&mut workspace, "crates/auren-cli/src/0.rs", "no doc\n");
    let shown: Vec<String> = check(&workspace)
        .iter()
        .map(|v| format!("{}:{:?}", v.path, v.line))
        .collect();
    assert_eq!(
        shown,
        [
            "crates/auren-cli/src/0.rs:None",
            "crates/auren-cli/src/a.rs:Some(2)",
            "crates/auren-cli/src/a.rs:Some(10)",
        ]
    );
}

#[test]
fn lint_levels_are_read_from_strings_and_tables() {
    let manifest = "[workspace]\nmembers = []\n\n[workspace.lints.clippy]\nunwrap_used = \"deny\"\n\
                    expect_used = { level = \"forbid\", priority = 1 }\n";
    assert_eq!(
        clippy_lints(manifest).unwrap(),
        [
            ("expect_used".to_owned(), "forbid".to_owned()),
            ("unwrap_used".to_owned(), "deny".to_owned()),
        ]
    );
    assert_eq!(clippy_lints("[workspace]\n").unwrap(), []);
}

#[test]
fn workspace_lint_inheritance_is_read_from_the_manifest() {
    for (manifest, inherits) in [
        ("[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n", true),
        ("[package]\nname = \"a\"\n\n[lints]\nworkspace = false\n", false),
        (
            "[package]\nname = \"a\"\n\n[lints.clippy]\nunwrap_used = \"allow\"\n",
            false,
        ),
        ("[package]\nname = \"a\"\n", false),
    ] {
        assert_eq!(
            inherits_workspace_lints(manifest).unwrap(),
            inherits,
            "{manifest}"
        );
    }
}

#[test]
fn metadata_gives_members_with_declared_dependencies() {
    let json = r#"{
        "workspace_members": ["path+file:///ws/crates/auren-store#0.0.0"],
        "packages": [
            {
                "id": "path+file:///ws/crates/auren-store#0.0.0",
                "name": "auren-store",
                "manifest_path": "/ws/crates/auren-store/Cargo.toml",
                "dependencies": [
                    {"name": "sqlx", "kind": null, "features": ["sqlite", "migrate"], "rename": null},
                    {"name": "criterion", "kind": "dev", "features": []},
                    {"name": "cc", "kind": "build", "features": []}
                ]
            },
            {
                "id": "registry+https://github.com/rust-lang/crates.io-index#sqlx@0.9.0",
                "name": "sqlx",
                "manifest_path": "/registry/sqlx/Cargo.toml",
                "dependencies": []
            }
        ]
    }"#;
    let read = |path: &Path| {
        assert_eq!(path, Path::new("/ws/crates/auren-store/Cargo.toml"));
        Ok("[package]\nname = \"auren-store\"\n[lints]\nworkspace = true\n".to_owned())
    };
    let packages = model::packages_from_metadata(json, Path::new("/ws"), read).unwrap();
    assert_eq!(
        packages,
        [Package {
            name: "auren-store".to_owned(),
            manifest: "crates/auren-store/Cargo.toml".to_owned(),
            dependencies: vec![
                Dependency {
                    name: "sqlx".to_owned(),
                    kind: DependencyKind::Normal,
                    features: vec!["sqlite".to_owned(), "migrate".to_owned()],
                },
                dep("criterion", DependencyKind::Dev),
                dep("cc", DependencyKind::Build),
            ],
            inherits_workspace_lints: true,
        }]
    );
    assert!(model::packages_from_metadata("{}", Path::new("/ws"), read).is_err());
}

#[test]
fn source_files_skip_build_output_npm_packages_and_hidden_folders() {
    let root = tempfile::tempdir().unwrap();
    for (path, keep) in [
        ("crates/a/src/lib.rs", true),
        ("build.rs", true),
        ("crates/a/src/notes.md", false),
        ("target/debug/build/out.rs", false),
        ("fuzz/target/x.rs", false),
        ("ui/node_modules/pkg/x.rs", false),
        (".git/hooks/x.rs", false),
    ] {
        let full = root.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, if keep { "//! kept\n" } else { "" }).unwrap();
    }
    let found: Vec<String> = model::source_files(root.path())
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(found, ["build.rs", "crates/a/src/lib.rs"]);
}
