//! Replay and record: simulate → record → replay gives the same RR; captures with damaged notifications;
//! RR files grouped per second; gaps from missing time and lost contact; pacing; the writer's lines.

use std::path::Path;
use std::time::Duration;

use auren_hrm::SensorContact;
use auren_hrm::capture::{self, CaptureHeader};
use auren_strap::record::{CaptureWriter, event_lines, record};
use auren_strap::replay::{Replay, RrSecond, group_per_second, parse_rr_text};
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{EndReason, Pace, Sample, SourceEvent, SourceSummary, start};
use tokio_util::sync::CancellationToken;

fn reference(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name)
}

/// Runs a source to its end and returns everything it sent.
async fn collect(source: Box<dyn auren_strap::HeartSource>) -> (Vec<SourceEvent>, SourceSummary) {
    let mut running = start(source, CancellationToken::new());
    let mut events = Vec::new();
    while let Some(e) = running.events.recv().await {
        events.push(e);
    }
    (events, running.task.await.expect("joins").expect("runs"))
}

fn samples(events: &[SourceEvent]) -> Vec<&Sample> {
    events
        .iter()
        .filter_map(|e| {
            if let SourceEvent::Sample(s) = e {
                Some(s)
            } else {
                None
            }
        })
        .collect()
}

fn rr(events: &[SourceEvent]) -> Vec<f64> {
    samples(events)
        .iter()
        .flat_map(|s| s.rr_ms.iter().copied())
        .collect()
}

#[tokio::test]
async fn simulate_record_replay_gives_the_same_rr() {
    let config = SimulatorConfig {
        duration: Some(Duration::from_secs(600)),
        pace: Pace::AsFastAsPossible,
        dropouts_per_hour: 40.0,
        ectopic_per_1000_beats: 10.0,
        ..SimulatorConfig::new(Scenario::Exercise, 21)
    };
    let (simulated, _) = collect(Box::new(Simulator::new(config.clone()).expect("valid"))).await;

    let mut running = start(
        Box::new(Simulator::new(config).expect("valid")),
        CancellationToken::new(),
    );
    let mut bytes = Vec::new();
    let summary = record(
        &mut running.events,
        &mut bytes,
        CaptureHeader::new(),
        &CancellationToken::new(),
    )
    .await
    .expect("records");
    assert_eq!(summary.notifications, 600);
    assert!(summary.source_ended);

    let text = String::from_utf8(bytes).expect("utf-8");
    let parsed = capture::parse(&text).expect("a capture");
    assert_eq!(
        parsed.header.device_name(),
        Some("Auren simulator (exercise, seed 21)")
    );
    assert_eq!(parsed.header.address(), Some("simulator"));
    assert!(parsed.bad_lines.is_empty());
    assert_eq!(parsed.records.len(), 600);

    let replay = Replay::capture_text(&text, "round-trip", Pace::AsFastAsPossible).expect("parses");
    let (replayed, summary) = collect(Box::new(replay)).await;
    assert_eq!(summary.samples, 600);
    assert_eq!(summary.malformed, 0);
    assert!(!rr(&simulated).is_empty());
    assert_eq!(rr(&replayed), rr(&simulated));
    let stamps = |e: &[SourceEvent]| {
        samples(e)
            .iter()
            .map(|s| (s.at_ms, s.contact))
            .collect::<Vec<_>>()
    };
    assert_eq!(stamps(&replayed), stamps(&simulated));
    // Dropouts were simulated, so the gaps they leave come back on replay too.
    let gaps = |e: &[SourceEvent]| e.iter().filter(|e| matches!(e, SourceEvent::Gap { .. })).count();
    assert!(gaps(&simulated) > 0);
    assert_eq!(gaps(&replayed), gaps(&simulated));
}

#[tokio::test]
async fn malformed_notifications_are_counted_skipped_and_recorded_again() {
    let text = "\
# auren-capture v1 device=Strap address=AA:BB:CC:DD:EE:FF
1000 16400004
2000 -
3000 1640000
4000 1640ff
5000 zz
6000 0641
7000 16400004
";
    let replay = Replay::capture_text(text, "damaged", Pace::AsFastAsPossible).expect("header is fine");
    assert_eq!(replay.bad_lines().len(), 2, "{:?}", replay.bad_lines());
    let (events, summary) = collect(Box::new(replay)).await;
    assert_eq!(
        summary,
        SourceSummary {
            samples: 3,
            malformed: 2,
            ended: EndReason::Finished
        }
    );
    let malformed: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|e| {
            if let SourceEvent::Malformed { at_ms, total, .. } = e {
                Some((*at_ms, *total))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(malformed, vec![(2000, 1), (4000, 2)]);
    assert_eq!(rr(&events), vec![1000.0, 1000.0]);

    // Recording the replay keeps the damaged bytes, so the bug reproduces from the new capture.
    let mut writer =
        CaptureWriter::new(Vec::new(), &CaptureHeader::new().with_device_name("Strap")).expect("header");
    for e in &events {
        writer.write_event(e).expect("writes");
    }
    let again = String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8");
    assert!(
        again.contains("\n4000 1640ff\n") && again.contains("\n2000 -\n"),
        "{again}"
    );
    let (events2, summary2) = collect(Box::new(
        Replay::capture_text(&again, "again", Pace::AsFastAsPossible).expect("ok"),
    ))
    .await;
    assert_eq!(summary2, summary);
    assert_eq!(rr(&events2), rr(&events));
}

#[tokio::test]
async fn missing_time_and_lost_contact_become_gaps() {
    // Contact lost at 3000–4000, notifications missing between 5000 and 9000.
    let text = "\
# auren-capture v1
1000 16400004
2000 16400004
3000 0440
4000 0440
5000 16400004
9000 16400004
10000 16400004
";
    let (events, _) = collect(Box::new(
        Replay::capture_text(text, "gaps", Pace::AsFastAsPossible).expect("ok"),
    ))
    .await;
    let interesting: Vec<&SourceEvent> = events
        .iter()
        .filter(|e| !matches!(e, SourceEvent::Sample(_) | SourceEvent::Connected { .. }))
        .collect();
    assert_eq!(
        interesting,
        vec![
            &SourceEvent::ContactChanged {
                at_ms: 1000,
                contact: SensorContact::Detected
            },
            &SourceEvent::ContactChanged {
                at_ms: 3000,
                contact: SensorContact::NotDetected
            },
            &SourceEvent::ContactChanged {
                at_ms: 5000,
                contact: SensorContact::Detected
            },
            &SourceEvent::Gap {
                from_ms: 2000,
                to_ms: 5000
            },
            &SourceEvent::Gap {
                from_ms: 5000,
                to_ms: 9000
            },
        ]
    );
}

#[test]
fn rr_series_are_grouped_into_seconds_like_a_strap_sends_them() {
    let table: [(&[f64], Vec<RrSecond>); 3] = [
        (
            &[800.0, 800.0, 800.0],
            vec![
                RrSecond {
                    at_ms: 1000,
                    rr_ms: vec![800.0],
                },
                RrSecond {
                    at_ms: 2000,
                    rr_ms: vec![800.0],
                },
                RrSecond {
                    at_ms: 3000,
                    rr_ms: vec![800.0],
                },
            ],
        ),
        // A beat exactly on a second belongs to that second; a long interval leaves an empty second.
        (
            &[1000.0, 1500.0, 400.0],
            vec![
                RrSecond {
                    at_ms: 1000,
                    rr_ms: vec![1000.0],
                },
                RrSecond {
                    at_ms: 2000,
                    rr_ms: vec![],
                },
                RrSecond {
                    at_ms: 3000,
                    rr_ms: vec![1500.0, 400.0],
                },
            ],
        ),
        (
            &[400.0, 300.0, 250.5],
            vec![RrSecond {
                at_ms: 1000,
                rr_ms: vec![400.0, 300.0, 250.5],
            }],
        ),
    ];
    for (rr, expected) in table {
        assert_eq!(group_per_second(rr), expected, "{rr:?}");
    }
}

#[tokio::test]
async fn an_rr_file_replays_its_values_exactly() {
    let path = reference("nsr_5min.rr");
    let expected =
        parse_rr_text(&std::fs::read_to_string(&path).expect("reference data"), &path).expect("parses");
    let (events, summary) = collect(Box::new(
        Replay::open_rr_file(&path, Pace::AsFastAsPossible).expect("opens"),
    ))
    .await;
    assert_eq!(rr(&events), expected);
    let total_ms: f64 = expected.iter().sum();
    assert_eq!(summary.samples, (total_ms / 1000.0).ceil() as u64);
    for s in samples(&events) {
        let decoded = auren_hrm::decode_heart_rate_measurement(&s.payload).expect("bytes decode");
        assert_eq!(decoded.rr.len(), s.rr_ms.len());
        assert!(
            decoded
                .rr_ms()
                .zip(&s.rr_ms)
                .all(|(a, b)| (a - b).abs() <= 0.5 + 1e-9)
        );
    }
}

#[test]
fn bad_rr_files_name_the_line() {
    let p = Path::new("x.rr");
    let table = [
        ("800\n\n# note\n810\n", Ok(vec![800.0, 810.0])),
        (
            "800\nabc\n",
            Err("x.rr: line 2: \"abc\" is not an RR-interval in ms (a number between 200 and 3000)"),
        ),
        (
            "0.8\n",
            Err("x.rr: line 1: \"0.8\" is not an RR-interval in ms (a number between 200 and 3000)"),
        ),
        ("# only a comment\n", Err("x.rr: the file holds no RR-intervals")),
    ];
    for (text, expected) in table {
        match (parse_rr_text(text, p), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(got), Err(want)) => assert_eq!(got.to_string(), want),
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }
    let missing =
        Replay::open_capture(Path::new("/nonexistent/x.hrmcap"), Pace::RealTime).expect_err("no file");
    assert!(
        missing
            .to_string()
            .starts_with("cannot read /nonexistent/x.hrmcap:"),
        "{missing}"
    );
    let not_capture =
        Replay::capture_text("hello\n", "hello.txt", Pace::RealTime).expect_err("not a capture");
    assert!(
        not_capture.to_string().starts_with("not an auren capture"),
        "{not_capture}"
    );
}

#[tokio::test(start_paused = true)]
async fn replay_paces_on_the_capture_timeline() {
    let text = "# auren-capture v1\n0 0640\n1500 0640\n4000 0640\n";
    let started = tokio::time::Instant::now();
    let replay = Replay::capture_text(
        text,
        "paced",
        Pace::Speed(auren_strap::Speed::new(2.0).expect("ok")),
    )
    .expect("ok");
    let mut running = start(Box::new(replay), CancellationToken::new());
    let mut arrivals = Vec::new();
    while let Some(e) = running.events.recv().await {
        if let SourceEvent::Sample(s) = e {
            arrivals.push((s.at_ms, started.elapsed().as_millis()));
        }
    }
    assert_eq!(arrivals, vec![(0, 0), (1500, 750), (4000, 2000)]);
}

#[tokio::test]
async fn shutdown_ends_a_recording_and_the_header_still_comes_first() {
    let sim = Simulator::new(SimulatorConfig::new(Scenario::Rest, 1)).expect("valid");
    let shutdown = CancellationToken::new();
    let mut running = start(Box::new(sim), shutdown.clone());
    shutdown.cancel();
    let mut bytes = Vec::new();
    let header = CaptureHeader::new()
        .with_device_name("Given")
        .with("note", "a test");
    let summary = record(&mut running.events, &mut bytes, header, &shutdown)
        .await
        .expect("records");
    assert!(!summary.source_ended);
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(
        text.starts_with("# auren-capture v1 device=Given note=a%20test"),
        "{text}"
    );
    assert_eq!(
        running.task.await.expect("joins").expect("runs").ended,
        EndReason::Shutdown
    );
}

#[test]
fn link_events_become_comments_and_decoded_samples_are_encoded() {
    let table = [
        (
            SourceEvent::Battery {
                at_ms: 5,
                percent: 80,
            },
            "# 5 battery 80%\n",
        ),
        (
            SourceEvent::Gap {
                from_ms: 1000,
                to_ms: 4000,
            },
            "# 4000 gap 1000..4000 ms\n",
        ),
        (
            SourceEvent::Disconnected {
                at_ms: 7,
                reason: "link\nlost".into(),
            },
            "# 7 disconnected link lost\n",
        ),
        (
            SourceEvent::Reconnecting { at_ms: 8, attempt: 2 },
            "# 8 reconnecting attempt 2\n",
        ),
        (
            SourceEvent::Sample(Sample {
                at_ms: 1000,
                heart_rate_bpm: 64,
                rr_ms: vec![1000.0],
                contact: SensorContact::Detected,
                energy_expended_kj: None,
                payload: Vec::new(),
            }),
            "1000 16400004\n",
        ),
    ];
    for (event, line) in table {
        assert_eq!(event_lines(&event), line);
    }
}
