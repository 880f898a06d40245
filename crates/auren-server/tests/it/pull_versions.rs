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
