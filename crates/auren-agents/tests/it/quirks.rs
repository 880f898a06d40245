//! Streamed tool calls as real servers send them, through the real gateway: each quirk of the scripted
//! model decodes to the same calls, in both wire formats where the quirk exists.

use std::sync::Arc;

use auren_fake_llm::{FakeLlm, FakeToolCall, Quirk, Reply, Script, Step};
use auren_gateway::{
    ChatRequest, Clock, Gateway, GatewayConfig, ManualClock, MemoryLedger, MemorySecrets, StreamEvent,
    ToolCall,
};
use futures::StreamExt;

async fn gateway(fake: &FakeLlm) -> Gateway {
    let text = format!(
        r#"
[retry]
max_retries = 0
initial_backoff_ms = 1
max_backoff_ms = 4
max_retry_after_ms = 10

[[provider]]
name = "openai"
kind = "openai"
base_url = "{}"

[[provider]]
name = "anthropic"
kind = "anthropic"
base_url = "{}"
"#,
        fake.openai_base_url(),
        fake.anthropic_base_url()
    );
    let config = GatewayConfig::parse(&text, "quirks.toml").unwrap();
    let secrets = MemorySecrets::new()
        .with("openai", "fake-key-1")
        .with("anthropic", "fake-key-2");
    let clock = Arc::new(ManualClock::new(crate::coach_rig::now())) as Arc<dyn Clock>;
    Gateway::start(config, Arc::new(secrets), Arc::new(MemoryLedger::new()), clock)
        .await
        .unwrap()
}

fn two_calls() -> Reply {
    Reply::tool_calls([
        (
            "call_a".to_owned(),
            "get_trend".to_owned(),
            vec![r#"{"metric":"#, r#""ln_rmssd"}"#],
        ),
        (
            "call_b".to_owned(),
            "get_alerts".to_owned(),
            vec!["{", r#""from":"2026-11-01"}"#],
        ),
    ])
    .with_text(["Looking ", "at ", "it ", "— ", "ça ", "va ", "💓"])
}

fn expected_calls(reply: &Reply) -> Vec<ToolCall> {
    reply
        .tool_calls
        .iter()
        .map(|c: &FakeToolCall| ToolCall {
            id: c.id.clone(),
            name: c.name.clone(),
            arguments: c.argument_chunks.concat(),
        })
        .collect()
}

#[tokio::test]
async fn every_quirk_decodes_to_the_same_calls_and_text() {
    let table = [
        ("openai:gpt-4.1", Quirk::None),
        ("openai:gpt-4.1", Quirk::NoIndex),
        ("openai:gpt-4.1", Quirk::AllIndexZero),
        ("openai:gpt-4.1", Quirk::CollidingIndices),
        ("openai:gpt-4.1", Quirk::SplitUtf8),
        ("anthropic:claude-sonnet-4-5", Quirk::None),
        ("anthropic:claude-sonnet-4-5", Quirk::SplitUtf8),
        ("anthropic:claude-sonnet-4-5", Quirk::AnthropicEmptyPartial),
    ];
    let fake = FakeLlm::start().await.unwrap();
    let gateway = gateway(&fake).await;
    for (model, quirk) in table {
        let reply = two_calls().with_quirk(quirk);
        fake.expect([Step::any(Script::Reply(reply.clone()))]);
        let mut stream = gateway.stream(model, ChatRequest::user("hi")).await.unwrap();
        let (mut text, mut calls) = (String::new(), Vec::new());
        while let Some(event) = stream.next().await {
            match event.unwrap_or_else(|e| panic!("{model} {quirk:?}: {e}")) {
                StreamEvent::TextDelta { text: t } => text.push_str(&t),
                StreamEvent::ToolCall { call, .. } => calls.push(call),
                _ => {}
            }
        }
        assert_eq!(text, "Looking at it — ça va 💓", "{model} {quirk:?}");
        assert_eq!(calls, expected_calls(&reply), "{model} {quirk:?}");
    }
    fake.verify().unwrap();
}

#[tokio::test]
async fn an_unexpected_extra_call_fails_and_an_unused_step_is_reported() {
    let fake = FakeLlm::start().await.unwrap();
    let gateway = gateway(&fake).await;
    fake.expect([Step::any(Script::Reply(Reply::text(["one"])))]);
    gateway
        .chat("openai:gpt-4.1", ChatRequest::user("first"))
        .await
        .unwrap();
    let extra = gateway.chat("openai:gpt-4.1", ChatRequest::user("second")).await;
    assert!(extra.unwrap_err().to_string().contains("500"));
    let violation = fake.verify().unwrap_err();
    assert!(
        violation.problems[0].contains("unexpected extra call"),
        "{violation}"
    );

    let unused = FakeLlm::start().await.unwrap();
    unused.expect([Step::any(Script::Reply(Reply::text(["never asked"])))]);
    let violation = unused.verify().unwrap_err();
    assert!(violation.problems[0].contains("never requested"), "{violation}");
}
