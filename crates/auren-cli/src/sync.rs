//! `auren sync [--watch] [--retry-parked] [--config FILE]`: one sync round (push the outbox, pull what is
//! new), or rounds on a timer with backoff until Ctrl-C, printing the status (synced / pending N / offline /
//! error with the reason) and the rows the server refused (parked, with its reason). `--retry-parked` queues
//! the parked rows again first (after the cause was fixed), so the round sends them.
//!
//! Sessions that arrive by sync come without their stored panel (derived data, never synced), so after a
//! round that pulled something the engine's [`refresh_panels`] stores theirs, as the desktop does after its
//! rounds: the coach's readers then only read. `--watch` cannot see what a round pulled, so it runs the
//! refresh after every successful round; with nothing missing that is one query.
//!
//! What arrived then gets the refresh after new data (`auren_agents::refresh::after_new_data`, as after
//! `auren import`): hypotheses re-tested, new milestones stored as memories, and the proactive message of a
//! CNS-fatigue alert or a below-range morning of today or yesterday (a phone's recording, a server-side
//! alert). As on the desktop, the trigger's specialist writes that message through the gateway of the
//! configuration (`--config`, else gateway.toml in the platform's config directory) and its default model;
//! without a configuration, or when the gateway cannot start, the offline analyst's template is posted, and
//! a refused budget, an unreachable provider or a broken text fall back to it message by message.

use crate::account::open_client;
use crate::chat::start_gateway;
use crate::places::{config_path, runtime};
use anyhow::Context as _;
use auren_agents::refresh::{Arrival, Refreshed};
use auren_agents::{Coach, CoachConfig, MemoryApply, Toolbox};
use auren_engine::panels::{PanelRefresh, refresh_panels};
use auren_gateway::{GatewayConfig, SystemClock};
use auren_store::Store;
use auren_sync::{SyncClient, SyncStatus};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct Args {
    /// Keep syncing on a timer (retrying with backoff when offline) until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// First queue the rows the server refused (parked) again, so this round sends them: after the cause
    /// was fixed (a server upgraded or repaired). A row refused again is parked again with the new reason.
    #[arg(long)]
    pub retry_parked: bool,
    /// The gateway configuration whose default model writes the proactive messages of what arrived
    /// (default: gateway.toml in the platform's config directory; without one, the offline templates).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let (store, client) = open_client(args.db).await?;
        if args.retry_parked {
            retry_parked(&store).await?;
        }
        let coach = coach(&store, args.config).await;
        if args.watch {
            watch(store, client, coach).await;
            Ok(())
        } else {
            once(&store, &client, &coach).await
        }
    })
}

/// Queues the parked rows again and says how many (and which cannot be).
async fn retry_parked(store: &Store) -> anyhow::Result<()> {
    let done = auren_sync::retry_parked(store)
        .await
        .context("the parked rows could not be queued again")?;
    println!(
        "Queued {} parked row{} again.",
        done.requeued,
        plural(done.requeued)
    );
    if done.kept > 0 {
        println!(
            "{} row{} stay parked: an older version parked them without keeping what they point at, so they \
             cannot be sent again (their data stays in this database).",
            done.kept,
            plural(u64::try_from(done.kept).unwrap_or(u64::MAX))
        );
    }
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The coach that writes the proactive messages of what a round pulled, as the desktop's: the gateway of
/// the configuration with its default model when one starts, the offline analyst otherwise (said on stderr
/// when a configuration was there but could not be used).
pub(crate) async fn coach(store: &Store, config: Option<PathBuf>) -> Coach {
    let toolbox = Toolbox::new(store.clone(), Arc::new(SystemClock));
    let memory_apply = match crate::ask::memory_apply(store).await {
        Ok(choice) => choice,
        Err(error) => {
            eprintln!("warning: {error:#}; memories wait for a yes");
            MemoryApply::default()
        }
    };
    let offline = |toolbox| {
        let config = CoachConfig {
            memory_apply,
            ..CoachConfig::default()
        };
        Coach::new(None, toolbox, config)
    };
    let explicit = config.is_some();
    let path = match config_path(config) {
        Ok(path) => path,
        Err(error) => {
            eprintln!("warning: {error:#}; proactive messages are the offline templates");
            return offline(toolbox);
        }
    };
    if !explicit && !path.exists() {
        return offline(toolbox);
    }
    let started = async {
        let config = GatewayConfig::load(&path)
            .with_context(|| format!("the gateway configuration {} cannot be used", path.display()))?;
        let model = config.default_model.clone().unwrap_or_default();
        let coach_config = CoachConfig::for_gateway(&config, model, memory_apply);
        let gateway = start_gateway(config, store).await?;
        anyhow::Ok((gateway, coach_config))
    };
    match started.await {
        Ok((gateway, coach_config)) => Coach::new(Some(gateway), toolbox, coach_config),
        Err(error) => {
            eprintln!("warning: {error:#}; proactive messages are the offline templates");
            offline(toolbox)
        }
    }
}

/// One round, what it did, the parked rows, and the panels of the sessions it pulled.
async fn once(store: &Store, client: &SyncClient, coach: &Coach) -> anyhow::Result<()> {
    let report = client.sync_once().await?;
    if report.requeued > 0 {
        println!(
            "The server now accepts the type of {} parked row{}: sent again.",
            report.requeued,
            plural(report.requeued)
        );
    }
    println!(
        "Sent {} rows, fetched {} changes{}; {}.",
        report.pushed,
        report.pulled,
        if report.parked > 0 {
            format!(", parked {} (see below)", report.parked)
        } else {
            String::new()
        },
        match (report.pending, report.held) {
            (0, _) => "synced".to_owned(),
            (pending, 0) => format!("pending {pending}"),
            // An older server: these rows wait in the outbox, unsent and unparked, for an upgrade.
            (pending, held) => format!("pending {pending} ({held} held until the server accepts their type)"),
        }
    );
    print_parked(store, "").await?;
    if report.pulled > 0 {
        let done = refresh(store).await?;
        println!("{}", panels_line(done));
        match refresh_with(coach, &Arrival::Pulled).await {
            Ok(done) => AfterNewData::Done(done),
            Err(error) => warn_refresh_failed(error.as_ref()),
        }
        .print("After what arrived");
    }
    Ok(())
}

/// The parked rows, one line each after `prefix`, and how to send them again; nothing when there are none.
async fn print_parked(store: &Store, prefix: &str) -> anyhow::Result<()> {
    let parked = store.parked_rows().await?;
    for row in &parked {
        println!(
            "{prefix}  parked outbox row {} ({}): {} — {}{}",
            row.outbox_id,
            row.kind,
            row.code,
            row.message,
            match (&row.waits_for_type, row.resendable) {
                (Some(change_type), _) => format!(" (sent again once the server accepts {change_type})"),
                (None, false) => " (parked by an older version: cannot be sent again)".to_owned(),
                (None, true) => String::new(),
            }
        );
    }
    let waiting = parked
        .iter()
        .filter(|p| p.resendable && p.waits_for_type.is_none())
        .count() as u64;
    if waiting > 0 {
        println!(
            "{prefix}{waiting} parked row{} wait: `auren sync --retry-parked` sends them again once the cause is fixed.",
            plural(waiting)
        );
    }
    Ok(())
}

/// The refresh after new data (see the module's doc) with the offline coach (for the commands that store
/// data here: import, record, morning).
pub(crate) async fn after_new_data(store: &Store, arrival: &Arrival) -> anyhow::Result<Refreshed> {
    refresh_with(&Coach::offline(store.clone()), arrival).await
}

/// The refresh after new data with `coach`.
async fn refresh_with(coach: &Coach, arrival: &Arrival) -> anyhow::Result<Refreshed> {
    auren_agents::refresh::after_new_data(coach, arrival)
        .await
        .context("the refresh after new data (hypotheses, milestones, proactive messages) failed")
}

/// Warns of a failed refresh after data a command already stored.
fn warn_refresh_failed(error: &(dyn std::error::Error + 'static)) -> AfterNewData {
    let why = auren_sync::causes(error);
    eprintln!("warning: {why} (what was stored stays stored)");
    AfterNewData::Failed(why)
}

/// What the refresh after new data did, as a command whose data is already committed reports it.
pub(crate) enum AfterNewData {
    Done(Refreshed),
    /// The refresh failed (why, with its causes); what the command stored stays stored.
    Failed(String),
}

/// The refresh after data a command already stored. A failure is a warning on stderr, not the command's
/// error: the data is committed, and a script that retried a failed command would store it twice.
pub(crate) async fn refresh_after_stored(store: &Store, arrival: &Arrival) -> AfterNewData {
    match after_new_data(store, arrival).await {
        Ok(done) => AfterNewData::Done(done),
        Err(error) => warn_refresh_failed(error.as_ref()),
    }
}

impl AfterNewData {
    /// The `after_new_data` object of a command's JSON: what was stored, or `{"error": …}`.
    pub(crate) fn json(&self) -> serde_json::Value {
        match self {
            Self::Done(done) => serde_json::json!({
                "hypotheses_retested": done.retests.len(),
                "hypotheses_changed_status": done.retests.iter().filter(|r| r.changed()).count(),
                "milestones": done.milestones.iter().map(|m| m.milestone.text.clone()).collect::<Vec<_>>(),
                "proactive_messages": done.posted.len(),
            }),
            Self::Failed(why) => serde_json::json!({ "error": why }),
        }
    }

    /// A command's JSON `out` with the `after_new_data` object added (when `out` is an object).
    pub(crate) fn add_to(&self, out: &mut serde_json::Value) {
        if let Some(object) = out.as_object_mut() {
            object.insert("after_new_data".into(), self.json());
        }
    }

    /// "`after`: 1 milestone." when the refresh stored something (a failure was already warned about).
    pub(crate) fn print(&self, after: &str) {
        if let Self::Done(done) = self
            && !done.is_empty()
        {
            println!("{after}: {}", done.summary());
        }
    }
}

/// Rounds until Ctrl-C, each status printed (with the parked rows when there are any), the panels and the
/// refresh after new data run after each round that succeeded.
async fn watch(store: Store, client: SyncClient, coach: Coach) {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let mut status = client.status();
    let printer = tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let now = status.borrow_and_update().clone();
            if now == SyncStatus::Syncing {
                continue;
            }
            let at = auren_clock::UnixMillis(auren_clock::now_unix_ms()).civil_minute();
            println!("{at}  {now}");
            if let Err(error) = print_parked(&store, &at).await {
                eprintln!("{at}  {error:#}");
            }
            if matches!(now, SyncStatus::Synced { .. } | SyncStatus::Pending { .. }) {
                match refresh(&store).await {
                    Ok(done) if done.stored > 0 || done.failed > 0 => println!("{at}  {}", panels_line(done)),
                    Ok(_) => {}
                    Err(error) => eprintln!("{at}  {error:#}"),
                }
                match refresh_with(&coach, &Arrival::Pulled).await {
                    Ok(done) if !done.is_empty() => println!("{at}  After what arrived: {}", done.summary()),
                    Ok(_) => {}
                    Err(error) => eprintln!("{at}  {error:#}"),
                }
            }
        }
    });
    client.run(shutdown).await;
    printer.abort();
}

/// The engine's refresh of the stored session panels, now.
async fn refresh(store: &Store) -> anyhow::Result<PanelRefresh> {
    refresh_panels(store, auren_clock::now_unix_ms())
        .await
        .context("the session panels could not be refreshed")
}

/// "Stored 3 session panels." (and how many could not be computed).
fn panels_line(done: PanelRefresh) -> String {
    let mut line = format!("Stored {} session panel{}", done.stored, plural(done.stored));
    if done.failed > 0 {
        line.push_str(&format!(
            "; {} session{} could not be computed (computed when read)",
            done.failed,
            plural(done.failed)
        ));
    }
    line.push('.');
    line
}
