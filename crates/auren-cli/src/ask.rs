//! `auren ask [--conversation ID] [--model ALIAS] [--json] "QUESTION"`: one turn of the AI coach
//! (`auren_agents::Coach::ask`) over the person's own data.
//!
//! Text mode streams the answer to stdout as it is written and the steps (routing, handoffs, tool calls and
//! their receipts, guards, one usage line per model call: its final count, or the estimate booked for a call
//! cut short) to stderr, then the claims — each number in the answer, grounded with its receipt or marked as
//! not grounded — and the turn's usage. `--json` prints one JSON object per event on stdout, `{"type": …}`,
//! the last one `done`; a `usage` event's `phase` says whether it is a running estimate (replaced by a later
//! event of the same `call`), a call's final count or a cut call's booked estimate: only the final and cut
//! ones add up. Without a gateway configuration the offline analyst answers.

use anyhow::{Context, bail};
use auren_agents::{AgentEvent, Claim, Coach, CoachConfig, MemoryApply, Toolbox, UsagePhase};
use auren_gateway::{GatewayConfig, Route, SystemClock};
use auren_store::{ConversationId, Store};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chat::{chosen_model, start_gateway};
use crate::places::{config_path, db_path, runtime};
use crate::record::ctrl_c_cancels;

/// Events buffered between the turn and the printer.
const EVENT_BUFFER: usize = 256;

#[derive(clap::Args)]
pub struct Args {
    /// Continue this conversation (see `auren conversations list`); default: a new one.
    #[arg(long)]
    pub conversation: Option<i64>,
    /// A gateway alias, or provider:model (default: the configuration's default_model).
    #[arg(long)]
    pub model: Option<String>,
    /// Print one JSON object per event (`{"type": …}`), ending with `done`.
    #[arg(long)]
    pub json: bool,
    /// The gateway configuration (default: gateway.toml in the platform's config directory; without one,
    /// the offline analyst answers).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// The question.
    pub question: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(ask(args))
}

async fn ask(args: Args) -> anyhow::Result<()> {
    if args.question.trim().is_empty() {
        bail!("the question is empty: write what you want to know, e.g. auren ask \"how was my week?\"");
    }
    let store = Store::open(&db_path(args.db.clone())?).await?;
    let conversation = match args.conversation {
        Some(id) => {
            let id = ConversationId(id);
            store
                .conversations()
                .get(id)
                .await
                .with_context(|| format!("no conversation {id}: see auren conversations list"))?;
            Some(id)
        }
        None => None,
    };
    let coach = coach(&args, &store).await?;
    let (sender, mut events) = mpsc::channel(EVENT_BUFFER);
    let cancel = CancellationToken::new();
    ctrl_c_cancels(&cancel);
    let question = args.question.clone();
    let turn = tokio::spawn(async move { coach.ask(conversation, &question, sender, cancel).await });
    let mut printer = Printer::new(args.json);
    while let Some(event) = events.recv().await {
        printer.print(&event)?;
    }
    let outcome = turn.await.context("the turn's task failed")?;
    let result = outcome.map(|_| ()).context("storing the turn");
    if result.is_ok() && !args.json {
        let id = match conversation {
            Some(id) => Some(id),
            None => store.conversations().list().await?.first().map(|c| c.id),
        };
        if let Some(id) = id {
            eprintln!("[conversation {id}: continue with --conversation {id}]");
        }
    }
    store.close().await;
    result
}

/// The coach over `store`: with the gateway of the configuration when there is one, else offline.
async fn coach(args: &Args, store: &Store) -> anyhow::Result<Coach> {
    let toolbox = Toolbox::new(store.clone(), Arc::new(SystemClock));
    let memory_apply = memory_apply(store).await?;
    let path = config_path(args.config.clone())?;
    if args.config.is_none() && !path.exists() {
        if !args.json {
            eprintln!(
                "[no gateway configuration at {}: the offline analyst answers]",
                path.display()
            );
        }
        let offline = CoachConfig {
            memory_apply,
            ..CoachConfig::default()
        };
        return Ok(Coach::new(None, toolbox, offline));
    }
    let config = GatewayConfig::load(&path)?;
    let model = chosen_model(args.model.clone(), &config, &path)?;
    check_model(&config, &model)?;
    let coach_config = CoachConfig::for_gateway(&config, model, memory_apply);
    let gateway = start_gateway(config, store).await?;
    Ok(Coach::new(Some(gateway), toolbox, coach_config))
}

/// The person's "how the coach's memories apply" setting as the desktop keeps it in the store's synced
/// field table (record `memory_apply`, a JSON string), so `auren ask` over the same database follows it;
/// ask first when it was never set.
pub(crate) async fn memory_apply(store: &Store) -> anyhow::Result<MemoryApply> {
    let fields = store
        .setting_fields()
        .await
        .context("reading the person's settings")?;
    Ok(fields
        .iter()
        .find(|(key, ..)| key == auren_agents::memory_setting::KEY)
        .and_then(|(_, value, _)| auren_agents::memory_setting::parse(value))
        .unwrap_or_default())
}

/// That `model` (an alias, or `provider:model`) routes to a provider of the configuration: `auren ask` names
/// a wrong `--model` instead of quietly asking OpenAI's format of nobody.
fn check_model(config: &GatewayConfig, model: &str) -> anyhow::Result<()> {
    let provider = match config.aliases.get(model) {
        Some(routes) => routes.first().map(|r| r.provider.clone()),
        None => Route::parse(model).map(|r| r.provider),
    }
    .with_context(|| {
        let aliases: Vec<&str> = config.aliases.keys().map(String::as_str).collect();
        format!(
            "unknown model {model:?}: use an alias ({}) or provider:model",
            aliases.join(", ")
        )
    })?;
    if config.providers.iter().any(|p| p.name == provider) {
        Ok(())
    } else {
        anyhow::bail!("model {model:?} names provider {provider:?}, which the configuration lacks")
    }
}

/// Prints a turn's events as they come.
struct Printer {
    json: bool,
    /// Whether the last thing written to stdout ended a line.
    at_line_start: bool,
    claims: Vec<Claim>,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self {
            json,
            at_line_start: true,
            claims: Vec::new(),
        }
    }

    fn print(&mut self, event: &AgentEvent) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            writeln!(stdout, "{}", serde_json::to_string(event)?)?;
            stdout.flush()?;
            return Ok(());
        }
        match event {
            AgentEvent::Text { delta } => {
                stdout.write_all(delta.as_bytes())?;
                // Flushed per chunk: the answer appears as it is written.
                stdout.flush()?;
                if !delta.is_empty() {
                    self.at_line_start = delta.ends_with('\n');
                }
            }
            AgentEvent::Claim(claim) => self.claims.push(claim.clone()),
            AgentEvent::Done(outcome) => {
                if !self.at_line_start {
                    writeln!(stdout)?;
                    self.at_line_start = true;
                }
                stdout.flush()?;
                self.print_claims();
                let u = &outcome.usage;
                let approx = if u.estimated { "~" } else { "" };
                let who = if outcome.offline {
                    "offline analyst".to_owned()
                } else {
                    format!("{:?}", outcome.specialist).to_lowercase()
                };
                eprintln!(
                    "[{who} · {} model calls · {approx}{} in / {approx}{} out tokens · ${:.4}]",
                    u.model_calls, u.input_tokens, u.output_tokens, u.cost_usd
                );
            }
            other => {
                if let Some(line) = step_line(other) {
                    eprintln!("{line}");
                }
            }
        }
        Ok(())
    }

    fn print_claims(&self) {
        if self.claims.is_empty() {
            return;
        }
        eprintln!("Numbers in this answer:");
        for claim in &self.claims {
            match (&claim.grounded, &claim.receipt) {
                (true, Some(receipt)) => eprintln!("  ✓ {} (receipt {})", claim.text, receipt_text(receipt)),
                (true, None) => eprintln!("  ✓ {}", claim.text),
                (false, _) => eprintln!("  ✗ {} — not grounded: no computed value matches it", claim.text),
            }
        }
    }
}

fn receipt_text(id: &auren_agents::ReceiptId) -> String {
    serde_json::to_value(id)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{id:?}"))
}

/// The stderr line of a step event (none for text, claims and done, which print otherwise).
fn step_line(event: &AgentEvent) -> Option<String> {
    let name = |s: &auren_agents::Specialist| match s {
        auren_agents::Specialist::Offline => "offline analyst".to_owned(),
        auren_agents::Specialist::Safety => "safety referral".to_owned(),
        other => format!("{other:?}").to_lowercase(),
    };
    Some(match event {
        AgentEvent::Routed { specialist, by } => {
            format!(
                "[routed to the {} ({})]",
                name(specialist),
                format!("{by:?}").to_lowercase()
            )
        }
        AgentEvent::Handoff { from, to, .. } => format!("[handoff: {} → {}]", name(from), name(to)),
        AgentEvent::ToolCall {
            name: tool,
            arguments,
            ..
        } => format!("[tool {tool} {arguments}]"),
        AgentEvent::ToolResult {
            name: tool, receipts, ..
        } => {
            let ids: Vec<String> = receipts.iter().map(receipt_text).collect();
            format!("[result of {tool}: receipts {}]", ids.join(", "))
        }
        // A running estimate comes every 25 ms while text streams and the call's final or cut count replaces
        // it: one line per call, "~" when estimated (a provider that sends no usage, a call cut short).
        AgentEvent::Usage(u) => {
            let approx = if u.estimated { "~" } else { "" };
            let (in_, out) = (u.input_tokens, u.output_tokens);
            match u.phase {
                UsagePhase::Running => return None,
                UsagePhase::Final => format!("[usage: {approx}{in_} in / {approx}{out} out tokens]"),
                UsagePhase::Cut => format!("[usage: ~{in_} in / ~{out} out tokens, cut]"),
            }
        }
        AgentEvent::Guard { message, .. } => format!("[guard: {message}]"),
        AgentEvent::Error { code, message } => format!("[error {code}: {message}]"),
        AgentEvent::Text { .. } | AgentEvent::Claim(_) | AgentEvent::Done(_) => return None,
    })
}
