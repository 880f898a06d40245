//! The AI coach: a supervisor that routes a question (rules first, a model only when they don't decide) to
//! a specialist — neuroscientist, analyst, coach — whose tools compute every number in Rust over the
//! person's own data and record a receipt for it; the final text is grounded against those receipts; a
//! cognitive-twin memory keeps what matters for years; an offline analyst answers when no model can.

pub mod events;
pub mod grounding;
pub mod hypothesis;
pub mod intent;
pub mod ledger;
pub mod milestone;
pub mod offline;
pub mod proactive;
pub mod receipt;
pub mod redflag;
pub mod refresh;
pub mod routing;
pub mod schema;
pub mod stats;
pub mod tools;
pub mod turn;

pub use events::{AgentEvent, Claim, Guard, RouteReason, Specialist, TurnOutcome, TurnUsage, UsagePhase};
pub use receipt::{Receipt, ReceiptId, ReceiptValue, Source, Unit};
pub use tools::{ToolError, ToolName, ToolOutput, ToolSpec, Toolbox};
pub use turn::{AgentError, Coach, CoachConfig, GuardLimits, MemoryApply, Placement};

/// The person's "how the coach's memories apply" setting as it is stored: the record's key in the store's
/// synced field table and its JSON value. The desktop writes it and `auren ask` reads it over the same
/// database, so both name it from here (a renamed value would otherwise fall back to "ask first" silently).
pub mod memory_setting {
    use crate::MemoryApply;

    /// The record's key in the field table and on the wire.
    pub const KEY: &str = "memory_apply";

    /// The setting's value, as the JSON string it is stored as holds it.
    pub fn value(choice: MemoryApply) -> &'static str {
        match choice {
            MemoryApply::Immediate => "immediate",
            MemoryApply::AskFirst => "ask_first",
        }
    }

    /// The choice a stored JSON value names; `None` for anything else (a newer build's value, damage).
    pub fn parse(json: &str) -> Option<MemoryApply> {
        let stored: String = serde_json::from_str(json).ok()?;
        [MemoryApply::Immediate, MemoryApply::AskFirst]
            .into_iter()
            .find(|choice| value(*choice) == stored)
    }
}
