//! The llm_usage ledger: records round-trip, groupings and filters agree with the gateway's reference
//! summariser, and the database is in WAL mode with the migration applied once.

use auren_gateway::usage::{UsageLedger, UsageQuery, UsageRecord, summarise};
use auren_gateway::{UnixMillis, UsageGrouping, Usd};
use auren_store::Store;

fn record(
    at_ms: i64,
    model: &str,
    conversation: Option<&str>,
    tokens: (u64, u64, u64),
    cost: Option<f64>,
) -> UsageRecord {
    UsageRecord {
        at: UnixMillis(at_ms),
        provider: if model.starts_with("claude") {
            "anthropic"
        } else {
            "openai"
        }
        .into(),
        model: model.into(),
        conversation: conversation.map(Into::into),
        input_tokens: tokens.0,
        cached_input_tokens: tokens.1,
        output_tokens: tokens.2,
        estimated: cost.is_none(),
        cost: cost.map(Usd::from_dollars),
    }
}

const DAY: i64 = 86_400_000;

fn sample() -> Vec<UsageRecord> {
    let t0 = 1_763_683_200_000; // 2025-11-21T00:00:00Z
    vec![
        record(t0 + 1_000, "gpt-4.1", Some("a"), (100, 10, 20), Some(0.000_36)),
        record(
            t0 + 2_000,
            "claude-sonnet-4-5",
            Some("a"),
            (200, 0, 30),
            Some(0.001_05),
        ),
        record(t0 + DAY, "gpt-4.1", Some("b"), (50, 0, 5), Some(0.000_14)),
        record(t0 + DAY + 5, "llama3.1", None, (7, 0, 9), None),
        record(
            t0 + 10 * DAY,
            "claude-sonnet-4-5",
            Some("b"),
            (1, 0, 1),
            Some(0.000_018),
        ),
    ]
}

#[tokio::test]
async fn groupings_and_filters_match_the_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("nested/dir/auren.db"))
        .await
        .expect("opens, creating folders");
    let records = sample();
    for r in &records {
        store.record(r).await.expect("insert");
    }
    let flags = [false, true];
    for by_day in flags {
        for by_month in flags {
            for by_model in flags {
                for by_conversation in flags {
                    let grouping = UsageGrouping {
                        by_day,
                        by_month,
                        by_model,
                        by_conversation,
                    };
                    for (since, conversation) in [
                        (None, None),
                        (Some(UnixMillis(1_763_683_200_000 + DAY)), None),
                        (None, Some("b")),
                    ] {
                        let query = UsageQuery {
                            grouping,
                            since,
                            until: None,
                            conversation: conversation.map(Into::into),
                        };
                        let got = store.summary(&query).await.expect("summary");
                        assert_eq!(got, summarise(&records, &query), "{query:?}");
                    }
                }
            }
        }
    }
    let total = store.spent_since(UnixMillis(0)).await.expect("total");
    assert_eq!(
        total,
        records
            .iter()
            .fold(Usd::ZERO, |s, r| s.saturating_add(r.cost.unwrap_or(Usd::ZERO)))
    );
}

#[tokio::test]
async fn reopening_keeps_rows_and_uses_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("auren.db");
    {
        let store = Store::open(&path).await.expect("open");
        store.record(&sample()[0]).await.expect("insert");
        store.close().await;
    }
    let store = Store::open(&path).await.expect("reopen runs no migration twice");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let rows = store.summary(&UsageQuery::default()).await.expect("summary");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].calls, 1);
}
