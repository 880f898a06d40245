//! The cheap memory extraction after each turn. Rules find the person's statements about themselves
//! ("my goal is …", "I started …", "I prefer …"); only when they find one, and a model is available, one
//! small model call turns them into operations against what is already remembered (add, supersede,
//! retract, none) — so a plain data question costs no extraction call. Offline, the rules' additions are
//! the proposals. The configuration applies them at once or files them for the person's yes.

use auren_gateway::{ChatRequest, Message};
use auren_store::memory::{MemoryKind, MemoryOp, NewMemory, Provenance};
use auren_store::{MemoryId, MessageId};
use serde_json::{Value, json};

use super::model::TextShown;
use super::{MemoryApply, Turn};

/// A memory the rules found in the question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposedMemory {
    pub kind: MemoryKind,
    pub text: String,
}

/// Openings of a statement about oneself, and the kind of memory each makes.
const STATEMENTS: [(&str, MemoryKind); 14] = [
    ("my goal", MemoryKind::Goal),
    ("i want to", MemoryKind::Goal),
    ("i'd like to", MemoryKind::Goal),
    ("i am training for", MemoryKind::Goal),
    ("i'm training for", MemoryKind::Goal),
    ("i prefer", MemoryKind::Preference),
    ("please keep", MemoryKind::Preference),
    ("i started", MemoryKind::Fact),
    ("i stopped", MemoryKind::Fact),
    ("i work", MemoryKind::Fact),
    ("i have been", MemoryKind::Fact),
    ("i've been", MemoryKind::Fact),
    ("i usually", MemoryKind::Fact),
    ("i no longer", MemoryKind::Fact),
];

/// The statements about oneself in `question` (its sentences that are not questions).
pub fn rule_proposals(question: &str) -> Vec<ProposedMemory> {
    let mut found = Vec::new();
    let mut rest = question;
    while !rest.is_empty() {
        let end = rest.find(['.', '!', '?', '\n']).map_or(rest.len(), |at| at + 1);
        let (sentence, tail) = rest.split_at(end);
        rest = tail;
        if sentence.ends_with('?') {
            continue;
        }
        let text = sentence.trim().trim_end_matches(['.', '!']).trim();
        let lower = text.to_lowercase().replace('’', "'");
        if let Some((_, kind)) = STATEMENTS.iter().find(|(opening, _)| lower.contains(opening)) {
            found.push(ProposedMemory {
                kind: *kind,
                text: text.to_owned(),
            });
        }
    }
    found
}

const EXTRACTION_PROMPT: &str = "You maintain a person's long-term memory. Given their message and what is \
remembered already (with ids), answer with JSON only: {\"ops\": [...]} where each op is \
{\"op\":\"add\",\"kind\":\"fact|preference|goal|insight\",\"text\":\"...\"}, \
{\"op\":\"supersede\",\"id\":N,\"kind\":\"...\",\"text\":\"...\",\"reason\":\"...\"}, \
{\"op\":\"retract\",\"id\":N,\"reason\":\"...\"} or {\"op\":\"none\"}. Record only durable facts about the person.";

impl Turn<'_> {
    /// Proposes memory operations for the question and applies or files them as configured.
    pub(crate) async fn extract_memories(&mut self, question: &str, question_id: MessageId, offline: bool) {
        let found = rule_proposals(question);
        if found.is_empty() {
            return;
        }
        let now = self.coach.toolbox.clock().now().0;
        let new = |kind: MemoryKind, text: String| NewMemory {
            kind,
            text,
            provenance: Provenance::Message(question_id),
            importance: 0.5,
            valid_from: now,
        };
        let by_rules = || {
            found
                .iter()
                .map(|p| MemoryOp::Add(new(p.kind, p.text.clone())))
                .collect()
        };
        let ops: Vec<MemoryOp> = match (offline, self.coach.gateway.clone()) {
            (false, Some(gateway)) => match self.extraction_call(&gateway, question).await {
                Some(reply) => parse_ops(&reply, &new).unwrap_or_else(by_rules),
                None => by_rules(),
            },
            _ => by_rules(),
        };
        let memories = self.coach.toolbox.store().memories();
        for op in &ops {
            let done = match self.coach.config.memory_apply {
                MemoryApply::Immediate => memories
                    .apply(op, now)
                    .await
                    .map(|id| json!({"applied": id.map(|i| i.0)})),
                MemoryApply::AskFirst => memories
                    .propose(op, now)
                    .await
                    .map(|id| json!({"proposed": id.0})),
            };
            match done {
                Ok(result) => self.step("memory", json!({"op": op_json(op), "result": result})),
                Err(error) => tracing::warn!(%error, "a proposed memory could not be stored"),
            }
        }
    }

    /// The extraction call's text, or `None` when it could not be made (guards, model failure).
    async fn extraction_call(&mut self, gateway: &auren_gateway::Gateway, question: &str) -> Option<String> {
        let now = self.coach.toolbox.clock().now().0;
        let known = self
            .coach
            .toolbox
            .store()
            .memories()
            .recall(question, 5, now)
            .await
            .ok()?;
        let known: Vec<Value> = known
            .iter()
            .map(|hit| json!({"id": hit.memory.id.0, "kind": hit.memory.kind.as_str(), "text": hit.memory.text}))
            .collect();
        let request = ChatRequest {
            messages: vec![
                Message::system(EXTRACTION_PROMPT),
                Message::user(json!({"message": question, "remembered": known}).to_string()),
            ],
            max_tokens: Some(256),
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        self.call_model(gateway, request, TextShown::Hidden)
            .await
            .ok()
            .map(|r| r.text)
    }
}

/// The operations of the extraction model's JSON; `None` when it is not that JSON.
fn parse_ops(reply: &str, new: &dyn Fn(MemoryKind, String) -> NewMemory) -> Option<Vec<MemoryOp>> {
    let start = reply.find('{')?;
    let end = reply.rfind('}')?;
    let value: Value = serde_json::from_str(reply.get(start..=end)?).ok()?;
    let mut ops = Vec::new();
    for op in value.get("ops")?.as_array()? {
        let text = || op.get("text").and_then(Value::as_str).map(str::to_owned);
        let kind = op
            .get("kind")
            .and_then(Value::as_str)
            .and_then(MemoryKind::parse)
            .unwrap_or(MemoryKind::Fact);
        let id = op.get("id").and_then(Value::as_i64).map(MemoryId);
        let reason = op
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match op.get("op").and_then(Value::as_str)? {
            "add" => ops.push(MemoryOp::Add(new(kind, text()?))),
            "supersede" => ops.push(MemoryOp::Supersede {
                old: id?,
                replacement: new(kind, text()?),
                reason,
            }),
            "retract" => ops.push(MemoryOp::Retract { id: id?, reason }),
            _ => {}
        }
    }
    Some(ops)
}

fn op_json(op: &MemoryOp) -> Value {
    match op {
        MemoryOp::Add(new) => json!({"op": "add", "kind": new.kind.as_str(), "text": new.text}),
        MemoryOp::Supersede {
            old,
            replacement,
            reason,
        } => {
            json!({"op": "supersede", "id": old.0, "text": replacement.text, "reason": reason})
        }
        MemoryOp::Retract { id, reason } => json!({"op": "retract", "id": id.0, "reason": reason}),
    }
}
