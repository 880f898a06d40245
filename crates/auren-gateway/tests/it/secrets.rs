//! Keys go where each format wants them and never into logs; spans carry the GenAI attribute names; an
//! unreadable keychain is named in the "no API key" failure and kept as its cause.

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, rig, status};
use auren_fake_llm::{Reply, Script};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

#[tokio::test]
async fn no_key_in_logs_and_genai_attributes_in_spans() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on a current-thread runtime, so every task (client and fake server) logs here.
    let _guard = tracing::subscriber::set_default(subscriber);

    let rig = rig().await;
    rig.fake.script("claude-sonnet-4-5", [status(401)]);
    rig.fake
        .script("gpt-4.1", [Script::Reply(Reply::text(["fine"]).with_usage(9, 1))]);
    let response = rig.ask("smart").await.expect("openai answers");
    assert_eq!(response.provider, "openai");
    rig.fake
        .script("claude-sonnet-4-5", [Script::Reply(Reply::text(["also fine"]))]);
    rig.ask("anthropic:claude-sonnet-4-5").await.expect("answer");
    let debug = format!("{:?}", rig.gateway);

    let requests = rig.fake.requests();
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str()),
        "the key was sent"
    );
    assert_eq!(
        requests[2].header("x-api-key"),
        Some(ANTHROPIC_KEY),
        "the key was sent"
    );

    let logs = captured.text();
    assert!(!logs.is_empty());
    for key in [OPENAI_KEY, ANTHROPIC_KEY] {
        assert!(!logs.contains(key), "a key leaked into the logs");
        assert!(!debug.contains(key), "a key leaked into Debug");
    }
    for attribute in [
        "gen_ai.system=\"openai\"",
        "gen_ai.request.model=\"smart\"",
        "gen_ai.request.model=\"gpt-4.1\"",
        "gen_ai.usage.input_tokens=9",
        "gen_ai.usage.output_tokens=1",
        "gen_ai.response.finish_reasons=\"stop\"",
        "error.type=\"http_status\"",
    ] {
        assert!(logs.contains(attribute), "missing {attribute} in:\n{logs}");
    }
}

/// A keychain that cannot be read: the platform says why.
struct BrokenKeychain;

impl auren_gateway::SecretStore for BrokenKeychain {
    fn api_key(
        &self,
        provider: &str,
    ) -> Result<Option<auren_gateway::ApiKey>, auren_gateway::secrets::SecretError> {
        Err(auren_gateway::secrets::SecretError::Keychain {
            provider: provider.to_owned(),
            source: keyring::Error::PlatformFailure(Box::new(std::io::Error::other("the keyring is locked"))),
        })
    }
}

#[tokio::test]
async fn an_unreadable_keychain_is_named_and_kept_as_the_cause_of_the_missing_key() {
    // A subscriber of its own that wants every span: a callsite first reached on a thread with none could
    // be cached as uninteresting while the logging test above runs, and that test would miss its spans.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(std::io::sink)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let fake = auren_fake_llm::FakeLlm::start().await.expect("fake server");
    let config = auren_gateway::GatewayConfig::parse(&crate::support::config_text(&fake), "test.toml")
        .expect("config");
    let gateway = auren_gateway::Gateway::start(
        config,
        Arc::new(BrokenKeychain),
        Arc::new(auren_gateway::MemoryLedger::new()),
        Arc::new(auren_gateway::ManualClock::new(crate::support::start_time())),
    )
    .await
    .expect("a missing key fails the calls, not the start");
    let error = gateway
        .chat("openai:gpt-4.1", auren_gateway::ChatRequest::user("hi"))
        .await
        .expect_err("no key");
    let auren_gateway::GatewayError::AllProvidersFailed { attempts, .. } = &error else {
        panic!("{error}")
    };
    let failure = &attempts[0].failure;
    assert_eq!(
        failure.to_string(),
        "no API key: set a keychain entry for provider \"openai\": the OS keychain could not be read for \
         provider \"openai\": Platform secure storage failure: the keyring is locked"
    );
    let mut cause = std::error::Error::source(failure);
    let mut found = false;
    while let Some(error) = cause {
        found |= error
            .downcast_ref::<auren_gateway::secrets::SecretError>()
            .is_some();
        cause = error.source();
    }
    assert!(found, "the SecretError is in the chain: {failure}");
    assert!(fake.requests().is_empty(), "nothing was sent without a key");
}
