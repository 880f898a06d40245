//! The turn loop's cost, for `cargo xtask bench agents`:
//! 1. orchestration per turn excluding model time and I/O — red-flag check, intent, rule routing, guards,
//!    the typed brief, the provider's tool definitions and request body, grounding of the answer (goal
//!    < 1 ms);
//! 2. a whole turn against the fake model on loopback with a real SQLite store (tools, storing the turn);
//! 3. model calls per question on the 30-question routing suite (goal ≤ 2 for data questions).
//!
//! Run: `cargo run --release -p auren-agents --example turn_overhead`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark code")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auren_agents::intent::{self, Intent};
use auren_agents::redflag::{self, RecentAlert};
use auren_agents::turn::{Brief, GuardBook, system_prompt};
use auren_agents::{
    Coach, CoachConfig, GuardLimits, Receipt, Specialist, Toolbox, grounding, routing, schema,
};
use auren_fake_llm::FakeLlm;
use auren_gateway::providers::openai;
use auren_gateway::{
    ChatRequest, Clock, Gateway, GatewayConfig, ManualClock, MemoryLedger, MemorySecrets, Message,
    ProviderKind, UtcDate,
};
use auren_store::Store;
use tokio_util::sync::CancellationToken;

const ANSWER: &str = "Your 7-day mean RMSSD is 55 ms, inside your normal range of 53–57 ms; yesterday's \
RMSSD was 58 ms and your resting HR 53 bpm. The trend is flat, so train as planned.";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let now = UtcDate {
        year: 2026,
        month: 12,
        day: 1,
    }
    .start()
    .plus(Duration::from_secs(8 * 3600));
    let today = now.day_number();
    for back in 0..365_i64 {
        let ln = 4.0 + 0.15 * ((back as f64) * 0.7).sin();
        store
            .add_morning_reading(today - back, ln, Some(50.0 + (back % 7) as f64), None)
            .await
            .unwrap();
    }
    let clock = Arc::new(ManualClock::new(now));
    let toolbox = Toolbox::new(store.clone(), Arc::clone(&clock) as Arc<dyn Clock>);
    let receipts = auren_agents::offline::answer(&toolbox, "What was my readiness yesterday?")
        .await
        .unwrap()
        .receipts;
    orchestration(&toolbox, &receipts);
    let fake = FakeLlm::start().await.unwrap();
    let coach = coach(&fake, toolbox, clock).await;
    whole_turns(&coach).await;
    calls_per_question(&coach).await;
}

/// The loop's own work for one turn, with no model and no I/O.
fn orchestration(toolbox: &Toolbox, receipts: &[Receipt]) {
    let specs = toolbox.specs();
    let alerts = vec![RecentAlert {
        rule: "cns_fatigue".into(),
        at_unix_ms: 0,
    }];
    let turns = 2_000;
    let start = Instant::now();
    for n in 0..turns {
        let (question, _, _) = routing::SUITE[n % routing::SUITE.len()];
        let flag = redflag::detect(question, &alerts);
        let intent = intent::classify(question);
        let specialist = routing::by_rules(question, &intent, &alerts).unwrap_or(Specialist::Analyst);
        let mut guards = GuardBook::new(GuardLimits::default());
        guards.start(specialist);
        guards.model_call().unwrap();
        guards
            .tool_call("get_trend", &serde_json::json!({"from": null}))
            .unwrap();
        let mut brief = Brief {
            question: question.to_owned(),
            today: "2026-12-01".into(),
            receipts: Vec::new(),
            memories: Vec::new(),
            previous: None,
            handoff: None,
        };
        brief.add_receipts(receipts);
        let request = ChatRequest {
            messages: vec![
                Message::system(system_prompt(specialist)),
                Message::user(brief.render()),
            ],
            tools: schema::for_provider(&specs, ProviderKind::OpenAi),
            max_tokens: Some(1024),
            ..ChatRequest::default()
        };
        let body = openai::request_body("gpt-4.1-mini", &request, 1024, false).unwrap();
        let claims = grounding::ground(ANSWER, receipts);
        std::hint::black_box((flag, matches!(intent, Intent::Unknown), body, claims));
    }
    let per_turn = start.elapsed() / turns as u32;
    println!(
        "orchestration per turn, excluding model time and I/O: {:.1} µs (goal < 1000 µs)",
        per_turn.as_secs_f64() * 1e6
    );
}

async fn coach(fake: &FakeLlm, toolbox: Toolbox, clock: Arc<ManualClock>) -> Coach {
    let text = format!(
        "[[provider]]\nname = \"p\"\nkind = \"openai\"\nbase_url = \"{}\"\n\n[alias.coach]\nroutes = [\"p:gpt-4.1-mini\"]\n",
        fake.openai_base_url()
    );
    let config = GatewayConfig::parse(&text, "bench.toml").unwrap();
    let gateway = Gateway::start(
        config,
        Arc::new(MemorySecrets::new().with("p", "bench-key-0000")),
        Arc::new(MemoryLedger::new()),
        clock as Arc<dyn Clock>,
    )
    .await
    .unwrap();
    let config = CoachConfig {
        model: "coach".into(),
        ..CoachConfig::default()
    };
    Coach::new(Some(gateway), toolbox, config)
}

async fn ask(coach: &Coach, question: &str) -> auren_agents::TurnOutcome {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let outcome = coach
        .ask(None, question, tx, CancellationToken::new())
        .await
        .unwrap();
    drain.await.unwrap();
    outcome
}

/// Whole turns on loopback: the fake answers at once, so this is the loop, the tools over a year of
/// mornings, HTTP on loopback and storing the turn.
async fn whole_turns(coach: &Coach) {
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..40 {
        let start = Instant::now();
        ask(coach, "What was my readiness yesterday?").await;
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "whole turn against the loopback fake (a year of mornings, SQLite, one model call): p50 {:.2} ms, p90 {:.2} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10])
    );
}

/// Model calls per question on the routing suite (the fake answers every call with text).
async fn calls_per_question(coach: &Coach) {
    let (mut data, mut data_max, mut data_n, mut all) = (0_u32, 0_u32, 0_u32, 0_u32);
    for (question, _, _) in routing::SUITE {
        let calls = ask(coach, question).await.usage.model_calls;
        all += calls;
        if !matches!(intent::classify(question), Intent::Unknown) {
            data += calls;
            data_n += 1;
            data_max = data_max.max(calls);
        }
    }
    println!(
        "model calls per question on the routing suite: {:.2} mean over {} questions; data questions ({}): {:.2} mean, {} max (goal ≤ 2)",
        f64::from(all) / routing::SUITE.len() as f64,
        routing::SUITE.len(),
        data_n,
        f64::from(data) / f64::from(data_n.max(1)),
        data_max
    );
}
