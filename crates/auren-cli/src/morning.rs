//! `auren morning [--strap ADDR | --simulate SCENARIO]`: the guided 3-minute readiness reading — lnRMSSD of
//! the corrected beats, stored as today's reading, and the verdict against the personal normal range; then
//! the refresh after new data (hypotheses re-tested, a milestone this morning reached, a proactive message).

use anyhow::Context;
use auren_agents::refresh::Arrival;
use auren_clock::{UnixMillis, now_unix_ms};
use auren_engine::dto::{MorningResultDto, VerdictDto};
use auren_engine::morning::{MORNING_READING_MS, MorningConfig, morning_reading};
use auren_store::Store;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

use crate::places::db_path;
use crate::places::runtime;
use crate::record::{SourceArgs, baselines, choose_source, ctrl_c_cancels};
use crate::sync::refresh_after_stored;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Alert rules (TOML); default: your own (`auren rules set`), else the built-in rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(morning(args))
}

async fn morning(args: Args) -> anyhow::Result<()> {
    // A `--rules` file is checked before anything else happens; without one the person's own rules run.
    let given = args
        .rules
        .as_deref()
        .map(|path| crate::rules::load(Some(path)))
        .transpose()?;
    let chosen = choose_source(&args.source, None).await?;
    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
    let rules = crate::rules::session_rules(&store, given).await?;
    let started_at = now_unix_ms();
    // Days are UTC days, as everywhere in the CLI.
    let day = UnixMillis(started_at).day_number();
    let config = MorningConfig {
        day,
        started_at_unix_ms: started_at,
        rules,
        baselines: baselines(&store, started_at).await?,
        strap: chosen.strap,
    };
    let shutdown = CancellationToken::new();
    ctrl_c_cancels(&shutdown);
    if !args.json {
        println!(
            "Morning reading: sit or lie still and breathe normally for {} minutes…",
            MORNING_READING_MS / 60_000
        );
    }
    let result = morning_reading(&store, chosen.source, config, shutdown)
        .await
        .context("the morning reading")?;
    let arrival = Arrival::Session {
        id: result.session_id,
        day,
        morning: true,
    };
    let refreshed = refresh_after_stored(&store, &arrival).await;
    store.close().await;
    if args.json {
        let mut out = serde_json::to_value(&result)?;
        refreshed.add_to(&mut out);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", report(&result));
        refreshed.print("After the reading");
    }
    Ok(())
}

fn report(r: &MorningResultDto) -> String {
    let mut out = format!(
        "lnRMSSD {:.2} (RMSSD {:.1} ms), resting HR {} — {} beats, {} artifacts corrected; stored as today's reading (session {}).\n",
        r.ln_rmssd,
        r.rmssd_ms,
        r.resting_hr.map_or("–".to_owned(), |hr| format!("{hr:.0} bpm")),
        r.beats,
        r.artifacts,
        r.session_id
    );
    let readiness = &r.readiness;
    match (
        &readiness.verdict,
        readiness.rolling_mean_7d,
        readiness.normal_range,
    ) {
        (Some(verdict), Some(mean), Some((lo, hi))) => out.push_str(&format!(
            "7-day mean {mean:.2} is {} your normal range {lo:.2}–{hi:.2}.\n",
            verdict_word(*verdict)
        )),
        _ => out.push_str(
            "Not enough mornings yet for a verdict: it needs 3 of the last 7 days and 14 of the last 60.\n",
        ),
    }
    out
}

/// The verdict as the sentence says it ("is below your normal range").
fn verdict_word(verdict: VerdictDto) -> &'static str {
    match verdict {
        VerdictDto::Below => "below",
        VerdictDto::Within => "within",
        VerdictDto::Above => "above",
    }
}
