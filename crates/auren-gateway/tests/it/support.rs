//! The test rig: a fake provider server and a gateway configured against it, with a manual clock.

use auren_fake_llm::{FakeLlm, Script};
use auren_gateway::{
    ChatRequest, ChatResponse, ChatStream, Clock, Gateway, GatewayConfig, GatewayError, ManualClock,
    MemoryLedger, MemorySecrets, StreamEvent, UsageLedger, UtcDate,
};
use futures::StreamExt;
use std::sync::Arc;

// Made-up keys, shaped unlike real ones so secret scanners stay quiet; tests look for them in logs.
pub const OPENAI_KEY: &str = "fake-openai-key-c0ffee1234567890";
pub const ANTHROPIC_KEY: &str = "fake-anthropic-key-deadbeef0987654321";

pub struct Rig {
    pub fake: FakeLlm,
    pub gateway: Gateway,
    pub clock: Arc<ManualClock>,
    pub ledger: Arc<MemoryLedger>,
}

impl Rig {
    /// Asks `model` "hi" and waits for the whole answer: the request most tests send.
    pub async fn ask(&self, model: &str) -> Result<ChatResponse, GatewayError> {
        self.gateway.chat(model, ChatRequest::user("hi")).await
    }

    /// Asks `model` "hi" and returns the stream once the answer has begun.
    pub async fn ask_streaming(&self, model: &str) -> Result<ChatStream, GatewayError> {
        self.gateway.stream(model, ChatRequest::user("hi")).await
    }
}

/// The fake server answers with HTTP `code` and no `Retry-After`.
pub fn status(code: u16) -> Script {
    Script::Status {
        status: code,
        retry_after: None,
    }
}

/// 2025-11-21T10:00:00Z
pub fn start_time() -> auren_gateway::UnixMillis {
    UtcDate {
        year: 2025,
        month: 11,
        day: 21,
    }
    .start()
    .plus(std::time::Duration::from_secs(10 * 3600))
}

/// Configuration text for three providers on the fake server: `openai`, `anthropic`, `local`
/// (OpenAI-compatible), and the alias `smart` over all three.
pub fn config_text(fake: &FakeLlm) -> String {
    format!(
        r#"
max_tokens = 100

[timeouts]
connect_ms = 1000
first_token_ms = 3000
idle_ms = 3000

[retry]
max_retries = 0
initial_backoff_ms = 1
max_backoff_ms = 4
max_retry_after_ms = 2000

[breaker]
failure_threshold = 3
window_ms = 60000
open_ms = 30000

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

[alias.smart]
routes = ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1", "local:llama3.1"]
"#,
        openai = fake.openai_base_url(),
        anthropic = fake.anthropic_base_url(),
    )
}

pub async fn rig() -> Rig {
    rig_with(|_| {}).await
}

pub async fn rig_with(adjust: impl FnOnce(&mut GatewayConfig)) -> Rig {
    let fake = FakeLlm::start().await.expect("fake server starts");
    let mut config = GatewayConfig::parse(&config_text(&fake), "test.toml").expect("test config is valid");
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new(start_time()));
    let ledger = Arc::new(MemoryLedger::new());
    let gateway = start_gateway(
        config,
        Arc::clone(&ledger) as Arc<dyn UsageLedger>,
        Arc::clone(&clock) as Arc<dyn Clock>,
    )
    .await;
    Rig {
        fake,
        gateway,
        clock,
        ledger,
    }
}

pub async fn start_gateway(
    config: GatewayConfig,
    ledger: Arc<dyn UsageLedger>,
    clock: Arc<dyn Clock>,
) -> Gateway {
    let secrets = MemorySecrets::new()
        .with("openai", OPENAI_KEY)
        .with("anthropic", ANTHROPIC_KEY);
    Gateway::start(config, Arc::new(secrets), ledger, clock)
        .await
        .expect("gateway starts")
}

/// Every event of a streamed answer, and the error that ended it, if any.
pub async fn drain(
    gateway: &Gateway,
    model: &str,
    request: ChatRequest,
) -> (Vec<StreamEvent>, Option<auren_gateway::GatewayError>) {
    let mut stream = match gateway.stream(model, request).await {
        Ok(stream) => stream,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

pub fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The models the fake server was asked for, in order.
pub fn models_asked(fake: &FakeLlm) -> Vec<String> {
    fake.requests()
        .iter()
        .filter_map(|r| r.model().map(str::to_owned))
        .collect()
}
