//! Live sessions through the façade: the simulator at 60×, alerts with evidence reaching the UI sink,
//! one session at a time, tags, stop; the guided morning reading, finished and cut short; updates merged
//! to at most one message a frame.

use auren_desktop::dto::{ScenarioDto, SessionKindDto, SourceChoiceDto};
use auren_desktop::{ErrorCode, IpcError};
use auren_engine::dto::LiveUpdateDto;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use crate::support::{collector, open, rig, seed_baselines};

fn simulator(scenario: ScenarioDto) -> SourceChoiceDto {
    SourceChoiceDto::Simulator {
        scenario,
        speed: 60.0,
    }
}

/// How long a test waits for something a 60× simulator produces within a minute of its time.
const WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatigued_heart_raises_the_fatigue_alert_with_its_evidence_in_the_live_updates() {
    let dir = tempfile::tempdir().unwrap();
    // A personal range around ln(33 ms) with resting HR 60: well above what `fatigued` produces.
    seed_baselines(dir.path(), 3.5, 60.0).await;
    let desktop = open(dir.path()).await;
    let (sink, mut seen) = collector();
    let started = desktop
        .start_live(simulator(ScenarioDto::Fatigued), SessionKindDto::Rest, sink)
        .await
        .unwrap();
    assert!(started.simulated);
    assert_eq!(started.source_label, "Simulated strap — fatigued, 60× speed");
    assert_eq!(
        desktop.live_status().await.map(|s| s.session_id),
        Some(started.session_id)
    );

    let (second, _) = collector();
    let refused = desktop
        .start_live(simulator(ScenarioDto::Rest), SessionKindDto::Rest, second)
        .await
        .unwrap_err();
    assert_eq!(IpcError::from(refused).code, ErrorCode::SessionRunning);
    desktop.tag_live("poor sleep").await.unwrap();

    let fired = seen
        .until(WITHIN, |updates| {
            updates
                .iter()
                .any(|u| u.alerts.iter().any(|a| a.rule == "cns_fatigue"))
        })
        .await;
    assert!(fired, "no cns_fatigue alert within a minute at 60×");
    let alert = seen
        .all()
        .into_iter()
        .flat_map(|u| u.alerts)
        .find(|a| a.rule == "cns_fatigue")
        .unwrap();
    let names: Vec<&str> = alert.evidence.values.iter().map(|v| v.name.as_str()).collect();
    assert!(names.contains(&"avg(ln_rmssd, 2m)"), "{names:?}");

    let summary = desktop.stop_live().await.unwrap();
    assert_eq!(summary.id, started.session_id);
    assert_eq!(summary.kind, SessionKindDto::Rest);
    assert!(summary.beat_count > 100, "{summary:?}");
    assert!(desktop.live_status().await.is_none());
    let error = IpcError::from(desktop.stop_live().await.unwrap_err());
    assert_eq!(error.code, ErrorCode::NoLiveSession);

    let detail = desktop.session_detail(started.session_id).await.unwrap().detail;
    assert!(detail.alerts.iter().any(|a| a.rule == "cns_fatigue"));
    let listed = desktop.list_sessions(10, 0).await.unwrap();
    assert_eq!(listed[0].summary.source, "Simulated strap — fatigued, 60× speed");

    // The coach wrote exactly one message per CNS-fatigue alert, from the neuroscientist, linking the
    // session and asking one question, every number in it grounded.
    let fatigue_alerts = detail.alerts.iter().filter(|a| a.rule == "cns_fatigue").count();
    let conversations = desktop.conversations().await.unwrap();
    assert_eq!(conversations.len(), fatigue_alerts, "{conversations:?}");
    assert!(
        conversations[0].title.starts_with("CNS fatigue on "),
        "{conversations:?}"
    );
    let messages = desktop
        .conversation_messages(conversations[0].id, None)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(
        m.specialist,
        Some(auren_desktop::chat_dto::SpecialistDto::Neuroscientist)
    );
    assert!(
        m.text.contains(&format!("#/history/{}", started.session_id)),
        "{}",
        m.text
    );
    assert_eq!(m.text.matches('?').count(), 1, "{}", m.text);
    assert!(
        !m.claims.is_empty() && m.claims.iter().all(|c| c.grounded),
        "{:?} in {}",
        m.claims,
        m.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_morning_reading_runs_three_minutes_and_is_stored_as_todays() {
    let r = rig().await;
    let (sink, seen) = collector();
    let result = r
        .desktop
        .start_morning(simulator(ScenarioDto::Rest), sink)
        .await
        .unwrap();
    assert!(result.beats > 150, "{result:?}");
    assert!((2.5..5.5).contains(&result.ln_rmssd), "{result:?}");
    assert_eq!(result.readiness.today_ln_rmssd, Some(result.ln_rmssd));
    let last = seen.all().last().cloned().unwrap();
    assert!(last.ended && last.at_ms >= 180_000, "{last:?}");
    assert!(r.desktop.live_status().await.is_none());
    let today = r.desktop.readiness_today().await.unwrap();
    assert_eq!(today.today_ln_rmssd, Some(result.ln_rmssd));
    let trend = r.desktop.daily_trend(7).await.unwrap();
    assert_eq!(trend.len(), 7);
    assert_eq!(trend.last().unwrap().today_ln_rmssd, Some(result.ln_rmssd));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_morning_reading_stopped_early_is_incomplete_and_stores_no_reading() {
    let r = rig().await;
    let (sink, mut seen) = collector();
    let choice = SourceChoiceDto::Simulator {
        scenario: ScenarioDto::Rest,
        speed: 10.0,
    };
    let reading = async { r.desktop.start_morning(choice, sink).await };
    let stopper = async {
        assert!(seen.until(WITHIN, |updates| updates.len() > 3).await);
        r.desktop.stop_live().await.unwrap()
    };
    let (result, stopped) = tokio::join!(reading, stopper);
    let error = IpcError::from(result.unwrap_err());
    assert_eq!(error.code, ErrorCode::ReadingIncomplete, "{}", error.message);
    assert_eq!(stopped.kind, SessionKindDto::Morning);
    assert_eq!(r.desktop.readiness_today().await.unwrap().today_ln_rmssd, None);
}

#[tokio::test]
async fn a_simulator_speed_outside_1_to_60_is_refused() {
    let r = rig().await;
    for speed in [0.0, 0.5, 61.0, f64::NAN] {
        let (sink, _) = collector();
        let choice = SourceChoiceDto::Simulator {
            scenario: ScenarioDto::Rest,
            speed,
        };
        let error = IpcError::from(
            r.desktop
                .start_live(choice, SessionKindDto::Rest, sink)
                .await
                .unwrap_err(),
        );
        assert_eq!(error.code, ErrorCode::InvalidInput, "{speed}");
    }
    assert!(r.desktop.list_sessions(10, 0).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitored_source_streams_before_start_records_from_start_and_is_monitored_again_after_stop() {
    let r = rig().await;
    let choice = simulator(ScenarioDto::Rest);
    let (sink, mut monitored) = collector();
    let info = r.desktop.monitor_live(choice.clone(), sink).await.unwrap();
    assert!(info.simulated);
    assert_eq!(info.source_label, "Simulated strap — rest, 60× speed");
    // Heart rate and beats before any session exists (~100 beats is over a minute of session time).
    let streaming = monitored
        .until(WITHIN, |updates| {
            updates.iter().any(|u| u.heart_rate_bpm.is_some())
                && updates.iter().map(|u| u.beats.len()).sum::<usize>() > 100
        })
        .await;
    assert!(streaming, "no heart rate and beats while monitoring");
    assert!(monitored.all().iter().all(|u| u.session_id.is_none()));
    assert!(r.desktop.live_status().await.is_none());
    assert!(r.desktop.list_sessions(10, 0).await.unwrap().is_empty());
    let monitored_until_ms = monitored.all().last().unwrap().at_ms;
    assert!(monitored_until_ms > 60_000, "{monitored_until_ms}");

    let (sink, mut recorded) = collector();
    let started = r
        .desktop
        .start_live(choice.clone(), SessionKindDto::Exercise, sink)
        .await
        .unwrap();
    assert_eq!(started.source_label, info.source_label);
    let (other, _) = collector();
    let refused = r.desktop.monitor_live(choice.clone(), other).await.unwrap_err();
    assert_eq!(IpcError::from(refused).code, ErrorCode::SessionRunning);
    let recording = recorded
        .until(WITHIN, |updates| {
            updates
                .iter()
                .filter(|u| u.session_id == Some(started.session_id))
                .map(|u| u.beats.len())
                .sum::<usize>()
                > 20
        })
        .await;
    assert!(recording, "the recording's updates did not reach the new sink");
    let summary = r.desktop.stop_live().await.unwrap();
    assert_eq!(summary.kind, SessionKindDto::Exercise);
    assert_eq!(summary.started_at_unix_ms, started.started_at_unix_ms);

    // The stored session starts at Start: its clock and beat indices begin again at zero.
    let stored = r.desktop.session_charts(started.session_id).await.unwrap().beats;
    assert_eq!(stored.len() as i64, summary.beat_count);
    assert_eq!(stored.first().map(|b| b.index), Some(0));
    let first_ms = stored.first().map_or(f64::NAN, |b| b.at_ms);
    assert!(first_ms < 30_000.0, "first stored beat at {first_ms} ms");
    assert_eq!(r.desktop.list_sessions(10, 0).await.unwrap().len(), 1);

    // Stopping the session goes back to monitoring the same source, into the same window.
    assert_eq!(r.desktop.monitor_status().await, Some(info));
    let again = recorded
        .until(WITHIN, |updates| {
            updates
                .iter()
                .rev()
                .take_while(|u| u.session_id.is_none())
                .any(|u| !u.beats.is_empty())
        })
        .await;
    assert!(again, "no monitoring updates after the session stopped");
    r.desktop.stop_monitor().await;
    assert_eq!(r.desktop.monitor_status().await, None);
    assert_eq!(r.desktop.list_sessions(10, 0).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_another_source_replaces_the_monitored_one() {
    let r = rig().await;
    let (sink, _) = collector();
    r.desktop
        .monitor_live(simulator(ScenarioDto::Rest), sink)
        .await
        .unwrap();
    let (sink, mut seen) = collector();
    let info = r
        .desktop
        .monitor_live(simulator(ScenarioDto::Exercise), sink)
        .await
        .unwrap();
    assert_eq!(info.source_label, "Simulated strap — exercise, 60× speed");
    assert_eq!(r.desktop.monitor_status().await, Some(info));
    assert!(seen.until(WITHIN, |updates| !updates.is_empty()).await);
    // The morning reading takes the source over from monitoring.
    let (sink, _) = collector();
    let choice = SourceChoiceDto::Simulator {
        scenario: ScenarioDto::Rest,
        speed: 60.0,
    };
    let result = r.desktop.start_morning(choice, sink).await.unwrap();
    assert!(result.beats > 150, "{result:?}");
    assert_eq!(r.desktop.monitor_status().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60x_source_reaches_the_window_at_most_once_a_frame_with_every_beat_in_order() {
    let r = rig().await;
    let arrivals = Arc::new(StdMutex::new(Vec::<(Instant, LiveUpdateDto)>::new()));
    let keep = arrivals.clone();
    let (sink, mut seen) = collector();
    let mut inner = sink;
    let timed: auren_desktop::UpdateSink = Box::new(move |u| {
        keep.lock().unwrap().push((Instant::now(), u.clone()));
        inner(u)
    });
    r.desktop
        .monitor_live(simulator(ScenarioDto::Rest), timed)
        .await
        .unwrap();
    // 300 beats: several seconds of a 60× source, which emits many updates in each frame.
    let enough = seen
        .until(WITHIN, |updates| {
            updates.iter().map(|u| u.beats.len()).sum::<usize>() >= 300
        })
        .await;
    r.desktop.stop_monitor().await;
    assert!(enough, "fewer than 300 beats arrived");

    let arrivals = arrivals.lock().unwrap().clone();
    // The session's last update (`ended`, sent when monitoring stops) is flushed at once, however soon after
    // the one before: every other message waits for its frame.
    let gaps: Vec<Duration> = arrivals
        .windows(2)
        .filter(|w| !w[1].1.ended)
        .map(|w| w[1].0 - w[0].0)
        .collect();
    let shortest = gaps.iter().min().copied().unwrap_or(Duration::MAX);
    // One message a frame at 30 Hz (33 ms); a busy scheduler may bunch two a little, never to half that.
    assert!(
        shortest >= Duration::from_millis(16),
        "two messages {shortest:?} apart"
    );
    // Merging loses nothing: beat indices run on without a gap or repeat.
    let indices: Vec<u64> = arrivals
        .iter()
        .flat_map(|(_, u)| u.beats.iter().map(|b| b.index))
        .collect();
    let first = indices[0];
    let expected: Vec<u64> = (first..first + indices.len() as u64).collect();
    assert_eq!(indices, expected);
    assert!(
        arrivals.iter().any(|(_, u)| u.beats.len() > 1),
        "no message carried more than one beat: nothing was merged"
    );
}
