//! `auren sync [--watch]`: one sync round (push the outbox, pull what is new), or rounds on a timer with
//! backoff until Ctrl-C, printing the status (synced / pending N / offline / error with the reason).

use crate::account::open_client;
use crate::places::runtime;
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
        if !args.watch {
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
                if report.pending == 0 {
                    "synced".to_owned()
                } else {
                    format!("pending {}", report.pending)
                }
            );
            for parked in store.parked_rows().await? {
                println!(
                    "  parked outbox row {} ({}): {} — {}",
                    parked.outbox_id, parked.kind, parked.code, parked.message
                );
            }
            return Ok(());
        }
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
                if now != auren_sync::SyncStatus::Syncing {
                    println!(
                        "{}  {now}",
                        auren_clock::UnixMillis(auren_clock::now_unix_ms()).civil_minute()
                    );
                }
            }
        });
        client.run(shutdown).await;
        printer.abort();
        Ok(())
    })
}
