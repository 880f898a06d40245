//! The turn's meter against the budget's ledger: one usage event per model call (numbered, with how full
//! the model's context is), running estimates while a call streams, and a call cut short by a Stop
//! counted in the turn exactly as the gateway booked it.

use auren_agents::{AgentEvent, TurnOutcome, TurnUsage, UsagePhase};
use auren_fake_llm::{Reply, Script};
use auren_gateway::UsageRecord;
use tokio_util::sync::CancellationToken;

use crate::coach_rig::{CoachRig, RigOptions, any, rig, text, tool};

/// gpt-4.1-mini's context window in the bundled table (the rig's model).
const CONTEXT_WINDOW: Option<u32> = Some(1_047_576);

/// The ledger's rows added up: (input tokens, output tokens, dollars).
fn booked(records: &[UsageRecord]) -> (u64, u64, f64) {
    records.iter().fold((0, 0, 0.0), |(i, o, c), r| {
        (
            i + r.input_tokens,
            o + r.output_tokens,
            c + r.cost.map_or(0.0, auren_gateway::Usd::as_dollars),
        )
    })
}

fn usage_events(events: &[AgentEvent]) -> Vec<&TurnUsage> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Usage(u) => Some(u),
            _ => None,
        })
        .collect()
}

/// The usage stored with the turn's answer (the conversation's last message).
async fn stored_usage(rig: &CoachRig) -> auren_store::conversations::MessageUsage {
    let conversations = rig.store.conversations();
    let list = conversations.list().await.expect("conversations");
    let messages = conversations.messages(list[0].id).await.expect("messages");
    let answer = messages.last().expect("an answer was stored");
    answer.usage.clone().expect("the answer has its usage")
}

fn assert_matches_ledger(what: &str, (input, output, cost): (u64, u64, f64), outcome: &TurnOutcome) {
    assert_eq!(
        (outcome.usage.input_tokens, outcome.usage.output_tokens),
        (input, output),
        "{what}: the turn's tokens are the ledger's"
    );
    assert!(
        (outcome.usage.cost_usd - cost).abs() < 1e-12,
        "{what}: {} vs {cost}",
        outcome.usage.cost_usd
    );
}

#[tokio::test]
async fn each_call_reports_its_own_usage_and_context_and_the_turn_adds_them_up() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([
        any(tool(
            "call_1",
            "get_trend",
            r#"{"metric":null,"from":null,"to":null}"#,
        )),
        any(text("Your week looks steady.")),
    ]);
    let asked = rig.ask("Why is my HRV down this week?").await;
    rig.fake.verify().unwrap();
    let events = usage_events(&asked.events);
    let exact: Vec<&&TurnUsage> = events.iter().filter(|u| !u.estimated).collect();
    assert_eq!(exact.iter().map(|u| u.call).collect::<Vec<_>>(), [1, 2]);
    // One final count per call; every other event is a running estimate that a later one replaces.
    let phases: Vec<(u32, UsagePhase)> = events
        .iter()
        .filter(|u| u.phase != UsagePhase::Running)
        .map(|u| (u.call, u.phase))
        .collect();
    assert_eq!(phases, [(1, UsagePhase::Final), (2, UsagePhase::Final)]);
    assert!(
        events
            .iter()
            .all(|u| (u.phase == UsagePhase::Running) == u.estimated),
        "{events:?}"
    );
    assert!(
        exact
            .iter()
            .all(|u| u.context_window == CONTEXT_WINDOW && u.context_tokens == u.input_tokens)
    );
    let total = &asked.outcome.usage;
    assert_eq!(total.input_tokens, exact[0].input_tokens + exact[1].input_tokens);
    assert_eq!(
        total.output_tokens,
        exact[0].output_tokens + exact[1].output_tokens
    );
    assert_eq!(
        total.context_tokens, exact[1].input_tokens,
        "context used is the last call's input"
    );
    assert_eq!(total.context_window, CONTEXT_WINDOW);
    assert_matches_ledger("two calls", booked(&rig.ledger.records()), &asked.outcome);
    // A running estimate of a call comes before its exact count, and counts both sides. Whether one comes
    // at all depends on the prompt's count (on a blocking thread, so the text never waits for it) being
    // done before the last text delta: with this fake's instant one-delta answer it may not be.
    for call in [1, 2] {
        let exact = events.iter().position(|u| !u.estimated && u.call == call);
        for (at, estimate) in events
            .iter()
            .enumerate()
            .filter(|(_, u)| u.estimated && u.call == call)
        {
            assert!(exact.is_some_and(|x| at < x), "call {call}: {events:?}");
            assert!(
                estimate.input_tokens > 0 && estimate.output_tokens > 0,
                "{estimate:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_call_stopped_mid_stream_is_counted_in_the_stored_turn_as_the_ledger_booked_it() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(Script::StallAfter {
        events: 3,
        reply: Reply::text(["Your readiness ", "was fine ", "yesterday."]),
    })]);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let coach = rig.coach.clone();
    let token = cancel.clone();
    let turn = tokio::spawn(async move {
        coach
            .ask(None, "What was my readiness yesterday?", tx, token)
            .await
    });
    let mut events = Vec::new();
    while let Some(event) = rx.recv().await {
        let streamed = matches!(event, AgentEvent::Text { .. });
        events.push(event);
        if streamed {
            cancel.cancel();
        }
    }
    let outcome = turn.await.expect("the turn ran").expect("the turn answered");
    let records = rig.ledger.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].estimated && records[0].output_tokens > 0,
        "{records:?}"
    );
    let ledger = booked(&records);
    assert_matches_ledger("stopped", ledger, &outcome);
    assert!(outcome.usage.estimated);
    let stored = stored_usage(&rig).await;
    assert_eq!(
        (stored.tokens_in, stored.tokens_out),
        (ledger.0, ledger.1),
        "stored with the turn"
    );
    assert!(
        stored.estimated && (stored.cost_usd - ledger.2).abs() < 1e-12,
        "{stored:?}"
    );
    let last = usage_events(&events)
        .into_iter()
        .next_back()
        .expect("a usage event");
    assert_eq!(
        (
            last.call,
            last.input_tokens,
            last.output_tokens,
            last.estimated,
            last.phase
        ),
        (1, ledger.0, ledger.1, true, UsagePhase::Cut),
        "the window hears the cut call's estimate"
    );
}

/// A provider that sends no usage still gets its call's final count: the gateway's estimate, marked
/// estimated, in the `Final` phase the CLI prints (before, it looked like a running estimate and was dropped).
#[tokio::test]
async fn a_call_without_usage_ends_with_a_final_estimate() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(Script::Reply(
        Reply::text(["Your week ", "looks steady."]).without_usage(),
    ))]);
    let asked = rig.ask("How was my week?").await;
    rig.fake.verify().unwrap();
    let events = usage_events(&asked.events);
    let last = events.last().expect("a usage event");
    assert_eq!(
        (last.call, last.phase, last.estimated),
        (1, UsagePhase::Final, true),
        "{events:?}"
    );
    assert!(last.input_tokens > 0 && last.output_tokens > 0, "{last:?}");
    assert_eq!(asked.outcome.usage.phase, UsagePhase::Final);
}

/// A Stop while the model has not sent its first token (a reasoning model thinking): the provider bills
/// the prompt, so the gateway books the prompt estimate and the turn counts it as the cut call.
#[tokio::test]
async fn a_call_stopped_before_its_first_token_is_counted_as_the_ledger_booked_it() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(Script::StallBeforeFirstToken)]);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let coach = rig.coach.clone();
    let token = cancel.clone();
    let turn = tokio::spawn(async move {
        coach
            .ask(None, "What was my readiness yesterday?", tx, token)
            .await
    });
    rig.fake.wait_for_requests(1).await;
    cancel.cancel();
    let mut events = Vec::new();
    while let Some(event) = rx.recv().await {
        events.push(event);
    }
    let outcome = turn.await.expect("the turn ran").expect("the turn ended");
    let records = rig.ledger.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].estimated && records[0].input_tokens > 0 && records[0].output_tokens == 0,
        "{records:?}"
    );
    let ledger = booked(&records);
    assert_matches_ledger("stopped before the first token", ledger, &outcome);
    let last = usage_events(&events)
        .into_iter()
        .next_back()
        .expect("a usage event");
    assert_eq!(
        (
            last.call,
            last.input_tokens,
            last.output_tokens,
            last.estimated,
            last.phase
        ),
        (1, ledger.0, 0, true, UsagePhase::Cut),
    );
}
