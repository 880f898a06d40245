//! Budgets: refusal with the budget, the spend and the reset; failover to an unpriced route; and the
//! property that 100 concurrent calls never spend past the budget.

use crate::support::{rig, rig_with, start_gateway, start_time};
use auren_fake_llm::{FakeLlm, Reply, Script};
use auren_gateway::budget::BudgetWindow;
use auren_gateway::config::BudgetLimits;
use auren_gateway::{
    ChatRequest, Clock, GatewayConfig, GatewayError, ManualClock, MemoryLedger, Opening, UsageLedger, Usd,
};
use proptest::prelude::*;
use std::sync::Arc;

#[tokio::test]
async fn a_call_that_would_break_the_budget_is_refused() {
    // claude-sonnet-4-5 at $15 per million output tokens: 1000 output tokens may cost $0.015.
    let rig = rig_with(|c| {
        c.budget = BudgetLimits {
            daily: Some(Usd::from_dollars(0.005)),
            monthly: Some(Usd::from_dollars(30.0)),
        }
    })
    .await;
    let request = ChatRequest {
        max_tokens: Some(1000),
        ..ChatRequest::user("hi")
    };
    let error = rig
        .gateway
        .chat("anthropic:claude-sonnet-4-5", request.clone())
        .await
        .expect_err("refused");
    let GatewayError::Budget(refusal) = &error else {
        panic!("{error}")
    };
    assert_eq!(refusal.window, BudgetWindow::Daily);
    assert_eq!(refusal.limit, Usd::from_dollars(0.005));
    let text = error.to_string();
    assert!(
        text.starts_with("daily budget of $0.005000 would be exceeded: $0.000000 spent"),
        "{text}"
    );
    assert!(
        text.ends_with("the budget resets at 2025-11-22T00:00:00Z"),
        "{text}"
    );
    assert!(rig.fake.requests().is_empty(), "nothing was sent");

    // gpt-4.1 may cost $0.008 and is refused too; the free local route behind them answers.
    let response = rig
        .gateway
        .chat("smart", request)
        .await
        .expect("the unpriced local model answers");
    assert_eq!(response.provider, "local");
}

#[tokio::test]
async fn spend_is_settled_at_the_real_cost() {
    let rig = rig_with(|c| {
        c.budget = BudgetLimits {
            daily: Some(Usd::from_dollars(1.0)),
            monthly: None,
        }
    })
    .await;
    rig.fake.script(
        "gpt-4.1",
        [Script::Reply(Reply::text(["ok"]).with_usage(1_000, 500))],
    );
    rig.ask("openai:gpt-4.1").await.expect("answer");
    // gpt-4.1: $2 in, $8 out per million.
    let expected = Usd::from_dollars(1_000.0 * 2e-6 + 500.0 * 8e-6);
    assert_eq!(rig.gateway.spent(), (expected, expected));
    assert_eq!(rig.ledger.records()[0].cost, Some(expected));
}

async fn concurrent_calls(
    budget_dollars: f64,
    output_tokens: u64,
    max_tokens: u32,
    calls: usize,
) -> (Usd, Usd, usize) {
    let fake = FakeLlm::start().await.expect("fake server");
    fake.set_default(Script::Reply(Reply::text(["x"]).with_usage(20, output_tokens)));
    let mut config = GatewayConfig::parse(&crate::support::config_text(&fake), "test.toml").expect("config");
    config.budget = BudgetLimits {
        daily: Some(Usd::from_dollars(budget_dollars)),
        monthly: None,
    };
    let ledger = Arc::new(MemoryLedger::new());
    let clock = Arc::new(ManualClock::new(start_time()));
    let gateway = start_gateway(
        config,
        Arc::clone(&ledger) as Arc<dyn UsageLedger>,
        clock as Arc<dyn Clock>,
    )
    .await;
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move {
                let request = ChatRequest {
                    max_tokens: Some(max_tokens),
                    ..ChatRequest::user("hello")
                };
                gateway.chat("anthropic:claude-sonnet-4-5", request).await
            })
        })
        .collect();
    let mut answered = 0;
    for task in tasks {
        match task.await.expect("task ran") {
            Ok(_) => answered += 1,
            Err(GatewayError::Budget(_)) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    let recorded = ledger
        .records()
        .iter()
        .fold(Usd::ZERO, |s, r| s.saturating_add(r.cost.unwrap_or(Usd::ZERO)));
    (gateway.spent().0, recorded, answered)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_calls_never_spend_past_the_budget(
        budget_millidollars in 1_u32..200,
        max_tokens in 10_u32..400,
        output_fraction in 0.0_f64..=1.0,
    ) {
        let output_tokens = (f64::from(max_tokens) * output_fraction) as u64;
        let budget = f64::from(budget_millidollars) / 1000.0;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let (spent, recorded, answered) = runtime.block_on(concurrent_calls(budget, output_tokens, max_tokens, 100));
        prop_assert!(spent <= Usd::from_dollars(budget), "spent {spent} of {budget}");
        prop_assert_eq!(spent, recorded);
        // A worst case that fits the budget means at least one call went through.
        let worst = 15e-6 * f64::from(max_tokens) + 3e-6 * 40.0;
        if worst < budget {
            prop_assert!(answered >= 1);
        }
    }
}

#[tokio::test]
async fn an_abandoned_stream_settles_an_estimate_and_frees_its_reservation() {
    // Room for one worst case (~100 output tokens at $8/M plus the prompt) but not two.
    let rig = rig_with(|c| {
        c.budget = BudgetLimits {
            daily: Some(Usd::from_dollars(0.0012)),
            monthly: None,
        }
    })
    .await;
    rig.fake.script(
        "gpt-4.1",
        [Script::StallAfter {
            events: 2,
            reply: Reply::text(["partial", " answer"]),
        }],
    );
    let mut stream = rig.ask_streaming("openai:gpt-4.1").await.expect("answer starts");
    let first = futures::StreamExt::next(&mut stream).await;
    assert!(matches!(
        first,
        Some(Ok(auren_gateway::StreamEvent::TextDelta { .. }))
    ));
    let error = rig
        .ask("openai:gpt-4.1")
        .await
        .expect_err("the reservation is held");
    assert!(matches!(error, GatewayError::Budget(_)), "{error}");
    drop(stream);
    let (today, _) = rig.gateway.spent();
    assert!(
        today > Usd::ZERO && today < Usd::from_dollars(0.0002),
        "an estimate was settled: {today}"
    );
    rig.ask("openai:gpt-4.1")
        .await
        .expect("the reservation was released");
}

#[tokio::test]
async fn a_cut_stream_hands_back_the_estimate_the_ledger_books() {
    let rig = rig().await;
    rig.fake.script(
        "gpt-4.1",
        [Script::StallAfter {
            events: 2,
            reply: Reply::text(["partial", " answer"]),
        }],
    );
    let mut stream = rig.ask_streaming("openai:gpt-4.1").await.expect("answer starts");
    let first = futures::StreamExt::next(&mut stream).await;
    assert!(matches!(
        first,
        Some(Ok(auren_gateway::StreamEvent::TextDelta { .. }))
    ));
    let usage = stream.cut().await.expect("a cut stream tells its estimate");
    // `cut` waits for the ledger write: the row is there at once, with the same figures.
    let records = rig.ledger.records();
    assert_eq!(records.len(), 1, "{records:?}");
    let booked = &records[0];
    assert!(usage.estimated && booked.estimated);
    assert_eq!(
        (usage.input_tokens, usage.output_tokens),
        (booked.input_tokens, booked.output_tokens)
    );
    assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "{usage:?}");
}

#[tokio::test]
async fn a_finished_stream_has_nothing_untold() {
    let rig = rig().await;
    rig.fake
        .script("gpt-4.1", [Script::Reply(Reply::text(["whole answer"]))]);
    let mut stream = rig.ask_streaming("openai:gpt-4.1").await.expect("answer starts");
    while let Some(event) = futures::StreamExt::next(&mut stream).await {
        event.expect("no error");
    }
    assert_eq!(stream.cut().await, None, "its usage was yielded as an event");
}

#[tokio::test]
async fn a_call_dropped_before_its_first_token_books_the_prompt_estimate() {
    let rig = rig().await;
    rig.fake.script("gpt-4.1", [Script::StallBeforeFirstToken]);
    let request = ChatRequest::user("hi");
    let opening = Opening::default();
    let call = rig
        .gateway
        .stream_with("openai:gpt-4.1", request.clone(), &opening);
    // The provider has the prompt (and bills it) but sends nothing; then the caller stops waiting.
    tokio::select! {
        answer = call => panic!("the stalled provider answered: {answer:?}"),
        () = rig.fake.wait_for_requests(1) => {}
    }
    let cut = opening
        .cut()
        .await
        .expect("the dropped call tells what was booked");
    let records = rig.ledger.records();
    assert_eq!(records.len(), 1, "{records:?}");
    let booked = &records[0];
    let prompt = auren_gateway::tokens::estimate_prompt(&request);
    assert_eq!(
        (booked.input_tokens, booked.output_tokens, booked.estimated),
        (prompt, 0, true)
    );
    assert_eq!(
        (booked.provider.as_str(), booked.model.as_str()),
        ("openai", "gpt-4.1")
    );
    assert_eq!(cut.route.to_string(), "openai:gpt-4.1");
    assert_eq!(
        (
            cut.usage.input_tokens,
            cut.usage.output_tokens,
            cut.usage.estimated
        ),
        (prompt, 0, true)
    );
    let (today, _) = rig.gateway.spent();
    assert_eq!(
        Some(today),
        booked.cost,
        "the budget settled what the ledger booked"
    );
    assert!(today > Usd::ZERO);
}
