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
