//! auren-gateway: every LLM call of Auren goes through here — providers behind one trait, streaming with
//! normalised tool calls, retries, circuit breakers, ordered failover, token accounting, prices and hard
//! budgets.
//!
//! Layout:
//! - `chat` — the normalised request, message, tool and stream-event types.
//! - `config` — `gateway.toml`, parsed once and validated (`GatewayConfig`).
//! - `gateway` — `Gateway`: routing, failover, retries, first-token/idle timeouts, settling; `ChatStream`.
//! - `providers/` — the `Provider` trait and shared SSE decoding; `openai.rs` (also OpenAI-compatible
//!   servers), `anthropic.rs`.
//! - `breaker`, `ratelimit`, `budget` — the per-route breaker, per-provider token buckets, the budgets.
//! - `prices` (+ `prices.json`) — `Usd` and the offline price table; `tokens` — tokenizer estimates.
//! - `usage` — `UsageRecord` and the `UsageLedger` trait (SQLite: an adapter over auren-store in the CLI).
//! - `secrets` — `ApiKey` (redacting) and `SecretStore` (OS keychain, or memory).
//! - `clock` — `Clock` (passed in: tests move time by hand) and UTC calendar arithmetic.
//! - `ollama` — detecting a local Ollama and listing its models.
//! - `error` — `AttemptFailure` and `GatewayError`.

pub mod breaker;
pub mod budget;
pub mod chat;
/// Time and the calendar come from auren-clock; re-exported so `auren_gateway::clock::…` keeps working.
pub use auren_clock as clock;
pub mod config;
pub mod error;
pub mod gateway;
pub mod ollama;
pub mod prices;
pub mod providers;
pub mod ratelimit;
pub mod secrets;
pub mod tokens;
pub mod usage;

pub use budget::{BudgetRefusal, BudgetWindow};
pub use chat::{
    ChatRequest, ChatResponse, FinishReason, Message, SchemaAdherence, StreamEvent, ToolCall, ToolDefinition,
    Usage,
};
pub use clock::{Clock, ManualClock, SystemClock, UnixMillis, UtcDate};
pub use config::{ConfigError, GatewayConfig, ProviderKind, Route};
pub use error::{Attempt, AttemptFailure, GatewayError};
pub use gateway::{ChatStream, Gateway, Opening, Reach, UnansweredCall};
pub use prices::{PriceTable, Usd};
pub use providers::ModelCheck;
pub use secrets::{ApiKey, KeychainSecrets, MemorySecrets, SecretStore};
pub use usage::{
    GroupedTotals, LedgerError, MemoryLedger, UsageGrouping, UsageLedger, UsageQuery, UsageRecord,
    UsageTotals,
};
