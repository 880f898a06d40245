//! Usage persisted through auren-store to a real SQLite file, queried back, and carried into the budget
//! of a gateway started later on the same database.

use crate::support::{config_text, start_gateway, start_time};
use auren_fake_llm::{FakeLlm, Reply, Script};
use auren_gateway::config::BudgetLimits;
use auren_gateway::{
    ChatRequest, Clock, GatewayConfig, ManualClock, UsageGrouping, UsageLedger, UsageQuery, Usd,
};
use auren_store::Store;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn usage_lands_in_sqlite_and_feeds_the_next_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("auren.db");
    let fake = FakeLlm::start().await.expect("fake server");
    fake.script(
        "gpt-4.1",
        [Script::Reply(Reply::text(["a"]).with_usage(1_000, 100))],
    );
    fake.script(
        "claude-sonnet-4-5",
        [Script::Reply(Reply::text(["b"]).with_usage(2_000, 200))],
    );
    let mut config = GatewayConfig::parse(&config_text(&fake), "test.toml").expect("config");
    config.budget = BudgetLimits {
        daily: Some(Usd::from_dollars(5.0)),
        monthly: Some(Usd::from_dollars(50.0)),
    };
    let clock = Arc::new(ManualClock::new(start_time()));
    {
        let store = Arc::new(Store::open(&db).await.expect("store opens"));
        let gateway = start_gateway(
            config.clone(),
            store.clone() as Arc<dyn UsageLedger>,
            clock.clone() as Arc<dyn Clock>,
        )
        .await;
        let request = |conversation: &str| ChatRequest {
            conversation: Some(conversation.into()),
            ..ChatRequest::user("hi")
        };
        gateway
            .chat("openai:gpt-4.1", request("morning-check"))
            .await
            .expect("answer");
        clock.advance(Duration::from_secs(24 * 3600));
        gateway
            .chat("anthropic:claude-sonnet-4-5", request("morning-check"))
            .await
            .expect("answer");
        gateway
            .chat("local:llama3.1", request("evening"))
            .await
            .expect("answer");
    }

    let store = Store::open(&db).await.expect("store reopens");
    let by_day_and_model = UsageQuery {
        grouping: UsageGrouping {
            by_day: true,
            by_model: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let rows = store.summary(&by_day_and_model).await.expect("summary");
    let shown: Vec<(String, String, u64, u64, Usd, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.day.clone().unwrap_or_default(),
                r.model.clone().unwrap_or_default(),
                r.input_tokens,
                r.output_tokens,
                r.cost,
                r.unpriced_calls,
            )
        })
        .collect();
    let gpt = Usd::from_dollars(1_000.0 * 2e-6 + 100.0 * 8e-6);
    let claude = Usd::from_dollars(2_000.0 * 3e-6 + 200.0 * 15e-6);
    assert_eq!(
        shown,
        [
            ("2025-11-21".into(), "gpt-4.1".into(), 1_000, 100, gpt, 0),
            (
                "2025-11-22".into(),
                "claude-sonnet-4-5".into(),
                2_000,
                200,
                claude,
                0
            ),
            ("2025-11-22".into(), "llama3.1".into(), 12, 3, Usd::ZERO, 1),
        ]
    );

    let by_conversation = UsageQuery {
        grouping: UsageGrouping {
            by_conversation: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let rows = store.summary(&by_conversation).await.expect("summary");
    let calls: Vec<(Option<String>, u64)> = rows.iter().map(|r| (r.conversation.clone(), r.calls)).collect();
    assert_eq!(
        calls,
        [(Some("evening".into()), 1), (Some("morning-check".into()), 2)]
    );

    let by_month = UsageQuery {
        grouping: UsageGrouping {
            by_month: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let rows = store.summary(&by_month).await.expect("summary");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].month.as_deref(), rows[0].calls, rows[0].cost),
        (Some("2025-11"), 3, gpt.saturating_add(claude))
    );

    // A gateway started later the same day begins from what the database says was spent.
    let gateway = start_gateway(
        config,
        Arc::new(store) as Arc<dyn UsageLedger>,
        clock as Arc<dyn Clock>,
    )
    .await;
    assert_eq!(gateway.spent(), (claude, gpt.saturating_add(claude)));
}
