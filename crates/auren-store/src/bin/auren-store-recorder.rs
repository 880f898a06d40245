//! auren-store-recorder: records a synthetic session into a database through [`SessionWriter`], one beat
//! per millisecond of wall time, printing `beat <t_ms>` after handing each beat to the writer. The crash
//! test SIGKILLs it mid-write and compares what it printed with what the database kept.
//!
//! Usage: `auren-store-recorder DB_PATH [SECONDS]` (stops by itself after SECONDS, 60 by default).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_store::{NewSession, SessionKind, Store, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(db) = args.next().map(PathBuf::from) else {
        eprintln!("usage: auren-store-recorder DB_PATH [SECONDS]");
        return std::process::ExitCode::from(2);
    };
    let seconds = match args.next().map(|s| s.to_string_lossy().parse::<u64>()) {
        None => 60,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("auren-store-recorder: SECONDS: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match record(&db, Duration::from_secs(seconds)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auren-store-recorder: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn record(db: &std::path::Path, length: Duration) -> Result<(), StoreError> {
    let store = Store::open(db).await?;
    let session = store
        .start_session(&NewSession {
            started_at: 0,
            kind: SessionKind::Other,
            source: "recorder".into(),
            strap_address: None,
            label: Some("crash test".into()),
        })
        .await?;
    let writer = store.session_writer(session).await?;
    let mut out = std::io::stdout().lock();
    // A closed stdout (the reader is gone) only stops the progress lines, never the recording.
    let _ = writeln!(out, "session {session}").and_then(|()| out.flush());
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut last = 0.0;
    while start.elapsed() < length {
        tick.tick().await;
        let t_ms = start.elapsed().as_secs_f64() * 1000.0;
        if t_ms <= last {
            continue;
        }
        writer.beat(t_ms, t_ms - last, None);
        last = t_ms;
        let _ = writeln!(out, "beat {t_ms}").and_then(|()| out.flush());
    }
    drop(out);
    writer.finish().await?;
    store.end_session(session, 0).await?;
    Ok(())
}
