//! The coach's configuration as every front end builds it from `gateway.toml` ([`CoachConfig::for_gateway`]):
//! the wire of the model's first route, and the gateway's output cap bounding each specialist call (`auren
//! sync`'s proactive messages used to ask for 1,024 tokens of a model configured for 48).

use auren_agents::{CoachConfig, MemoryApply};
use auren_gateway::{GatewayConfig, ProviderKind};

fn gateway(max_tokens: Option<u32>) -> GatewayConfig {
    let cap = max_tokens.map_or(String::new(), |n| format!("max_tokens = {n}\n"));
    let text = format!(
        r#"default_model = "smart"
{cap}
[[provider]]
name = "openai"
kind = "openai"
base_url = "http://127.0.0.1:9/v1"

[[provider]]
name = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:9"

[alias.smart]
routes = ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1"]

[alias.local]
routes = ["openai:smollm2"]
"#
    );
    GatewayConfig::parse(&text, "coach-config.toml").expect("the test configuration is valid")
}

#[test]
fn a_coach_asks_the_first_routes_wire_within_the_gateways_output_cap() {
    let cases = [
        // (gateway cap, model asked, wire, specialist cap)
        (Some(48), "local", ProviderKind::OpenAi, 48),
        (Some(48), "", ProviderKind::Anthropic, 48),
        (None, "smart", ProviderKind::Anthropic, 1024),
        (Some(100_000), "openai:gpt-4.1", ProviderKind::OpenAi, 1024),
        (
            Some(1024),
            "anthropic:claude-haiku",
            ProviderKind::Anthropic,
            1024,
        ),
    ];
    for (cap, model, wire, max_tokens) in cases {
        let config = CoachConfig::for_gateway(&gateway(cap), model.to_owned(), MemoryApply::Immediate);
        let case = format!("cap {cap:?}, model {model:?}");
        assert_eq!(config.wire, wire, "{case}");
        assert_eq!(config.max_tokens, max_tokens, "{case}");
        assert_eq!(config.model, model, "{case}");
        assert_eq!(config.memory_apply, MemoryApply::Immediate, "{case}");
        assert_eq!(config.guards, CoachConfig::default().guards, "{case}");
    }
}
