//! `auren ask` end to end through a real model: llama.cpp's OpenAI-compatible server with SmolLM2-135M,
//! started by `cargo xtask test` (`AUREN_TEST_LLM_URL`). Only the protocol is asserted — the event stream,
//! usage, the stored turn — never what a 135M model says.

use crate::run::{auren, db, json, ok, stdout};

#[test]
fn ask_runs_through_the_local_llama_cpp_server() {
    let Some(url) = crate::run::harness_var("AUREN_TEST_LLM_URL", "`auren ask` through llama.cpp")
        .map(|url| url.into_string().expect("AUREN_TEST_LLM_URL is UTF-8"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    ok(auren(
        dir.path(),
        &["simulate", "history", "--days", "8", "--seed", "9", "--db", &db],
    ));
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            r#"default_model = "local"
# A 135M model on two shared cores: short answers keep the turn inside its time budget.
max_tokens = 48

[timeouts]
first_token_ms = 120000
idle_ms = 60000

[retry]
max_retries = 0

[[provider]]
name = "llama"
kind = "openai-compatible"
base_url = "{url}"

[alias.local]
routes = ["llama:smollm2"]
"#
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = ok(auren(
        dir.path(),
        &[
            "ask",
            "--json",
            "--config",
            &config,
            "--db",
            &db,
            "Summarise my week in one sentence.",
        ],
    ));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done = events.last().unwrap();
    assert_eq!(done["type"], "done", "{done}");
    // A model answered (not the offline analyst) and its usage was counted.
    assert_eq!(done["offline"], false, "{done}");
    assert!(done["usage"]["model_calls"].as_u64().unwrap() >= 1, "{done}");
    assert!(done["usage"]["output_tokens"].as_u64().unwrap() >= 1, "{done}");
    assert!(events.iter().any(|e| e["type"] == "text"), "no streamed text");

    let list = json(&ok(auren(
        dir.path(),
        &["conversations", "list", "--json", "--db", &db],
    )));
    assert_eq!(list[0]["messages"], 2, "{list}");
    let id = list[0]["id"].to_string();
    let shown = json(&ok(auren(
        dir.path(),
        &["conversations", "show", &id, "--json", "--db", &db],
    )));
    assert!(
        shown.to_string().contains("smollm2"),
        "the stored answer names its model: {shown}"
    );
    let usage = stdout(&ok(auren(dir.path(), &["usage", "--db", &db])));
    assert!(usage.contains("smollm2"), "{usage}");
}
