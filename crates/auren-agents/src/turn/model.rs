//! One model call of a turn: counted by the guards, its exact wire body kept as a step, streamed (text
//! deltas become [`AgentEvent::Text`] when asked), its usage and cost added up — and every await bounded by
//! cancellation and the time budget, so dropping the stream ends the upstream request.

use std::future::Future;

use auren_gateway::providers::{anthropic, openai};
use auren_gateway::{
    ChatRequest, ChatStream, Gateway, Opening, ProviderKind, Route, StreamEvent, ToolCall, Usage, tokens,
};
use futures::StreamExt;

use super::{GuardBook, Stop, Turn};
use crate::events::{AgentEvent, TurnUsage, UsagePhase};

/// How often, at most, a streaming call reports its running estimate: the desktop's text batch, so the
/// meter moves with the text and costs no extra repaint.
const ESTIMATE_EVERY: std::time::Duration = std::time::Duration::from_millis(25);

/// What one call answered.
#[derive(Debug, Default)]
pub(crate) struct ModelReply {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
}

/// Whether a call's text is part of the answer the person sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextShown {
    Streamed,
    Hidden,
}

impl Turn<'_> {
    /// Runs `future` unless the turn is cancelled or out of time first.
    pub(crate) async fn bounded<F: Future>(&self, future: F) -> Result<F::Output, Stop> {
        tokio::select! {
            biased;
            () = self.stop.token().cancelled() => Err(Stop::Guard(GuardBook::cancelled())),
            () = tokio::time::sleep_until(self.deadline) => Err(Stop::Guard(self.guards.time_budget_tripped())),
            out = future => Ok(out),
        }
    }

    /// One streamed model call.
    pub(crate) async fn call_model(
        &mut self,
        gateway: &Gateway,
        mut request: ChatRequest,
        shown: TextShown,
    ) -> Result<ModelReply, Stop> {
        self.guards.model_call().map_err(Stop::Guard)?;
        request.conversation = Some(self.conversation.to_string());
        let model = self.coach.config.model.clone();
        let prompt_estimate = PromptEstimate::start(&request);
        let opening = Opening::default();
        let opened = match self
            .bounded(gateway.stream_with(&model, request.clone(), &opening))
            .await
        {
            Ok(opened) => opened,
            Err(stop) => return Err(self.cut_unanswered(gateway, opening, stop).await),
        };
        let mut stream = opened.map_err(Stop::Gateway)?;
        let route = stream.route().clone();
        // Set at once, not at the end: a Stop mid-answer keeps this model's text.
        self.answered_by = Some(format!("{}:{}", route.provider, route.model));
        self.record_request(&route, &request);
        let mut meter = CallMeter {
            call: self.guards.model_calls(),
            input_estimate: prompt_estimate,
            last_estimate: None,
        };
        let mut reply = ModelReply::default();
        loop {
            let next = match self.bounded(stream.next()).await {
                Ok(next) => next,
                Err(stop) => return Err(self.cut(gateway, &route, stream, &meter, stop).await),
            };
            match next {
                None => break,
                Some(Err(error)) => {
                    return Err(self
                        .cut(gateway, &route, stream, &meter, Stop::Gateway(error))
                        .await);
                }
                Some(Ok(StreamEvent::TextDelta { text })) => {
                    if shown == TextShown::Streamed {
                        self.emit_text(text.clone()).await;
                    }
                    reply.text.push_str(&text);
                    self.estimate(gateway, &route, &mut meter, &reply.text).await;
                }
                Some(Ok(StreamEvent::ToolCall { call, .. })) => reply.tool_calls.push(call),
                Some(Ok(StreamEvent::Usage { usage })) => {
                    self.add_usage(gateway, &route, usage, (meter.call, UsagePhase::Final))
                        .await;
                }
                Some(Ok(StreamEvent::Finish { .. } | StreamEvent::ToolCallDelta { .. })) => {}
            }
        }
        Ok(reply)
    }

    /// Reports a running estimate of the call (the gateway's estimator over the request and the text so
    /// far), at most once per [`ESTIMATE_EVERY`] and from when the prompt's count is ready; not added to
    /// the turn: the exact usage replaces it.
    async fn estimate(&mut self, gateway: &Gateway, route: &Route, meter: &mut CallMeter, text: &str) {
        let now = tokio::time::Instant::now();
        if meter.last_estimate.is_some_and(|at| now < at + ESTIMATE_EVERY) {
            return;
        }
        let Some(input_tokens) = meter.input_estimate.ready().await else {
            return;
        };
        meter.last_estimate = Some(now);
        let usage = Usage {
            input_tokens,
            cached_input_tokens: 0,
            output_tokens: tokens::count_text(text),
            estimated: true,
        };
        let call = call_usage(gateway, route, &usage, (meter.call, UsagePhase::Running));
        self.emit(AgentEvent::Usage(call)).await;
    }

    /// Ends a call cut short (a Stop, the time budget, a broken stream): the usage the gateway booked for it
    /// in the ledger is added to the turn as this call's, so the turn's total is what the budget counts.
    async fn cut(
        &mut self,
        gateway: &Gateway,
        route: &Route,
        stream: ChatStream,
        meter: &CallMeter,
        stop: Stop,
    ) -> Stop {
        if let Some(usage) = stream.cut().await {
            self.add_usage(gateway, route, usage, (meter.call, UsagePhase::Cut))
                .await;
        }
        stop
    }

    /// Ends a call stopped before its first token: the prompt estimate the gateway booked for it (the
    /// provider bills the prompt) is added to the turn as this call's, as [`Turn::cut`] does.
    async fn cut_unanswered(&mut self, gateway: &Gateway, opening: Opening, stop: Stop) -> Stop {
        if let Some(unanswered) = opening.cut().await {
            let call = (self.guards.model_calls(), UsagePhase::Cut);
            self.add_usage(gateway, &unanswered.route, unanswered.usage, call)
                .await;
        }
        stop
    }

    /// Keeps the exact body this call sent as a step (what the provider received).
    fn record_request(&mut self, route: &Route, request: &ChatRequest) {
        let max_tokens = request.max_tokens.unwrap_or(self.coach.config.max_tokens);
        let payload = request_step(self.coach.config.wire, route, request, max_tokens);
        self.step("model_request", payload);
    }

    /// Adds one call's final or cut tokens and cost (`call`: its number and phase) to the turn and reports
    /// them.
    async fn add_usage(&mut self, gateway: &Gateway, route: &Route, usage: Usage, call: (u32, UsagePhase)) {
        let call = call_usage(gateway, route, &usage, call);
        self.usage.context_tokens = call.context_tokens;
        self.usage.context_window = call.context_window;
        self.usage.input_tokens += call.input_tokens;
        self.usage.output_tokens += call.output_tokens;
        self.usage.cost_usd += call.cost_usd;
        self.usage.estimated |= call.estimated;
        self.emit(AgentEvent::Usage(call)).await;
    }
}

/// What a call's meter keeps while it streams.
struct CallMeter {
    /// The call's number in the turn, from 1.
    call: u32,
    /// The request's prompt tokens as the gateway estimates them (for its budget and ledger too).
    input_estimate: PromptEstimate,
    last_estimate: Option<tokio::time::Instant>,
}

/// A request's prompt estimate, counted on a blocking thread while the provider is asked. Counted in the
/// turn, between the provider's first token and the first text event, a long prompt held back the first
/// token on screen (and, until the tables were made at build time, a process's first count built them
/// there: ~30 ms; the first turn took 35–60 ms to the screen, later ones under 16). Counted after the first
/// text event, it held back the rest of the text instead.
enum PromptEstimate {
    Counting(tokio::task::JoinHandle<u64>),
    Ready(u64),
    /// The count panicked: no running estimate for this call; its exact usage still comes at its end.
    Failed,
}

impl PromptEstimate {
    fn start(request: &ChatRequest) -> Self {
        let request = request.clone();
        Self::Counting(tokio::task::spawn_blocking(move || {
            tokens::estimate_prompt(&request)
        }))
    }

    /// The count if it is done; never waits for it.
    async fn ready(&mut self) -> Option<u64> {
        match self {
            Self::Ready(tokens) => Some(*tokens),
            Self::Counting(counting) if counting.is_finished() => {
                // Finished, so this does not wait; a handle is awaited once, so the state moves on.
                let (next, tokens) = match counting.await {
                    Ok(tokens) => (Self::Ready(tokens), Some(tokens)),
                    Err(_) => (Self::Failed, None),
                };
                *self = next;
                tokens
            }
            Self::Counting(_) | Self::Failed => None,
        }
    }
}

/// One call's usage as an event reports it: tokens, price, and how full the model's context is.
fn call_usage(
    gateway: &Gateway,
    route: &Route,
    usage: &Usage,
    (call, phase): (u32, UsagePhase),
) -> TurnUsage {
    TurnUsage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cost_usd: cost_usd(gateway, route, usage),
        estimated: usage.estimated,
        phase,
        model_calls: 1,
        call,
        context_tokens: usage.input_tokens,
        context_window: gateway.context_window(route),
    }
}

/// The `model_request` step of a call: its route and the exact body sent in `wire`'s format.
pub(crate) fn request_step(
    wire: ProviderKind,
    route: &Route,
    request: &ChatRequest,
    max_tokens: u32,
) -> serde_json::Value {
    let body = match wire {
        ProviderKind::Anthropic => anthropic::request_body(&route.model, request, max_tokens),
        ProviderKind::OpenAi => openai::request_body(&route.model, request, max_tokens, false),
        ProviderKind::OpenAiCompatible => openai::request_body(&route.model, request, max_tokens, true),
    };
    match body {
        Ok(body) => serde_json::json!({"route": route.to_string(), "body": body}),
        Err(error) => serde_json::json!({"route": route.to_string(), "error": error.to_string()}),
    }
}

/// What one call cost at the route's price (nothing for a model the gateway has no price of: a local one).
pub(crate) fn cost_usd(gateway: &Gateway, route: &Route, usage: &Usage) -> f64 {
    gateway.price(route).map_or(0.0, |p| {
        p.cost(usage.input_tokens, usage.cached_input_tokens, usage.output_tokens)
            .as_dollars()
    })
}
