//! Proactive, not pushy: after a CNS-fatigue alert or a morning whose 7-day mean fell below the normal range,
//! the right specialist writes exactly one message — the trigger's numbers from the same tools the
//! specialists use, a link to its evidence, and one question — in a conversation of its own. The store keys
//! each message by its trigger, so a trigger never gets a second one, not even after the person deleted the
//! first. The text is a template over receipts (the offline analyst's way), so it needs no budget and every
//! number in it is grounded.

use std::fmt::Write as _;

use auren_store::conversations::{ClaimRow, MessageUsage, NewMessage, Role};
use auren_store::{ConversationId, MessageId, StoreError};
use serde_json::{Value, json};

use crate::events::{Claim, Specialist};
use crate::grounding;
use crate::receipt::Receipt;
use crate::tools::days::format_day;
use crate::tools::{ToolError, Toolbox};
use crate::turn::record;

/// The alert rule whose firing earns a message (the neuroscientist's).
const CNS_FATIGUE_RULE: &str = "cns_fatigue";

/// What made the coach write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A CNS-fatigue alert, by its stored id, fired on `day` (days since the Unix epoch).
    CnsFatigue { alert_id: i64, day: i64 },
    /// The morning reading of `day` put the 7-day mean below the normal range.
    MorningBelowRange { day: i64 },
}

impl Trigger {
    /// The store's key for this trigger: one message per key, ever.
    pub fn key(&self) -> String {
        match self {
            Self::CnsFatigue { alert_id, .. } => format!("alert:{alert_id}"),
            Self::MorningBelowRange { day } => format!("morning:{}", format_day(*day)),
        }
    }

    /// Who writes about it.
    pub fn specialist(&self) -> Specialist {
        match self {
            Self::CnsFatigue { .. } => Specialist::Neuroscientist,
            Self::MorningBelowRange { .. } => Specialist::Coach,
        }
    }
}

/// A message the coach is about to post.
#[derive(Clone, Debug, PartialEq)]
pub struct Opener {
    pub trigger: Trigger,
    pub title: String,
    pub text: String,
    pub receipts: Vec<Receipt>,
    pub claims: Vec<Claim>,
}

/// A posted message and where it went.
#[derive(Clone, Debug, PartialEq)]
pub struct Posted {
    pub trigger: Trigger,
    pub conversation: ConversationId,
    pub message: MessageId,
}

/// Why nothing could be posted.
#[derive(Debug, thiserror::Error)]
pub enum ProactiveError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("storing the coach's message: {0}")]
    Store(#[from] StoreError),
}

/// The triggers a stored session raised: each CNS-fatigue alert it fired, and for a morning reading on
/// `day`, a 7-day mean below the normal range.
pub async fn triggers_of_session(
    tb: &Toolbox,
    session_id: i64,
    day: i64,
    morning: bool,
) -> Result<Vec<Trigger>, ToolError> {
    let openers = openers_of_session(tb, session_id, day, morning).await?;
    Ok(openers.into_iter().map(|o| o.trigger).collect())
}

/// The message for each trigger of a stored session, each from the one tool call that found the trigger:
/// `get_alerts` over the session's days and, for a morning, `get_readiness` of its day.
pub async fn openers_of_session(
    tb: &Toolbox,
    session_id: i64,
    day: i64,
    morning: bool,
) -> Result<Vec<Opener>, ToolError> {
    let date = format_day(day);
    let alerts = tb.call("get_alerts", alert_span(tb, day)).await?;
    let mut openers: Vec<Opener> = alert_list(&alerts.content)
        .iter()
        .filter(|a| a.get("session_id").and_then(Value::as_i64) == Some(session_id))
        .filter(|a| a.get("rule").and_then(Value::as_str) == Some(CNS_FATIGUE_RULE))
        .filter_map(|a| {
            let alert_id = a.get("id").and_then(Value::as_i64)?;
            Some(opener(
                Trigger::CnsFatigue { alert_id, day },
                format!("CNS fatigue on {date}"),
                fatigue_text(a),
                alerts.receipts.clone(),
            ))
        })
        .collect();
    if morning {
        match tb.call("get_readiness", json!({ "day": date })).await {
            Ok(readiness) if readiness.content.get("verdict").and_then(Value::as_str) == Some("below") => {
                if let Some(text) = below_range_text(&readiness.content) {
                    openers.push(opener(
                        Trigger::MorningBelowRange { day },
                        format!("Below your range on {date}"),
                        text,
                        readiness.receipts,
                    ));
                }
            }
            Ok(_) | Err(ToolError::NotEnoughData { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(openers)
}

/// `get_alerts`' arguments for a session started on `day`: that day and the next, since a session that
/// crossed midnight fires after it (the tool refuses days after today).
fn alert_span(tb: &Toolbox, day: i64) -> Value {
    let to = (day + 1).min(tb.today()).max(day);
    json!({ "from": format_day(day), "to": format_day(to) })
}

fn alert_list(content: &Value) -> Vec<Value> {
    content
        .get("alerts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A message with its claims grounded against the receipts its numbers came from.
fn opener(trigger: Trigger, title: String, text: String, receipts: Vec<Receipt>) -> Opener {
    let claims = grounding::ground(&text, &receipts);
    Opener {
        trigger,
        title,
        text,
        receipts,
        claims,
    }
}

fn fatigue_text(alert: &Value) -> String {
    let field = |name: &str| alert.get(name).and_then(Value::as_str).unwrap_or_default();
    let session = alert
        .get("session_id")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let mut s = format!(
        "From your neuroscientist: a CNS-fatigue alert fired at {} during [session #{session}](#/history/{session}) — {}.",
        field("at"),
        field("message").trim_end_matches('.'),
    );
    let evidence: Vec<String> = alert
        .get("evidence")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    let name = e.get("name")?.as_str()?;
                    let value = e.get("value")?.as_f64()?;
                    Some(format!(
                        "{name} was {}",
                        crate::offline::metric_phrase(name, value)
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if !evidence.is_empty() {
        let _ = write!(s, " It fired because {}.", evidence.join(", "));
    }
    s.push_str(
        " A falling DFA α1 or RMSSD at a steady effort often means the nervous system is tiring before the \
         muscles do.\n\nHow did you sleep last night, and was this session harder than you planned?",
    );
    s
}

fn below_range_text(c: &Value) -> Option<String> {
    let num = |pointer: &str| c.pointer(pointer).and_then(Value::as_f64);
    let mean = num("/rolling_mean_7d_ln_rmssd")?;
    let (lo, hi) = (num("/normal_range_ln_rmssd/0")?, num("/normal_range_ln_rmssd/1")?);
    let day = c.get("day").and_then(Value::as_str).unwrap_or_default();
    let mut s = format!(
        "From your coach: with [this morning's reading](#/morning/{day}) your 7-day mean lnRMSSD is {mean:.2}, \
         below your normal range of {lo:.2} to {hi:.2} lnRMSSD."
    );
    if let (Some(ln), Some(ms)) = (num("/morning_ln_rmssd"), num("/morning_rmssd_ms")) {
        let _ = write!(s, " This morning's lnRMSSD was {ln:.2} (RMSSD {ms:.0} ms).");
    }
    s.push_str(
        " A few days below the range usually follows hard training, short sleep, alcohol or an illness coming \
         on; easier days until it is back inside are the usual answer.\n\nWas anything different in the last \
         few days — training, sleep, alcohol, or feeling unwell?",
    );
    Some(s)
}

/// Posts `opener` in a conversation of its own, unless its trigger already has its message.
pub async fn post(tb: &Toolbox, opener: &Opener) -> Result<Option<Posted>, ProactiveError> {
    let conversations = tb.store().conversations();
    let now = tb.clock().now().0;
    let message = NewMessage {
        parent: None,
        role: Role::Assistant,
        specialist: Some(record::wire_name(&opener.trigger.specialist())),
        model: None,
        text: opener.text.clone(),
        usage: Some(MessageUsage::default()),
        offline: true,
        created_at: now,
    };
    let Some((conversation, id)) = conversations
        .post_proactive(&opener.trigger.key(), &opener.title, &message)
        .await?
    else {
        return Ok(None);
    };
    for receipt in &opener.receipts {
        let body = serde_json::to_string(receipt).unwrap_or_default();
        conversations.save_receipt(&receipt.id.0, &body, now).await?;
    }
    let ids: Vec<&str> = opener.receipts.iter().map(|r| r.id.0.as_str()).collect();
    conversations.link_receipts(id, &ids).await?;
    let claims: Vec<ClaimRow> = opener.claims.iter().map(record::claim_row).collect();
    conversations.add_claims(id, &claims).await?;
    Ok(Some(Posted {
        trigger: opener.trigger.clone(),
        conversation,
        message: id,
    }))
}

/// Finds the triggers of a stored session and posts one message for each that has none yet.
pub async fn after_session(
    tb: &Toolbox,
    session_id: i64,
    day: i64,
    morning: bool,
) -> Result<Vec<Posted>, ProactiveError> {
    let mut posted = Vec::new();
    for opener in openers_of_session(tb, session_id, day, morning).await? {
        if let Some(p) = post(tb, &opener).await? {
            posted.push(p);
        }
    }
    Ok(posted)
}
