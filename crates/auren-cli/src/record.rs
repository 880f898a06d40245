//! `auren record [--strap ADDR | --simulate SCENARIO] [--duration D]`: a live session through the engine,
//! printing heart rate, RMSSD and alerts as they come, stored in the database (Ctrl-C ends it cleanly), then
//! the refresh after new data (hypotheses re-tested, a milestone, its proactive messages).
//! Also the shared pieces of `auren replay`: following a session's updates and printing them.

use anyhow::{Context, bail};
use auren_agents::refresh::Arrival;
use auren_cep::SessionKind;
use auren_clock::{UnixMillis, now_unix_ms};
use auren_engine::dto::{AlertDto, LiveUpdateDto};
use auren_engine::{LiveSession, SessionConfig, SessionEnd, SessionSummary, StrapIdentity, query};
use auren_store::Store;
use auren_strap::ble::{BleConfig, BleStrap};
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{HeartSource, Pace, Speed};
use std::collections::HashSet;
use std::io::BufWriter;
use std::path::PathBuf;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::duration::parse_duration;
use crate::places::{db_path, runtime};
use crate::sync::refresh_after_stored;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Stop after this long (90s, 5m, 1h); without it, record until Ctrl-C.
    #[arg(long)]
    pub duration: Option<String>,
    /// Also write every notification to this `.hrmcap` capture.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Session kind for the rules: rest, morning, exercise, breathing, other (default: from the
    /// scenario; rest for a strap).
    #[arg(long)]
    pub kind: Option<String>,
    /// Alert rules (TOML, see `auren rules check`); default: your own (`auren rules set`), else the built-in rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(record(args))
}

async fn record(args: Args) -> anyhow::Result<()> {
    let duration = args.duration.as_deref().map(parse_duration).transpose()?;
    let kind = args.kind.as_deref().map(parse_kind).transpose()?;
    // A `--rules` file is checked before anything else happens; without one the person's own rules run.
    let given = args
        .rules
        .as_deref()
        .map(|path| crate::rules::load(Some(path)))
        .transpose()?;
    let chosen = choose_source(&args.source, duration).await?;
    let (source, strap) = (chosen.source, chosen.strap);
    let kind = kind.unwrap_or(chosen.kind);

    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
    let rules = crate::rules::session_rules(&store, given).await?;
    // The one reading of the wall clock: the session's start.
    let started_at = now_unix_ms();
    let mut config = SessionConfig::new(kind, started_at, rules, baselines(&store, started_at).await?);
    config.max_duration_ms = duration.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    config.strap = strap;
    if let Some(out) = &args.out {
        let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
        config.capture = Some(Box::new(BufWriter::new(file)));
    }
    let shutdown = CancellationToken::new();
    ctrl_c_cancels(&shutdown);
    let live = auren_engine::start_session(&store, source, config, shutdown).await?;
    println!(
        "Recording session {} ({}); Ctrl-C to stop.",
        live.session_id(),
        kind.as_str()
    );
    let summary = follow(live, 1_000).await?;
    let arrival = Arrival::Session {
        id: summary.session_id,
        day: UnixMillis(started_at).day_number(),
        morning: kind == SessionKind::Morning,
    };
    let refreshed = refresh_after_stored(&store, &arrival).await;
    let finished = finish(&store, &summary, &db).await;
    refreshed.print("After the recording");
    finished
}

/// Where a live command (`record`, `morning`) takes its beats from: a strap or the simulator.
#[derive(clap::Args)]
pub struct SourceArgs {
    /// Use the strap with this Bluetooth address (see `auren strap scan`).
    #[arg(long, conflicts_with = "simulate", required_unless_present = "simulate")]
    pub strap: Option<String>,
    /// Use the simulator instead: rest, fatigued, exercise or breathing.
    #[arg(long)]
    pub simulate: Option<String>,
    /// Simulator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated time runs this many times faster than real time (simulator only).
    #[arg(long)]
    pub speed: Option<f64>,
}

/// The source a live command records from, the session kind it suggests and the strap it is.
pub struct ChosenSource {
    pub source: Box<dyn HeartSource>,
    pub kind: SessionKind,
    pub strap: Option<StrapIdentity>,
}

/// `--strap ADDRESS` or `--simulate SCENARIO` (with its seed, speed and duration) as a source. A strap is
/// only accepted when a Bluetooth adapter is there, so a missing one is one clear line, not a failed session.
pub async fn choose_source(
    args: &SourceArgs,
    duration: Option<std::time::Duration>,
) -> anyhow::Result<ChosenSource> {
    let speed = args.speed.map(Speed::new).transpose()?;
    match (args.strap.as_deref(), args.simulate.as_deref()) {
        (_, Some(name)) => {
            let scenario: Scenario = name.parse()?;
            let mut config = SimulatorConfig::new(scenario, args.seed);
            config.duration = duration;
            config.pace = speed.map_or(Pace::RealTime, Pace::Speed);
            Ok(ChosenSource {
                source: Box::new(Simulator::new(config)?),
                kind: scenario_kind(scenario),
                strap: None,
            })
        }
        (Some(address), None) => {
            if speed.is_some() {
                bail!("--speed applies to the simulator only: a strap sends in real time");
            }
            let source = BleStrap::new(BleConfig::new(address))?;
            let adapters = auren_strap::ble::adapters().await.map_err(no_bluetooth)?;
            if adapters.is_empty() {
                bail!("no Bluetooth adapter found: plug one in or start BlueZ, then try again");
            }
            Ok(ChosenSource {
                source: Box::new(source),
                kind: SessionKind::Rest,
                strap: Some(StrapIdentity {
                    address: address.trim().replace('-', ":").to_uppercase(),
                    name: format!("strap {address}"),
                }),
            })
        }
        (None, None) => bail!("say what to record: --strap ADDRESS or --simulate SCENARIO"),
    }
}

/// A Bluetooth stack that cannot be reached, as one line (the error's own text already names its cause).
pub fn no_bluetooth(error: auren_strap::ble::BleError) -> anyhow::Error {
    anyhow::anyhow!("no Bluetooth adapter available: is BlueZ running? ({error})")
}

/// The rules' baselines from the stored morning readings (days are UTC days).
pub async fn baselines(store: &Store, now_unix_ms: i64) -> anyhow::Result<auren_cep::Baselines> {
    let day = UnixMillis(now_unix_ms).day_number();
    Ok(auren_cep::Baselines::from(&query::baselines(store, day).await?))
}

pub fn ctrl_c_cancels(shutdown: &CancellationToken) {
    let token = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            token.cancel();
        }
    });
}

pub fn parse_kind(name: &str) -> anyhow::Result<SessionKind> {
    SessionKind::ALL
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
        .with_context(|| {
            format!(
                "unknown session kind {name:?}: valid kinds are rest, morning, exercise, breathing, other"
            )
        })
}

fn scenario_kind(scenario: Scenario) -> SessionKind {
    match scenario {
        Scenario::Rest | Scenario::Fatigued => SessionKind::Rest,
        Scenario::Exercise => SessionKind::Exercise,
        Scenario::Breathing => SessionKind::Breathing,
    }
}

/// Prints a status line every `line_every_ms` of session time and every alert as it fires, until the
/// session ends; alerts a slow terminal skipped are printed from the summary.
pub async fn follow(mut live: LiveSession, line_every_ms: i64) -> anyhow::Result<SessionSummary> {
    let mut printed: HashSet<(String, i64)> = HashSet::new();
    let mut next_line = 0;
    loop {
        match live.updates.recv().await {
            Ok(update) => {
                for alert in &update.alerts {
                    print_alert(alert);
                    printed.insert((alert.rule.clone(), alert.at_ms));
                }
                if update.at_ms >= next_line && !update.ended {
                    println!("{}", status_line(&update));
                    next_line = (update.at_ms.div_euclid(line_every_ms) + 1) * line_every_ms;
                }
                if update.ended {
                    break;
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => break,
        }
    }
    let summary = live.finish().await?;
    for alert in &summary.alerts {
        if !printed.contains(&(alert.rule.clone(), alert.at_ms)) {
            print_alert(alert);
        }
    }
    Ok(summary)
}

fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:2}:{:02}", s / 60, s % 60)
    }
}

fn status_line(u: &LiveUpdateDto) -> String {
    let num = |v: Option<f64>, decimals: usize| v.map_or("–".to_owned(), |v| format!("{v:.decimals$}"));
    let hr = u.heart_rate_bpm.map_or("–".to_owned(), |v| v.to_string());
    let contact = if u.contact == Some(false) {
        "  no contact"
    } else {
        ""
    };
    format!(
        "{}  HR {hr:>3} bpm  RMSSD {:>5} ms  lnRMSSD {:>4}  DFA α1 {:>4}  beats {} (artifacts {}){contact}",
        clock(u.at_ms),
        num(u.metrics.rmssd_60s, 1),
        num(u.metrics.ln_rmssd, 2),
        num(u.metrics.dfa_alpha1, 2),
        u.beats_total,
        u.artifacts_total,
    )
}

fn print_alert(alert: &AlertDto) {
    println!(
        "{}  ALERT [{}] {}: {}",
        clock(alert.at_ms),
        alert.severity.as_str(),
        alert.rule,
        alert.message
    );
}

/// The closing lines; a source that failed (a strap gone) fails the command after the session is stored.
pub async fn finish(store: &Store, summary: &SessionSummary, db: &std::path::Path) -> anyhow::Result<()> {
    store.close().await;
    println!(
        "Session {} stored in {}: {} of recording, {} beats ({} artifacts), {} alerts.",
        summary.session_id,
        db.display(),
        clock(summary.duration_ms).trim(),
        summary.beats,
        summary.artifacts,
        summary.alerts.len()
    );
    if summary.written.dropped > 0 || summary.written.rejected > 0 {
        eprintln!(
            "warning: {} rows could not be queued for the database and {} were refused as invalid",
            summary.written.dropped, summary.written.rejected
        );
    }
    if let SessionEnd::SourceFailed(why) = &summary.ended {
        bail!(
            "{why} (what was recorded until then is stored as session {})",
            summary.session_id
        );
    }
    Ok(())
}
