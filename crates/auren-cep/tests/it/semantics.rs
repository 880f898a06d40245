//! `for`, sequences, absence (`not_followed_by`), cooldowns and edge triggering, at their
//! boundaries, fed event by event with explicit ticks.

use auren_cep::{Baselines, Detector, Event, EventKind, SessionKind, compile};

enum Input {
    Hr(i64, f64),
    Tag(i64, &'static str),
    Beat(i64, f64),
    Start(i64, SessionKind),
    End(i64),
    Tick(i64),
}
use Input::*;

fn run(body: &str, inputs: &[Input]) -> Vec<i64> {
    let file = format!("[[rule]]\nname = \"r\"\nseverity = \"info\"\n{body}\n");
    let rules = compile(&file).unwrap_or_else(|e| panic!("{file}\n{e}"));
    let mut d = Detector::new(&rules, Baselines::new());
    let mut alerts = Vec::new();
    for input in inputs {
        let event = |at_ms, kind| Event { at_ms, kind };
        match *input {
            Hr(t, bpm) => d.on_event(&event(t, EventKind::HeartRate { bpm }), &mut alerts),
            Tag(t, name) => d.on_event(&event(t, EventKind::Tag { name: name.into() }), &mut alerts),
            Beat(t, rr_ms) => d.on_event(
                &event(
                    t,
                    EventKind::Beat {
                        rr_ms,
                        artifact: None,
                    },
                ),
                &mut alerts,
            ),
            Start(t, kind) => d.on_event(&event(t, EventKind::SessionStart { kind }), &mut alerts),
            End(t) => d.on_event(&event(t, EventKind::SessionEnd), &mut alerts),
            Tick(t) => d.tick(t, &mut alerts),
        }
    }
    alerts.iter().map(|a| a.at_ms).collect()
}

#[test]
fn for_cooldown_and_edges() {
    let held = "when = \"hr > 100\"\nfor = \"10s\"";
    let cooled = "when = \"hr > 100\"\ncooldown = \"60s\"";
    let cases: Vec<(&str, &str, Vec<Input>, Vec<i64>)> = vec![
        (
            "held 1 ms short",
            held,
            vec![Hr(0, 110.0), Hr(9_999, 110.0)],
            vec![],
        ),
        (
            "held exactly",
            held,
            vec![Hr(0, 110.0), Hr(10_000, 110.0)],
            vec![10_000],
        ),
        (
            "held, decided by a tick",
            held,
            vec![Hr(0, 110.0), Tick(10_000)],
            vec![10_000],
        ),
        (
            "an interruption restarts the hold",
            held,
            vec![
                Hr(0, 110.0),
                Hr(5_000, 90.0),
                Hr(6_000, 110.0),
                Tick(15_999),
                Tick(16_000),
            ],
            vec![16_000],
        ),
        (
            "fires once while it stays true, again after it was false",
            held,
            vec![
                Hr(0, 110.0),
                Hr(10_000, 110.0),
                Hr(20_000, 110.0),
                Hr(21_000, 90.0),
                Hr(22_000, 110.0),
                Tick(31_999),
                Tick(32_000),
            ],
            vec![10_000, 32_000],
        ),
        ("unknown never holds", held, vec![Tick(0), Tick(20_000)], vec![]),
        (
            "time going backwards counts as the latest time",
            held,
            vec![
                Hr(10_000, 110.0),
                Hr(5_000, 110.0),
                Hr(19_999, 110.0),
                Hr(20_000, 110.0),
            ],
            vec![20_000],
        ),
        (
            "a rising edge inside the cooldown fires when it ends",
            cooled,
            vec![
                Hr(0, 110.0),
                Hr(1_000, 90.0),
                Hr(2_000, 110.0),
                Hr(59_999, 110.0),
                Hr(60_000, 110.0),
            ],
            vec![0, 60_000],
        ),
        (
            "after the cooldown a new edge fires at once",
            cooled,
            vec![Hr(0, 110.0), Hr(1_000, 90.0), Hr(61_000, 110.0)],
            vec![0, 61_000],
        ),
        (
            "event rules fire on every matching event",
            "when = \"event.beat and rr_ms > 1500\"",
            vec![
                Beat(0, 2000.0),
                Beat(2_000, 2000.0),
                Beat(3_000, 1000.0),
                Beat(5_000, 2000.0),
            ],
            vec![0, 2_000, 5_000],
        ),
        (
            "event rules respect the cooldown",
            "when = \"event.beat and rr_ms > 1500\"\ncooldown = \"10s\"",
            (0..=10).map(|i| Beat(i * 2_000, 2000.0)).collect(),
            vec![0, 10_000, 20_000],
        ),
        (
            "session kind is still known on the SessionEnd event",
            "when = \"event.session_end and session.exercise\"",
            vec![Start(0, SessionKind::Exercise), End(1_000), End(2_000)],
            vec![1_000],
        ),
    ];
    for (what, body, inputs, expected) in cases {
        assert_eq!(run(body, &inputs), expected, "{what}");
    }
}

#[test]
fn sequences_and_absence() {
    let ab = "sequence = [\"tag('a')\", \"tag('b')\"]\nwithin = \"10s\"";
    let abc = "sequence = [\"tag('a')\", \"tag('b')\", \"tag('c')\"]\nwithin = \"10s\"";
    let a_not_b = "sequence = [\"tag('a')\"]\nnot_followed_by = \"tag('b')\"\nwithin = \"10s\"";
    let cases: Vec<(&str, &str, Vec<Input>, Vec<i64>)> = vec![
        (
            "B at the limit",
            ab,
            vec![Tag(0, "a"), Tag(10_000, "b")],
            vec![10_000],
        ),
        ("B 1 ms late", ab, vec![Tag(0, "a"), Tag(10_001, "b")], vec![]),
        (
            "the latest A counts",
            ab,
            vec![Tag(0, "a"), Tag(5_000, "a"), Tag(14_000, "b")],
            vec![14_000],
        ),
        ("order matters", ab, vec![Tag(0, "b"), Tag(1_000, "a")], vec![]),
        (
            "a match is consumed",
            ab,
            vec![Tag(0, "a"), Tag(1_000, "b"), Tag(2_000, "b")],
            vec![1_000],
        ),
        (
            "three steps within the limit of the first",
            abc,
            vec![Tag(0, "a"), Tag(5_000, "b"), Tag(10_000, "c")],
            vec![10_000],
        ),
        (
            "three steps too slow",
            abc,
            vec![Tag(0, "a"), Tag(5_000, "b"), Tag(10_001, "c")],
            vec![],
        ),
        (
            "one event does not satisfy two steps",
            "sequence = [\"tag('a')\", \"event.tag\"]\nwithin = \"10s\"",
            vec![Tag(0, "a"), Tag(1_000, "a")],
            vec![1_000],
        ),
        (
            "prev() and elapsed refer to the previous step",
            "sequence = [\"hr > 150\", \"elapsed >= 30s and prev(hr) - hr > 20\"]\nwithin = \"2m\"",
            vec![
                Hr(0, 160.0),
                Hr(10_000, 150.0),
                Hr(20_000, 145.0),
                Hr(30_000, 130.0),
            ],
            vec![30_000],
        ),
        (
            "absence: deadline not yet passed",
            a_not_b,
            vec![Tag(0, "a"), Tick(10_000)],
            vec![],
        ),
        (
            "absence: deadline passed",
            a_not_b,
            vec![Tag(0, "a"), Tick(10_000), Tick(10_001)],
            vec![10_001],
        ),
        (
            "absence: B at the deadline cancels",
            a_not_b,
            vec![Tag(0, "a"), Tag(10_000, "b"), Tick(20_000)],
            vec![],
        ),
        (
            "absence: B after the deadline comes too late",
            a_not_b,
            vec![Tag(0, "a"), Tag(10_001, "b")],
            vec![10_001],
        ),
        (
            "absence: a new A restarts the wait",
            a_not_b,
            vec![Tag(0, "a"), Tag(5_000, "a"), Tick(14_000), Tick(15_001)],
            vec![15_001],
        ),
        (
            "absence: the guard is checked at the deadline",
            "sequence = [\"tag('a')\"]\nnot_followed_by = \"tag('b')\"\nwithin = \"10s\"\nwhen = \"hr > 100\"",
            vec![
                Hr(0, 90.0),
                Tag(0, "a"),
                Tick(11_000),
                Hr(12_000, 110.0),
                Tag(12_000, "a"),
                Tick(23_000),
            ],
            vec![23_000],
        ),
        (
            "absence: cooldown",
            "sequence = [\"tag('a')\"]\nnot_followed_by = \"tag('b')\"\nwithin = \"10s\"\ncooldown = \"1m\"",
            vec![
                Tag(0, "a"),
                Tick(11_000),
                Tag(12_000, "a"),
                Tick(23_000),
                Tag(60_000, "a"),
                Tick(71_000),
            ],
            vec![11_000, 71_000],
        ),
    ];
    for (what, body, inputs, expected) in cases {
        assert_eq!(run(body, &inputs), expected, "{what}");
    }
}
