//! gateway.toml: the documented shape parses; mistakes and unknown keys are rejected with their line.

use auren_gateway::config::{ConfigError, ProviderKind};
use auren_gateway::{GatewayConfig, Route, Usd};
use std::sync::Arc;
use std::time::Duration;

const ISSUE_EXAMPLE: &str = r#"
[[provider]]
name = "openai"
kind = "openai"                 # openai | anthropic | openai-compatible
api_key_env = "OPENAI_API_KEY"  # optional; otherwise the key is read from the OS keychain
[[provider]]
name = "anthropic"
kind = "anthropic"
[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "http://127.0.0.1:11434/v1"
[alias.smart]
routes = ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1", "local:llama3.1"]
[budget]
daily_usd = 2.0
monthly_usd = 30.0
"#;

#[test]
fn the_documented_example_parses_with_defaults() {
    let config = GatewayConfig::parse(ISSUE_EXAMPLE, "gateway.toml").expect("valid");
    assert_eq!(config.providers.len(), 3);
    assert_eq!(config.providers[0].base_url, "https://api.openai.com/v1");
    assert_eq!(config.providers[0].api_key_env.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(config.providers[1].base_url, "https://api.anthropic.com");
    assert_eq!(config.providers[2].kind, ProviderKind::OpenAiCompatible);
    assert_eq!(
        config.aliases["smart"][2],
        Route {
            provider: "local".into(),
            model: "llama3.1".into()
        }
    );
    assert_eq!(config.budget.daily, Some(Usd::from_dollars(2.0)));
    assert_eq!(config.budget.monthly, Some(Usd::from_dollars(30.0)));
    assert_eq!(config.timeouts.first_token, Duration::from_secs(30));
    assert_eq!(config.retry.max_retries, 2);
    assert_eq!(config.breaker.failure_threshold, 5);
    assert_eq!(config.max_tokens, 4096);
}

#[test]
fn mistakes_are_reported_with_their_line() {
    let provider = "[[provider]]\nname = \"openai\"\nkind = \"openai\"\n";
    let table: [(String, &str); 11] = [
        (
            format!("{provider}colour = \"blue\"\n"),
            "test.toml:4:1: unknown field `colour`",
        ),
        (
            "[retry]\nmax_retries = 1\nbackoff = 3\n".into(),
            "test.toml:3:1: unknown field `backoff`",
        ),
        (
            "[budgett]\ndaily_usd = 1.0\n".into(),
            "test.toml:1:2: unknown field `budgett`",
        ),
        (
            format!("{provider}[alias.smart]\nroutes = [\"openai:gpt-4.1\", \"anthropic:claude\"]\n"),
            "test.toml:5:29: route anthropic:claude names no provider",
        ),
        (
            format!("{provider}[alias.smart]\nroutes = [\"gpt-4.1\"]\n"),
            "test.toml:5:11: route \"gpt-4.1\" is not provider:model",
        ),
        (
            format!("{provider}[alias.smart]\nroutes = []\n"),
            "test.toml:5:10: alias \"smart\" has no routes",
        ),
        (
            format!("{provider}{provider}"),
            "test.toml:5:8: provider \"openai\" is defined twice",
        ),
        (
            "[[provider]]\nname = \"x\"\nkind = \"openai-compatible\"\n".into(),
            "test.toml:2:8: provider \"x\" of kind openai-compatible needs a base_url",
        ),
        (
            "[[provider]]\nname = \"x\"\nkind = \"gemini\"\n".into(),
            "test.toml:3:8: unknown variant `gemini`",
        ),
        (
            "[budget]\ndaily_usd = -1.0\n".into(),
            "test.toml:2:13: daily_usd must be a non-negative number of dollars",
        ),
        (
            "[timeouts]\nidle_ms = 0\n".into(),
            "test.toml:2:11: idle_ms must be greater than 0",
        ),
    ];
    for (text, expected) in table {
        let error = GatewayConfig::parse(&text, "test.toml").expect_err(expected);
        assert!(matches!(error, ConfigError::Invalid { .. }));
        let shown = error.to_string();
        assert!(
            shown.starts_with(expected),
            "expected {expected:?}, got {shown:?}\n--- config:\n{text}"
        );
    }
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gateway.toml");
    let error = GatewayConfig::load(&path).expect_err("missing file");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: cannot read", path.display())),
        "{error}"
    );
    std::fs::write(&path, "default_model = \"nothing\"\n").expect("write");
    let error = GatewayConfig::load(&path).expect_err("unknown default");
    assert_eq!(
        error.to_string(),
        format!(
            "{}:1:17: default_model \"nothing\" is neither an alias nor provider:model",
            path.display()
        )
    );
}

#[tokio::test]
async fn context_windows_come_from_the_table_or_the_providers_context_window() {
    let text = ISSUE_EXAMPLE.replace(
        "base_url = \"http://127.0.0.1:11434/v1\"",
        "base_url = \"http://127.0.0.1:11434/v1\"\ncontext_window = 32768",
    );
    let config = GatewayConfig::parse(&text, "gateway.toml").expect("valid");
    assert_eq!(config.providers[2].context_window, Some(32_768));
    let mut unknown = config.clone();
    unknown.providers[2].context_window = None;
    let ledger = || Arc::new(auren_gateway::MemoryLedger::new()) as Arc<dyn auren_gateway::UsageLedger>;
    let clock = || {
        Arc::new(auren_gateway::ManualClock::new(crate::support::start_time()))
            as Arc<dyn auren_gateway::Clock>
    };
    let gateway = crate::support::start_gateway(config, ledger(), clock()).await;
    let without = crate::support::start_gateway(unknown, ledger(), clock()).await;
    let route = |text: &str| Route::parse(text).expect("a route");
    // (route, with the local provider's context_window, without it)
    let table = [
        (
            "anthropic:claude-sonnet-4-5-20250929",
            Some(200_000),
            Some(200_000),
        ),
        ("openai:gpt-4o", Some(128_000), Some(128_000)),
        ("openai:gpt-4.1", Some(1_047_576), Some(1_047_576)),
        // A compatible server's model names are its own: its context is the configured one, or unknown.
        ("local:gpt-4o", Some(32_768), None),
        ("local:llama3.1", Some(32_768), None),
        ("nowhere:gpt-4o", None, None),
    ];
    for (text, with_config, without_config) in table {
        assert_eq!(gateway.context_window(&route(text)), with_config, "{text}");
        assert_eq!(
            without.context_window(&route(text)),
            without_config,
            "{text} without"
        );
    }
}
