//! History's sessions say where each recording stands: a session with no end and nothing stored for 10
//! minutes shows no end recorded and its last beat, one being recorded elsewhere shows recording, an ended
//! one its end — in the list and in the session view, over a real database the desktop opens; the session
//! this app records shows recording however long its strap is silent, there and in the chat's tools.

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

    // While this app records a session (its silence: the test below), the JSON the UI reads names each
    // state.
    let (sink, _seen) = collector();
    desktop
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_this_app_records_stays_recording_however_long_its_strap_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let desktop = open(dir.path()).await;
    // A recording this app runs is recording however long its strap is silent — in History's list and
    // view, and in what the chat's tools say. Its start is moved three hours back in the file, so by the
    // stored rows alone its last beat (its start, while it has none) is long past the quiet span: only the
    // app's knowledge that it records it keeps it recording.
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
    silence(&desktop.app_info().db_path, started.session_id).await;
    let listed = desktop.list_sessions(10, 0).await.unwrap();
    let live = listed
        .iter()
        .find(|s| s.summary.id == started.session_id)
        .unwrap();
    assert!(
        live.summary.started_at_unix_ms < auren_clock::now_unix_ms() - 2 * 3_600_000,
        "the silence is in the row"
    );
    assert_eq!(live.end, SessionEndDto::Recording, "in the list");
    let view = desktop.session_detail(started.session_id).await.unwrap();
    assert_eq!(view.end, SessionEndDto::Recording, "in its view");
    // The offline analyst words what get_session returned: no provider is set up.
    let answer = offline_answer_about_the_last_session(&desktop).await;
    assert!(answer.contains(", still recording):"), "{answer}");
    let stopped = desktop.stop_live().await.unwrap();
    assert_eq!(stopped.id, started.session_id);
}

/// Moves session `id`'s start three hours back in the database at `db`, as if its strap had been silent
/// that long (the clock of History is the system's).
async fn silence(db: &str, id: i64) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET started_at = started_at - 3 * 3600000 WHERE id = ?")
        .bind(id)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Asks the chat (no AI provider set up: the offline analyst answers from the tools) about the last
/// session; returns the answer.
async fn offline_answer_about_the_last_session(desktop: &auren_desktop::Desktop) -> String {
    use auren_desktop::chat_dto::{ChatEventDto, ChatSendDto};
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let sink: auren_desktop::ChatSink = Box::new(move |event| tx.send(event).is_ok());
    let request = ChatSendDto {
        conversation: None,
        text: "How did my last session go?".into(),
        replaces: None,
        model: None,
    };
    desktop.chat_send(request, sink).await.unwrap();
    loop {
        // The turn goes on, and ends with done (a closed channel would be a turn that ended without it).
        let event = tokio::time::timeout(std::time::Duration::from_secs(60), events.recv())
            .await
            .unwrap()
            .unwrap();
        match event {
            ChatEventDto::Done { answer, offline, .. } => {
                assert!(offline, "no provider is set up");
                return answer;
            }
            ChatEventDto::Error { code, message } => panic!("{code}: {message}"),
            _ => {}
        }
    }
}
