//! The one closed event enum a turn streams: the CLI prints it (`auren ask --json`), the desktop forwards it
//! over a Tauri Channel.

use serde::{Deserialize, Serialize};

use crate::receipt::ReceiptId;

/// Who answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Specialist {
    Supervisor,
    Neuroscientist,
    Analyst,
    Coach,
    /// The offline analyst: templates over the same tools, no model.
    Offline,
    /// The fixed red-flag referral.
    Safety,
}

/// One number stated in an answer, grounded (with the receipt that vouches for it) or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// The text as written ("62 ms").
    pub text: String,
    pub value: f64,
    pub unit: crate::receipt::Unit,
    pub grounded: bool,
    pub receipt: Option<ReceiptId>,
}

/// Why a turn was cut short by a deterministic guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    ModelCalls,
    Handoffs,
    RepeatedToolCall,
    PingPong,
    TimeBudget,
    Cancelled,
    Budget,
}

/// Tokens and money for a turn (or one call).
///
/// A turn streams one [`AgentEvent::Usage`] per model call, and while a call streams, running estimates of
/// it: a later event with the same `call` replaces the earlier one (an estimate, then the provider's exact
/// count or the estimate the budget books for a call cut short); events of different calls add up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// True when a count was estimated (the stream carried no usage, or the call is still streaming).
    pub estimated: bool,
    pub model_calls: u32,
    /// The model call of the turn an event counts, from 1; 0 in a turn's total.
    #[serde(default)]
    pub call: u32,
    /// The input tokens of the (last) call: how much of the model's context the conversation fills.
    #[serde(default)]
    pub context_tokens: u64,
    /// The model's context window in tokens; `None` when the gateway does not know it.
    #[serde(default)]
    pub context_window: Option<u32>,
}

/// Everything a turn reports, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    Routed {
        specialist: Specialist,
        by: RouteReason,
    },
    Handoff {
        from: Specialist,
        to: Specialist,
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
        receipts: Vec<ReceiptId>,
    },
    Text {
        delta: String,
    },
    Claim(Claim),
    Usage(TurnUsage),
    Guard {
        guard: Guard,
        message: String,
    },
    Error {
        code: String,
        message: String,
    },
    Done(TurnOutcome),
}

/// How the router decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteReason {
    Rules,
    Model,
    RedFlag,
    Offline,
}

/// The end of a turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnOutcome {
    pub answer: String,
    pub specialist: Specialist,
    pub offline: bool,
    pub claims: Vec<Claim>,
    pub usage: TurnUsage,
}
