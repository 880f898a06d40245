//! Crash safety: the recorder binary writes a beat every millisecond through a SessionWriter and is
//! SIGKILLed 20 times at seeded random moments (after a random number of reported beats). After each kill
//! the database must pass `PRAGMA integrity_check`, hold exactly a prefix of the beats the recorder reported
//! handing to the writer, miss only beats from the last second before the kill, and keep the session's
//! counters and the outbox in step with the beats (they commit in one transaction).

use crate::splitmix64::SplitMix64;
use auren_store::{OutboxKind, SessionId, Store};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const KILLS: usize = 20;

/// Reads one whole line; `None` at the end or on a line cut short by the kill.
fn whole_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(n) if n > 0 && line.ends_with('\n') => Some(line.trim_end().to_owned()),
        _ => None,
    }
}

pub(crate) struct Run {
    pub(crate) session: SessionId,
    pub(crate) reported: Vec<f64>,
}

/// Starts the recorder, kills it once the beats it reported so far satisfy `kill_when`, and returns every
/// beat it reported.
pub(crate) fn record_and_kill(db: &std::path::Path, kill_when: impl Fn(&[f64]) -> bool) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auren-store-recorder"))
        .arg(db)
        .arg("300")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the recorder");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let first = whole_line(&mut out).expect("the recorder names its session");
    let session = SessionId(
        first
            .strip_prefix("session ")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}")),
    );
    let mut reported = Vec::new();
    let parse = |line: String| -> f64 {
        line.strip_prefix("beat ")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
    };
    while !kill_when(&reported) {
        let line = whole_line(&mut out).expect("the recorder keeps reporting");
        reported.push(parse(line));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    // Lines the recorder wrote before dying are still in the pipe: they count as handed to the writer.
    while let Some(line) = whole_line(&mut out) {
        reported.push(parse(line));
    }
    Run { session, reported }
}

#[test]
fn sigkilled_recorder_loses_at_most_the_last_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crash.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rng = SplitMix64(0x00A0_2E57_0CE5_2026);
    let mut sessions = Vec::new();
    for kill in 0..KILLS {
        // 20 ms to 1.5 s of recording: kills land before, during and between commits.
        let kill_after = 20 + (rng.next() % 1_480) as usize;
        let run = record_and_kill(&db, |reported| reported.len() >= kill_after);
        let last_reported = *run.reported.last().expect("beats reported");
        runtime.block_on(async {
            let store = Store::open(&db).await.expect("reopen after the kill");
            let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_all(store.pool())
                .await
                .expect("integrity_check");
            assert_eq!(check, vec!["ok".to_owned()], "kill {kill}");

            let stored: Vec<f64> = store
                .beats(run.session)
                .await
                .expect("beats")
                .iter()
                .map(|b| b.t_ms)
                .collect();
            assert!(
                stored.len() <= run.reported.len() && stored[..] == run.reported[..stored.len()],
                "kill {kill}: the stored beats are not a prefix of the reported ones"
            );
            let missing = &run.reported[stored.len()..];
            if let Some(first_missing) = missing.first() {
                assert!(
                    last_reported - first_missing < 1_000.0,
                    "kill {kill}: lost {} beats from {first_missing} ms to {last_reported} ms",
                    missing.len()
                );
            }

            let session = store
                .session(run.session)
                .await
                .expect("session")
                .expect("stored");
            assert_eq!(session.beat_count, stored.len() as i64, "kill {kill}: beat_count");
            assert_eq!(
                session.last_beat_ms,
                stored.last().copied(),
                "kill {kill}: last_beat_ms"
            );
            let outboxed: i64 = store
                .outbox_pending(u32::MAX)
                .await
                .expect("outbox")
                .iter()
                .filter(|r| r.kind == OutboxKind::Beats && r.session_id == Some(run.session))
                .map(|r| r.rows)
                .sum();
            assert_eq!(outboxed, stored.len() as i64, "kill {kill}: outbox rows");
            eprintln!(
                "kill {kill:2}: reported {:5} beats, stored {:5}, lost {:4} ({:.0} ms)",
                run.reported.len(),
                stored.len(),
                missing.len(),
                missing.first().map_or(0.0, |t| last_reported - t)
            );
            store.close().await;
        });
        sessions.push(run.session);
    }
    sessions.dedup();
    assert_eq!(sessions.len(), KILLS, "every run recorded its own session");
}
