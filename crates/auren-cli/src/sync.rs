//! `auren sync [--watch]`: one sync round (push the outbox, pull what is new), or rounds on a timer with
//! backoff until Ctrl-C, printing the status (synced / pending N / offline / error with the reason).
//!
//! Sessions that arrive by sync come without their stored panel (derived data, never synced), so after a
//! round that pulled something the engine's [`refresh_panels`] stores theirs, as the desktop does after its
//! rounds: the coach's readers then only read. `--watch` cannot see what a round pulled, so it runs the
//! refresh after every successful round; with nothing missing that is one query.
//!
//! What arrived then gets the refresh after new data ([`after_new_data`], shared with `auren import`):
//! hypotheses re-tested, new milestones stored as memories, and the proactive message of a CNS-fatigue
//! alert or a below-range morning of today or yesterday (a phone's recording, a server-side alert). The CLI
//! starts no model for it: the messages are the offline analyst's templates.

use crate::account::open_client;
use crate::places::runtime;
use anyhow::Context as _;
use auren_agents::Coach;
use auren_agents::refresh::{Arrival, Refreshed};
use auren_engine::panels::{PanelRefresh, refresh_panels};
use auren_store::Store;
use auren_sync::{SyncClient, SyncStatus};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct Args {
    /// Keep syncing on a timer (retrying with backoff when offline) until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let (store, client) = open_client(args.db).await?;
        if args.watch {
            watch(store, client).await;
            Ok(())
        } else {
            once(&store, &client).await
        }
    })
}

/// One round, what it did, the parked rows, and the panels of the sessions it pulled.
async fn once(store: &Store, client: &SyncClient) -> anyhow::Result<()> {
    let report = client.sync_once().await?;
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
    for parked in store.parked_rows().await? {
        println!(
            "  parked outbox row {} ({}): {} — {}",
            parked.outbox_id, parked.kind, parked.code, parked.message
        );
    }
    if report.pulled > 0 {
        let done = refresh(store).await?;
        println!("{}", panels_line(done));
        refresh_after_stored(store, &Arrival::Pulled)
            .await
            .print("After what arrived");
    }
    Ok(())
}

/// The refresh after new data (see the module's doc) with the offline coach.
pub(crate) async fn after_new_data(store: &Store, arrival: &Arrival) -> anyhow::Result<Refreshed> {
    let coach = Coach::offline(store.clone());
    auren_agents::refresh::after_new_data(&coach, arrival)
        .await
        .context("the refresh after new data (hypotheses, milestones, proactive messages) failed")
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
        Err(error) => {
            let why = auren_sync::causes(error.as_ref());
            eprintln!("warning: {why} (what was stored stays stored)");
            AfterNewData::Failed(why)
        }
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

/// Rounds until Ctrl-C, each status printed, the panels refreshed after each round that succeeded.
async fn watch(store: Store, client: SyncClient) {
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
            if matches!(now, SyncStatus::Synced { .. } | SyncStatus::Pending { .. }) {
                match refresh(&store).await {
                    Ok(done) if done.stored > 0 || done.failed > 0 => println!("{at}  {}", panels_line(done)),
                    Ok(_) => {}
                    Err(error) => eprintln!("{at}  {error:#}"),
                }
                match after_new_data(&store, &Arrival::Pulled).await {
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
    let plural = |n: u64| if n == 1 { "" } else { "s" };
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
