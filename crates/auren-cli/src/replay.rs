//! `auren replay FILE [--speed X]`: a `.hrmcap` capture or an RR file (ms, Kubios seconds, CSV export)
//! played through the engine (artifact labels, live windows, rules), printing metrics and alerts, stored as
//! a session.

use auren_clock::now_unix_ms;
use auren_engine::SessionConfig;
use auren_engine::recording;
use auren_store::Store;
use auren_strap::{Pace, Speed};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

use crate::places::db_path;
use crate::places::runtime;
use crate::record::{baselines, ctrl_c_cancels, finish, follow, parse_kind};

#[derive(clap::Args)]
pub struct Args {
    /// A `.hrmcap` capture, an RR file (ms, or seconds as Kubios writes them) or a CSV export with an
    /// RR/IBI column.
    pub file: PathBuf,
    /// Play back this many times faster than real time (1 = real time); default: as fast as possible.
    #[arg(long)]
    pub speed: Option<f64>,
    /// Session kind for the rules: rest, morning, exercise, breathing, other.
    #[arg(long, default_value = "rest")]
    pub kind: String,
    /// Alert rules (TOML, see `auren rules check`); default: your own (`auren rules set`), else the built-in rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(replay(args))
}

async fn replay(args: Args) -> anyhow::Result<()> {
    let kind = parse_kind(&args.kind)?;
    // A `--rules` file is checked before anything else happens; without one the person's own rules run.
    let given = args
        .rules
        .as_deref()
        .map(|path| crate::rules::load(Some(path)))
        .transpose()?;
    let pace = match args.speed {
        Some(factor) => Pace::Speed(Speed::new(factor)?),
        None => Pace::AsFastAsPossible,
    };
    // The whole file is read and checked before the session exists: a bad file stores nothing.
    let read = recording::read(&args.file)?;
    for warning in &read.warnings {
        eprintln!("warning: {}: {warning}", args.file.display());
    }
    let source = read.replay(&args.file.display().to_string(), pace)?;

    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
    let rules = crate::rules::session_rules(&store, given).await?;
    let started_at = now_unix_ms();
    let mut config = SessionConfig::new(kind, started_at, rules, baselines(&store, started_at).await?);
    config.source_label = Some(format!("replay: {}", args.file.display()));
    let shutdown = CancellationToken::new();
    ctrl_c_cancels(&shutdown);
    let live = auren_engine::start_session(&store, Box::new(source), config, shutdown).await?;
    println!(
        "Replaying {} as session {} ({}).",
        args.file.display(),
        live.session_id(),
        kind.as_str()
    );
    // A replay runs fast: one line per minute of recording.
    let summary = follow(live, 60_000).await?;
    finish(&store, &summary, &db).await
}
