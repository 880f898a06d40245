//! `auren import FILE [--at TIME] [--kind K] [--json]`: history on day one.
//!
//! A recording (RR file, Kubios text, CSV export, `.hrmcap`) is stored as a session through the live
//! pipeline at its real start time: `--at` when given, else the time the file carries (a CSV timestamp
//! column, an Elite HRV file name), else the command refuses rather than invent one. A history export of
//! HRV4Training or Elite HRV (daily readings with dates) becomes morning readings, so the normal range exists
//! at once.
//!
//! After a recording, the stored session panels are brought up to date with the engine's
//! [`refresh_panels`] (the one the desktop runs when it opens): the imported session's panel is stored when
//! its replay ends, and the refresh stores any other missing or stale one (a session stored before panels
//! were kept, or under a panel computation that changed since), so the coach's readers only read.
//!
//! Then the refresh after new data (`crate::sync::after_new_data`): hypotheses re-tested, a milestone the
//! newest morning reached stored as a memory, and the proactive message of a CNS-fatigue alert or a
//! below-range morning of today or yesterday.

use anyhow::{Context, bail};
use auren_agents::refresh::Arrival;
use auren_clock::UnixMillis;
use auren_engine::import::{self, ImportConfig, history};
use auren_engine::panels::{PanelRefresh, panel_is_current, refresh_panels};
use auren_store::Store;
use std::path::PathBuf;

use crate::places::{db_path, runtime};
use crate::record::{baselines, parse_kind};

#[derive(clap::Args)]
pub struct Args {
    /// A recording (RR file, Kubios RR text, CSV export, .hrmcap capture) or a history export of
    /// HRV4Training or Elite HRV.
    pub file: PathBuf,
    /// When the recording started: 2025-11-21T07:30:00 (UTC unless an offset like +01:00 is given) or a
    /// date; overrides the time the file carries.
    #[arg(long)]
    pub at: Option<String>,
    /// Session kind for the rules: rest, morning, exercise, breathing, other.
    #[arg(long, default_value = "rest")]
    pub kind: String,
    /// Alert rules (TOML, see `auren rules check`); default: your own (`auren rules set`), else the built-in rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Print what was stored as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(import_file(args))
}

async fn import_file(args: Args) -> anyhow::Result<()> {
    if !args.file.is_file() {
        bail!("{}: no such file", args.file.display());
    }
    if import::is_history_export(&args.file) {
        if args.at.is_some() {
            bail!(
                "{} is a history export: its rows carry their own dates, --at applies to recordings",
                args.file.display()
            );
        }
        return import_history(args).await;
    }
    let kind = parse_kind(&args.kind)?;
    let started_at = match args.at.as_deref() {
        Some(text) => parse_at(text)?,
        None => import::recorded_start(&args.file).with_context(|| {
            format!(
                "{} carries no start time (no timestamp column, no date-time file name): pass --at TIME",
                args.file.display()
            )
        })?,
    };
    // A `--rules` file is checked before anything else happens; without one the person's own rules run.
    let given = args
        .rules
        .as_deref()
        .map(|path| crate::rules::load(Some(path)))
        .transpose()?;
    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
    let rules = crate::rules::session_rules(&store, given).await?;
    let mut config = ImportConfig::new(started_at, rules, baselines(&store, started_at).await?);
    config.kind = kind;
    let outcome = async {
        let summary = import::import_recording(&store, &args.file, config).await?;
        let panels = panels_after(&store, summary.session_id).await?;
        let arrival = Arrival::Session {
            id: summary.session_id,
            day: UnixMillis(started_at).day_number(),
            morning: kind == auren_cep::SessionKind::Morning,
        };
        let refreshed = crate::sync::refresh_after_stored(&store, &arrival).await;
        anyhow::Ok((summary, panels, refreshed))
    }
    .await;
    store.close().await;
    let (summary, (refresh, this), refreshed) = outcome?;
    if args.json {
        let mut out = serde_json::to_value(&summary)?;
        if let Some(object) = out.as_object_mut() {
            object.insert("panel_stored".into(), this.current.into());
            object.insert("panels_refreshed".into(), serde_json::to_value(refresh)?);
        }
        refreshed.add_to(&mut out);
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for warning in &summary.warnings {
        eprintln!("warning: {}: {warning}", args.file.display());
    }
    println!(
        "Imported {} ({}) as session {} started {} UTC: {} beats ({} artifacts), {} alerts; stored in {}.",
        summary.file_name,
        summary.format.as_str(),
        summary.session_id,
        UnixMillis(started_at).civil_minute(),
        summary.beats,
        summary.artifacts,
        summary.alerts.len(),
        db.display()
    );
    println!("{}", panels_line(this, refresh));
    refreshed.print("After the import");
    Ok(())
}

/// The stored panels after an import: what the refresh did, and whether session `id`'s panel is current.
async fn panels_after(store: &Store, id: i64) -> anyhow::Result<(PanelRefresh, PanelsOfImport)> {
    let stored_at_end = panel_is_current(store, id)
        .await
        .context("the imported session's panel could not be read")?;
    let refresh = refresh_panels(store, auren_clock::now_unix_ms())
        .await
        .context("the session panels could not be refreshed")?;
    let current = panel_is_current(store, id)
        .await
        .context("the imported session's panel could not be read")?;
    Ok((
        refresh,
        PanelsOfImport {
            stored_at_end,
            current,
        },
    ))
}

/// The imported session's panel: stored when its replay ended, and current after the refresh.
#[derive(Clone, Copy, Debug)]
struct PanelsOfImport {
    stored_at_end: bool,
    current: bool,
}

/// "Session panel stored; 2 other session panels brought up to date." and the like.
fn panels_line(this: PanelsOfImport, refresh: PanelRefresh) -> String {
    let mut line = if this.current {
        "Session panel stored".to_owned()
    } else {
        "The session's panel could not be stored (it is computed when read)".to_owned()
    };
    // When the replay's end did not store this session's panel, the refresh did: not one of the "other".
    let others = refresh
        .stored
        .saturating_sub(u64::from(this.current && !this.stored_at_end));
    if others > 0 {
        line.push_str(&format!(
            "; {others} other session panel{} brought up to date",
            if others == 1 { "" } else { "s" }
        ));
    }
    if refresh.failed > 0 {
        line.push_str(&format!("; {} could not be computed", refresh.failed));
    }
    line.push('.');
    line
}

async fn import_history(args: Args) -> anyhow::Result<()> {
    let db = db_path(args.db)?;
    let store = Store::open(&db).await?;
    let outcome = async {
        let summary = import::import_history(&store, &args.file).await?;
        let arrival = Arrival::Mornings {
            days: (summary.first_day..=summary.last_day).collect(),
        };
        let refreshed = crate::sync::refresh_after_stored(&store, &arrival).await;
        anyhow::Ok((summary, refreshed))
    }
    .await;
    store.close().await;
    let (summary, refreshed) = outcome?;
    if args.json {
        let mut out = serde_json::to_value(&summary)?;
        refreshed.add_to(&mut out);
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for warning in &summary.warnings {
        eprintln!("warning: {}: {warning}", args.file.display());
    }
    let date = |day: i64| auren_clock::UtcDate::from_days(day).to_string();
    println!(
        "Imported {} morning readings from {} ({}), {} to {}; stored in {}.",
        summary.readings,
        summary.file_name,
        summary.format.as_str(),
        date(summary.first_day),
        date(summary.last_day),
        db.display()
    );
    refreshed.print("After the import");
    Ok(())
}

/// `--at`: an ISO 8601 date-time (UTC unless it has an offset) or a date (its midnight UTC).
pub fn parse_at(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    history::iso_instant(text)
        .or_else(|| history::plain_date(text, false).map(|day| day * auren_clock::MS_PER_DAY))
        .with_context(|| {
            format!("--at {text:?} is not a time: write 2025-11-21T07:30:00, 2025-11-21T07:30:00+01:00 or 2025-11-21")
        })
}

#[cfg(test)]
mod tests {
    use super::parse_at;

    #[test]
    fn at_accepts_date_times_and_dates_and_names_a_bad_one() {
        let cases: [(&str, Option<i64>); 5] = [
            ("2025-11-21T04:40:00", Some(1_763_700_000_000)),
            ("2025-11-21T05:40:00+01:00", Some(1_763_700_000_000)),
            ("2025-11-21 04:40", Some(1_763_700_000_000)),
            ("1970-01-02", Some(86_400_000)),
            ("yesterday", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_at(text).ok(), want, "{text}");
        }
        let err = parse_at("yesterday").unwrap_err().to_string();
        assert!(err.contains("\"yesterday\""), "{err}");
    }
}
