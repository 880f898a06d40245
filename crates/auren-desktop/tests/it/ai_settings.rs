//! The AI settings pane over real `gateway.toml` files in a temporary folder and keys held in memory (never
//! the developer's keychain): edits keep the person's comments and the keys the pane does not show; a bad
//! edit is refused with a sentence and leaves the file byte for byte; a save restarts the gateway, so the
//! chat's status and its next turn use the new provider; keys are only ever "set" / "not set"; the
//! connection test sends one real request to the scripted fake LLM (ok, refused key, wrong model, nothing
//! listening); a local Ollama is detected through its model list.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use auren_desktop::ai_settings_dto::{
    AiEditDto, AiSettingsDto, BudgetDto, ConnectionOutcomeDto, KeyDto, OllamaDto, ProviderEditDto,
    ProviderKindDto, RouteDto,
};
use auren_desktop::chat_dto::{ChatSendDto, ProviderHealthDto};
use auren_desktop::{Desktop, ErrorCode, IpcError, MemoryKeys, ProviderKeys};
use auren_fake_llm::{FakeLlm, Script};
use auren_gateway::SecretStore;
use tempfile::TempDir;

use crate::support::open;

struct Pane {
    dir: TempDir,
    desktop: Desktop,
    keys: Arc<MemoryKeys>,
}

impl Pane {
    fn path(&self) -> PathBuf {
        self.dir.path().join("config").join("gateway.toml")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.path()).unwrap()
    }

    async fn edit(&self, edit: AiEditDto) -> AiSettingsDto {
        self.desktop.edit_ai_settings(edit).await.unwrap()
    }
}

/// A desktop whose keys live in memory, with `gateway` (if any) as its `gateway.toml`.
async fn pane(gateway: Option<&str>) -> Pane {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = gateway {
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("config").join("gateway.toml"), text).unwrap();
    }
    let keys = Arc::new(MemoryKeys::default());
    let desktop = open(dir.path())
        .await
        .with_provider_keys(keys.clone() as Arc<dyn ProviderKeys>);
    Pane { dir, desktop, keys }
}

fn provider(name: &str, kind: ProviderKindDto, base_url: Option<&str>) -> AiEditDto {
    AiEditDto::PutProvider {
        provider: ProviderEditDto {
            name: name.into(),
            kind,
            base_url: base_url.map(Into::into),
            api_key_env: None,
        },
    }
}

fn alias(name: &str, routes: &[(&str, &str)]) -> AiEditDto {
    AiEditDto::PutAlias {
        name: name.into(),
        routes: routes
            .iter()
            .map(|(provider, model)| RouteDto {
                provider: (*provider).into(),
                model: (*model).into(),
            })
            .collect(),
    }
}

fn default_model(model: &str) -> AiEditDto {
    AiEditDto::SetDefaultModel {
        model: Some(model.into()),
    }
}

const HAND_WRITTEN: &str = r#"# My gateway — written by hand.
default_model = "smart"   # what the chat uses

[timeouts]
connect_ms = 3000         # my network is slow

# The hosted one.
[[provider]]
name = "openai"
kind = "openai"
requests_per_minute = 60  # my tier

[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "http://127.0.0.1:8080/v1"

# Best first.
[alias.smart]
routes = ["openai:gpt-4.1", "local:llama3.1"]  # failover order

[budget]
daily_usd = 2.0 # per day
"#;

#[tokio::test]
async fn edits_keep_the_persons_comments_and_the_keys_the_pane_does_not_show() {
    let p = pane(Some(HAND_WRITTEN)).await;
    let view = p.desktop.ai_settings().await.unwrap();
    assert!(view.exists && view.problem.is_none(), "{view:?}");
    assert_eq!(view.default_model.as_deref(), Some("smart"));
    assert_eq!(view.budget.daily_usd, Some(2.0));
    assert_eq!(view.providers[0].models, vec!["gpt-4.1"]);
    assert!(view.providers[0].base_url_is_default);
    assert_eq!(view.providers[0].key, KeyDto::Keychain { set: false });
    assert_eq!(view.providers[1].key, KeyDto::NotUsed);
    assert!(view.providers[1].local);

    p.edit(alias("smart", &[("local", "llama3.1"), ("openai", "gpt-4.1")]))
        .await;
    p.edit(AiEditDto::SetBudget {
        budget: BudgetDto {
            daily_usd: Some(1.5),
            monthly_usd: Some(20.0),
        },
    })
    .await;
    p.edit(provider(
        "local",
        ProviderKindDto::OpenAiCompatible,
        Some("http://127.0.0.1:11434/v1/"),
    ))
    .await;
    let view = p
        .edit(provider("anthropic", ProviderKindDto::Anthropic, None))
        .await;

    let expected = r#"# My gateway — written by hand.
default_model = "smart"   # what the chat uses

[timeouts]
connect_ms = 3000         # my network is slow

# The hosted one.
[[provider]]
name = "openai"
kind = "openai"
requests_per_minute = 60  # my tier

[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "http://127.0.0.1:11434/v1"

[[provider]]
name = "anthropic"
kind = "anthropic"

# Best first.
[alias.smart]
routes = ["local:llama3.1", "openai:gpt-4.1"]  # failover order

[budget]
daily_usd = 1.5 # per day
monthly_usd = 20.0
"#;
    assert_eq!(p.text(), expected);
    let routes: Vec<String> = view.aliases[0]
        .routes
        .iter()
        .map(|r| format!("{}:{}", r.provider, r.model))
        .collect();
    assert_eq!(routes, ["local:llama3.1", "openai:gpt-4.1"]);
    assert_eq!(
        (view.budget.daily_usd, view.budget.monthly_usd),
        (Some(1.5), Some(20.0))
    );
    let names: Vec<&str> = view.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["openai", "local", "anthropic"]);
    assert_eq!(view.providers[2].base_url, "https://api.anthropic.com");

    // Removing takes out exactly what was added; the budget can be lifted again.
    p.edit(AiEditDto::RemoveProvider {
        name: "anthropic".into(),
    })
    .await;
    let view = p
        .edit(AiEditDto::SetBudget {
            budget: BudgetDto::default(),
        })
        .await;
    assert_eq!(view.budget, BudgetDto::default());
    assert!(
        p.text()
            .contains("connect_ms = 3000         # my network is slow")
    );
    assert!(!p.text().contains("anthropic"));
}

#[tokio::test]
async fn a_bad_edit_is_refused_with_a_sentence_and_the_file_is_untouched() {
    let table: [(&str, AiEditDto, &str); 9] = [
        (
            "a route to an unknown provider",
            alias("smart", &[("nowhere", "gpt")]),
            "names no provider",
        ),
        ("an alias without routes", alias("smart", &[]), "has no routes"),
        (
            "removing a provider an alias uses",
            AiEditDto::RemoveProvider { name: "local".into() },
            "used by alias smart",
        ),
        (
            "removing the default alias",
            AiEditDto::RemoveAlias { name: "smart".into() },
            "is the default model",
        ),
        (
            "a compatible provider without a base URL",
            provider("lan", ProviderKindDto::OpenAiCompatible, None),
            "needs a base_url",
        ),
        (
            "a base URL that is not http",
            provider("lan", ProviderKindDto::OpenAiCompatible, Some("ftp://x")),
            "must start with http",
        ),
        (
            "a negative budget",
            AiEditDto::SetBudget {
                budget: BudgetDto {
                    daily_usd: Some(-1.0),
                    monthly_usd: None,
                },
            },
            "non-negative",
        ),
        (
            "a default model that names nothing",
            default_model("nothing"),
            "neither an alias",
        ),
        (
            "an environment variable name with a space",
            AiEditDto::PutProvider {
                provider: ProviderEditDto {
                    name: "openai".into(),
                    kind: ProviderKindDto::OpenAi,
                    base_url: None,
                    api_key_env: Some("MY KEY".into()),
                },
            },
            "not an environment variable name",
        ),
    ];
    let p = pane(Some(HAND_WRITTEN)).await;
    for (what, edit, expected) in table {
        let error = IpcError::from(p.desktop.edit_ai_settings(edit).await.unwrap_err());
        assert_eq!(error.code, ErrorCode::InvalidInput, "{what}");
        assert!(
            error.message.starts_with("gateway.toml was not changed: ") && error.message.contains(expected),
            "{what}: {}",
            error.message
        );
        assert_eq!(p.text(), HAND_WRITTEN, "{what}: the file changed");
    }
    let left: Vec<PathBuf> = std::fs::read_dir(p.dir.path().join("config"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.file_name().is_some_and(|n| n != "settings.json"))
        .collect();
    assert_eq!(left, [p.path()], "no temporary file is left behind");
}

#[tokio::test]
async fn a_broken_hand_edit_is_shown_as_a_problem_and_a_missing_file_is_created() {
    let p = pane(Some("[[provider]]\nname = \"x\"\nkind = \"gemini\"\n")).await;
    let view = p.desktop.ai_settings().await.unwrap();
    assert!(view.exists);
    assert!(
        view.problem
            .as_deref()
            .is_some_and(|m| m.contains("gateway.toml:3")),
        "{view:?}"
    );
    assert!(view.providers.is_empty());

    let p = pane(None).await;
    let view = p.desktop.ai_settings().await.unwrap();
    assert!(!view.exists && view.problem.is_none());
    assert!(!p.path().exists());
    let view = p.edit(provider("openai", ProviderKindDto::OpenAi, None)).await;
    assert!(view.exists);
    assert!(p.text().starts_with("# Auren's LLM gateway"), "{}", p.text());
    assert!(
        p.text()
            .ends_with("[[provider]]\nname = \"openai\"\nkind = \"openai\"\n")
    );
}

/// Sets up `fake` as the only provider, `fake:model` as the default.
async fn use_fake(p: &Pane, fake: &FakeLlm, name: &str, model: &str) -> AiSettingsDto {
    let base_url = fake.openai_base_url();
    p.edit(provider(name, ProviderKindDto::OpenAiCompatible, Some(&base_url)))
        .await;
    p.edit(alias("smart", &[(name, model)])).await;
    p.edit(default_model("smart")).await
}

#[tokio::test]
async fn saving_restarts_the_gateway_for_the_status_line_and_the_next_turn() {
    let fake = FakeLlm::start().await.unwrap();
    let p = pane(None).await;
    let status = p.desktop.chat_status().await.unwrap();
    assert!(status.offline_reason.is_some(), "no gateway.toml yet: offline");

    use_fake(&p, &fake, "fake", "m1").await;
    let status = p.desktop.chat_status().await.unwrap();
    assert_eq!(status.offline_reason, None);
    let names: Vec<&str> = status.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["fake"]);
    assert!(status.providers[0].local);
    // Nobody probed it yet: the status claims nothing.
    assert_eq!(status.providers[0].health, ProviderHealthDto::Untested);

    // A second save replaces the gateway that is now running.
    let second = fake.openai_base_url().replace("127.0.0.1", "localhost");
    p.edit(provider(
        "second",
        ProviderKindDto::OpenAiCompatible,
        Some(&second),
    ))
    .await;
    p.edit(alias("smart", &[("second", "m2"), ("fake", "m1")])).await;
    let status = p.desktop.chat_status().await.unwrap();
    let names: Vec<&str> = status.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["fake", "second"]);

    // The next turn asks the first route of the new order.
    let sink: auren_desktop::ChatSink = Box::new(|_| true);
    let request = ChatSendDto {
        conversation: None,
        text: "How was my last session?".into(),
        replaces: None,
        model: None,
    };
    p.desktop.chat_send(request, sink).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), fake.wait_for_requests(1))
        .await
        .unwrap();
    let models: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.model().map(str::to_owned))
        .collect();
    assert_eq!(models.first().map(String::as_str), Some("m2"), "{models:?}");
}

#[tokio::test]
async fn keys_are_only_ever_set_or_not_and_reach_the_provider() {
    let fake = FakeLlm::start().await.unwrap();
    let p = pane(None).await;
    let base_url = fake.openai_base_url();
    p.edit(provider("hosted", ProviderKindDto::OpenAi, Some(&base_url)))
        .await;
    p.edit(alias("smart", &[("hosted", "gpt-test")])).await;

    let view = p
        .desktop
        .set_provider_key("hosted".into(), "  sk-secret-123  ".into())
        .await
        .unwrap();
    assert_eq!(view.providers[0].key, KeyDto::Keychain { set: true });
    let shown = serde_json::to_string(&view).unwrap();
    assert!(!shown.contains("sk-secret"), "{shown}");
    assert_eq!(
        p.keys.api_key("hosted").unwrap().map(|k| k.expose().to_owned()),
        Some("sk-secret-123".into()),
        "stored trimmed"
    );

    let test = p.desktop.test_provider("hosted".into(), None).await.unwrap();
    assert_eq!(test.outcome, ConnectionOutcomeDto::Ok, "{test:?}");
    assert_eq!(test.model, "gpt-test");
    let sent = fake.requests();
    assert_eq!(
        sent.last().and_then(|r| r.header("authorization")),
        Some("Bearer sk-secret-123")
    );
    let shown = serde_json::to_string(&test).unwrap();
    assert!(!shown.contains("sk-secret"), "{shown}");

    let view = p.desktop.clear_provider_key("hosted".into()).await.unwrap();
    assert_eq!(view.providers[0].key, KeyDto::Keychain { set: false });
    let test = p.desktop.test_provider("hosted".into(), None).await.unwrap();
    assert_eq!(test.outcome, ConnectionOutcomeDto::MissingKey, "{test:?}");

    // A key where none is read, or an empty one, is refused.
    p.edit(provider(
        "lan",
        ProviderKindDto::OpenAiCompatible,
        Some(&base_url),
    ))
    .await;
    for (name, key) in [("lan", "sk-x"), ("hosted", "   "), ("nobody", "sk-x")] {
        let error = IpcError::from(
            p.desktop
                .set_provider_key(name.into(), key.into())
                .await
                .unwrap_err(),
        );
        assert_eq!(error.code, ErrorCode::InvalidInput, "{name}: {}", error.message);
    }
    assert!(p.keys.api_key("lan").unwrap().is_none());

    // Removing the provider deletes its key.
    p.desktop
        .set_provider_key("hosted".into(), "sk-again".into())
        .await
        .unwrap();
    p.edit(AiEditDto::RemoveAlias { name: "smart".into() }).await;
    p.edit(AiEditDto::RemoveProvider {
        name: "hosted".into(),
    })
    .await;
    assert!(p.keys.api_key("hosted").unwrap().is_none());
}

/// A loopback port nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn the_connection_test_says_what_went_wrong() {
    let fake = FakeLlm::start().await.unwrap();
    fake.script(
        "refused",
        [Script::Status {
            status: 401,
            retry_after: None,
        }],
    );
    fake.script(
        "missing",
        [Script::Status {
            status: 404,
            retry_after: None,
        }],
    );
    fake.script(
        "broken",
        [Script::Status {
            status: 503,
            retry_after: None,
        }],
    );
    let p = pane(None).await;
    use_fake(&p, &fake, "fake", "good").await;
    let closed = format!("{}/v1", closed_port().await);
    p.edit(provider("gone", ProviderKindDto::OpenAiCompatible, Some(&closed)))
        .await;

    let table = [
        ("fake", Some("good"), ConnectionOutcomeDto::Ok, "answered in"),
        (
            "fake",
            None,
            ConnectionOutcomeDto::Ok,
            "answered in", // the model the alias routes to
        ),
        (
            "fake",
            Some("refused"),
            ConnectionOutcomeDto::AuthFailed,
            "refused the key",
        ),
        (
            "fake",
            Some("missing"),
            ConnectionOutcomeDto::NotFound,
            "model name is wrong",
        ),
        (
            "fake",
            Some("broken"),
            ConnectionOutcomeDto::ServerError,
            "HTTP 503",
        ),
        (
            "gone",
            Some("any"),
            ConnectionOutcomeDto::Unreachable,
            "nothing answered",
        ),
    ];
    for (name, model, outcome, message) in table {
        let test = p
            .desktop
            .test_provider(name.into(), model.map(Into::into))
            .await
            .unwrap();
        assert_eq!(test.outcome, outcome, "{name} {model:?}: {test:?}");
        assert!(
            test.message.contains(message),
            "{name} {model:?}: {}",
            test.message
        );
    }
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.model() == Some("good"))
            .count(),
        2,
        "one request per test, no retries"
    );
    let error = IpcError::from(p.desktop.test_provider("gone".into(), None).await.unwrap_err());
    assert!(error.message.contains("name a model"), "{}", error.message);
    // The person's own gateway never saw the failures: its breaker for the default route stays closed.
    let status = p.desktop.chat_status().await.unwrap();
    assert!(
        status
            .providers
            .iter()
            .all(|p| p.health == ProviderHealthDto::Untested),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_local_ollama_is_detected_and_offered_under_a_free_name() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_ollama_models(["qwen2.5:7b".to_owned(), "llama3.1:8b".to_owned()]);
    let p = pane(None).await;
    let found = p.desktop.detect_ollama(Some(fake.url())).await.unwrap();
    let OllamaDto::Found {
        base_url,
        models,
        suggested_name,
        configured_as,
        ..
    } = found
    else {
        panic!("not found: {found:?}");
    };
    assert_eq!(base_url, fake.openai_base_url());
    assert_eq!(models, ["llama3.1:8b", "qwen2.5:7b"]);
    assert_eq!((suggested_name.as_str(), configured_as), ("ollama", None));

    p.edit(provider(
        "ollama",
        ProviderKindDto::OpenAiCompatible,
        Some(&base_url),
    ))
    .await;
    p.edit(alias("local", &[("ollama", "llama3.1:8b")])).await;
    let again = p.desktop.detect_ollama(Some(fake.url())).await.unwrap();
    assert!(
        matches!(&again, OllamaDto::Found { suggested_name, configured_as: Some(c), .. }
            if suggested_name == "ollama-2" && c == "ollama"),
        "{again:?}"
    );

    let closed = closed_port().await;
    let missing = p.desktop.detect_ollama(Some(closed.clone())).await.unwrap();
    assert!(
        matches!(&missing, OllamaDto::Missing { url, .. } if *url == closed),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_gateway_toml_written_after_start_is_used_without_a_restart() {
    let fake = FakeLlm::start().await.unwrap();
    let p = pane(None).await;
    assert!(p.desktop.chat_status().await.unwrap().offline_reason.is_some());
    let text = format!(
        "default_model = \"fake:m\"\n\n[[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n",
        fake.openai_base_url()
    );
    std::fs::create_dir_all(p.path().parent().unwrap()).unwrap();
    std::fs::write(p.path(), text).unwrap();
    let status = p.desktop.chat_status().await.unwrap();
    assert_eq!(status.offline_reason, None);
    assert_eq!(status.model, "fake:m");
}
