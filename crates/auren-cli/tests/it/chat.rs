//! `auren chat` and `auren usage` run as real processes against the fake provider server.

use auren_fake_llm::{FakeLlm, Reply, Script};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEY_VAR: &str = "AUREN_TEST_OPENAI_KEY";
const KEY: &str = "sk-cli-test-5eb63bbbe01eeed093cb22bb8f5acdc3";

fn write_config(dir: &Path, fake: &FakeLlm) -> PathBuf {
    let path = dir.join("gateway.toml");
    let text = format!(
        r#"default_model = "smart"

[timeouts]
idle_ms = 500

[retry]
max_retries = 0

[[provider]]
name = "openai"
kind = "openai"
base_url = "{base}"
api_key_env = "{KEY_VAR}"

[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "{base}"

[alias.smart]
routes = ["openai:gpt-4.1", "local:llama3.1"]
"#,
        base = fake.openai_base_url()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Runs `auren` with a home of its own (so no keychain or user folder is touched), off the async runtime
/// that serves the fake provider.
async fn auren(home: &Path, args: Vec<String>, key: Option<&str>) -> Output {
    let home = home.to_owned();
    let key = key.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_auren"));
        command.args(&args).env_remove(KEY_VAR).env("HOME", &home);
        for var in [
            "XDG_DATA_HOME",
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "XDG_RUNTIME_DIR",
        ] {
            command.env(var, home.join(var.to_lowercase()));
        }
        if let Some(key) = key {
            command.env(KEY_VAR, key);
        }
        command.output().expect("auren runs")
    })
    .await
    .expect("process task")
}

/// `chat --config CONFIG --db DB` followed by `rest`: how every chat here starts.
fn chat_args(config: &Path, db: &Path, rest: &[&str]) -> Vec<String> {
    let mut args = vec![
        "chat".to_owned(),
        "--config".to_owned(),
        config.display().to_string(),
        "--db".to_owned(),
        db.display().to_string(),
    ];
    args.extend(rest.iter().map(|arg| (*arg).to_owned()));
    args
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_streams_the_answer_and_usage_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeLlm::start().await.expect("fake server");
    fake.script(
        "gpt-4.1",
        [Script::Reply(
            Reply::text(["Rest ", "today: ", "RMSSD is low."]).with_usage(1_000, 100),
        )],
    );
    let config = write_config(dir.path(), &fake);
    let db = dir.path().join("auren.db");
    let s = |p: &Path| p.display().to_string();

    let args = chat_args(&config, &db, &["Train or rest?"]);
    let out = auren(dir.path(), args, Some(KEY)).await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Rest today: RMSSD is low.\n");
    assert_eq!(
        text(&out.stderr),
        "[openai:gpt-4.1 · 1000 in / 100 out tokens · $0.002800]\n"
    );
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.body["messages"][0]["content"], "Train or rest?");

    let args = chat_args(&config, &db, &["--model", "local:llama3.1", "hi"]);
    let out = auren(dir.path(), args, None).await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Hello from the fake.\n");

    let out = auren(
        dir.path(),
        vec!["usage".into(), "--json".into(), "--db".into(), s(&db)],
        None,
    )
    .await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let day = rows[0]["day"].as_str().expect("day").to_owned();
    assert_eq!(
        rows,
        serde_json::json!([
            {"day": day, "provider": "local", "model": "llama3.1", "calls": 1, "input_tokens": 12,
             "cached_input_tokens": 0, "output_tokens": 3, "cost_usd": 0.0, "estimated_calls": 0, "unpriced_calls": 1},
            {"day": day, "provider": "openai", "model": "gpt-4.1", "calls": 1, "input_tokens": 1000,
             "cached_input_tokens": 0, "output_tokens": 100, "cost_usd": 0.0028, "estimated_calls": 0, "unpriced_calls": 0}
        ])
    );

    let out = auren(dir.path(), vec!["usage".into(), "--db".into(), s(&db)], None).await;
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[1].contains("local:llama3.1") && lines[1].ends_with("unpriced"),
        "{table}"
    );
    assert!(
        lines[2].contains("openai:gpt-4.1") && lines[2].ends_with("0.002800"),
        "{table}"
    );
    assert!(
        lines[3].starts_with("total") && lines[3].ends_with("0.002800"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_shows_what_arrived_before_a_break_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeLlm::start().await.expect("fake server");
    fake.script(
        "gpt-4.1",
        [Script::StallAfter {
            events: 2,
            reply: Reply::text(["Partial", " answer"]),
        }],
    );
    let config = write_config(dir.path(), &fake);
    let db = dir.path().join("auren.db");
    let args = chat_args(&config, &db, &["hi"]);
    let out = auren(dir.path(), args, Some(KEY)).await;
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "Partial\n");
    assert_eq!(
        text(&out.stderr),
        "auren: the answer from openai:gpt-4.1 broke off after it had started: no data for 500 ms between chunks\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_explains_a_missing_key_and_a_bad_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeLlm::start().await.expect("fake server");
    let config = write_config(dir.path(), &fake);
    let db = dir.path().join("auren.db");
    let args = chat_args(&config, &db, &["--model", "openai:gpt-4.1", "hi"]);
    let out = auren(dir.path(), args, None).await;
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr),
        format!(
            "auren: every route for \"openai:gpt-4.1\" failed:\n  - openai:gpt-4.1 (try 1): no API key: set the environment variable {KEY_VAR}\n"
        )
    );
    assert!(fake.requests().is_empty());

    std::fs::write(
        &config,
        "[[provider]]\nname = \"x\"\nkind = \"openai\"\nkey = \"oops\"\n",
    )
    .expect("write");
    let args = chat_args(&config, &db, &["hi"]);
    let out = auren(dir.path(), args, None).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("auren: {}:4:1: unknown field `key`", config.display())),
        "{stderr}"
    );
}

/// `auren ask` prints one usage line per model call, also for a provider that sends no usage (its final
/// count is the gateway's estimate, marked "~"), and no line for the running estimates while text streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_prints_a_usage_line_for_a_call_that_carried_no_usage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeLlm::start().await.expect("fake server");
    let chunks: Vec<String> = (0..40).map(|i| format!("word{i} ")).collect();
    fake.script("llama3.1", [Script::Reply(Reply::text(chunks).without_usage())]);
    let config = write_config(dir.path(), &fake);
    let db = dir.path().join("auren.db");
    let args: Vec<String> = [
        "ask",
        "--config",
        &config.display().to_string(),
        "--db",
        &db.display().to_string(),
        "--model",
        "local:llama3.1",
        "Train or rest?",
    ]
    .map(str::to_owned)
    .into();
    let out = auren(dir.path(), args, None).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let usage: Vec<&str> = stderr.lines().filter(|l| l.starts_with("[usage:")).collect();
    assert_eq!(usage.len(), 1, "{stderr}");
    assert!(
        usage[0].starts_with("[usage: ~") && usage[0].ends_with(" out tokens]"),
        "{stderr}"
    );
}
