//! `gateway.toml`: parsed once, unknown keys rejected, every error naming its line; then validated into
//! [`GatewayConfig`], which the rest of the gateway trusts.
//!
//! ```toml
//! default_model = "smart"          # used when a caller names no model
//! max_tokens = 4096                # output cap when a request sets none (also what budgets reserve)
//!
//! [timeouts]                       # per attempt, in milliseconds
//! connect_ms = 900                 # DNS, TCP and TLS; not retried: the offline answer comes within a second
//! first_token_ms = 30000
//! idle_ms = 30000
//!
//! [retry]
//! max_retries = 2                  # per route, on 429/500/502/503/529 and timeouts after connecting
//! initial_backoff_ms = 250         # full jitter: sleep uniformly in [0, min(max, initial·2ⁿ)]
//! max_backoff_ms = 8000
//! max_retry_after_ms = 30000       # a longer Retry-After fails over instead of waiting
//!
//! [breaker]                        # per provider and model
//! failure_threshold = 5            # failures within window_ms that open it
//! window_ms = 60000
//! open_ms = 30000                  # then one half-open probe decides
//!
//! [[provider]]
//! name = "openai"
//! kind = "openai"                  # openai | anthropic | openai-compatible
//! api_key_env = "OPENAI_API_KEY"   # optional; otherwise the OS keychain entry named after the provider
//! requests_per_minute = 500        # optional token buckets
//! tokens_per_minute = 200000
//! context_window = 32768           # optional: an openai-compatible server's context length in tokens
//!                                  # (the known hosted models' come from prices.json)
//!
//! [alias.smart]
//! routes = ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1", "local:llama3.1"]
//!
//! [budget]
//! daily_usd = 2.0
//! monthly_usd = 30.0
//! ```

use crate::prices::Usd;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// The validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayConfig {
    pub default_model: Option<String>,
    pub max_tokens: u32,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub breaker: BreakerPolicy,
    pub providers: Vec<ProviderConfig>,
    pub aliases: BTreeMap<String, Vec<Route>>,
    pub budget: BudgetLimits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_token: Duration,
    pub idle: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub failure_threshold: u32,
    pub window: Duration,
    pub open_for: Duration,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetLimits {
    pub daily: Option<Usd>,
    pub monthly: Option<Usd>,
}

/// Which wire format a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum ProviderKind {
    #[serde(rename = "openai")]
    OpenAi,
    #[serde(rename = "anthropic")]
    Anthropic,
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
}

impl ProviderKind {
    /// The `gen_ai.system` value.
    pub fn system(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::OpenAiCompatible => "openai_compatible",
        }
    }

    fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Anthropic => Some("https://api.anthropic.com"),
            Self::OpenAiCompatible => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// Without a trailing slash: `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub api_key_env: Option<String>,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
    /// The context length of this provider's models, for a server whose models the bundled table does not
    /// know (a local one); `None` shows as unknown.
    pub context_window: Option<u32>,
}

/// One step of an alias: a provider and the model name it knows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub provider: String,
    pub model: String,
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}

impl Route {
    /// `provider:model`; the model may itself contain colons (`local:llama3.1:8b`).
    pub fn parse(text: &str) -> Option<Self> {
        let (provider, model) = text.split_once(':')?;
        (!provider.is_empty() && !model.is_empty()).then(|| Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl GatewayConfig {
    /// Reads and validates a `gateway.toml`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let at = |span: Option<Range<usize>>, message: String| {
            let (line, column) = line_column(text, span.map_or(0, |s| s.start));
            ConfigError::Invalid {
                path: origin.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| at(e.span(), e.message().to_owned()))?;
        raw.validate().map_err(|(span, message)| at(Some(span), message))
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

type Invalid = (Range<usize>, String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_model: Option<Spanned<String>>,
    max_tokens: Option<Spanned<u32>>,
    #[serde(default)]
    timeouts: RawTimeouts,
    #[serde(default)]
    retry: RawRetry,
    #[serde(default)]
    breaker: RawBreaker,
    #[serde(default)]
    provider: Vec<RawProvider>,
    #[serde(default)]
    alias: BTreeMap<String, RawAlias>,
    #[serde(default)]
    budget: RawBudget,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    connect_ms: Option<Spanned<u64>>,
    first_token_ms: Option<Spanned<u64>>,
    idle_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    max_retries: Option<u32>,
    initial_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    max_retry_after_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBreaker {
    failure_threshold: Option<Spanned<u32>>,
    window_ms: Option<Spanned<u64>>,
    open_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: Spanned<String>,
    kind: ProviderKind,
    base_url: Option<Spanned<String>>,
    api_key_env: Option<String>,
    requests_per_minute: Option<Spanned<u32>>,
    tokens_per_minute: Option<Spanned<u32>>,
    context_window: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    routes: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    daily_usd: Option<Spanned<f64>>,
    monthly_usd: Option<Spanned<f64>>,
}

fn positive_ms(value: Option<Spanned<u64>>, default_ms: u64, what: &str) -> Result<Duration, Invalid> {
    match value {
        Some(v) if *v.get_ref() == 0 => Err((v.span(), format!("{what} must be greater than 0"))),
        Some(v) => Ok(Duration::from_millis(*v.get_ref())),
        None => Ok(Duration::from_millis(default_ms)),
    }
}

fn dollars(value: Option<Spanned<f64>>, what: &str) -> Result<Option<Usd>, Invalid> {
    let Some(v) = value else { return Ok(None) };
    let dollars = *v.get_ref();
    if !dollars.is_finite() || dollars < 0.0 {
        return Err((
            v.span(),
            format!("{what} must be a non-negative number of dollars, not {dollars}"),
        ));
    }
    Ok(Some(Usd::from_dollars(dollars)))
}

fn nonzero_u32(value: Option<Spanned<u32>>, what: &str) -> Result<Option<u32>, Invalid> {
    match value {
        Some(v) if *v.get_ref() == 0 => Err((v.span(), format!("{what} must be greater than 0"))),
        other => Ok(other.map(|v| v.into_inner())),
    }
}

impl RawConfig {
    fn validate(self) -> Result<GatewayConfig, Invalid> {
        let timeouts = Timeouts {
            // A provider that cannot be reached in 0.9 s gives way to the offline answer within a second (the
            // issue's bound); a working connection takes a DNS lookup and three round trips, far less. Raise it
            // on a link slower than that (a satellite), at the cost of that wait when nothing answers.
            connect: positive_ms(self.timeouts.connect_ms, 900, "connect_ms")?,
            first_token: positive_ms(self.timeouts.first_token_ms, 30_000, "first_token_ms")?,
            idle: positive_ms(self.timeouts.idle_ms, 30_000, "idle_ms")?,
        };
        let retry = RetryPolicy {
            max_retries: self.retry.max_retries.unwrap_or(2),
            initial_backoff: Duration::from_millis(self.retry.initial_backoff_ms.unwrap_or(250)),
            max_backoff: Duration::from_millis(self.retry.max_backoff_ms.unwrap_or(8_000)),
            max_retry_after: Duration::from_millis(self.retry.max_retry_after_ms.unwrap_or(30_000)),
        };
        let breaker = BreakerPolicy {
            failure_threshold: nonzero_u32(self.breaker.failure_threshold, "failure_threshold")?.unwrap_or(5),
            window: positive_ms(self.breaker.window_ms, 60_000, "window_ms")?,
            open_for: Duration::from_millis(self.breaker.open_ms.unwrap_or(30_000)),
        };
        let max_tokens = nonzero_u32(self.max_tokens, "max_tokens")?.unwrap_or(4096);

        let (providers, names) = providers(self.provider)?;
        let aliases = aliases(self.alias, &names)?;
        let default_model = default_model(self.default_model, &aliases, &names)?;
        let budget = BudgetLimits {
            daily: dollars(self.budget.daily_usd, "daily_usd")?,
            monthly: dollars(self.budget.monthly_usd, "monthly_usd")?,
        };
        Ok(GatewayConfig {
            default_model,
            max_tokens,
            timeouts,
            retry,
            breaker,
            providers,
            aliases,
            budget,
        })
    }
}

/// The providers, each checked, and the set of their names (each defined once).
fn providers(raws: Vec<RawProvider>) -> Result<(Vec<ProviderConfig>, HashSet<String>), Invalid> {
    let mut names = HashSet::new();
    let mut providers = Vec::with_capacity(raws.len());
    for raw in raws {
        let name_span = raw.name.span();
        let name = raw.name.into_inner();
        if name.is_empty() || name.contains(':') {
            return Err((
                name_span,
                format!("provider name {name:?} must be non-empty and contain no ':'"),
            ));
        }
        if !names.insert(name.clone()) {
            return Err((name_span, format!("provider {name:?} is defined twice")));
        }
        let base_url = base_url(raw.base_url, raw.kind, &name, name_span)?;
        providers.push(ProviderConfig {
            name,
            kind: raw.kind,
            base_url,
            api_key_env: raw.api_key_env,
            requests_per_minute: nonzero_u32(raw.requests_per_minute, "requests_per_minute")?,
            tokens_per_minute: nonzero_u32(raw.tokens_per_minute, "tokens_per_minute")?,
            context_window: nonzero_u32(raw.context_window, "context_window")?,
        });
    }
    Ok((providers, names))
}

/// A provider's base URL: the one given (http or https, without a trailing slash), else its kind's default.
fn base_url(
    given: Option<Spanned<String>>,
    kind: ProviderKind,
    name: &str,
    name_span: Range<usize>,
) -> Result<String, Invalid> {
    match (given, kind.default_base_url()) {
        (Some(url), _) => {
            let span = url.span();
            let url = url.into_inner();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err((
                    span,
                    format!("base_url {url:?} must start with http:// or https://"),
                ));
            }
            Ok(url.trim_end_matches('/').to_owned())
        }
        (None, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err((
            name_span,
            format!("provider {name:?} of kind openai-compatible needs a base_url"),
        )),
    }
}

/// The aliases: each a non-empty list of `provider:model` routes over defined providers.
fn aliases(
    raws: BTreeMap<String, RawAlias>,
    names: &HashSet<String>,
) -> Result<BTreeMap<String, Vec<Route>>, Invalid> {
    let mut aliases = BTreeMap::new();
    for (alias, raw) in raws {
        let list_span = raw.routes.span();
        let entries = raw.routes.into_inner();
        if entries.is_empty() {
            return Err((list_span, format!("alias {alias:?} has no routes")));
        }
        let mut routes = Vec::with_capacity(entries.len());
        for entry in entries {
            let span = entry.span();
            let route = Route::parse(entry.get_ref()).ok_or_else(|| {
                (
                    span.clone(),
                    format!("route {:?} is not provider:model", entry.get_ref()),
                )
            })?;
            if !names.contains(&route.provider) {
                return Err((
                    span,
                    format!("route {route} names no provider defined in [[provider]]"),
                ));
            }
            routes.push(route);
        }
        aliases.insert(alias, routes);
    }
    Ok(aliases)
}

/// The default model, when given: an alias or `provider:model` over a defined provider.
fn default_model(
    given: Option<Spanned<String>>,
    aliases: &BTreeMap<String, Vec<Route>>,
    names: &HashSet<String>,
) -> Result<Option<String>, Invalid> {
    let Some(model) = given else {
        return Ok(None);
    };
    let span = model.span();
    let model = model.into_inner();
    let known =
        aliases.contains_key(&model) || Route::parse(&model).is_some_and(|r| names.contains(&r.provider));
    if !known {
        return Err((
            span,
            format!("default_model {model:?} is neither an alias nor provider:model"),
        ));
    }
    Ok(Some(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 9), (2, 4));
    }

    #[test]
    fn route_parse_keeps_colons_in_the_model() {
        let table = [
            ("local:llama3.1:8b", Some(("local", "llama3.1:8b"))),
            ("openai:gpt-4.1", Some(("openai", "gpt-4.1"))),
            ("gpt-4.1", None),
            (":gpt", None),
            ("openai:", None),
        ];
        for (text, expected) in table {
            let got = Route::parse(text);
            assert_eq!(
                got.as_ref().map(|r| (r.provider.as_str(), r.model.as_str())),
                expected,
                "{text}"
            );
        }
    }
}
