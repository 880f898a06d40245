//! `auren sessions [--json] [--athlete EMAIL]`: the recorded sessions (or an athlete's), most recent first,
//! each with where its recording stands: ended, still recording, or stopped with no end recorded.

use auren_clock::{UnixMillis, now_unix_ms};
use auren_engine::dto::{SessionEndDto, SessionSummaryDto};
use auren_store::{RecordingHere, SessionRow, Store};
use serde::Serialize;
use std::path::PathBuf;

use crate::places::db_path;
use crate::places::runtime;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON (one object per session) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// How many sessions to list.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// An athlete's sessions (as a coach they granted access to; fetched by `auren sync`).
    #[arg(long)]
    pub athlete: Option<String>,
}

/// A listed session: the engine's summary and where its recording stands (`--json` prints these).
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    summary: SessionSummaryDto,
    end: SessionEndDto,
}

fn listed(rows: &[SessionRow], now_unix_ms: i64) -> Vec<Listed> {
    rows.iter()
        .map(|row| Listed {
            summary: auren_engine::query::session_summary(row),
            // This command records nothing: every session is judged by its stored rows alone.
            end: SessionEndDto::of(row, now_unix_ms, RecordingHere::Nothing),
        })
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let rows = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let rows = match &args.athlete {
            None => store.sessions(args.limit, 0).await?,
            Some(email) => {
                let email = email.trim();
                crate::mornings::known_athlete(&store, email).await?;
                store.athlete_sessions(email, args.limit, 0).await?
            }
        };
        store.close().await;
        anyhow::Ok(rows)
    })?;
    let sessions = listed(&rows, now_unix_ms());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sessions)?);
    } else {
        print!("{}", table(&sessions));
    }
    Ok(())
}

fn table(sessions: &[Listed]) -> String {
    if sessions.is_empty() {
        return "No sessions recorded yet.\n".to_owned();
    }
    let mut out = format!(
        "{:>5}  {:<17}  {:<9}  {:>8}  {:>6}  {:>9}  {}\n",
        "id", "started (UTC)", "kind", "length", "beats", "artifacts", "source"
    );
    for Listed { summary: s, end } in sessions {
        let length = s.duration_s.map_or("–".to_owned(), |d| {
            let d = d.round() as i64;
            format!("{}:{:02}", d / 60, d % 60)
        });
        let open = end_note(*end);
        out.push_str(&format!(
            "{:>5}  {:<17}  {:<9}  {:>8}  {:>6}  {:>9}  {}{open}\n",
            s.id,
            utc_minute(s.started_at_unix_ms),
            auren_cep::SessionKind::from(s.kind).as_str(),
            length,
            s.beat_count,
            s.artifact_count,
            s.source
        ));
    }
    out
}

/// What the table adds after the source: nothing for an ended session.
fn end_note(end: SessionEndDto) -> String {
    match end {
        SessionEndDto::Ended { .. } => String::new(),
        SessionEndDto::Recording => " (recording)".to_owned(),
        SessionEndDto::NoEndRecorded {
            last_beat_at_unix_ms: Some(at),
        } => format!(" (no end recorded; last beat {} UTC)", utc_minute(at)),
        SessionEndDto::NoEndRecorded {
            last_beat_at_unix_ms: None,
        } => " (no end recorded; no beats)".to_owned(),
    }
}

/// `YYYY-MM-DD HH:MM` in UTC, from auren-clock, so every command counts days alike.
fn utc_minute(unix_ms: i64) -> String {
    UnixMillis(unix_ms).civil_minute()
}

#[cfg(test)]
mod tests {
    use super::utc_minute;

    #[test]
    fn utc_minutes_of_known_instants() {
        let cases = [
            (0, "1970-01-01 00:00"),
            (951_782_400_000, "2000-02-29 00:00"),
            (1_763_700_000_000, "2025-11-21 04:40"),
            (-60_000, "1969-12-31 23:59"),
        ];
        for (ms, want) in cases {
            assert_eq!(utc_minute(ms), want, "{ms}");
        }
    }
}
