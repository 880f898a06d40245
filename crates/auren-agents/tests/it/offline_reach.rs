//! The offline analyst answers at once when the configured provider cannot be reached: a black-holed
//! address costs the turn one connect timeout and no retry, and a provider already known unreachable (its
//! free status check had no answer, or the last turn's connection failed) is not called at all. The
//! mechanism is asserted (tries made, connections accepted), not the wall time: `cargo bench -p
//! auren-gateway` measures that.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auren_agents::{AgentEvent, Coach, GuardLimits, MemoryApply};
use auren_gateway::{Clock, Gateway, GatewayConfig, ManualClock, MemoryLedger, MemorySecrets, Route};

use crate::coach_rig::{self, Asked, CoachRig, MODEL, RigOptions, Wire};

/// A coach over the rig's data whose one provider `p` is at `addr`, reached within `connect_ms`, its
/// first token awaited `first_token_ms`, with two retries allowed.
async fn coach_at(rig: &CoachRig, addr: SocketAddr, connect_ms: u64, first_token_ms: u64) -> Coach {
    let text = format!(
        r#"
[timeouts]
connect_ms = {connect_ms}
first_token_ms = {first_token_ms}

[retry]
max_retries = 2
initial_backoff_ms = 1
max_backoff_ms = 4

[[provider]]
name = "p"
kind = "openai"
base_url = "http://{addr}/v1"

[alias.{MODEL}]
routes = ["p:gpt-4.1-mini"]
"#
    );
    let config = GatewayConfig::parse(&text, "reach.toml").expect("valid");
    let clock = Arc::new(ManualClock::new(coach_rig::now())) as Arc<dyn Clock>;
    let secrets = MemorySecrets::new().with("p", "fake-key-0123456789");
    let gateway = Gateway::start(config, Arc::new(secrets), Arc::new(MemoryLedger::new()), clock)
        .await
        .expect("gateway starts");
    let config = coach_rig::coach_config(Wire::OpenAi, GuardLimits::default(), MemoryApply::AskFirst);
    Coach::new(Some(gateway), rig.coach.toolbox().clone(), config)
}

async fn ask(coach: &Coach, question: &str) -> Asked {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let outcome = coach
        .ask(None, question, tx, tokio_util::sync::CancellationToken::new())
        .await
        .expect("the turn runs");
    let mut events = Vec::new();
    while let Some(event) = rx.recv().await {
        events.push(event);
    }
    Asked { events, outcome }
}

/// The message of the turn's `model_unavailable` error.
fn unavailable(asked: &Asked) -> String {
    asked
        .events
        .iter()
        .find_map(|e| match e {
            AgentEvent::Error { code, message } if code == "model_unavailable" => Some(message.clone()),
            _ => None,
        })
        .expect("the turn reports the model unavailable")
}

#[tokio::test]
async fn a_black_holed_provider_costs_one_connect_timeout_then_nothing() {
    let rig = coach_rig::rig(RigOptions {
        online: false,
        ..RigOptions::default()
    })
    .await;
    // A listener with a backlog of 0 that never accepts, its queue place taken: later SYNs are dropped.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let _filler = std::net::TcpStream::connect(addr).expect("the queue place is taken");
    let coach = coach_at(&rig, addr, 200, 60_000).await;

    let first = ask(&coach, "How is my readiness today?").await;
    assert!(first.outcome.offline, "{}", first.outcome.answer);
    let message = unavailable(&first);
    assert!(message.contains("(try 1): could not connect"), "{message}");
    assert!(
        !message.contains("(try 2)"),
        "a connection that never came was retried: {message}"
    );

    let second = ask(&coach, "How is my readiness today?").await;
    assert!(second.outcome.offline, "{}", second.outcome.answer);
    let message = unavailable(&second);
    assert!(message.contains("circuit breaker open"), "{message}");
    assert_eq!(first.outcome.answer, second.outcome.answer);
}

#[tokio::test]
async fn a_provider_whose_status_check_had_no_answer_is_not_called() {
    let rig = coach_rig::rig(RigOptions {
        online: false,
        ..RigOptions::default()
    })
    .await;
    // A hung server: it accepts and never answers; it counts the connections it was given.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let _server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let coach = coach_at(&rig, addr, 900, 300).await;
    let gateway = coach.gateway().expect("a gateway");
    let route = Route::parse("p:gpt-4.1-mini").expect("route");
    gateway.check(&route).await.expect_err("no answer");
    let after_check = accepted.load(Ordering::SeqCst);
    assert_eq!(after_check, 1);

    let asked = ask(&coach, "How is my readiness today?").await;
    assert!(asked.outcome.offline, "{}", asked.outcome.answer);
    assert!(unavailable(&asked).contains("circuit breaker open"));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        after_check,
        "the turn connected to a provider known not to answer"
    );
}
