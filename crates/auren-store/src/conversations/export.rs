//! One conversation written out for the person: Markdown to read, JSON to keep or process. Both carry the
//! path to one leaf (the newest message by default) with who answered, the model, tokens, cost, the claims
//! and the receipts they cite.

use super::{
    ClaimRow, ConversationId, ConversationRow, Conversations, Grounding, MessageId, MessageRow, ReceiptRow,
    Role, StepRow,
};
use crate::StoreError;
use auren_clock::UnixMillis;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One message of an export with what it cites.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportedMessage {
    pub message: MessageRow,
    pub claims: Vec<ClaimRow>,
    pub steps: Vec<StepRow>,
    /// Ids of the receipts this message cites.
    pub receipts: Vec<String>,
}

/// A conversation's path gathered for export.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationExport {
    pub conversation: ConversationRow,
    pub messages: Vec<ExportedMessage>,
    /// Every receipt cited along the path, by id.
    pub receipts: BTreeMap<String, ReceiptRow>,
}

impl Conversations {
    /// Gathers the path to `leaf` (default: the newest message) of a conversation.
    pub async fn export(
        &self,
        conversation: ConversationId,
        leaf: Option<MessageId>,
    ) -> Result<ConversationExport, StoreError> {
        let row = self.get(conversation).await?;
        let path = match leaf {
            Some(leaf) => {
                let path = self.path(leaf).await?;
                if path.first().is_some_and(|m| m.conversation != conversation) {
                    return Err(StoreError::Invalid {
                        what: "export leaf",
                        reason: format!("message {leaf} is not in conversation {conversation}"),
                    });
                }
                path
            }
            None => self.latest_path(conversation).await?,
        };
        let mut messages = Vec::with_capacity(path.len());
        let mut receipts = BTreeMap::new();
        for message in path {
            let cited = self.message_receipts(message.id).await?;
            let ids = cited.iter().map(|r| r.id.clone()).collect();
            receipts.extend(cited.into_iter().map(|r| (r.id.clone(), r)));
            messages.push(ExportedMessage {
                claims: self.claims(message.id).await?,
                steps: self.steps(message.id).await?,
                receipts: ids,
                message,
            });
        }
        Ok(ConversationExport {
            conversation: row,
            messages,
            receipts,
        })
    }
}

fn time(ms: i64) -> String {
    UnixMillis(ms).to_string()
}

/// Dollars to six decimals: answers cost fractions of a cent.
fn dollars(usd: f64) -> String {
    format!("${usd:.6}")
}

impl ConversationExport {
    /// The conversation as Markdown: one section per message, its claims (ungrounded ones marked) and usage,
    /// then the receipts cited.
    pub fn to_markdown(&self) -> String {
        let c = &self.conversation;
        let mut out = format!(
            "# {}\n\nConversation {} · started {} · {} messages shown\n",
            c.title,
            c.id,
            time(c.created_at),
            self.messages.len()
        );
        for exported in &self.messages {
            write_message(&mut out, exported);
        }
        if !self.receipts.is_empty() {
            out.push_str("\n## Receipts\n\n");
            for receipt in self.receipts.values() {
                let _ = writeln!(
                    out,
                    "- `{}` — {}",
                    receipt.id,
                    describe_receipt(&receipt.body_json)
                );
            }
        }
        out
    }

    /// The conversation as one JSON value (receipts embedded as the JSON they were stored as).
    pub fn to_json(&self) -> Value {
        let c = &self.conversation;
        json!({
            "conversation": {
                "id": c.id.0,
                "title": c.title,
                "created_at": time(c.created_at),
                "updated_at": time(c.updated_at),
            },
            "messages": self.messages.iter().map(message_json).collect::<Vec<_>>(),
            "receipts": self.receipts.values().map(|r| json!({
                "id": r.id,
                "created_at": time(r.created_at),
                "body": serde_json::from_str::<Value>(&r.body_json).unwrap_or(Value::Null),
            })).collect::<Vec<_>>(),
        })
    }
}

fn write_message(out: &mut String, exported: &ExportedMessage) {
    let m = &exported.message;
    let who = match m.role {
        Role::User => "You".to_owned(),
        Role::Assistant => {
            let mut parts: Vec<&str> = m
                .specialist
                .iter()
                .chain(m.model.iter())
                .map(String::as_str)
                .collect();
            if m.offline && !parts.contains(&"offline") {
                parts.push("offline");
            }
            if parts.is_empty() {
                "Coach".to_owned()
            } else {
                format!("Coach ({})", parts.join(" · "))
            }
        }
    };
    let _ = write!(
        out,
        "\n## {who} — {}\n\n{}\n",
        time(m.created_at),
        m.text.trim_end()
    );
    if !exported.claims.is_empty() {
        out.push_str("\nClaims:\n");
        for claim in &exported.claims {
            let _ = match &claim.grounding {
                Grounding::Grounded { receipt } => writeln!(out, "- {} — grounded (`{receipt}`)", claim.text),
                Grounding::Ungrounded => writeln!(out, "- {} — **not grounded** in any receipt", claim.text),
            };
        }
    }
    if let Some(usage) = &m.usage {
        let _ = writeln!(
            out,
            "\nUsage: {} tokens in, {} out, {} model call{}, {}{}",
            usage.tokens_in,
            usage.tokens_out,
            usage.model_calls,
            if usage.model_calls == 1 { "" } else { "s" },
            dollars(usage.cost_usd),
            if usage.estimated { " (estimated)" } else { "" }
        );
    }
}

/// A receipt in one line: its `computed` and `method` fields when the JSON has them, else the JSON itself.
fn describe_receipt(body_json: &str) -> String {
    let body: Value = serde_json::from_str(body_json).unwrap_or(Value::Null);
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field("computed"), field("method")) {
        (Some(computed), Some(method)) => format!("{computed} ({method})"),
        (Some(computed), None) => computed,
        _ => body_json.to_owned(),
    }
}

fn message_json(exported: &ExportedMessage) -> Value {
    let m = &exported.message;
    json!({
        "id": m.id.0,
        "parent": m.parent.map(|p| p.0),
        "role": m.role.as_str(),
        "specialist": m.specialist,
        "model": m.model,
        "offline": m.offline,
        "created_at": time(m.created_at),
        "text": m.text,
        "usage": m.usage.as_ref().map(|u| json!({
            "tokens_in": u.tokens_in,
            "tokens_out": u.tokens_out,
            "model_calls": u.model_calls,
            "cost_usd": u.cost_usd,
            "estimated": u.estimated,
        })),
        "claims": exported.claims.iter().map(|c| json!({
            "text": c.text,
            "value": c.value,
            "unit": c.unit,
            "grounded": matches!(c.grounding, Grounding::Grounded { .. }),
            "receipt": match &c.grounding {
                Grounding::Grounded { receipt } => Some(receipt.as_str()),
                Grounding::Ungrounded => None,
            },
        })).collect::<Vec<_>>(),
        "receipts": exported.receipts,
        "steps": exported.steps.iter().map(|s| json!({
            "seq": s.seq,
            "kind": s.kind,
            "at": time(s.at),
            "payload": serde_json::from_str::<Value>(&s.payload_json).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
    })
}
