//! The AI coach: a supervisor that routes a question (rules first, a model only when they don't decide) to
//! a specialist — neuroscientist, analyst, coach — whose tools compute every number in Rust over the
//! person's own data and record a receipt for it; the final text is grounded against those receipts; a
//! cognitive-twin memory keeps what matters for years; an offline analyst answers when no model can.

pub mod events;
pub mod receipt;
pub mod tools;

pub use events::{AgentEvent, Claim, Guard, RouteReason, Specialist, TurnOutcome, TurnUsage};
pub use receipt::{Receipt, ReceiptId, ReceiptValue, Source, Unit};
pub use tools::{ToolError, ToolOutput};
