//! The chat window's side of the façade: one turn at a time per request, its `AgentEvent`s converted to
//! `ChatEventDto`s with text deltas batched every ~25 ms (one repaint per frame at most, far fewer IPC
//! messages than tokens; a turn's first delta goes at once), cancel by turn id with the count of what the
//! window drew (the turn keeps only that), and the stored
//! conversations (list, messages of a branch, rename, delete, export, search) and the status line — each
//! provider untested, up or down from a cached probe and the gateway's breakers (`probe_providers`). The
//! coach is built per turn over the current store; the gateway (its breakers, budget and rate limits) is
//! started on first use from `gateway.toml` in the config folder — the same file the CLI uses — and again
//! after the AI settings change it (`ai_settings.rs`); with none the offline analyst answers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use auren_agents::ledger::SqliteLedger;
use auren_agents::turn::{Seen, Stopping, TurnStop};
use auren_agents::{AgentEvent, Coach, CoachConfig, Placement, Receipt, Source, Toolbox};
use auren_gateway::{Gateway, GatewayConfig, SecretStore, SystemClock, UsageLedger};
use auren_store::conversations::{ConversationId, Grounding, MessageId, MessageRow, Role};
use auren_store::{RecordingHere, Store};
use tokio::sync::{Mutex, MutexGuard, mpsc};

use crate::ai_settings_dto::ConnectionOutcomeDto;
use crate::chat_dto::*;
use crate::{Desktop, DesktopError};

/// Where a turn's events go (the shell wraps a Tauri Channel); `false` means the window is gone.
pub type ChatSink = Box<dyn FnMut(ChatEventDto) -> bool + Send>;

/// The least time between two text messages to the window: within one or two frames at 60 Hz.
const TEXT_BATCH: Duration = Duration::from_millis(25);
/// How long a provider's probe speaks for it: the status asks it again after this.
const PROBE_FRESH: Duration = Duration::from_secs(30);

/// The gateway, or why there is none; empty until first used and again after the AI settings change.
/// Turns hold their own clone of the gateway, so emptying the slot never disturbs a running one.
/// Beside it, what the last probe of each provider said.
#[derive(Default)]
pub(crate) struct GatewaySlot {
    started: Mutex<Option<Result<Started, String>>>,
    probes: Arc<Probes>,
}

impl GatewaySlot {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Held while the gateway starts, and by the AI settings while they rewrite `gateway.toml`.
    pub(crate) async fn lock(&self) -> MutexGuard<'_, Option<Result<Started, String>>> {
        self.started.lock().await
    }

    /// Empties the slot after the settings changed: the next use starts a gateway from the new file, and
    /// no provider keeps a probe of its old address, key or models.
    pub(crate) fn reset(&self, slot: &mut Option<Result<Started, String>>) {
        *slot = None;
        self.probes.forget();
    }
}

/// The last probe of each provider (a free model lookup, `ai_settings::check`), by provider name.
#[derive(Default)]
pub(crate) struct Probes {
    /// Held while probing: a second caller waits, then finds the first one's answers fresh.
    probing: Mutex<()>,
    book: std::sync::Mutex<ProbeBook>,
}

#[derive(Default)]
struct ProbeBook {
    /// Moves on when the settings change or a turn fails: a probe started before is not recorded (its
    /// answer may predate the failure).
    generation: u64,
    by_provider: HashMap<String, Probe>,
}

struct Probe {
    health: ProviderHealthDto,
    fresh_until: std::time::Instant,
}

impl Probes {
    /// The book, poisoned or not: it holds only finished probes, each whole.
    fn book(&self) -> std::sync::MutexGuard<'_, ProbeBook> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn health(&self, provider: &str) -> Option<ProviderHealthDto> {
        self.book().by_provider.get(provider).map(|p| p.health.clone())
    }

    fn is_fresh(&self, provider: &str, now: std::time::Instant) -> bool {
        self.book()
            .by_provider
            .get(provider)
            .is_some_and(|p| now < p.fresh_until)
    }

    fn record(&self, generation: u64, provider: String, health: ProviderHealthDto) {
        let mut book = self.book();
        if book.generation == generation {
            let fresh_until = std::time::Instant::now() + PROBE_FRESH;
            book.by_provider.insert(provider, Probe { health, fresh_until });
        }
    }

    /// After a turn failed: the next probe asks every provider again, whatever it said last, and one under
    /// way now is not recorded (B8: it would say fresh what may predate the failure).
    fn expire(&self) {
        let now = std::time::Instant::now();
        let mut book = self.book();
        book.generation += 1;
        for probe in book.by_provider.values_mut() {
            probe.fresh_until = now;
        }
    }

    fn forget(&self) {
        let mut book = self.book();
        book.generation += 1;
        book.by_provider.clear();
    }
}

/// A started gateway and the configuration it was started from (routes, providers, budgets).
#[derive(Clone)]
pub(crate) struct Started {
    gateway: Gateway,
    config: GatewayConfig,
}

/// Running turns by id.
#[derive(Default)]
pub(crate) struct Turns {
    next: std::sync::atomic::AtomicU32,
    running: std::sync::Mutex<HashMap<u32, TurnStop>>,
}

impl Turns {
    /// The running turns, poisoned or not: the map must stay up to date (a turn missing from it could not
    /// be stopped) and keep saying which turns run (a panic elsewhere must not make a running turn's Stop
    /// answer AlreadyFinished: the window would draw an end the turn then contradicts).
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<u32, TurnStop>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a coach is made of besides the store: the desktop's gateway slot, provider keys, settings and live
/// slot. Shared with the sync loop, so its timer rounds write a pulled alert's message with the same coach
/// as "Sync now" — the specialist when a provider and budget allow — not the offline template.
#[derive(Clone)]
pub(crate) struct CoachParts {
    pub(crate) gateway: Arc<GatewaySlot>,
    pub(crate) keys: Arc<dyn crate::ai_settings::ProviderKeys>,
    pub(crate) settings: Arc<crate::settings_sync::SettingsCell>,
    pub(crate) live: crate::live::Slot,
    pub(crate) gateway_path: PathBuf,
}

impl CoachParts {
    /// The gateway in the slot, started from `gateway_path` when the slot is empty.
    pub(crate) async fn gateway(&self, store: Store) -> Result<Started, String> {
        let mut slot = self.gateway.lock().await;
        if let Some(started) = slot.as_ref() {
            return started.clone();
        }
        let path = self.gateway_path.clone();
        // A missing file is not remembered: one written later (by the CLI, by hand) is used at once.
        let exists = path.exists();
        let secrets: Arc<dyn SecretStore> = self.keys.clone();
        let started = async move {
            if !exists {
                return Err(format!(
                    "no AI provider is set up ({} does not exist)",
                    path.display()
                ));
            }
            let config = GatewayConfig::load(&path).map_err(|e| e.to_string())?;
            let ledger: Arc<dyn UsageLedger> = Arc::new(SqliteLedger::new(store));
            let gateway = Gateway::start(config.clone(), secrets, ledger, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            Ok(Started { gateway, config })
        }
        .await;
        if exists {
            *slot = Some(started.clone());
        }
        started
    }

    /// The coach over `store`: the gateway's default model when one starts, the offline analyst otherwise.
    pub(crate) async fn coach(&self, store: Store) -> Coach {
        let started = self.gateway(store.clone()).await.ok();
        self.coach_over(store, started, TurnModel::Default).await
    }

    /// The coach over `store` asking `model` of `started` (none: the offline analyst).
    async fn coach_over(&self, store: Store, started: Option<Started>, model: TurnModel) -> Coach {
        // The tools say of the session this app records what History says: recording, however long its
        // strap is silent.
        let here = match self.live.lock().await.as_ref() {
            Some(crate::live::Live::Recording(running)) => {
                RecordingHere::Session(auren_store::SessionId(running.info.session_id))
            }
            _ => RecordingHere::Nothing,
        };
        let toolbox = Toolbox::new(store, Arc::new(SystemClock)).with_recording_here(here);
        // The person's setting (Settings → Coach memory): proposals applied at once, or waiting for a yes.
        let memory_apply = self.settings.get().memory_apply.into();
        match started {
            Some(Started { gateway, config }) => {
                let model = match model {
                    TurnModel::Default => config.default_model.clone().unwrap_or_default(),
                    TurnModel::Alias(alias) => alias,
                };
                Coach::new(
                    Some(gateway),
                    toolbox,
                    CoachConfig::for_gateway(&config, model, memory_apply),
                )
            }
            None => Coach::new(
                None,
                toolbox,
                CoachConfig {
                    memory_apply,
                    ..CoachConfig::default()
                },
            ),
        }
    }
}

/// Which model a turn asks.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TurnModel {
    /// `gateway.toml`'s default model.
    Default,
    /// An alias of `gateway.toml` chosen for this turn only (a budget refusal's local model).
    Alias(String),
}

impl Desktop {
    pub(crate) fn gateway_path(&self) -> PathBuf {
        std::env::var_os("AUREN_GATEWAY_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.folders.config_dir.join("gateway.toml"))
    }

    pub(crate) fn coach_parts(&self) -> CoachParts {
        CoachParts {
            gateway: Arc::clone(&self.gateway),
            keys: Arc::clone(&self.keys),
            settings: Arc::clone(&self.settings),
            live: Arc::clone(&self.live),
            gateway_path: self.gateway_path(),
        }
    }

    async fn gateway(&self) -> Result<Started, String> {
        self.coach_parts().gateway(self.store().await).await
    }

    pub(crate) async fn coach(&self) -> Coach {
        self.coach_parts().coach(self.store().await).await
    }

    /// The coach a turn asks: the default model's, or `alias`'s for this turn alone. The alias must be one
    /// of `gateway.toml`'s; nothing is written there (the saved default model stays what it was).
    async fn turn_coach(&self, alias: Option<String>) -> Result<Coach, DesktopError> {
        let Some(alias) = alias else {
            return Ok(self.coach().await);
        };
        let store = self.store().await;
        let parts = self.coach_parts();
        let started = parts
            .gateway(store.clone())
            .await
            .map_err(|reason| DesktopError::InvalidInput(format!("{alias} cannot answer: {reason}")))?;
        if !started.config.aliases.contains_key(&alias) {
            return Err(DesktopError::InvalidInput(format!(
                "gateway.toml has no alias named {alias:?}"
            )));
        }
        Ok(parts
            .coach_over(store, Some(started), TurnModel::Alias(alias))
            .await)
    }

    /// Starts a turn; its events go to `sink` until `done` or `error`.
    pub async fn chat_send(
        &self,
        request: ChatSendDto,
        sink: ChatSink,
    ) -> Result<TurnStartedDto, DesktopError> {
        let question = request.text.trim().to_owned();
        if question.is_empty() {
            return Err(DesktopError::InvalidInput("the message is empty".into()));
        }
        // Before anything is stored: a turn on an alias that cannot answer starts no conversation.
        let coach = self.turn_coach(request.model).await?;
        let store = self.store().await;
        let conversations = store.conversations();
        let conversation = match request.conversation {
            Some(id) => conversations.get(ConversationId(id)).await?.id,
            None => {
                let title: String = question.chars().take(60).collect();
                conversations.create(&title, auren_clock::now_unix_ms()).await?
            }
        };
        let placement = match request.replaces {
            None => Placement::Latest,
            Some(id) => {
                let replaced = conversations.message(MessageId(id)).await?;
                if replaced.conversation != conversation || replaced.role != Role::User {
                    return Err(DesktopError::InvalidInput(format!(
                        "message {id} is not a question in conversation {}",
                        conversation.0
                    )));
                }
                Placement::After(replaced.parent)
            }
        };
        // The app shutting down stops the turn too, as one nobody saw: it keeps what streamed.
        let stop = TurnStop::new(self.shutdown.child_token());
        let turn = self.turns.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.turns.running().insert(turn, stop.clone());
        let (events, received) = mpsc::channel(256);
        let probes = Arc::clone(&self.gateway.probes);
        let forward = tokio::spawn(forward(received, sink, store, probes, conversation.0));
        let turns = Arc::clone(&self.turns);
        // A turn that fails outright sends no `done`: the window hears `turn_failed` instead of waiting.
        let failure = events.clone();
        tokio::spawn(async move {
            let outcome = coach
                .ask_at(Some(conversation), placement, &question, events, stop)
                .await;
            if let Err(error) = outcome {
                // The causes too ("could not store the answer: … database is locked"), each once.
                let error = auren_sync::causes(&error);
                tracing::error!(%error, "chat turn failed");
                let message = format!("the turn could not be run or stored: {error}");
                let _ = failure
                    .send(AgentEvent::Error {
                        code: "turn_failed".into(),
                        message,
                    })
                    .await;
            }
            drop(failure);
            let _ = forward.await;
            turns.running().remove(&turn);
        });
        Ok(TurnStartedDto {
            turn,
            conversation: conversation.0,
        })
    }

    /// The open store the chat's turns read and write. Tests reach its connections through it to put
    /// another writer between a stored turn's statements.
    pub async fn chat_store(&self) -> Store {
        self.store().await
    }

    /// Stops a running turn: the upstream request ends at once. `shown_chars` is how much of the turn's
    /// text the window had drawn, in Unicode code points (see [`Seen::Chars`]): the stored answer is cut
    /// there, so text that streamed but was never drawn does not appear after a reload; the usage stays
    /// all that streamed (it was paid). Without a count, everything that streamed is kept. A window that
    /// drew none of the model's text (only the referral, or nothing) gets the offline analyst's answer,
    /// stored whole, as for a Stop before the first word. A Stop that
    /// comes after the turn's last check (it is storing its whole answer, or has ended) is refused:
    /// [`ChatCancelDto::AlreadyFinished`], and the window draws the `done` that follows as usual.
    pub fn chat_cancel(&self, turn: u32, shown_chars: Option<u32>) -> Result<ChatCancelDto, DesktopError> {
        let stop = self.turns.running().get(&turn).cloned();
        let Some(stop) = stop else {
            return Ok(ChatCancelDto::AlreadyFinished);
        };
        let seen = shown_chars.map_or(Seen::AllStreamed, |n| {
            Seen::Chars(usize::try_from(n).unwrap_or(usize::MAX))
        });
        Ok(match stop.stop(seen) {
            Stopping::Stopped => ChatCancelDto::Stopped,
            Stopping::AlreadyFinished => ChatCancelDto::AlreadyFinished,
        })
    }

    pub async fn conversations(&self) -> Result<Vec<ConversationDto>, DesktopError> {
        let rows = self.store().await.conversations().list().await?;
        Ok(rows
            .into_iter()
            .map(|row| ConversationDto {
                id: row.id.0,
                title: row.title,
                updated_at_ms: row.updated_at as f64,
                messages: row.message_count,
                spent: ConversationUsageDto {
                    input_tokens: u32::try_from(row.spent.tokens_in).unwrap_or(u32::MAX),
                    output_tokens: u32::try_from(row.spent.tokens_out).unwrap_or(u32::MAX),
                    cost_usd: row.spent.cost_usd,
                    estimated: row.spent.estimated,
                    model_calls: u32::try_from(row.spent.model_calls).unwrap_or(u32::MAX),
                },
            })
            .collect())
    }

    /// The messages from the root through `leaf` down to the newest message below it (the latest branch when
    /// `None`), with steps, claims and branches.
    pub async fn conversation_messages(
        &self,
        conversation: i64,
        leaf: Option<i64>,
    ) -> Result<Vec<MessageDto>, DesktopError> {
        let store = self.store().await;
        let conversations = store.conversations();
        let path = match leaf {
            // The branch flipped to (a question) shows with the answers below it.
            Some(leaf) => conversations.latest_path_through(MessageId(leaf)).await?,
            None => conversations.latest_path(ConversationId(conversation)).await?,
        };
        let mut out = Vec::with_capacity(path.len());
        for row in path {
            out.push(message_dto(&store, row).await?);
        }
        Ok(out)
    }

    pub async fn rename_conversation(&self, conversation: i64, title: String) -> Result<(), DesktopError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(DesktopError::InvalidInput("a conversation needs a title".into()));
        }
        let store = self.store().await;
        store
            .conversations()
            .rename(ConversationId(conversation), title, auren_clock::now_unix_ms())
            .await?;
        Ok(())
    }

    pub async fn delete_conversation(&self, conversation: i64) -> Result<(), DesktopError> {
        self.store()
            .await
            .conversations()
            .delete(ConversationId(conversation))
            .await?;
        Ok(())
    }

    /// Writes the conversation to the export folder; returns the file's path.
    pub async fn export_conversation(
        &self,
        conversation: i64,
        format: ConversationFormatDto,
    ) -> Result<String, DesktopError> {
        let store = self.store().await;
        let export = store
            .conversations()
            .export(ConversationId(conversation), None)
            .await?;
        let (text, ext) = match format {
            ConversationFormatDto::Markdown => (export.to_markdown(), "md"),
            ConversationFormatDto::Json => (
                serde_json::to_string_pretty(&export.to_json()).unwrap_or_default(),
                "json",
            ),
        };
        let dir = self.export_dir();
        std::fs::create_dir_all(&dir).map_err(|source| DesktopError::Io {
            what: "creating",
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("conversation-{conversation}.{ext}"));
        std::fs::write(&path, text).map_err(|source| DesktopError::Io {
            what: "writing",
            path: path.clone(),
            source,
        })?;
        Ok(path.display().to_string())
    }

    pub async fn search_messages(&self, query: String) -> Result<Vec<SearchHitDto>, DesktopError> {
        let hits = self.store().await.conversations().search(&query, 50).await?;
        Ok(hits
            .into_iter()
            .map(|h| SearchHitDto {
                conversation: h.conversation.0,
                message: h.message.0,
                title: h.title,
                snippet: h.snippet,
            })
            .collect())
    }

    pub async fn chat_status(&self) -> Result<ChatStatusDto, DesktopError> {
        match self.gateway().await {
            Err(reason) => Ok(ChatStatusDto {
                providers: Vec::new(),
                day_left_usd: None,
                month_left_usd: None,
                model: String::new(),
                local_model: false,
                offline_reason: Some(reason),
            }),
            Ok(started) => Ok(status_of(&started, &self.gateway.probes)),
        }
    }

    /// Probes each provider whose last probe is older than [`PROBE_FRESH`] (or a failed turn made stale) —
    /// a model lookup, which costs nothing and books nothing, all at once, local ones too — and returns the
    /// status with what they said. The window calls it in the background when the chat opens and after each
    /// turn; the status itself never waits for a provider.
    pub async fn probe_providers(&self) -> Result<ChatStatusDto, DesktopError> {
        let Ok(started) = self.gateway().await else {
            return self.chat_status().await;
        };
        let probes = Arc::clone(&self.gateway.probes);
        let probing = probes.probing.lock().await;
        let generation = probes.book().generation;
        let now = std::time::Instant::now();
        let spent = budget_spent(&started);
        let mut running = tokio::task::JoinSet::new();
        for provider in &started.config.providers {
            // A provider no alias routes to has no model to ask for: it stays untested.
            let Some(model) = crate::ai_settings::models_of(&started.config, &provider.name)
                .into_iter()
                .next()
            else {
                continue;
            };
            if probes.is_fresh(&provider.name, now) {
                continue;
            }
            // With the budget spent, a priced provider is not asked (the chat cannot use it): it keeps its
            // last state.
            let route = auren_gateway::Route {
                provider: provider.name.clone(),
                model: model.clone(),
            };
            if spent && started.gateway.price(&route).is_some() {
                continue;
            }
            let (config, provider) = (started.config.clone(), provider.clone());
            let secrets: Arc<dyn SecretStore> = self.keys.clone();
            running.spawn(async move {
                let checked = crate::ai_settings::check(secrets, &config, &provider, model).await;
                (route, checked)
            });
        }
        while let Some(done) = running.join_next().await {
            match done {
                Ok((route, (test, reach))) => {
                    // The chat's gateway hears what the lookup found: an address that answered no lookup
                    // is skipped by the next turn at once (its offline answer comes without a connect wait).
                    if let Some(reach) = reach {
                        started.gateway.record_reach(&route, reach);
                    }
                    probes.record(
                        generation,
                        test.provider,
                        health_of(test.outcome, test.message, test.latency_ms),
                    )
                }
                Err(error) => tracing::warn!(%error, "a provider probe did not finish"),
            }
        }
        drop(probing);
        Ok(status_of(&started, &probes))
    }
}

/// What is left of today's and this month's budgets, in picodollars (none below 0); `None` for no limit.
fn budget_left(Started { gateway, config }: &Started) -> (Option<i64>, Option<i64>) {
    let (day, month) = gateway.spent();
    let left = |limit: Option<auren_gateway::Usd>, spent: auren_gateway::Usd| {
        limit.map(|l| (l.picodollars - spent.picodollars).max(0))
    };
    (left(config.budget.daily, day), left(config.budget.monthly, month))
}

/// Whether today's or this month's budget is spent.
fn budget_spent(started: &Started) -> bool {
    let (day, month) = budget_left(started);
    day == Some(0) || month == Some(0)
}

/// What a probe says of its provider.
fn health_of(outcome: ConnectionOutcomeDto, message: String, latency_ms: u32) -> ProviderHealthDto {
    match outcome {
        ConnectionOutcomeDto::Ok => ProviderHealthDto::Up { latency_ms },
        _ => ProviderHealthDto::Down { reason: message },
    }
}

/// A provider's health: down while the gateway's breaker of one of its routes is open (real turns failed
/// on it since the last probe), else what its last probe said, else untested.
fn provider_health(
    gateway: &Gateway,
    config: &GatewayConfig,
    provider: &str,
    probes: &Probes,
    now: auren_clock::UnixMillis,
) -> ProviderHealthDto {
    let open = crate::ai_settings::models_of(config, provider)
        .into_iter()
        .find_map(|model| match gateway.breaker(provider, &model).state(now) {
            auren_gateway::breaker::BreakerState::Open { until } => Some((model, until)),
            _ => None,
        });
    let probed = probes.health(provider);
    if let Some((model, until)) = open {
        let seconds = ((until.0 - now.0).max(0) + 999) / 1000;
        // A probe that found nobody at the address opens the breaker too (the next turn skips it): then its
        // reason is the one to show, not "failed repeatedly" of calls that were never made.
        let why = match probed {
            Some(ProviderHealthDto::Down { reason }) => reason,
            _ => format!("{model} failed repeatedly"),
        };
        return ProviderHealthDto::Down {
            reason: format!("{why}; the gateway tries it again in {seconds} s"),
        };
    }
    probed.unwrap_or(ProviderHealthDto::Untested)
}

fn status_of(started: &Started, probes: &Probes) -> ChatStatusDto {
    let Started { gateway, config } = started;
    let model = config.default_model.clone().unwrap_or_default();
    let now = auren_clock::UnixMillis::now();
    let routes = gateway.routes(&model).unwrap_or_default();
    let providers = config
        .providers
        .iter()
        .map(|p| ProviderStatusDto {
            name: p.name.clone(),
            health: provider_health(gateway, config, &p.name, probes, now),
            local: is_local(&p.base_url) && unbilled(gateway, config, &p.name),
        })
        .collect();
    // Local means free: a server on this machine whose calls the gateway does not bill. An OpenAI-kind
    // provider on loopback (a proxy, the test fake) is still priced by its model, so its meter shows dollars.
    let local_model = routes.first().is_some_and(|r| {
        gateway.price(r).is_none()
            && config
                .providers
                .iter()
                .any(|p| p.name == r.provider && is_local(&p.base_url))
    });
    let (day_left, month_left) = budget_left(started);
    let usd = |picodollars: i64| picodollars as f64 / 1e12;
    ChatStatusDto {
        providers,
        day_left_usd: day_left.map(usd),
        month_left_usd: month_left.map(usd),
        model,
        local_model,
        offline_reason: None,
    }
}

/// Whether the gateway bills none of the models an alias routes to on `provider`: a server on loopback can
/// be a proxy to a paid API (or the test fake) whose models are priced, and that is no local model to offer
/// when the budget refuses.
fn unbilled(gateway: &Gateway, config: &GatewayConfig, provider: &str) -> bool {
    crate::ai_settings::models_of(config, provider)
        .into_iter()
        .all(|model| {
            let route = auren_gateway::Route {
                provider: provider.to_owned(),
                model,
            };
            gateway.price(&route).is_none()
        })
}

/// A provider on this machine costs nothing.
pub(crate) fn is_local(base_url: &str) -> bool {
    let host = base_url.split("://").nth(1).unwrap_or(base_url);
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host.starts_with(h))
}

/// Forwards a turn's events, text through a [`TextBatch`].
async fn forward(
    mut events: mpsc::Receiver<AgentEvent>,
    mut sink: ChatSink,
    store: Store,
    probes: Arc<Probes>,
    conversation: i64,
) {
    let mut batch = TextBatch::default();
    loop {
        let next = match batch.due() {
            Some(at) => match tokio::time::timeout_at(at, events.recv()).await {
                Ok(event) => event,
                Err(_) => {
                    let delta = batch.take(tokio::time::Instant::now());
                    if !delta.is_empty() && !sink(ChatEventDto::Text { delta }) {
                        return;
                    }
                    continue;
                }
            },
            None => events.recv().await,
        };
        let Some(event) = next else { break };
        let now = tokio::time::Instant::now();
        if let AgentEvent::Text { delta } = event {
            if let Some(delta) = batch.offer(&delta, now)
                && !sink(ChatEventDto::Text { delta })
            {
                return;
            }
            continue;
        }
        // Text gathered so far goes before the event that followed it.
        let delta = batch.take(now);
        if !delta.is_empty() && !sink(ChatEventDto::Text { delta }) {
            return;
        }
        // A model call that failed (the offline analyst then stands in) or a turn that failed outright may
        // mean a provider went down: the next status probe asks them all again — before the window hears
        // of it, so a probe it asks for then is a new one. A budget refusal or a Stop is no failure: a probe
        // then would only spend what the budget refused.
        if matches!(&event, AgentEvent::Error { .. }) {
            probes.expire();
        }
        // A live claim stands in this conversation, now (a memory's route shows the panel as it stands).
        let place = ClaimPlace {
            conversation,
            at: auren_clock::now_unix_ms(),
        };
        let dto = event_dto(event, &store, &place).await;
        if !sink(dto) {
            return;
        }
    }
    let delta = batch.take(tokio::time::Instant::now());
    if !delta.is_empty() {
        sink(ChatEventDto::Text { delta });
    }
}

/// Text deltas on their way to the window, sent at most once per [`TEXT_BATCH`]. A delta arriving when
/// nothing was sent for a whole batch — the first of a turn, or the first after a pause — goes at once:
/// waiting for company would only delay the first token on screen by the batch (it did, 22–27 ms).
/// Deltas arriving sooner are gathered until a batch after the last send.
#[derive(Debug, Default)]
struct TextBatch {
    gathered: String,
    /// When text may be sent again (a batch after the last send); none before the first send.
    next_send: Option<tokio::time::Instant>,
}

impl TextBatch {
    /// Takes `delta`; returns the text to send now, if it is time.
    fn offer(&mut self, delta: &str, now: tokio::time::Instant) -> Option<String> {
        self.gathered.push_str(delta);
        match self.next_send {
            Some(at) if now < at => None,
            _ => Some(self.take(now)),
        }
    }

    /// When the gathered text is due, if any is waiting.
    fn due(&self) -> Option<tokio::time::Instant> {
        if self.gathered.is_empty() {
            None
        } else {
            self.next_send
        }
    }

    /// Everything gathered (possibly nothing), counted as sent at `now` when there was some.
    fn take(&mut self, now: tokio::time::Instant) -> String {
        if !self.gathered.is_empty() {
            self.next_send = Some(now + TEXT_BATCH);
        }
        std::mem::take(&mut self.gathered)
    }
}

async fn event_dto(event: AgentEvent, store: &Store, place: &ClaimPlace) -> ChatEventDto {
    match event {
        AgentEvent::Routed { specialist, by } => ChatEventDto::Routed {
            specialist: specialist_dto(specialist),
            by: route_dto(by),
        },
        AgentEvent::Handoff { from, to, brief } => ChatEventDto::Handoff {
            from: specialist_dto(from),
            to: specialist_dto(to),
            brief,
        },
        AgentEvent::ToolCall {
            call_id,
            name,
            arguments,
        } => ChatEventDto::ToolCall {
            call_id,
            name,
            arguments,
        },
        AgentEvent::ToolResult {
            call_id,
            name,
            result,
            receipts,
        } => ChatEventDto::ToolResult {
            call_id,
            name,
            result,
            receipts: receipts.into_iter().map(|r| r.0).collect(),
        },
        AgentEvent::Text { delta } => ChatEventDto::Text { delta },
        AgentEvent::Claim(claim) => ChatEventDto::Claim {
            claim: claim_dto(store, claim, place).await,
        },
        AgentEvent::Usage(usage) => ChatEventDto::Usage {
            usage: usage_dto(&usage),
        },
        AgentEvent::Guard { guard, message } => ChatEventDto::Guard {
            guard: guard_dto(guard),
            message,
        },
        AgentEvent::Error { code, message } => ChatEventDto::Error { code, message },
        AgentEvent::Done(outcome) => {
            // The stored answer's claims: a window that ignored the claims sent after a Stop (they may
            // belong to text it never drew) marks the numbers of the answer it draws from these.
            let mut claims = Vec::with_capacity(outcome.claims.len());
            for claim in outcome.claims {
                claims.push(claim_dto(store, claim, place).await);
            }
            ChatEventDto::Done {
                answer: outcome.answer,
                specialist: specialist_dto(outcome.specialist),
                offline: outcome.offline,
                claims,
                usage: usage_dto(&outcome.usage),
            }
        }
    }
}

/// A claim as the window marks it, routed to its source as a stored message's claims are.
async fn claim_dto(store: &Store, claim: auren_agents::Claim, place: &ClaimPlace) -> ClaimDto {
    let receipt = claim.receipt.map(|r| r.0);
    let stated = Stated {
        value: claim.value,
        text: &claim.text,
    };
    let route = match &receipt {
        Some(id) => route_of(store, id, |_| claim.value_index, stated, place).await,
        None => None,
    };
    ClaimDto {
        text: claim.text,
        occurrence: claim.occurrence,
        grounded: claim.grounded,
        route,
        receipt,
    }
}

/// Where a claim stands: its conversation and the time of its answer (now for a live turn).
struct ClaimPlace {
    conversation: i64,
    at: i64,
}

/// A claim's stated number: its value and its text as written (the text says how many decimals it has).
#[derive(Clone, Copy)]
struct Stated<'a> {
    value: f64,
    text: &'a str,
}

/// Where a grounded claim links: the day of the receipt value that grounds it (`matched`: its index in the
/// receipt's values) when the receipt read that day (a morning's lnRMSSD opens that day on the History trend
/// chart, not the first of the 60 days its receipt read; "RMSSD 52" the day of RMSSD 52, not of a resting HR
/// of 52), else the receipt's first session (in History) or day (on the trend chart), else the session an
/// alert of the receipt fired in — the alert whose evidence holds the stated value (get_alerts reads many),
/// else the first of the receipt's memories the memory panel can show (`memory_route`).
async fn route_of(
    store: &Store,
    receipt: &str,
    matched: impl FnOnce(&Receipt) -> Option<u32>,
    stated: Stated<'_>,
    place: &ClaimPlace,
) -> Option<String> {
    let row = store.conversations().receipt(receipt).await.ok()??;
    let receipt: Receipt = serde_json::from_str(&row.body_json).ok()?;
    let value = matched(&receipt).and_then(|i| receipt.values.get(usize::try_from(i).ok()?));
    if let Some(day) = value.and_then(|v| v.day.as_deref())
        && receipt
            .sources
            .iter()
            .any(|s| matches!(s, Source::Day { date } if date == day))
    {
        return Some(day_route(day));
    }
    let first = receipt.sources.iter().find_map(|s| match s {
        Source::Session { id } => Some(format!("history/{id}")),
        Source::Day { date } => Some(day_route(date)),
        Source::Alert { .. } | Source::Memory { .. } => None,
    });
    if first.is_some() {
        return first;
    }
    let alerts: Vec<i64> = receipt
        .sources
        .iter()
        .filter_map(|s| match s {
            Source::Alert { id } => Some(*id),
            _ => None,
        })
        .collect();
    if let Some(route) = alert_route(store, &alerts, stated.value, decimals_of(stated.text)).await {
        return Some(route);
    }
    for source in &receipt.sources {
        if let Source::Memory { id } = source
            && let Some(route) = memory_route(store, *id, place).await
        {
            return Some(route);
        }
    }
    None
}

/// The memory panel open on memory `id` in the claim's conversation: as it is now while the memory stands,
/// else as the panel showed it at the end of the claim's day (its past view is a UTC day's end) when it
/// stood then, else at the end of the last day it stood through (retracted or replaced later on the
/// claim's own day). A forgotten memory, or one that never stood through a day's end, links nowhere.
async fn memory_route(store: &Store, id: i64, place: &ClaimPlace) -> Option<String> {
    let memories = store.memories();
    let memory = match memories.get(auren_store::MemoryId(id)).await {
        Ok(memory) => memory,
        Err(auren_store::StoreError::NotFound { .. }) => return None,
        Err(error) => {
            tracing::warn!(%error, memory = id, "no route to the memory");
            return None;
        }
    };
    let panel = format!("chat/{}/memory/{id}", place.conversation);
    if memory.is_active() {
        return Some(panel);
    }
    let ended = memory
        .retracted
        .as_ref()
        .map(|r| r.at)
        .or_else(|| memory.superseded.as_ref().map(|s| s.at))?;
    let claim_day = auren_clock::UnixMillis(place.at).day_number();
    let last_whole_day = auren_clock::UnixMillis(ended).day_number() - 1;
    let now = auren_clock::now_unix_ms();
    for day in [claim_day, last_whole_day] {
        // The panel's "as of" a day: the memories as they stood at its end, never past now.
        let end = ((day + 1) * auren_clock::MS_PER_DAY - 1).min(now);
        let stood = match memories.list(auren_store::memory::AsOf::at(end)).await {
            Ok(rows) => rows.iter().any(|m| m.id.0 == id),
            Err(error) => {
                tracing::warn!(%error, memory = id, "no route to the memory");
                return None;
            }
        };
        if stood {
            return Some(format!("{panel}/{}", auren_clock::UtcDate::from_days(day)));
        }
    }
    None
}

/// The History route of the session of the alert among `alerts` whose evidence holds `stated` (at
/// `decimals`), else of the first of them still stored.
async fn alert_route(store: &Store, alerts: &[i64], stated: f64, decimals: i32) -> Option<String> {
    let mut first = None;
    for &id in alerts {
        let alert = match store.alert(id).await {
            Ok(Some(alert)) => alert,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, alert = id, "no route to the alert's session");
                continue;
            }
        };
        let route = format!("history/{}", alert.session_id);
        if evidence_holds(&alert, stated, decimals) {
            return Some(route);
        }
        first.get_or_insert(route);
    }
    first
}

/// Whether a stored alert's evidence has a value that rounds to `stated` at `decimals` (signs ignored, as
/// the grounding check does).
fn evidence_holds(alert: &auren_store::AlertRow, stated: f64, decimals: i32) -> bool {
    let half_step = 0.5 * 10f64.powi(-decimals) + 1e-9;
    auren_engine::query::alert_dto(alert)
        .evidence
        .values
        .iter()
        .any(|v| (v.value.abs() - stated.abs()).abs() <= half_step)
}

/// The History trend chart with `date` marked.
fn day_route(date: &str) -> String {
    format!("history/day/{date}")
}

/// The decimals of the first number in a claim's text ("3.90 lnRMSSD" → 2, "62 ms" → 0).
fn decimals_of(text: &str) -> i32 {
    let Some(start) = text.find(|c: char| c.is_ascii_digit()) else {
        return 0;
    };
    let rest = &text[start..];
    let integer = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    match rest[integer..].strip_prefix('.') {
        Some(fraction) => fraction.chars().take_while(char::is_ascii_digit).count() as i32,
        None => 0,
    }
}

async fn message_dto(store: &Store, row: MessageRow) -> Result<MessageDto, DesktopError> {
    let conversations = store.conversations();
    let place = ClaimPlace {
        conversation: row.conversation.0,
        at: row.created_at,
    };
    let mut claims = Vec::new();
    // The store keeps a claim's text, not where it stands or which value grounds it: the grounding,
    // deterministic, reads them again from the stored answer (its claims in the same order).
    let scanned = auren_agents::grounding::ground(&row.text, &[]);
    for (i, claim) in conversations.claims(row.id).await?.into_iter().enumerate() {
        let occurrence = scanned
            .get(i)
            .filter(|c| c.text == claim.text)
            .map_or(0, |c| c.occurrence);
        let (grounded, receipt) = match claim.grounding {
            Grounding::Grounded { receipt } => (true, Some(receipt)),
            Grounding::Ungrounded => (false, None),
        };
        let matched = |r: &Receipt| {
            auren_agents::grounding::ground(&row.text, std::slice::from_ref(r))
                .into_iter()
                .find(|c| c.text == claim.text && c.occurrence == occurrence)
                .and_then(|c| c.value_index)
        };
        let stated = Stated {
            value: claim.value,
            text: &claim.text,
        };
        let route = match &receipt {
            Some(id) => route_of(store, id, matched, stated, &place).await,
            None => None,
        };
        claims.push(ClaimDto {
            text: claim.text,
            occurrence,
            grounded,
            route,
            receipt,
        });
    }
    let steps = conversations
        .steps(row.id)
        .await?
        .into_iter()
        .map(|s| {
            step_dto(
                &s.kind,
                serde_json::from_str(&s.payload_json).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    let siblings = conversations
        .siblings(row.id)
        .await?
        .iter()
        .map(|m| m.id.0)
        .collect();
    Ok(MessageDto {
        id: row.id.0,
        parent_id: row.parent.map(|p| p.0),
        role: match row.role {
            Role::User => RoleDto::User,
            _ => RoleDto::Assistant,
        },
        text: row.text,
        specialist: row.specialist.as_deref().and_then(specialist_named),
        model: row.model,
        offline: row.offline,
        usage: row.usage.map(|u| UsageDto {
            input_tokens: u32::try_from(u.tokens_in).unwrap_or(u32::MAX),
            output_tokens: u32::try_from(u.tokens_out).unwrap_or(u32::MAX),
            cost_usd: u.cost_usd,
            estimated: u.estimated,
            model_calls: u.model_calls,
            call: 0,
            context_tokens: u
                .context
                .map_or(0, |c| u32::try_from(c.tokens).unwrap_or(u32::MAX)),
            context_window: u.context.and_then(|c| c.window),
        }),
        claims,
        steps,
        siblings,
    })
}

/// A stored step as the window shows it.
fn step_dto(kind: &str, payload: serde_json::Value) -> StepDto {
    let text = |key: &str| {
        payload
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let specialist = |key: &str| {
        payload
            .get(key)
            .and_then(|v| v.as_str())
            .and_then(specialist_named)
    };
    match kind {
        "handoff" => match (specialist("from"), specialist("to")) {
            (Some(from), Some(to)) => StepDto::Handoff {
                from,
                to,
                brief: text("brief"),
            },
            _ => StepDto::Other {
                name: kind.to_owned(),
                payload,
            },
        },
        "tool_call" => {
            let result = payload.get("result").cloned().unwrap_or(serde_json::Value::Null);
            StepDto::Tool {
                call_id: text("call_id"),
                name: text("name"),
                args: payload
                    .get("arguments")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
                result_bytes: u32::try_from(result.to_string().len()).unwrap_or(u32::MAX),
                result,
                receipts: payload
                    .get("receipts")
                    .and_then(|r| r.as_array())
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
            }
        }
        "model_request" => StepDto::Request {
            model: text("route"),
            body: payload
                .get("body")
                .map(|b| serde_json::to_string_pretty(b).unwrap_or_default())
                .unwrap_or_else(|| text("error")),
        },
        _ => StepDto::Other {
            name: kind.to_owned(),
            payload,
        },
    }
}

fn specialist_named(name: &str) -> Option<SpecialistDto> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

pub(crate) fn specialist_dto(s: auren_agents::Specialist) -> SpecialistDto {
    use auren_agents::Specialist as S;
    match s {
        S::Supervisor => SpecialistDto::Supervisor,
        S::Neuroscientist => SpecialistDto::Neuroscientist,
        S::Analyst => SpecialistDto::Analyst,
        S::Coach => SpecialistDto::Coach,
        S::Offline => SpecialistDto::Offline,
        S::Safety => SpecialistDto::Safety,
    }
}

fn route_dto(r: auren_agents::RouteReason) -> RouteReasonDto {
    use auren_agents::RouteReason as R;
    match r {
        R::Rules => RouteReasonDto::Rules,
        R::Model => RouteReasonDto::Model,
        R::RedFlag => RouteReasonDto::RedFlag,
        R::Offline => RouteReasonDto::Offline,
    }
}

fn guard_dto(g: auren_agents::Guard) -> GuardDto {
    use auren_agents::Guard as G;
    match g {
        G::ModelCalls => GuardDto::ModelCalls,
        G::Handoffs => GuardDto::Handoffs,
        G::RepeatedToolCall => GuardDto::RepeatedToolCall,
        G::PingPong => GuardDto::PingPong,
        G::TimeBudget => GuardDto::TimeBudget,
        G::Cancelled => GuardDto::Cancelled,
        G::Budget => GuardDto::Budget,
    }
}

fn usage_dto(u: &auren_agents::TurnUsage) -> UsageDto {
    UsageDto {
        input_tokens: u32::try_from(u.input_tokens).unwrap_or(u32::MAX),
        output_tokens: u32::try_from(u.output_tokens).unwrap_or(u32::MAX),
        cost_usd: u.cost_usd,
        estimated: u.estimated,
        model_calls: u.model_calls,
        call: u.call,
        context_tokens: u32::try_from(u.context_tokens).unwrap_or(u32::MAX),
        context_window: u.context_window,
    }
}

#[cfg(test)]
mod tests {
    use super::{TEXT_BATCH, TextBatch, decimals_of};
    use std::time::Duration;

    #[test]
    fn text_goes_at_once_after_a_quiet_batch_and_is_gathered_otherwise() {
        let ms = Duration::from_millis;
        // (delta, arriving after the turn's start, sent at once as)
        let cases: [(&str, Duration, Option<&str>); 6] = [
            ("Your", ms(0), Some("Your")),
            (" readiness", ms(3), None),
            (" is", ms(20), None),
            (" within", ms(40), Some(" readiness is within")),
            (" your", ms(50), None),
            (" range.", ms(200), Some(" your range.")),
        ];
        let start = tokio::time::Instant::now();
        let mut batch = TextBatch::default();
        for (delta, after, sent) in cases {
            assert_eq!(
                batch.offer(delta, start + after).as_deref(),
                sent,
                "{delta:?} after {after:?}"
            );
        }
        assert_eq!(batch.due(), None, "nothing is left to send");
    }

    #[test]
    fn gathered_text_is_due_a_batch_after_the_last_send() {
        let start = tokio::time::Instant::now();
        let mut batch = TextBatch::default();
        assert_eq!(batch.offer("a", start).as_deref(), Some("a"));
        assert_eq!(batch.due(), None);
        assert_eq!(batch.offer("b", start + Duration::from_millis(1)), None);
        assert_eq!(batch.offer("c", start + Duration::from_millis(2)), None);
        assert_eq!(batch.due(), Some(start + TEXT_BATCH));
        let at = start + TEXT_BATCH;
        assert_eq!(batch.take(at), "bc");
        assert_eq!(batch.take(at), "", "taking twice sends nothing twice");
        assert_eq!(
            batch.offer("d", at + Duration::from_millis(1)),
            None,
            "a batch after the last send"
        );
        assert_eq!(batch.due(), Some(at + TEXT_BATCH));
    }

    #[test]
    fn decimals_are_read_off_the_claims_first_number() {
        let cases = [
            ("3.90 lnRMSSD", 2),
            ("62 ms", 0),
            ("lnRMSSD 4.1", 1),
            ("RMSSD 12.345 ms", 3),
            ("no number", 0),
            ("7.", 0),
        ];
        for (text, decimals) in cases {
            assert_eq!(decimals_of(text), decimals, "{text}");
        }
    }
}
