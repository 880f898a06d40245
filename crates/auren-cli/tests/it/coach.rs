//! `auren ask` (offline: no gateway configuration), `auren conversations`, `auren memory` and
//! `auren hypotheses` as real processes over one database: the event stream's protocol, the stored turn,
//! search and export, the memory's timelines and forgetting.

use crate::run::{auren, db, fails_with, json, ok, stdout};

/// A database with a week of history to talk about.
fn with_history(dir: &std::path::Path) -> String {
    let (_, db) = db(dir);
    ok(auren(
        dir,
        &["simulate", "history", "--days", "8", "--seed", "2", "--db", &db],
    ));
    db
}

#[test]
fn ask_json_streams_typed_events_ending_with_done_and_the_turn_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_history(dir.path());
    let out = ok(auren(
        dir.path(),
        &["ask", "--json", "--db", &db, "how was my HRV this week?"],
    ));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let allowed = [
        "routed",
        "handoff",
        "tool_call",
        "tool_result",
        "text",
        "claim",
        "usage",
        "guard",
        "error",
        "done",
    ];
    assert!(types.iter().all(|t| allowed.contains(t)), "{types:?}");
    assert_eq!(types.last(), Some(&"done"), "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "done").count(), 1);
    assert_eq!(types.first(), Some(&"routed"), "{types:?}");
    let done = events.last().unwrap();
    for field in ["answer", "specialist", "offline", "claims", "usage"] {
        assert!(done.get(field).is_some(), "done lacks {field}: {done}");
    }
    assert_eq!(done["offline"], true);
    for claim in done["claims"].as_array().unwrap() {
        for field in ["text", "value", "unit", "grounded", "receipt"] {
            assert!(claim.get(field).is_some(), "claim lacks {field}: {claim}");
        }
    }
    // The offline analyst's numbers come from its tools' receipts: they ground.
    let claims = done["claims"].as_array().unwrap();
    assert!(claims.iter().any(|c| c["grounded"] == true), "{done}");
    let streamed: String = events
        .iter()
        .filter(|e| e["type"] == "text")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(streamed.trim(), done["answer"].as_str().unwrap().trim());

    let list = json(&ok(auren(
        dir.path(),
        &["conversations", "list", "--json", "--db", &db],
    )));
    let id = list[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(list[0]["messages"], 2);
    // A follow-up in the same conversation.
    ok(auren(
        dir.path(),
        &["ask", "--conversation", &id, "--db", &db, "and my last session?"],
    ));
    let shown = stdout(&ok(auren(
        dir.path(),
        &["conversations", "show", &id, "--db", &db],
    )));
    assert!(shown.contains("you:\nhow was my HRV this week?"), "{shown}");
    assert!(shown.contains("you:\nand my last session?"), "{shown}");
    let hits = json(&ok(auren(
        dir.path(),
        &["conversations", "search", "HRV week", "--json", "--db", &db],
    )));
    assert!(!hits.as_array().unwrap().is_empty());
    let md = stdout(&ok(auren(
        dir.path(),
        &["conversations", "export", &id, "--db", &db],
    )));
    assert!(md.contains("how was my HRV this week?"), "{md}");
    let out_file = dir.path().join("c.json");
    ok(auren(
        dir.path(),
        &[
            "conversations",
            "export",
            &id,
            "--format",
            "json",
            "--out",
            out_file.to_str().unwrap(),
            "--db",
            &db,
        ],
    ));
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_file).unwrap()).unwrap();
    assert!(exported.is_object());
}

#[test]
fn ask_text_mode_prints_the_answer_on_stdout_and_the_steps_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_history(dir.path());
    let out = ok(auren(
        dir.path(),
        &["ask", "--db", &db, "what is my readiness today?"],
    ));
    let (answer, steps) = (stdout(&out), crate::run::stderr(&out));
    assert!(!answer.trim().is_empty());
    assert!(steps.contains("[routed to the"), "{steps}");
    assert!(steps.contains("offline analyst"), "{steps}");
    assert!(steps.contains("continue with --conversation"), "{steps}");
}

#[test]
fn ask_refuses_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    fails_with(
        auren(dir.path(), &["ask", "--db", &db, "  "]),
        &["the question is empty"],
    );
    fails_with(
        auren(dir.path(), &["ask", "--conversation", "41", "--db", &db, "hi"]),
        &["no conversation 41"],
    );
    let missing = dir.path().join("none.toml").display().to_string();
    fails_with(
        auren(dir.path(), &["ask", "--config", &missing, "--db", &db, "hi"]),
        &["none.toml"],
    );
}

#[test]
fn memory_keeps_history_answers_as_of_and_forgets_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let (db_path, db) = db(dir.path());
    let said = stdout(&ok(auren(
        dir.path(),
        &[
            "memory",
            "remember",
            "I work night shifts on Tuesdays",
            "--kind",
            "fact",
            "--db",
            &db,
        ],
    )));
    assert!(said.starts_with("Remembered as memory "), "{said}");
    let id = said
        .trim_start_matches("Remembered as memory ")
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    ok(auren(
        dir.path(),
        &[
            "memory",
            "remember",
            "run a half marathon in April",
            "--kind",
            "goal",
            "--db",
            &db,
        ],
    ));
    let now = json(&ok(auren(dir.path(), &["memory", "list", "--json", "--db", &db])));
    assert_eq!(now.as_array().unwrap().len(), 2);
    let before = json(&ok(auren(
        dir.path(),
        &["memory", "list", "--as-of", "2001-01-01", "--json", "--db", &db],
    )));
    assert!(before.as_array().unwrap().is_empty(), "{before}");

    ok(auren(
        dir.path(),
        &["memory", "retract", &id, "--reason", "changed jobs", "--db", &db],
    ));
    let now = json(&ok(auren(dir.path(), &["memory", "list", "--json", "--db", &db])));
    assert_eq!(now.as_array().unwrap().len(), 1);
    let history = json(&ok(auren(
        dir.path(),
        &["memory", "list", "--history", "--json", "--db", &db],
    )));
    let retracted = history
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_i64() == id.parse().ok())
        .unwrap();
    assert_eq!(retracted["retracted"]["reason"], "changed jobs");

    let forgot = stdout(&ok(auren(dir.path(), &["memory", "forget", &id, "--db", &db])));
    assert!(forgot.starts_with(&format!("Forgot memory {id}")), "{forgot}");
    let history = stdout(&ok(auren(
        dir.path(),
        &["memory", "list", "--history", "--db", &db],
    )));
    assert!(!history.contains("night shifts"), "{history}");
    let bytes = [
        std::fs::read(&db_path).unwrap(),
        std::fs::read(db_path.with_extension("db-wal")).unwrap_or_default(),
    ]
    .concat();
    assert!(
        !bytes.windows(12).any(|w| w == b"night shifts"),
        "the text is still in the database files"
    );

    fails_with(
        auren(
            dir.path(),
            &["memory", "remember", "x", "--kind", "mood", "--db", &db],
        ),
        &["mood"],
    );
    fails_with(
        auren(
            dir.path(),
            &["memory", "retract", "999", "--reason", "r", "--db", &db],
        ),
        &["memory 999"],
    );
}

#[test]
fn hypotheses_are_listed_with_a_status_computed_by_code() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    let empty = stdout(&ok(auren(dir.path(), &["hypotheses", "--db", &db])));
    assert!(empty.starts_with("No hypotheses yet"), "{empty}");
    let db = with_history(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = auren_store::Store::open(std::path::Path::new(&db)).await.unwrap();
        let tb = auren_agents::Toolbox::new(store.clone(), std::sync::Arc::new(auren_clock::SystemClock));
        tb.call(
            "propose_hypothesis",
            serde_json::json!({
                "statement": "alcohol lowers my next-morning HRV",
                "metric": "ln_rmssd",
                "exposure_tag": "alcohol"
            }),
        )
        .await
        .unwrap();
        store.close().await;
    });
    let listed = json(&ok(auren(dir.path(), &["hypotheses", "--json", "--db", &db])));
    let h = &listed[0];
    assert_eq!(h["statement"], "alcohol lowers my next-morning HRV");
    let status = h["status"].as_str().unwrap();
    assert!(
        ["open", "supported", "refuted", "inconclusive"].contains(&status),
        "{h}"
    );
    assert!(h["evidence"].is_object(), "{h}");
    let text = stdout(&ok(auren(dir.path(), &["hypotheses", "--db", &db])));
    assert!(text.contains("alcohol lowers my next-morning HRV"), "{text}");
}
