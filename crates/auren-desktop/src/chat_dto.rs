//! The chat's IPC types: the turn's events as the window receives them (text already batched), the stored
//! conversation and its messages, and the status line (providers, budget left). Converted from
//! `auren-agents` and `auren-store` types here, so neither crate knows specta.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Who answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SpecialistDto {
    Supervisor,
    Neuroscientist,
    Analyst,
    Coach,
    Offline,
    Safety,
}

/// How the supervisor chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RouteReasonDto {
    Rules,
    Model,
    RedFlag,
    Offline,
}

/// Which deterministic guard ended a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum GuardDto {
    ModelCalls,
    Handoffs,
    RepeatedToolCall,
    PingPong,
    TimeBudget,
    Cancelled,
    Budget,
}

/// What a Stop did (`chat_cancel`'s answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ChatCancelDto {
    /// The Stop took effect: the stored answer is the drawn text, or the whole answer when none of it
    /// was cut or none of the answer was drawn; only a cut answer is stored as stopped.
    Stopped,
    /// Too late (the turn was storing its whole answer, or had ended): nothing stopped, and the window
    /// should draw the turn's `done` as usual instead of keeping the text it froze.
    AlreadyFinished,
}

/// Tokens and money of a turn, or of one model call of it (a `usage` event). The window keeps the latest
/// event of each `call` (a running estimate, then the exact count, or the estimate booked for a call cut
/// short) and adds the calls up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Type)]
pub struct UsageDto {
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub cost_usd: f64,
    pub estimated: bool,
    pub model_calls: u32,
    /// The model call of the turn a `usage` event counts, from 1; 0 in a turn's total.
    pub call: u32,
    /// The (last) call's input tokens: how much of the model's context the conversation fills; 0 when
    /// not known (an offline answer, or a turn stored before the figure was kept).
    pub context_tokens: u32,
    /// The model's context window in tokens, when the gateway knows it.
    pub context_window: Option<u32>,
}

/// A number stated in an answer: grounded ones carry the route to their source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ClaimDto {
    pub text: String,
    /// Which whole-number occurrence of `text` in the answer it is, from 0: the window marks that one ("45"
    /// may stand twice; the "45" inside "145" or "6:45" does not count).
    pub occurrence: u32,
    pub grounded: bool,
    /// `history/12` (a session, or the session an alert fired in), `history/day/2026-11-30` (a day, marked
    /// on the History trend chart) or `chat/4/memory/9` (conversation 4 with the memory panel open on
    /// memory 9; `chat/4/memory/9/2026-11-30` shows the panel as of that day, when the memory no longer
    /// stands), when the receipt names one.
    pub route: Option<String>,
    pub receipt: Option<String>,
}

/// One event of a turn, in order; `text` deltas are batched every ~25 ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEventDto {
    Routed {
        specialist: SpecialistDto,
        by: RouteReasonDto,
    },
    Handoff {
        from: SpecialistDto,
        to: SpecialistDto,
        brief: String,
    },
    ToolCall {
        call_id: String,
        name: String,
        arguments: serde_json::Value,
    },
    ToolResult {
        call_id: String,
        name: String,
        result: serde_json::Value,
        receipts: Vec<String>,
    },
    Text {
        delta: String,
    },
    Claim {
        claim: ClaimDto,
    },
    Usage {
        usage: UsageDto,
    },
    Guard {
        guard: GuardDto,
        message: String,
    },
    Error {
        code: String,
        message: String,
    },
    Done {
        answer: String,
        specialist: SpecialistDto,
        offline: bool,
        /// The stored answer's claims, as a reload reads them: after a Stop the window draws the answer
        /// from here, whatever claims it was sent before.
        claims: Vec<ClaimDto>,
        usage: UsageDto,
    },
}

/// What the window sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ChatSendDto {
    /// `None` starts a new conversation.
    pub conversation: Option<i64>,
    pub text: String,
    /// Edit-and-resend or regenerate: the person's message this one replaces; the new question starts a
    /// branch beside it (same parent) and the abandoned branch is never sent to a model.
    pub replaces: Option<i64>,
    /// The alias (of `gateway.toml`) this turn asks instead of the default model: a budget refusal's "switch
    /// to a local model" for the refused question. Only this turn: the saved default model is unchanged.
    pub model: Option<String>,
}

/// A turn that started: cancel it by `turn`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct TurnStartedDto {
    pub turn: u32,
    pub conversation: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ConversationDto {
    pub id: i64,
    pub title: String,
    pub updated_at_ms: f64,
    pub messages: i64,
    /// What the conversation cost, every branch included: the list and the chat's meter both show it.
    pub spent: ConversationUsageDto,
}

/// What a conversation cost: every answer of every branch (an abandoned branch was paid for too), summed
/// by the store — the one definition of a conversation's cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Type)]
pub struct ConversationUsageDto {
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub cost_usd: f64,
    /// Some answer's count was a tokenizer's estimate.
    pub estimated: bool,
    pub model_calls: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    User,
    Assistant,
}

/// One step of a stored turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepDto {
    Handoff {
        from: SpecialistDto,
        to: SpecialistDto,
        brief: String,
    },
    Tool {
        call_id: String,
        name: String,
        args: serde_json::Value,
        result: serde_json::Value,
        result_bytes: u32,
        receipts: Vec<String>,
    },
    /// The exact body sent to the model.
    Request { model: String, body: String },
    Other {
        name: String,
        payload: serde_json::Value,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct MessageDto {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub role: RoleDto,
    pub text: String,
    pub specialist: Option<SpecialistDto>,
    pub model: Option<String>,
    pub offline: bool,
    pub usage: Option<UsageDto>,
    pub claims: Vec<ClaimDto>,
    pub steps: Vec<StepDto>,
    /// The messages sharing this one's parent (itself included), oldest first.
    pub siblings: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SearchHitDto {
    pub conversation: i64,
    pub message: i64,
    pub title: String,
    pub snippet: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ConversationFormatDto {
    Markdown,
    Json,
}

/// Whether a provider answers, as far as the app knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProviderHealthDto {
    /// Not probed since the app started or the AI settings changed (or no alias routes to it, so there
    /// is no model to ask for).
    Untested,
    /// Its last probe (a one-word request) was answered, in `latency_ms`.
    Up { latency_ms: u32 },
    /// Its last probe failed, or real turns failed on it until the gateway's breaker opened: why, as a
    /// sentence.
    Down { reason: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ProviderStatusDto {
    pub name: String,
    pub health: ProviderHealthDto,
    /// On this machine and billed nothing (no model an alias routes to on it has a price): what the budget
    /// refusal may offer as "switch to a local model".
    pub local: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ChatStatusDto {
    /// Empty when no gateway is configured: every answer is the offline analyst's.
    pub providers: Vec<ProviderStatusDto>,
    pub day_left_usd: Option<f64>,
    pub month_left_usd: Option<f64>,
    pub model: String,
    pub local_model: bool,
    /// Why there is no model, in a sentence, when there is none.
    pub offline_reason: Option<String>,
}
