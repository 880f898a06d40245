//! The rig of the turn-loop tests: a real SQLite store with a month of mornings, a real gateway, and the
//! scripted fake model behind it, in either wire format.

use std::sync::Arc;

use auren_agents::{AgentEvent, Coach, CoachConfig, GuardLimits, MemoryApply, Toolbox, TurnOutcome};
use auren_fake_llm::{FakeLlm, Reply, Script, Step};
use auren_gateway::{
    Clock, Gateway, GatewayConfig, ManualClock, MemoryLedger, MemorySecrets, ProviderKind, UtcDate,
};
use auren_store::Store;
use tokio_util::sync::CancellationToken;

pub const MODEL: &str = "coach";

/// Which provider the alias `coach` goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
}

pub struct CoachRig {
    pub fake: FakeLlm,
    pub coach: Coach,
    pub store: Store,
    /// What the gateway booked: the budget's view of the spend.
    pub ledger: Arc<MemoryLedger>,
    _dir: tempfile::TempDir,
}

/// 2026-12-01T08:00:00Z: a month of mornings lies behind it.
pub fn now() -> auren_gateway::UnixMillis {
    UtcDate {
        year: 2026,
        month: 12,
        day: 1,
    }
    .start()
    .plus(std::time::Duration::from_secs(8 * 3600))
}

fn gateway_config(fake: &FakeLlm, wire: Wire, budget: &str) -> GatewayConfig {
    let (kind, base, model) = match wire {
        Wire::OpenAi => ("openai", fake.openai_base_url(), "gpt-4.1-mini"),
        Wire::Anthropic => ("anthropic", fake.anthropic_base_url(), "claude-haiku-4-5"),
    };
    let text = format!(
        r#"
max_tokens = 512
{budget}

[timeouts]
connect_ms = 2000
first_token_ms = 60000
idle_ms = 60000

[retry]
max_retries = 0
initial_backoff_ms = 1
max_backoff_ms = 4
max_retry_after_ms = 10

[[provider]]
name = "p"
kind = "{kind}"
base_url = "{base}"

[alias.{MODEL}]
routes = ["p:{model}"]
"#
    );
    GatewayConfig::parse(&text, "coach-test.toml").expect("the test configuration is valid")
}

/// How a rig is built.
#[derive(Clone, Debug)]
pub struct RigOptions {
    pub wire: Wire,
    pub online: bool,
    pub limits: GuardLimits,
    pub memory_apply: MemoryApply,
    /// A `[budget]` section for the gateway configuration.
    pub budget: String,
}

impl Default for RigOptions {
    fn default() -> Self {
        Self {
            wire: Wire::OpenAi,
            online: true,
            limits: GuardLimits::default(),
            memory_apply: MemoryApply::AskFirst,
            budget: String::new(),
        }
    }
}

pub async fn rig(options: RigOptions) -> CoachRig {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("auren.db"))
        .await
        .expect("store opens");
    let clock = Arc::new(ManualClock::new(now()));
    let today = now().day_number();
    for back in 0..30_i64 {
        // A gentle wave around lnRMSSD 4.0 (≈ 55 ms), so every day has a reading and a normal range exists.
        let ln = 4.0 + 0.1 * ((back as f64) * 0.7).sin();
        store
            .add_morning_reading(today - back, ln, Some(52.0 + (back % 5) as f64), None)
            .await
            .expect("reading stored");
    }
    let fake = FakeLlm::start().await.expect("fake server starts");
    let ledger = Arc::new(MemoryLedger::new());
    let gateway = if options.online {
        let clock = Arc::clone(&clock) as Arc<dyn Clock>;
        let config = gateway_config(&fake, options.wire, &options.budget);
        let secrets = MemorySecrets::new().with("p", "fake-key-0123456789");
        let ledger = Arc::clone(&ledger) as Arc<dyn auren_gateway::UsageLedger>;
        let gateway = Gateway::start(config, Arc::new(secrets), ledger, clock).await;
        Some(gateway.expect("gateway starts"))
    } else {
        None
    };
    let toolbox = Toolbox::new(store.clone(), Arc::clone(&clock) as Arc<dyn Clock>);
    let config = coach_config(options.wire, options.limits, options.memory_apply);
    CoachRig {
        fake,
        coach: Coach::new(gateway, toolbox, config),
        store,
        ledger,
        _dir: dir,
    }
}

/// A real gateway whose alias `coach` goes to `fake` in `wire`'s format, under `budget`.
pub async fn fake_gateway(fake: &FakeLlm, wire: Wire, budget: &str, clock: Arc<dyn Clock>) -> Gateway {
    let secrets = MemorySecrets::new().with("p", "fake-key-0123456789");
    let config = gateway_config(fake, wire, budget);
    Gateway::start(config, Arc::new(secrets), Arc::new(MemoryLedger::new()), clock)
        .await
        .expect("gateway starts")
}

/// The coach's configuration over the alias `coach`.
pub fn coach_config(wire: Wire, guards: GuardLimits, memory_apply: MemoryApply) -> CoachConfig {
    CoachConfig {
        model: MODEL.into(),
        wire: match wire {
            Wire::OpenAi => ProviderKind::OpenAi,
            Wire::Anthropic => ProviderKind::Anthropic,
        },
        guards,
        memory_apply,
        max_tokens: 400,
    }
}

/// A finished turn: its events in order and its outcome.
pub struct Asked {
    pub events: Vec<AgentEvent>,
    pub outcome: TurnOutcome,
}

impl Asked {
    pub fn guard(&self) -> Option<auren_agents::Guard> {
        self.events.iter().find_map(|e| match e {
            AgentEvent::Guard { guard, .. } => Some(*guard),
            _ => None,
        })
    }

    pub fn tool_calls(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolCall { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }
}

impl CoachRig {
    /// Asks in a new conversation and collects the whole turn.
    pub async fn ask(&self, question: &str) -> Asked {
        self.ask_with(question, CancellationToken::new()).await
    }

    pub async fn ask_with(&self, question: &str, cancel: CancellationToken) -> Asked {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let outcome = self
            .coach
            .ask(None, question, tx, cancel)
            .await
            .expect("the turn runs");
        let mut events = Vec::new();
        while let Some(event) = rx.recv().await {
            events.push(event);
        }
        Asked { events, outcome }
    }
}

/// A reply calling one tool.
pub fn tool(id: &str, name: &str, arguments: &str) -> Script {
    Script::Reply(Reply::tool_call(id, name, [arguments]))
}

/// A reply in text.
pub fn text(answer: &str) -> Script {
    Script::Reply(Reply::text([answer]))
}

/// Any request, answered with `script`.
pub fn any(script: Script) -> Step {
    Step::any(script)
}

/// Receipt ids are random per toolbox: one stable placeholder for snapshots.
pub fn redact_receipt_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("r-") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if hex == 12 && tail[hex..].starts_with('-') {
            let digits = tail[hex + 1..].chars().take_while(char::is_ascii_digit).count();
            out.push_str("r-RECEIPT-");
            out.push_str(&tail[hex + 1..hex + 1 + digits]);
            rest = &tail[hex + 1 + digits..];
        } else {
            out.push_str("r-");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}
