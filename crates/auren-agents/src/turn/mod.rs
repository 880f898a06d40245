//! The turn loop: [`Coach::ask`] answers one question. The red-flag check answers first; the supervisor
//! routes (rules, then a model only when they don't decide); the specialist gets a typed [`Brief`] and runs
//! a tool loop over the [`Toolbox`], handing off to another specialist through the `handoff` tool; the
//! [`GuardBook`] bounds it; anything that stops a model (a tripped guard, a refused budget, no provider,
//! an open breaker) ends in the offline analyst's answer. The final text is grounded against the
//! receipts, a cheap extraction proposes memories, and the turn is stored.
//!
//! Layout: `brief.rs` (the typed brief, the prompts, the handoff tool), `guards.rs`, `model.rs` (one
//! streamed model call, bounded by cancellation and the time budget), `specialists.rs` (routing and the
//! tool loop), `extract.rs` (memory extraction), `record.rs` (storing the turn), `stop.rs` (a Stop and how
//! much of the answer the person had seen).

mod brief;
mod extract;
mod guards;
pub(crate) mod model;
pub(crate) mod record;
mod specialists;
mod stop;

pub use brief::{
    Brief, BriefMemory, BriefReceipt, BriefValue, HANDOFF_TOOL, HandoffNote, PREVIOUS_ANSWER_CHARS,
    PreviousTurn, proactive_prompt, system_prompt,
};
pub use extract::{ProposedMemory, rule_proposals};
pub use guards::{GuardBook, GuardLimits, Tripped};
pub use stop::{Seen, Stopping, TurnStop};

use auren_gateway::{Gateway, GatewayError, ProviderKind};
use auren_store::conversations::{NewMessage, Role};
use auren_store::{ConversationId, MessageId, StoreError};
use tokio::sync::mpsc::Sender;

use crate::events::{AgentEvent, RouteReason, Specialist, TurnOutcome, TurnUsage};
use crate::receipt::Receipt;
use crate::redflag::{self, REFERRAL, RecentAlert};
use crate::tools::{MemoryWrites, ToolError, Toolbox};

/// Whether the coach's memory operations — the extraction's proposals after a turn and a model's own
/// `remember`/`retract` calls — are applied at once or wait for the person's yes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryApply {
    Immediate,
    #[default]
    AskFirst,
}

impl MemoryApply {
    /// What the toolbox's `remember` and `retract` do under this setting.
    pub fn writes(self) -> MemoryWrites {
        match self {
            Self::Immediate => MemoryWrites::Apply,
            Self::AskFirst => MemoryWrites::Propose,
        }
    }
}

/// How the coach runs.
#[derive(Clone, Debug, PartialEq)]
pub struct CoachConfig {
    /// The gateway model alias (empty: the gateway's default).
    pub model: String,
    /// The wire format of the alias's first route, which decides the tool-schema transform.
    pub wire: ProviderKind,
    pub guards: GuardLimits,
    pub memory_apply: MemoryApply,
    /// Output cap of each specialist call.
    pub max_tokens: u32,
}

impl Default for CoachConfig {
    fn default() -> Self {
        Self {
            model: String::new(),
            wire: ProviderKind::OpenAi,
            guards: GuardLimits::default(),
            memory_apply: MemoryApply::default(),
            max_tokens: 1024,
        }
    }
}

impl CoachConfig {
    /// The configuration of a coach asking `model` (empty: the gateway's default) through `gateway`: the
    /// wire format of its first route, and each specialist call's output cap bounded by the gateway's own
    /// (`max_tokens` in `gateway.toml`: a small local model needs a small one). Every coach that talks to a
    /// gateway (`auren ask`, `auren sync`'s proactive messages, the desktop's chat) is built by this, so they
    /// send the same requests.
    pub fn for_gateway(
        gateway: &auren_gateway::GatewayConfig,
        model: String,
        memory_apply: MemoryApply,
    ) -> Self {
        let defaults = Self::default();
        Self {
            wire: Self::wire_of(gateway, &model),
            max_tokens: gateway.max_tokens.min(defaults.max_tokens),
            model,
            memory_apply,
            ..defaults
        }
    }

    /// The wire format `model` (an alias, `provider:model`, or empty for the default) is first routed to
    /// under `gateway`; OpenAI when it names nothing configured. Later routes of an alias get the same tool
    /// schemas: both formats accept either shape, and `strict` is only sent to OpenAI with a schema shaped
    /// for it (an Anthropic-shaped one is marked best effort, see `schema::definition`).
    pub fn wire_of(gateway: &auren_gateway::GatewayConfig, model: &str) -> ProviderKind {
        let model = if model.is_empty() {
            gateway.default_model.as_deref().unwrap_or("")
        } else {
            model
        };
        let provider = match gateway.aliases.get(model) {
            Some(routes) => routes.first().map(|r| r.provider.clone()),
            None => auren_gateway::Route::parse(model).map(|r| r.provider),
        };
        provider
            .and_then(|name| gateway.providers.iter().find(|p| p.name == name))
            .map_or(ProviderKind::OpenAi, |p| p.kind)
    }
}

/// A turn that could not be run or stored (a model failing is not one: the offline analyst answers).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("could not {what}")]
    Store {
        what: &'static str,
        #[source]
        source: StoreError,
    },
}

fn store_error(what: &'static str) -> impl FnOnce(StoreError) -> AgentError {
    move |source| AgentError::Store { what, source }
}

/// Where a new question goes in its conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// After the conversation's latest message.
    Latest,
    /// After this message (`None`: a new first message) — a new branch when it already has a follow-up.
    After(Option<MessageId>),
}

/// The supervisor and its specialists over one person's data.
#[derive(Clone, Debug)]
pub struct Coach {
    gateway: Option<Gateway>,
    toolbox: Toolbox,
    config: CoachConfig,
}

/// Why a model stopped answering the turn.
#[derive(Debug)]
pub(crate) enum Stop {
    Guard(Tripped),
    Gateway(GatewayError),
}

/// The answer before the red-flag prefix and grounding.
#[derive(Debug)]
pub(crate) struct Answered {
    pub text: String,
    pub specialist: Specialist,
    pub offline: bool,
}

/// The state of one turn.
pub(crate) struct Turn<'a> {
    pub coach: &'a Coach,
    pub events: Sender<AgentEvent>,
    pub stop: TurnStop,
    pub deadline: tokio::time::Instant,
    pub guards: GuardBook,
    pub receipts: Vec<Receipt>,
    pub usage: TurnUsage,
    /// Steps to store with the answer: kind, JSON payload, Unix ms.
    pub steps: Vec<(String, serde_json::Value, i64)>,
    pub conversation: ConversationId,
    /// The model that wrote the answer (`provider:model`).
    pub answered_by: Option<String>,
    /// The conversation's previous exchange, for the brief.
    pub previous: Option<PreviousTurn>,
    /// Every text the turn emitted as [`AgentEvent::Text`], in order — the red-flag referral, the model's
    /// text of every call, the offline analyst's answer: what a window's count of what it drew counts.
    pub emitted: String,
    /// Bytes of `emitted` before any answer: the red-flag referral, which a Stop always keeps.
    pub referral_len: usize,
    /// How many receipts the turn held before the offline analyst's were added: a Stop that keeps the
    /// model text drawn before an offline answer drops the analyst's (they belong to an answer not kept).
    pub receipts_before_offline: usize,
}

impl Coach {
    /// A coach; with no gateway every answer is the offline analyst's. The toolbox's memory writes are
    /// set from `config.memory_apply`, so a model calling `remember` or `retract` obeys the same "ask
    /// first" as the extraction (a toolbox shared with MCP keeps its own setting there).
    pub fn new(gateway: Option<Gateway>, toolbox: Toolbox, config: CoachConfig) -> Self {
        Self {
            gateway,
            toolbox: toolbox.with_memory_writes(config.memory_apply.writes()),
            config,
        }
    }

    /// The coach with no model over `store` and the wall clock: what the CLI and the desktop's sync loop
    /// refresh with after new data (its proactive messages are the offline analyst's templates).
    pub fn offline(store: auren_store::Store) -> Self {
        let toolbox = Toolbox::new(store, std::sync::Arc::new(auren_gateway::SystemClock));
        Self::new(None, toolbox, CoachConfig::default())
    }

    pub fn toolbox(&self) -> &Toolbox {
        &self.toolbox
    }

    /// The gateway a model answers through; `None` when every answer is the offline analyst's.
    pub fn gateway(&self) -> Option<&Gateway> {
        self.gateway.as_ref()
    }

    pub fn config(&self) -> &CoachConfig {
        &self.config
    }

    /// Answers `question` in `conversation` (a new one when `None`), streaming the turn's events; the
    /// last event is [`AgentEvent::Done`] with the returned outcome. The turn is stored.
    pub async fn ask(
        &self,
        conversation: Option<ConversationId>,
        question: &str,
        events: Sender<AgentEvent>,
        stop: impl Into<TurnStop>,
    ) -> Result<TurnOutcome, AgentError> {
        self.ask_at(conversation, Placement::Latest, question, events, stop)
            .await
    }

    /// [`Coach::ask`] with the question placed explicitly: after the latest message, or after a chosen one
    /// (edit-and-resend starts a branch there; the abandoned branch is never read into the brief).
    /// `stop` ends it early: a [`CancellationToken`](tokio_util::sync::CancellationToken) keeps all that
    /// streamed, a [`TurnStop`] stopped with [`Seen::Chars`] keeps only what the person saw.
    pub async fn ask_at(
        &self,
        conversation: Option<ConversationId>,
        placement: Placement,
        question: &str,
        events: Sender<AgentEvent>,
        stop: impl Into<TurnStop>,
    ) -> Result<TurnOutcome, AgentError> {
        let (conversation, question_id, previous) =
            self.store_question(conversation, placement, question).await?;
        let mut turn = Turn {
            coach: self,
            events,
            stop: stop.into(),
            deadline: tokio::time::Instant::now() + self.config.guards.time_budget,
            guards: GuardBook::new(self.config.guards.clone()),
            receipts: Vec::new(),
            usage: TurnUsage::default(),
            steps: Vec::new(),
            conversation,
            answered_by: None,
            previous,
            emitted: String::new(),
            referral_len: 0,
            receipts_before_offline: 0,
        };
        let alerts = turn.recent_alerts().await;
        let red_flag = redflag::detect(question, &alerts);
        if let Some(flag) = red_flag {
            turn.emit(AgentEvent::Routed {
                specialist: Specialist::Safety,
                by: RouteReason::RedFlag,
            })
            .await;
            let lead = format!("{REFERRAL}\n\n");
            turn.referral_len = lead.len();
            turn.emit_text(lead).await;
            turn.step("red_flag", serde_json::json!({ "flag": flag }));
        }
        let answered = turn.answer(question, &alerts).await;
        let with_referral = |text: &str| match red_flag {
            Some(_) => format!("{REFERRAL}\n\n{text}"),
            None => text.to_owned(),
        };
        let mut text = with_referral(&answered.text);
        let mut claims = crate::grounding::ground(&text, &turn.receipts);
        for claim in &claims {
            turn.emit(AgentEvent::Claim(claim.clone())).await;
        }
        turn.extract_memories(question, question_id, answered.offline)
            .await;
        // A Stop that came after the model's last word (while grounding or extracting) cuts the answer too;
        // the claims already sent went to a window that ignores them once stopped.
        let answered = match turn.stopped_late(&answered, question).await {
            Some(seen) => {
                text = with_referral(&seen.text);
                claims = crate::grounding::ground(&text, &turn.receipts);
                seen
            }
            None => answered,
        };
        turn.usage.model_calls = turn.guards.model_calls();
        let outcome = TurnOutcome {
            answer: text,
            specialist: answered.specialist,
            offline: answered.offline,
            claims,
            usage: turn.usage.clone(),
        };
        turn.store_answer(question_id, &outcome).await?;
        turn.emit(AgentEvent::Done(outcome.clone())).await;
        Ok(outcome)
    }

    /// Stores the person's question (creating the conversation when needed) after the branch's last message.
    async fn store_question(
        &self,
        conversation: Option<ConversationId>,
        placement: Placement,
        question: &str,
    ) -> Result<(ConversationId, MessageId, Option<PreviousTurn>), AgentError> {
        let conversations = self.toolbox.store().conversations();
        let now = self.toolbox.clock().now().0;
        let conversation = match conversation {
            Some(id) => id,
            None => {
                let title: String = question.chars().take(60).collect();
                conversations
                    .create(&title, now)
                    .await
                    .map_err(store_error("create a conversation"))?
            }
        };
        let parent = match placement {
            Placement::Latest => conversations
                .latest_message(conversation)
                .await
                .map_err(store_error("read the conversation"))?,
            Placement::After(parent) => parent,
        };
        let previous = match parent {
            Some(parent) => self.previous_turn(parent).await?,
            None => None,
        };
        let message = NewMessage {
            parent,
            role: Role::User,
            specialist: None,
            model: None,
            text: question.to_owned(),
            usage: None,
            offline: false,
            created_at: now,
        };
        let id = conversations
            .append_message(conversation, &message)
            .await
            .map_err(store_error("store the question"))?;
        Ok((conversation, id, previous))
    }

    /// The exchange that ends with message `last`, when it is an answer to a question.
    async fn previous_turn(&self, last: MessageId) -> Result<Option<PreviousTurn>, AgentError> {
        let conversations = self.toolbox.store().conversations();
        let read = store_error("read the previous exchange");
        let answer = conversations.message(last).await.map_err(read)?;
        let Some(question) = answer.parent.filter(|_| answer.role == Role::Assistant) else {
            return Ok(None);
        };
        let question = conversations
            .message(question)
            .await
            .map_err(store_error("read the previous question"))?;
        Ok(Some(PreviousTurn {
            question: question.text,
            answer: answer.text.chars().take(PREVIOUS_ANSWER_CHARS).collect(),
        }))
    }
}

impl Turn<'_> {
    /// Sends an event; a reader that went away does not stop the turn (it is still stored).
    pub(crate) async fn emit(&self, event: AgentEvent) {
        let _ = self.events.send(event).await;
    }

    /// Sends text for the person to read, kept in `emitted`: what a Stop's count of what was drawn counts.
    pub(crate) async fn emit_text(&mut self, text: String) {
        self.emitted.push_str(&text);
        self.emit(AgentEvent::Text { delta: text }).await;
    }

    pub(crate) fn step(&mut self, kind: &str, payload: serde_json::Value) {
        let now = self.coach.toolbox.clock().now().0;
        self.steps.push((kind.to_owned(), payload, now));
    }

    /// Alerts of the last 24 hours (none when they cannot be read: routing then goes by words alone).
    async fn recent_alerts(&self) -> Vec<RecentAlert> {
        const DAY_MS: i64 = 86_400_000;
        let now = self.coach.toolbox.clock().now().0;
        match self
            .coach
            .toolbox
            .store()
            .alerts_between(now - DAY_MS, now + 1)
            .await
        {
            Ok(rows) => rows
                .into_iter()
                .map(|row| RecentAlert {
                    rule: row.rule,
                    at_unix_ms: row.at,
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "recent alerts could not be read for routing");
                Vec::new()
            }
        }
    }

    /// The answer: a model's when one can answer, else the offline analyst's.
    async fn answer(&mut self, question: &str, alerts: &[RecentAlert]) -> Answered {
        let Some(gateway) = self.coach.gateway.clone() else {
            self.emit(AgentEvent::Routed {
                specialist: Specialist::Offline,
                by: RouteReason::Offline,
            })
            .await;
            return self.offline(question).await;
        };
        match self.run_specialists(&gateway, question, alerts).await {
            Ok(answered) => answered,
            Err(stop) => self.fall_back(stop, question).await,
        }
    }

    /// Reports why the model stopped, then answers offline — except after a Stop in the middle of an
    /// answer the person had seen some of: they keep exactly the text they saw, and nothing else is
    /// written under it.
    async fn fall_back(&mut self, stop: Stop, question: &str) -> Answered {
        let seen = match &stop {
            Stop::Guard(t) if t.guard == crate::events::Guard::Cancelled => {
                Some(self.seen_answer().to_owned()).filter(|seen| !seen.is_empty())
            }
            _ => None,
        };
        match stop {
            Stop::Guard(tripped) => self.report_guard(tripped).await,
            Stop::Gateway(GatewayError::Budget(refusal)) => {
                let message = format!("the model budget refused the call: {refusal}");
                self.report_guard(Tripped {
                    guard: crate::events::Guard::Budget,
                    message,
                })
                .await;
            }
            Stop::Gateway(error) => {
                let message = error_chain(&error);
                self.step(
                    "error",
                    serde_json::json!({"code": "model_unavailable", "message": message}),
                );
                self.emit(AgentEvent::Error {
                    code: "model_unavailable".into(),
                    message,
                })
                .await;
            }
        }
        if let Some(text) = seen {
            return Answered {
                text,
                specialist: self.guards.current().unwrap_or(Specialist::Supervisor),
                offline: false,
            };
        }
        self.offline(question).await
    }

    /// The answer's text (after the referral) the person saw so far: all of it unless the Stop said how
    /// much was drawn.
    fn seen_answer(&self) -> &str {
        let seen = self.stop.seen().unwrap_or(Seen::AllStreamed);
        stop::seen_part(&self.emitted, self.referral_len, seen)
    }

    /// The turn's last check of a Stop (one arriving later is refused: the window draws the whole answer),
    /// and the answer to store instead of `answered` when a Stop counting what was drawn came after the
    /// answer's last word and the window had not drawn all the turn's text. The text it drew: the model's
    /// text of every call, as it was shown — also when the answer is the offline analyst's, written after
    /// the model had streamed some and failed or tripped a guard. None of it drawn: the offline analyst's
    /// answer, as for a Stop before the first word (an offline answer then stands whole). `None` when the
    /// answer stands.
    async fn stopped_late(&mut self, answered: &Answered, question: &str) -> Option<Answered> {
        let seen = match self.stop.finish() {
            Some(seen @ Seen::Chars(_)) => seen,
            _ => return None,
        };
        let seen = stop::seen_part(&self.emitted, self.referral_len, seen).to_owned();
        // Nothing cut: the window drew all the turn's text — more than `answered` (the last call's text)
        // when a call before it wrote some. Already cut: a Stop in the middle of the answer (fall_back).
        let nothing_cut = self.referral_len + seen.len() == self.emitted.len();
        if nothing_cut || (!answered.offline && seen == answered.text) {
            return None;
        }
        if seen.is_empty() && answered.offline {
            return None;
        }
        // No guard recorded the Stop (the model had ended, or a guard or error came first): the stored turn
        // shows as stopped too.
        self.report_guard(GuardBook::cancelled()).await;
        if seen.is_empty() {
            return Some(self.offline(question).await);
        }
        // An offline answer whose text was not drawn: what was is the model's, from before its failure. The
        // analyst's receipts go with its answer: left linked, they would ground numbers in the model's text.
        let specialist = if answered.offline {
            self.receipts.truncate(self.receipts_before_offline);
            self.guards.current().unwrap_or(Specialist::Supervisor)
        } else {
            answered.specialist
        };
        Some(Answered {
            text: seen,
            specialist,
            offline: false,
        })
    }

    /// A guard that ended the model's part of the turn: stored as a step and sent to the window.
    async fn report_guard(&mut self, tripped: Tripped) {
        self.step(
            "guard",
            serde_json::json!({"guard": tripped.guard, "message": tripped.message}),
        );
        self.emit(AgentEvent::Guard {
            guard: tripped.guard,
            message: tripped.message,
        })
        .await;
    }

    /// The offline analyst's answer, its receipts kept for grounding.
    pub(crate) async fn offline(&mut self, question: &str) -> Answered {
        self.receipts_before_offline = self.receipts.len();
        let text = match crate::offline::answer(&self.coach.toolbox, question).await {
            Ok(answer) => {
                self.receipts.extend(answer.receipts);
                answer.text
            }
            Err(error) => offline_failure(&error),
        };
        self.emit_text(text.clone()).await;
        Answered {
            text,
            specialist: Specialist::Offline,
            offline: true,
        }
    }
}

fn offline_failure(error: &ToolError) -> String {
    format!(
        "{} Your data could not be read: {error}",
        crate::offline::OFFLINE_LABEL
    )
}

/// An error and its causes on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}
