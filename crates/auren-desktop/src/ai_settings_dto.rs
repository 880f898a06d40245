//! The AI settings pane's IPC types: `gateway.toml` as a typed view (providers, aliases with their ordered
//! routes, the default model, budgets), each provider's key only as set / not set, the edits the pane sends,
//! a connection test's result and a detected local Ollama. Converted from `auren-gateway` types in
//! `ai_settings.rs`, so the gateway knows nothing of specta.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Which wire format a provider speaks (`kind` in `gateway.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum ProviderKindDto {
    #[serde(rename = "openai")]
    OpenAi,
    #[serde(rename = "anthropic")]
    Anthropic,
    /// Any server with OpenAI's Chat Completions API at its own base URL (Ollama, llama.cpp, vLLM, …).
    #[serde(rename = "openai_compatible")]
    OpenAiCompatible,
}

/// Where a provider's API key comes from, and whether it is there. The key itself never crosses IPC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum KeyDto {
    /// The OS keychain entry named after the provider (service `auren`, shared with the CLI).
    Keychain { set: bool },
    /// The environment variable `api_key_env` names (read when Auren starts).
    Environment { variable: String, set: bool },
    /// OpenAI-compatible servers without `api_key_env` are sent no key (local servers need none).
    NotUsed,
    /// The keychain did not answer; the sentence says why.
    Unavailable { reason: String },
}

/// One `[[provider]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ProviderDto {
    pub name: String,
    pub kind: ProviderKindDto,
    /// The base URL in use: the one written, else the kind's default.
    pub base_url: String,
    /// True when no `base_url` is written and the kind's default applies.
    pub base_url_is_default: bool,
    pub key: KeyDto,
    /// The models the aliases route to on this provider, in order of first mention.
    pub models: Vec<String>,
    /// On this machine (loopback): costs nothing.
    pub local: bool,
}

/// One step of an alias: a provider and the model it knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RouteDto {
    pub provider: String,
    pub model: String,
}

/// An alias and its routes in failover order (the first is tried first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AliasDto {
    pub name: String,
    pub routes: Vec<RouteDto>,
}

/// The hard budgets in US dollars; `None` means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, Type)]
pub struct BudgetDto {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

/// What the AI settings pane shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct AiSettingsDto {
    /// The `gateway.toml` being edited (the CLI reads the same file).
    pub path: String,
    pub exists: bool,
    /// Why the file cannot be used as it stands (a hand edit gone wrong); the lists are then empty and
    /// every edit is refused until the file is fixed.
    pub problem: Option<String>,
    pub providers: Vec<ProviderDto>,
    pub aliases: Vec<AliasDto>,
    /// What the chat asks for: an alias or `provider:model`.
    pub default_model: Option<String>,
    pub budget: BudgetDto,
}

/// A provider as the pane adds or changes it. Fields the pane does not show (rate limits) are kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ProviderEditDto {
    pub name: String,
    pub kind: ProviderKindDto,
    /// `None`: the kind's default (OpenAI-compatible providers need one).
    pub base_url: Option<String>,
    /// Read the key from this environment variable instead of the keychain.
    pub api_key_env: Option<String>,
}

/// One change to `gateway.toml`; each is checked by the gateway's own parser before the file is written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AiEditDto {
    /// Adds the provider, or changes the one of that name.
    PutProvider {
        provider: ProviderEditDto,
    },
    /// Removes a provider no alias uses (its keychain entry is deleted too).
    RemoveProvider {
        name: String,
    },
    /// Adds the alias, or replaces its routes (the order is the failover order).
    PutAlias {
        name: String,
        routes: Vec<RouteDto>,
    },
    RemoveAlias {
        name: String,
    },
    /// An alias or `provider:model`; `None` removes it.
    SetDefaultModel {
        model: Option<String>,
    },
    SetBudget {
        budget: BudgetDto,
    },
}

/// What a connection test found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionOutcomeDto {
    /// The provider answered a one-word request.
    Ok,
    /// The key was refused (HTTP 401/403).
    AuthFailed,
    /// No key is set where the provider's key is looked for.
    MissingKey,
    /// Nothing answered at the base URL (refused, DNS, TLS, no route).
    Unreachable,
    /// It connected but sent nothing in time.
    Timeout,
    /// HTTP 404: the base URL or the model name is wrong.
    NotFound,
    /// HTTP 429: the account's rate limit or quota.
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// It answered, but not in the provider's format.
    BadResponse,
    /// Anything else (another HTTP status, the request refused); the message says what.
    Failed,
}

/// The result of one real, cheap request (a one-word completion) to a provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ConnectionTestDto {
    pub provider: String,
    pub model: String,
    pub outcome: ConnectionOutcomeDto,
    /// Time from sending to the whole answer (or the failure).
    pub latency_ms: u32,
    /// `"answered in 312 ms"`, or what went wrong, as a sentence.
    pub message: String,
}

/// Whether a local Ollama answered `GET /api/tags`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum OllamaDto {
    Found {
        url: String,
        /// Its OpenAI-compatible endpoint, for a provider's base URL.
        base_url: String,
        /// The models it has pulled, sorted.
        models: Vec<String>,
        /// A provider name not yet taken (`ollama`, `ollama-2`, …).
        suggested_name: String,
        /// The provider already pointing at it, if any.
        configured_as: Option<String>,
    },
    Missing {
        url: String,
        reason: String,
    },
}
