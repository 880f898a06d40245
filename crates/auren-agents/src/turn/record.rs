//! Storing a turn's answer through the store's conversations API: the message with its usage, then its
//! steps (routing, exact model request bodies, tool calls, guards, memory operations), its receipts and
//! its claims, grounded or not.

use auren_store::MessageId;
use auren_store::conversations::{ClaimRow, ContextUse, Grounding, MessageUsage, NewMessage, Role};

use super::{AgentError, Turn, store_error};
use crate::events::{Claim, TurnOutcome};

impl Turn<'_> {
    pub(crate) async fn store_answer(
        &mut self,
        question: MessageId,
        outcome: &TurnOutcome,
    ) -> Result<(), AgentError> {
        let conversations = self.coach.toolbox.store().conversations();
        let now = self.coach.toolbox.clock().now().0;
        let usage = &outcome.usage;
        let message = NewMessage {
            parent: Some(question),
            role: Role::Assistant,
            specialist: Some(wire_name(&outcome.specialist)),
            model: if outcome.offline {
                None
            } else {
                self.answered_by.clone()
            },
            text: outcome.answer.clone(),
            usage: Some(MessageUsage {
                tokens_in: usage.input_tokens,
                tokens_out: usage.output_tokens,
                cost_usd: usage.cost_usd,
                estimated: usage.estimated,
                model_calls: usage.model_calls,
                // The last call's prompt: how full the context was when the answer was written.
                context: (usage.context_tokens > 0).then_some(ContextUse {
                    tokens: usage.context_tokens,
                    window: usage.context_window,
                }),
            }),
            offline: outcome.offline,
            created_at: now,
        };
        let id = conversations
            .append_message(self.conversation, &message)
            .await
            .map_err(store_error("store the answer"))?;
        for (kind, payload, at) in &self.steps {
            conversations
                .append_step(id, kind, &payload.to_string(), *at)
                .await
                .map_err(store_error("store a step of the turn"))?;
        }
        for receipt in &self.receipts {
            let body = serde_json::to_string(receipt).unwrap_or_default();
            conversations
                .save_receipt(&receipt.id.0, &body, now)
                .await
                .map_err(store_error("store a receipt"))?;
        }
        let ids: Vec<&str> = self.receipts.iter().map(|r| r.id.0.as_str()).collect();
        conversations
            .link_receipts(id, &ids)
            .await
            .map_err(store_error("link the answer's receipts"))?;
        let claims: Vec<ClaimRow> = outcome.claims.iter().map(claim_row).collect();
        conversations
            .add_claims(id, &claims)
            .await
            .map_err(store_error("store the answer's claims"))?;
        Ok(())
    }
}

/// A claim as the store keeps it: grounded with its receipt, or not.
pub(crate) fn claim_row(claim: &Claim) -> ClaimRow {
    ClaimRow {
        text: claim.text.clone(),
        value: claim.value,
        unit: wire_name(&claim.unit),
        grounding: match &claim.receipt {
            Some(receipt) if claim.grounded => Grounding::Grounded {
                receipt: receipt.0.clone(),
            },
            _ => Grounding::Ungrounded,
        },
    }
}

/// A unit enum's serde name ("neuroscientist", "ms").
pub(crate) fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
