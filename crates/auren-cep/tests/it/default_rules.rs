//! Each default rule fires on a synthetic stream built to trigger it, and nothing fires on calm
//! streams and near misses.

use auren_cep::{DEFAULT_RULES, EventKind, MetricField, SessionKind, compile};
use auren_hrv::artifacts::ArtifactKind;

use crate::support::{MIN, SEC, Stream, baselines, calm_metrics};

/// A calm 10-minute rest session: HR 60, RR 1000 ± a little, RMSSD 50 ms, full contact.
fn calm_rest() -> Stream {
    Stream::new()
        .session(SessionKind::Rest, 0)
        .beats(0, 10 * MIN, |t| 1000.0 + 30.0 * ((t as f64) / 4000.0).sin(), 0)
        .hr(0, 10 * MIN, |_| 60.0)
        .metrics(0, 10 * MIN, calm_metrics)
        .at(10 * MIN, EventKind::SessionEnd)
}

/// 20 minutes of exercise at 140 bpm, α1 1.0 falling to 0.85, then the end and a recovery of
/// `drop_per_min` bpm per minute.
fn exercise(alpha1_end: f64, hr_peak: f64, drop_per_min: f64) -> Stream {
    let end = 20 * MIN;
    Stream::new()
        .session(SessionKind::Exercise, 0)
        .beats(0, end + 2 * MIN, |_| 430.0, 0)
        .hr(0, end, move |t| 100.0 + (hr_peak - 100.0) * t as f64 / end as f64)
        .metrics(0, end, move |t| {
            let f = t as f64 / end as f64;
            vec![
                (MetricField::DfaAlpha1, 1.1 + (alpha1_end - 1.1) * f),
                (MetricField::Rmssd60s, 8.0),
            ]
        })
        .at(end, EventKind::SessionEnd)
        .hr(end + SEC, end + 2 * MIN, move |t| {
            hr_peak - drop_per_min * (t - end) as f64 / MIN as f64
        })
}

/// Three minutes of beats at 60 bpm in a session of `kind`, every `ectopic_every`-th labelled ectopic and
/// every `missed_every`-th missed (0: none).
fn ectopic_rest(kind: SessionKind, ectopic_every: usize, missed_every: usize) -> Stream {
    let every = |n: usize, k: usize| k > 0 && n.is_multiple_of(k);
    Stream::new()
        .session(kind, 0)
        .labelled_beats(
            0,
            3 * MIN,
            |_| 1000.0,
            move |n| {
                if every(n, ectopic_every) {
                    Some(ArtifactKind::Ectopic)
                } else if every(n, missed_every) {
                    Some(ArtifactKind::Missed)
                } else {
                    None
                }
            },
        )
        .at(3 * MIN, EventKind::SessionEnd)
}

fn fired(stream: &Stream) -> Vec<String> {
    let rules = compile(DEFAULT_RULES).expect("default rules compile");
    let mut names: Vec<String> = stream
        .run(&rules, baselines(), 30 * SEC)
        .into_iter()
        .map(|a| a.rule)
        .collect();
    names.dedup();
    names
}

#[test]
fn every_default_rule_fires_on_its_scenario_and_only_there() {
    let cases: Vec<(&str, Stream, Vec<&str>)> = vec![
        ("calm rest", calm_rest(), vec![]),
        (
            "calm exercise with a good recovery",
            exercise(0.85, 150.0, 25.0),
            vec![],
        ),
        (
            "fatigued rest: lnRMSSD 3.0 < 3.6 and HR 68 > 58 + 5",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, 6 * MIN, |_| 882.0, 0)
                .hr(0, 6 * MIN, |_| 68.0)
                .metrics(0, 6 * MIN, |_| {
                    vec![(MetricField::LnRmssd, 3.0), (MetricField::Rmssd60s, 20.0)]
                })
                .at(6 * MIN, EventKind::SessionEnd),
            vec!["cns_fatigue"],
        ),
        (
            "rest with low HRV but normal HR (near miss)",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, 6 * MIN, |_| 1000.0, 0)
                .hr(0, 6 * MIN, |_| 61.0)
                .metrics(0, 6 * MIN, |_| vec![(MetricField::LnRmssd, 3.0)])
                .at(6 * MIN, EventKind::SessionEnd),
            vec![],
        ),
        (
            "exercise past the aerobic threshold (α1 down to 0.5)",
            exercise(0.5, 150.0, 25.0),
            vec!["aerobic_threshold"],
        ),
        (
            "exercise above the HR ceiling",
            exercise(0.85, 180.0, 30.0),
            vec!["hr_above_ceiling"],
        ),
        (
            "beats stop 60 s into a session",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, MIN, |_| 1000.0, 0)
                .at(2 * MIN, EventKind::SessionEnd),
            vec!["signal_lost"],
        ),
        (
            "a 9 s pause in beats (near miss)",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, MIN, |_| 1000.0, 0)
                .beats(MIN + 9 * SEC - 1000, 2 * MIN, |_| 1000.0, 0)
                .at(2 * MIN, EventKind::SessionEnd),
            vec![],
        ),
        (
            "one beat in ten flagged",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, 3 * MIN, |_| 1000.0, 10)
                .at(3 * MIN, EventKind::SessionEnd),
            vec!["artifact_burst"],
        ),
        (
            "one beat in fifty flagged (near miss)",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, 3 * MIN, |_| 1000.0, 50)
                .at(3 * MIN, EventKind::SessionEnd),
            vec![],
        ),
        (
            "one beat in eight ectopic at rest (7.5 a minute)",
            ectopic_rest(SessionKind::Rest, 8, 0),
            vec!["artifact_burst", "ectopic_burst"],
        ),
        (
            "one beat in twelve ectopic at rest (5 a minute, near miss)",
            ectopic_rest(SessionKind::Rest, 12, 0),
            vec!["artifact_burst"],
        ),
        (
            "one beat in eight ectopic during exercise (near miss: motion)",
            ectopic_rest(SessionKind::Exercise, 8, 0),
            vec!["artifact_burst"],
        ),
        (
            "one beat in eight ectopic with one in twenty-five missed (near miss: a noisy strap)",
            ectopic_rest(SessionKind::Rest, 8, 25),
            vec!["artifact_burst"],
        ),
        (
            "contact lost for 20 s",
            calm_rest()
                .at(2 * MIN, EventKind::Contact { detected: false })
                .at(2 * MIN + 20 * SEC, EventKind::Contact { detected: true }),
            vec!["contact_lost"],
        ),
        (
            "contact flickers for 3 s (near miss)",
            calm_rest()
                .at(2 * MIN, EventKind::Contact { detected: false })
                .at(2 * MIN + 3 * SEC, EventKind::Contact { detected: true }),
            vec![],
        ),
        (
            "HR +20 bpm and RMSSD halved at rest",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, 6 * MIN, |_| 1000.0, 0)
                .hr(0, 6 * MIN, |t| if t < 3 * MIN { 60.0 } else { 80.0 })
                .metrics(0, 6 * MIN, |t| {
                    let r = if t < 3 * MIN { 50.0 } else { 22.0 };
                    vec![(MetricField::Rmssd60s, r), (MetricField::LnRmssd, 3.9)]
                })
                .at(6 * MIN, EventKind::SessionEnd),
            vec!["sympathetic_surge"],
        ),
        (
            "HR +20 bpm with RMSSD unchanged (near miss)",
            Stream::new()
                .session(SessionKind::Rest, 0)
                .beats(0, 6 * MIN, |_| 1000.0, 0)
                .hr(0, 6 * MIN, |t| if t < 3 * MIN { 60.0 } else { 80.0 })
                .metrics(0, 6 * MIN, calm_metrics)
                .at(6 * MIN, EventKind::SessionEnd),
            vec![],
        ),
        (
            "slow recovery: 8 bpm in the first minute",
            exercise(0.85, 150.0, 8.0),
            vec!["slow_hr_recovery"],
        ),
        (
            "slow recovery after an `exercise_end` tag",
            Stream::new()
                .session(SessionKind::Other, 0)
                .beats(0, 5 * MIN, |_| 500.0, 0)
                .hr(0, 4 * MIN, |_| 120.0)
                .at(
                    4 * MIN,
                    EventKind::Tag {
                        name: "exercise_end".into(),
                    },
                )
                .hr(4 * MIN + SEC, 5 * MIN + 30 * SEC, |t| {
                    120.0 - 5.0 * (t - 4 * MIN) as f64 / MIN as f64
                })
                .at(5 * MIN, EventKind::SessionEnd),
            vec!["slow_hr_recovery"],
        ),
        (
            "strap taken off at the end of exercise: no HR, no recovery verdict",
            Stream::new()
                .session(SessionKind::Exercise, 0)
                .beats(0, 5 * MIN, |_| 430.0, 0)
                .hr(0, 5 * MIN, |_| 140.0)
                .metrics(0, 5 * MIN, |_| vec![(MetricField::DfaAlpha1, 1.0)])
                .at(5 * MIN, EventKind::SessionEnd),
            vec![],
        ),
    ];
    for (what, stream, expected) in cases {
        assert_eq!(fired(&stream), expected, "{what}");
    }
}

#[test]
fn default_rules_have_descriptions_and_compile() {
    let rules = compile(DEFAULT_RULES).expect("default rules compile");
    let names: Vec<_> = rules.rules().map(|r| r.name).collect();
    assert_eq!(
        names,
        [
            "cns_fatigue",
            "aerobic_threshold",
            "hr_above_ceiling",
            "signal_lost",
            "artifact_burst",
            "ectopic_burst",
            "contact_lost",
            "sympathetic_surge",
            "slow_hr_recovery"
        ]
    );
    for r in rules.rules() {
        assert!(r.description.len() > 60, "{} needs a real description", r.name);
    }
}

#[test]
fn every_example_in_rules_md_compiles() {
    let doc = include_str!("../../RULES.md");
    let blocks: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert!(blocks.len() >= 2, "RULES.md has its examples");
    for block in blocks {
        if let Err(e) = compile(block) {
            panic!("{e}\n{block}");
        }
    }
}
