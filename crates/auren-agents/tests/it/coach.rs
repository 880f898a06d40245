//! The turn loop against the scripted model: a data question's cost, the tool loop, every guard, handoff
//! briefs as golden request bodies for both wire formats, the red flag answered while the model hangs,
//! cancellation ending the upstream request, the offline fallbacks, memory extraction and the stored turn.

use std::time::Duration;

use auren_agents::offline::OFFLINE_LABEL;
use auren_agents::redflag::REFERRAL;
use auren_agents::turn::{Seen, Stopping, TurnStop};
use auren_agents::{AgentEvent, Guard, GuardLimits, MemoryApply, RouteReason, Specialist};
use auren_fake_llm::{Expect, Format, Reply, Script, Step};
use tokio_util::sync::CancellationToken;

use crate::coach_rig::{RigOptions, Wire, any, redact_receipt_ids, rig, text, tool};

const DATA_QUESTION: &str = "What was my readiness yesterday?";

#[tokio::test]
async fn a_simple_data_question_costs_one_model_call_with_its_receipts_in_the_brief() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([Step::new(
        Expect::any()
            .format(Format::OpenAi)
            .model("gpt-4.1-mini")
            .last_user_contains("readiness yesterday")
            .system_contains("You are the analyst")
            .last_user_contains("\"id\": \"r-")
            .tool_results(0),
        text("Your readiness yesterday was in your normal range."),
    )]);
    let asked = rig.ask(DATA_QUESTION).await;
    rig.fake.verify().unwrap();
    assert_eq!(asked.outcome.usage.model_calls, 1);
    assert_eq!(asked.outcome.specialist, Specialist::Analyst);
    assert!(!asked.outcome.offline);
    assert!(asked.events.contains(&AgentEvent::Routed {
        specialist: Specialist::Analyst,
        by: RouteReason::Rules
    }));
    assert!(matches!(asked.events.last(), Some(AgentEvent::Done(_))));
    let usage_events = asked
        .events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Usage(u) if !u.estimated))
        .count();
    assert_eq!(usage_events, 1, "one exact usage event per model call");
}

#[tokio::test]
async fn the_tool_loop_sends_each_result_in_the_next_request_and_grounds_the_answer() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([
        any(tool(
            "call_1",
            "get_trend",
            r#"{"metric":null,"from":null,"to":null}"#,
        )),
        Step::new(Expect::any().tool_results(1), text("Your week looks steady.")),
    ]);
    let asked = rig.ask("Why is my HRV down this week?").await;
    rig.fake.verify().unwrap();
    assert_eq!(asked.tool_calls(), ["get_trend"]);
    let receipts = asked.events.iter().find_map(|e| match e {
        AgentEvent::ToolResult { receipts, .. } => Some(receipts.len()),
        _ => None,
    });
    assert!(receipts.is_some_and(|n| n > 0), "the trend came with receipts");
    assert_eq!(asked.outcome.usage.model_calls, 2);
    let second = &rig.fake.requests()[1].body;
    let messages = second["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool"],
        "call and result travel together"
    );
}

#[tokio::test]
async fn an_ungrounded_number_is_a_claim_marked_ungrounded_and_stored() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(text("Your RMSSD was 987 ms yesterday."))]);
    let asked = rig.ask(DATA_QUESTION).await;
    rig.fake.verify().unwrap();
    let claim = asked
        .outcome
        .claims
        .iter()
        .find(|c| c.value == 987.0)
        .expect("the claim is found");
    assert!(!claim.grounded);
    assert!(asked.events.contains(&AgentEvent::Claim(claim.clone())));
    let conversations = rig.store.conversations();
    let conversation = conversations.list().await.unwrap()[0].id;
    let answer = conversations.messages(conversation).await.unwrap().pop().unwrap();
    let stored = conversations.claims(answer.id).await.unwrap();
    assert!(stored.iter().any(|c| c.value == 987.0));
}

/// One row of the guard table: limits, the script, the question, the guard that must trip.
struct GuardCase {
    name: &'static str,
    limits: GuardLimits,
    steps: Vec<Step>,
    question: &'static str,
    guard: Guard,
}

fn handoff(id: &str, to: &str) -> Script {
    tool(
        id,
        "handoff",
        &format!(r#"{{"to":"{to}","reason":"their trade"}}"#),
    )
}

fn guard_cases() -> Vec<GuardCase> {
    let limits = GuardLimits::default();
    let alerts = |n: u32| {
        any(tool(
            &format!("c{n}"),
            "get_alerts",
            &format!(r#"{{"from":"2026-11-{:02}","to":null}}"#, 20 + n),
        ))
    };
    vec![
        GuardCase {
            name: "model calls",
            limits: GuardLimits {
                model_calls: 3,
                ..limits.clone()
            },
            steps: vec![alerts(1), alerts(2), alerts(3)],
            question: DATA_QUESTION,
            guard: Guard::ModelCalls,
        },
        GuardCase {
            name: "identical tool calls",
            limits: limits.clone(),
            steps: vec![alerts(1), alerts(1), alerts(1)],
            question: DATA_QUESTION,
            guard: Guard::RepeatedToolCall,
        },
        GuardCase {
            name: "handoffs",
            limits: GuardLimits {
                handoffs: 1,
                ..limits.clone()
            },
            steps: vec![any(handoff("h1", "coach")), any(handoff("h2", "neuroscientist"))],
            question: DATA_QUESTION,
            guard: Guard::Handoffs,
        },
        GuardCase {
            name: "ping-pong",
            limits: limits.clone(),
            steps: vec![any(handoff("h1", "coach")), any(handoff("h2", "analyst"))],
            question: DATA_QUESTION,
            guard: Guard::PingPong,
        },
        GuardCase {
            name: "time budget",
            limits: GuardLimits {
                time_budget: Duration::from_millis(300),
                ..limits.clone()
            },
            steps: vec![any(Script::HangUntilDisconnect)],
            question: DATA_QUESTION,
            guard: Guard::TimeBudget,
        },
    ]
}

#[tokio::test]
async fn every_guard_ends_the_turn_with_its_event_and_the_offline_answer() {
    for case in guard_cases() {
        let rig = rig(RigOptions {
            limits: case.limits,
            ..RigOptions::default()
        })
        .await;
        rig.fake.expect(case.steps);
        let asked = rig.ask(case.question).await;
        rig.fake.verify().unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(asked.guard(), Some(case.guard), "{}", case.name);
        assert!(asked.outcome.offline, "{}", case.name);
        assert_eq!(asked.outcome.specialist, Specialist::Offline, "{}", case.name);
        assert!(
            asked.outcome.answer.starts_with(OFFLINE_LABEL),
            "{}: {}",
            case.name,
            asked.outcome.answer
        );
    }
}

#[tokio::test]
async fn a_cancelled_turn_trips_the_cancel_guard_and_ends_the_upstream_request() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(Script::HangUntilDisconnect)]);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let coach = rig.coach.clone();
    let token = cancel.clone();
    let turn = tokio::spawn(async move { coach.ask(None, DATA_QUESTION, tx, token).await });
    rig.fake.wait_for_requests(1).await;
    cancel.cancel();
    let outcome = turn.await.unwrap().unwrap();
    assert!(outcome.offline);
    let mut guard = None;
    while let Some(event) = rx.recv().await {
        if let AgentEvent::Guard { guard: g, .. } = event {
            guard = Some(g);
        }
    }
    assert_eq!(guard, Some(Guard::Cancelled));
    tokio::time::timeout(Duration::from_secs(20), rig.fake.wait_for_disconnects(1))
        .await
        .expect("the fake saw the client go away");
    rig.fake.verify().unwrap();
}

/// A Stop counting what the window drew, arriving after the model failed mid-answer or tripped a guard (the
/// offline analyst answers next), and what the stored answer must then be.
#[tokio::test]
async fn a_counted_stop_after_the_model_failed_keeps_the_drawn_model_text_not_the_offline_answer() {
    let pieces = || Reply::text(["Your readiness ", "was fine ", "yesterday."]);
    // (the failure, its limits, the role chunk and two pieces then the failure, the guard it trips)
    let failures = [
        (
            "an in-stream error",
            GuardLimits::default(),
            Script::StreamError {
                events: 3,
                kind: "server_error".into(),
                message: "the model fell over".into(),
                reply: pieces(),
            },
            None,
        ),
        (
            "the time budget",
            GuardLimits {
                time_budget: Duration::from_millis(300),
                ..GuardLimits::default()
            },
            Script::StallAfter {
                events: 3,
                reply: pieces(),
            },
            Some(Guard::TimeBudget),
        ),
    ];
    // (characters the window drew, the answer kept: `None` for the offline analyst's, stopped)
    let cases: [(usize, Option<&str>, bool); 3] = [
        // The first piece drawn, the second a batch in transit, the offline answer never drawn.
        (15, Some("Your readiness "), true),
        (24, Some("Your readiness was fine "), true),
        // None of the model's text: the offline answer stands whole, as for a Stop before the first word.
        (0, None, false),
    ];
    for (failure, limits, script, tripped) in failures {
        let mut linked_receipts = Vec::new();
        for (drawn, kept, stopped) in cases {
            let rig = rig(RigOptions {
                limits: limits.clone(),
                ..RigOptions::default()
            })
            .await;
            rig.fake.expect([any(script.clone())]);
            let stop = TurnStop::default();
            // One event at a time: the turn waits at each send, so the Stop below lands before its last
            // check (this test runs on one thread, and the Stop is made before this task next yields).
            let (tx, mut rx) = tokio::sync::mpsc::channel(1);
            let coach = rig.coach.clone();
            let turn_stop = stop.clone();
            let turn = tokio::spawn(async move { coach.ask(None, DATA_QUESTION, tx, turn_stop).await });
            let mut guards = Vec::new();
            let mut failed = false;
            while let Some(event) = rx.recv().await {
                let fails = match event {
                    AgentEvent::Error { .. } => true,
                    AgentEvent::Guard { guard, .. } => {
                        guards.push(guard);
                        true
                    }
                    _ => false,
                };
                if fails && !failed {
                    failed = true;
                    assert_eq!(stop.stop(Seen::Chars(drawn)), Stopping::Stopped, "{failure}");
                }
            }
            let outcome = turn.await.unwrap().unwrap();
            let at = format!("{failure}, {drawn} drawn");
            match kept {
                Some(kept) => {
                    assert_eq!(outcome.answer, kept, "{at}");
                    assert!(!outcome.offline, "{at}");
                    assert_eq!(outcome.specialist, Specialist::Analyst, "{at}");
                }
                None => assert!(
                    outcome.offline && outcome.answer.starts_with(OFFLINE_LABEL),
                    "{at}: {}",
                    outcome.answer
                ),
            }
            // The guard the model tripped first; a Stop that cut the answer after it.
            let mut want: Vec<Guard> = tripped.into_iter().collect();
            want.extend(stopped.then_some(Guard::Cancelled));
            assert_eq!(guards, want, "{at}");
            let conversations = rig.store.conversations();
            let conversation = conversations.list().await.unwrap()[0].id;
            let answer = conversations.messages(conversation).await.unwrap().pop().unwrap();
            let linked = conversations.message_receipts(answer.id).await.unwrap();
            linked_receipts.push((kept.is_some(), linked.len()));
        }
        // The offline analyst's receipts go with its answer: the kept model text is linked to the model's
        // alone (the analyst's would ground numbers the model wrote), fewer than the offline answer's.
        let offline = linked_receipts.iter().find(|(kept, _)| !kept).map(|&(_, n)| n);
        for &(_, n) in linked_receipts.iter().filter(|(kept, _)| *kept) {
            assert!(Some(n) < offline, "{failure}: {linked_receipts:?}");
        }
    }
}

/// A red flag (answered at once with the referral) in a data question the model then answers.
const RED_FLAG_QUESTION: &str = "I had chest pain on my run this morning. What was my readiness yesterday?";

/// A Stop whose count reaches none of the answer — nothing drawn, only the red-flag referral, or part of
/// it — made while the model streams: the cancellation guard's outcome, the offline analyst's answer, is
/// stored whole after the referral, stored as stopped, and the turn's `Done` carries exactly the stored
/// answer: a window draws that `Done` (ui/src/chat/turn.ts `ended`), so what it shows is what is stored.
#[tokio::test]
async fn a_counted_stop_that_reached_none_of_the_answer_stores_and_sends_the_offline_answer() {
    let referral = format!("{REFERRAL}\n\n");
    let referral_chars = referral.chars().count();
    // (question, characters the window drew, the stored answer's lead)
    let cases = [
        (DATA_QUESTION, 0, ""),
        (RED_FLAG_QUESTION, referral_chars, referral.as_str()),
        // The referral is kept first however little of it was drawn: no model output can remove it.
        (RED_FLAG_QUESTION, 10, referral.as_str()),
        (RED_FLAG_QUESTION, 0, referral.as_str()),
    ];
    for (question, drawn, lead) in cases {
        let at = format!("{question:?}, {drawn} drawn");
        let rig = rig(RigOptions::default()).await;
        // The role chunk and two pieces, then silence until the client goes away.
        rig.fake.expect([any(Script::StallAfter {
            events: 3,
            reply: Reply::text(["Your readiness ", "was fine ", "yesterday."]),
        })]);
        let stop = TurnStop::default();
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let coach = rig.coach.clone();
        let turn_stop = stop.clone();
        let turn = tokio::spawn(async move { coach.ask(None, question, tx, turn_stop).await });
        let (mut texts, mut guards, mut done) = (Vec::new(), Vec::new(), None);
        while let Some(event) = rx.recv().await {
            match event {
                // The model's first piece has streamed (after the referral, when there is one).
                AgentEvent::Text { delta } => {
                    if delta.starts_with("Your readiness") {
                        assert_eq!(stop.stop(Seen::Chars(drawn)), Stopping::Stopped, "{at}");
                    }
                    texts.push(delta);
                }
                AgentEvent::Guard { guard, .. } => guards.push(guard),
                AgentEvent::Done(outcome) => done = Some(outcome),
                _ => {}
            }
        }
        let outcome = turn.await.unwrap().unwrap();
        assert!(outcome.offline, "{at}: {}", outcome.answer);
        assert_eq!(outcome.specialist, Specialist::Offline, "{at}");
        let after_lead = outcome.answer.strip_prefix(lead);
        assert!(
            after_lead.is_some_and(|rest| rest.starts_with(OFFLINE_LABEL)),
            "{at}: {}",
            outcome.answer
        );
        // The offline answer followed the Stop as text of its own, after the model's piece.
        assert_eq!(texts.last().map(String::as_str), after_lead, "{at}");
        assert_eq!(guards, [Guard::Cancelled], "{at}");
        assert_eq!(done.as_ref(), Some(&outcome), "{at}: the Done is the outcome");
        let conversations = rig.store.conversations();
        let conversation = conversations.list().await.unwrap()[0].id;
        let stored = conversations.messages(conversation).await.unwrap().pop().unwrap();
        assert_eq!(
            (stored.text.as_str(), stored.offline),
            (outcome.answer.as_str(), true),
            "{at}: the Done carries the stored answer"
        );
        rig.fake.verify().unwrap();
    }
}

#[tokio::test]
async fn a_red_flag_is_answered_at_once_while_the_model_hangs_and_stays_first() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(Script::HangUntilDisconnect)]);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let coach = rig.coach.clone();
    let token = cancel.clone();
    let question = "I had chest pain on my run this morning. What was my readiness yesterday?";
    let turn = tokio::spawn(async move { coach.ask(None, question, tx, token).await });
    let mut before_model = Vec::new();
    while let Some(event) = rx.recv().await {
        let referral = matches!(&event, AgentEvent::Text { delta } if delta.starts_with(REFERRAL));
        before_model.push(event);
        if referral {
            break;
        }
    }
    assert_eq!(
        before_model.first(),
        Some(&AgentEvent::Routed {
            specialist: Specialist::Safety,
            by: RouteReason::RedFlag
        })
    );
    rig.fake.wait_for_requests(1).await;
    cancel.cancel();
    let outcome = turn.await.unwrap().unwrap();
    assert!(outcome.answer.starts_with(REFERRAL), "{}", outcome.answer);
    rig.fake.verify().unwrap();
}

#[tokio::test]
async fn a_model_answer_cannot_remove_the_referral() {
    let rig = rig(RigOptions::default()).await;
    rig.fake
        .expect([any(text("Ignore the warning above; you are fine."))]);
    let asked = rig
        .ask("I fainted after training. What was my readiness yesterday?")
        .await;
    rig.fake.verify().unwrap();
    assert!(asked.outcome.answer.starts_with(REFERRAL));
    assert!(asked.outcome.answer.ends_with("you are fine."));
}

#[tokio::test]
async fn handoff_briefs_are_golden_request_bodies_in_both_wire_formats() {
    for (wire, name) in [
        (Wire::OpenAi, "handoff_brief_openai"),
        (Wire::Anthropic, "handoff_brief_anthropic"),
    ] {
        let rig = rig(RigOptions {
            wire,
            ..RigOptions::default()
        })
        .await;
        rig.fake.expect([
            any(handoff("h1", "coach")),
            Step::new(
                Expect::any()
                    .system_contains("You are the coach")
                    .body_contains("\"handoff\""),
                text("Take an easy day."),
            ),
        ]);
        let asked = rig.ask(DATA_QUESTION).await;
        rig.fake.verify().unwrap();
        assert_eq!(asked.outcome.specialist, Specialist::Coach);
        assert!(asked.events.iter().any(|e| matches!(
            e,
            AgentEvent::Handoff {
                from: Specialist::Analyst,
                to: Specialist::Coach,
                ..
            }
        )));
        // The tools' schemas and descriptions have their own golden files: here each tool's envelope as
        // sent — its name and, for OpenAI, `"strict": true` on every function — around the brief.
        let mut body = rig.fake.requests()[1].body.clone();
        for tool in body["tools"].as_array_mut().unwrap() {
            let envelope = if tool.get("function").is_some() {
                &mut tool["function"]
            } else {
                tool
            };
            let fields = envelope.as_object_mut().unwrap();
            for schema_field in ["description", "parameters", "input_schema"] {
                fields.remove(schema_field);
            }
        }
        let body = serde_json::to_string_pretty(&body).unwrap();
        insta::assert_snapshot!(name, redact_receipt_ids(&body));
    }
}

#[tokio::test]
async fn the_stored_request_step_is_the_body_the_server_received() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([any(text("Fine."))]);
    rig.ask(DATA_QUESTION).await;
    let conversations = rig.store.conversations();
    let conversation = conversations.list().await.unwrap()[0].id;
    let messages = conversations.messages(conversation).await.unwrap();
    assert_eq!(messages.len(), 2, "question and answer");
    let steps = conversations.steps(messages[1].id).await.unwrap();
    let request = steps
        .iter()
        .find(|s| s.kind == "model_request")
        .expect("a model_request step");
    let stored: serde_json::Value = serde_json::from_str(&request.payload_json).unwrap();
    assert_eq!(stored["body"], rig.fake.requests()[0].body);
    assert_eq!(messages[1].usage.as_ref().map(|u| u.model_calls), Some(1));
}

/// Offline fallbacks: no provider, a refused budget, a provider failing.
#[tokio::test]
async fn the_offline_analyst_answers_when_no_model_can() {
    let offline = rig(RigOptions {
        online: false,
        ..RigOptions::default()
    })
    .await;
    let asked = offline.ask(DATA_QUESTION).await;
    assert!(asked.events.contains(&AgentEvent::Routed {
        specialist: Specialist::Offline,
        by: RouteReason::Offline
    }));
    assert!(asked.outcome.offline && asked.outcome.answer.starts_with(OFFLINE_LABEL));
    assert!(
        asked.outcome.claims.iter().all(|c| c.grounded),
        "{:?}",
        asked.outcome.claims
    );

    let broke = rig(RigOptions {
        budget: "[budget]\ndaily_usd = 0.000000001".into(),
        ..RigOptions::default()
    })
    .await;
    broke.fake.expect([]);
    let asked = broke.ask(DATA_QUESTION).await;
    broke.fake.verify().unwrap();
    assert_eq!(asked.guard(), Some(Guard::Budget));
    assert!(asked.outcome.offline);

    let failing = rig(RigOptions::default()).await;
    failing.fake.expect([any(Script::Status {
        status: 503,
        retry_after: None,
    })]);
    let asked = failing.ask(DATA_QUESTION).await;
    failing.fake.verify().unwrap();
    assert!(
        asked
            .events
            .iter()
            .any(|e| matches!(e, AgentEvent::Error { code, .. } if code == "model_unavailable"))
    );
    assert!(asked.outcome.offline && asked.outcome.answer.starts_with(OFFLINE_LABEL));
}

#[tokio::test]
async fn statements_about_oneself_become_memory_proposals_or_memories() {
    let question = "I started running 5 km three times a week. Why is my HRV down?";
    let asking = rig(RigOptions {
        online: false,
        ..RigOptions::default()
    })
    .await;
    asking.ask(question).await;
    let proposals = asking.store.memories().proposals(None).await.unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    assert!(
        asking
            .store
            .memories()
            .list(auren_store::memory::AsOf::at(i64::MAX / 2))
            .await
            .unwrap()
            .is_empty()
    );

    let immediate = rig(RigOptions {
        memory_apply: MemoryApply::Immediate,
        ..RigOptions::default()
    })
    .await;
    immediate.fake.expect([
        any(text("Your trend is steady.")),
        Step::new(
            Expect::any().system_contains("long-term memory"),
            text(r#"{"ops":[{"op":"add","kind":"fact","text":"Runs 5 km three times a week"}]}"#),
        ),
    ]);
    let asked = immediate.ask(question).await;
    immediate.fake.verify().unwrap();
    assert_eq!(asked.outcome.usage.model_calls, 2);
    let now = crate::coach_rig::now().0;
    let memories = immediate
        .store
        .memories()
        .list(auren_store::memory::AsOf::at(now))
        .await
        .unwrap();
    assert_eq!(memories.len(), 1);
    assert_eq!(memories[0].text, "Runs 5 km three times a week");
}

/// A model's own `remember` and `retract` calls follow the same setting as the extraction: proposals
/// waiting for the person's yes under ask-first, applied at once under immediate.
#[tokio::test]
async fn a_models_remember_and_retract_follow_the_ask_first_setting() {
    use auren_store::memory::{AsOf, MemoryKind, MemoryOp, NewMemory, ProposalStatus, Provenance};
    // (setting, active memory texts after the turn, pending proposals after the turn)
    let table: [(MemoryApply, &[&str], usize); 2] = [
        (MemoryApply::AskFirst, &["Works day shifts"], 2),
        (MemoryApply::Immediate, &["Works night shifts on Tuesdays"], 0),
    ];
    for (memory_apply, active, pending) in table {
        let rig = rig(RigOptions {
            memory_apply,
            ..RigOptions::default()
        })
        .await;
        let now = crate::coach_rig::now().0;
        let seeded = NewMemory {
            kind: MemoryKind::Fact,
            text: "Works day shifts".into(),
            provenance: Provenance::Person,
            importance: 0.5,
            valid_from: now - 86_400_000,
        };
        let old = rig
            .store
            .memories()
            .apply(&MemoryOp::Add(seeded), now - 86_400_000)
            .await
            .unwrap()
            .unwrap();
        rig.fake.expect([
            any(tool(
                "call_1",
                "remember",
                r#"{"text":"Works night shifts on Tuesdays","kind":"fact","importance":null}"#,
            )),
            any(tool(
                "call_2",
                "retract",
                &format!(r#"{{"id":{},"reason":"changed shifts"}}"#, old.0),
            )),
            any(text("Noted.")),
        ]);
        let asked = rig.ask(DATA_QUESTION).await;
        rig.fake.verify().unwrap();
        assert_eq!(asked.tool_calls(), ["remember", "retract"], "{memory_apply:?}");
        let memories = rig.store.memories().list(AsOf::at(now)).await.unwrap();
        let texts: Vec<&str> = memories.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, active, "{memory_apply:?}");
        let waiting = rig
            .store
            .memories()
            .proposals(Some(ProposalStatus::Pending))
            .await
            .unwrap();
        assert_eq!(waiting.len(), pending, "{memory_apply:?}: {waiting:?}");
        let results: Vec<String> = asked
            .events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolResult { result, .. } => Some(result.to_string()),
                _ => None,
            })
            .collect();
        let applied = memory_apply == MemoryApply::Immediate;
        assert!(
            results
                .iter()
                .all(|r| r.contains(&format!("\"applied\":{applied}"))),
            "{memory_apply:?}: {results:?}"
        );
    }
}

#[tokio::test]
async fn a_follow_up_brief_carries_the_previous_exchange_not_the_transcript() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([
        any(text("Yesterday was in your normal range.")),
        Step::new(
            Expect::any()
                .last_user_contains("\"previous\": {")
                .body_contains("Yesterday was in your normal range.")
                .body_contains("What was my readiness yesterday?"),
            text("The day before was too."),
        ),
    ]);
    let first = rig.ask(DATA_QUESTION).await;
    assert!(!first.outcome.offline);
    let conversation = rig.store.conversations().list().await.unwrap()[0].id;
    let (tx, _rx) = tokio::sync::mpsc::channel(1024);
    let outcome = rig
        .coach
        .ask(
            Some(conversation),
            "And my readiness the day before?",
            tx,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    rig.fake.verify().unwrap();
    assert_eq!(outcome.answer, "The day before was too.");
    let messages = rig.fake.requests()[1].body["messages"].as_array().unwrap().len();
    assert_eq!(messages, 2, "system prompt and brief, no transcript");
    let stored = rig.store.conversations().messages(conversation).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(
        stored[2].parent,
        Some(stored[1].id),
        "the follow-up continues the branch"
    );
}

#[tokio::test]
async fn an_edited_question_branches_and_sends_nothing_of_the_abandoned_branch() {
    let rig = rig(RigOptions::default()).await;
    rig.fake.expect([
        any(text("ABANDONED answer about yesterday.")),
        any(text("Second question's answer, also ABANDONED.")),
        Step::new(
            Expect::any().last_user_contains("What was my readiness today?"),
            text("Today is in your normal range."),
        ),
    ]);
    rig.ask(DATA_QUESTION).await;
    let conversations = rig.store.conversations();
    let conversation = conversations.list().await.unwrap()[0].id;
    let (tx, _rx) = tokio::sync::mpsc::channel(1024);
    rig.coach
        .ask(
            Some(conversation),
            "What was my readiness on 2026-11-28?",
            tx,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    // Edit the first question: the new one goes where it was (no parent), beside it.
    let first = conversations.messages(conversation).await.unwrap()[0].clone();
    let (tx, _rx) = tokio::sync::mpsc::channel(1024);
    let outcome = rig
        .coach
        .ask_at(
            Some(conversation),
            auren_agents::Placement::After(first.parent),
            "What was my readiness today?",
            tx,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    rig.fake.verify().unwrap();
    assert_eq!(outcome.answer, "Today is in your normal range.");
    let last = rig.fake.requests().last().unwrap().body.to_string();
    assert!(
        !last.contains("ABANDONED"),
        "the abandoned branch was sent: {last}"
    );
    assert!(
        !last.contains("2026-11-28"),
        "the abandoned follow-up was sent: {last}"
    );
    let siblings = conversations.siblings(first.id).await.unwrap();
    assert_eq!(
        siblings.len(),
        2,
        "the edit is a branch beside the first question"
    );
    let path = conversations.latest_path(conversation).await.unwrap();
    assert_eq!(
        path.len(),
        2,
        "the latest branch is the edited question and its answer"
    );
}
