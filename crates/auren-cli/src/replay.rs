//! `auren replay FILE [--speed X]`: a `.hrmcap` capture or an RR file played through the engine (artifact
//! labels, live windows, rules), printing metrics and alerts, stored as a session.

use anyhow::Context;
use auren_engine::SessionConfig;
use auren_hrm::capture::MAGIC;
use auren_store::Store;
use auren_strap::replay::Replay;
use auren_strap::{Pace, Speed};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

use crate::places::db_path;
use crate::places::runtime;
use crate::record::{baselines, ctrl_c_cancels, finish, follow, now_unix_ms, parse_kind};

#[derive(clap::Args)]
pub struct Args {
    /// A `.hrmcap` capture or an RR file (one interval in ms per line).
    pub file: PathBuf,
    /// Play back this many times faster than real time (1 = real time); default: as fast as possible.
    #[arg(long)]
    pub speed: Option<f64>,
    /// Session kind for the rules: rest, morning, exercise, breathing, other.
    #[arg(long, default_value = "rest")]
    pub kind: String,
    /// Alert rules (TOML, see `auren rules check`); default: the built-in rules.
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
    let rules = crate::rules::load(args.rules.as_deref())?;
    let pace = match args.speed {
        Some(factor) => Pace::Speed(Speed::new(factor)?),
        None => Pace::AsFastAsPossible,
    };
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let source = if text.trim_start_matches('\u{feff}').starts_with(MAGIC) {
        Replay::open_capture(&args.file, pace)?
    } else {
        Replay::open_rr_file(&args.file, pace)?
    };
    for bad in source.bad_lines() {
        eprintln!("warning: {}: {bad} (skipped)", args.file.display());
    }

    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
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
