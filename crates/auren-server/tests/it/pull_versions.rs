//! Where a pull stops: whole versions only, as many as fit the limit (but always at least one), whether the
//! pull spans several versions (counted first) or exactly one (read without counting), and the cursor and
//! `more` that tell the device where to go on.

use crate::support::{TestServer, chunk, recent_ms, row, session, session_key};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_pull_returns_whole_versions_within_its_limit_and_one_version_however_large() {
    let server = TestServer::start().await;
    let device = server.account("versions@example.com").await;
    let key = session_key(&device, 1);
    // Version 1: a session and three chunks; version 2: two more chunks.
    server
        .push(
            &device,
            vec![
                row(1, session(&key, recent_ms())),
                row(2, chunk(&key, 0.0, 10)),
                row(3, chunk(&key, 60_000.0, 10)),
                row(4, chunk(&key, 120_000.0, 10)),
            ],
        )
        .await;
    server
        .push(
            &device,
            vec![
                row(5, chunk(&key, 180_000.0, 10)),
                row(6, chunk(&key, 240_000.0, 10)),
            ],
        )
        .await;
    // (cursor, limit) → (changes, cursor, more)
    let cases = [
        // Two versions, the first alone over the limit: taken whole, and there is more.
        ((0, 2), (4, 1, true)),
        ((0, 4), (4, 1, true)),
        ((0, 100), (6, 2, false)),
        // Exactly one version, over the limit: taken whole.
        ((1, 1), (2, 2, false)),
        ((1, 100), (2, 2, false)),
        // Nothing new.
        ((2, 100), (0, 2, false)),
    ];
    for ((cursor, limit), expected) in cases {
        let (status, answer) = server
            .post(
                "/v1/sync/pull",
                Some(&device.tokens.access_token),
                &json!({"protocol_version": 1, "cursor": cursor, "limit": limit}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let changes = answer["changes"].as_array().unwrap();
        let got = (
            changes.len(),
            answer["cursor"].as_i64().unwrap(),
            answer["more"].as_bool().unwrap(),
        );
        assert_eq!(got, expected, "cursor {cursor}, limit {limit}: {answer}");
        let versions: Vec<i64> = changes.iter().map(|c| c["version"].as_i64().unwrap()).collect();
        assert!(
            versions.iter().all(|v| *v > cursor && *v <= got.1) && versions.is_sorted(),
            "cursor {cursor}, limit {limit}: versions {versions:?}"
        );
    }
}

/// A pull reads only the tables whose last write is past its cursor (migration 0005's marks, kept by
/// triggers on insert and on update): each kind of write at version 2 — a row inserted in each marked table,
/// a session ended and a record replaced (both updates of rows written at version 1) — must reach a pull
/// from cursor 1.
#[tokio::test]
async fn a_pull_finds_every_table_written_after_its_cursor() {
    let server = TestServer::start().await;
    let note = |key: &str, text: &str, wall_ms: i64, device: &str| -> auren_protocol::Change {
        serde_json::from_value(json!({"type": "note", "session_key": key, "text": {"value": text,
            "hlc": {"wall_ms": wall_ms, "counter": 0, "device": device}}}))
        .unwrap()
    };
    let started = recent_ms();
    // (what version 2 writes, the type of the change a pull from cursor 1 must return)
    let cases: [(&str, &str); 4] = [
        ("session ended", "session"),
        ("gaps", "gaps"),
        ("note added", "note"),
        ("note replaced", "note"),
    ];
    for (n, (what, expected_type)) in cases.into_iter().enumerate() {
        let device = server.account(&format!("marks{n}@example.com")).await;
        let key = session_key(&device, 1);
        let device_id = device.device_id.0.clone();
        let mut first = vec![row(1, session(&key, started)), row(2, chunk(&key, 0.0, 10))];
        if what == "note replaced" {
            first.push(row(3, note(&key, "before", started, &device_id)));
        }
        server.push(&device, first).await;
        let second = match what {
            "session ended" => {
                let mut ended: serde_json::Value = serde_json::to_value(session(&key, started)).unwrap();
                ended["ended_at"] = json!(started + 60_000);
                serde_json::from_value(ended).unwrap()
            }
            "gaps" => serde_json::from_value(
                json!({"type": "gaps", "session_key": key, "gaps": [{"from_ms": 1_000.0, "to_ms": 2_000.0}]}),
            )
            .unwrap(),
            // A note at a key written at version 1 or not: the record table's update or insert.
            _ => note(&key, "after", started + 1, &device_id),
        };
        server.push(&device, vec![row(10, second)]).await;
        let (status, answer) = server
            .post(
                "/v1/sync/pull",
                Some(&device.tokens.access_token),
                &json!({"protocol_version": 1, "cursor": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let types: Vec<&str> = answer["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["change"]["type"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(types, vec![expected_type], "{what}: {answer}");
        assert_eq!(answer["cursor"], json!(2), "{what}: {answer}");
    }
}

/// A chunk pulled back holds the RR values the device pushed, the longest intervals too: they are stored
/// bit-cast to smallint (32,768 and up read back negative) and the pull reads the array's bytes itself.
#[tokio::test]
async fn a_pulled_chunk_holds_every_rr_value_as_pushed() {
    let server = TestServer::start().await;
    let device = server.account("rr-values@example.com").await;
    let key = session_key(&device, 1);
    let pushed: Vec<u16> = vec![1, 820, 32_767, 32_768, 40_000, 65_535];
    let mut long_beats = chunk(&key, 0.0, 1);
    if let auren_protocol::Change::Beats(beats) = &mut long_beats {
        beats.rr_raw.clone_from(&pushed);
    }
    server
        .push(
            &device,
            vec![row(1, session(&key, recent_ms())), row(2, long_beats)],
        )
        .await;
    let (status, answer) = server
        .post(
            "/v1/sync/pull",
            Some(&device.tokens.access_token),
            &json!({"protocol_version": 1, "cursor": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let pulled: Vec<Vec<u16>> = answer["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"]["type"] == "beats")
        .map(|c| serde_json::from_value(c["change"]["rr_raw"].clone()).unwrap())
        .collect();
    assert_eq!(pulled, vec![pushed], "{answer}");
}
