//! The pure pipeline: artifact labels of a replayed reference recording, alerts of simulated
//! scenarios, the update throttle, provisional labels confirmed or corrected.

use auren_cep::{BaselineField, Baselines, DEFAULT_RULES, SessionKind, compile};
use auren_engine::Pipeline;
use auren_hrv::artifacts::ArtifactKind;
use auren_strap::replay::{group_per_second, parse_rr_text};
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{Pace, start};
use auren_strap::{Sample, SourceEvent};
use tokio_util::sync::CancellationToken;

use std::collections::BTreeMap;

use auren_engine::Labeller;
use auren_engine::dto::{ArtifactKindDto, LiveUpdateDto};
use proptest::prelude::*;

use crate::support::{Collected, reference};

fn pipeline(kind: SessionKind, baselines: Baselines) -> Pipeline {
    let rules = compile(DEFAULT_RULES).unwrap();
    Pipeline::new(&rules, baselines, kind, None, 1_700_000_000_000).unwrap()
}

fn rr_file_events(name: &str) -> Vec<SourceEvent> {
    let path = reference(name);
    let rr = parse_rr_text(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    group_per_second(&rr)
        .into_iter()
        .map(|s| {
            SourceEvent::Sample(Sample {
                at_ms: s.at_ms,
                heart_rate_bpm: 60,
                rr_ms: s.rr_ms,
                contact: auren_hrm::SensorContact::Detected,
                energy_expended_kj: None,
                payload: Vec::new(),
            })
        })
        .collect()
}

#[test]
fn replayed_reference_recording_is_labelled_with_its_three_artifacts() {
    let mut p = pipeline(SessionKind::Rest, Baselines::new());
    let mut out = Collected::default();
    for event in rr_file_events("nsr_5min_artifacts.rr") {
        p.on_source_event(&event, &mut out);
    }
    p.end(&mut out);
    let labels: Vec<(u64, ArtifactKind)> = out
        .beats
        .iter()
        .filter_map(|b| b.artifact.map(|k| (b.index, k)))
        .collect();
    // The three injected artifacts with their kinds, nothing else (the clean recording has no label).
    assert_eq!(
        labels,
        vec![
            (100, ArtifactKind::Missed),
            (199, ArtifactKind::Extra),
            (250, ArtifactKind::Ectopic)
        ]
    );
    let n = out.beats.len();
    assert_eq!(p.beats_total(), n as u64);
    assert!(out.beats.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
}

async fn simulate(scenario: Scenario, minutes: u64, kind: SessionKind, baselines: Baselines) -> Collected {
    let mut config = SimulatorConfig::new(scenario, 7);
    config.duration = Some(std::time::Duration::from_secs(minutes * 60));
    config.pace = Pace::AsFastAsPossible;
    let mut running = start(
        Box::new(Simulator::new(config).unwrap()),
        CancellationToken::new(),
    );
    let mut p = pipeline(kind, baselines);
    let mut out = Collected::default();
    while let Some(event) = running.events.recv().await {
        p.on_source_event(&event, &mut out);
    }
    p.end(&mut out);
    out
}

#[tokio::test]
async fn fatigued_rest_below_the_personal_range_fires_cns_fatigue_with_evidence() {
    // Rest-level baselines: a normal lnRMSSD range around ln(30 ms) and a resting HR of 60.
    let baselines = Baselines::new()
        .with(BaselineField::LnRmssdLo, 3.2)
        .with(BaselineField::LnRmssdHi, 3.6)
        .with(BaselineField::RestingHr, 60.0);
    let out = simulate(Scenario::Fatigued, 8, SessionKind::Rest, baselines).await;
    let fatigue: Vec<_> = out.alerts.iter().filter(|a| a.rule == "cns_fatigue").collect();
    assert_eq!(fatigue.len(), 1, "{:?}", out.alerts);
    let names: Vec<&str> = fatigue[0]
        .evidence
        .values
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(names.contains(&"avg(ln_rmssd, 2m)"), "{names:?}");
    assert!(names.contains(&"baseline.ln_rmssd_lo"), "{names:?}");
}

#[tokio::test]
async fn fatigued_rest_within_the_personal_range_fires_nothing_about_fatigue() {
    let baselines = Baselines::new()
        .with(BaselineField::LnRmssdLo, 1.5)
        .with(BaselineField::LnRmssdHi, 2.5)
        .with(BaselineField::RestingHr, 70.0);
    let out = simulate(Scenario::Fatigued, 8, SessionKind::Rest, baselines).await;
    assert!(
        out.alerts.iter().all(|a| a.rule != "cns_fatigue"),
        "{:?}",
        out.alerts
    );
}

#[tokio::test]
async fn exercise_ramp_crosses_the_aerobic_threshold() {
    let out = simulate(Scenario::Exercise, 20, SessionKind::Exercise, Baselines::new()).await;
    let crossing: Vec<_> = out
        .alerts
        .iter()
        .filter(|a| a.rule == "aerobic_threshold")
        .collect();
    assert!(!crossing.is_empty(), "{:?}", out.alerts);
    let alpha = crossing[0]
        .evidence
        .values
        .iter()
        .find(|(n, _)| n == "dfa_alpha1")
        .map(|(_, v)| *v)
        .unwrap();
    assert!(alpha < 0.75, "{alpha}");
}

#[test]
fn a_strap_gone_silent_fires_signal_lost_through_idle_ticks() {
    let mut p = pipeline(SessionKind::Rest, Baselines::new());
    let mut out = Collected::default();
    // 60 s of beats, then nothing: only the idle path moves session time on.
    for event in rr_file_events("nsr_5min.rr").into_iter().take(60) {
        p.on_source_event(&event, &mut out);
    }
    let last = p.now_ms();
    for k in 1..=15 {
        p.idle(last + k * 1_000, &mut out);
    }
    let lost: Vec<_> = out.alerts.iter().filter(|a| a.rule == "signal_lost").collect();
    assert_eq!(lost.len(), 1, "{:?}", out.alerts);
    assert!(
        lost[0].at_ms > last + 9_000 && lost[0].at_ms <= last + 12_000,
        "{}",
        lost[0].at_ms
    );
    assert!(
        out.updates.last().unwrap().at_ms >= last + 14_000,
        "updates go on while silent"
    );
}

#[tokio::test]
async fn contact_dropouts_become_gaps_with_no_invented_beats() {
    let mut config = SimulatorConfig::new(Scenario::Rest, 5);
    config.duration = Some(std::time::Duration::from_secs(1_800));
    config.pace = Pace::AsFastAsPossible;
    config.dropouts_per_hour = 20.0;
    let mut running = start(
        Box::new(Simulator::new(config).unwrap()),
        CancellationToken::new(),
    );
    let mut p = pipeline(SessionKind::Rest, Baselines::new());
    let mut out = Collected::default();
    while let Some(event) = running.events.recv().await {
        p.on_source_event(&event, &mut out);
    }
    p.end(&mut out);
    assert!(out.gaps.len() >= 3, "{:?}", out.gaps);
    for &(from, to) in &out.gaps {
        assert!(to - from >= 3_000.0, "a dropout of at least 4 s: {from}..{to}");
        let inside = out
            .beats
            .iter()
            .filter(|b| b.at_ms - b.rr_ms > from && b.at_ms < to)
            .count();
        assert_eq!(inside, 0, "no beat invented inside the gap {from}..{to}");
    }
    assert!(
        out.alerts.iter().any(|a| a.rule == "contact_lost"),
        "{:?}",
        out.alerts
    );
    // "Signal lost" (no beat for 10 s) fires only inside dropouts that long, never because labels lag
    // behind the beats when a stretch restarts after a short dropout.
    assert!(
        out.gaps.iter().any(|&(from, to)| to - from < 8_000.0),
        "a short dropout: {:?}",
        out.gaps
    );
    for alert in out.alerts.iter().filter(|a| a.rule == "signal_lost") {
        let t = alert.at_ms as f64;
        assert!(
            out.gaps
                .iter()
                .any(|&(from, to)| to - from >= 10_000.0 && t > from + 9_000.0 && t <= to),
            "signal_lost at {t} outside a long dropout: {:?}",
            out.gaps
        );
    }
    // Beat times stay strictly increasing across gaps (they key the stored beats).
    assert!(out.beats.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
}

/// One sample per beat at the beat's time, and a gap event before the beats listed in `gaps_before`.
fn beat_events(rr: &[f64], gaps_before: &[usize]) -> Vec<SourceEvent> {
    let mut events = Vec::new();
    let mut t = 0.0;
    for (k, &r) in rr.iter().enumerate() {
        let before = t;
        t += r;
        if gaps_before.contains(&k) && k > 0 {
            t += 5_000.0;
            events.push(SourceEvent::Gap {
                from_ms: before as u64,
                to_ms: t as u64,
            });
        }
        events.push(SourceEvent::Sample(Sample {
            at_ms: t as u64,
            heart_rate_bpm: 60,
            rr_ms: vec![r],
            contact: auren_hrm::SensorContact::Detected,
            energy_expended_kj: None,
            payload: Vec::new(),
        }));
    }
    events
}

/// The label of every beat as a subscriber ends up with it: the provisional labels of the updates'
/// beats, revised by their corrections in order; and how far the last update confirmed.
fn subscriber_view(updates: &[LiveUpdateDto]) -> (BTreeMap<u64, Option<ArtifactKindDto>>, Option<u64>) {
    let mut labels = BTreeMap::new();
    for u in updates {
        for b in &u.beats {
            assert!(
                labels.insert(b.index, b.artifact).is_none(),
                "beat {} sent twice",
                b.index
            );
        }
        for c in &u.corrections {
            assert!(
                labels.contains_key(&c.index),
                "correction of unsent beat {}",
                c.index
            );
            labels.insert(c.index, c.artifact);
        }
    }
    (labels, updates.last().and_then(|u| u.confirmed_through))
}

fn run_pipeline(events: &[SourceEvent]) -> Collected {
    let mut p = pipeline(SessionKind::Rest, Baselines::new());
    let mut out = Collected::default();
    for event in events {
        p.on_source_event(event, &mut out);
    }
    p.end(&mut out);
    out
}

/// An artifact written into a sinus series at a position.
#[derive(Clone, Copy, Debug)]
enum Injected {
    Ectopic,
    Missed,
    Extra,
}

fn inject(rr: &mut Vec<f64>, at: usize, what: Injected) {
    let at = at.min(rr.len() - 2);
    match what {
        Injected::Ectopic => {
            let r = rr[at];
            rr[at] = 0.7 * r;
            rr[at + 1] += 0.3 * r;
        }
        Injected::Missed => {
            let next = rr.remove(at + 1);
            rr[at] += next;
        }
        Injected::Extra => {
            let r = rr[at];
            rr[at] = 0.4 * r;
            rr.insert(at + 1, 0.6 * r);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_provisional_label_is_confirmed_or_corrected_to_the_final_one(
        base in 600.0_f64..1200.0,
        swing in 5.0_f64..120.0,
        period in 3.0_f64..20.0,
        n in 40_usize..400,
        artifacts in proptest::collection::vec((0_usize..400, 0_u8..3), 0..6),
        gaps in proptest::collection::vec(0_usize..400, 0..3),
    ) {
        let mut rr: Vec<f64> = (0..n)
            .map(|k| base + swing * (std::f64::consts::TAU * k as f64 / period).sin())
            .collect();
        for (at, kind) in artifacts {
            let what = [Injected::Ectopic, Injected::Missed, Injected::Extra][usize::from(kind)];
            inject(&mut rr, at % n, what);
        }
        let out = run_pipeline(&beat_events(&rr, &gaps));
        let (view, confirmed_through) = subscriber_view(&out.updates);
        // Every beat was sent, and the last update confirms them all: nothing dangles.
        prop_assert_eq!(view.len(), rr.len());
        prop_assert_eq!(confirmed_through, Some(rr.len() as u64 - 1));
        // After the corrections a subscriber holds exactly the final labels, which are what is stored.
        let stored: BTreeMap<u64, Option<ArtifactKindDto>> = out
            .beats
            .iter()
            .map(|b| (b.index, b.artifact.map(ArtifactKindDto::from)))
            .collect();
        prop_assert_eq!(&view, &stored);
    }
}

#[test]
fn the_stored_labels_are_the_offline_labeller_s_unchanged_by_the_provisional_path() {
    let events = rr_file_events("nsr_5min_artifacts.rr");
    let out = run_pipeline(&events);
    let mut labeller = Labeller::new();
    let mut offline = Vec::new();
    for event in &events {
        if let SourceEvent::Sample(s) = event {
            for &rr in &s.rr_ms {
                // Times do not take part in labelling; only the order of the intervals does.
                labeller.push(0.0, rr, &mut offline);
            }
        }
    }
    labeller.flush(&mut offline);
    let stored: Vec<_> = out.beats.iter().map(|b| (b.index, b.rr_ms, b.artifact)).collect();
    let expected: Vec<_> = offline.iter().map(|b| (b.index, b.rr_ms, b.artifact)).collect();
    assert_eq!(stored, expected);
}

/// What, the series, the beat looked at, its provisional label and its final one.
type Revision = (
    &'static str,
    Vec<f64>,
    usize,
    Option<ArtifactKindDto>,
    Option<ArtifactKindDto>,
);

#[test]
fn provisional_labels_are_revised_in_place_when_the_final_one_differs() {
    // A quiet run, then the pattern: which provisional label the newest beat gets, and its final one.
    let quiet = |n: usize| -> Vec<f64> { (0..n).map(|k| 1000.0 + 25.0 * ((k as f64) * 0.9).sin()).collect() };
    let table: [Revision; 3] = [
        (
            "an extra beat: first called ectopic, then extra",
            [quiet(60), vec![400.0, 600.0], quiet(40)].concat(),
            60,
            Some(ArtifactKindDto::Ectopic),
            Some(ArtifactKindDto::Extra),
        ),
        (
            "a beat that looks long on its own but is the slow phase of a breath: clean in the end",
            [quiet(60), vec![1200.0, 1180.0, 1150.0, 1120.0], quiet(40)].concat(),
            60,
            Some(ArtifactKindDto::LongShort),
            None,
        ),
        (
            "an ectopic beat: called ectopic at once and confirmed",
            [quiet(60), vec![700.0, 1300.0], quiet(40)].concat(),
            60,
            Some(ArtifactKindDto::Ectopic),
            Some(ArtifactKindDto::Ectopic),
        ),
    ];
    for (what, rr, index, provisional, last) in table {
        let out = run_pipeline(&beat_events(&rr, &[]));
        let sent = out
            .updates
            .iter()
            .flat_map(|u| &u.beats)
            .find(|b| b.index == index as u64)
            .unwrap();
        assert_eq!(sent.artifact, provisional, "{what}: provisional");
        let corrections: Vec<_> = out
            .updates
            .iter()
            .flat_map(|u| &u.corrections)
            .filter(|c| c.index == index as u64)
            .collect();
        let stored = out.beats.iter().find(|b| b.index == index as u64).unwrap();
        assert_eq!(stored.artifact.map(ArtifactKindDto::from), last, "{what}: final");
        if provisional == last {
            assert!(corrections.is_empty(), "{what}: {corrections:?}");
        } else {
            assert_eq!(corrections.len(), 1, "{what}");
            assert_eq!(corrections[0].artifact, last, "{what}");
        }
    }
}
