//! `auren chat [--config FILE] [--model ALIAS] [--db PATH] "PROMPT"`: one question to a model through the
//! gateway, the answer streamed to stdout as it arrives; usage and cost go to the database and a one-line
//! summary to stderr.

use crate::places::{config_path, db_path, runtime};
use anyhow::{Context, bail};
use auren_agents::ledger::SqliteLedger;
use auren_gateway::{
    ChatRequest, Gateway, GatewayConfig, KeychainSecrets, StreamEvent, SystemClock, Usage, UsageLedger,
};
use auren_store::Store;
use futures::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The keychain service API keys are stored under (one entry per provider name).
pub const KEYCHAIN_SERVICE: &str = "auren";

/// The model a command uses: the one given, else the configuration's `default_model`; an error naming the
/// configuration file when there is neither.
pub fn chosen_model(given: Option<String>, config: &GatewayConfig, path: &Path) -> anyhow::Result<String> {
    match given.or_else(|| config.default_model.clone()) {
        Some(model) if !model.is_empty() => Ok(model),
        _ => bail!(
            "no model: pass --model ALIAS or set default_model in {}",
            path.display()
        ),
    }
}

/// The gateway of `config`, its keys from the OS keychain and its usage recorded in `store`, as `auren chat`
/// and `auren ask` both run it.
pub async fn start_gateway(config: GatewayConfig, store: &Store) -> anyhow::Result<Gateway> {
    let ledger: Arc<dyn UsageLedger> = Arc::new(SqliteLedger::new(store.clone()));
    Gateway::start(
        config,
        Arc::new(KeychainSecrets::new(KEYCHAIN_SERVICE)),
        ledger,
        Arc::new(SystemClock),
    )
    .await
    .context("starting the gateway")
}

#[derive(clap::Args)]
pub struct Args {
    /// The gateway configuration (default: gateway.toml in the platform's config directory for auren).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// An alias from the configuration, or provider:model (default: the configuration's default_model).
    #[arg(long)]
    pub model: Option<String>,
    /// The database usage is recorded in (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// What to ask.
    pub prompt: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(chat(args))
}

async fn chat(args: Args) -> anyhow::Result<()> {
    let config_path = config_path(args.config)?;
    let config = GatewayConfig::load(&config_path)?;
    let model = chosen_model(args.model, &config, &config_path)?;
    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
    let gateway = start_gateway(config, &store).await?;

    let mut stream = gateway.stream(&model, ChatRequest::user(args.prompt)).await?;
    let route = stream.route().clone();
    let mut stdout = std::io::stdout().lock();
    let mut usage = Usage::default();
    let mut ended_with_newline = true;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                if !ended_with_newline {
                    writeln!(stdout)?;
                }
                store.close().await;
                return Err(error.into());
            }
        };
        match event {
            StreamEvent::TextDelta { text } => {
                stdout.write_all(text.as_bytes())?;
                // Flushed per chunk: the answer appears as it is generated.
                stdout.flush()?;
                ended_with_newline = text.ends_with('\n');
            }
            StreamEvent::ToolCall { call, .. } => {
                writeln!(stdout, "\n[tool call {}({})]", call.name, call.arguments)?;
                ended_with_newline = true;
            }
            StreamEvent::Usage { usage: u } => usage = u,
            StreamEvent::ToolCallDelta { .. } | StreamEvent::Finish { .. } => {}
        }
    }
    if !ended_with_newline {
        writeln!(stdout)?;
    }
    stdout.flush()?;
    let cost = match gateway.price(&route) {
        Some(price) => price
            .cost(usage.input_tokens, usage.cached_input_tokens, usage.output_tokens)
            .to_string(),
        None => "unpriced".to_owned(),
    };
    let approx = if usage.estimated { "~" } else { "" };
    eprintln!(
        "[{route} · {approx}{} in / {approx}{} out tokens · {cost}]",
        usage.input_tokens, usage.output_tokens
    );
    store.close().await;
    Ok(())
}
