//! `auren_engine::panels::refresh_panels` on a real SQLite file: sessions without an end time (the recording
//! process killed, an import crashed) get their panel stored by the next refresh once their last beat is
//! [`UNENDED_SESSION_QUIET_MS`] old, like ended sessions; a session still being recorded does not, and a
//! stored panel goes stale when beats arrive after it.

use auren_engine::panels::{
    UNENDED_SESSION_QUIET_MS, compute_panel, is_over, panel_is_current, refresh_panels,
};
use auren_store::{NewSession, SessionId, SessionKind, Store};

use crate::session::{STARTED_AT, store};

/// When the refresh runs.
const NOW: i64 = STARTED_AT + 6 * 3_600_000;

/// How a recording stopped.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// The recorder ended it (an end time stored).
    Ended,
    /// The recorder stopped writing without ending it: killed, crashed, or still recording.
    NoEndTime,
}

/// A session of `n` beats of 1,000 ms whose last beat is at wall time `last_beat_at` (`n` > 0), or which
/// started then (`n` = 0).
async fn recording(store: &Store, last_beat_at: i64, n: u32, stop: Stop) -> SessionId {
    let started_at = last_beat_at - i64::from(n) * 1_000;
    let id = store
        .start_session(&NewSession {
            started_at,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    append_beats(store, id, 0, n).await;
    if let Stop::Ended = stop {
        store.end_session(id, last_beat_at).await.unwrap();
    }
    id
}

/// Beats `from..from + n` of session `id` (1,000 ms apart, with some variation so the panel has values).
async fn append_beats(store: &Store, id: SessionId, from: u32, n: u32) {
    let w = store.session_writer(id).await.unwrap();
    for i in from..from + n {
        let rr = 1_000.0 + 40.0 * (f64::from(i) / 4.0).sin();
        // Session times 1 s apart: the RR values vary around that, as a strap's would.
        w.beat(f64::from(i + 1) * 1_000.0, rr, None);
    }
    w.finish().await.unwrap();
}

#[tokio::test]
async fn a_killed_session_gets_its_panel_on_the_next_refresh_and_a_live_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let minute = 60_000;
    // (what, last beat at, beats, how it stopped, panel stored by the refresh)
    let cases = [
        ("ended an hour ago", NOW - 60 * minute, 300, Stop::Ended, true),
        (
            "killed five hours ago",
            NOW - 5 * 60 * minute,
            300,
            Stop::NoEndTime,
            true,
        ),
        (
            "being recorded, last beat a second ago",
            NOW - 1_000,
            300,
            Stop::NoEndTime,
            false,
        ),
        (
            "silent for a second less than the bound",
            NOW - UNENDED_SESSION_QUIET_MS + 1_000,
            300,
            Stop::NoEndTime,
            false,
        ),
        (
            "silent for a second more than the bound",
            NOW - UNENDED_SESSION_QUIET_MS - 1_000,
            300,
            Stop::NoEndTime,
            true,
        ),
        (
            "killed before its first beat",
            NOW - 5 * 60 * minute,
            0,
            Stop::NoEndTime,
            false,
        ),
    ];
    let mut ids = Vec::new();
    {
        let store = store(&dir).await;
        for (_, last_beat, n, stop, _) in cases {
            ids.push(recording(&store, last_beat, n, stop).await);
        }
        store.close().await;
    }
    // The app starts again on the same file.
    let store = store(&dir).await;
    let done = refresh_panels(&store, NOW).await.unwrap();
    let want = cases.iter().filter(|c| c.4).count() as u64;
    assert_eq!((done.stored, done.failed), (want, 0));
    for ((what, last_beat, n, _, stored), id) in cases.iter().zip(&ids) {
        assert_eq!(panel_is_current(&store, id.0).await.unwrap(), *stored, "{what}");
        let row = store.session(*id).await.unwrap().unwrap();
        // The rule the refresh's query applies, as the engine states it for readers.
        assert_eq!(is_over(&row, NOW), *stored, "{what}");
        assert_eq!(row.last_beat_at(), (*n > 0).then_some(*last_beat), "{what}");
    }
    assert_eq!(
        refresh_panels(&store, NOW).await.unwrap().stored,
        0,
        "nothing left to do"
    );

    // The live session goes on recording, stops without an end time, and is over ten minutes later.
    let live = ids[2];
    append_beats(&store, live, 300, 60).await;
    let later = NOW + 60_000 + UNENDED_SESSION_QUIET_MS + 1;
    let done = refresh_panels(&store, later).await.unwrap();
    // With it, the one silent for a second less than the bound, silent for longer now.
    assert_eq!(done.stored, 2);
    assert!(panel_is_current(&store, live.0).await.unwrap());
    assert!(panel_is_current(&store, ids[3].0).await.unwrap());
    let stored = store
        .session_panel_view(live)
        .await
        .unwrap()
        .unwrap()
        .panel
        .unwrap();
    assert_eq!(stored.values, compute_panel(&store, live.0).await.unwrap().values);
}

#[tokio::test]
async fn a_session_taken_for_over_whose_beats_resume_gets_its_panel_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // A strap out of reach for longer than the bound: taken for over, its panel stored.
    let id = recording(
        &store,
        NOW - UNENDED_SESSION_QUIET_MS - 1_000,
        300,
        Stop::NoEndTime,
    )
    .await;
    assert_eq!(refresh_panels(&store, NOW).await.unwrap().stored, 1);
    let before = store
        .session_panel_view(id)
        .await
        .unwrap()
        .unwrap()
        .panel
        .unwrap();
    // Contact again: beats after the stored panel make it stale, never read as current.
    append_beats(&store, id, 300, 120).await;
    assert!(!panel_is_current(&store, id.0).await.unwrap());
    let after_more = NOW + 2 * UNENDED_SESSION_QUIET_MS;
    assert_eq!(refresh_panels(&store, after_more).await.unwrap().stored, 1);
    let after = store
        .session_panel_view(id)
        .await
        .unwrap()
        .unwrap()
        .panel
        .unwrap();
    assert_eq!((before.beat_count, after.beat_count), (300, 420));
    assert!(panel_is_current(&store, id.0).await.unwrap());
}
