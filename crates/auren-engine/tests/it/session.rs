//! Live sessions on a real SQLite store: alerts with evidence persisted, artifact labels stored, the
//! update throttle, shutdown mid-session.

use std::time::Duration;

use auren_cep::{BaselineField, Baselines, DEFAULT_RULES, SessionKind, compile};
use auren_engine::dto::LiveUpdateDto;
use auren_engine::{LiveSession, RecordConfig, SessionConfig, SessionEnd, start_monitor, start_session};
use auren_store::{SessionId, Store};
use auren_strap::replay::Replay;
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{HeartSource, Pace};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::support::reference;

pub const STARTED_AT: i64 = 1_763_700_000_000;

pub async fn store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("auren.db")).await.unwrap()
}

pub fn simulator(scenario: Scenario, duration_s: Option<u64>, pace: Pace) -> Box<dyn HeartSource> {
    let mut config = SimulatorConfig::new(scenario, 11);
    config.duration = duration_s.map(Duration::from_secs);
    config.pace = pace;
    Box::new(Simulator::new(config).unwrap())
}

fn config(kind: SessionKind, baselines: Baselines) -> SessionConfig {
    SessionConfig::new(kind, STARTED_AT, compile(DEFAULT_RULES).unwrap(), baselines)
}

/// Waits until an update at or past `at_ms` of session time; a slow subscriber may skip updates, which
/// is fine here, but a session that ends first fails the test.
async fn wait_until(live: &mut LiveSession, at_ms: i64) {
    loop {
        match live.updates.recv().await {
            Ok(update) if update.at_ms >= at_ms => return,
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => panic!("the session ended by itself"),
        }
    }
}

/// Every update of a session until its last one.
async fn drain(live: &mut LiveSession) -> Vec<LiveUpdateDto> {
    let mut updates = Vec::new();
    loop {
        match live.updates.recv().await {
            Ok(update) => {
                let ended = update.ended;
                updates.push(update);
                if ended {
                    return updates;
                }
            }
            Err(RecvError::Lagged(n)) => panic!("the test subscriber lagged by {n}"),
            Err(RecvError::Closed) => return updates,
        }
    }
}

#[tokio::test]
async fn fatigued_session_fires_cns_fatigue_with_evidence_and_stores_beats_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // Personal normal range around ln(33 ms) and resting HR 60: well above what `fatigued` produces.
    let baselines = Baselines::new()
        .with(BaselineField::LnRmssdLo, 3.3)
        .with(BaselineField::LnRmssdHi, 3.7)
        .with(BaselineField::RestingHr, 60.0);
    let source = simulator(Scenario::Fatigued, Some(600), Pace::AsFastAsPossible);
    let live = start_session(
        &store,
        source,
        config(SessionKind::Rest, baselines),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let id = live.session_id();
    let summary = live.finish().await.unwrap();
    assert_eq!(summary.ended, SessionEnd::SourceFinished);
    assert_eq!(summary.written.dropped, 0);
    assert_eq!(summary.written.rejected, 0);

    let fatigue: Vec<_> = summary
        .alerts
        .iter()
        .filter(|a| a.rule == "cns_fatigue")
        .collect();
    assert_eq!(fatigue.len(), 1, "{:?}", summary.alerts);
    let evidence = &fatigue[0].evidence;
    let value = |name: &str| {
        evidence
            .values
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value)
            .unwrap_or_else(|| panic!("{name} missing from {evidence:?}"))
    };
    assert!(value("avg(ln_rmssd, 2m)") < 3.3);
    assert!(value("avg(hr, 2m)") > 65.0);
    assert_eq!(
        evidence.held_since_ms.map(|t| fatigue[0].at_ms - t),
        Some(120_000)
    );

    let beats = store.beats(SessionId(id)).await.unwrap();
    assert_eq!(beats.len() as u64, summary.beats);
    assert!(beats.len() > 600, "{} beats in 10 min at ~72 bpm", beats.len());
    let row = store.session(SessionId(id)).await.unwrap().unwrap();
    assert_eq!(row.ended_at, Some(STARTED_AT + summary.duration_ms));
    assert_eq!(row.beat_count as usize, beats.len());

    // The contact and link changes the rules were told are stored: the link up at 0, contact with the first
    // notification (at or before the first heart-rate sample: the strap's first notifications may carry
    // no heart rate yet).
    let signals = store.signal_changes(SessionId(id)).await.unwrap();
    assert_eq!(signals.len() as u64, summary.written.signals);
    let first_hr = store.hr_samples(SessionId(id)).await.unwrap()[0].0;
    assert_eq!(
        signals[0],
        auren_store::SignalRow {
            t_ms: 0.0,
            signal: auren_store::Signal::Link,
            up: true
        }
    );
    assert!(
        signals[1].signal == auren_store::Signal::Contact
            && signals[1].up
            && (1.0..=first_hr).contains(&signals[1].t_ms),
        "{signals:?}, first heart rate at {first_hr}"
    );

    let stored = auren_engine::query::alerts_between(&store, STARTED_AT, STARTED_AT + 3_600_000)
        .await
        .unwrap();
    let stored_fatigue: Vec<_> = stored.iter().filter(|a| a.rule == "cns_fatigue").collect();
    assert_eq!(stored_fatigue.len(), 1);
    assert_eq!(stored_fatigue[0].evidence, *evidence);
    assert_eq!(stored_fatigue[0].message, fatigue[0].message);
}

#[tokio::test]
async fn exercise_session_fires_the_aerobic_threshold_alert() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let source = simulator(Scenario::Exercise, Some(1_320), Pace::AsFastAsPossible);
    let live = start_session(
        &store,
        source,
        config(SessionKind::Exercise, Baselines::new()),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let summary = live.finish().await.unwrap();
    let crossing: Vec<_> = summary
        .alerts
        .iter()
        .filter(|a| a.rule == "aerobic_threshold")
        .collect();
    assert_eq!(crossing.len(), 1, "{:?}", summary.alerts);
    let alpha = crossing[0]
        .evidence
        .values
        .iter()
        .find(|v| v.name == "dfa_alpha1")
        .unwrap();
    assert!(alpha.value < 0.75);
    // The ramp starts near α1 = 1: the threshold is crossed well into it, not at the start.
    assert!(crossing[0].at_ms > 300_000, "{}", crossing[0].at_ms);
    let dfa = store
        .metric_series(SessionId(summary.session_id), "dfa_alpha1")
        .await
        .unwrap();
    assert!(dfa.first().unwrap().1 > 0.85, "{:?}", dfa.first());
    assert!(dfa.last().unwrap().1 < 0.65, "{:?}", dfa.last());
}

#[tokio::test]
async fn replayed_reference_recording_stores_its_three_artifact_labels() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let source = Replay::open_rr_file(&reference("nsr_5min_artifacts.rr"), Pace::AsFastAsPossible).unwrap();
    let live = start_session(
        &store,
        Box::new(source),
        config(SessionKind::Rest, Baselines::new()),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let summary = live.finish().await.unwrap();
    let beats = store.beats(SessionId(summary.session_id)).await.unwrap();
    let labels: Vec<(usize, &str)> = beats
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.artifact.as_deref().map(|a| (i, a)))
        .collect();
    assert_eq!(labels, vec![(100, "missed"), (199, "extra"), (250, "ectopic")]);
    let detail = auren_engine::query::session_detail(&store, summary.session_id)
        .await
        .unwrap();
    assert_eq!(detail.summary.artifact_count, 3);
    let rmssd = detail.panel.iter().find(|m| m.key == "rmssd_ms").unwrap();
    let clean = 101.300_634_017_665_22;
    let got = rmssd.value.unwrap();
    assert!((got - clean).abs() / clean < 0.05, "corrected RMSSD {got}");
}

/// A capture with a notification every `period_ms`, each carrying the beats that ended since the
/// previous one, from a 60 bpm heart with a little variability.
fn dense_capture(period_ms: u64, seconds: u64) -> String {
    use auren_hrm::capture::{CaptureHeader, format_header, format_record};
    use auren_hrm::{
        HeartRateMeasurement, HrFormat, RrInterval, SensorContact, encode_heart_rate_measurement,
    };
    let mut text = format_header(&CaptureHeader::new().with_device_name("dense"));
    let mut next_beat = 1_000;
    for k in 1..=(seconds * 1000 / period_ms) {
        let at = k * period_ms;
        let mut rr = Vec::new();
        while next_beat <= at {
            // 1000 ms ± a few ticks so the windows see variability.
            let ms = 1000.0 + 30.0 * ((next_beat / 1000) as f64 * 0.9).sin();
            rr.extend(RrInterval::from_ms(ms));
            next_beat += 1000;
        }
        let m = HeartRateMeasurement {
            heart_rate_bpm: 60,
            contact: SensorContact::Detected,
            energy_expended_kj: None,
            rr,
        };
        text.push_str(&format_record(
            at,
            &encode_heart_rate_measurement(&m, HrFormat::U8),
        ));
    }
    text
}

#[tokio::test]
async fn subscribers_get_at_most_ten_updates_per_session_second_and_every_beat() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // 50 notifications per second: without the throttle there would be 50 updates a second. 60 s
    // give ~600 updates, fewer than the channel holds, so the subscriber cannot lag.
    let text = dense_capture(20, 60);
    let source = Replay::capture_text(&text, "dense", Pace::AsFastAsPossible).unwrap();
    let mut live = start_session(
        &store,
        Box::new(source),
        config(SessionKind::Rest, Baselines::new()),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let updates = drain(&mut live).await;
    let summary = live.finish().await.unwrap();

    let mut per_second = std::collections::BTreeMap::new();
    for u in &updates {
        *per_second.entry(u.at_ms.div_euclid(1000)).or_insert(0) += 1;
    }
    let busiest = per_second.values().copied().max().unwrap();
    assert!(busiest <= 10, "{busiest} updates in one session second");
    assert!(
        busiest >= 9,
        "the throttle lets about 10 a second through, got {busiest}"
    );
    let beats: usize = updates.iter().map(|u| u.beats.len()).sum();
    assert_eq!(beats as u64, summary.beats);
    assert!(updates.last().unwrap().ended);
}

#[tokio::test]
async fn shutdown_mid_session_flushes_pending_beats_and_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let shutdown = CancellationToken::new();
    // Endless until shutdown. (Paused tokio time is not used: it would time out the database pool.)
    let source = simulator(Scenario::Rest, None, Pace::AsFastAsPossible);
    let mut live = start_session(
        &store,
        source,
        config(SessionKind::Rest, Baselines::new()),
        shutdown.clone(),
    )
    .await
    .unwrap();
    wait_until(&mut live, 90_000).await;
    shutdown.cancel();
    let summary = live.finish().await.unwrap();
    assert_eq!(summary.ended, SessionEnd::Stopped);
    // The session runs on while the cancellation travels; it ends wherever it was.
    assert!(summary.duration_ms >= 90_000, "{}", summary.duration_ms);

    // Every beat received was stored, including the last ones still waiting for their label
    // (without the flush the stored series would end LABEL_LAG_BEATS beats, ~16 s, early).
    let stored = store.beats(SessionId(summary.session_id)).await.unwrap();
    assert_eq!(stored.len() as u64, summary.beats);
    let last = stored.last().unwrap().t_ms;
    assert!(
        last > summary.duration_ms as f64 - 2_500.0,
        "last beat at {last} ms, session ended at {} ms",
        summary.duration_ms
    );
    let row = store
        .session(SessionId(summary.session_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.ended_at, Some(STARTED_AT + summary.duration_ms));
}

#[tokio::test]
async fn a_session_on_a_strap_links_it_and_keeps_the_name_it_advertises() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let mut config = config(SessionKind::Rest, Baselines::new());
    config.strap = Some(auren_engine::StrapIdentity {
        address: "A0:9E:1A:12:34:56".to_owned(),
        name: "strap A0:9E:1A:12:34:56".to_owned(),
    });
    let source = simulator(Scenario::Rest, Some(30), Pace::AsFastAsPossible);
    let live = start_session(&store, source, config, CancellationToken::new())
        .await
        .unwrap();
    let summary = live.finish().await.unwrap();
    let row = store
        .session(SessionId(summary.session_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.strap_address.as_deref(), Some("A0:9E:1A:12:34:56"));
    let straps = store.straps().await.unwrap();
    assert_eq!(straps.len(), 1);
    assert_eq!(straps[0].name, "Auren simulator (rest, seed 11)");
}

#[tokio::test]
async fn a_tag_is_stored_at_its_session_time_and_stop_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let source = simulator(Scenario::Rest, None, Pace::AsFastAsPossible);
    let mut live = start_session(
        &store,
        source,
        config(SessionKind::Rest, Baselines::new()),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    // Tag once the session is under way.
    wait_until(&mut live, 30_000).await;
    live.tag("coffee").await.unwrap();
    let summary = live.stop().await.unwrap();
    assert_eq!(summary.ended, SessionEnd::Stopped);
    let detail = store
        .session_detail(SessionId(summary.session_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.tags.len(), 1);
    assert_eq!(detail.tags[0].name, "coffee");
    let at = detail.tags[0].at_ms;
    assert!(at >= 30_000.0 && at <= summary.duration_ms as f64, "{at}");
    assert!(detail.session.ended_at.is_some());
}

#[tokio::test]
async fn a_monitor_streams_before_anything_is_stored_and_records_from_record_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let source = simulator(Scenario::Rest, None, Pace::AsFastAsPossible);
    let (monitor_config, _) = config(SessionKind::Rest, Baselines::new()).split();
    let mut monitor = start_monitor(&store, source, monitor_config, CancellationToken::new())
        .await
        .unwrap();
    let mut monitored_beats = 0;
    loop {
        let update = match monitor.updates.recv().await {
            Ok(update) => update,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => panic!("the monitor ended by itself"),
        };
        assert_eq!(update.session_id, None);
        monitored_beats += update.beats.len();
        if update.at_ms >= 30_000 {
            break;
        }
    }
    // Beats arrive at once (provisional labels), not 16 beats late: about one a second.
    assert!(monitored_beats >= 25, "{monitored_beats} beats in 30 s");
    assert!(store.sessions(10, 0).await.unwrap().is_empty());

    let record = RecordConfig {
        kind: SessionKind::Rest,
        started_at_unix_ms: STARTED_AT,
        label: Some("after monitoring".into()),
        max_duration_ms: Some(60_000),
    };
    let mut live = monitor.record(record).await.unwrap();
    let id = live.session_id();
    // The simulator runs as fast as it can and goes on while the session row is made, so the
    // subscriber may fall behind the monitoring updates: skipped ones are fine here.
    let mut updates = Vec::new();
    loop {
        match live.updates.recv().await {
            Ok(update) => {
                let ended = update.ended;
                updates.push(update);
                if ended {
                    break;
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => break,
        }
    }
    let summary = live.finish().await.unwrap();
    assert_eq!(summary.ended, SessionEnd::DurationReached);
    // Updates still in the channel from before the record have no id; all after it carry the session's.
    let first_recorded = updates.iter().position(|u| u.session_id.is_some()).unwrap();
    assert!(updates[first_recorded..].iter().all(|u| u.session_id == Some(id)));

    let stored = store.beats(SessionId(id)).await.unwrap();
    assert_eq!(stored.len() as u64, summary.beats);
    // The recording's clock starts at record: its beats span its 60 s, none from the monitoring before.
    let first = stored.first().unwrap().t_ms;
    let last = stored.last().unwrap().t_ms;
    assert!(first < 3_000.0, "first stored beat at {first} ms");
    assert!(
        (57_000.0..=60_000.0).contains(&last),
        "last stored beat at {last} ms"
    );
    assert_eq!(store.sessions(10, 0).await.unwrap().len(), 1);
}

/// A `MakeWriter` keeping every formatted log line in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn log_lines_of_the_live_loop_and_its_writer_name_their_session() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    // The test runtime has one thread, so the spawned session task logs through this subscriber too.
    let _default = tracing::subscriber::set_default(subscriber);
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let source = simulator(Scenario::Rest, Some(20), Pace::AsFastAsPossible);
    let live = start_session(
        &store,
        source,
        config(SessionKind::Rest, Baselines::new()),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let id = live.session_id();
    live.finish().await.unwrap();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let ended: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("the source's connection ended"))
        .collect();
    assert_eq!(ended.len(), 1, "{text}");
    assert!(
        ended[0].contains(&format!("session{{session_id={id}}}")),
        "{text}"
    );
    // The store's writer task logs in its own span with the same id.
    let commits: Vec<&str> = text.lines().filter(|l| l.contains("batch committed")).collect();
    assert!(!commits.is_empty(), "{text}");
    assert!(
        commits
            .iter()
            .all(|l| l.contains(&format!("session{{session_id={id}}}"))),
        "{text}"
    );
}

#[tokio::test]
async fn stopping_a_recording_stores_it_and_monitoring_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let source = simulator(Scenario::Rest, None, Pace::AsFastAsPossible);
    let (monitor_config, record) = config(SessionKind::Rest, Baselines::new()).split();
    let monitor = start_monitor(&store, source, monitor_config, CancellationToken::new())
        .await
        .unwrap();
    let mut live = monitor.record(record).await.unwrap();
    wait_until(&mut live, 40_000).await;
    let (summary, mut monitor) = live.stop_recording().await.unwrap();
    assert_eq!(summary.ended, SessionEnd::Stopped);
    let stored = store.beats(SessionId(summary.session_id)).await.unwrap();
    assert_eq!(stored.len() as u64, summary.beats);
    assert!(summary.beats > 30, "{} beats", summary.beats);
    let row = store
        .session(SessionId(summary.session_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.ended_at, Some(STARTED_AT + summary.duration_ms));

    // Monitoring goes on: updates with beats and no session id, and nothing more is stored.
    let mut monitored_beats = 0;
    while monitored_beats < 10 {
        match monitor.updates.recv().await {
            Ok(update) if update.session_id.is_none() => monitored_beats += update.beats.len(),
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => panic!("monitoring ended with the recording"),
        }
    }
    assert_eq!(monitor.stop().await.unwrap(), SessionEnd::Stopped);
    let after = store.beats(SessionId(summary.session_id)).await.unwrap();
    assert_eq!(after.len(), stored.len());
    assert_eq!(store.sessions(10, 0).await.unwrap().len(), 1);
}
