//! `auren mcp`: the MCP server over stdio. A raw JSON-RPC exchange always runs (initialize, tools/list,
//! tools/call, stdout carrying protocol lines only); the official MCP Python SDK drives it too when
//! `cargo xtask test` provides its venv (`AUREN_TEST_PYTHON`), and then a failure fails the test.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use crate::run::{auren, command, db, ok, stderr, stdout};

const TOOLS: [&str; 12] = [
    "compare_periods",
    "get_alerts",
    "get_readiness",
    "get_session",
    "get_trend",
    "list_hypotheses",
    "list_sessions",
    "propose_hypothesis",
    "recall",
    "remember",
    "retract",
    "tag_effect",
];

fn with_history(dir: &std::path::Path) -> String {
    let (_, db) = db(dir);
    ok(auren(
        dir,
        &["simulate", "history", "--days", "8", "--seed", "4", "--db", &db],
    ));
    db
}

#[test]
fn a_raw_json_rpc_client_lists_the_tools_and_calls_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_history(dir.path());
    let mut child = command(dir.path())
        .args(["mcp", "--db", &db])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut exchange = |request: serde_json::Value| -> serde_json::Value {
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        if request.get("id").is_none() {
            return serde_json::Value::Null;
        }
        // Every line on stdout must be JSON-RPC.
        let line = lines.next().unwrap().unwrap();
        let reply: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(reply["jsonrpc"], "2.0", "{reply}");
        assert_eq!(reply["id"], request["id"], "{reply}");
        reply
    };
    let init = exchange(serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "auren-test", "version": "0"}
        }
    }));
    assert_eq!(init["result"]["serverInfo"]["name"], "auren", "{init}");
    assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
    exchange(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let listed = exchange(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let tools = listed["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    // The same schemas the agents use: the registry's own, by name.
    for spec in auren_agents::tools::all_specs() {
        let tool = tools.iter().find(|t| t["name"] == spec.name.as_str()).unwrap();
        assert_eq!(tool["inputSchema"], spec.schema, "{}", spec.name.as_str());
        assert_eq!(tool["description"], spec.description);
    }

    let called = exchange(serde_json::json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "list_sessions", "arguments": {"limit": 3}}
    }));
    let result = &called["result"];
    assert_eq!(result["isError"], false, "{called}");
    let body = &result["structuredContent"];
    assert_eq!(body["result"]["sessions"].as_array().unwrap().len(), 3, "{body}");
    assert!(!body["receipts"].as_array().unwrap().is_empty(), "{body}");
    let text: serde_json::Value =
        serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text, body);

    let bad = exchange(serde_json::json!({
        "jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": {"name": "get_trend", "arguments": {"metric": "mood"}}
    }));
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    assert!(
        bad["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("get_trend"),
        "{bad}"
    );

    let unknown = exchange(serde_json::json!({
        "jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "delete_everything", "arguments": {}}
    }));
    assert!(unknown["error"].is_object(), "{unknown}");

    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn the_official_python_sdk_lists_and_calls_the_tools() {
    let Some(python) = crate::run::harness_var("AUREN_TEST_PYTHON", "the official MCP Python SDK client")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = with_history(dir.path());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/mcp/client.py");
    let out = std::process::Command::new(python)
        .args([script, env!("CARGO_BIN_EXE_auren"), &db])
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["tools"], 12, "{summary}");
}
