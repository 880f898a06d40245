//! `auren mornings [--days N] [--athlete EMAIL] [--json]`: the stored morning readings of the last days, oldest
//! first — your own, or (on a coach's device) an athlete's as `auren sync` fetched them, which are kept apart
//! from yours and never enter your normal range.

use auren_clock::{UnixMillis, UtcDate, now_unix_ms};
use auren_store::{MorningReading, Store};
use serde::Serialize;
use std::path::PathBuf;

use crate::places::{db_path, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// How many days back from today (UTC) to list.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Print JSON (one object per morning) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// An athlete's mornings (as a coach they granted access to; fetched by `auren sync`).
    #[arg(long)]
    pub athlete: Option<String>,
}

/// A listed morning (`--json` prints these).
#[derive(Serialize)]
struct Listed {
    day: i64,
    /// `YYYY-MM-DD` (UTC calendar day).
    date: String,
    ln_rmssd: f64,
    resting_hr: Option<f64>,
    /// The session it was measured in, when this database has it.
    session_id: Option<i64>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let today = UnixMillis(now_unix_ms()).day_number();
    let from = today - i64::from(args.days) + 1;
    let readings = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let readings = match &args.athlete {
            None => store
                .morning_readings(from, today)
                .await
                .map_err(anyhow::Error::from),
            Some(email) => athlete_mornings(&store, email.trim(), from, today).await,
        };
        store.close().await;
        readings
    })?;
    let listed: Vec<Listed> = readings.iter().map(listed).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
    } else {
        print!("{}", table(&listed, args.days));
    }
    Ok(())
}

/// An athlete's mornings; an email that names no athlete of this database is refused, not listed as empty.
async fn athlete_mornings(
    store: &Store,
    email: &str,
    from: i64,
    to: i64,
) -> anyhow::Result<Vec<MorningReading>> {
    known_athlete(store, email).await?;
    Ok(store.athlete_morning_readings(email, from, to).await?)
}

fn listed(r: &MorningReading) -> Listed {
    Listed {
        day: r.day,
        date: UtcDate::from_days(r.day).to_string(),
        ln_rmssd: r.ln_rmssd,
        resting_hr: r.resting_hr,
        session_id: r.session.map(|s| s.0),
    }
}

fn table(mornings: &[Listed], days: u32) -> String {
    if mornings.is_empty() {
        return format!("No morning readings in the last {days} days.\n");
    }
    let mut out = format!(
        "{:<10}  {:>7}  {:>10}  {:>7}\n",
        "date", "lnRMSSD", "resting HR", "session"
    );
    for m in mornings {
        out.push_str(&format!(
            "{:<10}  {:>7.2}  {:>10}  {:>7}\n",
            m.date,
            m.ln_rmssd,
            m.resting_hr.map_or("–".to_owned(), |hr| format!("{hr:.0} bpm")),
            m.session_id.map_or("–".to_owned(), |id| id.to_string()),
        ));
    }
    out
}

/// Refuses an email that names no athlete of this database (an empty list would read as "no data yet").
pub(crate) async fn known_athlete(store: &Store, email: &str) -> anyhow::Result<()> {
    if !store.is_athlete(email).await? {
        anyhow::bail!(
            "{email} is not an athlete whose data this database holds: they run `auren coach grant` with your \
             email, then `auren sync` here fetches their data"
        );
    }
    Ok(())
}
