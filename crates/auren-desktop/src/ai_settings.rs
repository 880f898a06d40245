//! The AI settings pane's side of the façade: `gateway.toml` — the file the CLI reads too — shown as a typed
//! view and edited in place with `toml_edit`, so the person's comments, layout and the keys the pane does
//! not show (timeouts, retries, rate limits) survive. Every edit is re-parsed by the gateway's own
//! [`GatewayConfig::parse`] before the file is replaced (a temporary file, then a rename); a refused edit
//! leaves the file as it was. API keys go to the OS keychain through [`ProviderKeys`] and come back only as
//! set / not set. After any change the running gateway is dropped, so the next chat turn or status starts
//! one from the new file; turns already running keep the gateway they started with.
//!
//! Also: a connection test (one real one-word completion through a throwaway gateway, so the person's
//! breakers and budget are untouched) — [`probe`], which the chat's status runs too — and the detection of
//! a local Ollama.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auren_agents::ledger::SqliteLedger;
use auren_gateway::config::{BudgetLimits, ProviderConfig, RetryPolicy, Timeouts};
use auren_gateway::ollama::{OLLAMA_DEFAULT_URL, detect_ollama, openai_base_url};
use auren_gateway::secrets::SecretError;
use auren_gateway::{
    ApiKey, AttemptFailure, ChatRequest, GatewayConfig, GatewayError, Message, ProviderKind, SecretStore,
    SystemClock,
};
use auren_gateway::{Gateway, MemoryLedger, ModelCheck, Reach, Route, UsageLedger};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, TableLike, Value};

use crate::ai_settings_dto::*;
use crate::desktop::write_atomically;
use crate::{Desktop, DesktopError};

/// The keychain service provider keys are stored under, one entry per provider name (the CLI's too).
pub const KEYCHAIN_SERVICE: &str = "auren";
/// How long a missing Ollama may cost.
const OLLAMA_TIMEOUT: Duration = Duration::from_millis(800);
/// The connection test's patience: long enough for a cold local model, short enough to wait for.
const PROBE_CONNECT: Duration = Duration::from_secs(5);
const PROBE_ANSWER: Duration = Duration::from_secs(30);
/// The status check's patience: a model lookup runs no model, so a server that is up answers at once.
const CHECK_ANSWER: Duration = Duration::from_secs(10);
/// What a new `gateway.toml` starts with.
const NEW_FILE: &str = "# Auren's LLM gateway: providers, aliases (routes in failover order) and budgets.\n\
# Written by the desktop's AI settings and read by the `auren` CLI; edit by hand as you like.\n";

/// Where provider API keys are kept: read by the gateway ([`SecretStore`]), written by the settings pane.
/// Implementations may block (the OS keychain does); they are called on a blocking thread.
pub trait ProviderKeys: SecretStore {
    fn set_key(&self, provider: &str, key: &ApiKey) -> Result<(), KeyStoreError>;
    /// Deleting a key that is not there succeeds.
    fn delete_key(&self, provider: &str) -> Result<(), KeyStoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error(transparent)]
    Read(#[from] SecretError),
    // keyring's messages describe the platform failure and never contain the secret.
    #[error("the OS keychain could not {action} the key of provider {provider:?}: {source}")]
    Keychain {
        action: &'static str,
        provider: String,
        #[source]
        source: keyring::Error,
    },
    #[error("the keychain task stopped: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager).
pub struct KeychainKeys {
    service: String,
    read: auren_gateway::KeychainSecrets,
}

impl KeychainKeys {
    pub fn new(service: impl Into<String>) -> Self {
        let service = service.into();
        Self {
            read: auren_gateway::KeychainSecrets::new(service.clone()),
            service,
        }
    }

    fn entry(&self, action: &'static str, provider: &str) -> Result<keyring::Entry, KeyStoreError> {
        keyring::Entry::new(&self.service, provider).map_err(|source| KeyStoreError::Keychain {
            action,
            provider: provider.to_owned(),
            source,
        })
    }
}

impl SecretStore for KeychainKeys {
    fn api_key(&self, provider: &str) -> Result<Option<ApiKey>, SecretError> {
        self.read.api_key(provider)
    }
}

impl ProviderKeys for KeychainKeys {
    fn set_key(&self, provider: &str, key: &ApiKey) -> Result<(), KeyStoreError> {
        self.entry("store", provider)?
            .set_password(key.expose())
            .map_err(|source| KeyStoreError::Keychain {
                action: "store",
                provider: provider.to_owned(),
                source,
            })
    }

    fn delete_key(&self, provider: &str) -> Result<(), KeyStoreError> {
        match self.entry("delete", provider)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(source) => Err(KeyStoreError::Keychain {
                action: "delete",
                provider: provider.to_owned(),
                source,
            }),
        }
    }
}

/// Keys held in memory: for tests (which must never reach the developer's keychain) and for a shell
/// that has no keychain.
#[derive(Default)]
pub struct MemoryKeys(Mutex<HashMap<String, ApiKey>>);

impl MemoryKeys {
    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, ApiKey>> {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still whole.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for MemoryKeys {
    fn api_key(&self, provider: &str) -> Result<Option<ApiKey>, SecretError> {
        Ok(self.keys().get(provider).cloned())
    }
}

impl ProviderKeys for MemoryKeys {
    fn set_key(&self, provider: &str, key: &ApiKey) -> Result<(), KeyStoreError> {
        self.keys().insert(provider.to_owned(), key.clone());
        Ok(())
    }

    fn delete_key(&self, provider: &str) -> Result<(), KeyStoreError> {
        self.keys().remove(provider);
        Ok(())
    }
}

impl Desktop {
    /// Keeps provider keys in `keys` instead of the OS keychain (tests; shells without a keychain).
    pub fn with_provider_keys(mut self, keys: Arc<dyn ProviderKeys>) -> Self {
        self.keys = keys;
        self
    }

    /// `gateway.toml` as the pane shows it.
    pub async fn ai_settings(&self) -> Result<AiSettingsDto, DesktopError> {
        let path = self.gateway_path();
        let text = read_text(&path)?;
        Ok(self.view(&path, text.as_deref()).await)
    }

    /// Applies one edit to `gateway.toml` (created when missing) and restarts the gateway from it.
    pub async fn edit_ai_settings(&self, edit: AiEditDto) -> Result<AiSettingsDto, DesktopError> {
        let path = self.gateway_path();
        // Held across read-modify-write: two edits never interleave, and no gateway starts half-way.
        let mut slot = self.gateway.lock().await;
        let existing = read_text(&path)?;
        let text = existing.clone().unwrap_or_default();
        let origin = path.display().to_string();
        let current = GatewayConfig::parse(&text, &origin).ok();
        if let Some(config) = &current {
            precheck(config, &edit)?;
        }
        let mut doc: DocumentMut = text
            .parse()
            .map_err(|e| refused(&format!("{origin} is not valid TOML: {e}")))?;
        apply(&mut doc, &edit).map_err(|problem| refused(&problem))?;
        let edited = match existing {
            Some(_) => doc.to_string(),
            // A comment alone in a document would be written after its tables: put it first by hand.
            None => format!("{NEW_FILE}\n{doc}"),
        };
        let config = GatewayConfig::parse(&edited, &origin).map_err(|e| refused(&e.to_string()))?;
        write_atomically(&path, edited.as_bytes(), "writing")?;
        self.gateway.reset(&mut slot);
        drop(slot);
        if let AiEditDto::RemoveProvider { name } = &edit {
            let used_keychain = current
                .as_ref()
                .and_then(|c| c.providers.iter().find(|p| &p.name == name))
                .is_some_and(|p| uses_keychain(p.kind, p.api_key_env.as_deref()));
            if used_keychain && let Err(error) = self.delete_key_blocking(name).await {
                tracing::warn!(%error, provider = %name, "the removed provider's key stays in the keychain");
            }
        }
        tracing::info!(path = %path.display(), providers = config.providers.len(), "gateway.toml saved");
        Ok(self.view(&path, Some(&edited)).await)
    }

    /// Stores `key` for `provider` in the keychain; the pane learns only that it is set.
    pub async fn set_provider_key(
        &self,
        provider: String,
        key: String,
    ) -> Result<AiSettingsDto, DesktopError> {
        let key = key.trim().to_owned();
        if key.is_empty() {
            return Err(DesktopError::InvalidInput("the API key is empty".into()));
        }
        self.keychain_provider(&provider)?;
        let mut slot = self.gateway.lock().await;
        let keys = Arc::clone(&self.keys);
        let name = provider.clone();
        tokio::task::spawn_blocking(move || keys.set_key(&name, &ApiKey::new(key)))
            .await
            .map_err(KeyStoreError::Task)??;
        self.gateway.reset(&mut slot);
        drop(slot);
        self.ai_settings().await
    }

    /// Deletes `provider`'s key from the keychain.
    pub async fn clear_provider_key(&self, provider: String) -> Result<AiSettingsDto, DesktopError> {
        self.keychain_provider(&provider)?;
        let mut slot = self.gateway.lock().await;
        self.delete_key_blocking(&provider).await?;
        self.gateway.reset(&mut slot);
        drop(slot);
        self.ai_settings().await
    }

    /// Sends one real one-word request to `provider` (as saved) for `model` — by default the first model an
    /// alias routes to on it — and says how it went.
    pub async fn test_provider(
        &self,
        provider: String,
        model: Option<String>,
    ) -> Result<ConnectionTestDto, DesktopError> {
        let config = self.saved_config()?;
        let Some(found) = config.providers.iter().find(|p| p.name == provider) else {
            return Err(DesktopError::InvalidInput(format!(
                "there is no provider {provider:?}"
            )));
        };
        let model = model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .or_else(|| models_of(&config, &provider).into_iter().next())
            .ok_or_else(|| {
                DesktopError::InvalidInput(format!(
                    "no alias routes to {provider} yet: name a model to test it with"
                ))
            })?;
        let secrets: Arc<dyn SecretStore> = self.keys.clone();
        Ok(probe(self.store().await, secrets, &config, found, model).await)
    }

    /// Asks `url` (Ollama's default when `None`) for its models, giving up quickly.
    pub async fn detect_ollama(&self, url: Option<String>) -> Result<OllamaDto, DesktopError> {
        let url = url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| OLLAMA_DEFAULT_URL.to_owned());
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(DesktopError::InvalidInput(format!(
                "{url:?} must start with http:// or https://"
            )));
        }
        let models = match detect_ollama(&url, OLLAMA_TIMEOUT).await {
            Ok(models) => models,
            Err(error) => {
                return Ok(OllamaDto::Missing {
                    url,
                    reason: error.to_string(),
                });
            }
        };
        let base_url = openai_base_url(&url);
        let providers = self.saved_config().map(|c| c.providers).unwrap_or_default();
        let configured_as = providers
            .iter()
            .find(|p| p.base_url == base_url)
            .map(|p| p.name.clone());
        let taken = |name: &str| providers.iter().any(|p| p.name == name);
        let suggested_name = std::iter::once("ollama".to_owned())
            .chain((2..).map(|n| format!("ollama-{n}")))
            .find(|name| !taken(name))
            .unwrap_or_default();
        Ok(OllamaDto::Found {
            url,
            base_url,
            models,
            suggested_name,
            configured_as,
        })
    }

    /// The saved, valid configuration (a connection test or key needs one).
    fn saved_config(&self) -> Result<GatewayConfig, DesktopError> {
        let path = self.gateway_path();
        if !path.exists() {
            return Err(DesktopError::InvalidInput(format!(
                "no AI provider is set up yet ({} does not exist)",
                path.display()
            )));
        }
        GatewayConfig::load(&path).map_err(|e| DesktopError::InvalidInput(e.to_string()))
    }

    /// Refuses a key for a provider that does not read one from the keychain.
    fn keychain_provider(&self, provider: &str) -> Result<(), DesktopError> {
        let config = self.saved_config()?;
        let Some(found) = config.providers.iter().find(|p| p.name == provider) else {
            return Err(DesktopError::InvalidInput(format!(
                "there is no provider {provider:?}"
            )));
        };
        match (&found.api_key_env, found.kind) {
            (Some(var), _) => Err(DesktopError::InvalidInput(format!(
                "{provider} reads its key from the environment variable {var}, not the keychain"
            ))),
            (None, ProviderKind::OpenAiCompatible) => Err(DesktopError::InvalidInput(format!(
                "{provider} is OpenAI-compatible: the gateway sends such servers a key only from an \
                 environment variable (set one as its key source)"
            ))),
            (None, _) => Ok(()),
        }
    }

    async fn delete_key_blocking(&self, provider: &str) -> Result<(), KeyStoreError> {
        let keys = Arc::clone(&self.keys);
        let name = provider.to_owned();
        tokio::task::spawn_blocking(move || keys.delete_key(&name))
            .await
            .map_err(KeyStoreError::Task)?
    }

    /// The typed view of `text` (`None`: the file does not exist).
    async fn view(&self, path: &Path, text: Option<&str>) -> AiSettingsDto {
        let mut dto = AiSettingsDto {
            path: path.display().to_string(),
            exists: text.is_some(),
            problem: None,
            providers: Vec::new(),
            aliases: Vec::new(),
            default_model: None,
            budget: BudgetDto::default(),
        };
        let Some(text) = text else { return dto };
        let config = match GatewayConfig::parse(text, &dto.path) {
            Ok(config) => config,
            Err(error) => {
                dto.problem = Some(error.to_string());
                return dto;
            }
        };
        let keys = self.key_states(&config).await;
        dto.providers = config
            .providers
            .iter()
            .zip(keys)
            .map(|(p, key)| ProviderDto {
                name: p.name.clone(),
                kind: kind_dto(p.kind),
                base_url_is_default: default_base_url(p.kind).as_deref() == Some(p.base_url.as_str()),
                base_url: p.base_url.clone(),
                key,
                models: models_of(&config, &p.name),
                local: crate::chat::is_local(&p.base_url),
            })
            .collect();
        dto.aliases = config
            .aliases
            .iter()
            .map(|(name, routes)| AliasDto {
                name: name.clone(),
                routes: routes
                    .iter()
                    .map(|r| RouteDto {
                        provider: r.provider.clone(),
                        model: r.model.clone(),
                    })
                    .collect(),
            })
            .collect();
        dto.default_model = config.default_model.clone();
        let dollars = |usd: Option<auren_gateway::Usd>| usd.map(|u| u.picodollars as f64 / 1e12);
        dto.budget = BudgetDto {
            daily_usd: dollars(config.budget.daily),
            monthly_usd: dollars(config.budget.monthly),
        };
        dto
    }

    /// Each provider's key as set / not set, the keychain read on a blocking thread.
    async fn key_states(&self, config: &GatewayConfig) -> Vec<KeyDto> {
        let wanted: Vec<(String, ProviderKind, Option<String>)> = config
            .providers
            .iter()
            .map(|p| (p.name.clone(), p.kind, p.api_key_env.clone()))
            .collect();
        let count = wanted.len();
        let keys = Arc::clone(&self.keys);
        let states = tokio::task::spawn_blocking(move || {
            wanted
                .into_iter()
                .map(|(name, kind, env)| key_state(keys.as_ref(), &name, kind, env))
                .collect::<Vec<_>>()
        })
        .await;
        states.unwrap_or_else(|error| {
            vec![
                KeyDto::Unavailable {
                    reason: error.to_string()
                };
                count
            ]
        })
    }
}

fn key_state(keys: &dyn ProviderKeys, name: &str, kind: ProviderKind, env: Option<String>) -> KeyDto {
    match (env, kind) {
        (Some(variable), _) => {
            let set = std::env::var_os(&variable).is_some_and(|v| !v.is_empty());
            KeyDto::Environment { variable, set }
        }
        (None, ProviderKind::OpenAiCompatible) => KeyDto::NotUsed,
        (None, _) => match keys.api_key(name) {
            Ok(key) => KeyDto::Keychain { set: key.is_some() },
            Err(error) => KeyDto::Unavailable {
                reason: error.to_string(),
            },
        },
    }
}

fn uses_keychain(kind: ProviderKind, env: Option<&str>) -> bool {
    env.is_none() && kind != ProviderKind::OpenAiCompatible
}

fn read_text(path: &Path) -> Result<Option<String>, DesktopError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DesktopError::Io {
            what: "reading",
            path: PathBuf::from(path),
            source,
        }),
    }
}

fn refused(problem: &str) -> DesktopError {
    DesktopError::InvalidInput(format!("gateway.toml was not changed: {problem}"))
}

/// The models routed to on `provider`, in order of first mention.
pub(crate) fn models_of(config: &GatewayConfig, provider: &str) -> Vec<String> {
    let mut models: Vec<String> = Vec::new();
    for route in config.aliases.values().flatten() {
        if route.provider == provider && !models.contains(&route.model) {
            models.push(route.model.clone());
        }
    }
    if let Some(route) = config
        .default_model
        .as_deref()
        .and_then(auren_gateway::Route::parse)
        .filter(|r| r.provider == provider && !models.contains(&r.model))
    {
        models.push(route.model);
    }
    models
}

fn kind_dto(kind: ProviderKind) -> ProviderKindDto {
    match kind {
        ProviderKind::OpenAi => ProviderKindDto::OpenAi,
        ProviderKind::Anthropic => ProviderKindDto::Anthropic,
        ProviderKind::OpenAiCompatible => ProviderKindDto::OpenAiCompatible,
    }
}

/// How `kind` is spelled in `gateway.toml`.
fn kind_toml(kind: ProviderKindDto) -> &'static str {
    match kind {
        ProviderKindDto::OpenAi => "openai",
        ProviderKindDto::Anthropic => "anthropic",
        ProviderKindDto::OpenAiCompatible => "openai-compatible",
    }
}

fn gateway_kind(kind: ProviderKindDto) -> ProviderKind {
    match kind {
        ProviderKindDto::OpenAi => ProviderKind::OpenAi,
        ProviderKindDto::Anthropic => ProviderKind::Anthropic,
        ProviderKindDto::OpenAiCompatible => ProviderKind::OpenAiCompatible,
    }
}

/// The base URL the gateway uses for `kind` when none is written — asked of the gateway's own parser, so
/// the default lives in one place.
fn default_base_url(kind: ProviderKind) -> Option<String> {
    let kind = kind_toml(kind_dto(kind));
    let text = format!("[[provider]]\nname = \"probe\"\nkind = \"{kind}\"\n");
    GatewayConfig::parse(&text, "(default)")
        .ok()?
        .providers
        .into_iter()
        .next()
        .map(|p| p.base_url)
}

/// Friendlier refusals than the parser's for edits that would leave a dangling reference.
fn precheck(config: &GatewayConfig, edit: &AiEditDto) -> Result<(), DesktopError> {
    match edit {
        AiEditDto::RemoveProvider { name } => {
            let users: Vec<&str> = config
                .aliases
                .iter()
                .filter(|(_, routes)| routes.iter().any(|r| &r.provider == name))
                .map(|(alias, _)| alias.as_str())
                .collect();
            if !users.is_empty() {
                return Err(refused(&format!(
                    "provider {name:?} is used by alias {}: take it out of the alias first",
                    users.join(", ")
                )));
            }
            Ok(())
        }
        AiEditDto::RemoveAlias { name } if config.default_model.as_deref() == Some(name.as_str()) => {
            Err(refused(&format!(
                "alias {name:?} is the default model: choose another default first"
            )))
        }
        _ => Ok(()),
    }
}

/// Applies `edit` to the document; `Err` is a sentence saying why it cannot be done.
fn apply(doc: &mut DocumentMut, edit: &AiEditDto) -> Result<(), String> {
    match edit {
        AiEditDto::PutProvider { provider } => put_provider(doc, provider),
        AiEditDto::RemoveProvider { name } => {
            let providers = providers_mut(doc)?;
            let before = providers.len();
            providers.retain(|t| t.get("name").and_then(Item::as_str) != Some(name.as_str()));
            if providers.len() == before {
                return Err(format!("there is no provider {name:?}"));
            }
            Ok(())
        }
        AiEditDto::PutAlias { name, routes } => put_alias(doc, name, routes),
        AiEditDto::RemoveAlias { name } => {
            let removed = doc
                .get_mut("alias")
                .and_then(Item::as_table_like_mut)
                .and_then(|aliases| aliases.remove(name));
            removed
                .map(drop)
                .ok_or_else(|| format!("there is no alias {name:?}"))
        }
        AiEditDto::SetDefaultModel { model } => {
            let model = model.as_deref().map(str::trim).filter(|m| !m.is_empty());
            set_or_remove(doc.as_table_mut(), "default_model", model.map(Value::from));
            Ok(())
        }
        AiEditDto::SetBudget { budget } => {
            let table = table_mut(doc, "budget")?;
            set_or_remove(table, "daily_usd", budget.daily_usd.map(Value::from));
            set_or_remove(table, "monthly_usd", budget.monthly_usd.map(Value::from));
            Ok(())
        }
    }
}

fn put_provider(doc: &mut DocumentMut, edit: &ProviderEditDto) -> Result<(), String> {
    let name = edit.name.trim();
    if name.is_empty() || name.contains(':') {
        return Err(format!(
            "a provider's name must be non-empty and contain no ':' ({name:?})"
        ));
    }
    let default_url = default_base_url(gateway_kind(edit.kind));
    let base_url = edit
        .base_url
        .as_deref()
        .map(|u| u.trim().trim_end_matches('/'))
        .filter(|u| !u.is_empty() && Some(*u) != default_url.as_deref());
    let env = edit
        .api_key_env
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(var) = env
        && !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "{var:?} is not an environment variable name (letters, digits and _)"
        ));
    }
    let providers = providers_mut(doc)?;
    let existing = providers
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name));
    let index = match existing {
        Some(index) => index,
        None => {
            let mut table = Table::new();
            table.insert("name", Item::Value(Value::from(name)));
            providers.push(table);
            providers.len() - 1
        }
    };
    let table = providers
        .get_mut(index)
        .ok_or_else(|| "the new provider could not be added".to_owned())?;
    set_or_remove(table, "kind", Some(Value::from(kind_toml(edit.kind))));
    set_or_remove(table, "base_url", base_url.map(Value::from));
    set_or_remove(table, "api_key_env", env.map(Value::from));
    Ok(())
}

fn put_alias(doc: &mut DocumentMut, name: &str, routes: &[RouteDto]) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || name.contains(':') || name.contains(char::is_whitespace) {
        return Err(format!(
            "an alias's name must be non-empty, without spaces or ':' ({name:?})"
        ));
    }
    let mut list = toml_edit::Array::new();
    for route in routes {
        let (provider, model) = (route.provider.trim(), route.model.trim());
        if provider.is_empty() || model.is_empty() {
            return Err(format!(
                "alias {name:?}: every route needs a provider and a model"
            ));
        }
        list.push(format!("{provider}:{model}"));
    }
    let aliases = table_mut(doc, "alias")?;
    match aliases.get_mut(name).and_then(Item::as_table_like_mut) {
        Some(alias) => set_or_remove(alias, "routes", Some(Value::Array(list))),
        None => {
            let mut alias = Table::new();
            alias.insert("routes", Item::Value(Value::Array(list)));
            aliases.insert(name, Item::Table(alias));
        }
    }
    Ok(())
}

/// The `[[provider]]` list, created when missing.
fn providers_mut(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, String> {
    doc.entry("provider")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| {
            "the providers are written as an inline array, which the settings pane cannot edit: \
             write them as [[provider]] tables"
                .to_owned()
        })
}

/// A top-level table, created (as `[key]`, or only as the parent of `[key.x]`) when missing.
fn table_mut<'d>(doc: &'d mut DocumentMut, key: &str) -> Result<&'d mut dyn TableLike, String> {
    doc.entry(key)
        .or_insert_with(|| {
            let mut table = Table::new();
            table.set_implicit(true);
            Item::Table(table)
        })
        .as_table_like_mut()
        .ok_or_else(|| format!("{key} is not a table"))
}

/// Sets `key` to `value` keeping the comments around the old value, or removes it when `None`.
fn set_or_remove(table: &mut dyn TableLike, key: &str, value: Option<Value>) {
    match (value, table.get_mut(key)) {
        (None, _) => {
            table.remove(key);
        }
        (Some(mut value), Some(item)) => {
            if let Some(old) = item.as_value() {
                *value.decor_mut() = old.decor().clone();
            }
            *item = Item::Value(value);
        }
        (Some(value), None) => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// One real one-word request to `provider` for `model` through a throwaway gateway — no retries, no
/// budget, the person's breakers untouched — and how it went: Settings' connection test, which the person
/// asks for to see that the model answers. The request is recorded in the usage ledger of `store` like any
/// other. The chat's status asks with [`check`] instead, which costs nothing.
pub(crate) async fn probe(
    store: auren_store::Store,
    secrets: Arc<dyn SecretStore>,
    config: &GatewayConfig,
    provider: &ProviderConfig,
    model: String,
) -> ConnectionTestDto {
    let probe = throwaway_config(config, provider, PROBE_ANSWER);
    let ledger: Arc<dyn UsageLedger> = Arc::new(SqliteLedger::new(store));
    let started = Instant::now();
    let result = match Gateway::start(probe, secrets, ledger, Arc::new(SystemClock)).await {
        Ok(gateway) => {
            let request = ChatRequest {
                messages: vec![Message::user("Reply with the single word OK.")],
                max_tokens: Some(8),
                ..ChatRequest::default()
            };
            gateway
                .chat(&format!("{}:{model}", provider.name), request)
                .await
                .map(|_| ())
        }
        Err(error) => Err(error),
    };
    report(provider, model, started, result.err().as_ref().map(error_verdict))
}

/// Whether `provider` answers, takes the key and knows `model`, asked with a model lookup
/// ([`Gateway::check`]: `GET …/models/{model}`), never a completion: free, booked nowhere (the throwaway
/// gateway's ledger is in memory), no chat request. What the chat's status line shows of each provider. A
/// spent quota goes unseen (a model list answers all the same); the breaker catches it once turns fail.
/// Also returns whether anyone answered ([`Reach`]), for the chat's own gateway: a provider the status line
/// shows unreachable is then skipped by the next turn at once instead of costing it a connect timeout.
pub(crate) async fn check(
    secrets: Arc<dyn SecretStore>,
    config: &GatewayConfig,
    provider: &ProviderConfig,
    model: String,
) -> (ConnectionTestDto, Option<Reach>) {
    let throwaway = throwaway_config(config, provider, CHECK_ANSWER);
    let ledger: Arc<dyn UsageLedger> = Arc::new(MemoryLedger::default());
    let started = Instant::now();
    let route = Route {
        provider: provider.name.clone(),
        model: model.clone(),
    };
    let (verdict, reach) = match Gateway::start(throwaway, secrets, ledger, Arc::new(SystemClock)).await {
        Ok(gateway) => {
            let checked = gateway.check(&route).await;
            let reach = Reach::of_check(&checked);
            match checked {
                // A llama.cpp server without --alias answers every model name with its one file: say so,
                // or the person wonders why the name in their settings is not the one listed.
                Ok(ModelCheck::AnyNameServes { served }) => (Some(any_name_serves(&served)), reach),
                Ok(_) => (None, reach),
                Err(failure) => (Some(outcome_of(&failure)), reach),
            }
        }
        Err(error) => (Some(error_verdict(&error)), None),
    };
    (report(provider, model, started, verdict), reach)
}

/// A llama.cpp server's "any name" answer: up, with what it serves in the sentence.
fn any_name_serves(served: &str) -> (ConnectionOutcomeDto, String) {
    (
        ConnectionOutcomeDto::Ok,
        format!("llama.cpp serves {served} for any model name"),
    )
}

/// A gateway configuration of `provider` alone, for one question: no retries, no budget, `answer` to wait.
fn throwaway_config(config: &GatewayConfig, provider: &ProviderConfig, answer: Duration) -> GatewayConfig {
    GatewayConfig {
        default_model: None,
        max_tokens: 8,
        timeouts: Timeouts {
            connect: PROBE_CONNECT,
            first_token: answer,
            idle: answer,
        },
        retry: RetryPolicy {
            max_retries: 0,
            ..config.retry
        },
        breaker: config.breaker,
        providers: vec![provider.clone()],
        aliases: Default::default(),
        budget: BudgetLimits::default(),
    }
}

/// What a failed request's gateway error means, and the sentence for it.
fn error_verdict(error: &GatewayError) -> (ConnectionOutcomeDto, String) {
    let failure = match error {
        GatewayError::AllProvidersFailed { attempts, .. } => attempts.last().map(|a| &a.failure),
        GatewayError::StreamInterrupted { failure, .. } => Some(failure),
        _ => None,
    };
    match failure {
        Some(failure) => outcome_of(failure),
        None => (ConnectionOutcomeDto::Failed, error.to_string()),
    }
}

/// The test's result: `verdict` is the failure's outcome and sentence, `None` when the provider answered.
fn report(
    provider: &ProviderConfig,
    model: String,
    started: Instant,
    verdict: Option<(ConnectionOutcomeDto, String)>,
) -> ConnectionTestDto {
    let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    let (outcome, message) =
        verdict.unwrap_or_else(|| (ConnectionOutcomeDto::Ok, format!("answered in {latency_ms} ms")));
    ConnectionTestDto {
        provider: provider.name.clone(),
        model,
        outcome,
        latency_ms,
        message,
    }
}

/// What a failed connection test means, and the sentence for it.
fn outcome_of(failure: &AttemptFailure) -> (ConnectionOutcomeDto, String) {
    use ConnectionOutcomeDto as O;
    let outcome = match failure {
        AttemptFailure::Status {
            status: 401 | 403, ..
        } => O::AuthFailed,
        AttemptFailure::Status { status: 404, .. } => O::NotFound,
        AttemptFailure::Status { status: 429, .. } => O::RateLimited,
        AttemptFailure::Status { status, .. } if *status >= 500 => O::ServerError,
        AttemptFailure::Connect(_) | AttemptFailure::Refused(_) => O::Unreachable,
        AttemptFailure::FirstTokenTimeout(_) | AttemptFailure::IdleTimeout(_) => O::Timeout,
        AttemptFailure::MissingKey(_) => O::MissingKey,
        AttemptFailure::Malformed(_) | AttemptFailure::Broken(_) | AttemptFailure::StreamError { .. } => {
            O::BadResponse
        }
        _ => O::Failed,
    };
    let lead = match outcome {
        O::AuthFailed => "the provider refused the key",
        O::NotFound => "the base URL or the model name is wrong",
        O::RateLimited => "the account's rate limit or quota is reached",
        O::ServerError => "the provider failed",
        O::Unreachable => "nothing answered at the base URL",
        O::Timeout => "the provider did not answer in time",
        O::MissingKey => "no API key is set",
        O::BadResponse => "the answer was not in the provider's format",
        O::Ok | O::Failed => "the request failed",
    };
    (outcome, format!("{lead} ({failure})"))
}
