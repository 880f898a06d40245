//! Proactive, not pushy: after a CNS-fatigue alert or a morning whose 7-day mean fell below the normal range,
//! the right specialist writes exactly one message — the trigger's numbers from the same tools the
//! specialists use, a link to its evidence, and one question — in a conversation of its own. The store keys
//! each message by its trigger, so a trigger never gets a second one, not even after the person deleted the
//! first — and a trigger that has its message is never sent to a model again.
//!
//! With a model configured, the trigger's specialist writes the message through the gateway from the same
//! receipts (one call, no tools: the receipts are the brief), its claims grounded like any answer and the
//! call's tokens and cost kept as the message's usage. When the gateway refuses (budget), cannot reach a
//! provider, runs past the time budget, or the text breaks the message's rules (not exactly one question),
//! the template over the receipts is posted instead (the offline analyst's way: no budget, every number
//! grounded), with why as a step.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::PoisonError;

use auren_gateway::{ChatRequest, Gateway, GatewayError, Message, Route};
use auren_store::conversations::{ClaimRow, ContextUse, MessageUsage, NewMessage, Role};
use auren_store::{ConversationId, MessageId, StoreError};
use serde_json::{Value, json};

use crate::events::{Claim, Specialist};
use crate::grounding;
use crate::receipt::Receipt;
use crate::tools::days::format_day;
use crate::tools::{ToolError, Toolbox};
use crate::turn::{Brief, Coach, error_chain, model, proactive_prompt, record};

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
    /// The in-app link to the trigger's evidence (its session, its morning).
    pub link: String,
    pub receipts: Vec<Receipt>,
    pub claims: Vec<Claim>,
    pub author: Author,
}

/// Who wrote a proactive message.
#[derive(Clone, Debug, PartialEq)]
pub enum Author {
    /// The template over the receipts; `fallback` says why a configured model did not write it.
    Offline { fallback: Option<Fallback> },
    /// The trigger's specialist through the gateway.
    Model {
        /// `provider:model` that answered.
        model: String,
        usage: MessageUsage,
        /// The `model_request` step: the route and the exact body sent.
        request: Value,
    },
}

/// Why a configured model did not write the message.
#[derive(Clone, Debug, PartialEq)]
pub enum Fallback {
    /// The gateway refused the call for the budget: nothing was sent.
    Budget(String),
    /// No provider answered (unreachable, failing, breaker open, no route).
    Unavailable(String),
    /// The call ran past the coach's time budget (and was dropped, ending the upstream request).
    TimeBudget(String),
    /// The model answered, but its text broke the message's rules; what the call cost is still counted.
    Rejected {
        reason: String,
        usage: MessageUsage,
        request: Value,
    },
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
    let alerts = tb.call("get_alerts", alert_span(day)).await?;
    let of_session = |a: &Value| a.get("session_id").and_then(Value::as_i64) == Some(session_id);
    let mut openers = fatigue_openers(&alerts, of_session, |_| Some(day));
    if morning {
        openers.extend(opener_of_morning(tb, day).await?);
    }
    Ok(openers)
}

/// The message for each trigger among data that arrived without a session of this device to name it
/// (pulled by sync — a phone's recording, a server-side alert, another device's morning — or a history
/// export's mornings): every CNS-fatigue alert fired on the days `from..=to` (up to today), and a morning
/// below the normal range on `morning_day`.
pub async fn openers_of_days(
    tb: &Toolbox,
    from: i64,
    to: i64,
    morning_day: Option<i64>,
) -> Result<Vec<Opener>, ToolError> {
    let today = tb.today();
    let to = to.min(today);
    let span = json!({ "from": format_day(from.min(to)), "to": format_day(to) });
    let alerts = tb.call("get_alerts", span).await?;
    let day_of = |a: &Value| {
        let at = a.get("at").and_then(Value::as_str)?;
        crate::tools::days::parse_day(at.get(..10)?, today).ok()
    };
    // A coach's device also pulls the sessions of the athletes who granted it; `get_alerts` reads the
    // person's own sessions only, so an athlete's fatigue never earns the coach a message.
    let mut openers = fatigue_openers(&alerts, |_| true, day_of);
    if let Some(day) = morning_day {
        openers.extend(opener_of_morning(tb, day).await?);
    }
    Ok(openers)
}

/// A message for each CNS-fatigue alert of `alerts` (a `get_alerts` output) that `keep` keeps, dated by
/// `day_of`.
fn fatigue_openers(
    alerts: &crate::tools::ToolOutput,
    keep: impl Fn(&Value) -> bool,
    day_of: impl Fn(&Value) -> Option<i64>,
) -> Vec<Opener> {
    alert_list(&alerts.content)
        .iter()
        .filter(|a| keep(a))
        .filter(|a| a.get("rule").and_then(Value::as_str) == Some(CNS_FATIGUE_RULE))
        .filter_map(|a| {
            let alert_id = a.get("id").and_then(Value::as_i64)?;
            let session_id = a.get("session_id").and_then(Value::as_i64)?;
            let day = day_of(a)?;
            Some(opener(
                Trigger::CnsFatigue { alert_id, day },
                format!("CNS fatigue on {}", format_day(day)),
                fatigue_text(a),
                format!("#/history/{session_id}"),
                alerts.receipts.clone(),
            ))
        })
        .collect()
}

/// The message for the morning of `day` when its reading put the 7-day mean below the normal range.
pub async fn opener_of_morning(tb: &Toolbox, day: i64) -> Result<Option<Opener>, ToolError> {
    let date = format_day(day);
    match tb.call("get_readiness", json!({ "day": date })).await {
        Ok(readiness) if readiness.content.get("verdict").and_then(Value::as_str) == Some("below") => {
            Ok(below_range_text(&readiness.content).map(|text| {
                opener(
                    Trigger::MorningBelowRange { day },
                    format!("Below your range on {date}"),
                    text,
                    format!("#/morning/{date}"),
                    readiness.receipts,
                )
            }))
        }
        Ok(_) | Err(ToolError::NotEnoughData { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The days a session's alerts can fall on: the day it started and the next (a session that crosses
/// midnight). Not clamped to today: an alert stamped past midnight while the clock still reads the day
/// before (the simulator's time runs ahead, another device's clock) is still this session's.
fn alert_span(day: i64) -> Value {
    json!({ "from": format_day(day), "to": format_day(day + 1) })
}

fn alert_list(content: &Value) -> Vec<Value> {
    content
        .get("alerts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A templated message with its claims grounded against the receipts its numbers came from.
fn opener(trigger: Trigger, title: String, text: String, link: String, receipts: Vec<Receipt>) -> Opener {
    let claims = grounding::ground(&text, &receipts);
    Opener {
        trigger,
        title,
        text,
        link,
        receipts,
        claims,
        author: Author::Offline { fallback: None },
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
    let (model, usage, offline) = match &opener.author {
        Author::Model { model, usage, .. } => (Some(model.clone()), usage.clone(), false),
        Author::Offline {
            fallback: Some(Fallback::Rejected { usage, .. }),
        } => (None, usage.clone(), true),
        Author::Offline { .. } => (None, MessageUsage::default(), true),
    };
    let message = NewMessage {
        parent: None,
        role: Role::Assistant,
        specialist: Some(record::wire_name(&opener.trigger.specialist())),
        model,
        text: opener.text.clone(),
        usage: Some(usage),
        offline,
        created_at: now,
    };
    let Some((conversation, id)) = conversations
        .post_proactive(&opener.trigger.key(), &opener.title, &message)
        .await?
    else {
        return Ok(None);
    };
    for (kind, payload) in steps(&opener.author) {
        conversations
            .append_step(id, kind, &payload.to_string(), now)
            .await?;
    }
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

/// The steps stored with a message, as a turn stores them: the exact request a model was sent, and why a
/// configured model's text was not used.
fn steps(author: &Author) -> Vec<(&'static str, Value)> {
    let guard = |guard: &str, message: &str| ("guard", json!({"guard": guard, "message": message}));
    match author {
        Author::Model { request, .. } => vec![("model_request", request.clone())],
        Author::Offline { fallback: None } => Vec::new(),
        Author::Offline {
            fallback: Some(fallback),
        } => match fallback {
            Fallback::Budget(why) => vec![guard("budget", why)],
            Fallback::TimeBudget(why) => vec![guard("time_budget", why)],
            Fallback::Unavailable(why) => {
                vec![("error", json!({"code": "model_unavailable", "message": why}))]
            }
            Fallback::Rejected { reason, request, .. } => vec![
                ("model_request", request.clone()),
                (
                    "error",
                    json!({"code": "proactive_text_rejected", "message": reason}),
                ),
            ],
        },
    }
}

/// The triggers whose message is being written in this process, by database (its replica id) and trigger
/// key. The store's `proactive_messages` row is written only with the message; a model takes seconds, so
/// without this claim a refresh running meanwhile would find the trigger free, post the template, and the
/// model's (paid) text would then be refused by the row.
static WRITING: std::sync::Mutex<BTreeSet<(String, String)>> = std::sync::Mutex::new(BTreeSet::new());

/// This process's claim on one trigger's message; released when dropped.
struct TriggerClaim {
    held: (String, String),
}

impl TriggerClaim {
    /// The claim, unless another refresh in this process holds it.
    fn take(replica: &str, trigger: &Trigger) -> Option<Self> {
        let held = (replica.to_owned(), trigger.key());
        let taken = WRITING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(held.clone());
        // Built only when taken: a claim dropped here would release the holder's.
        taken.then(|| Self { held })
    }
}

impl Drop for TriggerClaim {
    fn drop(&mut self) {
        WRITING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.held);
    }
}

/// Whether `trigger` has its message already (then no model is asked to write another).
async fn already_posted(tb: &Toolbox, trigger: &Trigger) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM proactive_messages WHERE trigger_key = ?")
        .bind(trigger.key())
        .fetch_optional(tb.store().pool())
        .await?;
    Ok(row.is_some())
}

/// Finds the triggers of a stored session and posts one message for each that has none yet: written by the
/// trigger's specialist when `coach` has a gateway that answers, else the template.
pub async fn after_session(
    coach: &Coach,
    session_id: i64,
    day: i64,
    morning: bool,
) -> Result<Vec<Posted>, ProactiveError> {
    let openers = openers_of_session(coach.toolbox(), session_id, day, morning).await?;
    post_new(coach, openers).await
}

/// Posts each of `openers` whose trigger has no message yet: written by the trigger's specialist when
/// `coach` has a gateway that answers, else the template.
pub async fn post_new(coach: &Coach, openers: Vec<Opener>) -> Result<Vec<Posted>, ProactiveError> {
    let tb = coach.toolbox();
    let replica = tb.store().replica_id().await?;
    let mut posted = Vec::new();
    for opener in openers {
        // Held until the message is stored (or this future is dropped): a second refresh in the meantime
        // (a sync round pulling while the model writes) skips the trigger instead of posting the template.
        let Some(_claim) = TriggerClaim::take(&replica, &opener.trigger) else {
            continue;
        };
        if already_posted(tb, &opener.trigger).await? {
            continue;
        }
        let opener = match coach.gateway() {
            Some(gateway) => written_by_model(coach, gateway, opener).await,
            None => opener,
        };
        if let Some(p) = post(tb, &opener).await? {
            posted.push(p);
        }
    }
    Ok(posted)
}

/// `opener` as the trigger's specialist writes it through `gateway`, or the template with why not.
async fn written_by_model(coach: &Coach, gateway: &Gateway, opener: Opener) -> Opener {
    match model_text(coach, gateway, &opener).await {
        Ok((text, model, usage, request)) => {
            let claims = grounding::ground(&text, &opener.receipts);
            Opener {
                text,
                claims,
                author: Author::Model {
                    model,
                    usage,
                    request,
                },
                ..opener
            }
        }
        Err(fallback) => {
            tracing::info!(
                trigger = opener.trigger.key(),
                ?fallback,
                "the proactive message is the template"
            );
            Opener {
                author: Author::Offline {
                    fallback: Some(fallback),
                },
                ..opener
            }
        }
    }
}

/// The model's text (its link added when it left it out), the `provider:model` that wrote it, the call's
/// usage and its `model_request` step.
async fn model_text(
    coach: &Coach,
    gateway: &Gateway,
    opener: &Opener,
) -> Result<(String, String, MessageUsage, Value), Fallback> {
    let config = coach.config();
    let request = proactive_request(coach, opener);
    let call = gateway.chat(&config.model, request.clone());
    let response = match tokio::time::timeout(config.guards.time_budget, call).await {
        Err(_) => {
            return Err(Fallback::TimeBudget(format!(
                "the model did not answer within the {} s time budget",
                config.guards.time_budget.as_secs_f64()
            )));
        }
        Ok(Err(GatewayError::Budget(refusal))) => {
            return Err(Fallback::Budget(format!(
                "the model budget refused the call: {refusal}"
            )));
        }
        Ok(Err(error)) => return Err(Fallback::Unavailable(error_chain(&error))),
        Ok(Ok(response)) => response,
    };
    let route = Route {
        provider: response.provider.clone(),
        model: response.model.clone(),
    };
    let max_tokens = request.max_tokens.unwrap_or(config.max_tokens);
    let step = model::request_step(config.wire, &route, &request, max_tokens);
    let usage = MessageUsage {
        tokens_in: response.usage.input_tokens,
        tokens_out: response.usage.output_tokens,
        cost_usd: model::cost_usd(gateway, &route, &response.usage),
        estimated: response.usage.estimated,
        model_calls: 1,
        context: (response.usage.input_tokens > 0).then(|| ContextUse {
            tokens: response.usage.input_tokens,
            window: gateway.context_window(&route),
        }),
    };
    let text = response.text.trim();
    if let Err(reason) = check_text(text) {
        return Err(Fallback::Rejected {
            reason,
            usage,
            request: step,
        });
    }
    let text = if text.contains(&opener.link) {
        text.to_owned()
    } else {
        format!("{text}\n\n[The evidence]({})", opener.link)
    };
    Ok((text, route.to_string(), usage, step))
}

/// The one request of a proactive message: the specialist's proactive prompt and a brief carrying the
/// trigger's receipts, its link, and no tools.
fn proactive_request(coach: &Coach, opener: &Opener) -> ChatRequest {
    let tb = coach.toolbox();
    let event = match &opener.trigger {
        Trigger::CnsFatigue { day, .. } => format!(
            "A CNS-fatigue alert fired on {} (the alert is in the get_alerts receipt). Link to its session: {}",
            format_day(*day),
            opener.link
        ),
        Trigger::MorningBelowRange { day } => format!(
            "The morning reading of {} put the 7-day mean lnRMSSD below the normal range (the get_readiness \
             receipt). Link to that morning: {}",
            format_day(*day),
            opener.link
        ),
    };
    let mut brief = Brief {
        question: format!("Write the message the person finds after this event. {event}"),
        today: format_day(tb.today()),
        receipts: Vec::new(),
        memories: Vec::new(),
        previous: None,
        handoff: None,
    };
    brief.add_receipts(&opener.receipts);
    ChatRequest {
        messages: vec![
            Message::system(proactive_prompt(opener.trigger.specialist())),
            Message::user(brief.render()),
        ],
        max_tokens: Some(coach.config().max_tokens),
        conversation: Some(format!("proactive:{}", opener.trigger.key())),
        ..ChatRequest::default()
    }
}

/// The message's rules a model's text must keep: something written, and exactly one question.
fn check_text(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the model wrote nothing".into());
    }
    match text.matches('?').count() {
        1 => Ok(()),
        n => Err(format!(
            "the model's message asked {n} questions instead of exactly one"
        )),
    }
}
