//! The [`Gateway`]: resolves a model alias to its routes, and for each route in order checks the breaker,
//! the rate limit and the budget, tries (and retries) the provider until a first token arrives, then
//! streams the answer to the caller, settling the budget and recording usage when it ends.
//!
//! Once a token has reached the caller there is no retry and no failover: a failure then ends the stream
//! with [`GatewayError::StreamInterrupted`].

use crate::breaker::{Breaker, Breakers, Outcome};
use crate::budget::{BudgetBook, Reservation};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, StreamEvent, Usage};
use crate::clock::{Clock, UnixMillis};
use crate::config::{GatewayConfig, ProviderKind, RetryPolicy, Route, Timeouts};
use crate::error::{Attempt, AttemptFailure, Cause, GatewayError};
use crate::prices::{ModelPrice, PriceTable, Usd};
use crate::providers::anthropic::AnthropicProvider;
use crate::providers::openai::OpenAiProvider;
use crate::providers::{EventStream, ModelCheck, Provider};
use crate::ratelimit::RateLimiter;
use crate::secrets::{ApiKey, SecretStore};
use crate::tokens;
use crate::usage::{UsageLedger, UsageRecord};
use futures::stream::{Stream, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tracing::{Instrument, Span, field};

struct ProviderSlot {
    kind: ProviderKind,
    provider: Box<dyn Provider>,
    limiter: RateLimiter,
    context_window: Option<u32>,
}

struct Inner {
    providers: HashMap<String, Arc<ProviderSlot>>,
    aliases: HashMap<String, Vec<Route>>,
    default_model: Option<String>,
    max_tokens: u32,
    timeouts: Timeouts,
    retry: RetryPolicy,
    breakers: Breakers,
    budget: Arc<BudgetBook>,
    ledger: Arc<dyn UsageLedger>,
    clock: Arc<dyn Clock>,
    prices: PriceTable,
}

/// The LLM gateway. Cheap to clone; clones share breakers, budgets and connections.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.inner.providers.keys().collect();
        names.sort();
        f.debug_struct("Gateway")
            .field("providers", &names)
            .finish_non_exhaustive()
    }
}

/// Why a provider's keychain entry could not be read, kept for the "no API key" message.
type KeychainFailure = Arc<dyn std::error::Error + Send + Sync>;

/// Where a provider's key was looked for, for the "no API key" message.
fn where_key(name: &str, env: Option<&str>, keychain_error: Option<KeychainFailure>) -> Cause {
    match (env, keychain_error) {
        (Some(var), _) => Cause::new(format!("the environment variable {var}")),
        (None, Some(error)) => Cause::from_shared(format!("a keychain entry for provider {name:?}"), error),
        (None, None) => Cause::new(format!("a keychain entry for provider {name:?}")),
    }
}

impl Gateway {
    /// Builds the gateway: reads API keys (environment variables named by `api_key_env`, else the secret
    /// store, on a blocking thread), and opens the budget with what the ledger says was spent today and
    /// this month.
    pub async fn start(
        config: GatewayConfig,
        secrets: Arc<dyn SecretStore>,
        ledger: Arc<dyn UsageLedger>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, GatewayError> {
        let client = client_builder()
            .connect_timeout(config.timeouts.connect)
            .tcp_nodelay(true)
            .build()
            .map_err(GatewayError::Client)?;
        let now = clock.now();
        let mut providers = HashMap::new();
        for p in &config.providers {
            let (key, keychain_error) = match (&p.api_key_env, p.kind) {
                (Some(var), _) => (
                    std::env::var(var).ok().filter(|k| !k.is_empty()).map(ApiKey::new),
                    None,
                ),
                // Local servers take no key; a hosted compatible server names its variable.
                (None, ProviderKind::OpenAiCompatible) => (None, None),
                (None, _) => {
                    let store = Arc::clone(&secrets);
                    let name = p.name.clone();
                    match tokio::task::spawn_blocking(move || store.api_key(&name)).await {
                        Ok(Ok(key)) => (key, None),
                        Ok(Err(e)) => (None, Some(Arc::new(e) as KeychainFailure)),
                        // The lookup's thread panicked or was cancelled.
                        Err(e) => (None, Some(Arc::new(e) as KeychainFailure)),
                    }
                }
            };
            let where_key = where_key(&p.name, p.api_key_env.as_deref(), keychain_error);
            let provider: Box<dyn Provider> = match p.kind {
                ProviderKind::OpenAi => Box::new(OpenAiProvider::openai(
                    client.clone(),
                    &p.base_url,
                    key,
                    where_key,
                )),
                ProviderKind::OpenAiCompatible => {
                    Box::new(OpenAiProvider::compatible(client.clone(), &p.base_url, key))
                }
                ProviderKind::Anthropic => Box::new(AnthropicProvider::new(
                    client.clone(),
                    &p.base_url,
                    key,
                    where_key,
                )),
            };
            let limiter = RateLimiter::new(p.requests_per_minute, p.tokens_per_minute, now);
            providers.insert(
                p.name.clone(),
                Arc::new(ProviderSlot {
                    kind: p.kind,
                    provider,
                    limiter,
                    context_window: p.context_window,
                }),
            );
        }
        let today = now.utc_date();
        let spent_today = ledger.spent_since(today.start()).await?;
        let spent_month = ledger.spent_since(today.first_of_month().start()).await?;
        let budget = Arc::new(BudgetBook::new(config.budget, now, spent_today, spent_month));
        let inner = Inner {
            providers,
            aliases: config.aliases.into_iter().collect(),
            default_model: config.default_model,
            max_tokens: config.max_tokens,
            timeouts: config.timeouts,
            retry: config.retry,
            breakers: Breakers::new(config.breaker),
            budget,
            ledger,
            clock,
            prices: PriceTable::bundled(),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The routes `model` stands for: an alias, `provider:model`, or (when empty) the default model.
    pub fn routes(&self, model: &str) -> Result<Vec<Route>, GatewayError> {
        let model = if model.is_empty() {
            self.inner.default_model.as_deref().unwrap_or("")
        } else {
            model
        };
        if let Some(routes) = self.inner.aliases.get(model) {
            return Ok(routes.clone());
        }
        match Route::parse(model) {
            Some(route) if self.inner.providers.contains_key(&route.provider) => Ok(vec![route]),
            _ => Err(GatewayError::UnknownModel(model.to_owned())),
        }
    }

    /// The breaker of one provider and model (for status displays and tests).
    pub fn breaker(&self, provider: &str, model: &str) -> Arc<Breaker> {
        self.inner.breakers.get(provider, model)
    }

    /// Spent today and this month, as the budget sees it.
    pub fn spent(&self) -> (Usd, Usd) {
        self.inner.budget.spent(self.inner.clock.now())
    }

    /// The price the gateway charges `route` at; `None` means unpriced (counted as 0).
    pub fn price(&self, route: &Route) -> Option<ModelPrice> {
        let slot = self.inner.providers.get(&route.provider)?;
        self.price_for(slot, &route.model)
    }

    /// The context window of `route`'s model in tokens: the bundled table's for a hosted model, the
    /// provider's configured `context_window` for a compatible server; `None` means unknown.
    pub fn context_window(&self, route: &Route) -> Option<u32> {
        let slot = self.inner.providers.get(&route.provider)?;
        match slot.kind {
            ProviderKind::OpenAi | ProviderKind::Anthropic => self
                .inner
                .prices
                .context_window(&route.model)
                .or(slot.context_window),
            ProviderKind::OpenAiCompatible => slot.context_window,
        }
    }

    /// Whether `route`'s provider answers, takes the key and knows the model — asked with a model lookup,
    /// not a completion, so it costs nothing and books nothing. Waits at most the first-token timeout for
    /// the answer. The rate limits and budget are not touched: this is no call. The route's breaker hears
    /// only whether anyone answered ([`Gateway::record_reach`]): a provider the lookup could not reach is
    /// skipped by the calls that follow (their offline answer comes at once), one that answered is tried
    /// again.
    pub async fn check(&self, route: &Route) -> Result<ModelCheck, AttemptFailure> {
        let Some(slot) = self.inner.providers.get(&route.provider) else {
            return Err(AttemptFailure::InvalidRequest(format!(
                "no provider named {:?}",
                route.provider
            )));
        };
        let limit = self.inner.timeouts.first_token;
        let checked = match tokio::time::timeout(limit, slot.provider.check(&route.model)).await {
            Ok(answer) => answer,
            Err(_) => Err(AttemptFailure::FirstTokenTimeout(limit)),
        };
        if let Some(reach) = Reach::of_check(&checked) {
            self.record_reach(route, reach);
        }
        checked
    }

    /// What a free model lookup found of `route`'s provider, told to its breaker: [`Reach::NoAnswer`] opens
    /// it at once (calls then fail over or fall back without waiting on the address again),
    /// [`Reach::Answered`] closes one that opened for that reason. [`Gateway::check`] calls it; a caller
    /// that checks through a gateway of its own (with its own timeouts) tells this one here.
    pub fn record_reach(&self, route: &Route, reach: Reach) {
        let breaker = self.inner.breakers.get(&route.provider, &route.model);
        match reach {
            Reach::Answered => breaker.reached(),
            Reach::NoAnswer => breaker.record(Outcome::Unreachable, self.inner.clock.now()),
        }
    }

    fn price_for(&self, slot: &ProviderSlot, model: &str) -> Option<ModelPrice> {
        // A compatible server's model names are its own: a local "gpt-4o" is not OpenAI's bill.
        match slot.kind {
            ProviderKind::OpenAi | ProviderKind::Anthropic => self.inner.prices.price(model),
            ProviderKind::OpenAiCompatible => None,
        }
    }

    /// A complete answer: the stream collected.
    pub async fn chat(&self, model: &str, request: ChatRequest) -> Result<ChatResponse, GatewayError> {
        self.stream(model, request).await?.collect_response().await
    }

    /// Starts a streamed answer. Resolves once the first token has arrived (after whatever retries and
    /// failovers that took); from then on, events arrive as the provider sends them.
    pub async fn stream(&self, model: &str, request: ChatRequest) -> Result<ChatStream, GatewayError> {
        self.stream_with(model, request, &Opening::default()).await
    }

    /// [`Gateway::stream`], leaving in `opening` what the ledger booked when this future is dropped while a
    /// try waits for its first token (a Stop while a reasoning model thinks): the provider bills the prompt
    /// it received, so the request's prompt estimate is booked, as [`ChatStream::cut`] tells for a cut answer.
    pub async fn stream_with(
        &self,
        model: &str,
        request: ChatRequest,
        opening: &Opening,
    ) -> Result<ChatStream, GatewayError> {
        let routes = self.routes(model)?;
        let span = tracing::info_span!(
            "gen_ai.chat",
            "gen_ai.operation.name" = "chat",
            "gen_ai.request.model" = model,
            "gen_ai.request.max_tokens" = request.max_tokens.unwrap_or(self.inner.max_tokens),
            "gen_ai.system" = field::Empty,
            "gen_ai.response.model" = field::Empty,
            "gen_ai.usage.input_tokens" = field::Empty,
            "gen_ai.usage.output_tokens" = field::Empty,
            "gen_ai.response.finish_reasons" = field::Empty,
            "auren.cost_usd" = field::Empty,
            "auren.failed_attempts" = field::Empty,
        );
        let result = self
            .route_call(model, routes, request, span.clone(), opening)
            .instrument(span.clone())
            .await;
        match &result {
            Ok(stream) => {
                span.record("auren.failed_attempts", stream.failed_attempts.len());
            }
            Err(error) => tracing::warn!(parent: &span, %error, "call failed"),
        }
        result
    }

    /// Tries the routes in order, each with its retries, until one gives a first token.
    async fn route_call(
        &self,
        model: &str,
        routes: Vec<Route>,
        request: ChatRequest,
        span: Span,
        opening: &Opening,
    ) -> Result<ChatStream, GatewayError> {
        let mut call = Call {
            max_tokens: request.max_tokens.unwrap_or(self.inner.max_tokens),
            request,
            prompt_bound: None,
            attempts: Vec::new(),
        };
        for route in routes {
            let Some(target) = self.target(route) else {
                continue;
            };
            if let Some(answer) = self.try_route(&target, &mut call, opening).await {
                return Ok(self.stream_answer(target, call, answer, span));
            }
        }
        Err(call.into_error(model))
    }

    /// What a call needs to know of `route`; `None` when its provider is not configured.
    fn target(&self, route: Route) -> Option<Target> {
        let inner = &self.inner;
        let slot = inner.providers.get(&route.provider).cloned()?;
        let breaker = inner.breakers.get(&route.provider, &route.model);
        let price = self.price_for(&slot, &route.model);
        let budgeted = price.is_some()
            && (inner.budget.limits().daily.is_some() || inner.budget.limits().monthly.is_some());
        Some(Target {
            route,
            slot,
            breaker,
            price,
            budgeted,
        })
    }

    /// Tries one route, retrying transient failures, until a first token arrives (`Some`) or the route is
    /// given up (`None`, with every failure listed in `call`).
    async fn try_route(&self, target: &Target, call: &mut Call, opening: &Opening) -> Option<Answer> {
        for try_number in 1..=self.inner.retry.max_retries.saturating_add(1) {
            let now = self.inner.clock.now();
            let admitted = self
                .admit(target, call, now)
                .and_then(|bound| self.reserve_budget(target, bound, call.max_tokens, now));
            let reservation = match admitted {
                Ok(reservation) => reservation,
                Err(failure) => {
                    call.fail(&target.route, try_number, failure);
                    return None;
                }
            };
            let waiting = WaitingTry {
                inner: &self.inner,
                target,
                request: &call.request,
                reservation: Some(reservation),
                opening,
            };
            let attempted = self.attempt(target, call, try_number).await;
            let reservation = waiting.end();
            let failure = match attempted {
                Ok(opened) => return Some(Answer { opened, reservation }),
                Err(failure) => failure,
            };
            let next = self.after_failure(target, try_number, &failure);
            drop(reservation);
            call.fail(&target.route, try_number, failure);
            let NextStep::Retry(delay) = next else {
                return None;
            };
            tokio::time::sleep(delay).await;
        }
        None
    }

    /// Lets one try through the route's circuit breaker and its provider's rate limit; returns the prompt
    /// bound the limit was charged with (0 when nothing needs an estimate).
    fn admit(&self, target: &Target, call: &mut Call, now: UnixMillis) -> Result<u64, AttemptFailure> {
        target.breaker.admit(now).map_err(AttemptFailure::BreakerOpen)?;
        let needs_estimate = target.budgeted || !target.slot.limiter.is_unlimited();
        let bound = call.prompt_bound(needs_estimate);
        if let Err(wait) = target
            .slot
            .limiter
            .try_acquire(bound + u64::from(call.max_tokens), now)
        {
            target.breaker.record(Outcome::Neutral, now);
            return Err(AttemptFailure::RateLimited(wait));
        }
        Ok(bound)
    }

    /// Reserves the most this try can cost (the prompt bound in, `max_tokens` out) against the budgets.
    fn reserve_budget(
        &self,
        target: &Target,
        prompt_bound: u64,
        max_tokens: u32,
        now: UnixMillis,
    ) -> Result<Reservation, AttemptFailure> {
        let worst = target
            .price
            .map_or(Usd::ZERO, |p| p.cost(prompt_bound, 0, u64::from(max_tokens)));
        self.inner.budget.reserve(worst, now).map_err(|refusal| {
            target.breaker.record(Outcome::Neutral, now);
            AttemptFailure::Budget(refusal)
        })
    }

    /// One attempt, in its own span: the provider's stream opened up to its first content event.
    async fn attempt(&self, target: &Target, call: &Call, try_number: u32) -> Result<Opened, AttemptFailure> {
        let attempt_span = tracing::info_span!(
            "gen_ai.attempt",
            "gen_ai.system" = target.slot.provider.system(),
            "gen_ai.request.model" = target.route.model.as_str(),
            "auren.provider" = target.route.provider.as_str(),
            "auren.try" = try_number,
            "error.type" = field::Empty,
        );
        let opened = self
            .open_first(&target.slot, &target.route.model, &call.request, call.max_tokens)
            .instrument(attempt_span.clone())
            .await;
        if let Err(failure) = &opened {
            attempt_span.record("error.type", failure.kind());
            tracing::info!(parent: &attempt_span, error = %failure, "attempt failed");
        }
        opened
    }

    /// Tells the breaker about a failed try, and decides what follows it: the same route again after a
    /// delay, or the next route.
    fn after_failure(&self, target: &Target, try_number: u32, failure: &AttemptFailure) -> NextStep {
        let retry = &self.inner.retry;
        let outcome = if failure.is_unreachable() {
            Outcome::Unreachable
        } else if failure.counts_for_breaker() {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        target.breaker.record(outcome, self.inner.clock.now());
        if failure.is_unreachable() || !failure.is_transient() || try_number > retry.max_retries {
            return NextStep::NextRoute;
        }
        match failure.retry_after() {
            Some(wait) if wait <= retry.max_retry_after => NextStep::Retry(wait),
            // Waiting that long would stall the caller: the next route may answer now.
            Some(_) => NextStep::NextRoute,
            None => NextStep::Retry(full_jitter(retry, try_number)),
        }
    }

    /// The answer of the route that gave a first token, streamed to the caller; it settles the budget and
    /// records usage when it ends.
    fn stream_answer(&self, target: Target, call: Call, answer: Answer, span: Span) -> ChatStream {
        span.record("gen_ai.system", target.slot.provider.system());
        span.record("gen_ai.response.model", target.route.model.as_str());
        let (events, buffered) = answer.opened;
        let untold = UntoldUsage::default();
        let flow = Flow {
            inner: Arc::clone(&self.inner),
            route: target.route.clone(),
            breaker: target.breaker,
            events,
            buffered,
            reservation: answer.reservation,
            price: target.price,
            request: call.request,
            output_text: String::new(),
            usage: None,
            untold: untold.clone(),
            finished: false,
            span,
        };
        ChatStream {
            route: target.route,
            failed_attempts: call.attempts,
            events: flow.into_stream(),
            untold,
        }
    }

    /// Opens the provider's stream and waits for its first content event, all within the first-token
    /// timeout. Events before it (usage) are kept.
    async fn open_first(
        &self,
        slot: &ProviderSlot,
        model: &str,
        request: &ChatRequest,
        max_tokens: u32,
    ) -> Result<Opened, AttemptFailure> {
        let limit = self.inner.timeouts.first_token;
        let first = async {
            let mut events = slot.provider.open(model, request, max_tokens).await?;
            let mut buffered = VecDeque::new();
            loop {
                match events.next().await {
                    Some(Ok(event)) => {
                        let content = !matches!(event, StreamEvent::Usage { .. });
                        buffered.push_back(event);
                        if content {
                            return Ok((events, buffered));
                        }
                    }
                    Some(Err(failure)) => return Err(failure),
                    None => {
                        return Err(AttemptFailure::Broken(
                            "the stream ended before any content".into(),
                        ));
                    }
                }
            }
        };
        tokio::time::timeout(limit, first)
            .await
            .unwrap_or(Err(AttemptFailure::FirstTokenTimeout(limit)))
    }
}

/// One route as a call sees it: its provider, breaker and price.
struct Target {
    route: Route,
    slot: Arc<ProviderSlot>,
    breaker: Arc<Breaker>,
    price: Option<ModelPrice>,
    /// A budget is set and this route's calls are priced, so each try reserves its worst cost.
    budgeted: bool,
}

/// What a call carries from route to route.
struct Call {
    request: ChatRequest,
    max_tokens: u32,
    /// The request's prompt token bound, counted once when first needed.
    prompt_bound: Option<u64>,
    attempts: Vec<Attempt>,
}

impl Call {
    fn prompt_bound(&mut self, needed: bool) -> u64 {
        if !needed {
            return 0;
        }
        *self
            .prompt_bound
            .get_or_insert_with(|| tokens::prompt_upper_bound(&self.request))
    }

    fn fail(&mut self, route: &Route, try_number: u32, failure: AttemptFailure) {
        self.attempts.push(Attempt {
            route: route.clone(),
            try_number,
            failure,
        });
    }

    /// The error of a call no route answered: a budget refusal when every try was refused by the budget.
    fn into_error(self, model: &str) -> GatewayError {
        let all_budget = !self.attempts.is_empty()
            && self
                .attempts
                .iter()
                .all(|a| matches!(a.failure, AttemptFailure::Budget(_)));
        if all_budget
            && let Some(AttemptFailure::Budget(refusal)) = self.attempts.first().map(|a| a.failure.clone())
        {
            return GatewayError::Budget(refusal);
        }
        GatewayError::AllProvidersFailed {
            model: model.to_owned(),
            attempts: self.attempts,
        }
    }
}

/// A provider's stream opened up to its first content event, and the events read so far.
type Opened = (EventStream, VecDeque<StreamEvent>);

/// A try that gave a first token, and the budget it holds.
struct Answer {
    opened: Opened,
    reservation: Option<Reservation>,
}

/// A try waiting for its first token. Dropped before [`WaitingTry::end`] (the caller dropped the call), it
/// books the request's prompt estimate with no output, as [`Flow`]'s drop books a cut answer: the provider
/// bills the prompt it received even when no token came back. A try dropped while still connecting is booked
/// too: the gateway cannot tell whether the request left, and counting it keeps the budget on the safe side.
struct WaitingTry<'a> {
    inner: &'a Inner,
    target: &'a Target,
    request: &'a ChatRequest,
    /// Taken by `end`; still here on drop means the try was abandoned.
    reservation: Option<Reservation>,
    opening: &'a Opening,
}

impl WaitingTry<'_> {
    /// The try ended (a first token or a failure): its reservation goes on with the call.
    fn end(mut self) -> Option<Reservation> {
        self.reservation.take()
    }
}

impl Drop for WaitingTry<'_> {
    fn drop(&mut self) {
        let Some(reservation) = self.reservation.take() else {
            return;
        };
        let now = self.inner.clock.now();
        let usage = Usage {
            input_tokens: tokens::estimate_prompt(self.request),
            cached_input_tokens: 0,
            output_tokens: 0,
            estimated: true,
        };
        let cost = self.target.price.map(|p| p.cost(usage.input_tokens, 0, 0));
        reservation.settle(cost.unwrap_or(Usd::ZERO), now);
        // Nothing came back, so the provider's health is unknown; Neutral also frees a half-open probe slot.
        self.target.breaker.record(Outcome::Neutral, now);
        let record = UsageRecord {
            at: now,
            provider: self.target.route.provider.clone(),
            model: self.target.route.model.clone(),
            conversation: self.request.conversation.clone(),
            input_tokens: usage.input_tokens,
            cached_input_tokens: 0,
            output_tokens: 0,
            estimated: true,
            cost,
        };
        let recording = spawn_record(Arc::clone(&self.inner.ledger), record);
        self.opening
            .untold
            .put(self.target.route.clone(), usage, recording);
    }
}

/// Writes a dropped call's usage row on the runtime, since `Drop` cannot await; `None` outside a runtime.
fn spawn_record(ledger: Arc<dyn UsageLedger>, record: UsageRecord) -> Option<tokio::task::JoinHandle<()>> {
    tokio::runtime::Handle::try_current().ok().map(|runtime| {
        runtime.spawn(async move {
            if let Err(error) = ledger.record(&record).await {
                tracing::error!(%error, "usage of an abandoned call was not recorded");
            }
        })
    })
}

/// Where [`Gateway::stream_with`] leaves the usage it booked for a call dropped before its first token.
#[derive(Clone, Debug, Default)]
pub struct Opening {
    untold: UntoldUsage,
}

/// A call dropped before its answer began: the route that was asked and the estimate the ledger booked.
#[derive(Clone, Debug, PartialEq)]
pub struct UnansweredCall {
    pub route: Route,
    pub usage: Usage,
}

impl Opening {
    /// What the ledger booked for the call if it was dropped while waiting for its first token; `None`
    /// when it was not (it answered, failed, or never reached a provider). The ledger has the row when this
    /// returns.
    pub async fn cut(self) -> Option<UnansweredCall> {
        let (route, usage) = self.untold.take().await?;
        Some(UnansweredCall { route, usage })
    }
}

/// Whether anyone answered a free model lookup at a provider's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The provider answered, whatever it said (a model, a 404, a refused key).
    Answered,
    /// No connection, or no answer within the lookup's timeout: an address that cannot answer a lookup
    /// will not answer a chat request either.
    NoAnswer,
}

impl Reach {
    /// What a lookup's result says of reaching the provider; `None` when it says nothing (the request was
    /// never sent, or the answer broke off).
    pub fn of_check(checked: &Result<ModelCheck, AttemptFailure>) -> Option<Self> {
        match checked {
            Ok(_) | Err(AttemptFailure::Status { .. } | AttemptFailure::Malformed(_)) => Some(Self::Answered),
            Err(failure) if failure.is_unreachable() => Some(Self::NoAnswer),
            Err(AttemptFailure::FirstTokenTimeout(_)) => Some(Self::NoAnswer),
            Err(_) => None,
        }
    }
}

/// What follows a failed try.
enum NextStep {
    Retry(Duration),
    NextRoute,
}

/// Full jitter: uniform in [0, min(max, initial·2^(n-1))].
fn full_jitter(policy: &RetryPolicy, try_number: u32) -> Duration {
    let exp = policy
        .initial_backoff
        .saturating_mul(1_u32 << try_number.saturating_sub(1).min(20));
    let cap = exp.min(policy.max_backoff).as_micros() as u64;
    if cap == 0 {
        return Duration::ZERO;
    }
    // A fresh std RandomState is randomly keyed per instance: enough randomness to spread retries apart.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_micros(random % (cap + 1))
}

/// A streamed answer. Yields [`StreamEvent`]s; ends after `Finish`, or with one error.
pub struct ChatStream {
    route: Route,
    failed_attempts: Vec<Attempt>,
    events: Pin<Box<dyn Stream<Item = Result<StreamEvent, GatewayError>> + Send>>,
    untold: UntoldUsage,
}

/// Where a stream leaves the usage it accounted without yielding a [`StreamEvent::Usage`]: a caller that
/// stopped reading (the `Drop` estimate) or a stream that broke. Shared by the stream and its flow.
#[derive(Clone, Default)]
struct UntoldUsage(Arc<std::sync::Mutex<Option<Untold>>>);

impl std::fmt::Debug for UntoldUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntoldUsage").finish_non_exhaustive()
    }
}

struct Untold {
    route: Route,
    usage: Usage,
    /// The ledger write of a dropped flow, spawned because `Drop` cannot await.
    recording: Option<tokio::task::JoinHandle<()>>,
}

impl UntoldUsage {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Untold>> {
        // A poisoned lock still holds a whole value: it is only ever replaced in one assignment.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn put(&self, route: Route, usage: Usage, recording: Option<tokio::task::JoinHandle<()>>) {
        *self.lock() = Some(Untold {
            route,
            usage,
            recording,
        });
    }

    /// The usage left here, once its ledger row is written.
    async fn take(&self) -> Option<(Route, Usage)> {
        let Untold {
            route,
            usage,
            recording,
        } = self.lock().take()?;
        if let Some(recording) = recording {
            // A panicked write was logged by the runtime; the usage is still the caller's to count.
            let _ = recording.await;
        }
        Some((route, usage))
    }
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("route", &self.route)
            .field("failed_attempts", &self.failed_attempts)
            .finish()
    }
}

impl ChatStream {
    /// The provider and model that is answering.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Ends the stream here and returns the usage the ledger holds for it that no `Usage` event told: the
    /// estimate booked for an answer cut off mid-stream (text streamed so far, the request's prompt), or
    /// that of a stream that broke. `None` when the stream finished and yielded its usage. The ledger has
    /// the row when this returns, so the caller's total and the budget's agree.
    pub async fn cut(self) -> Option<Usage> {
        let untold = self.untold.clone();
        drop(self);
        untold.take().await.map(|(_, usage)| usage)
    }

    /// The attempts that failed before this route answered.
    pub fn failed_attempts(&self) -> &[Attempt] {
        &self.failed_attempts
    }

    /// Reads the whole answer.
    pub async fn collect_response(mut self) -> Result<ChatResponse, GatewayError> {
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        let mut usage = Usage::default();
        let mut finish_reason = FinishReason::Stop;
        while let Some(event) = self.events.next().await {
            match event? {
                StreamEvent::TextDelta { text: t } => text.push_str(&t),
                StreamEvent::ToolCall { call, .. } => tool_calls.push(call),
                StreamEvent::Usage { usage: u } => usage = u,
                StreamEvent::Finish { reason } => finish_reason = reason,
                StreamEvent::ToolCallDelta { .. } => {}
            }
        }
        Ok(ChatResponse {
            text,
            tool_calls,
            usage,
            finish_reason,
            provider: self.route.provider,
            model: self.route.model,
        })
    }
}

impl Stream for ChatStream {
    type Item = Result<StreamEvent, GatewayError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.as_mut().poll_next(cx)
    }
}

/// The state of an answer being streamed to the caller.
struct Flow {
    inner: Arc<Inner>,
    route: Route,
    breaker: Arc<Breaker>,
    events: EventStream,
    buffered: VecDeque<StreamEvent>,
    reservation: Option<Reservation>,
    price: Option<ModelPrice>,
    request: ChatRequest,
    /// What the caller received, for a token estimate when the provider sends no usage.
    output_text: String,
    usage: Option<Usage>,
    /// Where the usage goes that is accounted without being yielded.
    untold: UntoldUsage,
    finished: bool,
    span: Span,
}

enum Step {
    Yield(StreamEvent),
    Skip,
    Fail(AttemptFailure),
}

impl Flow {
    fn into_stream(self) -> Pin<Box<dyn Stream<Item = Result<StreamEvent, GatewayError>> + Send>> {
        Box::pin(futures::stream::unfold(Some(self), |state| async move {
            let mut flow = state?;
            loop {
                let next = match flow.buffered.pop_front() {
                    Some(event) => Some(Ok(event)),
                    None => {
                        let idle = flow.inner.timeouts.idle;
                        match tokio::time::timeout(idle, flow.events.next()).await {
                            Ok(item) => item,
                            Err(_) => Some(Err(AttemptFailure::IdleTimeout(idle))),
                        }
                    }
                };
                let step = match next {
                    Some(Ok(event)) => flow.observe(event),
                    Some(Err(failure)) => Step::Fail(failure),
                    None => Step::Fail(AttemptFailure::Broken("the stream ended without a finish".into())),
                };
                match step {
                    Step::Skip => {}
                    Step::Yield(StreamEvent::Finish { reason }) if flow.finished => {
                        return Some((Ok(StreamEvent::Finish { reason }), None));
                    }
                    Step::Yield(StreamEvent::Finish { reason }) => {
                        let usage = flow.finish(Outcome::Success, Some(&reason)).await;
                        flow.buffered.push_back(StreamEvent::Finish { reason });
                        return Some((Ok(StreamEvent::Usage { usage }), Some(flow)));
                    }
                    Step::Yield(event) => return Some((Ok(event), Some(flow))),
                    Step::Fail(failure) => {
                        let outcome = if failure.counts_for_breaker() {
                            Outcome::Failure
                        } else {
                            Outcome::Neutral
                        };
                        let usage = flow.finish(outcome, None).await;
                        flow.untold.put(flow.route.clone(), usage, None);
                        let error = GatewayError::StreamInterrupted {
                            route: flow.route.clone(),
                            failure,
                        };
                        tracing::warn!(parent: &flow.span, %error, "stream interrupted");
                        return Some((Err(error), None));
                    }
                }
            }
        }))
    }

    fn observe(&mut self, event: StreamEvent) -> Step {
        match event {
            StreamEvent::Usage { usage } => {
                self.usage = Some(usage);
                Step::Skip
            }
            StreamEvent::TextDelta { ref text } => {
                self.output_text.push_str(text);
                Step::Yield(event)
            }
            StreamEvent::ToolCallDelta {
                ref name,
                ref arguments,
                ..
            } => {
                if let Some(name) = name {
                    self.output_text.push_str(name);
                }
                self.output_text.push_str(arguments);
                Step::Yield(event)
            }
            event @ (StreamEvent::ToolCall { .. } | StreamEvent::Finish { .. }) => Step::Yield(event),
        }
    }

    /// The usage to account: the provider's, or a tokenizer estimate.
    fn final_usage(&self) -> Usage {
        self.usage.unwrap_or_else(|| Usage {
            input_tokens: tokens::estimate_prompt(&self.request),
            cached_input_tokens: 0,
            output_tokens: tokens::count_text(&self.output_text),
            estimated: true,
        })
    }

    /// Settles the budget, tells the breaker, records the span fields, and returns the record to persist.
    fn settle(&mut self, outcome: Outcome, reason: Option<&FinishReason>) -> (Usage, UsageRecord) {
        self.finished = true;
        let now = self.inner.clock.now();
        let usage = self.final_usage();
        let cost = self
            .price
            .map(|p| p.cost(usage.input_tokens, usage.cached_input_tokens, usage.output_tokens));
        if let Some(reservation) = self.reservation.take() {
            reservation.settle(cost.unwrap_or(Usd::ZERO), now);
        }
        self.breaker.record(outcome, now);
        self.span.record("gen_ai.usage.input_tokens", usage.input_tokens);
        self.span
            .record("gen_ai.usage.output_tokens", usage.output_tokens);
        if let Some(reason) = reason {
            self.span
                .record("gen_ai.response.finish_reasons", reason.as_str());
        }
        if let Some(cost) = cost {
            self.span.record("auren.cost_usd", cost.as_dollars());
        }
        let record = UsageRecord {
            at: now,
            provider: self.route.provider.clone(),
            model: self.route.model.clone(),
            conversation: self.request.conversation.clone(),
            input_tokens: usage.input_tokens,
            cached_input_tokens: usage.cached_input_tokens,
            output_tokens: usage.output_tokens,
            estimated: usage.estimated,
            cost,
        };
        (usage, record)
    }

    async fn finish(&mut self, outcome: Outcome, reason: Option<&FinishReason>) -> Usage {
        let (usage, record) = self.settle(outcome, reason);
        if let Err(error) = self.inner.ledger.record(&record).await {
            tracing::error!(parent: &self.span, %error, "usage was not recorded");
        }
        usage
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // The caller stopped reading: the provider still bills what it generated, so account an estimate.
        // The breaker hears success: the provider was answering.
        let (usage, record) = self.settle(Outcome::Success, None);
        let recording = spawn_record(Arc::clone(&self.inner.ledger), record);
        self.untold.put(self.route.clone(), usage, recording);
    }
}

/// A reqwest client builder with TLS ready: reqwest is built without a crypto provider of its own (see the
/// workspace Cargo.toml), so ring is installed as the process' provider first (once; one installed earlier
/// stays).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
