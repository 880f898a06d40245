//! The SQLite ledger over real database files: records round-trip and every grouping and filter agrees
//! with the gateway's reference summariser, the cost since an instant adds up, a store failure keeps its
//! cause, and a gateway's usage lands in the file and feeds the budget of a gateway started later.

use super::SqliteLedger;
use auren_fake_llm::{FakeLlm, Reply, Script};
use auren_gateway::config::BudgetLimits;
use auren_gateway::usage::summarise;
use auren_gateway::{
    ChatRequest, Clock, Gateway, GatewayConfig, ManualClock, MemorySecrets, UnixMillis, UsageGrouping,
    UsageLedger, UsageQuery, UsageRecord, Usd,
};
use auren_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400_000;
/// 2025-11-21T00:00:00Z.
const T0: i64 = 1_763_683_200_000;

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

/// Calls over two months, one unpriced and without a conversation.
fn sample() -> Vec<UsageRecord> {
    vec![
        record(T0 + 1_000, "gpt-4.1", Some("a"), (100, 10, 20), Some(0.000_36)),
        record(
            T0 + 2_000,
            "claude-sonnet-4-5",
            Some("a"),
            (200, 0, 30),
            Some(0.001_05),
        ),
        record(T0 + DAY, "gpt-4.1", Some("b"), (50, 0, 5), Some(0.000_14)),
        record(T0 + DAY + 5, "llama3.1", None, (7, 0, 9), None),
        record(
            T0 + 10 * DAY,
            "claude-sonnet-4-5",
            Some("b"),
            (1, 0, 1),
            Some(0.000_018),
        ),
    ]
}

async fn open_ledger(dir: &tempfile::TempDir) -> SqliteLedger {
    SqliteLedger::new(
        Store::open(&dir.path().join("auren.db"))
            .await
            .expect("store opens"),
    )
}

#[tokio::test]
async fn groupings_and_filters_match_the_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = open_ledger(&dir).await;
    let records = sample();
    for r in &records {
        ledger.record(r).await.expect("insert");
    }
    let filters = [
        (None, None, None),
        (Some(T0 + DAY), None, None),
        (None, Some(T0 + DAY + 5), None),
        (None, None, Some("b")),
        (Some(T0 + 2_000), Some(T0 + 10 * DAY), Some("a")),
    ];
    for bits in 0..16u8 {
        let grouping = UsageGrouping {
            by_day: bits & 1 != 0,
            by_month: bits & 2 != 0,
            by_model: bits & 4 != 0,
            by_conversation: bits & 8 != 0,
        };
        for (since, until, conversation) in filters {
            let query = UsageQuery {
                grouping,
                since: since.map(UnixMillis),
                until: until.map(UnixMillis),
                conversation: conversation.map(Into::into),
            };
            let got = ledger.summary(&query).await.expect("summary");
            assert_eq!(got, summarise(&records, &query), "{query:?}");
        }
    }
}

#[tokio::test]
async fn spent_since_adds_the_priced_calls_from_that_instant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = open_ledger(&dir).await;
    let records = sample();
    for r in &records {
        ledger.record(r).await.expect("insert");
    }
    for since in [i64::MIN, T0, T0 + 1_001, T0 + DAY, T0 + DAY + 6, T0 + 11 * DAY] {
        let want = records
            .iter()
            .filter(|r| r.at.0 >= since)
            .fold(Usd::ZERO, |sum, r| {
                sum.saturating_add(r.cost.unwrap_or(Usd::ZERO))
            });
        assert_eq!(
            ledger.spent_since(UnixMillis(since)).await.expect("spent"),
            want,
            "{since}"
        );
    }
}

#[tokio::test]
async fn a_store_failure_keeps_its_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db"))
        .await
        .expect("store opens");
    let ledger = SqliteLedger::new(store.clone());
    store.close().await;
    let error = ledger.record(&sample()[0]).await.expect_err("the pool is closed");
    assert_eq!(error.context, "recording a call to openai:gpt-4.1");
    let cause = std::error::Error::source(&error).and_then(|s| s.downcast_ref::<StoreError>());
    assert!(cause.is_some(), "{error:?}");
    assert!(error.to_string().contains("closed pool"), "{error}");
    let error = ledger
        .spent_since(UnixMillis(T0))
        .await
        .expect_err("the pool is closed");
    assert_eq!(
        error.context,
        "summing the cost of calls since 2025-11-21T00:00:00Z"
    );
    let error = ledger
        .summary(&UsageQuery::default())
        .await
        .expect_err("the pool is closed");
    assert!(
        error.to_string().starts_with("usage ledger: summing usage: "),
        "{error}"
    );
}

/// Configuration for the fake server: `openai`, `anthropic` and `local` (OpenAI-compatible), with budgets.
fn gateway_config(fake: &FakeLlm) -> GatewayConfig {
    let text = format!(
        r#"
max_tokens = 100
[retry]
max_retries = 0
[[provider]]
name = "openai"
kind = "openai"
base_url = "{openai}"
[[provider]]
name = "anthropic"
kind = "anthropic"
base_url = "{anthropic}"
[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "{openai}"
"#,
        openai = fake.openai_base_url(),
        anthropic = fake.anthropic_base_url(),
    );
    let mut config = GatewayConfig::parse(&text, "test.toml").expect("config");
    config.budget = BudgetLimits {
        daily: Some(Usd::from_dollars(5.0)),
        monthly: Some(Usd::from_dollars(50.0)),
    };
    config
}

async fn start_gateway(config: GatewayConfig, ledger: SqliteLedger, clock: Arc<ManualClock>) -> Gateway {
    // Made-up keys: the fake server takes any.
    let secrets = MemorySecrets::new()
        .with("openai", "fake-openai-key")
        .with("anthropic", "fake-anthropic-key");
    Gateway::start(
        config,
        Arc::new(secrets),
        Arc::new(ledger) as Arc<dyn UsageLedger>,
        clock as Arc<dyn Clock>,
    )
    .await
    .expect("gateway starts")
}

#[tokio::test]
async fn usage_lands_in_sqlite_and_feeds_the_next_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeLlm::start().await.expect("fake server");
    fake.script(
        "gpt-4.1",
        [Script::Reply(Reply::text(["a"]).with_usage(1_000, 100))],
    );
    fake.script(
        "claude-sonnet-4-5",
        [Script::Reply(Reply::text(["b"]).with_usage(2_000, 200))],
    );
    let config = gateway_config(&fake);
    // 2025-11-21T10:00:00Z
    let clock = Arc::new(ManualClock::new(UnixMillis(T0 + 10 * 3_600_000)));
    {
        let gateway = start_gateway(config.clone(), open_ledger(&dir).await, Arc::clone(&clock)).await;
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

    let ledger = open_ledger(&dir).await;
    let by_day_and_model = UsageQuery {
        grouping: UsageGrouping {
            by_day: true,
            by_model: true,
            ..UsageGrouping::default()
        },
        ..UsageQuery::default()
    };
    let rows = ledger.summary(&by_day_and_model).await.expect("summary");
    let shown: Vec<(&str, &str, u64, u64, Usd, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.day.as_deref().unwrap_or_default(),
                r.model.as_deref().unwrap_or_default(),
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
            ("2025-11-21", "gpt-4.1", 1_000, 100, gpt, 0),
            ("2025-11-22", "claude-sonnet-4-5", 2_000, 200, claude, 0),
            ("2025-11-22", "llama3.1", 12, 3, Usd::ZERO, 1),
        ]
    );

    let by_conversation = UsageQuery {
        grouping: UsageGrouping {
            by_conversation: true,
            ..UsageGrouping::default()
        },
        ..UsageQuery::default()
    };
    let rows = ledger.summary(&by_conversation).await.expect("summary");
    let calls: Vec<(Option<&str>, u64)> = rows
        .iter()
        .map(|r| (r.conversation.as_deref(), r.calls))
        .collect();
    assert_eq!(calls, [(Some("evening"), 1), (Some("morning-check"), 2)]);

    // A gateway started later the same day begins from what the database says was spent.
    let gateway = start_gateway(config, ledger, clock).await;
    assert_eq!(gateway.spent(), (claude, gpt.saturating_add(claude)));
}
