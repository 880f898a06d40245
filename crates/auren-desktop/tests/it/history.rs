//! History's sessions say where each recording stands: a session whose recording process died shows no
//! end and its last beat, one being recorded elsewhere shows recording, an ended one its end — in the list
//! and in the session view, over a real database the desktop opens.

use auren_desktop::dto::{ScenarioDto, SessionEndDto, SessionKindDto, SourceChoiceDto};
use auren_store::{NewSession, SessionKind, Store};
use std::path::Path;

use crate::support::{collector, open};

/// A session of `beats` beats of one second, started at `started_at`; ended at its last beat when `end`.
async fn seed(store: &Store, started_at: i64, beats: u32, end: End) -> i64 {
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
    let writer = store.session_writer(id).await.unwrap();
    for i in 1..=beats {
        writer.beat(f64::from(i) * 1_000.0, 1_000.0, None);
    }
    writer.finish().await.unwrap();
    if end == End::AtLastBeat {
        store
            .end_session(id, started_at + i64::from(beats) * 1_000)
            .await
            .unwrap();
    }
    id.0
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    AtLastBeat,
    /// What a killed recorder leaves (the store's crash test shows it): beats committed, no end time.
    Never,
}

async fn seed_three(dir: &Path, now: i64) -> [(i64, SessionEndDto); 3] {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let two_hours_ago = now - 2 * 3_600_000;
    let killed = seed(&store, two_hours_ago, 38 * 60, End::Never).await;
    let ended = seed(&store, two_hours_ago - 3_600_000, 600, End::AtLastBeat).await;
    // Its last beat a few seconds old: being recorded by another process or device.
    let elsewhere = seed(&store, now - 60_000, 55, End::Never).await;
    store.close().await;
    [
        (
            killed,
            SessionEndDto::NoEndRecorded {
                last_beat_at_unix_ms: Some(two_hours_ago + 38 * 60_000),
            },
        ),
        (
            ended,
            SessionEndDto::Ended {
                at_unix_ms: two_hours_ago - 3_600_000 + 600_000,
            },
        ),
        (elsewhere, SessionEndDto::Recording),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_without_an_end_shows_it_and_its_last_beat_in_the_list_and_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let expected = seed_three(dir.path(), auren_clock::now_unix_ms()).await;
    let desktop = open(dir.path()).await;

    let listed = desktop.list_sessions(10, 0).await.unwrap();
    assert_eq!(listed.len(), 3);
    for (id, end) in &expected {
        let item = listed.iter().find(|s| s.summary.id == *id).unwrap();
        assert_eq!(item.end, *end, "session {id} in the list");
        let view = desktop.session_detail(*id).await.unwrap();
        assert_eq!(view.end, *end, "session {id} in its view");
        assert_eq!(view.detail.summary.id, *id);
    }
    let killed = listed.iter().find(|s| s.summary.id == expected[0].0).unwrap();
    assert_eq!(
        killed.summary.duration_s,
        Some(38.0 * 60.0),
        "its length runs to the last beat"
    );
    assert_eq!(killed.summary.ended_at_unix_ms, None, "the end is not guessed");

    // A recording this app runs is recording, and the JSON the UI reads says so by name.
    let (sink, _seen) = collector();
    let started = desktop
        .start_live(
            SourceChoiceDto::Simulator {
                scenario: ScenarioDto::Rest,
                speed: 60.0,
            },
            SessionKindDto::Rest,
            sink,
        )
        .await
        .unwrap();
    let listed = desktop.list_sessions(10, 0).await.unwrap();
    let live = listed
        .iter()
        .find(|s| s.summary.id == started.session_id)
        .unwrap();
    assert_eq!(live.end, SessionEndDto::Recording);
    let json = serde_json::to_value(&listed).unwrap();
    let killed_json = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == expected[0].0)
        .unwrap();
    assert_eq!(killed_json["end"]["state"], "no_end_recorded", "{killed_json}");
    let SessionEndDto::NoEndRecorded {
        last_beat_at_unix_ms: Some(last_beat),
    } = expected[0].1
    else {
        unreachable!("seeded without an end")
    };
    assert_eq!(
        killed_json["end"]["last_beat_at_unix_ms"], last_beat,
        "{killed_json}"
    );
    let stopped = desktop.stop_live().await.unwrap();
    let listed = desktop.list_sessions(10, 0).await.unwrap();
    let item = listed.iter().find(|s| s.summary.id == stopped.id).unwrap();
    assert!(matches!(item.end, SessionEndDto::Ended { .. }), "{:?}", item.end);
}
