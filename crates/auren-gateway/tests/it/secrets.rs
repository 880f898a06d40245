//! Keys go where each format wants them and never into logs; spans carry the GenAI attribute names.

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
