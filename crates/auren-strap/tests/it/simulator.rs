//! Simulator: determinism by seed, each scenario's physiology, the exercise α1 ramp, ectopy and dropout
//! rates, the 0x2A37 bytes it sends, and the source's real-time pacing under tokio's paused clock.

use std::time::Duration;

use auren_hrm::{SensorContact, decode_heart_rate_measurement};
use auren_strap::simulator::{
    BeatKind, Scenario, SimNotification, Simulator, SimulatorConfig, SimulatorConfigError, notifications,
};
use auren_strap::{EndReason, Pace, SourceEvent, start};
use tokio_util::sync::CancellationToken;

use crate::hrv::{dfa_alpha1, mean_hr, rmssd};

fn config(scenario: Scenario, seed: u64, seconds: u64) -> SimulatorConfig {
    SimulatorConfig {
        duration: Some(Duration::from_secs(seconds)),
        ..SimulatorConfig::new(scenario, seed)
    }
}

fn run(config: &SimulatorConfig) -> Vec<SimNotification> {
    notifications(config).expect("valid config").collect()
}

/// RR as a consumer sees it: decoded from the bytes the simulator sends.
fn decoded_rr(notifications: &[SimNotification]) -> Vec<f64> {
    notifications
        .iter()
        .flat_map(|n| {
            decode_heart_rate_measurement(&n.payload)
                .expect("simulator bytes decode")
                .rr_ms()
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run(&config(Scenario::Rest, 7, 300));
    let b = run(&config(Scenario::Rest, 7, 300));
    let c = run(&config(Scenario::Rest, 8, 300));
    assert_eq!(a.len(), 300);
    assert_eq!(a, b);
    assert_ne!(decoded_rr(&a), decoded_rr(&c));
}

#[test]
fn scenarios_have_their_physiology() {
    // (scenario, mean HR range, RMSSD range ms, DFA α1 range) over 10 minutes, for several seeds.
    let table = [
        (Scenario::Rest, 58.0..66.0, 22.0..40.0, 0.85..1.2),
        (Scenario::Fatigued, 68.0..76.0, 6.0..14.0, 0.75..1.15),
        (Scenario::Breathing, 60.0..68.0, 25.0..45.0, 1.05..1.5),
    ];
    for (scenario, hr, rm, alpha) in table {
        for seed in 1..=4 {
            let mut c = config(scenario, seed, 600);
            c.ectopic_per_1000_beats = 0.0;
            let rr = decoded_rr(&run(&c));
            let (h, r, a) = (mean_hr(&rr), rmssd(&rr), dfa_alpha1(&rr));
            assert!(
                hr.contains(&h),
                "{scenario} seed {seed}: mean HR {h:.1} not in {hr:?}"
            );
            assert!(
                rm.contains(&r),
                "{scenario} seed {seed}: RMSSD {r:.1} not in {rm:?}"
            );
            assert!(
                alpha.contains(&a),
                "{scenario} seed {seed}: DFA α1 {a:.2} not in {alpha:?}"
            );
        }
    }
}

#[test]
fn fatigue_raises_hr_by_about_ten_and_suppresses_rmssd() {
    for seed in 1..=4 {
        let clean = |scenario| SimulatorConfig {
            ectopic_per_1000_beats: 0.0,
            ..config(scenario, seed, 600)
        };
        let rest = decoded_rr(&run(&clean(Scenario::Rest)));
        let tired = decoded_rr(&run(&clean(Scenario::Fatigued)));
        let dhr = mean_hr(&tired) - mean_hr(&rest);
        assert!((7.0..13.0).contains(&dhr), "seed {seed}: HR rise {dhr:.1} bpm");
        assert!(
            rmssd(&tired) < 0.5 * rmssd(&rest),
            "seed {seed}: RMSSD {} vs {}",
            rmssd(&tired),
            rmssd(&rest)
        );
    }
}

#[test]
fn breathing_puts_the_rsa_at_six_per_minute() {
    // At 6 breaths/min the RR series oscillates with a 10 s period: the autocorrelation of the RR
    // series resampled per second peaks at lag 10 s and is negative at 5 s.
    let mut c = config(Scenario::Breathing, 3, 600);
    c.ectopic_per_1000_beats = 0.0;
    let notes = run(&c);
    let per_second: Vec<f64> = notes
        .iter()
        .filter_map(|n| n.beats.last().map(|b| b.rr_ms))
        .collect();
    let mean = per_second.iter().sum::<f64>() / per_second.len() as f64;
    let acf = |lag: usize| {
        let num: f64 = per_second
            .windows(lag + 1)
            .map(|w| (w[0] - mean) * (w[lag] - mean))
            .sum();
        let den: f64 = per_second.iter().map(|x| (x - mean).powi(2)).sum();
        num / den
    };
    assert!(acf(10) > 0.4, "lag 10 s autocorrelation {}", acf(10));
    assert!(acf(5) < -0.2, "lag 5 s autocorrelation {}", acf(5));
}

#[test]
fn exercise_ramp_carries_alpha1_from_one_through_the_threshold_to_a_half() {
    for seed in 1..=5 {
        let mut c = config(Scenario::Exercise, seed, 1500);
        c.ectopic_per_1000_beats = 0.0;
        let notes = run(&c);
        // DFA α1 over 2-minute windows, as a live display computes it.
        let windows: Vec<(f64, f64)> = notes
            .chunks(120)
            .map(|w| {
                let rr = decoded_rr(w);
                (mean_hr(&rr), dfa_alpha1(&rr))
            })
            .collect();
        let first = windows[0].1;
        // The hold at the top of the ramp (the last three windows).
        let last = windows.iter().rev().take(3).map(|w| w.1).sum::<f64>() / 3.0;
        assert!(
            first > 0.85,
            "seed {seed}: α1 at the start {first:.2}, windows {windows:?}"
        );
        assert!(
            last < 0.62,
            "seed {seed}: α1 at the top {last:.2}, windows {windows:?}"
        );
        assert!(windows.iter().any(|w| w.1 > 0.75) && windows.iter().any(|w| w.1 < 0.75));
        assert!(
            windows[0].0 < 105.0 && windows[windows.len() - 1].0 > 160.0,
            "HR ramp {windows:?}"
        );
    }
}

#[test]
fn ectopic_beats_come_at_the_set_rate_with_compensatory_pauses() {
    let mut c = config(Scenario::Rest, 11, 3600);
    c.ectopic_per_1000_beats = 20.0;
    let beats: Vec<_> = run(&c).into_iter().flat_map(|n| n.beats).collect();
    let ectopic = beats.iter().filter(|b| b.kind == BeatKind::Ectopic).count();
    let rate = ectopic as f64 * 1000.0 / beats.len() as f64;
    assert!((16.0..24.0).contains(&rate), "{rate} ectopic beats per 1000");
    for pair in beats.windows(3).filter(|w| w[1].kind == BeatKind::Ectopic) {
        assert!(pair[1].rr_ms < 0.8 * pair[0].rr_ms, "premature beat {pair:?}");
        assert_eq!(pair[2].kind, BeatKind::Compensatory);
        assert!(
            pair[2].rr_ms > 1.15 * pair[0].rr_ms,
            "compensatory pause {pair:?}"
        );
    }
}

#[test]
fn dropouts_come_at_the_set_rate_and_carry_no_beats() {
    let mut c = config(Scenario::Rest, 5, 4 * 3600);
    c.dropouts_per_hour = 30.0;
    c.dropout_seconds = (4.0, 8.0);
    let notes = run(&c);
    let mut periods = 0;
    let mut lost_seconds = 0;
    for (i, n) in notes.iter().enumerate() {
        let m = decode_heart_rate_measurement(&n.payload).expect("decodes");
        assert_eq!(m.contact, n.contact);
        if n.contact == SensorContact::NotDetected {
            lost_seconds += 1;
            assert!(
                m.rr.is_empty() && m.heart_rate_bpm == 0,
                "a dropout sends no beats: {m:?}"
            );
            assert!(n.beats.iter().all(|b| !b.reported));
            if i == 0 || notes[i - 1].contact == SensorContact::Detected {
                periods += 1;
            }
        }
    }
    // 4 h at 30/h, less the time already in a dropout; ±30 % for a Poisson count of ~120.
    assert!((84..=156).contains(&periods), "{periods} dropouts in 4 h");
    let mean_len = lost_seconds as f64 / periods as f64;
    assert!((4.0..=8.5).contains(&mean_len), "mean dropout {mean_len} s");
}

#[test]
fn bytes_carry_the_simulated_beats_through_the_real_decoder() {
    let mut c = config(Scenario::Exercise, 2, 1500);
    c.ectopic_per_1000_beats = 0.0;
    for n in run(&c) {
        let m = decode_heart_rate_measurement(&n.payload).expect("decodes");
        let expected: Vec<f64> = n.beats.iter().map(|b| b.rr_ms).collect();
        assert_eq!(m.rr_ms().collect::<Vec<_>>(), expected, "at {} ms", n.at_ms);
        assert!(
            m.rr.len() <= 3,
            "a strap sends 0–3 RR per second at these rates, got {}",
            m.rr.len()
        );
        assert_eq!(n.at_ms % 1000, 0);
        if let Some(last) = n.beats.last() {
            assert!(last.at_ms <= n.at_ms as f64 && last.at_ms > n.at_ms as f64 - 1000.0);
        }
    }
}

#[test]
fn scenario_names_parse_and_unknown_names_list_the_valid_ones() {
    let table = [
        ("rest", Some(Scenario::Rest)),
        ("Fatigued", Some(Scenario::Fatigued)),
        (" exercise ", Some(Scenario::Exercise)),
        ("breathing", Some(Scenario::Breathing)),
        ("sprint", None),
        ("", None),
    ];
    for (text, expected) in table {
        match (text.parse::<Scenario>(), expected) {
            (Ok(s), Some(e)) => assert_eq!(s, e),
            (Err(err), None) => assert_eq!(
                err.to_string(),
                format!("unknown scenario {text:?}: valid scenarios are rest, fatigued, exercise, breathing")
            ),
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }
    for s in Scenario::ALL {
        assert_eq!(s.name().parse::<Scenario>(), Ok(s));
    }
}

#[test]
fn bad_settings_are_refused() {
    let base = SimulatorConfig::new(Scenario::Rest, 1);
    let table = [
        (
            SimulatorConfig {
                ectopic_per_1000_beats: -1.0,
                ..base.clone()
            },
            SimulatorConfigError::EctopicRate(-1.0),
        ),
        (
            SimulatorConfig {
                dropouts_per_hour: 1e6,
                ..base.clone()
            },
            SimulatorConfigError::DropoutRate(1e6),
        ),
        (
            SimulatorConfig {
                dropout_seconds: (9.0, 3.0),
                ..base.clone()
            },
            SimulatorConfigError::DropoutLength { low: 9.0, high: 3.0 },
        ),
        (
            SimulatorConfig {
                battery_percent: 101,
                ..base.clone()
            },
            SimulatorConfigError::Battery(101),
        ),
    ];
    for (c, err) in table {
        assert_eq!(Simulator::new(c.clone()).err(), Some(err.clone()));
        assert_eq!(notifications(&c).err(), Some(err));
    }
}

#[tokio::test(start_paused = true)]
async fn real_time_source_paces_on_tokios_clock_and_stops_on_shutdown() {
    let sim = Simulator::new(SimulatorConfig::new(Scenario::Rest, 9)).expect("valid");
    let shutdown = CancellationToken::new();
    let started = tokio::time::Instant::now();
    let mut running = start(Box::new(sim), shutdown.clone());

    let first = running.events.recv().await.expect("an event");
    assert!(matches!(first, SourceEvent::Connected { at_ms: 0, ref address, .. } if address == "simulator"));
    assert!(matches!(
        running.events.recv().await,
        Some(SourceEvent::Battery {
            at_ms: 0,
            percent: 100
        })
    ));

    let mut samples = Vec::new();
    while samples.len() < 30 {
        match running.events.recv().await.expect("events keep coming") {
            SourceEvent::Sample(s) => {
                // Real time: a sample stamped t is delivered at t on the (paused, auto-advanced) clock.
                assert_eq!(
                    s.at_ms,
                    u64::try_from(started.elapsed().as_millis()).expect("fits")
                );
                samples.push(s);
            }
            SourceEvent::ContactChanged { contact, .. } => assert_eq!(contact, SensorContact::Detected),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        samples.iter().map(|s| s.at_ms).collect::<Vec<_>>(),
        (1..=30).map(|k| k * 1000).collect::<Vec<_>>()
    );

    shutdown.cancel();
    let summary = running.task.await.expect("joins").expect("runs");
    assert_eq!(summary.ended, EndReason::Shutdown);
    assert!(summary.samples >= 30);
}

#[tokio::test(start_paused = true)]
async fn faster_pace_and_finite_duration_finish() {
    let mut c = config(Scenario::Rest, 4, 120);
    c.pace = Pace::Speed(auren_strap::Speed::new(10.0).expect("valid"));
    let started = tokio::time::Instant::now();
    let mut running = start(
        Box::new(Simulator::new(c).expect("valid")),
        CancellationToken::new(),
    );
    let mut samples = 0;
    while let Some(event) = running.events.recv().await {
        if let SourceEvent::Sample(_) = event {
            samples += 1;
        }
    }
    assert_eq!(samples, 120);
    // 120 s at 10× is 12 s on the clock.
    assert_eq!(started.elapsed(), Duration::from_secs(12));
    let summary = running.task.await.expect("joins").expect("runs");
    assert_eq!(summary.ended, EndReason::Finished);
    assert!(auren_strap::Speed::new(0.0).is_err() && auren_strap::Speed::new(f64::NAN).is_err());
}
