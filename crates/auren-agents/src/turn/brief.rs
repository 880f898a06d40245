//! What a specialist is given: a typed brief (the question, the receipts so far, the relevant memories,
//! and on a handoff who handed over and why) — never the raw transcript — and its system prompt.

use serde::Serialize;

use crate::events::Specialist;
use crate::receipt::{Receipt, ReceiptId, Unit};

/// A receipt as a brief states it: what was computed and its values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BriefReceipt {
    pub id: ReceiptId,
    pub computed: String,
    pub values: Vec<BriefValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BriefValue {
    pub label: String,
    pub value: f64,
    pub unit: Unit,
}

/// A recalled memory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BriefMemory {
    pub id: i64,
    pub kind: String,
    pub text: String,
}

/// Who handed the question over, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HandoffNote {
    pub from: Specialist,
    pub reason: String,
}

/// The conversation's previous exchange, so a follow-up ("and the week before?") has its referent; the
/// answer is cut to [`PREVIOUS_ANSWER_CHARS`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PreviousTurn {
    pub question: String,
    pub answer: String,
}

/// How much of the previous answer a brief carries.
pub const PREVIOUS_ANSWER_CHARS: usize = 600;

/// The typed brief of one specialist.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Brief {
    pub question: String,
    /// Today's date (`YYYY-MM-DD`, UTC), so relative dates resolve.
    pub today: String,
    pub receipts: Vec<BriefReceipt>,
    pub memories: Vec<BriefMemory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousTurn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<HandoffNote>,
}

impl Brief {
    /// Adds receipts not in the brief yet.
    pub fn add_receipts(&mut self, receipts: &[Receipt]) {
        for receipt in receipts {
            if self.receipts.iter().any(|r| r.id == receipt.id) {
                continue;
            }
            self.receipts.push(BriefReceipt {
                id: receipt.id.clone(),
                computed: receipt.computed.clone(),
                values: receipt
                    .values
                    .iter()
                    .map(|v| BriefValue {
                        label: v.label.clone(),
                        value: v.value,
                        unit: v.unit,
                    })
                    .collect(),
            });
        }
    }

    /// The user message that carries the brief.
    pub fn render(&self) -> String {
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        format!("Brief (JSON):\n{json}")
    }
}

/// The rules every specialist follows.
const COMMON: &str = "You answer one question of a person about their own heart-rate variability data, \
from the brief below (the question, numbers already computed, what you remember of them). Every number you \
state must come from a receipt in the brief or from a tool result; never invent or estimate one. Call a \
tool when a number you need is missing. Keep the answer short and specific to this person. If the question \
belongs to another specialist, call `handoff` with a reason. You are not a doctor: do not diagnose.";

/// The system prompt of `specialist`.
pub fn system_prompt(specialist: Specialist) -> String {
    format!("{}\n\n{COMMON}", role(specialist))
}

/// The rules of a message the coach writes on its own (after a CNS-fatigue alert, a low morning).
const PROACTIVE: &str = "Nobody asked: you write, on your own initiative, the one message the person finds \
after the event the brief describes. Use only the numbers in the brief's receipts; never invent or estimate \
one. Say what happened with its numbers and what it may mean, include the brief's link as a Markdown link to \
the evidence, and end with exactly one question to the person — one question mark in the whole message. At \
most 120 words, no headings. You are not a doctor: do not diagnose.";

/// The system prompt of a proactive message by `specialist`: its role and [`PROACTIVE`]'s rules.
pub fn proactive_prompt(specialist: Specialist) -> String {
    format!("{}\n\n{PROACTIVE}", role(specialist))
}

/// Who `specialist` is and what it explains.
fn role(specialist: Specialist) -> &'static str {
    match specialist {
        Specialist::Neuroscientist => {
            "You are the neuroscientist: HRV physiology, autonomic balance, central-nervous-system fatigue. \
             Explain what the numbers mean for the nervous system."
        }
        Specialist::Analyst => {
            "You are the analyst: queries and statistics over the person's data. Compare periods with the \
             statistics tools and state n and effect sizes."
        }
        Specialist::Coach => {
            "You are the coach: goals, training load, recovery plans, habits. Turn the numbers into one or \
             two concrete next steps."
        }
        Specialist::Supervisor | Specialist::Offline | Specialist::Safety => "You are the supervisor.",
    }
}

/// The `handoff` tool's schema: closed, every property required, as strict modes want.
pub fn handoff_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "to": {"type": "string", "enum": ["neuroscientist", "analyst", "coach"],
                   "description": "The specialist to hand the question to."},
            "reason": {"type": "string", "description": "Why that specialist should answer."}
        },
        "required": ["to", "reason"],
        "additionalProperties": false
    })
}

/// The name of the handoff tool.
pub const HANDOFF_TOOL: &str = "handoff";

/// The specialist a handoff names.
pub fn parse_specialist(name: &str) -> Option<Specialist> {
    match name {
        "neuroscientist" => Some(Specialist::Neuroscientist),
        "analyst" => Some(Specialist::Analyst),
        "coach" => Some(Specialist::Coach),
        _ => None,
    }
}
