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
    /// The text as written ("62 ms"; "45" for "RMSSD was 45").
    pub text: String,
    /// Which occurrence of `text` in the answer this claim is, from 0, counting only whole numbers (not the
    /// "45" inside "145", "6:45" or "3.45"): a bare "45" may stand in the answer more than once, and the
    /// window marks only this one.
    #[serde(default)]
    pub occurrence: u32,
    pub value: f64,
    pub unit: crate::receipt::Unit,
    pub grounded: bool,
    pub receipt: Option<ReceiptId>,
    /// The index, in the receipt's `values`, of the value that grounds it: a link goes to that value's day
    /// or alert, not to another value of the receipt that rounds the same (resting HR 52 for "RMSSD 52").
    #[serde(default)]
    pub value_index: Option<u32>,
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

/// Which count of a call a [`TurnUsage`] event is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsagePhase {
    /// A provisional estimate while the call streams (at most every 25 ms): a later event of the same call
    /// replaces it, and it is never added to the turn's total.
    Running,
    /// The call's count when it ended: the provider's, or the gateway's estimate when the stream carried
    /// none (`estimated`). Also a turn's total.
    #[default]
    Final,
    /// The estimate the budget booked for a call cut short (a Stop, the time budget, a broken stream).
    Cut,
}

/// Tokens and money for a turn (or one call).
///
/// A turn streams one [`AgentEvent::Usage`] per model call ([`UsagePhase::Final`] or [`UsagePhase::Cut`])
/// and, while a call streams, [`UsagePhase::Running`] estimates of it: a later event with the same `call`
/// replaces the earlier one; the final or cut events of different calls add up to the turn's total.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// True when a count was estimated (the stream carried no usage, the call was cut, or it is still
    /// streaming).
    pub estimated: bool,
    /// Which count of the call this is; a turn's total is `Final`.
    #[serde(default)]
    pub phase: UsagePhase,
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
