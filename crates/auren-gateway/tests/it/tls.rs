//! The gateway over real HTTPS: an OpenAI-compatible provider behind TLS on 127.0.0.1 (a self-hosted model
//! server with a private certificate authority) is reached with a TLS 1.3 handshake once the authority is
//! trusted the way a person trusts it, and refused with an error naming the certificate problem when it is not.
//! This is also the one place the process-wide ring provider that `client_builder` installs meets a real
//! handshake.

use crate::support::{start_gateway, start_time};
use crate::tls_front::{
    Handshake, TestAuthority, TlsFront, assert_child_succeeded, child_url, run_trusting_child,
};
use auren_fake_llm::FakeLlm;
use auren_gateway::{ChatRequest, Clock, GatewayConfig, ManualClock, MemoryLedger, UsageLedger};
use rustls::ProtocolVersion;
use std::sync::Arc;

/// One OpenAI-compatible provider, `local`, at `base_url`; no retries, so one request is one attempt.
fn config(base_url: &str) -> GatewayConfig {
    let text = format!(
        r#"
max_tokens = 100

[timeouts]
connect_ms = 10000
first_token_ms = 10000
idle_ms = 10000

[retry]
max_retries = 0
initial_backoff_ms = 1
max_backoff_ms = 4
max_retry_after_ms = 2000

[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "{base_url}"
"#
    );
    GatewayConfig::parse(&text, "tls.toml").unwrap()
}

async fn ask(base_url: &str) -> Result<String, auren_gateway::GatewayError> {
    let gateway = start_gateway(
        config(base_url),
        Arc::new(MemoryLedger::new()) as Arc<dyn UsageLedger>,
        Arc::new(ManualClock::new(start_time())) as Arc<dyn Clock>,
    )
    .await;
    gateway
        .chat("local:llama3.1", ChatRequest::user("hi"))
        .await
        .map(|answer| answer.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_behind_a_private_authority_is_reached_over_tls13_once_trusted() {
    if let Some(url) = child_url() {
        // The child: SSL_CERT_DIR names the system's roots and the authority's directory.
        assert_eq!(ask(&format!("{url}/v1")).await.unwrap(), "Hello from the fake.");
        return;
    }
    let fake = FakeLlm::start().await.unwrap();
    let authority = TestAuthority::new();
    let front = TlsFront::start(&authority, fake.addr()).await;
    let dir = tempfile::tempdir().unwrap();
    authority.write_into(dir.path());

    let child = run_trusting_child(
        "tls::a_provider_behind_a_private_authority_is_reached_over_tls13_once_trusted",
        dir.path(),
        &front.url(),
    )
    .await;

    assert_child_succeeded(&child);
    assert_eq!(
        front.handshakes(1).await,
        vec![Handshake::Completed(ProtocolVersion::TLSv1_3)]
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "the answer came through the front");
    assert_eq!(requests[0].path, "/v1/chat/completions");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_with_an_error_naming_it() {
    let fake = FakeLlm::start().await.unwrap();
    let front = TlsFront::start(&TestAuthority::new(), fake.addr()).await;

    let error = ask(&format!("{}/v1", front.url())).await.unwrap_err().to_string();

    assert!(
        error.contains("invalid peer certificate: UnknownIssuer"),
        "the message names the problem: {error}"
    );
    let seen = front.handshakes(1).await;
    assert!(
        matches!(&seen[..], [Handshake::Failed(why)] if why.contains("UnknownCA")),
        "the client refused the handshake with an unknown-CA alert: {seen:?}"
    );
    assert!(fake.requests().is_empty(), "nothing reached the provider");
}
